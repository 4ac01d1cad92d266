//! AUTHENTICATE_MESSAGE parser and the NTLMv2 response inside it: arbitrary bytes never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspi_package_ntlm::internal::messages::{Authenticate, Ntlmv2Response};

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Authenticate::parse(data) {
        let _ = Ntlmv2Response::parse(message.nt_response);
        let _ = message.write();
    }
    let _ = Ntlmv2Response::parse(data);
});
