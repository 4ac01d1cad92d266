//! Opening, checking and reading one trusted file.

use crate::ownership::{check_ancestors, check_file, euid};
use crate::{FileError, Policy, Reason};
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// A file opened by its canonical path after the owner-and-mode checks passed
/// (or, under [`Policy::Warn`], were reported).
#[derive(Debug)]
pub struct TrustedFile {
    what: &'static str,
    path: PathBuf,
    file: File,
}

impl TrustedFile {
    /// Resolves `path` to its canonical form, opens it without following a
    /// final symbolic link, and checks it and every directory above it under
    /// the policy of [`Policy::from_env`]. `what` names the file in errors.
    pub fn open(path: &Path, what: &'static str) -> Result<Self, FileError> {
        Self::open_with(path, what, Policy::from_env())
    }

    /// [`TrustedFile::open`] under an explicit policy.
    pub fn open_with(path: &Path, what: &'static str, policy: Policy) -> Result<Self, FileError> {
        let fail = |path: &Path, reason| FileError {
            what,
            path: path.to_owned(),
            reason,
        };
        let canonical = path
            .canonicalize()
            .map_err(|e| fail(path, Reason::Open(e)))?;
        let file = File::options()
            .read(true)
            .custom_flags(
                (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::CLOEXEC).bits() as i32,
            )
            .open(&canonical)
            .map_err(|e| fail(&canonical, Reason::Open(e)))?;
        let meta = file
            .metadata()
            .map_err(|e| fail(&canonical, Reason::Open(e)))?;
        if !meta.is_file() {
            return Err(fail(&canonical, Reason::NotARegularFile));
        }
        let euid = euid();
        let verdict = check_file(&meta, euid).and_then(|()| check_ancestors(&canonical, euid));
        if let Err(reason) = verdict {
            let error = fail(&canonical, reason);
            if policy == Policy::Enforce || !error.reason.is_permission_fault() {
                return Err(error);
            }
            tracing::warn!("{error} (allowed by {})", crate::POLICY_ENV);
        }
        Ok(Self {
            what,
            path: canonical,
            file,
        })
    }

    /// The canonical path that was checked.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open file (for hashing or reading in pieces).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// A path naming exactly this open file while it lives, for APIs that take
    /// a path (`dlopen`): `/proc/self/fd/N` on Linux, else the canonical path.
    pub fn path_of_open_file(&self) -> PathBuf {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let by_fd = PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd()));
            if by_fd.exists() {
                return by_fd;
            }
        }
        self.path.clone()
    }

    /// Reads the whole file; more than `limit` bytes is an error naming the file.
    pub fn read_to_end(&self, limit: u64) -> Result<Vec<u8>, FileError> {
        let fail = |reason| FileError {
            what: self.what,
            path: self.path.clone(),
            reason,
        };
        let mut bytes = Vec::new();
        (&self.file)
            .take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| fail(Reason::Read(e)))?;
        if bytes.len() as u64 > limit {
            return Err(fail(Reason::TooLarge { limit }));
        }
        Ok(bytes)
    }
}

/// Opens `path` as a [`TrustedFile`] and reads it whole, at most `limit` bytes.
pub fn read_file(path: &Path, what: &'static str, limit: u64) -> Result<Vec<u8>, FileError> {
    TrustedFile::open(path, what)?.read_to_end(limit)
}
