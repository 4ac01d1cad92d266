//! The Kerberos package end to end: the real plugin (`libsspi_kerberos.so`)
//! loaded through a registry file, against the embedded KDC on 127.0.0.1.

#[path = "common/kerberos_fixture.rs"]
mod fixture;

use fixture::{REALM, SERVICE, credentials, realm, realm_with, registry_text};
use sspi_core::{
    AscRet, AuthIdentity, CredentialUse, IscReq, IscRet, MessageError, Qop, SecBuffer,
    SecBufferRef, SecurityStatus,
};
use sspi_plugin_host::loopback::{self, TokenFlow};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle};
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile};
use std::time::{Duration, Instant};

fn sign_verify(from: &mut SecurityContextHandle, to: &mut SecurityContextHandle, text: &[u8]) {
    let mut data = text.to_vec();
    let mut sig = vec![0u8; 64];
    {
        let mut msg = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
        from.make_signature(Qop::DEFAULT, &mut msg, 0)
            .expect("make_signature");
        let len = msg[1].len();
        assert_eq!(len, 28, "a MIC token is 28 bytes");
        let mut sig2 = msg[1].as_slice().to_vec();
        let mut data2 = data.clone();
        let mut check = [SecBuffer::data(&mut data2), SecBuffer::token(&mut sig2)];
        assert_eq!(
            to.verify_signature(&mut check, 0)
                .expect("verify_signature"),
            Qop::DEFAULT
        );
    }
}

fn seal_open(from: &mut SecurityContextHandle, to: &mut SecurityContextHandle, text: &[u8]) {
    let mut data = text.to_vec();
    let mut trailer = vec![0u8; 60];
    let mut msg = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
    from.encrypt_message(Qop::DEFAULT, &mut msg, 0)
        .expect("encrypt_message");
    let trailer_len = msg[0].len();
    assert_eq!(trailer_len, 60);
    let mut trailer = msg[0].as_slice().to_vec();
    let mut data = msg[1].as_slice().to_vec();
    // A short ciphertext can equal its plaintext by chance (1 in 256 for one
    // byte); from 8 bytes on that chance is 2^-64.
    if text.len() >= 8 {
        assert_ne!(data, text, "the data is encrypted in place");
    }
    let mut msg = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
    assert_eq!(
        to.decrypt_message(&mut msg, 0).expect("decrypt_message"),
        Qop::DEFAULT
    );
    assert_eq!(msg[1].as_slice(), text);
}

#[test]
fn as_tgs_ap_with_mutual_auth_then_messages_both_ways() {
    let realm = realm();
    let host = realm.host();
    let (client, server) = credentials(&host, None);
    let mut done =
        loopback::handshake(&client, &server, Some(SERVICE), ISC_REQ, ASC_REQ).expect("handshake");
    let legs: Vec<_> = done.legs.iter().map(|l| (l.flow, l.status)).collect();
    assert_eq!(
        legs,
        [
            (
                TokenFlow::ClientToServer,
                SecurityStatus::SEC_I_CONTINUE_NEEDED
            ),
            (TokenFlow::ServerToClient, SecurityStatus::SEC_E_OK),
            (TokenFlow::ClientToServer, SecurityStatus::SEC_E_OK),
        ]
    );
    assert_eq!(done.legs[2].token_len, 0);
    let user = format!("alice@{REALM}");
    assert_eq!(done.server.names().unwrap(), user);
    assert_eq!(done.client.names().unwrap(), user);
    let client_flags = done.client_step.attributes;
    assert!(
        client_flags.contains(IscRet::MUTUAL_AUTH | IscRet::CONFIDENTIALITY | IscRet::INTEGRITY)
    );
    let server_flags = done.server_step.attributes;
    assert!(
        server_flags.contains(AscRet::MUTUAL_AUTH | AscRet::CONFIDENTIALITY | AscRet::INTEGRITY)
    );
    let sizes = done.client.sizes().unwrap();
    assert_eq!(
        (
            sizes.max_token,
            sizes.max_signature,
            sizes.block_size,
            sizes.security_trailer
        ),
        (12_000, 28, 1, 60)
    );
    assert_eq!(
        done.client.session_key().unwrap().expose(),
        done.server.session_key().unwrap().expose()
    );

    for i in 0..3 {
        let text = format!("message {i} from the client");
        sign_verify(&mut done.client, &mut done.server, text.as_bytes());
        sign_verify(&mut done.server, &mut done.client, b"reply from the server");
        seal_open(&mut done.client, &mut done.server, text.as_bytes());
        seal_open(&mut done.server, &mut done.client, b"sealed reply");
    }
    // Every length, including empty and block-straddling ones.
    for len in [0usize, 1, 15, 16, 17, 31, 32, 33, 1000, 65_536] {
        let text: Vec<u8> = (0..len).map(|i| i as u8).collect();
        seal_open(&mut done.client, &mut done.server, &text);
        seal_open(&mut done.server, &mut done.client, &text);
    }
    assert_eq!(
        realm.as_requests(),
        2,
        "PREAUTH_REQUIRED, then the pre-authenticated AS-REQ"
    );
    assert_eq!(realm.tgs_requests(), 1);
}

