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
//!
//! The public surface is what an application or a composing package (a
//! Negotiate package) needs: the factory that opens the package from its
//! registry key ([`KerberosPackageFactory`], its values in
//! [`KerberosPackageFactory::parameters`](sspi_core::PackageFactory::parameters)),
//! the credentials, and the client and server handshakes with the
//! established context they reach, all driven through the `sspi-core` traits.
//! The protocol pieces the tests, benchmarks, fuzz targets and the demo KDC
//! (`sspi-kdc`) reach are in [`internal`], which is not a stable API.
#![deny(missing_docs)]

mod acceptor;
mod ap;
mod as_exchange;
mod ccache;
mod client;
mod config;
mod crypto;
mod delegation;
mod der;
mod established;
mod gss;
mod handshake;
mod keytab;
mod krb5_conf;
mod krb_error;
mod messages;
mod package;
mod principal;
mod protection;
mod replay;
mod tgs_exchange;
mod ticket;
mod time;
mod transport;

pub use established::KerberosEstablishedContext;
pub use handshake::{KerberosClientHandshake, KerberosServerHandshake};
pub use package::{
    KerberosCredentials, KerberosPackage, KerberosPackageFactory, MAX_TOKEN, PACKAGE_NAME, RPC_ID,
};

/// The package's protocol pieces, for its own tests, benchmarks and fuzz
/// targets and for the demo KDC: not a stable API.
#[doc(hidden)]
pub mod internal {
    /// The AP-REQ check of the acceptor.
    pub mod acceptor {
        pub use crate::acceptor::*;
    }
    /// AP-REQ and AP-REP construction.
    pub mod ap {
        pub use crate::ap::*;
    }
    /// The AS exchange.
    pub mod as_exchange {
        pub use crate::as_exchange::*;
    }
    /// MIT credential caches (FILE and DIR).
    pub mod ccache {
        pub use crate::ccache::*;
    }
    /// The registry parameters.
    pub mod config {
        pub use crate::config::*;
    }
    /// Etypes, keys and the RFC 3961 profile.
    pub mod crypto {
        pub use crate::crypto::*;
    }
    /// Delegation: the KRB-CRED of a forwarded TGT.
    pub mod delegation {
        pub use crate::delegation::*;
    }
    /// The DER length gate.
    pub mod der {
        pub use crate::der::*;
    }
    /// RFC 4121 GSS framing and the 0x8003 checksum.
    pub mod gss {
        pub use crate::gss::*;
    }
    /// The MIT keytab format.
    pub mod keytab {
        pub use crate::keytab::*;
    }
    /// The krb5.conf reader.
    pub mod krb5_conf {
        pub use crate::krb5_conf::*;
    }
    /// KRB-ERROR messages and their statuses.
    pub mod krb_error {
        pub use crate::krb_error::*;
    }
    /// RFC 4120 message helpers.
    pub mod messages {
        pub use crate::messages::*;
    }
    /// Principal names.
    pub mod principal {
        pub use crate::principal::*;
    }
    /// RFC 4121 per-message tokens.
    pub mod protection {
        pub use crate::protection::*;
    }
    /// The replay cache file.
    pub mod replay {
        pub use crate::replay::*;
    }
    /// The TGS exchange.
    pub mod tgs_exchange {
        pub use crate::tgs_exchange::*;
    }
    /// Tickets held by a client.
    pub mod ticket {
        pub use crate::ticket::*;
    }
    /// Kerberos time.
    pub mod time {
        pub use crate::time::*;
    }
    /// The KDC transport.
    pub mod transport {
        pub use crate::transport::*;
    }
}

sspi_core::declare_library!(pub KERBEROS_LIBRARY = "kerberos" => [KerberosPackageFactory]);
