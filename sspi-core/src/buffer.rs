//! `SecBuffer`: a typed window on caller memory, passed to packages without copying.

use crate::MessageError;
use abi_stable::{
    StableAbi,
    std_types::{RSlice, RSliceMut},
};
use std::fmt;

/// A `SecBuffer`'s `BufferType`: a `SECBUFFER_*` type, possibly with attribute bits.
#[repr(transparent)]
#[derive(StableAbi, Copy, Clone, PartialEq, Eq, Hash)]
pub struct SecBufferType(pub u32);

impl SecBufferType {
    /// SECBUFFER_EMPTY: unused.
    pub const EMPTY: Self = Self(0);
    /// SECBUFFER_DATA: message data.
    pub const DATA: Self = Self(1);
    /// SECBUFFER_TOKEN: a security token (handshake token, signature, trailer).
    pub const TOKEN: Self = Self(2);
    /// SECBUFFER_PKG_PARAMS: package parameters.
    pub const PKG_PARAMS: Self = Self(3);
    /// SECBUFFER_MISSING: how many more bytes are needed.
    pub const MISSING: Self = Self(4);
    /// SECBUFFER_EXTRA: input that was not consumed.
    pub const EXTRA: Self = Self(5);
    /// SECBUFFER_STREAM_TRAILER
    pub const STREAM_TRAILER: Self = Self(6);
    /// SECBUFFER_STREAM_HEADER
    pub const STREAM_HEADER: Self = Self(7);
    /// SECBUFFER_NEGOTIATION_INFO
    pub const NEGOTIATION_INFO: Self = Self(8);
    /// SECBUFFER_PADDING: block-cipher padding.
    pub const PADDING: Self = Self(9);
    /// SECBUFFER_STREAM: a whole stream record.
    pub const STREAM: Self = Self(10);
    /// SECBUFFER_MECHLIST
    pub const MECHLIST: Self = Self(11);
    /// SECBUFFER_MECHLIST_SIGNATURE
    pub const MECHLIST_SIGNATURE: Self = Self(12);
    /// SECBUFFER_TARGET
    pub const TARGET: Self = Self(13);
    /// SECBUFFER_CHANNEL_BINDINGS: channel-binding data supplied by the application.
    pub const CHANNEL_BINDINGS: Self = Self(14);
    /// SECBUFFER_ALERT
    pub const ALERT: Self = Self(17);

    /// SECBUFFER_ATTRMASK: the attribute bits.
    pub const ATTRMASK: u32 = 0xF000_0000;
    /// SECBUFFER_READONLY: input only; signed but not encrypted.
    pub const READONLY: u32 = 0x8000_0000;
    /// SECBUFFER_READONLY_WITH_CHECKSUM
    pub const READONLY_WITH_CHECKSUM: u32 = 0x1000_0000;

    /// The type without its attribute bits.
    pub const fn kind(self) -> SecBufferType {
        SecBufferType(self.0 & !Self::ATTRMASK)
    }

    /// True when the SECBUFFER_READONLY or READONLY_WITH_CHECKSUM attribute is set.
    pub const fn is_readonly(self) -> bool {
        self.0 & (Self::READONLY | Self::READONLY_WITH_CHECKSUM) != 0
    }

    /// The same type with SECBUFFER_READONLY set.
    pub const fn readonly(self) -> SecBufferType {
        SecBufferType(self.0 | Self::READONLY)
    }

    /// The SSPI name of the type (`"SECBUFFER_TOKEN"`).
    pub const fn name(self) -> &'static str {
        match self.kind().0 {
            0 => "SECBUFFER_EMPTY",
            1 => "SECBUFFER_DATA",
            2 => "SECBUFFER_TOKEN",
            3 => "SECBUFFER_PKG_PARAMS",
            4 => "SECBUFFER_MISSING",
            5 => "SECBUFFER_EXTRA",
            6 => "SECBUFFER_STREAM_TRAILER",
            7 => "SECBUFFER_STREAM_HEADER",
            8 => "SECBUFFER_NEGOTIATION_INFO",
            9 => "SECBUFFER_PADDING",
            10 => "SECBUFFER_STREAM",
            11 => "SECBUFFER_MECHLIST",
            12 => "SECBUFFER_MECHLIST_SIGNATURE",
            13 => "SECBUFFER_TARGET",
            14 => "SECBUFFER_CHANNEL_BINDINGS",
            17 => "SECBUFFER_ALERT",
            _ => "SECBUFFER_UNKNOWN",
        }
    }
}

impl fmt::Debug for SecBufferType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        if self.0 & Self::READONLY != 0 {
            f.write_str(" | SECBUFFER_READONLY")?;
        }
        if self.0 & Self::READONLY_WITH_CHECKSUM != 0 {
            f.write_str(" | SECBUFFER_READONLY_WITH_CHECKSUM")?;
        }
        Ok(())
    }
}

