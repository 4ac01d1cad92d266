//! Per-message calls through the host allocate nothing — counted inside the
//! plugin too (see `common/counting_malloc.rs`). A control measurement proves
//! allocations inside the plugin are seen.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use sspi_core::SecBuffer;
use sspi_tests::{RegistryFile, established, registry_text};

#[path = "common/counting_malloc.rs"]
mod counting_malloc;

use counting_malloc::measure;

#[test]
fn sign_verify_encrypt_decrypt_through_the_plugin_allocate_nothing() {
    let registry = RegistryFile::new(&registry_text("sspi_test.dll", 4, false));
    let host = registry.host();
    let mut done = established(&host);

    // Control: the counter sees allocations made inside the plugin. The
    // session key is a vector the plugin allocates and the host only passes on.
    let mut key = None;
    let in_plugin = measure(|| key = Some(done.server.session_key().unwrap()));
    assert!(
        in_plugin > 0,
        "the interposed malloc must see the plugin's allocations"
    );
    assert_eq!(key.map(|k| k.len()), Some(32));

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
        }
    });
    assert_eq!(failures, 0, "every call succeeded");
    assert_eq!(
        allocations, 0,
        "per-message calls allocated {allocations} times"
    );
    assert!(
        data.iter().all(|&b| b == 0x5A),
        "the data survived 200 seal/open round trips"
    );
}
