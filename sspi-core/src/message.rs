//! What the four per-message calls return: the quality of protection on
//! success, a status with a static reason on failure.

use crate::SecurityStatus;
use abi_stable::{StableAbi, std_types::RStr};
use std::fmt;

/// The `fQOP` of a per-message call: package-specific quality-of-protection bits.
///
/// `Qop::DEFAULT` (0) asks for the package's normal protection;
/// [`Qop::WRAP_NO_ENCRYPT`] asks EncryptMessage to sign without encrypting and
/// is what DecryptMessage reports for such a message.
#[repr(transparent)]
#[derive(StableAbi, Copy, Clone, Default, PartialEq, Eq, Hash)]
pub struct Qop(pub u32);

impl Qop {
    /// 0: the package's normal protection.
    pub const DEFAULT: Qop = Qop(0);
    /// SECQOP_WRAP_NO_ENCRYPT (= KERB_WRAP_NO_ENCRYPT, 0x80000001): integrity only.
    pub const WRAP_NO_ENCRYPT: Qop = Qop(0x8000_0001);
    /// SECQOP_WRAP_OOB_DATA (0x40000000): the message is out-of-band data.
    pub const WRAP_OOB_DATA: Qop = Qop(0x4000_0000);
}

impl fmt::Debug for Qop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::DEFAULT => f.write_str("Qop::DEFAULT"),
            Self::WRAP_NO_ENCRYPT => f.write_str("SECQOP_WRAP_NO_ENCRYPT"),
            Self::WRAP_OOB_DATA => f.write_str("SECQOP_WRAP_OOB_DATA"),
            Qop(other) => write!(f, "Qop({other:#010x})"),
        }
    }
}

/// A failed MakeSignature, VerifySignature, EncryptMessage or DecryptMessage:
/// the status the caller acts on and a fixed reason a person can read.
///
/// The reason is a `&'static str` so that building, returning and reading the
/// error never allocates: per-message calls are on every message's path.
/// Package libraries are never unloaded, so a reason from a plugin stays valid.
#[repr(C)]
#[derive(StableAbi, Copy, Clone, PartialEq, Eq)]
pub struct MessageError {
    status: SecurityStatus,
    reason: RStr<'static>,
}

impl MessageError {
    /// An error with `status` and `reason`.
    pub const fn new(status: SecurityStatus, reason: &'static str) -> Self {
        Self {
            status,
            reason: RStr::from_str(reason),
        }
    }

    /// SEC_E_MESSAGE_ALTERED: the message or its token was changed in transit.
    pub const fn altered(reason: &'static str) -> Self {
        Self::new(SecurityStatus::SEC_E_MESSAGE_ALTERED, reason)
    }

    /// SEC_E_OUT_OF_SEQUENCE: a replayed, reordered or dropped message, or a
    /// call made before the context is complete.
    pub const fn out_of_sequence(reason: &'static str) -> Self {
        Self::new(SecurityStatus::SEC_E_OUT_OF_SEQUENCE, reason)
    }

    /// SEC_E_INVALID_TOKEN: the token is malformed (wrong length, version or layout).
    pub const fn invalid_token(reason: &'static str) -> Self {
        Self::new(SecurityStatus::SEC_E_INVALID_TOKEN, reason)
    }

    /// SEC_E_INVALID_PARAMETER: the caller's buffers do not fit the call.
    pub const fn invalid_parameter(reason: &'static str) -> Self {
        Self::new(SecurityStatus::SEC_E_INVALID_PARAMETER, reason)
    }

    /// SEC_E_BUFFER_TOO_SMALL: the TOKEN buffer is shorter than `cbMaxSignature`
    /// or `cbSecurityTrailer`.
    pub const fn buffer_too_small(reason: &'static str) -> Self {
        Self::new(SecurityStatus::SEC_E_BUFFER_TOO_SMALL, reason)
    }

    /// SEC_E_INTERNAL_ERROR for a call that panicked inside the package (the
    /// engine builds these; the context is unusable afterwards).
    pub(crate) const fn panicked(reason: &'static str) -> Self {
        Self::new(SecurityStatus::SEC_E_INTERNAL_ERROR, reason)
    }

    /// True when the call panicked inside the package.
    pub fn is_panic(&self) -> bool {
        self.status == SecurityStatus::SEC_E_INTERNAL_ERROR
            && self.reason().starts_with(crate::error::PANIC_PREFIX)
    }

    /// The status code.
    pub const fn status(&self) -> SecurityStatus {
        self.status
    }

    /// The reason.
    pub fn reason(&self) -> &'static str {
        self.reason.as_str()
    }
}

impl From<SecurityStatus> for MessageError {
    /// The status with its standard description as the reason.
    fn from(status: SecurityStatus) -> Self {
        Self::new(status, status.description())
    }
}

impl PartialEq<SecurityStatus> for MessageError {
    fn eq(&self, status: &SecurityStatus) -> bool {
        self.status == *status
    }
}

impl fmt::Debug for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status, self.reason())
    }
}

impl std::error::Error for MessageError {}

/// The result of a per-message call: the QOP applied or found, or why it failed.
pub type MessageResult = Result<Qop, MessageError>;
