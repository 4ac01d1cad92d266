//! A real Apache httpd with mod_auth_gssapi for one test: the embedded KDC
//! (alice, bob and `HTTP/localhost`), and an unprivileged `apache2` started
//! from a generated `httpd.conf` in a temporary directory (`ServerRoot`,
//! `PidFile`, `ErrorLog` there), listening on `127.0.0.1:<free port>`, with
//! the `HTTP/localhost` keytab and a gss-ntlmssp user file; over HTTP, or
//! HTTPS only (mod_ssl, a self-signed certificate for `localhost`). It is
//! stopped on drop, and its error log (mod_auth_gssapi at `debug`) and the MIT trace are
//! printed when the test fails.
//!
//! Three protected locations answer `200` with one line,
//! `REMOTE_USER GSS_MECH` (mod_include's `echo` of the variables
//! mod_auth_gssapi sets; the mechanism as `Negotiate/krb5`, `NTLM/NTLM`,
//! `Negotiate/NTLM`):
//!
//! | path | `GssapiAllowedMech` | connection bound |
//! |---|---|---|
//! | [`KERBEROS`] | krb5 | no |
//! | [`NTLM`] | ntlmssp | yes |
//! | [`ANY`] | krb5, ntlmssp | yes |
//!
//! The NTLM locations name the acceptor (`GssapiAcceptorName HTTP@localhost`)
//! and give gss-ntlmssp its user file in the credential store
//! (`ntlmssp_keyfile:`): with a credential store and no acceptor name,
//! gss-ntlmssp makes a *user* credential for the acceptor and every NTLM
//! request fails with "Not a server credential type" (and SPNEGO-wrapped
//! NTLM crashes the Apache child), as measured with mod_auth_gssapi 1.6.4
//! and gss-ntlmssp 1.2.0.
#![allow(dead_code)]

use crate::peers::{MitClient, krb5_conf_text, present, tool};
use sspi_kdc::{Database, KdcConfig, KdcHandle};
use sspi_package_kerberos::internal::keytab::Keytab;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The realm.
pub const REALM: &str = "SSPI-PLUG.TEST";
/// The NTLM domain of the gss-ntlmssp user file.
pub const DOMAIN: &str = "SSPI-PLUG";
/// Kerberos only.
pub const KERBEROS: &str = "/krb/whoami";
/// NTLM only (raw under `NTLM` and `Negotiate`, or inside SPNEGO).
pub const NTLM: &str = "/ntlm/whoami";
/// Kerberos and NTLM.
pub const ANY: &str = "/any/whoami";

const APACHE: &str = "/usr/sbin/apache2";
const MODULES: &str = "/usr/lib/apache2/modules";
/// Loaded in this order (the MPM first).
const LOADED: &[(&str, &str)] = &[
    ("mpm_prefork_module", "mod_mpm_prefork.so"),
    ("authn_core_module", "mod_authn_core.so"),
    ("authz_core_module", "mod_authz_core.so"),
    ("authz_user_module", "mod_authz_user.so"),
    ("include_module", "mod_include.so"),
    ("auth_gssapi_module", "mod_auth_gssapi.so"),
    // Loaded only by [`Apache::start_tls`].
    ("ssl_module", "mod_ssl.so"),
];
/// gss-ntlmssp's mechanism OID, as registered in /etc/gss/mech.d.
const NTLMSSP_OID: &str = "1.3.6.1.4.1.311.2.2.10";
/// The uid and gid Apache's children run as when the test runs as root
/// (Debian's `nobody` and `nogroup`).
const NOBODY: u32 = 65534;

const DATABASE: &str = "\
alice              password alice-password
bob                password bob-password
HTTP/localhost     password http-service-secret
";

/// The gss-ntlmssp user file (`DOMAIN:user:password`, Heimdal's format).
pub const NTLM_USERS: &str = "\
SSPI-PLUG:alice:alice-password
SSPI-PLUG:bob:bob-password
";

