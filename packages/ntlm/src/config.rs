//! The NTLM package's registry parameters and its user database.
//!
//! `HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM`:
//!
//! | value | type | default | meaning |
//! |---|---|---|---|
//! | `LmCompatibilityLevelClient` | DWORD | 3 | 1, 3, 4, 5: send NTLMv2 only (1 never falls back to LM). 0 (LM only) and 2 (NTLMv1 only) are refused |
//! | `LmCompatibilityLevelServer` | DWORD | 5 | 3, 4, 5: accept NTLMv2 only. 0, 1, 2 (accept LM or NTLMv1) are refused |
//! | `NoLmHash` | DWORD | 1 | accepted for compatibility; LM hashes are never computed |
//! | `NbComputerName` | SZ | host name, first label, upper case | MsvAvNbComputerName |
//! | `NbDomainName` | SZ | `DefaultDomain`, else `NbComputerName` | MsvAvNbDomainName and the CHALLENGE TargetName |
//! | `DnsComputerName` | SZ | host name | MsvAvDnsComputerName (empty: not sent) |
//! | `DnsDomainName` | SZ | none | MsvAvDnsDomainName |
//! | `MaxClockSkew` | DWORD | 300 | seconds the NTLMv2 response's timestamp may differ from the server clock |
//! | `ContextLifetime` | DWORD | 36000 | seconds a context stays valid |
//! | `RequireChannelBindings` | DWORD | 0 | 1: a server given channel bindings refuses clients that send none |
//! | `ServicePrincipalNames` | MULTI_SZ (or comma-separated SZ) | none | the server's own SPNs (`host/server.example.com`): an AUTHENTICATE whose MsvAvTargetName names none of them (or none at all) is refused; unset, any target is accepted |
//! | `DefaultDomain` | SZ | "" | the domain of users that name none |
//! | `DefaultUser` | SZ | none | the client identity when the application supplies none |
//! | `UserDatabase` | SZ | none | file of `DOMAIN:user:password` or `DOMAIN:user:<32 hex NT hash>` lines |
//! | `Users\<name>\Password`, `Users\<name>\Domain` | SZ | — | users in the registry |

use crate::crypto::{self, Key16};
use sspi_core::{PackageParameters, ParameterValue, SecurityError, SecurityResult, SecurityStatus};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;
use zeroize::Zeroizing;

/// The largest `UserDatabase` file read (64 MiB, about a million users).
pub const MAX_USER_DATABASE_SIZE: u64 = 64 << 20;

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
            domain: crypto::upcase(domain),
            user: crypto::upcase(user),
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
        let nb_computer_name = name("NbComputerName", crypto::upcase(&first_label))?;
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
        for name in params.subkeys_of("Users") {
            let key = format!("Users\\{name}");
            let value = |value: &str| {
                params
                    .values_in(&key)
                    .find(|p| p.name.eq_ignore_ascii_case(value))
            };
            let string = |value_name: &str| -> SecurityResult<Option<(&str, &str)>> {
                match value(value_name) {
                    Some(p) => match &p.value {
                        ParameterValue::Sz(s) => Ok(Some((s.as_str(), p.origin.as_str()))),
                        other => Err(params.error_in(
                            &key,
                            value_name,
                            format_args!("expected REG_SZ, found {}", other.type_name()),
                        )),
                    },
                    None => Ok(None),
                }
            };
            let Some((password, origin)) = string("Password")? else {
                return Err(params.error_in(
                    &key,
                    "Password",
                    format_args!("user {name} has no Password value"),
                ));
            };
            let domain = match string("Domain")? {
                Some((domain, _)) => domain.to_string(),
                None => self.default_domain.clone(),
            };
            let entry = UserEntry {
                nt_hash: crypto::nt_hash(password),
                domain,
                user: name.clone(),
                origin: origin.to_string(),
            };
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
    use sspi_core::Parameter;

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
}
