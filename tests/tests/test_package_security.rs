//! The Test package's handshake against attackers, through the real plugin.
//!
//! The property (README, "The Test package"): neither a passive observer nor
//! an impostor of either side learns anything that tests a password offline;
//! an impostor gets one online guess per handshake. Each test plays an
//! attacker that does not know the password, records what the real package
//! sends, and runs the computation that would check candidate passwords
//! against it, with the true password among the candidates: none confirms.
//! A positive control runs the same computation where the attacker's one
//! online guess happens to be right, and it confirms exactly the true
//! password, so the check is real and the attacker's SPAKE2 is the package's.
//!
//! The attacker is written here from the documented protocol (token layout,
//! SPAKE2 on edwards25519 with RustCrypto `spake2`'s group constants, key
//! schedule), not with the package's code. The old oracle, the version 1
//! challenge `HMAC(user key, "server proof" | H(hello) | nonce)`, is checked
//! too: it finds the password on the version 1 package.

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::IsIdentity;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use spake2::{Ed25519Group, Group};
use sspi_core::{AuthIdentity, SecBuffer, SecurityStatus};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle, SecurityHost};
use sspi_tests::{ISC_REQ, RegistryFile, credentials, leg, registry_text};

type HmacSha256 = hmac::Hmac<Sha256>;

const DOMAIN: &str = "SSPI-PLUG";
const USER: &str = "alice";
/// alice's password in `sspi_tests::test_package_key`.
const TRUE_PASSWORD: &str = "alice-password";

/// Candidate passwords with the true one among them (not first, not last).
fn dictionary() -> Vec<String> {
    let mut words: Vec<String> = (0..500).map(|i| format!("guess-{i:03}")).collect();
    words.extend(["123456", "password", "alice", "letmein", "bob-password"].map(String::from));
    words.insert(377, TRUE_PASSWORD.to_string());
    words
}

fn host(legs: u32) -> (RegistryFile, SecurityHost) {
    let registry = RegistryFile::new(&registry_text("sspi_test.dll", legs, false));
    let host = registry.host();
    (registry, host)
}

// ---- The documented wire format -------------------------------------------------

/// "TSSP" | version 2 | type | leg | legs | body | SHA-256 of all before it.
fn frame(kind: u8, leg: u8, legs: u8, body: &[u8]) -> Vec<u8> {
    let mut token = b"TSSP".to_vec();
    token.extend_from_slice(&[2, kind, leg, legs]);
    token.extend_from_slice(body);
    let checksum = Sha256::digest(&token);
    token.extend_from_slice(&checksum);
    token
}

fn body(token: &[u8]) -> &[u8] {
    &token[8..token.len() - 32]
}

fn hello_token(element: &[u8; 32], legs: u8) -> Vec<u8> {
    let mut body = ISC_REQ.0.to_be_bytes().to_vec();
    body.extend_from_slice(element);
    for name in [DOMAIN, USER] {
        body.extend_from_slice(&(name.len() as u16).to_be_bytes());
        body.extend_from_slice(name.as_bytes());
    }
    frame(1, 1, legs, &body)
}

/// The client's element X in a hello.
fn hello_element(hello: &[u8]) -> [u8; 32] {
    body(hello)[4..36].try_into().unwrap()
}

/// The server's element Y and key confirmation in a challenge.
fn challenge_parts(challenge: &[u8]) -> ([u8; 32], [u8; 32]) {
    let body = body(challenge);
    (
        body[..32].try_into().unwrap(),
        body[32..64].try_into().unwrap(),
    )
}

// ---- SPAKE2 and the key schedule, as the README documents them --------------------

fn hkdf32(salt: Option<&[u8]>, ikm: &[u8], info: &[&[u8]]) -> [u8; 32] {
    let mut out = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(salt, ikm)
        .expand_multi_info(info, &mut out)
        .unwrap();
    out
}

fn identity_bytes() -> Vec<u8> {
    format!("{DOMAIN}\0{USER}").into_bytes()
}

/// The PAKE input of alice with `password`.
fn pake_secret(password: &str) -> [u8; 32] {
    hkdf32(
        Some(b"sspi-plug Test v2 SPAKE2 password"),
        password.as_bytes(),
        &[&identity_bytes()],
    )
}

