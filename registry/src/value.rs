//! Registry value data and its raw byte form.

/// Registry value data, one variant per value type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegValue {
    /// `REG_SZ` (1): a string.
    Sz(String),
    /// `REG_EXPAND_SZ` (2): a string with `%VARIABLE%` references.
    ExpandSz(String),
    /// `REG_BINARY` (3): raw bytes.
    Binary(Vec<u8>),
    /// `REG_DWORD` (4): a 32-bit number (stored little endian).
    Dword(u32),
    /// `REG_DWORD_BIG_ENDIAN` (5): a 32-bit number stored big endian.
    DwordBigEndian(u32),
    /// `REG_MULTI_SZ` (7): a list of strings (which cannot contain NUL).
    MultiSz(Vec<String>),
    /// `REG_QWORD` (11): a 64-bit number (stored little endian).
    Qword(u64),
    /// Any type without a variant of its own (`REG_NONE`, `REG_LINK`, resource lists...).
    ///
    /// `kind` should not be 1, 2, 3, 4, 5, 7 or 11: those read back as their own variant.
    Other {
        /// The type number.
        kind: u32,
        /// The raw data.
        bytes: Vec<u8>,
    },
}

impl Drop for RegValue {
    /// Wipes the data: a registry holds passwords (`Users\<name>\Password`).
    fn drop(&mut self) {
        use zeroize::Zeroize;
        match self {
            RegValue::Sz(text) | RegValue::ExpandSz(text) => text.zeroize(),
            RegValue::MultiSz(list) => list.iter_mut().for_each(Zeroize::zeroize),
            RegValue::Binary(bytes) | RegValue::Other { bytes, .. } => bytes.zeroize(),
            RegValue::Dword(_) | RegValue::DwordBigEndian(_) | RegValue::Qword(_) => {}
        }
    }
}

/// `REG_NONE`.
pub const REG_NONE: u32 = 0;
/// `REG_SZ`.
pub const REG_SZ: u32 = 1;
/// `REG_EXPAND_SZ`.
pub const REG_EXPAND_SZ: u32 = 2;
/// `REG_BINARY`.
pub const REG_BINARY: u32 = 3;
/// `REG_DWORD`.
pub const REG_DWORD: u32 = 4;
/// `REG_DWORD_BIG_ENDIAN`.
pub const REG_DWORD_BIG_ENDIAN: u32 = 5;
/// `REG_LINK`.
pub const REG_LINK: u32 = 6;
/// `REG_MULTI_SZ`.
pub const REG_MULTI_SZ: u32 = 7;
/// `REG_RESOURCE_LIST`.
pub const REG_RESOURCE_LIST: u32 = 8;
/// `REG_FULL_RESOURCE_DESCRIPTOR`.
pub const REG_FULL_RESOURCE_DESCRIPTOR: u32 = 9;
/// `REG_RESOURCE_REQUIREMENTS_LIST`.
pub const REG_RESOURCE_REQUIREMENTS_LIST: u32 = 10;
/// `REG_QWORD`.
pub const REG_QWORD: u32 = 11;

/// How `hex(1)`, `hex(2)` and `hex(7)` bytes encode text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextBytes {
    /// UTF-16LE (version-5 and header-less CE files).
    Utf16,
    /// ANSI bytes (REGEDIT4), read as UTF-8 or else Latin-1.
    Ansi,
}

impl RegValue {
    /// The type number (`REG_SZ` = 1, ... `REG_QWORD` = 11).
    pub fn kind(&self) -> u32 {
        match self {
            RegValue::Sz(_) => REG_SZ,
            RegValue::ExpandSz(_) => REG_EXPAND_SZ,
            RegValue::Binary(_) => REG_BINARY,
            RegValue::Dword(_) => REG_DWORD,
            RegValue::DwordBigEndian(_) => REG_DWORD_BIG_ENDIAN,
            RegValue::MultiSz(_) => REG_MULTI_SZ,
            RegValue::Qword(_) => REG_QWORD,
            RegValue::Other { kind, .. } => *kind,
        }
    }

