//! Loads a graph checkpoint whole and writes it again in the current format, timing both: the
//! cost of resuming an ingest on a large graph and of its final checkpoint.
//!
//! usage: rewrite_checkpoint GRAPH_DIR

use std::path::Path;
use std::time::Instant;

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: rewrite_checkpoint GRAPH_DIR");
        std::process::exit(2);
    };
    let dir = Path::new(&dir);
    let t = Instant::now();
    let (b, ordinal) = graphstore::load(dir).expect("load").expect("a checkpoint");
    let load_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let c = graphstore::write_checkpoint(dir, &b, ordinal).expect("write");
    let write_s = t.elapsed().as_secs_f64();
    println!(
        "load {load_s:.2} s, write {write_s:.2} s: {} entities, {} edges, {} bytes, ordinal {ordinal}",
        c.entities, c.edges, c.bytes
    );
}
