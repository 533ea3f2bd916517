//! `auditmesh parse`: log files (or stdin) in, one JSON event per line out.
//!
//! The pipeline is read → frame (`parse`) → assemble → render → write. This module is the
//! reading stage: it reads the inputs in large chunks, frames lines and feeds one assembler, in
//! the order given, so events split across rotated files come out whole; it puts the events and
//! the diagnostics of lines that cannot be framed, in stream order, into batches
//! (`batch.rs`). Lines that cannot be framed are never dropped: each becomes a diagnostic
//! object, in the output stream or in a file of their own. Rendering and writing the batches,
//! on one thread or several, is `pipeline.rs`. Argument checking lives in `main.rs`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::mem;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use assemble::{Assembler, Config, Event, Sink};
use parse::DiagnosticKind;
use render::IdNames;

use crate::batch::{self, add_counts, Batch, Counts, Renderer};
use crate::lines::LineReader;
use crate::pipeline::{self, HandOff};
use crate::run_summary::RunSummary;

/// Where lines come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// The name used in diagnostics and error messages.
    fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_string(),
            Input::File(path) => path.display().to_string(),
        }
    }
}

/// A validated `parse` command.
pub struct ParseJob {
    pub inputs: Vec<Input>,
    pub render: render::Options,
    pub max_line_bytes: usize,
    /// Diagnostics go here instead of into the output stream.
    pub diagnostics: Option<PathBuf>,
    pub names: Box<dyn IdNames + Sync>,
    /// Threads that render; 1 runs the whole pipeline on the calling thread.
    pub threads: usize,
}

/// How a run ended.
pub enum Ended {
    /// Every input was read (some may have failed: see the summary).
    Done(RunSummary),
    /// The reader of our output went away (`| head`): not an error.
    BrokenPipe,
}

/// Runs the job. Inputs that cannot be opened or read are reported on stderr and counted; the
/// others are still processed. Errors writing the output end the run.
pub fn run(job: ParseJob) -> anyhow::Result<Ended> {
    let started = Instant::now();
    let diagnostics = match &job.diagnostics {
        Some(path) => Some(BufWriter::with_capacity(
            1 << 16,
            File::create(path).with_context(|| format!("cannot create diagnostics file {}", path.display()))?,
        )),
        None => None,
    };
    let sources: Vec<String> = job.inputs.iter().map(Input::name).collect();
    let renderer = Renderer { opts: job.render, names: job.names.as_ref(), sources: &sources };
    let mut summary = RunSummary::default();
    let (read, written) = pipeline::run(job.threads, renderer, io::stdout(), |hand_off| {
        let mut batcher = Batcher::new(&sources, diagnostics, hand_off);
        read_inputs(&job.inputs, job.max_line_bytes, &mut batcher, &mut summary);
        batcher.finish()
    });
    let broken_pipe = |e: &io::Error| e.kind() == io::ErrorKind::BrokenPipe;
    if written.as_ref().err().or(read.failed.as_ref()).is_some_and(broken_pipe) {
        return Ok(Ended::BrokenPipe);
    }
    let mut diagnostics = written.context("cannot write the output")?;
    if let (Some(e), Some(path)) = (read.failed, &job.diagnostics) {
        return Err(e).with_context(|| format!("cannot write diagnostics file {}", path.display()));
    }
    add_counts(&mut diagnostics, &read.counts);
    summary.diagnostics = diagnostics;
    summary.elapsed = started.elapsed();
    Ok(Ended::Done(summary))
}

