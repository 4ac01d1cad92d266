//! Per-message protection: MakeSignature, VerifySignature, EncryptMessage
//! and DecryptMessage, in place on the caller's buffers.

use crate::buffers;
use crate::status::*;
use crate::{on_context, put};
use sspi_c_abi::*;
use sspi_core::Qop;

/// MakeSignature: in place on the caller's buffers, allocation-free.
///
/// # Safety
/// `context` NULL or readable; `message` NULL or a valid descriptor.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn MakeSignature(
    context: *mut CtxtHandle,
    qop: ULONG,
    message: *mut SecBufferDesc,
    sequence: ULONG,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe {
        on_context(context, |ctx| {
            let buffers = buffers::descriptor(message)?;
            buffers::with_views(buffers, |b| ctx.make_signature(Qop(qop), b, sequence))
                .map(|_| OK)
                .map_err(|e| e.status().0)
        })
    })
}

/// VerifySignature: sets `*pfQOP` (when not NULL) to the QOP found.
///
/// # Safety
/// As [`MakeSignature`]; `qop` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn VerifySignature(
    context: *mut CtxtHandle,
    message: *mut SecBufferDesc,
    sequence: ULONG,
    qop: *mut ULONG,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe {
        on_context(context, |ctx| {
            let buffers = buffers::descriptor(message)?;
            let found = buffers::with_views(buffers, |b| ctx.verify_signature(b, sequence))
                .map_err(|e| e.status().0)?;
            put(qop, found.0);
            Ok(OK)
        })
    })
}

/// EncryptMessage (`SECQOP_WRAP_NO_ENCRYPT` signs only, where the package offers it).
///
/// # Safety
/// As [`MakeSignature`].
#[unsafe(no_mangle)]
pub unsafe extern "system" fn EncryptMessage(
    context: *mut CtxtHandle,
    qop: ULONG,
    message: *mut SecBufferDesc,
    sequence: ULONG,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe {
        on_context(context, |ctx| {
            let buffers = buffers::descriptor(message)?;
            buffers::with_views(buffers, |b| ctx.encrypt_message(Qop(qop), b, sequence))
                .map(|_| OK)
                .map_err(|e| e.status().0)
        })
    })
}

/// DecryptMessage: sets `*pfQOP` (when not NULL).
///
/// # Safety
/// As [`VerifySignature`].
#[unsafe(no_mangle)]
pub unsafe extern "system" fn DecryptMessage(
    context: *mut CtxtHandle,
    message: *mut SecBufferDesc,
    sequence: ULONG,
    qop: *mut ULONG,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe {
        on_context(context, |ctx| {
            let buffers = buffers::descriptor(message)?;
            let found = buffers::with_views(buffers, |b| ctx.decrypt_message(b, sequence))
                .map_err(|e| e.status().0)?;
            put(qop, found.0);
            Ok(OK)
        })
    })
}
