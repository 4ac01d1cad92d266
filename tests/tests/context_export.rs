//! ExportSecurityContext / ImportSecurityContext on the real Test, NTLM and
//! Kerberos plugins: a context established here continues in another process
//! (`sspi-export-peer`, see `sspi_tests::export_peer`) while its peer stays
//! here, with the right keys and sequence numbers both ways;
//! SECPKG_CONTEXT_EXPORT_DELETE_OLD and _RESET_NEW; and blobs that are
//! tampered, truncated, of another package or version, or random, refused
//! without a panic.

#[path = "common/kerberos_fixture.rs"]
mod fixture;

use proptest::prelude::*;
use sspi_core::context_export::{self, ExportedContext};
use sspi_core::{CredentialUse, SecretBytes, SecurityStatus};
use sspi_plugin_host::loopback::{self, CompletedHandshake};
use sspi_plugin_host::{CredentialsHandle, SecurityHost};
use sspi_tests::export_peer::{Peer, seal, sign, unseal, verify};
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile};
use std::path::Path;

const PEER: &str = env!("CARGO_BIN_EXE_sspi-export-peer");

/// Test (4 legs) and NTLM, as plugins.
fn registry() -> RegistryFile {
    let registry = RegistryFile::new(&format!(
        r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_test.dll, sspi_ntlm.dll, sspi_example.dll"

{}
[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM]
"NbComputerName"="SERVER"
"NbDomainName"="SSPI-PLUG"
"DnsComputerName"="server.sspi-plug.test"
"DnsDomainName"="sspi-plug.test"
"DefaultDomain"="SSPI-PLUG"
"DefaultUser"="alice"
"UserDatabase"="users.txt"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Example]
"Key"=hex:4b,9f,0e,21,73,c8,5a,d6,10,e2,88,3b,47,f1,6c,95,\
  2d,b0,7e,c4,19,a3,56,e8,0f,72,bd,31,9a,64,c7,08
"DefaultUser"="alice"
"#,
        sspi_tests::test_package_key(4, false)
    ));
    std::fs::write(
        registry.dir.path().join("users.txt"),
        "SSPI-PLUG:alice:alice-password\n",
    )
    .unwrap();
    registry
}

fn credentials(host: &SecurityHost, package: &str) -> (CredentialsHandle, CredentialsHandle) {
    let client = host
        .acquire_credentials_handle(package, None, CredentialUse::OUTBOUND, None)
        .expect("client credentials");
    let server = host
        .acquire_credentials_handle(package, None, CredentialUse::INBOUND, None)
        .expect("server credentials");
    (client, server)
}

fn target(package: &str) -> Option<&'static str> {
    (package == "Kerberos").then_some(fixture::SERVICE)
}

/// A handshake of `package`, then messages both ways so that every
/// sequence number (and NTLM's keystreams) has moved off its first value.
fn established(host: &SecurityHost, package: &str) -> CompletedHandshake {
    let (client, server) = credentials(host, package);
    let mut hs = loopback::handshake(&client, &server, target(package), ISC_REQ, ASC_REQ)
        .expect("handshake");
    for round in 0..2u8 {
        let data = [b'w', round];
        let token = sign(&mut hs.client, &data).unwrap();
        verify(&mut hs.server, &data, &token).unwrap();
        let (token, sealed) = seal(&mut hs.server, &data).unwrap();
        assert_eq!(unseal(&mut hs.client, &token, &sealed).unwrap(), data);
        let (token, sealed) = seal(&mut hs.client, &data).unwrap();
        assert_eq!(unseal(&mut hs.server, &token, &sealed).unwrap(), data);
        let token = sign(&mut hs.server, &data).unwrap();
        verify(&mut hs.client, &data, &token).unwrap();
    }
    hs
}

