//! Reading Windows CE Platform Builder `.reg` files (no header, `multi_sz:`, `expand_sz:`).

mod common;

use common::parse;
use sspi_registry::{RegEntry, RegValue};

fn values(text: &str) -> Vec<(String, String, RegValue)> {
    parse(text)
        .entries
        .into_iter()
        .filter_map(|e| match e {
            RegEntry::SetValue {
                key, name, value, ..
            } => Some((key.as_str().to_owned(), name.as_str().to_owned(), value)),
            _ => None,
        })
        .collect()
}

#[test]
fn ce_value_forms() {
    let got = values(concat!(
        "; @CESYSGEN IF CE_MODULES_SECUR32\n",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]   ; providers\n",
        "    \"Providers\"=\"schannel.dll, ntlmssp.dll\"\n",
        "\t\"Short\"=dword:5\n",
        "    \"Max\"=dword:FFFFFFFF\n",
        "    \"Expand\"=expand_sz:\"%windir%\\\\sspi\"\n",
        "    \"Multi\"=multi_sz:\"a\",\"b c\", \"\\\"q\\\"\"\n",
        "    \"EmptyMulti\"=multi_sz:\n",
        "    \"HexMulti\"=hex(7):61,00,00,00,00,00\n",
        "    \"HexExpand\"=hex(2):61,00,00,00\n",
        "    \"Upper\"=DWORD:a\n",
    ));
    let k = r"HKEY_LOCAL_MACHINE\Comm\SecurityProviders";
    let expected: Vec<(String, String, RegValue)> = vec![
        (
            k.into(),
            "Providers".into(),
            RegValue::Sz("schannel.dll, ntlmssp.dll".into()),
        ),
        (k.into(), "Short".into(), RegValue::Dword(5)),
        (k.into(), "Max".into(), RegValue::Dword(u32::MAX)),
        (
            k.into(),
            "Expand".into(),
            RegValue::ExpandSz(r"%windir%\sspi".into()),
        ),
        (
            k.into(),
            "Multi".into(),
            RegValue::MultiSz(vec!["a".into(), "b c".into(), "\"q\"".into()]),
        ),
        (k.into(), "EmptyMulti".into(), RegValue::MultiSz(vec![])),
        (
            k.into(),
            "HexMulti".into(),
            RegValue::MultiSz(vec!["a".into()]),
        ),
        (k.into(), "HexExpand".into(), RegValue::ExpandSz("a".into())),
        (k.into(), "Upper".into(), RegValue::Dword(10)),
    ];
    assert_eq!(got, expected);
}

#[test]
fn multi_sz_continues_with_backslash_or_trailing_comma() {
    let got = values(concat!(
        "[HKEY_LOCAL_MACHINE\\Comm\\Security\\Kerberos\\Domains\\EXAMPLE.COM]\n",
        "    \"KdcNames\"=multi_sz:\"kdc1.example.com\",\\\n",
        "                         \"kdc2.example.com\",\n",
        "        ; a comment line inside the list\n",
        "\n",
        "                         \"192.168.1.10\"  ; last one\n",
        "    \"Other\"=multi_sz:\"x\"\n",
    ));
    assert_eq!(
        got.iter()
            .map(|(_, n, v)| (n.as_str(), v))
            .collect::<Vec<_>>(),
        vec![
            (
                "KdcNames",
                &RegValue::MultiSz(vec![
                    "kdc1.example.com".into(),
                    "kdc2.example.com".into(),
                    "192.168.1.10".into()
                ])
            ),
            ("Other", &RegValue::MultiSz(vec!["x".into()])),
        ]
    );
    // The value line's location is where it starts.
    let file = parse("[HKLM\\A]\n  \"M\"=multi_sz:\"a\",\n  \"b\"\n\"N\"=dword:1\n");
    let lines: Vec<(u32, u32)> = file
        .entries
        .iter()
        .map(|e| (e.location().line, e.location().column))
        .collect();
    assert_eq!(lines, vec![(1, 1), (2, 3), (4, 1)]);
}

#[test]
fn ce_hex_strings_without_header_are_utf16() {
    let got = values("[HKLM\\A]\n\"S\"=hex(1):41,00,42,00,00,00\n");
    assert_eq!(got[0].2, RegValue::Sz("AB".into()));
}
