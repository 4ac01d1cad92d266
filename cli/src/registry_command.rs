//! `sspi registry check` and `sspi registry describe`.

use clap::Subcommand;
use sspi_core::{ParameterKind, ParameterSpec, Severity, check_parameters, closest};
use sspi_plugin_host::resolve::{SearchOrigin, SearchPath};
use sspi_plugin_host::{PROVIDERS_KEY, PackageEntry, SecurityHost};
use sspi_registry::{
    ADD_PROVIDERS_SUBKEY, LIBRARY_DIGESTS_SUBKEY, RegFile, SecurityConfig, layered_files,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `sspi registry ...`
#[derive(Subcommand, Debug)]
pub enum RegistryCommand {
    /// Check registry files (layered in order, each with its drop-in directory
    /// FILE.d/*.reg): syntax, providers, libraries and package parameters.
    /// Warnings (unknown values, libraries found only beside this program) do
    /// not fail the check; errors do.
    Check {
        /// The files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Resolve libraries as the program PROGRAM would (its directory and
        /// that directory's parent are searched after LibraryPath and
        /// SSPI_PLUGIN_PATH), not as `sspi` does.
        #[arg(long, value_name = "PROGRAM")]
        program: Option<PathBuf>,
        /// Internal: load the libraries in this process (the check runs them in a child).
        #[arg(long, hide = true)]
        load_in_this_process: bool,
    },
    /// Print the registry values a package declares it reads (name, type and
    /// range, default, meaning) as a table; every package's without NAME.
    Describe {
        /// The package (case-insensitive).
        name: Option<String>,
        /// A markdown table, as in the README (each preceded by the comment
        /// line that marks it there).
        #[arg(long)]
        markdown: bool,
    },
}

/// Runs a `sspi registry` subcommand; `registry` gives the registry files of
/// `describe` (the global `--registry` or the default).
pub fn run(
    command: RegistryCommand,
    registry: impl FnOnce() -> Result<Vec<PathBuf>, String>,
) -> Result<ExitCode, String> {
    match command {
        RegistryCommand::Check {
            files,
            program,
            load_in_this_process,
        } => {
            // As the program would see itself: an absolute path (a relative
            // one would otherwise name no directory at all).
            let program = program
                .map(|p| {
                    std::path::absolute(&p).map_err(|e| format!("--program {}: {e}", p.display()))
                })
                .transpose()?;
            check(&files, program.as_deref(), load_in_this_process)
        }
        RegistryCommand::Describe { name, markdown } => {
            describe(&registry()?, name.as_deref(), markdown)
        }
    }
}

/// How long the child that loads the libraries may take.
const LOAD_CHECK_TIMEOUT: Duration = Duration::from_secs(60);

/// The search path of the check: as `program` would search, else as this program does.
fn search_path(config: &SecurityConfig, program: Option<&Path>) -> SearchPath {
    match program {
        Some(program) => SearchPath::for_program(config.library_path(), Some(program)),
        None => SearchPath::new(config.library_path()),
    }
}

/// `sspi registry check FILE...`
///
/// Everything that needs no library code is checked in this process: syntax,
/// providers, server settings, and each library file's location, owner, mode
/// and pinned digest, resolved through the very [`SearchPath`] the host
/// loads with. Only when all of that passes are the libraries loaded (each
/// package's parameters checked by its own code and against what it
/// declares) — in a child process (`--load-in-this-process`), so no library
/// runs in the checker.
pub fn check(
    files: &[PathBuf],
    program: Option<&Path>,
    load_in_this_process: bool,
) -> Result<ExitCode, String> {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    match layered_files(files) {
        Err(e) => errors.push(e.to_string()),
        Ok(all) => {
            for file in &all {
                if let Err(e) = RegFile::read(file) {
                    errors.push(e.to_string());
                }
            }
        }
    }
    if errors.is_empty() {
        match SecurityConfig::load(files) {
            Err(e) => errors.push(e.to_string()),
            Ok(config) => {
                if let Err(e) = sspi_connection::ServerConfig::from_registry(config.registry()) {
                    errors.push(e.to_string());
                }
                let search = search_path(&config, program);
                // Libraries found only in the program's directory, by directory.
                let mut beside: Vec<(PathBuf, Vec<String>, String)> = Vec::new();
                for file in SecurityHost::check_provider_files(&config, &search) {
                    match file.checked {
                        Err(reason) => errors.push(format!(
                            "{}: library {}: {reason}",
                            file.location, file.library
                        )),
                        Ok(resolved) => {
                            if let Some((dir, SearchOrigin::Program)) = resolved.found_in
                                && program.is_none()
                            {
                                match beside.iter_mut().find(|(d, _, _)| *d == dir) {
                                    Some((_, names, _)) => names.push(file.library),
                                    None => beside.push((
                                        dir,
                                        vec![file.library],
                                        file.location.to_string(),
                                    )),
                                }
                            }
                        }
                    }
                }
                for (dir, names, location) in beside {
                    warnings.push(format!(
                        "{location}: {} {} found only beside this program, in {}: an \
                         application in another directory does not look there (name the \
                         directory in LibraryPath or SSPI_PLUGIN_PATH, or check with --program \
                         APPLICATION)",
                        names.join(", "),
                        if names.len() == 1 { "is" } else { "are" },
                        dir.display()
                    ));
                }
                if errors.is_empty() {
                    return if load_in_this_process {
                        load_check(config, &search)
                    } else {
                        // The child repeats these checks; they are printed once, here.
                        print_findings(&warnings, &[]);
                        load_check_in_child(files, program)
                    };
                }
            }
        }
    }
    print_findings(&warnings, &errors);
    Ok(ExitCode::FAILURE)
}

fn print_findings(warnings: &[String], errors: &[String]) {
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    for error in errors {
        eprintln!("error: {error}");
    }
    if !errors.is_empty() {
        eprintln!("{} error(s)", errors.len());
    }
}

/// Loads every provider (this is the child), reports unavailable packages
/// and checks every package's values against what it declares.
fn load_check(config: SecurityConfig, search: &SearchPath) -> Result<ExitCode, String> {
    let files = config.registry().sources().len();
    let host = SecurityHost::from_config_with(config, search);
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    for entry in host.enumerate_security_packages() {
        if entry.is_package() {
            for finding in
                check_parameters(entry.parameters(), &host.package_parameters(entry.name()))
            {
                match finding.severity {
                    Severity::Warning => warnings.push(finding.to_string()),
                    _ => errors.push(finding.to_string()),
                }
            }
        }
        if let Some(reason) = entry.unavailable() {
            errors.push(format!(
                "{}: error: package {} unavailable: {reason}",
                entry.registry_location(),
                entry.name()
            ));
        }
    }
    // A package key no installed package reads (a misspelt package name?).
    if let Some(providers) = host.config().registry().key(PROVIDERS_KEY) {
        let names: Vec<&str> = host
            .enumerate_security_packages()
            .iter()
            .filter(|e| e.is_package())
            .map(PackageEntry::name)
            .collect();
        for key in providers.subkeys() {
            let name = key.name();
            if [LIBRARY_DIGESTS_SUBKEY, ADD_PROVIDERS_SUBKEY]
                .iter()
                .chain(&names)
                .any(|n| n.eq_ignore_ascii_case(name))
            {
                continue;
            }
            let hint = closest(name, names.iter().copied())
                .map(|n| format!(" (did you mean \"{n}\"?)"))
                .unwrap_or_default();
            warnings.push(format!(
                "{}: warning: key {} configures no installed package; no library provides a package named {name}{hint}",
                key.location(),
                key.path()
            ));
        }
    }
    // Findings already start with their file:line:column.
    for warning in &warnings {
        eprintln!("{warning}");
    }
    for error in &errors {
        eprintln!("{error}");
    }
    if !errors.is_empty() {
        eprintln!("{} error(s), {} warning(s)", errors.len(), warnings.len());
        return Ok(ExitCode::FAILURE);
    }
    let names: Vec<&str> = host
        .enumerate_security_packages()
        .iter()
        .map(PackageEntry::name)
        .collect();
    println!(
        "ok: {files} file(s), {} package(s) available: {}{}",
        names.len(),
        names.join(", "),
        match warnings.len() {
            0 => String::new(),
            n => format!(" ({n} warning(s))"),
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `sspi registry check --load-in-this-process FILES` and passes on its
/// output and verdict; a child that crashes or hangs is an error.
fn load_check_in_child(files: &[PathBuf], program: Option<&Path>) -> Result<ExitCode, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot locate this program: {e}"))?;
    let mut command = std::process::Command::new(exe);
    command.args(["registry", "check", "--load-in-this-process"]);
    if let Some(program) = program {
        command.arg("--program").arg(program);
    }
    let mut child = command
        .arg("--")
        .args(files)
        .stdin(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start the library check: {e}"))?;
    let deadline = Instant::now() + LOAD_CHECK_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "loading the libraries did not finish within {} s",
                    LOAD_CHECK_TIMEOUT.as_secs()
                ));
            }
            Err(e) => return Err(format!("waiting for the library check: {e}")),
        }
    };
    match status.code() {
        Some(0) => Ok(ExitCode::SUCCESS),
        Some(_) => Ok(ExitCode::FAILURE),
        None => Err(format!(
            "loading the libraries crashed the checking child ({status})"
        )),
    }
}

