//! The events not sealed yet, kept the way a segment will hold them: one builder per future
//! segment (events of one day, at most `Config::segment_rows`), its columns appended to as
//! events come (dictionary ids, varints) and its record lines as compressed blocks — the very
//! blocks the write-ahead log wrote, so sealing compresses each line once. Queries read a
//! builder's columns as they read a segment's.
//!
//! Not a file format: `segment` writes a builder out.

use crate::checksum::FastMap;
use crate::codec::{put_varint, zigzag, Reader};
use crate::query::Field;
use crate::segment::{self, col, Col};

/// Record lines of consecutive rows of one builder, zstd-compressed: a sequence of
/// length-prefixed byte strings, one per row, once decompressed.
#[derive(Clone, Debug)]
pub(crate) struct LinesBlock {
    pub rows: u32,
    pub rawlen: u64,
    pub z: Vec<u8>,
}

/// One future segment.
pub(crate) struct Pending {
    pub day: u64,
    pub rows: usize,
    pub min_ms: u64,
    pub max_ms: u64,
    pub min_ordinal: u64,
    pub max_ordinal: u64,
    /// Column id → bytes, as `segment` lays them out (index = id; column ids are below
    /// [`COLUMNS`]).
    cols: Vec<Vec<u8>>,
    /// Text and list columns: dictionary ids (index = the column's id), and a list's counts.
    ids: Vec<Vec<u32>>,
    counts: Vec<Vec<u32>>,
    /// A text or list column's dictionary (index = the column's id): bytes as `segment` lays
    /// them out, and string → id.
    dict_bytes: Vec<Vec<u8>>,
    dicts: Vec<FastMap<Box<[u8]>, Interned>>,
    /// Per text or list column and place in the row's list (a text column's value is at 0):
    /// the string interned there last. Consecutive events mostly repeat a node, a program, a
    /// record type at the same place, and comparing with the last one is cheaper than hashing.
    last: Vec<[Interned; LAST]>,
    pub fingerprints: Vec<u64>,
    pub blocks: Vec<LinesBlock>,
    prev: [i64; 3],
}

impl Pending {
    pub(crate) fn new(day: u64) -> Pending {
        Pending {
            day,
            rows: 0,
            min_ms: u64::MAX,
            max_ms: 0,
            min_ordinal: u64::MAX,
            max_ordinal: 0,
            cols: vec![Vec::new(); COLUMNS],
            ids: vec![Vec::new(); COLUMNS],
            counts: vec![Vec::new(); COLUMNS],
            dict_bytes: vec![Vec::new(); COLUMNS],
            dicts: vec![FastMap::default(); COLUMNS],
            last: vec![[Interned::default(); LAST]; COLUMNS],
            fingerprints: Vec::new(),
            blocks: Vec::new(),
            prev: [0; 3],
        }
    }

    fn col(&mut self, id: u32) -> &mut Vec<u8> {
        &mut self.cols[id as usize]
    }

    /// The dictionary id of `s` in column `id`, adding it when new; `place` is its place in the
    /// row's list (0 for a text column).
    fn intern(&mut self, id: u32, place: usize, s: &[u8]) -> u64 {
        let (i, place) = (id as usize, place.min(LAST - 1));
        let last = self.last[i][place];
        if last.id != 0 && last.len == s.len() && self.dict_bytes[i].get(last.at..last.at + s.len()) == Some(s) {
            return last.id;
        }
        let dict = &mut self.dicts[i];
        let found = match dict.get(s) {
            Some(&v) => v,
            None => {
                let bytes = &mut self.dict_bytes[i];
                put_varint(bytes, s.len() as u64);
                let v = Interned { id: dict.len() as u64 + 1, at: bytes.len(), len: s.len() };
                bytes.extend_from_slice(s);
                dict.insert(s.into(), v);
                v
            }
        };
        self.last[i][place] = found;
        found.id
    }

    /// One column's bytes (a dictionary at its column's id + `segment::DICT`); empty when the
    /// builder has no such column.
    pub(crate) fn column(&self, id: u32) -> Vec<u8> {
        let (i, dict) = ((id % segment::DICT) as usize, id >= segment::DICT);
        if i >= COLUMNS || id >= 2 * segment::DICT {
            return Vec::new();
        }
        if dict {
            return self.dict_bytes[i].clone();
        }
        match col_kind(id) {
            Some(Col::Text(_)) if !self.ids[i].is_empty() => segment::encode_ids(&self.ids[i]),
            Some(Col::List(_)) if !self.counts[i].is_empty() => segment::encode_list(&self.counts[i], &self.ids[i]),
            _ => self.cols[i].clone(),
        }
    }

