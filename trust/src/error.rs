//! Why a file was not trusted.

use crate::POLICY_ENV;
use std::path::PathBuf;

/// A file that could not be opened, or was refused, in one line naming it and the reason.
#[derive(Debug, thiserror::Error)]
#[error("{what} {}: {reason}{}", path.display(), hint(reason))]
pub struct FileError {
    /// What the file is for ("registry file", "provider library", "keytab", ...).
    pub what: &'static str,
    /// The file as named, or its canonical path once resolved.
    pub path: PathBuf,
    /// Why.
    pub reason: Reason,
}

/// Why a file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    /// It does not exist or cannot be opened.
    #[error("cannot be opened: {0}")]
    Open(std::io::Error),
    /// It is a directory, a device or a FIFO.
    #[error("is not a regular file")]
    NotARegularFile,
    /// Its group or others may write it.
    #[error("is writable by {who} (mode {mode:04o})")]
    Writable {
        /// "group", "others" or "group and others".
        who: &'static str,
        /// The permission bits.
        mode: u32,
    },
    /// It belongs to a user who is neither root nor the effective user.
    #[error("is owned by uid {owner}, neither root nor this user (uid {euid})")]
    Owner {
        /// The file's owner.
        owner: u32,
        /// The effective user of this process.
        euid: u32,
    },
    /// A directory on its path has one of the faults above.
    #[error("is in the directory {}, which {problem}", dir.display())]
    Directory {
        /// The directory.
        dir: PathBuf,
        /// Its fault.
        problem: Box<Reason>,
    },
    /// It is larger than its reader accepts.
    #[error("is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// Reading it failed.
    #[error("cannot be read: {0}")]
    Read(std::io::Error),
}

impl Reason {
    /// True for the faults [`crate::Policy::Warn`] lets through: who may write the file.
    pub fn is_permission_fault(&self) -> bool {
        matches!(
            self,
            Reason::Writable { .. } | Reason::Owner { .. } | Reason::Directory { .. }
        )
    }
}

fn hint(reason: &Reason) -> String {
    if reason.is_permission_fault() {
        format!(
            "; another user could have written it (fix its owner or mode, or set {POLICY_ENV}=warn for development)"
        )
    } else {
        String::new()
    }
}
