//! `sspi http-server` on the shipped registry (plus `config/http-server.reg`):
//! an anonymous request is challenged, and a Kerberos client of the demo
//! realm (the embedded KDC on `kdc/demo/database.txt`) gets `/whoami` through
//! Negotiate with the server's AP-REP on the 200.

#[path = "common/demo_client.rs"]
mod demo_client;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sspi_core::{CredentialUse, IscReq, SecBuffer, SecBufferRef, SecurityStatus};
use sspi_plugin_host::SecurityHost;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the server with the default registry; its address.
fn start() -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sspi"))
        .args(["http-server", "--listen", "127.0.0.1:0"])
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
    let addr = banner
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .and_then(|w| w.strip_suffix("/whoami"))
        .unwrap_or_else(|| panic!("no address in {banner:?}"))
        .to_string();
    assert!(banner.contains("http-server.reg"), "{banner}");
    (Server(child), addr)
}

/// `GET /whoami` on `stream`: status, `WWW-Authenticate` values, body.
fn get(stream: &mut BufReader<TcpStream>, auth: Option<&str>) -> (u16, Vec<String>, String) {
    let mut request = "GET /whoami HTTP/1.1\r\nHost: localhost\r\n".to_string();
    if let Some(auth) = auth {
        request.push_str(&format!("Authorization: {auth}\r\n"));
    }
    request.push_str("\r\n");
    stream.get_mut().write_all(request.as_bytes()).unwrap();
    let mut line = String::new();
    stream.read_line(&mut line).unwrap();
    let status = line.split(' ').nth(1).unwrap().parse().unwrap();
    let (mut challenges, mut length) = (Vec::new(), 0);
    loop {
        let mut header = String::new();
        stream.read_line(&mut header).unwrap();
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap();
        if name.eq_ignore_ascii_case("www-authenticate") {
            challenges.push(value.trim().to_string());
        } else if name.eq_ignore_ascii_case("content-length") {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    (status, challenges, String::from_utf8(body).unwrap())
}

#[test]
fn the_shipped_http_server_authenticates_a_kerberos_client_of_the_demo_realm() {
    let (_server, addr) = start();
    let mut stream = BufReader::new(TcpStream::connect(&addr).unwrap());
    let (status, challenges, body) = get(&mut stream, None);
    assert_eq!((status, body.as_str()), (401, ""));
    assert_eq!(challenges, ["Negotiate", "NTLM"]);

    // A client of the demo realm, its KDC on a free port.
    let client = demo_client::client();
    let host = SecurityHost::from_registry_files(&[&client.registry]).unwrap();
    let credentials = host
        .acquire_credentials_handle("Negotiate", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let mut context = None;
    let mut step = |input: Option<&[u8]>| {
        let mut out = vec![0u8; credentials.package_info().max_token as usize];
        let mut output = [SecBuffer::token(&mut out)];
        let inputs = [SecBufferRef::token(input.unwrap_or_default())];
        let inputs: &[SecBufferRef<'_>] = if input.is_some() { &inputs } else { &[] };
        let status = credentials
            .initialize_security_context(
                &mut context,
                Some("HTTP/localhost"),
                IscReq::MUTUAL_AUTH,
                inputs,
                &mut output,
            )
            .unwrap()
            .status;
        (status, output[0].as_slice().to_vec())
    };
    let (_, token) = step(None);
    let auth = format!("Negotiate {}", BASE64.encode(&token));
    let (status, challenges, body) = get(&mut stream, Some(&auth));
    assert_eq!(status, 200, "{challenges:?}");
    assert_eq!(body, "alice@SSPI-PLUG.TEST Kerberos\n");
    let last = BASE64
        .decode(challenges[0].strip_prefix("Negotiate ").unwrap())
        .unwrap();
    assert_eq!(step(Some(&last)).0, SecurityStatus::SEC_E_OK);
}
