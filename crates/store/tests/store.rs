//! The store on logs captured from the real kernel (`fixtures/kernel/*`): exact query answers
//! checked against the events themselves, events rebuilt byte for byte, dedup on re-ingest,
//! recovery of the write-ahead log, damaged files, retention, and `kill -9` during ingest.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use assemble::summary::summarize;
use assemble::{Assembler, Event};
use store::{ColumnarStore, Config, EventStore, Field, Filter, GroupValue, Query, Retention, StoreError, StoredEvent, Value};

const PROVENANCE: &[u8] = include_bytes!("../../../fixtures/kernel/provenance-enriched/audit.log");
const PIDREUSE: &[u8] = include_bytes!("../../../fixtures/kernel/pidreuse-raw/audit.log");
const KERNEL: [&[u8]; 7] = [
    include_bytes!("../../../fixtures/kernel/exec-basic-enriched/audit.log"),
    include_bytes!("../../../fixtures/kernel/exec-basic-raw/audit.log"),
    include_bytes!("../../../fixtures/kernel/ia32-enriched/audit.log"),
    include_bytes!("../../../fixtures/kernel/longargs-enriched/audit.log"),
    include_bytes!("../../../fixtures/kernel/net-enriched/audit.log"),
    PIDREUSE,
    PROVENANCE,
];

fn events(log: &[u8]) -> Vec<Event> {
    let mut asm = Assembler::new(assemble::Config::default());
    let mut out: Vec<Event> = Vec::new();
    for line in log.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        asm.push(&parse::parse_line(line).expect("fixture lines frame"), &mut out);
    }
    asm.finish_all(&mut out);
    out
}

fn render(e: &Event) -> String {
    let mut out = Vec::new();
    render::write_event(&mut out, e, &render::Options::default(), &render::NoNames);
    String::from_utf8(out).expect("UTF-8")
}

fn open(dir: &Path, segment_rows: usize) -> ColumnarStore {
    ColumnarStore::open(dir, Config { segment_rows, ..Config::default() }).expect("open")
}

fn all(store: &ColumnarStore, q: &Query) -> Vec<StoredEvent> {
    let mut out = Vec::new();
    store
        .search(q, &mut |e| {
            out.push(e);
            true
        })
        .expect("search");
    out
}

fn text(f: Field, v: &str) -> Filter {
    Filter::Eq(f, Value::Text(v.as_bytes().to_vec()))
}

#[test]
fn every_kernel_event_comes_back_whole_sealed_or_not() {
    for (i, log) in KERNEL.iter().enumerate() {
        let evs = events(log);
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path(), 1000);
        let report = store.ingest(&evs).unwrap();
        assert_eq!((report.received, report.stored, report.duplicates), (evs.len() as u64, evs.len() as u64, 0), "log {i}");
        // some sealed (1000 per segment), the rest in the log
        let back = all(&store, &Query::all());
        assert_eq!(back.len(), evs.len(), "log {i}");
        for (k, (stored, original)) in back.iter().zip(&evs).enumerate() {
            assert_eq!(stored, &StoredEvent { ordinal: k as u64 + 1, ..StoredEvent::from_event(original) });
            assert_eq!(render(&stored.event().unwrap()), render(original), "log {i}");
        }
    }
}

