//! `auditmesh export --data DIR [FILTER…] --format parquet|jsonl --output FILE`: every matching
//! stored event as one row, for DuckDB, Spark, pandas and anything else that reads Parquet or
//! JSON lines. The filter and the time options are those of `search`.
//!
//! The table (the same columns in both formats; `docs/adr/0003-parquet-export.md` has the
//! decision and the reasons):
//!
//! | column | Parquet type | |
//! |---|---|---|
//! | `time` | INT64 TIMESTAMP(MILLIS, UTC) | event time |
//! | `node` | STRING, null when the records named none | |
//! | `serial` | INT64 | |
//! | `ordinal` | INT64 | the event's place in ingest order, from 1 |
//! | `types` | LIST<STRING> | record types, first seen order |
//! | `pid` `ppid` `uid` `auid` `euid` | INT64, nullable | |
//! | `syscall` | STRING | name, or number when the arch has no name for it |
//! | `success` | BOOLEAN | |
//! | `exit` | INT64 | |
//! | `exe` `comm` `cwd` | STRING | |
//! | `keys` `paths` | LIST<STRING> | rule keys; PATH names in item order |
//! | `argv` | STRING | the command line, arguments joined by spaces |
//! | `addr` | STRING | socket address |
//! | `port` | INT32 | |
//! | `container` | STRING | audit container id |
//! | `completion` | STRING | how the event was completed (`eoe`, `timeout`, …) |
//! | `incomplete` | LIST<STRING> | why it is partial (empty when whole) |
//! | `duplicate_records` | INT64 | |
//! | `records` | STRING, nullable | the event's record lines, each ending in `\n`; null once the store released them; left out with `--no-records` |
//!
//! Strings are the kernel's bytes under render's rule: valid UTF-8 as it is, each byte of an
//! invalid sequence as `%XX`, and `%` itself as `%25` — so every string column is a plain
//! STRING that any reader takes, and the bytes come back by replacing each `%XX`. In JSON lines
//! the same strings are JSON-escaped; times are RFC 3339; absent values are `null`.
//!
//! Written as it streams: rows are gathered into row groups of 65,536 (or fewer once the
//! buffered strings pass 128 MiB), each column zstd-compressed, so memory is bounded by one row
//! group and the store segment being read, whatever the size of the export (ADR 0003 has the
//! figures). A regular file is written under a temporary name and renamed when complete; `-`
//! (standard output), FIFOs and devices are written in place.
//! Progress goes to standard error: one line rewritten every second on a terminal, a line every
//! 10 s otherwise, and a summary at the end.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use clap::{Args, ValueEnum};
use parquet::basic::{Compression, ZstdLevel};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DataType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedFileWriter, SerializedRowGroupWriter};
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::ColumnPath;
use store::{EventStore, StoredEvent};

pub const EXPORT_ABOUT: &str = "\
Export stored events as a table: Parquet (for DuckDB, Spark, pandas, Polars) or JSON lines.

One row per event: time, node, serial, ordinal, record types, pid, ppid, uid, auid, euid, syscall, \
success, exit, exe, comm, keys, cwd, paths, argv, addr, port, container, completion, \
incomplete, duplicate_records and the record lines (null where the store released them; \
--no-records leaves the column out). FILTER, --since and --until work as in \
`auditmesh search`. Bytes that are not UTF-8 are written as %XX and a literal % as %25.";

pub const EXPORT_EXAMPLES: &str = "\
Examples:
  auditmesh export --data store --output events.parquet
  auditmesh export --data store syscall=execve --since 24h --output execs.parquet
  auditmesh export --data store 'path^=/etc/' --format jsonl --output etc.jsonl
  duckdb -c \"SELECT syscall, count(*) FROM 'events.parquet' GROUP BY ALL ORDER BY 2 DESC\"";

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Parquet,
    Jsonl,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub select: crate::search_command::Selection,

    #[arg(long, value_enum, default_value_t = ExportFormat::Parquet)]
    pub format: ExportFormat,

    /// The file to write (replaced when complete if it exists; `-` is standard output)
    #[arg(long, short, value_name = "FILE")]
    pub output: PathBuf,

    /// Do not print progress and the summary on standard error
    #[arg(long, short)]
    pub quiet: bool,

    /// Leave out the record lines (the `records` column): a much smaller file
    #[arg(long)]
    pub no_records: bool,

    /// Rows per Parquet row group (tests use small groups to cover several)
    #[arg(long, value_name = "N", default_value_t = ROW_GROUP_ROWS as u32, hide = true, value_parser = clap::value_parser!(u32).range(1..))]
    pub row_group_rows: u32,
}

