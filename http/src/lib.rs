//! HTTP authentication for hyper 1.x servers: RFC 4559 `Negotiate` and
//! MS-NTHT `NTLM`, run on the installed security packages.
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
//! The handshake is bound to the connection: hyper serves one service per
//! connection, and [`AuthService`] keeps the connection's state. Once a
//! connection is authenticated, later requests on it are accepted without
//! `Authorization` (as IIS does with NTLM); a request that carries
//! `Authorization` again starts a new handshake.
//!
//! Limits ([`HttpAuthConfig`]): the longest `Authorization` header (refused
//! with `431`), a handshake time-out per connection, and a cap on the
//! half-done handshakes of the whole server (beyond it, `503`). A failed
//! handshake is a `401` with bare challenges and an empty body. Tokens are
//! never logged; failures are logged with the package and the status.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::service::Service;
use sspi_core::{AscReq, CredentialUse, SecBuffer, SecBufferRef, SecurityError};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle, SecurityHost};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The body type of every response this crate produces.
pub type Body = Full<Bytes>;

/// What the inner service learns about the client (a request extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The client's name as the package reports it (`alice@SSPI-PLUG.TEST`, `SSPI-PLUG\alice`).
    pub name: String,
    /// The package that authenticated it: `Kerberos` or `NTLM` (the one
    /// Negotiate picked, not `Negotiate`).
    pub package: String,
}

/// An HTTP authentication scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// RFC 4559 `Negotiate`, on the Negotiate package.
    Negotiate,
    /// MS-NTHT `NTLM`, on the NTLM package.
    Ntlm,
}

impl Scheme {
    /// The scheme's word in the headers.
    pub fn word(self) -> &'static str {
        match self {
            Scheme::Negotiate => "Negotiate",
            Scheme::Ntlm => "NTLM",
        }
    }

    /// The package the scheme's tokens go to.
    pub fn package(self) -> &'static str {
        match self {
            Scheme::Negotiate => "Negotiate",
            Scheme::Ntlm => "NTLM",
        }
    }
}

/// The server's limits and schemes.
#[derive(Debug, Clone)]
pub struct HttpAuthConfig {
    /// The schemes offered, in the order of the `WWW-Authenticate` fields.
    pub schemes: Vec<Scheme>,
    /// The longest `Authorization` header accepted, in bytes before decoding.
    pub max_header_len: usize,
    /// How long a connection's handshake may stay half done.
    pub handshake_timeout: Duration,
    /// How many half-done handshakes the server holds at once.
    pub max_pending_handshakes: usize,
}

impl Default for HttpAuthConfig {
    /// Negotiate and NTLM, 64 KiB, 10 s, 256 handshakes.
    fn default() -> Self {
        Self {
            schemes: vec![Scheme::Negotiate, Scheme::Ntlm],
            max_header_len: 64 * 1024,
            handshake_timeout: Duration::from_secs(10),
            max_pending_handshakes: 256,
        }
    }
}

/// The server-wide part: inbound credentials per scheme, the limits, and
/// the budget of half-done handshakes. Share it (in an `Arc`) among the
/// connections' [`AuthService`]s.
pub struct HttpAuthenticator {
    credentials: Vec<(Scheme, CredentialsHandle)>,
    config: HttpAuthConfig,
    pending: Arc<Semaphore>,
}

