//! Storage engine comparison for the event store (the measurement behind
//! `docs/adr/0002-event-store-engine.md`). Not part of the product.
//!
//! Reads a real audit log, assembles it, derives one row per event (time, serial, host, pid, ppid,
//! uid, auid, euid, syscall, exit, success, exe, comm, key, first path, cwd, argv), replicates the
//! rows to N events (each copy shifted in time and serial; one row in ten gets a unique path and
//! argv, as temporary files and one-off commands do; pids move from copy to copy and times
//! jitter by a few ms), and ingests them into three candidates:
//! an own columnar segment format (dictionary + delta/varint + zstd, WAL with fsync per batch),
//! SQLite (rusqlite, WAL, indexes on exe, path, time) and redb (own index tables). Then it
//! reports ingest rate, bytes per event on disk and query latencies.
//!
//! usage: engines LOG N OUTDIR

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use assemble::summary::summarize;
use assemble::{Assembler, Config, Event};

#[derive(Clone, Debug)]
struct Row {
    ms: u64,
    serial: u64,
    host: String,
    pid: u32,
    ppid: u32,
    uid: u32,
    auid: u32,
    euid: u32,
    syscall: u32,
    exit: i64,
    success: u8,
    exe: String,
    comm: String,
    key: String,
    path: String,
    cwd: String,
    argv: String,
    /// every record's line, for the keep-raw option
    raw: String,
}

fn text(b: Option<&[u8]>) -> String {
    b.map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
}

fn row(e: &Event) -> Row {
    let host = text(e.node());
    let mut r = Row {
        ms: e.id.time.millis,
        serial: e.id.serial.0,
        host,
        pid: 0,
        ppid: 0,
        uid: u32::MAX,
        auid: u32::MAX,
        euid: u32::MAX,
        syscall: u32::MAX,
        exit: 0,
        success: 2,
        exe: String::new(),
        comm: String::new(),
        key: String::new(),
        path: String::new(),
        cwd: String::new(),
        argv: String::new(),
        raw: String::new(),
    };
    for rec in e.records() {
        r.raw.push_str(&String::from_utf8_lossy(rec.line));
        r.raw.push('\n');
    }
    if let Some(s) = summarize(e) {
        let id = |f: &str| s.ids.iter().find(|(n, _)| *n == f).and_then(|(_, i)| i.value).unwrap_or(u32::MAX);
        r.pid = s.pid.unwrap_or(0);
        r.ppid = s.ppid.unwrap_or(0);
        r.uid = id("uid");
        r.auid = id("auid");
        r.euid = id("euid");
        r.syscall = s.syscall.unwrap_or(u32::MAX);
        r.exit = s.exit.unwrap_or(0);
        r.success = s.success.map_or(2, u8::from);
        r.exe = text(s.exe.as_deref());
        r.comm = text(s.comm.as_deref());
        r.key = s.keys.first().map(|k| text(Some(k))).unwrap_or_default();
        r.path = s.paths.iter().rev().find_map(|p| p.name.as_deref()).map(|n| text(Some(n))).unwrap_or_default();
        r.cwd = text(s.cwd.as_deref());
    }
    if let Some(a) = &e.argv {
        r.argv = a.iter().map(|x| String::from_utf8_lossy(x).into_owned()).collect::<Vec<_>>().join(" ");
    }
    r
}

fn load(log: &Path) -> Vec<Row> {
    let bytes = fs::read(log).expect("read the log");
    let mut asm = Assembler::new(Config::default());
    let mut events: Vec<Event> = Vec::new();
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        if let Ok(rec) = parse::parse_line(line) {
            asm.push(&rec, &mut events);
        }
    }
    asm.finish_all(&mut events);
    events.iter().map(row).collect()
}

