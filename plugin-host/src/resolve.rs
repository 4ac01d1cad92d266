//! Where a provider library named in the registry lives on disk.
//!
//! `"Providers"="sspi_test.dll"` names a library the way Windows CE does; on
//! this platform it is the file `libsspi_test.so` (`.dylib` on macOS). A bare
//! name is looked for, in order, in the registry's `LibraryPath` directories,
//! the `SSPI_PLUGIN_PATH` directories, the directory of the running program and
//! its parent (so `target/release/sspi` and test binaries in
//! `target/debug/deps` find the plugins cargo built beside them). A name with
//! a directory part is a path, relative to the .reg file that named it.
//!
//! The working directory is never searched: empty and relative elements of
//! `SSPI_PLUGIN_PATH` are ignored, and every library resolves to one
//! absolute, canonical path, the one that is then checked and loaded.

use std::env::consts::{DLL_PREFIX, DLL_SUFFIX};
use std::path::{Path, PathBuf};

/// The environment variable with extra plugin directories (`:`-separated, `;` on Windows).
pub const PLUGIN_PATH_ENV: &str = "SSPI_PLUGIN_PATH";

/// The platform file name of a library named `name` (`sspi_test.dll` → `libsspi_test.so`).
pub fn platform_file_name(name: &str) -> String {
    let stem = [".dll", ".so", ".dylib"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name);
    let stem = if DLL_PREFIX.is_empty() {
        stem
    } else {
        stem.strip_prefix(DLL_PREFIX).unwrap_or(stem)
    };
    format!("{DLL_PREFIX}{stem}{DLL_SUFFIX}")
}

/// The directories searched for bare library names, in order.
pub fn search_dirs(library_path: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = library_path.to_vec();
    if let Some(extra) = std::env::var_os(PLUGIN_PATH_ENV) {
        for dir in std::env::split_paths(&extra) {
            if dir.as_os_str().is_empty() {
                // "/x:" must not mean the working directory.
                continue;
            }
            if dir.is_relative() {
                tracing::warn!(
                    dir = %dir.display(),
                    "{PLUGIN_PATH_ENV}: ignoring a relative directory (it would depend on the working directory)"
                );
                continue;
            }
            dirs.push(dir);
        }
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        if let Some(parent) = exe_dir.parent() {
            let parent = parent.to_path_buf();
            dirs.push(exe_dir);
            dirs.push(parent);
        } else {
            dirs.push(exe_dir);
        }
    }
    dirs
}

/// Resolves a library named in the registry to its canonical path; the error
/// lists every place looked.
pub fn resolve(name: &str, base_dir: &Path, dirs: &[PathBuf]) -> Result<PathBuf, String> {
    let named = Path::new(name);
    if named.components().count() > 1 || named.is_absolute() {
        let path = base_dir.join(named);
        return match path.canonicalize() {
            Ok(path) if path.is_file() => Ok(path),
            _ => Err(format!("library file {} does not exist", path.display())),
        };
    }
    let file = platform_file_name(name);
    for dir in dirs {
        if let Ok(candidate) = dir.join(&file).canonicalize()
            && candidate.is_file()
        {
            return Ok(candidate);
        }
    }
    let looked: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    Err(format!(
        "library {file} not found in {} (set LibraryPath in the registry or {PLUGIN_PATH_ENV})",
        looked.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_platform_files() {
        let expected = format!("{DLL_PREFIX}sspi_test{DLL_SUFFIX}");
        assert_eq!(platform_file_name("sspi_test.dll"), expected);
        assert_eq!(platform_file_name("sspi_test"), expected);
        assert_eq!(platform_file_name(&expected), expected);
    }

    #[test]
    fn missing_library_lists_where_it_looked() {
        let err = resolve(
            "nope.dll",
            Path::new("/tmp"),
            &[PathBuf::from("/nonexistent-a")],
        )
        .unwrap_err();
        assert!(err.contains("/nonexistent-a"), "{err}");
        let err = resolve("sub/nope.so", Path::new("/base"), &[]).unwrap_err();
        assert_eq!(err, "library file /base/sub/nope.so does not exist");
    }
}
