//! # sspi-connection
//!
//! Authenticated connections over any byte stream, as SSPI's sample client and
//! server do it: the client names its package, both sides trade tokens
//! (`InitializeSecurityContext` / `AcceptSecurityContext`, with
//! `CompleteAuthToken` where a leg asks for it) until the context is complete
//! and the server accepts, then messages travel sealed or signed. Every wait
//! has a time-out; every failure is reported to the peer in an error frame
//! (status and a short reason, never a secret). See [`frame`] for the wire format.
//!
//! [`Server`] is a TCP server on a tokio runtime running the authenticated
//! echo service: many clients at once, limits from the registry
//! ([`ServerConfig`]), graceful shutdown.
#![deny(missing_docs)]

mod admission;
mod client;
mod config;
mod error;
pub mod frame;
mod message;
mod server;

pub use client::{ClientOptions, ClientSession, authenticate};
pub use config::{SERVER_KEY, ServerConfig};
pub use error::ConnectionError;
pub use message::ProtectionLevel;
pub use server::{
    InboundPackages, Rejected, Server, ServerSession, ServerStats, ShutdownReport, accept,
};
