//! Per-message protection of an established context (MS-NLMP 3.4 with
//! extended session security): MakeSignature / VerifySignature and
//! EncryptMessage / DecryptMessage, in place on the caller's buffers, with no
//! allocation.
//!
//! ```text
//! signature (16 bytes): Version u32 LE = 1 | Checksum [8] | SeqNum u32 LE
//! Checksum = HMAC_MD5(SigningKey, SeqNum || every DATA buffer)[0..8],
//!            then RC4 with the direction's sealing handle when KEY_EXCH was negotiated
//! sealing:   every writable DATA buffer is RC4-encrypted with the same handle,
//!            before the checksum (the MAC covers the plaintext)
//! ```
//! One RC4 handle and one sequence counter per direction, both continuing
//! across MakeSignature and EncryptMessage calls (connection mode: the
//! caller's MessageSeqNo is ignored). A message whose SeqNum is not the
//! expected one is SEC_E_OUT_OF_SEQUENCE and changes nothing; one whose
//! checksum does not match is SEC_E_MESSAGE_ALTERED and consumes its
//! sequence number and keystream like the sender did, so a connection whose
//! message was corrupted in transit stays in step.

use crate::crypto::{
    self, CLIENT_SEAL_MAGIC, CLIENT_SIGN_MAGIC, HmacMd5, SERVER_SEAL_MAGIC, SERVER_SIGN_MAGIC,
};
use crate::messages::flags;
use hmac::Mac;
use rc4::{Rc4, StreamCipher};
use sspi_core::{SecBuffer, SecBufferType, SecBuffers, SecurityStatus, TimeStamp};

/// `cbMaxSignature` and `cbSecurityTrailer`.
pub const SIGNATURE_LEN: usize = 16;
const VERSION: [u8; 4] = 1u32.to_le_bytes();

/// Which side of the connection a context is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// InitializeSecurityContext.
    Client,
    /// AcceptSecurityContext.
    Server,
}

/// One direction's keys and counter.
pub struct Direction {
    sign: HmacMd5,
    seal: Rc4,
    sequence: u32,
}

impl Direction {
    fn new(exported_session_key: &[u8; 16], negotiated: u32, sign: &[u8], seal: &[u8]) -> Self {
        let sign_key = crypto::sign_key(exported_session_key, sign);
        let seal_key = crypto::seal_key(exported_session_key, negotiated, seal);
        Self {
            sign: crypto::hmac_md5(sign_key.as_ref()),
            seal: crypto::rc4(seal_key.as_ref()),
            sequence: 0,
        }
    }

    /// HMAC_MD5(SigningKey, SeqNum || DATA...)[0..8], before RC4.
    fn mac(&self, sequence: u32, message: &[SecBuffer<'_>]) -> HmacMd5 {
        let mut mac = self.sign.clone();
        mac.update(&sequence.to_le_bytes());
        for buffer in message.iter().filter(|b| b.kind() == SecBufferType::DATA) {
            mac.update(buffer.as_slice());
        }
        mac
    }
}

/// The per-message state of an established context.
pub struct Protection {
    outgoing: Direction,
    incoming: Direction,
    negotiated: u32,
    expiry: TimeStamp,
}

impl Protection {
    /// Keys for `side` from the exported session key and the negotiated flags.
    pub fn new(
        side: Side,
        exported_session_key: &[u8; 16],
        negotiated: u32,
        expiry: TimeStamp,
    ) -> Self {
        let client = Direction::new(
            exported_session_key,
            negotiated,
            CLIENT_SIGN_MAGIC,
            CLIENT_SEAL_MAGIC,
        );
        let server = Direction::new(
            exported_session_key,
            negotiated,
            SERVER_SIGN_MAGIC,
            SERVER_SEAL_MAGIC,
        );
        let (outgoing, incoming) = match side {
            Side::Client => (client, server),
            Side::Server => (server, client),
        };
        Self {
            outgoing,
            incoming,
            negotiated,
            expiry,
        }
    }

    fn check(&self, needed: u32) -> Result<(), SecurityStatus> {
        if self.negotiated & needed != needed {
            return Err(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION);
        }
        if TimeStamp::now() > self.expiry {
            return Err(SecurityStatus::SEC_E_CONTEXT_EXPIRED);
        }
        Ok(())
    }

    fn key_exch(&self) -> bool {
        self.negotiated & flags::KEY_EXCH != 0
    }

    fn next_outgoing(&mut self) -> Result<u32, SecurityStatus> {
        let sequence = self.outgoing.sequence;
        self.outgoing.sequence = sequence
            .checked_add(1)
            .ok_or(SecurityStatus::SEC_E_CONTEXT_EXPIRED)?;
        Ok(sequence)
    }

    /// Consumes the expected incoming sequence number.
    fn consume_incoming(&mut self) {
        self.incoming.sequence = self.incoming.sequence.wrapping_add(1);
    }

