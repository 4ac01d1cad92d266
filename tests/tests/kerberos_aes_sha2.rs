//! RFC 8009 end to end: the real plugin against the embedded KDC with a user
//! and a service that have only aes256-cts-hmac-sha384-192 (20) or only
//! aes128-cts-hmac-sha256-128 (19) keys — AS, TGS, AP with mutual auth, MIC,
//! sealed and integrity-only wrap tokens both ways, the sizes of the etype,
//! tampering caught, and the per-message calls allocating nothing (counted
//! on Linux with glibc, where the counting allocator works).

#[path = "common/kerberos_fixture.rs"]
mod fixture;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[path = "common/counting_malloc.rs"]
mod counting_malloc;

use fixture::{REALM, SERVICE, credentials, registry_text};
use sspi_core::{Qop, SecBuffer, SecurityStatus};
use sspi_kdc::{Database, KdcConfig, KdcHandle};
use sspi_plugin_host::SecurityContextHandle;
use sspi_plugin_host::loopback::{self, CompletedHandshake};
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile};

/// A realm whose `alice` and `host/localhost` have keys of `db_etypes`
/// only, the package configured with `allowed` (no line when `None`).
struct Sha2Realm {
    _kdc: KdcHandle,
    registry: RegistryFile,
}

fn realm(db_etypes: &str, allowed: Option<&str>) -> Sha2Realm {
    let text = format!(
        "alice etypes={db_etypes} password alice-password\n\
         {SERVICE} etypes={db_etypes} password host-service-secret\n"
    );
    let db = Database::parse(&text, REALM, "sha2-database").expect("database");
    let keytab = db.keytab(&[SERVICE]).expect("keytab");
    let kdc = KdcHandle::start("127.0.0.1:0".parse().unwrap(), KdcConfig::new(db)).expect("KDC");
    let extra = allowed
        .map(|a| format!("\"AllowedEnctypes\"=\"{a}\"\n"))
        .unwrap_or_default();
    let registry = RegistryFile::new(&registry_text(&kdc.addr().to_string(), &extra));
    std::fs::write(
        registry.dir.path().join("service.keytab"),
        keytab.to_bytes().unwrap(),
    )
    .unwrap();
    Sha2Realm {
        _kdc: kdc,
        registry,
    }
}

fn handshake(realm: &Sha2Realm) -> CompletedHandshake {
    let host = realm.registry.host();
    let (client, server) = credentials(&host, None);
    loopback::handshake(&client, &server, Some(SERVICE), ISC_REQ, ASC_REQ).expect("handshake")
}

/// (max_signature, security_trailer, key length) of each etype.
fn expected_sizes(etype: u32) -> (u32, u32, usize) {
    match etype {
        20 => (40, 72, 32),
        19 => (32, 64, 16),
        _ => (28, 60, 32),
    }
}

fn mic(from: &mut SecurityContextHandle, to: &mut SecurityContextHandle, text: &[u8], len: usize) {
    let mut data = text.to_vec();
    let mut sig = vec![0u8; 64];
    let mut msg = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
    from.make_signature(Qop::DEFAULT, &mut msg, 0)
        .expect("make_signature");
    assert_eq!(msg[1].len(), len, "the MIC token's length");
    let mut sig = msg[1].as_slice().to_vec();
    let mut data2 = data.clone();
    let mut check = [SecBuffer::data(&mut data2), SecBuffer::token(&mut sig)];
    assert_eq!(to.verify_signature(&mut check, 0), Ok(Qop::DEFAULT));
    // An altered message or checksum is refused (the sequence number is not spent).
    for at in [0usize, 1] {
        let mut data3 = data.clone();
        let mut sig3 = sig.clone();
        if at == 0 {
            data3.push(b'!');
        } else {
            let last = sig3.len() - 1;
            sig3[last] ^= 1;
        }
        let mut bad = [SecBuffer::data(&mut data3), SecBuffer::token(&mut sig3)];
        let err = to.verify_signature(&mut bad, 0).unwrap_err();
        assert_eq!(err.status(), SecurityStatus::SEC_E_MESSAGE_ALTERED);
    }
}

fn wrap(
    from: &mut SecurityContextHandle,
    to: &mut SecurityContextHandle,
    text: &[u8],
    qop: Qop,
    trailer_len: usize,
) {
    let mut data = text.to_vec();
    let mut trailer = vec![0u8; 80];
    let mut msg = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
    assert_eq!(from.encrypt_message(qop, &mut msg, 0), Ok(qop));
    assert_eq!(msg[0].len(), trailer_len, "the trailer's length");
    let trailer = msg[0].as_slice().to_vec();
    let data = msg[1].as_slice().to_vec();
    if qop == Qop::DEFAULT && text.len() >= 8 {
        assert_ne!(data, text, "the data is encrypted in place");
    }
    if qop == Qop::WRAP_NO_ENCRYPT {
        assert_eq!(data, text, "integrity only: the data stays readable");
    }
    // Tampered data is refused and zeroed; the stream then goes on.
    if !text.is_empty() {
        let (mut t, mut d) = (trailer.clone(), data.clone());
        d[0] ^= 0x10;
        let mut bad = [SecBuffer::token(&mut t), SecBuffer::data(&mut d)];
        let err = to.decrypt_message(&mut bad, 0).unwrap_err();
        assert_eq!(err.status(), SecurityStatus::SEC_E_MESSAGE_ALTERED);
    }
    let (mut t, mut d) = (trailer, data);
    let mut msg = [SecBuffer::token(&mut t), SecBuffer::data(&mut d)];
    assert_eq!(to.decrypt_message(&mut msg, 0), Ok(qop));
    assert_eq!(msg[1].as_slice(), text);
}

