//! Bytes for the graph's parts, so a storage crate can persist them without knowing their
//! fields: entities, edges and losses one at a time (varints, deltas against the previous
//! value of a block in [`Delta`]), the builder's state as one blob, and [`GraphParts`] to put a
//! [`Graph`] back together from decoded pieces.
//!
//! Pure: bytes in, bytes out. Decoding damaged bytes returns `None`, never panics; checksums
//! and files are the storage crate's business.

use assemble::Incomplete;

use crate::builder::{Builder, Config, Counters};
use crate::graph::{Graph, GraphStats};
use crate::model::{
    Container, Detail, Edge, EdgeId, Entity, EntityId, EventRef, File, HostId, Loss, LossKind, Module,
    NameBinding, Op, Process, ProcessOrigin, Seq, Socket, Sym, User,
};

/// Appends `v` as a LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_opt(out: &mut Vec<u8>, v: Option<u64>) {
    put_varint(out, v.map_or(0, |v| v + 1));
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Reads what the `put_*` functions wrote; every read is `None` past the end or on a varint
/// that does not end.
pub struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes }
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for (i, &b) in self.bytes.iter().enumerate().take(10) {
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.bytes = &self.bytes[i + 1..];
                return Some(v);
            }
        }
        None
    }

    pub fn u32(&mut self) -> Option<u32> {
        u32::try_from(self.varint()?).ok()
    }

    fn opt(&mut self) -> Option<Option<u64>> {
        Some(self.varint()?.checked_sub(1))
    }

    fn opt_u32(&mut self) -> Option<Option<u32>> {
        match self.opt()? {
            None => Some(None),
            Some(v) => Some(Some(u32::try_from(v).ok()?)),
        }
    }

    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(b)
    }

    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.varint()?).ok()?;
        if n > self.bytes.len() {
            return None;
        }
        let (b, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Some(b)
    }

    fn delta(&mut self, base: &mut u64) -> Option<u64> {
        let v = base.wrapping_add(unzigzag(self.varint()?) as u64);
        *base = v;
        Some(v)
    }
}

/// The previous values that times, sequence numbers and serials are written against, reset at
/// the start of each block.
#[derive(Clone, Copy, Debug, Default)]
pub struct Delta {
    seq: u64,
    ms: u64,
    serial: u64,
}

fn put_delta(out: &mut Vec<u8>, base: &mut u64, v: u64) {
    put_varint(out, zigzag(v.wrapping_sub(*base) as i64));
    *base = v;
}

const OPS: [Op; 24] = [
    Op::Fork,
    Op::Exec,
    Op::Load,
    Op::Read,
    Op::Write,
    Op::Send,
    Op::Recv,
    Op::Open,
    Op::Connect,
    Op::Accept,
    Op::Bind,
    Op::Rename,
    Op::Link,
    Op::Symlink,
    Op::Unlink,
    Op::Chmod,
    Op::Chown,
    Op::Setid,
    Op::Namespace,
    Op::Version,
    Op::ModuleLoad,
    Op::Ptrace,
    Op::Kill,
    Op::Member,
];

fn op_code(op: Op) -> u8 {
    OPS.iter()
        .position(|&o| o == op)
        .expect("every op is listed") as u8
}

/// The socket families the builder names (those of `parse::SockAddr::family_name`).
fn family(name: &[u8]) -> Option<&'static str> {
    ["inet", "inet6", "local", "netlink", "unix", "abstract"]
        .into_iter()
        .find(|f| f.as_bytes() == name)
}

/// Appends one entity (its id, to write `prev` as a distance).
pub fn put_entity(out: &mut Vec<u8>, d: &mut Delta, id: EntityId, e: &Entity) {
    put_varint(out, u64::from(e.host.0));
    put_varint(out, u64::from(e.version));
    put_opt(out, e.prev.map(|p| u64::from(id.0 - p.0)));
    put_delta(out, &mut d.seq, e.created.0);
    put_delta(out, &mut d.ms, e.created_ms);
    let sym = |s: Option<Sym>| s.map(|s| u64::from(s.0));
    let num = |n: Option<u32>| n.map(u64::from);
    match &e.detail {
        Detail::Process(p) => {
            out.push(if e.partial { 0x10 } else { 0 });
            put_varint(out, u64::from(p.pid));
            put_opt(out, num(p.ppid));
            put_varint(out, u64::from(p.boot));
            put_varint(out, e.created.0.wrapping_sub(p.start.0));
            for v in [
                sym(p.exe),
                sym(p.comm),
                sym(p.argv),
                num(p.uid),
                num(p.euid),
                num(p.auid),
            ] {
                put_opt(out, v);
            }
            out.push(match p.origin {
                ProcessOrigin::Clone => 0,
                ProcessOrigin::FirstSeen => 1,
            });
        }
        Detail::File(f) => {
            out.push(if e.partial { 0x11 } else { 1 });
            put_varint(out, u64::from(f.dev.0));
            put_varint(out, u64::from(f.dev.1));
            put_varint(out, f.inode);
            put_varint(out, u64::from(f.epoch));
            put_opt(out, sym(f.name));
            put_opt(out, num(f.mode));
        }
        Detail::Socket(s) => {
            out.push(if e.partial { 0x12 } else { 2 });
            put_bytes(out, s.family.as_bytes());
            put_opt(out, sym(s.addr));
            put_opt(out, s.port.map(u64::from));
            out.push(u8::from(s.local));
        }
        Detail::User(u) => {
            out.push(if e.partial { 0x13 } else { 3 });
            put_varint(out, u64::from(u.uid));
        }
        Detail::Module(m) => {
            out.push(if e.partial { 0x14 } else { 4 });
            put_varint(out, u64::from(m.name.0));
        }
        Detail::Container(c) => {
            out.push(if e.partial { 0x15 } else { 5 });
            put_varint(out, u64::from(c.contid.0));
        }
    }
}

