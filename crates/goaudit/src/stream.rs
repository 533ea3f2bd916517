//! A go-audit stream into events: each line parsed, its records framed and pushed into an
//! [`Assembler`], each completed event handed back with its go-audit `uid_map` and `container_id`.
//!
//! go-audit writes a group only when it is whole (on the EOE it then drops, or after its own
//! two-second wait), so the assembler sees no EOE: an event completes on its PROCTITLE (held for
//! one more record, as for log files), on the event-time timeout, on a wall-time tick for live
//! sources, or at the end of the input. Every line is accounted for: in an event, as a
//! [`RejectedLine`] with its bytes, or counted as blank.

use std::collections::HashMap;

use assemble::{Assembler, Config, Event, Stats};
use vocab::EventId;

use crate::error::GoAuditError;
use crate::line::{parse_line, strip_syslog_prefix};

/// An assembled event with what go-audit added to its group.
#[derive(Clone, Debug)]
pub struct AssembledEvent {
    pub event: Event,
    /// go-audit's uid → user name map of the first line that made this event.
    pub uid_map: Vec<(String, String)>,
    pub container_id: Option<String>,
}

/// A line that is not a go-audit object, kept whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedLine {
    /// 1-based, counting every line given to the stream.
    pub line_number: u64,
    pub error: GoAuditError,
    /// The line as given, syslog prefix included, without its line end.
    pub bytes: Vec<u8>,
}

/// What a stream produced so far.
#[derive(Clone, Debug, Default)]
pub struct StreamOutput {
    pub events: Vec<AssembledEvent>,
    pub rejected: Vec<RejectedLine>,
    /// Lines given to the stream, blank ones included.
    pub lines: u64,
    /// Lines of only whitespace: nothing to keep.
    pub blank_lines: u64,
}

struct Meta {
    uid_map: Vec<(String, String)>,
    container_id: Option<String>,
}

/// Feeds go-audit lines into one [`Assembler`].
pub struct GoAuditStream {
    assembler: Assembler,
    /// go-audit's additions for events still pending in the assembler, by event id; an entry
    /// leaves when its event is emitted, so this is bounded like the assembler.
    meta: HashMap<EventId, Meta>,
    completed: Vec<Event>,
    lines: u64,
}

impl GoAuditStream {
    pub fn new(config: Config) -> GoAuditStream {
        GoAuditStream { assembler: Assembler::new(config), meta: HashMap::new(), completed: Vec::new(), lines: 0 }
    }

    /// Returns the assembler's counters.
    pub fn stats(&self) -> &Stats {
        self.assembler.stats()
    }

    /// Takes one line (a line end is allowed; a syslog prefix is stripped). Events it completes
    /// and the line itself, if rejected, go to `out`.
    pub fn push_line(&mut self, line: &[u8], out: &mut StreamOutput) {
        self.lines += 1;
        out.lines += 1;
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            out.blank_lines += 1;
            return;
        }
        let reject = |error| RejectedLine { line_number: self.lines, error, bytes: line.to_vec() };
        let group = match parse_line(strip_syslog_prefix(line)) {
            Ok(group) => group,
            Err(error) => return out.rejected.push(reject(error)),
        };
        // Frame every record before pushing any: a line goes in whole or is rejected whole.
        let mut records = Vec::with_capacity(group.len());
        for (message, record) in group.records().enumerate() {
            match record {
                Ok(record) => records.push(record),
                Err(e) => return out.rejected.push(reject(GoAuditError::Unframed { message, kind: e.kind.as_str() })),
            }
        }
        self.meta
            .entry(group.id)
            .or_insert_with(|| Meta { uid_map: group.uid_map.clone(), container_id: group.container_id.clone() });
        for record in &records {
            self.assembler.push(record, &mut self.completed);
        }
        self.drain(out);
    }

    /// Feeds every line of `input` (split at `\n`).
    pub fn push_lines(&mut self, input: &[u8], out: &mut StreamOutput) {
        let input = input.strip_suffix(b"\n").unwrap_or(input);
        if input.is_empty() {
            return;
        }
        for line in input.split(|&b| b == b'\n') {
            self.push_line(line, out);
        }
    }

    /// Live sources: passes wall time to the assembler, which completes events pending too long.
    pub fn tick(&mut self, wall_ms: u64, out: &mut StreamOutput) {
        self.assembler.tick(wall_ms, &mut self.completed);
        self.drain(out);
    }

    /// Completes every pending event (the input ended) and returns the assembler's counters.
    pub fn finish(mut self, out: &mut StreamOutput) -> Stats {
        self.assembler.finish_all(&mut self.completed);
        self.drain(out);
        self.assembler.stats().clone()
    }

    fn drain(&mut self, out: &mut StreamOutput) {
        for event in self.completed.drain(..) {
            let meta = self.meta.remove(&event.id);
            let (uid_map, container_id) = meta.map_or((Vec::new(), None), |m| (m.uid_map, m.container_id));
            out.events.push(AssembledEvent { event, uid_map, container_id });
        }
    }
}

/// Assembles a whole go-audit stream (lines split at `\n`); returns every event and rejected line,
/// and the assembler's counters.
pub fn assemble_stream(input: &[u8], config: Config) -> (StreamOutput, Stats) {
    let mut stream = GoAuditStream::new(config);
    let mut out = StreamOutput::default();
    stream.push_lines(input, &mut out);
    let stats = stream.finish(&mut out);
    (out, stats)
}