/// Exports the server's context (`server`) or the client's with
/// DELETE_OLD, imports it in another process, and talks to it from the
/// context that stayed here.
fn continues_in_another_process(registry: &Path, host: &SecurityHost, package: &str, server: bool) {
    let hs = established(host, package);
    let (mut stay, moving) = if server {
        (hs.client, hs.server)
    } else {
        (hs.server, hs.client)
    };
    let names = moving.names().unwrap();
    // DELETE_OLD: the handle is consumed; only the blob holds the context now.
    let blob = moving.export_and_delete(false).expect("export");
    let mut peer = Peer::spawn(PEER);
    assert_ne!(peer.id(), std::process::id());
    assert_eq!(
        peer.import(registry, package, blob.expose()).unwrap(),
        names
    );
    let mut last = None;
    for round in 0..3u8 {
        let data = format!("{package} round {round} from here");
        let token = sign(&mut stay, data.as_bytes()).unwrap();
        peer.verify(data.as_bytes(), &token)
            .unwrap_or_else(|e| panic!("{package}: the peer verifies round {round}: {e:?}"));
        last = Some((data.clone(), token));
        let reply = format!("{package} round {round} from the peer");
        let token = peer.sign(reply.as_bytes()).unwrap();
        verify(&mut stay, reply.as_bytes(), &token)
            .unwrap_or_else(|e| panic!("{package}: the peer's signature of round {round}: {e:?}"));
        let (token, sealed) = seal(&mut stay, data.as_bytes()).unwrap();
        assert_eq!(peer.unseal(&token, &sealed).unwrap(), data.as_bytes());
        let (token, sealed) = peer.seal(reply.as_bytes()).unwrap();
        assert_eq!(
            unseal(&mut stay, &token, &sealed).unwrap(),
            reply.as_bytes()
        );
    }
    // A replay of a message the peer already accepted is refused there.
    let (data, token) = last.unwrap();
    let replay = peer.verify(data.as_bytes(), &token).unwrap_err();
    assert_eq!(
        replay.0,
        SecurityStatus::SEC_E_OUT_OF_SEQUENCE,
        "{package}: {replay:?}"
    );
    // So is a message altered on its way (last: it may leave the numbers apart).
    let token = sign(&mut stay, b"tampered").unwrap();
    let altered = peer.verify(b"tampereD", &token).unwrap_err();
    assert_eq!(
        altered.0,
        SecurityStatus::SEC_E_MESSAGE_ALTERED,
        "{package}: {altered:?}"
    );
}

#[test]
fn test_and_ntlm_contexts_continue_in_another_process() {
    let registry = registry();
    let host = registry.host();
    for package in ["Test", "NTLM"] {
        continues_in_another_process(&registry.path, &host, package, true);
        continues_in_another_process(&registry.path, &host, package, false);
    }
}

#[test]
fn kerberos_contexts_continue_in_another_process() {
    let realm = fixture::realm();
    let host = realm.host();
    continues_in_another_process(&realm.registry.path, &host, "Kerberos", true);
    continues_in_another_process(&realm.registry.path, &host, "Kerberos", false);
}

/// Without DELETE_OLD the old context keeps working, and the imported one
/// shares its keys and state: both accept the peer's next message.
fn old_context_keeps_working(host: &SecurityHost, package: &str) {
    let mut hs = established(host, package);
    let blob = hs.server.export_security_context(false).unwrap();
    let mut copy = host
        .import_security_context(package, blob.expose())
        .unwrap();
    let token = sign(&mut hs.client, b"after the export").unwrap();
    verify(&mut hs.server, b"after the export", &token).unwrap();
    verify(&mut copy, b"after the export", &token).unwrap();
    let token = sign(&mut hs.server, b"the old one still signs").unwrap();
    verify(&mut hs.client, b"the old one still signs", &token).unwrap();
    let (token, sealed) = seal(&mut hs.client, b"and opens").unwrap();
    assert_eq!(
        unseal(&mut hs.server, &token, &sealed).unwrap(),
        b"and opens"
    );
    // The attributes travel with the context.
    assert_eq!(copy.names().unwrap(), hs.server.names().unwrap());
    assert_eq!(copy.flags().unwrap(), hs.server.flags().unwrap());
    assert_eq!(copy.lifespan().unwrap(), hs.server.lifespan().unwrap());
    assert_eq!(copy.sizes().unwrap(), hs.server.sizes().unwrap());
    assert_eq!(
        copy.session_key().unwrap().expose(),
        hs.server.session_key().unwrap().expose()
    );
    assert_eq!(copy.package_name(), package);
}

