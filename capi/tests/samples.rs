//! The C sample client and server (capi/samples, compiled here with gcc,
//! linked with -lsspi) authenticate over TCP through the table
//! InitSecurityInterfaceW returns, then seal or sign messages: against each
//! other, against `sspi server`, and with `sspi client` against the C
//! server, for Test, NTLM, Kerberos (the embedded KDC) and Negotiate; and
//! both give up on a silent peer at their handshake time-out.

mod common;
#[path = "../../tests/tests/common/negotiate_fixture.rs"]
mod site;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct Samples {
    _dir: tempfile::TempDir,
    client: PathBuf,
    server: PathBuf,
}

/// The compiled samples, or `None` (gcc missing; a failure under CI).
fn samples(test: &str) -> Option<&'static Samples> {
    static SAMPLES: OnceLock<Option<Samples>> = OnceLock::new();
    let test = test.to_string();
    SAMPLES
        .get_or_init(move || {
            let gcc = common::require("gcc", &test)?;
            let dir = tempfile::tempdir().unwrap();
            let client = dir.path().join("client");
            let server = dir.path().join("server");
            common::compile(&gcc, &["capi/samples/client.c"], &client);
            common::compile(&gcc, &["capi/samples/server.c"], &server);
            Some(Samples {
                _dir: dir,
                client,
                server,
            })
        })
        .as_ref()
}

/// The four packages with the embedded KDC running: Test (4 legs), NTLM,
/// Kerberos and Negotiate, users alice / alice-password.
fn site() -> site::Site {
    let site = site::site_with(
        site::Kdc::Running,
        "sspi_test.dll, sspi_kerberos.dll, sspi_ntlm.dll, sspi_negotiate.dll",
        "",
    );
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&site.registry.path)
        .unwrap();
    writeln!(file, "\n{}", sspi_tests::test_package_key(4, false)).unwrap();
    site
}

/// Who the server says each package's client is.
const PACKAGES: [(&str, &str); 4] = [
    ("Test", r"SSPI-PLUG\alice"),
    ("NTLM", r"SSPI-PLUG\alice"),
    ("Kerberos", "alice@SSPI-PLUG.TEST"),
    ("Negotiate", "alice@SSPI-PLUG.TEST"),
];

struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs `command` to completion (killed after 20 s).
fn run(mut command: Command) -> Output {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).ok();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).ok();
        s
    });
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > Duration::from_secs(20) {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        code,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed: started.elapsed(),
    }
}

/// A server child and the address from its first line.
struct Server {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
    addr: String,
}

impl Server {
    fn start(mut command: Command) -> Server {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        stdout.read_line(&mut banner).unwrap();
        let addr = banner
            .split_whitespace()
            .find(|w| w.starts_with("127.0.0.1:"))
            .map(|w| w.trim_end_matches(';').to_string())
            .unwrap_or_else(|| panic!("no address in {banner:?}"));
        Server {
            child,
            stdout,
            addr,
        }
    }

    /// The C server, serving `connections` connections.
    fn c(samples: &Samples, registry: &Path, connections: usize, timeout_s: u32) -> Server {
        let mut command = Command::new(&samples.server);
        command
            .args(["-l", "127.0.0.1:0", "-n", &connections.to_string()])
            .args(["-T", &timeout_s.to_string()])
            .env("SSPI_REGISTRY", registry);
        Server::start(command)
    }

