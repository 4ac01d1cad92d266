//! MIT keytab files (format 0x0502), read and written.
//!
//! ```text
//! file    = 05 02 record*
//! record  = i32 size (big-endian; negative: a deleted hole of -size bytes)
//!           u16 component count, counted realm, counted components,
//!           u32 name type, u32 timestamp, u8 kvno,
//!           u16 enctype, counted key, [u32 kvno (replaces the 8-bit one when non-zero)]
//! counted = u16 length, bytes
//! ```

use crate::crypto::{Etype, Key};
use crate::principal::Principal;
use std::path::Path;
use zeroize::Zeroizing;

/// The largest keytab file read (a keytab is a few kilobytes; this bounds a mistake).
pub const MAX_KEYTAB_LEN: u64 = 16 << 20;

/// One key of a keytab.
#[derive(Clone)]
pub struct KeytabEntry {
    /// The principal.
    pub principal: Principal,
    /// When the key was written (Unix seconds).
    pub timestamp: u32,
    /// The key version number.
    pub kvno: u32,
    /// The encryption type number (entries of etypes we do not implement are kept but never used).
    pub etype: i32,
    /// The key bytes.
    pub key: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for KeytabEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "KeytabEntry({} kvno {} {})",
            self.principal,
            self.kvno,
            Etype::describe(i64::from(self.etype))
        )
    }
}

/// A keytab: its entries in file order.
#[derive(Debug, Clone, Default)]
pub struct Keytab {
    /// The entries.
    pub entries: Vec<KeytabEntry>,
}

/// Where and why a keytab could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeytabError {
    /// The byte offset of the problem.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for KeytabError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.message)
    }
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    fn fail<T>(&self, message: impl Into<String>) -> Result<T, KeytabError> {
        Err(KeytabError {
            offset: self.base + self.at,
            message: message.into(),
        })
    }

    fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], KeytabError> {
        match self.data.get(self.at..self.at.saturating_add(n)) {
            Some(b) if self.at.checked_add(n).is_some() => {
                self.at += n;
                Ok(b)
            }
            _ => self.fail(format!("truncated {what}")),
        }
    }

    fn u8(&mut self, what: &str) -> Result<u8, KeytabError> {
        Ok(self.bytes(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, KeytabError> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, KeytabError> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn counted(&mut self, what: &str) -> Result<&'a [u8], KeytabError> {
        let n = self.u16(what)?;
        self.bytes(usize::from(n), what)
    }

    fn text(&mut self, what: &str) -> Result<String, KeytabError> {
        let start = self.at;
        let b = self.counted(what)?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => {
                self.at = start;
                self.fail(format!("{what} is not UTF-8"))
            }
        }
    }

    fn remaining(&self) -> usize {
        self.data.len() - self.at
    }
}

impl Keytab {
    /// Parses a keytab file's bytes.
    pub fn parse(data: &[u8]) -> Result<Keytab, KeytabError> {
        match data {
            [0x05, 0x02, ..] => {}
            [0x05, 0x01, ..] => {
                return Err(KeytabError {
                    offset: 0,
                    message: "keytab format 0x0501 (native byte order) is not supported; \
                              rewrite it with ktutil as format 0x0502"
                        .into(),
                });
            }
            _ => {
                return Err(KeytabError {
                    offset: 0,
                    message: "not a keytab file (expected the version 05 02)".into(),
                });
            }
        }
        let mut entries = Vec::new();
        let mut at = 2usize;
        while at < data.len() {
            let Some(size_bytes) = data.get(at..at + 4) else {
                return Err(KeytabError {
                    offset: at,
                    message: "truncated record size".into(),
                });
            };
            let size =
                i32::from_be_bytes([size_bytes[0], size_bytes[1], size_bytes[2], size_bytes[3]]);
            at += 4;
            if size == 0 {
                // MIT writes nothing after a zero size; treat it as the end.
                break;
            }
            let len = size.unsigned_abs() as usize;
            let Some(record) = data.get(at..at.saturating_add(len)) else {
                return Err(KeytabError {
                    offset: at - 4,
                    message: format!("record of {len} bytes runs past the end of the file"),
                });
            };
            if size > 0 {
                entries.push(Self::record(record, at)?);
            }
            at += len;
        }
        Ok(Keytab { entries })
    }

    fn record(data: &[u8], base: usize) -> Result<KeytabEntry, KeytabError> {
        let mut r = Reader { data, at: 0, base };
        let count = r.u16("component count")?;
        if count == 0 {
            return r.fail("principal with no name components");
        }
        let realm = r.text("realm")?;
        let mut components = Vec::with_capacity(usize::from(count.min(8)));
        for _ in 0..count {
            components.push(r.text("name component")?);
        }
        let name_type = r.u32("name type")? as i32;
        let timestamp = r.u32("timestamp")?;
        let kvno8 = r.u8("key version")?;
        let etype = i32::from(r.u16("enctype")?);
        let key = Zeroizing::new(r.counted("key")?.to_vec());
        let mut kvno = u32::from(kvno8);
        if r.remaining() >= 4 {
            let wide = r.u32("32-bit key version")?;
            if wide != 0 {
                kvno = wide;
            }
        }
        Ok(KeytabEntry {
            principal: Principal {
                name_type,
                components,
                realm,
            },
            timestamp,
            kvno,
            etype,
            key,
        })
    }

