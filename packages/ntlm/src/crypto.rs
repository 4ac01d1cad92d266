//! The MS-NLMP key computations (section 3.3.2 NTLMv2, 3.4.5 key derivation),
//! on the RustCrypto primitives `md4`, `md-5`, `hmac` and `rc4`.
//!
//! Every function takes its inputs explicitly (client challenge, time, target
//! information), so the section 4.2.4 test vectors can be checked one value at a
//! time.

use crate::text::{upcase, utf16le};
use hmac::{KeyInit, Mac};
use md4::Md4;
use md5::{Digest, Md5};
use rc4::{Rc4, StreamCipher};
use zeroize::Zeroizing;

/// HMAC-MD5.
pub type HmacMd5 = hmac::Hmac<Md5>;

/// A 16-byte secret (a hash or key), wiped on drop.
pub type Key16 = Zeroizing<[u8; 16]>;

/// `"session key to client-to-server signing key magic constant\0"`
pub const CLIENT_SIGN_MAGIC: &[u8] =
    b"session key to client-to-server signing key magic constant\0";
/// `"session key to server-to-client signing key magic constant\0"`
pub const SERVER_SIGN_MAGIC: &[u8] =
    b"session key to server-to-client signing key magic constant\0";
/// `"session key to client-to-server sealing key magic constant\0"`
pub const CLIENT_SEAL_MAGIC: &[u8] =
    b"session key to client-to-server sealing key magic constant\0";
/// `"session key to server-to-client sealing key magic constant\0"`
pub const SERVER_SEAL_MAGIC: &[u8] =
    b"session key to server-to-client sealing key magic constant\0";

/// HMAC-MD5 keyed with `key` (any length is valid for HMAC).
pub fn hmac_md5(key: &[u8]) -> HmacMd5 {
    // HMAC accepts keys of every length; the error branch cannot be taken.
    <HmacMd5 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| <HmacMd5 as KeyInit>::new(&Default::default()))
}

/// HMAC-MD5 of the concatenation of `parts`.
pub fn hmac_md5_parts(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = hmac_md5(key);
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// MD5 of the concatenation of `parts`.
pub fn md5_parts(parts: &[&[u8]]) -> [u8; 16] {
    let mut md5 = Md5::new();
    for part in parts {
        md5.update(part);
    }
    md5.finalize().into()
}

/// An RC4 cipher keyed with `key` (1 to 256 bytes; NTLM uses 16).
pub fn rc4(key: &[u8]) -> Rc4 {
    // NTLM keys are always 16 bytes; an out-of-range length cannot occur, but
    // fall back to an all-zero key rather than panic.
    Rc4::new_from_slice(key).unwrap_or_else(|_| Rc4::new(&Default::default()))
}

/// RC4K(key, data): one-shot RC4 of 16 bytes (the key exchange).
pub fn rc4k(key: &[u8; 16], data: &[u8; 16]) -> Key16 {
    let mut out = Zeroizing::new(*data);
    rc4(key).apply_keystream(out.as_mut());
    out
}

/// NTOWFv1 (the NT hash): MD4(UTF-16LE(password)).
pub fn nt_hash(password: &str) -> Key16 {
    let encoded = Zeroizing::new(utf16le(password));
    let mut md4 = Md4::new();
    md4.update(encoded.as_slice());
    Zeroizing::new(md4.finalize().into())
}

/// NTOWFv2 from the NT hash: HMAC_MD5(NT hash, UTF-16LE(Uppercase(user) || domain)).
/// The domain is not upper-cased.
pub fn ntowfv2(nt_hash: &[u8; 16], user: &str, domain: &str) -> Key16 {
    let mut mac = hmac_md5(nt_hash);
    for unit in upcase(user).encode_utf16().chain(domain.encode_utf16()) {
        mac.update(&unit.to_le_bytes());
    }
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// The NTLMv2 client challenge structure ("temp"):
/// `01 01 Z(6) Time ClientChallenge Z(4) AvPairs Z(4)`, where `av_pairs` ends with MsvAvEOL.
pub fn ntlmv2_temp(time: u64, client_challenge: &[u8; 8], av_pairs: &[u8]) -> Vec<u8> {
    let mut temp = Vec::with_capacity(28 + av_pairs.len() + 4);
    temp.extend_from_slice(&[1, 1, 0, 0, 0, 0, 0, 0]);
    temp.extend_from_slice(&time.to_le_bytes());
    temp.extend_from_slice(client_challenge);
    temp.extend_from_slice(&[0; 4]);
    temp.extend_from_slice(av_pairs);
    temp.extend_from_slice(&[0; 4]);
    temp
}

/// NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge || temp).
pub fn nt_proof(response_key: &[u8; 16], server_challenge: &[u8; 8], temp: &[u8]) -> [u8; 16] {
    hmac_md5_parts(response_key, &[server_challenge, temp])
}

/// LMv2 response = HMAC_MD5(ResponseKeyLM, ServerChallenge || ClientChallenge) || ClientChallenge.
pub fn lmv2_response(
    response_key: &[u8; 16],
    server_challenge: &[u8; 8],
    client_challenge: &[u8; 8],
) -> [u8; 24] {
    let mac = hmac_md5_parts(response_key, &[server_challenge, client_challenge]);
    let mut out = [0u8; 24];
    out[..16].copy_from_slice(&mac);
    out[16..].copy_from_slice(client_challenge);
    out
}

/// SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr); for NTLMv2 it is also
/// the KeyExchangeKey.
pub fn session_base_key(response_key: &[u8; 16], nt_proof: &[u8; 16]) -> Key16 {
    Zeroizing::new(hmac_md5_parts(response_key, &[nt_proof]))
}

/// SIGNKEY with extended session security: MD5(ExportedSessionKey || magic).
pub fn sign_key(exported_session_key: &[u8; 16], magic: &[u8]) -> Key16 {
    Zeroizing::new(md5_parts(&[exported_session_key, magic]))
}

/// SEALKEY with extended session security: MD5(the first 16, 7 or 5 bytes of
/// ExportedSessionKey (NEGOTIATE_128, NEGOTIATE_56, neither) || magic).
pub fn seal_key(exported_session_key: &[u8; 16], flags: u32, magic: &[u8]) -> Key16 {
    use crate::messages::flags::{NEGOTIATE_56, NEGOTIATE_128};
    let len = if flags & NEGOTIATE_128 != 0 {
        16
    } else if flags & NEGOTIATE_56 != 0 {
        7
    } else {
        5
    };
    Zeroizing::new(md5_parts(&[&exported_session_key[..len], magic]))
}

/// MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE || CHALLENGE || AUTHENTICATE),
/// with the AUTHENTICATE message's MIC field (at `mic_offset`, 16 bytes) taken
/// as zeros, without copying the message.
pub fn mic(
    exported_session_key: &[u8; 16],
    negotiate: &[u8],
    challenge: &[u8],
    authenticate: &[u8],
    mic_offset: usize,
) -> HmacMd5 {
    let mut mac = hmac_md5(exported_session_key);
    mac.update(negotiate);
    mac.update(challenge);
    let (head, tail) = authenticate.split_at(mic_offset.min(authenticate.len()));
    mac.update(head);
    mac.update(&[0u8; 16]);
    mac.update(tail.get(16..).unwrap_or_default());
    mac
}
