//! `SECURITY_STATUS` codes with their real SSPI values.

use abi_stable::StableAbi;
use std::fmt;

/// An SSPI `SECURITY_STATUS`: a signed 32-bit HRESULT-style code.
///
/// `SEC_E_*` codes have the high bit set (failure); `SEC_I_*` codes are
/// positive informational successes. The constants carry SSPI's own names.
#[repr(transparent)]
#[derive(StableAbi, Copy, Clone, PartialEq, Eq, Hash)]
pub struct SecurityStatus(pub i32);

macro_rules! statuses {
    ($($(#[$doc:meta])* $name:ident = $value:literal, $text:literal;)*) => {
        impl SecurityStatus {
            $(
                $(#[$doc])*
                pub const $name: SecurityStatus = SecurityStatus($value as u32 as i32);
            )*

            /// The SSPI name of this code (`"SEC_E_LOGON_DENIED"`), if it is one we know.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 as u32 {
                    $($value => Some(stringify!($name)),)*
                    _ => None,
                }
            }

            /// A short English description of this code.
            pub const fn description(self) -> &'static str {
                match self.0 as u32 {
                    $($value => $text,)*
                    _ => "unknown security status",
                }
            }
        }
    };
}

statuses! {
    /// The call succeeded.
    SEC_E_OK = 0x0000_0000, "success";
    /// Send the output token and call again with the peer's reply.
    SEC_I_CONTINUE_NEEDED = 0x0009_0312, "continue needed";
    /// Call CompleteAuthToken, send the token; the context is then complete.
    SEC_I_COMPLETE_NEEDED = 0x0009_0313, "complete needed";
    /// Call CompleteAuthToken, send the token and call again with the reply.
    SEC_I_COMPLETE_AND_CONTINUE = 0x0009_0314, "complete and continue";
    /// The logon was local.
    SEC_I_LOCAL_LOGON = 0x0009_0315, "local logon";
    /// The context has expired (informational form).
    SEC_I_CONTEXT_EXPIRED = 0x0009_0317, "context expired";
    /// The credentials supplied were not complete.
    SEC_I_INCOMPLETE_CREDENTIALS = 0x0009_0320, "incomplete credentials";
    /// The peer asked to renegotiate.
    SEC_I_RENEGOTIATE = 0x0009_0321, "renegotiate";
    /// Not enough memory.
    SEC_E_INSUFFICIENT_MEMORY = 0x8009_0300, "not enough memory";
    /// The handle is not valid or not of this package.
    SEC_E_INVALID_HANDLE = 0x8009_0301, "invalid handle";
    /// The package does not support this function.
    SEC_E_UNSUPPORTED_FUNCTION = 0x8009_0302, "function not supported";
    /// The target is unknown or unreachable.
    SEC_E_TARGET_UNKNOWN = 0x8009_0303, "target unknown";
    /// Internal failure inside the package or the security layer.
    SEC_E_INTERNAL_ERROR = 0x8009_0304, "internal error";
    /// No package with that name is installed.
    SEC_E_SECPKG_NOT_FOUND = 0x8009_0305, "security package not found";
    /// The caller does not own the credentials.
    SEC_E_NOT_OWNER = 0x8009_0306, "caller is not the owner";
    /// The package failed to initialise.
    SEC_E_CANNOT_INSTALL = 0x8009_0307, "package cannot be installed";
    /// The token is malformed or not the one expected.
    SEC_E_INVALID_TOKEN = 0x8009_0308, "invalid token";
    /// The logon buffer cannot be marshalled.
    SEC_E_CANNOT_PACK = 0x8009_0309, "cannot pack";
    /// The requested quality of protection is not supported.
    SEC_E_QOP_NOT_SUPPORTED = 0x8009_030A, "QOP not supported";
    /// The context does not allow impersonation.
    SEC_E_NO_IMPERSONATION = 0x8009_030B, "no impersonation";
    /// The logon was refused (wrong user or secret).
    SEC_E_LOGON_DENIED = 0x8009_030C, "logon denied";
    /// The credentials are not recognised.
    SEC_E_UNKNOWN_CREDENTIALS = 0x8009_030D, "unknown credentials";
    /// No credentials are available.
    SEC_E_NO_CREDENTIALS = 0x8009_030E, "no credentials";
    /// A signature or checksum did not match: the message was altered.
    SEC_E_MESSAGE_ALTERED = 0x8009_030F, "message altered";
    /// A message arrived out of sequence (replayed, reordered or lost).
    SEC_E_OUT_OF_SEQUENCE = 0x8009_0310, "message out of sequence";
    /// No authority (domain controller, KDC) could be reached.
    SEC_E_NO_AUTHENTICATING_AUTHORITY = 0x8009_0311, "no authenticating authority";
    /// Bad package identifier.
    SEC_E_BAD_PKGID = 0x8009_0316, "bad package id";
    /// The context has expired.
    SEC_E_CONTEXT_EXPIRED = 0x8009_0317, "context expired";
    /// More input is needed.
    SEC_E_INCOMPLETE_MESSAGE = 0x8009_0318, "incomplete message";
    /// The credentials are incomplete.
    SEC_E_INCOMPLETE_CREDENTIALS = 0x8009_0320, "incomplete credentials";
    /// The output buffer is too small.
    SEC_E_BUFFER_TOO_SMALL = 0x8009_0321, "buffer too small";
    /// The target principal name is wrong.
    SEC_E_WRONG_PRINCIPAL = 0x8009_0322, "wrong principal";
    /// The clocks of the peers are too far apart.
    SEC_E_TIME_SKEW = 0x8009_0324, "clock skew too great";
    /// An illegal message was received.
    SEC_E_ILLEGAL_MESSAGE = 0x8009_0326, "illegal message";
    /// Encryption failed.
    SEC_E_ENCRYPT_FAILURE = 0x8009_0329, "encryption failed";
    /// Decryption failed.
    SEC_E_DECRYPT_FAILURE = 0x8009_0330, "decryption failed";
    /// The peers have no algorithm in common.
    SEC_E_ALGORITHM_MISMATCH = 0x8009_0331, "algorithm mismatch";
    /// The context was deleted before it completed.
    SEC_E_UNFINISHED_CONTEXT_DELETED = 0x8009_0333, "unfinished context deleted";
    /// No reply to the TGT request.
    SEC_E_NO_TGT_REPLY = 0x8009_0334, "no TGT reply";
    /// The credential handle does not match the context.
    SEC_E_WRONG_CREDENTIAL_HANDLE = 0x8009_0336, "wrong credential handle";
    /// The crypto system or checksum is invalid.
    SEC_E_CRYPTO_SYSTEM_INVALID = 0x8009_0337, "crypto system invalid";
    /// The KDC received an invalid request.
    SEC_E_KDC_INVALID_REQUEST = 0x8009_0340, "invalid KDC request";
    /// The KDC could not refer the request.
    SEC_E_KDC_UNABLE_TO_REFER = 0x8009_0341, "KDC unable to refer";
    /// The KDC does not support the encryption type.
    SEC_E_KDC_UNKNOWN_ETYPE = 0x8009_0342, "KDC unknown encryption type";
    /// Unsupported pre-authentication.
    SEC_E_UNSUPPORTED_PREAUTH = 0x8009_0343, "unsupported pre-authentication";
    /// The server requires delegation, and it could not be done.
    SEC_E_DELEGATION_REQUIRED = 0x8009_0345, "delegation required";
    /// The channel bindings do not match.
    SEC_E_BAD_BINDINGS = 0x8009_0346, "channel bindings mismatch";
    /// No Kerberos key.
    SEC_E_NO_KERB_KEY = 0x8009_0348, "no Kerberos key";
    /// A downgrade was detected.
    SEC_E_DOWNGRADE_DETECTED = 0x8009_0350, "downgrade detected";
    /// An invalid parameter was passed.
    SEC_E_INVALID_PARAMETER = 0x8009_035D, "invalid parameter";
    /// Policy does not allow delegation to this service.
    SEC_E_DELEGATION_POLICY = 0x8009_035E, "delegation not allowed by policy";
    /// No context.
    SEC_E_NO_CONTEXT = 0x8009_0361, "no context";
    /// Mutual authentication failed: the peer did not prove its identity.
    SEC_E_MUTUAL_AUTH_FAILED = 0x8009_0363, "mutual authentication failed";
}

