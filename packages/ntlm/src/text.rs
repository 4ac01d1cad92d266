//! Text as NTLM puts it on the wire: UTF-16LE strings and Windows' upper case.

/// UTF-16LE encoding of `text`, as NTLM puts strings on the wire.
pub fn utf16le(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Decodes UTF-16LE bytes; `None` for an odd length or unpaired surrogates.
pub fn from_utf16le(bytes: &[u8]) -> Option<String> {
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    let units = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// Upper-cases `text` one character at a time, as Windows' RtlUpcaseUnicodeString
/// does: a character whose upper case is not a single character is kept.
pub fn upcase(text: &str) -> String {
    text.chars()
        .map(|c| {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_round_trip_and_upcase() {
        assert_eq!(utf16le("Ab"), [b'A', 0, b'b', 0]);
        assert_eq!(
            from_utf16le(&utf16le("héllo €")).as_deref(),
            Some("héllo €")
        );
        assert_eq!(from_utf16le(&[0x41]), None, "odd length");
        assert_eq!(from_utf16le(&[0x00, 0xD8]), None, "unpaired surrogate");
        // ß upper-cases to "SS" (two characters): kept, as Windows does.
        assert_eq!(upcase("straße"), "STRAßE");
    }
}
