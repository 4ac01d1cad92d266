//! `sspi registry check` and the host resolve libraries through one
//! `SearchPath`: what the check reports is what the host loads.

use sspi_plugin_host::resolve::{SearchOrigin, SearchPath};
use sspi_plugin_host::{PackageSource, SecurityHost, Unavailable};
use sspi_registry::SecurityConfig;
use std::path::{Path, PathBuf};

fn plugin_dir() -> PathBuf {
    // target/debug/deps/<test> → target/debug
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_owned()
}

fn config(dir: &Path, extra: &str) -> SecurityConfig {
    let path = dir.join("sspi.reg");
    std::fs::write(
        &path,
        format!(
            "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\"Providers\"=\"sspi_fixture_future_version.dll\"\n{extra}"
        ),
    )
    .unwrap();
    SecurityConfig::load(&[&path]).unwrap()
}

fn loaded_from(host: &SecurityHost) -> Option<PathBuf> {
    match host.enumerate_security_packages()[0].source() {
        PackageSource::Plugin { path, .. } => path.clone(),
        PackageSource::Builtin { .. } => None,
    }
}

#[test]
fn the_check_finds_the_file_the_host_loads() {
    let dir = tempfile::tempdir().unwrap();
    let libs = dir.path().join("libs");
    std::fs::create_dir(&libs).unwrap();
    let file = format!(
        "{}sspi_fixture_future_version{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    std::fs::copy(plugin_dir().join(&file), libs.join(&file)).unwrap();
    // LibraryPath comes before the program's directory, which also has one.
    let config = config(dir.path(), "\"LibraryPath\"=\"libs\"\n");
    let search = SearchPath::new(config.library_path());
    let checked = SecurityHost::check_provider_files(&config, &search);
    let resolved = checked[0].checked.as_ref().unwrap();
    assert_eq!(resolved.path, libs.join(&file).canonicalize().unwrap());
    assert_eq!(
        resolved.found_in.as_ref().map(|(_, o)| *o),
        Some(SearchOrigin::LibraryPath)
    );
    let host = SecurityHost::from_config_with(config, &search);
    assert_eq!(loaded_from(&host).as_ref(), Some(&resolved.path));
}

#[test]
fn as_another_program_both_miss_what_only_this_program_would_find() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "");
    // As this test binary: found beside it (its directory's parent).
    let here = SearchPath::new(config.library_path());
    let found = SecurityHost::check_provider_files(&config, &here);
    let resolved = found[0].checked.as_ref().unwrap();
    assert_eq!(
        resolved.found_in.as_ref().map(|(_, o)| *o),
        Some(SearchOrigin::Program)
    );
    // As an application elsewhere: neither the check nor the host finds it.
    let app = dir.path().join("bin/app");
    let there = SearchPath::for_program(config.library_path(), Some(&app));
    let checked = SecurityHost::check_provider_files(&config, &there);
    assert!(matches!(
        checked[0].checked,
        Err(Unavailable::NotFound { .. })
    ));
    let host = SecurityHost::from_config_with(config, &there);
    assert!(matches!(
        host.enumerate_security_packages()[0].unavailable(),
        Some(Unavailable::NotFound { looked_in, .. }) if looked_in.contains(&dir.path().join("bin"))
    ));
    assert_eq!(loaded_from(&host), None);
}
