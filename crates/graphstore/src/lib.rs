//! The provenance graph on disk, beside the event store: checkpoints of a [`graph::Builder`]
//! written as block-compressed tables, and [`GraphFile`], which answers traces, paths and
//! trees ([`graph::GraphRead`]) by reading only the blocks a query touches.
//!
//! ```text
//! DIR/graph/CURRENT              the name of the checkpoint in use (replaced atomically)
//! DIR/graph/gen-0000000007/      one checkpoint:
//!   meta       ordinal covered, counts, hosts, known loss, reduction totals
//!   entities   entity versions, 1,024 per block          (by EntityId)
//!   edges      edges, 1,024 per block                    (by EdgeId)
//!   eventzones per edge block and host, the range of serials its edges' events have
//!   adjacency  next version, distinct neighbours, in- and out-edges (CSR), 1,024 entities per block
//!   biglists   the edge lists of entities with over 4,096 edges, one block each
//!   strings    interned strings, 1,024 per block         (by Sym)
//!   names      (host, path) → symbol and name bindings   (sorted keys)
//!   pids       (host, pid) → process versions            (sorted keys)
//!   sockets    port → socket entities                    (sorted keys)
//!   state      the builder's tables (fd tables, live processes, files, …) to go on ingesting
//! ```
//!
//! Every table is a [`blockfile`]: zstd blocks with a checksum each and a checked footer, read
//! with positioned reads through a small cache of decoded blocks. A checkpoint is written
//! under a temporary name, synced, renamed, and only then named in `CURRENT`: a crash leaves
//! the previous checkpoint in use. The checkpoint records the event store ordinal it covers;
//! the caller replays what the store holds beyond it.
//!
//! Does file IO and nothing else: no threads, no clock. Knows nothing of the event store or of
//! output formats; the graph's byte encoding is `graph::codec`'s.

pub mod blockfile;
mod error;
mod event_zones;
mod read;
mod write;

pub use error::GraphStoreError;
pub use read::{checkpoint_bytes, load, GraphFile};
pub use write::{write_checkpoint, write_checkpoint_with, Checkpoint, WriteOptions};

/// The checkpoint format written. 2 added distinct-neighbour counts to the adjacency table, 3
/// moved long edge lists into `biglists`, 4 added `eventzones`; older formats are still loaded whole (`load` does not
/// read adjacency) so that an ingest rewrites them, but not queried.
pub(crate) const FORMAT: u64 = 4;

/// Items per block of the tables addressed by id.
pub(crate) const BLOCK_ITEMS: u32 = 1024;

/// Raw bytes per block of the keyed tables, about.
pub(crate) const KEYED_BLOCK_BYTES: usize = 16 << 10;

/// The folder of the graph in an event store folder.
pub fn graph_dir(data: &std::path::Path) -> std::path::PathBuf {
    data.join("graph")
}
