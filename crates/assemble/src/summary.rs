//! Interprets a syscall event: what ran, as whom, on what, and how it ended.
//!
//! Everything here is derived from the records; the records themselves stay untouched in the
//! event. Names of users come from the ENRICHED suffix when auditd wrote one; resolving ids on a
//! host is the caller's business.

use std::borrow::Cow;

use parse::sockaddr::{decode_sockaddr, SockAddr};
use parse::{decode, Field, Fields, Value};
use vocab::{parse_u32, parse_u64, Arch, RecordType};

use crate::Event;

/// The interpreted summary of a syscall event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary<'a> {
    pub arch: Option<Arch>,
    pub syscall: Option<u32>,
    pub success: Option<bool>,
    /// The syscall's return value.
    pub exit: Option<i64>,
    pub pid: Option<u32>,
    pub ppid: Option<u32>,
    pub ses: Option<Id<'a>>,
    /// The id fields present (`uid`, `auid`, `euid`, `suid`, `fsuid`, `gid`, `egid`, `sgid`,
    /// `fsgid`), in the order of the record.
    pub ids: Vec<(&'static str, Id<'a>)>,
    pub tty: Option<Cow<'a, [u8]>>,
    pub comm: Option<Cow<'a, [u8]>>,
    pub exe: Option<Cow<'a, [u8]>>,
    /// Rule keys; several are joined by `\x01` in the record.
    pub keys: Vec<Cow<'a, [u8]>>,
    pub cwd: Option<Cow<'a, [u8]>>,
    pub paths: Vec<PathItem<'a>>,
    pub sockaddr: Option<OwnedSockAddr>,
    /// PROCTITLE, decoded: the first ≤128 bytes of the command line, NUL-separated; see
    /// [`Summary::proctitle_args`].
    pub proctitle: Option<Cow<'a, [u8]>>,
}

/// An id field: the number, or unset (`4294967295` / `-1`), with auditd's name for it if known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Id<'a> {
    pub value: Option<u32>,
    pub name: Option<Cow<'a, [u8]>>,
}

/// One PATH record.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathItem<'a> {
    pub item: Option<u32>,
    pub name: Option<Cow<'a, [u8]>>,
    pub inode: Option<u64>,
    pub dev: Option<(u32, u32)>,
    pub mode: Option<u32>,
    pub nametype: Option<&'a [u8]>,
    pub ouid: Option<Id<'a>>,
    pub ogid: Option<Id<'a>>,
}

/// A socket address decoded from SOCKADDR, owning its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedSockAddr {
    pub family: Option<&'static str>,
    /// Address text: dotted IPv4, RFC 5952 IPv6, a unix path, an abstract name with a leading `@`.
    pub addr: Option<Vec<u8>>,
    pub port: Option<u16>,
    /// The raw kind, for what the above cannot express (`unnamed`, `too_short`, `other:N`).
    pub kind: String,
}

impl Summary<'_> {
    /// Returns the errno name when the syscall failed (`exit` is minus an errno).
    pub fn errno(&self) -> Option<&'static str> {
        let exit = self.exit?;
        if (-4095..0).contains(&exit) {
            vocab::errno_name(u32::try_from(-exit).ok()?)
        } else {
            None
        }
    }

    /// Iterates over the PROCTITLE's arguments (split at NUL; a trailing NUL ends the last one).
    pub fn proctitle_args(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let title: &[u8] = self.proctitle.as_deref().unwrap_or_default();
        let title = title.strip_suffix(b"\0").unwrap_or(title);
        title.split(|&b| b == 0).filter(move |_| !title.is_empty())
    }

    pub fn arch_name(&self) -> Option<&'static str> {
        self.arch?.name()
    }

    pub fn syscall_name(&self) -> Option<&'static str> {
        self.arch?.syscall_name(self.syscall?)
    }
}

const ID_FIELDS: [&str; 9] = ["uid", "auid", "euid", "suid", "fsuid", "gid", "egid", "sgid", "fsgid"];

