//! Segment files: up to a few tens of thousands of events of one day, one column per field, and
//! beside each its lines file with the events' record lines.
//!
//! Integers are varints (time, serial and ordinal as zigzag deltas from the previous row); text
//! fields are ids into a per-segment dictionary (0 is "absent"); list fields are a count and ids
//! per row. Every column is zstd-compressed on its own and carries a checksum. The record lines
//! are in the lines file (same layout, other magic) in blocks of [`RAW_BLOCK`] rows, so that
//! printing a few events does not decompress a whole segment, and so that the lines can be
//! released (the file deleted) while the fields stay searchable.
//!
//! ```text
//! "AMSEG002"|"AMLIN001" column bytes…  directory  dir_len:u64 dir_checksum:u64 "AMSEGEND"
//! directory: rows min_ms max_ms min_ordinal max_ordinal ncols (id offset zlen rawlen checksum)×ncols,
//!            all u64 LE
//! ```
//!
//! A segment file is checked whole (magic, directory, every column's checksum) when the store
//! opens; a lines file's directory is checked then, its blocks when they are read.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::checksum::{hash64, FastMap};
use crate::codec::{put_bytes, put_varint, unzigzag, zigzag, Reader};
use crate::error::StoreError;
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
}

const MS: u32 = 0;
const SERIAL: u32 = 1;
const COMPLETION: u32 = 10;
const INCOMPLETE: u32 = 11;
const DUPLICATES: u32 = 12;
const FINGERPRINT: u32 = 24;
const ORDINAL: u32 = 25;
const DICT: u32 = 100;
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
    }
}

/// Encodes a number the way the `Num` columns hold it.
pub(crate) fn num_code(field: Field, row: &StoredEvent) -> u64 {
    let id = |v: Option<u32>| v.map_or(0, |v| u64::from(v) + 1);
    match field {
        Field::Pid => id(row.pid),
        Field::Ppid => id(row.ppid),
        Field::Uid => id(row.uid),
        Field::Auid => id(row.auid),
        Field::Euid => id(row.euid),
        Field::Success => row.success.map_or(0, |s| 1 + u64::from(s)),
        Field::Exit => row.exit.map_or(0, |e| zigzag(e).wrapping_add(1)),
        Field::Port => row.port.map_or(0, |p| u64::from(p) + 1),
        _ => 0,
    }
}

fn text(field: Field, row: &StoredEvent) -> Option<&[u8]> {
    match field {
        Field::Node => Some(&row.node),
        Field::Syscall => row.syscall.as_deref(),
        Field::Exe => row.exe.as_deref(),
        Field::Comm => row.comm.as_deref(),
        Field::Cwd => row.cwd.as_deref(),
        Field::Argv => row.argv.as_deref(),
        Field::Addr => row.addr.as_deref(),
        Field::Container => row.container.as_deref(),
        _ => None,
    }
}

fn list(field: Field, row: &StoredEvent) -> &[Vec<u8>] {
    match field {
        Field::Type => &row.types,
        Field::Key => &row.keys,
        Field::Path => &row.paths,
        _ => &[],
    }
}

/// Column id → uncompressed bytes, for a batch of rows.
/// `fps` are the rows' fingerprints, computed once by the caller.
pub(crate) fn encode_columns(rows: &[StoredEvent], fps: &[u64]) -> Vec<(u32, Vec<u8>)> {
    debug_assert_eq!(rows.len(), fps.len());
    let mut out: Vec<(u32, Vec<u8>)> = Vec::new();
    let (mut ms, mut serial, mut ordinal) = (Vec::new(), Vec::new(), Vec::new());
    let (mut pms, mut pserial, mut pord) = (0i64, 0i64, 0i64);
    for r in rows {
        put_varint(&mut ms, zigzag(r.ms as i64 - pms));
        put_varint(&mut serial, zigzag(r.serial as i64 - pserial));
        put_varint(&mut ordinal, zigzag(r.ordinal as i64 - pord));
        (pms, pserial, pord) = (r.ms as i64, r.serial as i64, r.ordinal as i64);
    }
    out.push((MS, ms));
    out.push((SERIAL, serial));
    out.push((ORDINAL, ordinal));
    for field in Field::ALL {
        let c = col(field);
        let mut bytes = Vec::new();
        let mut dict: FastMap<&[u8], u64> = FastMap::default();
        let mut dict_bytes = Vec::new();
        match c {
            Col::Num(id) => {
                for r in rows {
                    put_varint(&mut bytes, num_code(field, r));
                }
                out.push((id, bytes));
            }
            Col::Text(id) => {
                for r in rows {
                    let v = text(field, r).map_or(0, |s| intern(&mut dict, &mut dict_bytes, s));
                    put_varint(&mut bytes, v);
                }
                out.push((id, bytes));
                out.push((id + DICT, dict_bytes));
            }
            Col::List(id) => {
                for r in rows {
                    let items = list(field, r);
                    put_varint(&mut bytes, items.len() as u64);
                    for s in items {
                        let v = intern(&mut dict, &mut dict_bytes, s);
                        put_varint(&mut bytes, v);
                    }
                }
                out.push((id, bytes));
                out.push((id + DICT, dict_bytes));
            }
        }
    }
    for (id, f) in [(COMPLETION, 0u8), (INCOMPLETE, 1), (DUPLICATES, 2)] {
        let mut bytes = Vec::new();
        for r in rows {
            put_varint(
                &mut bytes,
                [
                    r.completion_code(),
                    r.incomplete_bits(),
                    u64::from(r.duplicate_records),
                ][f as usize],
            );
        }
        out.push((id, bytes));
    }
    let mut fp = Vec::with_capacity(rows.len() * 8);
    for f in fps {
        fp.extend_from_slice(&f.to_le_bytes());
    }
    out.push((FINGERPRINT, fp));
    out
}

