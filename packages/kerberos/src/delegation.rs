//! Delegation (RFC 4121 4.1.1, RFC 4120 5.8): the initiator's forwarded TGT
//! in a KRB-CRED carried by the 0x8003 authenticator checksum, and the
//! acceptor's reading of it.
//!
//! The initiator encrypts the KRB-CRED's EncKrbCredPart in the service
//! ticket's session key (key usage 14), as RFC 4120 3.6 says. Acceptors
//! differ in what they expect, so the acceptor tries the initiator's subkey
//! (what MIT's initiator uses), then the session key, and takes an
//! unencrypted part (etype 0, as some initiators send inside the already
//! encrypted authenticator).

use crate::crypto::Key;
use crate::messages::{self, ticket_flags};
use crate::principal::{Principal, int_value, integer};
use crate::ticket::HeldTicket;
use crate::time::{KrbTime, from_kerberos_time, to_kerberos_time};
use picky_asn1::wrapper::{
    Asn1SequenceOf, ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2,
    ExplicitContextTag3, ExplicitContextTag4, ExplicitContextTag5, ExplicitContextTag6,
    ExplicitContextTag7, ExplicitContextTag8, ExplicitContextTag9, Optional,
};
use picky_krb::data_types::{EncKrbCredPart, EncKrbCredPartInner, KrbCredInfo};
use picky_krb::messages::{KrbCred, KrbCredInner};
use zeroize::Zeroizing;

/// Key usage of a KRB-CRED's encrypted part.
pub const USAGE_KRB_CRED: i32 = 14;

/// The longest KRB-CRED the 0x8003 checksum carries (Dlgth is 16 bits).
pub const MAX_KRB_CRED: usize = u16::MAX as usize;

/// The DER KRB-CRED of `tgt` (a forwarded TGT), its EncKrbCredPart
/// encrypted in `key` (the service ticket's session key).
pub fn krb_cred(tgt: &HeldTicket, key: &Key) -> Result<Vec<u8>, String> {
    let time = to_kerberos_time;
    let info = KrbCredInfo {
        key: ExplicitContextTag0::from(tgt.session_key.to_asn1()),
        prealm: Optional::from(Some(ExplicitContextTag1::from(tgt.client.realm_asn1()?))),
        pname: Optional::from(Some(ExplicitContextTag2::from(tgt.client.to_asn1()?))),
        flags: Optional::from(Some(ExplicitContextTag3::from(messages::flags(tgt.flags)))),
        auth_time: Optional::from(Some(ExplicitContextTag4::from(time(tgt.auth_time)))),
        start_time: Optional::from(Some(ExplicitContextTag5::from(time(tgt.start_time)))),
        end_time: Optional::from(Some(ExplicitContextTag6::from(time(tgt.end_time)))),
        renew_till: Optional::from(
            (tgt.renew_till > 0).then(|| ExplicitContextTag7::from(time(tgt.renew_till))),
        ),
        srealm: Optional::from(Some(ExplicitContextTag8::from(tgt.server.realm_asn1()?))),
        sname: Optional::from(Some(ExplicitContextTag9::from(tgt.server.to_asn1()?))),
        caddr: Optional::from(None),
    };
    let now = KrbTime::now();
    let part = EncKrbCredPart::from(EncKrbCredPartInner {
        ticket_info: ExplicitContextTag0::from(Asn1SequenceOf::from(vec![info])),
        nonce: Optional::from(None),
        timestamp: Optional::from(Some(ExplicitContextTag2::from(now.to_kerberos()))),
        usec: Optional::from(Some(ExplicitContextTag3::from(integer(i64::from(
            now.usec,
        ))))),
        s_address: Optional::from(None),
        r_address: Optional::from(None),
    });
    let plain = Zeroizing::new(picky_asn1_der::to_vec(&part).map_err(|e| e.to_string())?);
    let enc_part = key
        .encrypt_data(USAGE_KRB_CRED, &plain, None)
        .map_err(|e| e.to_string())?;
    let cred = KrbCred::from(KrbCredInner {
        pvno: ExplicitContextTag0::from(integer(5)),
        msg_type: ExplicitContextTag1::from(integer(22)),
        tickets: ExplicitContextTag2::from(Asn1SequenceOf::from(vec![tgt.ticket.clone()])),
        enc_part: ExplicitContextTag3::from(enc_part),
    });
    let der = picky_asn1_der::to_vec(&cred).map_err(|e| e.to_string())?;
    if der.len() > MAX_KRB_CRED {
        return Err(format!(
            "the KRB-CRED is {} bytes, more than the checksum's 16-bit length holds",
            der.len()
        ));
    }
    Ok(der)
}

