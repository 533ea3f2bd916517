//! The `summary` object of a syscall event (shared by the native form and ECS's `auditd.summary`),
//! and the id-to-name choice both forms use.

use std::borrow::Cow;

use assemble::summary::{Id, OwnedSockAddr, PathItem, Summary};
use assemble::Argv;

use crate::{json, IdNames};

/// Writes the summary object.
pub(crate) fn write_summary(out: &mut Vec<u8>, s: &Summary<'_>, argv: Option<&Argv>, names: &dyn IdNames) {
    out.push(b'{');
    if let Some(arch) = s.arch {
        json::key(out, "arch");
        match arch.name() {
            Some(name) => json::string(out, name.as_bytes()),
            None => json::string(out, format!("{:x}", arch.0).as_bytes()),
        }
    }
    if let Some(nr) = s.syscall {
        json::key(out, "syscall");
        match s.syscall_name() {
            Some(name) => json::string(out, name.as_bytes()),
            None => json::u64(out, u64::from(nr)),
        }
    }
    if let Some(success) = s.success {
        json::key(out, "success");
        json::bool(out, success);
    }
    if let Some(exit) = s.exit {
        json::key(out, "exit");
        json::i64(out, exit);
    }
    if let Some(errno) = s.errno() {
        json::key(out, "errno");
        json::string(out, errno.as_bytes());
    }
    if let Some(pid) = s.pid {
        json::key(out, "pid");
        json::u64(out, u64::from(pid));
    }
    if let Some(ppid) = s.ppid {
        json::key(out, "ppid");
        json::u64(out, u64::from(ppid));
    }
    if let Some(ses) = &s.ses {
        json::key(out, "ses");
        match ses.value {
            Some(n) => json::u64(out, u64::from(n)),
            None => out.extend_from_slice(b"null"),
        }
    }
    for (field, id) in &s.ids {
        json::key(out, field);
        write_id(out, id, is_group_field(field), names);
    }
    for (name, value) in [("tty", &s.tty), ("comm", &s.comm), ("exe", &s.exe)] {
        if let Some(v) = value {
            json::key(out, name);
            json::string(out, v);
        }
    }
    if !s.keys.is_empty() {
        json::key(out, "key");
        string_array(out, s.keys.iter().map(|k| &k[..]));
    }
    if let Some(cwd) = &s.cwd {
        json::key(out, "cwd");
        json::string(out, cwd);
    }
    if !s.paths.is_empty() {
        json::key(out, "paths");
        out.push(b'[');
        for path in &s.paths {
            json::sep(out);
            write_path(out, path, names);
        }
        out.push(b']');
    }
    if let Some(sa) = &s.sockaddr {
        json::key(out, "sockaddr");
        write_sockaddr(out, sa);
    }
    if s.proctitle_args().next().is_some() {
        json::key(out, "proctitle");
        string_array(out, s.proctitle_args());
    }
    if let Some(argv) = argv {
        json::key(out, "argv");
        string_array(out, argv.iter());
    }
    out.push(b'}');
}

pub(crate) fn string_array<'a>(out: &mut Vec<u8>, items: impl Iterator<Item = &'a [u8]>) {
    out.push(b'[');
    for item in items {
        json::sep(out);
        json::string(out, item);
    }
    out.push(b']');
}

/// `gid`, `egid`, `sgid`, `fsgid`, `ogid` name groups; the other id fields name users.
pub(crate) fn is_group_field(field: &str) -> bool {
    field.ends_with("gid")
}

/// Writes `{"id":1000,"name":"bob"}`, `{"id":4242}` or `{"id":null,"unset":true}`.
pub(crate) fn write_id(out: &mut Vec<u8>, id: &Id<'_>, group: bool, names: &dyn IdNames) {
    match id.value {
        Some(n) => {
            out.extend_from_slice(b"{\"id\":");
            json::u64(out, u64::from(n));
            if let Some(name) = id_name(id, group, names) {
                out.extend_from_slice(b",\"name\":");
                json::string(out, &name);
            }
            out.push(b'}');
        }
        None => out.extend_from_slice(b"{\"id\":null,\"unset\":true}"),
    }
}

