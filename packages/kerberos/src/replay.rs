//! The acceptor's replay cache: every authenticator accepted within the clock
//! skew window is remembered by (client, server, ctime, cusec); a second one
//! with the same values is a replay (KRB_AP_ERR_REPEAT). Entries expire when
//! the skew window that would accept them has passed; the cache is bounded,
//! and when it is full of live entries new authentications are refused
//! rather than old entries forgotten (forgetting would let a replay through).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// One remembered authenticator.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReplayEntry {
    /// The client principal.
    pub client: String,
    /// The service principal.
    pub server: String,
    /// The authenticator's ctime (Unix seconds).
    pub ctime: i64,
    /// The authenticator's cusec.
    pub cusec: u32,
}

/// Why an authenticator was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayError {
    /// The same authenticator was seen before.
    Replay,
    /// The cache is full of entries still inside the skew window.
    Full,
}

struct Inner {
    seen: HashSet<ReplayEntry>,
    order: VecDeque<(i64, ReplayEntry)>,
}

/// A bounded, expiring replay cache shared by a package's acceptors.
pub struct ReplayCache {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl ReplayCache {
    /// A cache holding at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                seen: HashSet::new(),
                order: VecDeque::new(),
            }),
            capacity: capacity.max(1),
        }
    }

    /// Admits `entry` unless it was seen; it is kept until `expires` (Unix
    /// seconds: its ctime plus the skew). Entries expired at `now` are dropped.
    pub fn admit(&self, entry: ReplayEntry, expires: i64, now: i64) -> Result<(), ReplayError> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        // Entries are not strictly ordered by expiry (ctimes vary within the
        // skew); drop from the front while the front has expired.
        while let Some((when, _)) = inner.order.front() {
            if *when >= now {
                break;
            }
            if let Some((_, old)) = inner.order.pop_front() {
                inner.seen.remove(&old);
            }
        }
        if inner.seen.contains(&entry) {
            return Err(ReplayError::Replay);
        }
        if inner.seen.len() >= self.capacity {
            // Sweep everything expired, wherever it sits, before refusing.
            let Inner { seen, order } = &mut *inner;
            order.retain(|(when, e)| {
                let keep = *when >= now;
                if !keep {
                    seen.remove(e);
                }
                keep
            });
            if seen.len() >= self.capacity {
                return Err(ReplayError::Full);
            }
        }
        inner.seen.insert(entry.clone());
        inner.order.push_back((expires, entry));
        Ok(())
    }

    /// The number of live entries.
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .seen
            .len()
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(ctime: i64) -> ReplayEntry {
        ReplayEntry {
            client: "a@R".into(),
            server: "host/x@R".into(),
            ctime,
            cusec: 7,
        }
    }

    #[test]
    fn replays_are_refused_until_they_expire_and_the_bound_holds() {
        let cache = ReplayCache::new(2);
        assert_eq!(cache.admit(e(100), 400, 100), Ok(()));
        assert_eq!(cache.admit(e(100), 400, 150), Err(ReplayError::Replay));
        assert_eq!(cache.admit(e(101), 401, 150), Ok(()));
        assert_eq!(cache.admit(e(102), 402, 150), Err(ReplayError::Full));
        // After the window the old ones are gone and room is made.
        assert_eq!(cache.admit(e(500), 800, 500), Ok(()));
        assert_eq!(cache.len(), 1);
    }
}
