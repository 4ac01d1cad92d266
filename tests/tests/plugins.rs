//! Loading: panicking packages, an incompatible ABI, a missing library, two
//! libraries at once, duplicate names and bad package parameters.

use sspi_core::{CredentialUse, SecBuffer, SecurityStatus};
use sspi_plugin_host::loopback;
use sspi_plugin_host::{PackageSource, PackageState, SecurityHost};
use sspi_tests::{ASC_REQ, ISC_REQ, RegistryFile, established, registry_text, test_package_key};

fn registry(providers: &str) -> RegistryFile {
    RegistryFile::new(&registry_text(providers, 3, false))
}

fn state_of<'h>(host: &'h SecurityHost, name: &str) -> PackageState<'h> {
    host.enumerate_security_packages()
        .iter()
        .find(|p| p.name() == name)
        .unwrap_or_else(|| panic!("{name} is enumerated"))
        .state()
}

fn assert_test_package_works(host: &SecurityHost) {
    let mut done = established(host);
    let mut data = b"still serving".to_vec();
    let mut sig = vec![0u8; 64];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
    done.client
        .make_signature(sspi_core::Qop::DEFAULT, &mut message, 0)
        .unwrap();
    assert_eq!(
        done.server
            .verify_signature(&mut message, 0)
            .map_err(|e| e.status()),
        Ok(sspi_core::Qop::DEFAULT)
    );
}

#[test]
fn panics_become_internal_errors_and_the_host_keeps_serving() {
    let r = registry("sspi_fixture_panicking.dll, sspi_test.dll");
    let host = r.host();
    let names: Vec<&str> = host
        .enumerate_security_packages()
        .iter()
        .map(|p| p.name())
        .collect();
    assert_eq!(
        names,
        ["Panicky", "PanicOnOpen", "Test"],
        "one library, two packages, then Test"
    );

    // A panic while opening: that package alone is unavailable, with the reason.
    let PackageState::Unavailable(reason) = state_of(&host, "PanicOnOpen") else {
        panic!("PanicOnOpen must be unavailable");
    };
    let reason = reason.to_string();
    assert!(
        reason.contains("panicked") && reason.contains("deliberate panic while opening"),
        "{reason}"
    );
    assert!(
        reason.contains("sspi_fixture_panicking"),
        "names the library: {reason}"
    );
    assert_eq!(state_of(&host, "Panicky"), PackageState::Available);

    // A panic in AcquireCredentialsHandle.
    let error = host
        .acquire_credentials_handle(
            "Panicky",
            Some("panic-in-acquire"),
            CredentialUse::OUTBOUND,
            None,
        )
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_INTERNAL_ERROR);
    assert!(
        error.message().contains("Panicky AcquireCredentialsHandle"),
        "{error}"
    );
    assert!(
        error
            .message()
            .contains("deliberate panic in AcquireCredentialsHandle"),
        "{error}"
    );

    // A panic in InitializeSecurityContext: no context is created.
    let client = host
        .acquire_credentials_handle("Panicky", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let mut context = None;
    let mut out = vec![0u8; 16];
    let mut output = [SecBuffer::token(&mut out)];
    let error = client
        .initialize_security_context(
            &mut context,
            Some("panic-in-initialize"),
            ISC_REQ,
            &[],
            &mut output,
        )
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_INTERNAL_ERROR);
    assert!(context.is_none());

    // A panic in a per-message call; the context is unusable afterwards.
    let server = host
        .acquire_credentials_handle("Panicky", None, CredentialUse::INBOUND, None)
        .unwrap();
    let mut done = loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).unwrap();
    let mut data = b"boom".to_vec();
    let mut sig = vec![0u8; 16];
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut sig)];
    assert_eq!(
        done.client
            .make_signature(sspi_core::Qop::DEFAULT, &mut message, 0)
            .map_err(|e| e.status()),
        Err(SecurityStatus::SEC_E_INTERNAL_ERROR)
    );
    assert_eq!(
        done.client
            .verify_signature(&mut message, 0)
            .map_err(|e| e.status()),
        Err(SecurityStatus::SEC_E_INTERNAL_ERROR)
    );
    assert_eq!(
        done.client.names().unwrap_err().status(),
        SecurityStatus::SEC_E_INTERNAL_ERROR
    );
    // The other side of that handshake is unaffected, and so is every other package.
    assert_eq!(
        done.server
            .verify_signature(&mut message, 0)
            .map_err(|e| e.status()),
        Ok(sspi_core::Qop::DEFAULT)
    );
    assert_test_package_works(&host);
}