/// The delegated TGT of a KRB-CRED from the initiator `client`, its
/// encrypted part opened with the first of `keys` that opens it. The TGT
/// must be the client's own, a TGT, forwarded and not expired.
pub fn read_krb_cred(der: &[u8], keys: &[&Key], client: &Principal) -> Result<HeldTicket, String> {
    let cred: KrbCred =
        messages::decode(der).map_err(|e| format!("the KRB-CRED is malformed: {e}"))?;
    let cred = cred.0;
    if int_value(&cred.pvno.0) != Some(5) || int_value(&cred.msg_type.0) != Some(22) {
        return Err("the KRB-CRED has a wrong protocol version or message type".into());
    }
    let enc = &cred.enc_part.0;
    let plain = if int_value(&enc.etype.0) == Some(0) {
        Zeroizing::new(enc.cipher.0.0.clone())
    } else {
        keys.iter()
            .find_map(|k| k.decrypt_data(USAGE_KRB_CRED, enc).ok())
            .ok_or(
                "the KRB-CRED's encrypted part opens with neither the subkey nor the session key",
            )?
    };
    let part: EncKrbCredPart = messages::decode(&plain)
        .map_err(|e| format!("the KRB-CRED's encrypted part is malformed: {e}"))?;
    let infos = &part.0.ticket_info.0.0;
    let tickets = &cred.tickets.0.0;
    if infos.len() != tickets.len() || tickets.is_empty() {
        return Err(format!(
            "the KRB-CRED has {} tickets and {} ticket infos",
            tickets.len(),
            infos.len()
        ));
    }
    let (info, ticket) = (&infos[0], &tickets[0]);
    let (Some(pname), Some(prealm)) = (info.pname.0.as_ref(), info.prealm.0.as_ref()) else {
        return Err("the KRB-CRED does not name its client".into());
    };
    let owner = Principal::from_asn1(&pname.0, &prealm.0);
    if owner != *client {
        return Err(format!(
            "the KRB-CRED holds a ticket of {owner}, not of the authenticated {client}"
        ));
    }
    let server = Principal::from_asn1(&ticket.0.sname.0, &ticket.0.realm.0);
    if !server.is_krbtgt() {
        return Err(format!(
            "the KRB-CRED holds a ticket for {server}, not a TGT"
        ));
    }
    let time = |t: Option<&picky_krb::data_types::KerberosTime>| t.map(from_kerberos_time);
    let flags = info
        .flags
        .0
        .as_ref()
        .map(|f| messages::flags_value(&f.0))
        .unwrap_or(0);
    let end_time =
        time(info.end_time.0.as_ref().map(|t| &t.0)).ok_or("the KRB-CRED gives no end time")?;
    let auth_time = time(info.auth_time.0.as_ref().map(|t| &t.0)).unwrap_or(0);
    let held = HeldTicket {
        client: owner,
        server,
        ticket: ticket.clone(),
        session_key: Key::from_asn1(&info.key.0).map_err(|e| format!("the KRB-CRED's key: {e}"))?,
        flags,
        auth_time,
        start_time: time(info.start_time.0.as_ref().map(|t| &t.0)).unwrap_or(auth_time),
        end_time,
        renew_till: time(info.renew_till.0.as_ref().map(|t| &t.0)).unwrap_or(0),
    };
    if !held.is_fresh(0) {
        return Err("the delegated TGT has expired".into());
    }
    if flags & ticket_flags::FORWARDED == 0 {
        tracing::debug!(client = %held.client, "the delegated TGT does not have the forwarded flag");
    }
    Ok(held)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Etype;

    fn tgt(client: &Principal, flags: u32, end_time: i64) -> HeldTicket {
        let tgs = Principal::krbtgt(&client.realm);
        let tgs_key = Key::random(Etype::Aes256CtsHmacSha196).unwrap();
        let enc = tgs_key.encrypt_data(2, b"opaque", Some(1)).unwrap();
        HeldTicket {
            client: client.clone(),
            server: tgs.clone(),
            ticket: messages::ticket(&tgs, enc).unwrap(),
            session_key: Key::random(Etype::Aes256CtsHmacSha196).unwrap(),
            flags,
            auth_time: 1_700_000_000,
            start_time: 1_700_000_000,
            end_time,
            renew_till: end_time + 3600,
        }
    }

    fn later() -> i64 {
        KrbTime::now().secs + 3600
    }

    #[test]
    fn a_krb_cred_opens_with_the_session_key_and_gives_back_the_tgt() {
        let alice = Principal::user("alice", "R.TEST");
        let flags = ticket_flags::FORWARDABLE | ticket_flags::FORWARDED;
        let sent = tgt(&alice, flags, later());
        let session = Key::random(Etype::Aes128CtsHmacSha196).unwrap();
        let subkey = Key::random(Etype::Aes128CtsHmacSha196).unwrap();
        let der = krb_cred(&sent, &session).unwrap();
        // The acceptor tries the subkey first, then the session key.
        let got = read_krb_cred(&der, &[&subkey, &session], &alice).unwrap();
        assert_eq!(got.client, alice);
        assert_eq!(got.server, Principal::krbtgt("R.TEST"));
        assert_eq!(got.flags, flags);
        assert_eq!(got.end_time, sent.end_time);
        assert_eq!(got.renew_till, sent.renew_till);
        assert_eq!(got.session_key.bytes(), sent.session_key.bytes());
        assert_eq!(got.ticket, sent.ticket);
    }

    #[test]
    fn a_krb_cred_is_refused_with_the_wrong_key_another_client_or_an_expired_tgt() {
        let alice = Principal::user("alice", "R.TEST");
        let mallory = Principal::user("mallory", "R.TEST");
        let session = Key::random(Etype::Aes256CtsHmacSha196).unwrap();
        let other = Key::random(Etype::Aes256CtsHmacSha196).unwrap();
        let der = krb_cred(&tgt(&alice, 0, later()), &session).unwrap();
        let err = read_krb_cred(&der, &[&other], &alice).unwrap_err();
        assert!(err.contains("opens with neither"), "{err}");
        let err = read_krb_cred(&der, &[&session], &mallory).unwrap_err();
        assert!(err.contains("not of the authenticated"), "{err}");
        let expired = krb_cred(&tgt(&alice, 0, 1_700_000_100), &session).unwrap();
        let err = read_krb_cred(&expired, &[&session], &alice).unwrap_err();
        assert!(err.contains("expired"), "{err}");
        for cut in [0, 1, der.len() / 2, der.len() - 1] {
            assert!(read_krb_cred(&der[..cut], &[&session], &alice).is_err());
        }
    }

    #[test]
    fn a_krb_cred_with_a_service_ticket_is_not_a_delegated_tgt() {
        let alice = Principal::user("alice", "R.TEST");
        let mut ticket = tgt(&alice, 0, later());
        let service = Principal::parse("host/server", "R.TEST").unwrap();
        let key = Key::random(Etype::Aes256CtsHmacSha196).unwrap();
        ticket.ticket =
            messages::ticket(&service, key.encrypt_data(2, b"x", Some(1)).unwrap()).unwrap();
        let session = Key::random(Etype::Aes256CtsHmacSha196).unwrap();
        let der = krb_cred(&ticket, &session).unwrap();
        let err = read_krb_cred(&der, &[&session], &alice).unwrap_err();
        assert!(err.contains("not a TGT"), "{err}");
    }
}
