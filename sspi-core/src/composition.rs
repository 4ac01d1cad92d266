//! Packages built from other packages (Negotiate): what a composing package
//! declares, and the inner packages the host hands it.
//!
//! A [`PackageFactory`](crate::PackageFactory) whose
//! [`composition`](crate::PackageFactory::composition) names a registry value
//! is opened after the packages that value lists, and receives them, in
//! order, as [`InnerPackage`]s. Each call on an inner package, its credentials
//! or its contexts goes straight through that package's own vtable: the
//! composing package never looks a package up by name once it is open.

use crate::ffi::{ContextBox, CredentialsBox, PackageBox};
use crate::{
    AscReq, AscStep, ContextFlags, ContextSizes, CredentialUse, CredentialsRequest, IscReq,
    IscStep, Lifespan, MessageResult, NegotiationInfo, PackageInfo, Qop, SecBuffer, SecBufferRef,
    SecretBytes, SecurityResult,
};
use abi_stable::{
    StableAbi,
    std_types::{RArc, ROption, RSlice, RSliceMut, RStr},
};
use std::fmt;

/// What a composing package declares: the registry value of its key that
/// lists the packages it is built from, and the list when that value is absent.
///
/// The value is a REG_SZ of comma-separated package names (`"Kerberos, NTLM"`),
/// in the order the package prefers them. The host refuses
/// (and names the value's `file:line`) a list that names a package that is not
/// installed, unavailable, not `SECPKG_FLAG_NEGOTIABLE`, or the composing
/// package itself through a cycle. Names in the *default* list that are not
/// installed are left out silently; an empty result is refused.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Composition {
    /// The registry value naming the inner packages (e.g. `Packages`).
    pub value: RStr<'static>,
    /// The inner packages when the value is absent, in the value's syntax.
    pub default: RStr<'static>,
}

impl Composition {
    /// A composition read from `value`, defaulting to `default` (`"Kerberos, NTLM"`).
    pub const fn new(value: &'static str, default: &'static str) -> Self {
        Self {
            value: RStr::from_str(value),
            default: RStr::from_str(default),
        }
    }
}

/// Splits a package list (`"Kerberos, NTLM"`) into its names.
pub fn split_package_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
}

/// Which way a message travelled, for [`InnerContext::mech_list_mic_processed`].
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageDirection {
    /// A message this side signed or sealed.
    Outbound,
    /// A message this side verified or unsealed.
    Inbound,
}

/// A package the host handed to a composing package: its `SecPkgInfo` and its object.
#[repr(C)]
#[derive(StableAbi, Clone)]
pub struct InnerPackage {
    info: PackageInfo,
    package: RArc<PackageBox>,
}

impl fmt::Debug for InnerPackage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InnerPackage")
            .field("name", &self.info.name)
            .finish_non_exhaustive()
    }
}

impl InnerPackage {
    /// An inner package: what the host builds from the package it opened.
    pub fn new(info: PackageInfo, package: RArc<PackageBox>) -> Self {
        Self { info, package }
    }

    /// The package's `SecPkgInfo`.
    pub fn info(&self) -> &PackageInfo {
        &self.info
    }

    /// The package's name (`Kerberos`).
    pub fn name(&self) -> &str {
        self.info.name.as_str()
    }

    /// AcquireCredentialsHandle on the inner package.
    pub fn acquire_credentials_handle(
        &self,
        request: CredentialsRequest,
    ) -> SecurityResult<InnerCredentials> {
        self.package
            .acquire_credentials_handle(request)
            .into_result()
            .map(InnerCredentials)
    }
}

/// Credentials of an inner package.
pub struct InnerCredentials(CredentialsBox);

impl fmt::Debug for InnerCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InnerCredentials")
    }
}

impl InnerCredentials {
    /// The direction they were acquired for.
    pub fn credential_use(&self) -> CredentialUse {
        self.0.credential_use()
    }

    /// QueryCredentialsAttributes(NAMES).
    pub fn names(&self) -> SecurityResult<String> {
        self.0.names().into_result().map(Into::into)
    }

    /// A new client context of the inner package for `target`.
    pub fn new_client_context(
        &self,
        target: Option<&str>,
        req: IscReq,
    ) -> SecurityResult<InnerContext> {
        let target = match target {
            Some(target) => ROption::RSome(RStr::from_str(target)),
            None => ROption::RNone,
        };
        self.0
            .new_client_context(target, req)
            .into_result()
            .map(InnerContext)
    }

