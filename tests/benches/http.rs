//! `http`: requests per second through `sspi-http` on loopback, beside the
//! same hyper server without authentication, in one run.
//!
//! Two servers share one tokio runtime of their own (one worker thread): an
//! `sspi_http::serve` server (the NTLM, Kerberos and Negotiate plugins
//! through a registry file, the embedded KDC) and a plain hyper HTTP/1.1
//! server built the same way (keep-alive, the same buffer limit) with no
//! authentication. Both serve the same handler, [`Hello`], which answers
//! `NAME PACKAGE\n` from the [`Authenticated`] extension, or a fixed name of
//! the same length when there is none: the bodies, and the handler's work,
//! are the same on both.
//!
//! The clients are hyper's HTTP/1.1 client (`http1::handshake` over a
//! `TcpStream`) on a current-thread runtime of their own.
//!
//! * `http_steady/{plain,ntlm,kerberos}/{1,64}_clients`: 1 or 64 keep-alive
//!   connections, opened (and, for `ntlm` and `kerberos`, authenticated:
//!   NTLM's three legs, or Kerberos through Negotiate with the AP-REP on the
//!   `200`) once, outside the measured time; then the iterations' requests
//!   are shared among the connections, run at once, and timed together
//!   (`iter_custom`). Criterion's throughput is requests per second.
//! * `http_side_by_side` (printed, not a criterion benchmark): `plain` and
//!   each authenticated kind take turns on those same connections, round
//!   after round, so that a change of load on a shared machine falls on both
//!   alike; it prints the medians of requests per second and of the server's
//!   CPU time per request (the server runtime's threads, from Linux's
//!   `/proc`), and the medians of the rounds' paired ratios: the issue's
//!   figure, the steady-state cost of authentication per request. (Two
//!   `http_steady` results, run seconds apart, differ on a shared machine by
//!   more than authentication costs: read the ratio here.)
//! * `http_first_request/{plain,ntlm,kerberos}`: a new connection, the whole
//!   handshake (the client's InitializeSecurityContext calls included; the
//!   Kerberos client's tickets come from its cache after the first), and one
//!   request, one connection at a time.
//! * `http_service/{plain,authenticated}`: no network — one request through
//!   an authenticated connection's `AuthService` in front of [`Hello`], beside
//!   [`Hello`] called directly: the server-side cost of authentication per
//!   request, by itself.
//!
//! `http_side_by_side` always runs (about 40 s), whatever criterion filter is
//! given. The whole run is short: a few seconds per benchmark, about two
//! minutes in all on two cores (`cargo bench -p sspi-tests --bench http`).
//!
//! On an otherwise idle virtual machine the one-client figures are mostly
//! the cost of waking an idle CPU (each request is two cross-thread
//! wake-ups), which both servers pay alike; the ratios hold, the absolute
//! rates do not carry over to other machines.

#[path = "../tests/common/http_fixture.rs"]
mod fixture;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fixture::{authorization, isc};
use http::header::{AUTHORIZATION, HOST, WWW_AUTHENTICATE};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::service::Service;
use hyper_util::rt::TokioIo;
use sspi_core::{CredentialUse, SecurityStatus};
use sspi_http::{AuthService, Authenticated, Body, HttpAuthConfig, HttpAuthenticator};
use sspi_kdc::KdcHandle;
use sspi_plugin_host::{CredentialsHandle, SecurityHost};
use sspi_tests::RegistryFile;
use std::hint::black_box;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// What an unauthenticated request's body names: as long as NTLM's client.
const ANONYMOUS: (&str, &str) = ("SSPI-PLUG\\alice", "NTLM");

/// The small handler of both servers: `200` with `NAME PACKAGE\n`.
#[derive(Debug, Clone, Copy)]
struct Hello;

impl<B> Service<Request<B>> for Hello {
    type Response = Response<Body>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Response<Body>, Self::Error>>;

    fn call(&self, request: Request<B>) -> Self::Future {
        let (name, package) = match request.extensions().get::<Authenticated>() {
            Some(who) => (&*who.name, &*who.package),
            None => ANONYMOUS,
        };
        std::future::ready(Ok(Response::new(Body::from(format!("{name} {package}\n")))))
    }
}