/// Rows per row group.
const ROW_GROUP_ROWS: usize = 65_536;
/// A row group is also closed once its buffered strings pass this many bytes.
const ROW_GROUP_BYTES: usize = 128 << 20;

const SCHEMA: &str = "
message auditmesh_event {
  REQUIRED INT64 time (TIMESTAMP(MILLIS,true));
  OPTIONAL BYTE_ARRAY node (STRING);
  REQUIRED INT64 serial;
  REQUIRED INT64 ordinal;
  REQUIRED GROUP types (LIST) { REPEATED GROUP list { REQUIRED BYTE_ARRAY element (STRING); } }
  OPTIONAL INT64 pid;
  OPTIONAL INT64 ppid;
  OPTIONAL INT64 uid;
  OPTIONAL INT64 auid;
  OPTIONAL INT64 euid;
  OPTIONAL BYTE_ARRAY syscall (STRING);
  OPTIONAL BOOLEAN success;
  OPTIONAL INT64 exit;
  OPTIONAL BYTE_ARRAY exe (STRING);
  OPTIONAL BYTE_ARRAY comm (STRING);
  REQUIRED GROUP keys (LIST) { REPEATED GROUP list { REQUIRED BYTE_ARRAY element (STRING); } }
  OPTIONAL BYTE_ARRAY cwd (STRING);
  REQUIRED GROUP paths (LIST) { REPEATED GROUP list { REQUIRED BYTE_ARRAY element (STRING); } }
  OPTIONAL BYTE_ARRAY argv (STRING);
  OPTIONAL BYTE_ARRAY addr (STRING);
  OPTIONAL INT32 port;
  OPTIONAL BYTE_ARRAY container (STRING);
  REQUIRED BYTE_ARRAY completion (STRING);
  REQUIRED GROUP incomplete (LIST) { REPEATED GROUP list { REQUIRED BYTE_ARRAY element (STRING); } }
  REQUIRED INT64 duplicate_records;
  OPTIONAL BYTE_ARRAY records (STRING);
}";

/// The schema without the `records` column.
fn schema(records: bool) -> String {
    if records {
        SCHEMA.to_string()
    } else {
        SCHEMA.replace("  OPTIONAL BYTE_ARRAY records (STRING);\n", "")
    }
}

/// Returns the bytes as render writes strings: valid UTF-8 as it is, invalid bytes and `%` as
/// `%XX`. Borrows when nothing needs escaping (nearly always).
fn percent(bytes: &[u8]) -> Cow<'_, [u8]> {
    if !bytes.contains(&b'%') && std::str::from_utf8(bytes).is_ok() {
        return Cow::Borrowed(bytes);
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for part in chunk.valid().split_inclusive('%') {
            match part.strip_suffix('%') {
                Some(head) => {
                    out.extend_from_slice(head.as_bytes());
                    out.extend_from_slice(b"%25");
                }
                None => out.extend_from_slice(part.as_bytes()),
            }
        }
        for &b in chunk.invalid() {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
    }
    Cow::Owned(out)
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let q = args.select.query()?;
    let store = crate::store_open(&args.select.data)?;
    let target = Target::of(&args.output);
    let file = target.open()?;
    let mut sink: Box<dyn Sink> = match args.format {
        ExportFormat::Parquet => Box::new(ParquetSink::new(file, args.row_group_rows as usize, !args.no_records)?),
        ExportFormat::Jsonl => Box::new(JsonlSink { out: BufWriter::with_capacity(1 << 20, file), buf: Vec::new(), records: !args.no_records }),
    };
    let started = Instant::now();
    // progress: on a terminal one line rewritten every second, elsewhere a line every 10 s
    let terminal = io::stderr().is_terminal();
    let every = Duration::from_secs(if terminal { 1 } else { 10 });
    let mut next_report = every;
    let mut reported = false;
    let mut rows = 0u64;
    let mut failed: Option<anyhow::Error> = None;
    let searched = store.search(&q, &mut |e| {
        if let Err(err) = sink.push(&e) {
            failed = Some(err);
            return false;
        }
        rows += 1;
        if !args.quiet && rows.is_multiple_of(4096) && started.elapsed() >= next_report {
            let line = format!("export: {rows} events, {:.0} s", started.elapsed().as_secs_f64());
            if terminal {
                eprint!("\r\x1b[K{line}");
            } else {
                eprintln!("{line}");
            }
            reported = true;
            next_report = started.elapsed() + every;
        }
        true
    });
    let finished = searched.map_err(anyhow::Error::from).and_then(|()| failed.map_or(Ok(()), Err)).and_then(|()| sink.finish());
    let bytes = match finished.and_then(|out| target.close(out)) {
        Ok(bytes) => bytes,
        Err(e) => {
            target.abandon();
            return Err(e.context(format!("cannot export to {}", args.output.display())));
        }
    };
    if terminal && reported {
        eprint!("\r\x1b[K");
    }
    if !args.quiet {
        let secs = started.elapsed().as_secs_f64();
        eprintln!("exported {rows} events to {} ({bytes} bytes) in {secs:.2} s, {:.0} events/s", args.output.display(), rows as f64 / secs.max(1e-9));
    }
    Ok(ExitCode::SUCCESS)
}

