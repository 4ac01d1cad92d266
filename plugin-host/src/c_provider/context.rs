//! A C provider's security context as sspi-core's author traits: a
//! handshake state per side ([`CHandshake`], a [`ClientHandshake`] /
//! [`ServerHandshake`]) and the established context ([`CEstablished`], an
//! [`EstablishedContext`]).
//!
//! sspi-core's leg engine drives them exactly as it drives a Rust package:
//! it refuses wrong-side and out-of-order calls, refuses a peer token longer
//! than `cbMaxToken`, writes each leg's token (holding one the caller's buffer
//! is too small for), runs CompleteAuthToken only on the token it wrote,
//! checks expiry before every per-message call, and poisons a context that
//! panicked. What is left here is the call into the provider and a check of
//! everything it returns. The provider's statuses map to steps:
//!
//! | the provider returns | the step |
//! |---|---|
//! | SEC_E_OK | [`Step::done`] (a token, when written, goes to the peer) |
//! | SEC_I_CONTINUE_NEEDED | [`Step::continue_with`]; an empty token is refused (SEC_E_INTERNAL_ERROR) |
//! | SEC_I_COMPLETE_NEEDED / SEC_I_COMPLETE_AND_CONTINUE | as OK / CONTINUE, [`Step::needing_completion`] (its CompleteAuthToken slot may not be NULL) |
//! | any other SEC_I_* | refused: SEC_E_INTERNAL_ERROR naming the status |
//! | an error, ISC_RET/ASC_RET_EXTENDED_ERROR set | [`Step::fail`] with the token it wrote (an extended error for the peer) |
//! | an error | the step fails with it (SEC_E_BUFFER_TOO_SMALL as SEC_E_INTERNAL_ERROR: the provider was given `cbMaxToken` bytes) |
//!
//! Each leg gives the provider copies of the input buffers (the token,
//! channel bindings, any other) and an output TOKEN buffer of its
//! `cbMaxToken` bytes, never ISC_REQ_ALLOCATE_MEMORY. The leg that completes
//! the context reads SECPKG_ATTR_LIFESPAN (else the leg's expiry counts from
//! now) and SECPKG_ATTR_SIZES (after CompleteAuthToken, when the leg needs
//! it); a provider that cannot answer SIZES fails that leg (or
//! CompleteAuthToken). CompleteAuthToken finishes the token in place: a provider that
//! changes its length or its buffer fails the context.
//!
//! Per-message calls translate the caller's buffers into at most
//! [`MAX_MESSAGE_BUFFERS`] C `SecBuffer`s on the stack (no allocation) and
//! check, after the call, that no `cbBuffer` grew, no `pvBuffer` moved and the
//! descriptor is unchanged; a provider that breaks this makes the context
//! unusable. The provider's context handle is deleted (DeleteSecurityContext)
//! when the state or the context holding it is dropped: when the host's
//! context is, or at once after a leg that fails. Each holds the credentials'
//! handle, so FreeCredentialsHandle runs after every context made from them.

use super::package::{CredentialsInner, read_name};
use sspi_c_abi::{
    CtxtHandle, SECBUFFER_VERSION, SECPKG_ATTR_LIFESPAN, SECPKG_ATTR_NAMES,
    SECPKG_ATTR_SESSION_KEY, SECPKG_ATTR_SIZES, SECURITY_NATIVE_DREP, SecBuffer as CBuffer,
    SecBufferDesc, SecHandle, SecPkgContext_Lifespan, SecPkgContext_NamesW,
    SecPkgContext_SessionKey, SecPkgContext_Sizes, TimeStamp as CTimeStamp,
};
use sspi_core::{
    AscRet, ClientHandshake, ContextSizes, EstablishedContext, IscReq, IscRet, LegInput, Lifespan,
    MessageError, Qop, SecBuffer, SecBufferType, SecretBytes, SecurityError, SecurityResult,
    SecurityStatus, ServerHandshake, Step, TimeStamp,
};
use std::ffi::c_void;
use std::marker::PhantomData;
use std::sync::Arc;

