//! The embedded store: a write-ahead log for what is not sealed yet, and segment files in one
//! folder per day.
//!
//! ```text
//! DIR/wal                                  events acknowledged but not sealed, with their lines
//! DIR/segments/2026-11-21/0000000007.seg   one segment (≤ `Config::segment_rows` events of one day)
//! DIR/segments/2026-11-21/0000000007.lines its events' record lines, until released
//! ```
//!
//! One writer at a time (the caller's business). Queries read sealed segments, then the events
//! not sealed yet, each in the order they were ingested. Every stored event has an ordinal:
//! consecutive in ingest order over the store's life, so that a consumer (the provenance graph)
//! can remember how far it got and [`ColumnarStore::replay_since`] there.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use assemble::Event;

use crate::checksum::{FastMap, FastSet};
use crate::codec::{put_bytes, unzigzag, zigzag};
use crate::error::StoreError;
use crate::pending::{LinesBlock, Pending};
use crate::query::{Cmp, Field, FieldKind, Filter, Group, GroupValue, IngestReport, Query, Retention, RetentionReport, Value};
use crate::row::{encode_event, StoredEvent};
use crate::segment::{self, col, Col, Columns, SegmentMeta};
use crate::wal::{Batch, BlockRef, Wal};
use crate::EventStore;

/// How the store writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Events per segment at most; also how many unsealed events trigger a seal.
    pub segment_rows: usize,
    /// zstd level of segment columns.
    pub level: i32,
    /// zstd level of the record lines (compressed once, as the write-ahead log writes them).
    pub lines_level: i32,
    /// Keep every event's record lines for good: [`ColumnarStore::release_lines`] does nothing.
    pub keep_lines: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config { segment_rows: 65_536, level: 3, lines_level: 1, keep_lines: false }
    }
}

/// Sizes, for reports and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub segments: u64,
    pub sealed_events: u64,
    pub unsealed_events: u64,
    /// Segment files, lines files left out.
    pub segment_bytes: u64,
    /// Lines files not released.
    pub lines_bytes: u64,
}

/// The embedded columnar event store.
pub struct ColumnarStore {
    dir: PathBuf,
    config: Config,
    wal: Wal,
    /// The unsealed events: one builder per future segment, in the order they were started.
    pending: Vec<Pending>,
    /// Day → the builder of `pending` that takes that day's events.
    open_by_day: FastMap<u64, usize>,
    /// Reused from batch to batch.
    scratch: Fresh,
    segments: Vec<SegmentMeta>,
    next_seq: u64,
    /// The ordinal the next stored event gets.
    next_ordinal: u64,
    problems: Vec<StoreError>,
    /// Segments (by seq) a query found damaged, left out from then on.
    damaged: Mutex<Vec<u64>>,
    /// What queries found damaged (each names its file).
    late_problems: Mutex<Vec<StoreError>>,
    /// Fingerprints of the unsealed events and of the segments loaded for dedup.
    seen: FastSet<u64>,
    /// Per segment (by seq): its fingerprints are in `seen`.
    loaded: FastSet<u64>,
    zstd: zstd::bulk::Compressor<'static>,
    lines_zstd: zstd::bulk::Compressor<'static>,
    /// Reused: compression output, a lines block before compression.
    zscratch: Vec<u8>,
    lines_scratch: Vec<u8>,
}

/// The new events of a batch, encoded: field encodings (each followed by its fingerprint, as
/// the write-ahead log takes them) and record lines.
#[derive(Default)]
struct Fresh {
    fields: Vec<u8>,
    lines: Vec<u8>,
    rows: Vec<FreshRow>,
}

struct FreshRow {
    fields: std::ops::Range<usize>,
    lines: std::ops::Range<usize>,
    fingerprint: u64,
    ordinal: u64,
    day: u64,
}

impl Fresh {
    fn clear(&mut self) {
        self.fields.clear();
        self.lines.clear();
        self.rows.clear();
    }
}

const DAY_MS: u64 = 86_400_000;