/// Where an export goes.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// `-`: standard output.
    Stdout,
    /// Something that is not a regular file (a device, a FIFO): written in place, never
    /// replaced.
    InPlace(PathBuf),
    /// A regular file (or a new one): written under `tmp`, renamed over `path` when complete.
    Replace { tmp: PathBuf, path: PathBuf },
}

impl Target {
    fn of(output: &Path) -> Target {
        if output == Path::new("-") {
            return Target::Stdout;
        }
        match std::fs::metadata(output) {
            Ok(m) if !m.is_file() => Target::InPlace(output.to_path_buf()),
            _ => {
                let mut name = output.file_name().map(|n| n.to_os_string()).unwrap_or_default();
                name.push(".partial");
                Target::Replace { tmp: output.with_file_name(name), path: output.to_path_buf() }
            }
        }
    }

    fn open(&self) -> anyhow::Result<Out> {
        let (path, file) = match self {
            Target::Stdout => return Ok(Out { stdout: Some(io::stdout()), file: None, written: 0 }),
            Target::InPlace(path) => (path, File::options().write(true).open(path)),
            Target::Replace { tmp, .. } => (tmp, File::create(tmp)),
        };
        Ok(Out { stdout: None, file: Some(file.with_context(|| format!("cannot create {}", path.display()))?), written: 0 })
    }

    /// Makes a complete export durable and visible; returns the bytes written.
    fn close(&self, mut out: Out) -> anyhow::Result<u64> {
        out.flush().context("cannot write")?;
        if let Target::Replace { tmp, path } = self {
            out.file.as_ref().expect("a file").sync_all().context("cannot sync")?;
            std::fs::rename(tmp, path).with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
        }
        Ok(out.written)
    }

