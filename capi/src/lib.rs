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

mod alloc;
mod buffers;
mod handles;
mod host;
mod identity;

use handles::{CONTEXTS, CREDENTIALS, ContextEntry};
use sspi_c_abi::wide::{read_narrow, read_wide};
use sspi_c_abi::*;
use sspi_core::{
    AscReq, CredentialUse, IscReq, PackageInfo, Qop, SecBuffer as RBuffer, SecBufferRef,
    SecBufferType, SecurityError, SecurityStatus,
};
use sspi_plugin_host::{
    ContextAttribute, ContextAttributeValue, CredentialsHandle, SecurityContextHandle,
};
use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::null_mut;
use std::sync::Arc;

type Status = SECURITY_STATUS;

const OK: Status = SecurityStatus::SEC_E_OK.0;
const INVALID_HANDLE: Status = SecurityStatus::SEC_E_INVALID_HANDLE.0;
const INVALID_PARAMETER: Status = SecurityStatus::SEC_E_INVALID_PARAMETER.0;
const UNSUPPORTED: Status = SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION.0;
const INTERNAL_ERROR: Status = SecurityStatus::SEC_E_INTERNAL_ERROR.0;
const INSUFFICIENT_MEMORY: Status = SecurityStatus::SEC_E_INSUFFICIENT_MEMORY.0;
const BUFFER_TOO_SMALL: Status = SecurityStatus::SEC_E_BUFFER_TOO_SMALL.0;
/// ISC_REQ_ALLOCATE_MEMORY = ASC_REQ_ALLOCATE_MEMORY; the RET bits are the same.
const ALLOCATE_MEMORY: ULONG = 0x100;
/// The largest output token allocated for a caller (the allocation grows
/// from `cbMaxToken` up to this while the package says it is too small).
const MAX_ALLOCATED_TOKEN: usize = 16 * 1024 * 1024;

/// Runs an entry point's body: a panic becomes SEC_E_INTERNAL_ERROR.
#[inline(always)]
fn guard(body: impl FnOnce() -> Result<Status, Status>) -> Status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status) | Err(status)) => status,
        Err(_) => INTERNAL_ERROR,
    }
}

fn status(error: SecurityError) -> Status {
    error.status().0
}

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

// ---------------------------------------------------------------- packages

unsafe fn enumerate(
    count: *mut ULONG,
    info: *mut *mut c_void,
    wide: bool,
) -> Result<Status, Status> {
    if count.is_null() || info.is_null() {
        return Err(INVALID_PARAMETER);
    }
    let infos: Vec<&PackageInfo> = host::host()?.available_packages().collect();
    let block = if wide {
        alloc::package_infos_w(&infos).map(|p| p as *mut c_void)
    } else {
        alloc::package_infos_a(&infos).map(|p| p as *mut c_void)
    }
    .ok_or(INSUFFICIENT_MEMORY)?;
    // SAFETY: both checked non-NULL; the caller provides them for writing.
    unsafe {
        put(count, infos.len() as ULONG);
        put(info, block);
    }
    Ok(OK)
}

/// EnumerateSecurityPackagesW: the available packages, one block freed with FreeContextBuffer.
///
/// # Safety
/// The pointers are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn EnumerateSecurityPackagesW(
    pc_packages: *mut ULONG,
    pp_info: *mut *mut SecPkgInfoW,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe { enumerate(pc_packages, pp_info as *mut *mut c_void, true) })
}

/// EnumerateSecurityPackagesA.
///
/// # Safety
/// The pointers are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn EnumerateSecurityPackagesA(
    pc_packages: *mut ULONG,
    pp_info: *mut *mut SecPkgInfoA,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe { enumerate(pc_packages, pp_info as *mut *mut c_void, false) })
}

unsafe fn query_package(name: Text, info: *mut *mut c_void, wide: bool) -> Result<Status, Status> {
    if info.is_null() {
        return Err(INVALID_PARAMETER);
    }
    // SAFETY: the caller's string.
    let name = unsafe { name.read() }?.ok_or(SecurityStatus::SEC_E_SECPKG_NOT_FOUND.0)?;
    let found = host::host()?
        .query_security_package_info(&name)
        .map_err(status)?;
    let block = if wide {
        alloc::package_infos_w(&[found]).map(|p| p as *mut c_void)
    } else {
        alloc::package_infos_a(&[found]).map(|p| p as *mut c_void)
    }
    .ok_or(INSUFFICIENT_MEMORY)?;
    // SAFETY: checked non-NULL.
    unsafe { put(info, block) };
    Ok(OK)
}

