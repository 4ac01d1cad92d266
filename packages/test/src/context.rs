//! `TestContext`: the SSPI face of the handshake state machine and the
//! per-message protection.

use crate::config::TestConfig;
use crate::handshake::{self, ClientIdentity, ClientStart, Outgoing, ServerStart, Shared, State};
use crate::keys::Side;
use crate::protection::{SIGNATURE_LEN, TRAILER_LEN};
use crate::token::{self, Body, Token};
use sha2::{Digest, Sha256};
use sspi_core::{
    AscRet, ContextSizes, HandshakeStep, IscReq, IscRet, Lifespan, SecBuffer, SecBufferType,
    SecBuffers, SecretBytes, SecurityContext, SecurityError, SecurityResult, SecurityStatus,
    TimeStamp,
};
use std::sync::Arc;

/// The ISC_REQ flags the Test package honours.
const SUPPORTED: IscReq = IscReq::PROTECTED_CONNECTION;

/// A token this side produced that waits for CompleteAuthToken.
struct Pending {
    len: usize,
    body_hash: [u8; 32],
}

/// A Test package security context (client or server).
pub struct TestContext {
    config: Arc<TestConfig>,
    side: Side,
    state: State,
    transcript: Sha256,
    hello_hash: [u8; 32],
    next_leg: u8,
    pending: Option<Pending>,
}

impl TestContext {
    /// A client context for `client`, asking for `req`.
    pub fn client(config: Arc<TestConfig>, client: ClientIdentity, req: IscReq) -> Self {
        Self::new(
            config,
            Side::Client,
            State::ClientStart(ClientStart { client, req }),
        )
    }

    /// A server context.
    pub fn server(config: Arc<TestConfig>) -> Self {
        Self::new(config, Side::Server, State::ServerStart(ServerStart))
    }

    fn new(config: Arc<TestConfig>, side: Side, state: State) -> Self {
        Self {
            config,
            side,
            state,
            transcript: Sha256::new(),
            hello_hash: [0; 32],
            next_leg: 1,
            pending: None,
        }
    }

    /// True once the handshake is complete (and any CompleteAuthToken done).
    pub fn is_established(&self) -> bool {
        matches!(self.state, State::Established(_)) && self.pending.is_none()
    }

    fn step(
        &mut self,
        call: Side,
        input: &mut [SecBuffer<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> SecurityResult<HandshakeStep> {
        if call != self.side {
            let (used, own) = match self.side {
                Side::Client => ("AcceptSecurityContext", "client"),
                Side::Server => ("InitializeSecurityContext", "server"),
            };
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_HANDLE,
                format!("{used} was called with a {own} context"),
            ));
        }
        if self.pending.is_some() {
            return Err(SecurityError::out_of_sequence(
                "CompleteAuthToken must be called for the previous token before the next leg",
            ));
        }
        match self.state {
            State::Established(_) => {
                return Err(SecurityError::out_of_sequence(
                    "the context is already complete",
                ));
            }
            State::Failed => {
                return Err(SecurityError::out_of_sequence(
                    "an earlier leg of this context failed; delete it and start again",
                ));
            }
            _ => {}
        }
        let out = output.output_token_mut()?;
        if out.len() < token::MAX_TOKEN {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_BUFFER_TOO_SMALL,
                format!(
                    "the output TOKEN buffer has {} bytes; cbMaxToken is {}",
                    out.len(),
                    token::MAX_TOKEN
                ),
            ));
        }

        let state = std::mem::replace(&mut self.state, State::Failed);
        let (outgoing, next) = match state {
            State::ClientStart(start) => start.send_hello()?,
            state => {
                let Some(received) = input.find(SecBufferType::TOKEN).map(SecBuffer::as_slice)
                else {
                    return Err(SecurityError::invalid_token(
                        "expected the peer's token in a SECBUFFER_TOKEN input buffer",
                    ));
                };
                let before: [u8; 32] = self.transcript.clone().finalize().into();
                let mut after = self.transcript.clone();
                after.update(received);
                let shared = Shared {
                    config: &self.config,
                    transcript: &after,
                };
                let result = handshake::receive(
                    state,
                    &shared,
                    self.next_leg,
                    received,
                    &before,
                    &self.hello_hash,
                )?;
                self.record_received(after);
                result
            }
        };
        self.state = next;
        let sent = self.send(outgoing, out)?;
        let done = matches!(self.state, State::Established(_));
        let status = match (done, sent, self.config.complete_auth_token) {
            (true, false, _) => SecurityStatus::SEC_E_OK,
            (true, true, false) => SecurityStatus::SEC_E_OK,
            (true, true, true) => SecurityStatus::SEC_I_COMPLETE_NEEDED,
            (false, true, false) => SecurityStatus::SEC_I_CONTINUE_NEEDED,
            (false, true, true) => SecurityStatus::SEC_I_COMPLETE_AND_CONTINUE,
            (false, false, _) => {
                self.state = State::Failed;
                return Err(SecurityError::internal(
                    "handshake stalled with nothing to send",
                ));
            }
        };
        Ok(HandshakeStep {
            status,
            attributes: self.flags(),
            expiry: self.expiry(),
        })
    }

    fn record_received(&mut self, transcript: Sha256) {
        self.transcript = transcript;
        if self.next_leg == 1 {
            self.hello_hash = self.transcript.clone().finalize().into();
        }
        self.next_leg += 1;
    }

    /// Writes the outgoing token (if any) into `out`; returns whether one was sent.
    fn send(&mut self, outgoing: Outgoing, out: &mut SecBuffer<'_>) -> SecurityResult<bool> {
        let body = match &outgoing {
            Outgoing::Nothing => {
                out.truncate(0);
                return Ok(false);
            }
            Outgoing::Hello {
                flags,
                element,
                domain,
                user,
            } => Body::Hello {
                flags: *flags,
                element,
                domain,
                user,
            },
            Outgoing::Challenge { element, proof } => Body::Challenge { element, proof },
            Outgoing::Proof(proof) => Body::Proof { proof },
            Outgoing::Confirm(mac) => Body::Confirm { mac },
        };
        let token = Token {
            leg: self.next_leg,
            legs: self.config.legs,
            body,
        };
        let written = token.write(out.as_mut_slice())?;
        self.sent(out, written);
        Ok(true)
    }

    /// Shrinks the output to the token, then finishes it now or leaves it for CompleteAuthToken.
    fn sent(&mut self, out: &mut SecBuffer<'_>, written: usize) {
        out.truncate(written);
        let bytes = out.as_mut_slice();
        if self.config.complete_auth_token {
            let signed = &bytes[..written - token::CHECKSUM_LEN];
            self.pending = Some(Pending {
                len: written,
                body_hash: Sha256::digest(signed).into(),
            });
        } else {
            token::finish(bytes);
            self.record_sent(bytes);
        }
    }

    fn record_sent(&mut self, token: &[u8]) {
        self.transcript.update(token);
        if self.next_leg == 1 {
            self.hello_hash = self.transcript.clone().finalize().into();
        }
        self.next_leg += 1;
    }

    fn expiry(&self) -> TimeStamp {
        match &self.state {
            State::Established(e) => e.start.after(self.config.context_lifetime),
            _ => TimeStamp::NEVER,
        }
    }

    fn established(&mut self) -> Result<&mut handshake::Established, SecurityStatus> {
        if self.pending.is_some() {
            return Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE);
        }
        match &mut self.state {
            State::Established(e) => Ok(e),
            _ => Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE),
        }
    }

    fn established_ref(&self) -> SecurityResult<&handshake::Established> {
        match (&self.state, &self.pending) {
            (State::Established(e), None) => Ok(e),
            _ => Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_HANDLE,
                "the context is not complete yet",
            )),
        }
    }
}

