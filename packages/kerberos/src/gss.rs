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

/// The GSS flags an ISC_REQ asks for, delegation aside (it is set with the
/// KRB-CRED by [`checksum_8003`]).
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

/// The 0x8003 checksum: Lgth 16, Bnd (MD5 of the channel bindings, or
/// zeros), Flags, and with delegation DlgOpt 1, Dlgth and the KRB-CRED
/// (RFC 4121 4.1.1; `flags` then includes [`GSS_DELEG`]).
pub fn checksum_8003(flags: u32, bindings: [u8; 16], delegation: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(28 + delegation.map_or(0, <[u8]>::len));
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&bindings);
    match delegation {
        Some(krb_cred) => {
            out.extend_from_slice(&(flags | GSS_DELEG).to_le_bytes());
            out.extend_from_slice(&1u16.to_le_bytes());
            // The caller keeps a KRB-CRED under 64 KiB (a token is at most cbMaxToken).
            out.extend_from_slice(
                &(krb_cred.len().min(usize::from(u16::MAX)) as u16).to_le_bytes(),
            );
            out.extend_from_slice(krb_cred);
        }
        None => out.extend_from_slice(&(flags & !GSS_DELEG).to_le_bytes()),
    }
    out
}

/// A 0x8003 checksum's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checksum8003<'a> {
    /// The GSS flags.
    pub flags: u32,
    /// The channel-binding hash (zeros for none).
    pub bindings: [u8; 16],
    /// The KRB-CRED of the delegated TGT, when the flags have [`GSS_DELEG`]
    /// and DlgOpt is 1.
    pub delegation: Option<&'a [u8]>,
}

/// Reads a 0x8003 checksum. Bytes after the flags are read only with
/// GSS_DELEG (DlgOpt 1: Dlgth bytes of KRB-CRED, which must be there); any
/// further bytes are extensions and ignored, as RFC 4121 4.1.1.1 allows.
pub fn parse_8003(bytes: &[u8]) -> Result<Checksum8003<'_>, String> {
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
    let mut delegation = None;
    if flags & GSS_DELEG != 0 {
        let rest = &bytes[24..];
        let field = |at: usize| {
            rest.get(at..at + 2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
        };
        let (Some(option), Some(length)) = (field(0), field(2)) else {
            return Err(format!(
                "GSS authenticator checksum asks for delegation but has {} bytes; expected at least 28",
                bytes.len()
            ));
        };
        if option == 1 {
            let krb_cred = rest.get(4..4 + usize::from(length)).ok_or_else(|| {
                format!(
                    "GSS authenticator checksum: Dlgth {length} runs past its {} bytes",
                    bytes.len()
                )
            })?;
            delegation = Some(krb_cred);
        }
    }
    Ok(Checksum8003 {
        flags,
        bindings,
        delegation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checksum_carries_the_krb_cred_with_the_deleg_flag() {
        let bytes = checksum_8003(GSS_MUTUAL, [7; 16], Some(b"KRB-CRED"));
        assert_eq!(bytes.len(), 28 + 8);
        let parsed = parse_8003(&bytes).unwrap();
        assert_eq!(parsed.flags, GSS_MUTUAL | GSS_DELEG);
        assert_eq!(parsed.bindings, [7; 16]);
        assert_eq!(parsed.delegation, Some(&b"KRB-CRED"[..]));
        // Without delegation: 24 bytes and no DELEG flag, whatever was asked.
        let plain = checksum_8003(GSS_MUTUAL | GSS_DELEG, [0; 16], None);
        assert_eq!(plain.len(), 24);
        assert_eq!(parse_8003(&plain).unwrap().flags, GSS_MUTUAL);
        assert_eq!(parse_8003(&plain).unwrap().delegation, None);
    }

    #[test]
    fn a_delegation_field_that_runs_past_the_checksum_is_refused() {
        let mut bytes = checksum_8003(0, [0; 16], Some(b"KRB-CRED"));
        bytes.truncate(bytes.len() - 1);
        assert!(parse_8003(&bytes).unwrap_err().contains("Dlgth 8"));
        // DELEG without the DlgOpt and Dlgth fields.
        let mut short = checksum_8003(0, [0; 16], None);
        short[20] |= GSS_DELEG as u8;
        assert!(parse_8003(&short).unwrap_err().contains("at least 28"));
        // A DlgOpt other than 1 is an extension: no delegation read.
        let mut other = checksum_8003(0, [0; 16], Some(b"xy"));
        other[24] = 2;
        assert_eq!(parse_8003(&other).unwrap().delegation, None);
    }
}
