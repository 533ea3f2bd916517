//! Exactly-once across restarts for the file source: which position to resume from, and which
//! events after it were already written.
//!
//! Events are not finished in line order: an event is written when its last record arrives, and
//! the records of the next events may already have been read. So a checkpoint is two things:
//!
//! - the **resume position**: just before the first line of the oldest event still being
//!   assembled (after the last line read when none is); a restart reads again from there, so no
//!   record of an unfinished event is lost;
//! - the **written set**: the keys (node, time, serial) of the events already written whose
//!   first line lies after the resume position; on the second reading they are assembled again
//!   and not written.
//!
//! The checkpoint also names the output file and its length when it was synced: events written
//! after that and before a crash are read back from the output ([`crate::output`]) and joined to
//! the written set. With standard output as the output, those cannot be known and may be written
//! twice after a crash (never lost).
//!
//! The checkpoint file is replaced atomically (temporary file, fsync, rename, fsync directory).

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use follow::Checkpoint;
use vocab::EventId;

use crate::output::OutputMark;

/// The checkpoint file in the state directory.
pub const CHECKPOINT_FILE: &str = "file-checkpoint";
const MAGIC: &str = "auditmesh-agent-checkpoint 1";

/// An event's identity: node, time in milliseconds, serial.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EventKey {
    pub node: Option<Box<[u8]>>,
    pub millis: u64,
    pub serial: u64,
}

impl EventKey {
    pub fn new(node: Option<&[u8]>, id: EventId) -> EventKey {
        EventKey {
            node: node.map(Box::from),
            millis: id.time.secs() * 1000 + id.time.subsec_millis(),
            serial: id.serial.0,
        }
    }

    /// Reads the key of an event line the agent wrote (`node`, `time`, `serial`, in native or
    /// ECS form); `None` for other lines.
    pub fn from_json_line(line: &[u8]) -> Option<EventKey> {
        let value: serde_json::Value = serde_json::from_slice(line).ok()?;
        let (node, time, serial) = if value.get("records").is_some() {
            (value.get("node"), value.get("time")?, value.get("serial")?)
        } else {
            let auditd = value.get("auditd")?;
            (auditd.get("node"), value.get("@timestamp")?, auditd.get("sequence")?)
        };
        let node = match node {
            Some(serde_json::Value::String(s)) => Some(percent_decode(s).into_boxed_slice()),
            _ => None,
        };
        Some(EventKey {
            node,
            millis: parse_rfc3339_millis(time.as_str()?)?,
            serial: serial.as_u64()?,
        })
    }

    fn to_text(&self, out: &mut String) {
        match &self.node {
            Some(node) => {
                for b in node.iter() {
                    let _ = write!(out, "{b:02x}");
                }
            }
            None => out.push('-'),
        }
        let _ = write!(out, " {} {}", self.millis, self.serial);
    }

    fn from_text(text: &str) -> Option<EventKey> {
        let mut parts = text.split(' ');
        let node = match parts.next()? {
            "-" => None,
            hex => Some(decode_hex(hex)?.into_boxed_slice()),
        };
        let millis = parts.next()?.parse().ok()?;
        let serial = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(EventKey { node, millis, serial })
    }
}

/// Undoes the output's `%XX` escaping of bytes that are not UTF-8 (and `%25` for `%`).
fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 3 <= b.len() {
            if let Some(v) = decode_hex(&s[i + 1..i + 3]) {
                out.push(v[0]);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

/// Parses `YYYY-MM-DDTHH:MM:SS.mmmZ` (what the output writes) into milliseconds since the epoch.
pub fn parse_rfc3339_millis(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 24 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'.' || b[23] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss, ms) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..23)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm), for years from 1970 on.
    let y = if m <= 2 { y - 1 } else { y } as i64;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days).ok()? * 86_400 + hh * 3600 + mm * 60 + ss;
    Some(secs * 1000 + ms)
}

/// What is stored: see the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResumePoint {
    /// `None`: from the start of the first file.
    pub position: Option<Checkpoint>,
    pub output: Option<OutputMark>,
    pub written: Vec<EventKey>,
}

impl ResumePoint {
    pub fn to_text(&self) -> String {
        let mut out = format!("{MAGIC}\n");
        match &self.position {
            Some(p) => {
                let _ = writeln!(out, "position {} {} {} {:016x}", p.dev, p.inode, p.offset, p.head);
            }
            None => out.push_str("position start\n"),
        }
        if let Some(o) = &self.output {
            let _ = writeln!(out, "output {} {} {}", o.dev, o.inode, o.len);
        }
        for key in &self.written {
            out.push_str("written ");
            key.to_text(&mut out);
            out.push('\n');
        }
        out
    }

