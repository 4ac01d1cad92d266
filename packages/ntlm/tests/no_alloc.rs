//! The four per-message calls allocate nothing, through the leg engine,
//! on success and on every kind of refusal (the kit's malloc interposer;
//! `tests/tests/ntlm.rs` counts inside the plugin too).

mod common;

use common::{Context, parameters, sz};
use sspi_core::{AscReq, CredentialUse, IscReq, Qop, SecBuffer, SecBufferRef, SecurityStatus};
// Every allocation of the process counts (the conformance kit's interposer).
sspi_testkit::count_allocations!();

/// How many allocations `f` made on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    assert!(
        sspi_testkit::alloc::installed(),
        "the counter must see allocations"
    );
    sspi_testkit::alloc::measure(f)
}

fn established() -> (Context, Context) {
    let package = common::open(&parameters(vec![
        ("", "DefaultUser", sz("alice")),
        (r"Users\alice", "Password", sz("pw")),
    ]))
    .unwrap();
    let mut client = package
        .credentials(CredentialUse::OUTBOUND, None)
        .unwrap()
        .client(Some("host/x"), IscReq::PROTECTED_CONNECTION)
        .unwrap();
    let mut server = package
        .credentials(CredentialUse::INBOUND, None)
        .unwrap()
        .server(AscReq::PROTECTED_CONNECTION)
        .unwrap();
    let mut token: Vec<u8> = Vec::new();
    for leg in 0..4 {
        let mut out = vec![0u8; sspi_package_ntlm::MAX_TOKEN];
        let input = [SecBufferRef::token(&token)];
        let mut output = [SecBuffer::token(&mut out)];
        if leg % 2 == 0 {
            client.isc(&input[..leg.min(1)], &mut output).unwrap();
        } else {
            server.asc(&input, &mut output).unwrap();
        }
        token = output[0].as_slice().to_vec();
    }
    (client, server)
}

#[test]
fn per_message_calls_allocate_nothing() {
    let (mut client, mut server) = established();
    let mut data = vec![0x5Au8; 4096];
    let mut token = [0u8; 16];
    let mut results = Vec::with_capacity(64);
    let n = allocations(|| {
        for _ in 0..10 {
            let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
            results.push(client.encrypt_message(Qop::DEFAULT, &mut message));
            results.push(server.decrypt_message(&mut message));
            let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
            results.push(server.make_signature(Qop::DEFAULT, &mut message));
            results.push(client.verify_signature(&mut message));
        }
    });
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(n, 0, "successful per-message calls allocated {n} times");

    // Refusals: a replay, a tampered signature, a short TOKEN buffer.
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
    client.make_signature(Qop::DEFAULT, &mut message).unwrap();
    let signature = token;
    server
        .verify_signature(&mut [SecBuffer::data(&mut data), SecBuffer::token(&mut token)])
        .unwrap();
    results.clear();
    let mut short = [0u8; 8];
    let n = allocations(|| {
        let mut replay = signature;
        results.push(
            server
                .verify_signature(&mut [SecBuffer::data(&mut data), SecBuffer::token(&mut replay)]),
        );
        client
            .make_signature(
                Qop::DEFAULT,
                &mut [SecBuffer::data(&mut data), SecBuffer::token(&mut token)],
            )
            .unwrap();
        token[5] ^= 1;
        results.push(
            server
                .verify_signature(&mut [SecBuffer::data(&mut data), SecBuffer::token(&mut token)]),
        );
        results.push(client.make_signature(
            Qop::DEFAULT,
            &mut [SecBuffer::data(&mut data), SecBuffer::token(&mut short)],
        ));
    });
    let statuses: Vec<_> = results.iter().map(|r| r.unwrap_err().status()).collect();
    assert_eq!(
        statuses,
        [
            SecurityStatus::SEC_E_OUT_OF_SEQUENCE,
            SecurityStatus::SEC_E_MESSAGE_ALTERED,
            SecurityStatus::SEC_E_BUFFER_TOO_SMALL
        ]
    );
    assert_eq!(n, 0, "refused per-message calls allocated {n} times");
}
