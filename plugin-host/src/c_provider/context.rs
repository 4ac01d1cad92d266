//! A C provider's security context as the host's ABI object.
//!
//! The host keeps the same discipline around a C context as sspi-core's leg
//! engine keeps around a Rust package (which side may call, the order of
//! legs, CompleteAuthToken, holding a token the caller's buffer is too
//! small for, expiry), so a C package behaves like any other. The provider's
//! statuses map to the host's steps:
//!
//! | the provider returns | the leg |
//! |---|---|
//! | SEC_E_OK | complete (a token, when written, goes to the peer) |
//! | SEC_I_CONTINUE_NEEDED | continues; an empty token is refused (SEC_E_INTERNAL_ERROR) |
//! | SEC_I_COMPLETE_NEEDED / SEC_I_COMPLETE_AND_CONTINUE | as OK / CONTINUE, and CompleteAuthToken must run first (its slot may not be NULL) |
//! | any other SEC_I_* | refused: SEC_E_INTERNAL_ERROR naming the status |
//! | an error | the context fails with it (SEC_E_BUFFER_TOO_SMALL too: the provider was given `cbMaxToken` bytes) |
//!
//! Each leg gives the provider copies of the input buffers and an output
//! TOKEN buffer of its `cbMaxToken` bytes, never ISC_REQ_ALLOCATE_MEMORY.
//! Per-message calls translate the caller's buffers into at most
//! [`MAX_MESSAGE_BUFFERS`] C `SecBuffer`s on the stack (no allocation) and
//! check, after the call, that no `cbBuffer` grew, no `pvBuffer` moved and the
//! descriptor is unchanged; a provider that breaks this makes the context
//! unusable. Dropping the context calls DeleteSecurityContext.

use super::package::{CredentialsInner, read_name};
use abi_stable::std_types::{ROption, RResult, RSlice, RSliceMut, RString};
use sspi_c_abi::{
    CtxtHandle, SECBUFFER_VERSION, SECPKG_ATTR_LIFESPAN, SECPKG_ATTR_NAMES,
    SECPKG_ATTR_SESSION_KEY, SECPKG_ATTR_SIZES, SECURITY_NATIVE_DREP, SecBuffer as CBuffer,
    SecBufferDesc, SecHandle, SecPkgContext_Lifespan, SecPkgContext_NamesW,
    SecPkgContext_SessionKey, SecPkgContext_Sizes, TimeStamp as CTimeStamp,
};
use sspi_core::ffi::{ContextFfi, CredentialsBox};
use sspi_core::{
    AscRet, AscStep, ContextFlags, ContextSizes, HandshakeStep, IscReq, IscRet, IscStep, Lifespan,
    MessageDirection, MessageError, NegotiationInfo, Qop, SecBuffer, SecBufferRef, SecBufferType,
    SecretBytes, SecurityError, SecurityStatus, TimeStamp,
};
use std::ffi::c_void;
use std::sync::Arc;

/// The most buffers a per-message call may pass to a C provider.
pub const MAX_MESSAGE_BUFFERS: usize = 8;
/// The longest session key accepted from a provider.
const MAX_SESSION_KEY: u32 = 4096;

/// Which call a context answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Client,
    Server,
}

impl Side {
    /// ISC_RET_EXTENDED_ERROR / ASC_RET_EXTENDED_ERROR.
    fn extended_error(self) -> u32 {
        match self {
            Side::Client => IscRet::EXTENDED_ERROR.0,
            Side::Server => AscRet::EXTENDED_ERROR.0,
        }
    }

    fn call(self) -> &'static str {
        match self {
            Side::Client => "InitializeSecurityContextW",
            Side::Server => "AcceptSecurityContext",
        }
    }
}

enum Phase {
    Handshake,
    Established,
    Failed(SecurityError),
}

