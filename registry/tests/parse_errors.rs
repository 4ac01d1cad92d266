//! Every parse error names the exact file, line, column, key and value.

mod common;

use std::path::Path;

use common::{Syntax, syntax_error, temp_dir, utf16le_with_bom, write};
use sspi_registry::{KeyPath, RegFile, RegistryError};

const T: &str = r"HKEY_LOCAL_MACHINE\T";
const FORMS: &str = "a quoted string, `-`, dword:, hex:, hex(N):, multi_sz: or expand_sz:";

/// Asserts the error of `text`: position, key, value and the exact message.
#[track_caller]
fn check(
    text: &str,
    line: u32,
    column: u32,
    key: Option<&str>,
    value: Option<&str>,
    message: &str,
) {
    let (got, _) = syntax_error(text);
    assert_eq!(
        got,
        Syntax {
            line,
            column,
            key: key.map(str::to_owned),
            value: value.map(str::to_owned),
            message: message.to_owned(),
        },
        "for {text:?}"
    );
}

/// A value line (line 2) inside key `T`.
#[track_caller]
fn check_value(line_text: &str, column: u32, value: Option<&str>, message: &str) {
    check(
        &format!("[HKLM\\T]\n{line_text}\n"),
        2,
        column,
        Some(T),
        value,
        message,
    );
}

#[test]
fn the_documented_example() {
    let (got, display) = syntax_error(
        "Windows Registry Editor Version 5.00\n\n\
         [HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Test]\n    \"Legs\"=dword:12g4\n",
    );
    assert_eq!((got.line, got.column), (4, 18));
    assert_eq!(
        display,
        "t.reg:4:18: invalid dword \"12g4\" \
         (key HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Test, value \"Legs\")"
    );
}

#[test]
fn string_errors() {
    check_value(
        r#""a"="abc"#,
        5,
        Some("a"),
        "unterminated string: missing closing `\"`",
    );
    check_value(
        r#""abc=1"#,
        1,
        None,
        "unterminated string: missing closing `\"`",
    );
    check_value(
        r#""a"="x\ny""#,
        7,
        Some("a"),
        r#"bad escape `\n` in string (only `\\` and `\"` are allowed)"#,
    );
    check_value(
        r#""a"="ends in backslash\"#,
        5,
        Some("a"),
        "unterminated string: missing closing `\"`",
    );
    check_value(
        r#""x"="a" b"#,
        9,
        Some("x"),
        "unexpected text after the value data: \"b\"",
    );
}

#[test]
fn number_and_hex_errors() {
    check_value(
        "\"b\"=hex:01,zz,03",
        12,
        Some("b"),
        "invalid hex byte \"zz\"",
    );
    check_value("\"b\"=hex:123", 9, Some("b"), "invalid hex byte \"123\"");
    check_value(
        "\"b\"=hex:01 02",
        12,
        Some("b"),
        "expected `,` between hex bytes",
    );
    check_value(
        "\"d\"=dword:123456789",
        11,
        Some("d"),
        "dword \"123456789\" out of range (at most 8 hex digits)",
    );
    check_value(
        "\"d\"=dword:",
        11,
        Some("d"),
        "missing hex digits after dword:",
    );
    check_value("@=dword:xyz", 9, Some(""), "invalid dword \"xyz\"");
    check_value(
        "\"x\"=hex(zz):00",
        9,
        Some("x"),
        "invalid type number \"zz\" in hex(N): (1 to 8 hex digits)",
    );
    check_value(
        "\"x\"=hex(2",
        5,
        Some("x"),
        "unterminated `hex(`: missing `)`",
    );
    check_value("\"x\"=hex(2)00", 11, Some("x"), "missing `:` after hex(N)");
}

#[test]
fn typed_hex_data_errors() {
    check_value(
        "\"s\"=hex(2):41,00,42",
        12,
        Some("s"),
        "hex(2) (REG_EXPAND_SZ) data has an odd number of bytes (3); expected UTF-16LE text",
    );
    check_value(
        "\"m\"=hex(7):00,d8,00,00",
        12,
        Some("m"),
        "invalid UTF-16 in hex(7) (REG_MULTI_SZ) data",
    );
    check_value(
        "\"q\"=hex(b):01,02",
        12,
        Some("q"),
        "hex(b) (REG_QWORD) needs exactly 8 bytes, found 2",
    );
    check_value(
        "\"d\"=hex(4):01,02,03",
        12,
        Some("d"),
        "hex(4) (REG_DWORD) needs exactly 4 bytes, found 3",
    );
    check_value(
        "\"d\"=hex(5):01,02,03,04,05",
        12,
        Some("d"),
        "hex(5) (REG_DWORD_BIG_ENDIAN) needs exactly 4 bytes, found 5",
    );
}

