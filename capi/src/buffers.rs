//! `SecBufferDesc` in place: a checked descriptor's C buffers become
//! sspi-core `SecBuffer` / `SecBufferRef` views over the caller's memory
//! (on the stack for up to 8 buffers: per-message calls allocate nothing),
//! and what the package did to them (lengths, types, windows) is written back.

use sspi_c_abi::{SECBUFFER_VERSION, SECURITY_STATUS, SecBuffer as CBuffer, SecBufferDesc};
use sspi_core::{SecBuffer, SecBufferRef, SecBufferType, SecurityStatus};

/// The most buffers one descriptor may hold; more is SEC_E_INVALID_PARAMETER.
pub(crate) const MAX_BUFFERS: u32 = 64;
/// Descriptors up to this many buffers are translated on the stack.
const INLINE: usize = 8;

const INVALID_PARAMETER: SECURITY_STATUS = SecurityStatus::SEC_E_INVALID_PARAMETER.0;
const INVALID_TOKEN: SECURITY_STATUS = SecurityStatus::SEC_E_INVALID_TOKEN.0;

/// The C buffers of `desc`, checked: SEC_E_INVALID_TOKEN for a version other
/// than SECBUFFER_VERSION; SEC_E_INVALID_PARAMETER for a NULL descriptor,
/// more than [`MAX_BUFFERS`], NULL `pBuffers` with `cBuffers` > 0, NULL
/// `pvBuffer` with `cbBuffer` > 0, a buffer that wraps the address space, or
/// buffers that overlap each other or the `SecBuffer` array.
///
/// # Safety
/// `desc` is NULL or points to a `SecBufferDesc` whose `pBuffers` holds
/// `cBuffers` entries, each `pvBuffer` valid for `cbBuffer` bytes, all
/// unused by anyone else for the returned lifetime.
pub(crate) unsafe fn descriptor<'a>(
    desc: *mut SecBufferDesc,
) -> Result<&'a mut [CBuffer], SECURITY_STATUS> {
    if desc.is_null() {
        return Err(INVALID_PARAMETER);
    }
    // SAFETY: non-NULL, and the caller guarantees it points to a descriptor.
    let desc = unsafe { &*desc };
    if desc.ul_version != SECBUFFER_VERSION {
        return Err(INVALID_TOKEN);
    }
    if desc.c_buffers > MAX_BUFFERS {
        return Err(INVALID_PARAMETER);
    }
    if desc.c_buffers == 0 {
        return Ok(&mut []);
    }
    if desc.p_buffers.is_null() {
        return Err(INVALID_PARAMETER);
    }
    // SAFETY: non-NULL, `c_buffers` entries (the caller's guarantee).
    let buffers =
        unsafe { std::slice::from_raw_parts_mut(desc.p_buffers, desc.c_buffers as usize) };
    let array = range_of(buffers.as_ptr() as usize, std::mem::size_of_val(buffers))?;
    for buffer in buffers.iter() {
        if buffer.cb_buffer == 0 {
            continue;
        }
        if buffer.pv_buffer.is_null() {
            return Err(INVALID_PARAMETER);
        }
        range_of(buffer.pv_buffer as usize, buffer.cb_buffer as usize)?;
    }
    let range = |c: &CBuffer| {
        let start = c.pv_buffer as usize;
        (start, start + c.cb_buffer as usize)
    };
    let meets = |x: (usize, usize), y: (usize, usize)| x.0 < y.1 && y.0 < x.1;
    for (i, a) in buffers.iter().enumerate().filter(|(_, c)| c.cb_buffer > 0) {
        if meets(range(a), array)
            || buffers[i + 1..]
                .iter()
                .any(|b| b.cb_buffer > 0 && meets(range(a), range(b)))
        {
            return Err(INVALID_PARAMETER);
        }
    }
    Ok(buffers)
}

fn range_of(start: usize, len: usize) -> Result<(usize, usize), SECURITY_STATUS> {
    start
        .checked_add(len)
        .map(|end| (start, end))
        .ok_or(INVALID_PARAMETER)
}

/// True when a non-empty buffer of `a` overlaps one of `b` (an input token
/// and an output buffer of the same leg).
pub(crate) fn descriptors_overlap(a: &[CBuffer], b: &[CBuffer]) -> bool {
    let ranges = |list: &[CBuffer]| -> Vec<(usize, usize)> {
        list.iter()
            .filter(|c| c.cb_buffer > 0)
            .map(|c| {
                let start = c.pv_buffer as usize;
                (start, start.saturating_add(c.cb_buffer as usize))
            })
            .collect()
    };
    let (a, b) = (ranges(a), ranges(b));
    a.iter().any(|x| b.iter().any(|y| x.0 < y.1 && y.0 < x.1))
}

/// A writable view of one checked C buffer.
///
/// # Safety
/// `c` comes from [`descriptor`] (its memory is valid and not aliased).
unsafe fn view<'a>(c: &CBuffer) -> SecBuffer<'a> {
    let data: &'a mut [u8] = if c.cb_buffer == 0 {
        &mut []
    } else {
        // SAFETY: checked non-NULL, valid for cb_buffer bytes, unaliased.
        unsafe { std::slice::from_raw_parts_mut(c.pv_buffer as *mut u8, c.cb_buffer as usize) }
    };
    SecBuffer::new(SecBufferType(c.buffer_type), data)
}