#[test]
fn filters_give_the_answers_the_events_give() {
    let evs = events(PROVENANCE);
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 700);
    store.ingest(&evs).unwrap();
    store.flush().unwrap();
    assert_eq!(store.stats().segments, 2);
    let rows: Vec<StoredEvent> = evs.iter().map(StoredEvent::from_event).collect();
    let oracle = |pred: &dyn Fn(&StoredEvent) -> bool| rows.iter().filter(|r| pred(r)).count() as u64;
    let cases: Vec<(Filter, u64)> = vec![
        (Filter::All, evs.len() as u64),
        (text(Field::Exe, "/usr/bin/curl"), oracle(&|r| r.exe.as_deref() == Some(b"/usr/bin/curl"))),
        (Filter::Eq(Field::Success, Value::Bool(false)), evs.iter().filter(|e| summarize(e).and_then(|s| s.success) == Some(false)).count() as u64),
        (Filter::Prefix(Field::Path, b"/etc/".to_vec()), oracle(&|r| r.paths.iter().any(|p| p.starts_with(b"/etc/")))),
        (Filter::Contains(Field::Argv, b"curl".to_vec()), oracle(&|r| r.argv.as_ref().is_some_and(|a| a.windows(4).any(|w| w == b"curl")))),
        (Filter::Not(Box::new(Filter::Eq(Field::Uid, Value::Number(0)))), oracle(&|r| r.uid != Some(0))),
        (text(Field::Type, "EXECVE"), oracle(&|r| r.types.iter().any(|t| t == b"EXECVE"))),
        (Filter::Eq(Field::Port, Value::Number(18095)), oracle(&|r| r.port == Some(18095))),
        (text(Field::Syscall, "connect"), oracle(&|r| r.syscall.as_deref() == Some(b"connect"))),
        (text(Field::Exe, "/no/such/exe"), 0),
    ];
    for (filter, expected) in &cases {
        assert_eq!(store.count(&Query::filter(filter.clone())).unwrap(), *expected, "{filter:?}");
    }
    // the non-trivial ones are not vacuous
    assert_eq!(cases.iter().map(|c| c.1).collect::<Vec<_>>(), [1108, 189, 8, 24, 1, 2, 15, 2, 5, 0]);

    let mid = rows[rows.len() / 2].ms;
    let q = Query { since_ms: Some(mid), until_ms: None, filter: Filter::All };
    assert_eq!(store.count(&q).unwrap(), oracle(&|r| r.ms >= mid));

    let by = store.count_by(&Query::all(), &[Field::Syscall, Field::Success], Some(8)).unwrap();
    let lines: Vec<String> = by.iter().map(|g| format!("{} {}", g.values.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" "), g.count)).collect();
    insta::assert_snapshot!("provenance_count_by_syscall_success", lines.join("\n"));
    let exes = store.count_by(&Query::filter(text(Field::Syscall, "execve")), &[Field::Exe], None).unwrap();
    assert_eq!(exes.iter().map(|g| g.count).sum::<u64>(), oracle(&|r| r.syscall.as_deref() == Some(b"execve")));
    assert!(exes.iter().all(|g| matches!(g.values[0], GroupValue::Text(_))));
    let hist = store.histogram(&Query::all(), 1000).unwrap();
    assert_eq!(hist.iter().map(|h| h.1).sum::<u64>(), evs.len() as u64);
    insta::assert_snapshot!("provenance_histogram_1s", hist.iter().map(|(t, n)| format!("{t} {n}")).collect::<Vec<_>>().join("\n"));
}

#[test]
fn reingesting_the_same_input_adds_nothing_before_and_after_sealing() {
    let evs = events(PROVENANCE);
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 500);
    store.ingest(&evs[..600]).unwrap();
    let again = store.ingest(&evs).unwrap();
    assert_eq!((again.received, again.stored, again.duplicates), (1108, 508, 600));
    drop(store);
    let mut store = open(dir.path(), 500);
    let again = store.ingest(&evs).unwrap();
    assert_eq!((again.stored, again.duplicates), (0, 1108));
    assert_eq!(store.count(&Query::all()).unwrap(), 1108);
}

#[test]
fn unsealed_events_come_back_from_the_log_and_a_torn_tail_is_cut() {
    let evs = events(PROVENANCE);
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 100_000);
    store.ingest(&evs[..500]).unwrap();
    store.ingest(&evs[500..]).unwrap();
    drop(store);
    // a write that never returned: half a frame
    let wal = dir.path().join("wal");
    let mut bytes = std::fs::read(&wal).unwrap();
    let len = bytes.len() as u64;
    bytes.extend_from_slice(b"AMWL\x10\x00\x00\x00partial");
    std::fs::write(&wal, &bytes).unwrap();
    let store = open(dir.path(), 100_000);
    assert!(store.problems().is_empty());
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), len);
    assert_eq!(store.count(&Query::all()).unwrap(), 1108);
    assert_eq!(store.stats().unsealed_events, 1108);
}