/// One `SecBuffer`: a buffer type and a window on memory the caller owns.
///
/// As in SSPI, the window's length is `cbBuffer`: on input it is the space the
/// caller offers, and a package that writes less (a signature, an output token)
/// shrinks it with [`SecBuffer::truncate`] so the caller sees what was written.
/// Packages work in place: nothing is copied when a buffer crosses the plugin boundary.
#[repr(C)]
#[derive(StableAbi)]
pub struct SecBuffer<'a> {
    buffer_type: SecBufferType,
    data: RSliceMut<'a, u8>,
}

impl<'a> SecBuffer<'a> {
    /// A buffer of the given type over `data`.
    pub fn new(buffer_type: SecBufferType, data: &'a mut [u8]) -> Self {
        Self {
            buffer_type,
            data: RSliceMut::from_mut_slice(data),
        }
    }

    /// A SECBUFFER_TOKEN buffer.
    pub fn token(data: &'a mut [u8]) -> Self {
        Self::new(SecBufferType::TOKEN, data)
    }

    /// A SECBUFFER_DATA buffer.
    pub fn data(data: &'a mut [u8]) -> Self {
        Self::new(SecBufferType::DATA, data)
    }

    /// A SECBUFFER_EMPTY buffer with no memory.
    pub fn empty() -> Self {
        Self::new(SecBufferType::EMPTY, &mut [])
    }

    /// The buffer's type, with attribute bits.
    pub fn buffer_type(&self) -> SecBufferType {
        self.buffer_type
    }

    /// The buffer's type without attribute bits.
    pub fn kind(&self) -> SecBufferType {
        self.buffer_type.kind()
    }

    /// Changes the buffer's type (e.g. a package marking an unused buffer EMPTY).
    pub fn set_buffer_type(&mut self, buffer_type: SecBufferType) {
        self.buffer_type = buffer_type;
    }

    /// `cbBuffer`: the length of the window.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the window is empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The bytes in the window.
    pub fn as_slice(&self) -> &[u8] {
        &self.data
    }

    /// The bytes in the window, writable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// Shrinks the window to its first `len` bytes (sets `cbBuffer`); a larger
    /// `len` leaves it as it is.
    pub fn truncate(&mut self, len: usize) {
        if len < self.data.len() {
            let all = std::mem::take(&mut self.data).into_mut_slice();
            self.data = RSliceMut::from_mut_slice(&mut all[..len]);
        }
    }
}

impl<'a> SecBuffer<'a> {
    /// Hands the bytes `range` of this buffer's window to `to`, without a
    /// copy: `to`'s window becomes exactly those bytes (its old window is let
    /// go, not written) and this buffer keeps the bytes before `range`; the
    /// bytes after it leave both windows. This is how DecryptMessage with a
    /// `SECBUFFER_STREAM` buffer and an empty DATA buffer makes DATA refer to
    /// the plaintext it opened inside the stream. A `range` outside the
    /// window changes nothing and returns `false`.
    ///
    /// ```
    /// use sspi_core::SecBuffer;
    /// let mut record = *b"HDRplaintextTRL";
    /// let mut stream = SecBuffer::new(sspi_core::SecBufferType::STREAM, &mut record);
    /// let mut data = SecBuffer::data(&mut []);
    /// assert!(stream.hand_over(3..12, &mut data));
    /// assert_eq!(data.as_slice(), b"plaintext");
    /// assert_eq!(stream.as_slice(), b"HDR");
    /// ```
    pub fn hand_over(&mut self, range: std::ops::Range<usize>, to: &mut SecBuffer<'a>) -> bool {
        if range.start > range.end || range.end > self.data.len() {
            return false;
        }
        let all = std::mem::take(&mut self.data).into_mut_slice();
        let (before, rest) = all.split_at_mut(range.start);
        let (inside, _after) = rest.split_at_mut(range.end - range.start);
        self.data = RSliceMut::from_mut_slice(before);
        to.data = RSliceMut::from_mut_slice(inside);
        true
    }
}

impl fmt::Debug for SecBuffer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecBuffer")
            .field("buffer_type", &self.buffer_type)
            .field("len", &self.len())
            .finish()
    }
}

/// A read-only `SecBuffer`: a buffer type and a window on memory the caller
/// owns, for what a call only reads (the peer's token, channel bindings).
/// Received tokens cross the plugin boundary without a copy.
#[repr(C)]
#[derive(StableAbi, Copy, Clone)]
pub struct SecBufferRef<'a> {
    buffer_type: SecBufferType,
    data: RSlice<'a, u8>,
}

