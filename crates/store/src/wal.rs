//! The write-ahead log: each ingest call's new events as one frame, appended and `fdatasync`ed
//! before the call returns, replayed when the store opens, emptied once its events are sealed
//! into segments.
//!
//! ```text
//! frame: "AMWL" payload_len:u32 checksum:u64 payload (zstd of: count, rows…)
//! ```
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
const HEADER: usize = 16;

pub(crate) struct Wal {
    path: PathBuf,
    file: File,
    /// Reused: a fresh zstd context per frame costs more than the compression.
    zstd: zstd::bulk::Compressor<'static>,
}

/// What opening the log found.
pub(crate) struct Replay {
    pub rows: Vec<StoredEvent>,
    /// Bytes of an unfinished last frame that were cut off.
    pub torn_bytes: u64,
    /// A damaged frame followed by more data: the file was moved here.
    pub corrupt: Option<StoreError>,
}

impl Wal {
    pub(crate) fn open(path: &Path) -> Result<(Wal, Replay), StoreError> {
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path).map_err(StoreError::io(path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(StoreError::io(path))?;
        let mut replay = Replay { rows: Vec::new(), torn_bytes: 0, corrupt: None };
        let mut pos = 0usize;
        while pos < bytes.len() {
            match frame(&bytes[pos..]) {
                Frame::Good(len, rows) => {
                    replay.rows.extend(rows);
                    pos += len;
                }
                Frame::Torn => {
                    replay.torn_bytes = (bytes.len() - pos) as u64;
                    break;
                }
                Frame::Bad(what) => {
                    let aside = path.with_extension(format!("corrupt-{}", std::process::id()));
                    std::fs::rename(path, &aside).map_err(StoreError::io(&aside))?;
                    replay.corrupt = Some(StoreError::Corrupt { path: path.to_path_buf(), what: format!("{what} at byte {pos}; moved to {}", aside.display()) });
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
        Ok((Wal { path: path.to_path_buf(), file, zstd }, replay))
    }

    /// Appends rows as one frame and waits until they are on disk.
    pub(crate) fn append(&mut self, rows: &[StoredEvent]) -> Result<(), StoreError> {
        let mut payload = Vec::with_capacity(rows.len() * 256);
        put_varint(&mut payload, rows.len() as u64);
        for r in rows {
            r.encode(&mut payload);
        }
        let z = self.zstd.compress(&payload).map_err(StoreError::io(&self.path))?;
        let mut frame = Vec::with_capacity(HEADER + z.len());
        frame.extend_from_slice(MAGIC);
        frame.extend_from_slice(&(z.len() as u32).to_le_bytes());
        frame.extend_from_slice(&hash64(2, &z).to_le_bytes());
        frame.extend_from_slice(&z);
        self.file.write_all(&frame).map_err(StoreError::io(&self.path))?;
        self.file.sync_data().map_err(StoreError::io(&self.path))
    }

    /// Empties the log once its events are durable elsewhere.
    pub(crate) fn clear(&mut self) -> Result<(), StoreError> {
        self.file.set_len(0).map_err(StoreError::io(&self.path))?;
        self.file.sync_data().map_err(StoreError::io(&self.path))
    }
}

enum Frame {
    Good(usize, Vec<StoredEvent>),
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
    let Some(z) = b.get(HEADER..HEADER + len) else { return Frame::Torn };
    if hash64(2, z) != checksum {
        // whole but wrong: damage (or a crash that left zeros), never silently cut off
        return Frame::Bad("frame checksum mismatch");
    }
    let Ok(payload) = zstd::stream::decode_all(z) else { return Frame::Bad("frame does not decompress") };
    let mut r = Reader::new(&payload);
    let Some(n) = r.varint() else { return Frame::Bad("frame does not decode") };
    let mut rows = Vec::new();
    for _ in 0..n {
        match StoredEvent::decode(&mut r) {
            Some(row) => rows.push(row),
            None => return Frame::Bad("frame does not decode"),
        }
    }
    Frame::Good(HEADER + len, rows)
}
