//! # sspi-kdc: a small Kerberos V5 KDC
//!
//! AS and TGS for one realm, for tests, demos and development realms:
//!
//! * principals and keys from a text database ([`database`]): a password
//!   (keys derived with each etype's string-to-key and the default salt:
//!   aes-sha1 17/18 and RFC 8009 aes-sha2 19/20, or the line's `etypes=`) or
//!   explicit hex keys with kvno and etype;
//! * the session key etype of RFC 4120 3.1.3: the first of the client's
//!   etypes the ticket's server has a key for;
//! * AS: PA-ENC-TIMESTAMP pre-authentication (KDC_ERR_PREAUTH_REQUIRED with
//!   ETYPE-INFO2 first), tickets with the `initial` and `pre-authent` flags
//!   and lifetimes capped by the configuration and the principal;
//! * TGS: the TGT in PA-TGS-REQ, the authenticator and its checksum over the
//!   request body, the initiator's subkey honoured;
//! * ticket options ([`options`], RFC 4120 2.6-2.8 as MIT's KDC does them):
//!   forwardable (`kinit -f`; not for a `noforward` principal), forwarded
//!   TGTs from forwardable ones (else KDC_ERR_BADOPTION) and the forwarded
//!   flag carried into every ticket issued from them, renewable and
//!   renewable-ok (`kinit -r`; renew-till capped by
//!   [`KdcConfig::max_renewable_life`], the TGT's and the principals'
//!   `maxrenew=`), renewal (`kinit -R`: a renewable TGT or service ticket
//!   before its end and renew-till times), ok-as-delegate for the services
//!   so marked;
//! * tickets only for services (two-component names, or marked `service`):
//!   a ticket for a user would be an offline oracle for its password;
//! * real KRB-ERRORs: C/S_PRINCIPAL_UNKNOWN, PREAUTH_FAILED, SKEW,
//!   ETYPE_NOSUPP, TKT_EXPIRED, BAD_INTEGRITY, MODIFIED, WRONG_REALM...;
//! * TCP (4-byte length prefix) and UDP on the same port, time-outs on every
//!   read and write, bounded request sizes, requests per connection, idle
//!   time and connections (in all and per peer address; a new connection
//!   takes the slot of an idle one when all are taken), UDP answers
//!   never larger than their request, shutdown by a future.
//!
//! Embed it with [`KdcHandle::start`] (its own thread and runtime; stops on
//! drop) or [`Kdc::bind`] + [`Kdc::serve`] inside a tokio runtime; [`serve`]
//! is the one-call form for a command line.
//!
//! Not implemented: cross-realm, postdating (and validate), proxiable
//! tickets, FAST, PKINIT, PACs, a KDC-side replay cache, rc4-hmac and DES.
#![deny(missing_docs)]

pub mod as_service;
pub mod database;
pub mod issue;
pub mod options;
pub mod registry;
pub mod server;
pub mod tgs_service;

pub use database::Database;
pub use registry::KdcSettings;
pub use server::Kdc;

use issue::Refusal;
use sspi_package_kerberos::internal::krb_error;
use sspi_package_kerberos::internal::principal::Principal;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How a KDC runs.
#[derive(Debug, Clone)]
pub struct KdcConfig {
    /// The realm.
    pub realm: String,
    /// The principals.
    pub database: Database,
    /// The longest ticket lifetime (default 10 hours).
    pub max_ticket_lifetime: Duration,
    /// The longest renewable life, from a ticket's start to its renew-till
    /// (default 7 days, as Windows' "maximum lifetime for user ticket
    /// renewal"); zero issues no renewable tickets.
    pub max_renewable_life: Duration,
    /// The largest clock difference accepted (default 5 minutes).
    pub skew: Duration,
    /// The time-out of every read and write (default 10 s); a TCP request
    /// must arrive whole within it once its first byte has.
    pub io_timeout: Duration,
    /// How long a TCP connection may wait for its next request's first byte
    /// (default 2 s), after connecting and after each reply.
    pub idle_timeout: Duration,
    /// Requests answered on one TCP connection before it is closed (default 8).
    pub max_requests_per_connection: usize,
    /// The largest request accepted over TCP (default 64 KiB).
    pub max_request: usize,
    /// TCP connections served at once (default 256). When all are taken, a
    /// new connection takes the slot of an idle one, if any (one waiting for
    /// a further request, or for its first for over 250 ms).
    pub max_connections: usize,
    /// TCP connections served at once for one peer address (default 8).
    pub max_connections_per_peer: usize,
    /// Also serve UDP on the same port (default true).
    pub udp: bool,
    /// Seconds added to this machine's clock (default 0): simulates a KDC
    /// whose clock is wrong, for tests of clock skew and expiry.
    pub clock_offset: i64,
}

