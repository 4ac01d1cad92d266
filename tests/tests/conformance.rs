//! The conformance kit (`sspi-testkit`) on every shipped package, loaded as
//! plugins through registry files: Test, NTLM, Kerberos (against the embedded
//! KDC), Negotiate (Kerberos inside, and NTLM) and the Example package (from a drop-in overlay file layered on a base
//! file) pass every rule, and `sspi selftest` prints them; the Broken
//! fixture fails the rules it breaks, each named in its message.

#[path = "common/kerberos_fixture.rs"]
mod kerberos;
#[path = "common/negotiate_fixture.rs"]
mod negotiate;

use sspi_core::AuthIdentity;
use sspi_plugin_host::SecurityHost;
use sspi_testkit::{Configuration, Outcome, Report, Rule};
use sspi_tests::{RegistryFile, registry_text};

// Every allocation of the process counts, the plugins' included.
sspi_testkit::count_allocations!();

/// Runs the kit and asserts that every rule passed (none skipped on glibc)
/// except the `known` failures, which must fail with a message containing
/// the text given.
fn assert_conforms_except(
    host: &SecurityHost,
    package: &str,
    configurations: &[Configuration],
    known: &[(Rule, &str)],
) -> Report {
    let report = sspi_testkit::run(host, package, configurations);
    print!("{report}");
    let failures: Vec<String> = report
        .failures()
        .filter(|r| !known.iter().any(|(rule, _)| *rule == r.rule))
        .map(ToString::to_string)
        .collect();
    assert!(
        failures.is_empty(),
        "{package} fails the kit:\n{}",
        failures.join("\n")
    );
    for config in configurations {
        for (rule, why) in known {
            let result = report.result(*rule, &config.name).unwrap();
            assert!(
                matches!(&result.outcome, Outcome::Fail(m) if m.contains(why)),
                "known failure fixed or changed (update this test): {result}"
            );
        }
    }
    assert_eq!(report.results.len(), Rule::ALL.len() * configurations.len());
    if cfg!(all(target_os = "linux", target_env = "gnu")) {
        let skipped: Vec<String> = report
            .results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Skipped(_)))
            .map(ToString::to_string)
            .collect();
        assert!(skipped.is_empty(), "rules skipped:\n{}", skipped.join("\n"));
    }
    report
}

/// Every rule passes.
fn assert_conforms(host: &SecurityHost, package: &str, configurations: &[Configuration]) -> Report {
    assert_conforms_except(host, package, configurations, &[])
}

#[test]
fn the_test_package_conforms() {
    let registry = RegistryFile::new(&registry_text("sspi_test.dll", 3, false));
    let bob = AuthIdentity::new("bob", "SSPI-PLUG", "bob-password");
    assert_conforms(
        &registry.host(),
        "Test",
        &[
            Configuration::default(),
            Configuration::named("bob").with_identity(bob),
        ],
    );
    // Five legs with CompleteAuthToken on every token.
    let registry = RegistryFile::new(&registry_text("sspi_test.dll", 5, true));
    assert_conforms(
        &registry.host(),
        "Test",
        &[Configuration::named("5 legs, CompleteAuthToken")],
    );
}

#[test]
fn the_ntlm_package_conforms() {
    let registry = RegistryFile::new(
        r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_ntlm.dll"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM]
"NbComputerName"="SERVER"
"NbDomainName"="SSPI-PLUG"
"DefaultDomain"="SSPI-PLUG"
"DefaultUser"="alice"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM\Users\alice]
"Password"="alice-password"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\NTLM\Users\bob]
"Password"="bob-password"
"#,
    );
    let bob = AuthIdentity::new("bob", "SSPI-PLUG", "bob-password");
    // The kit found two defects here, now fixed: a NEGOTIATE cut inside its
    // field descriptors was accepted (NTLM's parser), and so were tokens
    // longer than cbMaxToken (the engine now refuses them for every package).
    assert_conforms_except(
        &registry.host(),
        "NTLM",
        &[
            Configuration::default(),
            Configuration::named("bob").with_identity(bob),
        ],
        &[],
    );
}

#[test]
fn the_kerberos_package_conforms() {
    let realm = kerberos::realm_with(|_| {}, "\"ReplayCachePath\"=\"replay.rcache\"\n");
    let bob = AuthIdentity::new("bob", kerberos::REALM, "bob-password");
    assert_conforms(
        &realm.host(),
        "Kerberos",
        &[
            Configuration::default().with_target(kerberos::SERVICE),
            Configuration::named("bob")
                .with_identity(bob)
                .with_target(kerberos::SERVICE),
        ],
    );
}

/// The base registry (the Test package) and an overlay, a drop-in of its
/// `sspi.reg.d/`, that installs the Example package without restating
/// `Providers`.
const BASE: &str = r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders]
"Providers"="sspi_test.dll"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Test]
"DefaultUser"="alice"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Test\Users\alice]
"Password"="alice-password"
"#;

const EXAMPLE_OVERLAY: &str = r#"Windows Registry Editor Version 5.00

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\AddProviders]
"sspi_example.dll"="the Example package"

[HKEY_LOCAL_MACHINE\Comm\SecurityProviders\Example]
"Key"=hex:4b,9f,0e,21,73,c8,5a,d6,10,e2,88,3b,47,f1,6c,95,\
  2d,b0,7e,c4,19,a3,56,e8,0f,72,bd,31,9a,64,c7,08
"DefaultUser"="alice"
"#;

