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

/// ExportSecurityContext in this process, ImportSecurityContextW in a
/// Python one: the signature the imported context makes verifies at the
/// server context here, one sequence number on from the last one signed
/// before the export.
#[test]
fn a_context_exported_here_signs_in_another_process() {
    let Some(python) = common::require(
        "/usr/bin/python3",
        "a_context_exported_here_signs_in_another_process",
    ) else {
        return;
    };
    use sspi_c_abi::*;
    use std::ptr::null_mut;
    // SAFETY: this workspace's libsspi.so (the default registry: the shipped one).
    let lib = unsafe { libloading::Library::new(common::libsspi()) }.unwrap();
    // SAFETY: the symbol has this type.
    let t = unsafe {
        &*lib
            .get::<InitSecurityInterfaceFnW>(b"InitSecurityInterfaceW")
            .unwrap()()
    };
    let (mut client_cred, mut server_cred) = (
        common::acquire(t, SECPKG_CRED_OUTBOUND),
        common::acquire(t, SECPKG_CRED_INBOUND),
    );
    let (mut client, mut server) = common::c_handshake(t, &mut client_cred, &mut server_cred);
    let sign_verify = |ctx: *mut CtxtHandle, verify: bool, data: &mut [u8], sig: &mut Vec<u8>| {
        let mut buffers = [
            SecBuffer {
                cb_buffer: data.len() as u32,
                buffer_type: 1,
                pv_buffer: data.as_mut_ptr() as _,
            },
            SecBuffer {
                cb_buffer: sig.len() as u32,
                buffer_type: 2,
                pv_buffer: sig.as_mut_ptr() as _,
            },
        ];
        let mut desc = SecBufferDesc {
            ul_version: 0,
            c_buffers: 2,
            p_buffers: buffers.as_mut_ptr(),
        };
        let mut qop = 0;
        // SAFETY: live handles and buffers.
        let status = unsafe {
            if verify {
                t.verify_signature.unwrap()(ctx, &mut desc, 0, &mut qop)
            } else {
                t.make_signature.unwrap()(ctx, 0, &mut desc, 0)
            }
        };
        sig.truncate(buffers[1].cb_buffer as usize);
        status
    };
    let mut first = *b"signed here";
    let mut sig = vec![0u8; 64];
    assert_eq!(sign_verify(&mut client, false, &mut first, &mut sig), 0);
    assert_eq!(sign_verify(&mut server, true, &mut first, &mut sig), 0);

    let mut packed = SecBuffer {
        cb_buffer: 0,
        buffer_type: 0,
        pv_buffer: null_mut(),
    };
    // SAFETY: valid out-pointers; the blob is freed (and wiped) after the copy.
    let blob = unsafe {
        assert_eq!(
            t.export_security_context.unwrap()(
                &mut client,
                SECPKG_CONTEXT_EXPORT_DELETE_OLD,
                &mut packed,
                null_mut()
            ),
            0
        );
        let blob =
            std::slice::from_raw_parts(packed.pv_buffer as *const u8, packed.cb_buffer as usize)
                .to_vec();
        assert_eq!(t.free_context_buffer.unwrap()(packed.pv_buffer), 0);
        blob
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("context.bin");
    std::fs::write(&file, &blob).unwrap();
    let message = "signed in another process";
    let out = Command::new(&python)
        .arg(common::root().join("capi/tests/import_sign.py"))
        .arg(common::libsspi())
        .args(["Test"])
        .arg(&file)
        .arg(message)
        .env_remove("SSPI_REGISTRY")
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hex = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let mut sig: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let mut data = message.as_bytes().to_vec();
    assert_eq!(
        sign_verify(&mut server, true, &mut data, &mut sig),
        0,
        "verified here"
    );
    let mut replay = sig.clone();
    assert_eq!(
        sign_verify(&mut server, true, &mut data, &mut replay),
        sspi_core::SecurityStatus::SEC_E_OUT_OF_SEQUENCE.0,
        "and not twice"
    );
}
