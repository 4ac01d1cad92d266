//! The client side: [`HttpClient`] answers a server's `401` challenges with
//! InitializeSecurityContext tokens on one keep-alive connection, checks the
//! server's final token, and returns the response with what authenticated it.
//!
//! The client MUST (RFC 4559, MS-NTHT):
//! - send the first request without `Authorization` and pick, from the
//!   server's bare challenges, the first scheme it has credentials for
//!   (in the order they were added: Negotiate before NTLM by default);
//! - keep every leg on the same connection (NTLM's context is the
//!   connection's), reading each `401` body in full;
//! - treat a `401` with a bare challenge after its token as a refusal, and
//!   stop after [`MAX_LEGS`] tokens;
//! - run a final `WWW-Authenticate` token of a non-`401` response through
//!   InitializeSecurityContext, and refuse the response when that fails or,
//!   with ISC_REQ_MUTUAL_AUTH, when the context is not complete (the body of
//!   an unauthenticated server cannot be trusted).

use crate::Error;
use crate::channel_bindings::tls_server_end_point;
use crate::scheme::{Scheme, challenges, token_header};
use bytes::Bytes;
use http::header::{AUTHORIZATION, HOST, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use sspi_core::{IscReq, IscRet, SecBuffer, SecBufferRef};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle};
use std::sync::Arc;
use std::time::Duration;

/// The most tokens a client sends in one handshake (SPNEGO with NTLM needs 3).
pub const MAX_LEGS: usize = 4;

