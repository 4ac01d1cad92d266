//! SEC_CHANNEL_BINDINGS: the channel bindings an application hands a package
//! in a SECBUFFER_CHANNEL_BINDINGS buffer (e.g. `tls-server-end-point:` and a
//! certificate hash, RFC 5929), and the MD5 every GSS-style package binds
//! into its handshake.

use crate::{SecurityError, SecurityResult, SecurityStatus};

/// The MD5 of a SECBUFFER_CHANNEL_BINDINGS buffer holding a
/// SEC_CHANNEL_BINDINGS: the value NTLM sends as MsvAvChannelBindings and
/// Kerberos puts in the 0x8003 checksum's Bnd field (RFC 4121 4.1.1.2,
/// RFC 2744 3.11). A malformed buffer is SEC_E_INVALID_PARAMETER.
///
/// SEC_CHANNEL_BINDINGS is eight little-endian u32: initiator address type,
/// length, offset; acceptor address type, length, offset; application data
/// length, offset (offsets from the start of the buffer). The hash covers the
/// initiator address type, length and bytes, the acceptor's, then the
/// application data's length and bytes, the numbers as u32 little-endian,
/// as MIT's `kg_checksum_channel_bindings` and Windows compute it.
pub fn channel_bindings_hash(sec_channel_bindings: &[u8]) -> SecurityResult<[u8; 16]> {
    use md5::{Digest, Md5};
    let bad = |what: &str| {
        SecurityError::new(
            SecurityStatus::SEC_E_INVALID_PARAMETER,
            format!(
                "the SECBUFFER_CHANNEL_BINDINGS buffer is not a valid SEC_CHANNEL_BINDINGS: {what}"
            ),
        )
    };
    let word = |index: usize| -> SecurityResult<u32> {
        sec_channel_bindings
            .get(index * 4..index * 4 + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| bad("it is shorter than its 32-byte header"))
    };
    let part = |length: u32, offset: u32, what: &str| -> SecurityResult<&[u8]> {
        if length == 0 {
            return Ok(&[]);
        }
        (offset as usize)
            .checked_add(length as usize)
            .and_then(|end| sec_channel_bindings.get(offset as usize..end))
            .ok_or_else(|| bad(what))
    };
    let initiator = part(word(1)?, word(2)?, "the initiator address lies outside it")?;
    let acceptor = part(word(4)?, word(5)?, "the acceptor address lies outside it")?;
    let application = part(word(6)?, word(7)?, "the application data lies outside it")?;
    let mut md5 = Md5::new();
    md5.update(word(0)?.to_le_bytes());
    md5.update(word(1)?.to_le_bytes());
    md5.update(initiator);
    md5.update(word(3)?.to_le_bytes());
    md5.update(word(4)?.to_le_bytes());
    md5.update(acceptor);
    md5.update(word(6)?.to_le_bytes());
    md5.update(application);
    Ok(md5.finalize().into())
}

/// A SEC_CHANNEL_BINDINGS structure (header and data) carrying only
/// `application_data`, as an application puts it in a
/// SECBUFFER_CHANNEL_BINDINGS buffer (e.g. `tls-server-end-point:` and the
/// certificate hash, RFC 5929). Shorthand for
/// `ChannelBindings::new(application_data).to_bytes()`.
pub fn sec_channel_bindings(application_data: &[u8]) -> Vec<u8> {
    ChannelBindings::new(application_data).to_bytes()
}

