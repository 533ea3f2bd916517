//! Ingest from already-assembled events into the event store and the graph on two threads, as
//! `auditmesh ingest` runs them (the store writes batches of 10,000, each durable; the graph
//! thread builds from the accepted events and checkpoints on the geometric schedule and at the
//! end): the "from parsed events" figure of `bench/graph.sh`.
//!
//! usage: pipeline_bench LOG DIR   (DIR must not exist; it is left behind for inspection)

use std::path::Path;
use std::sync::mpsc;
use std::time::Instant;

use assemble::{Assembler, Event};
use store::{ColumnarStore, Config, EventStore};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, log, dir] = args.as_slice() else {
        eprintln!("usage: pipeline_bench LOG DIR");
        std::process::exit(2);
    };
    let bytes = std::fs::read(log).expect("read the log");
    let mut asm = Assembler::new(assemble::Config::default());
    let mut events: Vec<Event> = Vec::new();
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        if let Ok(rec) = parse::parse_line(line) {
            asm.push(&rec, &mut events);
        }
    }
    asm.finish_all(&mut events);
    drop(bytes);
    let n = events.len();
    let dir = Path::new(dir);
    let graph_dir = graphstore::graph_dir(dir);
    let mut store = ColumnarStore::open(dir, Config::default()).expect("open the store");
    let t = Instant::now();
    let (tx, rx) = mpsc::sync_channel::<(u64, Vec<Event>)>(4);
    let graph = std::thread::spawn(move || {
        let cpu0 = thread_cpu();
        let mut b = graph::Builder::new(graph::Config::default());
        let (mut since, mut at_checkpoint, mut ordinal, mut checkpoints) = (0u64, 0u64, 0u64, 0u32);
        let mut busy = 0.0;
        for (first, batch) in rx {
            let t = Instant::now();
            for e in &batch {
                b.event(e);
            }
            ordinal = first + batch.len() as u64 - 1;
            since += batch.len() as u64;
            if since >= at_checkpoint.max(1_000_000) {
                graphstore::write_checkpoint(&graph_dir, &b, ordinal).expect("checkpoint");
                checkpoints += 1;
                at_checkpoint = b.counters().events;
                since = 0;
            }
            busy += t.elapsed().as_secs_f64();
        }
        let t = Instant::now();
        let c = graphstore::write_checkpoint(&graph_dir, &b, ordinal).expect("checkpoint");
        let last = t.elapsed().as_secs_f64();
        (b, c, checkpoints + 1, busy + last, last, thread_cpu() - cpu0)
    });
    let store_cpu0 = thread_cpu();
    let mut store_s = 0.0;
    let mut events = events.into_iter();
    loop {
        // moved out in batches, and the accepted ones moved on, as `auditmesh ingest` does
        let batch: Vec<Event> = events.by_ref().take(10_000).collect();
        if batch.is_empty() {
            break;
        }
        let t = Instant::now();
        let report = store.ingest(&batch).expect("ingest");
        store_s += t.elapsed().as_secs_f64();
        let accepted: Vec<Event> = if report.duplicates == 0 {
            batch
        } else {
            let mut keep = report.accepted.iter().peekable();
            batch
                .into_iter()
                .enumerate()
                .filter(|(i, _)| keep.next_if(|&&a| a as usize == *i).is_some())
                .map(|(_, e)| e)
                .collect()
        };
        tx.send((report.first_ordinal, accepted))
            .expect("the graph thread");
    }
    let t_flush = Instant::now();
    store.flush().expect("seal");
    store_s += t_flush.elapsed().as_secs_f64();
    let store_cpu = thread_cpu() - store_cpu0;
    drop(tx);
    let (b, c, checkpoints, graph_s, last_s, graph_cpu) = graph.join().expect("the graph thread");
    let wall = t.elapsed().as_secs_f64();
    let stats = store.stats();
    println!("events                 {n}");
    println!(
        "store + graph, 2 threads {:.0} events/s ({wall:.2} s wall)",
        n as f64 / wall
    );
    println!(
        "  store thread busy    {store_s:.2} s ({:.0} events/s)",
        n as f64 / store_s
    );
    println!(
        "  graph thread busy    {graph_s:.2} s ({:.0} events/s), {checkpoints} checkpoints, the last {last_s:.2} s",
        n as f64 / graph_s
    );
    println!(
        "  CPU per event        store {:.2} µs, graph {:.2} µs ({:.0} and {:.0} events/s of one core)",
        store_cpu * 1e6 / n as f64,
        graph_cpu * 1e6 / n as f64,
        n as f64 / store_cpu,
        n as f64 / graph_cpu
    );
    println!(
        "graph                  {} entities, {} edges (reduction {:.3}), {} bytes, {:.1} bytes/event",
        b.graph().entity_count(),
        b.graph().edge_count(),
        b.graph().stats().reduction_factor(),
        c.bytes,
        c.bytes as f64 / n as f64
    );
    println!(
        "store                  {} bytes in segments + {} bytes of lines, {:.1} bytes/event without lines",
        stats.segment_bytes,
        stats.lines_bytes,
        stats.segment_bytes as f64 / n as f64
    );
}

/// CPU seconds the calling thread has run (Linux `/proc/thread-self/schedstat`; 0 elsewhere).
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 * 1e-9)
}
