//! C providers (Windows-CE-style SSPs that export `InitSecurityInterfaceW`),
//! loaded through real registry files beside the abi_stable plugins: the C
//! fixture `tests/fixtures/c-provider/provider.c` (the "CFixture" package,
//! NOT SECURE, conformance only), compiled here with gcc, is enumerated,
//! routed, authenticates both ways and signs (its signatures checked against
//! RustCrypto's HMAC-SHA256), passes the conformance kit (and `sspi
//! selftest`), and each of its garbage variants (`-DGARBAGE_*`) is refused,
//! or its call fails, with one line naming the library.
//!
//! Without gcc the tests print a loud notice and pass without checking
//! anything, except under CI (`CI=true`), where a missing gcc fails them.

use hmac::{KeyInit, Mac};
use sspi_core::{AuthIdentity, CredentialUse, PackageCapabilities, Qop, SecBuffer, SecurityStatus};
use sspi_plugin_host::{SecurityHost, Unavailable, loopback};
use sspi_testkit::{Configuration, Outcome, Rule};
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile, leg, registry_text};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

sspi_testkit::count_allocations!();

/// The fixture's compiled-in key (used when the application gives no identity).
const FIXTURE_KEY: &[u8] = b"cfixture-compiled-in-key-NOT-SECURE";

/// The variants compiled: their name ("" for the plain fixture) and the
/// `-D` switches that make them.
const VARIANTS: &[(&str, &[&str])] = &[
    ("", &[]),
    ("COMPLETE", &["FIXTURE_COMPLETE"]),
    ("NULL_TABLE", &["GARBAGE_NULL_TABLE"]),
    ("BAD_VERSION", &["GARBAGE_BAD_VERSION"]),
    ("NULL_SLOT", &["GARBAGE_NULL_SLOT"]),
    ("HUGE_COUNT", &["GARBAGE_HUGE_COUNT"]),
    ("NULL_ARRAY", &["GARBAGE_NULL_ARRAY"]),
    ("UNTERMINATED", &["GARBAGE_UNTERMINATED"]),
    ("ZERO_MAX_TOKEN", &["GARBAGE_ZERO_MAX_TOKEN"]),
    ("LONG_TOKEN", &["GARBAGE_LONG_TOKEN"]),
    ("BIG_CBBUFFER", &["GARBAGE_BIG_CBBUFFER"]),
    ("EMPTY_CONTINUE", &["GARBAGE_EMPTY_CONTINUE"]),
    ("ODD_STATUS", &["GARBAGE_ODD_STATUS"]),
    ("NO_COMPLETE", &["FIXTURE_COMPLETE", "GARBAGE_NO_COMPLETE"]),
];

fn source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/c-provider/provider.c")
}

/// The directory holding every variant, built once per process; `None`
/// (after a loud notice, or a panic under CI) when gcc is missing.
fn built() -> Option<&'static Path> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(|| {
        let gcc = Command::new("gcc").arg("--version").output();
        if !gcc.is_ok_and(|o| o.status.success()) {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("the C provider tests need gcc; CI must install it");
            }
            eprintln!(
                "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                 !! SKIPPED the C provider tests: gcc is not installed.\n\
                 !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            );
            return None;
        }
        // Under target/tmp, one directory per test process (a library may be
        // loaded while another process builds); those of earlier runs go.
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-provider");
        std::fs::create_dir_all(&base).unwrap();
        for old in std::fs::read_dir(&base).unwrap().flatten() {
            let stale = old
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|e| e.as_secs() > 3600));
            if stale {
                let _ = std::fs::remove_dir_all(old.path());
            }
        }
        let dir = base.join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (variant, defines) in VARIANTS {
            let out = dir.join(file_name(variant));
            let mut gcc = Command::new("gcc");
            gcc.args(["-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o"])
                .arg(&out)
                .arg(source());
            gcc.args(defines.iter().map(|d| format!("-D{d}")));
            let result = gcc.output().expect("gcc runs");
            assert!(
                result.status.success(),
                "gcc {variant}: {}",
                String::from_utf8_lossy(&result.stderr)
            );
            // Whatever the umask: only the owner may write a provider library.
            std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Some(dir)
    })
    .as_deref()
}

