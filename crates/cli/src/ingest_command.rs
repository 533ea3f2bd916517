//! `auditmesh ingest --data DIR FILE…`: audit logs (RAW or ENRICHED, with or without `node=`,
//! behind a syslog prefix: what `parse` reads) assembled into events, stored, and added to the
//! provenance graph persisted beside the store. Files are read in the order given as one
//! stream. Progress goes to standard error once a second, a summary at the end; lines that are
//! not audit records are counted by kind in it (they are not events and are not stored).
//!
//! Three threads joined by bounded channels of batches:
//!
//! ```text
//! main: read → parse → assemble ──events──► store: ingest (durable) ──accepted events──► graph: build
//!                                             ▲                                            │
//!                                             └───── release lines through ordinal N ◄─────┘ checkpoint
//! ```
//!
//! The graph is checkpointed when the events added since the last checkpoint reach the number
//! it held then (at least a million): the bytes written over a whole ingest stay a small
//! multiple of the final graph. A last checkpoint is written at the end.

use std::fs::File;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use assemble::{Assembler, Config, Event, SerialGap, Sink};
use clap::Args;
use graph::Builder;
use graphstore::Checkpoint;
use parse::DiagnosticKind;
use store::{ColumnarStore, EventStore, IngestReport};

use crate::graph_sync::{self, WriteLock};
use crate::known_loss::{self, PlacedGap};
use crate::lines::LineReader;

#[derive(Args)]
pub struct IngestArgs {
    /// The store's folder (created if missing)
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,

    /// Audit log files, read in order as one stream (oldest rotated file first)
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// Events per durable write of the store
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch: u64,

    /// No progress line
    #[arg(long, short)]
    pub quiet: bool,

    /// Keep every event's record lines for good (`search --json` prints them as `parse` does);
    /// without it they may be released once the provenance graph has the events
    #[arg(long)]
    pub keep_lines: bool,

    /// The graph's first checkpoint comes after this many events (then each after as many
    /// events as the graph held at the previous one); for tests of crash recovery
    #[arg(long, value_name = "N", default_value_t = 1_000_000, hide = true)]
    pub graph_checkpoint_events: u64,
}

#[derive(Default)]
struct Collect {
    events: Vec<Event>,
    /// The batch's serial gaps, each placed after the events that came before it.
    placed: Vec<PlacedGap>,
    gaps: u64,
}

impl Sink for Collect {
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
    fn named_gap(&mut self, gap: SerialGap, node: Option<&[u8]>) {
        self.gaps += 1;
        self.placed.push(PlacedGap { before: self.events.len(), node: node.map(Into::into), gap });
    }
}

/// Assembled events and the serial gaps among them, in stream order.
struct Assembled {
    events: Vec<Event>,
    gaps: Vec<PlacedGap>,
}

/// Batches in flight between two threads.
const QUEUE: usize = 4;

/// Counts the threads publish for the progress line.
#[derive(Default)]
struct Progress {
    received: AtomicU64,
    stored: AtomicU64,
    graphed: AtomicU64,
}

/// Accepted events with the ordinal of the first, and the serial gaps among them.
struct Accepted {
    first_ordinal: u64,
    events: Vec<Event>,
    gaps: Vec<PlacedGap>,
}

