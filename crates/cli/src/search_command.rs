//! `auditmesh search --data DIR [FILTER…]`: events matching a filter (the language of
//! `store::syntax`, e.g. `exe=/usr/bin/sudo and success=no`, `path^=/etc/`, `argv~curl`,
//! `not uid=0`) in a time range, as a table, as native JSON lines (`--json`, exactly what
//! `auditmesh parse` writes, or the stored fields when the event's record lines were released),
//! as a count, a count by fields, or a histogram.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::Args;
use store::{EventStore, Field, Query, StoredEvent};

use crate::time_arg;

pub const SEARCH_ABOUT: &str = "\
Search stored events.

FILTER is one or more words joined into one expression:
  FIELD=VALUE   equal (any element for key, type and path)
  FIELD!=VALUE  not equal
  FIELD^=TEXT   starts with (text fields)
  FIELD~TEXT    contains (text fields)
  FIELD<VALUE   less than (also <=, >, >=): number fields and time
  and, or, not, ( ): `and` binds tighter than `or`; side by side means `and`
Fields: node pid ppid uid auid euid syscall success exit exe comm key type path cwd argv \
(also cmdline) addr port container serial time; number fields: pid ppid uid auid euid exit \
port serial. Values are bare words or \"double quoted\"; success is \
yes or no. An event without a field matches no comparison on it (and so matches its \
negation). Times: 2026-11-21T06:22:47Z, 2026-11-21, epoch milliseconds, or an age (15m, 2h, 7d).

--json prints each event as `auditmesh parse` does. An event whose record lines the store has \
released prints its stored fields instead, absent ones left out:
  {\"lines\":\"released\",\"ordinal\":N,\"time\":\"2026-11-21T06:22:47.123Z\",\"serial\":N,\"node\":S,
   \"types\":[S],\"pid\":N,\"ppid\":N,\"uid\":N,\"auid\":N,\"euid\":N,\"syscall\":S,\"success\":B,
   \"exit\":N,\"exe\":S,\"comm\":S,\"keys\":[S],\"cwd\":S,\"paths\":[S],\"argv\":S,\"addr\":S,
   \"port\":N,\"container\":S,\"completion\":S,\"incomplete\":[S],\"duplicate_records\":N}";

pub const SEARCH_EXAMPLES: &str = "\
Examples:
  auditmesh search --data store exe=/usr/bin/sudo and success=no
  auditmesh search --data store 'path^=/etc/ and not uid=0' --since 24h --json
  auditmesh search --data store argv~curl --count-by exe,auid --top 10
  auditmesh search --data store syscall=connect --histogram 1h";

#[derive(Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub select: Selection,

    /// Whole events as JSON lines instead of a table
    #[arg(long)]
    pub json: bool,

    /// At most this many events (the first stored)
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,

    /// Print only the number of matching events
    #[arg(long, conflicts_with_all = ["json", "count_by", "histogram"])]
    pub count: bool,

    /// Count matching events by these fields (comma-separated), largest groups first
    #[arg(long, value_name = "FIELDS", value_delimiter = ',', conflicts_with = "histogram")]
    pub count_by: Vec<String>,

    /// With --count-by: only the largest N groups
    #[arg(long, value_name = "N", requires = "count_by")]
    pub top: Option<usize>,

    /// Count matching events per time bucket (e.g. 1m, 1h, 1d)
    #[arg(long, value_name = "BUCKET")]
    pub histogram: Option<String>,
}

/// Which events of a store a command works on: the store, a filter and a time range (`search`
/// and `export`).
#[derive(Args)]
pub struct Selection {
    /// The store's folder (as given to `auditmesh ingest`)
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,

    /// The filter (see `auditmesh search --help`); none matches every event
    #[arg(value_name = "FILTER")]
    pub filter: Vec<String>,