/// The most buffers a per-message call (or a leg's input) may pass to a C provider.
pub const MAX_MESSAGE_BUFFERS: usize = 8;
/// The longest session key accepted from a provider.
const MAX_SESSION_KEY: u32 = 4096;

/// Which call a handshake answers.
pub(crate) trait CSide: Send + 'static {
    /// The provider's call: "InitializeSecurityContextW" or "AcceptSecurityContext".
    const CALL: &'static str;
    /// True for the client.
    const CLIENT: bool;
    /// ISC_RET_EXTENDED_ERROR / ASC_RET_EXTENDED_ERROR.
    const EXTENDED_ERROR: u32;
    /// The provider's ISC_RET / ASC_RET bits as ISC_RET bits (what the
    /// author traits report; the engine turns them back into ASC_RET).
    fn isc_ret(attributes: u32) -> IscRet;
}

/// The client side: InitializeSecurityContextW.
pub(crate) enum Client {}
/// The server side: AcceptSecurityContext.
pub(crate) enum Server {}

impl CSide for Client {
    const CALL: &'static str = "InitializeSecurityContextW";
    const CLIENT: bool = true;
    const EXTENDED_ERROR: u32 = IscRet::EXTENDED_ERROR.0;
    fn isc_ret(attributes: u32) -> IscRet {
        IscRet(attributes)
    }
}

impl CSide for Server {
    const CALL: &'static str = "AcceptSecurityContext";
    const CLIENT: bool = false;
    const EXTENDED_ERROR: u32 = AscRet::EXTENDED_ERROR.0;
    fn isc_ret(attributes: u32) -> IscRet {
        IscRet::from_asc_ret(AscRet(attributes))
    }
}

/// The provider's context handle, once a leg created one; DeleteSecurityContext on drop.
struct CHandle {
    credentials: Arc<CredentialsInner>,
    handle: Option<CtxtHandle>,
    /// "C provider /path/libx.so package Name", for messages.
    display: Arc<str>,
}

impl Drop for CHandle {
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
        // `credentials` (and with the last reference, FreeCredentialsHandle) goes after.
    }
}

impl CHandle {
    /// SEC_E_INTERNAL_ERROR naming the package, logged: the provider returned garbage.
    fn garbage(&self, what: String) -> SecurityError {
        let error = SecurityError::internal(format!("{}: {what}", self.display));
        tracing::warn!(%error, "C provider returned garbage");
        error
    }

    /// QueryContextAttributesW into `value`.
    fn query<T>(&self, attribute: u32, value: &mut T) -> SecurityResult<()> {
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

    /// SECPKG_ATTR_SIZES.
    fn sizes(&self) -> SecurityResult<ContextSizes> {
        let mut sizes = SecPkgContext_Sizes::default();
        self.query(SECPKG_ATTR_SIZES, &mut sizes)?;
        Ok(ContextSizes {
            max_token: sizes.cb_max_token,
            max_signature: sizes.cb_max_signature,
            block_size: sizes.cb_block_size,
            security_trailer: sizes.cb_security_trailer,
        })
    }

    /// CompleteAuthToken on the token the engine checked, in place.
    fn complete(&self, token: &mut [u8]) -> SecurityResult<()> {
        let (Some(complete), Some(mut handle)) = (
            self.credentials.library.table.complete_auth_token,
            self.handle,
        ) else {
            return Err(self.garbage("CompleteAuthToken is NULL".into()));
        };
        let Ok(len) = u32::try_from(token.len()) else {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_PARAMETER,
                "the token is longer than a ULONG can say",
            ));
        };
        let pointer: *mut c_void = token.as_mut_ptr().cast();
        let mut buffer = [CBuffer {
            cb_buffer: len,
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
        if desc.ul_version != SECBUFFER_VERSION
            || desc.p_buffers != array
            || desc.c_buffers != 1
            || buffer[0].pv_buffer != pointer
            || buffer[0].cb_buffer != len
        {
            return Err(self.garbage(
                "CompleteAuthToken changed the token's buffer or its length (it finishes the token in place)"
                    .into(),
            ));
        }
        if status.is_error() {
            return Err(SecurityError::new(
                status,
                format!("{}: CompleteAuthToken failed", self.display),
            ));
        }
        Ok(())
    }
}

fn from_c_time(t: CTimeStamp) -> TimeStamp {
    TimeStamp(t.to_i64())
}

/// A handshake state of side `S`: the next leg calls the provider once.
pub(crate) struct CHandshake<S: CSide> {
    context: CHandle,
    target: Option<Vec<u16>>,
    req: u32,
    max_token: usize,
    /// The ISC_RET bits the provider returned on the last leg.
    attributes: IscRet,
    side: PhantomData<S>,
}

impl<S: CSide> CHandshake<S> {
    /// The first state of a context made from `credentials`.
    pub(crate) fn new(
        credentials: Arc<CredentialsInner>,
        target: Option<&str>,
        req: u32,
        max_token: usize,
        display: Arc<str>,
    ) -> Self {
        Self {
            context: CHandle {
                credentials,
                handle: None,
                display,
            },
            target: target.map(sspi_c_abi::wide::to_wide),
            // The provider writes into the buffer it is given.
            req: req & !IscReq::ALLOCATE_MEMORY.0,
            max_token,
            attributes: IscRet::NONE,
            side: PhantomData,
        }
    }

