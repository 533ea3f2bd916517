//! What one poll returns: the lines read (in one buffer, each with its position and how it ended)
//! and the notices about files opened, finished, truncated or lost.
//!
//! It is not the reading itself (`follower.rs`) and holds no file handles.

use crate::{Checkpoint, FileId};
use std::path::PathBuf;

/// How a yielded line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// With `\n` (not included in the bytes): the normal case.
    Newline,
    /// Cut because it is longer than `Config::max_line_bytes`; the next line continues it.
    Split,
    /// The file ended without `\n` and will not be completed: it was rotated away or truncated,
    /// a backfilled file ended, or the caller asked for a flush at shutdown.
    Truncated,
}

impl Ending {
    /// Returns the stable snake_case name of the ending.
    pub fn as_str(self) -> &'static str {
        match self {
            Ending::Newline => "newline",
            Ending::Split => "split",
            Ending::Truncated => "truncated",
        }
    }
}

/// Something the caller should know about beyond the lines; nothing is lost silently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A file is being read from `offset` on; `path` is the name it had when it was opened.
    Opened {
        file: FileId,
        path: PathBuf,
        offset: u64,
    },
    /// A file was read to its end and left: it was rotated away, or it was a backfilled or
    /// rotated-while-stopped file.
    Finished { file: FileId, offset: u64 },
    /// The file is shorter than the position reached (`offset`): it was truncated, reading
    /// restarts at 0. Lines written after the truncation beyond `offset` before it was noticed
    /// cannot be told apart from old ones; the follower cannot see them as new.
    Truncated {
        file: FileId,
        offset: u64,
        size: u64,
    },
    /// The checkpointed file is gone. Either it is neither `audit.log` nor a rotated file any more
    /// (deleted by rotation while stopped): every rotated file left is newer and is read from 0,
    /// oldest first, then `audit.log`, but lines between the checkpoint and the oldest file left
    /// are lost. Or `audit.log` has its inode but other first bytes (truncated and rewritten, or
    /// a new file given the deleted file's inode): `audit.log` is read from 0.
    PossibleGap { checkpoint: Checkpoint },
}

/// One yielded line, borrowed from its [`Batch`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The bytes of the line, without the `\n`.
    pub bytes: &'a [u8],
    /// Where the line ends (after its `\n`): the checkpoint to store once it is handled.
    pub position: Checkpoint,
    pub ending: Ending,
}

#[derive(Debug, Clone)]
struct Entry {
    start: usize,
    end: usize,
    position: Checkpoint,
    ending: Ending,
}

/// The lines and notices of one poll. All lines share one buffer, reused by `Follower::poll_into`.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    data: Vec<u8>,
    entries: Vec<Entry>,
    notices: Vec<Notice>,
    checkpoint: Option<Checkpoint>,
}

impl Batch {
    /// Returns an empty batch.
    pub fn new() -> Batch {
        Batch::default()
    }

    /// Empties the batch, keeping its allocations.
    pub fn clear(&mut self) {
        self.data.clear();
        self.entries.clear();
        self.notices.clear();
        self.checkpoint = None;
    }

    /// Returns the number of lines.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns true when the batch has no lines (it may still have notices).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns the lines in file order.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = Line<'_>> + '_ {
        self.entries.iter().map(|e| Line {
            bytes: &self.data[e.start..e.end],
            position: e.position,
            ending: e.ending,
        })
    }

    /// Returns the notices, in the order the follower met them.
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// Returns the position to store once every line of the batch is handled: after the last
    /// line, or where reading moved on after it (the next file, or 0 after a truncation), so a
    /// restart neither goes back to a file left behind nor trusts an offset a truncation made
    /// stale. `None` when nothing moved.
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        self.checkpoint
    }

    pub(crate) fn moved_to(&mut self, position: Checkpoint) {
        self.checkpoint = Some(position);
    }

    pub(crate) fn push(&mut self, head: &[u8], tail: &[u8], position: Checkpoint, ending: Ending) {
        let start = self.data.len();
        self.data.extend_from_slice(head);
        self.data.extend_from_slice(tail);
        self.entries.push(Entry {
            start,
            end: self.data.len(),
            position,
            ending,
        });
        self.checkpoint = Some(position);
    }

    pub(crate) fn notice(&mut self, notice: Notice) {
        self.notices.push(notice);
    }
}
