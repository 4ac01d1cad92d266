//! Kerberos credentials beyond passwords, end to end against the embedded
//! KDC: tickets written to an MIT credential cache and used by a second
//! credentials handle with no password (no AS exchange), a client keytab,
//! and the acceptor's keytab chosen per credentials handle.

#[path = "common/kerberos_fixture.rs"]
mod fixture;

use fixture::{REALM, SERVICE, database, realm, registry_text};
use sspi_core::{CredentialUse, SecurityStatus};
use sspi_package_kerberos::internal::ccache::{CacheName, CredentialCache};
use sspi_plugin_host::loopback;
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile};
use std::path::Path;

/// A second registry for the same KDC with no password for alice, plus `extra`.
fn passwordless(realm: &fixture::Realm, extra: &str) -> RegistryFile {
    let text = registry_text(&realm.kdc.addr().to_string(), extra)
        .replace("\"DefaultPassword\"=\"alice-password\"\n", "");
    assert!(!text.contains("DefaultPassword"));
    RegistryFile::new(&text)
}

fn load(path: &Path) -> CredentialCache {
    CacheName::File(path.to_path_buf())
        .load()
        .expect("cache parses")
        .expect("cache exists")
}

fn servers(cache: &CredentialCache) -> Vec<String> {
    cache
        .credentials
        .iter()
        .map(|c| c.server.to_string())
        .collect()
}

#[test]
fn tickets_written_to_the_cache_let_a_handle_with_no_password_initiate_without_an_as_exchange() {
    let realm = realm();
    let dir = tempfile::tempdir().unwrap();
    let cc = dir.path().join("krb5cc");
    let named = format!("\"CredentialCache\"=\"FILE:{}\"\n", cc.display());
    // The first handle has alice's password and a named cache: AS + TGS, both written.
    let first = RegistryFile::new(&registry_text(&realm.kdc.addr().to_string(), &named));
    std::fs::copy(
        realm.registry.dir.path().join("service.keytab"),
        first.dir.path().join("service.keytab"),
    )
    .unwrap();
    let host = first.host();
    let server = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .unwrap();
    let client = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    loopback::handshake(&client, &server, Some(SERVICE), ISC_REQ, ASC_REQ).expect("handshake");
    let after_first = (realm.as_requests(), realm.tgs_requests());
    assert_eq!(after_first.1, 1);
    let cache = load(&cc);
    assert_eq!(cache.principal.to_string(), format!("alice@{REALM}"));
    assert_eq!(
        servers(&cache),
        [
            format!("krbtgt/{REALM}@{REALM}"),
            format!("{SERVICE}@{REALM}")
        ]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cc).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the cache is written with mode 0600");
    }

    // A handle with no password at all: the cached service ticket, no KDC trip.
    let bare = passwordless(&realm, &named);
    let host2 = bare.host();
    let client2 = host2
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .expect("credentials from the cache alone");
    let done = loopback::handshake(&client2, &server, Some(SERVICE), ISC_REQ, ASC_REQ)
        .expect("handshake with cached tickets");
    assert_eq!(done.server.names().unwrap(), format!("alice@{REALM}"));
    assert_eq!((realm.as_requests(), realm.tgs_requests()), after_first);

    // Without the service ticket: the cached TGT pays for a TGS exchange (no
    // AS exchange), and the new ticket is written back.
    let mut cache = load(&cc);
    cache
        .credentials
        .retain(|c| c.server.components[0] == "krbtgt");
    CacheName::File(cc.clone()).save(&cache).unwrap();
    let client3 = host2
        .acquire_credentials_handle(
            "Kerberos",
            Some(&format!("alice;ccache=FILE:{}", cc.display())),
            CredentialUse::OUTBOUND,
            None,
        )
        .unwrap();
    loopback::handshake(&client3, &server, Some(SERVICE), ISC_REQ, ASC_REQ)
        .expect("TGS with the cached TGT");
    assert_eq!(
        (realm.as_requests(), realm.tgs_requests()),
        (after_first.0, after_first.1 + 1)
    );
    assert_eq!(
        servers(&load(&cc)).len(),
        2,
        "the service ticket is written back"
    );
}

#[test]
fn no_password_and_no_cache_is_no_credentials() {
    let realm = realm();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent");
    let bare = passwordless(
        &realm,
        &format!("\"CredentialCache\"=\"FILE:{}\"\n", missing.display()),
    );
    let err = bare
        .host()
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .unwrap_err();
    assert_eq!(err.status(), SecurityStatus::SEC_E_NO_CREDENTIALS);
    assert!(
        err.message().contains("credential cache"),
        "{}",
        err.message()
    );
}

