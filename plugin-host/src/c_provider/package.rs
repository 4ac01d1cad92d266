//! A C provider's package and credentials as the host's ABI objects.

use super::CLibrary;
use super::context::{CContext, Side};
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{ROption, RResult, RStr, RString};
use sspi_c_abi::{
    CredHandle, SEC_WINNT_AUTH_IDENTITY_EXW, SEC_WINNT_AUTH_IDENTITY_UNICODE,
    SEC_WINNT_AUTH_IDENTITY_VERSION, SEC_WINNT_AUTH_IDENTITY_W, SECPKG_CRED_ATTR_NAMES, SecHandle,
    SecPkgContext_NamesW, TimeStamp as CTimeStamp,
};
use sspi_core::ffi::{
    ContextBox, ContextFfi_TO, CredentialsBox, CredentialsFfi, CredentialsFfi_TO, PackageFfi,
};
use sspi_core::{
    AscReq, CredentialUse, CredentialsRequest, IscReq, PackageInfo, SecurityError, SecurityStatus,
};
use std::ffi::c_void;
use std::sync::Arc;
use zeroize::Zeroizing;

/// One package of a C provider.
pub(crate) struct CPackage {
    library: Arc<CLibrary>,
    /// The name as the provider spells it, NUL-terminated, for AcquireCredentialsHandleW.
    name: Vec<u16>,
    display: String,
    max_token: usize,
}

impl CPackage {
    pub(crate) fn new(library: Arc<CLibrary>, info: &PackageInfo) -> Self {
        Self {
            name: sspi_c_abi::wide::to_wide(&info.name),
            display: format!("{} package {}", library.name(), info.name),
            max_token: info.max_token as usize,
            library,
        }
    }
}

impl PackageFfi for CPackage {
    fn acquire_credentials_handle(
        &self,
        request: CredentialsRequest,
    ) -> RResult<CredentialsBox, SecurityError> {
        self.acquire(request)
            .map(|c| CredentialsFfi_TO::from_value(c, TD_Opaque))
            .into()
    }
}

/// The identity as the provider reads it; the buffers it points into live
/// as long as this value, the password's zeroized on drop.
struct CIdentity {
    user: Vec<u16>,
    domain: Vec<u16>,
    password: Zeroizing<Vec<u16>>,
    package_list: Vec<u16>,
    plain: SEC_WINNT_AUTH_IDENTITY_W,
    extended: SEC_WINNT_AUTH_IDENTITY_EXW,
}

fn units(text: &str) -> Result<u32, SecurityError> {
    u32::try_from(text.encode_utf16().count()).map_err(|_| {
        SecurityError::new(
            SecurityStatus::SEC_E_UNKNOWN_CREDENTIALS,
            "an identity string is too long",
        )
    })
}

impl CIdentity {
    fn new(identity: &sspi_core::AuthIdentity) -> Result<Box<Self>, SecurityError> {
        let password = std::str::from_utf8(identity.password.expose()).map_err(|_| {
            SecurityError::new(
                SecurityStatus::SEC_E_UNKNOWN_CREDENTIALS,
                "the password is not UTF-8, so it cannot be given to a C provider as UTF-16",
            )
        })?;
        let lengths = (
            units(&identity.user)?,
            units(&identity.domain)?,
            units(password)?,
            units(&identity.package_list)?,
        );
        let mut this = Box::new(Self {
            user: sspi_c_abi::wide::to_wide(&identity.user),
            domain: sspi_c_abi::wide::to_wide(&identity.domain),
            password: Zeroizing::new(sspi_c_abi::wide::to_wide(password)),
            package_list: sspi_c_abi::wide::to_wide(&identity.package_list),
            // Filled below, once the buffers have their final addresses.
            plain: SEC_WINNT_AUTH_IDENTITY_W {
                user: std::ptr::null_mut(),
                user_length: lengths.0,
                domain: std::ptr::null_mut(),
                domain_length: lengths.1,
                password: std::ptr::null_mut(),
                password_length: lengths.2,
                flags: SEC_WINNT_AUTH_IDENTITY_UNICODE,
            },
            extended: SEC_WINNT_AUTH_IDENTITY_EXW {
                version: SEC_WINNT_AUTH_IDENTITY_VERSION,
                length: std::mem::size_of::<SEC_WINNT_AUTH_IDENTITY_EXW>() as u32,
                user: std::ptr::null_mut(),
                user_length: lengths.0,
                domain: std::ptr::null_mut(),
                domain_length: lengths.1,
                password: std::ptr::null_mut(),
                password_length: lengths.2,
                flags: SEC_WINNT_AUTH_IDENTITY_UNICODE,
                package_list: std::ptr::null_mut(),
                package_list_length: lengths.3,
            },
        });
        let (user, domain, password) = (
            this.user.as_mut_ptr(),
            this.domain.as_mut_ptr(),
            this.password.as_mut_ptr(),
        );
        this.plain.user = user;
        this.plain.domain = domain;
        this.plain.password = password;
        this.extended.user = user;
        this.extended.domain = domain;
        this.extended.password = password;
        this.extended.package_list = this.package_list.as_mut_ptr();
        Ok(this)
    }

