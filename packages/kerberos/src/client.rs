//! A client credential: the principal, its password or keytab keys, a
//! credential cache, and the tickets it has earned (the TGT and service
//! tickets are cached, so a second context does not go back to the KDC while
//! they are fresh).

use crate::as_exchange::{AsRequest, ClientKey, request_tgt_with};
use crate::ccache::{CacheName, CredentialCache};
use crate::config::KerberosConfig;
use crate::crypto::Key;
use crate::messages::ticket_flags;
use crate::principal::Principal;
use crate::tgs_exchange::{request_forwarded_tgt, request_service_ticket};
use crate::ticket::HeldTicket;
use crate::transport::KdcTarget;
use sspi_core::{SecretBytes, SecurityError, SecurityStatus};
use std::collections::HashMap;
use std::sync::Mutex;

/// Tickets are renewed when they have less than this many seconds left.
const FRESH_MARGIN: i64 = 60;

/// The most service tickets cached per credential.
const MAX_CACHED_TICKETS: usize = 64;

/// What the client proves its identity with when it needs a new TGT.
pub enum ClientSecret {
    /// A password (string-to-key with the KDC's salt).
    Password(SecretBytes),
    /// Long-term keys from a client keytab, one per etype.
    Keys(Vec<Key>),
    /// Nothing: only the credential cache's tickets.
    None,
}

/// The credential cache a client reads tickets from and writes them to.
#[derive(Debug, Clone)]
pub struct ClientCache {
    /// The cache.
    pub name: CacheName,
    /// True when a TGT this client obtains (with a password or keytab) may
    /// initialize or update the cache: it was named (KRB5CCNAME, the
    /// registry, AcquireCredentialsHandle), not MIT's compiled default.
    pub store_tgt: bool,
}