    /// Finishes the outgoing checksum and writes the 16-byte signature to the TOKEN buffer.
    fn write_signature(
        &mut self,
        mac: HmacMd5,
        sequence: u32,
        message: &mut [SecBuffer<'_>],
    ) -> Result<(), SecurityStatus> {
        let digest = mac.finalize().into_bytes();
        let mut checksum = [0u8; 8];
        checksum.copy_from_slice(&digest[..8]);
        if self.key_exch() {
            self.outgoing.seal.apply_keystream(&mut checksum);
        }
        let token = message.token_mut()?;
        let out = token
            .as_mut_slice()
            .get_mut(..SIGNATURE_LEN)
            .ok_or(SecurityStatus::SEC_E_BUFFER_TOO_SMALL)?;
        out[..4].copy_from_slice(&VERSION);
        out[4..12].copy_from_slice(&checksum);
        out[12..].copy_from_slice(&sequence.to_le_bytes());
        token.truncate(SIGNATURE_LEN);
        Ok(())
    }

    /// Reads the received signature and checks its version and sequence number.
    fn read_signature(&self, message: &[SecBuffer<'_>]) -> Result<[u8; 8], SecurityStatus> {
        let token = message
            .iter()
            .find(|b| b.kind() == SecBufferType::TOKEN)
            .ok_or(SecurityStatus::SEC_E_INVALID_TOKEN)?
            .as_slice();
        let signature: [u8; SIGNATURE_LEN] = token
            .try_into()
            .map_err(|_| SecurityStatus::SEC_E_INVALID_TOKEN)?;
        if signature[..4] != VERSION {
            return Err(SecurityStatus::SEC_E_INVALID_TOKEN);
        }
        let sequence =
            u32::from_le_bytes([signature[12], signature[13], signature[14], signature[15]]);
        if sequence != self.incoming.sequence {
            return Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE);
        }
        let mut checksum = [0u8; 8];
        checksum.copy_from_slice(&signature[4..12]);
        Ok(checksum)
    }

    /// Decrypts the received checksum and compares it, in constant time, with `mac`.
    fn check_checksum(
        &mut self,
        mac: HmacMd5,
        mut checksum: [u8; 8],
    ) -> Result<(), SecurityStatus> {
        if self.key_exch() {
            self.incoming.seal.apply_keystream(&mut checksum);
        }
        self.consume_incoming();
        mac.verify_truncated_left(&checksum)
            .map_err(|_| SecurityStatus::SEC_E_MESSAGE_ALTERED)
    }

    /// MakeSignature.
    pub fn make_signature(
        &mut self,
        qop: u32,
        message: &mut [SecBuffer<'_>],
    ) -> Result<(), SecurityStatus> {
        if qop != 0 {
            return Err(SecurityStatus::SEC_E_QOP_NOT_SUPPORTED);
        }
        self.check(flags::SIGN)?;
        if message.token_mut()?.len() < SIGNATURE_LEN {
            return Err(SecurityStatus::SEC_E_BUFFER_TOO_SMALL);
        }
        let sequence = self.next_outgoing()?;
        let mac = self.outgoing.mac(sequence, message);
        self.write_signature(mac, sequence, message)
    }

    /// VerifySignature.
    pub fn verify_signature(
        &mut self,
        message: &mut [SecBuffer<'_>],
    ) -> Result<u32, SecurityStatus> {
        self.check(flags::SIGN)?;
        let checksum = self.read_signature(message)?;
        let mac = self.incoming.mac(self.incoming.sequence, message);
        self.check_checksum(mac, checksum)?;
        Ok(0)
    }

    /// EncryptMessage: seals every writable DATA buffer in place (READONLY ones
    /// are only signed) and writes the signature to the TOKEN buffer.
    pub fn encrypt_message(
        &mut self,
        qop: u32,
        message: &mut [SecBuffer<'_>],
    ) -> Result<(), SecurityStatus> {
        if qop != 0 {
            return Err(SecurityStatus::SEC_E_QOP_NOT_SUPPORTED);
        }
        self.check(flags::SEAL)?;
        if message.token_mut()?.len() < SIGNATURE_LEN {
            return Err(SecurityStatus::SEC_E_BUFFER_TOO_SMALL);
        }
        let sequence = self.next_outgoing()?;
        let mac = self.outgoing.mac(sequence, message);
        for buffer in writable_data(message) {
            self.outgoing.seal.apply_keystream(buffer.as_mut_slice());
        }
        self.write_signature(mac, sequence, message)
    }

    /// DecryptMessage: opens every writable DATA buffer in place and checks the
    /// signature over the plaintext. On SEC_E_MESSAGE_ALTERED the buffers are
    /// zeroed: unauthenticated plaintext is never handed out.
    pub fn decrypt_message(
        &mut self,
        message: &mut [SecBuffer<'_>],
    ) -> Result<u32, SecurityStatus> {
        self.check(flags::SEAL)?;
        let checksum = self.read_signature(message)?;
        for buffer in writable_data(message) {
            self.incoming.seal.apply_keystream(buffer.as_mut_slice());
        }
        let mac = self.incoming.mac(self.incoming.sequence, message);
        if let Err(status) = self.check_checksum(mac, checksum) {
            for buffer in writable_data(message) {
                buffer.as_mut_slice().fill(0);
            }
            return Err(status);
        }
        Ok(0)
    }
}

fn writable_data<'m, 'a>(
    message: &'m mut [SecBuffer<'a>],
) -> impl Iterator<Item = &'m mut SecBuffer<'a>> {
    message
        .iter_mut()
        .filter(|b| b.kind() == SecBufferType::DATA && !b.buffer_type().is_readonly())
}
