//! The stateful filter: evaluates a [`FilterSet`] per event, applies the lineage exception and
//! counts every decision.
//!
//! Each event is read lazily through one view: the cheap facts of the SYSCALL record (arch,
//! syscall, success, exit, pid) are scanned at most once, and the interpreted summary is built at
//! most once and only when a matcher of a rule that is actually tried needs it.

use assemble::Event;

use crate::lineage::{self, node_hash, PidSet, CREATE_SYSCALLS};
use crate::rule::{Action, FilterSet};
use crate::view::View;

/// How the filter runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Keep lineage events the rules would drop (see [`crate::lineage`]). On by default.
    pub lineage: bool,
    /// The most processes the lineage set remembers before evicting (at least 1).
    pub max_tracked_pids: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            lineage: true,
            max_tracked_pids: 65_536,
        }
    }
}

/// What decided an event's action before the lineage exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecidedBy {
    /// The rule at this index of the set (0-based), the first whose matchers all matched.
    Rule(usize),
    /// No rule matched: the set's default action.
    Default,
}

/// Why an event the rules dropped was kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LineageReason {
    /// It is an `execve`, `execveat`, `clone`, `clone3`, `fork` or `vfork` event.
    LineageSyscall,
    /// It is the first event seen of its process.
    FirstEvent,
}

impl LineageReason {
    /// Returns the stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            LineageReason::LineageSyscall => "lineage_syscall",
            LineageReason::FirstEvent => "first_event",
        }
    }
}

/// The decision for one event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decision {
    /// The final action: `Keep` when `lineage` is set, whatever `by` said.
    pub action: Action,
    pub by: DecidedBy,
    /// Set when the rules dropped the event and the lineage exception kept it.
    pub lineage: Option<LineageReason>,
}

impl Decision {
    /// Returns true if the event is kept.
    pub fn is_kept(&self) -> bool {
        self.action == Action::Keep
    }
}

/// Counters of a [`Filter`]. Every event evaluated is in exactly one of `kept_by_rule[i]`,
/// `kept_by_default`, `kept_for_lineage`, `dropped_by_rule[i]`, `dropped_by_default`:
/// `evaluated == kept + dropped()` and `kept == Σ kept_by_rule + kept_by_default +
/// kept_for_lineage`. Field names are the stable counter names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub evaluated: u64,
    pub kept: u64,
    /// Kept by rule `i` (a `keep` rule).
    pub kept_by_rule: Vec<u64>,
    /// Kept because no rule matched and the default is `keep`.
    pub kept_by_default: u64,
    /// Dropped by the rules, kept for lineage.
    pub kept_for_lineage: u64,
    /// Dropped by rule `i` (a `drop` rule).
    pub dropped_by_rule: Vec<u64>,
    /// Dropped because no rule matched and the default is `drop`.
    pub dropped_by_default: u64,
    /// Processes evicted from the lineage set to keep it bounded.
    pub lineage_pids_evicted: u64,
}

impl Stats {
    /// Returns the number of events dropped, for any reason.
    pub fn dropped(&self) -> u64 {
        self.dropped_by_rule.iter().sum::<u64>() + self.dropped_by_default
    }
}

impl FilterSet {
    /// Returns the rules' action for an event and what decided it, without the lineage
    /// exception and without counting.
    pub fn evaluate(&self, event: &Event) -> (Action, DecidedBy) {
        self.evaluate_view(&mut View::new(event))
    }

    pub(crate) fn evaluate_view(&self, view: &mut View<'_>) -> (Action, DecidedBy) {
        for (i, rule) in self.rules.iter().enumerate() {
            if view.matches_all(&rule.matchers) {
                return (rule.action, DecidedBy::Rule(i));
            }
        }
        (self.default, DecidedBy::Default)
    }
}

/// Evaluates a [`FilterSet`] event after event, with the lineage exception and counters.
#[derive(Debug)]
pub struct Filter {
    set: FilterSet,
    config: Config,
    pids: PidSet,
    stats: Stats,
    /// Times the summary was built (at most once per event); for tests.
    summaries: u64,
}

impl Filter {
    pub fn new(set: FilterSet, config: Config) -> Filter {
        let n = set.rules.len();
        let stats = Stats {
            kept_by_rule: vec![0; n],
            dropped_by_rule: vec![0; n],
            ..Stats::default()
        };
        Filter {
            pids: PidSet::new(config.max_tracked_pids),
            set,
            config,
            stats,
            summaries: 0,
        }
    }

    /// Decides one event and counts the decision. Events are expected in stream order: the
    /// lineage set follows processes through them.
    pub fn decide(&mut self, event: &Event) -> Decision {
        let mut view = View::new(event);
        let (action, by) = self.set.evaluate_view(&mut view);
        let mut lineage = None;
        if self.config.lineage {
            if let Some(facts) = view.facts() {
                if let Some(pid) = facts.pid {
                    let node = node_hash(event.node());
                    let name = facts.syscall_name();
                    if action == Action::Drop {
                        if name.is_some_and(lineage::is_lineage_syscall) {
                            lineage = Some(LineageReason::LineageSyscall);
                        } else if !self.pids.contains((node, pid)) {
                            lineage = Some(LineageReason::FirstEvent);
                        }
                    }
                    if name == Some("exit_group") {
                        self.pids.remove((node, pid));
                    } else {
                        self.stats.lineage_pids_evicted += self.pids.insert((node, pid));
                    }
                    let created = name.is_some_and(|n| CREATE_SYSCALLS.contains(&n))
                        && facts.success == Some(true);
                    if let (true, Some(child)) = (
                        created,
                        facts
                            .exit
                            .and_then(|e| u32::try_from(e).ok())
                            .filter(|&c| c > 0),
                    ) {
                        self.stats.lineage_pids_evicted += self.pids.insert((node, child));
                    }
                }
            }
        }
        self.summaries += u64::from(view.summaries);
        let s = &mut self.stats;
        s.evaluated += 1;
        let action = if lineage.is_some() {
            Action::Keep
        } else {
            action
        };
        match (action, by, lineage) {
            (Action::Keep, _, Some(_)) => s.kept_for_lineage += 1,
            (Action::Keep, DecidedBy::Rule(i), None) => s.kept_by_rule[i] += 1,
            (Action::Keep, DecidedBy::Default, None) => s.kept_by_default += 1,
            (Action::Drop, DecidedBy::Rule(i), _) => s.dropped_by_rule[i] += 1,
            (Action::Drop, DecidedBy::Default, _) => s.dropped_by_default += 1,
        }
        if action == Action::Keep {
            s.kept += 1;
        }
        Decision {
            action,
            by,
            lineage,
        }
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn set(&self) -> &FilterSet {
        &self.set
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Returns how many processes the lineage set holds now.
    pub fn tracked_pids(&self) -> usize {
        self.pids.len()
    }

    /// Returns how many times an event summary was built: at most once per evaluated event,
    /// never for a set whose rules read no interpreted field.
    pub fn summaries_built(&self) -> u64 {
        self.summaries
    }
}
