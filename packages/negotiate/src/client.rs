//! The client's side of SPNEGO: NegTokenInit with an optimistic token, then
//! the chosen package's legs and the mechListMIC exchange.

use crate::established::NegotiateEstablishedContext;
use crate::mechanism::{MechContext, MicExchange};
use crate::oid::{MechFamily, Oid, family};
use crate::package::{CredentialSet, MechCredentials};
use crate::token::{self, NegState, NegTokenResp};
use sspi_core::NegotiationState;
use sspi_core::prelude::*;
use std::sync::Arc;

/// What every state of a client handshake carries.
struct ClientShared {
    credentials: Arc<CredentialSet>,
    target: Option<String>,
    req: IscReq,
    /// The DER MechTypeList sent in NegTokenInit: what the mechListMIC covers.
    mech_types_der: Vec<u8>,
    /// The mechanisms offered, in order.
    offered: Vec<MechFamily>,
    /// The packages given up before the chosen one, and why.
    fallback: Vec<String>,
    mic: MicExchange,
}

enum ClientPhase {
    /// Nothing sent yet.
    Start,
    /// NegTokenInit sent with the optimistic token of `optimistic`.
    AwaitFirstReply { optimistic: MechContext },
    /// The chosen package is running.
    Mechanism { mech: MechContext },
}

/// A Negotiate client handshake (InitializeSecurityContext).
pub struct NegotiateClientHandshake {
    shared: ClientShared,
    phase: ClientPhase,
}

impl NegotiateClientHandshake {
    pub(crate) fn new(
        credentials: Arc<CredentialSet>,
        target: Option<String>,
        req: IscReq,
    ) -> Self {
        Self {
            shared: ClientShared {
                credentials,
                target,
                req,
                mech_types_der: Vec::new(),
                offered: Vec::new(),
                fallback: Vec::new(),
                mic: MicExchange::default(),
            },
            phase: ClientPhase::Start,
        }
    }

    fn first_leg(
        mut self,
        input: &LegInput<'_>,
    ) -> SecurityResult<Step<Self, NegotiateEstablishedContext>> {
        let shared = &mut self.shared;
        let bindings = input.channel_bindings();
        let credentials = Arc::clone(&shared.credentials);
        let mut chosen: Option<(usize, MechContext, Vec<u8>)> = None;
        let mut first_failure: Option<SecurityError> = None;
        let mut left_out = credentials.left_out.iter().peekable();
        for (index, candidate) in credentials.mechanisms.iter().enumerate() {
            // Packages before this one that gave no credentials were given up already.
            while let Some(refused) = left_out.next_if(|r| r.position < candidate.position) {
                shared.fallback.push(refused.reason.clone());
            }
            if candidate.mechanism.family == MechFamily::Ntlm
                && !shared.fallback.is_empty()
                && !credentials.config.allow_ntlm_fallback
            {
                return Err(SecurityError::new(
                    SecurityStatus::SEC_E_NO_AUTHENTICATING_AUTHORITY,
                    format!(
                        "Negotiate: {}; falling back to NTLM is not allowed (AllowNtlmFallback is 0)",
                        shared.fallback.join("; ")
                    ),
                ));
            }
            match start(candidate, shared.target.as_deref(), shared.req, bindings) {
                Ok((mech, token)) => {
                    chosen = Some((index, mech, token));
                    break;
                }
                Err(error) => {
                    tracing::info!(
                        package = %candidate.mechanism.package.name(),
                        %error,
                        "Negotiate: this package cannot start; trying the next"
                    );
                    shared
                        .fallback
                        .push(format!("{}: {error}", candidate.mechanism.package.name()));
                    first_failure.get_or_insert(error);
                }
            }
        }
        let Some((index, optimistic, token)) = chosen else {
            let failure = first_failure.expect("credentials hold at least one package");
            return Err(SecurityError::new(
                failure.status(),
                format!(
                    "Negotiate: no package could start ({})",
                    shared.fallback.join("; ")
                ),
            ));
        };
        if !shared.fallback.is_empty() {
            tracing::info!(
                package = %optimistic.name(),
                fallback = %shared.fallback.join("; "),
                "Negotiate: fell back"
            );
        }
        // The failed packages are left out of the list, which the MIC then
        // covers as sent.
        shared.offered = credentials.mechanisms[index..]
            .iter()
            .map(|m| m.mechanism.family)
            .collect();
        let oids: Vec<Oid> = shared
            .offered
            .iter()
            .flat_map(|f| f.oids().iter().cloned())
            .collect();
        shared.mech_types_der = token::encode_mech_type_list(&oids);
        shared.mic.required = credentials.config.require_mech_list_mic;
        let init = token::encode_init(&shared.mech_types_der, Some(&token), None);
        self.phase = ClientPhase::AwaitFirstReply { optimistic };
        Ok(Step::continue_with(self, init))
    }

