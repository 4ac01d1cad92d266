//! Loading one provider library: a plugin file through its abi_stable header,
//! or a built-in registered with `inventory`.

use abi_stable::library::{LibraryError, RootModule, lib_header_from_path};
use abi_stable::std_types::{RResult, RVec};
use sspi_core::SecurityError;
use sspi_core::ffi::{PackageDescriptor, SspiLibraryRef, builtin_libraries};
use std::path::Path;

/// The packages a library lists.
pub type Descriptors = RVec<PackageDescriptor>;

/// Loads the plugin at `path`, checks its ABI version and layout, and lists its packages.
///
/// Each library is loaded through its own header, so several are held at once
/// (`RootModule::load_from_file` would hand back the first one for every path).
/// Libraries are never unloaded: their code backs every object they returned.
pub fn load_plugin(path: &Path) -> Result<Descriptors, String> {
    let header = lib_header_from_path(path).map_err(|e| describe(&e))?;
    let root = header
        .init_root_module::<SspiLibraryRef>()
        .map_err(|e| describe(&e))?;
    list(root.packages())
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
