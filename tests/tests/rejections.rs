//! Every rejection of the Test package, through the real plugin: wrong
//! secrets, tampering, replay, reordering, bad tokens and calls out of order.

use sspi_core::{AuthIdentity, SecBuffer, SecurityStatus};
use sspi_plugin_host::SecurityHost;
use sspi_plugin_host::loopback;
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile, credentials, established, leg, registry_text};

fn host(legs: u32, complete: bool) -> (RegistryFile, SecurityHost) {
    let registry = RegistryFile::new(&registry_text("sspi_test.dll", legs, complete));
    let host = registry.host();
    (registry, host)
}

fn handshake_status(host: &SecurityHost, identity: Option<AuthIdentity>) -> SecurityStatus {
    let (client, server) = credentials(host, identity);
    loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ)
        .map(|_| SecurityStatus::SEC_E_OK)
        .unwrap_or_else(|e| e.status())
}

#[test]
fn wrong_password_is_logon_denied() {
    let (_r, host) = host(3, false);
    let wrong = AuthIdentity::new("alice", "SSPI-PLUG", "not-alice-password");
    assert_eq!(
        handshake_status(&host, Some(wrong)),
        SecurityStatus::SEC_E_LOGON_DENIED
    );
    let right = AuthIdentity::new("alice", "SSPI-PLUG", "alice-password");
    assert_eq!(
        handshake_status(&host, Some(right)),
        SecurityStatus::SEC_E_OK
    );
}

#[test]
fn unknown_user_is_logon_denied() {
    let (_r, host) = host(4, false);
    let stranger = AuthIdentity::new("mallory", "SSPI-PLUG", "whatever");
    assert_eq!(
        handshake_status(&host, Some(stranger)),
        SecurityStatus::SEC_E_LOGON_DENIED
    );
}

#[test]
fn another_users_password_is_logon_denied() {
    let (_r, host) = host(3, false);
    let confused = AuthIdentity::new("bob", "SSPI-PLUG", "alice-password");
    assert_eq!(
        handshake_status(&host, Some(confused)),
        SecurityStatus::SEC_E_LOGON_DENIED
    );
}

/// A server that gets a proof replayed from another session refuses it: the
/// proof is bound to its fresh nonce.
#[test]
fn replayed_handshake_proof_is_logon_denied() {
    let (_r, host) = host(3, false);
    let (client_cred, server_cred) = credentials(&host, None);

    // Session A, recorded by an eavesdropper.
    let (mut ca, mut sa) = (None, None);
    let (_, hello_a) = leg(&client_cred, &mut ca, true, None);
    let (_, challenge_a) = leg(&server_cred, &mut sa, false, Some(&hello_a));
    let (_, proof_a) = leg(&client_cred, &mut ca, true, Some(&challenge_a));
    assert_eq!(
        leg(&server_cred, &mut sa, false, Some(&proof_a)).0,
        SecurityStatus::SEC_E_OK
    );

    // Session B: the attacker replays hello and proof of session A.
    let mut sb = None;
    let (status, _) = leg(&server_cred, &mut sb, false, Some(&hello_a));
    assert_eq!(status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    assert_eq!(
        leg(&server_cred, &mut sb, false, Some(&proof_a)).0,
        SecurityStatus::SEC_E_LOGON_DENIED
    );
}

#[test]
fn garbage_truncated_and_out_of_order_tokens_are_invalid() {
    let (_r, host) = host(4, false);
    let (client_cred, server_cred) = credentials(&host, None);
    let mut s = None;
    assert_eq!(
        leg(&server_cred, &mut s, false, Some(b"garbage")).0,
        SecurityStatus::SEC_E_INVALID_TOKEN
    );
    assert!(s.is_none(), "a failed first leg creates no context");

    let mut c = None;
    let (_, hello) = leg(&client_cred, &mut c, true, None);
    for cut in [0, 1, 8, hello.len() / 2, hello.len() - 1] {
        let mut s = None;
        assert_eq!(
            leg(&server_cred, &mut s, false, Some(&hello[..cut])).0,
            SecurityStatus::SEC_E_INVALID_TOKEN,
            "hello cut at {cut}"
        );
    }
    let mut flipped = hello.clone();
    flipped[12] ^= 0x40;
    let mut s = None;
    assert_eq!(
        leg(&server_cred, &mut s, false, Some(&flipped)).0,
        SecurityStatus::SEC_E_INVALID_TOKEN
    );

    // The server answers; the client's leg 3 is then sent to a fresh server (out of order).
    let mut s = None;
    let (_, challenge) = leg(&server_cred, &mut s, false, Some(&hello));
    let (_, proof) = leg(&client_cred, &mut c, true, Some(&challenge));
    let mut fresh = None;
    assert_eq!(
        leg(&server_cred, &mut fresh, false, Some(&proof)).0,
        SecurityStatus::SEC_E_INVALID_TOKEN
    );
    // And the server's own challenge sent back to it.
    let mut s2 = None;
    let (_, _) = leg(&server_cred, &mut s2, false, Some(&hello));
    assert_eq!(
        leg(&server_cred, &mut s2, false, Some(&challenge)).0,
        SecurityStatus::SEC_E_INVALID_TOKEN
    );
}

#[test]
fn mismatched_leg_configuration_is_refused() {
    let (_r3, host3) = host(3, false);
    let (_r5, host5) = host(5, false);
    let (client, _) = credentials(&host3, None);
    let (_, server) = credentials(&host5, None);
    let error = loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_INVALID_TOKEN);
    assert!(error.message().contains("Legs"), "{error}");
}

