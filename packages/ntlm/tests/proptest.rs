//! Property tests: every parser survives random bytes and mutated valid
//! messages (errors, never panics), every message type round-trips, and the
//! server's whole AUTHENTICATE check survives mutated messages.

use proptest::prelude::*;
use sspi_core::{IscReq, PackageParameters, Parameter, ParameterValue};
use sspi_package_ntlm::internal::config::NtlmConfig;
use sspi_package_ntlm::internal::crypto;
use sspi_package_ntlm::internal::handshake::{self, ClientIdentity, ClientRandom, ServerChallenge};
use sspi_package_ntlm::internal::messages::{
    Authenticate, AvPairs, AvPairsBuilder, Challenge, Negotiate, Ntlmv2Response, flags,
};
use std::sync::OnceLock;

fn parse_all(bytes: &[u8]) {
    let _ = Negotiate::parse(bytes);
    let _ = Challenge::parse(bytes);
    let _ = Authenticate::parse(bytes);
    let _ = AvPairs::parse(bytes);
    let _ = Ntlmv2Response::parse(bytes);
    if let Ok(message) = Authenticate::parse(bytes) {
        let _ = Ntlmv2Response::parse(message.nt_response);
    }
    if let Ok(challenge) = Challenge::parse(bytes) {
        let _ = AvPairs::parse(challenge.target_info);
    }
}

struct Fixture {
    config: NtlmConfig,
    sent: ServerChallenge,
    negotiate: Vec<u8>,
    authenticate: Vec<u8>,
}

/// A server that sent a CHALLENGE and a valid AUTHENTICATE for it.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let params = PackageParameters {
            key_path: "k".into(),
            entries: vec![Parameter {
                key: r"Users\alice".into(),
                name: "Password".into(),
                value: ParameterValue::Sz("pw".into()),
                origin: "t:1:1".into(),
            }]
            .into(),
        };
        let config = NtlmConfig::from_parameters(&params).unwrap();
        let negotiate = handshake::negotiate_message(handshake::client_negotiate_flags(
            IscReq::PROTECTED_CONNECTION,
        ))
        .unwrap();
        let sent = handshake::server_challenge(
            &config,
            &negotiate,
            [3; 8],
            sspi_package_ntlm::internal::system::filetime_now(),
        )
        .unwrap();
        let identity = ClientIdentity::new("alice", "", &crypto::nt_hash("pw"));
        let authenticate = handshake::client_authenticate(
            &identity,
            &negotiate,
            &sent.challenge,
            Some("host/x"),
            None,
            "WS",
            &ClientRandom::generate().unwrap(),
        )
        .unwrap()
        .authenticate;
        Fixture {
            config,
            sent,
            negotiate,
            authenticate,
        }
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Remove(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Mutation::Remove(i, n)),
    ]
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Set(i, b) => {
                if !bytes.is_empty() {
                    bytes[i % len] = *b;
                }
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
            Mutation::Insert(i, v) => {
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, v.iter().copied());
            }
            Mutation::Remove(i, n) => {
                let at = i % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
        }
    }
    bytes
}

