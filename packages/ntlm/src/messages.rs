//! The NTLM messages on the wire (MS-NLMP 2.2): NEGOTIATE, CHALLENGE,
//! AUTHENTICATE, the AV_PAIR list and the NTLMv2 response.
//!
//! Written by hand: the messages are small fixed-layout little-endian headers
//! with (length, offset) descriptors into a payload, and the parsers must
//! borrow from the caller's token (no copy), accept exactly what MS-NLMP
//! allows and report each malformation as SEC_E_INVALID_TOKEN. The crates.io
//! implementations (`sspi`, `ntlmclient`) keep their codecs private or tie them
//! to their own state machines and allocate per field.
//!
//! Every read is bounds-checked with `get`: no input can make a parser panic
//! (proptest and cargo-fuzz check this).

use sspi_core::{SecurityError, SecurityResult};

/// `"NTLMSSP\0"`
pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
/// MessageType of a NEGOTIATE_MESSAGE.
pub const NEGOTIATE: u32 = 1;
/// MessageType of a CHALLENGE_MESSAGE.
pub const CHALLENGE: u32 = 2;
/// MessageType of an AUTHENTICATE_MESSAGE.
pub const AUTHENTICATE: u32 = 3;

/// The VERSION structure this package sends: 10.0 build 20348, NTLMSSP_REVISION_W2K3.
pub const OUR_VERSION: [u8; 8] = [10, 0, 0x7C, 0x4F, 0, 0, 0, 0x0F];

/// The length of a NEGOTIATE_MESSAGE header with its VERSION.
pub const NEGOTIATE_HEADER_LEN: usize = 40;
/// The length of a CHALLENGE_MESSAGE header with its VERSION.
pub const CHALLENGE_HEADER_LEN: usize = 56;
/// The offset of the MIC in an AUTHENTICATE_MESSAGE.
pub const MIC_OFFSET: usize = 72;
/// The length of an AUTHENTICATE_MESSAGE header with VERSION and MIC.
pub const AUTHENTICATE_HEADER_LEN: usize = 88;

/// NegotiateFlags (MS-NLMP 2.2.2.5).
pub mod flags {
    /// NTLMSSP_NEGOTIATE_UNICODE (A)
    pub const UNICODE: u32 = 0x0000_0001;
    /// NTLM_NEGOTIATE_OEM (B)
    pub const OEM: u32 = 0x0000_0002;
    /// NTLMSSP_REQUEST_TARGET (C)
    pub const REQUEST_TARGET: u32 = 0x0000_0004;
    /// NTLMSSP_NEGOTIATE_SIGN (D)
    pub const SIGN: u32 = 0x0000_0010;
    /// NTLMSSP_NEGOTIATE_SEAL (E)
    pub const SEAL: u32 = 0x0000_0020;
    /// NTLMSSP_NEGOTIATE_DATAGRAM (F)
    pub const DATAGRAM: u32 = 0x0000_0040;
    /// NTLMSSP_NEGOTIATE_LM_KEY (G)
    pub const LM_KEY: u32 = 0x0000_0080;
    /// NTLMSSP_NEGOTIATE_NTLM (H)
    pub const NTLM: u32 = 0x0000_0200;
    /// NTLMSSP_ANONYMOUS (J)
    pub const ANONYMOUS: u32 = 0x0000_0800;
    /// NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED (K)
    pub const OEM_DOMAIN_SUPPLIED: u32 = 0x0000_1000;
    /// NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED (L)
    pub const OEM_WORKSTATION_SUPPLIED: u32 = 0x0000_2000;
    /// NTLMSSP_NEGOTIATE_ALWAYS_SIGN (M)
    pub const ALWAYS_SIGN: u32 = 0x0000_8000;
    /// NTLMSSP_TARGET_TYPE_DOMAIN (N)
    pub const TARGET_TYPE_DOMAIN: u32 = 0x0001_0000;
    /// NTLMSSP_TARGET_TYPE_SERVER (O)
    pub const TARGET_TYPE_SERVER: u32 = 0x0002_0000;
    /// NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY (P)
    pub const EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
    /// NTLMSSP_NEGOTIATE_IDENTIFY (Q)
    pub const IDENTIFY: u32 = 0x0010_0000;
    /// NTLMSSP_REQUEST_NON_NT_SESSION_KEY (R)
    pub const REQUEST_NON_NT_SESSION_KEY: u32 = 0x0040_0000;
    /// NTLMSSP_NEGOTIATE_TARGET_INFO (S)
    pub const TARGET_INFO: u32 = 0x0080_0000;
    /// NTLMSSP_NEGOTIATE_VERSION (T)
    pub const VERSION: u32 = 0x0200_0000;
    /// NTLMSSP_NEGOTIATE_128 (U)
    pub const NEGOTIATE_128: u32 = 0x2000_0000;
    /// NTLMSSP_NEGOTIATE_KEY_EXCH (V)
    pub const KEY_EXCH: u32 = 0x4000_0000;
    /// NTLMSSP_NEGOTIATE_56 (W)
    pub const NEGOTIATE_56: u32 = 0x8000_0000;
}

