//! `struct audit_status`: the kernel's audit state, read by `AUDIT_GET` and changed by `AUDIT_SET`.

/// `AUDIT_STATUS_*` mask bits: which fields an `AUDIT_SET` changes.
pub(crate) mod mask {
    pub const ENABLED: u32 = 0x0001;
    pub const FAILURE: u32 = 0x0002;
    pub const PID: u32 = 0x0004;
    pub const RATE_LIMIT: u32 = 0x0008;
    pub const BACKLOG_LIMIT: u32 = 0x0010;
    pub const BACKLOG_WAIT_TIME: u32 = 0x0020;
}

/// The size of `struct audit_status` on current kernels (11 `u32`s). Older kernels send fewer
/// fields; the missing ones read as 0.
pub(crate) const STATUS_LEN: usize = 44;

/// The kernel's audit status (`auditctl -s`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// 0 off, 1 on, 2 on and locked (immutable until reboot).
    pub enabled: u32,
    /// What the kernel does when it cannot send a record: 0 silent, 1 printk, 2 panic.
    pub failure: u32,
    /// The registered audit daemon's pid, 0 when none.
    pub pid: u32,
    /// Records per second, 0 for no limit.
    pub rate_limit: u32,
    /// The most records the kernel queues for the daemon.
    pub backlog_limit: u32,
    /// Records the kernel dropped since boot (or the last reset). A counter: it only grows.
    pub lost: u32,
    /// Records queued for the daemon right now.
    pub backlog: u32,
    /// Feature bitmap (the `version` field).
    pub feature_bitmap: u32,
    /// How long, in jiffies, an audited syscall waits when the backlog is full; 0 never waits.
    pub backlog_wait_time: u32,
    /// Total time syscalls spent waiting on a full backlog.
    pub backlog_wait_time_actual: u32,
}

impl Status {
    /// Reads a status from an `AUDIT_GET` reply payload; fields beyond its length read as 0.
    pub(crate) fn from_bytes(b: &[u8]) -> Status {
        let field = |i: usize| {
            b.get(4 * i..4 * i + 4)
                .map_or(0, |f| u32::from_ne_bytes([f[0], f[1], f[2], f[3]]))
        };
        Status {
            enabled: field(1),
            failure: field(2),
            pid: field(3),
            rate_limit: field(4),
            backlog_limit: field(5),
            lost: field(6),
            backlog: field(7),
            feature_bitmap: field(8),
            backlog_wait_time: field(9),
            backlog_wait_time_actual: field(10),
        }
    }
}

/// Encodes an `AUDIT_SET` request changing only the fields in `mask`.
pub(crate) fn set_request(mask: u32, status: &Status) -> [u8; STATUS_LEN] {
    let fields = [
        mask,
        status.enabled,
        status.failure,
        status.pid,
        status.rate_limit,
        status.backlog_limit,
        status.lost,
        status.backlog,
        status.feature_bitmap,
        status.backlog_wait_time,
        status.backlog_wait_time_actual,
    ];
    let mut out = [0u8; STATUS_LEN];
    for (chunk, f) in out.chunks_exact_mut(4).zip(fields) {
        chunk.copy_from_slice(&f.to_ne_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_short_replies_read_zero() {
        let s = Status {
            enabled: 1,
            pid: 42,
            lost: 7,
            backlog_wait_time: 15000,
            ..Status::default()
        };
        let bytes = set_request(mask::PID, &s);
        assert_eq!(Status::from_bytes(&bytes), s);
        assert_eq!(
            Status::from_bytes(&bytes[..32]),
            Status {
                backlog_wait_time: 0,
                ..s
            }
        );
    }
}
