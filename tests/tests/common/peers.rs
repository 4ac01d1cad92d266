//! What the HTTP interop tests share to find and drive the peers we did not
//! write (curl, MIT's kinit, Python clients, Apache): where a tool is, the
//! loud notice (or, under CI, the failure) when one is missing, an MIT
//! client set-up for a realm (krb5.conf, ccaches, replay cache), and curl.
#![allow(dead_code)] // each test binary uses part of it

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `name` in /usr/bin, /usr/local/bin or /bin (never the `PATH`).
pub fn tool(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/usr/local/bin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file())
}

/// The executables of `tools` that [`tool`] does not find.
pub fn missing_tools(tools: &[&str]) -> Vec<String> {
    tools
        .iter()
        .filter(|t| tool(t).is_none())
        .map(|t| t.to_string())
        .collect()
}

/// `Some(())` when nothing is `missing`; else a loud SKIPPED notice naming
/// the installer `script` and `None`, or, under CI (`CI=true`), a failure.
pub fn present(test: &str, missing: &[String], script: &str) -> Option<()> {
    if missing.is_empty() {
        return Some(());
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{test}: missing {}; CI must run {script}",
            missing.join(", ")
        );
    }
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !! SKIPPED {test}: missing {}.\n\
         !! Install them with {script} to run this test.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n",
        missing.join(", ")
    );
    None
}

/// An MIT krb5.conf for `realm` (`localhost` maps to it; no DNS, no reverse
/// lookups, AES-SHA1 only); the KDC is `kdc` if given (an acceptor needs none).
pub fn krb5_conf_text(realm: &str, kdc: Option<SocketAddr>) -> String {
    let kdc = kdc.map(|a| format!("  kdc = {a}\n")).unwrap_or_default();
    format!(
        "[libdefaults]\n default_realm = {realm}\n dns_lookup_kdc = false\n dns_lookup_realm = false\n\
         rdns = false\n dns_canonicalize_hostname = false\n udp_preference_limit = 1\n\
         permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96\n\
         [realms]\n {realm} = {{\n{kdc} }}\n[domain_realm]\n localhost = {realm}\n"
    )
}

/// An MIT client set-up in a directory of its own: a krb5.conf for a realm,
/// ccaches and the replay cache.
pub struct MitClient {
    /// The directory (removed on drop).
    pub dir: tempfile::TempDir,
    /// The krb5.conf.
    pub krb5_conf: PathBuf,
}

impl MitClient {
    /// A set-up for `realm` whose KDC is `kdc`.
    pub fn new(realm: &str, kdc: SocketAddr) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let krb5_conf = dir.path().join("krb5.conf");
        std::fs::write(&krb5_conf, krb5_conf_text(realm, Some(kdc))).expect("write krb5.conf");
        Self { dir, krb5_conf }
    }

    /// The environment of an MIT tool (kinit, curl, python-gssapi) using
    /// the ccache file `ccache` of the directory.
    pub fn env(&self, ccache: &str) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("KRB5_CONFIG", self.krb5_conf.clone()),
            (
                "KRB5CCNAME",
                PathBuf::from(format!("FILE:{}", self.dir.path().join(ccache).display())),
            ),
            ("KRB5RCACHEDIR", self.dir.path().to_path_buf()),
        ]
    }

    /// MIT `kinit PRINCIPAL` with `password` on stdin, into `ccache`.
    pub fn kinit(&self, ccache: &str, principal: &str, password: &str) {
        use std::io::Write as _;
        let mut kinit = Command::new(tool("kinit").expect("kinit"))
            .arg(principal)
            .envs(self.env(ccache))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kinit runs");
        kinit
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        let out = kinit.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "kinit {principal}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// curl `-s --max-time 10` with `args` and `env`, no proxy: (HTTP status, body).
pub fn curl(args: &[&str], env: &[(&str, PathBuf)]) -> (String, String) {
    let output = Command::new(tool("curl").expect("curl"))
        .args(["-s", "--max-time", "10", "-w", "\n%{http_code}"])
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    (status.to_string(), body.to_string())
}
