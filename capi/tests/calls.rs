//! libsspi.so called as a C program calls it: loaded with dlopen, every
//! call through the tables InitSecurityInterfaceW / A return. The library
//! finds its registry by the default rule (no SSPI_REGISTRY): beside
//! `target/debug/libsspi.so` that is the clone's shipped `config/sspi.reg`,
//! whose Test and NTLM packages these tests use.

mod common;

use sspi_c_abi::wide::to_wide;
use sspi_c_abi::*;
use sspi_core::SecurityStatus;
use std::ffi::c_void;
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

struct Lib {
    _lib: libloading::Library,
    w: &'static SecurityFunctionTableW,
    a: &'static SecurityFunctionTableA,
}

fn lib() -> &'static Lib {
    static LIB: OnceLock<Lib> = OnceLock::new();
    LIB.get_or_init(|| {
        assert!(
            std::env::var_os("SSPI_REGISTRY").is_none(),
            "these tests check the default registry rule: unset SSPI_REGISTRY"
        );
        // SAFETY: libsspi.so is this workspace's library; loading it runs no
        // initialiser besides Rust's own.
        let lib =
            unsafe { libloading::Library::new(common::libsspi()) }.expect("dlopen libsspi.so");
        // SAFETY: the symbols have these types (sspi-c-abi, checked by tests/layout.rs).
        let (w, a) = unsafe {
            let w = lib
                .get::<InitSecurityInterfaceFnW>(b"InitSecurityInterfaceW")
                .unwrap()();
            let a = lib
                .get::<InitSecurityInterfaceFnA>(b"InitSecurityInterfaceA")
                .unwrap()();
            (&*w, &*a)
        };
        Lib { _lib: lib, w, a }
    })
}

const OK: i32 = 0;
fn s(status: SecurityStatus) -> i32 {
    status.0
}

const REQ: ULONG = 0x2 | 0x4 | 0x8 | 0x10 | 0x800 | 0x10000; // ISC_REQ_* of a protected connection
const AREQ: ULONG = 0x2 | 0x4 | 0x8 | 0x10 | 0x800 | 0x20000; // ASC_REQ_*
const ALLOCATE: ULONG = 0x100;

fn acquire(package: &str, use_: ULONG, auth: *mut c_void) -> Result<CredHandle, i32> {
    let t = lib().w;
    let mut package = to_wide(package);
    let mut cred = SecHandle::default();
    let mut expiry = TimeStamp::default();
    // SAFETY: valid strings and out-pointers.
    let status = unsafe {
        t.acquire_credentials_handle_w.unwrap()(
            null_mut(),
            package.as_mut_ptr(),
            use_,
            null_mut(),
            auth,
            None,
            null_mut(),
            &mut cred,
            &mut expiry,
        )
    };
    if status == OK {
        assert_eq!(expiry.to_i64(), i64::MAX, "never expires");
        Ok(cred)
    } else {
        Err(status)
    }
}

struct Established {
    client: CtxtHandle,
    server: CtxtHandle,
    client_flags: ULONG,
    server_flags: ULONG,
    legs: usize,
}

/// A whole handshake through the W table; `allocate`: ISC/ASC_REQ_ALLOCATE_MEMORY.
fn handshake(
    client_cred: &mut CredHandle,
    server_cred: &mut CredHandle,
    allocate: bool,
) -> Result<Established, i32> {
    handshake_bound(client_cred, server_cred, allocate, None, None)
}

