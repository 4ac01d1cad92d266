//! The status codes the entry points return, and the guard that keeps a
//! panic from crossing into C.

use sspi_c_abi::*;
use sspi_core::{SecurityError, SecurityStatus};
use std::panic::{AssertUnwindSafe, catch_unwind};

pub(crate) type Status = SECURITY_STATUS;

pub(crate) const OK: Status = SecurityStatus::SEC_E_OK.0;
pub(crate) const INVALID_HANDLE: Status = SecurityStatus::SEC_E_INVALID_HANDLE.0;
pub(crate) const INVALID_PARAMETER: Status = SecurityStatus::SEC_E_INVALID_PARAMETER.0;
pub(crate) const UNSUPPORTED: Status = SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION.0;
pub(crate) const INTERNAL_ERROR: Status = SecurityStatus::SEC_E_INTERNAL_ERROR.0;
pub(crate) const INSUFFICIENT_MEMORY: Status = SecurityStatus::SEC_E_INSUFFICIENT_MEMORY.0;
pub(crate) const BUFFER_TOO_SMALL: Status = SecurityStatus::SEC_E_BUFFER_TOO_SMALL.0;

/// Runs an entry point's body: a panic becomes SEC_E_INTERNAL_ERROR.
#[inline(always)]
pub(crate) fn guard(body: impl FnOnce() -> Result<Status, Status>) -> Status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status) | Err(status)) => status,
        Err(_) => INTERNAL_ERROR,
    }
}

pub(crate) fn status(error: SecurityError) -> Status {
    error.status().0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_in_an_entry_point_becomes_sec_e_internal_error() {
        assert_eq!(guard(|| panic!("a bug")), INTERNAL_ERROR);
        assert_eq!(guard(|| Err(INVALID_HANDLE)), INVALID_HANDLE);
        assert_eq!(guard(|| Ok(OK)), OK);
    }
}
