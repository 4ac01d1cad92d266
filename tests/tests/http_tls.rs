//! HTTPS with `tls-server-end-point` channel bindings (RFC 5929): our
//! client (`sspi_http::HttpClient`) against `sspi_http::serve_tls`, NTLM and
//! Kerberos through Negotiate, with the bindings right, absent and wrong,
//! under the packages' `RequireChannelBindings` 0 and 1.

#[path = "common/http_fixture.rs"]
mod fixture;

use fixture::{Site, site_tls, site_tls_with};
use sspi_core::CredentialUse;
use sspi_http::{Error, HttpAuthConfig, HttpClient, Scheme};

const REQUIRE: &str = "\"RequireChannelBindings\"=dword:00000001";

/// A client of `site` answering `scheme` only, trusting the site's certificate.
fn client(site: &Site, scheme: Scheme) -> HttpClient {
    let credentials = site
        .host()
        .acquire_credentials_handle(scheme.package(), None, CredentialUse::OUTBOUND, None)
        .expect("client credentials");
    let roots = sspi_http::tls::client_config(site.ca_cert.as_ref().expect("an HTTPS site"))
        .expect("client TLS");
    HttpClient::new()
        .with_credentials(scheme, credentials)
        .with_tls(roots)
}

fn url(site: &Site) -> http::Uri {
    format!("https://localhost:{}/whoami", site.addr.port())
        .parse()
        .unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// GET /whoami: Ok((body, package, bindings sent)) or the client's error.
fn get(
    client: &HttpClient,
    site: &Site,
    bindings: Bindings,
) -> Result<(String, String, bool), Error> {
    runtime().block_on(async {
        let url = url(site);
        let mut connection = client.connect(&url).await?;
        assert_eq!(
            connection.has_channel_bindings(),
            !matches!(bindings, Bindings::None)
        );
        if let Bindings::Wrong = bindings {
            // The bindings of another certificate (a relay's).
            let (other, _) = fixture::localhost_certificate();
            let der = rustls_pem_der(&other);
            let data = sspi_http::channel_bindings::tls_server_end_point(&der).unwrap();
            sspi_http::internal::set_channel_bindings(
                &mut connection,
                Some(sspi_core::sec_channel_bindings(&data)),
            );
        }
        let request = http::Request::get(url).body(bytes::Bytes::new()).unwrap();
        let reply = client.send(&mut connection, request).await?;
        assert_eq!(reply.response.status(), 200, "{reply:?}");
        let how = reply.authentication.expect("authenticated");
        Ok((
            String::from_utf8(reply.response.body().to_vec()).unwrap(),
            how.package,
            how.channel_bindings,
        ))
    })
}

fn rustls_pem_der(pem: &str) -> Vec<u8> {
    use rustls_pki_types::pem::PemObject as _;
    rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

#[derive(Clone, Copy)]
enum Bindings {
    Right,
    None,
    Wrong,
}

fn client_with(site: &Site, scheme: Scheme, bindings: Bindings) -> HttpClient {
    client(site, scheme).with_channel_bindings(!matches!(bindings, Bindings::None))
}

fn assert_refused(result: Result<(String, String, bool), Error>, what: &str) {
    match result {
        Err(Error::Refused { status, .. }) => assert_eq!(status, 401, "{what}"),
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
}

#[test]
fn ntlm_over_tls_with_the_right_bindings_is_accepted_even_when_they_are_required() {
    let site = site_tls(HttpAuthConfig::default(), REQUIRE);
    let (body, package, sent) = get(
        &client_with(&site, Scheme::Ntlm, Bindings::Right),
        &site,
        Bindings::Right,
    )
    .unwrap();
    assert_eq!(body, "SSPI-PLUG\\alice NTLM\n");
    assert_eq!(package, "NTLM");
    assert!(sent);
}

#[test]
fn ntlm_without_bindings_is_accepted_only_when_they_are_not_required() {
    let relaxed = site_tls(HttpAuthConfig::default(), "");
    let (body, _, sent) = get(
        &client_with(&relaxed, Scheme::Ntlm, Bindings::None),
        &relaxed,
        Bindings::None,
    )
    .unwrap();
    assert_eq!(body, "SSPI-PLUG\\alice NTLM\n");
    assert!(!sent);
    let strict = site_tls(HttpAuthConfig::default(), REQUIRE);
    assert_refused(
        get(
            &client_with(&strict, Scheme::Ntlm, Bindings::None),
            &strict,
            Bindings::None,
        ),
        "NTLM without bindings, RequireChannelBindings 1",
    );
}

#[test]
fn ntlm_with_the_bindings_of_another_channel_is_refused() {
    for extra in ["", REQUIRE] {
        let site = site_tls(HttpAuthConfig::default(), extra);
        assert_refused(
            get(
                &client_with(&site, Scheme::Ntlm, Bindings::Wrong),
                &site,
                Bindings::Wrong,
            ),
            &format!("NTLM with wrong bindings ({extra:?})"),
        );
    }
}

#[test]
fn kerberos_through_negotiate_over_tls_binds_the_channel() {
    let site = site_tls_with(HttpAuthConfig::default(), "", REQUIRE);
    let (body, package, sent) = get(
        &client_with(&site, Scheme::Negotiate, Bindings::Right),
        &site,
        Bindings::Right,
    )
    .unwrap();
    assert_eq!(body, "alice@SSPI-PLUG.TEST Kerberos\n");
    assert_eq!(package, "Kerberos");
    assert!(sent);
}

#[test]
fn kerberos_without_or_with_wrong_bindings_is_refused_where_the_rules_say() {
    let relaxed = site_tls_with(HttpAuthConfig::default(), "", "");
    let (body, _, _) = get(
        &client_with(&relaxed, Scheme::Negotiate, Bindings::None),
        &relaxed,
        Bindings::None,
    )
    .unwrap();
    assert_eq!(body, "alice@SSPI-PLUG.TEST Kerberos\n");
    assert_refused(
        get(
            &client_with(&relaxed, Scheme::Negotiate, Bindings::Wrong),
            &relaxed,
            Bindings::Wrong,
        ),
        "Kerberos with wrong bindings, RequireChannelBindings 0",
    );
    // Required: Negotiate must not fall back to an unbound NTLM either, so
    // both packages require them.
    let strict = site_tls_with(HttpAuthConfig::default(), REQUIRE, REQUIRE);
    assert_refused(
        get(
            &client_with(&strict, Scheme::Negotiate, Bindings::None),
            &strict,
            Bindings::None,
        ),
        "Kerberos without bindings, RequireChannelBindings 1",
    );
}

#[test]
fn a_client_that_does_not_trust_the_certificate_never_sends_a_token() {
    let site = site_tls(HttpAuthConfig::default(), "");
    let other = tempfile::tempdir().unwrap();
    let (pem, _) = fixture::localhost_certificate();
    let path = other.path().join("other.pem");
    std::fs::write(&path, pem).unwrap();
    let credentials = site
        .host()
        .acquire_credentials_handle("NTLM", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let client = HttpClient::new()
        .with_credentials(Scheme::Ntlm, credentials)
        .with_tls(sspi_http::tls::client_config(&path).unwrap());
    let error = runtime().block_on(client.get(&url(&site))).unwrap_err();
    assert!(
        matches!(&error, Error::Io { what, .. } if what.contains("TLS handshake")),
        "{error}"
    );
}

#[test]
fn ntlm_inside_spnego_over_tls_binds_the_channel() {
    let site = site_tls_with(HttpAuthConfig::default(), REQUIRE, REQUIRE);
    let credentials = site
        .host()
        .acquire_credentials_handle(
            "Negotiate",
            None,
            CredentialUse::OUTBOUND,
            Some(sspi_core::AuthIdentity::package_list_only("ntlm")),
        )
        .expect("Negotiate credentials limited to NTLM");
    let roots = sspi_http::tls::client_config(site.ca_cert.as_ref().unwrap()).unwrap();
    let spnego_ntlm = HttpClient::new()
        .with_credentials(Scheme::Negotiate, credentials)
        .with_tls(roots);
    let (body, package, sent) = get(&spnego_ntlm, &site, Bindings::Right).unwrap();
    assert_eq!(body, "SSPI-PLUG\\alice NTLM\n");
    assert_eq!(package, "NTLM");
    assert!(sent);
    assert_refused(
        get(
            &spnego_ntlm.with_channel_bindings(false),
            &site,
            Bindings::None,
        ),
        "NTLM inside SPNEGO without bindings, RequireChannelBindings 1",
    );
}
