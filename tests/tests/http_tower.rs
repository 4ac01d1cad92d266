//! The tower path: an axum `Router` behind `sspi_http::AuthLayer` (applied
//! per connection, served by hyper through hyper-util's
//! `TowerToHyperService`, as the crate's `axum_whoami` example does), with
//! our `HttpClient`: NTLM's three legs and Kerberos through Negotiate reach
//! the handler's `Authenticated` extension; a second request on the
//! authenticated connection needs no new handshake.

#[path = "common/http_fixture.rs"]
mod fixture;

use axum::routing::get;
use axum::{Extension, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use sspi_core::CredentialUse;
use sspi_http::{AuthLayer, Authenticated, HttpAuthConfig, HttpAuthenticator, HttpClient, Scheme};
use std::sync::Arc;
use tower_layer::Layer as _;

async fn whoami(Extension(who): Extension<Authenticated>) -> String {
    format!("axum: {} {}\n", who.name, who.package)
}

#[test]
fn an_axum_router_behind_auth_layer_sees_the_authenticated_client() {
    let site = fixture::site(HttpAuthConfig::default());
    let host = site.host();
    let auth = Arc::new(HttpAuthenticator::new(&host, HttpAuthConfig::default()).unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let app = Router::new().route("/whoami", get(whoami));
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let service = AuthLayer::new(Arc::clone(&auth), None).layer(app.clone());
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)),
                );
            }
        });
        let url: http::Uri = format!("http://localhost:{port}/whoami").parse().unwrap();
        for (scheme, body, package) in [
            (Scheme::Ntlm, "axum: SSPI-PLUG\\alice NTLM\n", "NTLM"),
            (
                Scheme::Negotiate,
                "axum: alice@SSPI-PLUG.TEST Kerberos\n",
                "Kerberos",
            ),
        ] {
            let credentials = host
                .acquire_credentials_handle(scheme.package(), None, CredentialUse::OUTBOUND, None)
                .unwrap();
            let client = HttpClient::new().with_credentials(scheme, credentials);
            let mut connection = client.connect(&url).await.unwrap();
            let request = || {
                http::Request::get(url.clone())
                    .body(bytes::Bytes::new())
                    .unwrap()
            };
            let reply = client.send(&mut connection, request()).await.unwrap();
            assert_eq!(reply.response.status(), 200);
            assert_eq!(reply.response.body().as_ref(), body.as_bytes());
            let how = reply.authentication.expect("authenticated");
            assert_eq!(how.package, package);
            assert_eq!(how.mutual, scheme == Scheme::Negotiate);
            // The connection stays authenticated: no challenge, same client.
            let again = client.send(&mut connection, request()).await.unwrap();
            assert_eq!(again.response.status(), 200);
            assert!(again.authentication.is_none());
            assert_eq!(again.response.body().as_ref(), body.as_bytes());
            // A new connection is challenged again (and authenticates).
            let fresh = client.get(&url).await.unwrap();
            assert!(fresh.authentication.is_some());
        }
        // A body longer than the client reads is an error, not memory held.
        let credentials = host
            .acquire_credentials_handle("NTLM", None, CredentialUse::OUTBOUND, None)
            .unwrap();
        let small = HttpClient::new()
            .with_credentials(Scheme::Ntlm, credentials)
            .with_max_body_len(8);
        let error = small.get(&url).await.unwrap_err();
        assert!(matches!(error, sspi_http::Error::TooLarge(8)), "{error}");
        // Without credentials for any offered scheme: a clear error.
        let anonymous = HttpClient::new();
        let error = anonymous.get(&url).await.unwrap_err();
        assert!(
            error
                .to_string()
                .contains("offers none of our schemes (it offers: Negotiate, NTLM)"),
            "{error}"
        );
    });
}
