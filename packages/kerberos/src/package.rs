//! The package, its factory and its credentials.

use crate::client::ClientState;
use crate::config::KerberosConfig;
use crate::handshake::{KerberosClientHandshake, KerberosServerHandshake};
use crate::keytab::Keytab;
use crate::principal::Principal;
use crate::replay::ReplayCache;
use sspi_core::{
    AscReq, CredentialUse, Credentials, CredentialsRequest, IscReq, PackageCapabilities,
    PackageFactory, PackageInfo, PackageParameters, ParameterSpec, SecretBytes, SecurityError,
    SecurityPackage, SecurityResult, SecurityStatus,
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
                | PackageCapabilities::MUTUAL_AUTH,
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

    fn client(&self, request: &CredentialsRequest) -> SecurityResult<ClientState> {
        let config = &self.shared.config;
        if let Some(auth) = request.auth_identity.as_ref().into_option() {
            let realm = if auth.domain.is_empty() {
                config.default_realm.clone()
            } else {
                auth.domain.to_ascii_uppercase()
            };
            let principal = Principal::parse(&auth.user, &realm)
                .map_err(|m| SecurityError::new(SecurityStatus::SEC_E_UNKNOWN_CREDENTIALS, m))?;
            return Ok(ClientState::new(principal, auth.password.clone()));
        }
        let named = request.principal.as_ref().into_option().map(|p| p.as_str());
        let principal = match named {
            Some(text) => Principal::parse(text, &config.default_realm)
                .map_err(|m| SecurityError::new(SecurityStatus::SEC_E_UNKNOWN_CREDENTIALS, m))?,
            None => config.default_user.clone().ok_or_else(|| {
                SecurityError::new(
                    SecurityStatus::SEC_E_NO_CREDENTIALS,
                    "no credentials supplied and the Kerberos package has no DefaultUser in the registry",
                )
            })?,
        };
        let password: SecretBytes = config.password_of(&principal).cloned().ok_or_else(|| {
            SecurityError::new(
                SecurityStatus::SEC_E_NO_CREDENTIALS,
                format!(
                    "no password is configured for {principal} (DefaultPassword or Users\\{}\\Password)",
                    principal.name()
                ),
            )
        })?;
        Ok(ClientState::new(principal, password))
    }

    fn server(&self) -> SecurityResult<ServerState> {
        let config = &self.shared.config;
        let Some(setting) = &config.keytab else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_NO_CREDENTIALS,
                "inbound Kerberos credentials need a keytab: set Keytab in the Kerberos registry key",
            ));
        };
        let keytab = Keytab::load(&setting.path).map_err(|m| {
            SecurityError::new(
                SecurityStatus::SEC_E_NO_CREDENTIALS,
                format!("{}: {m} (value \"Keytab\")", setting.origin),
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
            Some(Arc::new(self.server()?))
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