    /// `pAuthData`: `SEC_WINNT_AUTH_IDENTITY_EXW` when there is a package
    /// list (Negotiate's), else `SEC_WINNT_AUTH_IDENTITY_W`.
    fn auth_data(&mut self) -> *mut c_void {
        if self.extended.package_list_length > 0 {
            std::ptr::addr_of_mut!(self.extended).cast()
        } else {
            std::ptr::addr_of_mut!(self.plain).cast()
        }
    }
}

impl CPackage {
    fn acquire(&self, request: CredentialsRequest) -> Result<CCredentials, SecurityError> {
        let t = &self.library.table;
        let Some(acquire) = t.acquire_credentials_handle_w else {
            return Err(SecurityError::internal(format!(
                "{}: AcquireCredentialsHandleW is NULL",
                self.display
            )));
        };
        let mut principal = request
            .principal
            .as_ref()
            .map(|p| sspi_c_abi::wide::to_wide(p))
            .into_option();
        let mut identity = match request.auth_identity.as_ref().into_option() {
            Some(identity) => Some(CIdentity::new(identity)?),
            None => None,
        };
        let mut name = self.name.clone();
        let mut handle = SecHandle::INVALID;
        let mut expiry = CTimeStamp::default();
        // SAFETY: every pointer is NULL or valid for the call: the strings
        // are NUL-terminated, the identity's buffers outlive the call, the
        // out-pointers are locals.
        let status = SecurityStatus(unsafe {
            acquire(
                principal
                    .as_mut()
                    .map_or(std::ptr::null_mut(), |p| p.as_mut_ptr()),
                name.as_mut_ptr(),
                request.credential_use.0,
                std::ptr::null_mut(),
                identity
                    .as_mut()
                    .map_or(std::ptr::null_mut(), |i| i.auth_data()),
                None,
                std::ptr::null_mut(),
                &mut handle,
                &mut expiry,
            )
        });
        drop(identity);
        if status.is_error() {
            return Err(SecurityError::new(
                status,
                format!("{}: AcquireCredentialsHandleW failed", self.display),
            ));
        }
        let credentials = CredentialsInner {
            library: Arc::clone(&self.library),
            handle,
        };
        if status != SecurityStatus::SEC_E_OK || handle == SecHandle::INVALID {
            // Dropping `credentials` gives a handle back, if there is one.
            return Err(SecurityError::internal(format!(
                "{}: AcquireCredentialsHandleW returned {status} {}",
                self.display,
                if handle == SecHandle::INVALID {
                    "without a credential handle"
                } else {
                    "(only SEC_E_OK is expected)"
                }
            )));
        }
        Ok(CCredentials {
            inner: Arc::new(credentials),
            credential_use: request.credential_use,
            display: self.display.clone(),
            max_token: self.max_token,
        })
    }
}

/// A provider's credential handle; FreeCredentialsHandle when the last of
/// the credentials and the contexts made from them is gone.
pub(crate) struct CredentialsInner {
    pub(crate) library: Arc<CLibrary>,
    handle: CredHandle,
}

impl CredentialsInner {
    /// A copy of the handle for a call (providers do not change it).
    pub(crate) fn handle(&self) -> CredHandle {
        self.handle
    }
}

impl Drop for CredentialsInner {
    fn drop(&mut self) {
        if self.handle == SecHandle::INVALID {
            return;
        }
        if let Some(free) = self.library.table.free_credentials_handle {
            // SAFETY: the provider's own handle, freed once.
            let status = SecurityStatus(unsafe { free(&mut self.handle) });
            if status.is_error() {
                tracing::warn!(library = %self.library.name(), %status, "FreeCredentialsHandle failed");
            }
        }
    }
}

