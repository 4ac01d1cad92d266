//! libFuzzer target over the SPNEGO codec: classify, decode_init, decode_resp and re-encoding.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sspi_package_negotiate_fuzz::check(data);
});
