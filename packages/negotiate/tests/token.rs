//! The SPNEGO codec against the captured and hand-built tokens of spnego-notes.md (§4, §5, §6,
//! §9), the leniency checklist (§10.1), and proptest round trips.

use proptest::prelude::*;
use sspi_package_negotiate::oid::{self, MechFamily, Oid};
use sspi_package_negotiate::token::{
    IncomingToken, NegState, NegTokenInit, NegTokenResp, NegotiationToken, classify, decode_init,
    decode_resp, encode_init, encode_mech_type_list, encode_resp,
};

/// Hex with spaces and `"…"` ASCII runs allowed, as the notes write tokens.
fn h(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, part) in text.split('"').enumerate() {
        if i % 2 == 1 {
            out.extend_from_slice(part.as_bytes());
        } else {
            let digits: String = part.chars().filter(|c| !c.is_whitespace()).collect();
            out.extend(hex::decode(digits).expect("test hex"));
        }
    }
    out
}

const NOTES_9_3_INIT2: &str = "60 76 06 06 2b0601050502 a0 6c 30 6a
  a0 3c 30 3a 06 0a 2b06010401823702021e 06 09 2a864882f712010202 06 09 2a864886f712010202
              06 0a 2a864886f71201020203 06 0a 2b06010401823702020a
  a3 2a 30 28 a0 26 1b 24 \"not_defined_in_RFC4178@please_ignore\"";

const NOTES_9_4_NTLM_LEG4: &str =
    "a1 1b 30 19 a0 03 0a 01 00 a3 12 04 10 01000000 791f335a883b1df0 00000000";
const NOTES_4_REQUEST_MIC: &str =
    "a1 15 30 13 a0 03 0a 01 03 a1 0c 06 0a 2b 06 01 04 01 82 37 02 02 0a";
const NOTES_6_SERVER_2025: &str =
    "a1 1b 30 19 a0 03 0a 01 01 a3 12 04 10 01000000 49c217f5398d2467 00000000";
const NOTES_9_5_PACK: &str = "a1 25 30 23 a0 03 0a 01 03 a1 0c 06 0a 2b06010401823702020a \
     a2 06 04 04 00000000 a3 06 04 04 01010101";
const NOTES_5_WINDOWS_LIST: &str = "30 2e 06 09 2a864882f712010202 06 09 2a864886f712010202 \
     06 0a 2b06010401823702021e 06 0a 2b06010401823702020a";
const NOTES_9_5_LIST: &str = "30 17 06 09 2a864886f712010202 06 0a 2b06010401823702020a";

fn resp(token: &[u8]) -> NegTokenResp {
    decode_resp(token).unwrap_or_else(|e| panic!("decode_resp: {e}"))
}

/// Some bytes of `len` starting with `prefix` (the rest of a token the notes elide).
fn padded(prefix: &[u8], len: usize) -> Vec<u8> {
    let mut out = prefix.to_vec();
    out.resize(len, 0x5a);
    out
}

#[test]
fn notes_9_3_negtokeninit2_decodes_with_hints() {
    let bytes = h(NOTES_9_3_INIT2);
    assert_eq!(bytes.len(), 120);
    let init = decode_init(&bytes).unwrap();
    assert_eq!(
        init.mech_types,
        [
            oid::NEGOEX,
            oid::MS_KRB5,
            oid::KRB5,
            oid::KRB5_U2U,
            oid::NTLMSSP
        ]
    );
    assert_eq!(
        init.hint_name.as_deref(),
        Some("not_defined_in_RFC4178@please_ignore")
    );
    assert_eq!(init.mech_token, None);
    assert_eq!(init.mech_list_mic, None);
    match classify(&bytes).unwrap() {
        IncomingToken::Spnego(NegotiationToken::Init(i)) => assert_eq!(i, init),
        other => panic!("classified as {other:?}"),
    }
}

#[test]
fn mech_types_der_is_the_verbatim_received_sequence() {
    let bytes = h(NOTES_9_3_INIT2);
    let init = decode_init(&bytes).unwrap();
    // bytes 16.. are `30 3a …` (after 60 76, the OID, a0 6c, 30 6a, a0 3c).
    assert_eq!(init.mech_types_der, bytes[16..16 + 2 + 0x3a]);
    assert_eq!(init.mech_types_der[..2], [0x30, 0x3a]);
    assert_eq!(encode_mech_type_list(&init.mech_types), init.mech_types_der);

    // A list we would never emit ourselves (a duplicate) is kept byte for byte and decodes.
    let list = h("30 18 06 0a 2b06010401823702020a 06 0a 2b06010401823702020a");
    let token = encode_init(&list, None, None);
    let init = decode_init(&token).unwrap();
    assert_eq!(init.mech_types, [oid::NTLMSSP, oid::NTLMSSP]);
    assert_eq!(init.mech_types_der, list);
}

