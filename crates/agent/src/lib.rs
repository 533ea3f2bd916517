//! The host agent (`auditmesh agent`): reads every audit record of the host from one source,
//! assembles events, adds what only the host knows, filters, and writes JSON lines — until
//! shipping exists — while exporting Prometheus metrics.
//!
//! ```text
//!  source thread ──chunks──▶ pipeline thread ──▶ output (file / stdout)
//!  (netlink, file,  ◀─empty──  parse · assemble · enrich · filter · render · checkpoint
//!   stdin, go-audit)
//!  status thread: kernel lost/backlog ─┐
//!  metrics thread: GET /metrics ◀──────┴── Metrics
//! ```
//!
//! - [`config`]: the YAML configuration, validated with errors that name the key;
//! - `source`: the source threads (no parsing, no allocation per record);
//! - `pipeline`: everything between a record and a written line;
//! - `enrichment`: process table, containers, namespaces, users, host identity;
//! - `resume`/`output`: exactly-once across restarts for the file source;
//! - `kernel`: own/coexist netlink setup and the status poller; `metrics`: the endpoint.
//!
//! Stopping (SIGTERM, SIGINT, or the end of the input) hands back the audit daemon registration,
//! writes or checkpoints every event read, and saves the process table.

pub mod config;
mod enrichment;
mod kernel;
pub mod log;
mod metrics;
mod output;
mod pipeline;
pub mod resume;
mod source;

use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use assemble::Assembler;

pub use config::{Config, ConfigError, SourceKind};
pub use metrics::{Metrics, Snapshot};

use crate::config::OutputFormat;
use crate::output::Output;
use crate::pipeline::Pipeline;
use crate::resume::{ResumePoint, Tracker, CHECKPOINT_FILE};
use crate::source::Feed;

/// Chunks queued between the source and the pipeline.
const QUEUE_CHUNKS: usize = 64;

/// Why the agent could not run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Setting up failed (state directory, output, kernel, metrics port …).
    #[error("{0}")]
    Start(String),
    /// Writing the output failed: the run ended.
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
}

/// How a run ended.
#[derive(Debug)]
pub struct Report {
    pub counts: Snapshot,
    /// The source ended with an error (logged).
    pub source_error: Option<String>,
}

