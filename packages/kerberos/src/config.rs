//! The package's registry parameters (`HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Kerberos`).

use crate::crypto::Etype;
use crate::principal::Principal;
use sspi_core::{PackageParameters, ParameterSpec, ParameterValue, SecretBytes, SecurityResult};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// The parameters, validated.
#[derive(Debug)]
pub struct KerberosConfig {
    /// `DefaultRealm` (REG_SZ): the realm of names that give none.
    pub default_realm: String,
    /// `Domains\<REALM>\KdcNames` (REG_MULTI_SZ of `host:port`): each realm's KDCs.
    pub kdcs: HashMap<String, Vec<String>>,
    /// `KdcTimeout` (REG_DWORD ms, default 3000): each connect, send and receive.
    pub kdc_timeout: Duration,
    /// `KdcRetries` (REG_DWORD, default 1): extra rounds over a realm's KDCs.
    pub kdc_retries: u32,
    /// `SkewTime` (REG_DWORD minutes, default 5): the largest clock difference accepted.
    pub skew: Duration,
    /// `AllowedEnctypes` (REG_MULTI_SZ of names or numbers; default
    /// [`Etype::ALL`]: aes-sha1 256 and 128, then RFC 8009's 256 and 128).
    pub etypes: Vec<Etype>,
    /// `TicketLifetime` (REG_DWORD seconds, default 36000): the lifetime asked of the KDC.
    pub ticket_lifetime: Duration,
    /// `Keytab` (REG_SZ path, relative to the .reg file): the acceptor's keys.
    pub keytab: Option<KeytabSetting>,
    /// `ServicePrincipal` (REG_SZ, e.g. `host/localhost`): the acceptor's own principal.
    pub service_principal: Option<Principal>,
    /// `DefaultTarget` (REG_SZ, e.g. `host/server.example.com`): the target when
    /// InitializeSecurityContext names none (else `ServicePrincipal`).
    pub default_target: Option<Principal>,
    /// `ReplayCacheSize` (REG_DWORD, default 100000): authenticators the
    /// replay cache file holds (used when the file is created).
    pub replay_cache_size: usize,
    /// `ReplayCachePath` (REG_SZ path, relative to the .reg file; default
    /// `/var/tmp/sspi-kerberos-<euid>.rcache`): the replay cache file shared
    /// by the acceptors of this host.
    pub replay_cache_path: PathBuf,
    /// `RequireChannelBindings` (REG_DWORD 0 or 1, default 0): an acceptor
    /// given channel bindings also refuses initiators that send none.
    pub require_channel_bindings: bool,
    /// `RequireOkAsDelegate` (REG_DWORD 0 or 1, default 1): ISC_REQ_DELEGATE
    /// forwards the client's TGT only to a service whose ticket has the
    /// ok-as-delegate flag (the realm trusts it), as Windows does; 0
    /// delegates to any service asked, as MIT's GSS_C_DELEG_FLAG does.
    pub require_ok_as_delegate: bool,
    /// `DefaultUser` (REG_SZ `user` or `user@REALM`): the client identity when the application gives none.
    pub default_user: Option<Principal>,
    /// `DefaultPassword` (REG_SZ): the default user's password (demo only).
    pub default_password: Option<SecretBytes>,
    /// `Users\<name>\Password` (REG_SZ, demo only): passwords by user name.
    users: HashMap<String, SecretBytes>,
    /// `Krb5Config` (REG_SZ path): the krb5.conf's `[domain_realm]`, which
    /// maps the host of a target name to its realm (its `default_realm` and
    /// `[realms]` KDCs are merged into the fields above, the registry winning).
    pub krb5_conf: crate::krb5_conf::Krb5Conf,
    /// `CredentialCache` and `ClientKeytab`: where clients find tickets and keys.
    pub credential_sources: CredentialSources,
}

// --- Credential sources (credential cache, client keytab) ---

