//! Known-answer vectors (`tests/data/kerberos-vectors.json`, a copy of the
//! project's reference file): RFC 3962 string-to-key and AES-CTS, the MIT
//! key-derivation, decryption and checksum vectors for aes128/aes256-cts-hmac-sha1-96,
//! checked against this crate's own code paths (the in-place profile and
//! string-to-key with any iteration count), and cross-checked with picky-krb's
//! `Cipher`; and every RFC 8009 vector (etypes 19/20: string-to-key, Kc/Ke/Ki,
//! encryption with the given confounders, checksums, PRF) byte for byte.

use picky_krb::crypto::CipherSuite;
use serde_json::Value;
use sspi_package_kerberos::internal::crypto::cts::{self, AesCipher, Segments};
use sspi_package_kerberos::internal::crypto::kdf::kdf_hmac_sha2;
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
        let e = etype(&case["enctype"]);
        assert_eq!(
            i64::from(e.checksum_type()),
            v["constants"]["checksum_type_numbers"][case["cksumtype"].as_str().unwrap()]
                .as_i64()
                .unwrap()
        );
        let key = Key::new(e, hex(&case["key"])).unwrap();
        let usage = case["usage"].as_i64().unwrap() as i32;
        let sum = key.checksum(usage, &hex(&case["plaintext"])).unwrap();
        assert_eq!(sum.as_slice(), hex(&case["checksum"]).as_slice(), "{case}");
        assert!(key.verify_checksum(usage, &hex(&case["plaintext"]), &hex(&case["checksum"])));
        let mut wrong = hex(&case["plaintext"]);
        wrong[0] ^= 1;
        assert!(!key.verify_checksum(usage, &wrong, &hex(&case["checksum"])));
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn rfc8009_string_to_key() {
    let v = vectors();
    let list = v["rfc8009_string_to_key"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    for case in list {
        let e = etype(&case["enctype"]);
        assert!(e.is_sha2());
        let iterations = case["iterations"].as_u64().unwrap() as u32;
        let key = e
            .string_to_key(
                &hex(&case["password_hex"]),
                &hex(&case["salt_hex"]),
                NonZeroU32::new(iterations),
            )
            .unwrap();
        assert_eq!(key.bytes(), hex(&case["key"]).as_slice(), "{case}");
        // 32768 is RFC 8009's default iteration count.
        assert_eq!(e.default_iterations(), iterations);
        let default = e
            .string_to_key(&hex(&case["password_hex"]), &hex(&case["salt_hex"]), None)
            .unwrap();
        assert_eq!(default.bytes(), key.bytes());
    }
}

#[test]
fn rfc8009_key_derivation() {
    let v = vectors();
    let list = v["rfc8009_key_derivation"].as_array().unwrap();
    assert_eq!(list.len(), 6);
    for case in list {
        let e = etype(&case["enctype"]);
        let expected = hex(&case["derived"]);
        let which = case["which"].as_str().unwrap();
        let want_len = match which {
            "Ke" => e.key_len(),
            "Ki" | "Kc" => e.mac_len(),
            other => panic!("unknown key {other}"),
        };
        assert_eq!(expected.len(), want_len, "{case}");
        let mut out = vec![0u8; want_len];
        kdf_hmac_sha2(
            e.hash(),
            &hex(&case["base_key"]),
            &hex(&case["constant"]),
            &[],
            &mut out,
        )
        .unwrap();
        assert_eq!(out, expected, "{case}");
        // Kc through the profile: the checksum of the empty message is
        // HMAC(Kc, "") truncated, so it matches only with this Kc.
        if which == "Kc" {
            let key = Key::new(e, hex(&case["base_key"])).unwrap();
            let usage = i32::from_be_bytes(hex(&case["constant"])[..4].try_into().unwrap());
            let sum = key.checksum(usage, b"").unwrap();
            let mut direct = vec![0u8; e.mac_len()];
            direct.copy_from_slice(&hmac_trunc(e, &expected, b"")[..e.mac_len()]);
            assert_eq!(sum.as_slice(), direct.as_slice());
        }
    }
}

fn hmac_trunc(e: Etype, key: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::{KeyInit, Mac};
    match e.mac_len() {
        16 => {
            let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).unwrap();
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut m = <hmac::Hmac<sha2::Sha384> as KeyInit>::new_from_slice(key).unwrap();
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
    }
}

#[test]
fn rfc8009_encryption_byte_for_byte() {
    let v = vectors();
    let list = v["rfc8009_encryption"]["vectors"].as_array().unwrap();
    assert_eq!(list.len(), 8);
    for case in list {
        let e = etype(&case["enctype"]);
        let key = Key::new(e, hex(&case["base_key"])).unwrap();
        let usage = case["usage"].as_i64().unwrap() as i32;
        let keys = key.usage(usage).unwrap();
        let plain = hex(&case["plaintext"]);
        let confounder: [u8; 16] = hex(&case["confounder"]).try_into().unwrap();
        let expected = hex(&case["ciphertext"]);
        assert_eq!(
            keys.encrypt_with_confounder(&confounder, &plain),
            expected,
            "{case}"
        );
        // In place over three segments, as the wrap token splits it.
        let mut body = confounder.to_vec();
        body.extend_from_slice(&plain);
        let (a, rest) = body.split_at_mut(5);
        let (b, c) = rest.split_at_mut(rest.len() / 2);
        let tag = keys.encrypt_in_place(&mut Segments::new(a, b, c));
        assert_eq!(&body[..], &expected[..expected.len() - e.mac_len()]);
        assert_eq!(&tag[..], &expected[expected.len() - e.mac_len()..]);
        // Decryption, and tampering with the ciphertext or the MAC is caught.
        assert_eq!(
            key.decrypt(usage, &expected).unwrap().as_slice(),
            &plain[..]
        );
        for at in [0, expected.len() - 1] {
            let mut bad = expected.clone();
            bad[at] ^= 0x80;
            assert!(key.decrypt(usage, &bad).is_err(), "{case} at {at}");
        }
        assert!(key.decrypt(usage + 1, &expected).is_err());
        // A fresh random confounder round-trips.
        let ours = key.encrypt(usage, &plain).unwrap();
        assert_eq!(ours.len(), expected.len());
        assert_eq!(key.decrypt(usage, &ours).unwrap().as_slice(), &plain[..]);
    }
}

#[test]
fn rfc8009_prf() {
    let v = vectors();
    let list = v["rfc8009_prf"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    for case in list {
        let e = etype(&case["enctype"]);
        let key = Key::new(e, hex(&case["base_key"])).unwrap();
        let out = key.prf(&hex(&case["input"])).unwrap();
        assert_eq!(out.as_slice(), hex(&case["output"]).as_slice(), "{case}");
    }
}

#[test]
fn rfc8009_names_numbers_and_rc4_refused() {
    let v = vectors();
    for (name, number) in v["constants"]["enctype_numbers"].as_object().unwrap() {
        let n = number.as_i64().unwrap();
        if name == "rc4-hmac" {
            for text in [name.as_str(), "23", "arcfour-hmac"] {
                let err = Etype::parse(text).unwrap_err();
                assert!(
                    err.contains("not supported") || err.contains("unknown"),
                    "{err}"
                );
            }
            let err = Etype::parse("rc4-hmac").unwrap_err();
            assert!(err.contains("RC4") && err.contains("(20)"), "{err}");
            continue;
        }
        let e = Etype::parse(name).unwrap();
        assert_eq!(i64::from(e.number()), n);
        assert_eq!(Etype::parse(&n.to_string()).unwrap(), e);
        assert_eq!(e.name(), name);
    }
}
