//! The C ABI against the Rust API, in one run: sign+verify of 1 KiB and a
//! whole Test-package handshake, once through the table libsspi.so's
//! InitSecurityInterfaceW returns (called from Rust through the table
//! pointer, as C calls it) and once through sspi-plugin-host directly, on
//! the same plugin (`libsspi_test.so` of this target directory) and the same
//! registry. Prints the ratio of the medians; the goal is ≤ 1.05×.
//!
//! `cargo build --release --workspace && cargo bench -p sspi-capi`

#[path = "../tests/common/mod.rs"]
mod common;

use common::{acquire, c_handshake, target_dir};
use criterion::{Criterion, criterion_group};
use sspi_c_abi::*;
use sspi_core::{CredentialUse, Qop, SecBuffer as RBuffer};
use sspi_plugin_host::SecurityHost;
use sspi_plugin_host::loopback;
use std::ffi::c_void;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One registry for both sides: the Test plugin of this target directory, 4 legs.
fn registry() -> &'static PathBuf {
    static REGISTRY: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &REGISTRY
        .get_or_init(|| {
            let plugin = target_dir().join("libsspi_test.so");
            assert!(
                plugin.is_file(),
                "run `cargo build --release --workspace` first: {} is missing",
                plugin.display()
            );
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("sspi.reg");
            let text = sspi_tests::registry_text(&plugin.display().to_string(), 4, false);
            std::fs::write(&path, text).unwrap();
            (dir, path)
        })
        .1
}

fn table() -> &'static SecurityFunctionTableW {
    static TABLE: OnceLock<(libloading::Library, usize)> = OnceLock::new();
    let (_, table) = TABLE.get_or_init(|| {
        // SAFETY: set before libsspi.so is loaded (it reads it on its first
        // call), while the bench has no other thread.
        unsafe { std::env::set_var("SSPI_REGISTRY", registry()) };
        let path = target_dir().join("libsspi.so");
        // `cargo bench` does not rebuild a cdylib: refuse to measure an old one.
        let built = path
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (run `cargo build --release --workspace`)",
                    path.display()
                )
            });
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for entry in std::fs::read_dir(&src).unwrap() {
            let source = entry.unwrap().path();
            assert!(
                source.metadata().and_then(|m| m.modified()).unwrap() <= built,
                "{} is older than {}: run `cargo build --release --workspace`",
                path.display(),
                source.display()
            );
        }
        // SAFETY: this workspace's libsspi.so.
        let lib = unsafe { libloading::Library::new(&path) }.unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run `cargo build --release --workspace`)",
                path.display()
            )
        });
        // SAFETY: the symbol has this type (capi/tests/layout.rs).
        let table = unsafe {
            lib.get::<InitSecurityInterfaceFnW>(b"InitSecurityInterfaceW")
                .unwrap()()
        };
        (lib, table as usize)
    });
    // SAFETY: a static table of the loaded (never unloaded) library.
    unsafe { &*(*table as *const SecurityFunctionTableW) }
}

fn c_sign_verify(
    t: &SecurityFunctionTableW,
    client: &mut CtxtHandle,
    server: &mut CtxtHandle,
    data: &mut [u8],
    sig: &mut [u8; 64],
) {
    let mut buffers = [
        SecBuffer {
            cb_buffer: data.len() as u32,
            buffer_type: 1,
            pv_buffer: data.as_mut_ptr() as *mut c_void,
        },
        SecBuffer {
            cb_buffer: 64,
            buffer_type: 2,
            pv_buffer: sig.as_mut_ptr() as *mut c_void,
        },
    ];
    let mut desc = SecBufferDesc {
        ul_version: 0,
        c_buffers: 2,
        p_buffers: buffers.as_mut_ptr(),
    };
    let mut qop = 0;
    // SAFETY: valid descriptors over live buffers.
    unsafe {
        assert_eq!((t.make_signature.unwrap())(client, 0, &mut desc, 0), 0);
        assert_eq!(
            (t.verify_signature.unwrap())(server, &mut desc, 0, &mut qop),
            0
        );
    }
}

fn c_handshake_and_delete(
    t: &SecurityFunctionTableW,
    client_cred: &mut CredHandle,
    server_cred: &mut CredHandle,
) {
    let (mut client, mut server) = c_handshake(t, client_cred, server_cred);
    // SAFETY: handles the library gave.
    unsafe {
        t.delete_security_context.unwrap()(&mut client);
        t.delete_security_context.unwrap()(&mut server);
    }
}

