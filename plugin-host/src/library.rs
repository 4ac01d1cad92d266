//! Loading one provider library: a plugin file through its abi_stable header,
//! or a built-in registered with `inventory`.

use crate::{PackageSource, Unavailable};
use abi_stable::StableAbi;
use abi_stable::abi_stability::abi_checking::{
    AbiInstability, ExpectedFound, check_layout_compatibility,
};
use abi_stable::library::{
    LibHeader, LibraryError, RawLibrary, RootModule, lib_header_from_raw_library,
};
use abi_stable::std_types::{RResult, RVec};
use abi_stable::type_layout::{TLField, TLFieldOrFunction, TypeLayout};
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

/// What a provider library file holds: an abi_stable plugin's package
/// descriptors, or a C provider's packages (see [`crate::c_provider`]).
pub enum Listed {
    /// An abi_stable plugin (or a built-in): its descriptors.
    Plugin(Descriptors),
    /// A C provider: its packages, checked and ready.
    C(Vec<(sspi_core::PackageInfo, sspi_core::ffi::PackageBox)>),
}

/// Checks the library at `path`, loads it and lists its packages: an
/// abi_stable plugin (its ABI version and layout checked) or, when it
/// exports no abi_stable root module but `InitSecurityInterfaceW`, a C
/// provider (see [`crate::c_provider`]). Errors are one line naming the file.
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
pub fn load_plugin(
    path: &Path,
    pinned: Option<&LibraryDigest>,
    source: &PackageSource,
) -> Result<Listed, Unavailable> {
    let file = check_plugin(path, pinned)?;
    let canonical = file.path().to_owned();
    let header = match open_checked(file) {
        Ok(Kind::Plugin(header)) => header,
        Ok(Kind::C(entry)) => return crate::c_provider::open(&canonical, entry).map(Listed::C),
        Err(e) => return Err(describe(&canonical, None, &e)),
    };
    let root = header
        .init_root_module::<SspiLibraryRef>()
        .map_err(|e| describe(&canonical, Some(header), &e))?;
    list(root.packages(), source).map(Listed::Plugin)
}

