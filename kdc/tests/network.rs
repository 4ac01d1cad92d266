//! The KDC on the network: a datagram that once killed it, UDP answers never
//! larger than their request, and TCP slots that connections held open
//! without authenticating cannot take from a good client (abusers bind
//! 127.0.0.2.. to play many peers).

mod common;

use sspi_kdc::{Database, KdcConfig, KdcHandle};
use sspi_package_kerberos::internal::as_exchange::{self, AsRequest, encrypted_timestamp};
use sspi_package_kerberos::internal::crypto::Etype;
use sspi_package_kerberos::internal::krb_error::{self, KdcError};
use sspi_package_kerberos::internal::principal::Principal;
use sspi_package_kerberos::internal::tgs_exchange;
use sspi_package_kerberos::internal::transport::KdcTarget;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};

const REALM: &str = "R.TEST";

fn kdc(tune: impl FnOnce(&mut KdcConfig)) -> KdcHandle {
    let db = Database::parse("alice password pw\nhost/svc password svc\n", REALM, "test").unwrap();
    let mut config = KdcConfig::new(db);
    tune(&mut config);
    KdcHandle::start("127.0.0.1:0".parse().unwrap(), config).unwrap()
}

/// alice's AS-REQ, without and with PA-ENC-TIMESTAMP.
fn as_requests() -> (Vec<u8>, Vec<u8>) {
    let client = Principal::user("alice", REALM);
    let key = Etype::Aes256CtsHmacSha196
        .string_to_key(b"pw", &client.salt(), None)
        .unwrap();
    (
        common::as_req_bytes(&client, b"pw", 1, vec![]),
        common::as_req_bytes(&client, b"pw", 2, vec![encrypted_timestamp(&key).unwrap()]),
    )
}

/// The package's client (TCP): a TGT for alice, then a ticket for host/svc.
fn good_client(kdc: SocketAddr) -> Result<(), String> {
    let client = Principal::user("alice", REALM);
    let addresses = [kdc.to_string()];
    let target = KdcTarget {
        realm: REALM,
        addresses: &addresses,
        timeout: Duration::from_secs(2),
        retries: 0,
    };
    let etypes = Etype::ALL;
    let request = AsRequest {
        client: &client,
        password: b"pw",
        etypes: &etypes,
        lifetime: 3600,
        kdc: &target,
        known_key: None,
    };
    let (tgt, _) = as_exchange::request_tgt(&request).map_err(|e| e.message().to_string())?;
    let service = Principal::parse("host/svc", REALM).unwrap();
    tgs_exchange::request_service_ticket(&tgt, &service, &etypes, 3600, &target)
        .map(|_| ())
        .map_err(|e| e.message().to_string())
}

fn run<F: std::future::Future>(test: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(test)
}

/// One framed request and its reply on `stream`.
async fn ask(stream: &mut TcpStream, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut framed = (request.len() as u32).to_be_bytes().to_vec();
    framed.extend_from_slice(request);
    stream.write_all(&framed).await?;
    let mut prefix = [0u8; 4];
    stream.read_exact(&mut prefix).await?;
    let mut reply = vec![0u8; u32::from_be_bytes(prefix) as usize];
    stream.read_exact(&mut reply).await?;
    Ok(reply)
}

async fn connect_from(ip: Ipv4Addr, kdc: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(ip), 0))?;
    socket.connect(kdc).await
}

/// True when the KDC closed `stream` within `within` (a read sees EOF or a reset).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(within, stream.read(&mut byte)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

fn crash(tag: u8) -> Vec<u8> {
    let mut bytes = vec![tag, 0x88];
    bytes.extend([0xff; 8]);
    bytes.extend([0x02, 0x02]);
    bytes
}

async fn udp_ask(sock: &UdpSocket, kdc: SocketAddr, request: &[u8]) -> Option<Vec<u8>> {
    sock.send_to(request, kdc).await.unwrap();
    let mut buf = vec![0u8; 65_536];
    match tokio::time::timeout(Duration::from_millis(500), sock.recv_from(&mut buf)).await {
        Ok(Ok((n, _))) => Some(buf[..n].to_vec()),
        _ => None,
    }
}

