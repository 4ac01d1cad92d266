//! The handshake loop, one call at a time, so a rule can step in between calls.

use crate::Configuration;
use sspi_core::{MessageError, Qop, SecBuffer, SecBufferRef, SecurityError, SecurityStatus};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle};

/// Which side the loop calls next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Turn {
    Client,
    Server,
    Done,
}

/// The most calls a handshake may take before it is declared stuck.
const MAX_CALLS: usize = 64;

/// A client and a server context, the token in flight, and the legs so far.
pub(crate) struct Pair<'a> {
    pub client_credentials: &'a CredentialsHandle,
    pub server_credentials: &'a CredentialsHandle,
    pub config: &'a Configuration,
    pub client: Option<SecurityContextHandle>,
    pub server: Option<SecurityContextHandle>,
    /// The token the side whose turn it is receives (empty on the first call).
    pub pending: Vec<u8>,
    client_done: Option<bool>,
    server_done: Option<bool>,
    /// Calls made (successful legs).
    pub calls: usize,
    pub max_token: usize,
}

impl<'a> Pair<'a> {
    pub fn new(
        client_credentials: &'a CredentialsHandle,
        server_credentials: &'a CredentialsHandle,
        config: &'a Configuration,
    ) -> Self {
        let max_token = client_credentials
            .package_info()
            .max_token
            .max(server_credentials.package_info().max_token) as usize;
        Self {
            client_credentials,
            server_credentials,
            config,
            client: None,
            server: None,
            pending: Vec::new(),
            client_done: None,
            server_done: None,
            calls: 0,
            max_token,
        }
    }

    /// Whose call is next; an error when the loop cannot go on.
    pub fn turn(&self) -> Result<Turn, String> {
        if self.client_done.is_none() {
            return Ok(Turn::Client);
        }
        let to_server = self.calls % 2 == 1;
        if !self.pending.is_empty() {
            return match (to_server, to_server && self.server_done == Some(true)) {
                (true, false) => Ok(Turn::Server),
                (false, _) if self.client_done == Some(false) => Ok(Turn::Client),
                (true, true) => Err("the client sent a token to a complete server".into()),
                (false, _) => Err("the server sent a token to a complete client".into()),
            };
        }
        match (self.client_done, self.server_done) {
            (Some(true), Some(true)) => Ok(Turn::Done),
            (Some(false), _) => Err("the client expects a token, but the server sent none".into()),
            _ => Err("the server expects a token, but the client sent none".into()),
        }
    }

    /// The side whose turn it is: its context.
    pub fn context(&mut self, turn: Turn) -> Option<&mut SecurityContextHandle> {
        match turn {
            Turn::Client => self.client.as_mut(),
            Turn::Server => self.server.as_mut(),
            Turn::Done => None,
        }
    }

    /// The next leg, with `input` in place of the pending token when given and
    /// an output buffer of `out_len` bytes (`cbMaxToken` when `None`). On
    /// success the token it produced becomes the pending one; on failure
    /// nothing changes, so the call can be retried.
    pub fn step(
        &mut self,
        input: Option<&[u8]>,
        out_len: Option<usize>,
    ) -> Result<(), SecurityError> {
        let turn = self.turn().map_err(SecurityError::internal)?;
        let mut out = vec![0u8; out_len.unwrap_or(self.max_token)];
        let mut output = [SecBuffer::token(&mut out)];
        let token = input.unwrap_or(&self.pending);
        let input_buffers = [SecBufferRef::token(token)];
        let input: &[SecBufferRef<'_>] = if self.client_done.is_none() && turn == Turn::Client {
            &[]
        } else {
            &input_buffers
        };
        let (needs_complete, continues) = match turn {
            Turn::Client => {
                let step = self.client_credentials.initialize_security_context(
                    &mut self.client,
                    self.config.target.as_deref(),
                    self.config.isc_req,
                    input,
                    &mut output,
                )?;
                (step.needs_complete(), step.needs_continue())
            }
            Turn::Server => {
                let step = self.server_credentials.accept_security_context(
                    &mut self.server,
                    self.config.asc_req,
                    input,
                    &mut output,
                )?;
                (step.needs_complete(), step.needs_continue())
            }
            Turn::Done => return Err(SecurityError::internal("the handshake is complete")),
        };
        if needs_complete && let Some(context) = self.context(turn) {
            context.complete_auth_token(&mut output)?;
        }
        let done = Some(!continues);
        match turn {
            Turn::Client => self.client_done = done,
            _ => self.server_done = done,
        }
        self.pending = output[0].as_slice().to_vec();
        self.calls += 1;
        Ok(())
    }

    /// Runs the loop to its end.
    pub fn finish(&mut self) -> Result<(), String> {
        while self.turn()? != Turn::Done {
            if self.calls >= MAX_CALLS {
                return Err(format!(
                    "the handshake did not complete within {MAX_CALLS} calls"
                ));
            }
            self.step(None, None)
                .map_err(|e| format!("call {}: {e}", self.calls + 1))?;
        }
        Ok(())
    }

    /// Both contexts, once complete.
    pub fn established(
        &mut self,
    ) -> Result<(&mut SecurityContextHandle, &mut SecurityContextHandle), String> {
        match (self.client.as_mut(), self.server.as_mut()) {
            (Some(client), Some(server)) => Ok((client, server)),
            _ => Err("the handshake left no context".into()),
        }
    }
}

/// MakeSignature over `data` into a TOKEN buffer of `signature_len` bytes.
pub(crate) fn sign(
    context: &mut SecurityContextHandle,
    data: &mut [u8],
    signature_len: usize,
) -> Result<Vec<u8>, MessageError> {
    let mut signature = vec![0u8; signature_len];
    let mut message = [SecBuffer::data(data), SecBuffer::token(&mut signature)];
    context.make_signature(Qop::DEFAULT, &mut message, 0)?;
    let len = message[1].len();
    signature.truncate(len);
    Ok(signature)
}

/// VerifySignature of `data` with `signature`.
pub(crate) fn verify(
    context: &mut SecurityContextHandle,
    data: &mut [u8],
    signature: &mut [u8],
) -> Result<Qop, MessageError> {
    let mut message = [SecBuffer::data(data), SecBuffer::token(signature)];
    context.verify_signature(&mut message, 0)
}

/// EncryptMessage of `data` in place; returns the trailer.
pub(crate) fn seal(
    context: &mut SecurityContextHandle,
    data: &mut [u8],
    trailer_len: usize,
) -> Result<Vec<u8>, MessageError> {
    let mut trailer = vec![0u8; trailer_len];
    let mut message = [SecBuffer::token(&mut trailer), SecBuffer::data(data)];
    context.encrypt_message(Qop::DEFAULT, &mut message, 0)?;
    let len = message[0].len();
    trailer.truncate(len);
    Ok(trailer)
}

/// DecryptMessage of `data` in place with `trailer`.
pub(crate) fn unseal(
    context: &mut SecurityContextHandle,
    data: &mut [u8],
    trailer: &mut [u8],
) -> Result<Qop, MessageError> {
    let mut message = [SecBuffer::token(trailer), SecBuffer::data(data)];
    context.decrypt_message(&mut message, 0)
}

/// A status as the kit prints it.
pub(crate) fn status(status: SecurityStatus) -> String {
    status
        .name()
        .map_or_else(|| status.to_string(), str::to_string)
}
