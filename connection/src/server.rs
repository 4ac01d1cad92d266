//! The server side: AcceptSecurityContext over a byte stream, the echo
//! service, and a TCP server with limits, time-outs and graceful shutdown.

use crate::ConnectionError;
use crate::config::ServerConfig;
use crate::frame::{self, FrameKind, FrameReader, FrameWriter, PROTOCOL_VERSION};
use crate::message::{self, Protection};
use sspi_core::{CredentialUse, SecBuffer, SecurityError, SecurityStatus};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle, SecurityHost};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// The packages a server offers, with their inbound credentials acquired once.
#[derive(Debug)]
pub struct InboundPackages {
    packages: Vec<CredentialsHandle>,
}

impl InboundPackages {
    /// Acquires INBOUND credentials for each package `names` lists (every
    /// available package when `None`). A listed package that is unavailable is
    /// an error naming it and why.
    pub fn acquire(host: &SecurityHost, names: Option<&[String]>) -> Result<Self, SecurityError> {
        let wanted: Vec<String> = match names {
            Some(names) => names.to_vec(),
            None => host
                .available_packages()
                .map(|info| info.name.to_string())
                .collect(),
        };
        let mut packages = Vec::new();
        for name in &wanted {
            let credentials = host
                .acquire_credentials_handle(name, None, CredentialUse::INBOUND, None)
                .map_err(|e| e.context(format_args!("InboundPackages lists {name}")))?;
            packages.push(credentials);
        }
        if packages.is_empty() {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_SECPKG_NOT_FOUND,
                "no package is available for inbound use",
            ));
        }
        Ok(Self { packages })
    }

    /// The offered package names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.packages.iter().map(|c| c.package_name())
    }

    fn find(&self, name: &str) -> Option<&CredentialsHandle> {
        self.packages
            .iter()
            .find(|c| c.package_name().eq_ignore_ascii_case(name))
    }
}

/// An authenticated server connection.
#[derive(Debug)]
pub struct ServerSession<S> {
    reader: FrameReader<ReadHalf<S>>,
    writer: FrameWriter<WriteHalf<S>>,
    context: SecurityContextHandle,
    client_name: String,
    protection: Protection,
    trailer_room: usize,
}

/// What a rejected handshake knew: the package, if the hello named one.
#[derive(Debug)]
pub struct Rejected {
    /// The package the client chose, if it got that far.
    pub package: Option<String>,
    /// Why.
    pub error: ConnectionError,
}

/// Runs the server side of the handshake over `stream` within the
/// configuration's handshake time-out. Every failure is reported to the
/// client in an error frame before returning.
pub async fn accept<S: AsyncRead + AsyncWrite>(
    stream: S,
    inbound: &InboundPackages,
    config: &ServerConfig,
) -> Result<ServerSession<S>, Rejected> {
    let (read, write) = tokio::io::split(stream);
    let mut reader = FrameReader::new(read, config.max_handshake_frame());
    let mut writer = FrameWriter::new(write);
    let mut package = None;
    let deadline = tokio::time::Instant::now() + config.handshake_timeout;
    let result = tokio::time::timeout_at(
        deadline,
        handshake(&mut reader, &mut writer, inbound, &mut package),
    )
    .await
    .unwrap_or(Err(ConnectionError::Timeout {
        waiting_for: "the client to authenticate",
        after: config.handshake_timeout,
    }));
    match result {
        Ok((context, client_name, protection)) => {
            reader.set_max_len(config.max_message_frame());
            let sizes = match context.sizes() {
                Ok(sizes) => sizes,
                Err(error) => {
                    return Err(Rejected {
                        package,
                        error: error.into(),
                    });
                }
            };
            Ok(ServerSession {
                reader,
                writer,
                trailer_room: sizes.security_trailer.max(sizes.max_signature) as usize,
                context,
                client_name,
                protection,
            })
        }
        Err(error) => {
            // Best effort, bounded: a peer that does not read cannot hold us.
            if !matches!(
                error,
                ConnectionError::Remote { .. }
                    | ConnectionError::Closed { .. }
                    | ConnectionError::Io(_)
            ) {
                let status = error
                    .status()
                    .unwrap_or(SecurityStatus::SEC_E_INTERNAL_ERROR);
                let reason = error.to_string();
                let _ = tokio::time::timeout(
                    std::time::Duration::from_secs(1),
                    writer.write_error(status, &reason),
                )
                .await;
            }
            Err(Rejected { package, error })
        }
    }
}

