//! `auditmesh export`: a store made from a real kernel log (and one event with a path that is
//! not UTF-8) exported to Parquet and JSON lines, then read back by the real readers — DuckDB,
//! pandas with pyarrow, Python's json — through `tests/python/export_check.py`; what they read
//! must be exactly what the store holds. Python and its modules are installed by
//! `scripts/test.sh`; without them the test fails, it never skips.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use store::{EventStore, Query};

const BIN: &str = env!("CARGO_BIN_EXE_auditmesh");
const LOG: &str = "fixtures/kernel/provenance-enriched/audit.log";

/// One event whose PATH name is `/tmp/a\xffb%c` (hex-encoded, as the kernel writes such names).
const ODD_PATH_EVENT: &str = "\
type=SYSCALL msg=audit(1795246800.000:900001): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=55d0 a2=241 a3=1b6 items=1 ppid=1 pid=4242 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"touch\" exe=\"/usr/bin/touch\" key=\"odd\"
type=CWD msg=audit(1795246800.000:900001): cwd=\"/tmp\"
type=PATH msg=audit(1795246800.000:900001): item=0 name=2F746D702F61FF622563 inode=99 dev=fe:01 mode=0100644 ouid=1000 ogid=1000 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
type=EOE msg=audit(1795246800.000:900001):
";

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

