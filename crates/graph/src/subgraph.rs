//! A piece of the graph taken out as an owned value: the nodes and edges of one answer (a trace,
//! a path, a process tree) with every attribute the output formats show, and no reference back
//! into the [`Graph`].
//!
//! Output formats (JSON, DOT, SVG, GraphML, Neo4j CSV) are written from a [`Subgraph`] by the
//! `render` crate; this module only reads the graph. Reading goes through three small
//! functions — [`node`], [`edge`] and the fork/version walk of [`Subgraph::from_tree`] — so that
//! another graph behind the same accessors can make them generic.
//!
//! Attributes are a flat list of `(Attr, AttrValue)` per node: every attribute has one name and
//! one type whatever the node, which is what GraphML's `<key>` declarations and Neo4j's typed
//! CSV headers need. Byte strings stay bytes: each format escapes them its own way.

use crate::describe;
use crate::read::GraphRead;
use crate::model::{Detail, EdgeId, EntityId, EntityKind, EventRef, Op};
use crate::trace::{Direction, Trace};
use crate::tree::TreeNode;

/// What kind of answer a subgraph is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// `trace back` or `trace forward`.
    Trace(Direction),
    /// How one entity reached another.
    Path,
    /// A process tree.
    Tree,
}

impl Answer {
    /// Returns the stable snake_case name: `trace_back`, `trace_forward`, `path`, `tree`.
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Trace(Direction::Back) => "trace_back",
            Answer::Trace(Direction::Forward) => "trace_forward",
            Answer::Path => "path",
            Answer::Tree => "tree",
        }
    }
}

/// A node attribute. Each has one name and one type ([`AttrType`]) for every node kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Attr {
    /// The node (host) the entity lives on; empty for events that named none.
    Host,
    /// 0 for an entity's first version.
    Version,
    /// When the version came to be (milliseconds since the epoch).
    Created,
    /// Some event about it was partial.
    Partial,
    /// Edges from the start of a trace; generations below the root of a tree.
    Depth,
    Pid,
    Ppid,
    Exe,
    Comm,
    /// The arguments of the execve that made the version.
    Argv,
    Uid,
    Euid,
    Auid,
    /// A file's first name.
    Path,
    /// A file's device, `major:minor` in hex.
    Dev,
    Inode,
    Epoch,
    Mode,
    /// A socket's address family (`inet`, `inet6`, `unix`, …).
    Family,
    Addr,
    Port,
    /// A loopback or wildcard socket address (scoped to its host).
    Local,
    /// A kernel module's name.
    Name,
}

/// The type of an attribute's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrType {
    Int,
    Bool,
    /// Milliseconds since the epoch.
    Time,
    Bytes,
    /// A list of byte strings.
    List,
}

impl Attr {
    /// Every attribute, in the order formats list them.
    pub const ALL: [Attr; 23] = [
        Attr::Host,
        Attr::Version,
        Attr::Created,
        Attr::Partial,
        Attr::Depth,
        Attr::Pid,
        Attr::Ppid,
        Attr::Exe,
        Attr::Comm,
        Attr::Argv,
        Attr::Uid,
        Attr::Euid,
        Attr::Auid,
        Attr::Path,
        Attr::Dev,
        Attr::Inode,
        Attr::Epoch,
        Attr::Mode,
        Attr::Family,
        Attr::Addr,
        Attr::Port,
        Attr::Local,
        Attr::Name,
    ];

