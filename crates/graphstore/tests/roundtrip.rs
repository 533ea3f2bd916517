//! A graph written as a checkpoint and opened again answers exactly as the graph in memory: the
//! backward and forward traces of every entity of real kernel logs, paths, process trees and
//! name histories; a builder loaded back and given the rest of a log makes the same graph as
//! one that saw the whole log; damaged files are named.

use assemble::{Config as AsmConfig, Event};
use graph::trace::{path, trace, Direction, Limits};
use graph::tree::process_tree;
use graph::{Builder, Config, EntityId, Graph, GraphRead};
use graphstore::{
    load, write_checkpoint, write_checkpoint_with, GraphFile, GraphStoreError, WriteOptions,
};

const LOGS: [(&str, &[u8]); 4] = [
    (
        "provenance-enriched",
        include_bytes!("../../../fixtures/kernel/provenance-enriched/audit.log"),
    ),
    (
        "pidreuse-raw",
        include_bytes!("../../../fixtures/kernel/pidreuse-raw/audit.log"),
    ),
    (
        "net-enriched",
        include_bytes!("../../../fixtures/kernel/net-enriched/audit.log"),
    ),
    (
        "ia32-enriched",
        include_bytes!("../../../fixtures/kernel/ia32-enriched/audit.log"),
    ),
];

fn events(log: &[u8]) -> Vec<Event> {
    let run = conformance::run(log, AsmConfig::default());
    assert!(run.framing_errors.is_empty(), "fixture lines frame");
    run.events
}

fn build(events: &[Event]) -> Builder {
    let mut b = Builder::new(Config::default());
    for e in events {
        b.event(e);
    }
    b
}

/// Everything a trace answers, in a form two graphs can be compared by.
fn answer<G: GraphRead + ?Sized>(g: &G, id: EntityId, d: Direction, limits: &Limits) -> String {
    let t = trace(g, id, None, d, limits);
    let edges: Vec<String> = t
        .edges
        .iter()
        .map(|&e| graph::describe::edge(g, e))
        .collect();
    format!("{:?}\n{edges:?}", t)
}

fn assert_same_answers(name: &str, mem: &Graph, disk: &GraphFile) {
    assert_eq!(GraphRead::entity_count(mem), disk.entity_count(), "{name}");
    assert_eq!(GraphRead::edge_count(mem), disk.edge_count(), "{name}");
    for (id, e) in mem.entities() {
        assert_eq!(*e, *disk.entity(id), "{name}: entity {id:?}");
        if !matches!(e.detail, graph::Detail::File(_) | graph::Detail::Process(_)) {
            continue;
        }
        for d in [Direction::Back, Direction::Forward] {
            for limits in [Limits::default(), Limits::unbounded()] {
                assert_eq!(
                    answer(mem, id, d, &limits),
                    answer(disk, id, d, &limits),
                    "{name}: {d:?} trace of {}",
                    graph::describe::entity(mem, id)
                );
            }
        }
        if e.as_process().is_some() {
            assert_eq!(
                process_tree(mem, id),
                process_tree(disk, id),
                "{name}: tree of {id:?}"
            );
            let p = e.as_process().expect("a process");
            assert_eq!(
                mem.processes_with_pid(e.host, p.pid),
                GraphRead::processes_with_pid(disk, e.host, p.pid),
                "{name}"
            );
        }
        if let Some(f) = e.as_file() {
            if let Some(n) = f.name {
                let path_bytes = mem.string(n).to_vec();
                assert_eq!(
                    mem.name_history(e.host, &path_bytes),
                    &*disk.name_history(e.host, &path_bytes),
                    "{name}"
                );
            }
        }
    }
    for (from, _) in mem.entities().step_by(7) {
        for (to, _) in mem.entities().step_by(5) {
            assert_eq!(
                path(mem, from, to, &Limits::default()),
                path(disk, from, to, &Limits::default()),
                "{name}: path {from:?} {to:?}"
            );
        }
    }
    assert_eq!(mem.losses(), &*disk.losses(), "{name}");
    assert!(disk.error().is_none(), "{name}");
}

#[test]
fn a_reopened_checkpoint_answers_as_the_graph_in_memory() {
    for (name, log) in LOGS {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let b = build(&events(log));
        let written = write_checkpoint(dir.path(), &b, 42).expect("the checkpoint is written");
        assert_eq!(
            (written.ordinal, written.entities, written.edges),
            (
                42,
                b.graph().entity_count() as u64,
                b.graph().edge_count() as u64
            )
        );
        let disk = GraphFile::open(dir.path())
            .expect("it opens")
            .expect("there is a checkpoint");
        assert_eq!(disk.ordinal(), 42);
        assert_eq!(disk.stats(), b.graph().stats());
        assert_same_answers(name, b.graph(), &disk);
    }
}

