//! Credential and context handles: each holds its package's object, so every
//! call goes straight to the package that created it, with no lookup.

use sspi_core::ffi::CredentialsBox;
use sspi_core::{
    AscReq, AscStep, ContextFlags, ContextObject, ContextSizes, CredentialUse, CredentialsObject,
    HandshakeStep, IscReq, IscStep, Lifespan, MessageError, NegotiationInfo, PackageInfo, Qop,
    SecBuffer, SecBufferRef, SecretBytes, SecurityError, SecurityStatus,
};
use std::fmt;
use std::sync::Arc;

/// What the host knows of the package behind a handle.
#[derive(Debug)]
pub struct PackageMeta {
    /// The package name.
    pub name: String,
    /// Its `SecPkgInfo`.
    pub info: PackageInfo,
}

fn checked<T>(
    meta: &PackageMeta,
    call: &str,
    result: Result<T, SecurityError>,
) -> Result<T, SecurityError> {
    result.map_err(|e| e.context(format_args!("{} {call}", meta.name)))
}

/// A credential handle (`CredHandle`). FreeCredentialsHandle is `drop`.
pub struct CredentialsHandle {
    inner: CredentialsObject,
    meta: Arc<PackageMeta>,
}

impl fmt::Debug for CredentialsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsHandle")
            .field("package", &self.meta.name)
            .finish()
    }
}

impl CredentialsHandle {
    pub(crate) fn new(inner: CredentialsBox, meta: Arc<PackageMeta>) -> Self {
        Self {
            inner: CredentialsObject::new(inner),
            meta,
        }
    }

    /// The package the credentials belong to.
    pub fn package_name(&self) -> &str {
        &self.meta.name
    }

    /// The package's `SecPkgInfo`.
    pub fn package_info(&self) -> &PackageInfo {
        &self.meta.info
    }

    /// The direction they were acquired for.
    pub fn credential_use(&self) -> CredentialUse {
        self.inner.credential_use()
    }

    /// QueryCredentialsAttributes(SECPKG_CRED_ATTR_NAMES).
    pub fn query_credentials_names(&self) -> Result<String, SecurityError> {
        checked(&self.meta, "QueryCredentialsAttributes", self.inner.names())
    }

