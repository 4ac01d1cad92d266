//! The Negotiate package end to end: the real Kerberos, NTLM and Negotiate
//! plugins loaded through a registry file, the embedded KDC on loopback.
//!
//! * Kerberos when the KDC answers, NTLM (with the mechListMIC) when it does
//!   not, and SEC_E_NO_AUTHENTICATING_AUTHORITY when fallback is disallowed;
//! * PackageList narrowing, a server counter-proposal (request-mic), raw NTLM
//!   and Kerberos tokens accepted by a Negotiate server;
//! * downgrades (a stripped or reordered mechanism list) and stripped or
//!   tampered mechListMICs refused;
//! * composition errors (missing, not negotiable, cycle) naming file:line.

#[path = "common/negotiate_fixture.rs"]
mod fixture;

use fixture::{Kdc, SERVICE, client, server};
use sspi_core::{
    AuthIdentity, NegotiationState, Qop, SecBuffer, SecBufferRef, SecurityError, SecurityStatus,
};
use sspi_package_negotiate::oid::{KRB5, MS_KRB5, NTLMSSP, Oid};
use sspi_package_negotiate::token::{self, NegState};
use sspi_plugin_host::loopback::{self, CompletedHandshake};
use sspi_plugin_host::{
    ContextAttribute, ContextAttributeValue, CredentialsHandle, SecurityContextHandle, SecurityHost,
};
use sspi_tests::{ASC_REQ, ISC_REQ};

fn handshake(
    client: &CredentialsHandle,
    server: &CredentialsHandle,
) -> Result<CompletedHandshake, SecurityError> {
    loopback::handshake(client, server, Some(SERVICE), ISC_REQ, ASC_REQ)
}

/// The tokens that crossed.
fn tokens(done: &CompletedHandshake) -> usize {
    done.legs.iter().filter(|leg| leg.token_len > 0).count()
}

fn negotiated(context: &SecurityContextHandle) -> (String, NegotiationState, String) {
    let info = context
        .negotiation_info()
        .expect("NEGOTIATION_INFO")
        .expect("a Negotiate context reports what it negotiated");
    (
        info.package.name.to_string(),
        info.state,
        info.fallback.to_string(),
    )
}

/// Seals and signs both ways.
fn messages_both_ways(a: &mut SecurityContextHandle, b: &mut SecurityContextHandle) {
    messages(a, b);
    messages(b, a);
}

/// Seals and signs three messages from `from` to `to`.
fn messages(from: &mut SecurityContextHandle, to: &mut SecurityContextHandle) {
    {
        for round in 0..3u8 {
            let text = [b"negotiated message ".as_slice(), &[round]].concat();
            let sizes = from.sizes().expect("sizes");
            let mut data = text.clone();
            let mut trailer = vec![0u8; sizes.security_trailer as usize];
            let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
            from.encrypt_message(Qop::DEFAULT, &mut message, 0)
                .expect("encrypt");
            let len = message[0].len();
            trailer.truncate(len);
            assert_ne!(data, text, "sealed");
            let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
            to.decrypt_message(&mut message, 0).expect("decrypt");
            assert_eq!(message[1].as_slice(), text.as_slice());

            let mut data = text.clone();
            let mut signature = vec![0u8; sizes.max_signature as usize];
            let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
            from.make_signature(Qop::DEFAULT, &mut message, 0)
                .expect("sign");
            let len = message[1].len();
            signature.truncate(len);
            let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
            to.verify_signature(&mut message, 0).expect("verify");
        }
    }
}

/// The client's first token: NegTokenInit, GSS-framed.
fn first_token(host: &SecurityHost, identity: Option<AuthIdentity>) -> Vec<u8> {
    let credentials = client(host, "Negotiate", identity);
    let mut context = None;
    let mut out = vec![0u8; 48256];
    let mut output = [SecBuffer::token(&mut out)];
    credentials
        .initialize_security_context(&mut context, Some(SERVICE), ISC_REQ, &[], &mut output)
        .expect("first leg");
    output[0].as_slice().to_vec()
}