#[test]
fn a_damaged_log_frame_keeps_what_came_before_and_is_set_aside() {
    let evs = events(PROVENANCE);
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 100_000);
    store.ingest(&evs[..500]).unwrap();
    let first_frame = std::fs::metadata(dir.path().join("wal")).unwrap().len() as usize;
    store.ingest(&evs[500..]).unwrap();
    drop(store);
    let wal = dir.path().join("wal");
    let mut bytes = std::fs::read(&wal).unwrap();
    bytes[first_frame + 20] ^= 0xff;
    std::fs::write(&wal, &bytes).unwrap();
    let store = open(dir.path(), 100_000);
    assert_eq!(store.count(&Query::all()).unwrap(), 500);
    match store.problems() {
        [StoreError::Corrupt { path, what }] => {
            assert_eq!(path, &wal);
            assert!(what.starts_with(&format!("frame checksum mismatch at byte {first_frame}; moved to ")), "{what}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_corrupt_segment_is_named_on_open_and_the_rest_stays_readable() {
    let evs = events(PROVENANCE);
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 300);
    store.ingest(&evs).unwrap();
    store.flush().unwrap();
    drop(store);
    let day = dir.path().join("segments").join("2026-11-21");
    let names: Vec<String> = std::fs::read_dir(&day)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".seg"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(names, ["0000000000.seg", "0000000001.seg", "0000000002.seg", "0000000003.seg"]);
    // one flipped byte inside a column of the second segment, the end marker of the third cut
    let second = day.join(&names[1]);
    let mut bytes = std::fs::read(&second).unwrap();
    bytes[100] ^= 0x01;
    std::fs::write(&second, &bytes).unwrap();
    let third = day.join(&names[2]);
    let bytes = std::fs::read(&third).unwrap();
    std::fs::write(&third, &bytes[..bytes.len() - 3]).unwrap();
    // the fourth keeps its fields when its lines file is damaged
    let fourth_lines = day.join("0000000003.lines");
    let bytes = std::fs::read(&fourth_lines).unwrap();
    std::fs::write(&fourth_lines, &bytes[..bytes.len() - 1]).unwrap();

    let store = open(dir.path(), 300);
    let named = |p: &[StoreError]| -> Vec<String> { p.iter().map(|p| p.to_string().replace(&dir.path().display().to_string(), "DIR")).collect() };
    // opening reads each file's directory: the cut end marker is found then
    assert_eq!(
        named(store.problems()),
        [
            "DIR/segments/2026-11-21/0000000002.seg: corrupt: truncated (no end marker)",
            "DIR/segments/2026-11-21/0000000003.lines: corrupt: truncated (no end marker)"
        ]
    );
    // the flipped byte when its column is read: the first search that reads it names it, and
    // the segment is left out from then on
    let with_pid = evs[..300].iter().chain(&evs[900..]).filter(|e| StoredEvent::from_event(e).pid.is_some()).count() as u64;
    assert_eq!((store.count(&Query::filter(Filter::Cmp(Field::Pid, store::Cmp::Ge, 0))).unwrap(), with_pid), (506, 506));
    assert_eq!(
        store.damaged_since_open().iter().map(|p| p.replace(&dir.path().display().to_string(), "DIR")).collect::<Vec<_>>(),
        ["DIR/segments/2026-11-21/0000000001.seg: corrupt: column 2 checksum mismatch"]
    );
    assert_eq!(store.count(&Query::all()).unwrap(), 1108 - 600);
    assert_eq!(all(&store, &Query::all()).iter().filter(|r| r.raw.is_none()).count(), 208);
    // verify reads every column
    let fresh = open(dir.path(), 300);
    assert_eq!(fresh.count(&Query::all()).unwrap(), 1108 - 300);
    let found = fresh.verify();
    assert_eq!(named(&found), ["DIR/segments/2026-11-21/0000000001.seg: corrupt: column 2 checksum mismatch"]);
    assert!(matches!(&found[0], StoreError::Corrupt { path, .. } if path == &second));
    assert_eq!(fresh.count(&Query::all()).unwrap(), 1108 - 600);
}

#[test]
fn retention_removes_old_segments_then_the_oldest_until_small_enough() {
    let evs = events(PROVENANCE);
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 300);
    store.ingest(&evs).unwrap();
    store.flush().unwrap();
    let rows: Vec<StoredEvent> = evs.iter().map(StoredEvent::from_event).collect();
    let last = rows.iter().map(|r| r.ms).max().unwrap();
    // nothing is older than a day
    let none = store.retain(&Retention { now_ms: last, max_age_ms: Some(86_400_000), max_bytes: None }).unwrap();
    assert_eq!(none, store::RetentionReport::default());
    // keep only segments whose newest event is at most 0 ms old: all but the last go
    let aged = store.retain(&Retention { now_ms: last, max_age_ms: Some(0), max_bytes: None }).unwrap();
    assert_eq!((aged.segments, aged.events), (3, 900));
    assert_eq!(store.count(&Query::all()).unwrap(), 208);
    let before = store.stats().segment_bytes + store.stats().lines_bytes;
    let sized = store.retain(&Retention { now_ms: last, max_age_ms: None, max_bytes: Some(before - 1) }).unwrap();
    assert_eq!((sized.segments, sized.events, sized.bytes), (1, 208, before));
    assert_eq!(store.count(&Query::all()).unwrap(), 0);
    assert!(!dir.path().join("segments/2026-11-21").exists());
}

