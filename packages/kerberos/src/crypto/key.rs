//! Keys: an etype and its key bytes, wiped on drop and never printed.

use super::etype::Etype;
use super::kdf::{Tag, kdf_hmac_sha2};
use super::profile::{ChecksumKey, EncryptionKeys, UsageKeys};
use super::{CryptoError, constant_time_eq};
use crate::principal::integer;
use picky_asn1::wrapper::{
    ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2, OctetStringAsn1, Optional,
};
use picky_krb::data_types::{EncryptedData, EncryptionKey};
use zeroize::Zeroizing;

/// A Kerberos key.
#[derive(Clone)]
pub struct Key {
    etype: Etype,
    bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({}, <redacted>)", self.etype)
    }
}

impl Key {
    /// A key of `etype` from its bytes (which must have the etype's length).
    pub fn new(etype: Etype, bytes: Vec<u8>) -> Result<Key, String> {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() != etype.key_len() {
            return Err(format!(
                "a {} key has {} bytes, not {}",
                etype.name(),
                etype.key_len(),
                bytes.len()
            ));
        }
        Ok(Key { etype, bytes })
    }

    /// A fresh random key (session keys, subkeys).
    pub fn random(etype: Etype) -> Result<Key, CryptoError> {
        let mut bytes = Zeroizing::new(vec![0u8; etype.key_len()]);
        super::random(&mut bytes)?;
        Ok(Key { etype, bytes })
    }

    /// The etype.
    pub fn etype(&self) -> Etype {
        self.etype
    }

    /// The key bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The keys of `usage`.
    pub fn usage(&self, usage: i32) -> Result<UsageKeys, CryptoError> {
        UsageKeys::new(self, usage)
    }

    /// Encrypts `plain` for `usage` (RFC 3961 ciphertext).
    pub fn encrypt(&self, usage: i32, plain: &[u8]) -> Result<Vec<u8>, CryptoError> {
        EncryptionKeys::new(self, usage)?.encrypt(plain)
    }

    /// Decrypts and checks an RFC 3961 ciphertext for `usage`.
    pub fn decrypt(&self, usage: i32, cipher: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        EncryptionKeys::new(self, usage)?.decrypt(cipher)
    }

    /// Decrypts an EncryptedData, checking its etype first.
    pub fn decrypt_data(
        &self,
        usage: i32,
        data: &EncryptedData,
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let etype = crate::principal::int_value(&data.etype.0).unwrap_or(-1);
        if etype != i64::from(self.etype.number()) {
            return Err(CryptoError::WrongEtype(etype));
        }
        self.decrypt(usage, &data.cipher.0.0)
    }

    /// Encrypts `plain` into an EncryptedData (with `kvno` when given).
    pub fn encrypt_data(
        &self,
        usage: i32,
        plain: &[u8],
        kvno: Option<u32>,
    ) -> Result<EncryptedData, CryptoError> {
        Ok(EncryptedData {
            etype: ExplicitContextTag0::from(integer(i64::from(self.etype.number()))),
            kvno: Optional::from(kvno.map(|k| ExplicitContextTag1::from(integer(i64::from(k))))),
            cipher: ExplicitContextTag2::from(OctetStringAsn1::from(self.encrypt(usage, plain)?)),
        })
    }

    /// The keyed checksum of the etype (hmac-sha1-96-aes128/256,
    /// hmac-sha256-128-aes128, hmac-sha384-192-aes256) for `usage`.
    pub fn checksum(&self, usage: i32, data: &[u8]) -> Result<Tag, CryptoError> {
        Ok(ChecksumKey::new(self, usage)?.checksum([data]))
    }

    /// The RFC 8009 pseudo-random function: KDF-HMAC-SHA2(key, "prf",
    /// input), 32 bytes (etype 19) or 48 (etype 20). The RFC 3962 PRF of
    /// etypes 17 and 18 is not implemented (nothing here uses it):
    /// [`CryptoError::WrongEtype`].
    pub fn prf(&self, input: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let len = match self.etype.hash() {
            super::HashKind::Sha256 => 32,
            super::HashKind::Sha384 => 48,
            super::HashKind::Sha1 => {
                return Err(CryptoError::WrongEtype(i64::from(self.etype.number())));
            }
        };
        let mut out = Zeroizing::new(vec![0u8; len]);
        kdf_hmac_sha2(self.etype.hash(), &self.bytes, b"prf", input, &mut out)?;
        Ok(out)
    }

    /// Checks a keyed checksum in constant time.
    pub fn verify_checksum(&self, usage: i32, data: &[u8], expected: &[u8]) -> bool {
        self.checksum(usage, data)
            .is_ok_and(|c| constant_time_eq(&c, expected))
    }

    /// The ASN.1 EncryptionKey.
    pub fn to_asn1(&self) -> EncryptionKey {
        EncryptionKey {
            key_type: ExplicitContextTag0::from(integer(i64::from(self.etype.number()))),
            key_value: ExplicitContextTag1::from(OctetStringAsn1::from(self.bytes.to_vec())),
        }
    }

    /// A key from an ASN.1 EncryptionKey.
    pub fn from_asn1(key: &EncryptionKey) -> Result<Key, CryptoError> {
        let etype = crate::principal::int_value(&key.key_type.0).unwrap_or(-1);
        let etype = Etype::from_number(etype).ok_or(CryptoError::WrongEtype(etype))?;
        Key::new(etype, key.key_value.0.0.clone()).map_err(|_| CryptoError::BadKey)
    }
}
