//! SPAKE2, a balanced password-authenticated key exchange, on edwards25519.
//!
//! The construction is the one of RustCrypto's `spake2` crate (and of
//! python-spake2, whose constants it uses), so the two interoperate (a unit
//! test checks it both ways):
//!
//! * `w` = the password input hashed to a scalar: HKDF-SHA256 (no salt,
//!   info "SPAKE2 pw", 48 bytes read big-endian) reduced mod the group order;
//! * the client (side A) sends `X = x·G + w·M`, the server (side B) sends
//!   `Y = y·G + w·N`, with fresh random scalars `x`, `y` and the fixed points
//!   `M`, `N` of python-spake2;
//! * both get `Z = x·(Y − w·N) = y·(X − w·M)` and the key
//!   SHA-256(SHA-256(pw) | SHA-256(idA) | SHA-256(idB) | X | Y | Z).
//!
//! The group arithmetic is `curve25519-dalek`'s. The protocol is written
//! here rather than taken from the `spake2` crate because that crate keeps
//! the password, its scalar and the ephemeral scalar in its state without
//! zeroizing them; here every secret (`w`, `x`, `SHA-256(pw)`, `Z`, the key)
//! is wiped when dropped. A received element must be the canonical encoding
//! of a point of the prime-order subgroup other than the identity (so a
//! small-order or cofactor component cannot leak bits of the ephemeral
//! scalar), and a `Z` equal to the identity is refused.
//!
//! Neither message reveals anything that tests a password offline: `X` is a
//! uniformly random group element whatever the password, and the key needs
//! the ephemeral scalar of one side. An active attacker who plays one side
//! commits to one password guess per handshake (the `w` in its message) and
//! learns only whether that one guess was right.

use crate::keys::Secret32;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsBasepointTable, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{BasepointTable, IsIdentity};
use hkdf::Hkdf;
use ring::rand::SecureRandom;
use sha2::{Digest, Sha256};
use sspi_core::{SecurityError, SecurityResult};
use std::sync::LazyLock;
use zeroize::Zeroizing;

/// Bytes of an encoded group element (a compressed Edwards point).
pub const ELEMENT_LEN: usize = 32;

/// python-spake2's `M` for Ed25519 (the blinding point of side A).
const M_BYTES: [u8; 32] = [
    0x15, 0xcf, 0xd1, 0x8e, 0x38, 0x59, 0x52, 0x98, 0x2b, 0x6a, 0x8f, 0x8c, 0x78, 0x54, 0x96, 0x3b,
    0x58, 0xe3, 0x43, 0x88, 0xc8, 0xe6, 0xda, 0xe8, 0x91, 0xdb, 0x75, 0x64, 0x81, 0xa0, 0x23, 0x12,
];
/// python-spake2's `N` for Ed25519 (the blinding point of side B).
const N_BYTES: [u8; 32] = [
    0xf0, 0x4f, 0x2e, 0x7e, 0xb7, 0x34, 0xb2, 0xa8, 0xf8, 0xb4, 0x72, 0xea, 0xf9, 0xc3, 0xc6, 0x32,
    0x57, 0x6a, 0xc6, 0x4a, 0xea, 0x65, 0x0b, 0x49, 0x6a, 0x8a, 0x20, 0xff, 0x00, 0xe5, 0x83, 0xc3,
];

/// `M` and `N` with precomputed multiples: multiplying by the password
/// scalar (constant-time) is then several times cheaper than with the point.
static M: LazyLock<Option<EdwardsBasepointTable>> = LazyLock::new(|| table(&M_BYTES));
static N: LazyLock<Option<EdwardsBasepointTable>> = LazyLock::new(|| table(&N_BYTES));

fn table(bytes: &[u8; 32]) -> Option<EdwardsBasepointTable> {
    CompressedEdwardsY(*bytes)
        .decompress()
        .map(|point| EdwardsBasepointTable::create(&point))
}

fn constant(
    point: &'static LazyLock<Option<EdwardsBasepointTable>>,
) -> SecurityResult<&'static EdwardsBasepointTable> {
    point
        .as_ref()
        .ok_or_else(|| SecurityError::internal("a SPAKE2 constant does not decode"))
}

/// The SPAKE2 identity of the server side: the Test package has no server names.
pub const SERVER_IDENTITY: &[u8] = b"sspi-plug Test server";

