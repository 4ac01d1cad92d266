//! `KerberosContext`: the handshake as a state machine (each state its own
//! type, consumed by its transition) and, once established, RFC 4121
//! per-message protection.
//!
//! Legs with mutual authentication: ISC#1 -> AP-REQ (SEC_I_CONTINUE_NEEDED);
//! ASC#1 -> AP-REP (SEC_E_OK); ISC#2 consumes the AP-REP (SEC_E_OK). Without
//! it, ISC#1 returns SEC_E_OK with the AP-REQ and ASC#1 SEC_E_OK with no token.

use crate::acceptor::{self, Accepted, AcceptorKeys};
use crate::ap::{self, AuthenticatorSpec, USAGE_AP_REP, USAGE_AP_REQ_AUTHENTICATOR};
use crate::client::ClientState;
use crate::crypto::{Key, random_u32};
use crate::gss::{self, Received};
use crate::krb_error::{self, KdcError};
use crate::package::{MAX_TOKEN, ServerState, Shared};
use crate::principal::{Principal, u32_value};
use crate::protection::{MIC_LEN, Protection, ProtectionParams, WRAP_TRAILER_LEN};
use crate::ticket::HeldTicket;
use crate::time::{KrbTime, from_kerberos_time, microseconds};
use picky_krb::data_types::EncApRepPart;
use picky_krb::messages::{ApRep, ApReq};
use sspi_core::{
    AscReq, AscRet, ContextSizes, HandshakeStep, IscReq, IscRet, Lifespan, SecBuffer,
    SecBufferType, SecBuffers, SecretBytes, SecurityContext, SecurityError, SecurityResult,
    SecurityStatus, TimeStamp,
};
use std::sync::Arc;

/// A client context before its first leg.
pub struct ClientStart {
    client: Arc<ClientState>,
    service: Principal,
    req: IscReq,
}

/// A client waiting for the AP-REP.
pub struct AwaitApRep {
    ticket: HeldTicket,
    subkey: Key,
    time: KrbTime,
    sequence: u32,
    req: IscReq,
}

/// A server context before the AP-REQ.
pub struct ServerStart {
    server: Arc<ServerState>,
}

/// An established context.
pub struct Established {
    protection: Protection,
    client_name: String,
    attributes: u32,
    start: TimeStamp,
    expiry: TimeStamp,
    key: Key,
}

/// The handshake's states.
pub enum State {
    /// Client, before ISC#1.
    ClientStart(ClientStart),
    /// Client, after sending an AP-REQ that asked for mutual authentication.
    AwaitApRep(Box<AwaitApRep>),
    /// Server, before ASC#1.
    ServerStart(ServerStart),
    /// Complete.
    Established(Box<Established>),
    /// A leg failed; the context is unusable.
    Failed,
}

/// The Kerberos package's security context (client or server).
pub struct KerberosContext {
    shared: Arc<Shared>,
    state: State,
}

/// The ISC_REQ flags the package honours.
const SUPPORTED: IscReq = IscReq(
    IscReq::MUTUAL_AUTH.0
        | IscReq::REPLAY_DETECT.0
        | IscReq::SEQUENCE_DETECT.0
        | IscReq::CONFIDENTIALITY.0
        | IscReq::INTEGRITY.0
        | IscReq::CONNECTION.0,
);

impl KerberosContext {
    /// A client context for `service`.
    pub fn client(
        shared: Arc<Shared>,
        client: Arc<ClientState>,
        service: Principal,
        req: IscReq,
    ) -> Self {
        Self {
            shared,
            state: State::ClientStart(ClientStart {
                client,
                service,
                req,
            }),
        }
    }

    /// A server context.
    pub fn server(shared: Arc<Shared>, server: Arc<ServerState>, _req: AscReq) -> Self {
        Self {
            shared,
            state: State::ServerStart(ServerStart { server }),
        }
    }

