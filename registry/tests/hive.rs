//! Import semantics, layering, lookups and flattening.

mod common;

use std::path::Path;

use common::{parse, temp_dir, write};
use sspi_registry::{RegValue, Registry, RegistryError, ValueName};

fn registry(text: &str) -> Registry {
    let mut registry = Registry::new();
    registry.apply(&parse(text));
    registry
}

#[test]
fn opening_a_key_creates_it_and_its_parents() {
    let reg = registry("\n[HKLM\\A\\B\\C]\n[HKLM\\A]\n");
    let a = reg.key(r"HKEY_LOCAL_MACHINE\A").expect("A");
    assert_eq!(a.name(), "A");
    assert_eq!(a.path(), r"HKEY_LOCAL_MACHINE\A");
    // A was opened again on line 3: that is its location now.
    assert_eq!((a.location().line, a.location().column), (3, 1));
    let b = reg.key(r"HKLM\A\B").expect("B");
    // B was only created implicitly by line 2.
    assert_eq!(b.location().line, 2);
    assert_eq!(b.subkeys().map(|k| k.name()).collect::<Vec<_>>(), vec!["C"]);
    assert_eq!(
        reg.roots().map(|k| k.name()).collect::<Vec<_>>(),
        vec!["HKEY_LOCAL_MACHINE"]
    );
    assert!(reg.key(r"HKLM\A\C").is_none());
    assert!(reg.key(r"NOT_A_ROOT\A").is_none());
    assert!(reg.key(r"HKCU").is_none());
}

#[test]
fn lookups_are_case_insensitive_and_case_preserving() {
    let reg = registry(
        "[HKLM\\Comm\\MiXed]\n\"Value\"=dword:1\n[hklm\\COMM\\mixed]\n\"VALUE\"=dword:2\n",
    );
    let key = reg.key(r"hkey_local_machine\comm\MIXED").expect("key");
    assert_eq!(key.name(), "MiXed");
    assert_eq!(key.value("value"), Some(&RegValue::Dword(2)));
    let (_, location) = key.value_entry("vAlUe").expect("entry");
    assert_eq!(location.line, 4);
    // The first spelling of the name is kept.
    let names: Vec<&str> = key.values().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, vec!["Value"]);
    assert_eq!(
        reg.key(r"hklm")
            .and_then(|k| k.subkey("comm"))
            .map(|k| k.name()),
        Some("Comm")
    );
}

#[test]
fn values_keep_insertion_order_and_overwrite_in_place() {
    let reg = registry("[HKLM\\K]\n\"b\"=dword:1\n@=\"d\"\n\"a\"=dword:2\n\"b\"=\"new\"\n");
    let key = reg.key(r"HKLM\K").expect("key");
    let values: Vec<(ValueName, RegValue)> =
        key.values().map(|(n, v)| (n.clone(), v.clone())).collect();
    assert_eq!(
        values,
        vec![
            (ValueName::Named("b".into()), RegValue::Sz("new".into())),
            (ValueName::Default, RegValue::Sz("d".into())),
            (ValueName::Named("a".into()), RegValue::Dword(2)),
        ]
    );
    assert_eq!(key.value(""), Some(&RegValue::Sz("d".into())));
    assert_eq!(key.value_entry("b").map(|(_, l)| l.line), Some(5));
}

#[test]
fn deletions_remove_keys_with_subkeys_and_values() {
    let reg = registry(
        "[HKLM\\Keep]\n\"x\"=dword:1\n\"y\"=dword:2\n@=\"d\"\n\
         [HKLM\\Keep\\Gone\\Deep]\n\"z\"=dword:3\n\
         [HKCU\\Whole]\n\
         [-HKLM\\keep\\GONE]\n[-HKEY_CURRENT_USER]\n[-HKLM\\Never\\Existed]\n\
         [HKLM\\Keep]\n\"x\"=-\n@=-\n\"missing\"=-\n",
    );
    let keep = reg.key(r"HKLM\Keep").expect("Keep");
    assert_eq!(keep.subkeys().count(), 0);
    assert!(reg.key(r"HKLM\Keep\Gone\Deep").is_none());
    assert!(reg.key("HKCU").is_none());
    assert_eq!(
        keep.flatten()
            .into_iter()
            .map(|(k, n, v, _)| (k, n, v))
            .collect::<Vec<_>>(),
        vec![("".to_owned(), "y".to_owned(), &RegValue::Dword(2))]
    );
    assert!(reg.key(r"HKLM\Never").is_none());
}

#[test]
fn flatten_lists_every_value_below_a_key() {
    let reg = registry(concat!(
        "[HKLM\\Comm\\SecurityProviders\\Kerberos]\n",
        "@=\"default\"\n",
        "\"Realm\"=\"EXAMPLE.COM\"\n",
        "[HKLM\\Comm\\SecurityProviders\\Kerberos\\Domains\\EXAMPLE.COM]\n",
        "\"KdcNames\"=multi_sz:\"kdc1\",\"kdc2\"\n",
        "[HKLM\\Comm\\SecurityProviders\\Kerberos\\Empty]\n",
        "[HKLM\\Comm\\SecurityProviders\\Kerberos\\Parameters]\n",
        "\"SkewTime\"=dword:5\n",
    ));
    let kerberos = reg
        .key(r"HKLM\Comm\SecurityProviders\Kerberos")
        .expect("key");
    let kdcs = RegValue::MultiSz(vec!["kdc1".into(), "kdc2".into()]);
    assert_eq!(
        kerberos
            .flatten()
            .into_iter()
            .map(|(k, n, v, _)| (k, n, v))
            .collect::<Vec<_>>(),
        vec![
            (
                "".to_owned(),
                "".to_owned(),
                &RegValue::Sz("default".into())
            ),
            (
                "".to_owned(),
                "Realm".to_owned(),
                &RegValue::Sz("EXAMPLE.COM".into())
            ),
            (
                r"Domains\EXAMPLE.COM".to_owned(),
                "KdcNames".to_owned(),
                &kdcs
            ),
            (
                "Parameters".to_owned(),
                "SkewTime".to_owned(),
                &RegValue::Dword(5)
            ),
        ]
    );
}

