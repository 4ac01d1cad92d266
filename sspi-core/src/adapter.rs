//! Bridges the author-facing traits to the ABI objects, catching every panic.
//!
//! A panic must never unwind across the plugin boundary (abi_stable would abort
//! the host). Every call is run under `catch_unwind`; a panic becomes
//! `SEC_E_INTERNAL_ERROR`, and a context that panicked is poisoned so that no
//! later call works on half-updated state.

use crate::ffi::{
    ContextBox, ContextFfi, ContextFfi_TO, CredentialsBox, CredentialsFfi, CredentialsFfi_TO,
    PackageBox, PackageDescriptor, PackageFfi, PackageFfi_TO,
};
use crate::{
    AscReq, ContextSizes, CredentialUse, Credentials, CredentialsRequest, HandshakeStep, IscReq,
    Lifespan, PackageFactory, PackageParameters, SecBuffer, SecretBytes, SecurityContext,
    SecurityError, SecurityPackage, SecurityResult, SecurityStatus,
};
use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RResult, RSliceMut, RStr, RString, RVec},
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
    SecurityError::internal(format!("the package panicked in {call}: {what}"))
}

/// The descriptor of `F`, built inside the library that links `F`.
pub fn descriptor<F: PackageFactory>() -> PackageDescriptor {
    PackageDescriptor {
        info: F::info(),
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
) -> RResult<PackageBox, SecurityError> {
    guard("package initialisation", || {
        let package = F::open(parameters)?;
        Ok(PackageFfi_TO::from_value(
            PackageAdapter(package),
            TD_Opaque,
        ))
    })
}

struct PackageAdapter<P>(P);

impl<P: SecurityPackage> PackageFfi for PackageAdapter<P> {
    fn acquire_credentials_handle(
        &self,
        request: CredentialsRequest,
    ) -> RResult<CredentialsBox, SecurityError> {
        guard("AcquireCredentialsHandle", || {
            let credentials = self.0.acquire_credentials_handle(request)?;
            Ok(CredentialsFfi_TO::from_value(
                CredentialsAdapter(credentials),
                TD_Opaque,
            ))
        })
    }
}

struct CredentialsAdapter<C>(C);

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
        target: RStr<'_>,
        has_target: bool,
        req: IscReq,
    ) -> RResult<ContextBox, SecurityError> {
        guard("InitializeSecurityContext", || {
            let target = has_target.then_some(target.as_str());
            let context = self.0.new_client_context(target, req)?;
            Ok(ContextFfi_TO::from_value(
                ContextAdapter::new(context),
                TD_Opaque,
            ))
        })
    }

    fn new_server_context(&self, req: AscReq) -> RResult<ContextBox, SecurityError> {
        guard("AcceptSecurityContext", || {
            let context = self.0.new_server_context(req)?;
            Ok(ContextFfi_TO::from_value(
                ContextAdapter::new(context),
                TD_Opaque,
            ))
        })
    }
}

struct ContextAdapter<X> {
    inner: X,
    /// Set when a call panicked: the state may be half-updated, so refuse further calls.
    poisoned: bool,
}

impl<X: SecurityContext> ContextAdapter<X> {
    fn new(inner: X) -> Self {
        Self {
            inner,
            poisoned: false,
        }
    }

    fn mutate<T>(
        &mut self,
        call: &str,
        f: impl FnOnce(&mut X) -> SecurityResult<T>,
    ) -> RResult<T, SecurityError> {
        if self.poisoned {
            return RResult::RErr(poisoned_error());
        }
        let inner = &mut self.inner;
        let result = guard(call, || f(inner));
        if let RResult::RErr(e) = &result
            && e.status() == SecurityStatus::SEC_E_INTERNAL_ERROR
        {
            self.poisoned = true;
        }
        result
    }

    fn read<T>(
        &self,
        call: &str,
        f: impl FnOnce(&X) -> SecurityResult<T>,
    ) -> RResult<T, SecurityError> {
        if self.poisoned {
            return RResult::RErr(poisoned_error());
        }
        guard(call, || f(&self.inner))
    }