#[test]
fn without_mutual_auth_one_leg_completes_both_sides() {
    let realm = realm();
    let host = realm.host();
    let (client, server) = credentials(&host, None);
    let isc = IscReq::CONFIDENTIALITY
        | IscReq::INTEGRITY
        | IscReq::REPLAY_DETECT
        | IscReq::SEQUENCE_DETECT;
    let mut done =
        loopback::handshake(&client, &server, Some(SERVICE), isc, ASC_REQ).expect("handshake");
    let legs: Vec<_> = done
        .legs
        .iter()
        .map(|l| (l.flow, l.status, l.token_len > 0))
        .collect();
    assert_eq!(
        legs,
        [
            (TokenFlow::ClientToServer, SecurityStatus::SEC_E_OK, true),
            (TokenFlow::ServerToClient, SecurityStatus::SEC_E_OK, false),
        ]
    );
    assert!(!done.client_step.attributes.contains(IscRet::MUTUAL_AUTH));
    sign_verify(&mut done.client, &mut done.server, b"one leg");
    sign_verify(&mut done.server, &mut done.client, b"and back");
    seal_open(&mut done.client, &mut done.server, b"sealed one leg");
    seal_open(&mut done.server, &mut done.client, b"sealed back");
}

#[test]
fn a_wrong_side_call_during_the_handshake_is_refused_and_the_handshake_then_completes() {
    let realm = realm();
    let host = realm.host();
    let (client, server) = credentials(&host, None);
    let mut out = vec![0u8; 12_000];
    let (mut cctx, mut sctx) = (None, None);
    let mut output = [SecBuffer::token(&mut out)];
    let step = client
        .initialize_security_context(&mut cctx, Some(SERVICE), ISC_REQ, &[], &mut output)
        .expect("ISC#1");
    assert_eq!(step.status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    let ap_req = output[0].as_slice().to_vec();
    // AcceptSecurityContext on the client context, while it waits for the AP-REP.
    let mut out = vec![0u8; 12_000];
    let err = server
        .accept_security_context(
            &mut cctx,
            ASC_REQ,
            &[SecBufferRef::token(&ap_req)],
            &mut [SecBuffer::token(&mut out)],
        )
        .expect_err("a server call on a client context");
    assert_eq!(
        err.status(),
        SecurityStatus::SEC_E_INVALID_HANDLE,
        "{}",
        err.message()
    );
    // The server, then InitializeSecurityContext on the server context.
    let mut output = [SecBuffer::token(&mut out)];
    server
        .accept_security_context(
            &mut sctx,
            ASC_REQ,
            &[SecBufferRef::token(&ap_req)],
            &mut output,
        )
        .expect("ASC#1");
    let ap_rep = output[0].as_slice().to_vec();
    let mut other = vec![0u8; 12_000];
    let err = client
        .initialize_security_context(
            &mut sctx,
            Some(SERVICE),
            ISC_REQ,
            &[SecBufferRef::token(&ap_rep)],
            &mut [SecBuffer::token(&mut other)],
        )
        .expect_err("a client call on a server context");
    assert_eq!(err.status(), SecurityStatus::SEC_E_INVALID_HANDLE);
    // Neither context was harmed: the AP-REP completes the client.
    let mut output = [SecBuffer::token(&mut out)];
    let step = client
        .initialize_security_context(
            &mut cctx,
            Some(SERVICE),
            ISC_REQ,
            &[SecBufferRef::token(&ap_rep)],
            &mut output,
        )
        .expect("ISC#2 after the refused calls");
    assert_eq!(step.status, SecurityStatus::SEC_E_OK);
    let (mut c, mut s) = (cctx.unwrap(), sctx.unwrap());
    seal_open(&mut c, &mut s, b"after a wrong-side call");
    seal_open(&mut s, &mut c, b"and back");
}

#[test]
fn a_too_small_output_buffer_is_retried_without_a_second_kdc_trip_or_replay() {
    let realm = realm();
    let host = realm.host();
    let (client, server) = credentials(&host, None);
    let (mut cctx, mut sctx) = (None, None);
    let mut small = vec![0u8; 16];
    let err = client
        .initialize_security_context(
            &mut cctx,
            Some(SERVICE),
            ISC_REQ,
            &[],
            &mut [SecBuffer::token(&mut small)],
        )
        .expect_err("16 bytes cannot hold an AP-REQ");
    assert_eq!(err.status(), SecurityStatus::SEC_E_BUFFER_TOO_SMALL);
    let mut out = vec![0u8; 12_000];
    let mut output = [SecBuffer::token(&mut out)];
    let step = client
        .initialize_security_context(&mut cctx, Some(SERVICE), ISC_REQ, &[], &mut output)
        .expect("the retry gets the held AP-REQ");
    assert_eq!(step.status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    assert_eq!(realm.tgs_requests(), 1, "the retry did not go to the KDC");
    let ap_req = output[0].as_slice().to_vec();
    // The acceptor's retry is not a replay: the AP-REQ is not checked again.
    let err = server
        .accept_security_context(
            &mut sctx,
            ASC_REQ,
            &[SecBufferRef::token(&ap_req)],
            &mut [SecBuffer::token(&mut small)],
        )
        .expect_err("16 bytes cannot hold an AP-REP");
    assert_eq!(err.status(), SecurityStatus::SEC_E_BUFFER_TOO_SMALL);
    let mut output = [SecBuffer::token(&mut out)];
    let step = server
        .accept_security_context(
            &mut sctx,
            ASC_REQ,
            &[SecBufferRef::token(&ap_req)],
            &mut output,
        )
        .expect("the retry gets the held AP-REP");
    assert_eq!(step.status, SecurityStatus::SEC_E_OK);
    let ap_rep = output[0].as_slice().to_vec();
    let mut output = [SecBuffer::token(&mut out)];
    client
        .initialize_security_context(
            &mut cctx,
            Some(SERVICE),
            ISC_REQ,
            &[SecBufferRef::token(&ap_rep)],
            &mut output,
        )
        .expect("ISC#2");
    let (mut c, mut s) = (cctx.unwrap(), sctx.unwrap());
    seal_open(&mut c, &mut s, b"retried");
}

#[test]
fn a_second_context_reuses_the_cached_tickets() {
    let realm = realm();
    let host = realm.host();
    let (client, server) = credentials(&host, None);
    for _ in 0..3 {
        loopback::handshake(&client, &server, Some(SERVICE), ISC_REQ, ASC_REQ).expect("handshake");
    }
    assert_eq!((realm.as_requests(), realm.tgs_requests()), (2, 1));
    // No target: DefaultTarget, else ServicePrincipal (here host/localhost).
    loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).expect("default target");
    assert_eq!((realm.as_requests(), realm.tgs_requests()), (2, 1));
    // New credentials start from nothing.
    let (client2, _) = credentials(&host, Some(AuthIdentity::new("bob", REALM, "bob-password")));
    let done = loopback::handshake(
        &client2,
        &server,
        Some(&format!("{SERVICE}@{REALM}")),
        ISC_REQ,
        ASC_REQ,
    )
    .expect("bob's handshake");
    assert_eq!(done.server.names().unwrap(), format!("bob@{REALM}"));
    assert_eq!((realm.as_requests(), realm.tgs_requests()), (4, 2));
}

/// The status of the first failing call of a handshake.
fn handshake_status(
    client: &CredentialsHandle,
    server: &CredentialsHandle,
    target: &str,
) -> (SecurityStatus, String) {
    match loopback::handshake(client, server, Some(target), ISC_REQ, ASC_REQ) {
        Ok(_) => (SecurityStatus::SEC_E_OK, String::new()),
        Err(e) => (e.status(), e.message().to_string()),
    }
}

#[test]
fn wrong_password_and_unknown_user_are_logon_denied() {
    let realm = realm();
    let host = realm.host();
    let (client, server) = credentials(
        &host,
        Some(AuthIdentity::new("alice", REALM, "not-her-password")),
    );
    let (status, message) = handshake_status(&client, &server, SERVICE);
    assert_eq!(status, SecurityStatus::SEC_E_LOGON_DENIED, "{message}");
    assert!(
        message.contains("wrong password for alice@SSPI-PLUG.TEST"),
        "{message}"
    );
    assert!(!message.contains("not-her-password"));

    let (client, _) = credentials(&host, Some(AuthIdentity::new("mallory", REALM, "x")));
    let (status, message) = handshake_status(&client, &server, SERVICE);
    assert_eq!(status, SecurityStatus::SEC_E_LOGON_DENIED, "{message}");
    assert!(message.contains("KDC_ERR_C_PRINCIPAL_UNKNOWN"), "{message}");
}

#[test]
fn unknown_service_is_target_unknown() {
    let realm = realm();
    let host = realm.host();
    let (client, server) = credentials(&host, None);
    let (status, message) = handshake_status(&client, &server, "http/nowhere");
    assert_eq!(status, SecurityStatus::SEC_E_TARGET_UNKNOWN, "{message}");
    assert!(
        message.contains("KDC_ERR_S_PRINCIPAL_UNKNOWN")
            && message.contains("http/nowhere@SSPI-PLUG.TEST"),
        "{message}"
    );
}

#[test]
fn clock_skew_with_the_kdc_is_time_skew() {
    let realm = realm_with(|c| c.clock_offset = 3600, "");
    let host = realm.host();
    let (client, server) = credentials(&host, None);
    let (status, message) = handshake_status(&client, &server, SERVICE);
    assert_eq!(status, SecurityStatus::SEC_E_TIME_SKEW, "{message}");
    assert!(message.contains("KRB_AP_ERR_SKEW"), "{message}");
}

#[test]
fn an_expired_ticket_is_context_expired_at_the_server() {
    // The KDC's clock is two hours behind, and it tolerates that: its
    // one-hour tickets have ended an hour ago by this machine's clock.
    let realm = realm_with(
        |c| {
            c.clock_offset = -7200;
            c.skew = Duration::from_secs(3 * 3600);
            c.max_ticket_lifetime = Duration::from_secs(3600);
        },
        "",
    );
    let host = realm.host();
    let (client, server) = credentials(&host, None);
    let (status, message) = handshake_status(&client, &server, SERVICE);
    assert_eq!(status, SecurityStatus::SEC_E_CONTEXT_EXPIRED, "{message}");
    assert!(message.contains("KRB_AP_ERR_TKT_EXPIRED"), "{message}");
}

/// The AP-REQ of a first leg.
fn first_leg(client: &CredentialsHandle) -> Vec<u8> {
    let mut ctx = None;
    let mut out = vec![0u8; 12_000];
    let mut output = [SecBuffer::token(&mut out)];
    client
        .initialize_security_context(&mut ctx, Some(SERVICE), ISC_REQ, &[], &mut output)
        .expect("first leg");
    output[0].as_slice().to_vec()
}

fn accept(server: &CredentialsHandle, token: &[u8]) -> Result<(), sspi_core::SecurityError> {
    let mut ctx = None;
    let mut out = vec![0u8; 12_000];
    let mut output = [SecBuffer::token(&mut out)];
    server
        .accept_security_context(
            &mut ctx,
            ASC_REQ,
            &[SecBufferRef::token(token)],
            &mut output,
        )
        .map(|_| ())
}

#[test]
fn a_replayed_authenticator_is_refused() {
    let realm = realm();
    let host = realm.host();
    let (client, server) = credentials(&host, None);
    let ap_req = first_leg(&client);
    accept(&server, &ap_req).expect("first use");
    let err = accept(&server, &ap_req).expect_err("replay");
    assert_eq!(err.status(), SecurityStatus::SEC_E_LOGON_DENIED);
    assert!(
        err.message().contains("KRB_AP_ERR_REPEAT"),
        "{}",
        err.message()
    );
    // Another acceptor of the same package shares the cache.
    let (_, server2) = credentials(&host, None);
    assert_eq!(
        accept(&server2, &ap_req).unwrap_err().status(),
        SecurityStatus::SEC_E_LOGON_DENIED
    );
}

#[test]
fn a_wrong_service_key_is_wrong_principal() {
    let realm = realm();
    // Replace the keytab with one whose key for host/localhost differs.
    let mut other = sspi_kdc::Database::new(REALM);
    other.add_password(SERVICE, "a-different-secret").unwrap();
    let keytab = other.keytab(&[SERVICE]).unwrap();
    std::fs::write(
        realm.registry.dir.path().join("service.keytab"),
        keytab.to_bytes().unwrap(),
    )
    .unwrap();
    let host = realm.host();
    let (client, server) = credentials(&host, None);
    let (status, message) = handshake_status(&client, &server, SERVICE);
    assert_eq!(status, SecurityStatus::SEC_E_WRONG_PRINCIPAL, "{message}");
    assert!(
        message.contains("does not decrypt with the keytab's key"),
        "{message}"
    );
}

#[test]
fn tampered_replayed_and_reordered_messages_are_refused() {
    let realm = realm();
    let host = realm.host();
    let (client, server) = credentials(&host, None);
    let mut done =
        loopback::handshake(&client, &server, Some(SERVICE), ISC_REQ, ASC_REQ).expect("handshake");

    let seal = |ctx: &mut SecurityContextHandle, text: &[u8]| -> (Vec<u8>, Vec<u8>) {
        let mut data = text.to_vec();
        let mut trailer = vec![0u8; 60];
        let mut msg = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
        ctx.encrypt_message(Qop::DEFAULT, &mut msg, 0).unwrap();
        (msg[0].as_slice().to_vec(), msg[1].as_slice().to_vec())
    };
    let open =
        |ctx: &mut SecurityContextHandle, t: &[u8], d: &[u8]| -> Result<Vec<u8>, MessageError> {
            let (mut t, mut d) = (t.to_vec(), d.to_vec());
            let mut msg = [SecBuffer::token(&mut t), SecBuffer::data(&mut d)];
            ctx.decrypt_message(&mut msg, 0)?;
            Ok(msg[1].as_slice().to_vec())
        };
    // Each refusal carries its own reason, so a person debugging interop
    // sees why (the status alone is SEC_E_MESSAGE_ALTERED for many causes).
    let refused = |status: SecurityStatus, reason: &'static str| {
        Err::<Vec<u8>, _>(MessageError::new(status, reason))
    };
    let altered = SecurityStatus::SEC_E_MESSAGE_ALTERED;
    let out_of_sequence = SecurityStatus::SEC_E_OUT_OF_SEQUENCE;
    let next_in_sequence = "the message is replayed, reordered or follows a lost one";

    let (t1, d1) = seal(&mut done.client, b"first");
    let (t2, d2) = seal(&mut done.client, b"second");
    // Tampered data, trailer, header: refused, and the stream survives.
    let mut bad = d1.clone();
    bad[0] ^= 1;
    assert_eq!(
        open(&mut done.server, &t1, &bad),
        refused(
            altered,
            "the sealed message does not decrypt: its data or trailer was altered"
        )
    );
    for (at, reason) in [
        (
            2usize,
            "the token's flags say it was sent by this side, or name another subkey",
        ),
        (
            5,
            "the TOKEN buffer is not 16 + confounder + EC + 16 + checksum bytes (sealed) or 16 + checksum (signed only): pass a whole token as SECBUFFER_STREAM",
        ),
        (
            8,
            "the sealed header copy does not match the token's header",
        ),
        (
            20,
            "the sealed message does not decrypt: its data or trailer was altered",
        ),
        (
            40,
            "the sealed message does not decrypt: its data or trailer was altered",
        ),
        (
            50,
            "the sealed message does not decrypt: its data or trailer was altered",
        ),
    ] {
        let mut bad = t1.clone();
        bad[at] ^= 0x40;
        let error = open(&mut done.server, &bad, &d1).unwrap_err();
        assert_eq!(error.reason(), reason, "byte {at}");
        assert!(
            error.status() == altered || error.status() == SecurityStatus::SEC_E_INVALID_TOKEN,
            "byte {at}: {error}"
        );
    }
    assert_eq!(
        open(&mut done.server, &t1[..59], &d1),
        refused(
            SecurityStatus::SEC_E_INVALID_TOKEN,
            "the TOKEN buffer is not 16 + confounder + EC + 16 + checksum bytes (sealed) or 16 + checksum (signed only): pass a whole token as SECBUFFER_STREAM"
        )
    );
    assert_eq!(
        open(&mut done.server, &[0x04, 0x04, 0, 0xff], &d1),
        refused(
            SecurityStatus::SEC_E_INVALID_TOKEN,
            "the token is not an RFC 4121 wrap token (TOK_ID 05 04, filler FF)"
        )
    );
    // Reordered: the second before the first.
    assert_eq!(
        open(&mut done.server, &t2, &d2),
        refused(out_of_sequence, next_in_sequence)
    );
    assert_eq!(open(&mut done.server, &t1, &d1).unwrap(), b"first");
    // Replayed.
    assert_eq!(
        open(&mut done.server, &t1, &d1),
        refused(out_of_sequence, next_in_sequence)
    );
    assert_eq!(open(&mut done.server, &t2, &d2).unwrap(), b"second");
    // A token reflected back to its sender is refused.
    let (t3, d3) = seal(&mut done.server, b"to the client");
    assert_eq!(
        open(&mut done.server, &t3, &d3),
        refused(
            altered,
            "the token's flags say it was sent by this side, or name another subkey"
        )
    );
    assert_eq!(open(&mut done.client, &t3, &d3).unwrap(), b"to the client");

    // Signatures: tampered data and replays.
    let mut data = b"signed".to_vec();
    let mut sig = vec![0u8; 28];
    let mut msg = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
    done.client
        .make_signature(Qop::DEFAULT, &mut msg, 0)
        .unwrap();
    let sig = msg[1].as_slice().to_vec();
    let verify = |ctx: &mut SecurityContextHandle, d: &[u8], s: &[u8]| {
        let (mut d, mut s) = (d.to_vec(), s.to_vec());
        let mut msg = [SecBuffer::data(&mut d), SecBuffer::token(&mut s)];
        ctx.verify_signature(&mut msg, 0)
    };
    assert_eq!(
        verify(&mut done.server, b"signeD", &sig),
        Err(MessageError::new(
            altered,
            "the token's checksum does not match the message"
        ))
    );
    assert_eq!(
        verify(&mut done.server, b"signed", &sig[..27]),
        Err(MessageError::new(
            SecurityStatus::SEC_E_INVALID_TOKEN,
            "the token is not an RFC 4121 MIC token (16 + checksum bytes, TOK_ID 04 04, filler FF)"
        ))
    );
    assert_eq!(verify(&mut done.server, b"signed", &sig), Ok(Qop::DEFAULT));
    assert_eq!(
        verify(&mut done.server, b"signed", &sig),
        Err(MessageError::new(out_of_sequence, next_in_sequence))
    );
    // A QOP the package does not have, and a TOKEN buffer too small.
    let mut data = b"signed".to_vec();
    let mut sig = vec![0u8; 28];
    let mut msg = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
    let error = done
        .client
        .make_signature(Qop::WRAP_NO_ENCRYPT, &mut msg, 0)
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_QOP_NOT_SUPPORTED);
    let mut short = vec![0u8; 27];
    let mut msg = [SecBuffer::data(&mut data), SecBuffer::token(&mut short)];
    assert_eq!(
        done.client.make_signature(Qop::DEFAULT, &mut msg, 0),
        Err(MessageError::buffer_too_small(
            "the TOKEN buffer is smaller than cbMaxSignature"
        ))
    );
    // Neither refusal used a sequence number: the next MIC still verifies.
    let mut data = b"after".to_vec();
    let mut sig = vec![0u8; 28];
    let mut msg = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
    done.client
        .make_signature(Qop::DEFAULT, &mut msg, 0)
        .unwrap();
    let sig = msg[1].as_slice().to_vec();
    assert_eq!(verify(&mut done.server, b"after", &sig), Ok(Qop::DEFAULT));

    // Sign-only wrap (SECQOP_WRAP_NO_ENCRYPT) leaves the data readable.
    let mut data = b"visible".to_vec();
    let mut trailer = vec![0u8; 60];
    let mut msg = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
    assert_eq!(
        done.client
            .encrypt_message(Qop::WRAP_NO_ENCRYPT, &mut msg, 0),
        Ok(Qop::WRAP_NO_ENCRYPT)
    );
    assert_eq!(msg[1].as_slice(), b"visible");
    let (t, d) = (msg[0].as_slice().to_vec(), msg[1].as_slice().to_vec());
    let (mut t, mut d) = (t, d);
    let mut msg = [SecBuffer::token(&mut t), SecBuffer::data(&mut d)];
    assert_eq!(
        done.server.decrypt_message(&mut msg, 0).unwrap(),
        Qop::WRAP_NO_ENCRYPT
    );
}

