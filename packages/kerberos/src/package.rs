//! The package, its factory and its credentials.

use crate::ccache::CacheName;
use crate::client::{ClientCache, ClientSecret, ClientState};
use crate::config::KerberosConfig;
use crate::established::KerberosEstablishedContext;
use crate::handshake::{KerberosClientHandshake, KerberosServerHandshake};
use crate::keytab::Keytab;
use crate::principal::Principal;
use crate::replay::ReplayCache;
use sspi_core::{
    AscReq, CredentialUse, Credentials, CredentialsRequest, IscReq, PackageCapabilities,
    PackageFactory, PackageInfo, PackageParameters, ParameterSpec, SecurityError, SecurityPackage,
    SecurityResult, SecurityStatus,
};
use std::sync::Arc;

/// The package name, as applications select it.
pub const PACKAGE_NAME: &str = "Kerberos";

/// `cbMaxToken` (the CE-era and pre-Windows 8 value).
pub const MAX_TOKEN: u32 = 12_000;

/// `wRPCID`: RPC_C_AUTHN_GSS_KERBEROS.
pub const RPC_ID: u16 = 16;

/// The Kerberos package's descriptor.
pub struct KerberosPackageFactory;

impl PackageFactory for KerberosPackageFactory {
    type Package = KerberosPackage;

    fn info() -> PackageInfo {
        PackageInfo {
            capabilities: PackageCapabilities::INTEGRITY
                | PackageCapabilities::PRIVACY
                | PackageCapabilities::TOKEN_ONLY
                | PackageCapabilities::CONNECTION
                | PackageCapabilities::MULTI_REQUIRED
                | PackageCapabilities::NEGOTIABLE
                | PackageCapabilities::GSS_COMPATIBLE
                | PackageCapabilities::MUTUAL_AUTH
                | PackageCapabilities::DELEGATION,
            version: 1,
            rpc_id: RPC_ID,
            max_token: MAX_TOKEN,
            name: PACKAGE_NAME.into(),
            comment: "sspi-plug Kerberos V5: RFC 4120 tickets, RFC 4121 tokens, AES-SHA1".into(),
        }
    }

    fn parameters() -> &'static [ParameterSpec] {
        crate::config::PARAMETERS
    }

    fn open(parameters: &PackageParameters) -> SecurityResult<KerberosPackage> {
        let config = KerberosConfig::from_parameters(parameters)?;
        // A keytab that exists must parse: a broken one is a configuration error now.
        if let Some(setting) = &config.keytab
            && setting.path.exists()
        {
            Keytab::load(&setting.path).map_err(|m| parameters.error("Keytab", m))?;
        }
        Ok(KerberosPackage::new(config))
    }
}

/// What every credential and context of the package shares.
pub struct Shared {
    /// The configuration.
    pub config: KerberosConfig,
    /// The acceptors' replay cache (a file shared with the host's other acceptors).
    pub replay: ReplayCache,
}

/// The loaded Kerberos package.
pub struct KerberosPackage {
    shared: Arc<Shared>,
}

impl KerberosPackage {
    /// The package with `config`.
    pub(crate) fn new(config: KerberosConfig) -> Self {
        let replay = ReplayCache::new(config.replay_cache_path.clone(), config.replay_cache_size);
        Self {
            shared: Arc::new(Shared { config, replay }),
        }
    }

    /// The credential cache a client uses: per AcquireCredentialsHandle
    /// (`ccache=`), else `KRB5CCNAME`, else the registry's `CredentialCache`
    /// (all "named": TGTs may be written to them), else MIT's default
    /// `FILE:/tmp/krb5cc_<euid>` (read, and service tickets written, only by
    /// a client with no password).
    fn cache_of(&self, store: &CredStore) -> SecurityResult<(CacheName, bool)> {
        let sources = &self.shared.config.credential_sources;
        let unknown = |m: String| SecurityError::new(SecurityStatus::SEC_E_UNKNOWN_CREDENTIALS, m);
        if let Some(text) = &store.ccache {
            return Ok((CacheName::parse(text).map_err(unknown)?, true));
        }
        if let Some(text) = std::env::var("KRB5CCNAME").ok().filter(|t| !t.is_empty()) {
            let name = CacheName::parse(&text).map_err(|m| unknown(format!("KRB5CCNAME: {m}")))?;
            return Ok((name, true));
        }
        if let Some(name) = &sources.credential_cache {
            return Ok((name.clone(), true));
        }
        Ok((CacheName::default_name(), false))
    }

