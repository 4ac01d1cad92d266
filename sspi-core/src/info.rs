//! Package and context information: SecPkgInfo, SecPkgContext_Sizes, lifespans.

use crate::PackageCapabilities;
use abi_stable::{StableAbi, std_types::RString};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `SecPkgInfo`: what EnumerateSecurityPackages and QuerySecurityPackageInfo return.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct PackageInfo {
    /// `fCapabilities`: SECPKG_FLAG_* bits.
    pub capabilities: PackageCapabilities,
    /// `wVersion`: the package's version.
    pub version: u16,
    /// `wRPCID`: the DCE RPC authentication-service id (SECPKG_ID_NONE = 0xFFFF).
    pub rpc_id: u16,
    /// `cbMaxToken`: the largest context-establishment token.
    pub max_token: u32,
    /// `Name`, e.g. "NTLM".
    pub name: RString,
    /// `Comment`: free text.
    pub comment: RString,
}

impl PackageInfo {
    /// SECPKG_ID_NONE: the package has no RPC id.
    pub const SECPKG_ID_NONE: u16 = 0xFFFF;
}

/// `SecPkgContext_NegotiationInfo`: which package a negotiating package
/// (Negotiate) chose, and how.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct NegotiationInfo {
    /// The negotiated package's `SecPkgInfo`.
    pub package: PackageInfo,
    /// `NegotiationState`.
    pub state: NegotiationState,
    /// The packages tried before it and why each was given up (`"Kerberos:
    /// no KDC answered"`), in order; empty when the first choice was used.
    pub fallback: RString,
}

/// `SecPkgContext_NegotiationInfo.NegotiationState`.
#[repr(u32)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NegotiationState {
    /// SECPKG_NEGOTIATION_COMPLETE: negotiated through SPNEGO.
    Complete = 0,
    /// SECPKG_NEGOTIATION_OPTIMISTIC: the optimistic mechanism was chosen, not yet confirmed.
    Optimistic = 1,
    /// SECPKG_NEGOTIATION_IN_PROGRESS: still negotiating.
    InProgress = 2,
    /// SECPKG_NEGOTIATION_DIRECT: the peer spoke the package's own protocol
    /// (a raw NTLM or Kerberos token), without SPNEGO.
    Direct = 3,
}

/// `SecPkgContext_Sizes`: the buffer sizes a context needs.
#[repr(C)]
#[derive(StableAbi, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub struct ContextSizes {
    /// `cbMaxToken`
    pub max_token: u32,
    /// `cbMaxSignature`: the size of MakeSignature's token.
    pub max_signature: u32,
    /// `cbBlockSize`: message padding granularity (0 for a stream cipher).
    pub block_size: u32,
    /// `cbSecurityTrailer`: the size of EncryptMessage's TOKEN buffer.
    pub security_trailer: u32,
}

/// A `TimeStamp`: 100-ns ticks since 1601-01-01 UTC, as a FILETIME.
#[repr(transparent)]
#[derive(StableAbi, Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TimeStamp(pub i64);

impl TimeStamp {
    /// The "never expires" value packages conventionally return.
    pub const NEVER: TimeStamp = TimeStamp(i64::MAX);
    /// Ticks between 1601-01-01 and 1970-01-01.
    const UNIX_EPOCH_TICKS: i64 = 116_444_736_000_000_000;

    /// The timestamp of a system time (saturating outside the representable range).
    pub fn from_system_time(time: SystemTime) -> TimeStamp {
        let ticks = match time.duration_since(UNIX_EPOCH) {
            // In 64-bit arithmetic (no 128-bit division): the engine reads
            // the clock before every per-message call.
            Ok(after) => i64::try_from(after.as_secs())
                .unwrap_or(i64::MAX)
                .saturating_mul(10_000_000)
                .saturating_add(i64::from(after.subsec_nanos() / 100))
                .saturating_add(Self::UNIX_EPOCH_TICKS),
            Err(before) => Self::UNIX_EPOCH_TICKS.saturating_sub(
                i64::try_from(before.duration().as_nanos() / 100).unwrap_or(i64::MAX),
            ),
        };
        TimeStamp(ticks)
    }

    /// Now.
    pub fn now() -> TimeStamp {
        Self::from_system_time(SystemTime::now())
    }

    /// This timestamp plus `duration` (saturating).
    pub fn after(self, duration: Duration) -> TimeStamp {
        let ticks = i64::try_from(duration.as_nanos() / 100).unwrap_or(i64::MAX);
        TimeStamp(self.0.saturating_add(ticks))
    }

    /// The system time of this timestamp, or `None` for [`TimeStamp::NEVER`] and
    /// values before 1970.
    pub fn to_system_time(self) -> Option<SystemTime> {
        if self == Self::NEVER {
            return None;
        }
        let since_unix = u64::try_from(self.0.checked_sub(Self::UNIX_EPOCH_TICKS)?).ok()?;
        UNIX_EPOCH.checked_add(Duration::from_nanos(since_unix.saturating_mul(100)))
    }
}

/// `SecPkgContext_Lifespan`: when a context became valid and when it expires.
#[repr(C)]
#[derive(StableAbi, Copy, Clone, Debug, PartialEq, Eq)]
pub struct Lifespan {
    /// `tsStart`
    pub start: TimeStamp,
    /// `tsExpiry`
    pub expiry: TimeStamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filetime_round_trip() {
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ts = TimeStamp::from_system_time(t);
        assert_eq!(ts.0, 1_700_000_000 * 10_000_000 + 116_444_736_000_000_000);
        assert_eq!(ts.to_system_time(), Some(t));
        assert_eq!(TimeStamp::NEVER.to_system_time(), None);
    }

    #[test]
    fn system_times_convert_to_filetime_ticks() {
        assert_eq!(
            TimeStamp::from_system_time(UNIX_EPOCH).0,
            116_444_736_000_000_000
        );
        let later = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        assert_eq!(
            TimeStamp::from_system_time(later).0,
            116_444_736_000_000_000 + 17_000_000_000_000_000 + 1_234_567
        );
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(
            TimeStamp::from_system_time(before).0,
            116_444_735_990_000_000
        );
        assert_eq!(
            TimeStamp::from_system_time(later).to_system_time().unwrap(),
            UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_700)
        );
    }
}
