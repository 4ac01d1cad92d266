//! An axum application behind HTTP Negotiate / NTLM authentication: the
//! handler reads the client's name from the `Authenticated` extension.
//!
//! ```sh
//! cargo build --workspace                       # the plugins
//! target/debug/sspi kdc &                       # the demo realm
//! cargo run -p sspi-http --example axum_whoami  # http://127.0.0.1:8081/whoami
//! target/debug/sspi http-client http://localhost:8081/whoami
//! ```
//!
//! Authentication is per connection (NTLM's legs, and the "authenticated"
//! state, belong to it), so the layer is applied to each accepted
//! connection, and hyper serves the connection with keep-alive.

use axum::routing::get;
use axum::{Extension, Router};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use sspi_http::{AuthLayer, Authenticated, HttpAuthConfig, HttpAuthenticator};
use sspi_plugin_host::SecurityHost;
use std::path::Path;
use std::sync::Arc;
use tower_layer::Layer as _;

async fn whoami(Extension(who): Extension<Authenticated>) -> String {
    format!("{} {}\n", who.name, who.package)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The shipped registry and the HTTP/localhost acceptor of the demo realm.
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
    let host = SecurityHost::from_registry_files(&[
        config.join("sspi.reg"),
        config.join("http-server.reg"),
    ])?;
    let auth = Arc::new(HttpAuthenticator::new(&host, HttpAuthConfig::default())?);
    let app = Router::new().route("/whoami", get(whoami));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
    println!("serving http://{}/whoami", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        // A fresh handshake state for this connection, in front of the app.
        let service = AuthLayer::new(Arc::clone(&auth), None).layer(app.clone());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .await;
        });
    }
}
