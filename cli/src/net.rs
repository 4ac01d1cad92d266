//! `sspi server`, `sspi client` and `sspi bench`: authenticated connections over TCP.

use clap::Args;
use sspi_connection::{ClientOptions, ConnectionError, ProtectionLevel, Server, ServerConfig};
use sspi_core::{CredentialUse, IscReq};
use sspi_load as load;
use sspi_plugin_host::SecurityHost;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

/// The address `sspi server` listens on and `sspi client` connects to by default.
pub const DEFAULT_ADDR: &str = "127.0.0.1:4550";

/// Exit code: authentication failed.
const EXIT_AUTH_FAILED: u8 = 2;
/// Exit code: the connection failed (refused, reset, timed out).
const EXIT_CONNECTION_FAILED: u8 = 3;

/// `sspi server` arguments.
#[derive(Args, Debug)]
pub struct ServerArgs {
    /// The address to listen on.
    #[arg(long, default_value = DEFAULT_ADDR)]
    listen: SocketAddr,
}

/// `sspi client` arguments.
#[derive(Args, Debug)]
pub struct ClientArgs {
    /// The server's address.
    #[arg(long, default_value = DEFAULT_ADDR)]
    connect: SocketAddr,
    /// The package to authenticate with.
    #[arg(long)]
    package: String,
    /// The user (password from SSPI_PASSWORD, else asked for); without it, the
    /// package's default identity from the registry.
    #[arg(long)]
    user: Option<String>,
    /// The user's domain.
    #[arg(long, default_value = "")]
    domain: String,
    /// The target name (SPN).
    #[arg(long)]
    target: Option<String>,
    /// Negotiate: the PackageList of the client's credentials (Windows'
    /// SEC_WINNT_AUTH_IDENTITY_EX PackageList): comma-separated package names
    /// it may use, `!NAME` for one it may not; '!ntlm' (Kerberos only, no
    /// fallback), 'ntlm'.
    #[arg(long, value_name = "LIST")]
    package_list: Option<String>,
    /// Delegate the client's credentials to the server (ISC_REQ_DELEGATE;
    /// Kerberos forwards the TGT to services the KDC marks ok-as-delegate).
    #[arg(long)]
    delegate: bool,
    /// Sign messages instead of sealing them.
    #[arg(long)]
    sign: bool,
    /// Seconds to wait for the server at each step.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Messages to send; without any, one per line of standard input.
    messages: Vec<String>,
}