/// What a loaded library is.
#[derive(Clone, Copy)]
enum Kind {
    /// An abi_stable plugin, by its header.
    Plugin(&'static LibHeader),
    /// A C provider, by its `InitSecurityInterfaceW`.
    C(sspi_c_abi::InitSecurityInterfaceFnW),
}

/// A library this process has loaded, and the open file it was loaded from.
struct Loaded {
    id: (u64, u64),
    /// `None` when loading failed: the loader may still hold the library
    /// under the fd's name, so the fd stays reserved all the same.
    kind: Option<Kind>,
    /// Kept open for the life of the process: the library was loaded as
    /// `/proc/self/fd/N`, and the dynamic loader recognises loaded libraries
    /// by name, so no other file may ever be opened under that number.
    _file: TrustedFile,
}

static LOADED: Mutex<Vec<Loaded>> = Mutex::new(Vec::new());

/// Loads the checked open file (once per file: the same device and inode
/// again gives what was loaded before).
fn open_checked(file: TrustedFile) -> Result<Kind, LibraryError> {
    let id = file
        .file()
        .metadata()
        .map(|m| (m.dev(), m.ino()))
        .unwrap_or_default();
    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(kind) = loaded.iter().filter(|l| l.id == id).find_map(|l| l.kind) {
        return Ok(kind);
    }
    let kind = load_library(&file.path_of_open_file());
    loaded.push(Loaded {
        id,
        kind: kind.as_ref().ok().copied(),
        _file: file,
    });
    kind
}

/// Loads the library at `path` and finds its abi_stable header or, failing
/// that, its `InitSecurityInterfaceW`; the library stays loaded only then.
fn load_library(path: &Path) -> Result<Kind, LibraryError> {
    let raw = RawLibrary::load_at(path)?;
    // SAFETY: the header is tied to the library, which is leaked below
    // whenever anything of it is kept.
    let plugin = unsafe { lib_header_from_raw_library(&raw) };
    let kind = match plugin {
        Ok(header) => Kind::Plugin(header),
        Err(not_plugin @ LibraryError::GetSymbolError { .. }) => {
            // SAFETY: a CE-style provider's entry point has this type.
            match unsafe {
                raw.get::<sspi_c_abi::InitSecurityInterfaceFnW>(crate::c_provider::ENTRY_POINT)
            } {
                Ok(entry) => Kind::C(*entry),
                Err(_) => return Err(not_plugin),
            }
        }
        Err(other) => return Err(other),
    };
    std::mem::forget(raw);
    Ok(kind)
}

/// Opens the plugin at `path` as a trusted file and checks its pinned digest,
/// without loading it.
pub fn check_plugin(
    path: &Path,
    pinned: Option<&LibraryDigest>,
) -> Result<TrustedFile, Unavailable> {
    let file = TrustedFile::open(path, "provider library").map_err(Unavailable::Untrusted)?;
    if let Some(pinned) = pinned {
        let actual = sha256(file.file()).map_err(|error| Unavailable::Unreadable {
            path: file.path().to_owned(),
            error,
        })?;
        if actual != pinned.sha256 {
            return Err(Unavailable::DigestMismatch {
                path: file.path().to_owned(),
                actual,
                pinned: pinned.sha256,
                pinned_at: pinned.location.clone(),
            });
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

/// Lists the packages of the built-in library `name`.
pub fn load_builtin(name: &str, source: &PackageSource) -> Result<Descriptors, Unavailable> {
    let Some(library) = builtin_libraries().find(|b| b.name.eq_ignore_ascii_case(name)) else {
        return Err(Unavailable::NoSuchBuiltin {
            name: name.to_owned(),
            linked: builtin_libraries().map(|b| b.name.to_owned()).collect(),
        });
    };
    list(library.packages, source)
}

/// Calls a library's package list; the library's own guard turns a panic into an error.
fn list(
    packages: extern "C" fn() -> RResult<Descriptors, SecurityError>,
    source: &PackageSource,
) -> Result<Descriptors, Unavailable> {
    match packages() {
        RResult::ROk(list) => Ok(list),
        RResult::RErr(error) => Err(Unavailable::ListingFailed {
            library: source.clone(),
            error,
        }),
    }
}

/// abi_stable's (long, multi-line) loading errors as one typed reason.
fn describe(path: &Path, header: Option<&LibHeader>, error: &LibraryError) -> Unavailable {
    let path = path.to_owned();
    let host_version = SspiLibraryRef::VERSION_STRINGS.version.to_string();
    let failed = |message: String| Unavailable::LoadFailed {
        path: path.clone(),
        message,
    };
    match error {
        LibraryError::OpenError { err, .. } => Unavailable::CannotLoad {
            path,
            message: first_line(&err.to_string()),
        },
        LibraryError::GetSymbolError { .. } => Unavailable::NotAPlugin { path },
        LibraryError::ParseVersionError(e) => failed(format!(
            "has an unreadable ABI version: {}",
            first_line(&e.to_string())
        )),
        LibraryError::IncompatibleVersionNumber { actual_version, .. } => {
            Unavailable::AbiMismatch {
                path,
                library_version: actual_version.to_string(),
                host_version,
                difference: None,
            }
        }
        LibraryError::AbiInstability(_) => Unavailable::AbiMismatch {
            path,
            library_version: header
                .map(|h| h.version_strings().version.to_string())
                .unwrap_or_else(|| host_version.clone()),
            host_version,
            difference: header
                .and_then(LibHeader::layout)
                .and_then(first_difference),
        },
        LibraryError::InvalidAbiHeader(_) => {
            failed("was built with an incompatible abi_stable version".to_string())
        }
        LibraryError::InvalidCAbi { .. } => {
            failed("was built by a compiler with an incompatible C ABI".to_string())
        }
        LibraryError::RootModule { err, .. } => failed(format!(
            "failed to initialise: {}",
            first_line(&err.to_string())
        )),
        other => failed(first_line(&other.to_string())),
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("failed to load")
        .to_string()
}

/// The first type or field whose layout differs between this host's root
/// module and the library's, in one line (`SspiLibrary.packages: ...`).
///
/// abi_stable's loader only keeps the formatted text of its check (pages of
/// layouts), so the check is run again here for its structured errors.
fn first_difference(found: &'static TypeLayout) -> Option<String> {
    first_difference_between(<SspiLibraryRef as StableAbi>::LAYOUT, found)
}

fn first_difference_between(
    expected: &'static TypeLayout,
    found: &'static TypeLayout,
) -> Option<String> {
    let errors = check_layout_compatibility(expected, found).err()?;
    // The outer entries of a prefix type carry no error of their own.
    let first = errors
        .errors
        .iter()
        .filter(|e| !e.errs.is_empty())
        .min_by_key(|e| e.index)?;
    // `SspiLibrary.packages`: a wrapper's positional field (`PrefixRef.0`)
    // is named by its type instead, a function pointer by its field, and
    // its return value (`__returns`) as such.
    let mut path: Vec<&str> = vec![errors.interface.name()];
    let mut returns = false;
    for step in first.stack_trace.iter() {
        match &step.expected {
            TLFieldOrFunction::Field(field)
                if field.name().is_empty() || field.name().bytes().all(|b| b.is_ascii_digit()) =>
            {
                path = vec![field.layout().name()];
            }
            TLFieldOrFunction::Field(field) if field.name() == "__returns" => returns = true,
            TLFieldOrFunction::Field(field) => path.push(field.name()),
            TLFieldOrFunction::Function(function) => {
                if path.last() != Some(&function.name.as_str()) {
                    path.push(function.name.as_str());
                }
            }
        }
    }
    let path = path.join(".");
    let error = first.errs.first()?;
    // A different type: both types in full, from the field that holds them.
    let what = match (error, first.stack_trace.last()) {
        (
            AbiInstability::Name(_),
            Some(ExpectedFound {
                expected: TLFieldOrFunction::Field(expected),
                found: TLFieldOrFunction::Field(found),
            }),
        ) => format!(
            "a different type: expected {}, found {}",
            expected.full_type(),
            found.full_type()
        ),
        _ => instability(error),
    };
    let what = if returns {
        format!("its return value has {what}")
    } else {
        what
    };
    Some(format!("{path}: {what}"))
}

/// One abi_stable layout error, as "expected X, found Y".
fn instability(error: &AbiInstability) -> String {
    fn pair<T: std::fmt::Display>(what: &str, v: &ExpectedFound<T>) -> String {
        format!("{what}: expected {}, found {}", v.expected, v.found)
    }
    fn debug<T: std::fmt::Debug>(what: &str, v: &ExpectedFound<T>) -> String {
        format!("{what}: expected {:?}, found {:?}", v.expected, v.found)
    }
    fn field(v: &TLField) -> String {
        format!("`{}: {}`", v.name(), v.full_type())
    }
    match error {
        AbiInstability::Name(v) => pair("a different type", v),
        AbiInstability::Package(v) => pair("a type from another crate", v),
        AbiInstability::PackageVersion(v) => format!(
            "a type from another crate version: expected {}, found {}",
            v.expected.version, v.found.version
        ),
        AbiInstability::Size(v) => pair("a different size", v),
        AbiInstability::Alignment(v) => pair("a different alignment", v),
        AbiInstability::FieldCountMismatch(v) => pair("a different number of fields", v),
        AbiInstability::UnexpectedField(v) => format!(
            "a different field: expected {}, found {}",
            field(&v.expected),
            field(&v.found)
        ),
        AbiInstability::FieldLifetimeMismatch(v) => format!(
            "a field with other lifetimes: expected {}, found {}",
            field(&v.expected),
            field(&v.found)
        ),
        AbiInstability::FnLifetimeMismatch(v) => pair("a function with other lifetimes", v),
        AbiInstability::FnQualifierMismatch(v) => pair("a function with other qualifiers", v),
        AbiInstability::TooManyVariants(v) => pair("a different number of variants", v),
        AbiInstability::UnexpectedVariant(v) => pair("a different variant", v),
        AbiInstability::MismatchedPrefixSize(v) => pair("a different prefix", v),
        AbiInstability::NonZeroness(v) => pair("a different non-zeroness", v),
        AbiInstability::GenericParamCount(v) => pair("a different number of generic parameters", v),
        AbiInstability::TLDataDiscriminant(v) => debug("a different kind of type", v),
        AbiInstability::MismatchedPrimitive(v) => debug("a different primitive", v),
        AbiInstability::ReprAttr(v) => debug("a different repr", v),
        AbiInstability::EnumDiscriminant(v) => debug("different discriminants", v),
        AbiInstability::MismatchedExhaustiveness(v) => debug("a different exhaustiveness", v),
        other => first_line(&format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod host {
        #[repr(C)]
        #[derive(abi_stable::StableAbi)]
        pub struct Root {
            pub count: u32,
            pub inner: Inner,
        }
        #[repr(C)]
        #[derive(abi_stable::StableAbi)]
        pub struct Inner {
            pub flags: u32,
            pub packages: extern "C" fn() -> u64,
        }
    }

    mod library {
        #[repr(C)]
        #[derive(abi_stable::StableAbi)]
        pub struct Root {
            pub count: u32,
            pub inner: Inner,
        }
        #[repr(C)]
        #[derive(abi_stable::StableAbi)]
        pub struct Inner {
            pub flags: u32,
            pub packages: extern "C" fn() -> u8,
        }
    }

    #[test]
    fn the_first_difference_names_the_nested_field_in_one_line() {
        let difference = first_difference_between(
            <host::Root as StableAbi>::LAYOUT,
            <library::Root as StableAbi>::LAYOUT,
        )
        .expect("the layouts differ");
        assert!(!difference.contains('\n'), "{difference}");
        assert!(
            difference.starts_with("Root.inner.packages"),
            "names the field: {difference}"
        );
        assert!(
            difference.contains("u64") && difference.contains("u8"),
            "both types: {difference}"
        );
        assert_eq!(
            first_difference_between(
                <host::Root as StableAbi>::LAYOUT,
                <host::Root as StableAbi>::LAYOUT
            ),
            None
        );
    }
}
