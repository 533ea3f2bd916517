//! Segment files: up to a few tens of thousands of events of one day, one column per field, and
//! beside each its lines file with the events' record lines.
//!
//! Integers are varints (time, serial and ordinal as zigzag deltas from the previous row); text
//! fields are ids into a per-segment dictionary (0 is "absent") in the fewest bytes that hold
//! the largest (`width ids…`); list fields are counts and ids the same way
//! (`count_width id_width counts… ids…`), so a needle query decodes them with no branching. Every column is zstd-compressed on its own and carries a checksum. The record lines
//! are in the lines file (same layout, other magic) in blocks of at most [`RAW_BLOCK`] rows
//! (the blocks the write-ahead log wrote, column `BLOCK_ROWS` says how many rows each holds),
//! so that printing a few events does not decompress a whole segment, and so that the lines
//! can be released (the file deleted) while the fields stay searchable.
//!
//! ```text
//! "AMSEG002"|"AMLIN001" column bytes…  directory  dir_len:u64 dir_checksum:u64 "AMSEGEND"
//! directory: rows min_ms max_ms min_ordinal max_ordinal ncols (id offset zlen rawlen checksum)×ncols,
//!            all u64 LE
//! ```
//!
//! Opening the store reads each file's two ends and checks magic, end marker and directory (its
//! checksum, every column inside the file); a column's checksum is checked whenever it is read,
//! and `verify` reads every column.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::checksum::hash64;
use crate::codec::{put_varint, unzigzag, Reader};
use crate::error::StoreError;
use crate::pending::Pending;
use crate::query::Field;
use crate::row::{opt_u32, StoredEvent};

const MAGIC: &[u8; 8] = b"AMSEG002";
const LINES_MAGIC: &[u8; 8] = b"AMLIN001";
const END: &[u8; 8] = b"AMSEGEND";
pub(crate) const RAW_BLOCK: usize = 1024;

/// Where a field lives in a segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Col {
    /// Plain varints (ids as value + 1, 0 = absent; codes for the rest).
    Num(u32),
    /// Dictionary ids.
    Text(u32),
    /// A count and dictionary ids per row.
    List(u32),
    /// Zigzag deltas from the previous row (time, serial).
    Delta(u32),
}

pub(crate) const MS: u32 = 0;
pub(crate) const SERIAL: u32 = 1;
pub(crate) const COMPLETION: u32 = 10;
pub(crate) const INCOMPLETE: u32 = 11;
pub(crate) const DUPLICATES: u32 = 12;
pub(crate) const FINGERPRINT: u32 = 24;
pub(crate) const ORDINAL: u32 = 25;
/// A text or list column's dictionary: its id + `DICT`.
pub(crate) const DICT: u32 = 100;
/// In a lines file: the number of rows of each block (varints).
const BLOCK_ROWS: u32 = 999;
/// In a lines file: block `k` is column `RAW + k`.
const RAW: u32 = 1000;

pub(crate) fn col(field: Field) -> Col {
    match field {
        Field::Pid => Col::Num(2),
        Field::Ppid => Col::Num(3),
        Field::Uid => Col::Num(4),
        Field::Auid => Col::Num(5),
        Field::Euid => Col::Num(6),
        Field::Success => Col::Num(7),
        Field::Exit => Col::Num(8),
        Field::Port => Col::Num(9),
        Field::Node => Col::Text(13),
        Field::Syscall => Col::Text(14),
        Field::Exe => Col::Text(15),
        Field::Comm => Col::Text(16),
        Field::Cwd => Col::Text(17),
        Field::Argv => Col::Text(18),
        Field::Addr => Col::Text(19),
        Field::Container => Col::Text(20),
        Field::Type => Col::List(21),
        Field::Key => Col::List(22),
        Field::Path => Col::List(23),
        Field::Serial => Col::Delta(SERIAL),
        Field::Time => Col::Delta(MS),
    }
}

/// One column's place in a segment file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ColMeta {
    pub id: u32,
    pub offset: u64,
    pub zlen: u64,
    pub rawlen: u64,
    pub checksum: u64,
}

/// What the store keeps in memory about a sealed segment.
#[derive(Clone, Debug)]
pub(crate) struct SegmentMeta {
    pub path: PathBuf,
    pub seq: u64,
    pub rows: usize,
    pub min_ms: u64,
    pub max_ms: u64,
    pub min_ordinal: u64,
    pub max_ordinal: u64,
    /// The segment file's size (the lines file not included).
    pub bytes: u64,
    pub cols: Vec<ColMeta>,
    /// The lines file, until released.
    pub lines: Option<LinesMeta>,
}