/// AV_PAIR identifiers (MS-NLMP 2.2.2.1).
pub mod av {
    /// MsvAvEOL
    pub const EOL: u16 = 0;
    /// MsvAvNbComputerName
    pub const NB_COMPUTER_NAME: u16 = 1;
    /// MsvAvNbDomainName
    pub const NB_DOMAIN_NAME: u16 = 2;
    /// MsvAvDnsComputerName
    pub const DNS_COMPUTER_NAME: u16 = 3;
    /// MsvAvDnsDomainName
    pub const DNS_DOMAIN_NAME: u16 = 4;
    /// MsvAvDnsTreeName
    pub const DNS_TREE_NAME: u16 = 5;
    /// MsvAvFlags
    pub const FLAGS: u16 = 6;
    /// MsvAvTimestamp
    pub const TIMESTAMP: u16 = 7;
    /// MsvAvSingleHost
    pub const SINGLE_HOST: u16 = 8;
    /// MsvAvTargetName
    pub const TARGET_NAME: u16 = 9;
    /// MsvAvChannelBindings
    pub const CHANNEL_BINDINGS: u16 = 10;

    /// MsvAvFlags bit: the AUTHENTICATE message carries a MIC.
    pub const FLAG_MIC_PRESENT: u32 = 0x0000_0002;
}

fn invalid(message: impl Into<String>) -> SecurityError {
    SecurityError::invalid_token(message)
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    bytes
        .get(at..at.checked_add(2)?)
        .and_then(|b| b.try_into().ok())
        .map(u16::from_le_bytes)
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at.checked_add(4)?)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    bytes
        .get(at..at.checked_add(8)?)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
}

fn array_at<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes
        .get(at..at.checked_add(N)?)
        .and_then(|b| b.try_into().ok())
}

/// A field descriptor: `Len u16 | MaxLen u16 | Offset u32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Field {
    len: usize,
    offset: usize,
}

impl Field {
    fn read(message: &[u8], at: usize, name: &str) -> SecurityResult<Field> {
        match (u16_at(message, at), u32_at(message, at + 4)) {
            (Some(len), Some(offset)) => Ok(Field {
                len: usize::from(len),
                offset: offset as usize,
            }),
            _ => Err(invalid(format!(
                "the message is too short for its {name} field descriptor"
            ))),
        }
    }

    /// The payload bytes; an empty field is empty wherever its offset points.
    fn bytes<'a>(&self, message: &'a [u8], name: &str) -> SecurityResult<&'a [u8]> {
        if self.len == 0 {
            return Ok(&[]);
        }
        self.offset
            .checked_add(self.len)
            .and_then(|end| message.get(self.offset..end))
            .ok_or_else(|| {
                invalid(format!(
                    "the {name} field ({} bytes at offset {}) lies outside the {}-byte message",
                    self.len,
                    self.offset,
                    message.len()
                ))
            })
    }
}

/// Checks the signature and message type; returns the message for chaining.
fn check_header(message: &[u8], expected: u32, name: &str) -> SecurityResult<()> {
    if message.get(..8) != Some(SIGNATURE.as_slice()) {
        return Err(invalid(format!(
            "expected an NTLM {name} message, but the token does not start with \"NTLMSSP\\0\""
        )));
    }
    match u32_at(message, 8) {
        Some(kind) if kind == expected => Ok(()),
        Some(kind) => Err(invalid(format!(
            "expected an NTLM {name} message (type {expected}), got message type {kind}"
        ))),
        None => Err(invalid(format!("the NTLM {name} message is truncated"))),
    }
}

