//! Opaque, checked handles: a `SecHandle` given to C is a slot number
//! (`dwLower`) and a generation with a kind tag, masked with a per-process
//! salt (`dwUpper`), never a pointer. A null, freed (stale generation),
//! foreign (wrong salt) or wrong-kind handle is simply not found:
//! SEC_E_INVALID_HANDLE.

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

struct Slot<T> {
    generation: u32,
    value: Option<Arc<T>>,
}

/// Slots of one kind of object.
pub(crate) struct Table<T> {
    kind: Kind,
    slots: Vec<Slot<T>>,
    free: Vec<usize>,
}

impl<T> Table<T> {
    const fn new(kind: Kind) -> Self {
        Self {
            kind,
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    fn encode(&self, index: usize, generation: u32) -> SecHandle {
        SecHandle {
            dw_lower: index + 1,
            dw_upper: (((generation as usize) << KIND_BITS) | self.kind as usize) ^ salt(),
        }
    }

    /// The slot of `handle`, if it is a live handle of this table's kind.
    fn decode(&self, handle: &SecHandle) -> Option<usize> {
        let upper = handle.dw_upper ^ salt();
        if upper & ((1 << KIND_BITS) - 1) != self.kind as usize {
            return None;
        }
        let generation = (upper >> KIND_BITS) as u64;
        if generation > GENERATION_MASK {
            return None;
        }
        let index = handle.dw_lower.checked_sub(1)?;
        let slot = self.slots.get(index)?;
        (slot.value.is_some() && u64::from(slot.generation) == generation).then_some(index)
    }

    /// Stores `value` and returns its new handle.
    pub(crate) fn insert(&mut self, value: T) -> SecHandle {
        let value = Some(Arc::new(value));
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index].value = value;
                index
            }
            None => {
                self.slots.push(Slot {
                    generation: 1,
                    value,
                });
                self.slots.len() - 1
            }
        };
        self.encode(index, self.slots[index].generation)
    }

    /// The object behind `handle`.
    pub(crate) fn get(&self, handle: &SecHandle) -> Option<Arc<T>> {
        let index = self.decode(handle)?;
        self.slots[index].value.clone()
    }

    /// Removes the object behind `handle`; the handle (and every copy of it)
    /// is stale from now on.
    pub(crate) fn remove(&mut self, handle: &SecHandle) -> Option<Arc<T>> {
        let index = self.decode(handle)?;
        let slot = &mut self.slots[index];
        let value = slot.value.take();
        let next = (u64::from(slot.generation) + 1) & GENERATION_MASK;
        slot.generation = next.max(1) as u32;
        self.free.push(index);
        value
    }
}

/// A security context and what it was made with.
pub(crate) struct ContextEntry {
    /// The credentials it was created from (kept, as SSPI does, so later
    /// legs work after FreeCredentialsHandle).
    pub(crate) credentials: Arc<CredentialsHandle>,
    /// The context; `&mut` for legs and per-message calls.
    pub(crate) context: Mutex<Option<SecurityContextHandle>>,
}

static CREDENTIALS: Mutex<Table<CredentialsHandle>> = Mutex::new(Table::new(Kind::Credentials));
static CONTEXTS: Mutex<Table<ContextEntry>> = Mutex::new(Table::new(Kind::Context));

/// A lock that survives a panic elsewhere (every entry point catches panics;
/// the tables stay consistent because no call panics while mutating them).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The credentials table.
pub(crate) fn credentials() -> MutexGuard<'static, Table<CredentialsHandle>> {
    lock(&CREDENTIALS)
}

/// The contexts table.
pub(crate) fn contexts() -> MutexGuard<'static, Table<ContextEntry>> {
    lock(&CONTEXTS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_foreign_and_wrong_kind_handles_are_not_found() {
        let mut a = Table::<u32>::new(Kind::Credentials);
        let mut b = Table::<u32>::new(Kind::Context);
        let h = a.insert(7);
        assert_eq!(a.get(&h).as_deref(), Some(&7));
        assert!(b.get(&h).is_none(), "wrong kind");
        b.insert(1);
        assert!(b.get(&h).is_none(), "wrong kind, same slot number");
        assert!(a.get(&SecHandle::default()).is_none(), "null");
        assert!(a.get(&SecHandle::INVALID).is_none(), "invalid");
        let foreign = SecHandle {
            dw_lower: h.dw_lower,
            dw_upper: h.dw_upper ^ (1 << (usize::BITS - 1)),
        };
        assert!(a.get(&foreign).is_none(), "foreign");
        assert_eq!(a.remove(&h).as_deref(), Some(&7));
        assert!(a.get(&h).is_none(), "freed");
        assert!(a.remove(&h).is_none(), "freed twice");
        let reused = a.insert(8);
        assert_eq!(reused.dw_lower, h.dw_lower, "the slot is reused");
        assert!(a.get(&h).is_none(), "the old handle stays stale");
        assert_eq!(a.get(&reused).as_deref(), Some(&8));
    }
}
