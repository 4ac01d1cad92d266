//! RFC 4121 per-message tokens over SSPI buffers, in place, without allocation.
//!
//! ```text
//! MIC (MakeSignature, TOKEN = 16 + checksum bytes, 28 for the SHA-1 etypes):
//!   04 04 | flags | FF FF FF FF FF | SND_SEQ u64 BE | checksum(Kc sign, DATA... | header)
//! Wrap, sealed: 05 04 | flags (Sealed) | FF | EC | RRC | SND_SEQ, then the
//!   RFC 3961 ciphertext of confounder | DATA | Z(EC) | header(RRC 0) followed
//!   by its HMAC, rotated right by RRC.
//! Wrap, signed only (fQOP = SECQOP_WRAP_NO_ENCRYPT):
//!   05 04 | flags | FF | EC = checksum length | RRC | SND_SEQ, then
//!   DATA | checksum(Kc seal, DATA | header with EC = RRC = 0), rotated right by RRC.
//! flags: 0x01 SentByAcceptor, 0x02 Sealed, 0x04 AcceptorSubkey.
//! ```
//!
//! The buffer forms (the checksum length and so the sizes follow the etype):
//!
//! * EncryptMessage `[TOKEN, DATA]` writes the Windows layout: RRC is EC +
//!   16 + the checksum length, so the header, the rotated tail (filler,
//!   encrypted header copy, HMAC) and the encrypted confounder fill TOKEN
//!   (`cbSecurityTrailer`, 60 bytes for AES-SHA1) and DATA is encrypted in place.
//! * EncryptMessage `[SECBUFFER_STREAM_HEADER, DATA, SECBUFFER_STREAM_TRAILER]`
//!   (the stream buffers SSPI documents for EncryptMessage) writes the
//!   contiguous RRC 0 token that MIT's `gss_wrap` sends: STREAM_HEADER gets
//!   the header and the encrypted confounder (32 bytes; 16 signed only),
//!   STREAM_TRAILER the encrypted header copy and HMAC (16 + checksum bytes;
//!   the checksum signed only). Memory laid out header | data | trailer is
//!   the token as it goes on the wire.
//! * DecryptMessage `[TOKEN, DATA]`: DATA holds the encrypted message, TOKEN
//!   the rest of the token in wire order (16 + confounder + EC + 16 +
//!   checksum bytes), with any RRC that does not rotate message bytes into
//!   TOKEN (RFC 4121 4.2.5): Windows' RRC = EC + 28, and 0.
//! * DecryptMessage `[SECBUFFER_STREAM, DATA]` (as Windows documents for GSS
//!   peers): STREAM holds the whole token as received, any RRC; the DATA
//!   buffer (its window is replaced) is pointed at the plaintext inside the
//!   stream, and STREAM keeps the bytes before it. A stream too short to hold
//!   the header, confounder and trailer is SEC_E_INCOMPLETE_MESSAGE (read
//!   more); the token has no length of its own, so a stream with bytes
//!   missing or extra past that is SEC_E_MESSAGE_ALTERED.
//! * VerifySignature takes the MIC in a TOKEN or a STREAM buffer.
//!
//! Key usages: initiator sign 25 / seal 24, acceptor sign 23 / seal 22. One
//! sequence number per direction, shared by MIC and wrap tokens and kept by
//! [`SequenceNumbers`]; a token whose number is not the next expected one is
//! SEC_E_OUT_OF_SEQUENCE. Every failure is a [`MessageError`] with a fixed
//! reason; the plaintext of a refused DecryptMessage is zeroed.

use crate::crypto::cts::Segments;
use crate::crypto::profile::CONFOUNDER_LEN;
use crate::crypto::{ChecksumKey, CryptoError, Deriver, Etype, Key, UsageKeys, constant_time_eq};
use sspi_core::context_export::{PayloadReader, PayloadWriter};
use sspi_core::{
    MessageError, Qop, SecBuffer, SecBufferType, SecBuffers, SecurityStatus, SequenceNumbers,
};

const MIC_ID: [u8; 2] = [0x04, 0x04];
const WRAP_ID: [u8; 2] = [0x05, 0x04];
const SENT_BY_ACCEPTOR: u8 = 0x01;
const SEALED: u8 = 0x02;
const ACCEPTOR_SUBKEY: u8 = 0x04;
/// The most filler a peer's sealed token may carry.
const MAX_EC: usize = 64;
/// The longest checksum of any etype RFC 4121 tokens use (hmac-sha384-192).
const MAX_CHECKSUM_LEN: usize = 24;
/// The longest token tail: filler, header copy, checksum.
const MAX_TAIL: usize = MAX_EC + 16 + MAX_CHECKSUM_LEN;

/// Key usages of RFC 4121 2.
const ACCEPTOR_SEAL: i32 = 22;
const ACCEPTOR_SIGN: i32 = 23;
const INITIATOR_SEAL: i32 = 24;
const INITIATOR_SIGN: i32 = 25;

