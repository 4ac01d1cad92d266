//! Authenticated connections over TCP on 127.0.0.1: time-outs, limits, bad
//! input of every kind, tampering; the server keeps serving and leaks nothing.

use sspi_connection::frame::{FrameKind, FrameReader, FrameWriter, PROTOCOL_VERSION};
use sspi_connection::{
    ClientOptions, ConnectionError, InboundPackages, ProtectionLevel, ServerConfig, accept,
    authenticate,
};
use sspi_core::{AuthIdentity, SecBuffer, SecurityStatus};
use sspi_tests::net::{Raw, Running, client_leg, config};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_stalled_clients_are_dropped_at_the_handshake_timeout() {
    let server = Running::start(config()).await;
    let started = Instant::now();
    let mut silent = Raw::connect(server.addr).await;
    // Half a frame: a length of 100, then only 3 bytes.
    let (read, mut write) = TcpStream::connect(server.addr).await.unwrap().into_split();
    write.write_all(&[0, 0, 0, 100, 2, 1, 2]).await.unwrap();
    let mut stalled = Raw {
        reader: FrameReader::new(read, 1 << 20),
        writer: FrameWriter::new(write),
    };
    // Meanwhile a good client is served at once.
    assert_eq!(server.good_client().await.unwrap(), r"SSPI-PLUG\alice");
    assert!(
        started.elapsed() < Duration::from_millis(390),
        "served before the stalled ones time out"
    );
    // Both get a time-out error frame when the time-out fires, then the connection closes.
    assert_eq!(
        silent.next().await,
        Err(SecurityStatus::SEC_E_CONTEXT_EXPIRED)
    );
    assert!(
        started.elapsed() >= Duration::from_millis(390),
        "not before the time-out"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "soon after the time-out"
    );
    assert!(silent.closed().await);
    assert_eq!(
        stalled.next().await,
        Err(SecurityStatus::SEC_E_CONTEXT_EXPIRED)
    );
    assert!(stalled.closed().await);
    server.settle().await;
    assert_eq!(server.stats.rejected.load(Ordering::Relaxed), 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_length_prefix_is_refused_at_once() {
    let server = Running::start(ServerConfig {
        handshake_timeout: Duration::from_secs(30),
        ..config()
    })
    .await;
    let started = Instant::now();
    let (read, mut write) = TcpStream::connect(server.addr).await.unwrap().into_split();
    write.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
    let mut reader = FrameReader::new(read, 1 << 20);
    let (kind, body) = reader.read().await.unwrap().unwrap();
    assert_eq!(kind, FrameKind::Error);
    let ConnectionError::Remote { status, reason } = sspi_connection::frame::parse_error(body)
    else {
        panic!("an error frame");
    };
    assert_eq!(status, SecurityStatus::SEC_E_INVALID_TOKEN);
    assert!(
        reason.contains("4294967295 bytes exceeds the limit of 65537"),
        "{reason}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused at once, not at the time-out"
    );
    server.settle().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_of_every_kind_is_rejected_and_nothing_leaks() {
    let server = Running::start(config()).await;
    assert_eq!(server.good_client().await.unwrap(), r"SSPI-PLUG\alice");
    server.settle().await;
    // Tasks alive in this runtime (threads are process-wide and other tests run
    // beside this one; the mixed-load test, alone in its binary, counts threads).
    let tasks_before = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();

    // Garbage where the first token belongs.
    let mut raw = Raw::connect(server.addr).await;
    raw.hello("Test").await;
    raw.token(b"not a token at all").await;
    assert_eq!(raw.next().await, Err(SecurityStatus::SEC_E_INVALID_TOKEN));
    assert!(raw.closed().await);

    // A truncated first token.
    let credentials = server.client_credentials(None);
    let mut context = None;
    let hello = client_leg(&credentials, &mut context, None);
    let mut raw = Raw::connect(server.addr).await;
    raw.hello("Test").await;
    raw.token(&hello[..hello.len() / 2]).await;
    assert_eq!(raw.next().await, Err(SecurityStatus::SEC_E_INVALID_TOKEN));

    // Out of order: the client's third leg first.
    let mut raw = Raw::connect(server.addr).await;
    raw.hello("Test").await;
    raw.token(&hello).await;
    let challenge = raw.next().await.unwrap();
    let proof = client_leg(&credentials, &mut context, Some(&challenge));
    let mut out_of_order = Raw::connect(server.addr).await;
    out_of_order.hello("Test").await;
    out_of_order.token(&proof).await;
    assert_eq!(
        out_of_order.next().await,
        Err(SecurityStatus::SEC_E_INVALID_TOKEN)
    );

    // Replayed: hello and proof of that session in a new connection.
    let mut replay = Raw::connect(server.addr).await;
    replay.hello("Test").await;
    replay.token(&hello).await;
    let _fresh_challenge = replay.next().await.unwrap();
    replay.token(&proof).await;
    assert_eq!(replay.next().await, Err(SecurityStatus::SEC_E_LOGON_DENIED));

    // Wrong credentials: the client refuses the server's proof and says so.
    let wrong = server.client_credentials(Some(AuthIdentity::new("alice", "SSPI-PLUG", "wrong")));
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let error = authenticate(stream, &wrong, &ClientOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        error.status(),
        Some(SecurityStatus::SEC_E_LOGON_DENIED),
        "{error}"
    );
    assert!(error.is_authentication_failure());

    // A package the server does not offer.
    let mut raw = Raw::connect(server.addr).await;
    raw.hello("NTLMv0").await;
    match raw.reader.read().await.unwrap().unwrap() {
        (FrameKind::Error, body) => {
            let ConnectionError::Remote { status, reason } =
                sspi_connection::frame::parse_error(body)
            else {
                panic!()
            };
            assert_eq!(status, SecurityStatus::SEC_E_SECPKG_NOT_FOUND);
            assert!(
                reason.contains("NTLMv0 is not offered here (offered: Test)"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    // A client of another protocol version.
    let mut raw = Raw::connect(server.addr).await;
    raw.writer
        .write(FrameKind::Hello, &[&[99, 1], b"Test"])
        .await
        .unwrap();
    assert_eq!(
        raw.next().await,
        Err(SecurityStatus::SEC_E_SECPKG_NOT_FOUND)
    );

    // Disconnect mid-handshake.
    let mut raw = Raw::connect(server.addr).await;
    raw.hello("Test").await;
    raw.token(&hello).await;
    let _ = raw.next().await.unwrap();
    drop(raw);

    server.settle().await;
    // Still serving, nothing left running.
    assert_eq!(server.good_client().await.unwrap(), r"SSPI-PLUG\alice");
    server.settle().await;
    assert_eq!(server.stats.active.load(Ordering::Acquire), 0);
    let tasks_after = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    assert_eq!(tasks_after, tasks_before, "no task left behind");
    assert!(server.stats.rejected.load(Ordering::Relaxed) >= 8);
    let report = server.stop().await;
    assert_eq!(report.aborted, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_sealed_message_is_message_altered_and_closes_the_connection() {
    let server = Running::start(config()).await;
    let credentials = server.client_credentials(None);
    // Authenticate by hand so the test holds the client's context, then
    // send a sealed message with one bit flipped.
    let (read, write) = TcpStream::connect(server.addr).await.unwrap().into_split();
    let mut raw = Raw {
        reader: FrameReader::new(read, 1 << 20),
        writer: FrameWriter::new(write),
    };
    raw.hello("Test").await;
    let mut context = None;
    let mut input: Option<Vec<u8>> = None;
    loop {
        let token = client_leg(&credentials, &mut context, input.as_deref());
        if !token.is_empty() {
            raw.token(&token).await;
        }
        match raw.reader.read().await.unwrap().unwrap() {
            (FrameKind::Token, body) => input = Some(body.to_vec()),
            (FrameKind::Accepted, _) => break,
            other => panic!("{other:?}"),
        }
    }
    let mut context = context.unwrap();
    let mut data = b"transfer 10".to_vec();
    let mut trailer = vec![0u8; 28];
    let mut buffers = [SecBuffer::token(&mut trailer), SecBuffer::data(&mut data)];
    context
        .encrypt_message(sspi_core::Qop::DEFAULT, &mut buffers, 0)
        .unwrap();
    data[0] ^= 0x01;
    raw.writer
        .write(FrameKind::Message, &[&28u16.to_be_bytes(), &trailer, &data])
        .await
        .unwrap();
    assert_eq!(raw.next().await, Err(SecurityStatus::SEC_E_MESSAGE_ALTERED));
    assert!(
        raw.closed().await,
        "the server closes after a tampered message"
    );
    server.settle().await;
    assert_eq!(server.stats.failed_sessions.load(Ordering::Relaxed), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_connections_and_graceful_shutdown() {
    let server = Running::start(ServerConfig {
        max_connections: 2,
        shutdown_grace: Duration::from_millis(300),
        ..config()
    })
    .await;
    let credentials = server.client_credentials(None);
    // Two open, authenticated, idle sessions.
    let mut open = Vec::new();
    for _ in 0..2 {
        let stream = TcpStream::connect(server.addr).await.unwrap();
        open.push(
            authenticate(stream, &credentials, &ClientOptions::default())
                .await
                .unwrap(),
        );
    }
    // A third is refused: server busy.
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let error = authenticate(stream, &credentials, &ClientOptions::default())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("server busy"), "{error}");
    assert_eq!(server.stats.busy.load(Ordering::Relaxed), 1);
    // Stop: idle sessions end within the grace period; none is aborted.
    let started = Instant::now();
    let report = server.stop().await;
    assert!(
        started.elapsed() < Duration::from_millis(290),
        "idle sessions end at once, before the grace period"
    );
    assert_eq!(
        report,
        sspi_connection::ShutdownReport {
            finished: 2,
            aborted: 0
        }
    );
    for mut session in open {
        assert!(session.request(b"after stop").await.is_err());
    }
}

/// Runs the server side of a handshake over an in-memory stream with `client`
/// on the other end: the server's verdict as `accept` returns it (what the
/// server logs), and the client's result.
async fn accept_in_memory<T>(
    server: &Running,
    client: impl AsyncFnOnce(Raw2) -> T,
) -> (Result<(), sspi_connection::Rejected>, T) {
    let inbound = InboundPackages::acquire(&server.host, None).unwrap();
    let (client_end, server_end) = tokio::io::duplex(1 << 16);
    let (read, write) = tokio::io::split(client_end);
    let raw = Raw2 {
        reader: FrameReader::new(read, 1 << 16),
        writer: FrameWriter::new(write),
    };
    let config = config();
    let (accepted, client) = tokio::join!(accept(server_end, &inbound, &config), client(raw));
    (accepted.map(|_| ()), client)
}

/// A hand-driven client over an in-memory stream.
struct Raw2 {
    reader: FrameReader<tokio::io::ReadHalf<tokio::io::DuplexStream>>,
    writer: FrameWriter<tokio::io::WriteHalf<tokio::io::DuplexStream>>,
}

impl Raw2 {
    async fn send(&mut self, kind: FrameKind, body: &[u8]) {
        self.writer.write(kind, &[body]).await.unwrap();
    }

    async fn hello(&mut self) {
        let mut hello = vec![PROTOCOL_VERSION, ProtectionLevel::Sealed as u8];
        hello.extend_from_slice(b"Test");
        self.send(FrameKind::Hello, &hello).await;
    }

    async fn frame(&mut self) -> (FrameKind, Vec<u8>) {
        let (kind, body) = self.reader.read().await.unwrap().unwrap();
        (kind, body.to_vec())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unauthenticated_peer_is_told_the_status_not_the_internal_text() {
    let server = Running::start(config()).await;
    // A proof recorded in one session, replayed in another after a fresh
    // challenge: the Test package's own text names the principal.
    let credentials = server.client_credentials(None);
    let mut context = None;
    let hello = client_leg(&credentials, &mut context, None);
    let mut first = Raw::connect(server.addr).await;
    first.hello("Test").await;
    first.token(&hello).await;
    let challenge = first.next().await.unwrap();
    let proof = client_leg(&credentials, &mut context, Some(&challenge));
    drop(first);
    let (rejected, (kind, body)) = accept_in_memory(&server, async |mut raw: Raw2| {
        raw.hello().await;
        raw.send(FrameKind::Token, &hello).await;
        let _fresh_challenge = raw.frame().await;
        raw.send(FrameKind::Token, &proof).await;
        raw.frame().await
    })
    .await;
    assert_eq!(kind, FrameKind::Error);
    let ConnectionError::Remote { status, reason } = sspi_connection::frame::parse_error(&body)
    else {
        panic!("an error frame");
    };
    assert_eq!(status, SecurityStatus::SEC_E_LOGON_DENIED);
    // The status is in the frame; the reason does not repeat it.
    assert_eq!(reason, "refused by the server's security package");
    for internal in ["alice", "SSPI-PLUG", "unknown user", "password"] {
        assert!(!reason.contains(internal), "{internal} in {reason:?}");
    }
    // The server keeps the whole story, for its log.
    let error = rejected.unwrap_err().error;
    assert_eq!(error.status(), Some(SecurityStatus::SEC_E_LOGON_DENIED));
    assert!(
        error
            .to_string()
            .contains(r"logon denied for SSPI-PLUG\alice: unknown user or wrong password"),
        "{error}"
    );

    // Over TCP the same: the status and the generic reason.
    let mut replay = Raw::connect(server.addr).await;
    replay.hello("Test").await;
    replay.token(&hello).await;
    let _fresh_challenge = replay.next().await.unwrap();
    replay.token(&proof).await;
    match replay.reader.read().await.unwrap().unwrap() {
        (FrameKind::Error, body) => {
            let ConnectionError::Remote { status, reason } =
                sspi_connection::frame::parse_error(body)
            else {
                panic!()
            };
            assert_eq!(status, SecurityStatus::SEC_E_LOGON_DENIED);
            assert!(!reason.contains("alice"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    server.settle().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_closes_early_is_logged_in_plain_words() {
    let server = Running::start(config()).await;
    // Connects and closes without a word.
    let (rejected, ()) = accept_in_memory(&server, async |raw: Raw2| drop(raw)).await;
    assert_eq!(
        rejected.unwrap_err().error.to_string(),
        "the peer closed the connection before sending its hello"
    );
    // Closes after the server's first token.
    let credentials = server.client_credentials(None);
    let (rejected, ()) = accept_in_memory(&server, async |mut raw: Raw2| {
        let mut context = None;
        raw.hello().await;
        raw.send(
            FrameKind::Token,
            &client_leg(&credentials, &mut context, None),
        )
        .await;
        let _challenge = raw.frame().await;
    })
    .await;
    assert_eq!(
        rejected.unwrap_err().error.to_string(),
        "the peer closed the connection during the handshake"
    );
    server.stop().await;
}
