//! Driving one inner package's context through the SPNEGO exchange: its
//! legs, and the mechListMIC it signs and verifies.

use crate::package::Mechanism;
use sspi_core::prelude::*;
use sspi_core::{ContextObject, MessageDirection, SecBufferRef};

/// An inner package's context inside a Negotiate handshake.
pub(crate) struct MechContext {
    pub mechanism: Mechanism,
    pub context: ContextObject,
    /// The inner package said SEC_E_OK (or SEC_I_COMPLETE_NEEDED).
    pub complete: bool,
    /// The ISC_RET bits of its last leg.
    pub flags: IscRet,
    /// The inner package's output buffer (its cbMaxToken), made once.
    output: Vec<u8>,
}

impl MechContext {
    pub fn new(mechanism: Mechanism, context: ContextObject) -> Self {
        Self {
            mechanism,
            context,
            complete: false,
            flags: IscRet::NONE,
            output: Vec::new(),
        }
    }

    /// The inner package's name, for messages.
    pub fn name(&self) -> &str {
        self.mechanism.package.name()
    }

    /// `error` of this package, as Negotiate reports it ("Negotiate: Kerberos: ...").
    pub fn named(&self, error: SecurityError) -> SecurityError {
        error.context(format_args!("Negotiate: {}", self.name()))
    }

    /// One InitializeSecurityContext leg of the inner package; returns its
    /// output token (possibly empty; errors are the package's own).
    pub fn initialize(
        &mut self,
        token: Option<&[u8]>,
        bindings: Option<&[u8]>,
    ) -> SecurityResult<Vec<u8>> {
        let input = input_buffers(token, bindings);
        let mut output = self.take_output();
        let mut buffers = [SecBuffer::token(&mut output)];
        let step = self.context.initialize(&input, &mut buffers);
        let written = buffers[0].len();
        let step = self.keep_output(output, step)?;
        self.flags = step.attributes;
        self.finish_leg(step.status, written)
    }

    /// One AcceptSecurityContext leg of the inner package; returns its
    /// output token (possibly empty; errors are the package's own).
    pub fn accept(&mut self, token: &[u8], bindings: Option<&[u8]>) -> SecurityResult<Vec<u8>> {
        let input = input_buffers(Some(token), bindings);
        let mut output = self.take_output();
        let mut buffers = [SecBuffer::token(&mut output)];
        let step = self.context.accept(&input, &mut buffers);
        let written = buffers[0].len();
        let step = self.keep_output(output, step)?;
        self.flags = IscRet::from_asc_ret(step.attributes);
        self.finish_leg(step.status, written)
    }

    /// The output buffer, cbMaxToken long (made on the first leg).
    fn take_output(&mut self) -> Vec<u8> {
        let mut output = std::mem::take(&mut self.output);
        output.resize(self.mechanism.package.info().max_token as usize, 0);
        output
    }

    fn keep_output<T>(&mut self, output: Vec<u8>, result: SecurityResult<T>) -> SecurityResult<T> {
        self.output = output;
        result
    }

    /// The token the leg wrote (`written` bytes), finished if the package asked.
    fn finish_leg(&mut self, status: SecurityStatus, written: usize) -> SecurityResult<Vec<u8>> {
        if status == SecurityStatus::SEC_I_COMPLETE_NEEDED
            || status == SecurityStatus::SEC_I_COMPLETE_AND_CONTINUE
        {
            // SPNEGO carries the token on; finish it first.
            let mut buffers = [SecBuffer::token(&mut self.output[..written])];
            self.context.complete_auth_token(&mut buffers)?;
        }
        self.complete =
            status == SecurityStatus::SEC_E_OK || status == SecurityStatus::SEC_I_COMPLETE_NEEDED;
        Ok(self.output[..written].to_vec())
    }

    /// Whether the inner package itself requires the mechListMIC (NTLM with
    /// a MIC in its AUTHENTICATE message).
    pub fn requires_mech_list_mic(&self) -> SecurityResult<bool> {
        self.context.requires_mech_list_mic()
    }

    /// The mechListMIC: GSS_GetMIC over the DER MechTypeList, with QOP 0.
    pub fn sign_mech_list(&mut self, mech_types_der: &[u8]) -> SecurityResult<Vec<u8>> {
        let sizes = self.context.sizes()?;
        let mut data = mech_types_der.to_vec();
        let mut signature = vec![0u8; sizes.max_signature as usize];
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
        self.context
            .make_signature(Qop::DEFAULT, &mut message, 0)
            .map_err(|e| {
                SecurityError::new(
                    e.status(),
                    format!(
                        "Negotiate: {} could not sign the mechListMIC: {}",
                        self.name(),
                        e.reason()
                    ),
                )
            })?;
        let written = message[1].len();
        signature.truncate(written);
        self.context
            .mech_list_mic_processed(MessageDirection::Outbound)?;
        Ok(signature)
    }

    /// Checks the peer's mechListMIC over the MechTypeList the client sent.
    pub fn verify_mech_list(&mut self, mech_types_der: &[u8], mic: &[u8]) -> SecurityResult<()> {
        let mut data = mech_types_der.to_vec();
        let mut signature = mic.to_vec();
        let mut message = [SecBuffer::data(&mut data), SecBuffer::token(&mut signature)];
        self.context
            .verify_signature(&mut message, 0)
            .map_err(|e| {
                SecurityError::invalid_token(format!(
                    "Negotiate: the peer's mechListMIC does not verify ({}: {}): the mechanism list was altered in transit (a downgrade), or the peer is not who it claims",
                    e.status(),
                    e.reason()
                ))
            })?;
        self.context
            .mech_list_mic_processed(MessageDirection::Inbound)
    }
}

fn input_buffers<'a>(token: Option<&'a [u8]>, bindings: Option<&'a [u8]>) -> Vec<SecBufferRef<'a>> {
    let mut input = Vec::with_capacity(2);
    if let Some(token) = token {
        input.push(SecBufferRef::token(token));
    }
    if let Some(bindings) = bindings {
        input.push(SecBufferRef::channel_bindings(bindings));
    }
    input
}

/// The mechListMIC exchange of RFC 4178 §5, as MIT keeps it: once required
/// (or once the peer sent one), each side sends one and checks one.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MicExchange {
    pub required: bool,
    pub sent: bool,
    pub received: bool,
}

impl MicExchange {
    /// Done when not required, or when both MICs went across.
    pub fn settled(&self) -> bool {
        !self.required || (self.sent && self.received)
    }
}
