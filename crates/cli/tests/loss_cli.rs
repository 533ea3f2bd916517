//! Known loss in `auditmesh trace`: a log captured from the real kernel
//! (`fixtures/kernel/provenance-enriched`) with three events cut out (serials 11200–11202, as if
//! the kernel or the transport had dropped them) is ingested; traces that reach across the hole
//! say they may be incomplete, in text and JSON, and traces that stay on one side of it do not.
//! The gap is one loss in the persisted graph however often the log is ingested.

use std::path::Path;
use std::process::Command;

use graph::{GraphRead, HostId, Loss, LossKind};

const BIN: &str = env!("CARGO_BIN_EXE_auditmesh");
const LOG: &str = "fixtures/kernel/provenance-enriched/audit.log";
const INCOMPLETE: &str = "may be incomplete (crosses known loss)";

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// The fixture without the records of serials 11200, 11201 and 11202.
fn log_with_gap() -> Vec<u8> {
    let log = std::fs::read(root().join(LOG)).unwrap();
    let cut = [":11200):", ":11201):", ":11202):"];
    let mut out = Vec::new();
    let mut removed = 0;
    for line in log.split_inclusive(|&b| b == b'\n') {
        let text = String::from_utf8_lossy(line);
        if cut.iter().any(|c| text.contains(c)) {
            removed += 1;
        } else {
            out.extend_from_slice(line);
        }
    }
    assert_eq!(removed, 8, "the records of the three events");
    out
}

/// Runs auditmesh; returns (exit code, stdout, stderr).
fn run(args: &[&str], data: &Path) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).arg("--data").arg(data).output().expect("run auditmesh");
    (out.status.code().expect("exit code"), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn ingest(log: &Path, data: &Path) -> String {
    let (code, out, err) = run(&["ingest", "--quiet", log.to_str().unwrap()], data);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    err
}

/// The first line of the text answer and `incomplete` of the JSON answer.
fn answer(args: &[&str], data: &Path) -> (String, bool) {
    let (code, text, err) = run(args, data);
    assert_eq!(code, 0, "{args:?}: {err}");
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let (code, json, err) = run(&json_args, data);
    assert_eq!(code, 0, "{args:?}: {err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    (text.lines().next().unwrap().to_string(), v["incomplete"].as_bool().expect("incomplete"))
}

fn losses(data: &Path) -> Vec<Loss> {
    let g = graphstore::GraphFile::open(&graphstore::graph_dir(data)).unwrap().expect("a checkpoint");
    g.losses().into_owned()
}

/// The gap as the graph keeps it: after the event with serial 11199, the 419th event of the log.
fn the_gap() -> Loss {
    Loss { host: HostId(0), at: graph::Seq(419), ms: 1_795_253_260_463, kind: LossKind::SerialGap { first: 11200, count: 3 } }
}

#[test]
fn traces_across_a_serial_gap_say_incomplete_and_others_do_not() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("audit.log");
    std::fs::write(&log, log_with_gap()).unwrap();
    let d = tmp.path().join("data");
    let err = ingest(&log, &d);
    assert!(err.contains("; 1 serial gaps\n"), "{err}");
    assert_eq!(losses(&d), [the_gap()]);

    // the second file's whole history: back to before the hole
    let (head, incomplete) = answer(&["trace", "back", "/srv/amwork/wl/dl/second.txt"], &d);
    assert_eq!(
        (head.as_str(), incomplete),
        ("trace back from file /srv/amwork/wl/dl/second.txt (fe:0 inode 827450): 108 entities, 330 edges, may be incomplete (crosses known loss)", true)
    );
    // mkdir (serial 10941) before the hole: its causes are all older
    let (head, incomplete) = answer(&["trace", "back", "web-01:10941"], &d);
    assert!(!head.contains(INCOMPLETE), "{head}");
    assert_eq!((head.ends_with("32 entities, 67 edges"), incomplete), (true, false), "{head}");
    // ... but what it did afterwards may have been in the lost events
    let (head, incomplete) = answer(&["trace", "forward", "web-01:10941"], &d);
    assert_eq!((head.ends_with(INCOMPLETE), incomplete), (true, true), "{head}");
    // rm (serial 11823) after the hole: its effects are all newer, its causes are not
    let (head, incomplete) = answer(&["trace", "forward", "web-01:11823"], &d);
    assert_eq!((head.ends_with("10 entities, 9 edges"), incomplete), (true, false), "{head}");
    let (head, incomplete) = answer(&["trace", "back", "web-01:11823"], &d);
    assert_eq!((head.ends_with(INCOMPLETE), incomplete), (true, true), "{head}");

    // the same log again: every event is a duplicate, the gap is detected again and is still one
    let err = ingest(&log, &d);
    assert!(err.contains("0 stored, 1105 already in the store; 1 serial gaps\n"), "{err}");
    assert_eq!(losses(&d), [the_gap()]);
}

#[test]
fn a_gap_detected_again_after_an_interrupted_ingest_is_recorded_once() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = log_with_gap();
    // the first run stopped after the hole (its end confirmed the gap); the second ingests
    // everything: the events of the first run are duplicates, the gap is detected again
    let cut = whole.windows(b":11500):".len()).position(|w| w == b":11500):").unwrap();
    let cut = whole[..cut].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let (first, all) = (tmp.path().join("first.log"), tmp.path().join("all.log"));
    std::fs::write(&first, &whole[..cut]).unwrap();
    std::fs::write(&all, &whole).unwrap();
    let d = tmp.path().join("data");
    ingest(&first, &d);
    assert_eq!(losses(&d), [the_gap()]);
    ingest(&all, &d);
    assert_eq!(losses(&d), [the_gap()]);
    // and the answers are those of one clean ingest
    let clean = tmp.path().join("clean");
    ingest(&all, &clean);
    for args in [&["trace", "back", "/srv/amwork/wl/dl/second.txt", "--format", "json"][..], &["trace", "forward", "web-01:10941", "--format", "json"]] {
        assert_eq!(run(args, &d).1, run(args, &clean).1, "{args:?}");
    }
}

#[test]
fn a_graph_rebuilt_from_the_store_gets_the_gap_back_in_its_place_from_the_next_ingest() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("audit.log");
    std::fs::write(&log, log_with_gap()).unwrap();
    let d = tmp.path().join("data");
    let (code, _, err) = run(&["ingest", "--quiet", "--keep-lines", log.to_str().unwrap()], &d);
    assert_eq!(code, 0, "{err}");
    // the graph is lost (as if no checkpoint had been written before a crash): the next ingest
    // rebuilds it from the store, which keeps no gaps, and then detects the gap again in the
    // same input: it goes where it happened, not at the end
    std::fs::remove_dir_all(graphstore::graph_dir(&d)).unwrap();
    let err = ingest(&log, &d);
    assert!(err.contains("ingest: the graph caught up with 1105 stored events it did not have\n"), "{err}");
    assert!(err.contains("0 stored, 1105 already in the store; 1 serial gaps\n"), "{err}");
    assert_eq!(losses(&d), [the_gap()]);
    let (_, incomplete) = answer(&["trace", "back", "web-01:11823"], &d);
    assert!(incomplete);
    let (_, incomplete) = answer(&["trace", "back", "web-01:10941"], &d);
    assert!(!incomplete);
}
