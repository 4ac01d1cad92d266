//! Registry files another user could have written, or too large to be configuration, are refused.

mod common;

use common::temp_dir;
use sspi_registry::{MAX_FILE_SIZE, RegFile, Registry, RegistryError};
use std::os::unix::fs::PermissionsExt;

const SMALL: &str = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\Comm]\r\n\"A\"=dword:00000001\r\n";

#[test]
fn a_group_or_world_writable_registry_file_is_refused_naming_it() {
    let dir = temp_dir("untrusted");
    let path = dir.join("loose.reg");
    std::fs::write(&path, SMALL).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let error = Registry::load_layered(&[&path]).unwrap_err();
    assert!(matches!(error, RegistryError::Untrusted(_)), "{error:?}");
    let text = error.to_string();
    assert!(
        text.starts_with(&format!(
            "registry file {}: is writable by group and others (mode 0666)",
            path.canonicalize().unwrap().display()
        )),
        "{text}"
    );

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    Registry::load_layered(&[&path]).expect("the same file at 0644 is read");
}

#[test]
fn a_registry_file_in_a_directory_others_may_write_is_refused() {
    let dir = temp_dir("untrusted-dir");
    let open = dir.join("open");
    std::fs::create_dir(&open).unwrap();
    let path = open.join("sspi.reg");
    std::fs::write(&path, SMALL).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let text = RegFile::read(&path).unwrap_err().to_string();
    assert!(
        text.contains(&format!(
            "is in the directory {}, which is writable by group and others (mode 0777)",
            open.canonicalize().unwrap().display()
        )),
        "{text}"
    );
}

#[test]
fn devices_and_oversized_files_are_refused_before_they_are_read_whole() {
    let text = RegFile::read("/dev/zero").unwrap_err().to_string();
    assert_eq!(text, "registry file /dev/zero: is not a regular file");

    let dir = temp_dir("oversized");
    let path = dir.join("huge.reg");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(MAX_FILE_SIZE + 1).unwrap();
    let text = RegFile::read(&path).unwrap_err().to_string();
    assert!(
        text.ends_with(&format!(
            "huge.reg: is larger than the limit of {MAX_FILE_SIZE} bytes"
        )),
        "{text}"
    );
}
