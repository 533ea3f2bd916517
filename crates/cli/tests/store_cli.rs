//! `auditmesh ingest`, `search`, `trace` and `tree` on a store made from a log captured from the
//! real kernel (`fixtures/kernel/provenance-enriched`): the outputs as insta snapshots.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_auditmesh");
const LOG: &str = "fixtures/kernel/provenance-enriched/audit.log";

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// Runs auditmesh from the repository root; returns (exit code, stdout, stderr without timings).
fn run(args: &[&str], data: &Path) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .arg("--data")
        .arg(data)
        .current_dir(root())
        .output()
        .expect("run auditmesh");
    let stderr = String::from_utf8(out.stderr)
        .expect("UTF-8")
        .lines()
        .filter(|l| !l.contains("events/s"))
        .map(|l| format!("{l}\n"))
        .collect();
    (
        out.status.code().expect("exit code"),
        String::from_utf8(out.stdout).expect("UTF-8"),
        stderr,
    )
}

fn store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&["ingest", LOG], dir.path());
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    dir
}

/// A store that keeps the record lines after the graph has the events.
fn store_keeping_lines() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&["ingest", "--keep-lines", LOG], dir.path());
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    dir
}

#[test]
fn ingest_twice_stores_once() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, first) = run(&["ingest", LOG], dir.path());
    assert_eq!(code, 0);
    let (code, _, second) = run(&["ingest", LOG], dir.path());
    assert_eq!(code, 0);
    insta::assert_snapshot!("ingest_twice", format!("{first}---\n{second}"));
}

#[test]
fn search_outputs() {
    let dir = store();
    let d = dir.path();
    let mut snap = String::new();
    for args in [
        &["search", "exe=/usr/bin/curl", "and", "syscall=connect"][..],
        &[
            "search",
            "path^=/srv/amwork/wl/dl/",
            "and",
            "not",
            "syscall=openat",
        ],
        &["search", "argv~payload", "--count"],
        &["search", "success=no", "--count-by", "syscall,exit"],
        &["search", "--count-by", "exe", "--top", "5"],
        &["search", "--histogram", "1s"],
        &[
            "search",
            "--since",
            "2026-11-21T09:27:41Z",
            "--until",
            "2026-11-21T09:27:44Z",
            "--count",
        ],
    ] {
        let (code, out, err) = run(args, d);
        snap.push_str(&format!("$ {}\n[{code}] {err}{out}\n", args.join(" ")));
    }
    insta::assert_snapshot!("search_outputs", snap);
}

#[test]
fn search_json_is_what_parse_writes() {
    let dir = store_keeping_lines();
    let (code, out, _) = run(
        &["search", "--json", "syscall=execve", "exe=/usr/bin/curl"],
        dir.path(),
    );
    assert_eq!(code, 0);
    let parsed = Command::new(BIN)
        .args(["parse", "--quiet", LOG])
        .current_dir(root())
        .output()
        .unwrap();
    let all = String::from_utf8(parsed.stdout).unwrap();
    let expected: Vec<&str> = all
        .lines()
        .filter(|l| l.contains("\"syscall\":\"execve\"") && l.contains("\"exe\":\"/usr/bin/curl\""))
        .collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
    assert_eq!(expected.len(), 1);
    insta::assert_snapshot!("search_json_curl_execve", out);
}

