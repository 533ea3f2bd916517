//! The `Follower`: reads `audit.log` in large chunks into a reusable buffer, cuts complete lines,
//! holds a partial last line until its `\n` arrives, and moves between files: rotated files first
//! (backfill, or the rest of a file rotated while stopped), then `audit.log`, then each new
//! `audit.log` after a rotation by rename; a file shorter than the position reached was truncated
//! and is read again from 0.
//!
//! It is not a watcher (it polls; the caller picks the interval) and not a checkpoint store (the
//! caller stores `Batch::checkpoint` when it has handled a batch). After a restart, the
//! checkpointed file is recognised by (device, inode) and the hash of its first bytes, so a new
//! file given a deleted file's inode is not mistaken for it. A limit of polling, written down: a
//! truncation followed by writes past the old position before the next poll is not seen.

use crate::batch::{Batch, Ending, Notice};
use crate::checkpoint::{head_hash, HEAD_BYTES};
use crate::{Checkpoint, Error, FileId};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// How to follow. `Config::new` gives the defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The live file, e.g. `/var/log/audit/audit.log`; rotated files are `PATH.1`, `PATH.2`, …
    pub path: PathBuf,
    /// On a start without checkpoint, reads the rotated files (oldest first) before `path`.
    pub backfill_rotated: bool,
    /// The size of one read.
    pub chunk_bytes: usize,
    /// How many bytes one poll reads at most (at least one read is made).
    pub max_bytes_per_poll: usize,
    /// The longest line yielded whole; a longer one is yielded in pieces ending `Ending::Split`.
    pub max_line_bytes: usize,
}

impl Config {
    /// Returns the defaults for `path`: no backfill, 1 MiB reads, 8 MiB per poll, lines up to 32 MiB.
    pub fn new(path: impl Into<PathBuf>) -> Config {
        Config {
            path: path.into(),
            backfill_rotated: false,
            chunk_bytes: 1 << 20,
            max_bytes_per_poll: 8 << 20,
            max_line_bytes: 32 << 20,
        }
    }
}

/// An open file and how far it has been read.
#[derive(Debug)]
struct Source {
    file: File,
    id: FileId,
    /// Bytes read so far: the partial line, if any, ends here.
    offset: u64,
    /// True for the file opened as `Config::path`: rotation and truncation are watched on it only.
    live: bool,
    /// The file's first bytes, up to `HEAD_BYTES`, for `Checkpoint::head`.
    head: Vec<u8>,
    /// The hash of `head`.
    head_hash: u64,
}

impl Source {
    /// Returns the checkpoint at `offset` in this file.
    fn checkpoint(&self, offset: u64) -> Checkpoint {
        let n = (offset.min(HEAD_BYTES) as usize).min(self.head.len());
        let head = if n == self.head.len() {
            self.head_hash
        } else {
            head_hash(&self.head[..n])
        };
        Checkpoint::new(self.id, offset, head)
    }

    /// Reads the file's first bytes again while fewer than `HEAD_BYTES` are known: only while
    /// reading the start of a file.
    fn refresh_head(&mut self) -> std::io::Result<()> {
        if self.head.len() < HEAD_BYTES as usize {
            let mut buf = [0; HEAD_BYTES as usize];
            let n = read_at_start(&self.file, &mut buf)?;
            self.head.clear();
            self.head.extend_from_slice(&buf[..n]);
            self.head_hash = head_hash(&self.head);
        }
        Ok(())
    }
}

/// Follows one audit.log; see the module documentation.
#[derive(Debug)]
pub struct Follower {
    config: Config,
    current: Option<Source>,
    /// Files opened at start, to read after `current`, in order.
    queue: VecDeque<Source>,
    /// The bytes of the line not yet completed; they end at `current.offset`.
    partial: Vec<u8>,
    buf: Vec<u8>,
    /// Notices met while opening, handed out by the first poll.
    startup_notices: Vec<Notice>,
    /// `path` names another file than `current`: one more read of `current` before switching.
    rotation_seen: bool,
    /// The last file finished: rotated files newer than it are read before `audit.log`.
    previous: Option<FileId>,
    /// The rotated files there at start, not to be read (unless queued at start).
    known_at_start: Vec<FileId>,
}