    /// Events at or after this time
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Events before this time
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

impl Selection {
    /// Parses and validates the time range and filter.
    pub fn query(&self) -> anyhow::Result<Query> {
        let text = self.filter.join(" ");
        let now = time_arg::now_ms();
        let filter = store::syntax::parse_at(&text, now).with_context(|| format!("bad filter {text:?}"))?;
        let since_ms = self.since.as_deref().map(|t| time_arg::parse(t, now)).transpose().map_err(anyhow::Error::msg)?;
        let until_ms = self.until.as_deref().map(|t| time_arg::parse(t, now)).transpose().map_err(anyhow::Error::msg)?;
        Ok(Query { since_ms, until_ms, filter })
    }
}

pub fn run(args: SearchArgs) -> anyhow::Result<ExitCode> {
    let q = args.select.query()?;
    let fields: Vec<Field> =
        args.count_by.iter().map(|f| Field::from_name(f).ok_or_else(|| anyhow::anyhow!("unknown field {f:?} in --count-by"))).collect::<anyhow::Result<_>>()?;
    let bucket = args.histogram.as_deref().map(bucket_ms).transpose()?;
    let store = crate::store_open(&args.select.data)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if args.count {
        writeln!(out, "{}", store.count(&q)?)?;
    } else if !fields.is_empty() {
        let groups = store.count_by(&q, &fields, args.top)?;
        let mut rows = vec![fields.iter().map(|f| f.as_str().to_string()).chain(["count".to_string()]).collect::<Vec<_>>()];
        for g in &groups {
            rows.push(g.values.iter().map(|v| v.to_string()).chain([g.count.to_string()]).collect());
        }
        table(&mut out, &rows)?;
    } else if let Some(bucket) = bucket {
        let mut rows = vec![vec!["time".to_string(), "count".to_string()]];
        for (t, n) in store.histogram(&q, bucket)? {
            rows.push(vec![time_text(t), n.to_string()]);
        }
        table(&mut out, &rows)?;
    } else {
        let limit = args.limit.unwrap_or(u64::MAX);
        let mut found: Vec<StoredEvent> = Vec::new();
        let mut n = 0u64;
        let mut failed: Option<anyhow::Error> = None;
        let mut buf = Vec::new();
        store.search(&q, &mut |e| {
            n += 1;
            if args.json {
                buf.clear();
                match e.event() {
                    Ok(event) => {
                        render::write_event(&mut buf, &event, &render::Options::default(), &render::NoNames);
                    }
                    Err(store::StoreError::LinesReleased { .. }) => stored_json(&mut buf, &e),
                    Err(err) => {
                        failed = Some(err.into());
                        return false;
                    }
                }
                if let Err(err) = out.write_all(&buf) {
                    failed = Some(err.into());
                    return false;
                }
            } else {
                found.push(e);
            }
            n < limit
        })?;
        if let Some(e) = failed {
            if e.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) {
                return Ok(ExitCode::SUCCESS);
            }
            return Err(e);
        }
        if !args.json {
            let mut rows = vec!["time node serial syscall ok exit pid auid uid exe key path argv".split(' ').map(String::from).collect::<Vec<_>>()];
            for e in &found {
                rows.push(event_row(e));
            }
            table(&mut out, &rows)?;
        }
    }
    for p in store.damaged_since_open() {
        eprintln!("auditmesh: warning: left out of the store: {p}");
    }
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        r => r.map(|_| ExitCode::SUCCESS).context("cannot write the output"),
    }
}

fn bucket_ms(text: &str) -> anyhow::Result<u64> {
    let (n, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let scale = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => bail!("bad --histogram bucket {text:?} (use 1s, 5m, 1h, 1d)"),
    };
    match n.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n * scale),
        _ => bail!("bad --histogram bucket {text:?} (use 1s, 5m, 1h, 1d)"),
    }
}

fn time_text(ms: u64) -> String {
    let mut b = Vec::new();
    render::time::rfc3339_millis(&mut b, ms);
    String::from_utf8_lossy(&b).trim_matches('"').to_string()
}