fn auditmesh(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).current_dir(root()).output().expect("run auditmesh");
    (out.status.code().expect("exit code"), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn python(script: &str, args: &[&Path]) -> Value {
    let path = root().join("crates/cli/tests/python").join(script);
    let out =
        Command::new("python3").arg(&path).args(args).output().unwrap_or_else(|e| panic!("cannot run python3 (scripts/test.sh installs it): {e}"));
    assert!(out.status.success(), "{script} failed (scripts/test.sh installs duckdb, pandas, pyarrow):\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

/// The export's rule for strings, written out independently: valid UTF-8 as it is, other bytes
/// and `%` as `%XX`.
fn escaped(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(&chunk.valid().replace('%', "%25"));
        for b in chunk.invalid() {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The store's own answers, in the shape the script prints: the number of events, events by
/// syscall, the argv of each successful execve by serial, the paths of events with a path that
/// holds `%` or is not UTF-8.
type StoreSays = (u64, BTreeMap<String, u64>, BTreeMap<String, Value>, BTreeMap<String, Value>, u64);

fn store_says(data: &Path) -> StoreSays {
    let store = store::ColumnarStore::open(data, store::Config::default()).unwrap();
    let (mut count, mut by, mut argv, mut odd, mut no_lines) = (0, BTreeMap::new(), BTreeMap::new(), BTreeMap::new(), 0);
    store
        .search(&Query::all(), &mut |e| {
            count += 1;
            no_lines += u64::from(e.raw.is_none());
            let syscall = e.syscall.as_deref().map_or("None".to_string(), |s| String::from_utf8(s.to_vec()).unwrap());
            *by.entry(syscall.clone()).or_insert(0) += 1;
            if syscall == "execve" && e.success == Some(true) {
                argv.insert(e.serial.to_string(), e.argv.as_deref().map_or(Value::Null, |a| json!(escaped(a))));
            }
            if e.paths.iter().any(|p| p.contains(&b'%') || std::str::from_utf8(p).is_err()) {
                odd.insert(e.serial.to_string(), json!(e.paths.iter().map(|p| escaped(p)).collect::<Vec<_>>()));
            }
            true
        })
        .unwrap();
    (count, by, argv, odd, no_lines)
}

#[test]
fn duckdb_and_pandas_read_exactly_what_the_store_holds() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let odd_log = dir.path().join("odd.log");
    std::fs::write(&odd_log, ODD_PATH_EVENT).unwrap();
    let ingest = |args: &[&str]| {
        let (code, _, err) = auditmesh(&[&["ingest", "--data", data.to_str().unwrap()], args].concat());
        assert_eq!(code, 0, "{err}");
    };
    // the kernel log's lines go once the provenance graph has the events (ingest releases
    // them after its checkpoint); the odd event keeps its lines
    ingest(&[LOG]);
    let mut store = store::ColumnarStore::open(&data, store::Config::default()).unwrap();
    assert_eq!(store.release_lines(u64::MAX).unwrap(), 0, "ingest released them already");
    drop(store);
    ingest(&["--keep-lines", odd_log.to_str().unwrap()]);
    let parquet = dir.path().join("events.parquet");
    let jsonl = dir.path().join("events.jsonl");
    for (format, file) in [("parquet", &parquet), ("jsonl", &jsonl)] {
        // groups of 500 rows: the file has three
        let (code, out, err) = auditmesh(&[
            "export",
            "--data",
            data.to_str().unwrap(),
            "--format",
            format,
            "--output",
            file.to_str().unwrap(),
            "--row-group-rows",
            "500",
        ]);
        assert_eq!((code, out.as_str()), (0, ""), "{err}");
        assert!(err.starts_with("exported 1109 events to "), "{err}");
    }
    let read = python("export_check.py", &[&parquet, &jsonl]);
    let (count, by, argv, odd, no_lines) = store_says(&data);
    assert_eq!(count, 1109);
    for reader in ["duckdb", "pandas", "jsonl"] {
        assert_eq!(read[reader]["count"], count, "{reader}");
        assert_eq!(read[reader]["by_syscall"], json!(by), "{reader}");
        assert_eq!(read[reader]["execve_argv"], json!(argv), "{reader}");
    }
    // The path that is not UTF-8 comes back %-escaped; the one whose bytes are valid is as is.
    let (serial, paths) = odd.iter().next().unwrap();
    assert_eq!((serial.as_str(), paths), ("900001", &json!(["/tmp/a%FFb%25c"])));
    assert_eq!(read["duckdb"]["percent_paths"], json!({"900001": ["/tmp/a%FFb%25c"]}));
    assert_eq!(argv["11277"], "/usr/bin/curl -s -o /srv/amwork/wl/dl/payload.sh http://127.0.0.1:18095/payload.sh");
    assert_eq!(argv.len(), 15);
    assert_eq!(no_lines, 1108);
    assert_eq!(read["pandas"]["null_records"], no_lines);
    assert_eq!(read["pandas"]["columns"].as_array().unwrap().len(), 26);

    // Without the record lines: the same rows, one column fewer.
    let (code, _, err) = auditmesh(&["export", "--data", data.to_str().unwrap(), "--no-records", "--quiet", "--output", parquet.to_str().unwrap()]);
    assert_eq!((code, err.as_str()), (0, ""));
    let bare = python("export_check.py", &[&parquet, &jsonl]);
    assert_eq!(bare["duckdb"]["count"], count);
    assert_eq!(bare["pandas"]["columns"].as_array().unwrap().len(), 25);
    assert_eq!(bare["pandas"]["null_records"], Value::Null);
    insta::assert_json_snapshot!(
        "export_read_back_types",
        json!({
            "duckdb_types": read["duckdb"]["types"],
            "duckdb_first_time": read["duckdb"]["first_time"],
            "duckdb_by_node": read["duckdb"]["by_node"],
            "pandas_time_dtype": read["pandas"]["time_dtype"],
            "pandas_row_groups": read["pandas"]["row_groups"],
            "pandas_compression": read["pandas"]["compression"],
            "pandas_first_records_line": read["pandas"]["first_records_line"],
        })
    );
}

#[test]
fn export_takes_the_search_filter_and_time_range() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let (code, _, err) = auditmesh(&["ingest", "--data", data.to_str().unwrap(), LOG]);
    assert_eq!(code, 0, "{err}");
    let out = dir.path().join("execs.jsonl");
    let (code, _, err) = auditmesh(&[
        "export",
        "--data",
        data.to_str().unwrap(),
        "syscall=execve",
        "and",
        "exe^=/usr/bin/",
        "--since",
        "2026-11-21T09:27:40.500Z",
        "--format",
        "jsonl",
        "--output",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!((code, err.as_str()), (0, ""));
    let (_, count, _) = auditmesh(&[
        "search",
        "--data",
        data.to_str().unwrap(),
        "syscall=execve",
        "and",
        "exe^=/usr/bin/",
        "--since",
        "2026-11-21T09:27:40.500Z",
        "--count",
    ]);
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count().to_string(), count.trim());
    let exes: Vec<String> = text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["exe"].as_str().unwrap().to_string()).collect();
    insta::assert_debug_snapshot!("export_execs_exes", exes);
    // `-` is standard output; the summary tells its size
    let bin = Command::new(BIN).args(["export", "--data", data.to_str().unwrap(), "syscall=execve", "--output", "-"]).output().unwrap();
    assert_eq!(bin.status.code(), Some(0));
    assert_eq!((&bin.stdout[..4], &bin.stdout[bin.stdout.len() - 4..]), (&b"PAR1"[..], &b"PAR1"[..]));
    let err = String::from_utf8(bin.stderr).unwrap();
    assert!(err.starts_with(&format!("exported 18 events to - ({} bytes) in ", bin.stdout.len())), "{err}");
    let (code, _, err) = auditmesh(&["export", "--data", data.to_str().unwrap(), "colour=red", "--output", out.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.starts_with("auditmesh: bad filter \"colour=red\""), "{err}");
}
