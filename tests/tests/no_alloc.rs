//! Per-message calls through the host allocate nothing — counted inside the
//! plugin too.
//!
//! A plugin has its own Rust global allocator (the system `malloc`), so a
//! counting `#[global_allocator]` here would not see its allocations. Instead
//! this test binary defines `malloc` and friends itself: the dynamic linker
//! binds every library's `malloc`, the plugin's included, to the executable's
//! definition, which counts and forwards to glibc's `__libc_*` entry points.
//! A control measurement proves allocations inside the plugin are seen.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use sspi_core::SecBuffer;
use sspi_tests::{RegistryFile, established, registry_text};
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static ARMED: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

fn count() {
    if ARMED.load(Ordering::Relaxed) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe extern "C" {
    fn __libc_malloc(size: usize) -> *mut c_void;
    fn __libc_calloc(count: usize, size: usize) -> *mut c_void;
    fn __libc_realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
    fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
    fn __libc_free(ptr: *mut c_void);
}

// SAFETY (all of the interposers below): each forwards its arguments unchanged
// to glibc's own implementation, which has the same contract, so every caller
// gets exactly the behaviour of the C library it linked against; the only
// addition is an atomic counter, which neither allocates nor locks.

/// Counting `malloc`.
#[unsafe(no_mangle)]
unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    count();
    unsafe { __libc_malloc(size) }
}

/// Counting `calloc`.
#[unsafe(no_mangle)]
unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    count();
    unsafe { __libc_calloc(n, size) }
}

/// Counting `realloc`.
#[unsafe(no_mangle)]
unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    count();
    unsafe { __libc_realloc(ptr, size) }
}

/// Counting `memalign`.
#[unsafe(no_mangle)]
unsafe extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    count();
    unsafe { __libc_memalign(align, size) }
}

/// Counting `aligned_alloc`.
#[unsafe(no_mangle)]
unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    count();
    unsafe { __libc_memalign(align, size) }
}

/// Counting `posix_memalign`.
#[unsafe(no_mangle)]
unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int {
    count();
    let ptr = unsafe { __libc_memalign(align, size) };
    if ptr.is_null() {
        return 12; // ENOMEM
    }
    // SAFETY: the caller passes a valid place for the result, per posix_memalign's contract.
    unsafe { *out = ptr };
    0
}

/// `free` (not counted: freeing is not allocating).
#[unsafe(no_mangle)]
unsafe extern "C" fn free(ptr: *mut c_void) {
    unsafe { __libc_free(ptr) }
}

fn measure(f: impl FnOnce()) -> usize {
    ALLOCATIONS.store(0, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    f();
    ARMED.store(false, Ordering::SeqCst);
    ALLOCATIONS.load(Ordering::SeqCst)
}

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
