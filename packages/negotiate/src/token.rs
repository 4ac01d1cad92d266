//! The SPNEGO tokens (RFC 4178 §4.2, MS-SPNG §2.2): DER codec.
//!
//! Decoding is lenient where peers are known to deviate (both Kerberos OIDs, NegTokenInit2's
//! negHints, absent negState/supportedMech, ignored reqFlags and unknown extension fields, the old
//! Sun framing of later tokens) and strict where hostile input could hurt: definite DER lengths
//! only, every length within the input, no trailing bytes after the outer token, and no allocation
//! beyond copies of the input's own fields. Encoding is strict DER with explicit tags.
//!
//! The DER itself is RustCrypto's [`der`] crate (tags, lengths, TLV reading and writing); this
//! module only says which TLVs a SPNEGO token is made of.

use std::borrow::Cow;
use std::fmt;

use der::asn1::AnyRef;
use der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};

use crate::oid::{self, Oid};

/// `negState` of a NegTokenResp (RFC 4178 §4.2.2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum NegState {
    /// `accept-completed` (0): no further tokens expected from the acceptor.
    AcceptCompleted,
    /// `accept-incomplete` (1): more tokens are needed.
    AcceptIncomplete,
    /// `reject` (2): the acceptor refuses every offered mechanism.
    Reject,
    /// `request-mic` (3): the acceptor demands the mechListMIC exchange (first reply only).
    RequestMic,
}

impl NegState {
    /// The ENUMERATED value on the wire (0..=3).
    pub fn value(self) -> u8 {
        match self {
            NegState::AcceptCompleted => 0,
            NegState::AcceptIncomplete => 1,
            NegState::Reject => 2,
            NegState::RequestMic => 3,
        }
    }

    /// The state for an ENUMERATED value, `None` outside 0..=3.
    pub fn from_value(value: u8) -> Option<Self> {
        Some(match value {
            0 => NegState::AcceptCompleted,
            1 => NegState::AcceptIncomplete,
            2 => NegState::Reject,
            3 => NegState::RequestMic,
            _ => return None,
        })
    }
}

/// A NegTokenInit (RFC 4178 §4.2.1) or NegTokenInit2 (MS-SPNG §2.2.1).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct NegTokenInit {
    /// The offered mechanisms, in the initiator's order of preference (duplicates kept).
    pub mech_types: Vec<Oid>,
    /// The MechTypeList SEQUENCE exactly as received (`30 LL 06 …`, without the `a0 LL` tag):
    /// the bytes the mechListMIC covers.
    pub mech_types_der: Vec<u8>,
    /// The optimistic token of the first mechanism (`mechToken`).
    pub mech_token: Option<Vec<u8>>,
    /// `mechListMIC` (`[3]` of a NegTokenInit, `[4]` of a NegTokenInit2).
    pub mech_list_mic: Option<Vec<u8>>,
    /// `negHints.hintName` of a NegTokenInit2 (GeneralString, read as UTF-8, lossily).
    pub hint_name: Option<String>,
}

/// A NegTokenResp (RFC 4178 §4.2.2).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct NegTokenResp {
    /// `negState`; required in the acceptor's first reply, optional later.
    pub neg_state: Option<NegState>,
    /// `supportedMech`; only in the acceptor's first reply.
    pub supported_mech: Option<Oid>,
    /// `responseToken`: the mechanism's token.
    pub response_token: Option<Vec<u8>>,
    /// `mechListMIC`.
    pub mech_list_mic: Option<Vec<u8>>,
}

impl NegTokenResp {
    /// The mechListMIC, except when it repeats the responseToken byte for byte — Windows 2000
    /// sends its response token twice, and MIT and pyspnego ignore such a "MIC".
    pub fn mech_list_mic_ignoring_duplicate(&self) -> Option<&[u8]> {
        match (&self.mech_list_mic, &self.response_token) {
            (Some(mic), Some(token)) if mic == token => None,
            (mic, _) => mic.as_deref(),
        }
    }
}

