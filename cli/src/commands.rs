//! The subcommands.

use clap::Args;
use sspi_core::{
    AscReq, AuthIdentity, CredentialUse, IscReq, IscRet, Qop, SecBuffer, SecBufferType,
};
use sspi_plugin_host::loopback::{self, CompletedHandshake};
use sspi_plugin_host::{PackageState, SecurityHost};
use std::path::PathBuf;
use std::process::ExitCode;

/// `sspi handshake` arguments.
#[derive(Args, Debug)]
pub struct HandshakeArgs {
    /// The package to authenticate with.
    #[arg(long)]
    package: String,
    /// The client's user name (the password comes from SSPI_PASSWORD); without
    /// it, the package's default identity from the registry.
    #[arg(long)]
    user: Option<String>,
    /// The client's domain.
    #[arg(long, default_value = "")]
    domain: String,
    /// The target name (SPN) the client asks for.
    #[arg(long)]
    target: Option<String>,
}

fn load_host(registry: &[PathBuf]) -> Result<SecurityHost, String> {
    SecurityHost::from_registry_files(registry).map_err(|e| e.to_string())
}

/// `sspi packages`
pub fn packages(registry: &[PathBuf]) -> Result<ExitCode, String> {
    let host = load_host(registry)?;
    println!(
        "{:<12} {:>7} {:>9}  {:<44} STATE",
        "PACKAGE", "VERSION", "MAX TOKEN", "SOURCE"
    );
    for entry in host.enumerate_security_packages() {
        let (version, max_token) = entry
            .info()
            .map(|i| (i.version.to_string(), i.max_token.to_string()))
            .unwrap_or_else(|| ("-".into(), "-".into()));
        let state = match entry.state() {
            PackageState::Available => "available",
            PackageState::Unavailable(_) => "unavailable",
        };
        println!(
            "{:<12} {:>7} {:>9}  {:<44} {}",
            entry.name(),
            version,
            max_token,
            entry.source().to_string(),
            state
        );
        if let Some(reason) = entry.unavailable() {
            println!("{:<12} reason: {reason}", "");
        }
        if let Some(info) = entry.info() {
            println!("{:<12} capabilities: {}", "", info.capabilities);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `sspi handshake --package NAME`
pub fn handshake(registry: &[PathBuf], args: &HandshakeArgs) -> Result<ExitCode, String> {
    let host = load_host(registry)?;
    let identity = match &args.user {
        Some(user) => {
            let password = crate::password::from_env()
                .ok_or_else(|| format!("--user {user} needs the password in SSPI_PASSWORD"))?;
            Some(AuthIdentity::new(user, &args.domain, &password))
        }
        None => None,
    };
    let _kdc = embedded_kdc(&host)?;
    run_handshake(&host, &args.package, identity, args.target.as_deref())
}

/// The registry's KDC (its `SspiKdc` key), started in this process so that
/// the Kerberos package works from a fresh clone; `None` when the registry
/// has no KDC, or when its address is taken (an `sspi kdc` is assumed to be
/// serving there already).
pub(crate) fn embedded_kdc(host: &SecurityHost) -> Result<Option<sspi_kdc::KdcHandle>, String> {
    let Some(settings) = crate::net::kdc_settings(host)? else {
        return Ok(None);
    };
    match sspi_kdc::KdcHandle::start(settings.listen, settings.config) {
        Ok(kdc) => Ok(Some(kdc)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Ok(None),
        Err(e) => Err(format!("cannot start the KDC on {}: {e}", settings.listen)),
    }
}

/// `sspi demo`
pub fn demo(registry: &[PathBuf]) -> Result<ExitCode, String> {
    let host = load_host(registry)?;
    let _kdc = embedded_kdc(&host)?;
    println!(
        "registry: {}",
        registry
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut failures = 0;
    let mut ran = 0;
    for entry in host.enumerate_security_packages() {
        match entry.state() {
            PackageState::Available => {
                ran += 1;
                if run_handshake(&host, entry.name(), None, None)? != ExitCode::SUCCESS {
                    failures += 1;
                }
            }
            PackageState::Unavailable(reason) => {
                println!("\n== {}: unavailable: {reason}", entry.name());
            }
        }
    }
    println!("\ndemo: {ran} package(s) run, {failures} failed");
    if ran == 0 {
        return Err("no package is available: check `sspi packages`".into());
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn run_handshake(
    host: &SecurityHost,
    package: &str,
    identity: Option<AuthIdentity>,
    target: Option<&str>,
) -> Result<ExitCode, String> {
    let source = host
        .enumerate_security_packages()
        .iter()
        .find(|p| p.name().eq_ignore_ascii_case(package))
        .map(|p| p.source().to_string())
        .unwrap_or_default();
    println!("\n== {package} ({source})");
    let client = host
        .acquire_credentials_handle(package, None, CredentialUse::OUTBOUND, identity)
        .map_err(|e| e.to_string())?;
    let server = host
        .acquire_credentials_handle(package, None, CredentialUse::INBOUND, None)
        .map_err(|e| e.to_string())?;
    let mut established = match loopback::handshake(
        &client,
        &server,
        target,
        IscReq::PROTECTED_CONNECTION,
        AscReq::PROTECTED_CONNECTION,
    ) {
        Ok(established) => established,
        Err(e) => {
            println!("handshake failed: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    for (n, leg) in established.legs.iter().enumerate() {
        println!(
            "  leg {:<2} {:<17} {:>5} bytes  {}{}",
            n + 1,
            leg.flow.to_string(),
            leg.token_len,
            leg.status,
            if leg.completed {
                " + CompleteAuthToken"
            } else {
                ""
            }
        );
    }
    report(&mut established).map_err(|e| format!("{package}: {e}"))
}

fn report(established: &mut CompletedHandshake) -> Result<ExitCode, String> {
    let client_name = established.client.names().map_err(|e| e.to_string())?;
    let server_sees = established.server.names().map_err(|e| e.to_string())?;
    println!(
        "  client:  {client_name}; ISC_RET {}",
        established.client_step.attributes
    );
    println!(
        "  server:  authenticated {server_sees}; ASC_RET {}",
        established.server_step.attributes
    );
    let sizes = established.client.sizes().map_err(|e| e.to_string())?;
    println!(
        "  sizes:   max token {}, max signature {}, block size {}, security trailer {}",
        sizes.max_token, sizes.max_signature, sizes.block_size, sizes.security_trailer
    );

    let message = b"hello from sspi-plug".to_vec();
    let mut data = message.clone();
    let mut signature = vec![0u8; sizes.max_signature as usize];
    let mut buffers = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
    established
        .client
        .make_signature(Qop::DEFAULT, &mut buffers, 0)
        .map_err(|e| format!("MakeSignature: {e}"))?;
    let signature_len = buffers[1].len();
    established
        .server
        .verify_signature(&mut buffers, 0)
        .map_err(|e| format!("VerifySignature: {e}"))?;
    println!(
        "  sign:    {}-byte message, {signature_len}-byte signature, verified by the server",
        message.len()
    );

    if !established
        .client_step
        .attributes
        .contains(IscRet::CONFIDENTIALITY)
    {
        println!("  seal:    not offered (the context has no ISC_RET_CONFIDENTIALITY)");
        return Ok(ExitCode::SUCCESS);
    }
    let mut data = message.clone();
    let mut trailer = vec![0u8; sizes.security_trailer as usize];
    let mut buffers = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
    established
        .server
        .encrypt_message(Qop::DEFAULT, &mut buffers, 0)
        .map_err(|e| format!("EncryptMessage: {e}"))?;
    let sealed_differs = buffers[1].as_slice() != message.as_slice();
    established
        .client
        .decrypt_message(&mut buffers, 0)
        .map_err(|e| format!("DecryptMessage: {e}"))?;
    let round_trip = buffers
        .iter()
        .find(|b| b.kind() == SecBufferType::DATA)
        .map(|b| b.as_slice() == message.as_slice());
    if !sealed_differs || round_trip != Some(true) {
        return Err("encrypt/decrypt round trip did not reproduce the message".into());
    }
    println!(
        "  seal:    {}-byte message sealed by the server, opened by the client",
        message.len()
    );
    Ok(ExitCode::SUCCESS)
}
