//! The Test package's registry parameters.

use crate::pake::PakeSecret;
use sspi_core::{PackageParameters, ParameterSpec, SecurityResult};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The fewest legs a mutually authenticated handshake needs (hello, challenge, proof).
pub const MIN_LEGS: u32 = 3;
/// The most legs the package accepts.
pub const MAX_LEGS: u32 = 16;

/// The registry values the Test package reads.
pub const PARAMETERS: &[ParameterSpec] = &[
    ParameterSpec::dword(
        "Legs",
        MIN_LEGS,
        MAX_LEGS,
        "3",
        "tokens exchanged in a handshake",
    ),
    ParameterSpec::flag(
        "CompleteAuthToken",
        "0",
        "legs return SEC_I_COMPLETE_NEEDED / SEC_I_COMPLETE_AND_CONTINUE and CompleteAuthToken finishes each token",
    ),
    ParameterSpec::dword(
        "ContextLifetime",
        1,
        u32::MAX,
        "36000",
        "seconds a context stays valid",
    ),
    ParameterSpec::string("DefaultDomain", "", "the domain of users that name none"),
    ParameterSpec::string(
        "DefaultUser",
        "",
        "the client identity when the application supplies none (a user under Users)",
    ),
    ParameterSpec::string("Password", "", "the user's password").in_subkeys("Users"),
    ParameterSpec::string("Domain", "DefaultDomain", "the user's domain").in_subkeys("Users"),
];

/// The parameters of `HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Test`.
#[derive(Debug)]
pub struct TestConfig {
    /// `Legs` (REG_DWORD, 3..=16, default 3): tokens exchanged in a handshake.
    pub legs: u8,
    /// `CompleteAuthToken` (REG_DWORD 0/1, default 0): legs that produce a token
    /// return SEC_I_COMPLETE_NEEDED / SEC_I_COMPLETE_AND_CONTINUE, and the
    /// token is finished by CompleteAuthToken.
    pub complete_auth_token: bool,
    /// `ContextLifetime` (REG_DWORD seconds, default 36000).
    pub context_lifetime: Duration,
    /// `DefaultDomain` (REG_SZ): the domain of users that name none.
    pub default_domain: String,
    /// `DefaultUser` (REG_SZ): the client identity used when the application supplies none.
    pub default_user: Option<String>,
    /// `Users\<name>` subkeys with `Password` (REG_SZ) and optional `Domain` (REG_SZ).
    users: HashMap<UserId, UserEntry>,
}

/// A user's identity, compared case-insensitively (domain and user name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserId {
    domain: String,
    user: String,
}

impl UserId {
    /// The identity of `user` in `domain`.
    pub fn new(domain: &str, user: &str) -> Self {
        Self {
            domain: domain.to_ascii_uppercase(),
            user: user.to_ascii_lowercase(),
        }
    }
}

/// One user of the database.
#[derive(Debug)]
pub struct UserEntry {
    /// The domain as configured.
    pub domain: String,
    /// The user name as configured.
    pub user: String,
    /// The PAKE secret derived from the password (zeroized, redacted in `Debug`).
    pub key: Arc<PakeSecret>,
}

impl TestConfig {
    /// Reads the package's parameters, naming the file, line and value of any problem.
    pub fn from_parameters(params: &PackageParameters) -> SecurityResult<Self> {
        let legs = params.dword("Legs")?.unwrap_or(MIN_LEGS);
        if !(MIN_LEGS..=MAX_LEGS).contains(&legs) {
            return Err(params.error(
                "Legs",
                format_args!("Legs must be between {MIN_LEGS} and {MAX_LEGS}, not {legs}"),
            ));
        }
        let complete_auth_token = params.flag("CompleteAuthToken", false)?;
        let lifetime = params.dword("ContextLifetime")?.unwrap_or(36_000);
        if lifetime == 0 {
            return Err(params.error(
                "ContextLifetime",
                "ContextLifetime must be at least 1 second",
            ));
        }
        let default_domain = params.string("DefaultDomain")?.unwrap_or("").to_string();
        let default_user = params.string("DefaultUser")?.map(str::to_string);

        let mut users = HashMap::new();
        for user in params.users()? {
            let domain = user.domain.unwrap_or(&default_domain).to_string();
            let entry = UserEntry {
                key: Arc::new(PakeSecret::derive(
                    &domain,
                    &user.name,
                    user.password.as_bytes(),
                )),
                domain,
                user: user.name,
            };
            users.insert(UserId::new(&entry.domain, &entry.user), entry);
        }

        Ok(Self {
            legs: legs as u8,
            complete_auth_token,
            context_lifetime: Duration::from_secs(u64::from(lifetime)),
            default_domain,
            default_user,
            users,
        })
    }

    /// The user `domain\user`, if configured.
    pub fn user(&self, domain: &str, user: &str) -> Option<&UserEntry> {
        self.users.get(&UserId::new(domain, user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sspi_core::{Parameter, ParameterValue};

    fn parameter(key: &str, name: &str, value: ParameterValue) -> Parameter {
        Parameter {
            key: key.into(),
            name: name.into(),
            value,
            origin: "test.reg:1:1".into(),
        }
    }

    /// The package keeps only the zeroized PAKE secret of a registry password,
    /// and its `Debug` shows neither the password nor the secret.
    #[test]
    fn registry_passwords_are_held_as_redacted_secrets() {
        let params = PackageParameters {
            key_path: r"HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Test".into(),
            entries: vec![
                parameter("", "DefaultDomain", ParameterValue::Sz("SSPI-PLUG".into())),
                parameter(
                    r"Users\alice",
                    "Password",
                    ParameterValue::Sz("correct horse battery".into()),
                ),
            ]
            .into(),
        };
        let config = TestConfig::from_parameters(&params).unwrap();
        let entry = config.user("sspi-plug", "ALICE").unwrap();
        let expected = PakeSecret::derive("SSPI-PLUG", "alice", b"correct horse battery");
        assert_eq!(entry.key.expose(), expected.expose());

        let shown = format!("{config:?}");
        assert!(shown.contains("PakeSecret(<redacted>)"), "{shown}");
        assert!(!shown.contains("correct horse"), "{shown}");
        let hex: String = entry
            .key
            .expose()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let bytes = format!("{:?}", entry.key.expose());
        assert!(!shown.contains(&hex) && !shown.contains(&bytes), "{shown}");
    }
}
