//! Abuse of the server's slots and memory over loopback, with the limits read
//! from the test's registry: 256 slow clients (slowloris), from one address
//! and from 253, hold connections while a good client keeps authenticating;
//! authenticated clients that never read their replies are dropped at
//! `WriteTimeout` and their slots and memory come back. The process's live
//! heap (every library's `malloc`) and VmRSS are measured before, during and
//! after; the server runs in this process, beside the clients.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

#[path = "common/counting_malloc.rs"]
mod counting_malloc;

use sspi_core::SecBuffer;
use sspi_tests::net::{Running, authenticate_by_hand, connect_from, rss_kib};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

/// The tests measure the process's heap: one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const SLOW_CLIENTS: usize = 256;
const MIB: f64 = 1024.0 * 1024.0;

/// The defaults, written out; a handshake time-out longer than the attack, so
/// that only the admission policy lets the good client in.
const SLOWLORIS_SERVER: &str = r#""HandshakeTimeout"=dword:00001388
"MaxConnections"=dword:00000100
"MaxUnauthenticated"=dword:00000040
"MaxConnectionsPerPeer"=dword:00000020
"MaxTokenSize"=dword:00010000"#;

/// A slow client: connects from `from`, announces a handshake frame of the
/// largest size allowed (65,537 bytes) and trickles its body a byte a second,
/// reading nothing but the server's close. Dropped, it reconnects 100 ms
/// later: it keeps trying to hold a slot until `stop`.
async fn slow_client(
    from: IpAddr,
    addr: SocketAddr,
    mut stop: watch::Receiver<bool>,
    dropped: Arc<AtomicUsize>,
) {
    while !*stop.borrow() {
        let Ok(stream) = connect_from(from, addr, None).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let (mut read, mut write) = stream.into_split();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut sink = [0u8; 256];
        if write.write_all(&65_537u32.to_be_bytes()).await.is_ok() {
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = tick.tick() => if write.write_all(&[2]).await.is_err() { break },
                    read = read.read(&mut sink) => match read {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {} // an error frame; the close follows
                    },
                }
            }
        }
        dropped.fetch_add(1, Ordering::Relaxed);
        tokio::select! {
            _ = stop.changed() => return,
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

/// Heap and RSS at one moment.
#[derive(Debug, Clone, Copy)]
struct Memory {
    heap: isize,
    rss_kib: usize,
}

impl Memory {
    fn now() -> Self {
        Self {
            heap: counting_malloc::live_bytes(),
            rss_kib: rss_kib(),
        }
    }

    fn max(self, other: Self) -> Self {
        Self {
            heap: self.heap.max(other.heap),
            rss_kib: self.rss_kib.max(other.rss_kib),
        }
    }
}

impl std::fmt::Display for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "live heap {:.2} MiB, VmRSS {:.1} MiB",
            self.heap as f64 / MIB,
            self.rss_kib as f64 / 1024.0
        )
    }
}

