//! The NTLM package's registry parameters and its user database.
//!
//! `HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM`:
//!
//! | value | type | default | meaning |
//! |---|---|---|---|
//! | `LmCompatibilityLevelClient` | REG_DWORD | 3 | 1, 3, 4, 5: send NTLMv2 only (1 never falls back to LM). 0 (LM only) and 2 (NTLMv1 only) are refused |
//! | `LmCompatibilityLevelServer` | REG_DWORD | 5 | 3, 4, 5: accept NTLMv2 only. 0, 1, 2 (accept LM or NTLMv1) are refused |
//! | `NoLmHash` | REG_DWORD | 1 | accepted for compatibility; LM hashes are never computed |
//! | `NbComputerName` | REG_SZ | host name's first label, upper case | MsvAvNbComputerName |
//! | `NbDomainName` | REG_SZ | `DefaultDomain`, else `NbComputerName` | MsvAvNbDomainName and the CHALLENGE TargetName |
//! | `DnsComputerName` | REG_SZ | host name | MsvAvDnsComputerName (empty: not sent) |
//! | `DnsDomainName` | REG_SZ | none | MsvAvDnsDomainName |
//! | `MaxClockSkew` | REG_DWORD | 300 | seconds the NTLMv2 response's timestamp may differ from the server clock |
//! | `ContextLifetime` | REG_DWORD | 36000 | seconds a context stays valid |
//! | `RequireChannelBindings` | REG_DWORD | 0 | 1: a server given channel bindings refuses clients that send none |
//! | `RequireMic` | REG_DWORD | 1 | 1: a server refuses an AUTHENTICATE without a MIC; 0 accepts one from a client that makes none (curl's NTLM) |
//! | `ServicePrincipalNames` | REG_MULTI_SZ (or comma-separated REG_SZ) | none | the server's own SPNs (`host/server.example.com`): an AUTHENTICATE whose MsvAvTargetName names none of them (or none at all) is refused; unset, any target is accepted |
//! | `DefaultDomain` | REG_SZ | "" | the domain of users that name none |
//! | `DefaultUser` | REG_SZ | none | the client identity when the application supplies none |
//! | `UserDatabase` | REG_SZ | none | file of `DOMAIN:user:password` or `DOMAIN:user:<32 hex NT hash>` lines |
//! | `Users\<name>\Password` | REG_SZ | — | a user's password (one subkey per user) |
//! | `Users\<name>\Domain` | REG_SZ | `DefaultDomain` | a user's domain |
//!
//! [`PARAMETERS`] declares the same values to the registry tools; a test
//! checks that it, this table and the README's agree.

use crate::crypto::{self, Key16};
use crate::text::upcase;
use sspi_core::{PackageParameters, ParameterSpec, SecurityError, SecurityResult, SecurityStatus};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;
use zeroize::Zeroizing;

/// The largest `UserDatabase` file read (64 MiB, about a million users).
pub const MAX_USER_DATABASE_SIZE: u64 = 64 << 20;

