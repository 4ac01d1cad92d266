//! Windows CE style registry files for sspi-plug.
//!
//! This crate reads `.reg` files in both the desktop regedit dialects
//! (`Windows Registry Editor Version 5.00` and `REGEDIT4`) and the header-less
//! Windows CE Platform Builder dialect (`multi_sz:`, `expand_sz:`, short `dword:`),
//! layers them into an in-memory [`Registry`] the way successive regedit imports
//! would, writes registries back as regedit text, and extracts the typed
//! security-provider configuration under `HKEY_LOCAL_MACHINE\Comm\SecurityProviders`
//! ([`SecurityConfig`]).
//!
//! The parser is hand-written: the `regashii` crate silently skips lines it cannot
//! read and has no CE `multi_sz:` syntax, which does not serve an administrator, so
//! here every error names the file, line, column, key and value at fault.
//!
//! ```
//! use std::path::Path;
//! use sspi_registry::{RegFile, RegValue, Registry};
//!
//! let text = br#"
//! [HKLM\Comm\SecurityProviders\NTLM]
//!     "LmCompatibilityLevelClient"=dword:3   ; NTLMv2 only
//! "#;
//! let file = RegFile::parse(text, Path::new("ntlm.reg"))?;
//! let mut registry = Registry::new();
//! registry.apply(&file);
//! let ntlm = registry.key(r"HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM").unwrap();
//! assert_eq!(ntlm.value("lmcompatibilitylevelclient"), Some(&RegValue::Dword(3)));
//! # Ok::<(), sspi_registry::RegistryError>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod encoding;
mod error;
mod file;
mod hive;
mod key_path;
mod lines;
mod location;
mod name;
mod overlay;
mod parse;
mod value;
mod write;

pub use config::{
    ADD_PROVIDERS_SUBKEY, LIBRARY_DIGESTS_SUBKEY, LibraryDigest, LibrarySpec, ProviderEntry,
    SECURITY_PROVIDERS_KEY, SecurityConfig,
};
pub use error::RegistryError;
pub use file::{MAX_FILE_SIZE, RegEntry, RegFile, RegHeader};
pub use hive::{FlatValue, RegKey, Registry};
pub use key_path::{KeyPath, RootKey};
pub use location::Location;
pub use name::{ValueName, is_secret};
pub use overlay::{drop_in_dir, layered_files};
pub use value::{
    REG_BINARY, REG_DWORD, REG_DWORD_BIG_ENDIAN, REG_EXPAND_SZ, REG_FULL_RESOURCE_DESCRIPTOR,
    REG_LINK, REG_MULTI_SZ, REG_NONE, REG_QWORD, REG_RESOURCE_LIST, REG_RESOURCE_REQUIREMENTS_LIST,
    REG_SZ, RegValue, kind_name,
};