impl Follower {
    /// Opens the files to follow. With a checkpoint, resumes there: in `audit.log` if it is the
    /// checkpointed file; in a rotated file if it was rotated while stopped (its rest first, then
    /// the newer rotated files, then `audit.log` from 0); otherwise rotation deleted it while
    /// stopped (`Notice::PossibleGap`) and every file left is newer: all rotated files are read,
    /// oldest first, then `audit.log`. Without one, starts at `audit.log` 0, after the rotated
    /// files if `backfill_rotated`. A missing `audit.log` is not an error: it is polled for.
    pub fn open(config: Config, checkpoint: Option<Checkpoint>) -> Result<Follower, Error> {
        let mut notices = Vec::new();
        // The live file is opened before the rotated ones are listed: a rotation in between then
        // shows the same file twice (skipped by identity) rather than not at all.
        let live = open_file(&config.path)?;
        let live_id = live.as_ref().map(|(_, id)| *id);
        let mut queue = VecDeque::new();

        let live_holds = match (&live, checkpoint) {
            (Some((file, id)), Some(c)) if c.file() == *id => {
                Some(holds(file, &c).map_err(Error::io("read", &config.path))?)
            }
            _ => None,
        };
        let resume_live = live_holds == Some(true);
        let rotated = open_rotated(&config.path, live_id)?;
        let known_at_start = rotated.iter().map(|r| r.id).collect();
        match checkpoint {
            Some(_) if resume_live => {}
            Some(checkpoint) if live_holds == Some(false) => {
                // The inode, but other bytes: audit.log was truncated and rewritten, or is a new
                // file given the inode of the deleted one. It is read from 0.
                notices.push(Notice::PossibleGap { checkpoint });
            }
            Some(checkpoint) => {
                // Rotated files come oldest first; those older than the checkpointed one are
                // handled already. If it is not among them, rotation deleted it, and every
                // rotated file left is newer: all are read.
                let mut at = None;
                for (i, r) in rotated.iter().enumerate() {
                    if r.id == checkpoint.file()
                        && holds(&r.file, &checkpoint).map_err(Error::io("read", &r.path))?
                    {
                        at = Some(i);
                        break;
                    }
                }
                if at.is_none() {
                    notices.push(Notice::PossibleGap { checkpoint });
                }
                for (i, r) in rotated.into_iter().enumerate().skip(at.unwrap_or(0)) {
                    let offset = if Some(i) == at { checkpoint.offset } else { 0 };
                    queue.push_back(start_at(
                        r.file,
                        r.id,
                        offset,
                        false,
                        &r.path,
                        &mut notices,
                    )?);
                }
            }
            None if config.backfill_rotated => {
                for r in rotated {
                    queue.push_back(start_at(r.file, r.id, 0, false, &r.path, &mut notices)?);
                }
            }
            _ => {}
        }
        if let Some((file, id)) = live {
            let offset = match checkpoint {
                Some(c) if resume_live => c.offset,
                _ => 0,
            };
            queue.push_back(start_at(
                file,
                id,
                offset,
                true,
                &config.path,
                &mut notices,
            )?);
        }

        let chunk = config.chunk_bytes.max(1);
        Ok(Follower {
            current: queue.pop_front(),
            queue,
            partial: Vec::new(),
            buf: vec![0; chunk],
            startup_notices: notices,
            rotation_seen: false,
            previous: None,
            known_at_start,
            config,
        })
    }

    /// Reads what is new, up to `Config::max_bytes_per_poll`, and returns the complete lines.
    pub fn poll(&mut self) -> Result<Batch, Error> {
        let mut batch = Batch::new();
        self.poll_into(&mut batch)?;
        Ok(batch)
    }

    /// Like [`Follower::poll`], into a batch that is cleared first (its buffers are reused).
    pub fn poll_into(&mut self, batch: &mut Batch) -> Result<(), Error> {
        batch.clear();
        for notice in self.startup_notices.drain(..) {
            batch.notice(notice);
        }
        let mut budget = self.config.max_bytes_per_poll.max(1);
        loop {
            let Some(source) = self.current.as_mut() else {
                if let Some(next) = self.queue.pop_front() {
                    batch.moved_to(next.checkpoint(next.offset));
                    self.current = Some(next);
                    continue;
                }
                self.open_next(batch)?;
                if self.queue.is_empty() {
                    return Ok(());
                }
                continue;
            };
            if budget == 0 {
                return Ok(());
            }
            let want = budget.min(self.buf.len());
            let n = read_some(&mut source.file, &mut self.buf[..want])
                .map_err(Error::io("read", &self.config.path))?;
            if n > 0 {
                budget -= n;
                let base = source.offset;
                source.offset += n as u64;
                source
                    .refresh_head()
                    .map_err(Error::io("read", &self.config.path))?;
                cut_lines(
                    &self.buf[..n],
                    base,
                    source,
                    &mut self.partial,
                    self.config.max_line_bytes,
                    batch,
                );
                continue;
            }
            // At the end of the file.
            if !source.live {
                self.finish_current(batch);
                continue;
            }
            let path = &self.config.path;
            let rotated_away = match std::fs::metadata(path) {
                Ok(metadata) if FileId::of(&metadata) != source.id => true,
                Ok(_) => {
                    let size = source
                        .file
                        .metadata()
                        .map_err(Error::io("stat", path))?
                        .len();
                    if size >= source.offset {
                        return Ok(());
                    }
                    flush_partial(source, &mut self.partial, batch);
                    batch.notice(Notice::Truncated {
                        file: source.id,
                        offset: source.offset,
                        size,
                    });
                    source
                        .file
                        .seek(SeekFrom::Start(0))
                        .map_err(Error::io("seek", path))?;
                    source.offset = 0;
                    source.head.clear();
                    source.head_hash = head_hash(&[]);
                    batch.moved_to(source.checkpoint(0));
                    continue;
                }
                // Renamed away and the new file not created yet: the old one is kept open, unless
                // it was rotated more than once since (a newer rotated file is waiting).
                Err(e) if e.kind() == ErrorKind::NotFound => newer_rotated_exists(path, source.id)?,
                Err(source) => {
                    return Err(Error::Io {
                        op: "stat",
                        path: path.clone(),
                        source,
                    })
                }
            };
            if !rotated_away {
                return Ok(());
            }
            if !self.rotation_seen {
                // Bytes written before the rename may have landed after our last read.
                self.rotation_seen = true;
                continue;
            }
            self.finish_current(batch);
        }
    }

