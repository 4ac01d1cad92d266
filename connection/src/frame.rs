//! Frames on the wire: a 4-byte big-endian length, then a kind byte and its body.
//!
//! ```text
//! frame    = length u32 BE (kind + body) | kind u8 | body
//! Hello    (1) client -> server: version u8 = 1 | protection u8 (1 sealed, 2 signed) | package name UTF-8
//! Token    (2) either way: one security token, as the package produced it
//! Error    (3) either way: status u32 BE | short reason UTF-8 (never a secret); the sender then closes
//! Accepted (4) server -> client: the client's name as the server authenticated it
//! Message  (5) either way: trailer length u16 BE | trailer (signature) | data (sealed or signed)
//! ```
//! A length above the reader's limit is refused before anything is allocated
//! for it; a length within it is not allocated up front either: the buffer
//! grows with the bytes that arrive (see [`FrameReader::read`]).

use crate::ConnectionError;
use sspi_core::SecurityStatus;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The protocol version in the hello.
pub const PROTOCOL_VERSION: u8 = 1;
/// The longest reason an error frame carries, in bytes.
pub const MAX_REASON: usize = 200;
/// How much a frame's buffer grows at first; then it at most doubles what has
/// arrived, so a peer announcing a long frame and sending little holds little.
const FIRST_GROWTH: usize = 4096;

/// What a frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameKind {
    /// The client's choice of package and protection.
    Hello = 1,
    /// A security token.
    Token = 2,
    /// A failure report; the sender closes after it.
    Error = 3,
    /// The server accepted the client.
    Accepted = 4,
    /// A protected message.
    Message = 5,
}

impl FrameKind {
    fn from_byte(byte: u8) -> Option<Self> {
        Some(match byte {
            1 => Self::Hello,
            2 => Self::Token,
            3 => Self::Error,
            4 => Self::Accepted,
            5 => Self::Message,
            _ => return None,
        })
    }
}

/// Reads frames into one reusable buffer.
#[derive(Debug)]
pub struct FrameReader<R> {
    inner: R,
    buffer: Vec<u8>,
    max_len: usize,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader that refuses frames longer than `max_len` bytes (kind and body).
    pub fn new(inner: R, max_len: usize) -> Self {
        Self {
            inner,
            buffer: Vec::new(),
            max_len,
        }
    }

    /// Changes the longest frame accepted.
    pub fn set_max_len(&mut self, max_len: usize) {
        self.max_len = max_len;
    }

    /// The stream. Nothing is lost: the reader never reads past a frame.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The next frame, or `None` when the peer closed cleanly between frames.
    ///
    /// The buffer grows as the body arrives, by at most what has arrived so
    /// far (at least 4 KiB), never to the announced length at once: a peer
    /// that announces 64 KiB and trickles a byte a second costs 4 KiB, not 64.
    /// Once grown it is kept for the next frames.
    pub async fn read(&mut self) -> Result<Option<(FrameKind, &mut [u8])>, ConnectionError> {
        let mut header = [0u8; 4];
        let first = self.inner.read(&mut header).await?;
        if first == 0 {
            return Ok(None);
        }
        if first < header.len() {
            self.read_exact_or_closed(&mut header[first..], "inside a frame header")
                .await?;
        }
        let len = u32::from_be_bytes(header) as usize;
        if len == 0 {
            return Err(ConnectionError::Protocol("an empty frame".into()));
        }
        if len > self.max_len {
            return Err(ConnectionError::Protocol(format!(
                "a frame of {len} bytes exceeds the limit of {} bytes",
                self.max_len
            )));
        }
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.clear();
        let read = self.read_growing(&mut buffer, len).await;
        self.buffer = buffer;
        read?;
        let Some(kind) = FrameKind::from_byte(self.buffer[0]) else {
            return Err(ConnectionError::Protocol(format!(
                "unknown frame kind {}",
                self.buffer[0]
            )));
        };
        Ok(Some((kind, &mut self.buffer[1..])))
    }

    /// Reads `len` bytes into `buffer`, growing it with what arrives.
    async fn read_growing(
        &mut self,
        buffer: &mut Vec<u8>,
        len: usize,
    ) -> Result<(), ConnectionError> {
        let mut filled = 0;
        while filled < len {
            let step = (len - filled).min(filled.max(FIRST_GROWTH));
            buffer.resize(filled + step, 0);
            match self.inner.read(&mut buffer[filled..]).await? {
                0 => {
                    buffer.truncate(filled);
                    return Err(ConnectionError::Closed {
                        during: "inside a frame",
                    });
                }
                n => filled += n,
            }
        }
        Ok(())
    }

