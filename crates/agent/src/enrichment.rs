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
        if self.contexts.len() >= self.config.max_processes.max(1) {
            // Bounded like the table: forget contexts whose process is no longer live.
            let table = &self.table;
            self.contexts.retain(|pid, c| table.get(*pid).is_some_and(|p| p.key == c.key));
            if self.contexts.len() >= self.config.max_processes.max(1) {
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
                if !self.contexts.get(&pid).is_some_and(|c| self.table.get(pid).is_none_or(|p| p.key == c.key)) {
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
                        let mut first = true;
                        for (kind, value) in container::NAMESPACE_KINDS.iter().zip(values) {
                            if let Some(v) = value {
                                if !first {
                                    out.push(b',');
                                }
                                first = false;
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
