//! Talking to a KDC: TCP with the 4-byte big-endian length prefix (RFC 4120
//! 7.2.2), a time-out on every connect, write and read, and retries over the
//! realm's KDC list. A dead KDC costs at most `timeout` per address and
//! attempt, never a hang.

use sspi_core::{SecurityError, SecurityStatus};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The largest KDC reply accepted.
pub const MAX_REPLY: usize = 1 << 20;

/// The KDCs of one realm and how patiently to ask them.
#[derive(Debug, Clone)]
pub struct KdcTarget<'a> {
    /// The realm (for messages).
    pub realm: &'a str,
    /// `host:port` of each KDC, in order (port 88 when none is given).
    pub addresses: &'a [String],
    /// The time-out of each connect, write and read.
    pub timeout: Duration,
    /// Extra rounds over the list after the first.
    pub retries: u32,
}

/// Sends `request` to the first KDC that answers and returns its reply.
pub fn exchange(target: &KdcTarget<'_>, request: &[u8]) -> Result<Vec<u8>, SecurityError> {
    if target.addresses.is_empty() {
        return Err(SecurityError::new(
            SecurityStatus::SEC_E_NO_AUTHENTICATING_AUTHORITY,
            format!(
                "no KDC is configured for realm {}: set KdcNames under the Kerberos key's Domains\\{} subkey",
                target.realm, target.realm
            ),
        ));
    }
    let mut failures: Vec<String> = Vec::new();
    for round in 0..=target.retries {
        for address in target.addresses {
            match one(address, request, target.timeout) {
                Ok(reply) => {
                    tracing::debug!(kdc = %address, round, bytes = reply.len(), "KDC replied");
                    return Ok(reply);
                }
                Err(reason) => {
                    tracing::debug!(kdc = %address, round, %reason, "KDC did not answer");
                    if round == target.retries {
                        failures.push(format!("{address}: {reason}"));
                    }
                }
            }
        }
    }
    Err(SecurityError::new(
        SecurityStatus::SEC_E_NO_AUTHENTICATING_AUTHORITY,
        format!(
            "no KDC of realm {} answered ({} attempt(s), time-out {} ms): {}",
            target.realm,
            target.retries + 1,
            target.timeout.as_millis(),
            failures.join("; ")
        ),
    ))
}

fn resolve(address: &str) -> Result<Vec<SocketAddr>, String> {
    let with_port = if address.parse::<SocketAddr>().is_ok() || has_port(address) {
        address.to_string()
    } else {
        format!("{address}:88")
    };
    with_port
        .to_socket_addrs()
        .map(|a| a.collect())
        .map_err(|e| format!("cannot resolve: {e}"))
}

fn has_port(address: &str) -> bool {
    match address.rsplit_once(':') {
        Some((host, port)) => !host.contains(':') && port.parse::<u16>().is_ok(),
        None => false,
    }
}

fn one(address: &str, request: &[u8], timeout: Duration) -> Result<Vec<u8>, String> {
    let addrs = resolve(address)?;
    let mut last = String::from("no address");
    for addr in addrs {
        match send(addr, request, timeout) {
            Ok(reply) => return Ok(reply),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn send(addr: SocketAddr, request: &[u8], timeout: Duration) -> Result<Vec<u8>, String> {
    let deadline = Instant::now() + timeout;
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let len = u32::try_from(request.len()).map_err(|_| "request too large")?;
    let mut framed = Vec::with_capacity(4 + request.len());
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(request);
    stream
        .write_all(&framed)
        .map_err(|e| format!("send: {e}"))?;
    let mut prefix = [0u8; 4];
    read_before(&mut stream, &mut prefix, deadline)?;
    let len = u32::from_be_bytes(prefix);
    if len & 0x8000_0000 != 0 {
        return Err("the KDC set the reserved high bit of the length".into());
    }
    let len = len as usize;
    if len > MAX_REPLY {
        return Err(format!(
            "reply of {len} bytes exceeds the {MAX_REPLY}-byte limit"
        ));
    }
    let mut reply = vec![0u8; len];
    read_before(&mut stream, &mut reply, deadline)?;
    Ok(reply)
}

/// Fills `buf`, failing once `deadline` passes (a KDC dribbling bytes cannot stall us).
fn read_before(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> Result<(), String> {
    let mut done = 0;
    while done < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("timed out waiting for the reply".into());
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut buf[done..]) {
            Ok(0) => return Err("the KDC closed the connection".into()),
            Ok(n) => done += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err("timed out waiting for the reply".into());
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("receive: {e}")),
        }
    }
    Ok(())
}
