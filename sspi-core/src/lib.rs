//! # sspi-core
//!
//! The stable ABI shared by the sspi-plug host and every security package, and
//! the helpers a package author uses.
//!
//! * Values with SSPI's own names: [`SecurityStatus`] (`SEC_E_*`, `SEC_I_*`),
//!   the flag sets [`IscReq`], [`IscRet`], [`AscReq`], [`AscRet`],
//!   [`CredentialUse`], [`PackageCapabilities`], buffers ([`SecBuffer`],
//!   [`SecBufferRef`], [`SecBufferType`]), [`PackageInfo`], [`ContextSizes`],
//!   [`Lifespan`], [`Qop`].
//! * The author's side: implement [`PackageFactory`], [`SecurityPackage`],
//!   [`Credentials`], a [`ClientHandshake`] and a [`ServerHandshake`] and the
//!   [`EstablishedContext`] they reach, then [`declare_library!`] in the
//!   package crate and [`export_library!`] in its `cdylib` crate.
//! * The host's side: [`ffi`] holds the `#[sabi_trait]` objects and the root
//!   module ([`ffi::SspiLibraryRef`]) that plugin-host loads.
#![deny(missing_docs)]

pub mod adapter;
mod buffer;
mod channel_bindings;
mod engine;
mod error;
mod established;
mod export;
pub mod ffi;
mod flags;
mod handshake;
mod identity;
mod info;
mod message;
mod package;
mod parameter_check;
mod parameter_spec;
mod params;
mod sequence;
mod status;

pub use buffer::{SecBuffer, SecBufferRef, SecBufferType, SecBuffers};
pub use channel_bindings::{ChannelBindings, channel_bindings_hash, sec_channel_bindings};
pub use error::{SecurityError, SecurityResult};
pub use established::EstablishedContext;
pub use flags::{AscReq, AscRet, ContextFlags, CredentialUse, IscReq, IscRet, PackageCapabilities};
pub use handshake::{
    AscStep, ClientHandshake, HandshakeStep, IscStep, LegInput, ServerHandshake, Step, StepOutcome,
};
pub use identity::{AuthIdentity, CredentialsRequest, SecretBytes};
pub use info::{ContextSizes, Lifespan, PackageInfo, TimeStamp};
pub use message::{MessageError, MessageResult, Qop};
pub use package::{Credentials, PackageFactory, SecurityPackage};
pub use parameter_check::{Finding, Severity, check_parameters, closest};
pub use parameter_spec::{ParameterKind, ParameterSpec};
pub use params::{PackageParameters, Parameter, ParameterValue, RegistryUser};
pub use sequence::SequenceNumbers;
pub use status::SecurityStatus;

#[doc(hidden)]
pub use abi_stable;
#[doc(hidden)]
pub use inventory;
