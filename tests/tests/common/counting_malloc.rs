//! Counts every allocation in the process, the plugins' included.
//!
//! A plugin has its own Rust global allocator (the system `malloc`), so a
//! counting `#[global_allocator]` would not see its allocations. Instead the
//! test binary that includes this module defines `malloc` and friends itself:
//! the dynamic linker binds every library's `malloc`, the plugins' included,
//! to the executable's definition, which counts and forwards to glibc's
//! `__libc_*` entry points. Include it in one test binary per process
//! (`#[path = "common/counting_malloc.rs"] mod counting_malloc;`).
#![allow(dead_code)]

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicIsize, Ordering};

// Allocations are counted per thread, so tests running in parallel do not
// disturb each other's counts; live bytes are process-wide.
thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

unsafe extern "C" {
    fn __libc_malloc(size: usize) -> *mut c_void;
    fn __libc_calloc(count: usize, size: usize) -> *mut c_void;
    fn __libc_realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
    fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
    fn __libc_free(ptr: *mut c_void);
    fn malloc_usable_size(ptr: *mut c_void) -> usize;
}

fn allocated(ptr: *mut c_void) -> *mut c_void {
    if !ptr.is_null() {
        // `try_with`: the thread may be tearing down its thread-locals.
        let _ = ARMED.try_with(|armed| {
            if armed.get() {
                let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            }
        });
        // SAFETY: `ptr` was just returned by glibc's allocator.
        let size = unsafe { malloc_usable_size(ptr) };
        LIVE_BYTES.fetch_add(size as isize, Ordering::Relaxed);
    }
    ptr
}

fn released(ptr: *mut c_void) {
    if !ptr.is_null() {
        // SAFETY: `ptr` is a live allocation of glibc's allocator, about to be freed.
        let size = unsafe { malloc_usable_size(ptr) };
        LIVE_BYTES.fetch_sub(size as isize, Ordering::Relaxed);
    }
}

// SAFETY (all of the interposers below): each forwards its arguments unchanged
// to glibc's own implementation, which has the same contract, so every caller
// gets exactly the behaviour of the C library it linked against; the only
// additions are counters (an atomic, and thread-locals with constant
// initialisation), which neither allocate nor lock.

#[unsafe(no_mangle)]
unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    allocated(unsafe { __libc_malloc(size) })
}

#[unsafe(no_mangle)]
unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    allocated(unsafe { __libc_calloc(n, size) })
}

#[unsafe(no_mangle)]
unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    released(ptr);
    let new = unsafe { __libc_realloc(ptr, size) };
    if new.is_null() && size != 0 {
        // The old block is still live.
        if !ptr.is_null() {
            // SAFETY: realloc failed, so `ptr` was not freed.
            LIVE_BYTES.fetch_add(
                unsafe { malloc_usable_size(ptr) } as isize,
                Ordering::Relaxed,
            );
        }
        return new;
    }
    allocated(new)
}

#[unsafe(no_mangle)]
unsafe extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    allocated(unsafe { __libc_memalign(align, size) })
}

#[unsafe(no_mangle)]
unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    allocated(unsafe { __libc_memalign(align, size) })
}

#[unsafe(no_mangle)]
unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int {
    let ptr = allocated(unsafe { __libc_memalign(align, size) });
    if ptr.is_null() {
        return 12; // ENOMEM
    }
    // SAFETY: the caller passes a valid place for the result, per posix_memalign's contract.
    unsafe { *out = ptr };
    0
}

#[unsafe(no_mangle)]
unsafe extern "C" fn free(ptr: *mut c_void) {
    released(ptr);
    unsafe { __libc_free(ptr) }
}

/// How many allocations `f` made on this thread, in any library.
pub fn measure(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    ARMED.with(|armed| armed.set(true));
    f();
    ARMED.with(|armed| armed.set(false));
    ALLOCATIONS.with(Cell::get)
}

/// Bytes allocated and not yet freed, process-wide.
pub fn live_bytes() -> isize {
    LIVE_BYTES.load(Ordering::SeqCst)
}

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