async fn handshake<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    reader: &mut FrameReader<R>,
    writer: &mut FrameWriter<W>,
    inbound: &InboundPackages,
    package: &mut Option<String>,
) -> Result<(SecurityContextHandle, String, Protection), ConnectionError> {
    let (credentials, protection) = match reader.read().await? {
        Some((FrameKind::Hello, body)) => {
            let [version, protection, name @ ..] = &*body else {
                return Err(ConnectionError::Protocol("a truncated hello".into()));
            };
            if *version != PROTOCOL_VERSION {
                return Err(ConnectionError::Incompatible(format!(
                    "protocol version {version}; this server speaks {PROTOCOL_VERSION}"
                )));
            }
            let Some(protection) = Protection::from_byte(*protection) else {
                return Err(ConnectionError::Protocol(format!(
                    "unknown protection {protection}"
                )));
            };
            let name = String::from_utf8_lossy(name).into_owned();
            let Some(credentials) = inbound.find(&name) else {
                let offered: Vec<&str> = inbound.names().collect();
                let error = ConnectionError::Incompatible(format!(
                    "package {name} is not offered here (offered: {})",
                    offered.join(", ")
                ));
                *package = Some(name);
                return Err(error);
            };
            *package = Some(credentials.package_name().to_string());
            (credentials, protection)
        }
        Some((FrameKind::Error, body)) => return Err(frame::parse_error(body)),
        Some((kind, _)) => {
            return Err(ConnectionError::Protocol(format!(
                "expected a hello, got {kind:?}"
            )));
        }
        None => {
            return Err(ConnectionError::Closed {
                during: "the hello",
            });
        }
    };

    let mut context: Option<SecurityContextHandle> = None;
    let mut output = vec![0u8; credentials.package_info().max_token as usize];
    loop {
        let step = {
            let (kind, body) = reader.read().await?.ok_or(ConnectionError::Closed {
                during: "the handshake",
            })?;
            match kind {
                FrameKind::Token => {}
                FrameKind::Error => return Err(frame::parse_error(body)),
                other => {
                    return Err(ConnectionError::Protocol(format!(
                        "expected a token, got {other:?}"
                    )));
                }
            }
            let mut input = [SecBuffer::token(body)];
            let mut output_buffers = [SecBuffer::token(&mut output)];
            let step = credentials.accept_security_context(
                &mut context,
                sspi_core::AscReq::PROTECTED_CONNECTION,
                &mut input,
                &mut output_buffers,
            )?;
            if step.needs_complete() {
                let Some(context) = context.as_mut() else {
                    return Err(
                        SecurityError::internal("CompleteAuthToken without a context").into(),
                    );
                };
                context.complete_auth_token(&mut output_buffers)?;
            }
            let token = output_buffers[0].as_slice();
            if !token.is_empty() {
                writer.queue(FrameKind::Token, &[token])?;
            }
            // The last token goes out with the verdict.
            if step.needs_continue() {
                writer.flush().await?;
            }
            step
        };
        if !step.needs_continue() {
            break;
        }
    }
    let Some(context) = context else {
        return Err(ConnectionError::Protocol(
            "the handshake ended without a context".into(),
        ));
    };
    let client_name = context.names()?;
    writer
        .write(FrameKind::Accepted, &[client_name.as_bytes()])
        .await?;
    Ok((context, client_name, protection))
}

impl<S: AsyncRead + AsyncWrite> ServerSession<S> {
    /// The authenticated client.
    pub fn client_name(&self) -> &str {
        &self.client_name
    }

    /// The package that authenticated it.
    pub fn package_name(&self) -> &str {
        self.context.package_name()
    }