    /// The allocation-free guard of the per-message calls.
    fn per_message<T>(
        &mut self,
        f: impl FnOnce(&mut X) -> Result<T, SecurityStatus>,
    ) -> Result<T, SecurityStatus> {
        if self.poisoned {
            return Err(SecurityStatus::SEC_E_INTERNAL_ERROR);
        }
        let inner = &mut self.inner;
        match catch_unwind(AssertUnwindSafe(|| f(inner))) {
            Ok(result) => result,
            Err(_) => {
                self.poisoned = true;
                Err(SecurityStatus::SEC_E_INTERNAL_ERROR)
            }
        }
    }
}

fn poisoned_error() -> SecurityError {
    SecurityError::internal("the context is unusable: an earlier call panicked inside the package")
}

fn status_of(result: Result<(), SecurityStatus>) -> SecurityStatus {
    match result {
        Ok(()) => SecurityStatus::SEC_E_OK,
        Err(status) => status,
    }
}

impl<X: SecurityContext> ContextFfi for ContextAdapter<X> {
    fn initialize_security_context(
        &mut self,
        mut input: RSliceMut<'_, SecBuffer<'_>>,
        mut output: RSliceMut<'_, SecBuffer<'_>>,
    ) -> RResult<HandshakeStep, SecurityError> {
        self.mutate("InitializeSecurityContext", |c| {
            c.initialize_security_context(&mut input, &mut output)
        })
    }

    fn accept_security_context(
        &mut self,
        mut input: RSliceMut<'_, SecBuffer<'_>>,
        mut output: RSliceMut<'_, SecBuffer<'_>>,
    ) -> RResult<HandshakeStep, SecurityError> {
        self.mutate("AcceptSecurityContext", |c| {
            c.accept_security_context(&mut input, &mut output)
        })
    }

    fn complete_auth_token(
        &mut self,
        mut token: RSliceMut<'_, SecBuffer<'_>>,
    ) -> RResult<(), SecurityError> {
        self.mutate("CompleteAuthToken", |c| c.complete_auth_token(&mut token))
    }

    fn sizes(&self) -> RResult<ContextSizes, SecurityError> {
        self.read("QueryContextAttributes(SIZES)", X::sizes)
    }

    fn names(&self) -> RResult<RString, SecurityError> {
        self.read("QueryContextAttributes(NAMES)", |c| {
            c.names().map(RString::from)
        })
    }

    fn lifespan(&self) -> RResult<Lifespan, SecurityError> {
        self.read("QueryContextAttributes(LIFESPAN)", X::lifespan)
    }

    fn session_key(&self) -> RResult<SecretBytes, SecurityError> {
        self.read("QueryContextAttributes(SESSION_KEY)", X::session_key)
    }

    fn flags(&self) -> RResult<u32, SecurityError> {
        self.read("QueryContextAttributes(FLAGS)", |c| Ok(c.flags()))
    }

    fn make_signature(
        &mut self,
        qop: u32,
        mut message: RSliceMut<'_, SecBuffer<'_>>,
        sequence: u32,
    ) -> SecurityStatus {
        status_of(self.per_message(|c| c.make_signature(qop, &mut message, sequence)))
    }

    fn verify_signature(
        &mut self,
        mut message: RSliceMut<'_, SecBuffer<'_>>,
        sequence: u32,
    ) -> RResult<u32, SecurityStatus> {
        self.per_message(|c| c.verify_signature(&mut message, sequence))
            .into()
    }

    fn encrypt_message(
        &mut self,
        qop: u32,
        mut message: RSliceMut<'_, SecBuffer<'_>>,
        sequence: u32,
    ) -> SecurityStatus {
        status_of(self.per_message(|c| c.encrypt_message(qop, &mut message, sequence)))
    }

    fn decrypt_message(
        &mut self,
        mut message: RSliceMut<'_, SecBuffer<'_>>,
        sequence: u32,
    ) -> RResult<u32, SecurityStatus> {
        self.per_message(|c| c.decrypt_message(&mut message, sequence))
            .into()
    }
}
