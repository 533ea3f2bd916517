//! The event store: every assembled event kept, immutable, time-partitioned and compressed,
//! queried through the typed [`EventStore`] trait (filters, counts, count-by, histograms,
//! retention).
//!
//! [`ColumnarStore`] is the embedded implementation chosen in ADR 0002: a write-ahead log
//! `fdatasync`ed before [`EventStore::ingest`] returns, and segment files (one column per field,
//! per-segment dictionaries, varints, zstd, a checksum per column) in one folder per day.
//! Re-ingesting an event already stored adds nothing.
//!
//! The replay contract, for consumers such as the provenance graph: every stored event gets an
//! ordinal, consecutive in ingest order over the store's life ([`IngestReport::accepted`] and
//! [`IngestReport::first_ordinal`] say which input events got which); the event's record lines
//! are kept beside its segment, so the whole event can be rebuilt ([`StoredEvent::event`]) and
//! [`ColumnarStore::replay_since`] hands back every event after an ordinal, in order. Once a
//! consumer holds what it needs, [`ColumnarStore::release_lines`] deletes the lines (unless
//! [`Config::keep_lines`]); the fields stay searchable. [`syntax`] parses the small text filter
//! language of the CLI.
//!
//! Does file IO (and nothing else: no threads, no clock — retention is told the time). Knows
//! nothing of output formats or of the graph.

mod checksum;
mod codec;
mod columnar;
mod error;
mod pending;
mod query;
mod row;
mod segment;
pub mod syntax;
mod wal;

pub use columnar::{ColumnarStore, Config, StoreStats};
pub use error::StoreError;
pub use query::{Cmp, Field, FieldKind, Filter, Group, GroupValue, IngestReport, Query, Retention, RetentionReport, Value};
pub use row::StoredEvent;

use assemble::Event;

/// What every event store answers. The embedded [`ColumnarStore`] implements it; a ClickHouse
/// backend will implement the same trait.
pub trait EventStore {
    /// Stores events; when it returns `Ok`, they survive a crash. Events already stored are
    /// counted as duplicates and not stored again.
    fn ingest(&mut self, events: &[Event]) -> Result<IngestReport, StoreError>;

    /// Makes everything ingested so far queryable at full speed (seals it into segments).
    fn flush(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Calls `visit` on each matching event in stored order until it returns false.
    fn search(&self, q: &Query, visit: &mut dyn FnMut(StoredEvent) -> bool) -> Result<(), StoreError>;

    /// Counts matching events.
    fn count(&self, q: &Query) -> Result<u64, StoreError>;

    /// Counts matching events by the values of `fields`, largest groups first (ties by value),
    /// the first `top` groups when given.
    fn count_by(&self, q: &Query, fields: &[Field], top: Option<usize>) -> Result<Vec<Group>, StoreError>;

    /// Counts matching events per time bucket of `bucket_ms`; `(bucket start, count)`, oldest
    /// first, empty buckets left out.
    fn histogram(&self, q: &Query, bucket_ms: u64) -> Result<Vec<(u64, u64)>, StoreError>;

    /// Removes what the policy says is too old or too much; returns what went.
    fn retain(&mut self, policy: &Retention) -> Result<RetentionReport, StoreError>;
}