/// The length of the keyed checksums and encryption MACs of `etype`.
pub fn checksum_len(etype: Etype) -> usize {
    etype.mac_len()
}

/// `cbMaxSignature` of `etype`: a MIC token.
pub fn mic_len(etype: Etype) -> usize {
    16 + checksum_len(etype)
}

/// `cbSecurityTrailer` of `etype`: header, encrypted header copy, checksum,
/// confounder (60 bytes for the AES-SHA1 etypes).
pub fn wrap_trailer_len(etype: Etype) -> usize {
    16 + 16 + checksum_len(etype) + CONFOUNDER_LEN
}

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
    MessageError::buffer_too_small("the TOKEN buffer is smaller than cbMaxSignature");
const TRAILER_TOO_SMALL: MessageError = MessageError::buffer_too_small(
    "the TOKEN buffer is smaller than cbSecurityTrailer (or, with SECQOP_WRAP_NO_ENCRYPT, cbMaxSignature)",
);
const STREAM_BUFFERS_TOO_SMALL: MessageError = MessageError::buffer_too_small(
    "STREAM_HEADER must hold 32 bytes (16 with SECQOP_WRAP_NO_ENCRYPT) and STREAM_TRAILER 16 + the checksum (the checksum alone)",
);
const NO_STREAM_TRAILER: MessageError = MessageError::invalid_parameter(
    "EncryptMessage with a SECBUFFER_STREAM_HEADER buffer needs one DATA and one SECBUFFER_STREAM_TRAILER buffer",
);
const NOT_A_MIC: MessageError = MessageError::invalid_token(
    "the token is not an RFC 4121 MIC token (16 + checksum bytes, TOK_ID 04 04, filler FF)",
);
const NO_MIC_BUFFER: MessageError =
    MessageError::invalid_token("the message has no SECBUFFER_TOKEN or SECBUFFER_STREAM buffer");
const NOT_A_WRAP: MessageError = MessageError::invalid_token(
    "the token is not an RFC 4121 wrap token (TOK_ID 05 04, filler FF)",
);
const BAD_EC: MessageError = MessageError::invalid_token(
    "the wrap token's EC is too large (sealed) or not the checksum length (signed only)",
);
const BAD_TOKEN_LENGTH: MessageError = MessageError::invalid_token(
    "the TOKEN buffer is not 16 + confounder + EC + 16 + checksum bytes (sealed) or 16 + checksum (signed only): pass a whole token as SECBUFFER_STREAM",
);
const RRC_INTO_TOKEN: MessageError = MessageError::invalid_token(
    "the token's RRC rotates message bytes into the TOKEN buffer: pass the whole token as SECBUFFER_STREAM",
);
const STREAM_INCOMPLETE: MessageError = MessageError::new(
    SecurityStatus::SEC_E_INCOMPLETE_MESSAGE,
    "the SECBUFFER_STREAM buffer is shorter than a wrap token's header, confounder and trailer",
);
const WRONG_DIRECTION: MessageError =
    MessageError::altered("the token's flags say it was sent by this side, or name another subkey");
const BAD_CHECKSUM: MessageError =
    MessageError::altered("the token's checksum does not match the message");
const BAD_SEAL: MessageError =
    MessageError::altered("the sealed message does not decrypt: its data or trailer was altered");
const BAD_HEADER_COPY: MessageError =
    MessageError::altered("the sealed header copy does not match the token's header");

/// A received wrap token's header.
struct WrapHeader {
    bytes: [u8; 16],
    sealed: bool,
    ec: usize,
    rrc: usize,
}

