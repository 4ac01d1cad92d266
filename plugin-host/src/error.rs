//! Errors of building a host, and why a package is unavailable.

use crate::host::PackageSource;
use sspi_core::SecurityError;
use sspi_registry::{Location, RegistryError};
use std::fmt;
use std::path::PathBuf;

/// Why a host could not be built. Problems with single libraries or packages
/// are not errors: they make those packages unavailable, with an
/// [`Unavailable`] reason.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The registry files could not be read or do not describe a configuration.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

/// Why a package (or a whole provider library) is unavailable.
///
/// Every message is one line naming the library file (or the registry name
/// when it resolved to none) and, where there is one, the inner error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Unavailable {
    /// A bare library name was found in none of the directories searched.
    #[error("library {file} not found in {} (set LibraryPath in the registry or {})", list(.looked_in), crate::resolve::PLUGIN_PATH_ENV)]
    NotFound {
        /// The name as the registry writes it (`sspi_test.dll`).
        library: String,
        /// The platform file name looked for (`libsspi_test.so`).
        file: String,
        /// The directories searched, in order.
        looked_in: Vec<PathBuf>,
    },
    /// A library named with a directory part names no file.
    #[error("library file {} does not exist", .path.display())]
    NoSuchFile {
        /// The name as the registry writes it.
        library: String,
        /// The path it names (relative to the `.reg` file that set `Providers`).
        path: PathBuf,
    },
    /// The library file may be written by another user, is not a regular
    /// file or cannot be opened (`sspi_trust`); it was not loaded.
    #[error(transparent)]
    Untrusted(sspi_trust::FileError),
    /// The library file's bytes are not the ones the registry pins; it was not loaded.
    #[error("provider library {}: its SHA-256 is {}, not the {} pinned at {pinned_at}; refusing to load it", .path.display(), hex(.actual), hex(.pinned))]
    DigestMismatch {
        /// The file.
        path: PathBuf,
        /// Its digest.
        actual: [u8; 32],
        /// The digest the registry pins.
        pinned: [u8; 32],
        /// Where the pin was set.
        pinned_at: Location,
    },
    /// The library file could not be read to compute its digest.
    #[error("provider library {}: cannot be read: {error}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        error: std::io::Error,
    },
    /// The dynamic loader refused the file.
    #[error("{}: cannot be opened: {message}", .path.display())]
    CannotLoad {
        /// The file.
        path: PathBuf,
        /// The loader's message.
        message: String,
    },
    /// The file is a shared library but neither an sspi-plug package library
    /// nor a C provider.
    #[error("{}: is not an sspi-plug package library (it exports neither an abi_stable root module nor InitSecurityInterfaceW)", .path.display())]
    NotAPlugin {
        /// The file.
        path: PathBuf,
    },
    /// The library was built against another sspi-core ABI: another version,
    /// or the same version with another layout.
    #[error("{}: {}", .path.display(), abi_mismatch(.library_version, .host_version, .difference.as_deref()))]
    AbiMismatch {
        /// The file.
        path: PathBuf,
        /// The sspi-core version the library was built against.
        library_version: String,
        /// The sspi-core version of this host.
        host_version: String,
        /// The first type or field whose layout differs, when the layouts were compared.
        difference: Option<String>,
    },
    /// Any other failure of abi_stable's loader (header, C ABI, root module).
    #[error("{}: {message}", .path.display())]
    LoadFailed {
        /// The file.
        path: PathBuf,
        /// What went wrong, in one line.
        message: String,
    },
    /// `builtin:NAME` names no library linked into this program.
    #[error("no built-in library {name}{}", linked_list(.linked))]
    NoSuchBuiltin {
        /// The name asked for.
        name: String,
        /// The built-in libraries this program links.
        linked: Vec<String>,
    },
    /// The library loaded but listing its packages failed.
    #[error("{library}: listing its packages failed: {error}")]
    ListingFailed {
        /// The library.
        library: PackageSource,
        /// The library's error.
        error: SecurityError,
    },
    /// The package refused its registry parameters (or panicked opening).
    #[error("{library}: package {package} failed to initialise: {error}")]
    ParametersRejected {
        /// The package.
        package: String,
        /// Its library.
        library: PackageSource,
        /// The package's error (it names the value's file, line and column).
        error: SecurityError,
    },
    /// An earlier library already provides a package of this name.
    #[error(
        "duplicate package name {package}: already provided by {} (installed at {}); this copy from {library} (installed at {location}) is ignored", .first.0, .first.1
    )]
    Duplicate {
        /// The package name.
        package: String,
        /// The library that provides it, and where it is installed (`Providers`).
        first: Box<(PackageSource, Location)>,
        /// The library whose copy is ignored.
        library: PackageSource,
        /// Where that library is installed.
        location: Location,
    },
    /// The package was expected from a provider library that failed to load
    /// (the registry has a key for it and no loaded library provides it).
    #[error("its library {} (installed at {location}) failed to load: {reason}", .library.registry_name())]
    LibraryFailed {
        /// The library.
        library: PackageSource,
        /// Where the registry installs it (`Providers`).
        location: Location,
        /// Why the library failed.
        reason: std::sync::Arc<Unavailable>,
    },
    /// A composing package (Negotiate) could not be given the packages its
    /// registry value lists.
    #[error("{library}: package {package}: {error}")]
    Composition {
        /// The composing package.
        package: String,
        /// Its library.
        library: PackageSource,
        /// What is wrong with its list.
        error: Box<crate::CompositionError>,
    },
}

impl Unavailable {
    /// The library file the reason is about, when it resolved to one.
    pub fn library_path(&self) -> Option<&std::path::Path> {
        match self {
            Self::Untrusted(e) => Some(&e.path),
            Self::DigestMismatch { path, .. }
            | Self::Unreadable { path, .. }
            | Self::CannotLoad { path, .. }
            | Self::NotAPlugin { path }
            | Self::AbiMismatch { path, .. }
            | Self::LoadFailed { path, .. } => Some(path),
            Self::ListingFailed { library, .. }
            | Self::ParametersRejected { library, .. }
            | Self::Composition { library, .. }
            | Self::Duplicate { library, .. } => match library {
                PackageSource::Plugin { path, .. } => path.as_deref(),
                PackageSource::Builtin { .. } => None,
            },
            Self::LibraryFailed { reason, .. } => reason.library_path(),
            Self::NotFound { .. } | Self::NoSuchFile { .. } | Self::NoSuchBuiltin { .. } => None,
        }
    }
}

fn abi_mismatch(library: &str, host: &str, difference: Option<&str>) -> String {
    let versions = if library == host {
        String::new()
    } else {
        format!("built against sspi-core {library}, this host uses {host}; ")
    };
    match difference {
        Some(difference) => format!(
            "incompatible ABI: {versions}first difference: {difference}; rebuild it against this host's sspi-core"
        ),
        None => format!("incompatible ABI: {versions}rebuild it against sspi-core {host}"),
    }
}

fn list(dirs: &[PathBuf]) -> String {
    if dirs.is_empty() {
        return "no directory".into();
    }
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn linked_list(linked: &[String]) -> String {
    if linked.is_empty() {
        ": this program links none".into()
    } else {
        format!(" (this program links: {})", linked.join(", "))
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Display helper so [`PackageSource`] stays `Display` in messages above.
impl fmt::Display for crate::host::PackageState<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Available => f.write_str("available"),
            Self::Unavailable(reason) => write!(f, "unavailable: {reason}"),
        }
    }
}
