//! `negotiate`: the Negotiate package (SPNEGO over the real Kerberos and NTLM
//! plugins, all three loaded from one registry) against the inner packages
//! alone, and against pyspnego, in one run. Both sides of every handshake are
//! in process (`loopback::handshake`); the embedded KDC answers on loopback.
//!
//! * `negotiate_handshake_ntlm/{negotiate,ntlm,pyspnego}`: Negotiate with the
//!   client's PackageList `ntlm` (NegTokenInit with the optimistic NEGOTIATE,
//!   CHALLENGE, AUTHENTICATE + mechListMIC, accept-completed + mechListMIC:
//!   4 tokens) against plain NTLM (3 tokens), and pyspnego 0.11.2's own
//!   pure-Python Negotiate(NTLM), initiator and acceptor in one Python
//!   process (`scripts/spnego/bench_pyspnego.py --serve`, spawned once and
//!   driven by `iter_custom`: criterion asks for n handshakes, the script
//!   runs them and returns the time it measured itself, so interpreter start,
//!   imports and the pipe stay outside the figure and the same warm-up and
//!   statistics apply to both). Each iteration: new client and server
//!   contexts, every leg, the contexts dropped; credentials are acquired once.
//! * `negotiate_handshake_kerberos/*_cached_tickets`: the same client and
//!   server credentials every time, so the TGT and the service ticket come
//!   from the credential's cache (Negotiate's inner Kerberos credential keeps
//!   its own): no KDC trip, only AP-REQ and AP-REP (Negotiate: in NegTokenInit
//!   and in accept-completed, no mechListMIC); checked by the KDC's counters.
//! * `negotiate_handshake_kerberos/*_new_credentials`: new client credentials
//!   every iteration (Negotiate's acquire also takes NTLM credentials), so
//!   every iteration also does the AS exchange (with its PREAUTH round trip
//!   and string-to-key) and the TGS exchange; the trips are counted and
//!   printed, the same for both.
//! * `negotiate_per_message_{ntlm,kerberos}/{sign_verify,seal_unseal}_{64B,16KiB}/{negotiate,ntlm|kerberos}`:
//!   MakeSignature + VerifySignature, and EncryptMessage + DecryptMessage,
//!   through a Negotiate context against the inner package's own context.
//!
//! At the end the bench prints a table: the median of criterion's samples
//! for each, the ratio, and a *paired* ratio (batches of the two alternated,
//! ABBA, the median of the per-round ratios) which the machine's changing
//! load affects far less than two measurements made seconds apart, beside
//! the targets (handshake ≤ 1.10×, per-message ≤ 1.02×). Without
//! pyspnego (`scripts/spnego/install.sh`) the pyspnego comparison is skipped
//! with a loud notice.

#[path = "../tests/common/negotiate_fixture.rs"]
mod fixture;

#[path = "../tests/common/spnego_peers.rs"]
mod spnego_peers;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use fixture::{Kdc, SERVICE};
use sspi_core::{AuthIdentity, Qop, SecBuffer};
use sspi_plugin_host::loopback::{self, CompletedHandshake};
use sspi_plugin_host::{CredentialsHandle, SecurityHost};
use sspi_tests::{ASC_REQ, ISC_REQ};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The handshake target of the issue.
const HANDSHAKE_TARGET: f64 = 1.10;
/// The per-message target of the issue.
const PER_MESSAGE_TARGET: f64 = 1.02;
/// The message sizes.
const SIZES: [(usize, &str); 2] = [(64, "64B"), (16 * 1024, "16KiB")];
/// The acceptors' replay cache in the site's directory, not the host-wide
/// default file other processes lock too.
const KERBEROS_EXTRA: &str = "\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Kerberos]\n\"ReplayCachePath\"=\"replay.rcache\"\n";

/// The per-iteration time (ns) of every call criterion made, by benchmark id.
static SAMPLES: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

fn record(id: &str, iters: u64, elapsed: Duration) {
    SAMPLES
        .lock()
        .unwrap()
        .entry(id.to_owned())
        .or_default()
        .push(elapsed.as_nanos() as f64 / iters.max(1) as f64);
}

