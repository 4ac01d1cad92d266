//! Per-message calls through the C table allocate nothing: MakeSignature,
//! VerifySignature, EncryptMessage and DecryptMessage on 1 KiB, 200 rounds
//! each way, counted by an interposed `malloc` that every library of the
//! process (libsspi.so and the plugin included) binds to. A control first
//! proves the counter sees libsspi.so's own allocations.

mod common;

use common::{acquire, c_handshake};
use sspi_c_abi::*;
use std::ffi::c_void;
use std::ptr::null_mut;

sspi_testkit::count_allocations!();

fn desc(buffers: &mut [SecBuffer]) -> SecBufferDesc {
    SecBufferDesc {
        ul_version: 0,
        c_buffers: buffers.len() as u32,
        p_buffers: buffers.as_mut_ptr(),
    }
}

fn buffer(buffer_type: u32, data: &mut [u8]) -> SecBuffer {
    SecBuffer {
        cb_buffer: data.len() as u32,
        buffer_type,
        pv_buffer: data.as_mut_ptr() as *mut c_void,
    }
}

#[test]
fn per_message_calls_through_the_table_allocate_nothing() {
    // SAFETY: this workspace's libsspi.so (the default registry: the shipped one).
    let lib = unsafe { libloading::Library::new(common::libsspi()) }.unwrap();
    // SAFETY: the symbol has this type.
    let t = unsafe {
        &*lib
            .get::<InitSecurityInterfaceFnW>(b"InitSecurityInterfaceW")
            .unwrap()()
    };
    let (mut client_cred, mut server_cred) = (
        acquire(t, SECPKG_CRED_OUTBOUND),
        acquire(t, SECPKG_CRED_INBOUND),
    );
    let (mut client, mut server) = c_handshake(t, &mut client_cred, &mut server_cred);

    let mut names = SecPkgContext_NamesW {
        s_user_name: null_mut(),
    };
    let control = sspi_testkit::alloc::measure(|| {
        // SAFETY: a SecPkgContext_NamesW to fill.
        let status = unsafe {
            t.query_context_attributes_w.unwrap()(
                &mut server,
                SECPKG_ATTR_NAMES,
                &mut names as *mut _ as *mut c_void,
            )
        };
        assert_eq!(status, 0);
    });
    assert!(
        control > 0,
        "the interposed malloc must see libsspi.so's allocations"
    );
    // SAFETY: the library allocated it.
    assert_eq!(
        unsafe { t.free_context_buffer.unwrap()(names.s_user_name as *mut c_void) },
        0
    );

    let mut data = vec![0x5Au8; 1024];
    let mut signature = [0u8; 64];
    let mut trailer = [0u8; 64];
    let mut failures = 0;
    let mut qop = 0;
    let allocations = sspi_testkit::alloc::measure(|| {
        for round in 0..400 {
            let (from, to): (*mut CtxtHandle, *mut CtxtHandle) = if round % 2 == 0 {
                (&mut client, &mut server)
            } else {
                (&mut server, &mut client)
            };
            let mut signed = [buffer(1, &mut data), buffer(2, &mut signature)];
            let mut message = desc(&mut signed);
            // SAFETY: live handles and descriptors over live buffers.
            unsafe {
                failures += i32::from(t.make_signature.unwrap()(from, 0, &mut message, 0) != 0);
                failures +=
                    i32::from(t.verify_signature.unwrap()(to, &mut message, 0, &mut qop) != 0);
            }
            let mut sealed = [buffer(2, &mut trailer), buffer(1, &mut data)];
            let mut message = desc(&mut sealed);
            // SAFETY: as above.
            unsafe {
                failures += i32::from(t.encrypt_message.unwrap()(from, 0, &mut message, 0) != 0);
                failures +=
                    i32::from(t.decrypt_message.unwrap()(to, &mut message, 0, &mut qop) != 0);
            }
        }
    });
    assert_eq!(failures, 0, "every call succeeded");
    assert_eq!(
        allocations, 0,
        "per-message calls through the table allocated {allocations} times"
    );
    assert!(
        data.iter().all(|&b| b == 0x5A),
        "every message opened to its plaintext"
    );
}