/// Summarizes an event that has a SYSCALL record; `None` for other events.
pub fn summarize(event: &Event) -> Option<Summary<'_>> {
    event.first(RecordType::SYSCALL)?;
    let mut builder = SummaryBuilder::default();
    for record in event.records() {
        if !SummaryBuilder::wants(record.record_type) {
            continue;
        }
        builder.begin(record.record_type);
        for f in Fields::new(record.body) {
            builder.field(&f);
        }
        if let Some(suffix) = record.enriched {
            for f in Fields::new(suffix) {
                builder.enriched_field(&f);
            }
        }
        builder.end();
    }
    builder.finish()
}

/// Builds a [`Summary`] from the fields of an event's records as someone else reads them, so a
/// renderer that walks every field anyway does not split the records a second time.
///
/// For each record: [`begin`](Self::begin), [`field`](Self::field) for each body field,
/// [`enriched_field`](Self::enriched_field) for each field of the ENRICHED suffix, then
/// [`end`](Self::end). Records of other types may be skipped ([`wants`](Self::wants)).
#[derive(Default)]
pub struct SummaryBuilder<'a> {
    s: Summary<'a>,
    seen_syscall: bool,
    /// The record being read, when it is one the summary uses.
    current: Option<RecordType>,
    /// Id fields of the current SYSCALL or PATH record, named once the suffix is read.
    ids: [(&'static str, &'a [u8]); ID_FIELDS.len()],
    ids_len: usize,
    names: EnrichedNames<'a>,
    path: PathItem<'a>,
}

impl<'a> SummaryBuilder<'a> {
    /// Returns true for the record types the summary reads.
    pub fn wants(rt: RecordType) -> bool {
        matches!(rt, RecordType::SYSCALL | RecordType::CWD | RecordType::PATH | RecordType::SOCKADDR | RecordType::PROCTITLE)
    }

    /// Starts a record.
    pub fn begin(&mut self, rt: RecordType) {
        self.current = match rt {
            // Only the first SYSCALL record of an event counts.
            RecordType::SYSCALL if self.seen_syscall => None,
            rt if Self::wants(rt) => Some(rt),
            _ => None,
        };
        if self.current == Some(RecordType::SYSCALL) {
            self.seen_syscall = true;
        }
        self.ids_len = 0;
        self.names.len = 0;
        self.path = PathItem::default();
    }

    /// Reads one field of the record's body.
    pub fn field(&mut self, f: &Field<'a>) {
        let Some(rt) = self.current else { return };
        let v = f.value.bytes();
        let s = &mut self.s;
        match rt {
            RecordType::SYSCALL => match f.name {
                b"arch" => s.arch = u32::from_str_radix(std::str::from_utf8(v).unwrap_or(""), 16).ok().map(Arch),
                b"syscall" => s.syscall = parse_u32(v),
                b"success" => s.success = Some(v == b"yes"),
                b"exit" => s.exit = parse_i64(v),
                b"pid" => s.pid = parse_u32(v),
                b"ppid" => s.ppid = parse_u32(v),
                b"ses" => s.ses = Some(id(v, None)),
                b"tty" => s.tty = string(rt, f.name, f.value),
                b"comm" => s.comm = string(rt, f.name, f.value),
                b"exe" => s.exe = string(rt, f.name, f.value),
                b"key" => {
                    if let Some(key) = string(rt, f.name, f.value) {
                        split_keys(key, &mut s.keys);
                    }
                }
                // every id field ends in `id`: the other fields (a0…a3, items, subj…) skip the search
                name if name.ends_with(b"id") => {
                    if let Some(&field) = ID_FIELDS.iter().find(|n| n.as_bytes() == name) {
                        if self.ids_len < self.ids.len() {
                            self.ids[self.ids_len] = (field, v);
                            self.ids_len += 1;
                        }
                    }
                }
                _ => {}
            },
            RecordType::CWD if f.name == b"cwd" => s.cwd = string(rt, f.name, f.value),
            RecordType::PATH => {
                let p = &mut self.path;
                match f.name {
                    b"item" => p.item = parse_u32(v),
                    b"name" => p.name = string(rt, f.name, f.value),
                    b"inode" => p.inode = parse_u64(v),
                    b"dev" => p.dev = parse_dev(v),
                    b"mode" => p.mode = u32::from_str_radix(std::str::from_utf8(v).unwrap_or(""), 8).ok(),
                    b"nametype" => p.nametype = Some(v),
                    b"ouid" if self.ids_len < self.ids.len() => {
                        self.ids[self.ids_len] = ("ouid", v);
                        self.ids_len += 1;
                    }
                    b"ogid" if self.ids_len < self.ids.len() => {
                        self.ids[self.ids_len] = ("ogid", v);
                        self.ids_len += 1;
                    }
                    _ => {}
                }
            }
            RecordType::SOCKADDR if f.name == b"saddr" => {
                if let (Value::Str(bytes), _) = decode(rt, f.name, f.value) {
                    s.sockaddr = Some(own_sockaddr(&decode_sockaddr(&bytes)));
                }
            }
            RecordType::PROCTITLE if f.name == b"proctitle" => s.proctitle = string(rt, f.name, f.value),
            _ => {}
        }
    }

