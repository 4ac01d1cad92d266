//! Delegation between our Kerberos package and MIT Kerberos 1.20's GSS-API
//! (`scripts/mit-krb5/gss_delegation_peer.py`) with an MIT KDC on loopback
//! (`scripts/mit-krb5/realm.sh`: host/localhost is ok_as_delegate,
//! HTTP/localhost is the second service):
//!
//! * our initiator with ISC_REQ_DELEGATE -> MIT's acceptor gets delegated
//!   credentials (`delegated_cred_handle`) and uses them to authenticate as
//!   alice to HTTP/localhost; to a service that is not ok_as_delegate we
//!   delegate nothing;
//! * MIT's initiator with GSS_C_DELEG_FLAG after `kinit -f` -> our acceptor
//!   hands out alice's credentials, and with them our client gets a ticket
//!   for HTTP/localhost from the MIT KDC and is accepted there; after a plain
//!   `kinit` (not forwardable) MIT delegates nothing and we report none.
//!
//! Without the peers the tests print a loud notice and pass without checking
//! anything, except under CI (`CI=true`), where they fail; the project's
//! install scripts (`scripts/mit-krb5/install.sh`, `scripts/spnego/install.sh`)
//! install them.

#[path = "common/spnego_peers.rs"]
mod peers;

use peers::{MIT_REALM, MitRealm, Peer, PeerLine, kinit_with, mit_realm};
use sspi_core::{CredentialUse, IscReq, IscRet, SecBuffer, SecBufferRef, SecurityStatus};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle, loopback};
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile};
use std::path::Path;

const DELEGATE: IscReq = IscReq(ISC_REQ.0 | IscReq::DELEGATE.0);

fn alice() -> String {
    format!("alice@{MIT_REALM}")
}

/// Our package in the MIT realm, as the service `service` with `keytab`.
fn registry(realm: &MitRealm, service: &str, keytab: &str) -> RegistryFile {
    let keytab = realm.dir.path().join(keytab);
    RegistryFile::new(&format!(
        r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_kerberos.dll"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos]
"DefaultRealm"="{MIT_REALM}"
"Keytab"="{}"
"ServicePrincipal"="{service}"
"DefaultUser"="alice"
"DefaultPassword"="alice-password"
"ReplayCachePath"="replay.rcache"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos\Domains\{MIT_REALM}]
"KdcNames"="127.0.0.1:{}"
"#,
        keytab.display(),
        realm.port
    ))
}

fn credentials(registry: &RegistryFile, use_: CredentialUse) -> CredentialsHandle {
    registry
        .host()
        .acquire_credentials_handle("Kerberos", None, use_, None)
        .expect("credentials")
}

/// The MIT acceptor: the second service is HTTP/localhost with second.keytab.
fn mit_acceptor(python: &Path, realm: &MitRealm, keytab: &str) -> Peer {
    let mut env = realm.env();
    let keytab = realm.dir.path().join(keytab);
    env.retain(|(k, _)| *k != "KRB5_KTNAME");
    env.push(("KRB5_KTNAME", format!("FILE:{}", keytab.display()).into()));
    let second = realm.dir.path().join("second.keytab");
    Peer::spawn(
        python,
        &peers::script("mit-krb5/gss_delegation_peer.py"),
        &["accept", "HTTP/localhost", &second.display().to_string()],
        &env,
    )
}