/// `CredentialCache` (REG_SZ, `FILE:<path>` or `DIR:<dir>`, as `KRB5CCNAME`;
/// `KRB5CCNAME` wins) and `ClientKeytab` (REG_SZ path, relative to the .reg
/// file): the clients' credential cache and keytab.
#[derive(Debug, Clone, Default)]
pub struct CredentialSources {
    /// The credential cache the registry names.
    pub credential_cache: Option<crate::ccache::CacheName>,
    /// The keytab clients without a password initiate with.
    pub client_keytab: Option<KeytabSetting>,
}

impl CredentialSources {
    fn from_parameters(params: &PackageParameters) -> SecurityResult<Self> {
        let credential_cache = match params.string("CredentialCache")? {
            Some(text) if !text.is_empty() => Some(
                crate::ccache::CacheName::parse(text)
                    .map_err(|m| params.error("CredentialCache", m))?,
            ),
            _ => None,
        };
        let client_keytab = params.path("ClientKeytab")?.map(|path| KeytabSetting {
            path,
            origin: params
                .get("ClientKeytab")
                .map(|p| p.origin.to_string())
                .unwrap_or_default(),
        });
        Ok(Self {
            credential_cache,
            client_keytab,
        })
    }
}

// --- end of credential sources ---

/// The configured keytab and where it was set.
#[derive(Debug, Clone)]
pub struct KeytabSetting {
    /// The resolved path.
    pub path: PathBuf,
    /// `file:line:column` of the registry value.
    pub origin: String,
}

const DEFAULT_TIMEOUT_MS: u32 = 3000;
const DEFAULT_RETRIES: u32 = 1;
const DEFAULT_SKEW_MINUTES: u32 = 5;
const DEFAULT_LIFETIME: u32 = 36_000;
const DEFAULT_REPLAY_CACHE: u32 = 100_000;
const TIMEOUT_MS: (u32, u32) = (1, 600_000);
const RETRIES: (u32, u32) = (0, 10);
const SKEW_MINUTES: (u32, u32) = (0, 1440);
const LIFETIME: (u32, u32) = (60, 31_536_000);
const REPLAY_CACHE: (u32, u32) = (16, 10_000_000);