/// [`handshake`], each side's input with a SECBUFFER_CHANNEL_BINDINGS buffer
/// beside the token when given.
fn handshake_bound(
    client_cred: &mut CredHandle,
    server_cred: &mut CredHandle,
    allocate: bool,
    client_bindings: Option<&[u8]>,
    server_bindings: Option<&[u8]>,
) -> Result<Established, i32> {
    let t = lib().w;
    let mut client_bindings = client_bindings.map(<[u8]>::to_vec);
    let mut server_bindings = server_bindings.map(<[u8]>::to_vec);
    let bindings_buffer = |b: &mut Option<Vec<u8>>| match b {
        Some(b) => SecBuffer {
            cb_buffer: b.len() as u32,
            buffer_type: 14,
            pv_buffer: b.as_mut_ptr() as _,
        },
        None => SecBuffer {
            cb_buffer: 0,
            buffer_type: 0,
            pv_buffer: null_mut(),
        },
    };
    let (mut client, mut server) = (SecHandle::default(), SecHandle::default());
    let (mut have_client, mut have_server) = (false, false);
    let mut token: Vec<u8> = Vec::new();
    let mut legs = 0;
    let (mut client_flags, mut server_flags) = (0, 0);
    let (mut client_done, mut server_done) = (false, false);
    let extra = if allocate { ALLOCATE } else { 0 };
    loop {
        // Client leg.
        if !client_done {
            let mut out = vec![0u8; 64 * 1024];
            let mut in_buf = [
                SecBuffer {
                    cb_buffer: token.len() as u32,
                    buffer_type: 2,
                    pv_buffer: token.as_mut_ptr() as _,
                },
                bindings_buffer(&mut client_bindings),
            ];
            let mut in_desc = SecBufferDesc {
                ul_version: 0,
                c_buffers: 2,
                p_buffers: in_buf.as_mut_ptr(),
            };
            let mut out_buf = if allocate {
                SecBuffer {
                    cb_buffer: 0,
                    buffer_type: 2,
                    pv_buffer: null_mut(),
                }
            } else {
                SecBuffer {
                    cb_buffer: out.len() as u32,
                    buffer_type: 2,
                    pv_buffer: out.as_mut_ptr() as _,
                }
            };
            let mut out_desc = SecBufferDesc {
                ul_version: 0,
                c_buffers: 1,
                p_buffers: &mut out_buf,
            };
            let mut expiry = TimeStamp::default();
            let ctx_ptr: *mut CtxtHandle = if have_client { &mut client } else { null_mut() };
            // SAFETY: valid handles, descriptors and out-pointers.
            let status = unsafe {
                t.initialize_security_context_w.unwrap()(
                    client_cred,
                    ctx_ptr,
                    null_mut(),
                    REQ | extra,
                    0,
                    SECURITY_NATIVE_DREP,
                    if have_client {
                        &mut in_desc
                    } else {
                        null_mut()
                    },
                    0,
                    &mut client,
                    &mut out_desc,
                    &mut client_flags,
                    &mut expiry,
                )
            };
            if status < 0 {
                return Err(status);
            }
            have_client = true;
            legs += 1;
            client_done = status == OK;
            token = if out_buf.cb_buffer == 0 {
                Vec::new()
            } else {
                // SAFETY: the library set cb_buffer bytes at pv_buffer.
                unsafe {
                    std::slice::from_raw_parts(
                        out_buf.pv_buffer as *const u8,
                        out_buf.cb_buffer as usize,
                    )
                }
                .to_vec()
            };
            if allocate {
                if out_buf.cb_buffer > 0 {
                    assert_ne!(client_flags & ALLOCATE, 0, "ISC_RET_ALLOCATED_MEMORY");
                    assert_ne!(out_buf.pv_buffer as *mut u8, out.as_mut_ptr());
                }
                // SAFETY: the library allocated it (or it is NULL).
                assert_eq!(
                    unsafe { t.free_context_buffer.unwrap()(out_buf.pv_buffer) },
                    OK
                );
            }
        }
        if token.is_empty() && client_done && server_done {
            break;
        }
        if token.is_empty() {
            if client_done && !server_done {
                return Err(-1);
            }
            continue;
        }
        // Server leg.
        let mut out = vec![0u8; 64 * 1024];
        let mut in_buf = [
            SecBuffer {
                cb_buffer: token.len() as u32,
                buffer_type: 2,
                pv_buffer: token.as_mut_ptr() as _,
            },
            bindings_buffer(&mut server_bindings),
        ];
        let mut in_desc = SecBufferDesc {
            ul_version: 0,
            c_buffers: 2,
            p_buffers: in_buf.as_mut_ptr(),
        };
        let mut out_buf = if allocate {
            SecBuffer {
                cb_buffer: 0,
                buffer_type: 2,
                pv_buffer: null_mut(),
            }
        } else {
            SecBuffer {
                cb_buffer: out.len() as u32,
                buffer_type: 2,
                pv_buffer: out.as_mut_ptr() as _,
            }
        };
        let mut out_desc = SecBufferDesc {
            ul_version: 0,
            c_buffers: 1,
            p_buffers: &mut out_buf,
        };
        let mut expiry = TimeStamp::default();
        let ctx_ptr: *mut CtxtHandle = if have_server { &mut server } else { null_mut() };
        // SAFETY: as above.
        let status = unsafe {
            t.accept_security_context.unwrap()(
                server_cred,
                ctx_ptr,
                &mut in_desc,
                AREQ | extra,
                SECURITY_NATIVE_DREP,
                &mut server,
                &mut out_desc,
                &mut server_flags,
                &mut expiry,
            )
        };
        if status < 0 {
            return Err(status);
        }
        have_server = true;
        legs += 1;
        server_done = status == OK;
        token = if out_buf.cb_buffer == 0 {
            Vec::new()
        } else {
            // SAFETY: as above.
            unsafe {
                std::slice::from_raw_parts(
                    out_buf.pv_buffer as *const u8,
                    out_buf.cb_buffer as usize,
                )
            }
            .to_vec()
        };
        if allocate {
            // SAFETY: as above.
            assert_eq!(
                unsafe { t.free_context_buffer.unwrap()(out_buf.pv_buffer) },
                OK
            );
        }
        if token.is_empty() && client_done && server_done {
            break;
        }
    }
    Ok(Established {
        client,
        server,
        client_flags,
        server_flags,
        legs,
    })
}

fn test_pair() -> (CredHandle, CredHandle) {
    (
        acquire("Test", SECPKG_CRED_OUTBOUND, null_mut()).expect("client credentials"),
        acquire("Test", SECPKG_CRED_INBOUND, null_mut()).expect("server credentials"),
    )
}

fn query<T>(ctx: &mut CtxtHandle, attribute: ULONG, value: &mut T) -> i32 {
    // SAFETY: `value` is the attribute's structure.
    unsafe {
        lib().w.query_context_attributes_w.unwrap()(ctx, attribute, value as *mut T as *mut c_void)
    }
}

fn wide_text(ptr: *const u16) -> String {
    // SAFETY: a NUL-terminated string the library returned.
    unsafe { sspi_c_abi::wide::read_wide(ptr) }
        .unwrap()
        .unwrap()
}

/// MakeSignature / VerifySignature / EncryptMessage / DecryptMessage on `data`.
fn sign(ctx: &mut CtxtHandle, data: &mut [u8], signature: &mut [u8]) -> (i32, u32) {
    let mut buffers = [
        SecBuffer {
            cb_buffer: data.len() as u32,
            buffer_type: 1,
            pv_buffer: data.as_mut_ptr() as _,
        },
        SecBuffer {
            cb_buffer: signature.len() as u32,
            buffer_type: 2,
            pv_buffer: signature.as_mut_ptr() as _,
        },
    ];
    let mut desc = SecBufferDesc {
        ul_version: 0,
        c_buffers: 2,
        p_buffers: buffers.as_mut_ptr(),
    };
    // SAFETY: valid descriptor over live buffers.
    let status = unsafe { lib().w.make_signature.unwrap()(ctx, 0, &mut desc, 0) };
    (status, buffers[1].cb_buffer)
}

