//! `SecurityError`: a status code with a one-line reason, as it crosses the plugin boundary.

use crate::SecurityStatus;
use abi_stable::{StableAbi, std_types::RString};
use std::fmt;

/// A failed call: the SSPI status the caller acts on, and a reason a person can read.
///
/// The reason never carries a secret. Packages build it with [`SecurityError::new`]
/// or the shorthand constructors; the host adds the package name when it reports it.
#[repr(C)]
#[derive(StableAbi, Clone, PartialEq, Eq)]
pub struct SecurityError {
    status: SecurityStatus,
    message: RString,
}

impl SecurityError {
    /// An error with `status` and a reason.
    pub fn new(status: SecurityStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: RString::from(message.into()),
        }
    }

    /// The status with its standard description as the reason.
    pub fn from_status(status: SecurityStatus) -> Self {
        Self::new(status, status.description())
    }

    /// SEC_E_INVALID_TOKEN: the peer sent something malformed or unexpected.
    pub fn invalid_token(message: impl Into<String>) -> Self {
        Self::new(SecurityStatus::SEC_E_INVALID_TOKEN, message)
    }

    /// SEC_E_OUT_OF_SEQUENCE: a call or message came in the wrong order.
    pub fn out_of_sequence(message: impl Into<String>) -> Self {
        Self::new(SecurityStatus::SEC_E_OUT_OF_SEQUENCE, message)
    }

    /// SEC_E_INTERNAL_ERROR
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(SecurityStatus::SEC_E_INTERNAL_ERROR, message)
    }

    /// True when the call panicked inside the package (the engine and the
    /// adapter report a panic as SEC_E_INTERNAL_ERROR with this reason).
    pub fn is_panic(&self) -> bool {
        self.status == SecurityStatus::SEC_E_INTERNAL_ERROR
            && self.message.as_str().contains(PANIC_PREFIX)
    }

    /// The status code.
    pub fn status(&self) -> SecurityStatus {
        self.status
    }

    /// The reason.
    pub fn message(&self) -> &str {
        self.message.as_str()
    }

    /// The same error with `context: ` put before its reason.
    pub fn context(self, context: impl fmt::Display) -> Self {
        Self::new(self.status, format!("{context}: {}", self.message))
    }
}

impl From<SecurityStatus> for SecurityError {
    fn from(status: SecurityStatus) -> Self {
        Self::from_status(status)
    }
}

impl fmt::Debug for SecurityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for SecurityError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.message)
    }
}

impl std::error::Error for SecurityError {}

/// How every panic report begins: "the package panicked in MakeSignature".
pub(crate) const PANIC_PREFIX: &str = "the package panicked in ";

/// The result of a call that can fail with a [`SecurityError`].
pub type SecurityResult<T> = Result<T, SecurityError>;
