//! Forwardable, forwarded, renewable and ok-as-delegate tickets (RFC 4120
//! 2.6-2.8, 3.1.3, 3.3.3), driving the AS and TGS handlers directly with
//! requests built here: the KDC options, till and rtime of each are chosen by
//! the test, and both the reply's EncKDCRepPart and the ticket's own
//! EncTicketPart (decrypted with the krbtgt or service key of the database)
//! are checked.

mod common;

use picky_asn1::wrapper::{
    Asn1SequenceOf, ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2,
    ExplicitContextTag3, ExplicitContextTag4, ExplicitContextTag5, ExplicitContextTag6,
    ExplicitContextTag7, ExplicitContextTag8, Optional,
};
use picky_krb::data_types::EncTicketPart;
use picky_krb::messages::{AsRep, AsReq, KdcReq, KdcReqBody, TgsRep, TgsReq};
use sspi_kdc::{Database, KdcConfig, KdcState, handle};
use sspi_package_kerberos::internal::ap::{
    AuthenticatorSpec, USAGE_TGS_REQ_AUTHENTICATOR, USAGE_TGS_REQ_CHECKSUM, ap_req,
};
use sspi_package_kerberos::internal::as_exchange::{enc_kdc_rep_part, encrypted_timestamp};
use sspi_package_kerberos::internal::crypto::{Etype, Key};
use sspi_package_kerberos::internal::krb_error::{self, KdcError};
use sspi_package_kerberos::internal::messages::{
    self, PA_TGS_REQ, flags_value, kdc_options, ticket_flags,
};
use sspi_package_kerberos::internal::principal::{Principal, integer, unsigned};
use sspi_package_kerberos::internal::ticket::HeldTicket;
use sspi_package_kerberos::internal::time::{KrbTime, from_kerberos_time};

const REALM: &str = "R.TEST";
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
const TGS_KEY: &str = "101112131415161718191a1b1c1d1e1f101112131415161718191a1b1c1d1e1f";
const TRUSTED_KEY: &str = "202122232425262728292a2b2c2d2e2f202122232425262728292a2b2c2d2e2f";
const PLAIN_KEY: &str = "303132333435363738393a3b3c3d3e3f303132333435363738393a3b3c3d3e3f";

fn database() -> Database {
    let text = format!(
        "krbtgt/{REALM} key 1 aes256-cts {TGS_KEY}\n\
         alice password pw\n\
         bob noforward password bpw\n\
         carol maxrenew=7200 password cpw\n\
         host/trusted ok-as-delegate key 1 aes256-cts {TRUSTED_KEY}\n\
         host/plain key 1 aes256-cts {PLAIN_KEY}\n"
    );
    Database::parse(&text, REALM, "test").unwrap()
}

/// A KDC whose clock runs `offset` seconds ahead (the same database and
/// krbtgt key for every offset, so a later KDC reads an earlier one's TGTs).
fn kdc_at(offset: i64) -> KdcState {
    let mut config = KdcConfig::new(database());
    config.clock_offset = offset;
    KdcState::new(config).unwrap()
}

fn key(hex: &str) -> Key {
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    Key::new(Etype::Aes256CtsHmacSha196, bytes).unwrap()
}

fn user_key(name: &str, password: &str) -> Key {
    Etype::Aes256CtsHmacSha196
        .string_to_key(
            password.as_bytes(),
            &Principal::user(name, REALM).salt(),
            None,
        )
        .unwrap()
}

/// What the KDC issued: what the reply told the client, and the ticket's own
/// contents.
struct Issued {
    held: HeldTicket,
    /// The ticket's flags (EncTicketPart).
    ticket_flags: u32,
    /// The ticket's renew-till (0 when absent).
    ticket_renew_till: i64,
    ticket_end: i64,
    ticket_auth: i64,
}

impl Issued {
    fn has(&self, flag: u32) -> bool {
        assert_eq!(
            self.held.flags & flag,
            self.ticket_flags & flag,
            "the reply and the ticket disagree on flag {flag:#x}"
        );
        self.held.flags & flag != 0
    }
}