    /// Yields the held partial line, if any, as `Ending::Truncated` (at shutdown, on request).
    /// A later poll continues after it: if its `\n` arrives, the rest is a line of its own.
    pub fn flush(&mut self) -> Batch {
        let mut batch = Batch::new();
        if let Some(source) = self.current.as_ref() {
            flush_partial(source, &mut self.partial, &mut batch);
        }
        batch
    }

    /// Returns the position of the next byte to read (the held partial line ends there).
    pub fn read_position(&self) -> Option<Checkpoint> {
        self.current.as_ref().map(|s| s.checkpoint(s.offset))
    }

    /// Returns how many bytes of an incomplete line are held.
    pub fn partial_len(&self) -> usize {
        self.partial.len()
    }

    fn finish_current(&mut self, batch: &mut Batch) {
        if let Some(source) = self.current.take() {
            flush_partial(&source, &mut self.partial, batch);
            batch.notice(Notice::Finished {
                file: source.id,
                offset: source.offset,
            });
            self.previous = Some(source.id);
        }
        self.rotation_seen = false;
    }

    /// Queues the files to read next when every known file is finished (or none was there):
    /// the rotated files newer than the last one finished — more than one rotation can happen
    /// between two polls — then `audit.log`.
    fn open_next(&mut self, batch: &mut Batch) -> Result<(), Error> {
        let path = &self.config.path;
        let live = open_file(path)?;
        let live_id = live.as_ref().map(|(_, id)| *id);
        let rotated = open_rotated(path, live_id)?;
        let newer = match self.previous {
            Some(previous) => rotated
                .iter()
                .position(|r| r.id == previous)
                .map_or(rotated.len(), |i| i + 1),
            None => 0,
        };
        let mut notices = Vec::new();
        for r in rotated.into_iter().skip(newer) {
            // Before any file was finished, the rotated files there at start are old.
            if self.previous.is_none() && self.known_at_start.contains(&r.id) {
                continue;
            }
            self.queue
                .push_back(start_at(r.file, r.id, 0, false, &r.path, &mut notices)?);
        }
        if let Some((file, id)) = live {
            self.queue
                .push_back(start_at(file, id, 0, true, path, &mut notices)?);
        }
        for notice in notices {
            batch.notice(notice);
        }
        Ok(())
    }
}

