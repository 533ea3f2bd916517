//! The provenance graph: who and what caused what, built from audit events.
//!
//! Entities are immutable versions of processes, files, sockets, users, kernel modules and
//! containers (hosts are every entity's first key, not entities), with
//! keys that survive reuse: a process is `(host, boot, pid, start)` and gets a new version on
//! execve, set*id and setns/unshare; a file is `(host, dev, inode, epoch)` with its path names
//! bound to it over time, and gets a new version on a write after a read. Edges point the way
//! information flows (cause → effect) and carry their first and last time, count, bytes and the
//! events they came from. [`Builder`] makes a [`Graph`] from [`assemble::Event`]s, following
//! each process's fd table; reduction merges repeated edges only where no trace answer changes.
//! [`trace::trace`] answers "how did this get here" and "what did this touch" by a
//! time-respecting breadth-first search; [`trace::path`] and [`tree::process_tree`] the rest.
//! [`subgraph::Subgraph`] takes an answer out of the graph as an owned value for the output
//! formats.
//!
//! Pure: no IO, no clock. Knows nothing of storage or output formats.

mod builder;
pub mod codec;
pub mod describe;
mod fxhash;
mod graph;
mod model;
mod read;
mod serial_seq;
pub mod subgraph;
pub mod trace;
pub mod tree;

pub use builder::{Builder, Config, Counters};
pub use graph::{Graph, GraphStats};
pub use model::{
    Container, Detail, Edge, EdgeId, Entity, EntityId, EntityKind, EventRef, File, HostId, Loss, LossKind,
    Module, NameBinding, Op, Process, ProcessOrigin, Seq, Socket, Sym, User,
};
pub use read::{count_neighbours, GraphRead};
