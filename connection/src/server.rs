//! The server side: AcceptSecurityContext over a byte stream, the echo
//! service, and a TCP server with limits, time-outs and graceful shutdown.

use crate::ConnectionError;
use crate::admission::{self, Admission, Refusal, Ticket};
use crate::config::ServerConfig;
use crate::frame::{self, FrameKind, FrameReader, FrameWriter, PROTOCOL_VERSION};
use crate::message::{self, ProtectionLevel};
use sspi_core::{CredentialUse, SecBuffer, SecBufferRef, SecurityError, SecurityStatus};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle, SecurityHost};
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
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
    protection: ProtectionLevel,
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
///
/// The client is told the status and a short generic reason; the full text
/// (which may name principals, files or a package's internals) stays in the
/// returned error, for the server's log.
pub async fn accept<S: AsyncRead + AsyncWrite>(
    stream: S,
    inbound: &InboundPackages,
    config: &ServerConfig,
) -> Result<ServerSession<S>, Rejected> {
    accept_gated(stream, inbound, config, &mut Ungated, None).await
}

/// What the handshake tells the connection's slot (see [`crate::admission`]).
trait Gate {
    /// The connection's task runs.
    fn started(&mut self) {}
    /// A frame arrived complete.
    fn progress(&mut self) {}
    /// The client authenticated; false if the slot was given away first.
    fn authenticated(&mut self) -> bool {
        true
    }
}

/// No slot: [`accept`] called directly.
struct Ungated;

impl Gate for Ungated {}

impl Gate for Ticket {
    fn started(&mut self) {
        Ticket::started(self);
    }
    fn progress(&mut self) {
        Ticket::progress(self);
    }
    fn authenticated(&mut self) -> bool {
        Ticket::authenticated(self)
    }
}

async fn accept_gated<S: AsyncRead + AsyncWrite>(
    stream: S,
    inbound: &InboundPackages,
    config: &ServerConfig,
    gate: &mut (dyn Gate + Send),
    eviction: Option<oneshot::Receiver<()>>,
) -> Result<ServerSession<S>, Rejected> {
    let (read, write) = tokio::io::split(stream);
    let mut reader = FrameReader::new(read, config.max_handshake_frame());
    let mut writer = FrameWriter::new(write);
    let mut package = None;
    let deadline = tokio::time::Instant::now() + config.handshake_timeout;
    let evicted = async {
        // A sender dropped without a word means the slot was kept.
        if let Some(signal) = eviction
            && signal.await.is_ok()
        {
            return;
        }
        std::future::pending::<()>().await
    };
    let result = tokio::select! {
        biased;
        result = tokio::time::timeout_at(
            deadline,
            handshake(&mut reader, &mut writer, inbound, &mut package, gate),
        ) => result.unwrap_or(Err(ConnectionError::Timeout {
            waiting_for: "the client to authenticate",
            after: config.handshake_timeout,
        })),
        () = evicted => Err(ConnectionError::Evicted),
    };
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
                let _ = tokio::time::timeout(
                    std::time::Duration::from_secs(1),
                    writer.write_error(status, &peer_reason(&error)),
                )
                .await;
            }
            Err(Rejected { package, error })
        }
    }
}

/// What a peer is told about `error`: the status travels with it; the reason
/// is this crate's own text about the peer's input (frames, versions,
/// packages, time-outs), or for a security package's refusal only the
/// status's generic description, since a package's text may name principals,
/// key files or its internals. The full text is for the server's log.
fn peer_reason(error: &ConnectionError) -> Cow<'_, str> {
    match error {
        // The status travels in the frame beside this reason: say only who refused.
        ConnectionError::Security(_) => Cow::Borrowed("refused by the server's security package"),
        other => Cow::Owned(other.to_string()),
    }
}