fn verify(ctx: &mut CtxtHandle, data: &mut [u8], signature: &mut [u8]) -> i32 {
    let mut buffers = [
        SecBuffer {
            cb_buffer: data.len() as u32,
            buffer_type: 1,
            pv_buffer: data.as_mut_ptr() as _,
        },
        SecBuffer {
            cb_buffer: signature.len() as u32,
            buffer_type: 2,
            pv_buffer: signature.as_mut_ptr() as _,
        },
    ];
    let mut desc = SecBufferDesc {
        ul_version: 0,
        c_buffers: 2,
        p_buffers: buffers.as_mut_ptr(),
    };
    let mut qop = 7;
    // SAFETY: as above.
    let status = unsafe { lib().w.verify_signature.unwrap()(ctx, &mut desc, 0, &mut qop) };
    if status == OK {
        assert_eq!(qop, 0);
    }
    status
}

#[test]
fn the_tables_have_version_2_and_every_slot_filled() {
    let (w, a) = (lib().w, lib().a);
    assert_eq!(w.dw_version, SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2);
    assert_eq!(a.dw_version, SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2);
    // Every slot but the reserved ones is a function: read the table as words.
    let words = |p: *const u8, len: usize| -> Vec<usize> {
        // SAFETY: the tables are `len` bytes of pointer-aligned words after dwVersion.
        (1..len / size_of::<usize>())
            .map(|i| unsafe { *(p as *const usize).add(i) })
            .collect()
    };
    let reserved = [5, 18, 19, 23]; // Reserved2, Reserved3, Reserved4, Reserved8 (slot numbers)
    for table in [
        words(
            w as *const _ as *const u8,
            size_of::<SecurityFunctionTableW>(),
        ),
        words(
            a as *const _ as *const u8,
            size_of::<SecurityFunctionTableA>(),
        ),
    ] {
        assert_eq!(table.len(), 27, "slots 1..=27");
        for (i, word) in table.iter().enumerate() {
            let slot = i + 1;
            assert_eq!(*word == 0, reserved.contains(&slot), "slot {slot}");
        }
    }
    // Shared slots are the same functions in both tables.
    assert_eq!(
        w.make_signature.map(|f| f as usize),
        a.make_signature.map(|f| f as usize)
    );
    // The unsupported ones say so.
    let mut handle = SecHandle::default();
    // SAFETY: the unsupported slots never read their arguments.
    unsafe {
        assert_eq!(
            w.impersonate_security_context.unwrap()(&mut handle),
            s(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION)
        );
        assert_eq!(
            w.revert_security_context.unwrap()(&mut handle),
            s(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION)
        );
        assert_eq!(
            w.apply_control_token.unwrap()(&mut handle, null_mut()),
            s(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION)
        );
        assert_eq!(
            w.query_security_context_token.unwrap()(&mut handle, null_mut()),
            s(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION)
        );
        assert_eq!(
            w.set_context_attributes_w.unwrap()(&mut handle, 0, null_mut(), 0),
            s(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION)
        );
        assert_eq!(
            a.add_credentials_a.unwrap()(
                &mut handle,
                null_mut(),
                null_mut(),
                0,
                null_mut(),
                None,
                null_mut(),
                null_mut()
            ),
            s(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION)
        );
    }
}

#[test]
fn packages_are_enumerated_and_queried_in_both_forms_and_freed() {
    let (w, a) = (lib().w, lib().a);
    let mut count = 0;
    let mut infos: *mut SecPkgInfoW = null_mut();
    // SAFETY: out-pointers.
    assert_eq!(
        unsafe { w.enumerate_security_packages_w.unwrap()(&mut count, &mut infos) },
        OK
    );
    // SAFETY: `count` entries at `infos`.
    let list = unsafe { std::slice::from_raw_parts(infos, count as usize) };
    let names: Vec<String> = list.iter().map(|i| wide_text(i.name)).collect();
    for expected in ["Test", "NTLM", "Kerberos", "Negotiate"] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }
    let ntlm = list.iter().find(|i| wide_text(i.name) == "NTLM").unwrap();
    assert_eq!(ntlm.cb_max_token, 2888);
    // SAFETY: freeing what the library returned; then a second time.
    unsafe {
        assert_eq!(w.free_context_buffer.unwrap()(infos as _), OK);
        assert_eq!(
            w.free_context_buffer.unwrap()(infos as _),
            s(SecurityStatus::SEC_E_INVALID_HANDLE),
            "twice"
        );
    }
    let mut infos_a: *mut SecPkgInfoA = null_mut();
    // SAFETY: out-pointers; the names are NUL-terminated.
    unsafe {
        assert_eq!(
            a.enumerate_security_packages_a.unwrap()(&mut count, &mut infos_a),
            OK
        );
        let first = &*infos_a;
        assert_eq!(
            sspi_c_abi::wide::read_narrow(first.name).unwrap().unwrap(),
            names[0]
        );
        assert_eq!(a.free_context_buffer.unwrap()(infos_a as _), OK);
        let mut one: *mut SecPkgInfoW = null_mut();
        let mut name = to_wide("ntlm");
        assert_eq!(
            w.query_security_package_info_w.unwrap()(name.as_mut_ptr(), &mut one),
            OK,
            "case-insensitive"
        );
        assert_eq!(wide_text((*one).name), "NTLM");
        assert_eq!(w.free_context_buffer.unwrap()(one as _), OK);
        let mut missing = to_wide("NoSuchPackage");
        assert_eq!(
            w.query_security_package_info_w.unwrap()(missing.as_mut_ptr(), &mut one),
            s(SecurityStatus::SEC_E_SECPKG_NOT_FOUND)
        );
        let mut one_a: *mut SecPkgInfoA = null_mut();
        let mut name_a = sspi_c_abi::wide::to_narrow("Test");
        assert_eq!(
            a.query_security_package_info_a.unwrap()(name_a.as_mut_ptr(), &mut one_a),
            OK
        );
        assert_eq!((*one_a).cb_max_token, 1024);
        assert_eq!(a.free_context_buffer.unwrap()(one_a as _), OK);
        // Memory the library did not allocate is refused, not freed.
        let mut mine = [0u8; 16];
        assert_eq!(
            w.free_context_buffer.unwrap()(mine.as_mut_ptr() as _),
            s(SecurityStatus::SEC_E_INVALID_HANDLE)
        );
        assert_eq!(w.free_context_buffer.unwrap()(null_mut()), OK);
    }
}