/// Decrypts the ticket of `held` with `server_key`.
fn issued(held: HeldTicket, server_key: &Key) -> Issued {
    let plain = server_key
        .decrypt_data(2, &held.ticket.0.enc_part.0)
        .expect("the ticket decrypts with the server's key");
    let part: EncTicketPart = messages::decode(&plain).unwrap();
    let part = part.0;
    let ticket_renew_till = part
        .renew_till
        .0
        .as_ref()
        .map(|t| from_kerberos_time(&t.0))
        .unwrap_or(0);
    assert_eq!(
        held.renew_till, ticket_renew_till,
        "the reply and the ticket disagree on renew-till"
    );
    Issued {
        ticket_flags: flags_value(&part.flags.0),
        ticket_renew_till,
        ticket_end: from_kerberos_time(&part.endtime.0),
        ticket_auth: from_kerberos_time(&part.auth_time.0),
        held,
    }
}

/// A request's options and times (seconds from the requesting clock's now).
#[derive(Clone, Copy, Default)]
struct Ask {
    options: u32,
    till: i64,
    rtime: Option<i64>,
}

fn ask(options: u32) -> Ask {
    Ask {
        options,
        till: 10 * HOUR,
        rtime: None,
    }
}

fn set_body(body: &mut KdcReqBody, a: Ask, now: KrbTime) {
    body.kdc_options = ExplicitContextTag0::from(messages::flags(a.options));
    body.till = ExplicitContextTag5::from(now.plus(a.till).to_kerberos());
    body.rtime = Optional::from(
        a.rtime
            .map(|r| ExplicitContextTag6::from(now.plus(r).to_kerberos())),
    );
}

/// A pre-authenticated AS-REQ of `name` for a TGT, answered by `kdc`.
fn as_ask(kdc: &KdcState, name: &str, password: &str, a: Ask) -> Result<Issued, KdcError> {
    let client = Principal::user(name, REALM);
    let ukey = user_key(name, password);
    let bytes = common::as_req_bytes(
        &client,
        password.as_bytes(),
        1,
        vec![encrypted_timestamp(&ukey).unwrap()],
    );
    let mut req: AsReq = messages::decode(&bytes).unwrap();
    set_body(&mut req.0.req_body.0, a, KrbTime::now());
    let reply = handle(kdc, &picky_asn1_der::to_vec(&req).unwrap()).unwrap();
    let Ok(rep) = messages::decode::<AsRep>(&reply) else {
        return Err(KdcError::parse(&reply).expect("AS-REP or KRB-ERROR"));
    };
    let plain = ukey.decrypt_data(3, &rep.0.enc_part.0).unwrap();
    let part = enc_kdc_rep_part(&plain).unwrap();
    let held = HeldTicket::from_reply(client, rep.0.ticket.0.clone(), &part).unwrap();
    Ok(issued(held, &key(TGS_KEY)))
}

fn tgt(kdc: &KdcState, a: Ask) -> Issued {
    as_ask(kdc, "alice", "pw", a).expect("a TGT")
}

/// A TGS-REQ presenting `ticket` for `service`, made at the clock of `kdc`
/// and answered by it; the new ticket is decrypted with `service_key`.
fn tgs_ask(
    kdc: &KdcState,
    ticket: &HeldTicket,
    service: &Principal,
    a: Ask,
    service_key: &Key,
) -> Result<Issued, KdcError> {
    let now = KrbTime::now().plus(kdc.config.clock_offset);
    let mut body = KdcReqBody {
        kdc_options: ExplicitContextTag0::from(messages::flags(0)),
        cname: Optional::from(None),
        realm: ExplicitContextTag2::from(service.realm_asn1().unwrap()),
        sname: Optional::from(Some(ExplicitContextTag3::from(service.to_asn1().unwrap()))),
        from: Optional::from(None),
        till: ExplicitContextTag5::from(now.to_kerberos()),
        rtime: Optional::from(None),
        nonce: ExplicitContextTag7::from(unsigned(77)),
        etype: ExplicitContextTag8::from(messages::etype_sequence(&Etype::ALL)),
        addresses: Optional::from(None),
        enc_authorization_data: Optional::from(None),
        additional_tickets: Optional::from(None),
    };
    set_body(&mut body, a, now);
    let body_der = picky_asn1_der::to_vec(&body).unwrap();
    let session = &ticket.session_key;
    let checksum = session.checksum(USAGE_TGS_REQ_CHECKSUM, &body_der).unwrap();
    let spec = AuthenticatorSpec {
        client: &ticket.client,
        checksum: Some((
            i64::from(session.etype().checksum_type()),
            checksum.to_vec(),
        )),
        subkey: None,
        seq: None,
        time: now,
    };
    let ap = ap_req(
        &ticket.ticket,
        session,
        USAGE_TGS_REQ_AUTHENTICATOR,
        0,
        &spec,
    )
    .unwrap();
    let req = TgsReq::from(KdcReq {
        pvno: ExplicitContextTag1::from(integer(5)),
        msg_type: ExplicitContextTag2::from(integer(12)),
        padata: Optional::from(Some(ExplicitContextTag3::from(Asn1SequenceOf::from(vec![
            messages::pa_data(PA_TGS_REQ, picky_asn1_der::to_vec(&ap).unwrap()),
        ])))),
        req_body: ExplicitContextTag4::from(body),
    });
    let reply = handle(kdc, &picky_asn1_der::to_vec(&req).unwrap()).unwrap();
    let Ok(rep) = messages::decode::<TgsRep>(&reply) else {
        return Err(KdcError::parse(&reply).expect("TGS-REP or KRB-ERROR"));
    };
    let plain = session.decrypt_data(8, &rep.0.enc_part.0).unwrap();
    let part = enc_kdc_rep_part(&plain).unwrap();
    let held = HeldTicket::from_reply(ticket.client.clone(), rep.0.ticket.0.clone(), &part)
        .expect("a ticket");
    Ok(issued(held, service_key))
}

