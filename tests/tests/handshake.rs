//! The seed's handshake loop for the Test package, in every leg configuration,
//! loaded as a plugin and as a built-in, then message protection both ways.

use sspi_core::{AscRet, CredentialUse, IscRet, SecBuffer, SecBufferType, SecurityStatus};
use sspi_plugin_host::loopback::{self, TokenFlow};
use sspi_plugin_host::{PackageSource, SecurityContextHandle, SecurityHost};
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile, registry_text};

fn expected_status(leg: usize, legs: usize, complete: bool) -> SecurityStatus {
    match (leg < legs, complete) {
        (true, false) => SecurityStatus::SEC_I_CONTINUE_NEEDED,
        (true, true) => SecurityStatus::SEC_I_COMPLETE_AND_CONTINUE,
        (false, false) => SecurityStatus::SEC_E_OK,
        (false, true) => SecurityStatus::SEC_I_COMPLETE_NEEDED,
    }
}

fn round_trips(
    sender: &mut SecurityContextHandle,
    receiver: &mut SecurityContextHandle,
    text: &[u8],
) {
    let sizes = sender.sizes().unwrap();
    for _ in 0..3 {
        let mut data = text.to_vec();
        let mut signature = vec![0u8; sizes.max_signature as usize];
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
        sender
            .make_signature(sspi_core::Qop::DEFAULT, &mut message, 0)
            .unwrap();
        assert_eq!(message[1].len(), sizes.max_signature as usize);
        assert_eq!(
            receiver
                .verify_signature(&mut message, 0)
                .map_err(|e| e.status()),
            Ok(sspi_core::Qop::DEFAULT)
        );

        let mut data = text.to_vec();
        let mut trailer = vec![0u8; sizes.security_trailer as usize];
        let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
        sender
            .encrypt_message(sspi_core::Qop::DEFAULT, &mut message, 0)
            .unwrap();
        assert_ne!(
            message[1].as_slice(),
            text,
            "EncryptMessage must encrypt in place"
        );
        assert_eq!(
            receiver
                .decrypt_message(&mut message, 0)
                .map_err(|e| e.status()),
            Ok(sspi_core::Qop::DEFAULT)
        );
        assert_eq!(message[1].as_slice(), text);
    }
}

fn run_matrix(providers: &str, expect_builtin: bool) {
    for legs in [3u32, 4, 5, 6, 9, 16] {
        for complete in [false, true] {
            let registry = RegistryFile::new(&registry_text(providers, legs, complete));
            let host = registry.host();
            let entry = &host.enumerate_security_packages()[0];
            assert_eq!(entry.name(), "Test");
            assert_eq!(
                matches!(entry.source(), PackageSource::Builtin { .. }),
                expect_builtin
            );

            let client = host
                .acquire_credentials_handle("Test", None, CredentialUse::OUTBOUND, None)
                .unwrap();
            let server = host
                .acquire_credentials_handle("test", None, CredentialUse::INBOUND, None)
                .unwrap();
            let mut done =
                loopback::handshake(&client, &server, Some("host/server"), ISC_REQ, ASC_REQ)
                    .unwrap_or_else(|e| panic!("{legs} legs, complete={complete}: {e}"));

            let legs = legs as usize;
            assert_eq!(
                done.legs.len(),
                legs + 1,
                "{legs} tokens and one final call"
            );
            for (i, leg) in done.legs.iter().enumerate() {
                let n = i + 1;
                let direction = if n % 2 == 1 {
                    TokenFlow::ClientToServer
                } else {
                    TokenFlow::ServerToClient
                };
                assert_eq!(leg.flow, direction, "leg {n} of {legs}");
                if n <= legs {
                    assert_eq!(
                        leg.status,
                        expected_status(n, legs, complete),
                        "leg {n} of {legs}"
                    );
                    assert!(leg.token_len > 0);
                    assert_eq!(leg.completed, complete);
                } else {
                    assert_eq!(leg.status, SecurityStatus::SEC_E_OK, "final call");
                    assert_eq!(leg.token_len, 0);
                    assert!(!leg.completed);
                }
            }
            let client_ret = done.client_step.attributes;
            assert!(
                client_ret
                    .contains(IscRet::MUTUAL_AUTH | IscRet::CONFIDENTIALITY | IscRet::INTEGRITY)
            );
            let server_ret = done.server_step.attributes;
            assert!(
                server_ret
                    .contains(AscRet::MUTUAL_AUTH | AscRet::CONFIDENTIALITY | AscRet::INTEGRITY)
            );
            assert_eq!(done.server.names().unwrap(), r"SSPI-PLUG\alice");
            assert_eq!(done.client.names().unwrap(), r"SSPI-PLUG\alice");
            assert_eq!(
                done.client.session_key().unwrap().expose(),
                done.server.session_key().unwrap().expose(),
                "both sides derive the same session key"
            );
            round_trips(&mut done.client, &mut done.server, b"client to server");
            round_trips(&mut done.server, &mut done.client, b"server to client");
        }
    }
}

