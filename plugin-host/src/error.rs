//! Errors of building a host.

use sspi_registry::RegistryError;

/// Why a host could not be built. Problems with single libraries or packages
/// are not errors: they make those packages unavailable, with the reason.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// The registry files could not be read or do not describe a configuration.
    #[error(transparent)]
    Registry(#[from] RegistryError),
}
