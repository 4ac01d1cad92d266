//! Value names and the case-insensitive comparison used for key and value names.

use std::fmt;

/// The name of a registry value: the default (unnamed, `@`) value or a named one.
///
/// Names compare case-insensitively; `Named("")` is equal to `Default`, since the
/// registry stores the default value under the empty name. The parser never
/// produces `Named("")`.
#[derive(Debug, Clone, Eq)]
pub enum ValueName {
    /// The key's default value, written `@`.
    Default,
    /// A named value, written `"name"`.
    Named(String),
}

impl ValueName {
    /// The name as the registry stores it: `""` for the default value.
    pub fn as_str(&self) -> &str {
        match self {
            ValueName::Default => "",
            ValueName::Named(name) => name,
        }
    }

    /// Builds a name from the stored form: `""` becomes [`ValueName::Default`].
    pub fn from_stored(name: &str) -> Self {
        if name.is_empty() {
            ValueName::Default
        } else {
            ValueName::Named(name.to_owned())
        }
    }
}

impl PartialEq for ValueName {
    fn eq(&self, other: &Self) -> bool {
        eq_ignore_case(self.as_str(), other.as_str())
    }
}

impl fmt::Display for ValueName {
    /// Writes the name in `.reg` syntax: `@` or `"name"` with `\\` and `\"` escapes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueName::Default => f.write_str("@"),
            ValueName::Named(name) if name.is_empty() => f.write_str("@"),
            ValueName::Named(name) => write!(f, "\"{}\"", escape(name)),
        }
    }
}

/// Escapes `\` and `"` the way regedit does inside quoted strings.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\\' || c == '"' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Upper-cases one character when that gives exactly one character (like the
/// registry's simple upcase table; `ß` stays `ß`).
fn fold(c: char) -> char {
    let mut upper = c.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// True for value names that hold secrets (any containing `password`, any case):
/// their data never appears in Debug output.
pub fn is_secret(name: &str) -> bool {
    name.to_ascii_lowercase().contains("password")
}

/// A name case-folded the way [`eq_ignore_case`] compares: the key of a name in a map.
pub(crate) fn fold_name(name: &str) -> String {
    name.chars().map(fold).collect()
}

/// Compares two key or value names case-insensitively.
pub(crate) fn eq_ignore_case(a: &str, b: &str) -> bool {
    let mut a = a.chars().map(fold);
    let mut b = b.chars().map(fold);
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y => {}
            _ => return false,
        }
    }
}