fn read_some(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match file.read(buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

fn flush_partial(source: &Source, partial: &mut Vec<u8>, batch: &mut Batch) {
    if !partial.is_empty() {
        batch.push(
            partial,
            &[],
            source.checkpoint(source.offset),
            Ending::Truncated,
        );
        partial.clear();
    }
}

/// Cuts `chunk` (the file's bytes from `base` on) into lines, continuing the held `partial`.
fn cut_lines(
    chunk: &[u8],
    base: u64,
    source: &Source,
    partial: &mut Vec<u8>,
    max_line: usize,
    batch: &mut Batch,
) {
    let max_line = max_line.max(1);
    let mut start = 0;
    for newline in memchr::memchr_iter(b'\n', chunk) {
        let line = &chunk[start..newline];
        let end = base + newline as u64 + 1;
        if partial.len() + line.len() <= max_line {
            batch.push(partial, line, source.checkpoint(end), Ending::Newline);
            partial.clear();
        } else {
            partial.extend_from_slice(line);
            let line_start = end - 1 - partial.len() as u64;
            let pieces = partial.len().div_ceil(max_line);
            for (i, piece) in partial.chunks(max_line).enumerate() {
                let (position, ending) = if i + 1 == pieces {
                    (end, Ending::Newline)
                } else {
                    (line_start + ((i + 1) * max_line) as u64, Ending::Split)
                };
                batch.push(piece, &[], source.checkpoint(position), ending);
            }
            partial.clear();
        }
        start = newline + 1;
    }
    partial.extend_from_slice(&chunk[start..]);
    if partial.len() > max_line {
        // Hold at most `max_line` bytes: yield the full pieces, keep the rest.
        let read_end = base + chunk.len() as u64;
        let held_start = read_end - partial.len() as u64;
        let full = (partial.len() - 1) / max_line;
        for i in 0..full {
            let piece = &partial[i * max_line..(i + 1) * max_line];
            batch.push(
                piece,
                &[],
                source.checkpoint(held_start + ((i + 1) * max_line) as u64),
                Ending::Split,
            );
        }
        partial.drain(..full * max_line);
    }
}

/// Opens `path` for reading; `None` when it does not exist.
fn open_file(path: &Path) -> Result<Option<(File, FileId)>, Error> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Io {
                op: "open",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let id = FileId::of(&file.metadata().map_err(Error::io("stat", path))?);
    Ok(Some((file, id)))
}

/// Positions an opened file at `offset`, or at 0 if it is shorter (it was truncated).
fn start_at(
    mut file: File,
    id: FileId,
    offset: u64,
    live: bool,
    path: &Path,
    notices: &mut Vec<Notice>,
) -> Result<Source, Error> {
    let size = file.metadata().map_err(Error::io("stat", path))?.len();
    let offset = if size < offset {
        notices.push(Notice::Truncated {
            file: id,
            offset,
            size,
        });
        0
    } else {
        offset
    };
    file.seek(SeekFrom::Start(offset))
        .map_err(Error::io("seek", path))?;
    notices.push(Notice::Opened {
        file: id,
        path: path.to_path_buf(),
        offset,
    });
    let mut source = Source {
        file,
        id,
        offset,
        live,
        head: Vec::new(),
        head_hash: head_hash(&[]),
    };
    source.refresh_head().map_err(Error::io("read", path))?;
    Ok(source)
}

/// Returns true when `file` starts with the bytes the checkpoint's `head` was taken from.
fn holds(file: &File, checkpoint: &Checkpoint) -> std::io::Result<bool> {
    let n = checkpoint.offset.min(HEAD_BYTES) as usize;
    let mut buf = [0; HEAD_BYTES as usize];
    let got = read_at_start(file, &mut buf[..n])?;
    Ok(got == n && head_hash(&buf[..n]) == checkpoint.head)
}

/// Reads the first bytes of `file` into `buf`, as many as there are; returns how many.
fn read_at_start(file: &File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// A rotated file, opened.
struct Rotated {
    file: File,
    id: FileId,
    path: PathBuf,
}

/// Opens the rotated files, oldest first, leaving out the live file (a rotation since it was
/// opened shows it under a rotated name too).
fn open_rotated(path: &Path, live: Option<FileId>) -> Result<Vec<Rotated>, Error> {
    let mut rotated = Vec::new();
    for path in rotated_files(path)? {
        let Some((file, id)) = open_file(&path)? else {
            continue;
        };
        if Some(id) != live {
            rotated.push(Rotated { file, id, path });
        }
    }
    Ok(rotated)
}

/// Returns true when `file` is a rotated file and a newer rotated file exists.
fn newer_rotated_exists(path: &Path, file: FileId) -> Result<bool, Error> {
    let mut seen = false;
    for path in rotated_files(path)? {
        match std::fs::metadata(&path) {
            Ok(_) if seen => return Ok(true),
            Ok(metadata) => seen = FileId::of(&metadata) == file,
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(source) => {
                return Err(Error::Io {
                    op: "stat",
                    path,
                    source,
                })
            }
        }
    }
    Ok(false)
}

/// Returns the rotated files `PATH.N` that exist, oldest (highest N) first.
fn rotated_files(path: &Path) -> Result<Vec<PathBuf>, Error> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let Some(name) = path.file_name().map(|n| n.as_encoded_bytes().to_vec()) else {
        return Ok(Vec::new());
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Io {
                op: "list",
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(Error::io("list", dir))?;
        let file_name = entry.file_name();
        let bytes = file_name.as_encoded_bytes();
        let Some(suffix) = bytes
            .strip_prefix(name.as_slice())
            .and_then(|s| s.strip_prefix(b"."))
        else {
            continue;
        };
        if suffix.is_empty()
            || suffix.len() > 9
            || !suffix.iter().all(u8::is_ascii_digit)
            || suffix[0] == b'0'
        {
            continue;
        }
        let n: u32 = std::str::from_utf8(suffix)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        found.push((n, dir.join(&file_name)));
    }
    found.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    Ok(found.into_iter().map(|(_, p)| p).collect())
}
