//! `auditmesh trace back|forward ENTITY`, `auditmesh path A B` and `auditmesh tree PID` over the
//! provenance graph persisted beside the event store (`graphstore`), read block by block: a
//! query reads what it touches, not the whole graph. `--since`/`--until` restrict a trace or a
//! path to edges with an event in that window; `--node` picks the host of a file or pid when the
//! store holds several (by default the newest match on any host).
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
use graph::trace::{path, trace, Direction, Limits};
use graph::tree::process_tree;
use graph::{describe, Detail, EntityId, GraphRead, HostId, Seq};
use graphstore::GraphFile;

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

    /// Follow only edges with an event at or after this time
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Follow only edges with an event before this time
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// The host (the events' node) of a file or pid, when the store holds several
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,

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
pub struct PathArgs {
    /// Where the chain starts: a file path, pid:N[@TIME], NODE:SERIAL or ADDR:PORT
    #[arg(value_name = "FROM")]
    pub from: String,

    /// Where it ends, in the same syntax
    #[arg(value_name = "TO")]
    pub to: String,

    #[command(flatten)]
    pub window: Window,

    /// Follow at most this many edges
    #[arg(long, value_name = "N")]
    pub depth: Option<u32>,

    /// Go through hubs too (/etc/ld.so.cache, /dev/null, … and entities with over 10,000 neighbours)
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

/// Opens the persisted graph (caught up with the store if an ingest stopped early).
fn open(w: &Window) -> anyhow::Result<GraphFile> {
    crate::graph_sync::open_for_query(&w.data)
}

/// Fails with the first damaged block a query met.
fn checked(g: &GraphFile) -> anyhow::Result<()> {
    match g.error() {
        Some(e) => Err(e).context("cannot read the provenance graph"),
        None => Ok(()),
    }
}

/// The hosts a lookup may match: the one `--node` names, or all.
fn hosts<G: GraphRead + ?Sized>(g: &G, node: Option<&str>) -> anyhow::Result<Vec<HostId>> {
    match node {
        Some(n) => Ok(vec![g.host(n.as_bytes()).ok_or_else(|| anyhow::anyhow!("no node {n:?} in the graph"))?]),
        None => Ok((0..g.host_count() as u32).map(HostId).collect()),
    }
}

/// The limits of the command line: hubs, depth, fan-out and the time window.
fn limits(w: &Window, no_hub_skipping: bool, depth: Option<u32>, fanout: Option<usize>) -> anyhow::Result<Limits> {
    let mut limits = if no_hub_skipping { Limits { hub_degree: None, hub_names: Vec::new(), ..Limits::default() } } else { Limits::default() };
    limits.max_depth = depth;
    limits.max_fanout = fanout;
    if w.since.is_some() || w.until.is_some() {
        let now = time_arg::now_ms();
        let from = w.since.as_deref().map(|t| time_arg::parse(t, now)).transpose().map_err(anyhow::Error::msg)?;
        let to = w.until.as_deref().map(|t| time_arg::parse(t, now)).transpose().map_err(anyhow::Error::msg)?;
        limits.window_ms = Some((from.unwrap_or(0), to.map_or(u64::MAX, |t| t.saturating_sub(1))));
    }
    Ok(limits)
}

pub fn run_trace(args: TraceArgs) -> anyhow::Result<ExitCode> {
    let g = open(&args.window)?;
    let (start, at) = entity(&g, &args.entity, args.window.node.as_deref())?;
    let direction = match args.direction {
        DirectionArg::Back => Direction::Back,
        DirectionArg::Forward => Direction::Forward,
    };
    let limits = limits(&args.window, args.no_hub_skipping, args.depth, args.fanout)?;
    let t = trace(&g, start, at, direction, &limits);
    let answer = Subgraph::from_trace(&g, &t);
    checked(&g)?;
    write_answer(&answer, &args.window)
}

pub fn run_path(args: PathArgs) -> anyhow::Result<ExitCode> {
    let g = open(&args.window)?;
    let node = args.window.node.as_deref();
    let (from, _) = entity(&g, &args.from, node)?;
    let (to, _) = entity(&g, &args.to, node)?;
    let limits = limits(&args.window, args.no_hub_skipping, args.depth, None)?;
    let chain = path(&g, from, to, &limits);
    checked(&g)?;
    let Some(chain) = chain else {
        eprintln!("auditmesh: {} did not reach {}", describe::entity(&g, from), describe::entity(&g, to));
        return Ok(ExitCode::from(1));
    };
    let answer = Subgraph::from_path(&g, &chain);
    checked(&g)?;
    write_answer(&answer, &args.window)
}

pub fn run_tree(args: TreeArgs) -> anyhow::Result<ExitCode> {
    let g = open(&args.window)?;
    let (pid, at) = pid_at(&args.pid)?;
    let id = process(&g, pid, at, args.window.node.as_deref())?;
    let tree = process_tree(&g, id);
    let answer = Subgraph::from_tree(&g, &tree);
    checked(&g)?;
    write_answer(&answer, &args.window)
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

/// The process with this pid (on the `--node` host, else any): the version alive at `at`, else
/// the newest.
fn process<G: GraphRead + ?Sized>(g: &G, pid: u32, at: Option<u64>, node: Option<&str>) -> anyhow::Result<EntityId> {
    let found: Vec<EntityId> = hosts(g, node)?.into_iter().flat_map(|h| g.processes_with_pid(h, pid)).collect();
    let pick = match at {
        Some(ms) => found.iter().copied().filter(|&id| g.entity(id).created_ms <= ms).max_by_key(|&id| (g.entity(id).created, id)),
        None => found.iter().copied().max_by_key(|&id| (g.entity(id).created, id)),
    };
    pick.ok_or_else(|| anyhow::anyhow!("no process with pid {pid} in the stored events{}", if at.is_some() { " at that time" } else { "" }))
}

/// Resolves an ENTITY argument to where a trace starts.
fn entity(g: &GraphFile, text: &str, node: Option<&str>) -> anyhow::Result<(EntityId, Option<Seq>)> {
    if text.starts_with('/') {
        // the file last bound to the name (on any host unless --node)
        let mut best: Option<(Seq, EntityId)> = None;
        for host in hosts(g, node)? {
            for binding in g.name_history(host, text.as_bytes()).iter() {
                if best.is_none_or(|(s, _)| binding.from >= s) {
                    best = Some((binding.from, binding.file));
                }
            }
        }
        return best.map(|(_, file)| (g.latest_version(file), None)).ok_or_else(|| anyhow::anyhow!("no file named {text} in the stored events"));
    }
    if let Some(rest) = text.strip_prefix("pid:") {
        let (pid, at) = pid_at(rest)?;
        return Ok((process(g, pid, at, node)?, None));
    }
    let Some((left, right)) = text.rsplit_once(':') else {
        bail!("{text:?} is not an entity: give a file path, pid:N[@TIME], NODE:SERIAL or ADDR:PORT");
    };
    let addr = left.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = addr.parse::<IpAddr>() {
        let port: u16 = right.parse().with_context(|| format!("{right:?} is not a port"))?;
        let local = ip.is_loopback() || ip.is_unspecified();
        let found = g.sockets_with_port(Some(port)).into_iter().find(|&id| match &g.entity(id).detail {
            Detail::Socket(s) => (local && s.local) || s.addr.is_some_and(|a| g.string(a).as_ref() == addr.as_bytes()),
            _ => false,
        });
        return found.map(|id| (id, None)).ok_or_else(|| anyhow::anyhow!("no socket {text} in the stored events"));
    }
    let serial: u64 = right.parse().with_context(|| format!("{text:?} is not an entity: {right:?} is not a serial"))?;
    let host = g.host(left.as_bytes()).ok_or_else(|| anyhow::anyhow!("no node {left:?} in the stored events"))?;
    // the newest edge the event made, found through the checkpoint's event zones
    let edges = g.edges_of_event(host, serial).context("cannot read the provenance graph")?;
    let edge = edges.first().map(|&id| g.edge(id).into_owned()).ok_or_else(|| anyhow::anyhow!("event {text} made no edge in the graph"))?;
    // an event names where its effect landed; tracing forward starts from its cause
    Ok((edge.to, Some(edge.last)))
}
