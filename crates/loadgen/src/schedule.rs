//! The spawn schedule as pure arithmetic: tick `k` of a run at `rate` per second is due exactly
//! `k / rate` seconds after the start, and spawner thread `i` of `n` owns ticks `i, i + n, …`.
//!
//! Deadlines are computed from the tick number, never by adding an interval to the previous
//! deadline, so rounding does not accumulate (tick `rate × d` is due at exactly `d` seconds) and
//! a late spawn does not shift the ones after it. No clock and no IO here: the caller measures
//! time and passes it in.

/// A fixed-rate schedule of `total` ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Ticks per second; at least 1.
    pub rate: u64,
    /// Number of ticks in the run.
    pub total: u64,
}

impl Schedule {
    /// Returns the schedule of `rate` ticks per second for `duration_ms` milliseconds
    /// (`rate × duration_ms / 1000` ticks, rounded down).
    pub fn new(rate: u64, duration_ms: u64) -> Schedule {
        let rate = rate.max(1);
        let total = (u128::from(rate) * u128::from(duration_ms) / 1000) as u64;
        Schedule { rate, total }
    }

    /// Returns when tick `k` is due, in nanoseconds after the start.
    pub fn due_ns(&self, k: u64) -> u64 {
        (u128::from(k) * 1_000_000_000 / u128::from(self.rate)) as u64
    }

    /// Returns the ticks owned by spawner `thread` of `threads`, in order.
    pub fn ticks_of(&self, thread: u64, threads: u64) -> impl Iterator<Item = u64> {
        let threads = threads.max(1);
        (thread..self.total).step_by(threads as usize)
    }
}

/// Returns how late a spawn at `now_ns` is for a tick due at `due_ns` (0 when early or on time).
pub fn lag_ns(due_ns: u64, now_ns: u64) -> u64 {
    now_ns.saturating_sub(due_ns)
}

/// Returns the number of spawner threads to use for `rate` ticks per second when the user asks
/// for `requested` (0 = automatic: one thread per 1,500 ticks per second, at most 8).
pub fn spawner_threads(rate: u64, requested: u64) -> u64 {
    if requested > 0 {
        return requested;
    }
    rate.div_ceil(1500).clamp(1, 8)
}

/// Returns whether a run fell behind its schedule: it achieved less than 99 % of the asked rate,
/// or skipped ticks.
pub fn fell_behind(rate: u64, achieved_per_s: f64, skipped: u64) -> bool {
    skipped > 0 || achieved_per_s < rate as f64 * 0.99
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_tick_of_a_run_is_due_exactly_at_its_end_whatever_the_rate() {
        for rate in [1, 3, 7, 999, 1000, 1001, 4999, 5000, 7919, 10_000] {
            let s = Schedule::new(rate, 30_000);
            assert_eq!(s.total, rate * 30);
            assert_eq!(s.due_ns(s.total), 30_000_000_000, "rate {rate}");
        }
    }

    #[test]
    fn deadlines_do_not_drift_where_adding_a_rounded_interval_would() {
        // 1e9 / 3 rounds down to 333_333_333 ns; adding it 3,000 times would end 1 µs early.
        let s = Schedule::new(3, 1_000_000);
        assert_eq!(s.due_ns(1), 333_333_333);
        assert_eq!(s.due_ns(2), 666_666_666);
        assert_eq!(s.due_ns(3000), 1_000_000_000_000);
        assert_eq!(s.due_ns(3001), 1_000_333_333_333);
    }

    #[test]
    fn ticks_are_shared_between_threads_without_gaps_or_overlap() {
        let s = Schedule::new(1000, 1_234);
        assert_eq!(s.total, 1234);
        let mut all: Vec<u64> = (0..3).flat_map(|t| s.ticks_of(t, 3)).collect();
        assert_eq!(s.ticks_of(1, 3).take(3).collect::<Vec<_>>(), vec![1, 4, 7]);
        all.sort_unstable();
        assert_eq!(all, (0..1234).collect::<Vec<_>>());
    }

    #[test]
    fn a_fractional_duration_rounds_the_tick_count_down() {
        assert_eq!(Schedule::new(5000, 1).total, 5);
        assert_eq!(Schedule::new(3, 500).total, 1);
        assert_eq!(Schedule::new(0, 1000), Schedule { rate: 1, total: 1 });
    }

    #[test]
    fn lag_is_zero_when_on_time_or_early() {
        assert_eq!(lag_ns(1_000, 999), 0);
        assert_eq!(lag_ns(1_000, 1_000), 0);
        assert_eq!(lag_ns(1_000, 1_250), 250);
    }

    #[test]
    fn automatic_thread_count_grows_with_the_rate_and_is_capped() {
        assert_eq!(spawner_threads(100, 0), 1);
        assert_eq!(spawner_threads(1500, 0), 1);
        assert_eq!(spawner_threads(1501, 0), 2);
        assert_eq!(spawner_threads(5000, 0), 4);
        assert_eq!(spawner_threads(1_000_000, 0), 8);
        assert_eq!(spawner_threads(5000, 3), 3);
    }

    #[test]
    fn a_run_below_99_percent_of_its_rate_or_with_skipped_ticks_fell_behind() {
        assert!(!fell_behind(1000, 999.0, 0));
        assert!(!fell_behind(1000, 990.0, 0));
        assert!(fell_behind(1000, 989.9, 0));
        assert!(fell_behind(1000, 1000.0, 1));
    }
}