fn krbtgt() -> Principal {
    Principal::krbtgt(REALM)
}

fn plain() -> Principal {
    Principal::parse("host/plain", REALM).unwrap()
}

fn near(actual: i64, expected: i64, what: &str) {
    assert!(
        (actual - expected).abs() <= 5,
        "{what}: {actual} is not about {expected} ({} s off)",
        actual - expected
    );
}

fn text(e: &KdcError) -> String {
    e.text.clone().unwrap_or_default()
}

#[test]
fn as_forwardable_only_when_asked_and_never_for_a_noforward_principal() {
    let kdc = kdc_at(0);
    let forwardable = tgt(&kdc, ask(kdc_options::FORWARDABLE));
    assert!(forwardable.has(ticket_flags::FORWARDABLE));
    assert!(forwardable.has(ticket_flags::INITIAL) && forwardable.has(ticket_flags::PRE_AUTHENT));
    assert!(!forwardable.has(ticket_flags::FORWARDED));
    let not = tgt(&kdc, ask(0));
    assert!(!not.has(ticket_flags::FORWARDABLE));
    // bob's line says `noforward` (MIT's -allow_forwardable): asked, not given.
    let bob = as_ask(&kdc, "bob", "bpw", ask(kdc_options::FORWARDABLE)).unwrap();
    assert!(!bob.has(ticket_flags::FORWARDABLE));
    assert!(bob.has(ticket_flags::INITIAL));
}

