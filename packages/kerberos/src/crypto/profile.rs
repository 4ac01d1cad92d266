//! The per-usage keys of the AES etypes, derived once: Ke (encryption), Ki
//! (integrity of the ciphertext) and Kc (keyed checksums, MIC tokens).
//!
//! * RFC 3962 (17, 18): DK(key, usage | AA/55/99); ciphertext
//!   AES-CTS(Ke, confounder | plaintext) | HMAC-SHA1(Ki, confounder | plaintext)[..12].
//! * RFC 8009 (19, 20): KDF-HMAC-SHA2(key, usage | AA/55/99, k); ciphertext
//!   C = AES-CTS(Ke, confounder | plaintext), then HMAC-SHA-256/384(Ki, IV | C)
//!   truncated to 16/24 bytes, IV the cipher state (16 zero bytes).
//!
//! picky-krb's `Cipher` does the RFC 3962 part per call, but re-derives the
//! keys on every call, allocates several copies of the message and compares
//! HMACs with `!=`; here encryption works in place over [`Segments`],
//! allocates nothing, and checks MACs in constant time.

use super::cts::{self, AesCipher, Segments};
use super::dk::derive_key;
use super::etype::{Etype, HashKind};
use super::kdf::{AnyHmac, Tag, kdf_hmac_sha2};
use super::key::Key;
use super::{CryptoError, constant_time_eq};
use zeroize::Zeroizing;

pub use super::kdf::HmacSha1;

/// The length of the random confounder prepended to every plaintext.
pub const CONFOUNDER_LEN: usize = 16;

/// The RFC 8009 cipher state fed to the HMAC before the ciphertext.
const ZERO_IV: [u8; 16] = [0; 16];

/// Ke, Ki and Kc of one key and key usage.
pub struct UsageKeys {
    etype: Etype,
    ke: AesCipher,
    ki: AnyHmac,
    kc: AnyHmac,
}

impl UsageKeys {
    /// Derives the keys of `key` for `usage`.
    pub fn new(key: &Key, usage: i32) -> Result<UsageKeys, CryptoError> {
        let etype = key.etype();
        let constant = |suffix: u8| {
            let mut c = [0u8; 5];
            c[..4].copy_from_slice(&usage.to_be_bytes());
            c[4] = suffix;
            c
        };
        let derive = |suffix: u8, len: usize| -> Result<Zeroizing<Vec<u8>>, CryptoError> {
            match etype.hash() {
                HashKind::Sha1 => {
                    derive_key(key.bytes(), &constant(suffix)).map_err(|_| CryptoError::BadKey)
                }
                hash => {
                    let mut out = Zeroizing::new(vec![0u8; len]);
                    kdf_hmac_sha2(hash, key.bytes(), &constant(suffix), &[], &mut out)?;
                    Ok(out)
                }
            }
        };
        let ke = derive(0xAA, etype.key_len())?;
        let ki = derive(0x55, etype.mac_len())?;
        let kc = derive(0x99, etype.mac_len())?;
        Ok(UsageKeys {
            etype,
            ke: AesCipher::new(&ke).ok_or(CryptoError::BadKey)?,
            ki: AnyHmac::new(etype.hash(), &ki)?,
            kc: AnyHmac::new(etype.hash(), &kc)?,
        })
    }

    /// The etype of these keys.
    pub fn etype(&self) -> Etype {
        self.etype
    }

    /// The length of the MACs and checksums: 12, 16 or 24 bytes.
    pub fn mac_len(&self) -> usize {
        self.etype.mac_len()
    }

    /// Encrypts in place: `data` holds confounder | plaintext (at least the
    /// 16-byte confounder); returns the HMAC to append ([`UsageKeys::mac_len`] bytes).
    pub fn encrypt_in_place(&self, data: &mut Segments<'_>) -> Tag {
        let mut mac = self.ki.clone();
        if self.etype.is_sha2() {
            cts::encrypt(&self.ke, data);
            mac.update(&ZERO_IV);
            for part in data.parts() {
                mac.update(part);
            }
        } else {
            for part in data.parts() {
                mac.update(part);
            }
            cts::encrypt(&self.ke, data);
        }
        Tag::of(mac, self.mac_len())
    }

    /// Decrypts in place and checks `mac` (constant time). On failure the
    /// data holds garbage (or, for RFC 8009, the untouched ciphertext) the
    /// caller must not release.
    pub fn decrypt_in_place(&self, data: &mut Segments<'_>, mac: &[u8]) -> Result<(), CryptoError> {
        if data.len() < CONFOUNDER_LEN || mac.len() != self.mac_len() {
            return Err(CryptoError::Truncated);
        }
        let mut check = self.ki.clone();
        if self.etype.is_sha2() {
            // Encrypt-then-MAC: check before decrypting.
            check.update(&ZERO_IV);
            for part in data.parts() {
                check.update(part);
            }
            if !constant_time_eq(&Tag::of(check, self.mac_len()), mac) {
                return Err(CryptoError::Integrity);
            }
            cts::decrypt(&self.ke, data);
            return Ok(());
        }
        cts::decrypt(&self.ke, data);
        for part in data.parts() {
            check.update(part);
        }
        if constant_time_eq(&Tag::of(check, self.mac_len()), mac) {
            Ok(())
        } else {
            Err(CryptoError::Integrity)
        }
    }

    /// The keyed checksum (Kc) over the concatenation of `chunks`
    /// ([`UsageKeys::mac_len`] bytes).
    pub fn checksum<'c>(&self, chunks: impl IntoIterator<Item = &'c [u8]>) -> Tag {
        let mut mac = self.kc.clone();
        for chunk in chunks {
            mac.update(chunk);
        }
        Tag::of(mac, self.mac_len())
    }

    /// Encrypts `plain` with a fresh confounder: confounder | plaintext
    /// encrypted, then the HMAC (the RFC 3961 ciphertext).
    pub fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut confounder = [0u8; CONFOUNDER_LEN];
        super::random(&mut confounder)?;
        Ok(self.encrypt_with_confounder(&confounder, plain))
    }

    /// Encrypts `plain` with the given confounder (known-answer tests; use
    /// [`UsageKeys::encrypt`] otherwise).
    pub fn encrypt_with_confounder(
        &self,
        confounder: &[u8; CONFOUNDER_LEN],
        plain: &[u8],
    ) -> Vec<u8> {
        let mac_len = self.mac_len();
        let mut out = vec![0u8; CONFOUNDER_LEN + plain.len() + mac_len];
        out[..CONFOUNDER_LEN].copy_from_slice(confounder);
        out[CONFOUNDER_LEN..CONFOUNDER_LEN + plain.len()].copy_from_slice(plain);
        let body_len = CONFOUNDER_LEN + plain.len();
        let (body, mac_out) = out.split_at_mut(body_len);
        let mac = self.encrypt_in_place(&mut Segments::single(body));
        mac_out.copy_from_slice(&mac);
        out
    }

    /// Decrypts an RFC 3961 ciphertext; returns the plaintext (wiped on drop).
    pub fn decrypt(&self, cipher: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let mac_len = self.mac_len();
        if cipher.len() < CONFOUNDER_LEN + mac_len {
            return Err(CryptoError::Truncated);
        }
        let (body, mac) = cipher.split_at(cipher.len() - mac_len);
        let mut plain = Zeroizing::new(body.to_vec());
        self.decrypt_in_place(&mut Segments::single(&mut plain), mac)?;
        plain.drain(..CONFOUNDER_LEN);
        Ok(plain)
    }
}
