//! NUL-terminated strings across the C boundary: UTF-16 (`SEC_WCHAR`) and
//! 8-bit (`SEC_CHAR`, read as UTF-8), read with a bound so a missing NUL is
//! an error, never a read past the end of memory the caller owns... as far
//! as the bound goes.

/// The longest string read from a caller (characters): longer is refused.
pub const MAX_STRING: usize = 32 * 1024;

/// Why a C string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StringError {
    /// No NUL within [`MAX_STRING`] characters.
    TooLong,
    /// Not valid UTF-16 / UTF-8.
    Invalid,
}

impl std::fmt::Display for StringError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StringError::TooLong => write!(f, "no NUL within {MAX_STRING} characters"),
            StringError::Invalid => f.write_str("not valid UTF-16 or UTF-8"),
        }
    }
}

/// The text of a NUL-terminated UTF-16 string; `None` for NULL.
///
/// # Safety
/// `ptr` is NULL or points to readable `u16`s up to a NUL or [`MAX_STRING`] of them.
pub unsafe fn read_wide(ptr: *const u16) -> Result<Option<String>, StringError> {
    if ptr.is_null() {
        return Ok(None);
    }
    let mut len = 0;
    // SAFETY: the caller guarantees readability up to the NUL or the bound.
    while unsafe { *ptr.add(len) } != 0 {
        len += 1;
        if len > MAX_STRING {
            return Err(StringError::TooLong);
        }
    }
    // SAFETY: `len` units were just read.
    let units = unsafe { std::slice::from_raw_parts(ptr, len) };
    String::from_utf16(units)
        .map(Some)
        .map_err(|_| StringError::Invalid)
}

/// The text of `len` UTF-16 units at `ptr` (no NUL needed); empty for NULL.
///
/// # Safety
/// `ptr` is NULL or points to `len` readable `u16`s.
pub unsafe fn read_wide_counted(ptr: *const u16, len: u32) -> Result<String, StringError> {
    if ptr.is_null() || len == 0 {
        return Ok(String::new());
    }
    if len as usize > MAX_STRING {
        return Err(StringError::TooLong);
    }
    // SAFETY: the caller guarantees `len` readable units.
    let units = unsafe { std::slice::from_raw_parts(ptr, len as usize) };
    String::from_utf16(units).map_err(|_| StringError::Invalid)
}

/// The text of a NUL-terminated 8-bit string (UTF-8); `None` for NULL.
///
/// # Safety
/// `ptr` is NULL or points to readable bytes up to a NUL or [`MAX_STRING`] of them.
pub unsafe fn read_narrow(ptr: *const u8) -> Result<Option<String>, StringError> {
    if ptr.is_null() {
        return Ok(None);
    }
    let mut len = 0;
    // SAFETY: the caller guarantees readability up to the NUL or the bound.
    while unsafe { *ptr.add(len) } != 0 {
        len += 1;
        if len > MAX_STRING {
            return Err(StringError::TooLong);
        }
    }
    // SAFETY: `len` bytes were just read.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len) };
    String::from_utf8(bytes.to_vec())
        .map(Some)
        .map_err(|_| StringError::Invalid)
}

/// The text of `len` bytes at `ptr` (UTF-8, no NUL needed); empty for NULL.
///
/// # Safety
/// `ptr` is NULL or points to `len` readable bytes.
pub unsafe fn read_narrow_counted(ptr: *const u8, len: u32) -> Result<String, StringError> {
    if ptr.is_null() || len == 0 {
        return Ok(String::new());
    }
    if len as usize > MAX_STRING {
        return Err(StringError::TooLong);
    }
    // SAFETY: the caller guarantees `len` readable bytes.
    let bytes = unsafe { std::slice::from_raw_parts(ptr, len as usize) };
    String::from_utf8(bytes.to_vec()).map_err(|_| StringError::Invalid)
}

/// `text` as NUL-terminated UTF-16.
pub fn to_wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

/// `text` as NUL-terminated bytes.
pub fn to_narrow(text: &str) -> Vec<u8> {
    text.bytes().chain(std::iter::once(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_and_unterminated_ones_are_bounded() {
        let w = to_wide("Kerberos/é");
        // SAFETY: `w` is NUL-terminated.
        assert_eq!(
            unsafe { read_wide(w.as_ptr()) }.unwrap().unwrap(),
            "Kerberos/é"
        );
        // SAFETY: NULL is allowed.
        assert_eq!(unsafe { read_wide(std::ptr::null()) }.unwrap(), None);
        let long = vec![b'a' as u16; MAX_STRING + 2];
        // SAFETY: the buffer is longer than the bound, so the read stops inside it.
        assert_eq!(
            unsafe { read_wide(long.as_ptr()) },
            Err(StringError::TooLong)
        );
        let lone = [0xD800u16, 0];
        // SAFETY: NUL-terminated.
        assert_eq!(
            unsafe { read_wide(lone.as_ptr()) },
            Err(StringError::Invalid)
        );
        let n = to_narrow("NTLM");
        // SAFETY: NUL-terminated.
        assert_eq!(unsafe { read_narrow(n.as_ptr()) }.unwrap().unwrap(), "NTLM");
        // SAFETY: 2 readable units.
        assert_eq!(unsafe { read_wide_counted(w.as_ptr(), 2) }.unwrap(), "Ke");
    }
}
