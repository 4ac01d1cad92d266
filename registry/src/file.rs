//! The model of one parsed `.reg` file.

use std::path::Path;
use std::sync::Arc;

use crate::error::RegistryError;
use crate::key_path::KeyPath;
use crate::location::Location;
use crate::name::ValueName;
use crate::value::RegValue;

/// The largest `.reg` file read (16 MiB): far above any real configuration,
/// small enough that a wrong path such as `/dev/zero` fails at once.
pub const MAX_FILE_SIZE: u64 = 16 << 20;

/// The header line of a `.reg` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegHeader {
    /// `Windows Registry Editor Version 5.00`: `hex(2)`/`hex(7)` text is UTF-16LE.
    Version5,
    /// `REGEDIT4`: `hex(2)`/`hex(7)` text is ANSI bytes.
    Regedit4,
}

impl RegHeader {
    /// The header line text.
    pub fn text(self) -> &'static str {
        match self {
            RegHeader::Version5 => "Windows Registry Editor Version 5.00",
            RegHeader::Regedit4 => "REGEDIT4",
        }
    }
}

/// One instruction of a `.reg` file, in file order.
#[derive(Debug, Clone, PartialEq)]
pub enum RegEntry {
    /// `[path]`: open (and create) a key.
    OpenKey {
        /// The key.
        path: KeyPath,
        /// Where the line is.
        location: Location,
    },
    /// `[-path]`: delete a key with all its subkeys.
    DeleteKey {
        /// The key.
        path: KeyPath,
        /// Where the line is.
        location: Location,
    },
    /// `"name"=data` or `@=data`: set a value.
    SetValue {
        /// The key the value goes in.
        key: KeyPath,
        /// The value name.
        name: ValueName,
        /// The data.
        value: RegValue,
        /// Where the line starts.
        location: Location,
    },
    /// `"name"=-` or `@=-`: delete a value.
    DeleteValue {
        /// The key the value is in.
        key: KeyPath,
        /// The value name.
        name: ValueName,
        /// Where the line starts.
        location: Location,
    },
}

impl RegEntry {
    /// Where the entry was read.
    pub fn location(&self) -> &Location {
        match self {
            RegEntry::OpenKey { location, .. }
            | RegEntry::DeleteKey { location, .. }
            | RegEntry::SetValue { location, .. }
            | RegEntry::DeleteValue { location, .. } => location,
        }
    }
}

/// A parsed `.reg` file: its header (if any) and its entries in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct RegFile {
    /// The file the entries were read from.
    pub path: Arc<Path>,
    /// The header line, if the file has one (CE Platform Builder files have none).
    pub header: Option<RegHeader>,
    /// The entries, in file order.
    pub entries: Vec<RegEntry>,
}

impl RegFile {
    /// Reads and parses a `.reg` file (UTF-8 with or without BOM, or UTF-16LE with BOM).
    ///
    /// The file must be one no other user can write (see `sspi_trust`) and at
    /// most [`MAX_FILE_SIZE`] bytes.
    pub fn read(path: impl AsRef<Path>) -> Result<RegFile, RegistryError> {
        let path = path.as_ref();
        let bytes = sspi_trust::read_file(path, "registry file", MAX_FILE_SIZE)?;
        RegFile::parse(&bytes, path)
    }

    /// Parses the bytes of a `.reg` file; `path` is used in locations and errors.
    ///
    /// Stops at the first error.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<RegFile, RegistryError> {
        crate::parse::parse(bytes, path)
    }
}