/// The KDC, the registry and both servers (stopped on drop).
struct Site {
    _kdc: KdcHandle,
    registry: RegistryFile,
    host: SecurityHost,
    authenticated: SocketAddr,
    plain: SocketAddr,
    /// The server runtime's threads (`/proc` task ids; empty off Linux).
    server_threads: Arc<std::sync::Mutex<Vec<String>>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Site {
    /// The CPU time the server runtime's threads have used so far (Linux's
    /// `/proc/self/task/TID/schedstat`), `None` where that cannot be read.
    fn server_cpu(&self) -> Option<Duration> {
        let threads = self.server_threads.lock().unwrap();
        if threads.is_empty() {
            return None;
        }
        let mut total = 0u64;
        for tid in threads.iter() {
            // A thread that has ended (tokio's blocking pool) is skipped.
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")) {
                total += stat.split(' ').next()?.parse::<u64>().ok()?;
            }
        }
        Some(Duration::from_nanos(total))
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The plain server: `sspi_http::serve_connection`'s hyper settings, no
/// authentication.
async fn serve_plain(listener: tokio::net::TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .max_buf_size(256 * 1024)
                .serve_connection(TokioIo::new(stream), Hello)
                .await;
        });
    }
}

fn site() -> Site {
    let (kdc, registry) = fixture::realm("", "");
    let host = registry.host();
    // The defaults: 64 clients' handshakes stay well inside the budget of
    // half-done handshakes (256).
    let auth =
        Arc::new(HttpAuthenticator::new(&host, HttpAuthConfig::default()).expect("authenticator"));
    let server_threads = Arc::new(std::sync::Mutex::new(Vec::new()));
    let threads = Arc::clone(&server_threads);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .on_thread_start(move || {
            // `/proc/thread-self` is `PID/task/TID`.
            if let Ok(link) = std::fs::read_link("/proc/thread-self")
                && let Some(tid) = link.file_name()
            {
                threads
                    .lock()
                    .unwrap()
                    .push(tid.to_string_lossy().into_owned());
            }
        })
        .build()
        .expect("server runtime");
    let (authenticated, plain) = runtime.block_on(async {
        let a = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let p = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        (a, p)
    });
    let addrs = (
        authenticated.local_addr().unwrap(),
        plain.local_addr().unwrap(),
    );
    runtime.spawn(sspi_http::serve(authenticated, auth, Hello));
    runtime.spawn(serve_plain(plain));
    Site {
        _kdc: kdc,
        registry,
        host,
        authenticated: addrs.0,
        plain: addrs.1,
        server_threads,
        runtime: Some(runtime),
    }
}

fn token_of(challenge: &str, scheme: &str) -> Vec<u8> {
    use base64::Engine as _;
    let data = challenge
        .strip_prefix(scheme)
        .and_then(|rest| rest.strip_prefix(' '))
        .unwrap_or_else(|| panic!("not a {scheme} token: {challenge}"));
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("base64 token")
}

/// The client side: which way a new connection authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    Ntlm,
    Kerberos,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Plain => "plain",
            Kind::Ntlm => "ntlm",
            Kind::Kerberos => "kerberos",
        }
    }

    fn body(self) -> &'static str {
        match self {
            Kind::Plain | Kind::Ntlm => "SSPI-PLUG\\alice NTLM\n",
            Kind::Kerberos => "alice@SSPI-PLUG.TEST Kerberos\n",
        }
    }
}

/// A client connection's request half.
type Sender = SendRequest<Empty<Bytes>>;

/// The connections of one kind and count, lent to each run.
struct Pool {
    clients: usize,
    kind: Kind,
    senders: Option<Vec<Sender>>,
}

/// One run of the interleaved comparison: requests per second, and the
/// server's CPU µs per request where it can be read.
#[derive(Debug, Clone, Copy)]
struct Sample {
    rate: f64,
    cpu: Option<f64>,
}

struct Reply {
    status: StatusCode,
    challenge: Option<String>,
    body: Bytes,
}

/// One `GET /hello` on `sender`, with an `Authorization` value.
async fn get(sender: &mut Sender, authorization: Option<&str>) -> Reply {
    let mut request = Request::get("/hello").header(HOST, "localhost");
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    let request = request.body(Empty::new()).expect("request");
    sender.ready().await.expect("connection ready");
    let response = sender.send_request(request).await.expect("a response");
    let status = response.status();
    let challenge = response
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().expect("ASCII challenge").to_string());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    Reply {
        status,
        challenge,
        body,
    }
}

/// A new keep-alive connection to `addr`, its hyper connection task spawned.
async fn open(addr: SocketAddr) -> Sender {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1 handshake");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    sender
}

