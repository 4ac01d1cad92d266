//! A complete Negotiate context: the negotiated package's context, and what was negotiated.

use crate::config::NegotiateConfig;
use crate::mechanism::MechContext;
use crate::package::{CredentialSet, MechCredentials, NegotiateCredentials};
use sspi_core::prelude::*;
use sspi_core::{
    ContextObject, CredentialsObject, MessageDirection, NegotiationInfo, NegotiationState,
};
use std::sync::Arc;

/// A complete Negotiate context. Per-message calls go straight to the
/// negotiated package's context; the attributes are its own, read once when
/// the handshake completed.
pub struct NegotiateEstablishedContext {
    inner: ContextObject,
    info: NegotiationInfo,
    sizes: ContextSizes,
    lifespan: Lifespan,
    flags: IscRet,
    /// On a server context whose client delegated: the negotiated package's
    /// delegated credentials, as a Negotiate credential set of that package.
    delegated: Option<Arc<CredentialSet>>,
}

impl NegotiateEstablishedContext {
    pub(crate) fn new(
        mech: MechContext,
        state: NegotiationState,
        fallback: &[String],
        config: NegotiateConfig,
    ) -> SecurityResult<Self> {
        let context = mech.context;
        let delegated = context.delegated_credentials()?.map(|credentials| {
            Arc::new(CredentialSet {
                config,
                mechanisms: vec![MechCredentials {
                    mechanism: mech.mechanism.clone(),
                    credentials,
                    position: 0,
                }],
                left_out: Vec::new(),
            })
        });
        let info = NegotiationInfo {
            package: mech.mechanism.package.info().clone(),
            state,
            fallback: fallback.join("; ").into(),
        };
        Ok(Self {
            sizes: context.sizes()?,
            lifespan: context.lifespan()?,
            flags: context.flags()?.as_isc_ret(),
            inner: context,
            info,
            delegated,
        })
    }

    /// The package Negotiate chose.
    pub fn negotiated_package(&self) -> &str {
        self.info.package.name.as_str()
    }
}

impl EstablishedContext for NegotiateEstablishedContext {
    fn sizes(&self) -> ContextSizes {
        self.sizes
    }

    fn names(&self) -> SecurityResult<String> {
        self.inner.names()
    }

    fn lifespan(&self) -> Lifespan {
        self.lifespan
    }

    fn flags(&self) -> IscRet {
        self.flags
    }

    fn session_key(&self) -> SecurityResult<SecretBytes> {
        self.inner.session_key()
    }

    /// The negotiated package's engine checks expiry on every call.
    fn inner_context_checks_expiry(&self) -> bool {
        true
    }

    /// The negotiated package's delegated credentials, as Negotiate
    /// credentials that negotiate that package only.
    fn delegated_credentials(&self) -> Option<CredentialsObject> {
        let set = Arc::clone(self.delegated.as_ref()?);
        let credentials = NegotiateCredentials::outbound(set);
        Some(CredentialsObject::from_credentials(
            credentials,
            crate::package::MAX_TOKEN,
        ))
    }

    fn negotiation_info(&self) -> Option<NegotiationInfo> {
        Some(self.info.clone())
    }

    fn requires_mech_list_mic(&self) -> bool {
        self.inner.requires_mech_list_mic().unwrap_or(false)
    }

    fn mech_list_mic_processed(&mut self, direction: MessageDirection) {
        let _ = self.inner.mech_list_mic_processed(direction);
    }

    #[inline]
    fn make_signature(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> MessageResult {
        self.inner.make_signature(qop, message, sequence)
    }

    #[inline]
    fn verify_signature(&mut self, message: &mut [SecBuffer<'_>], sequence: u32) -> MessageResult {
        self.inner.verify_signature(message, sequence)
    }

    #[inline]
    fn encrypt_message(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> MessageResult {
        self.inner.encrypt_message(qop, message, sequence)
    }

    #[inline]
    fn decrypt_message(&mut self, message: &mut [SecBuffer<'_>], sequence: u32) -> MessageResult {
        self.inner.decrypt_message(message, sequence)
    }
}
