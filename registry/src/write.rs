//! Writing regedit version-5 `.reg` text.

use std::path::Path;

use crate::error::RegistryError;
use crate::file::{RegEntry, RegFile, RegHeader};
use crate::hive::{RegKey, Registry};
use crate::key_path::KeyPath;
use crate::name::{ValueName, escape};
use crate::value::RegValue;

/// Regedit wraps a hex line once it is this long.
const WRAP_AT: usize = 76;

impl Registry {
    /// The whole registry as regedit version-5 text (UTF-8, `\n` line ends): every key
    /// as a `[key]` section, values in insertion order.
    pub fn to_reg_text(&self) -> String {
        let mut out = header();
        for root in self.roots() {
            write_key(&mut out, root);
        }
        out
    }

    /// Writes [`Registry::to_reg_text`] to a file.
    pub fn write_file(&self, path: impl AsRef<Path>) -> Result<(), RegistryError> {
        write(path.as_ref(), &self.to_reg_text())
    }
}

impl RegFile {
    /// The entries as regedit version-5 text (UTF-8, `\n` line ends). The header is
    /// always the version-5 one, since string data is written as UTF-16LE.
    pub fn to_reg_text(&self) -> String {
        let mut out = header();
        let mut current: Option<&KeyPath> = None;
        for entry in &self.entries {
            match entry {
                RegEntry::OpenKey { path, .. } => {
                    section(&mut out, "", path);
                    current = Some(path);
                }
                RegEntry::DeleteKey { path, .. } => {
                    section(&mut out, "-", path);
                    current = None;
                }
                RegEntry::SetValue {
                    key, name, value, ..
                } => {
                    if current != Some(key) {
                        section(&mut out, "", key);
                        current = Some(key);
                    }
                    out.push_str(&value_line(name, value));
                }
                RegEntry::DeleteValue { key, name, .. } => {
                    if current != Some(key) {
                        section(&mut out, "", key);
                        current = Some(key);
                    }
                    out.push_str(&format!("{name}=-\n"));
                }
            }
        }
        out
    }

    /// Writes [`RegFile::to_reg_text`] to a file.
    pub fn write_file(&self, path: impl AsRef<Path>) -> Result<(), RegistryError> {
        write(path.as_ref(), &self.to_reg_text())
    }
}

fn write(path: &Path, text: &str) -> Result<(), RegistryError> {
    std::fs::write(path, text).map_err(|source| RegistryError::Io {
        path: path.to_owned(),
        source,
    })
}

fn header() -> String {
    format!("{}\n", RegHeader::Version5.text())
}

fn section(out: &mut String, prefix: &str, path: &KeyPath) {
    out.push_str(&format!("\n[{prefix}{path}]\n"));
}

fn write_key(out: &mut String, key: &RegKey) {
    out.push_str(&format!("\n[{}]\n", key.path()));
    for (name, value) in key.values() {
        out.push_str(&value_line(name, value));
    }
    for sub in key.subkeys() {
        write_key(out, sub);
    }
}

/// One value line (possibly wrapped), ending in a line break.
pub(crate) fn value_line(name: &ValueName, value: &RegValue) -> String {
    let mut line = format!("{name}=");
    match value {
        RegValue::Sz(text) if !text.contains(['\n', '\r', '\0']) => {
            line.push_str(&format!("\"{}\"\n", escape(text)));
            return line;
        }
        RegValue::Dword(n) => {
            line.push_str(&format!("dword:{n:08x}\n"));
            return line;
        }
        RegValue::Binary(_) => line.push_str("hex:"),
        other => line.push_str(&format!("hex({:x}):", other.kind())),
    }
    push_hex(&mut line, &value.to_bytes());
    line.push('\n');
    line
}

/// Appends comma-separated hex bytes, wrapping like regedit (`,\` and two spaces).
fn push_hex(out: &mut String, bytes: &[u8]) {
    let mut column = out.chars().count();
    for (i, byte) in bytes.iter().enumerate() {
        out.push_str(&format!("{byte:02x}"));
        column += 2;
        if i + 1 < bytes.len() {
            out.push(',');
            column += 1;
            if column >= WRAP_AT {
                out.push_str("\\\n  ");
                column = 2;
            }
        }
    }
}
