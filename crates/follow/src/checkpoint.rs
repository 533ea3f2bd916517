//! The checkpoint: which file and which byte offset the caller has durably handled, stored in a
//! small text file that is replaced atomically (write a temporary file, fsync, rename, fsync the
//! directory), so a crash leaves either the old or the new checkpoint, never a torn one.
//!
//! A file is named by (device, inode) and by a hash of its first bytes: auditd deletes the oldest
//! rotated file and creates the new `audit.log` right after, so the new file often gets the inode
//! of the deleted one; the hash tells them apart.
//!
//! It is not the policy of when to checkpoint: the caller stores one only after it has handled
//! the lines up to it.

use crate::{Error, FileId};
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &str = "auditmesh-follow-checkpoint 1";

/// How many bytes at the start of a file `Checkpoint::head` covers (fewer when `offset` is less).
pub const HEAD_BYTES: u64 = 64;

/// A position in a file: the next byte to read after a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Checkpoint {
    pub dev: u64,
    pub inode: u64,
    pub offset: u64,
    /// The [`head_hash`] of the file's first `min(offset, HEAD_BYTES)` bytes.
    pub head: u64,
}

/// Returns the 64-bit FNV-1a hash of `bytes`: the `Checkpoint::head` of a file starting with them.
pub fn head_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Checkpoint {
    /// Returns the checkpoint at `offset` in `file`, whose first bytes hash to `head`.
    pub fn new(file: FileId, offset: u64, head: u64) -> Checkpoint {
        Checkpoint {
            dev: file.dev,
            inode: file.inode,
            offset,
            head,
        }
    }

    /// Returns the identity of the checkpointed file.
    pub fn file(&self) -> FileId {
        FileId {
            dev: self.dev,
            inode: self.inode,
        }
    }

    /// Returns the text form: a header line, then `dev`, `inode`, `offset` and `head` (hex) lines.
    pub fn to_text(&self) -> String {
        format!(
            "{MAGIC}\ndev {}\ninode {}\noffset {}\nhead {:016x}\n",
            self.dev, self.inode, self.offset, self.head
        )
    }

    /// Parses the text form; the error names what is wrong.
    pub fn from_text(text: &str) -> Result<Checkpoint, &'static str> {
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return Err("missing or unknown header");
        }
        let mut field = |name: &str, radix: u32| -> Result<u64, &'static str> {
            let line = lines.next().ok_or("too short")?;
            let value = line
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(' '))
                .ok_or("unexpected field")?;
            u64::from_str_radix(value, radix).map_err(|_| "not a number")
        };
        let checkpoint = Checkpoint {
            dev: field("dev", 10)?,
            inode: field("inode", 10)?,
            offset: field("offset", 10)?,
            head: field("head", 16)?,
        };
        if lines.next().is_some() {
            return Err("trailing data");
        }
        Ok(checkpoint)
    }

    /// Reads a checkpoint file; returns `None` when there is none (first start).
    pub fn load(path: &Path) -> Result<Option<Checkpoint>, Error> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                Checkpoint::from_text(&text)
                    .map(Some)
                    .map_err(|reason| Error::BadCheckpoint {
                        path: path.to_path_buf(),
                        reason,
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Err(Error::BadCheckpoint {
                path: path.to_path_buf(),
                reason: "not UTF-8",
            }),
            Err(source) => Err(Error::Io {
                op: "read checkpoint",
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Replaces the checkpoint file atomically and durably: when this returns, a crash or power
    /// loss leaves this checkpoint.
    pub fn store(&self, path: &Path) -> Result<(), Error> {
        let tmp = temporary_path(path);
        let mut file = std::fs::File::create(&tmp).map_err(Error::io("create", &tmp))?;
        file.write_all(self.to_text().as_bytes())
            .map_err(Error::io("write", &tmp))?;
        file.sync_all().map_err(Error::io("fsync", &tmp))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(Error::io("rename onto", path))?;
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(Error::io("fsync directory", dir))
    }
}

fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        let c = Checkpoint {
            dev: 2049,
            inode: 1_234_567,
            offset: u64::MAX,
            head: 0xaf63_dc4c_8601_ec8c,
        };
        assert_eq!(
            c.to_text(),
            "auditmesh-follow-checkpoint 1\ndev 2049\ninode 1234567\noffset 18446744073709551615\nhead af63dc4c8601ec8c\n"
        );
        assert_eq!(Checkpoint::from_text(&c.to_text()), Ok(c));
    }

    #[test]
    fn head_hash_is_fnv1a_64() {
        assert_eq!(head_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(head_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(head_hash(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn bad_text_names_the_problem() {
        let header = "auditmesh-follow-checkpoint 1\n";
        let bad = |rest: &str| Checkpoint::from_text(&format!("{header}{rest}"));
        assert_eq!(Checkpoint::from_text(""), Err("missing or unknown header"));
        assert_eq!(bad("dev 1\n"), Err("too short"));
        assert_eq!(
            bad("dev 1\nino 2\noffset 3\nhead 0\n"),
            Err("unexpected field")
        );
        assert_eq!(
            bad("dev 1\ninode x\noffset 3\nhead 0\n"),
            Err("not a number")
        );
        assert_eq!(
            bad("dev 1\ninode 2\noffset 3\nhead 0\nmore\n"),
            Err("trailing data")
        );
    }
}