impl SecurityStatus {
    /// `SEC_E_NOT_SUPPORTED` is SSPI's alias of [`Self::SEC_E_UNSUPPORTED_FUNCTION`].
    pub const SEC_E_NOT_SUPPORTED: SecurityStatus = Self::SEC_E_UNSUPPORTED_FUNCTION;

    /// The raw 32-bit value, as SSPI's headers print it.
    pub const fn as_u32(self) -> u32 {
        self.0 as u32
    }

    /// True for `SEC_E_OK` and every `SEC_I_*` code.
    pub const fn is_success(self) -> bool {
        self.0 >= 0
    }

    /// True for failures (`SEC_E_*` other than `SEC_E_OK`).
    pub const fn is_error(self) -> bool {
        self.0 < 0
    }
}

impl fmt::Debug for SecurityStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for SecurityStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} (0x{:08X})", self.as_u32()),
            None => write!(f, "0x{:08X}", self.as_u32()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_sspi_headers() {
        assert_eq!(SecurityStatus::SEC_I_CONTINUE_NEEDED.as_u32(), 0x0009_0312);
        assert_eq!(SecurityStatus::SEC_E_LOGON_DENIED.as_u32(), 0x8009_030C);
        assert_eq!(
            SecurityStatus::SEC_E_KDC_UNKNOWN_ETYPE.as_u32(),
            0x8009_0342
        );
        assert!(SecurityStatus::SEC_I_COMPLETE_NEEDED.is_success());
        assert!(SecurityStatus::SEC_E_MESSAGE_ALTERED.is_error());
        assert_eq!(
            SecurityStatus::SEC_E_OUT_OF_SEQUENCE.to_string(),
            "SEC_E_OUT_OF_SEQUENCE (0x80090310)"
        );
    }
}
