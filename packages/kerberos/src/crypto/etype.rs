//! Encryption types: the numbers and names this package speaks, string-to-key.

use super::key::Key;
use picky_krb::crypto::aes::AesSize;
use std::num::NonZeroU32;
use zeroize::Zeroizing;

/// An encryption type this package implements: RFC 3962 AES with
/// HMAC-SHA1-96, and RFC 8009 AES with HMAC-SHA-256/384.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Etype {
    /// aes128-cts-hmac-sha1-96 (17).
    Aes128CtsHmacSha196,
    /// aes256-cts-hmac-sha1-96 (18).
    Aes256CtsHmacSha196,
    /// aes128-cts-hmac-sha256-128 (19, RFC 8009).
    Aes128CtsHmacSha256128,
    /// aes256-cts-hmac-sha384-192 (20, RFC 8009).
    Aes256CtsHmacSha384192,
}

/// The default PBKDF2 iteration count of RFC 3962 (s2kparams 00 00 10 00).
pub const DEFAULT_ITERATIONS: u32 = 4096;
/// The default PBKDF2 iteration count of RFC 8009 (s2kparams 00 00 80 00).
pub const DEFAULT_ITERATIONS_SHA2: u32 = 32768;

/// The hash of an etype's HMACs (and of its PBKDF2 and KDF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    /// SHA-1 (RFC 3962).
    Sha1,
    /// SHA-256 (RFC 8009, etype 19).
    Sha256,
    /// SHA-384 (RFC 8009, etype 20).
    Sha384,
}

/// What `parse` suggests when refusing a name.
const SUPPORTED_LIST: &str = "aes256-cts-hmac-sha1-96 (18), aes128-cts-hmac-sha1-96 (17), aes256-cts-hmac-sha384-192 (20) or aes128-cts-hmac-sha256-128 (19)";

/// Etype numbers other implementations use that we can name in messages.
const KNOWN_UNSUPPORTED: &[(i32, &str)] = &[
    (1, "des-cbc-crc"),
    (3, "des-cbc-md5"),
    (16, "des3-cbc-sha1"),
    (23, "rc4-hmac"),
    (24, "rc4-hmac-exp"),
];

impl Etype {
    /// Every supported etype in the default preference order, MIT's
    /// (`permitted_enctypes` of krb5 1.20): the SHA-1 etypes every peer
    /// speaks first, then RFC 8009's.
    pub const ALL: [Etype; 4] = [
        Etype::Aes256CtsHmacSha196,
        Etype::Aes128CtsHmacSha196,
        Etype::Aes256CtsHmacSha384192,
        Etype::Aes128CtsHmacSha256128,
    ];

    /// The etype of a number, if supported.
    pub fn from_number(number: i64) -> Option<Etype> {
        match number {
            17 => Some(Etype::Aes128CtsHmacSha196),
            18 => Some(Etype::Aes256CtsHmacSha196),
            19 => Some(Etype::Aes128CtsHmacSha256128),
            20 => Some(Etype::Aes256CtsHmacSha384192),
            _ => None,
        }
    }

    /// The assigned number.
    pub fn number(self) -> i32 {
        match self {
            Etype::Aes128CtsHmacSha196 => 17,
            Etype::Aes256CtsHmacSha196 => 18,
            Etype::Aes128CtsHmacSha256128 => 19,
            Etype::Aes256CtsHmacSha384192 => 20,
        }
    }

