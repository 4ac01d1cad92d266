//! The Negotiate package's descriptor, the loaded package and its credentials.

use crate::client::NegotiateClientHandshake;
use crate::config::{self, NegotiateConfig};
use crate::oid::MechFamily;
use crate::package_list;
use crate::server::NegotiateServerHandshake;
use sspi_core::prelude::*;
use sspi_core::{
    Composition, CredentialsObject, CredentialsRequest, InnerPackage, PackageParameters,
    ParameterSpec,
};
use std::sync::Arc;

/// The package name.
pub const PACKAGE_NAME: &str = "Negotiate";
/// `wRPCID`: RPC_C_AUTHN_GSS_NEGOTIATE.
pub const RPC_ID: u16 = 9;
/// `cbMaxToken`: the value Windows 10 and later report for Negotiate. It
/// leaves room for the largest Kerberos token (48000) and SPNEGO's framing.
pub const MAX_TOKEN: u32 = 48256;
/// `fCapabilities`: Windows' Negotiate set, less what sspi-plug does not do
/// (impersonation, logon, restricted tokens).
pub const CAPABILITIES: PackageCapabilities = PackageCapabilities(
    PackageCapabilities::INTEGRITY.0
        | PackageCapabilities::PRIVACY.0
        | PackageCapabilities::CONNECTION.0
        | PackageCapabilities::MULTI_REQUIRED.0
        | PackageCapabilities::EXTENDED_ERROR.0
        | PackageCapabilities::NEGOTIABLE.0
        | PackageCapabilities::GSS_COMPATIBLE.0,
);

/// The Negotiate package's descriptor.
pub struct NegotiateFactory;

impl PackageFactory for NegotiateFactory {
    type Package = NegotiatePackage;

    fn info() -> PackageInfo {
        PackageInfo {
            capabilities: CAPABILITIES,
            version: 1,
            rpc_id: RPC_ID,
            max_token: MAX_TOKEN,
            name: PACKAGE_NAME.into(),
            comment: "sspi-plug Package Negotiator: SPNEGO (RFC 4178, MS-SPNG)".into(),
        }
    }

    fn parameters() -> &'static [ParameterSpec] {
        config::PARAMETERS
    }

    fn composition() -> Option<Composition> {
        Some(Composition::new(
            config::PACKAGES_VALUE,
            config::DEFAULT_PACKAGES,
        ))
    }

    fn open(parameters: &PackageParameters) -> SecurityResult<NegotiatePackage> {
        Err(parameters.error(
            config::PACKAGES_VALUE,
            "Negotiate must be opened with the packages it is built from (by a host that composes packages)",
        ))
    }

    fn open_composed(
        parameters: &PackageParameters,
        inner: Vec<InnerPackage>,
    ) -> SecurityResult<NegotiatePackage> {
        let config = NegotiateConfig::from_parameters(parameters)?;
        let mut mechanisms = Vec::with_capacity(inner.len());
        for package in inner {
            let Some(family) = MechFamily::from_package_name(package.name()) else {
                return Err(parameters.error(
                    config::PACKAGES_VALUE,
                    format_args!(
                        "{} has no SPNEGO mechanism OID that Negotiate knows (it negotiates Kerberos and NTLM)",
                        package.name()
                    ),
                ));
            };
            mechanisms.push(Mechanism { family, package });
        }
        Ok(NegotiatePackage {
            config,
            mechanisms: mechanisms.into(),
        })
    }
}

/// One package Negotiate is built from, with its SPNEGO mechanism.
#[derive(Debug, Clone)]
pub(crate) struct Mechanism {
    pub family: MechFamily,
    pub package: InnerPackage,
}

/// The loaded Negotiate package: its policy and its packages, in preference order.
pub struct NegotiatePackage {
    config: NegotiateConfig,
    mechanisms: Arc<[Mechanism]>,
}

impl NegotiatePackage {
    /// The packages it negotiates between, most preferred first.
    pub fn package_names(&self) -> Vec<&str> {
        self.mechanisms.iter().map(|m| m.package.name()).collect()
    }
}

impl SecurityPackage for NegotiatePackage {
    type Credentials = NegotiateCredentials;

