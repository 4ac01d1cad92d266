//! The handshake: InitializeSecurityContextW/A and AcceptSecurityContext
//! (one shared leg runner, with ISC/ASC_REQ_ALLOCATE_MEMORY),
//! CompleteAuthToken and DeleteSecurityContext.

use crate::handles::{CONTEXTS, ContextEntry};
use crate::status::*;
use crate::{Text, credential, on_context, put, read_handle};
use crate::{alloc, buffers};
use sspi_c_abi::*;
use sspi_core::{
    AscReq, IscReq, SecBuffer as RBuffer, SecBufferRef, SecBufferType, SecurityError,
    SecurityStatus,
};
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle};
use std::ffi::c_void;

/// ISC_REQ_ALLOCATE_MEMORY = ASC_REQ_ALLOCATE_MEMORY; the RET bits are the same.
const ALLOCATE_MEMORY: ULONG = 0x100;
/// The largest output token allocated for a caller (the allocation grows
/// from `cbMaxToken` up to this while the package says it is too small).
const MAX_ALLOCATED_TOKEN: usize = 16 * 1024 * 1024;

/// Which call a leg is.
enum Side {
    Client { target: Option<String>, req: IscReq },
    Server { req: AscReq },
}

impl Side {
    fn call(
        &self,
        credentials: &CredentialsHandle,
        slot: &mut Option<SecurityContextHandle>,
        input: &[SecBufferRef<'_>],
        output: &mut [RBuffer<'_>],
    ) -> Result<(Status, ULONG, i64), SecurityError> {
        match self {
            Side::Client { target, req } => credentials
                .initialize_security_context(slot, target.as_deref(), *req, input, output)
                .map(|s| (s.status.0, s.attributes.0, s.expiry.0)),
            Side::Server { req } => credentials
                .accept_security_context(slot, *req, input, output)
                .map(|s| (s.status.0, s.attributes.0, s.expiry.0)),
        }
    }

    fn allocates(&self) -> bool {
        let bits = match self {
            Side::Client { req, .. } => req.0,
            Side::Server { req } => req.0,
        };
        bits & ALLOCATE_MEMORY != 0
    }
}

/// One InitializeSecurityContext / AcceptSecurityContext leg.
#[allow(clippy::too_many_arguments)]
unsafe fn leg(
    side: Side,
    credential: *mut CredHandle,
    existing: *mut CtxtHandle,
    input: *mut SecBufferDesc,
    new_context: *mut CtxtHandle,
    output: *mut SecBufferDesc,
    attributes: *mut ULONG,
    expiry: *mut TimeStamp,
) -> Result<Status, Status> {
    // SAFETY (this block): the caller's handles and descriptors.
    let (existing, inputs, outputs) = unsafe {
        let existing = if existing.is_null() {
            None
        } else {
            Some(read_handle(existing)?)
        };
        let inputs: &mut [sspi_c_abi::SecBuffer] = if input.is_null() {
            &mut []
        } else {
            buffers::descriptor(input)?
        };
        let outputs: &mut [sspi_c_abi::SecBuffer] = if output.is_null() {
            &mut []
        } else {
            buffers::descriptor(output)?
        };
        (existing, inputs, outputs)
    };
    if buffers::descriptors_overlap(inputs, outputs) {
        return Err(INVALID_PARAMETER);
    }
    let result = match existing {
        Some(handle) => {
            // Later legs run on the context's own credentials; a handle
            // given anyway must still be a live one.
            if !credential.is_null() {
                // SAFETY: the caller's handle.
                unsafe { self::credential(credential) }?;
            }
            let result = CONTEXTS
                .with(&handle, |entry| {
                    // An imported context is complete: no handshake is left.
                    let Some(credentials) = entry.credentials.clone() else {
                        return Err(SecurityStatus::SEC_E_OUT_OF_SEQUENCE.0);
                    };
                    run_leg(&side, &credentials, inputs, outputs, &mut entry.context)
                })
                .ok_or(INVALID_HANDLE)??;
            // SAFETY: `new_context` is NULL or writable.
            unsafe { put(new_context, handle) };
            result
        }
        None => {
            // SAFETY: the caller's handle.
            let credentials = unsafe { self::credential(credential) }?;
            if new_context.is_null() {
                return Err(INVALID_PARAMETER);
            }
            let mut created = None;
            let result = run_leg(&side, &credentials, inputs, outputs, &mut created)?;
            // A context exists once a leg succeeded, or asked for a larger
            // buffer (kept for the retry, as the Rust API keeps it).
            if let Some(context) = created {
                let handle = CONTEXTS
                    .insert(ContextEntry {
                        credentials: Some(credentials),
                        context: Some(context),
                    })
                    .ok_or(INSUFFICIENT_MEMORY)?;
                // SAFETY: checked non-NULL; the caller provides it for writing.
                unsafe { put(new_context, handle) };
            }
            result
        }
    };
    let (code, bits, expires) = result.map_err(status)?;
    // SAFETY: NULL or writable.
    unsafe {
        put(attributes, bits);
        put(expiry, TimeStamp::from_i64(expires));
    }
    Ok(code)
}

/// The package's leg on `slot`, with ISC/ASC_REQ_ALLOCATE_MEMORY handled:
/// the output TOKEN buffer is allocated here (`cbMaxToken`, grown while the
/// package says SEC_E_BUFFER_TOO_SMALL), freed again when the leg fails or
/// writes nothing, and ALLOCATED_MEMORY is added to the attributes.
fn run_leg(
    side: &Side,
    credentials: &CredentialsHandle,
    inputs: &[sspi_c_abi::SecBuffer],
    outputs: &mut [sspi_c_abi::SecBuffer],
    slot: &mut Option<SecurityContextHandle>,
) -> Result<Result<(Status, ULONG, i64), SecurityError>, Status> {
    let allocated_token = if side.allocates() {
        outputs
            .iter()
            .position(|b| SecBufferType(b.buffer_type).kind() == SecBufferType::TOKEN)
    } else {
        None
    };
    let mut size = (credentials.package_info().max_token as usize).max(1);
    loop {
        if let Some(i) = allocated_token {
            let block = alloc::allocate(size).ok_or(INSUFFICIENT_MEMORY)?;
            outputs[i].pv_buffer = block as *mut c_void;
            outputs[i].cb_buffer = size as ULONG;
        }
        let result = buffers::with_refs(inputs, |input| {
            buffers::with_views(outputs, |output| {
                side.call(credentials, slot, input, output)
            })
        });
        let Some(i) = allocated_token else {
            return Ok(result);
        };
        if result.is_err() || outputs[i].cb_buffer == 0 {
            alloc::free(outputs[i].pv_buffer as *mut u8);
            outputs[i].pv_buffer = std::ptr::null_mut();
            outputs[i].cb_buffer = 0;
        }
        match result {
            Err(e) if e.status().0 == BUFFER_TOO_SMALL && size < MAX_ALLOCATED_TOKEN => {
                size = (size * 4).min(MAX_ALLOCATED_TOKEN);
            }
            other => {
                return Ok(
                    other.map(|(code, bits, expires)| (code, bits | ALLOCATE_MEMORY, expires))
                );
            }
        }
    }
}

/// InitializeSecurityContextW. On a first call that fails with
/// SEC_E_BUFFER_TOO_SMALL the new context is still returned in
/// `phNewContext`: call again on it with a larger buffer.
///
/// # Safety
/// Handles NULL or readable, descriptors NULL or valid, outputs NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn InitializeSecurityContextW(
    credential: *mut CredHandle,
    context: *mut CtxtHandle,
    target_name: *mut SEC_WCHAR,
    context_req: ULONG,
    _reserved1: ULONG,
    _target_data_rep: ULONG,
    input: *mut SecBufferDesc,
    _reserved2: ULONG,
    new_context: *mut CtxtHandle,
    output: *mut SecBufferDesc,
    context_attr: *mut ULONG,
    expiry: *mut TimeStamp,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe {
        let target = Text::Wide(target_name).read()?;
        let side = Side::Client {
            target,
            req: IscReq(context_req),
        };
        leg(
            side,
            credential,
            context,
            input,
            new_context,
            output,
            context_attr,
            expiry,
        )
    })
}

