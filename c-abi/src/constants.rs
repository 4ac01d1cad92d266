//! The constants of the C interface that `sspi-core` does not define as
//! types: table versions, attribute numbers, descriptor and identity flags.
//! Statuses, ISC/ASC bits and buffer types are `sspi-core`'s.

use crate::types::ULONG;

/// `SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION`: the table through QuerySecurityContextToken.
pub const SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION: ULONG = 1;
/// `SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2`: adds SetContextAttributes.
pub const SECURITY_SUPPORT_PROVIDER_INTERFACE_VERSION_2: ULONG = 2;
/// `SECBUFFER_VERSION`: the only `SecBufferDesc.ulVersion`.
pub const SECBUFFER_VERSION: ULONG = 0;

/// `SECPKG_CRED_INBOUND`.
pub const SECPKG_CRED_INBOUND: ULONG = 0x1;
/// `SECPKG_CRED_OUTBOUND`.
pub const SECPKG_CRED_OUTBOUND: ULONG = 0x2;
/// `SECPKG_CRED_BOTH`.
pub const SECPKG_CRED_BOTH: ULONG = 0x3;

/// `SECPKG_CRED_ATTR_NAMES`.
pub const SECPKG_CRED_ATTR_NAMES: ULONG = 1;

/// `SECPKG_ATTR_SIZES`.
pub const SECPKG_ATTR_SIZES: ULONG = 0;
/// `SECPKG_ATTR_NAMES`.
pub const SECPKG_ATTR_NAMES: ULONG = 1;
/// `SECPKG_ATTR_LIFESPAN`.
pub const SECPKG_ATTR_LIFESPAN: ULONG = 2;
/// `SECPKG_ATTR_SESSION_KEY`.
pub const SECPKG_ATTR_SESSION_KEY: ULONG = 9;
/// `SECPKG_ATTR_PACKAGE_INFO`.
pub const SECPKG_ATTR_PACKAGE_INFO: ULONG = 10;
/// `SECPKG_ATTR_NEGOTIATION_INFO`.
pub const SECPKG_ATTR_NEGOTIATION_INFO: ULONG = 12;
/// `SECPKG_ATTR_FLAGS`.
pub const SECPKG_ATTR_FLAGS: ULONG = 14;

/// `SEC_WINNT_AUTH_IDENTITY_ANSI`: the identity's strings are 8-bit.
pub const SEC_WINNT_AUTH_IDENTITY_ANSI: ULONG = 0x1;
/// `SEC_WINNT_AUTH_IDENTITY_UNICODE`: the identity's strings are UTF-16.
pub const SEC_WINNT_AUTH_IDENTITY_UNICODE: ULONG = 0x2;
/// `SEC_WINNT_AUTH_IDENTITY_VERSION`: `SEC_WINNT_AUTH_IDENTITY_EX*.Version`.
pub const SEC_WINNT_AUTH_IDENTITY_VERSION: ULONG = 0x200;

/// `SECPKG_CONTEXT_EXPORT_RESET_NEW`: the imported context starts its sequence numbers anew.
pub const SECPKG_CONTEXT_EXPORT_RESET_NEW: ULONG = 0x1;
/// `SECPKG_CONTEXT_EXPORT_DELETE_OLD`: the exported context is deleted.
pub const SECPKG_CONTEXT_EXPORT_DELETE_OLD: ULONG = 0x2;
/// `SECPKG_CONTEXT_EXPORT_TO_KERNEL` (not supported).
pub const SECPKG_CONTEXT_EXPORT_TO_KERNEL: ULONG = 0x4;

/// `SECURITY_NATIVE_DREP`.
pub const SECURITY_NATIVE_DREP: ULONG = 0x10;
/// `SECURITY_NETWORK_DREP`.
pub const SECURITY_NETWORK_DREP: ULONG = 0x0;

/// `SECBUFFER_ATTRMASK`: the attribute bits of `BufferType`.
pub const SECBUFFER_ATTRMASK: ULONG = 0xF000_0000;
