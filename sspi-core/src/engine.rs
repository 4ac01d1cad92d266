//! The leg engine: the SSPI discipline around a package's handshake, once for
//! every package.
//!
//! It owns the context's phase (handshake, established, failed), refuses
//! wrong-side and out-of-order calls without touching the context, writes the
//! output token (holding it when the caller's buffer is too small, so the call
//! can be retried), runs CompleteAuthToken, checks expiry before every
//! per-message call, and turns a panic into SEC_E_INTERNAL_ERROR with the
//! context poisoned.

use crate::context_export::{ContextSide, ExportedContext};
use crate::ffi::{ContextFfi, CredentialsBox};
use crate::{
    AscRet, AscStep, ClientHandshake, ContextFlags, ContextSizes, EstablishedContext,
    HandshakeStep, IscRet, IscStep, LegInput, Lifespan, MessageDirection, MessageError,
    NegotiationInfo, Qop, SecBuffer, SecBufferRef, SecBufferType, SecBuffers, SecretBytes,
    SecurityError, SecurityResult, SecurityStatus, ServerHandshake, Step, StepOutcome, TimeStamp,
};
use abi_stable::std_types::{ROption, RResult, RSlice, RSliceMut, RString};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Where a context is.
enum Phase<H, E> {
    Handshake(H),
    Established(E),
    /// A leg failed; the status and reason are kept for the calls that follow.
    Failed(SecurityError),
    /// A step is running (the state is moved into it) or panicked.
    InStep,
}

/// A token that did not fit the caller's output buffer, and the status of its leg.
struct Held {
    token: Vec<u8>,
    status: SecurityStatus,
}

/// One side of a context: the calls that side answers.
pub(crate) trait Side: Send + 'static {
    type Handshake: Send + 'static;
    type Established: EstablishedContext;
    type Attributes: Copy;
    /// The call this side answers ("InitializeSecurityContext").
    const CALL: &'static str;
    /// The other side's call.
    const WRONG_CALL: &'static str;
    /// "client" or "server".
    const NAME: &'static str;
    /// The side, as an exported context records it.
    const SIDE: ContextSide;
    fn step(
        state: Self::Handshake,
        input: LegInput<'_>,
    ) -> SecurityResult<Step<Self::Handshake, Self::Established>>;
    fn handshake_flags(state: &Self::Handshake) -> IscRet;
    fn complete(state: &mut Self::Handshake, token: &mut [u8]) -> SecurityResult<()>;
    fn attributes(isc: IscRet) -> Self::Attributes;
    fn context_flags(isc: IscRet) -> ContextFlags;
}

/// The client side of `C`.
pub(crate) struct ClientSide<C>(std::marker::PhantomData<C>);
/// The server side of `S`.
pub(crate) struct ServerSide<S>(std::marker::PhantomData<S>);

impl<C: ClientHandshake> Side for ClientSide<C> {
    type Handshake = C;
    type Established = C::Established;
    type Attributes = IscRet;
    const CALL: &'static str = "InitializeSecurityContext";
    const WRONG_CALL: &'static str = "AcceptSecurityContext";
    const NAME: &'static str = "client";
    const SIDE: ContextSide = ContextSide::Client;
    fn step(state: C, input: LegInput<'_>) -> SecurityResult<Step<C, C::Established>> {
        state.initialize(input)
    }
    fn handshake_flags(state: &C) -> IscRet {
        state.flags()
    }
    fn complete(state: &mut C, token: &mut [u8]) -> SecurityResult<()> {
        state.complete_auth_token(token)
    }
    fn attributes(isc: IscRet) -> IscRet {
        isc
    }
    fn context_flags(isc: IscRet) -> ContextFlags {
        ContextFlags::Client(isc)
    }
}

impl<S: ServerHandshake> Side for ServerSide<S> {
    type Handshake = S;
    type Established = S::Established;
    type Attributes = AscRet;
    const CALL: &'static str = "AcceptSecurityContext";
    const WRONG_CALL: &'static str = "InitializeSecurityContext";
    const NAME: &'static str = "server";
    const SIDE: ContextSide = ContextSide::Server;
    fn step(state: S, input: LegInput<'_>) -> SecurityResult<Step<S, S::Established>> {
        state.accept(input)
    }
    fn handshake_flags(state: &S) -> IscRet {
        state.flags()
    }
    fn complete(state: &mut S, token: &mut [u8]) -> SecurityResult<()> {
        state.complete_auth_token(token)
    }
    fn attributes(isc: IscRet) -> AscRet {
        AscRet::from_isc_ret(isc)
    }
    fn context_flags(isc: IscRet) -> ContextFlags {
        ContextFlags::Server(AscRet::from_isc_ret(isc))
    }
}

