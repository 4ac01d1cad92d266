//! Python `requests` against `sspi-http`: requests-gssapi (`HTTPSPNEGOAuth`,
//! SPNEGO through MIT GSS-API after MIT `kinit alice` against the embedded
//! KDC, mutual authentication REQUIRED so the AP-REP on the `200` is
//! verified) and requests-ntlm 1.3.0 (`HttpNtlmAuth`, pyspnego's pure-Python
//! NTLM, which makes a MIC), over HTTP and over HTTPS with
//! `tls-server-end-point` channel bindings (right, absent, wrong) under the
//! packages' `RequireChannelBindings` 0 and 1. Each run is one process of
//! `scripts/http-python/requests_peer.py` (one GET), by the Python of the
//! virtualenv that `scripts/http-python/install.sh` makes.
//!
//! Without those clients (or MIT's kinit) the tests print a loud notice and
//! pass without checking anything, except under CI (`CI=true`), where they
//! fail; `scripts/http-python/install.sh` installs them.

#[path = "common/http_fixture.rs"]
mod fixture;
#[path = "common/peers.rs"]
mod peers;

use fixture::{REALM, site, site_tls, site_tls_with};
use peers::{MitClient, missing_tools, present};
use sspi_http::{HttpAuthConfig, Scheme};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The versions `scripts/http-python/install.sh` pins (its directory name).
const REQUESTS_GSSAPI_VERSION: &str = "1.4.0";
const REQUESTS_NTLM_VERSION: &str = "1.3.0";

/// The user requests-ntlm logs in as, and the name the server reports.
const NTLM_USER: &str = "SSPI-PLUG\\alice";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `${SSPI_PEERS_DIR:-$HOME/.cache/sspi-plug/peers}/http-python-gssapi<v>-ntlm<v>`.
fn venv() -> PathBuf {
    let base = std::env::var_os("SSPI_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // Without HOME the clients are simply not found (a loud notice).
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/HOME-is-not-set".into()))
                .join(".cache/sspi-plug/peers")
        });
    base.join(format!(
        "http-python-gssapi{REQUESTS_GSSAPI_VERSION}-ntlm{REQUESTS_NTLM_VERSION}"
    ))
}

/// Fails the test if `dir` or a directory above it is writable by another
/// user (group or others, except a sticky directory owned by root such as
/// /tmp): the clients' code must not come from such a place.
fn private(dir: &Path) {
    use std::os::unix::fs::MetadataExt;
    for d in dir.ancestors() {
        let Ok(m) = std::fs::metadata(d) else {
            continue;
        };
        let sticky_root = m.mode() & 0o1000 != 0 && m.uid() == 0;
        assert!(
            m.mode() & 0o022 == 0 || sticky_root,
            "{} is writable by other users (mode {:o}): reinstall with scripts/http-python/install.sh elsewhere (SSPI_PEERS_DIR)",
            d.display(),
            m.mode() & 0o7777
        );
    }
}

