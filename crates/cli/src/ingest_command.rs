//! `auditmesh ingest --data DIR FILE…`: audit logs (RAW or ENRICHED, with or without `node=`,
//! behind a syslog prefix: what `parse` reads) assembled into events and stored. Files are read
//! in the order given as one stream. Progress goes to standard error once a second, a summary at
//! the end; lines that are not audit records are counted by kind in it (they are not events and
//! are not stored).

use std::fs::File;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use assemble::{Assembler, Config, Event, SerialGap, Sink};
use clap::Args;
use parse::DiagnosticKind;
use store::{ColumnarStore, EventStore, IngestReport};

use crate::lines::LineReader;

#[derive(Args)]
pub struct IngestArgs {
    /// The store's folder (created if missing)
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,

    /// Audit log files, read in order as one stream (oldest rotated file first)
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// Events per durable write: each batch is on disk before the next is read
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch: u64,

    /// No progress line
    #[arg(long, short)]
    pub quiet: bool,

    /// Keep every event's record lines for good (`search --json` prints them as `parse` does);
    /// without it they may be released once the provenance graph has the events
    #[arg(long)]
    pub keep_lines: bool,
}

#[derive(Default)]
struct Collect {
    events: Vec<Event>,
    gaps: u64,
}

impl Sink for Collect {
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
    fn gap(&mut self, _gap: SerialGap) {
        self.gaps += 1;
    }
}

pub fn run(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let mut store = crate::store_open_with(
        &args.data,
        store::Config {
            keep_lines: args.keep_lines,
            ..store::Config::default()
        },
    )?;
    let mut asm = Assembler::new(Config::default());
    let mut sink = Collect::default();
    let mut total = IngestReport::default();
    let (mut lines, mut not_records): (u64, Vec<(DiagnosticKind, u64)>) = (0, Vec::new());
    let mut reader = LineReader::new(16 << 20);
    let mut last_progress = Instant::now();
    let batch = args.batch as usize;
    let mut failure: Option<anyhow::Error> = None;
    let store_batch = |store: &mut ColumnarStore,
                       sink: &mut Collect,
                       total: &mut IngestReport|
     -> anyhow::Result<()> {
        let report = store.ingest(&sink.events).context("cannot store events")?;
        total.received += report.received;
        total.stored += report.stored;
        total.duplicates += report.duplicates;
        sink.events.clear();
        Ok(())
    };
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
                if let Err(e) = store_batch(&mut store, &mut sink, &mut total) {
                    failure = Some(e);
                    return ControlFlow::Break(());
                }
                if !args.quiet && last_progress.elapsed().as_secs() >= 1 {
                    last_progress = Instant::now();
                    eprint!(
                        "\ringest: {lines} lines, {} events, {} stored",
                        total.received, total.stored
                    );
                }
            }
            ControlFlow::Continue(())
        });
        if let Some(e) = failure.take() {
            return Err(e);
        }
        let _ended = read.with_context(|| format!("cannot read {}", path.display()))?;
    }
    asm.finish_all(&mut sink);
    store_batch(&mut store, &mut sink, &mut total)?;
    store.flush().context("cannot seal the events")?;
    if !args.quiet && total.received >= batch as u64 {
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
        sink.gaps,
    );
    not_records.sort();
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
    Ok(ExitCode::SUCCESS)
}
