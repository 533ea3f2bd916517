//! One stored event: the fields the store filters and groups on, derived once at ingest from an
//! assembled event, plus the event's record lines and assembly flags, from which the event itself
//! is rebuilt exactly when a caller wants it whole.
//!
//! Not a wire or API shape: the columns of a segment and the frames of the write-ahead log are
//! written from it here and in `segment`.

use assemble::summary::{SummaryBuffers, SummaryBuilder};
use assemble::{Assembler, Completion, Event, Incomplete};
use parse::Fields;
use vocab::RecordType;

use crate::checksum::hash64;
pub(crate) use crate::codec::put_opt;
use crate::codec::{put_bytes, put_varint, unzigzag, zigzag, Reader};
use crate::error::StoreError;

const COMPLETIONS: [Completion; 6] =
    [Completion::Eoe, Completion::Standalone, Completion::Proctitle, Completion::Timeout, Completion::Evicted, Completion::EndOfInput];
const INCOMPLETES: [Incomplete; 5] =
    [Incomplete::NoSyscallRecord, Incomplete::MissingPaths, Incomplete::MissingArguments, Incomplete::NoEoe, Incomplete::Evicted];

/// One event as the store keeps it. Byte strings are the kernel's bytes (decoded from hex where
/// the kernel hex-encodes), never re-encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// The event's place in ingest order: consecutive over the store's life, from 1. 0 for a
    /// row that was never stored ([`StoredEvent::from_event`]).
    pub ordinal: u64,
    /// Event time, milliseconds since the Unix epoch.
    pub ms: u64,
    pub serial: u64,
    /// The `node=` the records named; empty when none.
    pub node: Vec<u8>,
    /// Record type names in arrival order (`SYSCALL`, `UNKNOWN[1336]`, …).
    pub types: Vec<Vec<u8>>,
    pub pid: Option<u32>,
    pub ppid: Option<u32>,
    pub uid: Option<u32>,
    pub auid: Option<u32>,
    pub euid: Option<u32>,
    /// The syscall's name for the event's arch, or its number when the arch has no name for it.
    pub syscall: Option<Vec<u8>>,
    pub success: Option<bool>,
    pub exit: Option<i64>,
    pub exe: Option<Vec<u8>>,
    pub comm: Option<Vec<u8>>,
    pub keys: Vec<Vec<u8>>,
    pub cwd: Option<Vec<u8>>,
    /// Every PATH record's name, in item order.
    pub paths: Vec<Vec<u8>>,
    /// The command line: the EXECVE arguments joined by spaces, else the PROCTITLE's.
    pub argv: Option<Vec<u8>>,
    pub addr: Option<Vec<u8>>,
    pub port: Option<u16>,
    /// The audit container id (`contid=` of a CONTAINER_ID record).
    pub container: Option<Vec<u8>>,
    pub completion: Completion,
    pub incomplete: Vec<Incomplete>,
    pub duplicate_records: u32,
    /// Every record's line as read, each ending in `\n`; `None` once the store released the
    /// lines (see [`crate::ColumnarStore::release_lines`]).
    pub raw: Option<Vec<u8>>,
}

impl Default for StoredEvent {
    fn default() -> StoredEvent {
        StoredEvent {
            ordinal: 0,
            ms: 0,
            serial: 0,
            node: Vec::new(),
            types: Vec::new(),
            pid: None,
            ppid: None,
            uid: None,
            auid: None,
            euid: None,
            syscall: None,
            success: None,
            exit: None,
            exe: None,
            comm: None,
            keys: Vec::new(),
            cwd: None,
            paths: Vec::new(),
            argv: None,
            addr: None,
            port: None,
            container: None,
            completion: Completion::EndOfInput,
            incomplete: Vec::new(),
            duplicate_records: 0,
            raw: None,
        }
    }
}

