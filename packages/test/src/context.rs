//! The Test package's SSPI face: a client and a server handshake over the
//! state machine of [`crate::handshake`], and the established context's
//! per-message protection.

use crate::config::TestConfig;
use crate::handshake::{self, ClientIdentity, ClientStart, Outgoing, ServerStart, Shared, State};
use crate::protection::{MessageProtection, SIGNATURE_LEN, TRAILER_LEN};
use crate::token::{self, Body, Token};
use sha2::{Digest, Sha256};
use sspi_core::context_export::{PayloadReader, PayloadWriter};
use sspi_core::{
    ClientHandshake, ContextSizes, EstablishedContext, IscReq, IscRet, LegInput, Lifespan,
    SecretBytes, SecurityResult, ServerHandshake, Step, TimeStamp,
};
use std::sync::Arc;

/// The ISC_REQ flags the Test package honours.
const SUPPORTED: IscReq = IscReq::PROTECTED_CONNECTION;

/// The handshake both sides share: the state machine, the transcript and the leg counter.
struct Exchange {
    config: Arc<TestConfig>,
    state: State,
    transcript: Sha256,
    hello_hash: [u8; 32],
    next_leg: u8,
}

/// A Test package client handshake (InitializeSecurityContext).
pub struct TestClient(Exchange);

/// A Test package server handshake (AcceptSecurityContext).
pub struct TestServer(Exchange);

/// A complete Test package context.
pub struct TestEstablished {
    established: handshake::Authenticated,
    expiry: TimeStamp,
}

/// The Test package's export payload format.
const PAYLOAD_VERSION: u8 = 1;
/// The longest domain or user name an imported context may carry.
const MAX_NAME: usize = 1024;

impl TestEstablished {
    /// ImportSecurityContext: the context [`EstablishedContext::export_context`] packed.
    pub fn import(payload: &[u8]) -> SecurityResult<Self> {
        let mut input = PayloadReader::payload(payload, PAYLOAD_VERSION, crate::PACKAGE_NAME)?;
        let protection = MessageProtection::import(&mut input)?;
        let client_flags = input.u32("client flags")?;
        let start = TimeStamp(input.i64("start")?);
        let expiry = TimeStamp(input.i64("expiry")?);
        let domain = input.str(MAX_NAME, "domain")?.to_owned();
        let user = input.str(MAX_NAME, "user")?.to_owned();
        input.finish()?;
        Ok(Self {
            established: handshake::Authenticated {
                identity: handshake::Identity { domain, user },
                client_flags,
                start,
                protection,
            },
            expiry,
        })
    }
}

impl TestClient {
    /// A client handshake for `client`, asking for `req`.
    pub fn new(config: Arc<TestConfig>, client: ClientIdentity, req: IscReq) -> Self {
        Self(Exchange::new(
            config,
            State::ClientStart(ClientStart { client, req }),
        ))
    }
}

impl TestServer {
    /// A server handshake.
    pub fn new(config: Arc<TestConfig>) -> Self {
        Self(Exchange::new(config, State::ServerStart(ServerStart)))
    }
}

enum Next {
    Continue(Exchange),
    Done(TestEstablished),
}

impl Exchange {
    fn new(config: Arc<TestConfig>, state: State) -> Self {
        Self {
            config,
            state,
            transcript: Sha256::new(),
            hello_hash: [0; 32],
            next_leg: 1,
        }
    }

    /// One leg: consume the peer's token (none on the client's first leg) and
    /// produce this side's, if any.
    fn step(mut self, input: LegInput<'_>) -> SecurityResult<(Next, Vec<u8>, bool)> {
        let state = std::mem::replace(&mut self.state, State::Failed);
        let (outgoing, next) = match state {
            State::ClientStart(start) => start.send_hello()?,
            state => {
                let received = input.require_token()?;
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
                self.record(after);
                result
            }
        };
        self.state = next;
        let token = self.token(&outgoing)?;
        let complete_needed = self.config.complete_auth_token && !token.is_empty();
        if !token.is_empty() && !complete_needed {
            self.record_sent(&token);
        }
        let next = match std::mem::replace(&mut self.state, State::Failed) {
            State::Authenticated(established) => Next::Done(TestEstablished {
                expiry: established.start.after(self.config.context_lifetime),
                established,
            }),
            state => {
                self.state = state;
                Next::Continue(self)
            }
        };
        Ok((next, token, complete_needed))
    }

