//! A credential cache file: parsed without panicking, and what parses is
//! written back and parses to the same cache.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspi_package_kerberos::internal::ccache::CredentialCache;
use sspi_package_kerberos::internal::principal::Principal;

fuzz_target!(|data: &[u8]| {
    if let Ok(cache) = CredentialCache::parse(data) {
        let bytes = cache.to_bytes().expect("a parsed cache is writable");
        let again = CredentialCache::parse(&bytes).expect("what we write parses");
        assert_eq!(again, cache);
        let realm = cache.principal.realm.clone();
        let _ = cache.ticket_for(&Principal::krbtgt(&realm));
    }
});
