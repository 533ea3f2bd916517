//! Source-side filtering of assembled events: keep or drop each [`assemble::Event`] by an ordered
//! list of rules, counting every decision, while keeping the events that process trees are built
//! from.
//!
//! - [`Rule`] and [`FilterSet`]: what to keep or drop, with a small text syntax ([`rule`] module
//!   documents it) parsed with exact, positioned errors ([`RuleError`], [`SetError`]).
//! - [`Filter`]: evaluates a [`FilterSet`] event by event, applies the lineage exception
//!   ([`lineage`] module documents exactly what it keeps) and keeps the [`Stats`].
//!
//! Pure: no IO, no clock, no threads. It does not parse or assemble (callers hand it events) and
//! knows nothing of sources, configuration files or metrics export: the agent maps [`Stats`] to
//! its metrics.

mod decision;
pub mod lineage;
pub mod rule;
mod view;

pub use decision::{Config, DecidedBy, Decision, Filter, LineageReason, Stats};
pub use rule::{
    Action, FilterSet, IdField, IdValue, Matcher, Pattern, Rule, RuleError, SetError, SyscallSel,
};
