//! Test support: unique temporary directories, writing and rotating an audit.log the way auditd
//! does, and draining a follower. Not a fake filesystem: the tests use real files.

#![allow(dead_code)]

use follow::{Checkpoint, Ending, FileId, Follower, Notice};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A temporary directory, removed on drop.
pub struct Dir {
    pub path: PathBuf,
}

impl Dir {
    pub fn new(test: &str) -> Dir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "auditmesh-follow-{test}-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Dir { path }
    }

    pub fn log(&self) -> PathBuf {
        self.path.join("audit.log")
    }

    pub fn rotated(&self, n: u32) -> PathBuf {
        self.path.join(format!("audit.log.{n}"))
    }

    pub fn checkpoint(&self) -> PathBuf {
        self.path.join("follow.checkpoint")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Appends bytes to a file, creating it if needed.
pub fn append(path: &Path, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    file.write_all(bytes).unwrap();
}

/// Rotates like auditd's ROTATE: `audit.log.N` → `audit.log.N+1`, …, `audit.log` → `audit.log.1`.
/// The new `audit.log` is created by the next `append`.
/// Cuts the file at `path` to zero bytes in place (same inode), as `max_log_file_action` with
/// truncation or `> audit.log` does.
pub fn truncate(path: &Path) {
    std::fs::OpenOptions::new().write(true).open(path).unwrap().set_len(0).unwrap();
}

pub fn rotate(log: &Path) {
    let rotated = |n: u32| PathBuf::from(format!("{}.{n}", log.display()));
    let mut highest = 0;
    while rotated(highest + 1).exists() {
        highest += 1;
    }
    for n in (1..=highest).rev() {
        std::fs::rename(rotated(n), rotated(n + 1)).unwrap();
    }
    std::fs::rename(log, rotated(1)).unwrap();
}

pub fn id(path: &Path) -> FileId {
    FileId::of(&std::fs::metadata(path).unwrap())
}

/// One yielded line, owned; its position without the head hash (see `position`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Got {
    pub bytes: Vec<u8>,
    pub file: FileId,
    pub offset: u64,
    pub ending: Ending,
}

/// Returns the checkpoint of a position in the file at `path`, head hash included, as the
/// follower computes it (from the file's bytes as they are now).
pub fn position(path: &Path, offset: u64) -> Checkpoint {
    let bytes = std::fs::read(path).unwrap();
    let n = (offset.min(follow::HEAD_BYTES) as usize).min(bytes.len());
    Checkpoint::new(id(path), offset, follow::head_hash(&bytes[..n]))
}

/// The lines and notices of one poll.
pub fn poll(follower: &mut Follower) -> (Vec<Got>, Vec<Notice>) {
    let batch = follower.poll().unwrap();
    let lines = batch
        .lines()
        .map(|l| Got {
            bytes: l.bytes.to_vec(),
            file: l.position.file(),
            offset: l.position.offset,
            ending: l.ending,
        })
        .collect();
    (lines, batch.notices().to_vec())
}

/// Polls until nothing moves any more.
pub fn drain(follower: &mut Follower) -> (Vec<Got>, Vec<Notice>) {
    let (mut lines, mut notices) = (Vec::new(), Vec::new());
    loop {
        let before = follower.read_position();
        let (l, n) = poll(follower);
        let idle = l.is_empty() && n.is_empty() && follower.read_position() == before;
        lines.extend(l);
        notices.extend(n);
        if idle {
            return (lines, notices);
        }
    }
}

/// The lines as text, for readable assertions.
pub fn texts(lines: &[Got]) -> Vec<String> {
    lines
        .iter()
        .map(|l| String::from_utf8_lossy(&l.bytes).into_owned())
        .collect()
}