    fn first_reply(
        mut self,
        optimistic: MechContext,
        reply: NegTokenResp,
        input: &LegInput<'_>,
    ) -> SecurityResult<Step<Self, NegotiateEstablishedContext>> {
        let chosen = match &reply.supported_mech {
            Some(oid) => family(oid).filter(|f| self.shared.offered.contains(f)).ok_or_else(|| {
                SecurityError::invalid_token(format!(
                    "Negotiate: the server chose mechanism {oid}, which the client did not offer"
                ))
            })?,
            // Some acceptors leave it out when they take the optimistic mechanism.
            None => optimistic.mechanism.family,
        };
        if reply.neg_state == Some(NegState::RequestMic) {
            self.shared.mic.required = true;
        }
        if chosen == optimistic.mechanism.family {
            return self.reply(optimistic, reply, input);
        }
        // A counter-proposal: the optimistic token is void; start the chosen
        // package afresh. The MIC exchange is now mandatory.
        if reply.neg_state == Some(NegState::Reject) {
            return Err(rejected(&self.shared.offered));
        }
        self.shared.mic.required = true;
        let credentials = Arc::clone(&self.shared.credentials);
        let candidate = credentials
            .find(chosen)
            .expect("the offered mechanisms all have credentials");
        let (mech, token) = start(
            candidate,
            self.shared.target.as_deref(),
            self.shared.req,
            input.channel_bindings(),
        )
        .map_err(|e| e.context(format_args!("Negotiate: {}", chosen.package_name())))?;
        tracing::info!(package = %mech.name(), "Negotiate: the server chose another package");
        let resp = resp_with(token, None, NegState::AcceptIncomplete);
        self.phase = ClientPhase::Mechanism { mech };
        Ok(Step::continue_with(self, resp))
    }

    /// A reply for the running package `mech`.
    fn reply(
        mut self,
        mut mech: MechContext,
        reply: NegTokenResp,
        input: &LegInput<'_>,
    ) -> SecurityResult<Step<Self, NegotiateEstablishedContext>> {
        let bindings = input.channel_bindings();
        if reply.neg_state == Some(NegState::Reject) {
            // A mechanism error token explains it better, when there is one.
            if let (Some(token), false) = (&reply.response_token, mech.complete) {
                mech.initialize(Some(token), bindings)
                    .map_err(|e| mech.named(e))?;
            }
            return Err(rejected(&self.shared.offered));
        }
        let mut out = Vec::new();
        if let Some(token) = &reply.response_token {
            if mech.complete {
                return Err(SecurityError::invalid_token(
                    "Negotiate: the server sent a mechanism token after the mechanism completed",
                ));
            }
            out = mech
                .initialize(Some(token), bindings)
                .map_err(|e| mech.named(e))?;
        }
        let shared = &mut self.shared;
        if let Some(mic) = reply.mech_list_mic_ignoring_duplicate() {
            if !mech.complete || shared.mic.received {
                return Err(SecurityError::invalid_token(
                    "Negotiate: the server sent a mechListMIC before the mechanism completed, or a second one",
                ));
            }
            mech.verify_mech_list(&shared.mech_types_der, mic)?;
            shared.mic.received = true;
            shared.mic.required = true;
        }
        if !mech.complete {
            if out.is_empty() {
                return Err(SecurityError::invalid_token(format!(
                    "Negotiate: {} needs another token but the server sent none",
                    mech.name()
                )));
            }
            let resp = resp_with(out, None, NegState::AcceptIncomplete);
            self.phase = ClientPhase::Mechanism { mech };
            return Ok(Step::continue_with(self, resp));
        }
        if mech.requires_mech_list_mic()? {
            shared.mic.required = true;
        }
        if shared.mic.required
            && !shared.mic.received
            && reply.neg_state == Some(NegState::AcceptCompleted)
        {
            return Err(SecurityError::invalid_token(
                "Negotiate: the server completed without the mechListMIC this negotiation requires (the mechanism list may have been altered: a downgrade)",
            ));
        }
        let mut mic = None;
        if shared.mic.required && !shared.mic.sent {
            mic = Some(mech.sign_mech_list(&shared.mech_types_der)?);
            shared.mic.sent = true;
        }
        if shared.mic.settled() {
            let token = if out.is_empty() && mic.is_none() {
                Vec::new()
            } else {
                resp_with(out, mic, NegState::AcceptCompleted)
            };
            return self.establish(mech, token);
        }
        // Our MIC is sent (now or before); the server's is still to come.
        if mic.is_none() && out.is_empty() {
            return Err(SecurityError::invalid_token(
                "Negotiate: the server's reply carries neither its mechListMIC nor anything for the client to answer",
            ));
        }
        let resp = resp_with(out, mic, NegState::AcceptIncomplete);
        self.phase = ClientPhase::Mechanism { mech };
        Ok(Step::continue_with(self, resp))
    }