/// A read-only view of one checked C buffer.
///
/// # Safety
/// As [`view`].
unsafe fn view_ref<'a>(c: &CBuffer) -> SecBufferRef<'a> {
    let data: &'a [u8] = if c.cb_buffer == 0 {
        &[]
    } else {
        // SAFETY: checked non-NULL, valid for cb_buffer bytes.
        unsafe { std::slice::from_raw_parts(c.pv_buffer as *const u8, c.cb_buffer as usize) }
    };
    SecBufferRef::new(SecBufferType(c.buffer_type), data)
}

/// What the package made of each buffer: its length, type and window.
fn write_back(buffers: &mut [CBuffer], views: &[SecBuffer<'_>]) {
    for (c, v) in buffers.iter_mut().zip(views) {
        c.cb_buffer = v.len() as u32;
        c.buffer_type = v.buffer_type().0;
        if !v.is_empty() {
            // The window may have moved inside the caller's memory
            // (DecryptMessage of a SECBUFFER_STREAM hands DATA the plaintext).
            c.pv_buffer = v.as_slice().as_ptr() as *mut _;
        }
    }
}

/// Runs `f` on writable views of `buffers` (from [`descriptor`]) and writes
/// the result back.
pub(crate) fn with_views<R>(
    buffers: &mut [CBuffer],
    f: impl FnOnce(&mut [SecBuffer<'_>]) -> R,
) -> R {
    if buffers.len() <= INLINE {
        let mut views: [SecBuffer<'_>; INLINE] = std::array::from_fn(|_| SecBuffer::empty());
        for (v, c) in views.iter_mut().zip(buffers.iter()) {
            // SAFETY: `buffers` were checked by `descriptor`.
            *v = unsafe { view(c) };
        }
        let n = buffers.len();
        let result = f(&mut views[..n]);
        write_back(buffers, &views[..n]);
        result
    } else {
        // SAFETY: as above.
        let mut views: Vec<SecBuffer<'_>> = buffers.iter().map(|c| unsafe { view(c) }).collect();
        let result = f(&mut views);
        write_back(buffers, &views);
        result
    }
}

/// Runs `f` on read-only views of `buffers` (from [`descriptor`]).
pub(crate) fn with_refs<R>(buffers: &[CBuffer], f: impl FnOnce(&[SecBufferRef<'_>]) -> R) -> R {
    if buffers.len() <= INLINE {
        let mut views = [SecBufferRef::new(SecBufferType::EMPTY, &[]); INLINE];
        for (v, c) in views.iter_mut().zip(buffers.iter()) {
            // SAFETY: `buffers` were checked by `descriptor`.
            *v = unsafe { view_ref(c) };
        }
        f(&views[..buffers.len()])
    } else {
        // SAFETY: as above.
        let views: Vec<SecBufferRef<'_>> = buffers.iter().map(|c| unsafe { view_ref(c) }).collect();
        f(&views)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(buffers: &mut [CBuffer]) -> SecBufferDesc {
        SecBufferDesc {
            ul_version: 0,
            c_buffers: buffers.len() as u32,
            p_buffers: buffers.as_mut_ptr(),
        }
    }

    #[test]
    fn bad_descriptors_are_refused_with_windows_statuses() {
        let mut data = [0u8; 8];
        let p = data.as_mut_ptr() as *mut std::ffi::c_void;
        let ok = |cb, pv| CBuffer {
            cb_buffer: cb,
            buffer_type: 1,
            pv_buffer: pv,
        };
        // SAFETY (every call below): the descriptors point to live arrays and `data`.
        unsafe {
            assert_eq!(
                descriptor(std::ptr::null_mut()).unwrap_err(),
                INVALID_PARAMETER
            );
            let mut one = [ok(8, p)];
            let mut d = desc(&mut one);
            assert_eq!(descriptor(&mut d).unwrap().len(), 1);
            d.ul_version = 1;
            assert_eq!(descriptor(&mut d).unwrap_err(), INVALID_TOKEN);
            d.ul_version = 0;
            d.c_buffers = MAX_BUFFERS + 1;
            assert_eq!(descriptor(&mut d).unwrap_err(), INVALID_PARAMETER);
            d.c_buffers = 1;
            d.p_buffers = std::ptr::null_mut();
            assert_eq!(descriptor(&mut d).unwrap_err(), INVALID_PARAMETER);
            let mut null = [ok(4, std::ptr::null_mut())];
            assert_eq!(
                descriptor(&mut desc(&mut null)).unwrap_err(),
                INVALID_PARAMETER
            );
            let mut empty_null = [ok(0, std::ptr::null_mut())];
            assert!(descriptor(&mut desc(&mut empty_null)).is_ok());
            let mut overlapping = [ok(8, p), ok(4, p.add(4))];
            assert_eq!(
                descriptor(&mut desc(&mut overlapping)).unwrap_err(),
                INVALID_PARAMETER
            );
            let mut adjacent = [ok(4, p), ok(4, p.add(4))];
            assert!(descriptor(&mut desc(&mut adjacent)).is_ok());
            let mut wrapping = [ok(8, usize::MAX as *mut std::ffi::c_void)];
            assert_eq!(
                descriptor(&mut desc(&mut wrapping)).unwrap_err(),
                INVALID_PARAMETER
            );
        }
    }
}
