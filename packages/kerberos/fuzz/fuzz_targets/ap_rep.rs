//! The initiator's side of the second leg: an AP-REP or KRB-ERROR token.
#![no_main]

use libfuzzer_sys::fuzz_target;
use picky_krb::data_types::EncApRepPart;
use picky_krb::messages::ApRep;
use sspi_package_kerberos::internal::crypto::{Etype, Key};
use sspi_package_kerberos::internal::gss;
use sspi_package_kerberos::internal::krb_error::KdcError;

fuzz_target!(|data: &[u8]| {
    let key = Key::new(Etype::Aes256CtsHmacSha196, vec![4; 32]).unwrap();
    match gss::unframe::<ApRep>(data, gss::TOK_AP_REP) {
        Ok(gss::Received::Message(rep)) => {
            if let Ok(plain) = key.decrypt_data(12, &rep.0.enc_part.0) {
                let _ = sspi_package_kerberos::internal::messages::decode::<EncApRepPart>(&plain);
            }
        }
        Ok(gss::Received::Error(der)) => {
            let _ = KdcError::parse(&der).map(|e| e.describe());
        }
        Err(_) => {}
    }
    let _ = gss::parse_8003(data);
});
