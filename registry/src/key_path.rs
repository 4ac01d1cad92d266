//! Root keys and validated, normalized key paths.

use std::fmt;

use crate::error::RegistryError;
use crate::name::eq_ignore_case;

/// One of the predefined registry roots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RootKey {
    /// `HKEY_LOCAL_MACHINE` (`HKLM`).
    LocalMachine,
    /// `HKEY_CURRENT_USER` (`HKCU`).
    CurrentUser,
    /// `HKEY_CLASSES_ROOT` (`HKCR`).
    ClassesRoot,
    /// `HKEY_USERS` (`HKU`).
    Users,
    /// `HKEY_CURRENT_CONFIG` (`HKCC`).
    CurrentConfig,
}

const ROOTS: [(RootKey, &str, &str); 5] = [
    (RootKey::LocalMachine, "HKEY_LOCAL_MACHINE", "HKLM"),
    (RootKey::CurrentUser, "HKEY_CURRENT_USER", "HKCU"),
    (RootKey::ClassesRoot, "HKEY_CLASSES_ROOT", "HKCR"),
    (RootKey::Users, "HKEY_USERS", "HKU"),
    (RootKey::CurrentConfig, "HKEY_CURRENT_CONFIG", "HKCC"),
];

impl RootKey {
    /// The full name, e.g. `HKEY_LOCAL_MACHINE`.
    pub fn name(self) -> &'static str {
        ROOTS
            .iter()
            .find(|(root, _, _)| *root == self)
            .map_or("", |(_, name, _)| name)
    }

    /// Looks up a root by full name or abbreviation (`HKLM`...), case-insensitively.
    pub fn from_name(name: &str) -> Option<RootKey> {
        ROOTS
            .iter()
            .find(|(_, full, short)| eq_ignore_case(name, full) || eq_ignore_case(name, short))
            .map(|(root, _, _)| *root)
    }
}

impl fmt::Display for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The registry's nesting limit (also keeps the recursive tree code within the stack).
const MAX_DEPTH: usize = 512;

/// A validated key path such as `HKEY_LOCAL_MACHINE\Comm\SecurityProviders`.
///
/// The root is normalized to its full upper-case name; the other key names keep the
/// case they were written with. Paths compare case-insensitively.
#[derive(Debug, Clone, Eq)]
pub struct KeyPath {
    root: RootKey,
    text: String,
}

impl KeyPath {
    /// Parses a path: a root (full name or abbreviation) followed by at most 512
    /// `\`-separated key names. One trailing `\` is ignored.
    pub fn parse(path: &str) -> Result<KeyPath, RegistryError> {
        KeyPath::parse_at(path).map_err(|(_, message)| RegistryError::KeyPath {
            path: path.to_owned(),
            message,
        })
    }

    /// Like [`KeyPath::parse`], but the error carries the character offset of the fault.
    pub(crate) fn parse_at(path: &str) -> Result<KeyPath, (usize, String)> {
        let mut offset = 0usize;
        let mut parts = path.split('\\');
        let root_text = parts.next().unwrap_or("");
        let root_start = root_text.chars().take_while(|c| c.is_whitespace()).count();
        let root_name = root_text.trim();
        if root_name.is_empty() {
            let message = if path.trim().is_empty() {
                "empty key path"
            } else {
                "missing root key before `\\`"
            };
            return Err((root_start, message.to_owned()));
        }
        let root = RootKey::from_name(root_name).ok_or_else(|| {
            (
                root_start,
                format!(
                    "unknown root key \"{root_name}\" (expected HKEY_LOCAL_MACHINE, \
                     HKEY_CURRENT_USER, HKEY_CLASSES_ROOT, HKEY_USERS, HKEY_CURRENT_CONFIG \
                     or HKLM, HKCU, HKCR, HKU, HKCC)"
                ),
            )
        })?;
        offset += root_text.chars().count();
        let mut text = root.name().to_owned();
        let mut parts = parts.peekable();
        let mut depth = 0usize;
        while let Some(part) = parts.next() {
            // `offset` is at the backslash in front of `part`.
            let start = offset + 1;
            if part.is_empty() {
                if parts.peek().is_none() {
                    break; // one trailing backslash
                }
                return Err((
                    offset + 1,
                    "empty key name in path (two backslashes in a row?)".to_owned(),
                ));
            }
            check_name(part).map_err(|(at, message)| (start + at, message))?;
            depth += 1;
            if depth > MAX_DEPTH {
                return Err((
                    offset,
                    format!("key path nested deeper than {MAX_DEPTH} levels"),
                ));
            }
            text.push('\\');
            text.push_str(part);
            offset = start + part.chars().count();
        }
        Ok(KeyPath { root, text })
    }

    /// The root key.
    pub fn root(&self) -> RootKey {
        self.root
    }

    /// The normalized path text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The key names below the root, in order.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.text.split('\\').skip(1)
    }

    /// The parent key, or `None` for a root key.
    pub fn parent(&self) -> Option<KeyPath> {
        self.text.rfind('\\').map(|cut| KeyPath {
            root: self.root,
            text: self.text.get(..cut).unwrap_or_default().to_owned(),
        })
    }

    /// Appends one key name.
    pub fn join(&self, name: &str) -> Result<KeyPath, RegistryError> {
        KeyPath::parse(&format!("{}\\{}", self.text, name))
    }
}

/// Rejects key names that cannot be written back to a `.reg` file.
fn check_name(name: &str) -> Result<(), (usize, String)> {
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_control() && c != '\t' {
            return Err((
                i,
                format!("control character U+{:04X} in key name", c as u32),
            ));
        }
        let next = chars.get(i + 1).copied();
        if c == ']' && next.is_some_and(|n| n.is_whitespace() || n == ';') {
            return Err((
                i,
                "`]` followed by a space or `;` inside a key name".to_owned(),
            ));
        }
    }
    Ok(())
}

impl PartialEq for KeyPath {
    fn eq(&self, other: &Self) -> bool {
        eq_ignore_case(&self.text, &other.text)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}