/// Reads every input in order into one assembler whose events, and the diagnostics of lines,
/// go to `batcher`; stops early when the batcher has stopped. Fills in the reading counters of
/// `summary` (inputs, lines, bytes, the assembler's).
fn read_inputs(inputs: &[Input], max_line_bytes: usize, batcher: &mut Batcher<'_>, summary: &mut RunSummary) {
    let mut assembler = Assembler::new(Config::default());
    let mut reader = LineReader::new(max_line_bytes);
    for (source, input) in inputs.iter().enumerate() {
        summary.inputs += 1;
        let mut line_number: u64 = 0;
        let mut on_line = |line: &[u8], truncated: bool| {
            line_number += 1;
            if truncated {
                batcher.diagnostic(DiagnosticKind::Truncated, source, line_number, line);
            } else {
                match parse::parse_line(line) {
                    Ok(record) => assembler.push(&record, batcher),
                    Err(e) if e.kind == DiagnosticKind::EmptyLine => batch::count(&mut batcher.counts, e.kind, 1),
                    Err(e) => batcher.diagnostic(e.kind, source, line_number, e.line),
                }
            }
            if batcher.stopped { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        };
        let read = match input {
            Input::Stdin => reader.read_all(&mut io::stdin().lock(), &mut on_line),
            Input::File(path) => match File::open(path) {
                Ok(mut file) => reader.read_all(&mut file, &mut on_line),
                Err(e) => Err(e),
            },
        };
        summary.lines += line_number;
        if let Err(e) = read {
            summary.unreadable_inputs += 1;
            let verb = if line_number == 0 { "cannot read" } else { "stopped reading" };
            let e = anyhow::Error::new(e).context(format!("{verb} {}", input.name()));
            eprintln!("auditmesh: {e:#}");
        }
        if batcher.stopped {
            break;
        }
    }
    if !batcher.stopped {
        assembler.finish_all(batcher);
    }
    summary.bytes = reader.bytes;
    summary.assembler = assembler.stats().clone();
}

/// The assembler's sink: puts events and diagnostics, in stream order, into numbered batches
/// and hands each one off when it is full. With a diagnostics file, diagnostics are written
/// there instead, on this thread. Counts the diagnostics of whole lines.
struct Batcher<'a> {
    batch: Batch,
    hand_off: &'a mut HandOff<'a>,
    sources: &'a [String],
    diagnostics: Option<BufWriter<File>>,
    /// A diagnostic line being written to `diagnostics`.
    scratch: Vec<u8>,
    counts: Counts,
    /// Set when the output side or the diagnostics file failed: read no further.
    stopped: bool,
    /// Why the diagnostics file failed.
    failed: Option<io::Error>,
}

/// What the reading stage leaves for the summary.
struct ReadOutcome {
    counts: Counts,
    failed: Option<io::Error>,
}

impl<'a> Batcher<'a> {
    fn new(sources: &'a [String], diagnostics: Option<BufWriter<File>>, hand_off: &'a mut HandOff<'a>) -> Batcher<'a> {
        Batcher {
            batch: Batch::new(0),
            hand_off,
            sources,
            diagnostics,
            scratch: Vec::new(),
            counts: Counts::new(),
            stopped: false,
            failed: None,
        }
    }

    /// Reports line `line` of input `source` (an index into `sources`), which is not an audit
    /// record.
    fn diagnostic(&mut self, kind: DiagnosticKind, source: usize, line: u64, raw: &[u8]) {
        batch::count(&mut self.counts, kind, 1);
        if self.stopped {
            return;
        }
        match &mut self.diagnostics {
            Some(file) => {
                self.scratch.clear();
                render::write_diagnostic(&mut self.scratch, kind, &self.sources[source], line, raw);
                if let Err(e) = file.write_all(&self.scratch) {
                    self.fail(e);
                }
            }
            None => {
                self.batch.push_diagnostic(kind, source, line, raw);
                self.hand_off_if_full();
            }
        }
    }

    fn hand_off_if_full(&mut self) {
        if self.batch.is_full() {
            self.hand_off();
        }
    }

    fn hand_off(&mut self) {
        if self.stopped || self.batch.is_empty() {
            return;
        }
        let next = Batch::new(self.batch.seq + 1);
        if (self.hand_off)(mem::replace(&mut self.batch, next)).is_break() {
            self.stopped = true;
        }
    }

    fn fail(&mut self, e: io::Error) {
        self.failed.get_or_insert(e);
        self.stopped = true;
    }

    /// Hands off the last batch and flushes the diagnostics file.
    fn finish(mut self) -> ReadOutcome {
        self.hand_off();
        if let Some(file) = &mut self.diagnostics {
            if let Err(e) = file.flush() {
                self.fail(e);
            }
        }
        ReadOutcome { counts: self.counts, failed: self.failed }
    }
}

impl Sink for Batcher<'_> {
    fn event(&mut self, event: Event) {
        if !self.stopped {
            self.batch.push_event(event);
            self.hand_off_if_full();
        }
    }
}
