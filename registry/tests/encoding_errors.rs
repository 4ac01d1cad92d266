//! A bad character in a registry file is reported at its line and column,
//! like every other error (UTF-16LE, UTF-8 and NUL alike).

use sspi_registry::{RegFile, RegistryError};
use std::path::Path;

fn utf16le(text: &str, bad_after: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    let (before, after) = text.split_once(bad_after).expect("marker in text");
    for unit in format!("{before}{bad_after}").encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    // A lone high surrogate where the next character should be.
    bytes.extend(0xD83Du16.to_le_bytes());
    for unit in after.encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    bytes
}

fn position(bytes: &[u8]) -> (Option<(u32, u32)>, String) {
    match RegFile::parse(bytes, Path::new("conf/sspi.reg")) {
        Err(e @ RegistryError::Encoding { .. }) => {
            let RegistryError::Encoding { position, .. } = &e else {
                unreachable!()
            };
            (*position, e.to_string())
        }
        other => panic!("expected an encoding error, got {other:?}"),
    }
}

#[test]
fn an_unpaired_surrogate_in_utf16_is_reported_at_its_line_and_column() {
    let text = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Test]\r\n\"DefaultUser\"=\"al\"\r\n";
    let (at, message) = position(&utf16le(text, "\"DefaultUser\"=\"al"));
    // Line 4; "DefaultUser"="al is 17 characters, so the bad one is column 18.
    assert_eq!(at, Some((4, 18)), "{message}");
    assert!(
        message.starts_with("conf/sspi.reg:4:18: invalid UTF-16LE: unpaired surrogate 0xD83D"),
        "{message}"
    );
    assert!(!message.contains('\n'), "{message}");
}

#[test]
fn characters_outside_the_bmp_count_as_one_column() {
    // An emoji (a surrogate pair) before the fault is one character.
    let text = "[HKLM\\A]\n\"x\"=\"😀é";
    let (at, message) = position(&utf16le(text, "😀é"));
    assert_eq!(at, Some((2, 8)), "{message}");
}

#[test]
fn invalid_utf8_is_reported_at_its_line_and_column() {
    let (at, message) = position(b"[HKLM\\A]\r\n\"n\"=\"\xc3\xa9t\xe9\"\n");
    assert_eq!(at, Some((2, 8)), "{message}");
    assert!(
        message.starts_with("conf/sspi.reg:2:8: not valid UTF-8"),
        "{message}"
    );
}
