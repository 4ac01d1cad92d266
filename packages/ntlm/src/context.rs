//! `NtlmContext`: the SSPI face of the handshake and the per-message protection.
//!
//! Legs: ISC#1 -> NEGOTIATE (SEC_I_CONTINUE_NEEDED); ASC#1 -> CHALLENGE
//! (SEC_I_CONTINUE_NEEDED); ISC#2 -> AUTHENTICATE (SEC_E_OK); ASC#2 ->
//! SEC_E_OK with an empty output token.

use crate::config::NtlmConfig;
use crate::crypto::{self, Key16};
use crate::handshake::{self, ClientIdentity, ClientRandom, ServerChallenge};
use crate::messages::flags;
use crate::protection::{Protection, SIGNATURE_LEN, Side};
use sspi_core::{
    AscRet, ContextSizes, HandshakeStep, IscReq, IscRet, Lifespan, SecBuffer, SecBufferType,
    SecBuffers, SecretBytes, SecurityContext, SecurityError, SecurityResult, SecurityStatus,
    TimeStamp,
};
use std::sync::Arc;

/// The handshake's states.
enum State {
    /// Client, before ISC#1.
    ClientStart,
    /// Client, NEGOTIATE sent.
    ClientSentNegotiate { negotiate: Vec<u8> },
    /// Server, before ASC#1.
    ServerStart,
    /// Server, CHALLENGE sent.
    ServerSentChallenge(ServerChallenge),
    /// Complete.
    Established(Box<Established>),
    /// A leg failed: the context can only be deleted.
    Failed,
}

/// A complete context.
struct Established {
    /// "DOMAIN\user" of the client.
    name: String,
    negotiated: u32,
    exported_session_key: Key16,
    start: TimeStamp,
    expiry: TimeStamp,
    protection: Protection,
}

/// An NTLM security context (client or server).
pub struct NtlmContext {
    config: Arc<NtlmConfig>,
    side: Side,
    client: Option<Arc<ClientIdentity>>,
    target: Option<String>,
    req: IscReq,
    state: State,
}

impl NtlmContext {
    /// A client context for `client`, for `target` (an SPN, sent as
    /// MsvAvTargetName), asking for `req`.
    pub fn client(
        config: Arc<NtlmConfig>,
        client: Arc<ClientIdentity>,
        target: Option<&str>,
        req: IscReq,
    ) -> Self {
        Self {
            config,
            side: Side::Client,
            client: Some(client),
            target: target.map(str::to_string),
            req,
            state: State::ClientStart,
        }
    }

    /// A server context.
    pub fn server(config: Arc<NtlmConfig>) -> Self {
        Self {
            config,
            side: Side::Server,
            client: None,
            target: None,
            req: IscReq::NONE,
            state: State::ServerStart,
        }
    }

    /// True once the handshake is complete.
    pub fn is_established(&self) -> bool {
        matches!(self.state, State::Established(_))
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
        match self.state {
            State::Established(_) => {
                return Err(SecurityError::out_of_sequence(
                    "the NTLM context is already complete",
                ));
            }
            State::Failed => {
                return Err(SecurityError::out_of_sequence(
                    "an earlier leg of this NTLM context failed; delete it and start again",
                ));
            }
            _ => {}
        }
        let out = output.output_token_mut()?;
        let channel_bindings = match input.find(SecBufferType::CHANNEL_BINDINGS) {
            Some(buffer) => Some(sspi_core::channel_bindings_hash(buffer.as_slice())?),
            None => None,
        };
        let received = input.find(SecBufferType::TOKEN).map(SecBuffer::as_slice);

        let state = std::mem::replace(&mut self.state, State::Failed);
        let (token, next) = match (state, received) {
            (State::ClientStart, _) => {
                let negotiate =
                    handshake::negotiate_message(handshake::client_negotiate_flags(self.req))?;
                (
                    Some(negotiate.clone()),
                    State::ClientSentNegotiate { negotiate },
                )
            }
            (State::ServerStart, Some(received)) => {
                let mut server_challenge = [0u8; 8];
                crypto::random(&mut server_challenge)?;
                let sent = handshake::server_challenge(
                    &self.config,
                    received,
                    server_challenge,
                    crypto::filetime_now(),
                )?;
                (
                    Some(sent.challenge.clone()),
                    State::ServerSentChallenge(sent),
                )
            }
            (State::ClientSentNegotiate { negotiate }, Some(received)) => {
                let identity = self.client.as_ref().ok_or_else(|| {
                    SecurityError::internal("a client context without an identity")
                })?;
                let outcome = handshake::client_authenticate(
                    identity,
                    &negotiate,
                    received,
                    self.target.as_deref(),
                    channel_bindings,
                    &self.config.nb_computer_name,
                    &ClientRandom::generate()?,
                )?;
                let established = self.establish(
                    identity.qualified(),
                    outcome.exported_session_key,
                    outcome.negotiated,
                );
                (Some(outcome.authenticate), established)
            }
            (State::ServerSentChallenge(sent), Some(received)) => {
                let outcome = handshake::server_authenticate(
                    &self.config,
                    &sent,
                    received,
                    channel_bindings,
                    crypto::filetime_now(),
                )?;
                let established = self.establish(
                    handshake::qualified(&outcome.domain, &outcome.user),
                    outcome.exported_session_key,
                    outcome.negotiated,
                );
                (None, established)
            }
            (_, None) => {
                return Err(SecurityError::invalid_token(
                    "expected the peer's NTLM message in a SECBUFFER_TOKEN input buffer",
                ));
            }
            (State::Established(_) | State::Failed, _) => {
                return Err(SecurityError::internal("unreachable handshake state"));
            }
        };
        match token {
            Some(token) => {
                let Some(slot) = out.as_mut_slice().get_mut(..token.len()) else {
                    return Err(SecurityError::new(
                        SecurityStatus::SEC_E_BUFFER_TOO_SMALL,
                        format!(
                            "the output TOKEN buffer has {} bytes; the NTLM message needs {} (cbMaxToken is {})",
                            out.len(),
                            token.len(),
                            crate::MAX_TOKEN
                        ),
                    ));
                };
                slot.copy_from_slice(&token);
                out.truncate(token.len());
            }
            None => out.truncate(0),
        }
        self.state = next;
        let status = if self.is_established() {
            SecurityStatus::SEC_E_OK
        } else {
            SecurityStatus::SEC_I_CONTINUE_NEEDED
        };
        Ok(HandshakeStep {
            status,
            attributes: self.flags(),
            expiry: self.expiry(),
        })
    }