#[test]
fn value_syntax_errors() {
    check_value(
        "\"x\"=foo:1",
        5,
        Some("x"),
        &format!("unknown value type \"foo:\" (expected {FORMS})"),
    );
    check_value(
        "\"x\"=5",
        5,
        Some("x"),
        &format!("invalid value data \"5\" (expected {FORMS})"),
    );
    check_value(
        "\"x\"=",
        5,
        Some("x"),
        &format!("missing value data after `=` (expected {FORMS})"),
    );
    check_value(
        "\"x\" \"y\"",
        5,
        Some("x"),
        "missing `=` after the value name",
    );
    check_value(
        "\"m\"=multi_sz:\"a\" \"b\"",
        18,
        Some("m"),
        "expected `,` between the strings of a multi_sz: list",
    );
    check_value(
        "\"m\"=multi_sz:\"a\",b",
        18,
        Some("m"),
        "expected a quoted string in the multi_sz: list",
    );
    check_value(
        "\"e\"=expand_sz:abc",
        15,
        Some("e"),
        "expected a quoted string after expand_sz:",
    );
}

#[test]
fn key_line_errors() {
    check(
        "[HKLM\\A\n",
        1,
        1,
        None,
        None,
        "unterminated `[`: the key line has no closing `]`",
    );
    check(
        "[HKLM\\A] x\n",
        1,
        10,
        None,
        None,
        "unexpected text after `]` of a key line",
    );
    check("[]\n", 1, 2, None, None, "empty key path");
    check("\n[-]\n", 2, 3, None, None, "empty key path");
    check("[\\A]\n", 1, 2, None, None, "missing root key before `\\`");
    let unknown = "(expected HKEY_LOCAL_MACHINE, HKEY_CURRENT_USER, HKEY_CLASSES_ROOT, \
                   HKEY_USERS, HKEY_CURRENT_CONFIG or HKLM, HKCU, HKCR, HKU, HKCC)";
    check(
        "[HKEY_NOWHERE\\A]\n",
        1,
        2,
        None,
        None,
        &format!("unknown root key \"HKEY_NOWHERE\" {unknown}"),
    );
    check(
        "  [- HKXX]\n",
        1,
        6,
        None,
        None,
        &format!("unknown root key \"HKXX\" {unknown}"),
    );
    check(
        "[HKLM\\A\\\\B]\n",
        1,
        9,
        None,
        None,
        "empty key name in path (two backslashes in a row?)",
    );
}

#[test]
fn placement_errors() {
    check(
        "; comment\n\"x\"=dword:1\n",
        2,
        1,
        None,
        Some("x"),
        "value line before any [key] line",
    );
    let (got, display) = syntax_error("    @=dword:1\n");
    assert_eq!((got.line, got.column), (1, 5));
    assert_eq!(
        display,
        "t.reg:1:5: value line before any [key] line (default value @)"
    );
    check(
        "[-HKLM\\A]\n\"x\"=dword:1\n",
        2,
        1,
        Some(r"HKEY_LOCAL_MACHINE\A"),
        Some("x"),
        "value line after the key deletion [-HKEY_LOCAL_MACHINE\\A]: there is no open key",
    );
    check(
        "[HKLM\\A]\nREGEDIT4\n",
        2,
        1,
        None,
        None,
        "the header `REGEDIT4` must be the first line of the file",
    );
    check(
        "[HKLM\\A]\nfoo bar\n",
        2,
        1,
        None,
        None,
        "unexpected text \"foo bar\": expected a [key] line, a \"name\"=data or @=data line, \
         or a ; comment",
    );
}

#[test]
fn conditional_blocks_are_rejected() {
    check(
        "[HKLM\\A]\n  IF BSP_NOSECURITY !\n\"x\"=dword:1\nENDIF\n",
        2,
        3,
        None,
        None,
        "conditional blocks (`IF BSP_NOSECURITY !`) are not supported: preprocess the file first",
    );
    check(
        "[HKLM\\A]\nendif\n",
        2,
        1,
        None,
        None,
        "conditional blocks (`endif`) are not supported: preprocess the file first",
    );
    check(
        "#include \"common.reg\"\n",
        1,
        1,
        None,
        None,
        "preprocessor directive `#include` is not supported: preprocess the file first",
    );
}

