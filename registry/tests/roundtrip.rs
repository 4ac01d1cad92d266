//! parse(write(x)) gives back x, for random registries and random files.

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use sspi_registry::{KeyPath, Location, RegEntry, RegFile, RegKey, RegValue, Registry, ValueName};

/// Key names: anything but `\` and line breaks; `]` only where it cannot end the
/// `[key]` line (not before a space or `;`).
fn key_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 _.{}\\[\\]\"';=@,é-]{1,10}"
}

/// Value names: quotes, backslashes, `;`, `=`, non-ASCII and the empty (default) name.
fn value_name() -> impl Strategy<Value = ValueName> {
    prop_oneof![
        1 => Just(ValueName::Default),
        6 => "[A-Za-z0-9 \"\\\\;=@,\\[\\]é😀-]{1,12}".prop_map(ValueName::Named),
    ]
}

/// Any text: quotes, backslashes, `;`, line breaks, NUL, non-ASCII.
fn text() -> impl Strategy<Value = String> {
    "[a-z \"\\\\;,\r\n\t\u{0}é😀]{0,16}"
}

fn value() -> impl Strategy<Value = RegValue> {
    prop_oneof![
        text().prop_map(RegValue::Sz),
        text().prop_map(RegValue::ExpandSz),
        proptest::collection::vec(any::<u8>(), 0..70).prop_map(RegValue::Binary),
        any::<u32>().prop_map(RegValue::Dword),
        any::<u32>().prop_map(RegValue::DwordBigEndian),
        proptest::collection::vec("[a-z \"\\\\;,é😀]{0,8}", 0..5).prop_map(RegValue::MultiSz),
        any::<u64>().prop_map(RegValue::Qword),
        (
            prop_oneof![Just(0u32), Just(6), Just(8), Just(9), Just(10), 12u32..],
            proptest::collection::vec(any::<u8>(), 0..40),
        )
            .prop_map(|(kind, bytes)| RegValue::Other { kind, bytes }),
    ]
}

fn key_path() -> impl Strategy<Value = KeyPath> {
    (
        prop_oneof![
            Just("HKLM"),
            Just("HKEY_CURRENT_USER"),
            Just("hkcr"),
            Just("HKU")
        ],
        proptest::collection::vec(key_name(), 0..4),
    )
        .prop_filter_map("`]` before a space or `;`", |(root, names)| {
            let mut text = root.to_owned();
            for name in names {
                text.push('\\');
                text.push_str(&name);
            }
            KeyPath::parse(&text).ok()
        })
}

/// A random entry; `None` for value entries means "in the previous key".
fn entry() -> impl Strategy<Value = RegEntry> {
    let here = || Location::new(Arc::from(Path::new("gen.reg")), 1, 1);
    prop_oneof![
        3 => key_path().prop_map(move |path| RegEntry::OpenKey { path, location: here() }),
        1 => key_path().prop_map(move |path| RegEntry::DeleteKey { path, location: here() }),
        8 => (key_path(), value_name(), value()).prop_map(move |(key, name, value)| {
            RegEntry::SetValue { key, name, value, location: here() }
        }),
        1 => (key_path(), value_name()).prop_map(move |(key, name)| RegEntry::DeleteValue {
            key,
            name,
            location: here(),
        }),
    ]
}

fn reg_file() -> impl Strategy<Value = RegFile> {
    proptest::collection::vec(entry(), 0..25).prop_map(|entries| RegFile {
        path: Arc::from(Path::new("gen.reg")),
        header: None,
        entries,
    })
}

/// Every key (path) and every value with its stored name, depth first.
fn dump(registry: &Registry) -> Vec<(String, Vec<(String, RegValue)>)> {
    fn walk(key: &RegKey, out: &mut Vec<(String, Vec<(String, RegValue)>)>) {
        let values = key
            .values()
            .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
            .collect();
        out.push((key.path().to_owned(), values));
        for sub in key.subkeys() {
            walk(sub, out);
        }
    }
    let mut out = Vec::new();
    for root in registry.roots() {
        walk(root, &mut out);
    }
    out
}

