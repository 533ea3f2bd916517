//! The `auditmesh` command line: argument parsing and validation, then a call into the command
//! that does the work. Exit codes: 0 success, 1 runtime error (an input could not be read, the
//! output could not be written), 2 usage error.
//!
//! Commands: `parse` (offline logs to JSON events), `agent` (the host collector), and over an
//! event store folder `ingest`, `search`, `trace`, `path`, `tree` and `export`.

mod agent_command;
mod batch;
mod export_command;
mod graph_sync;
mod ingest_command;
mod known_loss;
mod lines;
mod parse_command;
mod pipeline;
mod run_summary;
mod search_command;
mod time_arg;
mod trace_command;
mod user_db;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::parse_command::{Ended, Input, ParseJob};

#[derive(Parser)]
#[command(name = "auditmesh", version, about = "Linux kernel audit collection: parse, assemble and decode audit events")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Turn audit logs into JSON events, one per line
    #[command(long_about = PARSE_ABOUT, after_help = PARSE_EXAMPLES)]
    Parse(ParseArgs),
    /// Collect this host's audit events (netlink, audit.log, auditd plugin, go-audit) as JSON lines
    #[command(long_about = agent_command::AGENT_ABOUT, after_help = agent_command::AGENT_EXAMPLES)]
    Agent(agent_command::AgentArgs),
    /// Store audit logs in an event store (a folder)
    Ingest(ingest_command::IngestArgs),
    /// Search stored events: a table, JSON lines, counts, count-by, histograms
    #[command(long_about = search_command::SEARCH_ABOUT, after_help = search_command::SEARCH_EXAMPLES)]
    Search(search_command::SearchArgs),
    /// Trace causes (back) or effects (forward) of a file, process, event or socket
    Trace(trace_command::TraceArgs),
    /// Find how one entity reached another: a time-respecting chain of edges
    Path(trace_command::PathArgs),
    /// Print the process tree of a pid, with argv and users
    Tree(trace_command::TreeArgs),
    /// Export stored events to Parquet (DuckDB, Spark, pandas) or JSON lines
    #[command(long_about = export_command::EXPORT_ABOUT, after_help = export_command::EXPORT_EXAMPLES)]
    Export(export_command::ExportArgs),
}

const PARSE_ABOUT: &str = "\
Turn audit logs into JSON events, one per line.

Reads auditd log files (RAW or ENRICHED format, with or without node= prefixes) or standard \
input, groups records into events by (node, timestamp, serial), merges EXECVE records, decodes \
hex-encoded values, and writes one JSON object per event to standard output. Files are read in \
the order given as one stream, so give rotated logs oldest first (audit.log.2 audit.log.1 \
audit.log) and events split across them come out whole.