/// Every registry value the package reads (the README's Kerberos table), for
/// `sspi registry check` and `sspi registry describe Kerberos`.
pub const PARAMETERS: &[ParameterSpec] = &[
    ParameterSpec::string(
        "DefaultRealm",
        "",
        "the realm of user and service names that give none",
    ),
    ParameterSpec::strings(
        "KdcNames",
        "",
        "the realm's KDCs, host:port (port 88 when none); a REG_SZ may list them comma-separated",
    )
    .in_subkeys("Domains"),
    ParameterSpec::dword(
        "KdcTimeout",
        TIMEOUT_MS.0,
        TIMEOUT_MS.1,
        "3000",
        "milliseconds for each connect, send and receive to a KDC",
    ),
    ParameterSpec::dword(
        "KdcRetries",
        RETRIES.0,
        RETRIES.1,
        "1",
        "extra rounds over the realm's KDC list",
    ),
    ParameterSpec::dword(
        "SkewTime",
        SKEW_MINUTES.0,
        SKEW_MINUTES.1,
        "5",
        "minutes: the largest clock difference the acceptor accepts",
    ),
    ParameterSpec::strings(
        "AllowedEnctypes",
        "aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96, aes256-cts-hmac-sha384-192, aes128-cts-hmac-sha256-128",
        "encryption types by name or number (18, 17, 20, 19), preferred first; rc4-hmac and DES are refused",
    ),
    ParameterSpec::dword(
        "TicketLifetime",
        LIFETIME.0,
        LIFETIME.1,
        "36000",
        "seconds: the ticket lifetime asked of the KDC",
    ),
    ParameterSpec::path(
        "Keytab",
        "",
        "the acceptor's MIT keytab; needed for SECPKG_CRED_INBOUND",
    ),
    ParameterSpec::string(
        "ServicePrincipal",
        "",
        "the acceptor's principal, an SPN (`host/localhost`) or a GSS host-based name (`host@localhost`); without it any principal of the keytab",
    ),
    ParameterSpec::string(
        "DefaultTarget",
        "ServicePrincipal",
        "the target when InitializeSecurityContext names none (an SPN or `service@host`, read as a target name)",
    ),
    ParameterSpec::path(
        "ReplayCachePath",
        "/var/tmp/sspi-kerberos-<euid>.rcache",
        "the replay cache file shared by every acceptor of the host naming it",
    ),
    ParameterSpec::dword(
        "ReplayCacheSize",
        REPLAY_CACHE.0,
        REPLAY_CACHE.1,
        "100000",
        "entries of a replay cache file this package creates (64 + 32 bytes each)",
    ),
    ParameterSpec::flag(
        "RequireChannelBindings",
        "0",
        "1: an acceptor given channel bindings also refuses initiators that send none",
    ),
    ParameterSpec::flag(
        "RequireOkAsDelegate",
        "1",
        "1: ISC_REQ_DELEGATE forwards the TGT only to a service whose ticket has ok-as-delegate, as Windows does; 0: to any service asked, as MIT's GSS_C_DELEG_FLAG does",
    ),
    // Credential sources (credential cache, client keytab).
    ParameterSpec::string(
        "CredentialCache",
        "KRB5CCNAME, else FILE:/tmp/krb5cc_<euid>",
        "the clients' MIT credential cache, FILE:<path> or DIR:<dir> (KRB5CCNAME wins)",
    ),
    ParameterSpec::path(
        "ClientKeytab",
        "",
        "a keytab whose keys let a principal without a password initiate (AS exchange with its key)",
    ),
    ParameterSpec::string(
        "DefaultUser",
        "",
        "the client identity when the application supplies none (user or user@REALM)",
    ),
    ParameterSpec::string(
        "DefaultPassword",
        "",
        "the default user's password (demo only)",
    ),
    ParameterSpec::string("Password", "", "the user's password (demo only)").in_subkeys("Users"),
    ParameterSpec::path(
        "Krb5Config",
        "",
        "an MIT krb5.conf: its default_realm, [realms] kdc lists and [domain_realm] apply where the registry says nothing",
    ),
];