/// A context of side `X`, as it crosses the ABI.
pub(crate) struct Engine<X: Side> {
    phase: Phase<X::Handshake, X::Established>,
    held: Option<Held>,
    /// The token that waits for CompleteAuthToken, as it was written.
    awaiting_completion: Option<Vec<u8>>,
    expiry: TimeStamp,
    /// The expiry the per-message calls check: `expiry`, or NEVER when the
    /// established context's inner context checks it itself.
    message_expiry: TimeStamp,
    /// `cbMaxToken`: a longer peer token is refused before the package sees it.
    max_token: usize,
    /// Set when a call panicked: the state may be half-updated.
    poisoned: bool,
}

fn panicked(call: &str, payload: &(dyn std::any::Any + Send)) -> SecurityError {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    SecurityError::internal(format!("{}{call}: {what}", crate::error::PANIC_PREFIX))
}

fn poisoned_error() -> SecurityError {
    SecurityError::internal("the context is unusable: an earlier call panicked inside the package")
}

const POISONED: MessageError = MessageError::new(
    SecurityStatus::SEC_E_INTERNAL_ERROR,
    "the context is unusable: an earlier call panicked inside the package",
);

impl<X: Side> Engine<X> {
    pub(crate) fn new(first: X::Handshake, max_token: usize) -> Self {
        Self {
            phase: Phase::Handshake(first),
            held: None,
            awaiting_completion: None,
            expiry: TimeStamp::NEVER,
            message_expiry: TimeStamp::NEVER,
            max_token,
            poisoned: false,
        }
    }

    /// A complete context around `established` (ImportSecurityContext):
    /// handshake calls are refused as on any complete context.
    pub(crate) fn established(established: X::Established, max_token: usize) -> Self {
        let mut engine = Self {
            phase: Phase::InStep,
            held: None,
            awaiting_completion: None,
            expiry: TimeStamp::NEVER,
            message_expiry: TimeStamp::NEVER,
            max_token,
            poisoned: false,
        };
        engine.set_established(established);
        engine
    }

    /// Enters the established phase, taking the expiry from `established`.
    fn set_established(&mut self, established: X::Established) {
        self.expiry = established.lifespan().expiry;
        self.message_expiry = if established.inner_context_checks_expiry() {
            TimeStamp::NEVER
        } else {
            self.expiry
        };
        self.phase = Phase::Established(established);
    }

    /// ExportSecurityContext: the side and the package's payload, on a
    /// complete context only (SEC_E_INVALID_HANDLE otherwise, as for queries).
    fn export(&self, reset_new: bool) -> SecurityResult<ExportedContext> {
        self.read("ExportSecurityContext", |e| {
            Ok(ExportedContext {
                side: X::SIDE,
                payload: e.export_context(reset_new)?,
            })
        })
    }

    fn attributes(&self) -> X::Attributes {
        X::attributes(self.isc_flags())
    }

    fn isc_flags(&self) -> IscRet {
        match &self.phase {
            Phase::Handshake(h) => X::handshake_flags(h),
            Phase::Established(e) => e.flags(),
            Phase::Failed(_) | Phase::InStep => IscRet::NONE,
        }
    }

    fn step_result(&self, status: SecurityStatus) -> HandshakeStep<X::Attributes> {
        HandshakeStep {
            status,
            attributes: self.attributes(),
            expiry: self.expiry,
        }
    }

