//! `sspi selftest --package NAME`: the conformance kit (`sspi-testkit`) on an
//! installed package, loaded from the registry the other commands use.

use clap::Args;
use sspi_core::AuthIdentity;
use sspi_plugin_host::SecurityHost;
use sspi_testkit::Configuration;
use std::path::PathBuf;
use std::process::ExitCode;

// Counts every allocation of this process, the plugins' included, for the
// kit's `no-allocation` rule.
sspi_testkit::count_allocations!();

/// `sspi selftest` arguments.
#[derive(Args, Debug)]
pub struct SelftestArgs {
    /// The installed package to check.
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

/// Runs every rule, prints one line per rule and a summary; exit status 1
/// when any rule fails.
pub fn selftest(registry: &[PathBuf], args: &SelftestArgs) -> Result<ExitCode, String> {
    let host = SecurityHost::from_registry_files(registry).map_err(|e| e.to_string())?;
    host.query_security_package_info(&args.package)
        .map_err(|e| e.to_string())?;
    let _kdc = crate::commands::embedded_kdc(&host)?;
    let mut config = Configuration::default();
    if let Some(user) = &args.user {
        let password = crate::password::from_env()
            .ok_or_else(|| format!("--user {user} needs the password in SSPI_PASSWORD"))?;
        config = Configuration::named(format!("user {user}")).with_identity(AuthIdentity::new(
            user,
            &args.domain,
            &password,
        ));
    }
    if let Some(target) = &args.target {
        config = config.with_target(target);
    }
    let report = sspi_testkit::run(&host, &args.package, &[config]);
    print!("{report}");
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
