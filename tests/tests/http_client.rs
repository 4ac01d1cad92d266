//! `sspi_http::HttpClient` against servers that do not play fair: one that
//! answers `200` to any token without proving itself (no final token, or a
//! forged one), one that refuses, one that offers nothing we have. The
//! client must not hand out such a response as authenticated.

#[path = "common/http_fixture.rs"]
mod fixture;

use bytes::Bytes;
use http::header::WWW_AUTHENTICATE;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use sspi_core::CredentialUse;
use sspi_http::{Error, HttpAuthConfig, HttpClient, Scheme};
use std::convert::Infallible;

/// What the impostor answers to a request carrying `Authorization`.
#[derive(Clone, Copy)]
enum Impostor {
    /// `200` and no token: it never checked the ticket.
    AcceptWithoutToken,
    /// `200` with a token it made up.
    AcceptWithForgedToken,
    /// `401` and the bare challenge.
    Refuse,
    /// Only `Basic` is offered.
    OfferBasic,
}

fn answer(mode: Impostor, request: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::from("secret-looking body\n"));
    let challenge = |r: &mut Response<Full<Bytes>>, value: &'static str| {
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        r.headers_mut()
            .insert(WWW_AUTHENTICATE, http::HeaderValue::from_static(value));
    };
    match (mode, request.headers().contains_key("authorization")) {
        (Impostor::OfferBasic, _) => challenge(&mut response, "Basic realm=\"x\""),
        (_, false) | (Impostor::Refuse, true) => challenge(&mut response, "Negotiate"),
        (Impostor::AcceptWithoutToken, true) => {}
        (Impostor::AcceptWithForgedToken, true) => {
            // An SPNEGO accept-completed carrying garbage as its response token.
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Negotiate oRQwEqADCgEAoQsGCSqGSIb3EgECAg=="),
            );
        }
    }
    response
}

/// Runs `mode`'s impostor and a Negotiate (Kerberos, mutual) client of the
/// realm against it: the client's result.
fn against(mode: Impostor) -> Result<sspi_http::AuthenticatedResponse, Error> {
    let site = fixture::site(HttpAuthConfig::default());
    let credentials = site
        .host()
        .acquire_credentials_handle("Negotiate", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let client = HttpClient::new().with_credentials(Scheme::Negotiate, credentials);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let service = hyper::service::service_fn(move |request| async move {
                    Ok::<_, Infallible>(answer(mode, &request))
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        let url = format!("http://localhost:{port}/whoami").parse().unwrap();
        client.get(&url).await
    })
}

#[test]
fn a_200_without_the_final_token_is_not_trusted() {
    match against(Impostor::AcceptWithoutToken) {
        Err(Error::MutualAuthentication(why)) => {
            assert!(why.contains("without the token"), "{why}")
        }
        other => panic!("expected a mutual authentication failure, got {other:?}"),
    }
}

#[test]
fn a_200_with_a_forged_final_token_is_not_trusted() {
    match against(Impostor::AcceptWithForgedToken) {
        Err(Error::MutualAuthentication(_)) => {}
        other => panic!("expected a mutual authentication failure, got {other:?}"),
    }
}

#[test]
fn a_bare_challenge_after_our_token_is_a_refusal() {
    match against(Impostor::Refuse) {
        Err(Error::Refused { scheme, status }) => {
            assert_eq!(
                (scheme, status),
                (Scheme::Negotiate, StatusCode::UNAUTHORIZED)
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_server_offering_no_scheme_of_ours_is_named() {
    match against(Impostor::OfferBasic) {
        Err(e @ Error::NoUsableScheme { .. }) => {
            assert_eq!(
                e.to_string(),
                "the server offers none of our schemes (it offers: Basic)"
            );
        }
        other => panic!("expected no usable scheme, got {other:?}"),
    }
}
