//! `sspi`: the sspi-plug command line.

mod commands;
mod http_client_command;
mod http_server_command;
mod keytab_command;
mod net;
mod password;
mod registry_command;
mod registry_path;
mod selftest;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

// Link the Test package library in as a built-in (`builtin:test`): its
// `inventory` registration only exists if the crate is linked.
use sspi_package_test as _;

/// Pluggable SSPI-style security packages: list them, check the registry, run handshakes.
#[derive(Parser, Debug)]
#[command(name = "sspi", version)]
struct Cli {
    /// Registry file(s) to read, in order (later files override earlier ones).
    /// Defaults to the registry of the clone the program was built in
    /// (config/sspi.reg), else <prefix>/etc/sspi-plug/sspi.reg, else
    /// /etc/sspi-plug/sspi.reg; never one in the working directory.
    #[arg(long, global = true, env = "SSPI_REGISTRY", value_delimiter = ',')]
    registry: Vec<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the installed packages, where they come from and whether they are usable.
    Packages,
    /// Registry files: validate them, describe a package's values.
    Registry {
        #[command(subcommand)]
        command: registry_command::RegistryCommand,
    },
    /// Authenticate a client to a server in this process with one package, then
    /// sign/verify and encrypt/decrypt a message.
    Handshake(commands::HandshakeArgs),
    /// Run `handshake` for every available package.
    Demo,
    /// Serve authenticated clients over TCP (an encrypted echo service) until Ctrl-C / SIGTERM.
    Server(net::ServerArgs),
    /// Serve `GET /whoami` behind HTTP Negotiate / NTLM authentication until Ctrl-C.
    HttpServer(http_server_command::HttpServerArgs),
    /// GET a URL, answering HTTP Negotiate / NTLM challenges; the body goes to stdout.
    HttpClient(http_client_command::HttpClientArgs),
    /// Connect to `sspi server`, authenticate, and send messages through the protected channel.
    Client(net::ClientArgs),
    /// Measure handshakes per second over loopback (1, 8, 64 clients) beside the in-process rate.
    Bench(net::BenchArgs),
    /// Run the conformance kit (sspi-testkit) on an installed package: one line per rule.
    Selftest(selftest::SelftestArgs),
    /// Serve the Kerberos realm of the registry's SspiKdc key (AS and TGS) until Ctrl-C / SIGTERM.
    Kdc,
    /// MIT keytabs: add keys (random or from a password) for a principal, list entries.
    Keytab {
        #[command(subcommand)]
        command: keytab_command::KeytabCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server logs each connection by default; `registry` reports every
    // finding itself (the host's warnings would repeat them); the other
    // commands log warnings.
    let default_level = match cli.command {
        Command::Server(_) | Command::HttpServer(_) | Command::Kdc => "info",
        Command::Registry { .. } => "error",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let registry = || registry_path::files(&cli.registry);
    let result = match cli.command {
        Command::Packages => registry().and_then(|r| commands::packages(&r)),
        Command::Registry { command } => registry_command::run(command, registry),
        Command::Handshake(args) => registry().and_then(|r| commands::handshake(&r, &args)),
        Command::Demo => registry().and_then(|r| commands::demo(&r)),
        Command::Server(args) => registry().and_then(|r| net::server(&r, &args)),
        Command::HttpServer(args) => {
            registry().and_then(|r| http_server_command::run(&r, cli.registry.is_empty(), &args))
        }
        Command::HttpClient(args) => registry().and_then(|r| http_client_command::run(&r, &args)),
        Command::Client(args) => registry().and_then(|r| net::client(&r, &args)),
        Command::Bench(args) => registry().and_then(|r| net::bench(&r, &args)),
        Command::Kdc => registry().and_then(|r| net::kdc(&r)),
        Command::Selftest(args) => registry().and_then(|r| selftest::selftest(&r, &args)),
        Command::Keytab { command } => keytab_command::run(command),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("sspi: {message}");
            ExitCode::FAILURE
        }
    }
}
