//! ExportSecurityContext / ImportSecurityContext: the packed-context blob and
//! the helpers a package writes and reads its part of it with.
//!
//! **The blob holds secrets.** It carries the context's session keys,
//! sequence numbers and cipher states: whoever holds it can read, forge and
//! replay the context's messages. Keep it in [`SecretBytes`] (wiped when
//! dropped), pass it only over a channel as private as the keys themselves
//! (a pipe to a child process, a socket pair, never a file others can read),
//! and never log it.
//!
//! ## The format (version 1)
//!
//! ```text
//! magic         8 bytes  "SSPICTX\0"
//! version       u16 BE   1
//! side          u8       1 client (InitializeSecurityContext), 2 server (AcceptSecurityContext)
//! name length   u8       1..=64
//! package name  UTF-8    the package that made the context ("NTLM")
//! payload len   u32 BE   at most MAX_PAYLOAD
//! payload       bytes    the package's own state (EstablishedContext::export_context)
//! digest        32 bytes SHA-256 of every byte before it
//! ```
//!
//! The digest detects a corrupted or truncated blob, and the name a blob of
//! another package; **it is not a MAC**: anyone who can change the blob can
//! recompute it (and whoever holds the blob holds the keys anyway). The
//! parser is strict and bounded: every length is checked against the bytes
//! present before anything is read or allocated, and any fault is
//! SEC_E_INVALID_TOKEN naming it.

use crate::{SecretBytes, SecurityError, SecurityResult, SequenceNumbers};
use abi_stable::StableAbi;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The blob's first eight bytes.
pub const MAGIC: [u8; 8] = *b"SSPICTX\0";
/// The format version this code writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// The longest package name a blob may carry.
pub const MAX_PACKAGE_NAME: usize = 64;
/// The largest payload a blob may carry (64 KiB; the shipped packages need under 1 KiB).
pub const MAX_PAYLOAD: usize = 64 * 1024;
const DIGEST_LEN: usize = 32;

/// Which side of the handshake a context was: what it answers, and which
/// import hook of the package rebuilds it.
#[repr(u8)]
#[derive(StableAbi, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ContextSide {
    /// Made by InitializeSecurityContext.
    Client = 1,
    /// Made by AcceptSecurityContext.
    Server = 2,
}

impl ContextSide {
    /// "client" or "server".
    pub fn name(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Server => "server",
        }
    }
}

/// A context as its package exported it: its side and the package's payload
/// (secret: keys and sequence numbers), before the host frames it into a blob
/// with [`encode`].
#[repr(C)]
#[derive(StableAbi, Debug)]
pub struct ExportedContext {
    /// The side the context was.
    pub side: ContextSide,
    /// The package's state, as [`crate::EstablishedContext::export_context`] wrote it.
    pub payload: SecretBytes,
}

/// A blob taken apart by [`decode`]: the package it names, the side, and the
/// package's payload (borrowed from the blob).
pub struct DecodedBlob<'a> {
    /// The package name as the exporter wrote it.
    pub package: &'a str,
    /// The side the context was.
    pub side: ContextSide,
    /// The package's payload (secret).
    pub payload: &'a [u8],
}

fn invalid(message: impl std::fmt::Display) -> SecurityError {
    SecurityError::invalid_token(format!("packed security context: {message}"))
}

/// Frames `context` of package `package` as a version-1 blob.
pub fn encode(package: &str, context: &ExportedContext) -> SecurityResult<SecretBytes> {
    let name = package.as_bytes();
    if name.is_empty() || name.len() > MAX_PACKAGE_NAME {
        return Err(SecurityError::internal(format!(
            "cannot export a context of a package whose name has {} bytes (1..={MAX_PACKAGE_NAME})",
            name.len()
        )));
    }
    let payload = context.payload.expose();
    if payload.len() > MAX_PAYLOAD {
        return Err(SecurityError::internal(format!(
            "package {package} exported {} bytes of context state, more than {MAX_PAYLOAD}",
            payload.len()
        )));
    }
    let mut out = Zeroizing::new(Vec::with_capacity(
        MAGIC.len() + 8 + name.len() + payload.len() + DIGEST_LEN,
    ));
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    out.push(context.side as u8);
    out.push(name.len() as u8);
    out.extend_from_slice(name);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    let digest = Sha256::digest(out.as_slice());
    out.extend_from_slice(&digest);
    Ok(SecretBytes::new(std::mem::take(&mut *out)))
}