/// A client's identity and ticket cache.
pub struct ClientState {
    /// The client principal.
    pub principal: Principal,
    secret: ClientSecret,
    cache: Option<ClientCache>,
    key: Mutex<Option<ClientKey>>,
    tgt: Mutex<Option<HeldTicket>>,
    /// The forwarded TGT delegation sends, while fresh.
    forwarded: Mutex<Option<HeldTicket>>,
    tickets: Mutex<HashMap<Principal, HeldTicket>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ClientState {
    /// A client with `secret` and, when given, a credential cache.
    pub fn with_sources(
        principal: Principal,
        secret: ClientSecret,
        cache: Option<ClientCache>,
    ) -> Self {
        Self {
            principal,
            secret,
            cache,
            key: Mutex::new(None),
            tgt: Mutex::new(None),
            forwarded: Mutex::new(None),
            tickets: Mutex::new(HashMap::new()),
        }
    }

    /// The client of a TGT it delegated to an acceptor: that TGT only (no
    /// password, keytab or credential cache), kept in memory.
    pub fn delegated(tgt: HeldTicket) -> Self {
        let state = Self::with_sources(tgt.client.clone(), ClientSecret::None, None);
        *lock(&state.tgt) = Some(tgt);
        state
    }

    /// A forwarded TGT to delegate (cached while fresh), or why there is none:
    /// the TGT is not forwardable, or the KDC refused.
    pub fn forwarded_tgt(&self, config: &KerberosConfig) -> Result<HeldTicket, SecurityError> {
        if let Some(t) = lock(&self.forwarded)
            .as_ref()
            .filter(|t| t.is_fresh(FRESH_MARGIN))
        {
            return Ok(t.clone());
        }
        let tgt = self.tgt(config)?;
        if tgt.flags & ticket_flags::FORWARDABLE == 0 {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_DELEGATION_POLICY,
                format!(
                    "the TGT of {} is not forwardable (kinit -f, or a KDC that allows forwarding)",
                    self.principal
                ),
            ));
        }
        let kdc = Self::kdc(config, &tgt.server.realm);
        let lifetime = config.ticket_lifetime.as_secs() as i64;
        let forwarded = request_forwarded_tgt(&tgt, &config.etypes, lifetime, &kdc)?;
        tracing::debug!(client = %forwarded.client, end = forwarded.end_time, "obtained a forwarded TGT");
        *lock(&self.forwarded) = Some(forwarded.clone());
        Ok(forwarded)
    }

    /// A fresh ticket of the client for `server` in its credential cache.
    fn cached_ticket(&self, server: &Principal) -> Option<HeldTicket> {
        let cache = self.cache.as_ref()?;
        match cache.name.load_for(&self.principal) {
            Ok(Some((_, c))) => c.ticket_for(server).filter(|t| t.is_fresh(FRESH_MARGIN)),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "credential cache not read");
                None
            }
        }
    }

    /// Writes `ticket` to the credential cache (a TGT only when the cache
    /// was named); failures are logged, never fatal.
    fn write_back(&self, ticket: &HeldTicket, is_tgt: bool) {
        let Some(cache) = &self.cache else { return };
        if is_tgt && !cache.store_tgt {
            return;
        }
        let result = (|| -> Result<bool, String> {
            // Find the file, lock it, then read it again under the lock.
            let target = match cache.name.load_for(&self.principal)? {
                Some((name, _)) => name,
                None => cache.name.clone(),
            };
            let _lock = target.lock_for_update()?;
            let (name, mut contents) = match target.load_for(&self.principal)? {
                Some(found) => found,
                // A TGT starts a new cache only where none is (another
                // principal's cache is left alone).
                None if is_tgt && cache.name.load()?.is_none() => (
                    cache.name.clone(),
                    CredentialCache::new(self.principal.clone()),
                ),
                None => return Ok(false),
            };
            contents.store(ticket)?;
            name.save(&contents)?;
            Ok(true)
        })();
        match result {
            Ok(true) => {
                tracing::debug!(server = %ticket.server, "ticket written to the credential cache")
            }
            Ok(false) => {
                tracing::debug!(server = %ticket.server, "the credential cache belongs to another principal; not written")
            }
            Err(e) => tracing::warn!(error = %e, "credential cache not written"),
        }
    }

    fn kdc<'a>(config: &'a KerberosConfig, realm: &'a str) -> KdcTarget<'a> {
        KdcTarget {
            realm,
            addresses: config.kdcs_of(realm),
            timeout: config.kdc_timeout,
            retries: config.kdc_retries,
        }
    }

    /// The TGT: cached while fresh, else from an AS exchange.
    pub fn tgt(&self, config: &KerberosConfig) -> Result<HeldTicket, SecurityError> {
        if let Some(t) = lock(&self.tgt)
            .as_ref()
            .filter(|t| t.is_fresh(FRESH_MARGIN))
        {
            return Ok(t.clone());
        }
        let krbtgt = Principal::krbtgt(&self.principal.realm);
        if let Some(t) = self.cached_ticket(&krbtgt) {
            tracing::debug!(client = %t.client, end = t.end_time, "a TGT from the credential cache");
            *lock(&self.tgt) = Some(t.clone());
            return Ok(t);
        }
        let (password, keys): (&[u8], &[Key]) = match &self.secret {
            ClientSecret::Password(p) => (p.expose(), &[]),
            ClientSecret::Keys(keys) => (&[], keys),
            ClientSecret::None if self.cache.is_none() => {
                return Err(SecurityError::new(
                    SecurityStatus::SEC_E_NO_CREDENTIALS,
                    format!(
                        "{}: the TGT this client delegated has expired (it cannot get another)",
                        self.principal
                    ),
                ));
            }
            ClientSecret::None => {
                let cache = self
                    .cache
                    .as_ref()
                    .map(|c| c.name.to_string())
                    .unwrap_or_else(|| "none".into());
                return Err(SecurityError::new(
                    SecurityStatus::SEC_E_NO_CREDENTIALS,
                    format!(
                        "{}: no fresh TGT in the credential cache ({cache}) and no password or client keytab (run kinit)",
                        self.principal
                    ),
                ));
            }
        };
        let etypes: Vec<_> = if keys.is_empty() {
            config.etypes.clone()
        } else {
            config
                .etypes
                .iter()
                .copied()
                .filter(|e| keys.iter().any(|k| k.etype() == *e))
                .collect()
        };
        let kdc = Self::kdc(config, &self.principal.realm);
        let request = AsRequest {
            client: &self.principal,
            password,
            etypes: &etypes,
            lifetime: config.ticket_lifetime.as_secs() as i64,
            kdc: &kdc,
            known_key: lock(&self.key).clone(),
        };
        let (tgt, key) = request_tgt_with(&request, keys)?;
        tracing::debug!(client = %tgt.client, end = tgt.end_time, "obtained a TGT");
        *lock(&self.key) = Some(key);
        *lock(&self.tgt) = Some(tgt.clone());
        self.write_back(&tgt, true);
        Ok(tgt)
    }

    /// A ticket for `service`: cached while fresh, else from a TGS exchange
    /// (getting a new TGT once if the KDC says the cached one expired).
    pub fn service_ticket(
        &self,
        config: &KerberosConfig,
        service: &Principal,
    ) -> Result<HeldTicket, SecurityError> {
        if let Some(t) = lock(&self.tickets)
            .get(service)
            .filter(|t| t.is_fresh(FRESH_MARGIN))
        {
            return Ok(t.clone());
        }
        if let Some(t) = self.cached_ticket(service) {
            tracing::debug!(service = %t.server, "a service ticket from the credential cache");
            lock(&self.tickets).insert(service.clone(), t.clone());
            return Ok(t);
        }
        if service.realm != self.principal.realm {
            return Err(SecurityError::new(
                SecurityStatus::SEC_E_TARGET_UNKNOWN,
                format!(
                    "the target {service} is in realm {}, but the client is in {}; cross-realm authentication is not supported",
                    service.realm, self.principal.realm
                ),
            ));
        }
        let kdc = Self::kdc(config, &service.realm);
        let lifetime = config.ticket_lifetime.as_secs() as i64;
        let tgt = self.tgt(config)?;
        let ticket = match request_service_ticket(&tgt, service, &config.etypes, lifetime, &kdc) {
            Err(e) if e.status() == SecurityStatus::SEC_E_CONTEXT_EXPIRED => {
                *lock(&self.tgt) = None;
                let tgt = self.tgt(config)?;
                request_service_ticket(&tgt, service, &config.etypes, lifetime, &kdc)?
            }
            other => other?,
        };
        tracing::debug!(client = %ticket.client, service = %ticket.server, "obtained a service ticket");
        self.write_back(&ticket, false);
        let mut tickets = lock(&self.tickets);
        if tickets.len() >= MAX_CACHED_TICKETS {
            tickets.retain(|_, t| t.is_fresh(FRESH_MARGIN));
            if tickets.len() >= MAX_CACHED_TICKETS {
                tickets.clear();
            }
        }
        tickets.insert(service.clone(), ticket.clone());
        Ok(ticket)
    }
}
