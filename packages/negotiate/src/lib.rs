//! # The Negotiate security package
//!
//! SPNEGO (RFC 4178, MS-SPNG), composed from the installed packages it names.
#![deny(missing_docs)]

pub mod oid;
pub mod token;
