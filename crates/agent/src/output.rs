//! The output: JSON lines to a file (appended, synced before a checkpoint) or to standard output.
//!
//! It also reads back the tail of its file after a restart: the events written after the last
//! checkpoint (so they are not written again) and a torn last line left by a crash (cut off, so
//! the file stays one JSON object per line).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::resume::EventKey;

/// Bytes collected before they are written.
const WRITE_AT: usize = 256 << 10;

/// The identity and length of the output file at a checkpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputMark {
    pub dev: u64,
    pub inode: u64,
    pub len: u64,
}

enum Target {
    Stdout(io::Stdout),
    File { file: File, path: PathBuf, dev: u64, inode: u64, len: u64 },
}

/// Where events go.
pub struct Output {
    target: Target,
    buf: Vec<u8>,
}

impl Output {
    /// Opens `-` (standard output) or a file, created if needed, appended to.
    pub fn open(path: &Path) -> io::Result<Output> {
        let target = if path == Path::new("-") {
            Target::Stdout(io::stdout())
        } else {
            let file = OpenOptions::new().create(true).append(true).read(true).open(path)?;
            let meta = file.metadata()?;
            Target::File {
                file,
                path: path.to_path_buf(),
                dev: meta.dev(),
                inode: meta.ino(),
                len: meta.len(),
            }
        };
        Ok(Output {
            target,
            buf: Vec::with_capacity(WRITE_AT * 2),
        })
    }

    /// Returns the buffer to render into; [`Output::commit`] writes it when large enough.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Writes the buffer once it holds enough bytes.
    pub fn commit(&mut self) -> io::Result<()> {
        if self.buf.len() >= WRITE_AT {
            self.write_out()?;
        }
        Ok(())
    }

    fn write_out(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        match &mut self.target {
            Target::Stdout(out) => out.lock().write_all(&self.buf)?,
            Target::File { file, len, .. } => {
                file.write_all(&self.buf)?;
                *len += self.buf.len() as u64;
            }
        }
        self.buf.clear();
        Ok(())
    }

    /// Writes everything buffered; with `sync`, also to stable storage (files) — done before a
    /// checkpoint names the output's length.
    pub fn flush(&mut self, sync: bool) -> io::Result<()> {
        self.write_out()?;
        match &mut self.target {
            Target::Stdout(out) => out.flush(),
            Target::File { file, .. } if sync => file.sync_data(),
            Target::File { .. } => Ok(()),
        }
    }

    /// Returns the file's identity and length (everything written so far), or `None` for
    /// standard output.
    pub fn mark(&self) -> Option<OutputMark> {
        match &self.target {
            Target::Stdout(_) => None,
            Target::File { dev, inode, len, .. } => Some(OutputMark {
                dev: *dev,
                inode: *inode,
                len: *len,
            }),
        }
    }

    /// After a restart: reads what was written after `mark` (the output at the last
    /// checkpoint) and returns the keys of those events, so they are not written again. A torn
    /// last line is cut off (its event is written again, whole). Returns `None` when the file is
    /// not the one of the mark (replaced or truncated since): then nothing can be known.
    pub fn recover_since(&mut self, mark: OutputMark) -> io::Result<Option<Recovered>> {
        let Target::File { file, path, dev, inode, len } = &mut self.target else {
            return Ok(None);
        };
        if (*dev, *inode) != (mark.dev, mark.inode) || *len < mark.len {
            return Ok(None);
        }
        let mut tail = Vec::new();
        file.seek(SeekFrom::Start(mark.len))?;
        file.take(*len - mark.len).read_to_end(&mut tail)?;
        let complete = memchr::memrchr(b'\n', &tail).map_or(0, |i| i + 1);
        let torn = (tail.len() - complete) as u64;
        if torn > 0 {
            let keep = mark.len + complete as u64;
            file.set_len(keep)?;
            file.sync_data()?;
            *len = keep;
        }
        let mut keys = Vec::new();
        let mut unreadable = 0;
        for line in tail[..complete].split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match EventKey::from_json_line(line) {
                Some(key) => keys.push(key),
                None => unreadable += 1,
            }
        }
        Ok(Some(Recovered {
            path: path.clone(),
            keys,
            torn_bytes: torn,
            other_lines: unreadable,
        }))
    }
}

/// What [`Output::recover_since`] found.
#[derive(Debug)]
pub struct Recovered {
    pub path: PathBuf,
    /// Events written after the checkpoint.
    pub keys: Vec<EventKey>,
    /// Bytes of a torn last line that were cut off.
    pub torn_bytes: u64,
    /// Complete lines that are not events (diagnostics).
    pub other_lines: u64,
}
