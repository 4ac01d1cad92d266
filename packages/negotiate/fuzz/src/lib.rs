//! The checks the `token` fuzz target runs on every input, shared with the stable corpus test.
#![deny(missing_docs)]

use sspi_package_negotiate::token::{
    IncomingToken, NegTokenInit, NegotiationToken, classify, decode_init, decode_resp, encode_init,
    encode_mech_type_list, encode_resp,
};

fn reencode_init(init: &NegTokenInit) {
    // DER decoding is strict, so the verbatim list is what we would encode ourselves.
    assert_eq!(encode_mech_type_list(&init.mech_types), init.mech_types_der);
    let bytes = encode_init(
        &init.mech_types_der,
        init.mech_token.as_deref(),
        init.mech_list_mic.as_deref(),
    );
    let again = decode_init(&bytes).expect("our own NegTokenInit decodes");
    assert_eq!(again.mech_types, init.mech_types);
    assert_eq!(again.mech_types_der, init.mech_types_der);
    assert_eq!(again.mech_token, init.mech_token);
    assert_eq!(again.mech_list_mic, init.mech_list_mic);
    assert_eq!(again.hint_name, None);
}

/// Runs the codec on `data`: no panic (the harness catches one), and whatever decodes
/// re-encodes to something that decodes to the same fields.
pub fn check(data: &[u8]) {
    match classify(data) {
        Ok(IncomingToken::Spnego(NegotiationToken::Init(init))) => reencode_init(&init),
        Ok(IncomingToken::Spnego(NegotiationToken::Resp(resp))) => {
            assert_eq!(decode_resp(&encode_resp(&resp)).as_ref(), Ok(&resp));
        }
        Ok(IncomingToken::RawNtlm(raw) | IncomingToken::RawKerberos(raw)) => {
            assert_eq!(raw, data);
        }
        Err(e) => assert!(!e.reason().is_empty()),
    }
    if let Ok(init) = decode_init(data) {
        reencode_init(&init);
    }
    if let Ok(resp) = decode_resp(data) {
        assert_eq!(decode_resp(&encode_resp(&resp)).as_ref(), Ok(&resp));
    }
}
