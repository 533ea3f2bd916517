//! Events → graph: the per-host process table with its fd tables, the file and socket tables, and
//! one rule per syscall family for which edges an event makes.
//!
//! Each event advances [`Seq`] by one. Syscalls are recognised by name (via the event's `arch`),
//! so i386 and x86_64 share the rules. Failed syscalls make no edges (nothing flowed), except a
//! non-blocking `connect` that returned `EINPROGRESS`. Whatever cannot be placed (a read on an fd
//! opened before the log started or by an unaudited syscall, a syscall the graph has no rule
//! for) is counted in [`Counters`], never guessed.

mod container;

use assemble::summary::{PathItem, Summary, SummaryBuilder};
use assemble::{Event, SerialGap};
use parse::Fields;
use vocab::RecordType;

use crate::codec::{
    get_config, get_counters, put_bytes_pub, put_config, put_counters, put_opt_pub, put_signed,
    put_varint, Reader,
};
use crate::fxhash::FxHashMap;
use crate::graph::Graph;
use crate::model::{
    Detail, Entity, EntityId, EventRef, File, HostId, Loss, LossKind, Module, NameBinding, Op,
    Process, ProcessOrigin, Seq, Socket, Sym, User,
};

const CLONE_THREAD: u64 = 0x0001_0000;
const AT_FDCWD: u64 = 0xffff_ff9c;
const EINPROGRESS: i64 = -115;
const PROT_EXEC: u64 = 4;
const F_DUPFD: u64 = 0;
const F_DUPFD_CLOEXEC: u64 = 1030;

/// How the graph is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Merge repeated edges where causality allows (CPR). On by default.
    pub reduce: bool,
    /// Start a new file version on a write that follows a read of the current version, so that
    /// a later reader does not appear to depend on what was read before (on by default).
    pub version_files: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            reduce: true,
            version_files: true,
        }
    }
}

/// What the builder saw and what it could not place. Names are stable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub events: u64,
    /// Events without a SYSCALL record (user-space messages, configuration changes, …).
    pub not_syscall: u64,
    pub partial_events: u64,
    /// Syscalls that failed and so made no edge.
    pub failed_syscalls: u64,
    /// Successful syscalls the graph has no rule for.
    pub unmodelled_syscalls: u64,
    /// Reads, writes, closes and dups on an fd the process table did not know.
    pub unknown_fd: u64,
    /// Threads (clone with CLONE_THREAD): they share their process's entity.
    pub threads: u64,
    /// Processes first known from their own records, not from a clone.
    pub processes_first_seen: u64,
    /// Of those, ones later matched to their parent's clone.
    pub clones_after_child: u64,
    /// A clone returned a pid that was still alive in the table: its exit was not seen.
    pub pid_reuse_without_exit: u64,
    /// File operations whose PATH records did not say which inode.
    pub no_inode: u64,
    pub serial_gaps: u64,
}

type FileKey = (HostId, (u32, u32), u64);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Obj {
    File(FileKey),
    Socket(EntityId),
}

struct ProcState {
    current: EntityId,
    first: EntityId,
    fds: FxHashMap<i64, Obj>,
    exited: bool,
    origin: ProcessOrigin,
}

struct FileState {
    current: EntityId,
    epoch: u32,
    read_since_version: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct SocketKey {
    scope: Option<HostId>,
    family: &'static str,
    addr: Option<Sym>,
    port: Option<u16>,
}

/// Builds a [`Graph`] from events in the order they come.
pub struct Builder {
    g: Graph,
    config: Config,
    seq: u64,
    host_ids: FxHashMap<Vec<u8>, HostId>,
    procs: FxHashMap<(HostId, u32), ProcState>,
    files: FxHashMap<FileKey, FileState>,
    sockets: FxHashMap<SocketKey, EntityId>,
    users: FxHashMap<(HostId, u32), EntityId>,
    modules: FxHashMap<(HostId, Sym), EntityId>,
    /// clone3 calls whose child has not shown up yet (clone3 hides its flags in memory, so a
    /// thread cannot be told from a process until the pid acts on its own).
    pending_clone3: FxHashMap<(HostId, u32), (EntityId, Seq, EventRef)>,
    counters: Counters,
    /// Where recent serials fell in `Seq`, to place serial gaps (not persisted).
    serial_seqs: crate::serial_seq::SerialSeqs,
    /// Containers by (host, contid); filled from the graph when first needed (not persisted).
    containers: Option<FxHashMap<(HostId, Sym), EntityId>>,
}

/// One event's facts, read once.
struct Call<'a> {
    host: HostId,
    at: Seq,
    ev: EventRef,
    s: Summary<'a>,
    args: [u64; 4],
    name: &'static str,
    exit: i64,
}

