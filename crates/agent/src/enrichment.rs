//! Enrichment in the agent: feeds events to the `enrich` crate's process table and writes what the
//! host knows about an event as one `"enrichment":{…}` member of its JSON object.
//!
//! ```text
//! "enrichment":{"host":{"id":"…","name":"web-01","boot_id":"…"},
//!   "parent":{"pid":1,"exe":"/usr/bin/bash","argv":["bash"],"exec_time":"…"},
//!   "ancestry":[{"pid":1,"exe":"/usr/lib/systemd/systemd"}],
//!   "container":{"runtime":"docker","id":"…","pod_uid":null},
//!   "namespaces":{"mnt":4026531841,"pid":4026531836,…}}
//! ```
//!
//! A field the host cannot give (the process already exited, a file unreadable) is left out and
//! its `enrich::Counter` moved; the event is never held back or dropped. The process table is fed
//! every event, kept or filtered out, so parents are known even for dropped events.
//!
//! Container and namespaces are read from `/proc/PID` once per process incarnation, at its exec
//! (or first sight); a process gone before that inherits its parent's.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use assemble::summary::Summary;
use assemble::Event;
use enrich::container::{self, Container, Namespaces};
use enrich::process_table::{self, ProcessTable};
use enrich::users::{self, UserNames};
use enrich::{Counter, Counters, HostIdentity, HostView};
use render::json;

use crate::config;
use crate::log;

/// The process table's state file in the state directory.
pub const PROCESS_STATE_FILE: &str = "processes";
/// How often the user database files are checked for changes, seconds.
const USERS_REFRESH_SECS: u64 = 10;

/// What is known of one process incarnation beyond the process table.
#[derive(Clone, Debug, Default)]
struct Context {
    /// The process table key it was read for: a reused pid gets read again.
    key: u64,
    container: Option<Container>,
    namespaces: Option<Namespaces>,
}

/// The agent's enrichment state.
pub struct Enricher {
    config: config::Enrichment,
    host: Box<dyn HostView + Send>,
    state_dir: PathBuf,
    table: ProcessTable,
    users: UserNames,
    contexts: HashMap<u32, Context>,
    counters: Counters,
    /// `"host":{…}` rendered once.
    host_json: Vec<u8>,
}

impl Enricher {
    /// Loads the host identity and the saved process table from `state_dir`, then brings the
    /// table in line with `/proc`. Failures are logged and counted; enrichment goes on without.
    pub fn start(config: &config::Enrichment, host: Box<dyn HostView + Send>, state_dir: &Path, now_secs: u64) -> Enricher {
        let table_config = process_table::Config {
            max_processes: config.max_processes.max(1),
        };
        let mut counters = Counters::default();
        let mut table = ProcessTable::new(table_config);
        if config.processes {
            let state = state_dir.join(PROCESS_STATE_FILE);
            match ProcessTable::load_from(host.as_ref(), &state, table_config) {
                Ok(Some(restored)) => table = restored,
                Ok(None) => {}
                Err(e) => log::warn(format_args!("process table state {}: {e}; starting empty", state.display())),
            }
            match table.seed_from_proc(host.as_ref(), &mut counters) {
                Ok(n) => log::info(format_args!("process table: {n} processes from /proc, {} known", table.len())),
                Err(e) => log::warn(format_args!("process table: cannot read /proc: {e}")),
            }
        }
        let identity = if config.host {
            match HostIdentity::load(host.as_ref(), state_dir) {
                Ok(identity) => Some(identity),
                Err(e) => {
                    counters.add(e.counter());
                    log::warn(format_args!("host identity: {e}"));
                    None
                }
            }
        } else {
            None
        };
        let mut host_json = Vec::new();
        if let Some(identity) = &identity {
            log::info(format_args!(
                "host {} ({}), boot {}",
                identity.hostname, identity.host_uuid, identity.boot_id
            ));
            host_json.extend_from_slice(b"\"host\":{\"id\":");
            json::string(&mut host_json, identity.host_uuid.as_bytes());
            host_json.extend_from_slice(b",\"name\":");
            json::string(&mut host_json, identity.hostname.as_bytes());
            host_json.extend_from_slice(b",\"boot_id\":");
            json::string(&mut host_json, identity.boot_id.as_bytes());
            host_json.push(b'}');
        }
        let mut users = UserNames::new(users::Config {
            refresh_interval_secs: USERS_REFRESH_SECS,
            ..users::Config::default()
        });
        if config.users {
            for e in users.refresh(host.as_ref(), now_secs) {
                counters.add(e.counter());
            }
        }
        Enricher {
            config: config.clone(),
            host,
            state_dir: state_dir.to_path_buf(),
            table,
            users,
            contexts: HashMap::new(),
            counters,
            host_json,
        }
    }

