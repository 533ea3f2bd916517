//! The graph's vocabulary: entities (immutable versions of processes, files, sockets, users,
//! kernel modules and containers), edges in the direction information flows, and the order they are compared in.
//!
//! Nothing here knows about audit records; the builder maps events onto these shapes.

/// The order in which the builder consumed events: one step per event, shared by every edge the
/// event made.
///
/// For one node this is the order the kernel wrote the events in (their serials), which is the
/// order the syscalls *returned*; the event timestamp is taken when a syscall *enters*, so a
/// blocking `recvfrom` carries a time older than the `sendto` that woke it. Traces therefore
/// compare `Seq`s, and keep milliseconds for display and time windows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seq(pub u64);

impl Seq {
    pub const MIN: Seq = Seq(0);
    pub const MAX: Seq = Seq(u64::MAX);
}

/// Index of an entity (one version) in its graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntityId(pub u32);

/// Index of an edge in its graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EdgeId(pub u32);

/// Index of a host (the events' `node`; events without one share the host with the empty name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostId(pub u32);

/// An interned byte string (a path, an executable, a command line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sym(pub u32);

/// The event an edge came from: enough to find it again in the event store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventRef {
    pub host: HostId,
    pub ms: u64,
    pub serial: u64,
}

/// What kind of thing an entity is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityKind {
    Process,
    File,
    Socket,
    User,
    Module,
    /// An audit container id (`contid=` of CONTAINER_ID records): its processes' membership.
    Container,
}

impl EntityKind {
    /// Returns the stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Process => "process",
            EntityKind::File => "file",
            EntityKind::Socket => "socket",
            EntityKind::User => "user",
            EntityKind::Module => "module",
            EntityKind::Container => "container",
        }
    }
}

/// One version of one entity. Versions of the same thing are chained by `prev` and joined by an
/// edge from the older version to the newer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entity {
    pub host: HostId,
    /// 0 for the first version.
    pub version: u32,
    pub prev: Option<EntityId>,
    /// When the version came to be (the first event that mentioned it, for things that existed
    /// before the log started).
    pub created: Seq,
    pub created_ms: u64,
    /// Some event about it was partial: what we know of it may be incomplete.
    pub partial: bool,
    pub detail: Detail,
}

impl Entity {
    pub fn kind(&self) -> EntityKind {
        match self.detail {
            Detail::Process(_) => EntityKind::Process,
            Detail::File(_) => EntityKind::File,
            Detail::Socket(_) => EntityKind::Socket,
            Detail::User(_) => EntityKind::User,
            Detail::Module(_) => EntityKind::Module,
            Detail::Container(_) => EntityKind::Container,
        }
    }

    pub fn as_process(&self) -> Option<&Process> {
        match &self.detail {
            Detail::Process(p) => Some(p),
            _ => None,
        }
    }

    pub fn as_file(&self) -> Option<&File> {
        match &self.detail {
            Detail::File(f) => Some(f),
            _ => None,
        }
    }
}

/// What an entity is, with the attributes of its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    Process(Process),
    File(File),
    Socket(Socket),
    User(User),
    Module(Module),
    Container(Container),
}

/// A process version. Its identity is `(host, boot, pid, start)`: `start` tells apart the
/// processes that had the same pid one after another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    pub ppid: Option<u32>,
    /// Counts the node's reboots seen in the stream (0 until one is reported).
    pub boot: u32,
    /// When the process (its first version) started: its clone, or the first event seen of it.
    pub start: Seq,
    pub exe: Option<Sym>,
    pub comm: Option<Sym>,
    /// The arguments of the execve that made this version, NUL-separated.
    pub argv: Option<Sym>,
    pub uid: Option<u32>,
    pub euid: Option<u32>,
    pub auid: Option<u32>,
    /// How the process came to be known.
    pub origin: ProcessOrigin,
}

/// How the builder learned of a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessOrigin {
    /// Its parent's fork, vfork or clone was seen first.
    Clone,
    /// Its own records came first (the parent's clone came later or never: a process that
    /// existed before the log started, or a child whose parent's syscall returned after it ran).
    FirstSeen,
}

/// A file version. Identity: `(host, dev, inode, epoch)`; the epoch counts the times the inode
/// was created anew (inode numbers are reused after a file is deleted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub dev: (u32, u32),
    pub inode: u64,
    pub epoch: u32,
    /// The first name seen for it (its names over time are in [`crate::Graph::name_history`]).
    pub name: Option<Sym>,
    pub mode: Option<u32>,
}