fn replicate(base: &[Row], n: usize) -> Vec<Row> {
    let span = base.last().unwrap().ms - base[0].ms + 1000;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let cycle = (i / base.len()) as u64;
        let mut r = base[i % base.len()].clone();
        r.ms += cycle * span;
        r.serial += cycle * base.len() as u64;
        // processes differ from copy to copy: pids move, and times jitter within the copy
        let shift = |p: u32| if p == 0 { 0 } else { ((u64::from(p) + cycle * 4513) % 4_194_304) as u32 };
        r.pid = shift(r.pid);
        r.ppid = shift(r.ppid);
        r.ms += (i as u64 * 2_654_435_761) % 7;
        if r.serial % 10 == 0 && cycle > 0 {
            if !r.path.is_empty() {
                r.path.push_str(&format!(".{cycle}"));
            }
            if !r.argv.is_empty() {
                r.argv.push_str(&format!(" {cycle}"));
            }
        }
        out.push(r);
    }
    out
}

fn dir_bytes(dir: &Path) -> u64 {
    fs::read_dir(dir).map_or(0, |d| d.flatten().map(|e| if e.path().is_dir() { dir_bytes(&e.path()) } else { e.metadata().map_or(0, |m| m.len()) }).sum())
}

fn median(mut f: impl FnMut() -> u64) -> (f64, u64) {
    let mut times = Vec::new();
    let mut result = 0;
    for _ in 0..5 {
        let t = Instant::now();
        result = f();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (times[2], result)
}

const BATCH: usize = 10_000;

/// The queries every engine answers, with the same arguments.
struct Queries {
    exe: String,
    path: String,
    from_ms: u64,
}

trait Engine {
    fn name(&self) -> &'static str;
    fn ingest(&mut self, batch: &[Row]);
    fn finish(&mut self);
    fn count_exe(&self, q: &Queries) -> u64;
    fn count_path(&self, q: &Queries) -> u64;
    /// count by syscall over the last 10 % of the time range; returns the number of groups
    fn group_syscall(&self, q: &Queries) -> u64;
}

// ---------- own columnar segments ----------

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn read_varint(b: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let byte = b[*pos];
        *pos += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return v;
        }
        shift += 7;
    }
}

const STRING_COLS: usize = 7; // host exe comm key path cwd argv
const SEGMENT_ROWS: usize = 1 << 16;

struct Segment {
    min_ms: u64,
    max_ms: u64,
    /// per string column: dictionary (string → id)
    dicts: Vec<HashMap<String, u32>>,
    file: PathBuf,
}

struct Columnar {
    keep_raw: bool,
    dir: PathBuf,
    wal: File,
    pending: Vec<Row>,
    segments: Vec<Segment>,
}

impl Columnar {
    fn new(dir: &Path, keep_raw: bool) -> Columnar {
        fs::create_dir_all(dir).unwrap();
        let wal = OpenOptions::new().create(true).append(true).open(dir.join("wal")).unwrap();
        Columnar { keep_raw, dir: dir.to_path_buf(), wal, pending: Vec::new(), segments: Vec::new() }
    }

    fn strings(r: &Row) -> [&str; STRING_COLS] {
        [&r.host, &r.exe, &r.comm, &r.key, &r.path, &r.cwd, &r.argv]
    }