fn median_of(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// The median time per iteration of `id`'s samples: the last `samples`
/// calls (criterion's samples follow its warm-up calls).
fn median(id: &str, samples: usize) -> Option<f64> {
    let all = SAMPLES.lock().unwrap().get(id).cloned().unwrap_or_default();
    let skip = all.len().saturating_sub(samples);
    median_of(all[skip..].to_vec())
}

fn time_batch(f: &mut impl FnMut(), batch: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..batch {
        f();
    }
    start.elapsed().as_nanos() as f64
}

/// The median of `rounds` ratios time(a)/time(b), each over one batch of
/// each, alternating which goes first; a batch lasts about 4 ms.
fn paired(a: &mut impl FnMut(), b: &mut impl FnMut(), b_ns: f64, rounds: usize) -> f64 {
    let batch = ((4e6 / b_ns) as u64).max(1);
    let ratios = (0..rounds)
        .map(|round| {
            if round % 2 == 0 {
                let ta = time_batch(a, batch);
                ta / time_batch(b, batch)
            } else {
                let tb = time_batch(b, batch);
                time_batch(a, batch) / tb
            }
        })
        .collect();
    median_of(ratios).unwrap_or(f64::NAN)
}

/// One criterion group whose samples are recorded for the summary.
struct Group<'c> {
    group: BenchmarkGroup<'c, WallTime>,
    name: String,
    samples: usize,
}

impl<'c> Group<'c> {
    fn new(c: &'c mut Criterion, name: &str, samples: usize, measurement: f64) -> Self {
        let mut group = c.benchmark_group(name);
        group
            .sample_size(samples)
            .warm_up_time(Duration::from_millis(700))
            .measurement_time(Duration::from_secs_f64(measurement));
        Self {
            group,
            name: name.to_owned(),
            samples,
        }
    }

    fn custom(&mut self, id: &str, mut run: impl FnMut(u64) -> Duration) -> String {
        let key = format!("{}/{id}", self.name);
        self.group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let elapsed = run(iters);
                record(&key, iters, elapsed);
                elapsed
            })
        });
        key
    }

    fn iter(&mut self, id: &str, f: &mut impl FnMut()) -> String {
        self.custom(id, |iters| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed()
        })
    }

    fn median(&self, key: &str) -> Option<f64> {
        median(key, self.samples)
    }
}

/// One line of the summary.
struct Row {
    what: String,
    ours: Option<f64>,
    baseline: Option<f64>,
    baseline_name: String,
    paired: Option<f64>,
    target: Option<f64>,
    note: String,
}

/// Benchmarks `a` (through Negotiate) and `b` (the inner package alone), then
/// measures them paired; returns the summary row.
fn compare(
    group: &mut Group<'_>,
    what: &str,
    target: f64,
    (id_a, a): (&str, &mut impl FnMut()),
    (id_b, b): (&str, &mut impl FnMut()),
    rounds: usize,
) -> Row {
    let key_a = group.iter(id_a, a);
    let key_b = group.iter(id_b, b);
    let (ours, baseline) = (group.median(&key_a), group.median(&key_b));
    let paired = baseline.map(|b_ns| paired(a, b, b_ns, rounds));
    Row {
        what: what.to_owned(),
        ours,
        baseline,
        baseline_name: id_b.to_owned(),
        paired,
        target: Some(target),
        note: String::new(),
    }
}

fn handshake(client: &CredentialsHandle, server: &CredentialsHandle) -> CompletedHandshake {
    loopback::handshake(client, server, Some(SERVICE), ISC_REQ, ASC_REQ).expect("handshake")
}