/// Writes a field descriptor at `at` in `header` for `len` bytes at `offset`.
fn put_field(header: &mut [u8], at: usize, len: usize, offset: usize) -> SecurityResult<()> {
    let len = u16::try_from(len)
        .map_err(|_| SecurityError::internal("an NTLM message field is longer than 65535 bytes"))?;
    let offset = u32::try_from(offset)
        .map_err(|_| SecurityError::internal("an NTLM message is too long"))?;
    if let Some(slot) = header.get_mut(at..at + 8) {
        slot[..2].copy_from_slice(&len.to_le_bytes());
        slot[2..4].copy_from_slice(&len.to_le_bytes());
        slot[4..].copy_from_slice(&offset.to_le_bytes());
    }
    Ok(())
}

/// A NEGOTIATE_MESSAGE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiate<'a> {
    /// NegotiateFlags.
    pub flags: u32,
    /// DomainName (OEM), when NEGOTIATE_OEM_DOMAIN_SUPPLIED.
    pub domain: &'a [u8],
    /// Workstation (OEM), when NEGOTIATE_OEM_WORKSTATION_SUPPLIED.
    pub workstation: &'a [u8],
    /// VERSION, when NEGOTIATE_VERSION.
    pub version: Option<[u8; 8]>,
}

impl<'a> Negotiate<'a> {
    /// Parses a NEGOTIATE_MESSAGE. Old clients send 16- or 32-byte messages
    /// (no descriptors, no version); those are accepted.
    pub fn parse(message: &'a [u8]) -> SecurityResult<Self> {
        check_header(message, NEGOTIATE, "NEGOTIATE")?;
        let flags = u32_at(message, 12)
            .ok_or_else(|| invalid("the NTLM NEGOTIATE message has no NegotiateFlags"))?;
        // The header alone (16 bytes, old clients), the field descriptors
        // (32), or those and the VERSION (40): anything in between is cut short.
        if (16 < message.len() && message.len() < 32)
            || (flags & flags::VERSION != 0 && 32 < message.len() && message.len() < 40)
        {
            return Err(invalid(
                "the NTLM NEGOTIATE message is truncated inside its field descriptors or VERSION",
            ));
        }
        let mut domain: &[u8] = &[];
        let mut workstation: &[u8] = &[];
        if message.len() >= 32 {
            if flags & flags::OEM_DOMAIN_SUPPLIED != 0 {
                domain = Field::read(message, 16, "DomainName")?.bytes(message, "DomainName")?;
            }
            if flags & flags::OEM_WORKSTATION_SUPPLIED != 0 {
                workstation =
                    Field::read(message, 24, "Workstation")?.bytes(message, "Workstation")?;
            }
        } else if flags & (flags::OEM_DOMAIN_SUPPLIED | flags::OEM_WORKSTATION_SUPPLIED) != 0 {
            return Err(invalid(
                "the NTLM NEGOTIATE message claims a domain or workstation but has no field descriptors",
            ));
        }
        let version = if flags & flags::VERSION != 0 {
            array_at::<8>(message, 32)
        } else {
            None
        };
        Ok(Self {
            flags,
            domain,
            workstation,
            version,
        })
    }

    /// Writes the message (domain and workstation must be empty or OEM bytes).
    pub fn write(&self) -> SecurityResult<Vec<u8>> {
        let mut out = vec![0u8; NEGOTIATE_HEADER_LEN];
        out[..8].copy_from_slice(SIGNATURE);
        out[8..12].copy_from_slice(&NEGOTIATE.to_le_bytes());
        out[12..16].copy_from_slice(&self.flags.to_le_bytes());
        let mut offset = NEGOTIATE_HEADER_LEN;
        put_field(&mut out, 16, self.domain.len(), offset)?;
        offset += self.domain.len();
        put_field(&mut out, 24, self.workstation.len(), offset)?;
        out[32..40].copy_from_slice(&self.version.unwrap_or([0; 8]));
        out.extend_from_slice(self.domain);
        out.extend_from_slice(self.workstation);
        Ok(out)
    }
}

/// A CHALLENGE_MESSAGE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// NegotiateFlags: the server's selection.
    pub flags: u32,
    /// ServerChallenge.
    pub server_challenge: [u8; 8],
    /// TargetName (UTF-16LE when UNICODE).
    pub target_name: &'a [u8],
    /// TargetInfo: the AV_PAIR list.
    pub target_info: &'a [u8],
    /// VERSION, when NEGOTIATE_VERSION.
    pub version: Option<[u8; 8]>,
}

