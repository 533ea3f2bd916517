//! The lineage exception: events that process trees are built from are kept even when a rule
//! drops them, and the bounded set of processes the filter has already seen.
//!
//! # What is kept for lineage
//!
//! Only events with a SYSCALL record that carries a `pid=` take part (the kernel's `pid=` is the
//! process id, the thread group leader's). Such an event that the rules would drop is kept, and
//! counted in `kept_for_lineage`, when:
//!
//! 1. **it is a lineage syscall**: the SYSCALL record's syscall, named on the record's own
//!    `arch`, is one of [`LINEAGE_SYSCALLS`] (`execve`, `execveat`, `clone`, `clone3`, `fork`,
//!    `vfork`), whether it succeeded or not; or
//! 2. **it is the first event of its process**: its `(node, pid)` is not in the set of seen
//!    processes.
//!
//! # The set of seen processes
//!
//! Keyed by `(node, pid)` (the node as a 64-bit hash of its name, so events of several hosts in
//! one stream do not share pids). After each participating event is decided (kept or dropped):
//!
//! - its own `(node, pid)` is inserted (or refreshed);
//! - a successful `clone`, `clone3`, `fork` or `vfork` with `exit > 0` inserts the child,
//!   `(node, exit)`: the process is known from its creation, which is itself kept (rule 1), so
//!   its own first event is not kept for lineage;
//! - an `exit_group` removes `(node, pid)`, so a later process that reuses the pid has its
//!   first event kept again.
//!
//! The set holds at most `Config::max_tracked_pids` entries; inserting beyond that evicts the
//! entry least recently inserted or refreshed, counted in `lineage_pids_evicted`. Eviction only
//! ever keeps more: the evicted process's next dropped event is kept as a first event again.
//!
//! Known limits: a pid reused without the old process's `exit_group` or the new one's `clone`
//! being audited is taken for the old process, so the new process's first event can be dropped;
//! threads created by `clone(CLONE_THREAD)` are inserted like processes (a wasted entry, nothing
//! more); events without a SYSCALL record (user-space messages) are never kept for lineage.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

/// Syscalls that define process lineage: their events are never dropped.
pub const LINEAGE_SYSCALLS: [&str; 6] = ["execve", "execveat", "clone", "clone3", "fork", "vfork"];

/// Syscalls whose successful return value is a new process's pid.
pub(crate) const CREATE_SYSCALLS: [&str; 4] = ["clone", "clone3", "fork", "vfork"];

/// Returns true for the names in [`LINEAGE_SYSCALLS`].
pub fn is_lineage_syscall(name: &str) -> bool {
    LINEAGE_SYSCALLS.contains(&name)
}

/// A process as the set knows it: a hash of the node's name (0 without a node) and the pid.
pub(crate) type PidKey = (u64, u32);

pub(crate) fn node_hash(node: Option<&[u8]>) -> u64 {
    match node {
        None => 0,
        Some(n) => {
            // `DefaultHasher::new` uses fixed keys: the same node hashes the same in every run.
            let mut h = DefaultHasher::new();
            n.hash(&mut h);
            h.finish() | 1
        }
    }
}

/// A bounded set of processes, evicting the least recently inserted or refreshed.
#[derive(Debug)]
pub(crate) struct PidSet {
    /// Each key's generation: the entry of `order` that is current for it.
    map: HashMap<PidKey, u64>,
    /// Insertions in order; entries whose generation is not the key's current one are stale.
    order: VecDeque<(PidKey, u64)>,
    next_generation: u64,
    capacity: usize,
}

impl PidSet {
    pub(crate) fn new(capacity: usize) -> PidSet {
        PidSet {
            map: HashMap::new(),
            order: VecDeque::new(),
            next_generation: 0,
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn contains(&self, key: PidKey) -> bool {
        self.map.contains_key(&key)
    }

    /// Inserts or refreshes `key`; returns how many entries were evicted (0 or 1).
    pub(crate) fn insert(&mut self, key: PidKey) -> u64 {
        let generation = self.next_generation;
        self.next_generation += 1;
        let fresh = self.map.insert(key, generation).is_none();
        self.order.push_back((key, generation));
        let mut evicted = 0;
        if fresh && self.map.len() > self.capacity {
            while let Some((old, g)) = self.order.pop_front() {
                if self.map.get(&old) == Some(&g) {
                    self.map.remove(&old);
                    evicted += 1;
                    break;
                }
            }
        }
        // Refreshes and removals leave stale entries behind: drop them once they outnumber
        // the live ones, so memory stays bounded by twice the capacity (amortized O(1)).
        if self.order.len() > 2 * self.capacity + 16 {
            let map = &self.map;
            self.order.retain(|(k, g)| map.get(k) == Some(g));
        }
        evicted
    }

    pub(crate) fn remove(&mut self, key: PidKey) {
        self.map.remove(&key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_least_recently_inserted_and_stays_bounded() {
        let mut set = PidSet::new(2);
        assert_eq!(set.insert((0, 1)), 0);
        assert_eq!(set.insert((0, 2)), 0);
        assert_eq!(set.insert((0, 1)), 0); // refresh: 2 is now the oldest
        assert_eq!(set.insert((0, 3)), 1);
        assert!(set.contains((0, 1)) && set.contains((0, 3)) && !set.contains((0, 2)));
        set.remove((0, 1));
        assert_eq!(set.insert((0, 4)), 0);
        assert_eq!(set.len(), 2);
        for i in 0..10_000 {
            set.insert((0, 3));
            set.insert((7, i));
        }
        assert_eq!(set.len(), 2);
        assert!(set.order.len() <= 2 * 2 + 16 + 1);
    }

    #[test]
    fn nodes_do_not_share_pids() {
        assert_eq!(node_hash(None), 0);
        assert_ne!(node_hash(Some(b"a")), 0);
        assert_ne!(node_hash(Some(b"a")), node_hash(Some(b"b")));
    }
}