    /// One leg: the provider's call and a check of what it returned.
    fn leg(mut self, input: LegInput<'_>) -> SecurityResult<Step<Self, CEstablished>> {
        let input = input.buffers();
        if input.len() > MAX_MESSAGE_BUFFERS {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_INVALID_PARAMETER,
                format!("more than {MAX_MESSAGE_BUFFERS} input buffers"),
            ));
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
        let library = Arc::clone(&self.context.credentials.library);
        let table = &library.table;
        let mut credentials = self.context.credentials.handle();
        let mut current = self.context.handle;
        let mut new_handle = self.context.handle.unwrap_or(SecHandle::INVALID);
        let mut attributes: u32 = 0;
        let mut expiry = CTimeStamp::from_i64(i64::MAX);
        let current_ptr = current
            .as_mut()
            .map_or(std::ptr::null_mut(), |h| h as *mut CtxtHandle);
        let input_ptr = if in_buffers.is_empty() && S::CLIENT {
            std::ptr::null_mut()
        } else {
            &mut in_desc as *mut SecBufferDesc
        };
        let call = S::CALL;
        let status = SecurityStatus(if S::CLIENT {
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
            // handles and descriptors are locals, their buffers live until
            // after it, the target is NUL-terminated.
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
        } else {
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
        });
        let display = &self.context.display;
        let intact = out_desc.ul_version == SECBUFFER_VERSION
            && out_desc.c_buffers == 1
            && out_desc.p_buffers == out_array
            && out_buffer[0].pv_buffer == scratch_ptr;
        let written = out_buffer[0].cb_buffer as usize;
        if status.is_error() {
            // No context is created by a first leg that fails; a later one's
            // handle goes with `self`.
            let error = if status == SecurityStatus::SEC_E_BUFFER_TOO_SMALL {
                SecurityError::internal(format!(
                    "{display}: {call} returned SEC_E_BUFFER_TOO_SMALL for a buffer of its cbMaxToken ({} bytes)",
                    self.max_token
                ))
            } else {
                SecurityError::new(status, format!("{display}: {call} failed"))
            };
            // An extended error for the peer, when the provider wrote one.
            if attributes & S::EXTENDED_ERROR != 0 && intact && written <= scratch.len() {
                scratch.truncate(written);
                return Ok(Step::fail(error, scratch));
            }
            return Err(error);
        }
        // A successful leg: adopt the handle first, so it is deleted whatever follows.
        if new_handle != SecHandle::INVALID {
            self.context.handle = Some(new_handle);
        } else if self.context.handle.is_none() {
            return Err(self
                .context
                .garbage(format!("{call} returned {status} without a context handle")));
        }
        if !intact {
            return Err(self
                .context
                .garbage(format!("{call} changed the output buffer descriptor")));
        }
        if written > scratch.len() {
            return Err(self.context.garbage(format!(
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
                return Err(self.context.garbage(format!(
                    "{call} returned {other}, which this host does not support"
                )));
            }
        };
        if !established && scratch.is_empty() {
            return Err(self
                .context
                .garbage(format!("{call} returned {status} without a token to send")));
        }
        if complete && table.complete_auth_token.is_none() {
            return Err(self.context.garbage(format!(
                "{call} returned {status} but CompleteAuthToken is NULL"
            )));
        }
        self.attributes = S::isc_ret(attributes);
        let step = if established {
            let done =
                CEstablished::new(self.context, self.attributes, from_c_time(expiry), complete)?;
            Step::done(done, scratch)
        } else {
            Step::continue_with(self, scratch)
        };
        Ok(if complete {
            step.needing_completion()
        } else {
            step
        })
    }
}

impl ClientHandshake for CHandshake<Client> {
    type Established = CEstablished;

