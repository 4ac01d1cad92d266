//! Regression tests for the DER gate (`der::check`, `messages::decode`,
//! `messages::decode_gss_token`): the inputs that overflowed an addition in
//! picky-asn1-der 0.5.7 (`de/mod.rs:643`, a panic in a debug build), found by
//! the `kdc_request` and `ap_rep` fuzz targets, reach every reader of peer
//! bytes in the package and are refused with an error, and no source file
//! decodes with picky except through the gate.

use picky_krb::messages::{ApRep, ApReq, AsRep, TgsRep};
use sspi_package_kerberos::internal::acceptor::{self, AcceptorKeys};
use sspi_package_kerberos::internal::ap::{self, AuthenticatorSpec};
use sspi_package_kerberos::internal::as_exchange::{self, AsRequest};
use sspi_package_kerberos::internal::crypto::{Etype, Key};
use sspi_package_kerberos::internal::keytab::Keytab;
use sspi_package_kerberos::internal::krb_error::KdcError;
use sspi_package_kerberos::internal::principal::Principal;
use sspi_package_kerberos::internal::replay::ReplayCache;
use sspi_package_kerberos::internal::tgs_exchange;
use sspi_package_kerberos::internal::ticket::HeldTicket;
use sspi_package_kerberos::internal::time::KrbTime;
use sspi_package_kerberos::internal::transport::KdcTarget;
use sspi_package_kerberos::internal::{der, gss, messages};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;

/// An element with tag `tag` and an 8-byte length of 2^64-1: the fuzzers' crash.
fn crash(tag: u8) -> Vec<u8> {
    let mut bytes = vec![tag, 0x88];
    bytes.extend([0xff; 8]);
    bytes.extend([0x02, 0x02]);
    bytes
}

/// A 4-byte length just short of 4 GiB: in range for the gate's header
/// reader, but far past the input.
fn too_long(tag: u8) -> Vec<u8> {
    vec![tag, 0x84, 0xff, 0xff, 0xff, 0xf0, 0x30, 0x00]
}

/// The same wrapped in an RFC 4121 InitialContextToken with `token_id`.
fn gss_token(token_id: [u8; 2], inner: &[u8]) -> Vec<u8> {
    let oid = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
    ];
    let mut content = oid.to_vec();
    content.extend(token_id);
    content.extend(inner);
    let mut token = vec![0x60, content.len() as u8];
    token.extend(content);
    token
}

fn is_der_error<T>(result: Result<T, messages::DecodeError>) -> bool {
    matches!(result, Err(messages::DecodeError::Der(_)))
}

#[test]
fn the_fuzzers_crash_inputs_are_refused_by_every_reader() {
    for bad in [crash(0x6e), too_long(0x6e)] {
        assert!(is_der_error(messages::decode::<ApReq>(&bad)));
        let framed = gss_token(gss::TOK_AP_REQ, &bad);
        let Err(err) = gss::unframe::<ApReq>(&framed, gss::TOK_AP_REQ) else {
            panic!("decoded");
        };
        assert!(err.contains("invalid DER at byte 15"), "{err}");
    }
    for bad in [crash(0x6f), too_long(0x6f)] {
        let framed = gss_token(gss::TOK_AP_REP, &bad);
        let Err(err) = gss::unframe::<ApRep>(&framed, gss::TOK_AP_REP) else {
            panic!("decoded");
        };
        assert!(err.contains("invalid DER"), "{err}");
    }
    for tag in [0x6b, 0x6d, 0x79, 0x7a, 0x7e, 0x30] {
        for bad in [crash(tag), too_long(tag)] {
            assert!(is_der_error(messages::decode::<AsRep>(&bad)));
            assert!(is_der_error(messages::decode::<TgsRep>(&bad)));
            assert!(as_exchange::enc_kdc_rep_part(&bad).is_none());
            assert!(KdcError::parse(&bad).is_none());
            assert!(der::kdc_req_body(&bad).is_none());
            let err = messages::choose_etype_info2(&bad, &Etype::ALL, b"R").unwrap_err();
            assert!(err.contains("invalid DER"), "{err}");
        }
    }
}