#[test]
fn kerberos_is_negotiated_when_the_kdc_answers() {
    let site = fixture::site(Kdc::Running, "");
    let host = site.host();
    let first = first_token(&host, None);
    // 60 .. 06 06 2b0601050502: SPNEGO; mechTypes as Windows sends them.
    assert_eq!(first[0], 0x60);
    assert!(
        first
            .windows(8)
            .any(|w| w == [0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02])
    );
    let init = token::decode_init(&first).expect("NegTokenInit");
    assert_eq!(init.mech_types, [MS_KRB5, KRB5, NTLMSSP]);
    assert!(
        init.mech_token.as_ref().is_some_and(|t| t[0] == 0x60),
        "an optimistic AP-REQ"
    );
    assert_eq!(init.mech_list_mic, None);

    let (c, s) = (
        client(&host, "Negotiate", None),
        server(&host, "Negotiate", None),
    );
    let mut done = handshake(&c, &s).expect("handshake");
    // AP-REQ, then AP-REP with accept-completed: no MIC when Kerberos is
    // both sides' first choice (as Windows does).
    assert_eq!(tokens(&done), 2, "{:?}", done.legs);
    for side in [&done.client, &done.server] {
        assert_eq!(
            negotiated(side),
            ("Kerberos".into(), NegotiationState::Complete, String::new())
        );
        assert_eq!(side.package_name(), "Negotiate");
        let ContextAttributeValue::PackageInfo(info) = side
            .query_context_attributes(ContextAttribute::PackageInfo)
            .unwrap()
        else {
            unreachable!()
        };
        assert_eq!(info.name.as_str(), "Kerberos");
    }
    assert_eq!(done.server.names().unwrap(), "alice@SSPI-PLUG.TEST");
    assert_eq!(
        done.client.session_key().unwrap().expose(),
        done.server.session_key().unwrap().expose()
    );
    messages_both_ways(&mut done.client, &mut done.server);
}

#[test]
fn ntlm_is_negotiated_with_the_mech_list_mic_when_the_kdc_is_down() {
    let site = fixture::site(Kdc::Down, "");
    let host = site.host();
    let first = first_token(&host, None);
    let init = token::decode_init(&first).expect("NegTokenInit");
    // Kerberos failed before anything was sent: it is left out of the list.
    assert_eq!(init.mech_types, [NTLMSSP]);
    assert!(
        init.mech_token
            .as_ref()
            .is_some_and(|t| t.starts_with(b"NTLMSSP\0"))
    );

    let (c, s) = (
        client(&host, "Negotiate", None),
        server(&host, "Negotiate", None),
    );
    let mut done = handshake(&c, &s).expect("handshake");
    // NEGOTIATE, CHALLENGE, AUTHENTICATE + MIC, accept-completed + MIC.
    assert_eq!(tokens(&done), 4, "{:?}", done.legs);
    let (package, state, fallback) = negotiated(&done.client);
    assert_eq!(
        (package.as_str(), state),
        ("NTLM", NegotiationState::Complete)
    );
    assert!(
        fallback.starts_with("Kerberos: ")
            && fallback.contains("SEC_E_NO_AUTHENTICATING_AUTHORITY"),
        "{fallback}"
    );
    assert_eq!(negotiated(&done.server).0, "NTLM");
    assert_eq!(done.server.names().unwrap(), "SSPI-PLUG\\alice");
    // The application's messages after the RC4 restarts line up both ways.
    messages_both_ways(&mut done.client, &mut done.server);
}

#[test]
fn without_fallback_a_dead_kdc_is_no_authenticating_authority() {
    let site = fixture::site(Kdc::Down, r#""AllowNtlmFallback"=dword:00000000"#);
    let host = site.host();
    let (c, s) = (
        client(&host, "Negotiate", None),
        server(&host, "Negotiate", None),
    );
    let error = handshake(&c, &s).unwrap_err();
    assert_eq!(
        error.status(),
        SecurityStatus::SEC_E_NO_AUTHENTICATING_AUTHORITY
    );
    assert!(
        error.message().contains("AllowNtlmFallback") && error.message().contains("Kerberos"),
        "{error}"
    );
}

#[test]
fn a_package_list_narrows_the_packages() {
    let site = fixture::site(Kdc::Running, "");
    let host = site.host();
    // "!kerberos": NTLM, and no fallback is reported (nothing failed).
    let identity = AuthIdentity::package_list_only("!kerberos");
    let init = token::decode_init(&first_token(&host, Some(identity.clone()))).unwrap();
    assert_eq!(init.mech_types, [NTLMSSP]);
    let c = client(&host, "Negotiate", Some(identity));
    let s = server(&host, "Negotiate", None);
    let mut done = handshake(&c, &s).expect("handshake");
    assert_eq!(
        negotiated(&done.client),
        ("NTLM".into(), NegotiationState::Complete, String::new())
    );
    messages_both_ways(&mut done.client, &mut done.server);

    // An explicit identity with a package list: the user's own password.
    let identity =
        AuthIdentity::new("alice", "SSPI-PLUG", "alice-password").with_package_list("ntlm");
    let c = client(&host, "Negotiate", Some(identity));
    let done = handshake(&c, &s).expect("handshake");
    assert_eq!(done.server.names().unwrap(), "SSPI-PLUG\\alice");

    // A package Negotiate is not built from.
    let error = host
        .acquire_credentials_handle(
            "Negotiate",
            None,
            sspi_core::CredentialUse::OUTBOUND,
            Some(AuthIdentity::package_list_only("pku2u")),
        )
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_SECPKG_NOT_FOUND);
    assert!(error.message().contains("pku2u"), "{error}");
}

