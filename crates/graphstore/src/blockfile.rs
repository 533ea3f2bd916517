//! One table file: zstd-compressed blocks, each with its own checksum, and a footer that lists
//! them (offset, length, checksum, and for keyed tables the block's first key).
//!
//! ```text
//! [block 0][block 1]…[footer][footer length: u64 LE][footer checksum: u64 LE]["AMGRAPH1"]
//! footer: varint block count, then per block varint offset, length, raw length, checksum, key
//! ```
//!
//! Blocks are read with positioned reads (`pread`), so one reader serves many lookups without
//! seeking, and only the blocks a query needs are read and decompressed.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use graph::codec::{put_varint, Reader};

use crate::error::GraphStoreError;

const MAGIC: &[u8; 8] = b"AMGRAPH1";

/// A stable 64-bit checksum of stored bytes (detects damage; not cryptographic).
pub fn checksum(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("eight bytes"));
        h = (h ^ w.wrapping_mul(K)).rotate_left(29).wrapping_mul(K);
    }
    for &b in chunks.remainder() {
        h = (h ^ u64::from(b)).wrapping_mul(K).rotate_left(23);
    }
    h ^ (h >> 31)
}

struct BlockInfo {
    offset: u64,
    len: u64,
    raw_len: u64,
    checksum: u64,
    key: Vec<u8>,
}

/// Writes a table file block by block.
pub struct BlockWriter {
    path: PathBuf,
    out: BufWriter<File>,
    at: u64,
    blocks: Vec<BlockInfo>,
    zstd: zstd::bulk::Compressor<'static>,
}

impl BlockWriter {
    pub fn create(path: &Path, level: i32) -> Result<BlockWriter, GraphStoreError> {
        let file = File::create(path).map_err(GraphStoreError::io(path))?;
        Ok(BlockWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 20, file),
            at: 0,
            blocks: Vec::new(),
            zstd: zstd::bulk::Compressor::new(level).map_err(GraphStoreError::io(path))?,
        })
    }

    /// Compresses and appends one block; `key` is its first key in a keyed table.
    pub fn block(&mut self, raw: &[u8], key: &[u8]) -> Result<(), GraphStoreError> {
        let packed = self
            .zstd
            .compress(raw)
            .map_err(GraphStoreError::io(&self.path))?;
        self.out
            .write_all(&packed)
            .map_err(GraphStoreError::io(&self.path))?;
        self.blocks.push(BlockInfo {
            offset: self.at,
            len: packed.len() as u64,
            raw_len: raw.len() as u64,
            checksum: checksum(&packed),
            key: key.to_vec(),
        });
        self.at += packed.len() as u64;
        Ok(())
    }

    /// Writes the footer and syncs the file; returns its size.
    pub fn finish(mut self) -> Result<u64, GraphStoreError> {
        let mut footer = Vec::new();
        put_varint(&mut footer, self.blocks.len() as u64);
        for b in &self.blocks {
            for v in [b.offset, b.len, b.raw_len, b.checksum] {
                put_varint(&mut footer, v);
            }
            put_varint(&mut footer, b.key.len() as u64);
            footer.extend_from_slice(&b.key);
        }
        let sum = checksum(&footer);
        footer.extend_from_slice(&(footer.len() as u64).to_le_bytes());
        footer.extend_from_slice(&sum.to_le_bytes());
        footer.extend_from_slice(MAGIC);
        self.out
            .write_all(&footer)
            .map_err(GraphStoreError::io(&self.path))?;
        let file = self.out.into_inner().map_err(|e| GraphStoreError::Io {
            path: self.path.clone(),
            source: e.into_error(),
        })?;
        file.sync_data().map_err(GraphStoreError::io(&self.path))?;
        Ok(self.at + footer.len() as u64)
    }
}