/// Reads one entity written by [`put_entity`].
pub fn get_entity(r: &mut Reader<'_>, d: &mut Delta, id: EntityId) -> Option<Entity> {
    let host = HostId(r.u32()?);
    let version = r.u32()?;
    let prev = match r.opt()? {
        None => None,
        Some(dist) => Some(EntityId(id.0.checked_sub(u32::try_from(dist).ok()?)?)),
    };
    let created = Seq(r.delta(&mut d.seq)?);
    let created_ms = r.delta(&mut d.ms)?;
    let tag = r.byte()?;
    let partial = tag & 0x10 != 0;
    let sym = |v: Option<u32>| v.map(Sym);
    let detail = match tag & 0x0f {
        0 => {
            let pid = r.u32()?;
            let ppid = r.opt_u32()?;
            let boot = r.u32()?;
            let start = Seq(created.0.wrapping_sub(r.varint()?));
            let (exe, comm, argv) = (sym(r.opt_u32()?), sym(r.opt_u32()?), sym(r.opt_u32()?));
            let (uid, euid, auid) = (r.opt_u32()?, r.opt_u32()?, r.opt_u32()?);
            let origin = match r.byte()? {
                0 => ProcessOrigin::Clone,
                1 => ProcessOrigin::FirstSeen,
                _ => return None,
            };
            Detail::Process(Process {
                pid,
                ppid,
                boot,
                start,
                exe,
                comm,
                argv,
                uid,
                euid,
                auid,
                origin,
            })
        }
        1 => {
            let dev = (r.u32()?, r.u32()?);
            let inode = r.varint()?;
            let epoch = r.u32()?;
            let name = sym(r.opt_u32()?);
            let mode = r.opt_u32()?;
            Detail::File(File {
                dev,
                inode,
                epoch,
                name,
                mode,
            })
        }
        2 => {
            let family = family(r.bytes()?)?;
            let addr = sym(r.opt_u32()?);
            let port = match r.opt()? {
                None => None,
                Some(p) => Some(u16::try_from(p).ok()?),
            };
            let local = r.byte()? != 0;
            Detail::Socket(Socket {
                family,
                addr,
                port,
                local,
            })
        }
        3 => Detail::User(User { uid: r.u32()? }),
        4 => Detail::Module(Module {
            name: Sym(r.u32()?),
        }),
        5 => Detail::Container(Container {
            contid: Sym(r.u32()?),
        }),
        _ => return None,
    };
    Some(Entity {
        host,
        version,
        prev,
        created,
        created_ms,
        partial,
        detail,
    })
}

fn put_event(out: &mut Vec<u8>, ev: EventRef, ms: u64, serial: &mut u64) {
    put_varint(out, u64::from(ev.host.0));
    put_varint(out, zigzag(ev.ms.wrapping_sub(ms) as i64));
    put_delta(out, serial, ev.serial);
}

fn get_event(r: &mut Reader<'_>, ms: u64, serial: &mut u64) -> Option<EventRef> {
    let host = HostId(r.u32()?);
    let ms = ms.wrapping_add(unzigzag(r.varint()?) as u64);
    Some(EventRef {
        host,
        ms,
        serial: r.delta(serial)?,
    })
}

/// Appends one edge.
pub fn put_edge(out: &mut Vec<u8>, d: &mut Delta, e: &Edge) {
    put_varint(out, u64::from(e.from.0));
    put_varint(out, u64::from(e.to.0));
    out.push(op_code(e.op));
    put_delta(out, &mut d.seq, e.first.0);
    put_varint(out, e.last.0.wrapping_sub(e.first.0));
    put_delta(out, &mut d.ms, e.first_ms);
    put_varint(out, e.last_ms.wrapping_sub(e.first_ms));
    put_varint(out, u64::from(e.count));
    put_varint(out, e.bytes);
    put_event(out, e.first_event, e.first_ms, &mut d.serial);
    put_event(out, e.last_event, e.last_ms, &mut d.serial);
}

