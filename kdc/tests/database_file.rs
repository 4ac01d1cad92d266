//! The KDC database file is refused when another user could have written it,
//! when it is not a regular file, or when it is too large.

use sspi_kdc::database::{Database, MAX_DATABASE_SIZE};
use std::os::unix::fs::PermissionsExt;

#[test]
fn a_database_others_may_write_is_refused_naming_file_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("database.txt");
    std::fs::write(&path, "alice password alice-password\n").unwrap();
    Database::load(&path, "EXAMPLE.TEST").expect("0644 is fine");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let error = Database::load(&path, "EXAMPLE.TEST").unwrap_err();
    assert!(
        error.starts_with(&format!(
            "KDC database {}: is writable by group and others (mode 0666)",
            path.canonicalize().unwrap().display()
        )),
        "{error}"
    );
}

#[test]
fn devices_and_oversized_databases_are_refused_without_reading_them_whole() {
    let error = Database::load(std::path::Path::new("/dev/zero"), "EXAMPLE.TEST").unwrap_err();
    assert_eq!(error, "KDC database /dev/zero: is not a regular file");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.txt");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(MAX_DATABASE_SIZE + 1)
        .unwrap();
    let error = Database::load(&path, "EXAMPLE.TEST").unwrap_err();
    assert!(
        error.ends_with(&format!(
            "is larger than the limit of {MAX_DATABASE_SIZE} bytes"
        )),
        "{error}"
    );
}