impl SegmentMeta {
    /// The segment's bytes on disk, its lines file included.
    pub(crate) fn disk_bytes(&self) -> u64 {
        self.bytes + self.lines.as_ref().map_or(0, |l| l.bytes)
    }
}

/// A segment's lines file.
#[derive(Clone, Debug)]
pub(crate) struct LinesMeta {
    pub path: PathBuf,
    pub bytes: u64,
    pub cols: Vec<ColMeta>,
}

/// The lines file beside a segment file.
pub(crate) fn lines_path(segment: &Path) -> PathBuf {
    segment.with_extension("lines")
}

/// Writes a builder's rows as a segment file and its lines file (each through a temporary
/// name, synced, then renamed, the lines file first; the caller syncs the directory). The
/// record lines are written as the builder holds them, already compressed.
/// `zstd` is reused from segment to segment: a compression context is megabytes of tables, and
/// making one per column costs more (in page faults) than compressing.
pub(crate) fn write(path: &Path, seq: u64, p: &Pending, zstd: &mut zstd::bulk::Compressor<'static>, scratch: &mut Vec<u8>) -> Result<SegmentMeta, StoreError> {
    let head = [p.rows as u64, p.min_ms, p.max_ms, p.min_ordinal, p.max_ordinal];
    let mut block_rows = Vec::new();
    for b in &p.blocks {
        put_varint(&mut block_rows, u64::from(b.rows));
    }
    let mut lines: Vec<(u32, Data<'_>)> = vec![(BLOCK_ROWS, Data::Raw(&block_rows))];
    lines.extend(p.blocks.iter().enumerate().map(|(k, b)| (RAW + k as u32, Data::Compressed(&b.z, b.rawlen))));
    let lpath = lines_path(path);
    let (lbytes, lcols) = write_file(&lpath, LINES_MAGIC, head, lines, zstd, scratch)?;
    let columns = p.columns();
    let cols = columns.iter().map(|(id, b)| (*id, Data::Raw(b))).collect();
    let (bytes, cols) = write_file(path, MAGIC, head, cols, zstd, scratch)?;
    Ok(SegmentMeta {
        path: path.to_path_buf(),
        seq,
        rows: p.rows,
        min_ms: p.min_ms,
        max_ms: p.max_ms,
        min_ordinal: p.min_ordinal,
        max_ordinal: p.max_ordinal,
        bytes,
        cols,
        lines: Some(LinesMeta { path: lpath, bytes: lbytes, cols: lcols }),
    })
}

/// A column to write: to be compressed, or compressed already (with its raw length).
enum Data<'a> {
    Raw(&'a [u8]),
    Compressed(&'a [u8], u64),
}

fn write_file(
    path: &Path,
    magic: &[u8; 8],
    head: [u64; 5],
    columns: Vec<(u32, Data<'_>)>,
    zstd: &mut zstd::bulk::Compressor<'static>,
    scratch: &mut Vec<u8>,
) -> Result<(u64, Vec<ColMeta>), StoreError> {
    let mut file = Vec::with_capacity(1 << 20);
    file.extend_from_slice(magic);
    let mut cols = Vec::new();
    for (id, data) in columns {
        let (z, rawlen) = match data {
            Data::Raw(raw) => (std::borrow::Cow::Owned(crate::codec::compress(zstd, scratch, raw).map_err(StoreError::io(path))?), raw.len() as u64),
            Data::Compressed(z, rawlen) => (std::borrow::Cow::Borrowed(z), rawlen),
        };
        cols.push(ColMeta { id, offset: file.len() as u64, zlen: z.len() as u64, rawlen, checksum: hash64(u64::from(id), &z) });
        file.extend_from_slice(&z);
    }
    let mut dir = Vec::new();
    for v in head.into_iter().chain([cols.len() as u64]) {
        dir.extend_from_slice(&v.to_le_bytes());
    }
    for c in &cols {
        for v in [u64::from(c.id), c.offset, c.zlen, c.rawlen, c.checksum] {
            dir.extend_from_slice(&v.to_le_bytes());
        }
    }
    let dir_checksum = hash64(1, &dir);
    file.extend_from_slice(&dir);
    file.extend_from_slice(&(dir.len() as u64).to_le_bytes());
    file.extend_from_slice(&dir_checksum.to_le_bytes());
    file.extend_from_slice(END);
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(StoreError::io(&tmp))?;
    f.write_all(&file).map_err(StoreError::io(&tmp))?;
    f.sync_data().map_err(StoreError::io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(StoreError::io(path))?;
    Ok((file.len() as u64, cols))
}

/// Reads and checks a whole segment file (magic, directory and every column's checksum), and
/// the directory of its lines file when there is one. A damaged lines file leaves the segment
/// without lines and comes back beside it.
pub(crate) fn open(path: &Path, seq: u64) -> Result<(SegmentMeta, Option<StoreError>), StoreError> {
    let (len, ends) = read_ends(path).map_err(StoreError::io(path))?;
    let (head, cols) = check_file(path, MAGIC, &ends, len - ends.len(), false)?;
    let [rows, min_ms, max_ms, min_ordinal, max_ordinal] = head;
    let lpath = lines_path(path);
    let (lines, problem) = match read_ends(&lpath) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, None),
        Err(e) => (None, Some(StoreError::Io { path: lpath, source: e })),
        Ok((len, ends)) => match check_file(&lpath, LINES_MAGIC, &ends, len - ends.len(), false) {
            Err(e) => (None, Some(e)),
            Ok((lhead, _)) if lhead != head => (None, Some(StoreError::Corrupt { path: lpath, what: "does not belong to its segment".into() })),
            Ok((_, lcols)) => (Some(LinesMeta { path: lpath, bytes: len as u64, cols: lcols }), None),
        },
    };
    let meta = SegmentMeta { path: path.to_path_buf(), seq, rows: rows as usize, min_ms, max_ms, min_ordinal, max_ordinal, bytes: len as u64, cols, lines };
    Ok((meta, problem))
}

/// The first 8 bytes and the directory with what follows it (as the end says how long the
/// directory is; the last 24 bytes when the file is too short or the length is wrong), as one
/// buffer, and the file's length: a file is opened without reading its columns.
fn read_ends(path: &Path) -> std::io::Result<(usize, Vec<u8>)> {
    let f = File::open(path)?;
    let len = f.metadata()?.len() as usize;
    let head = len.min(8);
    let mut end = [0u8; 24];
    let mut tail = len.saturating_sub(8).min(24);
    f.read_exact_at(&mut end[..tail], (len - tail) as u64)?;
    if tail == 24 {
        let dir_len = u64::from_le_bytes(end[..8].try_into().expect("8"));
        if dir_len <= (len - 32) as u64 {
            tail += dir_len as usize;
        }
    }
    let mut buf = vec![0u8; head + tail];
    f.read_exact_at(&mut buf[..head], 0)?;
    f.read_exact_at(&mut buf[head..], (len - tail) as u64)?;
    Ok((len, buf))
}

/// Checks magic and directory (and every column when `whole`); returns the directory. `file`
/// is the file's bytes with `gap` bytes after the first 8 left out (`read_ends`); `whole`
/// needs the whole file.
fn check_file(path: &Path, magic: &[u8; 8], file: &[u8], gap: usize, whole: bool) -> Result<([u64; 5], Vec<ColMeta>), StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt { path: path.to_path_buf(), what: what.to_string() };
    if file.len() < MAGIC.len() + 24 || &file[..8] != magic {
        return Err(corrupt("bad magic"));
    }
    let tail = &file[file.len() - 24..];
    if &tail[16..] != END {
        return Err(corrupt("truncated (no end marker)"));
    }
    let dir_len = u64::from_le_bytes(tail[..8].try_into().expect("8")) as usize;
    let dir_checksum = u64::from_le_bytes(tail[8..16].try_into().expect("8"));
    let Some(dir_start) = (file.len() - 24).checked_sub(dir_len).filter(|&s| s >= 8) else {
        return Err(corrupt("bad directory length"));
    };
    let dir = &file[dir_start..file.len() - 24];
    let dir_start = dir_start + gap;
    if hash64(1, dir) != dir_checksum {
        return Err(corrupt("directory checksum mismatch"));
    }
    let mut r = Reader::new(dir);
    let mut head = [0u64; 6];
    for h in &mut head {
        *h = r.u64_le().ok_or_else(|| corrupt("short directory"))?;
    }
    let mut cols = Vec::new();
    for _ in 0..head[5] {
        let v: Option<Vec<u64>> = (0..5).map(|_| r.u64_le()).collect();
        let Some(v) = v else {
            return Err(corrupt("short directory"));
        };
        let c = ColMeta { id: v[0] as u32, offset: v[1], zlen: v[2], rawlen: v[3], checksum: v[4] };
        let end = c.offset.checked_add(c.zlen).filter(|&e| e <= dir_start as u64);
        let Some(end) = end else {
            return Err(corrupt("column outside the file"));
        };
        if whole && hash64(u64::from(c.id), &file[c.offset as usize..end as usize]) != c.checksum {
            return Err(corrupt(&format!("column {} checksum mismatch", c.id)));
        }
        cols.push(c);
    }
    Ok(([head[0], head[1], head[2], head[3], head[4]], cols))
}

/// Decompresses with one reused context per thread: making one per column showed in needle
/// queries.
pub(crate) fn decompress(z: &[u8], capacity: usize) -> std::io::Result<Vec<u8>> {
    thread_local! {
        static CONTEXT: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { std::cell::RefCell::new(None) };
    }
    CONTEXT.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Some(zstd::bulk::Decompressor::new()?);
        }
        c.as_mut().expect("made").decompress(z, capacity)
    })
}

