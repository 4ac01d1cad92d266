//! What the package takes from the operating system: random bytes and the clock.

use ring::rand::{SecureRandom, SystemRandom};
use sspi_core::{SecurityError, SecurityResult, TimeStamp};

/// Fills `out` with random bytes from the operating system.
pub fn random(out: &mut [u8]) -> SecurityResult<()> {
    SystemRandom::new()
        .fill(out)
        .map_err(|_| SecurityError::internal("the system random number generator failed"))
}

/// The current time as a FILETIME (100-ns ticks since 1601-01-01 UTC), as
/// MsvAvTimestamp and the NTLMv2 response carry it.
pub fn filetime_now() -> u64 {
    u64::try_from(TimeStamp::now().0).unwrap_or(0)
}
