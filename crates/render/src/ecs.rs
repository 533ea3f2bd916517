//! The Elastic Common Schema (8.x) form, modelled on what Auditbeat's auditd module writes, for
//! Elasticsearch and OpenSearch users.
//!
//! ```text
//! {"@timestamp":…,"ecs":{"version":"8.11.0"},
//!  "event":{"kind":"event","module":"auditd","category":[…],"type":[…],"action":"execve",
//!           "outcome":"success","sequence":46329},
//!  "host":{"name":"web-01"},"process":{…},"user":{…},"group":{…},"file":{…},
//!  "source":{…}|"destination":{…},"tags":[…],
//!  "auditd":{"completion":…,"partial":…,"records":[…],"summary":{…}}}
//! ```
//!
//! Syscall events (those with a SYSCALL record):
//! - `event.action` is the syscall name (`syscall` when the number has no name on the
//!   architecture); `event.category`/`event.type` come from a small table of syscalls (process
//!   start/end/change, file access/creation/change/deletion, network connection, driver load,
//!   host change) and default to `process`/`info`; `event.outcome` is `success` or `failure`
//!   from `success=`.
//! - `process.{pid, parent.pid, executable, name (comm), args, args_count (EXECVE),
//!   title (PROCTITLE, arguments joined by spaces), working_directory (CWD)}`.
//! - `user.{id, name}` from `uid`, `user.audit` from `auid`, `user.effective` from `euid`,
//!   `group` from `gid`. Ids are strings (ECS keywords); unset ids are omitted.
//! - `file` from the first PATH whose nametype is NORMAL or CREATE: `path, inode, mode`
//!   (permission bits in octal, `0640`), `uid, gid, owner, group, type` (file, dir or symlink).
//! - The decoded SOCKADDR becomes `destination` for connect and send* and `source` for bind,
//!   accept and recv*: `{ip, port}` for inet, `{address}` for unix sockets.
//! - `tags` are the rule keys.
//!
//! Other events (user-space records and the rest): `event.action` is the first record's type in
//! lower case (`user_login`); category and type come from a table of record types (authentication,
//! session, iam, configuration, process, host, intrusion_detection) and are omitted for types it
//! does not know; `event.outcome` comes from `res=`. From the first record (and its nested
//! `msg='…'`): `process.{pid, executable, name}`, `process.user` from `uid`, `user.audit` from
//! `auid`, `user.name` from `acct` (the account being authenticated or managed), and
//! `source.{address, ip}` from `addr`/`hostname`.
//!
//! Everything else stays under `auditd`: the native records (decoded fields, ENRICHED names),
//! the native summary, and the completion flags, so nothing is lost by choosing ECS.

use std::borrow::Cow;

use assemble::summary::{Id, Summary};
use assemble::Event;
use parse::{decode, Fields, Record, Value};
use vocab::{parse_u32, RecordType};

use crate::native::write_completion;
use crate::record::write_records;
use crate::summary::{file_type, id_name, string_array, write_summary};
use crate::{json, time, FieldProblems, IdNames, Options};

const ECS_VERSION: &str = "8.11.0";

pub(crate) fn write(
    out: &mut Vec<u8>,
    event: &Event,
    summary: Option<&Summary<'_>>,
    opts: &Options,
    names: &dyn IdNames,
    problems: &mut FieldProblems,
) {
    out.extend_from_slice(b"{\"@timestamp\":");
    time::rfc3339_millis(out, event.id.time.millis);
    out.extend_from_slice(b",\"ecs\":{\"version\":\"");
    out.extend_from_slice(ECS_VERSION.as_bytes());
    out.extend_from_slice(b"\"}");
    match summary {
        Some(s) => write_syscall(out, event, s, names),
        None => write_other(out, event, names),
    }
    let at = begin(out, "auditd");
    write_completion(out, event);
    json::key(out, "records");
    write_records(out, event, opts, problems, None);
    if let Some(s) = summary {
        json::key(out, "summary");
        write_summary(out, s, event.argv.as_ref(), names);
    }
    end(out, at);
    out.push(b'}');
}

