//! Interoperability with MIT Kerberos on loopback:
//!
//! * our client gets tickets from an MIT KDC (`krb5kdc -n` on a free port,
//!   realm made by `scripts/mit-krb5/realm.sh` with `kdb5_util create -s` and
//!   `kadmin.local`) and authenticates to our acceptor, which reads the
//!   keytab `kadmin.local ktadd -k` exported;
//! * MIT `kinit` gets a TGT from our KDC and `kvno` a service ticket.
//!
//! Without the MIT tools the tests print a loud notice and pass without
//! checking anything; `scripts/mit-krb5/install.sh` installs them.

#[path = "common/kerberos_fixture.rs"]
mod fixture;

use sspi_core::{AuthIdentity, CredentialUse, SecBuffer, SecurityStatus};
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

/// The MIT tools, or `None` after a loud notice.
fn mit_tools(test: &str) -> Option<()> {
    let missing: Vec<&str> = ["krb5kdc", "kdb5_util", "kadmin.local", "kinit", "kvno"]
        .into_iter()
        .filter(|t| tool(t).is_none())
        .collect();
    if missing.is_empty() {
        return Some(());
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

#[test]
fn our_client_gets_tickets_from_mit_and_our_server_accepts_with_an_mit_keytab() {
    if mit_tools("MIT KDC interop").is_none() {
        return;
    }
    let mit = mit_realm();
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

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos\Domains\{MIT_REALM}]
"KdcNames"="127.0.0.1:{}"
"#,
        keytab.display().to_string().replace('\\', "\\\\"),
        mit.port
    );
    let registry = RegistryFile::new(&text);
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
    done.client.encrypt_message(0, &mut msg, 0).unwrap();
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