#[test]
fn a_handshake_signs_seals_and_answers_every_attribute() {
    for allocate in [false, true] {
        let (mut client_cred, mut server_cred) = test_pair();
        let mut e = handshake(&mut client_cred, &mut server_cred, allocate).expect("handshake");
        assert_eq!(
            e.legs, 5,
            "the shipped Test package runs 4 legs plus the last empty one"
        );
        assert_ne!(e.client_flags & 0x2, 0, "ISC_RET_MUTUAL_AUTH");
        assert_ne!(e.server_flags & 0x20000, 0, "ASC_RET_INTEGRITY");
        assert_eq!(e.client_flags & ALLOCATE != 0, allocate);
        let mut sizes = SecPkgContext_Sizes::default();
        assert_eq!(query(&mut e.client, SECPKG_ATTR_SIZES, &mut sizes), OK);
        assert_eq!(
            (
                sizes.cb_max_token,
                sizes.cb_max_signature,
                sizes.cb_security_trailer
            ),
            (1024, 44, 28)
        );
        let mut names = SecPkgContext_NamesW {
            s_user_name: null_mut(),
        };
        assert_eq!(query(&mut e.server, SECPKG_ATTR_NAMES, &mut names), OK);
        assert_eq!(wide_text(names.s_user_name), r"SSPI-PLUG\alice");
        // SAFETY: freeing what the library returned.
        assert_eq!(
            unsafe { lib().w.free_context_buffer.unwrap()(names.s_user_name as _) },
            OK
        );
        let mut names_a = SecPkgContext_NamesA {
            s_user_name: null_mut(),
        };
        // SAFETY: the A form writes a SecPkgContext_NamesA.
        unsafe {
            assert_eq!(
                lib().a.query_context_attributes_a.unwrap()(
                    &mut e.client,
                    SECPKG_ATTR_NAMES,
                    &mut names_a as *mut _ as _
                ),
                OK
            );
            assert_eq!(
                sspi_c_abi::wide::read_narrow(names_a.s_user_name)
                    .unwrap()
                    .unwrap(),
                r"SSPI-PLUG\alice"
            );
            assert_eq!(
                lib().a.free_context_buffer.unwrap()(names_a.s_user_name as _),
                OK
            );
        }
        let mut lifespan = SecPkgContext_Lifespan::default();
        assert_eq!(
            query(&mut e.client, SECPKG_ATTR_LIFESPAN, &mut lifespan),
            OK
        );
        assert!(lifespan.ts_expiry.to_i64() > lifespan.ts_start.to_i64());
        let mut key = SecPkgContext_SessionKey {
            session_key_length: 0,
            session_key: null_mut(),
        };
        let mut server_key = SecPkgContext_SessionKey {
            session_key_length: 0,
            session_key: null_mut(),
        };
        assert_eq!(query(&mut e.client, SECPKG_ATTR_SESSION_KEY, &mut key), OK);
        assert_eq!(
            query(&mut e.server, SECPKG_ATTR_SESSION_KEY, &mut server_key),
            OK
        );
        // SAFETY: the library returned these lengths at these pointers.
        unsafe {
            assert!(key.session_key_length >= 16);
            assert_eq!(
                std::slice::from_raw_parts(key.session_key, key.session_key_length as usize),
                std::slice::from_raw_parts(
                    server_key.session_key,
                    server_key.session_key_length as usize
                ),
                "both sides hold the same session key"
            );
            assert_eq!(
                lib().w.free_context_buffer.unwrap()(key.session_key as _),
                OK
            );
            assert_eq!(
                lib().w.free_context_buffer.unwrap()(server_key.session_key as _),
                OK
            );
        }
        let mut package = SecPkgContext_PackageInfoW {
            package_info: null_mut(),
        };
        assert_eq!(
            query(&mut e.client, SECPKG_ATTR_PACKAGE_INFO, &mut package),
            OK
        );
        // SAFETY: a SecPkgInfoW the library allocated.
        unsafe {
            assert_eq!(wide_text((*package.package_info).name), "Test");
            assert_eq!(
                lib().w.free_context_buffer.unwrap()(package.package_info as _),
                OK
            );
        }
        let mut negotiation = SecPkgContext_NegotiationInfoW {
            package_info: null_mut(),
            negotiation_state: 0,
        };
        assert_eq!(
            query(
                &mut e.client,
                SECPKG_ATTR_NEGOTIATION_INFO,
                &mut negotiation
            ),
            s(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION),
            "Test does not negotiate"
        );
        let mut flags = SecPkgContext_Flags::default();
        assert_eq!(query(&mut e.server, SECPKG_ATTR_FLAGS, &mut flags), OK);
        assert_ne!(flags.flags & 0x20000, 0, "ASC_RET_INTEGRITY");
        assert_eq!(
            query(&mut e.server, 99, &mut flags),
            s(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION)
        );
        let mut cred_names = SecPkgContext_NamesW {
            s_user_name: null_mut(),
        };
        // SAFETY: SecPkgCredentials_NamesW has the same layout.
        unsafe {
            assert_eq!(
                lib().w.query_credentials_attributes_w.unwrap()(
                    &mut client_cred,
                    SECPKG_CRED_ATTR_NAMES,
                    &mut cred_names as *mut _ as _
                ),
                OK
            );
            assert_eq!(wide_text(cred_names.s_user_name), r"SSPI-PLUG\alice");
            assert_eq!(
                lib().w.free_context_buffer.unwrap()(cred_names.s_user_name as _),
                OK
            );
        }

        // Sign and verify, then a tampered message and a replay.
        let mut data = *b"a message to sign";
        let mut signature = [0u8; 64];
        let (status, len) = sign(&mut e.client, &mut data, &mut signature);
        assert_eq!(
            (status, len),
            (OK, 44),
            "the TOKEN buffer is shrunk to the signature"
        );
        let mut sig = signature[..len as usize].to_vec();
        assert_eq!(verify(&mut e.server, &mut data, &mut sig), OK);
        let (status, _) = sign(&mut e.client, &mut data, &mut signature);
        assert_eq!(status, OK);
        let mut sig = signature[..44].to_vec();
        data[0] ^= 1;
        assert_eq!(
            verify(&mut e.server, &mut data, &mut sig),
            s(SecurityStatus::SEC_E_MESSAGE_ALTERED)
        );
        data[0] ^= 1;
        assert_eq!(
            verify(&mut e.server, &mut data, &mut sig),
            OK,
            "a forged message does not move the counter"
        );
        assert_eq!(
            verify(&mut e.server, &mut data, &mut sig),
            s(SecurityStatus::SEC_E_OUT_OF_SEQUENCE)
        );

        // Seal on the server, open on the client, in place.
        let plain = *b"sealed both ways";
        let mut message = plain;
        let mut trailer = [0u8; 28];
        let mut buffers = [
            SecBuffer {
                cb_buffer: 28,
                buffer_type: 2,
                pv_buffer: trailer.as_mut_ptr() as _,
            },
            SecBuffer {
                cb_buffer: message.len() as u32,
                buffer_type: 1,
                pv_buffer: message.as_mut_ptr() as _,
            },
        ];
        let mut desc = SecBufferDesc {
            ul_version: 0,
            c_buffers: 2,
            p_buffers: buffers.as_mut_ptr(),
        };
        let mut qop = 1;
        // SAFETY: valid descriptors over live buffers.
        unsafe {
            assert_eq!(
                lib().w.encrypt_message.unwrap()(&mut e.server, 0, &mut desc, 0),
                OK
            );
            assert_ne!(message, plain, "encrypted in place");
            assert_eq!(
                lib().w.decrypt_message.unwrap()(&mut e.client, &mut desc, 0, &mut qop),
                OK
            );
        }
        assert_eq!((message, qop), (plain, 0));

        // SAFETY: handles the library gave.
        unsafe {
            assert_eq!(lib().w.delete_security_context.unwrap()(&mut e.client), OK);
            assert_eq!(lib().w.delete_security_context.unwrap()(&mut e.server), OK);
            assert_eq!(
                lib().w.free_credentials_handle.unwrap()(&mut client_cred),
                OK
            );
            assert_eq!(
                lib().w.free_credentials_handle.unwrap()(&mut server_cred),
                OK
            );
        }
    }
}