impl ColumnarStore {
    /// Opens (or creates) a store. Damaged segment files are set aside and listed in
    /// [`ColumnarStore::problems`], with the rest readable; events of the write-ahead log are
    /// replayed.
    pub fn open(dir: &Path, config: Config) -> Result<ColumnarStore, StoreError> {
        let seg_dir = dir.join("segments");
        fs::create_dir_all(&seg_dir).map_err(StoreError::io(&seg_dir))?;
        sync_dir(dir)?;
        let mut problems = Vec::new();
        let mut segments = Vec::new();
        let mut days: Vec<PathBuf> = read_dir(&seg_dir)?.into_iter().filter(|p| p.is_dir()).collect();
        days.sort();
        for day in days {
            for path in read_dir(&day)? {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
                if name.ends_with(".tmp") || (name.ends_with(".lines") && !path.with_extension("seg").exists()) {
                    // a seal that never finished: its events are still in the log
                    fs::remove_file(&path).map_err(StoreError::io(&path))?;
                    continue;
                }
                if name.ends_with(".lines") {
                    continue;
                }
                let Some(seq) = name.strip_suffix(".seg").and_then(|s| s.parse::<u64>().ok()) else {
                    problems.push(StoreError::Corrupt { path, what: "not a segment file name".into() });
                    continue;
                };
                match segment::open(&path, seq) {
                    Ok((meta, lines_problem)) => {
                        segments.push(meta);
                        problems.extend(lines_problem);
                    }
                    Err(e) => problems.push(e),
                }
            }
        }
        segments.sort_by_key(|s| s.seq);
        let next_seq = segments.last().map_or(0, |s| s.seq + 1);
        let sealed_next = segments.iter().map(|s| s.max_ordinal + 1).max().unwrap_or(1);
        let (wal, replay) = Wal::open(&dir.join("wal"), sealed_next)?;
        problems.extend(replay.corrupt);
        let next_ordinal = sealed_next.max(replay.next_ordinal);
        let mut store = ColumnarStore {
            dir: dir.to_path_buf(),
            config,
            wal,
            pending: Vec::new(),
            open_by_day: FastMap::default(),
            scratch: Fresh::default(),
            segments,
            next_seq,
            next_ordinal,
            problems,
            damaged: Mutex::new(Vec::new()),
            late_problems: Mutex::new(Vec::new()),
            seen: FastSet::default(),
            loaded: FastSet::default(),
            zstd: zstd::bulk::Compressor::new(config.level).map_err(StoreError::io(dir))?,
            lines_zstd: zstd::bulk::Compressor::new(config.lines_level).map_err(StoreError::io(dir))?,
            zscratch: Vec::new(),
            lines_scratch: Vec::new(),
        };
        // events sealed just before a crash are in a segment and still in the log
        for batch in replay.batches {
            store.replay_batch(batch)?;
        }
        Ok(store)
    }

    /// Damaged files found when the store was opened (each names its file). Opening checks
    /// each file's directory; a column's checksum is checked when the column is read: see
    /// [`ColumnarStore::damaged_since_open`] and [`ColumnarStore::verify`].
    pub fn problems(&self) -> &[StoreError] {
        &self.problems
    }

    /// Damaged columns queries have found since the store was opened (each names its file):
    /// their segments are left out of answers from then on.
    pub fn damaged_since_open(&self) -> Vec<String> {
        self.late_problems.lock().expect("not poisoned").iter().map(|e| e.to_string()).collect()
    }

