//! The single error type of the crate.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::location::Location;

/// Everything that can go wrong while reading, writing or interpreting registry files.
///
/// Every message is one line and names the file (and, where known, the line, column,
/// key and value) at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// A registry file was refused: another user could write it, or it is too large.
    #[error(transparent)]
    Untrusted(#[from] sspi_trust::FileError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// A file is neither UTF-8 nor UTF-16LE with a byte-order mark.
    #[error("{}{}: {message}", path.display(), at(*position))]
    Encoding {
        /// The file.
        path: PathBuf,
        /// The 1-based line and column (in characters) of the first bad
        /// character, when the fault is at one.
        position: Option<(u32, u32)>,
        /// What is wrong with its encoding.
        message: String,
    },
    /// A `.reg` file line could not be read.
    #[error("{location}: {message}{}", context(key.as_deref(), value.as_deref()))]
    Syntax {
        /// Where the fault is.
        location: Location,
        /// The key the line belongs to, if known.
        key: Option<String>,
        /// The value name at fault, if known (`""` is the default value `@`).
        value: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A key path given to [`KeyPath::parse`](crate::KeyPath::parse) or a lookup is invalid.
    #[error("invalid key path \"{path}\": {message}")]
    KeyPath {
        /// The path as given.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The registry content does not make a valid security-provider configuration.
    #[error("{}{message}{}", prefix(location.as_ref()), context(Some(key), value.as_deref()))]
    Config {
        /// Where the offending value (or key) was set, if it exists at all.
        location: Option<Location>,
        /// The key at fault.
        key: String,
        /// The value name at fault, if any.
        value: Option<String>,
        /// What is wrong.
        message: String,
    },
}

fn at(position: Option<(u32, u32)>) -> String {
    position
        .map(|(line, column)| format!(":{line}:{column}"))
        .unwrap_or_default()
}

fn prefix(location: Option<&Location>) -> String {
    location.map(|l| format!("{l}: ")).unwrap_or_default()
}

/// Formats ` (key K, value "V")`, leaving out the parts that are unknown.
fn context(key: Option<&str>, value: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(key) = key {
        parts.push(format!("key {key}"));
    }
    match value {
        Some("") => parts.push("default value @".to_owned()),
        Some(name) => parts.push(format!("value \"{name}\"")),
        None => {}
    }
    let mut out = String::new();
    if !parts.is_empty() {
        let _ = write!(out, " ({})", parts.join(", "));
    }
    out
}
