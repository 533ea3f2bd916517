//! Assembles audit records into events and decodes what they mean.
//!
//! [`Assembler`] groups [`parse::Record`]s by `(node, timestamp, serial)` into [`Event`]s, merges
//! EXECVE records into one [`Argv`], flags events that are missing records, and reports serial
//! gaps as possible loss. [`summary`] interprets a syscall event (architecture and syscall names,
//! errno, ids, paths, socket address).
//!
//! Pure: no IO, no async, no clock reads (live sources pass wall time to [`Assembler::tick`]).
//! It knows nothing of output formats: rendering belongs to the `render` crate.

mod assembler;
mod event;
mod execve;
mod fxhash;
pub mod path;
pub use fxhash::FxHasher;
mod serial;
pub mod summary;

pub use assembler::{Assembler, Config, EoeMode, Sink, Stats};
pub use event::{Completion, Event, Incomplete};
pub use execve::{merge as merge_execve, Argv, ArgvProblem};
pub use serial::{SerialGap, MAX_GAP};