/// What is missing for the Apache tests (Apache, its modules, gss-ntlmssp),
/// beside the executables `tools` (looked for in /usr/bin and /bin; the name
/// `python3-gssapi` stands for Debian's /usr/bin/python3 with `gssapi`).
pub fn missing(tools: &[&str]) -> Vec<String> {
    let mut missing = Vec::new();
    if !Path::new(APACHE).is_file() {
        missing.push(APACHE.to_string());
    }
    for (_, file) in LOADED {
        let path = Path::new(MODULES).join(file);
        if !path.is_file() {
            missing.push(path.display().to_string());
        }
    }
    if !ntlmssp_registered() {
        missing.push(format!(
            "gss-ntlmssp (mechanism {NTLMSSP_OID} in /etc/gss/mech.d)"
        ));
    }
    for t in tools {
        let found = if *t == "python3-gssapi" {
            Command::new("/usr/bin/python3")
                .args(["-c", "import gssapi"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        } else {
            tool(t).is_some()
        };
        if !found {
            missing.push(t.to_string());
        }
    }
    missing
}

/// `Some(())` when nothing is [`missing`]; else a loud notice (a failure
/// under CI, `CI=true`) and `None`.
pub fn needs(test: &str, tools: &[&str]) -> Option<()> {
    present(test, &missing(tools), "scripts/apache/install.sh")
}

fn ntlmssp_registered() -> bool {
    let Ok(entries) = std::fs::read_dir("/etc/gss/mech.d") else {
        return false;
    };
    entries.flatten().any(|entry| {
        std::fs::read_to_string(entry.path()).is_ok_and(|text| {
            text.lines().any(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                !line.trim_start().starts_with('#')
                    && fields.get(1) == Some(&NTLMSSP_OID)
                    && fields.get(2).is_some_and(|lib| Path::new(lib).is_file())
            })
        })
    })
}

/// The embedded KDC and what the clients and Apache need of it.
pub struct Realm {
    /// The KDC (stopped on drop).
    pub kdc: KdcHandle,
    /// `HTTP/localhost`'s keys from the KDC's database.
    pub keytab: Keytab,
    /// The MIT clients' set-up (krb5.conf, ccaches); its directory also
    /// holds the registry and other files of the test.
    pub mit: MitClient,
}

impl Realm {
    /// Starts the KDC with alice, bob and `HTTP/localhost`.
    pub fn start() -> Self {
        let db = Database::parse(DATABASE, REALM, "apache-test-database").expect("database");
        let keytab = db.keytab(&["HTTP/localhost"]).expect("service keytab");
        let kdc = KdcHandle::start("127.0.0.1:0".parse().unwrap(), KdcConfig::new(db))
            .expect("KDC starts");
        let mit = MitClient::new(REALM, kdc.addr());
        Self { kdc, keytab, mit }
    }

    /// A keytab for `HTTP/localhost` with a key the KDC does not have (a
    /// server whose key is out of date: every ticket is undecryptable).
    pub fn stale_keytab() -> Keytab {
        let other = DATABASE.replace("http-service-secret", "some-older-secret");
        Database::parse(&other, REALM, "stale-database")
            .expect("database")
            .keytab(&["HTTP/localhost"])
            .expect("keytab")
    }

    /// The environment of an MIT tool (kinit, curl) with the ccache file `ccache`.
    pub fn mit_env(&self, ccache: &str) -> Vec<(&'static str, PathBuf)> {
        self.mit.env(ccache)
    }

    /// MIT `kinit PRINCIPAL` with `password` on stdin, into `ccache`.
    pub fn kinit(&self, ccache: &str, principal: &str, password: &str) {
        self.mit.kinit(ccache, principal, password);
    }

    /// The directory of the test's files.
    pub fn dir(&self) -> &Path {
        self.mit.dir.path()
    }

    /// A registry for our client (`sspi --registry FILE http-client`): the
    /// Kerberos, NTLM and Negotiate packages, the realm's KDC, no default
    /// user or password (they come from `--user` and `SSPI_PASSWORD`, or
    /// Kerberos's `KRB5CCNAME` ccache).
    pub fn client_registry(&self) -> PathBuf {
        let path = self.dir().join("client.reg");
        std::fs::write(
            &path,
            format!(
                r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_kerberos.dll, sspi_ntlm.dll, sspi_negotiate.dll"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos]
"DefaultRealm"="{REALM}"
"KdcTimeout"=dword:000003e8
"KdcRetries"=dword:00000000

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos\Domains\{REALM}]
"KdcNames"="{}"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM]
"DefaultDomain"="{DOMAIN}"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Negotiate]
"Packages"="Kerberos, NTLM"
"#,
                self.kdc.addr()
            ),
        )
        .expect("write client registry");
        path
    }
}