    /// A new server context of the inner package.
    pub fn new_server_context(&self, req: AscReq) -> SecurityResult<InnerContext> {
        self.0
            .new_server_context(req)
            .into_result()
            .map(InnerContext)
    }
}

/// A security context of an inner package, driven by the composing package.
/// Its own leg engine checks sides, order and expiry, as for any context.
pub struct InnerContext(ContextBox);

impl fmt::Debug for InnerContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InnerContext")
    }
}

impl InnerContext {
    /// One InitializeSecurityContext leg of the inner package.
    pub fn initialize(
        &mut self,
        input: &[SecBufferRef<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> SecurityResult<IscStep> {
        self.0
            .initialize_security_context(
                RSlice::from_slice(input),
                RSliceMut::from_mut_slice(output),
            )
            .into_result()
    }

    /// One AcceptSecurityContext leg of the inner package.
    pub fn accept(
        &mut self,
        input: &[SecBufferRef<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> SecurityResult<AscStep> {
        self.0
            .accept_security_context(RSlice::from_slice(input), RSliceMut::from_mut_slice(output))
            .into_result()
    }

    /// CompleteAuthToken.
    pub fn complete_auth_token(&mut self, token: &mut [SecBuffer<'_>]) -> SecurityResult<()> {
        self.0
            .complete_auth_token(RSliceMut::from_mut_slice(token))
            .into_result()
    }

    /// SECPKG_ATTR_SIZES.
    pub fn sizes(&self) -> SecurityResult<ContextSizes> {
        self.0.sizes().into_result()
    }

    /// SECPKG_ATTR_NAMES.
    pub fn names(&self) -> SecurityResult<String> {
        self.0.names().into_result().map(Into::into)
    }

    /// SECPKG_ATTR_LIFESPAN.
    pub fn lifespan(&self) -> SecurityResult<Lifespan> {
        self.0.lifespan().into_result()
    }

    /// SECPKG_ATTR_SESSION_KEY.
    pub fn session_key(&self) -> SecurityResult<SecretBytes> {
        self.0.session_key().into_result()
    }

    /// SECPKG_ATTR_FLAGS.
    pub fn flags(&self) -> SecurityResult<ContextFlags> {
        self.0.flags().into_result()
    }

    /// SECPKG_ATTR_NEGOTIATION_INFO, when the inner package negotiates itself.
    pub fn negotiation_info(&self) -> SecurityResult<Option<NegotiationInfo>> {
        self.0
            .negotiation_info()
            .into_result()
            .map(ROption::into_option)
    }

    /// Whether SPNEGO must exchange a mechListMIC with this context whatever
    /// the preference order (see [`crate::EstablishedContext::requires_mech_list_mic`]).
    pub fn requires_mech_list_mic(&self) -> SecurityResult<bool> {
        self.0.requires_mech_list_mic().into_result()
    }

    /// Tells the context that the last signature it made (`Outbound`) or
    /// verified (`Inbound`) was SPNEGO's mechListMIC (see
    /// [`crate::EstablishedContext::mech_list_mic_processed`]).
    pub fn mech_list_mic_processed(&mut self, direction: MessageDirection) -> SecurityResult<()> {
        self.0.mech_list_mic_processed(direction).into_result()
    }

    /// MakeSignature.
    #[inline]
    pub fn make_signature(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> MessageResult {
        self.0
            .make_signature(qop, RSliceMut::from_mut_slice(message), sequence)
            .into_result()
    }

    /// VerifySignature.
    #[inline]
    pub fn verify_signature(
        &mut self,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> MessageResult {
        self.0
            .verify_signature(RSliceMut::from_mut_slice(message), sequence)
            .into_result()
    }

    /// EncryptMessage.
    #[inline]
    pub fn encrypt_message(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> MessageResult {
        self.0
            .encrypt_message(qop, RSliceMut::from_mut_slice(message), sequence)
            .into_result()
    }

    /// DecryptMessage.
    #[inline]
    pub fn decrypt_message(
        &mut self,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> MessageResult {
        self.0
            .decrypt_message(RSliceMut::from_mut_slice(message), sequence)
            .into_result()
    }
}
