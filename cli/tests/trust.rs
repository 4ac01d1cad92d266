//! What `sspi` trusts: never the working directory, never a library it has
//! not checked, and no library code inside `sspi registry check`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The directory cargo built the plugins in (`target/debug`).
fn plugin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sspi"))
        .parent()
        .expect("the binary's directory")
        .to_owned()
}

/// `sspi ARGS` in `dir`, with none of the environment variables that steer
/// what it trusts inherited from the developer's shell; `marker` is where the
/// constructor-marker fixture records that it ran.
fn sspi(dir: &Path, args: &[&str], marker: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sspi"));
    command
        .args(args)
        .env_remove("SSPI_REGISTRY")
        .env_remove("SSPI_PLUGIN_PATH")
        .env_remove("SSPI_FILE_CHECKS")
        .env_remove("RUST_LOG")
        .env(MARKER_ENV, marker)
        .current_dir(dir);
    command
}

fn sspi_in(dir: &Path, args: &[&str]) -> Output {
    sspi(dir, args, &dir.join("constructor-ran"))
        .output()
        .expect("sspi runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A registry whose only provider is `providers`.
fn registry(providers: &str, extra: &str) -> String {
    format!(
        "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\"Providers\"=\"{providers}\"\n{extra}"
    )
}

const MARKER_ENV: &str = "SSPI_FIXTURE_CONSTRUCTOR_MARKER";

/// A copy of the constructor-marker fixture in `dir`, and the marker file it writes.
fn hostile_library(dir: &Path) -> (PathBuf, PathBuf) {
    let library = dir.join("libhostile.so");
    std::fs::copy(
        plugin_dir().join("libsspi_fixture_constructor_marker.so"),
        &library,
    )
    .expect("the fixture is built (cargo build --workspace)");
    (library, dir.join("constructor-ran"))
}

#[test]
fn the_default_registry_is_the_programs_not_the_working_directorys() {
    let attacker = tempfile::tempdir().unwrap();
    let (library, marker) = hostile_library(attacker.path());
    std::fs::create_dir(attacker.path().join("config")).unwrap();
    std::fs::write(
        attacker.path().join("config/sspi.reg"),
        registry(&library.display().to_string(), ""),
    )
    .unwrap();
    let out = sspi(attacker.path(), &["packages"], &marker)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        !marker.exists(),
        "the attacker's library ran: sspi read the registry in the working directory"
    );
    assert!(!stdout.contains("hostile"), "{stdout}");
    for package in ["Test", "NTLM", "Kerberos"] {
        assert!(
            stdout.contains(package),
            "the shipped registry is used: {stdout}"
        );
    }
}

#[test]
fn an_empty_plugin_path_element_does_not_search_the_working_directory() {
    let attacker = tempfile::tempdir().unwrap();
    // A file in the working directory with the Test plugin's name.
    let (library, marker) = hostile_library(attacker.path());
    std::fs::rename(&library, attacker.path().join("libsspi_test.so")).unwrap();
    let out = sspi(attacker.path(), &["packages"], &marker)
        .env("SSPI_PLUGIN_PATH", "/nonexistent-sspi-plugins:")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        !marker.exists(),
        "the working directory's libsspi_test.so ran"
    );
    let real = plugin_dir().join("libsspi_test.so").canonicalize().unwrap();
    assert!(
        stdout.contains(&format!("plugin {}", real.display())),
        "the real plugin is loaded: {stdout}"
    );
}