/// The NegotiationToken CHOICE.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum NegotiationToken {
    /// `[0]` negTokenInit (or NegTokenInit2).
    Init(NegTokenInit),
    /// `[1]` negTokenResp.
    Resp(NegTokenResp),
}

/// What an acceptor can receive as its first token ([`classify`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum IncomingToken<'a> {
    /// A SPNEGO token (GSS-framed NegTokenInit, or a bare `a0`/`a1`).
    Spnego(NegotiationToken),
    /// A raw NTLMSSP message (`NTLMSSP\0` …), as sent to Windows' Negotiate by an NTLM client.
    RawNtlm(&'a [u8]),
    /// A raw Kerberos GSS token (`60 … krb5 OID …`, either Kerberos OID): the whole input.
    RawKerberos(&'a [u8]),
}

/// A SPNEGO token that could not be decoded.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TokenError {
    reason: Cow<'static, str>,
}

impl TokenError {
    fn new(reason: &'static str) -> Self {
        TokenError {
            reason: Cow::Borrowed(reason),
        }
    }

    /// Why the token was refused (e.g. "the initiator offers no mechanism").
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for TokenError {}

impl From<der::Error> for TokenError {
    fn from(e: der::Error) -> Self {
        TokenError {
            reason: Cow::Owned(format!("bad DER: {e}")),
        }
    }
}

type Result<T> = std::result::Result<T, TokenError>;

const NTLMSSP_SIGNATURE: &[u8] = b"NTLMSSP\0";

fn gss_tag() -> Tag {
    Tag::Application {
        constructed: true,
        number: TagNumber(0),
    }
}

fn explicit(number: u32) -> Tag {
    Tag::ContextSpecific {
        constructed: true,
        number: TagNumber(number),
    }
}

/// Reads exactly one TLV from `input`, refusing trailing bytes.
fn single_tlv(input: &[u8]) -> Result<AnyRef<'_>> {
    let mut reader = SliceReader::new(input)?;
    let tlv = AnyRef::decode(&mut reader)?;
    if !reader.is_finished() {
        return Err(TokenError::new("trailing bytes after the token"));
    }
    Ok(tlv)
}

/// The RFC 2743 §3.1 framing `60 LL 06 LL <oid> <inner>`: the OID content and the inner bytes.
fn gss_unframe(input: &[u8]) -> Result<(&[u8], &[u8])> {
    let outer = single_tlv(input)?;
    if outer.tag() != gss_tag() {
        return Err(TokenError::new("not a GSS-API initial context token"));
    }
    let mut reader = SliceReader::new(outer.value())?;
    let this_mech = AnyRef::decode(&mut reader)?;
    if this_mech.tag() != Tag::ObjectIdentifier {
        return Err(TokenError::new("GSS-API framing without a mechanism OID"));
    }
    let rest = reader.read_slice(reader.remaining_len())?;
    Ok((this_mech.value(), rest))
}

/// The explicitly tagged fields `[n] TLV` of a SEQUENCE's content, in ascending tag order.
/// Each field's value is its single inner TLV, kept undecoded.
fn tagged_fields(content: &[u8]) -> Result<Vec<(u32, AnyRef<'_>)>> {
    let mut reader = SliceReader::new(content)?;
    let mut fields = Vec::new();
    let mut last: Option<u32> = None;
    while !reader.is_finished() {
        let field = AnyRef::decode(&mut reader)?;
        let Tag::ContextSpecific {
            constructed: true,
            number,
        } = field.tag()
        else {
            return Err(TokenError::new("a field without an explicit context tag"));
        };
        let number = number.value();
        if last.is_some_and(|last| number <= last) {
            return Err(TokenError::new("fields repeated or out of order"));
        }
        last = Some(number);
        fields.push((number, field));
    }
    Ok(fields)
}