/// Returns the id's name: auditd's from the ENRICHED suffix when it is a real name (not
/// `unset` or `unknown(N)`), else the resolver's.
pub(crate) fn id_name<'n>(id: &'n Id<'_>, group: bool, names: &'n dyn IdNames) -> Option<Cow<'n, [u8]>> {
    if let Some(name) = id.name.as_deref().filter(|n| is_real_name(n)) {
        return Some(Cow::Borrowed(name));
    }
    let n = id.value?;
    let name = if group { names.group(n) } else { names.user(n) }?;
    Some(match name {
        Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
        Cow::Owned(s) => Cow::Owned(s.into_bytes()),
    })
}

fn is_real_name(name: &[u8]) -> bool {
    !name.is_empty() && name != b"unset" && !name.starts_with(b"unknown(")
}

fn write_path(out: &mut Vec<u8>, p: &PathItem<'_>, names: &dyn IdNames) {
    out.push(b'{');
    if let Some(item) = p.item {
        json::key(out, "item");
        json::u64(out, u64::from(item));
    }
    if let Some(name) = &p.name {
        json::key(out, "name");
        json::string(out, name);
    }
    if let Some(inode) = p.inode {
        json::key(out, "inode");
        json::u64(out, inode);
    }
    if let Some((major, minor)) = p.dev {
        json::key(out, "dev");
        out.push(b'"');
        json::hex2(out, major);
        out.push(b':');
        json::hex2(out, minor);
        out.push(b'"');
    }
    if let Some(mode) = p.mode {
        json::key(out, "mode");
        out.extend_from_slice(b"\"0");
        json::octal(out, mode, 1);
        out.push(b'"');
        if let Some(kind) = file_type(mode) {
            json::key(out, "type");
            json::string(out, kind.as_bytes());
        }
    }
    if let Some(nametype) = p.nametype {
        json::key(out, "nametype");
        json::string(out, nametype);
    }
    if let Some(ouid) = &p.ouid {
        json::key(out, "ouid");
        write_id(out, ouid, false, names);
    }
    if let Some(ogid) = &p.ogid {
        json::key(out, "ogid");
        write_id(out, ogid, true, names);
    }
    out.push(b'}');
}

/// The file type from the `S_IFMT` bits of a mode.
pub(crate) fn file_type(mode: u32) -> Option<&'static str> {
    Some(match mode & 0o170_000 {
        0o140_000 => "socket",
        0o120_000 => "symlink",
        0o100_000 => "file",
        0o060_000 => "block",
        0o040_000 => "dir",
        0o020_000 => "char",
        0o010_000 => "fifo",
        _ => return None,
    })
}

fn write_sockaddr(out: &mut Vec<u8>, sa: &OwnedSockAddr) {
    out.push(b'{');
    if let Some(family) = sa.family {
        json::key(out, "family");
        json::string(out, family.as_bytes());
    }
    if let Some(addr) = &sa.addr {
        json::key(out, "addr");
        json::string(out, addr);
    }
    if let Some(port) = sa.port {
        json::key(out, "port");
        json::u64(out, u64::from(port));
    }
    json::key(out, "kind");
    json::string(out, sa.kind.as_bytes());
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_types_from_mode() {
        assert_eq!(file_type(0o100_644), Some("file"));
        assert_eq!(file_type(0o040_755), Some("dir"));
        assert_eq!(file_type(0o120_777), Some("symlink"));
        assert_eq!(file_type(0o020_620), Some("char"));
        assert_eq!(file_type(0o060_660), Some("block"));
        assert_eq!(file_type(0o010_600), Some("fifo"));
        assert_eq!(file_type(0o140_777), Some("socket"));
        assert_eq!(file_type(0o644), None);
    }
}
