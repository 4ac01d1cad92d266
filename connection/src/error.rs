//! `ConnectionError`: why a connection failed, telling a misbehaving peer from
//! an incompatible one and an authentication failure from a network failure.

use sspi_core::{SecurityError, SecurityStatus};
use std::time::Duration;

/// Why an authenticated connection failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The network failed (connect, read or write).
    #[error("connection failed: {0}")]
    Io(#[from] std::io::Error),
    /// A wait took longer than its time-out.
    #[error("timed out after {after:?} waiting for {waiting_for}")]
    Timeout {
        /// What was awaited.
        waiting_for: &'static str,
        /// The time-out.
        after: Duration,
    },
    /// The peer closed the connection.
    #[error("the peer closed the connection {during}")]
    Closed {
        /// When, as a phrase that follows "the peer closed the connection"
        /// ("during the handshake").
        during: &'static str,
    },
    /// This server gave the connection's slot, before it authenticated, to a
    /// newer connection: a budget (`MaxUnauthenticated`, `MaxConnections`,
    /// `MaxConnectionsPerPeer`) was full and this handshake had stalled longest.
    #[error("dropped before authenticating: the slot went to a newer connection")]
    Evicted,
    /// The peer misbehaved: a malformed, oversized or unexpected frame.
    #[error("protocol violation by the peer: {0}")]
    Protocol(String),
    /// The peer is incompatible (another protocol version, a package it does not offer).
    #[error("incompatible peer: {0}")]
    Incompatible(String),
    /// This side's security package refused (a handshake leg or a message).
    #[error("{0}")]
    Security(SecurityError),
    /// The peer reported a failure in an error frame.
    #[error("the peer refused: {status}: {reason}")]
    Remote {
        /// The peer's status.
        status: SecurityStatus,
        /// The peer's short reason.
        reason: String,
    },
}

impl ConnectionError {
    /// The SSPI status that describes the failure, when there is one.
    pub fn status(&self) -> Option<SecurityStatus> {
        match self {
            Self::Security(e) => Some(e.status()),
            Self::Remote { status, .. } => Some(*status),
            Self::Incompatible(_) => Some(SecurityStatus::SEC_E_SECPKG_NOT_FOUND),
            Self::Protocol(_) => Some(SecurityStatus::SEC_E_INVALID_TOKEN),
            // The handshake (or session) ran out of time.
            Self::Timeout { .. } | Self::Evicted => Some(SecurityStatus::SEC_E_CONTEXT_EXPIRED),
            _ => None,
        }
    }

    /// True when the security package panicked on this side (the package
    /// reported it as SEC_E_INTERNAL_ERROR and its context is unusable).
    pub fn is_package_panic(&self) -> bool {
        matches!(self, Self::Security(error) if error.is_panic())
    }

    /// True when authentication itself failed (as opposed to the network or the protocol).
    pub fn is_authentication_failure(&self) -> bool {
        matches!(
            self,
            Self::Security(_) | Self::Remote { .. } | Self::Incompatible(_)
        )
    }
}

impl From<SecurityError> for ConnectionError {
    fn from(error: SecurityError) -> Self {
        Self::Security(error)
    }
}

impl From<SecurityStatus> for ConnectionError {
    fn from(status: SecurityStatus) -> Self {
        Self::Security(SecurityError::from(status))
    }
}