    /// Reads a keytab file; errors name the file. The file must be one no
    /// other user can write (`sspi_trust`), at most [`MAX_KEYTAB_LEN`] bytes.
    pub fn load(path: &Path) -> Result<Keytab, String> {
        let data = Zeroizing::new(
            sspi_trust::read_file(path, "keytab", MAX_KEYTAB_LEN).map_err(|e| e.to_string())?,
        );
        Keytab::parse(&data).map_err(|e| format!("keytab {}: {e}", path.display()))
    }

    /// Adds a key.
    pub fn push(&mut self, principal: &Principal, kvno: u32, key: &Key, timestamp: u32) {
        self.entries.push(KeytabEntry {
            principal: principal.clone(),
            timestamp,
            kvno,
            etype: key.etype().number(),
            key: Zeroizing::new(key.bytes().to_vec()),
        });
    }

    /// The file bytes (format 0x0502, with the 32-bit kvno).
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>, String> {
        fn counted(out: &mut Vec<u8>, b: &[u8]) -> Result<(), String> {
            let n = u16::try_from(b.len()).map_err(|_| "keytab field longer than 65535 bytes")?;
            out.extend_from_slice(&n.to_be_bytes());
            out.extend_from_slice(b);
            Ok(())
        }
        let mut out = Zeroizing::new(vec![0x05, 0x02]);
        for e in &self.entries {
            let mut rec = Zeroizing::new(Vec::new());
            let count = u16::try_from(e.principal.components.len())
                .map_err(|_| "too many name components")?;
            rec.extend_from_slice(&count.to_be_bytes());
            counted(&mut rec, e.principal.realm.as_bytes())?;
            for c in &e.principal.components {
                counted(&mut rec, c.as_bytes())?;
            }
            rec.extend_from_slice(&(e.principal.name_type as u32).to_be_bytes());
            rec.extend_from_slice(&e.timestamp.to_be_bytes());
            rec.push(e.kvno.min(255) as u8);
            let etype = u16::try_from(e.etype).map_err(|_| "etype out of range")?;
            rec.extend_from_slice(&etype.to_be_bytes());
            counted(&mut rec, &e.key)?;
            rec.extend_from_slice(&e.kvno.to_be_bytes());
            let size = i32::try_from(rec.len()).map_err(|_| "record too large")?;
            out.extend_from_slice(&size.to_be_bytes());
            out.extend_from_slice(&rec);
        }
        Ok(out)
    }

    /// The key of `principal` with `etype` and `kvno` (the highest kvno when `None`).
    pub fn find(&self, principal: &Principal, etype: Etype, kvno: Option<u32>) -> Option<Key> {
        self.entries
            .iter()
            .filter(|e| e.principal == *principal && e.etype == etype.number())
            .filter(|e| kvno.is_none_or(|k| k == e.kvno || (k & 0xff) == e.kvno))
            .max_by_key(|e| e.kvno)
            .and_then(|e| Key::new(etype, e.key.to_vec()).ok())
    }

    /// True when some entry is for `principal`.
    pub fn has_principal(&self, principal: &Principal) -> bool {
        self.entries.iter().any(|e| e.principal == *principal)
    }

    /// The distinct principals, in file order.
    pub fn principals(&self) -> Vec<&Principal> {
        let mut out: Vec<&Principal> = Vec::new();
        for e in &self.entries {
            if !out.contains(&&e.principal) {
                out.push(&e.principal);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_holes_and_wide_kvno() {
        let p = Principal::parse("host/localhost@R", "").unwrap();
        let k = Key::new(Etype::Aes128CtsHmacSha196, vec![7; 16]).unwrap();
        let mut kt = Keytab::default();
        kt.push(&p, 300, &k, 1);
        let mut bytes = kt.to_bytes().unwrap().to_vec();
        // A deleted hole in front of the record.
        let mut with_hole = vec![0x05, 0x02];
        with_hole.extend_from_slice(&(-6i32).to_be_bytes());
        with_hole.extend_from_slice(&[0; 6]);
        with_hole.extend_from_slice(&bytes[2..]);
        let parsed = Keytab::parse(&with_hole).unwrap();
        assert_eq!(parsed.entries.len(), 1);
        assert_eq!(parsed.entries[0].kvno, 300);
        assert_eq!(
            parsed
                .find(&p, Etype::Aes128CtsHmacSha196, Some(300))
                .unwrap()
                .bytes(),
            k.bytes()
        );
        assert!(parsed.find(&p, Etype::Aes256CtsHmacSha196, None).is_none());
        bytes.truncate(bytes.len() - 7);
        assert!(Keytab::parse(&bytes).is_err());
        assert!(Keytab::parse(b"\x05\x01").is_err());
        assert!(Keytab::parse(b"").is_err());
    }
}
