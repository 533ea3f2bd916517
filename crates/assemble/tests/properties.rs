//! Property tests of the assembler on real events: whatever the interleaving, duplication or
//! limits, every record comes out in exactly one event, and complete events come out whole.

use std::collections::BTreeMap;

use assemble::{Assembler, Config, EoeMode, Event};
use proptest::prelude::*;

/// Real events from the project's kernel fixture: SYSCALL + EXECVE… + CWD + PATH… + PROCTITLE.
fn fixture_events() -> Vec<Vec<Vec<u8>>> {
    let log = include_bytes!("../../../fixtures/kernel/exec-basic-raw/audit.log");
    let mut by_id: BTreeMap<(u64, u64), Vec<Vec<u8>>> = BTreeMap::new();
    for line in log.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let r = parse::parse_line(line).expect("fixture lines frame");
        by_id.entry((r.id.serial.0, r.id.time.millis)).or_default().push(line.to_vec());
    }
    by_id.into_values().collect()
}

fn run(lines: &[Vec<u8>], config: Config) -> (Vec<Event>, assemble::Stats) {
    let mut a = Assembler::new(config);
    let mut out = Vec::new();
    for line in lines {
        a.push(&parse::parse_line(line).expect("frames"), &mut out);
    }
    a.finish_all(&mut out);
    let stats = a.stats().clone();
    (out, stats)
}

/// Multiset of lines in the emitted events.
fn lines_out(events: &[Event]) -> BTreeMap<Vec<u8>, usize> {
    let mut m = BTreeMap::new();
    for e in events {
        for r in e.records() {
            *m.entry(r.line.to_vec()).or_insert(0) += 1;
        }
    }
    m
}

fn multiset(lines: &[Vec<u8>]) -> BTreeMap<Vec<u8>, usize> {
    let mut m = BTreeMap::new();
    for l in lines {
        *m.entry(l.clone()).or_insert(0) += 1;
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Interleaving whole events' records in any order (each event's own records stay in
    /// order, as the kernel writes them) changes nothing: same events, none partial.
    #[test]
    fn interleaving_keeps_events_whole(seed in any::<u64>(), take in 5usize..60) {
        let events = fixture_events();
        let chosen: Vec<_> = events.iter().take(take).cloned().collect();
        let mut cursors = vec![0usize; chosen.len()];
        let mut lines = Vec::new();
        let mut state = seed | 1;
        while cursors.iter().zip(&chosen).any(|(c, e)| *c < e.len()) {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            let open: Vec<usize> = (0..chosen.len()).filter(|&i| cursors[i] < chosen[i].len()).collect();
            let i = open[(state as usize) % open.len()];
            lines.push(chosen[i][cursors[i]].clone());
            cursors[i] += 1;
        }
        // The interleaving spans seconds of event time; real streams interleave within
        // milliseconds. The timeout is not what this property is about.
        let (out, stats) = run(&lines, Config { event_timeout_ms: 3_600_000, ..Config::default() });
        prop_assert_eq!(out.len(), chosen.len());
        prop_assert_eq!(stats.partial_events, 0);
        prop_assert_eq!(lines_out(&out), multiset(&lines));
    }

    /// Any subset of records, any duplication, any limits: every distinct record is emitted
    /// exactly once per event, duplicates are counted, memory stays within the limit.
    #[test]
    fn nothing_is_lost(picks in proptest::collection::vec((0usize..400, any::<bool>()), 1..300), max_pending in 1usize..20) {
        let all: Vec<Vec<u8>> = fixture_events().into_iter().flatten().collect();
        let mut lines = Vec::new();
        for (i, dup) in picks {
            let line = all[i % all.len()].clone();
            if dup { lines.push(line.clone()); }
            lines.push(line);
        }
        let config = Config { max_pending_events: max_pending, eoe: EoeMode::Never, ..Config::default() };
        let mut a = Assembler::new(config);
        let mut out = Vec::new();
        for line in &lines {
            a.push(&parse::parse_line(line).expect("frames"), &mut out);
            prop_assert!(a.pending() <= max_pending);
        }
        a.finish_all(&mut out);
        let dups: u64 = out.iter().map(|e| u64::from(e.duplicate_records)).sum();
        let emitted: usize = lines_out(&out).values().sum();
        prop_assert_eq!(emitted as u64 + dups, lines.len() as u64);
        prop_assert_eq!(a.stats().records, lines.len() as u64);
        prop_assert_eq!(a.stats().duplicate_records, dups);
        for (line, _) in multiset(&lines) {
            prop_assert!(lines_out(&out).contains_key(&line));
        }
    }
}