#[test]
fn the_server_counter_proposes_ntlm_with_request_mic() {
    let site = fixture::site(Kdc::Running, "");
    let host = site.host();
    let c = client(&host, "Negotiate", None);
    // The server takes NTLM only: the client's optimistic Kerberos token is void.
    let s = server(
        &host,
        "Negotiate",
        Some(AuthIdentity::package_list_only("NTLM")),
    );
    let mut client_context = None;
    let mut server_context = None;
    let mut out = vec![0u8; 48256];
    let mut output = [SecBuffer::token(&mut out)];
    c.initialize_security_context(
        &mut client_context,
        Some(SERVICE),
        ISC_REQ,
        &[],
        &mut output,
    )
    .unwrap();
    let init = output[0].as_slice().to_vec();
    let mut out = vec![0u8; 48256];
    let mut output = [SecBuffer::token(&mut out)];
    let step = s
        .accept_security_context(
            &mut server_context,
            ASC_REQ,
            &[SecBufferRef::token(&init)],
            &mut output,
        )
        .unwrap();
    assert_eq!(step.status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    let reply = token::decode_resp(output[0].as_slice()).unwrap();
    assert_eq!(reply.neg_state, Some(NegState::RequestMic));
    assert_eq!(reply.supported_mech, Some(NTLMSSP));
    assert_eq!(reply.response_token, None);

    let mut done = handshake(&c, &s).expect("handshake");
    assert_eq!(negotiated(&done.client).0, "NTLM");
    assert_eq!(negotiated(&done.server).0, "NTLM");
    messages_both_ways(&mut done.client, &mut done.server);
}

#[test]
fn raw_ntlm_and_kerberos_clients_are_accepted_directly() {
    let site = fixture::site(Kdc::Running, "");
    let host = site.host();
    let s = server(&host, "Negotiate", None);
    for package in ["NTLM", "Kerberos"] {
        let c = client(&host, package, None);
        let mut done = handshake(&c, &s).unwrap_or_else(|e| panic!("{package}: {e}"));
        assert_eq!(
            negotiated(&done.server),
            (package.to_owned(), NegotiationState::Direct, String::new())
        );
        assert!(done.client.negotiation_info().unwrap().is_none());
        messages_both_ways(&mut done.client, &mut done.server);
    }
}

/// Runs the handshake with `tamper` applied to every token on the way (its
/// arguments: the leg number from 0, client-to-server?, the token).
fn tampered_handshake(
    host: &SecurityHost,
    tamper: impl Fn(usize, bool, Vec<u8>) -> Vec<u8>,
) -> Result<(), SecurityError> {
    let c = client(host, "Negotiate", None);
    let s = server(host, "Negotiate", None);
    let (mut cc, mut sc) = (None, None);
    let mut to_client: Option<Vec<u8>> = None;
    for leg in 0..8 {
        let mut out = vec![0u8; 48256];
        let mut output = [SecBuffer::token(&mut out)];
        let input = to_client.take();
        let inputs: Vec<SecBufferRef<'_>> = input.iter().map(|t| SecBufferRef::token(t)).collect();
        let step =
            c.initialize_security_context(&mut cc, Some(SERVICE), ISC_REQ, &inputs, &mut output)?;
        let token = tamper(leg, true, output[0].as_slice().to_vec());
        if token.is_empty() {
            return Ok(());
        }
        let mut out = vec![0u8; 48256];
        let mut output = [SecBuffer::token(&mut out)];
        let server_step = s.accept_security_context(
            &mut sc,
            ASC_REQ,
            &[SecBufferRef::token(&token)],
            &mut output,
        )?;
        let token = tamper(leg, false, output[0].as_slice().to_vec());
        if !step.needs_continue() && !server_step.needs_continue() {
            return Ok(());
        }
        if token.is_empty() {
            return Ok(());
        }
        to_client = Some(token);
    }
    panic!("the handshake did not end")
}

/// The NegTokenInit with its mechanism list replaced by `mechs` and no optimistic token.
fn with_mechs(first: &[u8], mechs: &[Oid]) -> Vec<u8> {
    token::decode_init(first).expect("NegTokenInit");
    token::encode_init(&token::encode_mech_type_list(mechs), None, None)
}

#[test]
fn a_stripped_or_reordered_mechanism_list_is_refused() {
    let site = fixture::site(Kdc::Running, "");
    let host = site.host();
    for mechs in [vec![NTLMSSP], vec![NTLMSSP, MS_KRB5, KRB5]] {
        let error = tampered_handshake(&host, |leg, to_server, token| {
            if leg == 0 && to_server {
                with_mechs(&token, &mechs)
            } else {
                token
            }
        })
        .unwrap_err();
        assert_eq!(
            error.status(),
            SecurityStatus::SEC_E_INVALID_TOKEN,
            "{mechs:?}: {error}"
        );
        assert!(error.message().contains("mechListMIC"), "{error}");
        assert!(error.message().contains("downgrade"), "{error}");
    }
}

#[test]
fn a_stripped_or_altered_mech_list_mic_is_refused() {
    let site = fixture::site(Kdc::Down, "");
    let host = site.host();
    // The server's final accept-completed loses its MIC: the client refuses.
    let error = tampered_handshake(&host, |_, to_server, token| {
        match (!to_server, token::decode_resp(&token)) {
            (true, Ok(mut resp)) if resp.neg_state == Some(NegState::AcceptCompleted) => {
                resp.mech_list_mic = None;
                token::encode_resp(&resp)
            }
            _ => token,
        }
    })
    .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_INVALID_TOKEN);
    assert!(error.message().contains("mechListMIC"), "{error}");

    // The client's MIC loses its last byte's bits: the server refuses.
    let error = tampered_handshake(&host, |_, to_server, token| {
        match (to_server, token::decode_resp(&token)) {
            (true, Ok(mut resp)) if resp.mech_list_mic.is_some() => {
                if let Some(mic) = resp.mech_list_mic.as_mut() {
                    let last = mic.len() - 1;
                    mic[last] ^= 0xff;
                }
                token::encode_resp(&resp)
            }
            _ => token,
        }
    })
    .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_INVALID_TOKEN);
    assert!(error.message().contains("mechListMIC"), "{error}");

    // Untampered, the same site completes.
    tampered_handshake(&host, |_, _, token| token).expect("handshake");
}