impl KerberosConfig {
    /// Reads and validates the parameters; every problem names the file, line and value.
    pub fn from_parameters(params: &PackageParameters) -> SecurityResult<Self> {
        let default_realm = params.string("DefaultRealm")?.unwrap_or("").to_string();
        if !default_realm.is_ascii() || default_realm.contains(['@', '/']) {
            return Err(params.error(
                "DefaultRealm",
                format_args!("DefaultRealm {default_realm:?} is not a realm name"),
            ));
        }
        // Krb5Config: the krb5.conf's default_realm when the registry has none.
        let krb5_conf = match params.path("Krb5Config")? {
            Some(path) => crate::krb5_conf::Krb5Conf::load(&path)
                .map_err(|m| params.error("Krb5Config", m))?,
            None => crate::krb5_conf::Krb5Conf::default(),
        };
        let default_realm = match (&krb5_conf.default_realm, default_realm.is_empty()) {
            (Some(realm), true) if realm.is_ascii() && !realm.contains(['@', '/']) => realm.clone(),
            (Some(realm), true) => {
                return Err(params.error(
                    "Krb5Config",
                    format_args!("its default_realm {realm:?} is not a realm name"),
                ));
            }
            _ => default_realm,
        };
        let kdc_timeout = ranged(
            params,
            "KdcTimeout",
            DEFAULT_TIMEOUT_MS,
            TIMEOUT_MS,
            "milliseconds",
        )?;
        let kdc_retries = ranged(
            params,
            "KdcRetries",
            DEFAULT_RETRIES,
            RETRIES,
            "extra rounds",
        )?;
        let skew = ranged(
            params,
            "SkewTime",
            DEFAULT_SKEW_MINUTES,
            SKEW_MINUTES,
            "minutes",
        )?;
        let lifetime = ranged(
            params,
            "TicketLifetime",
            DEFAULT_LIFETIME,
            LIFETIME,
            "seconds",
        )?;
        let replay = ranged(
            params,
            "ReplayCacheSize",
            DEFAULT_REPLAY_CACHE,
            REPLAY_CACHE,
            "entries",
        )?;

        let etypes = match params.strings("AllowedEnctypes")? {
            None => Etype::ALL.to_vec(),
            Some(list) => {
                let mut out = Vec::new();
                for item in list
                    .iter()
                    .flat_map(|s| s.split([',', ' ']))
                    .filter(|s| !s.trim().is_empty())
                {
                    let etype =
                        Etype::parse(item).map_err(|m| params.error("AllowedEnctypes", m))?;
                    if !out.contains(&etype) {
                        out.push(etype);
                    }
                }
                if out.is_empty() {
                    return Err(params.error(
                        "AllowedEnctypes",
                        "AllowedEnctypes lists no encryption type",
                    ));
                }
                out
            }
        };

        let mut kdcs = HashMap::new();
        for realm in params.subkeys_of("Domains") {
            let key = format!("Domains\\{realm}");
            let Some(param) = params.get_in(&key, "KdcNames") else {
                continue;
            };
            let names: Vec<String> = match &param.value {
                ParameterValue::MultiSz(list) => list.iter().map(|s| s.to_string()).collect(),
                ParameterValue::Sz(s) | ParameterValue::ExpandSz(s) => {
                    s.split([',', ' ']).map(str::to_string).collect()
                }
                other => {
                    return Err(params.error_in(
                        &key,
                        "KdcNames",
                        format_args!("expected REG_MULTI_SZ, found {}", other.type_name()),
                    ));
                }
            };
            let names: Vec<String> = names
                .into_iter()
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
                .collect();
            for name in &names {
                check_address(name).map_err(|m| params.error_in(&key, "KdcNames", m))?;
            }
            kdcs.insert(realm.clone(), names);
        }
        // Krb5Config: the krb5.conf's KDCs of realms the registry lists none for.
        for (realm, names) in &krb5_conf.realms {
            if names.is_empty() || kdcs.keys().any(|r: &String| r.eq_ignore_ascii_case(realm)) {
                continue;
            }
            for name in names {
                check_address(name).map_err(|m| {
                    params.error("Krb5Config", format_args!("[realms] {realm} kdc: {m}"))
                })?;
            }
            kdcs.insert(realm.clone(), names.clone());
        }

        let keytab = params.path("Keytab")?.map(|path| KeytabSetting {
            path,
            origin: params
                .get("Keytab")
                .map(|p| p.origin.to_string())
                .unwrap_or_default(),
        });
        // Service names as a target name is read: an SPN, or a GSS
        // host-based name (`host@server.example`), realm by [domain_realm].
        let service_name = |value: &str| -> SecurityResult<Option<Principal>> {
            let Some(text) = params.string(value)? else {
                return Ok(None);
            };
            Principal::parse_target(
                text,
                &default_realm,
                |host| krb5_conf.realm_of_host(host).map(str::to_string),
                |realm| realm == default_realm || kdcs.contains_key(realm),
            )
            .map(Some)
            .map_err(|m| params.error(value, m))
        };
        let service_principal = service_name("ServicePrincipal")?;
        let default_target = service_name("DefaultTarget")?;
        let default_user = match params.string("DefaultUser")? {
            Some(text) => Some(
                Principal::parse(text, &default_realm)
                    .map_err(|m| params.error("DefaultUser", m))?,
            ),
            None => None,
        };
        let default_password = params.string("DefaultPassword")?.map(SecretBytes::from);
        let replay_cache_path = match params.path("ReplayCachePath")? {
            Some(path) if path.as_os_str().is_empty() || path.is_dir() => {
                return Err(params.error(
                    "ReplayCachePath",
                    format_args!(
                        "ReplayCachePath {} must name a file, not a directory",
                        path.display()
                    ),
                ));
            }
            Some(path) => path,
            None => crate::replay::ReplayCache::default_path(),
        };
        let require_channel_bindings = params.flag("RequireChannelBindings", false)?;
        let require_ok_as_delegate = params.flag("RequireOkAsDelegate", true)?;

        let users = params
            .users()?
            .into_iter()
            .map(|user| {
                (
                    user.name.to_ascii_lowercase(),
                    SecretBytes::from(user.password),
                )
            })
            .collect();

        Ok(Self {
            default_realm,
            kdcs,
            kdc_timeout: Duration::from_millis(u64::from(kdc_timeout)),
            kdc_retries,
            skew: Duration::from_secs(u64::from(skew) * 60),
            etypes,
            ticket_lifetime: Duration::from_secs(u64::from(lifetime)),
            keytab,
            service_principal,
            default_target,
            replay_cache_size: replay as usize,
            replay_cache_path,
            require_channel_bindings,
            require_ok_as_delegate,
            default_user,
            default_password,
            users,
            krb5_conf,
            credential_sources: CredentialSources::from_parameters(params)?,
        })
    }

