//! RFC 4121 per-message tokens over SSPI buffers, in place, without allocation.
//!
//! ```text
//! MIC (MakeSignature, TOKEN = 28 bytes):
//!   04 04 | flags | FF FF FF FF FF | SND_SEQ u64 BE | HMAC-SHA1-96(Kc sign, DATA... | header)
//! Wrap, sealed (EncryptMessage, TOKEN = 60 bytes, DATA encrypted in place):
//!   05 04 | flags (Sealed) | FF | EC 0 | RRC 28 | SND_SEQ
//!   then the RFC 3961 ciphertext of confounder | DATA | header(RRC 0) followed
//!   by its HMAC, rotated right by RRC = 28, so that the encrypted header copy
//!   and the HMAC come first, then the encrypted confounder, and the encrypted
//!   DATA stays in the caller's DATA buffer (the Windows layout).
//! Wrap, signed only (fQOP = SECQOP_WRAP_NO_ENCRYPT, TOKEN = 28 bytes):
//!   05 04 | flags | FF | EC 12 | RRC 12 | SND_SEQ | checksum(Kc seal, DATA | header with EC = RRC = 0)
//! flags: 0x01 SentByAcceptor, 0x02 Sealed, 0x04 AcceptorSubkey.
//! ```
//!
//! Key usages: initiator sign 25 / seal 24, acceptor sign 23 / seal 22. One
//! sequence number per direction, shared by MIC and wrap tokens and kept by
//! [`SequenceNumbers`]; a token whose number is not the next expected one is
//! SEC_E_OUT_OF_SEQUENCE. Every failure is a [`MessageError`] with a fixed
//! reason; the DATA buffer of a refused DecryptMessage is zeroed.

use crate::crypto::cts::Segments;
use crate::crypto::profile::CONFOUNDER_LEN;
use crate::crypto::{CryptoError, Key, MAC_LEN, MAX_MAC_LEN, UsageKeys, constant_time_eq};
use sspi_core::{
    MessageError, Qop, SecBuffer, SecBufferType, SecBuffers, SecurityStatus, SequenceNumbers,
};

/// `cbMaxSignature` of the SHA-1 etypes (17, 18): a MIC token; a context's
/// own is [`PerMessageTokens::mic_len`] (32 for etype 19, 40 for 20).
pub const MIC_LEN: usize = 16 + MAC_LEN;
/// The rotation count of a sealed wrap token of the SHA-1 etypes: encrypted
/// header copy + HMAC ([`PerMessageTokens::sealed_rrc`] for any etype).
pub const SEALED_RRC: usize = 16 + MAC_LEN;
/// `cbSecurityTrailer` of the SHA-1 etypes: header, encrypted header copy,
/// HMAC, confounder ([`PerMessageTokens::wrap_trailer_len`]: 64 for etype
/// 19, 72 for 20).
pub const WRAP_TRAILER_LEN: usize = 16 + SEALED_RRC + CONFOUNDER_LEN;

const MIC_ID: [u8; 2] = [0x04, 0x04];
const WRAP_ID: [u8; 2] = [0x05, 0x04];
const SENT_BY_ACCEPTOR: u8 = 0x01;
const SEALED: u8 = 0x02;
const ACCEPTOR_SUBKEY: u8 = 0x04;
/// The most filler a peer's sealed token may carry.
const MAX_EC: usize = 64;

/// Key usages of RFC 4121 2.
const ACCEPTOR_SEAL: i32 = 22;
const ACCEPTOR_SIGN: i32 = 23;
const INITIATOR_SEAL: i32 = 24;
const INITIATOR_SIGN: i32 = 25;

const QOP_NOT_SUPPORTED: MessageError = MessageError::new(
    SecurityStatus::SEC_E_QOP_NOT_SUPPORTED,
    "Kerberos supports fQOP 0, and SECQOP_WRAP_NO_ENCRYPT for EncryptMessage only",
);
const NO_CONFIDENTIALITY: MessageError = MessageError::new(
    SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
    "confidentiality was not negotiated (ISC_REQ_CONFIDENTIALITY): only SECQOP_WRAP_NO_ENCRYPT wrap tokens",
);
const NO_RANDOM: MessageError = MessageError::new(
    SecurityStatus::SEC_E_INTERNAL_ERROR,
    "the system random number generator failed (confounder)",
);
const MIC_TOO_SMALL: MessageError =
    MessageError::buffer_too_small("the TOKEN buffer is smaller than cbMaxSignature (28 bytes)");