    /// Reads every column of every segment and lines file and checks its checksum; returns the
    /// damaged files (each names its file). The segments found damaged are left out of answers
    /// from then on.
    pub fn verify(&self) -> Vec<StoreError> {
        let mut found = Vec::new();
        for meta in &self.segments {
            if let Err(e) = segment::verify(meta) {
                if !matches!(e, StoreError::Corrupt { ref path, .. } if path != &meta.path) {
                    self.damaged.lock().expect("not poisoned").push(meta.seq);
                }
                found.push(e);
            }
        }
        found
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn stats(&self) -> StoreStats {
        StoreStats {
            segments: self.segments.len() as u64,
            sealed_events: self.segments.iter().map(|s| s.rows as u64).sum(),
            unsealed_events: self.pending.iter().map(|p| p.rows as u64).sum(),
            segment_bytes: self.segments.iter().map(|s| s.bytes).sum(),
            lines_bytes: self.segments.iter().filter_map(|s| s.lines.as_ref()).map(|l| l.bytes).sum(),
        }
    }

    /// The ordinal of the last stored event; 0 when none ever was.
    pub fn last_ordinal(&self) -> u64 {
        self.next_ordinal - 1
    }

    /// Encodes, deduplicates, logs and adds a batch of events.
    fn ingest_events(&mut self, events: &[Event]) -> Result<IngestReport, StoreError> {
        let mut report = IngestReport { received: events.len() as u64, first_ordinal: self.next_ordinal, ..IngestReport::default() };
        let (Some(lo), Some(hi)) = (events.iter().map(|e| e.id.time.millis).min(), events.iter().map(|e| e.id.time.millis).max()) else {
            return Ok(report);
        };
        // a batch that would overflow what is unsealed seals it first: segments stay near
        // segment_rows instead of a full one and a sliver
        let unsealed = self.unsealed();
        if unsealed > 0 && unsealed + events.len() > self.config.segment_rows {
            self.seal()?;
        }
        self.load_fingerprints(lo, hi)?;
        let mut fresh = std::mem::take(&mut self.scratch);
        fresh.clear();
        let mut batch_fps: FastSet<u64> = FastSet::with_capacity_and_hasher(events.len(), Default::default());
        for (i, e) in events.iter().enumerate() {
            let (f0, l0) = (fresh.fields.len(), fresh.lines.len());
            let fp = encode_event(e, &mut fresh.fields, &mut fresh.lines);
            if self.seen.contains(&fp) || !batch_fps.insert(fp) {
                fresh.fields.truncate(f0);
                fresh.lines.truncate(l0);
                report.duplicates += 1;
                continue;
            }
            let f1 = fresh.fields.len();
            fresh.fields.extend_from_slice(&fp.to_le_bytes());
            let ordinal = self.next_ordinal + fresh.rows.len() as u64;
            fresh.rows.push(FreshRow { fields: f0..f1, lines: l0..fresh.lines.len(), fingerprint: fp, ordinal, day: e.id.time.millis / DAY_MS });
            report.accepted.push(i as u32);
        }
        report.stored = fresh.rows.len() as u64;
        let added = self.add(&fresh, true);
        self.scratch = fresh;
        added?;
        self.seen.extend(batch_fps);
        self.next_ordinal += report.stored;
        if self.unsealed() >= self.config.segment_rows {
            self.seal()?;
        }
        Ok(report)
    }

    /// Adds a frame of the write-ahead log read back on open, leaving out the events a
    /// segment already holds.
    fn replay_batch(&mut self, batch: Batch) -> Result<(), StoreError> {
        let mut fresh = Fresh::default();
        let ms: Vec<u64> = batch.fields.iter().map(|f| crate::codec::Reader::new(f).varint().unwrap_or(0)).collect();
        if let (Some(&lo), Some(&hi)) = (ms.iter().min(), ms.iter().max()) {
            self.load_fingerprints(lo, hi)?;
        }
        for (k, fields) in batch.fields.iter().enumerate() {
            let fp = batch.fingerprints[k];
            if !self.seen.insert(fp) {
                continue;
            }
            let (f0, l0) = (fresh.fields.len(), fresh.lines.len());
            fresh.fields.extend_from_slice(fields);
            put_bytes(&mut fresh.lines, &batch.lines[k]);
            fresh.rows.push(FreshRow {
                fields: f0..fresh.fields.len(),
                lines: l0..fresh.lines.len(),
                fingerprint: fp,
                ordinal: batch.ordinals[k],
                day: ms[k] / DAY_MS,
            });
        }
        self.add(&fresh, false)
    }

    fn unsealed(&self) -> usize {
        self.pending.iter().map(|p| p.rows).sum()
    }

    /// Adds new events to the builders, their lines compressed in blocks; when `log`, writes
    /// them to the write-ahead log first (and adds nothing if that fails).
    fn add(&mut self, fresh: &Fresh, log: bool) -> Result<(), StoreError> {
        if fresh.rows.is_empty() {
            return Ok(());
        }
        // which builder takes each event: its day's, a new one once that holds segment_rows
        let mut planned: FastMap<usize, usize> = FastMap::default();
        let mut runs: Vec<(usize, Vec<u32>)> = Vec::new();
        for (i, row) in fresh.rows.iter().enumerate() {
            let b = match self.open_by_day.get(&row.day) {
                Some(&b) if self.pending[b].rows + planned.get(&b).copied().unwrap_or(0) < self.config.segment_rows => b,
                _ => {
                    self.pending.push(Pending::new(row.day));
                    self.open_by_day.insert(row.day, self.pending.len() - 1);
                    self.pending.len() - 1
                }
            };
            *planned.entry(b).or_default() += 1;
            match runs.iter_mut().find(|(x, _)| *x == b) {
                Some((_, rows)) => rows.push(i as u32),
                None => runs.push((b, vec![i as u32])),
            }
        }
        let mut blocks: Vec<(usize, &[u32], LinesBlock)> = Vec::new();
        let mut raw = std::mem::take(&mut self.lines_scratch);
        for (b, rows) in &runs {
            for chunk in rows.chunks(segment::RAW_BLOCK) {
                // the rows' lines are length-prefixed already: consecutive rows (one day's
                // batch, the usual case) are compressed where they lie
                let (first, last) = (&fresh.rows[chunk[0] as usize], &fresh.rows[chunk[chunk.len() - 1] as usize]);
                let src = if last.lines.end - first.lines.start == chunk.iter().map(|&i| fresh.rows[i as usize].lines.len()).sum::<usize>()
                    && chunk.windows(2).all(|w| w[1] == w[0] + 1)
                {
                    &fresh.lines[first.lines.start..last.lines.end]
                } else {
                    raw.clear();
                    for &i in chunk {
                        raw.extend_from_slice(&fresh.lines[fresh.rows[i as usize].lines.clone()]);
                    }
                    &raw[..]
                };
                let z = crate::codec::compress(&mut self.lines_zstd, &mut self.zscratch, src).map_err(StoreError::io(&self.dir))?;
                blocks.push((*b, chunk, LinesBlock { rows: chunk.len() as u32, rawlen: src.len() as u64, z }));
            }
        }
        self.lines_scratch = raw;
        if log {
            let refs: Vec<BlockRef<'_>> = blocks.iter().map(|(_, rows, b)| BlockRef { rows, rawlen: b.rawlen, z: &b.z }).collect();
            self.wal.append(fresh.rows.len(), fresh.rows[0].ordinal, &fresh.fields, &refs)?;
        }
        for (b, rows) in &runs {
            for &i in rows {
                let row = &fresh.rows[i as usize];
                self.pending[*b]
                    .push(&fresh.fields[row.fields.clone()], row.ordinal, row.fingerprint)
                    .ok_or_else(|| StoreError::Corrupt { path: self.dir.join("wal"), what: format!("event #{} does not decode", row.ordinal) })?;
            }
        }
        for (b, _, block) in blocks {
            self.pending[b].blocks.push(block);
        }
        Ok(())
    }

    /// Deletes the lines files of the segments whose events all have an ordinal of at most
    /// `through` (a consumer such as the provenance graph has them); does nothing when
    /// [`Config::keep_lines`] is set. Returns how many events' lines went. The events stay
    /// searchable by their fields; [`StoredEvent::event`] and [`ColumnarStore::replay_since`]
    /// answer [`StoreError::LinesReleased`] for them.
    pub fn release_lines(&mut self, through: u64) -> Result<u64, StoreError> {
        if self.config.keep_lines {
            return Ok(0);
        }
        let mut released = 0;
        let mut dirs: Vec<PathBuf> = Vec::new();
        for s in &mut self.segments {
            if s.max_ordinal > through {
                continue;
            }
            let Some(lines) = s.lines.take() else {
                continue;
            };
            fs::remove_file(&lines.path).map_err(StoreError::io(&lines.path))?;
            released += s.rows as u64;
            let dir = lines.path.parent().expect("a day folder").to_path_buf();
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
        for dir in &dirs {
            sync_dir(dir)?;
        }
        Ok(released)
    }

    /// Calls `visit` with every stored event whose ordinal is larger than `since`, in ordinal
    /// order, rebuilt from its record lines, until it returns false; returns how many it
    /// visited. Fails before visiting an event whose lines were released
    /// ([`StoreError::LinesReleased`]) or that is no longer stored ([`StoreError::EventGone`]):
    /// the events before it have been visited.
    pub fn replay_since(&self, since: u64, visit: &mut dyn FnMut(u64, Event) -> bool) -> Result<u64, StoreError> {
        let mut next = since + 1;
        let mut visited = 0;
        // sources in ordinal order; one seal (and the unsealed events) spans a contiguous range
        // of ordinals over one builder per day, so sources whose ranges overlap are merged
        let mut order: Vec<(u64, u64, Columns<'_>)> = Vec::new();
        for meta in self.segments.iter().filter(|s| s.max_ordinal > since) {
            order.push((meta.min_ordinal, meta.max_ordinal, Columns::of_segment(meta)?));
        }
        for p in self.pending.iter().filter(|p| p.rows > 0 && p.max_ordinal > since) {
            order.push((p.min_ordinal, p.max_ordinal, Columns::of_pending(p)));
        }
        order.sort_by_key(|o| (o.0, o.1));
        let mut i = 0;
        while i < order.len() {
            let mut j = i + 1;
            let mut hi = order[i].1;
            while j < order.len() && order[j].0 <= hi {
                hi = hi.max(order[j].1);
                j += 1;
            }
            let mut rows: Vec<StoredEvent> = Vec::new();
            for (_, _, cols) in &mut order[i..j] {
                let ordinals = cols.ordinals()?;
                let at: Vec<usize> = (0..cols.rows).filter(|&r| ordinals[r] > since).collect();
                rows.extend(cols.rows_at(&at)?);
            }
            rows.sort_by_key(|r| r.ordinal);
            for row in &rows {
                if !replay_one(row, &mut next, visit)? {
                    return Ok(visited + 1);
                }
                visited += 1;
            }
            i = j;
        }
        if next < self.next_ordinal {
            return Err(StoreError::EventGone { ordinal: next });
        }
        Ok(visited)
    }

    /// Loads the fingerprints of the segments whose time range overlaps `lo..=hi`.
    fn load_fingerprints(&mut self, lo: u64, hi: u64) -> Result<(), StoreError> {
        for meta in &self.segments {
            if meta.max_ms >= lo && meta.min_ms <= hi && !self.loaded.contains(&meta.seq) {
                let fps = Columns::of_segment(meta)?.fingerprints()?;
                self.seen.extend(fps);
                self.loaded.insert(meta.seq);
            }
        }
        Ok(())
    }

    /// Writes the unsealed events into segments (one or more per day), then empties the log.
    pub fn seal(&mut self) -> Result<(), StoreError> {
        if self.unsealed() == 0 {
            return Ok(());
        }
        let mut written = Vec::new();
        for p in self.pending.iter().filter(|p| p.rows > 0) {
            let day_dir = self.dir.join("segments").join(day_name(p.day));
            if !day_dir.exists() {
                fs::create_dir_all(&day_dir).map_err(StoreError::io(&day_dir))?;
                sync_dir(&self.dir.join("segments"))?;
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            let path = day_dir.join(format!("{seq:010}.seg"));
            written.push(segment::write(&path, seq, p, &mut self.zstd, &mut self.zscratch)?);
        }
        let mut dirs: Vec<&Path> = written.iter().filter_map(|m| m.path.parent()).collect();
        dirs.dedup();
        for d in dirs {
            sync_dir(d)?;
        }
        self.wal.clear(self.next_ordinal)?;
        // the sealed fingerprints leave memory; dedup reloads a segment when a batch overlaps it
        for p in std::mem::take(&mut self.pending) {
            for fp in &p.fingerprints {
                self.seen.remove(fp);
            }
        }
        self.open_by_day.clear();
        self.segments.extend(written);
        Ok(())
    }

    /// Runs `visit` on each segment (then the unsealed events) that may hold matches, with the
    /// indices of the matching rows.
    fn scan(&self, q: &Query, visit: &mut Visit<'_>) -> Result<(), StoreError> {
        q.filter.validate().map_err(StoreError::Query)?;
        let mut fields = Vec::new();
        q.filter.fields(&mut fields);
        let timed = q.since_ms.is_some() || q.until_ms.is_some();
        let mut sources: Vec<Columns<'_>> = Vec::new();
        let mut run = |cols: &mut Columns<'_>| -> Result<bool, StoreError> {
            let pred = compile(&q.filter, cols)?;
            if matches!(pred, Pred::False) {
                return Ok(true);
            }
            for &f in &fields {
                cols.load_for_filter(f)?;
            }
            let (lo, hi) = cols.time_range();
            if timed && !(q.in_time(lo) && q.in_time(hi)) {
                cols.load_ms()?;
            }
            let (lo, hi) = cols.time_range();
            let all_in_time = q.in_time(lo) && q.in_time(hi);
            let hits: Vec<usize> = match (&pred, timed && !all_in_time) {
                (Pred::True, false) => (0..cols.rows).collect(),
                (Pred::True, true) => {
                    let ms = cols.ms.as_ref().expect("loaded");
                    (0..cols.rows).filter(|&i| q.in_time(ms[i])).collect()
                }
                (_, false) => mask(&pred, cols).iter().enumerate().filter(|(_, &m)| m).map(|(i, _)| i).collect(),
                (_, true) => {
                    let ms = cols.ms.as_ref().expect("loaded");
                    mask(&pred, cols).iter().enumerate().filter(|&(i, &m)| m && q.in_time(ms[i])).map(|(i, _)| i).collect()
                }
            };
            if hits.is_empty() {
                return Ok(true);
            }
            visit(cols, &hits)
        };
        for meta in &self.segments {
            if !q.overlaps(meta.min_ms, meta.max_ms) || self.damaged.lock().expect("not poisoned").contains(&meta.seq) {
                continue;
            }
            let mut cols = Columns::of_segment(meta)?;
            match run(&mut cols) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                // a column that fails its checksum: the segment is left out from now on, and named
                Err(e @ StoreError::Corrupt { .. }) => {
                    self.damaged.lock().expect("not poisoned").push(meta.seq);
                    self.late_problems.lock().expect("not poisoned").push(e);
                }
                Err(e) => return Err(e),
            }
        }
        sources.extend(self.pending.iter().filter(|p| p.rows > 0).map(Columns::of_pending));
        for cols in &mut sources {
            if !run(cols)? {
                return Ok(());
            }
        }
        Ok(())
    }
}

impl EventStore for ColumnarStore {
    fn ingest(&mut self, events: &[Event]) -> Result<IngestReport, StoreError> {
        self.ingest_events(events)
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.seal()
    }

    fn search(&self, q: &Query, visit: &mut dyn FnMut(StoredEvent) -> bool) -> Result<(), StoreError> {
        self.scan(q, &mut |cols, hits| {
            for row in cols.rows_at(hits)? {
                if !visit(row) {
                    return Ok(false);
                }
            }
            Ok(true)
        })
    }

    fn count(&self, q: &Query) -> Result<u64, StoreError> {
        let mut n = 0;
        self.scan(q, &mut |_, hits| {
            n += hits.len() as u64;
            Ok(true)
        })?;
        Ok(n)
    }

    fn count_by(&self, q: &Query, fields: &[Field], top: Option<usize>) -> Result<Vec<Group>, StoreError> {
        let mut groups: HashMap<Vec<GroupValue>, u64> = HashMap::new();
        self.scan(q, &mut |cols, hits| {
            for &f in fields {
                cols.load(f)?;
                cols.load_dict(f)?;
            }
            // count by the columns' codes (dictionary ids, number codes), then name each
            // distinct code tuple once per segment
            let mut local: FastMap<Vec<u64>, u64> = FastMap::default();
            let mut key: Vec<u64> = Vec::with_capacity(fields.len());
            let lists = fields.iter().any(|f| matches!(col(*f), Col::List(_)));
            let mut keys: Vec<Vec<u64>> = Vec::new();
            let resolved: Vec<Resolved<'_>> = fields.iter().map(|&f| resolve(cols, f)).collect();
            for &i in hits {
                if !lists {
                    key.clear();
                    key.extend(resolved.iter().map(|r| r.code(i)));
                    match local.get_mut(key.as_slice()) {
                        Some(n) => *n += 1,
                        None => {
                            local.insert(key.clone(), 1);
                        }
                    }
                    continue;
                }
                // a list field counts the event once under each of its values
                keys.clear();
                keys.push(Vec::with_capacity(fields.len()));
                for r in &resolved {
                    let codes = r.codes(i);
                    let mut next = Vec::with_capacity(keys.len() * codes.len());
                    for k in &keys {
                        for &c in &codes {
                            let mut k = k.clone();
                            k.push(c);
                            next.push(k);
                        }
                    }
                    keys = next;
                }
                for k in keys.drain(..) {
                    *local.entry(k).or_default() += 1;
                }
            }
            for (codes, n) in local {
                let values = fields.iter().zip(codes).map(|(&f, c)| code_value(cols, f, c)).collect();
                *groups.entry(values).or_default() += n;
            }
            Ok(true)
        })?;
        let mut out: Vec<Group> = groups.into_iter().map(|(values, count)| Group { values, count }).collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.values.cmp(&b.values)));
        if let Some(n) = top {
            out.truncate(n);
        }
        Ok(out)
    }

