//! The SPNEGO interop peers for the end-to-end tests: pyspnego's own SPNEGO
//! with NTLM inside (`scripts/spnego/pyspnego_peer.py`, run by the Python of
//! the virtualenv `scripts/spnego/install.sh` makes) and MIT GSS-API's SPNEGO
//! with Kerberos or gss-ntlmssp's NTLM inside
//! (`scripts/spnego/gss_spnego_peer.py`, run by Debian's `/usr/bin/python3`
//! with python3-gssapi). Each peer is one process speaking the line protocol
//! documented at the top of its script; [`Peer::next`] never waits more than
//! [`LINE_TIMEOUT`] for a line (the peer is killed, by its id, and the test
//! fails). Also: an MIT realm with its KDC ([`mit_realm`], from
//! `scripts/mit-krb5/realm.sh`, started as `kerberos_mit.rs` does), a
//! Kerberos configuration whose KDC is down ([`dead_kdc_krb5_conf`]), an
//! `NTLM_USER_FILE` ([`ntlm_user_file`]) and a small DER reader for what the
//! peers put on the wire ([`neg_token_init`], [`neg_token_resp`]).
//! Included by tests with `#[path]`.
#![allow(dead_code)]

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The pyspnego version `scripts/spnego/install.sh` pins.
pub const PYSPNEGO_VERSION: &str = "0.11.2";
/// The longest a test waits for one line from a peer.
pub const LINE_TIMEOUT: Duration = Duration::from_secs(20);
/// The SPNEGO OID 1.3.6.1.5.5.2, DER-encoded.
pub const SPNEGO_OID_DER: [u8; 8] = [0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
/// Kerberos (RFC 4121) 1.2.840.113554.1.2.2.
pub const KRB5_OID: &str = "1.2.840.113554.1.2.2";
/// Microsoft's Kerberos 1.2.840.48018.1.2.2.
pub const MS_KRB5_OID: &str = "1.2.840.48018.1.2.2";
/// NTLMSSP 1.3.6.1.4.1.311.2.2.10.
pub const NTLM_OID: &str = "1.3.6.1.4.1.311.2.2.10";
/// The realm [`mit_realm`] makes.
pub const MIT_REALM: &str = "MIT.TEST";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A script of the repository, e.g. `script("spnego/pyspnego_peer.py")`.
pub fn script(relative: &str) -> PathBuf {
    repo().join("scripts").join(relative)
}

/// Where `scripts/spnego/install.sh` puts pyspnego's virtualenv:
/// `${SSPI_PEERS_DIR:-$HOME/.cache/sspi-plug/peers}/pyspnego-<version>`.
pub fn pyspnego_venv() -> PathBuf {
    let base = std::env::var_os("SSPI_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // Without HOME the peers are simply not found (a loud notice).
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/HOME-is-not-set".into()))
                .join(".cache/sspi-plug/peers")
        });
    base.join(format!("pyspnego-{PYSPNEGO_VERSION}"))
}

/// The interpreters of the two peers.
#[derive(Clone, Debug)]
pub struct Peers {
    /// The virtualenv's Python, which has pyspnego (and no gssapi).
    pub pyspnego_python: PathBuf,
    /// Debian's Python, which has python3-gssapi over MIT (and gss-ntlmssp).
    pub gss_python: PathBuf,
}

