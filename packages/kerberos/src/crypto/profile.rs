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
use super::kdf::{AnyHmac, Tag, kdf_with};
use super::key::Key;
use super::{CryptoError, constant_time_eq};
use zeroize::Zeroizing;

pub use super::kdf::HmacSha1;

/// The length of the random confounder prepended to every plaintext.
pub const CONFOUNDER_LEN: usize = 16;

/// The RFC 8009 cipher state fed to the HMAC before the ciphertext.
const ZERO_IV: [u8; 16] = [0; 16];

/// Derives key usages' keys from one base key: DK for RFC 3962, and for
/// RFC 8009 KDF-HMAC-SHA2 with the base key's HMAC keyed once (each key
/// then costs two hash blocks, not four). Derive all of a key's usages with
/// one deriver.
pub struct Deriver<'k>(Base<'k>);

/// What a [`Deriver`] derives from. (A short-lived value on the stack:
/// boxing the keyed HMAC would allocate for each deriver.)
#[allow(clippy::large_enum_variant)]
enum Base<'k> {
    /// RFC 3962: the base key's bytes, for DK.
    Dk(&'k [u8]),
    /// RFC 8009: HMAC-SHA-256/384 keyed with the base key.
    Kdf(AnyHmac),
}

/// The longest derived key (Ke of the 256-bit etypes).
const MAX_DERIVED: usize = 32;

impl<'k> Deriver<'k> {
    /// A deriver for `key`.
    pub fn new(key: &'k Key) -> Result<Self, CryptoError> {
        Ok(Deriver(match key.etype().hash() {
            HashKind::Sha1 => Base::Dk(key.bytes()),
            hash => Base::Kdf(AnyHmac::new(hash, key.bytes())?),
        }))
    }

    /// The key of `usage` and `suffix` (0xAA Ke, 0x55 Ki, 0x99 Kc), handed to
    /// `keyed` (and wiped afterwards): `len` bytes for RFC 8009 (the key or
    /// MAC length), the base key's length for RFC 3962.
    fn derive<T>(
        &self,
        usage: i32,
        suffix: u8,
        len: usize,
        keyed: impl FnOnce(&[u8]) -> Result<T, CryptoError>,
    ) -> Result<T, CryptoError> {
        let mut constant = [0u8; 5];
        constant[..4].copy_from_slice(&usage.to_be_bytes());
        constant[4] = suffix;
        match &self.0 {
            // RFC 3962: every derived key is as long as the base key.
            Base::Dk(base) => {
                let derived = derive_key(base, &constant).map_err(|_| CryptoError::BadKey)?;
                keyed(&derived)
            }
            Base::Kdf(base) => {
                let mut out = Zeroizing::new([0u8; MAX_DERIVED]);
                let out = out.get_mut(..len).ok_or(CryptoError::BadKey)?;
                kdf_with(base.clone(), &constant, &[], out)?;
                keyed(out)
            }
        }
    }

    /// Ke, Ki and Kc of `usage`.
    pub fn usage_keys(&self, etype: Etype, usage: i32) -> Result<UsageKeys, CryptoError> {
        Ok(UsageKeys {
            encryption: self.encryption(etype, usage)?,
            checksum: self.checksum(etype, usage)?,
        })
    }

    /// Ke and Ki of `usage`.
    pub fn encryption(&self, etype: Etype, usage: i32) -> Result<EncryptionKeys, CryptoError> {
        Ok(EncryptionKeys {
            etype,
            ke: self.derive(usage, 0xAA, etype.key_len(), |k| {
                AesCipher::new(k).ok_or(CryptoError::BadKey)
            })?,
            ki: self.derive(usage, 0x55, etype.mac_len(), |k| {
                AnyHmac::new(etype.hash(), k)
            })?,
        })
    }

    /// Kc of `usage`.
    pub fn checksum(&self, etype: Etype, usage: i32) -> Result<ChecksumKey, CryptoError> {
        Ok(ChecksumKey {
            etype,
            kc: self.derive(usage, 0x99, etype.mac_len(), |k| {
                AnyHmac::new(etype.hash(), k)
            })?,
        })
    }
}

/// Ke and Ki of one key and key usage: RFC 3961 encryption.
pub struct EncryptionKeys {
    etype: Etype,
    ke: AesCipher,
    ki: AnyHmac,
}