/// Runs a Python script of `tests/python`; fails (never skips) when Python or a module it
/// imports is missing: `scripts/test.sh` installs them.
fn python(script: &str, args: &[&Path]) -> serde_json::Value {
    let path = root().join("crates/cli/tests/python").join(script);
    let out = Command::new("python3")
        .arg(&path)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 (scripts/test.sh installs it): {e}"));
    assert!(out.status.success(), "{script} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}

#[test]
fn trace_back_from_the_second_file_in_every_format() {
    let dir = store();
    let d = dir.path();
    let (code, text, err) = run(
        &[
            "trace",
            "back",
            "/srv/amwork/wl/dl/second.txt",
            "--depth",
            "3",
        ],
        d,
    );
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("trace_back_second_depth3", text);

    // the whole backward trace: its processes
    let (code, json, _) = run(&["trace", "back", "/srv/amwork/wl/dl/second.txt", "--format", "json"], d);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["incomplete"], false);
    let execs: Vec<String> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "process")
        .map(|n| n["label"].as_str().unwrap().to_string())
        .collect();
    insta::assert_debug_snapshot!("trace_back_second_processes", execs);

    // three edges deep (31 entities, 43 edges) in every format, each checked against the JSON
    let trace = ["trace", "back", "/srv/amwork/wl/dl/second.txt", "--depth", "3"];
    let with = |format: &'static str| [&trace[..], &["--format", format]].concat();
    let (code, json, _) = run(&with("json"), d);
    assert_eq!(code, 0);
    insta::assert_snapshot!("trace_back_second_json", json);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!((v["incomplete"].clone(), v["truncated"].clone()), (false.into(), true.into()));
    let nodes = v["nodes"].as_array().unwrap();
    let edges = v["edges"].as_array().unwrap();
    assert_eq!((nodes.len(), edges.len()), (31, 43));

    let (code, dot, _) = run(&with("dot"), d);
    assert_eq!(code, 0);
    insta::assert_snapshot!("trace_back_second_dot", dot);
    assert_eq!(dot.matches(" -> ").count(), edges.len());

    let (code, svg, _) = run(&with("svg"), d);
    assert_eq!(code, 0);
    insta::assert_snapshot!("trace_back_second_svg", svg);
    let doc = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
    let class = |c: &str| {
        doc.descendants()
            .filter(|n| n.has_tag_name("g") && n.attribute("class").is_some_and(|a| a.split(' ').next() == Some(c)))
            .count()
    };
    assert_eq!((class("node"), class("edge")), (nodes.len(), edges.len()));
    let svg_ids: Vec<String> = doc
        .descendants()
        .filter(|n| n.attribute("class").is_some_and(|a| a.starts_with("node ")))
        .map(|n| n.attribute("id").unwrap().to_string())
        .collect();
    let json_ids: Vec<String> = nodes.iter().map(|n| format!("n{}", n["id"])).collect();
    assert_eq!(svg_ids, json_ids);

    let (code, graphml, _) = run(&with("graphml"), d);
    assert_eq!(code, 0);
    insta::assert_snapshot!("trace_back_second_graphml", graphml);
    let out = tempfile::tempdir().unwrap();
    let graphml_file = out.path().join("trace.graphml");
    std::fs::write(&graphml_file, &graphml).unwrap();
    let neo4j = out.path().join("neo4j");
    let (code, stdout, err) = run(&[&with("neo4j-csv")[..], &["--output", neo4j.to_str().unwrap()]].concat(), d);
    assert_eq!((code, stdout.as_str(), err.as_str()), (0, "", ""));
    let mut files = String::new();
    for (name, _) in render::graph::NEO4J_FILES {
        files.push_str(&format!("--- {name}\n{}", std::fs::read_to_string(neo4j.join(name)).unwrap()));
    }
    insta::assert_snapshot!("trace_back_second_neo4j", files);

    // What networkx and Python's csv read is what the JSON says.
    let read = python("graph_formats.py", &[&graphml_file, &neo4j]);
    assert_eq!(
        read["graph"],
        serde_json::json!({"answer": "trace_back", "incomplete": false, "start": format!("n{}", v["start"]), "truncated": true})
    );
    assert_eq!(read["nodes"].as_object().unwrap().len(), nodes.len());
    for n in nodes {
        let got = &read["nodes"][format!("n{}", n["id"])];
        for key in [
            "kind", "label", "pid", "ppid", "uid", "euid", "auid", "exe", "comm", "path", "inode", "family", "addr",
            "port", "version", "depth", "created",
        ] {
            assert_eq!(got[key], n[key], "node {} {key}", n["id"]);
        }
        if let Some(argv) = n["argv"].as_array() {
            // JSON already applies the %XX rule; GraphML also escapes control bytes and the
            // separator
            let graphml_text =
                |s: &str| -> String {
                    s.chars()
                        .map(|c| {
                            if c == ' ' || c.is_ascii_control() {
                                format!("%{:02X}", c as u32)
                            } else {
                                c.to_string()
                            }
                        })
                        .collect()
                };
            let joined: Vec<String> = argv.iter().map(|a| graphml_text(a.as_str().unwrap())).collect();
            assert_eq!(got["argv"], joined.join(" "), "node {} argv", n["id"]);
        }
    }
    let mut expected: Vec<serde_json::Value> = edges
        .iter()
        .map(|e| {
            serde_json::json!([format!("n{}", e["from"]), format!("n{}", e["to"]), e["op"], e["count"], e["bytes"]])
        })
        .collect();
    expected.sort_by_key(|e| e.to_string());
    let mut got: Vec<serde_json::Value> = read["edges"].as_array().unwrap().clone();
    got.sort_by_key(|e| e.to_string());
    assert_eq!(got, expected);
    assert_eq!(read["types"]["pid"], "int");
    assert_eq!(read["types"]["partial"], "bool");
    assert_eq!(read["types"]["exe"], "str");
    let csv = &read["csv"];
    let rows = |f: &str| csv[f]["rows"].as_array().unwrap().len();
    let kinds = |k: &str| nodes.iter().filter(|n| n["kind"] == k).count();
    assert_eq!(
        [
            rows("processes.csv"),
            rows("files.csv"),
            rows("sockets.csv"),
            rows("users.csv"),
            rows("modules.csv"),
            rows("relationships.csv")
        ],
        [kinds("process"), kinds("file"), kinds("socket"), kinds("user"), kinds("module"), edges.len()]
    );
    for row in csv["processes.csv"]["rows"].as_array().unwrap() {
        let id: u64 = row["id:ID"].as_str().unwrap().parse().unwrap();
        let n = nodes.iter().find(|n| n["id"] == id).unwrap();
        assert_eq!(row["pid:long"], n["pid"].to_string());
        assert_eq!(row["exe"], n["exe"]);
        assert_eq!(row[":LABEL"], "Process");
    }

    let (code, dot, _) = run(&["trace", "forward", "127.0.0.1:18095", "--format", "dot", "--depth", "2"], d);
    assert_eq!(code, 0);
    insta::assert_snapshot!("trace_forward_socket_dot", dot);
    let (code, _, err) = run(&with("neo4j-csv"), d);
    assert_eq!(
        (code, err.as_str()),
        (1, "auditmesh: --format neo4j-csv writes several files: give the folder with --output DIR\n")
    );
}

