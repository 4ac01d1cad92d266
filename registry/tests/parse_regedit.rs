//! Reading the desktop regedit dialects (version 5 and REGEDIT4).

mod common;

use std::path::Path;

use common::{data, parse, temp_dir, utf16le_with_bom, write};
use sspi_registry::{KeyPath, Location, RegEntry, RegFile, RegHeader, RegValue, ValueName};

fn key(path: &str) -> KeyPath {
    KeyPath::parse(path).expect("valid key path")
}

/// The `(name, value)` pairs of all `SetValue` entries, in order.
fn set_values(file: &RegFile) -> Vec<(String, RegValue)> {
    file.entries
        .iter()
        .filter_map(|e| match e {
            RegEntry::SetValue { name, value, .. } => {
                Some((name.as_str().to_owned(), value.clone()))
            }
            _ => None,
        })
        .collect()
}

const V5_ALL_TYPES: &str = r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Software\Test]
@="default"
"Sz"="a \"quoted\" C:\\path; not a comment"
"Dword"=dword:0000002a
"Bin"=hex:de,ad,be,ef
"None"=hex(0):01,02
"Expand"=hex(2):25,00,50,00,41,00,54,00,48,00,25,00,00,00
"DwordLe"=hex(4):2a,00,00,00
"DwordBe"=hex(5):00,00,01,2a
"Link"=hex(6):41,00
"Multi"=hex(7):61,00,00,00,62,00,00,00,00,00
"Resource"=hex(8):01
"Qword"=hex(b):01,02,03,04,05,06,07,08
"EmptyBin"=hex:
"SzHex"=hex(1):68,00,69,00,00,00
"Bin3"=hex(3):ff
"Big"=hex(1F):aa
"EmptyMulti"=hex(7):00,00
"Unicode"=hex(2):fc,00,3d,d8,00,de,00,00
"Spaced" = dword:1
""="empty name is the default value"
"#;