/// A running Apache httpd (SIGTERM, then SIGKILL to its process group, on
/// drop).
pub struct Apache {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// HTTPS: its self-signed certificate for `localhost` (PEM), for clients
    /// to trust; `None` for HTTP.
    pub ca_cert: Option<PathBuf>,
    child: Option<Child>,
    root: tempfile::TempDir,
}

impl Apache {
    /// Starts Apache with `keytab` (`HTTP/localhost`) and the gss-ntlmssp
    /// user file `ntlm_users`; returns once its port answers.
    pub fn start(keytab: &Keytab, ntlm_users: &str) -> Self {
        Self::start_with(keytab, ntlm_users, false)
    }

    /// As [`Self::start`], serving HTTPS only (mod_ssl, a self-signed
    /// certificate for `localhost` in [`Self::ca_cert`]).
    pub fn start_tls(keytab: &Keytab, ntlm_users: &str) -> Self {
        Self::start_with(keytab, ntlm_users, true)
    }

    fn start_with(keytab: &Keytab, ntlm_users: &str, tls: bool) -> Self {
        let root = tempfile::tempdir().expect("temporary directory");
        let dir = root.path();
        let as_root = std::fs::metadata(dir).expect("tempdir").uid() == 0;
        for sub in ["html/krb", "html/ntlm", "html/any", "run", "rcache"] {
            std::fs::create_dir_all(dir.join(sub)).expect("mkdir");
        }
        // mod_include's `echo`: the user and mechanism, one line.
        let whoami = "<!--#echo encoding=\"none\" var=\"REMOTE_USER\" --> \
                      <!--#echo encoding=\"none\" var=\"GSS_MECH\" -->\n";
        for sub in ["krb", "ntlm", "any"] {
            std::fs::write(dir.join("html").join(sub).join("whoami"), whoami).expect("write");
        }
        std::fs::write(
            dir.join("http.keytab"),
            keytab.to_bytes().expect("keytab bytes"),
        )
        .expect("write keytab");
        std::fs::write(dir.join("ntlm-users"), ntlm_users).expect("write user file");
        std::fs::write(dir.join("krb5.conf"), krb5_conf_text(REALM, None))
            .expect("write krb5.conf");
        let ca_cert = tls.then(|| {
            let (certificate, key) = localhost_certificate();
            std::fs::write(dir.join("server.pem"), certificate).expect("write certificate");
            std::fs::write(dir.join("server.key"), key).expect("write key");
            dir.join("server.pem")
        });
        if as_root {
            // The children run as nobody: the files are theirs (the keytab
            // and user file stay mode 0600, unreadable by anyone else).
            chown_tree(dir, NOBODY);
        }

        let mut last_error = String::new();
        for _ in 0..3 {
            let port = free_port();
            let mut child = spawn(dir, port, as_root, tls);
            match wait_ready(&mut child, port) {
                Ok(()) => {
                    return Self {
                        port,
                        ca_cert,
                        child: Some(child),
                        root,
                    };
                }
                Err(e) => {
                    stop(child);
                    last_error = format!("{e}\n{}", logs(dir));
                    // A port taken between free_port() and Apache's bind:
                    // try another one; any other failure is final.
                    if !last_error.contains("Address already in use") {
                        break;
                    }
                }
            }
        }
        panic!("Apache did not start: {last_error}");
    }

    /// `http://localhost:PORT{path}` (`https://` from [`Self::start_tls`]).
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.ca_cert.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://localhost:{}{path}", self.port)
    }

    /// The error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("error.log")).unwrap_or_default()
    }

    /// Apache's stderr, error log and MIT trace, for a failure message.
    pub fn logs(&self) -> String {
        logs(self.root.path())
    }
}

