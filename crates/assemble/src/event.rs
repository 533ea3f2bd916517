//! The assembled event: every record of one `(node, timestamp, serial)`, owned, in arrival order.
//!
//! The records' bytes live in one buffer per event (one copy of each line, no per-field
//! allocation); [`Event::records`] hands them out again as zero-copy [`parse::Record`]s, so
//! everything downstream reads fields with the same [`parse::Fields`] machinery as the parser.

use std::ops::Range;

use parse::Record;
use vocab::{EventId, RecordType};

use crate::execve::Argv;

/// How an event came to be complete.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Completion {
    /// Its EOE record arrived.
    Eoe,
    /// Its only record is of a type that always stands alone.
    Standalone,
    /// Its PROCTITLE arrived, which the kernel writes last (log files carry no EOE).
    Proctitle,
    /// No record arrived for it within the timeout (event time, or wall time for live sources).
    Timeout,
    /// It was pushed out to keep memory bounded.
    Evicted,
    /// The input ended.
    EndOfInput,
}

impl Completion {
    /// Returns the stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Completion::Eoe => "eoe",
            Completion::Standalone => "standalone",
            Completion::Proctitle => "proctitle",
            Completion::Timeout => "timeout",
            Completion::Evicted => "evicted",
            Completion::EndOfInput => "end_of_input",
        }
    }
}

/// Why an event is flagged partial: some of its records are most likely missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Incomplete {
    /// Records that belong to a syscall (PATH, CWD, EXECVE, …) without their SYSCALL record: the
    /// input started in the middle of the event, or the SYSCALL record was lost.
    NoSyscallRecord,
    /// Fewer PATH records than the SYSCALL record's `items=`.
    MissingPaths,
    /// The EXECVE records do not hold `argc` complete arguments.
    MissingArguments,
    /// Completed without its EOE although the source delivers EOE.
    NoEoe,
    /// Evicted before it completed.
    Evicted,
}

impl Incomplete {
    /// Returns the stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Incomplete::NoSyscallRecord => "no_syscall_record",
            Incomplete::MissingPaths => "missing_paths",
            Incomplete::MissingArguments => "missing_arguments",
            Incomplete::NoEoe => "no_eoe",
            Incomplete::Evicted => "evicted",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct RecordSlot {
    pub(crate) record_type: RecordType,
    pub(crate) line: Range<u32>,
    pub(crate) body: Range<u32>,
    pub(crate) enriched: Option<Range<u32>>,
}

/// One assembled event.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: EventId,
    pub(crate) node: Option<Range<u32>>,
    pub(crate) buf: Vec<u8>,
    pub(crate) slots: Vec<RecordSlot>,
    pub completion: Completion,
    /// Empty when the event looks whole.
    pub incomplete: Vec<Incomplete>,
    /// Byte-identical records that arrived again and were not added a second time.
    pub duplicate_records: u32,
    /// The merged EXECVE arguments, when the event has EXECVE records.
    pub argv: Option<Argv>,
}

impl Event {
    /// Returns the node the event came from, when the records named one.
    pub fn node(&self) -> Option<&[u8]> {
        self.node.as_ref().map(|r| &self.buf[r.start as usize..r.end as usize])
    }

    /// Returns true if some records are most likely missing.
    pub fn is_partial(&self) -> bool {
        !self.incomplete.is_empty()
    }

    /// Returns the number of records.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Returns true if the event has no records (never the case for an emitted event).
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Iterates over the records in arrival order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = Record<'_>> + '_ {
        self.slots.iter().map(move |s| self.view(s))
    }

    /// Returns the first record of the given type.
    pub fn first(&self, record_type: RecordType) -> Option<Record<'_>> {
        self.slots.iter().find(|s| s.record_type == record_type).map(|s| self.view(s))
    }

    /// Iterates over the records of the given type.
    pub fn all(&self, record_type: RecordType) -> impl Iterator<Item = Record<'_>> + '_ {
        self.slots.iter().filter(move |s| s.record_type == record_type).map(move |s| self.view(s))
    }

    fn view(&self, s: &RecordSlot) -> Record<'_> {
        let at = |r: &Range<u32>| &self.buf[r.start as usize..r.end as usize];
        Record {
            node: self.node(),
            record_type: s.record_type,
            id: self.id,
            body: at(&s.body),
            enriched: s.enriched.as_ref().map(at),
            line: at(&s.line),
        }
    }

    /// Total bytes of the records' lines.
    pub fn byte_len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn new(id: EventId) -> Event {
        Event {
            id,
            node: None,
            // Most events are a few records of a few hundred bytes: one allocation each.
            buf: Vec::with_capacity(1024),
            slots: Vec::with_capacity(6),
            completion: Completion::EndOfInput,
            incomplete: Vec::new(),
            duplicate_records: 0,
            argv: None,
        }
    }

    /// Copies a record in. Returns false (and counts it) when a byte-identical record is there.
    pub(crate) fn push(&mut self, record: &Record<'_>) -> bool {
        if self.slots.iter().any(|s| s.record_type == record.record_type && &self.buf[s.line.start as usize..s.line.end as usize] == record.line) {
            self.duplicate_records += 1;
            return false;
        }
        let base = self.buf.len();
        let line_start = record.line.as_ptr() as usize;
        let line_end = line_start + record.line.len();
        let within = |part: &[u8]| {
            let p = part.as_ptr() as usize;
            p >= line_start && p + part.len() <= line_end
        };
        self.buf.extend_from_slice(record.line);
        // Parts are normally slices of the line; a caller that framed them from elsewhere gets
        // them copied after the line.
        let place = |part: &[u8], buf: &mut Vec<u8>| -> Range<u32> {
            let start = if within(part) {
                base + (part.as_ptr() as usize - line_start)
            } else {
                let at = buf.len();
                buf.extend_from_slice(part);
                at
            };
            start as u32..(start + part.len()) as u32
        };
        let body = place(record.body, &mut self.buf);
        let enriched = record.enriched.map(|e| place(e, &mut self.buf));
        if self.node.is_none() {
            self.node = record.node.map(|n| place(n, &mut self.buf));
        }
        let slot = RecordSlot {
            record_type: record.record_type,
            line: base as u32..(base + record.line.len()) as u32,
            body,
            enriched,
        };
        self.slots.push(slot);
        true
    }
}
