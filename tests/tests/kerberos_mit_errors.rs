//! KRB-ERROR tokens (RFC 4121 framing, TOK_ID 03 00) between our package and
//! MIT Kerberos 1.20's GSS-API on loopback (`scripts/mit-krb5/gss_peer.py`):
//!
//! * our acceptor refuses an MIT initiator's AP-REQ with a KRB-ERROR token in
//!   its output buffer, and MIT's `gss_init_sec_context`, given that token,
//!   reports the right reason: a keytab with the wrong key (BAD_INTEGRITY),
//!   only another key version (BADKEYVER), a replayed AP-REQ (REPEAT), a
//!   clock outside `SkewTime` (SKEW);
//! * MIT's acceptor refuses our initiator's AP-REQ with its KRB-ERROR token,
//!   and our InitializeSecurityContext maps it: a wrong key to
//!   SEC_E_LOGON_DENIED, a clock outside MIT's `clockskew` to SEC_E_TIME_SKEW.
//!
//! * target names and `Krb5Config`: with only a krb5.conf (no `DefaultRealm`,
//!   no `Domains`), our client finds the realm, the MIT KDC and the realm of
//!   the GSS host-based name `host@LocalHost` (`[domain_realm]`) and our
//!   acceptor accepts it; `HOST@localhost` keeps the service's case (MIT's
//!   KDC does not know `HOST/localhost`); the registry's KDC list wins over
//!   the krb5.conf's.
//!
//! Without the MIT tools the tests print a loud notice and pass without
//! checking anything, except under CI (`CI=true`), where they fail;
//! `scripts/mit-krb5/install.sh` installs them.

#[path = "common/spnego_peers.rs"]
mod peers;

use peers::{MIT_REALM, MitRealm, from_hex, mit_realm, tool};
use sspi_core::{CredentialUse, SecBuffer, SecBufferRef, SecurityStatus};
use sspi_package_kerberos::internal::crypto::Key;
use sspi_package_kerberos::internal::keytab::Keytab;
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Debian's python3 with python3-gssapi and the MIT tools, or `None` after a
/// loud notice (a failure under CI).
fn mit(test: &str) -> Option<PathBuf> {
    let mut missing: Vec<&str> = ["krb5kdc", "kdb5_util", "kadmin.local", "kinit"]
        .into_iter()
        .filter(|t| tool(t).is_none())
        .collect();
    let python = PathBuf::from("/usr/bin/python3");
    let gssapi = Command::new(&python)
        .args(["-c", "import gssapi"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !gssapi {
        missing.push("python3-gssapi");
    }
    if missing.is_empty() {
        return Some(python);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{test}: MIT Kerberos is not installed (missing {}); CI must run scripts/mit-krb5/install.sh",
            missing.join(", ")
        );
    }
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !! SKIPPED {test}: missing {}.\n\
         !! Install MIT Kerberos with scripts/mit-krb5/install.sh to run the interop tests.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
        missing.join(", ")
    );
    None
}

/// A child process killed (by its id) when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What these tests add to the shared MIT realm (`common/spnego_peers.rs`).
trait MitRealmExt {
    /// A file in the realm's directory.
    fn path(&self, name: &str) -> PathBuf;
    /// A copy of the service keytab with altered key versions or keys.
    fn altered_keytab(&self, name: &str, kvno_delta: u32, wrong_key: bool) -> PathBuf;
    /// Our package's registry for this realm.
    fn registry(&self, keytab: &Path, extra: &str) -> RegistryFile;
}

impl MitRealmExt for MitRealm {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A keytab with MIT's principal and etypes but `kvno_delta` added to
    /// the key version and, when `wrong_key`, other (random) keys.
    fn altered_keytab(&self, name: &str, kvno_delta: u32, wrong_key: bool) -> PathBuf {
        let real = Keytab::load(&self.path("service.keytab")).unwrap();
        let mut out = Keytab::default();
        for entry in &real.entries {
            let etype =
                sspi_package_kerberos::internal::crypto::Etype::from_number(i64::from(entry.etype))
                    .unwrap();
            let key = if wrong_key {
                Key::random(etype).unwrap()
            } else {
                Key::new(etype, entry.key.to_vec()).unwrap()
            };
            out.push(
                &entry.principal,
                entry.kvno + kvno_delta,
                &key,
                entry.timestamp,
            );
        }
        let path = self.path(name);
        std::fs::write(&path, out.to_bytes().unwrap()).unwrap();
        path
    }

