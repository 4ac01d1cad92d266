//! CHALLENGE_MESSAGE parser and its AV_PAIR list: arbitrary bytes never panic;
//! what parses is written back and parses to the same fields (VERSION aside:
//! a message whose flag announces one without room for it is read as having
//! none, and written back with zeros).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspi_package_ntlm::internal::messages::{AvPairs, Challenge};

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Challenge::parse(data) {
        if let Ok(pairs) = AvPairs::parse(message.target_info) {
            let _ = pairs.timestamp();
            let _ = pairs.av_flags();
        }
        if let Ok(bytes) = message.write() {
            let again = Challenge::parse(&bytes).expect("our own encoding parses");
            assert_eq!(
                (
                    again.flags,
                    again.server_challenge,
                    again.target_name,
                    again.target_info
                ),
                (
                    message.flags,
                    message.server_challenge,
                    message.target_name,
                    message.target_info
                )
            );
        }
    }
});
