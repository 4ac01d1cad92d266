//! The server's side of SPNEGO: choosing a package from the client's
//! NegTokenInit, its legs and the mechListMIC exchange; raw NTLM and
//! Kerberos tokens are passed straight to their package, as Windows does.

use crate::established::NegotiateEstablishedContext;
use crate::mechanism::{MechContext, MicExchange};
use crate::oid::{MechFamily, Oid, family};
use crate::package::CredentialSet;
use crate::token::{self, IncomingToken, NegState, NegTokenInit, NegTokenResp, NegotiationToken};
use sspi_core::NegotiationState;
use sspi_core::prelude::*;
use std::sync::Arc;

enum ServerPhase {
    /// Nothing received yet.
    Start,
    /// The client spoke the package's own protocol: every token passes through.
    Direct { mech: MechContext },
    /// SPNEGO, with the chosen package running (or about to start: no token yet).
    Mechanism { mech: MechContext },
}

/// A Negotiate server handshake (AcceptSecurityContext).
pub struct NegotiateServerHandshake {
    credentials: Arc<CredentialSet>,
    req: AscReq,
    mech_types_der: Vec<u8>,
    mic: MicExchange,
    phase: ServerPhase,
}

impl NegotiateServerHandshake {
    pub(crate) fn new(credentials: Arc<CredentialSet>, req: AscReq) -> Self {
        Self {
            credentials,
            req,
            mech_types_der: Vec::new(),
            mic: MicExchange::default(),
            phase: ServerPhase::Start,
        }
    }

    fn mech_for(&self, family: MechFamily) -> SecurityResult<MechContext> {
        let candidate = self.credentials.find(family).ok_or_else(|| {
            SecurityError::new(
                SecurityStatus::SEC_E_NO_CREDENTIALS,
                format!(
                    "Negotiate: the client speaks {}, for which this server has no credentials",
                    family.package_name()
                ),
            )
        })?;
        let context = candidate.credentials.new_server_context(self.req)?;
        Ok(MechContext::new(candidate.mechanism.clone(), context))
    }

    fn direct(
        mut self,
        family: MechFamily,
        raw: &[u8],
        input: &LegInput<'_>,
    ) -> SecurityResult<Step<Self, NegotiateEstablishedContext>> {
        let mut mech = self.mech_for(family)?;
        tracing::debug!(package = %mech.name(), "Negotiate: the client sent a raw token; passing it through");
        let out = mech
            .accept(raw, input.channel_bindings())
            .map_err(|e| mech.named(e))?;
        if mech.complete {
            let established = NegotiateEstablishedContext::new(
                mech,
                NegotiationState::Direct,
                &[],
                self.credentials.config,
            )?;
            return Ok(Step::done(established, out));
        }
        self.phase = ServerPhase::Direct { mech };
        Ok(Step::continue_with(self, out))
    }