#[test]
fn version5_every_value_type() {
    let file = parse(V5_ALL_TYPES);
    assert_eq!(file.header, Some(RegHeader::Version5));
    assert_eq!(&*file.path, Path::new("t.reg"));
    let expected: Vec<(String, RegValue)> = vec![
        ("".into(), RegValue::Sz("default".into())),
        (
            "Sz".into(),
            RegValue::Sz(r#"a "quoted" C:\path; not a comment"#.into()),
        ),
        ("Dword".into(), RegValue::Dword(42)),
        ("Bin".into(), RegValue::Binary(vec![0xde, 0xad, 0xbe, 0xef])),
        (
            "None".into(),
            RegValue::Other {
                kind: 0,
                bytes: vec![1, 2],
            },
        ),
        ("Expand".into(), RegValue::ExpandSz("%PATH%".into())),
        ("DwordLe".into(), RegValue::Dword(42)),
        ("DwordBe".into(), RegValue::DwordBigEndian(0x12a)),
        (
            "Link".into(),
            RegValue::Other {
                kind: 6,
                bytes: vec![0x41, 0],
            },
        ),
        (
            "Multi".into(),
            RegValue::MultiSz(vec!["a".into(), "b".into()]),
        ),
        (
            "Resource".into(),
            RegValue::Other {
                kind: 8,
                bytes: vec![1],
            },
        ),
        ("Qword".into(), RegValue::Qword(0x0807_0605_0403_0201)),
        ("EmptyBin".into(), RegValue::Binary(vec![])),
        ("SzHex".into(), RegValue::Sz("hi".into())),
        ("Bin3".into(), RegValue::Binary(vec![0xff])),
        (
            "Big".into(),
            RegValue::Other {
                kind: 0x1f,
                bytes: vec![0xaa],
            },
        ),
        ("EmptyMulti".into(), RegValue::MultiSz(vec![])),
        ("Unicode".into(), RegValue::ExpandSz("ü😀".into())),
        ("Spaced".into(), RegValue::Dword(1)),
        (
            "".into(),
            RegValue::Sz("empty name is the default value".into()),
        ),
    ];
    assert_eq!(set_values(&file), expected);
    // The first entry opens the key, with its location.
    assert_eq!(
        file.entries[0],
        RegEntry::OpenKey {
            path: key(r"HKEY_LOCAL_MACHINE\Software\Test"),
            location: Location::new(Path::new("t.reg").into(), 3, 1),
        }
    );
    match &file.entries[2] {
        RegEntry::SetValue {
            key: k,
            name,
            location,
            ..
        } => {
            assert_eq!(k.as_str(), r"HKEY_LOCAL_MACHINE\Software\Test");
            assert_eq!(name, &ValueName::Named("Sz".into()));
            assert_eq!((location.line, location.column), (5, 1));
        }
        other => panic!("unexpected {other:?}"),
    }
    // `""=` is the default value.
    match file.entries.last() {
        Some(RegEntry::SetValue { name, .. }) => assert!(matches!(name, ValueName::Default)),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn type_names_and_numbers() {
    let cases = [
        (RegValue::Sz(String::new()), "REG_SZ", 1),
        (RegValue::ExpandSz(String::new()), "REG_EXPAND_SZ", 2),
        (RegValue::Binary(vec![]), "REG_BINARY", 3),
        (RegValue::Dword(0), "REG_DWORD", 4),
        (RegValue::DwordBigEndian(0), "REG_DWORD_BIG_ENDIAN", 5),
        (RegValue::MultiSz(vec![]), "REG_MULTI_SZ", 7),
        (RegValue::Qword(0), "REG_QWORD", 11),
        (
            RegValue::Other {
                kind: 0,
                bytes: vec![],
            },
            "REG_NONE",
            0,
        ),
        (
            RegValue::Other {
                kind: 6,
                bytes: vec![],
            },
            "REG_LINK",
            6,
        ),
        (
            RegValue::Other {
                kind: 8,
                bytes: vec![],
            },
            "REG_RESOURCE_LIST",
            8,
        ),
        (
            RegValue::Other {
                kind: 9,
                bytes: vec![],
            },
            "REG_FULL_RESOURCE_DESCRIPTOR",
            9,
        ),
        (
            RegValue::Other {
                kind: 10,
                bytes: vec![],
            },
            "REG_RESOURCE_REQUIREMENTS_LIST",
            10,
        ),
        (
            RegValue::Other {
                kind: 99,
                bytes: vec![],
            },
            "REG_UNKNOWN",
            99,
        ),
    ];
    for (value, name, kind) in cases {
        assert_eq!(value.type_name(), name);
        assert_eq!(value.kind(), kind);
    }
}

#[test]
fn regedit4_hex_strings_are_ansi() {
    let file = parse(
        "REGEDIT4\n\n[HKEY_CURRENT_USER\\Test]\n\
         \"Expand\"=hex(2):25,50,41,54,48,25,00\n\
         \"Multi\"=hex(7):61,00,62,63,00,00\n\
         \"Latin1\"=hex(2):e9,74,e9,00\n\
         \"Utf8\"=hex(1):c3,a9,00\n",
    );
    assert_eq!(file.header, Some(RegHeader::Regedit4));
    assert_eq!(
        set_values(&file),
        vec![
            ("Expand".into(), RegValue::ExpandSz("%PATH%".into())),
            (
                "Multi".into(),
                RegValue::MultiSz(vec!["a".into(), "bc".into()])
            ),
            ("Latin1".into(), RegValue::ExpandSz("été".into())),
            ("Utf8".into(), RegValue::Sz("é".into())),
        ]
    );
}

#[test]
fn deletions() {
    let file = parse(
        "Windows Registry Editor Version 5.00\n\n[-HKEY_LOCAL_MACHINE\\Gone]\n\n\
         [HKEY_LOCAL_MACHINE\\Kept]\n\"x\"=-\n@=-\n\"y\" = -\n",
    );
    let loc = |line, column| Location::new(Path::new("t.reg").into(), line, column);
    assert_eq!(
        file.entries,
        vec![
            RegEntry::DeleteKey {
                path: key(r"HKEY_LOCAL_MACHINE\Gone"),
                location: loc(3, 1),
            },
            RegEntry::OpenKey {
                path: key(r"HKEY_LOCAL_MACHINE\Kept"),
                location: loc(5, 1),
            },
            RegEntry::DeleteValue {
                key: key(r"HKEY_LOCAL_MACHINE\Kept"),
                name: ValueName::Named("x".into()),
                location: loc(6, 1),
            },
            RegEntry::DeleteValue {
                key: key(r"HKEY_LOCAL_MACHINE\Kept"),
                name: ValueName::Default,
                location: loc(7, 1),
            },
            RegEntry::DeleteValue {
                key: key(r"HKEY_LOCAL_MACHINE\Kept"),
                name: ValueName::Named("y".into()),
                location: loc(8, 1),
            },
        ]
    );
}

#[test]
fn continuations_and_comments() {
    let file = parse(concat!(
        "Windows Registry Editor Version 5.00\r\n",
        "; a whole-line comment\r\n",
        "\r\n",
        "[HKEY_LOCAL_MACHINE\\A] ; comment after a key\r\n",
        "\"Hex\"=hex:01,02,\\\r\n",
        "  03,04,\\\r\n",
        "\t\t05 ; trailing comment\r\n",
        "\"Semi\"=\"x;y\" ; only the second ; starts a comment\r\n",
        "\"Multi\"=hex(7):61,00,00,00,\\\r\n",
        "  62,00,00,00,00,00\r\n",
        "\"Dw\"=dword:10;comment without space\r\n",
        "\"Path\"=\"C:\\\\dir\\\\\"\r\n",
    ));
    assert_eq!(
        set_values(&file),
        vec![
            ("Hex".into(), RegValue::Binary(vec![1, 2, 3, 4, 5])),
            ("Semi".into(), RegValue::Sz("x;y".into())),
            (
                "Multi".into(),
                RegValue::MultiSz(vec!["a".into(), "b".into()])
            ),
            ("Dw".into(), RegValue::Dword(16)),
            ("Path".into(), RegValue::Sz(r"C:\dir\".into())),
        ]
    );
    assert_eq!(file.entries.len(), 6);
    assert_eq!(file.entries[5].location().line, 12);
}

#[test]
fn abbreviated_and_oddly_cased_roots_are_normalized() {
    let file = parse(
        "[HKLM\\A]\n[hkcu\\B]\n[HKCR]\n[HKU\\.DEFAULT]\n[hkcc\\x\\]\n\
         [hkey_local_machine\\MiXed Case]\n[ HKEY_USERS\\ spaced ]\n",
    );
    let paths: Vec<&str> = file
        .entries
        .iter()
        .map(|e| match e {
            RegEntry::OpenKey { path, .. } => path.as_str(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        paths,
        vec![
            r"HKEY_LOCAL_MACHINE\A",
            r"HKEY_CURRENT_USER\B",
            r"HKEY_CLASSES_ROOT",
            r"HKEY_USERS\.DEFAULT",
            r"HKEY_CURRENT_CONFIG\x",
            r"HKEY_LOCAL_MACHINE\MiXed Case",
            r"HKEY_USERS\ spaced ",
        ]
    );
    assert_eq!(
        key(r"hklm\mixed case"),
        key(r"HKEY_LOCAL_MACHINE\MiXed Case")
    );
}

#[test]
fn data_files_in_both_dialects_mean_the_same() {
    let v5 = RegFile::read(data("security-v5.reg")).expect("v5 file");
    let ce = RegFile::read(data("security-ce.reg")).expect("ce file");
    assert_eq!(v5.header, Some(RegHeader::Version5));
    assert_eq!(ce.header, None);
    let v5_values = set_values(&v5);
    assert_eq!(v5_values, set_values(&ce));
    assert_eq!(
        v5_values.last(),
        Some(&(
            "KdcNames".to_owned(),
            RegValue::MultiSz(vec!["kdc1".into(), "192.168.1.10".into()])
        ))
    );
    // CRLF file: columns and lines are still exact.
    assert_eq!(v5.entries[7].location().line, 12);
    assert!(
        matches!(&v5.entries[8], RegEntry::DeleteValue { name, .. } if name.as_str() == "OldValue")
    );
    assert_eq!(v5.entries[8].location().line, 14);
    assert!(matches!(
        v5.entries.last(),
        Some(RegEntry::DeleteKey { .. })
    ));
}

#[test]
fn utf16le_file_written_byte_by_byte() {
    // "\u{feff}Windows Registry Editor Version 5.00\r\n" is long; build a small file by hand:
    // BOM, `[HKU\x]` CRLF, `"n"="ä"` CRLF, in UTF-16LE.
    let bytes: Vec<u8> = vec![
        0xFF, 0xFE, // BOM
        b'[', 0, b'H', 0, b'K', 0, b'U', 0, b'\\', 0, b'x', 0, b']', 0, b'\r', 0, b'\n', 0, //
        b'"', 0, b'n', 0, b'"', 0, b'=', 0, b'"', 0, 0xE4, 0, b'"', 0, b'\r', 0, b'\n', 0,
    ];
    let dir = temp_dir("utf16");
    let path = write(&dir, "by-hand.reg", bytes);
    let file = RegFile::read(&path).expect("utf-16 file");
    assert_eq!(file.header, None);
    assert_eq!(
        set_values(&file),
        vec![("n".into(), RegValue::Sz("ä".into()))]
    );
    assert_eq!(&*file.path, path.as_path());
}

#[test]
fn utf16le_file_with_header_and_utf8_bom_file() {
    let text = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\Grüße]\r\n\
                \"Wert\"=\"Grüße 😀\"\r\n\"M\"=hex(7):e4,00,00,00,00,00\r\n";
    let dir = temp_dir("bom");
    let utf16 = RegFile::read(write(&dir, "u16.reg", utf16le_with_bom(text))).expect("utf-16");
    let mut utf8_bytes = vec![0xEF, 0xBB, 0xBF];
    utf8_bytes.extend_from_slice(text.as_bytes());
    let utf8 = RegFile::read(write(&dir, "u8.reg", utf8_bytes)).expect("utf-8 bom");
    for file in [&utf16, &utf8] {
        assert_eq!(file.header, Some(RegHeader::Version5));
        assert_eq!(
            set_values(file),
            vec![
                ("Wert".into(), RegValue::Sz("Grüße 😀".into())),
                ("M".into(), RegValue::MultiSz(vec!["ä".into()])),
            ]
        );
        match &file.entries[0] {
            RegEntry::OpenKey { path, .. } => {
                assert_eq!(path.as_str(), r"HKEY_LOCAL_MACHINE\Grüße")
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
