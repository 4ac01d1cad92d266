//! Why packages are unavailable, as typed reasons: libraries of another ABI
//! (the `tests/fixtures` libraries, built by `cargo build --workspace`), a
//! library that failed to load while the registry expects packages from it,
//! and parameters a package refuses.

use sspi_core::{CredentialUse, SecurityStatus};
use sspi_plugin_host::{PackageState, SecurityHost, Unavailable};
use std::path::PathBuf;

/// A registry in its own temporary directory.
struct Registry {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn registry(body: &str) -> Registry {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sspi.reg");
    std::fs::write(
        &path,
        format!("Windows Registry Editor Version 5.00\n\n{body}"),
    )
    .unwrap();
    Registry { _dir: dir, path }
}

fn providers(list: &str, rest: &str) -> Registry {
    registry(&format!(
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\"Providers\"=\"{list}\"\n\n{rest}"
    ))
}

fn host(r: &Registry) -> SecurityHost {
    SecurityHost::from_registry_files(&[&r.path]).unwrap()
}

fn only_reason(host: &SecurityHost) -> String {
    let entry = &host.enumerate_security_packages()[0];
    match entry.state() {
        PackageState::Unavailable(reason) => reason.to_string(),
        PackageState::Available => panic!("{} must be unavailable", entry.name()),
    }
}

const HOST_VERSION: &str = env!("CARGO_PKG_VERSION");

#[test]
fn a_library_of_another_layout_names_the_first_differing_field_in_one_line() {
    let r = providers("sspi_fixture_incompatible_abi.dll", "");
    let host = host(&r);
    let entry = &host.enumerate_security_packages()[0];
    assert!(matches!(
        entry.unavailable(),
        Some(Unavailable::AbiMismatch {
            difference: Some(_),
            ..
        })
    ));
    let reason = only_reason(&host);
    println!("{reason}");
    assert!(!reason.contains('\n'), "one line: {reason}");
    assert!(
        reason.contains("libsspi_fixture_incompatible_abi"),
        "names the library: {reason}"
    );
    // Same version: no version pair, only the difference.
    assert!(!reason.contains(HOST_VERSION), "{reason}");
    // The fixture's types claim sspi-core's crate and version (its build.rs),
    // as another build of sspi-core 0.2 would: the first difference is the
    // field whose type changed.
    assert!(
        reason.contains(
            "incompatible ABI: first difference: SspiLibrary.packages: its return value has a different type: expected RResult, found RString"
        ),
        "{reason}"
    );
}

#[test]
fn a_library_of_another_version_names_both_versions_in_one_line() {
    let r = providers("sspi_fixture_future_version.dll", "");
    let host = host(&r);
    let reason = only_reason(&host);
    println!("{reason}");
    assert!(!reason.contains('\n'), "one line: {reason}");
    assert!(
        reason.contains("libsspi_fixture_future_version"),
        "names the library: {reason}"
    );
    assert!(
        reason.contains(&format!(
            "built against sspi-core 1.0.0, this host uses {HOST_VERSION}"
        )),
        "{reason}"
    );
}

#[test]
fn a_package_whose_library_failed_is_not_reported_as_not_installed() {
    // The registry configures NTLM, but its library is missing.
    let r = providers(
        "sspi_no_such_ntlm.dll",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\NTLM]\n\"DefaultUser\"=\"alice\"\n",
    );
    let host = host(&r);
    let entry = &host.enumerate_security_packages()[0];
    assert_eq!(entry.name(), "NTLM", "listed under the package's name");
    assert!(entry.is_package());
    let Some(Unavailable::LibraryFailed { reason, .. }) = entry.unavailable() else {
        panic!("{:?}", entry.unavailable());
    };
    assert!(matches!(**reason, Unavailable::NotFound { .. }));
    for error in [
        host.acquire_credentials_handle("ntlm", None, CredentialUse::OUTBOUND, None)
            .unwrap_err(),
        host.query_security_package_info("NTLM").unwrap_err(),
    ] {
        assert_eq!(error.status(), SecurityStatus::SEC_E_SECPKG_NOT_FOUND);
        let message = error.message();
        assert!(!message.contains("no security package named"), "{message}");
        assert!(
            message.contains("sspi_no_such_ntlm.dll") && message.contains("not found in"),
            "{message}"
        );
    }
}

#[test]
fn without_a_key_the_failed_library_is_named_for_any_missing_package() {
    let r = providers("sspi_fixture_future_version.dll", "");
    let host = host(&r);
    let entry = &host.enumerate_security_packages()[0];
    assert!(!entry.is_package());
    assert_eq!(entry.name(), "sspi_fixture_future_version.dll");
    let error = host
        .acquire_credentials_handle("Vendor", None, CredentialUse::OUTBOUND, None)
        .unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_SECPKG_NOT_FOUND);
    assert!(
        error.message().contains("failed to load")
            && error.message().contains("sspi_fixture_future_version")
            && error.message().contains("1.0.0"),
        "{error}"
    );
}

#[test]
fn with_two_failed_libraries_each_key_goes_to_the_library_named_like_it() {
    let r = providers(
        "sspi_gone_a.dll, sspi_gone_kerberos.dll",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Kerberos]\n\"SkewTime\"=dword:5\n\
         [HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Mystery]\n\"X\"=dword:1\n",
    );
    let host = host(&r);
    let names: Vec<&str> = host
        .enumerate_security_packages()
        .iter()
        .map(|e| e.name())
        .collect();
    // Mystery matches neither library by name and there are two: not guessed.
    assert_eq!(names, ["sspi_gone_a.dll", "Kerberos"]);
    let error = host
        .acquire_credentials_handle("Mystery", None, CredentialUse::OUTBOUND, None)
        .unwrap_err();
    assert!(
        error
            .message()
            .contains("provider libraries failed to load")
            && error.message().contains("sspi_gone_a.dll")
            && error.message().contains("sspi_gone_kerberos.dll"),
        "{error}"
    );
}

#[test]
fn a_builtin_this_program_does_not_link_is_named() {
    let r = providers("builtin:nothing-linked", "");
    let host = host(&r);
    assert!(matches!(
        host.enumerate_security_packages()[0].unavailable(),
        Some(Unavailable::NoSuchBuiltin { .. })
    ));
    assert_eq!(
        only_reason(&host),
        "no built-in library nothing-linked: this program links none"
    );
}