#[test]
fn garbage_is_an_invalid_token_never_a_panic() {
    let site = fixture::site(Kdc::Running, "");
    let host = site.host();
    let s = server(&host, "Negotiate", None);
    for garbage in [
        &b"\xa1\x03\x30\x01"[..],
        b"\x60\x02\x06\x00",
        b"\x60\x80\x06\x06\x2b\x06\x01\x05\x05\x02\xa0\x00",
        b"hello",
        b"\x60\x0a\x06\x06\x2b\x06\x01\x05\x05\x02\xa0\x00",
    ] {
        let mut context = None;
        let mut out = vec![0u8; 48256];
        let mut output = [SecBuffer::token(&mut out)];
        let error = s
            .accept_security_context(
                &mut context,
                ASC_REQ,
                &[SecBufferRef::token(garbage)],
                &mut output,
            )
            .unwrap_err();
        assert_eq!(
            error.status(),
            SecurityStatus::SEC_E_INVALID_TOKEN,
            "{garbage:02x?}: {error}"
        );
    }
}

fn negotiate_unavailable(site: &fixture::Site) -> String {
    let host = site.host();
    let entry = host
        .enumerate_security_packages()
        .iter()
        .find(|p| p.name() == "Negotiate")
        .expect("Negotiate is listed");
    entry
        .unavailable()
        .expect("Negotiate is unavailable")
        .to_string()
}

