//! Credential caches and keytabs shared with MIT Kerberos on loopback:
//!
//! * MIT `kinit` against our KDC, and against an MIT KDC (`krb5kdc -n`,
//!   `scripts/mit-krb5/realm.sh`), FILE: and DIR:, then our client uses the
//!   cache with no password (no AS exchange) and writes its service ticket
//!   back, which MIT `klist` lists;
//! * the cache our package writes is read by MIT `klist`, and MIT `kvno`
//!   uses the TGT in it for a TGS exchange with our KDC;
//! * `kinit -k -t` with a keytab of our KDC's database, then our client as
//!   that service principal from the cache.
//!
//! Without the MIT tools the tests print a loud notice and pass without
//! checking anything, except under CI (`CI=true`), where a missing tool fails.

#[path = "common/kerberos_fixture.rs"]
mod fixture;
#[path = "common/spnego_peers.rs"]
mod peers;

use peers::{MIT_REALM, kinit, krb5_conf, mit_realm, tool};
use sspi_core::CredentialUse;
use sspi_package_kerberos::internal::ccache::{CacheName, CredentialCache};
use sspi_plugin_host::loopback;
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile};
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

/// The MIT tools, or `None` after a loud notice (a failure under CI).
fn mit_tools(test: &str) -> Option<()> {
    let missing: Vec<&str> = [
        "krb5kdc",
        "kdb5_util",
        "kadmin.local",
        "kinit",
        "klist",
        "kvno",
    ]
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

/// Runs an MIT tool with `env`; (success, stdout + stderr).
fn run(program: &str, args: &[&str], env: &[(&str, OsString)]) -> (bool, String) {
    let mut command = Command::new(tool(program).expect("MIT tool"));
    command.args(args).stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().expect("run MIT tool");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The environment of MIT tools for our KDC's realm with the cache `cache`.
fn our_realm_env(dir: &Path, realm: &fixture::Realm, cache: &str) -> Vec<(&'static str, OsString)> {
    let conf = krb5_conf(
        dir,
        "krb5.conf",
        fixture::REALM,
        &realm.kdc.addr().to_string(),
    );
    vec![("KRB5_CONFIG", conf.into()), ("KRB5CCNAME", cache.into())]
}

/// A registry for our KDC's realm with no password and `extra` lines.
fn passwordless(realm: &fixture::Realm, extra: &str) -> RegistryFile {
    let text = fixture::registry_text(&realm.kdc.addr().to_string(), extra)
        .replace("\"DefaultPassword\"=\"alice-password\"\n", "");
    RegistryFile::new(&text)
}

fn server_of(realm: &fixture::Realm) -> sspi_plugin_host::CredentialsHandle {
    realm
        .host()
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .unwrap()
}

#[test]
fn mit_kinit_against_our_kdc_then_our_client_uses_the_cache_with_no_password() {
    if mit_tools("MIT ccache interop (our KDC)").is_none() {
        return;
    }
    let realm = fixture::realm();
    let dir = tempfile::tempdir().unwrap();
    let cc = dir.path().join("krb5cc");
    let name = format!("FILE:{}", cc.display());
    let env = our_realm_env(dir.path(), &realm, &name);
    kinit(&env, &format!("alice@{}", fixture::REALM), "alice-password");
    let after_kinit = (realm.as_requests(), realm.tgs_requests());
    assert!(after_kinit.0 >= 1 && after_kinit.1 == 0);

    let ours = passwordless(&realm, &format!("\"CredentialCache\"=\"{name}\"\n"));
    let client = ours
        .host()
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .expect("credentials from MIT's cache");
    let server = server_of(&realm);
    let done = loopback::handshake(&client, &server, Some(fixture::SERVICE), ISC_REQ, ASC_REQ)
        .expect("handshake with MIT's TGT");
    assert_eq!(
        done.server.names().unwrap(),
        format!("alice@{}", fixture::REALM)
    );
    assert_eq!(
        (realm.as_requests(), realm.tgs_requests()),
        (after_kinit.0, 1),
        "no AS exchange, one TGS exchange with MIT's TGT"
    );
    // The service ticket we obtained is in MIT's cache now, and klist shows it
    // beside MIT's own entries.
    let (ok, listing) = run("klist", &["-e", "-C"], &env);
    assert!(ok, "{listing}");
    assert!(
        listing.contains(&format!("{}@{}", fixture::SERVICE, fixture::REALM)),
        "{listing}"
    );
    assert!(
        listing.contains("config: fast_avail") || listing.contains("config: pa_type"),
        "MIT's config entries are kept: {listing}"
    );
    eprintln!("MIT kinit (our KDC) -> our client with no password: ok\n{listing}");
}

#[test]
fn mit_kinit_against_an_mit_kdc_then_our_client_uses_the_cache_file_and_dir() {
    if mit_tools("MIT ccache interop (MIT KDC)").is_none() {
        return;
    }
    let mit = mit_realm();
    let d = mit.dir.path();
    // FILE: the realm's ccache (mit.env()'s KRB5CCNAME).
    mit.kinit_alice();
    let keytab = d.join("service.keytab");
    let text = format!(
        r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_kerberos.dll"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos]
"DefaultRealm"="{MIT_REALM}"
"Keytab"="{}"
"ServicePrincipal"="host/localhost"
"CredentialCache"="FILE:{}"
"KdcTimeout"=dword:00000bb8
"ReplayCachePath"="replay.rcache"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos\Domains\{MIT_REALM}]
"KdcNames"="127.0.0.1:{}"
"#,
        keytab.display(),
        d.join("ccache").display(),
        mit.port
    );
    let registry = RegistryFile::new(&text);
    let host = registry.host();
    let server = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .unwrap();
    let client = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .expect("no DefaultUser, no password: the cache's principal");
    assert_eq!(
        client.query_credentials_names().unwrap(),
        format!("alice@{MIT_REALM}")
    );
    let done = loopback::handshake(&client, &server, Some("host/localhost"), ISC_REQ, ASC_REQ)
        .expect("handshake with the MIT KDC's TGT");
    assert_eq!(done.server.names().unwrap(), format!("alice@{MIT_REALM}"));
    let (ok, listing) = run("klist", &["-e"], &mit.env());
    assert!(
        ok && listing.contains(&format!("host/localhost@{MIT_REALM}")),
        "{listing}"
    );

    // DIR: a collection kinit made, named per AcquireCredentialsHandle.
    let collection = d.join("collection");
    let mut env = mit.env();
    env.retain(|(k, _)| *k != "KRB5CCNAME");
    env.push(("KRB5CCNAME", format!("DIR:{}", collection.display()).into()));
    kinit(&env, &format!("alice@{MIT_REALM}"), "alice-password");
    let client = host
        .acquire_credentials_handle(
            "Kerberos",
            Some(&format!("alice;ccache=DIR:{}", collection.display())),
            CredentialUse::OUTBOUND,
            None,
        )
        .unwrap();
    loopback::handshake(&client, &server, Some("host/localhost"), ISC_REQ, ASC_REQ)
        .expect("handshake with the DIR collection's TGT");
    let (ok, listing) = run("klist", &[], &env);
    assert!(
        ok && listing.contains(&format!("host/localhost@{MIT_REALM}")),
        "{listing}"
    );
    eprintln!("MIT kinit (MIT KDC), FILE: and DIR: -> our client with no password: ok");
}

#[test]
fn mit_klist_and_kvno_use_the_cache_our_package_wrote() {
    if mit_tools("MIT reads our ccache").is_none() {
        return;
    }
    let realm = fixture::realm();
    let dir = tempfile::tempdir().unwrap();
    let cc = dir.path().join("ours");
    let name = format!("FILE:{}", cc.display());
    // Alice's password and a named cache: our TGT and service ticket are written.
    let registry = RegistryFile::new(&fixture::registry_text(
        &realm.kdc.addr().to_string(),
        &format!("\"CredentialCache\"=\"{name}\"\n"),
    ));
    let client = registry
        .host()
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    loopback::handshake(
        &client,
        &server_of(&realm),
        Some(fixture::SERVICE),
        ISC_REQ,
        ASC_REQ,
    )
    .unwrap();
    let env = our_realm_env(dir.path(), &realm, &name);
    let (ok, listing) = run("klist", &["-e"], &env);
    assert!(ok, "klist refused our cache: {listing}");
    assert!(
        listing.contains(&format!("Default principal: alice@{}", fixture::REALM)),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("krbtgt/{0}@{0}", fixture::REALM)),
        "{listing}"
    );
    assert!(
        listing.contains(&format!("{}@{}", fixture::SERVICE, fixture::REALM)),
        "{listing}"
    );
    assert!(listing.contains("aes256-cts-hmac-sha1-96"), "{listing}");

    // Only our TGT left: MIT kvno pays for a service ticket with it.
    let mut cache: CredentialCache = CacheName::File(cc.clone()).load().unwrap().unwrap();
    cache.credentials.retain(|c| c.server.is_krbtgt());
    CacheName::File(cc.clone()).save(&cache).unwrap();
    let tgs = realm.tgs_requests();
    let (ok, out) = run(
        "kvno",
        &[&format!("{}@{}", fixture::SERVICE, fixture::REALM)],
        &env,
    );
    assert!(ok, "kvno with our TGT: {out}");
    assert_eq!(realm.tgs_requests(), tgs + 1);
    eprintln!("MIT klist and kvno with the cache we wrote: ok\n{listing}");
}

