//! The store's one error type. IO errors name the file and say whether retrying may help;
//! damaged files name the file and what was wrong with it.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    /// A file of the store is damaged. The rest of the store stays readable.
    #[error("{}: corrupt: {what}", path.display())]
    Corrupt { path: PathBuf, what: String },
    /// A stored event's lines no longer assemble into exactly one event.
    #[error("stored event {ms}:{serial} does not assemble back into one event")]
    Rebuild { serial: u64, ms: u64 },
    /// The record lines of this event (and maybe of later ones) were released: the event can
    /// be searched by its fields but not rebuilt or replayed.
    #[error("the record lines of event #{ordinal} were released")]
    LinesReleased { ordinal: u64 },
    /// A replay needs this event, and the store no longer has it (removed by retention, or in
    /// a damaged file left out on open).
    #[error("event #{ordinal} is no longer in the store")]
    EventGone { ordinal: u64 },
    /// A query asks for something the fields cannot answer (a number for a text field, …).
    #[error("bad query: {0}")]
    Query(String),
}

impl StoreError {
    /// Returns true for errors that may pass when the operation is tried again (a full disk, an
    /// interrupted call); damaged files and bad queries never do.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Io { source, .. } => !matches!(source.kind(), io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied | io::ErrorKind::InvalidData),
            _ => false,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> StoreError {
        let path = path.into();
        move |source| StoreError::Io { path, source }
    }
}