    /// The echo service: opens each message, sends it back protected, until
    /// the client closes, goes idle too long, or `shutdown` fires. A message
    /// that fails its check ends the session with an error frame. Per message
    /// nothing is allocated once the frame buffers have grown.
    pub async fn serve_echo(
        &mut self,
        config: &ServerConfig,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<u64, ConnectionError> {
        let mut messages = 0u64;
        loop {
            let frame = tokio::select! {
                biased;
                _ = shutdown.wait_for(|stop| *stop) => return Ok(messages),
                frame = tokio::time::timeout(config.idle_timeout, self.reader.read()) => frame,
            };
            let frame = frame.unwrap_or(Err(ConnectionError::Timeout {
                waiting_for: "the next message",
                after: config.idle_timeout,
            }));
            let result = match frame {
                Ok(None) => return Ok(messages),
                Ok(Some((FrameKind::Message, body))) => {
                    match message::open(&mut self.context, self.protection, body) {
                        Ok(plain) => {
                            message::send(
                                &mut self.writer,
                                &mut self.context,
                                self.protection,
                                self.trailer_room,
                                plain,
                            )
                            .await
                        }
                        Err(error) => Err(error),
                    }
                }
                Ok(Some((FrameKind::Error, body))) => Err(frame::parse_error(body)),
                Ok(Some((kind, _))) => Err(ConnectionError::Protocol(format!(
                    "expected a message, got {kind:?}"
                ))),
                Err(error) => Err(error),
            };
            if let Err(error) = result {
                if let Some(status) = error
                    .status()
                    .filter(|_| !matches!(error, ConnectionError::Remote { .. }))
                {
                    let _ = tokio::time::timeout(
                        std::time::Duration::from_secs(1),
                        self.writer.write_error(status, &error.to_string()),
                    )
                    .await;
                }
                return Err(error);
            }
            messages += 1;
        }
    }
}

/// Counters of a running server.
#[derive(Debug, Default)]
pub struct ServerStats {
    /// Connections accepted from the listener.
    pub accepted: AtomicU64,
    /// Clients authenticated.
    pub authenticated: AtomicU64,
    /// Handshakes that failed (bad tokens, wrong credentials, time-outs...).
    pub rejected: AtomicU64,
    /// Sessions that ended with an error after authenticating (tampering, idle time-out...).
    pub failed_sessions: AtomicU64,
    /// Connections refused because `MaxConnections` were open.
    pub busy: AtomicU64,
    /// Sessions running now.
    pub active: AtomicUsize,
}

impl ServerStats {
    fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Decrements the active count when a session ends, however it ends.
struct ActiveGuard(Arc<ServerStats>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A TCP server running the authenticated echo service.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    inbound: Arc<InboundPackages>,
    config: Arc<ServerConfig>,
    stats: Arc<ServerStats>,
}

/// How a server run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Sessions that finished within the grace period.
    pub finished: usize,
    /// Sessions still running when the grace period ended, then stopped.
    pub aborted: usize,
}

impl Server {
    /// Binds `addr` and acquires inbound credentials for the offered packages.
    pub async fn bind(
        addr: SocketAddr,
        host: &SecurityHost,
        config: ServerConfig,
    ) -> Result<Self, ConnectionError> {
        let inbound = InboundPackages::acquire(host, config.inbound_packages.as_deref())?;
        let listener = TcpListener::bind(addr).await?;
        Ok(Self {
            listener,
            inbound: Arc::new(inbound),
            config: Arc::new(config),
            stats: Arc::new(ServerStats::default()),
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The packages it offers.
    pub fn offered_packages(&self) -> Vec<String> {
        self.inbound.names().map(str::to_string).collect()
    }

    /// Its counters.
    pub fn stats(&self) -> Arc<ServerStats> {
        Arc::clone(&self.stats)
    }

    /// Serves until `shutdown` completes; then stops accepting, lets open
    /// sessions finish within the grace period and stops the rest.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> ShutdownReport {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut sessions = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        ServerStats::count(&self.stats.accepted);
                        if self.stats.active.load(Ordering::Acquire) >= self.config.max_connections {
                            ServerStats::count(&self.stats.busy);
                            refuse_busy(&stream, self.config.max_connections);
                            tracing::warn!(%peer, max = self.config.max_connections, "connection refused: server busy");
                            continue;
                        }
                        self.stats.active.fetch_add(1, Ordering::AcqRel);
                        let guard = ActiveGuard(Arc::clone(&self.stats));
                        let inbound = Arc::clone(&self.inbound);
                        let config = Arc::clone(&self.config);
                        let stats = Arc::clone(&self.stats);
                        let stop = stop_rx.clone();
                        sessions.spawn(async move {
                            let _guard = guard;
                            serve(stream, peer, &inbound, &config, &stats, stop).await;
                        });
                    }
                    Err(error) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                },
            }
        }
        drop(self.listener);
        let _ = stop_tx.send(true);
        let open = sessions.len();
        tracing::info!(open, grace = ?self.config.shutdown_grace, "stopping: no new connections; letting open sessions finish");
        let drained = tokio::time::timeout(self.config.shutdown_grace, async {
            while sessions.join_next().await.is_some() {}
        })
        .await
        .is_ok();
        let aborted = if drained { 0 } else { sessions.len() };
        sessions.shutdown().await;
        ShutdownReport {
            finished: open - aborted,
            aborted,
        }
    }
}

/// Tells a client the server is full, without waiting on it.
fn refuse_busy(stream: &TcpStream, max: usize) {
    let reason = format!("server busy: {max} connections open");
    let status = SecurityStatus::SEC_E_INTERNAL_ERROR.as_u32().to_be_bytes();
    let len = (1 + status.len() + reason.len()) as u32;
    let mut frame = Vec::with_capacity(len as usize + 4);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.push(FrameKind::Error as u8);
    frame.extend_from_slice(&status);
    frame.extend_from_slice(reason.as_bytes());
    let _ = stream.try_write(&frame);
}

async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    inbound: &InboundPackages,
    config: &ServerConfig,
    stats: &ServerStats,
    mut stop: watch::Receiver<bool>,
) {
    let started = Instant::now();
    let _ = stream.set_nodelay(true);
    match accept(stream, inbound, config).await {
        Ok(mut session) => {
            ServerStats::count(&stats.authenticated);
            let result = session.serve_echo(config, &mut stop).await;
            let duration_ms = started.elapsed().as_millis() as u64;
            match result {
                Ok(messages) => tracing::info!(
                    %peer, package = session.package_name(), client = session.client_name(),
                    status = %SecurityStatus::SEC_E_OK, messages, duration_ms, "session closed"
                ),
                Err(error) => {
                    ServerStats::count(&stats.failed_sessions);
                    tracing::info!(
                        %peer, package = session.package_name(), client = session.client_name(),
                        status = %error.status().map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                        %error, duration_ms, "session ended with an error"
                    )
                }
            }
        }
        Err(rejected) => {
            ServerStats::count(&stats.rejected);
            tracing::info!(
                %peer, package = rejected.package.as_deref().unwrap_or("-"),
                status = %rejected.error.status().map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                error = %rejected.error, duration_ms = started.elapsed().as_millis() as u64,
                "handshake rejected"
            );
        }
    }
}