/// A SEC_CHANNEL_BINDINGS builder: the application data and, rarely used,
/// the initiator's and acceptor's addresses (type and bytes, GSS-API style).
///
/// ```
/// use sspi_core::{ChannelBindings, SecBufferRef, channel_bindings_hash};
///
/// let cert_hash = [0x5a; 32];
/// let mut data = b"tls-server-end-point:".to_vec();
/// data.extend_from_slice(&cert_hash);
/// let bindings = ChannelBindings::new(&data).to_bytes();
/// // What the application passes beside the peer's token:
/// let _input = [SecBufferRef::channel_bindings(&bindings)];
/// assert_eq!(channel_bindings_hash(&bindings).unwrap().len(), 16);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelBindings<'a> {
    initiator: (u32, &'a [u8]),
    acceptor: (u32, &'a [u8]),
    application_data: &'a [u8],
}

impl<'a> ChannelBindings<'a> {
    /// Bindings carrying `application_data` and no addresses.
    pub const fn new(application_data: &'a [u8]) -> Self {
        Self {
            initiator: (0, &[]),
            acceptor: (0, &[]),
            application_data,
        }
    }

    /// The same bindings with the initiator's address (`address_type` as in
    /// GSS-API, e.g. 2 for IPv4).
    pub const fn with_initiator(mut self, address_type: u32, address: &'a [u8]) -> Self {
        self.initiator = (address_type, address);
        self
    }

    /// The same bindings with the acceptor's address.
    pub const fn with_acceptor(mut self, address_type: u32, address: &'a [u8]) -> Self {
        self.acceptor = (address_type, address);
        self
    }

    /// The SEC_CHANNEL_BINDINGS bytes: the 32-byte header, then the
    /// initiator address, the acceptor address and the application data.
    pub fn to_bytes(&self) -> Vec<u8> {
        let parts = [self.initiator.1, self.acceptor.1, self.application_data];
        let mut out = Vec::with_capacity(32 + parts.iter().map(|p| p.len()).sum::<usize>());
        let mut offset = 32u32;
        let mut header = [0u32; 8];
        for (i, (kind, part)) in [
            (Some(self.initiator.0), parts[0]),
            (Some(self.acceptor.0), parts[1]),
            (None, parts[2]),
        ]
        .into_iter()
        .enumerate()
        {
            let at = i * 3;
            if let Some(kind) = kind {
                header[at] = kind;
                header[at + 1] = part.len() as u32;
                header[at + 2] = if part.is_empty() { 0 } else { offset };
            } else {
                header[6] = part.len() as u32;
                header[7] = offset;
            }
            offset += part.len() as u32;
        }
        for word in header {
            out.extend_from_slice(&word.to_le_bytes());
        }
        for part in parts {
            out.extend_from_slice(part);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_bindings_hash_covers_types_lengths_and_bytes() {
        use md5::{Digest, Md5};
        // Application data only: four zero words (both addresses: type, length), then length and data.
        let data = b"tls-server-end-point:0123456789abcdef";
        let mut expected = Md5::new();
        expected.update([0u8; 16]);
        expected.update((data.len() as u32).to_le_bytes());
        expected.update(data);
        let expected: [u8; 16] = expected.finalize().into();
        assert_eq!(
            channel_bindings_hash(&sec_channel_bindings(data)).unwrap(),
            expected
        );
        // With addresses (type 2, IPv4) at arbitrary offsets.
        let mut buf = vec![0u8; 32];
        let words = [2u32, 4, 40, 2, 4, 44, 3, 48];
        for (i, w) in words.iter().enumerate() {
            buf[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
        }
        buf.resize(40, 0xee);
        buf.extend_from_slice(&[127, 0, 0, 1, 10, 0, 0, 2, b'a', b'b', b'c']);
        let mut expected = Md5::new();
        for chunk in [
            &2u32.to_le_bytes()[..],
            &4u32.to_le_bytes(),
            &[127, 0, 0, 1],
            &2u32.to_le_bytes(),
            &4u32.to_le_bytes(),
            &[10, 0, 0, 2],
            &3u32.to_le_bytes(),
            b"abc",
        ] {
            expected.update(chunk);
        }
        let expected: [u8; 16] = expected.finalize().into();
        assert_eq!(channel_bindings_hash(&buf).unwrap(), expected);
        // Out of bounds and short headers are errors, not panics.
        buf[28..32].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(channel_bindings_hash(&buf).is_err());
        assert!(channel_bindings_hash(&[0; 31]).is_err());
        let mut wrap = sec_channel_bindings(b"x");
        wrap[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(channel_bindings_hash(&wrap).is_err());
    }

    #[test]
    fn the_builder_lays_out_addresses_then_application_data() {
        let built = ChannelBindings::new(b"abc")
            .with_initiator(2, &[127, 0, 0, 1])
            .with_acceptor(2, &[10, 0, 0, 2])
            .to_bytes();
        let mut by_hand = vec![0u8; 32];
        for (i, w) in [2u32, 4, 32, 2, 4, 36, 3, 40].iter().enumerate() {
            by_hand[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
        }
        by_hand.extend_from_slice(&[127, 0, 0, 1, 10, 0, 0, 2, b'a', b'b', b'c']);
        assert_eq!(built, by_hand);
        // Application data only: the layout the shorthand always had.
        let only = sec_channel_bindings(b"x");
        assert_eq!(&only[24..32], &[1, 0, 0, 0, 32, 0, 0, 0]);
        assert_eq!(only.len(), 33);
    }
}