    fn establish(&self, name: String, exported_session_key: Key16, negotiated: u32) -> State {
        let start = TimeStamp::now();
        let expiry = start.after(self.config.context_lifetime);
        let protection = Protection::new(self.side, &exported_session_key, negotiated, expiry);
        State::Established(Box::new(Established {
            name,
            negotiated,
            exported_session_key,
            start,
            expiry,
            protection,
        }))
    }

    fn expiry(&self) -> TimeStamp {
        match &self.state {
            State::Established(e) => e.expiry,
            _ => TimeStamp::NEVER,
        }
    }

    fn established(&mut self) -> Result<&mut Protection, SecurityStatus> {
        match &mut self.state {
            State::Established(e) => Ok(&mut e.protection),
            _ => Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE),
        }
    }

    fn established_ref(&self) -> SecurityResult<&Established> {
        match &self.state {
            State::Established(e) => Ok(e),
            _ => Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_HANDLE,
                "the NTLM context is not complete yet",
            )),
        }
    }
}

/// The ISC_RET bits of a negotiated flag set.
fn isc_ret(negotiated: u32, req: IscReq, side: Side) -> IscRet {
    let mut ret = IscRet::CONNECTION;
    if negotiated & flags::SIGN != 0 {
        ret |= IscRet::INTEGRITY;
        // The server grants replay and sequence detection whenever it signs;
        // the client reports what it asked for.
        if side == Side::Server || req.contains(IscReq::REPLAY_DETECT) {
            ret |= IscRet::REPLAY_DETECT;
        }
        if side == Side::Server || req.contains(IscReq::SEQUENCE_DETECT) {
            ret |= IscRet::SEQUENCE_DETECT;
        }
    }
    if negotiated & flags::SEAL != 0 {
        ret |= IscRet::CONFIDENTIALITY;
    }
    if negotiated & flags::IDENTIFY != 0 {
        ret |= IscRet::IDENTIFY;
    }
    ret
}

impl SecurityContext for NtlmContext {
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

    fn sizes(&self) -> SecurityResult<ContextSizes> {
        Ok(ContextSizes {
            max_token: crate::MAX_TOKEN as u32,
            max_signature: SIGNATURE_LEN as u32,
            block_size: 0,
            security_trailer: SIGNATURE_LEN as u32,
        })
    }

    fn names(&self) -> SecurityResult<String> {
        Ok(self.established_ref()?.name.clone())
    }

    fn lifespan(&self) -> SecurityResult<Lifespan> {
        let established = self.established_ref()?;
        Ok(Lifespan {
            start: established.start,
            expiry: established.expiry,
        })
    }

    fn session_key(&self) -> SecurityResult<SecretBytes> {
        Ok(SecretBytes::new(
            self.established_ref()?.exported_session_key.to_vec(),
        ))
    }

    fn flags(&self) -> u32 {
        let State::Established(e) = &self.state else {
            return 0;
        };
        let isc = isc_ret(e.negotiated, self.req, self.side);
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
        self.established()?.make_signature(qop, message)
    }

    fn verify_signature(
        &mut self,
        message: &mut [SecBuffer<'_>],
        _sequence: u32,
    ) -> Result<u32, SecurityStatus> {
        self.established()?.verify_signature(message)
    }

    fn encrypt_message(
        &mut self,
        qop: u32,
        message: &mut [SecBuffer<'_>],
        _sequence: u32,
    ) -> Result<(), SecurityStatus> {
        self.established()?.encrypt_message(qop, message)
    }

    fn decrypt_message(
        &mut self,
        message: &mut [SecBuffer<'_>],
        _sequence: u32,
    ) -> Result<u32, SecurityStatus> {
        self.established()?.decrypt_message(message)
    }
}