impl KdcConfig {
    /// Defaults for `database`'s realm.
    pub fn new(database: Database) -> KdcConfig {
        KdcConfig {
            realm: database.realm().to_string(),
            database,
            max_ticket_lifetime: Duration::from_secs(36_000),
            max_renewable_life: Duration::from_secs(7 * 86_400),
            skew: Duration::from_secs(300),
            io_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(2),
            max_requests_per_connection: 8,
            max_request: 65_536,
            max_connections: 256,
            max_connections_per_peer: 8,
            udp: true,
            clock_offset: 0,
        }
    }

    /// Defaults with the database file at `path` for `realm`.
    pub fn from_file(realm: &str, path: &std::path::Path) -> Result<KdcConfig, String> {
        Ok(KdcConfig::new(Database::load(path, realm)?))
    }
}

/// What the request handlers share.
#[derive(Debug)]
pub struct KdcState {
    /// The realm.
    pub realm: String,
    /// The principals (with a `krbtgt` key ensured).
    pub database: Database,
    /// The longest ticket lifetime, in seconds.
    pub max_lifetime: i64,
    /// The longest renewable life, in seconds.
    pub max_renewable_life: i64,
    /// The allowed skew, in seconds.
    pub skew: i64,
    /// The configuration.
    pub config: KdcConfig,
    /// AS requests answered.
    pub as_requests: AtomicU64,
    /// TGS requests answered.
    pub tgs_requests: AtomicU64,
    /// Requests whose handler panicked (answered KRB_ERR_GENERIC).
    pub panics: AtomicU64,
    /// TCP connections open now.
    pub tcp_open: AtomicU64,
    /// Idle TCP connections closed to make room for a new one.
    pub tcp_evicted: AtomicU64,
    /// TCP connections refused (the peer's limit, or every slot busy).
    pub tcp_refused: AtomicU64,
    /// UDP requests answered RESPONSE_TOO_BIG or not at all, because the
    /// answer was larger than the request.
    pub udp_too_big: AtomicU64,
}

impl KdcState {
    /// The state of a KDC with `config`.
    pub fn new(config: KdcConfig) -> Result<KdcState, String> {
        let mut database = config.database.clone();
        if database.realm() != config.realm {
            return Err(format!(
                "the database is for realm {}, the KDC for {}",
                database.realm(),
                config.realm
            ));
        }
        database.ensure_krbtgt()?;
        Ok(KdcState {
            realm: config.realm.clone(),
            database,
            max_lifetime: config.max_ticket_lifetime.as_secs() as i64,
            max_renewable_life: i64::try_from(config.max_renewable_life.as_secs())
                .unwrap_or(i64::MAX),
            skew: config.skew.as_secs() as i64,
            config,
            as_requests: AtomicU64::new(0),
            tgs_requests: AtomicU64::new(0),
            panics: AtomicU64::new(0),
            tcp_open: AtomicU64::new(0),
            tcp_evicted: AtomicU64::new(0),
            tcp_refused: AtomicU64::new(0),
            udp_too_big: AtomicU64::new(0),
        })
    }

    /// The KDC's idea of now.
    pub fn now(&self) -> sspi_package_kerberos::internal::time::KrbTime {
        sspi_package_kerberos::internal::time::KrbTime::now().plus(self.config.clock_offset)
    }

    fn tgs(&self) -> Principal {
        Principal::krbtgt(&self.realm)
    }

    /// KRB_ERR_RESPONSE_TOO_BIG (sent over UDP instead of a larger reply).
    pub fn too_big(&self) -> Vec<u8> {
        Refusal::new(krb_error::RESPONSE_TOO_BIG, "use TCP").to_der(&self.tgs())
    }

    /// KRB_ERR_FIELD_TOOLONG (a TCP request over the limit).
    pub fn field_too_long(&self) -> Vec<u8> {
        Refusal::new(krb_error::FIELD_TOOLONG, "request too long").to_der(&self.tgs())
    }
}

/// Answers one request (an AS-REQ or TGS-REQ's DER) with a reply or a
/// KRB-ERROR; `None` for input that is not a Kerberos message at all. Never
/// panics on any input: every decode goes through
/// [`sspi_package_kerberos::internal::messages::decode`] (DER lengths checked before
/// picky sees them), and should a handler panic all the same the request is
/// answered KRB_ERR_GENERIC, counted in [`KdcState::panics`] and the KDC goes
/// on serving.
pub fn handle(state: &KdcState, request: &[u8]) -> Option<Vec<u8>> {
    guarded(state, || answer(state, request))
}