#[test]
fn tampered_signature_or_data_is_message_altered() {
    let (_r, host) = host(3, false);
    let mut done = established(&host);
    let mut data = b"pay 10 to bob".to_vec();
    let mut signature = vec![0u8; 64];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
    done.client
        .make_signature(sspi_core::Qop::DEFAULT, &mut message, 0)
        .unwrap();
    let sig_len = message[1].len();
    let mut tampered = b"pay 99 to bob".to_vec();
    let mut sig_copy = message[1].as_slice().to_vec();
    let mut forged = [
        SecBuffer::data(&mut tampered),
        SecBuffer::token(&mut sig_copy),
    ];
    assert_eq!(
        done.server
            .verify_signature(&mut forged, 0)
            .map_err(|e| e.status()),
        Err(SecurityStatus::SEC_E_MESSAGE_ALTERED)
    );
    // A flipped bit in the MAC itself.
    let mut data2 = b"pay 10 to bob".to_vec();
    let mut sig2 = message[1].as_slice().to_vec();
    sig2[sig_len - 1] ^= 1;
    let mut bad_mac = [SecBuffer::data(&mut data2), SecBuffer::token(&mut sig2)];
    assert_eq!(
        done.server
            .verify_signature(&mut bad_mac, 0)
            .map_err(|e| e.status()),
        Err(SecurityStatus::SEC_E_MESSAGE_ALTERED)
    );
    // The genuine message still verifies afterwards.
    assert_eq!(
        done.server
            .verify_signature(&mut message, 0)
            .map_err(|e| e.status()),
        Ok(sspi_core::Qop::DEFAULT)
    );
    // A short signature is an invalid token.
    let mut data3 = b"x".to_vec();
    let mut short = vec![0u8; 10];
    let mut message3 = [SecBuffer::data(&mut data3), SecBuffer::token(&mut short)];
    assert_eq!(
        done.server
            .verify_signature(&mut message3, 0)
            .map_err(|e| e.status()),
        Err(SecurityStatus::SEC_E_INVALID_TOKEN)
    );
}

#[test]
fn tampered_ciphertext_or_trailer_is_message_altered() {
    let (_r, host) = host(4, false);
    let mut done = established(&host);
    for flip in ["data", "trailer", "sequence"] {
        let mut data = b"secret message".to_vec();
        let mut trailer = vec![0u8; 64];
        let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
        done.client
            .encrypt_message(sspi_core::Qop::DEFAULT, &mut message, 0)
            .unwrap();
        let trailer_len = message[0].len();
        match flip {
            "data" => message[1].as_mut_slice()[3] ^= 1,
            "trailer" => message[0].as_mut_slice()[trailer_len - 1] ^= 1,
            _ => message[0].as_mut_slice()[11] ^= 1,
        }
        assert_eq!(
            done.server
                .decrypt_message(&mut message, 0)
                .map_err(|e| e.status()),
            Err(SecurityStatus::SEC_E_MESSAGE_ALTERED),
            "{flip}"
        );
    }
}

