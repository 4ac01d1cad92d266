//! Kerberos per-message calls through the host allocate nothing (MIC and
//! sealed wrap tokens, both directions) — counted inside the plugin too, with
//! the counting allocator of `common/counting_malloc.rs`.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

#[path = "common/kerberos_fixture.rs"]
mod fixture;

#[path = "common/counting_malloc.rs"]
mod counting_malloc;

use counting_malloc::measure;
use sspi_core::SecBuffer;
use sspi_plugin_host::loopback;
use sspi_tests::{ASC_REQ, ISC_REQ};

#[test]
fn kerberos_sign_verify_encrypt_decrypt_allocate_nothing() {
    let realm = fixture::realm();
    let host = realm.host();
    let (client, server) = fixture::credentials(&host, None);
    let mut done =
        loopback::handshake(&client, &server, Some(fixture::SERVICE), ISC_REQ, ASC_REQ).unwrap();

    // Control: the session key is a vector the plugin allocates.
    let mut key = None;
    assert!(measure(|| key = Some(done.server.session_key().unwrap())) > 0);

    let mut data = vec![0x5Au8; 1024];
    let mut signature = vec![0u8; 64];
    let mut trailer = vec![0u8; 64];
    let mut failures = 0usize;
    let allocations = measure(|| {
        for _ in 0..200 {
            let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
            failures += usize::from(done.client.make_signature(0, &mut message, 0).is_err());
            failures += usize::from(done.server.verify_signature(&mut message, 0).is_err());
            let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
            failures += usize::from(done.server.encrypt_message(0, &mut message, 0).is_err());
            failures += usize::from(done.client.decrypt_message(&mut message, 0).is_err());
            let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
            failures += usize::from(done.client.encrypt_message(0, &mut message, 0).is_err());
            failures += usize::from(done.server.decrypt_message(&mut message, 0).is_err());
        }
    });
    assert_eq!(failures, 0, "every call succeeded");
    assert_eq!(
        allocations, 0,
        "per-message calls allocated {allocations} times"
    );
    assert!(data.iter().all(|&b| b == 0x5A));
}