    fn flush_segment(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let rows = std::mem::take(&mut self.pending);
        let mut cols: Vec<Vec<u8>> = vec![Vec::new(); 11 + STRING_COLS];
        let mut dicts: Vec<HashMap<String, u32>> = vec![HashMap::new(); STRING_COLS];
        let mut dict_bytes: Vec<Vec<u8>> = vec![Vec::new(); STRING_COLS];
        let (mut pms, mut pser) = (rows[0].ms, rows[0].serial);
        for r in &rows {
            let zz = |v: i64| ((v << 1) ^ (v >> 63)) as u64;
            varint(&mut cols[0], zz(r.ms as i64 - pms as i64));
            varint(&mut cols[1], zz(r.serial as i64 - pser as i64));
            pms = r.ms;
            pser = r.serial;
            for (i, v) in [r.pid, r.ppid, r.uid, r.auid, r.euid, r.syscall].iter().enumerate() {
                varint(&mut cols[2 + i], u64::from(*v));
            }
            varint(&mut cols[8], zz(r.exit));
            cols[9].push(r.success);
            for (i, s) in Self::strings(r).iter().enumerate() {
                let n = dicts[i].len() as u32;
                let id = *dicts[i].entry((*s).to_string()).or_insert_with(|| {
                    varint(&mut dict_bytes[i], s.len() as u64);
                    dict_bytes[i].extend_from_slice(s.as_bytes());
                    n
                });
                varint(&mut cols[11 + i], u64::from(id));
            }
        }
        if self.keep_raw {
            let mut raw = Vec::new();
            for r in &rows {
                raw.extend_from_slice(r.raw.as_bytes());
            }
            dict_bytes.push(raw);
        }
        let mut file = Vec::new();
        for c in cols.iter().chain(dict_bytes.iter()) {
            let z = zstd::bulk::compress(c, 3).unwrap();
            file.extend_from_slice(&(z.len() as u32).to_le_bytes());
            file.extend_from_slice(&(c.len() as u32).to_le_bytes());
            file.extend_from_slice(&z);
        }
        let path = self.dir.join(format!("seg-{:06}", self.segments.len()));
        let mut f = File::create(&path).unwrap();
        f.write_all(&file).unwrap();
        f.sync_data().unwrap();
        self.segments.push(Segment { min_ms: rows[0].ms, max_ms: rows.last().unwrap().ms, dicts, file: path });
        self.wal.set_len(0).unwrap();
    }

    /// Decompresses one column of a segment.
    fn column(seg: &Segment, index: usize) -> Vec<u8> {
        let data = fs::read(&seg.file).unwrap();
        let mut pos = 0;
        for i in 0.. {
            let zl = u32::from_le_bytes(data[pos..pos + 4].try_into().unwrap()) as usize;
            let rl = u32::from_le_bytes(data[pos + 4..pos + 8].try_into().unwrap()) as usize;
            if i == index {
                return zstd::bulk::decompress(&data[pos + 8..pos + 8 + zl], rl).unwrap();
            }
            pos += 8 + zl;
        }
        unreachable!()
    }

    fn count_string(&self, col: usize, value: &str) -> u64 {
        let mut n = 0;
        for seg in &self.segments {
            let Some(&id) = seg.dicts[col].get(value) else { continue };
            let c = Self::column(seg, 11 + col);
            let mut pos = 0;
            while pos < c.len() {
                if read_varint(&c, &mut pos) == u64::from(id) {
                    n += 1;
                }
            }
        }
        n
    }
}

impl Engine for Columnar {
    fn name(&self) -> &'static str {
        if self.keep_raw {
            "own columnar segments + raw lines (zstd 3)"
        } else {
            "own columnar segments (zstd 3)"
        }
    }
    fn ingest(&mut self, batch: &[Row]) {
        // the WAL: the batch as it came, made durable before the call returns
        let mut buf = Vec::with_capacity(batch.len() * 64);
        for r in batch {
            varint(&mut buf, r.ms);
            varint(&mut buf, r.serial);
            for s in Self::strings(r) {
                varint(&mut buf, s.len() as u64);
                buf.extend_from_slice(s.as_bytes());
            }
            for v in [r.pid, r.ppid, r.uid, r.auid, r.euid, r.syscall] {
                varint(&mut buf, u64::from(v));
            }
        }
        let z = zstd::bulk::compress(&buf, 1).unwrap();
        self.wal.write_all(&z).unwrap();
        self.wal.sync_data().unwrap();
        self.pending.extend_from_slice(batch);
        if self.pending.len() >= SEGMENT_ROWS {
            self.flush_segment();
        }
    }
    fn finish(&mut self) {
        self.flush_segment();
    }
    fn count_exe(&self, q: &Queries) -> u64 {
        self.count_string(1, &q.exe)
    }
    fn count_path(&self, q: &Queries) -> u64 {
        self.count_string(4, &q.path)
    }
    fn group_syscall(&self, q: &Queries) -> u64 {
        let mut groups: HashMap<u64, u64> = HashMap::new();
        for seg in self.segments.iter().filter(|s| s.max_ms >= q.from_ms) {
            let ms = Self::column(seg, 0);
            let sc = Self::column(seg, 7);
            let (mut p1, mut p2, mut t) = (0, 0, seg.min_ms as i64);
            while p1 < ms.len() {
                let d = read_varint(&ms, &mut p1);
                t += ((d >> 1) as i64) ^ -((d & 1) as i64);
                let s = read_varint(&sc, &mut p2);
                if t as u64 >= q.from_ms {
                    *groups.entry(s).or_default() += 1;
                }
            }
        }
        groups.len() as u64
    }
}

