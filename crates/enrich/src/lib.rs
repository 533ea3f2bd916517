//! Enrichment: the context only the host has, added to events on the agent side.
//!
//! - [`process_table`]: processes keyed by their exec event (pid-reuse safe), parents and
//!   ancestry, seeded from `/proc`, bounded, saved to and restored from a state file;
//! - [`container`]: container and pod identity from `/proc/PID/cgroup`, namespace inode ids;
//! - [`users`]: uid/gid → names from `/etc/passwd` and `/etc/group`, refreshed when they change;
//! - [`host_identity`]: persisted host UUID, boot id, hostname.
//!
//! Every read of the host goes through the [`HostView`] trait ([`ProcFs`] on a real host,
//! [`FakeHost`] in tests), so the logic is tested without a host. Nothing here reads a clock:
//! callers pass time in. Enrichment never panics and never drops an event: functions return
//! `Option` or `Result`, and the caller moves a named [`Counter`] when a field stays absent.
//!
//! This crate knows nothing about records, events, output formats or the agent's threads.

pub mod container;
mod counters;
mod error;
mod host;
pub mod host_identity;
pub mod process_table;
pub mod users;

pub use container::{Container, Namespaces, Runtime};
pub use counters::{Counter, Counters};
pub use error::Error;
pub use host::{FakeHost, HostView, ProcFs};
pub use host_identity::HostIdentity;
pub use process_table::{Origin, Process, ProcessTable};
pub use users::UserNames;
