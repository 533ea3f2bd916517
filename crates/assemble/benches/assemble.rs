//! Assembler throughput on a real kernel audit log, in records per second.
//!
//! Input: `../shared/corpus/kernel/benign-enriched/audit.log` beside the repository (auditd 3.0.9
//! ENRICHED format with a `node=` prefix, 18,454 records, 4.6 MB); when the shared corpus is not
//! there, the repository's own `fixtures/kernel/exec-basic-enriched/audit.log`; else the bench is
//! skipped. `bench/criterion-summary.py` turns the results into records/s and MB/s.
//!
//! Stages, each over every line of the input (line splitting included), with a fresh
//! `Assembler::new(Config::default())` and `finish_all` at the end:
//! - `parse_assemble`: `parse_line` and `push`; the sink counts events and drops them (EXECVE
//!   merging happens inside the assembler);
//! - `parse_assemble_decode`: the same, and the sink also reads every field of every record of each
//!   event (`decode` of every value, fields of nested `msg='…'` values, every field of the
//!   ENRICHED suffix, every `argv` argument) and builds the event's interpreted summary with its
//!   arch, syscall and errno names from the same pass over the fields (`summary::SummaryBuilder`,
//!   as the renderer does);
//! - `parse_assemble_decode_no_summary`: the same without the summary, to show what it costs.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assemble::summary::SummaryBuilder;
use assemble::{Assembler, Config, Event, Sink};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use parse::{decode, parse_line, Fields, Value};
use vocab::RecordType;

/// Inputs in order of preference: (label, path relative to this crate).
const INPUTS: &[(&str, &str)] = &[
    ("benign-enriched", "../../../shared/corpus/kernel/benign-enriched/audit.log"),
    ("fixture-exec-basic-enriched", "../../fixtures/kernel/exec-basic-enriched/audit.log"),
];

fn load() -> Option<(&'static str, PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    INPUTS.iter().find_map(|(label, rel)| {
        let path = dir.join(rel);
        std::fs::read(&path).ok().map(|data| (*label, path, data))
    })
}

/// Splits like a buffered reader would (memchr), keeping the `\n`.
fn lines(mut data: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        if data.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', data).map_or(data.len(), |p| p + 1);
        let (line, rest) = data.split_at(end);
        data = rest;
        Some(line)
    })
}

/// Counts events and drops them.
#[derive(Default)]
struct Count {
    events: u64,
    records: u64,
}

impl Sink for Count {
    fn event(&mut self, event: Event) {
        self.events += 1;
        self.records += event.len() as u64;
        black_box(&event);
    }
}

/// Reads everything in each event (and its summary unless `no_summary`), then drops it.
#[derive(Default)]
struct Decode {
    events: u64,
    values: u64,
    no_summary: bool,
}

fn decode_fields(rt: RecordType, fields: Fields<'_>) -> u64 {
    let mut n = 0;
    for f in fields {
        let (v, diag) = decode(rt, f.name, f.value);
        if let Value::Nested(msg) = v {
            n += decode_fields(rt, Fields::nested(msg));
        }
        black_box((&v, diag));
        n += 1;
    }
    n
}

impl Sink for Decode {
    fn event(&mut self, event: Event) {
        self.events += 1;
        let mut builder = SummaryBuilder::default();
        for r in event.records() {
            let summarized = !self.no_summary && SummaryBuilder::wants(r.record_type);
            if summarized {
                builder.begin(r.record_type);
            }
            for f in Fields::new(r.body) {
                if summarized {
                    builder.field(&f);
                }
                self.values += decode_value(r.record_type, &f);
            }
            if let Some(suffix) = r.enriched {
                for f in Fields::new(suffix) {
                    if summarized {
                        builder.enriched_field(&f);
                    }
                    black_box(&f);
                    self.values += 1;
                }
            }
            if summarized {
                builder.end();
            }
        }
        if let Some(argv) = &event.argv {
            for arg in argv.iter() {
                black_box(arg);
                self.values += 1;
            }
        }
        if let Some(s) = builder.finish() {
            black_box((s.arch_name(), s.syscall_name(), s.errno()));
            black_box(&s);
        }
        black_box(&event);
    }
}

/// Decodes one field (and the fields of a nested message); returns how many values it read.
fn decode_value(rt: RecordType, f: &parse::Field<'_>) -> u64 {
    let (v, diag) = decode(rt, f.name, f.value);
    let mut n = 1;
    if let Value::Nested(msg) = v {
        n += decode_fields(rt, Fields::nested(msg));
    }
    black_box((&v, diag));
    n
}

fn run<S: Sink>(data: &[u8], sink: &mut S) {
    let mut asm = Assembler::new(Config::default());
    for line in lines(data) {
        if let Ok(r) = parse_line(line) {
            asm.push(&r, sink);
        }
    }
    asm.finish_all(sink);
}

fn bench(c: &mut Criterion) {
    let Some((label, path, data)) = load() else {
        eprintln!("assemble bench: skipped, no input (tried {:?} relative to {})", INPUTS, env!("CARGO_MANIFEST_DIR"));
        return;
    };
    let mut count = Count::default();
    run(&data, &mut count);
    let mut dec = Decode::default();
    run(&data, &mut dec);
    eprintln!(
        "assemble bench input {label}: {} ({} bytes, {} records, {} events, {} decoded values)",
        path.display(),
        data.len(),
        count.records,
        count.events,
        dec.values,
    );
    let mut g = c.benchmark_group("assemble");
    g.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(count.records));
    g.bench_with_input(BenchmarkId::new("parse_assemble", label), &data, |b, d| {
        b.iter(|| {
            let mut sink = Count::default();
            run(d, &mut sink);
            sink.events
        })
    });
    g.bench_with_input(BenchmarkId::new("parse_assemble_decode", label), &data, |b, d| {
        b.iter(|| {
            let mut sink = Decode::default();
            run(d, &mut sink);
            sink.values
        })
    });
    g.bench_with_input(BenchmarkId::new("parse_assemble_decode_no_summary", label), &data, |b, d| {
        b.iter(|| {
            let mut sink = Decode { no_summary: true, ..Decode::default() };
            run(d, &mut sink);
            sink.values
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