/// The SPAKE2 identity of a client: the upper-case domain, a NUL and the
/// lower-case user name (how the server looks the user up).
pub fn client_identity(domain: &str, user: &str) -> Vec<u8> {
    let mut id = domain.to_ascii_uppercase().into_bytes();
    id.push(0);
    id.extend_from_slice(user.to_ascii_lowercase().as_bytes());
    id
}

/// A user's password as the PAKE uses it: HKDF-SHA256 of the password with
/// the salt "sspi-plug Test v2 SPAKE2 password" and the info
/// `DOMAIN | 0 | user` (upper-case domain, lower-case user), so two users
/// with one password have different secrets. Wiped on drop; `Debug` shows
/// nothing of it.
pub struct PakeSecret(Secret32);

impl std::fmt::Debug for PakeSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PakeSecret(<redacted>)")
    }
}

impl PakeSecret {
    /// The secret of `domain\user` with `password`.
    pub fn derive(domain: &str, user: &str, password: &[u8]) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(b"sspi-plug Test v2 SPAKE2 password"), password);
        let mut out = Zeroizing::new([0u8; 32]);
        let info = client_identity(domain, user);
        // 32 bytes is always within HKDF-SHA256's output limit.
        if hkdf.expand(&info, out.as_mut()).is_err() {
            out.fill(0);
        }
        Self(out)
    }

    /// The stand-in secret of an unknown user: HMAC-SHA256 under a secret
    /// drawn once per process, over the user's identity. The server runs the
    /// same exchange with it, so its reply looks like one for a known user,
    /// and the same name always gets the same stand-in.
    pub fn unknown_user(domain: &str, user: &str) -> SecurityResult<Self> {
        use hmac::{KeyInit, Mac};
        static PROCESS_SECRET: std::sync::OnceLock<Secret32> = std::sync::OnceLock::new();
        let secret = match PROCESS_SECRET.get() {
            Some(secret) => secret,
            None => {
                let fresh = crate::keys::random32()?;
                // Another thread may have won the race: its secret is kept.
                let _ = PROCESS_SECRET.set(fresh);
                PROCESS_SECRET
                    .get()
                    .ok_or_else(|| SecurityError::internal("the per-process secret is missing"))?
            }
        };
        let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_ref())
            .map_err(|_| SecurityError::internal("HMAC key setup failed"))?;
        mac.update(b"sspi-plug Test unknown user\0");
        mac.update(&client_identity(domain, user));
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&mac.finalize().into_bytes());
        Ok(Self(out))
    }

    /// The secret's bytes (the SPAKE2 password input).
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Which side of SPAKE2 a party plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Side A, the client: blinds with `M`, unblinds with `N`.
    Client,
    /// Side B, the server: blinds with `N`, unblinds with `M`.
    Server,
}

/// One side's SPAKE2 state between sending its element and receiving the peer's.
pub struct Spake2 {
    role: Role,
    /// The ephemeral scalar `x` or `y`.
    ephemeral: Zeroizing<Scalar>,
    /// The password scalar `w`.
    password: Zeroizing<Scalar>,
    /// SHA-256 of the password input, part of the key hash.
    password_hash: Secret32,
    /// This side's element as sent.
    own: [u8; ELEMENT_LEN],
}

impl std::fmt::Debug for Spake2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spake2")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// The password input hashed to a scalar, as python-spake2 does.
fn password_scalar(password: &[u8]) -> Zeroizing<Scalar> {
    let mut okm = Zeroizing::new([0u8; 48]);
    // 48 bytes is always within HKDF-SHA256's output limit.
    if Hkdf::<Sha256>::new(None, password)
        .expand(b"SPAKE2 pw", okm.as_mut())
        .is_err()
    {
        okm.fill(0);
    }
    // The 48 bytes are a big-endian integer; the reduction takes 64 little-endian bytes.
    let mut wide = Zeroizing::new([0u8; 64]);
    for (i, byte) in okm.iter().enumerate() {
        wide[47 - i] = *byte;
    }
    Zeroizing::new(Scalar::from_bytes_mod_order_wide(&wide))
}

/// `point · scalar` by reference, so a secret scalar is never copied.
fn mul(point: &EdwardsPoint, scalar: &Scalar) -> EdwardsPoint {
    point * scalar
}