    async fn read_exact_or_closed(
        &mut self,
        buf: &mut [u8],
        during: &'static str,
    ) -> Result<(), ConnectionError> {
        match self.inner.read_exact(buf).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Err(ConnectionError::Closed { during })
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Writes frames through one reusable buffer. Frames can be queued and sent
/// together with the next one, saving a packet and a wake-up on each side.
#[derive(Debug)]
pub struct FrameWriter<W> {
    inner: W,
    buffer: Vec<u8>,
}

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    /// A writer over `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            buffer: Vec::new(),
        }
    }

    /// The stream; frames still queued are dropped.
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// Queues a frame whose body is the concatenation of `parts`; it is sent
    /// with the next [`Self::write`] or [`Self::flush`].
    pub fn queue(&mut self, kind: FrameKind, parts: &[&[u8]]) -> Result<(), ConnectionError> {
        let body: usize = parts.iter().map(|p| p.len()).sum();
        let len = u32::try_from(body + 1)
            .map_err(|_| ConnectionError::Protocol("a frame longer than 4 GiB".into()))?;
        self.buffer.extend_from_slice(&len.to_be_bytes());
        self.buffer.push(kind as u8);
        for part in parts {
            self.buffer.extend_from_slice(part);
        }
        Ok(())
    }

    /// Sends every queued frame.
    pub async fn flush(&mut self) -> Result<(), ConnectionError> {
        if !self.buffer.is_empty() {
            let sent = self.inner.write_all(&self.buffer).await;
            self.buffer.clear();
            sent?;
        }
        Ok(())
    }

    /// Writes a frame (and any queued before it) whose body is the concatenation of `parts`.
    pub async fn write(&mut self, kind: FrameKind, parts: &[&[u8]]) -> Result<(), ConnectionError> {
        self.queue(kind, parts)?;
        self.flush().await
    }

    /// Writes an error frame (status and a short reason), dropping anything queued.
    pub async fn write_error(
        &mut self,
        status: SecurityStatus,
        reason: &str,
    ) -> Result<(), ConnectionError> {
        self.buffer.clear();
        let reason = truncate(reason, MAX_REASON);
        self.write(
            FrameKind::Error,
            &[&status.as_u32().to_be_bytes(), reason.as_bytes()],
        )
        .await
    }

    /// Builds a frame in place: `fill` gets the body area of `body_len` bytes
    /// and returns how many it used; then the frame is written.
    pub async fn write_with(
        &mut self,
        kind: FrameKind,
        body_len: usize,
        fill: impl FnOnce(&mut [u8]) -> Result<usize, ConnectionError>,
    ) -> Result<(), ConnectionError> {
        let start = self.buffer.len();
        self.buffer.resize(start + 5 + body_len, 0);
        let used = match fill(&mut self.buffer[start + 5..]) {
            Ok(used) => used.min(body_len),
            Err(error) => {
                self.buffer.truncate(start);
                return Err(error);
            }
        };
        let len = u32::try_from(used + 1)
            .map_err(|_| ConnectionError::Protocol("a frame longer than 4 GiB".into()))?;
        self.buffer[start..start + 4].copy_from_slice(&len.to_be_bytes());
        self.buffer[start + 4] = kind as u8;
        self.buffer.truncate(start + 5 + used);
        self.flush().await
    }

    /// Flushes and shuts down the write side.
    pub async fn shutdown(&mut self) -> Result<(), ConnectionError> {
        self.inner.shutdown().await?;
        Ok(())
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Reads an error frame's body.
pub fn parse_error(body: &[u8]) -> ConnectionError {
    let Some((status, reason)) = body.split_first_chunk::<4>() else {
        return ConnectionError::Protocol("a truncated error frame".into());
    };
    ConnectionError::Remote {
        status: SecurityStatus(u32::from_be_bytes(*status) as i32),
        reason: String::from_utf8_lossy(&reason[..reason.len().min(MAX_REASON)]).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frames_round_trip_and_limits_hold() {
        let (client, server) = tokio::io::duplex(1 << 16);
        let mut writer = FrameWriter::new(client);
        writer
            .write(FrameKind::Token, &[b"abc", b"def"])
            .await
            .unwrap();
        writer
            .write_error(SecurityStatus::SEC_E_LOGON_DENIED, "no")
            .await
            .unwrap();
        writer
            .write(FrameKind::Token, &[&[0u8; 100]])
            .await
            .unwrap();
        writer.shutdown().await.unwrap();
        let mut reader = FrameReader::new(server, 64);
        let (kind, body) = reader.read().await.unwrap().unwrap();
        assert_eq!((kind, &*body), (FrameKind::Token, &b"abcdef"[..]));
        let (kind, body) = reader.read().await.unwrap().unwrap();
        assert_eq!(kind, FrameKind::Error);
        assert!(
            matches!(parse_error(body), ConnectionError::Remote { status, .. } if status == SecurityStatus::SEC_E_LOGON_DENIED)
        );
        let error = reader.read().await.unwrap_err();
        assert!(
            error
                .to_string()
                .contains("101 bytes exceeds the limit of 64"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_huge_length_is_refused_without_allocating() {
        let (mut client, server) = tokio::io::duplex(64);
        client.write_all(&u32::MAX.to_be_bytes()).await.unwrap();
        let mut reader = FrameReader::new(server, 1 << 20);
        assert!(matches!(
            reader.read().await,
            Err(ConnectionError::Protocol(_))
        ));
        assert_eq!(reader.buffer.capacity(), 0);
    }

    #[tokio::test]
    async fn a_long_frame_is_not_allocated_before_its_bytes_arrive() {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let mut reader = FrameReader::new(server, 65_537);
        // 65,537 bytes announced, 100 sent, then the peer stops.
        client.write_all(&65_537u32.to_be_bytes()).await.unwrap();
        client.write_all(&[2; 100]).await.unwrap();
        drop(client);
        assert!(matches!(
            reader.read().await,
            Err(ConnectionError::Closed { .. })
        ));
        let held = reader.buffer.capacity();
        assert!(
            held <= 2 * FIRST_GROWTH,
            "{held} bytes held for 100 received"
        );

        // A whole long frame still arrives intact, in pieces of any size.
        let (client, server) = tokio::io::duplex(1000);
        let mut reader = FrameReader::new(server, 65_537);
        let body: Vec<u8> = (0..65_536u32).map(|i| (i % 251) as u8).collect();
        let sender = tokio::spawn(async move {
            let mut writer = FrameWriter::new(client);
            writer.write(FrameKind::Token, &[&body]).await.unwrap();
            drop(writer.into_inner());
            body
        });
        let (kind, got) = reader.read().await.unwrap().unwrap();
        assert_eq!(kind, FrameKind::Token);
        let got = got.to_vec();
        assert_eq!(got, sender.await.unwrap());
    }

    #[test]
    fn reasons_are_cut_on_character_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
