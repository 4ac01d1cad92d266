//! Overlays: a drop-in directory `<registry>.d/*.reg` layered in name order,
//! and `SecurityProviders\AddProviders`, which adds a provider library
//! without restating the `Providers` list.

mod common;

use common::{temp_dir, write};
use sspi_registry::{LibrarySpec, RegValue, RegistryError, SecurityConfig, layered_files};
use std::path::Path;

const BASE: &str = "Windows Registry Editor Version 5.00\n\n\
[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\
\"Providers\"=\"sspi_test.dll, sspi_ntlm.dll\"\n\n\
[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Test]\n\
\"Legs\"=dword:00000003\n";

fn names(config: &SecurityConfig) -> Vec<String> {
    config
        .providers()
        .iter()
        .map(|p| match &p.library {
            LibrarySpec::File { name, .. } => name.clone(),
            LibrarySpec::Builtin(name) => format!("builtin:{name}"),
        })
        .collect()
}

#[test]
fn drop_ins_are_layered_after_their_file_in_name_order() {
    let dir = temp_dir("overlay-order");
    let base = write(&dir, "sspi.reg", BASE);
    let d = dir.join("sspi.reg.d");
    std::fs::create_dir(&d).unwrap();
    // Written out of order; read 10-… before 20-….
    write(
        &d,
        "20-later.reg",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Test]\n\"Legs\"=dword:5\n",
    );
    write(
        &d,
        "10-first.reg",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Test]\n\"Legs\"=dword:4\n",
    );
    // Not drop-ins: a backup, a hidden file, a directory.
    write(&d, "30-backup.reg~", "not a registry file at all [");
    write(&d, ".#40-editing.reg", "not a registry file at all [");
    std::fs::create_dir(d.join("50-dir.reg")).unwrap();

    let files = layered_files(&[&base]).unwrap();
    assert_eq!(
        files,
        [base.clone(), d.join("10-first.reg"), d.join("20-later.reg")]
    );
    let config = SecurityConfig::load(&[&base]).unwrap();
    let test = config.package_key("Test").unwrap();
    let (value, location) = test.value_entry("Legs").unwrap();
    assert_eq!(value, &RegValue::Dword(5), "the later drop-in wins");
    assert_eq!(&*location.file, d.join("20-later.reg").as_path());
    assert_eq!(config.registry().sources().len(), 3);
}

#[test]
fn an_overlay_adds_a_provider_without_restating_the_list() {
    let dir = temp_dir("overlay-add");
    let base = write(&dir, "sspi.reg", BASE);
    let d = dir.join("sspi.reg.d");
    std::fs::create_dir(&d).unwrap();
    std::fs::create_dir(d.join("vendor")).unwrap();
    write(
        &d,
        "50-psk.reg",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\AddProviders]\n\
         \"vendor/libsspi_psk.so\"=\"the PSK package\"\n\n\
         [HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\Psk]\n\"Key\"=\"k\"\n",
    );
    write(
        &d,
        "60-other.reg",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\AddProviders]\n\"builtin:other\"=\"\"\n",
    );
    let config = SecurityConfig::load(&[&base]).unwrap();
    assert_eq!(
        names(&config),
        [
            "sspi_test.dll",
            "sspi_ntlm.dll",
            "vendor/libsspi_psk.so",
            "builtin:other"
        ]
    );
    let psk = &config.providers()[2];
    // Relative to the drop-in that named it, and located at its own line.
    assert_eq!(
        psk.library,
        LibrarySpec::File {
            name: "vendor/libsspi_psk.so".into(),
            base_dir: d.clone()
        }
    );
    assert_eq!(
        (&*psk.location.file, psk.location.line),
        (d.join("50-psk.reg").as_path(), 2)
    );
    assert!(config.package_key("Psk").is_some());
}

#[test]
fn an_added_provider_already_listed_is_an_error_naming_both() {
    let dir = temp_dir("overlay-dup");
    let base = write(&dir, "sspi.reg", BASE);
    let extra = write(
        &dir,
        "extra.reg",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\AddProviders]\n\"SSPI_NTLM.dll\"=\"\"\n",
    );
    let error = SecurityConfig::load(&[&base, &extra]).unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with(&format!(
            "{}:2:1: library \"SSPI_NTLM.dll\" is already a provider (set at {}:4:",
            extra.display(),
            base.display()
        )),
        "{text}"
    );
    assert!(matches!(error, RegistryError::Config { .. }));

    let bad = write(
        &dir,
        "bad.reg",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\AddProviders]\n\"x.dll\"=dword:1\n",
    );
    let text = SecurityConfig::load(&[&base, &bad])
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("bad.reg:2:1") && text.contains("found REG_DWORD"),
        "{text}"
    );
}

#[test]
fn an_empty_providers_list_is_fine_when_overlays_add_some() {
    let dir = temp_dir("overlay-empty");
    let base = write(
        &dir,
        "sspi.reg",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\"Providers\"=\"\"\n",
    );
    let error = SecurityConfig::load(&[&base]).unwrap_err().to_string();
    assert!(error.contains("lists no provider library"), "{error}");
    let d = dir.join("sspi.reg.d");
    std::fs::create_dir(&d).unwrap();
    write(
        &d,
        "a.reg",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\AddProviders]\n\"sspi_test.dll\"=\"\"\n",
    );
    let config = SecurityConfig::load(&[&base]).unwrap();
    assert_eq!(names(&config), ["sspi_test.dll"]);
}

#[test]
fn a_drop_in_with_an_error_is_reported_at_its_own_line() {
    let dir = temp_dir("overlay-error");
    let base = write(&dir, "sspi.reg", BASE);
    let d = dir.join("sspi.reg.d");
    std::fs::create_dir(&d).unwrap();
    let broken = write(&d, "10-broken.reg", "[HKLM\\A]\n\"x\"=dword:zz\n");
    let text = SecurityConfig::load(&[&base]).unwrap_err().to_string();
    assert!(
        text.starts_with(&format!("{}:2:", broken.display())),
        "{text}"
    );
    assert!(Path::new(&d).is_dir());
}

#[test]
fn added_libraries_are_pinned_like_listed_ones() {
    let dir = temp_dir("overlay-pin");
    let base = write(
        &dir,
        "sspi.reg",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\"Providers\"=\"builtin:test\"\n\"RequireDigests\"=dword:1\n",
    );
    let d = dir.join("sspi.reg.d");
    std::fs::create_dir(&d).unwrap();
    let drop_in = write(
        &d,
        "50-psk.reg",
        "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\AddProviders]\n\"sspi_psk.dll\"=\"\"\n",
    );
    let text = SecurityConfig::load(&[&base]).unwrap_err().to_string();
    assert!(
        text.contains("\"RequireDigests\" is set but library \"sspi_psk.dll\" has no digest"),
        "{text}"
    );
    let pin = format!("sha256:{}", "ab".repeat(32));
    std::fs::write(
        &drop_in,
        format!(
            "[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\AddProviders]\n\"sspi_psk.dll\"=\"\"\n\n\
             [HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders\\LibraryDigests]\n\"sspi_psk.dll\"=\"{pin}\"\n"
        ),
    )
    .unwrap();
    let config = SecurityConfig::load(&[&base]).unwrap();
    assert_eq!(
        config.providers()[1].digest.as_ref().map(|d| d.sha256),
        Some([0xab; 32])
    );
}