#[test]
fn forwarded_needs_a_forwardable_tgt_and_is_carried_into_service_tickets() {
    let kdc = kdc_at(0);
    let tgs_key = key(TGS_KEY);
    let forwardable = tgt(&kdc, ask(kdc_options::FORWARDABLE));
    // A forwarded TGT, itself forwardable when asked.
    let forwarded = tgs_ask(
        &kdc,
        &forwardable.held,
        &krbtgt(),
        ask(kdc_options::FORWARDED | kdc_options::FORWARDABLE),
        &tgs_key,
    )
    .expect("a forwarded TGT");
    assert!(forwarded.has(ticket_flags::FORWARDED));
    assert!(forwarded.has(ticket_flags::FORWARDABLE));
    assert!(!forwarded.has(ticket_flags::INITIAL));
    assert!(forwarded.has(ticket_flags::PRE_AUTHENT));
    assert_eq!(forwarded.ticket_auth, forwardable.ticket_auth);
    // Forwarded but not asked forwardable: not forwardable.
    let once = tgs_ask(
        &kdc,
        &forwardable.held,
        &krbtgt(),
        ask(kdc_options::FORWARDED),
        &tgs_key,
    )
    .unwrap();
    assert!(once.has(ticket_flags::FORWARDED) && !once.has(ticket_flags::FORWARDABLE));
    // ...so it cannot be forwarded again.
    let again = tgs_ask(
        &kdc,
        &once.held,
        &krbtgt(),
        ask(kdc_options::FORWARDED),
        &tgs_key,
    )
    .err()
    .expect("refused");
    assert_eq!(again.code, krb_error::BADOPTION);
    // A ticket from the forwarded TGT carries forwarded (RFC 4120 2.6).
    let service = tgs_ask(&kdc, &once.held, &plain(), ask(0), &key(PLAIN_KEY)).unwrap();
    assert!(service.has(ticket_flags::FORWARDED));
    assert!(!service.has(ticket_flags::FORWARDABLE));
    // From the original TGT: not forwarded; forwardable only when asked.
    let direct = tgs_ask(&kdc, &forwardable.held, &plain(), ask(0), &key(PLAIN_KEY)).unwrap();
    assert!(!direct.has(ticket_flags::FORWARDED) && !direct.has(ticket_flags::FORWARDABLE));
    let direct = tgs_ask(
        &kdc,
        &forwardable.held,
        &plain(),
        ask(kdc_options::FORWARDABLE),
        &key(PLAIN_KEY),
    )
    .unwrap();
    assert!(!direct.has(ticket_flags::FORWARDED) && direct.has(ticket_flags::FORWARDABLE));
    // A TGT that is not forwardable: forwarded refused with BADOPTION, and
    // forwardable asked is silently not given.
    let plain_tgt = tgt(&kdc, ask(0));
    let refused = tgs_ask(
        &kdc,
        &plain_tgt.held,
        &krbtgt(),
        ask(kdc_options::FORWARDED),
        &tgs_key,
    )
    .err()
    .expect("a forwarded TGT from a TGT that is not forwardable");
    assert_eq!(refused.code, krb_error::BADOPTION, "{}", text(&refused));
    assert!(
        text(&refused).contains("not forwardable"),
        "{}",
        text(&refused)
    );
    let asked = tgs_ask(
        &kdc,
        &plain_tgt.held,
        &plain(),
        ask(kdc_options::FORWARDABLE),
        &key(PLAIN_KEY),
    )
    .unwrap();
    assert!(!asked.has(ticket_flags::FORWARDABLE));
}

#[test]
fn renewable_until_the_smallest_of_rtime_the_kdc_limit_and_the_principal_cap() {
    let kdc = kdc_at(0);
    let now = KrbTime::now().secs;
    // Asked for two days: given two days, end time as without renewable.
    let two_days = tgt(
        &kdc,
        Ask {
            options: kdc_options::RENEWABLE,
            till: HOUR,
            rtime: Some(2 * DAY),
        },
    );
    assert!(two_days.has(ticket_flags::RENEWABLE));
    near(two_days.ticket_renew_till, now + 2 * DAY, "renew-till");
    near(two_days.ticket_end, now + HOUR, "end time");
    // Asked for thirty: the KDC's limit (7 days by default).
    let thirty = tgt(
        &kdc,
        Ask {
            options: kdc_options::RENEWABLE,
            till: HOUR,
            rtime: Some(30 * DAY),
        },
    );
    near(
        thirty.ticket_renew_till,
        now + 7 * DAY,
        "renew-till (KDC cap)",
    );
    let mut short = KdcConfig::new(database());
    short.max_renewable_life = std::time::Duration::from_secs(DAY as u64);
    let short = KdcState::new(short).unwrap();
    let capped = tgt(
        &short,
        Ask {
            options: kdc_options::RENEWABLE,
            till: HOUR,
            rtime: Some(30 * DAY),
        },
    );
    near(
        capped.ticket_renew_till,
        now + DAY,
        "renew-till (configured cap)",
    );
    // carol's line caps her renewable life at two hours.
    let carol = as_ask(
        &kdc,
        "carol",
        "cpw",
        Ask {
            options: kdc_options::RENEWABLE,
            till: HOUR,
            rtime: Some(2 * DAY),
        },
    )
    .unwrap();
    near(
        carol.ticket_renew_till,
        now + 2 * HOUR,
        "renew-till (maxrenew=)",
    );
    // Not asked: not renewable, no renew-till.
    let not = tgt(&kdc, ask(0));
    assert!(!not.has(ticket_flags::RENEWABLE));
    assert_eq!(not.ticket_renew_till, 0);
    // renewable-ok with a till beyond the longest lifetime (10 hours):
    // renewable until the till asked (within the limit).
    let ok = tgt(
        &kdc,
        Ask {
            options: kdc_options::RENEWABLE_OK,
            till: 3 * DAY,
            rtime: None,
        },
    );
    assert!(ok.has(ticket_flags::RENEWABLE));
    near(ok.ticket_end, now + 10 * HOUR, "end time (renewable-ok)");
    near(
        ok.ticket_renew_till,
        now + 3 * DAY,
        "renew-till (renewable-ok)",
    );
    // renewable-ok when the till can be given: not renewable.
    let fits = tgt(
        &kdc,
        Ask {
            options: kdc_options::RENEWABLE_OK,
            till: HOUR,
            rtime: None,
        },
    );
    assert!(!fits.has(ticket_flags::RENEWABLE));
    assert_eq!(fits.ticket_renew_till, 0);
    // A service ticket from a renewable TGT: renewable until no later than the TGT.
    let service = tgs_ask(
        &kdc,
        &two_days.held,
        &plain(),
        Ask {
            options: kdc_options::RENEWABLE,
            till: HOUR,
            rtime: Some(5 * DAY),
        },
        &key(PLAIN_KEY),
    )
    .unwrap();
    assert!(service.has(ticket_flags::RENEWABLE));
    assert_eq!(service.ticket_renew_till, two_days.ticket_renew_till);
    let shorter = tgs_ask(
        &kdc,
        &two_days.held,
        &plain(),
        Ask {
            options: kdc_options::RENEWABLE,
            till: HOUR,
            rtime: Some(DAY),
        },
        &key(PLAIN_KEY),
    )
    .unwrap();
    near(shorter.ticket_renew_till, now + DAY, "service renew-till");
    // From a TGT that is not renewable: not renewable.
    let from_plain = tgs_ask(
        &kdc,
        &not.held,
        &plain(),
        Ask {
            options: kdc_options::RENEWABLE,
            till: HOUR,
            rtime: Some(DAY),
        },
        &key(PLAIN_KEY),
    )
    .unwrap();
    assert!(!from_plain.has(ticket_flags::RENEWABLE));
    assert_eq!(from_plain.ticket_renew_till, 0);
}