/// Encodes dictionary ids: their width (1, 2 or 4 bytes), then each id in it, little-endian.
pub(crate) fn encode_ids(ids: &[u32]) -> Vec<u8> {
    let w = width(ids.iter().copied().max().unwrap_or(0));
    let mut out = Vec::with_capacity(1 + ids.len() * w);
    out.push(w as u8);
    put_fixed(&mut out, ids, w);
    out
}

/// Encodes a list column: count width, id width, the counts, the ids.
pub(crate) fn encode_list(counts: &[u32], ids: &[u32]) -> Vec<u8> {
    let (cw, iw) = (width(counts.iter().copied().max().unwrap_or(0)), width(ids.iter().copied().max().unwrap_or(0)));
    let mut out = Vec::with_capacity(2 + counts.len() * cw + ids.len() * iw);
    out.extend_from_slice(&[cw as u8, iw as u8]);
    put_fixed(&mut out, counts, cw);
    put_fixed(&mut out, ids, iw);
    out
}

fn width(max: u32) -> usize {
    match max {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        _ => 4,
    }
}

fn put_fixed(out: &mut Vec<u8>, v: &[u32], w: usize) {
    match w {
        1 => out.extend(v.iter().map(|&x| x as u8)),
        2 => v.iter().for_each(|&x| out.extend_from_slice(&(x as u16).to_le_bytes())),
        _ => v.iter().for_each(|&x| out.extend_from_slice(&x.to_le_bytes())),
    }
}