#[test]
fn layered_files_later_wins_and_can_delete() {
    let dir = temp_dir("layers");
    let base = write(
        &dir,
        "base.reg",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\
         \"Providers\"=\"a.dll\"\n\"Keep\"=dword:1\n\"Drop\"=dword:2\n\
         [HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Old]\n\"x\"=dword:1\n",
    );
    let over = write(
        &dir,
        "override.reg",
        "Windows Registry Editor Version 5.00\n\n\
         [HKLM\\Comm\\SecurityProviders]\n\"providers\"=\"b.dll\"\n\"Drop\"=-\n\
         [-HKLM\\Comm\\SecurityProviders\\Old]\n[HKLM\\Comm\\SecurityProviders\\New]\n",
    );
    let reg = Registry::load_layered(&[&base, &over]).expect("layers");
    let key = reg.key(r"HKLM\Comm\SecurityProviders").expect("key");
    assert_eq!(key.value("Providers"), Some(&RegValue::Sz("b.dll".into())));
    let (_, location) = key.value_entry("Providers").expect("entry");
    assert_eq!((&*location.file, location.line), (over.as_path(), 4));
    assert_eq!(key.value("Keep"), Some(&RegValue::Dword(1)));
    assert_eq!(key.value("Drop"), None);
    assert_eq!(
        key.subkeys().map(|k| k.name()).collect::<Vec<_>>(),
        vec!["New"]
    );
    assert_eq!(
        reg.sources().iter().map(|p| &**p).collect::<Vec<&Path>>(),
        vec![base.as_path(), over.as_path()]
    );
    // The other order gives the other answer.
    let reg = Registry::load_layered(&[&over, &base]).expect("layers");
    let key = reg.key(r"HKLM\Comm\SecurityProviders").expect("key");
    assert_eq!(key.value("Providers"), Some(&RegValue::Sz("a.dll".into())));
    assert_eq!(key.value("Drop"), Some(&RegValue::Dword(2)));
}

#[test]
fn a_bad_layer_is_reported_with_its_file() {
    let dir = temp_dir("badlayer");
    let good = write(&dir, "good.reg", "[HKLM\\A]\n");
    let bad = write(&dir, "bad.reg", "[HKLM\\A]\n\"x\"=dword:-1\n");
    match Registry::load_layered(&[good, bad.clone()]) {
        Err(RegistryError::Syntax { location, .. }) => {
            assert_eq!(&*location.file, bad.as_path());
            assert_eq!((location.line, location.column), (2, 11));
        }
        other => panic!("unexpected {other:?}"),
    }
    let empty: [&str; 0] = [];
    assert!(
        Registry::load_layered(&empty)
            .expect("no files")
            .roots()
            .next()
            .is_none()
    );
}

#[test]
fn large_keys_keep_order_case_insensitive_lookups_and_deletions() {
    let mut text = String::from("\n[HKLM\\Big]\n");
    for i in 0..20_000 {
        text.push_str(&format!("\"Value{i}\"=dword:{i:08x}\n"));
    }
    text.push_str("\"value7\"=dword:00000063\n\"VALUE8\"=-\n[-HKLM\\Big\\Gone]\n[HKLM\\Big\\Gone]\n[HKLM\\big\\Kept]\n[-hklm\\BIG\\gone]\n");
    let reg = registry(&text);
    let big = reg.key(r"HKLM\BIG").expect("Big");
    assert_eq!(big.values().count(), 19_999);
    assert_eq!(big.value("VALUE19999"), Some(&RegValue::Dword(19_999)));
    assert_eq!(
        big.value("Value7"),
        Some(&RegValue::Dword(0x63)),
        "later line wins"
    );
    assert_eq!(big.value("Value8"), None, "deleted");
    let names: Vec<&str> = big.values().take(9).map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "Value0", "Value1", "Value2", "Value3", "Value4", "Value5", "Value6", "Value7",
            "Value9"
        ],
        "insertion order, first spelling kept"
    );
    assert_eq!(
        big.subkeys().map(|k| k.name()).collect::<Vec<_>>(),
        ["Kept"]
    );
}

#[test]
fn debug_output_redacts_password_values() {
    let reg = registry(
        "\n[HKLM\\Comm\\SecurityProviders\\Test\\Users\\alice]\n\"Password\"=\"alice-secret-1\"\n[HKLM\\Comm\\SecurityProviders\\Kerberos]\n\"DefaultPassword\"=\"kerberos-secret-2\"\n\"DefaultUser\"=\"alice\"\n",
    );
    let debug = format!("{reg:?}");
    assert!(!debug.contains("alice-secret-1"), "{debug}");
    assert!(!debug.contains("kerberos-secret-2"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
    assert!(
        debug.contains("\"alice\""),
        "other values still show: {debug}"
    );
    assert!(sspi_registry::is_secret("DefaultPassword"));
    assert!(!sspi_registry::is_secret("DefaultUser"));
}