/// The single TLV inside an explicit tag, checked against the expected universal tag.
fn inner<'a>(field: AnyRef<'a>, expected: Tag, what: &'static str) -> Result<AnyRef<'a>> {
    let tlv = single_tlv(field.value())?;
    if tlv.tag() != expected {
        return Err(TokenError::new(what));
    }
    Ok(tlv)
}

fn octet_string(field: AnyRef<'_>, what: &'static str) -> Result<Vec<u8>> {
    Ok(inner(field, Tag::OctetString, what)?.value().to_vec())
}

fn mech_oid(tlv: AnyRef<'_>) -> Result<Oid> {
    if tlv.tag() != Tag::ObjectIdentifier {
        return Err(TokenError::new(
            "a mechanism that is not an OBJECT IDENTIFIER",
        ));
    }
    Oid::from_bytes(tlv.value().to_vec()).ok_or(TokenError::new("a malformed mechanism OID"))
}

fn decode_mech_type_list(field: AnyRef<'_>) -> Result<(Vec<Oid>, Vec<u8>)> {
    let list = inner(field, Tag::Sequence, "mechTypes is not a SEQUENCE")?;
    let mut reader = SliceReader::new(list.value())?;
    let mut oids = Vec::new();
    while !reader.is_finished() {
        oids.push(mech_oid(AnyRef::decode(&mut reader)?)?);
    }
    if oids.is_empty() {
        return Err(TokenError::new("the initiator offers no mechanism"));
    }
    // The field's value is exactly the SEQUENCE TLV (checked by `inner`): keep it verbatim.
    Ok((oids, field.value().to_vec()))
}

fn decode_neg_hints(field: AnyRef<'_>) -> Result<Option<String>> {
    let hints = inner(field, Tag::Sequence, "negHints is not a SEQUENCE")?;
    let mut hint_name = None;
    for (number, hint) in tagged_fields(hints.value())? {
        if number == 0 {
            let name = inner(hint, Tag::GeneralString, "hintName is not a GeneralString")?;
            hint_name = Some(String::from_utf8_lossy(name.value()).into_owned());
        }
        // [1] hintAddress and extensions are ignored.
    }
    Ok(hint_name)
}

/// The content of a NegTokenInit / NegTokenInit2 SEQUENCE.
fn decode_init_sequence(seq: AnyRef<'_>) -> Result<NegTokenInit> {
    if seq.tag() != Tag::Sequence {
        return Err(TokenError::new("negTokenInit is not a SEQUENCE"));
    }
    let mut mech_types = None;
    let mut mech_token = None;
    let mut mech_list_mic = None;
    let mut hint_name = None;
    let mut mic_at_3 = false;
    for (number, field) in tagged_fields(seq.value())? {
        match number {
            0 => mech_types = Some(decode_mech_type_list(field)?),
            // reqFlags: not integrity-protected, "MUST be ignored" whatever its bit length.
            1 => {}
            2 => mech_token = Some(octet_string(field, "mechToken is not an OCTET STRING")?),
            // NegTokenInit's [3] is mechListMIC (04); NegTokenInit2's is negHints (30).
            3 => match single_tlv(field.value())?.tag() {
                Tag::OctetString => {
                    mech_list_mic = Some(octet_string(field, "")?);
                    mic_at_3 = true;
                }
                Tag::Sequence => hint_name = decode_neg_hints(field)?,
                _ => {
                    return Err(TokenError::new(
                        "field [3] is neither mechListMIC nor negHints",
                    ));
                }
            },
            // NegTokenInit2's mechListMIC; in a NegTokenInit after a [3] MIC it is an extension.
            4 if !mic_at_3 => {
                mech_list_mic = Some(octet_string(field, "mechListMIC is not an OCTET STRING")?);
            }
            _ => {} // extension fields are ignored (RFC 4178 §6)
        }
    }
    let (mech_types, mech_types_der) =
        mech_types.ok_or(TokenError::new("the initiator offers no mechanism"))?;
    Ok(NegTokenInit {
        mech_types,
        mech_types_der,
        mech_token,
        mech_list_mic,
        hint_name,
    })
}