/// A context of a C provider's package.
pub(crate) struct CContext {
    credentials: Arc<CredentialsInner>,
    side: Side,
    target: Option<Vec<u16>>,
    req: u32,
    max_token: usize,
    display: String,
    /// The provider's handle, once its first leg created one.
    handle: Option<CtxtHandle>,
    phase: Phase,
    /// A token that did not fit the caller's buffer, and its leg's status.
    held: Option<(Vec<u8>, SecurityStatus)>,
    /// The token waiting for CompleteAuthToken, as it was written.
    awaiting_completion: Option<Vec<u8>>,
    /// The last ISC_RET / ASC_RET bits the provider returned.
    attributes: u32,
    lifespan: Lifespan,
    /// Set when the provider broke a per-message call's buffer contract.
    broken: bool,
}

impl Drop for CContext {
    fn drop(&mut self) {
        let Some(mut handle) = self.handle.take() else {
            return;
        };
        if let Some(delete) = self.credentials.library.table.delete_security_context {
            // SAFETY: the provider's own handle, deleted once.
            let status = SecurityStatus(unsafe { delete(&mut handle) });
            if status.is_error() {
                tracing::warn!(library = %self.credentials.library.name(), %status, "DeleteSecurityContext failed");
            }
        }
    }
}

fn from_c_time(t: CTimeStamp) -> TimeStamp {
    TimeStamp(t.to_i64())
}

impl CContext {
    pub(crate) fn new(
        credentials: Arc<CredentialsInner>,
        side: Side,
        target: Option<&str>,
        req: u32,
        max_token: usize,
        display: String,
    ) -> Self {
        Self {
            credentials,
            side,
            target: target.map(sspi_c_abi::wide::to_wide),
            // The provider writes into the buffer it is given.
            req: req & !IscReq::ALLOCATE_MEMORY.0,
            max_token,
            display,
            handle: None,
            phase: Phase::Handshake,
            held: None,
            awaiting_completion: None,
            attributes: 0,
            lifespan: Lifespan {
                start: TimeStamp(0),
                expiry: TimeStamp::NEVER,
            },
            broken: false,
        }
    }

    fn garbage(&mut self, what: String) -> SecurityError {
        let error = SecurityError::internal(format!("{}: {what}", self.display));
        tracing::warn!(%error, "C provider returned garbage");
        self.phase = Phase::Failed(error.clone());
        error
    }

    fn wrong_side(&self) -> SecurityError {
        let (wrong, name) = match self.side {
            Side::Client => ("AcceptSecurityContext", "client"),
            Side::Server => ("InitializeSecurityContext", "server"),
        };
        SecurityError::new(
            SecurityStatus::SEC_E_INVALID_HANDLE,
            format!("{wrong} was called with a {name} context"),
        )
    }

