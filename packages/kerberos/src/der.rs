//! The one gate every byte string from a peer passes before it is decoded,
//! and a minimal DER reader for the few places where the exact bytes of a
//! field matter or picky's typed decoding is too strict: the raw `req-body` of
//! a KDC request (its checksum covers the bytes as sent, which a decode and
//! re-encode need not reproduce) and a lenient KRB-ERROR reader (picky types
//! `cusec` as a time, so a KDC that sends it would not decode).
//!
//! [`check`] walks a whole TLV tree before picky-asn1-der sees it: picky 0.5.7
//! (the newest on crates.io) adds lengths read from the input without
//! overflow checks (`de/mod.rs:643`: `6c 88 ff ff ff ff ff ff ff ff 02 02`
//! panics a debug build) and skips headers by the *minimal* size of a length,
//! so a non-minimal length makes it read from the middle of a header. After
//! [`check`], every length picky can reach is minimal and inside the input.
//! The typed decoders in [`crate::internal::messages`] ([`crate::internal::messages::decode`],
//! [`crate::internal::messages::decode_gss_token`]) call it; the readers here call it
//! too.
//!
//! Only single-byte tags (every Kerberos tag is below 31) and definite,
//! minimal lengths of up to four bytes are accepted; anything else is an
//! error, never a panic.

use std::fmt;

/// The deepest nesting of constructed elements accepted (Kerberos messages
/// nest about ten deep; deeper input is refused rather than walked).
pub const MAX_DEPTH: usize = 32;

/// Why bytes were refused before decoding: what is wrong and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DerError {
    /// The offset of the element at fault, from the start of the checked bytes.
    pub offset: usize,
    /// What is wrong.
    pub reason: &'static str,
}

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid DER at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for DerError {}

/// A TLV header: the tag, the header's size and the content's length (the
/// content may still run past the input: callers check).
fn header(input: &[u8], offset: usize) -> Result<(u8, usize, usize), DerError> {
    let fail = |reason| DerError { offset, reason };
    let (&tag, rest) = input.split_first().ok_or(fail("missing tag"))?;
    if tag & 0x1f == 0x1f {
        return Err(fail("multi-byte tag"));
    }
    let (&first, rest) = rest.split_first().ok_or(fail("missing length"))?;
    if first < 0x80 {
        return Ok((tag, 2, usize::from(first)));
    }
    let count = usize::from(first & 0x7f);
    match count {
        0 => return Err(fail("indefinite length")),
        5.. => return Err(fail("length of more than four bytes")),
        _ => {}
    }
    let bytes = rest.get(..count).ok_or(fail("truncated length"))?;
    if bytes.first() == Some(&0) {
        return Err(fail("non-minimal length (leading zero byte)"));
    }
    let len = bytes
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    if len < 0x80 {
        return Err(fail("non-minimal length (long form below 128)"));
    }
    Ok((tag, 2 + count, len))
}

/// Checks the TLV at the front of `input` and everything nested in it;
/// returns its total size.
fn check_at(input: &[u8], offset: usize, depth: usize) -> Result<usize, DerError> {
    let (tag, header_len, len) = header(input, offset)?;
    let total = header_len
        .checked_add(len)
        .filter(|t| *t <= input.len())
        .ok_or(DerError {
            offset,
            reason: "length runs past the end of the enclosing element",
        })?;
    if tag & 0x20 != 0 {
        if depth >= MAX_DEPTH {
            return Err(DerError {
                offset,
                reason: "nested too deeply",
            });
        }
        let content = input.get(header_len..total).unwrap_or_default();
        let mut at = 0;
        while at < content.len() {
            let rest = content.get(at..).unwrap_or_default();
            at += check_at(rest, offset + header_len + at, depth + 1)?;
        }
    }
    Ok(total)
}

/// Checks the DER element at the front of `input` and every element nested
/// in its constructed parts: single-byte tags, definite minimal lengths, each
/// child inside its parent and the children of a constructed element filling
/// it exactly, at most [`MAX_DEPTH`] deep. Returns the element's size
/// (bytes after it are not looked at). Primitive contents are not parsed.
pub fn check(input: &[u8]) -> Result<usize, DerError> {
    check_at(input, 0, 0)
}

/// [`check`], then the element's bytes without what follows it.
pub fn checked(input: &[u8]) -> Result<&[u8], DerError> {
    let total = check(input)?;
    Ok(input.get(..total).unwrap_or_default())
}

/// One TLV: its tag byte, its content and the whole encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet.
    pub tag: u8,
    /// The content octets.
    pub content: &'a [u8],
    /// Tag, length and content.
    pub raw: &'a [u8],
}

/// Reads one TLV from the front of `input` (its header strictly, as
/// [`check`] would; its content unparsed); returns it and the rest.
pub fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (tag, header_len, len) = header(input, 0).ok()?;
    let total = header_len.checked_add(len)?;
    let raw = input.get(..total)?;
    let content = raw.get(header_len..)?;
    Some((Tlv { tag, content, raw }, input.get(total..)?))
}

/// Reads exactly one TLV: trailing bytes are an error.
pub fn read_exact(input: &[u8]) -> Option<Tlv<'_>> {
    match read(input)? {
        (tlv, []) => Some(tlv),
        _ => None,
    }
}

/// The children of a constructed TLV's content.
pub fn children(mut content: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    std::iter::from_fn(move || {
        let (tlv, rest) = read(content)?;
        content = rest;
        Some(tlv)
    })
}