#[test]
fn an_unreachable_kdc_fails_fast_with_no_authenticating_authority() {
    // One address refuses connections; another accepts and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let text = registry_text(
        &format!("{refused},{silent_addr}"),
        "\"KdcTimeout\"=dword:0000012c\n\"KdcRetries\"=dword:00000001\n",
    );
    let registry = RegistryFile::new(&text);
    let host = registry.host();
    let client = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let started = Instant::now();
    let mut ctx = None;
    let mut out = vec![0u8; 12_000];
    let mut output = [SecBuffer::token(&mut out)];
    let err = client
        .initialize_security_context(&mut ctx, Some(SERVICE), ISC_REQ, &[], &mut output)
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(
        err.status(),
        SecurityStatus::SEC_E_NO_AUTHENTICATING_AUTHORITY,
        "{}",
        err.message()
    );
    assert!(
        err.message().contains(&silent_addr.to_string()),
        "{}",
        err.message()
    );
    // Two rounds over two KDCs, 300 ms each at most.
    assert!(took < Duration::from_secs(3), "took {took:?}");
    drop(silent);
}

#[test]
fn an_etype_the_kdc_lacks_is_kdc_unknown_etype() {
    let realm = realm_with(
        |c| {
            let mut db = sspi_kdc::Database::new(REALM);
            let key = sspi_package_kerberos::internal::crypto::Etype::Aes256CtsHmacSha196
                .string_to_key(b"alice-password", b"SSPI-PLUG.TESTalice", None)
                .unwrap();
            db.insert(sspi_kdc::database::Entry {
                principal: sspi_package_kerberos::internal::principal::Principal::user(
                    "alice", REALM,
                ),
                keys: vec![(1, key)],
                requires_preauth: true,
                max_life: None,
            });
            db.add_password(SERVICE, "host-service-secret").unwrap();
            c.database = db;
        },
        "\"AllowedEnctypes\"=\"aes128-cts-hmac-sha1-96\"\n",
    );
    let host = realm.host();
    let (client, server) = credentials(&host, None);
    let (status, message) = handshake_status(&client, &server, SERVICE);
    assert_eq!(status, SecurityStatus::SEC_E_KDC_UNKNOWN_ETYPE, "{message}");
}