    /// Returns the counters: enrichment failures and process table evictions.
    pub fn counters(&self) -> Counters {
        let mut all = self.counters.clone();
        all.merge(self.table.counters());
        all
    }

    /// Returns the number of processes in the table.
    pub fn processes(&self) -> usize {
        self.table.len()
    }

    /// Re-reads the user database when it changed (at most every few seconds).
    pub fn tick(&mut self, now_secs: u64) {
        if self.config.users {
            for e in self.users.refresh(self.host.as_ref(), now_secs) {
                self.counters.add(e.counter());
            }
        }
    }

    /// Updates the process table from one event (every event, before filtering).
    pub fn observe(&mut self, event: &Event, summary: Option<&Summary<'_>>) {
        let Some(s) = summary else { return };
        if !self.config.processes && !self.config.containers && !self.config.namespaces {
            return;
        }
        let (Some(pid), Some(name)) = (s.pid, s.syscall_name()) else { return };
        let ok = s.success != Some(false);
        match name {
            "execve" | "execveat" if ok => {
                let argv: Vec<Vec<u8>> = match &event.argv {
                    Some(argv) => argv.iter().map(<[u8]>::to_vec).collect(),
                    None => s.proctitle_args().map(<[u8]>::to_vec).collect(),
                };
                let exe = s.exe.as_deref().unwrap_or_default();
                let time = event.id.time;
                let key = self.table.on_exec(pid, s.ppid.unwrap_or(0), exe, argv, time, event.id).key;
                self.read_context(pid, s.ppid, key);
            }
            "clone" | "clone3" | "fork" | "vfork" if ok => {
                if let Some(child) = s.exit.and_then(|c| u32::try_from(c).ok()).filter(|&c| c > 0) {
                    if self.table.on_fork(pid, child).is_none() {
                        self.counters.add(Counter::ProcessUnknown);
                    }
                    if let Some(parent) = self.contexts.get(&pid).cloned() {
                        let key = self.table.get(child).map_or(0, |p| p.key);
                        self.contexts.insert(child, Context { key, ..parent });
                    }
                }
            }
            "exit" | "exit_group" => {
                self.table.on_exit(pid);
                self.contexts.remove(&pid);
            }
            _ => {}
        }
    }

    /// Reads container and namespaces of `pid` (incarnation `key`); when it is gone, takes its
    /// parent's.
    fn read_context(&mut self, pid: u32, ppid: Option<u32>, key: u64) {
        if !self.config.containers && !self.config.namespaces {
            return;
        }
        let mut context = Context { key, ..Context::default() };
        let mut gone = false;
        if self.config.containers {
            match container::container_of(self.host.as_ref(), pid) {
                Ok(c) => context.container = c,
                Err(e) => {
                    gone = true;
                    self.counters.add(e.counter());
                }
            }
        }
        if self.config.namespaces && !gone {
            match container::read_namespaces(self.host.as_ref(), pid) {
                Ok(ns) => context.namespaces = Some(ns),
                Err(e) => {
                    gone = true;
                    self.counters.add(e.counter());
                }
            }
        }
        if gone {
            if let Some(parent) = ppid.and_then(|p| self.contexts.get(&p)) {
                context = Context { key, ..parent.clone() };
            }
        }
        let max = self.config.max_processes.max(2);
        if self.contexts.len() >= max {
            // Bounded like the table: forget contexts whose process is no longer in it. At most
            // half stays, so this O(n) pass runs once per max/2 insertions at most.
            let table = &self.table;
            self.contexts.retain(|pid, c| table.get(*pid).is_some_and(|p| p.key == c.key));
            if self.contexts.len() > max / 2 {
                self.contexts.clear();
            }
        }
        self.contexts.insert(pid, context);
    }