/// A new connection of `kind`, authenticated (the last request's reply
/// checked) and ready for requests without `Authorization`.
async fn connect(site: &Site, kind: Kind, client: &CredentialsHandle) -> Sender {
    let addr = match kind {
        Kind::Plain => site.plain,
        _ => site.authenticated,
    };
    let mut sender = open(addr).await;
    let last = match kind {
        Kind::Plain => get(&mut sender, None).await,
        Kind::Ntlm => {
            let mut context = None;
            let (status, negotiate) = isc(client, &mut context, None);
            assert_eq!(status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
            let reply = get(&mut sender, Some(&authorization("NTLM", &negotiate))).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
            let challenge = token_of(reply.challenge.as_deref().expect("CHALLENGE"), "NTLM");
            let (status, authenticate) = isc(client, &mut context, Some(&challenge));
            assert_eq!(status, SecurityStatus::SEC_E_OK);
            get(&mut sender, Some(&authorization("NTLM", &authenticate))).await
        }
        Kind::Kerberos => {
            let mut context = None;
            let (status, token) = isc(client, &mut context, None);
            assert_eq!(status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
            let reply = get(&mut sender, Some(&authorization("Negotiate", &token))).await;
            let last = token_of(reply.challenge.as_deref().expect("AP-REP"), "Negotiate");
            let (status, _) = isc(client, &mut context, Some(&last));
            assert_eq!(status, SecurityStatus::SEC_E_OK, "mutual authentication");
            reply
        }
    };
    assert_eq!(last.status, StatusCode::OK);
    assert_eq!(last.body, kind.body());
    sender
}

/// The client credentials of `kind` (`Plain` never uses its NTLM ones).
fn client_credentials(site: &Site, kind: Kind) -> CredentialsHandle {
    let package = match kind {
        Kind::Kerberos => "Negotiate",
        _ => "NTLM",
    };
    site.host
        .acquire_credentials_handle(package, None, CredentialUse::OUTBOUND, None)
        .expect("client credentials")
}

/// `requests` requests shared among `senders`, all at once; the wall-clock
/// time, and the senders back.
fn run(
    client: &tokio::runtime::Runtime,
    senders: Vec<Sender>,
    requests: u64,
    kind: Kind,
) -> (Duration, Vec<Sender>) {
    let count = senders.len() as u64;
    client.block_on(async move {
        let start = Instant::now();
        let tasks: Vec<_> = senders
            .into_iter()
            .enumerate()
            .map(|(i, mut sender)| {
                let n = requests / count + u64::from((i as u64) < requests % count);
                tokio::spawn(async move {
                    for _ in 0..n {
                        let reply = get(&mut sender, None).await;
                        assert_eq!(reply.status, StatusCode::OK);
                        assert_eq!(reply.body.len(), kind.body().len());
                    }
                    sender
                })
            })
            .collect();
        let mut senders = Vec::with_capacity(tasks.len());
        for task in tasks {
            senders.push(task.await.expect("client task"));
        }
        (start.elapsed(), senders)
    })
}

fn http(c: &mut Criterion) {
    let site = site();
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");

    // Each kind's 1 and 64 connections, opened and authenticated once.
    let mut pools = Vec::new();
    for clients in [1usize, 64] {
        for kind in [Kind::Plain, Kind::Ntlm, Kind::Kerberos] {
            let credentials = client_credentials(&site, kind);
            let senders = client.block_on(async {
                let mut senders = Vec::with_capacity(clients);
                for _ in 0..clients {
                    senders.push(connect(&site, kind, &credentials).await);
                }
                senders
            });
            pools.push(Pool {
                clients,
                kind,
                senders: Some(senders),
            });
        }
    }

    let mut group = c.benchmark_group("http_steady");
    group.sample_size(20);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(1));
    for pool in &mut pools {
        let (clients, kind, senders) = (pool.clients, pool.kind, &mut pool.senders);
        group.bench_function(format!("{}/{clients}_clients", kind.name()), |b| {
            b.iter_custom(|iters| {
                let (elapsed, back) = run(&client, senders.take().expect("senders"), iters, kind);
                *senders = Some(back);
                elapsed
            })
        });
    }
    group.finish();

    side_by_side(&client, &site, &mut pools);

    let mut group = c.benchmark_group("http_first_request");
    group.sample_size(20);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    for kind in [Kind::Plain, Kind::Ntlm, Kind::Kerberos] {
        let credentials = client_credentials(&site, kind);
        group.bench_function(kind.name(), |b| {
            b.iter(|| client.block_on(async { drop(connect(&site, kind, &credentials).await) }))
        });
    }
    group.finish();

    service(c, &site);
}

/// Rounds of the interleaved comparison.
const ROUNDS: usize = 41;

/// Requests per round and kind: enough for some tens of milliseconds.
fn requests_per_round(clients: usize) -> u64 {
    if clients == 1 { 1000 } else { 10_000 }
}

/// Criterion runs one benchmark after the other, so a change of load on a
/// shared machine between two of them shows up in their ratio. Here `plain`
/// and each authenticated kind take turns on the same connections (the
/// order flipped every round); printed are the medians of requests per
/// second and of the server's CPU time per request (its runtime's threads,
/// from `/proc`), and the medians of the rounds' paired ratios.
fn side_by_side(client: &tokio::runtime::Runtime, site: &Site, pools: &mut [Pool]) {
    fn median(mut values: Vec<f64>) -> f64 {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    }
    println!(
        "\nhttp_side_by_side: {ROUNDS} interleaved rounds per kind of {} requests (1 client) and {} (64)",
        requests_per_round(1),
        requests_per_round(64)
    );
    for clients in [1usize, 64] {
        let requests = requests_per_round(clients);
        for kind in [Kind::Ntlm, Kind::Kerberos] {
            // Requests per second, and the server's CPU µs per request.
            let mut measure = |of: Kind| {
                let pool = pools
                    .iter_mut()
                    .find(|pool| pool.clients == clients && pool.kind == of)
                    .expect("a pool");
                let before = site.server_cpu();
                let (elapsed, back) =
                    run(client, pool.senders.take().expect("senders"), requests, of);
                let after = site.server_cpu();
                pool.senders = Some(back);
                Sample {
                    rate: requests as f64 / elapsed.as_secs_f64(),
                    cpu: after.zip(before).map(|(after, before)| {
                        after.saturating_sub(before).as_secs_f64() * 1e6 / requests as f64
                    }),
                }
            };
            // (plain, authenticated) per round.
            let mut rounds: Vec<(Sample, Sample)> = Vec::with_capacity(ROUNDS);
            for round in 0..ROUNDS {
                rounds.push(if round % 2 == 0 {
                    let plain = measure(Kind::Plain);
                    (plain, measure(kind))
                } else {
                    let authenticated = measure(kind);
                    (measure(Kind::Plain), authenticated)
                });
            }
            let rate_ratio = median(rounds.iter().map(|(p, a)| a.rate / p.rate).collect());
            println!(
                "  {clients:>2} client(s) {:<8}: {:>6.0} req/s vs plain {:>6.0} req/s, ratio {rate_ratio:.3} \
                 (authentication costs {:+.1} % of the time per request)",
                kind.name(),
                median(rounds.iter().map(|(_, a)| a.rate).collect()),
                median(rounds.iter().map(|(p, _)| p.rate).collect()),
                (1.0 / rate_ratio - 1.0) * 100.0,
            );
            let cpu: Option<Vec<(f64, f64)>> =
                rounds.iter().map(|(p, a)| p.cpu.zip(a.cpu)).collect();
            match cpu {
                Some(cpu) => {
                    let cpu_ratio = median(cpu.iter().map(|(p, a)| a / p).collect());
                    println!(
                        "  {clients:>2} client(s) {:<8}: server CPU {:.2} µs/request vs plain {:.2} µs, \
                         ratio {cpu_ratio:.3} ({:+.1} %)",
                        kind.name(),
                        median(cpu.iter().map(|(_, a)| *a).collect()),
                        median(cpu.iter().map(|(p, _)| *p).collect()),
                        (cpu_ratio - 1.0) * 100.0,
                    );
                }
                None => println!("  (the server's CPU time cannot be read here: no /proc)"),
            }
        }
    }
}

/// Polls a future that is ready at once (both handlers' are).
fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the service's future is not ready at once"),
    }
}

