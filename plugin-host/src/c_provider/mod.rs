//! C providers: libraries that export `InitSecurityInterfaceW`, as Windows
//! CE's security providers do, loaded beside the abi_stable plugins.
//!
//! A `Providers` entry that resolves to a file is a C provider when the
//! library exports `InitSecurityInterfaceW` and not the abi_stable root
//! module (a library exporting both is an abi_stable plugin). The file passes
//! the same trust and digest checks as a plugin before it is loaded. The host
//! then calls `InitSecurityInterfaceW` once per load and checks what it
//! returns before any package is listed (every refusal is one line naming the
//! library, [`crate::Unavailable::LoadFailed`]):
//!
//! * the table is not NULL and its `dwVersion` is 1 or 2 (a version-1 table
//!   is read without its last slot, SetContextAttributesW);
//! * the slots the host calls are not NULL ([`REQUIRED_SLOTS`]), and a
//!   package advertising SECPKG_FLAG_INTEGRITY / SECPKG_FLAG_PRIVACY has
//!   MakeSignature+VerifySignature / EncryptMessage+DecryptMessage;
//! * EnumerateSecurityPackagesW succeeds with 1 to [`MAX_PACKAGES`] packages
//!   and a non-NULL array; every name is NUL-terminated within
//!   [`MAX_NAME`] UTF-16 units, valid UTF-16, not empty and not repeated;
//!   every comment is NUL-terminated within [`MAX_COMMENT`] units; every
//!   `cbMaxToken` is 1 to [`MAX_TOKEN_LIMIT`]. The array is given back with
//!   FreeContextBuffer.
//!
//! Each package becomes an ordinary [`PackageBox`] (the rest of the host
//! does not know it is C): [`package`] wraps credentials, [`context`]
//! contexts, with the host's leg discipline and a check of every length the
//! provider returns.

mod context;
mod package;

pub use context::MAX_MESSAGE_BUFFERS;

use crate::Unavailable;
use abi_stable::sabi_trait::TD_Opaque;
use sspi_c_abi::{InitSecurityInterfaceFnW, SEC_WCHAR, SecPkgInfoW, SecurityFunctionTableW};
use sspi_core::ffi::{PackageBox, PackageFfi_TO};
use sspi_core::{PackageCapabilities, PackageInfo, SecurityStatus};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The symbol a C provider exports.
pub(crate) const ENTRY_POINT: &[u8] = b"InitSecurityInterfaceW\0";
/// The most packages one C provider may list.
pub const MAX_PACKAGES: u32 = 64;
/// The longest package name (UTF-16 units, without the NUL).
pub const MAX_NAME: usize = 256;
/// The longest package comment (UTF-16 units, without the NUL).
pub const MAX_COMMENT: usize = 1024;
/// The largest `cbMaxToken` accepted (each leg gives the provider a buffer that large).
pub const MAX_TOKEN_LIMIT: u32 = 1 << 20;
/// The table slots every C provider must fill.
pub const REQUIRED_SLOTS: &[&str] = &[
    "EnumerateSecurityPackagesW",
    "AcquireCredentialsHandleW",
    "FreeCredentialsHandle",
    "InitializeSecurityContextW or AcceptSecurityContext",
    "DeleteSecurityContext",
    "QueryContextAttributesW",
    "FreeContextBuffer",
];

/// The fixed reasons of per-message errors about one library, made once per
/// library file: a per-message error carries a `&'static str` (building it
/// must not allocate) and should still name the library.
pub(crate) struct Reasons {
    /// The provider broke the buffer contract of a per-message call.
    pub(crate) garbage: &'static str,
    /// The provider refused a per-message call.
    pub(crate) refused: &'static str,
}

fn reasons_for(path: &Path) -> &'static Reasons {
    static MADE: Mutex<Option<HashMap<PathBuf, &'static Reasons>>> = Mutex::new(None);
    let mut made = MADE.lock().unwrap_or_else(|p| p.into_inner());
    made.get_or_insert_with(HashMap::new)
        .entry(path.to_owned())
        .or_insert_with(|| {
            // Leaked once per library file; libraries are never unloaded either.
            Box::leak(Box::new(Reasons {
                garbage: Box::leak(
                    format!(
                        "C provider {}: a per-message call returned a cbBuffer larger than the buffer given, or changed the buffer array or a pvBuffer; the context is unusable",
                        path.display()
                    )
                    .into_boxed_str(),
                ),
                refused: Box::leak(
                    format!("refused by C provider {}", path.display()).into_boxed_str(),
                ),
            }))
        })
}

/// A loaded C provider: its file and a copy of its function table.
pub(crate) struct CLibrary {
    path: PathBuf,
    table: SecurityFunctionTableW,
    reasons: &'static Reasons,
}

impl CLibrary {
    /// "C provider /path/libx.so", for messages.
    pub(crate) fn name(&self) -> String {
        format!("C provider {}", self.path.display())
    }
}