/// QuerySecurityPackageInfoW: SEC_E_SECPKG_NOT_FOUND for an unknown or unavailable package.
///
/// # Safety
/// `name` is NULL or NUL-terminated; `info` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn QuerySecurityPackageInfoW(
    name: *mut SEC_WCHAR,
    info: *mut *mut SecPkgInfoW,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe { query_package(Text::Wide(name), info as *mut *mut c_void, true) })
}

/// QuerySecurityPackageInfoA.
///
/// # Safety
/// As [`QuerySecurityPackageInfoW`].
#[unsafe(no_mangle)]
pub unsafe extern "system" fn QuerySecurityPackageInfoA(
    name: *mut SEC_CHAR,
    info: *mut *mut SecPkgInfoA,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe { query_package(Text::Narrow(name), info as *mut *mut c_void, false) })
}

/// FreeContextBuffer: frees memory this library returned (NULL is fine);
/// any other pointer is SEC_E_INVALID_HANDLE and is left alone.
///
/// # Safety
/// `buffer` is not used by the caller after a successful call.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FreeContextBuffer(buffer: *mut c_void) -> Status {
    guard(|| {
        if buffer.is_null() || alloc::free(buffer as *mut u8) {
            Ok(OK)
        } else {
            Err(INVALID_HANDLE)
        }
    })
}

// ------------------------------------------------------------- credentials

#[allow(clippy::too_many_arguments)]
unsafe fn acquire(
    principal: Text,
    package: Text,
    credential_use: ULONG,
    auth_data: *mut c_void,
    out: *mut CredHandle,
    expiry: *mut TimeStamp,
) -> Result<Status, Status> {
    if out.is_null() {
        return Err(INVALID_PARAMETER);
    }
    // SAFETY: the caller's strings and identity.
    let (principal, package, identity) = unsafe {
        (
            principal.read()?,
            package
                .read()?
                .ok_or(SecurityStatus::SEC_E_SECPKG_NOT_FOUND.0)?,
            identity::read(auth_data)?,
        )
    };
    let use_ = CredentialUse(credential_use & CredentialUse::BOTH.0);
    if use_ == CredentialUse::NONE {
        return Err(INVALID_PARAMETER);
    }
    let handle = host::host()?
        .acquire_credentials_handle(&package, principal.as_deref(), use_, identity)
        .map_err(status)?;
    let handle = CREDENTIALS
        .insert(Arc::new(handle))
        .ok_or(INSUFFICIENT_MEMORY)?;
    // SAFETY: `out` checked non-NULL; `expiry` NULL or writable.
    unsafe {
        put(out, handle);
        put(expiry, TimeStamp::from_i64(sspi_core::TimeStamp::NEVER.0));
    }
    Ok(OK)
}

/// AcquireCredentialsHandleW: `pAuthData` may be a `SEC_WINNT_AUTH_IDENTITY_W`/`_A`
/// or `_EXW`/`_EXA`; `pvLogonId` and the key function are ignored.
///
/// # Safety
/// Strings NUL-terminated or NULL; `auth_data` NULL or an identity structure; outputs writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn AcquireCredentialsHandleW(
    principal: *mut SEC_WCHAR,
    package: *mut SEC_WCHAR,
    credential_use: ULONG,
    _logon_id: *mut c_void,
    auth_data: *mut c_void,
    _get_key_fn: SEC_GET_KEY_FN,
    _get_key_argument: *mut c_void,
    credential: *mut CredHandle,
    expiry: *mut TimeStamp,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe {
        acquire(
            Text::Wide(principal),
            Text::Wide(package),
            credential_use,
            auth_data,
            credential,
            expiry,
        )
    })
}