pub fn run(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let store = crate::store_open_with(
        &args.data,
        store::Config {
            keep_lines: args.keep_lines,
            ..store::Config::default()
        },
    )?;
    let lock = WriteLock::take(&args.data)?;
    let resumed = graph_sync::resume(&args.data, &store)?;
    if resumed.replayed > 0 {
        eprintln!(
            "ingest: the graph caught up with {} stored events it did not have",
            resumed.replayed
        );
    }
    lock.mark_dirty()?;
    let progress = Arc::new(Progress::default());
    let (to_store, store_rx) = mpsc::sync_channel::<Assembled>(QUEUE);
    let (to_graph, graph_rx) = mpsc::sync_channel::<Accepted>(QUEUE);
    let (release_tx, release_rx) = mpsc::channel::<u64>();
    let store_thread = {
        let progress = progress.clone();
        std::thread::Builder::new()
            .name("store".into())
            .spawn(move || store_loop(store, store_rx, to_graph, release_rx, &progress))?
    };
    let graph_thread = {
        let job = GraphJob {
            data: args.data.clone(),
            // replayed events, no checkpoint at all yet, or one in an older format: the end
            // writes one even if nothing is new
            pending: resumed.replayed > 0 || resumed.rewrite,
            ordinal: resumed.ordinal,
            builder: resumed.builder,
            min_events: args.graph_checkpoint_events,
        };
        let progress = progress.clone();
        std::thread::Builder::new()
            .name("graph".into())
            .spawn(move || graph_loop(job, graph_rx, release_tx, &progress))?
    };
    let read = read_loop(&args, &to_store, &progress);
    drop(to_store);
    let stored = store_thread
        .join()
        .map_err(|_| anyhow::anyhow!("the store thread panicked"))?;
    let built = graph_thread
        .join()
        .map_err(|_| anyhow::anyhow!("the graph thread panicked"))?;
    let (mut store, total) = stored?;
    let (builder, last) = built?;
    // the reader's error, if any, comes after the writers': they may be why it stopped
    let (lines, not_records, gaps) = read?;
    if let Some(c) = last {
        store
            .release_lines(c.ordinal)
            .context("cannot release the stored lines the graph covers")?;
    }
    lock.mark_clean()?;
    if !args.quiet && total.received >= args.batch {
        eprintln!();
    }
    let secs = started.elapsed().as_secs_f64();
    let stats = store.stats();
    eprintln!(
        "ingest: {} files, {} lines, {} events: {} stored, {} already in the store; {} serial gaps",
        args.files.len(),
        lines,
        total.received,
        total.stored,
        total.duplicates,
        gaps,
    );
    for (kind, n) in &not_records {
        eprintln!("ingest: {n} lines not stored: {}", kind.as_str());
    }
    eprintln!(
        "ingest: {secs:.2} s, {:.0} events/s",
        total.received as f64 / secs.max(1e-9)
    );
    eprintln!(
        "store: {} events in {} segments, {} bytes",
        stats.sealed_events + stats.unsealed_events,
        stats.segments,
        stats.segment_bytes
    );
    let g = builder.graph();
    let events = builder.counters().events;
    let bytes = match last {
        Some(c) => c.bytes,
        None => graphstore::checkpoint_bytes(&graphstore::graph_dir(&args.data))
            .context("cannot measure the provenance graph")?,
    };
    eprintln!(
        "graph: {} events, {} entities, {} edges (reduction {:.3}), {} bytes ({:.1} bytes/event)",
        events,
        g.entity_count(),
        g.edge_count(),
        g.stats().reduction_factor(),
        bytes,
        bytes as f64 / events.max(1) as f64,
    );
    Ok(ExitCode::SUCCESS)
}

type ReadSummary = (u64, Vec<(DiagnosticKind, u64)>, u64);

/// Reads, parses and assembles the files into batches for the store; stops early when the
/// store thread has gone (its error is the one reported).
fn read_loop(
    args: &IngestArgs,
    to_store: &SyncSender<Assembled>,
    progress: &Progress,
) -> anyhow::Result<ReadSummary> {
    let mut asm = Assembler::new(Config::default());
    let mut sink = Collect::default();
    let (mut lines, mut not_records): (u64, Vec<(DiagnosticKind, u64)>) = (0, Vec::new());
    let mut reader = LineReader::new(16 << 20);
    let mut last_progress = Instant::now();
    let batch = args.batch as usize;
    let mut gone = false;
    for path in &args.files {
        let mut file =
            File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let read = reader.read_all(&mut file, |line, _truncated| {
            lines += 1;
            match parse::parse_line(line) {
                Ok(record) => asm.push(&record, &mut sink),
                Err(e) if e.kind == DiagnosticKind::EmptyLine => {}
                Err(e) => match not_records.iter_mut().find(|(k, _)| *k == e.kind) {
                    Some((_, n)) => *n += 1,
                    None => not_records.push((e.kind, 1)),
                },
            }
            if sink.events.len() >= batch {
                if to_store
                    .send(Assembled {
                        events: std::mem::replace(&mut sink.events, Vec::with_capacity(batch)),
                        gaps: std::mem::take(&mut sink.placed),
                    })
                    .is_err()
                {
                    gone = true;
                    return ControlFlow::Break(());
                }
                if !args.quiet && last_progress.elapsed().as_secs() >= 1 {
                    last_progress = Instant::now();
                    eprint!(
                        "\ringest: {lines} lines, {} events, {} stored, {} in the graph",
                        progress.received.load(Ordering::Relaxed),
                        progress.stored.load(Ordering::Relaxed),
                        progress.graphed.load(Ordering::Relaxed),
                    );
                }
            }
            ControlFlow::Continue(())
        });
        if gone {
            return Ok((lines, not_records, sink.gaps));
        }
        let _ended = read.with_context(|| format!("cannot read {}", path.display()))?;
    }
    asm.finish_all(&mut sink);
    let _ = to_store.send(Assembled {
        events: std::mem::take(&mut sink.events),
        gaps: std::mem::take(&mut sink.placed),
    });
    not_records.sort();
    Ok((lines, not_records, sink.gaps))
}