impl<'a> Challenge<'a> {
    /// Parses a CHALLENGE_MESSAGE (the header is 48 bytes, plus 8 of VERSION).
    pub fn parse(message: &'a [u8]) -> SecurityResult<Self> {
        check_header(message, CHALLENGE, "CHALLENGE")?;
        if message.len() < 48 {
            return Err(invalid(format!(
                "the NTLM CHALLENGE message has {} bytes; its header alone has 48",
                message.len()
            )));
        }
        let target_name = Field::read(message, 12, "TargetName")?;
        let flags = u32_at(message, 20).unwrap_or(0);
        let server_challenge = array_at::<8>(message, 24).unwrap_or([0; 8]);
        let target_info = if flags & flags::TARGET_INFO != 0 {
            Field::read(message, 40, "TargetInfo")?.bytes(message, "TargetInfo")?
        } else {
            &[]
        };
        let version = if flags & flags::VERSION != 0 {
            array_at::<8>(message, 48)
        } else {
            None
        };
        Ok(Self {
            flags,
            server_challenge,
            target_name: target_name.bytes(message, "TargetName")?,
            target_info,
            version,
        })
    }

    /// Writes the message: header with VERSION (56 bytes), TargetName, TargetInfo.
    pub fn write(&self) -> SecurityResult<Vec<u8>> {
        let mut out = vec![0u8; CHALLENGE_HEADER_LEN];
        out[..8].copy_from_slice(SIGNATURE);
        out[8..12].copy_from_slice(&CHALLENGE.to_le_bytes());
        let name_offset = CHALLENGE_HEADER_LEN;
        put_field(&mut out, 12, self.target_name.len(), name_offset)?;
        out[20..24].copy_from_slice(&self.flags.to_le_bytes());
        out[24..32].copy_from_slice(&self.server_challenge);
        put_field(
            &mut out,
            40,
            self.target_info.len(),
            name_offset + self.target_name.len(),
        )?;
        out[48..56].copy_from_slice(&self.version.unwrap_or([0; 8]));
        out.extend_from_slice(self.target_name);
        out.extend_from_slice(self.target_info);
        Ok(out)
    }
}

/// An AUTHENTICATE_MESSAGE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticate<'a> {
    /// LmChallengeResponse.
    pub lm_response: &'a [u8],
    /// NtChallengeResponse.
    pub nt_response: &'a [u8],
    /// DomainName (UTF-16LE when UNICODE).
    pub domain: &'a [u8],
    /// UserName.
    pub user: &'a [u8],
    /// Workstation.
    pub workstation: &'a [u8],
    /// EncryptedRandomSessionKey.
    pub encrypted_session_key: &'a [u8],
    /// NegotiateFlags.
    pub flags: u32,
    /// VERSION, when NEGOTIATE_VERSION.
    pub version: Option<[u8; 8]>,
    /// The 16 bytes at offset 72, when the payload leaves room for a MIC there.
    /// Whether it *is* a MIC is said by MsvAvFlags in the NTLMv2 response.
    pub mic: Option<[u8; 16]>,
}

impl<'a> Authenticate<'a> {
    /// Parses an AUTHENTICATE_MESSAGE (the header is 64 bytes, plus VERSION and MIC).
    pub fn parse(message: &'a [u8]) -> SecurityResult<Self> {
        check_header(message, AUTHENTICATE, "AUTHENTICATE")?;
        if message.len() < 64 {
            return Err(invalid(format!(
                "the NTLM AUTHENTICATE message has {} bytes; its header alone has 64",
                message.len()
            )));
        }
        let names = [
            "LmChallengeResponse",
            "NtChallengeResponse",
            "DomainName",
            "UserName",
            "Workstation",
            "EncryptedRandomSessionKey",
        ];
        let mut fields = [Field { len: 0, offset: 0 }; 6];
        for (i, (slot, name)) in fields.iter_mut().zip(names).enumerate() {
            *slot = Field::read(message, 12 + 8 * i, name)?;
        }
        let mut bytes: [&[u8]; 6] = [&[]; 6];
        for ((slot, field), name) in bytes.iter_mut().zip(&fields).zip(names) {
            *slot = field.bytes(message, name)?;
        }
        let flags = u32_at(message, 60).unwrap_or(0);
        // The payload starts at the lowest offset of a non-empty field; a MIC
        // (and VERSION) sit between the 64-byte header and it.
        let payload_start = fields
            .iter()
            .filter(|f| f.len > 0)
            .map(|f| f.offset)
            .min()
            .unwrap_or(message.len());
        if payload_start < 64 {
            return Err(invalid(format!(
                "a field of the NTLM AUTHENTICATE message starts at offset {payload_start}, inside the 64-byte header"
            )));
        }
        let version = if flags & flags::VERSION != 0 && payload_start >= 72 {
            array_at::<8>(message, 64)
        } else {
            None
        };
        let mic = if payload_start >= AUTHENTICATE_HEADER_LEN {
            array_at::<16>(message, MIC_OFFSET)
        } else {
            None
        };
        let [
            lm_response,
            nt_response,
            domain,
            user,
            workstation,
            encrypted_session_key,
        ] = bytes;
        Ok(Self {
            lm_response,
            nt_response,
            domain,
            user,
            workstation,
            encrypted_session_key,
            flags,
            version,
            mic,
        })
    }

