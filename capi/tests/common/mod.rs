//! What the libsspi tests share: the tools they need (gcc, python3), the
//! libraries cargo built, and compiling the C samples.
#![allow(dead_code)]

use sspi_c_abi::*;
use std::ffi::c_void;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::ptr::null_mut;

/// The clone's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The target directory the test runs from (`target/debug`).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

/// target/<profile>/libsspi.so, which `cargo build --workspace` makes.
pub fn libsspi() -> PathBuf {
    let lib = target_dir().join("libsspi.so");
    assert!(
        lib.is_file(),
        "run `cargo build --workspace` first: {} is missing",
        lib.display()
    );
    // `cargo test` does not rebuild a cdylib: refuse to test an old one.
    let built = lib.metadata().and_then(|m| m.modified()).unwrap();
    let src = root().join("capi/src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let changed = path.metadata().and_then(|m| m.modified()).unwrap();
        assert!(
            changed <= built,
            "{} is older than {}: run `cargo build --workspace` first",
            lib.display(),
            path.display()
        );
    }
    lib
}

/// The `sspi` command cargo built beside the tests.
pub fn sspi() -> PathBuf {
    let sspi = target_dir().join("sspi");
    assert!(
        sspi.is_file(),
        "run `cargo build --workspace` first: {} is missing",
        sspi.display()
    );
    sspi
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// `program` (an absolute path or a name on PATH) when it runs; `None`
/// after a loud notice, or a failure under CI (`CI=true`).
pub fn require(program: &str, test: &str) -> Option<PathBuf> {
    let found = if Path::new(program).is_absolute() {
        Some(PathBuf::from(program)).filter(|p| p.is_file())
    } else {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    };
    if let Some(found) = found {
        return Some(found);
    }
    if ci() {
        panic!(
            "{test}: {program} is not installed; CI must run scripts/mit-krb5/install.sh (it installs gcc and python3)"
        );
    }
    eprintln!(
        "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
         !! SKIPPED {test}: {program} is not installed.\n\
         !! Install it with scripts/mit-krb5/install.sh to run the C ABI tests.\n\
         !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
    );
    None
}

/// Compiles `sources` (paths relative to the clone) into `out` with gcc,
/// against capi/include/sspi.h and libsspi.so (`-lsspi`, with an rpath to it).
pub fn compile(gcc: &Path, sources: &[&str], out: &Path) {
    let lib_dir = libsspi().parent().unwrap().to_path_buf();
    let root = root();
    let mut command = Command::new(gcc);
    command
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-g"])
        .arg("-I")
        .arg(root.join("capi/include"));
    for source in sources {
        command.arg(root.join(source));
    }
    let output = command
        .arg("-o")
        .arg(out)
        .arg("-L")
        .arg(&lib_dir)
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .arg("-lsspi")
        .output()
        .expect("gcc runs");
    assert!(
        output.status.success(),
        "gcc {sources:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// ISC_REQ_* and ASC_REQ_* of a protected connection.
const REQ: ULONG = 0x2 | 0x4 | 0x8 | 0x10 | 0x800 | 0x10000;
const AREQ: ULONG = 0x2 | 0x4 | 0x8 | 0x10 | 0x800 | 0x20000;

pub fn acquire(t: &SecurityFunctionTableW, use_: ULONG) -> CredHandle {
    let mut name = sspi_c_abi::wide::to_wide("Test");
    let mut cred = SecHandle::default();
    // SAFETY: valid arguments.
    let status = unsafe {
        t.acquire_credentials_handle_w.unwrap()(
            null_mut(),
            name.as_mut_ptr(),
            use_,
            null_mut(),
            null_mut(),
            None,
            null_mut(),
            &mut cred,
            null_mut(),
        )
    };
    assert_eq!(status, 0);
    cred
}

/// A whole handshake through the C table, as a C program writes it (one
/// output buffer of cbMaxToken per side); returns the two contexts.
pub fn c_handshake(
    t: &SecurityFunctionTableW,
    client_cred: &mut CredHandle,
    server_cred: &mut CredHandle,
) -> (CtxtHandle, CtxtHandle) {
    let (mut client, mut server) = (SecHandle::default(), SecHandle::default());
    let mut a = [0u8; 1024];
    let mut b = [0u8; 1024];
    let mut token_len = 0u32;
    let (mut client_first, mut server_first, mut client_done) = (true, true, false);
    loop {
        if !client_done {
            let mut in_buf = SecBuffer {
                cb_buffer: token_len,
                buffer_type: 2,
                pv_buffer: b.as_mut_ptr() as *mut c_void,
            };
            let mut in_desc = SecBufferDesc {
                ul_version: 0,
                c_buffers: 1,
                p_buffers: &mut in_buf,
            };
            let mut out_buf = SecBuffer {
                cb_buffer: 1024,
                buffer_type: 2,
                pv_buffer: a.as_mut_ptr() as *mut c_void,
            };
            let mut out_desc = SecBufferDesc {
                ul_version: 0,
                c_buffers: 1,
                p_buffers: &mut out_buf,
            };
            let mut attrs = 0;
            // SAFETY: valid arguments.
            let status = unsafe {
                t.initialize_security_context_w.unwrap()(
                    client_cred,
                    if client_first {
                        null_mut()
                    } else {
                        &mut client
                    },
                    null_mut(),
                    REQ,
                    0,
                    0x10,
                    if client_first {
                        null_mut()
                    } else {
                        &mut in_desc
                    },
                    0,
                    &mut client,
                    &mut out_desc,
                    &mut attrs,
                    null_mut(),
                )
            };
            assert!(status >= 0, "{status:#x}");
            client_first = false;
            client_done = status == 0;
            token_len = out_buf.cb_buffer;
            if token_len == 0 {
                break;
            }
        }
        let mut in_buf = SecBuffer {
            cb_buffer: token_len,
            buffer_type: 2,
            pv_buffer: a.as_mut_ptr() as *mut c_void,
        };
        let mut in_desc = SecBufferDesc {
            ul_version: 0,
            c_buffers: 1,
            p_buffers: &mut in_buf,
        };
        let mut out_buf = SecBuffer {
            cb_buffer: 1024,
            buffer_type: 2,
            pv_buffer: b.as_mut_ptr() as *mut c_void,
        };
        let mut out_desc = SecBufferDesc {
            ul_version: 0,
            c_buffers: 1,
            p_buffers: &mut out_buf,
        };
        let mut attrs = 0;
        // SAFETY: valid arguments.
        let status = unsafe {
            t.accept_security_context.unwrap()(
                server_cred,
                if server_first {
                    null_mut()
                } else {
                    &mut server
                },
                &mut in_desc,
                AREQ,
                0x10,
                &mut server,
                &mut out_desc,
                &mut attrs,
                null_mut(),
            )
        };
        assert!(status >= 0, "{status:#x}");
        server_first = false;
        token_len = out_buf.cb_buffer;
        if token_len == 0 && client_done {
            break;
        }
    }
    (client, server)
}
