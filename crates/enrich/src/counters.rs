//! Named counters for every way enrichment can leave a field absent or drop table state.
//!
//! The names are stable snake_case strings (`Counter::as_str`) because dashboards depend on them:
//! append-only, never renamed. This module only counts; it does not log or export.

/// One reason a piece of enrichment is missing, or table state was given up.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Counter {
    /// `/proc/PID/cgroup` could not be read (the process may still exist).
    CgroupUnreadable,
    /// `/proc/PID/ns/*` could not be read.
    NamespaceUnreadable,
    /// The process was gone before its `/proc` entry could be read.
    ProcGone,
    /// `/proc/PID/stat` was read but could not be parsed.
    StatUnparsable,
    /// `/etc/passwd` could not be read.
    PasswdUnreadable,
    /// `/etc/group` could not be read.
    GroupUnreadable,
    /// A uid had no name (deleted user, or a user from another namespace).
    UserUnknown,
    /// A gid had no name.
    GroupUnknown,
    /// An event named a pid the process table does not know.
    ProcessUnknown,
    /// An exited process was evicted from the process table to stay within its bound.
    EvictedExited,
    /// A live process was evicted from the process table (no exited process was left to evict).
    EvictedLive,
    /// A state file could not be parsed.
    StateCorrupt,
    /// A host identity file could not be read or written.
    HostIdentityUnavailable,
    /// A state file could not be read or written.
    StateUnavailable,
}

impl Counter {
    /// Every counter, in a stable order.
    pub const ALL: [Counter; 14] = [
        Counter::CgroupUnreadable,
        Counter::NamespaceUnreadable,
        Counter::ProcGone,
        Counter::StatUnparsable,
        Counter::PasswdUnreadable,
        Counter::GroupUnreadable,
        Counter::UserUnknown,
        Counter::GroupUnknown,
        Counter::ProcessUnknown,
        Counter::EvictedExited,
        Counter::EvictedLive,
        Counter::StateCorrupt,
        Counter::HostIdentityUnavailable,
        Counter::StateUnavailable,
    ];

    /// Returns the counter's stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Counter::CgroupUnreadable => "cgroup_unreadable",
            Counter::NamespaceUnreadable => "namespace_unreadable",
            Counter::ProcGone => "proc_gone",
            Counter::StatUnparsable => "stat_unparsable",
            Counter::PasswdUnreadable => "passwd_unreadable",
            Counter::GroupUnreadable => "group_unreadable",
            Counter::UserUnknown => "user_unknown",
            Counter::GroupUnknown => "group_unknown",
            Counter::ProcessUnknown => "process_unknown",
            Counter::EvictedExited => "evicted_exited",
            Counter::EvictedLive => "evicted_live",
            Counter::StateCorrupt => "state_corrupt",
            Counter::HostIdentityUnavailable => "host_identity_unavailable",
            Counter::StateUnavailable => "state_unavailable",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A count for every [`Counter`].
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub struct Counters {
    values: [u64; Counter::ALL.len()],
}

impl Counters {
    /// Adds one to `counter`.
    pub fn add(&mut self, counter: Counter) {
        self.add_n(counter, 1);
    }

    /// Adds `n` to `counter`.
    pub fn add_n(&mut self, counter: Counter, n: u64) {
        let slot = &mut self.values[counter.index()];
        *slot = slot.saturating_add(n);
    }

    /// Returns the count of `counter`.
    pub fn get(&self, counter: Counter) -> u64 {
        self.values[counter.index()]
    }

    /// Adds every count of `other` to this one.
    pub fn merge(&mut self, other: &Counters) {
        for counter in Counter::ALL {
            self.add_n(counter, other.get(counter));
        }
    }

    /// Returns every counter with its name and count, in a stable order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        Counter::ALL.into_iter().map(|c| (c.as_str(), self.get(c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_has_its_own_slot_and_name() {
        for (i, c) in Counter::ALL.into_iter().enumerate() {
            assert_eq!(c.index(), i);
        }
        let mut names: Vec<_> = Counter::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Counter::ALL.len());
        let mut counters = Counters::default();
        counters.add(Counter::ProcGone);
        counters.add_n(Counter::ProcGone, 2);
        assert_eq!(counters.get(Counter::ProcGone), 3);
        assert_eq!(
            counters.iter().find(|(n, _)| *n == "proc_gone"),
            Some(("proc_gone", 3))
        );
    }
}