#[test]
fn renewal_before_renew_till_extends_and_after_it_or_without_renewable_is_refused() {
    let kdc = kdc_at(0);
    let tgs_key = key(TGS_KEY);
    let now = KrbTime::now().secs;
    let original = tgt(
        &kdc,
        Ask {
            options: kdc_options::RENEWABLE | kdc_options::FORWARDABLE,
            till: HOUR,
            rtime: Some(2 * HOUR),
        },
    );
    near(original.ticket_end, now + HOUR, "end time");
    near(original.ticket_renew_till, now + 2 * HOUR, "renew-till");
    // 40 minutes later: renewed for the ticket's lifetime (one hour).
    let later = kdc_at(40 * 60);
    let renewed = tgs_ask(
        &later,
        &original.held,
        &krbtgt(),
        ask(kdc_options::RENEW),
        &tgs_key,
    )
    .expect("renewed");
    near(renewed.ticket_end, now + 40 * 60 + HOUR, "renewed end time");
    assert_eq!(renewed.ticket_renew_till, original.ticket_renew_till);
    assert_eq!(renewed.ticket_auth, original.ticket_auth);
    assert_eq!(renewed.held.client, original.held.client);
    assert_eq!(renewed.held.server, krbtgt());
    assert_eq!(renewed.ticket_flags, original.ticket_flags);
    assert!(renewed.has(ticket_flags::INITIAL) && renewed.has(ticket_flags::FORWARDABLE));
    assert_ne!(
        renewed.held.session_key.bytes(),
        original.held.session_key.bytes(),
        "a renewed ticket has a new session key"
    );
    // 90 minutes in (the renewed ticket still valid): the end time stops at
    // renew-till.
    let later = kdc_at(90 * 60);
    let last = tgs_ask(
        &later,
        &renewed.held,
        &krbtgt(),
        ask(kdc_options::RENEW),
        &tgs_key,
    )
    .expect("renewed again");
    assert_eq!(last.ticket_end, original.ticket_renew_till);
    // Past renew-till: refused.
    let late = kdc_at(2 * HOUR + 60);
    let refused = tgs_ask(
        &late,
        &last.held,
        &krbtgt(),
        ask(kdc_options::RENEW),
        &tgs_key,
    )
    .err()
    .expect("renewal after renew-till");
    assert_eq!(refused.code, krb_error::TKT_EXPIRED, "{}", text(&refused));
    assert!(text(&refused).contains("renew-till"), "{}", text(&refused));
    // A ticket that is not renewable: BADOPTION.
    let not = tgt(&kdc, ask(0));
    let refused = tgs_ask(
        &kdc,
        &not.held,
        &krbtgt(),
        ask(kdc_options::RENEW),
        &tgs_key,
    )
    .err()
    .expect("renewal of a ticket that is not renewable");
    assert_eq!(refused.code, krb_error::BADOPTION, "{}", text(&refused));
    assert!(
        text(&refused).contains("not renewable"),
        "{}",
        text(&refused)
    );
    // Renewal names the presented ticket's own server.
    let refused = tgs_ask(
        &kdc,
        &original.held,
        &plain(),
        ask(kdc_options::RENEW),
        &key(PLAIN_KEY),
    )
    .err()
    .expect("renewal for another server");
    assert_eq!(refused.code, 26, "{}", text(&refused));
}