/// AcquireCredentialsHandleA.
///
/// # Safety
/// As [`AcquireCredentialsHandleW`].
#[unsafe(no_mangle)]
pub unsafe extern "system" fn AcquireCredentialsHandleA(
    principal: *mut SEC_CHAR,
    package: *mut SEC_CHAR,
    credential_use: ULONG,
    _logon_id: *mut c_void,
    auth_data: *mut c_void,
    _get_key_fn: SEC_GET_KEY_FN,
    _get_key_argument: *mut c_void,
    credential: *mut CredHandle,
    expiry: *mut TimeStamp,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe {
        acquire(
            Text::Narrow(principal),
            Text::Narrow(package),
            credential_use,
            auth_data,
            credential,
            expiry,
        )
    })
}

/// FreeCredentialsHandle: contexts made from the credentials keep working.
///
/// # Safety
/// `credential` is NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FreeCredentialsHandle(credential: *mut CredHandle) -> Status {
    guard(|| {
        // SAFETY: the caller's guarantee.
        let handle = unsafe { read_handle(credential) }?;
        let removed = CREDENTIALS.remove(&handle).ok_or(INVALID_HANDLE)?;
        drop(removed);
        Ok(OK)
    })
}

unsafe fn query_credentials(
    credential: *mut CredHandle,
    attribute: ULONG,
    buffer: *mut c_void,
    wide: bool,
) -> Result<Status, Status> {
    // SAFETY: the caller's guarantee.
    let credentials = unsafe { self::credential(credential) }?;
    if buffer.is_null() {
        return Err(INVALID_PARAMETER);
    }
    if attribute != SECPKG_CRED_ATTR_NAMES {
        return Err(UNSUPPORTED);
    }
    let name = credentials.query_credentials_names().map_err(status)?;
    let ptr = text_block(&name, wide)?;
    // SAFETY: `buffer` points to a SecPkgCredentials_Names (one pointer).
    unsafe { put(buffer as *mut *mut c_void, ptr) };
    Ok(OK)
}

fn text_block(text: &str, wide: bool) -> Result<*mut c_void, Status> {
    if wide {
        alloc::wide_string(text).map(|p| p as *mut c_void)
    } else {
        alloc::narrow_string(text).map(|p| p as *mut c_void)
    }
    .ok_or(INSUFFICIENT_MEMORY)
}

/// QueryCredentialsAttributesW: SECPKG_CRED_ATTR_NAMES (`sUserName` freed with FreeContextBuffer).
///
/// # Safety
/// `credential` NULL or readable; `buffer` NULL or the attribute's structure.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn QueryCredentialsAttributesW(
    credential: *mut CredHandle,
    attribute: ULONG,
    buffer: *mut c_void,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe { query_credentials(credential, attribute, buffer, true) })
}

/// QueryCredentialsAttributesA.
///
/// # Safety
/// As [`QueryCredentialsAttributesW`].
#[unsafe(no_mangle)]
pub unsafe extern "system" fn QueryCredentialsAttributesA(
    credential: *mut CredHandle,
    attribute: ULONG,
    buffer: *mut c_void,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe { query_credentials(credential, attribute, buffer, false) })
}

// ------------------------------------------------------------- handshakes

/// Which call a leg is.
enum Side {
    Client { target: Option<String>, req: IscReq },
    Server { req: AscReq },
}