/// The lines file's columns: the record lines in blocks of [`RAW_BLOCK`] rows.
fn encode_lines(rows: &[StoredEvent]) -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    for (k, block) in rows.chunks(RAW_BLOCK).enumerate() {
        let mut bytes = Vec::new();
        for r in block {
            put_bytes(&mut bytes, r.raw.as_deref().unwrap_or_default());
        }
        out.push((RAW + k as u32, bytes));
    }
    out
}

/// Returns the dictionary id of `s` (1-based), adding it to the dictionary when new.
fn intern<'r>(dict: &mut FastMap<&'r [u8], u64>, dict_bytes: &mut Vec<u8>, s: &'r [u8]) -> u64 {
    let n = dict.len() as u64;
    *dict.entry(s).or_insert_with(|| {
        put_bytes(dict_bytes, s);
        n + 1
    })
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

/// Writes rows as a segment file and its lines file (each through a temporary name, synced,
/// then renamed, the lines file first; the caller syncs the directory).
/// `zstd` is reused from segment to segment: a compression context is megabytes of tables, and
/// making one per column costs more (in page faults) than compressing.
pub(crate) fn write(
    path: &Path,
    seq: u64,
    rows: &[StoredEvent],
    fps: &[u64],
    zstd: &mut zstd::bulk::Compressor<'static>,
) -> Result<SegmentMeta, StoreError> {
    let min_ms = rows.iter().map(|r| r.ms).min().unwrap_or(0);
    let max_ms = rows.iter().map(|r| r.ms).max().unwrap_or(0);
    let min_ordinal = rows.iter().map(|r| r.ordinal).min().unwrap_or(0);
    let max_ordinal = rows.iter().map(|r| r.ordinal).max().unwrap_or(0);
    let head = [rows.len() as u64, min_ms, max_ms, min_ordinal, max_ordinal];
    let lpath = lines_path(path);
    let (lbytes, lcols) = write_file(&lpath, LINES_MAGIC, head, encode_lines(rows), zstd)?;
    let (bytes, cols) = write_file(path, MAGIC, head, encode_columns(rows, fps), zstd)?;
    Ok(SegmentMeta {
        path: path.to_path_buf(),
        seq,
        rows: rows.len(),
        min_ms,
        max_ms,
        min_ordinal,
        max_ordinal,
        bytes,
        cols,
        lines: Some(LinesMeta {
            path: lpath,
            bytes: lbytes,
            cols: lcols,
        }),
    })
}

fn write_file(
    path: &Path,
    magic: &[u8; 8],
    head: [u64; 5],
    columns: Vec<(u32, Vec<u8>)>,
    zstd: &mut zstd::bulk::Compressor<'static>,
) -> Result<(u64, Vec<ColMeta>), StoreError> {
    let mut file = Vec::with_capacity(1 << 20);
    file.extend_from_slice(magic);
    let mut cols = Vec::new();
    for (id, raw) in columns {
        let z = zstd.compress(&raw).map_err(StoreError::io(path))?;
        cols.push(ColMeta {
            id,
            offset: file.len() as u64,
            zlen: z.len() as u64,
            rawlen: raw.len() as u64,
            checksum: hash64(u64::from(id), &z),
        });
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
    let file = std::fs::read(path).map_err(StoreError::io(path))?;
    let (head, cols) = check_file(path, MAGIC, &file, true)?;
    let [rows, min_ms, max_ms, min_ordinal, max_ordinal] = head;
    let lpath = lines_path(path);
    let (lines, problem) = match std::fs::read(&lpath) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, None),
        Err(e) => (
            None,
            Some(StoreError::Io {
                path: lpath,
                source: e,
            }),
        ),
        Ok(lfile) => match check_file(&lpath, LINES_MAGIC, &lfile, false) {
            Err(e) => (None, Some(e)),
            Ok((lhead, _)) if lhead != head => (
                None,
                Some(StoreError::Corrupt {
                    path: lpath,
                    what: "does not belong to its segment".into(),
                }),
            ),
            Ok((_, lcols)) => (
                Some(LinesMeta {
                    path: lpath,
                    bytes: lfile.len() as u64,
                    cols: lcols,
                }),
                None,
            ),
        },
    };
    let meta = SegmentMeta {
        path: path.to_path_buf(),
        seq,
        rows: rows as usize,
        min_ms,
        max_ms,
        min_ordinal,
        max_ordinal,
        bytes: file.len() as u64,
        cols,
        lines,
    };
    Ok((meta, problem))
}

