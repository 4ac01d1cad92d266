//! Who gets a connection slot: `MaxConnections` in all, `MaxUnauthenticated`
//! still authenticating, `MaxConnectionsPerPeer` from one address.
//!
//! A full budget of unauthenticated connections does not refuse newcomers:
//! refusing would let a slow attacker with many addresses hold every slot for
//! a whole `HandshakeTimeout`. Instead the newcomer takes the slot of the
//! unauthenticated connection that has made the least progress: the fewest
//! frames completed, and among those the one stalled longest (no frame for
//! the longest time); that one is told and closed. A connection whose task
//! has not yet run (so has not read what its client sent with the connect) is
//! passed over while any other can give way: under a burst of connections a
//! good client must not lose its slot before it could show its progress.
//!
//! Why this order: a slow client that trickles bytes completes no frame, so it
//! is displaced before anyone who has; a client that authenticates delivers
//! its hello and first token in its first packet and a frame every round trip
//! after, so it climbs above every attacker that completes fewer frames, and
//! a frame count beyond the first token needs the client's credentials (a
//! proof of the password or a ticket). Attackers that do send valid frames tie
//! with a good client only until its next round trip. Oldest-first alone is
//! weaker: attackers that reconnect as soon as they are displaced churn the
//! budget, and every connection still authenticating, good ones included, is
//! displaced once `MaxUnauthenticated` newer ones have arrived.
//!
//! Authenticated sessions are never displaced (they ended their handshake
//! with credentials; `IdleTimeout` and `WriteTimeout` bound them): when
//! `MaxConnections` are open and all are authenticated, a newcomer is refused.

use crate::ServerStats;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;

/// The address a per-peer limit counts: an IPv4 address, or the /64 an IPv6
/// address is in (one host is routinely given a whole /64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum PeerKey {
    V4(u32),
    V6Prefix(u64),
}

impl From<IpAddr> for PeerKey {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::V4(v4.to_bits()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::V4(v4.to_bits()),
                None => Self::V6Prefix((v6.to_bits() >> 64) as u64),
            },
        }
    }
}

/// The limits, from the server's configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_connections: usize,
    pub max_unauthenticated: usize,
    pub max_per_peer: usize,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// `MaxConnections` authenticated sessions are open.
    Full(usize),
    /// `MaxConnectionsPerPeer` authenticated sessions from this address are open.
    PerPeer(usize),
}

struct Pending {
    peer: PeerKey,
    evict: oneshot::Sender<()>,
    /// Its task has run and read what had arrived.
    started: bool,
}

#[derive(Default)]
struct State {
    open: usize,
    per_peer: HashMap<PeerKey, usize>,
    /// Unauthenticated connections by (frames completed, tick of the last
    /// one): the first entry has made the least progress.
    pending: BTreeMap<(u32, u64), Pending>,
    tick: u64,
}

impl State {
    fn release(&mut self, peer: PeerKey) {
        self.open -= 1;
        if let Some(count) = self.per_peer.get_mut(&peer) {
            *count -= 1;
            if *count == 0 {
                self.per_peer.remove(&peer);
            }
        }
    }

    /// Takes the slot of the pending connection at `key`: it is released now
    /// (its task only winds down) and told to close.
    fn evict(&mut self, key: (u32, u64)) {
        if let Some(victim) = self.pending.remove(&key) {
            self.release(victim.peer);
            let _ = victim.evict.send(());
        }
    }

    /// The pending connection to displace: the least progressed among those
    /// whose task has started (any, if none has), from `peer` only if given.
    fn victim(&self, peer: Option<PeerKey>) -> Option<(u32, u64)> {
        let mut candidates = self
            .pending
            .iter()
            .filter(|(_, p)| peer.is_none_or(|peer| p.peer == peer));
        let mut fallback = None;
        for (key, pending) in &mut candidates {
            if pending.started {
                return Some(*key);
            }
            fallback.get_or_insert(*key);
        }
        fallback
    }

    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }
}