impl Builder {
    pub fn new(config: Config) -> Builder {
        Builder {
            g: Graph::new(config.reduce),
            config,
            seq: 0,
            host_ids: FxHashMap::default(),
            procs: FxHashMap::default(),
            files: FxHashMap::default(),
            sockets: FxHashMap::default(),
            users: FxHashMap::default(),
            modules: FxHashMap::default(),
            pending_clone3: FxHashMap::default(),
            counters: Counters::default(),
            serial_seqs: Default::default(),
            containers: None,
        }
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Returns the graph built so far.
    pub fn graph(&self) -> &Graph {
        &self.g
    }

    /// Ends the build.
    pub fn finish(self) -> Graph {
        self.g
    }

    fn host(&mut self, node: Option<&[u8]>) -> HostId {
        let node = node.unwrap_or_default();
        if let Some(&h) = self.host_ids.get(node) {
            return h;
        }
        let h = HostId(self.g.hosts.len() as u32);
        let sym = self.g.strings.intern(node);
        self.g.hosts.push(sym);
        self.host_ids.insert(node.to_vec(), h);
        h
    }

    /// Records serials that never arrived: answers that reach across them may be incomplete.
    /// A gap already recorded — same host, first serial and count: the same input assembled
    /// again after a crash — is not recorded twice.
    pub fn gap(&mut self, node: Option<&[u8]>, gap: &SerialGap) {
        let host = self.host(node);
        let known = self.g.losses.iter().any(|l| {
            l.host == host && l.kind == LossKind::SerialGap { first: gap.first, count: gap.count }
        });
        if known {
            return;
        }
        self.counters.serial_gaps += 1;
        // after the last event before the missing serials, not where the gap was confirmed
        let at = self.serial_seqs.before(host, u64::from(gap.first)).unwrap_or(Seq(self.seq));
        let loss = Loss {
            host,
            at,
            ms: gap.noticed_ms,
            kind: LossKind::SerialGap {
                first: gap.first,
                count: gap.count,
            },
        };
        // losses stay in `Seq` order
        let i = self.g.losses.partition_point(|l| l.at <= at);
        self.g.losses.insert(i, loss);
    }

    /// Records the kernel's `lost` counter moving on a node.
    pub fn kernel_lost(&mut self, node: Option<&[u8]>, ms: u64, lost: u64) {
        let host = self.host(node);
        self.g.losses.push(Loss {
            host,
            at: Seq(self.seq),
            ms,
            kind: LossKind::KernelLost(lost),
        });
    }

    /// Adds one event.
    pub fn event(&mut self, event: &Event) {
        self.seq += 1;
        self.counters.events += 1;
        let at = Seq(self.seq);
        let host = self.host(event.node());
        let ev = EventRef {
            host,
            ms: event.id.time.millis,
            serial: event.id.serial.0,
        };
        self.serial_seqs.note(host, ev.serial, at);
        if let Some(&why) = event.incomplete.first() {
            self.counters.partial_events += 1;
            self.g.losses.push(Loss {
                host,
                at,
                ms: ev.ms,
                kind: LossKind::PartialEvent(why),
            });
        }
        let Some((s, args)) = read_event(event) else {
            self.counters.not_syscall += 1;
            return;
        };
        let (Some(pid), Some(name)) = (s.pid, s.syscall_name()) else {
            self.counters.unmodelled_syscalls += 1;
            return;
        };
        let exit = s.exit.unwrap_or(0);
        // exit_group has no success= field: it does not return
        let ok = s.success.unwrap_or(true);
        let call = Call {
            host,
            at,
            ev,
            args,
            name,
            exit,
            s,
        };
        let proc = self.process(&call, pid, name.starts_with("execve"));
        if event.is_partial() {
            self.g.entities[proc.0 as usize].partial = true;
        }
        let connecting = matches!(name, "connect") && exit == EINPROGRESS;
        if !ok && !connecting {
            self.counters.failed_syscalls += 1;
        } else {
            self.apply(&call, pid, proc, event);
        }
        // the version the call left (a new one after execve), whether it succeeded or not
        let now = self.procs.get(&(host, pid)).map_or(proc, |p| p.current);
        self.join_container(&call, now, event);
    }

    fn apply(&mut self, c: &Call<'_>, pid: u32, proc: EntityId, event: &Event) {
        let [a0, a1, a2, _a3] = c.args;
        match c.name {
            "fork" | "vfork" | "clone" | "clone3" => self.clone_call(c, pid, proc),
            "execve" | "execveat" => self.exec(c, pid, proc, event),
            "exit_group" => {
                if let Some(st) = self.procs.get_mut(&(c.host, pid)) {
                    st.exited = true;
                    st.fds = FxHashMap::default();
                }
            }
            "open" | "openat" | "openat2" | "creat" => {
                let flags = match c.name {
                    "open" => a1,
                    "openat" => a2,
                    "creat" => 1,
                    _ => 0,
                };
                let dirfd = if c.name == "openat" || c.name == "openat2" {
                    Some(a0)
                } else {
                    None
                };
                let Some(item) =
                    c.s.paths
                        .iter()
                        .rev()
                        .find(|p| p.nametype != Some(b"PARENT"))
                else {
                    self.counters.no_inode += 1;
                    return;
                };
                let created = item.nametype == Some(b"CREATE");
                let Some(file) = self.file(c, item, created, dirfd) else {
                    return;
                };
                if c.exit >= 0 {
                    self.set_fd(c.host, pid, c.exit, Some(Obj::File(file)));
                }
                match flags & 3 {
                    0 => self.read_file(c, file, proc, Op::Open, 0),
                    1 => self.write_file(c, proc, file, Op::Open, 0),
                    _ => {
                        self.read_file(c, file, proc, Op::Open, 0);
                        self.write_file(c, proc, file, Op::Open, 0);
                    }
                }
            }
            "read" | "pread" | "pread64" | "readv" | "preadv" | "preadv2" | "recvfrom"
            | "recvmsg" | "recvmmsg" => {
                let op = if c.name.starts_with("recv") {
                    Op::Recv
                } else {
                    Op::Read
                };
                self.input(c, pid, proc, a0, op);
            }
            "write" | "pwrite" | "pwrite64" | "writev" | "pwritev" | "pwritev2" | "sendto"
            | "sendmsg" | "sendmmsg" => {
                let op = if c.name.starts_with("send") {
                    Op::Send
                } else {
                    Op::Write
                };
                // an address given with the send names the destination
                if let (Op::Send, Some(sock)) = (op, self.sockaddr_entity(c)) {
                    self.g
                        .add_edge(proc, sock, Op::Send, c.at, c.ev, bytes(c.exit));
                } else {
                    self.output(c, pid, proc, a0, op);
                }
            }
            "sendfile" | "sendfile64" => {
                self.input(c, pid, proc, a1, Op::Read);
                self.output(c, pid, proc, a0, Op::Write);
            }
            "splice" | "copy_file_range" | "tee" => {
                self.input(c, pid, proc, a0, Op::Read);
                self.output(c, pid, proc, a2, Op::Write);
            }
            "close" => {
                if self.fd(c.host, pid, a0 as i64).is_none() {
                    self.counters.unknown_fd += 1;
                }
                self.set_fd(c.host, pid, a0 as i64, None);
            }
            "dup" => self.dup(c.host, pid, a0 as i64, c.exit),
            "dup2" | "dup3" => self.dup(c.host, pid, a0 as i64, a1 as i64),
            "fcntl" | "fcntl64" if a1 == F_DUPFD || a1 == F_DUPFD_CLOEXEC => {
                self.dup(c.host, pid, a0 as i64, c.exit)
            }
            "mmap" | "mmap2" if a2 & PROT_EXEC != 0 => {
                if let Some(fd) = mmap_fd(event) {
                    match self.fd(c.host, pid, fd) {
                        Some(Obj::File(file)) => self.read_file(c, file, proc, Op::Load, 0),
                        Some(Obj::Socket(_)) => {}
                        None => self.counters.unknown_fd += 1,
                    }
                }
            }
            "connect" => {
                if let Some(sock) = self.sockaddr_entity(c) {
                    self.set_fd(c.host, pid, a0 as i64, Some(Obj::Socket(sock)));
                    self.g.add_edge(proc, sock, Op::Connect, c.at, c.ev, 0);
                }
            }
            "bind" => {
                if let Some(sock) = self.sockaddr_entity(c) {
                    self.set_fd(c.host, pid, a0 as i64, Some(Obj::Socket(sock)));
                    self.g.add_edge(proc, sock, Op::Bind, c.at, c.ev, 0);
                }
            }
            "accept" | "accept4" => match self.fd(c.host, pid, a0 as i64) {
                Some(Obj::Socket(sock)) => {
                    self.set_fd(c.host, pid, c.exit, Some(Obj::Socket(sock)));
                    self.g.add_edge(sock, proc, Op::Accept, c.at, c.ev, 0);
                }
                _ => self.counters.unknown_fd += 1,
            },
            "listen" => {}
            "rename" | "renameat" | "renameat2" => self.rename(c, proc, dirfd_of(c.name, a0)),
            "link" | "linkat" => self.link(c, proc, dirfd_of(c.name, a0)),
            "symlink" | "symlinkat" => {
                let dirfd = if c.name == "symlinkat" {
                    Some(a1)
                } else {
                    None
                };
                if let Some(item) = c.s.paths.iter().find(|p| p.nametype == Some(b"CREATE")) {
                    if let Some(file) = self.file(c, item, true, dirfd) {
                        self.write_file(c, proc, file, Op::Symlink, 0);
                    }
                }
            }
            "unlink" | "unlinkat" | "rmdir" => {
                let dirfd = dirfd_of(c.name, a0);
                for item in c.s.paths.iter().filter(|p| p.nametype == Some(b"DELETE")) {
                    if let Some(file) = self.file_no_name(c, item) {
                        self.unbind(c, item, dirfd);
                        self.write_file(c, proc, file, Op::Unlink, 0);
                    }
                }
            }
            "chmod" | "fchmodat" | "fchmodat2" | "chown" | "lchown" | "fchownat" | "chown32"
            | "lchown32" => {
                let op = if c.name.contains("chmod") {
                    Op::Chmod
                } else {
                    Op::Chown
                };
                let dirfd = dirfd_of(c.name, a0);
                if let Some(item) = c.s.paths.iter().find(|p| p.nametype != Some(b"PARENT")) {
                    if let Some(file) = self.file(c, item, false, dirfd) {
                        self.write_file(c, proc, file, op, 0);
                    }
                }
            }
            "fchmod" | "fchown" | "fchown32" => {
                let op = if c.name == "fchmod" {
                    Op::Chmod
                } else {
                    Op::Chown
                };
                match self.fd(c.host, pid, a0 as i64) {
                    Some(Obj::File(file)) => self.write_file(c, proc, file, op, 0),
                    _ => self.counters.unknown_fd += 1,
                }
            }
            "setuid" | "setgid" | "setreuid" | "setregid" | "setresuid" | "setresgid"
            | "setfsuid" | "setfsgid" | "setgroups" | "setuid32" | "setgid32" | "setreuid32"
            | "setregid32" | "setresuid32" | "setresgid32" | "setfsuid32" | "setfsgid32"
            | "setgroups32" => {
                let new = self.new_process_version(c, pid, proc, Op::Setid, None);
                if let Some(uid) =
                    c.s.ids
                        .iter()
                        .find(|(f, _)| *f == "euid")
                        .and_then(|(_, id)| id.value)
                {
                    let user = self.user(c, uid);
                    self.g.add_edge(user, new, Op::Setid, c.at, c.ev, 0);
                }
            }
            "setns" | "unshare" => {
                self.new_process_version(c, pid, proc, Op::Namespace, None);
            }
            "init_module" | "finit_module" => {
                let (name, file) = match (c.name, self.fd(c.host, pid, a0 as i64)) {
                    ("finit_module", Some(Obj::File(file))) => {
                        let current = self.files[&file].current;
                        (
                            self.g.entity(current).as_file().and_then(|f| f.name),
                            Some(file),
                        )
                    }
                    _ => (None, None),
                };
                let name = name.unwrap_or_else(|| self.g.strings.intern(b"?"));
                let module = self.module(c, name);
                self.g.add_edge(proc, module, Op::ModuleLoad, c.at, c.ev, 0);
                if let Some(file) = file {
                    let current = self.files[&file].current;
                    self.g
                        .add_edge(current, module, Op::ModuleLoad, c.at, c.ev, 0);
                }
            }
            "ptrace" => {
                // PTRACE_TRACEME (0) names the parent implicitly; the others name the tracee
                if a0 != 0 && a1 > 0 && a1 < u64::from(u32::MAX) {
                    let target = self.process_by_pid(c, a1 as u32);
                    self.g.add_edge(proc, target, Op::Ptrace, c.at, c.ev, 0);
                }
            }
            "kill" | "tkill" | "tgkill" => {
                let target = a0 as i64 as i32;
                if target > 0 {
                    let target = self.process_by_pid(c, target as u32);
                    if target != proc {
                        self.g.add_edge(proc, target, Op::Kill, c.at, c.ev, 0);
                    }
                }
            }
            _ => self.counters.unmodelled_syscalls += 1,
        }
    }

    // ---- processes ----

    /// Returns the current version of the process that made the event, creating it when it is
    /// new: one that existed before the log started, a child whose records came before its
    /// parent's clone returned, or a pid reused after an exit we saw.
    fn process(&mut self, c: &Call<'_>, pid: u32, is_exec: bool) -> EntityId {
        if let Some(st) = self.procs.get(&(c.host, pid)) {
            if !st.exited {
                return st.current;
            }
        }
        let pending = self.pending_clone3.remove(&(c.host, pid));
        let parent = match pending {
            Some((parent, _, _)) => Some(parent),
            None => {
                c.s.ppid
                    .and_then(|ppid| self.procs.get(&(c.host, ppid)))
                    .filter(|p| !p.exited)
                    .map(|p| p.current)
            }
        };
        let fds = parent
            .and_then(|p| self.parent_fds(c.host, p))
            .unwrap_or_default();
        let (start, origin) = match pending {
            Some((_, at, _)) => (at, ProcessOrigin::Clone),
            None => (c.at, ProcessOrigin::FirstSeen),
        };
        if origin == ProcessOrigin::FirstSeen {
            self.counters.processes_first_seen += 1;
        }
        // an execve event shows the program after the exec: the version before it is unnamed
        let (exe, comm) = if is_exec {
            (None, None)
        } else {
            (self.sym(c.s.exe.as_deref()), self.sym(c.s.comm.as_deref()))
        };
        let detail = Process {
            pid,
            ppid: c.s.ppid,
            boot: 0,
            start,
            exe,
            comm,
            argv: None,
            uid: id_of(&c.s, "uid"),
            euid: id_of(&c.s, "euid"),
            auid: id_of(&c.s, "auid"),
            origin,
        };
        let id = self.g.add_entity(Entity {
            host: c.host,
            version: 0,
            prev: None,
            created: start,
            created_ms: pending.map_or(c.ev.ms, |(_, _, ev)| ev.ms),
            partial: false,
            detail: Detail::Process(detail),
        });
        if let Some(parent) = parent {
            let (at, ev) = pending.map_or((c.at, c.ev), |(_, at, ev)| (at, ev));
            self.g.add_edge(parent, id, Op::Fork, at, ev, 0);
        }
        self.procs.insert(
            (c.host, pid),
            ProcState {
                current: id,
                first: id,
                fds,
                exited: false,
                origin,
            },
        );
        id
    }

    /// The process a signal or ptrace names: the live one with that pid, or a new one.
    fn process_by_pid(&mut self, c: &Call<'_>, pid: u32) -> EntityId {
        if let Some(st) = self.procs.get(&(c.host, pid)).filter(|st| !st.exited) {
            return st.current;
        }
        let id = self.g.add_entity(Entity {
            host: c.host,
            version: 0,
            prev: None,
            created: c.at,
            created_ms: c.ev.ms,
            partial: false,
            detail: Detail::Process(Process {
                pid,
                ppid: None,
                boot: 0,
                start: c.at,
                exe: None,
                comm: None,
                argv: None,
                uid: None,
                euid: None,
                auid: None,
                origin: ProcessOrigin::FirstSeen,
            }),
        });
        self.counters.processes_first_seen += 1;
        let st = ProcState {
            current: id,
            first: id,
            fds: FxHashMap::default(),
            exited: false,
            origin: ProcessOrigin::FirstSeen,
        };
        self.procs.insert((c.host, pid), st);
        id
    }

    fn parent_fds(&self, host: HostId, parent: EntityId) -> Option<FxHashMap<i64, Obj>> {
        let pid = self.g.entity(parent).as_process()?.pid;
        self.procs.get(&(host, pid)).map(|st| st.fds.clone())
    }

    fn clone_call(&mut self, c: &Call<'_>, pid: u32, parent: EntityId) {
        if c.name == "clone" && c.args[0] & CLONE_THREAD != 0 {
            self.counters.threads += 1;
            return;
        }
        let Ok(child) = u32::try_from(c.exit) else {
            return;
        };
        if child == 0 {
            return;
        }
        let key = (c.host, child);
        if let Some(st) = self.procs.get_mut(&key) {
            let first = st.first;
            // the child ran (and maybe exec'd or even exited) before our clone returned: it is
            // known from its own records, names us as parent, and no clone claimed it yet
            let is_ours = st.origin == ProcessOrigin::FirstSeen
                && self.g.entity(first).as_process().and_then(|p| p.ppid) == Some(pid);
            if is_ours || !st.exited {
                if is_ours {
                    st.origin = ProcessOrigin::Clone;
                    self.counters.clones_after_child += 1;
                    if let Detail::Process(p) = &mut self.g.entities[first.0 as usize].detail {
                        p.origin = ProcessOrigin::Clone;
                    }
                    if self
                        .g
                        .in_edges(first)
                        .iter()
                        .all(|&e| self.g.edge(e).op != Op::Fork)
                    {
                        let at = self.g.entity(first).created;
                        self.g.add_edge(parent, first, Op::Fork, at, c.ev, 0);
                    }
                    return;
                }
                self.counters.pid_reuse_without_exit += 1;
                st.exited = true;
            }
        }
        if c.name == "clone3" {
            self.pending_clone3.insert(key, (parent, c.at, c.ev));
            return;
        }
        let p = self.g.entity(parent).as_process().cloned();
        let fds = self
            .procs
            .get(&(c.host, pid))
            .map(|st| st.fds.clone())
            .unwrap_or_default();
        let detail = Process {
            pid: child,
            ppid: Some(pid),
            boot: 0,
            start: c.at,
            exe: p.as_ref().and_then(|p| p.exe),
            comm: p.as_ref().and_then(|p| p.comm),
            argv: p.as_ref().and_then(|p| p.argv),
            uid: p.as_ref().and_then(|p| p.uid),
            euid: p.as_ref().and_then(|p| p.euid),
            auid: p.as_ref().and_then(|p| p.auid),
            origin: ProcessOrigin::Clone,
        };
        let id = self.first_version(c, Detail::Process(detail));
        self.g.add_edge(parent, id, Op::Fork, c.at, c.ev, 0);
        self.procs.insert(
            key,
            ProcState {
                current: id,
                first: id,
                fds,
                exited: false,
                origin: ProcessOrigin::Clone,
            },
        );
    }

    /// Makes a new version of a process from the event's view of it, joined by an `op` edge.
    fn new_process_version(
        &mut self,
        c: &Call<'_>,
        pid: u32,
        prev: EntityId,
        op: Op,
        argv: Option<Sym>,
    ) -> EntityId {
        let old = self.g.entity(prev).clone();
        let Detail::Process(mut p) = old.detail else {
            return prev;
        };
        p.exe = self.sym(c.s.exe.as_deref()).or(p.exe);
        p.comm = self.sym(c.s.comm.as_deref()).or(p.comm);
        if argv.is_some() {
            p.argv = argv;
        }
        p.uid = id_of(&c.s, "uid").or(p.uid);
        p.euid = id_of(&c.s, "euid").or(p.euid);
        p.auid = id_of(&c.s, "auid").or(p.auid);
        let id = self.g.add_entity(Entity {
            host: c.host,
            version: old.version + 1,
            prev: Some(prev),
            created: c.at,
            created_ms: c.ev.ms,
            partial: false,
            detail: Detail::Process(p),
        });
        self.g.add_edge(prev, id, op, c.at, c.ev, 0);
        if let Some(st) = self.procs.get_mut(&(c.host, pid)) {
            st.current = id;
        }
        id
    }

    fn exec(&mut self, c: &Call<'_>, pid: u32, proc: EntityId, event: &Event) {
        let argv = event.argv.as_ref().map(|a| {
            let mut joined = Vec::new();
            for (i, arg) in a.iter().enumerate() {
                if i > 0 {
                    joined.push(0);
                }
                joined.extend_from_slice(arg);
            }
            self.g.strings.intern(&joined)
        });
        let new = self.new_process_version(c, pid, proc, Op::Exec, argv);
        let dirfd = if c.name == "execveat" {
            Some(c.args[0])
        } else {
            None
        };
        let items: Vec<PathItem<'_>> =
            c.s.paths
                .iter()
                .filter(|p| p.nametype == Some(b"NORMAL"))
                .cloned()
                .collect();
        for (i, item) in items.iter().enumerate() {
            let op = if i == 0 { Op::Exec } else { Op::Load };
            if let Some(file) = self.file(c, item, false, dirfd) {
                self.read_file(c, file, new, op, 0);
            }
        }
    }

    // ---- fds ----

    fn fd(&self, host: HostId, pid: u32, fd: i64) -> Option<Obj> {
        self.procs
            .get(&(host, pid))
            .and_then(|st| st.fds.get(&fd))
            .copied()
    }

    fn set_fd(&mut self, host: HostId, pid: u32, fd: i64, obj: Option<Obj>) {
        if let Some(st) = self.procs.get_mut(&(host, pid)) {
            match obj {
                Some(o) => {
                    st.fds.insert(fd, o);
                }
                None => {
                    st.fds.remove(&fd);
                }
            }
        }
    }

    fn dup(&mut self, host: HostId, pid: u32, old: i64, new: i64) {
        let obj = self.fd(host, pid, old);
        if obj.is_none() {
            self.counters.unknown_fd += 1;
        }
        if new >= 0 && new != old {
            self.set_fd(host, pid, new, obj);
        }
    }

    fn input(&mut self, c: &Call<'_>, pid: u32, proc: EntityId, fd: u64, op: Op) {
        match self.fd(c.host, pid, fd as i64) {
            Some(Obj::File(file)) => self.read_file(c, file, proc, op, bytes(c.exit)),
            Some(Obj::Socket(sock)) => {
                self.g
                    .add_edge(sock, proc, Op::Recv, c.at, c.ev, bytes(c.exit));
            }
            None => self.counters.unknown_fd += 1,
        }
    }

    fn output(&mut self, c: &Call<'_>, pid: u32, proc: EntityId, fd: u64, op: Op) {
        match self.fd(c.host, pid, fd as i64) {
            Some(Obj::File(file)) => self.write_file(c, proc, file, op, bytes(c.exit)),
            Some(Obj::Socket(sock)) => {
                self.g
                    .add_edge(proc, sock, Op::Send, c.at, c.ev, bytes(c.exit));
            }
            None => self.counters.unknown_fd += 1,
        }
    }

    // ---- files ----

    fn read_file(&mut self, c: &Call<'_>, file: FileKey, proc: EntityId, op: Op, bytes: u64) {
        let Some(st) = self.files.get_mut(&file) else {
            return;
        };
        st.read_since_version = true;
        let current = st.current;
        self.g.add_edge(current, proc, op, c.at, c.ev, bytes);
    }

    fn write_file(&mut self, c: &Call<'_>, proc: EntityId, file: FileKey, op: Op, bytes: u64) {
        let Some(st) = self.files.get_mut(&file) else {
            return;
        };
        let mut current = st.current;
        if self.config.version_files && st.read_since_version {
            st.read_since_version = false;
            let old = self.g.entity(current).clone();
            let new = self.g.add_entity(Entity {
                host: old.host,
                version: old.version + 1,
                prev: Some(current),
                created: c.at,
                created_ms: c.ev.ms,
                partial: false,
                detail: old.detail,
            });
            self.g.add_edge(current, new, Op::Version, c.at, c.ev, 0);
            self.files.get_mut(&file).expect("present").current = new;
            current = new;
        }
        self.g.add_edge(proc, current, op, c.at, c.ev, bytes);
    }

    /// Returns the file a PATH item names, creating it (or a new epoch of a reused inode when
    /// `created`), and binds the item's name to it.
    fn file(
        &mut self,
        c: &Call<'_>,
        item: &PathItem<'_>,
        created: bool,
        dirfd: Option<u64>,
    ) -> Option<FileKey> {
        let key = self.file_no_name_inner(c, item, created)?;
        if let Some(name) = self.full_name(c, item, dirfd) {
            let current = self.files[&key].current;
            let open = self
                .g
                .names
                .get(&(c.host, name))
                .and_then(|b| b.last())
                .filter(|b| b.until.is_none())
                .map(|b| b.file);
            let same =
                open.is_some_and(|f| self.g.first_version(f) == self.g.first_version(current));
            if !same {
                let bindings = self.g.names.entry((c.host, name)).or_default();
                if let Some(last) = bindings.last_mut() {
                    if last.until.is_none() {
                        last.until = Some(c.at);
                    }
                }
                bindings.push(NameBinding {
                    file: current,
                    from: c.at,
                    until: None,
                });
            }
            if let Detail::File(f) = &mut self.g.entities[current.0 as usize].detail {
                if f.name.is_none() {
                    f.name = Some(name);
                }
            }
        }
        Some(key)
    }

    fn file_no_name(&mut self, c: &Call<'_>, item: &PathItem<'_>) -> Option<FileKey> {
        self.file_no_name_inner(c, item, false)
    }

    fn file_no_name_inner(
        &mut self,
        c: &Call<'_>,
        item: &PathItem<'_>,
        created: bool,
    ) -> Option<FileKey> {
        let (Some(inode), Some(dev)) = (item.inode, item.dev) else {
            self.counters.no_inode += 1;
            return None;
        };
        let key = (c.host, dev, inode);
        let epoch = match self.files.get(&key) {
            Some(_) if !created => return Some(key),
            Some(st) => st.epoch + 1,
            None => 0,
        };
        let id = self.first_version(
            c,
            Detail::File(File {
                dev,
                inode,
                epoch,
                name: None,
                mode: item.mode,
            }),
        );
        self.files.insert(
            key,
            FileState {
                current: id,
                epoch,
                read_since_version: false,
            },
        );
        Some(key)
    }

    fn unbind(&mut self, c: &Call<'_>, item: &PathItem<'_>, dirfd: Option<u64>) {
        let Some(name) = self.full_name(c, item, dirfd) else {
            return;
        };
        if let Some(last) = self
            .g
            .names
            .get_mut(&(c.host, name))
            .and_then(|b| b.last_mut())
        {
            if last.until.is_none() {
                last.until = Some(c.at);
            }
        }
    }

    fn rename(&mut self, c: &Call<'_>, proc: EntityId, dirfd: Option<u64>) {
        let items = &c.s.paths;
        let Some(old) = items.iter().find(|p| p.nametype == Some(b"DELETE")) else {
            return;
        };
        let new = items
            .iter()
            .find(|p| p.nametype == Some(b"CREATE") && p.inode == old.inode);
        self.unbind(c, old, dirfd);
        // the new name is relative to the second dirfd (renameat's a2)
        let new_dirfd = if c.name.starts_with("renameat") {
            Some(c.args[2])
        } else {
            None
        };
        let file = match new {
            Some(new) => self.file(c, new, false, new_dirfd),
            None => self.file_no_name(c, old),
        };
        if let Some(file) = file {
            self.write_file(c, proc, file, Op::Rename, 0);
        }
    }

    fn link(&mut self, c: &Call<'_>, proc: EntityId, _dirfd: Option<u64>) {
        let Some(new) = c.s.paths.iter().find(|p| p.nametype == Some(b"CREATE")) else {
            return;
        };
        let new_dirfd = if c.name == "linkat" {
            Some(c.args[2])
        } else {
            None
        };
        if let Some(file) = self.file(c, new, false, new_dirfd) {
            self.write_file(c, proc, file, Op::Link, 0);
        }
    }

    /// The absolute name of a PATH item: as given, or joined to the event's cwd when relative to
    /// the working directory. A name relative to another directory fd stays unknown.
    fn full_name(&mut self, c: &Call<'_>, item: &PathItem<'_>, dirfd: Option<u64>) -> Option<Sym> {
        let name = item.name.as_deref()?;
        if name.first() == Some(&b'/') {
            return Some(self.g.strings.intern(&assemble::path::normalize(name)));
        }
        if dirfd.is_some_and(|d| d != AT_FDCWD) {
            return None;
        }
        let cwd = c.s.cwd.as_deref()?;
        let mut joined = cwd.to_vec();
        joined.push(b'/');
        joined.extend_from_slice(name);
        Some(self.g.strings.intern(&assemble::path::normalize(&joined)))
    }

    // ---- sockets, users, modules ----

    fn sockaddr_entity(&mut self, c: &Call<'_>) -> Option<EntityId> {
        let sa = c.s.sockaddr.as_ref()?;
        let family = sa.family?;
        let addr = sa.addr.as_deref();
        let local = match sa.kind.as_str() {
            "inet" => addr.is_some_and(|a| a.starts_with(b"127.") || a == b"0.0.0.0"),
            "inet6" => {
                addr.is_some_and(|a| a == b"::1" || a == b"::" || a.starts_with(b"::ffff:127."))
            }
            _ => true,
        };
        let key_addr = if local && matches!(sa.kind.as_str(), "inet" | "inet6") {
            None
        } else {
            addr.map(|a| self.g.strings.intern(a))
        };
        let key = SocketKey {
            scope: local.then_some(c.host),
            family,
            addr: key_addr,
            port: sa.port,
        };
        if let Some(&id) = self.sockets.get(&key) {
            return Some(id);
        }
        let addr = addr.map(|a| self.g.strings.intern(a));
        let id = self.first_version(
            c,
            Detail::Socket(Socket {
                family,
                addr,
                port: sa.port,
                local,
            }),
        );
        self.sockets.insert(key, id);
        Some(id)
    }

    /// Adds the first version of an entity seen in call `c`.
    fn first_version(&mut self, c: &Call<'_>, detail: Detail) -> EntityId {
        self.g.add_entity(Entity {
            host: c.host,
            version: 0,
            prev: None,
            created: c.at,
            created_ms: c.ev.ms,
            partial: false,
            detail,
        })
    }

    fn user(&mut self, c: &Call<'_>, uid: u32) -> EntityId {
        if let Some(&id) = self.users.get(&(c.host, uid)) {
            return id;
        }
        let id = self.first_version(c, Detail::User(User { uid }));
        self.users.insert((c.host, uid), id);
        id
    }

    fn module(&mut self, c: &Call<'_>, name: Sym) -> EntityId {
        if let Some(&id) = self.modules.get(&(c.host, name)) {
            return id;
        }
        let id = self.first_version(c, Detail::Module(Module { name }));
        self.modules.insert((c.host, name), id);
        id
    }

    fn sym(&mut self, bytes: Option<&[u8]>) -> Option<Sym> {
        bytes.map(|b| self.g.strings.intern(b))
    }
}

// ---- state, for persistence (the encoding helpers are in `codec`) ----

fn put_obj(out: &mut Vec<u8>, o: &Obj) {
    match *o {
        Obj::File((host, dev, inode)) => {
            out.push(0);
            for v in [u64::from(host.0), u64::from(dev.0), u64::from(dev.1), inode] {
                put_varint(out, v);
            }
        }
        Obj::Socket(id) => {
            out.push(1);
            put_varint(out, u64::from(id.0));
        }
    }
}

fn get_obj(r: &mut Reader<'_>) -> Option<Obj> {
    match r.byte_pub()? {
        0 => Some(Obj::File((
            HostId(r.u32()?),
            (r.u32()?, r.u32()?),
            r.varint()?,
        ))),
        1 => Some(Obj::Socket(EntityId(r.u32()?))),
        _ => None,
    }
}

fn put_event_ref(out: &mut Vec<u8>, ev: &EventRef) {
    for v in [u64::from(ev.host.0), ev.ms, ev.serial] {
        put_varint(out, v);
    }
}

pub(crate) fn put_state(b: &Builder, out: &mut Vec<u8>) {
    put_config(out, b.config);
    put_varint(out, b.seq);
    put_varint(out, b.procs.len() as u64);
    for (&(host, pid), st) in &b.procs {
        for v in [
            u64::from(host.0),
            u64::from(pid),
            u64::from(st.current.0),
            u64::from(st.first.0),
        ] {
            put_varint(out, v);
        }
        out.push(u8::from(st.exited) | (u8::from(st.origin == ProcessOrigin::FirstSeen) << 1));
        put_varint(out, st.fds.len() as u64);
        for (&fd, o) in &st.fds {
            put_signed(out, fd);
            put_obj(out, o);
        }
    }
    put_varint(out, b.files.len() as u64);
    for (&(host, dev, inode), st) in &b.files {
        for v in [
            u64::from(host.0),
            u64::from(dev.0),
            u64::from(dev.1),
            inode,
            u64::from(st.current.0),
            u64::from(st.epoch),
        ] {
            put_varint(out, v);
        }
        out.push(u8::from(st.read_since_version));
    }
    put_varint(out, b.sockets.len() as u64);
    for (k, &id) in &b.sockets {
        put_opt_pub(out, k.scope.map(|h| u64::from(h.0)));
        put_bytes_pub(out, k.family.as_bytes());
        put_opt_pub(out, k.addr.map(|s| u64::from(s.0)));
        put_opt_pub(out, k.port.map(u64::from));
        put_varint(out, u64::from(id.0));
    }
    put_varint(out, b.users.len() as u64);
    for (&(host, uid), &id) in &b.users {
        for v in [u64::from(host.0), u64::from(uid), u64::from(id.0)] {
            put_varint(out, v);
        }
    }
    put_varint(out, b.modules.len() as u64);
    for (&(host, name), &id) in &b.modules {
        for v in [u64::from(host.0), u64::from(name.0), u64::from(id.0)] {
            put_varint(out, v);
        }
    }
    put_varint(out, b.pending_clone3.len() as u64);
    for (&(host, pid), (parent, at, ev)) in &b.pending_clone3 {
        for v in [u64::from(host.0), u64::from(pid), u64::from(parent.0), at.0] {
            put_varint(out, v);
        }
        put_event_ref(out, ev);
    }
    put_counters(out, &b.counters);
}

pub(crate) fn resume(g: Graph, state: &[u8]) -> Option<Builder> {
    let r = &mut Reader::new(state);
    let n_entities = g.entity_count() as u32;
    let entity = |r: &mut Reader<'_>| r.u32().filter(|&i| i < n_entities).map(EntityId);
    let config = get_config(r)?;
    if config.reduce != g.reduce {
        return None;
    }
    let mut b = Builder::new(config);
    b.seq = r.varint()?;
    for _ in 0..r.varint()? {
        let key = (HostId(r.u32()?), r.u32()?);
        let (current, first) = (entity(r)?, entity(r)?);
        let flags = r.byte_pub()?;
        let mut fds = FxHashMap::default();
        for _ in 0..r.varint()? {
            let fd = r.signed()?;
            fds.insert(fd, get_obj(r)?);
        }
        let origin = if flags & 2 != 0 {
            ProcessOrigin::FirstSeen
        } else {
            ProcessOrigin::Clone
        };
        b.procs.insert(
            key,
            ProcState {
                current,
                first,
                fds,
                exited: flags & 1 != 0,
                origin,
            },
        );
    }
    for _ in 0..r.varint()? {
        let key = (HostId(r.u32()?), (r.u32()?, r.u32()?), r.varint()?);
        let current = entity(r)?;
        let epoch = r.u32()?;
        b.files.insert(
            key,
            FileState {
                current,
                epoch,
                read_since_version: r.byte_pub()? != 0,
            },
        );
    }
    for _ in 0..r.varint()? {
        let scope = r.opt_pub()?.map(|h| u32::try_from(h).ok().map(HostId));
        let scope = match scope {
            None => None,
            Some(h) => Some(h?),
        };
        let family = r.family()?;
        let addr = match r.opt_pub()? {
            None => None,
            Some(s) => Some(Sym(u32::try_from(s).ok()?)),
        };
        let port = match r.opt_pub()? {
            None => None,
            Some(p) => Some(u16::try_from(p).ok()?),
        };
        b.sockets.insert(
            SocketKey {
                scope,
                family,
                addr,
                port,
            },
            entity(r)?,
        );
    }
    for _ in 0..r.varint()? {
        let key = (HostId(r.u32()?), r.u32()?);
        b.users.insert(key, entity(r)?);
    }
    for _ in 0..r.varint()? {
        let key = (HostId(r.u32()?), Sym(r.u32()?));
        b.modules.insert(key, entity(r)?);
    }
    for _ in 0..r.varint()? {
        let key = (HostId(r.u32()?), r.u32()?);
        let parent = entity(r)?;
        let at = Seq(r.varint()?);
        let ev = EventRef {
            host: HostId(r.u32()?),
            ms: r.varint()?,
            serial: r.varint()?,
        };
        b.pending_clone3.insert(key, (parent, at, ev));
    }
    b.counters = get_counters(r)?;
    if !r.is_empty() {
        return None;
    }
    for (i, &sym) in g.hosts.iter().enumerate() {
        b.host_ids
            .insert(g.strings.get(sym).to_vec(), HostId(i as u32));
    }
    b.g = g;
    Some(b)
}

fn id_of(s: &Summary<'_>, field: &str) -> Option<u32> {
    s.ids
        .iter()
        .find(|(f, _)| *f == field)
        .and_then(|(_, id)| id.value)
}

fn bytes(exit: i64) -> u64 {
    u64::try_from(exit).unwrap_or(0)
}

/// The dirfd argument of the `*at` syscalls that take one first.
fn dirfd_of(name: &str, a0: u64) -> Option<u64> {
    (name.ends_with("at") || name.ends_with("at2")).then_some(a0)
}

/// The event's summary as far as the graph reads it, with `a0`..`a3` of its first SYSCALL
/// record (hex; 0 when absent or damaged), in one pass over the fields; `None` for an event
/// without a SYSCALL record.
///
/// What the graph never reads is not split or decoded: the ENRICHED suffix (names of ids), the
/// PROCTITLE record, `key`, `tty` and `ses`; and a SYSCALL or PATH record is left as soon as
/// every field the graph reads from it has been seen (the kernel writes each once).
fn read_event(event: &Event) -> Option<(Summary<'_>, [u64; 4])> {
    event.first(RecordType::SYSCALL)?;
    let mut builder = SummaryBuilder::default();
    let mut args = [0u64; 4];
    let mut syscall_seen = false;
    for record in event.records() {
        let rt = record.record_type;
        if !SummaryBuilder::wants(rt) || rt == RecordType::PROCTITLE {
            continue;
        }
        builder.begin(rt);
        match rt {
            RecordType::SYSCALL if !syscall_seen => {
                syscall_seen = true;
                let mut missing = SYSCALL_READ;
                for f in Fields::new(record.body) {
                    let bit = match f.name {
                        b"a0" | b"a1" | b"a2" | b"a3" => {
                            let i = usize::from(f.name[1] - b'0');
                            args[i] = std::str::from_utf8(f.value.bytes())
                                .ok()
                                .and_then(|v| u64::from_str_radix(v, 16).ok())
                                .unwrap_or(0);
                            1 << i
                        }
                        b"key" | b"tty" | b"ses" => continue,
                        b"arch" => 1 << 4,
                        b"syscall" => 1 << 5,
                        b"success" => 1 << 6,
                        b"exit" => 1 << 7,
                        b"pid" => 1 << 8,
                        b"ppid" => 1 << 9,
                        b"uid" => 1 << 10,
                        b"auid" => 1 << 11,
                        b"euid" => 1 << 12,
                        b"comm" => 1 << 13,
                        b"exe" => 1 << 14,
                        _ => 0,
                    };
                    builder.field(&f);
                    missing &= !bit;
                    if missing == 0 {
                        break;
                    }
                }
            }
            // a second SYSCALL record adds nothing
            RecordType::SYSCALL => {}
            RecordType::PATH => {
                let mut missing = PATH_READ;
                for f in Fields::new(record.body) {
                    let bit = match f.name {
                        b"name" => 1,
                        b"inode" => 2,
                        b"dev" => 4,
                        b"mode" => 8,
                        b"nametype" => 16,
                        _ => 0,
                    };
                    builder.field(&f);
                    missing &= !bit;
                    if missing == 0 {
                        break;
                    }
                }
            }
            _ => {
                for f in Fields::new(record.body) {
                    builder.field(&f);
                }
            }
        }
        builder.end();
    }
    builder.finish().map(|s| (s, args))
}

/// Bits of the SYSCALL fields the graph reads: `a0`..`a3` (0–3), then `arch`, `syscall`,
/// `success`, `exit`, `pid`, `ppid`, `uid`, `auid`, `euid`, `comm` and `exe` (4–14).
const SYSCALL_READ: u32 = (1 << 15) - 1;
/// Bits of the PATH fields the graph reads: `name`, `inode`, `dev`, `mode`, `nametype`.
const PATH_READ: u32 = (1 << 5) - 1;

/// The fd of the MMAP record (`fd=3 flags=0x812`), which the kernel writes for a file mapping.
fn mmap_fd(event: &Event) -> Option<i64> {
    let record = event.first(RecordType(1323))?;
    Fields::new(record.body)
        .find(|f| f.name == b"fd")
        .and_then(|f| std::str::from_utf8(f.value.bytes()).ok()?.parse().ok())
}

#[cfg(test)]
mod tests {
    use assemble::path::normalize;

    #[test]
    fn names_are_normalized_textually() {
        assert_eq!(normalize(b"/srv/./a//b/../c"), b"/srv/a/c");
        assert_eq!(normalize(b"/.."), b"/");
        assert_eq!(normalize(b"/a/b/"), b"/a/b");
    }
}
