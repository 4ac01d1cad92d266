//! Session security (MS-NLMP 3.4, with extended session security): the
//! per-message state of an established context behind MakeSignature /
//! VerifySignature and EncryptMessage / DecryptMessage, in place on the
//! caller's buffers, with no allocation.
//!
//! ```text
//! signature (16 bytes): Version u32 LE = 1 | Checksum [8] | SeqNum u32 LE
//! Checksum = HMAC_MD5(SigningKey, SeqNum || every DATA buffer)[0..8],
//!            then RC4 with the direction's sealing handle when KEY_EXCH was negotiated
//! sealing:   every writable DATA buffer is RC4-encrypted with the same handle,
//!            before the checksum (the MAC covers the plaintext)
//! ```
//! DecryptMessage takes `[TOKEN, DATA...]`, or `[SECBUFFER_STREAM, DATA]`:
//! the whole message as pyspnego, gss-ntlmssp and other GSS-API NTLM peers
//! wrap it (signature then sealed data) in one STREAM buffer; the data is
//! opened in place inside the stream and the DATA buffer (its window
//! replaced) pointed at the plaintext. A stream shorter than a signature is
//! SEC_E_INCOMPLETE_MESSAGE. VerifySignature takes the signature in a TOKEN
//! or a STREAM buffer.
//!
//! One RC4 handle per direction and one [`SequenceNumbers`] pair, both
//! continuing across MakeSignature and EncryptMessage calls (connection mode:
//! the caller's MessageSeqNo is ignored). A message whose SeqNum is not the
//! expected one is SEC_E_OUT_OF_SEQUENCE and changes nothing; one whose
//! checksum does not match is SEC_E_MESSAGE_ALTERED and consumes its
//! sequence number and keystream like the sender did, so a connection whose
//! message was corrupted in transit stays in step.

use crate::crypto::{
    self, CLIENT_SEAL_MAGIC, CLIENT_SIGN_MAGIC, HmacMd5, SERVER_SEAL_MAGIC, SERVER_SIGN_MAGIC,
};
use crate::keystream::{Rc4State, STATE_LEN};
use crate::messages::flags;
use hmac::Mac;
use sspi_core::context_export::{PayloadReader, PayloadWriter};
use sspi_core::{
    MessageDirection, MessageError, Qop, SecBuffer, SecBufferType, SecBuffers, SecurityStatus,
    SequenceNumbers,
};
use zeroize::Zeroizing;

/// `cbMaxSignature` and `cbSecurityTrailer`.
pub const SIGNATURE_LEN: usize = 16;
const VERSION: [u8; 4] = 1u32.to_le_bytes();

const QOP_NOT_SUPPORTED: MessageError = MessageError::new(
    SecurityStatus::SEC_E_QOP_NOT_SUPPORTED,
    "NTLM has a single quality of protection: fQOP must be 0",
);
const SIGN_NOT_NEGOTIATED: MessageError = MessageError::new(
    SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
    "signing (NTLMSSP_NEGOTIATE_SIGN) was not negotiated",
);
const SEAL_NOT_NEGOTIATED: MessageError = MessageError::new(
    SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
    "sealing (NTLMSSP_NEGOTIATE_SEAL) was not negotiated: the client did not ask for ISC_REQ_CONFIDENTIALITY",
);
const SIGNATURE_TOO_SMALL: MessageError =
    MessageError::buffer_too_small("the TOKEN buffer is shorter than cbMaxSignature (16 bytes)");
const TRAILER_TOO_SMALL: MessageError =
    MessageError::buffer_too_small("the TOKEN buffer is shorter than cbSecurityTrailer (16 bytes)");
const BAD_LENGTH: MessageError =
    MessageError::invalid_token("the NTLM signature in the TOKEN buffer is not 16 bytes long");
const STREAM_INCOMPLETE: MessageError = MessageError::new(
    SecurityStatus::SEC_E_INCOMPLETE_MESSAGE,
    "the SECBUFFER_STREAM buffer is shorter than the 16-byte NTLM signature",
);
const NO_SIGNATURE_BUFFER: MessageError =
    MessageError::invalid_token("the message has no SECBUFFER_TOKEN or SECBUFFER_STREAM buffer");
const BAD_VERSION: MessageError =
    MessageError::invalid_token("the NTLM signature's version is not 1");
