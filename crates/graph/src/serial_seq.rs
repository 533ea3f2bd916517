//! Where in the graph's order (`Seq`) a serial gap belongs.
//!
//! The assembler confirms a gap only once the hole is older than its timeout, many events after
//! the missing serials would have come: recorded at the builder's current `Seq`, the loss would
//! look later than it was, and traces that end before it was confirmed but after it happened
//! would not be told. So the builder remembers, per host, the serials of the events it consumed
//! as runs of consecutive serials at consecutive `Seq`s (an uninterrupted stream is one run),
//! and places a gap after the event with the highest serial below the gap's first. A bounded
//! number of runs is kept per host; a gap older than them (or one detected after the builder
//! was resumed from a checkpoint) falls back to the current `Seq`, which is what the builder
//! did before: late, never lost.

use std::collections::VecDeque;

use crate::model::{HostId, Seq};

/// Runs kept per host: out-of-order arrival starts new runs, so this bounds memory, not time.
const MAX_RUNS: usize = 4096;

/// `count` events with serials `serial..serial + count` at `seq..seq + count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Run {
    serial: u64,
    seq: u64,
    count: u64,
}

#[derive(Debug, Default)]
pub(crate) struct SerialSeqs {
    by_host: Vec<VecDeque<Run>>,
}

impl SerialSeqs {
    /// Notes that the event with `serial` on `host` was consumed at `seq`.
    pub(crate) fn note(&mut self, host: HostId, serial: u64, seq: Seq) {
        let h = host.0 as usize;
        if self.by_host.len() <= h {
            self.by_host.resize_with(h + 1, VecDeque::new);
        }
        let runs = &mut self.by_host[h];
        if let Some(last) = runs.back_mut() {
            if last.serial + last.count == serial && last.seq + last.count == seq.0 {
                last.count += 1;
                return;
            }
        }
        if runs.len() == MAX_RUNS {
            runs.pop_front();
        }
        runs.push_back(Run { serial, seq: seq.0, count: 1 });
    }

    /// The `Seq` of the event on `host` with the highest serial below `first` (the newest of
    /// several); `None` when no event kept has a serial below it. The highest serial, not the
    /// newest event: auditd's own records (DAEMON_*) count their own serials, far below the
    /// kernel's, and may come after the hole.
    pub(crate) fn before(&self, host: HostId, first: u64) -> Option<Seq> {
        let runs = self.by_host.get(host.0 as usize)?;
        runs.iter()
            .filter(|r| r.serial < first)
            .map(|r| {
                let top = (r.serial + r.count - 1).min(first - 1);
                (top, r.seq + (top - r.serial))
            })
            .max()
            .map(|(_, seq)| Seq(seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gap_goes_after_the_event_with_the_highest_serial_below_it() {
        let mut s = SerialSeqs::default();
        let (a, b) = (HostId(0), HostId(1));
        // host a: serials 10..=14 at seqs 1..=5, then 20 (after a hole) at 6, then 16 late at 7
        for (serial, seq) in [(10, 1), (11, 2), (12, 3), (13, 4), (14, 5), (20, 6), (16, 7)] {
            s.note(a, serial, Seq(seq));
        }
        s.note(b, 100, Seq(8));
        assert_eq!(s.by_host[0].len(), 3, "one run of five, then two of one");
        assert_eq!(s.before(a, 15), Some(Seq(5)));
        // 17..=19 missing: the highest serial below is the late 16
        assert_eq!(s.before(a, 17), Some(Seq(7)));
        assert_eq!(s.before(a, 12), Some(Seq(2)));
        assert_eq!(s.before(a, 10), None);
        assert_eq!(s.before(b, 101), Some(Seq(8)));
        assert_eq!(s.before(HostId(2), 5), None);
        // a far lower serial after the hole (auditd's own numbering) does not move it
        s.note(a, 3, Seq(9));
        assert_eq!(s.before(a, 17), Some(Seq(7)));
        assert_eq!(s.before(a, 10), Some(Seq(9)));
    }

    #[test]
    fn only_the_newest_runs_are_kept() {
        let mut s = SerialSeqs::default();
        let h = HostId(0);
        for i in 0..MAX_RUNS as u64 + 2 {
            s.note(h, i * 2, Seq(i + 1));
        }
        assert_eq!(s.by_host[0].len(), MAX_RUNS);
        assert_eq!(s.before(h, 1), None, "serial 0 was forgotten");
        assert_eq!(s.before(h, 5), Some(Seq(3)));
    }
}