impl Side {
    fn call(
        &self,
        credentials: &CredentialsHandle,
        slot: &mut Option<SecurityContextHandle>,
        input: &[SecBufferRef<'_>],
        output: &mut [RBuffer<'_>],
    ) -> Result<(Status, ULONG, i64), SecurityError> {
        match self {
            Side::Client { target, req } => credentials
                .initialize_security_context(slot, target.as_deref(), *req, input, output)
                .map(|s| (s.status.0, s.attributes.0, s.expiry.0)),
            Side::Server { req } => credentials
                .accept_security_context(slot, *req, input, output)
                .map(|s| (s.status.0, s.attributes.0, s.expiry.0)),
        }
    }

    fn allocates(&self) -> bool {
        let bits = match self {
            Side::Client { req, .. } => req.0,
            Side::Server { req } => req.0,
        };
        bits & ALLOCATE_MEMORY != 0
    }
}

/// One InitializeSecurityContext / AcceptSecurityContext leg.
#[allow(clippy::too_many_arguments)]
unsafe fn leg(
    side: Side,
    credential: *mut CredHandle,
    existing: *mut CtxtHandle,
    input: *mut SecBufferDesc,
    new_context: *mut CtxtHandle,
    output: *mut SecBufferDesc,
    attributes: *mut ULONG,
    expiry: *mut TimeStamp,
) -> Result<Status, Status> {
    // SAFETY (this block): the caller's handles and descriptors.
    let (existing, inputs, outputs) = unsafe {
        let existing = if existing.is_null() {
            None
        } else {
            Some(read_handle(existing)?)
        };
        let inputs: &mut [sspi_c_abi::SecBuffer] = if input.is_null() {
            &mut []
        } else {
            buffers::descriptor(input)?
        };
        let outputs: &mut [sspi_c_abi::SecBuffer] = if output.is_null() {
            &mut []
        } else {
            buffers::descriptor(output)?
        };
        (existing, inputs, outputs)
    };
    if buffers::descriptors_overlap(inputs, outputs) {
        return Err(INVALID_PARAMETER);
    }
    let result = match existing {
        Some(handle) => {
            // Later legs run on the context's own credentials; a handle
            // given anyway must still be a live one.
            if !credential.is_null() {
                // SAFETY: the caller's handle.
                unsafe { self::credential(credential) }?;
            }
            let result = CONTEXTS
                .with(&handle, |entry| {
                    // An imported context is complete: no handshake is left.
                    let Some(credentials) = entry.credentials.clone() else {
                        return Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE.0);
                    };
                    run_leg(&side, &credentials, inputs, outputs, &mut entry.context)
                })
                .ok_or(INVALID_HANDLE)??;
            // SAFETY: `new_context` is NULL or writable.
            unsafe { put(new_context, handle) };
            result
        }
        None => {
            // SAFETY: the caller's handle.
            let credentials = unsafe { self::credential(credential) }?;
            if new_context.is_null() {
                return Err(INVALID_PARAMETER);
            }
            let mut created = None;
            let result = run_leg(&side, &credentials, inputs, outputs, &mut created)?;
            // A context exists once a leg succeeded, or asked for a larger
            // buffer (kept for the retry, as the Rust API keeps it).
            if let Some(context) = created {
                let handle = CONTEXTS
                    .insert(ContextEntry {
                        credentials: Some(credentials),
                        context: Some(context),
                    })
                    .ok_or(INSUFFICIENT_MEMORY)?;
                // SAFETY: checked non-NULL; the caller provides it for writing.
                unsafe { put(new_context, handle) };
            }
            result
        }
    };
    let (code, bits, expires) = result.map_err(status)?;
    // SAFETY: NULL or writable.
    unsafe {
        put(attributes, bits);
        put(expiry, TimeStamp::from_i64(expires));
    }
    Ok(code)
}

/// The package's leg on `slot`, with ISC/ASC_REQ_ALLOCATE_MEMORY handled:
/// the output TOKEN buffer is allocated here (`cbMaxToken`, grown while the
/// package says SEC_E_BUFFER_TOO_SMALL), freed again when the leg fails or
/// writes nothing, and ALLOCATED_MEMORY is added to the attributes.
fn run_leg(
    side: &Side,
    credentials: &CredentialsHandle,
    inputs: &[sspi_c_abi::SecBuffer],
    outputs: &mut [sspi_c_abi::SecBuffer],
    slot: &mut Option<SecurityContextHandle>,
) -> Result<Result<(Status, ULONG, i64), SecurityError>, Status> {
    let allocated_token = if side.allocates() {
        outputs
            .iter()
            .position(|b| SecBufferType(b.buffer_type).kind() == SecBufferType::TOKEN)
    } else {
        None
    };
    let mut size = (credentials.package_info().max_token as usize).max(1);
    loop {
        if let Some(i) = allocated_token {
            let block = alloc::allocate(size).ok_or(INSUFFICIENT_MEMORY)?;
            outputs[i].pv_buffer = block as *mut c_void;
            outputs[i].cb_buffer = size as ULONG;
        }
        let result = buffers::with_refs(inputs, |input| {
            buffers::with_views(outputs, |output| {
                side.call(credentials, slot, input, output)
            })
        });
        let Some(i) = allocated_token else {
            return Ok(result);
        };
        if result.is_err() || outputs[i].cb_buffer == 0 {
            alloc::free(outputs[i].pv_buffer as *mut u8);
            outputs[i].pv_buffer = std::ptr::null_mut();
            outputs[i].cb_buffer = 0;
        }
        match result {
            Err(e) if e.status().0 == BUFFER_TOO_SMALL && size < MAX_ALLOCATED_TOKEN => {
                size = (size * 4).min(MAX_ALLOCATED_TOKEN);
            }
            other => {
                return Ok(
                    other.map(|(code, bits, expires)| (code, bits | ALLOCATE_MEMORY, expires))
                );
            }
        }
    }
}

/// InitializeSecurityContextW. On a first call that fails with
/// SEC_E_BUFFER_TOO_SMALL the new context is still returned in
/// `phNewContext`: call again on it with a larger buffer.
///
/// # Safety
/// Handles NULL or readable, descriptors NULL or valid, outputs NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn InitializeSecurityContextW(
    credential: *mut CredHandle,
    context: *mut CtxtHandle,
    target_name: *mut SEC_WCHAR,
    context_req: ULONG,
    _reserved1: ULONG,
    _target_data_rep: ULONG,
    input: *mut SecBufferDesc,
    _reserved2: ULONG,
    new_context: *mut CtxtHandle,
    output: *mut SecBufferDesc,
    context_attr: *mut ULONG,
    expiry: *mut TimeStamp,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe {
        let target = Text::Wide(target_name).read()?;
        let side = Side::Client {
            target,
            req: IscReq(context_req),
        };
        leg(
            side,
            credential,
            context,
            input,
            new_context,
            output,
            context_attr,
            expiry,
        )
    })
}

