//! The Authentication Service: AS-REQ -> AS-REP (a TGT, or any service's
//! ticket) after PA-ENC-TIMESTAMP pre-authentication.

use crate::KdcState;
use crate::issue::{Refusal, Refused, TicketContents, enc_rep_part, kdc_rep, ticket};
use crate::options::{self, Asked, Parties};
use picky_asn1::wrapper::Asn1SequenceOf;
use picky_krb::data_types::{EncryptedData, PaData, PaEncTsEnc};
use picky_krb::messages::{AsRep, AsReq, EncAsRepPart};
use sspi_package_kerberos::internal::crypto::{Etype, Key};
use sspi_package_kerberos::internal::krb_error;
use sspi_package_kerberos::internal::messages::{
    self, PA_ENC_TIMESTAMP, PA_ETYPE_INFO2, etype_list, find_pa_data, flags_value, supported,
    ticket_flags,
};
use sspi_package_kerberos::internal::principal::{Principal, int_value};
use sspi_package_kerberos::internal::time::{KrbTime, from_kerberos_time};

/// Key usage of PA-ENC-TIMESTAMP.
const USAGE_PA_ENC_TIMESTAMP: i32 = 1;
/// Key usage of the AS-REP's encrypted part.
const USAGE_AS_REP: i32 = 3;

/// Answers an AS-REQ; the `Err` is the KRB-ERROR to send and the service it names.
pub fn handle(state: &KdcState, raw: &[u8]) -> Result<Vec<u8>, Refused> {
    let tgs = Principal::krbtgt(&state.realm);
    let req: AsReq = messages::decode(raw)
        .map_err(|e| Box::new((Refusal::malformed(format!("AS-REQ: {e}")), tgs.clone())))?;
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
    if body.realm.0.to_string() != state.realm {
        return Err(refuse(Refusal::new(
            krb_error::WRONG_REALM,
            format!("this KDC serves {}, not {}", state.realm, body.realm.0.0),
        )));
    }
    let Some(cname) = body.cname.0.as_ref() else {
        return Err(refuse(Refusal::malformed("AS-REQ without cname")));
    };
    let client = Principal::from_asn1(&cname.0, &body.realm.0);
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
    options::check_as(&asked).map_err(|r| refuse(r.client(&client)))?;
    let Some(client_entry) = state.database.lookup(&client) else {
        return Err(refuse(
            Refusal::new(
                krb_error::C_PRINCIPAL_UNKNOWN,
                format!("unknown client {client}"),
            )
            .client(&client),
        ));
    };
    let Some(server_entry) = crate::service_entry(state, &server, &client) else {
        return Err(refuse(
            Refusal::new(
                krb_error::S_PRINCIPAL_UNKNOWN,
                format!("unknown service {server}"),
            )
            .client(&client),
        ));
    };
    let requested = supported(&etype_list(&body.etype.0));
    let Some(reply_etype) = client_entry.first_etype(&requested) else {
        return Err(refuse(
            Refusal::new(
                krb_error::ETYPE_NOSUPP,
                "no requested encryption type is supported for this client",
            )
            .client(&client),
        ));
    };
    let Some(server_key) = server_entry.strongest() else {
        return Err(refuse(Refusal::new(
            krb_error::ETYPE_NOSUPP,
            "the service has no usable key",
        )));
    };
    let now = state.now();

    let padata: &[PaData] = req
        .padata
        .0
        .as_ref()
        .map(|p| p.0.0.as_slice())
        .unwrap_or_default();
    let (reply_key, preauthenticated) = match find_pa_data(padata, PA_ENC_TIMESTAMP) {
        Some(value) => {
            let key = check_timestamp(state, client_entry, value, now)
                .map_err(|r| refuse(r.client(&client)))?;
            (key, true)
        }
        None if client_entry.requires_preauth => {
            let mut refusal =
                Refusal::new(krb_error::PREAUTH_REQUIRED, "pre-authentication required")
                    .client(&client);
            refusal.data = Some(method_data(client_entry, &requested, &client).map_err(refuse)?);
            return Err(refuse(refusal));
        }
        None => {
            let (kvno, key) = client_entry.key(reply_etype).ok_or_else(|| {
                refuse(Refusal::new(krb_error::ETYPE_NOSUPP, "no key").client(&client))
            })?;
            ((kvno, key.clone()), false)
        }
    };

    let till = asked.till;
    let mut end = now.secs.saturating_add(state.max_lifetime);
    if till > 0 {
        end = end.min(till);
    }
    for cap in [client_entry.max_life, server_entry.max_life]
        .into_iter()
        .flatten()
    {
        end = end.min(now.secs.saturating_add(cap));
    }
    if end <= now.secs {
        return Err(refuse(
            Refusal::new(krb_error::NEVER_VALID, "the requested end time has passed")
                .client(&client),
        ));
    }
    let session_etype = server_entry
        .session_etype(&requested)
        .unwrap_or(reply_etype);
    let session_key = Key::random(session_etype)
        .map_err(|e| refuse(Refusal::new(krb_error::GENERIC, e.to_string())))?;
    let parties = Parties {
        client: Some(state.database.options(&client)),
        server: &server,
        server_options: state.database.options(&server),
    };
    let mut flags =
        options::flags(&asked, None, &parties).map_err(|r| refuse(r.client(&client)))?;
    if preauthenticated {
        flags |= ticket_flags::PRE_AUTHENT;
    }
    let renew_till = options::renew_till(
        &asked,
        None,
        &parties,
        state.max_renewable_life,
        (now.secs, end),
    );
    if renew_till.is_some() {
        flags |= ticket_flags::RENEWABLE;
    }
    let contents = TicketContents {
        flags,
        session_key: &session_key,
        client: &client,
        times: (now.secs, now.secs, end),
        renew_till,
    };
    let issued = ticket(&server, server_key, &contents).map_err(refuse)?;
    let part = EncAsRepPart::from(enc_rep_part(&server, &body.nonce.0, &contents).map_err(refuse)?);
    let plain = zeroize::Zeroizing::new(
        picky_asn1_der::to_vec(&part)
            .map_err(|e| refuse(Refusal::new(krb_error::GENERIC, e.to_string())))?,
    );
    let (kvno, reply_key) = reply_key;
    let enc = reply_key
        .encrypt_data(USAGE_AS_REP, &plain, Some(kvno))
        .map_err(|e| refuse(Refusal::new(krb_error::GENERIC, e.to_string())))?;
    let rep = AsRep::from(kdc_rep(11, None, &client, issued, enc).map_err(refuse)?);
    tracing::info!(
        client = %client,
        service = %server,
        preauthenticated,
        flags = format_args!("{flags:#010x}"),
        renew_till,
        "AS-REQ: ticket issued"
    );
    picky_asn1_der::to_vec(&rep)
        .map_err(|e| refuse(Refusal::new(krb_error::GENERIC, e.to_string())))
}

