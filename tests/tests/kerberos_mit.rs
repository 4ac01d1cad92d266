//! Interoperability with MIT Kerberos on loopback:
//!
//! * our client gets tickets from an MIT KDC (`krb5kdc -n` on a free port,
//!   realm made by `scripts/mit-krb5/realm.sh` with `kdb5_util create -s` and
//!   `kadmin.local`) and authenticates to our acceptor, which reads the
//!   keytab `kadmin.local ktadd -k` exported;
//! * MIT `kinit` gets a TGT from our KDC and `kvno` a service ticket.
//!
//! * channel bindings both ways with MIT's GSS-API (`scripts/mit-krb5/gss_peer.py`,
//!   Debian's python3-gssapi over libgssapi_krb5): an MIT initiator bound to
//!   A is accepted by our acceptor bound to A and refused (SEC_E_BAD_BINDINGS)
//!   by one bound to B; our initiator bound to A is accepted by an MIT
//!   acceptor bound to A and refused by one bound to B; the MIC each side
//!   makes verifies on the other.
//!
//! Without the MIT tools the tests print a loud notice and pass without
//! checking anything, except under CI (`CI=true`), where a missing tool or
//! peer fails the test; `scripts/mit-krb5/install.sh` installs them.

#[path = "common/kerberos_fixture.rs"]
mod fixture;

use sspi_core::{AuthIdentity, CredentialUse, Qop, SecBuffer, SecBufferRef, SecurityStatus};
use sspi_plugin_host::loopback;
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MIT_REALM: &str = "MIT.TEST";

fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The MIT tools, or `None` after a loud notice (a failure under CI).
fn mit_tools(test: &str) -> Option<()> {
    let missing: Vec<&str> = ["krb5kdc", "kdb5_util", "kadmin.local", "kinit", "kvno"]
        .into_iter()
        .filter(|t| tool(t).is_none())
        .collect();
    if missing.is_empty() {
        return Some(());
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{test}: MIT Kerberos is not installed (missing {}); CI must run scripts/mit-krb5/install.sh",
            missing.join(", ")
        );
    }
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !! SKIPPED {test}: MIT Kerberos is not installed (missing {}).\n\
         !! Install it with scripts/mit-krb5/install.sh to run the interop tests.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
        missing.join(", ")
    );
    None
}

/// The Python that has python3-gssapi (Debian's, over MIT libgssapi_krb5),
/// or `None` after a loud notice (a failure under CI).
fn gss_peer(test: &str) -> Option<PathBuf> {
    mit_tools(test)?;
    let python = PathBuf::from("/usr/bin/python3");
    let ok = Command::new(&python)
        .args(["-c", "import gssapi"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(python);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{test}: /usr/bin/python3 cannot import gssapi (python3-gssapi); CI must run scripts/mit-krb5/install.sh"
        );
    }
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !! SKIPPED {test}: the MIT GSS-API peer (python3-gssapi) is not installed.\n\
         !! Install it with scripts/mit-krb5/install.sh to run the interop tests.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
    None
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts/mit-krb5")
        .join(name)
}

/// A child process killed (by its id) when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the MIT KDC did not listen on port {port}");
}

/// An MIT realm with its KDC running.
struct MitRealm {
    dir: tempfile::TempDir,
    port: u16,
    _kdc: Running,
}

fn mit_realm() -> MitRealm {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let out = Command::new("sh")
        .arg(script("realm.sh"))
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
    let kdc = Command::new(tool("krb5kdc").unwrap())
        .arg("-n")
        .env("KRB5_CONFIG", dir.path().join("krb5.conf"))
        .env("KRB5_KDC_PROFILE", dir.path().join("kdc.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start krb5kdc");
    let kdc = Running(kdc);
    wait_for_port(port);
    MitRealm {
        dir,
        port,
        _kdc: kdc,
    }
}

/// Our package against the MIT realm: its KDC, its keytab.
fn our_registry(mit: &MitRealm) -> RegistryFile {
    let keytab = mit.dir.path().join("service.keytab");
    let text = format!(
        r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_kerberos.dll"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos]
"DefaultRealm"="{MIT_REALM}"
"Keytab"="{}"
"ServicePrincipal"="host/localhost"
"DefaultUser"="alice"
"DefaultPassword"="alice-password"
"KdcTimeout"=dword:00000bb8
"ReplayCachePath"="replay.rcache"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos\Domains\{MIT_REALM}]
"KdcNames"="127.0.0.1:{}"
"#,
        keytab.display().to_string().replace('\\', "\\\\"),
        mit.port
    );
    RegistryFile::new(&text)
}

