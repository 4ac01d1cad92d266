//! The registry values of `HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Negotiate`.
//!
//! | Value | Type | Default | Meaning |
//! |---|---|---|---|
//! | `Packages` | REG_SZ | `Kerberos, NTLM` | the packages Negotiate is built from, most preferred first (the host opens them first) |
//! | `AllowNtlmFallback` | REG_DWORD 0/1 | 1 | the client may move on to NTLM when a package listed before it cannot start (no KDC answering, unknown target, no credentials) |
//! | `RequireMechListMic` | REG_DWORD 0/1 | 0 | always exchange the mechListMIC, even where RFC 4178 makes it optional |

use sspi_core::{PackageParameters, ParameterSpec, SecurityResult};

/// The registry value listing the inner packages.
pub const PACKAGES_VALUE: &str = "Packages";
/// Its default.
pub const DEFAULT_PACKAGES: &str = "Kerberos, NTLM";

/// The registry values the package reads (the table above).
pub const PARAMETERS: &[ParameterSpec] = &[
    ParameterSpec::string(
        PACKAGES_VALUE,
        DEFAULT_PACKAGES,
        "the packages Negotiate is built from, most preferred first (comma-separated)",
    ),
    ParameterSpec::flag(
        "AllowNtlmFallback",
        "1",
        "1: the client falls back to NTLM when a package listed before it cannot start; 0: it fails with SEC_E_NO_AUTHENTICATING_AUTHORITY",
    ),
    ParameterSpec::flag(
        "RequireMechListMic",
        "0",
        "1: always exchange the mechListMIC (RFC 4178 section 5), even when it is optional",
    ),
];

/// Negotiate's policy, from its registry key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiateConfig {
    /// `AllowNtlmFallback`.
    pub allow_ntlm_fallback: bool,
    /// `RequireMechListMic`.
    pub require_mech_list_mic: bool,
}

impl NegotiateConfig {
    /// Reads the policy values (the package list is the host's to read).
    pub fn from_parameters(parameters: &PackageParameters) -> SecurityResult<Self> {
        Ok(Self {
            allow_ntlm_fallback: parameters.flag("AllowNtlmFallback", true)?,
            require_mech_list_mic: parameters.flag("RequireMechListMic", false)?,
        })
    }
}
