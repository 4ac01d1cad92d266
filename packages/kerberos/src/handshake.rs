//! The Kerberos handshake as the leg engine drives it: a client type and a
//! server type, each state consumed by its step.
//!
//! With `ISC_REQ_MUTUAL_AUTH`: ISC#1 sends the AP-REQ and continues
//! (SEC_I_CONTINUE_NEEDED); ASC#1 accepts it and is done with the AP-REP
//! (SEC_E_OK); ISC#2 checks the AP-REP and is done with no token. Without it,
//! ISC#1 is done with the AP-REQ and ASC#1 is done with no token.

use crate::acceptor::{self, AcceptorKeys};
use crate::ap::{self, AuthenticatorSpec, USAGE_AP_REP, USAGE_AP_REQ_AUTHENTICATOR};
use crate::client::ClientState;
use crate::crypto::{Key, random_u32};
use crate::established::KerberosEstablishedContext;
use crate::gss::{self, Received};
use crate::krb_error::{self, KdcError};
use crate::package::{ServerState, Shared};
use crate::principal::{Principal, u32_value};
use crate::protection::{PerMessageSetup, PerMessageTokens};
use crate::ticket::HeldTicket;
use crate::time::{KrbTime, from_kerberos_time, microseconds};
use picky_krb::data_types::EncApRepPart;
use picky_krb::messages::{ApRep, ApReq};
use sspi_core::{
    ClientHandshake, IscReq, IscRet, LegInput, SecurityError, SecurityResult, SecurityStatus,
    ServerHandshake, Step,
};
use std::sync::Arc;

/// A client's Kerberos handshake: before the AP-REQ, or waiting for the AP-REP.
pub struct KerberosClientHandshake(ClientLeg);

enum ClientLeg {
    /// Before ISC#1.
    SendApReq {
        shared: Arc<Shared>,
        client: Arc<ClientState>,
        service: Principal,
        req: IscReq,
    },
    /// After an AP-REQ that asked for mutual authentication.
    AwaitApRep(Box<AwaitApRep>),
}

/// What the client keeps between the AP-REQ and the AP-REP.
struct AwaitApRep {
    ticket: HeldTicket,
    subkey: Key,
    time: KrbTime,
    sequence: u32,
    req: IscReq,
    /// True when the AP-REQ carried a forwarded TGT.
    delegated: bool,
}

/// A server's Kerberos handshake: one leg, accepting the AP-REQ.
pub struct KerberosServerHandshake {
    shared: Arc<Shared>,
    server: Arc<ServerState>,
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

type ClientStep = Step<KerberosClientHandshake, KerberosEstablishedContext>;

impl KerberosClientHandshake {
    /// A client handshake for `service`, asking for `req`.
    pub(crate) fn new(
        shared: Arc<Shared>,
        client: Arc<ClientState>,
        service: Principal,
        req: IscReq,
    ) -> Self {
        Self(ClientLeg::SendApReq {
            shared,
            client,
            service,
            req,
        })
    }
}

impl ClientHandshake for KerberosClientHandshake {
    type Established = KerberosEstablishedContext;

    fn initialize(self, input: LegInput<'_>) -> SecurityResult<ClientStep> {
        match self.0 {
            ClientLeg::SendApReq {
                shared,
                client,
                service,
                req,
            } => send_ap_req(
                &shared,
                &client,
                &service,
                req,
                input.channel_bindings_hash()?,
            ),
            ClientLeg::AwaitApRep(wait) => {
                let established = receive_ap_rep(*wait, input.require_token()?)?;
                Ok(Step::done(established, Vec::new()))
            }
        }
    }
}

impl KerberosServerHandshake {
    /// A server handshake with the acceptor's keys.
    pub(crate) fn new(shared: Arc<Shared>, server: Arc<ServerState>) -> Self {
        Self { shared, server }
    }
}

impl ServerHandshake for KerberosServerHandshake {
    type Established = KerberosEstablishedContext;

