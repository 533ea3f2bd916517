//! One stored event: the fields the store filters and groups on, derived once at ingest from an
//! assembled event, plus the event's record lines and assembly flags, from which the event itself
//! is rebuilt exactly when a caller wants it whole.
//!
//! Not a wire or API shape: the columns of a segment and the frames of the write-ahead log are
//! written from it here and in `segment`.

use assemble::summary::summarize;
use assemble::{Assembler, Completion, Event, Incomplete};
use parse::Fields;
use vocab::RecordType;

use crate::checksum::hash64;
use crate::codec::{put_bytes, put_varint, unzigzag, zigzag, Reader};
use crate::error::StoreError;

const COMPLETIONS: [Completion; 6] = [
    Completion::Eoe,
    Completion::Standalone,
    Completion::Proctitle,
    Completion::Timeout,
    Completion::Evicted,
    Completion::EndOfInput,
];
const INCOMPLETES: [Incomplete; 5] = [
    Incomplete::NoSyscallRecord,
    Incomplete::MissingPaths,
    Incomplete::MissingArguments,
    Incomplete::NoEoe,
    Incomplete::Evicted,
];

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
        let mut row = StoredEvent {
            ms: e.id.time.millis,
            serial: e.id.serial.0,
            node: e.node().unwrap_or_default().to_vec(),
            completion: e.completion,
            incomplete: e.incomplete.clone(),
            duplicate_records: e.duplicate_records,
            ..StoredEvent::default()
        };
        let container_id = RecordType::from_name(b"CONTAINER_ID");
        let mut raw = Vec::with_capacity(e.byte_len() + e.len());
        for rec in e.records() {
            raw.extend_from_slice(rec.line);
            raw.push(b'\n');
            let name = rec.record_type.name().map_or_else(
                || format!("UNKNOWN[{}]", rec.record_type.0).into_bytes(),
                |n| n.as_bytes().to_vec(),
            );
            if !row.types.contains(&name) {
                row.types.push(name);
            }
            if Some(rec.record_type) == container_id && row.container.is_none() {
                row.container = Fields::new(rec.body)
                    .find(|f| f.name == b"contid")
                    .map(|f| f.value.bytes().to_vec());
            }
        }
        row.raw = Some(raw);
        if let Some(s) = summarize(e) {
            let id = |name: &str| {
                s.ids
                    .iter()
                    .find(|(n, _)| *n == name)
                    .and_then(|(_, i)| i.value)
            };
            row.pid = s.pid;
            row.ppid = s.ppid;
            row.uid = id("uid");
            row.auid = id("auid");
            row.euid = id("euid");
            row.syscall = match (s.syscall_name(), s.syscall) {
                (Some(name), _) => Some(name.as_bytes().to_vec()),
                (None, Some(nr)) => Some(nr.to_string().into_bytes()),
                (None, None) => None,
            };
            row.success = s.success;
            row.exit = s.exit;
            row.exe = s.exe.as_deref().map(<[u8]>::to_vec);
            row.comm = s.comm.as_deref().map(<[u8]>::to_vec);
            row.keys = s.keys.iter().map(|k| k.to_vec()).collect();
            row.cwd = s.cwd.as_deref().map(<[u8]>::to_vec);
            row.paths = s
                .paths
                .iter()
                .filter_map(|p| p.name.as_deref().map(<[u8]>::to_vec))
                .collect();
            if let Some(sa) = &s.sockaddr {
                row.addr = sa.addr.clone();
                row.port = sa.port;
            }
            if e.argv.is_none() {
                let args: Vec<&[u8]> = s.proctitle_args().collect();
                if !args.is_empty() {
                    row.argv = Some(args.join(&b' '));
                }
            }
        }
        if let Some(argv) = &e.argv {
            row.argv = Some(argv.iter().collect::<Vec<_>>().join(&b' '));
        }
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
        hash64(
            hash64(0x6175_6469_746d_6573, &key),
            self.raw.as_deref().unwrap_or_default(),
        )
    }

    /// Rebuilds the assembled event from its lines, with the completion and flags it had when it
    /// was stored; [`StoreError::LinesReleased`] when the store no longer has the lines.
    pub fn event(&self) -> Result<Event, StoreError> {
        let Some(raw) = &self.raw else {
            return Err(StoreError::LinesReleased {
                ordinal: self.ordinal,
            });
        };
        let mut asm = Assembler::new(assemble::Config::default());
        let mut out: Vec<Event> = Vec::with_capacity(1);
        for line in raw.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let record = parse::parse_line(line).map_err(|_| StoreError::Rebuild {
                serial: self.serial,
                ms: self.ms,
            })?;
            asm.push(&record, &mut out);
        }
        asm.finish_all(&mut out);
        if out.len() != 1 {
            return Err(StoreError::Rebuild {
                serial: self.serial,
                ms: self.ms,
            });
        }
        let mut event = out.pop().expect("one event");
        event.completion = self.completion;
        event.incomplete = self.incomplete.clone();
        event.duplicate_records = self.duplicate_records;
        Ok(event)
    }

    pub(crate) fn completion_code(&self) -> u64 {
        COMPLETIONS
            .iter()
            .position(|&c| c == self.completion)
            .unwrap_or(0) as u64
    }

    pub(crate) fn incomplete_bits(&self) -> u64 {
        self.incomplete.iter().fold(0, |acc, i| {
            acc | 1 << INCOMPLETES.iter().position(|x| x == i).unwrap_or(0)
        })
    }

    pub(crate) fn set_completion(&mut self, code: u64) -> Option<()> {
        self.completion = *COMPLETIONS.get(usize::try_from(code).ok()?)?;
        Some(())
    }

    pub(crate) fn set_incomplete(&mut self, bits: u64) {
        self.incomplete = INCOMPLETES
            .iter()
            .enumerate()
            .filter(|(i, _)| bits & (1 << i) != 0)
            .map(|(_, x)| *x)
            .collect();
    }

    /// Appends the row in the write-ahead log's encoding.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.ms);
        put_varint(out, self.serial);
        put_bytes(out, &self.node);
        put_list(out, &self.types);
        for v in [self.pid, self.ppid, self.uid, self.auid, self.euid] {
            put_varint(out, v.map_or(0, |v| u64::from(v) + 1));
        }
        put_opt(out, self.syscall.as_deref());
        put_varint(out, self.success.map_or(0, |s| 1 + u64::from(s)));
        put_varint(out, self.exit.map_or(0, |e| zigzag(e).wrapping_add(1)));
        put_opt(out, self.exe.as_deref());
        put_opt(out, self.comm.as_deref());
        put_list(out, &self.keys);
        put_opt(out, self.cwd.as_deref());
        put_list(out, &self.paths);
        put_opt(out, self.argv.as_deref());
        put_opt(out, self.addr.as_deref());
        put_varint(out, self.port.map_or(0, |p| u64::from(p) + 1));
        put_opt(out, self.container.as_deref());
        put_varint(out, self.completion_code());
        put_varint(out, self.incomplete_bits());
        put_varint(out, u64::from(self.duplicate_records));
        put_bytes(out, self.raw.as_deref().unwrap_or_default());
    }

    /// Reads a row written by [`StoredEvent::encode`]; `None` when the bytes are damaged.
    pub(crate) fn decode(r: &mut Reader<'_>) -> Option<StoredEvent> {
        let mut row = StoredEvent {
            ms: r.varint()?,
            serial: r.varint()?,
            node: r.bytes()?.to_vec(),
            types: get_list(r)?,
            ..StoredEvent::default()
        };
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
        row.raw = Some(r.bytes()?.to_vec());
        Some(row)
    }
}

pub(crate) fn opt_u32(v: u64) -> Option<Option<u32>> {
    match v {
        0 => Some(None),
        v => Some(Some(u32::try_from(v - 1).ok()?)),
    }
}

fn put_opt(out: &mut Vec<u8>, v: Option<&[u8]>) {
    match v {
        None => put_varint(out, 0),
        Some(b) => {
            put_varint(out, b.len() as u64 + 1);
            out.extend_from_slice(b);
        }
    }
}

fn get_opt(r: &mut Reader<'_>) -> Option<Option<Vec<u8>>> {
    match r.varint()? {
        0 => Some(None),
        n => Some(Some(r.take(usize::try_from(n - 1).ok()?)?.to_vec())),
    }
}

fn put_list(out: &mut Vec<u8>, items: &[Vec<u8>]) {
    put_varint(out, items.len() as u64);
    for i in items {
        put_bytes(out, i);
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
