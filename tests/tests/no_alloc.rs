//! Per-message calls through the host allocate nothing — counted inside the
//! plugin too (see `common/counting_malloc.rs`). A control measurement proves
//! allocations inside the plugin are seen.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use sspi_tests::{RegistryFile, established, registry_text};

#[path = "common/counting_malloc.rs"]
mod counting_malloc;

#[test]
fn sign_verify_encrypt_decrypt_through_the_plugin_allocate_nothing() {
    let registry = RegistryFile::new(&registry_text("sspi_test.dll", 4, false));
    let host = registry.host();
    let mut done = established(&host);

    counting_malloc::assert_per_message_calls_allocate_nothing(&mut done);
}