/// Takes a blob apart, checking, in this order: the magic, the format
/// version, every length against the bytes present (a truncated blob, or
/// bytes after its end), the SHA-256 digest, the side and the name's UTF-8.
/// Every fault is SEC_E_INVALID_TOKEN naming it; no input panics.
pub fn decode(blob: &[u8]) -> SecurityResult<DecodedBlob<'_>> {
    let mut reader = PayloadReader::new(blob);
    let magic = reader
        .bytes(MAGIC.len(), "magic")
        .map_err(|_| invalid(format_args!("{} bytes is too short to be one", blob.len())))?;
    if magic != MAGIC {
        return Err(invalid(
            "it does not start with \"SSPICTX\\0\": not a context exported by sspi-plug",
        ));
    }
    let version = reader.u16("format version")?;
    if version != FORMAT_VERSION {
        return Err(invalid(format_args!(
            "format version {version} is not supported (this host reads version {FORMAT_VERSION})"
        )));
    }
    let side = reader.u8("side")?;
    let name_len = reader.u8("package name length")? as usize;
    let name = reader.bytes(name_len, "package name")?;
    let payload_len = reader.u32("payload length")? as usize;
    if payload_len > MAX_PAYLOAD {
        return Err(invalid(format_args!(
            "its payload length {payload_len} is over the limit of {MAX_PAYLOAD} bytes"
        )));
    }
    let payload = reader.bytes(payload_len, "payload")?;
    let signed_len = blob.len() - reader.remaining();
    let digest = reader.bytes(DIGEST_LEN, "digest")?;
    if reader.remaining() != 0 {
        return Err(invalid(format_args!(
            "{} bytes follow its digest (the blob is {} bytes, its header announces {})",
            reader.remaining(),
            blob.len(),
            signed_len + DIGEST_LEN
        )));
    }
    let expected = Sha256::digest(&blob[..signed_len]);
    if !bool::from(expected.as_slice().ct_eq(digest)) {
        return Err(invalid(
            "its SHA-256 digest does not match its contents: it was altered or corrupted",
        ));
    }
    let side = match side {
        1 => ContextSide::Client,
        2 => ContextSide::Server,
        other => {
            return Err(invalid(format_args!(
                "side {other} is neither 1 (client) nor 2 (server)"
            )));
        }
    };
    if name_len == 0 || name_len > MAX_PACKAGE_NAME {
        return Err(invalid(format_args!(
            "its package name has {name_len} bytes (1..={MAX_PACKAGE_NAME})"
        )));
    }
    let package =
        std::str::from_utf8(name).map_err(|_| invalid("its package name is not UTF-8"))?;
    Ok(DecodedBlob {
        package,
        side,
        payload,
    })
}

impl std::fmt::Debug for DecodedBlob<'_> {
    /// The package and side; the payload's length only (it is secret).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedBlob")
            .field("package", &self.package)
            .field("side", &self.side)
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

/// Writes a package's payload: fixed-width big-endian integers and
/// length-prefixed byte strings, into zeroizing memory.
///
/// ```
/// use sspi_core::context_export::{PayloadReader, PayloadWriter};
///
/// let mut w = PayloadWriter::new(1);
/// w.u32(7).bytes(b"key").str("alice");
/// let payload = w.finish();
/// let mut r = PayloadReader::payload(payload.expose(), 1, "Mine")?;
/// assert_eq!(r.u32("flags")?, 7);
/// assert_eq!(r.len_bytes(64, "key")?, b"key");
/// assert_eq!(r.str(256, "client name")?, "alice");
/// r.finish()?;
/// # Ok::<(), sspi_core::SecurityError>(())
/// ```
pub struct PayloadWriter(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for PayloadWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PayloadWriter(<{} bytes redacted>)", self.0.len())
    }
}

impl PayloadWriter {
    /// A payload of the package's own format `version` (its first byte).
    pub fn new(version: u8) -> Self {
        let mut writer = Self(Zeroizing::new(Vec::with_capacity(1024)));
        writer.u8(version);
        writer
    }