    /// Writes the event's `"enrichment":{…}` member into `out` (nothing when there is nothing to say).
    pub fn write_member(&mut self, summary: Option<&Summary<'_>>, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(b"\"enrichment\":{");
        let body = out.len();
        if !self.host_json.is_empty() {
            out.extend_from_slice(&self.host_json);
        }
        if let Some(pid) = summary.and_then(|s| s.pid) {
            if self.config.processes {
                self.write_process(pid, out, body);
            }
            if self.config.containers || self.config.namespaces {
                if self.contexts.get(&pid).is_none_or(|c| self.table.get(pid).is_some_and(|p| p.key != c.key)) {
                    let key = self.table.get(pid).map_or(0, |p| p.key);
                    self.read_context(pid, summary.and_then(|s| s.ppid), key);
                }
                if let Some(context) = self.contexts.get(&pid) {
                    if let Some(c) = &context.container {
                        sep(out, body);
                        out.extend_from_slice(b"\"container\":{\"runtime\":");
                        json::string(out, c.runtime.as_str().as_bytes());
                        out.extend_from_slice(b",\"id\":");
                        json::string(out, c.id.as_bytes());
                        out.extend_from_slice(b",\"pod_uid\":");
                        match &c.pod_uid {
                            Some(uid) => json::string(out, uid.as_bytes()),
                            None => out.extend_from_slice(b"null"),
                        }
                        out.push(b'}');
                    }
                    if let Some(ns) = &context.namespaces {
                        sep(out, body);
                        out.extend_from_slice(b"\"namespaces\":{");
                        let values = [ns.mnt, ns.pid, ns.net, ns.uts, ns.ipc, ns.user, ns.cgroup];
                        for (kind, value) in container::NAMESPACE_KINDS.iter().zip(values) {
                            if let Some(v) = value {
                                json::key(out, kind);
                                json::u64(out, v);
                            }
                        }
                        out.push(b'}');
                    }
                }
            }
        }
        if out.len() == body {
            out.truncate(start);
        } else {
            out.push(b'}');
        }
    }

    fn write_process(&mut self, pid: u32, out: &mut Vec<u8>, body: usize) {
        let Some(parent) = self.table.parent_of(pid) else {
            self.counters.add(Counter::ProcessUnknown);
            return;
        };
        sep(out, body);
        out.extend_from_slice(b"\"parent\":");
        write_process_object(out, parent, true);
        if self.config.ancestry_depth > 0 {
            let ancestry = self.table.ancestry(pid, self.config.ancestry_depth + 1);
            out.extend_from_slice(b",\"ancestry\":[");
            for (i, p) in ancestry.iter().skip(1).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_process_object(out, p, false);
            }
            out.push(b']');
        }
    }

    /// Saves the process table to the state directory.
    pub fn save(&self) {
        if !self.config.processes {
            return;
        }
        let path = self.state_dir.join(PROCESS_STATE_FILE);
        if let Err(e) = self.table.save_to(self.host.as_ref(), &path) {
            log::warn(format_args!("cannot save the process table to {}: {e}", path.display()));
        }
    }

    /// Returns the user and group names for rendering.
    pub fn names(&self) -> Names<'_> {
        Names {
            users: self.config.users.then_some(&self.users),
        }
    }
}

