//! RC4 with a state that can be exported: the sealing handles of
//! [`crate::session_security`], which ExportSecurityContext must carry to
//! another process exactly where they are.
//!
//! The `rc4` crate (used for the handshake's one-shot RC4K) keeps its state
//! private, so the per-message handles are this 258-byte state (the
//! permutation S and the indices i and j, RFC 6229's RC4), checked against the
//! crate's keystream by the tests. The state is wiped when dropped.

use zeroize::{Zeroize, Zeroizing};

/// The exported size of a state: S, i, j.
pub const STATE_LEN: usize = 258;

/// An RC4 keystream generator.
pub struct Rc4State {
    s: [u8; 256],
    i: u8,
    j: u8,
}

impl Rc4State {
    /// The generator keyed with `key` (1..=256 bytes; NTLM's are 16, and
    /// an empty key is treated as one zero byte rather than panicking).
    pub fn new(key: &[u8]) -> Self {
        let key: &[u8] = if key.is_empty() { &[0] } else { key };
        let mut s = [0u8; 256];
        for (n, slot) in s.iter_mut().enumerate() {
            *slot = n as u8;
        }
        let mut j = 0u8;
        for n in 0..256 {
            j = j.wrapping_add(s[n]).wrapping_add(key[n % key.len()]);
            s.swap(n, usize::from(j));
        }
        Self { s, i: 0, j: 0 }
    }

    /// XORs the next keystream bytes into `data`.
    pub fn apply_keystream(&mut self, data: &mut [u8]) {
        for byte in data {
            self.i = self.i.wrapping_add(1);
            self.j = self.j.wrapping_add(self.s[usize::from(self.i)]);
            self.s.swap(usize::from(self.i), usize::from(self.j));
            let k = self.s[usize::from(self.i)].wrapping_add(self.s[usize::from(self.j)]);
            *byte ^= self.s[usize::from(k)];
        }
    }

    /// The state: S, then i and j.
    pub fn export(&self) -> Zeroizing<[u8; STATE_LEN]> {
        let mut out = Zeroizing::new([0u8; STATE_LEN]);
        out[..256].copy_from_slice(&self.s);
        out[256] = self.i;
        out[257] = self.j;
        out
    }

    /// A state [`Rc4State::export`] wrote; `None` unless S is a permutation of 0..=255.
    pub fn import(state: &[u8; STATE_LEN]) -> Option<Self> {
        let mut seen = [false; 256];
        for &value in &state[..256] {
            if std::mem::replace(&mut seen[usize::from(value)], true) {
                return None;
            }
        }
        let mut s = [0u8; 256];
        s.copy_from_slice(&state[..256]);
        Some(Self {
            s,
            i: state[256],
            j: state[257],
        })
    }
}

impl Drop for Rc4State {
    fn drop(&mut self) {
        self.s.zeroize();
        self.i.zeroize();
        self.j.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rc4::{KeyInit, StreamCipher};

    #[test]
    fn rfc_6229_key_0102030405() {
        // RFC 6229, key 0x0102030405: the first 16 keystream bytes.
        let mut stream = [0u8; 16];
        Rc4State::new(&[1, 2, 3, 4, 5]).apply_keystream(&mut stream);
        assert_eq!(
            stream,
            [
                0xb2, 0x39, 0x63, 0x05, 0xf0, 0x3d, 0xc0, 0x27, 0xcc, 0xc3, 0x52, 0x4a, 0x0a, 0x11,
                0x18, 0xa8
            ]
        );
    }

    #[test]
    fn a_state_that_is_not_a_permutation_is_refused() {
        let mut state = *Rc4State::new(&[7; 16]).export();
        state[0] = state[1];
        assert!(Rc4State::import(&state).is_none());
    }

    proptest! {
        /// The same keystream as the `rc4` crate, split anywhere by an export.
        #[test]
        fn matches_the_rc4_crate_across_an_export(key in any::<[u8; 16]>(), first in 0usize..600, second in 0usize..600) {
            let mut reference = rc4::Rc4::new_from_slice(&key).unwrap();
            let mut expected = vec![0u8; first + second];
            reference.apply_keystream(&mut expected);
            let mut ours = Rc4State::new(&key);
            let mut got = vec![0u8; first + second];
            ours.apply_keystream(&mut got[..first]);
            let mut moved = Rc4State::import(&ours.export()).unwrap();
            moved.apply_keystream(&mut got[first..]);
            prop_assert_eq!(got, expected);
        }
    }
}