    /// The KDCs of `realm` (case-insensitive match of the subkey).
    pub fn kdcs_of(&self, realm: &str) -> &[String] {
        self.kdcs
            .iter()
            .find(|(r, _)| r.eq_ignore_ascii_case(realm))
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default()
    }

    /// The realm of `host` by the krb5.conf's `[domain_realm]` (`Krb5Config`).
    pub fn realm_of_host(&self, host: &str) -> Option<&str> {
        self.krb5_conf.realm_of_host(host)
    }

    /// True when `name` is a realm this configuration knows: the default
    /// realm, or one with KDCs (registry or krb5.conf).
    pub fn is_known_realm(&self, name: &str) -> bool {
        name == self.default_realm || self.kdcs.keys().any(|r| r == name)
    }

    /// The password configured for `user` (from `Users` or `DefaultPassword`).
    pub fn password_of(&self, user: &Principal) -> Option<&SecretBytes> {
        let name = user.name().to_ascii_lowercase();
        if let Some(p) = self.users.get(&name) {
            return Some(p);
        }
        match (&self.default_user, &self.default_password) {
            (Some(d), Some(p)) if d == user => Some(p),
            _ => None,
        }
    }

    /// The skew in seconds.
    pub fn skew_secs(&self) -> i64 {
        self.skew.as_secs() as i64
    }
}

fn ranged(
    params: &PackageParameters,
    name: &str,
    default: u32,
    (min, max): (u32, u32),
    unit: &str,
) -> SecurityResult<u32> {
    let value = params.dword(name)?.unwrap_or(default);
    if !(min..=max).contains(&value) {
        return Err(params.error(
            name,
            format_args!("{name} must be between {min} and {max} {unit}, not {value}"),
        ));
    }
    Ok(value)
}

