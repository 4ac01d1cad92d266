//! The Ticket-Granting Service: TGS-REQ (with the TGT in PA-TGS-REQ) -> TGS-REP.

use crate::KdcState;
use crate::issue::{Refusal, Refused, TicketContents, enc_rep_part, kdc_rep, ticket};
use crate::options::{self, Asked, Parties, Presented};
use picky_krb::data_types::{Authenticator, EncTicketPart, PaData};
use picky_krb::messages::{ApReq, EncTgsRepPart, TgsRep, TgsReq};
use sspi_package_kerberos::internal::crypto::{Etype, Key};
use sspi_package_kerberos::internal::krb_error;
use sspi_package_kerberos::internal::messages::{
    self, PA_TGS_REQ, etype_list, find_pa_data, flags_value, supported, ticket_flags,
};
use sspi_package_kerberos::internal::principal::{Principal, int_value, u32_value};
use sspi_package_kerberos::internal::time::from_kerberos_time;

/// Key usages of RFC 4120 7.5.1.
const USAGE_TICKET: i32 = 2;
const USAGE_TGS_REQ_CHECKSUM: i32 = 6;
const USAGE_TGS_REQ_AUTHENTICATOR: i32 = 7;
const USAGE_TGS_REP_SESSION_KEY: i32 = 8;
const USAGE_TGS_REP_SUBKEY: i32 = 9;

