//! The acceptor's checks of an AP-REQ (RFC 4120 3.2.3): the ticket decrypts
//! with the service key from the keytab, the authenticator with the ticket's
//! session key, names match, the ticket is valid now, the authenticator is
//! fresh (clock skew) and new (replay cache), then the GSS checksum's flags
//! and channel bindings; tickets with the `invalid` flag are refused.

use crate::ap::USAGE_AP_REQ_AUTHENTICATOR;
use crate::crypto::{Etype, Key};
use crate::gss;
use crate::keytab::Keytab;
use crate::krb_error;
use crate::principal::{Principal, int_value, u32_value};
use crate::replay::{ReplayCache, ReplayEntry, ReplayError};
use crate::ticket::HeldTicket;
use crate::time::{KrbTime, from_kerberos_time, microseconds};
use picky_krb::data_types::{Authenticator, EncTicketPart};
use picky_krb::messages::ApReq;
use sspi_core::{SecurityError, SecurityStatus};

/// Key usage of a ticket's encrypted part.
pub const USAGE_TICKET: i32 = 2;

/// The ticket flag `invalid` (RFC 4120 5.3, bit 7): a postdated ticket the
/// KDC has not validated yet. Application servers must refuse it.
pub const TICKET_FLAG_INVALID: u32 = crate::messages::ticket_flags::INVALID;

/// What an accepted AP-REQ established.
#[derive(Debug)]
pub struct Accepted {
    /// The authenticated client.
    pub client: Principal,
    /// The service the ticket was for.
    pub server: Principal,
    /// The ticket's session key.
    pub session_key: Key,
    /// The initiator's subkey, if it sent one.
    pub initiator_subkey: Option<Key>,
    /// The initiator's first sequence number (0 when absent).
    pub sequence: u32,
    /// The GSS flags the initiator asked for (0x8003 checksum), or just
    /// mutual authentication for a bare AP-REQ that asked for it.
    pub gss_flags: u32,
    /// True when an AP-REP must be sent.
    pub mutual: bool,
    /// The authenticator's time (echoed in the AP-REP).
    pub time: KrbTime,
    /// When the ticket expires (Unix seconds).
    pub end_time: i64,
    /// The TGT the initiator delegated (its GSS flags then have GSS_DELEG).
    pub delegated: Option<HeldTicket>,
}

fn refuse(status: SecurityStatus, message: String) -> SecurityError {
    SecurityError::new(status, message)
}

/// A refused AP-REQ: the SSPI status and reason, and the KRB-ERROR code an
/// error token for the initiator carries.
#[derive(Debug, Clone)]
pub struct Refused {
    /// The status and reason the acceptor's caller gets.
    pub error: SecurityError,
    /// The RFC 4120 error code (`krb_error::SKEW`, …).
    pub code: i64,
}

fn no(status: SecurityStatus, code: i64, message: impl Into<String>) -> Refused {
    Refused {
        error: SecurityError::new(status, message),
        code,
    }
}

fn malformed(message: impl Into<String>) -> Refused {
    no(
        SecurityStatus::SEC_E_INVALID_TOKEN,
        krb_error::GENERIC,
        message,
    )
}

/// A refused AP-REQ as the handshake sends it: the error, and the KRB-ERROR
/// token for the initiator (empty for none).
#[derive(Debug)]
pub struct Answer {
    /// The status and reason for the acceptor's caller.
    pub error: SecurityError,
    /// The GSS KRB-ERROR token for the initiator, or empty.
    pub token: Vec<u8>,
}

impl From<SecurityError> for Answer {
    fn from(error: SecurityError) -> Self {
        Answer {
            error,
            token: Vec::new(),
        }
    }
}

