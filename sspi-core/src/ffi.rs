//! The stable ABI: `#[sabi_trait]` objects for packages, credentials and contexts,
//! the root module a package library exports, and the built-in registry.
//!
//! Hosts only see these types; package authors never touch them directly
//! (see [`crate::PackageFactory`] and [`crate::export_library!`]).

// `#[sabi_trait]` (abi_stable 0.11) emits its impls inside a generated const;
// the lint is about that macro's expansion, not our code.
#![allow(non_local_definitions)]

use crate::{
    AscReq, AscStep, Composition, ContextFlags, ContextSizes, CredentialUse, CredentialsRequest,
    InnerPackage, IscReq, IscStep, Lifespan, MessageDirection, MessageError, NegotiationInfo,
    PackageInfo, PackageParameters, ParameterSpec, Qop, SecBuffer, SecBufferRef, SecretBytes,
    SecurityError, SecurityStatus,
    context_export::{ContextSide, ExportedContext},
};
use abi_stable::{
    StableAbi, declare_root_module_statics,
    library::RootModule,
    package_version_strings, sabi_trait,
    sabi_types::VersionStrings,
    std_types::{RBox, ROption, RResult, RSlice, RSliceMut, RStr, RString, RVec},
};

/// A package as the host holds it.
#[sabi_trait]
pub trait PackageFfi: Send + Sync + 'static {
    /// AcquireCredentialsHandle.
    #[sabi(last_prefix_field)]
    fn acquire_credentials_handle(
        &self,
        request: CredentialsRequest,
    ) -> RResult<CredentialsBox, SecurityError>;

    /// ImportSecurityContext: a complete context of `side` rebuilt from the
    /// package's payload of a packed context (the host has checked the blob
    /// around it, see [`crate::context_export`]). A library built before
    /// this method existed answers SEC_E_UNSUPPORTED_FUNCTION.
    fn import_context(
        &self,
        side: ContextSide,
        payload: RSlice<'_, u8>,
    ) -> RResult<ContextBox, SecurityError> {
        let _ = (side, payload);
        RResult::RErr(SecurityError::new(
            SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
            "this package's library does not import security contexts",
        ))
    }
}

/// A package object behind the ABI.
pub type PackageBox = PackageFfi_TO<RBox<()>>;

/// Credentials as the host holds them.
#[sabi_trait]
pub trait CredentialsFfi: Send + Sync + 'static {
    /// The direction the credentials were acquired for.
    fn credential_use(&self) -> CredentialUse;

    /// QueryCredentialsAttributes(NAMES).
    fn names(&self) -> RResult<RString, SecurityError>;

    /// A new client context.
    fn new_client_context(
        &self,
        target: ROption<RStr<'_>>,
        req: IscReq,
    ) -> RResult<ContextBox, SecurityError>;

    /// A new server context.
    #[sabi(last_prefix_field)]
    fn new_server_context(&self, req: AscReq) -> RResult<ContextBox, SecurityError>;
}

/// A credentials object behind the ABI.
pub type CredentialsBox = CredentialsFfi_TO<RBox<()>>;