    /// One leg of this side: the status, attributes and expiry.
    fn leg(
        &mut self,
        input: &[SecBufferRef<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> Result<(SecurityStatus, u32, TimeStamp), SecurityError> {
        let Some(out) = output.iter_mut().find(|b| b.kind() == SecBufferType::TOKEN) else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_PARAMETER,
                "the output has no SECBUFFER_TOKEN buffer",
            ));
        };
        if let Some(held) = self.held.take() {
            return self.deliver(held, out);
        }
        if self.awaiting_completion.is_some() {
            return Err(SecurityError::out_of_sequence(
                "CompleteAuthToken must be called for the previous token before the next leg",
            ));
        }
        match &self.phase {
            Phase::Handshake => {}
            Phase::Established => {
                return Err(SecurityError::out_of_sequence(format!(
                    "{} was called on a complete context",
                    self.side.call()
                )));
            }
            Phase::Failed(why) => {
                return Err(SecurityError::out_of_sequence(format!(
                    "an earlier leg of this context failed ({why}); delete it and start again"
                )));
            }
        }
        if input.len() > MAX_MESSAGE_BUFFERS {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_PARAMETER,
                format!("more than {MAX_MESSAGE_BUFFERS} input buffers"),
            ));
        }
        if let Some(token) = input.iter().find(|b| b.kind() == SecBufferType::TOKEN)
            && token.len() > self.max_token
        {
            return Err(SecurityError::invalid_token(format!(
                "the peer's token has {} bytes, more than this package's cbMaxToken ({})",
                token.len(),
                self.max_token
            )));
        }
        // The provider gets copies: it may write into its input buffers.
        let mut copies: Vec<Vec<u8>> = input.iter().map(|b| b.as_slice().to_vec()).collect();
        let mut in_buffers: Vec<CBuffer> = Vec::with_capacity(copies.len());
        for (b, copy) in input.iter().zip(copies.iter_mut()) {
            let Ok(len) = u32::try_from(copy.len()) else {
                return Err(SecurityError::new(
                    SecurityStatus::SEC_E_INVALID_PARAMETER,
                    "an input buffer is longer than a ULONG can say",
                ));
            };
            in_buffers.push(CBuffer {
                cb_buffer: len,
                buffer_type: b.buffer_type().0,
                pv_buffer: copy.as_mut_ptr().cast(),
            });
        }
        let mut in_desc = SecBufferDesc {
            ul_version: SECBUFFER_VERSION,
            c_buffers: in_buffers.len() as u32,
            p_buffers: in_buffers.as_mut_ptr(),
        };
        let mut scratch = vec![0u8; self.max_token];
        let scratch_ptr: *mut c_void = scratch.as_mut_ptr().cast();
        let mut out_buffer = [CBuffer {
            cb_buffer: scratch.len() as u32,
            buffer_type: SecBufferType::TOKEN.0,
            pv_buffer: scratch_ptr,
        }];
        let out_array = out_buffer.as_mut_ptr();
        let mut out_desc = SecBufferDesc {
            ul_version: SECBUFFER_VERSION,
            c_buffers: 1,
            p_buffers: out_array,
        };
        let mut credentials = self.credentials.handle();
        let mut current = self.handle;
        let mut new_handle = self.handle.unwrap_or(SecHandle::INVALID);
        let mut attributes: u32 = 0;
        let mut expiry = CTimeStamp::from_i64(i64::MAX);
        let table = &self.credentials.library.table;
        let current_ptr = current
            .as_mut()
            .map_or(std::ptr::null_mut(), |h| h as *mut CtxtHandle);
        let input_ptr = if in_buffers.is_empty() && self.side == Side::Client {
            std::ptr::null_mut()
        } else {
            &mut in_desc as *mut SecBufferDesc
        };
        let status = SecurityStatus(match self.side {
            Side::Client => {
                let Some(isc) = table.initialize_security_context_w else {
                    return Err(SecurityError::new(
                        SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
                        "InitializeSecurityContextW is NULL",
                    ));
                };
                let target = self
                    .target
                    .as_mut()
                    .map_or(std::ptr::null_mut(), |t| t.as_mut_ptr());
                // SAFETY: every pointer is NULL or valid for the call: the
                // handles and descriptors are locals, their buffers live
                // until after it, the target is NUL-terminated.
                unsafe {
                    isc(
                        &mut credentials,
                        current_ptr,
                        target,
                        self.req,
                        0,
                        SECURITY_NATIVE_DREP,
                        input_ptr,
                        0,
                        &mut new_handle,
                        &mut out_desc,
                        &mut attributes,
                        &mut expiry,
                    )
                }
            }
            Side::Server => {
                let Some(asc) = table.accept_security_context else {
                    return Err(SecurityError::new(
                        SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
                        "AcceptSecurityContext is NULL",
                    ));
                };
                // SAFETY: as above.
                unsafe {
                    asc(
                        &mut credentials,
                        current_ptr,
                        input_ptr,
                        self.req,
                        SECURITY_NATIVE_DREP,
                        &mut new_handle,
                        &mut out_desc,
                        &mut attributes,
                        &mut expiry,
                    )
                }
            }
        });
        let call = self.side.call();
        if status.is_error() {
            // No context is created by a first leg that fails.
            let error = SecurityError::new(status, format!("{}: {call} failed", self.display));
            let error = if status == SecurityStatus::SEC_E_BUFFER_TOO_SMALL {
                SecurityError::internal(format!(
                    "{}: {call} returned SEC_E_BUFFER_TOO_SMALL for a buffer of its cbMaxToken ({} bytes)",
                    self.display, self.max_token
                ))
            } else {
                error
            };
            // An extended error for the peer, when the provider wrote one that fits.
            let written = out_buffer[0].cb_buffer as usize;
            match (
                attributes & self.side.extended_error() != 0,
                scratch.get(..written),
            ) {
                (true, Some(token))
                    if out_desc.p_buffers == out_array
                        && out_buffer[0].pv_buffer == scratch_ptr
                        && token.len() <= out.len() =>
                {
                    out.as_mut_slice()[..token.len()].copy_from_slice(token);
                    out.truncate(token.len());
                }
                _ => out.truncate(0),
            }
            self.phase = Phase::Failed(error.clone());
            return Err(error);
        }
        // A successful leg: adopt the handle first, so it is deleted whatever follows.
        if new_handle != SecHandle::INVALID {
            self.handle = Some(new_handle);
        } else if self.handle.is_none() {
            return Err(self.garbage(format!("{call} returned {status} without a context handle")));
        }
        if out_desc.ul_version != SECBUFFER_VERSION
            || out_desc.c_buffers != 1
            || out_desc.p_buffers != out_array
            || out_buffer[0].pv_buffer != scratch_ptr
        {
            return Err(self.garbage(format!("{call} changed the output buffer descriptor")));
        }
        let written = out_buffer[0].cb_buffer as usize;
        if written > scratch.len() {
            return Err(self.garbage(format!(
                "{call} returned a {written}-byte token in a {}-byte buffer",
                scratch.len()
            )));
        }
        scratch.truncate(written);
        let (established, complete) = match status {
            SecurityStatus::SEC_E_OK => (true, false),
            SecurityStatus::SEC_I_CONTINUE_NEEDED => (false, false),
            SecurityStatus::SEC_I_COMPLETE_NEEDED => (true, true),
            SecurityStatus::SEC_I_COMPLETE_AND_CONTINUE => (false, true),
            other => {
                return Err(self.garbage(format!(
                    "{call} returned {other}, which this host does not support"
                )));
            }
        };
        if !established && scratch.is_empty() {
            return Err(self.garbage(format!("{call} returned {status} without a token to send")));
        }
        if complete && table.complete_auth_token.is_none() {
            return Err(self.garbage(format!(
                "{call} returned {status} but CompleteAuthToken is NULL"
            )));
        }
        self.attributes = attributes;
        if established {
            self.phase = Phase::Established;
            self.lifespan = self.query_lifespan().unwrap_or(Lifespan {
                start: TimeStamp::now(),
                expiry: from_c_time(expiry),
            });
        }
        self.deliver((scratch, status), out)
    }

    /// SECPKG_ATTR_LIFESPAN, when the provider answers it.
    fn query_lifespan(&self) -> Option<Lifespan> {
        let mut lifespan = SecPkgContext_Lifespan::default();
        self.query(SECPKG_ATTR_LIFESPAN, &mut lifespan).ok()?;
        Some(Lifespan {
            start: from_c_time(lifespan.ts_start),
            expiry: from_c_time(lifespan.ts_expiry),
        })
    }

    /// Writes a leg's token into the caller's buffer, or holds it for a retry.
    fn deliver(
        &mut self,
        (token, status): (Vec<u8>, SecurityStatus),
        out: &mut SecBuffer<'_>,
    ) -> Result<(SecurityStatus, u32, TimeStamp), SecurityError> {
        let len = token.len();
        let Some(slot) = out.as_mut_slice().get_mut(..len) else {
            let error = SecurityError::new(
                SecurityStatus::SEC_E_BUFFER_TOO_SMALL,
                format!(
                    "the output TOKEN buffer has {} bytes; this leg's token needs {len}: call {} again with a larger buffer (the input is not read again)",
                    out.len(),
                    self.side.call()
                ),
            );
            self.held = Some((token, status));
            return Err(error);
        };
        slot.copy_from_slice(&token);
        out.truncate(len);
        if status == SecurityStatus::SEC_I_COMPLETE_NEEDED
            || status == SecurityStatus::SEC_I_COMPLETE_AND_CONTINUE
        {
            self.awaiting_completion = Some(token);
        }
        let expiry = match self.phase {
            Phase::Established => self.lifespan.expiry,
            _ => TimeStamp::NEVER,
        };
        Ok((status, self.attributes, expiry))
    }

    fn complete(&mut self, buffers: &mut [SecBuffer<'_>]) -> Result<(), SecurityError> {
        let Some(expected) = self.awaiting_completion.as_deref() else {
            return Err(SecurityError::out_of_sequence(
                "CompleteAuthToken was called, but no token is waiting to be completed",
            ));
        };
        let Some(token) = buffers
            .iter_mut()
            .find(|b| b.kind() == SecBufferType::TOKEN)
        else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_PARAMETER,
                "CompleteAuthToken needs the SECBUFFER_TOKEN buffer",
            ));
        };
        if token.as_slice() != expected {
            return Err(SecurityError::invalid_token(
                "CompleteAuthToken was given a token other than the one this context produced",
            ));
        }
        self.awaiting_completion = None;
        let (Some(complete), Some(mut handle)) = (
            self.credentials.library.table.complete_auth_token,
            self.handle,
        ) else {
            return Err(self.garbage("CompleteAuthToken is NULL".into()));
        };
        let len = token.len();
        let pointer: *mut c_void = token.as_mut_slice().as_mut_ptr().cast();
        let mut buffer = [CBuffer {
            cb_buffer: len as u32,
            buffer_type: SecBufferType::TOKEN.0,
            pv_buffer: pointer,
        }];
        let array = buffer.as_mut_ptr();
        let mut desc = SecBufferDesc {
            ul_version: SECBUFFER_VERSION,
            c_buffers: 1,
            p_buffers: array,
        };
        // SAFETY: the provider's handle; the descriptor's one buffer is the
        // caller's token, `len` writable bytes.
        let status = SecurityStatus(unsafe { complete(&mut handle, &mut desc) });
        if desc.p_buffers != array
            || desc.c_buffers != 1
            || buffer[0].pv_buffer != pointer
            || buffer[0].cb_buffer as usize > len
        {
            return Err(self.garbage("CompleteAuthToken changed the token's buffer".into()));
        }
        token.truncate(buffer[0].cb_buffer as usize);
        if status.is_error() {
            let error = SecurityError::new(
                status,
                format!("{}: CompleteAuthToken failed", self.display),
            );
            self.phase = Phase::Failed(error.clone());
            return Err(error);
        }
        Ok(())
    }

    /// The provider's handle of the complete context, or SEC_E_INVALID_HANDLE.
    fn established(&self, call: &str) -> Result<CtxtHandle, SecurityError> {
        match (&self.phase, &self.awaiting_completion, self.handle) {
            (Phase::Established, None, Some(handle)) => Ok(handle),
            _ => Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_HANDLE,
                format!("{call}: the context is not complete"),
            )),
        }
    }

    /// QueryContextAttributesW into `value`.
    fn query<T>(&self, attribute: u32, value: &mut T) -> Result<(), SecurityError> {
        let Some(query) = self.credentials.library.table.query_context_attributes_w else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
                "QueryContextAttributesW is NULL",
            ));
        };
        let Some(mut handle) = self.handle else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_HANDLE,
                "the context is not complete",
            ));
        };
        // SAFETY: the provider's handle and the attribute's structure to fill.
        let status = SecurityStatus(unsafe {
            query(&mut handle, attribute, (value as *mut T).cast::<c_void>())
        });
        if status.is_error() {
            return Err(SecurityError::new(
                status,
                format!(
                    "{}: QueryContextAttributesW({attribute}) failed",
                    self.display
                ),
            ));
        }
        Ok(())
    }

    fn sizes(&self) -> Result<ContextSizes, SecurityError> {
        self.established("QueryContextAttributes(SIZES)")?;
        let mut sizes = SecPkgContext_Sizes::default();
        self.query(SECPKG_ATTR_SIZES, &mut sizes)?;
        Ok(ContextSizes {
            max_token: sizes.cb_max_token,
            max_signature: sizes.cb_max_signature,
            block_size: sizes.cb_block_size,
            security_trailer: sizes.cb_security_trailer,
        })
    }

    fn names(&self) -> Result<RString, SecurityError> {
        self.established("QueryContextAttributes(NAMES)")?;
        let Some(free) = self.credentials.library.table.free_context_buffer else {
            return Err(SecurityError::internal("FreeContextBuffer is NULL"));
        };
        let mut names = SecPkgContext_NamesW {
            s_user_name: std::ptr::null_mut(),
        };
        self.query(SECPKG_ATTR_NAMES, &mut names)?;
        read_name(
            &self.display,
            "QueryContextAttributesW(NAMES)",
            names.s_user_name,
            free,
        )
    }

    fn session_key(&self) -> Result<SecretBytes, SecurityError> {
        self.established("QueryContextAttributes(SESSION_KEY)")?;
        let Some(free) = self.credentials.library.table.free_context_buffer else {
            return Err(SecurityError::internal("FreeContextBuffer is NULL"));
        };
        let mut key = SecPkgContext_SessionKey {
            session_key_length: 0,
            session_key: std::ptr::null_mut(),
        };
        self.query(SECPKG_ATTR_SESSION_KEY, &mut key)?;
        let len = key.session_key_length;
        let result = if key.session_key.is_null() || len > MAX_SESSION_KEY {
            Err(SecurityError::internal(format!(
                "{}: QueryContextAttributesW(SESSION_KEY) returned {len} bytes at {}",
                self.display,
                if key.session_key.is_null() {
                    "NULL"
                } else {
                    "an address, more than accepted"
                }
            )))
        } else {
            // SAFETY: the provider's buffer of `len` bytes.
            let bytes = unsafe { std::slice::from_raw_parts_mut(key.session_key, len as usize) };
            let copy = SecretBytes::new(bytes.to_vec());
            zeroize::Zeroize::zeroize(bytes);
            Ok(copy)
        };
        if !key.session_key.is_null() {
            // SAFETY: the provider allocated it for the caller to free this way.
            unsafe { free(key.session_key.cast()) };
        }
        result
    }

    fn flags(&self) -> ContextFlags {
        match self.side {
            Side::Client => ContextFlags::Client(IscRet(self.attributes)),
            Side::Server => ContextFlags::Server(AscRet(self.attributes)),
        }
    }

    /// A per-message call on the established, unexpired context, with the
    /// caller's buffers as C buffers on the stack.
    #[inline]
    fn per_message(
        &mut self,
        message: &mut [SecBuffer<'_>],
        call: impl FnOnce(&mut CtxtHandle, &mut SecBufferDesc) -> Option<i32>,
        missing: &'static str,
    ) -> Result<i32, MessageError> {
        if self.broken {
            return Err(MessageError::new(
                SecurityStatus::SEC_E_INTERNAL_ERROR,
                self.credentials.library.reasons.garbage,
            ));
        }
        let handle = match (&self.phase, &self.awaiting_completion, self.handle) {
            (Phase::Established, None, Some(handle)) => handle,
            (Phase::Established, Some(_), _) => {
                return Err(MessageError::out_of_sequence(
                    "CompleteAuthToken has not been called for the last token",
                ));
            }
            _ => {
                return Err(MessageError::out_of_sequence(
                    "the handshake of this context is not complete",
                ));
            }
        };
        if self.lifespan.expiry != TimeStamp::NEVER && TimeStamp::now() > self.lifespan.expiry {
            return Err(MessageError::new(
                SecurityStatus::SEC_E_CONTEXT_EXPIRED,
                "the context has expired",
            ));
        }
        if message.len() > MAX_MESSAGE_BUFFERS {
            return Err(MessageError::invalid_parameter(
                "a C provider is given at most 8 buffers per message",
            ));
        }
        let mut buffers = [CBuffer {
            cb_buffer: 0,
            buffer_type: 0,
            pv_buffer: std::ptr::null_mut(),
        }; MAX_MESSAGE_BUFFERS];
        for (c, b) in buffers.iter_mut().zip(message.iter_mut()) {
            let Ok(len) = u32::try_from(b.len()) else {
                return Err(MessageError::invalid_parameter(
                    "a buffer is longer than a ULONG can say",
                ));
            };
            *c = CBuffer {
                cb_buffer: len,
                buffer_type: b.buffer_type().0,
                pv_buffer: if len == 0 {
                    std::ptr::null_mut()
                } else {
                    b.as_mut_slice().as_mut_ptr().cast()
                },
            };
        }
        let given = buffers;
        let array = buffers.as_mut_ptr();
        let count = message.len() as u32;
        let mut desc = SecBufferDesc {
            ul_version: SECBUFFER_VERSION,
            c_buffers: count,
            p_buffers: array,
        };
        let mut handle = handle;
        let Some(status) = call(&mut handle, &mut desc) else {
            return Err(MessageError::new(
                SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
                missing,
            ));
        };
        let intact = desc.ul_version == SECBUFFER_VERSION
            && desc.c_buffers == count
            && desc.p_buffers == array
            && buffers.iter().zip(given.iter()).all(|(now, before)| {
                now.pv_buffer == before.pv_buffer && now.cb_buffer <= before.cb_buffer
            });
        if !intact {
            tracing::warn!(library = %self.credentials.library.name(), "a per-message call broke the buffer contract; the context is unusable");
            self.broken = true;
            return Err(MessageError::new(
                SecurityStatus::SEC_E_INTERNAL_ERROR,
                self.credentials.library.reasons.garbage,
            ));
        }
        for (b, c) in message.iter_mut().zip(buffers.iter()) {
            b.truncate(c.cb_buffer as usize);
            if c.buffer_type != b.buffer_type().0 {
                b.set_buffer_type(SecBufferType(c.buffer_type));
            }
        }
        if status < 0 {
            return Err(MessageError::new(
                SecurityStatus(status),
                self.credentials.library.reasons.refused,
            ));
        }
        Ok(status)
    }
}