#[test]
fn our_client_gets_tickets_from_mit_and_our_server_accepts_with_an_mit_keytab() {
    if mit_tools("MIT KDC interop").is_none() {
        return;
    }
    let mit = mit_realm();
    let registry = our_registry(&mit);
    let host = registry.host();
    let client = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let server = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .unwrap();
    let mut done = loopback::handshake(&client, &server, Some("host/localhost"), ISC_REQ, ASC_REQ)
        .expect("handshake through the MIT KDC");
    assert_eq!(done.server.names().unwrap(), format!("alice@{MIT_REALM}"));
    assert_eq!(done.legs.len(), 3);

    let mut data = b"sealed through an MIT ticket".to_vec();
    let mut trailer = vec![0u8; 60];
    let mut msg = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
    done.client
        .encrypt_message(Qop::DEFAULT, &mut msg, 0)
        .unwrap();
    done.server.decrypt_message(&mut msg, 0).unwrap();
    assert_eq!(msg[1].as_slice(), b"sealed through an MIT ticket");

    // MIT refuses a wrong password with PREAUTH_FAILED: SEC_E_LOGON_DENIED.
    let wrong = host
        .acquire_credentials_handle(
            "Kerberos",
            None,
            CredentialUse::OUTBOUND,
            Some(AuthIdentity::new("alice", MIT_REALM, "wrong")),
        )
        .unwrap();
    let err =
        loopback::handshake(&wrong, &server, Some("host/localhost"), ISC_REQ, ASC_REQ).unwrap_err();
    assert_eq!(
        err.status(),
        SecurityStatus::SEC_E_LOGON_DENIED,
        "{}",
        err.message()
    );
    // An unknown service: SEC_E_TARGET_UNKNOWN.
    let err =
        loopback::handshake(&client, &server, Some("http/nowhere"), ISC_REQ, ASC_REQ).unwrap_err();
    assert_eq!(
        err.status(),
        SecurityStatus::SEC_E_TARGET_UNKNOWN,
        "{}",
        err.message()
    );
    eprintln!(
        "MIT interop: our client, MIT KDC {} on port {}, our acceptor with the MIT keytab: ok",
        MIT_REALM, mit.port
    );
}