/// A complete context refuses handshake calls: an imported one too.
fn imported_context_is_complete(host: &SecurityHost, package: &str) {
    let hs = established(host, package);
    let (client_credentials, server_credentials) = credentials(host, package);
    let blob = hs.client.export_security_context(false).unwrap();
    let mut imported = Some(
        host.import_security_context(package, blob.expose())
            .unwrap(),
    );
    let mut out = vec![0u8; 100];
    let mut output = [sspi_core::SecBuffer::token(&mut out)];
    let e = client_credentials
        .initialize_security_context(&mut imported, None, ISC_REQ, &[], &mut output)
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE, "{e}");
    let input = [sspi_core::SecBufferRef::token(b"token")];
    let e = server_credentials
        .accept_security_context(&mut imported, ASC_REQ, &input, &mut output)
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_HANDLE, "{e}");
}

/// During the handshake there is nothing to export.
fn handshake_in_progress_is_refused(host: &SecurityHost, package: &str) {
    let (client, _) = credentials(host, package);
    let mut context = None;
    let (status, _) = sspi_tests::leg(&client, &mut context, true, None);
    assert_eq!(status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    let e = context.unwrap().export_security_context(false).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_HANDLE, "{e}");
    assert!(e.message().contains("not complete"), "{e}");
}

#[test]
fn delete_old_reset_new_and_incomplete_contexts_for_test_and_ntlm() {
    let registry = registry();
    let host = registry.host();
    for package in ["Test", "NTLM"] {
        old_context_keeps_working(&host, package);
        imported_context_is_complete(&host, package);
        reset_new_refused_once_sent_then_restarts(&host, package);
    }
    handshake_in_progress_is_refused(&host, "Test");
    handshake_in_progress_is_refused(&host, "NTLM");
}

#[test]
fn delete_old_reset_new_and_incomplete_contexts_for_kerberos() {
    let realm = fixture::realm();
    let host = realm.host();
    old_context_keeps_working(&host, "Kerberos");
    imported_context_is_complete(&host, "Kerberos");
    kerberos_reset_new_restarts_the_sequence_numbers(&host);
}

/// Test and NTLM: RESET_NEW would reuse the AES-GCM nonces or RC4 keystream
/// of messages already sent, so it is refused then; a context that has only
/// received restarts its receiving side (it accepts the first message again).
fn reset_new_refused_once_sent_then_restarts(host: &SecurityHost, package: &str) {
    let hs = established(host, package);
    let e = hs.server.export_security_context(true).unwrap_err();
    assert_eq!(
        e.status(),
        SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
        "{e}"
    );
    assert!(
        e.message().contains("SECPKG_CONTEXT_EXPORT_RESET_NEW"),
        "{e}"
    );

    let (client, server) = credentials(host, package);
    let mut hs = loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).unwrap();
    let first = sign(&mut hs.client, b"first").unwrap();
    verify(&mut hs.server, b"first", &first).unwrap();
    let (token, sealed) = seal(&mut hs.client, b"second").unwrap();
    assert_eq!(unseal(&mut hs.server, &token, &sealed).unwrap(), b"second");
    let plain = hs.server.export_security_context(false).unwrap();
    let reset = hs.server.export_security_context(true).unwrap();
    let mut continued = host
        .import_security_context(package, plain.expose())
        .unwrap();
    let mut restarted = host
        .import_security_context(package, reset.expose())
        .unwrap();
    let e = verify(&mut continued, b"first", &first).unwrap_err();
    assert_eq!(
        e.0,
        SecurityStatus::SEC_E_OUT_OF_SEQUENCE,
        "{package}: {e:?}"
    );
    verify(&mut restarted, b"first", &first)
        .unwrap_or_else(|e| panic!("{package}: the reset context accepts message 0: {e:?}"));
    assert_eq!(unseal(&mut restarted, &token, &sealed).unwrap(), b"second");
}