impl StoredEvent {
    /// Derives the stored form of an event.
    pub fn from_event(e: &Event) -> StoredEvent {
        let (mut fields, mut lines) = (Vec::new(), Vec::new());
        encode_event(e, &mut fields, &mut lines);
        let mut row = StoredEvent::decode(&mut Reader::new(&fields)).expect("an encoding decodes");
        row.raw = Reader::new(&lines).bytes().map(<[u8]>::to_vec);
        row
    }

    /// The identity used to drop re-ingested events: `(node, serial, time)` and the records'
    /// bytes. The same key with different records (an event the assembler had to split on a
    /// timeout) is two events, and both are kept.
    pub fn fingerprint(&self) -> u64 {
        let mut key = Vec::with_capacity(self.node.len() + 16);
        key.extend_from_slice(&self.ms.to_le_bytes());
        key.extend_from_slice(&self.serial.to_le_bytes());
        key.extend_from_slice(&self.node);
        hash64(hash64(0x6175_6469_746d_6573, &key), self.raw.as_deref().unwrap_or_default())
    }

    /// Rebuilds the assembled event from its lines, with the completion and flags it had when it
    /// was stored; [`StoreError::LinesReleased`] when the store no longer has the lines.
    pub fn event(&self) -> Result<Event, StoreError> {
        let Some(raw) = &self.raw else {
            return Err(StoreError::LinesReleased { ordinal: self.ordinal });
        };
        let mut asm = Assembler::new(assemble::Config::default());
        let mut out: Vec<Event> = Vec::with_capacity(1);
        for line in raw.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let record = parse::parse_line(line).map_err(|_| StoreError::Rebuild { serial: self.serial, ms: self.ms })?;
            asm.push(&record, &mut out);
        }
        asm.finish_all(&mut out);
        if out.len() != 1 {
            return Err(StoreError::Rebuild { serial: self.serial, ms: self.ms });
        }
        let mut event = out.pop().expect("one event");
        event.completion = self.completion;
        event.incomplete = self.incomplete.clone();
        event.duplicate_records = self.duplicate_records;
        Ok(event)
    }

    pub(crate) fn set_completion(&mut self, code: u64) -> Option<()> {
        self.completion = *COMPLETIONS.get(usize::try_from(code).ok()?)?;
        Some(())
    }

    pub(crate) fn set_incomplete(&mut self, bits: u64) {
        self.incomplete = INCOMPLETES.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, x)| *x).collect();
    }

    /// Reads the fields written by [`encode_event`]; `None` when the bytes are damaged.
    pub(crate) fn decode(r: &mut Reader<'_>) -> Option<StoredEvent> {
        let mut row = StoredEvent { ms: r.varint()?, serial: r.varint()?, node: r.bytes()?.to_vec(), types: get_list(r)?, ..StoredEvent::default() };
        let mut ids = [None; 5];
        for id in &mut ids {
            *id = opt_u32(r.varint()?)?;
        }
        [row.pid, row.ppid, row.uid, row.auid, row.euid] = ids;
        row.syscall = get_opt(r)?;
        row.success = match r.varint()? {
            0 => None,
            1 => Some(false),
            2 => Some(true),
            _ => return None,
        };
        row.exit = match r.varint()? {
            0 => None,
            v => Some(unzigzag(v.wrapping_sub(1))),
        };
        row.exe = get_opt(r)?;
        row.comm = get_opt(r)?;
        row.keys = get_list(r)?;
        row.cwd = get_opt(r)?;
        row.paths = get_list(r)?;
        row.argv = get_opt(r)?;
        row.addr = get_opt(r)?;
        row.port = match r.varint()? {
            0 => None,
            v => Some(u16::try_from(v - 1).ok()?),
        };
        row.container = get_opt(r)?;
        row.set_completion(r.varint()?)?;
        row.set_incomplete(r.varint()?);
        row.duplicate_records = u32::try_from(r.varint()?).ok()?;
        Some(row)
    }
}