fn decode_resp_sequence(seq: AnyRef<'_>) -> Result<NegTokenResp> {
    if seq.tag() != Tag::Sequence {
        return Err(TokenError::new("negTokenResp is not a SEQUENCE"));
    }
    let mut resp = NegTokenResp::default();
    for (number, field) in tagged_fields(seq.value())? {
        match number {
            0 => {
                let state = inner(field, Tag::Enumerated, "negState is not ENUMERATED")?;
                resp.neg_state = Some(match state.value() {
                    [value] => NegState::from_value(*value)
                        .ok_or(TokenError::new("negState has an unknown value"))?,
                    _ => return Err(TokenError::new("negState has an unknown value")),
                });
            }
            1 => resp.supported_mech = Some(mech_oid(single_tlv(field.value())?)?),
            2 => {
                resp.response_token =
                    Some(octet_string(field, "responseToken is not an OCTET STRING")?);
            }
            3 => {
                resp.mech_list_mic =
                    Some(octet_string(field, "mechListMIC is not an OCTET STRING")?);
            }
            _ => {} // extension fields are ignored (RFC 4178 §6)
        }
    }
    Ok(resp)
}

/// A bare NegotiationToken: `a0 …` or `a1 …`, nothing after it.
fn decode_negotiation_token(input: &[u8]) -> Result<NegotiationToken> {
    let choice = single_tlv(input)?;
    if choice.tag() == explicit(0) {
        Ok(NegotiationToken::Init(decode_init_sequence(single_tlv(
            choice.value(),
        )?)?))
    } else if choice.tag() == explicit(1) {
        Ok(NegotiationToken::Resp(decode_resp_sequence(single_tlv(
            choice.value(),
        )?)?))
    } else {
        Err(TokenError::new("not a SPNEGO NegotiationToken"))
    }
}

/// The NegotiationToken inside `60 … SPNEGO-OID …` or a bare one.
fn decode_spnego(input: &[u8]) -> Result<NegotiationToken> {
    if input.first() == Some(&0x60) {
        let (this_mech, inner) = gss_unframe(input)?;
        if this_mech != oid::SPNEGO.as_bytes() {
            return Err(TokenError::new(
                "a GSS-API token for a mechanism other than SPNEGO",
            ));
        }
        decode_negotiation_token(inner)
    } else {
        decode_negotiation_token(input)
    }
}

/// Sorts out an acceptor's first token: SPNEGO (GSS-framed, or bare `a0`/`a1`), raw NTLMSSP, or
/// a raw Kerberos GSS token (`60 … 1.2.840.113554.1.2.2` or `1.2.840.48018.1.2.2 …`).
pub fn classify(input: &[u8]) -> Result<IncomingToken<'_>> {
    if input.starts_with(NTLMSSP_SIGNATURE) {
        return Ok(IncomingToken::RawNtlm(input));
    }
    match input.first() {
        Some(0x60) => {
            let (this_mech, inner) = gss_unframe(input)?;
            if this_mech == oid::SPNEGO.as_bytes() {
                Ok(IncomingToken::Spnego(decode_negotiation_token(inner)?))
            } else if this_mech == oid::KRB5.as_bytes() || this_mech == oid::MS_KRB5.as_bytes() {
                Ok(IncomingToken::RawKerberos(input))
            } else {
                Err(TokenError::new(
                    "a GSS-API token for a mechanism other than SPNEGO or Kerberos",
                ))
            }
        }
        Some(0xa0 | 0xa1) => Ok(IncomingToken::Spnego(decode_negotiation_token(input)?)),
        Some(_) => Err(TokenError::new("neither SPNEGO, Kerberos nor NTLMSSP")),
        None => Err(TokenError::new("an empty token")),
    }
}