/// Reads blocks of a table file on demand.
pub struct BlockReader {
    path: PathBuf,
    file: File,
    blocks: Vec<BlockInfo>,
    /// One decompression context for every block (a fresh one per block cost more than
    /// decompressing, in page faults).
    zstd: RefCell<zstd::bulk::Decompressor<'static>>,
    /// Compressed bytes of the block being read.
    packed: RefCell<Vec<u8>>,
}

impl BlockReader {
    /// Opens a table file and checks its footer (the blocks are checked when read).
    pub fn open(path: &Path) -> Result<BlockReader, GraphStoreError> {
        let file = File::open(path).map_err(GraphStoreError::io(path))?;
        let size = file.metadata().map_err(GraphStoreError::io(path))?.len();
        let bad = |what: &str| GraphStoreError::corrupt(path, what);
        if size < 24 {
            return Err(bad("shorter than a footer"));
        }
        let mut tail = [0u8; 24];
        file.read_exact_at(&mut tail, size - 24)
            .map_err(GraphStoreError::io(path))?;
        if &tail[16..] != MAGIC {
            return Err(bad("no footer mark at the end"));
        }
        let len = u64::from_le_bytes(tail[..8].try_into().expect("8 bytes"));
        let sum = u64::from_le_bytes(tail[8..16].try_into().expect("8 bytes"));
        if len > size - 24 {
            return Err(bad("footer longer than the file"));
        }
        let mut footer = vec![0u8; len as usize];
        file.read_exact_at(&mut footer, size - 24 - len)
            .map_err(GraphStoreError::io(path))?;
        if checksum(&footer) != sum {
            return Err(bad("footer checksum mismatch"));
        }
        let mut r = Reader::new(&footer);
        let n = r.varint().ok_or_else(|| bad("footer cut short"))?;
        let mut blocks = Vec::with_capacity(n.min(1 << 24) as usize);
        for _ in 0..n {
            let mut v = [0u64; 4];
            for x in &mut v {
                *x = r.varint().ok_or_else(|| bad("footer cut short"))?;
            }
            let key = r.bytes().ok_or_else(|| bad("footer cut short"))?.to_vec();
            if v[0]
                .checked_add(v[1])
                .is_none_or(|end| end > size - 24 - len)
            {
                return Err(bad("a block reaches past the footer"));
            }
            blocks.push(BlockInfo {
                offset: v[0],
                len: v[1],
                raw_len: v[2],
                checksum: v[3],
                key,
            });
        }
        let zstd =
            RefCell::new(zstd::bulk::Decompressor::new().map_err(GraphStoreError::io(path))?);
        Ok(BlockReader {
            path: path.to_path_buf(),
            file,
            blocks,
            zstd,
            packed: RefCell::new(Vec::new()),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    pub fn key(&self, i: usize) -> &[u8] {
        &self.blocks[i].key
    }

    /// Reads, checks and decompresses block `i`.
    pub fn read(&self, i: usize) -> Result<Vec<u8>, GraphStoreError> {
        let b = self
            .blocks
            .get(i)
            .ok_or_else(|| GraphStoreError::corrupt(&self.path, format!("no block {i}")))?;
        let mut packed = self.packed.borrow_mut();
        packed.resize(b.len as usize, 0);
        self.file
            .read_exact_at(&mut packed, b.offset)
            .map_err(GraphStoreError::io(&self.path))?;
        if checksum(&packed) != b.checksum {
            return Err(GraphStoreError::corrupt(
                &self.path,
                format!("block {i} checksum mismatch"),
            ));
        }
        let mut raw = Vec::with_capacity(b.raw_len as usize);
        let n = self
            .zstd
            .borrow_mut()
            .decompress_to_buffer(&packed[..], &mut raw)
            .map_err(|e| {
                GraphStoreError::corrupt(&self.path, format!("block {i} does not decompress: {e}"))
            })?;
        if n as u64 != b.raw_len {
            return Err(GraphStoreError::corrupt(
                &self.path,
                format!("block {i} decompresses to {n} bytes, not {}", b.raw_len),
            ));
        }
        Ok(raw)
    }
}