/// The RFC 4121 per-message token state of an established context: the
/// derived keys of both directions and the sequence numbers.
pub struct PerMessageTokens {
    acceptor: bool,
    acceptor_subkey: bool,
    /// The etype's checksum length (the HMAC of sealed tokens too).
    checksum_len: usize,
    send_seal: UsageKeys,
    send_sign: ChecksumKey,
    receive_seal: UsageKeys,
    receive_sign: ChecksumKey,
    sequence: SequenceNumbers,
    confidentiality: bool,
    /// The first numbers of each direction, for SECPKG_CONTEXT_EXPORT_RESET_NEW.
    first_send: u32,
    first_receive: u32,
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
        let checksum_len = checksum_len(p.key.etype());
        if checksum_len > MAX_CHECKSUM_LEN {
            return Err(CryptoError::BadKey);
        }
        // The sign usages need only Kc (MIC tokens); the seal usages all
        // three (sealed wraps, and Kc for wraps only signed).
        let keys = Deriver::new(p.key)?;
        let etype = p.key.etype();
        Ok(PerMessageTokens {
            acceptor: p.acceptor,
            acceptor_subkey: p.acceptor_subkey,
            checksum_len,
            send_seal: keys.usage_keys(etype, send_seal)?,
            send_sign: keys.checksum(etype, send_sign)?,
            receive_seal: keys.usage_keys(etype, receive_seal)?,
            receive_sign: keys.checksum(etype, receive_sign)?,
            // SND_SEQ is 64 bits on the wire (RFC 4121 4.2.6).
            sequence: SequenceNumbers::new(
                u64::from(p.send_sequence),
                u64::from(p.receive_sequence),
                u64::MAX,
            ),
            confidentiality: p.confidentiality,
            first_send: p.send_sequence,
            first_receive: p.receive_sequence,
        })
    }

    /// ExportSecurityContext's part (`key` is the key they were derived
    /// from): the flags, the key, the first sequence numbers and the current
    /// ones (with `reset_new`, the first ones again: every wrap token has a
    /// fresh random confounder, so a reset reuses no keystream).
    pub fn export(&self, key: &Key, reset_new: bool, out: &mut PayloadWriter) {
        let sequence = if reset_new {
            SequenceNumbers::new(self.first_send.into(), self.first_receive.into(), u64::MAX)
        } else {
            self.sequence.clone()
        };
        out.bool(self.acceptor)
            .bool(self.acceptor_subkey)
            .bool(self.confidentiality)
            .u32(key.etype().number() as u32)
            .bytes(key.bytes())
            .u32(self.first_send)
            .u32(self.first_receive)
            .sequence(&sequence);
    }

    /// The tokens [`PerMessageTokens::export`] wrote, and their key; an
    /// acceptor's tokens unless `acceptor` is false (the blob's side).
    pub fn import(
        input: &mut PayloadReader<'_>,
        acceptor: bool,
    ) -> sspi_core::SecurityResult<(PerMessageTokens, Key)> {
        if input.bool("side")? != acceptor {
            return Err(input.invalid(
                "side",
                "the payload is of the other side than the blob says",
            ));
        }
        let acceptor_subkey = input.bool("acceptor subkey")?;
        let confidentiality = input.bool("confidentiality")?;
        let number = input.u32("etype")?;
        let etype = Etype::from_number(i64::from(number)).ok_or_else(|| {
            input.invalid(
                "etype",
                format_args!("{number} is not an etype this package implements"),
            )
        })?;
        let bytes = input.len_bytes(64, "key")?.to_vec();
        let key = Key::new(etype, bytes).map_err(|why| input.invalid("key", why))?;
        let first_send = input.u32("first send sequence")?;
        let first_receive = input.u32("first receive sequence")?;
        let sequence = input.sequence("sequence numbers")?;
        if sequence.state().2 != u64::MAX {
            return Err(input.invalid("sequence numbers", "the last number must be 2^64-1"));
        }
        let mut tokens = PerMessageTokens::new(&PerMessageSetup {
            key: &key,
            acceptor,
            acceptor_subkey,
            send_sequence: first_send,
            receive_sequence: first_receive,
            confidentiality,
        })
        .map_err(|e| input.invalid("key", e))?;
        tokens.sequence = sequence;
        Ok((tokens, key))
    }

    /// `cbMaxSignature`: the MIC token's length for this context's etype.
    pub fn mic_len(&self) -> usize {
        16 + self.checksum_len
    }

    /// `cbSecurityTrailer`: the TOKEN buffer a sealed `[TOKEN, DATA]` wrap needs.
    pub fn wrap_trailer_len(&self) -> usize {
        16 + 16 + self.checksum_len + CONFOUNDER_LEN
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
            return Err(MIC_TOO_SMALL);
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

    /// VerifySignature: checks a MIC token (in the TOKEN buffer, or a STREAM
    /// one); returns the QOP (always [`Qop::DEFAULT`]).
    pub fn verify_signature(&mut self, message: &mut [SecBuffer<'_>]) -> Result<Qop, MessageError> {
        let token = message
            .find(SecBufferType::TOKEN)
            .or_else(|| message.find(SecBufferType::STREAM))
            .ok_or(NO_MIC_BUFFER)?
            .as_slice();
        let mic_len = self.mic_len();
        if token.len() != mic_len || token[..2] != MIC_ID || token[3..8] != [0xff; 5] {
            return Err(NOT_A_MIC);
        }
        let mut header = [0u8; 16];
        header.copy_from_slice(&token[..16]);
        let mut received = [0u8; MAX_CHECKSUM_LEN];
        let received = &mut received[..self.checksum_len];
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
    /// [`Qop::WRAP_NO_ENCRYPT`], signs it) and writes the rest of the token
    /// into TOKEN, or into STREAM_HEADER and STREAM_TRAILER (see the module
    /// docs); returns the QOP applied.
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
        if message.find(SecBufferType::STREAM_HEADER).is_some() {
            return self.encrypt_stream(seal, message).map(|()| qop);
        }
        let (token, data) = message.token_and_data_mut()?;
        let mac_len = self.checksum_len;
        let needed = if seal {
            self.wrap_trailer_len()
        } else {
            self.mic_len()
        };
        if token.len() < needed {
            return Err(TRAILER_TOO_SMALL);
        }
        let mut confounder = [0u8; CONFOUNDER_LEN];
        if seal {
            crate::crypto::random(&mut confounder).map_err(|_| NO_RANDOM)?;
        }
        let mut header = self.wrap_header(seal)?;
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
            // RRC = EC (0) + header copy + HMAC: the tail leads the token.
            header[6..8].copy_from_slice(&((16 + mac_len) as u16).to_be_bytes());
            head.copy_from_slice(&header);
        } else {
            let checksum = self.send_seal.checksum([data.as_slice(), &header[..]]);
            header[4..6].copy_from_slice(&(mac_len as u16).to_be_bytes());
            header[6..8].copy_from_slice(&(mac_len as u16).to_be_bytes());
            out[..16].copy_from_slice(&header);
            out[16..16 + mac_len].copy_from_slice(&checksum);
        }
        token.truncate(needed);
        Ok(qop)
    }

    /// A fresh wrap token header (EC = RRC = 0) with the next sequence number.
    fn wrap_header(&mut self, seal: bool) -> Result<[u8; 16], MessageError> {
        let sequence = self.sequence.next_send()?;
        let mut header = [0u8; 16];
        header[..2].copy_from_slice(&WRAP_ID);
        header[2] = self.send_flags() | if seal { SEALED } else { 0 };
        header[3] = 0xff;
        header[8..].copy_from_slice(&sequence.to_be_bytes());
        Ok(header)
    }

    /// EncryptMessage into `[STREAM_HEADER, DATA, STREAM_TRAILER]`: the RRC 0 token.
    fn encrypt_stream(
        &mut self,
        seal: bool,
        message: &mut [SecBuffer<'_>],
    ) -> Result<(), MessageError> {
        let mac_len = self.checksum_len;
        let (head_len, trail_len) = if seal {
            (16 + CONFOUNDER_LEN, 16 + mac_len)
        } else {
            (16, mac_len)
        };
        let mut head = None;
        let mut data = None;
        let mut trail = None;
        for buffer in message.iter_mut() {
            match buffer.kind() {
                SecBufferType::STREAM_HEADER if head.is_none() => head = Some(buffer),
                SecBufferType::STREAM_TRAILER if trail.is_none() => trail = Some(buffer),
                SecBufferType::DATA if buffer.buffer_type().is_readonly() || data.is_some() => {
                    return Err(NO_STREAM_TRAILER);
                }
                SecBufferType::DATA => data = Some(buffer),
                _ => {}
            }
        }
        let (Some(head), Some(data), Some(trail)) = (head, data, trail) else {
            return Err(NO_STREAM_TRAILER);
        };
        if head.len() < head_len || trail.len() < trail_len {
            return Err(STREAM_BUFFERS_TOO_SMALL);
        }
        let mut confounder = [0u8; CONFOUNDER_LEN];
        if seal {
            crate::crypto::random(&mut confounder).map_err(|_| NO_RANDOM)?;
        }
        let mut header = self.wrap_header(seal)?;
        if seal {
            let (h, conf) = head.as_mut_slice()[..head_len].split_at_mut(16);
            let (copy, mac) = trail.as_mut_slice()[..trail_len].split_at_mut(16);
            conf.copy_from_slice(&confounder);
            copy.copy_from_slice(&header);
            let tag = self.send_seal.encrypt_in_place(&mut Segments::new(
                conf,
                data.as_mut_slice(),
                copy,
            ));
            mac.copy_from_slice(&tag);
            h.copy_from_slice(&header);
        } else {
            let checksum = self.send_seal.checksum([data.as_slice(), &header[..]]);
            header[4..6].copy_from_slice(&(mac_len as u16).to_be_bytes());
            head.as_mut_slice()[..16].copy_from_slice(&header);
            trail.as_mut_slice()[..mac_len].copy_from_slice(&checksum);
        }
        head.truncate(head_len);
        trail.truncate(trail_len);
        Ok(())
    }

    /// DecryptMessage: checks the token and opens the message in place, from
    /// `[TOKEN, DATA]` or `[STREAM, DATA]` (see the module docs); returns the
    /// QOP ([`Qop::DEFAULT`] sealed, [`Qop::WRAP_NO_ENCRYPT`] signed only).
    /// On any failure the expected sequence number is unchanged and the
    /// plaintext zeroed (the DATA buffer, or its place in the stream).
    pub fn decrypt_message(&mut self, message: &mut [SecBuffer<'_>]) -> Result<Qop, MessageError> {
        if let Some((stream, data)) = message.stream_and_data_mut()? {
            return self.decrypt_stream(stream, data);
        }
        let (token, data) = message.token_and_data_mut()?;
        let result = self.open_split(token.as_mut_slice(), data.as_mut_slice());
        if result.is_err() {
            data.as_mut_slice().fill(0);
        }
        result
    }

    /// Reads and checks a received wrap token header.
    fn wrap_header_of(&self, bytes: &[u8]) -> Result<WrapHeader, MessageError> {
        let Some(bytes) = bytes.get(..16) else {
            return Err(NOT_A_WRAP);
        };
        if bytes[..2] != WRAP_ID || bytes[3] != 0xff {
            return Err(NOT_A_WRAP);
        }
        let mut header = [0u8; 16];
        header.copy_from_slice(bytes);
        let flags = header[2];
        if flags & !SEALED != self.receive_flags() {
            return Err(WRONG_DIRECTION);
        }
        let sealed = flags & SEALED != 0;
        if sealed && !self.confidentiality {
            return Err(NO_CONFIDENTIALITY);
        }
        let ec = usize::from(u16::from_be_bytes([header[4], header[5]]));
        if (sealed && ec > MAX_EC) || (!sealed && ec != self.checksum_len) {
            return Err(BAD_EC);
        }
        Ok(WrapHeader {
            bytes: header,
            sealed,
            ec,
            rrc: usize::from(u16::from_be_bytes([header[6], header[7]])),
        })
    }

    /// The confounder and tail lengths of a token with `header`.
    fn parts_of(&self, header: &WrapHeader) -> (usize, usize) {
        if header.sealed {
            (CONFOUNDER_LEN, header.ec + 16 + self.checksum_len)
        } else {
            (0, self.checksum_len)
        }
    }

    /// `[TOKEN, DATA]`: TOKEN = header | the tail's last RRC bytes |
    /// confounder | the rest of the tail.
    fn open_split(&mut self, token: &mut [u8], data: &mut [u8]) -> Result<Qop, MessageError> {
        let header = self.wrap_header_of(token)?;
        let (conf_len, tail_len) = self.parts_of(&header);
        if token.len() != 16 + conf_len + tail_len {
            return Err(BAD_TOKEN_LENGTH);
        }
        let rrc = header.rrc % (conf_len + tail_len + data.len());
        if rrc > tail_len {
            return Err(RRC_INTO_TOKEN);
        }
        let (_, rest) = token.split_at_mut(16);
        let (tail_last, rest) = rest.split_at_mut(rrc);
        let (conf, tail_first) = rest.split_at_mut(conf_len);
        self.open(&header, tail_last, conf, data, tail_first)
    }

    /// `[STREAM, DATA]`: the whole token, any RRC, opened inside the stream;
    /// DATA is pointed at the plaintext.
    fn decrypt_stream<'a>(
        &mut self,
        stream: &mut SecBuffer<'a>,
        data: &mut SecBuffer<'a>,
    ) -> Result<Qop, MessageError> {
        let bytes = stream.as_mut_slice();
        if bytes.len() < 16 {
            return Err(STREAM_INCOMPLETE);
        }
        let header = self.wrap_header_of(bytes)?;
        let (conf_len, tail_len) = self.parts_of(&header);
        let (_, body) = bytes.split_at_mut(16);
        let Some(data_len) = body.len().checked_sub(conf_len + tail_len) else {
            return Err(STREAM_INCOMPLETE);
        };
        let mut rrc = header.rrc % body.len();
        if rrc > tail_len {
            // Rotated past the tail: bring message bytes back to the end
            // (in place, no allocation) so the plaintext is contiguous.
            body.rotate_left(rrc - tail_len);
            rrc = tail_len;
        }
        let (tail_last, rest) = body.split_at_mut(rrc);
        let (conf, rest) = rest.split_at_mut(conf_len);
        let (plain, tail_first) = rest.split_at_mut(data_len);
        match self.open(&header, tail_last, conf, plain, tail_first) {
            Ok(qop) => {
                let start = 16 + rrc + conf_len;
                // The range lies inside the stream by construction.
                stream.hand_over(start..start + data_len, data);
                Ok(qop)
            }
            Err(e) => {
                plain.fill(0);
                Err(e)
            }
        }
    }

    /// Opens a token given in wire order after its header: the tail's last
    /// bytes (rotated to the front), the confounder, the message, the
    /// tail's first bytes. The tail (filler, header copy, checksum: at most
    /// [`MAX_TAIL`] bytes) is put back in order on the stack.
    fn open(
        &mut self,
        header: &WrapHeader,
        tail_last: &[u8],
        conf: &mut [u8],
        data: &mut [u8],
        tail_first: &[u8],
    ) -> Result<Qop, MessageError> {
        let tail_len = tail_first.len() + tail_last.len();
        let mut tail = [0u8; MAX_TAIL];
        let tail = tail.get_mut(..tail_len).ok_or(BAD_EC)?;
        tail[..tail_first.len()].copy_from_slice(tail_first);
        tail[tail_first.len()..].copy_from_slice(tail_last);
        let sequence = sequence_of(&header.bytes);
        if header.sealed {
            let (encrypted, mac) = tail.split_at_mut(header.ec + 16);
            self.receive_seal
                .decrypt_in_place(&mut Segments::new(conf, data, encrypted), mac)
                .map_err(|_| BAD_SEAL)?;
            let copy = &encrypted[header.ec..];
            // The decrypted header copy must equal the header, RRC aside.
            let same = constant_time_eq(&copy[..6], &header.bytes[..6])
                && constant_time_eq(&copy[8..16], &header.bytes[8..16]);
            if !same {
                return Err(BAD_HEADER_COPY);
            }
            self.sequence.accept_receive(sequence)?;
            Ok(Qop::DEFAULT)
        } else {
            let mut zeroed = header.bytes;
            zeroed[4..8].fill(0);
            let expected = self.receive_seal.checksum([&*data, &zeroed[..]]);
            if !constant_time_eq(&expected, tail) {
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

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGE: &[u8] = b"tokens as GSS peers send them, of any length";

    /// An initiator and an acceptor sharing an acceptor subkey.
    fn pair(etype: Etype) -> (PerMessageTokens, PerMessageTokens) {
        let key = Key::new(etype, vec![7; etype.key_len()]).unwrap();
        let make = |acceptor| {
            PerMessageTokens::new(&PerMessageSetup {
                key: &key,
                acceptor,
                acceptor_subkey: true,
                send_sequence: 11,
                receive_sequence: 11,
                confidentiality: true,
            })
            .unwrap()
        };
        (make(false), make(true))
    }

    /// The RRC 0 token (MIT's layout) from the STREAM_HEADER form.
    fn contiguous(sender: &mut PerMessageTokens, qop: Qop, plain: &[u8]) -> Vec<u8> {
        let (mut head, mut data, mut trail) = ([0u8; 40], plain.to_vec(), [0u8; 40]);
        let mut message = [
            SecBuffer::new(SecBufferType::STREAM_HEADER, &mut head),
            SecBuffer::data(&mut data),
            SecBuffer::new(SecBufferType::STREAM_TRAILER, &mut trail),
        ];
        assert_eq!(sender.encrypt_message(qop, &mut message), Ok(qop));
        let (h, t) = (message[0].len(), message[2].len());
        let expected = if qop == Qop::DEFAULT {
            sender.wrap_trailer_len()
        } else {
            sender.mic_len()
        };
        assert_eq!(h + t, expected);
        [&head[..h], &data[..], &trail[..t]].concat()
    }

    /// The same token with its body rotated right by `rrc` and RRC set.
    fn rotated(token: &[u8], rrc: usize) -> Vec<u8> {
        let mut t = token.to_vec();
        let body_len = t.len() - 16;
        t[16..].rotate_right(rrc % body_len);
        t[6..8].copy_from_slice(&(rrc as u16).to_be_bytes());
        t
    }

    /// DecryptMessage `[STREAM, DATA]`: the QOP and the plaintext DATA points at.
    fn open_stream(
        receiver: &mut PerMessageTokens,
        token: &[u8],
    ) -> Result<(Qop, Vec<u8>), MessageError> {
        let mut stream = token.to_vec();
        let mut message = [
            SecBuffer::new(SecBufferType::STREAM, &mut stream),
            SecBuffer::data(&mut []),
        ];
        let qop = receiver.decrypt_message(&mut message)?;
        Ok((qop, message[1].as_slice().to_vec()))
    }

    #[test]
    fn an_independently_built_rrc_0_token_opens_from_a_stream() {
        // RFC 4121 4.2.4 by hand: header | E(confounder | plaintext | header).
        let key = Key::new(Etype::Aes256CtsHmacSha196, vec![7; 32]).unwrap();
        let mut header = [0x05, 0x04, 0x04, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11];
        header[2] |= SEALED;
        let sealed = key
            .usage(INITIATOR_SEAL)
            .unwrap()
            .encrypt(&[MESSAGE, &header[..]].concat())
            .unwrap();
        let token = [&header[..], &sealed].concat();
        let (_, mut acceptor) = pair(Etype::Aes256CtsHmacSha196);
        let (qop, plain) = open_stream(&mut acceptor, &token).unwrap();
        assert_eq!((qop, &plain[..]), (Qop::DEFAULT, MESSAGE));
    }

    #[test]
    fn a_stream_token_opens_in_place_with_every_rrc() {
        for etype in Etype::ALL {
            for qop in [Qop::DEFAULT, Qop::WRAP_NO_ENCRYPT] {
                for len in [0usize, 1, 16, 45] {
                    let plain = &MESSAGE[..len.min(MESSAGE.len())];
                    let (mut i, _) = pair(etype);
                    let token = contiguous(&mut i, qop, plain);
                    for rrc in 0..token.len() + 3 {
                        let (_, mut a) = pair(etype);
                        let got = open_stream(&mut a, &rotated(&token, rrc));
                        assert_eq!(
                            got,
                            Ok((qop, plain.to_vec())),
                            "{etype} {qop:?} {len} {rrc}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn data_refers_to_the_plaintext_inside_the_stream() {
        let (mut i, mut a) = pair(Etype::Aes128CtsHmacSha196);
        let mut stream = contiguous(&mut i, Qop::DEFAULT, MESSAGE);
        let base = stream.as_ptr() as usize;
        let mut message = [
            SecBuffer::new(SecBufferType::STREAM, &mut stream),
            SecBuffer::data(&mut []),
        ];
        a.decrypt_message(&mut message).unwrap();
        assert_eq!(message[1].as_slice(), MESSAGE);
        // RRC 0: header and confounder come first.
        assert_eq!(message[1].as_slice().as_ptr() as usize - base, 32);
        assert_eq!(
            message[0].len(),
            32,
            "STREAM keeps the bytes before the plaintext"
        );
    }

    #[test]
    fn token_and_data_take_any_rrc_that_keeps_the_message_in_data() {
        let (mut i, _) = pair(Etype::Aes256CtsHmacSha196);
        let token = contiguous(&mut i, Qop::DEFAULT, MESSAGE);
        let n = MESSAGE.len();
        // RRC 0 ... EC + 28 (Windows' layout): the message stays in DATA.
        for rrc in 0..=28 {
            let t = rotated(&token, rrc);
            let body = &t[16..];
            let mut tok = [&t[..16], &body[..rrc + 16], &body[rrc + 16 + n..]].concat();
            let mut data = body[rrc + 16..rrc + 16 + n].to_vec();
            let (_, mut a) = pair(Etype::Aes256CtsHmacSha196);
            let mut message = [SecBuffer::token(&mut tok), SecBuffer::data(&mut data)];
            assert_eq!(
                a.decrypt_message(&mut message),
                Ok(Qop::DEFAULT),
                "rrc {rrc}"
            );
            assert_eq!(message[1].as_slice(), MESSAGE);
        }
        // Rotated into the message: only the stream form can take it.
        let t = rotated(&token, 29);
        let mut tok = t[..16 + 60 - 16].to_vec();
        let mut data = t[16 + 60 - 16..].to_vec();
        let (_, mut a) = pair(Etype::Aes256CtsHmacSha196);
        let mut message = [SecBuffer::token(&mut tok), SecBuffer::data(&mut data)];
        assert_eq!(a.decrypt_message(&mut message), Err(RRC_INTO_TOKEN));
    }

    #[test]
    fn the_windows_layout_concatenated_opens_as_a_stream() {
        let (mut i, mut a) = pair(Etype::Aes256CtsHmacSha196);
        let mut token = [0u8; 60];
        let mut data = MESSAGE.to_vec();
        let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
        i.encrypt_message(Qop::DEFAULT, &mut message).unwrap();
        assert_eq!(u16::from_be_bytes([token[6], token[7]]), 28);
        let (qop, plain) = open_stream(&mut a, &[&token[..], &data].concat()).unwrap();
        assert_eq!((qop, &plain[..]), (Qop::DEFAULT, MESSAGE));
    }

    #[test]
    fn short_long_and_altered_streams_are_refused_without_panic() {
        let (mut i, _) = pair(Etype::Aes128CtsHmacSha196);
        let token = contiguous(&mut i, Qop::DEFAULT, MESSAGE);
        for cut in 0..token.len() {
            let (_, mut a) = pair(Etype::Aes128CtsHmacSha196);
            let e = open_stream(&mut a, &token[..cut]).unwrap_err();
            let expected = if cut < 16 + 16 + 28 {
                SecurityStatus::SEC_E_INCOMPLETE_MESSAGE
            } else {
                SecurityStatus::SEC_E_MESSAGE_ALTERED
            };
            assert_eq!(e.status(), expected, "cut at {cut}");
        }
        let (_, mut a) = pair(Etype::Aes128CtsHmacSha196);
        let long = [&token[..], b"x"].concat();
        let e = open_stream(&mut a, &long).unwrap_err();
        assert_eq!(e.status(), SecurityStatus::SEC_E_MESSAGE_ALTERED);
        for at in 0..token.len() {
            let mut t = token.clone();
            t[at] ^= 0x01;
            let (_, mut a) = pair(Etype::Aes128CtsHmacSha196);
            let e = open_stream(&mut a, &t).unwrap_err();
            // The header's bytes are checked as layout (INVALID_TOKEN),
            // direction and copy (ALTERED); RRC is 0 ^ 1: a rotation.
            assert!(
                matches!(
                    e.status(),
                    SecurityStatus::SEC_E_MESSAGE_ALTERED | SecurityStatus::SEC_E_INVALID_TOKEN
                ),
                "byte {at}: {e:?}"
            );
            // The next (good) token still opens: nothing was consumed.
            assert!(open_stream(&mut a, &token).is_ok(), "byte {at}");
        }
    }

    #[test]
    fn a_refused_stream_zeroes_the_plaintext_and_leaves_data_alone() {
        let (mut i, mut a) = pair(Etype::Aes256CtsHmacSha196);
        let mut stream = contiguous(&mut i, Qop::DEFAULT, MESSAGE);
        let last = stream.len() - 1;
        stream[last] ^= 0x80;
        let mut old = *b"old";
        let mut message = [
            SecBuffer::new(SecBufferType::STREAM, &mut stream),
            SecBuffer::data(&mut old),
        ];
        assert_eq!(a.decrypt_message(&mut message), Err(BAD_SEAL));
        assert_eq!(message[1].as_slice(), b"old");
        assert!(stream[32..32 + MESSAGE.len()].iter().all(|&b| b == 0));
    }

    #[test]
    fn a_mic_verifies_from_a_stream_buffer() {
        let (mut i, mut a) = pair(Etype::Aes256CtsHmacSha196);
        let mut data = MESSAGE.to_vec();
        let mut mic = [0u8; 28];
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut mic)];
        i.make_signature(Qop::DEFAULT, &mut message).unwrap();
        let mut message = [
            SecBuffer::data(&mut data),
            SecBuffer::new(SecBufferType::STREAM, &mut mic),
        ];
        assert_eq!(a.verify_signature(&mut message), Ok(Qop::DEFAULT));
    }

    #[test]
    fn sizes_follow_the_etype() {
        for etype in Etype::ALL {
            let (i, _) = pair(etype);
            assert_eq!(i.mic_len(), mic_len(etype));
            assert_eq!(i.wrap_trailer_len(), wrap_trailer_len(etype));
            assert_eq!(i.wrap_trailer_len(), 16 + 16 + checksum_len(etype) + 16);
        }
        assert_eq!(wrap_trailer_len(Etype::Aes256CtsHmacSha196), 60);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any bytes after a plausible header, any EC and RRC, in a STREAM
        /// or split into TOKEN and DATA: never a panic, never accepted.
        #[test]
        fn arbitrary_tokens_never_panic_nor_pass(
            sealed in proptest::prelude::any::<bool>(),
            ec in 0u16..80,
            rrc in proptest::prelude::any::<u16>(),
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            split in 0usize..120,
        ) {
            let mut header = [0x05, 0x04, 0x04, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11];
            if sealed {
                header[2] |= SEALED;
            }
            header[4..6].copy_from_slice(&ec.to_be_bytes());
            header[6..8].copy_from_slice(&rrc.to_be_bytes());
            let token = [&header[..], &body].concat();
            let (_, mut a) = pair(Etype::Aes128CtsHmacSha196);
            proptest::prop_assert!(open_stream(&mut a, &token).is_err());
            let split = split.min(token.len());
            let (mut t, mut d) = (token[..split].to_vec(), token[split..].to_vec());
            let mut message = [SecBuffer::token(&mut t), SecBuffer::data(&mut d)];
            proptest::prop_assert!(a.decrypt_message(&mut message).is_err());
        }

        /// A valid token with one byte changed and any RRC claimed: refused.
        #[test]
        fn altered_rotated_tokens_are_refused(at in 0usize..1000, bit in 0u8..8, rrc in 0usize..200) {
            let (mut i, _) = pair(Etype::Aes256CtsHmacSha196);
            let mut token = rotated(&contiguous(&mut i, Qop::DEFAULT, MESSAGE), rrc);
            let at = at % token.len();
            // Changing RRC alone by a multiple of the body length is no change.
            proptest::prop_assume!(!(6..8).contains(&at));
            token[at] ^= 1 << bit;
            let (_, mut a) = pair(Etype::Aes256CtsHmacSha196);
            proptest::prop_assert!(open_stream(&mut a, &token).is_err());
        }
    }

    #[test]
    fn stream_header_form_needs_room_and_all_three_buffers() {
        let (mut i, _) = pair(Etype::Aes256CtsHmacSha196);
        let (mut head, mut data, mut trail) = ([0u8; 31], *b"x", [0u8; 28]);
        let mut message = [
            SecBuffer::new(SecBufferType::STREAM_HEADER, &mut head),
            SecBuffer::data(&mut data),
            SecBuffer::new(SecBufferType::STREAM_TRAILER, &mut trail),
        ];
        assert_eq!(
            i.encrypt_message(Qop::DEFAULT, &mut message),
            Err(STREAM_BUFFERS_TOO_SMALL)
        );
        let mut message = [
            SecBuffer::new(SecBufferType::STREAM_HEADER, &mut head),
            SecBuffer::data(&mut data),
        ];
        assert_eq!(
            i.encrypt_message(Qop::DEFAULT, &mut message),
            Err(NO_STREAM_TRAILER)
        );
    }
}