/// The client: outbound credentials per scheme, the target, the context
/// requirements and TLS trust. Cheap to share; one [`ClientConnection`] per
/// server connection.
pub struct HttpClient {
    credentials: Vec<(Scheme, CredentialsHandle)>,
    target: Option<String>,
    isc_req: IscReq,
    tls: Option<Arc<rustls::ClientConfig>>,
    channel_bindings: bool,
    timeout: Duration,
    max_body_len: usize,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field(
                "schemes",
                &self.credentials.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
            )
            .field("target", &self.target)
            .field("isc_req", &self.isc_req)
            .field("channel_bindings", &self.channel_bindings)
            .field("timeout", &self.timeout)
            .field("max_body_len", &self.max_body_len)
            .finish_non_exhaustive()
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpClient {
    /// A client with no credentials yet, ISC_REQ_MUTUAL_AUTH, channel
    /// bindings on over TLS, no TLS trust (https needs
    /// [`HttpClient::with_tls`]), a 30 s time-out per reply and bodies of at
    /// most 16 MiB.
    pub fn new() -> Self {
        Self {
            credentials: Vec::new(),
            target: None,
            isc_req: IscReq::MUTUAL_AUTH,
            tls: None,
            channel_bindings: true,
            timeout: Duration::from_secs(30),
            max_body_len: 16 * 1024 * 1024,
        }
    }

    /// The longest response body read (a longer one is an error): a server
    /// cannot make the client hold more.
    pub fn with_max_body_len(mut self, bytes: usize) -> Self {
        self.max_body_len = bytes;
        self
    }

    /// Answers `scheme` challenges with OUTBOUND `credentials` (of the
    /// scheme's package: Negotiate or NTLM). Earlier schemes are preferred.
    pub fn with_credentials(mut self, scheme: Scheme, credentials: CredentialsHandle) -> Self {
        self.credentials.push((scheme, credentials));
        self
    }

    /// The target name; by default `HTTP/<host of the URL>` (RFC 4559 §4.1).
    pub fn with_target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// The ISC_REQ_* flags (default ISC_REQ_MUTUAL_AUTH; add
    /// ISC_REQ_DELEGATE to forward credentials).
    pub fn with_isc_req(mut self, isc_req: IscReq) -> Self {
        self.isc_req = isc_req;
        self
    }

    /// The TLS configuration for `https://` URLs ([`crate::tls::client_config`]).
    pub fn with_tls(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Whether to pass `tls-server-end-point` channel bindings over TLS (default yes).
    pub fn with_channel_bindings(mut self, on: bool) -> Self {
        self.channel_bindings = on;
        self
    }

    /// How long to wait for the connection and for each reply.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Opens a connection to the URL's host (TCP, and TLS for `https`).
    pub async fn connect(&self, url: &Uri) -> Result<ClientConnection, Error> {
        let bad = |reason| Error::Url {
            url: url.to_string(),
            reason,
        };
        let https = match url.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(bad("only http:// and https:// URLs are supported")),
        };
        let host = url.host().ok_or_else(|| bad("the URL has no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
        let authority = url
            .authority()
            .map(|a| a.as_str().to_string())
            .ok_or_else(|| bad("the URL has no host"))?;
        let tcp = tokio::time::timeout(
            self.timeout,
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await
        .map_err(|_| Error::TimedOut("the connection"))?
        .map_err(|source| Error::Io {
            what: format!("cannot connect to {authority}"),
            source,
        })?;
        let _ = tcp.set_nodelay(true);
        let (sender, channel_bindings) = if https {
            let config = self.tls.clone().ok_or_else(|| {
                bad("https needs a TLS configuration (a CA certificate to trust)")
            })?;
            let name = rustls::pki_types::ServerName::try_from(host.clone())
                .map_err(|_| bad("the host is not a valid TLS server name"))?;
            let stream = tokio::time::timeout(
                self.timeout,
                tokio_rustls::TlsConnector::from(config).connect(name, tcp),
            )
            .await
            .map_err(|_| Error::TimedOut("the TLS handshake"))?
            .map_err(|source| Error::Io {
                what: format!("TLS handshake with {authority} failed"),
                source,
            })?;
            let bindings = if self.channel_bindings {
                let certificate = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|chain| chain.first())
                    .map(|c| c.as_ref().to_vec());
                match certificate {
                    Some(c) => Some(sspi_core::sec_channel_bindings(&tls_server_end_point(&c)?)),
                    None => None,
                }
            } else {
                None
            };
            (handshake(stream).await?, bindings)
        } else {
            (handshake(tcp).await?, None)
        };
        Ok(ClientConnection {
            sender,
            host,
            authority,
            channel_bindings,
        })
    }

    /// `GET url` on a new connection, authenticating as the server asks.
    pub async fn get(&self, url: &Uri) -> Result<AuthenticatedResponse, Error> {
        let mut connection = self.connect(url).await?;
        let request = Request::get(url.clone())
            .body(Bytes::new())
            .map_err(|_| Error::Url {
                url: url.to_string(),
                reason: "not a valid request URL",
            })?;
        self.send(&mut connection, request).await
    }

    /// Sends `request` on `connection`; answers a `401` challenge of a
    /// scheme we have credentials for (resending the request, body and all,
    /// with each token) until the server answers otherwise. An
    /// `Authorization` header of the request is replaced by ours; `Host` is
    /// added when missing. A connection the server already authenticated
    /// gets no new challenge, so the result then has no
    /// [`ClientAuthentication`].
    pub async fn send(
        &self,
        connection: &mut ClientConnection,
        request: Request<Bytes>,
    ) -> Result<AuthenticatedResponse, Error> {
        let (mut parts, body) = request.into_parts();
        parts.uri = origin_form(&parts.uri);
        if !parts.headers.contains_key(HOST)
            && let Ok(value) = connection.authority.parse()
        {
            parts.headers.insert(HOST, value);
        }
        parts.headers.remove(AUTHORIZATION);
        let response = connection.round_trip(&parts, &body, None, self).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(AuthenticatedResponse {
                response,
                authentication: None,
            });
        }
        let offered = challenges(response.headers());
        let Some((scheme, credentials)) = self.credentials.iter().find(|(scheme, _)| {
            offered
                .iter()
                .any(|c| c.scheme == *scheme && c.token.is_empty())
        }) else {
            return Err(Error::NoUsableScheme {
                offered: describe_challenges(&response),
            });
        };
        let scheme = *scheme;
        let package = scheme.package().to_string();
        let security = |source| Error::Security {
            package: package.clone(),
            source,
        };
        let target = self
            .target
            .clone()
            .unwrap_or_else(|| format!("HTTP/{}", connection.host));
        let mut context: Option<SecurityContextHandle> = None;
        let mut input: Vec<u8> = Vec::new();
        let mut out = vec![0u8; credentials.package_info().max_token as usize];
        for _ in 0..MAX_LEGS {
            let (status, attributes, token) = self.step(
                credentials,
                &mut context,
                &target,
                &input,
                connection.channel_bindings.as_deref(),
                &mut out,
            )?;
            let complete = status == sspi_core::SecurityStatus::SEC_E_OK;
            if token.is_empty() {
                return Err(security(sspi_core::SecurityError::new(
                    sspi_core::SecurityStatus::SEC_E_INTERNAL_ERROR,
                    "InitializeSecurityContext made no token for the server",
                )));
            }
            let response = connection
                .round_trip(&parts, &body, Some(token_header(scheme, &token)), self)
                .await?;
            let reply = challenges(response.headers())
                .into_iter()
                .find(|c| c.scheme == scheme)
                .map(|c| c.token)
                .unwrap_or_default();
            if response.status() == StatusCode::UNAUTHORIZED {
                if reply.is_empty() || complete {
                    return Err(Error::Refused {
                        scheme,
                        status: response.status(),
                    });
                }
                input = reply;
                continue;
            }
            // The server accepted us (or failed otherwise): a final token
            // must complete the context.
            let mut attributes = attributes;
            let mut complete = complete;
            if !reply.is_empty() {
                if complete {
                    return Err(Error::MutualAuthentication(
                        "the server sent a token after the context was complete".into(),
                    ));
                }
                let (status, final_attributes, _) = self
                    .step(
                        credentials,
                        &mut context,
                        &target,
                        &reply,
                        connection.channel_bindings.as_deref(),
                        &mut out,
                    )
                    .map_err(|e| Error::MutualAuthentication(e.to_string()))?;
                complete = status == sspi_core::SecurityStatus::SEC_E_OK;
                attributes = final_attributes;
            }
            if !complete && self.isc_req.contains(IscReq::MUTUAL_AUTH) {
                return Err(Error::MutualAuthentication(format!(
                    "the server answered HTTP {} without the token that completes the context",
                    response.status()
                )));
            }
            let Some(context) = context else {
                return Err(security(sspi_core::SecurityError::new(
                    sspi_core::SecurityStatus::SEC_E_INTERNAL_ERROR,
                    "the handshake ended without a context",
                )));
            };
            let negotiated = match context.negotiation_info() {
                Ok(Some(info)) => info.package.name.to_string(),
                _ => context.package_name().to_string(),
            };
            return Ok(AuthenticatedResponse {
                response,
                authentication: Some(ClientAuthentication {
                    scheme,
                    package: negotiated,
                    mutual: complete && attributes.contains(IscRet::MUTUAL_AUTH),
                    channel_bindings: connection.channel_bindings.is_some(),
                    context,
                }),
            });
        }
        Err(Error::TooManyLegs(scheme, MAX_LEGS))
    }

    /// One InitializeSecurityContext leg: (status, attributes, token).
    fn step(
        &self,
        credentials: &CredentialsHandle,
        context: &mut Option<SecurityContextHandle>,
        target: &str,
        input: &[u8],
        channel_bindings: Option<&[u8]>,
        out: &mut [u8],
    ) -> Result<(sspi_core::SecurityStatus, IscRet, Vec<u8>), Error> {
        let security = |source| Error::Security {
            package: credentials.package_name().to_string(),
            source,
        };
        let mut inputs: Vec<SecBufferRef<'_>> = Vec::with_capacity(2);
        if !input.is_empty() {
            inputs.push(SecBufferRef::token(input));
        }
        if let Some(bindings) = channel_bindings {
            inputs.push(SecBufferRef::channel_bindings(bindings));
        }
        let mut outputs = [SecBuffer::token(out)];
        let step = credentials
            .initialize_security_context(context, Some(target), self.isc_req, &inputs, &mut outputs)
            .map_err(security)?;
        if step.needs_complete()
            && let Some(c) = context.as_mut()
        {
            c.complete_auth_token(&mut outputs).map_err(security)?;
        }
        let status = if step.needs_continue() {
            sspi_core::SecurityStatus::SEC_I_CONTINUE_NEEDED
        } else {
            sspi_core::SecurityStatus::SEC_E_OK
        };
        Ok((status, step.attributes, outputs[0].as_slice().to_vec()))
    }
}

async fn handshake<I>(io: I) -> Result<SendRequest<Full<Bytes>>, Error>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io)).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "HTTP client connection ended");
        }
    });
    Ok(sender)
}