/// InitializeSecurityContextA.
///
/// # Safety
/// As [`InitializeSecurityContextW`].
#[unsafe(no_mangle)]
pub unsafe extern "system" fn InitializeSecurityContextA(
    credential: *mut CredHandle,
    context: *mut CtxtHandle,
    target_name: *mut SEC_CHAR,
    context_req: ULONG,
    _reserved1: ULONG,
    _target_data_rep: ULONG,
    input: *mut SecBufferDesc,
    _reserved2: ULONG,
    new_context: *mut CtxtHandle,
    output: *mut SecBufferDesc,
    context_attr: *mut ULONG,
    expiry: *mut TimeStamp,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe {
        let target = Text::Narrow(target_name).read()?;
        let side = Side::Client {
            target,
            req: IscReq(context_req),
        };
        leg(
            side,
            credential,
            context,
            input,
            new_context,
            output,
            context_attr,
            expiry,
        )
    })
}

/// AcceptSecurityContext.
///
/// # Safety
/// As [`InitializeSecurityContextW`].
#[unsafe(no_mangle)]
pub unsafe extern "system" fn AcceptSecurityContext(
    credential: *mut CredHandle,
    context: *mut CtxtHandle,
    input: *mut SecBufferDesc,
    context_req: ULONG,
    _target_data_rep: ULONG,
    new_context: *mut CtxtHandle,
    output: *mut SecBufferDesc,
    context_attr: *mut ULONG,
    expiry: *mut TimeStamp,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe {
        let side = Side::Server {
            req: AscReq(context_req),
        };
        leg(
            side,
            credential,
            context,
            input,
            new_context,
            output,
            context_attr,
            expiry,
        )
    })
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

/// CompleteAuthToken.
///
/// # Safety
/// `context` NULL or readable; `token` NULL or a valid descriptor.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn CompleteAuthToken(
    context: *mut CtxtHandle,
    token: *mut SecBufferDesc,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe {
        on_context(context, |ctx| {
            let buffers = buffers::descriptor(token)?;
            buffers::with_views(buffers, |b| ctx.complete_auth_token(b))
                .map(|()| OK)
                .map_err(status)
        })
    })
}

/// DeleteSecurityContext: the handle is stale afterwards.
///
/// # Safety
/// `context` NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn DeleteSecurityContext(context: *mut CtxtHandle) -> Status {
    guard(|| {
        // SAFETY: the caller's guarantee.
        let handle = unsafe { read_handle(context) }?;
        let removed = CONTEXTS.remove(&handle).ok_or(INVALID_HANDLE)?;
        drop(removed);
        Ok(OK)
    })
}

// ------------------------------------------------------ context attributes

