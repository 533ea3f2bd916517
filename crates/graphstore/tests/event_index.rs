//! Finding the edges an event made (`NODE:SERIAL`) through the checkpoint's `eventzones` table:
//! the same edges a scan of every edge finds, on every event of a real kernel log (five copies
//! of it, so that there are many edge blocks), reading one
//! or two edge blocks instead of all of them.

use std::collections::BTreeMap;

use assemble::{Assembler, Config as AsmConfig, Event};
use graph::{Builder, Config, EdgeId, GraphRead, HostId};
use graphstore::{write_checkpoint, GraphFile};

const PIDREUSE: &[u8] = include_bytes!("../../../fixtures/kernel/pidreuse-raw/audit.log");

fn builder(log: &[u8]) -> Builder {
    let mut asm = Assembler::new(AsmConfig::default());
    let mut events: Vec<Event> = Vec::new();
    for line in log.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        asm.push(&parse::parse_line(line).expect("fixture lines frame"), &mut events);
    }
    asm.finish_all(&mut events);
    let mut b = Builder::new(Config::default());
    for e in &events {
        b.event(e);
    }
    b
}

/// Every edge naming each event, newest first, by looking at each edge.
fn scan<G: GraphRead>(g: &G) -> BTreeMap<(HostId, u64), Vec<EdgeId>> {
    let mut by_event: BTreeMap<(HostId, u64), Vec<EdgeId>> = BTreeMap::new();
    for id in (0..g.edge_count() as u32).rev().map(EdgeId) {
        let e = g.edge(id);
        let mut events = vec![(e.first_event.host, e.first_event.serial), (e.last_event.host, e.last_event.serial)];
        events.dedup();
        for ev in events {
            by_event.entry(ev).or_default().push(id);
        }
    }
    by_event
}

#[test]
fn every_event_is_found_as_a_scan_finds_it_reading_few_edge_blocks() {
    let b = builder(&conformance::repeated(PIDREUSE, 5, 100, 100_000));
    let g = b.graph();
    let dir = tempfile::tempdir().unwrap();
    write_checkpoint(dir.path(), &b, 1).unwrap();
    let edge_blocks = g.edge_count().div_ceil(1024) as u64;
    assert_eq!((g.edge_count(), edge_blocks), (11_658, 12));

    let by_event = scan(g);
    let mut most_blocks = 0;
    let all = GraphFile::open(dir.path()).unwrap().expect("a checkpoint");
    for (i, (&(host, serial), expected)) in by_event.iter().enumerate() {
        assert_eq!(&all.edges_of_event(host, serial).unwrap(), expected, "serial {serial}");
        if i % 16 == 0 {
            // a fresh reader, so that its blocks read are this lookup's
            let file = GraphFile::open(dir.path()).unwrap().expect("a checkpoint");
            assert_eq!(&file.edges_of_event(host, serial).unwrap(), expected, "serial {serial}");
            most_blocks = most_blocks.max(file.blocks_read()[1]);
        }
    }
    assert_eq!(most_blocks, 3, "of {edge_blocks} edge blocks");

    // serials that made no edge: nothing, and no edge block read when no zone holds them
    let file = GraphFile::open(dir.path()).unwrap().expect("a checkpoint");
    assert_eq!(file.edges_of_event(HostId(0), 1).unwrap(), []);
    assert_eq!(file.edges_of_event(HostId(7), *by_event.keys().next().map(|(_, s)| s).unwrap()).unwrap(), []);
    assert_eq!(file.blocks_read()[1], 0);
}