    fn init(
        mut self,
        init: NegTokenInit,
        input: &LegInput<'_>,
    ) -> SecurityResult<Step<Self, NegotiateEstablishedContext>> {
        // The first mechanism of the client's list this server has credentials for.
        let Some((index, oid, chosen)) = init.mech_types.iter().enumerate().find_map(|(i, oid)| {
            family(oid)
                .filter(|f| self.credentials.find(*f).is_some())
                .map(|f| (i, oid.clone(), f))
        }) else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_SECPKG_NOT_FOUND,
                format!(
                    "Negotiate: the client offers no mechanism this server accepts (offered: {}; accepted: {})",
                    init.mech_types
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.credentials
                        .mechanisms
                        .iter()
                        .map(|m| m.mechanism.package.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        self.mech_types_der = init.mech_types_der;
        let clients_first = family(&init.mech_types[0]) == Some(chosen);
        let servers_first = self.credentials.mechanisms[0].mechanism.family == chosen;
        // RFC 4178 §5: optional only when the mechanism is both sides' first choice.
        self.mic.required =
            self.credentials.config.require_mech_list_mic || !(clients_first && servers_first);
        let mut mech = self.mech_for(chosen)?;
        let optimistic = if index == 0 { init.mech_token } else { None };
        let Some(token) = optimistic else {
            // The optimistic token (if any) was for another mechanism: it is
            // discarded; the client starts `chosen` in its next token.
            let reply = NegTokenResp {
                neg_state: Some(if self.mic.required {
                    NegState::RequestMic
                } else {
                    NegState::AcceptIncomplete
                }),
                supported_mech: Some(oid),
                response_token: None,
                mech_list_mic: None,
            };
            self.phase = ServerPhase::Mechanism { mech };
            return Ok(Step::continue_with(self, token::encode_resp(&reply)));
        };
        let out = mech
            .accept(&token, input.channel_bindings())
            .map_err(|e| mech.named(e))?;
        self.respond(mech, out, Some(oid), None)
    }

    fn reply(
        self,
        mut mech: MechContext,
        reply: NegTokenResp,
        input: &LegInput<'_>,
    ) -> SecurityResult<Step<Self, NegotiateEstablishedContext>> {
        let mut out = Vec::new();
        if let Some(token) = &reply.response_token {
            if mech.complete {
                return Err(SecurityError::invalid_token(
                    "Negotiate: the client sent a mechanism token after the mechanism completed",
                ));
            }
            out = mech
                .accept(token, input.channel_bindings())
                .map_err(|e| mech.named(e))?;
        } else if !mech.complete && reply.mech_list_mic.is_none() {
            return Err(SecurityError::invalid_token(
                "Negotiate: the client's NegTokenResp carries neither a mechanism token nor a mechListMIC",
            ));
        }
        self.respond(mech, out, None, reply.mech_list_mic_ignoring_duplicate())
    }

    /// Answers after the package's leg: its token, the MICs, the state.
    /// `supported` is set on the first reply only.
    fn respond(
        mut self,
        mut mech: MechContext,
        out: Vec<u8>,
        supported: Option<Oid>,
        peer_mic: Option<&[u8]>,
    ) -> SecurityResult<Step<Self, NegotiateEstablishedContext>> {
        if let Some(mic) = peer_mic {
            if !mech.complete || self.mic.received {
                return Err(SecurityError::invalid_token(
                    "Negotiate: the client sent a mechListMIC before the mechanism completed, or a second one",
                ));
            }
            mech.verify_mech_list(&self.mech_types_der, mic)?;
            self.mic.received = true;
            self.mic.required = true;
        }
        let first = supported.is_some();
        let token = (!out.is_empty()).then_some(out);
        if !mech.complete {
            let reply = NegTokenResp {
                neg_state: Some(if first && self.mic.required {
                    NegState::RequestMic
                } else {
                    NegState::AcceptIncomplete
                }),
                supported_mech: supported,
                response_token: token,
                mech_list_mic: None,
            };
            self.phase = ServerPhase::Mechanism { mech };
            return Ok(Step::continue_with(self, token::encode_resp(&reply)));
        }
        if mech.requires_mech_list_mic()? {
            self.mic.required = true;
        }
        if self.mic.sent && !self.mic.received {
            return Err(SecurityError::invalid_token(
                "Negotiate: the client did not send the mechListMIC this negotiation requires (the mechanism list may have been altered: a downgrade)",
            ));
        }
        let mut mic = None;
        if self.mic.required && !self.mic.sent {
            mic = Some(mech.sign_mech_list(&self.mech_types_der)?);
            self.mic.sent = true;
        }
        if self.mic.settled() {
            let reply = if token.is_none() && mic.is_none() && !first {
                // The client's MIC was the last word: nothing more to say.
                Vec::new()
            } else {
                token::encode_resp(&NegTokenResp {
                    neg_state: Some(NegState::AcceptCompleted),
                    supported_mech: supported,
                    response_token: token,
                    mech_list_mic: mic,
                })
            };
            let established = NegotiateEstablishedContext::new(
                mech,
                NegotiationState::Complete,
                &[],
                self.credentials.config,
            )?;
            return Ok(Step::done(established, reply));
        }
        // Our MIC goes out; the client's is still to come.
        let reply = NegTokenResp {
            neg_state: Some(NegState::AcceptIncomplete),
            supported_mech: supported,
            response_token: token,
            mech_list_mic: mic,
        };
        self.phase = ServerPhase::Mechanism { mech };
        Ok(Step::continue_with(self, token::encode_resp(&reply)))
    }
}

fn malformed(error: token::TokenError) -> SecurityError {
    SecurityError::invalid_token(format!("malformed SPNEGO token: {error}"))
}

impl ServerHandshake for NegotiateServerHandshake {
    type Established = NegotiateEstablishedContext;

    fn accept(mut self, input: LegInput<'_>) -> SecurityResult<Step<Self, Self::Established>> {
        let token = input.require_token()?;
        match std::mem::replace(&mut self.phase, ServerPhase::Start) {
            ServerPhase::Start => match token::classify(token).map_err(malformed)? {
                IncomingToken::RawNtlm(raw) => self.direct(MechFamily::Ntlm, raw, &input),
                IncomingToken::RawKerberos(raw) => self.direct(MechFamily::Kerberos, raw, &input),
                IncomingToken::Spnego(NegotiationToken::Init(init)) => self.init(init, &input),
                IncomingToken::Spnego(NegotiationToken::Resp(_)) => {
                    Err(SecurityError::invalid_token(
                        "Negotiate: the first token is a NegTokenResp; a client starts with NegTokenInit",
                    ))
                }
            },
            ServerPhase::Direct { mut mech } => {
                let out = mech
                    .accept(token, input.channel_bindings())
                    .map_err(|e| mech.named(e))?;
                if mech.complete {
                    let established = NegotiateEstablishedContext::new(
                        mech,
                        NegotiationState::Direct,
                        &[],
                        self.credentials.config,
                    )?;
                    return Ok(Step::done(established, out));
                }
                self.phase = ServerPhase::Direct { mech };
                Ok(Step::continue_with(self, out))
            }
            ServerPhase::Mechanism { mech } => {
                let reply = token::decode_resp(token).map_err(malformed)?;
                self.reply(mech, reply, &input)
            }
        }
    }

    fn flags(&self) -> IscRet {
        match &self.phase {
            ServerPhase::Start => IscRet::NONE,
            ServerPhase::Direct { mech } | ServerPhase::Mechanism { mech } => mech.flags,
        }
    }
}