/// `table's point · scalar`, likewise.
fn mul_table(table: &EdwardsBasepointTable, scalar: &Scalar) -> EdwardsPoint {
    table * scalar
}

/// Decodes the peer's element: canonical, in the prime-order subgroup, not the identity.
fn peer_element(bytes: &[u8; ELEMENT_LEN]) -> SecurityResult<EdwardsPoint> {
    let invalid =
        |why: &str| SecurityError::invalid_token(format!("the peer's SPAKE2 element {why}"));
    let point = CompressedEdwardsY(*bytes)
        .decompress()
        .ok_or_else(|| invalid("is not a curve point"))?;
    if point.compress().as_bytes() != bytes {
        return Err(invalid("is not canonically encoded"));
    }
    if point.is_identity() || !point.is_torsion_free() {
        return Err(invalid(
            "is not in the prime-order group (small order or torsion component)",
        ));
    }
    Ok(point)
}

impl Spake2 {
    /// Starts one side with `secret`; returns the state and the element to send.
    pub fn start(role: Role, secret: &PakeSecret) -> SecurityResult<(Self, [u8; ELEMENT_LEN])> {
        let mut wide = Zeroizing::new([0u8; 64]);
        ring::rand::SystemRandom::new()
            .fill(wide.as_mut())
            .map_err(|_| SecurityError::internal("the system random generator failed"))?;
        let ephemeral = Zeroizing::new(Scalar::from_bytes_mod_order_wide(&wide));
        Self::start_with(role, secret, ephemeral)
    }

    fn start_with(
        role: Role,
        secret: &PakeSecret,
        ephemeral: Zeroizing<Scalar>,
    ) -> SecurityResult<(Self, [u8; ELEMENT_LEN])> {
        let password = password_scalar(secret.expose());
        let blinding = match role {
            Role::Client => constant(&M)?,
            Role::Server => constant(&N)?,
        };
        let element =
            Zeroizing::new(EdwardsPoint::mul_base(&ephemeral) + mul_table(blinding, &password));
        let own = element.compress().to_bytes();
        let mut password_hash = Zeroizing::new([0u8; 32]);
        password_hash.copy_from_slice(&Sha256::digest(secret.expose()));
        Ok((
            Self {
                role,
                ephemeral,
                password,
                password_hash,
                own,
            },
            own,
        ))
    }

    /// This side's element.
    pub fn element(&self) -> &[u8; ELEMENT_LEN] {
        &self.own
    }

    /// Finishes with the peer's element: the shared key. `client` is the
    /// client's identity ([`client_identity`]); the server's is [`SERVER_IDENTITY`].
    ///
    /// A malformed element is SEC_E_INVALID_TOKEN. A wrong password is not
    /// detected here (the keys simply differ): the key confirmation that
    /// follows detects it.
    pub fn finish(self, peer: &[u8; ELEMENT_LEN], client: &[u8]) -> SecurityResult<Secret32> {
        let peer_point = peer_element(peer)?;
        let unblinding = match self.role {
            Role::Client => constant(&N)?,
            Role::Server => constant(&M)?,
        };
        let shared = Zeroizing::new(mul(
            &(peer_point - mul_table(unblinding, &self.password)),
            &self.ephemeral,
        ));
        if shared.is_identity() {
            return Err(SecurityError::invalid_token(
                "the peer's SPAKE2 element gives the identity as the shared element",
            ));
        }
        let shared_bytes = Zeroizing::new(shared.compress().to_bytes());
        let (x, y) = match self.role {
            Role::Client => (&self.own, peer),
            Role::Server => (peer, &self.own),
        };
        let mut hash = Sha256::new();
        hash.update(self.password_hash.as_ref());
        hash.update(Sha256::digest(client));
        hash.update(Sha256::digest(SERVER_IDENTITY));
        hash.update(x);
        hash.update(y);
        hash.update(shared_bytes.as_ref());
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&hash.finalize());
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(password: &str) -> PakeSecret {
        PakeSecret::derive("SSPI-PLUG", "alice", password.as_bytes())
    }

    fn reference_ids() -> (spake2::Identity, spake2::Identity) {
        (
            spake2::Identity::new(&client_identity("SSPI-PLUG", "alice")),
            spake2::Identity::new(SERVER_IDENTITY),
        )
    }