#[test]
fn notes_negtokenresps_decode_and_reencode_identically() {
    let cases: [(&str, NegTokenResp); 4] = [
        (
            NOTES_9_4_NTLM_LEG4,
            NegTokenResp {
                neg_state: Some(NegState::AcceptCompleted),
                mech_list_mic: Some(h("01000000 791f335a883b1df0 00000000")),
                ..Default::default()
            },
        ),
        (
            NOTES_4_REQUEST_MIC,
            NegTokenResp {
                neg_state: Some(NegState::RequestMic),
                supported_mech: Some(oid::NTLMSSP),
                ..Default::default()
            },
        ),
        (
            NOTES_6_SERVER_2025,
            NegTokenResp {
                neg_state: Some(NegState::AcceptIncomplete),
                mech_list_mic: Some(h("01000000 49c217f5398d2467 00000000")),
                ..Default::default()
            },
        ),
        (
            NOTES_9_5_PACK,
            NegTokenResp {
                neg_state: Some(NegState::RequestMic),
                supported_mech: Some(oid::NTLMSSP),
                response_token: Some(vec![0; 4]),
                mech_list_mic: Some(vec![1; 4]),
            },
        ),
    ];
    for (text, expected) in cases {
        let bytes = h(text);
        assert_eq!(resp(&bytes), expected, "{text}");
        assert_eq!(encode_resp(&expected), bytes, "{text}");
        match classify(&bytes).unwrap() {
            IncomingToken::Spnego(NegotiationToken::Resp(r)) => assert_eq!(r, expected),
            other => panic!("classified as {other:?}"),
        }
    }
}

#[test]
fn notes_mech_type_lists_encode_identically() {
    let windows = [oid::MS_KRB5, oid::KRB5, oid::NEGOEX, oid::NTLMSSP];
    assert_eq!(encode_mech_type_list(&windows), h(NOTES_5_WINDOWS_LIST));
    assert_eq!(
        encode_mech_type_list(&[oid::KRB5, oid::NTLMSSP]),
        h(NOTES_9_5_LIST)
    );
    let mut kerberos_then_ntlm = MechFamily::Kerberos.oids().to_vec();
    kerberos_then_ntlm.extend_from_slice(MechFamily::Ntlm.oids());
    assert_eq!(
        encode_mech_type_list(&kerberos_then_ntlm),
        h("30 22 06 09 2a864882f712010202 06 09 2a864886f712010202 06 0a 2b06010401823702020a")
    );
}

#[test]
fn notes_9_1_kerberos_ntlm_init_has_the_captured_structure() {
    // mechToken: the 1378-byte RFC 4121 AP-REQ token `60 82 05 5e 06 09 <krb5> 01 00 6e 82 05 4d …`.
    let ap_req = padded(
        &h("60 82 05 5e 06 09 2a864886f712010202 01 00 6e 82 05 4d"),
        1378,
    );
    let list = encode_mech_type_list(&[oid::KRB5, oid::NTLMSSP]);
    let token = encode_init(&list, Some(&ap_req), None);
    assert_eq!(token.len(), 1433);
    let prefix = h(
        "60 82 05 95 06 06 2b 06 01 05 05 02 a0 82 05 89 30 82 05 85 a0 19 30 17 \
         06 09 2a 86 48 86 f7 12 01 02 02 06 0a 2b 06 01 04 01 82 37 02 02 0a \
         a2 82 05 66 04 82 05 62 60 82 05 5e 06 09 2a864886f712010202 01 00 6e 82 05 4d",
    );
    assert_eq!(token[..prefix.len()], prefix);
    let init = decode_init(&token).unwrap();
    assert_eq!(init.mech_types, [oid::KRB5, oid::NTLMSSP]);
    assert_eq!(init.mech_token.as_deref(), Some(&ap_req[..]));
    assert_eq!(init.mech_list_mic, None);
    assert_eq!(init.hint_name, None);
}

