//! Delegation (ISC_REQ_DELEGATE) end to end with the real plugins and the
//! embedded KDC: the client forwards its TGT in the AP-REQ's 0x8003 checksum,
//! the server gets the client's credentials from its context and uses them
//! to authenticate, as the client, to a second service (its own server
//! process, keytab and registry). Also: no delegation to a service the KDC
//! does not mark ok-as-delegate (unless `RequireOkAsDelegate` is 0), none
//! with a TGT that is not forwardable, none unless asked; and the same
//! through Negotiate.

#[path = "common/kerberos_fixture.rs"]
mod fixture;

use fixture::{REALM, Realm, realm_from, registry_text};
use sspi_core::{AscRet, CredentialUse, IscReq, IscRet, Qop, SecBuffer};
use sspi_plugin_host::loopback;
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle, SecurityHost};
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile};

/// alice may forward her TGT; host/localhost is trusted for delegation,
/// HTTP/localhost (the second service) is not; carol's TGT is never forwardable.
const DATABASE: &str = "\
alice                          password alice-password
carol          noforward       password carol-password
host/localhost ok-as-delegate  password host-service-secret
HTTP/localhost                 password http-service-secret
";

const SECOND_SERVICE: &str = "HTTP/localhost";

const DELEGATE: IscReq = IscReq(ISC_REQ.0 | IscReq::DELEGATE.0);

fn delegation_realm(extra: &str) -> Realm {
    realm_from(DATABASE, &["host/localhost"], |_| {}, extra)
}

/// The second service: another registry (ServicePrincipal HTTP/localhost,
/// its own keytab) over the same KDC, as a separate server would have.
fn second_service(realm: &Realm) -> (RegistryFile, CredentialsHandle) {
    let text = registry_text(&realm.kdc.addr().to_string(), "").replace(
        "\"ServicePrincipal\"=\"host/localhost\"",
        "\"ServicePrincipal\"=\"HTTP/localhost\"",
    );
    let registry = RegistryFile::new(&text);
    let db = sspi_kdc::Database::parse(DATABASE, REALM, "test-database").unwrap();
    let keytab = db.keytab(&[SECOND_SERVICE]).unwrap();
    std::fs::write(
        registry.dir.path().join("service.keytab"),
        keytab.to_bytes().unwrap(),
    )
    .unwrap();
    let credentials = registry
        .host()
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .expect("second service's credentials");
    (registry, credentials)
}

fn client_of(host: &SecurityHost, package: &str, user: &str) -> CredentialsHandle {
    let identity = sspi_core::AuthIdentity::new(user, "", &format!("{user}-password"));
    host.acquire_credentials_handle(package, None, CredentialUse::OUTBOUND, Some(identity))
        .expect("client credentials")
}

fn server_of(host: &SecurityHost, package: &str) -> CredentialsHandle {
    host.acquire_credentials_handle(package, None, CredentialUse::INBOUND, None)
        .expect("server credentials")
}

fn roundtrip(client: &mut SecurityContextHandle, server: &mut SecurityContextHandle) {
    let sizes = client.sizes().unwrap();
    let mut token = vec![0u8; sizes.max_signature as usize];
    let mut data = *b"signed by the delegate";
    let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
    client
        .make_signature(Qop::DEFAULT, &mut message, 0)
        .unwrap();
    server.verify_signature(&mut message, 0).unwrap();
}

#[test]
fn the_server_authenticates_as_the_client_to_a_second_service() {
    let realm = delegation_realm("");
    let host = realm.host();
    let client = client_of(&host, "Kerberos", "alice");
    let server = server_of(&host, "Kerberos");
    let done = loopback::handshake(&client, &server, Some("host/localhost"), DELEGATE, ASC_REQ)
        .expect("handshake");
    assert!(done.client_step.attributes.contains(IscRet::DELEGATE));
    assert!(done.server_step.attributes.contains(AscRet::DELEGATE));
    assert!(
        done.client.delegated_credentials().unwrap().is_none(),
        "a client context holds no delegated credentials"
    );
    let delegated = done
        .server
        .delegated_credentials()
        .expect("no error")
        .expect("the client delegated");
    assert_eq!(delegated.package_name(), "Kerberos");
    assert_eq!(delegated.credential_use(), CredentialUse::OUTBOUND);
    assert_eq!(
        delegated.query_credentials_names().unwrap(),
        format!("alice@{REALM}")
    );

    // The server, as alice, to the second service: a ticket from the
    // delegated TGT (one TGS request), accepted by the second service.
    let (_second_registry, second) = second_service(&realm);
    let tgs_before = realm.tgs_requests();
    let mut onward =
        loopback::handshake(&delegated, &second, Some(SECOND_SERVICE), ISC_REQ, ASC_REQ)
            .expect("the delegated credentials authenticate to the second service");
    assert_eq!(realm.tgs_requests(), tgs_before + 1);
    assert_eq!(onward.server.names().unwrap(), format!("alice@{REALM}"));
    roundtrip(&mut onward.client, &mut onward.server);
    // A second context from the same delegated credentials reuses the ticket.
    loopback::handshake(&delegated, &second, Some(SECOND_SERVICE), ISC_REQ, ASC_REQ)
        .expect("again");
    assert_eq!(realm.tgs_requests(), tgs_before + 1);
}