/// A security context as the host holds it: the leg engine of
/// [`crate::adapter`] around a package's handshake and established context.
#[sabi_trait]
pub trait ContextFfi: Send + 'static {
    /// One InitializeSecurityContext leg.
    fn initialize_security_context(
        &mut self,
        input: RSlice<'_, SecBufferRef<'_>>,
        output: RSliceMut<'_, SecBuffer<'_>>,
    ) -> RResult<IscStep, SecurityError>;

    /// One AcceptSecurityContext leg.
    fn accept_security_context(
        &mut self,
        input: RSlice<'_, SecBufferRef<'_>>,
        output: RSliceMut<'_, SecBuffer<'_>>,
    ) -> RResult<AscStep, SecurityError>;

    /// CompleteAuthToken.
    fn complete_auth_token(
        &mut self,
        token: RSliceMut<'_, SecBuffer<'_>>,
    ) -> RResult<(), SecurityError>;

    /// SECPKG_ATTR_SIZES.
    fn sizes(&self) -> RResult<ContextSizes, SecurityError>;

    /// SECPKG_ATTR_NAMES.
    fn names(&self) -> RResult<RString, SecurityError>;

    /// SECPKG_ATTR_LIFESPAN.
    fn lifespan(&self) -> RResult<Lifespan, SecurityError>;

    /// SECPKG_ATTR_SESSION_KEY.
    fn session_key(&self) -> RResult<SecretBytes, SecurityError>;

    /// SECPKG_ATTR_FLAGS.
    fn flags(&self) -> RResult<ContextFlags, SecurityError>;

    /// MakeSignature.
    fn make_signature(
        &mut self,
        qop: Qop,
        message: RSliceMut<'_, SecBuffer<'_>>,
        sequence: u32,
    ) -> RResult<Qop, MessageError>;

    /// VerifySignature.
    fn verify_signature(
        &mut self,
        message: RSliceMut<'_, SecBuffer<'_>>,
        sequence: u32,
    ) -> RResult<Qop, MessageError>;

    /// EncryptMessage.
    fn encrypt_message(
        &mut self,
        qop: Qop,
        message: RSliceMut<'_, SecBuffer<'_>>,
        sequence: u32,
    ) -> RResult<Qop, MessageError>;

    /// DecryptMessage.
    fn decrypt_message(
        &mut self,
        message: RSliceMut<'_, SecBuffer<'_>>,
        sequence: u32,
    ) -> RResult<Qop, MessageError>;

    /// SECPKG_ATTR_NEGOTIATION_INFO (`None` for a package that does not negotiate).
    fn negotiation_info(&self) -> RResult<ROption<NegotiationInfo>, SecurityError>;

    /// [`crate::EstablishedContext::requires_mech_list_mic`].
    fn requires_mech_list_mic(&self) -> RResult<bool, SecurityError>;

    /// [`crate::EstablishedContext::mech_list_mic_processed`].
    #[sabi(last_prefix_field)]
    fn mech_list_mic_processed(
        &mut self,
        direction: MessageDirection,
    ) -> RResult<(), SecurityError>;

    /// [`crate::EstablishedContext::delegated_credentials`].
    fn delegated_credentials(&self) -> RResult<ROption<CredentialsBox>, SecurityError>;

    /// ExportSecurityContext: the side and the package's payload of a
    /// complete context (SEC_E_INVALID_HANDLE while its handshake runs);
    /// `reset_new` is SECPKG_CONTEXT_EXPORT_RESET_NEW. A library built
    /// before this method existed answers SEC_E_UNSUPPORTED_FUNCTION.
    fn export_context(&self, reset_new: bool) -> RResult<ExportedContext, SecurityError> {
        let _ = reset_new;
        RResult::RErr(SecurityError::new(
            SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
            "this package's library does not export security contexts",
        ))
    }
}

/// A context object behind the ABI.
pub type ContextBox = ContextFfi_TO<RBox<()>>;

/// Opens one package of a library with its registry parameters and, for a
/// composing package, the inner packages its registry value names (in order;
/// empty for every other package).
pub type OpenPackageFn = extern "C" fn(
    &PackageParameters,
    RSlice<'_, InnerPackage>,
) -> RResult<PackageBox, SecurityError>;

/// Lists the packages of a library.
pub type ListPackagesFn = extern "C" fn() -> RResult<RVec<PackageDescriptor>, SecurityError>;

/// One package a library exports: its info, the registry values it reads,
/// and its constructor.
#[repr(C)]
#[derive(StableAbi)]
pub struct PackageDescriptor {
    /// The package's `SecPkgInfo`.
    pub info: PackageInfo,
    /// The registry values the package reads.
    pub parameters: RSlice<'static, ParameterSpec>,
    /// For a package built from other packages: where its registry key lists them.
    pub composition: ROption<Composition>,
    /// Opens the package (an [`OpenPackageFn`]).
    pub open: extern "C" fn(
        &PackageParameters,
        RSlice<'_, InnerPackage>,
    ) -> RResult<PackageBox, SecurityError>,
}

/// The root module every package library exports.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = SspiLibraryRef)))]
#[sabi(missing_field(panic))]
pub struct SspiLibrary {
    /// The packages this library exports.
    #[sabi(last_prefix_field)]
    pub packages: extern "C" fn() -> RResult<RVec<PackageDescriptor>, SecurityError>,
}

impl RootModule for SspiLibraryRef {
    declare_root_module_statics! {SspiLibraryRef}
    const BASE_NAME: &'static str = "sspi_package_library";
    const NAME: &'static str = "sspi-plug package library";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// A package library's exports, as a package crate declares them with
/// [`crate::declare_library!`]: exported as a plugin root module by
/// [`crate::export_library!`], or linked into a host as a built-in.
#[derive(Debug)]
pub struct LibraryExports {
    /// The built-in name the registry selects it by (`builtin:NAME`).
    pub name: &'static str,
    /// Lists the packages.
    pub packages: ListPackagesFn,
}

/// A built-in library linked into the host, registered with `inventory`.
#[derive(Debug)]
pub struct BuiltinLibrary(pub &'static LibraryExports);

inventory::collect!(BuiltinLibrary);

/// The built-in libraries linked into this binary.
pub fn builtin_libraries() -> impl Iterator<Item = &'static LibraryExports> {
    inventory::iter::<BuiltinLibrary>.into_iter().map(|b| b.0)
}
