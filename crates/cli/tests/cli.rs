//! Runs the built `auditmesh` binary on small inputs and checks its exact output, its stderr
//! summary and its exit codes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_auditmesh");

/// A fresh scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-tests").join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn write(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write input");
    path
}

fn run(dir: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run auditmesh");
    child.stdin.take().expect("stdin").write_all(stdin).expect("write stdin");
    child.wait_with_output().expect("wait for auditmesh")
}

fn stdout_lines(output: &Output) -> Vec<String> {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output").lines().map(str::to_string).collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The `--stats` JSON object from stderr, with the timing fields removed.
fn stats(output: &Output) -> serde_json::Value {
    let text = stderr(output);
    let line = text.lines().rev().find(|l| l.starts_with('{')).unwrap_or_else(|| panic!("no stats in stderr: {text}"));
    let mut value: serde_json::Value = serde_json::from_str(line).expect("stats are JSON");
    let object = value.as_object_mut().expect("stats are an object");
    assert!(object.remove("elapsed_s").is_some_and(|v| v.is_number()));
    assert!(object.remove("records_per_sec").is_some_and(|v| v.is_number()));
    value
}

const USER_ACCT: &[u8] = b"node=web-01 type=USER_ACCT msg=audit(1795242170.100:500): pid=3 uid=0 auid=4242 ses=6 msg='op=PAM:accounting grantors=pam_permit acct=\"root\" exe=\"/usr/bin/su\" hostname=? addr=? terminal=pts/0 res=success'\x1dUID=\"root\" AUID=\"unknown(4242)\"\n";
const EXEC_HEAD: &[u8] = b"type=SYSCALL msg=audit(1700000000.123:10): arch=c000003e syscall=59 success=yes exit=0 items=0 ppid=1 pid=2 uid=1000 comm=\"true\" exe=\"/usr/bin/true\" key=(null)\n\
type=EXECVE msg=audit(1700000000.123:10): argc=1 a0=\"true\"\n";
const EXEC_TAIL: &[u8] = b"type=PROCTITLE msg=audit(1700000000.123:10): proctitle=74727565\n";

const USER_ACCT_JSON: &str = r#"{"node":"web-01","time":"2026-11-21T06:22:50.100Z","serial":500,"completion":"standalone","partial":false,"records":[{"type":"USER_ACCT","fields":{"pid":3,"uid":0,"auid":4242,"ses":6,"msg":{"op":"PAM:accounting","grantors":"pam_permit","acct":"root","exe":"/usr/bin/su","hostname":"?","addr":"?","terminal":"pts/0","res":"success"}},"enriched":{"UID":"root","AUID":"unknown(4242)"}}]}"#;
const EXEC_JSON: &str = concat!(
    r#"{"time":"2023-11-14T22:13:20.123Z","serial":10,"completion":"proctitle","partial":false,"records":["#,
    r#"{"type":"SYSCALL","fields":{"arch":"c000003e","syscall":59,"success":"yes","exit":0,"items":0,"ppid":1,"pid":2,"uid":1000,"comm":"true","exe":"/usr/bin/true","key":null}},"#,
    r#"{"type":"EXECVE","fields":{"argc":1},"argv":["true"]},{"type":"PROCTITLE","fields":{"proctitle":"true"}}],"#,
    r#""summary":{"arch":"x86_64","syscall":"execve","success":true,"exit":0,"pid":2,"ppid":1,"uid":{"id":1000},"comm":"true","exe":"/usr/bin/true","proctitle":["true"],"argv":["true"]}}"#,
);

#[test]
fn events_and_diagnostics_in_one_stream() {
    let dir = scratch("events_and_diagnostics_in_one_stream");
    let input = [USER_ACCT, b"garbage \xff line\n", EXEC_HEAD, b"\n", EXEC_TAIL].concat();
    write(&dir, "audit.log", &input);
    let output = run(&dir, &["parse", "--stats", "audit.log"], b"");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout_lines(&output),
        // A user-space message is held for one more record (the kernel may add the records of
        // the syscall that sent it), so the diagnostic of line 2 comes out first.
        [
            r#"{"diagnostic":"no_record_type","source":"audit.log","line":2,"raw":"garbage %FF line"}"#,
            USER_ACCT_JSON,
            EXEC_JSON,
        ]
    );
    assert!(
        stderr(&output).starts_with("auditmesh parse: 6 lines (536 bytes) from 1 input(s) in "),
        "{}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains(
            "4 records in 2 events (0 partial; completed by eoe 0, standalone 1, proctitle 1, timeout 0, evicted 0, end_of_input 0); \
             0 duplicate records, 0 late records, 0 evicted events; 0 serial gaps (0 missing serials), 0 serial resets; \
             diagnostics: empty_line 1, no_record_type 1.\n"
        ),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        stats(&output),
        serde_json::json!({
            "inputs": 1, "unreadable_inputs": 0, "lines": 6, "bytes": 536, "records": 4, "events": 2, "partial_events": 0,
            "completion": {"eoe": 0, "standalone": 1, "proctitle": 1, "timeout": 0, "evicted": 0, "end_of_input": 0},
            "duplicate_records": 0, "late_records": 0, "evicted_events": 0, "serial_gaps": 0, "missing_serials": 0,
            "serial_resets": 0, "diagnostics": {"empty_line": 1, "no_record_type": 1}
        })
    );
}