    fn initialize(self, input: LegInput<'_>) -> SecurityResult<Step<Self, CEstablished>> {
        self.leg(input)
    }

    fn flags(&self) -> IscRet {
        self.attributes
    }

    fn complete_auth_token(&mut self, token: &mut [u8]) -> SecurityResult<()> {
        self.context.complete(token)
    }
}

impl ServerHandshake for CHandshake<Server> {
    type Established = CEstablished;

    fn accept(self, input: LegInput<'_>) -> SecurityResult<Step<Self, CEstablished>> {
        self.leg(input)
    }

    fn flags(&self) -> IscRet {
        self.attributes
    }

    fn complete_auth_token(&mut self, token: &mut [u8]) -> SecurityResult<()> {
        self.context.complete(token)
    }
}

/// A complete context of a C provider's package.
pub(crate) struct CEstablished {
    context: CHandle,
    /// The ISC_RET bits of the last leg.
    attributes: IscRet,
    sizes: ContextSizes,
    lifespan: Lifespan,
    /// Set when the provider broke a per-message call's buffer contract.
    broken: bool,
}

impl CEstablished {
    /// The context the last leg completed: its LIFESPAN (else from now to
    /// the leg's expiry) and its SIZES (required), read after
    /// CompleteAuthToken when the leg needs it (`complete`): a provider may
    /// answer no query before.
    fn new(
        context: CHandle,
        attributes: IscRet,
        expiry: TimeStamp,
        complete: bool,
    ) -> SecurityResult<Self> {
        let sizes = if complete {
            // Not read before CompleteAuthToken, which sets it (the engine
            // answers no query before).
            ContextSizes::default()
        } else {
            context.sizes()?
        };
        let mut lifespan = SecPkgContext_Lifespan::default();
        let lifespan = match context.query(SECPKG_ATTR_LIFESPAN, &mut lifespan) {
            Ok(()) => Lifespan {
                start: from_c_time(lifespan.ts_start),
                expiry: from_c_time(lifespan.ts_expiry),
            },
            Err(_) => Lifespan {
                start: TimeStamp::now(),
                expiry,
            },
        };
        Ok(Self {
            context,
            attributes,
            sizes,
            lifespan,
            broken: false,
        })
    }

    /// A per-message call with the caller's buffers as C buffers on the
    /// stack, checked after it.
    #[inline]
    fn per_message(
        &mut self,
        message: &mut [SecBuffer<'_>],
        call: impl FnOnce(&mut CtxtHandle, &mut SecBufferDesc) -> Option<i32>,
        missing: &'static str,
    ) -> Result<i32, MessageError> {
        let reasons = self.context.credentials.library.reasons;
        if self.broken {
            return Err(MessageError::new(
                SecurityStatus::SEC_E_INTERNAL_ERROR,
                reasons.garbage,
            ));
        }
        let Some(handle) = self.context.handle else {
            return Err(MessageError::out_of_sequence(
                "the handshake of this context is not complete",
            ));
        };
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
            tracing::warn!(library = %self.context.credentials.library.name(), "a per-message call broke the buffer contract; the context is unusable");
            self.broken = true;
            return Err(MessageError::new(
                SecurityStatus::SEC_E_INTERNAL_ERROR,
                reasons.garbage,
            ));
        }
        for (b, c) in message.iter_mut().zip(buffers.iter()) {
            b.truncate(c.cb_buffer as usize);
            if c.buffer_type != b.buffer_type().0 {
                b.set_buffer_type(SecBufferType(c.buffer_type));
            }
        }
        if status < 0 {
            return Err(MessageError::new(SecurityStatus(status), reasons.refused));
        }
        Ok(status)
    }
}

impl EstablishedContext for CEstablished {
    fn sizes(&self) -> ContextSizes {
        self.sizes
    }

