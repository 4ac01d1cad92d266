//! # The Kerberos security package
//!
//! Kerberos V5 (RFC 4120) as an SSPI package named `Kerberos`, with the
//! RFC 4121 GSS-API mechanism's tokens:
//!
//! * client: an AS exchange for a TGT (PA-ENC-TIMESTAMP pre-authentication,
//!   the salt from the KDC's ETYPE-INFO2), a TGS exchange for the target SPN,
//!   then the AP-REQ in an InitialContextToken with the 0x8003 checksum; with
//!   `ISC_REQ_MUTUAL_AUTH` the AP-REP is checked and its subkey used. Tickets
//!   are cached in the credentials. KDC traffic happens inside
//!   InitializeSecurityContext, over TCP, with time-outs and retries;
//! * server: the AP-REQ checked with a key from an MIT keytab, clock skew,
//!   ticket times and flags, channel bindings (SECBUFFER_CHANNEL_BINDINGS,
//!   carried in the 0x8003 checksum both ways) and a replay cache file shared
//!   by the host's acceptors, then the AP-REP;
//! * MakeSignature / VerifySignature as MIC tokens, EncryptMessage /
//!   DecryptMessage as sealed wrap tokens, in place, without allocation;
//! * aes256-cts-hmac-sha1-96 and aes128-cts-hmac-sha1-96.
//!
//! picky-krb provides the ASN.1 messages, the GSS framing and the RFC 3961
//! key derivation; this crate adds what it lacks: the keytab reader, the
//! in-place RFC 3961 profile with keys derived once and constant-time MAC
//! checks, RFC 4121 token processing, the replay cache, the KDC transport
//! and the protocol logic.
#![deny(missing_docs)]

pub mod acceptor;
pub mod ap;
pub mod as_exchange;
pub mod client;
pub mod config;
pub mod context;
pub mod crypto;
pub mod der;
pub mod gss;
pub mod keytab;
pub mod krb_error;
pub mod messages;
pub mod package;
pub mod principal;
pub mod protection;
pub mod replay;
pub mod tgs_exchange;
pub mod ticket;
pub mod time;
pub mod transport;

pub use context::KerberosContext;
pub use package::{KerberosCredentials, KerberosPackage, KerberosPackageFactory, PACKAGE_NAME};

sspi_core::declare_library!(pub KERBEROS_LIBRARY = "kerberos" => [KerberosPackageFactory]);
