//! Sources: one thread per agent that reads records as fast as they come and hands them, in
//! batches, to the pipeline thread over a bounded channel.
//!
//! A source thread does no parsing: it only frames what it reads (netlink messages, lines) into
//! a [`Chunk`], so a slow output never slows draining the kernel socket until the channel is full.
//! Chunks come back empty over a second channel and are reused: no allocation per record.
//!
//! - netlink (own and coexist): datagrams from [`netlink::AuditSocket`];
//! - file: lines from a [`follow::Follower`], each with its position for the checkpoint;
//! - plugin: lines from standard input (auditd's dispatcher, `format = string`);
//! - go-audit: JSON lines from a followed file or standard input, turned into record lines.

use std::io::Read;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use follow::{Checkpoint, Ending, Follower, Notice};
use netlink::{AuditSocket, RecvBatch};

use crate::log;

/// How a line from a log-format source ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnd {
    Newline,
    /// Part of a line longer than the limit; the next item continues it.
    Split,
    /// The input ended without `\n`: a torn last line.
    Truncated,
}

/// One item of a [`Chunk`]: a record, a line, or a notice, with its bytes in `Chunk::data`.
#[derive(Clone, Debug)]
pub enum Item {
    /// A netlink message: record type and payload.
    Netlink { record_type: u32, bytes: Range<usize> },
    /// A line; `position` is where it ends (file source), for the checkpoint. `go_audit`: a
    /// go-audit JSON line, converted by the pipeline (it owns the diagnostics), not an audit line.
    Line {
        bytes: Range<usize>,
        end: LineEnd,
        position: Option<Checkpoint>,
        go_audit: bool,
    },
    /// Reading moved on without a line (next file, truncation): the position to checkpoint.
    Moved(Checkpoint),
    /// Something the follower met (rotation, truncation, possible gap).
    Notice(Notice),
}

/// A batch of items; its buffer is reused.
#[derive(Debug, Default)]
pub struct Chunk {
    pub data: Vec<u8>,
    pub items: Vec<Item>,
}

impl Chunk {
    fn clear(&mut self) {
        self.data.clear();
        self.items.clear();
    }

    fn push_bytes(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.data.len();
        self.data.extend_from_slice(bytes);
        start..self.data.len()
    }

    /// Returns the bytes of an item's range.
    pub fn bytes(&self, range: &Range<usize>) -> &[u8] {
        &self.data[range.clone()]
    }
}

/// What a source thread sends.
#[derive(Debug)]
pub enum Message {
    Chunk(Chunk),
    /// The source ended (end of input, or a fatal error, logged): nothing more comes.
    End { error: Option<String> },
}

/// The source side of the two channels, plus counters the metrics read.
pub struct Feed {
    pub tx: SyncSender<Message>,
    pub free: Receiver<Chunk>,
    pub stop: Arc<AtomicBool>,
    /// Chunks sent and not yet taken by the pipeline.
    pub queued: Arc<AtomicU64>,
    /// Times the channel was full and the source waited.
    pub waits: Arc<AtomicU64>,
}

impl Feed {
    fn chunk(&self) -> Chunk {
        let mut chunk = self.free.try_recv().unwrap_or_default();
        chunk.clear();
        chunk
    }

