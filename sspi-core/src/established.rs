//! An established context as a package writes it: per-message protection and
//! the attributes QueryContextAttributes reports.

use crate::{
    ContextSizes, IscRet, Lifespan, MessageError, Qop, SecBuffer, SecretBytes, SecurityError,
    SecurityResult, SecurityStatus,
};

const NO_SEALING: MessageError = MessageError::new(
    SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
    "this package does not seal messages",
);

/// A complete security context: what a handshake's last step returns.
///
/// The per-message methods work in place on the caller's buffers and MUST NOT
/// allocate; they report failures as a [`MessageError`] (a status and a
/// static reason). The engine calls them only on a complete, unexpired
/// context, so they need not check either.
///
/// `sequence` is SSPI's `MessageSeqNo`: the number the *caller* gives a
/// message. Connection-oriented packages (all shipped ones) keep their own
/// counters ([`crate::SequenceNumbers`]) and ignore it; a datagram package
/// would use it in place of a counter.
pub trait EstablishedContext: Send + 'static {
    /// SECPKG_ATTR_SIZES.
    fn sizes(&self) -> ContextSizes;

    /// SECPKG_ATTR_NAMES: the authenticated client, as "DOMAIN\user" or "user@REALM".
    fn names(&self) -> SecurityResult<String>;

    /// SECPKG_ATTR_LIFESPAN. After `expiry` the engine refuses per-message
    /// calls with SEC_E_CONTEXT_EXPIRED.
    fn lifespan(&self) -> Lifespan;

    /// SECPKG_ATTR_FLAGS: the protection in force, as ISC_RET bits (a server
    /// context reports them as the matching ASC_RET bits).
    fn flags(&self) -> IscRet;

    /// SECPKG_ATTR_SESSION_KEY.
    fn session_key(&self) -> SecurityResult<SecretBytes> {
        Err(SecurityError::new(
            SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
            "this package has no session key to export",
        ))
    }

    /// SECPKG_ATTR_NEGOTIATION_INFO: for a negotiating package, the package
    /// it chose. The default, `None`, is right for every other package.
    fn negotiation_info(&self) -> Option<crate::NegotiationInfo> {
        None
    }

    /// True when every per-message call is forwarded to an inner context
    /// ([`crate::ContextObject`]) whose own engine checks its expiry, as a
    /// composing package's are: the engine then skips its own check, so the
    /// clock is read once per call, not twice. `lifespan` still reports the
    /// expiry. The default, `false`, is right for every package that protects
    /// messages itself.
    fn inner_context_checks_expiry(&self) -> bool {
        false
    }

    /// Whether SPNEGO MUST exchange a mechListMIC over this context even when
    /// its package was both sides' first choice. NTLM says `true` when its
    /// AUTHENTICATE message carried a MIC (MS-SPNG 3.3.5.1: Windows then
    /// requires the mechListMIC). The default is `false`.
    fn requires_mech_list_mic(&self) -> bool {
        false
    }

    /// Called by a composing package right after this context made
    /// (`Outbound`) or verified (`Inbound`) the signature that was SPNEGO's
    /// mechListMIC. NTLM restarts that direction's RC4 keystream here, so the
    /// application's first signed or sealed message uses the keystream
    /// position the mechListMIC used (MS-SPNG 3.3.5.1); sequence numbers go
    /// on. The default does nothing.
    fn mech_list_mic_processed(&mut self, _direction: crate::MessageDirection) {}

    /// The client's delegated credentials, on a server context whose client
    /// delegated (ISC_REQ_DELEGATE; the context's flags then include
    /// ASC_RET_DELEGATE): outbound credentials of the client, with which the
    /// server acts as the client toward other services. A package makes them
    /// with [`crate::CredentialsObject::from_credentials`]. Each call MAY
    /// return a new object; they SHOULD share one ticket cache. The default,
    /// `None`, is right for every package that does not delegate.
    fn delegated_credentials(&self) -> Option<crate::CredentialsObject> {
        None
    }

    /// ExportSecurityContext: this context's state as bytes that the same
    /// package's [`crate::SecurityPackage::import_client_context`] /
    /// [`import_server_context`](crate::SecurityPackage::import_server_context)
    /// (in another process, perhaps) turns back into a context that goes on
    /// where this one is. The engine calls it only on a complete context,
    /// records the side and the host frames the bytes into the versioned,
    /// digest-checked blob of [`crate::context_export`].
    ///
    /// * The payload MUST hold everything the per-message calls and the
    ///   attributes need: keys, both directions' sequence numbers
    ///   ([`crate::context_export::PayloadWriter::sequence`]), cipher
    ///   states, flags, the client's name, the lifespan. It is secret: build
    ///   it with [`crate::context_export::PayloadWriter`] (zeroizing), never
    ///   log it, and start it with a payload version of your own.
    /// * Without `reset_new` the imported context MUST continue exactly:
    ///   the peer cannot tell the two processes apart. This context stays
    ///   usable (the application may delete it, SECPKG_CONTEXT_EXPORT_DELETE_OLD);
    ///   if both then send, sequence numbers (and nonces) repeat.
    /// * `reset_new` (SECPKG_CONTEXT_EXPORT_RESET_NEW) asks for the context
    ///   as the handshake left it: sequence numbers and cipher states at
    ///   their first values. A package whose reset would reuse a nonce or a
    ///   keystream under the same key (a message was already sent) MUST
    ///   refuse it with SEC_E_UNSUPPORTED_FUNCTION saying so.
    /// * Delegated credentials are not exported.
    ///
    /// The default is SEC_E_UNSUPPORTED_FUNCTION: the package does not export.
    fn export_context(&self, reset_new: bool) -> SecurityResult<SecretBytes> {
        let _ = reset_new;
        Err(SecurityError::new(
            SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
            "this package does not export security contexts",
        ))
    }

    /// CompleteAuthToken for a last step that
    /// [needed completion](crate::Step::needing_completion).
    fn complete_auth_token(&mut self, _token: &mut [u8]) -> SecurityResult<()> {
        Ok(())
    }

    /// MakeSignature: writes a signature over the DATA buffers into the TOKEN buffer.
    fn make_signature(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> Result<Qop, MessageError>;

    /// VerifySignature: checks the TOKEN buffer against the DATA buffers; returns the QOP.
    fn verify_signature(
        &mut self,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> Result<Qop, MessageError>;

    /// EncryptMessage: encrypts DATA in place and writes the trailer into TOKEN.
    /// A package that only signs keeps the default, SEC_E_UNSUPPORTED_FUNCTION
    /// (and does not advertise SECPKG_FLAG_PRIVACY).
    fn encrypt_message(
        &mut self,
        _qop: Qop,
        _message: &mut [SecBuffer<'_>],
        _sequence: u32,
    ) -> Result<Qop, MessageError> {
        Err(NO_SEALING)
    }

    /// DecryptMessage: checks the TOKEN trailer and decrypts DATA in place;
    /// returns the QOP. The default is SEC_E_UNSUPPORTED_FUNCTION.
    fn decrypt_message(
        &mut self,
        _message: &mut [SecBuffer<'_>],
        _sequence: u32,
    ) -> Result<Qop, MessageError> {
        Err(NO_SEALING)
    }
}

/// Writes the four per-message methods of an [`EstablishedContext`] impl as
/// calls on one of the context's fields, for connection-oriented packages
/// whose per-message state keeps its own sequence numbers (the caller's
/// `sequence` is ignored). The field's type must have `make_signature(qop,
/// message)`, `verify_signature(message)`, `encrypt_message(qop, message)` and
/// `decrypt_message(message)` returning [`MessageResult`](crate::MessageResult).
///
/// ```
/// use sspi_core::prelude::*;
///
/// /// The per-message state: signs with nothing, for the example.
/// struct Keys;
/// impl Keys {
///     fn make_signature(&mut self, qop: Qop, _: &mut [SecBuffer<'_>]) -> MessageResult { Ok(qop) }
///     fn verify_signature(&mut self, _: &mut [SecBuffer<'_>]) -> MessageResult { Ok(Qop::DEFAULT) }
///     fn encrypt_message(&mut self, _: Qop, _: &mut [SecBuffer<'_>]) -> MessageResult {
///         Err(MessageError::new(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION, "no sealing"))
///     }
///     fn decrypt_message(&mut self, _: &mut [SecBuffer<'_>]) -> MessageResult {
///         Err(MessageError::new(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION, "no sealing"))
///     }
/// }
///
/// struct Done { keys: Keys }
///
/// impl EstablishedContext for Done {
///     fn sizes(&self) -> ContextSizes { ContextSizes::default() }
///     fn names(&self) -> SecurityResult<String> { Ok("someone".into()) }
///     fn lifespan(&self) -> Lifespan { Lifespan { start: TimeStamp(0), expiry: TimeStamp::NEVER } }
///     fn flags(&self) -> IscRet { IscRet::INTEGRITY }
///     sspi_core::forward_per_message!(keys);
/// }
/// ```
#[macro_export]
macro_rules! forward_per_message {
    ($($field:ident).+) => {
        fn make_signature(
            &mut self,
            qop: $crate::Qop,
            message: &mut [$crate::SecBuffer<'_>],
            _sequence: u32,
        ) -> $crate::MessageResult {
            self.$($field).+.make_signature(qop, message)
        }

        fn verify_signature(
            &mut self,
            message: &mut [$crate::SecBuffer<'_>],
            _sequence: u32,
        ) -> $crate::MessageResult {
            self.$($field).+.verify_signature(message)
        }

        fn encrypt_message(
            &mut self,
            qop: $crate::Qop,
            message: &mut [$crate::SecBuffer<'_>],
            _sequence: u32,
        ) -> $crate::MessageResult {
            self.$($field).+.encrypt_message(qop, message)
        }

        fn decrypt_message(
            &mut self,
            message: &mut [$crate::SecBuffer<'_>],
            _sequence: u32,
        ) -> $crate::MessageResult {
            self.$($field).+.decrypt_message(message)
        }
    };
}