// ---------- SQLite ----------

struct Sqlite {
    db: rusqlite::Connection,
}

impl Sqlite {
    fn new(dir: &Path) -> Sqlite {
        fs::create_dir_all(dir).unwrap();
        let db = rusqlite::Connection::open(dir.join("events.db")).unwrap();
        db.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
             CREATE TABLE events(ms INTEGER, serial INTEGER, host TEXT, pid INTEGER, ppid INTEGER, uid INTEGER, auid INTEGER,
               euid INTEGER, syscall INTEGER, exit INTEGER, success INTEGER, exe TEXT, comm TEXT, key TEXT, path TEXT, cwd TEXT, argv TEXT);
             CREATE INDEX by_ms ON events(ms); CREATE INDEX by_exe ON events(exe, ms); CREATE INDEX by_path ON events(path, ms);",
        )
        .unwrap();
        Sqlite { db }
    }
}

impl Engine for Sqlite {
    fn name(&self) -> &'static str {
        "SQLite (rusqlite bundled, WAL, 3 indexes)"
    }
    fn ingest(&mut self, batch: &[Row]) {
        let tx = self.db.transaction().unwrap();
        {
            let mut st = tx.prepare_cached("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)").unwrap();
            for r in batch {
                st.execute(rusqlite::params![
                    r.ms as i64, r.serial as i64, r.host, r.pid, r.ppid, r.uid, r.auid, r.euid, r.syscall, r.exit, r.success, r.exe,
                    r.comm, r.key, r.path, r.cwd, r.argv
                ])
                .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    fn finish(&mut self) {
        self.db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    }
    fn count_exe(&self, q: &Queries) -> u64 {
        self.db.query_row("SELECT count(*) FROM events WHERE exe = ?", [&q.exe], |r| r.get::<_, i64>(0)).unwrap() as u64
    }
    fn count_path(&self, q: &Queries) -> u64 {
        self.db.query_row("SELECT count(*) FROM events WHERE path = ?", [&q.path], |r| r.get::<_, i64>(0)).unwrap() as u64
    }
    fn group_syscall(&self, q: &Queries) -> u64 {
        let mut st = self.db.prepare("SELECT syscall, count(*) FROM events WHERE ms >= ? GROUP BY syscall").unwrap();
        st.query_map([q.from_ms as i64], |_| Ok(())).unwrap().count() as u64
    }
}

// ---------- redb ----------

const EVENTS: redb::TableDefinition<u64, &[u8]> = redb::TableDefinition::new("events");
const BY_EXE: redb::MultimapTableDefinition<&str, u64> = redb::MultimapTableDefinition::new("by_exe");
const BY_PATH: redb::MultimapTableDefinition<&str, u64> = redb::MultimapTableDefinition::new("by_path");

struct Redb {
    db: redb::Database,
    next: u64,
}

impl Redb {
    fn new(dir: &Path) -> Redb {
        fs::create_dir_all(dir).unwrap();
        Redb { db: redb::Database::create(dir.join("events.redb")).unwrap(), next: 0 }
    }
}

impl Engine for Redb {
    fn name(&self) -> &'static str {
        "redb 2 (row bytes + 2 multimap indexes)"
    }
    fn ingest(&mut self, batch: &[Row]) {
        let tx = self.db.begin_write().unwrap();
        {
            let mut ev = tx.open_table(EVENTS).unwrap();
            let mut ex = tx.open_multimap_table(BY_EXE).unwrap();
            let mut pa = tx.open_multimap_table(BY_PATH).unwrap();
            let mut buf = Vec::new();
            for r in batch {
                buf.clear();
                varint(&mut buf, r.serial);
                for s in Columnar::strings(r) {
                    varint(&mut buf, s.len() as u64);
                    buf.extend_from_slice(s.as_bytes());
                }
                for v in [r.pid, r.ppid, r.uid, r.auid, r.euid, r.syscall] {
                    varint(&mut buf, u64::from(v));
                }
                let key = (r.ms << 20) | (self.next & 0xfffff);
                self.next += 1;
                ev.insert(key, buf.as_slice()).unwrap();
                ex.insert(r.exe.as_str(), key).unwrap();
                pa.insert(r.path.as_str(), key).unwrap();
            }
        }
        tx.commit().unwrap();
    }
    fn finish(&mut self) {
        self.db.compact().ok();
    }
    fn count_exe(&self, q: &Queries) -> u64 {
        let tx = self.db.begin_read().unwrap();
        let t = tx.open_multimap_table(BY_EXE).unwrap();
        t.get(q.exe.as_str()).unwrap().count() as u64
    }
    fn count_path(&self, q: &Queries) -> u64 {
        let tx = self.db.begin_read().unwrap();
        let t = tx.open_multimap_table(BY_PATH).unwrap();
        t.get(q.path.as_str()).unwrap().count() as u64
    }
    fn group_syscall(&self, q: &Queries) -> u64 {
        let tx = self.db.begin_read().unwrap();
        let t = tx.open_table(EVENTS).unwrap();
        let mut groups: HashMap<u64, u64> = HashMap::new();
        for item in t.range((q.from_ms << 20)..).unwrap() {
            let (_, v) = item.unwrap();
            let b = v.value();
            let mut pos = 0;
            read_varint(b, &mut pos);
            for _ in 0..STRING_COLS {
                let l = read_varint(b, &mut pos) as usize;
                pos += l;
            }
            for _ in 0..5 {
                read_varint(b, &mut pos);
            }
            *groups.entry(read_varint(b, &mut pos)).or_default() += 1;
        }
        groups.len() as u64
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (log, n, out) = (PathBuf::from(&args[1]), args[2].parse::<usize>().unwrap(), PathBuf::from(&args[3]));
    let which = args.get(4).cloned().unwrap_or_else(|| "columnar,sqlite,redb".into());
    let base = load(&log);
    let rows = replicate(&base, n);
    let raw: usize = fs::metadata(&log).unwrap().len() as usize;
    println!("log: {} events from {} bytes ({:.0} bytes/event raw); replicated to {n}", base.len(), raw, raw as f64 / base.len() as f64);
    let q = Queries {
        exe: "/usr/bin/sudo".into(),
        path: "/etc/passwd".into(),
        from_ms: rows[rows.len() * 9 / 10].ms,
    };
    for name in which.split(',') {
        let dir = out.join(name);
        let _ = fs::remove_dir_all(&dir);
        let mut e: Box<dyn Engine> = match name {
            "columnar" => Box::new(Columnar::new(&dir, false)),
            "columnar-raw" => Box::new(Columnar::new(&dir, true)),
            "sqlite" => Box::new(Sqlite::new(&dir)),
            "redb" => Box::new(Redb::new(&dir)),
            _ => panic!("unknown engine {name}"),
        };
        let t = Instant::now();
        for b in rows.chunks(BATCH) {
            e.ingest(b);
        }
        e.finish();
        let secs = t.elapsed().as_secs_f64();
        let bytes = dir_bytes(&dir);
        let (t_exe, c_exe) = median(|| e.count_exe(&q));
        let (t_path, c_path) = median(|| e.count_path(&q));
        let (t_grp, c_grp) = median(|| e.group_syscall(&q));
        println!(
            "| {} | {:.0} k | {:.1} | {:.1} ms ({} groups) | {:.2} ms ({c_exe}) | {:.2} ms ({c_path}) |",
            e.name(),
            n as f64 / secs / 1000.0,
            bytes as f64 / n as f64,
            t_grp,
            c_grp,
            t_exe,
            t_path
        );
    }
}