/// A handshake, checked to have negotiated `package` (or, for a plain
/// package, to be that package), with `tokens` tokens.
fn checked(
    client: &CredentialsHandle,
    server: &CredentialsHandle,
    package: &str,
    tokens: usize,
) -> CompletedHandshake {
    let done = handshake(client, server);
    for side in [&done.client, &done.server] {
        let negotiated = match side.negotiation_info().expect("NEGOTIATION_INFO") {
            Some(info) => info.package.name.to_string(),
            None => side.package_name().to_owned(),
        };
        assert_eq!(negotiated, package, "{} negotiated", side.package_name());
    }
    let sent = done.legs.iter().filter(|l| l.token_len > 0).count();
    assert_eq!(sent, tokens, "{package}: {:?}", done.legs);
    done
}

/// The KDC's (AS, TGS) counters.
fn kdc_requests(site: &fixture::Site) -> (u64, u64) {
    let state = site.kdc.as_ref().expect("the KDC runs").state();
    (
        state.as_requests.load(Ordering::Relaxed),
        state.tgs_requests.load(Ordering::Relaxed),
    )
}

/// KDC requests per call of `f`, over 3 calls.
fn trips(site: &fixture::Site, mut f: impl FnMut()) -> String {
    let before = kdc_requests(site);
    for _ in 0..3 {
        f();
    }
    let after = kdc_requests(site);
    format!(
        "{} AS + {} TGS",
        (after.0 - before.0) as f64 / 3.0,
        (after.1 - before.1) as f64 / 3.0
    )
}

fn sign_verify(done: &mut CompletedHandshake, len: usize) -> impl FnMut() + '_ {
    let sizes = done.client.sizes().expect("sizes");
    let mut data = vec![0xA5u8; len];
    let mut signature = vec![0u8; sizes.max_signature as usize];
    move || {
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
        done.client
            .make_signature(Qop::DEFAULT, &mut message, 0)
            .unwrap();
        black_box(done.server.verify_signature(&mut message, 0).unwrap());
    }
}

fn seal_unseal(done: &mut CompletedHandshake, len: usize) -> impl FnMut() + '_ {
    let sizes = done.client.sizes().expect("sizes");
    let mut data = vec![0xA5u8; len];
    let mut trailer = vec![0u8; sizes.security_trailer as usize];
    move || {
        let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
        done.client
            .encrypt_message(Qop::DEFAULT, &mut message, 0)
            .unwrap();
        done.server.decrypt_message(&mut message, 0).unwrap();
        assert_eq!(black_box(message[1].as_slice()[0]), 0xA5, "round trip");
    }
}

/// The four per-message comparisons of one inner package.
fn per_message(
    c: &mut Criterion,
    inner: &str,
    negotiate: &mut CompletedHandshake,
    alone: &mut CompletedHandshake,
    rows: &mut Vec<Row>,
) {
    let mut group = Group::new(
        c,
        &format!("negotiate_per_message_{}", inner.to_lowercase()),
        30,
        1.5,
    );
    let id = inner.to_lowercase();
    for (len, size) in SIZES {
        group.group.throughput(Throughput::Bytes(len as u64));
        rows.push(compare(
            &mut group,
            &format!("{inner} sign+verify {size}"),
            PER_MESSAGE_TARGET,
            (
                &format!("sign_verify_{size}/negotiate"),
                &mut sign_verify(negotiate, len),
            ),
            (
                &format!("sign_verify_{size}/{id}"),
                &mut sign_verify(alone, len),
            ),
            60,
        ));
        rows.push(compare(
            &mut group,
            &format!("{inner} seal+unseal {size}"),
            PER_MESSAGE_TARGET,
            (
                &format!("seal_unseal_{size}/negotiate"),
                &mut seal_unseal(negotiate, len),
            ),
            (
                &format!("seal_unseal_{size}/{id}"),
                &mut seal_unseal(alone, len),
            ),
            60,
        ));
    }
    group.group.finish();
}

/// pyspnego's handshake loop, `bench_pyspnego.py --serve`, in its own process.
struct PySpnego {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    version: String,
}

impl PySpnego {
    /// The longest the bench waits for one answer.
    const TIMEOUT: Duration = Duration::from_secs(120);

