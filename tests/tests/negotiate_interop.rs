//! Our Negotiate package against SPNEGO implementations we did not write,
//! each a separate process speaking hex lines (`scripts/spnego/*.py`,
//! installed by `scripts/spnego/install.sh`; harness `common/spnego_peers.rs`):
//!
//! * pyspnego (its own SPNEGO with pure-Python NTLM inside), both ways;
//! * MIT GSS-API's SPNEGO (python3-gssapi over libgssapi_krb5) with NTLM
//!   inside through Debian's gss-ntlmssp, both ways;
//! * MIT GSS-API's SPNEGO with Kerberos inside, both ways, with tickets from
//!   our KDC and from an MIT KDC;
//! * our client falling back to NTLM (its KDC down) against pyspnego and MIT.
//!
//! Each handshake is followed by sealed messages and MICs both ways. The
//! peer's wrap token goes into our DecryptMessage as it arrives, in one
//! SECBUFFER_STREAM buffer with an empty DATA buffer (MIT's Kerberos tokens
//! have RRC 0; NTLM peers send signature | sealed data), or, for NTLM, split
//! by hand into TOKEN and DATA: each form is tested. Our wrap token goes to
//! the peer in Windows' layout (TOKEN | DATA, RRC 28 for Kerberos) or, with
//! Kerberos, as the RRC 0 token EncryptMessage writes into
//! STREAM_HEADER / DATA / STREAM_TRAILER.
//!
//! Without the peers installed the tests say SKIPPED loudly and pass; under
//! CI (`CI=true`) they fail.

#[path = "common/negotiate_fixture.rs"]
mod fixture;
#[path = "common/spnego_peers.rs"]
mod peers;

use fixture::{Kdc, REALM, SERVICE};
use peers::{PEER_MESSAGE, Peer, PeerLine, Side, hex};
use sspi_core::{AuthIdentity, Qop, SecBuffer, SecBufferRef, SecBufferType};
use sspi_package_negotiate::oid::{KRB5, MS_KRB5, NTLMSSP};
use sspi_package_negotiate::token::{self, NegState};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle, SecurityHost};
use sspi_tests::{ASC_REQ, ISC_REQ};
use std::ffi::OsString;

/// What our side writes.
const OUR_MESSAGE: &[u8] = b"sspi-plug to peer";

/// `--user alice --domain SSPI-PLUG --password alice-password`.
const ALICE: [&str; 6] = [
    "--user",
    "alice",
    "--domain",
    "SSPI-PLUG",
    "--password",
    "alice-password",
];

/// The peers' NTLM users: SSPI-PLUG\alice, as our registry has her.
fn ntlm_env(dir: &std::path::Path) -> Vec<(&'static str, OsString)> {
    peers::ntlm_env(dir, &[("SSPI-PLUG", "alice", "alice-password")])
}

/// Runs our client against a peer acceptor; returns our context, the
/// tokens in wire order, and the peer's `OK` (mech, client name).
fn our_client(
    credentials: &CredentialsHandle,
    peer: &mut Peer,
) -> (SecurityContextHandle, peers::Legs, (String, String)) {
    let mut context = None;
    let mut legs = Vec::new();
    let mut input: Option<Vec<u8>> = None;
    loop {
        let mut out = vec![0u8; 48256];
        let mut output = [SecBuffer::token(&mut out)];
        let inputs: Vec<SecBufferRef<'_>> = input.iter().map(|t| SecBufferRef::token(t)).collect();
        let step = credentials
            .initialize_security_context(&mut context, Some(SERVICE), ISC_REQ, &inputs, &mut output)
            .unwrap_or_else(|e| panic!("our InitializeSecurityContext: {e} (legs {legs:?})"));
        let token = output[0].as_slice().to_vec();
        if !token.is_empty() {
            peer.send(&token);
            legs.push((Side::Initiator, token));
        }
        match peer.next() {
            PeerLine::Token(t) if step.needs_continue() => {
                legs.push((Side::Acceptor, t.clone()));
                input = Some(t);
            }
            PeerLine::Ok { mech, name } if !step.needs_continue() => {
                return (context.unwrap(), legs, (mech, name));
            }
            PeerLine::Ok { mech, name } => {
                // The peer completed; its last token (if any) was read
                // before: nothing more will come.
                panic!("the peer completed ({mech}, {name}) while we need more: {legs:?}")
            }
            other => panic!("peer: {other:?} after {legs:?}"),
        }
    }
}

