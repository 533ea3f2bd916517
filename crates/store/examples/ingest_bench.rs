//! Measures ingest from already-assembled events into the store and into the provenance graph,
//! and the store's bytes per event: the "from parsed events" figures of `bench/store.sh`.
//!
//! usage: ingest_bench LOG DIR   (DIR must not exist; it is left behind for inspection)

use std::path::Path;
use std::time::Instant;

use assemble::{Assembler, Event};
use store::{ColumnarStore, Config, EventStore};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, log, dir] = args.as_slice() else {
        eprintln!("usage: ingest_bench LOG DIR");
        std::process::exit(2);
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
    let parse_s = t.elapsed().as_secs_f64();
    let n = events.len() as f64;

    let mut store = ColumnarStore::open(Path::new(dir), Config::default()).expect("open");
    let t = Instant::now();
    for batch in events.chunks(10_000) {
        store.ingest(batch).expect("ingest");
    }
    store.flush().expect("seal");
    let store_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut b = graph::Builder::new(graph::Config::default());
    for e in &events {
        b.event(e);
    }
    let g = b.finish();
    let graph_s = t.elapsed().as_secs_f64();

    let stats = store.stats();
    println!("events                 {}", events.len());
    println!("parse+assemble         {:.0} events/s", n / parse_s);
    println!(
        "store ingest           {:.0} events/s ({:.2} s, batches of 10,000, fdatasync each)",
        n / store_s,
        store_s
    );
    println!(
        "graph build            {:.0} events/s ({} entities, {} edges, reduction {:.3})",
        n / graph_s,
        g.entity_count(),
        g.edge_count(),
        g.stats().reduction_factor()
    );
    println!(
        "store + graph          {:.0} events/s",
        n / (store_s + graph_s)
    );
    println!(
        "store bytes            {} ({:.1} bytes/event, {} segments)",
        stats.segment_bytes,
        stats.segment_bytes as f64 / n,
        stats.segments
    );
}
