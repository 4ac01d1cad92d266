//! The owner-and-mode rule for a file and the directories above it.

use crate::Reason;
use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

const GROUP_WRITE: u32 = 0o020;
const OTHER_WRITE: u32 = 0o002;
const STICKY: u32 = 0o1000;

/// The effective user id of this process.
pub fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Checks a file's owner and mode: no group or other write, owned by root or `euid`.
pub fn check_file(meta: &Metadata, euid: u32) -> Result<(), Reason> {
    check_owner(meta, euid)?;
    let mode = meta.permissions().mode() & 0o7777;
    match writers(mode) {
        Some(who) => Err(Reason::Writable { who, mode }),
        None => Ok(()),
    }
}

/// Checks every directory above `canonical`, nearest first.
pub fn check_ancestors(canonical: &Path, euid: u32) -> Result<(), Reason> {
    for dir in canonical.ancestors().skip(1) {
        let meta = std::fs::metadata(dir).map_err(Reason::Open)?;
        check_directory(&meta, euid).map_err(|problem| Reason::Directory {
            dir: dir.to_owned(),
            problem: Box::new(problem),
        })?;
    }
    Ok(())
}

/// A directory may be writable by others only with the sticky bit.
fn check_directory(meta: &Metadata, euid: u32) -> Result<(), Reason> {
    check_owner(meta, euid)?;
    let mode = meta.permissions().mode() & 0o7777;
    match writers(mode) {
        Some(who) if mode & STICKY == 0 => Err(Reason::Writable { who, mode }),
        _ => Ok(()),
    }
}

fn check_owner(meta: &Metadata, euid: u32) -> Result<(), Reason> {
    let owner = meta.uid();
    if owner == 0 || owner == euid {
        Ok(())
    } else {
        Err(Reason::Owner { owner, euid })
    }
}

fn writers(mode: u32) -> Option<&'static str> {
    match (mode & GROUP_WRITE != 0, mode & OTHER_WRITE != 0) {
        (true, true) => Some("group and others"),
        (true, false) => Some("group"),
        (false, true) => Some("others"),
        (false, false) => None,
    }
}
