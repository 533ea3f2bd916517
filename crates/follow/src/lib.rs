//! The audit.log follower: reads a growing `audit.log` and yields every complete line exactly once,
//! each with the position (file identity and byte offset) a caller checkpoints to resume after a
//! restart, also after `kill -9`.
//!
//! It follows rotation by rename (auditd's `max_log_file_action = ROTATE`), rotation by truncation,
//! a file that is missing for a while, and rotations that happened while it was stopped. It polls:
//! no inotify, no threads, no clock — the caller decides when to call [`Follower::poll`].
//!
//! It is not a parser: it knows nothing about records or events, and does not interpret the bytes
//! of a line (binary garbage passes through unchanged). It never decides on its own that a position
//! is handled: the caller stores a [`Checkpoint`] once it has durably handled the lines up to it.

mod batch;
mod checkpoint;
mod follower;

pub use batch::{Batch, Ending, Line, Notice};
pub use checkpoint::{head_hash, Checkpoint, HEAD_BYTES};
pub use follower::{Config, Follower};

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// The identity of a file: its device and inode numbers. A rename keeps it; a new file gets a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileId {
    pub dev: u64,
    pub inode: u64,
}

impl FileId {
    /// Returns the identity of the file the metadata describes.
    pub fn of(metadata: &std::fs::Metadata) -> FileId {
        FileId {
            dev: metadata.dev(),
            inode: metadata.ino(),
        }
    }
}

/// Errors of the follower and of checkpoint files. Every IO error names the operation and the path.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot {op} {path}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("bad checkpoint file {path}: {reason}")]
    BadCheckpoint { path: PathBuf, reason: &'static str },
}

impl Error {
    pub(crate) fn io<'a>(
        op: &'static str,
        path: &'a std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Error + 'a {
        move |source| Error::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}
