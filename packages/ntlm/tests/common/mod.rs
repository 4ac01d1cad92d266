//! The package driven in-process through sspi-core's real adapter and leg
//! engine (what a plugin exports), without a host or a registry file.

#![allow(dead_code)]

use sspi_core::abi_stable::std_types::{ROption, RSlice, RSliceMut, RStr};
use sspi_core::ffi::{ContextBox, CredentialsBox, PackageBox};
use sspi_core::{
    AscReq, AuthIdentity, ContextFlags, ContextSizes, CredentialUse, CredentialsRequest, IscReq,
    Lifespan, MessageError, PackageParameters, Parameter, ParameterValue, Qop, SecBuffer,
    SecBufferRef, SecretBytes, SecurityError, SecurityStatus,
};
use sspi_package_ntlm::NtlmPackageFactory;

/// A REG_SZ value.
pub fn sz(s: &str) -> ParameterValue {
    ParameterValue::Sz(s.into())
}

/// Parameters of `HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM`, each set at `test.reg:1:1`.
pub fn parameters(entries: Vec<(&str, &str, ParameterValue)>) -> PackageParameters {
    PackageParameters {
        key_path: r"HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM".into(),
        entries: entries
            .into_iter()
            .map(|(key, name, value)| Parameter {
                key: key.into(),
                name: name.into(),
                value,
                origin: "test.reg:1:1".into(),
            })
            .collect::<Vec<_>>()
            .into(),
    }
}

/// The NTLM package as a host holds it.
pub struct Package(PackageBox);

/// Opens the package through its descriptor, as a host does.
pub fn open(parameters: &PackageParameters) -> Result<Package, SecurityError> {
    let descriptor = sspi_core::adapter::descriptor::<NtlmPackageFactory>();
    (descriptor.open)(parameters, Default::default())
        .into_result()
        .map(Package)
}

impl Package {
    /// AcquireCredentialsHandle.
    pub fn credentials(
        &self,
        credential_use: CredentialUse,
        auth_identity: Option<AuthIdentity>,
    ) -> Result<Credentials, SecurityError> {
        self.0
            .acquire_credentials_handle(CredentialsRequest {
                principal: None.into(),
                credential_use,
                auth_identity: auth_identity.into(),
            })
            .into_result()
            .map(Credentials)
    }
}

/// A credential handle.
pub struct Credentials(CredentialsBox);

impl Credentials {
    /// A client context (what the first InitializeSecurityContext creates).
    pub fn client(&self, target: Option<&str>, req: IscReq) -> Result<Context, SecurityError> {
        let target = match target {
            Some(t) => ROption::RSome(RStr::from_str(t)),
            None => ROption::RNone,
        };
        self.0
            .new_client_context(target, req)
            .into_result()
            .map(Context)
    }

    /// A server context (what the first AcceptSecurityContext creates).
    pub fn server(&self, req: AscReq) -> Result<Context, SecurityError> {
        self.0.new_server_context(req).into_result().map(Context)
    }
}

/// A security context behind the leg engine.
pub struct Context(ContextBox);

impl Context {
    /// InitializeSecurityContext on this context.
    pub fn isc(
        &mut self,
        input: &[SecBufferRef<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> Result<SecurityStatus, SecurityError> {
        self.0
            .initialize_security_context(
                RSlice::from_slice(input),
                RSliceMut::from_mut_slice(output),
            )
            .into_result()
            .map(|step| step.status)
    }

    /// AcceptSecurityContext on this context.
    pub fn asc(
        &mut self,
        input: &[SecBufferRef<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> Result<SecurityStatus, SecurityError> {
        self.0
            .accept_security_context(RSlice::from_slice(input), RSliceMut::from_mut_slice(output))
            .into_result()
            .map(|step| step.status)
    }

    /// SECPKG_ATTR_NAMES.
    pub fn names(&self) -> Result<String, SecurityError> {
        self.0.names().into_result().map(|n| n.into_string())
    }

    /// SECPKG_ATTR_SESSION_KEY.
    pub fn session_key(&self) -> Result<SecretBytes, SecurityError> {
        self.0.session_key().into_result()
    }

    /// SECPKG_ATTR_FLAGS.
    pub fn flags(&self) -> Result<ContextFlags, SecurityError> {
        self.0.flags().into_result()
    }

    /// SECPKG_ATTR_SIZES.
    pub fn sizes(&self) -> Result<ContextSizes, SecurityError> {
        self.0.sizes().into_result()
    }

    /// SECPKG_ATTR_LIFESPAN.
    pub fn lifespan(&self) -> Result<Lifespan, SecurityError> {
        self.0.lifespan().into_result()
    }

    /// MakeSignature.
    pub fn make_signature(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
    ) -> Result<Qop, MessageError> {
        self.0
            .make_signature(qop, RSliceMut::from_mut_slice(message), 0)
            .into_result()
    }

    /// VerifySignature.
    pub fn verify_signature(&mut self, message: &mut [SecBuffer<'_>]) -> Result<Qop, MessageError> {
        self.0
            .verify_signature(RSliceMut::from_mut_slice(message), 0)
            .into_result()
    }

    /// EncryptMessage.
    pub fn encrypt_message(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
    ) -> Result<Qop, MessageError> {
        self.0
            .encrypt_message(qop, RSliceMut::from_mut_slice(message), 0)
            .into_result()
    }

    /// DecryptMessage.
    pub fn decrypt_message(&mut self, message: &mut [SecBuffer<'_>]) -> Result<Qop, MessageError> {
        self.0
            .decrypt_message(RSliceMut::from_mut_slice(message), 0)
            .into_result()
    }
}
