//! RFC 4121 GSS framing of the context tokens: the InitialContextToken
//! (`60 len 06 09 <krb5 OID> TOK_ID message`) and the 0x8003 authenticator
//! checksum that carries the requested GSS flags.

use picky_asn1::wrapper::ObjectIdentifierAsn1;
use picky_krb::gss_api::{ApplicationTag0, KrbMessage};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sspi_core::IscReq;

/// TOK_ID of an AP-REQ token.
pub const TOK_AP_REQ: [u8; 2] = [0x01, 0x00];
/// TOK_ID of an AP-REP token.
pub const TOK_AP_REP: [u8; 2] = [0x02, 0x00];
/// TOK_ID of a KRB-ERROR token.
pub const TOK_ERROR: [u8; 2] = [0x03, 0x00];

/// The authenticator checksum type of RFC 4121 4.1.1.
pub const CHECKSUM_8003: i64 = 0x8003;

/// GSS_C_DELEG_FLAG
pub const GSS_DELEG: u32 = 0x01;
/// GSS_C_MUTUAL_FLAG
pub const GSS_MUTUAL: u32 = 0x02;
/// GSS_C_REPLAY_FLAG
pub const GSS_REPLAY: u32 = 0x04;
/// GSS_C_SEQUENCE_FLAG
pub const GSS_SEQUENCE: u32 = 0x08;
/// GSS_C_CONF_FLAG
pub const GSS_CONF: u32 = 0x10;
/// GSS_C_INTEG_FLAG
pub const GSS_INTEG: u32 = 0x20;

/// Frames `message` as a GSS token with `token_id` and the krb5 mechanism OID.
pub fn frame<T: Serialize + std::fmt::Debug + PartialEq>(
    token_id: [u8; 2],
    message: T,
) -> Result<Vec<u8>, String> {
    let token = ApplicationTag0(KrbMessage {
        krb5_oid: ObjectIdentifierAsn1::from(picky_asn1_x509::oids::krb5()),
        krb5_token_id: token_id,
        krb_msg: message,
    });
    picky_asn1_der::to_vec(&token).map_err(|e| e.to_string())
}

/// What a received token turned out to be.
pub enum Received<T> {
    /// The expected message.
    Message(T),
    /// A KRB-ERROR token (its DER).
    Error(Vec<u8>),
}

/// Reads a GSS token expected to carry `token_id`; a KRB-ERROR token is
/// returned as such. The mechanism must be krb5 (or Microsoft's legacy OID).
pub fn unframe<T: DeserializeOwned>(
    token: &[u8],
    token_id: [u8; 2],
) -> Result<Received<T>, String> {
    if token.first() != Some(&0x60) {
        return Err("not a GSS-API token (expected the 0x60 InitialContextToken tag)".into());
    }
    let krb5 = ObjectIdentifierAsn1::from(picky_asn1_x509::oids::krb5());
    let ms_krb5 = ObjectIdentifierAsn1::from(picky_asn1_x509::oids::ms_krb5());
    // Peek at the token id first: an error token carries a KRB-ERROR instead.
    let outer = crate::der::read_exact(token).ok_or("malformed GSS-API token")?;
    let (oid, rest) = crate::der::read(outer.content).ok_or("malformed GSS-API token")?;
    if oid.tag != 0x06 {
        return Err("the GSS-API token has no mechanism OID".into());
    }
    let id = rest.get(..2).ok_or("truncated GSS-API token")?;
    if id == TOK_ERROR {
        let error = rest.get(2..).unwrap_or_default();
        return Ok(Received::Error(error.to_vec()));
    }
    if id != token_id {
        return Err(format!(
            "unexpected GSS-API token id {:02x} {:02x} (expected {:02x} {:02x})",
            id[0], id[1], token_id[0], token_id[1]
        ));
    }
    let decoded = crate::messages::decode_gss_token::<T>(token)
        .map_err(|e| format!("malformed Kerberos message in the GSS-API token: {e}"))?;
    let message = decoded.0;
    if message.krb5_oid != krb5 && message.krb5_oid != ms_krb5 {
        return Err("the GSS-API token is for another mechanism than Kerberos V5".into());
    }
    Ok(Received::Message(message.krb_msg))
}

/// The GSS flags an ISC_REQ asks for (delegation is never offered).
pub fn flags_from_isc(req: IscReq) -> u32 {
    let mut flags = 0;
    if req.contains(IscReq::MUTUAL_AUTH) {
        flags |= GSS_MUTUAL;
    }
    if req.contains(IscReq::REPLAY_DETECT) {
        flags |= GSS_REPLAY;
    }
    if req.contains(IscReq::SEQUENCE_DETECT) {
        flags |= GSS_SEQUENCE;
    }
    if req.contains(IscReq::CONFIDENTIALITY) {
        flags |= GSS_CONF | GSS_INTEG;
    }
    if req.contains(IscReq::INTEGRITY) {
        flags |= GSS_INTEG;
    }
    flags
}

/// The 0x8003 checksum: Lgth 16, Bnd (MD5 of the channel bindings, or zeros), Flags.
pub fn checksum_8003(flags: u32, bindings: [u8; 16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(24);
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&bindings);
    out.extend_from_slice(&flags.to_le_bytes());
    out
}

/// Reads a 0x8003 checksum: the flags and the channel-binding hash.
pub fn parse_8003(bytes: &[u8]) -> Result<(u32, [u8; 16]), String> {
    let header: [u8; 24] = bytes
        .get(..24)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            format!(
                "GSS authenticator checksum of {} bytes; expected at least 24",
                bytes.len()
            )
        })?;
    let lgth = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    if lgth != 16 {
        return Err(format!(
            "GSS authenticator checksum has Lgth {lgth}; expected 16"
        ));
    }
    let mut bindings = [0u8; 16];
    bindings.copy_from_slice(&header[4..20]);
    let flags = u32::from_le_bytes([header[20], header[21], header[22], header[23]]);
    Ok((flags, bindings))
}

/// The MD5 of the channel bindings that goes into the 0x8003 checksum's Bnd
/// field (RFC 4121 4.1.1.2, RFC 2744 3.11), from a SECBUFFER_CHANNEL_BINDINGS
/// buffer holding a SEC_CHANNEL_BINDINGS.
///
/// SEC_CHANNEL_BINDINGS is eight little-endian u32: initiator address type,
/// length, offset; acceptor address type, length, offset; application data
/// length, offset (offsets from the start of the buffer). The hash covers the
/// initiator address type, length and bytes, the acceptor's, then the
/// application data's length and bytes, the numbers as u32 little-endian,
/// as MIT's `kg_checksum_channel_bindings` and Windows compute it.
pub fn channel_bindings_hash(sec_channel_bindings: &[u8]) -> Result<[u8; 16], String> {
    use md5::{Digest, Md5};
    let bad = |what: &str| {
        format!("the SECBUFFER_CHANNEL_BINDINGS buffer is not a valid SEC_CHANNEL_BINDINGS: {what}")
    };
    let word = |index: usize| -> Result<u32, String> {
        sec_channel_bindings
            .get(index * 4..index * 4 + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| bad("it is shorter than its 32-byte header"))
    };
    let part = |length: u32, offset: u32, what: &str| -> Result<&[u8], String> {
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
/// certificate hash, RFC 5929).
pub fn sec_channel_bindings(application_data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + application_data.len());
    for word in [0u32, 0, 0, 0, 0, 0] {
        out.extend_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(&(application_data.len() as u32).to_le_bytes());
    out.extend_from_slice(&32u32.to_le_bytes());
    out.extend_from_slice(application_data);
    out
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
}