#[test]
fn mit_kinit_and_kvno_get_tickets_from_our_kdc() {
    if mit_tools("MIT client interop").is_none() {
        return;
    }
    let realm = fixture::realm();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("krb5.conf");
    let cache = dir.path().join("ccache");
    std::fs::write(
        &conf,
        format!(
            "[libdefaults]\n default_realm = {realm_name}\n dns_lookup_kdc = false\n rdns = false\n\
             udp_preference_limit = 1\n\
             permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96\n\
             [realms]\n {realm_name} = {{\n  kdc = {addr}\n }}\n",
            realm_name = fixture::REALM,
            addr = realm.kdc.addr()
        ),
    )
    .unwrap();
    let run = |program: &str, args: &[&str], input: Option<&str>| {
        let mut child = Command::new(tool(program).unwrap())
            .args(args)
            .env("KRB5_CONFIG", &conf)
            .env("KRB5CCNAME", format!("FILE:{}", cache.display()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = input {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let alice = format!("alice@{}", fixture::REALM);
    let (ok, out) = run("kinit", &[&alice], Some("alice-password\n"));
    assert!(ok, "kinit against our KDC failed: {out}");
    let (ok, out) = run("klist", &["-e"], None);
    assert!(
        ok && out.contains(&format!("krbtgt/{0}@{0}", fixture::REALM)),
        "{out}"
    );
    let service = format!("{}@{}", fixture::SERVICE, fixture::REALM);
    let (ok, out) = run("kvno", &[&service], None);
    assert!(
        ok && out.contains("kvno = 1"),
        "kvno against our KDC failed: {out}"
    );
    // A wrong password is refused by our KDC.
    let (ok, out) = run("kinit", &[&alice], Some("wrong\n"));
    assert!(!ok && out.to_lowercase().contains("password"), "{out}");
    // Our keytab writer: MIT reads it, and kinit -k authenticates with it.
    let keytab = dir.path().join("ours.keytab");
    let keys = fixture::database().keytab(&[fixture::SERVICE]).unwrap();
    std::fs::write(&keytab, keys.to_bytes().unwrap()).unwrap();
    let keytab_arg = keytab.to_str().unwrap();
    let (ok, listing) = run("klist", &["-k", "-e", keytab_arg], None);
    assert!(
        ok && listing.contains("aes256-cts-hmac-sha1-96")
            && listing.contains("aes128-cts-hmac-sha1-96"),
        "{listing}"
    );
    let (ok, kinit_k) = run("kinit", &["-k", "-t", keytab_arg, &service], None);
    assert!(
        ok,
        "kinit -k with our keytab against our KDC failed: {kinit_k}"
    );
    eprintln!(
        "MIT interop: kinit, kvno, klist -k and kinit -k against our KDC and keytab: ok ({out:?} for a wrong password)"
    );
    assert_eq!(realm.tgs_requests(), 1);
}

/// The MIT GSS-API peer process (`gss_peer.py`), talking hex lines.
struct Peer {
    child: Running,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    stdin: std::process::ChildStdin,
}

impl Peer {
    fn start(python: &Path, mit: &MitRealm, args: &[&str]) -> Peer {
        let dir = mit.dir.path();
        let mut child = Command::new(python)
            .arg(script("gss_peer.py"))
            .args(args)
            .env("KRB5_CONFIG", dir.join("krb5.conf"))
            .env(
                "KRB5CCNAME",
                format!("FILE:{}", dir.join("ccache").display()),
            )
            .env(
                "KRB5_KTNAME",
                format!("FILE:{}", dir.join("service.keytab").display()),
            )
            .env("KRB5RCACHEDIR", dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start gss_peer.py");
        let stdout = child.stdout.take().unwrap();
        let stdin = child.stdin.take().unwrap();
        use std::io::BufRead;
        Peer {
            child: Running(child),
            lines: std::io::BufReader::new(stdout).lines(),
            stdin,
        }
    }

    /// The next line: (kind, rest).
    fn next(&mut self) -> (String, String) {
        let line = self
            .lines
            .next()
            .unwrap_or_else(|| panic!("gss_peer.py (pid {}) said nothing", self.child.0.id()))
            .unwrap();
        let (kind, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        (kind.to_string(), rest.to_string())
    }

    fn token(&mut self) -> Vec<u8> {
        match self.next() {
            (kind, hex) if kind == "TOKEN" => from_hex(&hex),
            other => panic!("expected a token from MIT, got {other:?}"),
        }
    }

    fn send(&mut self, token: &[u8]) {
        use std::io::Write;
        let hex: String = token.iter().map(|b| format!("{b:02x}")).collect();
        writeln!(self.stdin, "{hex}").unwrap();
        self.stdin.flush().unwrap();
    }
}

fn from_hex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn kinit_alice(mit: &MitRealm) {
    use std::io::Write;
    let dir = mit.dir.path();
    let mut child = Command::new(tool("kinit").unwrap())
        .arg(format!("alice@{MIT_REALM}"))
        .env("KRB5_CONFIG", dir.join("krb5.conf"))
        .env(
            "KRB5CCNAME",
            format!("FILE:{}", dir.join("ccache").display()),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"alice-password\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kinit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn bindings(text: &str) -> Vec<u8> {
    sspi_core::sec_channel_bindings(text.as_bytes())
}

/// Verifies a MIC token the peer made over "signed by MIT".
fn verify_mit_mic(ctx: &mut sspi_plugin_host::SecurityContextHandle, mic: &[u8]) {
    let mut data = b"signed by MIT".to_vec();
    let mut sig = mic.to_vec();
    let mut msg = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
    ctx.verify_signature(&mut msg, 0)
        .expect("MIT's MIC verifies with our context");
}

#[test]
fn mit_initiator_with_channel_bindings_to_our_acceptor() {
    let Some(python) = gss_peer("MIT GSS initiator -> our acceptor, channel bindings") else {
        return;
    };
    let mit = mit_realm();
    kinit_alice(&mit);
    let registry = our_registry(&mit);
    let host = registry.host();
    let server = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .unwrap();
    let target = format!("host/localhost@{MIT_REALM}");
    for (mit_cb, our_cb, accepted) in [
        ("tls-server-end-point:A", "tls-server-end-point:A", true),
        ("tls-server-end-point:A", "tls-server-end-point:B", false),
    ] {
        let mut peer = Peer::start(&python, &mit, &["initiate", &target, mit_cb]);
        let ap_req = peer.token();
        let cb = bindings(our_cb);
        let mut out = vec![0u8; 12_000];
        let mut ctx = None;
        let input = [
            SecBufferRef::token(&ap_req),
            SecBufferRef::channel_bindings(&cb),
        ];
        let mut output = [SecBuffer::token(&mut out)];
        let result = server.accept_security_context(&mut ctx, ASC_REQ, &input, &mut output);
        if !accepted {
            let err = result.expect_err("different bindings");
            assert_eq!(
                err.status(),
                SecurityStatus::SEC_E_BAD_BINDINGS,
                "{}",
                err.message()
            );
            continue;
        }
        let step = result.expect("MIT's AP-REQ with the same bindings");
        assert_eq!(step.status, SecurityStatus::SEC_E_OK);
        let ap_rep = output[0].as_slice().to_vec();
        peer.send(&ap_rep);
        let mut ctx = ctx.unwrap();
        assert_eq!(ctx.names().unwrap(), format!("alice@{MIT_REALM}"));
        match peer.next() {
            (kind, mic) if kind == "MIC" => verify_mit_mic(&mut ctx, &from_hex(&mic)),
            other => panic!("MIT did not complete with our AP-REP: {other:?}"),
        }
        assert_eq!(peer.next().0, "OK");
    }
    eprintln!(
        "MIT interop: MIT initiator with channel bindings, our acceptor: same accepted, different SEC_E_BAD_BINDINGS"
    );
}

#[test]
fn our_initiator_with_channel_bindings_to_an_mit_acceptor() {
    let Some(python) = gss_peer("our initiator -> MIT GSS acceptor, channel bindings") else {
        return;
    };
    let mit = mit_realm();
    let registry = our_registry(&mit);
    let host = registry.host();
    let client = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    for (our_cb, mit_cb, accepted) in [
        ("tls-server-end-point:A", "tls-server-end-point:A", true),
        ("tls-server-end-point:A", "tls-server-end-point:B", false),
    ] {
        let mut peer = Peer::start(&python, &mit, &["accept", mit_cb]);
        let cb = bindings(our_cb);
        let mut out = vec![0u8; 12_000];
        let mut ctx = None;
        let input = [SecBufferRef::channel_bindings(&cb)];
        let mut output = [SecBuffer::token(&mut out)];
        let step = client
            .initialize_security_context(
                &mut ctx,
                Some("host/localhost"),
                ISC_REQ,
                &input,
                &mut output,
            )
            .expect("our AP-REQ");
        assert_eq!(step.status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
        peer.send(output[0].as_slice());
        if !accepted {
            // MIT answers with a KRB-ERROR token (TOK_ID 03 00) and does not
            // complete the context; our initiator reports the refusal.
            let (kind, rest) = peer.next();
            if kind == "TOKEN" {
                let error = from_hex(&rest);
                assert_eq!(error.get(13..15), Some(&[3u8, 0][..]), "{rest}");
                let mut out = vec![0u8; 12_000];
                let input = [SecBufferRef::token(&error)];
                let mut output = [SecBuffer::token(&mut out)];
                let err = client
                    .initialize_security_context(
                        &mut ctx,
                        Some("host/localhost"),
                        ISC_REQ,
                        &input,
                        &mut output,
                    )
                    .expect_err("MIT refused");
                assert!(err.message().contains("refused"), "{}", err.message());
                let (kind, why) = peer.next();
                assert_eq!(kind, "ERROR", "MIT accepted different bindings: {why}");
            } else {
                assert_eq!(kind, "ERROR", "{rest}");
            }
            continue;
        }
        let ap_rep = peer.token();
        let mut out = vec![0u8; 12_000];
        let input = [SecBufferRef::token(&ap_rep)];
        let mut output = [SecBuffer::token(&mut out)];
        let step = client
            .initialize_security_context(
                &mut ctx,
                Some("host/localhost"),
                ISC_REQ,
                &input,
                &mut output,
            )
            .expect("MIT's AP-REP");
        assert_eq!(step.status, SecurityStatus::SEC_E_OK);
        let mut ctx = ctx.unwrap();
        match peer.next() {
            (kind, mic) if kind == "MIC" => verify_mit_mic(&mut ctx, &from_hex(&mic)),
            other => panic!("MIT did not accept our bound AP-REQ: {other:?}"),
        }
        let (kind, name) = peer.next();
        assert_eq!((kind.as_str(), name), ("OK", format!("alice@{MIT_REALM}")));
    }
    eprintln!(
        "MIT interop: our initiator with channel bindings, MIT acceptor: same accepted, different refused"
    );
}