    fn histogram(&self, q: &Query, bucket_ms: u64) -> Result<Vec<(u64, u64)>, StoreError> {
        if bucket_ms == 0 {
            return Err(StoreError::Query("histogram bucket of 0 ms".into()));
        }
        let mut buckets: HashMap<u64, u64> = HashMap::new();
        self.scan(q, &mut |cols, hits| {
            let ms = cols.load_ms()?;
            for &i in hits {
                *buckets.entry(ms[i] / bucket_ms * bucket_ms).or_default() += 1;
            }
            Ok(true)
        })?;
        let mut out: Vec<(u64, u64)> = buckets.into_iter().collect();
        out.sort();
        Ok(out)
    }

    fn retain(&mut self, policy: &Retention) -> Result<RetentionReport, StoreError> {
        self.seal()?;
        let mut report = RetentionReport::default();
        let mut order: Vec<usize> = (0..self.segments.len()).collect();
        order.sort_by_key(|&i| (self.segments[i].max_ms, self.segments[i].seq));
        let mut remove = vec![false; self.segments.len()];
        if let Some(age) = policy.max_age_ms {
            let cutoff = policy.now_ms.saturating_sub(age);
            for (i, s) in self.segments.iter().enumerate() {
                remove[i] = s.max_ms < cutoff;
            }
        }
        if let Some(max) = policy.max_bytes {
            let mut total: u64 = self.segments.iter().enumerate().filter(|(i, _)| !remove[*i]).map(|(_, s)| s.disk_bytes()).sum();
            for &i in &order {
                if total <= max {
                    break;
                }
                if !remove[i] {
                    remove[i] = true;
                    total -= self.segments[i].disk_bytes();
                }
            }
        }
        let mut kept = Vec::new();
        for (i, s) in std::mem::take(&mut self.segments).into_iter().enumerate() {
            if !remove[i] {
                kept.push(s);
                continue;
            }
            // the lines first: a lines file without its segment would be taken for a torn seal
            if let Some(lines) = &s.lines {
                fs::remove_file(&lines.path).map_err(StoreError::io(&lines.path))?;
            }
            fs::remove_file(&s.path).map_err(StoreError::io(&s.path))?;
            let day = s.path.parent().expect("a day folder").to_path_buf();
            sync_dir(&day)?;
            if read_dir(&day)?.is_empty() {
                fs::remove_dir(&day).map_err(StoreError::io(&day))?;
            }
            self.loaded.remove(&s.seq);
            report.segments += 1;
            report.events += s.rows as u64;
            report.bytes += s.disk_bytes();
        }
        self.segments = kept;
        Ok(report)
    }
}

