//! `sspi keytab add|list`: MIT keytabs (format 0x0502, what `ktutil` and
//! `klist -k` read) for the Kerberos package's acceptor, `kinit -k -t`, and
//! the shipped KDC (`--kdc-database` adds the same keys to its database).
//!
//! Keys are random (the default) or derived from a password read from an
//! environment variable (`--password-env`, never an argument). `list` never
//! prints a key.

use clap::{Args, Subcommand};
use sspi_package_kerberos::internal::crypto::{Etype, Key};
use sspi_package_kerberos::internal::keytab::Keytab;
use sspi_package_kerberos::internal::principal::Principal;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroizing;

/// `sspi keytab` subcommands.
#[derive(Subcommand, Debug)]
pub enum KeytabCommand {
    /// Add keys for a principal to a keytab (created, mode 0600, if missing).
    Add(AddArgs),
    /// List a keytab's entries: kvno, timestamp, principal, etype (never the key).
    List {
        /// The keytab file.
        keytab: PathBuf,
    },
}

/// `sspi keytab add`.
#[derive(Args, Debug)]
pub struct AddArgs {
    /// The keytab file.
    pub keytab: PathBuf,
    /// The principal: `name`, `service/host`, with `@REALM` (or `--realm`).
    pub principal: String,
    /// The realm of a principal that names none.
    #[arg(long)]
    pub realm: Option<String>,
    /// The key version number.
    #[arg(long, default_value_t = 1)]
    pub kvno: u32,
    /// Encryption types, by name or number, comma-separated (default: every
    /// one the package implements).
    #[arg(long, value_delimiter = ',')]
    pub enctypes: Vec<String>,
    /// Derive the keys from the password in this environment variable (the
    /// default salt: realm then name components, 4096 iterations) instead of
    /// making random ones.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// Also add the principal with the same keys to this database of the
    /// shipped KDC (`sspi kdc`, `SspiKdc\Database`), created if missing.
    #[arg(long, value_name = "FILE")]
    pub kdc_database: Option<PathBuf>,
}

/// Runs a `sspi keytab` subcommand.
pub fn run(command: KeytabCommand) -> Result<ExitCode, String> {
    match command {
        KeytabCommand::Add(args) => add(&args),
        KeytabCommand::List { keytab } => list(&keytab),
    }
}

fn add(args: &AddArgs) -> Result<ExitCode, String> {
    let principal = Principal::parse(&args.principal, args.realm.as_deref().unwrap_or(""))
        .map_err(|m| format!("principal: {m} (give it @REALM or --realm)"))?;
    let etypes = if args.enctypes.is_empty() {
        Etype::ALL.to_vec()
    } else {
        let mut out = Vec::new();
        for name in args
            .enctypes
            .iter()
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            let etype = Etype::parse(name).map_err(|m| format!("--enctypes: {m}"))?;
            if !out.contains(&etype) {
                out.push(etype);
            }
        }
        if out.is_empty() {
            return Err("--enctypes lists no encryption type".into());
        }
        out
    };
    let password = match &args.password_env {
        Some(var) => Some(Zeroizing::new(std::env::var(var).map_err(|_| {
            format!("--password-env {var}: the environment variable is not set (or not UTF-8)")
        })?)),
        None => None,
    };
    let keys = etypes
        .iter()
        .map(|etype| match &password {
            Some(p) => etype.string_to_key(p.as_bytes(), &principal.salt(), None),
            None => Key::random(*etype).map_err(|e| e.to_string()),
        })
        .collect::<Result<Vec<Key>, String>>()?;

    let mut keytab = if args.keytab.exists() {
        Keytab::load(&args.keytab)?
    } else {
        Keytab::default()
    };
    if let Some(old) = keytab.entries.iter().find(|e| {
        e.principal == principal
            && e.kvno == args.kvno
            && keys.iter().any(|k| k.etype().number() == e.etype)
    }) {
        return Err(format!(
            "{} already has a {} key of {principal} with kvno {}: use another --kvno",
            args.keytab.display(),
            Etype::describe(i64::from(old.etype)),
            args.kvno
        ));
    }
    if let Some(path) = &args.kdc_database {
        add_to_database(path, &principal, args.kvno, &keys)?;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
        .unwrap_or(0);
    for key in &keys {
        keytab.push(&principal, args.kvno, key, now);
    }
    write_private(&args.keytab, &keytab.to_bytes()?)?;
    for key in &keys {
        println!(
            "added {principal} kvno {} {} to {}",
            args.kvno,
            key.etype().name(),
            args.keytab.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Appends `PRINCIPAL key KVNO ETYPE HEX …` to the KDC database, refusing a
/// principal it already has (the KDC would reject the duplicate line).
fn add_to_database(
    path: &Path,
    principal: &Principal,
    kvno: u32,
    keys: &[Key],
) -> Result<(), String> {
    let existing = if path.exists() {
        let bytes =
            sspi_trust::read_file(path, "KDC database", 16 << 20).map_err(|e| e.to_string())?;
        Zeroizing::new(
            String::from_utf8(bytes)
                .map_err(|_| format!("{}: the KDC database is not UTF-8 text", path.display()))?,
        )
    } else {
        Zeroizing::new(String::new())
    };
    let database =
        sspi_kdc::Database::parse(&existing, &principal.realm, &path.display().to_string())?;
    if database.lookup(principal).is_some() {
        return Err(format!(
            "{} already has {principal}; remove its line to replace its keys",
            path.display()
        ));
    }
    let mut line = Zeroizing::new(principal.to_string());
    for key in keys {
        line.push_str(&format!(" key {kvno} {} ", key.etype().name()));
        for b in key.bytes() {
            line.push_str(&format!("{b:02x}"));
        }
    }
    line.push('\n');
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&line);
    write_private(path, text.as_bytes())?;
    println!("added {principal} to the KDC database {}", path.display());
    Ok(())
}

/// Writes `bytes` to `path` through a new file (mode 0600) renamed over it.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| format!("{}: not a file name", path.display()))?;
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("cannot write {}: {e}", path.display())
    })
}

fn list(path: &Path) -> Result<ExitCode, String> {
    let keytab = Keytab::load(path)?;
    println!("Keytab: {}", path.display());
    println!("KVNO Timestamp            Principal");
    for entry in &keytab.entries {
        println!(
            "{:>4} {} {} ({})",
            entry.kvno,
            utc(i64::from(entry.timestamp)),
            entry.principal,
            Etype::from_number(i64::from(entry.etype))
                .map(|e| e.name().to_string())
                .unwrap_or_else(|| Etype::describe(i64::from(entry.etype)))
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `YYYY-MM-DDTHH:MM:SSZ` of Unix seconds (the civil-from-days algorithm).
fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(super::utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::utc(1_796_137_200), "2026-12-01T15:00:00Z");
    }
}
