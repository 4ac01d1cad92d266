//! QueryContextAttributesW/A.

use crate::alloc;
use crate::handles::CONTEXTS;
use crate::status::*;
use crate::{put, read_handle, text_block};
use sspi_c_abi::*;
use sspi_core::PackageInfo;
use sspi_plugin_host::{ContextAttribute, ContextAttributeValue, SecurityContextHandle};
use std::ffi::c_void;

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
