//! Per-message protection of an established context: HMAC-SHA256 signatures
//! and AES-256-GCM sealing, with one sequence number per direction.
//!
//! Everything here works in place on the caller's buffers and allocates nothing.
//!
//! ```text
//! signature (TOKEN, 44 bytes): version u32 LE = 1 | sequence u64 BE | HMAC-SHA256(sign key, sequence | DATA...)
//! seal trailer (TOKEN, 28 bytes): version u32 LE = 1 | sequence u64 BE | GCM tag [16]
//!   (nonce = 0u32 | sequence, associated data = version | sequence, keys per direction)
//! ```

use crate::keys::{RawKeys, Secret32, SessionKeys};
use hmac::Mac;
use ring::aead;
use sspi_core::context_export::{PayloadReader, PayloadWriter};
use sspi_core::{
    MessageError, Qop, SecBuffer, SecBufferType, SecBuffers, SecurityError, SecurityResult,
    SecurityStatus, SequenceNumbers,
};
use zeroize::Zeroizing;

const VERSION: [u8; 4] = 1u32.to_le_bytes();
const HEADER_LEN: usize = 12;
/// `cbMaxSignature`.
pub const SIGNATURE_LEN: usize = HEADER_LEN + 32;
/// `cbSecurityTrailer`.
pub const TRAILER_LEN: usize = HEADER_LEN + 16;

const QOP_NOT_SUPPORTED: MessageError = MessageError::new(
    sspi_core::SecurityStatus::SEC_E_QOP_NOT_SUPPORTED,
    "the Test package supports only the default QOP",
);
const NO_CONFIDENTIALITY: MessageError = MessageError::new(
    sspi_core::SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
    "confidentiality was not negotiated (ISC_REQ_CONFIDENTIALITY)",
);

/// The keys and sequence numbers of an established context.
pub struct MessageProtection {
    keys: SessionKeys,
    sequence: SequenceNumbers,
    confidentiality: bool,
}

impl MessageProtection {
    /// Protection with fresh counters; sealing only if confidentiality was negotiated.
    pub fn new(keys: SessionKeys, confidentiality: bool) -> Self {
        Self {
            keys,
            sequence: SequenceNumbers::new(0, 0, u64::MAX),
            confidentiality,
        }
    }

    /// The session keys.
    pub fn keys(&self) -> &SessionKeys {
        &self.keys
    }

    /// ExportSecurityContext's part: the six keys, confidentiality and the
    /// sequence numbers (with `reset_new`, the first ones: 0 both ways).
    ///
    /// A reset is refused once this side has sent a message: the reset
    /// context would seal under AES-GCM nonces (the sequence numbers) already
    /// used with the same key.
    pub fn export(&self, reset_new: bool, out: &mut PayloadWriter) -> SecurityResult<()> {
        let sequence = if reset_new {
            if !self.sequence.nothing_sent_since(0) {
                return Err(SecurityError::new(
                    SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
                    "SECPKG_CONTEXT_EXPORT_RESET_NEW: this context has sent messages; a reset context would reuse their AES-GCM nonces with the same key",
                ));
            }
            SequenceNumbers::new(0, 0, u64::MAX)
        } else {
            self.sequence.clone()
        };
        for key in self.keys.raw().all() {
            out.raw(key.as_ref());
        }
        out.bool(self.confidentiality).sequence(&sequence);
        Ok(())
    }

    /// The protection [`MessageProtection::export`] wrote.
    pub fn import(input: &mut PayloadReader<'_>) -> SecurityResult<Self> {
        let mut key = |field: &str| -> SecurityResult<Secret32> {
            Ok(Zeroizing::new(input.array::<32>(field)?))
        };
        let raw = RawKeys {
            sign_out: key("sign key (out)")?,
            sign_in: key("sign key (in)")?,
            seal_out: key("seal key (out)")?,
            seal_in: key("seal key (in)")?,
            confirm: key("confirm key")?,
            session_key: key("session key")?,
        };
        let confidentiality = input.bool("confidentiality")?;
        let sequence = input.sequence("sequence numbers")?;
        let (_, _, last) = sequence.state();
        if last != u64::MAX {
            return Err(input.invalid("sequence numbers", "the last number must be 2^64-1"));
        }
        Ok(Self {
            keys: SessionKeys::from_raw(raw)?,
            sequence,
            confidentiality,
        })
    }

    /// MakeSignature.
    pub fn make_signature(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
    ) -> Result<Qop, MessageError> {
        if qop != Qop::DEFAULT {
            return Err(QOP_NOT_SUPPORTED);
        }
        if message.token_mut()?.len() < SIGNATURE_LEN {
            return Err(MessageError::buffer_too_small(
                "the TOKEN buffer is shorter than cbMaxSignature",
            ));
        }
        let sequence = self.sequence.next_send()?;
        let mac = signature_mac(&self.keys.sign_out, sequence, message);
        let token = message.token_mut()?;
        let out = token.as_mut_slice();
        out[..4].copy_from_slice(&VERSION);
        out[4..HEADER_LEN].copy_from_slice(&sequence.to_be_bytes());
        out[HEADER_LEN..SIGNATURE_LEN].copy_from_slice(&mac.finalize().into_bytes());
        token.truncate(SIGNATURE_LEN);
        Ok(Qop::DEFAULT)
    }