/// Credentials of a C provider's package.
pub(crate) struct CCredentials {
    inner: Arc<CredentialsInner>,
    credential_use: CredentialUse,
    display: String,
    max_token: usize,
}

impl CCredentials {
    fn require(&self, direction: CredentialUse, call: &str) -> Result<(), SecurityError> {
        if self.credential_use.contains(direction) {
            return Ok(());
        }
        Err(SecurityError::new(
            SecurityStatus::SEC_E_WRONG_CREDENTIAL_HANDLE,
            format!(
                "{call} needs credentials acquired {direction}; these were acquired {}",
                self.credential_use
            ),
        ))
    }

    fn context(&self, side: Side, target: Option<&str>, req: u32) -> ContextBox {
        ContextFfi_TO::from_value(
            CContext::new(
                Arc::clone(&self.inner),
                side,
                target,
                req,
                self.max_token,
                self.display.clone(),
            ),
            TD_Opaque,
        )
    }
}

impl CredentialsFfi for CCredentials {
    fn credential_use(&self) -> CredentialUse {
        self.credential_use
    }

    fn names(&self) -> RResult<RString, SecurityError> {
        let library = &self.inner.library;
        let (Some(query), Some(free)) = (
            library.table.query_credentials_attributes_w,
            library.table.free_context_buffer,
        ) else {
            return RResult::RErr(SecurityError::new(
                SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
                format!("{}: QueryCredentialsAttributesW is NULL", self.display),
            ));
        };
        let mut handle = self.inner.handle();
        let mut names = SecPkgContext_NamesW {
            s_user_name: std::ptr::null_mut(),
        };
        // SAFETY: the provider's handle and a SecPkgCredentials_NamesW to fill.
        let status = SecurityStatus(unsafe {
            query(
                &mut handle,
                SECPKG_CRED_ATTR_NAMES,
                std::ptr::addr_of_mut!(names).cast(),
            )
        });
        if status.is_error() {
            return RResult::RErr(SecurityError::new(
                status,
                format!(
                    "{}: QueryCredentialsAttributesW(NAMES) failed",
                    self.display
                ),
            ));
        }
        read_name(
            &self.display,
            "QueryCredentialsAttributesW(NAMES)",
            names.s_user_name,
            free,
        )
        .into()
    }

    fn new_client_context(
        &self,
        target: ROption<RStr<'_>>,
        req: IscReq,
    ) -> RResult<ContextBox, SecurityError> {
        if let Err(e) = self.require(CredentialUse::OUTBOUND, "InitializeSecurityContext") {
            return RResult::RErr(e);
        }
        if self
            .inner
            .library
            .table
            .initialize_security_context_w
            .is_none()
        {
            return RResult::RErr(SecurityError::new(
                SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
                format!("{}: InitializeSecurityContextW is NULL", self.display),
            ));
        }
        let target = target.as_ref().map(RStr::as_str).into_option();
        RResult::ROk(self.context(Side::Client, target, req.0))
    }

    fn new_server_context(&self, req: AscReq) -> RResult<ContextBox, SecurityError> {
        if let Err(e) = self.require(CredentialUse::INBOUND, "AcceptSecurityContext") {
            return RResult::RErr(e);
        }
        if self.inner.library.table.accept_security_context.is_none() {
            return RResult::RErr(SecurityError::new(
                SecurityStatus::SEC_E_UNSUPPORTED_FUNCTION,
                format!("{}: AcceptSecurityContext is NULL", self.display),
            ));
        }
        RResult::ROk(self.context(Side::Server, None, req.0))
    }
}

/// Reads a user name the provider allocated, then gives it back with
/// FreeContextBuffer.
pub(crate) fn read_name(
    display: &str,
    call: &str,
    name: *mut u16,
    free: sspi_c_abi::FreeContextBufferFn,
) -> Result<RString, SecurityError> {
    if name.is_null() {
        return Err(SecurityError::internal(format!(
            "{display}: {call} returned a NULL name"
        )));
    }
    // SAFETY: the provider's NUL-terminated string, read within the bound.
    let text = unsafe { super::read_bounded(name, super::MAX_COMMENT) };
    // SAFETY: the provider allocated it for the caller to free this way.
    unsafe { free(name.cast()) };
    text.map(RString::from)
        .map_err(|e| SecurityError::internal(format!("{display}: {call}: the name {e}")))
}