    /// The MIT name.
    pub fn name(self) -> &'static str {
        match self {
            Etype::Aes128CtsHmacSha196 => "aes128-cts-hmac-sha1-96",
            Etype::Aes256CtsHmacSha196 => "aes256-cts-hmac-sha1-96",
            Etype::Aes128CtsHmacSha256128 => "aes128-cts-hmac-sha256-128",
            Etype::Aes256CtsHmacSha384192 => "aes256-cts-hmac-sha384-192",
        }
    }

    /// Parses a name (`aes256-cts-hmac-sha1-96`, `aes256-cts`,
    /// `aes256-cts-hmac-sha384-192`, `aes256-sha2`, case-insensitive) or a
    /// number (`18`, `20`). An etype we know but do not implement (rc4-hmac,
    /// DES) is an error naming it.
    pub fn parse(text: &str) -> Result<Etype, String> {
        let t = text.trim().to_ascii_lowercase();
        let by_name = match t.as_str() {
            "aes128-cts-hmac-sha1-96" | "aes128-cts" | "aes128-sha1" => {
                Some(Etype::Aes128CtsHmacSha196)
            }
            "aes256-cts-hmac-sha1-96" | "aes256-cts" | "aes256-sha1" | "aes" => {
                Some(Etype::Aes256CtsHmacSha196)
            }
            "aes128-cts-hmac-sha256-128" | "aes128-sha2" => Some(Etype::Aes128CtsHmacSha256128),
            "aes256-cts-hmac-sha384-192" | "aes256-sha2" => Some(Etype::Aes256CtsHmacSha384192),
            _ => None,
        };
        if let Some(e) = by_name {
            return Ok(e);
        }
        let number = t.parse::<i64>().ok();
        if let Some(e) = number.and_then(Etype::from_number) {
            return Ok(e);
        }
        let known = KNOWN_UNSUPPORTED
            .iter()
            .find(|(n, name)| Some(i64::from(*n)) == number || *name == t || t.starts_with(name));
        match known {
            Some((n, name)) => Err(format!(
                "encryption type {text:?} ({name}, {n}) is not supported (RFC 6649 and RFC 8429 deprecate DES and RC4); use {SUPPORTED_LIST}"
            )),
            None => Err(format!(
                "unknown encryption type {text:?}; use {SUPPORTED_LIST}"
            )),
        }
    }

    /// A printable name for any etype number, supported or not.
    pub fn describe(number: i64) -> String {
        if let Some(e) = Etype::from_number(number) {
            return format!("{} ({number})", e.name());
        }
        match KNOWN_UNSUPPORTED
            .iter()
            .find(|(n, _)| i64::from(*n) == number)
        {
            Some((_, name)) => format!("{name} ({number})"),
            None => format!("etype {number}"),
        }
    }

    /// The key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Etype::Aes128CtsHmacSha196 | Etype::Aes128CtsHmacSha256128 => 16,
            Etype::Aes256CtsHmacSha196 | Etype::Aes256CtsHmacSha384192 => 32,
        }
    }

    /// picky's AES size.
    pub fn aes_size(self) -> AesSize {
        match self.key_len() {
            16 => AesSize::Aes128,
            _ => AesSize::Aes256,
        }
    }

    /// The hash of this etype's HMACs.
    pub fn hash(self) -> HashKind {
        match self {
            Etype::Aes128CtsHmacSha196 | Etype::Aes256CtsHmacSha196 => HashKind::Sha1,
            Etype::Aes128CtsHmacSha256128 => HashKind::Sha256,
            Etype::Aes256CtsHmacSha384192 => HashKind::Sha384,
        }
    }

    /// True for the RFC 8009 etypes (19, 20).
    pub fn is_sha2(self) -> bool {
        self.hash() != HashKind::Sha1
    }

    /// The length of this etype's truncated HMACs (encryption MACs and keyed
    /// checksums): 12 (SHA-1), 16 (etype 19), 24 (etype 20).
    pub fn mac_len(self) -> usize {
        match self.hash() {
            HashKind::Sha1 => 12,
            HashKind::Sha256 => 16,
            HashKind::Sha384 => 24,
        }
    }

    /// The default PBKDF2 iteration count (4096, RFC 8009's 32768).
    pub fn default_iterations(self) -> u32 {
        if self.is_sha2() {
            DEFAULT_ITERATIONS_SHA2
        } else {
            DEFAULT_ITERATIONS
        }
    }

    /// The keyed checksum type of this etype (hmac-sha1-96-aes128 15 /
    /// -aes256 16, hmac-sha256-128-aes128 19, hmac-sha384-192-aes256 20).
    pub fn checksum_type(self) -> i32 {
        match self {
            Etype::Aes128CtsHmacSha196 => 15,
            Etype::Aes256CtsHmacSha196 => 16,
            Etype::Aes128CtsHmacSha256128 => 19,
            Etype::Aes256CtsHmacSha384192 => 20,
        }
    }

    /// The etype whose keyed checksum type is `cksumtype`.
    pub fn from_checksum_type(cksumtype: i64) -> Option<Etype> {
        match cksumtype {
            15 => Some(Etype::Aes128CtsHmacSha196),
            16 => Some(Etype::Aes256CtsHmacSha196),
            19 => Some(Etype::Aes128CtsHmacSha256128),
            20 => Some(Etype::Aes256CtsHmacSha384192),
            _ => None,
        }
    }

    /// String-to-key. RFC 3962: PBKDF2-HMAC-SHA1(password, salt, iterations),
    /// then DK(tkey, "kerberos"). RFC 8009: PBKDF2-HMAC-SHA256/384(password,
    /// enctype-name | 0x00 | salt, iterations), then KDF-HMAC-SHA2(tkey,
    /// "kerberos"). `iterations` defaults to [`Etype::default_iterations`].
    pub fn string_to_key(
        self,
        password: &[u8],
        salt: &[u8],
        iterations: Option<NonZeroU32>,
    ) -> Result<Key, String> {
        let iterations = iterations
            .unwrap_or(NonZeroU32::new(self.default_iterations()).unwrap_or(NonZeroU32::MIN));
        let mut tkey = Zeroizing::new(vec![0u8; self.key_len()]);
        let key = match self.hash() {
            HashKind::Sha1 => {
                ring::pbkdf2::derive(
                    ring::pbkdf2::PBKDF2_HMAC_SHA1,
                    iterations,
                    salt,
                    password,
                    &mut tkey,
                );
                super::dk::derive_key(&tkey, picky_krb::crypto::KERBEROS)
                    .map_err(|e| format!("string-to-key failed: {e}"))?
                    .to_vec()
            }
            hash => {
                let algorithm = if hash == HashKind::Sha256 {
                    ring::pbkdf2::PBKDF2_HMAC_SHA256
                } else {
                    ring::pbkdf2::PBKDF2_HMAC_SHA384
                };
                let mut saltp = Vec::with_capacity(self.name().len() + 1 + salt.len());
                saltp.extend_from_slice(self.name().as_bytes());
                saltp.push(0);
                saltp.extend_from_slice(salt);
                ring::pbkdf2::derive(algorithm, iterations, &saltp, password, &mut tkey);
                let mut out = vec![0u8; self.key_len()];
                super::kdf::kdf_hmac_sha2(hash, &tkey, b"kerberos", &[], &mut out)
                    .map_err(|_| "string-to-key failed: bad intermediate key".to_string())?;
                out
            }
        };
        Key::new(self, key)
    }

    /// The iteration count of an ETYPE-INFO2 `s2kparams` (4 bytes big-endian).
    pub fn iterations_from_s2kparams(params: &[u8]) -> Result<NonZeroU32, String> {
        let bytes: [u8; 4] = params
            .try_into()
            .map_err(|_| format!("s2kparams of {} bytes; expected 4", params.len()))?;
        let n = u32::from_be_bytes(bytes);
        // MIT refuses counts above 2^24 to bound the work a KDC can ask for.
        if n > 1 << 24 {
            return Err(format!("s2kparams asks for {n} PBKDF2 iterations; refused"));
        }
        NonZeroU32::new(n).ok_or_else(|| "s2kparams asks for 0 iterations".to_string())
    }
}

impl std::fmt::Display for Etype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