    pub fn from_text(text: &str) -> Result<ResumePoint, String> {
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, MAGIC)) => {}
            _ => return Err(format!("not an agent checkpoint (first line is not {MAGIC:?})")),
        }
        let mut point = ResumePoint { position: None, output: None, written: Vec::new() };
        for (i, line) in lines {
            let bad = || format!("line {}: cannot read {line:?}", i + 1);
            let (word, rest) = line.split_once(' ').ok_or_else(bad)?;
            match word {
                "position" if rest == "start" => point.position = None,
                "position" => {
                    let f: Vec<&str> = rest.split(' ').collect();
                    let [dev, inode, offset, head] = f[..] else { return Err(bad()) };
                    point.position = Some(Checkpoint {
                        dev: dev.parse().map_err(|_| bad())?,
                        inode: inode.parse().map_err(|_| bad())?,
                        offset: offset.parse().map_err(|_| bad())?,
                        head: u64::from_str_radix(head, 16).map_err(|_| bad())?,
                    });
                }
                "output" => {
                    let f: Vec<&str> = rest.split(' ').collect();
                    let [dev, inode, len] = f[..] else { return Err(bad()) };
                    point.output = Some(OutputMark {
                        dev: dev.parse().map_err(|_| bad())?,
                        inode: inode.parse().map_err(|_| bad())?,
                        len: len.parse().map_err(|_| bad())?,
                    });
                }
                "written" => point.written.push(EventKey::from_text(rest).ok_or_else(bad)?),
                _ => return Err(bad()),
            }
        }
        Ok(point)
    }

    /// Loads the checkpoint; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<ResumePoint>, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => ResumePoint::from_text(&text).map(Some).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Replaces the checkpoint file atomically.
    pub fn store(&self, path: &Path) -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let tmp: PathBuf = path.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(self.to_text().as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    }
}

/// Follows which events are open and which were written, line by line.
#[derive(Debug, Default)]
pub struct Tracker {
    /// Lines seen so far (the sequence number of the next line).
    seq: u64,
    /// The position before the next line.
    before_next: Option<Checkpoint>,
    /// Open events: the sequence number and the position before their first line.
    open: HashMap<EventKey, (u64, Option<Checkpoint>)>,
    /// Written events: the sequence number of their first line, in writing order.
    written: VecDeque<(u64, EventKey)>,
    /// Keys written recently: a late record of one must not open it again.
    recent: HashSet<EventKey>,
    recent_order: VecDeque<EventKey>,
    /// From the checkpoint: events not to write again.
    skip: HashSet<EventKey>,
}

const RECENT: usize = 8192;

impl Tracker {
    /// Starts at `point` (or at the very start).
    pub fn new(point: Option<&ResumePoint>, extra_written: Vec<EventKey>) -> Tracker {
        let mut t = Tracker::default();
        if let Some(p) = point {
            t.before_next = p.position;
            t.skip.extend(p.written.iter().cloned());
        }
        t.skip.extend(extra_written);
        t
    }

    /// Without a checkpoint: reading starts at `position` (where the follower opened), so a
    /// crash before the first checkpoint resumes there, not at whatever file is live then.
    pub fn start_at(&mut self, position: Option<Checkpoint>) {
        if self.before_next.is_none() {
            self.before_next = position;
        }
    }

    /// Returns how many events the checkpoint says not to write again, still waiting.
    pub fn skips_pending(&self) -> usize {
        self.skip.len()
    }

    /// A record of event `key` was read on the current line.
    pub fn record(&mut self, key: &EventKey) {
        if self.recent.contains(key) || self.open.contains_key(key) {
            return;
        }
        self.open.insert(key.clone(), (self.seq, self.before_next));
    }

    /// The current line is done; the next starts after `position`.
    pub fn line_done(&mut self, position: Option<Checkpoint>) {
        self.seq += 1;
        if position.is_some() {
            self.before_next = position;
        }
    }

    /// Reading moved on (next file, truncation) without a line.
    pub fn moved(&mut self, position: Checkpoint) {
        self.before_next = Some(position);
    }

    /// Event `key` is complete. Returns false when it was written before the restart: it must
    /// not be written again.
    pub fn complete(&mut self, key: EventKey) -> bool {
        let first = self.open.remove(&key).map_or(self.seq, |(seq, _)| seq);
        let fresh = !self.skip.remove(&key);
        if self.recent_order.len() >= RECENT {
            if let Some(old) = self.recent_order.pop_front() {
                self.recent.remove(&old);
            }
        }
        self.recent.insert(key.clone());
        self.recent_order.push_back(key.clone());
        self.written.push_back((first, key));
        fresh
    }

