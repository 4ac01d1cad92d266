//! Writing regedit version-5 text.

mod common;

use common::{parse, temp_dir};
use sspi_registry::{RegFile, RegValue, Registry};

fn registry(text: &str) -> Registry {
    let mut registry = Registry::new();
    registry.apply(&parse(text));
    registry
}

#[test]
fn writes_every_value_type_like_regedit() {
    let reg = registry(concat!(
        "[HKLM\\Comm\\Security\\Kerberos\\Domains\\EXAMPLE.COM]\n",
        "\"KdcNames\"=multi_sz:\"kdc1\",\"192.168.1.10\"\n",
        "[HKLM\\T]\n",
        "@=\"default\"\n",
        "\"Quote\\\"Back\\\\\"=\"C:\\\\dir \\\"x\\\"\"\n",
        "\"Dword\"=dword:2a\n",
        "\"Bin\"=hex:de,ad\n",
        "\"Empty\"=hex:\n",
        "\"Expand\"=expand_sz:\"%A%\"\n",
        "\"Be\"=hex(5):00,00,00,01\n",
        "\"Q\"=hex(b):01,00,00,00,00,00,00,00\n",
        "\"None\"=hex(0):\n",
        "\"Res\"=hex(a):ff\n",
        "[HKCU\\Empty Key]\n",
    ));
    let expected = concat!(
        "Windows Registry Editor Version 5.00\n",
        "\n",
        "[HKEY_LOCAL_MACHINE]\n",
        "\n",
        "[HKEY_LOCAL_MACHINE\\Comm]\n",
        "\n",
        "[HKEY_LOCAL_MACHINE\\Comm\\Security]\n",
        "\n",
        "[HKEY_LOCAL_MACHINE\\Comm\\Security\\Kerberos]\n",
        "\n",
        "[HKEY_LOCAL_MACHINE\\Comm\\Security\\Kerberos\\Domains]\n",
        "\n",
        "[HKEY_LOCAL_MACHINE\\Comm\\Security\\Kerberos\\Domains\\EXAMPLE.COM]\n",
        "\"KdcNames\"=hex(7):6b,00,64,00,63,00,31,00,00,00,31,00,39,00,32,00,2e,00,31,00,\\\n",
        "  36,00,38,00,2e,00,31,00,2e,00,31,00,30,00,00,00,00,00\n",
        "\n",
        "[HKEY_LOCAL_MACHINE\\T]\n",
        "@=\"default\"\n",
        "\"Quote\\\"Back\\\\\"=\"C:\\\\dir \\\"x\\\"\"\n",
        "\"Dword\"=dword:0000002a\n",
        "\"Bin\"=hex:de,ad\n",
        "\"Empty\"=hex:\n",
        "\"Expand\"=hex(2):25,00,41,00,25,00,00,00\n",
        "\"Be\"=hex(5):00,00,00,01\n",
        "\"Q\"=hex(b):01,00,00,00,00,00,00,00\n",
        "\"None\"=hex(0):\n",
        "\"Res\"=hex(a):ff\n",
        "\n",
        "[HKEY_CURRENT_USER]\n",
        "\n",
        "[HKEY_CURRENT_USER\\Empty Key]\n",
    );
    assert_eq!(reg.to_reg_text(), expected);
}

#[test]
fn long_hex_wraps_at_regedit_width() {
    let bytes: Vec<String> = (0..60u8).map(|b| format!("{b:02x}")).collect();
    let reg = registry(&format!("[HKLM\\T]\n\"B\"=hex:{}\n", bytes.join(",")));
    let text = reg.to_reg_text();
    let lines: Vec<&str> = text.lines().skip(5).collect();
    assert_eq!(
        lines,
        vec![
            // `"B"=hex:` is 8 characters, then 23 bytes reach column 77.
            "\"B\"=hex:00,01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,13,14,15,16,\\",
            "  17,18,19,1a,1b,1c,1d,1e,1f,20,21,22,23,24,25,26,27,28,29,2a,2b,2c,2d,2e,2f,\\",
            "  30,31,32,33,34,35,36,37,38,39,3a,3b",
        ]
    );
    assert!(text.lines().all(|l| l.chars().count() <= 80));
}

#[test]
fn strings_with_line_breaks_are_written_as_hex1() {
    let mut file = parse("[HKLM\\T]\n");
    if let Some(sspi_registry::RegEntry::OpenKey { path, location }) = file.entries.first().cloned()
    {
        file.entries.push(sspi_registry::RegEntry::SetValue {
            key: path,
            name: sspi_registry::ValueName::Named("S".into()),
            value: RegValue::Sz("a\r\nb\0".into()),
            location,
        });
    }
    let text = file.to_reg_text();
    assert_eq!(
        text,
        "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\T]\n\
         \"S\"=hex(1):61,00,0d,00,0a,00,62,00,00,00,00,00\n"
    );
    let back = parse(&text);
    let mut reg = Registry::new();
    reg.apply(&back);
    assert_eq!(
        reg.key(r"HKLM\T").and_then(|k| k.value("S")),
        Some(&RegValue::Sz("a\r\nb\0".into()))
    );
}

#[test]
fn reg_file_text_keeps_deletions_and_order() {
    let file = parse(
        "REGEDIT4\n[-HKLM\\Old]\n[HKLM\\A]\n\"x\"=-\n@=-\n\"y\"=dword:1\n[HKCU\\B]\n\"z\"=\"q\"\n",
    );
    assert_eq!(
        file.to_reg_text(),
        "Windows Registry Editor Version 5.00\n\n[-HKEY_LOCAL_MACHINE\\Old]\n\n\
         [HKEY_LOCAL_MACHINE\\A]\n\"x\"=-\n@=-\n\"y\"=dword:00000001\n\n\
         [HKEY_CURRENT_USER\\B]\n\"z\"=\"q\"\n"
    );
}

#[test]
fn write_file_then_read_back() {
    let dir = temp_dir("writefile");
    let reg = registry("[HKLM\\A]\n\"m\"=multi_sz:\"x\",\"y\"\n");
    let path = dir.join("out.reg");
    reg.write_file(&path).expect("write");
    let back = Registry::load_layered(&[&path]).expect("read back");
    assert_eq!(back.to_reg_text(), reg.to_reg_text());
    assert_eq!(
        back.key(r"HKLM\A").and_then(|k| k.value("m")),
        Some(&RegValue::MultiSz(vec!["x".into(), "y".into()]))
    );
    let file_path = dir.join("file.reg");
    RegFile::read(&path)
        .expect("read")
        .write_file(&file_path)
        .expect("write file");
    assert_eq!(
        std::fs::read_to_string(&file_path).expect("text"),
        std::fs::read_to_string(&path).expect("text")
    );
    let missing_dir = dir.join("no/such/dir/x.reg");
    let err = reg.write_file(&missing_dir).expect_err("cannot write");
    assert!(
        err.to_string()
            .starts_with(&format!("{}: ", missing_dir.display())),
        "{err}"
    );
}