#[test]
fn bad_registry_values_name_file_line_and_value() {
    for (extra, value, needle) in [
        (
            "\"KdcTimeout\"=dword:00000000\n",
            "KdcTimeout",
            "between 1 and 600000",
        ),
        ("\"SkewTime\"=\"five\"\n", "SkewTime", "must be REG_DWORD"),
        (
            "\"AllowedEnctypes\"=\"rc4-hmac\"\n",
            "AllowedEnctypes",
            "rc4-hmac",
        ),
        (
            "\"ServicePrincipal\"=\"host//x\"\n",
            "ServicePrincipal",
            "empty name component",
        ),
    ] {
        let registry = RegistryFile::new(&registry_text("127.0.0.1:88", extra));
        let host = registry.host();
        let err = host
            .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
            .expect_err("the package is unavailable");
        let message = err.message();
        assert!(message.contains("sspi.reg:"), "{message}");
        assert!(message.contains(&format!("value \"{value}\"")), "{message}");
        assert!(message.contains(needle), "{message}");
    }
    let registry = RegistryFile::new(&registry_text("127.0.0.1:0x", ""));
    let err = registry
        .host()
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .expect_err("bad KDC address");
    assert!(
        err.message().contains("KdcNames") && err.message().contains("invalid port"),
        "{}",
        err.message()
    );
}

