//! `auditmesh trace back|forward ENTITY`, `auditmesh path A B` and `auditmesh tree PID` over the
//! provenance graph persisted beside the event store (`graphstore`), read block by block: a
//! query reads what it touches, not the whole graph. `--since`/`--until` restrict a trace or a
//! path to edges with an event in that window; `--node` picks the host of a file or pid when the
//! store holds several (by default the newest match on any host).
//!
//! ENTITY is a file path (`/etc/passwd`), a process (`pid:1234`, its newest version, or
//! `pid:1234@TIME`, the version alive then), an event (`NODE:SERIAL`, the edge it made) or a
//! socket (`ADDR:PORT`, `[V6ADDR]:PORT`). Output: text, `--format json` (nodes, edges,
//! incomplete) or `--format dot`.

use std::io::{self, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use graph::trace::{path, trace, Direction, Limits, Trace};
use graph::tree::{process_tree, TreeNode};
use graph::{describe, Detail, EdgeId, EntityId, GraphRead, HostId, Seq};
use graphstore::GraphFile;
use serde_json::{json, Value};

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
    Text,
    Json,
    Dot,
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
        Some(n) => Ok(vec![g
            .host(n.as_bytes())
            .ok_or_else(|| anyhow::anyhow!("no node {n:?} in the graph"))?]),
        None => Ok((0..g.host_count() as u32).map(HostId).collect()),
    }
}

/// The limits of the command line: hubs, depth, fan-out and the time window.
fn limits(
    w: &Window,
    no_hub_skipping: bool,
    depth: Option<u32>,
    fanout: Option<usize>,
) -> anyhow::Result<Limits> {
    let mut limits = if no_hub_skipping {
        Limits {
            hub_degree: None,
            hub_names: Vec::new(),
            ..Limits::default()
        }
    } else {
        Limits::default()
    };
    limits.max_depth = depth;
    limits.max_fanout = fanout;
    if w.since.is_some() || w.until.is_some() {
        let now = time_arg::now_ms();
        let from = w
            .since
            .as_deref()
            .map(|t| time_arg::parse(t, now))
            .transpose()
            .map_err(anyhow::Error::msg)?;
        let to = w
            .until
            .as_deref()
            .map(|t| time_arg::parse(t, now))
            .transpose()
            .map_err(anyhow::Error::msg)?;
        limits.window_ms = Some((
            from.unwrap_or(0),
            to.map_or(u64::MAX, |t| t.saturating_sub(1)),
        ));
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
    checked(&g)?;
    let text = match args.window.format {
        GraphFormat::Text => trace_text(&g, &t),
        GraphFormat::Json => format!("{:#}\n", trace_json(&g, &t)),
        GraphFormat::Dot => dot(
            &g,
            &t.reached.iter().map(|r| r.entity).collect::<Vec<_>>(),
            &t.edges
                .iter()
                .map(|&e| g.edge(e).into_owned())
                .collect::<Vec<_>>(),
            Some(start),
        ),
    };
    checked(&g)?;
    write_out(&text)
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
        eprintln!(
            "auditmesh: {} did not reach {}",
            describe::entity(&g, from),
            describe::entity(&g, to)
        );
        return Ok(ExitCode::from(1));
    };
    let text = match args.window.format {
        GraphFormat::Text => {
            let mut out = String::new();
            for &e in &chain {
                let edge = g.edge(e);
                out.push_str(&format!(
                    "{}  {}\n",
                    time_text(edge.first_ms),
                    describe::edge(&g, e)
                ));
            }
            out
        }
        GraphFormat::Json => format!("{:#}\n", path_json(&g, from, to, &chain)),
        GraphFormat::Dot => {
            let edges: Vec<graph::Edge> = chain.iter().map(|&e| g.edge(e).into_owned()).collect();
            let nodes: Vec<EntityId> = edges.iter().flat_map(|e| [e.from, e.to]).collect();
            dot(&g, &nodes, &edges, Some(from))
        }
    };
    checked(&g)?;
    write_out(&text)
}