#[test]
fn replayed_and_reordered_messages_are_out_of_sequence() {
    let (_r, host) = host(3, false);
    let mut done = established(&host);

    // Signatures: 0 verified, 0 replayed, then 2 before 1.
    let mut sign = |text: &[u8]| {
        let mut data = text.to_vec();
        let mut signature = vec![0u8; 64];
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
        done.client
            .make_signature(sspi_core::Qop::DEFAULT, &mut message, 0)
            .unwrap();
        let len = message[1].len();
        (text.to_vec(), signature[..len].to_vec())
    };
    let (m0, s0) = sign(b"zero");
    let (m1, s1) = sign(b"one");
    let (m2, s2) = sign(b"two");
    let mut verify = |m: &[u8], s: &[u8]| {
        let (mut m, mut s) = (m.to_vec(), s.to_vec());
        let mut message = [SecBuffer::data(&mut m), SecBuffer::token(&mut s)];
        done.server
            .verify_signature(&mut message, 0)
            .map_err(|e| e.status())
    };
    assert_eq!(verify(&m0, &s0), Ok(sspi_core::Qop::DEFAULT));
    assert_eq!(
        verify(&m0, &s0),
        Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE),
        "replay"
    );
    assert_eq!(
        verify(&m2, &s2),
        Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE),
        "reorder"
    );
    assert_eq!(verify(&m1, &s1), Ok(sspi_core::Qop::DEFAULT));
    assert_eq!(verify(&m2, &s2), Ok(sspi_core::Qop::DEFAULT));

    // Sealed messages: replay and reorder, and the replayed plaintext is wiped.
    let mut seal = |text: &[u8]| {
        let mut data = text.to_vec();
        let mut trailer = vec![0u8; 64];
        let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
        done.server
            .encrypt_message(sspi_core::Qop::DEFAULT, &mut message, 0)
            .unwrap();
        let len = message[0].len();
        (trailer[..len].to_vec(), data)
    };
    let a = seal(b"alpha");
    let b = seal(b"bravo");
    let mut open = |(t, d): &(Vec<u8>, Vec<u8>)| {
        let (mut t, mut d) = (t.clone(), d.clone());
        let mut message = [SecBuffer::token(&mut t), SecBuffer::data(&mut d)];
        let result = done
            .client
            .decrypt_message(&mut message, 0)
            .map_err(|e| e.status());
        (result, d)
    };
    assert_eq!(open(&b).0, Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE));
    assert_eq!(open(&a), (Ok(sspi_core::Qop::DEFAULT), b"alpha".to_vec()));
    assert_eq!(
        open(&a),
        (Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE), vec![0u8; 5])
    );
    assert_eq!(open(&b), (Ok(sspi_core::Qop::DEFAULT), b"bravo".to_vec()));
}

#[test]
fn a_message_signed_for_one_direction_does_not_verify_in_the_other() {
    let (_r, host) = host(3, false);
    let mut done = established(&host);
    let mut data = b"reflect me".to_vec();
    let mut signature = vec![0u8; 64];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
    done.client
        .make_signature(sspi_core::Qop::DEFAULT, &mut message, 0)
        .unwrap();
    assert_eq!(
        done.client
            .verify_signature(&mut message, 0)
            .map_err(|e| e.status()),
        Err(SecurityStatus::SEC_E_MESSAGE_ALTERED)
    );
}

