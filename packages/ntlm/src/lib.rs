//! # The NTLM security package
//!
//! MS-NLMP NTLMv2 with extended session security, client and server:
//!
//! * ISC#1 -> NEGOTIATE (SEC_I_CONTINUE_NEEDED); ASC#1 -> CHALLENGE
//!   (SEC_I_CONTINUE_NEEDED); ISC#2 -> AUTHENTICATE (SEC_E_OK); ASC#2 ->
//!   SEC_E_OK with no output ([`NtlmClientHandshake`], [`NtlmServerHandshake`],
//!   driven by sspi-core's leg engine);
//! * NTOWFv2, the NTLMv2 response, key exchange (KEY_EXCH), the MIC over the
//!   three messages, target information (AV pairs), channel bindings;
//! * the server checks users from a user database file and/or the registry
//!   (the registry values are listed by `NtlmPackageFactory::parameters`);
//!   NTLMv1 and LM are refused, anonymous logons too;
//! * MakeSignature / VerifySignature / EncryptMessage / DecryptMessage per
//!   MS-NLMP 3.4 (HMAC-MD5 checksums, RC4 sealing, sequence numbers), in
//!   place and without allocation ([`NtlmEstablishedContext`]); each failure
//!   carries a fixed reason ("the signature does not match the message").
//!
//! Errors: wrong password or unknown user SEC_E_LOGON_DENIED; a malformed
//! message SEC_E_INVALID_TOKEN (never a panic); a MIC mismatch (the handshake
//! was tampered with) SEC_E_INVALID_TOKEN, the status for a handshake token
//! that fails validation (SEC_E_MESSAGE_ALTERED is kept for per-message
//! checksums); channel bindings that differ SEC_E_BAD_BINDINGS; a response
//! older than `MaxClockSkew` SEC_E_TIME_SKEW; replayed or reordered messages
//! SEC_E_OUT_OF_SEQUENCE; tampered messages SEC_E_MESSAGE_ALTERED.
//!
//! The crate exports what an application or a composing package needs: the
//! library ([`NTLM_LIBRARY`], also built in as `builtin:ntlm`), the package's
//! factory, credentials, handshake and context types, and its sizes. The
//! pieces tests and fuzz targets reach are under a hidden `internal` module
//! and are not part of the API.
#![deny(missing_docs)]

mod config;
mod context;
mod crypto;
mod handshake;
mod keystream;
mod messages;
mod package;
mod session_security;
mod system;
mod text;

pub use context::{ClientSetup, NtlmClientHandshake, NtlmEstablishedContext, NtlmServerHandshake};
pub use package::{
    CAPABILITIES, NtlmCredentials, NtlmPackage, NtlmPackageFactory, PACKAGE_NAME, RPC_ID,
};
pub use session_security::SIGNATURE_LEN;

/// `cbMaxToken`.
pub const MAX_TOKEN: usize = 2888;

sspi_core::declare_library!(pub NTLM_LIBRARY = "ntlm" => [NtlmPackageFactory]);

/// What the package's own tests, benchmarks and fuzz targets reach: the
/// message codecs, the MS-NLMP computations and the session security. Not
/// part of the API; it changes without notice.
#[doc(hidden)]
pub mod internal {
    /// The registry parameters and the user database.
    pub mod config {
        pub use crate::config::*;
    }
    /// The MS-NLMP key computations.
    pub mod crypto {
        pub use crate::crypto::*;
    }
    /// The three messages as computations.
    pub mod handshake {
        pub use crate::handshake::*;
    }
    /// The wire formats.
    pub mod messages {
        pub use crate::messages::*;
    }
    /// Per-message protection.
    pub mod session_security {
        pub use crate::session_security::*;
    }
    /// Random bytes and the clock.
    pub mod system {
        pub use crate::system::*;
    }
    /// UTF-16LE and upper case.
    pub mod text {
        pub use crate::text::*;
    }
}
