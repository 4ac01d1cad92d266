//! Which registry files `sspi` reads.

use std::path::PathBuf;

/// The shipped registry, relative to the repository root.
const SHIPPED: &str = "config/sspi.reg";

/// The files named on the command line or in SSPI_REGISTRY; else the shipped
/// registry, found from the current directory or, for a program built from a
/// clone, from the clone it was built in.
pub fn files(given: &[PathBuf]) -> Vec<PathBuf> {
    if !given.is_empty() {
        return given.to_vec();
    }
    let here = PathBuf::from(SHIPPED);
    if here.is_file() {
        return vec![here];
    }
    let built_from = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/sspi.reg"));
    vec![built_from.canonicalize().unwrap_or(built_from)]
}
