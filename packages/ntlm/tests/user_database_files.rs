//! The `UserDatabase` file is refused when another user could have written it,
//! when it is not a regular file, or when it is too large.

use sspi_core::{PackageFactory, PackageParameters, Parameter, ParameterValue, SecurityStatus};
use sspi_package_ntlm::NtlmPackageFactory;
use sspi_package_ntlm::internal::config::MAX_USER_DATABASE_SIZE;
use std::os::unix::fs::PermissionsExt;

fn open_with_database(path: &std::path::Path) -> Result<(), sspi_core::SecurityError> {
    let params = PackageParameters {
        key_path: r"HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM".into(),
        entries: vec![
            Parameter {
                key: "".into(),
                name: "DefaultDomain".into(),
                value: ParameterValue::Sz("CORP".into()),
                origin: "test.reg:2:1".into(),
            },
            Parameter {
                key: "".into(),
                name: "UserDatabase".into(),
                value: ParameterValue::Sz(path.to_str().unwrap().into()),
                origin: "test.reg:3:1".into(),
            },
        ]
        .into(),
    };
    NtlmPackageFactory::open(&params).map(drop)
}

#[test]
fn a_database_others_may_write_is_refused_naming_the_value_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.txt");
    std::fs::write(&path, "CORP:alice:alice-password\n").unwrap();
    open_with_database(&path).expect("0644 is fine");

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).unwrap();
    let error = open_with_database(&path).unwrap_err();
    assert_eq!(error.status(), SecurityStatus::SEC_E_CANNOT_INSTALL);
    let text = error.message().to_string();
    assert!(text.starts_with("test.reg:3:1: "), "{text}");
    assert!(
        text.contains(&format!(
            "NTLM user database {}: is writable by group (mode 0664)",
            path.canonicalize().unwrap().display()
        )),
        "{text}"
    );
}

#[test]
fn devices_and_oversized_databases_are_refused_without_reading_them_whole() {
    let error = open_with_database(std::path::Path::new("/dev/zero")).unwrap_err();
    assert!(
        error
            .message()
            .contains("NTLM user database /dev/zero: is not a regular file"),
        "{error}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.txt");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(MAX_USER_DATABASE_SIZE + 1)
        .unwrap();
    let error = open_with_database(&path).unwrap_err();
    assert!(
        error.message().contains(&format!(
            "is larger than the limit of {MAX_USER_DATABASE_SIZE} bytes"
        )),
        "{error}"
    );
}
