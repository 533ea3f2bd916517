//! Metrics: counters the threads keep, and the Prometheus text exposition served over HTTP.
//!
//! The pipeline thread owns most counters and publishes a [`Snapshot`] a few times a second (no
//! atomics on its hot path); sources and the kernel status poller update their atomics directly.
//! [`serve`] answers `GET /metrics` (text format 0.0.4) and `GET /healthz` on a plain
//! `TcpListener`: one request per connection, no keep-alive, which is all Prometheus needs.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::log;

/// What the pipeline thread publishes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub records: u64,
    pub lines: u64,
    pub events: u64,
    pub events_written: u64,
    pub partial_events: u64,
    pub bytes_written: u64,
    /// Events not written, by reason (`filter`, `already_written`).
    pub dropped: BTreeMap<&'static str, u64>,
    /// Inputs that are not records, by diagnostic kind; each was written as a diagnostic.
    pub diagnostics: BTreeMap<String, u64>,
    pub serial_gaps: u64,
    pub missing_serials: u64,
    pub duplicate_records: u64,
    pub late_records: u64,
    pub evicted_events: u64,
    pub pending_events: u64,
    pub enrich: BTreeMap<&'static str, u64>,
    pub filter_kept_for_lineage: u64,
    pub processes: u64,
    pub checkpoints: u64,
    pub control_messages: u64,
}

/// Kernel audit status, as last polled.
#[derive(Debug, Default)]
pub struct KernelGauges {
    pub polled: AtomicBool,
    pub enabled: AtomicU64,
    pub lost: AtomicU64,
    pub backlog: AtomicU64,
    pub backlog_limit: AtomicU64,
    pub rate_limit: AtomicU64,
    pub backlog_wait_time: AtomicU64,
    pub backlog_wait_time_actual: AtomicU64,
    pub pid: AtomicU64,
}

/// Every metric of one agent.
#[derive(Debug, Default)]
pub struct Metrics {
    pub snapshot: Mutex<Snapshot>,
    pub kernel: KernelGauges,
    /// Chunks queued between source and pipeline.
    pub queued_chunks: Arc<AtomicU64>,
    /// Times the source found the queue full and waited.
    pub source_waits: Arc<AtomicU64>,
    /// Netlink receive buffer overruns (records dropped by the kernel for our socket).
    pub netlink_overruns: Arc<AtomicU64>,
    pub source: Mutex<&'static str>,
}