#[test]
fn calls_out_of_order_get_clear_errors() {
    let (_r, host) = host(3, true);
    let (client_cred, server_cred) = credentials(&host, None);

    // Per-message calls before the context is complete.
    let mut c = None;
    let mut out = vec![0u8; 1024];
    let mut output = [SecBuffer::token(&mut out)];
    let step = client_cred
        .initialize_security_context(&mut c, None, ISC_REQ, &[], &mut output)
        .unwrap();
    assert_eq!(step.status, SecurityStatus::SEC_I_COMPLETE_AND_CONTINUE);
    let client = c.as_mut().unwrap();
    let mut data = b"early".to_vec();
    let mut sig = vec![0u8; 64];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
    assert_eq!(
        client
            .make_signature(sspi_core::Qop::DEFAULT, &mut message, 0)
            .map_err(|e| e.status()),
        Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE)
    );
    let names = client.names().unwrap_err();
    assert_eq!(names.status(), SecurityStatus::SEC_E_INVALID_HANDLE);

    // The next leg before CompleteAuthToken.
    let mut out2 = vec![0u8; 1024];
    let mut output2 = [SecBuffer::token(&mut out2)];
    let junk = vec![1u8; 64];
    let input = [sspi_core::SecBufferRef::token(&junk)];
    let error = client_cred
        .initialize_security_context(&mut c, None, ISC_REQ, &input, &mut output2)
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE);
    assert!(error.message().contains("CompleteAuthToken"), "{error}");

    // CompleteAuthToken with a token the context did not produce.
    let mut other = vec![0u8; output[0].len()];
    let mut wrong = [SecBuffer::token(&mut other)];
    let error = c
        .as_mut()
        .unwrap()
        .complete_auth_token(&mut wrong)
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_INVALID_TOKEN);
    // The right one, then a second CompleteAuthToken.
    c.as_mut()
        .unwrap()
        .complete_auth_token(&mut output)
        .unwrap();
    let error = c
        .as_mut()
        .unwrap()
        .complete_auth_token(&mut output)
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE);

    // AcceptSecurityContext on credentials acquired OUTBOUND, and the reverse.
    let mut s = None;
    let hello = output[0].as_slice().to_vec();
    let input = [sspi_core::SecBufferRef::token(&hello)];
    let mut out3 = vec![0u8; 1024];
    let mut output3 = [SecBuffer::token(&mut out3)];
    let error = client_cred
        .accept_security_context(&mut s, ASC_REQ, &input, &mut output3)
        .unwrap_err();
    assert_eq!(
        error.status(),
        SecurityStatus::SEC_E_WRONG_CREDENTIAL_HANDLE
    );
    let error = server_cred
        .initialize_security_context(&mut s, None, ISC_REQ, &[], &mut output3)
        .unwrap_err();
    assert_eq!(
        error.status(),
        SecurityStatus::SEC_E_WRONG_CREDENTIAL_HANDLE
    );

    // A too-small output buffer is reported, and the context can carry on.
    let mut tiny = vec![0u8; 16];
    let mut small = [SecBuffer::token(&mut tiny)];
    let error = server_cred
        .accept_security_context(&mut s, ASC_REQ, &input, &mut small)
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_BUFFER_TOO_SMALL);
}

#[test]
fn a_complete_context_refuses_more_legs_and_a_wrong_side_call() {
    let (_r, host) = host(3, false);
    let (client_cred, server_cred) = credentials(&host, None);
    let done = loopback::handshake(&client_cred, &server_cred, None, ISC_REQ, ASC_REQ).unwrap();
    let mut client = Some(done.client);
    let junk = vec![0u8; 64];
    let input = [sspi_core::SecBufferRef::token(&junk)];
    let mut out = vec![0u8; 1024];
    let mut output = [SecBuffer::token(&mut out)];
    let error = client_cred
        .initialize_security_context(&mut client, None, ISC_REQ, &input, &mut output)
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE);
    // A client context handed to AcceptSecurityContext.
    let error = server_cred
        .accept_security_context(&mut client, ASC_REQ, &input, &mut output)
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_INVALID_HANDLE);
    // The context still works after the refused calls.
    let mut server = done.server;
    let mut data = b"still fine".to_vec();
    let mut sig = vec![0u8; 64];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
    client
        .as_mut()
        .unwrap()
        .make_signature(sspi_core::Qop::DEFAULT, &mut message, 0)
        .unwrap();
    assert_eq!(
        server
            .verify_signature(&mut message, 0)
            .map_err(|e| e.status()),
        Ok(sspi_core::Qop::DEFAULT)
    );
}

#[test]
fn unsupported_qop_and_unnegotiated_confidentiality_are_refused() {
    let (_r, host) = host(3, false);
    let (client_cred, server_cred) = credentials(&host, None);
    let integrity_only = sspi_core::IscReq::MUTUAL_AUTH | sspi_core::IscReq::INTEGRITY;
    let mut done =
        loopback::handshake(&client_cred, &server_cred, None, integrity_only, ASC_REQ).unwrap();
    let mut data = b"no sealing".to_vec();
    let mut trailer = vec![0u8; 64];
    let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
    assert_eq!(
        done.client
            .encrypt_message(sspi_core::Qop::DEFAULT, &mut message, 0)
            .map_err(|e| e.status()),
        Err(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION)
    );
    let mut sig = vec![0u8; 64];
    let mut data = b"x".to_vec();
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
    assert_eq!(
        done.client
            .make_signature(sspi_core::Qop::WRAP_NO_ENCRYPT, &mut message, 0)
            .map_err(|e| e.status()),
        Err(SecurityStatus::SEC_E_QOP_NOT_SUPPORTED)
    );
}
