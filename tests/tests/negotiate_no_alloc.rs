//! Per-message calls through a Negotiate context allocate nothing —
//! MakeSignature, VerifySignature, EncryptMessage and DecryptMessage, both
//! ways, with Kerberos and with NTLM negotiated — counted in every library of
//! the process, the Negotiate, Kerberos and NTLM plugins included (see
//! `common/counting_malloc.rs`, whose control measurement proves the
//! plugins' allocations are seen).
#![cfg(all(target_os = "linux", target_env = "gnu"))]

#[path = "common/negotiate_fixture.rs"]
mod fixture;

#[path = "common/counting_malloc.rs"]
mod counting_malloc;

use fixture::{Kdc, SERVICE, client, server};
use sspi_core::AuthIdentity;
use sspi_plugin_host::loopback::{self, CompletedHandshake};
use sspi_tests::{ASC_REQ, ISC_REQ};

/// A complete Negotiate handshake, checked to have negotiated `package` on both sides.
fn negotiated(
    host: &sspi_plugin_host::SecurityHost,
    identity: Option<AuthIdentity>,
    package: &str,
) -> CompletedHandshake {
    let (c, s) = (
        client(host, "Negotiate", identity),
        server(host, "Negotiate", None),
    );
    let done = loopback::handshake(&c, &s, Some(SERVICE), ISC_REQ, ASC_REQ).expect("handshake");
    for side in [&done.client, &done.server] {
        assert_eq!(side.package_name(), "Negotiate");
        let info = side
            .negotiation_info()
            .expect("NEGOTIATION_INFO")
            .expect("a Negotiate context says what it negotiated");
        assert_eq!(info.package.name.as_str(), package);
    }
    done
}

#[test]
fn negotiate_per_message_calls_allocate_nothing() {
    let site = fixture::site(Kdc::Running, "");
    let host = site.host();

    let mut kerberos = negotiated(&host, None, "Kerberos");
    counting_malloc::assert_per_message_calls_allocate_nothing(&mut kerberos);

    let mut ntlm = negotiated(&host, Some(AuthIdentity::package_list_only("ntlm")), "NTLM");
    counting_malloc::assert_per_message_calls_allocate_nothing(&mut ntlm);
}