const TRAILER_TOO_SMALL: MessageError = MessageError::buffer_too_small(
    "the TOKEN buffer is smaller than cbSecurityTrailer (60 bytes; 28 with SECQOP_WRAP_NO_ENCRYPT)",
);
const NOT_A_MIC: MessageError = MessageError::invalid_token(
    "the token is not an RFC 4121 MIC token (28 bytes, TOK_ID 04 04, filler FF)",
);
// The same for the RFC 8009 etypes, whose sizes differ.
const MIC_TOO_SMALL_SHA2: MessageError = MessageError::buffer_too_small(
    "the TOKEN buffer is smaller than cbMaxSignature (32 bytes for aes128-cts-hmac-sha256-128, 40 for aes256-cts-hmac-sha384-192)",
);
const TRAILER_TOO_SMALL_SHA2: MessageError = MessageError::buffer_too_small(
    "the TOKEN buffer is smaller than cbSecurityTrailer (64 bytes for aes128-cts-hmac-sha256-128, 72 for aes256-cts-hmac-sha384-192; cbMaxSignature with SECQOP_WRAP_NO_ENCRYPT)",
);
const NOT_A_MIC_SHA2: MessageError = MessageError::invalid_token(
    "the token is not an RFC 4121 MIC token (cbMaxSignature bytes, TOK_ID 04 04, filler FF)",
);
const NOT_A_WRAP: MessageError = MessageError::invalid_token(
    "the token is not an RFC 4121 wrap token (TOK_ID 05 04, filler FF)",
);
const BAD_SEALED_LAYOUT: MessageError = MessageError::invalid_token(
    "the sealed wrap token's EC, RRC or length does not match the layout (RRC = EC + 28, trailer 16 + RRC + 16)",
);
const BAD_SIGNED_LAYOUT: MessageError = MessageError::invalid_token(
    "the signed-only wrap token's EC, RRC or length is not 12, 12 and 28",
);
const BAD_SEALED_LAYOUT_SHA2: MessageError = MessageError::invalid_token(
    "the sealed wrap token's EC, RRC or length does not match the layout (RRC = EC + 32 for aes128-cts-hmac-sha256-128, EC + 40 for aes256-cts-hmac-sha384-192; trailer 16 + RRC + 16)",
);
const BAD_SIGNED_LAYOUT_SHA2: MessageError = MessageError::invalid_token(
    "the signed-only wrap token's EC, RRC or length is not 16, 16 and 32 (aes128-cts-hmac-sha256-128) or 24, 24 and 40 (aes256-cts-hmac-sha384-192)",
);
const WRONG_DIRECTION: MessageError =
    MessageError::altered("the token's flags say it was sent by this side, or name another subkey");
const BAD_CHECKSUM: MessageError =
    MessageError::altered("the token's checksum does not match the message");
const BAD_SEAL: MessageError =
    MessageError::altered("the sealed message does not decrypt: its data or trailer was altered");
const BAD_HEADER_COPY: MessageError =
    MessageError::altered("the sealed header copy does not match the token's header");

/// The RFC 4121 per-message token state of an established context: the
/// derived keys of both directions and the sequence numbers.
pub struct PerMessageTokens {
    acceptor: bool,
    acceptor_subkey: bool,
    send_seal: UsageKeys,
    send_sign: UsageKeys,
    receive_seal: UsageKeys,
    receive_sign: UsageKeys,
    sequence: SequenceNumbers,
    confidentiality: bool,
}