    /// InitializeSecurityContext: one client leg.
    ///
    /// Pass `None` in `context` on the first call; the context is created and
    /// stored there if the leg succeeds (or fails with SEC_E_BUFFER_TOO_SMALL,
    /// which is retried on it). `input` holds the server's token (nothing on
    /// the first leg) and any channel bindings, read in place; `output` needs
    /// a TOKEN buffer of `cbMaxToken` bytes and is shrunk to the token to send.
    pub fn initialize_security_context(
        &self,
        context: &mut Option<SecurityContextHandle>,
        target: Option<&str>,
        req: IscReq,
        input: &[SecBufferRef<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> Result<IscStep, SecurityError> {
        self.leg(
            "InitializeSecurityContext",
            context,
            |credentials| credentials.new_client_context(target, req),
            |inner| inner.initialize(input, output),
        )
    }

    /// AcceptSecurityContext: one server leg (see [`Self::initialize_security_context`]).
    pub fn accept_security_context(
        &self,
        context: &mut Option<SecurityContextHandle>,
        req: AscReq,
        input: &[SecBufferRef<'_>],
        output: &mut [SecBuffer<'_>],
    ) -> Result<AscStep, SecurityError> {
        self.leg(
            "AcceptSecurityContext",
            context,
            |credentials| credentials.new_server_context(req),
            |inner| inner.accept(input, output),
        )
    }

    /// One handshake leg: on an existing context, or on a new one that is kept
    /// only if the leg succeeds (SSPI creates no context when the first call
    /// fails) or asks for a larger output buffer (the retry needs the context).
    fn leg<A: Copy>(
        &self,
        call: &str,
        context: &mut Option<SecurityContextHandle>,
        create: impl FnOnce(&CredentialsObject) -> Result<ContextObject, SecurityError>,
        step: impl FnOnce(&mut ContextObject) -> Result<HandshakeStep<A>, SecurityError>,
    ) -> Result<HandshakeStep<A>, SecurityError> {
        let result = match context {
            Some(existing) => checked(&self.meta, call, step(&mut existing.inner)),
            None => checked(&self.meta, call, create(&self.inner)).and_then(|inner| {
                let mut created = SecurityContextHandle {
                    inner,
                    meta: Arc::clone(&self.meta),
                };
                let result = checked(&self.meta, call, step(&mut created.inner));
                let retryable = matches!(&result, Err(e) if e.status() == SecurityStatus::SEC_E_BUFFER_TOO_SMALL);
                if result.is_ok() || retryable {
                    *context = Some(created);
                }
                result
            }),
        };
        match &result {
            Ok(step) => {
                tracing::debug!(package = %self.meta.name, call, status = %step.status, "handshake leg")
            }
            Err(e) => {
                tracing::debug!(package = %self.meta.name, call, status = %e.status(), "handshake leg failed")
            }
        }
        result
    }
}

/// SECPKG_ATTR_* values QueryContextAttributes answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum ContextAttribute {
    /// SECPKG_ATTR_SIZES
    Sizes = 0,
    /// SECPKG_ATTR_NAMES
    Names = 1,
    /// SECPKG_ATTR_LIFESPAN
    Lifespan = 2,
    /// SECPKG_ATTR_SESSION_KEY
    SessionKey = 9,
    /// SECPKG_ATTR_PACKAGE_INFO: the package in use (for a Negotiate
    /// context, the package it negotiated).
    PackageInfo = 10,
    /// SECPKG_ATTR_NEGOTIATION_INFO: for a Negotiate context, the package it
    /// negotiated and how (SEC_E_UNSUPPORTED_FUNCTION for other packages).
    NegotiationInfo = 12,
    /// SECPKG_ATTR_FLAGS
    Flags = 14,
}

/// What QueryContextAttributes returned.
#[derive(Debug, Clone)]
pub enum ContextAttributeValue {
    /// SecPkgContext_Sizes
    Sizes(ContextSizes),
    /// SecPkgContext_Names
    Names(String),
    /// SecPkgContext_Lifespan
    Lifespan(Lifespan),
    /// SecPkgContext_SessionKey
    SessionKey(SecretBytes),
    /// SecPkgContext_PackageInfo
    PackageInfo(PackageInfo),
    /// SecPkgContext_NegotiationInfo
    NegotiationInfo(NegotiationInfo),
    /// SecPkgContext_Flags (ISC_RET bits of a client, ASC_RET bits of a server)
    Flags(ContextFlags),
}

/// A security context handle (`CtxtHandle`). DeleteSecurityContext is `drop`.
pub struct SecurityContextHandle {
    inner: ContextObject,
    meta: Arc<PackageMeta>,
}

impl fmt::Debug for SecurityContextHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityContextHandle")
            .field("package", &self.meta.name)
            .finish()
    }
}

impl SecurityContextHandle {
    /// A handle around a context ImportSecurityContext made.
    pub(crate) fn imported(inner: ContextObject, meta: Arc<PackageMeta>) -> Self {
        Self { inner, meta }
    }