    /// Reads one field of the record's ENRICHED suffix (names for the ids).
    pub fn enriched_field(&mut self, f: &Field<'a>) {
        if matches!(self.current, Some(RecordType::SYSCALL | RecordType::PATH)) && !f.name.is_empty() {
            self.names.push(f.name, f.value.bytes());
        }
    }

    /// Ends the record.
    pub fn end(&mut self) {
        match self.current {
            Some(RecordType::SYSCALL) => {
                self.s.ids.clear();
                self.s.ids.extend(self.ids[..self.ids_len].iter().map(|&(field, v)| (field, id(v, self.names.get(field.as_bytes())))));
            }
            Some(RecordType::PATH) => {
                let mut p = std::mem::take(&mut self.path);
                for &(field, v) in &self.ids[..self.ids_len] {
                    let value = Some(id(v, self.names.get(field.as_bytes())));
                    if field == "ouid" {
                        p.ouid = value;
                    } else {
                        p.ogid = value;
                    }
                }
                self.s.paths.push(p);
            }
            _ => {}
        }
        self.current = None;
    }

    /// Returns the summary, or `None` if the event had no SYSCALL record.
    pub fn finish(self) -> Option<Summary<'a>> {
        self.seen_syscall.then_some(self.s)
    }

    /// A builder whose summary fills the given buffers (emptied first) instead of allocating
    /// its own: a caller summarizing event after event hands back the buffers of the previous
    /// summary ([`SummaryBuffers::reclaim`]) and allocates none per event.
    pub fn with_buffers(buffers: SummaryBuffers) -> SummaryBuilder<'a> {
        let mut b = SummaryBuilder::default();
        b.s.ids = recycle(buffers.ids);
        b.s.paths = recycle(buffers.paths);
        b.s.keys = recycle(buffers.keys);
        b
    }
}

/// The growable parts of a [`Summary`], kept empty between events so their memory serves the
/// next one; see [`SummaryBuilder::with_buffers`].
#[derive(Default)]
pub struct SummaryBuffers {
    ids: Vec<(&'static str, Id<'static>)>,
    paths: Vec<PathItem<'static>>,
    keys: Vec<Cow<'static, [u8]>>,
}

impl SummaryBuffers {
    /// Takes back the buffers of a summary that is done with.
    pub fn reclaim(s: Summary<'_>) -> SummaryBuffers {
        SummaryBuffers { ids: recycle(s.ids), paths: recycle(s.paths), keys: recycle(s.keys) }
    }
}

/// Empties a vector and returns its memory as a vector of a type of the same layout (here: the
/// same type with another lifetime); collecting from an emptied vector's own iterator reuses
/// its allocation.
fn recycle<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().map(|_| unreachable!("the vector is empty")).collect()
}

/// The `UPPER="name"` pairs of the ENRICHED suffix, on the stack: a SYSCALL record has at most
/// a dozen.
#[derive(Default)]
struct EnrichedNames<'a> {
    pairs: [(&'a [u8], &'a [u8]); 16],
    len: usize,
}