#[test]
fn the_acceptor_needs_its_keytab_and_refuses_garbage_tokens() {
    let realm = realm();
    std::fs::write(
        realm.registry.dir.path().join("service.keytab"),
        b"\x05\x02\x00\x00\x00\x10garbage",
    )
    .unwrap();
    // A broken keytab makes the package unavailable, naming it.
    let err = realm
        .host()
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .expect_err("broken keytab");
    assert!(
        err.message().contains("service.keytab"),
        "{}",
        err.message()
    );

    let realm = realm_with(|_| {}, "");
    let host = realm.host();
    let (_, server) = credentials(&host, None);
    for garbage in [
        &b""[..],
        b"\x60",
        b"\x60\x03\x06\x01\x00",
        b"\x6e\x00",
        &[0x60, 0x82, 0xff, 0xff, 0x06],
    ] {
        let err = accept(&server, garbage).unwrap_err();
        assert_eq!(
            err.status(),
            SecurityStatus::SEC_E_INVALID_TOKEN,
            "{garbage:?}: {}",
            err.message()
        );
    }
}

/// A SEC_CHANNEL_BINDINGS with only application data, as after TLS.
fn bindings(application_data: &[u8]) -> Vec<u8> {
    sspi_core::sec_channel_bindings(application_data)
}