fn sep(out: &mut Vec<u8>, body: usize) {
    if out.len() > body {
        out.push(b',');
    }
}

fn write_process_object(out: &mut Vec<u8>, p: &enrich::Process, full: bool) {
    out.extend_from_slice(b"{\"pid\":");
    json::u64(out, u64::from(p.pid));
    out.extend_from_slice(b",\"exe\":");
    json::string(out, &p.exe);
    if full {
        out.extend_from_slice(b",\"argv\":[");
        for (i, arg) in p.argv.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json::string(out, arg);
        }
        out.extend_from_slice(b"],\"exec_time\":");
        match p.exec_time {
            Some(t) => render::time::rfc3339_millis(out, t.secs() * 1000 + t.subsec_millis()),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.push(b'}');
}

/// uid/gid names from the cached user database.
pub struct Names<'a> {
    users: Option<&'a UserNames>,
}

impl render::IdNames for Names<'_> {
    fn user(&self, uid: u32) -> Option<Cow<'_, str>> {
        self.users?.user(uid).map(Cow::Borrowed)
    }
    fn group(&self, gid: u32) -> Option<Cow<'_, str>> {
        self.users?.group(gid).map(Cow::Borrowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assemble::{Assembler, Config};
    use enrich::FakeHost;

    const DOCKER_ID: &str = "4f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c";

    fn host() -> FakeHost {
        let h = FakeHost::new();
        h.set_file("/proc/sys/kernel/random/boot_id", "47ed4556-1efd-434c-a9cc-642707941c65\n");
        h.set_file("/proc/sys/kernel/random/uuid", "813cbd27-c6ee-46df-a82a-381893ba12f4\n");
        h.set_file("/proc/sys/kernel/hostname", "web-01\n");
        h.set_file("/proc/stat", "cpu 1 2 3\nbtime 1795240000\n");
        h.set_file("/proc/100/stat", "100 (bash) S 1 100 100 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 5000 0 0\n");
        h.set_link("/proc/100/exe", "/usr/bin/bash");
        h.set_file("/proc/100/cmdline", "bash\0-l\0");
        h.set_file("/proc/200/cgroup", format!("0::/system.slice/docker-{DOCKER_ID}.scope\n"));
        for (kind, n) in container::NAMESPACE_KINDS.iter().zip(4026531830u64..) {
            h.set_link(format!("/proc/200/ns/{kind}"), format!("{kind}:[{n}]"));
        }
        h
    }

    fn event(lines: &[&str]) -> Event {
        let mut a = Assembler::new(Config::default());
        let mut out: Vec<Event> = Vec::new();
        for l in lines {
            a.push(&parse::parse_line(l.as_bytes()).expect("frames"), &mut out);
        }
        a.finish_all(&mut out);
        out.remove(0)
    }

    fn member(e: &mut Enricher, event: &Event) -> String {
        let summary = assemble::summary::summarize(event);
        e.observe(event, summary.as_ref());
        let mut out = Vec::new();
        e.write_member(summary.as_ref(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn parents_containers_and_namespaces_from_the_host() {
        let config = config::Enrichment { ancestry_depth: 2, ..config::Enrichment::default() };
        let mut e = Enricher::start(&config, Box::new(host()), Path::new("/state"), 1_795_246_000);
        let exec = event(&[
            "type=SYSCALL msg=audit(1795246000.100:7): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=1 ppid=100 pid=200 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"cat\" exe=\"/usr/bin/cat\" key=(null)",
            "type=EXECVE msg=audit(1795246000.100:7): argc=2 a0=\"cat\" a1=\"/etc/hostname\"",
            "type=EOE msg=audit(1795246000.100:7): ",
        ]);
        let host = r#""host":{"id":"813cbd27-c6ee-46df-a82a-381893ba12f4","name":"web-01","boot_id":"47ed4556-1efd-434c-a9cc-642707941c65"}"#;
        let bash = r#"{"pid":100,"exe":"/usr/bin/bash","argv":["bash","-l"],"exec_time":"2026-11-21T05:47:30.000Z"}"#;
        let container = format!(r#""container":{{"runtime":"docker","id":"{DOCKER_ID}","pod_uid":null}}"#);
        let ns = r#""namespaces":{"mnt":4026531830,"pid":4026531831,"net":4026531832,"uts":4026531833,"ipc":4026531834,"user":4026531835,"cgroup":4026531836}"#;
        assert_eq!(
            member(&mut e, &exec),
            format!(r#""enrichment":{{{host},"parent":{bash},"ancestry":[],{container},{ns}}}"#)
        );
        // A child of the cat that is gone from /proc before it is looked at: its parent is the
        // cat, and it takes the cat's container and namespaces.
        let child = event(&[
            "type=SYSCALL msg=audit(1795246000.200:8): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=1 ppid=200 pid=300 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"true\" exe=\"/usr/bin/true\" key=(null)",
            "type=EXECVE msg=audit(1795246000.200:8): argc=1 a0=\"true\"",
            "type=EOE msg=audit(1795246000.200:8): ",
        ]);
        let gone_before = e.counters().get(Counter::ProcGone);
        let cat = r#"{"pid":200,"exe":"/usr/bin/cat","argv":["cat","/etc/hostname"],"exec_time":"2026-11-21T07:26:40.100Z"}"#;
        assert_eq!(
            member(&mut e, &child),
            format!(r#""enrichment":{{{host},"parent":{cat},"ancestry":[{{"pid":100,"exe":"/usr/bin/bash"}}],{container},{ns}}}"#)
        );
        assert_eq!(e.counters().get(Counter::ProcGone), gone_before + 1);
        // A process nobody knows: no parent (counted), the rest still there.
        let stranger = event(&[
            "type=SYSCALL msg=audit(1795246000.300:9): arch=c000003e syscall=2 success=yes exit=3 a0=1 a1=2 a2=3 a3=0 items=0 ppid=4000 pid=4001 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"x\" exe=\"/x\" key=(null)",
            "type=EOE msg=audit(1795246000.300:9): ",
        ]);
        let unknown_before = e.counters().get(Counter::ProcessUnknown);
        assert_eq!(member(&mut e, &stranger), format!(r#""enrichment":{{{host}}}"#));
        assert_eq!(e.counters().get(Counter::ProcessUnknown), unknown_before + 1);
    }

    #[test]
    fn the_process_context_cache_stays_bounded() {
        let config = config::Enrichment { max_processes: 8, ..config::Enrichment::default() };
        let mut e = Enricher::start(&config, Box::new(host()), Path::new("/state"), 0);
        for serial in 1..=200u32 {
            let pid = 1000 + serial;
            let ev = event(&[
                &format!("type=SYSCALL msg=audit(1795246000.100:{serial}): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=1 ppid=200 pid={pid} auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"true\" exe=\"/usr/bin/true\" key=(null)"),
                &format!("type=EOE msg=audit(1795246000.100:{serial}): "),
            ]);
            member(&mut e, &ev);
            assert!(e.contexts.len() <= 8, "{} contexts after {serial} execs", e.contexts.len());
        }
        assert_eq!(e.processes(), 8);
    }

    #[test]
    fn nothing_enabled_writes_nothing() {
        let config = config::Enrichment {
            processes: false,
            containers: false,
            namespaces: false,
            users: false,
            host: false,
            ..config::Enrichment::default()
        };
        let mut e = Enricher::start(&config, Box::new(host()), Path::new("/state"), 0);
        let ev = event(&["type=USER_LOGIN msg=audit(1795246000.300:9): pid=1 uid=0 msg='op=login acct=\"root\" res=success'"]);
        assert_eq!(member(&mut e, &ev), "");
    }
}