#[test]
fn null_freed_foreign_and_wrong_kind_handles_are_invalid_handle() {
    let w = lib().w;
    let (mut client_cred, mut server_cred) = test_pair();
    let mut e = handshake(&mut client_cred, &mut server_cred, false).unwrap();
    let invalid = s(SecurityStatus::SEC_E_INVALID_HANDLE);
    let mut data = [1u8; 8];
    let mut signature = [0u8; 64];
    let mut flags = SecPkgContext_Flags::default();
    let mut zero = SecHandle::default();
    let mut minus_one = SecHandle::INVALID;
    let mut foreign = SecHandle {
        dw_lower: e.client.dw_lower,
        dw_upper: e.client.dw_upper ^ 0x100,
    };
    let mut cred_as_context = client_cred;
    let mut context_as_cred = e.server;
    for (what, handle) in [
        ("zero", &mut zero),
        ("invalid", &mut minus_one),
        ("foreign", &mut foreign),
        ("credentials", &mut cred_as_context),
    ] {
        assert_eq!(sign(handle, &mut data, &mut signature).0, invalid, "{what}");
        assert_eq!(
            query(handle, SECPKG_ATTR_FLAGS, &mut flags),
            invalid,
            "{what}"
        );
        // SAFETY: a readable handle.
        assert_eq!(
            unsafe { w.delete_security_context.unwrap()(handle) },
            invalid,
            "{what}"
        );
    }
    // SAFETY: NULL and wrong-kind handles are refused before anything is read through them.
    unsafe {
        assert_eq!(w.delete_security_context.unwrap()(null_mut()), invalid);
        assert_eq!(
            w.make_signature.unwrap()(null_mut(), 0, null_mut(), 0),
            invalid
        );
        assert_eq!(w.free_credentials_handle.unwrap()(null_mut()), invalid);
        assert_eq!(
            w.free_credentials_handle.unwrap()(&mut context_as_cred),
            invalid,
            "a context is not credentials"
        );
        // A context handle as credentials of a first leg.
        let mut out = [0u8; 1024];
        let mut out_buf = SecBuffer {
            cb_buffer: 1024,
            buffer_type: 2,
            pv_buffer: out.as_mut_ptr() as _,
        };
        let mut out_desc = SecBufferDesc {
            ul_version: 0,
            c_buffers: 1,
            p_buffers: &mut out_buf,
        };
        let mut new = SecHandle::default();
        assert_eq!(
            w.initialize_security_context_w.unwrap()(
                &mut context_as_cred,
                null_mut(),
                null_mut(),
                REQ,
                0,
                0,
                null_mut(),
                0,
                &mut new,
                &mut out_desc,
                null_mut(),
                null_mut()
            ),
            invalid
        );
        assert_eq!(new, SecHandle::default(), "no context was made");
    }
    // Freed handles, and their copies, stay invalid.
    let copy = e.client;
    // SAFETY: handles the library gave.
    unsafe {
        assert_eq!(w.delete_security_context.unwrap()(&mut e.client), OK);
        assert_eq!(
            w.delete_security_context.unwrap()(&mut e.client),
            invalid,
            "freed"
        );
    }
    let mut copy = copy;
    assert_eq!(
        sign(&mut copy, &mut data, &mut signature).0,
        invalid,
        "a copy of a freed handle"
    );
    // The server side still works; FreeCredentialsHandle leaves contexts alone.
    // SAFETY: handles the library gave.
    unsafe {
        assert_eq!(w.free_credentials_handle.unwrap()(&mut server_cred), OK);
        assert_eq!(
            w.free_credentials_handle.unwrap()(&mut server_cred),
            invalid,
            "freed"
        );
    }
    assert_eq!(query(&mut e.server, SECPKG_ATTR_FLAGS, &mut flags), OK);
    // SAFETY: handles the library gave.
    unsafe {
        assert_eq!(w.delete_security_context.unwrap()(&mut e.server), OK);
        assert_eq!(w.free_credentials_handle.unwrap()(&mut client_cred), OK);
    }
}