    /// Removes what a failed export left.
    fn abandon(&self) {
        if let Target::Replace { tmp, .. } = self {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// The export's bytes on their way out, counted.
struct Out {
    file: Option<File>,
    stdout: Option<io::Stdout>,
    written: u64,
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match (&mut self.file, &mut self.stdout) {
            (Some(f), _) => f.write(buf)?,
            (None, Some(s)) => s.write(buf)?,
            (None, None) => 0,
        };
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match (&mut self.file, &mut self.stdout) {
            (Some(f), _) => f.flush(),
            (None, Some(s)) => s.flush(),
            (None, None) => Ok(()),
        }
    }
}

trait Sink {
    fn push(&mut self, e: &StoredEvent) -> anyhow::Result<()>;
    /// Writes what is buffered (and the Parquet footer); hands the output back.
    fn finish(self: Box<Self>) -> anyhow::Result<Out>;
}

struct JsonlSink {
    out: BufWriter<Out>,
    buf: Vec<u8>,
    records: bool,
}

impl Sink for JsonlSink {
    fn push(&mut self, e: &StoredEvent) -> anyhow::Result<()> {
        use render::json::{bool as jbool, i64 as ji64, key, string, u64 as ju64};
        let b = &mut self.buf;
        b.clear();
        b.push(b'{');
        key(b, "time");
        render::time::rfc3339_millis(b, e.ms);
        let text = |b: &mut Vec<u8>, name: &str, v: Option<&[u8]>| {
            key(b, name);
            match v {
                Some(v) => string(b, v),
                None => b.extend_from_slice(b"null"),
            }
        };
        let list = |b: &mut Vec<u8>, name: &str, items: &[Vec<u8>]| {
            key(b, name);
            b.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    b.push(b',');
                }
                string(b, item);
            }
            b.push(b']');
        };
        let num = |b: &mut Vec<u8>, name: &str, v: Option<u64>| {
            key(b, name);
            match v {
                Some(v) => ju64(b, v),
                None => b.extend_from_slice(b"null"),
            }
        };
        text(b, "node", (!e.node.is_empty()).then_some(e.node.as_slice()));
        num(b, "serial", Some(e.serial));
        num(b, "ordinal", Some(e.ordinal));
        list(b, "types", &e.types);
        for (name, v) in [("pid", e.pid), ("ppid", e.ppid), ("uid", e.uid), ("auid", e.auid), ("euid", e.euid)] {
            num(b, name, v.map(u64::from));
        }
        text(b, "syscall", e.syscall.as_deref());
        key(b, "success");
        match e.success {
            Some(s) => jbool(b, s),
            None => b.extend_from_slice(b"null"),
        }
        key(b, "exit");
        match e.exit {
            Some(x) => ji64(b, x),
            None => b.extend_from_slice(b"null"),
        }
        text(b, "exe", e.exe.as_deref());
        text(b, "comm", e.comm.as_deref());
        list(b, "keys", &e.keys);
        text(b, "cwd", e.cwd.as_deref());
        list(b, "paths", &e.paths);
        text(b, "argv", e.argv.as_deref());
        text(b, "addr", e.addr.as_deref());
        num(b, "port", e.port.map(u64::from));
        text(b, "container", e.container.as_deref());
        text(b, "completion", Some(e.completion.as_str().as_bytes()));
        let incomplete: Vec<Vec<u8>> = e.incomplete.iter().map(|i| i.as_str().as_bytes().to_vec()).collect();
        list(b, "incomplete", &incomplete);
        num(b, "duplicate_records", Some(u64::from(e.duplicate_records)));
        if self.records {
            text(b, "records", e.raw.as_deref());
        }
        b.extend_from_slice(b"}\n");
        self.out.write_all(b).context("cannot write")
    }

    fn finish(self: Box<Self>) -> anyhow::Result<Out> {
        self.out.into_inner().map_err(|e| e.into_error()).context("cannot write")
    }
}

/// A nullable column: values of the present rows, and a definition level per row.
#[derive(Default)]
struct Opt<T> {
    values: Vec<T>,
    def: Vec<i16>,
}

impl<T> Opt<T> {
    fn push(&mut self, v: Option<T>) {
        match v {
            Some(v) => {
                self.values.push(v);
                self.def.push(1);
            }
            None => self.def.push(0),
        }
    }
}

/// The strings of one column of a row group, escaped, end to end in chunks of 4 MiB (a longer
/// string gets a chunk of its own): a few allocations per column instead of one per value, no
/// copying as a buffer grows, and the writer gets slices of the chunks.
#[derive(Default)]
struct Strings {
    full: Vec<Bytes>,
    chunk: Vec<u8>,
    /// Per value: its chunk and where it ends there.
    spans: Vec<(u32, u32, u32)>,
}

const CHUNK: usize = 4 << 20;

impl Strings {
    fn push(&mut self, v: &[u8]) {
        let v = percent(v);
        if self.chunk.len() + v.len() > self.chunk.capacity() && !self.chunk.is_empty() {
            let full = std::mem::take(&mut self.chunk);
            self.full.push(Bytes::from(full));
        }
        if self.chunk.capacity() == 0 {
            self.chunk.reserve_exact(CHUNK.max(v.len()));
        }
        let start = self.chunk.len();
        self.chunk.extend_from_slice(&v);
        self.spans.push((self.full.len() as u32, start as u32, self.chunk.len() as u32));
    }

    /// Takes the strings out as the writer's values.
    fn take(&mut self) -> Vec<ByteArray> {
        let mut chunks = std::mem::take(&mut self.full);
        chunks.push(Bytes::from(std::mem::take(&mut self.chunk)));
        let values = self.spans.iter().map(|&(c, start, end)| ByteArray::from(chunks[c as usize].slice(start as usize..end as usize))).collect();
        self.spans.clear();
        values
    }
}

/// A nullable STRING column.
#[derive(Default)]
struct Text {
    values: Strings,
    def: Vec<i16>,
}