fn path_json<G: GraphRead + ?Sized>(
    g: &G,
    from: EntityId,
    to: EntityId,
    chain: &[EdgeId],
) -> Value {
    let edges: Vec<graph::Edge> = chain.iter().map(|&e| g.edge(e).into_owned()).collect();
    let mut nodes: Vec<EntityId> = edges.iter().flat_map(|e| [e.from, e.to]).collect();
    nodes.sort();
    nodes.dedup();
    json!({
        "from": from.0,
        "to": to.0,
        "nodes": nodes.iter().map(|&n| node_json(g, n)).collect::<Vec<_>>(),
        "edges": edges.iter().map(edge_json).collect::<Vec<_>>(),
    })
}

pub fn run_tree(args: TreeArgs) -> anyhow::Result<ExitCode> {
    let g = open(&args.window)?;
    let (pid, at) = pid_at(&args.pid)?;
    let id = process(&g, pid, at, args.window.node.as_deref())?;
    let tree = process_tree(&g, id);
    let text = match args.window.format {
        GraphFormat::Text => {
            let mut out = String::new();
            tree_text(&g, &tree, 0, &mut out);
            out
        }
        GraphFormat::Json => format!("{:#}\n", tree_json(&g, &tree)),
        GraphFormat::Dot => {
            let mut nodes = Vec::new();
            let mut edges = Vec::new();
            tree_parts(&g, &tree, &mut nodes, &mut edges);
            dot(&g, &nodes, &edges, Some(tree.versions[0]))
        }
    };
    checked(&g)?;
    write_out(&text)
}

fn write_out(text: &str) -> anyhow::Result<ExitCode> {
    match io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        r => r
            .map(|_| ExitCode::SUCCESS)
            .context("cannot write the output"),
    }
}

fn pid_at(text: &str) -> anyhow::Result<(u32, Option<u64>)> {
    let (pid, at) = match text.split_once('@') {
        Some((p, t)) => (
            p,
            Some(time_arg::parse(t, time_arg::now_ms()).map_err(anyhow::Error::msg)?),
        ),
        None => (text, None),
    };
    Ok((
        pid.parse()
            .with_context(|| format!("{pid:?} is not a pid"))?,
        at,
    ))
}

/// The process with this pid (on the `--node` host, else any): the version alive at `at`, else
/// the newest.
fn process<G: GraphRead + ?Sized>(
    g: &G,
    pid: u32,
    at: Option<u64>,
    node: Option<&str>,
) -> anyhow::Result<EntityId> {
    let found: Vec<EntityId> = hosts(g, node)?
        .into_iter()
        .flat_map(|h| g.processes_with_pid(h, pid))
        .collect();
    let pick = match at {
        Some(ms) => found
            .iter()
            .copied()
            .filter(|&id| g.entity(id).created_ms <= ms)
            .max_by_key(|&id| (g.entity(id).created, id)),
        None => found
            .iter()
            .copied()
            .max_by_key(|&id| (g.entity(id).created, id)),
    };
    pick.ok_or_else(|| {
        anyhow::anyhow!(
            "no process with pid {pid} in the stored events{}",
            if at.is_some() { " at that time" } else { "" }
        )
    })
}

/// Resolves an ENTITY argument to where a trace starts.
fn entity(
    g: &GraphFile,
    text: &str,
    node: Option<&str>,
) -> anyhow::Result<(EntityId, Option<Seq>)> {
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
        return best
            .map(|(_, file)| (g.latest_version(file), None))
            .ok_or_else(|| anyhow::anyhow!("no file named {text} in the stored events"));
    }
    if let Some(rest) = text.strip_prefix("pid:") {
        let (pid, at) = pid_at(rest)?;
        return Ok((process(g, pid, at, node)?, None));
    }
    let Some((left, right)) = text.rsplit_once(':') else {
        bail!(
            "{text:?} is not an entity: give a file path, pid:N[@TIME], NODE:SERIAL or ADDR:PORT"
        );
    };
    let addr = left.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = addr.parse::<IpAddr>() {
        let port: u16 = right
            .parse()
            .with_context(|| format!("{right:?} is not a port"))?;
        let local = ip.is_loopback() || ip.is_unspecified();
        let found =
            g.sockets_with_port(Some(port))
                .into_iter()
                .find(|&id| match &g.entity(id).detail {
                    Detail::Socket(s) => {
                        (local && s.local)
                            || s.addr
                                .is_some_and(|a| g.string(a).as_ref() == addr.as_bytes())
                    }
                    _ => false,
                });
        return found
            .map(|id| (id, None))
            .ok_or_else(|| anyhow::anyhow!("no socket {text} in the stored events"));
    }
    let serial: u64 = right
        .parse()
        .with_context(|| format!("{text:?} is not an entity: {right:?} is not a serial"))?;
    let host = g
        .host(left.as_bytes())
        .ok_or_else(|| anyhow::anyhow!("no node {left:?} in the stored events"))?;
    // no index by event: a scan of the edges, newest first
    let edge = (0..g.edge_count() as u32)
        .rev()
        .map(|i| g.edge(EdgeId(i)).into_owned())
        .find(|e| {
            (e.first_event.host == host && e.first_event.serial == serial)
                || (e.last_event.host == host && e.last_event.serial == serial)
        })
        .ok_or_else(|| anyhow::anyhow!("event {text} made no edge in the graph"))?;
    // an event names where its effect landed; tracing forward starts from its cause
    Ok((edge.to, Some(edge.last)))
}