fn to_isc(
    result: Result<(SecurityStatus, u32, TimeStamp), SecurityError>,
) -> RResult<IscStep, SecurityError> {
    result
        .map(|(status, attributes, expiry)| HandshakeStep {
            status,
            attributes: IscRet(attributes),
            expiry,
        })
        .into()
}

fn to_asc(
    result: Result<(SecurityStatus, u32, TimeStamp), SecurityError>,
) -> RResult<AscStep, SecurityError> {
    result
        .map(|(status, attributes, expiry)| HandshakeStep {
            status,
            attributes: AscRet(attributes),
            expiry,
        })
        .into()
}

impl ContextFfi for CContext {
    fn initialize_security_context(
        &mut self,
        input: RSlice<'_, SecBufferRef<'_>>,
        mut output: RSliceMut<'_, SecBuffer<'_>>,
    ) -> RResult<IscStep, SecurityError> {
        if self.side != Side::Client {
            return RResult::RErr(self.wrong_side());
        }
        to_isc(self.leg(&input, &mut output))
    }

    fn accept_security_context(
        &mut self,
        input: RSlice<'_, SecBufferRef<'_>>,
        mut output: RSliceMut<'_, SecBuffer<'_>>,
    ) -> RResult<AscStep, SecurityError> {
        if self.side != Side::Server {
            return RResult::RErr(self.wrong_side());
        }
        to_asc(self.leg(&input, &mut output))
    }