    /// Appends one row from its field encoding (`row::encode_event`); `None` when the bytes do
    /// not decode (then the builder must not be used: the caller checked the encoding first).
    pub(crate) fn push(&mut self, fields: &[u8], ordinal: u64, fingerprint: u64) -> Option<()> {
        let mut r = Reader::new(fields);
        let (ms, serial) = (r.varint()?, r.varint()?);
        for (k, (id, v)) in [(segment::MS, ms), (segment::SERIAL, serial), (segment::ORDINAL, ordinal)].into_iter().enumerate() {
            let d = zigzag((v as i64).wrapping_sub(self.prev[k]));
            self.prev[k] = v as i64;
            put_varint(self.col(id), d);
        }
        self.min_ms = self.min_ms.min(ms);
        self.max_ms = self.max_ms.max(ms);
        self.min_ordinal = self.min_ordinal.min(ordinal);
        self.max_ordinal = self.max_ordinal.max(ordinal);
        let node = r.bytes()?;
        self.text(Field::Node, Some(node));
        self.list(Field::Type, &mut r)?;
        for f in [Field::Pid, Field::Ppid, Field::Uid, Field::Auid, Field::Euid] {
            self.num(f, r.varint()?);
        }
        let syscall = opt(&mut r)?;
        self.text(Field::Syscall, syscall);
        for f in [Field::Success, Field::Exit] {
            self.num(f, r.varint()?);
        }
        for f in [Field::Exe, Field::Comm] {
            let v = opt(&mut r)?;
            self.text(f, v);
        }
        self.list(Field::Key, &mut r)?;
        let cwd = opt(&mut r)?;
        self.text(Field::Cwd, cwd);
        self.list(Field::Path, &mut r)?;
        for f in [Field::Argv, Field::Addr] {
            let v = opt(&mut r)?;
            self.text(f, v);
        }
        self.num(Field::Port, r.varint()?);
        let container = opt(&mut r)?;
        self.text(Field::Container, container);
        for id in [segment::COMPLETION, segment::INCOMPLETE, segment::DUPLICATES] {
            let v = r.varint()?;
            put_varint(self.col(id), v);
        }
        self.col(segment::FINGERPRINT).extend_from_slice(&fingerprint.to_le_bytes());
        self.fingerprints.push(fingerprint);
        self.rows += 1;
        Some(())
    }

    fn num(&mut self, field: Field, code: u64) {
        if let Col::Num(id) = col(field) {
            put_varint(self.col(id), code);
        }
    }

    fn text(&mut self, field: Field, v: Option<&[u8]>) {
        if let Col::Text(id) = col(field) {
            let code = v.map_or(0, |s| self.intern(id, 0, s));
            self.ids[id as usize].push(code as u32);
        }
    }

    fn list(&mut self, field: Field, r: &mut Reader<'_>) -> Option<()> {
        let Col::List(id) = col(field) else { return Some(()) };
        let n = r.varint()?;
        self.counts[id as usize].push(u32::try_from(n).ok()?);
        for place in 0..n as usize {
            let s = r.bytes()?;
            let code = self.intern(id, place, s);
            self.ids[id as usize].push(code as u32);
        }
        Some(())
    }

    /// The columns as `segment::write` takes them, dictionaries included (every column a
    /// segment has, empty ones too).
    pub(crate) fn columns(&self) -> Vec<(u32, Vec<u8>)> {
        let ids = (0..COLUMNS as u32).chain((0..COLUMNS as u32).map(|id| id + segment::DICT));
        ids.map(|id| (id, self.column(id))).filter(|(_, b)| !b.is_empty()).collect()
    }
}

/// What kind of column a column id is.
fn col_kind(id: u32) -> Option<Col> {
    Field::ALL.into_iter().map(col).find(|c| matches!(c, Col::Num(x) | Col::Text(x) | Col::List(x) | Col::Delta(x) if *x == id))
}

/// A string in a column's dictionary: its id and where its bytes lie in `dict_bytes`.
#[derive(Clone, Copy, Default)]
struct Interned {
    id: u64,
    at: usize,
    len: usize,
}

/// How many places of a list the last-interned cache covers; later places share the last one.
const LAST: usize = 8;

/// Column ids of a segment are below this (dictionaries add `segment::DICT`).
const COLUMNS: usize = 26;

/// Reads an `opt` byte string.
fn opt<'a>(r: &mut Reader<'a>) -> Option<Option<&'a [u8]>> {
    match r.varint()? {
        0 => Some(None),
        n => Some(Some(r.take(usize::try_from(n - 1).ok()?)?)),
    }
}
