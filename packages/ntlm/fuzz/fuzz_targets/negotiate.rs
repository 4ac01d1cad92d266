//! NEGOTIATE_MESSAGE parser: arbitrary bytes never panic; what parses re-parses from its own encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspi_package_ntlm::internal::messages::Negotiate;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Negotiate::parse(data)
        && let Ok(bytes) = message.write()
    {
        assert!(Negotiate::parse(&bytes).is_ok());
    }
});
