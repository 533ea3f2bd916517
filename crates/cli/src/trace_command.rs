//! `auditmesh trace back|forward ENTITY` and `auditmesh tree PID`: the provenance graph built
//! with the `graph` crate from the stored events of the window asked for (`--since`/`--until`,
//! all events by default). The graph is not persisted yet: each run rebuilds it from the store.
//!
//! ENTITY is a file path (`/etc/passwd`), a process (`pid:1234`, its newest version, or
//! `pid:1234@TIME`, the version alive then), an event (`NODE:SERIAL`, the edge it made) or a
//! socket (`ADDR:PORT`, `[V6ADDR]:PORT`). The answer is taken out of the graph as a
//! `graph::subgraph::Subgraph` and written by `render::graph`: text, `--format json` (nodes,
//! edges, incomplete), `dot`, `svg`, `graphml` or `neo4j-csv` (a folder of CSV files for
//! `neo4j-admin database import full`, given with `--output DIR`).

use std::io::{self, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use graph::subgraph::Subgraph;
use graph::trace::{trace, Direction, Limits};
use graph::tree::process_tree;
use graph::{Builder, Config, Detail, EntityId, Graph, Seq};
use store::{EventStore, Query};

use crate::time_arg;

#[derive(Clone, Copy, ValueEnum)]
pub enum DirectionArg {
    /// Causes: how the entity got to be what it is
    Back,
    /// Effects: what the entity touched afterwards
    Forward,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// One line per edge (trace) or process version (tree)
    Text,
    /// {"nodes":[…],"edges":[…],"incomplete":…} for programs
    Json,
    /// Graphviz DOT
    Dot,
    /// A picture, drawn without Graphviz
    Svg,
    /// GraphML for Gephi, Cytoscape, yEd, networkx
    Graphml,
    /// CSV files for `neo4j-admin database import full`, written into the --output folder
    Neo4jCsv,
}

#[derive(Args)]
pub struct Window {
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,

    /// Build the graph from events at or after this time
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Build the graph from events before this time
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,

    /// Write to this file instead of standard output (a folder, created if need be, for neo4j-csv)
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

#[derive(Args)]
pub struct TraceArgs {
    #[arg(value_enum)]
    pub direction: DirectionArg,

    /// A file path, pid:N[@TIME], NODE:SERIAL (an event) or ADDR:PORT (a socket)
    #[arg(value_name = "ENTITY")]
    pub entity: String,

    #[command(flatten)]
    pub window: Window,

    /// Follow at most this many edges from the start
    #[arg(long, value_name = "N")]
    pub depth: Option<u32>,

    /// Follow at most this many edges out of one entity
    #[arg(long, value_name = "N")]
    pub fanout: Option<usize>,

    /// Expand hubs too (/etc/ld.so.cache, /dev/null, … and entities with over 10,000 neighbours)
    #[arg(long)]
    pub no_hub_skipping: bool,
}

#[derive(Args)]
pub struct TreeArgs {
    /// N or N@TIME: the process with that pid (the one alive at TIME)
    #[arg(value_name = "PID")]
    pub pid: String,

    #[command(flatten)]
    pub window: Window,
}

/// Rebuilds the graph from the stored events of the window.
fn build(w: &Window) -> anyhow::Result<Graph> {
    let q: Query = crate::search_command::query(&[], w.since.as_deref(), w.until.as_deref())?;
    let store = crate::store_open(&w.data)?;
    let mut b = Builder::new(Config::default());
    let mut failed = None;
    store.search(&q, &mut |e| match e.event() {
        Ok(ev) => {
            b.event(&ev);
            true
        }
        Err(err) => {
            failed = Some(err);
            false
        }
    })?;
    if let Some(e) = failed {
        return Err(e).context("cannot rebuild an event");
    }
    Ok(b.finish())
}

pub fn run_trace(args: TraceArgs) -> anyhow::Result<ExitCode> {
    let g = build(&args.window)?;
    let (start, at) = entity(&g, &args.entity)?;
    let direction = match args.direction {
        DirectionArg::Back => Direction::Back,
        DirectionArg::Forward => Direction::Forward,
    };
    let mut limits = if args.no_hub_skipping { Limits { hub_degree: None, hub_names: Vec::new(), ..Limits::default() } } else { Limits::default() };
    limits.max_depth = args.depth;
    limits.max_fanout = args.fanout;
    let t = trace(&g, start, at, direction, &limits);
    write_answer(&Subgraph::from_trace(&g, &t), &args.window)
}

pub fn run_tree(args: TreeArgs) -> anyhow::Result<ExitCode> {
    let g = build(&args.window)?;
    let (pid, at) = pid_at(&args.pid)?;
    let id = process(&g, pid, at)?;
    let tree = process_tree(&g, id);
    write_answer(&Subgraph::from_tree(&g, &tree), &args.window)
}

/// Writes an answer in the format asked for, to standard output or `--output`.
pub fn write_answer(s: &Subgraph, w: &Window) -> anyhow::Result<ExitCode> {
    let bytes = match w.format {
        GraphFormat::Text => render::graph::text(s).into_bytes(),
        GraphFormat::Json => render::graph::json(s),
        GraphFormat::Dot => render::graph::dot(s).into_bytes(),
        GraphFormat::Svg => render::graph::svg(s).into_bytes(),
        GraphFormat::Graphml => render::graph::graphml(s).into_bytes(),
        GraphFormat::Neo4jCsv => {
            let Some(dir) = &w.output else { bail!("--format neo4j-csv writes several files: give the folder with --output DIR") };
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            for (name, body) in render::graph::neo4j_csv(s) {
                let path = dir.join(name);
                std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))?;
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    if let Some(path) = &w.output {
        std::fs::write(path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
        return Ok(ExitCode::SUCCESS);
    }
    match io::stdout().lock().write_all(&bytes) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        r => r.map(|_| ExitCode::SUCCESS).context("cannot write the output"),
    }
}

fn pid_at(text: &str) -> anyhow::Result<(u32, Option<u64>)> {
    let (pid, at) = match text.split_once('@') {
        Some((p, t)) => (p, Some(time_arg::parse(t, time_arg::now_ms()).map_err(anyhow::Error::msg)?)),
        None => (text, None),
    };
    Ok((pid.parse().with_context(|| format!("{pid:?} is not a pid"))?, at))
}

/// The process with this pid (on any host): the version alive at `at`, else the newest.
fn process(g: &Graph, pid: u32, at: Option<u64>) -> anyhow::Result<EntityId> {
    let found: Vec<EntityId> = g.entities().filter(|(_, e)| e.as_process().is_some_and(|p| p.pid == pid)).map(|(id, _)| id).collect();
    let pick = match at {
        Some(ms) => found.iter().copied().filter(|&id| g.entity(id).created_ms <= ms).max_by_key(|&id| (g.entity(id).created, id)),
        None => found.iter().copied().max_by_key(|&id| (g.entity(id).created, id)),
    };
    pick.ok_or_else(|| anyhow::anyhow!("no process with pid {pid} in the stored events{}", if at.is_some() { " at that time" } else { "" }))
}

/// Resolves an ENTITY argument to where a trace starts.
fn entity(g: &Graph, text: &str) -> anyhow::Result<(EntityId, Option<Seq>)> {
    if text.starts_with('/') {
        let mut best: Option<(Seq, EntityId)> = None;
        for (id, _) in g.entities().filter(|(_, e)| e.version == 0 && matches!(e.detail, Detail::File(_))) {
            for (name, binding) in g.names_of(id) {
                if name == text.as_bytes() && best.is_none_or(|(s, _)| binding.from >= s) {
                    best = Some((binding.from, g.latest_version(binding.file)));
                }
            }
        }
        return best.map(|(_, id)| (id, None)).ok_or_else(|| anyhow::anyhow!("no file named {text} in the stored events"));
    }
    if let Some(rest) = text.strip_prefix("pid:") {
        let (pid, at) = pid_at(rest)?;
        return Ok((process(g, pid, at)?, None));
    }
    let Some((left, right)) = text.rsplit_once(':') else {
        bail!("{text:?} is not an entity: give a file path, pid:N[@TIME], NODE:SERIAL or ADDR:PORT");
    };
    let addr = left.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = addr.parse::<IpAddr>() {
        let port: u16 = right.parse().with_context(|| format!("{right:?} is not a port"))?;
        let local = ip.is_loopback() || ip.is_unspecified();
        let found = g.entities().find(|(_, e)| match &e.detail {
            Detail::Socket(s) => s.port == Some(port) && ((local && s.local) || s.addr.is_some_and(|a| g.string(a) == addr.as_bytes())),
            _ => false,
        });
        return found.map(|(id, _)| (id, None)).ok_or_else(|| anyhow::anyhow!("no socket {text} in the stored events"));
    }
    let serial: u64 = right.parse().with_context(|| format!("{text:?} is not an entity: {right:?} is not a serial"))?;
    let host = g.host(left.as_bytes()).ok_or_else(|| anyhow::anyhow!("no node {left:?} in the stored events"))?;
    let edge = g
        .edges()
        .find(|(_, e)| (e.first_event.host == host && e.first_event.serial == serial) || (e.last_event.host == host && e.last_event.serial == serial))
        .map(|(_, e)| e.clone())
        .ok_or_else(|| anyhow::anyhow!("event {text} made no edge in the graph"))?;
    // an event names where its effect landed; tracing forward starts from its cause
    Ok((edge.to, Some(edge.last)))
}