fn write_syscall(out: &mut Vec<u8>, event: &Event, s: &Summary<'_>, names: &dyn IdNames) {
    let name = s.syscall_name();
    let (category, kinds) = name.map_or(PROCESS_INFO, syscall_category);
    let outcome = match s.success {
        Some(true) => "success",
        Some(false) => "failure",
        None => "unknown",
    };
    write_event_object(out, event, category, kinds, name.unwrap_or("syscall").as_bytes(), outcome);
    write_host(out, event);

    let at = begin(out, "process");
    if let Some(pid) = s.pid {
        json::key(out, "pid");
        json::u64(out, u64::from(pid));
    }
    if let Some(ppid) = s.ppid {
        let parent = begin(out, "parent");
        json::key(out, "pid");
        json::u64(out, u64::from(ppid));
        end(out, parent);
    }
    if let Some(exe) = &s.exe {
        json::key(out, "executable");
        json::string(out, exe);
    }
    if let Some(comm) = &s.comm {
        json::key(out, "name");
        json::string(out, comm);
    }
    if let Some(argv) = &event.argv {
        json::key(out, "args");
        string_array(out, argv.iter());
        json::key(out, "args_count");
        json::u64(out, argv.len() as u64);
    }
    if s.proctitle_args().next().is_some() {
        json::key(out, "title");
        out.push(b'"');
        for (i, arg) in s.proctitle_args().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            json::escape_into(out, arg);
        }
        out.push(b'"');
    }
    if let Some(cwd) = &s.cwd {
        json::key(out, "working_directory");
        json::string(out, cwd);
    }
    end(out, at);

    let id = |field: &str| s.ids.iter().find(|(f, _)| *f == field).map(|(_, id)| id);
    let at = begin(out, "user");
    write_id_members(out, id("uid"), false, names);
    write_id_object(out, "audit", id("auid"), false, names);
    write_id_object(out, "effective", id("euid"), false, names);
    end(out, at);
    write_id_object(out, "group", id("gid"), true, names);

    let file = s.paths.iter().find(|p| matches!(p.nametype, Some(b"NORMAL" | b"CREATE")));
    if let Some(p) = file {
        let at = begin(out, "file");
        if let Some(name) = &p.name {
            json::key(out, "path");
            json::string(out, name);
        }
        if let Some(inode) = p.inode {
            json::key(out, "inode");
            json::u64_string(out, inode);
        }
        if let Some(mode) = p.mode {
            json::key(out, "mode");
            out.push(b'"');
            json::octal(out, mode & 0o7777, 4);
            out.push(b'"');
            if let Some(kind) = file_type(mode).filter(|k| matches!(*k, "file" | "dir" | "symlink")) {
                json::key(out, "type");
                json::string(out, kind.as_bytes());
            }
        }
        for (key, name_key, id, group) in [("uid", "owner", &p.ouid, false), ("gid", "group", &p.ogid, true)] {
            let Some(id) = id else { continue };
            if let Some(n) = id.value {
                json::key(out, key);
                json::u64_string(out, u64::from(n));
            }
            if let Some(name) = id_name(id, group, names) {
                json::key(out, name_key);
                json::string(out, &name);
            }
        }
        end(out, at);
    }

    if let (Some(sa), Some(name)) = (&s.sockaddr, name) {
        let side = match name {
            "connect" | "sendto" | "sendmsg" | "sendmmsg" => Some("destination"),
            "bind" | "accept" | "accept4" | "recvfrom" | "recvmsg" | "recvmmsg" => Some("source"),
            _ => None,
        };
        if let (Some(side), Some(addr)) = (side, &sa.addr) {
            let at = begin(out, side);
            if sa.port.is_some() {
                json::key(out, "ip");
                json::string(out, addr);
                json::key(out, "port");
                json::u64(out, u64::from(sa.port.unwrap_or_default()));
            } else {
                json::key(out, "address");
                json::string(out, addr);
            }
            end(out, at);
        }
    }

    if !s.keys.is_empty() {
        json::key(out, "tags");
        string_array(out, s.keys.iter().map(|k| &k[..]));
    }
}