    /// One leg of this side.
    fn leg(
        &mut self,
        input: &[SecBufferRef<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> SecurityResult<HandshakeStep<X::Attributes>> {
        if self.poisoned {
            return Err(poisoned_error());
        }
        let Some(out) = output.find_mut(SecBufferType::TOKEN) else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_PARAMETER,
                "the output has no SECBUFFER_TOKEN buffer",
            ));
        };
        if let Some(held) = self.held.take() {
            return self.deliver(held, out);
        }
        if self.awaiting_completion.is_some() {
            return Err(SecurityError::out_of_sequence(
                "CompleteAuthToken must be called for the previous token before the next leg",
            ));
        }
        if let Some(token) = input.iter().find(|b| b.kind() == SecBufferType::TOKEN)
            && token.len() > self.max_token
        {
            return Err(SecurityError::invalid_token(format!(
                "the peer's token has {} bytes, more than this package's cbMaxToken ({})",
                token.len(),
                self.max_token
            )));
        }
        let state = match std::mem::replace(&mut self.phase, Phase::InStep) {
            Phase::Handshake(state) => state,
            other => {
                let error = match &other {
                    Phase::Failed(why) => SecurityError::out_of_sequence(format!(
                        "an earlier leg of this context failed ({why}); delete it and start again"
                    )),
                    Phase::InStep => poisoned_error(),
                    _ => SecurityError::out_of_sequence(format!(
                        "{} was called on a complete context",
                        X::CALL
                    )),
                };
                self.phase = other;
                return Err(error);
            }
        };
        let input = LegInput::new(input);
        let step = match catch_unwind(AssertUnwindSafe(|| X::step(state, input))) {
            Ok(Ok(step)) => step,
            Ok(Err(error)) => {
                out.truncate(0);
                self.phase = Phase::Failed(error.clone());
                return Err(error);
            }
            Err(payload) => {
                self.poisoned = true;
                return Err(panicked(X::CALL, payload.as_ref()));
            }
        };
        let Step {
            outcome,
            token,
            complete_needed,
        } = step;
        let (status, phase) = match (outcome, complete_needed) {
            (StepOutcome::Failed(error), _) => {
                // An extended error: its token goes to the peer (when it
                // fits the caller's buffer), its status to the caller.
                match out.as_mut_slice().get_mut(..token.len()) {
                    Some(slot) => {
                        slot.copy_from_slice(&token);
                        out.truncate(token.len());
                    }
                    None => out.truncate(0),
                }
                self.phase = Phase::Failed(error.clone());
                return Err(error);
            }
            (StepOutcome::Continue(_), _) if token.is_empty() => {
                let error = SecurityError::internal(format!(
                    "the package's {} step continued without a token to send",
                    X::NAME
                ));
                self.phase = Phase::Failed(error.clone());
                return Err(error);
            }
            (StepOutcome::Continue(next), complete) => (
                if complete {
                    SecurityStatus::SEC_I_COMPLETE_AND_CONTINUE
                } else {
                    SecurityStatus::SEC_I_CONTINUE_NEEDED
                },
                Some(Phase::Handshake(next)),
            ),
            (StepOutcome::Done(established), complete) => {
                self.set_established(established);
                (
                    if complete {
                        SecurityStatus::SEC_I_COMPLETE_NEEDED
                    } else {
                        SecurityStatus::SEC_E_OK
                    },
                    None,
                )
            }
        };
        if let Some(phase) = phase {
            self.phase = phase;
        }
        self.deliver(Held { token, status }, out)
    }

    /// Writes a leg's token into the caller's buffer, or holds it for a retry.
    fn deliver(
        &mut self,
        held: Held,
        out: &mut SecBuffer<'_>,
    ) -> SecurityResult<HandshakeStep<X::Attributes>> {
        let len = held.token.len();
        let Some(slot) = out.as_mut_slice().get_mut(..len) else {
            let error = SecurityError::new(
                SecurityStatus::SEC_E_BUFFER_TOO_SMALL,
                format!(
                    "the output TOKEN buffer has {} bytes; this leg's token needs {len}: call {} again with a larger buffer (the input is not read again)",
                    out.len(),
                    X::CALL
                ),
            );
            self.held = Some(held);
            return Err(error);
        };
        slot.copy_from_slice(&held.token);
        out.truncate(len);
        let step = self.step_result(held.status);
        if step.needs_complete() {
            self.awaiting_completion = Some(held.token);
        }
        Ok(step)
    }

    fn wrong_side(&self) -> SecurityError {
        SecurityError::new(
            SecurityStatus::SEC_E_INVALID_HANDLE,
            format!("{} was called with a {} context", X::WRONG_CALL, X::NAME),
        )
    }

    fn complete_auth_token(&mut self, buffers: &mut [SecBuffer<'_>]) -> SecurityResult<()> {
        if self.poisoned {
            return Err(poisoned_error());
        }
        let Some(expected) = self.awaiting_completion.as_deref() else {
            return Err(SecurityError::out_of_sequence(
                "CompleteAuthToken was called, but no token is waiting to be completed",
            ));
        };
        let Some(token) = buffers.find_mut(SecBufferType::TOKEN) else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_PARAMETER,
                "CompleteAuthToken needs the SECBUFFER_TOKEN buffer",
            ));
        };
        if token.as_slice() != expected {
            return Err(SecurityError::invalid_token(
                "CompleteAuthToken was given a token other than the one this context produced",
            ));
        }
        let bytes = token.as_mut_slice();
        let result = catch_unwind(AssertUnwindSafe(|| match &mut self.phase {
            Phase::Handshake(h) => X::complete(h, bytes),
            Phase::Established(e) => e.complete_auth_token(bytes),
            Phase::Failed(why) => Err(why.clone()),
            Phase::InStep => Err(poisoned_error()),
        }));
        match result {
            Ok(Ok(())) => {
                self.awaiting_completion = None;
                Ok(())
            }
            Ok(Err(error)) => {
                self.awaiting_completion = None;
                self.phase = Phase::Failed(error.clone());
                Err(error)
            }
            Err(payload) => {
                self.poisoned = true;
                Err(panicked("CompleteAuthToken", payload.as_ref()))
            }
        }
    }

    /// The established context for a query, or SEC_E_INVALID_HANDLE.
    fn read<T>(
        &self,
        call: &str,
        f: impl FnOnce(&X::Established) -> SecurityResult<T>,
    ) -> SecurityResult<T> {
        if self.poisoned {
            return Err(poisoned_error());
        }
        match (&self.phase, &self.awaiting_completion) {
            (Phase::Established(e), None) => catch_unwind(AssertUnwindSafe(|| f(e)))
                .unwrap_or_else(|payload| Err(panicked(call, payload.as_ref()))),
            _ => Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_HANDLE,
                format!("{call}: the context is not complete"),
            )),
        }
    }

    /// The established context for a change that is not a message (SPNEGO's
    /// mechListMIC hook), or SEC_E_OUT_OF_SEQUENCE.
    fn write(&mut self, call: &str, f: impl FnOnce(&mut X::Established)) -> SecurityResult<()> {
        if self.poisoned {
            return Err(poisoned_error());
        }
        match (&mut self.phase, &self.awaiting_completion) {
            (Phase::Established(e), None) => {
                if catch_unwind(AssertUnwindSafe(|| f(e))).is_err() {
                    self.poisoned = true;
                    return Err(poisoned_error());
                }
                Ok(())
            }
            _ => Err(SecurityError::new(
                SecurityStatus::SEC_E_OUT_OF_SEQUENCE,
                format!("{call}: the context is not complete"),
            )),
        }
    }

    /// Runs a per-message call on the established, unexpired context.
    #[inline]
    fn per_message(
        &mut self,
        panic_reason: &'static str,
        f: impl FnOnce(&mut X::Established) -> Result<Qop, MessageError>,
    ) -> Result<Qop, MessageError> {
        if self.poisoned {
            return Err(POISONED);
        }
        let Phase::Established(established) = &mut self.phase else {
            return Err(MessageError::out_of_sequence(
                "the handshake of this context is not complete",
            ));
        };
        if self.awaiting_completion.is_some() {
            return Err(MessageError::out_of_sequence(
                "CompleteAuthToken has not been called for the last token",
            ));
        }
        if self.message_expiry != TimeStamp::NEVER && TimeStamp::now() > self.message_expiry {
            return Err(MessageError::new(
                SecurityStatus::SEC_E_CONTEXT_EXPIRED,
                "the context has expired",
            ));
        }
        match catch_unwind(AssertUnwindSafe(|| f(established))) {
            Ok(result) => result,
            Err(_) => {
                self.poisoned = true;
                Err(MessageError::panicked(panic_reason))
            }
        }
    }

    fn flags(&self) -> SecurityResult<ContextFlags> {
        if self.poisoned {
            return Err(poisoned_error());
        }
        Ok(X::context_flags(self.isc_flags()))
    }
}

