//! A minimal DER reader for the few places where the exact bytes of a field
//! matter or picky's typed decoding is too strict: the raw `req-body` of a
//! KDC request (its checksum covers the bytes as sent, which a decode and
//! re-encode need not reproduce) and a lenient KRB-ERROR reader (picky types
//! `cusec` as a time, so a KDC that sends it would not decode).
//!
//! Only single-byte tags (every Kerberos tag is below 31) and definite lengths
//! up to four bytes are accepted; anything else is `None`, never a panic.

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

/// Reads one TLV from the front of `input`; returns it and the rest.
pub fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (bytes, after) = rest.split_at_checked(count)?;
        rest = after;
        bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    let header = input.len() - rest.len();
    let content = rest.get(..len)?;
    let raw = input.get(..header + len)?;
    Some((
        Tlv { tag, content, raw },
        rest.get(len..).unwrap_or_default(),
    ))
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
}
