//! The NTLM handshake as the leg engine drives it, and the context it establishes.
//!
//! Client: [`NtlmClientHandshake::Start`] sends NEGOTIATE and becomes
//! [`NtlmClientHandshake::AwaitingChallenge`], which answers the CHALLENGE with
//! AUTHENTICATE and is done. Server: [`NtlmServerHandshake::AwaitingNegotiate`]
//! answers NEGOTIATE with CHALLENGE and becomes
//! [`NtlmServerHandshake::AwaitingAuthenticate`], which checks the AUTHENTICATE
//! and is done with no token to send. Both reach an [`NtlmEstablishedContext`].

use crate::config::NtlmConfig;
use crate::crypto::Key16;
use crate::handshake::{self, ClientIdentity, ClientRandom, ServerChallenge};
use crate::messages::flags;
use crate::session_security::{SIGNATURE_LEN, SessionSecurity};
use crate::system;
use sspi_core::context_export::{PayloadReader, PayloadWriter};
use sspi_core::{
    ClientHandshake, ContextSizes, EstablishedContext, IscReq, IscRet, LegInput, Lifespan,
    SecretBytes, SecurityError, SecurityResult, SecurityStatus, ServerHandshake, Step, TimeStamp,
};
use std::sync::Arc;
use zeroize::Zeroizing;

/// What a client handshake is started with.
pub struct ClientSetup {
    pub(crate) config: Arc<NtlmConfig>,
    pub(crate) identity: Arc<ClientIdentity>,
    /// The SPN sent as MsvAvTargetName.
    pub(crate) target: Option<String>,
    pub(crate) req: IscReq,
}

/// An NTLM client handshake (InitializeSecurityContext), one state per leg.
pub enum NtlmClientHandshake {
    /// Before ISC#1: sends NEGOTIATE.
    Start(ClientSetup),
    /// NEGOTIATE sent: answers the server's CHALLENGE with AUTHENTICATE.
    AwaitingChallenge {
        /// What the handshake was started with.
        setup: ClientSetup,
        /// The NEGOTIATE message as sent (the MIC covers it).
        negotiate: Vec<u8>,
    },
}

impl ClientHandshake for NtlmClientHandshake {
    type Established = NtlmEstablishedContext;

    fn initialize(self, input: LegInput<'_>) -> SecurityResult<Step<Self, NtlmEstablishedContext>> {
        let channel_bindings = input.channel_bindings_hash()?;
        match self {
            Self::Start(setup) => {
                let negotiate =
                    handshake::negotiate_message(handshake::client_negotiate_flags(setup.req))?;
                let token = negotiate.clone();
                Ok(Step::continue_with(
                    Self::AwaitingChallenge { setup, negotiate },
                    token,
                ))
            }
            Self::AwaitingChallenge { setup, negotiate } => {
                let outcome = handshake::client_authenticate(
                    &setup.identity,
                    &negotiate,
                    input.require_token()?,
                    setup.target.as_deref(),
                    channel_bindings,
                    &setup.config.nb_computer_name,
                    &ClientRandom::generate()?,
                )?;
                let established = NtlmEstablishedContext::new(
                    &setup.config,
                    setup.identity.qualified(),
                    outcome.exported_session_key,
                    outcome.negotiated,
                    client_flags(outcome.negotiated, setup.req),
                    true,
                );
                Ok(Step::done(established, outcome.authenticate))
            }
        }
    }
}

/// An NTLM server handshake (AcceptSecurityContext), one state per leg.
pub enum NtlmServerHandshake {
    /// Before ASC#1: answers the client's NEGOTIATE with a CHALLENGE.
    AwaitingNegotiate(Arc<NtlmConfig>),
    /// CHALLENGE sent: checks the client's AUTHENTICATE.
    AwaitingAuthenticate {
        /// The package's configuration.
        config: Arc<NtlmConfig>,
        /// The NEGOTIATE and CHALLENGE, and what the server chose.
        sent: ServerChallenge,
    },
}

impl ServerHandshake for NtlmServerHandshake {
    type Established = NtlmEstablishedContext;

    fn accept(self, input: LegInput<'_>) -> SecurityResult<Step<Self, NtlmEstablishedContext>> {
        let channel_bindings = input.channel_bindings_hash()?;
        let received = input.require_token()?;
        match self {
            Self::AwaitingNegotiate(config) => {
                let mut server_challenge = [0u8; 8];
                system::random(&mut server_challenge)?;
                let sent = handshake::server_challenge(
                    &config,
                    received,
                    server_challenge,
                    system::filetime_now(),
                )?;
                let token = sent.challenge.clone();
                Ok(Step::continue_with(
                    Self::AwaitingAuthenticate { config, sent },
                    token,
                ))
            }
            Self::AwaitingAuthenticate { config, sent } => {
                let outcome = handshake::server_authenticate(
                    &config,
                    &sent,
                    received,
                    channel_bindings,
                    system::filetime_now(),
                )?;
                let established = NtlmEstablishedContext::new(
                    &config,
                    handshake::qualified(&outcome.domain, &outcome.user),
                    outcome.exported_session_key,
                    outcome.negotiated,
                    server_flags(outcome.negotiated),
                    false,
                );
                Ok(Step::done(established, Vec::new()))
            }
        }
    }
}

/// The ISC_RET bits every signing context has, whichever side.
fn common_flags(negotiated: u32) -> IscRet {
    let mut ret = IscRet::CONNECTION;
    if negotiated & flags::SIGN != 0 {
        ret |= IscRet::INTEGRITY;
    }
    if negotiated & flags::SEAL != 0 {
        ret |= IscRet::CONFIDENTIALITY;
    }
    if negotiated & flags::IDENTIFY != 0 {
        ret |= IscRet::IDENTIFY;
    }
    ret
}

