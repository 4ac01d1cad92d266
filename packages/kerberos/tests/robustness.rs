//! Robustness: random and mutated inputs to every parser of peer data never
//! panic, and a mutated protected message is never accepted.

use picky_krb::messages::{ApRep, ApReq};
use proptest::prelude::*;
use sspi_core::{Qop, SecBuffer};
use sspi_package_kerberos::internal::acceptor::{self, AcceptorKeys};
use sspi_package_kerberos::internal::ap::{self, AuthenticatorSpec};
use sspi_package_kerberos::internal::crypto::{Etype, Key};
use sspi_package_kerberos::internal::gss;
use sspi_package_kerberos::internal::keytab::Keytab;
use sspi_package_kerberos::internal::principal::Principal;
use sspi_package_kerberos::internal::protection::{PerMessageSetup, PerMessageTokens};
use sspi_package_kerberos::internal::replay::ReplayCache;
use sspi_package_kerberos::internal::time::KrbTime;

fn key(etype: Etype, byte: u8) -> Key {
    Key::new(etype, vec![byte; etype.key_len()]).unwrap()
}

fn pair(etype: Etype) -> (PerMessageTokens, PerMessageTokens) {
    let k = key(etype, 9);
    let make = |acceptor| {
        PerMessageTokens::new(&PerMessageSetup {
            key: &k,
            acceptor,
            acceptor_subkey: true,
            send_sequence: 5,
            receive_sequence: 5,
            confidentiality: true,
        })
        .unwrap()
    };
    (make(false), make(true))
}

fn keytab() -> (Keytab, Principal, Key) {
    let service = Principal::parse("host/localhost@R", "").unwrap();
    let k = key(Etype::Aes256CtsHmacSha196, 3);
    let mut kt = Keytab::default();
    kt.push(&service, 2, &k, 0);
    (kt, service, k)
}

/// A valid GSS AP-REQ for the keytab's service.
fn valid_ap_req(service: &Principal, service_key: &Key) -> Vec<u8> {
    let client = Principal::parse("alice@R", "").unwrap();
    let session = key(Etype::Aes256CtsHmacSha196, 4);
    let now = KrbTime::now();
    let part =
        picky_krb::data_types::EncTicketPart::from(picky_krb::data_types::EncTicketPartInner {
            flags: picky_asn1::wrapper::ExplicitContextTag0::from(
                sspi_package_kerberos::internal::messages::flags(0),
            ),
            key: picky_asn1::wrapper::ExplicitContextTag1::from(session.to_asn1()),
            crealm: picky_asn1::wrapper::ExplicitContextTag2::from(client.realm_asn1().unwrap()),
            cname: picky_asn1::wrapper::ExplicitContextTag3::from(client.to_asn1().unwrap()),
            transited: picky_asn1::wrapper::ExplicitContextTag4::from(
                picky_krb::data_types::TransitedEncoding {
                    tr_type: picky_asn1::wrapper::ExplicitContextTag0::from(
                        sspi_package_kerberos::internal::principal::integer(1),
                    ),
                    contents: picky_asn1::wrapper::ExplicitContextTag1::from(
                        picky_asn1::wrapper::OctetStringAsn1::from(vec![]),
                    ),
                },
            ),
            auth_time: picky_asn1::wrapper::ExplicitContextTag5::from(now.to_kerberos()),
            starttime: picky_asn1::wrapper::Optional::from(None),
            endtime: picky_asn1::wrapper::ExplicitContextTag7::from(now.plus(3600).to_kerberos()),
            renew_till: picky_asn1::wrapper::Optional::from(None),
            caddr: picky_asn1::wrapper::Optional::from(None),
            authorization_data: picky_asn1::wrapper::Optional::from(None),
        });
    let enc = service_key
        .encrypt_data(2, &picky_asn1_der::to_vec(&part).unwrap(), Some(2))
        .unwrap();
    let ticket = sspi_package_kerberos::internal::messages::ticket(service, enc).unwrap();
    let subkey = key(Etype::Aes256CtsHmacSha196, 5);
    let spec = AuthenticatorSpec {
        client: &client,
        checksum: Some((gss::CHECKSUM_8003, gss::checksum_8003(0x3e, [0; 16], None))),
        subkey: Some(&subkey),
        seq: Some(7),
        time: now,
    };
    let req = ap::ap_req(
        &ticket,
        &session,
        11,
        sspi_package_kerberos::internal::messages::AP_OPTION_MUTUAL_REQUIRED,
        &spec,
    )
    .unwrap();
    gss::frame(gss::TOK_AP_REQ, req).unwrap()
}

/// A replay cache in a file of its own (removed with the directory at exit).
fn replay_cache(capacity: usize) -> ReplayCache {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let dir = DIR.get_or_init(|| tempfile::tempdir().unwrap());
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    ReplayCache::new(dir.path().join(format!("rcache-{n}")), capacity)
}

fn accept(token: &[u8], kt: &Keytab, service: &Principal, replay: &ReplayCache) -> bool {
    let Ok(gss::Received::Message(req)) = gss::unframe::<ApReq>(token, gss::TOK_AP_REQ) else {
        return false;
    };
    let keys = AcceptorKeys {
        keytab: kt,
        service: Some(service),
        skew: 300,
        replay,
        channel_bindings: None,
        require_channel_bindings: false,
    };
    acceptor::verify(&req, &keys).is_ok()
}