/// What ECS needs from the first record of an event without a SYSCALL record.
#[derive(Default)]
struct Facts<'a> {
    pid: Option<u32>,
    uid: Option<Id<'a>>,
    auid: Option<Id<'a>>,
    exe: Option<Cow<'a, [u8]>>,
    comm: Option<Cow<'a, [u8]>>,
    acct: Option<Cow<'a, [u8]>>,
    addr: Option<Cow<'a, [u8]>>,
    hostname: Option<Cow<'a, [u8]>>,
    res: Option<Cow<'a, [u8]>>,
}

impl<'a> Facts<'a> {
    fn read(record: &Record<'a>) -> Facts<'a> {
        let mut facts = Facts::default();
        let enriched: Vec<(&[u8], &'a [u8])> = record
            .enriched
            .map(|e| Fields::new(e).map(|f| (f.name, f.value.bytes())).collect())
            .unwrap_or_default();
        facts.add(record.record_type, Fields::new(record.body), &enriched);
        facts
    }

    fn add(&mut self, rt: RecordType, fields: Fields<'a>, enriched: &[(&[u8], &'a [u8])]) {
        for f in fields {
            let value = match decode(rt, f.name, f.value).0 {
                Value::Nested(m) => {
                    self.add(rt, Fields::nested(m), enriched);
                    continue;
                }
                Value::Str(s) => s,
                Value::Bare(b) => Cow::Borrowed(b),
                _ => continue,
            };
            let known = |v: &Cow<'a, [u8]>| !v.is_empty() && v[..] != *b"?";
            let id = |v: &[u8]| Id {
                value: if v == b"4294967295" || v == b"-1" { None } else { parse_u32(v) },
                name: enriched
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(f.name))
                    .map(|(_, n)| Cow::Borrowed(*n)),
            };
            match f.name {
                b"pid" => self.pid = self.pid.or(parse_u32(&value)),
                b"uid" if self.uid.is_none() => self.uid = Some(id(&value)),
                b"auid" if self.auid.is_none() => self.auid = Some(id(&value)),
                b"exe" if known(&value) => self.exe = Some(value),
                b"comm" if known(&value) => self.comm = Some(value),
                b"acct" if known(&value) => self.acct = Some(value),
                b"addr" if known(&value) => self.addr = Some(value),
                b"hostname" if known(&value) => self.hostname = Some(value),
                b"res" | b"result" => self.res = Some(value),
                _ => {}
            }
        }
    }
}

fn write_other(out: &mut Vec<u8>, event: &Event, names: &dyn IdNames) {
    let first = event.records().next();
    let rt = first.map_or(RecordType(0), |r| r.record_type);
    let facts = first.as_ref().map(Facts::read).unwrap_or_default();
    let (category, kinds) = record_category(rt.name().unwrap_or(""));
    let outcome = match facts.res.as_deref() {
        Some(b"success" | b"1" | b"yes") => "success",
        Some(b"failed" | b"failure" | b"0" | b"no") => "failure",
        _ => "unknown",
    };
    let action = rt.to_string().to_ascii_lowercase();
    write_event_object(out, event, category, kinds, action.as_bytes(), outcome);
    write_host(out, event);

    let at = begin(out, "process");
    if let Some(pid) = facts.pid {
        json::key(out, "pid");
        json::u64(out, u64::from(pid));
    }
    if let Some(exe) = &facts.exe {
        json::key(out, "executable");
        json::string(out, exe);
    }
    if let Some(comm) = &facts.comm {
        json::key(out, "name");
        json::string(out, comm);
    }
    write_id_object(out, "user", facts.uid.as_ref(), false, names);
    end(out, at);

    let at = begin(out, "user");
    if let Some(acct) = &facts.acct {
        json::key(out, "name");
        json::string(out, acct);
    }
    write_id_object(out, "audit", facts.auid.as_ref(), false, names);
    end(out, at);

    if facts.addr.is_some() || facts.hostname.is_some() {
        let at = begin(out, "source");
        let ip = facts.addr.as_deref().and_then(|a| std::str::from_utf8(a).ok()).filter(|a| a.parse::<std::net::IpAddr>().is_ok());
        if let Some(address) = facts.hostname.as_ref().or(facts.addr.as_ref()) {
            json::key(out, "address");
            json::string(out, address);
        }
        if let Some(ip) = ip {
            json::key(out, "ip");
            json::string(out, ip.as_bytes());
        }
        end(out, at);
    }
}