    /// Writes the message: the 64-byte header, VERSION, the MIC slot (when
    /// `self.mic` is `Some`, written as given — the caller fills it in after
    /// computing it over the whole message), then the payload in Windows'
    /// order: domain, user, workstation, LM response, NT response, session key.
    pub fn write(&self) -> SecurityResult<Vec<u8>> {
        let header_len = if self.mic.is_some() {
            AUTHENTICATE_HEADER_LEN
        } else {
            MIC_OFFSET
        };
        let mut out = vec![0u8; header_len];
        out[..8].copy_from_slice(SIGNATURE);
        out[8..12].copy_from_slice(&AUTHENTICATE.to_le_bytes());
        let payload: [(usize, &[u8]); 6] = [
            (28, self.domain),
            (36, self.user),
            (44, self.workstation),
            (12, self.lm_response),
            (20, self.nt_response),
            (52, self.encrypted_session_key),
        ];
        let mut offset = header_len;
        for (at, bytes) in payload {
            put_field(&mut out, at, bytes.len(), offset)?;
            offset += bytes.len();
        }
        out[60..64].copy_from_slice(&self.flags.to_le_bytes());
        out[64..72].copy_from_slice(&self.version.unwrap_or([0; 8]));
        if let Some(mic) = &self.mic {
            out[MIC_OFFSET..AUTHENTICATE_HEADER_LEN].copy_from_slice(mic);
        }
        for (_, bytes) in payload {
            out.extend_from_slice(bytes);
        }
        Ok(out)
    }
}

/// An AV_PAIR list (TargetInfo), borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AvPairs<'a> {
    /// The list, up to and including MsvAvEOL.
    bytes: &'a [u8],
}

impl<'a> AvPairs<'a> {
    /// Parses an AV_PAIR list: every pair inside the buffer, terminated by
    /// MsvAvEOL with length 0. Bytes after the terminator are ignored (the
    /// NTLMv2 response has four zero bytes there).
    pub fn parse(bytes: &'a [u8]) -> SecurityResult<Self> {
        let mut at = 0usize;
        loop {
            let (Some(id), Some(len)) = (u16_at(bytes, at), u16_at(bytes, at + 2)) else {
                return Err(invalid(
                    "the AV_PAIR list ends without an MsvAvEOL terminator",
                ));
            };
            let end = at + 4 + usize::from(len);
            if end > bytes.len() {
                return Err(invalid(format!(
                    "AV_PAIR {id} ({len} bytes at offset {at}) runs past the end of the list"
                )));
            }
            if id == av::EOL {
                if len != 0 {
                    return Err(invalid("the MsvAvEOL AV_PAIR has a non-zero length"));
                }
                return Ok(Self {
                    bytes: bytes.get(..end).unwrap_or_default(),
                });
            }
            at = end;
        }
    }

    /// The list bytes, including the terminator.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The pairs before the terminator, in order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, &'a [u8])> + 'a {
        let bytes = self.bytes;
        let mut at = 0usize;
        std::iter::from_fn(move || {
            let id = u16_at(bytes, at)?;
            let len = usize::from(u16_at(bytes, at + 2)?);
            if id == av::EOL {
                return None;
            }
            let value = bytes.get(at + 4..at + 4 + len)?;
            at += 4 + len;
            Some((id, value))
        })
    }

    /// The value of the first pair with `id`.
    pub fn get(&self, id: u16) -> Option<&'a [u8]> {
        self.iter().find(|(i, _)| *i == id).map(|(_, v)| v)
    }

    /// MsvAvTimestamp, if present and 8 bytes long.
    pub fn timestamp(&self) -> Option<u64> {
        self.get(av::TIMESTAMP).and_then(|v| u64_at(v, 0))
    }

    /// MsvAvFlags, 0 if absent.
    pub fn av_flags(&self) -> u32 {
        self.get(av::FLAGS).and_then(|v| u32_at(v, 0)).unwrap_or(0)
    }
}