const NOT_NEXT: MessageError =
    MessageError::out_of_sequence("the signature's sequence number is not the next one");
const SIGNATURE_MISMATCH: MessageError =
    MessageError::altered("the signature does not match the message");
const SEAL_MISMATCH: MessageError = MessageError::altered(
    "the sealed message's checksum does not match: it was altered in transit (its DATA buffers were zeroed)",
);

/// The keys of the messages one side sends: its signing key and its RC4
/// sealing handle (ClientSigningKey and ClientHandle, or the server's).
struct SenderKeys {
    sign: HmacMd5,
    seal: Rc4State,
    /// The sealing key, kept to restart the RC4 keystream after SPNEGO's mechListMIC.
    seal_key: crypto::Key16,
}

impl SenderKeys {
    fn new(exported_session_key: &[u8; 16], negotiated: u32, sign: &[u8], seal: &[u8]) -> Self {
        let sign_key = crypto::sign_key(exported_session_key, sign);
        let seal_key = crypto::seal_key(exported_session_key, negotiated, seal);
        Self {
            sign: crypto::hmac_md5(sign_key.as_ref()),
            seal: Rc4State::new(seal_key.as_ref()),
            seal_key,
        }
    }

    /// Restarts the RC4 keystream from its first byte.
    fn restart_keystream(&mut self) {
        self.seal = Rc4State::new(self.seal_key.as_ref());
    }

    /// HMAC_MD5(SigningKey, SeqNum || DATA...), before truncation and RC4.
    fn mac(&self, sequence: u32, message: &[SecBuffer<'_>]) -> HmacMd5 {
        self.mac_of(
            sequence,
            message
                .iter()
                .filter(|b| b.kind() == SecBufferType::DATA)
                .map(|b| b.as_slice()),
        )
    }

    /// HMAC_MD5(SigningKey, SeqNum || chunks...).
    fn mac_of<'c>(&self, sequence: u32, chunks: impl Iterator<Item = &'c [u8]>) -> HmacMd5 {
        let mut mac = self.sign.clone();
        mac.update(&sequence.to_le_bytes());
        for chunk in chunks {
            mac.update(chunk);
        }
        mac
    }
}

/// The session security of an established context: the keys of both
/// directions, the negotiated flags and the sequence numbers.
pub struct SessionSecurity {
    outgoing: SenderKeys,
    incoming: SenderKeys,
    negotiated: u32,
    sequence: SequenceNumbers,
}

impl SessionSecurity {
    /// The client's session security, from the exported session key and the negotiated flags.
    pub fn client(exported_session_key: &[u8; 16], negotiated: u32) -> Self {
        let (client, server) = Self::keys(exported_session_key, negotiated);
        Self::new(client, server, negotiated)
    }

    /// The server's session security (see [`SessionSecurity::client`]).
    pub fn server(exported_session_key: &[u8; 16], negotiated: u32) -> Self {
        let (client, server) = Self::keys(exported_session_key, negotiated);
        Self::new(server, client, negotiated)
    }

    fn keys(exported_session_key: &[u8; 16], negotiated: u32) -> (SenderKeys, SenderKeys) {
        let client = SenderKeys::new(
            exported_session_key,
            negotiated,
            CLIENT_SIGN_MAGIC,
            CLIENT_SEAL_MAGIC,
        );
        let server = SenderKeys::new(
            exported_session_key,
            negotiated,
            SERVER_SIGN_MAGIC,
            SERVER_SEAL_MAGIC,
        );
        (client, server)
    }

