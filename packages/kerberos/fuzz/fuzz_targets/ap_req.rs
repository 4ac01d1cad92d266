//! The acceptor: a GSS AP-REQ token, unframed and checked against a keytab.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picky_krb::messages::ApReq;
use sspi_package_kerberos::internal::acceptor::{self, AcceptorKeys};
use sspi_package_kerberos::internal::crypto::{Etype, Key};
use sspi_package_kerberos::internal::gss;
use sspi_package_kerberos::internal::keytab::Keytab;
use sspi_package_kerberos::internal::principal::Principal;
use sspi_package_kerberos::internal::replay::ReplayCache;
use std::sync::OnceLock;

fn setup() -> &'static (Keytab, Principal, ReplayCache) {
    static S: OnceLock<(Keytab, Principal, ReplayCache)> = OnceLock::new();
    S.get_or_init(|| {
        let service = Principal::parse("host/localhost@R", "").unwrap();
        let mut kt = Keytab::default();
        kt.push(
            &service,
            2,
            &Key::new(Etype::Aes256CtsHmacSha196, vec![3; 32]).unwrap(),
            0,
        );
        kt.push(
            &service,
            2,
            &Key::new(Etype::Aes128CtsHmacSha196, vec![3; 16]).unwrap(),
            0,
        );
        let file = std::env::temp_dir().join(format!("sspi-fuzz-{}.rcache", std::process::id()));
        (kt, service, ReplayCache::new(file, 1000))
    })
}

fuzz_target!(|data: &[u8]| {
    let (kt, service, replay) = setup();
    let req = if data.first() == Some(&0x6e) {
        sspi_package_kerberos::internal::messages::decode::<ApReq>(data).ok()
    } else {
        match gss::unframe::<ApReq>(data, gss::TOK_AP_REQ) {
            Ok(gss::Received::Message(m)) => Some(m),
            _ => None,
        }
    };
    if let Some(req) = req {
        let keys = AcceptorKeys {
            keytab: kt,
            service: Some(service),
            skew: 300,
            replay,
            channel_bindings: None,
            require_channel_bindings: false,
        };
        let _ = acceptor::verify(&req, &keys);
    }
});
