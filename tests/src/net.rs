//! Helpers for the connection tests: an in-process server, a client that
//! speaks frames by hand, and the client's handshake legs driven by hand.

use crate::{RegistryFile, registry_text};
use sspi_connection::frame::{FrameKind, FrameReader, FrameWriter, PROTOCOL_VERSION};
use sspi_connection::{
    ClientOptions, ConnectionError, ProtectionLevel, Server, ServerConfig, ServerStats,
    authenticate,
};
use sspi_core::{AuthIdentity, CredentialUse, SecurityStatus};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle, SecurityHost};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// A server running in this process on 127.0.0.1, with its own registry.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its counters.
    pub stats: Arc<ServerStats>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<sspi_connection::ShutdownReport>,
    /// The host it serves from.
    pub host: SecurityHost,
    _registry: RegistryFile,
}

impl Running {
    /// Starts a server with the Test package (4 legs) and `config`.
    pub async fn start(config: ServerConfig) -> Self {
        let registry = RegistryFile::new(&registry_text("sspi_test.dll", 4, false));
        Self::start_in(registry, |_| config).await
    }

    /// Starts a server with the Test package (4 legs) and the settings of
    /// `server_key`, the body of an `SspiServer` key (`"Name"=dword:...` lines)
    /// read by [`ServerConfig::from_registry`] from the same registry file.
    pub async fn start_with_registry(server_key: &str) -> Self {
        let text = format!(
            "{}\n[{}]\n{server_key}\n",
            registry_text("sspi_test.dll", 4, false),
            sspi_connection::SERVER_KEY
        );
        let registry = RegistryFile::new(&text);
        Self::start_in(registry, |host| {
            ServerConfig::from_registry(host.config().registry()).expect("server settings")
        })
        .await
    }

    async fn start_in(
        registry: RegistryFile,
        config: impl FnOnce(&SecurityHost) -> ServerConfig,
    ) -> Self {
        let host = registry.host();
        let config = config(&host);
        let server = Server::bind("127.0.0.1:0".parse().unwrap(), &host, config)
            .await
            .unwrap();
        let addr = server.local_addr().unwrap();
        let stats = server.stats();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stats,
            stop,
            task,
            host,
            _registry: registry,
        }
    }

    /// OUTBOUND Test credentials (`None`: the default user).
    pub fn client_credentials(&self, identity: Option<AuthIdentity>) -> CredentialsHandle {
        self.host
            .acquire_credentials_handle("Test", None, CredentialUse::OUTBOUND, identity)
            .unwrap()
    }

    /// A well-behaved client: authenticates, echoes one message, closes.
    pub async fn good_client(&self) -> Result<String, ConnectionError> {
        let credentials = self.client_credentials(None);
        let stream = TcpStream::connect(self.addr).await?;
        let mut session = authenticate(stream, &credentials, &ClientOptions::default()).await?;
        let reply = session.request(b"ping").await?;
        assert_eq!(reply, b"ping");
        let name = session.authenticated_as().to_string();
        session.close().await?;
        Ok(name)
    }

    /// Waits (bounded) until no session runs.
    pub async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.stats.active.load(Ordering::Acquire) != 0 {
            assert!(
                Instant::now() < deadline,
                "sessions still running: {}",
                self.stats.active.load(Ordering::Acquire)
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops the server gracefully.
    pub async fn stop(self) -> sspi_connection::ShutdownReport {
        let _ = self.stop.send(());
        self.task.await.unwrap()
    }
}

/// Short time-outs for tests.
pub fn config() -> ServerConfig {
    ServerConfig {
        handshake_timeout: Duration::from_millis(400),
        idle_timeout: Duration::from_secs(2),
        shutdown_grace: Duration::from_millis(500),
        ..ServerConfig::default()
    }
}

/// A client that speaks frames by hand.
pub struct Raw {
    /// Reads the server's frames.
    pub reader: FrameReader<OwnedReadHalf>,
    /// Writes frames to the server.
    pub writer: FrameWriter<OwnedWriteHalf>,
}

impl Raw {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> Self {
        let (read, write) = TcpStream::connect(addr).await.unwrap().into_split();
        Self {
            reader: FrameReader::new(read, 1 << 20),
            writer: FrameWriter::new(write),
        }
    }

    /// Sends a hello naming `package` (sealed messages).
    pub async fn hello(&mut self, package: &str) {
        self.writer
            .write(
                FrameKind::Hello,
                &[
                    &[PROTOCOL_VERSION, ProtectionLevel::Sealed as u8],
                    package.as_bytes(),
                ],
            )
            .await
            .unwrap();
    }

    /// Sends a token frame.
    pub async fn token(&mut self, token: &[u8]) {
        self.writer.write(FrameKind::Token, &[token]).await.unwrap();
    }

    /// The next frame: a token's bytes, or the status of an error frame.
    pub async fn next(&mut self) -> Result<Vec<u8>, SecurityStatus> {
        match tokio::time::timeout(Duration::from_secs(5), self.reader.read())
            .await
            .expect("server answers")
        {
            Ok(Some((FrameKind::Token, body))) => Ok(body.to_vec()),
            Ok(Some((FrameKind::Error, body))) => match sspi_connection::frame::parse_error(body) {
                ConnectionError::Remote { status, .. } => Err(status),
                other => panic!("bad error frame: {other}"),
            },
            other => panic!("unexpected {other:?}"),
        }
    }

    /// True once the server has closed the connection.
    pub async fn closed(&mut self) -> bool {
        matches!(
            tokio::time::timeout(Duration::from_secs(5), self.reader.read()).await,
            Ok(Ok(None)) | Ok(Err(_))
        )
    }
}

/// A number from the process's `/proc/self/status` (`"Threads:"`, `"VmRSS:"`).
fn proc_status(field: &str) -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix(field)
                    .map(|n| n.trim().trim_end_matches("kB").trim().parse().unwrap_or(0))
            })
        })
        .unwrap_or(0)
}