    /// ExportSecurityContext without SECPKG_CONTEXT_EXPORT_DELETE_OLD: the
    /// packed context ([`sspi_core::context_export`]: versioned, naming the
    /// package and the side, digest-checked) that
    /// [`crate::SecurityHost::import_security_context`] in this or another
    /// process turns into a context that continues where this one is.
    ///
    /// **The blob holds the context's keys and sequence numbers**: whoever
    /// has it can read and forge the context's messages. It is wiped when
    /// dropped; pass it only over a private channel and never log it.
    ///
    /// This context stays usable and *shares its keys* with the imported
    /// one: if both send, the peer sees repeated sequence numbers (refused as
    /// replays) and, for stream ciphers, a reused keystream. Use one of the
    /// two, or [`Self::export_and_delete`].
    ///
    /// `reset_new` is SECPKG_CONTEXT_EXPORT_RESET_NEW: the imported context
    /// starts from the state the handshake left (the README's "Exporting a
    /// context" says what that is for each package; Test and NTLM refuse it
    /// with SEC_E_UNSUPPORTED_FUNCTION once this context has sent a message,
    /// since the reset would reuse its AES-GCM nonces or RC4 keystream).
    ///
    /// Only a complete context exports: during its handshake this is
    /// SEC_E_INVALID_HANDLE; a package that does not export (Negotiate, the
    /// Example package) answers SEC_E_UNSUPPORTED_FUNCTION.
    pub fn export_security_context(&self, reset_new: bool) -> Result<SecretBytes, SecurityError> {
        let call = "ExportSecurityContext";
        let exported = checked(&self.meta, call, self.inner.export_context(reset_new))?;
        let blob = checked(
            &self.meta,
            call,
            sspi_core::context_export::encode(&self.meta.name, &exported),
        )?;
        tracing::debug!(package = %self.meta.name, side = exported.side.name(), reset_new, bytes = blob.len(), "ExportSecurityContext");
        Ok(blob)
    }

    /// ExportSecurityContext with SECPKG_CONTEXT_EXPORT_DELETE_OLD: as
    /// [`Self::export_security_context`], then this context is deleted (the
    /// handle is consumed), so only the imported context holds the keys. When
    /// the export fails the context is deleted all the same (SSPI leaves the
    /// old handle unusable on this path); export without DELETE_OLD first to
    /// keep it on failure.
    pub fn export_and_delete(self, reset_new: bool) -> Result<SecretBytes, SecurityError> {
        self.export_security_context(reset_new)
    }

    /// The package the context belongs to.
    pub fn package_name(&self) -> &str {
        &self.meta.name
    }