/// The content of the context-tagged field `[n]` of a SEQUENCE's content.
pub fn field(sequence_content: &[u8], n: u8) -> Option<Tlv<'_>> {
    let wanted = 0xa0 | n;
    children(sequence_content).find(|t| t.tag == wanted)
}

/// The value of a DER INTEGER's content that fits in an i64.
pub fn integer(content: &[u8]) -> Option<i64> {
    if content.is_empty() || content.len() > 8 {
        return None;
    }
    let negative = content.first().is_some_and(|b| b & 0x80 != 0);
    let mut value: i64 = if negative { -1 } else { 0 };
    for &b in content {
        value = (value << 8) | i64::from(b);
    }
    Some(value)
}

/// The raw `req-body` of an AS-REQ or TGS-REQ (`[APPLICATION 10/12] SEQUENCE { ... [4] req-body }`).
pub fn kdc_req_body(message: &[u8]) -> Option<&[u8]> {
    check(message).ok()?;
    let outer = read_exact(message)?;
    let sequence = read_exact(outer.content)?;
    if sequence.tag != 0x30 {
        return None;
    }
    let body = field(sequence.content, 4)?;
    Some(read_exact(body.content)?.raw)
}

/// What a KRB-ERROR says, read leniently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrbErrorFields {
    /// error-code.
    pub code: i64,
    /// e-text, if any (as sent, lossily decoded).
    pub text: Option<String>,
    /// e-data, if any.
    pub data: Option<Vec<u8>>,
}

/// Reads a KRB-ERROR (`[APPLICATION 30]`), or `None` when `message` is not one.
pub fn krb_error(message: &[u8]) -> Option<KrbErrorFields> {
    check(message).ok()?;
    let outer = read_exact(message)?;
    if outer.tag != 0x7e {
        return None;
    }
    let sequence = read_exact(outer.content)?;
    let code_tlv = read_exact(field(sequence.content, 6)?.content)?;
    if code_tlv.tag != 0x02 {
        return None;
    }
    let code = integer(code_tlv.content)?;
    let text = field(sequence.content, 11)
        .and_then(|t| read_exact(t.content))
        .map(|t| String::from_utf8_lossy(t.content).into_owned());
    let data = field(sequence.content, 12)
        .and_then(|t| read_exact(t.content))
        .filter(|t| t.tag == 0x04)
        .map(|t| t.content.to_vec());
    Some(KrbErrorFields { code, text, data })
}

/// The application tag number of a message (`0x6a` -> 10), if it has one.
pub fn application_tag(message: &[u8]) -> Option<u8> {
    let tag = *message.first()?;
    (tag & 0xe0 == 0x60).then_some(tag & 0x1f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths_and_rejects_garbage() {
        let (tlv, rest) = read(&[0x04, 0x02, 0xaa, 0xbb, 0x01]).unwrap();
        assert_eq!(
            (tlv.tag, tlv.content, rest),
            (0x04, &[0xaa, 0xbb][..], &[1u8][..])
        );
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend([7u8; 0x80]);
        assert_eq!(read_exact(&long).unwrap().content.len(), 0x80);
        assert!(read(&[0x04, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(read(&[0x04, 0x03, 1]).is_none());
        assert!(read(&[]).is_none());
        assert!(read(&[0x1f, 0x01, 0x00]).is_none());
        assert_eq!(integer(&[0xff]), Some(-1));
        assert_eq!(integer(&[0x00, 0x80]), Some(128));
    }

    #[test]
    fn check_walks_the_tree_and_refuses_what_picky_would_misread() {
        // SEQUENCE { [0] { INTEGER 5 }, OCTET STRING "ab" } and a trailing byte.
        let good = [
            0x30, 0x09, 0xa0, 0x03, 0x02, 0x01, 0x05, 0x04, 0x02, b'a', b'b', 0xff,
        ];
        assert_eq!(check(&good), Ok(11));
        assert_eq!(checked(&good).unwrap().len(), 11);
        let reason = |bytes: &[u8]| check(bytes).unwrap_err().reason;
        // The KDC crash: an 8-byte length.
        let crash = [
            0x6c, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x02,
        ];
        assert_eq!(reason(&crash), "length of more than four bytes");
        // A 4-byte length past the end, nested one level down.
        let e = check(&[0x30, 0x06, 0xa0, 0x84, 0x7f, 0xff, 0xff, 0xff]).unwrap_err();
        assert_eq!(
            (e.offset, e.reason),
            (2, "length runs past the end of the enclosing element")
        );
        assert_eq!(reason(&[0x30, 0x80, 0x00, 0x00]), "indefinite length");
        assert_eq!(
            reason(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]),
            "non-minimal length (long form below 128)"
        );
        assert_eq!(
            reason(&[0x04, 0x82, 0x00, 0x80]),
            "non-minimal length (leading zero byte)"
        );
        // A child that runs past its parent (though not past the input).
        assert_eq!(
            check(&[0x30, 0x02, 0x04, 0x03, 1, 2, 3])
                .unwrap_err()
                .offset,
            2
        );
        // Primitive contents are not parsed.
        assert_eq!(check(&[0x04, 0x02, 0x30, 0x85]), Ok(4));
        let mut deep = Vec::new();
        for _ in 0..=MAX_DEPTH {
            deep.splice(0..0, [0x30, deep.len() as u8]);
        }
        assert_eq!(reason(&deep), "nested too deeply");
        assert!(check(&deep[2..]).is_ok());
        assert!(kdc_req_body(&crash).is_none() && krb_error(&crash).is_none());
    }
}