/// The acceptor decrypts a ticket whose plaintext is the crash input.
#[test]
fn an_encrypted_part_is_checked_too() {
    let service = Principal::parse("host/localhost@R", "").unwrap();
    let service_key = Key::new(Etype::Aes256CtsHmacSha196, vec![3; 32]).unwrap();
    let mut keytab = Keytab::default();
    keytab.push(&service, 2, &service_key, 0);
    let enc = service_key.encrypt_data(2, &crash(0x63), Some(2)).unwrap();
    let ticket = messages::ticket(&service, enc).unwrap();
    let client = Principal::parse("alice@R", "").unwrap();
    let session = Key::new(Etype::Aes256CtsHmacSha196, vec![4; 32]).unwrap();
    let spec = AuthenticatorSpec {
        client: &client,
        checksum: None,
        subkey: None,
        seq: None,
        time: KrbTime::now(),
    };
    let req = ap::ap_req(&ticket, &session, 11, 0, &spec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let replay = ReplayCache::new(dir.path().join("rcache"), 10);
    let keys = AcceptorKeys {
        keytab: &keytab,
        service: Some(&service),
        skew: 300,
        replay: &replay,
        channel_bindings: None,
        require_channel_bindings: false,
    };
    let err = acceptor::verify(&req, &keys).unwrap_err();
    assert!(err.message().contains("malformed"), "{}", err.message());
}

/// A KDC that answers every request on `connections` connections with `reply`.
fn fake_kdc(reply: Vec<u8>, connections: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            let mut prefix = [0u8; 4];
            if stream.read_exact(&mut prefix).is_err() {
                continue;
            }
            let mut request = vec![0u8; u32::from_be_bytes(prefix) as usize];
            let _ = stream.read_exact(&mut request);
            let mut framed = (reply.len() as u32).to_be_bytes().to_vec();
            framed.extend(&reply);
            let _ = stream.write_all(&framed);
        }
    });
    addr
}

/// The client reads a hostile KDC's AS-REP and TGS-REP through the gate.
#[test]
fn a_hostile_kdc_reply_is_an_error_not_a_panic() {
    let client = Principal::user("alice", "R");
    let etypes = Etype::ALL;
    for (tag, what) in [(0x6b, "AS-REP"), (0x7e, "KRB-ERROR")] {
        let addresses = [fake_kdc(crash(tag), 1)];
        let kdc = KdcTarget {
            realm: "R",
            addresses: &addresses,
            timeout: std::time::Duration::from_secs(2),
            retries: 0,
        };
        let request = AsRequest {
            client: &client,
            password: b"pw",
            etypes: &etypes,
            lifetime: 3600,
            kdc: &kdc,
            known_key: None,
        };
        let err = as_exchange::request_tgt(&request).unwrap_err();
        assert!(
            err.message().contains("malformed"),
            "{what}: {}",
            err.message()
        );
    }
    let session = Key::new(Etype::Aes256CtsHmacSha196, vec![4; 32]).unwrap();
    let tgs = Principal::krbtgt("R");
    let enc = session.encrypt_data(2, b"opaque", Some(1)).unwrap();
    let tgt = HeldTicket {
        client: client.clone(),
        server: tgs.clone(),
        ticket: messages::ticket(&tgs, enc).unwrap(),
        session_key: session,
        flags: 0,
        auth_time: 0,
        start_time: 0,
        end_time: i64::MAX,
        renew_till: 0,
    };
    let addresses = [fake_kdc(crash(0x6d), 1)];
    let kdc = KdcTarget {
        realm: "R",
        addresses: &addresses,
        timeout: std::time::Duration::from_secs(2),
        retries: 0,
    };
    let service = Principal::parse("host/svc", "R").unwrap();
    let err =
        tgs_exchange::request_service_ticket(&tgt, &service, &etypes, 3600, &kdc).unwrap_err();
    assert!(err.message().contains("TGS-REP"), "{}", err.message());
}

/// Every typed decode of peer bytes goes through `messages::decode` or
/// `messages::decode_gss_token`: no other source file calls picky's decoders.
#[test]
fn no_source_file_decodes_around_the_gate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let forbidden = [
        "picky_asn1_der::from_bytes",
        "picky_asn1_der::from_reader",
        "Deserializer::new_from",
        "decode_application_krb_message",
    ];
    let mut found = Vec::new();
    for dir in [
        "packages/kerberos/src",
        "packages/kerberos/plugin/src",
        "kdc/src",
    ] {
        let mut stack = vec![root.join(dir)];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("src/messages.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                if forbidden.iter().any(|f| line.contains(f)) {
                    found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "decode peer bytes with sspi_package_kerberos::internal::messages::decode:\n{}",
        found.join("\n")
    );
}
