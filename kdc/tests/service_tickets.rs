//! Tickets only for services: alice, holding a TGT, once obtained a ticket
//! for `bob` encrypted in bob's password key (an offline password oracle).
//! Now a user principal is refused as an unknown one, over TGS and AS alike,
//! unless the database marks it `service`.

mod common;

use picky_asn1::wrapper::ExplicitContextTag3;
use picky_krb::messages::AsReq;
use sspi_kdc::{Database, KdcConfig, KdcState, handle};
use sspi_package_kerberos::internal::as_exchange::{enc_kdc_rep_part, encrypted_timestamp};
use sspi_package_kerberos::internal::crypto::Etype;
use sspi_package_kerberos::internal::krb_error::{self, KdcError};
use sspi_package_kerberos::internal::messages;
use sspi_package_kerberos::internal::principal::Principal;
use sspi_package_kerberos::internal::tgs_exchange::tgs_req;
use sspi_package_kerberos::internal::ticket::HeldTicket;

const REALM: &str = "R.TEST";
const DATABASE: &str = "\
alice password pw
bob password bpw
web service key 1 aes256-cts 000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f
alice/admin user password apw
host/svc password svc
";

fn state() -> KdcState {
    KdcState::new(KdcConfig::new(
        Database::parse(DATABASE, REALM, "test").unwrap(),
    ))
    .unwrap()
}

/// alice's pre-authenticated AS-REQ, for `sname` (the TGS when `None`).
fn alice_as_req(sname: Option<&Principal>) -> Vec<u8> {
    let client = Principal::user("alice", REALM);
    let key = alice_key();
    let bytes = common::as_req_bytes(&client, b"pw", 1, vec![encrypted_timestamp(&key).unwrap()]);
    let Some(sname) = sname else { return bytes };
    let mut req: AsReq = messages::decode(&bytes).unwrap();
    req.0.req_body.0.sname.0 = Some(ExplicitContextTag3::from(sname.to_asn1().unwrap()));
    picky_asn1_der::to_vec(&req).unwrap()
}

fn alice_key() -> sspi_package_kerberos::internal::crypto::Key {
    Etype::Aes256CtsHmacSha196
        .string_to_key(b"pw", &Principal::user("alice", REALM).salt(), None)
        .unwrap()
}

fn alice_tgt(state: &KdcState) -> HeldTicket {
    let reply = handle(state, &alice_as_req(None)).unwrap();
    let rep: picky_krb::messages::AsRep = messages::decode(&reply).expect("AS-REP");
    let plain = alice_key().decrypt_data(3, &rep.0.enc_part.0).unwrap();
    let part = enc_kdc_rep_part(&plain).unwrap();
    HeldTicket::from_reply(
        Principal::user("alice", REALM),
        rep.0.ticket.0.clone(),
        &part,
    )
    .unwrap()
}

/// The TGS's answer for `service`: `Ok(())` for a TGS-REP, else the error.
fn ask_tgs(state: &KdcState, tgt: &HeldTicket, service: &str) -> Result<(), KdcError> {
    let service = Principal::parse(service, REALM).unwrap();
    let request = tgs_req(tgt, &service, &Etype::ALL, 3600, 9).unwrap();
    let reply = handle(state, &request).unwrap();
    if sspi_package_kerberos::internal::der::application_tag(&reply) == Some(13) {
        return Ok(());
    }
    Err(KdcError::parse(&reply).expect("a KRB-ERROR"))
}

#[test]
fn tickets_for_users_are_refused_like_unknown_names() {
    let state = state();
    let tgt = alice_tgt(&state);
    assert!(ask_tgs(&state, &tgt, "host/svc").is_ok());
    assert!(ask_tgs(&state, &tgt, "web").is_ok(), "marked service");
    let unknown = ask_tgs(&state, &tgt, "nobody").unwrap_err();
    assert_eq!(unknown.code, krb_error::S_PRINCIPAL_UNKNOWN);
    for user in ["bob", "alice", "alice/admin"] {
        let refused = ask_tgs(&state, &tgt, user).unwrap_err();
        assert_eq!(refused.code, krb_error::S_PRINCIPAL_UNKNOWN, "{user}");
        // Nothing tells a user that is not a service from no principal at all.
        let text = |e: &KdcError| e.text.clone().unwrap_or_default().replace(user, "X");
        assert_eq!(
            text(&refused),
            text(&unknown).replace("nobody", "X"),
            "{user}"
        );
    }
    // The AS is no back door: an AS-REQ naming bob as its service.
    let bob = Principal::parse("bob", REALM).unwrap();
    let reply = handle(&state, &alice_as_req(Some(&bob))).unwrap();
    assert_eq!(
        KdcError::parse(&reply).map(|e| e.code),
        Some(krb_error::S_PRINCIPAL_UNKNOWN)
    );
    let web = Principal::parse("web", REALM).unwrap();
    let reply = handle(&state, &alice_as_req(Some(&web))).unwrap();
    assert_eq!(
        sspi_package_kerberos::internal::der::application_tag(&reply),
        Some(11)
    );
}