    /// The bytes of `outgoing`, finished now unless CompleteAuthToken will.
    fn token(&self, outgoing: &Outgoing) -> SecurityResult<Vec<u8>> {
        let body = match outgoing {
            Outgoing::Nothing => return Ok(Vec::new()),
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
        let mut bytes = vec![0u8; token::MAX_TOKEN];
        let written = token.write(&mut bytes)?;
        bytes.truncate(written);
        if !self.config.complete_auth_token {
            token::finish(&mut bytes);
        }
        Ok(bytes)
    }

    fn record(&mut self, transcript: Sha256) {
        self.transcript = transcript;
        if self.next_leg == 1 {
            self.hello_hash = self.transcript.clone().finalize().into();
        }
        self.next_leg += 1;
    }

    fn record_sent(&mut self, token: &[u8]) {
        let mut after = self.transcript.clone();
        after.update(token);
        self.record(after);
    }

    /// CompleteAuthToken on the state a leg led to: finish the token, then
    /// count it in the transcript.
    fn complete(&mut self, token: &mut [u8]) {
        token::finish(token);
        self.record_sent(token);
    }

    fn flags(&self) -> IscRet {
        match &self.state {
            State::AwaitConfirm(c) => negotiated(c.client_flags),
            _ => IscRet::NONE,
        }
    }
}

fn negotiated(client_flags: u32) -> IscRet {
    IscRet((IscReq(client_flags).intersection(SUPPORTED) | IscReq::MUTUAL_AUTH).0)
}

fn step<H>(
    result: (Next, Vec<u8>, bool),
    wrap: impl FnOnce(Exchange) -> H,
) -> Step<H, TestEstablished> {
    let (next, token, complete_needed) = result;
    let step = match next {
        Next::Continue(exchange) => Step::continue_with(wrap(exchange), token),
        Next::Done(established) => Step::done(established, token),
    };
    if complete_needed {
        step.needing_completion()
    } else {
        step
    }
}

impl ClientHandshake for TestClient {
    type Established = TestEstablished;

    fn initialize(self, input: LegInput<'_>) -> SecurityResult<Step<Self, TestEstablished>> {
        Ok(step(self.0.step(input)?, TestClient))
    }

    fn flags(&self) -> IscRet {
        self.0.flags()
    }

    fn complete_auth_token(&mut self, token: &mut [u8]) -> SecurityResult<()> {
        self.0.complete(token);
        Ok(())
    }
}

impl ServerHandshake for TestServer {
    type Established = TestEstablished;

    fn accept(self, input: LegInput<'_>) -> SecurityResult<Step<Self, TestEstablished>> {
        Ok(step(self.0.step(input)?, TestServer))
    }

    fn flags(&self) -> IscRet {
        self.0.flags()
    }

    fn complete_auth_token(&mut self, token: &mut [u8]) -> SecurityResult<()> {
        self.0.complete(token);
        Ok(())
    }
}

impl EstablishedContext for TestEstablished {
    fn sizes(&self) -> ContextSizes {
        ContextSizes {
            max_token: token::MAX_TOKEN as u32,
            max_signature: SIGNATURE_LEN as u32,
            block_size: 0,
            security_trailer: TRAILER_LEN as u32,
        }
    }

    fn names(&self) -> SecurityResult<String> {
        Ok(self.established.identity.qualified())
    }

    fn lifespan(&self) -> Lifespan {
        Lifespan {
            start: self.established.start,
            expiry: self.expiry,
        }
    }

    fn flags(&self) -> IscRet {
        negotiated(self.established.client_flags)
    }

    fn session_key(&self) -> SecurityResult<SecretBytes> {
        Ok(self.established.protection.keys().export())
    }

    /// Payload version 1: the six keys, confidentiality, the sequence
    /// numbers, the client's flags, start and expiry, domain and user. With
    /// `reset_new` the sequence numbers are 0 both ways (refused once this
    /// side has sent a message: see [`MessageProtection::export`]).
    fn export_context(&self, reset_new: bool) -> SecurityResult<SecretBytes> {
        let mut out = PayloadWriter::new(PAYLOAD_VERSION);
        self.established.protection.export(reset_new, &mut out)?;
        let identity = &self.established.identity;
        out.u32(self.established.client_flags)
            .i64(self.established.start.0)
            .i64(self.expiry.0)
            .str(&identity.domain)
            .str(&identity.user);
        Ok(out.finish())
    }

    fn complete_auth_token(&mut self, token: &mut [u8]) -> SecurityResult<()> {
        // The last token: nothing follows it, so the transcript is not needed.
        token::finish(token);
        Ok(())
    }

    sspi_core::forward_per_message!(established.protection);
}
