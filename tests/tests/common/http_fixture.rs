//! An `sspi-http` server for the HTTP tests: the Kerberos, NTLM and Negotiate
//! plugins through a registry file, the embedded KDC (whose database has
//! `HTTP/localhost`, the acceptor's principal), the server on a runtime of
//! its own, and a raw HTTP/1.1 client over a blocking TCP stream.
#![allow(dead_code)]

use sspi_core::{IscReq, SecBuffer, SecBufferRef, SecurityStatus};
use sspi_http::{HttpAuthConfig, HttpAuthenticator, WhoAmI};
use sspi_kdc::{Database, KdcConfig, KdcHandle};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle};
use sspi_tests::RegistryFile;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// The realm.
pub const REALM: &str = "SSPI-PLUG.TEST";
/// The acceptor's principal (curl's SPN for `http://localhost/`).
pub const SERVICE: &str = "HTTP/localhost";

const DATABASE: &str = "\
alice              password alice-password
HTTP/localhost     password http-service-secret
";

/// The KDC, the registry and the HTTP server (stopped on drop).
pub struct Site {
    /// The KDC.
    pub kdc: KdcHandle,
    /// The registry (and its directory, with the keytab).
    pub registry: RegistryFile,
    /// The HTTP server's address.
    pub addr: SocketAddr,
    /// HTTPS sites: the server's self-signed certificate for `localhost`
    /// (PEM), for clients to trust.
    pub ca_cert: Option<std::path::PathBuf>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for Site {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Site {
    /// A host loaded from the registry.
    pub fn host(&self) -> sspi_plugin_host::SecurityHost {
        self.registry.host()
    }
}

fn registry_text(kdc: &str, ntlm_extra: &str, kerberos_extra: &str) -> String {
    format!(
        r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_kerberos.dll, sspi_ntlm.dll, sspi_negotiate.dll"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos]
"DefaultRealm"="{REALM}"
"Keytab"="service.keytab"
"ServicePrincipal"="{SERVICE}"
"DefaultUser"="alice"
"DefaultPassword"="alice-password"
"KdcTimeout"=dword:000003e8
"KdcRetries"=dword:00000000
{kerberos_extra}

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos\Domains\{REALM}]
"KdcNames"="{kdc}"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM]
"NbComputerName"="SERVER"
"NbDomainName"="SSPI-PLUG"
"DnsComputerName"="server.sspi-plug.test"
"DnsDomainName"="sspi-plug.test"
"DefaultDomain"="SSPI-PLUG"
"DefaultUser"="alice"
{ntlm_extra}

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM\Users\alice]
"Password"="alice-password"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Negotiate]
"Packages"="Kerberos, NTLM"
"#
    )
}

/// A site serving `GET /whoami` with `config`.
pub fn site(config: HttpAuthConfig) -> Site {
    site_with(config, "")
}

/// A site whose NTLM key also has the registry lines `ntlm_extra`.
pub fn site_with(config: HttpAuthConfig, ntlm_extra: &str) -> Site {
    start(config, ntlm_extra, "", false)
}

/// An HTTPS site (a self-signed ECDSA P-256 / SHA-256 certificate for
/// `localhost`, in [`Site::ca_cert`]) passing its `tls-server-end-point`
/// channel bindings to the packages; the NTLM key also has `ntlm_extra`.
pub fn site_tls(config: HttpAuthConfig, ntlm_extra: &str) -> Site {
    start(config, ntlm_extra, "", true)
}