/// The ABI methods that do not depend on the side.
macro_rules! common_context_methods {
    () => {
        fn complete_auth_token(
            &mut self,
            mut token: RSliceMut<'_, SecBuffer<'_>>,
        ) -> RResult<(), SecurityError> {
            self.complete_auth_token(&mut token).into()
        }

        fn sizes(&self) -> RResult<ContextSizes, SecurityError> {
            self.read("QueryContextAttributes(SIZES)", |e| Ok(e.sizes()))
                .into()
        }

        fn names(&self) -> RResult<RString, SecurityError> {
            self.read("QueryContextAttributes(NAMES)", |e| {
                e.names().map(RString::from)
            })
            .into()
        }

        fn lifespan(&self) -> RResult<Lifespan, SecurityError> {
            self.read("QueryContextAttributes(LIFESPAN)", |e| Ok(e.lifespan()))
                .into()
        }

        fn session_key(&self) -> RResult<SecretBytes, SecurityError> {
            self.read("QueryContextAttributes(SESSION_KEY)", |e| e.session_key())
                .into()
        }

        fn flags(&self) -> RResult<ContextFlags, SecurityError> {
            Engine::flags(self).into()
        }

        fn negotiation_info(&self) -> RResult<ROption<NegotiationInfo>, SecurityError> {
            self.read("QueryContextAttributes(NEGOTIATION_INFO)", |e| {
                Ok(e.negotiation_info().into())
            })
            .into()
        }

        fn requires_mech_list_mic(&self) -> RResult<bool, SecurityError> {
            self.read("requires_mech_list_mic", |e| Ok(e.requires_mech_list_mic()))
                .into()
        }

        fn mech_list_mic_processed(
            &mut self,
            direction: MessageDirection,
        ) -> RResult<(), SecurityError> {
            self.write("mech_list_mic_processed", |e| {
                e.mech_list_mic_processed(direction)
            })
            .into()
        }

        fn export_context(&self, reset_new: bool) -> RResult<ExportedContext, SecurityError> {
            self.export(reset_new).into()
        }

        fn delegated_credentials(&self) -> RResult<ROption<CredentialsBox>, SecurityError> {
            self.read("delegated credentials", |e| {
                Ok(e.delegated_credentials()
                    .map(crate::CredentialsObject::into_box)
                    .into())
            })
            .into()
        }

        fn make_signature(
            &mut self,
            qop: Qop,
            mut message: RSliceMut<'_, SecBuffer<'_>>,
            sequence: u32,
        ) -> RResult<Qop, MessageError> {
            self.per_message("the package panicked in MakeSignature", |e| {
                e.make_signature(qop, &mut message, sequence)
            })
            .into()
        }

        fn verify_signature(
            &mut self,
            mut message: RSliceMut<'_, SecBuffer<'_>>,
            sequence: u32,
        ) -> RResult<Qop, MessageError> {
            self.per_message("the package panicked in VerifySignature", |e| {
                e.verify_signature(&mut message, sequence)
            })
            .into()
        }

        fn encrypt_message(
            &mut self,
            qop: Qop,
            mut message: RSliceMut<'_, SecBuffer<'_>>,
            sequence: u32,
        ) -> RResult<Qop, MessageError> {
            self.per_message("the package panicked in EncryptMessage", |e| {
                e.encrypt_message(qop, &mut message, sequence)
            })
            .into()
        }

        fn decrypt_message(
            &mut self,
            mut message: RSliceMut<'_, SecBuffer<'_>>,
            sequence: u32,
        ) -> RResult<Qop, MessageError> {
            self.per_message("the package panicked in DecryptMessage", |e| {
                e.decrypt_message(&mut message, sequence)
            })
            .into()
        }
    };
}