/// Checks an AP-REQ like [`verify`]; a refusal also carries an RFC 4121
/// KRB-ERROR token (TOK_ID 03 00) for the initiator, as MIT's acceptor sends
/// one: when the initiator asked for mutual authentication (it then reads a
/// reply), and for KRB_AP_ERR_SKEW always (so it can learn the server's time).
/// The token names the ticket's service and carries the server's time; the
/// handshake sends it with `Step::fail` (an extended error).
pub fn verify_answering(ap_req: &ApReq, keys: &AcceptorKeys<'_>) -> Result<Accepted, Answer> {
    check(ap_req, keys).map_err(|refused| {
        let req = &ap_req.0;
        let mutual = crate::messages::flags_value(&req.ap_options.0)
            & crate::messages::AP_OPTION_MUTUAL_REQUIRED
            != 0;
        if !mutual && refused.code != krb_error::SKEW {
            return Answer::from(refused.error);
        }
        let ticket = &req.ticket.0.0;
        let service = Principal::from_asn1(&ticket.sname.0, &ticket.realm.0);
        let reply = krb_error::ErrorReply {
            code: refused.code,
            service: &service,
            client: None,
            text: None,
            data: None,
        };
        match reply
            .to_message()
            .and_then(|m| gss::frame(gss::TOK_ERROR, m))
        {
            Ok(token) => Answer {
                error: refused.error,
                token,
            },
            Err(why) => {
                tracing::debug!("no KRB-ERROR token for the initiator: {why}");
                Answer::from(refused.error)
            }
        }
    })
}

/// The acceptor's view: its keytab, its own principal, the skew, the replay cache.
pub struct AcceptorKeys<'a> {
    /// The keytab.
    pub keytab: &'a Keytab,
    /// The acceptor's principal, when configured: tickets for others are refused.
    pub service: Option<&'a Principal>,
    /// The clock skew allowed, in seconds.
    pub skew: i64,
    /// The replay cache.
    pub replay: &'a ReplayCache,
    /// The MD5 of the channel bindings the application gave the acceptor
    /// (SECBUFFER_CHANNEL_BINDINGS), if it gave any.
    pub channel_bindings: Option<[u8; 16]>,
    /// `RequireChannelBindings`: with bindings, also refuse initiators that send none.
    pub require_channel_bindings: bool,
}

/// Checks the initiator's channel-binding hash (the 0x8003 checksum's Bnd,
/// zeros or absent when it sent none) against the acceptor's, as NTLM does:
/// an acceptor without bindings accepts any; one with bindings refuses
/// different ones, and none at all only with `RequireChannelBindings`.
pub fn check_channel_bindings(
    sent: Option<&[u8; 16]>,
    keys: &AcceptorKeys<'_>,
    client: &Principal,
) -> Result<(), SecurityError> {
    let Some(expected) = keys.channel_bindings.as_ref() else {
        return Ok(());
    };
    let sent = sent.filter(|b| **b != [0u8; 16]);
    match sent {
        Some(sent) if crate::crypto::constant_time_eq(sent, expected) => Ok(()),
        Some(_) => Err(refuse(
            SecurityStatus::SEC_E_BAD_BINDINGS,
            format!("the channel bindings of {client} do not match this server's"),
        )),
        None if keys.require_channel_bindings => Err(refuse(
            SecurityStatus::SEC_E_BAD_BINDINGS,
            format!("{client} sent no channel bindings and RequireChannelBindings is set"),
        )),
        None => Ok(()),
    }
}

/// Checks an AP-REQ.
pub fn verify(ap_req: &ApReq, keys: &AcceptorKeys<'_>) -> Result<Accepted, SecurityError> {
    check(ap_req, keys).map_err(|refused| refused.error)
}