/// The process's thread count.
pub fn threads() -> usize {
    proc_status("Threads:")
}

/// The process's resident set size in KiB (`VmRSS`).
pub fn rss_kib() -> usize {
    proc_status("VmRSS:")
}

/// A TCP connection to `addr` from the local address `from` (any of
/// 127.0.0.1..127.0.0.254 on loopback), with its receive buffer fixed at
/// `recv_buffer` bytes when given (a client that reads slowly, or not at all).
pub async fn connect_from(
    from: std::net::IpAddr,
    addr: SocketAddr,
    recv_buffer: Option<u32>,
) -> std::io::Result<TcpStream> {
    let socket = match from {
        std::net::IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        std::net::IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size)?;
    }
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(addr).await
}

/// Authenticates `stream` with the Test package by hand (sealed messages),
/// leaving the socket's halves and the client's context to the caller: a
/// client free to send without reading, with no buffer of its own.
pub async fn authenticate_by_hand(
    stream: TcpStream,
    credentials: &CredentialsHandle,
) -> (OwnedReadHalf, OwnedWriteHalf, SecurityContextHandle) {
    let (read, write) = stream.into_split();
    let mut raw = Raw {
        reader: FrameReader::new(read, 1 << 16),
        writer: FrameWriter::new(write),
    };
    raw.hello("Test").await;
    let mut context = None;
    let mut input: Option<Vec<u8>> = None;
    loop {
        let token = client_leg(credentials, &mut context, input.as_deref());
        if !token.is_empty() {
            raw.token(&token).await;
        }
        match raw.reader.read().await.unwrap().unwrap() {
            (FrameKind::Token, body) => input = Some(body.to_vec()),
            (FrameKind::Accepted, _) => break,
            other => panic!("{other:?}"),
        }
    }
    (
        raw.reader.into_inner(),
        raw.writer.into_inner(),
        context.unwrap(),
    )
}

/// The client's next token in a Test package handshake driven by hand.
pub fn client_leg(
    credentials: &CredentialsHandle,
    context: &mut Option<SecurityContextHandle>,
    input: Option<&[u8]>,
) -> Vec<u8> {
    let (status, token) = crate::leg(credentials, context, true, input);
    assert!(status.is_success(), "client leg failed: {status}");
    token
}
