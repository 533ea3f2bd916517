//! The threads of `auditmesh parse`: the reading stage hands off batches, render workers turn
//! them into JSON lines, one writer puts them back in order on the output.
//!
//! ```text
//!            batches              (seq, bytes, counters)
//! reader ───────────► render ×N ───────────────────────► writer ──► stdout
//! (caller's thread)      ▲                                  │
//!                        └────────── empty buffers ─────────┘
//! ```
//!
//! Rendering is most of the work, so it is the stage that runs on several threads; reading
//! (framing and assembling, which must see the stream in order) stays on the caller's thread.
//! Every channel is bounded and the output buffers come from a fixed pool, so a slow stage holds
//! back the ones before it and memory does not grow with the input. A worker takes a buffer
//! before it takes a batch: a worker holding a batch can always finish it, so the writer never
//! waits for a batch that waits for a buffer. The writer writes batches in sequence order and
//! sums their counters, so output and summary are those of one thread.
//!
//! Stopping: when a write fails the writer returns and drops its channel ends; workers then fail
//! to send and stop, and once they have all stopped the reader fails to hand off and stops
//! reading. A panic in a worker is sent to the writer like a result, stops the run the same way,
//! and is resumed on the caller's thread.
//!
//! With one thread there are no channels: the caller's thread renders and writes each batch
//! as it is handed off.

use std::any::Any;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;

use crate::batch::{self, add_counts, Batch, Counts, Renderer};

/// Called by the reading stage with each full batch, in order; breaks once the output side has
/// stopped (a write failed), after which reading should stop too.
pub type HandOff<'a> = dyn FnMut(Batch) -> ControlFlow<()> + 'a;

/// Output buffers keep at most this much room between batches (one huge event does not pin its
/// size for the rest of the run).
const KEEP_CAPACITY: usize = 4 * batch::MAX_BYTES;

/// Runs `read` on this thread and renders what it hands off on `threads` threads (on this one
/// when `threads` is 1), writing the output to `out` in order. Returns what `read` returned,
/// and the counters of damaged values met in rendering or the first write error.
pub fn run<R>(
    threads: usize,
    renderer: Renderer<'_>,
    out: impl Write + Send,
    read: impl FnOnce(&mut HandOff<'_>) -> R,
) -> (R, io::Result<Counts>) {
    if threads <= 1 {
        return run_inline(renderer, out, read);
    }
    let workers = threads;
    let buffers = 2 * workers;
    let (read_result, written) = thread::scope(|scope| {
        // Everything is made inside the scope so that a panic on this thread drops the channel
        // ends before the scope waits for the threads.
        let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(workers);
        let (rendered_tx, rendered_rx) = mpsc::sync_channel::<thread::Result<Rendered>>(workers);
        let (pool_tx, pool_rx) = mpsc::sync_channel::<Vec<u8>>(buffers);
        for _ in 0..buffers {
            pool_tx.send(Vec::new()).expect("the pool has room for every buffer");
        }
        // Shared by the workers and owned by them alone: when the last one stops, the receiving
        // end is dropped and the reader's next hand-off fails.
        let batch_rx = Arc::new(Mutex::new(batch_rx));
        let pool_rx = Arc::new(Mutex::new(pool_rx));

        let writer = thread::Builder::new()
            .name("write".into())
            .spawn_scoped(scope, move || write_in_order(rendered_rx, pool_tx, out))
            .expect("cannot start the writer thread");
        for i in 0..workers {
            let (batches, pool, rendered) = (Arc::clone(&batch_rx), Arc::clone(&pool_rx), rendered_tx.clone());
            thread::Builder::new()
                .name(format!("render-{i}"))
                .spawn_scoped(scope, move || render_worker(renderer, &batches, &pool, &rendered))
                .expect("cannot start a render thread");
        }
        drop((batch_rx, pool_rx, rendered_tx));

        let read_result = read(&mut |batch| match batch_tx.send(batch) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => ControlFlow::Break(()),
        });
        drop(batch_tx);
        (read_result, writer.join())
    });
    match written {
        Ok(Ok(counts)) => (read_result, Ok(counts)),
        Ok(Err(Stop::Write(e))) => (read_result, Err(e)),
        Ok(Err(Stop::Panic(payload))) | Err(payload) => panic::resume_unwind(payload),
    }
}

/// One thread: render each batch as it is handed off and write it.
fn run_inline<R>(renderer: Renderer<'_>, mut out: impl Write, read: impl FnOnce(&mut HandOff<'_>) -> R) -> (R, io::Result<Counts>) {
    let mut counts = Counts::new();
    let mut bytes = Vec::new();
    let mut failed = None;
    let read_result = read(&mut |batch| {
        add_counts(&mut counts, &renderer.render(batch, &mut bytes));
        let written = out.write_all(&bytes);
        recycle(&mut bytes);
        match written {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                failed = Some(e);
                ControlFlow::Break(())
            }
        }
    });
    let written = match failed {
        Some(e) => Err(e),
        None => out.flush().map(|()| counts),
    };
    (read_result, written)
}

/// A rendered batch.
struct Rendered {
    seq: u64,
    bytes: Vec<u8>,
    counts: Counts,
}

/// Why the writer stopped before the end.
enum Stop {
    Write(io::Error),
    Panic(Box<dyn Any + Send>),
}