unsafe fn query_context(
    handle: *mut CtxtHandle,
    attribute: ULONG,
    buffer: *mut c_void,
    wide: bool,
) -> Result<Status, Status> {
    // SAFETY: the caller's guarantee.
    let handle = unsafe { read_handle(handle) }?;
    CONTEXTS
        .with(&handle, |entry| {
            let ctx = entry.context.as_ref().ok_or(INVALID_HANDLE)?;
            if buffer.is_null() {
                return Err(INVALID_PARAMETER);
            }
            // SAFETY: the caller's guarantee, forwarded.
            unsafe { write_attribute(ctx, attribute, buffer, wide) }
        })
        .ok_or(INVALID_HANDLE)?
}

/// QueryContextAttributes' answer for `attribute`, written to `buffer`.
///
/// # Safety
/// `buffer` is non-NULL and points to the attribute's structure.
unsafe fn write_attribute(
    ctx: &SecurityContextHandle,
    attribute: ULONG,
    buffer: *mut c_void,
    wide: bool,
) -> Result<Status, Status> {
    let info_block = |info: &PackageInfo| -> Result<*mut c_void, Status> {
        if wide {
            alloc::package_infos_w(&[info]).map(|p| p as *mut c_void)
        } else {
            alloc::package_infos_a(&[info]).map(|p| p as *mut c_void)
        }
        .ok_or(INSUFFICIENT_MEMORY)
    };
    // SAFETY (every write below): `buffer` points to the structure the
    // attribute names (the caller's guarantee), checked non-NULL.
    unsafe {
        match attribute {
            SECPKG_ATTR_SIZES => {
                let s = ctx.sizes().map_err(status)?;
                put(
                    buffer as *mut SecPkgContext_Sizes,
                    SecPkgContext_Sizes {
                        cb_max_token: s.max_token,
                        cb_max_signature: s.max_signature,
                        cb_block_size: s.block_size,
                        cb_security_trailer: s.security_trailer,
                    },
                );
            }
            SECPKG_ATTR_NAMES => {
                let name = ctx.names().map_err(status)?;
                put(buffer as *mut *mut c_void, text_block(&name, wide)?);
            }
            SECPKG_ATTR_LIFESPAN => {
                let l = ctx.lifespan().map_err(status)?;
                put(
                    buffer as *mut SecPkgContext_Lifespan,
                    SecPkgContext_Lifespan {
                        ts_start: TimeStamp::from_i64(l.start.0),
                        ts_expiry: TimeStamp::from_i64(l.expiry.0),
                    },
                );
            }
            SECPKG_ATTR_SESSION_KEY => {
                let key = ctx.session_key().map_err(status)?;
                let ptr = alloc::copy_bytes(key.expose()).ok_or(INSUFFICIENT_MEMORY)?;
                put(
                    buffer as *mut SecPkgContext_SessionKey,
                    SecPkgContext_SessionKey {
                        session_key_length: key.len() as ULONG,
                        session_key: ptr,
                    },
                );
            }
            SECPKG_ATTR_PACKAGE_INFO => {
                let ContextAttributeValue::PackageInfo(info) = ctx
                    .query_context_attributes(ContextAttribute::PackageInfo)
                    .map_err(status)?
                else {
                    return Err(INTERNAL_ERROR);
                };
                put(buffer as *mut *mut c_void, info_block(&info)?);
            }
            SECPKG_ATTR_NEGOTIATION_INFO => {
                let ContextAttributeValue::NegotiationInfo(negotiated) = ctx
                    .query_context_attributes(ContextAttribute::NegotiationInfo)
                    .map_err(status)?
                else {
                    return Err(INTERNAL_ERROR);
                };
                put(
                    buffer as *mut SecPkgContext_NegotiationInfoW,
                    SecPkgContext_NegotiationInfoW {
                        package_info: info_block(&negotiated.package)? as *mut SecPkgInfoW,
                        negotiation_state: negotiated.state as ULONG,
                    },
                );
            }
            SECPKG_ATTR_FLAGS => {
                let flags = ctx.flags().map_err(status)?;
                put(
                    buffer as *mut SecPkgContext_Flags,
                    SecPkgContext_Flags {
                        flags: flags.bits(),
                    },
                );
            }
            _ => return Err(UNSUPPORTED),
        }
    }
    Ok(OK)
}

