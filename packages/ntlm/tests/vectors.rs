//! MS-NLMP section 4.2.4 (NTLMv2) and 4.2.4.4 (GSS_WrapEx) test vectors,
//! byte for byte: every intermediate value, both messages, the sealed
//! message and its signature. Values copied from the project's
//! `ntlm-vectors.json` reference.

use hmac::Mac;
use rc4::StreamCipher;
use sspi_core::{Qop, SecBuffer, SecBufferType};
use sspi_package_ntlm::internal::crypto::{
    self, CLIENT_SEAL_MAGIC, CLIENT_SIGN_MAGIC, SERVER_SEAL_MAGIC, SERVER_SIGN_MAGIC,
};
use sspi_package_ntlm::internal::messages::{
    Authenticate, AvPairs, Challenge, Ntlmv2Response, flags,
};
use sspi_package_ntlm::internal::session_security::SessionSecurity;
use sspi_package_ntlm::internal::text::utf16le;

/// Which side's session security a vector is for.
#[derive(Clone, Copy)]
enum Side {
    Client,
    Server,
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn arr<const N: usize>(text: &str) -> [u8; N] {
    hex(text).try_into().unwrap()
}

const USER: &str = "User";
const DOMAIN: &str = "Domain";
const PASSWORD: &str = "Password";
const SERVER_CHALLENGE: &str = "0123456789abcdef";
const CLIENT_CHALLENGE: &str = "aaaaaaaaaaaaaaaa";
const RANDOM_SESSION_KEY: &str = "55555555555555555555555555555555";
const TARGET_INFO: &str =
    "02000c0044006f006d00610069006e0001000c0053006500720076006500720000000000";
const TEMP: &str = "01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000";
const CHALLENGE_MESSAGE: &str = "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c0053006500720076006500720000000000";
const AUTHENTICATE_MESSAGE: &str = "4e544c4d5353500003000000180018006c00000054005400840000000c000c00480000000800080054000000100010005c00000010001000d8000000358288e20501280a0000000f44006f006d00610069006e00550073006500720043004f004d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa68cd0ab851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000c5dad2544fc9799094ce1ce90bc9d03e";
const PLAINTEXT: &str = "50006c00610069006e007400650078007400";

#[test]
fn ntowf_and_the_ntlmv2_response() {
    let nt_hash = crypto::nt_hash(PASSWORD);
    assert_eq!(*nt_hash, arr::<16>("a4f49c406510bdcab6824ee7c30fd852"));
    let key = crypto::ntowfv2(&nt_hash, USER, DOMAIN);
    assert_eq!(*key, arr::<16>("0c868a403bfd7a93a3001ef22ef02e3f"));

    let server_challenge = arr::<8>(SERVER_CHALLENGE);
    let client_challenge = arr::<8>(CLIENT_CHALLENGE);
    assert_eq!(
        crypto::lmv2_response(&key, &server_challenge, &client_challenge).to_vec(),
        hex("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
    );
    let temp = crypto::ntlmv2_temp(0, &client_challenge, &hex(TARGET_INFO));
    assert_eq!(temp, hex(TEMP));
    let proof = crypto::nt_proof(&key, &server_challenge, &temp);
    assert_eq!(proof, arr::<16>("68cd0ab851e51c96aabc927bebef6a1c"));
    let mut response = proof.to_vec();
    response.extend_from_slice(&temp);
    assert_eq!(
        response,
        hex(&format!("68cd0ab851e51c96aabc927bebef6a1c{TEMP}"))
    );

    let session_base_key = crypto::session_base_key(&key, &proof);
    assert_eq!(
        *session_base_key,
        arr::<16>("8de40ccadbc14a82f15cb0ad0de95ca3")
    );
    // NTLMv2: KeyExchangeKey = SessionBaseKey; KEY_EXCH: RC4K of the random key.
    let encrypted = crypto::rc4k(&session_base_key, &arr::<16>(RANDOM_SESSION_KEY));
    assert_eq!(*encrypted, arr::<16>("c5dad2544fc9799094ce1ce90bc9d03e"));
    let exported = crypto::rc4k(&session_base_key, &encrypted);
    assert_eq!(*exported, arr::<16>(RANDOM_SESSION_KEY));
}

#[test]
fn sign_and_seal_keys() {
    let key = arr::<16>(RANDOM_SESSION_KEY);
    let f128 = flags::NEGOTIATE_128 | flags::NEGOTIATE_56;
    assert_eq!(
        *crypto::sign_key(&key, CLIENT_SIGN_MAGIC),
        arr::<16>("4788dc861b4782f35d43fd98fe1a2d39")
    );
    assert_eq!(
        *crypto::sign_key(&key, SERVER_SIGN_MAGIC),
        arr::<16>("d04d6f10741041d1d246d64188d7a8ad")
    );
    assert_eq!(
        *crypto::seal_key(&key, f128, CLIENT_SEAL_MAGIC),
        arr::<16>("59f600973cc4960a25480a7c196e4c58")
    );
    assert_eq!(
        *crypto::seal_key(&key, f128, SERVER_SEAL_MAGIC),
        arr::<16>("9355f3a957c1583d25c4c2f11e40390e")
    );
    let f56 = flags::NEGOTIATE_56;
    assert_eq!(
        *crypto::seal_key(&key, f56, CLIENT_SEAL_MAGIC),
        arr::<16>("a5f7253c1065e8d3d68642040e71cfe0")
    );
    assert_eq!(
        *crypto::seal_key(&key, f56, SERVER_SEAL_MAGIC),
        arr::<16>("583e2f98959b385cd158f3734b5f5d3f")
    );
    assert_eq!(
        *crypto::seal_key(&key, 0, CLIENT_SEAL_MAGIC),
        arr::<16>("42f964a471091a02ff4a77455366e4e5")
    );
    assert_eq!(
        *crypto::seal_key(&key, 0, SERVER_SEAL_MAGIC),
        arr::<16>("c5d3853b406b7c1241c595f0ce0750e2")
    );
}

#[test]
fn the_challenge_message_parses_and_is_rewritten_byte_for_byte() {
    let bytes = hex(CHALLENGE_MESSAGE);
    let challenge = Challenge::parse(&bytes).unwrap();
    assert_eq!(challenge.flags, 0xe28a8233);
    assert_eq!(challenge.server_challenge, arr::<8>(SERVER_CHALLENGE));
    assert_eq!(challenge.target_name, utf16le("Server").as_slice());
    assert_eq!(challenge.target_info, hex(TARGET_INFO).as_slice());
    assert_eq!(challenge.version, Some(arr::<8>("060070170000000f")));
    let pairs = AvPairs::parse(challenge.target_info).unwrap();
    assert_eq!(pairs.get(2), Some(utf16le("Domain").as_slice()));
    assert_eq!(pairs.get(1), Some(utf16le("Server").as_slice()));
    assert_eq!(pairs.timestamp(), None);
    assert_eq!(challenge.write().unwrap(), bytes);
}

#[test]
fn the_authenticate_message_parses_and_is_rewritten_byte_for_byte() {
    let bytes = hex(AUTHENTICATE_MESSAGE);
    assert_eq!(bytes.len(), 232);
    let message = Authenticate::parse(&bytes).unwrap();
    assert_eq!(message.flags, 0xe2888235);
    assert_eq!(message.domain, utf16le("Domain").as_slice());
    assert_eq!(message.user, utf16le("User").as_slice());
    assert_eq!(message.workstation, utf16le("COMPUTER").as_slice());
    assert_eq!(
        message.lm_response,
        hex("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa").as_slice()
    );
    assert_eq!(
        message.encrypted_session_key,
        hex("c5dad2544fc9799094ce1ce90bc9d03e").as_slice()
    );
    assert_eq!(message.version, Some(arr::<8>("0501280a0000000f")));
    assert_eq!(message.mic, None, "payload starts at 0x48: no MIC");
    let response = Ntlmv2Response::parse(message.nt_response).unwrap();
    assert_eq!(
        response.nt_proof,
        arr::<16>("68cd0ab851e51c96aabc927bebef6a1c")
    );
    assert_eq!(response.temp, hex(TEMP).as_slice());
    assert_eq!(response.client_challenge, arr::<8>(CLIENT_CHALLENGE));
    assert_eq!(response.timestamp, 0);
    assert_eq!(response.av_pairs.as_bytes(), hex(TARGET_INFO).as_slice());

    // Rebuilt from its parts (no MIC slot), it is the same 232 bytes.
    assert_eq!(message.write().unwrap(), bytes);
}

fn protection(side: Side) -> SessionSecurity {
    let negotiated = flags::SIGN
        | flags::SEAL
        | flags::KEY_EXCH
        | flags::NEGOTIATE_128
        | flags::NEGOTIATE_56
        | flags::EXTENDED_SESSIONSECURITY;
    let key = arr::<16>(RANDOM_SESSION_KEY);
    match side {
        Side::Client => SessionSecurity::client(&key, negotiated),
        Side::Server => SessionSecurity::server(&key, negotiated),
    }
}

fn seal(side: Side) -> (Vec<u8>, Vec<u8>) {
    let mut data = hex(PLAINTEXT);
    let mut token = vec![0u8; 16];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
    protection(side)
        .encrypt_message(Qop::DEFAULT, &mut message)
        .unwrap();
    (data, token)
}

#[test]
fn gss_wrapex_sealed_message_and_signature() {
    let (data, token) = seal(Side::Client);
    assert_eq!(data, hex("54e50165bf1936dc996020c1811b0f06fb5f"));
    assert_eq!(token, hex("010000007fb38ec5c55d497600000000"));
    let (data, token) = seal(Side::Server);
    assert_eq!(data, hex("160871b730ba74e946c453d7465b54278dd0"));
    assert_eq!(token, hex("01000000b298b847ce7c580700000000"));
}

#[test]
fn the_vectors_unseal_on_the_other_side() {
    for (receiver, sealed, signature) in [
        (
            Side::Server,
            "54e50165bf1936dc996020c1811b0f06fb5f",
            "010000007fb38ec5c55d497600000000",
        ),
        (
            Side::Client,
            "160871b730ba74e946c453d7465b54278dd0",
            "01000000b298b847ce7c580700000000",
        ),
    ] {
        let mut data = hex(sealed);
        let mut token = hex(signature);
        let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
        assert_eq!(
            protection(receiver).decrypt_message(&mut message),
            Ok(Qop::DEFAULT)
        );
        assert_eq!(data, hex(PLAINTEXT));
    }
}

#[test]
fn sign_only_matches_a_recomputation_from_the_primitives() {
    // Not a published vector: the project's own recomputation (marked
    // unverified in the reference), checked here against the raw primitives.
    let mut data = hex(PLAINTEXT);
    let mut token = vec![0u8; 16];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
    protection(Side::Client)
        .make_signature(Qop::DEFAULT, &mut message)
        .unwrap();
    assert_eq!(message[1].buffer_type(), SecBufferType::TOKEN);
    assert_eq!(token, hex("0100000074d045342c4f1cd500000000"));

    let key = arr::<16>(RANDOM_SESSION_KEY);
    let sign = crypto::sign_key(&key, CLIENT_SIGN_MAGIC);
    let mac = crypto::hmac_md5(sign.as_ref())
        .chain_update(0u32.to_le_bytes())
        .chain_update(hex(PLAINTEXT))
        .finalize()
        .into_bytes();
    let mut checksum = [0u8; 8];
    checksum.copy_from_slice(&mac[..8]);
    let seal = crypto::seal_key(&key, flags::NEGOTIATE_128, CLIENT_SEAL_MAGIC);
    crypto::rc4(seal.as_ref()).apply_keystream(&mut checksum);
    assert_eq!(checksum.to_vec(), hex("74d045342c4f1cd5"));

    let mut data = hex(PLAINTEXT);
    let mut token = vec![0u8; 16];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
    protection(Side::Server)
        .make_signature(Qop::DEFAULT, &mut message)
        .unwrap();
    assert_eq!(token, hex("01000000e01b84f3fbde503c00000000"));
}