/// Renders batches until there are no more or nobody takes the results.
fn render_worker(
    renderer: Renderer<'_>,
    batches: &Mutex<Receiver<Batch>>,
    pool: &Mutex<Receiver<Vec<u8>>>,
    rendered: &SyncSender<thread::Result<Rendered>>,
) {
    loop {
        // The buffer first, then the batch (see the module documentation: no deadlock).
        let Ok(mut bytes) = lock(pool).recv() else { return };
        let Ok(batch) = lock(batches).recv() else { return };
        let seq = batch.seq;
        let result = panic::catch_unwind(AssertUnwindSafe(move || {
            let counts = renderer.render(batch, &mut bytes);
            Rendered { seq, bytes, counts }
        }));
        let panicked = result.is_err();
        if rendered.send(result).is_err() || panicked {
            return;
        }
    }
}

/// Locks a receiver shared by the workers. It is held only while waiting in `recv`, which does
/// not panic, so it is never poisoned in practice; if it were, the receiver is still sound.
fn lock<T>(receiver: &Mutex<T>) -> MutexGuard<'_, T> {
    receiver.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Writes rendered batches to `out` in sequence order and puts their buffers back in the pool;
/// returns the sum of their counters once every worker has stopped.
fn write_in_order(rendered: Receiver<thread::Result<Rendered>>, pool: SyncSender<Vec<u8>>, mut out: impl Write) -> Result<Counts, Stop> {
    let mut counts = Counts::new();
    // Batches that arrived before one with a lower number; at most the number of buffers.
    let mut early = BTreeMap::new();
    let mut next = 0;
    for batch in rendered {
        let batch = batch.map_err(Stop::Panic)?;
        early.insert(batch.seq, batch);
        while let Some(Rendered { mut bytes, counts: batch_counts, .. }) = early.remove(&next) {
            out.write_all(&bytes).map_err(Stop::Write)?;
            add_counts(&mut counts, &batch_counts);
            recycle(&mut bytes);
            // Never blocks: the pool has room for every buffer. Fails only once the workers
            // have stopped.
            let _ = pool.send(bytes);
            next += 1;
        }
    }
    debug_assert!(early.is_empty(), "batches missing before {next}");
    out.flush().map_err(Stop::Write)?;
    Ok(counts)
}

/// Empties a buffer for the next batch.
fn recycle(bytes: &mut Vec<u8>) {
    bytes.clear();
    bytes.shrink_to(KEEP_CAPACITY);
}

#[cfg(test)]
mod tests {
    use super::*;
    use parse::DiagnosticKind;

    /// Hands off `batches` batches of 1 to 3 diagnostics each and returns the output.
    fn output(threads: usize, batches: u64) -> Vec<u8> {
        let sources = ["a.log".to_string()];
        let renderer = Renderer { opts: render::Options::default(), names: &render::NoNames, sources: &sources };
        let mut out = Vec::new();
        let (handed, written) = run(threads, renderer, &mut out, |hand_off| {
            for seq in 0..batches {
                let mut batch = Batch::new(seq);
                for i in 0..=seq % 3 {
                    batch.push_diagnostic(DiagnosticKind::NoRecordType, 0, seq * 10 + i, format!("line {seq}.{i}").as_bytes());
                }
                if hand_off(batch).is_break() {
                    return seq;
                }
            }
            batches
        });
        assert_eq!(handed, batches);
        assert!(written.expect("written").is_empty());
        out
    }

    #[test]
    fn threads_write_in_the_order_handed_off() {
        let one = output(1, 500);
        assert_eq!(String::from_utf8_lossy(&one).lines().count(), 166 * 6 + 3);
        for threads in [2, 3, 8] {
            assert!(output(threads, 500) == one, "{threads} threads");
        }
    }

    #[test]
    fn a_panic_in_a_worker_ends_the_run_and_is_resumed_here() {
        let sources = ["a.log".to_string()];
        let renderer = Renderer { opts: render::Options::default(), names: &render::NoNames, sources: &sources };
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            run(2, renderer, io::sink(), |hand_off| {
                for seq in 0.. {
                    let mut batch = Batch::new(seq);
                    // Source 1 does not exist: rendering batch 10 panics.
                    batch.push_diagnostic(DiagnosticKind::NoRecordType, usize::from(seq == 10), seq, b"junk");
                    if hand_off(batch).is_break() {
                        return seq;
                    }
                }
                unreachable!()
            })
        }));
        assert!(result.is_err());
    }

    /// A writer that fails after `left` bytes.
    struct Failing {
        left: usize,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.left == 0 {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            let n = buf.len().min(self.left);
            self.left -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failed_write_stops_the_reader() {
        for threads in [1, 2, 4] {
            let sources = ["a.log".to_string()];
            let renderer = Renderer { opts: render::Options::default(), names: &render::NoNames, sources: &sources };
            let (handed, written) = run(threads, renderer, Failing { left: 1000 }, |hand_off| {
                for seq in 0.. {
                    let mut batch = Batch::new(seq);
                    batch.push_diagnostic(DiagnosticKind::NoRecordType, 0, seq, b"junk");
                    if hand_off(batch).is_break() {
                        return seq;
                    }
                }
                unreachable!()
            });
            assert_eq!(written.expect_err("the write fails").kind(), io::ErrorKind::BrokenPipe);
            assert!(handed < 100, "{threads} threads: stopped after {handed} batches");
        }
    }
}
