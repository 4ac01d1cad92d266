//! # sspi-plugin-host
//!
//! The SSPI layer of sspi-plug: reads the registry, loads each provider
//! library as an `abi_stable` plugin (or a built-in linked into the program and
//! registered with `inventory`), enumerates the packages, and routes every
//! call on a credential or context to the package that created it.
//!
//! ```no_run
//! use sspi_plugin_host::SecurityHost;
//! use sspi_core::CredentialUse;
//!
//! let host = SecurityHost::from_registry_files(&["config/sspi.reg"])?;
//! let client = host.acquire_credentials_handle("Test", None, CredentialUse::OUTBOUND, None)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod c_provider;
mod composition;
mod error;
mod handle;
mod host;
mod library;
pub mod loopback;
pub mod params;
pub mod resolve;

pub use composition::{CompositionError, ValueOrigin};
pub use error::{HostError, Unavailable};
pub use handle::{
    ContextAttribute, ContextAttributeValue, CredentialsHandle, PackageMeta, SecurityContextHandle,
};
pub use host::{
    PROVIDERS_KEY, PackageEntry, PackageSource, PackageState, ProviderFile, SecurityHost,
};