impl<'a> SecBufferRef<'a> {
    /// A read-only buffer of the given type over `data`.
    pub const fn new(buffer_type: SecBufferType, data: &'a [u8]) -> Self {
        Self {
            buffer_type,
            data: RSlice::from_slice(data),
        }
    }

    /// A SECBUFFER_TOKEN buffer: the token the peer sent.
    pub const fn token(data: &'a [u8]) -> Self {
        Self::new(SecBufferType::TOKEN, data)
    }

    /// A SECBUFFER_CHANNEL_BINDINGS buffer: a `SEC_CHANNEL_BINDINGS` structure
    /// (see [`crate::sec_channel_bindings`]).
    pub const fn channel_bindings(data: &'a [u8]) -> Self {
        Self::new(SecBufferType::CHANNEL_BINDINGS, data)
    }

    /// The buffer's type, with attribute bits.
    pub fn buffer_type(&self) -> SecBufferType {
        self.buffer_type
    }

    /// The buffer's type without attribute bits.
    pub fn kind(&self) -> SecBufferType {
        self.buffer_type.kind()
    }

    /// The bytes in the window.
    pub fn as_slice(&self) -> &'a [u8] {
        self.data.as_slice()
    }

    /// `cbBuffer`.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when the window is empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl fmt::Debug for SecBufferRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecBufferRef")
            .field("buffer_type", &self.buffer_type)
            .field("len", &self.len())
            .finish()
    }
}

impl<'a> From<&'a SecBuffer<'_>> for SecBufferRef<'a> {
    fn from(buffer: &'a SecBuffer<'_>) -> Self {
        Self::new(buffer.buffer_type(), buffer.as_slice())
    }
}

/// Helpers for a `SecBufferDesc`: the slice of buffers one call works on.
/// None of them allocates, so per-message calls can use them.
pub trait SecBuffers<'a> {
    /// The first buffer of `kind` (attribute bits ignored).
    fn find(&self, kind: SecBufferType) -> Option<&SecBuffer<'a>>;
    /// The first buffer of `kind` (attribute bits ignored), writable.
    fn find_mut(&mut self, kind: SecBufferType) -> Option<&mut SecBuffer<'a>>;
    /// The TOKEN buffer of a per-message call, or SEC_E_INVALID_TOKEN.
    fn token_mut(&mut self) -> Result<&mut SecBuffer<'a>, MessageError>;
    /// The TOKEN buffer and the one writable DATA buffer of a sealing call:
    /// SEC_E_INVALID_TOKEN without a TOKEN, SEC_E_INVALID_PARAMETER without
    /// exactly one DATA buffer or with a READONLY one.
    #[allow(clippy::type_complexity)]
    fn token_and_data_mut(
        &mut self,
    ) -> Result<(&mut SecBuffer<'a>, &mut SecBuffer<'a>), MessageError>;
    /// The STREAM buffer and the one writable DATA buffer of a DecryptMessage
    /// given a whole token in one `SECBUFFER_STREAM` buffer: `Ok(None)`
    /// without a STREAM buffer (the caller uses another form),
    /// SEC_E_INVALID_PARAMETER with a STREAM buffer but not exactly one
    /// writable DATA buffer (its window is replaced, see [`SecBuffer::hand_over`]).
    #[allow(clippy::type_complexity)]
    fn stream_and_data_mut(
        &mut self,
    ) -> Result<Option<(&mut SecBuffer<'a>, &mut SecBuffer<'a>)>, MessageError>;
}

