//! The server side: [`HttpAuthenticator`] (the server-wide credentials,
//! limits and budget) and [`AuthService`] (one connection's handshake, in
//! front of the application's service), for hyper and for tower.

use crate::scheme::{Scheme, TokenSyntax, parse_item, token_header};
use http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use sspi_core::{AscReq, CredentialUse, SecBuffer, SecBufferRef, SecurityError};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle, SecurityHost};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What the inner service learns about the client (a request extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The client's name as the package reports it (`alice@SSPI-PLUG.TEST`, `SSPI-PLUG\alice`).
    pub name: String,
    /// The package that authenticated it: `Kerberos` or `NTLM` (the one
    /// Negotiate picked, not `Negotiate`).
    pub package: String,
}

/// The server's limits and schemes.
#[derive(Debug, Clone)]
pub struct HttpAuthConfig {
    /// The schemes offered, in the order of the `WWW-Authenticate` fields.
    pub schemes: Vec<Scheme>,
    /// The longest `Authorization` header accepted, in bytes before decoding.
    pub max_header_len: usize,
    /// How long a connection's handshake (and its TLS handshake) may stay half done.
    pub handshake_timeout: Duration,
    /// How many half-done handshakes the server holds at once.
    pub max_pending_handshakes: usize,
}

impl Default for HttpAuthConfig {
    /// Negotiate and NTLM, 64 KiB, 10 s, 256 handshakes.
    fn default() -> Self {
        Self {
            schemes: Scheme::ALL.to_vec(),
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

    fn challenge<R: Default>(&self, status: StatusCode) -> Response<R> {
        let mut response = Response::new(R::default());
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
/// [`Authenticated`] extension. It is a hyper `Service` and a tower
/// `Service`. Make one per connection ([`crate::serve_connection`] does;
/// with tower, apply [`AuthLayer`] per connection): NTLM's legs, and the
/// "this connection is authenticated" state, live in it.
pub struct AuthService<S> {
    auth: Arc<HttpAuthenticator>,
    state: Arc<Mutex<State>>,
    channel_bindings: Option<Arc<[u8]>>,
    inner: S,
}

/// Clones share the connection's handshake state (hyper-util's
/// `TowerToHyperService` clones the service for each request).
impl<S: Clone> Clone for AuthService<S> {
    fn clone(&self) -> Self {
        Self {
            auth: Arc::clone(&self.auth),
            state: Arc::clone(&self.state),
            channel_bindings: self.channel_bindings.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<S> AuthService<S> {
    /// A service for one new connection.
    pub fn new(auth: Arc<HttpAuthenticator>, inner: S) -> Self {
        Self {
            auth,
            state: Arc::new(Mutex::new(State::None)),
            channel_bindings: None,
            inner,
        }
    }

    /// Passes `channel_bindings` (a SEC_CHANNEL_BINDINGS, e.g. of the TLS
    /// connection's `tls-server-end-point`) to AcceptSecurityContext on every
    /// leg as SECBUFFER_CHANNEL_BINDINGS. The packages refuse a client whose
    /// bindings differ, and one that sends none when their registry value
    /// `RequireChannelBindings` is 1.
    pub fn with_channel_bindings(mut self, channel_bindings: Option<Arc<[u8]>>) -> Self {
        self.channel_bindings = channel_bindings;
        self
    }
}

/// What one request's `Authorization` led to.
enum Verdict {
    /// Pass to the inner service, with a final token to send (maybe none).
    Accept(Authenticated, Option<HeaderValue>),
    /// Answer with this status; a token (a continuation) or the bare challenges.
    Respond(StatusCode, Option<HeaderValue>),
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

    fn fail(state: &mut State, package: &str, why: &str) -> Verdict {
        *state = State::None;
        tracing::warn!(package, reason = why, "HTTP authentication failed");
        Verdict::Respond(StatusCode::UNAUTHORIZED, None)
    }

    fn refused(state: &mut State, package: &str, call: &str, error: &SecurityError) -> Verdict {
        *state = State::None;
        tracing::warn!(package, status = %error.status(), reason = error.message(), "{call} failed");
        Verdict::Respond(StatusCode::UNAUTHORIZED, None)
    }

    fn authenticate<B>(&self, request: &Request<B>) -> Verdict {
        let mut state = match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Some(header) = request.headers().get(AUTHORIZATION) else {
            return match &*state {
                State::Done(who) => Verdict::Accept(who.clone(), None),
                _ => Verdict::Respond(StatusCode::UNAUTHORIZED, None),
            };
        };
        if header.len() > self.auth.config.max_header_len {
            *state = State::None;
            tracing::warn!(
                len = header.len(),
                limit = self.auth.config.max_header_len,
                "Authorization header too long"
            );
            return Verdict::Respond(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, None);
        }
        let parsed = header.to_str().ok().and_then(parse_item);
        let Some(parsed) = parsed else {
            return Self::fail(
                &mut state,
                "-",
                "unsupported or malformed Authorization scheme",
            );
        };
        let credentials = parsed.as_ref().ok().and_then(|c| {
            self.auth
                .credentials
                .iter()
                .find(|(s, _)| *s == c.scheme)
                .map(|(_, h)| h)
        });
        let (input, scheme, credentials) = match (parsed, credentials) {
            (Ok(c), Some(h)) => (c.token, c.scheme, h),
            (Ok(c), None) => {
                return Self::fail(&mut state, c.scheme.package(), "the scheme is not offered");
            }
            (Err(TokenSyntax::NotBase64), _) => {
                return Self::fail(&mut state, "-", "the token is not base64");
            }
        };
        let package = scheme.package();
        if input.is_empty() {
            return Self::fail(&mut state, package, "the Authorization header has no token");
        }
        // A pending handshake continues only with the same scheme, in time;
        // anything else starts a new one.
        let (mut context, deadline, permit) = match std::mem::replace(&mut *state, State::None) {
            State::Pending {
                scheme: s,
                context,
                deadline,
                _permit,
            } if s == scheme => {
                if Instant::now() > deadline {
                    return Self::fail(&mut state, package, "handshake timed out");
                }
                (context, deadline, _permit)
            }
            _ => {
                let Ok(permit) = Arc::clone(&self.auth.pending).try_acquire_owned() else {
                    tracing::warn!(package, "too many half-done HTTP handshakes");
                    return Verdict::Respond(StatusCode::SERVICE_UNAVAILABLE, None);
                };
                let deadline = Instant::now() + self.auth.config.handshake_timeout;
                (None, deadline, permit)
            }
        };
        let mut out = vec![0u8; credentials.package_info().max_token as usize];
        let mut outputs = [SecBuffer::token(&mut out)];
        let step = match &self.channel_bindings {
            Some(bindings) => credentials.accept_security_context(
                &mut context,
                AscReq::MUTUAL_AUTH,
                &[
                    SecBufferRef::token(&input),
                    SecBufferRef::channel_bindings(bindings),
                ],
                &mut outputs,
            ),
            None => credentials.accept_security_context(
                &mut context,
                AscReq::MUTUAL_AUTH,
                &[SecBufferRef::token(&input)],
                &mut outputs,
            ),
        };
        let step = match step {
            Ok(step) => step,
            Err(e) => return Self::refused(&mut state, package, "AcceptSecurityContext", &e),
        };
        if step.needs_complete()
            && let Some(c) = context.as_mut()
            && let Err(e) = c.complete_auth_token(&mut outputs)
        {
            return Self::refused(&mut state, package, "CompleteAuthToken", &e);
        }
        let token = outputs[0].as_slice();
        if step.needs_continue() {
            if token.is_empty() {
                return Self::fail(&mut state, package, "a continuation without a token");
            }
            let continuation = token_header(scheme, token);
            *state = State::Pending {
                scheme,
                context,
                deadline,
                _permit: permit,
            };
            self.expire_at(deadline);
            return Verdict::Respond(StatusCode::UNAUTHORIZED, Some(continuation));
        }
        let final_token = (!token.is_empty()).then(|| token_header(scheme, token));
        let Some(context) = context else {
            return Self::fail(&mut state, package, "the handshake ended without a context");
        };
        let name = match context.names() {
            Ok(name) => name,
            Err(e) => {
                return Self::refused(&mut state, package, "QueryContextAttributes(NAMES)", &e);
            }
        };
        let used = match context.negotiation_info() {
            Ok(Some(info)) => info.package.name.to_string(),
            _ => context.package_name().to_string(),
        };
        let who = Authenticated {
            name,
            package: used,
        };
        tracing::info!(package = %who.package, client = %who.name, "HTTP client authenticated");
        *state = State::Done(who.clone());
        drop(permit);
        Verdict::Accept(who, final_token)
    }

    /// Authenticates `request`: the request with the [`Authenticated`]
    /// extension and the final token to send with the inner service's
    /// response, or the response the handshake answers itself.
    fn prepare<B, R: Default>(
        &self,
        mut request: Request<B>,
    ) -> Result<(Request<B>, Option<HeaderValue>), Response<R>> {
        match self.authenticate(&request) {
            Verdict::Respond(status, token) => Err(self.respond(status, token)),
            Verdict::Accept(who, final_token) => {
                request.extensions_mut().insert(who);
                Ok((request, final_token))
            }
        }
    }

    /// The response of a request the handshake answers itself.
    fn respond<R: Default>(&self, status: StatusCode, token: Option<HeaderValue>) -> Response<R> {
        match token {
            Some(token) => {
                let mut response = Response::new(R::default());
                *response.status_mut() = status;
                response.headers_mut().insert(WWW_AUTHENTICATE, token);
                response
            }
            None => self.auth.challenge(status),
        }
    }
}

/// The future of [`AuthService`]'s calls.
pub type AuthFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send>>;

fn with_final_token<R, E>(
    future: impl Future<Output = Result<Response<R>, E>> + Send + 'static,
    final_token: Option<HeaderValue>,
) -> AuthFuture<Response<R>, E> {
    Box::pin(async move {
        let mut response = future.await?;
        if let Some(token) = final_token {
            response.headers_mut().insert(WWW_AUTHENTICATE, token);
        }
        Ok(response)
    })
}

impl<B, S, R> hyper::service::Service<Request<B>> for AuthService<S>
where
    S: hyper::service::Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
    R: Default + Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = AuthFuture<Response<R>, S::Error>;

    fn call(&self, request: Request<B>) -> Self::Future {
        match self.prepare(request) {
            Ok((request, final_token)) => with_final_token(self.inner.call(request), final_token),
            Err(response) => Box::pin(std::future::ready(Ok(response))),
        }
    }
}

impl<B, S, R> tower_service::Service<Request<B>> for AuthService<S>
where
    S: tower_service::Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
    R: Default + Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = AuthFuture<Response<R>, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        match self.prepare(request) {
            Ok((request, final_token)) => with_final_token(self.inner.call(request), final_token),
            Err(response) => Box::pin(std::future::ready(Ok(response))),
        }
    }
}

/// A tower `Layer` that puts an [`AuthService`] with a fresh handshake state
/// in front of a service. Apply it **per connection** (the state it makes is
/// the connection's: NTLM's legs and "authenticated" live there), as in the
/// crate's `axum_whoami` example.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    auth: Arc<HttpAuthenticator>,
    channel_bindings: Option<Arc<[u8]>>,
}

impl AuthLayer {
    /// A layer for one connection, with its channel bindings (a
    /// SEC_CHANNEL_BINDINGS; `None` on plain TCP).
    pub fn new(auth: Arc<HttpAuthenticator>, channel_bindings: Option<Arc<[u8]>>) -> Self {
        Self {
            auth,
            channel_bindings,
        }
    }
}

impl<S> tower_layer::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService::new(Arc::clone(&self.auth), inner)
            .with_channel_bindings(self.channel_bindings.clone())
    }
}
