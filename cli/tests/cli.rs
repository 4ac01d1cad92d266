//! The `sspi` command on the shipped registry and on bad registry files.

use std::path::PathBuf;
use std::process::{Command, Output};

fn sspi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sspi"))
        .args(args)
        .env_remove("SSPI_REGISTRY")
        .env_remove("RUST_LOG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("sspi runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `sspi server` on a free loopback port with `registry`: the child, its
/// stdout after the banner, the banner line and the address it listens on.
fn start_server(
    registry: &str,
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStdout>,
    String,
    String,
) {
    use std::io::BufRead;
    use std::process::Stdio;
    let mut server = Command::new(env!("CARGO_BIN_EXE_sspi"))
        .args(["--registry", registry, "server", "--listen", "127.0.0.1:0"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(server.stdout.take().unwrap());
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    let addr = banner
        .split_whitespace()
        .find(|w| w.starts_with("127.0.0.1:"))
        .map(|w| w.trim_end_matches(';').to_string())
        .unwrap_or_else(|| panic!("no address in {banner:?}"));
    (server, stdout, banner, addr)
}

fn shipped() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/sspi.reg"))
}

#[test]
fn demo_runs_every_package_of_the_shipped_registry() {
    // Run from the crate directory: the shipped registry is found without flags.
    let out = sspi(&["demo"]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("== Test (plugin "), "{stdout}");
    assert!(
        stdout.contains("leg 4  server -> client"),
        "the shipped registry runs 4 legs:\n{stdout}"
    );
    assert!(
        stdout.contains(r"server:  authenticated SSPI-PLUG\alice"),
        "{stdout}"
    );
    assert!(stdout.contains("verified by the server"), "{stdout}");
    assert!(stdout.contains("opened by the client"), "{stdout}");
    assert!(stdout.contains("== NTLM (plugin "), "{stdout}");
    assert!(stdout.contains("== Kerberos (plugin "), "{stdout}");
    assert!(
        stdout.contains("authenticated alice@SSPI-PLUG.TEST"),
        "{stdout}"
    );
    // Negotiate, composed of the two: Kerberos while a KDC answers.
    let negotiate = stdout
        .split("\n== ")
        .find(|section| section.starts_with("Negotiate (plugin "))
        .unwrap_or_else(|| panic!("no Negotiate section:\n{stdout}"));
    assert!(
        negotiate.contains("negotiated: Kerberos (SECPKG_NEGOTIATION_COMPLETE)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("demo: 4 package(s) run, 0 failed"),
        "{stdout}"
    );
}

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An overlay of the shipped registry that moves the demo realm's KDC (the
/// one Kerberos asks and the one `SspiKdc` serves) to `port`, so that no
/// other KDC can answer instead.
fn kdc_port_overlay(dir: &std::path::Path, port: u16) -> PathBuf {
    let overlay = dir.join("port.reg");
    std::fs::write(
        &overlay,
        format!(
            "Windows Registry Editor Version 5.00\n\n\
             [HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Kerberos\\Domains\\SSPI-PLUG.TEST]\n\
             \"KdcNames\"=\"127.0.0.1:{port}\"\n\n\
             [HKEY_LOCAL_MACHINE\\Comm\\SspiKdc]\n\
             \"Listen\"=\"127.0.0.1:{port}\"\n"
        ),
    )
    .unwrap();
    overlay
}

/// `sspi --registry shipped,overlay ARGS...`
fn sspi_overlay(overlay: &std::path::Path, args: &[&str]) -> Output {
    let registry = format!("{},{}", shipped().display(), overlay.display());
    let mut all = vec!["--registry", registry.as_str()];
    all.extend(args);
    sspi(&all)
}

/// `sspi demo` runs Negotiate with the embedded KDC (Kerberos), then stops
/// that KDC and runs Negotiate again: it falls back to NTLM and says why.
#[test]
fn demo_shows_negotiate_falling_back_when_its_kdc_stops() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let overlay = kdc_port_overlay(dir.path(), port);
    let out = sspi_overlay(&overlay, &["demo"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let stopped = format!("the embedded KDC (127.0.0.1:{port}) is stopped: Negotiate again");
    let at = stdout
        .find(&stopped)
        .unwrap_or_else(|| panic!("no {stopped:?} in:\n{stdout}"));
    let (before, after) = stdout.split_at(at);
    assert!(
        before.contains("negotiated: Kerberos (SECPKG_NEGOTIATION_COMPLETE)")
            && !before.contains("fallback:"),
        "{stdout}"
    );
    assert!(
        after.contains("== Negotiate (plugin ")
            && after.contains("negotiated: NTLM (SECPKG_NEGOTIATION_COMPLETE)"),
        "{stdout}"
    );
    assert!(
        after.contains(
            "fallback:   fell back to NTLM after Kerberos: SEC_E_NO_AUTHENTICATING_AUTHORITY"
        ) && after.contains(&format!("127.0.0.1:{port}")),
        "the reason names the status and the KDC:\n{stdout}"
    );
    assert!(after.contains(r"authenticated SSPI-PLUG\alice"), "{stdout}");
    assert!(
        stdout.contains("demo: 4 package(s) run, 0 failed"),
        "{stdout}"
    );
}

/// `sspi handshake --package Negotiate`: Kerberos with the registry's KDC;
/// with `--no-kdc` (nothing answers at the realm's KDC address) NTLM and the
/// reason; `--package-list` narrows the client's packages,
/// `--server-package-list` the server's.
#[test]
fn handshake_with_negotiate_shows_the_negotiated_package_and_the_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let overlay = kdc_port_overlay(dir.path(), port);
    let handshake = |extra: &[&str]| {
        let mut args = vec!["handshake", "--package", "Negotiate"];
        args.extend(extra);
        let out = sspi_overlay(&overlay, &args);
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };

    let (code, stdout, stderr) = handshake(&[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("negotiated: Kerberos (SECPKG_NEGOTIATION_COMPLETE)")
            && !stdout.contains("fallback:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("authenticated alice@SSPI-PLUG.TEST") && stdout.contains("seal:"),
        "{stdout}"
    );

    let (code, stdout, stderr) = handshake(&["--no-kdc"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("negotiated: NTLM (SECPKG_NEGOTIATION_COMPLETE)"),
        "{stdout}"
    );
    let fallback = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("fallback:"))
        .unwrap_or_else(|| panic!("no fallback line:\n{stdout}"));
    assert!(
        fallback.contains("fell back to NTLM after Kerberos: SEC_E_NO_AUTHENTICATING_AUTHORITY")
            && fallback.contains(&format!("127.0.0.1:{port}")),
        "{fallback}"
    );
    assert!(
        stdout.contains(r"authenticated SSPI-PLUG\alice"),
        "{stdout}"
    );

    // '!ntlm': Kerberos only, so no fallback: the handshake fails.
    let (code, stdout, _) = handshake(&["--no-kdc", "--package-list", "!ntlm"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("handshake failed: SEC_E_NO_AUTHENTICATING_AUTHORITY"),
        "{stdout}"
    );
    // 'ntlm' with the KDC running: NTLM, and nothing to fall back from.
    let (code, stdout, stderr) = handshake(&["--package-list", "ntlm"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("negotiated: NTLM (SECPKG_NEGOTIATION_COMPLETE)")
            && !stdout.contains("fallback:"),
        "{stdout}"
    );
    // A name Negotiate is not built from.
    let (code, stdout, stderr) = handshake(&["--package-list", "pku2u"]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stderr.contains("SEC_E_SECPKG_NOT_FOUND") && stderr.contains("pku2u"),
        "{stderr}"
    );
    // The server takes NTLM only: it counter-proposes NTLM to the client's Kerberos.
    let (code, stdout, stderr) = handshake(&["--server-package-list", "ntlm"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("negotiated: NTLM (SECPKG_NEGOTIATION_COMPLETE)")
            && stdout.contains(r"authenticated SSPI-PLUG\alice"),
        "{stdout}"
    );
}

/// `--package-list` is documented in `--help` of `handshake` and `client`.
#[test]
fn the_package_list_option_is_documented() {
    for command in ["handshake", "client"] {
        let out = sspi(&[command, "--help"]);
        let help = text(&out.stdout);
        assert!(out.status.success(), "{help}");
        assert!(
            help.contains("--package-list <LIST>") && help.contains("PackageList"),
            "{command}: {help}"
        );
    }
    let help = text(&sspi(&["handshake", "--help"]).stdout);
    assert!(
        help.contains("--server-package-list <LIST>") && help.contains("--no-kdc"),
        "{help}"
    );
}

#[test]
fn packages_lists_source_and_state() {
    let out = sspi(&["packages"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let row = stdout
        .lines()
        .find(|l| l.starts_with("Test "))
        .expect("a Test row");
    assert!(
        row.contains("1024") && row.contains("plugin ") && row.ends_with("available"),
        "{row}"
    );
}

#[test]
fn handshake_with_explicit_credentials() {
    let ok = Command::new(env!("CARGO_BIN_EXE_sspi"))
        .args([
            "--registry",
            shipped().to_str().unwrap(),
            "handshake",
            "--package",
            "Test",
            "--user",
            "bob",
            "--domain",
            "SSPI-PLUG",
        ])
        .env("SSPI_PASSWORD", "bob-demo-password")
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", text(&ok.stdout));
    assert!(text(&ok.stdout).contains(r"authenticated SSPI-PLUG\bob"));

    let denied = Command::new(env!("CARGO_BIN_EXE_sspi"))
        .args([
            "--registry",
            shipped().to_str().unwrap(),
            "handshake",
            "--package",
            "Test",
            "--user",
            "bob",
            "--domain",
            "SSPI-PLUG",
        ])
        .env("SSPI_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert!(!denied.status.success());
    assert!(
        text(&denied.stdout).contains("SEC_E_LOGON_DENIED"),
        "{}",
        text(&denied.stdout)
    );
}

#[test]
fn registry_check_accepts_the_shipped_file_and_names_errors() {
    let out = sspi(&["registry", "check", shipped().to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .starts_with("ok: 1 file(s), 4 package(s) available: Test, NTLM, Kerberos, Negotiate")
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.reg");
    std::fs::write(
        &bad,
        "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\"Providers\"=dword:12g4\n",
    )
    .unwrap();
    let out = sspi(&["registry", "check", bad.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("bad.reg:4:"),
        "names file and line: {stderr}"
    );
    assert!(stderr.contains("Providers"), "names the value: {stderr}");

    let missing_lib = dir.path().join("missing.reg");
    std::fs::write(
        &missing_lib,
        "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\"Providers\"=\"sspi_absent.dll\"\n",
    )
    .unwrap();
    let out = sspi(&["registry", "check", missing_lib.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("missing.reg:4:") && stderr.contains("sspi_absent"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_package_fails_with_its_name() {
    let out = sspi(&["handshake", "--package", "Nope"]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("SEC_E_SECPKG_NOT_FOUND") && stderr.contains("Nope"),
        "{stderr}"
    );
}

/// `sspi server` and `sspi client` as processes: exit codes, and a clean stop on SIGTERM.
#[cfg(unix)]
#[test]
fn server_and_client_processes() {
    use std::process::Stdio;

    let (mut server, mut stdout, banner, addr) = start_server(shipped().to_str().unwrap());
    assert!(
        banner.contains("packages: Test, NTLM, Kerberos, Negotiate"),
        "{banner}"
    );

    let client = |args: &[&str], password: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sspi"));
        command.args([
            "--registry",
            shipped().to_str().unwrap(),
            "client",
            "--connect",
            &addr,
            "--package",
            "Test",
        ]);
        command.args(args).stdin(Stdio::null());
        match password {
            Some(p) => command.env("SSPI_PASSWORD", p),
            None => command.env_remove("SSPI_PASSWORD"),
        };
        command.output().unwrap()
    };
    let ok = client(&["hello", "world"], None);
    let out = text(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{out}{}", text(&ok.stderr));
    assert!(
        out.contains(r"the server accepted this client as SSPI-PLUG\alice"),
        "{out}"
    );
    assert!(
        out.contains("ISC_RET MUTUAL_AUTH") && out.contains("security trailer 28"),
        "{out}"
    );
    assert!(out.contains("reply: hello\nreply: world\n"), "{out}");

    let ntlm = Command::new(env!("CARGO_BIN_EXE_sspi"))
        .args([
            "--registry",
            shipped().to_str().unwrap(),
            "client",
            "--connect",
            &addr,
        ])
        .args([
            "--package",
            "NTLM",
            "--user",
            "carol",
            "--domain",
            "SSPI-PLUG",
            "over NTLM",
        ])
        .env("SSPI_PASSWORD", "carol-demo-password")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let out = text(&ntlm.stdout);
    assert_eq!(ntlm.status.code(), Some(0), "{out}{}", text(&ntlm.stderr));
    assert!(
        out.contains(r"accepted this client as SSPI-PLUG\carol")
            && out.contains("reply: over NTLM"),
        "{out}"
    );

    // Refused by the server's NTLM: the client prints the status once.
    let refused = Command::new(env!("CARGO_BIN_EXE_sspi"))
        .args(["--registry", shipped().to_str().unwrap(), "client"])
        .args(["--connect", &addr, "--package", "NTLM"])
        .args(["--user", "carol", "--domain", "SSPI-PLUG", "hi"])
        .env("SSPI_PASSWORD", "not-carols")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert_eq!(err.matches("SEC_E_LOGON_DENIED").count(), 1, "{err}");
    assert!(!err.contains("logon denied"), "the status once: {err}");

    let signed = client(&["--sign", "in clear"], None);
    assert_eq!(signed.status.code(), Some(0));
    assert!(text(&signed.stdout).contains("messages are signed"));

    let denied = client(
        &["--user", "bob", "--domain", "SSPI-PLUG", "hi"],
        Some("not-bobs"),
    );
    assert_eq!(
        denied.status.code(),
        Some(2),
        "authentication failure: {}",
        text(&denied.stderr)
    );
    assert!(text(&denied.stderr).contains("SEC_E_LOGON_DENIED"));

    let nobody = Command::new(env!("CARGO_BIN_EXE_sspi"))
        .args([
            "--registry",
            shipped().to_str().unwrap(),
            "client",
            "--connect",
            "127.0.0.1:1",
            "--package",
            "Test",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(nobody.status.code(), Some(3), "connection failure");

    // SIGTERM: stops accepting and exits 0.
    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.wait().unwrap();
    assert_eq!(exit.code(), Some(0));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert!(rest.contains("sspi server stopped"), "{rest}");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut server.stderr.take().unwrap(), &mut log).unwrap();
    assert!(
        log.contains("session closed") && log.contains(r#"client="SSPI-PLUG\\alice""#),
        "{log}"
    );
    assert!(
        !log.contains("alice-demo-password") && !log.contains("not-bobs"),
        "no secret in the log"
    );
}

/// `sspi handshake --package Kerberos` works from a fresh clone as `sspi demo`
/// does: it starts the registry's KDC in process when none listens. The
/// overlay moves the realm to a free port so no other KDC can answer instead.
#[test]
fn handshake_with_kerberos_starts_the_registry_kdc() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let overlay = dir.path().join("port.reg");
    std::fs::write(
        &overlay,
        format!(
            "Windows Registry Editor Version 5.00\n\n\
             [HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Kerberos\\Domains\\SSPI-PLUG.TEST]\n\
             \"KdcNames\"=\"127.0.0.1:{port}\"\n\n\
             [HKEY_LOCAL_MACHINE\\Comm\\SspiKdc]\n\
             \"Listen\"=\"127.0.0.1:{port}\"\n"
        ),
    )
    .unwrap();
    let out = sspi(&[
        "--registry",
        shipped().to_str().unwrap(),
        "--registry",
        overlay.to_str().unwrap(),
        "handshake",
        "--package",
        "Kerberos",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("server:  authenticated alice@SSPI-PLUG.TEST"),
        "{stdout}"
    );
    assert!(stdout.contains("seal:"), "{stdout}");
}

/// A per-message call that panics inside the server's package is logged by
/// the server as a panic (an error), not as an ordinary failed session, and
/// the server goes on serving.
#[test]
fn the_server_logs_a_package_panic_as_one() {
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("panicky.reg");
    std::fs::write(
        &registry,
        "Windows Registry Editor Version 5.00\n\n\
         [HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\
         \"Providers\"=\"sspi_fixture_panicking.dll\"\n\n\
         [HKEY_LOCAL_MACHINE\\Comm\\SspiServer]\n\
         \"InboundPackages\"=multi_sz:\"Panicky\"\n",
    )
    .unwrap();
    let registry = registry.to_str().unwrap();
    let (mut server, _stdout, _banner, addr) = start_server(registry);
    let client = |message: &str| {
        Command::new(env!("CARGO_BIN_EXE_sspi"))
            .args(["--registry", registry, "client", "--connect", &addr])
            .args(["--package", "Panicky", message])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let calm = client("calm");
    assert_eq!(calm.status.code(), Some(0), "{}", text(&calm.stderr));
    let boom = client("panic");
    assert_ne!(boom.status.code(), Some(0));
    let after = client("calm again");
    assert_eq!(after.status.code(), Some(0), "the server keeps serving");

    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    server.wait().unwrap();
    let mut log = String::new();
    std::io::Read::read_to_string(&mut server.stderr.take().unwrap(), &mut log).unwrap();
    let panics: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("the security package panicked"))
        .collect();
    assert_eq!(panics.len(), 1, "{log}");
    assert!(panics[0].contains("ERROR"), "{}", panics[0]);
    assert!(
        panics[0].contains("the package panicked in DecryptMessage"),
        "{}",
        panics[0]
    );
}

/// `sspi handshake` on a package that only signs (the Example package) does
/// not count the missing sealing as a failure.
#[test]
fn handshake_with_a_sign_only_package_skips_sealing() {
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("example.reg");
    let key = vec!["5a"; 32].join(",");
    std::fs::write(
        &registry,
        format!(
            "Windows Registry Editor Version 5.00\n\n\
             [HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\
             \"Providers\"=\"sspi_example.dll\"\n\n\
             [HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Example]\n\
             \"Key\"=hex:{key}\n\
             \"DefaultUser\"=\"alice\"\n"
        ),
    )
    .unwrap();
    let out = sspi(&[
        "--registry",
        registry.to_str().unwrap(),
        "handshake",
        "--package",
        "Example",
    ]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("verified by the server"), "{stdout}");
    assert!(stdout.contains("seal:    not offered"), "{stdout}");
}

/// `sspi server` offers Negotiate; `sspi client --package Negotiate` prints
/// what it negotiated: NTLM and why while no KDC answers, Kerberos once
/// `sspi kdc` serves the realm.
#[cfg(unix)]
#[test]
fn client_with_negotiate_prints_the_negotiated_package() {
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let overlay = kdc_port_overlay(dir.path(), port);
    let registry = format!("{},{}", shipped().display(), overlay.display());
    let (mut server, _stdout, banner, addr) = start_server(&registry);
    assert!(banner.contains(", Negotiate;"), "{banner}");
    let client = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_sspi"))
            .args(["--registry", &registry, "client", "--connect", &addr])
            .args(["--package", "Negotiate"])
            .args(extra)
            .arg("over Negotiate")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (out.status.code(), text(&out.stdout), text(&out.stderr))
    };

    // No KDC serves the realm: NTLM, and why.
    let (code, stdout, stderr) = client(&[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("connected to {addr} with Negotiate\n"))
            && stdout.contains("\nnegotiated: NTLM (SECPKG_NEGOTIATION_COMPLETE)\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "fallback:   fell back to NTLM after Kerberos: SEC_E_NO_AUTHENTICATING_AUTHORITY"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(r"accepted this client as SSPI-PLUG\alice")
            && stdout.contains("reply: over Negotiate"),
        "{stdout}"
    );
    // '!kerberos': NTLM straight away, nothing fell back.
    let (code, stdout, stderr) = client(&["--package-list", "!kerberos"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("negotiated: NTLM (SECPKG_NEGOTIATION_COMPLETE)")
            && !stdout.contains("fallback:"),
        "{stdout}"
    );

    // `sspi kdc` serves the realm: Kerberos.
    let mut kdc = Command::new(env!("CARGO_BIN_EXE_sspi"))
        .args(["--registry", &registry, "kdc"])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "sspi kdc did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (code, stdout, stderr) = client(&[]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("\nnegotiated: Kerberos (SECPKG_NEGOTIATION_COMPLETE)\n")
            && !stdout.contains("fallback:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("accepted this client as alice@SSPI-PLUG.TEST")
            && stdout.contains("reply: over Negotiate"),
        "{stdout}"
    );

    for child in [&mut kdc, &mut server] {
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert_eq!(child.wait().unwrap().code(), Some(0));
    }
}
