//! Moving a context between processes: ExportSecurityContext and
//! ImportSecurityContextW/A.

use crate::handles::{CONTEXTS, ContextEntry};
use crate::status::*;
use crate::{Text, put, read_handle};
use crate::{alloc, host};
use sspi_c_abi::*;
use sspi_core::SecurityStatus;
use std::ffi::c_void;
use std::ptr::null_mut;

/// ExportSecurityContext: the packed context (sspi-core's versioned,
/// digest-checked blob) in memory this library allocates.
///
/// # Safety
/// `context` NULL or readable; `packed` NULL or a writable `SecBuffer`;
/// `token` NULL or writable.
unsafe fn export_context(
    context: *mut CtxtHandle,
    flags: ULONG,
    packed: *mut sspi_c_abi::SecBuffer,
    token: *mut *mut c_void,
) -> Result<Status, Status> {
    // SAFETY: the caller's guarantee.
    let handle = unsafe { read_handle(context) }?;
    if flags & SECPKG_CONTEXT_EXPORT_TO_KERNEL != 0 {
        return Err(UNSUPPORTED);
    }
    if flags & !(SECPKG_CONTEXT_EXPORT_RESET_NEW | SECPKG_CONTEXT_EXPORT_DELETE_OLD) != 0
        || packed.is_null()
    {
        return Err(INVALID_PARAMETER);
    }
    let reset_new = flags & SECPKG_CONTEXT_EXPORT_RESET_NEW != 0;
    let blob = if flags & SECPKG_CONTEXT_EXPORT_DELETE_OLD != 0 {
        // As SSPI (and the Rust API): the old context is deleted, whether
        // or not the export succeeds.
        let entry = CONTEXTS.remove(&handle).ok_or(INVALID_HANDLE)?;
        let context = entry.context.ok_or(INVALID_HANDLE)?;
        context.export_and_delete(reset_new)
    } else {
        CONTEXTS
            .with(&handle, |entry| {
                let context = entry.context.as_ref().ok_or(INVALID_HANDLE)?;
                Ok::<_, Status>(context.export_security_context(reset_new))
            })
            .ok_or(INVALID_HANDLE)??
    }
    .map_err(status)?;
    // The copy handed to C is wiped by FreeContextBuffer; `blob` when dropped.
    let block = alloc::copy_bytes(blob.expose()).ok_or(INSUFFICIENT_MEMORY)?;
    // SAFETY: `packed` checked non-NULL; `token` NULL or writable.
    unsafe {
        (*packed).cb_buffer = blob.len() as ULONG;
        (*packed).pv_buffer = block as *mut c_void;
        put(token, null_mut());
    }
    Ok(OK)
}

/// ImportSecurityContextW / A: a context from a packed one (the `Token`
/// argument is ignored: there are no access tokens here).
///
/// # Safety
/// `package` NULL or NUL-terminated; `packed` NULL or a readable `SecBuffer`
/// whose `pvBuffer` holds `cbBuffer` bytes; `context` NULL or writable.
unsafe fn import_context(
    package: Text,
    packed: *mut sspi_c_abi::SecBuffer,
    context: *mut CtxtHandle,
) -> Result<Status, Status> {
    // SAFETY: the caller's string.
    let package = unsafe { package.read() }?.ok_or(SecurityStatus::SEC_E_SECPKG_NOT_FOUND.0)?;
    if packed.is_null() || context.is_null() {
        return Err(INVALID_PARAMETER);
    }
    // SAFETY: non-NULL, readable (the caller's guarantee).
    let packed = unsafe { packed.read_unaligned() };
    let blob: &[u8] = match (packed.cb_buffer, packed.pv_buffer.is_null()) {
        (0, _) => &[],
        (_, true) => return Err(INVALID_PARAMETER),
        // SAFETY: `cb_buffer` readable bytes at `pv_buffer` (the caller's guarantee).
        (len, false) => unsafe {
            std::slice::from_raw_parts(packed.pv_buffer as *const u8, len as usize)
        },
    };
    let imported = host::host()?
        .import_security_context(&package, blob)
        .map_err(status)?;
    let handle = CONTEXTS
        .insert(ContextEntry {
            credentials: None,
            context: Some(imported),
        })
        .ok_or(INSUFFICIENT_MEMORY)?;
    // SAFETY: checked non-NULL; the caller provides it for writing.
    unsafe { put(context, handle) };
    Ok(OK)
}

/// ExportSecurityContext: `pPackedContext` receives the packed context
/// (allocated here: free it with FreeContextBuffer, which wipes it; it holds
/// the context's keys), `*pToken` is set to NULL.
/// SECPKG_CONTEXT_EXPORT_DELETE_OLD deletes the context (even when the export
/// fails, as in SSPI), SECPKG_CONTEXT_EXPORT_RESET_NEW resets its sequence
/// numbers where the package allows it, SECPKG_CONTEXT_EXPORT_TO_KERNEL is
/// SEC_E_UNSUPPORTED_FUNCTION, other flag bits SEC_E_INVALID_PARAMETER.
///
/// # Safety
/// `context` NULL or readable; `packed`, `token` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExportSecurityContext(
    context: *mut CtxtHandle,
    flags: ULONG,
    packed: *mut sspi_c_abi::SecBuffer,
    token: *mut *mut c_void,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe { export_context(context, flags, packed, token) })
}

/// ImportSecurityContextW: a new context from a packed one (a tampered,
/// foreign or other package's blob is SEC_E_INVALID_TOKEN); `Token` is ignored.
///
/// # Safety
/// `package` NULL or NUL-terminated; `packed` NULL or readable; `context` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ImportSecurityContextW(
    package: *mut SEC_WCHAR,
    packed: *mut sspi_c_abi::SecBuffer,
    _token: *mut c_void,
    context: *mut CtxtHandle,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe { import_context(Text::Wide(package), packed, context) })
}

/// ImportSecurityContextA.
///
/// # Safety
/// As [`ImportSecurityContextW`].
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ImportSecurityContextA(
    package: *mut SEC_CHAR,
    packed: *mut sspi_c_abi::SecBuffer,
    _token: *mut c_void,
    context: *mut CtxtHandle,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe { import_context(Text::Narrow(package), packed, context) })
}