/// How a context's per-message tokens are set up.
pub struct PerMessageSetup<'a> {
    /// The key of the message tokens (acceptor subkey, else initiator subkey, else session key).
    pub key: &'a Key,
    /// True on the acceptor's side.
    pub acceptor: bool,
    /// True when `key` is the acceptor's subkey (the AcceptorSubkey flag).
    pub acceptor_subkey: bool,
    /// The first sequence number this side sends.
    pub send_sequence: u32,
    /// The first sequence number expected from the peer.
    pub receive_sequence: u32,
    /// Whether sealing was negotiated.
    pub confidentiality: bool,
}

impl PerMessageTokens {
    /// Derives the four usage keys.
    pub fn new(p: &PerMessageSetup<'_>) -> Result<PerMessageTokens, CryptoError> {
        let (send_seal, send_sign, receive_seal, receive_sign) = if p.acceptor {
            (ACCEPTOR_SEAL, ACCEPTOR_SIGN, INITIATOR_SEAL, INITIATOR_SIGN)
        } else {
            (INITIATOR_SEAL, INITIATOR_SIGN, ACCEPTOR_SEAL, ACCEPTOR_SIGN)
        };
        Ok(PerMessageTokens {
            acceptor: p.acceptor,
            acceptor_subkey: p.acceptor_subkey,
            send_seal: p.key.usage(send_seal)?,
            send_sign: p.key.usage(send_sign)?,
            receive_seal: p.key.usage(receive_seal)?,
            receive_sign: p.key.usage(receive_sign)?,
            // SND_SEQ is 64 bits on the wire (RFC 4121 4.2.6).
            sequence: SequenceNumbers::new(
                u64::from(p.send_sequence),
                u64::from(p.receive_sequence),
                u64::MAX,
            ),
            confidentiality: p.confidentiality,
        })
    }

    /// The MAC and checksum length of the context's etype (12, 16 or 24).
    pub fn mac_len(&self) -> usize {
        self.send_seal.mac_len()
    }

    /// `cbMaxSignature`: a MIC token, 16 + the MAC length.
    pub fn mic_len(&self) -> usize {
        16 + self.mac_len()
    }

    /// The rotation count of a sealed wrap token: encrypted header copy + HMAC.
    pub fn sealed_rrc(&self) -> usize {
        16 + self.mac_len()
    }

    /// `cbSecurityTrailer`: header, encrypted header copy, HMAC, confounder.
    pub fn wrap_trailer_len(&self) -> usize {
        16 + self.sealed_rrc() + CONFOUNDER_LEN
    }

    /// `sha1` for the aes-sha1 etypes, `sha2` for RFC 8009's (messages naming sizes).
    fn sized(&self, sha1: MessageError, sha2: MessageError) -> MessageError {
        if self.send_seal.etype().is_sha2() {
            sha2
        } else {
            sha1
        }
    }

    fn send_flags(&self) -> u8 {
        let mut flags = 0;
        if self.acceptor {
            flags |= SENT_BY_ACCEPTOR;
        }
        if self.acceptor_subkey {
            flags |= ACCEPTOR_SUBKEY;
        }
        flags
    }

    /// The flags a peer's token must carry (Sealed aside).
    fn receive_flags(&self) -> u8 {
        let mut flags = 0;
        if !self.acceptor {
            flags |= SENT_BY_ACCEPTOR;
        }
        if self.acceptor_subkey {
            flags |= ACCEPTOR_SUBKEY;
        }
        flags
    }

    /// MakeSignature: a MIC token over every DATA buffer.
    pub fn make_signature(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
    ) -> Result<Qop, MessageError> {
        if qop != Qop::DEFAULT {
            return Err(QOP_NOT_SUPPORTED);
        }
        let mic_len = self.mic_len();
        if message.token_mut()?.len() < mic_len {
            return Err(self.sized(MIC_TOO_SMALL, MIC_TOO_SMALL_SHA2));
        }
        let sequence = self.sequence.next_send()?;
        let mut header = [0u8; 16];
        header[..2].copy_from_slice(&MIC_ID);
        header[2] = self.send_flags();
        header[3..8].fill(0xff);
        header[8..].copy_from_slice(&sequence.to_be_bytes());
        let checksum = self.send_sign.checksum(data_then(message, &header));
        let token = message.token_mut()?;
        let out = token.as_mut_slice();
        out[..16].copy_from_slice(&header);
        out[16..mic_len].copy_from_slice(&checksum);
        token.truncate(mic_len);
        Ok(Qop::DEFAULT)
    }