    /// Acquires credentials from every package the PackageList allows; a
    /// package that cannot give any is left out (and logged). Fails only
    /// when none can.
    fn acquire_credentials_handle(
        &self,
        request: CredentialsRequest,
    ) -> SecurityResult<NegotiateCredentials> {
        let configured = self.package_names();
        let list = match &request.auth_identity {
            sspi_core::abi_stable::std_types::ROption::RSome(identity) => {
                identity.package_list.to_string()
            }
            sspi_core::abi_stable::std_types::ROption::RNone => String::new(),
        };
        let allowed = package_list::allowed(&list, &configured)?;
        let mut acquired = Vec::new();
        let mut refused = Vec::new();
        for (position, mechanism) in self.mechanisms.iter().enumerate() {
            if !allowed
                .iter()
                .any(|a| a.eq_ignore_ascii_case(mechanism.package.name()))
            {
                continue;
            }
            match mechanism
                .package
                .acquire_credentials_handle(inner_request(&request))
            {
                Ok(credentials) => acquired.push(MechCredentials {
                    mechanism: mechanism.clone(),
                    credentials,
                    position,
                }),
                Err(error) => {
                    tracing::info!(package = %mechanism.package.name(), %error, "Negotiate: no credentials from this package; left out");
                    refused.push(LeftOut {
                        position,
                        reason: format!("{}: {error}", mechanism.package.name()),
                    });
                }
            }
        }
        if acquired.is_empty() {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_NO_CREDENTIALS,
                format!(
                    "Negotiate: no package gave credentials ({})",
                    refused
                        .iter()
                        .map(|r| r.reason.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            ));
        }
        Ok(NegotiateCredentials {
            credential_use: request.credential_use,
            inner: Arc::new(CredentialSet {
                config: self.config,
                mechanisms: acquired,
                left_out: refused,
            }),
        })
    }
}

/// The request as an inner package sees it: the PackageList removed, and an
/// identity that names no one (only a PackageList) dropped.
fn inner_request(request: &CredentialsRequest) -> CredentialsRequest {
    use sspi_core::abi_stable::std_types::ROption;
    let auth_identity = match &request.auth_identity {
        ROption::RSome(identity) if !identity.is_default() => {
            let mut identity = identity.clone();
            identity.package_list = Default::default();
            ROption::RSome(identity)
        }
        _ => ROption::RNone,
    };
    CredentialsRequest {
        principal: request.principal.clone(),
        credential_use: request.credential_use,
        auth_identity,
    }
}

/// Credentials of one inner package.
pub(crate) struct MechCredentials {
    pub mechanism: Mechanism,
    pub credentials: CredentialsObject,
    /// Its place in Negotiate's configured order.
    pub position: usize,
}

/// A package that gave no credentials: where it stood, and why.
pub(crate) struct LeftOut {
    pub position: usize,
    pub reason: String,
}

/// What a Negotiate credential handle holds, shared with its contexts.
pub(crate) struct CredentialSet {
    pub config: NegotiateConfig,
    /// In preference order.
    pub mechanisms: Vec<MechCredentials>,
    /// The packages the PackageList allowed that gave no credentials: for a
    /// client, a fallback already (no credentials for Kerberos).
    pub left_out: Vec<LeftOut>,
}

impl CredentialSet {
    /// The credentials of `family`, if Negotiate has them.
    pub fn find(&self, family: MechFamily) -> Option<&MechCredentials> {
        self.mechanisms
            .iter()
            .find(|m| m.mechanism.family == family)
    }
}

/// A Negotiate credential handle: the inner packages' credentials.
pub struct NegotiateCredentials {
    credential_use: CredentialUse,
    inner: Arc<CredentialSet>,
}

impl NegotiateCredentials {
    /// Outbound credentials over `set` (a context's delegated credentials).
    pub(crate) fn outbound(set: Arc<CredentialSet>) -> Self {
        Self {
            credential_use: CredentialUse::OUTBOUND,
            inner: set,
        }
    }
}

impl Credentials for NegotiateCredentials {
    type Client = NegotiateClientHandshake;
    type Server = NegotiateServerHandshake;

    fn credential_use(&self) -> CredentialUse {
        self.credential_use
    }

    /// The first package's user.
    fn names(&self) -> SecurityResult<String> {
        self.inner.mechanisms[0].credentials.names()
    }

    fn new_client_context(
        &self,
        target: Option<&str>,
        req: IscReq,
    ) -> SecurityResult<NegotiateClientHandshake> {
        Ok(NegotiateClientHandshake::new(
            Arc::clone(&self.inner),
            target.map(str::to_owned),
            req,
        ))
    }

    fn new_server_context(&self, req: AscReq) -> SecurityResult<NegotiateServerHandshake> {
        Ok(NegotiateServerHandshake::new(Arc::clone(&self.inner), req))
    }
}
