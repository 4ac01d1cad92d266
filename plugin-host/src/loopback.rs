//! The seed's handshake loop with both sides in one process: what `sspi
//! handshake`, the tests and the benchmarks drive.

use crate::{CredentialsHandle, SecurityContextHandle};
use sspi_core::{
    AscReq, AscStep, IscReq, IscStep, SecBuffer, SecBufferRef, SecurityError, SecurityStatus,
};

/// Which way a leg's token travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFlow {
    /// InitializeSecurityContext.
    ClientToServer,
    /// AcceptSecurityContext.
    ServerToClient,
}

impl std::fmt::Display for TokenFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::ClientToServer => "client -> server",
            Self::ServerToClient => "server -> client",
        })
    }
}

/// One call of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leg {
    /// Which side was called.
    pub flow: TokenFlow,
    /// The size of the token it produced (0 when none).
    pub token_len: usize,
    /// The status it returned.
    pub status: SecurityStatus,
    /// Whether CompleteAuthToken was called for it.
    pub completed: bool,
}

/// A finished in-process handshake.
#[derive(Debug)]
pub struct CompletedHandshake {
    /// The client's context.
    pub client: SecurityContextHandle,
    /// The server's context.
    pub server: SecurityContextHandle,
    /// Every call, in order.
    pub legs: Vec<Leg>,
    /// The client's last step (ISC_RET flags, expiry).
    pub client_step: IscStep,
    /// The server's last step (ASC_RET flags, expiry).
    pub server_step: AscStep,
}

/// The most calls a handshake may take before it is declared stuck.
const MAX_CALLS: usize = 64;

/// Runs the documented client and server loops against each other until both
/// are complete, calling CompleteAuthToken where a leg asks for it.
pub fn handshake(
    client_credentials: &CredentialsHandle,
    server_credentials: &CredentialsHandle,
    target: Option<&str>,
    isc_req: IscReq,
    asc_req: AscReq,
) -> Result<CompletedHandshake, SecurityError> {
    let max_token = client_credentials
        .package_info()
        .max_token
        .max(server_credentials.package_info().max_token) as usize;
    let mut client: Option<SecurityContextHandle> = None;
    let mut server: Option<SecurityContextHandle> = None;
    let mut legs = Vec::new();
    let mut to_server: Vec<u8> = Vec::new();
    let mut to_client: Vec<u8> = Vec::new();
    let mut client_step: Option<IscStep> = None;
    let mut server_step: Option<AscStep> = None;
    let mut out = vec![0u8; max_token];

    let client_done = |s: &Option<IscStep>| s.is_some_and(|s| !s.needs_continue());
    for _ in 0..MAX_CALLS {
        // Client leg: first call, or whenever the server sent something.
        if client_step.is_none() || (!client_done(&client_step) && !to_client.is_empty()) {
            let input = [SecBufferRef::token(&to_client)];
            let input: &[SecBufferRef<'_>] = if client_step.is_none() { &[] } else { &input };
            let mut output = [SecBuffer::token(&mut out)];
            let step = client_credentials.initialize_security_context(
                &mut client,
                target,
                isc_req,
                input,
                &mut output,
            )?;
            let completed =
                complete_if_needed(step.needs_complete(), client.as_mut(), &mut output)?;
            let token = output[0].as_slice().to_vec();
            legs.push(Leg {
                flow: TokenFlow::ClientToServer,
                token_len: token.len(),
                status: step.status,
                completed,
            });
            client_step = Some(step);
            to_client.clear();
            to_server = token;
        }
        if !to_server.is_empty() {
            let input = [SecBufferRef::token(&to_server)];
            let mut output = [SecBuffer::token(&mut out)];
            let step = server_credentials.accept_security_context(
                &mut server,
                asc_req,
                &input,
                &mut output,
            )?;
            let completed =
                complete_if_needed(step.needs_complete(), server.as_mut(), &mut output)?;
            let token = output[0].as_slice().to_vec();
            legs.push(Leg {
                flow: TokenFlow::ServerToClient,
                token_len: token.len(),
                status: step.status,
                completed,
            });
            server_step = Some(step);
            to_server.clear();
            to_client = token;
        }
        let server_done = server_step.is_some_and(|s| !s.needs_continue());
        if client_done(&client_step) && server_done && to_client.is_empty() && to_server.is_empty()
        {
            break;
        }
        if client_done(&client_step) && to_client.is_empty() && !server_done && to_server.is_empty()
        {
            return Err(SecurityError::invalid_token(
                "the client completed but the server expects more tokens",
            ));
        }
    }
    match (client, server, client_step, server_step) {
        (Some(client), Some(server), Some(client_step), Some(server_step))
            if !client_step.needs_continue() && !server_step.needs_continue() =>
        {
            Ok(CompletedHandshake {
                client,
                server,
                legs,
                client_step,
                server_step,
            })
        }
        _ => Err(SecurityError::internal(format!(
            "the handshake did not complete within {MAX_CALLS} calls"
        ))),
    }
}

fn complete_if_needed(
    needed: bool,
    context: Option<&mut SecurityContextHandle>,
    output: &mut [SecBuffer<'_>],
) -> Result<bool, SecurityError> {
    if !needed {
        return Ok(false);
    }
    let Some(context) = context else {
        return Err(SecurityError::internal(
            "a leg asked for CompleteAuthToken without a context",
        ));
    };
    context.complete_auth_token(output)?;
    Ok(true)
}