#[test]
fn a_library_with_an_incompatible_abi_is_refused_by_name() {
    let r = registry("sspi_fixture_incompatible_abi.dll, sspi_test.dll");
    let host = r.host();
    let entry = &host.enumerate_security_packages()[0];
    assert_eq!(entry.name(), "sspi_fixture_incompatible_abi.dll");
    let PackageState::Unavailable(reason) = entry.state() else {
        panic!("an incompatible library must be refused");
    };
    let reason = reason.to_string();
    assert!(
        reason.contains("libsspi_fixture_incompatible_abi"),
        "names the library: {reason}"
    );
    assert!(
        reason.contains("incompatible ABI: first difference: SspiLibrary"),
        "{reason}"
    );
    assert!(!reason.contains('\n'), "one line: {reason}");
    assert!(entry.info().is_none());
    assert_test_package_works(&host);
}

#[test]
fn a_library_built_against_another_sspi_core_version_is_refused_by_name() {
    let r = registry("sspi_fixture_future_version.dll, sspi_test.dll");
    let host = r.host();
    let entry = &host.enumerate_security_packages()[0];
    let PackageState::Unavailable(reason) = entry.state() else {
        panic!("a library of another major version must be refused");
    };
    let reason = reason.to_string();
    assert!(
        reason.contains("libsspi_fixture_future_version"),
        "names the library: {reason}"
    );
    assert!(
        reason.contains(concat!(
            "built against sspi-core 1.0.0, this host uses ",
            env!("CARGO_PKG_VERSION")
        )),
        "{reason}"
    );
    assert!(!reason.contains('\n'), "one line: {reason}");
    assert_test_package_works(&host);
}

#[test]
fn a_missing_library_makes_only_its_packages_unavailable() {
    let r = registry("sspi_no_such_library.dll, sspi_test.dll");
    let host = r.host();
    let entry = &host.enumerate_security_packages()[0];
    assert_eq!(entry.name(), "sspi_no_such_library.dll");
    let PackageState::Unavailable(reason) = entry.state() else {
        panic!("missing library must be unavailable");
    };
    let reason = reason.to_string();
    assert!(
        reason.contains("libsspi_no_such_library.so") || reason.contains("sspi_no_such_library"),
        "{reason}"
    );
    assert!(reason.contains("not found in"), "{reason}");
    assert_eq!(
        entry.registry_location().line,
        4,
        "points at the Providers line"
    );
    let error = host
        .acquire_credentials_handle("NoSuchPackage", None, CredentialUse::OUTBOUND, None)
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_SECPKG_NOT_FOUND);
    assert_test_package_works(&host);
}

#[test]
fn two_plugin_libraries_load_side_by_side() {
    let r = registry("sspi_test.dll, sspi_fixture_panicking.dll");
    let host = r.host();
    let sources: Vec<String> = host
        .enumerate_security_packages()
        .iter()
        .map(|p| match p.source() {
            PackageSource::Plugin {
                path: Some(path), ..
            } => path.file_name().unwrap().to_string_lossy().into_owned(),
            other => panic!("unexpected source {other}"),
        })
        .collect();
    assert_eq!(
        sources[0],
        format!(
            "{}sspi_test{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        )
    );
    assert!(sources[1].contains("sspi_fixture_panicking"));
    assert_eq!(state_of(&host, "Test"), PackageState::Available);
    assert_eq!(state_of(&host, "Panicky"), PackageState::Available);
    assert_test_package_works(&host);
    let client = host
        .acquire_credentials_handle("Panicky", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let server = host
        .acquire_credentials_handle("Panicky", None, CredentialUse::INBOUND, None)
        .unwrap();
    loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).unwrap();
}

#[test]
fn the_same_package_from_a_plugin_and_a_builtin_is_a_named_duplicate() {
    let r = registry("sspi_test.dll, builtin:test");
    let host = r.host();
    let entries = host.enumerate_security_packages();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].state(), PackageState::Available);
    let PackageState::Unavailable(reason) = entries[1].state() else {
        panic!("the duplicate must be unavailable");
    };
    let reason = reason.to_string();
    assert!(reason.contains("duplicate package name Test"), "{reason}");
    assert!(reason.contains("builtin:test"), "{reason}");
    assert_test_package_works(&host);
}