#[test]
fn a_bad_query_is_an_error_not_an_empty_answer() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), 100);
    let err = store.count(&Query::filter(Filter::Prefix(Field::Pid, b"1".to_vec()))).unwrap_err();
    assert_eq!(err.to_string(), "bad query: pid is not a text field");
    assert!(!err.is_retryable());
}

const CHILD_ENV: &str = "STORE_KILL_TEST_DIR";
const BATCH: usize = 40;

/// The child of the `kill -9` test: ingests the pid-reuse log in small batches and prints how
/// many events were acknowledged after each. Does nothing unless run by that test.
#[test]
fn kill_child_ingests_until_killed() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let evs = events(PIDREUSE);
    let mut store = open(Path::new(&dir), 256);
    let mut acked = 0;
    loop {
        for chunk in evs.chunks(BATCH) {
            store.ingest(chunk).unwrap();
            acked += chunk.len();
            println!("acked {acked}");
        }
    }
}

#[test]
fn kill_9_during_ingest_loses_nothing_acknowledged_and_reingest_adds_no_duplicates() {
    let evs = events(PIDREUSE);
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "kill_child_ingests_until_killed", "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut acked = 0usize;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(n) = line.strip_prefix("acked ") {
            acked = n.parse().unwrap();
            if acked >= 1200 {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(acked >= 1200);

    let mut store = open(dir.path(), 256);
    assert!(store.problems().is_empty(), "{:?}", store.problems());
    let stored = all(&store, &Query::all());
    assert!(stored.len() >= acked, "{} stored, {acked} acknowledged", stored.len());
    // what is there is exactly the start of the input, each event once
    let expected: Vec<(u64, u64)> = evs.iter().take(stored.len()).map(|e| (e.id.time.millis, e.id.serial.0)).collect();
    let mut got: Vec<(u64, u64)> = stored.iter().map(|r| (r.ms, r.serial)).collect();
    got.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(got, want);

    let report = store.ingest(&evs).unwrap();
    assert_eq!(report.duplicates, stored.len() as u64);
    assert_eq!(store.count(&Query::all()).unwrap(), evs.len() as u64);
}

#[test]
fn the_graph_rebuilt_from_the_store_is_the_graph_of_the_log() {
    for log in [PROVENANCE, PIDREUSE] {
        let evs = events(log);
        let dir = tempfile::tempdir().unwrap();
        let mut store = open(dir.path(), 400);
        // sealed segments and unsealed events both
        store.ingest(&evs).unwrap();
        let mut direct = graph::Builder::new(graph::Config::default());
        evs.iter().for_each(|e| direct.event(e));
        let mut rebuilt = graph::Builder::new(graph::Config::default());
        store
            .search(&Query::all(), &mut |e| {
                rebuilt.event(&e.event().unwrap());
                true
            })
            .unwrap();
        assert_eq!(rebuilt.counters(), direct.counters());
        let (a, b) = (rebuilt.finish(), direct.finish());
        assert_eq!((a.entity_count(), a.edge_count(), a.stats()), (b.entity_count(), b.edge_count(), b.stats()));
        let describe = |g: &graph::Graph| g.edges().map(|(id, _)| graph::describe::edge(g, id)).collect::<Vec<_>>();
        assert_eq!(describe(&a), describe(&b));
    }
}

fn ordinals(store: &ColumnarStore) -> Vec<u64> {
    all(store, &Query::all()).iter().map(|r| r.ordinal).collect()
}

fn replay(store: &ColumnarStore, since: u64) -> Result<Vec<(u64, String)>, StoreError> {
    let mut out = Vec::new();
    store.replay_since(since, &mut |ordinal, e| {
        out.push((ordinal, render(&e)));
        true
    })?;
    Ok(out)
}

#[test]
fn ordinals_are_consecutive_in_ingest_order_across_dedup_reopen_and_retention() {
    let evs = events(PROVENANCE);
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 300);
    assert_eq!(store.last_ordinal(), 0);
    let first = store.ingest(&evs[..500]).unwrap();
    assert_eq!((first.first_ordinal, first.accepted.len(), first.accepted[0], first.accepted[499]), (1, 500, 0, 499));
    // 100 already stored, 200 new: indices 100..300 of this slice, ordinals 501..=700
    let second = store.ingest(&evs[400..700]).unwrap();
    assert_eq!((second.first_ordinal, second.duplicates), (501, 100));
    assert_eq!(second.accepted, (100..300).collect::<Vec<u32>>());
    assert_eq!(store.last_ordinal(), 700);
    drop(store);

    let mut store = open(dir.path(), 300);
    assert_eq!(store.last_ordinal(), 700);
    assert_eq!(ordinals(&store), (1..=700).collect::<Vec<u64>>());
    let none = store.ingest(&evs[..700]).unwrap();
    assert_eq!((none.first_ordinal, none.accepted.len()), (701, 0));
    let last = evs.iter().map(|e| e.id.time.millis).max().unwrap();
    // retention takes every segment; the next ordinal survives in the log's header
    store.retain(&Retention { now_ms: last + 1, max_age_ms: Some(0), max_bytes: None }).unwrap();
    assert_eq!(store.count(&Query::all()).unwrap(), 0);
    drop(store);
    let mut store = open(dir.path(), 300);
    assert_eq!(store.last_ordinal(), 700);
    let third = store.ingest(&evs[700..]).unwrap();
    assert_eq!((third.first_ordinal, third.accepted.len()), (701, 408));
    assert_eq!(ordinals(&store), (701..=1108).collect::<Vec<u64>>());
    // the events of ordinals 1..=700 are gone: a replay from 0 says so before visiting any
    assert!(matches!(replay(&store, 0), Err(StoreError::EventGone { ordinal: 1 })));
    assert_eq!(replay(&store, 700).unwrap().len(), 408);
}

