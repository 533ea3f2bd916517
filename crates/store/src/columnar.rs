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

use assemble::Event;

use crate::checksum::FastSet;
use crate::codec::{unzigzag, zigzag};
use crate::error::StoreError;
use crate::query::{
    Field, FieldKind, Filter, Group, GroupValue, IngestReport, Query, Retention, RetentionReport,
    Value,
};
use crate::row::StoredEvent;
use crate::segment::{self, col, Col, Columns, SegmentMeta};
use crate::wal::Wal;
use crate::EventStore;

/// How the store writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Events per segment at most; also how many unsealed events trigger a seal.
    pub segment_rows: usize,
    /// zstd level of segment columns.
    pub level: i32,
    /// Keep every event's record lines for good: [`ColumnarStore::release_lines`] does nothing.
    pub keep_lines: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            segment_rows: 65_536,
            level: 3,
            keep_lines: false,
        }
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
    pending: Vec<StoredEvent>,
    /// The fingerprints of `pending`, index for index.
    pending_fps: Vec<u64>,
    segments: Vec<SegmentMeta>,
    next_seq: u64,
    /// The ordinal the next stored event gets.
    next_ordinal: u64,
    problems: Vec<StoreError>,
    /// Fingerprints of the unsealed events and of the segments loaded for dedup.
    seen: FastSet<u64>,
    /// Per segment (by seq): its fingerprints are in `seen`.
    loaded: FastSet<u64>,
    zstd: zstd::bulk::Compressor<'static>,
}

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
        let mut days: Vec<PathBuf> = read_dir(&seg_dir)?
            .into_iter()
            .filter(|p| p.is_dir())
            .collect();
        days.sort();
        for day in days {
            for path in read_dir(&day)? {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string();
                if name.ends_with(".tmp")
                    || (name.ends_with(".lines") && !path.with_extension("seg").exists())
                {
                    // a seal that never finished: its events are still in the log
                    fs::remove_file(&path).map_err(StoreError::io(&path))?;
                    continue;
                }
                if name.ends_with(".lines") {
                    continue;
                }
                let Some(seq) = name
                    .strip_suffix(".seg")
                    .and_then(|s| s.parse::<u64>().ok())
                else {
                    problems.push(StoreError::Corrupt {
                        path,
                        what: "not a segment file name".into(),
                    });
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
        let sealed_next = segments
            .iter()
            .map(|s| s.max_ordinal + 1)
            .max()
            .unwrap_or(1);
        let (wal, replay) = Wal::open(&dir.join("wal"), sealed_next)?;
        problems.extend(replay.corrupt);
        let next_ordinal = sealed_next.max(replay.next_ordinal);
        let mut store = ColumnarStore {
            dir: dir.to_path_buf(),
            config,
            wal,
            pending: Vec::new(),
            pending_fps: Vec::new(),
            segments,
            next_seq,
            next_ordinal,
            problems,
            seen: FastSet::default(),
            loaded: FastSet::default(),
            zstd: zstd::bulk::Compressor::new(config.level).map_err(StoreError::io(dir))?,
        };
        // events sealed just before a crash are in a segment and still in the log
        let rows = replay.rows;
        store.load_fingerprints(&rows)?;
        for row in rows {
            let fp = row.fingerprint();
            if store.seen.insert(fp) {
                store.pending.push(row);
                store.pending_fps.push(fp);
            }
        }
        Ok(store)
    }

    /// Damaged files found when the store was opened (each names its file).
    pub fn problems(&self) -> &[StoreError] {
        &self.problems
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn stats(&self) -> StoreStats {
        StoreStats {
            segments: self.segments.len() as u64,
            sealed_events: self.segments.iter().map(|s| s.rows as u64).sum(),
            unsealed_events: self.pending.len() as u64,
            segment_bytes: self.segments.iter().map(|s| s.bytes).sum(),
            lines_bytes: self
                .segments
                .iter()
                .filter_map(|s| s.lines.as_ref())
                .map(|l| l.bytes)
                .sum(),
        }
    }

    /// The ordinal of the last stored event; 0 when none ever was.
    pub fn last_ordinal(&self) -> u64 {
        self.next_ordinal - 1
    }

    /// Stores events already in their stored form (the benchmark's path; [`EventStore::ingest`]
    /// derives them from assembled events).
    pub fn ingest_rows(&mut self, rows: Vec<StoredEvent>) -> Result<IngestReport, StoreError> {
        let mut report = IngestReport {
            received: rows.len() as u64,
            first_ordinal: self.next_ordinal,
            ..IngestReport::default()
        };
        self.load_fingerprints(&rows)?;
        let mut fresh = Vec::with_capacity(rows.len());
        let mut fps = FastSet::with_capacity_and_hasher(rows.len(), Default::default());
        for (i, mut row) in rows.into_iter().enumerate() {
            let fp = row.fingerprint();
            if self.seen.contains(&fp) || !fps.insert(fp) {
                report.duplicates += 1;
                continue;
            }
            row.ordinal = self.next_ordinal + fresh.len() as u64;
            report.accepted.push(i as u32);
            fresh.push(row);
            self.pending_fps.push(fp);
        }
        if !fresh.is_empty() {
            if let Err(e) = self.wal.append(&fresh) {
                // not acknowledged: forget them (a retry stores them again)
                self.pending_fps.truncate(self.pending.len());
                return Err(e);
            }
        }
        self.next_ordinal += fresh.len() as u64;
        self.seen.extend(fps);
        report.stored = fresh.len() as u64;
        self.pending.extend(fresh);
        if self.pending.len() >= self.config.segment_rows {
            self.seal()?;
        }
        Ok(report)
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
    pub fn replay_since(
        &self,
        since: u64,
        visit: &mut dyn FnMut(u64, Event) -> bool,
    ) -> Result<u64, StoreError> {
        let mut next = since + 1;
        let mut visited = 0;
        // segments in ordinal order; one seal writes a contiguous range of ordinals into one
        // segment per day, so segments whose ranges overlap are merged by ordinal
        let mut order: Vec<&SegmentMeta> = self
            .segments
            .iter()
            .filter(|s| s.max_ordinal > since)
            .collect();
        order.sort_by_key(|s| (s.min_ordinal, s.seq));
        let mut i = 0;
        while i < order.len() {
            let mut j = i + 1;
            let mut hi = order[i].max_ordinal;
            while j < order.len() && order[j].min_ordinal <= hi {
                hi = hi.max(order[j].max_ordinal);
                j += 1;
            }
            let mut rows: Vec<StoredEvent> = Vec::new();
            for meta in &order[i..j] {
                let mut cols = Columns::of_segment(meta)?;
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
        for row in self.pending.iter().filter(|r| r.ordinal > since) {
            if !replay_one(row, &mut next, visit)? {
                return Ok(visited + 1);
            }
            visited += 1;
        }
        if next < self.next_ordinal {
            return Err(StoreError::EventGone { ordinal: next });
        }
        Ok(visited)
    }

    /// Loads the fingerprints of the segments whose time range overlaps the rows'.
    fn load_fingerprints(&mut self, rows: &[StoredEvent]) -> Result<(), StoreError> {
        let (Some(lo), Some(hi)) = (
            rows.iter().map(|r| r.ms).min(),
            rows.iter().map(|r| r.ms).max(),
        ) else {
            return Ok(());
        };
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
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        let pending_fps = std::mem::take(&mut self.pending_fps);
        let mut by_day: Vec<(u64, Vec<StoredEvent>, Vec<u64>)> = Vec::new();
        for (row, fp) in pending.into_iter().zip(pending_fps) {
            let day = row.ms / 86_400_000;
            match by_day.iter_mut().find(|(d, _, _)| *d == day) {
                Some((_, rows, fps)) => {
                    rows.push(row);
                    fps.push(fp);
                }
                None => by_day.push((day, vec![row], vec![fp])),
            }
        }
        let mut written = Vec::new();
        for (day, rows, fps) in &by_day {
            let day_dir = self.dir.join("segments").join(day_name(*day));
            if !day_dir.exists() {
                fs::create_dir_all(&day_dir).map_err(StoreError::io(&day_dir))?;
                sync_dir(&self.dir.join("segments"))?;
            }
            for (chunk, chunk_fps) in rows
                .chunks(self.config.segment_rows)
                .zip(fps.chunks(self.config.segment_rows))
            {
                let seq = self.next_seq;
                self.next_seq += 1;
                let path = day_dir.join(format!("{seq:010}.seg"));
                let meta = segment::write(&path, seq, chunk, chunk_fps, &mut self.zstd)?;
                written.push(meta);
            }
            sync_dir(&day_dir)?;
        }
        self.wal.clear(self.next_ordinal)?;
        // the sealed fingerprints leave memory; dedup reloads a segment when a batch overlaps it
        for (_, _, fps) in &by_day {
            for fp in fps {
                self.seen.remove(fp);
            }
        }
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
        let pending = Columns::of_rows(&self.pending, &self.pending_fps);
        let mut sources: Vec<Columns<'_>> = Vec::new();
        let mut run = |cols: &mut Columns<'_>| -> Result<bool, StoreError> {
            let pred = compile(&q.filter, cols)?;
            if matches!(pred, Pred::False) {
                return Ok(true);
            }
            for &f in &fields {
                cols.load(f)?;
            }
            if timed {
                cols.load_ms()?;
            }
            let mut hits = Vec::new();
            for i in 0..cols.rows {
                if timed && !q.in_time(cols.ms.as_ref().expect("loaded")[i]) {
                    continue;
                }
                if eval(&pred, cols, i) {
                    hits.push(i);
                }
            }
            if hits.is_empty() {
                return Ok(true);
            }
            visit(cols, &hits)
        };
        for meta in &self.segments {
            if !q.overlaps(meta.min_ms, meta.max_ms) {
                continue;
            }
            let mut cols = Columns::of_segment(meta)?;
            if !run(&mut cols)? {
                return Ok(());
            }
        }
        sources.push(pending);
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
        self.ingest_rows(events.iter().map(StoredEvent::from_event).collect())
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.seal()
    }

    fn search(
        &self,
        q: &Query,
        visit: &mut dyn FnMut(StoredEvent) -> bool,
    ) -> Result<(), StoreError> {
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

    fn count_by(
        &self,
        q: &Query,
        fields: &[Field],
        top: Option<usize>,
    ) -> Result<Vec<Group>, StoreError> {
        let mut groups: HashMap<Vec<GroupValue>, u64> = HashMap::new();
        self.scan(q, &mut |cols, hits| {
            for &f in fields {
                cols.load(f)?;
                cols.load_dict(f)?;
            }
            let mut keys: Vec<Vec<GroupValue>> = Vec::new();
            for &i in hits {
                keys.clear();
                keys.push(Vec::with_capacity(fields.len()));
                for &f in fields {
                    let values = group_values(cols, f, i);
                    let mut next = Vec::with_capacity(keys.len() * values.len());
                    for k in &keys {
                        for v in &values {
                            let mut k = k.clone();
                            k.push(v.clone());
                            next.push(k);
                        }
                    }
                    keys = next;
                }
                for k in keys.drain(..) {
                    *groups.entry(k).or_default() += 1;
                }
            }
            Ok(true)
        })?;
        let mut out: Vec<Group> = groups
            .into_iter()
            .map(|(values, count)| Group { values, count })
            .collect();
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
            let mut total: u64 = self
                .segments
                .iter()
                .enumerate()
                .filter(|(i, _)| !remove[*i])
                .map(|(_, s)| s.disk_bytes())
                .sum();
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
fn replay_one(
    row: &StoredEvent,
    next: &mut u64,
    visit: &mut dyn FnMut(u64, Event) -> bool,
) -> Result<bool, StoreError> {
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
                let code = if field.kind() == FieldKind::Signed {
                    zigzag(*n).wrapping_add(1)
                } else {
                    *n as u64 + 1
                };
                Pred::Num(id, code)
            }
            (Col::Num(id), Value::Bool(b)) => Pred::Num(id, 1 + u64::from(*b)),
            (_, Value::Text(t)) => text_pred(cols, *field, |s| s == t.as_slice())?,
            _ => {
                return Err(StoreError::Query(format!(
                    "{} cannot equal {value:?}",
                    field.as_str()
                )))
            }
        },
        Filter::Prefix(field, p) => text_pred(cols, *field, |s| s.starts_with(p))?,
        Filter::Contains(field, p) => text_pred(cols, *field, |s| contains(s, p))?,
        Filter::And(v) => {
            let parts = v
                .iter()
                .map(|f| compile(f, cols))
                .collect::<Result<Vec<_>, _>>()?;
            if parts.iter().any(|p| matches!(p, Pred::False)) {
                Pred::False
            } else {
                Pred::And(
                    parts
                        .into_iter()
                        .filter(|p| !matches!(p, Pred::True))
                        .collect(),
                )
            }
        }
        Filter::Or(v) => {
            let parts: Vec<Pred> = v
                .iter()
                .map(|f| compile(f, cols))
                .collect::<Result<Vec<_>, _>>()?;
            if parts.iter().any(|p| matches!(p, Pred::True)) {
                Pred::True
            } else {
                let parts: Vec<Pred> = parts
                    .into_iter()
                    .filter(|p| !matches!(p, Pred::False))
                    .collect();
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

/// A text comparison resolved against the dictionary: a segment where no dictionary entry
/// matches is skipped unread.
fn text_pred(
    cols: &mut Columns<'_>,
    field: Field,
    m: impl Fn(&[u8]) -> bool,
) -> Result<Pred, StoreError> {
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
        Col::Num(_) => {
            return Err(StoreError::Query(format!(
                "{} is not a text field",
                field.as_str()
            )))
        }
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || memchr::memmem::find(hay, needle).is_some()
}

fn eval(p: &Pred, cols: &Columns<'_>, i: usize) -> bool {
    match p {
        Pred::True => true,
        Pred::False => false,
        Pred::Num(id, code) => cols.nums[id][i] == *code,
        Pred::Text(id, hit) => hit[cols.texts[id][i] as usize],
        Pred::List(id, hit) => {
            let (offsets, ids) = &cols.lists[id];
            ids[offsets[i] as usize..offsets[i + 1] as usize]
                .iter()
                .any(|&v| hit.get(v as usize).copied().unwrap_or(false))
        }
        Pred::And(v) => v.iter().all(|p| eval(p, cols, i)),
        Pred::Or(v) => v.iter().any(|p| eval(p, cols, i)),
        Pred::Not(p) => !eval(p, cols, i),
    }
}

fn group_values(cols: &Columns<'_>, field: Field, i: usize) -> Vec<GroupValue> {
    match col(field) {
        Col::Num(id) => {
            let v = cols.nums[&id][i];
            vec![match (v, field.kind()) {
                (0, _) => GroupValue::None,
                (v, FieldKind::Signed) => GroupValue::Number(unzigzag(v - 1)),
                (v, FieldKind::Bool) => GroupValue::Bool(v == 2),
                (v, _) => GroupValue::Number((v - 1) as i64),
            }]
        }
        Col::Text(id) => {
            let v = cols.texts[&id][i] as usize;
            vec![cols.dicts[&id]
                .get(v.wrapping_sub(1))
                .map_or(GroupValue::None, |s| GroupValue::Text(s.clone()))]
        }
        Col::List(id) => {
            let (offsets, ids) = &cols.lists[&id];
            let items: Vec<GroupValue> = ids[offsets[i] as usize..offsets[i + 1] as usize]
                .iter()
                .filter_map(|&v| {
                    cols.dicts[&id]
                        .get((v as usize).wrapping_sub(1))
                        .map(|s| GroupValue::Text(s.clone()))
                })
                .collect();
            if items.is_empty() {
                vec![GroupValue::None]
            } else {
                items
            }
        }
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
    fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(StoreError::io(dir))
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
