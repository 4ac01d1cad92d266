//! `sspi-http` driven with raw HTTP/1.1 over TCP and our own client contexts:
//! the 401 challenge, NTLM's three legs on one connection, Kerberos through
//! Negotiate with the AP-REP on the 200, later requests on an authenticated
//! connection, a new connection authenticating again, and the refusals (bad
//! token, over-long header, the cap on half-done handshakes, the time-out).

#[path = "common/http_fixture.rs"]
mod fixture;

use fixture::{Connection, authorization, isc, site};
use sspi_core::{CredentialUse, SecurityStatus};
use sspi_http::HttpAuthConfig;
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle};
use std::time::Duration;

fn client(site: &fixture::Site, package: &str) -> CredentialsHandle {
    site.host()
        .acquire_credentials_handle(package, None, CredentialUse::OUTBOUND, None)
        .expect("client credentials")
}

#[test]
fn a_request_without_authorization_is_challenged_with_negotiate_and_ntlm() {
    let site = site(HttpAuthConfig::default());
    let reply = Connection::open(site.addr).get("/whoami", None);
    assert_eq!(reply.status, 401);
    assert_eq!(reply.challenges, ["Negotiate", "NTLM"]);
    assert!(reply.body.is_empty());
}

/// NTLM's NEGOTIATE → 401 CHALLENGE → AUTHENTICATE → 200 on one connection,
/// then a request without `Authorization` on it is accepted; a new
/// connection is challenged again.
#[test]
fn ntlm_three_legs_on_one_connection_then_the_connection_stays_authenticated() {
    let site = site(HttpAuthConfig::default());
    let credentials = client(&site, "NTLM");
    let mut context = None;
    let mut connection = Connection::open(site.addr);
    let (status, negotiate) = isc(&credentials, &mut context, None);
    assert_eq!(status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    let reply = connection.get("/whoami", Some(&authorization("NTLM", &negotiate)));
    assert_eq!(reply.status, 401, "{reply:?}");
    assert!(reply.body.is_empty());
    let challenge = reply.token("NTLM");
    assert_eq!(&challenge[..8], b"NTLMSSP\0");
    let (status, authenticate) = isc(&credentials, &mut context, Some(&challenge));
    assert_eq!(status, SecurityStatus::SEC_E_OK);
    let reply = connection.get("/whoami", Some(&authorization("NTLM", &authenticate)));
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body, "SSPI-PLUG\\alice NTLM\n");
    assert!(reply.challenges.is_empty(), "{reply:?}");

    let again = connection.get("/whoami", None);
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.body, "SSPI-PLUG\\alice NTLM\n");

    let fresh = Connection::open(site.addr).get("/whoami", None);
    assert_eq!(fresh.status, 401);
    assert_eq!(fresh.challenges, ["Negotiate", "NTLM"]);
}

/// Kerberos through Negotiate (the KDC answers): one request, and the
/// server's final token on the 200 completes the client's context (mutual
/// authentication).
#[test]
fn kerberos_through_negotiate_returns_the_final_token_on_the_200() {
    let site = site(HttpAuthConfig::default());
    let credentials = client(&site, "Negotiate");
    let mut context = None;
    let (status, token) = isc(&credentials, &mut context, None);
    assert_eq!(status, SecurityStatus::SEC_I_CONTINUE_NEEDED);
    let mut connection = Connection::open(site.addr);
    let reply = connection.get("/whoami", Some(&authorization("Negotiate", &token)));
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body, "alice@SSPI-PLUG.TEST Kerberos\n");
    let last = reply.token("Negotiate");
    let (status, _) = isc(&credentials, &mut context, Some(&last));
    assert_eq!(status, SecurityStatus::SEC_E_OK);
    let info = context.unwrap().negotiation_info().unwrap().unwrap();
    assert_eq!(info.package.name.as_str(), "Kerberos");

    let again = connection.get("/whoami", None);
    assert_eq!(
        (again.status, again.body.as_str()),
        (200, "alice@SSPI-PLUG.TEST Kerberos\n")
    );
    let fresh = Connection::open(site.addr).get("/whoami", None);
    assert_eq!(fresh.status, 401);
}