/// Calls a provider's `InitSecurityInterfaceW`, checks its table and its
/// packages, and makes one package object per package.
pub(crate) fn open(
    path: &Path,
    entry: InitSecurityInterfaceFnW,
) -> Result<Vec<(PackageInfo, PackageBox)>, Unavailable> {
    let refuse = |message: String| Unavailable::LoadFailed {
        path: path.to_owned(),
        message: format!("C provider: {message}"),
    };
    // SAFETY: `entry` is the library's `InitSecurityInterfaceW`, which takes nothing.
    let pointer = unsafe { entry() };
    if pointer.is_null() {
        return Err(refuse("InitSecurityInterfaceW returned NULL".into()));
    }
    let table = read_table(pointer).map_err(refuse)?;
    check_slots(&table).map_err(refuse)?;
    let library = Arc::new(CLibrary {
        path: path.to_owned(),
        table,
        reasons: reasons_for(path),
    });
    let infos = enumerate(&library).map_err(refuse)?;
    Ok(infos
        .into_iter()
        .map(|info| {
            let package = package::CPackage::new(Arc::clone(&library), &info);
            (info, PackageFfi_TO::from_value(package, TD_Opaque))
        })
        .collect())
}

/// Copies the table: all of a version-2 table, a version-1 table without
/// its last slot (SetContextAttributesW, which version 1 does not have).
fn read_table(pointer: *const SecurityFunctionTableW) -> Result<SecurityFunctionTableW, String> {
    // SAFETY: `pointer` is not NULL and points to the provider's table, which
    // starts with `dwVersion` whatever its version.
    let version = unsafe { std::ptr::addr_of!((*pointer).dw_version).read_unaligned() };
    let len = match version {
        1 => std::mem::offset_of!(SecurityFunctionTableW, set_context_attributes_w),
        2 => std::mem::size_of::<SecurityFunctionTableW>(),
        other => {
            return Err(format!(
                "InitSecurityInterfaceW returned a table of dwVersion {other}; SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION is 1 or 2"
            ));
        }
    };
    let mut table = std::mem::MaybeUninit::<SecurityFunctionTableW>::zeroed();
    // SAFETY: a table of this version has `len` readable bytes; the
    // destination is a whole table, and all-zero bytes are a valid table
    // (every slot NULL), so the slots not copied are NULL.
    unsafe {
        std::ptr::copy_nonoverlapping(pointer.cast::<u8>(), table.as_mut_ptr().cast::<u8>(), len);
        Ok(table.assume_init())
    }
}

fn check_slots(t: &SecurityFunctionTableW) -> Result<(), String> {
    let slots = [
        (
            t.enumerate_security_packages_w.is_some(),
            "EnumerateSecurityPackagesW",
        ),
        (
            t.acquire_credentials_handle_w.is_some(),
            "AcquireCredentialsHandleW",
        ),
        (t.free_credentials_handle.is_some(), "FreeCredentialsHandle"),
        (
            t.initialize_security_context_w.is_some() || t.accept_security_context.is_some(),
            "InitializeSecurityContextW or AcceptSecurityContext",
        ),
        (t.delete_security_context.is_some(), "DeleteSecurityContext"),
        (
            t.query_context_attributes_w.is_some(),
            "QueryContextAttributesW",
        ),
        (t.free_context_buffer.is_some(), "FreeContextBuffer"),
    ];
    let missing: Vec<&str> = slots
        .iter()
        .filter(|(present, _)| !present)
        .map(|(_, name)| *name)
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "its function table has NULL in the required slot(s) {}",
            missing.join(", ")
        ))
    }
}

/// EnumerateSecurityPackagesW, checked, as the host's package infos.
fn enumerate(library: &CLibrary) -> Result<Vec<PackageInfo>, String> {
    let t = &library.table;
    let (Some(enumerate), Some(free)) = (t.enumerate_security_packages_w, t.free_context_buffer)
    else {
        return Err("EnumerateSecurityPackagesW or FreeContextBuffer is NULL".into());
    };
    let mut count: u32 = 0;
    let mut array: *mut SecPkgInfoW = std::ptr::null_mut();
    // SAFETY: both out-pointers are valid for writes.
    let status = SecurityStatus(unsafe { enumerate(&mut count, &mut array) });
    if status.is_error() {
        return Err(format!("EnumerateSecurityPackagesW failed: {status}"));
    }
    let result = read_infos(library, count, array);
    if !array.is_null() {
        // SAFETY: the provider allocated `array` for the caller to free this way.
        unsafe { free(array.cast()) };
    }
    result
}