#[test]
fn bad_descriptors_are_refused_with_windows_statuses() {
    let w = lib().w;
    let (mut client_cred, mut server_cred) = test_pair();
    let mut e = handshake(&mut client_cred, &mut server_cred, false).unwrap();
    let mut data = [7u8; 32];
    let mut signature = [0u8; 64];
    let mut call = |version: u32, count: u32, buffers: *mut SecBuffer| {
        let mut desc = SecBufferDesc {
            ul_version: version,
            c_buffers: count,
            p_buffers: buffers,
        };
        // SAFETY: the library checks the descriptor before using it.
        unsafe { w.make_signature.unwrap()(&mut e.client, 0, &mut desc, 0) }
    };
    let good = |data: &mut [u8], signature: &mut [u8]| {
        [
            SecBuffer {
                cb_buffer: data.len() as u32,
                buffer_type: 1,
                pv_buffer: data.as_mut_ptr() as _,
            },
            SecBuffer {
                cb_buffer: signature.len() as u32,
                buffer_type: 2,
                pv_buffer: signature.as_mut_ptr() as _,
            },
        ]
    };
    let mut buffers = good(&mut data, &mut signature);
    assert_eq!(
        call(1, 2, buffers.as_mut_ptr()),
        s(SecurityStatus::SEC_E_INVALID_TOKEN),
        "wrong version"
    );
    assert_eq!(
        call(0, 2, null_mut()),
        s(SecurityStatus::SEC_E_INVALID_PARAMETER),
        "NULL pBuffers"
    );
    assert_eq!(
        call(0, 100_000, buffers.as_mut_ptr()),
        s(SecurityStatus::SEC_E_INVALID_PARAMETER),
        "absurd count"
    );
    buffers[0].pv_buffer = null_mut();
    assert_eq!(
        call(0, 2, buffers.as_mut_ptr()),
        s(SecurityStatus::SEC_E_INVALID_PARAMETER),
        "NULL pvBuffer"
    );
    let mut buffers = good(&mut data, &mut signature);
    buffers[1].pv_buffer = data[16..].as_mut_ptr() as _;
    buffers[1].cb_buffer = 16;
    assert_eq!(
        call(0, 2, buffers.as_mut_ptr()),
        s(SecurityStatus::SEC_E_INVALID_PARAMETER),
        "overlapping buffers"
    );
    let mut buffers = good(&mut data, &mut signature);
    buffers[1].cb_buffer = 1;
    assert_eq!(
        call(0, 2, buffers.as_mut_ptr()),
        s(SecurityStatus::SEC_E_BUFFER_TOO_SMALL),
        "the package's own check"
    );
    let mut buffers = good(&mut data, &mut signature);
    assert_eq!(
        call(0, 2, buffers.as_mut_ptr()),
        OK,
        "the sequence number was not used by the refusals"
    );
    let mut sig = signature[..44].to_vec();
    assert_eq!(verify(&mut e.server, &mut data, &mut sig), OK);
    // SAFETY: a NULL descriptor is refused.
    assert_eq!(
        unsafe { w.verify_signature.unwrap()(&mut e.server, null_mut(), 0, null_mut()) },
        s(SecurityStatus::SEC_E_INVALID_PARAMETER)
    );
    // A handshake leg whose input token overlaps its output buffer.
    let (mut c2, _) = test_pair();
    let mut mem = [0u8; 2048];
    let base = mem.as_mut_ptr();
    let mut in_buf = SecBuffer {
        cb_buffer: 100,
        buffer_type: 2,
        pv_buffer: base as _,
    };
    let mut in_desc = SecBufferDesc {
        ul_version: 0,
        c_buffers: 1,
        p_buffers: &mut in_buf,
    };
    // SAFETY: inside `mem`.
    let mut out_buf = SecBuffer {
        cb_buffer: 1024,
        buffer_type: 2,
        pv_buffer: unsafe { base.add(50) } as _,
    };
    let mut out_desc = SecBufferDesc {
        ul_version: 0,
        c_buffers: 1,
        p_buffers: &mut out_buf,
    };
    let mut new = SecHandle::default();
    // SAFETY: valid pointers; the overlap is refused before any use.
    let status = unsafe {
        w.initialize_security_context_w.unwrap()(
            &mut c2,
            null_mut(),
            null_mut(),
            REQ,
            0,
            0,
            &mut in_desc,
            0,
            &mut new,
            &mut out_desc,
            null_mut(),
            null_mut(),
        )
    };
    assert_eq!(status, s(SecurityStatus::SEC_E_INVALID_PARAMETER));
}

