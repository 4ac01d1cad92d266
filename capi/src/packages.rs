//! Package enumeration: EnumerateSecurityPackagesW/A and
//! QuerySecurityPackageInfoW/A, their `SecPkgInfo` blocks allocated for the caller.

use crate::status::*;
use crate::{Text, put};
use crate::{alloc, host};
use sspi_c_abi::*;
use sspi_core::{PackageInfo, SecurityStatus};
use std::ffi::c_void;

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
