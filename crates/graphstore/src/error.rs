//! The graph store's one error type: every variant names the file it is about.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum GraphStoreError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file that does not read back as what was written: a checksum, a length or a value
    /// that does not fit.
    #[error("{}: damaged graph file: {what}", path.display())]
    Corrupt { path: PathBuf, what: String },
}

impl GraphStoreError {
    pub(crate) fn io(
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> GraphStoreError + '_ {
        move |source| GraphStoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn corrupt(path: &std::path::Path, what: impl Into<String>) -> GraphStoreError {
        GraphStoreError::Corrupt {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }
}