/// Kerberos: RESET_NEW restarts both directions at the AP exchange's
/// numbers (every wrap token has a fresh confounder: no keystream is reused).
fn kerberos_reset_new_restarts_the_sequence_numbers(host: &SecurityHost) {
    let (client, server) = credentials(host, "Kerberos");
    let mut hs =
        loopback::handshake(&client, &server, target("Kerberos"), ISC_REQ, ASC_REQ).unwrap();
    let first = sign(&mut hs.client, b"first").unwrap();
    verify(&mut hs.server, b"first", &first).unwrap();
    let first_reply = sign(&mut hs.server, b"reply").unwrap();
    verify(&mut hs.client, b"reply", &first_reply).unwrap();
    let later = sign(&mut hs.client, b"later").unwrap();
    verify(&mut hs.server, b"later", &later).unwrap();
    let reset = hs.server.export_security_context(true).unwrap();
    let mut restarted = host
        .import_security_context("Kerberos", reset.expose())
        .unwrap();
    verify(&mut restarted, b"first", &first).unwrap();
    // It sends the first number again: the live client takes it as a replay.
    let again = sign(&mut restarted, b"reply").unwrap();
    assert_eq!(again[8..16], first_reply[8..16], "SND_SEQ restarts");
    let e = verify(&mut hs.client, b"reply", &again).unwrap_err();
    assert_eq!(e.0, SecurityStatus::SEC_E_OUT_OF_SEQUENCE, "{e:?}");
    // Without the flag the import goes on where the server is.
    let plain = hs.server.export_security_context(false).unwrap();
    let mut continued = host
        .import_security_context("Kerberos", plain.expose())
        .unwrap();
    let next = sign(&mut hs.client, b"next").unwrap();
    verify(&mut continued, b"next", &next).unwrap();
}

fn refused(host: &SecurityHost, package: &str, blob: &[u8], expect: &str) {
    let e = host.import_security_context(package, blob).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_TOKEN, "{e}");
    assert!(e.message().contains(expect), "{expect:?} not in {e}");
}

#[test]
fn bad_blobs_are_refused_with_a_clear_message() {
    let registry = registry();
    let host = registry.host();
    let test_blob = established(&host, "Test")
        .server
        .export_security_context(false)
        .unwrap();
    let ntlm_blob = established(&host, "NTLM")
        .client
        .export_security_context(false)
        .unwrap();
    let blob = test_blob.expose();

    let e = host
        .import_security_context("NoSuchPackage", blob)
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_SECPKG_NOT_FOUND, "{e}");
    refused(
        &host,
        "NTLM",
        blob,
        "a server context of package Test, not of NTLM",
    );
    refused(
        &host,
        "Test",
        ntlm_blob.expose(),
        "package NTLM, not of Test",
    );
    let mut version = blob.to_vec();
    version[9] = 2;
    refused(&host, "Test", &version, "format version 2 is not supported");
    let mut tampered = blob.to_vec();
    tampered[40] ^= 0x01;
    refused(&host, "Test", &tampered, "SHA-256 digest does not match");
    refused(&host, "Test", &blob[..blob.len() - 1], "truncated");
    refused(&host, "Test", &blob[..20], "truncated");
    refused(&host, "Test", b"", "too short");
    refused(&host, "Test", &[blob, b"!"].concat(), "follow its digest");
    refused(
        &host,
        "Test",
        b"SSPICTY\0 and more bytes",
        "not a context exported by sspi-plug",
    );
    // A well-framed blob whose payload is another package's: the package refuses it.
    let ntlm = context_export::decode(ntlm_blob.expose()).unwrap();
    let relabelled = context_export::encode(
        "Test",
        &ExportedContext {
            side: ntlm.side,
            payload: SecretBytes::new(ntlm.payload.to_vec()),
        },
    )
    .unwrap();
    refused(
        &host,
        "Test",
        relabelled.expose(),
        "packed Test security context",
    );
    // A client's payload framed as a server's.
    let test = context_export::decode(blob).unwrap();
    let wrong_side = context_export::encode(
        "NTLM",
        &ExportedContext {
            side: sspi_core::ContextSide::Server,
            payload: SecretBytes::new(ntlm.payload.to_vec()),
        },
    )
    .unwrap();
    refused(&host, "NTLM", wrong_side.expose(), "other side");
    assert_eq!(test.side, sspi_core::ContextSide::Server);
}