/// Reads `n` fixed-width values; `None` when the bytes are short or the width is not 1, 2 or 4.
fn get_fixed(b: &[u8], w: usize, n: usize) -> Option<Vec<u32>> {
    let b = b.get(..n.checked_mul(w)?)?;
    Some(match w {
        1 => b.iter().map(|&x| u32::from(x)).collect(),
        2 => b.chunks_exact(2).map(|c| u32::from(u16::from_le_bytes([c[0], c[1]]))).collect(),
        4 => b.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
        _ => return None,
    })
}

/// Reads a segment file and its lines file whole and checks every column's checksum.
pub(crate) fn verify(meta: &SegmentMeta) -> Result<(), StoreError> {
    let file = std::fs::read(&meta.path).map_err(StoreError::io(&meta.path))?;
    check_file(&meta.path, MAGIC, &file, 0, true)?;
    if let Some(lines) = &meta.lines {
        let file = std::fs::read(&lines.path).map_err(StoreError::io(&lines.path))?;
        check_file(&lines.path, LINES_MAGIC, &file, 0, true)?;
    }
    Ok(())
}

/// Reads one column's uncompressed bytes; a column the file does not have is empty.
pub(crate) fn read_column(file: &File, path: &Path, cols: &[ColMeta], id: u32) -> Result<Vec<u8>, StoreError> {
    let Some(c) = cols.iter().find(|c| c.id == id) else {
        return Ok(Vec::new());
    };
    let mut z = vec![0u8; c.zlen as usize];
    file.read_exact_at(&mut z, c.offset).map_err(StoreError::io(path))?;
    if hash64(u64::from(c.id), &z) != c.checksum {
        return Err(StoreError::Corrupt { path: path.to_path_buf(), what: format!("column {} checksum mismatch", c.id) });
    }
    decompress(&z, c.rawlen as usize).map_err(|e| StoreError::Corrupt { path: path.to_path_buf(), what: format!("column {}: {e}", c.id) })
}

