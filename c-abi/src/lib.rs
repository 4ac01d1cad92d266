//! # sspi-c-abi: SSPI's C layouts
//!
//! The structures and function tables of the Windows SDK's `sspi.h`, with
//! Windows' type sizes on every platform: `ULONG`, `LONG` and
//! `SECURITY_STATUS` are 32-bit, `USHORT` and `SEC_WCHAR` 16-bit (UTF-16),
//! `ULONG_PTR` and pointers native. A program written against the SDK's
//! definitions (or `capi/include/sspi.h`) sees these layouts.
//!
//! Two crates use them: `capi` (`libsspi.so`, which exports the table) and
//! the host's loader of C providers (which calls a provider's table). Only
//! layouts, constants and the bounded string readers both need live here;
//! every call's meaning is `sspi-core`'s.

#![deny(missing_docs)]
// The SDK's names, so anyone who knows sspi.h finds their way.
#![allow(non_camel_case_types, clippy::upper_case_acronyms)]

pub mod constants;
pub mod table;
pub mod types;
pub mod wide;

pub use constants::*;
pub use table::*;
pub use types::*;