    /// VerifySignature: checks a MIC token; returns the QOP (always [`Qop::DEFAULT`]).
    pub fn verify_signature(&mut self, message: &mut [SecBuffer<'_>]) -> Result<Qop, MessageError> {
        let mic_len = self.mic_len();
        let token = message.token_mut()?.as_slice();
        if token.len() != mic_len || token[..2] != MIC_ID || token[3..8] != [0xff; 5] {
            return Err(self.sized(NOT_A_MIC, NOT_A_MIC_SHA2));
        }
        let mut header = [0u8; 16];
        header.copy_from_slice(&token[..16]);
        let mut received_bytes = [0u8; MAX_MAC_LEN];
        let received = &mut received_bytes[..mic_len - 16];
        received.copy_from_slice(&token[16..mic_len]);
        if header[2] != self.receive_flags() {
            return Err(WRONG_DIRECTION);
        }
        let expected = self.receive_sign.checksum(data_then(message, &header));
        if !constant_time_eq(&expected, received) {
            return Err(BAD_CHECKSUM);
        }
        self.sequence.accept_receive(sequence_of(&header))?;
        Ok(Qop::DEFAULT)
    }

    /// EncryptMessage: seals the DATA buffer in place (or, with
    /// [`Qop::WRAP_NO_ENCRYPT`], signs it) and writes the trailer into TOKEN;
    /// returns the QOP applied.
    pub fn encrypt_message(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
    ) -> Result<Qop, MessageError> {
        let seal = match qop {
            Qop::DEFAULT => true,
            Qop::WRAP_NO_ENCRYPT => false,
            _ => return Err(QOP_NOT_SUPPORTED),
        };
        if seal && !self.confidentiality {
            return Err(NO_CONFIDENTIALITY);
        }
        let (mac_len, mic_len, sealed_rrc, trailer_len) = (
            self.mac_len(),
            self.mic_len(),
            self.sealed_rrc(),
            self.wrap_trailer_len(),
        );
        let (token, data) = message.token_and_data_mut()?;
        let needed = if seal { trailer_len } else { mic_len };
        if token.len() < needed {
            return Err(self.sized(TRAILER_TOO_SMALL, TRAILER_TOO_SMALL_SHA2));
        }
        let mut confounder = [0u8; CONFOUNDER_LEN];
        if seal {
            crate::crypto::random(&mut confounder).map_err(|_| NO_RANDOM)?;
        }
        let sequence = self.sequence.next_send()?;
        let mut header = [0u8; 16];
        header[..2].copy_from_slice(&WRAP_ID);
        header[2] = self.send_flags() | if seal { SEALED } else { 0 };
        header[3] = 0xff;
        // EC and RRC stay 0 in the copy that is encrypted or checksummed.
        header[8..].copy_from_slice(&sequence.to_be_bytes());
        let out = token.as_mut_slice();
        if seal {
            let (head, rest) = out.split_at_mut(16);
            let (copy, rest) = rest.split_at_mut(16);
            let (mac, rest) = rest.split_at_mut(mac_len);
            let conf = &mut rest[..CONFOUNDER_LEN];
            conf.copy_from_slice(&confounder);
            copy.copy_from_slice(&header);
            let tag = self.send_seal.encrypt_in_place(&mut Segments::new(
                conf,
                data.as_mut_slice(),
                copy,
            ));
            mac.copy_from_slice(&tag);
            header[6..8].copy_from_slice(&(sealed_rrc as u16).to_be_bytes());
            head.copy_from_slice(&header);
            token.truncate(trailer_len);
        } else {
            let checksum = self.send_seal.checksum([data.as_slice(), &header[..]]);
            header[4..6].copy_from_slice(&(mac_len as u16).to_be_bytes());
            header[6..8].copy_from_slice(&(mac_len as u16).to_be_bytes());
            out[..16].copy_from_slice(&header);
            out[16..mic_len].copy_from_slice(&checksum);
            token.truncate(mic_len);
        }
        Ok(qop)
    }

    /// DecryptMessage: checks the trailer and opens DATA in place; returns the
    /// QOP ([`Qop::DEFAULT`] sealed, [`Qop::WRAP_NO_ENCRYPT`] signed only). On
    /// any failure the DATA buffer is zeroed and the expected sequence number
    /// is unchanged.
    pub fn decrypt_message(&mut self, message: &mut [SecBuffer<'_>]) -> Result<Qop, MessageError> {
        let (token, data) = message.token_and_data_mut()?;
        let result = self.open(token.as_mut_slice(), data.as_mut_slice());
        if result.is_err() {
            data.as_mut_slice().fill(0);
        }
        result
    }

    fn open(&mut self, token: &mut [u8], data: &mut [u8]) -> Result<Qop, MessageError> {
        if token.len() < 16 || token[..2] != WRAP_ID || token[3] != 0xff {
            return Err(NOT_A_WRAP);
        }
        let mut header = [0u8; 16];
        header.copy_from_slice(&token[..16]);
        let flags = header[2];
        let ec = usize::from(u16::from_be_bytes([header[4], header[5]]));
        let rrc = usize::from(u16::from_be_bytes([header[6], header[7]]));
        if flags & !SEALED != self.receive_flags() {
            return Err(WRONG_DIRECTION);
        }
        let sequence = sequence_of(&header);
        let (mac_len, mic_len, sealed_rrc) = (self.mac_len(), self.mic_len(), self.sealed_rrc());
        if flags & SEALED != 0 {
            if !self.confidentiality {
                return Err(NO_CONFIDENTIALITY);
            }
            // The layout this package and Windows produce: the rotated tail
            // (filler, header copy, HMAC) then the confounder in TOKEN.
            if ec > MAX_EC || rrc != ec + sealed_rrc || token.len() != 16 + rrc + CONFOUNDER_LEN {
                return Err(self.sized(BAD_SEALED_LAYOUT, BAD_SEALED_LAYOUT_SHA2));
            }
            let (_, rest) = token.split_at_mut(16);
            let (tail, rest) = rest.split_at_mut(ec + 16);
            let (mac, conf) = rest.split_at_mut(mac_len);
            self.receive_seal
                .decrypt_in_place(&mut Segments::new(conf, data, tail), mac)
                .map_err(|_| BAD_SEAL)?;
            let copy = &tail[ec..];
            // The decrypted header copy must equal the header, RRC aside.
            let same = constant_time_eq(&copy[..6], &header[..6])
                && constant_time_eq(&copy[8..16], &header[8..16]);
            if !same {
                return Err(BAD_HEADER_COPY);
            }
            self.sequence.accept_receive(sequence)?;
            Ok(Qop::DEFAULT)
        } else {
            if ec != mac_len || rrc != mac_len || token.len() != mic_len {
                return Err(self.sized(BAD_SIGNED_LAYOUT, BAD_SIGNED_LAYOUT_SHA2));
            }
            let mut zeroed = header;
            zeroed[4..8].fill(0);
            let expected = self.receive_seal.checksum([&*data, &zeroed[..]]);
            if !constant_time_eq(&expected, &token[16..mic_len]) {
                return Err(BAD_CHECKSUM);
            }
            self.sequence.accept_receive(sequence)?;
            Ok(Qop::WRAP_NO_ENCRYPT)
        }
    }
}

fn sequence_of(header: &[u8; 16]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&header[8..]);
    u64::from_be_bytes(b)
}

/// Every DATA buffer, then the header: what a MIC covers.
fn data_then<'m>(
    message: &'m [SecBuffer<'_>],
    header: &'m [u8; 16],
) -> impl Iterator<Item = &'m [u8]> + 'm {
    message
        .iter()
        .filter(|b| b.kind() == SecBufferType::DATA)
        .map(|b| b.as_slice())
        .chain(std::iter::once(&header[..]))
}
