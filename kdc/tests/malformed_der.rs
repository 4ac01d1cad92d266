//! Regression tests: the DER that overflowed an addition in picky-asn1-der
//! 0.5.7 (a panic in a debug build, found by the `kdc_request` fuzz target:
//! `6c 88 ff ff ff ff ff ff ff ff 02 02`) is refused by the DER check before
//! picky sees it: answered KRB_ERR_GENERIC naming the bad byte, not caught as
//! a panic. Over the network, see `network.rs`.

mod common;

use picky_asn1::wrapper::{ExplicitContextTag0, ExplicitContextTag2, OctetStringAsn1, Optional};
use picky_krb::data_types::EncryptedData;
use sspi_kdc::{Database, KdcConfig, KdcState, handle};
use sspi_package_kerberos::internal::crypto::Etype;
use sspi_package_kerberos::internal::krb_error::{self, KdcError};
use sspi_package_kerberos::internal::messages::{PA_ENC_TIMESTAMP, pa_data};
use sspi_package_kerberos::internal::principal::{Principal, integer};
use std::sync::atomic::Ordering;

const REALM: &str = "R.TEST";

fn state() -> KdcState {
    let db = Database::parse("alice password pw\n", REALM, "test").unwrap();
    KdcState::new(KdcConfig::new(db)).unwrap()
}

/// `tag`, an 8-byte length of 2^64-1, then two bytes.
fn crash(tag: u8) -> Vec<u8> {
    let mut bytes = vec![tag, 0x88];
    bytes.extend([0xff; 8]);
    bytes.extend([0x02, 0x02]);
    bytes
}

fn refusal(state: &KdcState, request: &[u8]) -> KdcError {
    let reply = handle(state, request).expect("a KDC request gets an answer");
    KdcError::parse(&reply).expect("a KRB-ERROR")
}

#[test]
fn the_fuzzers_crash_datagram_is_refused_as_malformed_der() {
    let state = state();
    assert_eq!(
        crash(0x6c),
        [
            0x6c, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x02
        ]
    );
    for tag in [0x6c, 0x6a] {
        let error = refusal(&state, &crash(tag));
        assert_eq!(error.code, krb_error::GENERIC);
        let text = error.text.unwrap_or_default();
        assert!(text.contains("invalid DER at byte 0"), "{text}");
    }
    // A length that fits four bytes but runs past the datagram, one level in.
    let error = refusal(&state, &[0x6a, 0x06, 0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]);
    assert!(
        error
            .text
            .unwrap_or_default()
            .contains("invalid DER at byte 2")
    );
    assert_eq!(
        state.panics.load(Ordering::Relaxed),
        0,
        "refused, not caught"
    );
}

/// A PA-ENC-TIMESTAMP that decrypts (with alice's key) to the crash input.
#[test]
fn an_encrypted_timestamp_is_checked_too() {
    let state = state();
    let client = Principal::user("alice", REALM);
    let key = Etype::Aes256CtsHmacSha196
        .string_to_key(b"pw", &client.salt(), None)
        .unwrap();
    let cipher = key.encrypt(1, &crash(0x30)).unwrap();
    let data = EncryptedData {
        etype: ExplicitContextTag0::from(integer(18)),
        kvno: Optional::from(None),
        cipher: ExplicitContextTag2::from(OctetStringAsn1::from(cipher)),
    };
    let padata = pa_data(PA_ENC_TIMESTAMP, picky_asn1_der::to_vec(&data).unwrap());
    let error = refusal(
        &state,
        &common::as_req_bytes(&client, b"pw", 7, vec![padata]),
    );
    assert_eq!(error.code, krb_error::GENERIC);
    let text = error.text.unwrap_or_default();
    assert!(text.contains("PA-ENC-TS-ENC: invalid DER"), "{text}");
    assert_eq!(state.panics.load(Ordering::Relaxed), 0);
}