/// The path and query of `uri` (HTTP/1.1 origin-form).
fn origin_form(uri: &Uri) -> Uri {
    uri.path_and_query()
        .map(|p| Uri::from(p.clone()))
        .unwrap_or_else(|| Uri::from_static("/"))
}

/// The `WWW-Authenticate` fields with token data cut off, for an error.
fn describe_challenges<B>(response: &Response<B>) -> String {
    let words: Vec<&str> = response
        .headers()
        .get_all(WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| item.split_whitespace().next())
        .filter(|word| !word.contains('='))
        .collect();
    if words.is_empty() {
        "no WWW-Authenticate challenge".into()
    } else {
        words.join(", ")
    }
}

/// A keep-alive connection to one server.
pub struct ClientConnection {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    authority: String,
    pub(crate) channel_bindings: Option<Vec<u8>>,
}

impl std::fmt::Debug for ClientConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConnection")
            .field("authority", &self.authority)
            .field("channel_bindings", &self.channel_bindings.is_some())
            .finish_non_exhaustive()
    }
}

impl ClientConnection {
    /// Whether this is a TLS connection whose `tls-server-end-point`
    /// bindings go with each token.
    pub fn has_channel_bindings(&self) -> bool {
        self.channel_bindings.is_some()
    }

    /// Sends one request and reads the whole response.
    async fn round_trip(
        &mut self,
        parts: &http::request::Parts,
        body: &Bytes,
        authorization: Option<http::HeaderValue>,
        client: &HttpClient,
    ) -> Result<Response<Bytes>, Error> {
        let mut request = Request::new(Full::new(body.clone()));
        *request.method_mut() = parts.method.clone();
        *request.uri_mut() = parts.uri.clone();
        *request.version_mut() = http::Version::HTTP_11;
        *request.headers_mut() = parts.headers.clone();
        if let Some(value) = authorization {
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        let limit = client.max_body_len;
        let exchange = async {
            self.sender.ready().await.map_err(Error::Http)?;
            let response = self
                .sender
                .send_request(request)
                .await
                .map_err(Error::Http)?;
            let (parts, body) = response.into_parts();
            let body = http_body_util::Limited::new(body, limit)
                .collect()
                .await
                .map_err(|e| match e.downcast::<hyper::Error>() {
                    Ok(e) => Error::Http(*e),
                    Err(_) => Error::TooLarge(limit),
                })?
                .to_bytes();
            Ok::<_, Error>(Response::from_parts(parts, body))
        };
        tokio::time::timeout(client.timeout, exchange)
            .await
            .map_err(|_| Error::TimedOut("the server's reply"))?
    }
}

/// A response and what authenticated the client to it.
#[derive(Debug)]
pub struct AuthenticatedResponse {
    /// The response, body read in full.
    pub response: Response<Bytes>,
    /// How the client authenticated (`None` when the server did not ask).
    pub authentication: Option<ClientAuthentication>,
}

/// How the client authenticated.
pub struct ClientAuthentication {
    /// The HTTP scheme.
    pub scheme: Scheme,
    /// The package that did the work (Negotiate's choice: `Kerberos`, `NTLM`).
    pub package: String,
    /// The server proved itself (ISC_RET_MUTUAL_AUTH on a complete context).
    pub mutual: bool,
    /// `tls-server-end-point` bindings went with the tokens.
    pub channel_bindings: bool,
    /// The established context (its names, session key, lifetime).
    pub context: SecurityContextHandle,
}

impl std::fmt::Debug for ClientAuthentication {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientAuthentication")
            .field("scheme", &self.scheme)
            .field("package", &self.package)
            .field("mutual", &self.mutual)
            .field("channel_bindings", &self.channel_bindings)
            .finish_non_exhaustive()
    }
}
