//! `sspi registry check` for administrators (declared values, did-you-mean,
//! libraries resolved as the application resolves them, overlays),
//! `sspi registry describe`, and why a package is unavailable.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `sspi ARGS` with none of the variables that steer it inherited from the shell.
fn sspi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sspi"))
        .args(args)
        .env_remove("SSPI_REGISTRY")
        .env_remove("SSPI_PLUGIN_PATH")
        .env_remove("SSPI_FILE_CHECKS")
        .env_remove("RUST_LOG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("sspi runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The directory cargo built the plugins in (`target/debug`).
fn plugin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sspi"))
        .parent()
        .unwrap()
        .to_owned()
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    path
}

const HEADER: &str = "Windows Registry Editor Version 5.00\n\n";

fn registry(dir: &Path, providers: &str, rest: &str) -> PathBuf {
    write(
        dir,
        "sspi.reg",
        &format!(
            "{HEADER}[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\"Providers\"=\"{providers}\"\n\n{rest}"
        ),
    )
}

const NTLM_KEY: &str =
    "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\NTLM]\n\"DefaultDomain\"=\"SSPI-PLUG\"\n";

#[test]
fn a_misspelt_value_is_a_warning_with_a_did_you_mean_at_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let reg = registry(
        dir.path(),
        "sspi_ntlm.dll",
        &format!("{NTLM_KEY}\"DefualtUser\"=\"alice\"\n"),
    );
    let out = sspi(&["registry", "check", reg.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "warnings do not fail: {stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("DefualtUser"))
        .unwrap_or_else(|| panic!("the misspelling is reported: {stderr}"));
    assert!(
        line.starts_with(&format!(
            "{}:8:1: warning: unknown value \"DefualtUser\"",
            reg.display()
        )),
        "points at the value first: {line}"
    );
    assert!(line.contains("did you mean \"DefaultUser\"?"), "{line}");
    assert!(
        text(&out.stdout).contains("(1 warning(s))"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_key_for_a_package_nobody_provides_is_a_warning_with_a_did_you_mean() {
    let dir = tempfile::tempdir().unwrap();
    let reg = registry(
        dir.path(),
        "sspi_ntlm.dll",
        &format!(
            "{NTLM_KEY}\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\NTML]\n\"DefaultUser\"=\"bob\"\n"
        ),
    );
    let out = sspi(&["registry", "check", reg.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:9:1: warning: key HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\NTML configures no installed package",
            reg.display()
        )) && stderr.contains("(did you mean \"NTLM\"?)"),
        "{stderr}"
    );
}

#[test]
fn a_wrong_type_or_range_is_an_error_at_the_values_line() {
    let dir = tempfile::tempdir().unwrap();
    let reg = registry(
        dir.path(),
        "sspi_ntlm.dll",
        &format!(
            "{NTLM_KEY}\"LmCompatibilityLevelClient\"=dword:00000009\n\"NbComputerName\"=dword:1\n"
        ),
    );
    let out = sspi(&["registry", "check", reg.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let at = reg.display().to_string();
    assert!(
        stderr.contains(&format!(
            "{at}:8:1: error: LmCompatibilityLevelClient must be between 1 and 5, not 9"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{at}:9:1: error: NbComputerName must be REG_SZ, found REG_DWORD"
        )),
        "{stderr}"
    );
}

#[test]
fn check_resolves_libraries_as_the_named_program_does() {
    let dir = tempfile::tempdir().unwrap();
    let reg = registry(dir.path(), "sspi_test.dll", "");
    // As `sspi` itself: found beside it, with a warning that says so.
    let out = sspi(&["registry", "check", reg.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("sspi_test.dll is found only beside this program")
            && stderr.contains(&plugin_dir().display().to_string()),
        "{stderr}"
    );
    // As an application installed elsewhere: not found, exactly as it would not.
    let app = dir.path().join("app/bin/myapp");
    let out = sspi(&[
        "registry",
        "check",
        "--program",
        app.to_str().unwrap(),
        reg.to_str().unwrap(),
    ]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("library libsspi_test.so not found in")
            && stderr.contains(&dir.path().join("app/bin").display().to_string())
            && !stderr.contains(&plugin_dir().display().to_string()),
        "{stderr}"
    );
    // The application's own directory holds a copy: found there, loaded from there.
    std::fs::create_dir_all(dir.path().join("app/bin")).unwrap();
    std::fs::copy(
        plugin_dir().join("libsspi_test.so"),
        dir.path().join("app/bin/libsspi_test.so"),
    )
    .unwrap();
    let out = sspi(&[
        "registry",
        "check",
        "--program",
        app.to_str().unwrap(),
        reg.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("beside this program"));
    // A relative --program is the program in the working directory's terms.
    let out = Command::new(env!("CARGO_BIN_EXE_sspi"))
        .args(["registry", "check", "--program", "app/bin/myapp"])
        .arg(&reg)
        .env_remove("SSPI_PLUGIN_PATH")
        .env_remove("SSPI_FILE_CHECKS")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn an_overlay_adds_a_provider_to_the_checked_and_listed_packages() {
    let dir = tempfile::tempdir().unwrap();
    let reg = registry(dir.path(), "sspi_ntlm.dll", NTLM_KEY);
    let d = dir.path().join("sspi.reg.d");
    std::fs::create_dir(&d).unwrap();
    write(
        &d,
        "50-test.reg",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\AddProviders]\n\"builtin:test\"=\"the Test package, linked into sspi\"\n",
    );
    let out = sspi(&["registry", "check", reg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("ok: 2 file(s), 2 package(s) available: NTLM, Test"),
        "{}",
        text(&out.stdout)
    );
    let out = sspi(&["--registry", reg.to_str().unwrap(), "packages"]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("builtin:test"), "{stdout}");
}

#[test]
fn packages_prints_why_under_the_package_name_and_handshake_names_the_library() {
    let dir = tempfile::tempdir().unwrap();
    // The registry configures NTLM, but its library is not there.
    let reg = registry(dir.path(), "sspi_ntlm_gone.dll", NTLM_KEY);
    let out = sspi(&["--registry", reg.to_str().unwrap(), "packages"]);
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let row = lines
        .iter()
        .position(|l| l.starts_with("NTLM "))
        .unwrap_or_else(|| panic!("listed under the package's name: {stdout}"));
    assert!(lines[row].ends_with("unavailable"), "{stdout}");
    let reason = lines[row + 1].trim_start();
    assert!(
        reason.starts_with("reason: its library sspi_ntlm_gone.dll")
            && reason.contains("libsspi_ntlm_gone.so not found in"),
        "{stdout}"
    );
    let out = sspi(&[
        "--registry",
        reg.to_str().unwrap(),
        "handshake",
        "--package",
        "NTLM",
    ]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("SEC_E_SECPKG_NOT_FOUND")
            && stderr.contains("sspi_ntlm_gone.dll")
            && !stderr.contains("no security package named"),
        "{stderr}"
    );
}

#[test]
fn describe_prints_a_packages_declared_values() {
    let out = sspi(&["registry", "describe", "ntlm"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.starts_with("NTLM (HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\NTLM)\n"));
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("LmCompatibilityLevelClient"))
        .expect("a row per value");
    assert!(
        row.contains("REG_DWORD 1..5") && row.contains(" 3 "),
        "{row}"
    );
    let out = sspi(&["registry", "describe", "NTLM", "--markdown"]);
    let markdown = text(&out.stdout);
    assert!(markdown.starts_with(
        "<!-- sspi registry describe NTLM --markdown -->\n| value | type | default | meaning |\n|---|---|---|---|\n"
    ));
    assert!(
        markdown.contains("| `Users\\<name>\\Password` | REG_SZ | none |"),
        "{markdown}"
    );
    let out = sspi(&["registry", "describe", "NoSuchPackage"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("SEC_E_SECPKG_NOT_FOUND"),
        "{}",
        text(&out.stderr)
    );
}

/// The environment variable that makes `the_readme_tables_are_the_declared_values`
/// rewrite README.md's tables instead of comparing them (as `expect-test`'s
/// `UPDATE_EXPECT`).
const UPDATE_ENV: &str = "SSPI_UPDATE_README";

/// The README's table of every package that declares values is the one
/// `sspi registry describe NAME --markdown` prints, below the marker line
/// `<!-- sspi registry describe NAME --markdown -->` in the package's section
/// (`### The NAME package`). Regenerate them all with
/// `SSPI_UPDATE_README=1 cargo test -p sspi-cli --test registry the_readme_tables`.
#[test]
fn the_readme_tables_are_the_declared_values() {
    let out = sspi(&["registry", "describe", "--markdown"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let generated = text(&out.stdout);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let mut readme = std::fs::read_to_string(path).unwrap();
    let update = std::env::var_os(UPDATE_ENV).is_some();
    let mut checked = Vec::new();
    for block in generated.split("\n\n") {
        let mut lines = block.lines();
        let marker = lines.next().expect("a marker line");
        let table: Vec<&str> = lines.collect();
        if !table.first().is_some_and(|l| l.starts_with('|')) {
            continue; // declares no values
        }
        let package = marker
            .trim_start_matches("<!-- sspi registry describe ")
            .trim_end_matches(" --markdown -->");
        if update {
            readme = replace_table(&readme, package, marker, &table);
        }
        let start = readme.find(marker).unwrap_or_else(|| {
            panic!(
                "README.md has no table marked `{marker}`: run `{UPDATE_ENV}=1 cargo test -p sspi-cli --test registry the_readme_tables`"
            )
        });
        let documented: Vec<&str> = readme[start..]
            .lines()
            .skip(1)
            .take_while(|l| l.starts_with('|'))
            .collect();
        assert_eq!(
            documented, table,
            "README.md's {package} table differs from the declared values: run `{UPDATE_ENV}=1 cargo test -p sspi-cli --test registry the_readme_tables`"
        );
        checked.push(package.to_owned());
    }
    if update {
        std::fs::write(path, &readme).unwrap();
    }
    assert!(
        checked.len() >= 2,
        "the shipped packages declare their values: {checked:?}"
    );
}

/// `readme` with the table below `marker` (or, without a marker yet, the first
/// `| value |` table of the section `### The PACKAGE package`) replaced by
/// `marker` and `table`.
fn replace_table(readme: &str, package: &str, marker: &str, table: &[&str]) -> String {
    let lines: Vec<&str> = readme.lines().collect();
    let start = match lines.iter().position(|l| *l == marker) {
        Some(at) => at,
        None => {
            let heading = format!("### The {package} package");
            let section = lines
                .iter()
                .position(|l| l.starts_with(&heading))
                .unwrap_or_else(|| panic!("README.md has no section `{heading}`"));
            section
                + lines[section..]
                    .iter()
                    .position(|l| l.starts_with("| value |"))
                    .unwrap_or_else(|| panic!("no table in README.md's `{heading}`"))
        }
    };
    let mut end = if lines[start] == marker {
        start + 1
    } else {
        start
    };
    while lines.get(end).is_some_and(|l| l.starts_with('|')) {
        end += 1;
    }
    let mut out: Vec<&str> = lines[..start].to_vec();
    out.push(marker);
    out.extend(table);
    out.extend(&lines[end..]);
    let mut text = out.join("\n");
    text.push('\n');
    text
}