    /// ExportSecurityContext's part: the sequence numbers and both RC4
    /// states (the keys are derived again from the exported session key).
    /// With `reset_new`: numbers 0 both ways and both keystreams from their
    /// first byte, refused once this side has sent a message (the reset
    /// context would reuse the outgoing keystream: a two-time pad).
    pub fn export(&self, reset_new: bool, out: &mut PayloadWriter) -> Result<(), &'static str> {
        if reset_new {
            if !self.sequence.nothing_sent_since(0) {
                return Err(
                    "SECPKG_CONTEXT_EXPORT_RESET_NEW: this context has sent messages; a reset context would reuse their RC4 keystream",
                );
            }
            let fresh = |keys: &SenderKeys| Rc4State::new(keys.seal_key.as_ref()).export();
            out.sequence(&SequenceNumbers::new(0, 0, u32::MAX.into()))
                .raw(fresh(&self.outgoing).as_ref())
                .raw(fresh(&self.incoming).as_ref());
        } else {
            out.sequence(&self.sequence)
                .raw(self.outgoing.seal.export().as_ref())
                .raw(self.incoming.seal.export().as_ref());
        }
        Ok(())
    }

    /// The session security of an imported context: the keys of `client`'s
    /// side (or the server's) from the exported session key, then the
    /// sequence numbers and RC4 states [`SessionSecurity::export`] wrote.
    pub fn import(
        exported_session_key: &[u8; 16],
        negotiated: u32,
        client: bool,
        input: &mut PayloadReader<'_>,
    ) -> sspi_core::SecurityResult<Self> {
        let mut security = if client {
            Self::client(exported_session_key, negotiated)
        } else {
            Self::server(exported_session_key, negotiated)
        };
        let sequence = input.sequence("sequence numbers")?;
        if sequence.state().2 != u64::from(u32::MAX) {
            return Err(input.invalid("sequence numbers", "the last number must be 2^32-1"));
        }
        security.sequence = sequence;
        for (keys, field) in [
            (&mut security.outgoing, "outgoing RC4 state"),
            (&mut security.incoming, "incoming RC4 state"),
        ] {
            let state = Zeroizing::new(input.array::<STATE_LEN>(field)?);
            keys.seal = Rc4State::import(&state)
                .ok_or_else(|| input.invalid(field, "not an RC4 permutation"))?;
        }
        Ok(security)
    }

    fn new(outgoing: SenderKeys, incoming: SenderKeys, negotiated: u32) -> Self {
        Self {
            outgoing,
            incoming,
            negotiated,
            // The SeqNum field is 32 bits: numbers run from 0 to u32::MAX.
            sequence: SequenceNumbers::new(0, 0, u32::MAX.into()),
        }
    }

    /// Restarts one direction's RC4 keystream (sequence numbers go on): what
    /// MS-SPNG 3.3.5.1 asks after SPNEGO's mechListMIC was signed
    /// (`Outbound`) or verified (`Inbound`), so the application's first
    /// message uses the keystream position the mechListMIC used.
    pub fn restart_keystream(&mut self, direction: MessageDirection) {
        match direction {
            MessageDirection::Outbound => self.outgoing.restart_keystream(),
            MessageDirection::Inbound => self.incoming.restart_keystream(),
        }
    }

    fn negotiated(&self, flag: u32) -> bool {
        self.negotiated & flag != 0
    }

    /// The next outgoing sequence number.
    fn next_send(&mut self) -> Result<u32, MessageError> {
        // `SequenceNumbers` never goes past the `last` given above (u32::MAX).
        Ok(self.sequence.next_send()? as u32)
    }

    /// Finishes the outgoing checksum and writes the 16-byte signature to the TOKEN buffer.
    fn write_signature(
        &mut self,
        mac: HmacMd5,
        sequence: u32,
        message: &mut [SecBuffer<'_>],
    ) -> Result<(), MessageError> {
        let digest = mac.finalize().into_bytes();
        let mut checksum = [0u8; 8];
        checksum.copy_from_slice(&digest[..8]);
        if self.negotiated(flags::KEY_EXCH) {
            self.outgoing.seal.apply_keystream(&mut checksum);
        }
        let token = message.token_mut()?;
        let out = token
            .as_mut_slice()
            .get_mut(..SIGNATURE_LEN)
            .ok_or(SIGNATURE_TOO_SMALL)?;
        out[..4].copy_from_slice(&VERSION);
        out[4..12].copy_from_slice(&checksum);
        out[12..].copy_from_slice(&sequence.to_le_bytes());
        token.truncate(SIGNATURE_LEN);
        Ok(())
    }

    /// Reads the received signature, checks its version and that its
    /// sequence number is the next one; returns the number and the checksum.
    fn read_signature(&self, message: &[SecBuffer<'_>]) -> Result<(u32, [u8; 8]), MessageError> {
        let token = message
            .find(SecBufferType::TOKEN)
            .or_else(|| message.find(SecBufferType::STREAM))
            .ok_or(NO_SIGNATURE_BUFFER)?
            .as_slice();
        self.parse_signature(token)
    }

    /// Checks a signature's length, version and sequence number.
    fn parse_signature(&self, token: &[u8]) -> Result<(u32, [u8; 8]), MessageError> {
        let signature: &[u8; SIGNATURE_LEN] = token.try_into().map_err(|_| BAD_LENGTH)?;
        if signature[..4] != VERSION {
            return Err(BAD_VERSION);
        }
        let sequence =
            u32::from_le_bytes([signature[12], signature[13], signature[14], signature[15]]);
        if u64::from(sequence) != self.sequence.expected_receive()? {
            return Err(NOT_NEXT);
        }
        let mut checksum = [0u8; 8];
        checksum.copy_from_slice(&signature[4..12]);
        Ok((sequence, checksum))
    }

    /// Decrypts the received checksum, consumes its sequence number (as the
    /// sender did, whatever the outcome) and compares it, in constant time, with `mac`.
    fn check_checksum(
        &mut self,
        mac: HmacMd5,
        sequence: u32,
        mut checksum: [u8; 8],
        mismatch: MessageError,
    ) -> Result<(), MessageError> {
        if self.negotiated(flags::KEY_EXCH) {
            self.incoming.seal.apply_keystream(&mut checksum);
        }
        self.sequence.accept_receive(sequence.into())?;
        mac.verify_truncated_left(&checksum).map_err(|_| mismatch)
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
        if !self.negotiated(flags::SIGN) {
            return Err(SIGN_NOT_NEGOTIATED);
        }
        if message.token_mut()?.len() < SIGNATURE_LEN {
            return Err(SIGNATURE_TOO_SMALL);
        }
        let sequence = self.next_send()?;
        let mac = self.outgoing.mac(sequence, message);
        self.write_signature(mac, sequence, message)?;
        Ok(Qop::DEFAULT)
    }

    /// VerifySignature.
    pub fn verify_signature(&mut self, message: &mut [SecBuffer<'_>]) -> Result<Qop, MessageError> {
        if !self.negotiated(flags::SIGN) {
            return Err(SIGN_NOT_NEGOTIATED);
        }
        let (sequence, checksum) = self.read_signature(message)?;
        let mac = self.incoming.mac(sequence, message);
        self.check_checksum(mac, sequence, checksum, SIGNATURE_MISMATCH)?;
        Ok(Qop::DEFAULT)
    }

    /// EncryptMessage: seals every writable DATA buffer in place (READONLY ones
    /// are only signed) and writes the signature to the TOKEN buffer.
    pub fn encrypt_message(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
    ) -> Result<Qop, MessageError> {
        if qop != Qop::DEFAULT {
            return Err(QOP_NOT_SUPPORTED);
        }
        if !self.negotiated(flags::SEAL) {
            return Err(SEAL_NOT_NEGOTIATED);
        }
        if message.token_mut()?.len() < SIGNATURE_LEN {
            return Err(TRAILER_TOO_SMALL);
        }
        let sequence = self.next_send()?;
        let mac = self.outgoing.mac(sequence, message);
        for buffer in writable_data(message) {
            self.outgoing.seal.apply_keystream(buffer.as_mut_slice());
        }
        self.write_signature(mac, sequence, message)?;
        Ok(Qop::DEFAULT)
    }

    /// DecryptMessage: opens every writable DATA buffer in place and checks the
    /// signature over the plaintext. On SEC_E_MESSAGE_ALTERED the buffers are
    /// zeroed: unauthenticated plaintext is never handed out.
    pub fn decrypt_message(&mut self, message: &mut [SecBuffer<'_>]) -> Result<Qop, MessageError> {
        if !self.negotiated(flags::SEAL) {
            return Err(SEAL_NOT_NEGOTIATED);
        }
        if let Some((stream, data)) = message.stream_and_data_mut()? {
            return self.decrypt_stream(stream, data);
        }
        let (sequence, checksum) = self.read_signature(message)?;
        for buffer in writable_data(message) {
            self.incoming.seal.apply_keystream(buffer.as_mut_slice());
        }
        let mac = self.incoming.mac(sequence, message);
        if let Err(error) = self.check_checksum(mac, sequence, checksum, SEAL_MISMATCH) {
            for buffer in writable_data(message) {
                buffer.as_mut_slice().fill(0);
            }
            return Err(error);
        }
        Ok(Qop::DEFAULT)
    }
}

impl SessionSecurity {
    /// DecryptMessage `[STREAM, DATA]`: signature | sealed data in STREAM,
    /// opened in place; DATA is pointed at the plaintext.
    fn decrypt_stream<'a>(
        &mut self,
        stream: &mut SecBuffer<'a>,
        data: &mut SecBuffer<'a>,
    ) -> Result<Qop, MessageError> {
        let bytes = stream.as_mut_slice();
        if bytes.len() < SIGNATURE_LEN {
            return Err(STREAM_INCOMPLETE);
        }
        let (signature, sealed) = bytes.split_at_mut(SIGNATURE_LEN);
        let (sequence, checksum) = self.parse_signature(signature)?;
        self.incoming.seal.apply_keystream(sealed);
        let mac = self.incoming.mac_of(sequence, std::iter::once(&*sealed));
        if let Err(error) = self.check_checksum(mac, sequence, checksum, SEAL_MISMATCH) {
            sealed.fill(0);
            return Err(error);
        }
        let end = bytes.len();
        stream.hand_over(SIGNATURE_LEN..end, data);
        Ok(Qop::DEFAULT)
    }
}

fn writable_data<'m, 'a>(
    message: &'m mut [SecBuffer<'a>],
) -> impl Iterator<Item = &'m mut SecBuffer<'a>> {
    message
        .iter_mut()
        .filter(|b| b.kind() == SecBufferType::DATA && !b.buffer_type().is_readonly())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 16] = [0x55; 16];
    const FLAGS: u32 = flags::SIGN | flags::SEAL | flags::KEY_EXCH | flags::NEGOTIATE_128;

    fn sign(sender: &mut SessionSecurity) -> Result<[u8; 16], MessageError> {
        let mut data = *b"data";
        let mut token = [0u8; 16];
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
        sender.make_signature(Qop::DEFAULT, &mut message)?;
        Ok(token)
    }

    fn verify(receiver: &mut SessionSecurity, token: [u8; 16]) -> Result<Qop, MessageError> {
        let mut data = *b"data";
        let mut token = token;
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
        receiver.verify_signature(&mut message)
    }

    #[test]
    fn the_32_bit_sequence_runs_to_its_last_number_then_expires() {
        let last = u64::from(u32::MAX);
        let mut client = SessionSecurity::client(&KEY, FLAGS);
        client.sequence = SequenceNumbers::new(last - 1, 0, last);
        let mut server = SessionSecurity::server(&KEY, FLAGS);
        server.sequence = SequenceNumbers::new(0, last - 1, last);

        let second_last = sign(&mut client).unwrap();
        assert_eq!(second_last[12..], (u32::MAX - 1).to_le_bytes());
        let very_last = sign(&mut client).unwrap();
        assert_eq!(very_last[12..], u32::MAX.to_le_bytes(), "u32::MAX is used");
        let spent = sign(&mut client).unwrap_err();
        assert_eq!(spent.status(), SecurityStatus::SEC_E_CONTEXT_EXPIRED);

        assert_eq!(verify(&mut server, second_last), Ok(Qop::DEFAULT));
        assert_eq!(verify(&mut server, very_last), Ok(Qop::DEFAULT));
        // Nothing after u32::MAX is accepted, not even a wrapped number 0.
        let wrapped = {
            let mut fresh = SessionSecurity::client(&KEY, FLAGS);
            sign(&mut fresh).unwrap()
        };
        let e = verify(&mut server, wrapped).unwrap_err();
        assert_eq!(e.status(), SecurityStatus::SEC_E_CONTEXT_EXPIRED);
    }

    /// EncryptMessage `[TOKEN, DATA]`, as one wire message: signature | sealed data.
    fn wrap(sender: &mut SessionSecurity, plain: &[u8]) -> Vec<u8> {
        let mut data = plain.to_vec();
        let mut token = [0u8; 16];
        let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
        sender.encrypt_message(Qop::DEFAULT, &mut message).unwrap();
        [&token[..], &data].concat()
    }

    /// DecryptMessage `[STREAM, DATA]`: the plaintext DATA points at, and its
    /// offset in the stream.
    fn unwrap_stream(
        receiver: &mut SessionSecurity,
        wire: &[u8],
    ) -> Result<(Vec<u8>, usize), MessageError> {
        let mut stream = wire.to_vec();
        let base = stream.as_ptr() as usize;
        let mut message = [
            SecBuffer::new(SecBufferType::STREAM, &mut stream),
            SecBuffer::data(&mut []),
        ];
        receiver.decrypt_message(&mut message)?;
        let plain = message[1].as_slice();
        Ok((plain.to_vec(), plain.as_ptr() as usize - base))
    }

    #[test]
    fn a_stream_message_opens_in_place_and_data_points_at_it() {
        let mut client = SessionSecurity::client(&KEY, FLAGS);
        let mut server = SessionSecurity::server(&KEY, FLAGS);
        for text in [&b""[..], b"a", b"signature then sealed data"] {
            let wire = wrap(&mut client, text);
            assert_eq!(unwrap_stream(&mut server, &wire), Ok((text.to_vec(), 16)));
        }
        // The split form goes on with the same keystream.
        let wire = wrap(&mut client, b"split");
        let (mut token, mut data) = (wire[..16].to_vec(), wire[16..].to_vec());
        let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
        assert_eq!(server.decrypt_message(&mut message), Ok(Qop::DEFAULT));
        assert_eq!(data, b"split");
    }

    #[test]
    fn short_long_and_altered_streams_are_refused() {
        let mut client = SessionSecurity::client(&KEY, FLAGS);
        let wire = wrap(&mut client, b"message");
        for cut in 0..16 {
            let mut server = SessionSecurity::server(&KEY, FLAGS);
            let e = unwrap_stream(&mut server, &wire[..cut]).unwrap_err();
            assert_eq!(
                e.status(),
                SecurityStatus::SEC_E_INCOMPLETE_MESSAGE,
                "{cut}"
            );
        }
        let mut server = SessionSecurity::server(&KEY, FLAGS);
        let e = unwrap_stream(&mut server, &wire[..20]).unwrap_err();
        assert_eq!(e, SEAL_MISMATCH, "data missing");
        let mut server = SessionSecurity::server(&KEY, FLAGS);
        let e = unwrap_stream(&mut server, &[&wire[..], b"+"].concat()).unwrap_err();
        assert_eq!(e, SEAL_MISMATCH, "data added");
        for at in 0..wire.len() {
            let mut bad = wire.clone();
            bad[at] ^= 0x04;
            let mut server = SessionSecurity::server(&KEY, FLAGS);
            let e = unwrap_stream(&mut server, &bad).unwrap_err();
            let expected = match at {
                0..4 => SecurityStatus::SEC_E_INVALID_TOKEN,
                12..16 => SecurityStatus::SEC_E_OUT_OF_SEQUENCE,
                _ => SecurityStatus::SEC_E_MESSAGE_ALTERED,
            };
            assert_eq!(e.status(), expected, "byte {at}");
        }
        // A refused message's plaintext is zeroed in the stream.
        let mut bad = wire.clone();
        bad[20] ^= 1;
        let mut server = SessionSecurity::server(&KEY, FLAGS);
        let mut message = [
            SecBuffer::new(SecBufferType::STREAM, &mut bad),
            SecBuffer::data(&mut []),
        ];
        assert_eq!(server.decrypt_message(&mut message), Err(SEAL_MISMATCH));
        assert!(message[1].is_empty());
        assert!(bad[16..].iter().all(|&b| b == 0));
    }

    #[test]
    fn a_signature_verifies_from_a_stream_buffer() {
        let mut client = SessionSecurity::client(&KEY, FLAGS);
        let mut server = SessionSecurity::server(&KEY, FLAGS);
        let mut signature = sign(&mut client).unwrap();
        let mut data = *b"data";
        let mut message = [
            SecBuffer::data(&mut data),
            SecBuffer::new(SecBufferType::STREAM, &mut signature),
        ];
        assert_eq!(server.verify_signature(&mut message), Ok(Qop::DEFAULT));
    }

    #[test]
    fn signing_needs_the_negotiated_flag() {
        let mut unsigned = SessionSecurity::client(&KEY, flags::NEGOTIATE_128);
        let e = sign(&mut unsigned).unwrap_err();
        assert_eq!(e.status(), SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION);
        assert_eq!(
            e.reason(),
            "signing (NTLMSSP_NEGOTIATE_SIGN) was not negotiated"
        );
    }
}