/// Runs 256 slow clients from `sources` (round robin) for two seconds while
/// a good client from 127.0.0.1 authenticates and echoes over and over; the
/// slow clients must hold `held_budget` slots throughout, the good client
/// must succeed every time, and the heap must stay small and come back.
async fn attack(server: &Running, label: &str, sources: &[IpAddr], held_budget: usize) {
    server.good_client().await.unwrap();
    server.settle().await;
    let before = Memory::now();
    let evicted_before = server.stats.evicted.load(Ordering::Relaxed);

    let (stop, stopped) = watch::channel(false);
    let dropped = Arc::new(AtomicUsize::new(0));
    let mut slow = tokio::task::JoinSet::new();
    for i in 0..SLOW_CLIENTS {
        slow.spawn(slow_client(
            sources[i % sources.len()],
            server.addr,
            stopped.clone(),
            Arc::clone(&dropped),
        ));
    }
    // The slow clients fill what they can hold.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.stats.unauthenticated.load(Ordering::Relaxed) < held_budget {
        assert!(
            Instant::now() < deadline,
            "{label}: the slow clients hold only {} slots",
            server.stats.unauthenticated.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let (mut attempts, mut successes, mut failures) = (0usize, 0usize, Vec::new());
    let mut during = Memory::now();
    let mut held_min = usize::MAX;
    let attack_ends = Instant::now() + Duration::from_secs(2);
    while Instant::now() < attack_ends {
        held_min = held_min.min(server.stats.unauthenticated.load(Ordering::Relaxed));
        attempts += 1;
        match tokio::time::timeout(Duration::from_secs(5), server.good_client()).await {
            Ok(Ok(_)) => successes += 1,
            Ok(Err(error)) => failures.push(error.to_string()),
            Err(_) => failures.push("timed out".into()),
        }
        during = during.max(Memory::now());
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let evicted = server.stats.evicted.load(Ordering::Relaxed) - evicted_before;
    let busy = server.stats.busy.load(Ordering::Relaxed);

    let _ = stop.send(true);
    while slow.join_next().await.is_some() {}
    server.settle().await;
    let after = Memory::now();
    eprintln!(
        "{label}: good client {successes}/{attempts} during the attack; slow clients held \
         {held_min}+ slots, dropped {} times ({evicted} evicted for newer connections, {busy} \
         refused busy in all)\n  before: {before}\n  during (peak): {during}\n  after:  {after}",
        dropped.load(Ordering::Relaxed)
    );
    assert!(
        failures.is_empty(),
        "{label}: good client {successes}/{attempts}, first failure: {:?}",
        failures.first()
    );
    assert!(attempts >= 10, "{label}: only {attempts} attempts");
    assert!(
        held_min + 1 >= held_budget,
        "{label}: the slow clients held their budget of {held_budget} throughout ({held_min} at least)"
    );
    assert!(evicted > 0, "{label}: the slow clients were displaced");
    // 256 connections announcing 64 KiB each would be 16 MiB if allocated up
    // front; grown with what arrives they cost a few KiB each.
    let grown = during.heap - before.heap;
    assert!(
        grown < 4 << 20,
        "{label}: the heap grew by {:.2} MiB during the attack",
        grown as f64 / MIB
    );
    let left = after.heap - before.heap;
    assert!(
        left < 256 << 10,
        "{label}: {:.2} MiB left on the heap after the attack",
        left as f64 / MIB
    );
    assert_eq!(server.stats.unauthenticated.load(Ordering::Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_client_keeps_authenticating_while_256_slow_clients_hold_connections() {
    let _serial = SERIAL.lock().await;
    let server = Running::start_with_registry(SLOWLORIS_SERVER).await;
    // Warm up the runtime and the plugin's lazy state.
    for _ in 0..5 {
        server.good_client().await.unwrap();
    }
    // From one address: it holds at most MaxConnectionsPerPeer (32) slots.
    attack(
        &server,
        "one address",
        &[Ipv4Addr::new(127, 0, 0, 2).into()],
        32,
    )
    .await;
    // From 253 addresses: they fill MaxUnauthenticated (64); a newcomer takes
    // the slot of the one stalled longest.
    let many: Vec<IpAddr> = (2..=254u8)
        .map(|last| Ipv4Addr::new(127, 0, 0, last).into())
        .collect();
    attack(&server, "253 addresses", &many, 64).await;
    let report = server.stop().await;
    assert_eq!(report.aborted, 0);
}

/// A write that makes no progress for this long has stalled.
const STALL: Duration = Duration::from_millis(200);

/// Clients that never read. Each backs up some 10 MiB of kernel buffers on
/// loopback before its server session is stuck (socket autotuning), which a
/// debug build on 2 busy cores takes seconds to push for 32 clients: 16 keep
/// the test well inside `WriteTimeout`.
const NEVER_READS: usize = 16;
/// `WriteTimeout` in the test's registry.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// A message as large as `MaxMessageSize` (1 MiB) allows, trailer included.
const MESSAGE: usize = (1 << 20) - 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_read_are_dropped_at_the_write_timeout() {
    let _serial = SERIAL.lock().await;
    // WriteTimeout 5 s (the clients need a few seconds to back up the
    // kernel's buffers, 4 MiB or so each way, in a debug build); IdleTimeout
    // 30 s, so only the write time-out can end them.
    let server = Running::start_with_registry(
        r#""WriteTimeout"=dword:00001388
"IdleTimeout"=dword:00007530
"MaxConnections"=dword:00000010
"MaxConnectionsPerPeer"=dword:00000040
"MaxMessageSize"=dword:00100000"#,
    )
    .await;
    server.good_client().await.unwrap();
    server.settle().await;
    let before = Memory::now();

    let credentials = Arc::new(server.client_credentials(None));
    let localhost = IpAddr::from(Ipv4Addr::LOCALHOST);
    let mut clients = Vec::new();
    for _ in 0..NEVER_READS {
        // A small receive buffer: the server's replies back up at once.
        let stream = connect_from(localhost, server.addr, Some(4096))
            .await
            .unwrap();
        clients.push(authenticate_by_hand(stream, &credentials).await);
    }
    // Each sends 1 MiB messages for as long as the server takes them, and
    // never reads. A client reports once a write has made no progress for
    // 200 ms, and keeps pushing (a server that was only slow ends up stuck too).
    let sending = Instant::now();
    let (stalled_tx, mut stalled_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut senders = tokio::task::JoinSet::new();
    for (read, mut write, mut context) in clients {
        let mut stalled = Some(stalled_tx.clone());
        senders.spawn(async move {
            let trailer = context.sizes().unwrap().security_trailer as usize;
            let mut frame = vec![b'x'; 4 + 1 + 2 + trailer + MESSAGE];
            let mut sent = 0usize;
            loop {
                let len = (frame.len() - 4) as u32;
                frame[..4].copy_from_slice(&len.to_be_bytes());
                frame[4] = 5; // Message
                frame[5..7].copy_from_slice(&(trailer as u16).to_be_bytes());
                let (trailer_bytes, data) = frame[7..].split_at_mut(trailer);
                let mut buffers = [SecBuffer::token(trailer_bytes), SecBuffer::data(data)];
                context
                    .encrypt_message(sspi_core::Qop::DEFAULT, &mut buffers, 0)
                    .unwrap();
                let mut bytes = &frame[..];
                while !bytes.is_empty() {
                    let progress = write.write(bytes);
                    tokio::pin!(progress);
                    let wrote = match tokio::time::timeout(STALL, &mut progress).await {
                        Ok(wrote) => wrote,
                        Err(_) => {
                            if let Some(stalled) = stalled.take() {
                                let _ = stalled.send(sent);
                            }
                            progress.await
                        }
                    };
                    match wrote {
                        Ok(n) if n > 0 => bytes = &bytes[n..],
                        // The server closed the connection.
                        _ => return (read, context),
                    }
                }
                sent += 1;
            }
        });
    }
    drop(stalled_tx);
    let mut sent = Vec::new();
    while sent.len() < NEVER_READS {
        sent.push(stalled_rx.recv().await.expect("every client stalls"));
    }
    let during = Memory::now();
    let active = server.stats.active.load(Ordering::Acquire);
    assert!(
        sending.elapsed() < WRITE_TIMEOUT - Duration::from_millis(300),
        "the clients stalled before the write time-out could fire ({:?})",
        sending.elapsed()
    );
    assert_eq!(
        active, NEVER_READS,
        "every session is stuck writing a reply"
    );
    // The slots are held: a 17th client is refused.
    let error = sspi_connection::authenticate(
        tokio::net::TcpStream::connect(server.addr).await.unwrap(),
        &credentials,
        &sspi_connection::ClientOptions::default(),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("server busy"), "{error}");

    // At the write time-out the server drops them (and the clients' writes fail).
    let deadline = sending + WRITE_TIMEOUT + Duration::from_secs(6);
    let mut clients = Vec::new();
    while let Ok(Some(joined)) = tokio::time::timeout_at(deadline.into(), senders.join_next()).await
    {
        clients.push(joined.unwrap());
    }
    while server.stats.active.load(Ordering::Acquire) != 0 {
        assert!(
            Instant::now() < deadline,
            "{} sessions still held {:?} after the clients stopped reading",
            server.stats.active.load(Ordering::Acquire),
            sending.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let dropped_after = sending.elapsed();
    let after = Memory::now();
    eprintln!(
        "{NEVER_READS} clients that never read (messages each sent before stalling: {sent:?}): dropped {dropped_after:?} \
         after they started sending (WriteTimeout {WRITE_TIMEOUT:?})\n  before: {before}\n  during: {during}\n  \
         after: {after}"
    );
    assert!(
        dropped_after >= WRITE_TIMEOUT,
        "dropped at the write time-out, not before: {dropped_after:?}"
    );
    assert_eq!(
        server.stats.failed_sessions.load(Ordering::Relaxed),
        NEVER_READS as u64
    );
    // Each stuck session holds two 1 MiB frame buffers (the message read, the
    // reply being written); each client its own 1 MiB frame.
    let held = during.heap - before.heap;
    assert!(
        held > (NEVER_READS as isize) * (5 << 19),
        "each stuck session held its frame buffers: {:.1} MiB in all",
        held as f64 / MIB
    );
    assert_eq!(
        clients.len(),
        NEVER_READS,
        "every client saw its connection closed"
    );
    let left = after.heap - before.heap;
    assert!(
        left < 1 << 20,
        "{:.2} MiB still held after the sessions were dropped",
        left as f64 / MIB
    );
    // The slots came back.
    server.good_client().await.unwrap();
    server.settle().await;
    server.stop().await;
}
