//! The handshake as a state machine: each state is its own type, consumed by
//! the transition that the next token drives, so a wrong transition cannot be
//! written.
//!
//! Legs (N = `Legs`, at least 3), client legs odd, server legs even:
//! 1. hello (client): user, domain, requested flags, the client's SPAKE2 element `X`;
//! 2. challenge (server): the server's SPAKE2 element `Y` and its key confirmation;
//! 3. proof (client): the client's key confirmation over hello and challenge;
//! 4. and later, up to N: confirm (alternating), a MAC of the transcript under
//!    the session's confirmation key.
//!
//! The keys come from SPAKE2 ([`crate::pake`]) and the key schedule of
//! [`crate::keys`]. A client whose check of leg 2 fails (wrong password,
//! unknown user, or a server that does not know the password) stops with
//! SEC_E_LOGON_DENIED and sends nothing more; a server whose check of leg 3
//! fails answers SEC_E_LOGON_DENIED.
//!
//! The side that sends leg N is complete after sending it; the other side
//! after checking it.

use crate::config::TestConfig;
use crate::keys::{KeySchedule, SessionKeys};
use crate::pake::{self, ELEMENT_LEN, PakeSecret, Role, Spake2};
use crate::protection::MessageProtection;
use crate::token::{self, Body, Token};
use hmac::Mac;
use sha2::{Digest, Sha256};
use sspi_core::{IscReq, SecurityError, SecurityResult, SecurityStatus, TimeStamp};
use std::sync::Arc;

/// The authenticated identity of a context.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The user's domain.
    pub domain: String,
    /// The user name.
    pub user: String,
}

impl Identity {
    /// "DOMAIN\user", as SECPKG_ATTR_NAMES reports it.
    pub fn qualified(&self) -> String {
        if self.domain.is_empty() {
            self.user.clone()
        } else {
            format!("{}\\{}", self.domain, self.user)
        }
    }
}

/// A client's identity and key.
pub struct ClientIdentity {
    /// Who the client claims to be.
    pub identity: Identity,
    /// The PAKE secret from the client's password.
    pub key: Arc<PakeSecret>,
}

/// What a transition wants sent, if anything.
pub enum Outgoing {
    /// Nothing: the last leg was the peer's.
    Nothing,
    /// A hello.
    Hello {
        /// Requested flags.
        flags: u32,
        /// The client's SPAKE2 element.
        element: [u8; ELEMENT_LEN],
        /// The client's domain.
        domain: String,
        /// The client's user name.
        user: String,
    },
    /// A challenge.
    Challenge {
        /// The server's SPAKE2 element.
        element: [u8; ELEMENT_LEN],
        /// The server's key confirmation.
        proof: [u8; 32],
    },
    /// A proof.
    Proof([u8; 32]),
    /// A confirmation MAC.
    Confirm([u8; 32]),
}

/// The handshake's states.
pub enum State {
    /// Client, before leg 1.
    ClientStart(ClientStart),
    /// Client, after sending the hello.
    ClientSentHello(ClientSentHello),
    /// Server, before leg 1.
    ServerStart(ServerStart),
    /// Server, after sending the challenge.
    ServerSentChallenge(ServerSentChallenge),
    /// Either side, waiting for the peer's confirmation leg.
    AwaitConfirm(Confirmed),
    /// Complete.
    Authenticated(Authenticated),
    /// A call failed: the context can only be deleted.
    Failed,
}

/// Client, before leg 1.
pub struct ClientStart {
    /// The client's identity.
    pub client: ClientIdentity,
    /// ISC_REQ flags.
    pub req: IscReq,
}

/// Client, waiting for the challenge.
pub struct ClientSentHello {
    client: ClientIdentity,
    req: IscReq,
    pake: Spake2,
}

/// Server, before leg 1.
pub struct ServerStart;

/// Server, waiting for the proof.
pub struct ServerSentChallenge {
    identity: Identity,
    schedule: KeySchedule,
    known_user: bool,
    client_flags: u32,
}

/// Both proofs checked: keys agreed, confirmation legs may follow.
pub struct Confirmed {
    /// The authenticated client.
    pub identity: Identity,
    /// The client's ISC_REQ flags (what was negotiated).
    pub client_flags: u32,
    /// The session keys.
    pub keys: SessionKeys,
}

/// A complete context.
pub struct Authenticated {
    /// The authenticated client.
    pub identity: Identity,
    /// The client's ISC_REQ flags (what was negotiated).
    pub client_flags: u32,
    /// When it was established.
    pub start: TimeStamp,
    /// The per-message state.
    pub protection: MessageProtection,
}