    /// Starts the script with the virtualenv's Python, or says why not.
    fn start(dir: &Path) -> Result<Self, String> {
        let venv = spnego_peers::pyspnego_venv();
        let python = venv.join("bin/python");
        if !python.is_file() {
            return Err(format!("no pyspnego virtualenv at {}", venv.display()));
        }
        private(&venv)?;
        let users = spnego_peers::ntlm_user_file(dir, &[("SSPI-PLUG", "alice", "alice-password")]);
        let mut child = Command::new(&python)
            .arg(spnego_peers::script("spnego/bench_pyspnego.py"))
            .args(["--serve", "--domain", "SSPI-PLUG", "--user", "alice"])
            .args(["--password", "alice-password"])
            .env("NTLM_USER_FILE", users)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("{} does not start: {e}", python.display()))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut py = Self {
            child,
            stdin,
            lines,
            version: String::new(),
        };
        let ready = py.answer()?;
        let version = ready
            .strip_prefix("READY ")
            .ok_or_else(|| format!("bench_pyspnego.py: {ready}"))?;
        if version != spnego_peers::PYSPNEGO_VERSION {
            return Err(format!(
                "pyspnego {version} is installed, not {} (rerun scripts/spnego/install.sh)",
                spnego_peers::PYSPNEGO_VERSION
            ));
        }
        py.version = version.to_owned();
        Ok(py)
    }

    fn answer(&mut self) -> Result<String, String> {
        self.lines
            .recv_timeout(Self::TIMEOUT)
            .map_err(|_| "bench_pyspnego.py gave no answer (exited or hung)".to_owned())
    }

    fn ask(&mut self, line: &str) -> String {
        writeln!(self.stdin, "{line}").expect("write to bench_pyspnego.py");
        self.stdin.flush().expect("flush");
        self.answer().unwrap_or_else(|e| panic!("{e}"))
    }

    /// `n` handshakes, as the script timed them.
    fn run(&mut self, n: u64) -> Duration {
        let answer = self.ask(&n.to_string());
        let ns = answer
            .strip_prefix("ELAPSED_NS ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("bench_pyspnego.py: {answer}"));
        Duration::from_nanos(ns)
    }

    /// The script's own median per handshake (ns) and how many it ran.
    fn stats(&mut self) -> (f64, u64) {
        let answer = self.ask("STATS");
        let mut words = answer.split_whitespace();
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some("MEDIAN_NS"), Some(median), Some("COUNT"), Some(count)) => (
                median.parse().expect("median"),
                count.parse().expect("count"),
            ),
            _ => panic!("bench_pyspnego.py: {answer}"),
        }
    }
}

