//! Counting allocations in the whole process, plugins included.
//!
//! A plugin has its own Rust global allocator (the system `malloc`), so a
//! counting `#[global_allocator]` in the host would not see its allocations.
//! Instead the executable defines `malloc` and its relatives itself, with
//! [`count_allocations!`](crate::count_allocations): the dynamic linker binds
//! every library's `malloc`, the plugins' included, to the executable's
//! definition, which counts (per thread, only while [`measure`] runs) and
//! forwards to glibc's `__libc_*` entry points. glibc on Linux only; elsewhere
//! the macro defines nothing and [`installed`] is false.

use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};

/// Bytes allocated and not yet freed, process-wide (usable sizes).
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// Called by the interposed allocation functions for each block they return
/// (`usable` is its usable size, 0 for a null pointer).
#[doc(hidden)]
#[inline]
pub fn __allocated(ok: bool, usable: usize) {
    if ok {
        LIVE_BYTES.fetch_add(usable as isize, Ordering::Relaxed);
        // `try_with`: the thread may be tearing down its thread-locals.
        let _ = ARMED.try_with(|armed| {
            if armed.get() {
                let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
            }
        });
    }
}

/// Called by the interposed `free` (and `realloc`) for each block released.
#[doc(hidden)]
#[inline]
pub fn __released(usable: usize) {
    LIVE_BYTES.fetch_sub(usable as isize, Ordering::Relaxed);
}

/// Bytes allocated and not yet freed in the whole process, plugins included
/// (0 when the counter is not [installed]): compare before and after a run
/// to see what it leaked.
pub fn live_bytes() -> isize {
    LIVE_BYTES.load(Ordering::SeqCst)
}

/// How many allocations `f` made on this thread, in any library of the
/// process (0 when the counter is not [installed]).
pub fn measure(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    ARMED.with(|armed| armed.set(true));
    f();
    ARMED.with(|armed| armed.set(false));
    ALLOCATIONS.with(Cell::get)
}

/// True when this executable invoked [`count_allocations!`](crate::count_allocations)
/// (an allocation made here is seen).
pub fn installed() -> bool {
    measure(|| drop(std::hint::black_box(Box::new(0u64)))) > 0
}

/// Defines `malloc`, `calloc`, `realloc`, `memalign`, `aligned_alloc`,
/// `posix_memalign` and `free` in the executable that invokes it, counting for
/// [`alloc::measure`](crate::alloc::measure) and
/// [`alloc::live_bytes`](crate::alloc::live_bytes) and forwarding to glibc. Invoke it
/// once per executable (a test binary, or the program that runs the kit),
/// at any module level; on targets other than Linux with glibc it expands to nothing.
///
/// ```no_run
/// sspi_testkit::count_allocations!();
///
/// fn main() {
///     assert!(sspi_testkit::alloc::installed());
/// }
/// ```
#[macro_export]
macro_rules! count_allocations {
    () => {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        #[doc(hidden)]
        pub mod __sspi_testkit_counting_malloc {
            use ::std::ffi::{c_int, c_void};

            unsafe extern "C" {
                fn __libc_malloc(size: usize) -> *mut c_void;
                fn __libc_calloc(count: usize, size: usize) -> *mut c_void;
                fn __libc_realloc(ptr: *mut c_void, size: usize) -> *mut c_void;
                fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
                fn __libc_free(ptr: *mut c_void);
                fn malloc_usable_size(ptr: *mut c_void) -> usize;
            }

            fn usable(ptr: *mut c_void) -> usize {
                if ptr.is_null() {
                    return 0;
                }
                // SAFETY: `ptr` is a live block of glibc's allocator.
                unsafe { malloc_usable_size(ptr) }
            }

            fn counted(ptr: *mut c_void) -> *mut c_void {
                $crate::alloc::__allocated(!ptr.is_null(), usable(ptr));
                ptr
            }

            // SAFETY (all of these): each forwards its arguments unchanged to
            // glibc's own implementation, which has the same contract; the only
            // additions are a thread-local counter with constant initialisation
            // and an atomic, which neither allocate nor lock.
            #[unsafe(no_mangle)]
            unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
                counted(unsafe { __libc_malloc(size) })
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
                counted(unsafe { __libc_calloc(n, size) })
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
                let before = usable(ptr);
                let moved = unsafe { __libc_realloc(ptr, size) };
                if !moved.is_null() || size == 0 {
                    $crate::alloc::__released(before);
                }
                counted(moved)
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn free(ptr: *mut c_void) {
                $crate::alloc::__released(usable(ptr));
                unsafe { __libc_free(ptr) }
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
                counted(unsafe { __libc_memalign(align, size) })
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
                counted(unsafe { __libc_memalign(align, size) })
            }

            #[unsafe(no_mangle)]
            unsafe extern "C" fn posix_memalign(
                out: *mut *mut c_void,
                align: usize,
                size: usize,
            ) -> c_int {
                let ptr = counted(unsafe { __libc_memalign(align, size) });
                if ptr.is_null() {
                    return 12; // ENOMEM
                }
                // SAFETY: the caller passes a valid place for the result, per posix_memalign's contract.
                unsafe { *out = ptr };
                0
            }
        }
    };
}

#[cfg(test)]
mod tests {
    // This test binary does not invoke `count_allocations!`: nothing is
    // counted, and the kit can tell (its `no-allocation` rule then fails
    // saying so instead of passing on a count of 0).
    #[test]
    fn without_the_interposer_nothing_is_counted_and_it_shows() {
        assert!(!super::installed());
        assert_eq!(
            super::measure(|| drop(std::hint::black_box(vec![0u8; 64]))),
            0
        );
    }
}