#[test]
fn composition_errors_name_the_value_and_its_place() {
    let site = fixture::site(Kdc::Running, r#""Packages"="Kerberos, Nope""#);
    let reason = negotiate_unavailable(&site);
    assert!(
        reason.contains("sspi.reg:")
            && reason.contains("Negotiate\\Packages names Nope")
            && reason.contains("no provider library provides"),
        "{reason}"
    );

    let site = fixture::site_with(
        Kdc::Running,
        &format!("{}, sspi_test.dll", fixture::PROVIDERS),
        r#""Packages"="Test""#,
    );
    let reason = negotiate_unavailable(&site);
    assert!(
        reason.contains("names Test") && reason.contains("not SECPKG_FLAG_NEGOTIABLE"),
        "{reason}"
    );

    let site = fixture::site(Kdc::Running, r#""Packages"="NTLM, Negotiate""#);
    let reason = negotiate_unavailable(&site);
    assert!(reason.contains("cycle: Negotiate -> Negotiate"), "{reason}");

    // The default list leaves out what is not installed.
    let site = fixture::site_with(Kdc::Running, "sspi_ntlm.dll, sspi_negotiate.dll", "");
    let host = site.host();
    let init = token::decode_init(&first_token(&host, None)).unwrap();
    assert_eq!(init.mech_types, [NTLMSSP]);
}

#[test]
fn negotiate_opens_after_its_packages_whatever_the_providers_order() {
    let site = fixture::site_with(
        Kdc::Running,
        "sspi_negotiate.dll, sspi_ntlm.dll, sspi_kerberos.dll",
        "",
    );
    let host = site.host();
    let c = client(&host, "Negotiate", None);
    let s = server(&host, "Negotiate", None);
    let done = handshake(&c, &s).expect("handshake");
    assert_eq!(negotiated(&done.client).0, "Kerberos");
}

/// Every token of a loopback handshake, decoded: (client-to-server?, negState, has MIC).
fn wire(host: &SecurityHost) -> Vec<(bool, Option<NegState>, bool)> {
    let seen = std::cell::RefCell::new(Vec::new());
    tampered_handshake(host, |leg, to_server, token| {
        if !token.is_empty() {
            let entry = if leg == 0 && to_server {
                let init = token::decode_init(&token).expect("NegTokenInit");
                (true, None, init.mech_list_mic.is_some())
            } else {
                let resp = token::decode_resp(&token).expect("NegTokenResp");
                (to_server, resp.neg_state, resp.mech_list_mic.is_some())
            };
            seen.borrow_mut().push(entry);
        }
        token
    })
    .expect("handshake");
    seen.into_inner()
}

#[test]
fn require_mech_list_mic_makes_kerberos_exchange_mics() {
    let site = fixture::site(Kdc::Running, r#""RequireMechListMic"=dword:00000001"#);
    let host = site.host();
    // AP-REQ; AP-REP + the server's MIC (accept-incomplete); the client's MIC.
    assert_eq!(
        wire(&host),
        [
            (true, None, false),
            (false, Some(NegState::AcceptIncomplete), true),
            (true, Some(NegState::AcceptCompleted), true),
        ]
    );
    let c = client(&host, "Negotiate", None);
    let s = server(&host, "Negotiate", None);
    let mut done = handshake(&c, &s).expect("handshake");
    assert_eq!(negotiated(&done.server).0, "Kerberos");
    messages_both_ways(&mut done.client, &mut done.server);
}

#[test]
fn a_mechanism_that_is_not_the_servers_first_choice_needs_the_mics() {
    // The client prefers Kerberos, the server NTLM: the server takes the
    // client's first (Kerberos) but, not its own favourite, requires the MICs.
    let site = fixture::site(Kdc::Running, "");
    let host = site.host();
    let server_site = fixture::site(Kdc::Running, r#""Packages"="NTLM, Kerberos""#);
    let server_host = server_site.host();
    let c = client(&host, "Negotiate", None);
    let s = server(&server_host, "Negotiate", None);
    // Both sites' KDCs know the same service key (same database).
    let mut done = handshake(&c, &s).expect("handshake");
    assert_eq!(negotiated(&done.server).0, "Kerberos");
    // AP-REQ, AP-REP + MIC, the client's MIC.
    assert_eq!(tokens(&done), 3, "{:?}", done.legs);
    messages_both_ways(&mut done.client, &mut done.server);
}

#[test]
fn a_windows_neg_token_init2_is_answered_with_supported_mech_and_request_mic() {
    // MS-SPNG NegTokenInit2 (spnego-notes §9.3): NEGOEX, MS-KRB5, KRB5,
    // KRB5-U2U, NTLM and negHints, no optimistic token.
    let init2 = hex_bytes(
        "607606062b0601050502a06c306aa03c303a060a2b06010401823702021e\
         06092a864882f71201020206092a864886f712010202060a2a864886f71201020203\
         060a2b06010401823702020aa32a3028a0261b246e6f745f646566696e65645f696e\
         5f5246433431373840706c656173655f69676e6f7265",
    );
    let site = fixture::site(Kdc::Running, "");
    let host = site.host();
    let s = server(&host, "Negotiate", None);
    let mut context = None;
    let mut out = vec![0u8; 48256];
    let mut output = [SecBuffer::token(&mut out)];
    let step = s
        .accept_security_context(
            &mut context,
            ASC_REQ,
            &[SecBufferRef::token(&init2)],
            &mut output,
        )
        .expect("NegTokenInit2 accepted");
    assert_eq!(step.status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    let reply = token::decode_resp(output[0].as_slice()).unwrap();
    // NEGOEX is not offered here; Kerberos is, under the OID the client used.
    assert_eq!(reply.supported_mech, Some(MS_KRB5));
    assert_eq!(reply.neg_state, Some(NegState::RequestMic));
    assert_eq!(reply.response_token, None);
}

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn a_servers_reject_is_logon_denied() {
    let site = fixture::site(Kdc::Running, "");
    let host = site.host();
    let c = client(&host, "Negotiate", None);
    let mut context = None;
    let mut out = vec![0u8; 48256];
    let mut output = [SecBuffer::token(&mut out)];
    c.initialize_security_context(&mut context, Some(SERVICE), ISC_REQ, &[], &mut output)
        .unwrap();
    // MIT's reject: negState reject, nothing else (`a1 07 30 05 a0 03 0a 01 02`).
    let reject = [0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02];
    let mut out = vec![0u8; 48256];
    let mut output = [SecBuffer::token(&mut out)];
    let error = c
        .initialize_security_context(
            &mut context,
            Some(SERVICE),
            ISC_REQ,
            &[SecBufferRef::token(&reject)],
            &mut output,
        )
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_LOGON_DENIED);
    assert!(error.message().contains("rejected"), "{error}");
}

/// A site whose Kerberos key has no DefaultUser: Kerberos gives a client no credentials.
fn site_without_a_kerberos_user(negotiate: &str) -> fixture::Site {
    let site = fixture::site(Kdc::Running, negotiate);
    let text = std::fs::read_to_string(&site.registry.path).unwrap();
    let text = text.replace(
        "\"DefaultUser\"=\"alice\"\n\"DefaultPassword\"=\"alice-password\"\n",
        "",
    );
    assert!(text.contains("[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\NTLM]\n"));
    std::fs::write(&site.registry.path, text).unwrap();
    site
}

#[test]
fn no_kerberos_credentials_is_a_fallback_too() {
    // Kerberos gives no client credentials (no DefaultUser): NTLM is used, and
    // NEGOTIATION_INFO says why.
    let site = site_without_a_kerberos_user("");
    let host = site.host();
    let c = client(&host, "Negotiate", None);
    let s = server(&host, "Negotiate", None);
    let done = handshake(&c, &s).expect("handshake");
    let (package, _, fallback) = negotiated(&done.client);
    assert_eq!(package, "NTLM");
    assert!(
        fallback.starts_with("Kerberos: SEC_E_NO_CREDENTIALS"),
        "{fallback}"
    );

    // With AllowNtlmFallback 0 that is refused like a dead KDC.
    let site = site_without_a_kerberos_user(r#""AllowNtlmFallback"=dword:00000000"#);
    let host = site.host();
    let c = client(&host, "Negotiate", None);
    let s = server(&host, "Negotiate", None);
    let error = handshake(&c, &s).unwrap_err();
    assert_eq!(
        error.status(),
        SecurityStatus::SEC_E_NO_AUTHENTICATING_AUTHORITY
    );
    assert!(
        error.message().contains("Kerberos: SEC_E_NO_CREDENTIALS"),
        "{error}"
    );
}

#[test]
fn windows_2000s_copy_of_the_response_token_as_a_mic_is_ignored() {
    // Windows 2000 put its response token in the mechListMIC field as well;
    // MIT and pyspnego ignore such a "MIC", and so do we.
    let site = fixture::site(Kdc::Running, "");
    let host = site.host();
    tampered_handshake(&host, |leg, to_server, token| {
        match (leg, to_server, token::decode_resp(&token)) {
            (0, false, Ok(mut resp)) => {
                resp.mech_list_mic = resp.response_token.clone();
                token::encode_resp(&resp)
            }
            _ => token,
        }
    })
    .expect("the handshake completes");
}