Nothing is dropped: a line that is not an audit record becomes a diagnostic object \
({\"diagnostic\":\"no_record_type\",\"source\":…,\"line\":…,\"raw\":…}) in the same stream, or in \
the file given with --diagnostics; events missing records are written with \"partial\":true. \
Bytes that are not UTF-8 are written as %XX and a literal % as %25.

At the end a summary (lines, records, events, partial events, loss indicators, diagnostics, \
throughput) goes to standard error.

Exit status: 0 on success, 1 if an input could not be read (the others are still processed) \
or the output could not be written, 2 on a usage error.";

const PARSE_EXAMPLES: &str = "\
Examples:
  auditmesh parse /var/log/audit/audit.log
  auditmesh parse audit.log.1 audit.log --format ecs > events.ndjson
  ausearch --raw -ts today | auditmesh parse --resolve-ids --quiet
  auditmesh parse --raw --diagnostics bad-lines.ndjson audit.log | head";

#[derive(Args)]
struct ParseArgs {
    /// Audit log files, read in order as one stream; `-` or none reads standard input
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    /// Output shape: `native` keeps auditd's records and field names, `ecs` maps to Elastic Common Schema
    #[arg(long, value_enum, default_value_t = FormatArg::Native)]
    format: FormatArg,

    /// Also write each record's original line ("raw")
    #[arg(long)]
    raw: bool,

    /// Name uids and gids from /etc/passwd and /etc/group where the log has no names
    #[arg(long)]
    resolve_ids: bool,

    /// Also print the summary as one JSON object on standard error (after the text one, unless --quiet)
    #[arg(long)]
    stats: bool,

    /// Do not print the text summary on standard error
    #[arg(long, short)]
    quiet: bool,

    /// Write diagnostics for lines that are not audit records to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    diagnostics: Option<PathBuf>,

    /// Cut lines longer than this and report them as `truncated` diagnostics
    #[arg(long, value_name = "BYTES", default_value_t = 16 << 20, value_parser = clap::value_parser!(u64).range(1..=(1 << 30)))]
    max_line_bytes: u64,

    /// Render events on N threads, plus one that reads and one that writes; 1 does all the work
    /// on one thread. The output is the same either way [default: the number of CPUs, at most 8]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,

    /// The passwd file read by --resolve-ids
    #[arg(long, value_name = "FILE", default_value = "/etc/passwd", hide = true)]
    passwd_file: PathBuf,

    /// The group file read by --resolve-ids
    #[arg(long, value_name = "FILE", default_value = "/etc/group", hide = true)]
    group_file: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Native,
    Ecs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse(args) => parse(args),
        Command::Agent(args) => agent_command::run(args),
        Command::Ingest(args) => ingest_command::run(args),
        Command::Search(args) => search_command::run(args),
        Command::Trace(args) => trace_command::run_trace(args),
        Command::Path(args) => trace_command::run_path(args),
        Command::Tree(args) => trace_command::run_tree(args),
        Command::Export(args) => export_command::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("auditmesh: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Render threads when `--threads` is not given: one per CPU, up to a point.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

fn parse(args: ParseArgs) -> anyhow::Result<ExitCode> {
    let inputs = if args.files.is_empty() {
        vec![Input::Stdin]
    } else {
        args.files.iter().map(|f| if f.as_os_str() == "-" { Input::Stdin } else { Input::File(f.clone()) }).collect()
    };
    let names: Box<dyn render::IdNames + Sync> = if args.resolve_ids {
        Box::new(user_db::UserDb::load(&args.passwd_file, &args.group_file)?)
    } else {
        Box::new(render::NoNames)
    };
    let format = match args.format {
        FormatArg::Native => render::Format::Native,
        FormatArg::Ecs => render::Format::Ecs,
    };
    let job = ParseJob {
        inputs,
        render: render::Options { raw: args.raw, format },
        max_line_bytes: usize::try_from(args.max_line_bytes)?,
        diagnostics: args.diagnostics,
        names,
        threads: args.threads.map_or_else(default_threads, usize::from),
    };
    let summary = match parse_command::run(job)? {
        Ended::Done(summary) => summary,
        Ended::BrokenPipe => return Ok(ExitCode::SUCCESS),
    };
    if !args.quiet {
        eprintln!("{}", summary.paragraph());
    }
    if args.stats {
        eprintln!("{}", summary.json());
    }
    Ok(if summary.unreadable_inputs > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Opens the event store in `dir`, warning on standard error about each damaged file it left out.
fn store_open(dir: &std::path::Path) -> anyhow::Result<store::ColumnarStore> {
    store_open_with(dir, store::Config::default())
}

fn store_open_with(dir: &std::path::Path, config: store::Config) -> anyhow::Result<store::ColumnarStore> {
    use anyhow::Context;
    let store = store::ColumnarStore::open(dir, config).with_context(|| format!("cannot open the store {}", dir.display()))?;
    for p in store.problems() {
        eprintln!("auditmesh: warning: left out of the store: {p}");
    }
    Ok(store)
}