#[test]
fn replay_after_a_crash_gives_every_acknowledged_event_once_in_ordinal_order() {
    let evs = events(PROVENANCE);
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 400);
    // 400 sealed, 200 in the log, then a frame whose write never returned
    store.ingest(&evs[..400]).unwrap();
    store.ingest(&evs[400..600]).unwrap();
    let wal = dir.path().join("wal");
    let acknowledged = std::fs::metadata(&wal).unwrap().len();
    store.ingest(&evs[600..700]).unwrap();
    drop(store);
    let full = std::fs::metadata(&wal).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&wal).unwrap();
    f.set_len((acknowledged + full) / 2).unwrap();
    drop(f);

    let mut store = open(dir.path(), 400);
    assert_eq!(store.last_ordinal(), 600);
    let replayed = replay(&store, 0).unwrap();
    assert_eq!(replayed.iter().map(|r| r.0).collect::<Vec<u64>>(), (1..=600).collect::<Vec<u64>>());
    let expected: Vec<String> = evs[..600].iter().map(render).collect();
    assert_eq!(replayed.iter().map(|r| r.1.clone()).collect::<Vec<_>>(), expected);
    assert_eq!(replay(&store, 590).unwrap().iter().map(|r| r.0).collect::<Vec<u64>>(), (591..=600).collect::<Vec<u64>>());
    assert_eq!(replay(&store, 600).unwrap(), []);
    // the lost frame's events come in again with the next ordinals
    let again = store.ingest(&evs[600..700]).unwrap();
    assert_eq!((again.first_ordinal, again.accepted.len()), (601, 100));
    let mut n = 0;
    assert_eq!(
        store
            .replay_since(0, &mut |_, _| {
                n += 1;
                n < 3
            })
            .unwrap(),
        3
    );
}

