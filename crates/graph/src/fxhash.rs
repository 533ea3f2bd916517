//! The graph's hash map: the assembler's FxHash (rustc's multiply-rotate hash) for the graph's
//! small keys (ids, pids, inodes, interned names): SipHash would cost more than the rest of
//! adding an edge. Keys come from audit records of hosts we trust to report their own pids.

/// A `HashMap` with [`assemble::FxHasher`].
pub(crate) type FxHashMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<assemble::FxHasher>>;