/// The registry values the package reads (the table above), as
/// `sspi registry check` and `sspi registry describe NTLM` see them.
pub const PARAMETERS: &[ParameterSpec] = &[
    ParameterSpec::dword(
        "LmCompatibilityLevelClient",
        1,
        5,
        "3",
        "1, 3, 4, 5: send NTLMv2 only; 0 (LM only) and 2 (NTLMv1) are refused",
    ),
    ParameterSpec::dword(
        "LmCompatibilityLevelServer",
        3,
        5,
        "5",
        "3, 4, 5: accept NTLMv2 only; 0, 1, 2 (LM or NTLMv1) are refused",
    ),
    ParameterSpec::dword(
        "NoLmHash",
        0,
        u32::MAX,
        "1",
        "accepted for compatibility; LM hashes are never computed",
    ),
    ParameterSpec::string(
        "NbComputerName",
        "host name's first label, upper case",
        "MsvAvNbComputerName; also the client's workstation name",
    ),
    ParameterSpec::string(
        "NbDomainName",
        "DefaultDomain, else NbComputerName",
        "MsvAvNbDomainName and the CHALLENGE's TargetName",
    ),
    ParameterSpec::string(
        "DnsComputerName",
        "host name",
        "MsvAvDnsComputerName (empty: not sent)",
    ),
    ParameterSpec::string("DnsDomainName", "", "MsvAvDnsDomainName (empty: not sent)"),
    ParameterSpec::dword(
        "MaxClockSkew",
        1,
        u32::MAX,
        "300",
        "seconds the NTLMv2 response's timestamp may differ from the server's clock",
    ),
    ParameterSpec::dword(
        "ContextLifetime",
        1,
        u32::MAX,
        "36000",
        "seconds a context stays valid",
    ),
    ParameterSpec::flag(
        "RequireChannelBindings",
        "0",
        "1: a server given channel bindings also refuses clients that send none",
    ),
    ParameterSpec::flag(
        "RequireMic",
        "1",
        "1: a server refuses an AUTHENTICATE without a MIC; 0 accepts one from clients that make none (curl's NTLM)",
    ),
    ParameterSpec::strings(
        "ServicePrincipalNames",
        "",
        "the server's own SPNs; an AUTHENTICATE made for another target is refused",
    ),
    ParameterSpec::string("DefaultDomain", "", "the domain of users that name none"),
    ParameterSpec::string(
        "DefaultUser",
        "",
        "the client identity when the application supplies none",
    ),
    ParameterSpec::path(
        "UserDatabase",
        "",
        "a file of DOMAIN:user:password or DOMAIN:user:<NT hash> lines",
    ),
    ParameterSpec::string("Password", "", "a user's password (one subkey per user)")
        .in_subkeys("Users"),
    ParameterSpec::string("Domain", "DefaultDomain", "a user's domain").in_subkeys("Users"),
];

/// The parameters of `HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM`.
#[derive(Debug)]
pub struct NtlmConfig {
    /// MsvAvNbComputerName.
    pub nb_computer_name: String,
    /// MsvAvNbDomainName and the CHALLENGE's TargetName.
    pub nb_domain_name: String,
    /// MsvAvDnsComputerName (empty: not sent).
    pub dns_computer_name: String,
    /// MsvAvDnsDomainName (empty: not sent).
    pub dns_domain_name: String,
    /// The largest difference between the NTLMv2 response's timestamp and the server clock.
    pub max_clock_skew: Duration,
    /// How long a context stays valid.
    pub context_lifetime: Duration,
    /// A server with channel bindings refuses a client that sends none.
    pub require_channel_bindings: bool,
    /// `RequireMic` (REG_DWORD 0 or 1, default 1): a server refuses an
    /// AUTHENTICATE message without a MIC. 0 accepts one from a client that
    /// makes none (curl's own NTLM): its NTLMv2 response still proves the
    /// password and covers the AV pairs, but the NEGOTIATE and CHALLENGE
    /// flags are then not integrity-protected.
    pub require_mic: bool,
    /// The server's own service principal names; when not empty, the
    /// client's MsvAvTargetName must be one of them (case-insensitive).
    pub service_principal_names: Vec<String>,
    /// The domain of users that name none.
    pub default_domain: String,
    /// The client identity when the application supplies none.
    pub default_user: Option<String>,
    users: HashMap<UserId, UserEntry>,
}

/// A user's identity as a lookup key: domain and user name, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct UserId {
    domain: String,
    user: String,
}

impl UserId {
    fn new(domain: &str, user: &str) -> Self {
        Self {
            domain: upcase(domain),
            user: upcase(user),
        }
    }
}

/// One user: names as configured and the NT hash (NTOWFv1), held zeroized.
pub struct UserEntry {
    /// The domain as configured.
    pub domain: String,
    /// The user name as configured.
    pub user: String,
    /// MD4(UTF-16LE(password)), computed at load time.
    pub nt_hash: Key16,
    /// Where the user was defined, for duplicate errors.
    origin: String,
}

