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

use crate::Unavailable;
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

/// Which setting put a directory on the search path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOrigin {
    /// The registry's `LibraryPath`.
    LibraryPath,
    /// The `SSPI_PLUGIN_PATH` environment variable.
    PluginPathEnv,
    /// The directory of the program (or its parent): this one depends on
    /// which program reads the registry.
    Program,
}

/// The directories searched for bare library names, in order, each with the
/// setting that put it there. The host loading libraries and `sspi registry
/// check` both resolve through this one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPath {
    dirs: Vec<(PathBuf, SearchOrigin)>,
}

/// A library resolved to its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The canonical path of the file.
    pub path: PathBuf,
    /// The search directory it was found in; `None` for a name with a
    /// directory part (a path relative to the `.reg` file).
    pub found_in: Option<(PathBuf, SearchOrigin)>,
}

impl SearchPath {
    /// The search path of the running program: `library_path` (the
    /// registry's `LibraryPath`), `SSPI_PLUGIN_PATH`, then the program's
    /// directory and its parent.
    pub fn new(library_path: &[PathBuf]) -> Self {
        Self::for_program(library_path, std::env::current_exe().ok().as_deref())
    }

    /// The search path another program, `program`, would use with the same
    /// registry and environment (`None`: no program directory at all).
    pub fn for_program(library_path: &[PathBuf], program: Option<&Path>) -> Self {
        let mut dirs: Vec<(PathBuf, SearchOrigin)> = library_path
            .iter()
            .map(|d| (d.clone(), SearchOrigin::LibraryPath))
            .collect();
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
                dirs.push((dir, SearchOrigin::PluginPathEnv));
            }
        }
        if let Some(exe_dir) = program
            .and_then(|exe| exe.parent())
            .filter(|d| d.is_absolute())
        {
            dirs.push((exe_dir.to_path_buf(), SearchOrigin::Program));
            if let Some(parent) = exe_dir.parent() {
                dirs.push((parent.to_path_buf(), SearchOrigin::Program));
            }
        }
        Self { dirs }
    }

    /// The directories, in search order.
    pub fn dirs(&self) -> impl Iterator<Item = &(PathBuf, SearchOrigin)> {
        self.dirs.iter()
    }

    /// Resolves a library named in the registry (`name`, from the `.reg`
    /// file in `base_dir`) to its canonical path; the error lists every
    /// place looked.
    pub fn resolve(&self, name: &str, base_dir: &Path) -> Result<Resolved, Unavailable> {
        let named = Path::new(name);
        if named.components().count() > 1 || named.is_absolute() {
            let path = base_dir.join(named);
            return match path.canonicalize() {
                Ok(path) if path.is_file() => Ok(Resolved {
                    path,
                    found_in: None,
                }),
                _ => Err(Unavailable::NoSuchFile {
                    library: name.to_owned(),
                    path,
                }),
            };
        }
        let file = platform_file_name(name);
        for (dir, origin) in &self.dirs {
            if let Ok(candidate) = dir.join(&file).canonicalize()
                && candidate.is_file()
            {
                return Ok(Resolved {
                    path: candidate,
                    found_in: Some((dir.clone(), *origin)),
                });
            }
        }
        Err(Unavailable::NotFound {
            library: name.to_owned(),
            file,
            looked_in: self.dirs.iter().map(|(d, _)| d.clone()).collect(),
        })
    }
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
        let search = SearchPath::for_program(&[PathBuf::from("/nonexistent-a")], None);
        let err = search
            .resolve("nope.dll", Path::new("/tmp"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent-a"), "{err}");
        let err = search
            .resolve("sub/nope.so", Path::new("/base"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "library file /base/sub/nope.so does not exist"
        );
    }

    #[test]
    fn the_program_directory_is_the_programs_own() {
        let search = SearchPath::for_program(&[], Some(Path::new("/opt/app/bin/app")));
        let program: Vec<&PathBuf> = search
            .dirs()
            .filter(|(_, o)| *o == SearchOrigin::Program)
            .map(|(d, _)| d)
            .collect();
        assert_eq!(program, [Path::new("/opt/app/bin"), Path::new("/opt/app")]);
        let none = SearchPath::for_program(&[], None);
        assert!(none.dirs().all(|(_, o)| *o != SearchOrigin::Program));
    }
}