    /// The client keytab's keys for `principal` (per AcquireCredentialsHandle
    /// `client_keytab=`, else the registry's `ClientKeytab`).
    fn client_keytab(&self, store: &CredStore) -> SecurityResult<Option<(Keytab, String)>> {
        let sources = &self.shared.config.credential_sources;
        let (path, origin) = match (&store.client_keytab, &sources.client_keytab) {
            (Some(path), _) => (
                path.clone(),
                "AcquireCredentialsHandle client_keytab=".to_string(),
            ),
            (None, Some(setting)) => (
                setting.path.clone(),
                format!("{} (value \"ClientKeytab\")", setting.origin),
            ),
            (None, None) => return Ok(None),
        };
        let keytab = Keytab::load(&path).map_err(|m| {
            SecurityError::new(
                SecurityStatus::SEC_E_NO_CREDENTIALS,
                format!("{origin}: {m}"),
            )
        })?;
        Ok(Some((keytab, origin)))
    }

    fn client(&self, request: &CredentialsRequest) -> SecurityResult<ClientState> {
        let config = &self.shared.config;
        let unknown = |m: String| SecurityError::new(SecurityStatus::SEC_E_UNKNOWN_CREDENTIALS, m);
        let named = request.principal.as_ref().into_option().map(|p| p.as_str());
        let auth = request
            .auth_identity
            .as_ref()
            .into_option()
            .filter(|a| !a.is_default());
        let store = CredStore::parse(auth.map(|a| a.user.as_str()).or(named).unwrap_or(""))
            .map_err(unknown)?;
        let (cache_name, named_cache) = self.cache_of(&store)?;
        if let Some(auth) = auth
            && !auth.password.is_empty()
        {
            let realm = if auth.domain.is_empty() {
                config.default_realm.clone()
            } else {
                auth.domain.to_ascii_uppercase()
            };
            let principal = Principal::parse(&store.name, &realm).map_err(unknown)?;
            let cache = named_cache.then_some(ClientCache {
                name: cache_name,
                store_tgt: true,
            });
            return Ok(ClientState::with_sources(
                principal,
                ClientSecret::Password(auth.password.clone()),
                cache,
            ));
        }
        let realm = match auth {
            Some(a) if !a.domain.is_empty() => a.domain.to_ascii_uppercase(),
            _ => config.default_realm.clone(),
        };
        let keytab = self.client_keytab(&store)?;
        let ccache = cache_name.load().map_err(|m| {
            SecurityError::new(
                SecurityStatus::SEC_E_NO_CREDENTIALS,
                format!("credential cache: {m}"),
            )
        })?;
        let principal = if !store.name.is_empty() {
            Principal::parse(&store.name, &realm).map_err(unknown)?
        } else if let Some(user) = &config.default_user {
            user.clone()
        } else if let Some(c) = &ccache {
            c.principal.clone()
        } else if let Some(p) = keytab
            .as_ref()
            .and_then(|(k, _)| k.principals().first().copied())
        {
            p.clone()
        } else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_NO_CREDENTIALS,
                format!(
                    "no credentials supplied, the Kerberos package has no DefaultUser in the registry, \
                     no credential cache ({cache_name}) and no client keytab"
                ),
            ));
        };
        let cache = ClientCache {
            name: cache_name.clone(),
            store_tgt: named_cache,
        };
        if let Some(password) = config.password_of(&principal) {
            let cache = named_cache.then_some(cache);
            return Ok(ClientState::with_sources(
                principal,
                ClientSecret::Password(password.clone()),
                cache,
            ));
        }
        if let Some((keytab, origin)) = keytab {
            let keys: Vec<_> = config
                .etypes
                .iter()
                .filter_map(|e| keytab.find(&principal, *e, None))
                .collect();
            if !keys.is_empty() {
                return Ok(ClientState::with_sources(
                    principal,
                    ClientSecret::Keys(keys),
                    Some(cache),
                ));
            }
            tracing::debug!(%principal, %origin, "the client keytab has no key of an allowed etype");
        }
        let held = match &ccache {
            Some(c) if c.principal == principal => true,
            _ => cache_name
                .load_for(&principal)
                .map_err(|m| {
                    SecurityError::new(
                        SecurityStatus::SEC_E_NO_CREDENTIALS,
                        format!("credential cache: {m}"),
                    )
                })?
                .is_some(),
        };
        if held {
            return Ok(ClientState::with_sources(
                principal,
                ClientSecret::None,
                Some(cache),
            ));
        }
        Err(SecurityError::new(
            SecurityStatus::SEC_E_NO_CREDENTIALS,
            format!(
                "no password is configured for {principal} (DefaultPassword or Users\\{}\\Password), \
                 no client keytab has its key and the credential cache ({cache_name}) holds no tickets of it",
                principal.name()
            ),
        ))
    }

    fn server(&self, request: &CredentialsRequest) -> SecurityResult<ServerState> {
        let config = &self.shared.config;
        let named = request.principal.as_ref().into_option().map(|p| p.as_str());
        let store = CredStore::parse(named.unwrap_or(""))
            .map_err(|m| SecurityError::new(SecurityStatus::SEC_E_UNKNOWN_CREDENTIALS, m))?;
        let setting = match (&store.keytab, &config.keytab) {
            (Some(path), _) => crate::config::KeytabSetting {
                path: path.clone(),
                origin: "AcquireCredentialsHandle (keytab=)".into(),
            },
            (None, Some(setting)) => crate::config::KeytabSetting {
                path: setting.path.clone(),
                origin: format!("{} (value \"Keytab\")", setting.origin),
            },
            (None, None) => {
                return Err(SecurityError::new(
                    SecurityStatus::SEC_E_NO_CREDENTIALS,
                    "inbound Kerberos credentials need a keytab: set Keytab in the Kerberos registry key",
                ));
            }
        };
        let setting = &setting;
        let keytab = Keytab::load(&setting.path).map_err(|m| {
            SecurityError::new(
                SecurityStatus::SEC_E_NO_CREDENTIALS,
                format!("{}: {m}", setting.origin),
            )
        })?;
        if let Some(service) = &config.service_principal
            && !keytab.has_principal(service)
        {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_NO_CREDENTIALS,
                format!(
                    "the keytab {} has no key for the ServicePrincipal {service}",
                    setting.path.display()
                ),
            ));
        }
        // A replay cache that cannot be used is reported now, not at the first AP-REQ.
        self.shared.replay.check().map_err(|e| {
            SecurityError::new(
                SecurityStatus::SEC_E_NO_CREDENTIALS,
                format!(
                    "inbound Kerberos credentials need a usable replay cache (ReplayCachePath): {e}"
                ),
            )
        })?;
        Ok(ServerState {
            keytab,
            service: config.service_principal.clone(),
        })
    }
}