    /// Returns the stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Attr::Host => "host",
            Attr::Version => "version",
            Attr::Created => "created",
            Attr::Partial => "partial",
            Attr::Depth => "depth",
            Attr::Pid => "pid",
            Attr::Ppid => "ppid",
            Attr::Exe => "exe",
            Attr::Comm => "comm",
            Attr::Argv => "argv",
            Attr::Uid => "uid",
            Attr::Euid => "euid",
            Attr::Auid => "auid",
            Attr::Path => "path",
            Attr::Dev => "dev",
            Attr::Inode => "inode",
            Attr::Epoch => "epoch",
            Attr::Mode => "mode",
            Attr::Family => "family",
            Attr::Addr => "addr",
            Attr::Port => "port",
            Attr::Local => "local",
            Attr::Name => "name",
        }
    }

    pub fn ty(self) -> AttrType {
        match self {
            Attr::Host | Attr::Exe | Attr::Comm | Attr::Path | Attr::Dev | Attr::Family | Attr::Addr | Attr::Name => {
                AttrType::Bytes
            }
            Attr::Argv => AttrType::List,
            Attr::Created => AttrType::Time,
            Attr::Partial | Attr::Local => AttrType::Bool,
            Attr::Version
            | Attr::Depth
            | Attr::Pid
            | Attr::Ppid
            | Attr::Uid
            | Attr::Euid
            | Attr::Auid
            | Attr::Inode
            | Attr::Epoch
            | Attr::Mode
            | Attr::Port => AttrType::Int,
        }
    }

    /// Returns true if nodes of this kind can carry the attribute (the common ones: every kind).
    pub fn applies_to(self, kind: EntityKind) -> bool {
        match self {
            Attr::Host | Attr::Version | Attr::Created | Attr::Partial | Attr::Depth => true,
            Attr::Pid | Attr::Ppid | Attr::Exe | Attr::Comm | Attr::Argv | Attr::Euid | Attr::Auid => {
                kind == EntityKind::Process
            }
            Attr::Uid => matches!(kind, EntityKind::Process | EntityKind::User),
            Attr::Path | Attr::Dev | Attr::Inode | Attr::Epoch | Attr::Mode => kind == EntityKind::File,
            Attr::Family | Attr::Addr | Attr::Port | Attr::Local => kind == EntityKind::Socket,
            Attr::Name => matches!(kind, EntityKind::Module | EntityKind::Container),
        }
    }
}

/// An attribute's value; its variant matches [`Attr::ty`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttrValue {
    Int(u64),
    Bool(bool),
    Time(u64),
    Bytes(Vec<u8>),
    List(Vec<Vec<u8>>),
}

/// One entity version of the answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubNode {
    /// The entity's id in its graph: unique within the subgraph.
    pub id: u64,
    pub kind: EntityKind,
    /// One line for people (`describe::entity`): printable ASCII, other bytes as `\xNN`.
    pub label: String,
    /// The attributes it has, in [`Attr::ALL`] order; absent facts are left out.
    pub attrs: Vec<(Attr, AttrValue)>,
}

impl SubNode {
    /// Returns the value of an attribute, if the node has it.
    pub fn get(&self, attr: Attr) -> Option<&AttrValue> {
        self.attrs.iter().find(|(a, _)| *a == attr).map(|(_, v)| v)
    }

    pub fn int(&self, attr: Attr) -> Option<u64> {
        match self.get(attr) {
            Some(AttrValue::Int(v)) => Some(*v),
            _ => None,
        }
    }

    fn set(&mut self, attr: Attr, value: AttrValue) {
        match self.attrs.iter_mut().find(|(a, _)| *a == attr) {
            Some((_, v)) => *v = value,
            None => {
                self.attrs.push((attr, value));
                self.attrs.sort_by_key(|(a, _)| *a);
            }
        }
    }
}

/// The event an edge came from, by node name, time and serial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubEvent {
    pub node: Vec<u8>,
    pub ms: u64,
    pub serial: u64,
}

/// One edge of the answer, pointing the way information flowed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubEdge {
    pub from: u64,
    pub to: u64,
    pub op: Op,
    /// Milliseconds of its first and last event.
    pub first: u64,
    pub last: u64,
    pub count: u32,
    pub bytes: u64,
    pub first_event: SubEvent,
    pub last_event: SubEvent,
}

