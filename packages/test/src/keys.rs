//! The key schedule after SPAKE2 ([`crate::pake`]).
//!
//! With K the SPAKE2 key, PRK = HKDF-Extract(salt "sspi-plug Test v2 key
//! schedule", K), and each key is HKDF-Expand(PRK, label | context, 32):
//!
//! * server confirmation (leg 2) = HMAC(key "server confirm", SHA-256(hello) | Y);
//! * client confirmation (leg 3) = HMAC(key "client confirm", T), where T is
//!   SHA-256(hello | challenge), the two whole tokens;
//! * session keys: "c2s sign", "s2c sign", "c2s seal", "s2c seal", "confirm"
//!   (the MACs of legs 4 and later) and "session key" (SECPKG_ATTR_SESSION_KEY),
//!   each expanded with the label followed by T, so they are bound to the
//!   transcript (names, flags and both SPAKE2 elements).
//!
//! Every intermediate key is zeroized when dropped.

use crate::pake::Role;
use hmac::{KeyInit, Mac};
use ring::{aead, rand::SecureRandom};
use sha2::Sha256;
use sspi_core::{SecretBytes, SecurityError, SecurityResult};
use zeroize::Zeroizing;

/// HMAC-SHA256.
pub type HmacSha256 = hmac::Hmac<Sha256>;

/// A 32-byte secret, wiped on drop.
pub type Secret32 = Zeroizing<[u8; 32]>;

/// The salt of the key schedule's HKDF-Extract.
pub const KEY_SCHEDULE_SALT: &[u8] = b"sspi-plug Test v2 key schedule";

/// The keys derived from one SPAKE2 key.
pub struct KeySchedule(hkdf::Hkdf<Sha256>);

impl std::fmt::Debug for KeySchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeySchedule(<redacted>)")
    }
}

impl KeySchedule {
    /// The schedule of the SPAKE2 key `pake_key`.
    pub fn new(pake_key: &Secret32) -> Self {
        Self(hkdf::Hkdf::new(Some(KEY_SCHEDULE_SALT), pake_key.as_ref()))
    }

    fn expand(&self, label: &[u8], context: &[u8]) -> SecurityResult<Secret32> {
        let mut out = Zeroizing::new([0u8; 32]);
        self.0
            .expand_multi_info(&[label, context], out.as_mut())
            .map_err(|_| SecurityError::internal("HKDF expansion failed"))?;
        Ok(out)
    }

    fn server_confirm_mac(
        &self,
        hello_hash: &[u8; 32],
        server_element: &[u8; 32],
    ) -> SecurityResult<HmacSha256> {
        let mut mac = keyed(&*self.expand(b"server confirm", &[])?);
        mac.update(hello_hash);
        mac.update(server_element);
        Ok(mac)
    }

    /// Leg 2's confirmation: HMAC over the hello's hash and the server's element.
    pub fn server_confirm(
        &self,
        hello_hash: &[u8; 32],
        server_element: &[u8; 32],
    ) -> SecurityResult<[u8; 32]> {
        Ok(self
            .server_confirm_mac(hello_hash, server_element)?
            .finalize()
            .into_bytes()
            .into())
    }

    /// True when `mac` is leg 2's confirmation (constant-time).
    pub fn verify_server_confirm(
        &self,
        hello_hash: &[u8; 32],
        server_element: &[u8; 32],
        mac: &[u8],
    ) -> SecurityResult<bool> {
        Ok(self
            .server_confirm_mac(hello_hash, server_element)?
            .verify_slice(mac)
            .is_ok())
    }

    fn client_confirm_mac(&self, transcript: &[u8; 32]) -> SecurityResult<HmacSha256> {
        let mut mac = keyed(&*self.expand(b"client confirm", &[])?);
        mac.update(transcript);
        Ok(mac)
    }

    /// Leg 3's confirmation: HMAC over the hash of hello and challenge.
    pub fn client_confirm(&self, transcript: &[u8; 32]) -> SecurityResult<[u8; 32]> {
        Ok(self
            .client_confirm_mac(transcript)?
            .finalize()
            .into_bytes()
            .into())
    }

    /// True when `mac` is leg 3's confirmation (constant-time).
    pub fn verify_client_confirm(&self, transcript: &[u8; 32], mac: &[u8]) -> SecurityResult<bool> {
        Ok(self
            .client_confirm_mac(transcript)?
            .verify_slice(mac)
            .is_ok())
    }

    /// The session keys, bound to `transcript` (the hash of hello and challenge),
    /// from the point of view of one side.
    pub fn session_keys(&self, transcript: &[u8; 32], role: Role) -> SecurityResult<SessionKeys> {
        let expand = |label: &[u8]| self.expand(label, transcript);
        let (sign_out, sign_in, seal_out, seal_in) = match role {
            Role::Client => (b"c2s sign", b"s2c sign", b"c2s seal", b"s2c seal"),
            Role::Server => (b"s2c sign", b"c2s sign", b"s2c seal", b"c2s seal"),
        };
        SessionKeys::from_raw(RawKeys {
            sign_out: expand(sign_out)?,
            sign_in: expand(sign_in)?,
            seal_out: expand(seal_out)?,
            seal_in: expand(seal_in)?,
            confirm: expand(b"confirm")?,
            session_key: expand(b"session key")?,
        })
    }
}

/// The key bytes of an established context, from one side's point of view:
/// what ExportSecurityContext packs (in this order).
pub struct RawKeys {
    /// Signs what this side sends.
    pub sign_out: Secret32,
    /// Checks what the peer sends.
    pub sign_in: Secret32,
    /// Seals what this side sends.
    pub seal_out: Secret32,
    /// Opens what the peer sends.
    pub seal_in: Secret32,
    /// Keys the confirmation legs.
    pub confirm: Secret32,
    /// SECPKG_ATTR_SESSION_KEY.
    pub session_key: Secret32,
}

impl RawKeys {
    /// The six keys in packing order.
    pub fn all(&self) -> [&Secret32; 6] {
        [
            &self.sign_out,
            &self.sign_in,
            &self.seal_out,
            &self.seal_in,
            &self.confirm,
            &self.session_key,
        ]
    }
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
    /// The sign and seal keys' bytes (the states above cannot be read back),
    /// for ExportSecurityContext.
    sign_seal: [Secret32; 4],
}

impl SessionKeys {
    /// The keys keyed from their bytes (a schedule's, or an imported context's).
    pub fn from_raw(raw: RawKeys) -> SecurityResult<SessionKeys> {
        let seal_key = |bytes: &Secret32| -> SecurityResult<aead::LessSafeKey> {
            aead::UnboundKey::new(&aead::AES_256_GCM, bytes.as_ref())
                .map(aead::LessSafeKey::new)
                .map_err(|_| SecurityError::internal("AES-256-GCM key setup failed"))
        };
        Ok(SessionKeys {
            sign_out: keyed(&raw.sign_out),
            sign_in: keyed(&raw.sign_in),
            seal_out: seal_key(&raw.seal_out)?,
            seal_in: seal_key(&raw.seal_in)?,
            confirm: raw.confirm,
            session_key: raw.session_key,
            sign_seal: [raw.sign_out, raw.sign_in, raw.seal_out, raw.seal_in],
        })
    }

    /// The key bytes, for ExportSecurityContext.
    pub fn raw(&self) -> RawKeys {
        let [sign_out, sign_in, seal_out, seal_in] = self.sign_seal.clone();
        RawKeys {
            sign_out,
            sign_in,
            seal_out,
            seal_in,
            confirm: self.confirm.clone(),
            session_key: self.session_key.clone(),
        }
    }

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
