//! Counts every allocation in the process, the plugins' included, with the
//! conformance kit's interposer (`sspi_testkit::count_allocations!`: the test
//! binary defines `malloc` and friends, so the dynamic linker binds every
//! library's, the plugins' included, to it). Include it in one test binary
//! per process (`#[path = "common/counting_malloc.rs"] mod counting_malloc;`).
#![allow(dead_code, unused_imports)]

sspi_testkit::count_allocations!();

pub use sspi_testkit::alloc::{live_bytes, measure};

/// Asserts that MakeSignature, VerifySignature, EncryptMessage and
/// DecryptMessage through `done`'s contexts allocate nothing: 200 rounds of
/// each, both ways, over 1 KiB. A control first proves the counter sees
/// allocations made inside the plugin (the session key is a vector the
/// plugin allocates and the host only passes on).
pub fn assert_per_message_calls_allocate_nothing(
    done: &mut sspi_plugin_host::loopback::CompletedHandshake,
) {
    use sspi_core::SecBuffer;
    let mut key = None;
    let in_plugin = measure(|| key = Some(done.server.session_key().unwrap()));
    assert!(
        in_plugin > 0,
        "the interposed malloc must see the plugin's allocations"
    );
    assert!(key.is_some_and(|k| !k.is_empty()));

    let mut data = vec![0x5Au8; 1024];
    let mut signature = vec![0u8; 64];
    let mut trailer = vec![0u8; 64];
    let mut failures = 0usize;
    let allocations = measure(|| {
        for round in 0..400 {
            let (from, to) = if round % 2 == 0 {
                (&mut done.client, &mut done.server)
            } else {
                (&mut done.server, &mut done.client)
            };
            let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
            failures += usize::from(
                from.make_signature(sspi_core::Qop::DEFAULT, &mut message, 0)
                    .is_err(),
            );
            failures += usize::from(to.verify_signature(&mut message, 0).is_err());
            let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
            failures += usize::from(
                from.encrypt_message(sspi_core::Qop::DEFAULT, &mut message, 0)
                    .is_err(),
            );
            failures += usize::from(to.decrypt_message(&mut message, 0).is_err());
        }
    });
    assert_eq!(failures, 0, "every call succeeded");
    assert_eq!(
        allocations, 0,
        "per-message calls allocated {allocations} times"
    );
    assert!(
        data.iter().all(|&b| b == 0x5A),
        "the data survived the round trips"
    );
}