fn runs(python: &Path, code: &str) -> bool {
    Command::new(python)
        .args(["-c", code])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// An MIT tool (`krb5kdc`, `kinit`, …) on PATH or in the sbin directories.
pub fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Fails the test if `dir` or a directory above it is writable by another
/// user (group or others, except a sticky directory owned by root such as
/// /tmp): the peers' code must not come from such a place.
fn private(dir: &Path) {
    use std::os::unix::fs::MetadataExt;
    for d in dir.ancestors() {
        let Ok(m) = std::fs::metadata(d) else {
            continue;
        };
        let sticky_root = m.mode() & 0o1000 != 0 && m.uid() == 0;
        assert!(
            m.mode() & 0o022 == 0 || sticky_root,
            "{} is writable by other users (mode {:o}): reinstall the peers with scripts/spnego/install.sh elsewhere (SSPI_PEERS_DIR)",
            d.display(),
            m.mode() & 0o7777
        );
    }
}

/// The peers, or `None` after a loud notice when they are not installed;
/// under CI (`CI=true`) a missing peer fails the test instead.
pub fn peers(test: &str) -> Option<Peers> {
    let peers = Peers {
        pyspnego_python: pyspnego_venv().join("bin/python"),
        gss_python: PathBuf::from("/usr/bin/python3"),
    };
    let mut missing = Vec::new();
    if !runs(
        &peers.pyspnego_python,
        "import sys; sys.modules['gssapi'] = None; import spnego",
    ) {
        missing.push(format!("pyspnego in {}", pyspnego_venv().display()));
    }
    if !runs(
        &peers.gss_python,
        "import gssapi; assert gssapi.OID.from_int_seq('1.3.6.1.4.1.311.2.2.10') in gssapi.raw.indicate_mechs()",
    ) {
        missing.push("python3-gssapi with gss-ntlmssp (/usr/bin/python3)".into());
    }
    for t in ["krb5kdc", "kdb5_util", "kadmin.local", "kinit"] {
        if tool(t).is_none() {
            missing.push(t.into());
        }
    }
    if missing.is_empty() {
        private(&pyspnego_venv());
        return Some(peers);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{test}: the SPNEGO peers are not installed (missing {}); run scripts/spnego/install.sh",
            missing.join(", ")
        );
    }
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !! SKIPPED {test}: the SPNEGO peers are not installed (missing {}).\n\
         !! Install them with scripts/spnego/install.sh to run the interop tests.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
        missing.join(", ")
    );
    None
}

/// One line from a peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerLine {
    /// `TOKEN <hex>`: a context token for the other side.
    Token(Vec<u8>),
    /// `OK <mech> <name>`: the context is complete; what was negotiated and
    /// the initiator's name (acceptor) or `-`.
    Ok {
        /// `ntlm`, `krb5` or an OID.
        mech: String,
        /// The client's name as the acceptor sees it, `-` on the initiator.
        name: String,
    },
    /// `WRAP <hex>`: wrap(b"peer to sspi-plug", encrypt=True).
    Wrap(Vec<u8>),
    /// `MIC <hex> <hex>`: a MIC and the message it covers.
    Mic {
        /// The MIC token.
        mic: Vec<u8>,
        /// The message.
        message: Vec<u8>,
    },
    /// `UNWRAPPED <text> SEALED|NOT-SEALED`.
    Unwrapped {
        /// The unwrapped text.
        text: String,
        /// Whether it had been encrypted.
        sealed: bool,
    },
    /// `VERIFIED`: the other side's MIC verified.
    Verified,
    /// `DELEGATED <name> <onward>`: the initiator's delegated credentials
    /// (their name) got the peer into a second service (whose acceptor saw
    /// `onward`).
    Delegated {
        /// The delegated credentials' name.
        name: String,
        /// The initiator name the second service's acceptor saw.
        onward: String,
    },
    /// `NOT-DELEGATED`: the initiator delegated nothing.
    NotDelegated,
    /// `ERROR <what>` (the peer exits non-zero).
    Error(String),
}

/// What the peers write: `peer to sspi-plug`.
pub const PEER_MESSAGE: &str = "peer to sspi-plug";

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of a hex string (panics on bad hex: the peers are ours).
pub fn from_hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex {text:?}");
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

impl PeerLine {
    fn parse(line: &str) -> PeerLine {
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        let mut words = rest.split(' ');
        let mut word = || words.next().unwrap_or("").to_string();
        match kind {
            "TOKEN" => PeerLine::Token(from_hex(rest)),
            "OK" => PeerLine::Ok {
                mech: word(),
                name: word(),
            },
            "WRAP" => PeerLine::Wrap(from_hex(rest)),
            "MIC" => PeerLine::Mic {
                mic: from_hex(&word()),
                message: from_hex(&word()),
            },
            "UNWRAPPED" => {
                let (text, flag) = rest.rsplit_once(' ').unwrap_or((rest, ""));
                PeerLine::Unwrapped {
                    text: text.to_string(),
                    sealed: flag == "SEALED",
                }
            }
            "VERIFIED" => PeerLine::Verified,
            "DELEGATED" => PeerLine::Delegated {
                name: word(),
                onward: word(),
            },
            "NOT-DELEGATED" => PeerLine::NotDelegated,
            "ERROR" => PeerLine::Error(rest.to_string()),
            _ => PeerLine::Error(format!("unexpected line from the peer: {line:?}")),
        }
    }
}