fn file_name(variant: &str) -> String {
    if variant.is_empty() {
        "libcfixture.so".into()
    } else {
        format!("libcfixture_{}.so", variant.to_ascii_lowercase())
    }
}

/// The path of a compiled variant.
fn library(variant: &str) -> Option<PathBuf> {
    Some(built()?.join(file_name(variant)))
}

/// A registry whose `Providers` lists the Test plugin and `libraries`.
fn registry(libraries: &[&Path]) -> RegistryFile {
    let mut providers = vec!["sspi_test.dll".to_string()];
    providers.extend(libraries.iter().map(|p| p.display().to_string()));
    RegistryFile::new(&registry_text(&providers.join(", "), 3, false))
}

fn credentials(
    host: &SecurityHost,
    client: Option<AuthIdentity>,
    server: Option<AuthIdentity>,
) -> (
    sspi_plugin_host::CredentialsHandle,
    sspi_plugin_host::CredentialsHandle,
) {
    let c = host
        .acquire_credentials_handle("CFixture", None, CredentialUse::OUTBOUND, client)
        .expect("client credentials");
    let s = host
        .acquire_credentials_handle("CFixture", None, CredentialUse::INBOUND, server)
        .expect("server credentials");
    (c, s)
}

#[test]
fn a_c_provider_is_enumerated_and_routed_beside_a_plugin() {
    let Some(lib) = library("") else { return };
    let registry = registry(&[&lib]);
    let host = registry.host();
    let names: Vec<&str> = host.available_packages().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Test", "CFixture"], "in Providers order");
    let entry = host
        .enumerate_security_packages()
        .iter()
        .find(|e| e.name() == "CFixture")
        .unwrap();
    assert!(entry.unavailable().is_none());
    assert!(
        entry.parameters().is_empty(),
        "C packages declare no values"
    );
    assert!(
        entry.source().to_string().contains("libcfixture.so"),
        "{}",
        entry.source()
    );
    let info = host.query_security_package_info("cfixture").unwrap();
    assert_eq!(
        info.comment.as_str(),
        "CFixture: NOT SECURE, conformance only"
    );
    assert_eq!(info.max_token, 3 + 4 + 16 + 1 + 128);
    assert!(
        info.capabilities
            .contains(PackageCapabilities::INTEGRITY | PackageCapabilities::MUTUAL_AUTH)
    );
    assert!(!info.capabilities.contains(PackageCapabilities::PRIVACY));

    // The handshake through the host, then signatures both ways.
    let (client, server) = credentials(&host, None, None);
    assert_eq!(client.query_credentials_names().unwrap(), "fixture");
    let mut done = loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).unwrap();
    let statuses: Vec<SecurityStatus> = done.legs.iter().map(|l| l.status).collect();
    assert_eq!(
        statuses,
        [
            SecurityStatus::SEC_I_CONTINUE_NEEDED,
            SecurityStatus::SEC_I_CONTINUE_NEEDED,
            SecurityStatus::SEC_E_OK,
            SecurityStatus::SEC_E_OK
        ]
    );
    assert_eq!(done.server.names().unwrap(), "fixture");
    assert!(
        done.client_step
            .attributes
            .contains(sspi_core::IscRet::MUTUAL_AUTH | sspi_core::IscRet::INTEGRITY)
    );
    assert!(
        done.server_step
            .attributes
            .contains(sspi_core::AscRet::INTEGRITY)
    );
    assert_eq!(done.client.sizes().unwrap().max_signature, 20);
    assert_eq!(done.server.session_key().unwrap().len(), 32);
    assert_eq!(
        done.client.session_key().unwrap().expose(),
        done.server.session_key().unwrap().expose()
    );
    for client_sends in [true, false] {
        let mut data = b"through the C table".to_vec();
        let mut sig = [0u8; 64];
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
        let [sender, receiver] = if client_sends {
            [&mut done.client, &mut done.server]
        } else {
            [&mut done.server, &mut done.client]
        };
        sender
            .make_signature(Qop::DEFAULT, &mut message, 0)
            .unwrap();
        assert_eq!(message[1].len(), 20, "the TOKEN shrinks to the signature");
        receiver.verify_signature(&mut message, 0).unwrap();
        let replay = receiver.verify_signature(&mut message, 0).unwrap_err();
        assert_eq!(replay.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE);
        message[0].as_mut_slice()[0] ^= 1;
        let altered = receiver.verify_signature(&mut message, 0).unwrap_err();
        assert_eq!(altered.status(), SecurityStatus::SEC_E_MESSAGE_ALTERED);
        assert!(
            altered.reason().contains("libcfixture.so"),
            "{}",
            altered.reason()
        );
    }
    // No sealing: the slot is NULL.
    let mut data = b"x".to_vec();
    let mut trailer = [0u8; 64];
    let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
    let e = done
        .client
        .encrypt_message(Qop::DEFAULT, &mut message, 0)
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION);
}