#[test]
fn kinit_k_with_our_keytab_then_our_client_initiates_as_the_service() {
    if mit_tools("kinit -k with our keytab").is_none() {
        return;
    }
    let realm = fixture::realm();
    let dir = tempfile::tempdir().unwrap();
    let keytab = dir.path().join("ours.keytab");
    let keys = fixture::database().keytab(&[fixture::SERVICE]).unwrap();
    std::fs::write(&keytab, keys.to_bytes().unwrap()).unwrap();
    let cc = dir.path().join("svc");
    let name = format!("FILE:{}", cc.display());
    let env = our_realm_env(dir.path(), &realm, &name);
    let service = format!("{}@{}", fixture::SERVICE, fixture::REALM);
    let (ok, out) = run(
        "kinit",
        &["-k", "-t", keytab.to_str().unwrap(), &service],
        &env,
    );
    assert!(ok, "kinit -k -t with our keytab: {out}");
    let as_before = realm.as_requests();
    let client = passwordless(&realm, "")
        .host()
        .acquire_credentials_handle(
            "Kerberos",
            Some(&format!("{};ccache={name}", fixture::SERVICE)),
            CredentialUse::OUTBOUND,
            None,
        )
        .expect("the service principal from kinit -k's cache");
    let done = loopback::handshake(
        &client,
        &server_of(&realm),
        Some(fixture::SERVICE),
        ISC_REQ,
        ASC_REQ,
    )
    .expect("the service initiates with its cached TGT");
    assert_eq!(done.server.names().unwrap(), service);
    assert_eq!(realm.as_requests(), as_before, "no AS exchange");
    // And the same keytab as our ClientKeytab: an AS exchange with its key.
    let client = passwordless(&realm, "")
        .host()
        .acquire_credentials_handle(
            "Kerberos",
            Some(&format!(
                "{};client_keytab={};ccache=FILE:{}",
                fixture::SERVICE,
                keytab.display(),
                dir.path().join("fresh").display()
            )),
            CredentialUse::OUTBOUND,
            None,
        )
        .unwrap();
    loopback::handshake(
        &client,
        &server_of(&realm),
        Some(fixture::SERVICE),
        ISC_REQ,
        ASC_REQ,
    )
    .expect("the service initiates with its keytab key");
    assert!(realm.as_requests() > as_before);
    let (ok, listing) = run(
        "klist",
        &[],
        &[
            env[0].clone(),
            (
                "KRB5CCNAME",
                format!("FILE:{}", dir.path().join("fresh").display()).into(),
            ),
        ],
    );
    assert!(
        ok && listing.contains(&format!("Default principal: {service}")),
        "{listing}"
    );
    eprintln!("kinit -k -t with our keytab, then our client as {service}: ok");
}

