//! The KDC's settings from a registry key (proposed:
//! `HKEY_LOCAL_MACHINE\Comm\SspiKdc`), for `sspi kdc` and `sspi demo`.
//!
//! | value | type | default | meaning |
//! |---|---|---|---|
//! | `Realm` | REG_SZ | required | the realm served |
//! | `Database` | REG_SZ path | required | the principal database, relative to the `.reg` file |
//! | `Listen` | REG_SZ | `127.0.0.1:8888` | TCP and UDP address |
//! | `MaxTicketLifetime` | REG_DWORD s | 36000 | the longest ticket |
//! | `MaxRenewableLifetime` | REG_DWORD s | 604800 (7 days) | the longest renewable life, a ticket's start to its renew-till; 0: no renewable tickets |
//! | `SkewTime` | REG_DWORD minutes | 5 | the largest clock difference accepted |
//! | `IoTimeout` | REG_DWORD ms | 10000 | every read and write; a TCP request must arrive whole within it of its first byte |
//! | `IdleTimeout` | REG_DWORD ms | 2000 | how long a TCP connection may wait for a request (after connecting, after each reply) |
//! | `MaxRequestsPerConnection` | REG_DWORD | 8 | requests answered on one TCP connection before it is closed |
//! | `MaxConnections` | REG_DWORD | 256 | TCP connections served at once; when all are taken, a new one takes the slot of an idle one (`server::Table::victim`) |
//! | `MaxConnectionsPerPeer` | REG_DWORD | 8 | TCP connections served at once for one peer IP address; more are closed at once |
//! | `Udp` | REG_DWORD 0/1 | 1 | also serve UDP (answers never larger than the request) |

use crate::{Database, KdcConfig};
use sspi_core::{PackageParameters, SecurityResult};
use std::net::SocketAddr;
use std::time::Duration;

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8888";

/// Where to listen and how to run.
#[derive(Debug, Clone)]
pub struct KdcSettings {
    /// The TCP (and UDP) address.
    pub listen: SocketAddr,
    /// The KDC configuration, database loaded.
    pub config: KdcConfig,
}

fn dword(
    params: &PackageParameters,
    name: &str,
    default: u32,
    min: u32,
    max: u32,
) -> SecurityResult<u32> {
    let value = params.dword(name)?.unwrap_or(default);
    if !(min..=max).contains(&value) {
        return Err(params.error(
            name,
            format_args!("{name} must be between {min} and {max}, not {value}"),
        ));
    }
    Ok(value)
}

