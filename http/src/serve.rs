//! Accept loops: plain TCP ([`serve`]) and TLS ([`serve_tls`]), each
//! connection with an [`AuthService`] of its own and HTTP/1.1 keep-alive.

use crate::server::{AuthService, HttpAuthenticator};
use crate::tls::ServerTls;
use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::Service;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// Serves one accepted connection (TCP, TLS or any byte stream) with HTTP/1.1
/// keep-alive: an [`AuthService`] of its own in front of `inner`, with the
/// connection's `channel_bindings` (a SEC_CHANNEL_BINDINGS; `None` on plain
/// TCP).
pub async fn serve_connection<I, S, R>(
    stream: I,
    auth: Arc<HttpAuthenticator>,
    channel_bindings: Option<Arc<[u8]>>,
    inner: S,
) -> Result<(), hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<Incoming>, Response = Response<R>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
    R: hyper::body::Body + Default + Send + 'static,
    R::Data: Send,
    R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let service = AuthService::new(auth, inner).with_channel_bindings(channel_bindings);
    hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .max_buf_size(256 * 1024)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await
}

/// Accepts TCP connections on `listener` until accepting fails, serving
/// each on a task.
pub async fn serve<S, R>(
    listener: tokio::net::TcpListener,
    auth: Arc<HttpAuthenticator>,
    inner: S,
) -> std::io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<R>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
    R: hyper::body::Body + Default + Send + 'static,
    R::Data: Send,
    R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        let (stream, peer) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let auth = Arc::clone(&auth);
        let inner = inner.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_connection(stream, auth, None, inner).await {
                tracing::debug!(%peer, error = %e, "HTTP connection ended");
            }
        });
    }
}

/// Accepts TCP connections on `listener` until accepting fails, and serves
/// HTTPS on each: the TLS handshake (within the handshake time-out of
/// `auth`'s configuration), then HTTP/1.1 with the certificate's channel
/// bindings passed to every AcceptSecurityContext.
pub async fn serve_tls<S, R>(
    listener: tokio::net::TcpListener,
    tls: ServerTls,
    auth: Arc<HttpAuthenticator>,
    inner: S,
) -> std::io::Result<()>
where
    S: Service<Request<Incoming>, Response = Response<R>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
    R: hyper::body::Body + Default + Send + 'static,
    R::Data: Send,
    R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(tls.config()));
    let bindings = tls.channel_bindings().cloned();
    loop {
        let (stream, peer) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let auth = Arc::clone(&auth);
        let inner = inner.clone();
        let acceptor = acceptor.clone();
        let bindings = bindings.clone();
        tokio::spawn(async move {
            let timeout = auth.config().handshake_timeout;
            let stream = match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            if let Err(e) = serve_connection(stream, auth, bindings, inner).await {
                tracing::debug!(%peer, error = %e, "HTTPS connection ended");
            }
        });
    }
}