impl Metrics {
    /// Returns the Prometheus text exposition.
    pub fn render(&self) -> String {
        let s = self.snapshot.lock().map(|s| s.clone()).unwrap_or_default();
        let source = self.source.lock().map(|s| *s).unwrap_or("");
        let mut out = String::with_capacity(4096);
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP auditmesh_{name} {help}\n# TYPE auditmesh_{name} counter\nauditmesh_{name} {value}");
        };
        let gauge = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP auditmesh_{name} {help}\n# TYPE auditmesh_{name} gauge\nauditmesh_{name} {value}");
        };
        let _ = writeln!(out, "# HELP auditmesh_agent_info The agent's source.\n# TYPE auditmesh_agent_info gauge\nauditmesh_agent_info{{source=\"{source}\",version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
        counter(&mut out, "records_total", "Audit records read.", s.records);
        counter(&mut out, "lines_total", "Lines read (log-format sources).", s.lines);
        counter(&mut out, "events_total", "Events assembled.", s.events);
        counter(&mut out, "events_written_total", "Events written to the output.", s.events_written);
        counter(&mut out, "partial_events_total", "Events assembled with records missing.", s.partial_events);
        counter(&mut out, "output_bytes_total", "Bytes written to the output.", s.bytes_written);
        let _ = writeln!(out, "# HELP auditmesh_events_dropped_total Events not written, by reason.\n# TYPE auditmesh_events_dropped_total counter");
        for reason in ["filter", "already_written"] {
            let _ = writeln!(out, "auditmesh_events_dropped_total{{reason=\"{reason}\"}} {}", s.dropped.get(reason).copied().unwrap_or(0));
        }
        let _ = writeln!(out, "# HELP auditmesh_diagnostics_total Inputs that are not records, each written as a diagnostic with its raw bytes.\n# TYPE auditmesh_diagnostics_total counter");
        for (kind, n) in &s.diagnostics {
            let _ = writeln!(out, "auditmesh_diagnostics_total{{kind=\"{kind}\"}} {n}");
        }
        counter(&mut out, "serial_gaps_total", "Holes in the record serials (possible loss).", s.serial_gaps);
        counter(&mut out, "missing_serials_total", "Serials missing in those holes.", s.missing_serials);
        counter(&mut out, "duplicate_records_total", "Byte-identical records dropped.", s.duplicate_records);
        counter(&mut out, "late_records_total", "Records that arrived after their event was complete.", s.late_records);
        counter(&mut out, "evicted_events_total", "Events pushed out unfinished to bound memory.", s.evicted_events);
        gauge(&mut out, "pending_events", "Events being assembled.", s.pending_events);
        let _ = writeln!(out, "# HELP auditmesh_enrichment_total Enrichment outcomes (failures leave the field out).\n# TYPE auditmesh_enrichment_total counter");
        for (name, n) in &s.enrich {
            let _ = writeln!(out, "auditmesh_enrichment_total{{counter=\"{name}\"}} {n}");
        }
        counter(&mut out, "filter_kept_for_lineage_total", "Events the filter rules dropped but kept for process lineage.", s.filter_kept_for_lineage);
        gauge(&mut out, "processes", "Processes in the process table.", s.processes);
        counter(&mut out, "checkpoints_total", "Checkpoints stored (file source).", s.checkpoints);
        counter(&mut out, "netlink_control_messages_total", "Netlink messages that are not records.", s.control_messages);
        gauge(&mut out, "queue_chunks", "Chunks queued between the source and the pipeline.", self.queued_chunks.load(Ordering::Relaxed));
        counter(&mut out, "source_waits_total", "Times the source waited on a full queue.", self.source_waits.load(Ordering::Relaxed));
        counter(&mut out, "netlink_overruns_total", "Netlink receive buffer overruns: records the kernel dropped for our socket.", self.netlink_overruns.load(Ordering::Relaxed));
        let k = &self.kernel;
        if k.polled.load(Ordering::Relaxed) {
            gauge(&mut out, "kernel_enabled", "Kernel audit enabled (0 off, 1 on, 2 locked).", k.enabled.load(Ordering::Relaxed));
            counter(&mut out, "kernel_lost_total", "Records the kernel lost (its own counter, since boot).", k.lost.load(Ordering::Relaxed));
            gauge(&mut out, "kernel_backlog", "Records queued in the kernel for the audit daemon.", k.backlog.load(Ordering::Relaxed));
            gauge(&mut out, "kernel_backlog_limit", "The kernel's backlog limit.", k.backlog_limit.load(Ordering::Relaxed));
            gauge(&mut out, "kernel_rate_limit", "The kernel's record rate limit per second (0: none).", k.rate_limit.load(Ordering::Relaxed));
            gauge(&mut out, "kernel_backlog_wait_time", "How long (jiffies) an audited syscall waits on a full backlog.", k.backlog_wait_time.load(Ordering::Relaxed));
            counter(&mut out, "kernel_backlog_wait_time_actual_total", "Time (jiffies) audited syscalls waited on a full backlog.", k.backlog_wait_time_actual.load(Ordering::Relaxed));
            gauge(&mut out, "kernel_daemon_pid", "The registered audit daemon's pid (0: none).", k.pid.load(Ordering::Relaxed));
        }
        out
    }
}

/// Serves the metrics until `stop` is set. Runs on its own thread.
pub fn serve(listener: TcpListener, metrics: Arc<Metrics>, stop: Arc<AtomicBool>) {
    if let Err(e) = listener.set_nonblocking(true) {
        log::warn(format_args!("metrics endpoint: {e}"));
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Err(e) = answer(stream, &metrics) {
                    log::debug(format_args!("metrics request: {e}"));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                log::warn(format_args!("metrics endpoint accept: {e}"));
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

fn answer(mut stream: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut request = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 << 10 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let line = request.split(|&b| b == b'\r' || b == b'\n').next().unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let path = target.split(|&b| b == b'?').next().unwrap_or_default();
    let (status, content_type, body) = match (method, path) {
        (b"GET", b"/metrics") => ("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics.render()),
        (b"GET", b"/healthz") => ("200 OK", "text/plain; charset=utf-8", "ok\n".to_string()),
        (b"GET", _) => ("404 Not Found", "text/plain; charset=utf-8", "not found: try /metrics\n".to_string()),
        _ => ("405 Method Not Allowed", "text/plain; charset=utf-8", "only GET\n".to_string()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}