/// Visits one replayed row, which must have the ordinal `next`.
fn replay_one(row: &StoredEvent, next: &mut u64, visit: &mut dyn FnMut(u64, Event) -> bool) -> Result<bool, StoreError> {
    if row.ordinal != *next {
        return Err(StoreError::EventGone { ordinal: *next });
    }
    let event = row.event()?;
    *next += 1;
    Ok(visit(row.ordinal, event))
}

/// Called with a segment's columns and its matching rows; returns false to stop.
type Visit<'v> = dyn FnMut(&mut Columns<'_>, &[usize]) -> Result<bool, StoreError> + 'v;

/// A filter compiled against one segment's dictionaries.
enum Pred {
    True,
    False,
    Num(u32, u64),
    /// A number column's value (codes decoded; absent values never match) compared.
    NumCmp(u32, Cmp, i64, FieldKind),
    /// A delta column (time, serial) equal to (`None`) or compared with a value.
    Delta(u32, Option<Cmp>, i64),
    /// Matching dictionary ids (index = id).
    Text(u32, Vec<bool>),
    List(u32, Vec<bool>),
    And(Vec<Pred>),
    Or(Vec<Pred>),
    Not(Box<Pred>),
}

fn compile(f: &Filter, cols: &mut Columns<'_>) -> Result<Pred, StoreError> {
    Ok(match f {
        Filter::All => Pred::True,
        Filter::Eq(field, value) => match (col(*field), value) {
            (Col::Num(id), Value::Number(n)) => {
                let code = if field.kind() == FieldKind::Signed { zigzag(*n).wrapping_add(1) } else { *n as u64 + 1 };
                Pred::Num(id, code)
            }
            (Col::Num(id), Value::Bool(b)) => Pred::Num(id, 1 + u64::from(*b)),
            (Col::Delta(id), Value::Number(n)) => time_bound(cols, *field, None, *n).unwrap_or(Pred::Delta(id, None, *n)),
            (_, Value::Text(t)) => text_pred(cols, *field, |s| s == t.as_slice())?,
            _ => return Err(StoreError::Query(format!("{} cannot equal {value:?}", field.as_str()))),
        },
        Filter::Cmp(field, op, n) => match col(*field) {
            Col::Num(id) => Pred::NumCmp(id, *op, *n, field.kind()),
            Col::Delta(id) => time_bound(cols, *field, Some(*op), *n).unwrap_or(Pred::Delta(id, Some(*op), *n)),
            _ => return Err(StoreError::Query(format!("{} is not a number or time field: {} does not apply", field.as_str(), op.as_str()))),
        },
        Filter::Prefix(field, p) => text_pred(cols, *field, |s| s.starts_with(p))?,
        Filter::Contains(field, p) => text_pred(cols, *field, |s| contains(s, p))?,
        Filter::And(v) => {
            let parts = v.iter().map(|f| compile(f, cols)).collect::<Result<Vec<_>, _>>()?;
            if parts.iter().any(|p| matches!(p, Pred::False)) {
                Pred::False
            } else {
                Pred::And(parts.into_iter().filter(|p| !matches!(p, Pred::True)).collect())
            }
        }
        Filter::Or(v) => {
            let parts: Vec<Pred> = v.iter().map(|f| compile(f, cols)).collect::<Result<Vec<_>, _>>()?;
            if parts.iter().any(|p| matches!(p, Pred::True)) {
                Pred::True
            } else {
                let parts: Vec<Pred> = parts.into_iter().filter(|p| !matches!(p, Pred::False)).collect();
                if parts.is_empty() {
                    Pred::False
                } else {
                    Pred::Or(parts)
                }
            }
        }
        Filter::Not(inner) => match compile(inner, cols)? {
            Pred::True => Pred::False,
            Pred::False => Pred::True,
            p => Pred::Not(Box::new(p)),
        },
    })
}

