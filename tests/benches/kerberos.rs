//! `kerberos`: the Kerberos package loaded as the plugin, against the embedded KDC.
//!
//! * `kerberos_authentication/full_as_tgs_ap`: new client credentials each
//!   time, so AS (with the PREAUTH_REQUIRED round trip and string-to-key),
//!   TGS and AP with mutual authentication all happen over loopback TCP;
//! * `kerberos_authentication/cached_tickets_ap_only`: the same client
//!   credentials, so only the AP exchange (tickets come from the cache);
//! * `kerberos_seal_unseal_64KiB/{ours_plugin,raw_inplace_profile,picky_cipher}`:
//!   one EncryptMessage + DecryptMessage of 64 KiB (aes256-cts-hmac-sha1-96)
//!   through the plugin, the same RFC 3961 work with this crate's in-place
//!   primitive (keys derived once), and picky-krb's `Cipher::encrypt` +
//!   `decrypt` (the raw primitive of the same enctype, which derives the keys
//!   and allocates per call).

#[path = "../tests/common/kerberos_fixture.rs"]
mod fixture;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use picky_krb::crypto::CipherSuite;
use sspi_core::{CredentialUse, Qop, SecBuffer};
use sspi_package_kerberos::internal::crypto::cts::Segments;
use sspi_package_kerberos::internal::crypto::{Etype, Key};
use sspi_plugin_host::loopback;
use sspi_tests::{ASC_REQ, ISC_REQ};
use std::hint::black_box;

const LEN: usize = 64 * 1024;

fn authentication(c: &mut Criterion) {
    let realm = fixture::realm();
    let host = realm.host();
    let server = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::INBOUND, None)
        .unwrap();
    let mut group = c.benchmark_group("kerberos_authentication");
    group.sample_size(30);
    group.bench_function("full_as_tgs_ap", |b| {
        b.iter(|| {
            let client = host
                .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
                .unwrap();
            black_box(
                loopback::handshake(&client, &server, Some(fixture::SERVICE), ISC_REQ, ASC_REQ)
                    .unwrap(),
            );
        })
    });
    let client = host
        .acquire_credentials_handle("Kerberos", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    group.bench_function("cached_tickets_ap_only", |b| {
        b.iter(|| {
            black_box(
                loopback::handshake(&client, &server, Some(fixture::SERVICE), ISC_REQ, ASC_REQ)
                    .unwrap(),
            );
        })
    });
    group.finish();
}

fn seal_unseal(c: &mut Criterion) {
    let realm = fixture::realm();
    let host = realm.host();
    let (client, server) = fixture::credentials(&host, None);
    let mut done =
        loopback::handshake(&client, &server, Some(fixture::SERVICE), ISC_REQ, ASC_REQ).unwrap();
    let mut group = c.benchmark_group("kerberos_seal_unseal_64KiB");
    group.throughput(Throughput::Bytes(LEN as u64));
    let mut data = vec![0x5au8; LEN];
    let mut trailer = vec![0u8; 60];
    group.bench_function("ours_plugin", |b| {
        b.iter(|| {
            trailer.resize(60, 0);
            let mut msg = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
            done.client
                .encrypt_message(Qop::DEFAULT, &mut msg, 0)
                .unwrap();
            done.server.decrypt_message(&mut msg, 0).unwrap();
            black_box(msg[1].as_slice()[0]);
        })
    });

    let key = Key::new(Etype::Aes256CtsHmacSha196, vec![7; 32]).unwrap();
    let keys = key.usage(24).unwrap();
    let mut conf = [1u8; 16];
    let mut header = [2u8; 16];
    group.bench_function("raw_inplace_profile", |b| {
        b.iter(|| {
            let mac = keys.encrypt_in_place(&mut Segments::new(&mut conf, &mut data, &mut header));
            keys.decrypt_in_place(&mut Segments::new(&mut conf, &mut data, &mut header), &mac)
                .unwrap();
            black_box(data[0]);
        })
    });

    let cipher = CipherSuite::Aes256CtsHmacSha196.cipher();
    let plain = vec![0x5au8; LEN + 16];
    group.bench_function("picky_cipher", |b| {
        b.iter(|| {
            let sealed = cipher.encrypt(key.bytes(), 24, black_box(&plain)).unwrap();
            let opened = cipher.decrypt(key.bytes(), 24, &sealed).unwrap();
            black_box(opened[0]);
        })
    });
    group.finish();
}

criterion_group!(benches, authentication, seal_unseal);
criterion_main!(benches);