impl<'a> EnrichedNames<'a> {
    fn push(&mut self, key: &'a [u8], name: &'a [u8]) {
        if self.len < self.pairs.len() {
            self.pairs[self.len] = (key, name);
            self.len += 1;
        }
    }

    /// Returns the name for lower-case field `field` (`uid` → `UID="root"`).
    fn get(&self, field: &[u8]) -> Option<Cow<'a, [u8]>> {
        self.pairs[..self.len].iter().find(|(k, _)| k.eq_ignore_ascii_case(field)).map(|&(_, n)| Cow::Borrowed(n))
    }
}

fn string<'a>(rt: RecordType, name: &[u8], raw: parse::RawValue<'a>) -> Option<Cow<'a, [u8]>> {
    match decode(rt, name, raw).0 {
        Value::Str(s) => Some(s),
        Value::Bare(b) => Some(Cow::Borrowed(b)),
        _ => None,
    }
}

fn split_keys<'a>(key: Cow<'a, [u8]>, keys: &mut Vec<Cow<'a, [u8]>>) {
    keys.clear();
    if !key.contains(&1) {
        keys.push(key);
        return;
    }
    keys.extend(key.split(|&b| b == 1).map(|k| Cow::Owned(k.to_vec())));
}

fn id<'a>(v: &[u8], name: Option<Cow<'a, [u8]>>) -> Id<'a> {
    let value = match v {
        b"4294967295" | b"-1" => None,
        _ => parse_u32(v),
    };
    let name = name.filter(|n| !n.is_empty());
    Id { value, name }
}

/// `fe:00` or `08:02` (hex major:minor).
pub fn parse_dev(v: &[u8]) -> Option<(u32, u32)> {
    let s = std::str::from_utf8(v).ok()?;
    let (major, minor) = s.split_once(':')?;
    Some((u32::from_str_radix(major, 16).ok()?, u32::from_str_radix(minor, 16).ok()?))
}

fn parse_i64(v: &[u8]) -> Option<i64> {
    match v.strip_prefix(b"-") {
        Some(digits) => parse_u64(digits).and_then(|n| i64::try_from(n).ok()).map(|n| -n),
        None => parse_u64(v).and_then(|n| i64::try_from(n).ok()),
    }
}

