//! Kerberos per-message calls through the host allocate nothing (MIC and
//! sealed wrap tokens, both directions) — counted inside the plugin too, with
//! the counting allocator of `common/counting_malloc.rs`.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

#[path = "common/kerberos_fixture.rs"]
mod fixture;

#[path = "common/counting_malloc.rs"]
mod counting_malloc;

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
