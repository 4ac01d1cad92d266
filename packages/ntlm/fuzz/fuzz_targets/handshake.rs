//! The whole handshake paths on hostile input: the server's CHALLENGE
//! construction from an arbitrary NEGOTIATE, the client's AUTHENTICATE from an
//! arbitrary CHALLENGE, and the server's check of an arbitrary AUTHENTICATE
//! (user lookup, proof, MIC). Never a panic; an AUTHENTICATE not produced by
//! the client is never accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspi_core::{IscReq, PackageParameters, Parameter, ParameterValue};
use sspi_package_ntlm::internal::config::NtlmConfig;
use sspi_package_ntlm::internal::crypto;
use sspi_package_ntlm::internal::handshake::{self, ClientIdentity, ClientRandom, ServerChallenge};
use std::sync::OnceLock;

struct Fixture {
    config: NtlmConfig,
    negotiate: Vec<u8>,
    sent: ServerChallenge,
    identity: ClientIdentity,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let params = PackageParameters {
            key_path: "fuzz".into(),
            entries: vec![Parameter {
                key: r"Users\alice".into(),
                name: "Password".into(),
                value: ParameterValue::Sz("pw".into()),
                origin: "fuzz:1:1".into(),
            }]
            .into(),
        };
        let config = NtlmConfig::from_parameters(&params).unwrap();
        let negotiate = handshake::negotiate_message(handshake::client_negotiate_flags(
            IscReq::PROTECTED_CONNECTION,
        ))
        .unwrap();
        let sent = handshake::server_challenge(&config, &negotiate, [9; 8], 0).unwrap();
        let identity = ClientIdentity::new("alice", "", &crypto::nt_hash("pw"));
        Fixture {
            config,
            negotiate,
            sent,
            identity,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let _ = handshake::server_challenge(&f.config, data, [1; 8], 0);
    let random = ClientRandom {
        client_challenge: [2; 8],
        session_key: [3; 16].into(),
        now: 0,
    };
    let _ = handshake::client_authenticate(
        &f.identity,
        &f.negotiate,
        data,
        Some("host/x"),
        None,
        "WS",
        &random,
    );
    assert!(handshake::server_authenticate(&f.config, &f.sent, data, None, 0).is_err());
});
