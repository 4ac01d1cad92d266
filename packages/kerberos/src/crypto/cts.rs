//! AES in CBC mode with ciphertext stealing (RFC 3962: IV zero, the last two
//! blocks swapped even when the length is a multiple of 16), in place over a
//! message that may be split across up to three buffers (the wrap token's
//! trailer, the caller's DATA buffer, the header copy). No allocation. Runs
//! of whole blocks go to the `cbc` crate's bulk paths (one backend dispatch,
//! parallel decryption); only the last two blocks are handled one by one.

use aes::cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, InnerIvInit,
    KeyInit,
};

/// AES with a 128- or 256-bit key (the key schedule is wiped on drop).
pub enum AesCipher {
    /// AES-128.
    Aes128(aes::Aes128),
    /// AES-256.
    Aes256(aes::Aes256),
}

impl AesCipher {
    /// The cipher for a 16- or 32-byte key.
    pub fn new(key: &[u8]) -> Option<AesCipher> {
        match key.len() {
            16 => aes::Aes128::new_from_slice(key).ok().map(AesCipher::Aes128),
            32 => aes::Aes256::new_from_slice(key).ok().map(AesCipher::Aes256),
            _ => None,
        }
    }

    fn encrypt(&self, block: &mut [u8; 16]) {
        let block: &mut aes::Block = block.into();
        match self {
            AesCipher::Aes128(c) => c.encrypt_block(block),
            AesCipher::Aes256(c) => c.encrypt_block(block),
        }
    }

    fn decrypt(&self, block: &mut [u8; 16]) {
        let block: &mut aes::Block = block.into();
        match self {
            AesCipher::Aes128(c) => c.decrypt_block(block),
            AesCipher::Aes256(c) => c.decrypt_block(block),
        }
    }
}

/// A message split over up to three buffers, addressed as one.
pub struct Segments<'s> {
    parts: [&'s mut [u8]; 3],
}

impl<'s> Segments<'s> {
    /// The concatenation `a | b | c`.
    pub fn new(a: &'s mut [u8], b: &'s mut [u8], c: &'s mut [u8]) -> Self {
        Self { parts: [a, b, c] }
    }

    /// One contiguous buffer.
    pub fn single(a: &'s mut [u8]) -> Self {
        Self::new(a, &mut [], &mut [])
    }

    /// The total length.
    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.len()).sum()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The parts, in order.
    pub fn parts(&self) -> impl Iterator<Item = &[u8]> {
        self.parts.iter().map(|p| &**p)
    }

    /// Copies `out.len()` bytes from virtual offset `at`.
    fn read(&self, mut at: usize, out: &mut [u8]) {
        let mut done = 0;
        for part in &self.parts {
            if done == out.len() {
                break;
            }
            if at >= part.len() {
                at -= part.len();
                continue;
            }
            let n = (part.len() - at).min(out.len() - done);
            out[done..done + n].copy_from_slice(&part[at..at + n]);
            done += n;
            at = 0;
        }
    }

    /// Copies `data` to virtual offset `at`.
    fn write(&mut self, mut at: usize, data: &[u8]) {
        let mut done = 0;
        for part in self.parts.iter_mut() {
            if done == data.len() {
                break;
            }
            if at >= part.len() {
                at -= part.len();
                continue;
            }
            let n = (part.len() - at).min(data.len() - done);
            part[at..at + n].copy_from_slice(&data[done..done + n]);
            done += n;
            at = 0;
        }
    }

    /// Walks the first `count` 16-byte blocks in order: runs of whole blocks
    /// inside one part go to `f` in place, a block straddling two parts
    /// through a copy.
    fn for_each_run(&mut self, count: usize, mut f: impl FnMut(&mut [aes::Block])) {
        let mut remaining = count;
        let mut at = 0usize;
        let mut part = 0usize;
        let mut offset = 0usize;
        while remaining > 0 {
            while part < 3 && offset == self.parts[part].len() {
                part += 1;
                offset = 0;
            }
            if part == 3 {
                return;
            }
            let current = &mut self.parts[part];
            let whole = ((current.len() - offset) / 16).min(remaining);
            if whole > 0 {
                let end = offset + 16 * whole;
                let (blocks, _) = aes::Block::slice_as_chunks_mut(&mut current[offset..end]);
                f(blocks);
                offset = end;
                at += 16 * whole;
                remaining -= whole;
                continue;
            }
            let mut block = aes::Block::default();
            self.read(at, &mut block);
            f(std::slice::from_mut(&mut block));
            self.write(at, &block);
            at += 16;
            remaining -= 1;
            // Re-locate the cursor after the straddling block.
            let mut rest = at;
            part = 0;
            while part < 3 && rest >= self.parts[part].len() {
                rest -= self.parts[part].len();
                part += 1;
            }
            offset = rest;
        }
    }
}

fn xor(block: &mut [u8; 16], with: &[u8; 16]) {
    for (b, w) in block.iter_mut().zip(with) {
        *b ^= w;
    }
}