fn own_sockaddr(sa: &SockAddr<'_>) -> OwnedSockAddr {
    let family = sa.family_name();
    let (addr, port, kind): (Option<Vec<u8>>, Option<u16>, String) = match sa {
        SockAddr::Inet { addr, port } => (Some(std::net::Ipv4Addr::from(*addr).to_string().into_bytes()), Some(*port), "inet".into()),
        SockAddr::Inet6 { addr, port, .. } => (Some(std::net::Ipv6Addr::from(*addr).to_string().into_bytes()), Some(*port), "inet6".into()),
        SockAddr::Unix { path } => (Some(path.to_vec()), None, "unix".into()),
        SockAddr::AbstractUnix { name } => {
            let mut a = b"@".to_vec();
            a.extend_from_slice(name);
            (Some(a), None, "abstract".into())
        }
        SockAddr::UnnamedUnix => (None, None, "unnamed".into()),
        SockAddr::Netlink { pid, groups } => (Some(format!("pid={pid} groups={groups:#x}").into_bytes()), None, "netlink".into()),
        SockAddr::Other { family, .. } => (None, None, format!("other:{family}")),
        SockAddr::TooShort { .. } => (None, None, "too_short".into()),
    };
    OwnedSockAddr { family, addr, port, kind }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Assembler, Config};

    fn event(lines: &[&str]) -> Event {
        let mut a = Assembler::new(Config::default());
        let mut out = Vec::new();
        for l in lines {
            a.push(&parse::parse_line(l.as_bytes()).unwrap(), &mut out);
        }
        a.finish_all(&mut out);
        assert_eq!(out.len(), 1);
        out.pop().unwrap()
    }

    /// Builds the summary as `summarize` does, into the given buffers.
    fn summarize_into<'a>(e: &'a Event, buffers: SummaryBuffers) -> Option<Summary<'a>> {
        let mut b = SummaryBuilder::with_buffers(buffers);
        for record in e.records() {
            b.begin(record.record_type);
            for f in Fields::new(record.body) {
                b.field(&f);
            }
            if let Some(suffix) = record.enriched {
                for f in Fields::new(suffix) {
                    b.enriched_field(&f);
                }
            }
            b.end();
        }
        b.finish()
    }

    #[test]
    fn reused_buffers_hold_nothing_of_the_previous_event() {
        let first = event(&[
            "type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=257 success=no exit=-13 ppid=1 pid=2 auid=4242 uid=1000 euid=1000 comm=\"cat\" exe=\"/usr/bin/cat\" key=61630162",
            "type=PATH msg=audit(1.000:7): item=0 name=\"/etc/shadow\" ouid=0 ogid=42",
            "type=PATH msg=audit(1.000:7): item=1 name=\"/etc/passwd\"",
        ]);
        let second = event(&[
            "type=SYSCALL msg=audit(2.000:8): arch=c000003e syscall=59 success=yes exit=0 ppid=1 pid=3 uid=0 comm=\"ls\" exe=\"/usr/bin/ls\" key=(null)",
            "type=PATH msg=audit(2.000:8): item=0 name=\"/usr/bin/ls\"",
        ]);
        let s = summarize_into(&first, SummaryBuffers::default()).unwrap();
        assert_eq!(s, summarize(&first).unwrap());
        assert_eq!((s.ids.len(), s.paths.len(), s.keys.len()), (3, 2, 2));
        let s = summarize_into(&second, SummaryBuffers::reclaim(s)).unwrap();
        assert_eq!(s, summarize(&second).unwrap());
        assert_eq!(s.ids, [("uid", Id { value: Some(0), name: None })]);
        assert_eq!(s.paths.iter().map(|p| p.name.as_deref()).collect::<Vec<_>>(), [Some(&b"/usr/bin/ls"[..])]);
        assert!(s.keys.is_empty());
    }

    #[test]
    fn failed_open_with_enriched_names() {
        let e = event(&[
            "type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c items=1 ppid=1 pid=2 auid=4242 uid=1000 gid=1000 euid=1000 ses=3 tty=pts0 comm=\"cat\" exe=\"/usr/bin/cat\" key=61630162\x1dARCH=x86_64 SYSCALL=openat AUID=\"amuser\" UID=\"bob\"",
            "type=CWD msg=audit(1.000:7): cwd=2F746D702F6120622F",
            "type=PATH msg=audit(1.000:7): item=0 name=\"/etc/shadow\" inode=42 dev=fe:01 mode=0100640 ouid=0 ogid=42 rdev=00:00 nametype=NORMAL",
            "type=PROCTITLE msg=audit(1.000:7): proctitle=636174002F6574632F736861646F77",
        ]);
        let s = summarize(&e).unwrap();
        assert_eq!(s.exit, Some(-13));
        assert_eq!(s.success, Some(false));
        let keys: Vec<&[u8]> = s.keys.iter().map(|k| &k[..]).collect();
        assert_eq!(keys, [&b"ac"[..], &b"b"[..]]);
        assert_eq!(s.cwd.as_deref(), Some(&b"/tmp/a b/"[..]));
        assert_eq!(s.ids[0], ("auid", Id { value: Some(4242), name: Some(Cow::Borrowed(&b"amuser"[..])) }));
        assert_eq!(s.ids[1], ("uid", Id { value: Some(1000), name: Some(Cow::Borrowed(&b"bob"[..])) }));
        assert_eq!(s.paths[0].dev, Some((0xfe, 1)));
        assert_eq!(s.paths[0].mode, Some(0o100640));
        assert_eq!(s.proctitle_args().collect::<Vec<_>>(), [&b"cat"[..], &b"/etc/shadow"[..]]);
    }
}