#[test]
fn the_c_package_authenticates_with_the_identity_password_and_refuses_a_wrong_one() {
    let Some(lib) = library("") else { return };
    let registry = registry(&[&lib]);
    let host = registry.host();
    let bob = AuthIdentity::new("bob", "SSPI-PLUG", "bob-secret");
    let (client, server) = credentials(&host, Some(bob.clone()), Some(bob.clone()));
    let done = loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).unwrap();
    assert_eq!(done.server.names().unwrap(), "bob");
    // The server holds another secret: the client sees that the server
    // cannot prove itself.
    let other = AuthIdentity::new("bob", "SSPI-PLUG", "not-bob-secret");
    let (client, server) = credentials(&host, Some(bob), Some(other));
    let e = loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_MUTUAL_AUTH_FAILED, "{e}");
    assert!(e.message().contains("libcfixture.so"), "{e}");
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).unwrap();
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[test]
fn the_c_packages_signatures_are_hmac_sha256_as_documented() {
    let Some(lib) = library("") else { return };
    let registry = registry(&[&lib]);
    let host = registry.host();
    let (client, server) = credentials(&host, None, None);
    let (mut c, mut s) = (None, None);
    let (status, hello) = leg(&client, &mut c, true, None);
    assert_eq!(status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    let (status, challenge) = leg(&server, &mut s, false, Some(&hello));
    assert_eq!(status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    let nonce = &challenge[3..19];
    assert_eq!(
        &challenge[19..],
        hmac(FIXTURE_KEY, &[b"server", &hello, nonce]),
        "the server's proof"
    );
    let (status, proof) = leg(&client, &mut c, true, Some(&challenge));
    assert_eq!(status, SecurityStatus::SEC_E_OK);
    assert_eq!(&proof[3..], hmac(FIXTURE_KEY, &[b"client", &hello, nonce]));
    let (status, last) = leg(&server, &mut s, false, Some(&proof));
    assert_eq!((status, last.len()), (SecurityStatus::SEC_E_OK, 0));
    let mut client = c.unwrap();
    let c2s = hmac(FIXTURE_KEY, &[b"c2s", &hello, nonce]);
    for number in 0u32..2 {
        let mut data = b"signed in C".to_vec();
        let mut sig = [0u8; 20];
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
        client
            .make_signature(Qop::DEFAULT, &mut message, 0)
            .unwrap();
        let expected = hmac(&c2s, &[&number.to_be_bytes(), b"signed in C"]);
        assert_eq!(&sig[..4], number.to_be_bytes());
        assert_eq!(&sig[4..], &expected[..16]);
    }
}

#[test]
fn the_c_package_passes_the_conformance_kit() {
    let Some(lib) = library("") else { return };
    let registry = registry(&[&lib]);
    let host = registry.host();
    let report = sspi_testkit::run(
        &host,
        "CFixture",
        &[
            Configuration::default(),
            Configuration::named("with a target").with_target("host/localhost"),
        ],
    );
    print!("{report}");
    let failures: Vec<String> = report.failures().map(ToString::to_string).collect();
    assert!(
        failures.is_empty(),
        "CFixture fails the kit:\n{}",
        failures.join("\n")
    );
    assert_eq!(report.results.len(), 2 * Rule::ALL.len());
    let skipped: Vec<String> = report
        .results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Skipped(_)))
        .map(ToString::to_string)
        .collect();
    assert!(skipped.is_empty(), "rules skipped:\n{}", skipped.join("\n"));
}

