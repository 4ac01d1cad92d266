//! # sspi-load
//!
//! A load generator: handshakes per second and latency percentiles, over
//! loopback TCP with many concurrent clients or in-process for comparison.
//! It drives `sspi bench` and the loopback benchmark; it is a measuring tool,
//! not part of the connection library.
#![deny(missing_docs)]

use sspi_connection::{ClientOptions, ConnectionError, authenticate};
use sspi_core::AscReq;
use sspi_plugin_host::{CredentialsHandle, loopback};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct LoadReport {
    /// Concurrent clients.
    pub clients: usize,
    /// Operations completed (handshakes; connections for [`bare_tcp`]).
    pub completed: usize,
    /// What one operation is ("handshakes", "connections").
    pub unit: &'static str,
    /// Wall-clock time of the run.
    pub elapsed: Duration,
    /// Median handshake latency.
    pub p50: Duration,
    /// 99th-percentile handshake latency.
    pub p99: Duration,
}

impl LoadReport {
    /// Operations per second.
    pub fn per_second(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64()
    }

    fn from_latencies(
        unit: &'static str,
        clients: usize,
        mut latencies: Vec<Duration>,
        elapsed: Duration,
    ) -> Self {
        latencies.sort_unstable();
        let at = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Self {
            clients,
            completed: latencies.len(),
            unit,
            elapsed,
            p50: at(0.50),
            p99: at(0.99),
        }
    }
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:>3} client(s): {:>6} {} in {:>6.2} s = {:>8.0}/s, p50 {:>7.1} µs, p99 {:>7.1} µs",
            self.clients,
            self.completed,
            self.unit,
            self.elapsed.as_secs_f64(),
            self.per_second(),
            self.p50.as_secs_f64() * 1e6,
            self.p99.as_secs_f64() * 1e6,
        )
    }
}

/// Runs `total` operations with `clients` concurrent tasks, timing each.
async fn drive<F, Fut>(
    unit: &'static str,
    clients: usize,
    total: usize,
    operation: F,
) -> Result<LoadReport, ConnectionError>
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<(), ConnectionError>> + Send,
{
    let remaining = Arc::new(AtomicUsize::new(total));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients.max(1) {
        let remaining = Arc::clone(&remaining);
        let operation = operation.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            while remaining
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                .is_ok()
            {
                let start = Instant::now();
                operation().await?;
                latencies.push(start.elapsed());
            }
            Ok::<_, ConnectionError>(latencies)
        });
    }
    let mut latencies = Vec::with_capacity(total);
    while let Some(joined) = tasks.join_next().await {
        let client = joined.map_err(|e| ConnectionError::Io(std::io::Error::other(e)))?;
        latencies.extend(client?);
    }
    Ok(LoadReport::from_latencies(
        unit,
        clients,
        latencies,
        started.elapsed(),
    ))
}

/// `handshakes` authentications against `addr` by `clients` concurrent
/// clients, each connecting, authenticating with `credentials` and closing.
/// The latency runs from connect to close.
pub async fn over_tcp(
    addr: SocketAddr,
    credentials: Arc<CredentialsHandle>,
    options: ClientOptions,
    clients: usize,
    handshakes: usize,
) -> Result<LoadReport, ConnectionError> {
    let options = Arc::new(options);
    drive("handshakes", clients, handshakes, move || {
        let (credentials, options) = (Arc::clone(&credentials), Arc::clone(&options));
        async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let session = authenticate(stream, &credentials, &options).await?;
            session.close().await
        }
    })
    .await
}

/// The same load without security: each client connects, sends one byte,
/// reads it back and closes, against a plain echo listener. The ceiling the
/// TCP path itself puts on [`over_tcp`].
pub async fn bare_tcp(clients: usize, connections: usize) -> Result<LoadReport, ConnectionError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                let mut byte = [0u8; 1];
                while let Ok(1) = stream.read(&mut byte).await {
                    if stream.write_all(&byte).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    let report = drive("connections", clients, connections, move || async move {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        stream.write_all(b"x").await?;
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).await?;
        stream.shutdown().await?;
        Ok(())
    })
    .await;
    server.abort();
    report
}

/// `handshakes` complete handshakes in this thread, client and server in
/// process, with no network: the rate the network path is compared with.
pub fn in_process(
    client: &CredentialsHandle,
    server: &CredentialsHandle,
    options: &ClientOptions,
    handshakes: usize,
) -> Result<LoadReport, ConnectionError> {
    let mut latencies = Vec::with_capacity(handshakes);
    let started = Instant::now();
    for _ in 0..handshakes {
        let start = Instant::now();
        loopback::handshake(
            client,
            server,
            options.target.as_deref(),
            options.isc_req,
            AscReq::PROTECTED_CONNECTION,
        )?;
        latencies.push(start.elapsed());
    }
    Ok(LoadReport::from_latencies(
        "handshakes",
        1,
        latencies,
        started.elapsed(),
    ))
}
