//! Graph build throughput on real kernel audit logs, in events per second: already assembled
//! events into `graph::Builder` (summaries, fd tables, entities, edges, reduction), then
//! `finish`. Parsing and assembly happen once, outside the measurement.
//!
//! Inputs: the repository's `fixtures/kernel/provenance-enriched/audit.log` (reads, writes, opens,
//! mmaps: the busiest case per event) and, when the shared corpus is beside the repository,
//! `../shared/corpus/kernel/benign-enriched/audit.log`. Prints each input's entity and edge counts
//! and its reduction factor (edges kept / edges offered) on standard error.

use std::hint::black_box;
use std::path::Path;

use assemble::{Assembler, Config as AsmConfig, Event};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use graph::{Builder, Config};

const INPUTS: &[(&str, &str)] = &[
    (
        "provenance-enriched",
        "../../fixtures/kernel/provenance-enriched/audit.log",
    ),
    (
        "pidreuse-raw",
        "../../fixtures/kernel/pidreuse-raw/audit.log",
    ),
    (
        "benign-enriched",
        "../../../shared/corpus/kernel/benign-enriched/audit.log",
    ),
];

fn events(data: &[u8]) -> Vec<Event> {
    let mut asm = Assembler::new(AsmConfig::default());
    let mut out: Vec<Event> = Vec::new();
    for line in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        if let Ok(record) = parse::parse_line(line) {
            asm.push(&record, &mut out);
        }
    }
    asm.finish_all(&mut out);
    out
}

fn build(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut group = c.benchmark_group("graph_build");
    for (label, rel) in INPUTS {
        let Ok(data) = std::fs::read(dir.join(rel)) else {
            continue;
        };
        let events = events(&data);
        let mut once = Builder::new(Config::default());
        for e in &events {
            once.event(e);
        }
        let g = once.finish();
        let s = g.stats();
        eprintln!(
            "{label}: {} events, {} entities, {} edge events -> {} edges (reduction factor {:.3})",
            events.len(),
            g.entity_count(),
            s.edge_events,
            g.edge_count(),
            s.reduction_factor()
        );
        group.throughput(Throughput::Elements(events.len() as u64));
        for (name, config) in [
            ("reduced", Config::default()),
            (
                "unreduced",
                Config {
                    reduce: false,
                    ..Config::default()
                },
            ),
        ] {
            group.bench_with_input(BenchmarkId::new(name, label), &events, |b, events| {
                b.iter(|| {
                    let mut builder = Builder::new(config);
                    for e in events {
                        builder.event(e);
                    }
                    black_box(builder.finish().edge_count())
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, build);
criterion_main!(benches);