    fn establish(
        self,
        mech: MechContext,
        token: Vec<u8>,
    ) -> SecurityResult<Step<Self, NegotiateEstablishedContext>> {
        let established = NegotiateEstablishedContext::new(
            mech,
            NegotiationState::Complete,
            &self.shared.fallback,
            self.shared.credentials.config,
        )?;
        Ok(Step::done(established, token))
    }
}

/// Starts `candidate`'s context and makes its first token.
fn start(
    candidate: &MechCredentials,
    target: Option<&str>,
    req: IscReq,
    bindings: Option<&[u8]>,
) -> SecurityResult<(MechContext, Vec<u8>)> {
    let context = candidate.credentials.new_client_context(target, req)?;
    let mut mech = MechContext::new(candidate.mechanism.clone(), context);
    let token = mech.initialize(None, bindings)?;
    if token.is_empty() {
        return Err(SecurityError::internal(format!(
            "Negotiate: {} made no first token",
            mech.name()
        )));
    }
    Ok((mech, token))
}

/// The client's NegTokenResp. RFC 4178 leaves its negState optional; Windows,
/// MIT and pyspnego all send one (accept-incomplete while the client goes
/// on), and some acceptors (sspi-rs over picky) cannot read a NegTokenResp
/// without it.
fn resp_with(token: Vec<u8>, mic: Option<Vec<u8>>, state: NegState) -> Vec<u8> {
    token::encode_resp(&NegTokenResp {
        neg_state: Some(state),
        supported_mech: None,
        response_token: (!token.is_empty()).then_some(token),
        mech_list_mic: mic,
    })
}

fn rejected(offered: &[MechFamily]) -> SecurityError {
    SecurityError::new(
        SecurityStatus::SEC_E_LOGON_DENIED,
        format!(
            "Negotiate: the server rejected the negotiation (offered: {})",
            offered
                .iter()
                .map(|f| f.package_name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

fn malformed(error: token::TokenError) -> SecurityError {
    SecurityError::invalid_token(format!("malformed SPNEGO token: {error}"))
}

impl ClientHandshake for NegotiateClientHandshake {
    type Established = NegotiateEstablishedContext;

    fn initialize(mut self, input: LegInput<'_>) -> SecurityResult<Step<Self, Self::Established>> {
        match std::mem::replace(&mut self.phase, ClientPhase::Start) {
            ClientPhase::Start => self.first_leg(&input),
            ClientPhase::AwaitFirstReply { optimistic } => {
                let reply = token::decode_resp(input.require_token()?).map_err(malformed)?;
                self.first_reply(optimistic, reply, &input)
            }
            ClientPhase::Mechanism { mech } => {
                let reply = token::decode_resp(input.require_token()?).map_err(malformed)?;
                self.reply(mech, reply, &input)
            }
        }
    }

    fn flags(&self) -> IscRet {
        match &self.phase {
            ClientPhase::Start => IscRet::NONE,
            ClientPhase::AwaitFirstReply { optimistic: mech } | ClientPhase::Mechanism { mech } => {
                mech.flags
            }
        }
    }
}
