//! A keytab is refused when another user could have written it, when it is
//! not a regular file, or when it is too large.

use sspi_package_kerberos::internal::keytab::{Keytab, MAX_KEYTAB_LEN};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/demo/service.keytab");

#[test]
fn a_keytab_others_may_write_is_refused_naming_file_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("service.keytab");
    std::fs::copy(DEMO, &path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    Keytab::load(&path).expect("0600 is fine");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o620)).unwrap();
    let error = Keytab::load(&path).unwrap_err();
    assert!(
        error.starts_with(&format!(
            "keytab {}: is writable by group (mode 0620)",
            path.canonicalize().unwrap().display()
        )),
        "{error}"
    );
}

#[test]
fn devices_and_oversized_keytabs_are_refused() {
    assert_eq!(
        Keytab::load(Path::new("/dev/zero")).unwrap_err(),
        "keytab /dev/zero: is not a regular file"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.keytab");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(MAX_KEYTAB_LEN + 1)
        .unwrap();
    let error = Keytab::load(&path).unwrap_err();
    assert!(
        error.ends_with(&format!(
            "is larger than the limit of {MAX_KEYTAB_LEN} bytes"
        )),
        "{error}"
    );
}
