//! The KDC's request handler (AS-REQ, TGS-REQ, anything else): never panics;
//! a message with a KDC-REQ tag always gets an answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sspi_kdc::{Database, KdcConfig, KdcState, handle};
use std::sync::OnceLock;

fn state() -> &'static KdcState {
    static STATE: OnceLock<KdcState> = OnceLock::new();
    STATE.get_or_init(|| {
        let db = Database::parse(
            "alice password pw\nhost/svc password svc\nbob nopreauth password b\n",
            "R.TEST",
            "fuzz",
        )
        .expect("database");
        KdcState::new(KdcConfig::new(db)).expect("state")
    })
}

fuzz_target!(|data: &[u8]| {
    let reply = handle(state(), data);
    if matches!(data.first(), Some(0x6a) | Some(0x6c)) {
        assert!(reply.is_some());
    }
});