/// Runs one request's handler; a panic becomes KRB_ERR_GENERIC ("internal
/// error"). The state is only read by handlers (and counters are atomics),
/// so nothing half-updated survives a panic.
fn guarded(state: &KdcState, handler: impl FnOnce() -> Option<Vec<u8>>) -> Option<Vec<u8>> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(handler)) {
        Ok(reply) => reply,
        Err(_) => {
            state.panics.fetch_add(1, Ordering::Relaxed);
            tracing::error!("a request made the KDC panic; answered KRB_ERR_GENERIC");
            Some(Refusal::new(krb_error::GENERIC, "internal error").to_der(&state.tgs()))
        }
    }
}

fn answer(state: &KdcState, request: &[u8]) -> Option<Vec<u8>> {
    let tag = sspi_package_kerberos::internal::der::application_tag(request)?;
    let result = match tag {
        10 => {
            state.as_requests.fetch_add(1, Ordering::Relaxed);
            as_service::handle(state, request)
        }
        12 => {
            state.tgs_requests.fetch_add(1, Ordering::Relaxed);
            tgs_service::handle(state, request)
        }
        _ => Err(Box::new((
            Refusal::new(
                krb_error::MSG_TYPE,
                format!("message type {tag} is not a KDC request"),
            ),
            state.tgs(),
        ))),
    };
    Some(match result {
        Ok(reply) => reply,
        Err(refused) => {
            let (refusal, service) = *refused;
            if refusal.code != krb_error::PREAUTH_REQUIRED {
                tracing::info!(
                    code = refusal.code,
                    error = krb_error::name(refusal.code),
                    client = ?refusal.client.as_ref().map(ToString::to_string),
                    service = %service,
                    reason = %refusal.text,
                    "request refused"
                );
            }
            refusal.to_der(&service)
        }
    })
}

/// The database entry of `server` if tickets may be issued for it (see
/// [`Database::is_service`]). A user principal is refused exactly like an
/// unknown one (KDC_ERR_S_PRINCIPAL_UNKNOWN, same text): KDC_ERR_POLICY would
/// confirm to anyone with a TGT that the user exists, and clients already
/// read S_PRINCIPAL_UNKNOWN as "no such target" (SEC_E_TARGET_UNKNOWN).
fn service_entry<'a>(
    state: &'a KdcState,
    server: &Principal,
    client: &Principal,
) -> Option<&'a database::Entry> {
    let entry = state.database.lookup(server)?;
    if !state.database.is_service(server) {
        tracing::info!(
            client = %client,
            service = %server,
            "a ticket for a user principal refused (not a service: mark it `service` in the database)"
        );
        return None;
    }
    Some(entry)
}

/// Binds `addr` and serves until `shutdown` completes (for a command line:
/// `sspi kdc`).
pub async fn serve(
    addr: SocketAddr,
    config: KdcConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    Kdc::bind(addr, config).await?.serve(shutdown).await
}

/// A KDC on its own thread and runtime; it stops when dropped.
pub struct KdcHandle {
    addr: SocketAddr,
    state: std::sync::Arc<KdcState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl KdcHandle {
    /// Starts a KDC on `addr` (`127.0.0.1:0` for a free port).
    pub fn start(addr: SocketAddr, config: KdcConfig) -> std::io::Result<KdcHandle> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let kdc = runtime.block_on(Kdc::bind(addr, config))?;
        let addr = kdc.local_addr()?;
        let state = kdc.state();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sspi-kdc".into())
            .spawn(move || {
                let _ = runtime.block_on(kdc.serve(async {
                    let _ = stopped.await;
                }));
            })?;
        Ok(KdcHandle {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address it listens on (TCP and UDP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The state: request counters, database.
    pub fn state(&self) -> &KdcState {
        &self.state
    }

    /// Stops it and waits for its thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for KdcHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_handler_is_answered_and_counted() {
        let db = Database::parse("alice password pw\n", "R.TEST", "test").unwrap();
        let state = KdcState::new(KdcConfig::new(db)).unwrap();
        let reply = guarded(&state, || panic!("handler bug")).expect("an answer");
        let error =
            sspi_package_kerberos::internal::krb_error::KdcError::parse(&reply).expect("KRB-ERROR");
        assert_eq!(error.code, krb_error::GENERIC);
        assert_eq!(error.text.as_deref(), Some("internal error"));
        assert_eq!(state.panics.load(Ordering::Relaxed), 1);
        // The state is still usable.
        assert!(handle(&state, &[0x6e, 0x00]).is_some());
    }
}
