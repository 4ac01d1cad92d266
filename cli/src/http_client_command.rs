//! `sspi http-client URL`: GET a URL, answering Negotiate / NTLM challenges.

use clap::Args;
use sspi_core::{CredentialUse, IscReq};
use sspi_http::{Error, HttpClient, Scheme};
use sspi_plugin_host::SecurityHost;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The exit status when the server refused us (or could not prove itself).
const EXIT_AUTH_FAILED: u8 = 2;

/// `sspi http-client` arguments.
#[derive(Args, Debug)]
pub struct HttpClientArgs {
    /// The URL to GET (http:// or https://).
    url: http::Uri,
    /// The package (and so the scheme) to answer with: Negotiate or NTLM.
    /// Without it: Negotiate when the server offers it, else NTLM.
    #[arg(long)]
    package: Option<String>,
    /// The user (password from SSPI_PASSWORD, else asked for); without it, the
    /// packages' default identity from the registry (Kerberos: the ccache).
    #[arg(long)]
    user: Option<String>,
    /// The user's domain.
    #[arg(long, default_value = "")]
    domain: String,
    /// Negotiate: the PackageList of the credentials, e.g. '!ntlm' or 'ntlm'.
    #[arg(long, value_name = "LIST")]
    package_list: Option<String>,
    /// The target name (SPN); by default HTTP/<host of the URL>.
    #[arg(long)]
    target: Option<String>,
    /// https: trust the certificates of this PEM file (a CA or the server's own).
    #[arg(long, value_name = "PEM")]
    ca_cert: Option<PathBuf>,
    /// https: send no tls-server-end-point channel bindings.
    #[arg(long)]
    no_channel_bindings: bool,
    /// Delegate the client's credentials to the server (ISC_REQ_DELEGATE).
    #[arg(long)]
    delegate: bool,
    /// Seconds to wait for the connection and each reply.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

/// The schemes to answer with, in order of preference.
fn schemes(package: Option<&str>) -> Result<Vec<Scheme>, String> {
    match package {
        None => Ok(Scheme::ALL.to_vec()),
        Some(name) => Scheme::ALL
            .into_iter()
            .find(|s| s.package().eq_ignore_ascii_case(name))
            .map(|s| vec![s])
            .ok_or_else(|| format!("--package {name}: HTTP authentication uses Negotiate or NTLM")),
    }
}

/// GETs the URL; the body goes to standard output.
pub fn run(registry: &[PathBuf], args: &HttpClientArgs) -> Result<ExitCode, String> {
    let host = SecurityHost::from_registry_files(registry).map_err(|e| e.to_string())?;
    let identity = crate::password::identity(args.user.as_deref(), &args.domain)?;
    let mut client = HttpClient::new()
        .with_timeout(Duration::from_secs(args.timeout))
        .with_channel_bindings(!args.no_channel_bindings);
    if args.delegate {
        client = client.with_isc_req(IscReq::MUTUAL_AUTH | IscReq::DELEGATE);
    }
    if let Some(target) = &args.target {
        client = client.with_target(target);
    }
    if let Some(pem) = &args.ca_cert {
        client = client.with_tls(sspi_http::tls::client_config(pem).map_err(|e| e.to_string())?);
    }
    let wanted = schemes(args.package.as_deref())?;
    let mut failures = Vec::new();
    let mut usable = 0;
    for scheme in &wanted {
        let identity = identity.clone();
        let identity = if *scheme == Scheme::Negotiate {
            crate::commands::with_package_list(identity, args.package_list.as_deref())
        } else {
            identity
        };
        match host.acquire_credentials_handle(
            scheme.package(),
            None,
            CredentialUse::OUTBOUND,
            identity,
        ) {
            Ok(credentials) => {
                client = client.with_credentials(*scheme, credentials);
                usable += 1;
            }
            Err(e) => failures.push(format!("{}: {e}", scheme.package())),
        }
    }
    if usable == 0 {
        eprintln!("sspi http-client: no credentials: {}", failures.join("; "));
        return Ok(ExitCode::from(EXIT_AUTH_FAILED));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let reply = match runtime.block_on(client.get(&args.url)) {
        Ok(reply) => reply,
        Err(
            e @ (Error::Refused { .. }
            | Error::NoUsableScheme { .. }
            | Error::MutualAuthentication(_)
            | Error::Security { .. }
            | Error::TooManyLegs(..)),
        ) => {
            eprintln!("sspi http-client: {}: {e}", args.url);
            return Ok(ExitCode::from(EXIT_AUTH_FAILED));
        }
        // The error names the URL (or the address) itself.
        Err(e @ (Error::Url { .. } | Error::Io { .. })) => return Err(e.to_string()),
        Err(e) => return Err(format!("{}: {e}", args.url)),
    };
    let status = reply.response.status();
    let how = match &reply.authentication {
        Some(a) => format!(
            "authenticated with {} ({}), mutual authentication {}{}",
            a.scheme.word(),
            a.package,
            if a.mutual { "verified" } else { "not offered" },
            if a.channel_bindings {
                ", channel bindings sent"
            } else {
                ""
            }
        ),
        None => "not authenticated (the server did not ask)".into(),
    };
    eprintln!("sspi http-client: {status}, {how}");
    if status == http::StatusCode::UNAUTHORIZED {
        return Ok(ExitCode::from(EXIT_AUTH_FAILED));
    }
    std::io::stdout()
        .write_all(reply.response.body())
        .map_err(|e| format!("cannot write the body: {e}"))?;
    Ok(if status.is_success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
