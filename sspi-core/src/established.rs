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
