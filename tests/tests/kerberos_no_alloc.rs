//! Kerberos per-message calls through the host allocate nothing (MIC and
//! sealed wrap tokens, both directions; and the contiguous token forms:
//! EncryptMessage into STREAM_HEADER/DATA/STREAM_TRAILER, DecryptMessage
//! from one SECBUFFER_STREAM buffer) — counted inside the plugin too, with
//! the counting allocator of `common/counting_malloc.rs`.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

#[path = "common/kerberos_fixture.rs"]
mod fixture;

#[path = "common/counting_malloc.rs"]
mod counting_malloc;

use sspi_core::{Qop, SecBuffer, SecBufferType};
use sspi_plugin_host::loopback;
use sspi_tests::{ASC_REQ, ISC_REQ};

#[test]
fn kerberos_sign_verify_encrypt_decrypt_allocate_nothing() {
    let realm = fixture::realm();
    let host = realm.host();
    let (client, server) = fixture::credentials(&host, None);
    let mut done =
        loopback::handshake(&client, &server, Some(fixture::SERVICE), ISC_REQ, ASC_REQ).unwrap();

    counting_malloc::assert_per_message_calls_allocate_nothing(&mut done);
}

#[test]
fn kerberos_stream_forms_allocate_nothing() {
    let realm = fixture::realm();
    let host = realm.host();
    let (client, server) = fixture::credentials(&host, None);
    let mut done =
        loopback::handshake(&client, &server, Some(fixture::SERVICE), ISC_REQ, ASC_REQ).unwrap();

    const N: usize = 1024;
    let mut data = vec![0u8; N];
    let mut head = vec![0u8; 64];
    let mut trail = vec![0u8; 64];
    let mut stream = vec![0u8; N + 128];
    let mut failures = 0usize;
    let mut opened = 0usize;
    let allocations = counting_malloc::measure(|| {
        for round in 0..400 {
            let (from, to) = if round % 2 == 0 {
                (&mut done.client, &mut done.server)
            } else {
                (&mut done.server, &mut done.client)
            };
            data.fill(0x5A);
            // Even rounds: MIT's RRC 0 token; odd: the Windows layout, both
            // handed over whole in one STREAM buffer.
            let total = if round % 4 < 2 {
                let mut message = [
                    SecBuffer::new(SecBufferType::STREAM_HEADER, &mut head),
                    SecBuffer::data(&mut data),
                    SecBuffer::new(SecBufferType::STREAM_TRAILER, &mut trail),
                ];
                failures +=
                    usize::from(from.encrypt_message(Qop::DEFAULT, &mut message, 0).is_err());
                let (h, t) = (message[0].len(), message[2].len());
                stream[..h].copy_from_slice(&head[..h]);
                stream[h..h + N].copy_from_slice(&data);
                stream[h + N..h + N + t].copy_from_slice(&trail[..t]);
                h + N + t
            } else {
                let mut message = [SecBuffer::token(&mut head), SecBuffer::data(&mut data)];
                failures +=
                    usize::from(from.encrypt_message(Qop::DEFAULT, &mut message, 0).is_err());
                let h = message[0].len();
                stream[..h].copy_from_slice(&head[..h]);
                stream[h..h + N].copy_from_slice(&data);
                h + N
            };
            let mut message = [
                SecBuffer::new(SecBufferType::STREAM, &mut stream[..total]),
                SecBuffer::data(&mut []),
            ];
            failures += usize::from(to.decrypt_message(&mut message, 0).is_err());
            let plain = message[1].as_slice();
            opened += usize::from(plain.len() == N && plain.iter().all(|&b| b == 0x5A));
        }
    });
    assert_eq!(failures, 0, "every call succeeded");
    assert_eq!(opened, 400, "DATA pointed at the plaintext every time");
    assert_eq!(
        allocations, 0,
        "stream-form per-message calls allocated {allocations} times"
    );
}
