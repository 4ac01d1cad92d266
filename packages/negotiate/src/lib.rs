//! # The Negotiate security package
//!
//! SPNEGO (RFC 4178 with Microsoft's MS-SPNG behaviour), built from the
//! installed packages it names: the host opens `Kerberos` and `NTLM` (or the
//! registry's `Negotiate\Packages` list) first and hands them to this
//! package, whose calls into them go straight through their own vtables.
//!
//! * **Client** ([`NegotiateClientHandshake`]): NegTokenInit listing the
//!   packages in order (Kerberos under the MS-KRB5 and the krb5 OID, as
//!   Windows sends them) with an optimistic token from the first package that
//!   can make one. A package that fails before anything is sent (no KDC
//!   answering, unknown target, no credentials) is left out and the next one
//!   tried — unless it would be NTLM and `AllowNtlmFallback` is 0, which
//!   fails with SEC_E_NO_AUTHENTICATING_AUTHORITY. The fallback is logged at
//!   `info` and reported in SECPKG_ATTR_NEGOTIATION_INFO.
//! * **Server** ([`NegotiateServerHandshake`]): takes the first mechanism of
//!   the client's list it has credentials for; uses the optimistic token when
//!   it is for that mechanism, or answers with `supportedMech` and
//!   request-mic; also accepts raw NTLMSSP and raw Kerberos tokens
//!   (NEGOTIATION_INFO state DIRECT).
//! * **mechListMIC** exactly as RFC 4178 §5 and MS-SPNG say: required unless
//!   the mechanism is both sides' first choice, always with NTLM (its
//!   AUTHENTICATE carries a MIC), always with `RequireMechListMic`; NTLM's
//!   RC4 keystream restarted after each MIC. A mechanism list altered in
//!   transit (a downgrade) fails the MIC: SEC_E_INVALID_TOKEN.
//! * Per-message calls go to the negotiated package's context
//!   ([`NegotiateEstablishedContext`]); QueryContextAttributes answers as that
//!   package does, plus NEGOTIATION_INFO.
//!
//! Per credentials, an application narrows the packages with
//! `AuthIdentity::package_list` (Windows' `PackageList`: `"!ntlm"`, `"kerberos"`).
#![deny(missing_docs)]

mod client;
mod config;
mod established;
mod mechanism;
pub mod oid;
mod package;
mod package_list;
mod server;
pub mod token;

pub use client::NegotiateClientHandshake;
pub use config::{DEFAULT_PACKAGES, NegotiateConfig, PACKAGES_VALUE, PARAMETERS};
pub use established::NegotiateEstablishedContext;
pub use package::{
    CAPABILITIES, MAX_TOKEN, NegotiateCredentials, NegotiateFactory, NegotiatePackage,
    PACKAGE_NAME, RPC_ID,
};
pub use server::NegotiateServerHandshake;

sspi_core::declare_library!(pub NEGOTIATE_LIBRARY = "negotiate" => [NegotiateFactory]);