/// A time comparison that every (or no) event of the source satisfies, known from its time
/// range without reading a row.
fn time_bound(cols: &Columns<'_>, field: Field, op: Option<Cmp>, n: i64) -> Option<Pred> {
    if field != Field::Time {
        return None;
    }
    let (lo, hi) = cols.time_range();
    let holds = |v: u64| op.map_or(v as i64 == n, |op| op.holds(v as i64, n));
    match op {
        // monotonic: both ends decide
        Some(_) if holds(lo) && holds(hi) => Some(Pred::True),
        Some(_) if !holds(lo) && !holds(hi) => Some(Pred::False),
        None if n < lo as i64 || n > hi as i64 => Some(Pred::False),
        _ => None,
    }
}

/// A text comparison resolved against the dictionary: a segment where no dictionary entry
/// matches is skipped unread.
fn text_pred(cols: &mut Columns<'_>, field: Field, m: impl Fn(&[u8]) -> bool) -> Result<Pred, StoreError> {
    let dict = cols.load_dict(field)?;
    let mut hit = vec![false; dict.len() + 1];
    let mut any = false;
    for (i, s) in dict.iter().enumerate() {
        if m(s) {
            hit[i + 1] = true;
            any = true;
        }
    }
    if !any {
        return Ok(Pred::False);
    }
    Ok(match col(field) {
        Col::Text(id) => Pred::Text(id, hit),
        Col::List(id) => Pred::List(id, hit),
        Col::Num(_) | Col::Delta(_) => return Err(StoreError::Query(format!("{} is not a text field", field.as_str()))),
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || memchr::memmem::find(hay, needle).is_some()
}

/// Evaluates a predicate over every row of a source, a column at a time.
fn mask(p: &Pred, cols: &Columns<'_>) -> Vec<bool> {
    let n = cols.rows;
    match p {
        Pred::True => vec![true; n],
        Pred::False => vec![false; n],
        Pred::Num(id, code) => cols.nums[id].iter().map(|v| v == code).collect(),
        Pred::NumCmp(id, op, x, kind) => cols.nums[id]
            .iter()
            .map(|&code| match (code, kind) {
                (0, _) => false,
                (code, FieldKind::Signed) => op.holds(unzigzag(code - 1), *x),
                (code, _) => op.holds((code - 1) as i64, *x),
            })
            .collect(),
        Pred::Delta(id, op, x) => (0..n)
            .map(|i| {
                let v = cols.delta(*id, i) as i64;
                op.map_or(v == *x, |op| op.holds(v, *x))
            })
            .collect(),
        Pred::Text(id, hit) => cols.texts[id].iter().map(|&v| hit.get(v as usize).copied().unwrap_or(false)).collect(),
        Pred::List(id, hit) => cols.list_any(*id, hit),
        Pred::And(v) => {
            let mut m = vec![true; n];
            for p in v {
                for (a, b) in m.iter_mut().zip(mask(p, cols)) {
                    *a &= b;
                }
            }
            m
        }
        Pred::Or(v) => {
            let mut m = vec![false; n];
            for p in v {
                for (a, b) in m.iter_mut().zip(mask(p, cols)) {
                    *a |= b;
                }
            }
            m
        }
        Pred::Not(p) => mask(p, cols).into_iter().map(|b| !b).collect(),
    }
}

/// A field's loaded column, looked up once per source.
enum Resolved<'c> {
    Codes(&'c [u64]),
    Ids(&'c [u32]),
    List(&'c [u32], &'c [u32]),
}

fn resolve<'c>(cols: &'c Columns<'_>, field: Field) -> Resolved<'c> {
    match col(field) {
        Col::Num(id) => Resolved::Codes(&cols.nums[&id]),
        Col::Text(id) => Resolved::Ids(&cols.texts[&id]),
        Col::Delta(id) if id == segment::MS => Resolved::Codes(cols.ms.as_deref().expect("loaded")),
        Col::Delta(id) => Resolved::Codes(&cols.deltas[&id]),
        Col::List(id) => {
            let (offsets, ids) = &cols.lists[&id];
            Resolved::List(offsets, ids)
        }
    }
}

impl Resolved<'_> {
    /// The code at row `i` (a number column's code, a dictionary id, a delta column's value;
    /// a list's first id).
    fn code(&self, i: usize) -> u64 {
        match self {
            Resolved::Codes(v) => v[i],
            Resolved::Ids(v) => u64::from(v[i]),
            Resolved::List(..) => self.codes(i)[0],
        }
    }

    /// The codes at row `i`: a list's dictionary ids (0 when empty).
    fn codes(&self, i: usize) -> Vec<u64> {
        match self {
            Resolved::List(offsets, ids) => {
                let items: Vec<u64> = ids[offsets[i] as usize..offsets[i + 1] as usize].iter().map(|&v| u64::from(v)).collect();
                if items.is_empty() {
                    vec![0]
                } else {
                    items
                }
            }
            _ => vec![self.code(i)],
        }
    }
}

/// The value a code stands for.
fn code_value(cols: &Columns<'_>, field: Field, code: u64) -> GroupValue {
    match (col(field), code, field.kind()) {
        (Col::Delta(_), v, _) => GroupValue::Number(v as i64),
        (_, 0, _) => GroupValue::None,
        (Col::Num(_), v, FieldKind::Signed) => GroupValue::Number(unzigzag(v - 1)),
        (Col::Num(_), v, FieldKind::Bool) => GroupValue::Bool(v == 2),
        (Col::Num(_), v, _) => GroupValue::Number((v - 1) as i64),
        (Col::Text(id) | Col::List(id), v, _) => cols.dicts[&id].get(v as usize - 1).map_or(GroupValue::None, |s| GroupValue::Text(s.to_vec())),
    }
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, StoreError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(StoreError::io(dir))? {
        out.push(entry.map_err(StoreError::io(dir))?.path());
    }
    out.sort();
    Ok(out)
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    fs::File::open(dir).and_then(|f| f.sync_all()).map_err(StoreError::io(dir))
}

/// `YYYY-MM-DD` of a day counted from 1970-01-01 (Hinnant's civil-from-days).
pub(crate) fn day_name(days: u64) -> String {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn day_names() {
        assert_eq!(super::day_name(0), "1970-01-01");
        assert_eq!(super::day_name(20_413), "2025-11-21");
        assert_eq!(super::day_name(11_016), "2000-02-29");
    }
}
