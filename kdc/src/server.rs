//! The network front end: TCP with the 4-byte length prefix and UDP, every
//! read and write under a time-out, bounds on request sizes, requests per
//! connection, idle time and connections (in all and per peer; the longest
//! idle connection gives its slot to a new one when all are taken), UDP
//! answers never larger than their request, shutdown by a future.

use crate::{KdcConfig, KdcState, handle};
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout, timeout_at};

/// The largest reply sent over UDP (and never more than the request); a
/// larger one is replaced by KRB_ERR_RESPONSE_TOO_BIG so the client retries
/// over TCP.
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
        let slots = Arc::new(Slots {
            max: state.config.max_connections,
            per_peer: state.config.max_connections_per_peer,
            table: Mutex::new(Table::default()),
        });
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
                    let slot = match slots.admit(peer.ip(), &state) {
                        Ok(slot) => slot,
                        Err(why) => {
                            state.tcp_refused.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(%peer, why, "connection refused");
                            continue;
                        }
                    };
                    let state = Arc::clone(&state);
                    tasks.spawn(async move {
                        if let Err(e) = connection(&state, stream, &slot).await {
                            tracing::debug!(%peer, error = %e, "connection ended");
                        }
                        drop(slot);
                    });
                }
                received = udp_recv => {
                    if let (Ok((n, peer)), Some(sock)) = (received, &udp) {
                        let request = udp_buf.get(..n).unwrap_or_default();
                        if let Some(reply) = udp_reply(&state, request) {
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

/// The answer to a UDP request, never larger than the request (nor than
/// [`MAX_UDP_REPLY`]), so a spoofed source address gains an attacker nothing:
/// a larger reply is replaced by KRB_ERR_RESPONSE_TOO_BIG (RFC 4120 7.2.1: the
/// client retries over TCP), and when even that is larger, nothing is sent.
pub fn udp_reply(state: &KdcState, request: &[u8]) -> Option<Vec<u8>> {
    let reply = handle(state, request)?;
    let limit = request.len().min(MAX_UDP_REPLY);
    if reply.len() <= limit {
        return Some(reply);
    }
    state.udp_too_big.fetch_add(1, Ordering::Relaxed);
    let too_big = state.too_big();
    (too_big.len() <= limit).then_some(too_big)
}

/// The TCP connections being served: at most `max` in all and `per_peer` per
/// peer address. When all are taken, a new connection takes the slot of an
/// idle one ([`Table::victim`]), so connections kept open between requests
/// cannot lock clients out.
struct Slots {
    max: usize,
    per_peer: usize,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    next: u64,
    open: HashMap<u64, Slot>,
}

struct Slot {
    peer: IpAddr,
    /// Since when it waits for a request (`None` while one is being served).
    idle_since: Option<Instant>,
    /// Whether it has had a request (clients send one per connection).
    served: bool,
    evict: Arc<Notify>,
}

/// How long a new connection is spared from eviction while its first
/// request arrives (a client sends it right after connecting).
const FIRST_REQUEST_GRACE: std::time::Duration = std::time::Duration::from_millis(250);

impl Table {
    /// The idle connection to close for a new one: those waiting for a
    /// further request (clients send one request per connection), or for a
    /// first one for longer than [`FIRST_REQUEST_GRACE`]; of those first the
    /// ones that have had a request, then those of the peer with the most
    /// connections, then the one idle longest.
    fn victim(&self) -> Option<u64> {
        let mut per_peer: HashMap<IpAddr, usize> = HashMap::new();
        for slot in self.open.values() {
            *per_peer.entry(slot.peer).or_default() += 1;
        }
        self.open
            .iter()
            .filter_map(|(id, s)| {
                let since = s.idle_since?;
                if !s.served && since.elapsed() < FIRST_REQUEST_GRACE {
                    return None;
                }
                let peers = per_peer.get(&s.peer).copied().unwrap_or(0);
                Some(((s.served, peers, std::cmp::Reverse(since)), *id))
            })
            .max()
            .map(|(_, id)| id)
    }
}

impl Slots {
    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for a connection from `peer`, or why there is none.
    fn admit(
        self: &Arc<Self>,
        peer: IpAddr,
        state: &Arc<KdcState>,
    ) -> Result<SlotGuard, &'static str> {
        let mut table = self.table();
        if table.open.values().filter(|s| s.peer == peer).count() >= self.per_peer {
            return Err("the peer has MaxConnectionsPerPeer connections open");
        }
        if table.open.len() >= self.max {
            let Some(victim) = table.victim() else {
                return Err(
                    "all MaxConnections connections are serving or awaiting a first request",
                );
            };
            if let Some(slot) = table.open.remove(&victim) {
                slot.evict.notify_one();
                state.tcp_evicted.fetch_add(1, Ordering::Relaxed);
                state.tcp_open.fetch_sub(1, Ordering::Relaxed);
                tracing::debug!(peer = %slot.peer, "idle connection closed for a new one");
            }
        }
        let id = table.next;
        table.next += 1;
        let evict = Arc::new(Notify::new());
        table.open.insert(
            id,
            Slot {
                peer,
                idle_since: Some(Instant::now()),
                served: false,
                evict: Arc::clone(&evict),
            },
        );
        state.tcp_open.fetch_add(1, Ordering::Relaxed);
        Ok(SlotGuard {
            slots: Arc::clone(self),
            state: Arc::clone(state),
            id,
            evict,
        })
    }
}

/// A connection's slot; dropping it frees the slot.
struct SlotGuard {
    slots: Arc<Slots>,
    state: Arc<KdcState>,
    id: u64,
    evict: Arc<Notify>,
}

impl SlotGuard {
    /// Marks the connection waiting for a request (evictable) or serving one.
    fn set_idle(&self, idle: bool) {
        if let Some(slot) = self.slots.table().open.get_mut(&self.id) {
            slot.idle_since = idle.then(Instant::now);
            slot.served |= !idle;
        }
    }

    /// Completes when the slot was given to a new connection.
    async fn evicted(&self) {
        self.evict.notified().await;
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        if self.slots.table().open.remove(&self.id).is_some() {
            self.state.tcp_open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} time-out"))
}

/// One TCP connection: at most `max_requests_per_connection` requests, each
/// awaited at most `idle_timeout` (or until the slot is taken by a new
/// connection) and read whole within `io_timeout` of its first byte.
async fn connection(state: &KdcState, mut stream: TcpStream, slot: &SlotGuard) -> io::Result<()> {
    let io_timeout = state.config.io_timeout;
    let _ = stream.set_nodelay(true);
    for _ in 0..state.config.max_requests_per_connection {
        slot.set_idle(true);
        let mut prefix = [0u8; 4];
        let first = tokio::select! {
            read = timeout(state.config.idle_timeout, stream.read(&mut prefix[..1])) => read,
            () = slot.evicted() => return Ok(()),
        };
        match first {
            Ok(Ok(0)) => return Ok(()),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(timed_out("idle")),
        }
        slot.set_idle(false);
        let deadline = Instant::now() + io_timeout;
        match timeout_at(deadline, stream.read_exact(&mut prefix[1..])).await {
            Ok(r) => r?,
            Err(_) => return Err(timed_out("read")),
        };
        let len = u32::from_be_bytes(prefix);
        if len & 0x8000_0000 != 0 || len as usize > state.config.max_request {
            // RFC 4120 7.2.2: answer KRB_ERR_FIELD_TOOLONG and close.
            let reply = state.field_too_long();
            let _ = timeout(io_timeout, write_frame(&mut stream, &reply)).await;
            return Ok(());
        }
        let mut request = vec![0u8; len as usize];
        match timeout_at(deadline, stream.read_exact(&mut request)).await {
            Ok(r) => r?,
            Err(_) => return Err(timed_out("read")),
        };
        let Some(reply) = handle(state, &request) else {
            return Ok(());
        };
        match timeout(io_timeout, write_frame(&mut stream, &reply)).await {
            Ok(r) => r?,
            Err(_) => return Err(timed_out("write")),
        }
    }
    Ok(())
}

async fn write_frame(stream: &mut TcpStream, body: &[u8]) -> io::Result<()> {
    let mut framed = Vec::with_capacity(body.len() + 4);
    framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
    framed.extend_from_slice(body);
    stream.write_all(&framed).await?;
    stream.flush().await
}
