//! The write-ahead log: each ingest call's new events as one frame, appended and `fdatasync`ed
//! before the call returns, replayed when the store opens, emptied once its events are sealed
//! into segments. It always holds the events' record lines.
//!
//! ```text
//! header: "AMWH" 0:u32 next_ordinal:u64          (written when the log is created or emptied)
//! frame:  "AMWL" payload_len:u32 checksum:u64 payload
//! payload: count first_ordinal fields_rawlen fields_zlen zstd(fields)
//!          nblocks (nrows row_index×nrows rawlen zlen zstd(lines))×nblocks      (varints)
//! fields:  per event its field encoding (`row::encode_event`) and fingerprint:u64
//! lines:   per row of the block its record lines, length-prefixed
//! ```
//!
//! The header keeps the next ordinal across a log emptied after retention removed every
//! segment; the events of a frame have consecutive ordinals from `first_ordinal`. The lines
//! blocks are the ones the segment's lines file will hold (see `pending`): each line is
//! compressed once.
//!
//! A frame cut short at the end of the file is a write that never returned (nothing acknowledged
//! is in it): it is cut off. A frame of full length that fails its checksum is reported as
//! corruption, wherever it is: the events before it are kept, the file is set aside under a new
//! name (nothing is deleted) and named in the error.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::checksum::hash64;
use crate::codec::{put_varint, Reader};
use crate::error::StoreError;
use crate::row::StoredEvent;

const MAGIC: &[u8; 4] = b"AMWL";
const HEAD_MAGIC: &[u8; 4] = b"AMWH";
const HEADER: usize = 16;

pub(crate) struct Wal {
    path: PathBuf,
    file: File,
    /// Reused: a fresh zstd context per frame costs more than the compression.
    zstd: zstd::bulk::Compressor<'static>,
    /// Reused buffers: compression output, the frame being written.
    scratch: Vec<u8>,
    frame: Vec<u8>,
}

/// One frame read back: its events with their ordinals, fingerprints, fields and lines.
pub(crate) struct Batch {
    pub ordinals: Vec<u64>,
    pub fingerprints: Vec<u64>,
    /// Each event's field encoding.
    pub fields: Vec<Vec<u8>>,
    /// Each event's record lines.
    pub lines: Vec<Vec<u8>>,
}

/// A block of lines to log: the frame rows it holds, in order.
pub(crate) struct BlockRef<'a> {
    pub rows: &'a [u32],
    pub rawlen: u64,
    pub z: &'a [u8],
}