/// Writes `text` as `sspi.reg.d/50-example.reg` beside the base registry.
#[test]
fn the_negotiate_package_conforms() {
    // Kerberos inside (the embedded KDC answers), and NTLM inside: once
    // narrowed by a PackageList, once because the KDC is down.
    let site = negotiate::site(negotiate::Kdc::Running, "");
    assert_conforms(
        &site.host(),
        "Negotiate",
        &[
            Configuration::named("Kerberos").with_target(negotiate::SERVICE),
            Configuration::named("PackageList ntlm")
                .with_identity(AuthIdentity::package_list_only("ntlm"))
                .with_target(negotiate::SERVICE),
        ],
    );
    let site = negotiate::site(negotiate::Kdc::Down, "");
    assert_conforms(
        &site.host(),
        "Negotiate",
        &[Configuration::named("NTLM after a fallback").with_target(negotiate::SERVICE)],
    );
}

fn install_drop_in(base: &RegistryFile, text: &str) {
    let dir = base.dir.path().join("sspi.reg.d");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("50-example.reg"), text).unwrap();
}

#[test]
fn the_example_package_conforms_installed_by_an_overlay() {
    let base = RegistryFile::new(BASE);
    install_drop_in(&base, EXAMPLE_OVERLAY);
    let host = base.host();
    let carol = AuthIdentity::new("carol", "", "");
    assert_conforms(
        &host,
        "Example",
        &[
            Configuration::default(),
            Configuration::named("carol").with_identity(carol),
        ],
    );
    // The base's package is still there beside it.
    assert!(host.query_security_package_info("Test").is_ok());
}

#[test]
fn the_broken_fixture_fails_naming_each_rule_it_breaks() {
    let registry = RegistryFile::new(
        "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\"Providers\"=\"sspi_fixture_broken.dll\"\n",
    );
    let report = sspi_testkit::run(&registry.host(), "Broken", &[Configuration::default()]);
    print!("{report}");
    let printed = report.to_string();
    let broken = [
        (
            Rule::Tampering,
            "VerifySignature with one bit of DATA (byte 31 of 32) changed was accepted (expected SEC_E_MESSAGE_ALTERED)",
        ),
        (
            Rule::Replay,
            "the same message again was accepted (expected SEC_E_OUT_OF_SEQUENCE)",
        ),
        (
            Rule::Reordering,
            "the second message first was accepted (expected SEC_E_OUT_OF_SEQUENCE)",
        ),
        (
            Rule::GarbageToken,
            "random bytes of the same length returned SEC_E_INTERNAL_ERROR",
        ),
        (Rule::TruncatedToken, "returned SEC_E_INTERNAL_ERROR"),
        (Rule::NoAllocation, "made 200 allocation(s)"),
    ];
    for (rule, why) in broken {
        let result = report.result(rule, "default identity").unwrap();
        match &result.outcome {
            Outcome::Fail(message) => assert!(message.contains(why), "{rule}: {message}"),
            other => panic!("{rule} should fail, got {other:?}"),
        }
        assert!(
            printed.contains(&format!("FAIL {:<16} [default identity]", rule.name())),
            "{printed}"
        );
    }
    for rule in [Rule::GarbageToken, Rule::TruncatedToken] {
        let line = report.result(rule, "default identity").unwrap().to_string();
        assert!(line.contains("the package panicked"), "{line}");
    }
    // What the engine enforces holds even for this package (it refuses a
    // token longer than cbMaxToken before the package could panic on it).
    for rule in [
        Rule::OversizedToken,
        Rule::Handshake,
        Rule::WrongSide,
        Rule::OutOfOrder,
        Rule::BufferTooSmall,
    ] {
        let result = report.result(rule, "default identity").unwrap();
        assert!(matches!(result.outcome, Outcome::Pass(_)), "{result}");
    }
    assert!(!report.passed());
    assert_eq!(report.failures().count(), broken.len());
}

/// `sspi selftest` (the binary cargo built beside the tests) on an
/// installed package: one line per rule, exit status 0 or 1.
#[test]
fn sspi_selftest_prints_one_line_per_rule_and_its_exit_status() {
    let sspi = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("sspi");
    assert!(
        sspi.exists(),
        "run `cargo build --workspace` first: {} is missing",
        sspi.display()
    );
    let base = RegistryFile::new(
        "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\Comm\\SecurityProviders]\n\"Providers\"=\"sspi_fixture_broken.dll\"\n",
    );
    install_drop_in(&base, EXAMPLE_OVERLAY);
    let registry = base.path.display().to_string();
    for (package, code, summary) in [
        ("Example", 0, "Example: 11 rule result(s), 0 failed"),
        ("Broken", 1, "Broken: 11 rule result(s), 6 failed"),
    ] {
        let output = std::process::Command::new(&sspi)
            .args(["--registry", &registry, "selftest", "--package", package])
            .env_remove("SSPI_REGISTRY")
            .env_remove("SSPI_PLUGIN_PATH")
            .env_remove("SSPI_FILE_CHECKS")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(code), "{package}:\n{stdout}");
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), Rule::ALL.len() + 1, "{stdout}");
        for (line, rule) in lines.iter().zip(Rule::ALL) {
            assert!(line[5..].starts_with(rule.name()), "{line}");
        }
        assert_eq!(lines.last(), Some(&summary), "{stdout}");
    }
    let output = std::process::Command::new(&sspi)
        .args(["--registry", &registry, "selftest", "--package", "Missing"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no security package named Missing"),
        "{stderr}"
    );
}