#[test]
fn stdin_with_dash_and_without_arguments() {
    let dir = scratch("stdin_with_dash_and_without_arguments");
    for args in [&["parse", "-q", "-"][..], &["parse", "-q"][..]] {
        let output = run(&dir, args, USER_ACCT);
        assert_eq!(output.status.code(), Some(0));
        assert_eq!(stdout_lines(&output), [USER_ACCT_JSON]);
        assert_eq!(stderr(&output), "");
    }
    let output = run(&dir, &["parse", "-q"], b"junk\n");
    assert_eq!(stdout_lines(&output), [r#"{"diagnostic":"no_record_type","source":"<stdin>","line":1,"raw":"junk"}"#]);
}

#[test]
fn missing_file_fails_but_the_others_are_processed() {
    let dir = scratch("missing_file_fails_but_the_others_are_processed");
    write(&dir, "a.log", USER_ACCT);
    write(&dir, "b.log", &[EXEC_HEAD, EXEC_TAIL].concat());
    let output = run(&dir, &["parse", "--stats", "--quiet", "a.log", "missing.log", "b.log"], b"");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout_lines(&output), [USER_ACCT_JSON, EXEC_JSON]);
    let text = stderr(&output);
    assert!(text.starts_with("auditmesh: cannot read missing.log: No such file or directory"), "{text}");
    assert_eq!(text.lines().filter(|l| l.contains("missing.log")).count(), 1, "reported once: {text}");
    assert_eq!(stats(&output)["unreadable_inputs"], 2 - 1);
    assert_eq!(stats(&output)["inputs"], 3);
}

#[test]
fn an_event_split_across_rotated_files_comes_out_whole() {
    let dir = scratch("an_event_split_across_rotated_files_comes_out_whole");
    write(&dir, "audit.log.1", EXEC_HEAD);
    write(&dir, "audit.log", EXEC_TAIL);
    let output = run(&dir, &["parse", "-q", "audit.log.1", "audit.log"], b"");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stdout_lines(&output), [EXEC_JSON]);
}