/// Runs a peer initiator against our server; returns our context, the
/// tokens, and the peer's `OK`.
fn our_server(
    credentials: &CredentialsHandle,
    peer: &mut Peer,
) -> (SecurityContextHandle, peers::Legs, (String, String)) {
    let mut context = None;
    let mut legs = Vec::new();
    let mut done = false;
    loop {
        match peer.next() {
            PeerLine::Token(t) => {
                assert!(!done, "the peer sent a token after we completed");
                legs.push((Side::Initiator, t.clone()));
                let mut out = vec![0u8; 48256];
                let mut output = [SecBuffer::token(&mut out)];
                let step = credentials
                    .accept_security_context(
                        &mut context,
                        ASC_REQ,
                        &[SecBufferRef::token(&t)],
                        &mut output,
                    )
                    .unwrap_or_else(|e| panic!("our AcceptSecurityContext: {e} (legs {legs:?})"));
                let token = output[0].as_slice().to_vec();
                if !token.is_empty() {
                    peer.send(&token);
                    legs.push((Side::Acceptor, token));
                }
                done = !step.needs_continue();
            }
            PeerLine::Ok { mech, name } => {
                assert!(done, "the peer completed before us: {legs:?}");
                return (context.unwrap(), legs, (mech, name));
            }
            other => panic!("peer: {other:?} after {legs:?}"),
        }
    }
}

/// The package our context negotiated.
fn negotiated(context: &SecurityContextHandle) -> (String, String) {
    let info = context
        .negotiation_info()
        .unwrap()
        .expect("negotiation info");
    (info.package.name.to_string(), info.fallback.to_string())
}

/// How we open the peer's wrap token.
#[derive(Clone, Copy, Debug)]
enum Theirs {
    /// The whole token in one SECBUFFER_STREAM buffer, an empty DATA buffer.
    Stream,
    /// Split by hand: the first `cbSecurityTrailer` bytes in TOKEN, the rest
    /// in DATA (NTLM's layout is fixed: signature then data).
    Split,
}

/// How we write our wrap token.
#[derive(Clone, Copy, Debug)]
enum Ours {
    /// `[TOKEN, DATA]`, sent as TOKEN | DATA.
    Token,
    /// `[STREAM_HEADER, DATA, STREAM_TRAILER]` (Kerberos), sent as the three in order.
    Stream,
}