#[test]
fn enumerate_and_query_package_info() {
    let r = registry("sspi_test.dll");
    let host = r.host();
    let info = host.query_security_package_info("TEST").unwrap();
    assert_eq!(info.name.as_str(), "Test");
    assert_eq!(info.max_token, 1024);
    assert!(
        info.capabilities
            .contains(sspi_core::PackageCapabilities::MUTUAL_AUTH)
    );
    let error = host.query_security_package_info("NTLMv0").unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_SECPKG_NOT_FOUND);
    assert_eq!(host.available_packages().count(), 1);
}

#[test]
fn bad_package_parameters_make_the_package_unavailable_naming_the_value() {
    let text = format!(
        "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\"Providers\"=\"sspi_test.dll\"\n\n{}\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Test]\n\"Legs\"=dword:00000002\n",
        test_package_key(3, false)
    );
    let r = RegistryFile::new(&text);
    let host = r.host();
    let PackageState::Unavailable(reason) = state_of(&host, "Test") else {
        panic!("Legs=2 must be refused");
    };
    let reason = reason.to_string();
    assert!(
        reason.contains("Legs must be between 3 and 16, not 2"),
        "{reason}"
    );
    assert!(reason.contains("sspi.reg:"), "names the file: {reason}");
    let error = host
        .acquire_credentials_handle("Test", None, CredentialUse::OUTBOUND, None)
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_SECPKG_NOT_FOUND);
    assert!(error.message().contains("unavailable"), "{error}");
}

#[test]
fn hosts_and_handles_are_shared_across_threads() {
    let r = registry("sspi_test.dll");
    let host = std::sync::Arc::new(r.host());
    let server = std::sync::Arc::new(
        host.acquire_credentials_handle("Test", None, CredentialUse::INBOUND, None)
            .unwrap(),
    );
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let host = std::sync::Arc::clone(&host);
            let server = std::sync::Arc::clone(&server);
            std::thread::spawn(move || {
                let client = host
                    .acquire_credentials_handle("Test", None, CredentialUse::OUTBOUND, None)
                    .unwrap();
                for _ in 0..20 {
                    let done =
                        loopback::handshake(&client, &server, None, ISC_REQ, ASC_REQ).unwrap();
                    // Contexts move between threads.
                    std::thread::spawn(move || drop(done)).join().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn a_user_with_a_wrong_value_type_is_named_with_its_subkey_and_line() {
    let text = format!(
        "{}\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Test\\Users\\carol]\n\"Password\"=dword:00000001\n",
        registry_text("sspi_test.dll", 3, false)
    );
    let r = RegistryFile::new(&text);
    let line = text
        .lines()
        .position(|l| l.starts_with("\"Password\"=dword"))
        .unwrap()
        + 1;
    let host = r.host();
    let PackageState::Unavailable(reason) = state_of(&host, "Test") else {
        panic!("a dword password must be refused");
    };
    let reason = reason.to_string();
    assert!(
        reason.contains(&format!("sspi.reg:{line}:")),
        "names the line {line}: {reason}"
    );
    assert!(
        reason.contains(r#"Test\Users\carol, value "Password""#),
        "{reason}"
    );
    assert!(
        reason.contains("Password must be REG_SZ, found REG_DWORD"),
        "{reason}"
    );
}

/// The host checks a package's registry values against what the package
/// declares before opening it: a value of the wrong type or out of range
/// makes the package unavailable with the value's own file:line:column first,
/// and a misspelt value is only a warning (the package still loads).
#[test]
fn declared_values_are_enforced_when_the_package_is_loaded() {
    let text = registry_text("sspi_test.dll", 3, false).replace(
        "\"Legs\"=dword:00000003",
        "\"Legs\"=dword:00000003\n\"ContextLifetime\"=\"ten hours\"\n\"DefualtUser\"=\"bob\"",
    );
    let r = RegistryFile::new(&text);
    let host = r.host();
    let entry = host
        .enumerate_security_packages()
        .iter()
        .find(|p| p.name() == "Test")
        .unwrap();
    let PackageState::Unavailable(reason) = entry.state() else {
        panic!("a REG_SZ ContextLifetime must be refused");
    };
    let reason = reason.to_string();
    let at = format!("{}:", r.path.display());
    assert!(
        reason.contains(&format!(
            "{at}8:1: error: ContextLifetime must be REG_DWORD"
        )),
        "{reason}"
    );

    // Only the misspelling left: a warning, the package loads.
    let text = registry_text("sspi_test.dll", 3, false).replace(
        "\"Legs\"=dword:00000003",
        "\"Legs\"=dword:00000003\n\"DefualtUser\"=\"bob\"",
    );
    let host = RegistryFile::new(&text).host();
    assert!(host.query_security_package_info("Test").is_ok());
}