/// The `sspi` command cargo built beside this test (`target/<profile>/sspi`).
fn sspi_command() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("sspi"))
        .unwrap();
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace` first",
        path.display()
    );
    path
}

/// Kills a child process of this test (by its id) on drop.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sspi_client_with_no_password_after_kinit() {
    use std::io::BufRead;
    if mit_tools("sspi client after kinit").is_none() {
        return;
    }
    let realm = fixture::realm();
    let dir = tempfile::tempdir().unwrap();
    let cc = format!("FILE:{}", dir.path().join("cc").display());
    let env = our_realm_env(dir.path(), &realm, &cc);
    kinit(&env, &format!("alice@{}", fixture::REALM), "alice-password");
    let as_after_kinit = realm.as_requests();

    let mut server = Child(
        Command::new(sspi_command())
            .arg("--registry")
            .arg(&realm.registry.path)
            .args(["server", "--listen", "127.0.0.1:0"])
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut banner = String::new();
    std::io::BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let addr = banner
        .split_whitespace()
        .find(|w| w.starts_with("127.0.0.1:"))
        .map(|w| w.trim_end_matches(';').to_string())
        .unwrap_or_else(|| panic!("no address in {banner:?}"));

    let ours = passwordless(&realm, "");
    let client = |ccache: Option<&str>| {
        let mut command = Command::new(sspi_command());
        command
            .arg("--registry")
            .arg(&ours.path)
            .args([
                "client",
                "--connect",
                &addr,
                "--package",
                "Kerberos",
                "hello",
            ])
            .env_remove("SSPI_PASSWORD")
            .stdin(Stdio::null());
        match ccache {
            Some(name) => command.env("KRB5CCNAME", name),
            None => command.env(
                "KRB5CCNAME",
                format!("FILE:{}", dir.path().join("none").display()),
            ),
        };
        command.output().unwrap()
    };
    let out = client(Some(&cc));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "the server accepted this client as alice@{}",
            fixture::REALM
        )) && stdout.contains("reply: hello"),
        "{stdout}"
    );
    assert_eq!(realm.as_requests(), as_after_kinit, "no AS exchange");
    assert_eq!(realm.tgs_requests(), 1);
    // Without the cache: no credentials, and the message names the cache.
    let out = client(None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("SEC_E_NO_CREDENTIALS") && stderr.contains("FILE:"),
        "{stderr}"
    );
    eprintln!("sspi client --package Kerberos with no password after kinit: ok");
}