#[test]
fn a_library_others_may_write_is_refused_before_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (library, marker) = hostile_library(dir.path());
    std::fs::set_permissions(&library, std::fs::Permissions::from_mode(0o666)).unwrap();
    let reg = dir.path().join("sspi.reg");
    std::fs::write(&reg, registry("libhostile.so", "\"LibraryPath\"=\".\"\n")).unwrap();
    let out = sspi(
        dir.path(),
        &["--registry", reg.to_str().unwrap(), "packages"],
        &marker,
    )
    .output()
    .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        !marker.exists(),
        "the library's constructor ran before the check"
    );
    let canonical = library.canonicalize().unwrap();
    assert!(
        stdout.contains(&format!(
            "reason: provider library {}: is writable by group and others (mode 0666)",
            canonical.display()
        )),
        "{stdout}"
    );

    // The development switch turns the refusal into a warning: then it loads (and runs).
    let out = sspi(
        dir.path(),
        &["--registry", reg.to_str().unwrap(), "packages"],
        &marker,
    )
    .env("SSPI_FILE_CHECKS", "warn")
    .output()
    .unwrap();
    assert!(marker.exists(), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("allowed by SSPI_FILE_CHECKS"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_library_whose_digest_differs_from_its_pin_is_refused_before_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (_library, marker) = hostile_library(dir.path());
    let wrong = "00".repeat(32);
    let reg = dir.path().join("sspi.reg");
    std::fs::write(
        &reg,
        registry(
            "libhostile.so",
            &format!(
                "\"LibraryPath\"=\".\"\n\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\LibraryDigests]\n\"libhostile.so\"=\"sha256:{wrong}\"\n"
            ),
        ),
    )
    .unwrap();
    let out = sspi(
        dir.path(),
        &["--registry", reg.to_str().unwrap(), "packages"],
        &marker,
    )
    .output()
    .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        !marker.exists(),
        "the library ran before its digest was checked"
    );
    assert!(
        stdout.contains(&format!("not the {wrong} pinned at")),
        "{stdout}"
    );
    assert!(
        stdout.contains("sspi.reg:8:1; refusing to load it"),
        "{stdout}"
    );
}

#[test]
fn a_pinned_digest_that_matches_loads_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let real = plugin_dir().join("libsspi_test.so");
    let digest = sha256_hex(&real);
    let reg = dir.path().join("sspi.reg");
    std::fs::write(
        &reg,
        registry(
            "sspi_test.dll",
            &format!(
                "\"RequireDigests\"=dword:00000001\n\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\LibraryDigests]\n\"sspi_test.dll\"=\"sha256:{digest}\"\n"
            ),
        ),
    )
    .unwrap();
    let out = sspi_in(
        dir.path(),
        &["--registry", reg.to_str().unwrap(), "packages"],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("available"), "{stdout}");
    assert!(!stdout.contains("unavailable"), "{stdout}");
}

#[test]
fn require_digests_refuses_a_registry_with_an_unpinned_library() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("sspi.reg");
    std::fs::write(
        &reg,
        registry("sspi_test.dll", "\"RequireDigests\"=dword:00000001\n"),
    )
    .unwrap();
    let out = sspi_in(dir.path(), &["registry", "check", reg.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("\"RequireDigests\" is set but library \"sspi_test.dll\" has no digest"),
        "{stderr}"
    );
}

#[test]
fn registry_check_runs_no_library_in_the_checking_process() {
    let dir = tempfile::tempdir().unwrap();
    let (_library, marker) = hostile_library(dir.path());
    let reg = dir.path().join("sspi.reg");
    std::fs::write(&reg, registry("libhostile.so", "\"LibraryPath\"=\".\"\n")).unwrap();
    let child = sspi(
        dir.path(),
        &["registry", "check", reg.to_str().unwrap()],
        &marker,
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    let checker = child.id();
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "not an sspi-plug library: {stderr}");
    assert!(
        stderr.contains("is not an sspi-plug package library"),
        "the library was still checked (in a child): {stderr}"
    );
    let ran_in: Vec<u32> = std::fs::read_to_string(&marker)
        .expect("the library was loaded by the check's child")
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(ran_in.len(), 1, "{ran_in:?}");
    assert_ne!(
        ran_in[0], checker,
        "the library ran inside `sspi registry check` itself"
    );

    // A library the parent refuses never reaches the child.
    std::fs::remove_file(&marker).unwrap();
    std::fs::set_permissions(
        dir.path().join("libhostile.so"),
        std::fs::Permissions::from_mode(0o664),
    )
    .unwrap();
    let out = sspi(
        dir.path(),
        &["registry", "check", reg.to_str().unwrap()],
        &marker,
    )
    .output()
    .unwrap();
    assert!(
        text(&out.stderr).contains("is writable by group (mode 0664)"),
        "{}",
        text(&out.stderr)
    );
    assert!(!marker.exists());
}

#[test]
fn a_registry_file_others_may_write_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let reg = dir.path().join("sspi.reg");
    std::fs::write(&reg, registry("sspi_test.dll", "")).unwrap();
    std::fs::set_permissions(&reg, std::fs::Permissions::from_mode(0o646)).unwrap();
    let out = sspi_in(
        dir.path(),
        &["--registry", reg.to_str().unwrap(), "packages"],
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&format!(
            "registry file {}: is writable by others (mode 0646)",
            reg.canonicalize().unwrap().display()
        )),
        "{stderr}"
    );
}

fn sha256_hex(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum (coreutils)");
    text(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}