/// A column's dictionary, as read: the strings in one buffer (id `i + 1` is `get(i)`).
pub(crate) struct Dict {
    bytes: Vec<u8>,
    spans: Vec<(u32, u32)>,
}

static EMPTY_DICT: Dict = Dict { bytes: Vec::new(), spans: Vec::new() };

impl Dict {
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    pub(crate) fn get(&self, i: usize) -> Option<&[u8]> {
        self.spans.get(i).map(|&(a, b)| &self.bytes[a as usize..b as usize])
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.spans.iter().map(|&(a, b)| &self.bytes[a as usize..b as usize])
    }
}

/// Decoded columns of one segment (or of the rows not yet sealed), loaded as a query needs them.
pub(crate) struct Columns<'a> {
    pub rows: usize,
    source: Source<'a>,
    pub ms: Option<Vec<u64>>,
    pub nums: HashMap<u32, Vec<u64>>,
    /// Text columns: one id per row.
    pub texts: HashMap<u32, Vec<u32>>,
    /// List columns: offsets (rows + 1) into ids.
    pub lists: HashMap<u32, (Vec<u32>, Vec<u32>)>,
    /// List columns as stored (checked), for a filter that needs no random access.
    pub list_bytes: HashMap<u32, Vec<u8>>,
    pub dicts: HashMap<u32, Dict>,
    /// Delta columns other than time, decoded to values.
    pub deltas: HashMap<u32, Vec<u64>>,
}