/// Reads one edge written by [`put_edge`].
pub fn get_edge(r: &mut Reader<'_>, d: &mut Delta) -> Option<Edge> {
    let from = EntityId(r.u32()?);
    let to = EntityId(r.u32()?);
    let op = *OPS.get(usize::from(r.byte()?))?;
    let first = Seq(r.delta(&mut d.seq)?);
    let last = Seq(first.0.wrapping_add(r.varint()?));
    let first_ms = r.delta(&mut d.ms)?;
    let last_ms = first_ms.wrapping_add(r.varint()?);
    let count = r.u32()?;
    let bytes = r.varint()?;
    let first_event = get_event(r, first_ms, &mut d.serial)?;
    let last_event = get_event(r, last_ms, &mut d.serial)?;
    Some(Edge {
        from,
        to,
        op,
        first,
        last,
        first_ms,
        last_ms,
        count,
        bytes,
        first_event,
        last_event,
    })
}

const INCOMPLETE: [Incomplete; 5] = [
    Incomplete::NoSyscallRecord,
    Incomplete::MissingPaths,
    Incomplete::MissingArguments,
    Incomplete::NoEoe,
    Incomplete::Evicted,
];

/// Appends one loss.
pub fn put_loss(out: &mut Vec<u8>, l: &Loss) {
    put_varint(out, u64::from(l.host.0));
    put_varint(out, l.at.0);
    put_varint(out, l.ms);
    match l.kind {
        LossKind::SerialGap { first, count } => {
            out.push(0);
            put_varint(out, u64::from(first));
            put_varint(out, u64::from(count));
        }
        LossKind::PartialEvent(why) => {
            out.push(1);
            out.push(
                INCOMPLETE
                    .iter()
                    .position(|&i| i == why)
                    .expect("every kind is listed") as u8,
            );
        }
        LossKind::KernelLost(n) => {
            out.push(2);
            put_varint(out, n);
        }
    }
}

/// Reads one loss written by [`put_loss`].
pub fn get_loss(r: &mut Reader<'_>) -> Option<Loss> {
    let host = HostId(r.u32()?);
    let at = Seq(r.varint()?);
    let ms = r.varint()?;
    let kind = match r.byte()? {
        0 => LossKind::SerialGap {
            first: r.u32()?,
            count: r.u32()?,
        },
        1 => LossKind::PartialEvent(*INCOMPLETE.get(usize::from(r.byte()?))?),
        2 => LossKind::KernelLost(r.varint()?),
        _ => return None,
    };
    Some(Loss { host, at, ms, kind })
}

/// Appends a name binding.
pub fn put_binding(out: &mut Vec<u8>, b: &NameBinding) {
    put_varint(out, u64::from(b.file.0));
    put_varint(out, b.from.0);
    put_opt(out, b.until.map(|u| u.0));
}

/// Reads a name binding written by [`put_binding`].
pub fn get_binding(r: &mut Reader<'_>) -> Option<NameBinding> {
    Some(NameBinding {
        file: EntityId(r.u32()?),
        from: Seq(r.varint()?),
        until: r.opt()?.map(Seq),
    })
}

/// Appends the graph's totals (what reduction merged) and whether it reduces.
pub fn put_stats(out: &mut Vec<u8>, g: &Graph) {
    put_varint(out, g.stats.edge_events);
    put_varint(out, g.stats.merged);
    out.push(u8::from(g.reduce));
}

/// Everything a [`Graph`] is made of, in the form storage gives it back.
#[derive(Debug, Default)]
pub struct GraphParts {
    /// Interned strings, by `Sym`.
    pub strings: Vec<Box<[u8]>>,
    /// Host names as symbols, by `HostId`.
    pub hosts: Vec<Sym>,
    pub entities: Vec<Entity>,
    pub edges: Vec<Edge>,
    pub names: Vec<((HostId, Sym), Vec<NameBinding>)>,
    pub losses: Vec<Loss>,
    /// What [`put_stats`] wrote.
    pub stats: Vec<u8>,
}