/// An answer as an owned graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subgraph {
    pub answer: Answer,
    /// Traces: by id; trees: depth first, each process's versions oldest first, then its
    /// children in the order they started; paths: along the path.
    pub nodes: Vec<SubNode>,
    /// In the order they happened (first event), ties by edge id.
    pub edges: Vec<SubEdge>,
    /// Where the answer starts (the trace's entity, the root of the tree, the path's source).
    pub start: Option<u64>,
    /// Nodes reached but not expanded because they are hubs.
    pub hubs: Vec<u64>,
    /// A depth or fan-out limit cut the answer short.
    pub truncated: bool,
    /// The answer reaches across known loss: edges may be missing.
    pub incomplete: bool,
}

impl Subgraph {
    /// Returns the node with this id.
    pub fn node(&self, id: u64) -> Option<&SubNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The nodes and edges a trace reached, with each node's depth.
    pub fn from_trace<G: GraphRead + ?Sized>(g: &G, t: &Trace) -> Subgraph {
        let nodes = t
            .reached
            .iter()
            .map(|r| {
                let mut n = node(g, r.entity);
                n.set(Attr::Depth, AttrValue::Int(u64::from(r.depth)));
                n
            })
            .collect();
        Subgraph {
            answer: Answer::Trace(t.direction),
            nodes,
            edges: edges_in_order(g, &t.edges),
            start: Some(u64::from(t.start.0)),
            hubs: t.hubs.iter().map(|h| u64::from(h.0)).collect(),
            truncated: t.truncated,
            incomplete: t.incomplete,
        }
    }