impl KdcSettings {
    /// Reads the settings; every bad value is an error naming its file, line and value.
    pub fn from_parameters(params: &PackageParameters) -> SecurityResult<KdcSettings> {
        let realm = params
            .string("Realm")?
            .filter(|r| !r.is_empty())
            .ok_or_else(|| params.error("Realm", "the KDC needs a Realm"))?;
        let path = params
            .path("Database")?
            .ok_or_else(|| params.error("Database", "the KDC needs a Database file"))?;
        let database = Database::load(&path, realm).map_err(|m| params.error("Database", m))?;
        let listen_text = params.string("Listen")?.unwrap_or(DEFAULT_LISTEN);
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            params.error(
                "Listen",
                format_args!("{listen_text:?} is not an address like 127.0.0.1:8888"),
            )
        })?;
        let mut config = KdcConfig::new(database);
        config.max_ticket_lifetime = Duration::from_secs(u64::from(dword(
            params,
            "MaxTicketLifetime",
            36_000,
            60,
            31_536_000,
        )?));
        config.max_renewable_life = Duration::from_secs(u64::from(dword(
            params,
            "MaxRenewableLifetime",
            604_800,
            0,
            31_536_000,
        )?));
        config.skew = Duration::from_secs(60 * u64::from(dword(params, "SkewTime", 5, 0, 1440)?));
        config.io_timeout =
            Duration::from_millis(u64::from(dword(params, "IoTimeout", 10_000, 1, 600_000)?));
        config.idle_timeout =
            Duration::from_millis(u64::from(dword(params, "IdleTimeout", 2_000, 1, 600_000)?));
        config.max_requests_per_connection =
            dword(params, "MaxRequestsPerConnection", 8, 1, 10_000)? as usize;
        config.max_connections = dword(params, "MaxConnections", 256, 1, 65_536)? as usize;
        config.max_connections_per_peer =
            dword(params, "MaxConnectionsPerPeer", 8, 1, 65_536)? as usize;
        config.udp = dword(params, "Udp", 1, 0, 1)? == 1;
        Ok(KdcSettings { listen, config })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sspi_core::{Parameter, ParameterValue};

    fn params(entries: Vec<(&str, ParameterValue)>) -> PackageParameters {
        PackageParameters {
            key_path: r"HKEY_LOCAL_MACHINE\Comm\SspiKdc".into(),
            entries: entries
                .into_iter()
                .map(|(name, value)| Parameter {
                    key: "".into(),
                    name: name.into(),
                    value,
                    origin: "conf/sspi.reg:7:1".into(),
                })
                .collect::<Vec<_>>()
                .into(),
        }
    }

    #[test]
    fn reads_settings_and_names_bad_values() {
        let dir = std::env::temp_dir().join(format!("sspi-kdc-registry-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("db.txt");
        std::fs::write(&db, "alice password x\n").unwrap();
        let sz = |s: &str| ParameterValue::Sz(s.into());
        let ok = params(vec![
            ("Realm", sz("R")),
            ("Database", sz(db.to_str().unwrap())),
            ("Listen", sz("127.0.0.1:0")),
            ("SkewTime", ParameterValue::Dword(2)),
            ("IdleTimeout", ParameterValue::Dword(1500)),
            ("MaxRequestsPerConnection", ParameterValue::Dword(3)),
            ("MaxConnectionsPerPeer", ParameterValue::Dword(4)),
            ("MaxRenewableLifetime", ParameterValue::Dword(86_400)),
        ]);
        let s = KdcSettings::from_parameters(&ok).unwrap();
        assert_eq!(s.config.max_renewable_life, Duration::from_secs(86_400));
        let defaults = params(vec![
            ("Realm", sz("R")),
            ("Database", sz(db.to_str().unwrap())),
        ]);
        let d = KdcSettings::from_parameters(&defaults).unwrap();
        assert_eq!(d.config.max_renewable_life, Duration::from_secs(7 * 86_400));
        let long = params(vec![
            ("Realm", sz("R")),
            ("Database", sz(db.to_str().unwrap())),
            ("MaxRenewableLifetime", ParameterValue::Dword(31_536_001)),
        ]);
        let e = KdcSettings::from_parameters(&long).unwrap_err();
        assert!(
            e.message()
                .contains("MaxRenewableLifetime must be between 0 and 31536000"),
            "{}",
            e.message()
        );
        assert_eq!(s.config.skew, Duration::from_secs(120));
        assert_eq!(s.config.idle_timeout, Duration::from_millis(1500));
        assert_eq!(s.config.max_requests_per_connection, 3);
        assert_eq!(s.config.max_connections_per_peer, 4);
        let zero = params(vec![
            ("Realm", sz("R")),
            ("Database", sz(db.to_str().unwrap())),
            ("MaxConnectionsPerPeer", ParameterValue::Dword(0)),
        ]);
        let e = KdcSettings::from_parameters(&zero).unwrap_err();
        assert!(
            e.message()
                .contains("MaxConnectionsPerPeer must be between 1 and 65536"),
            "{}",
            e.message()
        );
        assert_eq!(s.config.realm, "R");
        let bad = params(vec![
            ("Realm", sz("R")),
            ("Database", sz(db.to_str().unwrap())),
            ("Listen", sz("nowhere")),
        ]);
        let e = KdcSettings::from_parameters(&bad).unwrap_err();
        assert!(
            e.message().starts_with("conf/sspi.reg:7:1:")
                && e.message().contains("value \"Listen\""),
            "{}",
            e.message()
        );
        std::fs::write(&db, "alice passwd x\n").unwrap();
        let e = KdcSettings::from_parameters(&ok).unwrap_err();
        assert!(
            e.message().contains("db.txt:1:") && e.message().contains("value \"Database\""),
            "{}",
            e.message()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
