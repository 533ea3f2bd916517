//! Tracks the kernel's serial counter per node to notice serials that never arrived: possible
//! loss between the kernel and us.
//!
//! Records arrive out of order, so a hole is only a gap once it is older than the timeout in
//! event time; a late arrival fills it. The kernel counts in 32 bits, skips 0 on rollover, and
//! starts again on reboot: jumps beyond [`MAX_GAP`] are resets, not loss.

use std::collections::VecDeque;

/// Serials that never arrived on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SerialGap {
    /// The node's index in the assembler (0: no node name).
    pub node: u32,
    pub first: u32,
    pub count: u32,
    /// The event time when the hole was noticed.
    pub noticed_ms: u64,
}

/// A forward jump larger than this is a reset (reboot, filtered stream), not loss.
pub const MAX_GAP: u32 = 1 << 16;
/// At most this many open holes are kept per node; older ones are confirmed early.
const MAX_OPEN: usize = 1024;

#[derive(Debug, Default)]
pub(crate) struct SerialTracker {
    highest: Option<u32>,
    /// `(first, count, noticed_ms)` holes not yet confirmed.
    open: VecDeque<(u32, u32, u64)>,
    early: Vec<(u32, u32, u64)>,
}

impl SerialTracker {
    /// Notes a serial seen at event time `now_ms`; returns true on a reset.
    pub(crate) fn observe(&mut self, serial: u32, now_ms: u64) -> bool {
        let Some(highest) = self.highest else {
            self.highest = Some(serial);
            return false;
        };
        let forward = serial.wrapping_sub(highest);
        if forward == 0 {
            return false;
        }
        if forward < 1 << 31 {
            if forward > MAX_GAP {
                self.highest = Some(serial);
                return true;
            }
            let first = highest.wrapping_add(1);
            let count = forward - 1;
            // The kernel never hands out serial 0: a hole across the rollover is two holes.
            let holes = if count > 0 && first.checked_add(count - 1).is_none() {
                let to_max = u32::MAX - first + 1;
                [(first, to_max), (1, (count - to_max).saturating_sub(1))]
            } else if count > 0 && first == 0 {
                [(1, count - 1), (0, 0)]
            } else {
                [(first, count), (0, 0)]
            };
            for (first, count) in holes {
                if count > 0 {
                    self.open.push_back((first, count, now_ms));
                }
            }
            while self.open.len() > MAX_OPEN {
                let oldest = self.open.pop_front().expect("non-empty");
                self.early.push(oldest);
            }
            self.highest = Some(serial);
            return false;
        }
        let backward = highest.wrapping_sub(serial);
        if backward > MAX_GAP {
            self.highest = Some(serial);
            self.open.clear();
            return true;
        }
        self.fill(serial);
        false
    }

    fn fill(&mut self, serial: u32) {
        let Some(i) = self.open.iter().position(|&(first, count, _)| serial.wrapping_sub(first) < count) else {
            return;
        };
        let (first, count, noticed) = self.open[i];
        let before = serial.wrapping_sub(first);
        let after = count - before - 1;
        let mut replacement = Vec::with_capacity(2);
        if before > 0 {
            replacement.push((first, before, noticed));
        }
        if after > 0 {
            replacement.push((serial.wrapping_add(1), after, noticed));
        }
        self.open.remove(i);
        for (k, r) in replacement.into_iter().enumerate() {
            self.open.insert(i + k, r);
        }
    }

    pub(crate) fn confirm_older_than(&mut self, node: u32, cutoff_ms: u64) -> Vec<SerialGap> {
        let mut out: Vec<SerialGap> = self.early.drain(..).map(|(first, count, noticed_ms)| SerialGap { node, first, count, noticed_ms }).collect();
        while let Some(&(first, count, noticed_ms)) = self.open.front() {
            if noticed_ms >= cutoff_ms {
                break;
            }
            self.open.pop_front();
            out.push(SerialGap { node, first, count, noticed_ms });
        }
        out
    }

    pub(crate) fn confirm_all(&mut self, node: u32) -> Vec<SerialGap> {
        self.confirm_older_than(node, u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gaps(seq: &[u32]) -> (Vec<(u32, u32)>, bool) {
        let mut t = SerialTracker::default();
        let mut reset = false;
        for &s in seq {
            reset |= t.observe(s, 0);
        }
        (t.confirm_all(0).into_iter().map(|g| (g.first, g.count)).collect(), reset)
    }

    #[test]
    fn holes_out_of_order_fills_and_rollover() {
        assert_eq!(gaps(&[1, 2, 3]), (vec![], false));
        assert_eq!(gaps(&[1, 5]), (vec![(2, 3)], false));
        assert_eq!(gaps(&[1, 5, 3]), (vec![(2, 1), (4, 1)], false));
        assert_eq!(gaps(&[1, 3, 2]), (vec![], false));
        assert_eq!(gaps(&[u32::MAX - 1, u32::MAX, 1, 2]), (vec![], false));
        assert_eq!(gaps(&[u32::MAX - 1, 2]), (vec![(u32::MAX, 1), (1, 1)], false));
        assert_eq!(gaps(&[u32::MAX - 3, u32::MAX - 1]), (vec![(u32::MAX - 2, 1)], false));
        assert_eq!(gaps(&[100, 100 + MAX_GAP + 1]), (vec![], true));
        assert_eq!(gaps(&[1_000_000, 5]), (vec![], true));
    }
}