#[test]
fn long_edge_lists_out_of_line_and_counted_neighbours_give_the_same_answers() {
    for (name, log) in LOGS {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let b = build(&events(log));
        let options = WriteOptions {
            neighbours_from: 1,
            big_list: 3,
        };
        write_checkpoint_with(dir.path(), &b, 7, &options).expect("the checkpoint is written");
        let disk = GraphFile::open(dir.path())
            .expect("it opens")
            .expect("there is a checkpoint");
        for (id, _) in b.graph().entities() {
            assert_eq!(
                GraphRead::neighbour_count(b.graph(), id),
                disk.neighbour_count(id),
                "{name}"
            );
            assert_eq!(GraphRead::degree(b.graph(), id), disk.degree(id), "{name}");
        }
        assert_same_answers(name, b.graph(), &disk);
    }
}

#[test]
fn a_loaded_builder_goes_on_as_if_it_had_never_stopped() {
    for (name, log) in LOGS {
        let events = events(log);
        let whole = build(&events);
        let dir = tempfile::tempdir().expect("a temporary folder");
        for cut in [1, events.len() / 3, events.len() / 2, events.len() - 1] {
            let first = build(&events[..cut]);
            write_checkpoint(dir.path(), &first, cut as u64).expect("the checkpoint is written");
            let (mut resumed, ordinal) = load(dir.path())
                .expect("it loads")
                .expect("there is a checkpoint");
            assert_eq!(ordinal, cut as u64);
            for e in &events[cut..] {
                resumed.event(e);
            }
            assert_eq!(resumed.counters(), whole.counters(), "{name} cut at {cut}");
            let (a, b) = (resumed.graph(), whole.graph());
            assert_eq!(
                a.entities().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
                b.entities().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
                "{name} cut at {cut}"
            );
            assert_eq!(
                a.edges().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
                b.edges().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
                "{name} cut at {cut}"
            );
            assert_eq!(a.stats(), b.stats(), "{name} cut at {cut}");
        }
    }
}

#[test]
fn a_damaged_block_is_an_error_naming_its_file() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let b = build(&events(LOGS[0].1));
    write_checkpoint(dir.path(), &b, 1).expect("the checkpoint is written");
    let gen = GraphFile::open(dir.path())
        .expect("it opens")
        .expect("a checkpoint")
        .dir()
        .to_path_buf();
    let edges = gen.join("edges");
    let mut bytes = std::fs::read(&edges).expect("the edges file");
    bytes[10] ^= 0xff;
    std::fs::write(&edges, &bytes).expect("written back");
    let disk = GraphFile::open(dir.path())
        .expect("the footer is intact")
        .expect("a checkpoint");
    let _ = trace(
        &disk,
        EntityId(3),
        None,
        Direction::Forward,
        &Limits::unbounded(),
    );
    match disk.error() {
        Some(GraphStoreError::Corrupt { path, what }) => {
            assert_eq!(path, edges);
            assert_eq!(what, "block 0 checksum mismatch");
        }
        other => panic!("expected a damaged edges file, got {other:?}"),
    }
    // a cut footer is found on open
    std::fs::write(&edges, &bytes[..bytes.len() - 3]).expect("cut");
    match GraphFile::open(dir.path()) {
        Err(GraphStoreError::Corrupt { path, what }) => {
            assert_eq!((path, what.as_str()), (edges, "no footer mark at the end"))
        }
        other => panic!(
            "expected a damaged edges file, got {:?}",
            other.map(|g| g.is_some())
        ),
    }
}

#[test]
fn a_checkpoint_left_behind_by_a_crash_is_replaced() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let b = build(&events(LOGS[0].1));
    write_checkpoint(dir.path(), &b, 1).expect("the first checkpoint");
    // a crash after renaming the next checkpoint and before naming it in CURRENT, and one
    // while writing the one after
    std::fs::create_dir(dir.path().join("gen-0000000001")).expect("a stale checkpoint");
    std::fs::write(dir.path().join("gen-0000000001/edges"), b"half").expect("a stale file");
    std::fs::create_dir(dir.path().join("gen-0000000001.tmp")).expect("a stale temporary");
    assert_eq!(
        GraphFile::open(dir.path())
            .expect("it opens")
            .expect("a checkpoint")
            .ordinal(),
        1
    );
    write_checkpoint(dir.path(), &b, 2).expect("the next checkpoint");
    let disk = GraphFile::open(dir.path())
        .expect("it opens")
        .expect("a checkpoint");
    assert_eq!(disk.ordinal(), 2);
    assert_same_answers("provenance-enriched", b.graph(), &disk);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["CURRENT", "gen-0000000001"]);
}