/// Kc of one key and key usage: keyed checksums (MIC tokens, unsealed wraps).
pub struct ChecksumKey {
    etype: Etype,
    kc: AnyHmac,
}

/// Ke, Ki and Kc of one key and key usage (wrap tokens, sealed or not).
pub struct UsageKeys {
    encryption: EncryptionKeys,
    checksum: ChecksumKey,
}

impl UsageKeys {
    /// Derives the keys of `key` for `usage`.
    pub fn new(key: &Key, usage: i32) -> Result<UsageKeys, CryptoError> {
        Deriver::new(key)?.usage_keys(key.etype(), usage)
    }

    /// The encryption keys (Ke, Ki).
    pub fn encryption(&self) -> &EncryptionKeys {
        &self.encryption
    }

    /// The checksum key (Kc).
    pub fn checksum_key(&self) -> &ChecksumKey {
        &self.checksum
    }

    /// The etype of these keys.
    pub fn etype(&self) -> Etype {
        self.encryption.etype
    }

    /// The length of the MACs and checksums: 12, 16 or 24 bytes.
    pub fn mac_len(&self) -> usize {
        self.encryption.mac_len()
    }

    /// [`EncryptionKeys::encrypt_in_place`].
    pub fn encrypt_in_place(&self, data: &mut Segments<'_>) -> Tag {
        self.encryption.encrypt_in_place(data)
    }

    /// [`EncryptionKeys::decrypt_in_place`].
    pub fn decrypt_in_place(&self, data: &mut Segments<'_>, mac: &[u8]) -> Result<(), CryptoError> {
        self.encryption.decrypt_in_place(data, mac)
    }

    /// [`ChecksumKey::checksum`].
    pub fn checksum<'c>(&self, chunks: impl IntoIterator<Item = &'c [u8]>) -> Tag {
        self.checksum.checksum(chunks)
    }

    /// [`EncryptionKeys::encrypt`].
    pub fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.encryption.encrypt(plain)
    }

    /// [`EncryptionKeys::encrypt_with_confounder`].
    pub fn encrypt_with_confounder(
        &self,
        confounder: &[u8; CONFOUNDER_LEN],
        plain: &[u8],
    ) -> Vec<u8> {
        self.encryption.encrypt_with_confounder(confounder, plain)
    }

    /// [`EncryptionKeys::decrypt`].
    pub fn decrypt(&self, cipher: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        self.encryption.decrypt(cipher)
    }
}

impl ChecksumKey {
    /// Derives Kc of `key` for `usage`.
    pub fn new(key: &Key, usage: i32) -> Result<ChecksumKey, CryptoError> {
        Deriver::new(key)?.checksum(key.etype(), usage)
    }

    /// The checksum's length: 12, 16 or 24 bytes.
    pub fn mac_len(&self) -> usize {
        self.etype.mac_len()
    }

    /// The keyed checksum (Kc) over the concatenation of `chunks`
    /// ([`ChecksumKey::mac_len`] bytes).
    pub fn checksum<'c>(&self, chunks: impl IntoIterator<Item = &'c [u8]>) -> Tag {
        let mut mac = self.kc.clone();
        for chunk in chunks {
            mac.update(chunk);
        }
        Tag::of(mac, self.mac_len())
    }
}

impl EncryptionKeys {
    /// Derives Ke and Ki of `key` for `usage`.
    pub fn new(key: &Key, usage: i32) -> Result<EncryptionKeys, CryptoError> {
        Deriver::new(key)?.encryption(key.etype(), usage)
    }

    /// The etype of these keys.
    pub fn etype(&self) -> Etype {
        self.etype
    }

    /// The length of the MACs: 12, 16 or 24 bytes.
    pub fn mac_len(&self) -> usize {
        self.etype.mac_len()
    }

    /// Encrypts in place: `data` holds confounder | plaintext (at least the
    /// 16-byte confounder); returns the HMAC to append ([`EncryptionKeys::mac_len`] bytes).
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

    /// Encrypts `plain` with a fresh confounder: confounder | plaintext
    /// encrypted, then the HMAC (the RFC 3961 ciphertext).
    pub fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut confounder = [0u8; CONFOUNDER_LEN];
        super::random(&mut confounder)?;
        Ok(self.encrypt_with_confounder(&confounder, plain))
    }

    /// Encrypts `plain` with the given confounder (known-answer tests; use
    /// [`EncryptionKeys::encrypt`] otherwise).
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
