//! `sspi`: the sspi-plug command line.

mod commands;
mod net;
mod registry_path;

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
    /// Defaults to the shipped config/sspi.reg.
    #[arg(long, global = true, env = "SSPI_REGISTRY", value_delimiter = ',')]
    registry: Vec<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the installed packages, where they come from and whether they are usable.
    Packages,
    /// Registry files: validate them.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Authenticate a client to a server in this process with one package, then
    /// sign/verify and encrypt/decrypt a message.
    Handshake(commands::HandshakeArgs),
    /// Run `handshake` for every available package.
    Demo,
    /// Serve authenticated clients over TCP (an encrypted echo service) until Ctrl-C / SIGTERM.
    Server(net::ServerArgs),
    /// Connect to `sspi server`, authenticate, and send messages through the protected channel.
    Client(net::ClientArgs),
    /// Measure handshakes per second over loopback (1, 8, 64 clients) beside the in-process rate.
    Bench(net::BenchArgs),
    /// Serve the Kerberos realm of the registry's SspiKdc key (AS and TGS) until Ctrl-C / SIGTERM.
    Kdc,
}

#[derive(Subcommand, Debug)]
enum RegistryCommand {
    /// Check registry files (layered in order): syntax, providers, libraries and package parameters.
    Check {
        /// The files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The server logs each connection by default; the other commands only warnings.
    let default_level = if matches!(cli.command, Command::Server(_) | Command::Kdc) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let registry = registry_path::files(&cli.registry);
    let result = match cli.command {
        Command::Packages => commands::packages(&registry),
        Command::Registry {
            command: RegistryCommand::Check { files },
        } => commands::registry_check(&files),
        Command::Handshake(args) => commands::handshake(&registry, &args),
        Command::Demo => commands::demo(&registry),
        Command::Server(args) => net::server(&registry, &args),
        Command::Client(args) => net::client(&registry, &args),
        Command::Bench(args) => net::bench(&registry, &args),
        Command::Kdc => net::kdc(&registry),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("sspi: {message}");
            ExitCode::FAILURE
        }
    }
}
