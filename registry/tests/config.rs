//! The typed security-provider configuration and its errors.

mod common;

use std::path::{Path, PathBuf};

use common::{data, temp_dir, write};
use sspi_registry::{LibrarySpec, RegValue, Registry, RegistryError, SecurityConfig};

const KEY: &str = r"HKEY_LOCAL_MACHINE\Comm\SecurityProviders";

/// Writes `text` as `sspi.reg` in a fresh directory and loads it.
fn load(text: &str) -> (PathBuf, Result<SecurityConfig, RegistryError>) {
    let dir = temp_dir("config");
    let path = write(&dir, "sspi.reg", text);
    let config = SecurityConfig::load(&[&path]);
    (path, config)
}

/// The error message for `text`, with the file path replaced by `FILE`.
#[track_caller]
fn error(text: &str) -> String {
    let (path, config) = load(text);
    match config {
        Err(e @ RegistryError::Config { .. }) => {
            e.to_string().replace(&path.display().to_string(), "FILE")
        }
        other => panic!("expected a config error, got {other:?}"),
    }
}

fn file(name: &str, base_dir: &Path) -> LibrarySpec {
    LibrarySpec::File {
        name: name.to_owned(),
        base_dir: base_dir.to_owned(),
    }
}

#[test]
fn ce_default_form() {
    let path = data("security-ce.reg");
    let config = SecurityConfig::load(&[&path]).expect("config");
    let dir = path.parent().expect("dir");
    let libraries: Vec<&LibrarySpec> = config.providers().iter().map(|p| &p.library).collect();
    assert_eq!(
        libraries,
        vec![
            &file("schannel.dll", dir),
            &file("ntlmssp.dll", dir),
            &file("kerberos.dll", dir),
            &file("spnego.dll", dir),
        ]
    );
    let location = &config.providers()[0].location;
    assert_eq!(
        (&*location.file, location.line, location.column),
        (path.as_path(), 3, 5)
    );
    assert!(config.library_path().is_empty());
    let ntlm = config.package_key("ntlm").expect("NTLM key");
    assert_eq!(ntlm.name(), "NTLM");
    assert_eq!(
        ntlm.value("LmCompatibilityLevelClient"),
        Some(&RegValue::Dword(3))
    );
    assert!(config.package_key("Kerberos").is_none());
    assert!(
        config
            .registry()
            .key(r"HKLM\Comm\Security\Kerberos\Domains\EXAMPLE.COM")
            .is_some()
    );
}

#[test]
fn builtin_entries_multi_sz_and_library_path() {
    let (path, config) = load(concat!(
        "[HKLM\\Comm\\SecurityProviders]\n",
        "\"Providers\"=multi_sz:\"builtin:ntlm\",\" plugins/libfoo.so \",\"BUILTIN: Negotiate\"\n",
        "\"LibraryPath\"=\"plugins; /opt/sspi/lib ;;../shared\"\n",
    ));
    let config = config.expect("config");
    let dir = path.parent().expect("dir");
    let libraries: Vec<LibrarySpec> = config
        .providers()
        .iter()
        .map(|p| p.library.clone())
        .collect();
    assert_eq!(
        libraries,
        vec![
            LibrarySpec::Builtin("ntlm".into()),
            file("plugins/libfoo.so", dir),
            LibrarySpec::Builtin("Negotiate".into()),
        ]
    );
    assert_eq!(
        config.library_path(),
        &[
            dir.join("plugins"),
            PathBuf::from("/opt/sspi/lib"),
            dir.join("../shared")
        ]
    );
}

#[test]
fn sz_list_tolerates_whitespace() {
    let (path, config) =
        load("[HKLM\\Comm\\SecurityProviders]\n\"Providers\"=\"  a.dll ,b.dll,\tbuiltin:x  \"\n");
    let dir = path.parent().expect("dir");
    let libraries: Vec<LibrarySpec> = config
        .expect("config")
        .providers()
        .iter()
        .map(|p| p.library.clone())
        .collect();
    assert_eq!(
        libraries,
        vec![
            file("a.dll", dir),
            file("b.dll", dir),
            LibrarySpec::Builtin("x".into())
        ]
    );
}

#[test]
fn library_path_as_expand_sz_and_multi_sz() {
    let (path, config) = load(concat!(
        "[HKLM\\Comm\\SecurityProviders]\n\"Providers\"=\"a.dll\"\n",
        "\"LibraryPath\"=expand_sz:\"%CARGO_MANIFEST_DIR%/plugins;%SSPI_REGISTRY_NO_SUCH_VAR%/x\"\n",
    ));
    let dir = path.parent().expect("dir");
    assert_eq!(
        config.expect("config").library_path(),
        &[
            Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins"),
            dir.join("%SSPI_REGISTRY_NO_SUCH_VAR%/x"),
        ]
    );
    let (path, config) = load(concat!(
        "[HKLM\\Comm\\SecurityProviders]\n\"Providers\"=\"a.dll\"\n",
        "\"LibraryPath\"=multi_sz:\"lib\",\"\",\"/abs dir\"\n",
    ));
    let dir = path.parent().expect("dir");
    assert_eq!(
        config.expect("config").library_path(),
        &[dir.join("lib"), PathBuf::from("/abs dir")]
    );
}