fn messages_both_ways(done: &mut CompletedHandshake, etype: u32) {
    let (mic_len, trailer_len, key_len) = expected_sizes(etype);
    let sizes = done.client.sizes().unwrap();
    assert_eq!(
        (sizes.max_signature, sizes.security_trailer),
        (mic_len, trailer_len),
        "the sizes of etype {etype}"
    );
    let server_sizes = done.server.sizes().unwrap();
    assert_eq!(server_sizes.security_trailer, trailer_len);
    let key = done.client.session_key().unwrap();
    assert_eq!(key.expose().len(), key_len);
    assert_eq!(key.expose(), done.server.session_key().unwrap().expose());
    let (mic_len, trailer_len) = (mic_len as usize, trailer_len as usize);
    for round in 0..2 {
        let text = format!("round {round} from the client");
        mic(&mut done.client, &mut done.server, text.as_bytes(), mic_len);
        mic(&mut done.server, &mut done.client, b"reply", mic_len);
    }
    for len in [0usize, 1, 15, 16, 17, 33, 1000, 65_536] {
        let text: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        wrap(
            &mut done.client,
            &mut done.server,
            &text,
            Qop::DEFAULT,
            trailer_len,
        );
        wrap(
            &mut done.server,
            &mut done.client,
            &text,
            Qop::DEFAULT,
            trailer_len,
        );
    }
    for text in [&b""[..], b"integrity only", &[0xA5; 4096]] {
        wrap(
            &mut done.client,
            &mut done.server,
            text,
            Qop::WRAP_NO_ENCRYPT,
            mic_len,
        );
        wrap(
            &mut done.server,
            &mut done.client,
            text,
            Qop::WRAP_NO_ENCRYPT,
            mic_len,
        );
    }
}

/// 400 rounds of MIC and sealed wrap, both ways, over 1 KiB: no allocation.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn allocation_free(done: &mut CompletedHandshake) {
    let mut data = vec![0x5Au8; 1024];
    let mut signature = vec![0u8; 64];
    let mut trailer = vec![0u8; 80];
    let mut failures = 0usize;
    let allocations = counting_malloc::measure(|| {
        for round in 0..400 {
            let (from, to) = if round % 2 == 0 {
                (&mut done.client, &mut done.server)
            } else {
                (&mut done.server, &mut done.client)
            };
            let mut m = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
            failures += usize::from(from.make_signature(Qop::DEFAULT, &mut m, 0).is_err());
            failures += usize::from(to.verify_signature(&mut m, 0).is_err());
            let mut m = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
            failures += usize::from(from.encrypt_message(Qop::DEFAULT, &mut m, 0).is_err());
            failures += usize::from(to.decrypt_message(&mut m, 0).is_err());
        }
    });
    assert_eq!(failures, 0, "every call succeeded");
    assert_eq!(
        allocations, 0,
        "per-message calls allocated {allocations} times"
    );
    assert!(data.iter().all(|&b| b == 0x5A));
    // The counter does see the plugin's allocations.
    assert!(counting_malloc::measure(|| drop(done.server.session_key().unwrap())) > 0);
}

#[test]
fn aes256_sha384_only_user_and_service() {
    let realm = realm(
        "aes256-cts-hmac-sha384-192",
        Some("aes256-cts-hmac-sha384-192"),
    );
    let mut done = handshake(&realm);
    assert_eq!(done.server.names().unwrap(), format!("alice@{REALM}"));
    messages_both_ways(&mut done, 20);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    allocation_free(&mut done);
}

#[test]
fn aes128_sha256_only_user_and_service_by_number() {
    let realm = realm("19", Some("19"));
    let mut done = handshake(&realm);
    messages_both_ways(&mut done, 19);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    allocation_free(&mut done);
}

/// The case: a realm whose user and service have only aes-sha2 keys,
/// and a client with the default `AllowedEnctypes` (aes-sha1 first): the
/// user logs in with etype 20 and the KDC gives the session key the
/// service's etype (RFC 4120 3.1.3), not the client's first choice.
#[test]
fn default_allowed_enctypes_reach_an_aes_sha2_only_realm() {
    let realm = realm("aes256-sha2", None);
    let mut done = handshake(&realm);
    messages_both_ways(&mut done, 20);
}

/// A client that allows only aes-sha1 cannot log in as an aes-sha2-only user.
#[test]
fn an_aes_sha1_only_client_and_an_aes_sha2_only_user_share_no_etype() {
    let realm = realm(
        "20,19",
        Some("aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96"),
    );
    let host = realm.registry.host();
    let (client, server) = credentials(&host, None);
    let Err(err) = loopback::handshake(&client, &server, Some(SERVICE), ISC_REQ, ASC_REQ) else {
        panic!("a handshake without a common etype completed");
    };
    assert_eq!(
        err.status(),
        SecurityStatus::SEC_E_KDC_UNKNOWN_ETYPE,
        "{}",
        err.message()
    );
}

/// rc4-hmac stays refused, with a message that says so and why.
#[test]
fn rc4_hmac_is_refused_with_a_clear_message() {
    for value in ["rc4-hmac", "23", "aes256-sha2 rc4-hmac"] {
        let registry = RegistryFile::new(&registry_text(
            "127.0.0.1:88",
            &format!("\"AllowedEnctypes\"=\"{value}\"\n"),
        ));
        let host = registry.host();
        let err = host
            .acquire_credentials_handle("Kerberos", None, sspi_core::CredentialUse::OUTBOUND, None)
            .expect_err("rc4-hmac is refused");
        let message = err.message();
        assert!(
            message.contains("AllowedEnctypes")
                && message.contains("rc4-hmac, 23")
                && message.contains("not supported")
                && message.contains("aes256-cts-hmac-sha384-192 (20)"),
            "{message}"
        );
    }
}