/// After both sides completed: the peer's sealed message and MIC to us
/// (its wrap token opened as `theirs` says), ours (written as `ours_form`
/// says) to it.
fn messages(
    ours: &mut SecurityContextHandle,
    peer: &mut Peer,
    theirs_form: Theirs,
    ours_form: Ours,
) {
    let theirs = peer.messages();
    let sizes = ours.sizes().unwrap();
    match theirs_form {
        Theirs::Stream => {
            let mut stream = theirs.wrap.clone();
            let mut message = [
                SecBuffer::new(SecBufferType::STREAM, &mut stream),
                SecBuffer::data(&mut []),
            ];
            ours.decrypt_message(&mut message, 0)
                .expect("we unseal the peer's wrap token from a STREAM buffer");
            assert_eq!(message[1].as_slice(), PEER_MESSAGE.as_bytes());
        }
        Theirs::Split => {
            let trailer = sizes.security_trailer as usize;
            let mut token = theirs.wrap[..trailer].to_vec();
            let mut data = theirs.wrap[trailer..].to_vec();
            let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
            ours.decrypt_message(&mut message, 0)
                .expect("we unseal the peer's wrap token split into TOKEN and DATA");
            assert_eq!(message[1].as_slice(), PEER_MESSAGE.as_bytes());
        }
    }
    let mut data = theirs.message.clone();
    let mut mic = theirs.mic.clone();
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut mic)];
    ours.verify_signature(&mut message, 0)
        .expect("the peer's MIC verifies with our context");

    let wrap = match ours_form {
        Ours::Token => {
            let mut token = vec![0u8; sizes.security_trailer as usize];
            let mut data = OUR_MESSAGE.to_vec();
            let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
            ours.encrypt_message(Qop::DEFAULT, &mut message, 0).unwrap();
            let len = message[0].len();
            token.truncate(len);
            [token, data].concat()
        }
        Ours::Stream => {
            let mut head = vec![0u8; sizes.security_trailer as usize];
            let mut trail = vec![0u8; sizes.security_trailer as usize];
            let mut data = OUR_MESSAGE.to_vec();
            let mut message = [
                SecBuffer::new(SecBufferType::STREAM_HEADER, &mut head),
                SecBuffer::data(&mut data),
                SecBuffer::new(SecBufferType::STREAM_TRAILER, &mut trail),
            ];
            ours.encrypt_message(Qop::DEFAULT, &mut message, 0).unwrap();
            let (h, t) = (message[0].len(), message[2].len());
            assert_eq!(head[6..8], [0, 0], "RRC 0, as MIT writes it");
            [&head[..h], &data[..], &trail[..t]].concat()
        }
    };
    let mut data = OUR_MESSAGE.to_vec();
    let mut signature = vec![0u8; sizes.max_signature as usize];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
    ours.make_signature(Qop::DEFAULT, &mut message, 0).unwrap();
    let len = message[1].len();
    signature.truncate(len);
    peer.send_wrap(&wrap);
    peer.send_mic(&signature, OUR_MESSAGE);
    match peer.next() {
        PeerLine::Unwrapped { text, sealed } => {
            assert_eq!(text.as_bytes(), OUR_MESSAGE);
            assert!(sealed, "our EncryptMessage seals");
        }
        other => panic!("the peer did not unwrap our message: {other:?}"),
    }
    assert_eq!(peer.next(), PeerLine::Verified, "the peer verifies our MIC");
    assert!(peer.exit_ok(), "the peer exited with an error");
}

/// The NTLM exchange in SPNEGO: NegTokenInit [NTLM] + NEGOTIATE;
/// CHALLENGE; AUTHENTICATE + mechListMIC; accept-completed + mechListMIC.
fn check_ntlm_legs(legs: &peers::Legs, what: &str) {
    for (side, t) in legs {
        eprintln!(
            "{what}: {side:?} {} bytes {}",
            t.len(),
            hex(&t[..t.len().min(40)])
        );
    }
    let sides: Vec<Side> = legs.iter().map(|l| l.0).collect();
    assert_eq!(
        sides,
        [
            Side::Initiator,
            Side::Acceptor,
            Side::Initiator,
            Side::Acceptor
        ],
        "{what}"
    );
    let init = token::decode_init(&legs[0].1).expect("NegTokenInit");
    assert_eq!(init.mech_types, [NTLMSSP], "{what}");
    let auth = token::decode_resp(&legs[2].1).expect("AUTHENTICATE leg");
    assert!(
        auth.mech_list_mic.is_some(),
        "{what}: the client's mechListMIC"
    );
    let last = token::decode_resp(&legs[3].1).expect("last leg");
    assert_eq!(last.neg_state, Some(NegState::AcceptCompleted), "{what}");
    assert!(
        last.mech_list_mic.is_some(),
        "{what}: the server's mechListMIC"
    );
}