    /// The rest of a C server's output once it has served its connections.
    fn finish(mut self) -> String {
        let mut rest = String::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the C server did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
        self.stdout.read_to_string(&mut rest).unwrap();
        rest
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn c_client(
    samples: &Samples,
    registry: &Path,
    addr: &str,
    package: &str,
    extra: &[&str],
) -> Output {
    let mut command = Command::new(&samples.client);
    command
        .args(["-c", addr, "-p", package, "-T", "10"])
        .args(extra)
        .args(["hello", "second message"])
        .env("SSPI_REGISTRY", registry);
    run(command)
}

fn assert_authenticated(out: &Output, package: &str, name: &str) {
    assert_eq!(
        out.code,
        Some(0),
        "{package}: stdout:\n{}\nstderr:\n{}",
        out.stdout,
        out.stderr
    );
    assert!(
        out.stdout
            .contains(&format!("the server accepted this client as {name}")),
        "{package}: {}",
        out.stdout
    );
    assert!(
        out.stdout.contains("reply: hello\nreply: second message"),
        "{package}: {}",
        out.stdout
    );
}

#[test]
fn c_client_and_c_server_for_every_package_sealed_and_signed() {
    let Some(samples) = samples("c_client_and_c_server_for_every_package_sealed_and_signed") else {
        return;
    };
    let site = site();
    let registry = &site.registry.path;
    let server = Server::c(samples, registry, 2 * PACKAGES.len(), 10);
    for (package, name) in PACKAGES {
        let sealed = c_client(samples, registry, &server.addr, package, &[]);
        assert_authenticated(&sealed, package, name);
        assert!(
            sealed.stdout.contains("messages are sealed"),
            "{}",
            sealed.stdout
        );
        // Signed, with ISC_REQ_ALLOCATE_MEMORY.
        let signed = c_client(samples, registry, &server.addr, package, &["-s", "-a"]);
        assert_authenticated(&signed, package, name);
        assert!(
            signed.stdout.contains("messages are signed"),
            "{}",
            signed.stdout
        );
    }
    let log = server.finish();
    for (package, name) in PACKAGES {
        assert!(
            log.contains(&format!("accepted {name} with {package}, ")),
            "{log}"
        );
    }
    assert_eq!(
        log.matches("session closed, 2 message(s)").count(),
        8,
        "{log}"
    );
}

#[test]
fn c_client_to_sspi_server_for_every_package() {
    let Some(samples) = samples("c_client_to_sspi_server_for_every_package") else {
        return;
    };
    let site = site();
    let registry = &site.registry.path;
    let mut command = Command::new(common::sspi());
    command
        .arg("--registry")
        .arg(registry)
        .args(["server", "--listen", "127.0.0.1:0"])
        .env_remove("RUST_LOG");
    let server = Server::start(command);
    for (package, name) in PACKAGES {
        let out = c_client(samples, registry, &server.addr, package, &[]);
        assert_authenticated(&out, package, name);
        // SECPKG_ATTR_NEGOTIATION_INFO: only Negotiate answers, naming its choice.
        assert_eq!(
            out.stdout.contains("negotiated: Kerberos (state 0)"),
            package == "Negotiate",
            "{}",
            out.stdout
        );
    }
    let out = c_client(samples, registry, &server.addr, "Test", &["-s"]);
    assert_authenticated(&out, "Test", r"SSPI-PLUG\alice");
    // Explicit credentials (SEC_WINNT_AUTH_IDENTITY_EXW): a wrong password is refused.
    let mut command = Command::new(&samples.client);
    command
        .args([
            "-c",
            &server.addr,
            "-p",
            "NTLM",
            "-u",
            "alice",
            "-d",
            "SSPI-PLUG",
            "hello",
        ])
        .env("SSPI_REGISTRY", registry)
        .env("SSPI_PASSWORD", "not-her-password");
    let refused = run(command);
    assert_eq!(
        refused.code,
        Some(2),
        "{}{}",
        refused.stdout,
        refused.stderr
    );
    assert!(
        refused.stderr.contains("refused by the server: 0x8009030c"),
        "{}",
        refused.stderr
    );
}

#[test]
fn sspi_client_to_c_server_for_every_package() {
    let Some(samples) = samples("sspi_client_to_c_server_for_every_package") else {
        return;
    };
    let site = site();
    let registry = &site.registry.path;
    let server = Server::c(samples, registry, PACKAGES.len() + 1, 10);
    for (i, (package, name)) in PACKAGES.iter().enumerate() {
        let mut command = Command::new(common::sspi());
        command
            .arg("--registry")
            .arg(registry)
            .args(["client", "--package", package, "--connect", &server.addr])
            .env_remove("RUST_LOG");
        if i == 1 {
            command.arg("--sign");
        }
        command.args(["hello", "second message"]);
        let out = run(command);
        assert_authenticated(&out, package, name);
    }
    // Negotiate told to leave Kerberos out (PackageList through the client's
    // SEC_WINNT_AUTH_IDENTITY_EX): NTLM.
    let mut command = Command::new(common::sspi());
    command
        .arg("--registry")
        .arg(registry)
        .args([
            "client",
            "--package",
            "Negotiate",
            "--package-list",
            "!kerberos",
        ])
        .args(["--connect", &server.addr, "hello", "second message"])
        .env_remove("RUST_LOG");
    let out = run(command);
    assert_authenticated(&out, "Negotiate", r"SSPI-PLUG\alice");
    let log = server.finish();
    assert!(
        log.contains(r"accepted SSPI-PLUG\alice with NTLM, "),
        "{log}"
    );
    assert!(log.contains("messages signed"), "{log}");
}

#[test]
fn the_c_client_gives_negotiate_its_package_list() {
    let Some(samples) = samples("the_c_client_gives_negotiate_its_package_list") else {
        return;
    };
    let site = site();
    let registry = &site.registry.path;
    let server = Server::c(samples, registry, 1, 10);
    let out = c_client(
        samples,
        registry,
        &server.addr,
        "Negotiate",
        &["-l", "!kerberos"],
    );
    assert_authenticated(&out, "Negotiate", r"SSPI-PLUG\alice");
    assert!(
        out.stdout.contains("negotiated: NTLM (state 0)"),
        "{}",
        out.stdout
    );
    server.finish();
}

#[test]
fn both_samples_give_up_on_a_silent_peer_at_the_handshake_time_out() {
    let Some(samples) = samples("both_samples_give_up_on_a_silent_peer_at_the_handshake_time_out")
    else {
        return;
    };
    let site = site();
    let registry = &site.registry.path;
    // A server that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let holder = std::thread::spawn(move || {
        let (stream, _) = silent.accept().unwrap();
        std::thread::sleep(Duration::from_secs(4));
        drop(stream);
    });
    let mut command = Command::new(&samples.client);
    command
        .args(["-c", &addr, "-p", "Test", "-T", "1", "hello"])
        .env("SSPI_REGISTRY", registry);
    let out = run(command);
    assert_eq!(out.code, Some(3), "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("timed out"), "{}", out.stderr);
    assert!(out.elapsed < Duration::from_secs(3), "{:?}", out.elapsed);
    holder.join().unwrap();

    // A client that connects and says nothing: told, then dropped.
    let server = Server::c(samples, registry, 1, 1);
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(&server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut frame = Vec::new();
    stream.read_to_end(&mut frame).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(frame[4], 3, "an Error frame: {frame:?}");
    assert_eq!(
        &frame[5..9],
        &0x8009_0317u32.to_be_bytes(),
        "SEC_E_CONTEXT_EXPIRED"
    );
    let log = server.finish();
    assert!(log.contains("dropped: no hello (timed out)"), "{log}");
}

#[test]
fn a_registry_that_cannot_be_read_is_said_once_and_every_call_fails() {
    let Some(samples) = samples("a_registry_that_cannot_be_read_is_said_once_and_every_call_fails")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.reg");
    let mut command = Command::new(&samples.client);
    command
        .args(["-c", "127.0.0.1:9", "-p", "Test", "hello"])
        .env("SSPI_REGISTRY", &missing);
    let out = run(command);
    assert_eq!(out.code, Some(2), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("0x80090304"),
        "SEC_E_INTERNAL_ERROR: {}",
        out.stderr
    );
    let said: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("libsspi: "))
        .collect();
    assert_eq!(said.len(), 1, "{}", out.stderr);
    assert!(
        said[0].contains("missing.reg"),
        "the line names the file: {}",
        said[0]
    );
}
