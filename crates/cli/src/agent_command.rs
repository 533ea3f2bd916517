//! `auditmesh agent`: the flags, laid over the YAML configuration, and the run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

pub const AGENT_ABOUT: &str = "\
Collect the host's audit events: read them from one source, assemble and enrich them, filter, \
and write JSON lines (one event per line) to a file or standard output.

Sources: `netlink` registers as the kernel's audit daemon (auditd must not run); \
`netlink-coexist` reads the kernel's multicast group beside a running auditd; `file:PATH` follows \
an audit.log across rotations with a checkpoint (a restart, also after kill -9, writes every \
event exactly once when the output is a file); `plugin` reads auditd's dispatcher on standard \
input (see the example plugins.d file shipped with auditmesh); `go-audit:PATH` reads go-audit's \
JSON lines (`-` for standard input).

Everything can be set in a YAML file (--config); the flags override it. Inputs that are not \
records are written as diagnostic objects with their raw bytes and counted. SIGTERM or SIGINT \
stop the agent cleanly: it hands the audit registration back, writes (or checkpoints) what it \
read and saves its process table.";

pub const AGENT_EXAMPLES: &str = "\
Examples:
  auditmesh agent --source netlink --output /var/log/auditmesh/events.json
  auditmesh agent --source netlink-coexist --output - | jq .summary
  auditmesh agent --source file:/var/log/audit/audit.log --output events.json --state-dir /var/lib/auditmesh
  auditmesh agent --config /etc/auditmesh/agent.yaml";

#[derive(Args)]
pub struct AgentArgs {
    /// YAML configuration file; flags given as well override it
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// netlink | netlink-coexist | plugin | file:PATH | go-audit:PATH
    #[arg(long, value_name = "SOURCE")]
    source: Option<String>,

    /// auditctl-syntax rules file to load into the kernel (netlink source)
    #[arg(long, value_name = "FILE")]
    rules: Option<PathBuf>,

    /// Where events go: a file (appended to) or - for standard output
    #[arg(long, value_name = "FILE|-")]
    output: Option<PathBuf>,

    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9469)
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<String>,

    /// State directory: host UUID, process table, file checkpoint
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,

    /// Set the kernel's backlog_wait_time to 0: audited syscalls never wait on the agent (a
    /// full backlog loses records, counted, instead)
    #[arg(long)]
    no_backlog_wait: bool,

    /// Output shape
    #[arg(long, value_enum)]
    format: Option<crate::FormatArg>,

    /// Log only warnings and errors
    #[arg(long, short)]
    quiet: bool,

    /// Print the final counters as one JSON object on standard error
    #[arg(long)]
    stats: bool,
}

pub fn run(args: AgentArgs) -> anyhow::Result<ExitCode> {
    use agent::config::{parse_source_flag, OutputFormat};
    if args.quiet {
        agent::log::set_level(agent::log::Level::Warn);
    }
    let mut config = match &args.config {
        Some(path) => agent::Config::load(path)?,
        None => agent::Config::default(),
    };
    if let Some(flag) = &args.source {
        let (kind, path) = parse_source_flag(flag).map_err(|e| anyhow::anyhow!("--source: {e}"))?;
        config.source.kind = kind;
        config.source.path = path;
    }
    if let Some(rules) = args.rules {
        config.kernel.rules = Some(rules);
    }
    if let Some(output) = args.output {
        config.output.path = output;
    }
    if let Some(addr) = args.metrics_addr {
        config.metrics.listen = Some(addr);
    }
    if let Some(dir) = args.state_dir {
        config.state_dir = dir;
    }
    if args.no_backlog_wait {
        config.kernel.backlog_wait_time = Some(0);
    }
    if let Some(format) = args.format {
        config.output.format = match format {
            crate::FormatArg::Native => OutputFormat::Native,
            crate::FormatArg::Ecs => OutputFormat::Ecs,
        };
    }
    if let Err(e) = config.validate() {
        eprintln!("auditmesh agent: invalid configuration: {e}");
        return Ok(ExitCode::from(2));
    }
    let stop = agent::stop_on_signals()?;
    let report = agent::run(config, stop)?;
    let c = &report.counts;
    agent::log::info(format_args!(
        "stopped: {} records, {} events, {} written, {} dropped by filters, {} diagnostics, {} serials missing",
        c.records,
        c.events,
        c.events_written,
        c.dropped.get("filter").copied().unwrap_or(0),
        c.diagnostics.values().sum::<u64>(),
        c.missing_serials
    ));
    if args.stats {
        let diagnostics: serde_json::Map<String, serde_json::Value> =
            c.diagnostics.iter().map(|(k, v)| (k.clone(), (*v).into())).collect();
        let stats = serde_json::json!({
            "records": c.records,
            "lines": c.lines,
            "events": c.events,
            "events_written": c.events_written,
            "partial_events": c.partial_events,
            "dropped_filter": c.dropped.get("filter").copied().unwrap_or(0),
            "already_written": c.dropped.get("already_written").copied().unwrap_or(0),
            "diagnostics": diagnostics,
            "missing_serials": c.missing_serials,
            "serial_gaps": c.serial_gaps,
            "checkpoints": c.checkpoints,
        });
        eprintln!("{stats}");
    }
    Ok(if report.source_error.is_some() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