/// Decodes an initiator's first token: `60 … SPNEGO-OID a0 …` (also a bare `a0 …`),
/// NegTokenInit or NegTokenInit2.
pub fn decode_init(input: &[u8]) -> Result<NegTokenInit> {
    match decode_spnego(input)? {
        NegotiationToken::Init(init) => Ok(init),
        NegotiationToken::Resp(_) => Err(TokenError::new(
            "a NegTokenResp where a NegTokenInit belongs",
        )),
    }
}

/// Decodes a NegTokenResp: a bare `a1 …`, also inside the old Sun framing `60 … SPNEGO-OID a1 …`.
pub fn decode_resp(input: &[u8]) -> Result<NegTokenResp> {
    match decode_spnego(input)? {
        NegotiationToken::Resp(resp) => Ok(resp),
        NegotiationToken::Init(_) => Err(TokenError::new(
            "a NegTokenInit where a NegTokenResp belongs",
        )),
    }
}

/// One DER TLV with a definite, minimal length (through [`der`]'s header encoding).
///
/// # Panics
/// If `value` is 4 GiB or longer, which no SSPI buffer can be.
pub(crate) fn tlv(tag: Tag, value: &[u8]) -> Vec<u8> {
    AnyRef::new(tag, value)
        .and_then(|any| any.to_der())
        .expect("a SPNEGO token field of 4 GiB or more")
}

fn push_explicit(out: &mut Vec<u8>, number: u32, inner: &[u8]) {
    out.extend_from_slice(&tlv(explicit(number), inner));
}

fn push_octet_string(out: &mut Vec<u8>, number: u32, bytes: Option<&[u8]>) {
    if let Some(bytes) = bytes {
        push_explicit(out, number, &tlv(Tag::OctetString, bytes));
    }
}

/// The DER MechTypeList (`30 LL 06 …`): the bytes to put in mechTypes and to MIC.
///
/// # Panics
/// Only for lists of 4 GiB or more.
pub fn encode_mech_type_list(mechs: &[Oid]) -> Vec<u8> {
    let content: Vec<u8> = mechs.iter().flat_map(Oid::to_der).collect();
    tlv(Tag::Sequence, &content)
}

/// The initiator's first token, `60 … SPNEGO-OID a0 30 …`, with `mech_types_der` (from
/// [`encode_mech_type_list`]) embedded verbatim; never reqFlags.
///
/// # Panics
/// Only for fields of 4 GiB or more.
pub fn encode_init(
    mech_types_der: &[u8],
    mech_token: Option<&[u8]>,
    mech_list_mic: Option<&[u8]>,
) -> Vec<u8> {
    let mut fields = Vec::new();
    push_explicit(&mut fields, 0, mech_types_der);
    push_octet_string(&mut fields, 2, mech_token);
    push_octet_string(&mut fields, 3, mech_list_mic);
    let mut framed = oid::SPNEGO.to_der();
    push_explicit(&mut framed, 0, &tlv(Tag::Sequence, &fields));
    tlv(gss_tag(), &framed)
}

/// A bare NegTokenResp, `a1 30 …`, the fields present in `resp` in tag order.
///
/// # Panics
/// Only for fields of 4 GiB or more.
pub fn encode_resp(resp: &NegTokenResp) -> Vec<u8> {
    let mut fields = Vec::new();
    if let Some(state) = resp.neg_state {
        push_explicit(&mut fields, 0, &tlv(Tag::Enumerated, &[state.value()]));
    }
    if let Some(mech) = &resp.supported_mech {
        push_explicit(&mut fields, 1, &mech.to_der());
    }
    push_octet_string(&mut fields, 2, resp.response_token.as_deref());
    push_octet_string(&mut fields, 3, resp.mech_list_mic.as_deref());
    tlv(explicit(1), &tlv(Tag::Sequence, &fields))
}