/// Our initiator (ISC_REQ_DELEGATE) to `target` against an MIT acceptor:
/// our final ISC flags.
fn drive_our_initiator(client: &CredentialsHandle, target: &str, peer: &mut Peer) -> IscRet {
    let mut context: Option<SecurityContextHandle> = None;
    let mut out = vec![0u8; 12_000];
    let mut output = [SecBuffer::token(&mut out)];
    let step = client
        .initialize_security_context(&mut context, Some(target), DELEGATE, &[], &mut output)
        .expect("ISC#1");
    assert_eq!(step.status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    peer.send(output[0].as_slice());
    let reply = peer.token();
    let mut out = vec![0u8; 12_000];
    let mut output = [SecBuffer::token(&mut out)];
    let step = client
        .initialize_security_context(
            &mut context,
            Some(target),
            DELEGATE,
            &[SecBufferRef::token(&reply)],
            &mut output,
        )
        .expect("ISC#2 takes MIT's AP-REP");
    assert_eq!(step.status, SecurityStatus::SEC_E_OK);
    step.attributes
}

#[test]
fn our_initiator_delegates_to_an_mit_acceptor_that_uses_the_credentials() {
    let Some(peers) = peers::peers("our_initiator_delegates_to_an_mit_acceptor") else {
        return;
    };
    let realm = mit_realm();
    let ours = registry(&realm, "host/localhost", "service.keytab");
    let client = credentials(&ours, CredentialUse::OUTBOUND);
    let mut peer = mit_acceptor(&peers.gss_python, &realm, "service.keytab");
    let flags = drive_our_initiator(&client, "host/localhost", &mut peer);
    assert!(flags.contains(IscRet::DELEGATE), "{flags:?}");
    assert_eq!(
        peer.next(),
        PeerLine::Ok {
            mech: "krb5".into(),
            name: alice()
        }
    );
    assert_eq!(
        peer.next(),
        PeerLine::Delegated {
            name: alice(),
            onward: alice()
        },
        "MIT's acceptor used our forwarded TGT for HTTP/localhost"
    );
    assert!(peer.exit_ok());
}

#[test]
fn our_initiator_does_not_delegate_to_an_mit_service_that_is_not_ok_as_delegate() {
    let Some(peers) = peers::peers("our_initiator_does_not_delegate_to_non_ok_as_delegate") else {
        return;
    };
    let realm = mit_realm();
    let ours = registry(&realm, "host/localhost", "service.keytab");
    let client = credentials(&ours, CredentialUse::OUTBOUND);
    let mut peer = mit_acceptor(&peers.gss_python, &realm, "second.keytab");
    let flags = drive_our_initiator(&client, "HTTP/localhost", &mut peer);
    assert!(!flags.contains(IscRet::DELEGATE), "{flags:?}");
    assert!(matches!(peer.next(), PeerLine::Ok { .. }));
    assert_eq!(peer.next(), PeerLine::NotDelegated);
    assert!(peer.exit_ok());
}

/// MIT's initiator (GSS_C_DELEG_FLAG, alice's ccache) to our acceptor: our
/// server context.
fn accept_mit_initiator(python: &Path, realm: &MitRealm) -> SecurityContextHandle {
    let ours = registry(realm, "host/localhost", "service.keytab");
    let server = credentials(&ours, CredentialUse::INBOUND);
    let mut peer = Peer::spawn(
        python,
        &peers::script("mit-krb5/gss_delegation_peer.py"),
        &["initiate", "host/localhost"],
        &realm.env(),
    );
    let ap_req = peer.token();
    let mut context = None;
    let mut out = vec![0u8; 12_000];
    let mut output = [SecBuffer::token(&mut out)];
    let step = server
        .accept_security_context(
            &mut context,
            ASC_REQ,
            &[SecBufferRef::token(&ap_req)],
            &mut output,
        )
        .expect("our acceptor takes MIT's AP-REQ");
    assert_eq!(step.status, SecurityStatus::SEC_E_OK);
    peer.send(output[0].as_slice());
    assert!(matches!(peer.next(), PeerLine::Ok { .. }));
    assert!(peer.exit_ok());
    let context = context.expect("a context");
    assert_eq!(context.names().unwrap(), alice());
    context
}

#[test]
fn mit_initiator_delegates_to_our_acceptor_whose_server_then_acts_as_alice() {
    let Some(peers) = peers::peers("mit_initiator_delegates_to_our_acceptor") else {
        return;
    };
    let realm = mit_realm();
    kinit_with(&realm.env(), &["-f"], &alice(), "alice-password");
    let context = accept_mit_initiator(&peers.gss_python, &realm);
    assert!(
        context
            .flags()
            .unwrap()
            .as_isc_ret()
            .contains(IscRet::DELEGATE)
    );
    let delegated = context
        .delegated_credentials()
        .unwrap()
        .expect("MIT delegated alice's forwarded TGT");
    assert_eq!(delegated.query_credentials_names().unwrap(), alice());
    // As alice, to HTTP/localhost: a ticket from the MIT KDC with the
    // delegated TGT, accepted by our second service.
    let second = registry(&realm, "HTTP/localhost", "second.keytab");
    let second_server = credentials(&second, CredentialUse::INBOUND);
    let onward = loopback::handshake(
        &delegated,
        &second_server,
        Some("HTTP/localhost"),
        ISC_REQ,
        ASC_REQ,
    )
    .expect("the delegated TGT gets a ticket from the MIT KDC");
    assert_eq!(onward.server.names().unwrap(), alice());
}

#[test]
fn mit_initiator_without_a_forwardable_tgt_delegates_nothing() {
    let Some(peers) = peers::peers("mit_initiator_without_a_forwardable_tgt") else {
        return;
    };
    let realm = mit_realm();
    kinit_with(&realm.env(), &[], &alice(), "alice-password");
    let context = accept_mit_initiator(&peers.gss_python, &realm);
    assert!(
        !context
            .flags()
            .unwrap()
            .as_isc_ret()
            .contains(IscRet::DELEGATE)
    );
    assert!(context.delegated_credentials().unwrap().is_none());
}