impl<C: ClientHandshake> ContextFfi for Engine<ClientSide<C>> {
    fn initialize_security_context(
        &mut self,
        input: RSlice<'_, SecBufferRef<'_>>,
        mut output: RSliceMut<'_, SecBuffer<'_>>,
    ) -> RResult<IscStep, SecurityError> {
        self.leg(&input, &mut output).into()
    }

    fn accept_security_context(
        &mut self,
        _input: RSlice<'_, SecBufferRef<'_>>,
        _output: RSliceMut<'_, SecBuffer<'_>>,
    ) -> RResult<AscStep, SecurityError> {
        RResult::RErr(self.wrong_side())
    }

    common_context_methods!();
}

impl<S: ServerHandshake> ContextFfi for Engine<ServerSide<S>> {
    fn initialize_security_context(
        &mut self,
        _input: RSlice<'_, SecBufferRef<'_>>,
        _output: RSliceMut<'_, SecBuffer<'_>>,
    ) -> RResult<IscStep, SecurityError> {
        RResult::RErr(self.wrong_side())
    }

    fn accept_security_context(
        &mut self,
        input: RSlice<'_, SecBufferRef<'_>>,
        mut output: RSliceMut<'_, SecBuffer<'_>>,
    ) -> RResult<AscStep, SecurityError> {
        self.leg(&input, &mut output).into()
    }

    common_context_methods!();
}
