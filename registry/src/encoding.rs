//! Turning the bytes of a `.reg` file into text.

use std::path::Path;

use crate::error::RegistryError;

/// Decodes UTF-8 (with or without BOM) or UTF-16LE with BOM.
pub(crate) fn decode(bytes: &[u8], path: &Path) -> Result<String, RegistryError> {
    let fail = |message: String| RegistryError::Encoding {
        path: path.to_owned(),
        message,
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        if !rest.len().is_multiple_of(2) {
            return Err(fail(format!(
                "UTF-16LE file has an odd number of bytes ({})",
                bytes.len()
            )));
        }
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .filter_map(|pair| <[u8; 2]>::try_from(pair).ok())
            .map(u16::from_le_bytes)
            .collect();
        let text: String = char::decode_utf16(units.iter().copied())
            .enumerate()
            .map(|(i, c)| {
                c.map_err(|_| {
                    fail(format!(
                        "invalid UTF-16LE (unpaired surrogate at byte offset {})",
                        2 + 2 * i
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        return reject_nul(text, &fail);
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(fail(
            "UTF-16 big endian is not supported; save the file as UTF-8 or UTF-16LE".to_owned(),
        ));
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    let text = std::str::from_utf8(body).map_err(|e| {
        let offset = e.valid_up_to();
        let line = 1 + body.iter().take(offset).filter(|&&b| b == b'\n').count();
        fail(format!(
            "not valid UTF-8 (line {line}, byte offset {}); save the file as UTF-8 or as \
             UTF-16LE with a byte-order mark",
            offset + (bytes.len() - body.len())
        ))
    })?;
    reject_nul(text.to_owned(), &fail)
}

/// NUL never occurs in `.reg` text; it means UTF-16 without a byte-order mark.
fn reject_nul(
    text: String,
    fail: &dyn Fn(String) -> RegistryError,
) -> Result<String, RegistryError> {
    if let Some(offset) = text.find('\0') {
        let line = 1 + text.get(..offset).unwrap_or("").matches('\n').count();
        return Err(fail(format!(
            "NUL byte on line {line}: UTF-16 without a byte-order mark? Save the file as \
             UTF-8 or as UTF-16LE with a byte-order mark"
        )));
    }
    Ok(text)
}
