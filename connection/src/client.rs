//! The client side: InitializeSecurityContext over a byte stream, then messages.

use crate::ConnectionError;
use crate::frame::{self, FrameKind, FrameReader, FrameWriter, PROTOCOL_VERSION};
use crate::message::{self, ProtectionLevel};
use sspi_core::{IscReq, IscStep, SecBuffer, SecBufferRef, SecurityError};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};

/// What a client asks for.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The target name (SPN) handed to InitializeSecurityContext.
    pub target: Option<String>,
    /// Sealed or signed messages.
    pub protection: ProtectionLevel,
    /// ISC_REQ flags.
    pub isc_req: IscReq,
    /// The longest wait for any frame from the server.
    pub timeout: Duration,
    /// The largest frame accepted from the server.
    pub max_frame: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            target: None,
            protection: ProtectionLevel::Sealed,
            isc_req: IscReq::PROTECTED_CONNECTION,
            timeout: Duration::from_secs(30),
            max_frame: 1024 * 1024 + 1,
        }
    }
}

/// An authenticated client connection.
#[derive(Debug)]
pub struct ClientSession<S> {
    reader: FrameReader<ReadHalf<S>>,
    writer: FrameWriter<WriteHalf<S>>,
    context: SecurityContextHandle,
    step: IscStep,
    authenticated_as: String,
    protection: ProtectionLevel,
    trailer_room: usize,
    timeout: Duration,
}

async fn within<T>(
    timeout: Duration,
    waiting_for: &'static str,
    future: impl Future<Output = Result<T, ConnectionError>>,
) -> Result<T, ConnectionError> {
    tokio::time::timeout(timeout, future)
        .await
        .unwrap_or(Err(ConnectionError::Timeout {
            waiting_for,
            after: timeout,
        }))
}

/// Authenticates over `stream` with `credentials` (acquired OUTBOUND): sends
/// the hello, trades tokens until both sides are complete and the server
/// accepts. On a local failure the server is told with an error frame.
pub async fn authenticate<S: AsyncRead + AsyncWrite>(
    stream: S,
    credentials: &CredentialsHandle,
    options: &ClientOptions,
) -> Result<ClientSession<S>, ConnectionError> {
    let (read, write) = tokio::io::split(stream);
    let mut reader = FrameReader::new(read, options.max_frame);
    let mut writer = FrameWriter::new(write);
    let package = credentials.package_name().to_string();
    // The hello goes out with the first token.
    writer.queue(
        FrameKind::Hello,
        &[
            &[PROTOCOL_VERSION, options.protection as u8],
            package.as_bytes(),
        ],
    )?;

    let mut context: Option<SecurityContextHandle> = None;
    let mut output = vec![0u8; credentials.package_info().max_token as usize];
    let mut input: Vec<u8> = Vec::new();
    let step = loop {
        let first = context.is_none();
        let input_buffers = [SecBufferRef::token(&input)];
        let input_slice: &[SecBufferRef<'_>] = if first { &[] } else { &input_buffers };
        let mut output_buffers = [SecBuffer::token(&mut output)];
        let result = credentials
            .initialize_security_context(
                &mut context,
                options.target.as_deref(),
                options.isc_req,
                input_slice,
                &mut output_buffers,
            )
            .and_then(|step| {
                if step.needs_complete() {
                    let Some(context) = context.as_mut() else {
                        return Err(SecurityError::internal(
                            "CompleteAuthToken without a context",
                        ));
                    };
                    context.complete_auth_token(&mut output_buffers)?;
                }
                Ok(step)
            });
        let step = match result {
            Ok(step) => step,
            Err(error) => {
                // Tell the server why, then give up; the reason holds no secret.
                let _ = within(options.timeout, "sending an error", async {
                    writer.write_error(error.status(), error.message()).await
                })
                .await;
                return Err(ConnectionError::Security(error));
            }
        };
        let token = output_buffers[0].as_slice();
        if !token.is_empty() {
            writer.queue(FrameKind::Token, &[token])?;
        }
        within(options.timeout, "sending a token", writer.flush()).await?;
        if !step.needs_continue() {
            break step;
        }
        input = within(options.timeout, "the server's token", async {
            match reader.read().await? {
                Some((FrameKind::Token, body)) => Ok(body.to_vec()),
                Some((FrameKind::Error, body)) => Err(frame::parse_error(body)),
                Some((kind, _)) => Err(ConnectionError::Protocol(format!(
                    "expected a token, got {kind:?}"
                ))),
                None => Err(ConnectionError::Closed {
                    during: "during the handshake",
                }),
            }
        })
        .await?;
    };
    let authenticated_as = within(options.timeout, "the server's verdict", async {
        match reader.read().await? {
            Some((FrameKind::Accepted, body)) => Ok(String::from_utf8_lossy(body).into_owned()),
            Some((FrameKind::Error, body)) => Err(frame::parse_error(body)),
            Some((kind, _)) => Err(ConnectionError::Protocol(format!(
                "expected the server's verdict, got {kind:?}"
            ))),
            None => Err(ConnectionError::Closed {
                during: "during the handshake",
            }),
        }
    })
    .await?;
    let Some(context) = context else {
        return Err(ConnectionError::Protocol(
            "the handshake ended without a context".into(),
        ));
    };
    let sizes = context.sizes()?;
    Ok(ClientSession {
        reader,
        writer,
        trailer_room: sizes.security_trailer.max(sizes.max_signature) as usize,
        context,
        step,
        authenticated_as,
        protection: options.protection,
        timeout: options.timeout,
    })
}

impl<S: AsyncRead + AsyncWrite> ClientSession<S> {
    /// The client's name as the server authenticated it.
    pub fn authenticated_as(&self) -> &str {
        &self.authenticated_as
    }

    /// The security context (flags, sizes, names).
    pub fn context(&self) -> &SecurityContextHandle {
        &self.context
    }

    /// The last handshake step (ISC_RET flags and expiry).
    pub fn step(&self) -> &IscStep {
        &self.step
    }

    /// How messages are protected.
    pub fn protection(&self) -> ProtectionLevel {
        self.protection
    }

    /// Sends `data` protected and returns the server's protected reply, opened.
    pub async fn request(&mut self, data: &[u8]) -> Result<Vec<u8>, ConnectionError> {
        within(
            self.timeout,
            "sending a message",
            message::send(
                &mut self.writer,
                &mut self.context,
                self.protection,
                self.trailer_room,
                data,
            ),
        )
        .await?;
        let timeout = self.timeout;
        let context = &mut self.context;
        let protection = self.protection;
        let reader = &mut self.reader;
        within(timeout, "the server's reply", async move {
            match reader.read().await? {
                Some((FrameKind::Message, body)) => {
                    Ok(message::open(context, protection, body)?.to_vec())
                }
                Some((FrameKind::Error, body)) => Err(frame::parse_error(body)),
                Some((kind, _)) => Err(ConnectionError::Protocol(format!(
                    "expected a reply, got {kind:?}"
                ))),
                None => Err(ConnectionError::Closed {
                    during: "before replying to a request",
                }),
            }
        })
        .await
    }

    /// Closes the connection cleanly.
    pub async fn close(mut self) -> Result<(), ConnectionError> {
        within(self.timeout, "closing", self.writer.shutdown()).await
    }
}
