//! The pipeline thread: frame → assemble → enrich → filter → render → write, and, for the file
//! source, the checkpoint.
//!
//! It takes [`Chunk`]s from the source thread and gives them back empty. Every input that is not
//! a record (a line that does not frame, a torn or over-long line, a go-audit line that is not an
//! object) is written to the output as a diagnostic object with its raw bytes and counted by kind;
//! nothing read is dropped silently. Events the filter drops are counted; the process table sees
//! every event first, so lineage is known for dropped ones too.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use assemble::{Assembler, Event};
use follow::{Checkpoint, Notice};
use parse::{DiagnosticKind, Record};
use render::json;
use vocab::RecordType;

use crate::enrichment::Enricher;
use crate::log;
use crate::metrics::{Metrics, Snapshot};
use crate::output::Output;
use crate::resume::{EventKey, Tracker};
use crate::source::{Chunk, Item, LineEnd, Message};

/// How often pending events are timed out and the output flushed.
const TICK: Duration = Duration::from_millis(100);
/// How often the file source checkpoints (after syncing the output).
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// How often the process table is saved.
const SAVE_EVERY: Duration = Duration::from_secs(60);
/// How long a stop waits for the source to hand over what it read.
const STOP_WAIT: Duration = Duration::from_secs(2);
/// How often metrics are published.
const PUBLISH_EVERY: Duration = Duration::from_millis(500);

/// What the pipeline needs besides its channels.
pub struct Pipeline {
    pub assembler: Assembler,
    pub enricher: Enricher,
    pub filter: filter::Filter,
    pub output: Output,
    pub render: render::Options,
    /// Set for the file source: exactly-once across restarts.
    pub tracker: Option<Tracker>,
    pub checkpoint_path: Option<std::path::PathBuf>,
    /// The source's name in diagnostics.
    pub source_name: &'static str,
    pub metrics: Arc<Metrics>,
    pub(crate) counts: Snapshot,
    pub(crate) events: Vec<Event>,
    pub(crate) members: Vec<u8>,
    pub(crate) last_missing: u64,
}

/// How the pipeline ended.
#[derive(Debug)]
pub struct Ended {
    pub counts: Snapshot,
    /// The source's fatal error, if it ended with one.
    pub source_error: Option<String>,
}