    /// The type name, e.g. `"REG_SZ"`; `"REG_UNKNOWN"` for unassigned numbers.
    pub fn type_name(&self) -> &'static str {
        kind_name(self.kind())
    }

    /// The string of a `REG_SZ` or `REG_EXPAND_SZ` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            RegValue::Sz(s) | RegValue::ExpandSz(s) => Some(s),
            _ => None,
        }
    }

    /// The number of a `REG_DWORD` or `REG_DWORD_BIG_ENDIAN` value.
    pub fn as_u32(&self) -> Option<u32> {
        match self {
            RegValue::Dword(n) | RegValue::DwordBigEndian(n) => Some(*n),
            _ => None,
        }
    }

    /// The number of a `REG_QWORD`, `REG_DWORD` or `REG_DWORD_BIG_ENDIAN` value.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            RegValue::Qword(n) => Some(*n),
            other => other.as_u32().map(u64::from),
        }
    }

    /// The strings of a `REG_MULTI_SZ` value.
    pub fn as_strings(&self) -> Option<&[String]> {
        match self {
            RegValue::MultiSz(list) => Some(list),
            _ => None,
        }
    }

    /// The data as the registry stores it (strings as NUL-terminated UTF-16LE).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            RegValue::Sz(s) | RegValue::ExpandSz(s) => {
                let mut bytes = utf16_bytes(s);
                bytes.extend_from_slice(&[0, 0]);
                bytes
            }
            RegValue::Binary(bytes) | RegValue::Other { bytes, .. } => bytes.clone(),
            RegValue::Dword(n) => n.to_le_bytes().to_vec(),
            RegValue::DwordBigEndian(n) => n.to_be_bytes().to_vec(),
            RegValue::MultiSz(list) => {
                let mut bytes = Vec::new();
                for s in list {
                    bytes.extend(utf16_bytes(s));
                    bytes.extend_from_slice(&[0, 0]);
                }
                bytes.extend_from_slice(&[0, 0]);
                bytes
            }
            RegValue::Qword(n) => n.to_le_bytes().to_vec(),
        }
    }

    /// Builds a value from a type number and raw bytes as found after `hex(N):`.
    pub(crate) fn from_hex(kind: u32, bytes: Vec<u8>, text: TextBytes) -> Result<RegValue, String> {
        Ok(match kind {
            REG_SZ => RegValue::Sz(decode_string(&bytes, text, kind)?),
            REG_EXPAND_SZ => RegValue::ExpandSz(decode_string(&bytes, text, kind)?),
            REG_BINARY => RegValue::Binary(bytes),
            REG_DWORD => RegValue::Dword(u32::from_le_bytes(fixed(&bytes, kind)?)),
            REG_DWORD_BIG_ENDIAN => {
                RegValue::DwordBigEndian(u32::from_be_bytes(fixed(&bytes, kind)?))
            }
            REG_MULTI_SZ => RegValue::MultiSz(decode_multi(&bytes, text)?),
            REG_QWORD => RegValue::Qword(u64::from_le_bytes(fixed(&bytes, kind)?)),
            _ => RegValue::Other { kind, bytes },
        })
    }
}

/// The name of a type number, e.g. `REG_QWORD` for 11.
pub fn kind_name(kind: u32) -> &'static str {
    match kind {
        REG_NONE => "REG_NONE",
        REG_SZ => "REG_SZ",
        REG_EXPAND_SZ => "REG_EXPAND_SZ",
        REG_BINARY => "REG_BINARY",
        REG_DWORD => "REG_DWORD",
        REG_DWORD_BIG_ENDIAN => "REG_DWORD_BIG_ENDIAN",
        REG_LINK => "REG_LINK",
        REG_MULTI_SZ => "REG_MULTI_SZ",
        REG_RESOURCE_LIST => "REG_RESOURCE_LIST",
        REG_FULL_RESOURCE_DESCRIPTOR => "REG_FULL_RESOURCE_DESCRIPTOR",
        REG_RESOURCE_REQUIREMENTS_LIST => "REG_RESOURCE_REQUIREMENTS_LIST",
        REG_QWORD => "REG_QWORD",
        _ => "REG_UNKNOWN",
    }
}

fn utf16_bytes(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn fixed<const N: usize>(bytes: &[u8], kind: u32) -> Result<[u8; N], String> {
    <[u8; N]>::try_from(bytes).map_err(|_| {
        format!(
            "hex({kind:x}) ({}) needs exactly {N} bytes, found {}",
            kind_name(kind),
            bytes.len()
        )
    })
}

fn utf16_units(bytes: &[u8], kind: u32) -> Result<Vec<u16>, String> {
    if !bytes.len().is_multiple_of(2) {
        return Err(format!(
            "hex({kind:x}) ({}) data has an odd number of bytes ({}); expected UTF-16LE text",
            kind_name(kind),
            bytes.len()
        ));
    }
    Ok(bytes
        .chunks_exact(2)
        .filter_map(|pair| <[u8; 2]>::try_from(pair).ok())
        .map(u16::from_le_bytes)
        .collect())
}

fn from_utf16(units: &[u16], kind: u32) -> Result<String, String> {
    String::from_utf16(units)
        .map_err(|_| format!("invalid UTF-16 in hex({kind:x}) ({}) data", kind_name(kind)))
}

fn from_ansi(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Decodes a string, dropping one terminating NUL if present.
fn decode_string(bytes: &[u8], text: TextBytes, kind: u32) -> Result<String, String> {
    match text {
        TextBytes::Utf16 => {
            let mut units = utf16_units(bytes, kind)?;
            if units.last() == Some(&0) {
                units.pop();
            }
            from_utf16(&units, kind)
        }
        TextBytes::Ansi => Ok(from_ansi(bytes.strip_suffix(&[0]).unwrap_or(bytes))),
    }
}

/// Decodes a multi-string: NUL-terminated strings followed by one more NUL. Missing
/// terminators are tolerated.
fn decode_multi(bytes: &[u8], text: TextBytes) -> Result<Vec<String>, String> {
    match text {
        TextBytes::Utf16 => {
            let mut units = utf16_units(bytes, REG_MULTI_SZ)?;
            if units.last() == Some(&0) {
                units.pop();
            }
            split_terminated(&units, 0)
                .into_iter()
                .map(|s| from_utf16(s, REG_MULTI_SZ))
                .collect()
        }
        TextBytes::Ansi => {
            let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
            Ok(split_terminated(bytes, 0)
                .into_iter()
                .map(from_ansi)
                .collect())
        }
    }
}

/// Splits NUL-terminated items; the last item's terminator is optional.
fn split_terminated<T: PartialEq + Copy>(items: &[T], nul: T) -> Vec<&[T]> {
    if items.is_empty() {
        return Vec::new();
    }
    let body = items.strip_suffix(&[nul]).unwrap_or(items);
    body.split(|item| *item == nul).collect()
}