fn write_event_object(out: &mut Vec<u8>, event: &Event, category: &[&str], kinds: &[&str], action: &[u8], outcome: &str) {
    out.extend_from_slice(b",\"event\":{\"kind\":\"event\",\"module\":\"auditd\"");
    if !category.is_empty() {
        json::key(out, "category");
        string_array(out, category.iter().map(|c| c.as_bytes()));
        json::key(out, "type");
        string_array(out, kinds.iter().map(|c| c.as_bytes()));
    }
    json::key(out, "action");
    json::string(out, action);
    json::key(out, "outcome");
    json::string(out, outcome.as_bytes());
    json::key(out, "sequence");
    json::u64(out, event.id.serial.0);
    out.push(b'}');
}

fn write_host(out: &mut Vec<u8>, event: &Event) {
    if let Some(node) = event.node() {
        json::key(out, "host");
        out.extend_from_slice(b"{\"name\":");
        json::string(out, node);
        out.push(b'}');
    }
}

/// Writes `"key":{"id":"1000","name":"bob"}`; nothing for an absent or unset id.
fn write_id_object(out: &mut Vec<u8>, key: &str, id: Option<&Id<'_>>, group: bool, names: &dyn IdNames) {
    let at = begin(out, key);
    write_id_members(out, id, group, names);
    end(out, at);
}

/// Writes `"id":"1000","name":"bob"` into an open object; nothing for an absent or unset id.
fn write_id_members(out: &mut Vec<u8>, id: Option<&Id<'_>>, group: bool, names: &dyn IdNames) {
    let Some(id) = id else { return };
    let Some(n) = id.value else { return };
    json::key(out, "id");
    json::u64_string(out, u64::from(n));
    if let Some(name) = id_name(id, group, names) {
        json::key(out, "name");
        json::string(out, &name);
    }
}

/// Opens `"key":{` and returns where it started, for [`end`].
fn begin(out: &mut Vec<u8>, key: &str) -> usize {
    let at = out.len();
    json::key(out, key);
    out.push(b'{');
    at
}

/// Closes an object opened by [`begin`], or removes it if nothing was written into it.
fn end(out: &mut Vec<u8>, at: usize) {
    if out.last() == Some(&b'{') {
        out.truncate(at);
    } else {
        out.push(b'}');
    }
}

type Category = (&'static [&'static str], &'static [&'static str]);

const PROCESS_INFO: Category = (&["process"], &["info"]);

fn syscall_category(name: &str) -> Category {
    match name {
        "execve" | "execveat" | "fork" | "vfork" | "clone" | "clone3" => (&["process"], &["start"]),
        "exit" | "exit_group" | "kill" | "tkill" | "tgkill" => (&["process"], &["end"]),
        "ptrace" | "process_vm_readv" | "process_vm_writev" => (&["process"], &["access"]),
        "setuid" | "setgid" | "setreuid" | "setregid" | "setresuid" | "setresgid" | "setfsuid" | "setfsgid"
        | "setgroups" | "capset" | "setns" | "unshare" | "setuid32" | "setgid32" | "setreuid32" | "setregid32"
        | "setresuid32" | "setresgid32" | "setfsuid32" | "setfsgid32" | "setgroups32" => (&["process"], &["change"]),
        "connect" | "accept" | "accept4" => (&["network"], &["connection", "start"]),
        "bind" | "listen" => (&["network"], &["start"]),
        "sendto" | "sendmsg" | "sendmmsg" | "recvfrom" | "recvmsg" | "recvmmsg" => (&["network"], &["connection"]),
        "socket" | "socketpair" | "shutdown" | "socketcall" => (&["network"], &["info"]),
        "creat" | "mkdir" | "mkdirat" | "mknod" | "mknodat" | "link" | "linkat" | "symlink" | "symlinkat" => {
            (&["file"], &["creation"])
        }
        "unlink" | "unlinkat" | "rmdir" => (&["file"], &["deletion"]),
        "rename" | "renameat" | "renameat2" | "chmod" | "fchmod" | "fchmodat" | "fchmodat2" | "chown" | "fchown"
        | "lchown" | "fchownat" | "chown32" | "fchown32" | "lchown32" | "setxattr" | "lsetxattr" | "fsetxattr"
        | "removexattr" | "lremovexattr" | "fremovexattr" | "utime" | "utimes" | "utimensat" | "futimesat"
        | "truncate" | "ftruncate" | "truncate64" | "ftruncate64" => (&["file"], &["change"]),
        "open" | "openat" | "openat2" | "open_by_handle_at" | "access" | "faccessat" | "faccessat2" | "read"
        | "write" | "readlink" | "readlinkat" | "stat" | "lstat" | "newfstatat" | "statx" | "getxattr"
        | "lgetxattr" | "fgetxattr" => (&["file"], &["access"]),
        "init_module" | "finit_module" => (&["driver"], &["start"]),
        "delete_module" => (&["driver"], &["end"]),
        "mount" | "umount" | "umount2" | "pivot_root" | "chroot" | "sethostname" | "setdomainname"
        | "settimeofday" | "clock_settime" | "adjtimex" | "clock_adjtime" | "reboot" | "swapon" | "swapoff" => {
            (&["host"], &["change"])
        }
        _ => PROCESS_INFO,
    }
}

