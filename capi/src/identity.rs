//! `pAuthData` of AcquireCredentialsHandle: `SEC_WINNT_AUTH_IDENTITY_W`/`_A`
//! and their `_EX` forms (`Version` 0x200, with `PackageList`).
//!
//! As in Windows, the strings' encoding is the one the identity's `Flags`
//! name (`SEC_WINNT_AUTH_IDENTITY_UNICODE` or `_ANSI`; ANSI is read as
//! UTF-8), whichever of AcquireCredentialsHandleW / A receives it; an
//! identity with neither or both flags, invalid text, or a string longer
//! than 32 Ki characters is SEC_E_UNKNOWN_CREDENTIALS. The password is
//! decoded into zeroizing memory.

use sspi_c_abi::wide::{read_narrow_counted, read_wide_counted};
use sspi_c_abi::{
    SEC_WINNT_AUTH_IDENTITY_ANSI, SEC_WINNT_AUTH_IDENTITY_EXA, SEC_WINNT_AUTH_IDENTITY_UNICODE,
    SEC_WINNT_AUTH_IDENTITY_VERSION, SEC_WINNT_AUTH_IDENTITY_W, SECURITY_STATUS, ULONG,
};
use sspi_core::{AuthIdentity, SecretBytes, SecurityStatus};
use std::ffi::c_void;
use zeroize::Zeroizing;

const UNKNOWN_CREDENTIALS: SECURITY_STATUS = SecurityStatus::SEC_E_UNKNOWN_CREDENTIALS.0;

/// One counted string of the identity, as the C structure holds it.
struct Field {
    ptr: *const c_void,
    len: ULONG,
}

/// Reads `pAuthData`; `None` for NULL (the package's default identity).
///
/// # Safety
/// `auth` is NULL or points to one of the four identity structures, whose
/// string pointers are valid for their lengths.
pub(crate) unsafe fn read(auth: *const c_void) -> Result<Option<AuthIdentity>, SECURITY_STATUS> {
    if auth.is_null() {
        return Ok(None);
    }
    // Every form starts with 4 readable bytes: the EX forms' Version, or the
    // low half of the plain forms' User pointer.
    // SAFETY: `auth` points to an identity structure (the caller's guarantee).
    let version = unsafe { (auth as *const ULONG).read_unaligned() };
    // SAFETY: as above; `Length` follows `Version` in the EX forms.
    let is_ex = version == SEC_WINNT_AUTH_IDENTITY_VERSION
        && unsafe { (auth as *const ULONG).add(1).read_unaligned() } as usize
            == std::mem::size_of::<SEC_WINNT_AUTH_IDENTITY_EXA>();
    // The W and A layouts are the same but for the pointee type.
    let (user, domain, password, flags, package_list) = if is_ex {
        // SAFETY: Version and Length say it is an EX structure.
        let ex = unsafe { &*(auth as *const SEC_WINNT_AUTH_IDENTITY_EXA) };
        (
            Field {
                ptr: ex.user as _,
                len: ex.user_length,
            },
            Field {
                ptr: ex.domain as _,
                len: ex.domain_length,
            },
            Field {
                ptr: ex.password as _,
                len: ex.password_length,
            },
            ex.flags,
            Some(Field {
                ptr: ex.package_list as _,
                len: ex.package_list_length,
            }),
        )
    } else {
        // SAFETY: not an EX structure, so a plain one (the caller's guarantee).
        let plain = unsafe { &*(auth as *const SEC_WINNT_AUTH_IDENTITY_W) };
        (
            Field {
                ptr: plain.user as _,
                len: plain.user_length,
            },
            Field {
                ptr: plain.domain as _,
                len: plain.domain_length,
            },
            Field {
                ptr: plain.password as _,
                len: plain.password_length,
            },
            plain.flags,
            None,
        )
    };
    let wide = match flags & (SEC_WINNT_AUTH_IDENTITY_ANSI | SEC_WINNT_AUTH_IDENTITY_UNICODE) {
        SEC_WINNT_AUTH_IDENTITY_UNICODE => true,
        SEC_WINNT_AUTH_IDENTITY_ANSI => false,
        _ => return Err(UNKNOWN_CREDENTIALS),
    };
    // SAFETY: each field's pointer is valid for its length (the caller's guarantee).
    let text = |f: &Field| unsafe { string(f, wide) };
    let mut identity = AuthIdentity {
        user: text(&user)?.into(),
        domain: text(&domain)?.into(),
        // SAFETY: as above.
        password: unsafe { secret(&password, wide) }?,
        ..AuthIdentity::default()
    };
    if let Some(list) = package_list {
        identity.package_list = text(&list)?.into();
    }
    Ok(Some(identity))
}

/// # Safety
/// `f.ptr` is NULL or valid for `f.len` characters.
unsafe fn string(f: &Field, wide: bool) -> Result<String, SECURITY_STATUS> {
    // SAFETY: the caller's guarantee.
    let read = unsafe {
        if wide {
            read_wide_counted(f.ptr as *const u16, f.len)
        } else {
            read_narrow_counted(f.ptr as *const u8, f.len)
        }
    };
    read.map_err(|_| UNKNOWN_CREDENTIALS)
}

/// The password as UTF-8 in a [`SecretBytes`], through zeroizing memory only.
///
/// # Safety
/// As [`string`].
unsafe fn secret(f: &Field, wide: bool) -> Result<SecretBytes, SECURITY_STATUS> {
    if f.ptr.is_null() || f.len == 0 {
        return Ok(SecretBytes::default());
    }
    if f.len as usize > sspi_c_abi::wide::MAX_STRING {
        return Err(UNKNOWN_CREDENTIALS);
    }
    let len = f.len as usize;
    let mut out = Zeroizing::new(Vec::with_capacity(if wide { len * 3 } else { len }));
    if wide {
        // SAFETY: `len` readable u16s (the caller's guarantee).
        let units = unsafe { std::slice::from_raw_parts(f.ptr as *const u16, len) };
        for c in char::decode_utf16(units.iter().copied()) {
            let c = c.map_err(|_| UNKNOWN_CREDENTIALS)?;
            let mut utf8 = Zeroizing::new([0u8; 4]);
            out.extend_from_slice(c.encode_utf8(&mut *utf8).as_bytes());
        }
    } else {
        // SAFETY: `len` readable bytes (the caller's guarantee).
        let bytes = unsafe { std::slice::from_raw_parts(f.ptr as *const u8, len) };
        std::str::from_utf8(bytes).map_err(|_| UNKNOWN_CREDENTIALS)?;
        out.extend_from_slice(bytes);
    }
    // The capacity was reserved up front: `out` never reallocated.
    Ok(SecretBytes::new(std::mem::take(&mut *out)))
}
