//! The handshake as a package writes it: a client type and a server type whose
//! step functions consume the current state and the peer's token and return
//! the next state or the established context, with the token to send.
//!
//! The SSPI bookkeeping around the steps — which side may call, what status a
//! leg returns, writing the output token, CompleteAuthToken, failures — is
//! done once, by the leg engine in [`crate::adapter`]; see the crate docs for
//! the rules a step MUST follow.

use crate::{
    AscRet, EstablishedContext, IscRet, SecBufferRef, SecBufferType, SecurityError, SecurityResult,
    SecurityStatus, TimeStamp,
};
use abi_stable::StableAbi;

/// The input of one handshake leg: the caller's read-only input buffers.
#[derive(Debug, Clone, Copy)]
pub struct LegInput<'a> {
    buffers: &'a [SecBufferRef<'a>],
}

impl<'a> LegInput<'a> {
    /// The input made of `buffers`.
    pub fn new(buffers: &'a [SecBufferRef<'a>]) -> Self {
        Self { buffers }
    }

    /// Every input buffer, as the caller passed them.
    pub fn buffers(&self) -> &'a [SecBufferRef<'a>] {
        self.buffers
    }

    /// The first buffer of `kind` (attribute bits ignored).
    pub fn find(&self, kind: SecBufferType) -> Option<&'a [u8]> {
        self.buffers
            .iter()
            .find(|b| b.kind() == kind)
            .map(SecBufferRef::as_slice)
    }

    /// The peer's token (SECBUFFER_TOKEN), if the caller passed one.
    pub fn token(&self) -> Option<&'a [u8]> {
        self.find(SecBufferType::TOKEN)
    }

    /// The peer's token, or SEC_E_INVALID_TOKEN saying that it is missing.
    pub fn require_token(&self) -> SecurityResult<&'a [u8]> {
        match self.token() {
            Some(token) if !token.is_empty() => Ok(token),
            _ => Err(SecurityError::invalid_token(
                "expected the peer's token in a SECBUFFER_TOKEN input buffer",
            )),
        }
    }

    /// The application's SECBUFFER_CHANNEL_BINDINGS, if it passed them.
    pub fn channel_bindings(&self) -> Option<&'a [u8]> {
        self.find(SecBufferType::CHANNEL_BINDINGS)
    }

    /// The MD5 of the application's channel bindings as Kerberos and NTLM put
    /// it on the wire (see [`crate::channel_bindings_hash`]), if it passed them.
    pub fn channel_bindings_hash(&self) -> SecurityResult<Option<[u8; 16]>> {
        self.channel_bindings()
            .map(crate::channel_bindings_hash)
            .transpose()
    }
}

/// What a step produced: the next state or the established context, and the
/// token to send to the peer.
pub struct Step<H, E> {
    pub(crate) outcome: StepOutcome<H, E>,
    pub(crate) token: Vec<u8>,
    pub(crate) complete_needed: bool,
}

impl<H, E> std::fmt::Debug for Step<H, E> {
    /// Where the step leads and the token's length, without the states
    /// (which need not be `Debug`, and may hold secrets).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outcome = match self.outcome {
            StepOutcome::Continue(_) => "Continue",
            StepOutcome::Done(_) => "Done",
            StepOutcome::Failed(_) => "Failed",
        };
        f.debug_struct("Step")
            .field("outcome", &outcome)
            .field("token_len", &self.token.len())
            .field("complete_needed", &self.complete_needed)
            .finish()
    }
}

/// Where a step leads: the next handshake state, or the established context.
#[derive(Debug)]
pub enum StepOutcome<H, E> {
    /// The handshake continues in this state.
    Continue(H),
    /// The context is established.
    Done(E),
    /// The handshake failed with this error, and the step's token is an
    /// *extended error* for the peer (see [`Step::fail`]).
    Failed(SecurityError),
}

impl<H, E> Step<H, E> {
    /// The step taken apart, for code that drives a package's types directly
    /// (benchmarks, a package composing its own states): where it leads, the
    /// token to send (empty for none), and whether CompleteAuthToken must
    /// finish that token first.
    pub fn into_parts(self) -> (StepOutcome<H, E>, Vec<u8>, bool) {
        (self.outcome, self.token, self.complete_needed)
    }

    /// SEC_I_CONTINUE_NEEDED: send `token` (never empty) and call the next
    /// step, on `next`, with the peer's reply.
    pub fn continue_with(next: H, token: Vec<u8>) -> Self {
        Self {
            outcome: StepOutcome::Continue(next),
            token,
            complete_needed: false,
        }
    }

