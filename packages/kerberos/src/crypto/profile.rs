//! The RFC 3961 simplified profile for the AES-SHA1 etypes with the three
//! keys of one key usage derived once: Ke (encryption), Ki (integrity of
//! ciphertext) and Kc (keyed checksums, MIC tokens).
//!
//! picky-krb's `Cipher` does the same per call, but re-derives the keys on
//! every call, allocates several copies of the message and compares HMACs
//! with `!=`; here encryption works in place over [`Segments`], allocates
//! nothing, and checks MACs in constant time.

use super::cts::{self, AesCipher, Segments};
use super::dk::derive_key;
use super::key::Key;
use super::{CryptoError, MAC_LEN, constant_time_eq};
use hmac::{KeyInit, Mac};
use zeroize::Zeroizing;

/// HMAC-SHA1 with its key (its state is wiped on drop).
pub type HmacSha1 = hmac::Hmac<sha1::Sha1>;

/// The length of the random confounder prepended to every plaintext.
pub const CONFOUNDER_LEN: usize = 16;

/// Ke, Ki and Kc of one key and key usage.
pub struct UsageKeys {
    ke: AesCipher,
    ki: HmacSha1,
    kc: HmacSha1,
}

impl UsageKeys {
    /// Derives the keys of `key` for `usage`.
    pub fn new(key: &Key, usage: i32) -> Result<UsageKeys, CryptoError> {
        let derive = |suffix: u8| -> Result<Zeroizing<Vec<u8>>, CryptoError> {
            let mut constant = [0u8; 5];
            constant[..4].copy_from_slice(&usage.to_be_bytes());
            constant[4] = suffix;
            derive_key(key.bytes(), &constant)
        };
        let ke = derive(0xAA)?;
        let ki = derive(0x55)?;
        let kc = derive(0x99)?;
        Ok(UsageKeys {
            ke: AesCipher::new(&ke).ok_or(CryptoError::BadKey)?,
            ki: <HmacSha1 as KeyInit>::new_from_slice(&ki).map_err(|_| CryptoError::BadKey)?,
            kc: <HmacSha1 as KeyInit>::new_from_slice(&kc).map_err(|_| CryptoError::BadKey)?,
        })
    }

    /// Encrypts in place: `data` holds confounder | plaintext (at least the
    /// 16-byte confounder); returns the 12-byte HMAC to append.
    pub fn encrypt_in_place(&self, data: &mut Segments<'_>) -> [u8; MAC_LEN] {
        let mut mac = self.ki.clone();
        for part in data.parts() {
            mac.update(part);
        }
        cts::encrypt(&self.ke, data);
        truncate(mac)
    }

    /// Decrypts in place and checks `mac` (constant time). On failure the
    /// data holds garbage the caller must not release.
    pub fn decrypt_in_place(&self, data: &mut Segments<'_>, mac: &[u8]) -> Result<(), CryptoError> {
        if data.len() < CONFOUNDER_LEN || mac.len() != MAC_LEN {
            return Err(CryptoError::Truncated);
        }
        cts::decrypt(&self.ke, data);
        let mut check = self.ki.clone();
        for part in data.parts() {
            check.update(part);
        }
        if constant_time_eq(&truncate(check), mac) {
            Ok(())
        } else {
            Err(CryptoError::Integrity)
        }
    }

    /// The keyed checksum (Kc) over the concatenation of `chunks`.
    pub fn checksum<'c>(&self, chunks: impl IntoIterator<Item = &'c [u8]>) -> [u8; MAC_LEN] {
        let mut mac = self.kc.clone();
        for chunk in chunks {
            mac.update(chunk);
        }
        truncate(mac)
    }

    /// Encrypts `plain` with a fresh confounder: confounder | plaintext
    /// encrypted, then the HMAC (the RFC 3961 ciphertext).
    pub fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = vec![0u8; CONFOUNDER_LEN + plain.len() + MAC_LEN];
        super::random(&mut out[..CONFOUNDER_LEN])?;
        out[CONFOUNDER_LEN..CONFOUNDER_LEN + plain.len()].copy_from_slice(plain);
        let body_len = CONFOUNDER_LEN + plain.len();
        let (body, mac_out) = out.split_at_mut(body_len);
        let mac = self.encrypt_in_place(&mut Segments::single(body));
        mac_out.copy_from_slice(&mac);
        Ok(out)
    }

    /// Decrypts an RFC 3961 ciphertext; returns the plaintext (wiped on drop).
    pub fn decrypt(&self, cipher: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if cipher.len() < CONFOUNDER_LEN + MAC_LEN {
            return Err(CryptoError::Truncated);
        }
        let (body, mac) = cipher.split_at(cipher.len() - MAC_LEN);
        let mut plain = Zeroizing::new(body.to_vec());
        self.decrypt_in_place(&mut Segments::single(&mut plain), mac)?;
        plain.drain(..CONFOUNDER_LEN);
        Ok(plain)
    }
}

fn truncate(mac: HmacSha1) -> [u8; MAC_LEN] {
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; MAC_LEN];
    out.copy_from_slice(&full[..MAC_LEN]);
    out
}