#[test]
fn notes_9_4_windows_exchanges_have_the_captured_structure() {
    // Kerberos, C→S: [MS-KRB5, KRB5, NEGOEX, NTLM] + 0xc30-byte AP-REQ.
    let list = encode_mech_type_list(&[oid::MS_KRB5, oid::KRB5, oid::NEGOEX, oid::NTLMSSP]);
    let ap_req = padded(&h("60 82 0c 2c 06 09 2a864886f712010202 01 00 6e"), 0xc30);
    let token = encode_init(&list, Some(&ap_req), None);
    let mut prefix = h("60 82 0c 7a 06 06 2b0601050502 a0 82 0c 6e 30 82 0c 6a a0 30");
    prefix.extend(h(NOTES_5_WINDOWS_LIST));
    prefix.extend(h(
        "a2 82 0c 34 04 82 0c 30 60 82 0c 2c 06 09 2a864886f712010202 01 00 6e",
    ));
    assert_eq!(token[..prefix.len()], prefix);
    assert_eq!(
        decode_init(&token).unwrap().mech_types_der,
        h(NOTES_5_WINDOWS_LIST)
    );

    // Kerberos, S→C: accept-completed, supportedMech MS-KRB5, 0x9b-byte AP-REP, no MIC.
    let ap_rep = padded(&h("60 81 98 06 09 2a864886f712010202 02 00 6f"), 0x9b);
    let reply = NegTokenResp {
        neg_state: Some(NegState::AcceptCompleted),
        supported_mech: Some(oid::MS_KRB5),
        response_token: Some(ap_rep),
        mech_list_mic: None,
    };
    let bytes = encode_resp(&reply);
    let prefix = h(
        "a1 81 b6 30 81 b3 a0 03 0a 01 00 a1 0b 06 09 2a 86 48 82 f7 12 01 02 02 \
                    a2 81 9e 04 81 9b 60 81 98",
    );
    assert_eq!(bytes[..prefix.len()], prefix);
    assert_eq!(resp(&bytes), reply);
    assert_eq!(
        oid::family(reply.supported_mech.as_ref().unwrap()),
        Some(MechFamily::Kerberos)
    );

    // NTLM leg 1: mechTypes [NTLM], NEGOTIATE of 0x28 bytes.
    let negotiate = padded(&h("4e544c4d53535000 01000000 978208e2"), 0x28);
    let list = encode_mech_type_list(&[oid::NTLMSSP]);
    let token = encode_init(&list, Some(&negotiate), None);
    let prefix = h(
        "60 48 06 06 2b0601050502 a0 3e 30 3c a0 0e 30 0c 06 0a 2b06010401823702020a \
                    a2 2a 04 28 4e544c4d53535000 01000000 978208e2",
    );
    assert_eq!(token.len(), 0x4a);
    assert_eq!(token[..prefix.len()], prefix);

    // NTLM leg 2: accept-incomplete, NTLM, CHALLENGE of 0xce bytes.
    let challenge = padded(&h("4e544c4d53535000 02000000"), 0xce);
    let reply = NegTokenResp {
        neg_state: Some(NegState::AcceptIncomplete),
        supported_mech: Some(oid::NTLMSSP),
        response_token: Some(challenge),
        mech_list_mic: None,
    };
    let bytes = encode_resp(&reply);
    let prefix = h(
        "a1 81 ea 30 81 e7 a0 03 0a 01 01 a1 0c 06 0a 2b06010401823702020a \
                    a2 81 d1 04 81 ce 4e544c4d53535000 02000000",
    );
    assert_eq!(bytes[..prefix.len()], prefix);
    assert_eq!(resp(&bytes), reply);

    // NTLM leg 3: client's accept-incomplete, AUTHENTICATE of 0x1ee bytes, mechListMIC.
    let authenticate = padded(&h("4e544c4d53535000 03000000"), 0x1ee);
    let mic = h("01000000 a32d4dd6161b084f 00000000");
    let reply = NegTokenResp {
        neg_state: Some(NegState::AcceptIncomplete),
        supported_mech: None,
        response_token: Some(authenticate),
        mech_list_mic: Some(mic),
    };
    let bytes = encode_resp(&reply);
    assert_eq!(
        bytes[..21],
        h("a1 82 02 13 30 82 02 0f a0 03 0a 01 01 a2 82 01 f2 04 82 01 ee")
    );
    assert_eq!(
        bytes[bytes.len() - 20..],
        h("a3 12 04 10 01000000 a32d4dd6161b084f 00000000")
    );
    assert_eq!(resp(&bytes), reply);
}