/// Checks PA-ENC-TIMESTAMP; returns the client key (and its kvno) it was made with.
fn check_timestamp(
    state: &KdcState,
    entry: &crate::database::Entry,
    value: &[u8],
    now: KrbTime,
) -> Result<(u32, Key), Refusal> {
    let data: EncryptedData = messages::decode(value)
        .map_err(|e| Refusal::malformed(format!("PA-ENC-TIMESTAMP: {e}")))?;
    let etype_number = int_value(&data.etype.0).unwrap_or(-1);
    let key = Etype::from_number(etype_number)
        .and_then(|e| entry.key(e))
        .map(|(v, k)| (v, k.clone()))
        .ok_or_else(|| {
            Refusal::new(
                krb_error::PREAUTH_FAILED,
                format!(
                    "no key of {} for the pre-authentication",
                    Etype::describe(etype_number)
                ),
            )
        })?;
    let plain = key
        .1
        .decrypt(USAGE_PA_ENC_TIMESTAMP, &data.cipher.0.0)
        .map_err(|_| Refusal::new(krb_error::PREAUTH_FAILED, "pre-authentication failed"))?;
    let ts: PaEncTsEnc =
        messages::decode(&plain).map_err(|e| Refusal::malformed(format!("PA-ENC-TS-ENC: {e}")))?;
    let when = from_kerberos_time(&ts.patimestamp.0);
    if (now.secs - when).abs() > state.skew {
        return Err(Refusal::new(
            krb_error::SKEW,
            format!(
                "clock skew too great ({} s, at most {} s)",
                (now.secs - when).abs(),
                state.skew
            ),
        ));
    }
    Ok(key)
}

/// METHOD-DATA for PREAUTH_REQUIRED: ETYPE-INFO2 and PA-ENC-TIMESTAMP.
fn method_data(
    entry: &crate::database::Entry,
    requested: &[Etype],
    client: &Principal,
) -> Result<Vec<u8>, Refusal> {
    let salt = client.salt();
    let infos: Vec<(Etype, Vec<u8>)> = requested
        .iter()
        .filter(|e| entry.key(**e).is_some())
        .map(|e| (*e, salt.clone()))
        .collect();
    let info = messages::etype_info2(&infos).map_err(|e| Refusal::new(krb_error::GENERIC, e))?;
    let list = Asn1SequenceOf::from(vec![
        messages::pa_data(PA_ETYPE_INFO2, info),
        messages::pa_data(PA_ENC_TIMESTAMP, Vec::new()),
    ]);
    picky_asn1_der::to_vec(&list).map_err(|e| Refusal::new(krb_error::GENERIC, e.to_string()))
}
