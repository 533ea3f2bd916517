//! The write-ahead log: each ingest call's new events as one frame, appended and `fdatasync`ed
//! before the call returns, replayed when the store opens, emptied once its events are sealed
//! into segments. It always holds the events' record lines.
//!
//! ```text
//! header: "AMWH" 0:u32 next_ordinal:u64          (written when the log is created or emptied)
//! frame:  "AMWL" payload_len:u32 checksum:u64 payload (zstd of: count, first_ordinal, rows…)
//! ```
//!
//! The header keeps the next ordinal across a log emptied after retention removed every
//! segment; the events of a frame have consecutive ordinals from `first_ordinal`.
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
}

/// What opening the log found.
pub(crate) struct Replay {
    /// With their ordinals.
    pub rows: Vec<StoredEvent>,
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
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(StoreError::io(path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(StoreError::io(path))?;
        let mut replay = Replay {
            rows: Vec::new(),
            next_ordinal: 0,
            torn_bytes: 0,
            corrupt: None,
        };
        let mut pos = 0usize;
        if bytes.len() >= HEADER && &bytes[..4] == HEAD_MAGIC {
            replay.next_ordinal = u64::from_le_bytes(bytes[8..16].try_into().expect("8"));
            pos = HEADER;
        } else if bytes.len() < HEADER && HEAD_MAGIC.starts_with(&bytes[..bytes.len().min(4)]) {
            // no header, or one cut short: write it afresh
            file.set_len(0).map_err(StoreError::io(path))?;
            file.write_all(&header(next_ordinal))
                .map_err(StoreError::io(path))?;
            file.sync_data().map_err(StoreError::io(path))?;
            bytes = header(next_ordinal).to_vec();
            pos = HEADER;
        }
        while pos < bytes.len() {
            match frame(&bytes[pos..]) {
                Frame::Good(len, first, rows) => {
                    replay.next_ordinal = replay.next_ordinal.max(first + rows.len() as u64);
                    replay
                        .rows
                        .extend(rows.into_iter().enumerate().map(|(i, mut r)| {
                            r.ordinal = first + i as u64;
                            r
                        }));
                    pos += len;
                }
                Frame::Torn => {
                    replay.torn_bytes = (bytes.len() - pos) as u64;
                    break;
                }
                Frame::Bad(what) => {
                    let aside = path.with_extension(format!("corrupt-{}", std::process::id()));
                    std::fs::rename(path, &aside).map_err(StoreError::io(&aside))?;
                    replay.corrupt = Some(StoreError::Corrupt {
                        path: path.to_path_buf(),
                        what: format!("{what} at byte {pos}; moved to {}", aside.display()),
                    });
                    // start a fresh log holding what was good
                    let mut fresh = OpenOptions::new()
                        .read(true)
                        .append(true)
                        .create(true)
                        .open(path)
                        .map_err(StoreError::io(path))?;
                    fresh
                        .write_all(&bytes[..pos])
                        .map_err(StoreError::io(path))?;
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
        Ok((
            Wal {
                path: path.to_path_buf(),
                file,
                zstd,
            },
            replay,
        ))
    }

    /// Appends rows (with consecutive ordinals) as one frame and waits until they are on disk.
    pub(crate) fn append(&mut self, rows: &[StoredEvent]) -> Result<(), StoreError> {
        let mut payload = Vec::with_capacity(rows.len() * 256);
        put_varint(&mut payload, rows.len() as u64);
        put_varint(&mut payload, rows.first().map_or(0, |r| r.ordinal));
        for r in rows {
            r.encode(&mut payload);
        }
        let z = self
            .zstd
            .compress(&payload)
            .map_err(StoreError::io(&self.path))?;
        let mut frame = Vec::with_capacity(HEADER + z.len());
        frame.extend_from_slice(MAGIC);
        frame.extend_from_slice(&(z.len() as u32).to_le_bytes());
        frame.extend_from_slice(&hash64(2, &z).to_le_bytes());
        frame.extend_from_slice(&z);
        self.file
            .write_all(&frame)
            .map_err(StoreError::io(&self.path))?;
        self.file.sync_data().map_err(StoreError::io(&self.path))
    }

    /// Empties the log once its events are durable elsewhere, keeping the next ordinal.
    pub(crate) fn clear(&mut self, next_ordinal: u64) -> Result<(), StoreError> {
        self.file.set_len(0).map_err(StoreError::io(&self.path))?;
        self.file
            .write_all(&header(next_ordinal))
            .map_err(StoreError::io(&self.path))?;
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
    /// Length, first ordinal, rows.
    Good(usize, u64, Vec<StoredEvent>),
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
    let Some(z) = b.get(HEADER..HEADER + len) else {
        return Frame::Torn;
    };
    if hash64(2, z) != checksum {
        // whole but wrong: damage (or a crash that left zeros), never silently cut off
        return Frame::Bad("frame checksum mismatch");
    }
    let Ok(payload) = zstd::stream::decode_all(z) else {
        return Frame::Bad("frame does not decompress");
    };
    let mut r = Reader::new(&payload);
    let (Some(n), Some(first)) = (r.varint(), r.varint()) else {
        return Frame::Bad("frame does not decode");
    };
    let mut rows = Vec::new();
    for _ in 0..n {
        match StoredEvent::decode(&mut r) {
            Some(row) => rows.push(row),
            None => return Frame::Bad("frame does not decode"),
        }
    }
    Frame::Good(HEADER + len, first, rows)
}