/// A socket endpoint: where data went to or came from.
///
/// Keyed by its endpoint: the address a process connected to, bound, or sent to. Loopback and
/// wildcard addresses on the same host are one endpoint per port, so a client's `connect` to
/// `127.0.0.1:P` and a server's `bind` to `0.0.0.0:P` meet on one entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Socket {
    /// `inet`, `inet6`, `unix`, `abstract`, `netlink`, …
    pub family: &'static str,
    /// The address as first seen (dotted IPv4, RFC 5952 IPv6, a unix path).
    pub addr: Option<Sym>,
    pub port: Option<u16>,
    /// A loopback or wildcard address: the endpoint is scoped to its host.
    pub local: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub uid: u32,
}

/// A kernel module, named after the file it was loaded from (`finit_module`), or `?` when it came
/// from memory (`init_module`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Module {
    pub name: Sym,
}

/// An audit container id on a host: the orchestrator sets it on a process
/// (`/proc/PID/audit_containerid`), its children inherit it, and the kernel adds a CONTAINER_ID
/// record carrying it to their events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Container {
    /// The `contid=` value as written (one id, or the comma-separated ids of nested containers).
    pub contid: Sym,
}

/// What an edge stands for. The edge points the way information flows: from cause to effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// Parent → child.
    Fork,
    /// Older process version → version after execve; the executable → that version.
    Exec,
    /// Interpreter, loader or `mmap(PROT_EXEC)`ed file → process.
    Load,
    /// File → process (`read`, `pread`, `readv`, the read side of `sendfile`/`splice`).
    Read,
    /// Process → file.
    Write,
    /// Process → socket (`sendto`, `sendmsg`, `write` on a socket).
    Send,
    /// Socket → process.
    Recv,
    /// Opened for reading (file → process) or writing (process → file): the flow that a log
    /// without read/write rules still shows.
    Open,
    Connect,
    /// Socket → process.
    Accept,
    Bind,
    Rename,
    Link,
    Symlink,
    Unlink,
    Chmod,
    Chown,
    /// Older process version → version after a set*id; the new user → that version.
    Setid,
    /// Older process version → version after setns/unshare.
    Namespace,
    /// Older file version → newer (a write after a read).
    Version,
    /// Process → module; the module's file → module.
    ModuleLoad,
    /// Tracer → tracee.
    Ptrace,
    /// Sender → receiver of a signal.
    Kill,
    /// Container → a process version in it (once per version, when an event of it carries a
    /// CONTAINER_ID record). The container has no edges in, so a backward trace lists it and
    /// stops there; only a forward trace from the container reaches its processes.
    Member,
}

impl Op {
    /// Returns the stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Fork => "fork",
            Op::Exec => "exec",
            Op::Load => "load",
            Op::Read => "read",
            Op::Write => "write",
            Op::Send => "send",
            Op::Recv => "recv",
            Op::Open => "open",
            Op::Connect => "connect",
            Op::Accept => "accept",
            Op::Bind => "bind",
            Op::Rename => "rename",
            Op::Link => "link",
            Op::Symlink => "symlink",
            Op::Unlink => "unlink",
            Op::Chmod => "chmod",
            Op::Chown => "chown",
            Op::Setid => "setid",
            Op::Namespace => "namespace",
            Op::Version => "version",
            Op::ModuleLoad => "module_load",
            Op::Ptrace => "ptrace",
            Op::Kill => "kill",
            Op::Member => "member",
        }
    }
}

/// An edge: one or more events of the same operation between the same two entities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub from: EntityId,
    pub to: EntityId,
    pub op: Op,
    pub first: Seq,
    pub last: Seq,
    pub first_ms: u64,
    pub last_ms: u64,
    /// Events merged into this edge.
    pub count: u32,
    /// Bytes moved (the return value of reads and writes), summed.
    pub bytes: u64,
    pub first_event: EventRef,
    pub last_event: EventRef,
}

/// A name bound to a file over a span of the stream: created, renamed to, or linked as that name
/// at `from`; unlinked, renamed away or replaced at `until`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NameBinding {
    /// The file's version when the name was bound.
    pub file: EntityId,
    pub from: Seq,
    pub until: Option<Seq>,
}

/// Input we know is missing: an answer that reaches across it may be incomplete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loss {
    pub host: HostId,
    pub at: Seq,
    pub ms: u64,
    pub kind: LossKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LossKind {
    /// Serials never seen on the node.
    SerialGap { first: u32, count: u32 },
    /// An event with records most likely missing.
    PartialEvent(assemble::Incomplete),
    /// The kernel's `lost` counter moved by this much. The counter is read from the kernel's
    /// status (netlink `AUDIT_GET`) by a live collector; audit.log files do not carry it, so
    /// `auditmesh ingest` of files never records this kind.
    KernelLost(u64),
}