/// Builds an AV_PAIR list.
#[derive(Debug, Default, Clone)]
pub struct AvPairsBuilder {
    bytes: Vec<u8>,
}

impl AvPairsBuilder {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a pair (values longer than 65535 bytes are refused).
    pub fn push(&mut self, id: u16, value: &[u8]) -> SecurityResult<&mut Self> {
        let len = u16::try_from(value.len())
            .map_err(|_| SecurityError::internal("an AV_PAIR value is longer than 65535 bytes"))?;
        self.bytes.extend_from_slice(&id.to_le_bytes());
        self.bytes.extend_from_slice(&len.to_le_bytes());
        self.bytes.extend_from_slice(value);
        Ok(self)
    }

    /// Appends MsvAvEOL and returns the list.
    pub fn finish(mut self) -> Vec<u8> {
        self.bytes.extend_from_slice(&[0; 4]);
        self.bytes
    }
}

/// The NTLMv2 response: NTProofStr and the client challenge structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ntlmv2Response<'a> {
    /// NTProofStr.
    pub nt_proof: [u8; 16],
    /// The client challenge structure ("temp"), as hashed into NTProofStr.
    pub temp: &'a [u8],
    /// TimeStamp.
    pub timestamp: u64,
    /// ChallengeFromClient.
    pub client_challenge: [u8; 8],
    /// The AV_PAIR list.
    pub av_pairs: AvPairs<'a>,
}

/// The length of an NTLMv1 (and NTLMv1 with ESS) NtChallengeResponse.
pub const NTLMV1_RESPONSE_LEN: usize = 24;

impl<'a> Ntlmv2Response<'a> {
    /// Parses an NTLMv2 NtChallengeResponse: 16 bytes of proof, then
    /// RespType 1, HiRespType 1, reserved, time, client challenge, reserved and
    /// the AV pairs.
    pub fn parse(response: &'a [u8]) -> SecurityResult<Self> {
        if response.len() < 16 + 28 + 4 {
            return Err(invalid(format!(
                "the NTLMv2 response has {} bytes; the smallest has 48",
                response.len()
            )));
        }
        let nt_proof = array_at::<16>(response, 0).unwrap_or([0; 16]);
        let temp = response.get(16..).unwrap_or_default();
        if temp.first() != Some(&1) || temp.get(1) != Some(&1) {
            return Err(invalid(
                "the NTLMv2 response has an unknown RespType/HiRespType (expected 1/1)",
            ));
        }
        let timestamp = u64_at(temp, 8).unwrap_or(0);
        let client_challenge = array_at::<8>(temp, 16).unwrap_or([0; 8]);
        let av_pairs = AvPairs::parse(temp.get(28..).unwrap_or_default())?;
        Ok(Self {
            nt_proof,
            temp,
            timestamp,
            client_challenge,
            av_pairs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn av_pairs_need_a_terminator() {
        assert!(AvPairs::parse(&[]).is_err());
        assert!(AvPairs::parse(&[1, 0, 2, 0, b'a']).is_err());
        let list = AvPairs::parse(&[1, 0, 2, 0, b'a', 0, 0, 0, 0, 0, 9, 9]).unwrap();
        assert_eq!(list.as_bytes().len(), 10);
        assert_eq!(list.get(1), Some(&b"a\0"[..]));
        assert_eq!(list.get(2), None);
        assert!(AvPairs::parse(&[0, 0, 1, 0, 0]).is_err());
    }

    #[test]
    fn fields_outside_the_message_are_refused() {
        let mut message = Negotiate {
            flags: flags::OEM_DOMAIN_SUPPLIED,
            domain: b"DOM",
            workstation: b"",
            version: None,
        }
        .write()
        .unwrap();
        assert_eq!(Negotiate::parse(&message).unwrap().domain, b"DOM");
        message[20] = 0xFF; // offset far out
        assert!(Negotiate::parse(&message).is_err());
    }
}