async fn handshake<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    reader: &mut FrameReader<R>,
    writer: &mut FrameWriter<W>,
    inbound: &InboundPackages,
    package: &mut Option<String>,
    gate: &mut (dyn Gate + Send),
) -> Result<(SecurityContextHandle, String, ProtectionLevel), ConnectionError> {
    gate.started();
    let hello = reader.read().await?;
    gate.progress();
    let (credentials, protection) = match hello {
        Some((FrameKind::Hello, body)) => {
            let [version, protection, name @ ..] = &*body else {
                return Err(ConnectionError::Protocol("a truncated hello".into()));
            };
            if *version != PROTOCOL_VERSION {
                return Err(ConnectionError::Incompatible(format!(
                    "protocol version {version}; this server speaks {PROTOCOL_VERSION}"
                )));
            }
            let Some(protection) = ProtectionLevel::from_byte(*protection) else {
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
                during: "before sending its hello",
            });
        }
    };

    let mut context: Option<SecurityContextHandle> = None;
    let mut output = vec![0u8; credentials.package_info().max_token as usize];
    loop {
        let step = {
            let (kind, body) = reader.read().await?.ok_or(ConnectionError::Closed {
                during: "during the handshake",
            })?;
            gate.progress();
            match kind {
                FrameKind::Token => {}
                FrameKind::Error => return Err(frame::parse_error(body)),
                other => {
                    return Err(ConnectionError::Protocol(format!(
                        "expected a token, got {other:?}"
                    )));
                }
            }
            let input = [SecBufferRef::token(body)];
            let mut output_buffers = [SecBuffer::token(&mut output)];
            let step = credentials.accept_security_context(
                &mut context,
                sspi_core::AscReq::PROTECTED_CONNECTION,
                &input,
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
    // A connection whose slot went to a newer one is not accepted.
    if !gate.authenticated() {
        return Err(ConnectionError::Evicted);
    }
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
    /// the client closes, goes idle too long (`IdleTimeout`), stops reading
    /// its replies for too long (`WriteTimeout`), or `shutdown` fires. A
    /// message that fails its check ends the session with an error frame. Per
    /// message nothing is allocated once the frame buffers have grown.
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
                            let sent = tokio::time::timeout(
                                config.write_timeout,
                                message::send(
                                    &mut self.writer,
                                    &mut self.context,
                                    self.protection,
                                    self.trailer_room,
                                    plain,
                                ),
                            )
                            .await;
                            match sent {
                                Ok(sent) => sent,
                                // The client does not read: no error frame
                                // would reach it either.
                                Err(_) => {
                                    return Err(ConnectionError::Timeout {
                                        waiting_for: "the client to read a reply",
                                        after: config.write_timeout,
                                    });
                                }
                            }
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
                        self.writer.write_error(status, &peer_reason(&error)),
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
    /// Handshakes that failed (bad tokens, wrong credentials, time-outs...);
    /// connections evicted before authenticating are counted in `evicted` instead.
    pub rejected: AtomicU64,
    /// Sessions that ended with an error after authenticating (tampering, idle time-out...).
    pub failed_sessions: AtomicU64,
    /// Connections refused: `MaxConnections` authenticated sessions open, or
    /// `MaxConnectionsPerPeer` from the peer's address.
    pub busy: AtomicU64,
    /// Unauthenticated connections closed early to give their slot to a newer
    /// one (`MaxUnauthenticated`, `MaxConnections` or `MaxConnectionsPerPeer` reached).
    pub evicted: AtomicU64,
    /// Connections still authenticating now.
    pub unauthenticated: AtomicUsize,
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
    admission: Arc<Admission>,
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
        let stats = Arc::new(ServerStats::default());
        let admission = Admission::new(
            admission::Limits {
                max_connections: config.max_connections,
                max_unauthenticated: config.max_unauthenticated,
                max_per_peer: config.max_connections_per_peer,
            },
            Arc::clone(&stats),
        );
        Ok(Self {
            listener,
            inbound: Arc::new(inbound),
            config: Arc::new(config),
            stats,
            admission,
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
                        let mut contended = false;
                        let ticket = match self.admission.admit(peer.ip()) {
                            Ok(admitted) => {
                                if admitted.evicted > 0 {
                                    contended = true;
                                    self.stats.evicted.fetch_add(admitted.evicted as u64, Ordering::Relaxed);
                                    tracing::debug!(%peer, evicted = admitted.evicted, "a stalled unauthenticated connection gave up its slot");
                                }
                                admitted.ticket
                            }
                            Err(refusal) => {
                                ServerStats::count(&self.stats.busy);
                                let reason = refusal_reason(refusal);
                                refuse_busy(&stream, &reason);
                                tracing::warn!(%peer, %reason, "connection refused");
                                continue;
                            }
                        };
                        self.stats.active.fetch_add(1, Ordering::AcqRel);
                        let guard = ActiveGuard(Arc::clone(&self.stats));
                        let inbound = Arc::clone(&self.inbound);
                        let config = Arc::clone(&self.config);
                        let stats = Arc::clone(&self.stats);
                        let stop = stop_rx.clone();
                        sessions.spawn(async move {
                            let _guard = guard;
                            serve(stream, peer, &inbound, &config, &stats, stop, ticket).await;
                        });
                        // Under contention, let the connections just admitted
                        // read their first frames before admitting more: a
                        // burst of accepts must not displace a client that has
                        // not yet had a chance to show its progress.
                        if contended {
                            tokio::task::yield_now().await;
                        }
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

fn refusal_reason(refusal: Refusal) -> String {
    match refusal {
        Refusal::Full(max) => format!("server busy: {max} authenticated sessions open"),
        Refusal::PerPeer(max) => {
            format!("server busy: {max} authenticated sessions open from this address")
        }
    }
}

/// Tells a client the server is full, without waiting on it.
fn refuse_busy(stream: &TcpStream, reason: &str) {
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
    mut ticket: Ticket,
) {
    let started = Instant::now();
    let _ = stream.set_nodelay(true);
    let eviction = ticket.eviction();
    match accept_gated(stream, inbound, config, &mut ticket, eviction).await {
        Ok(mut session) => {
            ServerStats::count(&stats.authenticated);
            // For Negotiate, the package it chose; "-" for the others.
            let negotiated = match session.context.negotiation_info() {
                Ok(Some(info)) => info.package.name.to_string(),
                _ => "-".to_owned(),
            };
            // Whether the client delegated its credentials (ISC_REQ_DELEGATE).
            let delegated = matches!(session.context.delegated_credentials(), Ok(Some(_)));
            let result = session.serve_echo(config, &mut stop).await;
            let duration_ms = started.elapsed().as_millis() as u64;
            match result {
                Ok(messages) => tracing::info!(
                    %peer, package = session.package_name(), %negotiated, client = session.client_name(),
                    delegated, status = %SecurityStatus::SEC_E_OK, messages, duration_ms, "session closed"
                ),
                Err(error) if error.is_package_panic() => {
                    ServerStats::count(&stats.failed_sessions);
                    tracing::error!(
                        %peer, package = session.package_name(), client = session.client_name(),
                        %error, duration_ms,
                        "the security package panicked; the session was closed"
                    )
                }
                Err(error) => {
                    ServerStats::count(&stats.failed_sessions);
                    tracing::info!(
                        %peer, package = session.package_name(), %negotiated, client = session.client_name(),
                        status = %error.status().map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                        %error, duration_ms, "session ended with an error"
                    )
                }
            }
        }
        Err(Rejected {
            error: ConnectionError::Evicted,
            ..
        }) => tracing::debug!(
            %peer, duration_ms = started.elapsed().as_millis() as u64,
            "dropped before authenticating: the slot went to a newer connection"
        ),
        Err(rejected) if rejected.error.is_package_panic() => {
            ServerStats::count(&stats.rejected);
            tracing::error!(
                %peer, package = rejected.package.as_deref().unwrap_or("-"),
                error = %rejected.error, duration_ms = started.elapsed().as_millis() as u64,
                "the security package panicked during the handshake"
            );
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