#[test]
fn renewing_a_service_ticket() {
    let kdc = kdc_at(0);
    let now = KrbTime::now().secs;
    let renewable = tgt(
        &kdc,
        Ask {
            options: kdc_options::RENEWABLE,
            till: HOUR,
            rtime: Some(DAY),
        },
    );
    let service = tgs_ask(
        &kdc,
        &renewable.held,
        &plain(),
        Ask {
            options: kdc_options::RENEWABLE,
            till: HOUR,
            rtime: Some(DAY),
        },
        &key(PLAIN_KEY),
    )
    .unwrap();
    let later = kdc_at(30 * 60);
    let renewed = tgs_ask(
        &later,
        &service.held,
        &plain(),
        ask(kdc_options::RENEW),
        &key(PLAIN_KEY),
    )
    .expect("a service ticket renewed");
    near(renewed.ticket_end, now + 30 * 60 + HOUR, "renewed end time");
    assert_eq!(renewed.held.server, plain());
    // A service ticket is no TGT for other requests.
    let refused = tgs_ask(&kdc, &service.held, &plain(), ask(0), &key(PLAIN_KEY))
        .err()
        .expect("a service ticket as TGT");
    assert_eq!(refused.code, krb_error::NOT_US);
}

#[test]
fn ok_as_delegate_only_for_the_marked_service() {
    let kdc = kdc_at(0);
    let tgt = tgt(&kdc, ask(kdc_options::FORWARDABLE));
    assert!(!tgt.has(ticket_flags::OK_AS_DELEGATE));
    let trusted = Principal::parse("host/trusted", REALM).unwrap();
    let marked = tgs_ask(&kdc, &tgt.held, &trusted, ask(0), &key(TRUSTED_KEY)).unwrap();
    assert!(marked.has(ticket_flags::OK_AS_DELEGATE));
    let other = tgs_ask(&kdc, &tgt.held, &plain(), ask(0), &key(PLAIN_KEY)).unwrap();
    assert!(!other.has(ticket_flags::OK_AS_DELEGATE));
}

#[test]
fn options_without_a_ticket_to_act_on_validate_and_a_zero_renewable_life() {
    let kdc = kdc_at(0);
    for option in [
        kdc_options::FORWARDED,
        kdc_options::RENEW,
        kdc_options::VALIDATE,
    ] {
        let refused = as_ask(&kdc, "alice", "pw", ask(option | kdc_options::FORWARDABLE))
            .err()
            .expect("an AS-REQ with forwarded, renew or validate");
        assert_eq!(refused.code, krb_error::BADOPTION, "{}", text(&refused));
        assert!(text(&refused).contains("TGS-REQ"), "{}", text(&refused));
    }
    // No postdated tickets, so nothing to validate.
    let plain_tgt = tgt(&kdc, ask(0));
    let refused = tgs_ask(
        &kdc,
        &plain_tgt.held,
        &krbtgt(),
        ask(kdc_options::VALIDATE),
        &key(TGS_KEY),
    )
    .err()
    .expect("validate");
    assert_eq!(refused.code, krb_error::BADOPTION);
    // A renewable life of zero (MaxRenewableLifetime 0): no renewable tickets.
    let mut config = KdcConfig::new(database());
    config.max_renewable_life = std::time::Duration::ZERO;
    let none = KdcState::new(config).unwrap();
    for a in [
        Ask {
            options: kdc_options::RENEWABLE,
            till: HOUR,
            rtime: Some(DAY),
        },
        Ask {
            options: kdc_options::RENEWABLE_OK,
            till: 3 * DAY,
            rtime: None,
        },
    ] {
        let issued = tgt(&none, a);
        assert!(!issued.has(ticket_flags::RENEWABLE));
        assert_eq!(issued.ticket_renew_till, 0);
    }
}
