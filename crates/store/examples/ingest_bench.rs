//! Measures ingest from already-assembled events into the store and into the provenance graph,
//! and the store's bytes per event: the "from parsed events" figures of `bench/store.sh`.
//!
//! usage: ingest_bench LOG DIR [RUNS] [--store-only]
//!
//! DIR must not exist; each run writes DIR/run-N (the last one is left behind for inspection).
//! The store figure is the median of RUNS runs (default 3), each from a fresh store, batches of
//! 10,000 events each durable (`fdatasync`) before the next, sealing included; CPU time is the
//! process's user + system time over the same span (the rest is waiting for the disk).

use std::path::Path;
use std::time::Instant;

use assemble::{Assembler, Event};
use store::{ColumnarStore, Config, EventStore};

/// User + system CPU seconds of this process (Linux `/proc/self/stat`, clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let fields: Vec<&str> = after.split(' ').collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let store_only = args.iter().any(|a| a == "--store-only");
    let args: Vec<&String> = args.iter().filter(|a| *a != "--store-only").collect();
    let (log, dir, runs) = match args.as_slice() {
        [_, log, dir] => (log.as_str(), dir.as_str(), 3),
        [_, log, dir, runs] => (log.as_str(), dir.as_str(), runs.parse().expect("RUNS is a number")),
        _ => {
            eprintln!("usage: ingest_bench LOG DIR [RUNS] [--store-only]");
            std::process::exit(2);
        }
    };
    let bytes = std::fs::read(log).expect("read the log");
    let t = Instant::now();
    let mut asm = Assembler::new(assemble::Config::default());
    let mut events: Vec<Event> = Vec::new();
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        if let Ok(rec) = parse::parse_line(line) {
            asm.push(&rec, &mut events);
        }
    }
    asm.finish_all(&mut events);
    drop(bytes);
    let parse_s = t.elapsed().as_secs_f64();
    let n = events.len() as f64;

    // STORE_LEVEL and STORE_LINES_LEVEL override the zstd levels, for measuring them
    let level = |var: &str, default: i32| std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let config = Config {
        level: level("STORE_LEVEL", Config::default().level),
        lines_level: level("STORE_LINES_LEVEL", Config::default().lines_level),
        ..Config::default()
    };
    let (mut walls, mut cpus) = (Vec::new(), Vec::new());
    let mut last = None;
    for run in 0..runs {
        let path = Path::new(dir).join(format!("run-{run}"));
        let mut store = ColumnarStore::open(&path, config).expect("open");
        let (t, c) = (Instant::now(), cpu_seconds());
        for batch in events.chunks(10_000) {
            store.ingest(batch).expect("ingest");
        }
        store.flush().expect("seal");
        walls.push(t.elapsed().as_secs_f64());
        cpus.push(cpu_seconds() - c);
        if let Some(prev) = last.replace((path.clone(), store.stats())) {
            std::fs::remove_dir_all(&prev.0).expect("remove an earlier run");
        }
    }
    let (store_s, store_cpu) = (median(walls.clone()), median(cpus));
    let (_, stats) = last.expect("one run");

    println!("events                 {}", events.len());
    println!("parse+assemble         {:.0} events/s", n / parse_s);
    println!(
        "store ingest           {:.0} events/s (median of {runs}: {:.2} s; CPU {:.2} s = {:.0} events/s per core; runs {})",
        n / store_s,
        store_s,
        store_cpu,
        n / store_cpu,
        walls.iter().map(|w| format!("{:.0}", n / w)).collect::<Vec<_>>().join(" ")
    );
    println!(
        "store bytes            {} ({:.1} bytes/event, {} segments); with the record lines {} ({:.1} bytes/event)",
        stats.segment_bytes,
        stats.segment_bytes as f64 / n,
        stats.segments,
        stats.segment_bytes + stats.lines_bytes,
        (stats.segment_bytes + stats.lines_bytes) as f64 / n
    );
    if store_only {
        return;
    }
    let t = Instant::now();
    let mut b = graph::Builder::new(graph::Config::default());
    for e in &events {
        b.event(e);
    }
    let g = b.finish();
    let graph_s = t.elapsed().as_secs_f64();
    println!(
        "graph build            {:.0} events/s ({} entities, {} edges, reduction {:.3})",
        n / graph_s,
        g.entity_count(),
        g.edge_count(),
        g.stats().reduction_factor()
    );
    println!(
        "store + graph          {:.0} events/s on two cores (the slower of the two), {:.0} events/s on one",
        n / store_s.max(graph_s),
        n / (store_s + graph_s)
    );
}
