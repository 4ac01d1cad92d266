//! HTTP authentication on the installed security packages: RFC 4559
//! `Negotiate` and MS-NTHT `NTLM`, for hyper 1.x and tower servers
//! ([`AuthService`], [`AuthLayer`], [`serve`], [`serve_tls`]) and for clients
//! ([`HttpClient`]), over TCP or TLS with `tls-server-end-point` channel
//! bindings (RFC 5929).
//!
//! # Server
//!
//! A request without `Authorization` is answered `401` with
//! `WWW-Authenticate: Negotiate` (and `WWW-Authenticate: NTLM` when
//! configured). `Authorization: Negotiate <base64>` / `NTLM <base64>` tokens
//! go to AcceptSecurityContext on the Negotiate (or NTLM) package; a
//! continuation token comes back on a `401` with `WWW-Authenticate: <scheme>
//! <base64>`, and the final token (Kerberos' AP-REP) in `WWW-Authenticate` on
//! the response of the inner service. The inner service sees the client in
//! the request extension [`Authenticated`].
//!
//! The handshake is bound to the connection: each connection has its own
//! [`AuthService`], which keeps the connection's state. Once a connection
//! is authenticated, later requests on it are accepted without
//! `Authorization` (as IIS does with NTLM); a request that carries
//! `Authorization` again starts a new handshake.
//!
//! Limits ([`HttpAuthConfig`]): the longest `Authorization` header (refused
//! with `431`), a handshake time-out per connection, and a cap on the
//! half-done handshakes of the whole server (beyond it, `503`). A failed
//! handshake is a `401` with bare challenges and an empty body. Tokens are
//! never logged; failures are logged with the package and the status.
//!
//! ```no_run
//! use sspi_http::{HttpAuthConfig, HttpAuthenticator, WhoAmI};
//! use sspi_plugin_host::SecurityHost;
//! use std::sync::Arc;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let host = SecurityHost::from_registry_files(&["config/sspi.reg", "config/http-server.reg"])?;
//! let auth = Arc::new(HttpAuthenticator::new(&host, HttpAuthConfig::default())?);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! sspi_http::serve(listener, auth, WhoAmI).await; // never returns
//! # Ok(()) }
//! ```
//!
//! # Client
//!
//! ```no_run
//! use sspi_core::CredentialUse;
//! use sspi_http::{HttpClient, Scheme};
//! use sspi_plugin_host::SecurityHost;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let host = SecurityHost::from_registry_files(&["config/sspi.reg"])?;
//! let negotiate = host.acquire_credentials_handle("Negotiate", None, CredentialUse::OUTBOUND, None)?;
//! let client = HttpClient::new().with_credentials(Scheme::Negotiate, negotiate);
//! let reply = client.get(&"http://localhost:8080/whoami".parse()?).await?;
//! if let Some(how) = &reply.authentication {
//!     println!("{} via {} (mutual: {})", reply.response.status(), how.package, how.mutual);
//! }
//! # Ok(()) }
//! ```

pub mod channel_bindings;
mod client;
mod error;
mod scheme;
mod serve;
mod server;
pub mod tls;
mod whoami;

pub use client::{
    AuthenticatedResponse, ClientAuthentication, ClientConnection, HttpClient, MAX_LEGS,
};
pub use error::Error;
pub use scheme::{Challenge, Scheme, challenges, token_header};
pub use serve::{serve, serve_connection, serve_tls};
pub use server::{
    AuthFuture, AuthLayer, AuthService, Authenticated, HttpAuthConfig, HttpAuthenticator,
};
pub use tls::ServerTls;
pub use whoami::WhoAmI;

/// The body type of the responses of [`WhoAmI`] (and of the crate's own
/// `401`s when the inner service uses it).
pub type Body = http_body_util::Full<bytes::Bytes>;

/// Test-only reach into the crate; not part of the API.
#[doc(hidden)]
pub mod internal {
    /// Replaces the SEC_CHANNEL_BINDINGS a connection sends with its tokens
    /// (to check that a server refuses bindings of another channel).
    pub fn set_channel_bindings(
        connection: &mut crate::ClientConnection,
        bindings: Option<Vec<u8>>,
    ) {
        connection.channel_bindings = bindings;
    }
}