    /// SEC_E_OK: the context is established. `token`, when not empty, is sent
    /// to the peer, which then makes one more call with it.
    pub fn done(established: E, token: Vec<u8>) -> Self {
        Self {
            outcome: StepOutcome::Done(established),
            token,
            complete_needed: false,
        }
    }

    /// The handshake fails with `error`, and `token` (an *extended error*,
    /// ASC_RET_EXTENDED_ERROR / ISC_RET_EXTENDED_ERROR: Kerberos' KRB-ERROR
    /// token) is sent to the peer so it learns why. The leg engine writes
    /// `token` into the caller's SECBUFFER_TOKEN output buffer (when it fits;
    /// else it is dropped) and returns `error`; the context is over, as after
    /// any failed step. After a step that fails with `Err`, the engine leaves
    /// that buffer empty (`cbBuffer` 0), so a caller sends a token after a
    /// failed leg exactly when the buffer holds one.
    pub fn fail(error: SecurityError, token: Vec<u8>) -> Self {
        Self {
            outcome: StepOutcome::Failed(error),
            token,
            complete_needed: false,
        }
    }

    /// The same step, with its token to be finished by CompleteAuthToken
    /// before it is sent (SEC_I_COMPLETE_NEEDED, SEC_I_COMPLETE_AND_CONTINUE).
    /// The state it leads to then receives the call, in
    /// [`ClientHandshake::complete_auth_token`] (or the server's or the
    /// established context's).
    pub fn needing_completion(mut self) -> Self {
        self.complete_needed = true;
        self
    }
}

/// A client's handshake, one state per value: InitializeSecurityContext calls
/// [`ClientHandshake::initialize`] on the current state.
pub trait ClientHandshake: Sized + Send + 'static {
    /// The context it establishes.
    type Established: EstablishedContext;

    /// One InitializeSecurityContext leg. `input` carries the server's token
    /// (none on the first leg) and any channel bindings.
    ///
    /// MUST return a non-empty token with [`Step::continue_with`]. An error
    /// ends the context: the engine refuses every later call on it.
    fn initialize(self, input: LegInput<'_>) -> SecurityResult<Step<Self, Self::Established>>;

    /// The ISC_RET bits established so far (reported after a leg that continues).
    fn flags(&self) -> IscRet {
        IscRet::NONE
    }

    /// CompleteAuthToken on a state reached by a step that
    /// [needed completion](Step::needing_completion): finish `token` in place.
    /// The engine has checked that `token` is the token it wrote.
    fn complete_auth_token(&mut self, _token: &mut [u8]) -> SecurityResult<()> {
        Ok(())
    }
}

/// A server's handshake, one state per value: AcceptSecurityContext calls
/// [`ServerHandshake::accept`] on the current state.
pub trait ServerHandshake: Sized + Send + 'static {
    /// The context it establishes.
    type Established: EstablishedContext;

    /// One AcceptSecurityContext leg. `input` carries the client's token
    /// (always, on every leg) and any channel bindings.
    ///
    /// MUST return a non-empty token with [`Step::continue_with`]. An error
    /// ends the context: the engine refuses every later call on it.
    fn accept(self, input: LegInput<'_>) -> SecurityResult<Step<Self, Self::Established>>;

    /// The ISC_RET bits established so far; reported as ASC_RET bits.
    fn flags(&self) -> IscRet {
        IscRet::NONE
    }

    /// CompleteAuthToken (see [`ClientHandshake::complete_auth_token`]).
    fn complete_auth_token(&mut self, _token: &mut [u8]) -> SecurityResult<()> {
        Ok(())
    }
}

/// What one handshake leg returned: its status, the context attributes
/// (`IscRet` for InitializeSecurityContext, `AscRet` for AcceptSecurityContext)
/// and the context's expiry.
#[repr(C)]
#[derive(StableAbi, Copy, Clone, Debug, PartialEq, Eq)]
pub struct HandshakeStep<A> {
    /// SEC_E_OK, SEC_I_CONTINUE_NEEDED, SEC_I_COMPLETE_NEEDED or SEC_I_COMPLETE_AND_CONTINUE.
    pub status: SecurityStatus,
    /// The ISC_RET_* or ASC_RET_* bits established so far.
    pub attributes: A,
    /// When the context expires (`TimeStamp::NEVER` until it is established).
    pub expiry: TimeStamp,
}

/// What an InitializeSecurityContext leg returned.
pub type IscStep = HandshakeStep<IscRet>;
/// What an AcceptSecurityContext leg returned.
pub type AscStep = HandshakeStep<AscRet>;

impl<A> HandshakeStep<A> {
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
