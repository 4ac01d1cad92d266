//! The subcommands.

use clap::Args;
use sspi_core::{
    AscReq, AuthIdentity, CredentialUse, IscReq, IscRet, NegotiationInfo, NegotiationState, Qop,
    SecBuffer, SecBufferType,
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
    /// Negotiate: the PackageList of the client's credentials (Windows'
    /// SEC_WINNT_AUTH_IDENTITY_EX PackageList): comma-separated package names
    /// it may use, `!NAME` for one it may not; '!ntlm' (Kerberos only, no
    /// fallback), 'ntlm'.
    #[arg(long, value_name = "LIST")]
    package_list: Option<String>,
    /// Negotiate: the PackageList of the server's credentials; 'ntlm' makes
    /// the server counter-propose NTLM to a client that offers Kerberos first.
    #[arg(long, value_name = "LIST")]
    server_package_list: Option<String>,
    /// Do not start the registry's KDC (SspiKdc) in this process: Kerberos
    /// then reaches only a KDC already serving (`sspi kdc`); with none,
    /// Negotiate falls back to NTLM and says why.
    #[arg(long)]
    no_kdc: bool,
}

/// The credentials' identity: `identity` (or the default credentials)
/// narrowed by a Negotiate `package_list`.
pub(crate) fn with_package_list(
    identity: Option<AuthIdentity>,
    package_list: Option<&str>,
) -> Option<AuthIdentity> {
    match (identity, package_list) {
        (Some(identity), Some(list)) => Some(identity.with_package_list(list)),
        (None, Some(list)) => Some(AuthIdentity::package_list_only(list)),
        (identity, None) => identity,
    }
}

/// SSPI's name of a SECPKG_ATTR_NEGOTIATION_INFO state.
fn state_name(state: NegotiationState) -> &'static str {
    match state {
        NegotiationState::Complete => "SECPKG_NEGOTIATION_COMPLETE",
        NegotiationState::Optimistic => "SECPKG_NEGOTIATION_OPTIMISTIC",
        NegotiationState::InProgress => "SECPKG_NEGOTIATION_IN_PROGRESS",
        NegotiationState::Direct => "SECPKG_NEGOTIATION_DIRECT",
    }
}

/// What a negotiating package's context (Negotiate) chose, as printed lines:
/// `negotiated: PACKAGE (STATE)`, and `fallback: ...` when the client fell
/// back from the packages it prefers.
pub(crate) fn describe_negotiation(info: &NegotiationInfo, indent: &str) -> Vec<String> {
    let mut lines = vec![format!(
        "{indent}negotiated: {} ({})",
        info.package.name,
        state_name(info.state)
    )];
    if !info.fallback.is_empty() {
        lines.push(format!(
            "{indent}fallback:   fell back to {} after {}",
            info.package.name, info.fallback
        ));
    }
    lines
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
    let _kdc = if args.no_kdc {
        None
    } else {
        embedded_kdc(&host)?
    };
    let run = run_handshake(
        &host,
        &args.package,
        with_package_list(identity, args.package_list.as_deref()),
        with_package_list(None, args.server_package_list.as_deref()),
        args.target.as_deref(),
    )?;
    Ok(run.exit_code())
}

/// How one `run_handshake` ended.
enum Run {
    /// The handshake failed (printed).
    Failed,
    /// It completed and the messages went through; what the client's
    /// context negotiated, for a negotiating package.
    Done(Option<NegotiationInfo>),
}

impl Run {
    fn exit_code(&self) -> ExitCode {
        match self {
            Run::Failed => ExitCode::FAILURE,
            Run::Done(_) => ExitCode::SUCCESS,
        }
    }
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

/// `sspi demo`: a handshake with every available package; then, when
/// Negotiate chose Kerberos, the embedded KDC is stopped and Negotiate runs
/// again to show its fallback to NTLM.
pub fn demo(registry: &[PathBuf]) -> Result<ExitCode, String> {
    let host = load_host(registry)?;
    let mut kdc = embedded_kdc(&host)?;
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
    let mut negotiate_chose_kerberos = None;
    for entry in host.enumerate_security_packages() {
        match entry.state() {
            PackageState::Available => {
                ran += 1;
                match run_handshake(&host, entry.name(), None, None, None)? {
                    Run::Failed => failures += 1,
                    Run::Done(Some(info))
                        if info.package.name.as_str().eq_ignore_ascii_case(KERBEROS) =>
                    {
                        negotiate_chose_kerberos = Some(entry.name().to_owned());
                    }
                    Run::Done(_) => {}
                }
            }
            PackageState::Unavailable(reason) => {
                println!("\n== {}: unavailable: {reason}", entry.name());
            }
        }
    }
    if let Some(package) = negotiate_chose_kerberos {
        match kdc.take() {
            Some(running) => {
                let addr = running.addr();
                running.stop();
                println!(
                    "\n-- the embedded KDC ({addr}) is stopped: {package} again, where Kerberos cannot start"
                );
                match run_handshake(&host, &package, None, None, None)? {
                    Run::Done(Some(info)) if !info.fallback.is_empty() => {}
                    Run::Failed => failures += 1,
                    Run::Done(_) => {
                        println!("  expected {package} to fall back from Kerberos, and it did not");
                        failures += 1;
                    }
                }
            }
            None => println!(
                "\n-- {package} with the KDC down: not shown (the KDC that answered is not this process's, so the demo cannot stop it)"
            ),
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

/// The package Negotiate prefers when a KDC answers.
const KERBEROS: &str = "Kerberos";

fn run_handshake(
    host: &SecurityHost,
    package: &str,
    identity: Option<AuthIdentity>,
    server_identity: Option<AuthIdentity>,
    target: Option<&str>,
) -> Result<Run, String> {
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
        .acquire_credentials_handle(package, None, CredentialUse::INBOUND, server_identity)
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
            return Ok(Run::Failed);
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
    let negotiated = established
        .client
        .negotiation_info()
        .map_err(|e| format!("{package}: {e}"))?;
    if let Some(info) = &negotiated {
        for line in describe_negotiation(info, "  ") {
            println!("{line}");
        }
        if let Some(server) = established
            .server
            .negotiation_info()
            .map_err(|e| format!("{package}: {e}"))?
            && server.package.name != info.package.name
        {
            return Err(format!(
                "{package}: the client negotiated {} but the server {}",
                info.package.name, server.package.name
            ));
        }
    }
    report(&mut established).map_err(|e| format!("{package}: {e}"))?;
    Ok(Run::Done(negotiated))
}

fn report(established: &mut CompletedHandshake) -> Result<(), String> {
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
        return Ok(());
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
    Ok(())
}