    /// VerifySignature.
    pub fn verify_signature(&mut self, message: &mut [SecBuffer<'_>]) -> Result<Qop, MessageError> {
        let token = message.token_mut()?.as_slice();
        if token.len() != SIGNATURE_LEN || token[..4] != VERSION {
            return Err(MessageError::invalid_token(
                "the signature is not a version-1 Test package signature of cbMaxSignature bytes",
            ));
        }
        let sequence = read_sequence(token);
        let mut expected = [0u8; 32];
        expected.copy_from_slice(&token[HEADER_LEN..SIGNATURE_LEN]);
        let mac = signature_mac(&self.keys.sign_in, sequence, message);
        mac.verify_slice(&expected)
            .map_err(|_| MessageError::altered("the signature does not match the message"))?;
        self.sequence.accept_receive(sequence)?;
        Ok(Qop::DEFAULT)
    }

    /// EncryptMessage: seals the one writable DATA buffer in place.
    pub fn encrypt_message(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
    ) -> Result<Qop, MessageError> {
        if !self.confidentiality {
            return Err(NO_CONFIDENTIALITY);
        }
        if qop != Qop::DEFAULT {
            return Err(QOP_NOT_SUPPORTED);
        }
        let (token, data) = message.token_and_data_mut()?;
        if token.len() < TRAILER_LEN {
            return Err(MessageError::buffer_too_small(
                "the TOKEN buffer is shorter than cbSecurityTrailer",
            ));
        }
        let sequence = self.sequence.next_send()?;
        let mut header = [0u8; HEADER_LEN];
        header[..4].copy_from_slice(&VERSION);
        header[4..].copy_from_slice(&sequence.to_be_bytes());
        let tag = self
            .keys
            .seal_out
            .seal_in_place_separate_tag(
                nonce(sequence),
                aead::Aad::from(header),
                data.as_mut_slice(),
            )
            .map_err(|_| {
                MessageError::new(
                    sspi_core::SecurityStatus::SEC_E_ENCRYPT_FAILURE,
                    "AES-256-GCM refused to seal the message",
                )
            })?;
        let out = token.as_mut_slice();
        out[..HEADER_LEN].copy_from_slice(&header);
        out[HEADER_LEN..TRAILER_LEN].copy_from_slice(tag.as_ref());
        token.truncate(TRAILER_LEN);
        Ok(Qop::DEFAULT)
    }

    /// DecryptMessage: authenticates and opens the DATA buffer in place.
    pub fn decrypt_message(&mut self, message: &mut [SecBuffer<'_>]) -> Result<Qop, MessageError> {
        if !self.confidentiality {
            return Err(NO_CONFIDENTIALITY);
        }
        let (token, data) = message.token_and_data_mut()?;
        let trailer = token.as_slice();
        if trailer.len() != TRAILER_LEN || trailer[..4] != VERSION {
            return Err(MessageError::invalid_token(
                "the trailer is not a version-1 Test package trailer of cbSecurityTrailer bytes",
            ));
        }
        let sequence = read_sequence(trailer);
        let mut header = [0u8; HEADER_LEN];
        header.copy_from_slice(&trailer[..HEADER_LEN]);
        let tag = aead::Tag::try_from(&trailer[HEADER_LEN..TRAILER_LEN])
            .map_err(|_| MessageError::invalid_token("the trailer's tag is malformed"))?;
        let opened = self.keys.seal_in.open_in_place_separate_tag(
            nonce(sequence),
            aead::Aad::from(header),
            tag,
            data.as_mut_slice(),
            0..,
        );
        if opened.is_err() {
            return Err(MessageError::altered(
                "the sealed message does not authenticate (AES-256-GCM tag mismatch)",
            ));
        }
        if let Err(error) = self.sequence.accept_receive(sequence) {
            // Authentic but replayed or reordered: do not hand out its plaintext.
            data.as_mut_slice().fill(0);
            return Err(error);
        }
        Ok(Qop::DEFAULT)
    }
}

fn nonce(sequence: u64) -> aead::Nonce {
    let mut bytes = [0u8; aead::NONCE_LEN];
    bytes[4..].copy_from_slice(&sequence.to_be_bytes());
    aead::Nonce::assume_unique_for_key(bytes)
}

fn read_sequence(token: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&token[4..HEADER_LEN]);
    u64::from_be_bytes(bytes)
}

fn signature_mac(
    key: &crate::keys::HmacSha256,
    sequence: u64,
    message: &[SecBuffer<'_>],
) -> crate::keys::HmacSha256 {
    let mut mac = key.clone();
    mac.update(&sequence.to_be_bytes());
    for buffer in message.iter().filter(|b| b.kind() == SecBufferType::DATA) {
        mac.update(buffer.as_slice());
    }
    mac
}
