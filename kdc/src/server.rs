//! The network front end: TCP with the 4-byte length prefix and UDP, every
//! read and write under a time-out, a bound on connections and request sizes,
//! shutdown by a future.

use crate::{KdcConfig, KdcState, handle};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::timeout;

/// The largest reply sent over UDP; a larger one is replaced by
/// KRB_ERR_RESPONSE_TOO_BIG so the client retries over TCP.
pub const MAX_UDP_REPLY: usize = 1400;

/// A bound KDC, ready to serve.
pub struct Kdc {
    tcp: TcpListener,
    udp: Option<UdpSocket>,
    state: Arc<KdcState>,
}

impl Kdc {
    /// Binds TCP (and UDP on the same port when `config.udp`) on `addr`
    /// (`127.0.0.1:0` picks a free port).
    pub async fn bind(addr: SocketAddr, config: KdcConfig) -> io::Result<Kdc> {
        let tcp = TcpListener::bind(addr).await?;
        let local = tcp.local_addr()?;
        let udp = if config.udp {
            Some(UdpSocket::bind(local).await?)
        } else {
            None
        };
        let state = Arc::new(KdcState::new(config).map_err(io::Error::other)?);
        Ok(Kdc { tcp, udp, state })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// The shared state (counters, database).
    pub fn state(&self) -> Arc<KdcState> {
        Arc::clone(&self.state)
    }

    /// Serves until `shutdown` completes, then stops accepting and ends open connections.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let Kdc { tcp, udp, state } = self;
        let limit = Arc::new(Semaphore::new(state.config.max_connections));
        let mut tasks = JoinSet::new();
        tokio::pin!(shutdown);
        let mut udp_buf = vec![0u8; 65_536];
        tracing::info!(realm = %state.realm, addr = ?tcp.local_addr().ok(), "KDC serving");
        loop {
            let udp_recv = async {
                match &udp {
                    Some(sock) => sock.recv_from(&mut udp_buf).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = &mut shutdown => break,
                accepted = tcp.accept() => {
                    let (stream, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let Ok(permit) = Arc::clone(&limit).try_acquire_owned() else {
                        tracing::warn!(%peer, "too many connections; closing");
                        continue;
                    };
                    let state = Arc::clone(&state);
                    tasks.spawn(async move {
                        let _permit = permit;
                        if let Err(e) = connection(&state, stream).await {
                            tracing::debug!(%peer, error = %e, "connection ended");
                        }
                    });
                }
                received = udp_recv => {
                    if let (Ok((n, peer)), Some(sock)) = (received, &udp) {
                        let request = udp_buf.get(..n).unwrap_or_default();
                        if let Some(mut reply) = handle(&state, request) {
                            if reply.len() > MAX_UDP_REPLY {
                                reply = state.too_big();
                            }
                            let _ = sock.send_to(&reply, peer).await;
                        }
                    }
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        tasks.shutdown().await;
        tracing::info!(realm = %state.realm, "KDC stopped");
        Ok(())
    }
}

/// One TCP connection: requests until the client closes or a time-out fires.
async fn connection(state: &KdcState, mut stream: TcpStream) -> io::Result<()> {
    let io_timeout = state.config.io_timeout;
    let _ = stream.set_nodelay(true);
    loop {
        let mut prefix = [0u8; 4];
        match timeout(io_timeout, stream.read_exact(&mut prefix)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "read time-out")),
        }
        let len = u32::from_be_bytes(prefix);
        if len & 0x8000_0000 != 0 || len as usize > state.config.max_request {
            // RFC 4120 7.2.2: answer KRB_ERR_FIELD_TOOLONG and close.
            let reply = state.field_too_long();
            let _ = timeout(io_timeout, write_frame(&mut stream, &reply)).await;
            return Ok(());
        }
        let mut request = vec![0u8; len as usize];
        match timeout(io_timeout, stream.read_exact(&mut request)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "read time-out")),
        }
        let Some(reply) = handle(state, &request) else {
            return Ok(());
        };
        match timeout(io_timeout, write_frame(&mut stream, &reply)).await {
            Ok(r) => r?,
            Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "write time-out")),
        }
    }
}

async fn write_frame(stream: &mut TcpStream, body: &[u8]) -> io::Result<()> {
    let mut framed = Vec::with_capacity(body.len() + 4);
    framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
    framed.extend_from_slice(body);
    stream.write_all(&framed).await?;
    stream.flush().await
}
