//! # The Test security package
//!
//! A real multi-leg handshake with mutual authentication, for
//! applications and tests that need to exercise every SSPI handshake status:
//!
//! * a SPAKE2 password-authenticated key exchange ([`pake`]): neither an
//!   eavesdropper nor an impostor of either side learns anything that tests a
//!   password offline, at most one online guess per handshake;
//! * `Legs` (3..=16) tokens: hello (client SPAKE2 element), challenge (server
//!   element and key confirmation), proof (client key confirmation), then
//!   confirmation legs; `CompleteAuthToken=1` makes every leg
//!   that produces a token return SEC_I_COMPLETE_NEEDED or
//!   SEC_I_COMPLETE_AND_CONTINUE;
//! * users and passwords from the registry key's `Users` subkeys;
//! * signatures with HMAC-SHA256 over a per-direction sequence number;
//! * sealing with AES-256-GCM (ring), keys per direction from HKDF of the
//!   SPAKE2 key bound to the handshake transcript;
//! * wrong password: SEC_E_LOGON_DENIED; tampering: SEC_E_MESSAGE_ALTERED;
//!   replay or reorder: SEC_E_OUT_OF_SEQUENCE; calls in the wrong order: a
//!   clear error, never a panic.
#![deny(missing_docs)]

pub mod config;
pub mod context;
pub mod handshake;
pub mod keys;
pub mod package;
pub mod pake;
pub mod protection;
pub mod token;

pub use context::{TestClient, TestEstablished, TestServer};
pub use package::{PACKAGE_NAME, TestCredentials, TestPackage, TestPackageFactory};

sspi_core::declare_library!(pub TEST_LIBRARY = "test" => [TestPackageFactory]);
