//! Files sspi-plug trusts — registry files, provider libraries, keytabs, user
//! databases — opened only when no other user can have written them.
//!
//! The rule is OpenSSH's `StrictModes`: a file is refused when it is writable
//! by its group or by others, or owned by a user other than root and the
//! effective user; so is a file inside a directory (any ancestor up to `/`)
//! with the same faults, except that a directory writable by others is fine
//! when it has the sticky bit, as `/tmp` has. Setting [`POLICY_ENV`] to `warn`
//! turns those refusals into warnings for development.
//!
//! The file is resolved to its canonical path and opened once; what is then
//! checked, hashed, read or loaded is that open file, never the name again.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("users.txt");
//! # std::fs::write(&path, "SSPI-PLUG:alice:alice-password\n")?;
//! let bytes = sspi_trust::read_file(&path, "user database", 1 << 20)?;
//! assert!(bytes.starts_with(b"SSPI-PLUG:"));
//! # Ok(()) }
//! ```

mod error;
mod ownership;
mod policy;
mod trusted_file;

pub use error::{FileError, Reason};
pub use policy::{POLICY_ENV, Policy};
pub use trusted_file::{TrustedFile, read_file};