    /// Our package with this realm's KDC and `keytab`, and `extra` registry lines.
    fn registry(&self, keytab: &Path, extra: &str) -> RegistryFile {
        RegistryFile::new(&format!(
            r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_kerberos.dll"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos]
"DefaultRealm"="{MIT_REALM}"
"Keytab"="{}"
"ServicePrincipal"="host/localhost"
"DefaultUser"="alice"
"DefaultPassword"="alice-password"
"ReplayCachePath"="replay.rcache"
{extra}

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos\Domains\{MIT_REALM}]
"KdcNames"="127.0.0.1:{}"
"#,
            keytab.display().to_string().replace('\\', "\\\\"),
            self.port
        ))
    }
}

/// The MIT GSS-API peer (`gss_peer.py`): hex lines on stdin/stdout.
struct Peer {
    _child: Running,
    lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
    stdin: std::process::ChildStdin,
}

impl Peer {
    fn start(python: &Path, mit: &MitRealm, args: &[&str], conf: &Path, keytab: &Path) -> Peer {
        let mut child = Command::new(python)
            .arg(peers::script("mit-krb5/gss_peer.py"))
            .args(args)
            .env("KRB5_CONFIG", conf)
            .env(
                "KRB5CCNAME",
                format!("FILE:{}", mit.path("ccache").display()),
            )
            .env("KRB5_KTNAME", format!("FILE:{}", keytab.display()))
            .env("KRB5RCACHEDIR", mit.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start gss_peer.py");
        let stdout = child.stdout.take().unwrap();
        let stdin = child.stdin.take().unwrap();
        use std::io::BufRead;
        Peer {
            _child: Running(child),
            lines: std::io::BufReader::new(stdout).lines(),
            stdin,
        }
    }

    fn next(&mut self) -> (String, String) {
        let line = self
            .lines
            .next()
            .expect("gss_peer.py said nothing")
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

/// The GSS token id after the 0x60 header and the 11-byte krb5 OID.
fn token_id(token: &[u8]) -> Option<&[u8]> {
    token.get(13..15)
}

/// Our acceptor (registry `registry`) on `ap_req`: the error and the token it wrote.
fn our_refusal(registry: &RegistryFile, ap_req: &[u8]) -> (sspi_core::SecurityError, Vec<u8>) {
    let host = registry.host();
    let server = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .unwrap();
    let mut out = vec![0u8; 12_000];
    let mut ctx = None;
    let input = [SecBufferRef::token(ap_req)];
    let mut output = [SecBuffer::token(&mut out)];
    let err = server
        .accept_security_context(&mut ctx, ASC_REQ, &input, &mut output)
        .expect_err("our acceptor refuses");
    (err, output[0].as_slice().to_vec())
}

#[test]
fn mit_initiators_learn_why_our_acceptor_refused() {
    let Some(python) = mit("MIT initiator <- our KRB-ERROR tokens") else {
        return;
    };
    let mit = mit_realm();
    mit.kinit_alice();
    let target = format!("host/localhost@{MIT_REALM}");
    let conf = mit.path("krb5.conf");
    let real_keytab = mit.path("service.keytab");
    let wrong_key = mit.altered_keytab("wrong-key.keytab", 0, true);
    let other_kvno = mit.altered_keytab("other-kvno.keytab", 1, false);
    let skew_zero = mit.registry(&real_keytab, "\"SkewTime\"=dword:00000000");
    let cases: [(&str, RegistryFile, SecurityStatus, &str); 3] = [
        (
            "KRB_AP_ERR_BAD_INTEGRITY",
            mit.registry(&wrong_key, ""),
            SecurityStatus::SEC_E_WRONG_PRINCIPAL,
            "integrity",
        ),
        (
            "KRB_AP_ERR_BADKEYVER",
            mit.registry(&other_kvno, ""),
            SecurityStatus::SEC_E_NO_KERB_KEY,
            "key version is not available",
        ),
        (
            "KRB_AP_ERR_SKEW",
            skew_zero,
            SecurityStatus::SEC_E_TIME_SKEW,
            "clock skew",
        ),
    ];
    let mut seen = Vec::new();
    for (what, registry, status, mit_says) in cases {
        let mut peer = Peer::start(&python, &mit, &["initiate", &target], &conf, &real_keytab);
        let ap_req = peer.token();
        if what == "KRB_AP_ERR_SKEW" {
            // SkewTime 0: a second later the authenticator is out of the window.
            std::thread::sleep(Duration::from_millis(1100));
        }
        let (err, token) = our_refusal(&registry, &ap_req);
        assert_eq!(err.status(), status, "{what}: {}", err.message());
        assert_eq!(
            token_id(&token),
            Some(&[3u8, 0][..]),
            "{what}: no KRB-ERROR token"
        );
        peer.send(&token);
        let (kind, why) = peer.next();
        assert_eq!(
            kind, "ERROR",
            "{what}: MIT completed with our error token: {why}"
        );
        assert!(
            why.to_lowercase().contains(mit_says),
            "{what}: MIT said {why:?}, expected {mit_says:?}"
        );
        seen.push(format!("{what} -> MIT {why:?}"));
    }

    // A replay: the first AP-REQ is accepted, the same one again refused.
    let registry = mit.registry(&real_keytab, "");
    let mut peer = Peer::start(&python, &mit, &["initiate", &target], &conf, &real_keytab);
    let ap_req = peer.token();
    {
        let host = registry.host();
        let server = host
            .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
            .unwrap();
        let mut out = vec![0u8; 12_000];
        let mut ctx = None;
        let input = [SecBufferRef::token(&ap_req)];
        let mut output = [SecBuffer::token(&mut out)];
        server
            .accept_security_context(&mut ctx, ASC_REQ, &input, &mut output)
            .expect("the first AP-REQ is accepted");
    }
    let (err, token) = our_refusal(&registry, &ap_req);
    assert_eq!(
        err.status(),
        SecurityStatus::SEC_E_LOGON_DENIED,
        "{}",
        err.message()
    );
    assert!(
        err.message().contains("KRB_AP_ERR_REPEAT"),
        "{}",
        err.message()
    );
    peer.send(&token);
    let (kind, why) = peer.next();
    assert_eq!(kind, "ERROR", "{why}");
    assert!(why.to_lowercase().contains("replay"), "MIT said {why:?}");
    seen.push(format!("KRB_AP_ERR_REPEAT -> MIT {why:?}"));
    eprintln!("MIT interop, our KRB-ERROR tokens: {}", seen.join("; "));
}

#[test]
fn our_initiator_maps_mit_krb_error_tokens() {
    let Some(python) = mit("our initiator <- MIT KRB-ERROR tokens") else {
        return;
    };
    let mit = mit_realm();
    let registry = mit.registry(&mit.path("service.keytab"), "");
    let host = registry.host();
    let client = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let wrong_key = mit.altered_keytab("wrong-key.keytab", 0, true);
    // MIT's acceptor with `clockskew = 0`: a second later our authenticator is too old.
    let skew_conf = mit.path("skew0.conf");
    let mut text = std::fs::read_to_string(mit.path("krb5.conf")).unwrap();
    text = text.replace("[libdefaults]", "[libdefaults]\n    clockskew = 0");
    std::fs::write(&skew_conf, text).unwrap();
    let mut seen = Vec::new();
    for (what, conf, keytab, status) in [
        (
            "KRB_AP_ERR_BAD_INTEGRITY",
            mit.path("krb5.conf"),
            wrong_key.clone(),
            SecurityStatus::SEC_E_LOGON_DENIED,
        ),
        (
            "KRB_AP_ERR_SKEW",
            skew_conf.clone(),
            mit.path("service.keytab"),
            SecurityStatus::SEC_E_TIME_SKEW,
        ),
    ] {
        let mut peer = Peer::start(&python, &mit, &["accept"], &conf, &keytab);
        let mut out = vec![0u8; 12_000];
        let mut ctx = None;
        let mut output = [SecBuffer::token(&mut out)];
        let step = client
            .initialize_security_context(
                &mut ctx,
                Some("host/localhost"),
                ISC_REQ,
                &[],
                &mut output,
            )
            .expect("our AP-REQ");
        assert_eq!(step.status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
        if what == "KRB_AP_ERR_SKEW" {
            std::thread::sleep(Duration::from_millis(1100));
        }
        peer.send(output[0].as_slice());
        let error = peer.token();
        assert_eq!(
            token_id(&error),
            Some(&[3u8, 0][..]),
            "{what}: MIT sent no KRB-ERROR token"
        );
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
        assert_eq!(err.status(), status, "{what}: {}", err.message());
        assert!(err.message().contains(what), "{what}: {}", err.message());
        seen.push(format!("MIT {what} -> {}", err.status()));
        let (kind, _) = peer.next();
        assert_eq!(kind, "ERROR");
    }
    eprintln!("MIT interop, MIT's KRB-ERROR tokens: {}", seen.join("; "));
}

/// Our package configured by `Krb5Config` (plus `extra` registry lines).
fn krb5_conf_registry(keytab: &Path, conf: &Path, extra: &str) -> RegistryFile {
    RegistryFile::new(&format!(
        r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_kerberos.dll"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos]
"Krb5Config"="{}"
"Keytab"="{}"
"ServicePrincipal"="host/localhost"
"DefaultUser"="alice"
"DefaultPassword"="alice-password"
"KdcTimeout"=dword:000003e8
"KdcRetries"=dword:00000000
"ReplayCachePath"="replay.rcache"
{extra}
"#,
        conf.display().to_string().replace('\\', "\\\\"),
        keytab.display().to_string().replace('\\', "\\\\"),
    ))
}

#[test]
fn host_based_names_and_krb5_conf_with_an_mit_realm() {
    let Some(_) = mit("host-based names and Krb5Config against MIT") else {
        return;
    };
    let mit = mit_realm();
    // MIT's own krb5.conf (realm.sh), with a [domain_realm] for the host.
    let conf = mit.path("client-krb5.conf");
    let mut text = std::fs::read_to_string(mit.path("krb5.conf")).unwrap();
    text.push_str(&format!("[domain_realm]\n    localhost = {MIT_REALM}\n"));
    std::fs::write(&conf, text).unwrap();
    let keytab = mit.path("service.keytab");
    let registry = krb5_conf_registry(&keytab, &conf, "");
    let host = registry.host();
    let client = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let server = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .unwrap();
    for target in [
        "host@LocalHost",
        "host/localhost",
        &format!("host/localhost@{MIT_REALM}"),
    ] {
        let done =
            sspi_plugin_host::loopback::handshake(&client, &server, Some(target), ISC_REQ, ASC_REQ)
                .unwrap_or_else(|e| panic!("{target}: {e}"));
        assert_eq!(
            done.server.names().unwrap(),
            format!("alice@{MIT_REALM}"),
            "{target}"
        );
    }
    // The service keeps its case: MIT's KDC has host/localhost, not HOST/localhost.
    let err = sspi_plugin_host::loopback::handshake(
        &client,
        &server,
        Some("HOST@localhost"),
        ISC_REQ,
        ASC_REQ,
    )
    .unwrap_err();
    assert_eq!(
        err.status(),
        SecurityStatus::SEC_E_TARGET_UNKNOWN,
        "{}",
        err.message()
    );
    assert!(
        err.message().contains("HOST/localhost@MIT.TEST"),
        "{}",
        err.message()
    );

    // The registry wins: its (dead) KDC for the realm, not the krb5.conf's.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let registry = krb5_conf_registry(
        &keytab,
        &conf,
        &format!(
            "\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Kerberos\\Domains\\{MIT_REALM}]\n\"KdcNames\"=\"127.0.0.1:{dead}\"\n"
        ),
    );
    let host = registry.host();
    let client = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let err = sspi_plugin_host::loopback::handshake(
        &client,
        &server,
        Some("host@localhost"),
        ISC_REQ,
        ASC_REQ,
    )
    .unwrap_err();
    assert_eq!(
        err.status(),
        SecurityStatus::SEC_E_NO_AUTHENTICATING_AUTHORITY,
        "{}",
        err.message()
    );
    eprintln!(
        "MIT interop: Krb5Config realm, KDCs and [domain_realm]; host@LocalHost and SPNs: ok"
    );
}

#[test]
fn the_error_token_goes_only_to_initiators_that_read_a_reply() {
    let Some(_) = mit("KRB-ERROR tokens only for mutual authentication") else {
        return;
    };
    let mit = mit_realm();
    let wrong_key = mit.altered_keytab("wrong-key.keytab", 0, true);
    let registry = mit.registry(&wrong_key, "");
    let host = registry.host();
    let client = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let mutual = ISC_REQ | sspi_core::IscReq::MUTUAL_AUTH;
    let without = sspi_core::IscReq(ISC_REQ.0 & !sspi_core::IscReq::MUTUAL_AUTH.0);
    for (req, expect_token) in [(mutual, true), (without, false)] {
        let mut out = vec![0u8; 12_000];
        let mut ctx = None;
        let mut output = [SecBuffer::token(&mut out)];
        client
            .initialize_security_context(&mut ctx, Some("host/localhost"), req, &[], &mut output)
            .expect("our AP-REQ through the MIT KDC");
        let ap_req = output[0].as_slice().to_vec();
        let (err, token) = our_refusal(&registry, &ap_req);
        assert_eq!(
            err.status(),
            SecurityStatus::SEC_E_WRONG_PRINCIPAL,
            "{}",
            err.message()
        );
        if expect_token {
            assert_eq!(token_id(&token), Some(&[3u8, 0][..]));
            // Our initiator maps our own error token too.
            let mut out = vec![0u8; 12_000];
            let input = [SecBufferRef::token(&token)];
            let mut output = [SecBuffer::token(&mut out)];
            let err = client
                .initialize_security_context(
                    &mut ctx,
                    Some("host/localhost"),
                    req,
                    &input,
                    &mut output,
                )
                .expect_err("refused");
            assert_eq!(
                err.status(),
                SecurityStatus::SEC_E_LOGON_DENIED,
                "{}",
                err.message()
            );
            assert!(
                err.message().contains("KRB_AP_ERR_BAD_INTEGRITY"),
                "{}",
                err.message()
            );
        } else {
            assert!(token.is_empty(), "a token for an initiator that reads none");
        }
    }
}