fn w(password: &str) -> Scalar {
    Ed25519Group::hash_to_scalar(&pake_secret(password))
}

/// An attacker's ephemeral scalar (it needs no secrecy from the test itself).
fn scalar(seed: &str) -> Scalar {
    let mut wide = [0u8; 64];
    wide[..32].copy_from_slice(&Sha256::digest(format!("{seed} lo")));
    wide[32..].copy_from_slice(&Sha256::digest(format!("{seed} hi")));
    Scalar::from_bytes_mod_order_wide(&wide)
}

fn point(bytes: &[u8; 32]) -> EdwardsPoint {
    CompressedEdwardsY(*bytes)
        .decompress()
        .expect("a curve point")
}

/// SHA-256(SHA-256(pw) | SHA-256(idA) | SHA-256(idB) | X | Y | Z).
fn pake_key(password: &str, x: &[u8; 32], y: &[u8; 32], z: &EdwardsPoint) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(Sha256::digest(pake_secret(password)));
    hash.update(Sha256::digest(identity_bytes()));
    hash.update(Sha256::digest(b"sspi-plug Test server"));
    hash.update(x);
    hash.update(y);
    hash.update(z.compress().as_bytes());
    hash.finalize().into()
}

fn schedule_key(key: &[u8; 32], label: &[u8]) -> [u8; 32] {
    hkdf32(Some(b"sspi-plug Test v2 key schedule"), key, &[label])
}

fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Leg 2's key confirmation under `key`.
fn server_confirm(key: &[u8; 32], hello: &[u8], y: &[u8; 32]) -> [u8; 32] {
    hmac(
        &schedule_key(key, b"server confirm"),
        &[&Sha256::digest(hello), y],
    )
}

/// Leg 3's key confirmation under `key`.
fn client_confirm(key: &[u8; 32], hello: &[u8], challenge: &[u8]) -> [u8; 32] {
    let mut transcript = Sha256::new();
    transcript.update(hello);
    transcript.update(challenge);
    hmac(
        &schedule_key(key, b"client confirm"),
        &[&transcript.finalize()],
    )
}

/// The candidates for which `confirms` holds.
fn confirmed(candidates: &[String], confirms: impl Fn(&str) -> bool) -> Vec<String> {
    candidates
        .iter()
        .filter(|c| confirms(c.as_str()))
        .cloned()
        .collect()
}

/// The version 1 oracle: HMAC(user key, "server proof" | SHA-256(hello) | nonce)
/// with the user key HKDF-SHA256(salt "sspi-plug Test v1 user key", password)
/// expanded with "DOMAIN\0user", the nonce and proof the challenge's two 32-byte
/// fields (where version 2 has Y and the key confirmation).
fn old_oracle(candidates: &[String], hello: &[u8], challenge: &[u8]) -> Vec<String> {
    let (nonce, proof) = challenge_parts(challenge);
    let hello_hash = Sha256::digest(hello);
    confirmed(candidates, |c| {
        let user_key = hkdf32(
            Some(b"sspi-plug Test v1 user key"),
            c.as_bytes(),
            &[DOMAIN.as_bytes(), b"\0", USER.as_bytes()],
        );
        hmac(&user_key, &[b"server proof", &hello_hash, &nonce]) == proof
    })
}

// ---- Driving the real package ---------------------------------------------------