fn time_text(ms: u64) -> String {
    let mut b = Vec::new();
    render::time::rfc3339_millis(&mut b, ms);
    String::from_utf8_lossy(&b).trim_matches('"').to_string()
}

fn node_json<G: GraphRead + ?Sized>(g: &G, id: EntityId) -> Value {
    let e = g.entity(id);
    let s = |sym| describe::escape(&g.string(sym));
    let mut v = json!({"id": id.0, "kind": e.kind().as_str(), "version": e.version, "host": describe::escape(&g.host_name(e.host)), "label": describe::entity(g, id)});
    let o = v.as_object_mut().expect("object");
    match &e.detail {
        Detail::Process(p) => {
            o.insert("pid".into(), json!(p.pid));
            o.insert("ppid".into(), json!(p.ppid));
            o.insert("exe".into(), json!(p.exe.map(s)));
            o.insert("comm".into(), json!(p.comm.map(s)));
            o.insert(
                "argv".into(),
                json!(p.argv.map(|a| g
                    .string(a)
                    .split(|&b| b == 0)
                    .map(describe::escape)
                    .collect::<Vec<_>>())),
            );
            o.insert("uid".into(), json!(p.uid));
            o.insert("euid".into(), json!(p.euid));
            o.insert("auid".into(), json!(p.auid));
        }
        Detail::File(f) => {
            o.insert("path".into(), json!(f.name.map(s)));
            o.insert("dev".into(), json!(format!("{:x}:{:x}", f.dev.0, f.dev.1)));
            o.insert("inode".into(), json!(f.inode));
            o.insert("epoch".into(), json!(f.epoch));
        }
        Detail::Socket(k) => {
            o.insert("family".into(), json!(k.family));
            o.insert("addr".into(), json!(k.addr.map(s)));
            o.insert("port".into(), json!(k.port));
        }
        Detail::User(u) => {
            o.insert("uid".into(), json!(u.uid));
        }
        Detail::Module(m) => {
            o.insert("name".into(), json!(s(m.name)));
        }
    }
    v
}

fn edge_json(e: &graph::Edge) -> Value {
    json!({"from": e.from.0, "to": e.to.0, "op": e.op.as_str(), "first": time_text(e.first_ms), "last": time_text(e.last_ms), "count": e.count, "bytes": e.bytes})
}

fn trace_json<G: GraphRead + ?Sized>(g: &G, t: &Trace) -> Value {
    json!({
        "direction": if t.direction == Direction::Back { "back" } else { "forward" },
        "start": t.start.0,
        "nodes": t.reached.iter().map(|r| { let mut n = node_json(g, r.entity); n["depth"] = json!(r.depth); n }).collect::<Vec<_>>(),
        "edges": t.edges.iter().map(|&e| edge_json(&g.edge(e))).collect::<Vec<_>>(),
        "hubs": t.hubs.iter().map(|h| h.0).collect::<Vec<_>>(),
        "truncated": t.truncated,
        "incomplete": t.incomplete,
    })
}

