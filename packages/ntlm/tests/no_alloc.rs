//! The four per-message calls allocate nothing, through the leg engine,
//! on success and on every kind of refusal (a counting global allocator;
//! `tests/tests/ntlm.rs` counts inside the plugin too).

mod common;

use common::{Context, parameters, sz};
use sspi_core::{AscReq, CredentialUse, IscReq, Qop, SecBuffer, SecBufferRef, SecurityStatus};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ARMED.try_with(|armed| {
        if armed.get() {
            let _ = COUNT.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: forwards to the system allocator unchanged; the counters are
// constant-initialised thread-locals, which neither allocate nor lock.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// How many allocations `f` made on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    COUNT.with(|n| n.set(0));
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    COUNT.with(Cell::get)
}

fn established() -> (Context, Context) {
    let package = common::open(&parameters(vec![
        ("", "DefaultUser", sz("alice")),
        (r"Users\alice", "Password", sz("pw")),
    ]))
    .unwrap();
    let mut client = package
        .credentials(CredentialUse::OUTBOUND, None)
        .unwrap()
        .client(Some("host/x"), IscReq::PROTECTED_CONNECTION)
        .unwrap();
    let mut server = package
        .credentials(CredentialUse::INBOUND, None)
        .unwrap()
        .server(AscReq::PROTECTED_CONNECTION)
        .unwrap();
    let mut token: Vec<u8> = Vec::new();
    for leg in 0..4 {
        let mut out = vec![0u8; sspi_package_ntlm::MAX_TOKEN];
        let input = [SecBufferRef::token(&token)];
        let mut output = [SecBuffer::token(&mut out)];
        if leg % 2 == 0 {
            client.isc(&input[..leg.min(1)], &mut output).unwrap();
        } else {
            server.asc(&input, &mut output).unwrap();
        }
        token = output[0].as_slice().to_vec();
    }
    (client, server)
}

#[test]
fn per_message_calls_allocate_nothing() {
    let (mut client, mut server) = established();
    let mut data = vec![0x5Au8; 4096];
    let mut token = [0u8; 16];
    let mut results = Vec::with_capacity(64);
    let n = allocations(|| {
        for _ in 0..10 {
            let mut message = [SecBuffer::token(&mut token), SecBuffer::data(&mut data)];
            results.push(client.encrypt_message(Qop::DEFAULT, &mut message));
            results.push(server.decrypt_message(&mut message));
            let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
            results.push(server.make_signature(Qop::DEFAULT, &mut message));
            results.push(client.verify_signature(&mut message));
        }
    });
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(n, 0, "successful per-message calls allocated {n} times");

    // Refusals: a replay, a tampered signature, a short TOKEN buffer.
    let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut token)];
    client.make_signature(Qop::DEFAULT, &mut message).unwrap();
    let signature = token;
    server
        .verify_signature(&mut [SecBuffer::data(&mut data), SecBuffer::token(&mut token)])
        .unwrap();
    results.clear();
    let mut short = [0u8; 8];
    let n = allocations(|| {
        let mut replay = signature;
        results.push(
            server
                .verify_signature(&mut [SecBuffer::data(&mut data), SecBuffer::token(&mut replay)]),
        );
        client
            .make_signature(
                Qop::DEFAULT,
                &mut [SecBuffer::data(&mut data), SecBuffer::token(&mut token)],
            )
            .unwrap();
        token[5] ^= 1;
        results.push(
            server
                .verify_signature(&mut [SecBuffer::data(&mut data), SecBuffer::token(&mut token)]),
        );
        results.push(client.make_signature(
            Qop::DEFAULT,
            &mut [SecBuffer::data(&mut data), SecBuffer::token(&mut short)],
        ));
    });
    let statuses: Vec<_> = results.iter().map(|r| r.unwrap_err().status()).collect();
    assert_eq!(
        statuses,
        [
            SecurityStatus::SEC_E_OUT_OF_SEQUENCE,
            SecurityStatus::SEC_E_MESSAGE_ALTERED,
            SecurityStatus::SEC_E_BUFFER_TOO_SMALL
        ]
    );
    assert_eq!(n, 0, "refused per-message calls allocated {n} times");
}