/// As [`site_tls`], the Kerberos key also having `kerberos_extra`.
pub fn site_tls_with(config: HttpAuthConfig, ntlm_extra: &str, kerberos_extra: &str) -> Site {
    start(config, ntlm_extra, kerberos_extra, true)
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

/// The embedded KDC (alice, `HTTP/localhost`) and a registry for both sides
/// (its directory holds the acceptor's keytab); the NTLM and Kerberos keys
/// also have `ntlm_extra` / `kerberos_extra`.
pub fn realm(ntlm_extra: &str, kerberos_extra: &str) -> (KdcHandle, RegistryFile) {
    let db = Database::parse(DATABASE, REALM, "test-database").expect("database");
    let keytab = db.keytab(&[SERVICE]).expect("service keytab");
    let kdc =
        KdcHandle::start("127.0.0.1:0".parse().unwrap(), KdcConfig::new(db)).expect("KDC starts");
    let registry = RegistryFile::new(&registry_text(
        &kdc.addr().to_string(),
        ntlm_extra,
        kerberos_extra,
    ));
    std::fs::write(
        registry.dir.path().join("service.keytab"),
        keytab.to_bytes().expect("keytab bytes"),
    )
    .expect("write keytab");
    (kdc, registry)
}

/// One InitializeSecurityContext leg toward [`SERVICE`] with
/// ISC_REQ_MUTUAL_AUTH: the status and the token.
pub fn isc(
    credentials: &CredentialsHandle,
    context: &mut Option<SecurityContextHandle>,
    input: Option<&[u8]>,
) -> (SecurityStatus, Vec<u8>) {
    let mut out = vec![0u8; credentials.package_info().max_token as usize];
    let mut output = [SecBuffer::token(&mut out)];
    let inputs = [SecBufferRef::token(input.unwrap_or_default())];
    let inputs: &[SecBufferRef<'_>] = if input.is_some() { &inputs } else { &[] };
    let step = credentials
        .initialize_security_context(
            context,
            Some(SERVICE),
            IscReq::MUTUAL_AUTH,
            inputs,
            &mut output,
        )
        .expect("InitializeSecurityContext");
    (step.status, output[0].as_slice().to_vec())
}

fn start(config: HttpAuthConfig, ntlm_extra: &str, kerberos_extra: &str, tls: bool) -> Site {
    let (kdc, registry) = realm(ntlm_extra, kerberos_extra);
    let auth = Arc::new(HttpAuthenticator::new(&registry.host(), config).expect("authenticator"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let ca_cert = if tls {
        let (certificate, key) = localhost_certificate();
        let cert_path = registry.dir.path().join("server.pem");
        let key_path = registry.dir.path().join("server.key");
        std::fs::write(&cert_path, certificate).expect("write certificate");
        std::fs::write(&key_path, key).expect("write key");
        let tls = sspi_http::ServerTls::from_pem_files(&cert_path, &key_path).expect("server TLS");
        assert!(tls.channel_bindings().is_some());
        runtime.spawn(sspi_http::serve_tls(listener, tls, auth, WhoAmI));
        Some(cert_path)
    } else {
        runtime.spawn(sspi_http::serve(listener, auth, WhoAmI));
        None
    };
    Site {
        kdc,
        registry,
        addr,
        ca_cert,
        runtime: Some(runtime),
    }
}

/// A response.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The `WWW-Authenticate` values, in order.
    pub challenges: Vec<String>,
    /// The body.
    pub body: String,
}

impl Reply {
    /// The token of the only `WWW-Authenticate: SCHEME <base64>`.
    pub fn token(&self, scheme: &str) -> Vec<u8> {
        use base64::Engine as _;
        assert_eq!(self.challenges.len(), 1, "{self:?}");
        let data = self.challenges[0]
            .strip_prefix(&format!("{scheme} "))
            .unwrap_or_else(|| panic!("not a {scheme} token: {self:?}"));
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64")
    }
}

/// A keep-alive HTTP/1.1 connection.
pub struct Connection {
    reader: BufReader<TcpStream>,
}

impl Connection {
    /// Connects to `addr`.
    pub fn open(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Self {
            reader: BufReader::new(stream),
        }
    }

    /// `GET path` with an `Authorization` header value (raw).
    pub fn get(&mut self, path: &str, authorization: Option<&str>) -> Reply {
        self.try_get(path, authorization).expect("a response")
    }

    /// As [`Self::get`], `None` when the server closed the connection.
    pub fn try_get(&mut self, path: &str, authorization: Option<&str>) -> Option<Reply> {
        let mut request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n");
        if let Some(value) = authorization {
            request.push_str(&format!("Authorization: {value}\r\n"));
        }
        request.push_str("\r\n");
        self.reader.get_mut().write_all(request.as_bytes()).ok()?;
        let mut line = String::new();
        if self.reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let status: u16 = line.split(' ').nth(1)?.parse().ok()?;
        let mut challenges = Vec::new();
        let mut length = 0usize;
        loop {
            let mut header = String::new();
            self.reader.read_line(&mut header).ok()?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':')?;
            let value = value.trim().to_string();
            if name.eq_ignore_ascii_case("www-authenticate") {
                challenges.push(value);
            } else if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().ok()?;
            }
        }
        let mut body = vec![0u8; length];
        self.reader.read_exact(&mut body).ok()?;
        Some(Reply {
            status,
            challenges,
            body: String::from_utf8(body).ok()?,
        })
    }
}

/// `SCHEME base64(token)`.
pub fn authorization(scheme: &str, token: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "{scheme} {}",
        base64::engine::general_purpose::STANDARD.encode(token)
    )
}
