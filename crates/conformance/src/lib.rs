//! Conformance tests of `parse` and `assemble` against real audit logs: the shared corpus in,
//! exact values and a full accounting of every line out, plus a differential test against
//! `ausearch -i` and a tidy test of the workspace's architecture rules.
//!
//! This crate is test-only and never published. The library holds only what several test files
//! share: where the repository and the corpus are, and one run of the assembler over a log that
//! keeps every event, serial gap and framing error. It is not a helper for the product crates and
//! nothing else depends on it.

use std::path::{Path, PathBuf};

use assemble::{Assembler, Config, Event, SerialGap, Sink, Stats};
use parse::DiagnosticKind;

/// Returns the repository root (the workspace that holds `crates/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository root exists")
}

/// Returns the shared corpus folder, `../shared/corpus/` next to the repository.
///
/// Panics with instructions when it is missing: CI always has it, and a conformance run without
/// its input must fail rather than pass by testing nothing.
pub fn corpus_dir() -> PathBuf {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus"));
    assert!(
        dir.join("kernel").is_dir() && dir.join("public").is_dir(),
        "the shared audit log corpus is missing: expected `kernel/` and `public/` under {} \
         (the `shared/` folder next to the repository root). The conformance tests need it; \
         CI always provides it, so this is a failure, not a skip",
        dir.display()
    );
    dir.canonicalize().expect("the corpus folder exists")
}

/// Reads a corpus file by its path relative to the corpus folder.
pub fn read_corpus(relative: &str) -> Vec<u8> {
    let path = corpus_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read corpus file {}: {e}", path.display()))
}

/// Splits a log on `\n`; the empty piece after a final newline is not a line.
pub fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let bytes = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let empty = bytes.is_empty();
    bytes.split(|&b| b == b'\n').filter(move |_| !empty)
}

/// A [`Sink`] that keeps everything it is given.
#[derive(Default)]
pub struct Collector {
    pub events: Vec<Event>,
    pub gaps: Vec<SerialGap>,
}

impl Sink for Collector {
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }

    fn gap(&mut self, gap: SerialGap) {
        self.gaps.push(gap);
    }
}

/// Everything one assembler run produced.
pub struct Run {
    pub events: Vec<Event>,
    pub gaps: Vec<SerialGap>,
    /// Lines that could not be framed, with their bytes as the parser reported them.
    pub framing_errors: Vec<(DiagnosticKind, Vec<u8>)>,
    pub stats: Stats,
    /// The largest number of pending events seen after any push.
    pub max_pending: usize,
}

impl Run {
    /// Returns the events with this serial, in emission order.
    pub fn with_serial(&self, serial: u64) -> Vec<&Event> {
        self.events.iter().filter(|e| e.id.serial.0 == serial).collect()
    }

    /// Returns the only event with this serial; panics if there is not exactly one.
    pub fn event(&self, serial: u64) -> &Event {
        match self.with_serial(serial).as_slice() {
            [one] => one,
            other => panic!("expected exactly one event with serial {serial}, found {}", other.len()),
        }
    }
}

/// Parses and assembles `lines` with `config`, then finishes all pending events.
pub fn run_lines<'a>(lines: impl IntoIterator<Item = &'a [u8]>, config: Config) -> Run {
    let mut assembler = Assembler::new(config);
    let mut sink = Collector::default();
    let mut framing_errors = Vec::new();
    let mut max_pending = 0;
    for line in lines {
        match parse::parse_line(line) {
            Ok(record) => {
                assembler.push(&record, &mut sink);
                max_pending = max_pending.max(assembler.pending());
            }
            Err(e) => framing_errors.push((e.kind, e.line.to_vec())),
        }
    }
    assembler.finish_all(&mut sink);
    Run { events: sink.events, gaps: sink.gaps, framing_errors, stats: assembler.stats().clone(), max_pending }
}

/// Parses and assembles a whole log with `config`.
pub fn run(bytes: &[u8], config: Config) -> Run {
    run_lines(lines(bytes), config)
}

/// Parses and assembles a corpus file with the default configuration.
pub fn run_corpus(relative: &str) -> Run {
    run(&read_corpus(relative), Config::default())
}

/// `copies` of an audit log one after the other, each copy's record times `seconds_apart` and
/// its serials `serials_apart` after the copy before, so that every copy is new events (for
/// tests that need a bigger log than a capture). Lines without an `audit(` header are copied as
/// they are.
pub fn repeated(log: &[u8], copies: u64, seconds_apart: u64, serials_apart: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(log.len() * copies as usize);
    for k in 0..copies {
        for line in log.split_inclusive(|&b| b == b'\n') {
            let text = String::from_utf8_lossy(line);
            let Some(at) = text.find("audit(") else {
                out.extend_from_slice(line);
                continue;
            };
            let start = at + "audit(".len();
            let end = start + text[start..].find(')').expect("an audit( header is closed");
            let (time, serial) = text[start..end].split_once(':').expect("the header has a serial");
            let (sec, ms) = time.split_once('.').expect("the header has milliseconds");
            let sec = sec.parse::<u64>().expect("seconds are a number") + k * seconds_apart;
            let serial = serial.parse::<u64>().expect("the serial is a number") + k * serials_apart;
            out.extend_from_slice(format!("{}{sec}.{ms}:{serial}", &text[..start]).as_bytes());
            out.extend_from_slice(&line[end..]);
        }
    }
    out
}
