//! Small builders and readers over picky-krb's message types, shared by the
//! client, the acceptor and the KDC, and the decoders every message from a
//! peer goes through: [`decode`] (any DER message) and [`decode_gss_token`]
//! (an RFC 4121 InitialContextToken). Both run [`crate::internal::der::check`] first,
//! so picky-asn1-der never sees a length it could overflow on or misread.

use crate::crypto::{Etype, Key};
use crate::principal::{Principal, int_value, integer};
use picky_asn1::bit_string::BitString;
use picky_asn1::wrapper::{
    Asn1SequenceOf, ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2,
    ExplicitContextTag3, IntegerAsn1, OctetStringAsn1, Optional,
};
use picky_krb::data_types::{
    EtypeInfo2, EtypeInfo2Entry, KerberosFlags, PaData, Ticket, TicketInner,
};
use picky_krb::gss_api::{ApplicationTag0, KrbMessage};
use serde::de::DeserializeOwned;
use std::fmt;

/// Why bytes from a peer did not decode.
#[derive(Debug)]
pub enum DecodeError {
    /// The DER itself is malformed: refused before picky saw it.
    Der(crate::der::DerError),
    /// The GSS-API framing is malformed.
    Framing(&'static str),
    /// Well-formed DER, but not the expected message.
    Message(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Der(e) => e.fmt(f),
            DecodeError::Framing(what) => write!(f, "malformed GSS-API token: {what}"),
            DecodeError::Message(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<crate::der::DerError> for DecodeError {
    fn from(e: crate::der::DerError) -> DecodeError {
        DecodeError::Der(e)
    }
}

/// Decodes a `T` (AS-REQ, AP-REQ, an encrypted part...) from the DER element
/// at the front of `bytes`, which may come from anyone: the whole element is
/// checked by [`crate::internal::der::check`] first and only its bytes reach picky.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let element = crate::der::checked(bytes)?;
    picky_asn1_der::from_bytes(element).map_err(|e| DecodeError::Message(e.to_string()))
}

/// Decodes an RFC 4121 InitialContextToken (`[APPLICATION 0] { mech OID,
/// TOK_ID, message }`) carrying a `T`: the framing and the inner message are
/// checked by [`crate::internal::der`] first, as in [`decode`].
pub fn decode_gss_token<T: DeserializeOwned>(
    token: &[u8],
) -> Result<ApplicationTag0<KrbMessage<T>>, DecodeError> {
    let (outer, _) = crate::der::read(token).ok_or(DecodeError::Framing(
        "the outer length is malformed or runs past the token",
    ))?;
    if outer.tag != 0x60 {
        return Err(DecodeError::Framing(
            "not an InitialContextToken (tag 0x60)",
        ));
    }
    let header = outer.raw.len() - outer.content.len();
    let oid_len =
        crate::der::check(outer.content).map_err(|e| DecodeError::Der(shift(e, header)))?;
    let inner_at = oid_len + 2;
    let inner = outer
        .content
        .get(inner_at..)
        .ok_or(DecodeError::Framing("truncated TOK_ID"))?;
    let inner_len =
        crate::der::check(inner).map_err(|e| DecodeError::Der(shift(e, header + inner_at)))?;
    if inner_len != inner.len() {
        return Err(DecodeError::Framing("bytes after the Kerberos message"));
    }
    KrbMessage::<T>::decode_application_krb_message(outer.raw)
        .map_err(|e| DecodeError::Message(e.to_string()))
}

fn shift(e: crate::der::DerError, by: usize) -> crate::der::DerError {
    crate::der::DerError {
        offset: e.offset + by,
        ..e
    }
}

/// PA-TGS-REQ
pub const PA_TGS_REQ: i64 = 1;
/// PA-ENC-TIMESTAMP
pub const PA_ENC_TIMESTAMP: i64 = 2;
/// PA-ETYPE-INFO2
pub const PA_ETYPE_INFO2: i64 = 19;

/// Ticket flags (RFC 4120 5.3; bit 0 is the most significant).
pub mod ticket_flags {
    /// forwardable: the KDC may issue a forwarded TGT from this TGT.
    pub const FORWARDABLE: u32 = 1 << (31 - 1);
    /// forwarded: the ticket is (or was issued from) a forwarded TGT.
    pub const FORWARDED: u32 = 1 << (31 - 2);
    /// invalid: a postdated ticket not validated yet.
    pub const INVALID: u32 = 1 << (31 - 7);
    /// renewable: the KDC renews the ticket until its renew-till time.
    pub const RENEWABLE: u32 = 1 << (31 - 8);
    /// initial: issued by the AS exchange, not from a TGT.
    pub const INITIAL: u32 = 1 << (31 - 9);
    /// pre-authent: the client pre-authenticated.
    pub const PRE_AUTHENT: u32 = 1 << (31 - 10);
    /// ok-as-delegate: the realm trusts the service with delegated credentials.
    pub const OK_AS_DELEGATE: u32 = 1 << (31 - 13);
}

/// KDC options of a KDC-REQ body (RFC 4120 5.4.1; bit 0 is the most significant).
pub mod kdc_options {
    /// forwardable: ask for a forwardable ticket.
    pub const FORWARDABLE: u32 = 1 << (31 - 1);
    /// forwarded: ask for a forwarded TGT (the TGT presented must be forwardable).
    pub const FORWARDED: u32 = 1 << (31 - 2);
    /// renewable: ask for a renewable ticket until the request's rtime.
    pub const RENEWABLE: u32 = 1 << (31 - 8);
    /// canonicalize
    pub const CANONICALIZE: u32 = 1 << (31 - 15);
    /// renewable-ok: a renewable ticket is acceptable when the lifetime asked for is too long.
    pub const RENEWABLE_OK: u32 = 1 << (31 - 27);
    /// renew: renew the (renewable) ticket presented.
    pub const RENEW: u32 = 1 << (31 - 30);
    /// validate: validate the (postdated) ticket presented.
    pub const VALIDATE: u32 = 1 << 0;
}

/// AP-REQ option mutual-required.
pub const AP_OPTION_MUTUAL_REQUIRED: u32 = 0x2000_0000;
/// AP-REQ option use-session-key.
pub const AP_OPTION_USE_SESSION_KEY: u32 = 0x4000_0000;

/// A 32-bit KerberosFlags BIT STRING.
pub fn flags(value: u32) -> KerberosFlags {
    KerberosFlags::from(BitString::with_bytes(value.to_be_bytes().to_vec()))
}

/// The first 32 bits of a KerberosFlags (missing bits are 0).
pub fn flags_value(flags: &KerberosFlags) -> u32 {
    let bytes = flags.0.payload_view();
    let mut out = [0u8; 4];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = *b;
    }
    u32::from_be_bytes(out)
}

/// A PA-DATA of `kind` carrying `value`.
pub fn pa_data(kind: i64, value: Vec<u8>) -> PaData {
    PaData {
        padata_type: ExplicitContextTag1::from(integer(kind)),
        padata_data: ExplicitContextTag2::from(OctetStringAsn1::from(value)),
    }
}

/// The value of the first PA-DATA of `kind` in `list`.
pub fn find_pa_data(list: &[PaData], kind: i64) -> Option<&[u8]> {
    list.iter()
        .find(|p| int_value(&p.padata_type.0) == Some(kind))
        .map(|p| p.padata_data.0.0.as_slice())
}

/// ETYPE-INFO2 with one entry per key (`salt` for each).
pub fn etype_info2(entries: &[(Etype, Vec<u8>)]) -> Result<Vec<u8>, String> {
    let list: Vec<EtypeInfo2Entry> = entries
        .iter()
        .map(|(etype, salt)| {
            let salt = String::from_utf8(salt.clone()).map_err(|_| "salt is not UTF-8")?;
            Ok(EtypeInfo2Entry {
                etype: ExplicitContextTag0::from(integer(i64::from(etype.number()))),
                salt: Optional::from(Some(ExplicitContextTag1::from(
                    crate::principal::kerberos_string(&salt)?,
                ))),
                s2kparams: Optional::from(None),
            })
        })
        .collect::<Result<_, String>>()?;
    picky_asn1_der::to_vec(&EtypeInfo2::from(list)).map_err(|e| e.to_string())
}

/// One usable entry of an ETYPE-INFO2: the etype, its salt and s2kparams.
#[derive(Debug, Clone)]
pub struct SaltInfo {
    /// The etype.
    pub etype: Etype,
    /// The salt (the default salt when the KDC sent none).
    pub salt: Vec<u8>,
    /// s2kparams, if sent.
    pub s2kparams: Option<Vec<u8>>,
}

/// The first entry of an ETYPE-INFO2 whose etype is in `allowed`.
pub fn choose_etype_info2(
    bytes: &[u8],
    allowed: &[Etype],
    default_salt: &[u8],
) -> Result<Option<SaltInfo>, String> {
    let info: EtypeInfo2 = decode(bytes).map_err(|e| format!("malformed ETYPE-INFO2: {e}"))?;
    for entry in info.0.iter() {
        let Some(etype) = int_value(&entry.etype.0).and_then(Etype::from_number) else {
            continue;
        };
        if !allowed.contains(&etype) {
            continue;
        }
        let salt = entry
            .salt
            .0
            .as_ref()
            .map(|s| s.0.as_bytes().to_vec())
            .unwrap_or_else(|| default_salt.to_vec());
        let s2kparams = entry.s2kparams.0.as_ref().map(|p| p.0.0.clone());
        return Ok(Some(SaltInfo {
            etype,
            salt,
            s2kparams,
        }));
    }
    Ok(None)
}

/// A ticket for `server`, its EncTicketPart encrypted with `key` (kvno `kvno`).
pub fn ticket(
    server: &Principal,
    encrypted: picky_krb::data_types::EncryptedData,
) -> Result<Ticket, String> {
    Ok(Ticket::from(TicketInner {
        tkt_vno: ExplicitContextTag0::from(integer(5)),
        realm: ExplicitContextTag1::from(server.realm_asn1()?),
        sname: ExplicitContextTag2::from(server.to_asn1()?),
        enc_part: ExplicitContextTag3::from(encrypted),
    }))
}

/// The etype list of a request, as numbers.
pub fn etype_list(list: &Asn1SequenceOf<IntegerAsn1>) -> Vec<i64> {
    list.0.iter().filter_map(int_value).collect()
}

/// The etypes of `list` this package implements, in the list's order.
pub fn supported(list: &[i64]) -> Vec<Etype> {
    let mut out = Vec::new();
    for e in list.iter().filter_map(|n| Etype::from_number(*n)) {
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out
}

/// An ASN.1 etype list.
pub fn etype_sequence(etypes: &[Etype]) -> Asn1SequenceOf<IntegerAsn1> {
    Asn1SequenceOf::from(
        etypes
            .iter()
            .map(|e| integer(i64::from(e.number())))
            .collect::<Vec<_>>(),
    )
}

/// A session key of the first of `etypes` (client preference order).
pub fn session_key(etypes: &[Etype]) -> Result<Key, String> {
    let etype = etypes
        .first()
        .copied()
        .ok_or_else(|| "no common encryption type".to_string())?;
    Key::random(etype).map_err(|e| e.to_string())
}