#[test]
fn notes_9_2_accept_completed_reply_matches_its_base64_prefix() {
    let ap_rep = padded(&h("60 81 99 06 09 2a864886f712010202 02 00 6f 81 89"), 156);
    let bytes = encode_resp(&NegTokenResp {
        neg_state: Some(NegState::AcceptCompleted),
        supported_mech: Some(oid::KRB5),
        response_token: Some(ap_rep),
        mech_list_mic: None,
    });
    assert_eq!(bytes.len(), 186);
    // `oYG3MIG0oAMKAQChCwYJKoZIhvcSAQICooGf` decoded:
    let b64_prefix = h("a18 1b7 3081 b4a0 030a 0100 a10b 0609 2a86 4886 f712 0102 02a2 819f");
    assert_eq!(bytes[..b64_prefix.len()], b64_prefix);
}

#[test]
fn raw_tokens_are_classified() {
    let ntlm = padded(b"NTLMSSP\0\x01\0\0\0", 40);
    assert_eq!(classify(&ntlm).unwrap(), IncomingToken::RawNtlm(&ntlm));

    for mech in ["2a864886f712010202", "2a864882f712010202"] {
        let krb = h(&format!("60 11 06 09 {mech} 01 00 6e 02 30 00"));
        assert_eq!(classify(&krb).unwrap(), IncomingToken::RawKerberos(&krb));
        // … but it is no NegTokenInit.
        assert!(decode_init(&krb).is_err());
    }
    // Kerberos U2U is not accepted raw.
    let u2u = h("60 12 06 0a 2a864886f71201020203 01 00 6e 02 30 00");
    assert!(classify(&u2u).is_err());
    // A raw Kerberos token with trailing bytes after its framing is refused.
    let krb = h("60 11 06 09 2a864886f712010202 01 00 6e 02 30 00 ff");
    assert!(classify(&krb).is_err());
}

#[test]
fn bare_negtokeninit_is_accepted() {
    let framed = encode_init(&h(NOTES_9_5_LIST), Some(b"tok"), Some(b"mic"));
    // Strip `60 LL 06 06 <spnego>`: what remains starts with a0.
    let bare = &framed[10..];
    assert_eq!(bare[0], 0xa0);
    let init = decode_init(bare).unwrap();
    assert_eq!(init, decode_init(&framed).unwrap());
    assert_eq!(init.mech_token.as_deref(), Some(&b"tok"[..]));
    assert_eq!(init.mech_list_mic.as_deref(), Some(&b"mic"[..]));
    assert!(matches!(
        classify(bare).unwrap(),
        IncomingToken::Spnego(NegotiationToken::Init(_))
    ));
}

#[test]
fn old_sun_framing_of_a_resp_is_tolerated() {
    let bare = h(NOTES_4_REQUEST_MIC);
    let mut inner = oid::SPNEGO.to_der();
    inner.extend(&bare);
    let mut framed = vec![0x60, inner.len() as u8];
    framed.extend(inner);
    assert_eq!(resp(&framed), resp(&bare));
}

#[test]
fn init_and_resp_are_not_confused() {
    assert!(decode_init(&h(NOTES_4_REQUEST_MIC)).is_err());
    assert!(decode_resp(&h(NOTES_9_3_INIT2)).is_err());
}

#[test]
fn req_flags_of_any_length_are_ignored() {
    for flags in [
        "a1 04 03 02 01 42",
        "a1 03 03 01 00",
        "a1 07 03 05 00 00 00 00 76",
        "a1 02 05 00",
    ] {
        let body = h(&format!(
            "a0 0e 30 0c 06 0a 2b06010401823702020a {flags} a2 03 04 01 77"
        ));
        let mut seq = vec![0x30, body.len() as u8];
        seq.extend(body);
        let mut token = vec![0xa0, seq.len() as u8];
        token.extend(seq);
        let init = decode_init(&token).unwrap_or_else(|e| panic!("{flags}: {e}"));
        assert_eq!(init.mech_types, [oid::NTLMSSP]);
        assert_eq!(init.mech_token, Some(vec![0x77]));
    }
}