fn read_infos(
    library: &CLibrary,
    count: u32,
    array: *const SecPkgInfoW,
) -> Result<Vec<PackageInfo>, String> {
    if count == 0 || count > MAX_PACKAGES {
        return Err(format!(
            "EnumerateSecurityPackagesW returned {count} packages (1 to {MAX_PACKAGES} are accepted)"
        ));
    }
    if array.is_null() {
        return Err(format!(
            "EnumerateSecurityPackagesW returned {count} package(s) and a NULL array"
        ));
    }
    let mut infos: Vec<PackageInfo> = Vec::new();
    for i in 0..count as usize {
        // SAFETY: the provider says `array` holds `count` entries.
        let raw = unsafe { array.add(i).read_unaligned() };
        // SAFETY: the provider's strings, read up to a NUL within the bound.
        let name = unsafe { read_bounded(raw.name, MAX_NAME) }
            .map_err(|e| format!("package {}: its Name {e}", i + 1))?;
        if name.is_empty() {
            return Err(format!("package {}: its Name is empty", i + 1));
        }
        // SAFETY: as above.
        let comment = unsafe { read_bounded(raw.comment, MAX_COMMENT) }
            .map_err(|e| format!("package {name}: its Comment {e}"))?;
        if infos.iter().any(|p| p.name.eq_ignore_ascii_case(&name)) {
            return Err(format!("package {name} is listed twice"));
        }
        if raw.cb_max_token == 0 || raw.cb_max_token > MAX_TOKEN_LIMIT {
            return Err(format!(
                "package {name}: cbMaxToken {} (1 to {MAX_TOKEN_LIMIT} is accepted)",
                raw.cb_max_token
            ));
        }
        let caps = PackageCapabilities(raw.f_capabilities);
        let t = &library.table;
        if caps.contains(PackageCapabilities::INTEGRITY)
            && (t.make_signature.is_none() || t.verify_signature.is_none())
        {
            return Err(format!(
                "package {name} advertises SECPKG_FLAG_INTEGRITY but MakeSignature or VerifySignature is NULL"
            ));
        }
        if caps.contains(PackageCapabilities::PRIVACY)
            && (t.encrypt_message.is_none() || t.decrypt_message.is_none())
        {
            return Err(format!(
                "package {name} advertises SECPKG_FLAG_PRIVACY but EncryptMessage or DecryptMessage is NULL"
            ));
        }
        infos.push(PackageInfo {
            capabilities: caps,
            version: raw.w_version,
            rpc_id: raw.w_rpcid,
            max_token: raw.cb_max_token,
            name: name.into(),
            comment: comment.into(),
        });
    }
    Ok(infos)
}

/// A NUL-terminated UTF-16 string of at most `max` units (NULL reads as
/// empty); what is wrong with it, for "its Name ...".
///
/// # Safety
/// `ptr` is NULL or readable up to its NUL or `max + 1` units.
pub(crate) unsafe fn read_bounded(ptr: *const SEC_WCHAR, max: usize) -> Result<String, String> {
    if ptr.is_null() {
        return Ok(String::new());
    }
    let mut len = 0;
    // SAFETY: the caller guarantees readability up to the NUL or the bound.
    while unsafe { ptr.add(len).read_unaligned() } != 0 {
        len += 1;
        if len > max {
            return Err(format!("is not NUL-terminated within {max} characters"));
        }
    }
    let units: Vec<u16> = (0..len)
        // SAFETY: `len` units were just read.
        .map(|i| unsafe { ptr.add(i).read_unaligned() })
        .collect();
    String::from_utf16(&units).map_err(|_| "is not valid UTF-16".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_strings_stop_at_the_bound() {
        let ok = sspi_c_abi::wide::to_wide("CFixture");
        // SAFETY: NUL-terminated.
        assert_eq!(unsafe { read_bounded(ok.as_ptr(), 8) }.unwrap(), "CFixture");
        // SAFETY: 8 readable units plus the NUL; the bound is below them.
        let e = unsafe { read_bounded(ok.as_ptr(), 7) }.unwrap_err();
        assert!(e.contains("within 7"), "{e}");
        let lone = [0xD800u16, 0];
        // SAFETY: NUL-terminated.
        assert!(unsafe { read_bounded(lone.as_ptr(), 8) }.is_err());
        // SAFETY: NULL is allowed.
        assert_eq!(unsafe { read_bounded(std::ptr::null(), 8) }.unwrap(), "");
    }

    #[test]
    fn a_table_of_another_version_is_refused_and_version_one_has_no_last_slot() {
        // SAFETY: all-zero bytes are a valid table.
        let mut table: SecurityFunctionTableW = unsafe { std::mem::zeroed() };
        table.dw_version = 3;
        let e = read_table(&table).err().unwrap();
        assert!(e.contains("dwVersion 3"), "{e}");
        extern "system" fn set(
            _: *mut sspi_c_abi::CtxtHandle,
            _: u32,
            _: *mut std::ffi::c_void,
            _: u32,
        ) -> i32 {
            0
        }
        table.set_context_attributes_w = Some(set);
        table.dw_version = 1;
        assert!(
            read_table(&table)
                .unwrap()
                .set_context_attributes_w
                .is_none()
        );
        table.dw_version = 2;
        assert!(
            read_table(&table)
                .unwrap()
                .set_context_attributes_w
                .is_some()
        );
        let e = check_slots(&table).unwrap_err();
        assert!(e.contains("EnumerateSecurityPackagesW"), "{e}");
    }
}