/// QueryContextAttributesW: SIZES, NAMES, LIFESPAN, SESSION_KEY,
/// PACKAGE_INFO, NEGOTIATION_INFO, FLAGS (strings, keys and package
/// infos freed with FreeContextBuffer); others SEC_E_UNSUPPORTED_FUNCTION.
///
/// # Safety
/// `context` NULL or readable; `buffer` NULL or the attribute's structure.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn QueryContextAttributesW(
    context: *mut CtxtHandle,
    attribute: ULONG,
    buffer: *mut c_void,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe { query_context(context, attribute, buffer, true) })
}

/// QueryContextAttributesA.
///
/// # Safety
/// As [`QueryContextAttributesW`].
#[unsafe(no_mangle)]
pub unsafe extern "system" fn QueryContextAttributesA(
    context: *mut CtxtHandle,
    attribute: ULONG,
    buffer: *mut c_void,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe { query_context(context, attribute, buffer, false) })
}

// ------------------------------------------------------------ per message

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

// ------------------------------------------------------- export / import

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

// ------------------------------------------------------------ unsupported

/// ApplyControlToken: SEC_E_UNSUPPORTED_FUNCTION (no package takes control tokens).
///
/// # Safety
/// Never dereferences its arguments.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ApplyControlToken(
    _context: *mut CtxtHandle,
    _input: *mut SecBufferDesc,
) -> Status {
    UNSUPPORTED
}

/// ImpersonateSecurityContext: SEC_E_UNSUPPORTED_FUNCTION (no access tokens here, as on CE).
///
/// # Safety
/// Never dereferences its argument.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ImpersonateSecurityContext(_context: *mut CtxtHandle) -> Status {
    UNSUPPORTED
}

/// RevertSecurityContext: SEC_E_UNSUPPORTED_FUNCTION.
///
/// # Safety
/// Never dereferences its argument.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn RevertSecurityContext(_context: *mut CtxtHandle) -> Status {
    UNSUPPORTED
}

/// QuerySecurityContextToken: SEC_E_UNSUPPORTED_FUNCTION.
///
/// # Safety
/// Never dereferences its arguments.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn QuerySecurityContextToken(
    _context: *mut CtxtHandle,
    _token: *mut *mut c_void,
) -> Status {
    UNSUPPORTED
}

/// AddCredentialsW: SEC_E_UNSUPPORTED_FUNCTION.
///
/// # Safety
/// Never dereferences its arguments.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn AddCredentialsW(
    _credential: *mut CredHandle,
    _principal: *mut SEC_WCHAR,
    _package: *mut SEC_WCHAR,
    _credential_use: ULONG,
    _auth_data: *mut c_void,
    _get_key_fn: SEC_GET_KEY_FN,
    _get_key_argument: *mut c_void,
    _expiry: *mut TimeStamp,
) -> Status {
    UNSUPPORTED
}

/// AddCredentialsA: SEC_E_UNSUPPORTED_FUNCTION.
///
/// # Safety
/// Never dereferences its arguments.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn AddCredentialsA(
    _credential: *mut CredHandle,
    _principal: *mut SEC_CHAR,
    _package: *mut SEC_CHAR,
    _credential_use: ULONG,
    _auth_data: *mut c_void,
    _get_key_fn: SEC_GET_KEY_FN,
    _get_key_argument: *mut c_void,
    _expiry: *mut TimeStamp,
) -> Status {
    UNSUPPORTED
}

/// SetContextAttributesW: SEC_E_UNSUPPORTED_FUNCTION.
///
/// # Safety
/// Never dereferences its arguments.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn SetContextAttributesW(
    _context: *mut CtxtHandle,
    _attribute: ULONG,
    _buffer: *mut c_void,
    _length: ULONG,
) -> Status {
    UNSUPPORTED
}

/// SetContextAttributesA: SEC_E_UNSUPPORTED_FUNCTION.
///
/// # Safety
/// Never dereferences its arguments.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn SetContextAttributesA(
    _context: *mut CtxtHandle,
    _attribute: ULONG,
    _buffer: *mut c_void,
    _length: ULONG,
) -> Status {
    UNSUPPORTED
}

// ------------------------------------------------------------------ tables

/// A table in writable memory (C receives a non-const pointer), never
/// written by this library after construction.
struct Table<T>(UnsafeCell<T>);

// SAFETY: the tables hold function pointers and NULLs; this library never
// writes them, so sharing them between threads is sound.
unsafe impl<T> Sync for Table<T> {}