/// Appends the event's fields in the store's row encoding to `fields` and its record lines
/// (each ending in `\n`, all of them length-prefixed as a lines block holds them) to `lines`;
/// returns the event's fingerprint
/// ([`StoredEvent::fingerprint`]). Allocates only for what the kernel hex-encoded.
///
/// ```text
/// ms serial node types(count, names) pid ppid uid auid euid (0 absent, else value + 1)
/// syscall(opt) success(0 absent, 1 no, 2 yes) exit(0 absent, else zigzag + 1) exe comm
/// keys(list) cwd paths(list) argv addr port(0 absent, else + 1) container completion
/// incomplete(bits) duplicates          opt = 0 absent, else length + 1 and the bytes
/// ```
///
/// The numbers are the codes the segment columns hold.
pub(crate) fn encode_event(e: &Event, fields: &mut Vec<u8>, lines: &mut Vec<u8>) -> u64 {
    let out = fields;
    let node = e.node().unwrap_or_default();
    put_varint(out, e.id.time.millis);
    put_varint(out, e.id.serial.0);
    put_bytes(out, node);
    static CONTAINER_ID: std::sync::OnceLock<Option<RecordType>> = std::sync::OnceLock::new();
    let container_id = *CONTAINER_ID.get_or_init(|| RecordType::from_name(b"CONTAINER_ID"));
    let mut types: [RecordType; 16] = [RecordType(0); 16];
    let mut ntypes = 0;
    let mut extra: Vec<RecordType> = Vec::new();
    let mut container: Option<Vec<u8>> = None;
    put_varint(lines, e.records().map(|r| r.line.len() as u64 + 1).sum());
    let lines_start = lines.len();
    let mut builder = SummaryBuilder::with_buffers(BUFFERS.take());
    for rec in e.records() {
        lines.extend_from_slice(rec.line);
        lines.push(b'\n');
        let rt = rec.record_type;
        if !types[..ntypes].contains(&rt) && !extra.contains(&rt) {
            if ntypes < types.len() {
                types[ntypes] = rt;
                ntypes += 1;
            } else {
                extra.push(rt);
            }
        }
        if Some(rt) == container_id && container.is_none() {
            container = Fields::new(rec.body).find(|f| f.name == b"contid").map(|f| f.value.bytes().to_vec());
        }
        // the PROCTITLE only stands in for a missing EXECVE: decoding it otherwise is wasted
        if SummaryBuilder::wants(rt) && !(rt == RecordType::PROCTITLE && e.argv.is_some()) {
            // the ENRICHED suffix only names ids: the store keeps the numbers
            builder.begin(rt);
            // of a PATH or CWD record the store keeps only the name: the fields after it are
            // not split
            let last = match rt {
                RecordType::CWD => Some(&b"cwd"[..]),
                RecordType::PATH => Some(&b"name"[..]),
                _ => None,
            };
            for f in Fields::new(rec.body) {
                builder.field(&f);
                if last == Some(f.name) {
                    break;
                }
            }
            builder.end();
        }
    }
    put_varint(out, (ntypes + extra.len()) as u64);
    for rt in types[..ntypes].iter().chain(&extra) {
        match rt.name() {
            Some(n) => put_bytes(out, n.as_bytes()),
            None => put_bytes(out, format!("UNKNOWN[{}]", rt.0).as_bytes()),
        }
    }
    let summary = e.first(RecordType::SYSCALL).and_then(|_| builder.finish());
    let id = |name: &str| summary.as_ref().and_then(|s| s.ids.iter().find(|(n, _)| *n == name).and_then(|(_, i)| i.value));
    let s = summary.as_ref();
    for v in [s.and_then(|s| s.pid), s.and_then(|s| s.ppid), id("uid"), id("auid"), id("euid")] {
        put_varint(out, v.map_or(0, |v| u64::from(v) + 1));
    }
    match s.map(|s| (s.syscall_name(), s.syscall)) {
        Some((Some(name), _)) => put_opt(out, Some(name.as_bytes())),
        Some((None, Some(nr))) => put_opt(out, Some(nr.to_string().as_bytes())),
        _ => put_opt(out, None),
    }
    put_varint(out, s.and_then(|s| s.success).map_or(0, |s| 1 + u64::from(s)));
    put_varint(out, s.and_then(|s| s.exit).map_or(0, |e| zigzag(e).wrapping_add(1)));
    put_opt(out, s.and_then(|s| s.exe.as_deref()));
    put_opt(out, s.and_then(|s| s.comm.as_deref()));
    put_varint(out, s.map_or(0, |s| s.keys.len()) as u64);
    for k in s.iter().flat_map(|s| &s.keys) {
        put_bytes(out, k);
    }
    put_opt(out, s.and_then(|s| s.cwd.as_deref()));
    let paths = || s.into_iter().flat_map(|s| &s.paths).filter_map(|p| p.name.as_deref());
    put_varint(out, paths().count() as u64);
    for p in paths() {
        put_bytes(out, p);
    }
    match (&e.argv, s) {
        (Some(argv), _) => put_joined(out, || argv.iter()),
        (None, Some(s)) if s.proctitle_args().next().is_some() => put_joined(out, || s.proctitle_args()),
        _ => put_opt(out, None),
    }
    let sa = s.and_then(|s| s.sockaddr.as_ref());
    put_opt(out, sa.and_then(|sa| sa.addr.as_deref()));
    put_varint(out, sa.and_then(|sa| sa.port).map_or(0, |p| u64::from(p) + 1));
    put_opt(out, container.as_deref());
    put_varint(out, completion_code(e.completion));
    put_varint(out, incomplete_bits(&e.incomplete));
    put_varint(out, u64::from(e.duplicate_records));
    if let Some(summary) = summary {
        BUFFERS.set(SummaryBuffers::reclaim(summary));
    }
    fingerprint(e.id.time.millis, e.id.serial.0, node, &lines[lines_start..])
}

