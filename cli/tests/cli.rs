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
    assert!(
        stdout.contains("demo: 1 package(s) run, 0 failed"),
        "{stdout}"
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
    assert!(text(&out.stdout).starts_with("ok: 1 file(s), 1 package(s) available: Test"));

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