/// The virtualenv's Python when it has both clients (and `tools` exist);
/// else a loud notice (a failure under CI) and `None`.
fn needs(test: &str, tools: &[&str]) -> Option<PathBuf> {
    let python = venv().join("bin/python");
    let mut missing = missing_tools(tools);
    let imports = Command::new(&python)
        .args([
            "-c",
            "import requests, requests_gssapi, requests_ntlm, spnego",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !imports {
        missing.push(format!(
            "requests-gssapi and requests-ntlm in {}",
            venv().display()
        ));
    }
    present(test, &missing, "scripts/http-python/install.sh")?;
    private(&venv());
    Some(python)
}

/// What one run of `requests_peer.py` did.
#[derive(Debug)]
struct Run {
    /// The exit code: 0 a 2xx, 2 refused, 1 another failure.
    code: i32,
    /// stdout: `status: CODE` and the body (only on a 2xx).
    stdout: String,
    /// stderr: the summary line (scheme, mechanism, legs, bindings) or the error.
    stderr: String,
}

impl Run {
    fn assert_ok(&self, body: &str) {
        assert_eq!(self.code, 0, "{self:#?}");
        assert_eq!(self.stdout, format!("status: 200\n{body}\n"), "{self:#?}");
    }

    fn assert_refused(&self) {
        assert_eq!(self.code, 2, "{self:#?}");
        assert!(self.stdout.is_empty(), "{self:#?}");
    }

    fn says(&self, fragment: &str) -> bool {
        self.stderr.contains(fragment)
    }
}

/// Runs the peer with `args` and `env`.
fn peer(python: &Path, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Run {
    let output = Command::new(python)
        .arg(repo().join("scripts/http-python/requests_peer.py"))
        .args(args)
        .envs(env.iter().copied())
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("https_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("all_proxy")
        .env_remove("ALL_PROXY")
        .stdin(Stdio::null())
        .output()
        .expect("the Python peer runs");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    // Shown with --nocapture (and on a failure): what each client did.
    eprintln!("requests_peer {args:?}: exit {}\n{}", run.code, run.stderr);
    run
}

/// requests-ntlm as `NTLM_USER` with `password`, and `extra` arguments.
fn ntlm(python: &Path, url: &str, password: &str, extra: &[&str]) -> Run {
    let mut args = vec![url, "--auth", "ntlm", "--user", NTLM_USER];
    args.extend_from_slice(extra);
    peer(
        python,
        &args,
        &[("SSPI_PASSWORD", std::ffi::OsStr::new(password))],
    )
}

/// An MIT client set-up for the site's KDC (krb5.conf, the ccache
/// `ccache`, the replay cache) and requests-gssapi in it.
struct Mit(MitClient);

impl Mit {
    fn new(kdc: std::net::SocketAddr) -> Self {
        Self(MitClient::new(REALM, kdc))
    }

    fn env(&self) -> Vec<(&'static str, PathBuf)> {
        self.0.env("ccache")
    }

    /// MIT `kinit alice@REALM`.
    fn kinit(&self) {
        self.0
            .kinit("ccache", &format!("alice@{REALM}"), "alice-password");
    }

    /// requests-gssapi with `args`, in this set-up.
    fn gssapi(&self, python: &Path, url: &str, args: &[&str]) -> Run {
        let mut all = vec![url, "--auth", "gssapi"];
        all.extend_from_slice(args);
        let env = self.env();
        let env: Vec<(&str, &std::ffi::OsStr)> =
            env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
        peer(python, &all, &env)
    }
}

fn config(schemes: &[Scheme]) -> HttpAuthConfig {
    HttpAuthConfig {
        schemes: schemes.to_vec(),
        ..HttpAuthConfig::default()
    }
}

/// requests-gssapi answers the bare `Negotiate` challenge with an SPNEGO
/// NegTokenInit (Kerberos AP-REQ inside, from the ticket of `kinit`); with
/// `mutual_authentication=REQUIRED` it steps MIT's context with the
/// `WWW-Authenticate: Negotiate` token on the `200` (the AP-REP) and would
/// raise MutualAuthenticationError (exit 2) if it were missing or wrong.
/// Without a ticket its GSS step fails and the `401` stands.
#[test]
fn requests_gssapi_after_kinit_gets_whoami_with_mutual_auth_required() {
    let Some(python) = needs("requests_gssapi", &["kinit"]) else {
        return;
    };
    let site = site(HttpAuthConfig::default());
    let mit = Mit::new(site.kdc.addr());
    let url = format!("http://localhost:{}/whoami", site.addr.port());

    let run = mit.gssapi(&python, &url, &["--mutual", "required"]);
    run.assert_refused();
    assert!(run.says("no token could be made"), "{run:#?}");

    mit.kinit();
    let run = mit.gssapi(&python, &url, &["--mutual", "required"]);
    run.assert_ok(&format!("alice@{REALM} Kerberos"));
    assert!(
        run.says("scheme=Negotiate, mechanism=SPNEGO (NegTokenInit, first mechanism Kerberos)"),
        "{run:#?}"
    );
    assert!(
        run.says("legs=2, final-token=yes, mutual=verified"),
        "{run:#?}"
    );

    // OPTIONAL verifies the token too when there is one.
    let run = mit.gssapi(&python, &url, &["--mutual", "optional"]);
    run.assert_ok(&format!("alice@{REALM} Kerberos"));
    assert!(run.says("mutual=verified"), "{run:#?}");
}

/// A server that offers only `NTLM` gives requests-gssapi nothing to answer:
/// the `401` stands (exit 2), even with a ticket.
#[test]
fn requests_gssapi_against_an_ntlm_only_server_is_refused() {
    let Some(python) = needs("requests_gssapi_ntlm_only", &["kinit"]) else {
        return;
    };
    let site = site(config(&[Scheme::Ntlm]));
    let mit = Mit::new(site.kdc.addr());
    mit.kinit();
    let url = format!("http://localhost:{}/whoami", site.addr.port());
    let run = mit.gssapi(&python, &url, &["--mutual", "required"]);
    run.assert_refused();
    assert!(run.says("no Authorization sent"), "{run:#?}");
}

/// requests-ntlm with the right password: three legs on one keep-alive
/// connection, a MIC in the AUTHENTICATE_MESSAGE (so the NTLM package's
/// default `RequireMic` 1 accepts it). The wrong password is a `401`.
/// The server offers `Negotiate` and `NTLM`; requests-ntlm picks `NTLM`
/// (a substring search for "ntlm" in the joined challenges wins).
#[test]
fn requests_ntlm_with_the_registrys_user_gets_whoami() {
    let Some(python) = needs("requests_ntlm", &[]) else {
        return;
    };
    let site = site(HttpAuthConfig::default());
    let url = format!("http://localhost:{}/whoami", site.addr.port());

    let run = ntlm(&python, &url, "alice-password", &[]);
    run.assert_ok(&format!("{NTLM_USER} NTLM"));
    assert!(
        run.says("scheme=NTLM, mechanism=NTLM (raw NTLMSSP, message 3), channel-bindings=absent, mic=yes, legs=3, final-token=no, context=NTLMProxy"),
        "{run:#?}"
    );

    let run = ntlm(&python, &url, "wrong-password", &[]);
    run.assert_refused();
    assert!(run.says("401 after our token"), "{run:#?}");
}

/// With only one scheme offered, requests-ntlm uses that scheme's word:
/// under `Negotiate` it still sends raw NTLMSSP (not SPNEGO), which the
/// Negotiate package takes as NTLM; under `NTLM` alone it is the plain
/// NTLM dance. Both authenticate; the wrong password is refused under both.
#[test]
fn requests_ntlm_under_either_scheme_alone() {
    let Some(python) = needs("requests_ntlm_schemes", &[]) else {
        return;
    };
    for (scheme, word) in [(Scheme::Negotiate, "Negotiate"), (Scheme::Ntlm, "NTLM")] {
        let site = site(config(&[scheme]));
        let url = format!("http://localhost:{}/whoami", site.addr.port());
        let run = ntlm(&python, &url, "alice-password", &[]);
        run.assert_ok(&format!("{NTLM_USER} NTLM"));
        assert!(
            run.says(&format!(
                "scheme={word}, mechanism=NTLM (raw NTLMSSP, message 3)"
            )),
            "{word}: {run:#?}"
        );
        ntlm(&python, &url, "wrong-password", &[]).assert_refused();
    }
}

/// What [`tampering_proxy`] does to the `WWW-Authenticate` of a `200`.
#[derive(Clone, Copy, Debug)]
enum Tamper {
    /// Removes the field (no final token).
    Strip,
    /// Flips a bit in the last byte of the token (inside the AP-REP's
    /// encrypted part or the mechListMIC).
    Corrupt,
}

/// A man in the middle between the client and `upstream`: requests pass
/// unchanged; each response's head is read, and on a `200` its
/// `WWW-Authenticate` is changed as `tamper` says; bodies pass unchanged.
fn tampering_proxy(upstream: std::net::SocketAddr, tamper: Tamper) -> std::net::SocketAddr {
    use base64::Engine as _;
    use std::io::{BufRead, BufReader, Read};
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect(upstream) else {
                return;
            };
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_in, &mut s_out);
                let _ = s_out.shutdown(std::net::Shutdown::Write);
            });
            std::thread::spawn(move || {
                let mut from = BufReader::new(server);
                let mut to = client;
                loop {
                    let mut head = String::new();
                    let mut length = 0usize;
                    let mut ok = false;
                    loop {
                        let mut line = String::new();
                        if from.read_line(&mut line).unwrap_or(0) == 0 {
                            let _ = to.shutdown(std::net::Shutdown::Write);
                            return;
                        }
                        if head.is_empty() {
                            ok = line.split(' ').nth(1) == Some("200");
                        }
                        let lower = line.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if ok && lower.starts_with("www-authenticate:") {
                            match tamper {
                                Tamper::Strip => continue,
                                Tamper::Corrupt => {
                                    let value = line["www-authenticate:".len()..].trim();
                                    let (scheme, data) = value.split_once(' ').unwrap();
                                    let mut token = base64::engine::general_purpose::STANDARD
                                        .decode(data)
                                        .unwrap();
                                    *token.last_mut().unwrap() ^= 1;
                                    line = format!(
                                        "WWW-Authenticate: {scheme} {}\r\n",
                                        base64::engine::general_purpose::STANDARD.encode(&token)
                                    );
                                }
                            }
                        }
                        let end = line == "\r\n";
                        head.push_str(&line);
                        if end {
                            break;
                        }
                    }
                    let mut body = vec![0u8; length];
                    if from.read_exact(&mut body).is_err()
                        || to.write_all(head.as_bytes()).is_err()
                        || to.write_all(&body).is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// The `200`'s final token really is checked by MIT GSS-API under
/// `mutual_authentication=REQUIRED`, and the body is not given out (exit 2)
/// when it fails: through a proxy that strips it, requests-gssapi raises
/// MutualAuthenticationError; through one that flips one bit of it, MIT's
/// step fails ("Decrypt integrity check failed") but python-gssapi defers
/// the error and requests-gssapi 1.4.0 returns the `200` as authenticated;
/// the peer's own check of the context (complete, mutual) catches it. With
/// mutual authentication DISABLED the same proxies let the `200` through
/// (the proxy itself breaks nothing else).
#[test]
fn requests_gssapi_refuses_a_missing_or_altered_final_token() {
    let Some(python) = needs("requests_gssapi_final_token", &["kinit"]) else {
        return;
    };
    let site = site(HttpAuthConfig::default());
    let mit = Mit::new(site.kdc.addr());
    mit.kinit();
    for tamper in [Tamper::Strip, Tamper::Corrupt] {
        let proxy = tampering_proxy(site.addr, tamper);
        let url = format!("http://localhost:{}/whoami", proxy.port());
        let run = mit.gssapi(&python, &url, &["--mutual", "required"]);
        run.assert_refused();
        let why = match tamper {
            Tamper::Strip => "MutualAuthenticationError",
            Tamper::Corrupt => "the server's final token did not verify",
        };
        assert!(run.says(why), "{tamper:?}: {run:#?}");
        let run = mit.gssapi(&python, &url, &["--mutual", "disabled"]);
        run.assert_ok(&format!("alice@{REALM} Kerberos"));
    }
}

const REQUIRE_CB: &str = "\"RequireChannelBindings\"=dword:00000001";

/// The `--ca-cert` of an HTTPS site: its self-signed certificate.
fn ca(site: &fixture::Site) -> String {
    let path = site.ca_cert.as_ref().expect("an HTTPS site");
    path.to_str().expect("a UTF-8 path").to_string()
}

/// requests-ntlm over https (the server's `tls-server-end-point` bindings
/// go to AcceptSecurityContext) against an NTLM key with
/// `RequireChannelBindings` 1: `send_cbt=True` (requests-ntlm's default;
/// MsvAvChannelBindings in the AUTHENTICATE_MESSAGE) is a `200`,
/// `send_cbt=False` a `401`, and bindings of another certificate (one bit
/// of the hash flipped, as behind a TLS man in the middle) a `401`. With
/// `RequireChannelBindings` 0 the client without bindings is let in, the
/// one with wrong bindings still is not.
#[test]
fn requests_ntlm_over_tls_with_channel_bindings() {
    let Some(python) = needs("requests_ntlm_tls", &[]) else {
        return;
    };
    let body = format!("{NTLM_USER} NTLM");
    for (require, ntlm_extra) in [(true, REQUIRE_CB), (false, "")] {
        let site = site_tls(HttpAuthConfig::default(), ntlm_extra);
        let url = format!("https://localhost:{}/whoami", site.addr.port());
        let ca = ca(&site);

        let run = ntlm(&python, &url, "alice-password", &["--ca-cert", &ca]);
        run.assert_ok(&body);
        assert!(run.says("channel-bindings=sent, mic=yes"), "{run:#?}");

        let run = ntlm(
            &python,
            &url,
            "alice-password",
            &["--ca-cert", &ca, "--no-channel-bindings"],
        );
        assert!(run.says("channel-bindings=absent"), "{run:#?}");
        if require {
            run.assert_refused();
        } else {
            run.assert_ok(&body);
        }

        let run = ntlm(
            &python,
            &url,
            "alice-password",
            &["--ca-cert", &ca, "--wrong-channel-bindings"],
        );
        assert!(run.says("channel-bindings=sent"), "{run:#?}");
        run.assert_refused();

        // The wrong password stays wrong over TLS.
        ntlm(&python, &url, "wrong-password", &["--ca-cert", &ca]).assert_refused();
    }
}

/// Under a `Negotiate`-only https server, requests-ntlm's raw NTLMSSP (with
/// the word `Negotiate`) carries its bindings to the NTLM package through
/// Negotiate: `RequireChannelBindings` 1 lets it in with them, not without.
#[test]
fn requests_ntlm_under_negotiate_over_tls_with_channel_bindings() {
    let Some(python) = needs("requests_ntlm_negotiate_tls", &[]) else {
        return;
    };
    let site = site_tls(config(&[Scheme::Negotiate]), REQUIRE_CB);
    let url = format!("https://localhost:{}/whoami", site.addr.port());
    let ca = ca(&site);
    let run = ntlm(&python, &url, "alice-password", &["--ca-cert", &ca]);
    run.assert_ok(&format!("{NTLM_USER} NTLM"));
    assert!(
        run.says(
            "scheme=Negotiate, mechanism=NTLM (raw NTLMSSP, message 3), channel-bindings=sent"
        ),
        "{run:#?}"
    );
    ntlm(
        &python,
        &url,
        "alice-password",
        &["--ca-cert", &ca, "--no-channel-bindings"],
    )
    .assert_refused();
}

/// requests-gssapi over https with `channel_bindings="tls-server-end-point"`
/// (the Bnd checksum of the Kerberos authenticator) against a Kerberos key
/// with `RequireChannelBindings` 1: a `200` with the AP-REP verified;
/// without bindings a `401`; with wrong ones a `401`. With
/// `RequireChannelBindings` 0, no bindings pass and wrong ones do not.
#[test]
fn requests_gssapi_over_tls_with_channel_bindings() {
    let Some(python) = needs("requests_gssapi_tls", &["kinit"]) else {
        return;
    };
    let body = format!("alice@{REALM} Kerberos");
    for require in [true, false] {
        let extra = if require { REQUIRE_CB } else { "" };
        let site = site_tls_with(HttpAuthConfig::default(), "", extra);
        let mit = Mit::new(site.kdc.addr());
        mit.kinit();
        let url = format!("https://localhost:{}/whoami", site.addr.port());
        let ca = ca(&site);

        let run = mit.gssapi(&python, &url, &["--ca-cert", &ca, "--channel-bindings"]);
        run.assert_ok(&body);
        assert!(run.says("final-token=yes, mutual=verified"), "{run:#?}");

        let run = mit.gssapi(&python, &url, &["--ca-cert", &ca]);
        if require {
            run.assert_refused();
            assert!(run.says("401 after our token"), "{run:#?}");
        } else {
            run.assert_ok(&body);
        }

        let run = mit.gssapi(
            &python,
            &url,
            &["--ca-cert", &ca, "--wrong-channel-bindings"],
        );
        run.assert_refused();
        assert!(run.says("401 after our token"), "{run:#?}");
    }
}

/// The clients trust only `--ca-cert`: without it the server's self-signed
/// certificate is refused before any authentication (exit 1, a TLS error).
#[test]
fn requests_over_tls_refuses_an_untrusted_certificate() {
    let Some(python) = needs("requests_tls_untrusted", &[]) else {
        return;
    };
    let site = site_tls(HttpAuthConfig::default(), "");
    let url = format!("https://localhost:{}/whoami", site.addr.port());
    let run = ntlm(&python, &url, "alice-password", &[]);
    assert_eq!(run.code, 1, "{run:#?}");
    assert!(run.says("TLS failed"), "{run:#?}");
}