/// Stores batches (each durable before it is passed on) and hands the accepted events to the
/// graph; releases record lines as the graph's checkpoints cover them.
fn store_loop(
    mut store: ColumnarStore,
    rx: Receiver<Assembled>,
    to_graph: SyncSender<Accepted>,
    release: Receiver<u64>,
    progress: &Progress,
) -> anyhow::Result<(ColumnarStore, IngestReport)> {
    let mut total = IngestReport::default();
    for Assembled { events, mut gaps } in rx {
        let report = store.ingest(&events).context("cannot store events")?;
        total.received += report.received;
        total.stored += report.stored;
        total.duplicates += report.duplicates;
        progress
            .received
            .fetch_add(report.received, Ordering::Relaxed);
        progress.stored.fetch_add(report.stored, Ordering::Relaxed);
        if report.duplicates != 0 {
            known_loss::keep_places(&mut gaps, &report.accepted);
        }
        // gaps go on even with no event accepted (input ingested before): the graph records
        // each once
        if !report.accepted.is_empty() || !gaps.is_empty() {
            let accepted = if report.duplicates == 0 {
                events
            } else {
                let mut keep = report.accepted.iter().peekable();
                events
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| keep.next_if(|&&a| a as usize == *i).is_some())
                    .map(|(_, e)| e)
                    .collect()
            };
            if to_graph
                .send(Accepted {
                    first_ordinal: report.first_ordinal,
                    events: accepted,
                    gaps,
                })
                .is_err()
            {
                break; // the graph thread failed: its error is reported
            }
        }
        while let Ok(through) = release.try_recv() {
            store
                .release_lines(through)
                .context("cannot release the stored lines the graph covers")?;
        }
    }
    store.flush().context("cannot seal the events")?;
    Ok((store, total))
}

/// Where the graph thread starts from.
struct GraphJob {
    data: PathBuf,
    builder: Builder,
    /// The store ordinal the builder covers.
    ordinal: u64,
    /// The builder has events no checkpoint holds yet (replayed from the store), or there is no
    /// checkpoint at all: the end writes one even if nothing new comes.
    pending: bool,
    /// The first checkpoint of the run comes after this many events.
    min_events: u64,
}

/// Adds the accepted events to the graph, checkpointing on a geometric schedule and at the end;
/// returns the builder and the last checkpoint written (none when nothing was new). `pending`:
/// the graph has events no checkpoint holds yet (replayed from the store).
fn graph_loop(
    job: GraphJob,
    rx: Receiver<Accepted>,
    release: mpsc::Sender<u64>,
    progress: &Progress,
) -> anyhow::Result<(Builder, Option<Checkpoint>)> {
    let GraphJob {
        data,
        builder: mut b,
        mut ordinal,
        mut pending,
        min_events,
    } = job;
    let data = data.as_path();
    let mut since = 0u64;
    let mut at_checkpoint = b.counters().events;
    let mut last: Option<Checkpoint> = None;
    for batch in rx {
        let n = batch.events.len() as u64;
        let losses = b.graph().losses().len();
        known_loss::add(&mut b, &batch.events, &batch.gaps);
        if n == 0 {
            // serial gaps only (input ingested before): new to the graph if not seen already
            pending |= b.graph().losses().len() > losses;
            continue;
        }
        ordinal = batch.first_ordinal + n - 1;
        since += n;
        pending = true;
        progress.graphed.fetch_add(n, Ordering::Relaxed);
        if since >= at_checkpoint.max(min_events) {
            let c = graph_sync::checkpoint(data, &b, ordinal)?;
            let _ = release.send(c.ordinal);
            at_checkpoint = b.counters().events;
            since = 0;
            pending = false;
            last = Some(c);
        }
    }
    if pending {
        last = Some(graph_sync::checkpoint(data, &b, ordinal)?);
    }
    Ok((b, last))
}