/// The median time per iteration of `samples` runs of `iters` calls of `f`.
fn median(samples: usize, iters: u32, f: &mut dyn FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..samples)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed() / iters
        })
        .collect();
    times.sort();
    times[samples / 2]
}

/// C and Rust measured interleaved (so drift hits both alike), alternating
/// which goes first: the median of 8 rounds of per-side medians, and their ratio.
fn ratio(what: &str, iters: u32, c_side: &mut dyn FnMut(), rust_side: &mut dyn FnMut()) {
    let (mut cs, mut rs) = (Vec::new(), Vec::new());
    for round in 0..8 {
        // Alternate which side goes first, so neither always runs warm.
        if round % 2 == 0 {
            cs.push(median(15, iters, c_side));
            rs.push(median(15, iters, rust_side));
        } else {
            rs.push(median(15, iters, rust_side));
            cs.push(median(15, iters, c_side));
        }
    }
    cs.sort();
    rs.sort();
    let (cm, rm) = (cs[4], rs[4]);
    println!(
        "ratio {what}: C table {cm:?} / Rust API {rm:?} = {:.3}x (goal <= 1.05x)",
        cm.as_secs_f64() / rm.as_secs_f64()
    );
}

fn benches(c: &mut Criterion) {
    let t = table();
    let host = SecurityHost::from_registry_files(&[registry()]).expect("registry");
    let rust_client = host
        .acquire_credentials_handle("Test", None, CredentialUse::OUTBOUND, None)
        .unwrap();
    let rust_server = host
        .acquire_credentials_handle("Test", None, CredentialUse::INBOUND, None)
        .unwrap();
    let (mut c_client_cred, mut c_server_cred) = (
        acquire(t, SECPKG_CRED_OUTBOUND),
        acquire(t, SECPKG_CRED_INBOUND),
    );
    let rust_handshake = || {
        loopback::handshake(
            &rust_client,
            &rust_server,
            None,
            sspi_tests::ISC_REQ,
            sspi_tests::ASC_REQ,
        )
        .unwrap()
    };

    let mut data = vec![0x5Au8; 1024];
    let mut sig = [0u8; 64];
    let (mut c_client, mut c_server) = c_handshake(t, &mut c_client_cred, &mut c_server_cred);
    let mut done = rust_handshake();
    let mut rust_sign_verify = |data: &mut [u8], sig: &mut [u8; 64]| {
        let mut buffers = [RBuffer::data(data), RBuffer::token(sig)];
        done.client
            .make_signature(Qop::DEFAULT, &mut buffers, 0)
            .unwrap();
        done.server.verify_signature(&mut buffers, 0).unwrap();
    };

    let mut group = c.benchmark_group("sign+verify 1 KiB");
    group.bench_function("C table", |b| {
        b.iter(|| {
            c_sign_verify(
                t,
                &mut c_client,
                &mut c_server,
                black_box(&mut data),
                &mut sig,
            )
        })
    });
    group.bench_function("Rust API", |b| {
        b.iter(|| rust_sign_verify(black_box(&mut data), &mut sig))
    });
    group.finish();

    let mut group = c.benchmark_group("Test handshake");
    group.bench_function("C table", |b| {
        b.iter(|| c_handshake_and_delete(t, &mut c_client_cred, &mut c_server_cred))
    });
    group.bench_function("Rust API", |b| b.iter(|| black_box(rust_handshake())));
    group.finish();

    let mut data2 = vec![0x5Au8; 1024];
    let mut sig2 = [0u8; 64];
    ratio(
        "sign+verify 1 KiB",
        2000,
        &mut || {
            c_sign_verify(
                t,
                &mut c_client,
                &mut c_server,
                black_box(&mut data),
                &mut sig,
            )
        },
        &mut || rust_sign_verify(black_box(&mut data2), &mut sig2),
    );
    ratio(
        "Test handshake",
        20,
        &mut || c_handshake_and_delete(t, &mut c_client_cred, &mut c_server_cred),
        &mut || {
            black_box(rust_handshake());
        },
    );
}

criterion_group! {
    name = capi;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}

fn main() {
    capi();
    Criterion::default().configure_from_args().final_summary();
}
