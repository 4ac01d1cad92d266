//! Encryption types: the numbers and names this package speaks, string-to-key.

use super::key::Key;
use picky_krb::crypto::aes::AesSize;
use std::num::NonZeroU32;
use zeroize::Zeroizing;

/// An encryption type this package implements (RFC 3962 AES with HMAC-SHA1-96).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Etype {
    /// aes128-cts-hmac-sha1-96 (17).
    Aes128CtsHmacSha196,
    /// aes256-cts-hmac-sha1-96 (18).
    Aes256CtsHmacSha196,
}

/// The default PBKDF2 iteration count of RFC 3962 (s2kparams 00 00 10 00).
pub const DEFAULT_ITERATIONS: u32 = 4096;

/// Etype numbers other implementations use that we can name in messages.
const KNOWN_UNSUPPORTED: &[(i32, &str)] = &[
    (1, "des-cbc-crc"),
    (3, "des-cbc-md5"),
    (16, "des3-cbc-sha1"),
    (19, "aes128-cts-hmac-sha256-128"),
    (20, "aes256-cts-hmac-sha384-192"),
    (23, "rc4-hmac"),
    (24, "rc4-hmac-exp"),
];

impl Etype {
    /// Every supported etype, strongest first (the default preference order).
    pub const ALL: [Etype; 2] = [Etype::Aes256CtsHmacSha196, Etype::Aes128CtsHmacSha196];

    /// The etype of a number, if supported.
    pub fn from_number(number: i64) -> Option<Etype> {
        match number {
            17 => Some(Etype::Aes128CtsHmacSha196),
            18 => Some(Etype::Aes256CtsHmacSha196),
            _ => None,
        }
    }

    /// The assigned number.
    pub fn number(self) -> i32 {
        match self {
            Etype::Aes128CtsHmacSha196 => 17,
            Etype::Aes256CtsHmacSha196 => 18,
        }
    }

    /// The MIT name.
    pub fn name(self) -> &'static str {
        match self {
            Etype::Aes128CtsHmacSha196 => "aes128-cts-hmac-sha1-96",
            Etype::Aes256CtsHmacSha196 => "aes256-cts-hmac-sha1-96",
        }
    }

    /// Parses a name (`aes256-cts-hmac-sha1-96`, `aes256-cts`, case-insensitive) or
    /// a number (`18`). An etype we know but do not implement is an error naming it.
    pub fn parse(text: &str) -> Result<Etype, String> {
        let t = text.trim().to_ascii_lowercase();
        let by_name = match t.as_str() {
            "aes128-cts-hmac-sha1-96" | "aes128-cts" | "aes128-sha1" => {
                Some(Etype::Aes128CtsHmacSha196)
            }
            "aes256-cts-hmac-sha1-96" | "aes256-cts" | "aes256-sha1" | "aes" => {
                Some(Etype::Aes256CtsHmacSha196)
            }
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
                "encryption type {text:?} ({name}, {n}) is not supported; use aes256-cts-hmac-sha1-96 (18) or aes128-cts-hmac-sha1-96 (17)"
            )),
            None => Err(format!(
                "unknown encryption type {text:?}; use aes256-cts-hmac-sha1-96 (18) or aes128-cts-hmac-sha1-96 (17)"
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
            Etype::Aes128CtsHmacSha196 => 16,
            Etype::Aes256CtsHmacSha196 => 32,
        }
    }

    /// picky's AES size.
    pub fn aes_size(self) -> AesSize {
        match self {
            Etype::Aes128CtsHmacSha196 => AesSize::Aes128,
            Etype::Aes256CtsHmacSha196 => AesSize::Aes256,
        }
    }

    /// The keyed checksum type of this etype (hmac-sha1-96-aes128 15 / -aes256 16).
    pub fn checksum_type(self) -> i32 {
        match self {
            Etype::Aes128CtsHmacSha196 => 15,
            Etype::Aes256CtsHmacSha196 => 16,
        }
    }

    /// The etype whose keyed checksum type is `cksumtype`.
    pub fn from_checksum_type(cksumtype: i64) -> Option<Etype> {
        match cksumtype {
            15 => Some(Etype::Aes128CtsHmacSha196),
            16 => Some(Etype::Aes256CtsHmacSha196),
            _ => None,
        }
    }

    /// RFC 3962 string-to-key: PBKDF2-HMAC-SHA1(password, salt, iterations),
    /// then DK(tkey, "kerberos"). `iterations` defaults to 4096.
    pub fn string_to_key(
        self,
        password: &[u8],
        salt: &[u8],
        iterations: Option<NonZeroU32>,
    ) -> Result<Key, String> {
        let iterations =
            iterations.unwrap_or(NonZeroU32::new(DEFAULT_ITERATIONS).unwrap_or(NonZeroU32::MIN));
        let mut tkey = Zeroizing::new(vec![0u8; self.key_len()]);
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA1,
            iterations,
            salt,
            password,
            &mut tkey,
        );
        let key = super::dk::derive_key(&tkey, picky_krb::crypto::KERBEROS)
            .map_err(|e| format!("string-to-key failed: {e}"))?;
        Key::new(self, key.to_vec())
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