    fn established(&mut self) -> Result<&mut Established, SecurityStatus> {
        match &mut self.state {
            State::Established(e) => Ok(e),
            _ => Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE),
        }
    }

    fn established_ref(&self) -> SecurityResult<&Established> {
        match &self.state {
            State::Established(e) => Ok(e),
            _ => Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_HANDLE,
                "the context is not complete yet",
            )),
        }
    }

    fn client_leg(
        &mut self,
        input: &mut [SecBuffer<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> SecurityResult<HandshakeStep> {
        let state = std::mem::replace(&mut self.state, State::Failed);
        let (next, token, status) = match state {
            State::ClientStart(start) => {
                let bindings = channel_bindings(input)?;
                send_ap_req(&self.shared, start, bindings)?
            }
            State::AwaitApRep(wait) => {
                let received = input_token(input)?;
                let established = receive_ap_rep(*wait, received)?;
                (
                    State::Established(Box::new(established)),
                    None,
                    SecurityStatus::SEC_E_OK,
                )
            }
            State::ServerStart(_) => {
                return Err(SecurityError::new(
                    SecurityStatus::SEC_E_INVALID_HANDLE,
                    "InitializeSecurityContext was called with a server context",
                ));
            }
            State::Established(e) => {
                self.state = State::Established(e);
                return Err(SecurityError::out_of_sequence(
                    "the context is already complete",
                ));
            }
            State::Failed => {
                return Err(SecurityError::out_of_sequence(
                    "an earlier leg of this context failed; delete it and start again",
                ));
            }
        };
        write_output(output, token.as_deref())?;
        self.state = next;
        Ok(HandshakeStep {
            status,
            attributes: self.flags(),
            expiry: self.expiry(),
        })
    }

    fn server_leg(
        &mut self,
        input: &mut [SecBuffer<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> SecurityResult<HandshakeStep> {
        let state = std::mem::replace(&mut self.state, State::Failed);
        let start = match state {
            State::ServerStart(start) => start,
            State::Established(e) => {
                self.state = State::Established(e);
                return Err(SecurityError::out_of_sequence(
                    "the context is already complete",
                ));
            }
            State::Failed => {
                return Err(SecurityError::out_of_sequence(
                    "an earlier leg of this context failed; delete it and start again",
                ));
            }
            _ => {
                return Err(SecurityError::new(
                    SecurityStatus::SEC_E_INVALID_HANDLE,
                    "AcceptSecurityContext was called with a client context",
                ));
            }
        };
        let bindings = channel_bindings(input)?;
        let received = input_token(input)?;
        let (established, token) = accept_ap_req(&self.shared, &start.server, received, bindings)?;
        write_output(output, token.as_deref())?;
        self.state = State::Established(Box::new(established));
        Ok(HandshakeStep {
            status: SecurityStatus::SEC_E_OK,
            attributes: self.flags(),
            expiry: self.expiry(),
        })
    }

    fn expiry(&self) -> TimeStamp {
        match &self.state {
            State::Established(e) => e.expiry,
            _ => TimeStamp::NEVER,
        }
    }
}

fn input_token<'b>(input: &'b [SecBuffer<'_>]) -> SecurityResult<&'b [u8]> {
    input
        .find(SecBufferType::TOKEN)
        .map(SecBuffer::as_slice)
        .ok_or_else(|| {
            SecurityError::invalid_token(
                "expected the peer's token in a SECBUFFER_TOKEN input buffer",
            )
        })
}

/// The MD5 of the application's SECBUFFER_CHANNEL_BINDINGS, if it gave one.
fn channel_bindings(input: &[SecBuffer<'_>]) -> SecurityResult<Option<[u8; 16]>> {
    input
        .find(SecBufferType::CHANNEL_BINDINGS)
        .map(|b| sspi_core::channel_bindings_hash(b.as_slice()))
        .transpose()
}

fn write_output(output: &mut [SecBuffer<'_>], token: Option<&[u8]>) -> SecurityResult<()> {
    let out = output.output_token_mut()?;
    let token = token.unwrap_or_default();
    if out.len() < token.len() {
        return Err(SecurityError::new(
            SecurityStatus::SEC_E_BUFFER_TOO_SMALL,
            format!(
                "the output TOKEN buffer has {} bytes; the token needs {}",
                out.len(),
                token.len()
            ),
        ));
    }
    out.as_mut_slice()[..token.len()].copy_from_slice(token);
    out.truncate(token.len());
    Ok(())
}

fn internal(e: impl std::fmt::Display) -> SecurityError {
    SecurityError::internal(e.to_string())
}

/// ISC#1: tickets from the KDC (or the cache), then the AP-REQ.
fn send_ap_req(
    shared: &Shared,
    start: ClientStart,
    bindings: Option<[u8; 16]>,
) -> SecurityResult<(State, Option<Vec<u8>>, SecurityStatus)> {
    let config = &shared.config;
    let ticket = start.client.service_ticket(config, &start.service)?;
    let req = start.req;
    let mutual = req.contains(IscReq::MUTUAL_AUTH);
    let subkey = Key::random(ticket.session_key.etype()).map_err(internal)?;
    let sequence = random_u32().map_err(internal)? & 0x3fff_ffff;
    let time = KrbTime::now();
    let checksum = gss::checksum_8003(gss::flags_from_isc(req), bindings.unwrap_or([0; 16]));
    let spec = AuthenticatorSpec {
        client: &ticket.client,
        checksum: Some((gss::CHECKSUM_8003, checksum)),
        subkey: Some(&subkey),
        seq: Some(sequence),
        time,
    };
    let options = if mutual {
        crate::messages::AP_OPTION_MUTUAL_REQUIRED
    } else {
        0
    };
    let ap_req = ap::ap_req(
        &ticket.ticket,
        &ticket.session_key,
        USAGE_AP_REQ_AUTHENTICATOR,
        options,
        &spec,
    )
    .map_err(internal)?;
    let token = gss::frame(gss::TOK_AP_REQ, ap_req).map_err(internal)?;
    let wait = AwaitApRep {
        ticket,
        subkey,
        time,
        sequence,
        req,
    };
    if mutual {
        Ok((
            State::AwaitApRep(Box::new(wait)),
            Some(token),
            SecurityStatus::SEC_I_CONTINUE_NEEDED,
        ))
    } else {
        let established = client_established(wait, None, None)?;
        Ok((
            State::Established(Box::new(established)),
            Some(token),
            SecurityStatus::SEC_E_OK,
        ))
    }
}

fn client_established(
    wait: AwaitApRep,
    acceptor_subkey: Option<Key>,
    acceptor_sequence: Option<u32>,
) -> SecurityResult<Established> {
    let mutual = acceptor_sequence.is_some() || acceptor_subkey.is_some();
    let (key, is_acceptor_subkey) = match acceptor_subkey {
        Some(k) => (k, true),
        None => (wait.subkey, false),
    };
    let req = wait.req;
    let expiry = KrbTime::from_secs(wait.ticket.end_time).to_timestamp();
    let protection = Protection::new(&ProtectionParams {
        key: &key,
        acceptor: false,
        acceptor_subkey: is_acceptor_subkey,
        send_sequence: wait.sequence,
        receive_sequence: acceptor_sequence.unwrap_or(wait.sequence),
        confidentiality: req.contains(IscReq::CONFIDENTIALITY),
        expiry,
    })
    .map_err(internal)?;
    let mut ret = IscRet(req.intersection(SUPPORTED).0 & !IscReq::MUTUAL_AUTH.0);
    if mutual || req.contains(IscReq::MUTUAL_AUTH) {
        ret |= IscRet::MUTUAL_AUTH;
    }
    if req.contains(IscReq::CONFIDENTIALITY) {
        ret |= IscRet::INTEGRITY;
    }
    Ok(Established {
        protection,
        client_name: wait.ticket.client.to_string(),
        attributes: ret.0,
        start: KrbTime::now().to_timestamp(),
        expiry,
        key,
    })
}

/// ISC#2: the AP-REP proves the server; take its subkey and sequence number.
fn receive_ap_rep(wait: AwaitApRep, token: &[u8]) -> SecurityResult<Established> {
    let rep: ApRep = match gss::unframe::<ApRep>(token, gss::TOK_AP_REP)
        .map_err(SecurityError::invalid_token)?
    {
        Received::Message(m) => m,
        Received::Error(der) => {
            let error = KdcError::parse(&der).ok_or_else(|| {
                SecurityError::invalid_token("malformed KRB-ERROR token from the server")
            })?;
            return Err(SecurityError::new(
                krb_error::status(error.code),
                format!(
                    "the server refused the authentication: {}",
                    error.describe()
                ),
            ));
        }
    };
    let plain = wait
        .ticket
        .session_key
        .decrypt_data(USAGE_AP_REP, &rep.0.enc_part.0)
        .map_err(|_| {
            SecurityError::new(
                SecurityStatus::SEC_E_MUTUAL_AUTH_FAILED,
                format!("the AP-REP does not decrypt with the session key of {}: the server is not who it claims", wait.ticket.server),
            )
        })?;
    let part: EncApRepPart = crate::messages::decode(&plain)
        .map_err(|_| SecurityError::invalid_token("the AP-REP's encrypted part is malformed"))?;
    let part = part.0;
    let echoed = KrbTime {
        secs: from_kerberos_time(&part.ctime.0),
        usec: microseconds(&part.cusec.0),
    };
    if echoed != wait.time {
        return Err(SecurityError::new(
            SecurityStatus::SEC_E_MUTUAL_AUTH_FAILED,
            "the AP-REP does not echo the authenticator's time (KRB_AP_ERR_MUT_FAIL)",
        ));
    }
    let subkey = match part.subkey.0.as_ref() {
        Some(k) => Some(
            Key::from_asn1(&k.0)
                .map_err(|e| SecurityError::invalid_token(format!("the acceptor's subkey: {e}")))?,
        ),
        None => None,
    };
    let sequence = part.seq_number.0.as_ref().and_then(|s| u32_value(&s.0));
    client_established(wait, subkey, Some(sequence.unwrap_or(0)))
}

/// ASC#1: check the AP-REQ, answer with an AP-REP when mutual authentication was asked.
fn accept_ap_req(
    shared: &Shared,
    server: &ServerState,
    token: &[u8],
    bindings: Option<[u8; 16]>,
) -> SecurityResult<(Established, Option<Vec<u8>>)> {
    let ap_req: ApReq = if token.first() == Some(&0x6e) {
        crate::messages::decode(token)
            .map_err(|_| SecurityError::invalid_token("malformed AP-REQ"))?
    } else {
        match gss::unframe::<ApReq>(token, gss::TOK_AP_REQ).map_err(SecurityError::invalid_token)? {
            Received::Message(m) => m,
            Received::Error(_) => {
                return Err(SecurityError::invalid_token(
                    "expected an AP-REQ, got a KRB-ERROR token",
                ));
            }
        }
    };
    let keys = AcceptorKeys {
        keytab: &server.keytab,
        service: server.service.as_ref(),
        skew: shared.config.skew_secs(),
        replay: &shared.replay,
        channel_bindings: bindings,
        require_channel_bindings: shared.config.require_channel_bindings,
    };
    let accepted: Accepted = acceptor::verify(&ap_req, &keys)?;
    tracing::debug!(client = %accepted.client, service = %accepted.server, "accepted an AP-REQ");
    let expiry = KrbTime::from_secs(accepted.end_time).to_timestamp();
    let flags = accepted.gss_flags;
    let mut isc = IscRet::CONNECTION;
    for (gss_flag, ret) in [
        (gss::GSS_REPLAY, IscRet::REPLAY_DETECT),
        (gss::GSS_SEQUENCE, IscRet::SEQUENCE_DETECT),
        (gss::GSS_CONF, IscRet::CONFIDENTIALITY),
        (gss::GSS_INTEG, IscRet::INTEGRITY),
    ] {
        if flags & gss_flag != 0 {
            isc |= ret;
        }
    }
    let confidentiality = flags & gss::GSS_CONF != 0;
    let base_key = accepted
        .initiator_subkey
        .clone()
        .unwrap_or_else(|| accepted.session_key.clone());
    let (key, acceptor_subkey, send_sequence, token) = if accepted.mutual {
        isc |= IscRet::MUTUAL_AUTH;
        let subkey = Key::random(base_key.etype()).map_err(internal)?;
        let sequence = random_u32().map_err(internal)? & 0x3fff_ffff;
        let rep = ap::ap_rep(
            &accepted.session_key,
            accepted.time,
            Some(&subkey),
            Some(sequence),
        )
        .map_err(internal)?;
        let token = gss::frame(gss::TOK_AP_REP, rep).map_err(internal)?;
        (subkey, true, sequence, Some(token))
    } else {
        (base_key, false, accepted.sequence, None)
    };
    let protection = Protection::new(&ProtectionParams {
        key: &key,
        acceptor: true,
        acceptor_subkey,
        send_sequence,
        receive_sequence: accepted.sequence,
        confidentiality,
        expiry,
    })
    .map_err(internal)?;
    Ok((
        Established {
            protection,
            client_name: accepted.client.to_string(),
            attributes: AscRet::from_isc_ret(isc).0,
            start: KrbTime::now().to_timestamp(),
            expiry,
            key,
        },
        token,
    ))
}

impl SecurityContext for KerberosContext {
    fn initialize_security_context(
        &mut self,
        input: &mut [SecBuffer<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> SecurityResult<HandshakeStep> {
        self.client_leg(input, output)
    }

    fn accept_security_context(
        &mut self,
        input: &mut [SecBuffer<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> SecurityResult<HandshakeStep> {
        self.server_leg(input, output)
    }

    fn sizes(&self) -> SecurityResult<ContextSizes> {
        Ok(ContextSizes {
            max_token: MAX_TOKEN,
            max_signature: MIC_LEN as u32,
            block_size: 1,
            security_trailer: WRAP_TRAILER_LEN as u32,
        })
    }

    fn names(&self) -> SecurityResult<String> {
        Ok(self.established_ref()?.client_name.clone())
    }

    fn lifespan(&self) -> SecurityResult<Lifespan> {
        let e = self.established_ref()?;
        Ok(Lifespan {
            start: e.start,
            expiry: e.expiry,
        })
    }

    fn session_key(&self) -> SecurityResult<SecretBytes> {
        Ok(SecretBytes::new(
            self.established_ref()?.key.bytes().to_vec(),
        ))
    }

    fn flags(&self) -> u32 {
        match &self.state {
            State::Established(e) => e.attributes,
            _ => 0,
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