    /// A path (as [`crate::trace::path`] returns it) from its first edge's source to its last
    /// edge's target; `incomplete` when an entity on it was touched by a partial event.
    pub fn from_path<G: GraphRead + ?Sized>(g: &G, path: &[EdgeId]) -> Subgraph {
        let mut ids: Vec<EntityId> = Vec::new();
        for &e in path {
            let edge = g.edge(e);
            for id in [edge.from, edge.to] {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        let nodes: Vec<SubNode> = ids
            .iter()
            .enumerate()
            .map(|(depth, &id)| {
                let mut n = node(g, id);
                n.set(Attr::Depth, AttrValue::Int(depth as u64));
                n
            })
            .collect();
        let incomplete = nodes.iter().any(|n| n.get(Attr::Partial) == Some(&AttrValue::Bool(true)));
        Subgraph {
            answer: Answer::Path,
            start: ids.first().map(|id| u64::from(id.0)),
            nodes,
            edges: edges_in_order(g, path),
            hubs: Vec::new(),
            truncated: false,
            incomplete,
        }
    }

    /// A process tree: every version of every process in it, the fork edges between them and
    /// the edges from one version to the next (exec, set*id, setns/unshare).
    pub fn from_tree<G: GraphRead + ?Sized>(g: &G, tree: &TreeNode) -> Subgraph {
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        tree_parts(g, tree, 0, &mut nodes, &mut edges);
        let incomplete = nodes.iter().any(|n| n.get(Attr::Partial) == Some(&AttrValue::Bool(true)));
        Subgraph {
            answer: Answer::Tree,
            nodes,
            edges: edges_in_order(g, &edges),
            start: Some(u64::from(tree.versions[0].0)),
            hubs: Vec::new(),
            truncated: false,
            incomplete,
        }
    }
}

fn tree_parts<G: GraphRead + ?Sized>(g: &G, t: &TreeNode, depth: u64, nodes: &mut Vec<SubNode>, edges: &mut Vec<EdgeId>) {
    for &v in &t.versions {
        let mut n = node(g, v);
        n.set(Attr::Depth, AttrValue::Int(depth));
        nodes.push(n);
        for &e in g.out_edges(v).iter() {
            let edge = g.edge(e);
            if matches!(edge.op, Op::Fork | Op::Exec | Op::Setid | Op::Namespace)
                && g.entity(edge.to).as_process().is_some()
            {
                edges.push(e);
            }
        }
    }
    for c in &t.children {
        tree_parts(g, c, depth + 1, nodes, edges);
    }
}

fn edges_in_order<G: GraphRead + ?Sized>(g: &G, ids: &[EdgeId]) -> Vec<SubEdge> {
    let mut order: Vec<EdgeId> = ids.to_vec();
    order.sort_by_key(|&e| (g.edge(e).first, e));
    order.dedup();
    order.into_iter().map(|e| edge(g, e)).collect()
}

/// Takes one entity out of the graph with all its attributes (no depth).
pub fn node<G: GraphRead + ?Sized>(g: &G, id: EntityId) -> SubNode {
    let e = g.entity(id);
    let bytes = |s| AttrValue::Bytes(g.string(s).to_vec());
    let mut attrs: Vec<(Attr, AttrValue)> = vec![
        (Attr::Host, AttrValue::Bytes(g.host_name(e.host).to_vec())),
        (Attr::Version, AttrValue::Int(u64::from(e.version))),
        (Attr::Created, AttrValue::Time(e.created_ms)),
        (Attr::Partial, AttrValue::Bool(e.partial)),
    ];
    let mut put = |a: Attr, v: Option<AttrValue>| {
        if let Some(v) = v {
            attrs.push((a, v));
        }
    };
    let int = |v: Option<u32>| v.map(|v| AttrValue::Int(u64::from(v)));
    match &e.detail {
        Detail::Process(p) => {
            put(Attr::Pid, int(Some(p.pid)));
            put(Attr::Ppid, int(p.ppid));
            put(Attr::Exe, p.exe.map(bytes));
            put(Attr::Comm, p.comm.map(bytes));
            put(
                Attr::Argv,
                p.argv.map(|a| AttrValue::List(g.string(a).split(|&b| b == 0).map(<[u8]>::to_vec).collect())),
            );
            put(Attr::Uid, int(p.uid));
            put(Attr::Euid, int(p.euid));
            put(Attr::Auid, int(p.auid));
        }
        Detail::File(f) => {
            put(Attr::Path, f.name.map(bytes));
            put(Attr::Dev, Some(AttrValue::Bytes(format!("{:x}:{:x}", f.dev.0, f.dev.1).into_bytes())));
            put(Attr::Inode, Some(AttrValue::Int(f.inode)));
            put(Attr::Epoch, int(Some(f.epoch)));
            put(Attr::Mode, int(f.mode));
        }
        Detail::Socket(k) => {
            put(Attr::Family, Some(AttrValue::Bytes(k.family.as_bytes().to_vec())));
            put(Attr::Addr, k.addr.map(bytes));
            put(Attr::Port, k.port.map(|p| AttrValue::Int(u64::from(p))));
            put(Attr::Local, Some(AttrValue::Bool(k.local)));
        }
        Detail::User(u) => put(Attr::Uid, int(Some(u.uid))),
        Detail::Module(m) => put(Attr::Name, Some(bytes(m.name))),
        Detail::Container(c) => put(Attr::Name, Some(bytes(c.contid))),
    }
    attrs.sort_by_key(|(a, _)| *a);
    SubNode { id: u64::from(id.0), kind: e.kind(), label: describe::entity(g, id), attrs }
}

/// Takes one edge out of the graph.
pub fn edge<G: GraphRead + ?Sized>(g: &G, id: EdgeId) -> SubEdge {
    let e = g.edge(id);
    let event = |r: EventRef| SubEvent { node: g.host_name(r.host).to_vec(), ms: r.ms, serial: r.serial };
    SubEdge {
        from: u64::from(e.from.0),
        to: u64::from(e.to.0),
        op: e.op,
        first: e.first_ms,
        last: e.last_ms,
        count: e.count,
        bytes: e.bytes,
        first_event: event(e.first_event),
        last_event: event(e.last_event),
    }
}
