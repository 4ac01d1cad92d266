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

/// Accepts TCP connections on `listener` and serves each on a task. It
/// never returns: a failed accept is logged and retried (drop the future,
/// or its task, to stop).
pub async fn serve<S, R>(listener: tokio::net::TcpListener, auth: Arc<HttpAuthenticator>, inner: S)
where
    S: Service<Request<Incoming>, Response = Response<R>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
    R: hyper::body::Body + Default + Send + 'static,
    R::Data: Send,
    R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    accept_loop(listener, move |stream, peer| {
        let auth = Arc::clone(&auth);
        let inner = inner.clone();
        async move {
            if let Err(e) = serve_connection(stream, auth, None, inner).await {
                tracing::debug!(%peer, error = %e, "HTTP connection ended");
            }
        }
    })
    .await
}

/// Accepts TCP connections on `listener` and serves HTTPS on each (it never
/// returns, as [`serve`]): the TLS handshake (within the handshake time-out of
/// `auth`'s configuration), then HTTP/1.1 with the certificate's channel
/// bindings passed to every AcceptSecurityContext.
pub async fn serve_tls<S, R>(
    listener: tokio::net::TcpListener,
    tls: ServerTls,
    auth: Arc<HttpAuthenticator>,
    inner: S,
) where
    S: Service<Request<Incoming>, Response = Response<R>> + Clone + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send + 'static,
    R: hyper::body::Body + Default + Send + 'static,
    R::Data: Send,
    R::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(tls.config()));
    let bindings = tls.channel_bindings().cloned();
    accept_loop(listener, move |stream, peer| {
        let auth = Arc::clone(&auth);
        let inner = inner.clone();
        let acceptor = acceptor.clone();
        let bindings = bindings.clone();
        async move {
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
        }
    })
    .await
}

/// Accepts connections forever, running `per_connection` for each on a task
/// of its own. A failed accept (a connection reset before it was taken, or
/// no file descriptor left) is logged and, for the latter, retried after a
/// pause rather than ending the server.
async fn accept_loop<F, C>(listener: tokio::net::TcpListener, per_connection: F)
where
    F: Fn(tokio::net::TcpStream, std::net::SocketAddr) -> C,
    C: std::future::Future<Output = ()> + Send + 'static,
{
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(per_connection(stream, peer));
            }
            Err(e) if is_per_connection(&e) => {
                tracing::debug!(error = %e, "a connection failed before it was accepted");
            }
            Err(e) => {
                tracing::warn!(error = %e, "accept failed; retrying in 100 ms");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Errors of one incoming connection, not of the listener.
fn is_per_connection(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        error.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}
