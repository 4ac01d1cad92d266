//! The package, its factory and its credentials.

use crate::config::{self, NtlmConfig};
use crate::context::{
    ClientSetup, NtlmClientHandshake, NtlmEstablishedContext, NtlmServerHandshake,
};
use crate::crypto;
use crate::handshake::ClientIdentity;
use sspi_core::{
    AscReq, CredentialUse, Credentials, CredentialsRequest, IscReq, PackageCapabilities,
    PackageFactory, PackageInfo, PackageParameters, ParameterSpec, SecurityError, SecurityPackage,
    SecurityResult, SecurityStatus,
};
use std::sync::Arc;

/// The package name, as applications select it.
pub const PACKAGE_NAME: &str = "NTLM";
/// `wRPCID`: RPC_C_AUTHN_WINNT.
pub const RPC_ID: u16 = 10;
/// `fCapabilities`, as Windows' NTLM reports them.
pub const CAPABILITIES: u32 = 0x0008_2B37;

/// The NTLM package's descriptor.
pub struct NtlmPackageFactory;

impl PackageFactory for NtlmPackageFactory {
    type Package = NtlmPackage;

    fn info() -> PackageInfo {
        PackageInfo {
            capabilities: PackageCapabilities(CAPABILITIES),
            version: 1,
            rpc_id: RPC_ID,
            max_token: crate::MAX_TOKEN as u32,
            name: PACKAGE_NAME.into(),
            comment: "NTLM Security Package (NTLMv2 with extended session security)".into(),
        }
    }

    fn parameters() -> &'static [ParameterSpec] {
        config::PARAMETERS
    }

    fn open(parameters: &PackageParameters) -> SecurityResult<NtlmPackage> {
        Ok(NtlmPackage::new(NtlmConfig::from_parameters(parameters)?))
    }
}

/// The loaded NTLM package.
pub struct NtlmPackage {
    config: Arc<NtlmConfig>,
}

impl NtlmPackage {
    /// The package with `config`.
    pub(crate) fn new(config: NtlmConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }

    /// The client identity: explicit credentials, else the principal or the
    /// registry's `DefaultUser`, whose NT hash comes from the user database.
    fn client_identity(&self, request: &CredentialsRequest) -> SecurityResult<ClientIdentity> {
        if let Some(auth) = request.auth_identity.as_ref().into_option() {
            let (domain, user) = split_name(&auth.user, &auth.domain, &self.config.default_domain);
            if user.is_empty() {
                return Err(SecurityError::new(
                    SecurityStatus::SEC_E_UNKNOWN_CREDENTIALS,
                    "the supplied credentials have an empty user name (anonymous NTLM is not supported)",
                ));
            }
            let password = std::str::from_utf8(auth.password.expose()).map_err(|_| {
                SecurityError::new(
                    SecurityStatus::SEC_E_UNKNOWN_CREDENTIALS,
                    "the supplied password is not valid UTF-8",
                )
            })?;
            return Ok(ClientIdentity::new(
                &user,
                &domain,
                &crypto::nt_hash(password),
            ));
        }
        let principal = request.principal.as_ref().into_option().map(|p| p.as_str());
        let name = principal
            .or(self.config.default_user.as_deref())
            .ok_or_else(|| {
                SecurityError::new(
                    SecurityStatus::SEC_E_NO_CREDENTIALS,
                    "no credentials supplied and the NTLM package has no DefaultUser in the registry",
                )
            })?;
        let (domain, user) = split_name(name, "", &self.config.default_domain);
        let entry = self.config.user(&domain, &user).ok_or_else(|| {
            SecurityError::new(
                SecurityStatus::SEC_E_NO_CREDENTIALS,
                format!(
                    "no password is configured for {} (NTLM UserDatabase or Users key)",
                    crate::handshake::qualified(&domain, &user)
                ),
            )
        })?;
        Ok(ClientIdentity::new(
            &entry.user,
            &entry.domain,
            &entry.nt_hash,
        ))
    }
}

/// Splits "DOMAIN\user" (when no domain is given); an empty domain becomes `default`.
fn split_name(user: &str, domain: &str, default: &str) -> (String, String) {
    let (domain, user) = match (domain.is_empty(), user.split_once('\\')) {
        (true, Some((d, u))) => (d, u),
        _ => (domain, user),
    };
    let domain = if domain.is_empty() { default } else { domain };
    (domain.to_string(), user.to_string())
}

impl SecurityPackage for NtlmPackage {
    type Credentials = NtlmCredentials;

    fn acquire_credentials_handle(
        &self,
        request: CredentialsRequest,
    ) -> SecurityResult<NtlmCredentials> {
        let credential_use = request.credential_use;
        if !credential_use.contains(CredentialUse::INBOUND)
            && !credential_use.contains(CredentialUse::OUTBOUND)
        {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_PARAMETER,
                "fCredentialUse must include SECPKG_CRED_INBOUND or SECPKG_CRED_OUTBOUND",
            ));
        }
        let client = if credential_use.contains(CredentialUse::OUTBOUND) {
            Some(Arc::new(self.client_identity(&request)?))
        } else {
            None
        };
        Ok(NtlmCredentials {
            config: Arc::clone(&self.config),
            credential_use,
            client,
        })
    }

    fn import_client_context(&self, payload: &[u8]) -> SecurityResult<NtlmEstablishedContext> {
        NtlmEstablishedContext::import(payload, true)
    }

    fn import_server_context(&self, payload: &[u8]) -> SecurityResult<NtlmEstablishedContext> {
        NtlmEstablishedContext::import(payload, false)
    }
}

/// Credentials of the NTLM package.
pub struct NtlmCredentials {
    config: Arc<NtlmConfig>,
    credential_use: CredentialUse,
    client: Option<Arc<ClientIdentity>>,
}

impl Credentials for NtlmCredentials {
    type Client = NtlmClientHandshake;
    type Server = NtlmServerHandshake;

    fn credential_use(&self) -> CredentialUse {
        self.credential_use
    }

    fn names(&self) -> SecurityResult<String> {
        Ok(self
            .client
            .as_ref()
            .map(|c| c.qualified())
            .unwrap_or_default())
    }

    fn new_client_context(
        &self,
        target: Option<&str>,
        req: IscReq,
    ) -> SecurityResult<NtlmClientHandshake> {
        // The engine calls this only on OUTBOUND credentials, which always
        // have an identity (see `acquire_credentials_handle`).
        let Some(identity) = &self.client else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_WRONG_CREDENTIAL_HANDLE,
                "InitializeSecurityContext needs credentials acquired with SECPKG_CRED_OUTBOUND",
            ));
        };
        if req.contains(IscReq::DATAGRAM) {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
                "connectionless (ISC_REQ_DATAGRAM) NTLM is not supported",
            ));
        }
        Ok(NtlmClientHandshake::Start(ClientSetup {
            config: Arc::clone(&self.config),
            identity: Arc::clone(identity),
            target: target.map(str::to_string),
            req,
        }))
    }

    fn new_server_context(&self, _req: AscReq) -> SecurityResult<NtlmServerHandshake> {
        Ok(NtlmServerHandshake::AwaitingNegotiate(Arc::clone(
            &self.config,
        )))
    }
}