    fn accept(self, input: LegInput<'_>) -> SecurityResult<Step<Self, KerberosEstablishedContext>> {
        let bindings = input.channel_bindings_hash()?;
        let token = input.require_token()?;
        match accept_ap_req(&self.shared, &self.server, token, bindings) {
            Ok((established, reply)) => Ok(Step::done(established, reply.unwrap_or_default())),
            // A KRB-ERROR token for the initiator (an extended error).
            Err(answer) if !answer.token.is_empty() => Ok(Step::fail(answer.error, answer.token)),
            Err(answer) => Err(answer.error),
        }
    }
}

fn internal(e: impl std::fmt::Display) -> SecurityError {
    SecurityError::internal(e.to_string())
}

/// ISC#1: tickets from the KDC (or the cache), then the AP-REQ.
fn send_ap_req(
    shared: &Shared,
    client: &ClientState,
    service: &Principal,
    req: IscReq,
    bindings: Option<[u8; 16]>,
) -> SecurityResult<ClientStep> {
    let ticket = client.service_ticket(&shared.config, service)?;
    let mutual = req.contains(IscReq::MUTUAL_AUTH);
    let subkey = Key::random(ticket.session_key.etype()).map_err(internal)?;
    let sequence = random_u32().map_err(internal)? & 0x3fff_ffff;
    let time = KrbTime::now();
    let delegation = if req.contains(IscReq::DELEGATE) {
        delegation(shared, client, &ticket)
    } else {
        None
    };
    let checksum = gss::checksum_8003(
        gss::flags_from_isc(req),
        bindings.unwrap_or([0; 16]),
        delegation.as_deref(),
    );
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
        delegated: delegation.is_some(),
    };
    if mutual {
        let next = KerberosClientHandshake(ClientLeg::AwaitApRep(Box::new(wait)));
        Ok(Step::continue_with(next, token))
    } else {
        Ok(Step::done(client_established(wait, None, None)?, token))
    }
}

/// The KRB-CRED of a forwarded TGT for ISC_REQ_DELEGATE, or `None` (logged)
/// when the client does not delegate to this service: its ticket lacks
/// ok-as-delegate (with `RequireOkAsDelegate`), the TGT is not forwardable,
/// or the KDC refused the forwarded TGT. The context is made either way,
/// without ISC_RET_DELEGATE when there is no delegation, as Windows does.
fn delegation(shared: &Shared, client: &ClientState, ticket: &HeldTicket) -> Option<Vec<u8>> {
    use crate::messages::ticket_flags::OK_AS_DELEGATE;
    if shared.config.require_ok_as_delegate && ticket.flags & OK_AS_DELEGATE == 0 {
        tracing::info!(
            service = %ticket.server,
            "not delegating: the service's ticket is not ok-as-delegate (RequireOkAsDelegate is 1)"
        );
        return None;
    }
    let built = client
        .forwarded_tgt(&shared.config)
        .and_then(|tgt| crate::delegation::krb_cred(&tgt, &ticket.session_key).map_err(internal));
    match built {
        Ok(krb_cred) => Some(krb_cred),
        Err(e) => {
            tracing::info!(service = %ticket.server, "not delegating: {e}");
            None
        }
    }
}