#[test]
fn diagnostics_file_and_truncated_lines() {
    let dir = scratch("diagnostics_file_and_truncated_lines");
    let long = [b"type=USER_CMD msg=audit(1.000:1): pid=1 msg='cmd=".as_slice(), &[b'x'; 100], b" res=success'\n"].concat();
    write(&dir, "audit.log", &[long.as_slice(), b"junk\n", USER_ACCT].concat());
    let output = run(&dir, &["parse", "-q", "--stats", "--max-line-bytes", "300", "--diagnostics", "diag.ndjson", "audit.log"], b"");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout_lines(&output),
        [
            format!(r#"{{"time":"1970-01-01T00:00:01.000Z","serial":1,"completion":"standalone","partial":false,"records":[{{"type":"USER_CMD","fields":{{"pid":1,"msg":{{"cmd":"{}","res":"success"}}}}}}]}}"#, "x".repeat(100)).as_str(),
            USER_ACCT_JSON
        ]
    );
    let diagnostics = std::fs::read_to_string(dir.join("diag.ndjson")).expect("diagnostics file");
    assert_eq!(diagnostics, "{\"diagnostic\":\"no_record_type\",\"source\":\"audit.log\",\"line\":2,\"raw\":\"junk\"}\n");

    let output = run(&dir, &["parse", "-q", "--max-line-bytes", "40", "audit.log"], b"");
    assert_eq!(output.status.code(), Some(0));
    let lines = stdout_lines(&output);
    assert_eq!(lines[0], r#"{"diagnostic":"truncated","source":"audit.log","line":1,"raw":"type=USER_CMD msg=audit(1.000:1): pid=1 "}"#);
    assert_eq!(lines[1], r#"{"diagnostic":"no_record_type","source":"audit.log","line":2,"raw":"junk"}"#);
    // The next line was not long; it is a diagnostic here only because it is over 40 bytes too.
    assert!(lines[2].starts_with(r#"{"diagnostic":"truncated","source":"audit.log","line":3,"raw":"node=web-01 type=USER_ACCT msg=audit(179"}"#));
}

#[test]
fn raw_ecs_and_resolved_ids() {
    let dir = scratch("raw_ecs_and_resolved_ids");
    write(&dir, "audit.log", &[EXEC_HEAD, EXEC_TAIL].concat());
    write(&dir, "passwd", b"root:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n");
    write(&dir, "group", b"root:x:0:\n");
    let output = run(
        &dir,
        &["parse", "-q", "--resolve-ids", "--passwd-file", "passwd", "--group-file", "group", "--format", "ecs", "--raw", "audit.log"],
        b"",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines = stdout_lines(&output);
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with(concat!(
            r#"{"@timestamp":"2023-11-14T22:13:20.123Z","ecs":{"version":"8.11.0"},"#,
            r#""event":{"kind":"event","module":"auditd","category":["process"],"type":["start"],"action":"execve","outcome":"success","sequence":10},"#,
            r#""process":{"pid":2,"parent":{"pid":1},"executable":"/usr/bin/true","name":"true","args":["true"],"args_count":1,"title":"true"},"#,
            r#""user":{"id":"1000","name":"bob"},"#,
            r#""auditd":{"completion":"proctitle","partial":false,"records":[{"type":"SYSCALL","fields":{"#,
        )),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(r#"{"type":"EXECVE","fields":{"argc":1},"argv":["true"],"raw":["type=EXECVE msg=audit(1700000000.123:10): argc=1 a0=\"true\""]}"#));
    assert!(lines[0].ends_with(r#""uid":{"id":1000,"name":"bob"},"comm":"true","exe":"/usr/bin/true","proctitle":["true"],"argv":["true"]}}}"#));

    let output = run(&dir, &["parse", "--resolve-ids", "--passwd-file", "nope", "audit.log"], b"");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).starts_with("auditmesh: cannot read nope: No such file or directory"), "{}", stderr(&output));
}

#[test]
fn usage_errors_exit_2() {
    let dir = scratch("usage_errors_exit_2");
    for args in [&["parse", "--format", "xml"][..], &["parse", "--no-such-flag"], &["frobnicate"], &["parse", "--max-line-bytes", "0"], &["parse", "--threads", "0"]] {
        let output = run(&dir, args, b"");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
    let output = run(&dir, &["parse", "--help"], b"");
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("rotated logs oldest first"));
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    let dir = scratch("a_closed_pipe_ends_the_run_quietly");
    let mut input = Vec::new();
    for serial in 1..=20_000u32 {
        input.extend_from_slice(format!("type=USER_CMD msg=audit(1.000:{serial}): pid=1 uid=0 msg='cmd=6C73 res=success'\n").as_bytes());
    }
    write(&dir, "audit.log", &input);
    let mut child = Command::new(BIN)
        .args(["parse", "audit.log"])
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run auditmesh");
    let mut first = [0u8; 100];
    child.stdout.as_mut().expect("stdout").read_exact(&mut first).expect("some output");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(stderr(&output), "");
}

/// The real 18,000-record kernel captures beside the repository, when present.
#[test]
fn shared_corpus_parses_without_diagnostics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for name in ["benign-enriched", "benign-raw"] {
        let log = format!("../shared/corpus/kernel/{name}/audit.log");
        if !root.join(&log).is_file() {
            eprintln!("skipping: {log} not found");
            continue;
        }
        let output = run(&root, &["parse", "--quiet", "--stats", &log], b"");
        assert_eq!(output.status.code(), Some(0));
        let stats = stats(&output);
        assert_eq!(stats["diagnostics"], serde_json::json!({}), "{name}");
        assert_eq!(stats["records"], stats["lines"], "{name}");
        let lines = stdout_lines(&output);
        assert_eq!(serde_json::json!(lines.len()), stats["events"]);
        for line in &lines {
            let event: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(event["records"].is_array());
        }
    }
}

/// Many events with, in between, lines that are not records, empty lines, damaged values and
/// overlong lines (over 2,000 bytes): enough output for dozens of batches.
fn generated_log(events: u32) -> Vec<u8> {
    let mut log = Vec::new();
    for serial in 1..=events {
        let header = format!("msg=audit(1700000000.{:03}:{serial})", serial % 1000);
        log.extend_from_slice(
            format!("type=SYSCALL {header}: arch=c000003e syscall=59 success=yes exit=0 items=1 ppid=1 pid={serial} uid=1000 comm=\"true\" exe=\"/usr/bin/true\" key=(null)\n")
                .as_bytes(),
        );
        log.extend_from_slice(format!("type=EXECVE {header}: argc=2 a0=\"true\" a1=\"{serial}\"\n").as_bytes());
        if serial % 5 == 0 {
            log.extend_from_slice(format!("type=PATH {header}: item=0 name=ABC nametype=NORMAL\n").as_bytes());
        }
        if serial % 7 == 0 {
            log.extend_from_slice(format!("garbage line {serial} ").as_bytes());
            log.extend_from_slice(b"\xff\n");
        }
        if serial % 11 == 0 {
            log.push(b'\n');
        }
        if serial % 13 == 0 {
            log.extend_from_slice(format!("node=web-{} type=USER_CMD msg=audit(1700000001.000:{}): pid=1 uid=0 comm=\"unterminated\n", serial % 3, serial + 1_000_000).as_bytes());
        }
        if serial % 101 == 0 {
            log.extend_from_slice(format!("type=USER_CMD {header}: msg='cmd={}'\n", "x".repeat(3000)).as_bytes());
        }
        log.extend_from_slice(format!("type=PROCTITLE {header}: proctitle=74727565\n").as_bytes());
    }
    log
}

#[test]
fn render_threads_do_not_change_the_output() {
    let dir = scratch("render_threads_do_not_change_the_output");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root");
    let mut logs = vec![write(&dir, "generated.log", &generated_log(10_000))];
    let mut folders = vec![root.join("fixtures")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("fixtures folder") {
            let path = entry.expect("fixtures entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "log") {
                logs.push(path);
            }
        }
    }
    logs.sort();
    assert!(logs.len() > 10, "{logs:?}");
    let logs: Vec<&str> = logs.iter().map(|p| p.to_str().expect("UTF-8 path")).collect();

    for options in [&["--format", "native"][..], &["--format", "ecs", "--raw"], &["--diagnostics", "diagnostics.ndjson"]] {
        let mut runs = Vec::new();
        for threads in ["1", "4"] {
            let args = [&["parse", "--quiet", "--stats", "--max-line-bytes", "2000", "--threads", threads][..], options, &logs].concat();
            let output = run(&dir, &args, b"");
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            let diagnostics = std::fs::read(dir.join("diagnostics.ndjson")).unwrap_or_default();
            let _ = std::fs::remove_file(dir.join("diagnostics.ndjson"));
            runs.push((threads, stats(&output), output.stdout, diagnostics));
        }
        let (_, stats, stdout, diagnostics) = &runs[0];
        assert!(stdout.iter().filter(|&&b| b == b'\n').count() > 10_000, "{options:?}: many batches");
        for kind in ["bad_hex", "unterminated_quote", "no_record_type", "truncated", "empty_line"] {
            assert!(stats["diagnostics"][kind].as_u64().is_some_and(|n| n > 0), "{options:?}: {kind} in {stats}");
        }
        if options.contains(&"--diagnostics") {
            assert!(diagnostics.len() > 100_000, "{options:?}: diagnostics in their file");
        }
        for (threads, other_stats, other_stdout, other_diagnostics) in &runs[1..] {
            assert_eq!(other_stats, stats, "{options:?}: --stats with --threads {threads}");
            assert!(other_stdout == stdout, "{options:?}: stdout differs with --threads {threads}");
            assert!(other_diagnostics == diagnostics, "{options:?}: diagnostics differ with --threads {threads}");
        }
    }
}