impl SecurityPackage for KerberosPackage {
    type Credentials = KerberosCredentials;

    fn acquire_credentials_handle(
        &self,
        request: CredentialsRequest,
    ) -> SecurityResult<KerberosCredentials> {
        let credential_use = request.credential_use;
        let outbound = credential_use.contains(CredentialUse::OUTBOUND);
        let inbound = credential_use.contains(CredentialUse::INBOUND);
        if !inbound && !outbound {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_PARAMETER,
                "fCredentialUse must include SECPKG_CRED_INBOUND or SECPKG_CRED_OUTBOUND",
            ));
        }
        let client = if outbound {
            Some(Arc::new(self.client(&request)?))
        } else {
            None
        };
        let server = if inbound {
            Some(Arc::new(self.server(&request)?))
        } else {
            None
        };
        Ok(KerberosCredentials {
            shared: Arc::clone(&self.shared),
            credential_use,
            client,
            server,
        })
    }

    fn import_client_context(&self, payload: &[u8]) -> SecurityResult<KerberosEstablishedContext> {
        KerberosEstablishedContext::import(payload, false)
    }

    fn import_server_context(&self, payload: &[u8]) -> SecurityResult<KerberosEstablishedContext> {
        KerberosEstablishedContext::import(payload, true)
    }
}

/// An acceptor's keys.
pub struct ServerState {
    /// The keytab, read when the credentials were acquired.
    pub keytab: Keytab,
    /// The acceptor's own principal, when configured.
    pub service: Option<Principal>,
}

/// Credentials of the Kerberos package.
pub struct KerberosCredentials {
    shared: Arc<Shared>,
    credential_use: CredentialUse,
    client: Option<Arc<ClientState>>,
    server: Option<Arc<ServerState>>,
}

impl KerberosCredentials {
    /// Outbound credentials of `client` (a delegated TGT's).
    pub(crate) fn outbound(shared: Arc<Shared>, client: Arc<ClientState>) -> Self {
        Self {
            shared,
            credential_use: CredentialUse::OUTBOUND,
            client: Some(client),
            server: None,
        }
    }
}

impl Credentials for KerberosCredentials {
    type Client = KerberosClientHandshake;
    type Server = KerberosServerHandshake;

    fn credential_use(&self) -> CredentialUse {
        self.credential_use
    }