/// A client reports the replay and sequence detection it asked for, when it signs.
fn client_flags(negotiated: u32, req: IscReq) -> IscRet {
    let mut ret = common_flags(negotiated);
    if negotiated & flags::SIGN != 0 {
        if req.contains(IscReq::REPLAY_DETECT) {
            ret |= IscRet::REPLAY_DETECT;
        }
        if req.contains(IscReq::SEQUENCE_DETECT) {
            ret |= IscRet::SEQUENCE_DETECT;
        }
    }
    ret
}

/// A server grants replay and sequence detection whenever it signs.
fn server_flags(negotiated: u32) -> IscRet {
    let mut ret = common_flags(negotiated);
    if negotiated & flags::SIGN != 0 {
        ret |= IscRet::REPLAY_DETECT | IscRet::SEQUENCE_DETECT;
    }
    ret
}

/// A complete NTLM context, client or server: who authenticated, the
/// exported session key and the session security of the per-message calls.
pub struct NtlmEstablishedContext {
    /// "DOMAIN\user" of the client.
    name: String,
    flags: IscRet,
    exported_session_key: Key16,
    /// The NEGOTIATE flags in force (the keys are derived with them).
    negotiated: u32,
    /// True on the client's side.
    client: bool,
    lifespan: Lifespan,
    session_security: SessionSecurity,
}

/// The NTLM package's export payload format.
const PAYLOAD_VERSION: u8 = 1;
/// The longest "DOMAIN\user" an imported context may carry.
const MAX_NAME: usize = 1024;

impl NtlmEstablishedContext {
    fn new(
        config: &NtlmConfig,
        name: String,
        exported_session_key: Key16,
        negotiated: u32,
        flags: IscRet,
        client: bool,
    ) -> Self {
        let start = TimeStamp::now();
        let session_security = if client {
            SessionSecurity::client(&exported_session_key, negotiated)
        } else {
            SessionSecurity::server(&exported_session_key, negotiated)
        };
        Self {
            name,
            flags,
            session_security,
            negotiated,
            client,
            exported_session_key,
            lifespan: Lifespan {
                start,
                expiry: start.after(config.context_lifetime),
            },
        }
    }
}

impl NtlmEstablishedContext {
    /// ImportSecurityContext of a context of side `client` (true) or the
    /// server's: the payload [`EstablishedContext::export_context`] wrote.
    pub fn import(payload: &[u8], client: bool) -> SecurityResult<Self> {
        let mut input = PayloadReader::payload(payload, PAYLOAD_VERSION, crate::PACKAGE_NAME)?;
        if input.bool("side")? != client {
            return Err(input.invalid(
                "side",
                "the payload is of the other side than the blob says",
            ));
        }
        let exported_session_key = Zeroizing::new(input.array::<16>("session key")?);
        let negotiated = input.u32("negotiated flags")?;
        let flags = IscRet(input.u32("context flags")?);
        let start = TimeStamp(input.i64("start")?);
        let expiry = TimeStamp(input.i64("expiry")?);
        let name = input.str(MAX_NAME, "client name")?.to_owned();
        let session_security =
            SessionSecurity::import(&exported_session_key, negotiated, client, &mut input)?;
        input.finish()?;
        Ok(Self {
            name,
            flags,
            exported_session_key,
            negotiated,
            client,
            lifespan: Lifespan { start, expiry },
            session_security,
        })
    }
}

impl EstablishedContext for NtlmEstablishedContext {
    /// Payload version 1: the side, the exported session key, the
    /// negotiated and context flags, start and expiry, the client's name,
    /// the sequence numbers and both RC4 states. With `reset_new` the
    /// numbers are 0 and the keystreams restart (refused once this side has
    /// sent a message).
    fn export_context(&self, reset_new: bool) -> SecurityResult<SecretBytes> {
        let mut out = PayloadWriter::new(PAYLOAD_VERSION);
        out.bool(self.client)
            .raw(self.exported_session_key.as_ref())
            .u32(self.negotiated)
            .u32(self.flags.0)
            .i64(self.lifespan.start.0)
            .i64(self.lifespan.expiry.0)
            .str(&self.name);
        self.session_security
            .export(reset_new, &mut out)
            .map_err(|why| SecurityError::new(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION, why))?;
        Ok(out.finish())
    }

    fn sizes(&self) -> ContextSizes {
        ContextSizes {
            max_token: crate::MAX_TOKEN as u32,
            max_signature: SIGNATURE_LEN as u32,
            block_size: 0,
            security_trailer: SIGNATURE_LEN as u32,
        }
    }

    fn names(&self) -> SecurityResult<String> {
        Ok(self.name.clone())
    }

    fn lifespan(&self) -> Lifespan {
        self.lifespan
    }

    fn flags(&self) -> IscRet {
        self.flags
    }

    fn session_key(&self) -> SecurityResult<SecretBytes> {
        Ok(SecretBytes::new(self.exported_session_key.to_vec()))
    }

    /// The AUTHENTICATE message always carries a MIC (both sides insist on
    /// it), and Windows then requires SPNEGO's mechListMIC (MS-SPNG 3.3.5.1).
    fn requires_mech_list_mic(&self) -> bool {
        true
    }

    fn mech_list_mic_processed(&mut self, direction: sspi_core::MessageDirection) {
        self.session_security.restart_keystream(direction);
    }

    sspi_core::forward_per_message!(session_security);
}