    /// Sends a chunk, waiting while the channel is full (counted). Returns false when the
    /// pipeline is gone.
    fn send(&self, chunk: Chunk) -> bool {
        self.queued.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(Message::Chunk(chunk)) {
            Ok(()) => true,
            Err(TrySendError::Full(message)) => {
                self.waits.fetch_add(1, Ordering::Relaxed);
                self.tx.send(message).is_ok()
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }

    fn end(&self, error: Option<String>) {
        let _ = self.tx.send(Message::End { error });
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Records per chunk before it is sent.
const CHUNK_ITEMS: usize = 512;
/// The longest a record waits in a chunk (netlink, standard input) before the chunk is sent.
const NETLINK_LINGER: Duration = Duration::from_millis(10);

/// Reads the kernel: own mode (registered; `socket` is the registered socket) or coexist mode
/// (multicast). Runs until stopped or a fatal socket error. Overruns are counted in `overruns`.
///
/// The kernel sends one datagram per record. Waking up for each would cost a context switch per
/// record; instead the thread waits for the first record of a batch, sleeps [`NETLINK_LINGER`]
/// while the socket buffer gathers the rest (the buffer, not the kernel's backlog: the kernel has
/// already handed them over), then drains the socket without blocking, 64 datagrams per
/// `recvmmsg`.
pub fn run_netlink(mut socket: AuditSocket, feed: Feed, overruns: Arc<AtomicU64>) {
    let mut buf = vec![0u8; 64 << 10];
    let mut batch = RecvBatch::new(64);
    if let Err(e) = socket.set_read_timeout(Some(Duration::from_millis(100))) {
        feed.end(Some(format!("netlink: {e}")));
        return;
    }
    let mut chunk = feed.chunk();
    let overrun = |overruns: &AtomicU64| {
        let n = overruns.fetch_add(1, Ordering::Relaxed) + 1;
        log::warn(format_args!(
            "netlink receive buffer overrun #{n}: the kernel dropped records for this socket (raise source.receive_buffer)"
        ));
    };
    let mut error = None;
    while !feed.stopping() {
        match socket.recv(&mut buf) {
            Ok(messages) => push_messages(&mut chunk, messages),
            Err(netlink::Error::Overrun) => overrun(&overruns),
            Err(e) if e.is_retryable() => continue,
            Err(e) => {
                error = Some(format!("netlink: {e}"));
                break;
            }
        }
        std::thread::sleep(NETLINK_LINGER);
        match drain(&mut socket, &mut batch, &mut chunk, &feed, &overruns, &overrun) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    // What the kernel already handed over is read before ending.
    if error.is_none() && drain(&mut socket, &mut batch, &mut chunk, &feed, &overruns, &overrun) == Ok(false) {
        return;
    }
    feed.end(error);
}

/// Reads every datagram waiting on the socket into chunks and sends them; returns false when
/// the pipeline is gone.
fn drain(
    socket: &mut AuditSocket,
    batch: &mut RecvBatch,
    chunk: &mut Chunk,
    feed: &Feed,
    overruns: &AtomicU64,
    overrun: &dyn Fn(&AtomicU64),
) -> Result<bool, String> {
    loop {
        if chunk.items.len() >= CHUNK_ITEMS && !feed.send(std::mem::replace(chunk, feed.chunk())) {
            return Ok(false);
        }
        match socket.try_recv_batch(batch) {
            Ok(0) => break,
            Ok(_) => {
                for messages in batch.datagrams() {
                    push_messages(chunk, messages);
                }
            }
            Err(netlink::Error::Overrun) => overrun(overruns),
            Err(e) if e.is_retryable() => break,
            Err(e) => return Err(format!("netlink: {e}")),
        }
    }
    if !chunk.items.is_empty() && !feed.send(std::mem::replace(chunk, feed.chunk())) {
        return Ok(false);
    }
    Ok(true)
}

fn push_messages(chunk: &mut Chunk, messages: netlink::Messages<'_>) {
    for (record_type, payload) in messages {
        let bytes = chunk.push_bytes(payload);
        chunk.items.push(Item::Netlink { record_type: record_type.0, bytes });
    }
}

/// Follows a file: `go_audit` says whether its lines are go-audit JSON.
pub fn run_follower(mut follower: Follower, feed: Feed, poll: Duration, go_audit: bool) {
    let mut batch = follow::Batch::new();
    let error = loop {
        if feed.stopping() {
            break None;
        }
        if let Err(e) = follower.poll_into(&mut batch) {
            break Some(e.to_string());
        }
        if batch.is_empty() && batch.notices().is_empty() && batch.checkpoint().is_none() {
            std::thread::sleep(poll);
            continue;
        }
        let mut chunk = feed.chunk();
        for notice in batch.notices() {
            chunk.items.push(Item::Notice(notice.clone()));
        }
        let mut last = None;
        for line in batch.lines() {
            let bytes = chunk.push_bytes(line.bytes);
            let end = match line.ending {
                Ending::Newline => LineEnd::Newline,
                Ending::Split => LineEnd::Split,
                Ending::Truncated => LineEnd::Truncated,
            };
            let position = Some(line.position);
            chunk.items.push(Item::Line { bytes, end, position, go_audit });
            last = Some(line.position);
            if chunk.items.len() >= CHUNK_ITEMS * 4 && !feed.send(std::mem::replace(&mut chunk, feed.chunk())) {
                return;
            }
        }
        if let Some(moved) = batch.checkpoint() {
            if Some(moved) != last {
                chunk.items.push(Item::Moved(moved));
            }
        }
        if !feed.send(chunk) {
            return;
        }
    };
    feed.end(error);
}

/// Reads lines from standard input until it closes (auditd stops its plugins that way, or with
/// SIGTERM). Lines longer than `max_line` are passed on in pieces marked [`LineEnd::Split`].
pub fn run_stdin(feed: Feed, max_line: usize, go_audit: bool) {
    use std::os::fd::FromRawFd;
    // Read the descriptor itself (no `Stdin` buffer), so `poll` tells the truth about what is left.
    let mut stdin = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(0) });
    let mut buf = vec![0u8; 256 << 10];
    let mut partial: Vec<u8> = Vec::new();
    let mut chunk = feed.chunk();
    let mut first_at: Option<Instant> = None;
    let error = loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                if feed.stopping() {
                    break None;
                }
                continue;
            }
            Err(e) => break Some(format!("standard input: {e}")),
        };
        let mut rest = &buf[..n];
        while let Some(at) = memchr::memchr(b'\n', rest) {
            push_line(&mut chunk, &mut partial, &rest[..at], LineEnd::Newline, max_line, go_audit);
            rest = &rest[at + 1..];
        }
        partial.extend_from_slice(rest);
        while partial.len() > max_line {
            let piece: Vec<u8> = partial.drain(..max_line).collect();
            push_item(&mut chunk, &piece, LineEnd::Split, go_audit);
        }
        // auditd's dispatcher writes record by record: gather what arrives within the linger
        // into one chunk instead of waking the pipeline for every line.
        let first = *first_at.get_or_insert_with(Instant::now);
        let left = NETLINK_LINGER.saturating_sub(first.elapsed());
        if chunk.items.len() < CHUNK_ITEMS && !left.is_zero() && readable_within(0, left) {
            continue;
        }
        if !chunk.items.is_empty() && !feed.send(std::mem::replace(&mut chunk, feed.chunk())) {
            return;
        }
        first_at = None;
        if feed.stopping() {
            break None;
        }
    };
    if !partial.is_empty() {
        push_item(&mut chunk, &partial, LineEnd::Truncated, go_audit);
    }
    if !chunk.items.is_empty() {
        feed.send(chunk);
    }
    feed.end(error);
}

/// Tells whether `fd` has data (or end of file) within `wait`.
fn readable_within(fd: i32, wait: Duration) -> bool {
    let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    let ms = i32::try_from(wait.as_millis()).unwrap_or(i32::MAX).max(1);
    unsafe { libc::poll(&mut pfd, 1, ms) > 0 }
}

fn push_line(chunk: &mut Chunk, partial: &mut Vec<u8>, tail: &[u8], end: LineEnd, max: usize, go_audit: bool) {
    if partial.is_empty() {
        let mut line = tail;
        while line.len() > max {
            push_item(chunk, &line[..max], LineEnd::Split, go_audit);
            line = &line[max..];
        }
        push_item(chunk, line, end, go_audit);
    } else {
        partial.extend_from_slice(tail);
        let line = std::mem::take(partial);
        push_line(chunk, partial, &line, end, max, go_audit);
    }
}

fn push_item(chunk: &mut Chunk, line: &[u8], end: LineEnd, go_audit: bool) {
    let bytes = chunk.push_bytes(line);
    chunk.items.push(Item::Line { bytes, end, position: None, go_audit });
}
