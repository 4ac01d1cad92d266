//! The plain Rust traits a package author implements.
//!
//! A package is split like an rsasl mechanism: a [`PackageFactory`] is the
//! descriptor (name, capabilities, constructor), a [`SecurityPackage`] is the
//! loaded package, [`Credentials`] come from AcquireCredentialsHandle, and a
//! [`SecurityContext`] is the handshake state machine and, once complete, the
//! per-message protection. [`crate::export_library!`] and
//! [`crate::declare_library!`] turn these into the stable ABI; every call is
//! guarded there, so a panic becomes `SEC_E_INTERNAL_ERROR` instead of
//! crossing the plugin boundary.

use crate::{
    AscReq, ContextSizes, CredentialUse, CredentialsRequest, IscReq, Lifespan, PackageInfo,
    PackageParameters, SecBuffer, SecretBytes, SecurityError, SecurityResult, SecurityStatus,
    TimeStamp,
};
use abi_stable::StableAbi;

/// A package's descriptor: what it is and how to open it with its registry parameters.
pub trait PackageFactory: 'static {
    /// The package this factory opens.
    type Package: SecurityPackage;

    /// The package's `SecPkgInfo`.
    fn info() -> PackageInfo;

    /// Opens the package with the parameters of its registry key.
    fn open(parameters: &PackageParameters) -> SecurityResult<Self::Package>;
}

/// A loaded package: hands out credentials.
pub trait SecurityPackage: Send + Sync + 'static {
    /// The credentials it hands out.
    type Credentials: Credentials;

    /// AcquireCredentialsHandle.
    fn acquire_credentials_handle(
        &self,
        request: CredentialsRequest,
    ) -> SecurityResult<Self::Credentials>;
}

/// A credential handle: the identity a context is established with.
pub trait Credentials: Send + Sync + 'static {
    /// The contexts it creates.
    type Context: SecurityContext;

    /// The direction the credentials were acquired for.
    fn credential_use(&self) -> CredentialUse;

    /// QueryCredentialsAttributes(SECPKG_CRED_ATTR_NAMES): the user the credentials name.
    fn names(&self) -> SecurityResult<String>;

    /// A new client-side context, before the first InitializeSecurityContext leg.
    fn new_client_context(
        &self,
        target: Option<&str>,
        req: IscReq,
    ) -> SecurityResult<Self::Context>;

    /// A new server-side context, before the first AcceptSecurityContext leg.
    fn new_server_context(&self, req: AscReq) -> SecurityResult<Self::Context>;
}

/// What one handshake leg produced: its status, the context attributes and expiry.
#[repr(C)]
#[derive(StableAbi, Copy, Clone, Debug, PartialEq, Eq)]
pub struct HandshakeStep {
    /// SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_I_COMPLETE_NEEDED or SEC_I_COMPLETE_AND_CONTINUE.
    pub status: SecurityStatus,
    /// ISC_RET_* (client) or ASC_RET_* (server) bits established so far.
    pub attributes: u32,
    /// When the context expires.
    pub expiry: TimeStamp,
}

impl HandshakeStep {
    /// True when the caller must read a reply and call again.
    pub fn needs_continue(&self) -> bool {
        self.status == SecurityStatus::SEC_I_CONTINUE_NEEDED
            || self.status == SecurityStatus::SEC_I_COMPLETE_AND_CONTINUE
    }

    /// True when the caller must call CompleteAuthToken before sending the token.
    pub fn needs_complete(&self) -> bool {
        self.status == SecurityStatus::SEC_I_COMPLETE_NEEDED
            || self.status == SecurityStatus::SEC_I_COMPLETE_AND_CONTINUE
    }
}

/// A security context: the handshake, then per-message protection.
///
/// Per-message methods work in place on the caller's buffers and must not
/// allocate; they report failures as bare status codes for that reason.
pub trait SecurityContext: Send + 'static {
    /// One InitializeSecurityContext leg: reads the peer's token from `input`
    /// (empty on the first leg) and writes this side's token into `output`.
    fn initialize_security_context(
        &mut self,
        input: &mut [SecBuffer<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> SecurityResult<HandshakeStep>;

    /// One AcceptSecurityContext leg.
    fn accept_security_context(
        &mut self,
        input: &mut [SecBuffer<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> SecurityResult<HandshakeStep>;

    /// CompleteAuthToken: finishes the token of a leg that returned
    /// SEC_I_COMPLETE_NEEDED or SEC_I_COMPLETE_AND_CONTINUE. Packages that never
    /// ask for it return SEC_E_OK, as Windows packages do.
    fn complete_auth_token(&mut self, _token: &mut [SecBuffer<'_>]) -> SecurityResult<()> {
        Ok(())
    }

    /// QueryContextAttributes(SECPKG_ATTR_SIZES).
    fn sizes(&self) -> SecurityResult<ContextSizes>;

    /// QueryContextAttributes(SECPKG_ATTR_NAMES): the authenticated client ("DOMAIN\user").
    fn names(&self) -> SecurityResult<String>;

    /// QueryContextAttributes(SECPKG_ATTR_LIFESPAN).
    fn lifespan(&self) -> SecurityResult<Lifespan>;

    /// QueryContextAttributes(SECPKG_ATTR_SESSION_KEY).
    fn session_key(&self) -> SecurityResult<SecretBytes> {
        Err(SecurityError::new(
            SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
            "this package has no session key to export",
        ))
    }

    /// QueryContextAttributes(SECPKG_ATTR_FLAGS): the ISC_RET/ASC_RET bits in force.
    fn flags(&self) -> u32;

    /// MakeSignature: writes a signature over the DATA buffers into the TOKEN buffer.
    fn make_signature(
        &mut self,
        qop: u32,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> Result<(), SecurityStatus>;

    /// VerifySignature: checks the TOKEN buffer against the DATA buffers; returns the QOP.
    fn verify_signature(
        &mut self,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> Result<u32, SecurityStatus>;

    /// EncryptMessage: encrypts DATA in place and writes the trailer into TOKEN.
    fn encrypt_message(
        &mut self,
        qop: u32,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> Result<(), SecurityStatus>;

    /// DecryptMessage: checks the TOKEN trailer and decrypts DATA in place; returns the QOP.
    fn decrypt_message(
        &mut self,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> Result<u32, SecurityStatus>;
}