thread_local! {
    /// The summary's vectors between events: encoding allocates none per event.
    static BUFFERS: std::cell::Cell<SummaryBuffers> = std::cell::Cell::new(SummaryBuffers::default());
}

/// Writes arguments joined by spaces as an `opt`.
fn put_joined<'a, I: Iterator<Item = &'a [u8]>>(out: &mut Vec<u8>, args: impl Fn() -> I) {
    let (n, len) = args().fold((0usize, 0usize), |(n, len), a| (n + 1, len + a.len()));
    put_varint(out, (len + n.saturating_sub(1)) as u64 + 1);
    for (i, a) in args().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.extend_from_slice(a);
    }
}

fn fingerprint(ms: u64, serial: u64, node: &[u8], lines: &[u8]) -> u64 {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&ms.to_le_bytes());
    key[8..].copy_from_slice(&serial.to_le_bytes());
    let h = hash64(0x6175_6469_746d_6573, &key);
    hash64(hash64(h, node), lines)
}

fn completion_code(c: Completion) -> u64 {
    COMPLETIONS.iter().position(|&x| x == c).unwrap_or(0) as u64
}

fn incomplete_bits(v: &[Incomplete]) -> u64 {
    v.iter().fold(0, |acc, i| acc | 1 << INCOMPLETES.iter().position(|x| x == i).unwrap_or(0))
}

pub(crate) fn opt_u32(v: u64) -> Option<Option<u32>> {
    match v {
        0 => Some(None),
        v => Some(Some(u32::try_from(v - 1).ok()?)),
    }
}

fn get_opt(r: &mut Reader<'_>) -> Option<Option<Vec<u8>>> {
    match r.varint()? {
        0 => Some(None),
        n => Some(Some(r.take(usize::try_from(n - 1).ok()?)?.to_vec())),
    }
}

fn get_list(r: &mut Reader<'_>) -> Option<Vec<Vec<u8>>> {
    let n = r.varint()?;
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(r.bytes()?.to_vec());
    }
    Some(out)
}