impl std::fmt::Debug for HttpAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpAuthenticator")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl HttpAuthenticator {
    /// Acquires INBOUND credentials of each configured scheme's package from
    /// `host`. A scheme whose package is missing is an error naming it.
    pub fn new(host: &SecurityHost, config: HttpAuthConfig) -> Result<Self, SecurityError> {
        let mut credentials = Vec::new();
        for &scheme in &config.schemes {
            let handle = host.acquire_credentials_handle(
                scheme.package(),
                None,
                CredentialUse::INBOUND,
                None,
            )?;
            credentials.push((scheme, handle));
        }
        Ok(Self {
            credentials,
            pending: Arc::new(Semaphore::new(config.max_pending_handshakes)),
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &HttpAuthConfig {
        &self.config
    }

    fn challenge(&self, status: StatusCode) -> Response<Body> {
        let mut response = Response::new(Body::default());
        *response.status_mut() = status;
        for (scheme, _) in &self.credentials {
            response
                .headers_mut()
                .append(WWW_AUTHENTICATE, HeaderValue::from_static(scheme.word()));
        }
        response
    }
}

/// A connection's handshake.
enum State {
    None,
    Pending {
        scheme: Scheme,
        context: Option<SecurityContextHandle>,
        deadline: Instant,
        _permit: OwnedSemaphorePermit,
    },
    Done(Authenticated),
}

/// The per-connection service: authenticates, then calls `inner` with the
/// [`Authenticated`] extension. Make one per connection (hyper does: see
/// [`serve_connection`]).
pub struct AuthService<S> {
    auth: Arc<HttpAuthenticator>,
    state: Arc<Mutex<State>>,
    inner: S,
}

impl<S> AuthService<S> {
    /// A service for one new connection.
    pub fn new(auth: Arc<HttpAuthenticator>, inner: S) -> Self {
        Self {
            auth,
            state: Arc::new(Mutex::new(State::None)),
            inner,
        }
    }
}

/// What one request's `Authorization` led to.
enum Verdict {
    /// Pass to the inner service, with a final token to send (maybe none).
    Accept(Authenticated, Option<(Scheme, Vec<u8>)>),
    /// Answer this response.
    Respond(Response<Body>),
}

fn token_header(scheme: Scheme, token: &[u8]) -> HeaderValue {
    let text = format!("{} {}", scheme.word(), BASE64.encode(token));
    // Base64 and a scheme word are visible ASCII.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("Negotiate"))
}

impl<S> AuthService<S> {
    /// Drops the connection's half-done handshake (and its slot in the
    /// server's budget) at `deadline` if it is still pending then, so an idle
    /// connection cannot hold a slot.
    fn expire_at(&self, deadline: Instant) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let state = Arc::downgrade(&self.state);
        runtime.spawn(async move {
            tokio::time::sleep_until(deadline.into()).await;
            if let Some(state) = state.upgrade() {
                let mut state = match state.lock() {
                    Ok(guard) => guard,
                    Err(poisoned) => poisoned.into_inner(),
                };
                if matches!(&*state, State::Pending { deadline: d, .. } if *d == deadline) {
                    tracing::warn!("HTTP handshake timed out");
                    *state = State::None;
                }
            }
        });
    }

    fn fail(&self, state: &mut State, package: &str, why: &str) -> Verdict {
        *state = State::None;
        tracing::warn!(package, reason = why, "HTTP authentication failed");
        Verdict::Respond(self.auth.challenge(StatusCode::UNAUTHORIZED))
    }

    fn authenticate<B>(&self, request: &Request<B>) -> Verdict {
        let mut state = match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Some(header) = request.headers().get(AUTHORIZATION) else {
            return match &*state {
                State::Done(who) => Verdict::Accept(who.clone(), None),
                _ => Verdict::Respond(self.auth.challenge(StatusCode::UNAUTHORIZED)),
            };
        };
        if header.len() > self.auth.config.max_header_len {
            *state = State::None;
            tracing::warn!(
                len = header.len(),
                limit = self.auth.config.max_header_len,
                "Authorization header too long"
            );
            return Verdict::Respond(
                self.auth
                    .challenge(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
            );
        }
        let text = header.to_str().unwrap_or("");
        let (word, data) = text.trim().split_once(' ').unwrap_or((text.trim(), ""));
        let Some((scheme, credentials)) = self
            .auth
            .credentials
            .iter()
            .find(|(s, _)| s.word().eq_ignore_ascii_case(word))
        else {
            return self.fail(
                &mut state,
                "-",
                "unsupported or malformed Authorization scheme",
            );
        };
        let scheme = *scheme;
        let package = scheme.package();
        let Ok(input) = BASE64.decode(data.trim()) else {
            return self.fail(&mut state, package, "the token is not base64");
        };
        if input.is_empty() {
            return self.fail(&mut state, package, "the Authorization header has no token");
        }
        // A pending handshake continues only with the same scheme, in time;
        // anything else starts a new one.
        let mut context = match std::mem::replace(&mut *state, State::None) {
            State::Pending {
                scheme: s,
                context,
                deadline,
                _permit,
            } if s == scheme => {
                if Instant::now() > deadline {
                    return self.fail(&mut state, package, "handshake timed out");
                }
                Some((context, deadline, _permit))
            }
            _ => None,
        };
        let (mut ctx, deadline, permit) = match context.take() {
            Some(c) => c,
            None => {
                let Ok(permit) = Arc::clone(&self.auth.pending).try_acquire_owned() else {
                    tracing::warn!(package, "too many half-done HTTP handshakes");
                    return Verdict::Respond(self.auth.challenge(StatusCode::SERVICE_UNAVAILABLE));
                };
                (
                    None,
                    Instant::now() + self.auth.config.handshake_timeout,
                    permit,
                )
            }
        };
        let mut out = vec![0u8; credentials.package_info().max_token as usize];
        let inputs = [SecBufferRef::token(&input)];
        let mut outputs = [SecBuffer::token(&mut out)];
        let step = credentials.accept_security_context(
            &mut ctx,
            AscReq::MUTUAL_AUTH,
            &inputs,
            &mut outputs,
        );
        let step = match step {
            Ok(step) => step,
            Err(e) => {
                tracing::warn!(package, status = %e.status(), reason = e.message(), "AcceptSecurityContext failed");
                *state = State::None;
                return Verdict::Respond(self.auth.challenge(StatusCode::UNAUTHORIZED));
            }
        };
        if step.needs_complete()
            && let Some(c) = ctx.as_mut()
            && let Err(e) = c.complete_auth_token(&mut outputs)
        {
            tracing::warn!(package, status = %e.status(), reason = e.message(), "CompleteAuthToken failed");
            *state = State::None;
            return Verdict::Respond(self.auth.challenge(StatusCode::UNAUTHORIZED));
        }
        let token = outputs[0].as_slice().to_vec();
        if step.needs_continue() {
            if token.is_empty() {
                return self.fail(&mut state, package, "a continuation without a token");
            }
            *state = State::Pending {
                scheme,
                context: ctx,
                deadline,
                _permit: permit,
            };
            self.expire_at(deadline);
            let mut response = Response::new(Body::default());
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, token_header(scheme, &token));
            return Verdict::Respond(response);
        }
        let Some(ctx) = ctx else {
            return self.fail(&mut state, package, "the handshake ended without a context");
        };
        let name = match ctx.names() {
            Ok(name) => name,
            Err(e) => {
                tracing::warn!(package, status = %e.status(), "QueryContextAttributes(NAMES) failed");
                *state = State::None;
                return Verdict::Respond(self.auth.challenge(StatusCode::UNAUTHORIZED));
            }
        };
        let used = match ctx.negotiation_info() {
            Ok(Some(info)) => info.package.name.to_string(),
            _ => ctx.package_name().to_string(),
        };
        let who = Authenticated {
            name,
            package: used,
        };
        tracing::info!(package = %who.package, client = %who.name, "HTTP client authenticated");
        *state = State::Done(who.clone());
        drop(permit);
        let final_token = (!token.is_empty()).then_some((scheme, token));
        Verdict::Accept(who, final_token)
    }
}

impl<B, S> Service<Request<B>> for AuthService<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, S::Error>> + Send>>;

    fn call(&self, mut request: Request<B>) -> Self::Future {
        match self.authenticate(&request) {
            Verdict::Respond(response) => Box::pin(async move { Ok(response) }),
            Verdict::Accept(who, final_token) => {
                request.extensions_mut().insert(who);
                let future = self.inner.call(request);
                Box::pin(async move {
                    let mut response = future.await?;
                    if let Some((scheme, token)) = final_token {
                        response
                            .headers_mut()
                            .insert(WWW_AUTHENTICATE, token_header(scheme, &token));
                    }
                    Ok(response)
                })
            }
        }
    }
}