    fn complete_auth_token(
        &mut self,
        mut token: RSliceMut<'_, SecBuffer<'_>>,
    ) -> RResult<(), SecurityError> {
        self.complete(&mut token).into()
    }

    fn sizes(&self) -> RResult<ContextSizes, SecurityError> {
        CContext::sizes(self).into()
    }

    fn names(&self) -> RResult<RString, SecurityError> {
        CContext::names(self).into()
    }

    fn lifespan(&self) -> RResult<Lifespan, SecurityError> {
        self.established("QueryContextAttributes(LIFESPAN)")
            .map(|_| self.lifespan)
            .into()
    }

    fn session_key(&self) -> RResult<SecretBytes, SecurityError> {
        CContext::session_key(self).into()
    }

    fn flags(&self) -> RResult<ContextFlags, SecurityError> {
        RResult::ROk(CContext::flags(self))
    }

    fn make_signature(
        &mut self,
        qop: Qop,
        mut message: RSliceMut<'_, SecBuffer<'_>>,
        sequence: u32,
    ) -> RResult<Qop, MessageError> {
        let slot = self.credentials.library.table.make_signature;
        self.per_message(
            &mut message,
            |handle, desc| {
                // SAFETY: the provider's handle and a descriptor of the
                // caller's buffers, each `cbBuffer` bytes.
                slot.map(|f| unsafe { f(handle, qop.0, desc, sequence) })
            },
            "this C provider's MakeSignature is NULL",
        )
        .map(|_| qop)
        .into()
    }

