//! The one `SecurityHost` behind the C interface: loaded on the first call
//! from `SSPI_REGISTRY` or the default registry, then shared by every thread.

use sspi_c_abi::SECURITY_STATUS;
use sspi_core::SecurityStatus;
use sspi_plugin_host::SecurityHost;
use sspi_plugin_host::resolve::SearchPath;
use sspi_registry::SecurityConfig;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The installed registry, when none is named and none is found beside the library.
const SYSTEM: &str = "/etc/sspi-plug/sspi.reg";

static HOST: OnceLock<Result<SecurityHost, String>> = OnceLock::new();

/// The host, loading it on first use; a registry that cannot be read makes
/// every call SEC_E_INTERNAL_ERROR (SSPI's "no security provider manager"),
/// with the reason printed once on standard error.
pub(crate) fn host() -> Result<&'static SecurityHost, SECURITY_STATUS> {
    let loaded = HOST.get_or_init(|| {
        let loaded = load();
        if let Err(reason) = &loaded {
            eprintln!("libsspi: {reason}");
        }
        loaded
    });
    loaded
        .as_ref()
        .map_err(|_| SecurityStatus::SEC_E_INTERNAL_ERROR.0)
}

fn load() -> Result<SecurityHost, String> {
    let library = own_path();
    let files = registry_files(std::env::var_os("SSPI_REGISTRY"), library.as_deref())?;
    let config = SecurityConfig::load(&files).map_err(|e| e.to_string())?;
    // Bare library names resolve through LibraryPath, SSPI_PLUGIN_PATH, then
    // the directory of libsspi.so itself and its parent: the plugins cargo
    // builds beside it are found whatever program loaded it.
    let search = SearchPath::for_program(config.library_path(), library.as_deref());
    Ok(SecurityHost::from_config_with(config, &search))
}

/// The files named in `SSPI_REGISTRY` (comma-separated, as `sspi`
/// reads it), else the first that exists of [`default_candidates`].
pub(crate) fn registry_files(
    given: Option<std::ffi::OsString>,
    library: Option<&Path>,
) -> Result<Vec<PathBuf>, String> {
    if let Some(given) = given.filter(|g| !g.is_empty()) {
        let given = given
            .into_string()
            .map_err(|_| "SSPI_REGISTRY is not valid UTF-8".to_string())?;
        return Ok(given
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect());
    }
    let candidates = match library {
        Some(library) => default_candidates(library),
        None => vec![PathBuf::from(SYSTEM)],
    };
    candidates
        .iter()
        .find(|p| p.is_file())
        .map(|p| vec![p.clone()])
        .ok_or_else(|| {
            let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
            format!(
                "no registry file found (looked for {}); name one with SSPI_REGISTRY",
                looked.join(", ")
            )
        })
}

/// The `sspi` command's rule (cli/src/registry_path.rs), with libsspi.so in
/// the place of the program: the clone it was built in
/// (`target/<profile>/libsspi.so` → `config/sspi.reg`), an installation
/// prefix (`<prefix>/lib/libsspi.so` → `<prefix>/etc/sspi-plug/sspi.reg`),
/// then `/etc/sspi-plug/sspi.reg`. Never the working directory.
pub(crate) fn default_candidates(library: &Path) -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(prefix) = library.parent().and_then(Path::parent) {
        if let Some(clone) = prefix.parent() {
            candidates.push(clone.join("config/sspi.reg"));
        }
        candidates.push(prefix.join("etc/sspi-plug/sspi.reg"));
    }
    candidates.push(PathBuf::from(SYSTEM));
    candidates
}

/// The canonical path of the loaded libsspi.so (from the dynamic loader).
fn own_path() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut info = std::mem::MaybeUninit::<libc::Dl_info>::zeroed();
    let address = own_path as *const libc::c_void;
    // SAFETY: `address` is a function of this library; dladdr only writes `info`.
    let found = unsafe { libc::dladdr(address, info.as_mut_ptr()) };
    if found == 0 {
        return None;
    }
    // SAFETY: dladdr succeeded, so it initialised `info`.
    let info = unsafe { info.assume_init() };
    if info.dli_fname.is_null() {
        return None;
    }
    // SAFETY: dli_fname is a NUL-terminated string owned by the loader.
    let name = unsafe { std::ffi::CStr::from_ptr(info.dli_fname) };
    let path = Path::new(std::ffi::OsStr::from_bytes(name.to_bytes()));
    path.canonicalize().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_follow_the_library_not_the_working_directory() {
        assert_eq!(
            default_candidates(Path::new("/src/clone/target/release/libsspi.so")),
            [
                PathBuf::from("/src/clone/config/sspi.reg"),
                PathBuf::from("/src/clone/target/etc/sspi-plug/sspi.reg"),
                PathBuf::from(SYSTEM),
            ]
        );
        assert_eq!(
            default_candidates(Path::new("/usr/local/lib/libsspi.so"))[1],
            PathBuf::from("/usr/local/etc/sspi-plug/sspi.reg")
        );
        assert_eq!(
            registry_files(Some("a.reg, b.reg".into()), None).unwrap(),
            [PathBuf::from("a.reg"), PathBuf::from("b.reg")]
        );
    }
}