#[test]
fn a_package_that_does_not_export_says_so() {
    let registry = registry();
    let host = registry.host();
    let (client, server) = credentials(&host, "Example");
    let hs = loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).unwrap();
    let e = hs.server.export_security_context(false).unwrap_err();
    assert_eq!(
        e.status(),
        SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
        "{e}"
    );
    assert!(
        e.message().starts_with("Example ExportSecurityContext"),
        "{e}"
    );
    let e = hs.client.export_and_delete(false).unwrap_err();
    assert_eq!(
        e.status(),
        SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
        "{e}"
    );
    // A well-framed blob naming it: the package does not import either.
    let framed = context_export::encode(
        "Example",
        &ExportedContext {
            side: sspi_core::ContextSide::Server,
            payload: SecretBytes::new(vec![1, 2, 3]),
        },
    )
    .unwrap();
    let e = host
        .import_security_context("example", framed.expose())
        .unwrap_err();
    assert_eq!(
        e.status(),
        SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
        "{e}"
    );
    assert!(e.message().contains("does not import"), "{e}");
}

/// `blob` imported into `package`: a context or SEC_E_INVALID_TOKEN, never a panic.
fn never_panics(host: &SecurityHost, package: &str, blob: &[u8]) -> Result<(), TestCaseError> {
    match host.import_security_context(package, blob) {
        Ok(_) => Ok(()),
        Err(e) => {
            prop_assert!(!e.is_panic(), "{package}: {e}");
            prop_assert_eq!(
                e.status(),
                SecurityStatus::SEC_E_INVALID_TOKEN,
                "{}: {}",
                package,
                e
            );
            Ok(())
        }
    }
}

/// The payloads of every package and side, to mutate.
fn payloads(host: &SecurityHost, kerberos: &SecurityHost) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (host, package) in [(host, "Test"), (host, "NTLM"), (kerberos, "Kerberos")] {
        let hs = established(host, package);
        for context in [&hs.client, &hs.server] {
            let blob = context.export_security_context(false).unwrap();
            out.push((package.to_owned(), blob.expose().to_vec()));
        }
    }
    out
}

#[test]
fn random_and_mutated_blobs_never_panic() {
    let registry = registry();
    let host = registry.host();
    let realm = fixture::realm();
    let kerberos = realm.host();
    let blobs = payloads(&host, &kerberos);
    let host_of = |package: &str| {
        if package == "Kerberos" {
            &kerberos
        } else {
            &host
        }
    };
    let config = ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let strategy = (
        0..blobs.len(),
        proptest::collection::vec(any::<u8>(), 0..400),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        any::<usize>(),
    );
    runner
        .run(&strategy, |(which, random, flips, cut)| {
            let (package, blob) = &blobs[which];
            let host = host_of(package);
            // Random bytes, and random bytes behind a valid magic and version.
            never_panics(host, package, &random)?;
            never_panics(host, package, &[&blob[..10], &random[..]].concat())?;
            // The blob with bytes changed and cut: the digest refuses it.
            let mut mutated = blob.clone();
            for &(at, xor) in &flips {
                let at = at % mutated.len();
                mutated[at] ^= xor;
            }
            mutated.truncate(cut % (mutated.len() + 1));
            never_panics(host, package, &mutated)?;
            // The payload changed and cut, framed again with a valid digest:
            // now the package's own parser sees it.
            let decoded = context_export::decode(blob).unwrap();
            let mut payload = decoded.payload.to_vec();
            for &(at, xor) in &flips {
                if !payload.is_empty() {
                    let at = at % payload.len();
                    payload[at] ^= xor;
                }
            }
            payload.truncate(cut % (payload.len() + 1));
            let reframed = context_export::encode(
                package,
                &ExportedContext {
                    side: decoded.side,
                    payload: SecretBytes::new(payload),
                },
            )
            .unwrap();
            never_panics(host, package, reframed.expose())
        })
        .unwrap();
}
