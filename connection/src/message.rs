//! Protected messages after the handshake: sealed (EncryptMessage) or signed
//! (MakeSignature), built and opened in place in the frame buffers.

use crate::ConnectionError;
use crate::frame::{FrameKind, FrameWriter};
use sspi_core::{Qop, SecBuffer, SecurityError};
use sspi_plugin_host::SecurityContextHandle;
use tokio::io::AsyncWrite;

/// How messages are protected after the handshake; the client chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ProtectionLevel {
    /// EncryptMessage / DecryptMessage: confidentiality and integrity.
    Sealed = 1,
    /// MakeSignature / VerifySignature: integrity only, the data travels in clear.
    Signed = 2,
}

impl ProtectionLevel {
    /// The protection a hello's byte names.
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(Self::Sealed),
            2 => Some(Self::Signed),
            _ => None,
        }
    }
}

impl std::fmt::Display for ProtectionLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sealed => "sealed",
            Self::Signed => "signed",
        })
    }
}

fn refused(call: &str, error: sspi_core::MessageError) -> ConnectionError {
    ConnectionError::Security(SecurityError::new(
        error.status(),
        format!("{call} failed: {}", error.reason()),
    ))
}

/// Protects `data` with `context` and sends it as one message frame.
/// `trailer_room` is the larger of the context's signature and trailer sizes.
pub async fn send<W: AsyncWrite + Unpin>(
    writer: &mut FrameWriter<W>,
    context: &mut SecurityContextHandle,
    protection: ProtectionLevel,
    trailer_room: usize,
    data: &[u8],
) -> Result<(), ConnectionError> {
    writer
        .write_with(FrameKind::Message, 2 + trailer_room + data.len(), |body| {
            let (len_field, rest) = body.split_at_mut(2);
            let (trailer, payload) = rest.split_at_mut(trailer_room);
            payload.copy_from_slice(data);
            let trailer_len = match protection {
                ProtectionLevel::Sealed => {
                    let mut buffers = [SecBuffer::token(trailer), SecBuffer::data(payload)];
                    context
                        .encrypt_message(Qop::DEFAULT, &mut buffers, 0)
                        .map_err(|s| refused("EncryptMessage", s))?;
                    buffers[0].len()
                }
                ProtectionLevel::Signed => {
                    let mut buffers = [SecBuffer::data(payload), SecBuffer::token(trailer)];
                    context
                        .make_signature(Qop::DEFAULT, &mut buffers, 0)
                        .map_err(|s| refused("MakeSignature", s))?;
                    buffers[1].len()
                }
            };
            let trailer_len16 = u16::try_from(trailer_len)
                .map_err(|_| ConnectionError::Protocol("a trailer longer than 64 KiB".into()))?;
            len_field.copy_from_slice(&trailer_len16.to_be_bytes());
            // Close the gap a shorter-than-reserved trailer leaves.
            if trailer_len < trailer_room {
                body.copy_within(2 + trailer_room.., 2 + trailer_len);
            }
            Ok(2 + trailer_len + data.len())
        })
        .await
}

/// Opens a message frame's body in place; returns the plaintext.
pub fn open<'b>(
    context: &mut SecurityContextHandle,
    protection: ProtectionLevel,
    body: &'b mut [u8],
) -> Result<&'b [u8], ConnectionError> {
    let Some((len_field, rest)) = body.split_first_chunk_mut::<2>() else {
        return Err(ConnectionError::Protocol(
            "a message frame without a trailer length".into(),
        ));
    };
    let trailer_len = usize::from(u16::from_be_bytes(*len_field));
    if trailer_len > rest.len() {
        return Err(ConnectionError::Protocol(format!(
            "a message trailer of {trailer_len} bytes in a frame of {}",
            rest.len()
        )));
    }
    let (trailer, payload) = rest.split_at_mut(trailer_len);
    match protection {
        ProtectionLevel::Sealed => {
            let mut buffers = [SecBuffer::token(trailer), SecBuffer::data(payload)];
            context
                .decrypt_message(&mut buffers, 0)
                .map_err(|s| refused("DecryptMessage", s))?;
        }
        ProtectionLevel::Signed => {
            let mut buffers = [SecBuffer::data(payload), SecBuffer::token(trailer)];
            context
                .verify_signature(&mut buffers, 0)
                .map_err(|s| refused("VerifySignature", s))?;
        }
    }
    Ok(payload)
}