    /// Both sides agree, and agree with RustCrypto's `spake2` in either role.
    #[test]
    fn interoperates_with_the_spake2_crate() {
        type Reference = spake2::Spake2<spake2::Ed25519Group>;
        let id = client_identity("SSPI-PLUG", "alice");
        let s = secret("alice-password");
        let password = spake2::Password::new(s.expose());
        let (id_a, id_b) = reference_ids();

        let (client, x) = Spake2::start(Role::Client, &s).unwrap();
        let (server, y) = Spake2::start(Role::Server, &s).unwrap();
        let client_key = client.finish(&y, &id).unwrap();
        assert_eq!(*client_key, *server.finish(&x, &id).unwrap());

        // Ours as the client, the crate as the server.
        let (client, x) = Spake2::start(Role::Client, &s).unwrap();
        let (reference, y) = Reference::start_b(&password, &id_a, &id_b);
        let mut x_msg = vec![b'A'];
        x_msg.extend_from_slice(&x);
        let reference_key = reference.finish(&x_msg).unwrap();
        assert_eq!(y[0], b'B');
        let y: [u8; 32] = y[1..].try_into().unwrap();
        assert_eq!(client.finish(&y, &id).unwrap().as_slice(), reference_key);

        // The crate as the client, ours as the server.
        let (reference, x) = Reference::start_a(&password, &id_a, &id_b);
        let (server, y) = Spake2::start(Role::Server, &s).unwrap();
        let mut y_msg = vec![b'B'];
        y_msg.extend_from_slice(&y);
        let reference_key = reference.finish(&y_msg).unwrap();
        let x: [u8; 32] = x[1..].try_into().unwrap();
        assert_eq!(server.finish(&x, &id).unwrap().as_slice(), reference_key);
    }

    #[test]
    fn different_passwords_give_different_keys() {
        let id = client_identity("SSPI-PLUG", "alice");
        let (client, x) = Spake2::start(Role::Client, &secret("alice-password")).unwrap();
        let (server, y) = Spake2::start(Role::Server, &secret("not-alice")).unwrap();
        assert_ne!(
            *client.finish(&y, &id).unwrap(),
            *server.finish(&x, &id).unwrap()
        );
    }

    #[test]
    fn malformed_small_order_and_non_canonical_elements_are_refused() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        let id = client_identity("SSPI-PLUG", "alice");
        let s = secret("alice-password");
        let (_, y) = Spake2::start(Role::Server, &s).unwrap();
        let honest = CompressedEdwardsY(y).decompress().unwrap();
        let mut bad: Vec<[u8; 32]> = vec![
            [0xff; 32],                                        // not a point
            EdwardsPoint::default().compress().to_bytes(),     // the identity
            EIGHT_TORSION[1].compress().to_bytes(),            // small order
            (honest + EIGHT_TORSION[4]).compress().to_bytes(), // torsion component
        ];
        // A non-canonical encoding of the identity: y = p + 1 (p = 2^255 - 19).
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xee;
        non_canonical[31] = 0x7f;
        bad.push(non_canonical);
        for element in bad {
            let (client, _) = Spake2::start(Role::Client, &s).unwrap();
            let error = client.finish(&element, &id).unwrap_err();
            assert_eq!(
                error.status(),
                sspi_core::SecurityStatus::SEC_E_INVALID_TOKEN,
                "{element:02x?}: {error}"
            );
        }
    }

    #[test]
    fn unknown_user_stand_ins_are_stable_per_name_and_redacted() {
        let a = PakeSecret::unknown_user("SSPI-PLUG", "mallory").unwrap();
        let b = PakeSecret::unknown_user("sspi-plug", "MALLORY").unwrap();
        let c = PakeSecret::unknown_user("SSPI-PLUG", "trent").unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_ne!(a.expose(), c.expose());
        let s = secret("alice-password");
        let shown = format!("{s:?} {a:?}");
        assert_eq!(shown, "PakeSecret(<redacted>) PakeSecret(<redacted>)");
        let (state, _) = Spake2::start(Role::Client, &s).unwrap();
        assert_eq!(format!("{state:?}"), "Spake2 { role: Client, .. }");
    }
}
