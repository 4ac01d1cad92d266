//! The table's functions no package here implements: each is
//! SEC_E_UNSUPPORTED_FUNCTION and never dereferences its arguments.

use crate::status::*;
use sspi_c_abi::*;
use std::ffi::c_void;

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