/// Serves one accepted connection with HTTP/1.1 keep-alive: an
/// [`AuthService`] of its own in front of `inner`.
pub async fn serve_connection<S>(
    stream: tokio::net::TcpStream,
    auth: Arc<HttpAuthenticator>,
    inner: S,
) -> Result<(), hyper::Error>
where
    S: Service<Request<hyper::body::Incoming>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let service = AuthService::new(auth, inner);
    hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .max_buf_size(256 * 1024)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await
}

/// Accepts connections on `listener` until it fails, serving each on a task.
pub async fn serve<S>(
    listener: tokio::net::TcpListener,
    auth: Arc<HttpAuthenticator>,
    inner: S,
) -> std::io::Result<()>
where
    S: Service<Request<hyper::body::Incoming>, Response = Response<Body>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        let (stream, peer) = listener.accept().await?;
        let auth = Arc::clone(&auth);
        let inner = inner.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_connection(stream, auth, inner).await {
                tracing::debug!(%peer, error = %e, "HTTP connection ended");
            }
        });
    }
}

/// `GET /whoami`: `200` with `NAME PACKAGE\n`; anything else `404`.
#[derive(Debug, Clone, Copy, Default)]
pub struct WhoAmI;

impl<B> Service<Request<B>> for WhoAmI {
    type Response = Response<Body>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Response<Body>, Self::Error>>;

    fn call(&self, request: Request<B>) -> Self::Future {
        let mut response = Response::new(Body::default());
        match (
            request.uri().path(),
            request.extensions().get::<Authenticated>(),
        ) {
            ("/whoami", Some(who)) if request.method() == http::Method::GET => {
                *response.body_mut() = Body::from(format!("{} {}\n", who.name, who.package));
            }
            _ => *response.status_mut() = StatusCode::NOT_FOUND,
        }
        std::future::ready(Ok(response))
    }
}