#[test]
fn replay_merges_the_segments_of_one_seal_by_ordinal_across_days() {
    let evs = events(PROVENANCE);
    // the same log 1,000,000 s (eleven days) earlier
    let shifted = String::from_utf8(PROVENANCE.to_vec()).unwrap().replace("audit(1795", "audit(1794");
    let earlier = events(shifted.as_bytes());
    let mixed: Vec<Event> = evs.iter().zip(&earlier).flat_map(|(a, b)| [a.clone(), b.clone()]).collect();
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 100_000);
    store.ingest(&mixed).unwrap();
    store.flush().unwrap();
    assert_eq!(store.stats().segments, 2);
    let replayed = replay(&store, 1000).unwrap();
    assert_eq!(replayed.iter().map(|r| r.0).collect::<Vec<u64>>(), (1001..=2216).collect::<Vec<u64>>());
    assert_eq!(replayed.iter().map(|r| r.1.clone()).collect::<Vec<_>>(), mixed[1000..].iter().map(render).collect::<Vec<_>>());
}

fn lines_files_bytes(dir: &Path) -> u64 {
    let day = dir.join("segments/2026-11-21");
    std::fs::read_dir(day)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "lines"))
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum()
}

#[test]
fn released_lines_leave_fields_searchable_and_replay_says_they_are_gone() {
    let evs = events(PROVENANCE);
    for keep_lines in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = ColumnarStore::open(dir.path(), Config { segment_rows: 300, keep_lines, ..Config::default() }).unwrap();
        store.ingest(&evs).unwrap();
        store.flush().unwrap();
        let before = store.stats();
        assert_eq!(before.lines_bytes, lines_files_bytes(dir.path()));
        // segments hold ordinals 1-300, 301-600, 601-900, 901-1108: the first two are through 650
        let released = store.release_lines(650).unwrap();
        let after = store.stats();
        assert_eq!(after.segment_bytes, before.segment_bytes);
        assert_eq!(after.lines_bytes, lines_files_bytes(dir.path()));
        if keep_lines {
            assert_eq!((released, after.lines_bytes), (0, before.lines_bytes));
            assert_eq!(replay(&store, 0).unwrap().len(), 1108);
            continue;
        }
        assert_eq!(released, 600);
        assert!(after.lines_bytes < before.lines_bytes * 2 / 3, "{after:?} {before:?}");
        drop(store);
        let store = open(dir.path(), 300);
        assert!(store.problems().is_empty());
        assert!(matches!(replay(&store, 0), Err(StoreError::LinesReleased { ordinal: 1 })));
        assert!(matches!(replay(&store, 599), Err(StoreError::LinesReleased { ordinal: 600 })));
        assert_eq!(replay(&store, 600).unwrap().len(), 508);
        // the fields stay; the lines are gone
        let back = all(&store, &Query::all());
        assert_eq!(back.len(), 1108);
        for (k, (stored, original)) in back.iter().zip(&evs).enumerate() {
            let mut want = StoredEvent { ordinal: k as u64 + 1, ..StoredEvent::from_event(original) };
            if k < 600 {
                want.raw = None;
                assert_eq!(stored.event().unwrap_err().to_string(), format!("the record lines of event #{} were released", k + 1));
            }
            assert_eq!(stored, &want);
        }
    }
}

