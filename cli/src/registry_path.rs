//! Which registry files `sspi` reads.
//!
//! Never the working directory: a registry names the libraries the program
//! loads, so running `sspi` inside somebody else's directory must not make it
//! read their `config/sspi.reg`.

use std::path::{Path, PathBuf};

/// The installed registry, when none is named and the program has none beside it.
const SYSTEM: &str = "/etc/sspi-plug/sspi.reg";

/// The files named on the command line or in SSPI_REGISTRY; else the first
/// that exists of the places [`default_candidates`] lists.
pub fn files(given: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    let exe = std::env::current_exe()
        .and_then(|exe| exe.canonicalize())
        .map_err(|e| format!("cannot locate the running program to find its registry: {e}"))?;
    let candidates = default_candidates(&exe);
    candidates
        .iter()
        .find(|path| path.is_file())
        .map(|path| vec![path.clone()])
        .ok_or_else(|| {
            let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
            format!(
                "no registry file found (looked for {}); name one with --registry or SSPI_REGISTRY",
                looked.join(", ")
            )
        })
}

/// Where the default registry may be, relative to the program `exe`, in order:
/// the clone it was built in (`target/<profile>/sspi` → `config/sspi.reg`),
/// an installation prefix (`<prefix>/bin/sspi` → `<prefix>/etc/sspi-plug/sspi.reg`),
/// then `/etc/sspi-plug/sspi.reg`.
pub fn default_candidates(exe: &Path) -> Vec<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(prefix) = exe.parent().and_then(Path::parent) {
        if let Some(clone) = prefix.parent() {
            candidates.push(clone.join("config/sspi.reg"));
        }
        candidates.push(prefix.join("etc/sspi-plug/sspi.reg"));
    }
    candidates.push(PathBuf::from(SYSTEM));
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_depend_on_the_program_not_the_working_directory() {
        let candidates = default_candidates(Path::new("/src/clone/target/release/sspi"));
        assert_eq!(
            candidates,
            [
                PathBuf::from("/src/clone/config/sspi.reg"),
                PathBuf::from("/src/clone/target/etc/sspi-plug/sspi.reg"),
                PathBuf::from("/etc/sspi-plug/sspi.reg"),
            ]
        );
        let installed = default_candidates(Path::new("/usr/local/bin/sspi"));
        assert_eq!(
            installed[1],
            PathBuf::from("/usr/local/etc/sspi-plug/sspi.reg")
        );
        assert!(candidates.iter().chain(&installed).all(|p| p.is_absolute()));
    }
}
