//! Opaque, checked handles: a `SecHandle` given to C is a slot number
//! (`dwLower`) and a generation with a kind tag, masked with a per-process
//! salt (`dwUpper`), never a pointer. A null, freed (stale generation),
//! foreign (wrong salt) or wrong-kind handle is simply not found:
//! SEC_E_INVALID_HANDLE. Slots live in chunks that never move, each behind
//! its own lock: a call on a context locks that context's slot only.

use sspi_c_abi::SecHandle;
use sspi_plugin_host::{CredentialsHandle, SecurityContextHandle};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// What a handle refers to (the low 4 bits of `dwUpper` before the salt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Kind {
    /// A `CredHandle`.
    Credentials = 1,
    /// A `CtxtHandle`.
    Context = 2,
}

const KIND_BITS: u32 = 4;
/// The generation's width: what fits above the kind in a `ULONG_PTR`.
const GENERATION_BITS: u32 = if usize::BITS - KIND_BITS < 32 {
    usize::BITS - KIND_BITS
} else {
    32
};
const GENERATION_MASK: u64 = (1u64 << GENERATION_BITS) - 1;

/// A random mask for `dwUpper`, chosen once per process (the low kind bits
/// stay clear so the kind survives the mask unchanged in position).
fn salt() -> usize {
    static SALT: OnceLock<usize> = OnceLock::new();
    *SALT.get_or_init(|| {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_usize(std::process::id() as usize);
        (hasher.finish() as usize) & !((1 << KIND_BITS) - 1)
    })
}

/// Slots per chunk; chunks are allocated as needed and never freed, so a
/// slot's place never moves and a lookup takes no table-wide lock.
const CHUNK: usize = 256;
/// Chunks per table: at most 1 Mi live handles of each kind.
const CHUNKS: usize = 4096;

struct State<T> {
    generation: u32,
    value: Option<T>,
}

type Slot<T> = Mutex<State<T>>;

struct FreeList {
    free: Vec<usize>,
    next: usize,
}

/// Slots of one kind of object. A lookup locks only its slot (one lock per
/// call: the per-message path); insert and remove also take the free list.
pub(crate) struct Table<T> {
    kind: Kind,
    chunks: [OnceLock<Box<[Slot<T>]>>; CHUNKS],
    free: Mutex<FreeList>,
}

impl<T> Table<T> {
    const fn new(kind: Kind) -> Self {
        Self {
            kind,
            chunks: [const { OnceLock::new() }; CHUNKS],
            free: Mutex::new(FreeList {
                free: Vec::new(),
                next: 0,
            }),
        }
    }

    fn encode(&self, index: usize, generation: u32) -> SecHandle {
        SecHandle {
            dw_lower: index + 1,
            dw_upper: (((generation as usize) << KIND_BITS) | self.kind as usize) ^ salt(),
        }
    }

    /// The slot and generation `handle` names, if it is a handle of this
    /// table's kind whose slot exists (live or not).
    #[inline]
    fn decode(&self, handle: &SecHandle) -> Option<(&Slot<T>, u32)> {
        let upper = handle.dw_upper ^ salt();
        if upper & ((1 << KIND_BITS) - 1) != self.kind as usize {
            return None;
        }
        let generation = (upper >> KIND_BITS) as u64;
        if generation > GENERATION_MASK {
            return None;
        }
        let index = handle.dw_lower.checked_sub(1)?;
        let chunk = self.chunks.get(index / CHUNK)?.get()?;
        Some((&chunk[index % CHUNK], generation as u32))
    }

    fn slot(&self, index: usize) -> &Slot<T> {
        let chunk = self.chunks[index / CHUNK].get_or_init(|| {
            (0..CHUNK)
                .map(|_| {
                    Mutex::new(State {
                        generation: 1,
                        value: None,
                    })
                })
                .collect()
        });
        &chunk[index % CHUNK]
    }

