//! Cryptography: etypes, keys, the RFC 3961 profile with pre-derived keys and
//! AES-CTS in place.

pub mod cts;
pub mod dk;
pub mod etype;
pub mod kdf;
pub mod key;
pub mod profile;

pub use etype::{Etype, HashKind};
pub use kdf::{MAX_MAC_LEN, Tag};
pub use key::Key;
pub use profile::{ChecksumKey, Deriver, EncryptionKeys, UsageKeys};

use ring::rand::{SecureRandom, SystemRandom};

/// The length of HMAC-SHA1-96 (the MACs and keyed checksums of etypes 17
/// and 18; [`Etype::mac_len`] gives every etype's).
pub const MAC_LEN: usize = 12;

/// Why a cryptographic operation failed (never says anything about the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoError {
    /// The MAC or checksum did not match: wrong key, or altered data.
    Integrity,
    /// The ciphertext is shorter than a confounder and a MAC.
    Truncated,
    /// The data is encrypted with an etype other than the key's.
    WrongEtype(i64),
    /// A key of the wrong length.
    BadKey,
    /// The system random number generator failed.
    Random,
}

impl std::fmt::Display for CryptoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CryptoError::Integrity => {
                f.write_str("integrity check failed (wrong key or altered data)")
            }
            CryptoError::Truncated => f.write_str("ciphertext too short"),
            CryptoError::WrongEtype(e) => {
                write!(
                    f,
                    "encrypted with {}, not the key's type",
                    Etype::describe(*e)
                )
            }
            CryptoError::BadKey => f.write_str("malformed key"),
            CryptoError::Random => f.write_str("the system random number generator failed"),
        }
    }
}

/// Fills `out` from the system CSPRNG.
pub fn random(out: &mut [u8]) -> Result<(), CryptoError> {
    SystemRandom::new()
        .fill(out)
        .map_err(|_| CryptoError::Random)
}

/// A random u32 (nonces, initial sequence numbers).
pub fn random_u32() -> Result<u32, CryptoError> {
    let mut b = [0u8; 4];
    random(&mut b)?;
    Ok(u32::from_be_bytes(b))
}

/// Compares in time that depends only on the lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}