#[test]
fn unknown_extension_fields_are_ignored() {
    // NegTokenResp with a [5] extension after its fields.
    let token = h("a1 11 30 0f a0 03 0a 01 01 a2 03 04 01 aa a5 03 02 01 07");
    let r = resp(&token);
    assert_eq!(r.neg_state, Some(NegState::AcceptIncomplete));
    assert_eq!(r.response_token, Some(vec![0xaa]));
    // NegTokenInit with a [3] MIC then a [4] and [7] extension: [4] is not taken as the MIC.
    let token = h(
        "a0 1f 30 1d a0 0c 30 0a 06 08 2b06010401823702 a3 03 04 01 01 \
                   a4 03 04 01 02 a7 03 02 01 00",
    );
    let init = decode_init(&token).unwrap();
    assert_eq!(init.mech_list_mic, Some(vec![1]));
}

#[test]
fn negtokeninit2_mic_is_field_4() {
    let token = h("a0 1e 30 1c a0 0c 30 0a 06 08 2b06010401823702 \
                   a3 07 30 05 a0 03 1b 01 \"x\" a4 03 04 01 09");
    let init = decode_init(&token).unwrap();
    assert_eq!(init.hint_name.as_deref(), Some("x"));
    assert_eq!(init.mech_list_mic, Some(vec![9]));
}

#[test]
fn absent_neg_state_and_supported_mech_are_fine() {
    let token = h("a1 07 30 05 a2 03 04 01 42");
    assert_eq!(
        resp(&token),
        NegTokenResp {
            response_token: Some(vec![0x42]),
            ..Default::default()
        }
    );
    assert_eq!(resp(&h("a1 02 30 00")), NegTokenResp::default());
    assert_eq!(encode_resp(&NegTokenResp::default()), h("a1 02 30 00"));
}

#[test]
fn windows_2000_duplicate_mic_is_recognised() {
    let r = NegTokenResp {
        response_token: Some(vec![1, 2, 3]),
        mech_list_mic: Some(vec![1, 2, 3]),
        ..Default::default()
    };
    assert_eq!(r.mech_list_mic_ignoring_duplicate(), None);
    let r = NegTokenResp {
        mech_list_mic: Some(vec![1, 2, 4]),
        ..r
    };
    assert_eq!(r.mech_list_mic_ignoring_duplicate(), Some(&[1, 2, 4][..]));
}

fn reason<T: std::fmt::Debug>(
    result: Result<T, sspi_package_negotiate::token::TokenError>,
) -> String {
    let error = result.expect_err("must be refused");
    assert_eq!(error.to_string(), error.reason());
    error.reason().to_owned()
}

#[test]
fn hostile_and_malformed_tokens_are_refused() {
    // An empty mechanism list, or none at all.
    assert_eq!(
        reason(decode_init(&h("a0 06 30 04 a0 02 30 00"))),
        "the initiator offers no mechanism"
    );
    assert_eq!(
        reason(decode_init(&h("a0 07 30 05 a2 03 04 01 00"))),
        "the initiator offers no mechanism"
    );
    assert_eq!(
        reason(decode_init(&encode_init(&h("30 00"), None, None))),
        "the initiator offers no mechanism"
    );
    // Trailing garbage after the outer token (framed and bare).
    let mut framed = encode_init(&h(NOTES_9_5_LIST), None, None);
    framed.push(0);
    assert!(decode_init(&framed).is_err());
    assert!(classify(&framed).is_err());
    let mut bare = h(NOTES_4_REQUEST_MIC);
    bare.push(0);
    assert!(decode_resp(&bare).is_err());
    // Indefinite lengths (BER) are not DER.
    assert!(decode_resp(&h("a1 80 30 80 a0 03 0a 01 00 00 00 00 00")).is_err());
    // Lengths past the input.
    assert!(decode_resp(&h("a1 15 30 13 a0 03 0a 01 03")).is_err());
    assert!(decode_resp(&h("a1 84 ff ff ff ff 30 00")).is_err());
    assert!(classify(&h("60 84 7f ff ff ff 06 06 2b0601050502")).is_err());
    // Truncated at every position: never accepted, never a panic.
    let full = h(NOTES_9_3_INIT2);
    for end in 0..full.len() {
        assert!(
            decode_init(&full[..end]).is_err(),
            "prefix of {end} accepted"
        );
    }
    // Bad field contents.
    assert!(decode_resp(&h("a1 07 30 05 a0 03 0a 01 04")).is_err()); // negState 4
    assert!(decode_resp(&h("a1 08 30 06 a0 04 0a 02 00 01")).is_err()); // 2-byte ENUMERATED
    assert!(decode_resp(&h("a1 07 30 05 a2 03 02 01 00")).is_err()); // INTEGER token
    assert!(decode_resp(&h("a1 06 30 04 a1 02 06 00")).is_err()); // empty OID
    assert!(decode_resp(&h("a1 07 30 05 a1 03 06 01 80")).is_err()); // unterminated arc
    assert!(decode_resp(&h("a1 0a 30 08 a2 03 04 01 00 a2 01 00")).is_err()); // repeated field
    assert!(decode_resp(&h("a1 0a 30 08 a3 03 04 01 00 a2 03 04 01 00")).is_err()); // order
    assert!(decode_resp(&h("a1 05 30 03 82 01 00")).is_err()); // IMPLICIT, not EXPLICIT
    assert!(decode_resp(&h("a1 0a 30 08 a2 06 04 01 00 04 01 00")).is_err()); // two TLVs in [2]
    // Not SPNEGO at all.
    assert!(classify(&[]).is_err());
    assert!(classify(b"NTLMSSP").is_err());
    assert!(classify(&h("30 00")).is_err());
    let other_mech = h("60 0a 06 06 2b0601050207 a0 00");
    assert!(classify(&other_mech).is_err());
    assert!(decode_init(&other_mech).is_err());
}