/// One InitializeSecurityContext call; the output buffer is returned whatever
/// the result, so a test sees anything the client wrote.
fn client_leg(
    credentials: &CredentialsHandle,
    context: &mut Option<SecurityContextHandle>,
    input: Option<&[u8]>,
) -> (SecurityStatus, Vec<u8>) {
    let mut out = vec![0u8; 1024];
    let token = input.map(<[u8]>::to_vec).unwrap_or_default();
    let result = {
        let mut output = [SecBuffer::token(&mut out)];
        let input_buffers = [sspi_core::SecBufferRef::token(&token)];
        let input: &[sspi_core::SecBufferRef<'_>] =
            if input.is_some() { &input_buffers } else { &[] };
        let result =
            credentials.initialize_security_context(context, None, ISC_REQ, input, &mut output);
        let written = output[0].len();
        result.map(|step| (step.status, written))
    };
    match result {
        Ok((status, written)) => (status, out[..written].to_vec()),
        Err(e) => (e.status(), out),
    }
}

/// An impostor client's leg 1 for alice, its SPAKE2 element blinded with
/// `guess`: the server's answer, the hello and the attacker's scalar.
fn impostor_hello(
    server: &CredentialsHandle,
    context: &mut Option<SecurityContextHandle>,
    guess: &str,
    seed: &str,
    legs: u8,
) -> (Vec<u8>, Vec<u8>, Scalar) {
    let x = scalar(seed);
    let m = Ed25519Group::const_m();
    let element = (EdwardsPoint::mul_base(&x) + m * w(guess))
        .compress()
        .to_bytes();
    let hello = hello_token(&element, legs);
    let (status, challenge) = leg(server, context, false, Some(&hello));
    assert_eq!(
        status,
        SecurityStatus::SEC_I_CONTINUE_NEEDED,
        "hello accepted"
    );
    (hello, challenge, x)
}

/// An impostor client's offline check of `candidate` against what the server
/// sent: the key the client side would have with that password, and whether
/// the server's confirmation verifies under it.
fn client_side_check(candidate: &str, x: &Scalar, hello: &[u8], challenge: &[u8]) -> bool {
    let x_bytes = hello_element(hello);
    let (y_bytes, mac) = challenge_parts(challenge);
    let n = Ed25519Group::const_n();
    let z = (point(&y_bytes) - n * w(candidate)) * x;
    !z.is_identity()
        && server_confirm(
            &pake_key(candidate, &x_bytes, &y_bytes, &z),
            hello,
            &y_bytes,
        ) == mac
}

#[test]
fn an_impostor_client_learns_nothing_that_tests_a_password_offline() {
    let (_r, host) = host(3);
    let (_, server) = credentials(&host, None);
    let candidates = dictionary();

    // The impostor knows the user name, not the password: its one online
    // guess is wrong. Nothing it got confirms any candidate offline.
    let mut s = None;
    let (hello, challenge, x) = impostor_hello(&server, &mut s, "Winter2026!", "impostor 1", 3);
    assert_eq!(challenge.len(), 104);
    assert_eq!(
        confirmed(&candidates, |c| client_side_check(
            c, &x, &hello, &challenge
        )),
        Vec::<String>::new(),
        "the server's reply confirms no candidate, not even the true password"
    );
    assert_eq!(
        old_oracle(&candidates, &hello, &challenge),
        Vec::<String>::new()
    );
    // Finishing with the key of any candidate is refused.
    let (y_bytes, _) = challenge_parts(&challenge);
    let z = (point(&y_bytes) - Ed25519Group::const_n() * w(TRUE_PASSWORD)) * x;
    let key = pake_key(TRUE_PASSWORD, &hello_element(&hello), &y_bytes, &z);
    let proof = frame(3, 3, 3, &client_confirm(&key, &hello, &challenge));
    assert_eq!(
        leg(&server, &mut s, false, Some(&proof)).0,
        SecurityStatus::SEC_E_LOGON_DENIED
    );

    // Control: the same check, where the one online guess is right, confirms
    // exactly the true password, and the server accepts the proof.
    let mut s = None;
    let (hello, challenge, x) = impostor_hello(&server, &mut s, TRUE_PASSWORD, "impostor 2", 3);
    assert_eq!(
        confirmed(&candidates, |c| client_side_check(
            c, &x, &hello, &challenge
        )),
        [TRUE_PASSWORD]
    );
    let (y_bytes, _) = challenge_parts(&challenge);
    let z = (point(&y_bytes) - Ed25519Group::const_n() * w(TRUE_PASSWORD)) * x;
    let key = pake_key(TRUE_PASSWORD, &hello_element(&hello), &y_bytes, &z);
    let proof = frame(3, 3, 3, &client_confirm(&key, &hello, &challenge));
    assert_eq!(
        leg(&server, &mut s, false, Some(&proof)).0,
        SecurityStatus::SEC_E_OK
    );
    assert_eq!(s.unwrap().names().unwrap(), r"SSPI-PLUG\alice");
}

#[test]
fn the_old_offline_oracle_is_gone() {
    // A real client that knows alice's name but not her password asks the
    // real server for its challenge, and tries the dictionary against it
    // with the version 1 computation. On the version 1 package this finds
    // the true password; now it finds nothing.
    let (_r, host) = host(3);
    let wrong = AuthIdentity::new(USER, DOMAIN, "not-the-password");
    let (impostor, server) = credentials(&host, Some(wrong));
    let (mut c, mut s) = (None, None);
    let (_, hello) = client_leg(&impostor, &mut c, None);
    let (status, challenge) = leg(&server, &mut s, false, Some(&hello));
    assert_eq!(status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    assert_eq!(
        old_oracle(&dictionary(), &hello, &challenge),
        Vec::<String>::new(),
        "the server's challenge is an offline password-guessing oracle"
    );
    // The impostor's own client fails at the server's confirmation.
    let (status, _) = client_leg(&impostor, &mut c, Some(&challenge));
    assert_eq!(status, SecurityStatus::SEC_E_LOGON_DENIED);
}

#[test]
fn an_unknown_user_gets_a_reply_like_a_known_users() {
    let (_r, host) = host(3);
    let (_, server) = credentials(&host, None);
    let mut replies = Vec::new();
    for user in ["alice", "mallory"] {
        let x = scalar(user);
        let element = (EdwardsPoint::mul_base(&x) + Ed25519Group::const_m() * w("guess"))
            .compress()
            .to_bytes();
        let mut body = ISC_REQ.0.to_be_bytes().to_vec();
        body.extend_from_slice(&element);
        for name in [DOMAIN, user] {
            body.extend_from_slice(&(name.len() as u16).to_be_bytes());
            body.extend_from_slice(name.as_bytes());
        }
        let hello = frame(1, 1, 3, &body);
        let mut s = None;
        let (status, challenge) = leg(&server, &mut s, false, Some(&hello));
        assert_eq!(status, SecurityStatus::SEC_I_CONTINUE_NEEDED, "{user}");
        let (y, _) = challenge_parts(&challenge);
        let y = point(&y);
        assert!(
            y.is_torsion_free() && !y.is_identity(),
            "{user}: Y is a group element"
        );
        let proof = frame(3, 3, 3, &[0x5a; 32]);
        assert_eq!(
            leg(&server, &mut s, false, Some(&proof)).0,
            SecurityStatus::SEC_E_LOGON_DENIED,
            "{user}"
        );
        replies.push(challenge);
    }
    assert_eq!(replies[0].len(), replies[1].len());
    assert_eq!(replies[0][..8], replies[1][..8], "same header");
}

/// The real client (alice, true password) against an impostor server that
/// does not know the password and plays SPAKE2 with `guess`.
struct ImpostorServer {
    hello: Vec<u8>,
    challenge: Vec<u8>,
    y: Scalar,
}

impl ImpostorServer {
    fn answer(hello: Vec<u8>, guess: &str, seed: &str, legs: u8) -> Self {
        let y = scalar(seed);
        let x_bytes = hello_element(&hello);
        let y_bytes = (EdwardsPoint::mul_base(&y) + Ed25519Group::const_n() * w(guess))
            .compress()
            .to_bytes();
        let z = (point(&x_bytes) - Ed25519Group::const_m() * w(guess)) * y;
        let key = pake_key(guess, &x_bytes, &y_bytes, &z);
        let mut body = y_bytes.to_vec();
        body.extend_from_slice(&server_confirm(&key, &hello, &y_bytes));
        let challenge = frame(2, 2, legs, &body);
        Self {
            hello,
            challenge,
            y,
        }
    }

    /// The impostor server's offline check of `candidate` against the
    /// client's reply: the key the server side would have with that password,
    /// and whether the client's confirmation verifies under it.
    fn check(&self, candidate: &str, reply: &[u8]) -> bool {
        if reply.len() != 72 {
            return false;
        }
        let x_bytes = hello_element(&self.hello);
        let (y_bytes, _) = challenge_parts(&self.challenge);
        let z = (point(&x_bytes) - Ed25519Group::const_m() * w(candidate)) * self.y;
        let key = pake_key(candidate, &x_bytes, &y_bytes, &z);
        body(reply) == client_confirm(&key, &self.hello, &self.challenge)
    }
}

#[test]
fn an_impostor_server_learns_nothing_that_tests_a_password_offline() {
    let (_r, host) = host(3);
    let (client, _) = credentials(&host, None);
    let candidates = dictionary();

    // A wrong guess: the client refuses the challenge and writes nothing, so
    // no candidate (the true password included) can be checked.
    let mut c = None;
    let (_, hello) = client_leg(&client, &mut c, None);
    let impostor = ImpostorServer::answer(hello, "Winter2026!", "server 1", 3);
    let (status, reply) = client_leg(&client, &mut c, Some(&impostor.challenge));
    assert_eq!(status, SecurityStatus::SEC_E_LOGON_DENIED);
    assert!(reply.iter().all(|&b| b == 0), "the client sent nothing");
    assert_eq!(
        confirmed(&candidates, |cand| impostor.check(cand, &reply)),
        Vec::<String>::new()
    );
    // Nor is the hello alone of any use: the version 1 style check over it
    // and the challenge confirms nothing.
    assert_eq!(
        old_oracle(&candidates, &impostor.hello, &impostor.challenge),
        Vec::<String>::new()
    );

    // Control: the same check, where the impostor's one guess is right,
    // confirms exactly the true password (the client proves itself to a
    // server that knows the password, as it must).
    let mut c = None;
    let (_, hello) = client_leg(&client, &mut c, None);
    let lucky = ImpostorServer::answer(hello, TRUE_PASSWORD, "server 2", 3);
    let (status, reply) = client_leg(&client, &mut c, Some(&lucky.challenge));
    assert_eq!(status, SecurityStatus::SEC_E_OK);
    assert_eq!(reply.len(), 72);
    assert_eq!(
        confirmed(&candidates, |cand| lucky.check(cand, &reply)),
        [TRUE_PASSWORD]
    );
}

#[test]
fn bogus_server_messages_fail_the_client_with_nothing_sent() {
    let (_r, host) = host(4);
    let (client, _) = credentials(&host, None);
    let torsion = curve25519_dalek::constants::EIGHT_TORSION;
    /// What the impostor answers, as a function of the client's hello.
    type Answer = Box<dyn Fn(&[u8]) -> Vec<u8>>;
    let cases: Vec<(&str, Answer, SecurityStatus)> = vec![
        (
            "a random element and MAC",
            Box::new(|_| {
                let y = EdwardsPoint::mul_base(&scalar("random"))
                    .compress()
                    .to_bytes();
                [y.as_slice(), &[7u8; 32]].concat()
            }),
            SecurityStatus::SEC_E_LOGON_DENIED,
        ),
        (
            "the client's own element reflected",
            Box::new(|hello| [hello_element(hello).as_slice(), &[0u8; 32]].concat()),
            SecurityStatus::SEC_E_LOGON_DENIED,
        ),
        (
            "the identity",
            Box::new(|_| {
                [
                    EdwardsPoint::default().compress().as_bytes().as_slice(),
                    &[0; 32],
                ]
                .concat()
            }),
            SecurityStatus::SEC_E_INVALID_TOKEN,
        ),
        (
            "a small-order element",
            Box::new(move |_| [torsion[1].compress().as_bytes().as_slice(), &[0; 32]].concat()),
            SecurityStatus::SEC_E_INVALID_TOKEN,
        ),
        (
            "an element with a torsion component",
            Box::new(move |hello| {
                let y = point(&hello_element(hello)) + torsion[2];
                [y.compress().as_bytes().as_slice(), &[0; 32]].concat()
            }),
            SecurityStatus::SEC_E_INVALID_TOKEN,
        ),
        (
            "not a curve point",
            Box::new(|_| [[0xffu8; 32].as_slice(), &[0; 32]].concat()),
            SecurityStatus::SEC_E_INVALID_TOKEN,
        ),
    ];
    for (what, body, expected) in cases {
        let mut c = None;
        let (_, hello) = client_leg(&client, &mut c, None);
        let challenge = frame(2, 2, 4, &body(&hello));
        let (status, reply) = client_leg(&client, &mut c, Some(&challenge));
        assert_eq!(status, expected, "{what}");
        assert!(
            reply.iter().all(|&b| b == 0),
            "{what}: the client sent nothing"
        );
    }
}

#[test]
fn a_passive_observer_cannot_test_passwords_offline() {
    let (_r, host) = host(3);
    let (client, server) = credentials(&host, None);
    let candidates = dictionary();
    let (mut c, mut s) = (None, None);
    let (_, hello) = client_leg(&client, &mut c, None);
    let (_, challenge) = leg(&server, &mut s, false, Some(&hello));
    let (_, proof) = client_leg(&client, &mut c, Some(&challenge));
    assert_eq!(
        leg(&server, &mut s, false, Some(&proof)).0,
        SecurityStatus::SEC_E_OK
    );
    // Without either side's scalar, the observer can only try keys built
    // from the public elements; none verifies either confirmation.
    let x = hello_element(&hello);
    let (y, _) = challenge_parts(&challenge);
    let (m, n) = (Ed25519Group::const_m(), Ed25519Group::const_n());
    let found = confirmed(&candidates, |cand| {
        let unblinded_x = point(&x) - m * w(cand);
        let unblinded_y = point(&y) - n * w(cand);
        [unblinded_x, unblinded_y, unblinded_x + unblinded_y]
            .iter()
            .any(|z| {
                let key = pake_key(cand, &x, &y, z);
                server_confirm(&key, &hello, &y) == challenge_parts(&challenge).1
                    || client_confirm(&key, &hello, &challenge) == body(&proof)
            })
    });
    assert_eq!(found, Vec::<String>::new());
    assert_eq!(
        old_oracle(&candidates, &hello, &challenge),
        Vec::<String>::new()
    );

    // The same password gives an unrelated element in the next handshake.
    let mut c2 = None;
    let (_, hello2) = client_leg(&client, &mut c2, None);
    assert_ne!(hello_element(&hello2), x);
}

#[test]
fn tampered_and_replayed_handshake_tokens_are_refused() {
    let (_r, host) = host(3);
    let (client, server) = credentials(&host, None);

    // Session A, recorded.
    let (mut ca, mut sa) = (None, None);
    let (_, hello_a) = client_leg(&client, &mut ca, None);
    let (_, challenge_a) = leg(&server, &mut sa, false, Some(&hello_a));

    // A's challenge replayed to a new client session: its confirmation is
    // bound to A's element.
    let mut cb = None;
    let (_, _) = client_leg(&client, &mut cb, None);
    assert_eq!(
        client_leg(&client, &mut cb, Some(&challenge_a)).0,
        SecurityStatus::SEC_E_LOGON_DENIED
    );

    // The hello's flags changed in transit (the checksum recomputed, as an
    // attacker can): the server answers, the client's check catches it.
    let mut cc = None;
    let (_, hello) = client_leg(&client, &mut cc, None);
    let mut tampered = body(&hello).to_vec();
    tampered[3] ^= 0x10;
    let tampered = frame(1, 1, 3, &tampered);
    let mut sc = None;
    let (status, challenge) = leg(&server, &mut sc, false, Some(&tampered));
    assert_eq!(status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    assert_eq!(
        client_leg(&client, &mut cc, Some(&challenge)).0,
        SecurityStatus::SEC_E_LOGON_DENIED
    );

    // The server's element changed in transit: the client refuses.
    let mut cd = None;
    let (_, hello) = client_leg(&client, &mut cd, None);
    let mut sd = None;
    let (_, challenge) = leg(&server, &mut sd, false, Some(&hello));
    let (y, mac) = challenge_parts(&challenge);
    let shifted = (point(&y) + EdwardsPoint::mul_base(&Scalar::ONE))
        .compress()
        .to_bytes();
    let forged = frame(2, 2, 3, &[shifted.as_slice(), &mac].concat());
    assert_eq!(
        client_leg(&client, &mut cd, Some(&forged)).0,
        SecurityStatus::SEC_E_LOGON_DENIED
    );

    // A version 1 token is refused with a clear error.
    let mut se = None;
    let mut v1 = hello.clone();
    v1[4] = 1;
    let n = v1.len();
    let checksum = Sha256::digest(&v1[..n - 32]);
    v1[n - 32..].copy_from_slice(&checksum);
    let mut out = vec![0u8; 1024];
    let token = v1.clone();
    let error = server
        .accept_security_context(
            &mut se,
            sspi_tests::ASC_REQ,
            &[sspi_core::SecBufferRef::token(&token)],
            &mut [SecBuffer::token(&mut out)],
        )
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_INVALID_TOKEN);
    assert!(error.message().contains("version 1"), "{error}");
}