/// Answers a TGS-REQ; the `Err` is the KRB-ERROR to send and the service it names.
pub fn handle(state: &KdcState, raw: &[u8]) -> Result<Vec<u8>, Refused> {
    let tgs = Principal::krbtgt(&state.realm);
    let req: TgsReq = messages::decode(raw)
        .map_err(|e| Box::new((Refusal::malformed(format!("TGS-REQ: {e}")), tgs.clone())))?;
    let req = req.0;
    let body = &req.req_body.0;
    let server = match body.sname.0.as_ref() {
        Some(s) => Principal::from_asn1(&s.0, &body.realm.0),
        None => tgs.clone(),
    };
    let refuse = |r: Refusal| Box::new((r, server.clone()));
    if int_value(&req.pvno.0) != Some(5) {
        return Err(refuse(Refusal::new(
            3,
            "only Kerberos V5 (pvno 5) is spoken here",
        )));
    }
    let padata: &[PaData] = req
        .padata
        .0
        .as_ref()
        .map(|p| p.0.0.as_slice())
        .unwrap_or_default();
    let ap_bytes = find_pa_data(padata, PA_TGS_REQ)
        .ok_or_else(|| refuse(Refusal::malformed("TGS-REQ without PA-TGS-REQ")))?;
    let ap: ApReq = messages::decode(ap_bytes)
        .map_err(|e| refuse(Refusal::malformed(format!("PA-TGS-REQ: {e}"))))?;
    let ap = ap.0;

    let asked = Asked {
        options: flags_value(&body.kdc_options.0),
        till: from_kerberos_time(&body.till.0),
        rtime: body
            .rtime
            .0
            .as_ref()
            .map(|t| from_kerberos_time(&t.0))
            .unwrap_or(0),
    };

    // The TGT (or, for a renewal, the ticket to renew: a TGT or a ticket
    // for one of this realm's services).
    let tgt = &ap.ticket.0.0;
    let tgt_server = Principal::from_asn1(&tgt.sname.0, &tgt.realm.0);
    let ticket_entry = if tgt_server == tgs {
        state
            .database
            .lookup(&tgs)
            .ok_or_else(|| refuse(Refusal::new(krb_error::GENERIC, "no TGS key")))?
    } else {
        match state.database.lookup(&tgt_server) {
            Some(entry) if asked.renew() && state.database.is_service(&tgt_server) => entry,
            _ => {
                return Err(refuse(Refusal::new(
                    krb_error::NOT_US,
                    format!(
                        "the ticket in PA-TGS-REQ is for {tgt_server}, not {tgs} (only a renewal may present another service's ticket)"
                    ),
                )));
            }
        }
    };
    let enc = &tgt.enc_part.0;
    let etype_number = int_value(&enc.etype.0).unwrap_or(-1);
    let kvno = enc.kvno.0.as_ref().and_then(|k| u32_value(&k.0));
    let tgs_key = Etype::from_number(etype_number)
        .and_then(|e| ticket_entry.key_version(e, kvno))
        .ok_or_else(|| {
            refuse(Refusal::new(
                krb_error::BADKEYVER,
                format!("no key of {tgt_server} of that version and type"),
            ))
        })?;
    let plain = tgs_key
        .decrypt(USAGE_TICKET, &enc.cipher.0.0)
        .map_err(|_| {
            refuse(Refusal::new(
                krb_error::BAD_INTEGRITY,
                "the TGT does not decrypt",
            ))
        })?;
    let part: EncTicketPart =
        messages::decode(&plain).map_err(|e| refuse(Refusal::malformed(format!("TGT: {e}"))))?;
    let part = part.0;
    let client = Principal::from_asn1(&part.cname.0, &part.crealm.0);
    let refuse_client = |r: Refusal| Box::new((r.client(&client), server.clone()));
    let now = state.now();
    let presented = Presented {
        flags: flags_value(&part.flags.0),
        renew_till: part
            .renew_till
            .0
            .as_ref()
            .map(|t| from_kerberos_time(&t.0))
            .unwrap_or(0),
    };
    if asked.renew() {
        options::check_renewal(&presented, &tgt_server, &server, now.secs)
            .map_err(refuse_client)?;
    }
    let tgt_start = part
        .starttime
        .0
        .as_ref()
        .map(|t| from_kerberos_time(&t.0))
        .unwrap_or_else(|| from_kerberos_time(&part.auth_time.0));
    let tgt_end = from_kerberos_time(&part.endtime.0);
    if tgt_end < now.secs {
        return Err(refuse_client(Refusal::new(
            krb_error::TKT_EXPIRED,
            if asked.renew() {
                "the ticket has expired: a renewable ticket is renewed before its end time"
            } else {
                "the TGT has expired"
            },
        )));
    }
    let session_key = Key::from_asn1(&part.key.0)
        .map_err(|e| refuse_client(Refusal::malformed(format!("TGT session key: {e}"))))?;

    // The authenticator.
    let auth_plain = session_key
        .decrypt_data(USAGE_TGS_REQ_AUTHENTICATOR, &ap.authenticator.0)
        .map_err(|_| {
            refuse_client(Refusal::new(
                krb_error::BAD_INTEGRITY,
                "the authenticator does not decrypt",
            ))
        })?;
    let auth: Authenticator = messages::decode(&auth_plain)
        .map_err(|e| refuse_client(Refusal::malformed(format!("authenticator: {e}"))))?;
    let auth = auth.0;
    if Principal::from_asn1(&auth.cname.0, &auth.crealm.0) != client {
        return Err(refuse_client(Refusal::new(
            krb_error::BADMATCH,
            "the authenticator's client differs from the ticket's",
        )));
    }
    let ctime = from_kerberos_time(&auth.ctime.0);
    if (now.secs - ctime).abs() > state.skew {
        return Err(refuse_client(Refusal::new(
            krb_error::SKEW,
            "clock skew too great",
        )));
    }
    let Some(cksum) = auth.cksum.0.as_ref() else {
        return Err(refuse_client(Refusal::new(
            krb_error::INAPP_CKSUM,
            "the authenticator has no checksum of the request body",
        )));
    };
    let kind = int_value(&cksum.0.cksumtype.0).unwrap_or(-1);
    if kind != i64::from(session_key.etype().checksum_type()) {
        return Err(refuse_client(Refusal::new(
            krb_error::INAPP_CKSUM,
            format!("checksum type {kind} does not fit the session key"),
        )));
    }
    let body_bytes = sspi_package_kerberos::internal::der::kdc_req_body(raw)
        .ok_or_else(|| refuse_client(Refusal::malformed("request body")))?;
    if !session_key.verify_checksum(USAGE_TGS_REQ_CHECKSUM, body_bytes, &cksum.0.checksum.0.0) {
        return Err(refuse_client(Refusal::new(
            krb_error::MODIFIED,
            "the request body does not match the authenticator's checksum",
        )));
    }
    let (reply_key, reply_usage) = match auth.subkey.0.as_ref() {
        Some(k) => (
            Key::from_asn1(&k.0)
                .map_err(|e| refuse_client(Refusal::malformed(format!("subkey: {e}"))))?,
            USAGE_TGS_REP_SUBKEY,
        ),
        None => (session_key.clone(), USAGE_TGS_REP_SESSION_KEY),
    };

    // The service.
    if body.realm.0.to_string() != state.realm {
        return Err(refuse_client(Refusal::new(
            krb_error::WRONG_REALM,
            format!(
                "this KDC serves {}, and cross-realm is not supported",
                state.realm
            ),
        )));
    }
    if body.sname.0.is_none() {
        return Err(refuse_client(Refusal::malformed("TGS-REQ without sname")));
    }
    let Some(server_entry) = crate::service_entry(state, &server, &client) else {
        return Err(refuse_client(Refusal::new(
            krb_error::S_PRINCIPAL_UNKNOWN,
            format!("unknown service {server}"),
        )));
    };
    let requested = supported(&etype_list(&body.etype.0));
    let Some(session_etype) = server_entry.session_etype(&requested) else {
        return Err(refuse_client(Refusal::new(
            krb_error::ETYPE_NOSUPP,
            "no requested encryption type is supported",
        )));
    };
    let Some(server_key) = server_entry.strongest() else {
        return Err(refuse_client(Refusal::new(
            krb_error::ETYPE_NOSUPP,
            "the service has no usable key",
        )));
    };
    let server_options = state.database.options(&server);
    let parties = Parties {
        client: state
            .database
            .lookup(&client)
            .map(|_| state.database.options(&client)),
        server: &server,
        server_options,
    };
    let (flags, end, renew_till) = if asked.renew() {
        // RFC 4120 3.3.3.1: the same ticket, a new key, the old lifetime
        // again from now, never past renew-till.
        let life = tgt_end.saturating_sub(tgt_start).max(0);
        let end = now
            .secs
            .saturating_add(life.min(state.max_lifetime))
            .min(presented.renew_till);
        (presented.flags, end, Some(presented.renew_till))
    } else {
        let till = asked.till;
        let mut end = now.secs.saturating_add(state.max_lifetime).min(tgt_end);
        if till > 0 {
            end = end.min(till);
        }
        if let Some(cap) = server_entry.max_life {
            end = end.min(now.secs.saturating_add(cap));
        }
        let mut flags =
            options::flags(&asked, Some(&presented), &parties).map_err(refuse_client)?;
        let renew_till = options::renew_till(
            &asked,
            Some(&presented),
            &parties,
            state.max_renewable_life,
            (now.secs, end),
        );
        if renew_till.is_some() {
            flags |= ticket_flags::RENEWABLE;
        }
        (flags, end, renew_till)
    };
    if end <= now.secs {
        return Err(refuse_client(Refusal::new(
            krb_error::NEVER_VALID,
            "the requested end time has passed",
        )));
    }
    let new_key = Key::random(session_etype)
        .map_err(|e| refuse_client(Refusal::new(krb_error::GENERIC, e.to_string())))?;
    let contents = TicketContents {
        flags,
        session_key: &new_key,
        client: &client,
        times: (from_kerberos_time(&part.auth_time.0), now.secs, end),
        renew_till,
    };
    let issued = ticket(&server, server_key, &contents).map_err(refuse_client)?;
    let rep_part = EncTgsRepPart::from(
        enc_rep_part(&server, &body.nonce.0, &contents).map_err(refuse_client)?,
    );
    let plain = zeroize::Zeroizing::new(
        picky_asn1_der::to_vec(&rep_part)
            .map_err(|e| refuse_client(Refusal::new(krb_error::GENERIC, e.to_string())))?,
    );
    let enc = reply_key
        .encrypt_data(reply_usage, &plain, None)
        .map_err(|e| refuse_client(Refusal::new(krb_error::GENERIC, e.to_string())))?;
    let rep = TgsRep::from(kdc_rep(13, None, &client, issued, enc).map_err(refuse_client)?);
    tracing::info!(
        client = %client,
        service = %server,
        flags = format_args!("{flags:#010x}"),
        renew_till,
        renewed = asked.renew(),
        "TGS-REQ: ticket issued"
    );
    picky_asn1_der::to_vec(&rep)
        .map_err(|e| refuse_client(Refusal::new(krb_error::GENERIC, e.to_string())))
}