#[test]
fn base_dirs_come_from_the_file_that_set_the_value() {
    let root = temp_dir("config-layers");
    std::fs::create_dir_all(root.join("a")).expect("dir a");
    std::fs::create_dir_all(root.join("b")).expect("dir b");
    let base = write(
        &root.join("a"),
        "base.reg",
        "[HKLM\\Comm\\SecurityProviders]\n\"Providers\"=\"x.dll\"\n\"LibraryPath\"=\"lib\"\n",
    );
    let over = write(
        &root.join("b"),
        "over.reg",
        "[HKLM\\Comm\\SecurityProviders]\n\"Providers\"=\"y.dll, builtin:ntlm\"\n",
    );
    let config = SecurityConfig::load(&[&base, &over]).expect("config");
    assert_eq!(
        config.providers()[0].library,
        file("y.dll", &root.join("b"))
    );
    assert_eq!(&*config.providers()[1].location.file, over.as_path());
    assert_eq!(config.library_path(), &[root.join("a").join("lib")]);
    // from_registry on an already loaded registry gives the same result.
    let registry = Registry::load_layered(&[&base, &over]).expect("registry");
    let again = SecurityConfig::from_registry(&registry).expect("config");
    assert_eq!(again.providers(), config.providers());
}

#[test]
fn missing_key_or_value() {
    assert_eq!(
        error("[HKLM\\Comm\\Other]\n\"Providers\"=\"a.dll\"\n"),
        format!("security provider key not found (files read: FILE) (key {KEY})")
    );
    let dir = temp_dir("config-missing");
    let one = write(&dir, "one.reg", "[HKLM\\A]\n");
    let two = write(&dir, "two.reg", "[HKCU\\B]\n");
    let err = SecurityConfig::load(&[&one, &two]).expect_err("no key");
    assert_eq!(
        err.to_string(),
        format!(
            "security provider key not found (files read: {}, {}) (key {KEY})",
            one.display(),
            two.display()
        )
    );
    let err = SecurityConfig::from_registry(&Registry::new()).expect_err("empty");
    assert!(matches!(
        &err,
        RegistryError::Config {
            location: None,
            value: None,
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        format!("security provider key not found (files read: none) (key {KEY})")
    );
    assert_eq!(
        error("\n[HKLM\\Comm\\SecurityProviders]\n\"Other\"=dword:1\n"),
        format!(
            "FILE:2:1: the security provider key has no \"Providers\" value \
             (files read: FILE) (key {KEY}, value \"Providers\")"
        )
    );
}

#[test]
fn providers_errors() {
    let cases: [(&str, &str); 10] = [
        (
            "dword:1",
            "\"Providers\" must be REG_SZ (comma-separated library names) or REG_MULTI_SZ \
             (one library per string), found REG_DWORD",
        ),
        (
            "expand_sz:\"a.dll\"",
            "\"Providers\" must be REG_SZ (comma-separated library names) or REG_MULTI_SZ \
             (one library per string), found REG_EXPAND_SZ",
        ),
        (
            "\"a.dll,,b.dll\"",
            "entry 2 of \"Providers\" is empty: a provider with no library \
             (two commas in a row or a trailing comma?)",
        ),
        (
            "\"a.dll, b.dll, \"",
            "entry 3 of \"Providers\" is empty: a provider with no library \
             (two commas in a row or a trailing comma?)",
        ),
        (
            "multi_sz:\"a.dll\",\" \"",
            "entry 2 of \"Providers\" is empty: a provider with no library \
             (an empty string in the list?)",
        ),
        ("\"  \"", "\"Providers\" lists no provider library"),
        ("multi_sz:", "\"Providers\" lists no provider library"),
        (
            "\"a.dll, builtin: \"",
            "entry 2 of \"Providers\" is \"builtin:\" with no package library name",
        ),
        (
            "\"ntlmssp.dll, a.dll, NTLMSSP.DLL\"",
            "library \"NTLMSSP.DLL\" is listed twice in \"Providers\" (entries 1 and 3)",
        ),
        (
            "\"builtin:ntlm, ntlm, builtin:NTLM\"",
            "library \"builtin:NTLM\" is listed twice in \"Providers\" (entries 1 and 3)",
        ),
    ];
    for (data, message) in cases {
        assert_eq!(
            error(&format!(
                "[HKLM\\Comm\\SecurityProviders]\n  \"Providers\"={data}\n"
            )),
            format!("FILE:2:3: {message} (key {KEY}, value \"Providers\")"),
            "for {data}"
        );
    }
}

#[test]
fn library_path_of_the_wrong_type() {
    assert_eq!(
        error("[HKLM\\Comm\\SecurityProviders]\n\"Providers\"=\"a.dll\"\n\"LibraryPath\"=hex:00\n"),
        format!(
            "FILE:3:1: \"LibraryPath\" must be REG_SZ (directories separated by `;`), \
             REG_EXPAND_SZ or REG_MULTI_SZ, found REG_BINARY (key {KEY}, value \"LibraryPath\")"
        )
    );
}