#[test]
fn tree_in_every_format() {
    let dir = store();
    let d = dir.path();
    let mut snap = String::new();
    for format in ["json", "dot", "graphml"] {
        let (code, out, err) = run(&["tree", "29261", "--format", format], d);
        assert_eq!(code, 0, "{err}");
        snap.push_str(&format!("--- {format}\n{out}"));
    }
    insta::assert_snapshot!("tree_29261_formats", snap);
    let (code, svg, _) = run(&["tree", "29253", "--format", "svg"], d);
    assert_eq!(code, 0);
    let doc = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
    let (code, json, _) = run(&["tree", "29253", "--format", "json"], d);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let count = |c: &str| {
        doc.descendants().filter(|n| n.attribute("class").is_some_and(|a| a.split(' ').next() == Some(c))).count()
    };
    assert_eq!(
        (count("node"), count("edge")),
        (v["nodes"].as_array().unwrap().len(), v["edges"].as_array().unwrap().len())
    );
}

#[test]
fn tree_of_the_script_and_bad_entities() {
    let dir = store();
    let d = dir.path();
    let (code, text, err) = run(&["tree", "29253"], d);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!("tree_29253", text);
    let (code, json, _) = run(&["tree", "29261", "--format", "json"], d);
    assert_eq!(code, 0);
    insta::assert_snapshot!("tree_29261_json", json);
    let mut errors = String::new();
    for args in [
        &["trace", "back", "/no/such/file"][..],
        &["trace", "back", "pid:1"],
        &["trace", "back", "web-01:999999999"],
        &["trace", "sideways", "/etc/passwd"],
        &["search", "color=red"],
        &["search", "--since", "yesterday"],
    ] {
        let (code, out, err) = run(args, d);
        errors.push_str(&format!("$ {}\n[{code}] {out}{err}\n", args.join(" ")));
    }
    insta::assert_snapshot!("errors", errors);
}