/// A running peer process (killed, by its id, when dropped).
pub struct Peer {
    /// What the peer is, for messages (`pyspnego initiate`, …).
    pub label: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    timeout: Duration,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    /// Starts `python script args…` with `env` added to the environment.
    pub fn spawn(python: &Path, script: &Path, args: &[&str], env: &[(&str, OsString)]) -> Peer {
        let mut command = Command::new(python);
        command
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {} {}: {e}", python.display(), script.display()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let label = format!(
            "{} {}",
            script.file_name().unwrap().to_string_lossy(),
            args.first().copied().unwrap_or("")
        );
        Peer {
            label,
            stdin: child.stdin.take(),
            child,
            lines: rx,
            timeout: LINE_TIMEOUT,
        }
    }

    /// The pyspnego peer (`initiate …` or `accept …`).
    pub fn pyspnego(peers: &Peers, args: &[&str], env: &[(&str, OsString)]) -> Peer {
        Peer::spawn(
            &peers.pyspnego_python,
            &script("spnego/pyspnego_peer.py"),
            args,
            env,
        )
    }

    /// The MIT GSS-API SPNEGO peer (`initiate TARGET …` or `accept …`).
    pub fn mit(peers: &Peers, args: &[&str], env: &[(&str, OsString)]) -> Peer {
        Peer::spawn(
            &peers.gss_python,
            &script("spnego/gss_spnego_peer.py"),
            args,
            env,
        )
    }

    /// Sends one line.
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}")
            .and_then(|_| stdin.flush())
            .unwrap_or_else(|e| panic!("{} (pid {}): write: {e}", self.label, self.child.id()));
    }

    /// Sends a context token.
    pub fn send(&mut self, token: &[u8]) {
        self.send_line(&hex(token));
    }

    /// Sends the other side's wrap token (`WRAP <hex>`).
    pub fn send_wrap(&mut self, wrapped: &[u8]) {
        self.send_line(&format!("WRAP {}", hex(wrapped)));
    }

    /// Sends the other side's MIC and its message (`MIC <hex> <hex>`).
    pub fn send_mic(&mut self, mic: &[u8], message: &[u8]) {
        self.send_line(&format!("MIC {} {}", hex(mic), hex(message)));
    }

    /// Sets how long [`Peer::next`] waits (default [`LINE_TIMEOUT`]).
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// The next line; after the timeout ([`LINE_TIMEOUT`]) without one the
    /// peer is killed and the test fails. A peer that ends without a line is
    /// an `Error`.
    pub fn next(&mut self) -> PeerLine {
        match self.lines.recv_timeout(self.timeout) {
            Ok(line) => PeerLine::parse(&line),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let id = self.child.id();
                let _ = self.child.kill();
                panic!(
                    "{} (pid {id}) said nothing for {:?}: killed",
                    self.label, self.timeout
                );
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().ok();
                PeerLine::Error(format!("{} ended ({status:?})", self.label))
            }
        }
    }

    /// The next line, which must be a token.
    pub fn token(&mut self) -> Vec<u8> {
        match self.next() {
            PeerLine::Token(t) => t,
            other => panic!("{}: expected a token, got {other:?}", self.label),
        }
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_none()
    }

    /// Waits for the process to end; its success.
    pub fn exit_ok(&mut self) -> bool {
        self.stdin.take();
        let deadline = Instant::now() + LINE_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{} did not exit", self.label);
    }
}

/// Which side sent a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The initiator (client).
    Initiator,
    /// The acceptor (server).
    Acceptor,
}

/// Tokens in wire order, with who sent each.
pub type Legs = Vec<(Side, Vec<u8>)>;

/// A relayed handshake: the tokens in order and what each side reported.
#[derive(Debug)]
pub struct Transcript {
    /// Every token, in wire order.
    pub legs: Legs,
    /// The initiator's `OK` (mech, name).
    pub initiator: (String, String),
    /// The acceptor's `OK` (mech, name).
    pub acceptor: (String, String),
}