impl std::fmt::Debug for UserEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "UserEntry({}\\{}, <NT hash redacted>)",
            self.domain, self.user
        )
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// The longest name the package announces (characters), so the CHALLENGE stays small.
const MAX_NAME: usize = 255;

impl NtlmConfig {
    /// Reads the package's parameters, naming the file, line and value of any problem.
    pub fn from_parameters(params: &PackageParameters) -> SecurityResult<Self> {
        match params.dword("LmCompatibilityLevelClient")?.unwrap_or(3) {
            1 | 3..=5 => {}
            0 => {
                return Err(params.error(
                    "LmCompatibilityLevelClient",
                    "LmCompatibilityLevelClient=0 (LM only) is refused: this package sends NTLMv2 only; use 3",
                ));
            }
            level => {
                return Err(params.error(
                    "LmCompatibilityLevelClient",
                    format_args!(
                        "LmCompatibilityLevelClient={level} is refused: this package sends NTLMv2 only (1, 3, 4 or 5)"
                    ),
                ));
            }
        }
        match params.dword("LmCompatibilityLevelServer")?.unwrap_or(5) {
            3..=5 => {}
            level @ 0..=2 => {
                return Err(params.error(
                    "LmCompatibilityLevelServer",
                    format_args!(
                        "LmCompatibilityLevelServer={level} would accept LM or NTLMv1 responses, which this package refuses; use 3, 4 or 5 (NTLMv2 only)"
                    ),
                ));
            }
            level => {
                return Err(params.error(
                    "LmCompatibilityLevelServer",
                    format_args!("LmCompatibilityLevelServer must be 3, 4 or 5, not {level}"),
                ));
            }
        }
        params.dword("NoLmHash")?;

        let name = |value: &str, default: String| -> SecurityResult<String> {
            let name = params.string(value)?.map(str::to_string).unwrap_or(default);
            if name.chars().count() > MAX_NAME {
                return Err(params.error(
                    value,
                    format_args!("{value} is longer than {MAX_NAME} characters"),
                ));
            }
            Ok(name)
        };
        let host = host_name();
        let first_label: String = host
            .split('.')
            .next()
            .unwrap_or("")
            .chars()
            .take(15)
            .collect();
        let default_domain = name("DefaultDomain", String::new())?;
        let nb_computer_name = name("NbComputerName", upcase(&first_label))?;
        let nb_domain_name = name(
            "NbDomainName",
            if default_domain.is_empty() {
                nb_computer_name.clone()
            } else {
                default_domain.clone()
            },
        )?;
        let dns_computer_name = name("DnsComputerName", host)?;
        let dns_domain_name = name("DnsDomainName", String::new())?;

        let seconds = |value: &str, default: u32, min: u32| -> SecurityResult<Duration> {
            let s = params.dword(value)?.unwrap_or(default);
            if s < min {
                return Err(params.error(
                    value,
                    format_args!("{value} must be at least {min} second(s)"),
                ));
            }
            Ok(Duration::from_secs(u64::from(s)))
        };
        let max_clock_skew = seconds("MaxClockSkew", 300, 1)?;
        let context_lifetime = seconds("ContextLifetime", 36_000, 1)?;
        let require_channel_bindings = params.flag("RequireChannelBindings", false)?;
        let require_mic = params.flag("RequireMic", true)?;
        let default_user = params.string("DefaultUser")?.map(str::to_string);
        let service_principal_names: Vec<String> = params
            .strings("ServicePrincipalNames")?
            .unwrap_or_default()
            .iter()
            .flat_map(|s| s.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();

        let mut config = Self {
            nb_computer_name,
            nb_domain_name,
            dns_computer_name,
            dns_domain_name,
            max_clock_skew,
            context_lifetime,
            require_channel_bindings,
            require_mic,
            service_principal_names,
            default_domain,
            default_user,
            users: HashMap::new(),
        };
        config.load_registry_users(params)?;
        if let Some((path, bytes)) =
            params.read_file("UserDatabase", "NTLM user database", MAX_USER_DATABASE_SIZE)?
        {
            let text = std::str::from_utf8(&bytes).map_err(|e| {
                params.error(
                    "UserDatabase",
                    format_args!("the user database {} is not UTF-8: {e}", path.display()),
                )
            })?;
            config.load_user_database(&path, text)?;
        }
        Ok(config)
    }

    fn load_registry_users(&mut self, params: &PackageParameters) -> SecurityResult<()> {
        for user in params.users()? {
            let entry = UserEntry {
                nt_hash: crypto::nt_hash(user.password),
                domain: user
                    .domain
                    .map_or_else(|| self.default_domain.clone(), str::to_string),
                origin: user.origin.to_string(),
                user: user.name,
            };
            let key = format!("Users\\{}", entry.user);
            self.insert(entry)
                .map_err(|message| params.error_in(&key, "Password", message))?;
        }
        Ok(())
    }

    /// Loads `DOMAIN:user:password` / `DOMAIN:user:<32 hex digits>` lines.
    /// Blank lines and lines starting with `#` are skipped; an empty DOMAIN
    /// means `DefaultDomain`; the password is everything after the second
    /// colon (it may contain colons); exactly 32 hex digits are an NT hash.
    pub fn load_user_database(&mut self, path: &Path, text: &str) -> SecurityResult<()> {
        let text = Zeroizing::new(text.to_string());
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let at = format!("{}:{line_no}", path.display());
            let error = |message: &str| {
                SecurityError::new(
                    SecurityStatus::SEC_E_CANNOT_INSTALL,
                    format!("{at}: {message} (NTLM user database)"),
                )
            };
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let mut parts = line.splitn(3, ':');
            let (Some(domain), Some(user), Some(secret)) =
                (parts.next(), parts.next(), parts.next())
            else {
                return Err(error(
                    "expected DOMAIN:user:password or DOMAIN:user:<32 hex digits of NT hash>",
                ));
            };
            let (domain, user) = (domain.trim(), user.trim());
            if user.is_empty() {
                return Err(error("the user name is empty"));
            }
            if secret.is_empty() {
                return Err(error(&format!("user {user} has an empty password")));
            }
            let domain = if domain.is_empty() {
                self.default_domain.clone()
            } else {
                domain.to_string()
            };
            let nt_hash = match parse_hex16(secret) {
                Some(hash) => hash,
                None => crypto::nt_hash(secret),
            };
            let entry = UserEntry {
                domain,
                user: user.to_string(),
                nt_hash,
                origin: at.clone(),
            };
            self.insert(entry).map_err(|message| error(&message))?;
        }
        Ok(())
    }

