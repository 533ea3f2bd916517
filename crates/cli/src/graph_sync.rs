//! Keeping the persisted provenance graph (`DIR/graph`, the `graphstore` crate) in step with
//! the event store of the same folder.
//!
//! A graph checkpoint records the store ordinal it covers. Whoever writes (`ingest`) holds
//! `DIR/graph/LOCK` and leaves a `DIRTY` mark while the store may be ahead of the checkpoint;
//! after a crash the mark stays, and the next `ingest`, `trace` or `tree` loads the checkpoint,
//! replays what the store accepted after it (`ColumnarStore::replay_since`), writes a new
//! checkpoint and lets the store release those events' record lines. Queries otherwise never
//! open the store: opening it reads every segment's directory and replays its log, more than a
//! small trace reads.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use graph::{Builder, Config};
use graphstore::{graph_dir, Checkpoint, GraphFile};
use store::ColumnarStore;

/// The graph folder's write lock, held for as long as the value lives.
pub struct WriteLock {
    _file: File,
    dirty: PathBuf,
}

impl WriteLock {
    /// Takes the lock, waiting for another writer (`None` from `try_take` when one holds it).
    pub fn take(data: &Path) -> anyhow::Result<WriteLock> {
        let (file, dirty) = lock_file(data)?;
        file.lock().context("cannot lock the graph folder")?;
        Ok(WriteLock { _file: file, dirty })
    }

    fn try_take(data: &Path) -> anyhow::Result<Option<WriteLock>> {
        let (file, dirty) = lock_file(data)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(WriteLock { _file: file, dirty })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(e).context("cannot lock the graph folder"),
        }
    }

    /// Marks the store as possibly ahead of the graph (before storing anything).
    pub fn mark_dirty(&self) -> anyhow::Result<()> {
        File::create(&self.dirty)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot write {}", self.dirty.display()))?;
        sync_dir(self.dirty.parent().expect("the graph folder"))
    }

    /// The graph covers everything stored: the mark goes.
    pub fn mark_clean(&self) -> anyhow::Result<()> {
        match fs::remove_file(&self.dirty) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", self.dirty.display()))
            }
            _ => sync_dir(self.dirty.parent().expect("the graph folder")),
        }
    }

    fn is_dirty(&self) -> bool {
        self.dirty.exists()
    }
}

fn lock_file(data: &Path) -> anyhow::Result<(File, PathBuf)> {
    let dir = graph_dir(data);
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join("LOCK");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    Ok((file, dir.join("DIRTY")))
}

fn sync_dir(dir: &Path) -> anyhow::Result<()> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("cannot sync {}", dir.display()))
}

/// A builder that covers the store up to `ordinal`.
pub struct Resumed {
    pub builder: Builder,
    pub ordinal: u64,
    /// Events replayed from the store to catch up.
    pub replayed: u64,
    /// There is no checkpoint, or one in an older format: write one even if nothing is new.
    pub rewrite: bool,
}

/// Loads the graph checkpoint of a store folder (an empty graph when there is none) and
/// replays the events the store accepted after it.
pub fn resume(data: &Path, store: &ColumnarStore) -> anyhow::Result<Resumed> {
    let dir = graph_dir(data);
    let rewrite = match GraphFile::open(&dir).context("cannot open the provenance graph")? {
        Some(file) => file.is_old_format(),
        None => true,
    };
    let (mut builder, ordinal) =
        match graphstore::load(&dir).context("cannot load the provenance graph")? {
            Some(loaded) => loaded,
            None => (Builder::new(Config::default()), 0),
        };
    let mut at = ordinal;
    let mut replayed = 0;
    if store.last_ordinal() > ordinal {
        store
            .replay_since(ordinal, &mut |o, event| {
                builder.event(&event);
                at = o;
                replayed += 1;
                true
            })
            .with_context(|| {
                format!("cannot replay the stored events after {ordinal} into the graph")
            })?;
    }
    Ok(Resumed {
        builder,
        ordinal: at,
        replayed,
        rewrite,
    })
}

/// Writes a checkpoint and lets the store release the record lines it covers.
pub fn checkpoint(data: &Path, b: &Builder, ordinal: u64) -> anyhow::Result<Checkpoint> {
    let dir = graph_dir(data);
    graphstore::write_checkpoint(&dir, b, ordinal)
        .with_context(|| format!("cannot write the provenance graph in {}", dir.display()))
}

/// Opens the persisted graph for queries, first catching it up with the store if an ingest
/// stopped before its last checkpoint, or rewriting a checkpoint of an older format (when no
/// ingest is running).
pub fn open_for_query(data: &Path) -> anyhow::Result<GraphFile> {
    if !data.is_dir() {
        return Err(anyhow!("no store folder {}", data.display()));
    }
    if let Some(lock) = WriteLock::try_take(data)? {
        let old = GraphFile::open(&graph_dir(data)).context("cannot open the provenance graph")?.is_some_and(|f| f.is_old_format());
        if old {
            eprintln!("auditmesh: the provenance graph was written in an older format: rewriting it");
        }
        if lock.is_dirty() || old {
            if lock.is_dirty() {
                eprintln!("auditmesh: the provenance graph is behind the store (an ingest stopped early): catching up");
            }
            let mut store = crate::store_open(data)?;
            let r = resume(data, &store)?;
            checkpoint(data, &r.builder, r.ordinal)?;
            store
                .release_lines(r.ordinal)
                .context("cannot release the stored lines the graph covers")?;
            lock.mark_clean()?;
        }
    } else {
        eprintln!("auditmesh: warning: an ingest is running: the answer covers the events of its last checkpoint");
    }
    let dir = graph_dir(data);
    GraphFile::open(&dir)
        .with_context(|| format!("cannot open the provenance graph in {}", dir.display()))?
        .ok_or_else(|| {
            anyhow!(
                "no provenance graph in {} yet: run `auditmesh ingest --data {}` first",
                data.display(),
                data.display()
            )
        })
}