    fn names(&self) -> SecurityResult<String> {
        let Some(free) = self.context.credentials.library.table.free_context_buffer else {
            return Err(SecurityError::internal("FreeContextBuffer is NULL"));
        };
        let mut names = SecPkgContext_NamesW {
            s_user_name: std::ptr::null_mut(),
        };
        self.context.query(SECPKG_ATTR_NAMES, &mut names)?;
        read_name(
            &self.context.display,
            "QueryContextAttributesW(NAMES)",
            names.s_user_name,
            free,
        )
    }

    fn lifespan(&self) -> Lifespan {
        self.lifespan
    }

    fn flags(&self) -> IscRet {
        self.attributes
    }

    fn session_key(&self) -> SecurityResult<SecretBytes> {
        let display = &self.context.display;
        let Some(free) = self.context.credentials.library.table.free_context_buffer else {
            return Err(SecurityError::internal("FreeContextBuffer is NULL"));
        };
        let mut key = SecPkgContext_SessionKey {
            session_key_length: 0,
            session_key: std::ptr::null_mut(),
        };
        self.context.query(SECPKG_ATTR_SESSION_KEY, &mut key)?;
        let len = key.session_key_length;
        let result = if key.session_key.is_null() || len > MAX_SESSION_KEY {
            Err(SecurityError::internal(format!(
                "{display}: QueryContextAttributesW(SESSION_KEY) returned {len} bytes at {}",
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

    fn complete_auth_token(&mut self, token: &mut [u8]) -> SecurityResult<()> {
        self.context.complete(token)?;
        self.sizes = self.context.sizes()?;
        Ok(())
    }

    fn make_signature(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> Result<Qop, MessageError> {
        let slot = self.context.credentials.library.table.make_signature;
        self.per_message(
            message,
            |handle, desc| {
                // SAFETY: the provider's handle and a descriptor of the
                // caller's buffers, each `cbBuffer` bytes.
                slot.map(|f| unsafe { f(handle, qop.0, desc, sequence) })
            },
            "this C provider's MakeSignature is NULL",
        )
        .map(|_| qop)
    }

    fn verify_signature(
        &mut self,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> Result<Qop, MessageError> {
        let slot = self.context.credentials.library.table.verify_signature;
        let mut qop = 0u32;
        self.per_message(
            message,
            |handle, desc| {
                // SAFETY: as in make_signature; `qop` is a local.
                slot.map(|f| unsafe { f(handle, desc, sequence, &mut qop) })
            },
            "this C provider's VerifySignature is NULL",
        )
        .map(|_| Qop(qop))
    }

    fn encrypt_message(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> Result<Qop, MessageError> {
        let slot = self.context.credentials.library.table.encrypt_message;
        self.per_message(
            message,
            |handle, desc| {
                // SAFETY: as in make_signature.
                slot.map(|f| unsafe { f(handle, qop.0, desc, sequence) })
            },
            "this C provider's EncryptMessage is NULL",
        )
        .map(|_| qop)
    }

    fn decrypt_message(
        &mut self,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> Result<Qop, MessageError> {
        let slot = self.context.credentials.library.table.decrypt_message;
        let mut qop = 0u32;
        self.per_message(
            message,
            |handle, desc| {
                // SAFETY: as in verify_signature.
                slot.map(|f| unsafe { f(handle, desc, sequence, &mut qop) })
            },
            "this C provider's DecryptMessage is NULL",
        )
        .map(|_| Qop(qop))
    }
}

#[cfg(test)]
mod tests {
    //! The checks no fixture variant reaches, against providers written
    //! here as Rust `extern "system"` functions.

    use super::*;
    use crate::c_provider::{CLibrary, reasons_for};
    use sspi_c_abi::{CredHandle, SEC_WCHAR, SecurityFunctionTableW};
    use sspi_core::{AscReq, CredentialUse, Credentials, CredentialsObject};
    use std::path::Path;

    const TOKEN: &[u8] = b"TOKEN";

    /// Credentials of a provider table, as the package makes them.
    struct Fake(Arc<CredentialsInner>);

    impl Credentials for Fake {
        type Client = CHandshake<Client>;
        type Server = CHandshake<Server>;
        fn credential_use(&self) -> CredentialUse {
            CredentialUse::BOTH
        }
        fn names(&self) -> SecurityResult<String> {
            Ok("fake".into())
        }
        fn new_client_context(
            &self,
            target: Option<&str>,
            req: IscReq,
        ) -> SecurityResult<CHandshake<Client>> {
            Ok(CHandshake::new(
                Arc::clone(&self.0),
                target,
                req.0,
                64,
                "C provider fake.so package Fake".into(),
            ))
        }
        fn new_server_context(&self, req: AscReq) -> SecurityResult<CHandshake<Server>> {
            Ok(CHandshake::new(
                Arc::clone(&self.0),
                None,
                req.0,
                64,
                "C provider fake.so package Fake".into(),
            ))
        }
    }

    fn credentials(table: SecurityFunctionTableW) -> CredentialsObject {
        let path = Path::new("/fake/libfake.so");
        let library = Arc::new(CLibrary {
            path: path.to_owned(),
            table,
            reasons: reasons_for(path),
        });
        let inner = Arc::new(CredentialsInner {
            library,
            handle: SecHandle::INVALID,
        });
        CredentialsObject::from_credentials(Fake(inner), 64)
    }

    fn table(isc: sspi_c_abi::InitializeSecurityContextFnW) -> SecurityFunctionTableW {
        // SAFETY: all-zero bytes are a valid table (every slot NULL).
        let mut table: SecurityFunctionTableW = unsafe { std::mem::zeroed() };
        table.dw_version = 2;
        table.initialize_security_context_w = Some(isc);
        table.query_context_attributes_w = Some(query);
        table.delete_security_context = Some(delete);
        table.complete_auth_token = Some(complete_shrinking);
        table
    }

    /// Writes TOKEN into the output buffer.
    ///
    /// # Safety
    /// `out` is a descriptor of one buffer of at least TOKEN's length.
    unsafe fn write_token(out: *mut SecBufferDesc) {
        // SAFETY: as the caller guarantees.
        unsafe {
            let b = &mut *(*out).p_buffers;
            std::ptr::copy_nonoverlapping(TOKEN.as_ptr(), b.pv_buffer.cast(), TOKEN.len());
            b.cb_buffer = TOKEN.len() as u32;
        }
    }

    #[allow(clippy::too_many_arguments)]
    extern "system" fn isc_complete_needed(
        _: *mut CredHandle,
        _: *mut CtxtHandle,
        _: *mut SEC_WCHAR,
        _: u32,
        _: u32,
        _: u32,
        _: *mut SecBufferDesc,
        _: u32,
        new: *mut CtxtHandle,
        out: *mut SecBufferDesc,
        _: *mut u32,
        _: *mut CTimeStamp,
    ) -> i32 {
        // SAFETY: the host's locals, as InitializeSecurityContextW promises.
        unsafe {
            write_token(out);
            *new = SecHandle {
                dw_lower: 1,
                dw_upper: 1,
            };
        }
        SecurityStatus::SEC_I_COMPLETE_NEEDED.0
    }

    #[allow(clippy::too_many_arguments)]
    extern "system" fn isc_ok(
        _: *mut CredHandle,
        _: *mut CtxtHandle,
        _: *mut SEC_WCHAR,
        _: u32,
        _: u32,
        _: u32,
        _: *mut SecBufferDesc,
        _: u32,
        new: *mut CtxtHandle,
        out: *mut SecBufferDesc,
        _: *mut u32,
        _: *mut CTimeStamp,
    ) -> i32 {
        // SAFETY: as above.
        unsafe {
            write_token(out);
            *new = SecHandle {
                dw_lower: 2,
                dw_upper: 2,
            };
        }
        SecurityStatus::SEC_E_OK.0
    }

    #[allow(clippy::too_many_arguments)]
    extern "system" fn isc_extended_error(
        _: *mut CredHandle,
        _: *mut CtxtHandle,
        _: *mut SEC_WCHAR,
        _: u32,
        _: u32,
        _: u32,
        _: *mut SecBufferDesc,
        _: u32,
        _: *mut CtxtHandle,
        out: *mut SecBufferDesc,
        attributes: *mut u32,
        _: *mut CTimeStamp,
    ) -> i32 {
        // SAFETY: as above.
        unsafe {
            write_token(out);
            *attributes = IscRet::EXTENDED_ERROR.0;
        }
        SecurityStatus::SEC_E_LOGON_DENIED.0
    }

    /// Answers SIZES for context 1 only.
    extern "system" fn query(context: *mut CtxtHandle, attribute: u32, value: *mut c_void) -> i32 {
        // SAFETY: the host's handle and the attribute's structure.
        unsafe {
            if attribute == SECPKG_ATTR_SIZES && (*context).dw_lower == 1 {
                *value.cast::<SecPkgContext_Sizes>() = SecPkgContext_Sizes {
                    cb_max_token: 64,
                    cb_max_signature: 16,
                    cb_block_size: 0,
                    cb_security_trailer: 0,
                };
                return SecurityStatus::SEC_E_OK.0;
            }
        }
        SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION.0
    }

    extern "system" fn delete(_: *mut CtxtHandle) -> i32 {
        0
    }

    /// Garbage: finishes the token one byte shorter.
    extern "system" fn complete_shrinking(_: *mut CtxtHandle, desc: *mut SecBufferDesc) -> i32 {
        // SAFETY: the host's descriptor of one buffer.
        unsafe { (*(*desc).p_buffers).cb_buffer -= 1 };
        0
    }

    #[test]
    fn complete_auth_token_that_changes_the_length_fails_the_context() {
        let creds = credentials(table(isc_complete_needed));
        let mut context = creds.new_client_context(None, IscReq(0)).unwrap();
        let mut buf = [0u8; 64];
        let mut out = [SecBuffer::token(&mut buf)];
        let step = context.initialize(&[], &mut out).unwrap();
        assert_eq!(step.status, SecurityStatus::SEC_I_COMPLETE_NEEDED);
        let e = context.complete_auth_token(&mut out).unwrap_err();
        assert_eq!(e.status(), SecurityStatus::SEC_E_INTERNAL_ERROR, "{e}");
        assert!(e.message().contains("fake.so"), "{e}");
        assert!(e.message().contains("its length"), "{e}");
        assert!(context.sizes().is_err(), "the context is over");
    }

    #[test]
    fn a_provider_that_cannot_answer_sizes_fails_the_last_leg() {
        let creds = credentials(table(isc_ok));
        let mut context = creds.new_client_context(None, IscReq(0)).unwrap();
        let mut buf = [0u8; 64];
        let mut out = [SecBuffer::token(&mut buf)];
        let e = context.initialize(&[], &mut out).unwrap_err();
        assert_eq!(
            e.status(),
            SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
            "{e}"
        );
        assert!(e.message().contains("QueryContextAttributesW(0)"), "{e}");
    }

    #[test]
    fn an_extended_error_token_reaches_the_caller_with_the_error() {
        let creds = credentials(table(isc_extended_error));
        let mut context = creds.new_client_context(None, IscReq(0)).unwrap();
        let mut buf = [0u8; 64];
        let mut out = [SecBuffer::token(&mut buf)];
        let e = context.initialize(&[], &mut out).unwrap_err();
        assert_eq!(e.status(), SecurityStatus::SEC_E_LOGON_DENIED, "{e}");
        assert!(e.message().contains("fake.so"), "{e}");
        assert_eq!(
            out[0].as_slice(),
            TOKEN,
            "the extended error goes to the peer"
        );
        let again = context.initialize(&[], &mut out).unwrap_err();
        assert_eq!(again.status(), SecurityStatus::SEC_E_OUT_OF_SEQUENCE);
    }
}