fn text(b: Option<&[u8]>) -> String {
    b.map_or_else(|| "-".to_string(), |b| store::GroupValue::Text(b.to_vec()).to_string())
}

fn num<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.to_string())
}

fn event_row(e: &StoredEvent) -> Vec<String> {
    vec![
        time_text(e.ms),
        if e.node.is_empty() { "-".to_string() } else { text(Some(&e.node)) },
        e.serial.to_string(),
        e.syscall.as_deref().map_or_else(|| e.types.first().map_or_else(|| "-".to_string(), |t| text(Some(t))), |s| text(Some(s))),
        e.success.map_or("-", |s| if s { "yes" } else { "no" }).to_string(),
        num(e.exit),
        num(e.pid),
        num(e.auid),
        num(e.uid),
        text(e.exe.as_deref()),
        text(e.keys.first().map(Vec::as_slice)),
        text(e.paths.last().map(Vec::as_slice)),
        text(e.argv.as_deref()),
    ]
}

/// Writes the stored fields of an event whose record lines were released, as one JSON line
/// (the shape `SEARCH_ABOUT` documents).
fn stored_json(out: &mut Vec<u8>, e: &StoredEvent) {
    use render::json;
    let text = |out: &mut Vec<u8>, name: &str, v: Option<&[u8]>| {
        if let Some(v) = v {
            json::key(out, name);
            json::string(out, v);
        }
    };
    let number = |out: &mut Vec<u8>, name: &str, v: Option<i64>| {
        if let Some(v) = v {
            json::key(out, name);
            json::i64(out, v);
        }
    };
    let list = |out: &mut Vec<u8>, name: &str, items: &mut dyn Iterator<Item = &[u8]>| {
        json::key(out, name);
        out.push(b'[');
        for item in items {
            json::sep(out);
            json::string(out, item);
        }
        out.push(b']');
    };
    out.push(b'{');
    text(out, "lines", Some(b"released"));
    number(out, "ordinal", Some(e.ordinal as i64));
    json::key(out, "time");
    render::time::rfc3339_millis(out, e.ms);
    number(out, "serial", Some(e.serial as i64));
    text(out, "node", Some(&e.node).filter(|n| !n.is_empty()).map(Vec::as_slice));
    list(out, "types", &mut e.types.iter().map(Vec::as_slice));
    for (name, v) in [("pid", e.pid), ("ppid", e.ppid), ("uid", e.uid), ("auid", e.auid), ("euid", e.euid)] {
        number(out, name, v.map(i64::from));
    }
    text(out, "syscall", e.syscall.as_deref());
    if let Some(ok) = e.success {
        json::key(out, "success");
        json::bool(out, ok);
    }
    number(out, "exit", e.exit);
    text(out, "exe", e.exe.as_deref());
    text(out, "comm", e.comm.as_deref());
    list(out, "keys", &mut e.keys.iter().map(Vec::as_slice));
    text(out, "cwd", e.cwd.as_deref());
    list(out, "paths", &mut e.paths.iter().map(Vec::as_slice));
    text(out, "argv", e.argv.as_deref());
    text(out, "addr", e.addr.as_deref());
    number(out, "port", e.port.map(i64::from));
    text(out, "container", e.container.as_deref());
    text(out, "completion", Some(e.completion.as_str().as_bytes()));
    list(out, "incomplete", &mut e.incomplete.iter().map(|i| i.as_str().as_bytes()));
    number(out, "duplicate_records", Some(i64::from(e.duplicate_records)));
    out.extend_from_slice(b"}\n");
}

/// Writes rows as columns separated by two spaces; the last column is not padded.
fn table(out: &mut impl Write, rows: &[Vec<String>]) -> io::Result<()> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.extend(std::iter::repeat_n(' ', widths[c] - cell.chars().count() + 2));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