/// Registers SIGTERM and SIGINT to set the returned flag (and SIGHUP to be logged and ignored).
pub fn stop_on_signals() -> Result<Arc<AtomicBool>, Error> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| Error::Start(format!("cannot handle signal {signal}: {e}")))?;
    }
    // auditd sends SIGHUP to its plugins when it reloads; reloading is not supported (yet):
    // the flag only keeps the default action (exit) from killing the agent.
    let hup = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, hup)
        .map_err(|e| Error::Start(format!("cannot handle SIGHUP: {e}")))?;
    Ok(stop)
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Runs the agent until the source ends or `stop` is set.
pub fn run(config: Config, stop: Arc<AtomicBool>) -> Result<Report, Error> {
    config.validate()?;
    let kind = config.source.kind;
    let mut config = config;
    std::fs::create_dir_all(&config.state_dir)
        .and_then(|()| config.state_dir.canonicalize())
        .map(|dir| config.state_dir = dir)
        .map_err(|e| Error::Start(format!("state_dir {}: {e}", config.state_dir.display())))?;

    let metrics = Arc::new(Metrics::default());
    if let Ok(mut s) = metrics.source.lock() {
        *s = kind.as_str();
    }
    let listener = match &config.metrics.listen {
        Some(addr) => Some(
            TcpListener::bind(addr).map_err(|e| Error::Start(format!("metrics.listen {addr}: {e}")))?,
        ),
        None => None,
    };

    let mut output = Output::open(&config.output.path)
        .map_err(|e| Error::Start(format!("output.path {}: {e}", config.output.path.display())))?;

    // Exactly-once for followed files: the checkpoint, and what was written after it.
    let follows_file = kind == SourceKind::File
        || (kind == SourceKind::GoAudit && config.source.path.as_deref() != Some(Path::new("-")));
    let checkpoint_path = config.state_dir.join(CHECKPOINT_FILE);
    let (tracker, resume_from) = if follows_file {
        let point = ResumePoint::load(&checkpoint_path).map_err(Error::Start)?;
        let mut extra = Vec::new();
        if let Some(mark) = point.as_ref().and_then(|p| p.output) {
            match output.recover_since(mark).map_err(Error::Output)? {
                Some(found) => {
                    if found.torn_bytes > 0 {
                        log::warn(format_args!(
                            "{}: cut off a torn last line of {} bytes (its event is written again, whole)",
                            found.path.display(),
                            found.torn_bytes
                        ));
                    }
                    if found.other_lines > 0 {
                        log::info(format_args!(
                            "{} diagnostics were written after the last checkpoint; they may be written again",
                            found.other_lines
                        ));
                    }
                    if !found.keys.is_empty() {
                        log::info(format_args!(
                            "{} events were written after the last checkpoint; they are not written again",
                            found.keys.len()
                        ));
                    }
                    extra = found.keys;
                }
                None => log::warn(format_args!(
                    "the output is not the file of the last checkpoint (replaced, truncated or standard output): events written after that checkpoint may be written again"
                )),
            }
        }
        let position = point.as_ref().and_then(|p| p.position);
        (Some(Tracker::new(point.as_ref(), extra)), position)
    } else {
        (None, None)
    };
    let mut tracker = tracker;
    let follower = if follows_file {
        let path = config.source.path.clone().unwrap_or_default();
        let follow_config = follow::Config {
            backfill_rotated: config.source.backfill_rotated,
            max_line_bytes: config.source.max_line_bytes,
            ..follow::Config::new(path.clone())
        };
        let follower = follow::Follower::open(follow_config, resume_from)
            .map_err(|e| Error::Start(format!("source.path {}: {e}", path.display())))?;
        if let Some(t) = tracker.as_mut() {
            t.start_at(follower.read_position());
        }
        Some(follower)
    } else {
        None
    };

    let host: Box<dyn enrich::HostView + Send> = Box::new(enrich::ProcFs::new());
    let enricher = enrichment::Enricher::start(&config.enrichment, host, &config.state_dir, now_secs());
    let filter_set = config.filter_set()?;
    let filter = filter::Filter::new(
        filter_set,
        filter::Config {
            lineage: config.filters.lineage,
            ..filter::Config::default()
        },
    );

    // The source last: registering as the audit daemon starts the flow of records.
    let (tx, rx) = sync_channel(QUEUE_CHUNKS);
    let (free_tx, free_rx) = sync_channel(QUEUE_CHUNKS);
    let feed = Feed {
        tx,
        free: free_rx,
        stop: Arc::clone(&stop),
        queued: Arc::clone(&metrics.queued_chunks),
        waits: Arc::clone(&metrics.source_waits),
    };
    let mut changed = kernel::Changed::default();
    let source_thread = match kind {
        SourceKind::Netlink | SourceKind::NetlinkCoexist => {
            let (socket, c) = kernel::open_source(&config).map_err(Error::Start)?;
            changed = c;
            let overruns = Arc::clone(&metrics.netlink_overruns);
            std::thread::Builder::new()
                .name("source".into())
                .spawn(move || source::run_netlink(socket, feed, overruns))
        }
        SourceKind::File | SourceKind::GoAudit if follower.is_some() => {
            let follower = follower.expect("checked");
            let poll = Duration::from_millis(config.source.poll_interval_ms);
            let go_audit = kind == SourceKind::GoAudit;
            std::thread::Builder::new()
                .name("source".into())
                .spawn(move || source::run_follower(follower, feed, poll, go_audit))
        }
        SourceKind::Plugin | SourceKind::GoAudit | SourceKind::File => {
            let max = config.source.max_line_bytes;
            let go_audit = kind == SourceKind::GoAudit;
            std::thread::Builder::new()
                .name("source".into())
                .spawn(move || source::run_stdin(feed, max, go_audit))
        }
    }
    .map_err(|e| Error::Start(format!("cannot start the source thread: {e}")))?;
    log::info(format_args!(
        "started: source {}{}, output {}",
        kind.as_str(),
        config.source.path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default(),
        config.output.path.display()
    ));

    let helpers_stop = Arc::new(AtomicBool::new(false));
    let mut helpers = Vec::new();
    if config.kernel.status_interval_ms > 0 && (kind.is_netlink() || unsafe { libc::geteuid() } == 0) {
        let (m, s) = (Arc::clone(&metrics), Arc::clone(&helpers_stop));
        let interval = Duration::from_millis(config.kernel.status_interval_ms);
        helpers.push(std::thread::spawn(move || kernel::poll_status(interval, m, s)));
    }
    if let Some(listener) = listener {
        let (m, s) = (Arc::clone(&metrics), Arc::clone(&helpers_stop));
        helpers.push(std::thread::spawn(move || metrics::serve(listener, m, s)));
    }

    let pipeline = Pipeline {
        assembler: Assembler::new(assemble::Config::default()),
        enricher,
        filter,
        output,
        render: render::Options {
            raw: config.output.raw,
            format: match config.output.format {
                OutputFormat::Native => render::Format::Native,
                OutputFormat::Ecs => render::Format::Ecs,
            },
        },
        tracker,
        checkpoint_path: follows_file.then_some(checkpoint_path),
        source_name: kind.as_str(),
        metrics: Arc::clone(&metrics),
        counts: Snapshot::default(),
        events: Vec::new(),
        members: Vec::new(),
        last_missing: 0,
        in_long_line: false,
    };
    let ended = pipeline.run(rx, free_tx, Arc::clone(&stop));
    // Stop the source (also when the pipeline failed) and hand the registration back.
    stop.store(true, Ordering::Relaxed);
    // A standard-input source may be blocked in a read: it is left to end with the process.
    if follows_file || kind.is_netlink() {
        let _ = source_thread.join();
    }
    kernel::restore(&changed);
    helpers_stop.store(true, Ordering::Relaxed);
    for h in helpers {
        let _ = h.join();
    }
    let ended = ended.map_err(Error::Output)?;
    Ok(Report {
        counts: ended.counts,
        source_error: ended.source_error,
    })
}
