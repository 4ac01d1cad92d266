//! AV_PAIR list parser: arbitrary bytes never panic; the iterator stays inside the list.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspi_package_ntlm::internal::messages::AvPairs;

fuzz_target!(|data: &[u8]| {
    if let Ok(pairs) = AvPairs::parse(data) {
        let total: usize = pairs.iter().map(|(_, v)| v.len() + 4).sum();
        assert_eq!(total + 4, pairs.as_bytes().len());
        let _ = (pairs.timestamp(), pairs.av_flags());
    }
});
