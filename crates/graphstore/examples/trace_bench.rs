//! Times traces over a persisted graph in one process: opening the checkpoint, resolving a
//! file name, the backward trace (unbounded depth, default hub skipping), and the blocks read.
//! Each run opens the checkpoint afresh (a cold block cache; the OS page cache stays warm).
//!
//! usage: trace_bench GRAPH_DIR PATH [RUNS]

use std::path::Path;
use std::time::Instant;

use graph::trace::{trace, Direction, Limits};
use graph::{GraphRead, HostId};
use graphstore::GraphFile;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (dir, path) = match args.as_slice() {
        [_, dir, path, ..] => (dir, path),
        _ => {
            eprintln!("usage: trace_bench GRAPH_DIR PATH [RUNS]");
            std::process::exit(2);
        }
    };
    let runs: usize = args
        .get(3)
        .map_or(5, |r| r.parse().expect("a number of runs"));
    let mut times = Vec::new();
    for _ in 0..runs {
        let t0 = Instant::now();
        let g = GraphFile::open(Path::new(dir))
            .expect("open")
            .expect("a checkpoint");
        let t1 = Instant::now();
        let start = (0..g.host_count() as u32)
            .flat_map(|h| g.name_history(HostId(h), path.as_bytes()).into_owned())
            .max_by_key(|b| b.from)
            .map(|b| g.latest_version(b.file))
            .expect("a file with that name");
        let t2 = Instant::now();
        let t = trace(&g, start, None, Direction::Back, &Limits::default());
        let t3 = Instant::now();
        assert!(g.error().is_none());
        println!(
            "open {:.2} ms, name {:.2} ms, trace {:.2} ms: {} entities, {} edges, blocks read {:?}",
            (t1 - t0).as_secs_f64() * 1e3,
            (t2 - t1).as_secs_f64() * 1e3,
            (t3 - t2).as_secs_f64() * 1e3,
            t.reached.len(),
            t.edges.len(),
            g.blocks_read()
        );
        times.push((t3 - t0).as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!("median {:.2} ms", times[times.len() / 2]);
}