/// `SEC_WINNT_AUTH_IDENTITY_EXW` / `_A` / `_W` with explicit users, in the W and A calls.
#[test]
fn auth_identities_in_every_form_select_the_user() {
    let mut user = to_wide("bob");
    let mut domain = to_wide("SSPI-PLUG");
    let mut password = to_wide("bob-demo-password");
    let mut ex = SEC_WINNT_AUTH_IDENTITY_EXW {
        version: SEC_WINNT_AUTH_IDENTITY_VERSION,
        length: size_of::<SEC_WINNT_AUTH_IDENTITY_EXW>() as u32,
        user: user.as_mut_ptr(),
        user_length: 3,
        domain: domain.as_mut_ptr(),
        domain_length: 9,
        password: password.as_mut_ptr(),
        password_length: 17,
        flags: SEC_WINNT_AUTH_IDENTITY_UNICODE,
        package_list: null_mut(),
        package_list_length: 0,
    };
    let mut server = acquire("Test", SECPKG_CRED_INBOUND, null_mut()).unwrap();
    let mut client = acquire("Test", SECPKG_CRED_OUTBOUND, &mut ex as *mut _ as _).unwrap();
    let mut e = handshake(&mut client, &mut server, false).unwrap();
    let mut names = SecPkgContext_NamesW {
        s_user_name: null_mut(),
    };
    assert_eq!(query(&mut e.server, SECPKG_ATTR_NAMES, &mut names), OK);
    assert_eq!(wide_text(names.s_user_name), r"SSPI-PLUG\bob");

    // The ANSI form through AcquireCredentialsHandleA.
    let mut a_user = *b"bob";
    let mut a_domain = *b"SSPI-PLUG";
    let mut a_password = *b"wrong-password";
    let mut plain = SEC_WINNT_AUTH_IDENTITY_A {
        user: a_user.as_mut_ptr(),
        user_length: 3,
        domain: a_domain.as_mut_ptr(),
        domain_length: 9,
        password: a_password.as_mut_ptr(),
        password_length: a_password.len() as u32,
        flags: SEC_WINNT_AUTH_IDENTITY_ANSI,
    };
    let mut package = sspi_c_abi::wide::to_narrow("Test");
    let mut wrong = SecHandle::default();
    // SAFETY: valid strings, identity and out-pointers.
    let status = unsafe {
        lib().a.acquire_credentials_handle_a.unwrap()(
            null_mut(),
            package.as_mut_ptr(),
            SECPKG_CRED_OUTBOUND,
            null_mut(),
            &mut plain as *mut _ as _,
            None,
            null_mut(),
            &mut wrong,
            null_mut(),
        )
    };
    assert_eq!(status, OK);
    assert_eq!(
        handshake(&mut wrong, &mut server, false).err(),
        Some(s(SecurityStatus::SEC_E_LOGON_DENIED)),
        "bob with a wrong password is refused"
    );
    // Neither flag, or both: not an identity.
    plain.flags = 0;
    assert_eq!(
        acquire("Test", SECPKG_CRED_OUTBOUND, &mut plain as *mut _ as _).err(),
        Some(s(SecurityStatus::SEC_E_UNKNOWN_CREDENTIALS))
    );
    plain.flags = SEC_WINNT_AUTH_IDENTITY_ANSI | SEC_WINNT_AUTH_IDENTITY_UNICODE;
    assert_eq!(
        acquire("Test", SECPKG_CRED_OUTBOUND, &mut plain as *mut _ as _).err(),
        Some(s(SecurityStatus::SEC_E_UNKNOWN_CREDENTIALS))
    );
    // An unpaired surrogate in a UTF-16 user name.
    let mut bad = [0xD800u16, 0];
    let mut w_plain = SEC_WINNT_AUTH_IDENTITY_W {
        user: bad.as_mut_ptr(),
        user_length: 1,
        domain: null_mut(),
        domain_length: 0,
        password: null_mut(),
        password_length: 0,
        flags: SEC_WINNT_AUTH_IDENTITY_UNICODE,
    };
    assert_eq!(
        acquire("Test", SECPKG_CRED_OUTBOUND, &mut w_plain as *mut _ as _).err(),
        Some(s(SecurityStatus::SEC_E_UNKNOWN_CREDENTIALS))
    );
    assert_eq!(
        acquire("NoSuchPackage", SECPKG_CRED_OUTBOUND, null_mut()).err(),
        Some(s(SecurityStatus::SEC_E_SECPKG_NOT_FOUND))
    );
    // SAFETY: a NULL output handle is refused.
    let status = unsafe {
        lib().w.acquire_credentials_handle_w.unwrap()(
            null_mut(),
            to_wide("Test").as_mut_ptr(),
            SECPKG_CRED_OUTBOUND,
            null_mut(),
            null_mut(),
            None,
            null_mut(),
            null_mut(),
            null_mut(),
        )
    };
    assert_eq!(status, s(SecurityStatus::SEC_E_INVALID_PARAMETER));
    let _ = null::<u8>();
}

#[test]
fn ntlm_with_tokens_the_library_allocates() {
    let mut client = acquire("NTLM", SECPKG_CRED_OUTBOUND, null_mut()).unwrap();
    let mut server = acquire("NTLM", SECPKG_CRED_INBOUND, null_mut()).unwrap();
    let mut e = handshake(&mut client, &mut server, true).unwrap();
    assert_eq!(e.legs, 4);
    let mut data = *b"ntlm";
    let mut signature = [0u8; 16];
    assert_eq!(sign(&mut e.server, &mut data, &mut signature), (OK, 16));
    assert_eq!(verify(&mut e.client, &mut data, &mut signature), OK);
}

/// SECBUFFER_CHANNEL_BINDINGS pass through beside the token: NTLM bound to
/// the same bindings on both sides authenticates, to different ones is
/// SEC_E_BAD_BINDINGS at the server.
#[test]
fn channel_bindings_pass_through_to_the_package() {
    let a = sspi_core::sec_channel_bindings(b"tls-server-end-point:AAAA");
    let b = sspi_core::sec_channel_bindings(b"tls-server-end-point:BBBB");
    let mut client = acquire("NTLM", SECPKG_CRED_OUTBOUND, null_mut()).unwrap();
    let mut server = acquire("NTLM", SECPKG_CRED_INBOUND, null_mut()).unwrap();
    assert!(handshake_bound(&mut client, &mut server, false, Some(&a), Some(&a)).is_ok());
    assert_eq!(
        handshake_bound(&mut client, &mut server, false, Some(&a), Some(&b)).err(),
        Some(s(SecurityStatus::SEC_E_BAD_BINDINGS))
    );
}

