//! capi/samples/ctypes_loop.py: the SSPI loop from Python through
//! libsspi.so with ctypes (client and server in one process), run with
//! /usr/bin/python3 on the shipped registry's Test and NTLM packages
//! (libsspi.so finds `config/sspi.reg` from its own place in the clone).

mod common;

use std::process::Command;

#[test]
fn the_ctypes_example_authenticates_signs_and_seals() {
    let Some(python) = common::require(
        "/usr/bin/python3",
        "the_ctypes_example_authenticates_signs_and_seals",
    ) else {
        return;
    };
    for (package, legs) in [("Test", 5), ("NTLM", 4)] {
        let out = Command::new(&python)
            .arg(common::root().join("capi/samples/ctypes_loop.py"))
            .arg(common::libsspi())
            .arg(package)
            .env_remove("SSPI_REGISTRY")
            .output()
            .expect("python3 runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{package}: stdout:\n{stdout}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            stdout.matches("\nleg ").count() + usize::from(stdout.starts_with("leg ")),
            legs,
            "{stdout}"
        );
        assert!(
            stdout.contains(r"server: authenticated SSPI-PLUG\alice"),
            "{stdout}"
        );
        assert!(
            stdout.contains("tamper:  SEC_E_MESSAGE_ALTERED"),
            "{stdout}"
        );
        assert!(stdout.contains("opened by the client"), "{stdout}");
        assert!(stdout.ends_with("ok\n"), "{stdout}");
    }
}