fn trace_text<G: GraphRead + ?Sized>(g: &G, t: &Trace) -> String {
    let mut out = format!(
        "trace {} from {}: {} entities, {} edges{}{}\n",
        if t.direction == Direction::Back {
            "back"
        } else {
            "forward"
        },
        describe::entity(g, t.start),
        t.reached.len(),
        t.edges.len(),
        if t.truncated {
            ", cut short by a limit"
        } else {
            ""
        },
        if t.incomplete {
            ", may be incomplete (crosses known loss)"
        } else {
            ""
        },
    );
    let mut edges: Vec<_> = t.edges.iter().map(|&e| (g.edge(e).first, e)).collect();
    edges.sort();
    for (_, e) in edges {
        let edge = g.edge(e);
        out.push_str(&format!(
            "{}  {}\n",
            time_text(edge.first_ms),
            describe::edge(g, e)
        ));
    }
    for h in &t.hubs {
        out.push_str(&format!("hub, not followed: {}\n", describe::entity(g, *h)));
    }
    out
}

fn tree_text<G: GraphRead + ?Sized>(g: &G, node: &TreeNode, depth: usize, out: &mut String) {
    for (i, &v) in node.versions.iter().enumerate() {
        let e = g.entity(v);
        let p = e.as_process().expect("a process");
        let indent = "  ".repeat(depth);
        let lead = if i == 0 { "" } else { "then " };
        let mut line = format!("{indent}{lead}{}", describe::entity(g, v));
        if let Some(a) = p.auid {
            line.push_str(&format!(" auid={a}"));
        }
        if let Some(u) = p.uid {
            line.push_str(&format!(" uid={u}"));
        }
        out.push_str(&line);
        out.push('\n');
    }
    for c in &node.children {
        tree_text(g, c, depth + 1, out);
    }
}

fn tree_json<G: GraphRead + ?Sized>(g: &G, node: &TreeNode) -> Value {
    json!({
        "versions": node.versions.iter().map(|&v| node_json(g, v)).collect::<Vec<_>>(),
        "children": node.children.iter().map(|c| tree_json(g, c)).collect::<Vec<_>>(),
    })
}

fn tree_parts<G: GraphRead + ?Sized>(
    g: &G,
    node: &TreeNode,
    nodes: &mut Vec<EntityId>,
    edges: &mut Vec<graph::Edge>,
) {
    nodes.extend(&node.versions);
    for &v in &node.versions {
        for &e in g.out_edges(v).iter() {
            let edge = g.edge(e).into_owned();
            if matches!(
                edge.op,
                graph::Op::Fork | graph::Op::Exec | graph::Op::Setid | graph::Op::Namespace
            ) && g.entity(edge.to).as_process().is_some()
            {
                edges.push(edge);
            }
        }
    }
    for c in &node.children {
        tree_parts(g, c, nodes, edges);
    }
}

fn dot_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// DOT: process = box, file = ellipse, socket = diamond, user = house, module = component.
fn dot<G: GraphRead + ?Sized>(
    g: &G,
    nodes: &[EntityId],
    edges: &[graph::Edge],
    start: Option<EntityId>,
) -> String {
    let mut out = String::from("digraph provenance {\n  rankdir=LR;\n");
    let mut ids: Vec<EntityId> = nodes.to_vec();
    ids.sort();
    ids.dedup();
    for id in ids {
        let shape = match g.entity(id).detail {
            Detail::Process(_) => "box",
            Detail::File(_) => "ellipse",
            Detail::Socket(_) => "diamond",
            Detail::User(_) => "house",
            Detail::Module(_) => "component",
        };
        let bold = if Some(id) == start {
            ", penwidth=2"
        } else {
            ""
        };
        out.push_str(&format!(
            "  n{} [shape={shape}, label={}{bold}];\n",
            id.0,
            dot_str(&describe::entity(g, id))
        ));
    }
    for e in edges {
        let label = if e.count > 1 {
            format!("{} x{}", e.op.as_str(), e.count)
        } else {
            e.op.as_str().to_string()
        };
        out.push_str(&format!(
            "  n{} -> n{} [label={}];\n",
            e.from.0,
            e.to.0,
            dot_str(&label)
        ));
    }
    out.push_str("}\n");
    out
}
