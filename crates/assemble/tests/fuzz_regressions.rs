//! Replays every input the fuzzers found a crash with (`fuzz/regressions/`), through the parser
//! and the assembler, and checks that nothing was lost on the way.

use std::path::Path;

use assemble::{Assembler, Config, Event};

fn replay(input: &[u8]) -> (u64, Vec<Event>, assemble::Stats) {
    let config = Config { max_pending_events: 8, ..Config::default() };
    let mut a = Assembler::new(config);
    let mut out = Vec::new();
    let mut records = 0;
    for line in input.split(|&b| b == b'\n') {
        if let Ok(record) = parse::parse_line(line) {
            records += 1;
            a.push(&record, &mut out);
        }
    }
    a.finish_all(&mut out);
    (records, out, a.stats().clone())
}

#[test]
fn every_fuzz_regression_replays_without_loss() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut seen = 0;
    for target in std::fs::read_dir(&root).expect("fuzz/regressions exists") {
        for file in std::fs::read_dir(target.expect("entry").path()).expect("target folder") {
            let path = file.expect("entry").path();
            let input = std::fs::read(&path).expect("readable");
            let (records, events, stats) = replay(&input);
            let emitted: u64 = events.iter().map(|e| e.len() as u64).sum();
            let dups: u64 = events.iter().map(|e| u64::from(e.duplicate_records)).sum();
            assert_eq!(emitted + dups, records, "{}", path.display());
            assert_eq!(stats.records, records, "{}", path.display());
            for e in &events {
                if let Some(argv) = &e.argv {
                    assert!(argv.len() <= 4096 + 16, "{}: {} arguments", path.display(), argv.len());
                }
            }
            seen += 1;
        }
    }
    assert!(seen >= 4, "expected the committed regressions, found {seen}");
}

#[test]
fn held_user_message_merges_into_a_pending_event_of_its_serial() {
    // Found by the fuzzer: a user-space record between two records of the same serial used to
    // replace the pending event when the next record arrived.
    let input = b"type=PATH msg=audit(1.000:1): item=0\ntype=SERVICE_STOP msg=audit(1.000:1): unit=x\ntype=PATH msg=audit(1.000:1): item=1\n";
    let (_, events, _) = replay(input);
    let types: Vec<Vec<String>> = events.iter().map(|e| e.records().map(|r| r.record_type.to_string()).collect()).collect();
    assert_eq!(types, [["PATH", "SERVICE_STOP", "PATH"]]);
}
