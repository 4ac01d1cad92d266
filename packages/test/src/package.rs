//! The package, its factory and its credentials.

use crate::config::TestConfig;
use crate::context::{TestClient, TestEstablished, TestServer};
use crate::handshake::{ClientIdentity, Identity};
use crate::pake::PakeSecret;
use crate::token::MAX_TOKEN;
use sspi_core::{
    AscReq, CredentialUse, Credentials, CredentialsRequest, IscReq, PackageCapabilities,
    PackageFactory, PackageInfo, PackageParameters, ParameterSpec, SecurityError, SecurityPackage,
    SecurityResult, SecurityStatus,
};
use std::sync::Arc;

/// The package name, as applications select it.
pub const PACKAGE_NAME: &str = "Test";

/// The Test package's descriptor.
pub struct TestPackageFactory;

impl PackageFactory for TestPackageFactory {
    type Package = TestPackage;

    fn info() -> PackageInfo {
        PackageInfo {
            capabilities: PackageCapabilities::INTEGRITY
                | PackageCapabilities::PRIVACY
                | PackageCapabilities::CONNECTION
                | PackageCapabilities::MULTI_REQUIRED
                | PackageCapabilities::MUTUAL_AUTH,
            version: 1,
            rpc_id: PackageInfo::SECPKG_ID_NONE,
            max_token: MAX_TOKEN as u32,
            name: PACKAGE_NAME.into(),
            comment:
                "sspi-plug Test package: multi-leg mutual authentication, HMAC-SHA256, AES-256-GCM"
                    .into(),
        }
    }

    fn parameters() -> &'static [ParameterSpec] {
        crate::config::PARAMETERS
    }

    fn open(parameters: &PackageParameters) -> SecurityResult<TestPackage> {
        Ok(TestPackage::new(TestConfig::from_parameters(parameters)?))
    }
}

/// The loaded Test package.
pub struct TestPackage {
    config: Arc<TestConfig>,
}

impl TestPackage {
    /// The package with `config`.
    pub fn new(config: TestConfig) -> Self {
        Self {
            config: Arc::new(config),
        }
    }
}

impl SecurityPackage for TestPackage {
    type Credentials = TestCredentials;

    fn acquire_credentials_handle(
        &self,
        request: CredentialsRequest,
    ) -> SecurityResult<TestCredentials> {
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
            Some(self.client_identity(&request)?)
        } else {
            None
        };
        Ok(TestCredentials {
            config: Arc::clone(&self.config),
            credential_use,
            client,
        })
    }

    fn import_client_context(&self, payload: &[u8]) -> SecurityResult<TestEstablished> {
        TestEstablished::import(payload)
    }

    fn import_server_context(&self, payload: &[u8]) -> SecurityResult<TestEstablished> {
        TestEstablished::import(payload)
    }
}

impl TestPackage {
    /// The client identity: explicit credentials, else the registry's `DefaultUser`.
    fn client_identity(&self, request: &CredentialsRequest) -> SecurityResult<ClientIdentity> {
        if let Some(auth) = request.auth_identity.as_ref().into_option() {
            let domain = if auth.domain.is_empty() {
                self.config.default_domain.clone()
            } else {
                auth.domain.to_string()
            };
            return Ok(ClientIdentity {
                key: Arc::new(PakeSecret::derive(
                    &domain,
                    &auth.user,
                    auth.password.expose(),
                )),
                identity: Identity {
                    domain,
                    user: auth.user.to_string(),
                },
            });
        }
        let principal = request.principal.as_ref().into_option().map(|p| p.as_str());
        let name = principal.or(self.config.default_user.as_deref()).ok_or_else(|| {
            SecurityError::new(
                SecurityStatus::SEC_E_NO_CREDENTIALS,
                "no credentials supplied and the Test package has no DefaultUser in the registry",
            )
        })?;
        let (domain, user) = match name.split_once('\\') {
            Some((domain, user)) => (domain, user),
            None => (self.config.default_domain.as_str(), name),
        };
        let entry = self.config.user(domain, user).ok_or_else(|| {
            SecurityError::new(
                SecurityStatus::SEC_E_NO_CREDENTIALS,
                format!("no password is configured for {domain}\\{user} under the Test package's Users key"),
            )
        })?;
        Ok(ClientIdentity {
            key: Arc::clone(&entry.key),
            identity: Identity {
                domain: entry.domain.clone(),
                user: entry.user.clone(),
            },
        })
    }
}

/// Credentials of the Test package.
pub struct TestCredentials {
    config: Arc<TestConfig>,
    credential_use: CredentialUse,
    client: Option<ClientIdentity>,
}

impl Credentials for TestCredentials {
    type Client = TestClient;
    type Server = TestServer;

    fn credential_use(&self) -> CredentialUse {
        self.credential_use
    }

    fn names(&self) -> SecurityResult<String> {
        Ok(match &self.client {
            Some(client) => client.identity.qualified(),
            None => String::new(),
        })
    }

    fn new_client_context(&self, _target: Option<&str>, req: IscReq) -> SecurityResult<TestClient> {
        let Some(client) = &self.client else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_WRONG_CREDENTIAL_HANDLE,
                "InitializeSecurityContext needs credentials acquired with SECPKG_CRED_OUTBOUND",
            ));
        };
        Ok(TestClient::new(
            Arc::clone(&self.config),
            ClientIdentity {
                identity: client.identity.clone(),
                key: Arc::clone(&client.key),
            },
            req,
        ))
    }

    fn new_server_context(&self, _req: AscReq) -> SecurityResult<TestServer> {
        Ok(TestServer::new(Arc::clone(&self.config)))
    }
}
