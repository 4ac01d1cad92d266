//! Keytab reader: arbitrary bytes never panic; what parses re-parses from its own encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspi_package_kerberos::internal::keytab::Keytab;

fuzz_target!(|data: &[u8]| {
    if let Ok(keytab) = Keytab::parse(data)
        && let Ok(bytes) = keytab.to_bytes()
    {
        let again = Keytab::parse(&bytes).expect("our own encoding parses");
        assert_eq!(again.entries.len(), keytab.entries.len());
    }
});