#[test]
fn a_valid_ap_req_is_accepted_once() {
    let (kt, service, k) = keytab();
    let replay = replay_cache(100);
    let token = valid_ap_req(&service, &k);
    if let Some(dir) = std::env::var_os("SSPI_KRB_SEEDS") {
        // A seed for the cargo-fuzz target ap_req.
        std::fs::write(std::path::Path::new(&dir).join("ap_req"), &token).unwrap();
    }
    assert!(accept(&token, &kt, &service, &replay));
    assert!(!accept(&token, &kt, &service, &replay));
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
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn keytab_parser_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Keytab::parse(&data);
        let mut with_header = vec![0x05, 0x02];
        with_header.extend_from_slice(&data);
        let _ = Keytab::parse(&with_header);
    }

    #[test]
    fn mutated_keytabs_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..6)) {
        let (kt, _, _) = keytab();
        let bytes = kt.to_bytes().unwrap().to_vec();
        let _ = Keytab::parse(&mutate(bytes, &edits));
    }

    #[test]
    fn mutated_ap_reqs_never_panic_nor_pass(edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..5)) {
        let (kt, service, k) = keytab();
        let replay = replay_cache(10_000);
        let token = valid_ap_req(&service, &k);
        let bad = mutate(token.clone(), &edits);
        if bad != token {
            // A changed byte in a DER length may still decode the same
            // content; what decodes must then authenticate or be refused.
            let _ = accept(&bad, &kt, &service, &replay);
        }
    }

    #[test]
    fn random_context_tokens_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        let (kt, service, _) = keytab();
        let replay = replay_cache(100);
        let mut framed = vec![0x60, data.len().min(127) as u8];
        framed.extend_from_slice(&data);
        for token in [&data[..], &framed[..]] {
            prop_assert!(!accept(token, &kt, &service, &replay));
            let _ = gss::unframe::<ApRep>(token, gss::TOK_AP_REP);
            let _ = sspi_package_kerberos::internal::krb_error::KdcError::parse(token);
            let _ = sspi_package_kerberos::internal::der::kdc_req_body(token);
            let _ = sspi_package_kerberos::internal::as_exchange::enc_kdc_rep_part(token);
            let _ = picky_asn1_der::from_bytes::<picky_krb::messages::AsRep>(token);
            let _ = picky_asn1_der::from_bytes::<picky_krb::messages::KrbError>(token);
        }
    }

    #[test]
    fn mutated_wrap_and_mic_tokens_are_refused(
        len in 0usize..200,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..4),
        which in 0u8..3,
        aes128 in any::<bool>(),
    ) {
        let etype = if aes128 { Etype::Aes128CtsHmacSha196 } else { Etype::Aes256CtsHmacSha196 };
        let (mut client, mut server) = pair(etype);
        let text: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut data = text.clone();
        let mut token = vec![0u8; 60];
        let qop = if which == 1 { Qop::WRAP_NO_ENCRYPT } else { Qop::DEFAULT };
        if which == 2 {
            let mut msg = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
            client.make_signature(Qop::DEFAULT, &mut msg).unwrap();
            let t = msg[1].as_slice().to_vec();
            let (bad_t, bad_d) = (mutate(t.clone(), &edits), mutate(text.clone(), &edits[..1]));
            if bad_t != t || bad_d != text {
                let (mut bt, mut bd) = (bad_t, bad_d);
                let mut msg = [SecBuffer::data(&mut bd), SecBuffer::token(&mut bt)];
                prop_assert!(server.verify_signature(&mut msg).is_err());
            }
        } else {
            let mut msg = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
            client.encrypt_message(qop, &mut msg).unwrap();
            let t = msg[0].as_slice().to_vec();
            let d = msg[1].as_slice().to_vec();
            let bad_t = mutate(t.clone(), &edits);
            if bad_t != t {
                let (mut bt, mut bd) = (bad_t, d.clone());
                let mut msg = [SecBuffer::token(&mut bt), SecBuffer::data(&mut bd)];
                // Refused, or (RFC 4121 leaves RRC outside the checksum, and
                // any RRC is taken) a changed RRC that means the same
                // rotation: then the same message opens, nothing forged.
                if server.decrypt_message(&mut msg).is_ok() {
                    prop_assert_eq!(msg[1].as_slice(), &text[..]);
                    // That was the message: the rest of the case assumes
                    // it has not been received yet.
                    return Ok(());
                }
            }
            if !d.is_empty() {
                let mut bd = d.clone();
                let (at, _, v) = edits[0];
                let i = at % bd.len();
                bd[i] ^= v | 1;
                let mut bt = t.clone();
                let mut msg = [SecBuffer::token(&mut bt), SecBuffer::data(&mut bd)];
                prop_assert!(server.decrypt_message(&mut msg).is_err());
            }
            // The untouched message still opens: failures consumed nothing.
            let (mut bt, mut bd) = (t, d);
            let mut msg = [SecBuffer::token(&mut bt), SecBuffer::data(&mut bd)];
            prop_assert_eq!(server.decrypt_message(&mut msg).unwrap(), qop);
            prop_assert_eq!(msg[1].as_slice(), &text[..]);
        }
    }
}