/// The fuzzers' 12-byte datagram once panicked the UDP loop, which runs
/// inline: the whole KDC stopped.
#[test]
fn a_crash_datagram_does_not_stop_the_kdc() {
    let kdc = kdc(|_| {});
    let addr = kdc.addr();
    run(async move {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for tag in [0x6c, 0x6a, 0x6e] {
            sock.send_to(&crash(tag), addr).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (plain, _) = as_requests();
        let reply = udp_ask(&sock, addr, &plain)
            .await
            .expect("UDP still answered");
        assert!(KdcError::parse(&reply).is_some());
        tokio::task::spawn_blocking(move || good_client(addr))
            .await
            .unwrap()
            .expect("TCP still answered");
        assert_eq!(kdc.state().panics.load(Ordering::Relaxed), 0);
    })
}

/// RFC 4120 7.2.1: a UDP answer larger than its request becomes
/// KRB_ERR_RESPONSE_TOO_BIG (the client retries over TCP), and when even that
/// is larger, nothing is sent: a spoofed source gains no amplification.
#[test]
fn udp_answers_are_never_larger_than_the_request() {
    let kdc = kdc(|_| {});
    let addr = kdc.addr();
    run(async move {
        let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (plain, preauth) = as_requests();
        // PREAUTH_REQUIRED (with ETYPE-INFO2) is larger than this AS-REQ.
        let reply = udp_ask(&sock, addr, &plain).await.expect("an answer");
        assert!(
            reply.len() <= plain.len(),
            "{} > {}",
            reply.len(),
            plain.len()
        );
        assert_eq!(
            KdcError::parse(&reply).map(|e| e.code),
            Some(krb_error::RESPONSE_TOO_BIG)
        );
        // An error smaller than its request is sent as is: an unknown client
        // whose AS-REQ carries a large (ignored) PA-DATA.
        let unknown = {
            let client = Principal::user("nobody", REALM);
            let padding = sspi_package_kerberos::internal::messages::pa_data(149, vec![0; 300]);
            common::as_req_bytes(&client, b"x", 3, vec![padding])
        };
        let reply = udp_ask(&sock, addr, &unknown).await.expect("an answer");
        assert!(reply.len() <= unknown.len());
        assert_eq!(
            KdcError::parse(&reply).map(|e| e.code),
            Some(krb_error::C_PRINCIPAL_UNKNOWN)
        );
        // The AS-REP is larger than the AS-REQ: RESPONSE_TOO_BIG instead...
        let reply = udp_ask(&sock, addr, &preauth).await.expect("an answer");
        assert!(
            reply.len() <= preauth.len(),
            "{} > {}",
            reply.len(),
            preauth.len()
        );
        assert_eq!(
            KdcError::parse(&reply).map(|e| e.code),
            Some(krb_error::RESPONSE_TOO_BIG)
        );
        // ...and over TCP the AS-REP itself.
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let reply = ask(&mut stream, &preauth).await.unwrap();
        assert_eq!(
            sspi_package_kerberos::internal::der::application_tag(&reply),
            Some(11)
        );
        assert!(reply.len() > preauth.len());
        // A 12-byte datagram: even RESPONSE_TOO_BIG is larger, so no answer.
        assert!(kdc.state().too_big().len() > 12);
        assert_eq!(udp_ask(&sock, addr, &crash(0x6a)).await, None);
        assert_eq!(kdc.state().udp_too_big.load(Ordering::Relaxed), 3);
    })
}

/// The issue: 16 connections each sending one AS-REQ now and then (never
/// authenticating) held every slot for ever, and `sspi handshake --package
/// Kerberos` failed. Now a new connection takes the slot of the longest idle
/// one; the abusers (16 peers, 2 connections each, one AS-REQ every 300 ms,
/// reconnecting at once when closed) never lock the good client out.
#[test]
fn abusers_holding_connections_do_not_lock_out_a_good_client() {
    let kdc = kdc(|c| {
        c.max_connections = 16;
        c.max_connections_per_peer = 2;
        c.io_timeout = Duration::from_secs(1);
        c.idle_timeout = Duration::from_secs(1);
    });
    let addr = kdc.addr();
    run(async move {
        let (plain, _) = as_requests();
        let answered = Arc::new(AtomicU64::new(0));
        let connects = Arc::new(AtomicU64::new(0));
        let mut abusers = Vec::new();
        for peer in 2..=17u8 {
            for _ in 0..2 {
                let (plain, answered, connects) =
                    (plain.clone(), Arc::clone(&answered), Arc::clone(&connects));
                abusers.push(tokio::spawn(async move {
                    loop {
                        let Ok(mut stream) =
                            connect_from(Ipv4Addr::new(127, 0, 0, peer), addr).await
                        else {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        };
                        connects.fetch_add(1, Ordering::Relaxed);
                        while ask(&mut stream, &plain).await.is_ok() {
                            answered.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(300)).await;
                        }
                    }
                }));
            }
        }
        let state_open = || kdc.state().tcp_open.load(Ordering::Relaxed);
        let start = Instant::now();
        while state_open() < 16 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "abusers never filled the slots"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        let rounds = 20;
        let results = tokio::task::spawn_blocking(move || {
            (0..rounds)
                .map(|_| {
                    let result = good_client(addr);
                    std::thread::sleep(Duration::from_millis(50));
                    result
                })
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
        let open_after = state_open();
        for abuser in &abusers {
            abuser.abort();
        }
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let state = kdc.state();
        println!(
            "good client: {ok}/{rounds} rounds (TGT + service ticket); abusers: {} connections, \
             {} requests answered; KDC: {} evicted, {} refused, {open_after} open at the end",
            connects.load(Ordering::Relaxed),
            answered.load(Ordering::Relaxed),
            state.tcp_evicted.load(Ordering::Relaxed),
            state.tcp_refused.load(Ordering::Relaxed),
        );
        let failures: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(failures.is_empty(), "{ok}/{rounds}: {failures:?}");
        assert!(
            open_after >= 12,
            "the abusers still held the slots: {open_after}"
        );
        assert!(state.tcp_evicted.load(Ordering::Relaxed) >= 3 * rounds as u64);
    })
}

/// MaxConnectionsPerPeer, MaxRequestsPerConnection and IdleTimeout.
#[test]
fn per_peer_request_and_idle_bounds() {
    let kdc = kdc(|c| {
        c.max_connections_per_peer = 2;
        c.max_requests_per_connection = 3;
        c.idle_timeout = Duration::from_millis(300);
        c.io_timeout = Duration::from_secs(5);
    });
    let addr = kdc.addr();
    run(async move {
        let (plain, _) = as_requests();
        let peer = Ipv4Addr::new(127, 0, 0, 30);
        let mut first = connect_from(peer, addr).await.unwrap();
        let mut second = connect_from(peer, addr).await.unwrap();
        let connected = Instant::now();
        let mut third = connect_from(peer, addr).await.unwrap();
        assert!(
            closed_within(&mut third, Duration::from_secs(1)).await,
            "a third connection from one peer is closed"
        );
        assert_eq!(kdc.state().tcp_refused.load(Ordering::Relaxed), 1);
        // Another peer is not affected.
        let mut other = connect_from(Ipv4Addr::new(127, 0, 0, 31), addr)
            .await
            .unwrap();
        assert!(ask(&mut other, &plain).await.is_ok());
        // Three requests on one connection, then it is closed.
        for _ in 0..3 {
            assert!(ask(&mut first, &plain).await.is_ok());
        }
        assert!(
            ask(&mut first, &plain).await.is_err(),
            "a fourth request on one connection"
        );
        // An idle connection is closed after IdleTimeout (300 ms), not IoTimeout (5 s).
        assert!(
            closed_within(&mut second, Duration::from_secs(2)).await,
            "an idle connection"
        );
        let waited = connected.elapsed();
        assert!(waited >= Duration::from_millis(250), "{waited:?}");
    })
}