fn check_address(text: &str) -> Result<(), String> {
    if text.parse::<std::net::SocketAddr>().is_ok() {
        return Ok(());
    }
    let (host, port) = match text.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (text, None),
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!("KDC address {text:?} has no host"));
    }
    if let Some(port) = port
        && port.parse::<u16>().map_or(true, |p| p == 0)
    {
        return Err(format!("KDC address {text:?} has an invalid port {port:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sspi_core::Parameter;

    fn params(values: &[(&str, &str, &str)]) -> PackageParameters {
        PackageParameters {
            key_path: "HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Kerberos".into(),
            entries: values
                .iter()
                .map(|(key, name, value)| Parameter {
                    key: (*key).into(),
                    name: (*name).into(),
                    value: ParameterValue::Sz((*value).into()),
                    origin: "test.reg:1:1".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn registry_passwords_are_held_as_secrets_and_never_printed() {
        let config = KerberosConfig::from_parameters(&params(&[
            ("", "DefaultRealm", "R.TEST"),
            ("", "DefaultUser", "alice"),
            ("", "DefaultPassword", "alice-secret-pw"),
            ("Users\\bob", "Password", "bob-secret-pw"),
        ]))
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("alice-secret-pw") && !shown.contains("bob-secret-pw"));
        assert!(shown.contains("redacted"), "{shown}");
        // SecretBytes zeroes its bytes on drop (sspi-core); the type is the guarantee.
        let alice: Option<&SecretBytes> =
            config.password_of(&Principal::parse("alice", "R.TEST").unwrap());
        assert_eq!(alice.unwrap().expose(), b"alice-secret-pw");
        let bob = config.password_of(&Principal::parse("bob", "R.TEST").unwrap());
        assert_eq!(bob.unwrap().expose(), b"bob-secret-pw");
    }

    #[test]
    fn service_principal_and_default_target_are_read_as_target_names() {
        let config = KerberosConfig::from_parameters(&params(&[
            ("", "DefaultRealm", "R.TEST"),
            ("", "ServicePrincipal", "HTTP@Web.Example."),
            ("", "DefaultTarget", "host/server.example"),
        ]))
        .unwrap();
        let service = config.service_principal.unwrap();
        assert_eq!(service.to_string(), "HTTP/web.example@R.TEST");
        assert_eq!(
            config.default_target.unwrap().to_string(),
            "host/server.example@R.TEST"
        );
        let err = KerberosConfig::from_parameters(&params(&[
            ("", "DefaultRealm", "R.TEST"),
            ("", "DefaultTarget", "@server"),
        ]))
        .unwrap_err();
        assert!(err.message().contains("DefaultTarget"), "{}", err.message());
    }

    #[test]
    fn replay_cache_path_and_channel_binding_values() {
        let config = KerberosConfig::from_parameters(&params(&[(
            "",
            "ReplayCachePath",
            "/var/tmp/x.rcache",
        )]))
        .unwrap();
        assert_eq!(config.replay_cache_path, PathBuf::from("/var/tmp/x.rcache"));
        assert!(!config.require_channel_bindings);
        let config = KerberosConfig::from_parameters(&params(&[])).unwrap();
        assert_eq!(
            config.replay_cache_path,
            crate::replay::ReplayCache::default_path()
        );
        let err =
            KerberosConfig::from_parameters(&params(&[("", "ReplayCachePath", "/")])).unwrap_err();
        assert!(
            err.message().contains("must name a file"),
            "{}",
            err.message()
        );
        let mut p = params(&[]);
        p.entries.push(Parameter {
            key: "".into(),
            name: "RequireChannelBindings".into(),
            value: ParameterValue::Dword(2),
            origin: "test.reg:3:1".into(),
        });
        let err = KerberosConfig::from_parameters(&p).unwrap_err();
        assert!(
            err.message()
                .contains("RequireChannelBindings must be 0 or 1"),
            "{}",
            err.message()
        );
    }

    fn with_dword(name: &str, value: u32) -> PackageParameters {
        let mut p = params(&[]);
        p.entries.push(Parameter {
            key: "".into(),
            name: name.into(),
            value: ParameterValue::Dword(value),
            origin: "test.reg:2:1".into(),
        });
        p
    }

    #[test]
    fn declared_parameters_are_the_readme_table_and_their_ranges_are_the_ones_read() {
        let readme = include_str!("../../../README.md");
        let section = readme
            .split("### The Kerberos package")
            .nth(1)
            .expect("the README's Kerberos section");
        let rows: Vec<Vec<String>> = section
            .lines()
            .skip_while(|l| !l.starts_with("| value |"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| l.split('|').map(|c| c.trim().to_string()).collect())
            .collect();
        assert_eq!(rows.len(), PARAMETERS.len(), "one README row per value");
        for row in &rows {
            let path = row[1].trim_matches('`');
            let (subkey, name) = match path.rsplit_once('\\') {
                Some((parent, name)) => {
                    let parent = parent.split('\\').next().unwrap();
                    (format!("{parent}\\*"), name)
                }
                None => (String::new(), path),
            };
            let spec = PARAMETERS
                .iter()
                .find(|p| p.name() == name && p.subkey() == subkey)
                .unwrap_or_else(|| panic!("{path} is in the README but not declared"));
            assert!(
                row[2].starts_with(spec.kind().type_name()),
                "{path}: README {} vs {:?}",
                row[2],
                spec.kind()
            );
            if spec.range().is_some() {
                assert_eq!(row[3], spec.default_text(), "{path}: default");
            }
        }
        for spec in PARAMETERS {
            let Some((min, max)) = spec.range() else {
                continue;
            };
            let (min, max) = (min as u32, max as u32);
            let read = |v| KerberosConfig::from_parameters(&with_dword(spec.name(), v));
            assert!(read(min).is_ok(), "{} = {min}", spec.name());
            assert!(read(max).is_ok(), "{} = {max}", spec.name());
            assert!(read(max + 1).is_err(), "{} = {}", spec.name(), max + 1);
            if min > 0 {
                assert!(read(min - 1).is_err(), "{} = {}", spec.name(), min - 1);
            }
            let default: u32 = spec.default_text().parse().unwrap();
            assert!(read(default).is_ok(), "{} default", spec.name());
        }
    }

    #[test]
    fn users_come_from_the_users_subkeys_and_a_user_without_password_is_named() {
        let config = KerberosConfig::from_parameters(&params(&[
            ("", "DefaultRealm", "R.TEST"),
            ("Users\\Carol", "Password", "carol-pw"),
        ]))
        .unwrap();
        let carol = Principal::parse("carol", "R.TEST").unwrap();
        assert_eq!(config.password_of(&carol).unwrap().expose(), b"carol-pw");
        let err = KerberosConfig::from_parameters(&params(&[("Users\\dave", "Domain", "X")]))
            .unwrap_err();
        assert!(
            err.message().contains("user dave has no Password value"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn krb5_config_fills_what_the_registry_leaves_out() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("krb5.conf");
        std::fs::write(
            &conf,
            "[libdefaults]\n default_realm = CONF.TEST\n[realms]\n CONF.TEST = {\n  kdc = kdc1.conf.test\n  kdc = tcp/10.0.0.2:750\n }\n \
             REG.TEST = {\n  kdc = ignored.conf.test\n }\n[domain_realm]\n .conf.test = CONF.TEST\n",
        )
        .unwrap();
        let path = conf.to_str().unwrap();
        let config = KerberosConfig::from_parameters(&params(&[("", "Krb5Config", path)])).unwrap();
        assert_eq!(config.default_realm, "CONF.TEST");
        assert_eq!(
            config.kdcs_of("CONF.TEST"),
            ["kdc1.conf.test", "10.0.0.2:750"]
        );
        assert_eq!(config.realm_of_host("web.conf.test"), Some("CONF.TEST"));
        assert!(config.is_known_realm("CONF.TEST") && config.is_known_realm("REG.TEST"));
        // The registry wins: its realm and its KDCs.
        let config = KerberosConfig::from_parameters(&params(&[
            ("", "Krb5Config", path),
            ("", "DefaultRealm", "REG.TEST"),
            ("Domains\\REG.TEST", "KdcNames", "kdc.reg.test"),
        ]))
        .unwrap();
        assert_eq!(config.default_realm, "REG.TEST");
        assert_eq!(config.kdcs_of("REG.TEST"), ["kdc.reg.test"]);
        assert_eq!(
            config.kdcs_of("CONF.TEST"),
            ["kdc1.conf.test", "10.0.0.2:750"]
        );
        // A bad file: the registry value's origin, the file and its line.
        std::fs::write(&conf, "[libdefaults]\n default_realm\n").unwrap();
        let err =
            KerberosConfig::from_parameters(&params(&[("", "Krb5Config", path)])).unwrap_err();
        assert!(
            err.message().contains(&format!("{path}:2:")),
            "{}",
            err.message()
        );
        assert!(err.message().contains("Krb5Config"), "{}", err.message());
    }
}