fn export(ctx: &mut CtxtHandle, flags: ULONG) -> Result<Vec<u8>, i32> {
    let mut packed = SecBuffer {
        cb_buffer: 0,
        buffer_type: 0,
        pv_buffer: null_mut(),
    };
    let mut token: *mut c_void = std::ptr::dangling_mut();
    // SAFETY: valid out-pointers.
    let status =
        unsafe { lib().w.export_security_context.unwrap()(ctx, flags, &mut packed, &mut token) };
    if status != OK {
        return Err(status);
    }
    assert!(token.is_null(), "pToken is set to NULL");
    assert!(packed.cb_buffer > 0);
    // SAFETY: the library returned cb_buffer bytes; then it frees (and wipes) them.
    let blob = unsafe {
        let blob =
            std::slice::from_raw_parts(packed.pv_buffer as *const u8, packed.cb_buffer as usize)
                .to_vec();
        assert_eq!(lib().w.free_context_buffer.unwrap()(packed.pv_buffer), OK);
        blob
    };
    Ok(blob)
}

fn import(package: &str, blob: &mut [u8]) -> Result<CtxtHandle, i32> {
    let mut name = to_wide(package);
    let mut packed = SecBuffer {
        cb_buffer: blob.len() as u32,
        buffer_type: 0,
        pv_buffer: blob.as_mut_ptr() as _,
    };
    let mut ctx = SecHandle::default();
    // SAFETY: valid arguments.
    let status = unsafe {
        lib().w.import_security_context_w.unwrap()(
            name.as_mut_ptr(),
            &mut packed,
            null_mut(),
            &mut ctx,
        )
    };
    if status == OK { Ok(ctx) } else { Err(status) }
}

/// ExportSecurityContext / ImportSecurityContextW through the table: the
/// imported context goes on where the exported one was (its next signature
/// verifies at the peer), DELETE_OLD deletes the old handle, the packed
/// context is refused when altered or given to another package.
#[test]
fn an_exported_context_continues_after_import() {
    for (package, signature_len) in [("Test", 44), ("NTLM", 16)] {
        let mut client_cred = acquire(package, SECPKG_CRED_OUTBOUND, null_mut()).unwrap();
        let mut server_cred = acquire(package, SECPKG_CRED_INBOUND, null_mut()).unwrap();
        let mut e = handshake(&mut client_cred, &mut server_cred, false).unwrap();
        let mut data = *b"before and after the export";
        let mut signature = [0u8; 64];
        assert_eq!(
            sign(&mut e.client, &mut data, &mut signature),
            (OK, signature_len)
        );
        let mut sig = signature[..signature_len as usize].to_vec();
        assert_eq!(verify(&mut e.server, &mut data, &mut sig), OK);

        // Without DELETE_OLD the context stays; unknown or kernel flags are refused.
        let kept = export(&mut e.client, 0).expect("export");
        assert_eq!(
            export(&mut e.client, SECPKG_CONTEXT_EXPORT_TO_KERNEL).err(),
            Some(s(SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION))
        );
        assert_eq!(
            export(&mut e.client, 0x100).err(),
            Some(s(SecurityStatus::SEC_E_INVALID_PARAMETER))
        );
        let mut blob = export(&mut e.client, SECPKG_CONTEXT_EXPORT_DELETE_OLD).expect("export");
        assert_eq!(blob, kept, "nothing was sent in between");
        assert_eq!(
            sign(&mut e.client, &mut data, &mut signature).0,
            s(SecurityStatus::SEC_E_INVALID_HANDLE),
            "DELETE_OLD deleted the old context"
        );

        // Altered, or another package's: refused.
        let mut altered = blob.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert_eq!(
            import(package, &mut altered).err(),
            Some(s(SecurityStatus::SEC_E_INVALID_TOKEN))
        );
        let other = if package == "Test" { "NTLM" } else { "Test" };
        assert_eq!(
            import(other, &mut blob).err(),
            Some(s(SecurityStatus::SEC_E_INVALID_TOKEN))
        );
        assert_eq!(
            import("NoSuchPackage", &mut blob).err(),
            Some(s(SecurityStatus::SEC_E_SECPKG_NOT_FOUND))
        );

        let mut imported = import(package, &mut blob).expect("import");
        assert_eq!(
            sign(&mut imported, &mut data, &mut signature),
            (OK, signature_len)
        );
        let mut sig = signature[..signature_len as usize].to_vec();
        assert_eq!(
            verify(&mut e.server, &mut data, &mut sig),
            OK,
            "the sequence goes on"
        );
        let mut names = SecPkgContext_NamesW {
            s_user_name: null_mut(),
        };
        assert_eq!(query(&mut imported, SECPKG_ATTR_NAMES, &mut names), OK);
        assert_eq!(wide_text(names.s_user_name), r"SSPI-PLUG\alice");
        // SAFETY: freeing what the library returned.
        assert_eq!(
            unsafe { lib().w.free_context_buffer.unwrap()(names.s_user_name as _) },
            OK
        );

        // An imported context is complete: a handshake leg on it is out of sequence.
        let mut out = [0u8; 4096];
        let mut out_buf = SecBuffer {
            cb_buffer: out.len() as u32,
            buffer_type: 2,
            pv_buffer: out.as_mut_ptr() as _,
        };
        let mut out_desc = SecBufferDesc {
            ul_version: 0,
            c_buffers: 1,
            p_buffers: &mut out_buf,
        };
        let mut same = imported;
        // SAFETY: valid arguments.
        let status = unsafe {
            lib().w.initialize_security_context_w.unwrap()(
                null_mut(),
                &mut imported,
                null_mut(),
                REQ,
                0,
                0,
                null_mut(),
                0,
                &mut same,
                &mut out_desc,
                null_mut(),
                null_mut(),
            )
        };
        assert_eq!(status, s(SecurityStatus::SEC_E_OUT_OF_SEQUENCE));
        // SAFETY: handles the library gave.
        unsafe {
            assert_eq!(lib().w.delete_security_context.unwrap()(&mut imported), OK);
            assert_eq!(lib().w.delete_security_context.unwrap()(&mut e.server), OK);
        }
    }
}