impl<'a> SecBuffers<'a> for [SecBuffer<'a>] {
    fn find(&self, kind: SecBufferType) -> Option<&SecBuffer<'a>> {
        self.iter().find(|b| b.kind() == kind)
    }

    fn find_mut(&mut self, kind: SecBufferType) -> Option<&mut SecBuffer<'a>> {
        self.iter_mut().find(|b| b.kind() == kind)
    }

    fn token_mut(&mut self) -> Result<&mut SecBuffer<'a>, MessageError> {
        self.find_mut(SecBufferType::TOKEN)
            .ok_or(MessageError::invalid_token(
                "the message has no SECBUFFER_TOKEN buffer",
            ))
    }

    fn token_and_data_mut(
        &mut self,
    ) -> Result<(&mut SecBuffer<'a>, &mut SecBuffer<'a>), MessageError> {
        let mut token = None;
        let mut data = None;
        for buffer in self.iter_mut() {
            match buffer.kind() {
                SecBufferType::TOKEN if token.is_none() => token = Some(buffer),
                SecBufferType::DATA if buffer.buffer_type().is_readonly() => {
                    return Err(MessageError::invalid_parameter(
                        "the DATA buffer to seal is marked SECBUFFER_READONLY",
                    ));
                }
                SecBufferType::DATA if data.is_none() => data = Some(buffer),
                SecBufferType::DATA => {
                    return Err(MessageError::invalid_parameter(
                        "sealing takes exactly one DATA buffer",
                    ));
                }
                _ => {}
            }
        }
        match (token, data) {
            (Some(token), Some(data)) => Ok((token, data)),
            (None, _) => Err(MessageError::invalid_token(
                "the message has no SECBUFFER_TOKEN buffer",
            )),
            (_, None) => Err(MessageError::invalid_parameter(
                "the message has no DATA buffer",
            )),
        }
    }

    fn stream_and_data_mut(
        &mut self,
    ) -> Result<Option<(&mut SecBuffer<'a>, &mut SecBuffer<'a>)>, MessageError> {
        // Without a STREAM buffer the message is in another form: its DATA
        // buffers (READONLY ones included) are not this function's to judge.
        if !self.iter().any(|b| b.kind() == SecBufferType::STREAM) {
            return Ok(None);
        }
        let mut stream = None;
        let mut data = None;
        for buffer in self.iter_mut() {
            match buffer.kind() {
                SecBufferType::STREAM if stream.is_none() => stream = Some(buffer),
                SecBufferType::STREAM => {
                    return Err(MessageError::invalid_parameter(
                        "the message has more than one SECBUFFER_STREAM buffer",
                    ));
                }
                SecBufferType::DATA if buffer.buffer_type().is_readonly() => {
                    return Err(MessageError::invalid_parameter(
                        "the DATA buffer that receives the plaintext is marked SECBUFFER_READONLY",
                    ));
                }
                SecBufferType::DATA if data.is_none() => data = Some(buffer),
                SecBufferType::DATA => {
                    return Err(MessageError::invalid_parameter(
                        "a SECBUFFER_STREAM message takes exactly one DATA buffer",
                    ));
                }
                _ => {}
            }
        }
        match (stream, data) {
            (None, _) => Ok(None),
            (Some(stream), Some(data)) => Ok(Some((stream, data))),
            (Some(_), None) => Err(MessageError::invalid_parameter(
                "a SECBUFFER_STREAM message needs an (empty) DATA buffer to receive the plaintext",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_sets_cb_buffer_and_never_grows() {
        let mut mem = [1u8, 2, 3, 4];
        let mut buf = SecBuffer::token(&mut mem);
        buf.truncate(10);
        assert_eq!(buf.len(), 4);
        buf.truncate(2);
        assert_eq!(buf.as_slice(), &[1, 2]);
        assert!(SecBufferType::DATA.readonly().is_readonly());
        assert_eq!(SecBufferType::DATA.readonly().kind(), SecBufferType::DATA);
    }

    #[test]
    fn hand_over_points_data_into_the_stream_and_refuses_bad_ranges() {
        let mut record = [1u8, 2, 3, 4, 5, 6];
        let mut old = [9u8; 2];
        let mut message = [
            SecBuffer::new(SecBufferType::STREAM, &mut record),
            SecBuffer::data(&mut old),
        ];
        let (stream, data) = message.stream_and_data_mut().unwrap().unwrap();
        assert!(!stream.hand_over(2..7, data), "past the end");
        #[allow(clippy::reversed_empty_ranges)]
        let reversed = 4..3;
        assert!(!stream.hand_over(reversed, data));
        assert_eq!((stream.len(), data.as_slice()), (6, &[9u8, 9][..]));
        assert!(stream.hand_over(2..5, data));
        assert_eq!(data.as_slice(), &[3, 4, 5]);
        assert_eq!(stream.as_slice(), &[1, 2]);
        data.as_mut_slice()[0] = 0xAA;
        let _ = message;
        assert_eq!(record, [1, 2, 0xAA, 4, 5, 6], "in place, no copy");
    }

    #[test]
    fn stream_and_data_mut_wants_one_writable_data_buffer() {
        let mut a = [0u8; 4];
        let mut none = [SecBuffer::data(&mut a)];
        assert!(none.stream_and_data_mut().unwrap().is_none());
        let (mut s, mut d) = ([0u8; 4], [0u8; 0]);
        let mut missing = [SecBuffer::new(SecBufferType::STREAM, &mut s)];
        let e = missing.stream_and_data_mut().unwrap_err();
        assert_eq!(e.status(), crate::SecurityStatus::SEC_E_INVALID_PARAMETER);
        let mut readonly = [
            SecBuffer::new(SecBufferType::STREAM, &mut s),
            SecBuffer::new(SecBufferType::DATA.readonly(), &mut d),
        ];
        assert!(readonly.stream_and_data_mut().is_err());
    }
}