fn check(ap_req: &ApReq, keys: &AcceptorKeys<'_>) -> Result<Accepted, Refused> {
    let req = &ap_req.0;
    if int_value(&req.pvno.0) != Some(5) || int_value(&req.msg_type.0) != Some(14) {
        return Err(no(
            SecurityStatus::SEC_E_INVALID_TOKEN,
            krb_error::BADVERSION,
            "the AP-REQ has a wrong protocol version or message type",
        ));
    }
    let ticket = &req.ticket.0.0;
    if int_value(&ticket.tkt_vno.0) != Some(5) {
        return Err(no(
            SecurityStatus::SEC_E_INVALID_TOKEN,
            krb_error::BADVERSION,
            "the ticket has a wrong version",
        ));
    }
    let server = Principal::from_asn1(&ticket.sname.0, &ticket.realm.0);
    if let Some(own) = keys.service
        && *own != server
    {
        return Err(no(
            SecurityStatus::SEC_E_WRONG_PRINCIPAL,
            krb_error::NOT_US,
            format!("the ticket is for {server}, but this service is {own} (KRB_AP_ERR_NOT_US)"),
        ));
    }
    if !keys.keytab.has_principal(&server) {
        return Err(no(
            SecurityStatus::SEC_E_WRONG_PRINCIPAL,
            krb_error::NOT_US,
            format!(
                "the keytab has no key for {server}, the service the ticket is for (KRB_AP_ERR_NOT_US)"
            ),
        ));
    }
    let enc = &ticket.enc_part.0;
    let etype_number = int_value(&enc.etype.0).unwrap_or(-1);
    let kvno = enc.kvno.0.as_ref().and_then(|k| u32_value(&k.0));
    let Some(etype) = Etype::from_number(etype_number) else {
        return Err(no(
            SecurityStatus::SEC_E_KDC_UNKNOWN_ETYPE,
            krb_error::ETYPE_NOSUPP,
            format!(
                "the ticket is encrypted with {}, which this package does not implement",
                Etype::describe(etype_number)
            ),
        ));
    };
    let Some(service_key) = keys.keytab.find(&server, etype, kvno) else {
        return Err(no(
            SecurityStatus::SEC_E_NO_KERB_KEY,
            krb_error::BADKEYVER,
            format!(
                "the keytab has no {} key{} for {server} (KRB_AP_ERR_BADKEYVER)",
                etype.name(),
                kvno.map(|k| format!(" with kvno {k}")).unwrap_or_default()
            ),
        ));
    };
    let plain = service_key.decrypt(USAGE_TICKET, &enc.cipher.0.0).map_err(|_| {
        no(
            SecurityStatus::SEC_E_WRONG_PRINCIPAL,
            krb_error::BAD_INTEGRITY,
            format!(
                "the ticket does not decrypt with the keytab's key for {server} (KRB_AP_ERR_BAD_INTEGRITY): \
                 the keytab and the KDC disagree on the service key"
            ),
        )
    })?;
    let part: EncTicketPart = crate::messages::decode(&plain)
        .map_err(|_| malformed("the ticket's encrypted part is malformed"))?;
    let part = part.0;
    let session_key = Key::from_asn1(&part.key.0)
        .map_err(|e| malformed(format!("the ticket's session key: {e}")))?;
    let client = Principal::from_asn1(&part.cname.0, &part.crealm.0);
    if crate::messages::flags_value(&part.flags.0) & TICKET_FLAG_INVALID != 0 {
        return Err(no(
            SecurityStatus::SEC_E_LOGON_DENIED,
            krb_error::TKT_NYV,
            format!(
                "the ticket of {client} for {server} has the invalid flag: the KDC has not \
                 validated it yet (KRB_AP_ERR_TKT_NYV)"
            ),
        ));
    }

    let auth_enc = &req.authenticator.0;
    let auth_plain = session_key
        .decrypt_data(USAGE_AP_REQ_AUTHENTICATOR, auth_enc)
        .map_err(|_| {
            no(
                SecurityStatus::SEC_E_LOGON_DENIED,
                krb_error::MODIFIED,
                format!("the authenticator of {client} does not decrypt with the ticket's session key (KRB_AP_ERR_MODIFIED)"),
            )
        })?;
    let authenticator: Authenticator = crate::messages::decode(&auth_plain)
        .map_err(|_| malformed("the authenticator is malformed"))?;
    let auth = authenticator.0;
    let claimed = Principal::from_asn1(&auth.cname.0, &auth.crealm.0);
    if claimed != client {
        return Err(no(
            SecurityStatus::SEC_E_LOGON_DENIED,
            krb_error::BADMATCH,
            format!(
                "the authenticator names {claimed} but the ticket {client} (KRB_AP_ERR_BADMATCH)"
            ),
        ));
    }

    let now = KrbTime::now();
    let time = KrbTime {
        secs: from_kerberos_time(&auth.ctime.0),
        usec: microseconds(&auth.cusec.0),
    };
    if (now.secs - time.secs).abs() > keys.skew {
        return Err(no(
            SecurityStatus::SEC_E_TIME_SKEW,
            krb_error::SKEW,
            format!(
                "the client's clock differs from this server's by {} s, more than the {} s allowed (KRB_AP_ERR_SKEW)",
                (now.secs - time.secs).abs(),
                keys.skew
            ),
        ));
    }
    let start = part
        .starttime
        .0
        .as_ref()
        .map(|t| from_kerberos_time(&t.0))
        .unwrap_or_else(|| from_kerberos_time(&part.auth_time.0));
    let end_time = from_kerberos_time(&part.endtime.0);
    if start - keys.skew > now.secs {
        return Err(no(
            SecurityStatus::SEC_E_TIME_SKEW,
            krb_error::TKT_NYV,
            format!("the ticket of {client} is not valid yet (KRB_AP_ERR_TKT_NYV)"),
        ));
    }
    if end_time + keys.skew < now.secs {
        return Err(no(
            SecurityStatus::SEC_E_CONTEXT_EXPIRED,
            krb_error::TKT_EXPIRED,
            format!("the ticket of {client} for {server} has expired (KRB_AP_ERR_TKT_EXPIRED)"),
        ));
    }

    let options = crate::messages::flags_value(&req.ap_options.0);
    if options & crate::messages::AP_OPTION_USE_SESSION_KEY != 0 {
        return Err(no(
            SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
            krb_error::GENERIC,
            "user-to-user tickets (use-session-key) are not supported".to_string(),
        ));
    }
    let mut mutual = options & crate::messages::AP_OPTION_MUTUAL_REQUIRED != 0;
    let mut gss_flags = if mutual { gss::GSS_MUTUAL } else { 0 };
    let mut bindings = None;
    let mut delegation = None;
    if let Some(cksum) = auth.cksum.0.as_ref() {
        let kind = int_value(&cksum.0.cksumtype.0).unwrap_or(-1);
        if kind == gss::CHECKSUM_8003 {
            let checksum = gss::parse_8003(&cksum.0.checksum.0.0).map_err(malformed)?;
            bindings = Some(checksum.bindings);
            delegation = checksum.delegation;
            // GSS_DELEG stays only once the delegated TGT has been read.
            gss_flags = checksum.flags & !gss::GSS_DELEG;
            mutual |= checksum.flags & gss::GSS_MUTUAL != 0;
        }
    }
    check_channel_bindings(bindings.as_ref(), keys, &client).map_err(|error| Refused {
        error,
        code: krb_error::GENERIC,
    })?;
    let initiator_subkey = match auth.subkey.0.as_ref() {
        Some(k) => Some(
            Key::from_asn1(&k.0).map_err(|e| malformed(format!("the initiator's subkey: {e}")))?,
        ),
        None => None,
    };
    let sequence = auth
        .seq_number
        .0
        .as_ref()
        .and_then(|s| u32_value(&s.0))
        .unwrap_or(0);

    // Only now, with everything checked, remember the authenticator.
    let entry = ReplayEntry {
        client: client.to_string(),
        server: server.to_string(),
        ctime: time.secs,
        cusec: time.usec,
    };
    // Kept past the skew window by one second: cusec rounds up.
    match keys
        .replay
        .admit(&entry, time.secs + keys.skew + 1, now.secs)
    {
        Ok(()) => {}
        Err(ReplayError::Replay) => {
            return Err(no(
                SecurityStatus::SEC_E_LOGON_DENIED,
                krb_error::REPEAT,
                format!("replayed authenticator from {client} for {server} (KRB_AP_ERR_REPEAT)"),
            ));
        }
        Err(ReplayError::Forgotten) => {
            return Err(no(
                SecurityStatus::SEC_E_INSUFFICIENT_MEMORY,
                krb_error::GENERIC,
                format!(
                    "{client} sent more authenticators than the replay cache keeps for it within \
                     the skew window, and this one is no newer than those it had to forget; \
                     a new context with a fresh authenticator is accepted (or raise ReplayCacheSize)"
                ),
            ));
        }
        Err(ReplayError::Full) => {
            return Err(no(
                SecurityStatus::SEC_E_INSUFFICIENT_MEMORY,
                krb_error::GENERIC,
                format!(
                    "the replay cache ({}) has no room left for {client}: raise ReplayCacheSize",
                    keys.replay.path().display()
                ),
            ));
        }
        Err(ReplayError::Io(message)) => {
            return Err(no(
                SecurityStatus::SEC_E_INTERNAL_ERROR,
                krb_error::GENERIC,
                message,
            ));
        }
    }
    // A delegated TGT that cannot be used is left out, not a failure: the
    // client authenticated, and the server learns there is no delegation.
    let delegated = delegation.and_then(|krb_cred| {
        let keys: Vec<&Key> = initiator_subkey.iter().chain([&session_key]).collect();
        match crate::delegation::read_krb_cred(krb_cred, &keys, &client) {
            Ok(tgt) => {
                gss_flags |= gss::GSS_DELEG;
                Some(tgt)
            }
            Err(why) => {
                tracing::warn!(%client, "the delegated credentials are not used: {why}");
                None
            }
        }
    });
    Ok(Accepted {
        client,
        server,
        session_key,
        initiator_subkey,
        delegated,
        sequence,
        gss_flags,
        mutual,
        time,
        end_time,
    })
}
