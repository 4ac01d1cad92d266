//! `sspi http-server`: `GET /whoami` behind HTTP Negotiate / NTLM authentication.

use clap::Args;
use sspi_http::{HttpAuthConfig, HttpAuthenticator, Scheme, ServerTls, WhoAmI};
use sspi_plugin_host::SecurityHost;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// The address `sspi http-server` listens on by default.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8080";

/// The overlay read after the default registry: the Kerberos acceptor is
/// `HTTP/localhost` with the demo realm's HTTP keytab.
const OVERLAY: &str = "http-server.reg";

/// `sspi http-server` arguments.
#[derive(Args, Debug)]
pub struct HttpServerArgs {
    /// The address to listen on.
    #[arg(long, default_value = DEFAULT_HTTP_ADDR)]
    listen: SocketAddr,
    /// Offer only `Negotiate` (no `WWW-Authenticate: NTLM`).
    #[arg(long)]
    no_ntlm: bool,
    /// Seconds a connection's handshake may stay half done.
    #[arg(long, default_value_t = 10)]
    handshake_timeout: u64,
    /// Serve HTTPS with this PEM certificate chain and PEM private key; the
    /// certificate's tls-server-end-point channel bindings go to every
    /// AcceptSecurityContext (the packages' RequireChannelBindings decides
    /// whether a client must send them).
    #[arg(long, num_args = 2, value_names = ["CERT", "KEY"])]
    tls: Option<Vec<PathBuf>>,
}

/// The registry files: `registry`, plus `http-server.reg` beside it when the
/// registry is the default one (`defaulted`) and the overlay exists.
pub fn registry_files(registry: &[PathBuf], defaulted: bool) -> Vec<PathBuf> {
    let mut files = registry.to_vec();
    if defaulted
        && let [only] = registry
        && let Some(dir) = only.parent()
    {
        let overlay = dir.join(OVERLAY);
        if overlay.is_file() {
            files.push(overlay);
        }
    }
    files
}

/// Serves until Ctrl-C / SIGTERM.
pub fn run(
    registry: &[PathBuf],
    defaulted: bool,
    args: &HttpServerArgs,
) -> Result<ExitCode, String> {
    let files = registry_files(registry, defaulted);
    let host = SecurityHost::from_registry_files(&files).map_err(|e| e.to_string())?;
    let mut config = HttpAuthConfig {
        handshake_timeout: Duration::from_secs(args.handshake_timeout),
        ..HttpAuthConfig::default()
    };
    if args.no_ntlm {
        config.schemes = vec![Scheme::Negotiate];
    }
    let auth = Arc::new(HttpAuthenticator::new(&host, config).map_err(|e| e.to_string())?);
    let tls = match args.tls.as_deref() {
        Some([certificate, key]) => {
            Some(ServerTls::from_pem_files(certificate, key).map_err(|e| e.to_string())?)
        }
        _ => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let shown: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        let (url, bindings) = match &tls {
            Some(tls) if tls.channel_bindings().is_some() => {
                ("https", ", tls-server-end-point channel bindings")
            }
            Some(_) => ("https", ", no channel bindings (see the warning)"),
            None => ("http", ""),
        };
        println!(
            "sspi http-server serving {url}://{addr}/whoami (registry {}{bindings}); Ctrl-C stops it",
            shown.join(", ")
        );
        let serving = async {
            match tls {
                Some(tls) => sspi_http::serve_tls(listener, tls, auth, WhoAmI).await,
                None => sspi_http::serve(listener, auth, WhoAmI).await,
            }
        };
        tokio::select! {
            () = serving => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        println!("sspi http-server stopped");
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_overlay_is_read_only_after_the_default_registry() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("sspi.reg");
        std::fs::write(&main, "").unwrap();
        let only = vec![main.clone()];
        assert_eq!(registry_files(&only, true), only.clone());
        std::fs::write(dir.path().join(OVERLAY), "").unwrap();
        assert_eq!(
            registry_files(&only, true),
            [main.clone(), dir.path().join(OVERLAY)]
        );
        // Named on the command line: exactly those files.
        assert_eq!(registry_files(&only, false), [main]);
    }
}
