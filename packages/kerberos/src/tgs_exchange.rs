//! The client's TGS exchange: a service ticket for a target, paid for with the TGT.

use crate::ap::{AuthenticatorSpec, USAGE_TGS_REQ_AUTHENTICATOR, USAGE_TGS_REQ_CHECKSUM, ap_req};
use crate::as_exchange::enc_kdc_rep_part;
use crate::crypto::{Etype, random_u32};
use crate::krb_error::{self, KdcError};
use crate::messages::{self, PA_TGS_REQ};
use crate::principal::{Principal, integer, u32_value};
use crate::ticket::HeldTicket;
use crate::time::KrbTime;
use crate::transport::{KdcTarget, exchange};
use picky_asn1::wrapper::{
    Asn1SequenceOf, ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2,
    ExplicitContextTag3, ExplicitContextTag4, ExplicitContextTag5, ExplicitContextTag7,
    ExplicitContextTag8, Optional,
};
use picky_krb::messages::{KdcReq, KdcReqBody, TgsRep, TgsReq};
use sspi_core::{SecurityError, SecurityStatus};

/// Key usage of the TGS-REP's encrypted part under the TGT session key.
pub const USAGE_TGS_REP: i32 = 8;

fn malformed(what: impl std::fmt::Display) -> SecurityError {
    SecurityError::new(
        SecurityStatus::SEC_E_INTERNAL_ERROR,
        format!("malformed reply from the KDC: {what}"),
    )
}

/// Asks the KDC for a ticket to `service` with `tgt`.
pub fn request_service_ticket(
    tgt: &HeldTicket,
    service: &Principal,
    etypes: &[Etype],
    lifetime: i64,
    kdc: &KdcTarget<'_>,
) -> Result<HeldTicket, SecurityError> {
    request_ticket(tgt, service, etypes, lifetime, 0, kdc)
}

/// Asks the KDC for a forwarded TGT with `tgt` (which must be forwardable):
/// the TGT a delegating initiator sends the service.
pub fn request_forwarded_tgt(
    tgt: &HeldTicket,
    etypes: &[Etype],
    lifetime: i64,
    kdc: &KdcTarget<'_>,
) -> Result<HeldTicket, SecurityError> {
    let options = messages::kdc_options::FORWARDED | messages::kdc_options::FORWARDABLE;
    request_ticket(tgt, &tgt.server, etypes, lifetime, options, kdc)
}

/// Asks the KDC for a ticket to `service` with `tgt` and `options`
/// ([`messages::kdc_options`]).
pub fn request_ticket(
    tgt: &HeldTicket,
    service: &Principal,
    etypes: &[Etype],
    lifetime: i64,
    options: u32,
    kdc: &KdcTarget<'_>,
) -> Result<HeldTicket, SecurityError> {
    let nonce = random_u32().map_err(|e| SecurityError::internal(e.to_string()))? & 0x7fff_ffff;
    let message = tgs_req_with_options(tgt, service, etypes, lifetime, options, nonce)
        .map_err(SecurityError::internal)?;
    let reply = exchange(kdc, &message)?;
    if crate::der::application_tag(&reply) != Some(13) {
        let Some(error) = KdcError::parse(&reply) else {
            return Err(malformed("neither a TGS-REP nor a KRB-ERROR"));
        };
        let message = match error.code {
            krb_error::S_PRINCIPAL_UNKNOWN => format!(
                "the KDC does not know the service {service} ({})",
                error.describe()
            ),
            krb_error::TKT_EXPIRED => format!(
                "the TGT of {} has expired ({})",
                tgt.client,
                error.describe()
            ),
            krb_error::SKEW => format!(
                "this machine's clock differs from the KDC's by more than its allowed skew ({})",
                error.describe()
            ),
            krb_error::ETYPE_NOSUPP => format!(
                "the KDC has no key for {service} of an allowed encryption type ({})",
                error.describe()
            ),
            _ => format!(
                "the KDC refused a ticket for {service}: {}",
                error.describe()
            ),
        };
        return Err(SecurityError::new(krb_error::status(error.code), message));
    }
    let rep: TgsRep =
        crate::messages::decode(&reply).map_err(|e| malformed(format!("TGS-REP: {e}")))?;
    let rep = rep.0;
    let plain = tgt
        .session_key
        .decrypt_data(USAGE_TGS_REP, &rep.enc_part.0)
        .map_err(|e| malformed(format!("TGS-REP encrypted part: {e}")))?;
    let part = enc_kdc_rep_part(&plain).ok_or_else(|| malformed("EncTGSRepPart"))?;
    if u32_value(&part.nonce.0) != Some(nonce) {
        return Err(malformed("the nonce does not match the request"));
    }
    let client = Principal::from_asn1(&rep.cname.0, &rep.crealm.0);
    HeldTicket::from_reply(client, rep.ticket.0, &part).map_err(malformed)
}

/// The DER TGS-REQ for `service` with `tgt`.
pub fn tgs_req(
    tgt: &HeldTicket,
    service: &Principal,
    etypes: &[Etype],
    lifetime: i64,
    nonce: u32,
) -> Result<Vec<u8>, String> {
    tgs_req_with_options(tgt, service, etypes, lifetime, 0, nonce)
}

/// The DER TGS-REQ for `service` with `tgt` and KDC `options`.
pub fn tgs_req_with_options(
    tgt: &HeldTicket,
    service: &Principal,
    etypes: &[Etype],
    lifetime: i64,
    options: u32,
    nonce: u32,
) -> Result<Vec<u8>, String> {
    let till = KrbTime::now().plus(lifetime);
    let body = KdcReqBody {
        kdc_options: ExplicitContextTag0::from(messages::flags(options)),
        cname: Optional::from(None),
        realm: ExplicitContextTag2::from(service.realm_asn1()?),
        sname: Optional::from(Some(ExplicitContextTag3::from(service.to_asn1()?))),
        from: Optional::from(None),
        till: ExplicitContextTag5::from(till.to_kerberos()),
        rtime: Optional::from(None),
        nonce: ExplicitContextTag7::from(crate::principal::unsigned(nonce)),
        etype: ExplicitContextTag8::from(messages::etype_sequence(etypes)),
        addresses: Optional::from(None),
        enc_authorization_data: Optional::from(None),
        additional_tickets: Optional::from(None),
    };
    let body_der = picky_asn1_der::to_vec(&body).map_err(|e| e.to_string())?;
    let key = &tgt.session_key;
    let checksum = key
        .checksum(USAGE_TGS_REQ_CHECKSUM, &body_der)
        .map_err(|e| e.to_string())?;
    let spec = AuthenticatorSpec {
        client: &tgt.client,
        checksum: Some((i64::from(key.etype().checksum_type()), checksum.to_vec())),
        subkey: None,
        seq: None,
        time: KrbTime::now(),
    };
    let ap = ap_req(&tgt.ticket, key, USAGE_TGS_REQ_AUTHENTICATOR, 0, &spec)?;
    let ap_der = picky_asn1_der::to_vec(&ap).map_err(|e| e.to_string())?;
    let req = KdcReq {
        pvno: ExplicitContextTag1::from(integer(5)),
        msg_type: ExplicitContextTag2::from(integer(12)),
        padata: Optional::from(Some(ExplicitContextTag3::from(Asn1SequenceOf::from(vec![
            messages::pa_data(PA_TGS_REQ, ap_der),
        ])))),
        req_body: ExplicitContextTag4::from(body),
    };
    picky_asn1_der::to_vec(&TgsReq::from(req)).map_err(|e| e.to_string())
}