/// What opening the log found.
pub(crate) struct Replay {
    pub batches: Vec<Batch>,
    /// The ordinal after the log's last event (or its header's), 0 when the log had none.
    pub next_ordinal: u64,
    /// Bytes of an unfinished last frame that were cut off.
    pub torn_bytes: u64,
    /// A damaged frame followed by more data: the file was moved here.
    pub corrupt: Option<StoreError>,
}
impl Wal {
    /// Opens the log and reads it back. A log without a header (new, or emptied by a crash
    /// between truncating and writing it) is given one with `next_ordinal`.
    pub(crate) fn open(path: &Path, next_ordinal: u64) -> Result<(Wal, Replay), StoreError> {
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path).map_err(StoreError::io(path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(StoreError::io(path))?;
        let mut replay = Replay { batches: Vec::new(), next_ordinal: 0, torn_bytes: 0, corrupt: None };
        let mut pos = 0usize;
        if bytes.len() >= HEADER && &bytes[..4] == HEAD_MAGIC {
            replay.next_ordinal = u64::from_le_bytes(bytes[8..16].try_into().expect("8"));
            pos = HEADER;
        } else if bytes.len() < HEADER && HEAD_MAGIC.starts_with(&bytes[..bytes.len().min(4)]) {
            // no header, or one cut short: write it afresh
            file.set_len(0).map_err(StoreError::io(path))?;
            file.write_all(&header(next_ordinal)).map_err(StoreError::io(path))?;
            file.sync_data().map_err(StoreError::io(path))?;
            bytes = header(next_ordinal).to_vec();
            pos = HEADER;
        }
        while pos < bytes.len() {
            match frame(&bytes[pos..]) {
                Frame::Good(len, batch) => {
                    replay.next_ordinal = replay.next_ordinal.max(batch.ordinals.last().map_or(0, |o| o + 1));
                    replay.batches.push(batch);
                    pos += len;
                }
                Frame::Torn => {
                    replay.torn_bytes = (bytes.len() - pos) as u64;
                    break;
                }
                Frame::Bad(what) => {
                    let aside = path.with_extension(format!("corrupt-{}", std::process::id()));
                    std::fs::rename(path, &aside).map_err(StoreError::io(&aside))?;
                    replay.corrupt =
                        Some(StoreError::Corrupt { path: path.to_path_buf(), what: format!("{what} at byte {pos}; moved to {}", aside.display()) });
                    // start a fresh log holding what was good
                    let mut fresh = OpenOptions::new().read(true).append(true).create(true).open(path).map_err(StoreError::io(path))?;
                    fresh.write_all(&bytes[..pos]).map_err(StoreError::io(path))?;
                    fresh.sync_data().map_err(StoreError::io(path))?;
                    file = fresh;
                    break;
                }
            }
        }
        if replay.torn_bytes > 0 {
            file.set_len(pos as u64).map_err(StoreError::io(path))?;
            file.sync_data().map_err(StoreError::io(path))?;
        }
        file.seek(SeekFrom::End(0)).map_err(StoreError::io(path))?;
        let zstd = zstd::bulk::Compressor::new(1).map_err(StoreError::io(path))?;
        Ok((Wal { path: path.to_path_buf(), file, zstd, scratch: Vec::new(), frame: Vec::new() }, replay))
    }

    /// Appends events as one frame and waits until they are on disk: `count` events from
    /// `first_ordinal`, their field encodings and fingerprints in `fields`, their lines in
    /// `blocks`.
    pub(crate) fn append(&mut self, count: usize, first_ordinal: u64, fields: &[u8], blocks: &[BlockRef<'_>]) -> Result<(), StoreError> {
        let z = crate::codec::compress(&mut self.zstd, &mut self.scratch, fields).map_err(StoreError::io(&self.path))?;
        let mut frame = std::mem::take(&mut self.frame);
        frame.clear();
        frame.extend_from_slice(MAGIC);
        frame.extend_from_slice(&[0; HEADER - 4]);
        let payload = &mut frame;
        for v in [count as u64, first_ordinal, fields.len() as u64, z.len() as u64] {
            put_varint(payload, v);
        }
        payload.extend_from_slice(&z);
        put_varint(payload, blocks.len() as u64);
        for b in blocks {
            put_varint(payload, b.rows.len() as u64);
            for &r in b.rows {
                put_varint(payload, u64::from(r));
            }
            put_varint(payload, b.rawlen);
            put_varint(payload, b.z.len() as u64);
            payload.extend_from_slice(b.z);
        }
        let len = (frame.len() - HEADER) as u32;
        let checksum = hash64(2, &frame[HEADER..]);
        frame[4..8].copy_from_slice(&len.to_le_bytes());
        frame[8..16].copy_from_slice(&checksum.to_le_bytes());
        let written = self.file.write_all(&frame).and_then(|()| self.file.sync_data());
        self.frame = frame;
        written.map_err(StoreError::io(&self.path))
    }
    /// Empties the log once its events are durable elsewhere, keeping the next ordinal.
    pub(crate) fn clear(&mut self, next_ordinal: u64) -> Result<(), StoreError> {
        self.file.set_len(0).map_err(StoreError::io(&self.path))?;
        self.file.write_all(&header(next_ordinal)).map_err(StoreError::io(&self.path))?;
        self.file.sync_data().map_err(StoreError::io(&self.path))
    }
}

fn header(next_ordinal: u64) -> [u8; HEADER] {
    let mut h = [0u8; HEADER];
    h[..4].copy_from_slice(HEAD_MAGIC);
    h[8..].copy_from_slice(&next_ordinal.to_le_bytes());
    h
}

enum Frame {
    /// Length and events.
    Good(usize, Batch),
    Torn,
    Bad(&'static str),
}

fn frame(b: &[u8]) -> Frame {
    if b.len() < HEADER {
        return Frame::Torn;
    }
    if &b[..4] != MAGIC {
        return Frame::Bad("bad frame magic");
    }
    let len = u32::from_le_bytes(b[4..8].try_into().expect("4")) as usize;
    let checksum = u64::from_le_bytes(b[8..16].try_into().expect("8"));
    let Some(payload) = b.get(HEADER..HEADER + len) else { return Frame::Torn };
    if hash64(2, payload) != checksum {
        // whole but wrong: damage (or a crash that left zeros), never silently cut off
        return Frame::Bad("frame checksum mismatch");
    }
    match batch(payload) {
        Some(batch) => Frame::Good(HEADER + len, batch),
        None => Frame::Bad("frame does not decode"),
    }
}

fn batch(payload: &[u8]) -> Option<Batch> {
    let mut r = Reader::new(payload);
    let (count, first, rawlen, zlen) = (r.varint()? as usize, r.varint()?, r.varint()? as usize, r.varint()? as usize);
    let fields = zstd::bulk::decompress(r.take(zlen)?, rawlen).ok()?;
    let mut f = Reader::new(&fields);
    let mut out = Batch {
        ordinals: Vec::with_capacity(count),
        fingerprints: Vec::with_capacity(count),
        fields: Vec::with_capacity(count),
        lines: vec![Vec::new(); count],
    };
    for i in 0..count {
        let start = f.position();
        StoredEvent::decode(&mut f)?;
        out.fields.push(fields[start..f.position()].to_vec());
        out.fingerprints.push(f.u64_le()?);
        out.ordinals.push(first + i as u64);
    }
    let mut seen = vec![false; count];
    for _ in 0..r.varint()? {
        let rows: Vec<usize> = (0..r.varint()?).map(|_| r.varint().map(|v| v as usize)).collect::<Option<_>>()?;
        let (rawlen, zlen) = (r.varint()? as usize, r.varint()? as usize);
        let lines = zstd::bulk::decompress(r.take(zlen)?, rawlen).ok()?;
        let mut l = Reader::new(&lines);
        for row in rows {
            if std::mem::replace(seen.get_mut(row)?, true) {
                return None;
            }
            out.lines[row] = l.bytes()?.to_vec();
        }
    }
    seen.iter().all(|&s| s).then_some(out)
}