#[test]
fn no_delegation_unless_asked() {
    let realm = delegation_realm("");
    let host = realm.host();
    let client = client_of(&host, "Kerberos", "alice");
    let server = server_of(&host, "Kerberos");
    let tgs_before = realm.tgs_requests();
    let done = loopback::handshake(&client, &server, Some("host/localhost"), ISC_REQ, ASC_REQ)
        .expect("handshake");
    assert!(!done.client_step.attributes.contains(IscRet::DELEGATE));
    assert!(!done.server_step.attributes.contains(AscRet::DELEGATE));
    assert!(done.server.delegated_credentials().unwrap().is_none());
    assert_eq!(
        realm.tgs_requests(),
        tgs_before + 1,
        "only the service ticket"
    );
}

#[test]
fn no_delegation_to_a_service_that_is_not_ok_as_delegate() {
    let realm = delegation_realm("");
    let (_second_registry, second) = second_service(&realm);
    let client = client_of(&realm.host(), "Kerberos", "alice");
    let done = loopback::handshake(&client, &second, Some(SECOND_SERVICE), DELEGATE, ASC_REQ)
        .expect("the context is made without delegation");
    assert!(!done.client_step.attributes.contains(IscRet::DELEGATE));
    assert!(!done.server_step.attributes.contains(AscRet::DELEGATE));
    assert!(done.server.delegated_credentials().unwrap().is_none());
}

#[test]
fn require_ok_as_delegate_0_delegates_to_any_service() {
    let realm = delegation_realm("\"RequireOkAsDelegate\"=dword:00000000\n");
    let (_second_registry, second) = second_service(&realm);
    let client = client_of(&realm.host(), "Kerberos", "alice");
    let done = loopback::handshake(&client, &second, Some(SECOND_SERVICE), DELEGATE, ASC_REQ)
        .expect("handshake");
    assert!(done.client_step.attributes.contains(IscRet::DELEGATE));
    let delegated = done.server.delegated_credentials().unwrap();
    assert!(delegated.is_some(), "MIT's rule: delegate when asked");
}

#[test]
fn no_delegation_with_a_tgt_that_is_not_forwardable() {
    let realm = delegation_realm("");
    let host = realm.host();
    let client = client_of(&host, "Kerberos", "carol");
    let server = server_of(&host, "Kerberos");
    let done = loopback::handshake(&client, &server, Some("host/localhost"), DELEGATE, ASC_REQ)
        .expect("the context is made without delegation");
    assert!(!done.client_step.attributes.contains(IscRet::DELEGATE));
    assert!(done.server.delegated_credentials().unwrap().is_none());
    assert_eq!(done.server.names().unwrap(), format!("carol@{REALM}"));
}

#[test]
fn negotiate_hands_over_the_kerberos_delegation_as_negotiate_credentials() {
    let realm = delegation_realm("");
    let text = registry_text(&realm.kdc.addr().to_string(), "").replace(
        "\"Providers\"=\"sspi_kerberos.dll\"",
        "\"Providers\"=\"sspi_kerberos.dll, sspi_negotiate.dll\"",
    );
    let negotiate_text = format!(
        "{text}\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Negotiate]\n\"Packages\"=\"Kerberos\"\n"
    );
    let registry = RegistryFile::new(&negotiate_text);
    std::fs::copy(
        realm.registry.dir.path().join("service.keytab"),
        registry.dir.path().join("service.keytab"),
    )
    .unwrap();
    let host = registry.host();
    let client = client_of(&host, "Negotiate", "alice");
    let server = server_of(&host, "Negotiate");
    let done = loopback::handshake(&client, &server, Some("host/localhost"), DELEGATE, ASC_REQ)
        .expect("handshake");
    assert!(done.server_step.attributes.contains(AscRet::DELEGATE));
    let delegated = done
        .server
        .delegated_credentials()
        .unwrap()
        .expect("delegated through Negotiate");
    assert_eq!(delegated.package_name(), "Negotiate");
    assert_eq!(
        delegated.query_credentials_names().unwrap(),
        format!("alice@{REALM}")
    );
    // The second service runs Negotiate too (its own registry and keytab).
    let text2 = negotiate_text.replace(
        "\"ServicePrincipal\"=\"host/localhost\"",
        "\"ServicePrincipal\"=\"HTTP/localhost\"",
    );
    let registry2 = RegistryFile::new(&text2);
    let db = sspi_kdc::Database::parse(DATABASE, REALM, "test-database").unwrap();
    std::fs::write(
        registry2.dir.path().join("service.keytab"),
        db.keytab(&[SECOND_SERVICE]).unwrap().to_bytes().unwrap(),
    )
    .unwrap();
    let second = server_of(&registry2.host(), "Negotiate");
    let onward = loopback::handshake(&delegated, &second, Some(SECOND_SERVICE), ISC_REQ, ASC_REQ)
        .expect("Negotiate with the delegated credentials");
    assert_eq!(onward.server.names().unwrap(), format!("alice@{REALM}"));
    assert_eq!(
        onward
            .server
            .negotiation_info()
            .unwrap()
            .expect("negotiated")
            .package
            .name
            .as_str(),
        "Kerberos"
    );
}