/// CBC-encrypts the first `count` blocks with IV zero; returns the last ciphertext block.
fn cbc_encrypt<C>(cipher: &C, data: &mut Segments<'_>, count: usize) -> [u8; 16]
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + Clone,
{
    if count == 0 {
        return [0; 16];
    }
    let mut mode = cbc::Encryptor::<C>::inner_iv_init(cipher.clone(), &Default::default());
    let mut last = [0u8; 16];
    data.for_each_run(count, |blocks| {
        mode.encrypt_blocks(blocks);
        if let Some(b) = blocks.last() {
            last.copy_from_slice(b);
        }
    });
    last
}

/// CBC-decrypts the first `count` blocks with IV zero (in parallel where the
/// backend can); returns the last ciphertext block, read before decryption.
fn cbc_decrypt<C>(cipher: &C, data: &mut Segments<'_>, count: usize) -> [u8; 16]
where
    C: BlockCipherDecrypt<BlockSize = aes::cipher::consts::U16> + Clone,
{
    let mut last = [0u8; 16];
    if count == 0 {
        return last;
    }
    data.read(16 * (count - 1), &mut last);
    let mut mode = cbc::Decryptor::<C>::inner_iv_init(cipher.clone(), &Default::default());
    data.for_each_run(count, |blocks| mode.decrypt_blocks(blocks));
    last
}

/// Encrypts `data` in place (at least 16 bytes; shorter input is left as is).
pub fn encrypt(cipher: &AesCipher, data: &mut Segments<'_>) {
    let n = data.len();
    if n < 16 {
        return;
    }
    let blocks = n.div_ceil(16);
    let r = n - 16 * (blocks - 1);
    if blocks == 1 {
        let mut b = [0u8; 16];
        data.read(0, &mut b);
        cipher.encrypt(&mut b);
        data.write(0, &b);
        return;
    }
    let prev = match cipher {
        AesCipher::Aes128(c) => cbc_encrypt(c, data, blocks - 2),
        AesCipher::Aes256(c) => cbc_encrypt(c, data, blocks - 2),
    };
    let (a_at, b_at) = (16 * (blocks - 2), 16 * (blocks - 1));
    let mut c_a = [0u8; 16];
    data.read(a_at, &mut c_a);
    xor(&mut c_a, &prev);
    cipher.encrypt(&mut c_a);
    let mut c_b = [0u8; 16];
    data.read(b_at, &mut c_b[..r]);
    xor(&mut c_b, &c_a);
    cipher.encrypt(&mut c_b);
    data.write(a_at, &c_b);
    data.write(b_at, &c_a[..r]);
}

/// Decrypts `data` in place (at least 16 bytes; shorter input is left as is).
pub fn decrypt(cipher: &AesCipher, data: &mut Segments<'_>) {
    let n = data.len();
    if n < 16 {
        return;
    }
    let blocks = n.div_ceil(16);
    let r = n - 16 * (blocks - 1);
    if blocks == 1 {
        let mut b = [0u8; 16];
        data.read(0, &mut b);
        cipher.decrypt(&mut b);
        data.write(0, &b);
        return;
    }
    let prev = match cipher {
        AesCipher::Aes128(c) => cbc_decrypt(c, data, blocks - 2),
        AesCipher::Aes256(c) => cbc_decrypt(c, data, blocks - 2),
    };
    let (a_at, b_at) = (16 * (blocks - 2), 16 * (blocks - 1));
    let mut d = [0u8; 16];
    data.read(a_at, &mut d);
    cipher.decrypt(&mut d);
    let mut c_a = [0u8; 16];
    data.read(b_at, &mut c_a[..r]);
    c_a[r..].copy_from_slice(&d[r..]);
    let mut last = [0u8; 16];
    for i in 0..r {
        last[i] = d[i] ^ c_a[i];
    }
    let mut p_a = c_a;
    cipher.decrypt(&mut p_a);
    xor(&mut p_a, &prev);
    data.write(a_at, &p_a);
    data.write(b_at, &last[..r]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 3962 appendix B (raw AES-128-CTS, key "chicken teriyaki").
    #[test]
    fn rfc3962_appendix_b() {
        let key = b"chicken teriyaki";
        let input = b"I would like the General Gau's Chicken, please, and wonton soup.";
        let vectors = [
            (17, "c6353568f2bf8cb4d8a580362da7ff7f97"),
            (
                31,
                "fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5",
            ),
            (
                32,
                "39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584",
            ),
            (
                47,
                "97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5",
            ),
            (
                48,
                "97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8",
            ),
            (
                64,
                "97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8",
            ),
        ];
        let cipher = AesCipher::new(key).unwrap();
        for (len, expected) in vectors {
            // Split at every pair of points to exercise straddling blocks.
            for split in [0, 1, 15, 16, 17, len / 2, len] {
                let mut buf = input[..len].to_vec();
                let (a, rest) = buf.split_at_mut(split.min(len));
                let mid = rest.len() / 3;
                let (b, c) = rest.split_at_mut(mid);
                let mut seg = Segments::new(a, b, c);
                encrypt(&cipher, &mut seg);
                assert_eq!(buf, hex(expected), "len {len} split {split}");
                let (a, rest) = buf.split_at_mut(split.min(len));
                let (b, c) = rest.split_at_mut(mid);
                decrypt(&cipher, &mut Segments::new(a, b, c));
                assert_eq!(&buf[..], &input[..len]);
            }
        }
    }
}
