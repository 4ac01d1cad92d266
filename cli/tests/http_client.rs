//! `sspi http-client` against `sspi http-server` (shipped registry plus
//! `config/http-server.reg`), over HTTP and over HTTPS (`--tls`, a
//! self-signed certificate for `localhost`): Kerberos through Negotiate with
//! the AP-REP verified and channel bindings sent, NTLM with a user and
//! password, and the failures (wrong password, an untrusted certificate).

#[path = "common/demo_client.rs"]
mod demo_client;

use demo_client::{Client, client};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `sspi http-server` on the default registry with `extra`
/// arguments; the server and its URL of /whoami (`localhost` as the host).
fn start(extra: &[&Path]) -> (Server, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sspi"));
    command.args(["http-server", "--listen", "127.0.0.1:0"]);
    if !extra.is_empty() {
        command.arg("--tls").args(extra);
    }
    let mut child = command
        .env_remove("SSPI_REGISTRY")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sspi runs");
    let mut banner = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut banner)
        .unwrap();
    let url = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .unwrap_or_else(|| panic!("no URL in {banner:?}"))
        .replace("127.0.0.1", "localhost");
    (Server(child), url)
}

fn http_client(client: &Client, args: &[&str], password: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sspi"));
    command
        .arg("--registry")
        .arg(&client.registry)
        .arg("http-client")
        .args(args)
        .env_remove("KRB5CCNAME")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    match password {
        Some(p) => command.env("SSPI_PASSWORD", p),
        None => command.env_remove("SSPI_PASSWORD"),
    };
    command.output().expect("sspi runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A self-signed certificate for `localhost` in `dir`: (certificate, key).
fn certificate(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let (cert_path, key_path) = (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    );
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

#[test]
fn http_client_gets_whoami_with_kerberos_and_with_ntlm() {
    let (_server, url) = start(&[]);
    let client = client();
    let out = http_client(&client, &[&url], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "alice@SSPI-PLUG.TEST Kerberos\n");
    assert!(
        text(&out.stderr).contains(
            "200 OK, authenticated with Negotiate (Kerberos), mutual authentication verified"
        ),
        "{}",
        text(&out.stderr)
    );

    let ntlm = [
        "--package",
        "NTLM",
        "--user",
        "alice",
        "--domain",
        "SSPI-PLUG",
        &url,
    ];
    let out = http_client(&client, &ntlm, Some("alice-demo-password"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "SSPI-PLUG\\alice NTLM\n");

    let out = http_client(&client, &ntlm, Some("not-the-password"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("refused"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn http_client_over_tls_sends_channel_bindings_and_checks_the_certificate() {
    let client = client();
    let (cert, key) = certificate(client.dir.path(), "server");
    let (_server, url) = start(&[&cert, &key]);
    assert!(url.starts_with("https://localhost:"), "{url}");
    let ca = cert.to_str().unwrap();
    let out = http_client(&client, &["--ca-cert", ca, &url], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "alice@SSPI-PLUG.TEST Kerberos\n");
    assert!(
        text(&out.stderr).contains("mutual authentication verified, channel bindings sent"),
        "{}",
        text(&out.stderr)
    );

    // Another certificate is not trusted: no token is sent.
    let (other, _) = certificate(client.dir.path(), "other");
    let out = http_client(&client, &["--ca-cert", other.to_str().unwrap(), &url], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("TLS handshake"),
        "{}",
        text(&out.stderr)
    );

    // https without a certificate to trust is a clear error.
    let out = http_client(&client, &[&url], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("https needs"),
        "{}",
        text(&out.stderr)
    );
}
