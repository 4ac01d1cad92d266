//! The ABI's credentials and context objects as Rust types: each call goes
//! through the object's vtable and returns a `Result`. The host's handles
//! and composing packages both call these.

use crate::context_export::ExportedContext;
use crate::ffi::{ContextBox, CredentialsBox};
use crate::{
    AscReq, AscStep, ContextFlags, ContextSizes, CredentialUse, IscReq, IscStep, Lifespan,
    MessageDirection, MessageResult, NegotiationInfo, Qop, SecBuffer, SecBufferRef, SecretBytes,
    SecurityResult,
};
use abi_stable::std_types::{ROption, RSlice, RSliceMut, RStr};
use std::fmt;

/// A credentials object behind the ABI, with Rust results: what the host's
/// credential handles and composing packages (for their inner packages) call.
pub struct CredentialsObject(CredentialsBox);

impl fmt::Debug for CredentialsObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialsObject")
    }
}

impl CredentialsObject {
    /// The typed view of `credentials`.
    pub fn new(credentials: CredentialsBox) -> Self {
        Self(credentials)
    }

    /// Credentials a package made itself (its delegated credentials, see
    /// [`crate::EstablishedContext::delegated_credentials`]), behind the
    /// same checks as those AcquireCredentialsHandle returns: contexts made
    /// from them refuse peer tokens longer than `max_token` (the package's
    /// `cbMaxToken`).
    pub fn from_credentials<C: crate::Credentials>(credentials: C, max_token: u32) -> Self {
        Self(crate::adapter::credentials_box(
            credentials,
            max_token as usize,
        ))
    }

    /// The ABI object: what [`crate::ffi::PackageFfi::acquire_credentials_handle`]
    /// returns (for a package source that implements `PackageFfi` itself, such
    /// as the host's C providers, and for delegated credentials).
    pub fn into_box(self) -> CredentialsBox {
        self.0
    }

    /// The direction they were acquired for.
    pub fn credential_use(&self) -> CredentialUse {
        self.0.credential_use()
    }

    /// QueryCredentialsAttributes(NAMES).
    pub fn names(&self) -> SecurityResult<String> {
        self.0.names().into_result().map(Into::into)
    }

    /// A new client context for `target`.
    pub fn new_client_context(
        &self,
        target: Option<&str>,
        req: IscReq,
    ) -> SecurityResult<ContextObject> {
        let target = match target {
            Some(target) => ROption::RSome(RStr::from_str(target)),
            None => ROption::RNone,
        };
        self.0
            .new_client_context(target, req)
            .into_result()
            .map(ContextObject)
    }

    /// A new server context.
    pub fn new_server_context(&self, req: AscReq) -> SecurityResult<ContextObject> {
        self.0
            .new_server_context(req)
            .into_result()
            .map(ContextObject)
    }
}

/// A security context object behind the ABI, with Rust results: what the
/// host's context handles and composing packages (for their inner
/// contexts) call. Its own leg engine checks sides, order and expiry.
pub struct ContextObject(ContextBox);

impl fmt::Debug for ContextObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContextObject")
    }
}

impl ContextObject {
    /// The typed view of `context` (a context ImportSecurityContext made).
    pub fn new(context: ContextBox) -> Self {
        Self(context)
    }

    /// ExportSecurityContext: the context's side and its package's payload
    /// (secret), for [`crate::context_export::encode`]. Only a complete
    /// context exports (SEC_E_INVALID_HANDLE during its handshake); the
    /// context stays usable. `reset_new` is SECPKG_CONTEXT_EXPORT_RESET_NEW
    /// (see [`crate::EstablishedContext::export_context`]).
    pub fn export_context(&self, reset_new: bool) -> SecurityResult<ExportedContext> {
        self.0.export_context(reset_new).into_result()
    }

    /// One InitializeSecurityContext leg.
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

    /// One AcceptSecurityContext leg.
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

    /// The client's delegated credentials on a server context (see
    /// [`crate::EstablishedContext::delegated_credentials`]); `None` when it
    /// did not delegate.
    pub fn delegated_credentials(&self) -> SecurityResult<Option<CredentialsObject>> {
        self.0
            .delegated_credentials()
            .into_result()
            .map(|c| c.into_option().map(CredentialsObject))
    }

    /// SECPKG_ATTR_NEGOTIATION_INFO (`None` for a package that does not negotiate).
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