/// `sspi bench` arguments.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The package to authenticate with.
    #[arg(long, default_value = "Test")]
    package: String,
    /// Handshakes per measurement.
    #[arg(long, default_value_t = 2000)]
    handshakes: usize,
    /// Concurrent clients, one measurement each.
    #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
    clients: Vec<usize>,
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `sspi server`
pub fn server(registry: &[PathBuf], args: &ServerArgs) -> Result<ExitCode, String> {
    let host = SecurityHost::from_registry_files(registry).map_err(|e| e.to_string())?;
    let config =
        ServerConfig::from_registry(host.config().registry()).map_err(|e| e.to_string())?;
    runtime()?.block_on(async {
        let server = Server::bind(args.listen, &host, config.clone())
            .await
            .map_err(|e| format!("cannot serve on {}: {e}", args.listen))?;
        let addr = server.local_addr().map_err(|e| e.to_string())?;
        println!(
            "sspi server listening on {addr}; packages: {}; handshake time-out {:?}, idle time-out {:?}, at most {} connections",
            server.offered_packages().join(", "),
            config.handshake_timeout,
            config.idle_timeout,
            config.max_connections
        );
        let report = server.run(stop_signal()).await;
        println!(
            "sspi server stopped: {} open session(s) finished, {} stopped after the grace period",
            report.finished, report.aborted
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// `sspi client`
pub fn client(registry: &[PathBuf], args: &ClientArgs) -> Result<ExitCode, String> {
    let host = SecurityHost::from_registry_files(registry).map_err(|e| e.to_string())?;
    let identity = crate::password::identity(args.user.as_deref(), &args.domain)?;
    let credentials = match host.acquire_credentials_handle(
        &args.package,
        None,
        CredentialUse::OUTBOUND,
        crate::commands::with_package_list(identity, args.package_list.as_deref()),
    ) {
        Ok(credentials) => credentials,
        Err(e) => {
            eprintln!("sspi client: {e}");
            return Ok(ExitCode::from(EXIT_AUTH_FAILED));
        }
    };
    let options = ClientOptions {
        target: args.target.clone(),
        protection: if args.sign {
            ProtectionLevel::Signed
        } else {
            ProtectionLevel::Sealed
        },
        timeout: Duration::from_secs(args.timeout),
        isc_req: if args.delegate {
            IscReq::PROTECTED_CONNECTION | IscReq::DELEGATE
        } else {
            IscReq::PROTECTED_CONNECTION
        },
        ..ClientOptions::default()
    };
    let result = runtime()?.block_on(async {
        let stream = tokio::time::timeout(
            options.timeout,
            tokio::net::TcpStream::connect(args.connect),
        )
        .await
        .map_err(|_| ConnectionError::Timeout {
            waiting_for: "the connection",
            after: options.timeout,
        })??;
        stream.set_nodelay(true)?;
        let mut session = sspi_connection::authenticate(stream, &credentials, &options).await?;
        let context = session.context();
        println!(
            "connected to {} with {}",
            args.connect,
            context.package_name()
        );
        if let Some(info) = context.negotiation_info()? {
            for line in crate::commands::describe_negotiation(&info, "") {
                println!("{line}");
            }
        }
        println!(
            "authenticated: the server accepted this client as {}",
            session.authenticated_as()
        );
        println!("flags: ISC_RET {}", session.step().attributes);
        let sizes = context.sizes()?;
        println!(
            "sizes: max token {}, max signature {}, block size {}, security trailer {}",
            sizes.max_token, sizes.max_signature, sizes.block_size, sizes.security_trailer
        );
        println!("messages are {}", session.protection());
        if args.messages.is_empty() {
            let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
            while let Some(line) = lines.next_line().await? {
                let reply = session.request(line.as_bytes()).await?;
                println!("reply: {}", String::from_utf8_lossy(&reply));
            }
        } else {
            for message in &args.messages {
                let reply = session.request(message.as_bytes()).await?;
                println!("reply: {}", String::from_utf8_lossy(&reply));
            }
        }
        session.close().await
    });
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) => {
            eprintln!("sspi client: {error}");
            Ok(ExitCode::from(if error.is_authentication_failure() {
                EXIT_AUTH_FAILED
            } else {
                EXIT_CONNECTION_FAILED
            }))
        }
    }
}

/// `sspi bench`: handshakes per second over loopback at each concurrency,
/// beside the in-process rate, in one run.
pub fn bench(registry: &[PathBuf], args: &BenchArgs) -> Result<ExitCode, String> {
    let host = SecurityHost::from_registry_files(registry).map_err(|e| e.to_string())?;
    let client = host
        .acquire_credentials_handle(&args.package, None, CredentialUse::OUTBOUND, None)
        .map_err(|e| e.to_string())?;
    let server_credentials = host
        .acquire_credentials_handle(&args.package, None, CredentialUse::INBOUND, None)
        .map_err(|e| e.to_string())?;
    let options = ClientOptions::default();
    // Warm up, then the in-process reference rate.
    load::in_process(
        &client,
        &server_credentials,
        &options,
        args.handshakes / 10 + 1,
    )
    .map_err(|e| e.to_string())?;
    let reference = load::in_process(&client, &server_credentials, &options, args.handshakes)
        .map_err(|e| e.to_string())?;
    println!("package {}", args.package);
    println!("in-process  {reference}");
    let config = ServerConfig {
        inbound_packages: Some(vec![args.package.clone()]),
        max_connections: 4096,
        // Every client comes from 127.0.0.1 and handshakes at once.
        max_connections_per_peer: 4096,
        max_unauthenticated: 4096,
        ..ServerConfig::default()
    };
    let client = Arc::new(client);
    runtime()?.block_on(async {
        let server = Server::bind(
            "127.0.0.1:0".parse().expect("a literal address"),
            &host,
            config,
        )
        .await
        .map_err(|e| e.to_string())?;
        let addr = server.local_addr().map_err(|e| e.to_string())?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        load::over_tcp(
            addr,
            Arc::clone(&client),
            options.clone(),
            8,
            args.handshakes / 10 + 1,
        )
        .await
        .map_err(|e| e.to_string())?;
        for &clients in &args.clients {
            let report = load::over_tcp(
                addr,
                Arc::clone(&client),
                options.clone(),
                clients,
                args.handshakes,
            )
            .await
            .map_err(|e| e.to_string())?;
            println!(
                "loopback    {report}  ({:.0}% of in-process)",
                100.0 * report.per_second() / reference.per_second()
            );
            let bare = load::bare_tcp(clients, args.handshakes)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "bare TCP    {bare}  (connect, 1-byte echo, close: the network's own ceiling)"
            );
        }
        let _ = stop.send(());
        let _ = running.await;
        Ok(ExitCode::SUCCESS)
    })
}

/// The registry key of the embedded KDC's settings.
pub const KDC_KEY: &str = r"HKEY_LOCAL_MACHINE\Comm\SspiKdc";

/// The KDC settings in the registry, if it has an `SspiKdc` key.
pub fn kdc_settings(host: &SecurityHost) -> Result<Option<sspi_kdc::KdcSettings>, String> {
    let Some(key) = host.config().registry().key(KDC_KEY) else {
        return Ok(None);
    };
    let params = sspi_plugin_host::params::package_parameters(KDC_KEY, Some(key));
    sspi_kdc::KdcSettings::from_parameters(&params)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// `sspi kdc`: serves the realm of the registry's `SspiKdc` key until Ctrl-C / SIGTERM.
pub fn kdc(registry: &[PathBuf]) -> Result<ExitCode, String> {
    let host = SecurityHost::from_registry_files(registry).map_err(|e| e.to_string())?;
    let settings = kdc_settings(&host)?
        .ok_or_else(|| format!("the registry has no {KDC_KEY} key to serve"))?;
    let listen = settings.listen;
    runtime()?.block_on(async {
        println!("sspi kdc serving on {listen} (TCP and UDP); Ctrl-C stops it");
        sspi_kdc::serve(listen, settings.config, stop_signal())
            .await
            .map_err(|e| format!("cannot serve on {listen}: {e}"))?;
        println!("sspi kdc stopped");
        Ok(ExitCode::SUCCESS)
    })
}