fn client_established(
    wait: AwaitApRep,
    acceptor_subkey: Option<Key>,
    acceptor_sequence: Option<u32>,
) -> SecurityResult<KerberosEstablishedContext> {
    let mutual = acceptor_sequence.is_some() || acceptor_subkey.is_some();
    let (key, is_acceptor_subkey) = match acceptor_subkey {
        Some(k) => (k, true),
        None => (wait.subkey, false),
    };
    let req = wait.req;
    let expiry = KrbTime::from_secs(wait.ticket.end_time).to_timestamp();
    let tokens = PerMessageTokens::new(&PerMessageSetup {
        key: &key,
        acceptor: false,
        acceptor_subkey: is_acceptor_subkey,
        send_sequence: wait.sequence,
        receive_sequence: acceptor_sequence.unwrap_or(wait.sequence),
        confidentiality: req.contains(IscReq::CONFIDENTIALITY),
    })
    .map_err(internal)?;
    let mut flags = IscRet(req.intersection(SUPPORTED).0 & !IscReq::MUTUAL_AUTH.0);
    if mutual || req.contains(IscReq::MUTUAL_AUTH) {
        flags |= IscRet::MUTUAL_AUTH;
    }
    if req.contains(IscReq::CONFIDENTIALITY) {
        flags |= IscRet::INTEGRITY;
    }
    if wait.delegated {
        flags |= IscRet::DELEGATE;
    }
    Ok(KerberosEstablishedContext::new(
        tokens,
        wait.ticket.client.to_string(),
        flags,
        expiry,
        key,
    ))
}

/// ISC#2: the AP-REP proves the server; take its subkey and sequence number.
fn receive_ap_rep(wait: AwaitApRep, token: &[u8]) -> SecurityResult<KerberosEstablishedContext> {
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
    shared: &Arc<Shared>,
    server: &ServerState,
    token: &[u8],
    bindings: Option<[u8; 16]>,
) -> Result<(KerberosEstablishedContext, Option<Vec<u8>>), acceptor::Answer> {
    let ap_req: ApReq = if token.first() == Some(&0x6e) {
        crate::messages::decode(token)
            .map_err(|_| SecurityError::invalid_token("malformed AP-REQ"))?
    } else {
        match gss::unframe::<ApReq>(token, gss::TOK_AP_REQ).map_err(SecurityError::invalid_token)? {
            Received::Message(m) => m,
            Received::Error(_) => {
                return Err(SecurityError::invalid_token(
                    "expected an AP-REQ, got a KRB-ERROR token",
                )
                .into());
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
    let accepted = acceptor::verify_answering(&ap_req, &keys)?;
    tracing::debug!(client = %accepted.client, service = %accepted.server, "accepted an AP-REQ");
    let expiry = KrbTime::from_secs(accepted.end_time).to_timestamp();
    let gss_flags = accepted.gss_flags;
    let mut flags = IscRet::CONNECTION;
    for (gss_flag, ret) in [
        (gss::GSS_REPLAY, IscRet::REPLAY_DETECT),
        (gss::GSS_SEQUENCE, IscRet::SEQUENCE_DETECT),
        (gss::GSS_CONF, IscRet::CONFIDENTIALITY),
        (gss::GSS_INTEG, IscRet::INTEGRITY),
        (gss::GSS_DELEG, IscRet::DELEGATE),
    ] {
        if gss_flags & gss_flag != 0 {
            flags |= ret;
        }
    }
    let confidentiality = gss_flags & gss::GSS_CONF != 0;
    let base_key = accepted
        .initiator_subkey
        .clone()
        .unwrap_or_else(|| accepted.session_key.clone());
    let (key, acceptor_subkey, send_sequence, token) = if accepted.mutual {
        flags |= IscRet::MUTUAL_AUTH;
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
    let tokens = PerMessageTokens::new(&PerMessageSetup {
        key: &key,
        acceptor: true,
        acceptor_subkey,
        send_sequence,
        receive_sequence: accepted.sequence,
        confidentiality,
    })
    .map_err(internal)?;
    let mut established =
        KerberosEstablishedContext::new(tokens, accepted.client.to_string(), flags, expiry, key);
    if let Some(tgt) = accepted.delegated {
        tracing::debug!(client = %tgt.client, end = tgt.end_time, "the client delegated its TGT");
        established =
            established.with_delegated(Arc::clone(shared), Arc::new(ClientState::delegated(tgt)));
    }
    Ok((established, token))
}