impl SecurityContext for TestContext {
    fn initialize_security_context(
        &mut self,
        input: &mut [SecBuffer<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> SecurityResult<HandshakeStep> {
        self.step(Side::Client, input, output)
    }

    fn accept_security_context(
        &mut self,
        input: &mut [SecBuffer<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> SecurityResult<HandshakeStep> {
        self.step(Side::Server, input, output)
    }

    fn complete_auth_token(&mut self, token_buffers: &mut [SecBuffer<'_>]) -> SecurityResult<()> {
        let Some(pending) = self.pending.take() else {
            return Err(SecurityError::out_of_sequence(
                "CompleteAuthToken was called, but no token is waiting to be completed",
            ));
        };
        let Some(out) = token_buffers.find_mut(SecBufferType::TOKEN) else {
            self.pending = Some(pending);
            return Err(SecurityError::invalid_token(
                "CompleteAuthToken needs the SECBUFFER_TOKEN buffer",
            ));
        };
        let bytes = out.as_mut_slice();
        let matches = bytes.len() == pending.len
            && Sha256::digest(&bytes[..pending.len - token::CHECKSUM_LEN]).as_slice()
                == pending.body_hash;
        if !matches {
            self.pending = Some(pending);
            return Err(SecurityError::invalid_token(
                "CompleteAuthToken was given a token other than the one this context produced",
            ));
        }
        token::finish(bytes);
        self.record_sent(bytes);
        Ok(())
    }

    fn sizes(&self) -> SecurityResult<ContextSizes> {
        Ok(ContextSizes {
            max_token: token::MAX_TOKEN as u32,
            max_signature: SIGNATURE_LEN as u32,
            block_size: 0,
            security_trailer: TRAILER_LEN as u32,
        })
    }

    fn names(&self) -> SecurityResult<String> {
        Ok(self.established_ref()?.identity.qualified())
    }

    fn lifespan(&self) -> SecurityResult<Lifespan> {
        let established = self.established_ref()?;
        Ok(Lifespan {
            start: established.start,
            expiry: self.expiry(),
        })
    }

    fn session_key(&self) -> SecurityResult<SecretBytes> {
        Ok(self.established_ref()?.protection.keys().export())
    }

    fn flags(&self) -> u32 {
        let negotiated = match &self.state {
            State::Established(e) => IscReq(e.client_flags),
            State::AwaitConfirm(c) => IscReq(c.client_flags),
            _ => return 0,
        };
        let isc = IscRet((negotiated.intersection(SUPPORTED) | IscReq::MUTUAL_AUTH).0);
        match self.side {
            Side::Client => isc.0,
            Side::Server => AscRet::from_isc_ret(isc).0,
        }
    }

    fn make_signature(
        &mut self,
        qop: u32,
        message: &mut [SecBuffer<'_>],
        _sequence: u32,
    ) -> Result<(), SecurityStatus> {
        self.established()?.protection.make_signature(qop, message)
    }

    fn verify_signature(
        &mut self,
        message: &mut [SecBuffer<'_>],
        _sequence: u32,
    ) -> Result<u32, SecurityStatus> {
        self.established()?.protection.verify_signature(message)
    }

    fn encrypt_message(
        &mut self,
        qop: u32,
        message: &mut [SecBuffer<'_>],
        _sequence: u32,
    ) -> Result<(), SecurityStatus> {
        self.established()?.protection.encrypt_message(qop, message)
    }

    fn decrypt_message(
        &mut self,
        message: &mut [SecBuffer<'_>],
        _sequence: u32,
    ) -> Result<u32, SecurityStatus> {
        self.established()?.protection.decrypt_message(message)
    }
}