    /// Stores `value` and returns its new handle; `None` when the table is full.
    pub(crate) fn insert(&self, value: T) -> Option<SecHandle> {
        let index = {
            let mut free = lock(&self.free);
            match free.free.pop() {
                Some(index) => index,
                None if free.next < CHUNK * CHUNKS => {
                    free.next += 1;
                    free.next - 1
                }
                None => return None,
            }
        };
        let mut state = lock(self.slot(index));
        state.value = Some(value);
        Some(self.encode(index, state.generation))
    }

    /// Runs `f` on the object behind `handle`, its slot locked for the call.
    #[inline]
    pub(crate) fn with<R>(&self, handle: &SecHandle, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        let (slot, generation) = self.decode(handle)?;
        let mut state = lock(slot);
        if state.generation != generation {
            return None;
        }
        state.value.as_mut().map(f)
    }

    /// Removes the object behind `handle`; the handle (and every copy of it)
    /// is stale from now on.
    pub(crate) fn remove(&self, handle: &SecHandle) -> Option<T> {
        let (slot, generation) = self.decode(handle)?;
        let value = {
            let mut state = lock(slot);
            if state.generation != generation {
                return None;
            }
            let value = state.value.take()?;
            let next = (u64::from(state.generation) + 1) & GENERATION_MASK;
            state.generation = next.max(1) as u32;
            value
        };
        let index = handle.dw_lower - 1;
        lock(&self.free).free.push(index);
        Some(value)
    }
}

impl<T: Clone> Table<T> {
    /// A copy of the object behind `handle` (an `Arc`).
    pub(crate) fn get(&self, handle: &SecHandle) -> Option<T> {
        self.with(handle, |value| value.clone())
    }
}

/// A security context and what it was made with.
pub(crate) struct ContextEntry {
    /// The credentials it was created from (kept, as SSPI does, so later
    /// legs work after FreeCredentialsHandle); `None` for an imported context.
    pub(crate) credentials: Option<Arc<CredentialsHandle>>,
    /// The context (`None` never stays in the table: see `leg`).
    pub(crate) context: Option<SecurityContextHandle>,
}

/// The credentials.
pub(crate) static CREDENTIALS: Table<Arc<CredentialsHandle>> = Table::new(Kind::Credentials);
/// The contexts.
pub(crate) static CONTEXTS: Table<ContextEntry> = Table::new(Kind::Context);

/// A lock that survives a panic elsewhere (every entry point catches panics;
/// a slot's state is consistent between any two statements that could panic).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_foreign_and_wrong_kind_handles_are_not_found() {
        let a = Table::<u32>::new(Kind::Credentials);
        let b = Table::<u32>::new(Kind::Context);
        let h = a.insert(7).unwrap();
        assert_eq!(a.get(&h), Some(7));
        assert!(b.get(&h).is_none(), "wrong kind");
        b.insert(1).unwrap();
        assert!(b.get(&h).is_none(), "wrong kind, same slot number");
        assert!(a.get(&SecHandle::default()).is_none(), "null");
        assert!(a.get(&SecHandle::INVALID).is_none(), "invalid");
        let foreign = SecHandle {
            dw_lower: h.dw_lower,
            dw_upper: h.dw_upper ^ (1 << (usize::BITS - 1)),
        };
        assert!(a.get(&foreign).is_none(), "foreign");
        let beyond = SecHandle {
            dw_lower: h.dw_lower + CHUNK * 7,
            dw_upper: h.dw_upper,
        };
        assert!(a.get(&beyond).is_none(), "a slot never allocated");
        assert_eq!(a.remove(&h), Some(7));
        assert!(a.get(&h).is_none(), "freed");
        assert!(a.remove(&h).is_none(), "freed twice");
        let reused = a.insert(8).unwrap();
        assert_eq!(reused.dw_lower, h.dw_lower, "the slot is reused");
        assert!(a.get(&h).is_none(), "the old handle stays stale");
        assert_eq!(a.get(&reused), Some(8));
        assert_eq!(a.with(&reused, |v| std::mem::replace(v, 9)), Some(8));
        assert_eq!(a.get(&reused), Some(9));
    }
}
