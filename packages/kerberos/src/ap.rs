//! AP-REQ and AP-REP (RFC 4120 5.5): building the authenticator, the acceptor's
//! checks, and the mutual-authentication reply.

use crate::crypto::Key;
use crate::principal::{Principal, integer};
use crate::time::KrbTime;
use picky_asn1::wrapper::{
    ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2, ExplicitContextTag3,
    ExplicitContextTag4, ExplicitContextTag5, ExplicitContextTag6, ExplicitContextTag7,
    OctetStringAsn1, Optional,
};
use picky_krb::data_types::{
    Authenticator, AuthenticatorInner, Checksum, EncApRepPart, EncApRepPartInner, Ticket,
};
use picky_krb::messages::{ApRep, ApRepInner, ApReq, ApReqInner};

/// Key usage of an AP-REQ authenticator.
pub const USAGE_AP_REQ_AUTHENTICATOR: i32 = 11;
/// Key usage of a PA-TGS-REQ authenticator.
pub const USAGE_TGS_REQ_AUTHENTICATOR: i32 = 7;
/// Key usage of the TGS-REQ body checksum.
pub const USAGE_TGS_REQ_CHECKSUM: i32 = 6;
/// Key usage of an AP-REP's encrypted part.
pub const USAGE_AP_REP: i32 = 12;

/// What goes into an authenticator.
pub struct AuthenticatorSpec<'a> {
    /// The client (as in the ticket).
    pub client: &'a Principal,
    /// An optional checksum (type, bytes).
    pub checksum: Option<(i64, Vec<u8>)>,
    /// An optional initiator subkey.
    pub subkey: Option<&'a Key>,
    /// An optional initial sequence number.
    pub seq: Option<u32>,
    /// The authenticator's time.
    pub time: KrbTime,
}

/// An AP-REQ for `ticket` with an authenticator encrypted in `session_key` for `usage`.
pub fn ap_req(
    ticket: &Ticket,
    session_key: &Key,
    usage: i32,
    options: u32,
    spec: &AuthenticatorSpec<'_>,
) -> Result<ApReq, String> {
    let authenticator = Authenticator::from(AuthenticatorInner {
        authenticator_vno: ExplicitContextTag0::from(integer(5)),
        crealm: ExplicitContextTag1::from(spec.client.realm_asn1()?),
        cname: ExplicitContextTag2::from(spec.client.to_asn1()?),
        cksum: Optional::from(spec.checksum.as_ref().map(|(kind, bytes)| {
            ExplicitContextTag3::from(Checksum {
                cksumtype: ExplicitContextTag0::from(integer(*kind)),
                checksum: ExplicitContextTag1::from(OctetStringAsn1::from(bytes.clone())),
            })
        })),
        cusec: ExplicitContextTag4::from(integer(i64::from(spec.time.usec))),
        ctime: ExplicitContextTag5::from(spec.time.to_kerberos()),
        subkey: Optional::from(spec.subkey.map(|k| ExplicitContextTag6::from(k.to_asn1()))),
        seq_number: Optional::from(
            spec.seq
                .map(|s| ExplicitContextTag7::from(crate::principal::unsigned(s))),
        ),
        authorization_data: Optional::from(None),
    });
    let plain =
        zeroize::Zeroizing::new(picky_asn1_der::to_vec(&authenticator).map_err(|e| e.to_string())?);
    let encrypted = session_key
        .encrypt_data(usage, &plain, None)
        .map_err(|e| e.to_string())?;
    Ok(ApReq::from(ApReqInner {
        pvno: ExplicitContextTag0::from(integer(5)),
        msg_type: ExplicitContextTag1::from(integer(14)),
        ap_options: ExplicitContextTag2::from(crate::messages::flags(options)),
        ticket: ExplicitContextTag3::from(ticket.clone()),
        authenticator: ExplicitContextTag4::from(encrypted),
    }))
}

/// An AP-REP echoing `time`, with the acceptor's subkey and sequence number.
pub fn ap_rep(
    session_key: &Key,
    time: KrbTime,
    subkey: Option<&Key>,
    seq: Option<u32>,
) -> Result<ApRep, String> {
    let part = EncApRepPart::from(EncApRepPartInner {
        ctime: ExplicitContextTag0::from(time.to_kerberos()),
        cusec: ExplicitContextTag1::from(integer(i64::from(time.usec))),
        subkey: Optional::from(subkey.map(|k| ExplicitContextTag2::from(k.to_asn1()))),
        seq_number: Optional::from(
            seq.map(|s| ExplicitContextTag3::from(crate::principal::unsigned(s))),
        ),
    });
    let plain = zeroize::Zeroizing::new(picky_asn1_der::to_vec(&part).map_err(|e| e.to_string())?);
    let encrypted = session_key
        .encrypt_data(USAGE_AP_REP, &plain, None)
        .map_err(|e| e.to_string())?;
    Ok(ApRep::from(ApRepInner {
        pvno: ExplicitContextTag0::from(integer(5)),
        msg_type: ExplicitContextTag1::from(integer(15)),
        enc_part: ExplicitContextTag2::from(encrypted),
    }))
}