/// Relays tokens between two peers until both say `OK`; `Err` with the
/// transcript so far and the first error line.
pub fn relay(initiator: &mut Peer, acceptor: &mut Peer) -> Result<Transcript, (Legs, String)> {
    let mut legs = Vec::new();
    let mut done: [Option<(String, String)>; 2] = [None, None];
    let mut current = 0;
    loop {
        let (from, to) = if current == 0 {
            (&mut *initiator, &mut *acceptor)
        } else {
            (&mut *acceptor, &mut *initiator)
        };
        let side = if current == 0 {
            Side::Initiator
        } else {
            Side::Acceptor
        };
        match from.next() {
            PeerLine::Token(t) => {
                to.send(&t);
                legs.push((side, t));
                current = 1 - current;
            }
            PeerLine::Ok { mech, name } => {
                done[current] = Some((mech, name));
                if done[1 - current].is_some() {
                    break;
                }
                current = 1 - current;
            }
            PeerLine::Error(e) => return Err((legs, format!("{}: {e}", from.label))),
            other => return Err((legs, format!("{}: unexpected {other:?}", from.label))),
        }
        assert!(legs.len() < 16, "more than 16 legs: {legs:?}");
    }
    let [i, a] = done;
    Ok(Transcript {
        legs,
        initiator: i.unwrap(),
        acceptor: a.unwrap(),
    })
}

/// What one peer sent after `OK`: its wrap token and its MIC.
#[derive(Clone, Debug)]
pub struct PeerMessages {
    /// wrap(b"peer to sspi-plug", encrypt=True).
    pub wrap: Vec<u8>,
    /// get_mic(message).
    pub mic: Vec<u8>,
    /// The message the MIC covers.
    pub message: Vec<u8>,
}

impl Peer {
    /// After `OK`: the peer's `WRAP` and `MIC` lines.
    pub fn messages(&mut self) -> PeerMessages {
        let wrap = match self.next() {
            PeerLine::Wrap(w) => w,
            other => panic!("{}: expected WRAP, got {other:?}", self.label),
        };
        match self.next() {
            PeerLine::Mic { mic, message } => PeerMessages { wrap, mic, message },
            other => panic!("{}: expected MIC, got {other:?}", self.label),
        }
    }

    /// Gives the peer the other side's wrap and MIC; it must unwrap the
    /// sealed text, verify the MIC and exit successfully.
    pub fn check_messages(&mut self, other: &PeerMessages) {
        self.send_wrap(&other.wrap);
        self.send_mic(&other.mic, &other.message);
        assert_eq!(
            self.next(),
            PeerLine::Unwrapped {
                text: PEER_MESSAGE.into(),
                sealed: true
            },
            "{} unwrapping the other side's message",
            self.label
        );
        assert_eq!(self.next(), PeerLine::Verified, "{}", self.label);
        assert!(self.exit_ok(), "{} exited with an error", self.label);
    }
}

/// After both said `OK`: each peer's wrap and MIC go to the other, which
/// must unwrap the sealed text and verify the MIC. Returns what `a` and `b`
/// sent.
pub fn exchange_messages(a: &mut Peer, b: &mut Peer) -> [PeerMessages; 2] {
    let ma = a.messages();
    let mb = b.messages();
    a.check_messages(&mb);
    b.check_messages(&ma);
    [ma, mb]
}

/// Writes an `NTLM_USER_FILE` (`DOMAIN:user:password`, mode 0600).
pub fn ntlm_user_file(dir: &Path, users: &[(&str, &str, &str)]) -> PathBuf {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join("ntlm_users");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .unwrap();
    for (domain, user, password) in users {
        writeln!(f, "{domain}:{user}:{password}").unwrap();
    }
    path
}

/// The environment of NTLM-only peers in `dir`: `NTLM_USER_FILE` with
/// `users` (domain, user, password), a Kerberos configuration whose KDC is
/// down (so nothing reads /etc/krb5.conf and Kerberos fails locally), no
/// keytab, and the replay cache in `dir`.
pub fn ntlm_env(dir: &Path, users: &[(&str, &str, &str)]) -> Vec<(&'static str, OsString)> {
    vec![
        ("NTLM_USER_FILE", ntlm_user_file(dir, users).into()),
        ("KRB5_CONFIG", dead_kdc_krb5_conf(dir, "EXAMPLE").into()),
        ("KRB5_KTNAME", dir.join("no.keytab").into()),
        ("KRB5RCACHEDIR", dir.into()),
    ]
}

/// A free TCP port on 127.0.0.1 (nothing listens on it once returned).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Writes `dir/name`, a `krb5.conf` for `realm` with its KDC at `kdc`
/// (`host:port`, TCP), its ccache `dir/ccache`, AES only.
pub fn krb5_conf(dir: &Path, name: &str, realm: &str, kdc: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "[libdefaults]\n default_realm = {realm}\n dns_lookup_kdc = false\n dns_lookup_realm = false\n\
             rdns = false\n udp_preference_limit = 1\n max_retries = 1\n kdc_timeout = 1s\n\
             default_ccache_name = FILE:{}\n\
             permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96\n\
             [realms]\n {realm} = {{\n  kdc = {kdc}\n }}\n",
            dir.join("ccache").display(),
        ),
    )
    .unwrap();
    path
}

