//! Batches: the unit of work handed from the reading stage of `auditmesh parse` to rendering.
//!
//! The reading stage puts what the assembler emits, and the diagnostics of lines that cannot be
//! framed, into a batch in stream order, and starts a new one at [`MAX_ITEMS`] items or
//! [`MAX_BYTES`] bytes of input lines, whichever comes first. Batches are numbered in the order
//! they are handed off. Rendering a batch appends its JSON lines to a buffer and returns the
//! counters of damaged values it met, so batches rendered on any number of threads and written
//! in number order make exactly the output of one thread.

use std::collections::BTreeMap;
use std::ops::Range;

use assemble::Event;
use parse::DiagnosticKind;
use render::IdNames;

/// A batch is handed off once it holds this many items… (Larger batches were no faster on the
/// 100 MB benchmark and cost more memory: about 10 MB peak with 2 render threads.)
pub const MAX_ITEMS: usize = 256;
/// …or this many bytes of input lines.
pub const MAX_BYTES: usize = 512 << 10;

/// Diagnostics by kind name, as in the run summary.
pub type Counts = BTreeMap<&'static str, u64>;

/// Adds `n` to the counter of `kind`.
pub fn count(counts: &mut Counts, kind: DiagnosticKind, n: u64) {
    *counts.entry(kind.as_str()).or_insert(0) += n;
}

/// Adds every counter of `more` to `counts`.
pub fn add_counts(counts: &mut Counts, more: &Counts) {
    for (kind, n) in more {
        *counts.entry(kind).or_insert(0) += n;
    }
}

/// Events and diagnostics in stream order, numbered.
#[derive(Debug)]
pub struct Batch {
    /// The position of this batch in the output: 0, 1, 2, … without holes.
    pub seq: u64,
    items: Vec<Item>,
    /// The lines of the diagnostics in `items`, end to end (one allocation, not one each).
    raw: Vec<u8>,
    /// Bytes of input lines in `items`.
    bytes: usize,
}

#[derive(Debug)]
enum Item {
    Event(Event),
    /// A line that is not an audit record; `source` indexes [`Renderer::sources`], `raw` is in
    /// [`Batch::raw`].
    Diagnostic { kind: DiagnosticKind, source: usize, line: u64, raw: Range<usize> },
}

impl Batch {
    pub fn new(seq: u64) -> Batch {
        Batch { seq, items: Vec::with_capacity(MAX_ITEMS), raw: Vec::new(), bytes: 0 }
    }

    pub fn push_event(&mut self, event: Event) {
        self.bytes += event.byte_len();
        self.items.push(Item::Event(event));
    }

    /// Adds the diagnostic of line `line` of input `source` (an index into
    /// [`Renderer::sources`]).
    pub fn push_diagnostic(&mut self, kind: DiagnosticKind, source: usize, line: u64, raw: &[u8]) {
        let start = self.raw.len();
        self.raw.extend_from_slice(raw);
        self.bytes += raw.len();
        self.items.push(Item::Diagnostic { kind, source, line, raw: start..self.raw.len() });
    }

    pub fn is_full(&self) -> bool {
        self.items.len() >= MAX_ITEMS || self.bytes >= MAX_BYTES
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// What rendering needs besides the batch; the same for every batch, shared by the render
/// threads.
#[derive(Clone, Copy)]
pub struct Renderer<'a> {
    pub opts: render::Options,
    pub names: &'a (dyn IdNames + Sync),
    /// Input names by index: the `source` of diagnostics.
    pub sources: &'a [String],
}

impl Renderer<'_> {
    /// Appends the batch's items, in order, to `out` as JSON lines; returns the damaged values
    /// met, by kind. (Diagnostics of whole lines are counted by whoever made them.)
    pub fn render(&self, batch: Batch, out: &mut Vec<u8>) -> Counts {
        let mut counts = Counts::new();
        for item in batch.items {
            match item {
                Item::Event(event) => {
                    let problems = render::write_event(out, &event, &self.opts, self.names);
                    for (kind, n) in problems.iter() {
                        count(&mut counts, kind, u64::from(n));
                    }
                }
                Item::Diagnostic { kind, source, line, raw } => {
                    render::write_diagnostic(out, kind, &self.sources[source], line, &batch.raw[raw]);
                }
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_at_the_item_or_the_byte_limit() {
        let mut batch = Batch::new(0);
        assert!(batch.is_empty());
        for _ in 0..MAX_ITEMS - 1 {
            batch.push_diagnostic(DiagnosticKind::NoRecordType, 0, 1, b"x");
        }
        assert!(!batch.is_full());
        batch.push_diagnostic(DiagnosticKind::NoRecordType, 0, 1, b"x");
        assert!(batch.is_full());

        let mut batch = Batch::new(0);
        batch.push_diagnostic(DiagnosticKind::NoRecordType, 0, 1, &vec![b'x'; MAX_BYTES - 1]);
        assert!(!batch.is_full());
        batch.push_diagnostic(DiagnosticKind::NoRecordType, 0, 2, b"y");
        assert!(batch.is_full());
    }

    #[test]
    fn renders_diagnostics_in_order_with_their_source() {
        let mut batch = Batch::new(0);
        batch.push_diagnostic(DiagnosticKind::NoRecordType, 1, 7, b"junk");
        batch.push_diagnostic(DiagnosticKind::Truncated, 0, 9, b"type=");
        let sources = ["a.log".to_string(), "b.log".to_string()];
        let renderer = Renderer { opts: render::Options::default(), names: &render::NoNames, sources: &sources };
        let mut out = b"before\n".to_vec();
        let counts = renderer.render(batch, &mut out);
        assert!(counts.is_empty());
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "before\n\
             {\"diagnostic\":\"no_record_type\",\"source\":\"b.log\",\"line\":7,\"raw\":\"junk\"}\n\
             {\"diagnostic\":\"truncated\",\"source\":\"a.log\",\"line\":9,\"raw\":\"type=\"}\n"
        );
    }
}
