//! The agent and the kernel: opening the netlink source (own mode: registration, enabling,
//! backlog settings, rules; coexist mode: multicast), putting back what it changed, and polling
//! the kernel's audit status on a socket of its own.
//!
//! # `backlog_wait_time = 0`
//!
//! When the kernel's backlog of records for the daemon is full, an audited syscall waits up to
//! `backlog_wait_time` jiffies (default 60 s × HZ) for room: a slow collector slows the whole
//! machine. With 0, syscalls never wait on the agent; records that find the backlog full are
//! dropped by the kernel instead and counted in `lost` (exported as `auditmesh_kernel_lost_total`
//! and logged when it moves; the assembler also counts the serial gaps they leave). Pair it with a
//! large `backlog_limit` (e.g. 65536) so bursts fit. With `failure = 2` (panic on loss) it would
//! turn a burst into a kernel panic: the agent warns about that combination.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use netlink::{AuditSocket, IfHeld, Status};

use crate::config::{Config, SourceKind};
use crate::log;
use crate::metrics::Metrics;

/// What own mode changed, to put back at exit.
#[derive(Debug, Default)]
pub struct Changed {
    /// Auditing was off and the agent turned it on.
    pub enabled_before: Option<u32>,
}

/// Opens the netlink source as configured. Own mode registers this process as the audit daemon
/// (refusing when auditd holds the registration, unless `take_over`), turns auditing on if it is
/// off (`kernel.enable`) and applies the backlog settings.
pub fn open_source(config: &Config) -> Result<(AuditSocket, Changed), String> {
    let mut changed = Changed::default();
    match config.source.kind {
        SourceKind::NetlinkCoexist => {
            let mut socket = AuditSocket::open_multicast().map_err(|e| {
                format!("cannot join the kernel's audit multicast group (needs CAP_AUDIT_READ; kernel 3.16 or later): {e}")
            })?;
            if let Err(e) = socket.set_receive_buffer(config.source.receive_buffer) {
                log::warn(format_args!("cannot set the netlink receive buffer: {e}"));
            }
            Ok((socket, changed))
        }
        SourceKind::Netlink => {
            let mut socket = AuditSocket::open().map_err(|e| format!("cannot open the audit netlink socket: {e}"))?;
            if let Err(e) = socket.set_receive_buffer(config.source.receive_buffer) {
                log::warn(format_args!("cannot set the netlink receive buffer: {e}"));
            }
            let if_held = if config.source.take_over { IfHeld::TakeOver } else { IfHeld::Refuse };
            socket.register(if_held).map_err(|e| match e {
                netlink::Error::Held { pid } => format!(
                    "another audit daemon (pid {pid}, auditd?) holds the kernel's audit registration: stop it, run beside it with --source netlink-coexist or --source plugin, or set source.take_over if it is gone"
                ),
                e => format!("cannot register as the audit daemon (needs root / CAP_AUDIT_CONTROL): {e}"),
            })?;
            let status = socket.get_status().map_err(|e| format!("AUDIT_GET: {e}"))?;
            if status.enabled == 0 && config.kernel.enable {
                socket.set_enabled(1).map_err(|e| format!("cannot enable auditing: {e}"))?;
                changed.enabled_before = Some(0);
                log::info(format_args!("auditing was off: turned it on (it is turned off again at exit)"));
            }
            if let Some(limit) = config.kernel.backlog_limit {
                socket.set_backlog_limit(limit).map_err(|e| format!("kernel.backlog_limit: {e}"))?;
            }
            if let Some(wait) = config.kernel.backlog_wait_time {
                socket.set_backlog_wait_time(wait).map_err(|e| format!("kernel.backlog_wait_time: {e}"))?;
                if wait == 0 && status.failure == 2 {
                    log::warn(format_args!(
                        "backlog_wait_time is 0 and the kernel's failure mode is 2 (panic): a burst that fills the backlog will panic the kernel"
                    ));
                }
            }
            log::info(format_args!(
                "registered as the audit daemon (pid {}); backlog_limit {}, backlog_wait_time {}",
                std::process::id(),
                config.kernel.backlog_limit.unwrap_or(status.backlog_limit),
                config.kernel.backlog_wait_time.unwrap_or(status.backlog_wait_time),
            ));
            Ok((socket, changed))
        }
        other => Err(format!("source {} is not a netlink source", other.as_str())),
    }
}

/// Puts back what own mode changed (the registration itself is handed back when the source's
/// socket is dropped).
pub fn restore(changed: &Changed) {
    if let Some(enabled) = changed.enabled_before {
        match AuditSocket::open().and_then(|mut s| s.set_enabled(enabled)) {
            Ok(()) => log::info(format_args!("auditing turned off again, as it was found")),
            Err(e) => log::warn(format_args!("cannot turn auditing back off: {e}")),
        }
    }
}

/// Polls the kernel's audit status every `interval` until `stop`; logs when `lost` moves and when
/// the backlog passes half its limit.
pub fn poll_status(interval: Duration, metrics: Arc<Metrics>, stop: Arc<AtomicBool>) {
    let mut socket = match AuditSocket::open() {
        Ok(s) => s,
        Err(e) => {
            log::warn(format_args!("kernel status will not be polled: {e}"));
            return;
        }
    };
    let mut last: Option<Status> = None;
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if Instant::now() < next {
            std::thread::sleep(Duration::from_millis(50).min(interval));
            continue;
        }
        next = Instant::now() + interval;
        let status = match socket.get_status() {
            Ok(s) => s,
            Err(e) => {
                log::warn(format_args!("kernel status will not be polled any more: {e}"));
                return;
            }
        };
        let k = &metrics.kernel;
        k.enabled.store(status.enabled.into(), Ordering::Relaxed);
        k.lost.store(status.lost.into(), Ordering::Relaxed);
        k.backlog.store(status.backlog.into(), Ordering::Relaxed);
        k.backlog_limit.store(status.backlog_limit.into(), Ordering::Relaxed);
        k.rate_limit.store(status.rate_limit.into(), Ordering::Relaxed);
        k.backlog_wait_time.store(status.backlog_wait_time.into(), Ordering::Relaxed);
        k.backlog_wait_time_actual.store(status.backlog_wait_time_actual.into(), Ordering::Relaxed);
        k.pid.store(status.pid.into(), Ordering::Relaxed);
        k.polled.store(true, Ordering::Relaxed);
        match &last {
            None => log::info(format_args!(
                "kernel audit status: enabled {}, lost {}, backlog {}/{}, rate_limit {}, backlog_wait_time {}",
                status.enabled, status.lost, status.backlog, status.backlog_limit, status.rate_limit, status.backlog_wait_time
            )),
            Some(prev) => {
                if status.lost > prev.lost {
                    log::warn(format_args!(
                        "the kernel lost {} audit records since the last poll ({} since boot)",
                        status.lost - prev.lost,
                        status.lost
                    ));
                }
                let half = status.backlog_limit / 2;
                if status.backlog_limit > 0 && status.backlog > half && prev.backlog <= half {
                    log::warn(format_args!(
                        "the kernel's audit backlog is {} of {}: the collector is falling behind",
                        status.backlog, status.backlog_limit
                    ));
                }
            }
        }
        last = Some(status);
    }
}