impl Drop for PySpnego {
    fn drop(&mut self) {
        // Our own child, by its handle; end of input ends it anyway.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The virtualenv and every directory above it must not be writable by
/// another user (as the interop tests require): the code run here must
/// not come from such a place.
fn private(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    for d in dir.ancestors() {
        let Ok(m) = std::fs::metadata(d) else {
            continue;
        };
        let sticky_root = m.mode() & 0o1000 != 0 && m.uid() == 0;
        if m.mode() & 0o022 != 0 && !sticky_root {
            return Err(format!(
                "{} is writable by other users (mode {:o}); pyspnego is not run from there",
                d.display(),
                m.mode() & 0o7777
            ));
        }
    }
    Ok(())
}

fn skipped_loudly(reason: &str) {
    let banner = "=".repeat(78);
    let text = format!(
        "{banner}\nSKIPPED: Negotiate(NTLM) vs pyspnego is NOT measured: {reason}.\nInstall pyspnego with scripts/spnego/install.sh and run the bench again.\n{banner}"
    );
    eprintln!("{text}");
    println!("{text}");
}

fn ntlm_handshakes(
    c: &mut Criterion,
    site: &fixture::Site,
    host: &SecurityHost,
    rows: &mut Vec<Row>,
) -> Option<String> {
    let negotiate_client = fixture::client(
        host,
        "Negotiate",
        Some(AuthIdentity::package_list_only("ntlm")),
    );
    let negotiate_server = fixture::server(host, "Negotiate", None);
    let ntlm_client = fixture::client(host, "NTLM", None);
    let ntlm_server = fixture::server(host, "NTLM", None);
    checked(&negotiate_client, &negotiate_server, "NTLM", 4);
    checked(&ntlm_client, &ntlm_server, "NTLM", 3);

    let mut group = Group::new(c, "negotiate_handshake_ntlm", 30, 3.0);
    let mut row = compare(
        &mut group,
        "Negotiate(NTLM) handshake",
        HANDSHAKE_TARGET,
        ("negotiate", &mut || {
            black_box(handshake(&negotiate_client, &negotiate_server));
        }),
        ("ntlm", &mut || {
            black_box(handshake(&ntlm_client, &ntlm_server));
        }),
        40,
    );
    row.note = "4 tokens vs 3".into();
    let negotiate = row.ours;
    rows.push(row);

    let mut python_note = None;
    match PySpnego::start(site.registry.dir.path()) {
        Ok(mut py) => {
            let key = group.custom("pyspnego", |iters| py.run(iters));
            let (own_median, count) = py.stats();
            let pyspnego = group.median(&key);
            rows.push(Row {
                what: "Negotiate(NTLM) handshake vs pyspnego".into(),
                ours: negotiate,
                baseline: pyspnego,
                baseline_name: format!("pyspnego {}", py.version),
                paired: None,
                target: None,
                note: format!(
                    "the script's own median per handshake: {} over {count}",
                    ns(Some(own_median))
                ),
            });
        }
        Err(reason) => {
            skipped_loudly(&reason);
            python_note = Some(reason.clone());
            rows.push(Row {
                what: "Negotiate(NTLM) handshake vs pyspnego".into(),
                ours: negotiate,
                baseline: None,
                baseline_name: "pyspnego".into(),
                paired: None,
                target: None,
                note: format!("SKIPPED: {reason}"),
            });
        }
    }
    group.group.finish();
    python_note
}

fn kerberos_handshakes(
    c: &mut Criterion,
    site: &fixture::Site,
    host: &SecurityHost,
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
) {
    let negotiate_client = fixture::client(host, "Negotiate", None);
    let negotiate_server = fixture::server(host, "Negotiate", None);
    let kerberos_client = fixture::client(host, "Kerberos", None);
    let kerberos_server = fixture::server(host, "Kerberos", None);
    // The first handshakes fill each credential's ticket cache.
    checked(&negotiate_client, &negotiate_server, "Kerberos", 2);
    checked(&kerberos_client, &kerberos_server, "Kerberos", 2);
    assert!(
        site.registry.dir.path().join("replay.rcache").is_file(),
        "the acceptors use the site's own replay cache"
    );
    let mut cached_negotiate = || {
        black_box(handshake(&negotiate_client, &negotiate_server));
    };
    let mut cached_kerberos = || {
        black_box(handshake(&kerberos_client, &kerberos_server));
    };
    let mut new_negotiate = || {
        let client = fixture::client(host, "Negotiate", None);
        black_box(handshake(&client, &negotiate_server));
    };
    let mut new_kerberos = || {
        let client = fixture::client(host, "Kerberos", None);
        black_box(handshake(&client, &kerberos_server));
    };
    notes.push(format!(
        "KDC requests per handshake: cached tickets: Negotiate {}, Kerberos {}; new credentials: Negotiate {}, Kerberos {}",
        trips(site, &mut cached_negotiate),
        trips(site, &mut cached_kerberos),
        trips(site, &mut new_negotiate),
        trips(site, &mut new_kerberos),
    ));

    let mut group = Group::new(c, "negotiate_handshake_kerberos", 30, 3.0);
    let before = kdc_requests(site);
    let mut row = compare(
        &mut group,
        "Negotiate(Kerberos) handshake, cached tickets",
        HANDSHAKE_TARGET,
        ("negotiate_cached_tickets", &mut cached_negotiate),
        ("kerberos_cached_tickets", &mut cached_kerberos),
        40,
    );
    let after = kdc_requests(site);
    assert_eq!(
        before, after,
        "the cached-ticket handshakes never went to the KDC"
    );
    row.note = "AP-REQ + AP-REP, 0 KDC requests (counted)".into();
    rows.push(row);

    group.group.sample_size(15);
    let mut row = compare(
        &mut group,
        "Negotiate(Kerberos) handshake, new credentials",
        HANDSHAKE_TARGET,
        ("negotiate_new_credentials", &mut new_negotiate),
        ("kerberos_new_credentials", &mut new_kerberos),
        16,
    );
    row.note = "AS (+PREAUTH) + TGS + AP each".into();
    rows.push(row);
    group.group.finish();
}

fn ns(value: Option<f64>) -> String {
    match value {
        None => "not run".into(),
        Some(v) if v >= 1e6 => format!("{:.3} ms", v / 1e6),
        Some(v) if v >= 1e3 => format!("{:.2} µs", v / 1e3),
        Some(v) => format!("{v:.1} ns"),
    }
}

fn print_summary(rows: &[Row], notes: &[String]) {
    println!();
    println!(
        "negotiate: medians of criterion's samples; ratio = Negotiate / baseline; paired = median ratio of alternated batches"
    );
    println!("| comparison | Negotiate | baseline | ratio | paired ratio | target | met | note |");
    println!("|---|---|---|---|---|---|---|---|");
    for row in rows {
        let ratio = row.ours.zip(row.baseline).map(|(a, b)| a / b);
        let (ratio_text, target_text, met) = match row.target {
            Some(target) => {
                // The paired ratio is the less noisy one; it decides.
                let decisive = row.paired.or(ratio);
                (
                    ratio.map_or("-".into(), |r| format!("{r:.3}×")),
                    format!("≤ {target:.2}×"),
                    decisive.map_or("-", |r| if r <= target { "yes" } else { "NO" }),
                )
            }
            None => (
                ratio.map_or("-".into(), |r| {
                    format!("{r:.4}× (pyspnego takes {:.1}× as long)", 1.0 / r)
                }),
                "-".into(),
                "-",
            ),
        };
        println!(
            "| {} | {} | {} ({}) | {} | {} | {} | {} | {} |",
            row.what,
            ns(row.ours),
            ns(row.baseline),
            row.baseline_name,
            ratio_text,
            row.paired.map_or("-".into(), |p| format!("{p:.3}×")),
            target_text,
            met,
            row.note
        );
    }
    for note in notes {
        println!("{note}");
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let site = fixture::site(Kdc::Running, KERBEROS_EXTRA);
    let host = site.host();
    let mut rows = Vec::new();
    let mut notes = Vec::new();

    let python_skipped = ntlm_handshakes(&mut c, &site, &host, &mut rows);
    kerberos_handshakes(&mut c, &site, &host, &mut rows, &mut notes);

    let ntlm_only = Some(AuthIdentity::package_list_only("ntlm"));
    let mut negotiate = checked(
        &fixture::client(&host, "Negotiate", ntlm_only),
        &fixture::server(&host, "Negotiate", None),
        "NTLM",
        4,
    );
    let mut alone = checked(
        &fixture::client(&host, "NTLM", None),
        &fixture::server(&host, "NTLM", None),
        "NTLM",
        3,
    );
    per_message(&mut c, "NTLM", &mut negotiate, &mut alone, &mut rows);

    let mut negotiate = checked(
        &fixture::client(&host, "Negotiate", None),
        &fixture::server(&host, "Negotiate", None),
        "Kerberos",
        2,
    );
    let mut alone = checked(
        &fixture::client(&host, "Kerberos", None),
        &fixture::server(&host, "Kerberos", None),
        "Kerberos",
        2,
    );
    per_message(&mut c, "Kerberos", &mut negotiate, &mut alone, &mut rows);

    c.final_summary();
    print_summary(&rows, &notes);
    if let Some(reason) = python_skipped {
        skipped_loudly(&reason);
    }
}