#[test]
fn search_json_prints_the_stored_fields_once_the_lines_are_released() {
    let dir = store();
    // what `ColumnarStore::release_lines` does: the lines files go, the segments stay
    for day in std::fs::read_dir(dir.path().join("segments")).unwrap() {
        for f in std::fs::read_dir(day.unwrap().path()).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|x| x == "lines") {
                std::fs::remove_file(f).unwrap();
            }
        }
    }
    let (code, out, err) = run(
        &[
            "search",
            "exe=/usr/bin/curl",
            "and",
            "syscall=connect",
            "--json",
        ],
        dir.path(),
    );
    assert_eq!((code, err.as_str()), (0, ""));
    for line in out.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("JSON");
    }
    insta::assert_snapshot!("search_json_lines_released", out);
}

/// What the graph answers about the store: traces both ways from a file and a socket, a tree.
fn graph_answers(d: &Path) -> String {
    let mut all = String::new();
    for args in [
        &[
            "trace",
            "back",
            "/srv/amwork/wl/dl/second.txt",
            "--format",
            "json",
        ][..],
        &["trace", "forward", "127.0.0.1:18095", "--format", "json"],
        &["tree", "29253", "--format", "json"],
        &["path", "127.0.0.1:18095", "/srv/amwork/wl/dl/second.txt"],
    ] {
        let (code, out, err) = run(args, d);
        assert_eq!(code, 0, "{args:?}: {err}");
        all.push_str(&out);
    }
    all
}

#[test]
fn kill_9_during_ingest_then_ingest_again_gives_the_graph_of_a_clean_ingest() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("audit.log");
    std::fs::write(&log, conformance::repeated(&std::fs::read(root().join(LOG)).unwrap(), 60, 10, 100_000)).unwrap();
    let log = log.to_str().unwrap();
    // small checkpoints, so that a kill lands between checkpoints and line releases too
    let ingest = [
        "ingest",
        "--quiet",
        "--batch",
        "500",
        "--graph-checkpoint-events",
        "5000",
        log,
    ];
    let clean = tmp.path().join("clean");
    let (code, _, err) = run(&ingest, &clean);
    assert_eq!(code, 0, "{err}");
    let expected = graph_answers(&clean);
    assert!(expected.contains("/srv/amwork/wl/dl/second.txt"));

    for delay_ms in [150, 400, 900] {
        let crashed = tmp.path().join(format!("crashed-{delay_ms}"));
        let mut child = Command::new(BIN)
            .args(ingest)
            .arg("--data")
            .arg(&crashed)
            .current_dir(root())
            .spawn()
            .expect("run auditmesh");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        child.kill().expect("kill -9");
        child.wait().unwrap();
        let (code, _, err) = run(&ingest, &crashed);
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            graph_answers(&crashed),
            expected,
            "killed after {delay_ms} ms"
        );
        assert!(!crashed.join("graph/DIRTY").exists());
    }
}

#[test]
fn a_trace_after_a_crash_catches_the_graph_up_with_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let (code, _, err) = run(&["ingest", LOG], &d);
    assert_eq!(code, 0, "{err}");
    let expected = graph_answers(&d);
    // as if an ingest had died after storing and before its checkpoint: the graph is gone
    // back to nothing while the store holds every event (with their lines)
    let d2 = tmp.path().join("data2");
    let (code, _, err) = run(&["ingest", "--keep-lines", LOG], &d2);
    assert_eq!(code, 0, "{err}");
    std::fs::remove_dir_all(d2.join("graph")).unwrap();
    std::fs::create_dir(d2.join("graph")).unwrap();
    std::fs::write(d2.join("graph/DIRTY"), b"").unwrap();
    let (code, out, err) = run(
        &[
            "trace",
            "back",
            "/srv/amwork/wl/dl/second.txt",
            "--format",
            "json",
        ],
        &d2,
    );
    assert_eq!((code, err.as_str()), (0, "auditmesh: the provenance graph is behind the store (an ingest stopped early): catching up\n"));
    assert!(expected.starts_with(&out));
    assert_eq!(graph_answers(&d2), expected);
}