/// A site with the KDC down: our Negotiate falls back to NTLM.
fn ntlm_site() -> fixture::Site {
    fixture::site(Kdc::Down, "")
}

#[test]
fn pyspnego_client_to_our_negotiate_server() {
    let Some(p) = peers::peers("pyspnego -> our Negotiate (NTLM)") else {
        return;
    };
    let site = ntlm_site();
    let host = site.host();
    let credentials = fixture::server(&host, "Negotiate", None);
    let dir = tempfile::tempdir().unwrap();
    let mut peer = Peer::pyspnego(
        &p,
        &[&["initiate"], &ALICE[..]].concat(),
        &ntlm_env(dir.path()),
    );
    let (mut ours, legs, ok) = our_server(&credentials, &mut peer);
    check_ntlm_legs(&legs, "pyspnego -> ours");
    assert_eq!(ok.0, "ntlm");
    assert_eq!(negotiated(&ours).0, "NTLM");
    assert_eq!(ours.names().unwrap(), "SSPI-PLUG\\alice");
    messages(&mut ours, &mut peer, Theirs::Stream, Ours::Token);
}

#[test]
fn our_negotiate_client_to_pyspnego_server_after_falling_back() {
    let Some(p) = peers::peers("our Negotiate (NTLM) -> pyspnego") else {
        return;
    };
    // Kerberos is configured but its KDC is down: the client falls back to
    // NTLM before sending anything (pyspnego's acceptor takes only NTLM).
    let site = ntlm_site();
    let host = site.host();
    let credentials = fixture::client(&host, "Negotiate", None);
    let dir = tempfile::tempdir().unwrap();
    let mut peer = Peer::pyspnego(&p, &["accept"], &ntlm_env(dir.path()));
    let (mut ours, legs, ok) = our_client(&credentials, &mut peer);
    check_ntlm_legs(&legs, "ours -> pyspnego");
    assert_eq!(ok, ("ntlm".to_string(), "SSPI-PLUG\\alice".to_string()));
    let (package, fallback) = negotiated(&ours);
    assert_eq!(package, "NTLM");
    assert!(fallback.starts_with("Kerberos: "), "{fallback}");
    messages(&mut ours, &mut peer, Theirs::Split, Ours::Token);
}

