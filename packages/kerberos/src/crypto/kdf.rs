//! The HMACs of the etypes (SHA-1, SHA-256, SHA-384 behind one type) and
//! RFC 8009's KDF-HMAC-SHA2 (the SP 800-108 counter-mode KDF with one block).

use super::CryptoError;
use super::etype::HashKind;
use hmac::{KeyInit, Mac};

/// HMAC-SHA1 with its key (its state is wiped on drop).
pub type HmacSha1 = hmac::Hmac<sha1::Sha1>;
/// HMAC-SHA-256 with its key (etype 19).
pub type HmacSha256 = hmac::Hmac<sha2::Sha256>;
/// HMAC-SHA-384 with its key (etype 20).
pub type HmacSha384 = hmac::Hmac<sha2::Sha384>;

/// The longest truncated HMAC of any etype (HMAC-SHA-384-192).
pub const MAX_MAC_LEN: usize = 24;

/// A keyed HMAC of one of the etypes' hashes. Cloning copies the keyed
/// state (no allocation): one clone per message.
#[derive(Clone)]
pub enum AnyHmac {
    /// HMAC-SHA1.
    Sha1(HmacSha1),
    /// HMAC-SHA-256.
    Sha256(HmacSha256),
    /// HMAC-SHA-384.
    Sha384(HmacSha384),
}

impl AnyHmac {
    /// The HMAC of `hash` keyed with `key`.
    pub fn new(hash: HashKind, key: &[u8]) -> Result<AnyHmac, CryptoError> {
        let bad = |_| CryptoError::BadKey;
        Ok(match hash {
            HashKind::Sha1 => {
                AnyHmac::Sha1(<HmacSha1 as KeyInit>::new_from_slice(key).map_err(bad)?)
            }
            HashKind::Sha256 => {
                AnyHmac::Sha256(<HmacSha256 as KeyInit>::new_from_slice(key).map_err(bad)?)
            }
            HashKind::Sha384 => {
                AnyHmac::Sha384(<HmacSha384 as KeyInit>::new_from_slice(key).map_err(bad)?)
            }
        })
    }

    /// Feeds `data`.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            AnyHmac::Sha1(m) => m.update(data),
            AnyHmac::Sha256(m) => m.update(data),
            AnyHmac::Sha384(m) => m.update(data),
        }
    }

    /// Writes the first `out.len()` bytes of the HMAC (at most the hash length).
    pub fn finalize_into(self, out: &mut [u8]) {
        fn copy(full: &[u8], out: &mut [u8]) {
            let n = out.len().min(full.len());
            out[..n].copy_from_slice(&full[..n]);
        }
        match self {
            AnyHmac::Sha1(m) => copy(&m.finalize().into_bytes(), out),
            AnyHmac::Sha256(m) => copy(&m.finalize().into_bytes(), out),
            AnyHmac::Sha384(m) => copy(&m.finalize().into_bytes(), out),
        }
    }
}

/// A truncated HMAC: 12, 16 or 24 bytes.
#[derive(Clone, Copy)]
pub struct Tag {
    bytes: [u8; MAX_MAC_LEN],
    len: usize,
}

impl Tag {
    /// The first `len` bytes (at most [`MAX_MAC_LEN`]) of `mac`.
    pub fn of(mac: AnyHmac, len: usize) -> Tag {
        let len = len.min(MAX_MAC_LEN);
        let mut bytes = [0u8; MAX_MAC_LEN];
        mac.finalize_into(&mut bytes[..len]);
        Tag { bytes, len }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::ops::Deref for Tag {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::fmt::Debug for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tag({} bytes)", self.len)
    }
}

/// RFC 8009 KDF-HMAC-SHA2(key, label, k, context): the first `out.len()`
/// bytes of HMAC-SHA-256/384(key, 00 00 00 01 | label | 00 | context | k),
/// k the output length in bits as a 32-bit big-endian number. `out` must
/// not be longer than the hash (32 or 48 bytes).
pub fn kdf_hmac_sha2(
    hash: HashKind,
    key: &[u8],
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    if hash == HashKind::Sha1 {
        return Err(CryptoError::BadKey);
    }
    kdf_with(AnyHmac::new(hash, key)?, label, context, out)
}

/// [`kdf_hmac_sha2`] with the HMAC already keyed with the base key (a clone
/// of one keyed once per base key); `out` must fit the hash.
pub fn kdf_with(
    mut mac: AnyHmac,
    label: &[u8],
    context: &[u8],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    let limit = match mac {
        AnyHmac::Sha1(_) => return Err(CryptoError::BadKey),
        AnyHmac::Sha256(_) => 32,
        AnyHmac::Sha384(_) => 48,
    };
    if out.len() > limit {
        return Err(CryptoError::BadKey);
    }
    let bits = u32::try_from(out.len() * 8).map_err(|_| CryptoError::BadKey)?;
    mac.update(&1u32.to_be_bytes());
    mac.update(label);
    mac.update(&[0]);
    mac.update(context);
    mac.update(&bits.to_be_bytes());
    mac.finalize_into(out);
    Ok(())
}