#[test]
fn sec_i_complete_needed_maps_to_complete_auth_token_and_passes_the_kit() {
    let Some(lib) = library("COMPLETE") else {
        return;
    };
    let registry = registry(&[&lib]);
    let host = registry.host();
    let (client, server) = credentials(&host, None, None);
    let mut done = loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).unwrap();
    let legs: Vec<(SecurityStatus, bool)> =
        done.legs.iter().map(|l| (l.status, l.completed)).collect();
    assert_eq!(
        legs,
        [
            (SecurityStatus::SEC_I_CONTINUE_NEEDED, false),
            (SecurityStatus::SEC_I_CONTINUE_NEEDED, false),
            (SecurityStatus::SEC_I_COMPLETE_NEEDED, true),
            (SecurityStatus::SEC_E_OK, false),
        ]
    );
    let mut data = b"completed".to_vec();
    let mut sig = [0u8; 20];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
    done.client
        .make_signature(Qop::DEFAULT, &mut message, 0)
        .unwrap();
    done.server.verify_signature(&mut message, 0).unwrap();
    // Before CompleteAuthToken the context signs nothing, and the token
    // (its proof still zero) is refused by the server.
    let (client, server) = credentials(&host, None, None);
    let (mut c, mut s) = (None, None);
    let (_, hello) = leg(&client, &mut c, true, None);
    let (_, challenge) = leg(&server, &mut s, false, Some(&hello));
    let (status, unfinished) = leg(&client, &mut c, true, Some(&challenge));
    assert_eq!(status, SecurityStatus::SEC_I_COMPLETE_NEEDED);
    let refused = c
        .as_mut()
        .unwrap()
        .make_signature(Qop::DEFAULT, &mut message, 0)
        .unwrap_err();
    assert_eq!(refused.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE);
    let (status, _) = leg(&server, &mut s, false, Some(&unfinished));
    assert_eq!(status, SecurityStatus::SEC_E_LOGON_DENIED);
    let report = sspi_testkit::run(
        &host,
        "CFixture",
        &[Configuration::named("CompleteAuthToken")],
    );
    print!("{report}");
    let failures: Vec<String> = report.failures().map(ToString::to_string).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn sspi_selftest_passes_on_the_c_package() {
    let Some(lib) = library("") else { return };
    // target/debug/deps/c_provider-HASH -> target/debug/sspi
    let exe = std::env::current_exe().unwrap();
    let sspi = exe.parent().and_then(Path::parent).unwrap().join("sspi");
    if !sspi.is_file() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "{} is missing: CI runs cargo build --workspace first",
                sspi.display()
            );
        }
        eprintln!(
            "!! SKIPPED sspi selftest on CFixture: {} is not built",
            sspi.display()
        );
        return;
    }
    let registry = registry(&[&lib]);
    let out = Command::new(&sspi)
        .args(["--registry"])
        .arg(&registry.path)
        .args(["selftest", "--package", "CFixture"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for rule in ["tampering", "replay", "no-allocation", "buffer-too-small"] {
        assert!(stdout.contains(rule), "{stdout}");
    }
}

/// The reason the library (listed alone after the Test plugin) is unavailable.
fn refusal(variant: &str) -> Option<(PathBuf, String)> {
    let lib = library(variant)?;
    let registry = registry(&[&lib]);
    let host = registry.host();
    assert!(
        host.query_security_package_info("Test").is_ok(),
        "the plugin still loads"
    );
    let entry = host
        .enumerate_security_packages()
        .iter()
        .find(|e| e.source().to_string().contains(&file_name(variant)))
        .unwrap_or_else(|| panic!("{variant}: the library is enumerated"));
    let reason = entry
        .unavailable()
        .unwrap_or_else(|| panic!("{variant} is refused"))
        .to_string();
    assert!(!reason.contains('\n'), "{variant}: one line: {reason}");
    assert!(
        reason.contains(&lib.display().to_string()),
        "{variant}: names the library: {reason}"
    );
    assert!(matches!(
        entry.unavailable(),
        Some(Unavailable::LoadFailed { .. })
    ));
    Some((lib, reason))
}

#[test]
fn a_garbage_table_or_package_list_is_refused_in_one_line_naming_the_library() {
    for (variant, why) in [
        ("NULL_TABLE", "InitSecurityInterfaceW returned NULL"),
        ("BAD_VERSION", "dwVersion 7"),
        (
            "NULL_SLOT",
            "NULL in the required slot(s) AcquireCredentialsHandleW",
        ),
        ("HUGE_COUNT", "returned 1000000 packages"),
        ("NULL_ARRAY", "a NULL array"),
        (
            "UNTERMINATED",
            "is not NUL-terminated within 256 characters",
        ),
        ("ZERO_MAX_TOKEN", "cbMaxToken 0"),
    ] {
        let Some((_, reason)) = refusal(variant) else {
            return;
        };
        println!("{variant}: {reason}");
        assert!(reason.contains(why), "{variant}: {reason}");
    }
}

#[test]
fn a_token_longer_than_the_buffer_or_a_status_out_of_place_fails_the_leg_naming_the_library() {
    for (variant, why) in [
        ("LONG_TOKEN", "-byte token in a 152-byte buffer"),
        (
            "EMPTY_CONTINUE",
            "SEC_I_CONTINUE_NEEDED (0x00090312) without a token to send",
        ),
        (
            "ODD_STATUS",
            "returned SEC_I_INCOMPLETE_CREDENTIALS (0x00090320), which this host does not support",
        ),
        (
            "NO_COMPLETE",
            "returned SEC_I_COMPLETE_NEEDED (0x00090313) but CompleteAuthToken is NULL",
        ),
    ] {
        let Some(lib) = library(variant) else { return };
        let registry = registry(&[&lib]);
        let host = registry.host();
        let (client, server) = credentials(&host, None, None);
        let e = loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).unwrap_err();
        println!("{variant}: {e}");
        assert_eq!(
            e.status(),
            SecurityStatus::SEC_E_INTERNAL_ERROR,
            "{variant}: {e}"
        );
        let text = e.to_string();
        assert!(
            !text.contains('\n') && text.contains(&lib.display().to_string()),
            "{text}"
        );
        assert!(text.contains(why), "{variant}: {text}");
    }
}