#[cfg(unix)]
#[test]
fn a_cache_other_users_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let realm = realm();
    let dir = tempfile::tempdir().unwrap();
    let cc = dir.path().join("cc");
    let named = format!("\"CredentialCache\"=\"FILE:{}\"\n", cc.display());
    let mut cache = CredentialCache::new(
        sspi_package_kerberos::internal::principal::Principal::user("alice", REALM),
    );
    cache.time_offset = Some((0, 0));
    CacheName::File(cc.clone()).save(&cache).unwrap();
    std::fs::set_permissions(&cc, std::fs::Permissions::from_mode(0o666)).unwrap();
    let err = passwordless(&realm, &named)
        .host()
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .unwrap_err();
    assert_eq!(err.status(), SecurityStatus::SEC_E_NO_CREDENTIALS);
    assert!(err.message().contains("writable"), "{}", err.message());
}

#[test]
fn a_client_keytab_lets_a_principal_initiate_with_its_key() {
    let realm = realm();
    let dir = tempfile::tempdir().unwrap();
    let keytab = database().keytab(&["alice"]).unwrap();
    let cc = dir.path().join("cc");
    let bare = passwordless(
        &realm,
        &format!(
            "\"ClientKeytab\"=\"client.keytab\"\n\"CredentialCache\"=\"DIR:{}\"\n",
            cc.display()
        ),
    );
    std::fs::write(
        bare.dir.path().join("client.keytab"),
        keytab.to_bytes().unwrap(),
    )
    .unwrap();
    let server = realm
        .host()
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .unwrap();
    let client = bare
        .host()
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .expect("client keytab credentials");
    let before = realm.as_requests();
    let done = loopback::handshake(&client, &server, Some(SERVICE), ISC_REQ, ASC_REQ)
        .expect("handshake with the keytab key");
    assert_eq!(done.server.names().unwrap(), format!("alice@{REALM}"));
    assert!(realm.as_requests() > before, "an AS exchange with the key");
    // The TGT went to the DIR collection's primary cache.
    assert_eq!(std::fs::read(cc.join("primary")).unwrap(), b"tkt\n");
    let cache = CacheName::Dir(cc).load().unwrap().unwrap();
    assert_eq!(cache.principal.to_string(), format!("alice@{REALM}"));

    // Per handle: a keytab without alice's key is no credentials for her.
    let other = dir.path().join("other.keytab");
    std::fs::write(
        &other,
        database().keytab(&["bob"]).unwrap().to_bytes().unwrap(),
    )
    .unwrap();
    let err = bare
        .host()
        .acquire_credentials_handle(
            "Kerberos",
            Some(&format!(
                "alice;client_keytab={};ccache=FILE:{}",
                other.display(),
                dir.path().join("none").display()
            )),
            CredentialUse::OUTBOUND,
            None,
        )
        .unwrap_err();
    assert_eq!(err.status(), SecurityStatus::SEC_E_NO_CREDENTIALS);
    // And bob's keytab makes bob a client.
    let bob = bare
        .host()
        .acquire_credentials_handle(
            "Kerberos",
            Some(&format!("bob;client_keytab={}", other.display())),
            CredentialUse::OUTBOUND,
            None,
        )
        .unwrap();
    let done = loopback::handshake(&bob, &server, Some(SERVICE), ISC_REQ, ASC_REQ).unwrap();
    assert_eq!(done.server.names().unwrap(), format!("bob@{REALM}"));
}

#[test]
fn the_acceptor_keytab_can_be_chosen_per_credentials_handle() {
    let realm = realm();
    let text = registry_text(&realm.kdc.addr().to_string(), "").replace(
        "\"Keytab\"=\"service.keytab\"",
        "\"Keytab\"=\"missing.keytab\"",
    );
    let other = RegistryFile::new(&text);
    let host = other.host();
    let err = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .unwrap_err();
    assert_eq!(err.status(), SecurityStatus::SEC_E_NO_CREDENTIALS);
    assert!(
        err.message().contains("value \"Keytab\""),
        "{}",
        err.message()
    );
    let err = host
        .acquire_credentials_handle(
            "Kerberos",
            Some(";keytab=/nonexistent/krb5.keytab"),
            CredentialUse::INBOUND,
            None,
        )
        .unwrap_err();
    assert_eq!(err.status(), SecurityStatus::SEC_E_NO_CREDENTIALS);
    assert!(
        err.message().contains("keytab=") && err.message().contains("/nonexistent/krb5.keytab"),
        "{}",
        err.message()
    );
    let keytab = realm.registry.dir.path().join("service.keytab");
    let server = host
        .acquire_credentials_handle(
            "Kerberos",
            Some(&format!(";keytab={}", keytab.display())),
            CredentialUse::INBOUND,
            None,
        )
        .expect("the handle's own keytab");
    let client = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    loopback::handshake(&client, &server, Some(SERVICE), ISC_REQ, ASC_REQ).expect("handshake");
}
