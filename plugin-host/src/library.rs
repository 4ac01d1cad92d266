//! Loading one provider library: a plugin file through its abi_stable header,
//! or a built-in registered with `inventory`.

use abi_stable::library::{LibHeader, LibraryError, RootModule, lib_header_from_path};
use abi_stable::std_types::{RResult, RVec};
use sha2::{Digest, Sha256};
use sspi_core::SecurityError;
use sspi_core::ffi::{PackageDescriptor, SspiLibraryRef, builtin_libraries};
use sspi_registry::LibraryDigest;
use sspi_trust::TrustedFile;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Mutex;

/// The packages a library lists.
pub type Descriptors = RVec<PackageDescriptor>;

/// Checks the plugin at `path`, loads it, checks its ABI version and layout,
/// and lists its packages. Errors are one line naming the file.
///
/// Before anything of the library runs, the file is opened once and checked:
/// no other user may be able to write it or its directories (`sspi_trust`),
/// and when the registry pins its SHA-256 digest the open file's bytes must
/// have it. The open file itself is what is then loaded (through
/// `/proc/self/fd` on Linux), so the file checked is the file loaded.
///
/// Each library is loaded through its own header, so several are held at once
/// (`RootModule::load_from_file` would hand back the first one for every path).
/// Libraries are never unloaded: their code backs every object they returned.
pub fn load_plugin(path: &Path, pinned: Option<&LibraryDigest>) -> Result<Descriptors, String> {
    let file = check_plugin(path, pinned)?;
    let canonical = file.path().to_owned();
    let at = |e: &LibraryError| format!("{}: {}", canonical.display(), describe(e));
    let header = open_checked(file).map_err(|e| at(&e))?;
    let root = header
        .init_root_module::<SspiLibraryRef>()
        .map_err(|e| at(&e))?;
    list(root.packages()).map_err(|e| format!("{}: {e}", canonical.display()))
}

/// A library this process has loaded, and the open file it was loaded from.
struct Loaded {
    id: (u64, u64),
    /// `None` when loading failed: the loader may still hold the library
    /// under the fd's name, so the fd stays reserved all the same.
    header: Option<&'static LibHeader>,
    /// Kept open for the life of the process: the library was loaded as
    /// `/proc/self/fd/N`, and the dynamic loader recognises loaded libraries
    /// by name, so no other file may ever be opened under that number.
    _file: TrustedFile,
}

static LOADED: Mutex<Vec<Loaded>> = Mutex::new(Vec::new());

/// Loads the checked open file (once per file: the same device and inode
/// again gives the header loaded before).
fn open_checked(file: TrustedFile) -> Result<&'static LibHeader, LibraryError> {
    let id = file
        .file()
        .metadata()
        .map(|m| (m.dev(), m.ino()))
        .unwrap_or_default();
    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(header) = loaded.iter().filter(|l| l.id == id).find_map(|l| l.header) {
        return Ok(header);
    }
    let header = lib_header_from_path(&file.path_of_open_file());
    loaded.push(Loaded {
        id,
        header: header.as_ref().ok().copied(),
        _file: file,
    });
    header
}

/// Opens the plugin at `path` as a trusted file and checks its pinned digest,
/// without loading it.
pub fn check_plugin(path: &Path, pinned: Option<&LibraryDigest>) -> Result<TrustedFile, String> {
    let file = TrustedFile::open(path, "provider library").map_err(|e| e.to_string())?;
    if let Some(pinned) = pinned {
        let actual = sha256(file.file()).map_err(|e| {
            format!(
                "provider library {}: cannot be read: {e}",
                file.path().display()
            )
        })?;
        if actual != pinned.sha256 {
            return Err(format!(
                "provider library {}: its SHA-256 is {}, not the {} pinned at {}; refusing to load it",
                file.path().display(),
                hex(&actual),
                hex(&pinned.sha256),
                pinned.location
            ));
        }
    }
    Ok(file)
}

fn sha256(mut file: &std::fs::File) -> std::io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut chunk)? {
            0 => return Ok(hasher.finalize().into()),
            n => hasher.update(&chunk[..n]),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lists the packages of the built-in library `name`.
pub fn load_builtin(name: &str) -> Result<Descriptors, String> {
    let Some(library) = builtin_libraries().find(|b| b.name.eq_ignore_ascii_case(name)) else {
        let known: Vec<&str> = builtin_libraries().map(|b| b.name).collect();
        return Err(if known.is_empty() {
            format!("no built-in library {name}: this program links none")
        } else {
            format!(
                "no built-in library {name} (this program links: {})",
                known.join(", ")
            )
        });
    };
    list(library.packages)
}

/// Calls a library's package list; the library's own guard turns a panic into an error.
fn list(
    packages: extern "C" fn() -> RResult<Descriptors, SecurityError>,
) -> Result<Descriptors, String> {
    match packages() {
        RResult::ROk(list) => Ok(list),
        RResult::RErr(e) => Err(format!("listing its packages failed: {e}")),
    }
}

/// One line for abi_stable's (long, multi-line) loading errors.
fn describe(error: &LibraryError) -> String {
    let expected = SspiLibraryRef::VERSION_STRINGS;
    match error {
        LibraryError::OpenError { err, .. } => format!("cannot be opened: {err}"),
        LibraryError::GetSymbolError { .. } => {
            "is not an sspi-plug package library (it exports no abi_stable root module)".to_string()
        }
        LibraryError::ParseVersionError(e) => format!("has an unreadable ABI version: {e}"),
        LibraryError::IncompatibleVersionNumber { actual_version, .. } => format!(
            "was built against sspi-core {actual_version}, incompatible with this host's {expected}"
        ),
        LibraryError::AbiInstability(_) => format!(
            "has an incompatible ABI layout: it was built against a different sspi-core \
             (this host uses {expected}); rebuild it against this version"
        ),
        LibraryError::InvalidAbiHeader(_) => {
            "was built with an incompatible abi_stable version".to_string()
        }
        LibraryError::InvalidCAbi { .. } => {
            "was built by a compiler with an incompatible C ABI".to_string()
        }
        LibraryError::RootModule { err, .. } => format!("failed to initialise: {err}"),
        other => first_line(&other.to_string()),
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("failed to load")
        .to_string()
}