#[test]
fn a_cbbuffer_grown_past_the_buffer_fails_the_call_and_the_context() {
    let Some(lib) = library("BIG_CBBUFFER") else {
        return;
    };
    let registry = registry(&[&lib]);
    let host = registry.host();
    let (client, server) = credentials(&host, None, None);
    let mut done = loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).unwrap();
    let mut data = b"data".to_vec();
    let mut sig = [0u8; 32];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
    let e = done
        .client
        .make_signature(Qop::DEFAULT, &mut message, 0)
        .unwrap_err();
    assert_eq!(e.status(), SecurityStatus::SEC_E_INTERNAL_ERROR);
    assert!(
        e.reason().contains(&lib.display().to_string()),
        "{}",
        e.reason()
    );
    assert!(
        e.reason().contains("cbBuffer larger than the buffer given"),
        "{}",
        e.reason()
    );
    assert_eq!(message[1].len(), 32, "the caller's buffer is not grown");
    // The context is unusable from then on.
    let again = done
        .client
        .make_signature(Qop::DEFAULT, &mut message, 0)
        .unwrap_err();
    assert_eq!(again.status(), SecurityStatus::SEC_E_INTERNAL_ERROR);
}

#[test]
fn a_second_provider_of_the_same_name_and_an_untrusted_file_are_refused() {
    let Some(lib) = library("") else { return };
    let copy = built().unwrap().join("libcfixture_copy.so");
    std::fs::copy(&lib, &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let both = registry(&[&lib, &copy]);
    let host = both.host();
    let states: Vec<String> = host
        .enumerate_security_packages()
        .iter()
        .filter(|e| e.name() == "CFixture")
        .map(|e| e.state().to_string())
        .collect();
    assert_eq!(states.len(), 2, "{states:?}");
    assert_eq!(states[0], "available");
    assert!(
        states[1].contains("duplicate package name CFixture"),
        "{}",
        states[1]
    );
    // A file another user could write is never loaded.
    let writable = built().unwrap().join("libcfixture_writable.so");
    std::fs::copy(&lib, &writable).unwrap();
    std::fs::set_permissions(&writable, std::fs::Permissions::from_mode(0o775)).unwrap();
    let untrusted = registry(&[&writable]);
    let host = untrusted.host();
    let entry = host
        .enumerate_security_packages()
        .iter()
        .find(|e| e.source().to_string().contains("libcfixture_writable.so"))
        .unwrap();
    assert!(
        matches!(entry.unavailable(), Some(Unavailable::Untrusted(_))),
        "{entry:?}"
    );
}

/// The fixture's count of its live credentials and contexts, read through
/// the library the host loaded (the dynamic loader hands back the loaded
/// copy of the same file).
fn live_objects(lib: &Path) -> i32 {
    use sspi_core::abi_stable::library::RawLibrary;
    let raw = RawLibrary::load_at(lib).unwrap();
    // SAFETY: the fixture exports `int cfixture_live_objects(void)`.
    unsafe {
        let f = raw
            .get::<extern "C" fn() -> i32>(b"cfixture_live_objects\0")
            .unwrap();
        f()
    }
}

#[test]
fn every_handle_is_given_back_once_credentials_and_their_contexts_are_gone() {
    let Some(lib) = library("") else { return };
    // A copy of its own, so no other test's handles count.
    let lib_copy = built().unwrap().join("libcfixture_counted.so");
    std::fs::copy(&lib, &lib_copy).unwrap();
    std::fs::set_permissions(&lib_copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    let registry = registry(&[&lib_copy]);
    let host = registry.host();
    let before = live_objects(&lib_copy);
    let (client, server) = credentials(&host, None, None);
    assert_eq!(live_objects(&lib_copy), before + 2);
    let done = loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).unwrap();
    assert_eq!(live_objects(&lib_copy), before + 4);
    // The contexts keep their credentials: nothing is freed yet.
    drop((client, server));
    assert_eq!(live_objects(&lib_copy), before + 4);
    drop(done);
    assert_eq!(
        live_objects(&lib_copy),
        before,
        "FreeCredentialsHandle and DeleteSecurityContext ran"
    );
    // A first leg that fails creates no context; a later failed one is deleted.
    let (client, server) = credentials(&host, None, None);
    let (mut s, mut c) = (None, None);
    let (status, _) = leg(&server, &mut s, false, Some(b"garbage"));
    assert_eq!(
        (status, s.is_none()),
        (SecurityStatus::SEC_E_INVALID_TOKEN, true)
    );
    let (_, hello) = leg(&client, &mut c, true, None);
    let (_, challenge) = leg(&server, &mut s, false, Some(&hello));
    let (status, _) = leg(&client, &mut c, true, Some(&challenge[..10]));
    assert_eq!(status, SecurityStatus::SEC_E_INVALID_TOKEN);
    assert_eq!(live_objects(&lib_copy), before + 4);
    drop((c, s, client, server));
    assert_eq!(live_objects(&lib_copy), before);
}
