//! Bridges the author-facing traits to the ABI objects, catching every panic.
//!
//! A panic must never unwind across the plugin boundary (abi_stable would abort
//! the host). Every call is run under `catch_unwind`; a panic becomes
//! `SEC_E_INTERNAL_ERROR`. Contexts are driven by the leg engine
//! ([`crate::engine`](self)), which also poisons a context that panicked.

use crate::context_export::ContextSide;
use crate::engine::{ClientSide, Engine, ServerSide};
use crate::ffi::{
    ContextBox, ContextFfi_TO, CredentialsBox, CredentialsFfi, CredentialsFfi_TO, PackageBox,
    PackageDescriptor, PackageFfi, PackageFfi_TO,
};
use crate::{
    AscReq, CredentialUse, Credentials, CredentialsRequest, InnerPackage, IscReq, PackageFactory,
    PackageParameters, SecurityError, SecurityPackage, SecurityResult, SecurityStatus,
};
use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{ROption, RResult, RSlice, RStr, RString, RVec},
};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `f`, turning a panic into SEC_E_INTERNAL_ERROR naming the call.
fn guard<T>(call: &str, f: impl FnOnce() -> SecurityResult<T>) -> RResult<T, SecurityError> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result.into(),
        Err(payload) => RResult::RErr(panicked(call, payload.as_ref())),
    }
}

fn panicked(call: &str, payload: &(dyn std::any::Any + Send)) -> SecurityError {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    SecurityError::internal(format!("{}{call}: {what}", crate::error::PANIC_PREFIX))
}

/// The descriptor of `F`, built inside the library that links `F`.
pub fn descriptor<F: PackageFactory>() -> PackageDescriptor {
    PackageDescriptor {
        info: F::info(),
        parameters: RSlice::from_slice(F::parameters()),
        composition: F::composition().into(),
        open: open_package::<F>,
    }
}

/// Lists descriptors under a panic guard; what `declare_library!` exports.
pub fn list_packages(
    build: impl FnOnce() -> Vec<PackageDescriptor>,
) -> RResult<RVec<PackageDescriptor>, SecurityError> {
    guard("EnumerateSecurityPackages", || Ok(RVec::from(build())))
}

extern "C" fn open_package<F: PackageFactory>(
    parameters: &PackageParameters,
    inner: RSlice<'_, InnerPackage>,
) -> RResult<PackageBox, SecurityError> {
    guard("package initialisation", || {
        let package = match F::composition() {
            Some(_) => F::open_composed(parameters, inner.to_vec())?,
            None => F::open(parameters)?,
        };
        let max_token = F::info().max_token as usize;
        Ok(PackageFfi_TO::from_value(
            PackageAdapter { package, max_token },
            TD_Opaque,
        ))
    })
}

struct PackageAdapter<P> {
    package: P,
    /// `cbMaxToken`: the engine refuses a longer peer token.
    max_token: usize,
}

impl<P: SecurityPackage> PackageFfi for PackageAdapter<P> {
    fn acquire_credentials_handle(
        &self,
        request: CredentialsRequest,
    ) -> RResult<CredentialsBox, SecurityError> {
        guard("AcquireCredentialsHandle", || {
            let credentials = self.package.acquire_credentials_handle(request)?;
            Ok(credentials_box(credentials, self.max_token))
        })
    }

    fn import_context(
        &self,
        side: ContextSide,
        payload: RSlice<'_, u8>,
    ) -> RResult<ContextBox, SecurityError> {
        guard("ImportSecurityContext", || {
            Ok(match side {
                ContextSide::Client => {
                    let established = self.package.import_client_context(&payload)?;
                    ContextFfi_TO::from_value(
                        Engine::<ClientSide<ClientOf<P>>>::established(established, self.max_token),
                        TD_Opaque,
                    )
                }
                ContextSide::Server => {
                    let established = self.package.import_server_context(&payload)?;
                    ContextFfi_TO::from_value(
                        Engine::<ServerSide<ServerOf<P>>>::established(established, self.max_token),
                        TD_Opaque,
                    )
                }
            })
        })
    }
}

type ClientOf<P> = <<P as SecurityPackage>::Credentials as Credentials>::Client;
type ServerOf<P> = <<P as SecurityPackage>::Credentials as Credentials>::Server;

/// `credentials` behind the ABI, their contexts refusing peer tokens longer than `max_token`.
pub(crate) fn credentials_box<C: Credentials>(credentials: C, max_token: usize) -> CredentialsBox {
    CredentialsFfi_TO::from_value(CredentialsAdapter(credentials, max_token), TD_Opaque)
}

struct CredentialsAdapter<C>(C, usize);

impl<C: Credentials> CredentialsAdapter<C> {
    fn require(&self, direction: CredentialUse, call: &str) -> SecurityResult<()> {
        let acquired = self.0.credential_use();
        if acquired.contains(direction) {
            return Ok(());
        }
        Err(SecurityError::new(
            SecurityStatus::SEC_E_WRONG_CREDENTIAL_HANDLE,
            format!(
                "{call} needs credentials acquired {direction}; these were acquired {acquired}"
            ),
        ))
    }
}

impl<C: Credentials> CredentialsFfi for CredentialsAdapter<C> {
    fn credential_use(&self) -> CredentialUse {
        catch_unwind(AssertUnwindSafe(|| self.0.credential_use())).unwrap_or(CredentialUse::NONE)
    }

    fn names(&self) -> RResult<RString, SecurityError> {
        guard("QueryCredentialsAttributes", || {
            self.0.names().map(RString::from)
        })
    }

    fn new_client_context(
        &self,
        target: ROption<RStr<'_>>,
        req: IscReq,
    ) -> RResult<ContextBox, SecurityError> {
        guard("InitializeSecurityContext", || {
            self.require(CredentialUse::OUTBOUND, "InitializeSecurityContext")?;
            let target = target.as_ref().map(RStr::as_str).into_option();
            let first = self.0.new_client_context(target, req)?;
            Ok(ContextFfi_TO::from_value(
                Engine::<ClientSide<C::Client>>::new(first, self.1),
                TD_Opaque,
            ))
        })
    }

    fn new_server_context(&self, req: AscReq) -> RResult<ContextBox, SecurityError> {
        guard("AcceptSecurityContext", || {
            self.require(CredentialUse::INBOUND, "AcceptSecurityContext")?;
            let first = self.0.new_server_context(req)?;
            Ok(ContextFfi_TO::from_value(
                Engine::<ServerSide<C::Server>>::new(first, self.1),
                TD_Opaque,
            ))
        })
    }
}