#[test]
fn test_package_every_leg_configuration_as_plugin() {
    run_matrix("sspi_test.dll", false);
}

#[test]
fn test_package_every_leg_configuration_as_builtin() {
    run_matrix("builtin:test", true);
}

/// The documented client and server loops written out call by call, as an
/// application would, with CompleteAuthToken.
#[test]
fn documented_loop_with_complete_auth_token() {
    let registry = RegistryFile::new(&registry_text("sspi_test.dll", 5, true));
    let host: SecurityHost = registry.host();
    let max_token = host.query_security_package_info("Test").unwrap().max_token as usize;
    let client_cred = host
        .acquire_credentials_handle("Test", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let server_cred = host
        .acquire_credentials_handle("Test", None, CredentialUse::INBOUND, None)
        .unwrap();

    let mut client = None;
    let mut server = None;
    let mut to_server: Vec<u8> = Vec::new();
    let mut statuses = Vec::new();

    // Client leg 1.
    let mut out = vec![0u8; max_token];
    let mut output = [SecBuffer::token(&mut out)];
    let st = client_cred
        .initialize_security_context(&mut client, Some("host/server"), ISC_REQ, &[], &mut output)
        .unwrap();
    statuses.push(st.status);
    client
        .as_mut()
        .unwrap()
        .complete_auth_token(&mut output)
        .unwrap();
    to_server.extend_from_slice(output[0].as_slice());

    loop {
        // Server leg.
        let mut out = vec![0u8; max_token];
        let input = [sspi_core::SecBufferRef::token(&to_server)];
        let mut output = [SecBuffer::token(&mut out)];
        let st = server_cred
            .accept_security_context(&mut server, ASC_REQ, &input, &mut output)
            .unwrap();
        statuses.push(st.status);
        if st.needs_complete() {
            server
                .as_mut()
                .unwrap()
                .complete_auth_token(&mut output)
                .unwrap();
        }
        let to_client = output[0].as_slice().to_vec();
        if !st.needs_continue() {
            assert!(to_client.is_empty() || st.status == SecurityStatus::SEC_I_COMPLETE_NEEDED);
            if to_client.is_empty() {
                break;
            }
        }
        // Client leg.
        let mut out = vec![0u8; max_token];
        let input = [sspi_core::SecBufferRef::token(&to_client)];
        let mut output = [SecBuffer::token(&mut out)];
        let st = client_cred
            .initialize_security_context(&mut client, None, ISC_REQ, &input, &mut output)
            .unwrap();
        statuses.push(st.status);
        if st.needs_complete() {
            client
                .as_mut()
                .unwrap()
                .complete_auth_token(&mut output)
                .unwrap();
        }
        to_server = output[0].as_slice().to_vec();
        if to_server.is_empty() {
            break;
        }
    }
    use SecurityStatus as S;
    assert_eq!(
        statuses,
        [
            S::SEC_I_COMPLETE_AND_CONTINUE,
            S::SEC_I_COMPLETE_AND_CONTINUE,
            S::SEC_I_COMPLETE_AND_CONTINUE,
            S::SEC_I_COMPLETE_AND_CONTINUE,
            S::SEC_I_COMPLETE_NEEDED,
            S::SEC_E_OK,
        ]
    );
    let mut server = server.unwrap();
    assert_eq!(server.names().unwrap(), r"SSPI-PLUG\alice");
    let mut client = client.unwrap();
    let mut data = b"payload".to_vec();
    let mut trailer = vec![0u8; 64];
    let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
    client
        .encrypt_message(sspi_core::Qop::DEFAULT, &mut message, 0)
        .unwrap();
    server.decrypt_message(&mut message, 0).unwrap();
    assert_eq!(
        message
            .iter()
            .find(|b| b.kind() == SecBufferType::DATA)
            .unwrap()
            .as_slice(),
        b"payload"
    );
}