/// An entry without its location, for comparison.
fn strip(entry: &RegEntry) -> (u8, String, String, Option<RegValue>) {
    match entry {
        RegEntry::OpenKey { path, .. } => (0, path.to_string(), String::new(), None),
        RegEntry::DeleteKey { path, .. } => (1, path.to_string(), String::new(), None),
        RegEntry::SetValue {
            key, name, value, ..
        } => (
            2,
            key.to_string(),
            name.as_str().to_owned(),
            Some(value.clone()),
        ),
        RegEntry::DeleteValue { key, name, .. } => {
            (3, key.to_string(), name.as_str().to_owned(), None)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn registry_round_trip(file in reg_file()) {
        let mut registry = Registry::new();
        registry.apply(&file);
        let text = registry.to_reg_text();
        let parsed = RegFile::parse(text.as_bytes(), Path::new("written.reg"))
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let mut again = Registry::new();
        again.apply(&parsed);
        prop_assert_eq!(dump(&again), dump(&registry));
        prop_assert_eq!(again.to_reg_text(), text);
    }

    #[test]
    fn reg_file_round_trip(file in reg_file()) {
        let text = file.to_reg_text();
        let parsed = RegFile::parse(text.as_bytes(), Path::new("written.reg"))
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        // The writer adds `[key]` lines where a value changes key; drop them to compare.
        let original: Vec<_> = file.entries.iter().map(strip).collect();
        let back: Vec<_> = parsed.entries.iter().map(strip).collect();
        let mut back_iter = back.into_iter().peekable();
        for entry in original {
            if entry.0 >= 2 {
                while back_iter.peek().is_some_and(|b| b.0 == 0 && b.1 == entry.1) {
                    back_iter.next();
                }
            }
            prop_assert_eq!(back_iter.next(), Some(entry));
        }
        prop_assert_eq!(back_iter.next(), None);
    }

    #[test]
    fn parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = RegFile::parse(&bytes, Path::new("fuzz.reg"));
    }

    #[test]
    fn parser_never_panics_on_reg_like_text(
        lines in proptest::collection::vec(
            "[\\[\\]\"@=:,;\\\\ \t\r(){}-]{0,3}(HKLM|hex|dword|multi_sz|expand_sz|hex\\(7\\)|IF)?[0-9a-fA-F,\"\\\\ ]{0,12}",
            0..12,
        )
    ) {
        let text = lines.join("\n");
        let _ = RegFile::parse(text.as_bytes(), Path::new("fuzz.reg"));
    }
}

#[test]
fn every_value_variant_round_trips() {
    let values = [
        RegValue::Sz("\"quoted\" \\back\\ ; semi".into()),
        RegValue::Sz("line\r\nbreak\0nul".into()),
        RegValue::Sz(String::new()),
        RegValue::ExpandSz("%PATH%;é😀".into()),
        RegValue::Binary((0..=255).collect()),
        RegValue::Dword(0xdead_beef),
        RegValue::DwordBigEndian(0x0102_0304),
        RegValue::MultiSz(vec!["a".into(), String::new(), "c\\\"".into()]),
        RegValue::MultiSz(vec![String::new()]),
        RegValue::MultiSz(vec![]),
        RegValue::Qword(u64::MAX - 1),
        RegValue::Other {
            kind: 0,
            bytes: vec![],
        },
        RegValue::Other {
            kind: 6,
            bytes: vec![1, 2, 3],
        },
        RegValue::Other {
            kind: 0xffff_ffff,
            bytes: vec![0xff],
        },
    ];
    let path = KeyPath::parse(r"HKLM\Round\Trip").expect("path");
    let location = Location::new(Arc::from(Path::new("v.reg")), 1, 1);
    let entries = values
        .iter()
        .enumerate()
        .map(|(i, value)| RegEntry::SetValue {
            key: path.clone(),
            name: ValueName::Named(format!("v{i}")),
            value: value.clone(),
            location: location.clone(),
        })
        .collect();
    let file = RegFile {
        path: Arc::from(Path::new("v.reg")),
        header: None,
        entries,
    };
    let mut registry = Registry::new();
    registry.apply(&file);
    let text = registry.to_reg_text();
    let mut again = Registry::new();
    again.apply(&RegFile::parse(text.as_bytes(), Path::new("w.reg")).expect("parse"));
    let key = again.key(r"HKLM\Round\Trip").expect("key");
    let back: Vec<RegValue> = key.values().map(|(_, v)| v.clone()).collect();
    assert_eq!(back, values);
}
