//! What the libsspi tests share: the tools they need (gcc, python3), the
//! libraries cargo built, and compiling the C samples.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The clone's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The target directory the test runs from (`target/debug`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// target/<profile>/libsspi.so, which `cargo build --workspace` makes.
pub fn libsspi() -> PathBuf {
    let lib = target_dir().join("libsspi.so");
    assert!(
        lib.is_file(),
        "run `cargo build --workspace` first: {} is missing",
        lib.display()
    );
    // `cargo test` does not rebuild a cdylib: refuse to test an old one.
    let built = lib.metadata().and_then(|m| m.modified()).unwrap();
    let src = root().join("capi/src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let changed = path.metadata().and_then(|m| m.modified()).unwrap();
        assert!(
            changed <= built,
            "{} is older than {}: run `cargo build --workspace` first",
            lib.display(),
            path.display()
        );
    }
    lib
}

/// The `sspi` command cargo built beside the tests.
pub fn sspi() -> PathBuf {
    let sspi = target_dir().join("sspi");
    assert!(
        sspi.is_file(),
        "run `cargo build --workspace` first: {} is missing",
        sspi.display()
    );
    sspi
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `program` (an absolute path or a name on PATH) when it runs; `None`
/// after a loud notice, or a failure under CI (`CI=true`).
pub fn require(program: &str, test: &str) -> Option<PathBuf> {
    let found = if Path::new(program).is_absolute() {
        Some(PathBuf::from(program)).filter(|p| p.is_file())
    } else {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    };
    if let Some(found) = found {
        return Some(found);
    }
    if ci() {
        panic!(
            "{test}: {program} is not installed; CI must run scripts/mit-krb5/install.sh (it installs gcc and python3)"
        );
    }
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !! SKIPPED {test}: {program} is not installed.\n\
         !! Install it with scripts/mit-krb5/install.sh to run the C ABI tests.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
    None
}

/// Compiles `sources` (paths relative to the clone) into `out` with gcc,
/// against capi/include/sspi.h and libsspi.so (`-lsspi`, with an rpath to it).
pub fn compile(gcc: &Path, sources: &[&str], out: &Path) {
    let lib_dir = libsspi().parent().unwrap().to_path_buf();
    let root = root();
    let mut command = Command::new(gcc);
    command
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-g"])
        .arg("-I")
        .arg(root.join("capi/include"));
    for source in sources {
        command.arg(root.join(source));
    }
    let output = command
        .arg("-o")
        .arg(out)
        .arg("-L")
        .arg(&lib_dir)
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .arg("-lsspi")
        .output()
        .expect("gcc runs");
    assert!(
        output.status.success(),
        "gcc {sources:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