/// `sspi registry describe [NAME] [--markdown]`
pub fn describe(
    registry: &[PathBuf],
    name: Option<&str>,
    markdown: bool,
) -> Result<ExitCode, String> {
    let host = SecurityHost::from_registry_files(registry).map_err(|e| e.to_string())?;
    let packages: Vec<&PackageEntry> = host
        .enumerate_security_packages()
        .iter()
        .filter(|e| e.is_package() && e.info().is_some())
        .filter(|e| name.is_none_or(|n| e.name().eq_ignore_ascii_case(n)))
        .collect();
    if packages.is_empty() {
        return Err(match name {
            Some(name) => match host.query_security_package_info(name) {
                Err(e) => format!("{name}: {e}"),
                Ok(_) => format!("{name}: its library did not list it"),
            },
            None => "no package library listed any package".into(),
        });
    }
    for (n, entry) in packages.iter().enumerate() {
        if n > 0 {
            println!();
        }
        let specs = entry.parameters();
        if markdown {
            print!("{}", markdown_table(entry.name(), specs));
        } else {
            print!("{}", plain_table(entry.name(), specs));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The line that marks a package's generated table in the README.
pub fn marker(package: &str) -> String {
    format!("<!-- sspi registry describe {package} --markdown -->")
}

/// `Name`, or `Users\<name>\Password` for a value read in every subkey.
fn value_path(spec: &ParameterSpec) -> String {
    match spec.subkey_parent() {
        "" => spec.name().to_owned(),
        parent => format!("{parent}\\<name>\\{}", spec.name()),
    }
}

/// "REG_DWORD 1..5", "REG_DWORD 0 or 1", "REG_SZ path".
fn type_text(spec: &ParameterSpec) -> String {
    let name = spec.kind().type_name();
    match (spec.kind(), spec.range()) {
        (ParameterKind::Flag, _) => format!("{name} 0 or 1"),
        (ParameterKind::Path, _) => format!("{name} path"),
        (ParameterKind::Dword, Some((0, max))) if max == u64::from(u32::MAX) => name.to_owned(),
        (ParameterKind::Qword, Some((0, u64::MAX))) => name.to_owned(),
        (ParameterKind::Dword, Some((min, max))) if max == u64::from(u32::MAX) => {
            format!("{name} {min} or more")
        }
        (ParameterKind::Qword, Some((min, u64::MAX))) => format!("{name} {min} or more"),
        (_, Some((min, max))) => format!("{name} {min}..{max}"),
        _ => name.to_owned(),
    }
}

fn default_text(spec: &ParameterSpec) -> &'static str {
    match spec.default_text() {
        "" => "none",
        text => text,
    }
}

/// The package's declared values as the README's markdown table, preceded by its marker.
fn markdown_table(package: &str, specs: &[ParameterSpec]) -> String {
    let cell = |text: &str| text.replace('|', "\\|");
    let mut out = format!("{}\n", marker(package));
    if specs.is_empty() {
        out.push_str(&format!("{package} declares no registry values.\n"));
        return out;
    }
    out.push_str("| value | type | default | meaning |\n|---|---|---|---|\n");
    for spec in specs {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            value_path(spec),
            cell(&type_text(spec)),
            cell(default_text(spec)),
            cell(spec.meaning())
        ));
    }
    out
}

/// The package's declared values as an aligned plain-text table.
fn plain_table(package: &str, specs: &[ParameterSpec]) -> String {
    let mut out = format!("{package} ({PROVIDERS_KEY}\\{package})\n");
    if specs.is_empty() {
        out.push_str("  declares no registry values\n");
        return out;
    }
    let rows: Vec<[String; 4]> = specs
        .iter()
        .map(|s| {
            [
                value_path(s),
                type_text(s),
                default_text(s).to_owned(),
                s.meaning().to_owned(),
            ]
        })
        .collect();
    let header = ["VALUE", "TYPE", "DEFAULT", "MEANING"].map(str::to_owned);
    let width = |i: usize| {
        rows.iter()
            .chain(std::iter::once(&header))
            .map(|r| r[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    for row in std::iter::once(&header).chain(&rows) {
        out.push_str(&format!(
            "  {:<w0$}  {:<w1$}  {:<w2$}  {}\n",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        ));
    }
    out
}
