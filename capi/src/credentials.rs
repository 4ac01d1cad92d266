//! Credentials: AcquireCredentialsHandleW/A, FreeCredentialsHandle and
//! QueryCredentialsAttributesW/A.

use crate::handles::CREDENTIALS;
use crate::status::*;
use crate::{Text, credential, put, read_handle, text_block};
use crate::{host, identity};
use sspi_c_abi::*;
use sspi_core::{CredentialUse, SecurityStatus};
use std::ffi::c_void;
use std::sync::Arc;

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
