//! The kit on the example package and on the broken fixture, both loaded as
//! plugins (built by `cargo build --workspace`) through registry files.

use sspi_plugin_host::SecurityHost;
use sspi_testkit::{Configuration, Outcome, Rule};

sspi_testkit::count_allocations!();

fn host(registry: &str) -> (tempfile::TempDir, SecurityHost) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sspi.reg");
    std::fs::write(&path, registry).unwrap();
    let host = SecurityHost::from_registry_files(&[&path]).unwrap();
    (dir, host)
}

const REGISTRY: &str = r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_example.dll, sspi_fixture_broken.dll"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Example]
"Key"=hex:00,01,02,03,04,05,06,07,08,09,0a,0b,0c,0d,0e,0f,10,11,12,13,14,15,16,17,18,19,1a,1b,1c,1d,1e,1f
"DefaultUser"="alice"
"#;

#[test]
fn example_passes_and_broken_fails() {
    let (_dir, host) = host(REGISTRY);
    let report = sspi_testkit::run(&host, "Example", &[Configuration::default()]);
    print!("{report}");
    assert!(report.passed());
    let report = sspi_testkit::run(&host, "Broken", &[Configuration::default()]);
    print!("{report}");
    for rule in [
        Rule::Tampering,
        Rule::Replay,
        Rule::GarbageToken,
        Rule::NoAllocation,
    ] {
        let result = report.result(rule, "default identity").unwrap();
        assert!(matches!(result.outcome, Outcome::Fail(_)), "{result}");
    }
}
