//! The KDC's request handler in process: a full AS + TGS exchange, then
//! random and mutated requests, which never panic and always get an answer.

mod common;

use proptest::prelude::*;
use sspi_kdc::{Database, KdcConfig, KdcState, handle};
use sspi_package_kerberos::internal::as_exchange::{enc_kdc_rep_part, encrypted_timestamp};
use sspi_package_kerberos::internal::crypto::Etype;
use sspi_package_kerberos::internal::krb_error::{self, KdcError};
use sspi_package_kerberos::internal::principal::Principal;
use sspi_package_kerberos::internal::tgs_exchange::tgs_req;
use sspi_package_kerberos::internal::ticket::HeldTicket;
use std::sync::OnceLock;

const REALM: &str = "R.TEST";

fn state() -> &'static KdcState {
    static STATE: OnceLock<KdcState> = OnceLock::new();
    STATE.get_or_init(|| {
        let db = Database::parse(
            "alice password pw\nhost/svc password svc\nbob nopreauth password bpw\n",
            REALM,
            "test",
        )
        .unwrap();
        KdcState::new(KdcConfig::new(db)).unwrap()
    })
}

struct Requests {
    as_plain: Vec<u8>,
    as_preauth: Vec<u8>,
    tgs: Vec<u8>,
}

fn requests() -> &'static Requests {
    static REQ: OnceLock<Requests> = OnceLock::new();
    REQ.get_or_init(|| {
        let client = Principal::user("alice", REALM);
        let as_plain = common::as_req_bytes(&client, b"pw", 1, vec![]);
        let reply = handle(state(), &as_plain).unwrap();
        assert_eq!(
            KdcError::parse(&reply).unwrap().code,
            krb_error::PREAUTH_REQUIRED
        );
        let key = Etype::Aes256CtsHmacSha196
            .string_to_key(b"pw", &client.salt(), None)
            .unwrap();
        let as_preauth =
            common::as_req_bytes(&client, b"pw", 2, vec![encrypted_timestamp(&key).unwrap()]);
        let reply = handle(state(), &as_preauth).unwrap();
        let rep: picky_krb::messages::AsRep = picky_asn1_der::from_bytes(&reply).expect("AS-REP");
        let plain = key.decrypt_data(3, &rep.0.enc_part.0).unwrap();
        let part = enc_kdc_rep_part(&plain).unwrap();
        let tgt = HeldTicket::from_reply(client.clone(), rep.0.ticket.0.clone(), &part).unwrap();
        let service = Principal::parse("host/svc", REALM).unwrap();
        let tgs = tgs_req(&tgt, &service, &Etype::ALL, 3600, 3).unwrap();
        let reply = handle(state(), &tgs).unwrap();
        assert!(picky_asn1_der::from_bytes::<picky_krb::messages::TgsRep>(&reply).is_ok());
        if let Some(dir) = std::env::var_os("SSPI_KRB_SEEDS") {
            // Seeds for the cargo-fuzz target kdc_request.
            let dir = std::path::Path::new(&dir);
            for (name, bytes) in [
                ("as_plain", &as_plain),
                ("as_preauth", &as_preauth),
                ("tgs", &tgs),
            ] {
                std::fs::write(dir.join(name), bytes).unwrap();
            }
        }
        Requests {
            as_plain,
            as_preauth,
            tgs,
        }
    })
}

#[test]
fn errors_carry_the_right_codes() {
    let r = requests();
    // A replay of the same TGS-REQ is still answered (no KDC replay cache).
    assert!(handle(state(), &r.tgs).is_some());
    let code = |bytes: &[u8]| KdcError::parse(&handle(state(), bytes).unwrap()).map(|e| e.code);
    // A TGS-REQ whose body changed after the checksum: KRB_AP_ERR_MODIFIED.
    let mut changed = r.tgs.clone();
    let at = changed.len() - 3;
    changed[at] ^= 0x01;
    let got = code(&changed);
    assert!(matches!(got, Some(41) | Some(60)), "{got:?}");
    assert_eq!(code(&[0x6e, 0x00]), Some(krb_error::MSG_TYPE));
    assert_eq!(code(&[0x6a, 0x00]), Some(krb_error::GENERIC));
    assert!(handle(state(), b"\x00\x01 not kerberos").is_none());
}

fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(at, kind, value) in edits {
        if bytes.is_empty() {
            bytes.push(value);
            continue;
        }
        let i = at % bytes.len();
        match kind % 4 {
            0 => bytes[i] ^= value | 1,
            1 => bytes.truncate(i),
            2 => bytes.insert(i, value),
            _ => {
                bytes.remove(i);
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, .. ProptestConfig::default() })]

    #[test]
    fn random_requests_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300), tag in prop_oneof![Just(0x6au8), Just(0x6c), any::<u8>()]) {
        let mut framed = vec![tag];
        framed.extend_from_slice(&data);
        let _ = handle(state(), &data);
        let _ = handle(state(), &framed);
    }

    #[test]
    fn mutated_requests_never_panic(which in 0u8..3, edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..5)) {
        let r = requests();
        let base = match which { 0 => &r.as_plain, 1 => &r.as_preauth, _ => &r.tgs };
        let bad = mutate(base.clone(), &edits);
        if bad.first() == Some(&0x6a) || bad.first() == Some(&0x6c) {
            prop_assert!(handle(state(), &bad).is_some());
        } else {
            let _ = handle(state(), &bad);
        }
    }
}