fn flags_with(bits: u32, set: u32, present: bool) -> u32 {
    if present { bits | set } else { bits & !set }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        parse_all(&bytes);
        // With a valid signature and each message type in front.
        for kind in 1u32..=3 {
            let mut message = b"NTLMSSP\0".to_vec();
            message.extend_from_slice(&kind.to_le_bytes());
            message.extend_from_slice(&bytes);
            parse_all(&message);
        }
    }

    #[test]
    fn mutated_messages_never_panic_and_the_server_refuses_them(
        which in 0usize..3,
        mutations in proptest::collection::vec(mutation(), 1..6),
    ) {
        let f = fixture();
        let valid = match which {
            0 => f.negotiate.clone(),
            1 => f.sent.challenge.clone(),
            _ => f.authenticate.clone(),
        };
        let bad = mutate(valid.clone(), &mutations);
        parse_all(&bad);
        // The whole server path: parse, look up, prove, MIC.
        let result = handshake::server_authenticate(&f.config, &f.sent, &bad, None, sspi_package_ntlm::internal::system::filetime_now());
        if bad != f.authenticate {
            prop_assert!(result.is_err(), "a changed AUTHENTICATE must be refused");
        }
        let _ = handshake::server_challenge(&f.config, &bad, [1; 8], 0);
        let identity = ClientIdentity::new("alice", "", &crypto::nt_hash("pw"));
        let _ = handshake::client_authenticate(
            &identity, &f.negotiate, &bad, None, None, "WS", &ClientRandom::generate().unwrap(),
        );
    }

    #[test]
    fn negotiate_round_trips(
        bits in any::<u32>(),
        domain in proptest::collection::vec(any::<u8>(), 0..40),
        workstation in proptest::collection::vec(any::<u8>(), 0..40),
        version in any::<[u8; 8]>(),
        with_version in any::<bool>(),
    ) {
        let mut f = flags_with(bits, flags::OEM_DOMAIN_SUPPLIED, true);
        f = flags_with(f, flags::OEM_WORKSTATION_SUPPLIED, true);
        f = flags_with(f, flags::VERSION, with_version);
        let message = Negotiate {
            flags: f,
            domain: &domain,
            workstation: &workstation,
            version: with_version.then_some(version),
        };
        let bytes = message.write().unwrap();
        prop_assert_eq!(Negotiate::parse(&bytes).unwrap(), message);
    }

    #[test]
    fn challenge_round_trips(
        bits in any::<u32>(),
        server_challenge in any::<[u8; 8]>(),
        target_name in proptest::collection::vec(any::<u8>(), 0..60),
        pairs in proptest::collection::vec((1u16..12, proptest::collection::vec(any::<u8>(), 0..30)), 0..6),
        version in any::<[u8; 8]>(),
        with_version in any::<bool>(),
    ) {
        let mut builder = AvPairsBuilder::new();
        for (id, value) in &pairs {
            builder.push(*id, value).unwrap();
        }
        let target_info = builder.finish();
        let f = flags_with(flags_with(bits, flags::TARGET_INFO, true), flags::VERSION, with_version);
        let message = Challenge {
            flags: f,
            server_challenge,
            target_name: &target_name,
            target_info: &target_info,
            version: with_version.then_some(version),
        };
        let bytes = message.write().unwrap();
        let parsed = Challenge::parse(&bytes).unwrap();
        prop_assert_eq!(&parsed, &message);
        let list = AvPairs::parse(parsed.target_info).unwrap();
        let got: Vec<(u16, Vec<u8>)> = list.iter().map(|(i, v)| (i, v.to_vec())).collect();
        prop_assert_eq!(got, pairs);
    }

    #[test]
    fn authenticate_round_trips(
        bits in any::<u32>(),
        fields in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..50), 6),
        mic in proptest::option::of(any::<[u8; 16]>()),
        version in any::<[u8; 8]>(),
        with_version in any::<bool>(),
    ) {
        let f = flags_with(bits, flags::VERSION, with_version);
        let message = Authenticate {
            lm_response: &fields[0],
            nt_response: &fields[1],
            domain: &fields[2],
            user: &fields[3],
            workstation: &fields[4],
            encrypted_session_key: &fields[5],
            flags: f,
            version: with_version.then_some(version),
            mic,
        };
        let bytes = message.write().unwrap();
        prop_assert_eq!(Authenticate::parse(&bytes).unwrap(), message);
    }

    #[test]
    fn ntlmv2_response_round_trips(
        proof in any::<[u8; 16]>(),
        time in any::<u64>(),
        client_challenge in any::<[u8; 8]>(),
        pairs in proptest::collection::vec((1u16..12, proptest::collection::vec(any::<u8>(), 0..30)), 0..6),
    ) {
        let mut builder = AvPairsBuilder::new();
        for (id, value) in &pairs {
            builder.push(*id, value).unwrap();
        }
        let list = builder.finish();
        let temp = crypto::ntlmv2_temp(time, &client_challenge, &list);
        let mut response = proof.to_vec();
        response.extend_from_slice(&temp);
        let parsed = Ntlmv2Response::parse(&response).unwrap();
        prop_assert_eq!(parsed.nt_proof, proof);
        prop_assert_eq!(parsed.timestamp, time);
        prop_assert_eq!(parsed.client_challenge, client_challenge);
        prop_assert_eq!(parsed.temp, temp.as_slice());
        prop_assert_eq!(parsed.av_pairs.as_bytes(), list.as_slice());
    }
}
