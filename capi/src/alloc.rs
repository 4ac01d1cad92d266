//! Memory this library hands to C, freed with FreeContextBuffer: every block
//! is recorded, so FreeContextBuffer frees only what was allocated here (and
//! once), and is wiped before it is released (session keys, packed
//! contexts, tokens alike).

use crate::handles::lock;
use crate::status::{INVALID_HANDLE, OK, Status, guard};
use sspi_c_abi::{SEC_CHAR, SEC_WCHAR, SecPkgInfoA, SecPkgInfoW};
use sspi_core::PackageInfo;
use std::alloc::Layout;
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::{LazyLock, Mutex};
use zeroize::Zeroize;

/// Alignment of every block: enough for the structures placed in them.
const ALIGN: usize = 16;

static BLOCKS: LazyLock<Mutex<HashMap<usize, Layout>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A zeroed block of `size` bytes (at least 1), recorded; `None` when out of memory.
pub(crate) fn allocate(size: usize) -> Option<*mut u8> {
    let layout = Layout::from_size_align(size.max(1), ALIGN).ok()?;
    // SAFETY: the layout's size is non-zero.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
    if ptr.is_null() {
        return None;
    }
    lock(&BLOCKS).insert(ptr as usize, layout);
    Some(ptr)
}

/// Frees a block [`allocate`] returned: wiped, then released. `false` for a
/// pointer this library did not allocate (or already freed).
pub(crate) fn free(ptr: *mut u8) -> bool {
    let Some(layout) = lock(&BLOCKS).remove(&(ptr as usize)) else {
        return false;
    };
    // SAFETY: `ptr` was allocated here with `layout` and was still recorded,
    // so it is live and nobody else frees it.
    unsafe {
        std::slice::from_raw_parts_mut(ptr, layout.size()).zeroize();
        std::alloc::dealloc(ptr, layout);
    }
    true
}

/// `bytes` copied into a new block.
pub(crate) fn copy_bytes(bytes: &[u8]) -> Option<*mut u8> {
    let ptr = allocate(bytes.len())?;
    // SAFETY: the block holds at least `bytes.len()` bytes and is new.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len()) };
    Some(ptr)
}

/// `text` as a new NUL-terminated UTF-16 string.
pub(crate) fn wide_string(text: &str) -> Option<*mut SEC_WCHAR> {
    let units: Vec<u16> = text.encode_utf16().collect();
    let ptr = allocate((units.len() + 1) * 2)? as *mut u16;
    // SAFETY: the block holds units + 1 u16s, 16-aligned, zeroed (the NUL).
    unsafe { std::ptr::copy_nonoverlapping(units.as_ptr(), ptr, units.len()) };
    Some(ptr)
}

/// `text` as a new NUL-terminated 8-bit (UTF-8) string.
pub(crate) fn narrow_string(text: &str) -> Option<*mut SEC_CHAR> {
    copy_bytes_with_nul(text.as_bytes())
}

fn copy_bytes_with_nul(bytes: &[u8]) -> Option<*mut u8> {
    let ptr = allocate(bytes.len() + 1)?;
    // SAFETY: the block holds len + 1 bytes, zeroed (the NUL).
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, bytes.len()) };
    Some(ptr)
}

/// An array of `SecPkgInfoW` with their names and comments in one block
/// (one FreeContextBuffer frees all of it).
pub(crate) fn package_infos_w(infos: &[&PackageInfo]) -> Option<*mut SecPkgInfoW> {
    let strings: Vec<(Vec<u16>, Vec<u16>)> = infos
        .iter()
        .map(|i| (wide(&i.name), wide(&i.comment)))
        .collect();
    let head = infos.len() * std::mem::size_of::<SecPkgInfoW>();
    let text: usize = strings.iter().map(|(n, c)| (n.len() + c.len()) * 2).sum();
    let block = allocate(head + text)?;
    let array = block as *mut SecPkgInfoW;
    // SAFETY: the block holds `head` bytes of 16-aligned SecPkgInfoW slots
    // followed by `text` bytes (2-aligned: `head` is a multiple of 8) for the strings.
    unsafe {
        let mut cursor = block.add(head) as *mut u16;
        for (i, (info, (name, comment))) in infos.iter().zip(&strings).enumerate() {
            let name_ptr = cursor;
            std::ptr::copy_nonoverlapping(name.as_ptr(), cursor, name.len());
            cursor = cursor.add(name.len());
            let comment_ptr = cursor;
            std::ptr::copy_nonoverlapping(comment.as_ptr(), cursor, comment.len());
            cursor = cursor.add(comment.len());
            array.add(i).write(SecPkgInfoW {
                f_capabilities: info.capabilities.0,
                w_version: info.version,
                w_rpcid: info.rpc_id,
                cb_max_token: info.max_token,
                name: name_ptr,
                comment: comment_ptr,
            });
        }
    }
    Some(array)
}

/// The `SecPkgInfoA` form of [`package_infos_w`].
pub(crate) fn package_infos_a(infos: &[&PackageInfo]) -> Option<*mut SecPkgInfoA> {
    let strings: Vec<(Vec<u8>, Vec<u8>)> = infos
        .iter()
        .map(|i| (narrow(&i.name), narrow(&i.comment)))
        .collect();
    let head = infos.len() * std::mem::size_of::<SecPkgInfoA>();
    let text: usize = strings.iter().map(|(n, c)| n.len() + c.len()).sum();
    let block = allocate(head + text)?;
    let array = block as *mut SecPkgInfoA;
    // SAFETY: as in `package_infos_w`, with 1-byte characters.
    unsafe {
        let mut cursor = block.add(head);
        for (i, (info, (name, comment))) in infos.iter().zip(&strings).enumerate() {
            let name_ptr = cursor;
            std::ptr::copy_nonoverlapping(name.as_ptr(), cursor, name.len());
            cursor = cursor.add(name.len());
            let comment_ptr = cursor;
            std::ptr::copy_nonoverlapping(comment.as_ptr(), cursor, comment.len());
            cursor = cursor.add(comment.len());
            array.add(i).write(SecPkgInfoA {
                f_capabilities: info.capabilities.0,
                w_version: info.version,
                w_rpcid: info.rpc_id,
                cb_max_token: info.max_token,
                name: name_ptr,
                comment: comment_ptr,
            });
        }
    }
    Some(array)
}

fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

fn narrow(text: &str) -> Vec<u8> {
    text.bytes().chain(std::iter::once(0)).collect()
}

/// FreeContextBuffer: frees memory this library returned (NULL is fine);
/// any other pointer is SEC_E_INVALID_HANDLE and is left alone.
///
/// # Safety
/// `buffer` is not used by the caller after a successful call.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn FreeContextBuffer(buffer: *mut c_void) -> Status {
    guard(|| {
        if buffer.is_null() || free(buffer as *mut u8) {
            Ok(OK)
        } else {
            Err(INVALID_HANDLE)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_recorded_blocks_are_freed_and_only_once() {
        let block = copy_bytes(b"secret").unwrap();
        let mut foreign = [0u8; 4];
        assert!(!free(foreign.as_mut_ptr()), "not allocated here");
        // SAFETY: one byte past a recorded block's start is inside it.
        assert!(!free(unsafe { block.add(1) }), "an interior pointer");
        assert!(free(block));
        assert!(!free(block), "twice");
    }
}