fn hello_request(authorization: Option<&str>) -> Request<()> {
    let mut request = Request::get("/hello").header(HOST, "localhost");
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    request.body(()).expect("request")
}

/// `AuthService` in front of `Hello` without the network: NTLM's legs
/// through `call`, then one request per iteration.
fn service(c: &mut Criterion, site: &Site) {
    let auth = Arc::new(
        HttpAuthenticator::new(&site.registry.host(), HttpAuthConfig::default())
            .expect("authenticator"),
    );
    let service = AuthService::new(auth, Hello);
    let credentials = client_credentials(site, Kind::Ntlm);
    let mut context = None;
    let (_, negotiate) = isc(&credentials, &mut context, None);
    let reply = now(service.call(hello_request(Some(&authorization("NTLM", &negotiate))))).unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    let challenge = token_of(reply.headers()[WWW_AUTHENTICATE].to_str().unwrap(), "NTLM");
    let (_, authenticate) = isc(&credentials, &mut context, Some(&challenge));
    let reply =
        now(service.call(hello_request(Some(&authorization("NTLM", &authenticate))))).unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let reply = now(service.call(hello_request(None))).unwrap();
    assert_eq!(reply.status(), StatusCode::OK);

    let mut group = c.benchmark_group("http_service");
    group.sample_size(20);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Elements(1));
    group.bench_function("plain", |b| {
        b.iter(|| black_box(now(Hello.call(hello_request(None)))))
    });
    group.bench_function("authenticated", |b| {
        b.iter(|| black_box(now(service.call(hello_request(None)))))
    });
    group.finish();
}

criterion_group!(benches, http);
criterion_main!(benches);