#[test]
fn our_negotiate_client_narrowed_to_ntlm_to_pyspnego_server() {
    let Some(p) = peers::peers("our Negotiate (PackageList ntlm) -> pyspnego") else {
        return;
    };
    let site = fixture::site(Kdc::Running, "");
    let host = site.host();
    let credentials = fixture::client(
        &host,
        "Negotiate",
        Some(AuthIdentity::package_list_only("ntlm")),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut peer = Peer::pyspnego(&p, &["accept"], &ntlm_env(dir.path()));
    let (mut ours, legs, _) = our_client(&credentials, &mut peer);
    check_ntlm_legs(&legs, "ours (ntlm) -> pyspnego");
    assert_eq!(negotiated(&ours), ("NTLM".into(), String::new()));
    messages(&mut ours, &mut peer, Theirs::Stream, Ours::Token);
}

#[test]
fn mit_spnego_ntlm_client_to_our_negotiate_server() {
    let Some(p) = peers::peers("MIT SPNEGO (gss-ntlmssp) -> our Negotiate") else {
        return;
    };
    let site = ntlm_site();
    let host = site.host();
    let credentials = fixture::server(&host, "Negotiate", None);
    let dir = tempfile::tempdir().unwrap();
    let args = [
        &["initiate", "host@localhost", "--mechs", "ntlm"],
        &ALICE[..],
    ]
    .concat();
    let mut peer = Peer::mit(&p, &args, &ntlm_env(dir.path()));
    let (mut ours, legs, ok) = our_server(&credentials, &mut peer);
    check_ntlm_legs(&legs, "MIT -> ours");
    assert_eq!(ok.0, "ntlm");
    assert_eq!(ours.names().unwrap(), "SSPI-PLUG\\alice");
    messages(&mut ours, &mut peer, Theirs::Stream, Ours::Token);
}

#[test]
fn our_negotiate_client_to_mit_spnego_ntlm_server() {
    let Some(p) = peers::peers("our Negotiate -> MIT SPNEGO (gss-ntlmssp)") else {
        return;
    };
    let site = ntlm_site();
    let host = site.host();
    let credentials = fixture::client(&host, "Negotiate", None);
    let dir = tempfile::tempdir().unwrap();
    let mut peer = Peer::mit(&p, &["accept", "--mechs", "ntlm"], &ntlm_env(dir.path()));
    let (mut ours, legs, ok) = our_client(&credentials, &mut peer);
    check_ntlm_legs(&legs, "ours -> MIT");
    assert_eq!(ok.0, "ntlm");
    assert!(ok.1.to_ascii_lowercase().contains("alice"), "{ok:?}");
    messages(&mut ours, &mut peer, Theirs::Split, Ours::Token);
}

/// The MIT environment for our KDC's realm (its keytab from the site).
fn our_realm_env(site: &fixture::Site, dir: &std::path::Path) -> Vec<(&'static str, OsString)> {
    let kdc = site.kdc.as_ref().expect("the KDC runs").addr().to_string();
    let conf = peers::krb5_conf(dir, "krb5.conf", REALM, &kdc);
    let keytab = site.registry.dir.path().join("service.keytab");
    peers::krb5_env(dir, &conf, &keytab)
}

/// The Kerberos exchange in SPNEGO, as Windows and MIT do it when Kerberos
/// is both sides' first choice: AP-REQ, then accept-completed + AP-REP.
fn check_kerberos_legs(legs: &peers::Legs, what: &str) {
    for (side, t) in legs {
        eprintln!(
            "{what}: {side:?} {} bytes {}",
            t.len(),
            hex(&t[..t.len().min(40)])
        );
    }
    assert_eq!(legs.len(), 2, "{what}: {legs:?}");
    let init = token::decode_init(&legs[0].1).expect("NegTokenInit");
    assert!(
        init.mech_types.first() == Some(&KRB5) || init.mech_types.first() == Some(&MS_KRB5),
        "{what}: {:?}",
        init.mech_types
    );
    let reply = token::decode_resp(&legs[1].1).expect("reply");
    assert_eq!(reply.neg_state, Some(NegState::AcceptCompleted), "{what}");
    assert!(reply.response_token.is_some(), "{what}: the AP-REP");
}

#[test]
fn mit_spnego_kerberos_client_to_our_negotiate_server_with_our_kdc() {
    let Some(p) = peers::peers("MIT SPNEGO (Kerberos) -> our Negotiate, our KDC") else {
        return;
    };
    let site = fixture::site(Kdc::Running, "");
    let host = site.host();
    let dir = tempfile::tempdir().unwrap();
    let env = our_realm_env(&site, dir.path());
    peers::kinit(&env, &format!("alice@{REALM}"), "alice-password");
    let credentials = fixture::server(&host, "Negotiate", None);
    let mut peer = Peer::mit(&p, &["initiate", "host@localhost"], &env);
    let (mut ours, legs, ok) = our_server(&credentials, &mut peer);
    check_kerberos_legs(&legs, "MIT -> ours");
    assert_eq!(ok.0, "krb5");
    assert_eq!(negotiated(&ours).0, "Kerberos");
    assert_eq!(ours.names().unwrap(), format!("alice@{REALM}"));
    messages(&mut ours, &mut peer, Theirs::Stream, Ours::Token);
}

#[test]
fn our_negotiate_client_to_mit_spnego_kerberos_server_with_our_kdc() {
    let Some(p) = peers::peers("our Negotiate -> MIT SPNEGO (Kerberos), our KDC") else {
        return;
    };
    let site = fixture::site(Kdc::Running, "");
    let host = site.host();
    let dir = tempfile::tempdir().unwrap();
    let env = our_realm_env(&site, dir.path());
    let credentials = fixture::client(&host, "Negotiate", None);
    let mut peer = Peer::mit(&p, &["accept"], &env);
    let (mut ours, legs, ok) = our_client(&credentials, &mut peer);
    check_kerberos_legs(&legs, "ours -> MIT");
    assert_eq!(ok, ("krb5".to_string(), format!("alice@{REALM}")));
    assert_eq!(negotiated(&ours), ("Kerberos".into(), String::new()));
    messages(&mut ours, &mut peer, Theirs::Stream, Ours::Stream);
}

/// A host whose Kerberos realm is the MIT realm `realm`.
fn mit_site_host(realm: &peers::MitRealm) -> (sspi_tests::RegistryFile, SecurityHost) {
    let keytab = realm.dir.path().join("service.keytab");
    let registry = sspi_tests::RegistryFile::new(&fixture::registry_text_for(
        peers::MIT_REALM,
        &format!("127.0.0.1:{}", realm.port),
        &keytab.display().to_string(),
        fixture::PROVIDERS,
        "",
    ));
    let host = registry.host();
    (registry, host)
}

#[test]
fn mit_spnego_kerberos_both_ways_with_an_mit_kdc() {
    let Some(p) = peers::peers("MIT SPNEGO (Kerberos) <-> our Negotiate, MIT KDC") else {
        return;
    };
    let realm = peers::mit_realm();
    let (_registry, host) = mit_site_host(&realm);
    // MIT's client, ticket from MIT's KDC, to our server reading MIT's keytab.
    realm.kinit_alice();
    let credentials = fixture::server(&host, "Negotiate", None);
    let mut peer = Peer::mit(&p, &["initiate", "host@localhost"], &realm.env());
    let (mut ours, legs, _) = our_server(&credentials, &mut peer);
    check_kerberos_legs(&legs, "MIT -> ours (MIT KDC)");
    assert_eq!(ours.names().unwrap(), format!("alice@{}", peers::MIT_REALM));
    messages(&mut ours, &mut peer, Theirs::Stream, Ours::Stream);

    // Our client, ticket from MIT's KDC, to MIT's server.
    let credentials = fixture::client(&host, "Negotiate", None);
    let mut peer = Peer::mit(&p, &["accept"], &realm.env());
    let (mut ours, legs, ok) = our_client(&credentials, &mut peer);
    check_kerberos_legs(&legs, "ours -> MIT (MIT KDC)");
    assert_eq!(ok.1, format!("alice@{}", peers::MIT_REALM));
    messages(&mut ours, &mut peer, Theirs::Stream, Ours::Token);
}

#[test]
fn a_peer_with_another_password_is_refused() {
    let Some(p) = peers::peers("pyspnego with a wrong password -> our Negotiate") else {
        return;
    };
    let site = ntlm_site();
    let host = site.host();
    let credentials = fixture::server(&host, "Negotiate", None);
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "initiate",
        "--user",
        "alice",
        "--domain",
        "SSPI-PLUG",
        "--password",
        "not-her-password",
    ];
    let mut peer = Peer::pyspnego(&p, &args, &ntlm_env(dir.path()));
    let mut context = None;
    let mut status = None;
    for _ in 0..4 {
        let PeerLine::Token(t) = peer.next() else {
            break;
        };
        let mut out = vec![0u8; 48256];
        let mut output = [SecBuffer::token(&mut out)];
        match credentials.accept_security_context(
            &mut context,
            ASC_REQ,
            &[SecBufferRef::token(&t)],
            &mut output,
        ) {
            Ok(_) => peer.send(output[0].as_slice()),
            Err(e) => {
                status = Some(e.status());
                break;
            }
        }
    }
    assert_eq!(status, Some(sspi_core::SecurityStatus::SEC_E_LOGON_DENIED));
}
