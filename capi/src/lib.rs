//! # libsspi.so: SSPI's C interface
//!
//! `InitSecurityInterfaceW` / `InitSecurityInterfaceA` return SSPI's
//! function tables (version 2, the SDK's slot order), and every function is
//! also exported by name, so a C program written against the Windows SDK's
//! `sspi.h` (or `capi/include/sspi.h`) calls the registry's security packages
//! unchanged. Behind them is one `SecurityHost`, loaded on the first call
//! from `SSPI_REGISTRY` (comma-separated files) or the default registry found
//! from the library's own place (see [`host`]), shared by all threads.
//!
//! * Handles are opaque and checked ([`handles`]): a NULL, freed, foreign or
//!   wrong-kind handle is SEC_E_INVALID_HANDLE.
//! * `SecBufferDesc`s are checked and translated in place ([`buffers`]).
//! * Memory returned to the caller is recorded and freed only by
//!   FreeContextBuffer ([`alloc`]); any other pointer is SEC_E_INVALID_HANDLE.
//! * No panic crosses into C: every function returns SEC_E_INTERNAL_ERROR instead.

#![allow(non_snake_case)]
#![deny(missing_docs)]

pub mod alloc;
mod attributes;
pub mod buffers;
mod credentials;
mod export;
pub mod handles;
mod handshake;
pub mod host;
mod identity;
mod messages;
mod packages;
mod status;
mod table;
mod unsupported;

#[doc(inline)]
pub use alloc::FreeContextBuffer;
pub use attributes::*;
pub use credentials::*;
pub use export::*;
pub use handshake::*;
pub use messages::*;
pub use packages::*;
pub use table::*;
pub use unsupported::*;

use handles::{CONTEXTS, CREDENTIALS};
use sspi_c_abi::wide::{read_narrow, read_wide};
use sspi_c_abi::*;
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle};
use status::*;
use std::ffi::c_void;
use std::sync::Arc;

/// Writes `value` through `ptr` when it is not NULL.
///
/// # Safety
/// `ptr` is NULL or valid for a write of `T`.
unsafe fn put<T>(ptr: *mut T, value: T) {
    if !ptr.is_null() {
        // SAFETY: the caller's guarantee; unaligned, as C may hand us anything.
        unsafe { ptr.write_unaligned(value) };
    }
}

/// # Safety
/// `ptr` is NULL or points to a readable `SecHandle`.
unsafe fn read_handle(ptr: *const SecHandle) -> Result<SecHandle, Status> {
    if ptr.is_null() {
        return Err(INVALID_HANDLE);
    }
    // SAFETY: non-NULL; the caller's guarantee.
    Ok(unsafe { ptr.read_unaligned() })
}

/// # Safety
/// As [`read_handle`].
unsafe fn credential(ptr: *const CredHandle) -> Result<Arc<CredentialsHandle>, Status> {
    // SAFETY: the caller's guarantee.
    let handle = unsafe { read_handle(ptr) }?;
    CREDENTIALS.get(&handle).ok_or(INVALID_HANDLE)
}

/// A caller's string argument: UTF-16 for the W functions, UTF-8 for A.
enum Text {
    Wide(*const u16),
    Narrow(*const u8),
}

impl Text {
    /// # Safety
    /// The pointer is NULL or a NUL-terminated string.
    unsafe fn read(self) -> Result<Option<String>, Status> {
        // SAFETY: the caller's guarantee.
        let read = unsafe {
            match self {
                Text::Wide(p) => read_wide(p),
                Text::Narrow(p) => read_narrow(p),
            }
        };
        read.map_err(|_| INVALID_PARAMETER)
    }
}

fn text_block(text: &str, wide: bool) -> Result<*mut c_void, Status> {
    if wide {
        alloc::wide_string(text).map(|p| p as *mut c_void)
    } else {
        alloc::narrow_string(text).map(|p| p as *mut c_void)
    }
    .ok_or(INSUFFICIENT_MEMORY)
}

/// Runs `f` on the context behind `handle`.
///
/// # Safety
/// `handle` is NULL or readable.
#[inline(always)]
unsafe fn on_context(
    handle: *mut CtxtHandle,
    f: impl FnOnce(&mut SecurityContextHandle) -> Result<Status, Status>,
) -> Result<Status, Status> {
    // SAFETY: the caller's guarantee.
    let handle = unsafe { read_handle(handle) }?;
    // Only the context's slot is locked, for the call.
    CONTEXTS
        .with(&handle, |entry| {
            f(entry.context.as_mut().ok_or(INVALID_HANDLE)?)
        })
        .ok_or(INVALID_HANDLE)?
}