impl Drop for Apache {
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            stop(child);
        }
        if std::thread::panicking() {
            eprintln!(
                "Apache on port {} failed the test:\n{}",
                self.port,
                self.logs()
            );
        }
    }
}

/// `apache2 -f DIR/httpd.conf -DFOREGROUND` in its own process group, with
/// a clean environment: MIT's configuration, replay cache and trace in `dir`.
fn spawn(dir: &Path, port: u16, as_root: bool, tls: bool) -> Child {
    let conf = dir.join("httpd.conf");
    std::fs::write(&conf, httpd_conf(dir, port, as_root, tls)).expect("write httpd.conf");
    let stderr = std::fs::File::create(dir.join("apache.stderr")).expect("stderr file");
    Command::new(APACHE)
        .arg("-f")
        .arg(&conf)
        .arg("-DFOREGROUND")
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/bin")
        .env("LANG", "C")
        .env("KRB5_CONFIG", dir.join("krb5.conf"))
        .env("KRB5RCACHEDIR", dir.join("rcache"))
        .env("KRB5_TRACE", dir.join("krb5.trace"))
        .env("GSSNTLMSSP_DEBUG", dir.join("ntlmssp.debug"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .process_group(0)
        .spawn()
        .expect("apache2 starts")
}

/// Until 127.0.0.1:`port` accepts a connection (at most 10 s), or `child`
/// exits.
fn wait_ready(child: &mut Child, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Err(format!("apache2 exited ({status})"));
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("port {port} does not answer after 10 s"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGTERM (the parent stops its children and exits); after 5 s, SIGKILL to
/// its process group (the parent and any child left). Signals go through
/// procps' `kill`; without it, SIGKILL to the parent alone.
fn stop(mut child: Child) {
    let pid = child.id().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if sent {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn logs(dir: &Path) -> String {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    format!(
        "--- apache2 stderr ---\n{}--- error.log ---\n{}--- KRB5_TRACE ---\n{}\
         --- GSSNTLMSSP_DEBUG ---\n{}",
        read("apache.stderr"),
        read("error.log"),
        read("krb5.trace"),
        read("ntlmssp.debug")
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn chown_tree(path: &Path, id: u32) {
    std::os::unix::fs::chown(path, Some(id), Some(id)).expect("chown");
    if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("read_dir") {
            chown_tree(&entry.expect("entry").path(), id);
        }
    }
}

/// A self-signed certificate for `localhost`: (certificate PEM, key PEM).
pub fn localhost_certificate() -> (String, String) {
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("certificate params");
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    let key = rcgen::KeyPair::generate().expect("key pair");
    let certificate = params.self_signed(&key).expect("self-signed certificate");
    (certificate.pem(), key.serialize_pem())
}

fn httpd_conf(dir: &Path, port: u16, as_root: bool, tls: bool) -> String {
    let d = dir.display();
    let modules: String = LOADED
        .iter()
        .filter(|(name, _)| tls || *name != "ssl_module")
        .map(|(name, file)| format!("LoadModule {name} {MODULES}/{file}\n"))
        .collect();
    let ssl = if tls {
        format!(
            "SSLEngine on\nSSLCertificateFile \"{d}/server.pem\"\n\
             SSLCertificateKeyFile \"{d}/server.key\"\nSSLSessionCache none\n"
        )
    } else {
        String::new()
    };
    let user = if as_root {
        format!("User #{NOBODY}\nGroup #{NOBODY}\n")
    } else {
        String::new()
    };
    let location = |path: &str, mechs: &[&str], ntlm: bool| {
        let mut text = format!(
            "<Location {path}>\n  AuthType GSSAPI\n  AuthName \"sspi-plug {path}\"\n  \
             GssapiSSLonly Off\n  GssapiPublishMech On\n"
        );
        for mech in mechs {
            text.push_str(&format!("  GssapiAllowedMech {mech}\n"));
        }
        text.push_str(&format!("  GssapiCredStore keytab:{d}/http.keytab\n"));
        if ntlm {
            text.push_str(&format!(
                "  GssapiConnectionBound On\n  GssapiAcceptorName HTTP@localhost\n  \
                 GssapiCredStore ntlmssp_keyfile:{d}/ntlm-users\n"
            ));
        }
        text.push_str("  Require valid-user\n</Location>\n");
        text
    };
    format!(
        "# Generated by tests/tests/common/apache.rs.\n\
         ServerRoot \"{d}\"\n\
         ServerName localhost\n\
         Listen 127.0.0.1:{port}\n\
         PidFile \"{d}/run/httpd.pid\"\n\
         DefaultRuntimeDir \"{d}/run\"\n\
         ErrorLog \"{d}/error.log\"\n\
         LogLevel warn auth_gssapi:debug\n\
         {modules}{user}{ssl}\
         StartServers 1\nMinSpareServers 1\nMaxSpareServers 2\nMaxRequestWorkers 4\n\
         KeepAlive On\nKeepAliveTimeout 5\nTimeout 10\n\
         DocumentRoot \"{d}/html\"\n\
         <Directory />\n  Require all denied\n</Directory>\n\
         <Directory \"{d}/html\">\n  Options +Includes\n  SetOutputFilter INCLUDES\n  \
         Require all granted\n</Directory>\n\
         {}{}{}",
        location("/krb", &["krb5"], false),
        location("/ntlm", &["ntlmssp"], true),
        location("/any", &["krb5", "ntlmssp"], true),
    )
}

/// A response read by [`HttpConnection`].
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The `WWW-Authenticate` values, in order.
    pub challenges: Vec<String>,
    /// The body (`Content-Length` or chunked).
    pub body: String,
}

impl Reply {
    /// The data of the `WWW-Authenticate: SCHEME <base64>` value, if any.
    pub fn token(&self, scheme: &str) -> Option<Vec<u8>> {
        use base64::Engine as _;
        self.challenges.iter().find_map(|c| {
            let (name, data) = c.split_once(' ')?;
            (name.eq_ignore_ascii_case(scheme) && !data.trim().is_empty()).then(|| {
                base64::engine::general_purpose::STANDARD
                    .decode(data.trim())
                    .expect("base64 from Apache")
            })
        })
    }
}

/// A keep-alive HTTP/1.1 connection to Apache (every leg of a handshake on
/// one connection, as NTLM needs).
pub struct HttpConnection {
    reader: std::io::BufReader<TcpStream>,
}

impl HttpConnection {
    /// Connects to 127.0.0.1:`port`.
    pub fn open(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Self {
            reader: std::io::BufReader::new(stream),
        }
    }

    /// `GET path` (`Host: localhost`) with an `Authorization` value.
    pub fn get(&mut self, path: &str, authorization: Option<&str>) -> Reply {
        use std::io::{BufRead, Read, Write};
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n");
        if let Some(value) = authorization {
            request.push_str(&format!("Authorization: {value}\r\n"));
        }
        request.push_str("\r\n");
        self.reader
            .get_mut()
            .write_all(request.as_bytes())
            .expect("send");
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {line:?}"));
        let (mut challenges, mut length, mut chunked) = (Vec::new(), 0usize, false);
        loop {
            let mut header = String::new();
            self.reader.read_line(&mut header).expect("header");
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').expect("header line");
            let value = value.trim().to_string();
            if name.eq_ignore_ascii_case("www-authenticate") {
                challenges.push(value);
            } else if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().expect("Content-Length");
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                let mut size = String::new();
                self.reader.read_line(&mut size).expect("chunk size");
                let size = usize::from_str_radix(size.trim().split(';').next().unwrap(), 16)
                    .expect("chunk size");
                let mut chunk = vec![0u8; size + 2];
                self.reader.read_exact(&mut chunk).expect("chunk");
                if size == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..size]);
            }
        } else {
            body.resize(length, 0);
            self.reader.read_exact(&mut body).expect("body");
        }
        Reply {
            status,
            challenges,
            body: String::from_utf8(body).expect("UTF-8 body"),
        }
    }
}