    /// Makes room for `more` bytes without leaving a copy of the secret in
    /// freed memory: the old buffer is wiped when the new one replaces it.
    fn reserve(&mut self, more: usize) {
        let needed = self.0.len().saturating_add(more);
        if needed > self.0.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(needed.max(2 * self.0.capacity())));
            bigger.extend_from_slice(&self.0);
            self.0 = bigger;
        }
    }

    /// One byte.
    pub fn u8(&mut self, value: u8) -> &mut Self {
        self.reserve(1);
        self.0.push(value);
        self
    }

    /// A boolean, as one byte 0 or 1.
    pub fn bool(&mut self, value: bool) -> &mut Self {
        self.u8(u8::from(value))
    }

    /// A u16, big-endian.
    pub fn u16(&mut self, value: u16) -> &mut Self {
        self.reserve(std::mem::size_of_val(&value));
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// A u32, big-endian.
    pub fn u32(&mut self, value: u32) -> &mut Self {
        self.reserve(std::mem::size_of_val(&value));
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// A u64, big-endian.
    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.reserve(std::mem::size_of_val(&value));
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// An i64, big-endian (a [`crate::TimeStamp`]).
    pub fn i64(&mut self, value: i64) -> &mut Self {
        self.reserve(std::mem::size_of_val(&value));
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// Bytes of a fixed length the reader knows (a key of known size).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.reserve(bytes.len());
        self.0.extend_from_slice(bytes);
        self
    }

    /// Bytes with a u32 length before them.
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.u32(bytes.len() as u32);
        self.raw(bytes)
    }

    /// A UTF-8 string with a u32 length before it.
    pub fn str(&mut self, text: &str) -> &mut Self {
        self.bytes(text.as_bytes())
    }

    /// [`SequenceNumbers`]: next send, next receive, last, exhausted flags.
    pub fn sequence(&mut self, numbers: &SequenceNumbers) -> &mut Self {
        let (send, receive, last) = numbers.state();
        self.optional_u64(send).optional_u64(receive).u64(last)
    }

    fn optional_u64(&mut self, value: Option<u64>) -> &mut Self {
        match value {
            Some(value) => self.u8(1).u64(value),
            None => self.u8(0).u64(0),
        }
    }

    /// The payload.
    pub fn finish(mut self) -> SecretBytes {
        SecretBytes::new(std::mem::take(&mut *self.0))
    }
}

/// Reads a package's payload strictly: every read is bounded by the bytes
/// present and fails with SEC_E_INVALID_TOKEN naming the field.
pub struct PayloadReader<'a> {
    rest: &'a [u8],
    package: &'a str,
}

impl std::fmt::Debug for PayloadReader<'_> {
    /// The bytes left are secret: only their number is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PayloadReader({} bytes left, redacted)", self.rest.len())
    }
}