#[test]
fn continuation_errors() {
    check(
        "[HKLM\\T]\n\"x\"=hex:01,\\\n",
        2,
        12,
        None,
        None,
        "line continuation `\\` at end of file",
    );
    check(
        "[HKLM\\T]\n\"m\"=multi_sz:\"a\",",
        2,
        17,
        None,
        None,
        "line continuation `,` at end of file",
    );
    // An error inside a continuation line points into that line.
    check(
        "[HKLM\\T]\n\"x\"=hex:01,\\\n  02,zz\n",
        3,
        6,
        Some(T),
        Some("x"),
        "invalid hex byte \"zz\"",
    );
    // A trailing comma joins the next line: the error points at it.
    check(
        "[HKLM\\T]\n\"x\"=hex:01,\n\"y\"=dword:1\n",
        3,
        1,
        Some(T),
        Some("x"),
        "invalid hex byte \"\"y\"=dword:1\"",
    );
}

#[test]
fn errors_in_utf16_files_have_exact_positions() {
    let dir = temp_dir("errors16");
    let path = write(
        &dir,
        "bad16.reg",
        utf16le_with_bom("[HKLM\\A]\r\n  \"x\"=dword:zz\r\n"),
    );
    match RegFile::read(&path) {
        Err(RegistryError::Syntax {
            location,
            key,
            value,
            message,
        }) => {
            assert_eq!(&*location.file, path.as_path());
            assert_eq!((location.line, location.column), (2, 13));
            assert_eq!(key.as_deref(), Some(r"HKEY_LOCAL_MACHINE\A"));
            assert_eq!(value.as_deref(), Some("x"));
            assert_eq!(message, "invalid dword \"zz\"");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[track_caller]
fn encoding_error(bytes: &[u8]) -> String {
    match RegFile::parse(bytes, Path::new("dir/enc.reg")) {
        Err(e @ RegistryError::Encoding { .. }) => {
            let RegistryError::Encoding { path, .. } = &e else {
                unreachable!()
            };
            assert_eq!(path, Path::new("dir/enc.reg"));
            e.to_string()
        }
        other => panic!("expected an encoding error, got {other:?}"),
    }
}

#[test]
fn encoding_errors_name_the_file() {
    assert_eq!(
        encoding_error(b"[HKLM\\A]\n\"x\"=\"\xe9\"\n"),
        "dir/enc.reg:2:6: not valid UTF-8 (byte offset 14); save the file as UTF-8 or \
         as UTF-16LE with a byte-order mark"
    );
    assert_eq!(
        encoding_error(b"\xfe\xff\x00["),
        "dir/enc.reg: UTF-16 big endian is not supported; save the file as UTF-8 or UTF-16LE"
    );
    assert_eq!(
        encoding_error(b"[\x00H\x00"),
        "dir/enc.reg:1:2: NUL character: UTF-16 without a byte-order mark? Save the file \
         as UTF-8 or as UTF-16LE with a byte-order mark"
    );
    assert_eq!(
        encoding_error(b"\xff\xfe["),
        "dir/enc.reg: UTF-16LE file has an odd number of bytes (3)"
    );
    assert_eq!(
        encoding_error(b"\xff\xfe[\x00\x00\xd8A\x00"),
        "dir/enc.reg:1:2: invalid UTF-16LE: unpaired surrogate 0xD800 at byte offset 4; \
         save the file as UTF-8 or as UTF-16LE"
    );
}

#[test]
fn io_and_key_path_errors() {
    let missing = temp_dir("io").join("missing.reg");
    match RegFile::read(&missing) {
        Err(e @ RegistryError::Untrusted(_)) => {
            assert!(
                e.to_string().starts_with(&format!(
                    "registry file {}: cannot be opened: ",
                    missing.display()
                )),
                "{e}"
            );
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
    let e = KeyPath::parse(r"HKXX\a").expect_err("unknown root");
    assert!(
        e.to_string()
            .starts_with(r#"invalid key path "HKXX\a": unknown root key "HKXX""#),
        "{e}"
    );
    let e = KeyPath::parse(r"HKLM\a] b").expect_err("bracket");
    assert_eq!(
        e.to_string(),
        r#"invalid key path "HKLM\a] b": `]` followed by a space or `;` inside a key name"#
    );
}

#[test]
fn key_paths_deeper_than_the_registry_limit() {
    let ok = format!("[HKLM{}]\n", "\\a".repeat(512));
    assert_eq!(common::parse(&ok).entries.len(), 1);
    check(
        &format!("[HKLM{}]\n", "\\a".repeat(513)),
        1,
        1030,
        None,
        None,
        "key path nested deeper than 512 levels",
    );
}