#[test]
fn a_bad_token_is_a_401_with_bare_challenges_and_nothing_in_the_body() {
    let site = site(HttpAuthConfig::default());
    let mut connection = Connection::open(site.addr);
    for header in [
        "Negotiate YIIBAAYGKwYBBQUCoA==",
        "NTLM TlRMTVNTUAADAAAAAAAAAAAAAAA=",
        "Negotiate not*base64",
        "Negotiate",
        "Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ=",
    ] {
        let reply = connection.get("/whoami", Some(header));
        assert_eq!(reply.status, 401, "{header}: {reply:?}");
        assert_eq!(reply.challenges, ["Negotiate", "NTLM"], "{header}");
        assert!(reply.body.is_empty(), "{header}");
    }
    // The connection is still usable, and still unauthenticated.
    assert_eq!(connection.get("/whoami", None).status, 401);
}

#[test]
fn an_over_long_authorization_header_is_refused() {
    let site = site(HttpAuthConfig::default());
    let mut connection = Connection::open(site.addr);
    let header = format!("Negotiate {}", "A".repeat(64 * 1024));
    let reply = connection.get("/whoami", Some(&header));
    assert_eq!(reply.status, 431, "{reply:?}");
    assert!(reply.body.is_empty());
    // Just under the limit is read (and fails as a token, not as a header).
    let header = format!("Negotiate {}", "A".repeat(64 * 1024 - 12));
    assert_eq!(connection.get("/whoami", Some(&header)).status, 401);
}

/// With room for one half-done handshake, a second is refused with 503
/// until the first times out.
#[test]
fn half_done_handshakes_are_capped_and_time_out() {
    let site = site(HttpAuthConfig {
        max_pending_handshakes: 1,
        handshake_timeout: Duration::from_millis(300),
        ..HttpAuthConfig::default()
    });
    let credentials = client(&site, "NTLM");
    let negotiate = |context: &mut Option<SecurityContextHandle>| {
        authorization("NTLM", &isc(&credentials, context, None).1)
    };
    let mut first_context = None;
    let mut first = Connection::open(site.addr);
    let first_negotiate = negotiate(&mut first_context);
    let reply = first.get("/whoami", Some(&first_negotiate));
    assert_eq!(reply.status, 401);
    let challenge = reply.token("NTLM");

    let mut second = Connection::open(site.addr);
    let reply = second.get("/whoami", Some(&negotiate(&mut None)));
    assert_eq!(reply.status, 503, "{reply:?}");

    std::thread::sleep(Duration::from_millis(600));
    // The first handshake timed out while its client stayed quiet: its slot
    // is free for the second connection...
    let reply = second.get("/whoami", Some(&negotiate(&mut None)));
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_eq!(reply.token("NTLM")[..8], *b"NTLMSSP\0");
    // ...and its late AUTHENTICATE would start a new handshake, for which
    // there is no room while the second one is pending...
    let (_, authenticate) = isc(&credentials, &mut first_context, Some(&challenge));
    let late = authorization("NTLM", &authenticate);
    assert_eq!(first.get("/whoami", Some(&late)).status, 503);
    // ...and once the second connection is gone (its slot with it), is
    // refused as what it is: no handshake to continue.
    drop(second);
    std::thread::sleep(Duration::from_millis(200));
    let reply = first.get("/whoami", Some(&late));
    assert_eq!(reply.status, 401, "{reply:?}");
    assert_eq!(reply.challenges, ["Negotiate", "NTLM"]);
    assert!(reply.body.is_empty());
}

/// A client that picked NTLM sends raw NTLMSSP under `Negotiate` (as
/// Windows and requests-ntlm do); the server answers in kind.
#[test]
fn raw_ntlm_under_the_negotiate_scheme_is_accepted() {
    let site = site(HttpAuthConfig::default());
    let credentials = client(&site, "NTLM");
    let mut context = None;
    let mut connection = Connection::open(site.addr);
    let (_, negotiate) = isc(&credentials, &mut context, None);
    let reply = connection.get("/whoami", Some(&authorization("Negotiate", &negotiate)));
    assert_eq!(reply.status, 401, "{reply:?}");
    let challenge = reply.token("Negotiate");
    let (_, authenticate) = isc(&credentials, &mut context, Some(&challenge));
    let reply = connection.get("/whoami", Some(&authorization("Negotiate", &authenticate)));
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body, "SSPI-PLUG\\alice NTLM\n");
}