    fn names(&self) -> SecurityResult<String> {
        if let Some(client) = &self.client {
            return Ok(client.principal.to_string());
        }
        Ok(self
            .server
            .as_ref()
            .and_then(|s| s.service.as_ref())
            .map(ToString::to_string)
            .unwrap_or_default())
    }

    fn new_client_context(
        &self,
        target: Option<&str>,
        req: IscReq,
    ) -> SecurityResult<KerberosClientHandshake> {
        let Some(client) = &self.client else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_WRONG_CREDENTIAL_HANDLE,
                "InitializeSecurityContext needs credentials acquired with SECPKG_CRED_OUTBOUND",
            ));
        };
        let config = &self.shared.config;
        let service = match target.filter(|t| !t.is_empty()) {
            Some(text) => Principal::parse_target(
                text,
                &client.principal.realm,
                |host| config.realm_of_host(host).map(str::to_string),
                |realm| realm == client.principal.realm || config.is_known_realm(realm),
            )
            .map_err(|m| {
                SecurityError::new(
                    SecurityStatus::SEC_E_TARGET_UNKNOWN,
                    format!("target name: {m}"),
                )
            })?,
            None => config
                .default_target
                .clone()
                .or_else(|| config.service_principal.clone())
                .ok_or_else(|| {
                    SecurityError::new(
                        SecurityStatus::SEC_E_TARGET_UNKNOWN,
                        "Kerberos needs a target name (pszTargetName), e.g. host/server.example.com, \
                         or DefaultTarget in the registry",
                    )
                })?,
        };
        Ok(KerberosClientHandshake::new(
            Arc::clone(&self.shared),
            Arc::clone(client),
            service,
            req,
        ))
    }

    /// The client's requests arrive in the AP-REQ (its 0x8003 checksum flags);
    /// `req` adds nothing the acceptor acts on.
    fn new_server_context(&self, _req: AscReq) -> SecurityResult<KerberosServerHandshake> {
        let Some(server) = &self.server else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_WRONG_CREDENTIAL_HANDLE,
                "AcceptSecurityContext needs credentials acquired with SECPKG_CRED_INBOUND",
            ));
        };
        Ok(KerberosServerHandshake::new(
            Arc::clone(&self.shared),
            Arc::clone(server),
        ))
    }
}

/// Credential sources named per AcquireCredentialsHandle, in `pszPrincipal`
/// (or the auth identity's User) after the principal, with MIT's
/// `gss_acquire_cred_from` cred-store keys:
/// `alice@REALM;ccache=FILE:/tmp/cc;client_keytab=/etc/client.keytab` or
/// `host/server;keytab=/etc/krb5.keytab` (the acceptor's keytab).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CredStore {
    /// The principal name (may be empty).
    pub name: String,
    /// `ccache=`: a credential cache name (`FILE:`, `DIR:`).
    pub ccache: Option<String>,
    /// `client_keytab=`: the client's keytab.
    pub client_keytab: Option<std::path::PathBuf>,
    /// `keytab=`: the acceptor's keytab.
    pub keytab: Option<std::path::PathBuf>,
}

impl CredStore {
    /// Splits `text` at `;` into the name and `key=value` options.
    pub fn parse(text: &str) -> Result<CredStore, String> {
        let mut parts = text.split(';');
        let mut out = CredStore {
            name: parts.next().unwrap_or("").trim().to_string(),
            ..CredStore::default()
        };
        for part in parts.map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("credential option {part:?} is not key=value"))?;
            let slot_name = key.trim();
            let value = value.trim().to_string();
            match slot_name {
                "ccache" => out.ccache = Some(value),
                "client_keytab" => out.client_keytab = Some(value.into()),
                "keytab" => out.keytab = Some(value.into()),
                other => {
                    return Err(format!(
                        "unknown credential option {other:?} (ccache=, client_keytab=, keytab=)"
                    ));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::CredStore;

    #[test]
    fn cred_store_options() {
        let s = CredStore::parse("alice@R;ccache=FILE:/tmp/c;client_keytab=/k").unwrap();
        assert_eq!(s.name, "alice@R");
        assert_eq!(s.ccache.as_deref(), Some("FILE:/tmp/c"));
        assert_eq!(s.client_keytab.as_deref(), Some(std::path::Path::new("/k")));
        assert_eq!(CredStore::parse("bob").unwrap().name, "bob");
        assert!(
            CredStore::parse("a;bogus=1")
                .unwrap_err()
                .contains("unknown")
        );
        assert!(CredStore::parse("a;nokey").is_err());
    }
}