impl Graph {
    /// Puts a graph back together, rebuilding what is derived (adjacency, versions, the
    /// reduction's bookkeeping). `None` when the parts do not fit together.
    pub fn from_parts(parts: GraphParts) -> Option<Graph> {
        let mut r = Reader::new(&parts.stats);
        let stats = GraphStats {
            edge_events: r.varint()?,
            merged: r.varint()?,
        };
        let reduce = r.byte()? != 0;
        let mut g = Graph::new(reduce);
        for s in parts.strings {
            let sym = g.strings.intern(&s);
            if sym.0 as usize != g.strings.len() - 1 {
                return None; // a string twice
            }
        }
        let n_strings = g.strings.len() as u32;
        if parts.hosts.iter().any(|h| h.0 >= n_strings) {
            return None;
        }
        g.hosts = parts.hosts;
        for e in parts.entities {
            if e.prev.is_some_and(|p| p.0 as usize >= g.entities.len()) {
                return None;
            }
            g.add_entity(e);
        }
        let n = g.entities.len() as u32;
        for (i, e) in parts.edges.into_iter().enumerate() {
            if e.from.0 >= n || e.to.0 >= n {
                return None;
            }
            let (f, t) = (e.from.0 as usize, e.to.0 as usize);
            g.outs[f].push(EdgeId(i as u32));
            g.ins[t].push(EdgeId(i as u32));
            g.last_out[f] = g.last_out[f].max(e.last);
            g.last_in[t] = g.last_in[t].max(e.last);
            if reduce {
                g.merge.insert((e.from, e.to, e.op), EdgeId(i as u32));
            }
            g.edges.push(e);
        }
        g.names = parts.names.into_iter().collect();
        g.losses = parts.losses;
        g.stats = stats;
        Some(g)
    }

    /// The number of interned strings; their symbols are `0..string_count`.
    pub fn string_count(&self) -> usize {
        self.strings.len()
    }

    /// The symbol of a host's name.
    pub fn host_sym(&self, host: HostId) -> Sym {
        self.hosts[host.0 as usize]
    }

    /// Every `(host, name)` with the files it was bound to, in no particular order.
    pub fn names(&self) -> impl Iterator<Item = ((HostId, Sym), &[NameBinding])> + '_ {
        self.names.iter().map(|(&k, v)| (k, v.as_slice()))
    }
}

// ---- builder state ----

impl Builder {
    /// Appends what the builder needs besides its graph to go on adding events later: its
    /// process table with fd tables, its file, socket, user and module tables, pending clone3
    /// calls, counters.
    pub fn put_state(&self, out: &mut Vec<u8>) {
        crate::builder::put_state(self, out);
    }

    /// A builder that goes on from a graph and the state [`Builder::put_state`] wrote with it;
    /// `None` when the state is damaged or does not fit the graph.
    pub fn resume(g: Graph, state: &[u8]) -> Option<Builder> {
        crate::builder::resume(g, state)
    }
}

pub(crate) fn put_config(out: &mut Vec<u8>, c: Config) {
    out.push(u8::from(c.reduce) | (u8::from(c.version_files) << 1));
}

pub(crate) fn get_config(r: &mut Reader<'_>) -> Option<Config> {
    let b = r.byte()?;
    Some(Config {
        reduce: b & 1 != 0,
        version_files: b & 2 != 0,
    })
}

pub(crate) fn put_counters(out: &mut Vec<u8>, c: &Counters) {
    for v in [
        c.events,
        c.not_syscall,
        c.partial_events,
        c.failed_syscalls,
        c.unmodelled_syscalls,
        c.unknown_fd,
        c.threads,
        c.processes_first_seen,
        c.clones_after_child,
        c.pid_reuse_without_exit,
        c.no_inode,
        c.serial_gaps,
    ] {
        put_varint(out, v);
    }
}

pub(crate) fn get_counters(r: &mut Reader<'_>) -> Option<Counters> {
    Some(Counters {
        events: r.varint()?,
        not_syscall: r.varint()?,
        partial_events: r.varint()?,
        failed_syscalls: r.varint()?,
        unmodelled_syscalls: r.varint()?,
        unknown_fd: r.varint()?,
        threads: r.varint()?,
        processes_first_seen: r.varint()?,
        clones_after_child: r.varint()?,
        pid_reuse_without_exit: r.varint()?,
        no_inode: r.varint()?,
        serial_gaps: r.varint()?,
    })
}

pub(crate) fn put_opt_pub(out: &mut Vec<u8>, v: Option<u64>) {
    put_opt(out, v);
}

pub(crate) fn put_bytes_pub(out: &mut Vec<u8>, b: &[u8]) {
    put_bytes(out, b);
}

pub(crate) fn put_signed(out: &mut Vec<u8>, v: i64) {
    put_varint(out, zigzag(v));
}

impl Reader<'_> {
    pub(crate) fn opt_pub(&mut self) -> Option<Option<u64>> {
        self.opt()
    }

    pub(crate) fn byte_pub(&mut self) -> Option<u8> {
        self.byte()
    }

    pub(crate) fn signed(&mut self) -> Option<i64> {
        Some(unzigzag(self.varint()?))
    }

    pub(crate) fn family(&mut self) -> Option<&'static str> {
        family(self.bytes()?)
    }
}
