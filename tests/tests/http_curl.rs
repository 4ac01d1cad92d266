//! Debian's curl against `sspi-http`: `curl --ntlm -u 'DOMAIN\user:password'`
//! (curl's own NTLM) and `curl --negotiate -u :` after MIT `kinit alice`
//! against the embedded KDC (SPNEGO through MIT's GSS-API, SPN
//! `HTTP@localhost`), over HTTP and over HTTPS against a server with
//! channel bindings (curl 7.88 sends none: refused where
//! `RequireChannelBindings` is 1).
//!
//! Without curl (with NTLM and GSS-API) or MIT's kinit the tests print a loud
//! notice and pass without checking anything, except under CI (`CI=true`),
//! where they fail; `scripts/mit-krb5/install.sh` installs both.

#[path = "common/http_fixture.rs"]
mod fixture;
#[path = "common/peers.rs"]
mod peers;

use fixture::{REALM, site, site_tls, site_tls_with, site_with};
use peers::{MitClient, curl, missing_tools, present, tool};
use sspi_http::HttpAuthConfig;
use std::process::Command;

/// `Some(())` when `tools` exist and curl has `features`; else a loud
/// notice (a failure under CI) and `None`.
fn needs(test: &str, tools: &[&str], features: &[&str]) -> Option<()> {
    let mut missing = missing_tools(tools);
    if let Some(curl) = tool("curl") {
        let version = Command::new(curl).arg("-V").output().ok();
        let text = version
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let line = text
            .lines()
            .find(|l| l.starts_with("Features:"))
            .unwrap_or("");
        for feature in features {
            if !line.split_whitespace().any(|f| f == *feature) {
                missing.push(format!("curl feature {feature}"));
            }
        }
    }
    present(test, &missing, "scripts/mit-krb5/install.sh")
}

/// Debian 12's curl 7.88.1 (its own NTLM) sends an OEM-only
/// NEGOTIATE_MESSAGE (flags 0x00088206, no NTLMSSP_NEGOTIATE_UNICODE): the
/// package answers in Unicode and curl follows the CHALLENGE's choice. curl
/// makes no MIC, so the server needs `RequireMic` 0; with the default it is
/// refused.
#[test]
fn curl_ntlm_with_the_registrys_user_gets_whoami() {
    let Some(()) = needs("curl_ntlm", &["curl"], &["NTLM"]) else {
        return;
    };
    let strict = site(HttpAuthConfig::default());
    let url = format!("http://{}/whoami", strict.addr);
    let (status, _) = curl(
        &["--ntlm", "-u", "SSPI-PLUG\\alice:alice-password", &url],
        &[],
    );
    assert_eq!(
        status, "401",
        "RequireMic 1 refuses curl's AUTHENTICATE (no MIC)"
    );

    let site = site_with(HttpAuthConfig::default(), "\"RequireMic\"=dword:00000000");
    let url = format!("http://{}/whoami", site.addr);
    let (status, body) = curl(
        &["--ntlm", "-u", "SSPI-PLUG\\alice:alice-password", &url],
        &[],
    );
    assert_eq!(status, "200", "{body}");
    assert_eq!(body, "SSPI-PLUG\\alice NTLM\n");

    let (status, body) = curl(
        &["--ntlm", "-u", "SSPI-PLUG\\alice:wrong-password", &url],
        &[],
    );
    assert_eq!(status, "401");
    assert!(body.is_empty(), "{body}");
}

#[test]
fn curl_negotiate_after_mit_kinit_gets_whoami_through_kerberos() {
    let Some(()) = needs("curl_negotiate", &["curl", "kinit"], &["GSS-API", "SPNEGO"]) else {
        return;
    };
    let site = site(HttpAuthConfig::default());
    let mit = MitClient::new(REALM, site.kdc.addr());
    let env = mit.env("ccache");

    // Without a ticket curl's GSS step fails and it goes on unauthenticated.
    let url = format!("http://localhost:{}/whoami", site.addr.port());
    let (status, _) = curl(&["--negotiate", "-u", ":", &url], &env);
    assert_eq!(status, "401");

    mit.kinit("ccache", &format!("alice@{REALM}"), "alice-password");
    let (status, body) = curl(&["--negotiate", "-u", ":", &url], &env);
    assert_eq!(status, "200", "{body}");
    assert_eq!(body, format!("alice@{REALM} Kerberos\n"));
}

/// curl's version as (major, minor).
fn curl_version() -> (u32, u32) {
    let out = Command::new(tool("curl").unwrap())
        .arg("-V")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let version = text.split_whitespace().nth(1).unwrap_or("0.0");
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

const REQUIRE_BINDINGS: &str = "\"RequireChannelBindings\"=dword:00000001";
const NO_MIC: &str = "\"RequireMic\"=dword:00000000";

/// curl's own NTLM sends no channel bindings (`lib/vauth/ntlm.c` has no
/// MsvAvChannelBindings): over HTTPS it is accepted where bindings are not
/// required, refused where `RequireChannelBindings` is 1.
#[test]
fn curl_ntlm_over_tls_is_refused_where_channel_bindings_are_required() {
    let Some(()) = needs("curl_ntlm_tls", &["curl"], &["NTLM", "SSL"]) else {
        return;
    };
    for (extra, expected) in [
        (NO_MIC.to_string(), "200"),
        (format!("{NO_MIC}\n{REQUIRE_BINDINGS}"), "401"),
    ] {
        let site = site_tls(HttpAuthConfig::default(), &extra);
        let ca = site.ca_cert.clone().unwrap();
        let url = format!("https://localhost:{}/whoami", site.addr.port());
        let (status, body) = curl(
            &[
                "--cacert",
                ca.to_str().unwrap(),
                "--ntlm",
                "-u",
                "SSPI-PLUG\\alice:alice-password",
                &url,
            ],
            &[],
        );
        assert_eq!(status, expected, "{extra}: {body}");
        if expected == "200" {
            assert_eq!(body, "SSPI-PLUG\\alice NTLM\n");
        }
    }
}

/// curl binds GSS-API contexts to TLS only from 8.10.0 (Debian 12 has
/// 7.88.1): an older curl is accepted over HTTPS only where bindings are
/// not required; a newer one everywhere.
#[test]
fn curl_negotiate_over_tls_meets_require_channel_bindings() {
    let Some(()) = needs(
        "curl_negotiate_tls",
        &["curl", "kinit"],
        &["GSS-API", "SPNEGO", "SSL"],
    ) else {
        return;
    };
    let binds = curl_version() >= (8, 10);
    for (extra, expected) in [
        ("", "200"),
        (REQUIRE_BINDINGS, if binds { "200" } else { "401" }),
    ] {
        let site = site_tls_with(HttpAuthConfig::default(), extra, extra);
        let mit = MitClient::new(REALM, site.kdc.addr());
        let env = mit.env("ccache");
        mit.kinit("ccache", &format!("alice@{REALM}"), "alice-password");
        let ca = site.ca_cert.clone().unwrap();
        let url = format!("https://localhost:{}/whoami", site.addr.port());
        let (status, body) = curl(
            &[
                "--cacert",
                ca.to_str().unwrap(),
                "--negotiate",
                "-u",
                ":",
                &url,
            ],
            &env,
        );
        assert_eq!(status, expected, "{extra:?}: {body}");
        if expected == "200" {
            assert_eq!(body, format!("alice@{REALM} Kerberos\n"));
        }
    }
}