/// Checks magic and directory (and every column when `whole`); returns the directory.
fn check_file(
    path: &Path,
    magic: &[u8; 8],
    file: &[u8],
    whole: bool,
) -> Result<([u64; 5], Vec<ColMeta>), StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt {
        path: path.to_path_buf(),
        what: what.to_string(),
    };
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
        let c = ColMeta {
            id: v[0] as u32,
            offset: v[1],
            zlen: v[2],
            rawlen: v[3],
            checksum: v[4],
        };
        let end = c
            .offset
            .checked_add(c.zlen)
            .filter(|&e| e <= dir_start as u64);
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

/// Reads one column's uncompressed bytes; a column the file does not have is empty.
pub(crate) fn read_column(
    file: &File,
    path: &Path,
    cols: &[ColMeta],
    id: u32,
) -> Result<Vec<u8>, StoreError> {
    let Some(c) = cols.iter().find(|c| c.id == id) else {
        return Ok(Vec::new());
    };
    let mut z = vec![0u8; c.zlen as usize];
    file.read_exact_at(&mut z, c.offset)
        .map_err(StoreError::io(path))?;
    if hash64(u64::from(c.id), &z) != c.checksum {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            what: format!("column {} checksum mismatch", c.id),
        });
    }
    zstd::bulk::decompress(&z, c.rawlen as usize).map_err(|e| StoreError::Corrupt {
        path: path.to_path_buf(),
        what: format!("column {}: {e}", c.id),
    })
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
    pub dicts: HashMap<u32, Vec<Vec<u8>>>,
}

