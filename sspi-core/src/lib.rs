//! # sspi-core
//!
//! The stable ABI shared by the sspi-plug host and every security package, and
//! the helpers a package author uses.
//!
//! * Values with SSPI's own names: [`SecurityStatus`] (`SEC_E_*`, `SEC_I_*`),
//!   the flag sets [`IscReq`], [`IscRet`], [`AscReq`], [`AscRet`],
//!   [`CredentialUse`], [`PackageCapabilities`], buffers ([`SecBuffer`],
//!   [`SecBufferType`]), [`PackageInfo`], [`ContextSizes`], [`Lifespan`].
//! * The author's side: implement [`PackageFactory`], [`SecurityPackage`],
//!   [`Credentials`] and [`SecurityContext`], then [`declare_library!`] in the
//!   package crate and [`export_library!`] in its `cdylib` crate.
//! * The host's side: [`ffi`] holds the `#[sabi_trait]` objects and the root
//!   module ([`ffi::SspiLibraryRef`]) that plugin-host loads.
#![deny(missing_docs)]

pub mod adapter;
mod buffer;
mod channel_bindings;
mod error;
mod export;
pub mod ffi;
mod flags;
mod identity;
mod info;
mod package;
mod params;
mod status;

pub use buffer::{SecBuffer, SecBufferType, SecBuffers};
pub use channel_bindings::{channel_bindings_hash, sec_channel_bindings};
pub use error::{SecurityError, SecurityResult};
pub use flags::{AscReq, AscRet, CredentialUse, IscReq, IscRet, PackageCapabilities};
pub use identity::{AuthIdentity, CredentialsRequest, SecretBytes};
pub use info::{ContextSizes, Lifespan, PackageInfo, TimeStamp};
pub use package::{Credentials, HandshakeStep, PackageFactory, SecurityContext, SecurityPackage};
pub use params::{PackageParameters, Parameter, ParameterValue};
pub use status::SecurityStatus;

#[doc(hidden)]
pub use abi_stable;
#[doc(hidden)]
pub use inventory;
