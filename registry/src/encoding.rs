//! Turning the bytes of a `.reg` file into text.

use std::path::Path;

use crate::error::RegistryError;

/// The 1-based line and column (in characters) just after `text`.
fn end_position(text: &str) -> (u32, u32) {
    let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let line = 1 + text.matches('\n').count();
    let last = text.rsplit('\n').next().unwrap_or("");
    (to_u32(line), to_u32(last.chars().count() + 1))
}

/// Decodes UTF-8 (with or without BOM) or UTF-16LE with BOM. A bad
/// character is reported at its line and column, like a syntax error.
pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<String, RegistryError> {
    let fail = |position: Option<(u32, u32)>, message: String| RegistryError::Encoding {
        path: path.to_owned(),
        position,
        message,
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        if !rest.len().is_multiple_of(2) {
            return Err(fail(
                None,
                format!("UTF-16LE file has an odd number of bytes ({})", bytes.len()),
            ));
        }
        let units = rest
            .chunks_exact(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
        let mut text = String::with_capacity(rest.len() / 2);
        // Byte offset of the current unit, counting the byte-order mark.
        let mut offset = 2;
        for c in char::decode_utf16(units) {
            match c {
                Ok(c) => {
                    offset += 2 * c.len_utf16();
                    text.push(c);
                }
                Err(e) => {
                    return Err(fail(
                        Some(end_position(&text)),
                        format!(
                            "invalid UTF-16LE: unpaired surrogate 0x{:04X} at byte offset {offset}; \
                             save the file as UTF-8 or as UTF-16LE",
                            e.unpaired_surrogate()
                        ),
                    ));
                }
            }
        }
        return reject_nul(text, &fail);
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(fail(
            None,
            "UTF-16 big endian is not supported; save the file as UTF-8 or UTF-16LE".to_owned(),
        ));
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let text = std::str::from_utf8(body).map_err(|e| {
        let offset = e.valid_up_to();
        let valid = std::str::from_utf8(&body[..offset]).unwrap_or_default();
        fail(
            Some(end_position(valid)),
            format!(
                "not valid UTF-8 (byte offset {}); save the file as UTF-8 or as \
                 UTF-16LE with a byte-order mark",
                offset + (bytes.len() - body.len())
            ),
        )
    })?;
    reject_nul(text.to_owned(), &fail)
}

/// NUL never occurs in `.reg` text; it means UTF-16 without a byte-order mark.
fn reject_nul(
    text: String,
    fail: &dyn Fn(Option<(u32, u32)>, String) -> RegistryError,
) -> Result<String, RegistryError> {
    if let Some(offset) = text.find('\0') {
        let position = end_position(text.get(..offset).unwrap_or(""));
        return Err(fail(
            Some(position),
            "NUL character: UTF-16 without a byte-order mark? Save the file as \
             UTF-8 or as UTF-16LE with a byte-order mark"
                .to_owned(),
        ));
    }
    Ok(text)
}