enum Source<'a> {
    File(File, &'a SegmentMeta),
    /// The unsealed rows, encoded (their lines are taken from the rows).
    Memory(HashMap<u32, Vec<u8>>, &'a [StoredEvent]),
}

fn damaged(path: Option<&Path>, id: u32) -> StoreError {
    StoreError::Corrupt {
        path: path.map_or_else(|| PathBuf::from("(memory)"), Path::to_path_buf),
        what: format!("column {id} does not decode"),
    }
}

impl<'a> Columns<'a> {
    pub(crate) fn of_segment(meta: &'a SegmentMeta) -> Result<Columns<'a>, StoreError> {
        let file = File::open(&meta.path).map_err(StoreError::io(&meta.path))?;
        Ok(Columns::new(meta.rows, Source::File(file, meta)))
    }

    pub(crate) fn of_rows(rows: &'a [StoredEvent], fps: &[u64]) -> Columns<'a> {
        Columns::new(
            rows.len(),
            Source::Memory(encode_columns(rows, fps).into_iter().collect(), rows),
        )
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
        }
    }

    fn path(&self) -> Option<&Path> {
        match &self.source {
            Source::File(_, m) => Some(&m.path),
            Source::Memory(..) => None,
        }
    }

    fn raw(&self, id: u32) -> Result<Vec<u8>, StoreError> {
        match &self.source {
            Source::File(f, m) => read_column(f, &m.path, &m.cols, id),
            Source::Memory(cols, _) => Ok(cols.get(&id).cloned().unwrap_or_default()),
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

    /// The record lines of the rows of block `k`; `None` when they were released.
    fn line_block(&self, k: usize) -> Result<Option<Vec<Vec<u8>>>, StoreError> {
        match &self.source {
            Source::Memory(_, rows) => Ok(Some(
                rows.iter()
                    .skip(k * RAW_BLOCK)
                    .take(RAW_BLOCK)
                    .map(|r| r.raw.clone().unwrap_or_default())
                    .collect(),
            )),
            Source::File(_, m) => {
                let Some(lines) = &m.lines else {
                    return Ok(None);
                };
                let file = File::open(&lines.path).map_err(StoreError::io(&lines.path))?;
                let id = RAW + k as u32;
                let bytes = read_column(&file, &lines.path, &lines.cols, id)?;
                let mut r = Reader::new(&bytes);
                let mut out = Vec::with_capacity(RAW_BLOCK);
                while !r.is_empty() {
                    out.push(
                        r.bytes()
                            .ok_or_else(|| damaged(Some(&lines.path), id))?
                            .to_vec(),
                    );
                }
                Ok(Some(out))
            }
        }
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

    pub(crate) fn load_dict(&mut self, field: Field) -> Result<&[Vec<u8>], StoreError> {
        let id = match col(field) {
            Col::Text(id) | Col::List(id) => id,
            Col::Num(_) => return Ok(&[]),
        };
        if !self.dicts.contains_key(&id) {
            let bytes = self.raw(id + DICT)?;
            let mut r = Reader::new(&bytes);
            let mut dict = Vec::new();
            while !r.is_empty() {
                dict.push(
                    r.bytes()
                        .ok_or_else(|| damaged(self.path(), id + DICT))?
                        .to_vec(),
                );
            }
            self.dicts.insert(id, dict);
        }
        Ok(&self.dicts[&id])
    }

    /// Loads a field's per-row data.
    pub(crate) fn load(&mut self, field: Field) -> Result<(), StoreError> {
        match col(field) {
            Col::Num(id) => {
                if !self.nums.contains_key(&id) {
                    let v = self.varints(id)?;
                    self.nums.insert(id, v);
                }
            }
            Col::Text(id) => {
                if !self.texts.contains_key(&id) {
                    let v = self.varints(id)?.into_iter().map(|x| x as u32).collect();
                    self.texts.insert(id, v);
                }
            }
            Col::List(id) => {
                if !self.lists.contains_key(&id) {
                    let bytes = self.raw(id)?;
                    let mut r = Reader::new(&bytes);
                    let (mut offsets, mut ids) = (Vec::with_capacity(self.rows + 1), Vec::new());
                    offsets.push(0);
                    for _ in 0..self.rows {
                        let n = r.varint().ok_or_else(|| damaged(self.path(), id))?;
                        for _ in 0..n {
                            ids.push(r.varint().ok_or_else(|| damaged(self.path(), id))? as u32);
                        }
                        offsets.push(ids.len() as u32);
                    }
                    self.lists.insert(id, (offsets, ids));
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
        Ok(bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().expect("8")))
            .collect())
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
        let flags = [
            self.varints(COMPLETION)?,
            self.varints(INCOMPLETE)?,
            self.varints(DUPLICATES)?,
        ];
        let ordinals = self.ordinals()?;
        let mut block: Option<(usize, Option<Vec<Vec<u8>>>)> = None;
        let mut out = Vec::with_capacity(at.len());
        for &i in at {
            let k = i / RAW_BLOCK;
            if block.as_ref().is_none_or(|(b, _)| *b != k) {
                block = Some((k, self.line_block(k)?));
            }
            let raw = match block.as_ref().and_then(|(_, l)| l.as_ref()) {
                None => None,
                Some(lines) => Some(
                    lines
                        .get(i % RAW_BLOCK)
                        .ok_or_else(|| damaged(self.path(), RAW + k as u32))?
                        .clone(),
                ),
            };
            let mut row = StoredEvent {
                ordinal: ordinals[i],
                ms: self.ms.as_ref().expect("loaded")[i],
                serial: serials[i],
                raw,
                ..StoredEvent::default()
            };
            row.set_completion(flags[0][i])
                .ok_or_else(|| damaged(self.path(), COMPLETION))?;
            row.set_incomplete(flags[1][i]);
            row.duplicate_records = flags[2][i] as u32;
            for f in Field::ALL {
                self.fill(&mut row, f, i)
                    .ok_or_else(|| damaged(self.path(), 0))?;
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
                    Field::Success => {
                        row.success = [None, Some(false), Some(true)].get(v as usize).copied()?
                    }
                    Field::Exit => row.exit = if v == 0 { None } else { Some(unzigzag(v - 1)) },
                    Field::Port => {
                        row.port = if v == 0 {
                            None
                        } else {
                            Some(u16::try_from(v - 1).ok()?)
                        }
                    }
                    _ => {}
                }
            }
            Col::Text(id) => {
                let dict = &self.dicts[&id];
                let v = self.texts[&id][i] as usize;
                let s = if v == 0 {
                    None
                } else {
                    Some(dict.get(v - 1)?.clone())
                };
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
                let items: Option<Vec<Vec<u8>>> = ids[offsets[i] as usize..offsets[i + 1] as usize]
                    .iter()
                    .map(|&v| dict.get((v as usize).checked_sub(1)?).cloned())
                    .collect();
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
