//! The client's readers of KDC replies: KRB-ERROR (lenient), METHOD-DATA and
//! ETYPE-INFO2, AS-REP/TGS-REP and their decrypted parts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspi_package_kerberos::internal::crypto::Etype;
use sspi_package_kerberos::internal::krb_error::KdcError;
use sspi_package_kerberos::{as_exchange, der, messages};

fuzz_target!(|data: &[u8]| {
    if let Some(e) = KdcError::parse(data) {
        let _ = e.describe();
    }
    let _ = messages::choose_etype_info2(data, &Etype::ALL, b"Rsalt");
    let _ = as_exchange::enc_kdc_rep_part(data);
    let _ = der::kdc_req_body(data);
    let _ = messages::decode::<picky_krb::messages::AsRep>(data);
    let _ = messages::decode::<picky_krb::messages::TgsRep>(data);
});
