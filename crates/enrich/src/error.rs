//! The crate's one error type; every variant names the [`Counter`] its caller moves.
//!
//! Errors carry structured context (pid, path, line). They are for the caller to count and,
//! rate-limited, to log; enrichment itself never logs and never panics.

use std::io;
use std::path::PathBuf;

use crate::Counter;

/// Why a piece of enrichment could not be had.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The process exited before its `/proc` entry was read.
    #[error("process {pid} is gone")]
    ProcGone { pid: u32 },
    /// `/proc/PID/cgroup` could not be read.
    #[error("cannot read the cgroup of process {pid}")]
    CgroupUnreadable { pid: u32, source: io::Error },
    /// No namespace link of the process could be read.
    #[error("cannot read the namespaces of process {pid}")]
    NamespaceUnreadable { pid: u32, source: io::Error },
    /// `/proc/PID/stat` was read but is not in the kernel's format.
    #[error("cannot parse /proc/{pid}/stat")]
    StatUnparsable { pid: u32 },
    /// `/etc/passwd` could not be read.
    #[error("cannot read {path}")]
    PasswdUnreadable { path: PathBuf, source: io::Error },
    /// `/etc/group` could not be read.
    #[error("cannot read {path}")]
    GroupUnreadable { path: PathBuf, source: io::Error },
    /// A state file is damaged, truncated or not ours.
    #[error("state file is corrupt at line {line}: {reason}")]
    StateCorrupt { line: usize, reason: &'static str },
    /// A state file was written by an unknown version of the format.
    #[error("state file has unsupported version {found:?}")]
    StateVersion { found: String },
    /// A state file could not be read or written.
    #[error("cannot use state file {path}")]
    StateUnavailable { path: PathBuf, source: io::Error },
    /// A host identity file could not be read, written or validated.
    #[error("host identity: cannot use {path}")]
    HostIdentity { path: PathBuf, source: io::Error },
}

impl Error {
    /// Returns the counter the caller moves for this error.
    pub fn counter(&self) -> Counter {
        match self {
            Error::ProcGone { .. } => Counter::ProcGone,
            Error::CgroupUnreadable { .. } => Counter::CgroupUnreadable,
            Error::NamespaceUnreadable { .. } => Counter::NamespaceUnreadable,
            Error::StatUnparsable { .. } => Counter::StatUnparsable,
            Error::PasswdUnreadable { .. } => Counter::PasswdUnreadable,
            Error::GroupUnreadable { .. } => Counter::GroupUnreadable,
            Error::StateCorrupt { .. } | Error::StateVersion { .. } => Counter::StateCorrupt,
            Error::StateUnavailable { .. } => Counter::StateUnavailable,
            Error::HostIdentity { .. } => Counter::HostIdentityUnavailable,
        }
    }
}

/// Tells whether a failed read under `/proc/PID` means the process is gone: `ENOENT`, or `ESRCH`
/// which the kernel returns for links of a process that is exiting.
pub(crate) fn is_gone(err: &io::Error) -> bool {
    const ESRCH: i32 = 3;
    err.kind() == io::ErrorKind::NotFound || err.raw_os_error() == Some(ESRCH)
}