impl Text {
    fn push(&mut self, v: Option<&[u8]>, bytes: &mut usize) {
        match v {
            Some(v) => {
                *bytes += v.len();
                self.values.push(v);
                self.def.push(1);
            }
            None => self.def.push(0),
        }
    }
}

/// A `LIST<STRING>` column: the elements, and definition and repetition levels (an empty list
/// is one level pair with no value).
#[derive(Default)]
struct List {
    values: Strings,
    def: Vec<i16>,
    rep: Vec<i16>,
}

impl List {
    fn push<T: AsRef<[u8]>>(&mut self, items: &[T], bytes: &mut usize) {
        if items.is_empty() {
            self.def.push(0);
            self.rep.push(0);
        }
        for (i, item) in items.iter().enumerate() {
            *bytes += item.as_ref().len();
            self.values.push(item.as_ref());
            self.def.push(1);
            self.rep.push(i16::from(i > 0));
        }
    }
}

/// The rows of one row group, column by column.
#[derive(Default)]
struct Columns {
    rows: usize,
    bytes: usize,
    time: Vec<i64>,
    node: Text,
    serial: Vec<i64>,
    ordinal: Vec<i64>,
    types: List,
    ids: [Opt<i64>; 5],
    syscall: Text,
    success: Opt<bool>,
    exit: Opt<i64>,
    exe: Text,
    comm: Text,
    keys: List,
    cwd: Text,
    paths: List,
    argv: Text,
    addr: Text,
    port: Opt<i32>,
    container: Text,
    completion: Strings,
    incomplete: List,
    duplicate_records: Vec<i64>,
    records: Option<Text>,
}

impl Columns {
    fn new(records: bool) -> Columns {
        Columns { records: records.then(Text::default), ..Columns::default() }
    }

    fn push(&mut self, e: &StoredEvent) {
        let n = &mut self.bytes;
        self.rows += 1;
        self.time.push(e.ms as i64);
        self.node.push((!e.node.is_empty()).then_some(e.node.as_slice()), n);
        self.serial.push(e.serial as i64);
        self.ordinal.push(e.ordinal as i64);
        self.types.push(&e.types, n);
        for (col, v) in self.ids.iter_mut().zip([e.pid, e.ppid, e.uid, e.auid, e.euid]) {
            col.push(v.map(i64::from));
        }
        self.syscall.push(e.syscall.as_deref(), n);
        self.success.push(e.success);
        self.exit.push(e.exit);
        self.exe.push(e.exe.as_deref(), n);
        self.comm.push(e.comm.as_deref(), n);
        self.keys.push(&e.keys, n);
        self.cwd.push(e.cwd.as_deref(), n);
        self.paths.push(&e.paths, n);
        self.argv.push(e.argv.as_deref(), n);
        self.addr.push(e.addr.as_deref(), n);
        self.port.push(e.port.map(i32::from));
        self.container.push(e.container.as_deref(), n);
        self.completion.push(e.completion.as_str().as_bytes());
        let incomplete: Vec<&str> = e.incomplete.iter().map(|i| i.as_str()).collect();
        self.incomplete.push(&incomplete, n);
        self.duplicate_records.push(i64::from(e.duplicate_records));
        if let Some(records) = &mut self.records {
            records.push(e.raw.as_deref(), n);
        }
    }

    /// Writes the columns as one row group, in the schema's order.
    fn write<W: Write + Send>(&mut self, rg: &mut SerializedRowGroupWriter<'_, W>) -> parquet::errors::Result<()> {
        column::<Int64Type, _>(rg, &self.time, None, None)?;
        text(rg, &mut self.node)?;
        column::<Int64Type, _>(rg, &self.serial, None, None)?;
        column::<Int64Type, _>(rg, &self.ordinal, None, None)?;
        list(rg, &mut self.types)?;
        for id in &self.ids {
            opt::<Int64Type, _>(rg, id)?;
        }
        text(rg, &mut self.syscall)?;
        opt::<BoolType, _>(rg, &self.success)?;
        opt::<Int64Type, _>(rg, &self.exit)?;
        text(rg, &mut self.exe)?;
        text(rg, &mut self.comm)?;
        list(rg, &mut self.keys)?;
        text(rg, &mut self.cwd)?;
        list(rg, &mut self.paths)?;
        text(rg, &mut self.argv)?;
        text(rg, &mut self.addr)?;
        opt::<Int32Type, _>(rg, &self.port)?;
        text(rg, &mut self.container)?;
        column::<ByteArrayType, _>(rg, &self.completion.take(), None, None)?;
        list(rg, &mut self.incomplete)?;
        column::<Int64Type, _>(rg, &self.duplicate_records, None, None)?;
        match &mut self.records {
            Some(records) => text(rg, records),
            None => Ok(()),
        }
    }
}