/// The slots of one server.
pub(crate) struct Admission {
    limits: Limits,
    state: Mutex<State>,
    /// Its `unauthenticated` gauge follows the pending count.
    stats: Arc<ServerStats>,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// What [`Admission::admit`] decided.
pub(crate) struct Admitted {
    /// The new connection's slot.
    pub ticket: Ticket,
    /// How many unauthenticated connections it displaced (0 or 1, at most 2).
    pub evicted: usize,
}

impl Admission {
    pub fn new(limits: Limits, stats: Arc<ServerStats>) -> Arc<Self> {
        Arc::new(Self {
            limits,
            state: Mutex::new(State::default()),
            stats,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic (every update is a few
        // integer and map operations), so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Publishes the pending count (under the lock, so updates stay in order).
    fn publish(&self, state: &State) {
        self.stats
            .unauthenticated
            .store(state.pending.len(), Ordering::Relaxed);
    }

    /// Admits a connection from `peer`, displacing a stalled unauthenticated
    /// one where a budget is full, or refuses it.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Admitted, Refusal> {
        let peer = PeerKey::from(peer);
        let mut state = self.lock();
        let mut evicted = 0;
        if state.per_peer.get(&peer).copied().unwrap_or(0) >= self.limits.max_per_peer {
            match state.victim(Some(peer)) {
                Some(key) => {
                    state.evict(key);
                    evicted += 1;
                }
                None => return Err(Refusal::PerPeer(self.limits.max_per_peer)),
            }
        }
        if state.pending.len() >= self.limits.max_unauthenticated
            || state.open >= self.limits.max_connections
        {
            match state.victim(None) {
                Some(key) => {
                    state.evict(key);
                    evicted += 1;
                }
                None => return Err(Refusal::Full(self.limits.max_connections)),
            }
        }
        state.open += 1;
        *state.per_peer.entry(peer).or_insert(0) += 1;
        let tick = state.next_tick();
        let (evict, evicted_rx) = oneshot::channel();
        state.pending.insert(
            (0, tick),
            Pending {
                peer,
                evict,
                started: false,
            },
        );
        self.publish(&state);
        Ok(Admitted {
            ticket: Ticket {
                admission: Arc::clone(self),
                peer,
                phase: Phase::Pending((0, tick)),
                evicted: Some(evicted_rx),
            },
            evicted,
        })
    }

    /// Unauthenticated connections now.
    #[cfg(test)]
    fn unauthenticated(&self) -> usize {
        self.lock().pending.len()
    }
}

enum Phase {
    /// Still authenticating, at this key of the pending map.
    Pending((u32, u64)),
    Authenticated,
    /// Displaced: its slot is already released.
    Evicted,
}

/// One connection's slot; released when dropped.
pub(crate) struct Ticket {
    admission: Arc<Admission>,
    peer: PeerKey,
    phase: Phase,
    evicted: Option<oneshot::Receiver<()>>,
}

impl Ticket {
    /// Fires when the slot is given to a newer connection. Taken once.
    pub fn eviction(&mut self) -> Option<oneshot::Receiver<()>> {
        self.evicted.take()
    }

    /// The connection's task runs: from now on it can be displaced.
    pub fn started(&mut self) {
        if let Phase::Pending(key) = self.phase
            && let Some(pending) = self.admission.lock().pending.get_mut(&key)
        {
            pending.started = true;
        }
    }

    /// The connection completed a frame: it moves up the eviction order.
    pub fn progress(&mut self) {
        let Phase::Pending(key) = self.phase else {
            return;
        };
        let mut state = self.admission.lock();
        match state.pending.remove(&key) {
            Some(pending) => {
                let key = (key.0.saturating_add(1), state.next_tick());
                state.pending.insert(key, pending);
                self.phase = Phase::Pending(key);
            }
            None => self.phase = Phase::Evicted,
        }
    }

    /// The connection authenticated: it leaves the unauthenticated budget and
    /// can no longer be displaced. False if it was displaced first.
    pub fn authenticated(&mut self) -> bool {
        match self.phase {
            Phase::Pending(key) => {
                let mut state = self.admission.lock();
                let removed = state.pending.remove(&key).is_some();
                self.admission.publish(&state);
                self.phase = if removed {
                    Phase::Authenticated
                } else {
                    Phase::Evicted
                };
                removed
            }
            Phase::Authenticated => true,
            Phase::Evicted => false,
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.admission.lock();
        match self.phase {
            Phase::Pending(key) => {
                // Still pending: release; already displaced: nothing to release.
                if state.pending.remove(&key).is_some() {
                    state.release(self.peer);
                }
            }
            Phase::Authenticated => state.release(self.peer),
            Phase::Evicted => {}
        }
        self.admission.publish(&state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    fn admission(
        max_connections: usize,
        max_unauthenticated: usize,
        max_per_peer: usize,
    ) -> Arc<Admission> {
        Admission::new(
            Limits {
                max_connections,
                max_unauthenticated,
                max_per_peer,
            },
            Arc::default(),
        )
    }

    #[test]
    fn a_full_pre_auth_budget_displaces_the_connection_stalled_longest() {
        let admission = admission(10, 2, 10);
        let mut a = admission.admit(ip(2)).unwrap().ticket;
        let mut b = admission.admit(ip(3)).unwrap().ticket;
        a.started();
        b.started();
        let (mut a_out, mut b_out) = (a.eviction().unwrap(), b.eviction().unwrap());
        // a completes a frame: b is now the one stalled longest.
        a.progress();
        let c = admission.admit(ip(4)).unwrap();
        assert_eq!(c.evicted, 1);
        assert!(b_out.try_recv().is_ok(), "b is displaced");
        assert!(a_out.try_recv().is_err(), "a is not");
        assert!(
            !b.authenticated(),
            "a displaced connection cannot authenticate"
        );
        assert!(a.authenticated());
        assert_eq!(admission.unauthenticated(), 1);
        drop((a, b, c));
        let state = admission.lock();
        assert_eq!(
            (state.open, state.per_peer.len(), state.pending.len()),
            (0, 0, 0)
        );
    }

    #[test]
    fn fewer_frames_are_displaced_before_staler_ones() {
        let admission = admission(10, 2, 10);
        let mut old = admission.admit(ip(2)).unwrap().ticket;
        let mut old_out = old.eviction().unwrap();
        old.started();
        old.progress(); // one frame, long ago
        let mut new = admission.admit(ip(3)).unwrap().ticket;
        let mut new_out = new.eviction().unwrap();
        new.started();
        // The newer one has completed no frame: it goes first.
        let _third = admission.admit(ip(4)).unwrap();
        assert!(new_out.try_recv().is_ok());
        assert!(old_out.try_recv().is_err());
    }

    #[test]
    fn a_connection_whose_task_has_not_run_is_passed_over() {
        let admission = admission(10, 2, 10);
        let mut waiting = admission.admit(ip(2)).unwrap().ticket;
        let mut waiting_out = waiting.eviction().unwrap();
        let mut running = admission.admit(ip(3)).unwrap().ticket;
        let mut running_out = running.eviction().unwrap();
        running.started();
        let mut third = admission.admit(ip(4)).unwrap().ticket;
        assert!(running_out.try_recv().is_ok(), "the started one gives way");
        assert!(waiting_out.try_recv().is_err());
        // With none started, the least progressed gives way all the same.
        let _fourth = admission.admit(ip(5)).unwrap();
        assert!(waiting_out.try_recv().is_ok());
        assert!(third.eviction().unwrap().try_recv().is_err());
    }

    #[test]
    fn authenticated_sessions_are_never_displaced() {
        let admission = admission(2, 2, 10);
        let mut a = admission.admit(ip(2)).unwrap().ticket;
        let mut b = admission.admit(ip(3)).unwrap().ticket;
        assert!(a.authenticated() && b.authenticated());
        assert_eq!(admission.admit(ip(4)).err(), Some(Refusal::Full(2)));
        drop(a);
        assert!(admission.admit(ip(4)).is_ok());
    }

    #[test]
    fn one_address_displaces_only_its_own_connections() {
        let admission = admission(10, 10, 2);
        let mut other = admission.admit(ip(9)).unwrap().ticket;
        let mut other_out = other.eviction().unwrap();
        let mut first = admission.admit(ip(2)).unwrap().ticket;
        let mut first_out = first.eviction().unwrap();
        other.started();
        first.started();
        let second = admission.admit(ip(2)).unwrap();
        // A third from 127.0.0.2 takes the slot of its own oldest, not of 127.0.0.9.
        let third = admission.admit(ip(2)).unwrap();
        assert_eq!(third.evicted, 1);
        assert!(first_out.try_recv().is_ok());
        assert!(other_out.try_recv().is_err());
        // All of 127.0.0.2's connections authenticated: the next one is refused.
        let mut third = third.ticket;
        let mut second = second.ticket;
        assert!(third.authenticated() && second.authenticated());
        assert_eq!(admission.admit(ip(2)).err(), Some(Refusal::PerPeer(2)));
        assert!(other.authenticated());
    }

    #[test]
    fn ipv6_peers_are_counted_per_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(PeerKey::from(a), PeerKey::from(b));
        assert_ne!(PeerKey::from(a), PeerKey::from(c));
        let mapped: IpAddr = "::ffff:127.0.0.2".parse().unwrap();
        assert_eq!(PeerKey::from(mapped), PeerKey::from(ip(2)));
    }
}
