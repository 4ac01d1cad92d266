//! # The NTLM security package
//!
//! MS-NLMP NTLMv2 with extended session security, client and server:
//!
//! * ISC#1 -> NEGOTIATE (SEC_I_CONTINUE_NEEDED); ASC#1 -> CHALLENGE
//!   (SEC_I_CONTINUE_NEEDED); ISC#2 -> AUTHENTICATE (SEC_E_OK); ASC#2 ->
//!   SEC_E_OK with no output;
//! * NTOWFv2, the NTLMv2 response, key exchange (KEY_EXCH), the MIC over the
//!   three messages, target information (AV pairs), channel bindings;
//! * the server checks users from a user database file and/or the registry
//!   ([`config`]); NTLMv1 and LM are refused, anonymous logons too;
//! * MakeSignature / VerifySignature / EncryptMessage / DecryptMessage per
//!   MS-NLMP 3.4 (HMAC-MD5 checksums, RC4 sealing, sequence numbers), in
//!   place and without allocation ([`protection`]).
//!
//! Errors: wrong password or unknown user SEC_E_LOGON_DENIED; a malformed
//! message SEC_E_INVALID_TOKEN (never a panic); a MIC mismatch (the handshake
//! was tampered with) SEC_E_INVALID_TOKEN, the status for a handshake token
//! that fails validation (SEC_E_MESSAGE_ALTERED is kept for per-message
//! checksums); channel bindings that differ SEC_E_BAD_BINDINGS; a response
//! older than `MaxClockSkew` SEC_E_TIME_SKEW; replayed or reordered messages
//! SEC_E_OUT_OF_SEQUENCE; tampered messages SEC_E_MESSAGE_ALTERED.
#![deny(missing_docs)]

pub mod config;
pub mod context;
pub mod crypto;
pub mod handshake;
pub mod messages;
pub mod package;
pub mod protection;

pub use config::NtlmConfig;
pub use context::NtlmContext;
pub use package::{NtlmCredentials, NtlmPackage, NtlmPackageFactory, PACKAGE_NAME};

/// `cbMaxToken`.
pub const MAX_TOKEN: usize = 2888;

sspi_core::declare_library!(pub NTLM_LIBRARY = "ntlm" => [NtlmPackageFactory]);