fn record_category(name: &str) -> Category {
    match name {
        "USER_AUTH" | "USER_ACCT" | "GRP_AUTH" | "USER_ERR" | "CRED_ACQ" | "CRED_REFR" | "CRED_DISP" => {
            (&["authentication"], &["info"])
        }
        "USER_LOGIN" => (&["authentication", "session"], &["start"]),
        "USER_LOGOUT" | "USER_END" => (&["session"], &["end"]),
        "USER_START" | "LOGIN" => (&["session"], &["start"]),
        "USER_CMD" => (&["process"], &["start"]),
        "ADD_USER" => (&["iam"], &["user", "creation"]),
        "DEL_USER" => (&["iam"], &["user", "deletion"]),
        "ADD_GROUP" => (&["iam"], &["group", "creation"]),
        "DEL_GROUP" => (&["iam"], &["group", "deletion"]),
        "USER_MGMT" | "USER_CHAUTHTOK" | "CHUSER_ID" | "ACCT_LOCK" | "ACCT_UNLOCK" => (&["iam"], &["user", "change"]),
        "GRP_MGMT" | "GRP_CHAUTHTOK" | "CHGRP_ID" => (&["iam"], &["group", "change"]),
        "CONFIG_CHANGE" | "USYS_CONFIG" | "DAEMON_CONFIG" | "NETFILTER_CFG" | "MAC_POLICY_LOAD" | "MAC_STATUS"
        | "MAC_CONFIG_CHANGE" | "FEATURE_CHANGE" => (&["configuration"], &["change"]),
        "DAEMON_START" | "DAEMON_RESUME" | "SERVICE_START" => (&["process"], &["start"]),
        "DAEMON_END" | "DAEMON_ABORT" | "SERVICE_STOP" => (&["process"], &["end"]),
        "SYSTEM_BOOT" => (&["host"], &["start"]),
        "SYSTEM_SHUTDOWN" => (&["host"], &["end"]),
        "SYSTEM_RUNLEVEL" | "TIME_INJOFFSET" | "TIME_ADJNTPVAL" => (&["host"], &["change"]),
        _ if name.starts_with("ANOM_") || name.starts_with("RESP_") => (&["intrusion_detection"], &["info"]),
        _ => (&[], &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_objects_are_dropped() {
        let mut out = b"{\"a\":1".to_vec();
        let at = begin(&mut out, "x");
        end(&mut out, at);
        let at = begin(&mut out, "y");
        json::key(&mut out, "z");
        out.push(b'2');
        end(&mut out, at);
        out.push(b'}');
        assert_eq!(out, br#"{"a":1,"y":{"z":2}}"#);
        assert!(crate::summary::is_group_field("ogid") && !crate::summary::is_group_field("auid"));
    }
}