    /// CompleteAuthToken: finishes the token of a leg that returned
    /// SEC_I_COMPLETE_NEEDED or SEC_I_COMPLETE_AND_CONTINUE.
    pub fn complete_auth_token(
        &mut self,
        token: &mut [SecBuffer<'_>],
    ) -> Result<(), SecurityError> {
        let result = self.inner.complete_auth_token(token);
        checked(&self.meta, "CompleteAuthToken", result)
    }

    /// QueryContextAttributes.
    pub fn query_context_attributes(
        &self,
        attribute: ContextAttribute,
    ) -> Result<ContextAttributeValue, SecurityError> {
        Ok(match attribute {
            ContextAttribute::Sizes => ContextAttributeValue::Sizes(self.sizes()?),
            ContextAttribute::Names => ContextAttributeValue::Names(self.names()?),
            ContextAttribute::Lifespan => ContextAttributeValue::Lifespan(self.lifespan()?),
            ContextAttribute::SessionKey => ContextAttributeValue::SessionKey(self.session_key()?),
            ContextAttribute::PackageInfo => ContextAttributeValue::PackageInfo(
                match self.negotiation_info()? {
                    Some(negotiated) => negotiated.package,
                    None => self.meta.info.clone(),
                },
            ),
            ContextAttribute::NegotiationInfo => {
                ContextAttributeValue::NegotiationInfo(self.negotiation_info()?.ok_or_else(|| {
                    SecurityError::new(
                        SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
                        format!(
                            "QueryContextAttributes(NEGOTIATION_INFO): package {} does not negotiate",
                            self.meta.name
                        ),
                    )
                })?)
            }
            ContextAttribute::Flags => ContextAttributeValue::Flags(self.flags()?),
        })
    }

    /// QueryContextAttributes(SECPKG_ATTR_SIZES).
    pub fn sizes(&self) -> Result<ContextSizes, SecurityError> {
        checked(
            &self.meta,
            "QueryContextAttributes(SIZES)",
            self.inner.sizes(),
        )
    }

    /// QueryContextAttributes(SECPKG_ATTR_NAMES): the authenticated client.
    pub fn names(&self) -> Result<String, SecurityError> {
        checked(
            &self.meta,
            "QueryContextAttributes(NAMES)",
            self.inner.names(),
        )
    }

    /// QueryContextAttributes(SECPKG_ATTR_LIFESPAN).
    pub fn lifespan(&self) -> Result<Lifespan, SecurityError> {
        checked(
            &self.meta,
            "QueryContextAttributes(LIFESPAN)",
            self.inner.lifespan(),
        )
    }

    /// QueryContextAttributes(SECPKG_ATTR_SESSION_KEY).
    pub fn session_key(&self) -> Result<SecretBytes, SecurityError> {
        checked(
            &self.meta,
            "QueryContextAttributes(SESSION_KEY)",
            self.inner.session_key(),
        )
    }

    /// QueryContextAttributes(SECPKG_ATTR_FLAGS).
    pub fn flags(&self) -> Result<ContextFlags, SecurityError> {
        checked(
            &self.meta,
            "QueryContextAttributes(FLAGS)",
            self.inner.flags(),
        )
    }

    /// The package that made the context (`Negotiate` for a Negotiate
    /// context; QueryContextAttributes(PACKAGE_INFO) reports the package it
    /// negotiated).
    pub fn package_info(&self) -> &PackageInfo {
        &self.meta.info
    }

    /// QueryContextAttributes(SECPKG_ATTR_NEGOTIATION_INFO): for a context of
    /// a negotiating package, the package it chose, how, and the packages it
    /// fell back from; `None` for a package that does not negotiate.
    pub fn negotiation_info(&self) -> Result<Option<NegotiationInfo>, SecurityError> {
        checked(
            &self.meta,
            "QueryContextAttributes(NEGOTIATION_INFO)",
            self.inner.negotiation_info(),
        )
    }

    /// The client's delegated credentials, on a server context whose client
    /// delegated (ISC_REQ_DELEGATE; [`Self::flags`] then has ASC_RET_DELEGATE):
    /// outbound credentials of the client, of this context's package, with
    /// which the server authenticates as the client to other services
    /// (Kerberos: the client's forwarded TGT). `None` when the client did not
    /// delegate. SSPI reaches them by impersonation; GSS-API returns them from
    /// `gss_accept_sec_context` as `delegated_cred_handle`.
    pub fn delegated_credentials(&self) -> Result<Option<CredentialsHandle>, SecurityError> {
        let delegated = checked(
            &self.meta,
            "delegated credentials",
            self.inner.delegated_credentials(),
        )?;
        Ok(delegated.map(|inner| CredentialsHandle {
            inner,
            meta: Arc::clone(&self.meta),
        }))
    }

    /// MakeSignature: in place, allocation-free; returns the QOP applied.
    #[inline]
    pub fn make_signature(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> Result<Qop, MessageError> {
        self.inner.make_signature(qop, message, sequence)
    }

    /// VerifySignature: in place, allocation-free; returns the QOP found.
    #[inline]
    pub fn verify_signature(
        &mut self,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> Result<Qop, MessageError> {
        self.inner.verify_signature(message, sequence)
    }

    /// EncryptMessage: in place, allocation-free; returns the QOP applied.
    #[inline]
    pub fn encrypt_message(
        &mut self,
        qop: Qop,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> Result<Qop, MessageError> {
        self.inner.encrypt_message(qop, message, sequence)
    }

    /// DecryptMessage: in place, allocation-free; returns the QOP found
    /// ([`Qop::WRAP_NO_ENCRYPT`] for a message that was only signed).
    #[inline]
    pub fn decrypt_message(
        &mut self,
        message: &mut [SecBuffer<'_>],
        sequence: u32,
    ) -> Result<Qop, MessageError> {
        self.inner.decrypt_message(message, sequence)
    }
}