/// The common parts a transition reads: configuration, side, transcript.
pub struct Shared<'a> {
    /// The package configuration.
    pub config: &'a TestConfig,
    /// Hash of every token so far.
    pub transcript: &'a Sha256,
}

impl Shared<'_> {
    fn transcript_hash(&self) -> [u8; 32] {
        self.transcript.clone().finalize().into()
    }

    fn expect<'t>(&self, input: &'t [u8], leg: u8) -> SecurityResult<Token<'t>> {
        let token = token::parse(input)?;
        if token.legs != self.config.legs {
            return Err(SecurityError::invalid_token(format!(
                "the peer runs a {}-leg handshake, this side is configured for {} (registry value Legs)",
                token.legs, self.config.legs
            )));
        }
        if token.leg != leg {
            return Err(SecurityError::invalid_token(format!(
                "expected leg {leg}, got leg {} ({}): tokens out of order",
                token.leg,
                token.body.name()
            )));
        }
        Ok(token)
    }

    /// After receiving leg `received` (and checking it): what to send and where to go.
    fn after_proofs(
        &self,
        received: u8,
        confirmed: Confirmed,
    ) -> SecurityResult<(Outgoing, State)> {
        let legs = self.config.legs;
        if received == legs {
            return Ok((Outgoing::Nothing, establish(confirmed)));
        }
        // We send leg `received + 1`: a confirmation MAC over the transcript so far.
        let mac = confirm_mac(&confirmed.keys, received + 1, &self.transcript_hash());
        let next = if received + 1 == legs {
            establish(confirmed)
        } else {
            State::AwaitConfirm(confirmed)
        };
        Ok((Outgoing::Confirm(mac), next))
    }
}

fn confirm_mac(keys: &SessionKeys, leg: u8, transcript: &[u8; 32]) -> [u8; 32] {
    let mut mac = keys.confirm_mac();
    mac.update(b"confirm");
    mac.update(&[leg]);
    mac.update(transcript);
    mac.finalize().into_bytes().into()
}

fn establish(confirmed: Confirmed) -> State {
    let start = TimeStamp::now();
    let confidentiality = IscReq(confirmed.client_flags).contains(IscReq::CONFIDENTIALITY);
    State::Authenticated(Authenticated {
        identity: confirmed.identity,
        client_flags: confirmed.client_flags,
        start,
        protection: MessageProtection::new(confirmed.keys, confidentiality),
    })
}

fn logon_denied(message: &str) -> SecurityError {
    SecurityError::new(SecurityStatus::SEC_E_LOGON_DENIED, message)
}

impl ClientStart {
    /// Leg 1: send the hello.
    pub fn send_hello(self) -> SecurityResult<(Outgoing, State)> {
        let (pake, element) = Spake2::start(Role::Client, &self.client.key)?;
        let outgoing = Outgoing::Hello {
            flags: self.req.0,
            element,
            domain: self.client.identity.domain.clone(),
            user: self.client.identity.user.clone(),
        };
        Ok((
            outgoing,
            State::ClientSentHello(ClientSentHello {
                client: self.client,
                req: self.req,
                pake,
            }),
        ))
    }
}

impl ClientSentHello {
    /// Leg 2 in, leg 3 out: finish SPAKE2, check the server's confirmation,
    /// send ours.
    ///
    /// `hello_hash` is the hash of the hello alone; `shared.transcript` already
    /// holds hello and challenge.
    pub fn receive_challenge(
        self,
        shared: &Shared<'_>,
        hello_hash: &[u8; 32],
        server_element: &[u8; ELEMENT_LEN],
        server_confirm: &[u8; 32],
    ) -> SecurityResult<(Outgoing, State)> {
        let identity = &self.client.identity;
        let pake_key = self.pake.finish(
            server_element,
            &pake::client_identity(&identity.domain, &identity.user),
        )?;
        let schedule = KeySchedule::new(&pake_key);
        if !schedule.verify_server_confirm(hello_hash, server_element, server_confirm)? {
            return Err(logon_denied(
                "the server's key confirmation does not verify: wrong password, \
                 the server does not know this user, or the server is an impostor",
            ));
        }
        let transcript = shared.transcript_hash();
        let proof = schedule.client_confirm(&transcript)?;
        let keys = schedule.session_keys(&transcript, Role::Client)?;
        let confirmed = Confirmed {
            identity: self.client.identity,
            client_flags: self.req.0,
            keys,
        };
        let legs = shared.config.legs;
        let next = if legs == 3 {
            establish(confirmed)
        } else {
            State::AwaitConfirm(confirmed)
        };
        Ok((Outgoing::Proof(proof), next))
    }
}

