//! `sspi keytab add|list`: the keytab it writes is read by MIT's `klist -k -t
//! -e`, and `kinit -k -t` with it gets a TGT from the shipped KDC, both for
//! a random key added to the KDC's database (`--kdc-database`) and for a key
//! derived from the password the database holds (`--password-env`).
//!
//! MIT's `ktutil` (`rkt`, `list -e`) reads it as well.
//!
//! Without MIT's `klist`/`kinit` the interop half prints a loud notice and
//! is skipped, except under CI (`CI=true`), where it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const REALM: &str = "KEYTAB.TEST";

fn sspi(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sspi"));
    command
        .args(args)
        .env_remove("SSPI_REGISTRY")
        .env_remove("RUST_LOG");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("sspi runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn mit_tools() -> bool {
    if tool("klist").is_some() && tool("kinit").is_some() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("MIT klist/kinit are not installed; CI must run scripts/mit-krb5/install.sh");
    }
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !! SKIPPED the MIT half of `sspi keytab`: klist/kinit are not installed.\n\
         !! Install them with scripts/mit-krb5/install.sh.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
    false
}

/// An MIT tool with a krb5.conf for `kdc`, and its output.
fn mit(dir: &Path, kdc: &str, program: &str, args: &[&str]) -> (bool, String) {
    let conf = dir.join("krb5.conf");
    std::fs::write(
        &conf,
        format!(
            "[libdefaults]\n default_realm = {REALM}\n dns_lookup_kdc = false\n rdns = false\n\
             udp_preference_limit = 1\n\
             [realms]\n {REALM} = {{\n  kdc = {kdc}\n }}\n"
        ),
    )
    .unwrap();
    let out = Command::new(tool(program).unwrap())
        .args(args)
        .env("KRB5_CONFIG", &conf)
        .env(
            "KRB5CCNAME",
            format!("FILE:{}", dir.join("ccache").display()),
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (out.status.success(), text(&out))
}

#[test]
fn keytab_add_and_list_work_with_mit_and_our_kdc() {
    let dir = tempfile::tempdir().unwrap();
    let keytab = dir.path().join("service.keytab");
    let database = dir.path().join("kdc.db");
    // The KDC database: a user with a password (the keys are derived from it).
    std::fs::write(&database, "carol password carol-password\n").unwrap();
    let kt = keytab.to_str().unwrap();
    let db = database.to_str().unwrap();
    let service = format!("host/server.keytab.test@{REALM}");

    // A random key for a service, also added to the KDC's database.
    let out = sspi(
        &[
            "keytab",
            "add",
            kt,
            &service,
            "--kvno",
            "3",
            "--enctypes",
            "aes256-cts-hmac-sha1-96,17",
            "--kdc-database",
            db,
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    // A key from carol's password (from the environment, never argv).
    let out = sspi(
        &[
            "keytab",
            "add",
            kt,
            "carol",
            "--realm",
            REALM,
            "--password-env",
            "CAROL_PW",
        ],
        &[("CAROL_PW", "carol-password")],
    );
    assert!(out.status.success(), "{}", text(&out));

    // The same principal, kvno and etype again is refused, as is a missing variable.
    let out = sspi(&["keytab", "add", kt, &service, "--kvno", "3"], &[]);
    assert!(
        !out.status.success() && text(&out).contains("already has"),
        "{}",
        text(&out)
    );
    let out = sspi(
        &[
            "keytab",
            "add",
            kt,
            "dave",
            "--realm",
            REALM,
            "--password-env",
            "NO_SUCH_VAR_X",
        ],
        &[],
    );
    assert!(
        !out.status.success() && text(&out).contains("NO_SUCH_VAR_X"),
        "{}",
        text(&out)
    );
    let out = sspi(&["keytab", "add", kt, "nobody"], &[]);
    assert!(
        !out.status.success() && text(&out).contains("--realm"),
        "{}",
        text(&out)
    );
    let out = sspi(
        &[
            "keytab",
            "add",
            kt,
            &service,
            "--kvno",
            "4",
            "--kdc-database",
            db,
        ],
        &[],
    );
    assert!(
        !out.status.success() && text(&out).contains("already has"),
        "{}",
        text(&out)
    );

    // Our listing: every entry, never a key.
    let out = sspi(&["keytab", "list", kt], &[]);
    let listing = text(&out);
    assert!(out.status.success(), "{listing}");
    for needle in [
        "   3 ".to_string(),
        format!("{service} (aes256-cts-hmac-sha1-96)"),
        format!("{service} (aes128-cts-hmac-sha1-96)"),
        format!("carol@{REALM} (aes256-cts-hmac-sha1-96)"),
    ] {
        assert!(listing.contains(&needle), "{needle:?} not in {listing}");
    }
    let db_text = std::fs::read_to_string(&database).unwrap();
    let service_line = db_text.lines().find(|l| l.starts_with("host/")).unwrap();
    let hex = service_line.split_whitespace().nth(4).unwrap();
    assert_eq!(hex.len(), 64, "{service_line}");
    assert!(!listing.contains(hex), "the listing shows a key: {listing}");
    use std::os::unix::fs::PermissionsExt;
    for file in [&keytab, &database] {
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }

    if !mit_tools() {
        return;
    }
    // MIT reads our keytab.
    let (ok, klist) = mit(dir.path(), "127.0.0.1:1", "klist", &["-k", "-t", "-e", kt]);
    assert!(ok, "{klist}");
    for needle in [
        "3 ".to_string(),
        format!("{service} (aes256-cts-hmac-sha1-96)"),
        format!("{service} (aes128-cts-hmac-sha1-96)"),
        format!("carol@{REALM} (aes256-cts-hmac-sha1-96)"),
    ] {
        assert!(klist.contains(&needle), "{needle:?} not in MIT's {klist}");
    }

    // MIT ktutil reads it too (`rkt`, then `list -e`).
    if let Some(ktutil) = tool("ktutil") {
        use std::io::Write;
        let mut child = Command::new(ktutil)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "rkt {kt}\nlist -e\nquit").unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let listing = text(&out);
        assert!(
            listing.contains(&format!("{service} (aes128-cts-hmac-sha1-96)"))
                && listing.contains(&format!("carol@{REALM}")),
            "ktutil: {listing}"
        );
    }

    // kinit -k -t against the shipped KDC, serving the database we added to.
    let db = sspi_kdc::Database::load(&database, REALM).expect("the KDC reads the database");
    let kdc =
        sspi_kdc::KdcHandle::start("127.0.0.1:0".parse().unwrap(), sspi_kdc::KdcConfig::new(db))
            .expect("KDC starts");
    let addr = kdc.addr().to_string();
    for principal in [service.as_str(), &format!("carol@{REALM}")] {
        let (ok, out) = mit(dir.path(), &addr, "kinit", &["-k", "-t", kt, principal]);
        assert!(ok, "kinit -k -t {principal} with our keytab: {out}");
        let (ok, out) = mit(dir.path(), &addr, "klist", &[]);
        assert!(
            ok && out.contains(&format!("krbtgt/{REALM}@{REALM}")),
            "{out}"
        );
    }
    eprintln!("sspi keytab: klist -k -t -e lists it; kinit -k -t against our KDC: ok");
}
