//! RFC 4121 wrap and MIC tokens: arbitrary (token, data) never panic and are never accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspi_core::{Qop, SecBuffer};
use sspi_package_kerberos::internal::crypto::{Etype, Key};
use sspi_package_kerberos::internal::protection::{PerMessageSetup, PerMessageTokens};

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let split = usize::from(split).min(rest.len());
    let (token, payload) = rest.split_at(split);
    let key = Key::new(Etype::Aes128CtsHmacSha196, vec![9; 16]).unwrap();
    let mut p = PerMessageTokens::new(&PerMessageSetup {
        key: &key,
        acceptor: true,
        acceptor_subkey: true,
        send_sequence: 0,
        receive_sequence: 0,
        confidentiality: true,
    })
    .unwrap();
    let (mut t, mut d) = (token.to_vec(), payload.to_vec());
    let mut msg = [SecBuffer::token(&mut t), SecBuffer::data(&mut d)];
    assert!(p.decrypt_message(&mut msg).is_err());
    let (mut t, mut d) = (token.to_vec(), payload.to_vec());
    let mut msg = [SecBuffer::data(&mut d), SecBuffer::token(&mut t)];
    assert!(p.verify_signature(&mut msg).is_err());
});