/// InitializeSecurityContextA.
///
/// # Safety
/// As [`InitializeSecurityContextW`].
#[unsafe(no_mangle)]
pub unsafe extern "system" fn InitializeSecurityContextA(
    credential: *mut CredHandle,
    context: *mut CtxtHandle,
    target_name: *mut SEC_CHAR,
    context_req: ULONG,
    _reserved1: ULONG,
    _target_data_rep: ULONG,
    input: *mut SecBufferDesc,
    _reserved2: ULONG,
    new_context: *mut CtxtHandle,
    output: *mut SecBufferDesc,
    context_attr: *mut ULONG,
    expiry: *mut TimeStamp,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe {
        let target = Text::Narrow(target_name).read()?;
        let side = Side::Client {
            target,
            req: IscReq(context_req),
        };
        leg(
            side,
            credential,
            context,
            input,
            new_context,
            output,
            context_attr,
            expiry,
        )
    })
}

/// AcceptSecurityContext.
///
/// # Safety
/// As [`InitializeSecurityContextW`].
#[unsafe(no_mangle)]
pub unsafe extern "system" fn AcceptSecurityContext(
    credential: *mut CredHandle,
    context: *mut CtxtHandle,
    input: *mut SecBufferDesc,
    context_req: ULONG,
    _target_data_rep: ULONG,
    new_context: *mut CtxtHandle,
    output: *mut SecBufferDesc,
    context_attr: *mut ULONG,
    expiry: *mut TimeStamp,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe {
        let side = Side::Server {
            req: AscReq(context_req),
        };
        leg(
            side,
            credential,
            context,
            input,
            new_context,
            output,
            context_attr,
            expiry,
        )
    })
}

/// CompleteAuthToken.
///
/// # Safety
/// `context` NULL or readable; `token` NULL or a valid descriptor.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn CompleteAuthToken(
    context: *mut CtxtHandle,
    token: *mut SecBufferDesc,
) -> Status {
    // SAFETY: forwarded caller guarantees.
    guard(|| unsafe {
        on_context(context, |ctx| {
            let buffers = buffers::descriptor(token)?;
            buffers::with_views(buffers, |b| ctx.complete_auth_token(b))
                .map(|()| OK)
                .map_err(status)
        })
    })
}

/// DeleteSecurityContext: the handle is stale afterwards.
///
/// # Safety
/// `context` NULL or readable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn DeleteSecurityContext(context: *mut CtxtHandle) -> Status {
    guard(|| {
        // SAFETY: the caller's guarantee.
        let handle = unsafe { read_handle(context) }?;
        let removed = CONTEXTS.remove(&handle).ok_or(INVALID_HANDLE)?;
        drop(removed);
        Ok(OK)
    })
}
