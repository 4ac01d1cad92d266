//! The key schedule: user keys, handshake proofs and per-direction session keys.
//!
//! * user key = HKDF-SHA256(salt "sspi-plug Test v1 user key", password),
//!   expanded with the upper-case domain and lower-case user name;
//! * server proof = HMAC(user key, "server proof" | H(hello) | server nonce);
//! * client proof = HMAC(user key, "client proof" | H(hello | challenge));
//! * session keys = HKDF(salt client nonce | server nonce, user key), expanded
//!   with the transcript hash and a label per purpose and direction.

use hmac::{KeyInit, Mac};
use ring::{aead, hkdf, rand::SecureRandom};
use sha2::Sha256;
use sspi_core::{SecretBytes, SecurityError, SecurityResult};
use zeroize::Zeroizing;

/// HMAC-SHA256.
pub type HmacSha256 = hmac::Hmac<Sha256>;

/// A 32-byte secret, wiped on drop.
pub type Secret32 = Zeroizing<[u8; 32]>;

/// The key a user's password yields.
pub struct UserKey(Secret32);

impl std::fmt::Debug for UserKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserKey(<redacted>)")
    }
}

impl UserKey {
    /// Derives the key of `domain\user` from its password.
    pub fn derive(domain: &str, user: &str, password: &[u8]) -> Self {
        let prk =
            hkdf::Salt::new(hkdf::HKDF_SHA256, b"sspi-plug Test v1 user key").extract(password);
        let domain = domain.to_ascii_uppercase();
        let user = user.to_ascii_lowercase();
        let info = [domain.as_bytes(), b"\0", user.as_bytes()];
        let mut key = Zeroizing::new([0u8; 32]);
        // Expanding 32 bytes from SHA-256 is always within HKDF's limit.
        if prk
            .expand(&info, hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(key.as_mut()))
            .is_err()
        {
            key.fill(0);
        }
        Self(key)
    }

    /// A random key: stands in for an unknown user so that the handshake fails
    /// at the proof, exactly like a wrong password, and reveals nothing.
    pub fn random() -> SecurityResult<Self> {
        Ok(Self(random32()?))
    }

    fn mac(&self, label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = keyed(&self.0);
        mac.update(label);
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The server's proof over the client's hello and the server nonce.
    pub fn server_proof(&self, hello_hash: &[u8; 32], server_nonce: &[u8; 32]) -> [u8; 32] {
        self.mac(b"server proof", &[hello_hash, server_nonce])
    }

    /// True when `proof` is the server's proof (constant-time).
    pub fn verify_server_proof(
        &self,
        hello_hash: &[u8; 32],
        server_nonce: &[u8; 32],
        proof: &[u8],
    ) -> bool {
        let mut mac = keyed(&self.0);
        mac.update(b"server proof");
        mac.update(hello_hash);
        mac.update(server_nonce);
        mac.verify_slice(proof).is_ok()
    }

    /// The client's proof over the transcript of hello and challenge.
    pub fn client_proof(&self, transcript: &[u8; 32]) -> [u8; 32] {
        self.mac(b"client proof", &[transcript])
    }

    /// True when `proof` is the client's proof (constant-time).
    pub fn verify_client_proof(&self, transcript: &[u8; 32], proof: &[u8]) -> bool {
        let mut mac = keyed(&self.0);
        mac.update(b"client proof");
        mac.update(transcript);
        mac.verify_slice(proof).is_ok()
    }

    /// The session keys once both proofs are known, from the point of view of one side.
    pub fn session_keys(
        &self,
        client_nonce: &[u8; 32],
        server_nonce: &[u8; 32],
        transcript: &[u8; 32],
        side: Side,
    ) -> SecurityResult<SessionKeys> {
        let salt: Vec<u8> = [client_nonce.as_slice(), server_nonce.as_slice()].concat();
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(self.0.as_ref());
        let expand = |label: &[u8]| -> SecurityResult<Secret32> {
            let mut out = Zeroizing::new([0u8; 32]);
            prk.expand(&[label, transcript], hkdf::HKDF_SHA256)
                .and_then(|okm| okm.fill(out.as_mut()))
                .map_err(|_| SecurityError::internal("HKDF expansion failed"))?;
            Ok(out)
        };
        let (sign_out, sign_in, seal_out, seal_in) = match side {
            Side::Client => (b"c2s sign", b"s2c sign", b"c2s seal", b"s2c seal"),
            Side::Server => (b"s2c sign", b"c2s sign", b"s2c seal", b"c2s seal"),
        };
        let seal_key = |label: &[u8]| -> SecurityResult<aead::LessSafeKey> {
            let bytes = expand(label)?;
            aead::UnboundKey::new(&aead::AES_256_GCM, bytes.as_ref())
                .map(aead::LessSafeKey::new)
                .map_err(|_| SecurityError::internal("AES-256-GCM key setup failed"))
        };
        Ok(SessionKeys {
            sign_out: keyed(&*expand(sign_out)?),
            sign_in: keyed(&*expand(sign_in)?),
            seal_out: seal_key(seal_out)?,
            seal_in: seal_key(seal_in)?,
            confirm: expand(b"confirm")?,
            session_key: expand(b"session key")?,
        })
    }
}

/// Which side of the handshake a context is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// InitializeSecurityContext.
    Client,
    /// AcceptSecurityContext.
    Server,
}

/// The keys of an established context.
pub struct SessionKeys {
    /// Signs what this side sends (a keyed HMAC state, cloned per message).
    pub sign_out: HmacSha256,
    /// Checks what the peer sends.
    pub sign_in: HmacSha256,
    /// Seals what this side sends.
    pub seal_out: aead::LessSafeKey,
    /// Opens what the peer sends.
    pub seal_in: aead::LessSafeKey,
    /// Keys the confirmation legs after the proofs.
    pub confirm: Secret32,
    /// The key QueryContextAttributes(SESSION_KEY) exports.
    pub session_key: Secret32,
}

impl SessionKeys {
    /// The MAC of confirmation leg `leg` over the transcript so far.
    pub fn confirm_mac(&self) -> HmacSha256 {
        keyed(&self.confirm)
    }

    /// The exported session key.
    pub fn export(&self) -> SecretBytes {
        SecretBytes::new(self.session_key.to_vec())
    }
}

/// An HMAC-SHA256 state keyed with `key`.
pub fn keyed(key: &[u8; 32]) -> HmacSha256 {
    // HMAC zero-pads a key shorter than the 64-byte block; padding it here
    // gives the same MAC through the infallible fixed-size constructor.
    let mut block = Zeroizing::new([0u8; 64]);
    block[..32].copy_from_slice(key);
    let block: &[u8; 64] = &block;
    <HmacSha256 as KeyInit>::new(block.into())
}

/// 32 random bytes from the system's CSPRNG.
pub fn random32() -> SecurityResult<Secret32> {
    let mut out = Zeroizing::new([0u8; 32]);
    ring::rand::SystemRandom::new()
        .fill(out.as_mut())
        .map_err(|_| SecurityError::internal("the system random generator failed"))?;
    Ok(out)
}
