//! Parser throughput on a real kernel audit log, in records per second.
//!
//! Input: `../shared/corpus/kernel/benign-enriched/audit.log` beside the repository (auditd 3.0.9
//! ENRICHED format with a `node=` prefix, 18,454 records, 4.6 MB); when the shared corpus is not
//! there, the repository's own `fixtures/kernel/exec-basic-enriched/audit.log`; else the bench is
//! skipped. `bench/criterion-summary.py` turns the results into records/s and MB/s.
//!
//! Stages, each over every line of the input (line splitting included):
//! - `frame`: `parse_line`;
//! - `fields`: `parse_line` and every field of the body;
//! - `decode`: the same and `decode` of every value, with the fields of nested `msg='…'` values;
//! - `decode_enriched`: the same and every field of the ENRICHED suffix.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

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

fn frame(data: &[u8]) -> u64 {
    let mut n = 0;
    for line in lines(data) {
        if let Ok(r) = parse_line(line) {
            black_box(&r);
            n += 1;
        }
    }
    n
}

fn fields(data: &[u8]) -> u64 {
    let mut n = 0;
    for line in lines(data) {
        if let Ok(r) = parse_line(line) {
            for f in Fields::new(r.body) {
                black_box(&f);
                n += 1;
            }
        }
    }
    n
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

fn decode_all(data: &[u8], enriched: bool) -> u64 {
    let mut n = 0;
    for line in lines(data) {
        if let Ok(r) = parse_line(line) {
            n += decode_fields(r.record_type, Fields::new(r.body));
            if enriched {
                if let Some(e) = r.enriched {
                    n += decode_fields(r.record_type, Fields::new(e));
                }
            }
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let Some((label, path, data)) = load() else {
        eprintln!("parse bench: skipped, no input (tried {:?} relative to {})", INPUTS, env!("CARGO_MANIFEST_DIR"));
        return;
    };
    let records = frame(&data);
    let line_count = lines(&data).count();
    eprintln!(
        "parse bench input {label}: {} ({} bytes, {line_count} lines, {records} records, {} fields, {} decoded values)",
        path.display(),
        data.len(),
        fields(&data),
        decode_all(&data, false),
    );
    let mut g = c.benchmark_group("parse");
    g.sample_size(20).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(records));
    g.bench_with_input(BenchmarkId::new("frame", label), &data, |b, d| b.iter(|| frame(d)));
    g.bench_with_input(BenchmarkId::new("fields", label), &data, |b, d| b.iter(|| fields(d)));
    g.bench_with_input(BenchmarkId::new("decode", label), &data, |b, d| b.iter(|| decode_all(d, false)));
    g.bench_with_input(BenchmarkId::new("decode_enriched", label), &data, |b, d| b.iter(|| decode_all(d, true)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