fn column<T: DataType, W: Write + Send>(
    rg: &mut SerializedRowGroupWriter<'_, W>,
    values: &[T::T],
    def: Option<&[i16]>,
    rep: Option<&[i16]>,
) -> parquet::errors::Result<()> {
    let mut col = rg.next_column()?.ok_or_else(|| parquet::errors::ParquetError::General("more columns than the schema".into()))?;
    col.typed::<T>().write_batch(values, def, rep)?;
    col.close()
}

fn opt<T: DataType, W: Write + Send>(rg: &mut SerializedRowGroupWriter<'_, W>, c: &Opt<T::T>) -> parquet::errors::Result<()> {
    column::<T, W>(rg, &c.values, Some(&c.def), None)
}

fn text<W: Write + Send>(rg: &mut SerializedRowGroupWriter<'_, W>, c: &mut Text) -> parquet::errors::Result<()> {
    column::<ByteArrayType, W>(rg, &c.values.take(), Some(&c.def), None)
}

fn list<W: Write + Send>(rg: &mut SerializedRowGroupWriter<'_, W>, c: &mut List) -> parquet::errors::Result<()> {
    column::<ByteArrayType, W>(rg, &c.values.take(), Some(&c.def), Some(&c.rep))
}

struct ParquetSink {
    writer: SerializedFileWriter<BufWriter<Out>>,
    columns: Columns,
    group_rows: usize,
    records: bool,
}

impl ParquetSink {
    fn new(file: Out, group_rows: usize, records: bool) -> anyhow::Result<ParquetSink> {
        let schema = Arc::new(parse_message_type(&schema(records)).context("the export schema")?);
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
            .set_max_row_group_row_count(Some(group_rows))
            .set_created_by(format!("auditmesh {}", env!("CARGO_PKG_VERSION")))
            // nearly every value differs: a dictionary only costs time before it is given up
            .set_column_dictionary_enabled(ColumnPath::from("records"), false)
            .set_column_dictionary_enabled(ColumnPath::from("argv"), false)
            .build();
        let writer = SerializedFileWriter::new(BufWriter::with_capacity(1 << 20, file), schema, Arc::new(props))?;
        Ok(ParquetSink { writer, columns: Columns::new(records), group_rows, records })
    }

    fn flush_group(&mut self) -> anyhow::Result<()> {
        if self.columns.rows == 0 {
            return Ok(());
        }
        let mut rg = self.writer.next_row_group()?;
        self.columns.write(&mut rg)?;
        rg.close()?;
        self.columns = Columns::new(self.records);
        Ok(())
    }
}

impl Sink for ParquetSink {
    fn push(&mut self, e: &StoredEvent) -> anyhow::Result<()> {
        self.columns.push(e);
        if self.columns.rows >= self.group_rows || self.columns.bytes >= ROW_GROUP_BYTES {
            self.flush_group()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> anyhow::Result<Out> {
        self.flush_group()?;
        self.writer.into_inner()?.into_inner().map_err(|e| e.into_error()).context("cannot write")
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::{percent, Target};

    #[test]
    fn percent_escapes_invalid_utf8_and_percent_only() {
        assert_eq!(&*percent(b"/tmp/a b\n"), b"/tmp/a b\n");
        assert_eq!(&*percent(b"/tmp/\xff%\xc3\xa9"), b"/tmp/%FF%25\xc3\xa9");
    }

    /// A regression test: `--output /dev/null` once renamed a temporary file over the device.
    #[test]
    fn only_regular_files_are_replaced() {
        assert_eq!(Target::of(Path::new("-")), Target::Stdout);
        assert_eq!(Target::of(Path::new("/dev/null")), Target::InPlace(PathBuf::from("/dev/null")));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("events.parquet");
        let expected = Target::Replace { tmp: dir.path().join("events.parquet.partial"), path: file.clone() };
        assert_eq!(Target::of(&file), expected);
        std::fs::write(&file, b"old").unwrap();
        assert_eq!(Target::of(&file), expected);
        assert_eq!(Target::of(dir.path()), Target::InPlace(dir.path().to_path_buf()));
    }
}