fn arb_oid() -> impl Strategy<Value = Oid> {
    (
        0u32..=2,
        0u32..40,
        proptest::collection::vec(any::<u32>(), 0..6),
    )
        .prop_filter_map("valid OID", |(first, second, rest)| {
            let mut text = format!("{first}.{second}");
            for arc in rest {
                text.push_str(&format!(".{arc}"));
            }
            Oid::parse_dotted(&text)
        })
}

fn arb_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..300)
}

fn arb_neg_state() -> impl Strategy<Value = NegState> {
    (0u8..4).prop_map(|v| NegState::from_value(v).unwrap())
}

proptest! {
    #[test]
    fn resp_round_trips(
        neg_state in proptest::option::of(arb_neg_state()),
        supported_mech in proptest::option::of(arb_oid()),
        response_token in proptest::option::of(arb_bytes()),
        mech_list_mic in proptest::option::of(arb_bytes()),
    ) {
        let r = NegTokenResp { neg_state, supported_mech, response_token, mech_list_mic };
        let bytes = encode_resp(&r);
        prop_assert_eq!(decode_resp(&bytes).unwrap(), r.clone());
        prop_assert_eq!(classify(&bytes).unwrap(), IncomingToken::Spnego(NegotiationToken::Resp(r)));
    }

    #[test]
    fn init_round_trips(
        mechs in proptest::collection::vec(arb_oid(), 1..8),
        mech_token in proptest::option::of(arb_bytes()),
        mic in proptest::option::of(arb_bytes()),
    ) {
        let list = encode_mech_type_list(&mechs);
        let bytes = encode_init(&list, mech_token.as_deref(), mic.as_deref());
        let expected = NegTokenInit {
            mech_types: mechs,
            mech_types_der: list,
            mech_token,
            mech_list_mic: mic,
            hint_name: None,
        };
        prop_assert_eq!(decode_init(&bytes).unwrap(), expected.clone());
        prop_assert_eq!(classify(&bytes).unwrap(), IncomingToken::Spnego(NegotiationToken::Init(expected)));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = classify(&bytes);
        let _ = decode_init(&bytes);
        let _ = decode_resp(&bytes);
    }

    #[test]
    fn mutated_tokens_never_panic_and_reencode(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = match which {
            0 => h(NOTES_9_3_INIT2),
            1 => h(NOTES_9_5_PACK),
            _ => encode_init(&h(NOTES_5_WINDOWS_LIST), Some(b"NTLMSSP\0abc"), Some(b"mic")),
        };
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        bytes.truncate(cut.index(bytes.len() + 1));
        let _ = classify(&bytes);
        if let Ok(r) = decode_resp(&bytes) {
            prop_assert_eq!(decode_resp(&encode_resp(&r)).unwrap(), r);
        }
        if let Ok(i) = decode_init(&bytes) {
            let again = decode_init(&encode_init(&i.mech_types_der, i.mech_token.as_deref(), i.mech_list_mic.as_deref())).unwrap();
            prop_assert_eq!(again.mech_types, i.mech_types);
            prop_assert_eq!(again.mech_token, i.mech_token);
            prop_assert_eq!(again.mech_list_mic, i.mech_list_mic);
        }
    }
}
