//! The crate's error.

use crate::Scheme;
use crate::channel_bindings::EndPointError;
use sspi_core::SecurityError;
use std::path::PathBuf;

/// What went wrong in a client request or in setting up a server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL cannot be used (scheme, host).
    #[error("{url}: {reason}")]
    Url {
        /// The URL.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// A network or file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done (names the address or the file).
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// A PEM file holds no usable certificate or key.
    #[error("{}: {reason}", file.display())]
    Pem {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// rustls refused the configuration or the handshake.
    #[error("TLS: {0}")]
    Tls(#[from] rustls::Error),
    /// The HTTP exchange failed.
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    /// A package call failed (InitializeSecurityContext, AcquireCredentialsHandle).
    #[error("{package}: {source}")]
    Security {
        /// The package.
        package: String,
        /// The package's error (its SEC_E_* status and reason).
        source: SecurityError,
    },
    /// The server offered none of the schemes this client has credentials for.
    #[error("the server offers none of our schemes (it offers: {offered})")]
    NoUsableScheme {
        /// The `WWW-Authenticate` fields, with any token data cut off.
        offered: String,
    },
    /// The server answered our token with a bare challenge or an error:
    /// it did not accept the client.
    #[error("the server refused the {scheme} authentication (HTTP {status})")]
    Refused {
        /// The scheme.
        scheme: Scheme,
        /// The final status.
        status: http::StatusCode,
    },
    /// The server's final token did not complete the context: the response
    /// cannot be trusted (RFC 4559 §5).
    #[error("mutual authentication failed: {0}")]
    MutualAuthentication(String),
    /// The handshake took more legs than any package needs.
    #[error("the {0} handshake did not finish in {1} legs")]
    TooManyLegs(Scheme, usize),
    /// The response body is longer than the client reads.
    #[error("the response body is longer than {0} bytes")]
    TooLarge(usize),
    /// No reply in time.
    #[error("timed out waiting for {0}")]
    TimedOut(&'static str),
    /// The certificate gives no `tls-server-end-point` channel binding.
    #[error(transparent)]
    ChannelBindings(#[from] EndPointError),
}