    fn insert(&mut self, entry: UserEntry) -> Result<(), String> {
        let id = UserId::new(&entry.domain, &entry.user);
        if let Some(existing) = self.users.get(&id) {
            return Err(format!(
                "user {}\\{} is defined twice (first at {})",
                entry.domain, entry.user, existing.origin
            ));
        }
        self.users.insert(id, entry);
        Ok(())
    }

    /// The user `domain\user` (case-insensitive; an empty domain is `DefaultDomain`).
    pub fn user(&self, domain: &str, user: &str) -> Option<&UserEntry> {
        let domain = if domain.is_empty() {
            self.default_domain.as_str()
        } else {
            domain
        };
        self.users.get(&UserId::new(domain, user))
    }

    /// How many users are configured.
    pub fn user_count(&self) -> usize {
        self.users.len()
    }
}

fn parse_hex16(text: &str) -> Option<Key16> {
    let bytes = text.as_bytes();
    if bytes.len() != 32 {
        return None;
    }
    let mut out = Zeroizing::new([0u8; 16]);
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        *slot = (hi * 16 + lo) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sspi_core::{Parameter, ParameterKind, ParameterValue};

    fn params(entries: Vec<(&str, &str, ParameterValue)>) -> PackageParameters {
        PackageParameters {
            key_path: r"HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM".into(),
            entries: entries
                .into_iter()
                .map(|(key, name, value)| Parameter {
                    key: key.into(),
                    name: name.into(),
                    value,
                    origin: "conf/sspi.reg:7:1".into(),
                })
                .collect::<Vec<_>>()
                .into(),
        }
    }

    #[test]
    fn database_lines_and_errors() {
        let mut config = NtlmConfig::from_parameters(&params(vec![(
            "",
            "DefaultDomain",
            ParameterValue::Sz("CORP".into()),
        )]))
        .unwrap();
        config
            .load_user_database(
                Path::new("users.txt"),
                "# comment\n\nCORP:alice:pa:ss\n:bob:a4f49c406510bdcab6824ee7c30fd852\r\n",
            )
            .unwrap();
        assert_eq!(config.user_count(), 2);
        assert_eq!(
            *config.user("corp", "ALICE").unwrap().nt_hash,
            *crypto::nt_hash("pa:ss")
        );
        assert_eq!(
            *config.user("", "bob").unwrap().nt_hash,
            *crypto::nt_hash("Password")
        );
        assert!(config.user("OTHER", "alice").is_none());

        let err = config
            .load_user_database(Path::new("users.txt"), "CORP:carol:x\nno colon here\n")
            .unwrap_err();
        assert_eq!(err.status(), SecurityStatus::SEC_E_CANNOT_INSTALL);
        assert!(
            err.message()
                .starts_with("users.txt:2: expected DOMAIN:user:password"),
            "{err}"
        );
        let err = config
            .load_user_database(Path::new("u"), "corp:ALICE:again\n")
            .unwrap_err();
        assert!(
            err.message()
                .contains("defined twice (first at users.txt:3)"),
            "{err}"
        );
    }

    #[test]
    fn lm_compatibility_levels() {
        for (value, level, ok) in [
            ("LmCompatibilityLevelClient", 0, false),
            ("LmCompatibilityLevelClient", 1, true),
            ("LmCompatibilityLevelClient", 2, false),
            ("LmCompatibilityLevelClient", 3, true),
            ("LmCompatibilityLevelServer", 2, false),
            ("LmCompatibilityLevelServer", 5, true),
            ("LmCompatibilityLevelServer", 6, false),
        ] {
            let result = NtlmConfig::from_parameters(&params(vec![(
                "",
                value,
                ParameterValue::Dword(level),
            )]));
            assert_eq!(result.is_ok(), ok, "{value}={level}");
            if let Err(e) = result {
                assert!(e.message().starts_with("conf/sspi.reg:7:1: "), "{e}");
            }
        }
    }

    #[test]
    fn registry_users_come_from_the_users_subkeys() {
        let config = NtlmConfig::from_parameters(&params(vec![
            ("", "DefaultDomain", ParameterValue::Sz("CORP".into())),
            (r"Users\alice", "Password", ParameterValue::Sz("pw".into())),
            (r"Users\bob", "Password", ParameterValue::Sz("pw2".into())),
            (r"Users\bob", "Domain", ParameterValue::Sz("OTHER".into())),
        ]))
        .unwrap();
        assert_eq!(
            *config.user("corp", "alice").unwrap().nt_hash,
            *crypto::nt_hash("pw")
        );
        assert_eq!(
            *config.user("OTHER", "BOB").unwrap().nt_hash,
            *crypto::nt_hash("pw2")
        );
        assert!(config.user("CORP", "bob").is_none());

        let missing = NtlmConfig::from_parameters(&params(vec![(
            r"Users\carol",
            "Domain",
            ParameterValue::Sz("CORP".into()),
        )]))
        .unwrap_err();
        assert!(
            missing
                .message()
                .contains("user carol has no Password value"),
            "{missing}"
        );
        let wrong_type = NtlmConfig::from_parameters(&params(vec![(
            r"Users\carol",
            "Password",
            ParameterValue::Dword(1),
        )]))
        .unwrap_err();
        assert!(
            wrong_type
                .message()
                .starts_with("conf/sspi.reg:7:1: expected REG_SZ, found REG_DWORD"),
            "{wrong_type}"
        );
    }

    /// The rows `| \`name\` | type | default | meaning |` of a markdown table
    /// (`prefix` before each line), as (name, type, default).
    fn table(text: &str, prefix: &str) -> Vec<(String, String, String)> {
        text.lines()
            .filter_map(|line| line.strip_prefix(prefix))
            .filter(|line| line.starts_with("| `"))
            .map(|line| {
                let cells: Vec<&str> = line.split(" | ").collect();
                let name = cells[0].trim_start_matches("| ").replace('`', "");
                let default = match cells[2].replace('`', "").as_str() {
                    "none" | "\"\"" | "—" => String::new(),
                    other => other.to_string(),
                };
                (name, cells[1].to_string(), default)
            })
            .collect()
    }

    fn declared() -> Vec<(String, String, String)> {
        PARAMETERS
            .iter()
            .map(|spec| {
                let name = match spec.subkey_parent() {
                    "" => spec.name().to_string(),
                    parent => format!("{parent}\\<name>\\{}", spec.name()),
                };
                (
                    name,
                    spec.kind().type_name().to_string(),
                    spec.default_text().to_string(),
                )
            })
            .collect()
    }

    fn same_values(
        declared: &[(String, String, String)],
        documented: &[(String, String, String)],
        doc: &str,
    ) {
        assert_eq!(declared.len(), documented.len(), "{doc}: {documented:?}");
        for (name, kind, default) in declared {
            let Some((_, doc_kind, doc_default)) = documented.iter().find(|d| &d.0 == name) else {
                panic!("{name} is declared but not documented in {doc}");
            };
            assert!(
                doc_kind.starts_with(kind.as_str()),
                "{name}: {kind} vs {doc_kind} in {doc}"
            );
            assert_eq!(default, doc_default, "{name}'s default in {doc}");
        }
    }

    #[test]
    fn the_declared_parameters_are_the_documented_ones() {
        let readme = include_str!("../../../README.md");
        let start = readme.find("### The NTLM package").unwrap();
        let section = &readme[start..];
        let end = section[4..].find("\n### ").map_or(section.len(), |e| e + 4);
        let declared = declared();
        same_values(&declared, &table(&section[..end], ""), "README.md");
        same_values(
            &declared,
            &table(include_str!("config.rs"), "//! "),
            "config.rs",
        );
        for spec in PARAMETERS {
            assert!(!spec.meaning().is_empty(), "{} has a meaning", spec.name());
        }
    }

    #[test]
    fn declared_ranges_are_the_ones_the_package_enforces() {
        for spec in PARAMETERS {
            let Some((min, max)) = spec.range() else {
                continue;
            };
            let load = |value: u64| {
                NtlmConfig::from_parameters(&params(vec![(
                    "",
                    spec.name(),
                    ParameterValue::Dword(value as u32),
                )]))
            };
            let name = spec.name();
            assert!(load(min).is_ok(), "{name}={min}");
            assert!(load(max).is_ok(), "{name}={max}");
            if min > 0 {
                assert!(
                    load(min - 1).is_err(),
                    "{name}={} is below the range",
                    min - 1
                );
            }
            if max < u64::from(u32::MAX) {
                assert!(
                    load(max + 1).is_err(),
                    "{name}={} is above the range",
                    max + 1
                );
            }
            let default: u64 = spec.default_text().parse().unwrap();
            assert!((min..=max).contains(&default), "{name}'s default");
            if spec.kind() == ParameterKind::Flag {
                assert_eq!((min, max), (0, 1));
            }
        }
    }
}
