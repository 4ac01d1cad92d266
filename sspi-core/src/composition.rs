//! Packages built from other packages (Negotiate): what a composing package
//! declares, and the inner packages the host hands it.
//!
//! A [`PackageFactory`](crate::PackageFactory) whose
//! [`composition`](crate::PackageFactory::composition) names a registry value
//! is opened after the packages that value lists, and receives them, in
//! order, as [`InnerPackage`]s. Each call on an inner package, its credentials
//! or its contexts goes straight through that package's own vtable: the
//! composing package never looks a package up by name once it is open.

use crate::ffi::PackageBox;
use crate::{CredentialsObject, CredentialsRequest, PackageInfo, SecurityResult};
use abi_stable::{
    StableAbi,
    std_types::{RArc, RStr},
};
use std::fmt;

/// What a composing package declares: the registry value of its key that
/// lists the packages it is built from, and the list when that value is absent.
///
/// The value is a REG_SZ of comma-separated package names (`"Kerberos, NTLM"`),
/// in the order the package prefers them. The host refuses
/// (and names the value's `file:line`) a list that names a package that is not
/// installed, unavailable, not `SECPKG_FLAG_NEGOTIABLE`, or the composing
/// package itself through a cycle. Names in the *default* list that are not
/// installed are left out silently; an empty result is refused.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Composition {
    /// The registry value naming the inner packages (e.g. `Packages`).
    pub value: RStr<'static>,
    /// The inner packages when the value is absent, in the value's syntax.
    pub default: RStr<'static>,
}

impl Composition {
    /// A composition read from `value`, defaulting to `default` (`"Kerberos, NTLM"`).
    pub const fn new(value: &'static str, default: &'static str) -> Self {
        Self {
            value: RStr::from_str(value),
            default: RStr::from_str(default),
        }
    }
}

/// Splits a package list (`"Kerberos, NTLM"`) into its names.
pub fn split_package_list(list: &str) -> impl Iterator<Item = &str> {
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
}

/// Which way a message travelled, for [`crate::ContextObject::mech_list_mic_processed`].
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageDirection {
    /// A message this side signed or sealed.
    Outbound,
    /// A message this side verified or unsealed.
    Inbound,
}

/// A package the host handed to a composing package: its `SecPkgInfo` and its object.
#[repr(C)]
#[derive(StableAbi, Clone)]
pub struct InnerPackage {
    info: PackageInfo,
    package: RArc<PackageBox>,
}

impl fmt::Debug for InnerPackage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InnerPackage")
            .field("name", &self.info.name)
            .finish_non_exhaustive()
    }
}

impl InnerPackage {
    /// An inner package: what the host builds from the package it opened.
    pub fn new(info: PackageInfo, package: RArc<PackageBox>) -> Self {
        Self { info, package }
    }

    /// The package's `SecPkgInfo`.
    pub fn info(&self) -> &PackageInfo {
        &self.info
    }

    /// The package's name (`Kerberos`).
    pub fn name(&self) -> &str {
        self.info.name.as_str()
    }

    /// AcquireCredentialsHandle on the inner package.
    pub fn acquire_credentials_handle(
        &self,
        request: CredentialsRequest,
    ) -> SecurityResult<CredentialsObject> {
        self.package
            .acquire_credentials_handle(request)
            .into_result()
            .map(CredentialsObject::new)
    }
}