static TABLE_W: Table<SecurityFunctionTableW> = Table(UnsafeCell::new(SecurityFunctionTableW {
    dw_version: SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2,
    enumerate_security_packages_w: Some(EnumerateSecurityPackagesW),
    query_credentials_attributes_w: Some(QueryCredentialsAttributesW),
    acquire_credentials_handle_w: Some(AcquireCredentialsHandleW),
    free_credentials_handle: Some(FreeCredentialsHandle),
    reserved2: std::ptr::null_mut(),
    initialize_security_context_w: Some(InitializeSecurityContextW),
    accept_security_context: Some(AcceptSecurityContext),
    complete_auth_token: Some(CompleteAuthToken),
    delete_security_context: Some(DeleteSecurityContext),
    apply_control_token: Some(ApplyControlToken),
    query_context_attributes_w: Some(QueryContextAttributesW),
    impersonate_security_context: Some(ImpersonateSecurityContext),
    revert_security_context: Some(RevertSecurityContext),
    make_signature: Some(MakeSignature),
    verify_signature: Some(VerifySignature),
    free_context_buffer: Some(FreeContextBuffer),
    query_security_package_info_w: Some(QuerySecurityPackageInfoW),
    reserved3: std::ptr::null_mut(),
    reserved4: std::ptr::null_mut(),
    export_security_context: Some(ExportSecurityContext),
    import_security_context_w: Some(ImportSecurityContextW),
    add_credentials_w: Some(AddCredentialsW),
    reserved8: std::ptr::null_mut(),
    query_security_context_token: Some(QuerySecurityContextToken),
    encrypt_message: Some(EncryptMessage),
    decrypt_message: Some(DecryptMessage),
    set_context_attributes_w: Some(SetContextAttributesW),
}));

static TABLE_A: Table<SecurityFunctionTableA> = Table(UnsafeCell::new(SecurityFunctionTableA {
    dw_version: SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2,
    enumerate_security_packages_a: Some(EnumerateSecurityPackagesA),
    query_credentials_attributes_a: Some(QueryCredentialsAttributesA),
    acquire_credentials_handle_a: Some(AcquireCredentialsHandleA),
    free_credentials_handle: Some(FreeCredentialsHandle),
    reserved2: std::ptr::null_mut(),
    initialize_security_context_a: Some(InitializeSecurityContextA),
    accept_security_context: Some(AcceptSecurityContext),
    complete_auth_token: Some(CompleteAuthToken),
    delete_security_context: Some(DeleteSecurityContext),
    apply_control_token: Some(ApplyControlToken),
    query_context_attributes_a: Some(QueryContextAttributesA),
    impersonate_security_context: Some(ImpersonateSecurityContext),
    revert_security_context: Some(RevertSecurityContext),
    make_signature: Some(MakeSignature),
    verify_signature: Some(VerifySignature),
    free_context_buffer: Some(FreeContextBuffer),
    query_security_package_info_a: Some(QuerySecurityPackageInfoA),
    reserved3: std::ptr::null_mut(),
    reserved4: std::ptr::null_mut(),
    export_security_context: Some(ExportSecurityContext),
    import_security_context_a: Some(ImportSecurityContextA),
    add_credentials_a: Some(AddCredentialsA),
    reserved8: std::ptr::null_mut(),
    query_security_context_token: Some(QuerySecurityContextToken),
    encrypt_message: Some(EncryptMessage),
    decrypt_message: Some(DecryptMessage),
    set_context_attributes_a: Some(SetContextAttributesA),
}));

/// InitSecurityInterfaceW: the Unicode function table (version 2, every slot filled).
#[unsafe(no_mangle)]
pub extern "system" fn InitSecurityInterfaceW() -> *mut SecurityFunctionTableW {
    TABLE_W.0.get()
}

/// InitSecurityInterfaceA: the ANSI (UTF-8) function table.
#[unsafe(no_mangle)]
pub extern "system" fn InitSecurityInterfaceA() -> *mut SecurityFunctionTableA {
    TABLE_A.0.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_an_entry_point_becomes_sec_e_internal_error() {
        assert_eq!(guard(|| panic!("a bug")), INTERNAL_ERROR);
        assert_eq!(guard(|| Err(INVALID_HANDLE)), INVALID_HANDLE);
        assert_eq!(guard(|| Ok(OK)), OK);
    }
}