    /// Returns the checkpoint for now, with the output's mark.
    pub fn resume_point(&mut self, output: Option<OutputMark>) -> ResumePoint {
        let oldest = self.open.values().min_by_key(|(seq, _)| *seq).copied();
        let (from_seq, position) = match oldest {
            Some((seq, position)) => (seq, position),
            None => (self.seq, self.before_next),
        };
        while self.written.front().is_some_and(|(seq, _)| *seq < from_seq) {
            self.written.pop_front();
        }
        let mut written: Vec<EventKey> = self.written.iter().map(|(_, k)| k.clone()).collect();
        // Events from before the restart that are still to be met again stay skipped.
        written.extend(self.skip.iter().cloned());
        ResumePoint { position, output, written }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vocab::{Serial, Timestamp};

    #[test]
    fn time_text_round_trips_with_the_renderer() {
        for millis in [0u64, 1_795_246_000_601, 951_782_400_000, 4_102_444_799_999, 1_709_164_800_123] {
            let mut out = Vec::new();
            render::time::rfc3339_millis(&mut out, millis);
            let text = std::str::from_utf8(&out[1..out.len() - 1]).unwrap();
            assert_eq!(parse_rfc3339_millis(text), Some(millis), "{text}");
        }
        assert_eq!(parse_rfc3339_millis("2026-11-21T07:26:40.601"), None);
        assert_eq!(parse_rfc3339_millis("2026-13-21T07:26:40.601Z"), None);
    }

    #[test]
    fn keys_read_back_from_native_and_ecs_lines() {
        let native = br#"{"node":"web-01","time":"2026-11-21T07:26:40.601Z","serial":601,"completion":"eoe","records":[]}"#;
        let key = EventKey::from_json_line(native).unwrap();
        assert_eq!(
            key,
            EventKey::new(
                Some(b"web-01"),
                EventId { time: Timestamp::from_parts(1_795_246_000, 601), serial: Serial(601) }
            )
        );
        let ecs = br#"{"@timestamp":"2026-11-21T07:26:40.601Z","auditd":{"sequence":601}}"#;
        assert_eq!(EventKey::from_json_line(ecs).unwrap(), EventKey { node: None, millis: 1_795_246_000_601, serial: 601 });
        let odd = br#"{"node":"a%25b%FF","time":"2026-11-21T07:26:40.601Z","serial":1,"records":[]}"#;
        assert_eq!(EventKey::from_json_line(odd).unwrap().node.as_deref(), Some(&b"a%b\xff"[..]));
        assert_eq!(EventKey::from_json_line(br#"{"diagnostic":"truncated","raw":"x"}"#), None);
    }

    #[test]
    fn resume_point_text_round_trips() {
        let point = ResumePoint {
            position: Some(Checkpoint { dev: 65024, inode: 77, offset: 1234, head: 0xdead_beef }),
            output: Some(OutputMark { dev: 65024, inode: 78, len: 99 }),
            written: vec![
                EventKey { node: None, millis: 5, serial: 6 },
                EventKey { node: Some(Box::from(&b"h 1"[..])), millis: 7, serial: 8 },
            ],
        };
        assert_eq!(
            point.to_text(),
            "auditmesh-agent-checkpoint 1\nposition 65024 77 1234 00000000deadbeef\noutput 65024 78 99\nwritten - 5 6\nwritten 682031 7 8\n"
        );
        assert_eq!(ResumePoint::from_text(&point.to_text()), Ok(point));
        assert_eq!(
            ResumePoint::from_text("auditmesh-agent-checkpoint 1\nposition 1 2\n"),
            Err("line 2: cannot read \"position 1 2\"".to_string())
        );
    }

    fn key(serial: u64) -> EventKey {
        EventKey { node: None, millis: serial, serial }
    }

    fn at(offset: u64) -> Option<Checkpoint> {
        Some(Checkpoint { dev: 1, inode: 2, offset, head: 3 })
    }

    #[test]
    fn the_resume_point_is_before_the_oldest_open_event_and_lists_what_was_written_after_it() {
        let mut t = Tracker::new(None, Vec::new());
        // Lines: e1 e1 e2 e1(end) e2 e3 — event 1 completes while 2 is open.
        for (offset, serial) in [(10, 1), (20, 1), (30, 2), (40, 1)] {
            t.record(&key(serial));
            t.line_done(at(offset));
        }
        assert!(t.complete(key(1)));
        let p = t.resume_point(None);
        assert_eq!(p.position, at(20), "before event 2's first line");
        assert_eq!(p.written, vec![], "event 1 started before the resume point");
        t.record(&key(2));
        t.line_done(at(50));
        t.record(&key(3));
        t.line_done(at(60));
        assert!(t.complete(key(3)));
        let p = t.resume_point(None);
        assert_eq!(p.position, at(20));
        assert_eq!(p.written, vec![key(3)]);
        assert!(t.complete(key(2)));
        let p = t.resume_point(None);
        assert_eq!((p.position, p.written), (at(60), vec![]));

        // A restart from that point skips event 3 once, and a late record opens nothing.
        let mut r = Tracker::new(Some(&ResumePoint { position: at(20), output: None, written: vec![key(3)] }), vec![key(9)]);
        assert_eq!(r.skips_pending(), 2);
        r.record(&key(2));
        r.line_done(at(30));
        r.record(&key(3));
        r.line_done(at(40));
        assert!(!r.complete(key(3)));
        assert!(r.complete(key(2)));
        r.record(&key(3));
        r.line_done(at(50));
        let p = r.resume_point(None);
        assert_eq!(p.position, at(50));
        assert_eq!(p.written, vec![key(9)], "keys from the output not met yet stay skipped");
    }
}