impl<'a> PayloadReader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            package: "",
        }
    }

    /// A reader of `package`'s payload, which must be of its format `version`
    /// (the byte [`PayloadWriter::new`] wrote first).
    pub fn payload(bytes: &'a [u8], version: u8, package: &'a str) -> SecurityResult<Self> {
        let mut reader = Self {
            rest: bytes,
            package,
        };
        let found = reader.u8("payload version")?;
        if found != version {
            return Err(reader.error(format_args!(
                "payload version {found} is not supported (this {package} package reads version {version})"
            )));
        }
        Ok(reader)
    }

    fn error(&self, message: impl std::fmt::Display) -> SecurityError {
        if self.package.is_empty() {
            invalid(message)
        } else {
            SecurityError::invalid_token(format!(
                "packed {} security context: {message}",
                self.package
            ))
        }
    }

    /// An error naming `field` as invalid for `why`, for the package's own checks.
    pub fn invalid(&self, field: &str, why: impl std::fmt::Display) -> SecurityError {
        self.error(format_args!("{field}: {why}"))
    }

    /// The bytes left.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// `len` bytes.
    pub fn bytes(&mut self, len: usize, field: &str) -> SecurityResult<&'a [u8]> {
        if self.rest.len() < len {
            return Err(self.error(format_args!(
                "truncated: {field} needs {len} bytes, {} are left",
                self.rest.len()
            )));
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Ok(head)
    }

    /// `N` bytes as an array.
    pub fn array<const N: usize>(&mut self, field: &str) -> SecurityResult<[u8; N]> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N, field)?);
        Ok(out)
    }

    /// One byte.
    pub fn u8(&mut self, field: &str) -> SecurityResult<u8> {
        Ok(self.array::<1>(field)?[0])
    }

    /// A boolean: exactly 0 or 1.
    pub fn bool(&mut self, field: &str) -> SecurityResult<bool> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(self.invalid(field, format_args!("{other} is not a boolean (0 or 1)"))),
        }
    }

    /// A big-endian u16.
    pub fn u16(&mut self, field: &str) -> SecurityResult<u16> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    /// A big-endian u32.
    pub fn u32(&mut self, field: &str) -> SecurityResult<u32> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    /// A big-endian u64.
    pub fn u64(&mut self, field: &str) -> SecurityResult<u64> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    /// A big-endian i64.
    pub fn i64(&mut self, field: &str) -> SecurityResult<i64> {
        Ok(i64::from_be_bytes(self.array(field)?))
    }

    /// Bytes with a u32 length before them, at most `max` of them.
    pub fn len_bytes(&mut self, max: usize, field: &str) -> SecurityResult<&'a [u8]> {
        let len = self.u32(field)? as usize;
        if len > max {
            return Err(self.invalid(field, format_args!("{len} bytes, more than {max}")));
        }
        self.bytes(len, field)
    }

    /// A UTF-8 string with a u32 length before it, at most `max` bytes.
    pub fn str(&mut self, max: usize, field: &str) -> SecurityResult<&'a str> {
        let bytes = self.len_bytes(max, field)?;
        std::str::from_utf8(bytes).map_err(|_| self.invalid(field, "not UTF-8"))
    }

    /// [`SequenceNumbers`] as [`PayloadWriter::sequence`] wrote them.
    pub fn sequence(&mut self, field: &str) -> SecurityResult<SequenceNumbers> {
        let send = self.optional_u64(field)?;
        let receive = self.optional_u64(field)?;
        let last = self.u64(field)?;
        SequenceNumbers::from_state(send, receive, last).map_err(|why| self.invalid(field, why))
    }

    fn optional_u64(&mut self, field: &str) -> SecurityResult<Option<u64>> {
        let present = self.bool(field)?;
        let value = self.u64(field)?;
        match (present, value) {
            (true, value) => Ok(Some(value)),
            (false, 0) => Ok(None),
            (false, _) => Err(self.invalid(field, "an exhausted counter must be 0")),
        }
    }

    /// Checks that every byte was read.
    pub fn finish(self) -> SecurityResult<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.error(format_args!(
                "{} bytes follow the last field",
                self.rest.len()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecurityStatus;

    fn blob() -> SecretBytes {
        encode(
            "Test",
            &ExportedContext {
                side: ContextSide::Server,
                payload: SecretBytes::new(b"payload".to_vec()),
            },
        )
        .unwrap()
    }

    #[test]
    fn a_blob_round_trips() {
        let blob = blob();
        let decoded = decode(blob.expose()).unwrap();
        assert_eq!(decoded.package, "Test");
        assert_eq!(decoded.side, ContextSide::Server);
        assert_eq!(decoded.payload, b"payload");
    }

    #[test]
    fn every_changed_byte_and_every_cut_is_refused() {
        let blob = blob().expose().to_vec();
        for at in 0..blob.len() {
            let mut bad = blob.clone();
            bad[at] ^= 0x01;
            let e = decode(&bad).unwrap_err();
            assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_TOKEN, "byte {at}");
        }
        for cut in 0..blob.len() {
            let e = decode(&blob[..cut]).unwrap_err();
            assert_eq!(e.status(), SecurityStatus::SEC_E_INVALID_TOKEN, "cut {cut}");
        }
        let e = decode(&[&blob[..], b"x"].concat()).unwrap_err();
        assert!(e.message().contains("1 bytes follow its digest"), "{e}");
    }

    #[test]
    fn the_messages_name_the_fault() {
        let blob = blob().expose().to_vec();
        let mut version = blob.clone();
        version[9] = 2;
        let e = decode(&version).unwrap_err();
        assert!(
            e.message().contains("format version 2 is not supported"),
            "{e}"
        );
        let mut tampered = blob.clone();
        let last_payload = blob.len() - DIGEST_LEN - 1;
        tampered[last_payload] ^= 0x80;
        let e = decode(&tampered).unwrap_err();
        assert!(e.message().contains("digest does not match"), "{e}");
        let e = decode(&blob[..blob.len() - 1]).unwrap_err();
        assert!(e.message().contains("truncated"), "{e}");
        let e = decode(b"not a blob at all").unwrap_err();
        assert!(e.message().contains("SSPICTX"), "{e}");
    }

    #[test]
    fn a_growing_payload_keeps_its_bytes_and_debug_shows_none() {
        let mut w = PayloadWriter::new(1);
        for n in 0..3000u32 {
            w.u32(n);
        }
        assert!(format!("{w:?}").contains("redacted"));
        let payload = w.finish();
        let mut r = PayloadReader::payload(payload.expose(), 1, "P").unwrap();
        assert!(!format!("{r:?}").contains('['));
        for n in 0..3000u32 {
            assert_eq!(r.u32("n").unwrap(), n);
        }
        r.finish().unwrap();
        let blob = blob();
        let decoded = decode(blob.expose()).unwrap();
        assert!(!format!("{decoded:?}").contains("112"), "{decoded:?}");
    }

    #[test]
    fn payload_reader_is_strict() {
        let mut w = PayloadWriter::new(3);
        w.bool(true)
            .u64(9)
            .sequence(&SequenceNumbers::new(4, 5, u32::MAX.into()));
        let payload = w.finish();
        let mut r = PayloadReader::payload(payload.expose(), 3, "P").unwrap();
        assert!(r.bool("b").unwrap());
        assert_eq!(r.u64("n").unwrap(), 9);
        assert_eq!(
            r.sequence("seq").unwrap(),
            SequenceNumbers::new(4, 5, u32::MAX.into())
        );
        r.finish().unwrap();
        let e = PayloadReader::payload(payload.expose(), 4, "P").unwrap_err();
        assert!(e.message().contains("payload version 3"), "{e}");
        let mut r = PayloadReader::payload(payload.expose(), 3, "P").unwrap();
        let e = r.len_bytes(4, "key").unwrap_err();
        assert!(e.message().contains("key"), "{e}");
    }
}
