//! The server's limits, from `HKEY_LOCAL_MACHINE\Comm\SspiServer`.

use sspi_registry::{RegValue, Registry, RegistryError};
use std::time::Duration;

/// The registry key of the server's settings.
pub const SERVER_KEY: &str = r"HKEY_LOCAL_MACHINE\Comm\SspiServer";

/// Limits and choices of `sspi server`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// `HandshakeTimeout` (REG_DWORD ms, default 10000): from connect to authenticated.
    pub handshake_timeout: Duration,
    /// `IdleTimeout` (REG_DWORD ms, default 60000): the longest wait for the next message.
    pub idle_timeout: Duration,
    /// `MaxTokenSize` (REG_DWORD bytes, default 65536): the largest handshake frame.
    pub max_token_size: usize,
    /// `MaxMessageSize` (REG_DWORD bytes, default 1048576): the largest message frame.
    pub max_message_size: usize,
    /// `MaxConnections` (REG_DWORD, default 256): connections served at once,
    /// authenticated or not. When full, a new connection takes the slot of the
    /// unauthenticated one stalled longest; with none, it is refused.
    pub max_connections: usize,
    /// `MaxUnauthenticated` (REG_DWORD, default 64): connections still
    /// authenticating at once. When full, a new connection takes the slot of
    /// the one that has gone longest without completing a frame.
    pub max_unauthenticated: usize,
    /// `MaxConnectionsPerPeer` (REG_DWORD, default 32): connections from one
    /// peer address (IPv6: one /64) at once. When full, the peer's own
    /// unauthenticated connection stalled longest gives up its slot; with
    /// none, the new connection is refused.
    pub max_connections_per_peer: usize,
    /// `WriteTimeout` (REG_DWORD ms, default 30000): the longest a reply may
    /// wait for the client to read it; a client that stops reading is dropped.
    pub write_timeout: Duration,
    /// `ShutdownGrace` (REG_DWORD ms, default 5000): how long open sessions may finish after a stop.
    pub shutdown_grace: Duration,
    /// `InboundPackages` (REG_MULTI_SZ, or REG_SZ with commas): the packages
    /// offered to clients; absent means every available package.
    pub inbound_packages: Option<Vec<String>>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_token_size: 64 * 1024,
            max_message_size: 1024 * 1024,
            max_connections: 256,
            max_unauthenticated: 64,
            max_connections_per_peer: 32,
            write_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(5),
            inbound_packages: None,
        }
    }
}

impl ServerConfig {
    /// The settings in `registry` (defaults where a value is absent); a value of
    /// the wrong type or out of range is an error naming its file, line and name.
    pub fn from_registry(registry: &Registry) -> Result<Self, RegistryError> {
        let mut config = Self::default();
        let Some(key) = registry.key(SERVER_KEY) else {
            return Ok(config);
        };
        let dword = |name: &str, min: u32| -> Result<Option<u32>, RegistryError> {
            let Some((value, location)) = key.value_entry(name) else {
                return Ok(None);
            };
            let error = |message: String| RegistryError::Config {
                location: Some(location.clone()),
                key: SERVER_KEY.to_string(),
                value: Some(name.to_string()),
                message,
            };
            match value {
                RegValue::Dword(d) if *d >= min => Ok(Some(*d)),
                RegValue::Dword(d) => Err(error(format!("{name} must be at least {min}, not {d}"))),
                other => Err(error(format!(
                    "expected REG_DWORD, found {}",
                    other.type_name()
                ))),
            }
        };
        let millis = |v: u32| Duration::from_millis(u64::from(v));
        if let Some(v) = dword("HandshakeTimeout", 1)? {
            config.handshake_timeout = millis(v);
        }
        if let Some(v) = dword("IdleTimeout", 1)? {
            config.idle_timeout = millis(v);
        }
        if let Some(v) = dword("MaxTokenSize", 64)? {
            config.max_token_size = v as usize;
        }
        if let Some(v) = dword("MaxMessageSize", 64)? {
            config.max_message_size = v as usize;
        }
        if let Some(v) = dword("MaxConnections", 1)? {
            config.max_connections = v as usize;
        }
        if let Some(v) = dword("MaxUnauthenticated", 1)? {
            config.max_unauthenticated = v as usize;
        }
        if let Some(v) = dword("MaxConnectionsPerPeer", 1)? {
            config.max_connections_per_peer = v as usize;
        }
        if let Some(v) = dword("WriteTimeout", 1)? {
            config.write_timeout = millis(v);
        }
        if let Some(v) = dword("ShutdownGrace", 0)? {
            config.shutdown_grace = millis(v);
        }
        if let Some((value, location)) = key.value_entry("InboundPackages") {
            let names: Vec<String> = match value {
                RegValue::MultiSz(list) => list.iter().map(|s| s.trim().to_string()).collect(),
                RegValue::Sz(s) => s.split(',').map(|s| s.trim().to_string()).collect(),
                other => {
                    return Err(RegistryError::Config {
                        location: Some(location.clone()),
                        key: SERVER_KEY.to_string(),
                        value: Some("InboundPackages".into()),
                        message: format!(
                            "expected REG_MULTI_SZ or REG_SZ, found {}",
                            other.type_name()
                        ),
                    });
                }
            };
            config.inbound_packages = Some(names.into_iter().filter(|n| !n.is_empty()).collect());
        }
        Ok(config)
    }

    /// The longest frame accepted during the handshake.
    pub fn max_handshake_frame(&self) -> usize {
        self.max_token_size + 1
    }

    /// The longest frame accepted after it.
    pub fn max_message_frame(&self) -> usize {
        self.max_message_size + 1
    }
}