#[test]
fn range_filters_give_the_answers_the_events_give() {
    use store::Cmp;
    let evs = events(PROVENANCE);
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path(), 400);
    // two segments sealed, the rest unsealed
    store.ingest(&evs).unwrap();
    let rows: Vec<StoredEvent> = evs.iter().map(StoredEvent::from_event).collect();
    let oracle = |pred: &dyn Fn(&StoredEvent) -> bool| rows.iter().filter(|r| pred(r)).count() as u64;
    let mid = rows[600].ms as i64;
    let serial = rows[300].serial as i64;
    let cases: Vec<(Filter, u64)> = vec![
        (Filter::Cmp(Field::Auid, Cmp::Ge, 1000), oracle(&|r| r.auid.is_some_and(|u| u >= 1000))),
        (Filter::Cmp(Field::Exit, Cmp::Lt, 0), oracle(&|r| r.exit.is_some_and(|e| e < 0))),
        (Filter::Cmp(Field::Pid, Cmp::Gt, 29_259), oracle(&|r| r.pid.is_some_and(|p| p > 29_259))),
        (Filter::Cmp(Field::Port, Cmp::Le, 18_095), oracle(&|r| r.port.is_some_and(|p| p <= 18_095))),
        (Filter::Cmp(Field::Serial, Cmp::Lt, serial), oracle(&|r| (r.serial as i64) < serial)),
        (Filter::Eq(Field::Serial, Value::Number(serial)), 1),
        (Filter::Cmp(Field::Time, Cmp::Ge, mid), oracle(&|r| r.ms as i64 >= mid)),
        (Filter::Cmp(Field::Time, Cmp::Lt, mid), oracle(&|r| (r.ms as i64) < mid)),
        (Filter::Cmp(Field::Time, Cmp::Gt, i64::MAX), 0),
        (Filter::Not(Box::new(Filter::Eq(Field::Uid, Value::Number(0)))), oracle(&|r| r.uid != Some(0))),
        (
            store::syntax::parse("time>=1795253260000 and auid>=1000 and exit<0").unwrap(),
            oracle(&|r| r.ms >= 1_795_253_260_000 && r.auid.is_some_and(|u| u >= 1000) && r.exit.is_some_and(|e| e < 0)),
        ),
    ];
    for (filter, expected) in &cases {
        assert_eq!(store.count(&Query::filter(filter.clone())).unwrap(), *expected, "{filter:?}");
    }
    assert_eq!(cases.iter().map(|c| c.1).collect::<Vec<_>>(), [1038, 8, 382, 2, 301, 1, 507, 601, 0, 2, 8]);
    let err = store.count(&Query::filter(Filter::Cmp(Field::Exe, Cmp::Lt, 3))).unwrap_err();
    assert_eq!(err.to_string(), "bad query: exe is not a number or time field: < does not apply");
}
