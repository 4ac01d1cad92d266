//! The plain Rust traits a package author implements.
//!
//! A package is split like an rsasl mechanism: a [`PackageFactory`] is the
//! descriptor (name, capabilities, parameters, constructor), a
//! [`SecurityPackage`] is the loaded package, [`Credentials`] come from
//! AcquireCredentialsHandle and start handshakes, a
//! [`ClientHandshake`] or [`ServerHandshake`] is one side's state machine,
//! and an [`crate::EstablishedContext`] the per-message protection. [`crate::export_library!`] and
//! [`crate::declare_library!`] turn these into the stable ABI; every call is
//! guarded there, so a panic becomes `SEC_E_INTERNAL_ERROR` instead of
//! crossing the plugin boundary.

#[cfg(doc)]
use crate::EstablishedContext;
use crate::{
    AscReq, ClientHandshake, Composition, CredentialUse, CredentialsRequest, InnerPackage, IscReq,
    PackageInfo, PackageParameters, ParameterSpec, SecurityError, SecurityResult, SecurityStatus,
    ServerHandshake,
};

/// A package's descriptor: what it is and how to open it with its registry parameters.
pub trait PackageFactory: 'static {
    /// The package this factory opens.
    type Package: SecurityPackage;

    /// The package's `SecPkgInfo`.
    fn info() -> PackageInfo;

    /// The registry values the package reads, for `sspi registry check` and
    /// `sspi registry describe`. Once a package declares any, values it does
    /// not list are reported as unknown (with a did-you-mean); a package that
    /// declares none is not checked.
    fn parameters() -> &'static [ParameterSpec] {
        &[]
    }

    /// Opens the package with the parameters of its registry key.
    fn open(parameters: &PackageParameters) -> SecurityResult<Self::Package>;

    /// For a package built from other packages (Negotiate): the registry
    /// value that lists them. The host then opens those packages first and
    /// calls [`PackageFactory::open_composed`] instead of `open`. The default,
    /// `None`, is a package that stands alone.
    fn composition() -> Option<Composition> {
        None
    }

    /// Opens a composing package with its parameters and the packages its
    /// [`composition`](PackageFactory::composition) value names, in that
    /// order (never empty). The default ignores them and calls `open`.
    fn open_composed(
        parameters: &PackageParameters,
        inner: Vec<InnerPackage>,
    ) -> SecurityResult<Self::Package> {
        let _ = inner;
        Self::open(parameters)
    }
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

    /// ImportSecurityContext of a client context: rebuilds the established
    /// context that [`EstablishedContext::export_context`] of a client
    /// context of this package wrote as `payload`. The host has already
    /// checked the blob around it (format, digest, package name, side), and
    /// the engine puts what this returns behind a complete client context
    /// (per-message calls work; handshake calls are SEC_E_OUT_OF_SEQUENCE).
    ///
    /// * `payload` MUST be parsed strictly and bounded
    ///   ([`crate::context_export::PayloadReader`]): a payload of another
    ///   version, truncated, with bytes left over, or with values out of
    ///   range MUST be SEC_E_INVALID_TOKEN naming the field, never a panic.
    /// * Keys MUST go straight into zeroizing types; the reason of an error
    ///   MUST NOT carry any of the payload.
    /// * An expired context MAY be imported: the engine refuses its
    ///   per-message calls with SEC_E_CONTEXT_EXPIRED, as on the exporter.
    ///
    /// The default is SEC_E_UNSUPPORTED_FUNCTION.
    fn import_client_context(&self, payload: &[u8]) -> SecurityResult<ClientEstablished<Self>> {
        let _ = payload;
        Err(no_import())
    }

    /// ImportSecurityContext of a server context (see
    /// [`SecurityPackage::import_client_context`]).
    fn import_server_context(&self, payload: &[u8]) -> SecurityResult<ServerEstablished<Self>> {
        let _ = payload;
        Err(no_import())
    }
}

/// The established context of package `P`'s client handshakes.
pub type ClientEstablished<P> =
    <<<P as SecurityPackage>::Credentials as Credentials>::Client as ClientHandshake>::Established;

/// The established context of package `P`'s server handshakes.
pub type ServerEstablished<P> =
    <<<P as SecurityPackage>::Credentials as Credentials>::Server as ServerHandshake>::Established;

fn no_import() -> SecurityError {
    SecurityError::new(
        SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
        "this package does not import security contexts",
    )
}

/// A credential handle: the identity a context is established with.
pub trait Credentials: Send + Sync + 'static {
    /// The client's handshake: what InitializeSecurityContext drives.
    type Client: ClientHandshake;
    /// The server's handshake: what AcceptSecurityContext drives.
    type Server: ServerHandshake;

    /// The direction the credentials were acquired for.
    fn credential_use(&self) -> CredentialUse;

    /// QueryCredentialsAttributes(SECPKG_CRED_ATTR_NAMES): the user the credentials name.
    fn names(&self) -> SecurityResult<String>;

    /// The first state of a client handshake for `target` (the service's
    /// name, e.g. an SPN; `None` when the caller gave none), asking for `req`.
    /// Called by the first InitializeSecurityContext, and only on credentials
    /// acquired OUTBOUND (the engine refuses others with
    /// SEC_E_WRONG_CREDENTIAL_HANDLE).
    fn new_client_context(&self, target: Option<&str>, req: IscReq)
    -> SecurityResult<Self::Client>;

    /// The first state of a server handshake; `req` is the server
    /// application's ASC_REQ (what it requires). The client's ISC_REQ bits
    /// reach the server only inside the client's tokens. Called
    /// by the first AcceptSecurityContext, and only on credentials acquired
    /// INBOUND.
    fn new_server_context(&self, req: AscReq) -> SecurityResult<Self::Server>;
}