/// A whole mutual-auth handshake, each side given its channel bindings (or
/// none): the server's error if it refuses.
fn bound_handshake(
    client: &CredentialsHandle,
    server: &CredentialsHandle,
    client_cb: Option<&[u8]>,
    server_cb: Option<&[u8]>,
) -> Result<(SecurityContextHandle, SecurityContextHandle), sspi_core::SecurityError> {
    let (mut cctx, mut sctx) = (None, None);
    let mut out = vec![0u8; 12_000];
    let cb = client_cb.map(bindings).unwrap_or_default();
    let mut input = Vec::new();
    if client_cb.is_some() {
        input.push(SecBufferRef::channel_bindings(&cb));
    }
    let mut output = [SecBuffer::token(&mut out)];
    let step = client.initialize_security_context(
        &mut cctx,
        Some(SERVICE),
        ISC_REQ,
        &input,
        &mut output,
    )?;
    assert_eq!(step.status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    let ap_req = output[0].as_slice().to_vec();

    let mut out = vec![0u8; 12_000];
    let cb = server_cb.map(bindings).unwrap_or_default();
    let mut input = vec![SecBufferRef::token(&ap_req)];
    if server_cb.is_some() {
        input.push(SecBufferRef::channel_bindings(&cb));
    }
    let mut output = [SecBuffer::token(&mut out)];
    server.accept_security_context(&mut sctx, ASC_REQ, &input, &mut output)?;
    let ap_rep = output[0].as_slice().to_vec();

    let mut out = vec![0u8; 12_000];
    let mut output = [SecBuffer::token(&mut out)];
    let step = client.initialize_security_context(
        &mut cctx,
        Some(SERVICE),
        ISC_REQ,
        &[SecBufferRef::token(&ap_rep)],
        &mut output,
    )?;
    assert_eq!(step.status, SecurityStatus::SEC_E_OK);
    Ok((cctx.unwrap(), sctx.unwrap()))
}

#[test]
fn channel_bindings_are_carried_and_checked() {
    let realm = realm();
    let host = realm.host();
    let (client, server) = credentials(&host, None);
    let a: &[u8] = b"tls-server-end-point:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let b: &[u8] = b"tls-server-end-point:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
    // The same bindings: accepted, and the context works.
    let (mut c, mut s) =
        bound_handshake(&client, &server, Some(a), Some(a)).expect("same bindings");
    seal_open(&mut c, &mut s, b"bound");
    // A server bound to B refuses a client bound to A.
    let err = bound_handshake(&client, &server, Some(a), Some(b)).unwrap_err();
    assert_eq!(
        err.status(),
        SecurityStatus::SEC_E_BAD_BINDINGS,
        "{}",
        err.message()
    );
    assert!(
        err.message().contains("alice@SSPI-PLUG.TEST"),
        "{}",
        err.message()
    );
    // A client without bindings: accepted unless RequireChannelBindings.
    bound_handshake(&client, &server, None, Some(b)).expect("no client bindings");
    // A server without bindings accepts a bound client (as MIT and NTLM do).
    bound_handshake(&client, &server, Some(a), None).expect("no server bindings");
    // A malformed SEC_CHANNEL_BINDINGS is the application's mistake.
    let mut cctx = None;
    let short = vec![0u8; 12];
    let mut out = vec![0u8; 12_000];
    let err = client
        .initialize_security_context(
            &mut cctx,
            Some(SERVICE),
            ISC_REQ,
            &[SecBufferRef::channel_bindings(&short)],
            &mut [SecBuffer::token(&mut out)],
        )
        .unwrap_err();
    assert_eq!(err.status(), SecurityStatus::SEC_E_INVALID_PARAMETER);

    let strict = realm_with(|_| {}, "\"RequireChannelBindings\"=dword:00000001\n");
    let host = strict.host();
    let (client, server) = credentials(&host, None);
    let err = bound_handshake(&client, &server, None, Some(b)).unwrap_err();
    assert_eq!(
        err.status(),
        SecurityStatus::SEC_E_BAD_BINDINGS,
        "{}",
        err.message()
    );
    assert!(
        err.message().contains("RequireChannelBindings"),
        "{}",
        err.message()
    );
    bound_handshake(&client, &server, Some(b), Some(b)).expect("bound client");
    // RequireChannelBindings only applies to a server that has bindings.
    bound_handshake(&client, &server, None, None).expect("nobody bound");
}

/// A registry key addition: the replay cache in `name` beside the registry.
fn replay_file(name: &str, size: Option<u32>) -> String {
    let mut extra = format!("\"ReplayCachePath\"=\"{name}\"\n");
    if let Some(size) = size {
        extra.push_str(&format!("\"ReplayCacheSize\"=dword:{size:08x}\n"));
    }
    extra
}

#[test]
fn a_restarted_acceptor_refuses_a_replay_it_accepted_before() {
    let realm = realm_with(|_| {}, &replay_file("replay.rcache", None));
    let (client, server) = credentials(&realm.host(), None);
    let ap_req = first_leg(&client);
    accept(&server, &ap_req).expect("first use");
    drop(server);
    // A new host loads the package anew: nothing is carried over in memory.
    let host = realm.host();
    let (_, server) = credentials(&host, None);
    let err = accept(&server, &ap_req).expect_err("the replay after a restart");
    assert_eq!(err.status(), SecurityStatus::SEC_E_LOGON_DENIED);
    assert!(
        err.message().contains("KRB_AP_ERR_REPEAT"),
        "{}",
        err.message()
    );
    // A fresh AP-REQ is accepted by the new instance.
    accept(&server, &first_leg(&client)).expect("a new authenticator");
    let file = realm.registry.dir.path().join("replay.rcache");
    let meta = std::fs::metadata(&file).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(meta.mode() & 0o777, 0o600);
}

const CHILD_REGISTRY: &str = "SSPI_KRB_CHILD_REGISTRY";
const CHILD_TOKEN: &str = "SSPI_KRB_CHILD_TOKEN";

/// Not a test on its own: the other process of
/// `a_replay_to_another_process_is_refused`, which runs this test binary
/// again with this test selected and the registry and token files in the
/// environment. It accepts the token and prints the outcome.
#[test]
#[ignore = "the child process of a_replay_to_another_process_is_refused"]
fn replay_child_process() {
    let registry = std::env::var_os(CHILD_REGISTRY).expect("run by the parent test");
    let token = std::fs::read(std::env::var_os(CHILD_TOKEN).expect("token file")).unwrap();
    let host = sspi_plugin_host::SecurityHost::from_registry_files(&[registry]).unwrap();
    let server = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .unwrap();
    match accept(&server, &token) {
        Ok(()) => println!("\nCHILD-OUTCOME accepted pid {}", std::process::id()),
        Err(e) => println!("\nCHILD-OUTCOME {:?}: {}", e.status(), e.message()),
    }
}

fn in_child(realm: &fixture::Realm, token: &[u8]) -> String {
    let token_file = realm.registry.dir.path().join("token");
    std::fs::write(&token_file, token).unwrap();
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "replay_child_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_REGISTRY, &realm.registry.path)
        .env(CHILD_TOKEN, &token_file)
        .output()
        .expect("run the child process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.split_once("CHILD-OUTCOME ").map(|(_, outcome)| outcome))
        .unwrap_or_else(|| panic!("no outcome from the child: {stdout}"))
        .to_string()
}

#[test]
fn a_replay_to_another_process_is_refused() {
    let realm = realm_with(|_| {}, &replay_file("shared.rcache", None));
    let (client, server) = credentials(&realm.host(), None);
    // The child accepts first; the replay to this process is refused.
    let ap_req = first_leg(&client);
    let outcome = in_child(&realm, &ap_req);
    assert!(outcome.starts_with("accepted pid "), "{outcome}");
    assert_ne!(outcome, format!("accepted pid {}", std::process::id()));
    let err = accept(&server, &ap_req).expect_err("replayed to this process");
    assert_eq!(err.status(), SecurityStatus::SEC_E_LOGON_DENIED);
    assert!(
        err.message().contains("KRB_AP_ERR_REPEAT"),
        "{}",
        err.message()
    );
    // And the other way round.
    let ap_req = first_leg(&client);
    accept(&server, &ap_req).expect("this process first");
    let outcome = in_child(&realm, &ap_req);
    assert!(
        outcome.starts_with("SEC_E_LOGON_DENIED") && outcome.contains("KRB_AP_ERR_REPEAT"),
        "{outcome}"
    );
}

#[test]
fn a_flooding_client_does_not_lock_others_out_and_the_cache_stays_bounded() {
    // 32 entries: two buckets of 16, a file of 64 + 2 * 512 bytes.
    let realm = realm_with(|_| {}, &replay_file("flood.rcache", Some(32)));
    let host = realm.host();
    let (alice, server) = credentials(&host, None);
    let file = realm.registry.dir.path().join("flood.rcache");
    let first = first_leg(&alice);
    accept(&server, &first).expect("alice's first");
    let started = Instant::now();
    let flood = 400;
    for i in 0..flood {
        let ap_req = first_leg(&alice);
        accept(&server, &ap_req).unwrap_or_else(|e| panic!("alice's AP-REQ {i}: {}", e.message()));
        assert_eq!(std::fs::metadata(&file).unwrap().len(), 64 + 2 * 512);
    }
    let took = started.elapsed();
    eprintln!(
        "flood: {flood} AP-REQs from one client in {took:?} ({:.0}/s), cache file {} bytes",
        f64::from(flood) / took.as_secs_f64(),
        std::fs::metadata(&file).unwrap().len()
    );
    // Another client still authenticates, with the whole handshake.
    let (bob, _) = credentials(&host, Some(AuthIdentity::new("bob", REALM, "bob-password")));
    let done = loopback::handshake(&bob, &server, Some(SERVICE), ISC_REQ, ASC_REQ)
        .expect("bob during the flood");
    assert_eq!(done.server.names().unwrap(), format!("bob@{REALM}"));
    // What alice's flood pushed out is still refused.
    let err = accept(&server, &first).expect_err("alice's first, replayed");
    assert!(
        err.status() == SecurityStatus::SEC_E_LOGON_DENIED
            || err.status() == SecurityStatus::SEC_E_INSUFFICIENT_MEMORY,
        "{:?} {}",
        err.status(),
        err.message()
    );
    assert_eq!(std::fs::metadata(&file).unwrap().len(), 64 + 2 * 512);
}

#[test]
fn a_ticket_with_the_invalid_flag_is_refused() {
    use sspi_package_kerberos::internal::ap::{self, AuthenticatorSpec};
    use sspi_package_kerberos::internal::crypto::{Etype, Key};
    use sspi_package_kerberos::internal::messages::{AP_OPTION_MUTUAL_REQUIRED, ticket_flags};
    use sspi_package_kerberos::internal::principal::Principal;
    use sspi_package_kerberos::internal::time::KrbTime;

    let realm = realm();
    let (_, server) = credentials(&realm.host(), None);
    // A ticket minted with the service key of the test database, as the KDC would.
    let db = fixture::database();
    let service = Principal::parse(SERVICE, REALM).unwrap();
    let alice = Principal::user("alice", REALM);
    let (kvno, service_key) = db
        .lookup(&service)
        .unwrap()
        .key(Etype::Aes256CtsHmacSha196)
        .unwrap();
    let mint = |flags: u32| {
        let session_key = Key::random(Etype::Aes256CtsHmacSha196).unwrap();
        let now = KrbTime::now().secs;
        let ticket = sspi_kdc::issue::ticket(
            &service,
            (kvno, service_key),
            &sspi_kdc::issue::TicketContents {
                flags,
                session_key: &session_key,
                client: &alice,
                times: (now, now, now + 3600),
                renew_till: None,
            },
        )
        .unwrap();
        let spec = AuthenticatorSpec {
            client: &alice,
            checksum: Some((
                sspi_package_kerberos::internal::gss::CHECKSUM_8003,
                sspi_package_kerberos::internal::gss::checksum_8003(0x3e, [0; 16], None),
            )),
            subkey: None,
            seq: Some(1),
            time: KrbTime::now(),
        };
        let req = ap::ap_req(&ticket, &session_key, 11, AP_OPTION_MUTUAL_REQUIRED, &spec).unwrap();
        sspi_package_kerberos::internal::gss::frame(
            sspi_package_kerberos::internal::gss::TOK_AP_REQ,
            req,
        )
        .unwrap()
    };
    // The same minting without the flag is accepted: the flag is what is refused.
    accept(&server, &mint(ticket_flags::PRE_AUTHENT)).expect("a valid minted ticket");
    let invalid = sspi_package_kerberos::internal::acceptor::TICKET_FLAG_INVALID;
    assert_eq!(invalid, 0x0100_0000);
    let err = accept(&server, &mint(ticket_flags::PRE_AUTHENT | invalid)).unwrap_err();
    assert_eq!(
        err.status(),
        SecurityStatus::SEC_E_LOGON_DENIED,
        "{}",
        err.message()
    );
    assert!(
        err.message().contains("KRB_AP_ERR_TKT_NYV") && err.message().contains("invalid flag"),
        "{}",
        err.message()
    );
}

#[test]
fn an_unsafe_replay_cache_file_makes_inbound_credentials_fail_naming_it() {
    let realm = realm_with(|_| {}, &replay_file("linked.rcache", None));
    let dir = realm.registry.dir.path();
    std::fs::write(dir.join("elsewhere"), b"").unwrap();
    std::os::unix::fs::symlink(dir.join("elsewhere"), dir.join("linked.rcache")).unwrap();
    let host = realm.host();
    let err = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .expect_err("a symlinked replay cache");
    assert_eq!(err.status(), SecurityStatus::SEC_E_NO_CREDENTIALS);
    assert!(
        err.message().contains("linked.rcache")
            && err.message().contains("symbolic link")
            && err.message().contains("ReplayCachePath"),
        "{}",
        err.message()
    );
    // Outbound credentials do not need it.
    host.acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .expect("a client is unaffected");
}