/// A `krb5.conf` in `dir` for `realm` whose KDC (127.0.0.1, a free port) is
/// down: Kerberos fails locally, before any SPNEGO token is sent.
pub fn dead_kdc_krb5_conf(dir: &Path, realm: &str) -> PathBuf {
    krb5_conf(
        dir,
        "dead-kdc-krb5.conf",
        realm,
        &format!("127.0.0.1:{}", free_port()),
    )
}

/// The environment of an MIT peer using `krb5_conf` with the ccache
/// `dir/ccache`, the keytab `keytab` and the replay cache in `dir`.
pub fn krb5_env(dir: &Path, krb5_conf: &Path, keytab: &Path) -> Vec<(&'static str, OsString)> {
    vec![
        ("KRB5_CONFIG", krb5_conf.into()),
        (
            "KRB5CCNAME",
            format!("FILE:{}", dir.join("ccache").display()).into(),
        ),
        ("KRB5_KTNAME", format!("FILE:{}", keytab.display()).into()),
        ("KRB5RCACHEDIR", dir.into()),
    ]
}

/// `kinit principal` with `password` in the environment `env`.
pub fn kinit(env: &[(&str, OsString)], principal: &str, password: &str) {
    kinit_with(env, &[], principal, password);
}

/// `kinit options… principal` with `password` in the environment `env`.
pub fn kinit_with(env: &[(&str, OsString)], options: &[&str], principal: &str, password: &str) {
    let mut command = Command::new(tool("kinit").expect("kinit"));
    command.args(options).arg(principal);
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kinit {principal}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An MIT realm (`scripts/mit-krb5/realm.sh`: alice / alice-password,
/// host/localhost in `service.keytab`) with `krb5kdc -n` running; the KDC is
/// killed when this is dropped.
pub struct MitRealm {
    /// The realm's directory (krb5.conf, kdc.conf, keytab, ccache).
    pub dir: tempfile::TempDir,
    /// The KDC's port.
    pub port: u16,
    kdc: Child,
}

impl Drop for MitRealm {
    fn drop(&mut self) {
        let _ = self.kdc.kill();
        let _ = self.kdc.wait();
    }
}

impl MitRealm {
    /// The environment of an MIT peer in this realm (KRB5_CONFIG,
    /// KRB5CCNAME, KRB5_KTNAME, KRB5RCACHEDIR).
    pub fn env(&self) -> Vec<(&'static str, OsString)> {
        let d = self.dir.path();
        krb5_env(d, &d.join("krb5.conf"), &d.join("service.keytab"))
    }

    /// `kinit alice` into the realm's ccache.
    pub fn kinit_alice(&self) {
        kinit(&self.env(), &format!("alice@{MIT_REALM}"), "alice-password");
    }
}

/// Makes an MIT realm with `scripts/mit-krb5/realm.sh` and starts its KDC.
pub fn mit_realm() -> MitRealm {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let out = Command::new("sh")
        .arg(script("mit-krb5/realm.sh"))
        .arg(dir.path())
        .arg(port.to_string())
        .arg(MIT_REALM)
        .output()
        .expect("run realm.sh");
    assert!(
        out.status.success(),
        "realm.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kdc = Command::new(tool("krb5kdc").expect("krb5kdc"))
        .arg("-n")
        .env("KRB5_CONFIG", dir.path().join("krb5.conf"))
        .env("KRB5_KDC_PROFILE", dir.path().join("kdc.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start krb5kdc");
    let realm = MitRealm { dir, port, kdc };
    let deadline = Instant::now() + Duration::from_secs(15);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the MIT KDC did not listen on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    realm
}

// ---- A small DER reader for recording what the peers put on the wire.
// (Test-only and read-only: the crates in the tree that parse DER are not
// dependencies of this test crate, and a TLV walk is all the assertions need.)

/// One TLV: (tag, contents, rest).
pub fn tlv(bytes: &[u8]) -> (u8, &[u8], &[u8]) {
    assert!(bytes.len() >= 2, "short DER: {}", hex(bytes));
    let tag = bytes[0];
    let (len, head) = match bytes[1] {
        n if n < 0x80 => (n as usize, 2),
        0x81 => (bytes[2] as usize, 3),
        0x82 => (((bytes[2] as usize) << 8) | bytes[3] as usize, 4),
        n => panic!("DER length form {n:#x} in {}", hex(bytes)),
    };
    assert!(bytes.len() >= head + len, "truncated DER: {}", hex(bytes));
    (tag, &bytes[head..head + len], &bytes[head + len..])
}

/// A DER OID's contents in dotted form.
pub fn oid(contents: &[u8]) -> String {
    let mut arcs = Vec::new();
    let mut v: u64 = 0;
    for &b in contents {
        v = (v << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (v / 40).min(2);
                arcs.push(first);
                arcs.push(v - 40 * first);
            } else {
                arcs.push(v);
            }
            v = 0;
        }
    }
    arcs.iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(".")
}

/// The fields of a NegTokenInit (in its `0x60` GSS framing).
#[derive(Debug)]
pub struct NegInit {
    /// mechTypes, dotted.
    pub mech_types: Vec<String>,
    /// Whether reqFlags was present.
    pub req_flags: bool,
    /// The optimistic mechToken.
    pub mech_token: Option<Vec<u8>>,
    /// The mechListMIC.
    pub mech_list_mic: Option<Vec<u8>>,
}

/// Decodes an initial SPNEGO token: `60 … 06 06 2b0601050502 a0 … 30 …`.
pub fn neg_token_init(token: &[u8]) -> NegInit {
    let (tag, body, rest) = tlv(token);
    assert_eq!((tag, rest.len()), (0x60, 0), "{}", hex(token));
    assert!(body.starts_with(&SPNEGO_OID_DER), "{}", hex(token));
    let (tag, choice, _) = tlv(&body[SPNEGO_OID_DER.len()..]);
    assert_eq!(tag, 0xa0, "negTokenInit [0]: {}", hex(token));
    let (tag, mut fields, _) = tlv(choice);
    assert_eq!(tag, 0x30);
    let mut init = NegInit {
        mech_types: Vec::new(),
        req_flags: false,
        mech_token: None,
        mech_list_mic: None,
    };
    while !fields.is_empty() {
        let (tag, inner, rest) = tlv(fields);
        fields = rest;
        match tag {
            0xa0 => {
                let (t, mut list, _) = tlv(inner);
                assert_eq!(t, 0x30);
                while !list.is_empty() {
                    let (t, o, rest) = tlv(list);
                    assert_eq!(t, 0x06);
                    init.mech_types.push(oid(o));
                    list = rest;
                }
            }
            0xa1 => init.req_flags = true,
            0xa2 => init.mech_token = Some(tlv(inner).1.to_vec()),
            0xa3 => init.mech_list_mic = Some(tlv(inner).1.to_vec()),
            t => panic!("NegTokenInit field {t:#x}"),
        }
    }
    init
}

/// The fields of a NegTokenResp.
#[derive(Debug, PartialEq, Eq)]
pub struct NegResp {
    /// negState: 0 accept-completed, 1 accept-incomplete, 2 reject, 3 request-mic.
    pub neg_state: Option<u8>,
    /// supportedMech, dotted.
    pub supported_mech: Option<String>,
    /// responseToken.
    pub response_token: Option<Vec<u8>>,
    /// mechListMIC.
    pub mech_list_mic: Option<Vec<u8>>,
}

/// Decodes a later SPNEGO token: `a1 … 30 …`.
pub fn neg_token_resp(token: &[u8]) -> NegResp {
    let (tag, body, rest) = tlv(token);
    assert_eq!((tag, rest.len()), (0xa1, 0), "{}", hex(token));
    let (tag, mut fields, _) = tlv(body);
    assert_eq!(tag, 0x30);
    let mut resp = NegResp {
        neg_state: None,
        supported_mech: None,
        response_token: None,
        mech_list_mic: None,
    };
    while !fields.is_empty() {
        let (tag, inner, rest) = tlv(fields);
        fields = rest;
        let (_, contents, _) = tlv(inner);
        match tag {
            0xa0 => resp.neg_state = Some(contents[0]),
            0xa1 => resp.supported_mech = Some(oid(contents)),
            0xa2 => resp.response_token = Some(contents.to_vec()),
            0xa3 => resp.mech_list_mic = Some(contents.to_vec()),
            t => panic!("NegTokenResp field {t:#x}"),
        }
    }
    resp
}
