//! DK, the key derivation of the RFC 3961 simplified profile for the AES
//! etypes (RFC 3962): `DK(key, constant) = DR(key, constant)`, where DR
//! encrypts `n-fold(constant, 128)` with the key and keeps encrypting the
//! block until there are as many bytes as the key has (AES's random-to-key is
//! the identity).
//!
//! picky-krb's `derive_key` computes the same; its bit-by-bit n-fold and a
//! new AES key schedule per block made key derivation about half of an AP
//! exchange (a context derives Ke, Ki and Kc for every key usage it uses).
//! Here n-fold works on bytes and the key schedule is made once.

use super::CryptoError;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use zeroize::Zeroizing;

/// AES's block, the n-fold width DR uses.
const BLOCK: usize = 16;

/// n-fold of RFC 3961 §5.1 to `N` bytes: `input` repeated, each copy rotated
/// right by 13 more bits than the last, up to the least common multiple of
/// the lengths, then summed in N-byte chunks with ones'-complement addition.
pub fn n_fold<const N: usize>(input: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    if input.is_empty() {
        return out;
    }
    let len = input.len();
    let bits = len * 8;
    let copies = lcm(len, N) / len;
    // Ones'-complement sum of the chunks, accumulated from the last byte of
    // the rotated stream to the first, carry kept in `carry` (no division in
    // the loop: this runs for every key a context derives).
    let mut carry = 0u32;
    let mut slot = N - 1;
    for copy in (0..copies).rev() {
        // Copy `copy` is the input rotated right by 13 * copy bits.
        let shift = (13 * copy) % bits;
        for byte in (0..len).rev() {
            let mut source = byte * 8 + bits - shift;
            if source >= bits {
                source -= bits;
            }
            carry += u32::from(bits_at(input, source)) + u32::from(out[slot]);
            out[slot] = carry as u8;
            carry >>= 8;
            slot = if slot == 0 { N - 1 } else { slot - 1 };
        }
    }
    // End-around carry until none is left.
    while carry != 0 {
        for slot in (0..N).rev() {
            carry += u32::from(out[slot]);
            out[slot] = carry as u8;
            carry >>= 8;
        }
    }
    out
}

/// The 8 bits of `input` starting at bit `start` (MSB first), wrapping around.
fn bits_at(input: &[u8], start: usize) -> u8 {
    let index = start >> 3;
    let offset = start & 7;
    if offset == 0 {
        return input[index];
    }
    let next = if index + 1 == input.len() {
        0
    } else {
        index + 1
    };
    (input[index] << offset) | (input[next] >> (8 - offset))
}

fn lcm(a: usize, b: usize) -> usize {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    a / x * b
}

/// DK(`key`, `constant`) for a 16- or 32-byte AES key.
pub fn derive_key(key: &[u8], constant: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let mut block: aes::Block = n_fold::<BLOCK>(constant).into();
    let mut out = Zeroizing::new(Vec::with_capacity(key.len()));
    match key.len() {
        16 => {
            let cipher = aes::Aes128::new_from_slice(key).map_err(|_| CryptoError::BadKey)?;
            while out.len() < key.len() {
                cipher.encrypt_block(&mut block);
                out.extend_from_slice(&block);
            }
        }
        32 => {
            let cipher = aes::Aes256::new_from_slice(key).map_err(|_| CryptoError::BadKey)?;
            while out.len() < key.len() {
                cipher.encrypt_block(&mut block);
                out.extend_from_slice(&block);
            }
        }
        _ => return Err(CryptoError::BadKey),
    }
    out.truncate(key.len());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use picky_krb::crypto::aes::AesSize;
    use proptest::prelude::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len() / 2)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 3961 appendix A.1.
    #[test]
    fn the_rfc_3961_n_fold_vectors() {
        assert_eq!(n_fold::<8>(b"012345").to_vec(), hex("be072631276b1955"));
        assert_eq!(n_fold::<7>(b"password").to_vec(), hex("78a07b6caf85fa"));
        assert_eq!(
            n_fold::<8>(b"Rough Consensus, and Running Code").to_vec(),
            hex("bb6ed30870b7f0e0")
        );
        assert_eq!(
            n_fold::<21>(b"password").to_vec(),
            hex("59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e")
        );
        assert_eq!(
            n_fold::<24>(b"MASSACHVSETTS INSTITVTE OF TECHNOLOGY").to_vec(),
            hex("db3b0d8f0b061e603282b308a50841229ad798fab9540c1b")
        );
        assert_eq!(
            n_fold::<16>(b"kerberos").to_vec(),
            hex("6b65726265726f737b9b5b2b93132b93")
        );
    }

    /// The derived-key vectors of `kerberos-vectors.json` (MIT's), as in
    /// `tests/vectors.rs`.
    #[test]
    fn derived_keys_match_mit() {
        let k128 = hex("42263c6e89f4fc28b8df68ee09799f15");
        assert_eq!(
            derive_key(&k128, &hex("0000000299")).unwrap().to_vec(),
            hex("34280a382bc92769b2da2f9ef066854b")
        );
        assert_eq!(
            derive_key(&k128, &hex("00000002aa")).unwrap().to_vec(),
            hex("5b14fc4e250e14ddf9dccf1af6674f53")
        );
        let k256 = hex("fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161");
        assert_eq!(
            derive_key(&k256, &hex("0000000299")).unwrap().to_vec(),
            hex("bfab388bdcb238e9f9c98d6a878304f04d30c82556375ac507a7a852790f4674")
        );
    }

    proptest! {
        /// The same keys as picky-krb's derivation, for any key and constant.
        #[test]
        fn the_same_keys_as_picky(
            key in prop::collection::vec(any::<u8>(), 16..=16),
            key256 in prop::collection::vec(any::<u8>(), 32..=32),
            constant in prop::collection::vec(any::<u8>(), 1..40),
        ) {
            let ours = derive_key(&key, &constant).unwrap();
            let theirs = picky_krb::crypto::aes::derive_key(&key, &constant, &AesSize::Aes128).unwrap();
            prop_assert_eq!(ours.to_vec(), theirs);
            let ours = derive_key(&key256, &constant).unwrap();
            let theirs = picky_krb::crypto::aes::derive_key(&key256, &constant, &AesSize::Aes256).unwrap();
            prop_assert_eq!(ours.to_vec(), theirs);
        }
    }

    #[test]
    fn keys_of_other_lengths_are_refused() {
        assert!(derive_key(&[0; 24], b"x").is_err());
    }
}