    fn verify_signature(
        &mut self,
        mut message: RSliceMut<'_, SecBuffer<'_>>,
        sequence: u32,
    ) -> RResult<Qop, MessageError> {
        let slot = self.credentials.library.table.verify_signature;
        let mut qop = 0u32;
        self.per_message(
            &mut message,
            |handle, desc| {
                // SAFETY: as in make_signature; `qop` is a local.
                slot.map(|f| unsafe { f(handle, desc, sequence, &mut qop) })
            },
            "this C provider's VerifySignature is NULL",
        )
        .map(|_| Qop(qop))
        .into()
    }

    fn encrypt_message(
        &mut self,
        qop: Qop,
        mut message: RSliceMut<'_, SecBuffer<'_>>,
        sequence: u32,
    ) -> RResult<Qop, MessageError> {
        let slot = self.credentials.library.table.encrypt_message;
        self.per_message(
            &mut message,
            |handle, desc| {
                // SAFETY: as in make_signature.
                slot.map(|f| unsafe { f(handle, qop.0, desc, sequence) })
            },
            "this C provider's EncryptMessage is NULL",
        )
        .map(|_| qop)
        .into()
    }

    fn decrypt_message(
        &mut self,
        mut message: RSliceMut<'_, SecBuffer<'_>>,
        sequence: u32,
    ) -> RResult<Qop, MessageError> {
        let slot = self.credentials.library.table.decrypt_message;
        let mut qop = 0u32;
        self.per_message(
            &mut message,
            |handle, desc| {
                // SAFETY: as in verify_signature.
                slot.map(|f| unsafe { f(handle, desc, sequence, &mut qop) })
            },
            "this C provider's DecryptMessage is NULL",
        )
        .map(|_| Qop(qop))
        .into()
    }

    fn negotiation_info(&self) -> RResult<ROption<NegotiationInfo>, SecurityError> {
        self.established("QueryContextAttributes(NEGOTIATION_INFO)")
            .map(|_| ROption::RNone)
            .into()
    }

    fn requires_mech_list_mic(&self) -> RResult<bool, SecurityError> {
        self.established("requires_mech_list_mic")
            .map(|_| false)
            .into()
    }

    fn mech_list_mic_processed(
        &mut self,
        _direction: MessageDirection,
    ) -> RResult<(), SecurityError> {
        self.established("mech_list_mic_processed")
            .map(|_| ())
            .map_err(|e| SecurityError::new(SecurityStatus::SEC_E_OUT_OF_SEQUENCE, e.message()))
            .into()
    }

    fn delegated_credentials(&self) -> RResult<ROption<CredentialsBox>, SecurityError> {
        self.established("delegated credentials")
            .map(|_| ROption::RNone)
            .into()
    }
}