fn wall_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl Pipeline {
    /// Runs until the source ends or `stop` is set; then finishes (see [`Pipeline::finish`]).
    pub fn run(
        mut self,
        rx: Receiver<Message>,
        free: SyncSender<Chunk>,
        stop: Arc<AtomicBool>,
    ) -> std::io::Result<Ended> {
        let mut last_tick = Instant::now();
        let mut last_checkpoint = Instant::now();
        let mut last_save = Instant::now();
        let mut last_publish = Instant::now();
        let mut source_error = None;
        let mut stopping_since: Option<Instant> = None;
        loop {
            match rx.recv_timeout(TICK) {
                Ok(Message::Chunk(chunk)) => {
                    self.metrics.queued_chunks.fetch_sub(1, Ordering::Relaxed);
                    self.chunk(&chunk)?;
                    let _ = free.try_send(chunk);
                }
                Ok(Message::End { error }) => {
                    if let Some(e) = &error {
                        log::error(format_args!("source ended: {e}"));
                    }
                    source_error = error;
                    break;
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if stop.load(Ordering::Relaxed) {
                // The source sees the flag too and ends with what it read; wait for that, but
                // not for a source blocked in a read (standard input).
                let since = *stopping_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= STOP_WAIT {
                    log::warn(format_args!("the source did not end within {STOP_WAIT:?} of the stop; finishing without it"));
                    break;
                }
            }
            if last_tick.elapsed() >= TICK {
                last_tick = Instant::now();
                self.assembler.tick(wall_ms(), &mut self.events);
                self.drain()?;
                self.output.flush(false)?;
                self.enricher.tick(wall_ms() / 1000);
            }
            if self.tracker.is_some() && last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
                last_checkpoint = Instant::now();
                self.checkpoint()?;
            }
            if last_save.elapsed() >= SAVE_EVERY {
                last_save = Instant::now();
                self.enricher.save();
            }
            if last_publish.elapsed() >= PUBLISH_EVERY {
                last_publish = Instant::now();
                self.publish();
            }
        }
        self.finish()?;
        Ok(Ended {
            counts: self.counts.clone(),
            source_error,
        })
    }

    /// Ends the run. Live sources (netlink, standard input) cannot be read again: every pending
    /// event is written, partial if need be. The file source leaves pending events to the next
    /// run, which reads them again from the checkpoint.
    fn finish(&mut self) -> std::io::Result<()> {
        if self.tracker.is_none() {
            self.assembler.finish_all(&mut self.events);
            self.drain()?;
        }
        self.output.flush(true)?;
        if self.tracker.is_some() {
            self.checkpoint()?;
        }
        self.enricher.save();
        self.publish();
        Ok(())
    }

    fn checkpoint(&mut self) -> std::io::Result<()> {
        let (Some(tracker), Some(path)) = (self.tracker.as_mut(), self.checkpoint_path.as_ref()) else {
            return Ok(());
        };
        self.output.flush(true)?;
        let point = tracker.resume_point(self.output.mark());
        point.store(path)?;
        self.counts.checkpoints += 1;
        Ok(())
    }

    /// Handles one chunk.
    pub(crate) fn chunk(&mut self, chunk: &Chunk) -> std::io::Result<()> {
        for item in &chunk.items {
            match item {
                Item::Netlink { record_type, bytes } => {
                    let payload = chunk.bytes(bytes);
                    if *record_type < 1100 {
                        self.counts.control_messages += 1;
                        continue;
                    }
                    self.counts.records += 1;
                    match parse::parse_netlink(RecordType(*record_type), payload) {
                        Ok(record) => self.assembler.push(&record, &mut self.events),
                        Err(e) => self.diagnostic(e.kind.as_str(), None, None, payload),
                    }
                }
                Item::Line { bytes, end, position } => {
                    let line = chunk.bytes(bytes);
                    self.counts.lines += 1;
                    match end {
                        LineEnd::Newline => self.line(line, *position),
                        LineEnd::Split => self.diagnostic("line_too_long", None, *position, line),
                        LineEnd::Truncated => self.diagnostic(DiagnosticKind::Truncated.as_str(), None, *position, line),
                    }
                    if let Some(t) = self.tracker.as_mut() {
                        t.line_done(*position);
                    }
                }
                Item::GoAudit { bytes, end, position } => {
                    let line = chunk.bytes(bytes);
                    self.counts.lines += 1;
                    match end {
                        LineEnd::Newline => self.go_audit_line(line, *position),
                        LineEnd::Split => self.diagnostic("line_too_long", None, *position, line),
                        LineEnd::Truncated => self.diagnostic(DiagnosticKind::Truncated.as_str(), None, *position, line),
                    }
                    if let Some(t) = self.tracker.as_mut() {
                        t.line_done(*position);
                    }
                }
                Item::Moved(position) => {
                    if let Some(t) = self.tracker.as_mut() {
                        t.moved(*position);
                    }
                }
                Item::Notice(notice) => notice_log(notice),
            }
            if self.events.len() >= 64 {
                self.drain()?;
            }
        }
        self.drain()?;
        self.output.commit()
    }

    fn line(&mut self, line: &[u8], position: Option<Checkpoint>) {
        match parse::parse_line(line) {
            Ok(record) => self.push(&record),
            Err(e) if e.kind == DiagnosticKind::EmptyLine => {
                *self.counts.diagnostics.entry(e.kind.as_str().to_string()).or_default() += 1;
            }
            Err(e) => self.diagnostic(e.kind.as_str(), None, position, line),
        }
    }

    fn push(&mut self, record: &Record<'_>) {
        self.counts.records += 1;
        if let Some(t) = self.tracker.as_mut() {
            t.record(&EventKey::new(record.node, record.id));
        }
        self.assembler.push(record, &mut self.events);
    }

    fn go_audit_line(&mut self, line: &[u8], position: Option<Checkpoint>) {
        let json = goaudit::strip_syslog_prefix(line);
        if json.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match goaudit::parse_line(json) {
            Ok(event) => {
                for record in event.records() {
                    match record {
                        Ok(record) => self.push(&record),
                        Err(e) => self.diagnostic(e.kind.as_str(), None, position, e.line),
                    }
                }
            }
            Err(e) => {
                let detail = e.to_string();
                self.diagnostic("go_audit", Some(&detail), position, line);
            }
        }
    }

    /// Writes a diagnostic object with the raw bytes and counts it.
    fn diagnostic(&mut self, kind: &str, detail: Option<&str>, position: Option<Checkpoint>, raw: &[u8]) {
        *self.counts.diagnostics.entry(kind.to_string()).or_default() += 1;
        let out = self.output.buffer();
        let start = out.len();
        out.extend_from_slice(b"{\"diagnostic\":");
        json::string(out, kind.as_bytes());
        out.extend_from_slice(b",\"source\":");
        json::string(out, self.source_name.as_bytes());
        if let Some(p) = position {
            out.extend_from_slice(b",\"file\":{\"dev\":");
            json::u64(out, p.dev);
            out.extend_from_slice(b",\"inode\":");
            json::u64(out, p.inode);
            out.extend_from_slice(b",\"end_offset\":");
            json::u64(out, p.offset);
            out.push(b'}');
        }
        if let Some(detail) = detail {
            out.extend_from_slice(b",\"detail\":");
            json::string(out, detail.as_bytes());
        }
        out.extend_from_slice(b",\"raw\":");
        json::string(out, raw);
        out.extend_from_slice(b"}\n");
        self.counts.bytes_written += (out.len() - start) as u64;
    }

    /// Enriches, filters and writes the events the assembler finished.
    fn drain(&mut self) -> std::io::Result<()> {
        if self.events.is_empty() {
            return Ok(());
        }
        let mut events = std::mem::take(&mut self.events);
        for event in events.drain(..) {
            self.counts.events += 1;
            if event.is_partial() {
                self.counts.partial_events += 1;
            }
            let summary = assemble::summary::summarize(&event);
            self.enricher.observe(&event, summary.as_ref());
            let decision = self.filter.decide(&event);
            if let Some(t) = self.tracker.as_mut() {
                if !t.complete(EventKey::new(event.node(), event.id)) {
                    *self.counts.dropped.entry("already_written").or_default() += 1;
                    continue;
                }
            }
            if !decision.is_kept() {
                *self.counts.dropped.entry("filter").or_default() += 1;
                continue;
            }
            self.members.clear();
            self.enricher.write_member(summary.as_ref(), &mut self.members);
            drop(summary);
            let names = self.enricher.names();
            let out = self.output.buffer();
            let start = out.len();
            let problems = render::write_event_with(out, &event, &self.render, &names, &self.members);
            self.counts.bytes_written += (out.len() - start) as u64;
            for (kind, n) in problems.iter() {
                *self.counts.diagnostics.entry(format!("field_{}", kind.as_str())).or_default() += u64::from(n);
            }
            self.counts.events_written += 1;
            if self.output.buffer().len() >= 256 << 10 {
                self.output.commit()?;
            }
        }
        self.events = events;
        Ok(())
    }

    /// Publishes the counters for the metrics endpoint and logs new serial gaps.
    fn publish(&mut self) {
        let stats = self.assembler.stats();
        self.counts.serial_gaps = stats.serial_gaps;
        self.counts.missing_serials = stats.missing_serials;
        self.counts.duplicate_records = stats.duplicate_records;
        self.counts.late_records = stats.late_records;
        self.counts.evicted_events = stats.evicted_events;
        self.counts.pending_events = self.assembler.pending() as u64;
        if stats.missing_serials > self.last_missing {
            log::warn(format_args!(
                "serial gaps: {} record serials missing so far ({} new): records may have been lost before they reached the agent",
                stats.missing_serials,
                stats.missing_serials - self.last_missing
            ));
            self.last_missing = stats.missing_serials;
        }
        let mut enrich = BTreeMap::new();
        for (name, n) in self.enricher.counters().iter() {
            enrich.insert(name, n);
        }
        self.counts.enrich = enrich;
        self.counts.filter_kept_for_lineage = self.filter.stats().kept_for_lineage;
        self.counts.processes = self.enricher.processes() as u64;
        if let Ok(mut s) = self.metrics.snapshot.lock() {
            *s = self.counts.clone();
        }
    }
}

fn notice_log(notice: &Notice) {
    match notice {
        Notice::Opened { path, offset, .. } => log::info(format_args!("reading {} from offset {offset}", path.display())),
        Notice::Finished { offset, .. } => log::info(format_args!("finished a rotated file at offset {offset}")),
        Notice::Truncated { offset, size, .. } => log::warn(format_args!(
            "the log was truncated (position {offset}, now {size} bytes): reading it again from the start"
        )),
        Notice::PossibleGap { checkpoint } => log::warn(format_args!(
            "the checkpointed file (inode {}, offset {}) is gone: lines between it and the oldest file left may be lost",
            checkpoint.inode, checkpoint.offset
        )),
    }
}