impl ServerStart {
    /// Leg 1 in, leg 2 out: look the user up, run the server's side of SPAKE2
    /// and answer with its element and key confirmation.
    pub fn receive_hello(
        self,
        shared: &Shared<'_>,
        flags: u32,
        client_element: &[u8; ELEMENT_LEN],
        domain: &str,
        user: &str,
    ) -> SecurityResult<(Outgoing, State)> {
        let (identity, secret, known_user) = match shared.config.user(domain, user) {
            Some(entry) => (
                Identity {
                    domain: entry.domain.clone(),
                    user: entry.user.clone(),
                },
                Arc::clone(&entry.key),
                true,
            ),
            // An unknown user gets a stand-in secret: the server answers exactly
            // as for a known user, and the handshake fails at the client's
            // confirmation as a wrong password does.
            None => (
                Identity {
                    domain: domain.to_string(),
                    user: user.to_string(),
                },
                Arc::new(PakeSecret::unknown_user(domain, user)?),
                false,
            ),
        };
        let (pake, element) = Spake2::start(Role::Server, &secret)?;
        let pake_key = pake.finish(client_element, &pake::client_identity(domain, user))?;
        let schedule = KeySchedule::new(&pake_key);
        let hello_hash = shared.transcript_hash();
        let proof = schedule.server_confirm(&hello_hash, &element)?;
        Ok((
            Outgoing::Challenge { element, proof },
            State::ServerSentChallenge(ServerSentChallenge {
                identity,
                schedule,
                known_user,
                client_flags: flags,
            }),
        ))
    }
}

impl ServerSentChallenge {
    /// Leg 3 in: check the client's confirmation. `transcript_before` is the
    /// hash of hello and challenge (the confirmation is over it).
    pub fn receive_proof(
        self,
        shared: &Shared<'_>,
        transcript_before: &[u8; 32],
        proof: &[u8; 32],
    ) -> SecurityResult<(Outgoing, State)> {
        let verified = self
            .schedule
            .verify_client_confirm(transcript_before, proof)?;
        if !verified || !self.known_user {
            return Err(logon_denied(&format!(
                "logon denied for {}: unknown user or wrong password",
                self.identity.qualified()
            )));
        }
        let keys = self
            .schedule
            .session_keys(transcript_before, Role::Server)?;
        shared.after_proofs(
            3,
            Confirmed {
                identity: self.identity,
                client_flags: self.client_flags,
                keys,
            },
        )
    }
}

impl Confirmed {
    /// Leg `leg` (a confirmation) in: check it against `transcript_before`.
    pub fn receive_confirm(
        self,
        shared: &Shared<'_>,
        leg: u8,
        transcript_before: &[u8; 32],
        mac: &[u8; 32],
    ) -> SecurityResult<(Outgoing, State)> {
        let mut expected = self.keys.confirm_mac();
        expected.update(b"confirm");
        expected.update(&[leg]);
        expected.update(transcript_before);
        if expected.verify_slice(mac).is_err() {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_MUTUAL_AUTH_FAILED,
                format!(
                    "confirmation leg {leg} does not verify: the peer does not hold the session keys"
                ),
            ));
        }
        shared.after_proofs(leg, self)
    }
}

/// Parses and routes one incoming token for the current state.
pub fn receive(
    state: State,
    shared: &Shared<'_>,
    leg: u8,
    input: &[u8],
    before: &[u8; 32],
    hello_hash: &[u8; 32],
) -> SecurityResult<(Outgoing, State)> {
    let token = shared.expect(input, leg)?;
    match (state, token.body) {
        (
            State::ServerStart(s),
            Body::Hello {
                flags,
                element,
                domain,
                user,
            },
        ) => s.receive_hello(shared, flags, element, domain, user),
        (State::ClientSentHello(s), Body::Challenge { element, proof }) => {
            s.receive_challenge(shared, hello_hash, element, proof)
        }
        (State::ServerSentChallenge(s), Body::Proof { proof }) => {
            s.receive_proof(shared, before, proof)
        }
        (State::AwaitConfirm(s), Body::Confirm { mac }) => {
            s.receive_confirm(shared, leg, before, mac)
        }
        (_, body) => Err(SecurityError::invalid_token(format!(
            "unexpected {} message at leg {leg}",
            body.name()
        ))),
    }
}