enum Source<'a> {
    File(File, &'a SegmentMeta),
    /// The unsealed events of a future segment.
    Memory(&'a Pending),
}

fn damaged(path: Option<&Path>, id: u32) -> StoreError {
    StoreError::Corrupt { path: path.map_or_else(|| PathBuf::from("(memory)"), Path::to_path_buf), what: format!("column {id} does not decode") }
}

impl<'a> Columns<'a> {
    pub(crate) fn of_segment(meta: &'a SegmentMeta) -> Result<Columns<'a>, StoreError> {
        let file = File::open(&meta.path).map_err(StoreError::io(&meta.path))?;
        Ok(Columns::new(meta.rows, Source::File(file, meta)))
    }

    pub(crate) fn of_pending(p: &'a Pending) -> Columns<'a> {
        Columns::new(p.rows, Source::Memory(p))
    }

    fn new(rows: usize, source: Source<'a>) -> Columns<'a> {
        Columns {
            rows,
            source,
            ms: None,
            nums: HashMap::new(),
            texts: HashMap::new(),
            lists: HashMap::new(),
            dicts: HashMap::new(),
            deltas: HashMap::new(),
            list_bytes: HashMap::new(),
        }
    }

    /// The oldest and newest event time.
    pub(crate) fn time_range(&self) -> (u64, u64) {
        match &self.source {
            Source::File(_, m) => (m.min_ms, m.max_ms),
            Source::Memory(p) => (p.min_ms, p.max_ms),
        }
    }

    fn path(&self) -> Option<&Path> {
        match &self.source {
            Source::File(_, m) => Some(&m.path),
            Source::Memory(_) => None,
        }
    }

    fn raw(&self, id: u32) -> Result<Vec<u8>, StoreError> {
        match &self.source {
            Source::File(f, m) => read_column(f, &m.path, &m.cols, id),
            Source::Memory(p) => Ok(p.column(id).to_vec()),
        }
    }

    /// The ordinal of every row.
    pub(crate) fn ordinals(&self) -> Result<Vec<u64>, StoreError> {
        let mut v = self.varints(ORDINAL)?;
        let mut t = 0i64;
        for x in &mut v {
            t = t.wrapping_add(unzigzag(*x));
            *x = t as u64;
        }
        Ok(v)
    }

    /// The first row of each lines block; `None` when the lines were released.
    fn block_starts(&self) -> Result<Option<Vec<usize>>, StoreError> {
        let rows: Vec<u64> = match &self.source {
            Source::Memory(p) => p.blocks.iter().map(|b| u64::from(b.rows)).collect(),
            Source::File(_, m) => {
                let Some(lines) = &m.lines else { return Ok(None) };
                let file = File::open(&lines.path).map_err(StoreError::io(&lines.path))?;
                let bytes = read_column(&file, &lines.path, &lines.cols, BLOCK_ROWS)?;
                let mut r = Reader::new(&bytes);
                let mut v = Vec::new();
                while !r.is_empty() {
                    v.push(r.varint().ok_or_else(|| damaged(Some(&lines.path), BLOCK_ROWS))?);
                }
                v
            }
        };
        let mut starts = Vec::with_capacity(rows.len());
        let mut at = 0usize;
        for n in rows {
            starts.push(at);
            at += n as usize;
        }
        if at != self.rows {
            return Err(damaged(self.path(), BLOCK_ROWS));
        }
        Ok(Some(starts))
    }

    /// The record lines of the rows of block `k`.
    fn line_block(&self, k: usize) -> Result<Vec<Vec<u8>>, StoreError> {
        let id = RAW + k as u32;
        let (bytes, path) = match &self.source {
            Source::Memory(p) => {
                let b = p.blocks.get(k).ok_or_else(|| damaged(None, id))?;
                (decompress(&b.z, b.rawlen as usize).map_err(|_| damaged(None, id))?, None)
            }
            Source::File(_, m) => {
                let lines = m.lines.as_ref().ok_or_else(|| damaged(Some(&m.path), id))?;
                let file = File::open(&lines.path).map_err(StoreError::io(&lines.path))?;
                (read_column(&file, &lines.path, &lines.cols, id)?, Some(lines.path.as_path()))
            }
        };
        let mut r = Reader::new(&bytes);
        let mut out = Vec::with_capacity(RAW_BLOCK);
        while !r.is_empty() {
            out.push(r.bytes().ok_or_else(|| damaged(path, id))?.to_vec());
        }
        Ok(out)
    }

    fn varints(&self, id: u32) -> Result<Vec<u64>, StoreError> {
        let bytes = self.raw(id)?;
        let mut r = Reader::new(&bytes);
        let mut out = Vec::with_capacity(self.rows);
        for _ in 0..self.rows {
            out.push(r.varint().ok_or_else(|| damaged(self.path(), id))?);
        }
        Ok(out)
    }

    pub(crate) fn load_ms(&mut self) -> Result<&[u64], StoreError> {
        if self.ms.is_none() {
            let mut v = self.varints(MS)?;
            let mut t = 0i64;
            for x in &mut v {
                t = t.wrapping_add(unzigzag(*x));
                *x = t as u64;
            }
            self.ms = Some(v);
        }
        Ok(self.ms.as_deref().expect("loaded"))
    }

    pub(crate) fn load_dict(&mut self, field: Field) -> Result<&Dict, StoreError> {
        let id = match col(field) {
            Col::Text(id) | Col::List(id) => id,
            Col::Num(_) | Col::Delta(_) => return Ok(&EMPTY_DICT),
        };
        if !self.dicts.contains_key(&id) {
            let bytes = self.raw(id + DICT)?;
            let mut r = Reader::new(&bytes);
            let mut spans = Vec::new();
            while !r.is_empty() {
                let s = r.bytes().ok_or_else(|| damaged(self.path(), id + DICT))?;
                let end = r.position();
                spans.push(((end - s.len()) as u32, end as u32));
            }
            self.dicts.insert(id, Dict { bytes, spans });
        }
        Ok(&self.dicts[&id])
    }

    /// The value of a delta column (time, serial) at row `i`; the column must be loaded.
    pub(crate) fn delta(&self, id: u32, i: usize) -> u64 {
        if id == MS {
            self.ms.as_ref().expect("loaded")[i]
        } else {
            self.deltas[&id][i]
        }
    }

    /// Loads what a filter on a field reads: a list column's bytes as they are (see
    /// [`Columns::list_any`]), the rest as [`Columns::load`] does.
    pub(crate) fn load_for_filter(&mut self, field: Field) -> Result<(), StoreError> {
        let Col::List(id) = col(field) else { return self.load(field) };
        if self.lists.contains_key(&id) || self.list_bytes.contains_key(&id) {
            return Ok(());
        }
        let bytes = self.raw(id)?;
        let ok = match bytes.as_slice() {
            [] => self.rows == 0,
            [cw, iw, rest @ ..] => {
                let (cw, iw) = (*cw as usize, *iw as usize);
                match (rest.get(..self.rows * cw), [1, 2, 4].contains(&cw) && [1, 2, 4].contains(&iw)) {
                    (Some(counts), true) => {
                        let total: usize = get_fixed(counts, cw, self.rows).map_or(0, |c| c.iter().map(|&n| n as usize).sum());
                        rest.len() == self.rows * cw + total * iw
                    }
                    _ => false,
                }
            }
            _ => false,
        };
        if !ok {
            return Err(damaged(self.path(), id));
        }
        self.list_bytes.insert(id, bytes);
        Ok(())
    }

    /// For each row, whether any of a list column's ids is marked in `hit` (the column loaded
    /// by [`Columns::load_for_filter`] or [`Columns::load`]).
    pub(crate) fn list_any(&self, id: u32, hit: &[bool]) -> Vec<bool> {
        let marked = |v: u32| hit.get(v as usize).copied().unwrap_or(false);
        if let Some((offsets, ids)) = self.lists.get(&id) {
            return offsets.windows(2).map(|w| ids[w[0] as usize..w[1] as usize].iter().any(|&v| marked(v))).collect();
        }
        let b = &self.list_bytes[&id];
        if b.is_empty() {
            return Vec::new();
        }
        let (cw, iw) = (b[0] as usize, b[1] as usize);
        let (counts, ids) = b[2..].split_at(self.rows * cw);
        // checked by load_for_filter
        let counts = get_fixed(counts, cw, self.rows).unwrap_or_default();
        let hits: Vec<bool> = match iw {
            1 => ids.iter().map(|&v| marked(u32::from(v))).collect(),
            2 => ids.chunks_exact(2).map(|c| marked(u32::from(u16::from_le_bytes([c[0], c[1]])))).collect(),
            _ => ids.chunks_exact(4).map(|c| marked(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect(),
        };
        let mut at = 0;
        counts
            .iter()
            .map(|&n| {
                let any = hits[at..at + n as usize].iter().any(|&h| h);
                at += n as usize;
                any
            })
            .collect()
    }

    /// Loads a field's per-row data.
    pub(crate) fn load(&mut self, field: Field) -> Result<(), StoreError> {
        match col(field) {
            Col::Delta(MS) => {
                self.load_ms()?;
            }
            Col::Delta(id) => {
                if !self.deltas.contains_key(&id) {
                    let mut v = self.varints(id)?;
                    let mut t = 0i64;
                    for x in &mut v {
                        t = t.wrapping_add(unzigzag(*x));
                        *x = t as u64;
                    }
                    self.deltas.insert(id, v);
                }
            }
            Col::Num(id) => {
                if !self.nums.contains_key(&id) {
                    let v = self.varints(id)?;
                    self.nums.insert(id, v);
                }
            }
            Col::Text(id) => {
                if !self.texts.contains_key(&id) {
                    let bytes = self.raw(id)?;
                    let v = match bytes.split_first() {
                        None if self.rows == 0 => Some(Vec::new()),
                        Some((&w, rest)) if rest.len() == self.rows * w as usize => get_fixed(rest, w as usize, self.rows),
                        _ => None,
                    }
                    .ok_or_else(|| damaged(self.path(), id))?;
                    self.texts.insert(id, v);
                }
            }
            Col::List(id) => {
                if !self.lists.contains_key(&id) {
                    let bytes = self.raw(id)?;
                    let decoded = (|| {
                        let (&cw, rest) = bytes.split_first()?;
                        let (&iw, rest) = rest.split_first()?;
                        let counts = get_fixed(rest, cw as usize, self.rows)?;
                        let mut offsets = Vec::with_capacity(self.rows + 1);
                        offsets.push(0u32);
                        let mut total = 0u32;
                        for c in counts {
                            total = total.checked_add(c)?;
                            offsets.push(total);
                        }
                        let ids_bytes = &rest[self.rows * cw as usize..];
                        (ids_bytes.len() == total as usize * iw as usize).then_some(())?;
                        let ids = get_fixed(ids_bytes, iw as usize, total as usize)?;
                        Some((offsets, ids))
                    })();
                    let v = match decoded {
                        None if self.rows == 0 => (vec![0], Vec::new()),
                        v => v.ok_or_else(|| damaged(self.path(), id))?,
                    };
                    self.lists.insert(id, v);
                }
            }
        }
        Ok(())
    }

    pub(crate) fn fingerprints(&self) -> Result<Vec<u64>, StoreError> {
        let bytes = self.raw(FINGERPRINT)?;
        if bytes.len() != self.rows * 8 {
            return Err(damaged(self.path(), FINGERPRINT));
        }
        Ok(bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8"))).collect())
    }

    /// Materializes the given rows (ascending) as whole events.
    pub(crate) fn rows_at(&mut self, at: &[usize]) -> Result<Vec<StoredEvent>, StoreError> {
        if at.is_empty() {
            return Ok(Vec::new());
        }
        self.load_ms()?;
        for f in Field::ALL {
            self.load(f)?;
            self.load_dict(f)?;
        }
        let serials = {
            let mut v = self.varints(SERIAL)?;
            let mut t = 0i64;
            for x in &mut v {
                t = t.wrapping_add(unzigzag(*x));
                *x = t as u64;
            }
            v
        };
        let flags = [self.varints(COMPLETION)?, self.varints(INCOMPLETE)?, self.varints(DUPLICATES)?];
        let ordinals = self.ordinals()?;
        let starts = self.block_starts()?;
        let mut block: Option<(usize, Vec<Vec<u8>>)> = None;
        let mut out = Vec::with_capacity(at.len());
        for &i in at {
            let raw = match &starts {
                None => None,
                Some(starts) => {
                    let k = starts.partition_point(|&s| s <= i) - 1;
                    if block.as_ref().is_none_or(|(b, _)| *b != k) {
                        block = Some((k, self.line_block(k)?));
                    }
                    let lines = &block.as_ref().expect("loaded").1;
                    Some(lines.get(i - starts[k]).ok_or_else(|| damaged(self.path(), RAW + k as u32))?.clone())
                }
            };
            let mut row = StoredEvent { ordinal: ordinals[i], ms: self.ms.as_ref().expect("loaded")[i], serial: serials[i], raw, ..StoredEvent::default() };
            row.set_completion(flags[0][i]).ok_or_else(|| damaged(self.path(), COMPLETION))?;
            row.set_incomplete(flags[1][i]);
            row.duplicate_records = flags[2][i] as u32;
            for f in Field::ALL {
                self.fill(&mut row, f, i).ok_or_else(|| damaged(self.path(), 0))?;
            }
            out.push(row);
        }
        Ok(out)
    }

    fn fill(&self, row: &mut StoredEvent, field: Field, i: usize) -> Option<()> {
        match col(field) {
            Col::Num(id) => {
                let v = self.nums[&id][i];
                match field {
                    Field::Pid => row.pid = opt_u32(v)?,
                    Field::Ppid => row.ppid = opt_u32(v)?,
                    Field::Uid => row.uid = opt_u32(v)?,
                    Field::Auid => row.auid = opt_u32(v)?,
                    Field::Euid => row.euid = opt_u32(v)?,
                    Field::Success => row.success = [None, Some(false), Some(true)].get(v as usize).copied()?,
                    Field::Exit => row.exit = if v == 0 { None } else { Some(unzigzag(v - 1)) },
                    Field::Port => row.port = if v == 0 { None } else { Some(u16::try_from(v - 1).ok()?) },
                    _ => {}
                }
            }
            Col::Delta(_) => {}
            Col::Text(id) => {
                let dict = &self.dicts[&id];
                let v = self.texts[&id][i] as usize;
                let s = if v == 0 { None } else { Some(dict.get(v - 1)?.to_vec()) };
                match field {
                    Field::Node => row.node = s.unwrap_or_default(),
                    Field::Syscall => row.syscall = s,
                    Field::Exe => row.exe = s,
                    Field::Comm => row.comm = s,
                    Field::Cwd => row.cwd = s,
                    Field::Argv => row.argv = s,
                    Field::Addr => row.addr = s,
                    Field::Container => row.container = s,
                    _ => {}
                }
            }
            Col::List(id) => {
                let dict = &self.dicts[&id];
                let (offsets, ids) = &self.lists[&id];
                let items: Option<Vec<Vec<u8>>> =
                    ids[offsets[i] as usize..offsets[i + 1] as usize].iter().map(|&v| dict.get((v as usize).checked_sub(1)?).map(<[u8]>::to_vec)).collect();
                let items = items?;
                match field {
                    Field::Type => row.types = items,
                    Field::Key => row.keys = items,
                    Field::Path => row.paths = items,
                    _ => {}
                }
            }
        }
        Some(())
    }
}
