//! `auditmesh agent` end to end, without the kernel: the file source under rotation and `kill -9`
//! (every event exactly once), damaged input, go-audit lines, configuration errors.
//!
//! The kernel sources (netlink own and coexist, plugin under auditd) are in `agent_kernel.rs`.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_auditmesh");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auditmesh-agent-test-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// The lines of one kernel exec event (ENRICHED, as auditd writes them), with `serial` and a
/// time derived from it.
fn exec_event(serial: u64) -> String {
    let t = format!("{}.{:03}:{serial}", 1_795_246_000 + serial / 1000, serial % 1000);
    format!(
        "type=SYSCALL msg=audit({t}): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=100 pid={pid} auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm=\"true\" exe=\"/usr/bin/true\" key=\"t\"\x1dARCH=x86_64 SYSCALL=execve AUID=\"alice\" UID=\"alice\" GID=\"alice\" EUID=\"alice\" SUID=\"alice\" FSUID=\"alice\" EGID=\"alice\" SGID=\"alice\" FSGID=\"alice\"\n\
type=EXECVE msg=audit({t}): argc=2 a0=\"true\" a1=\"{serial}\"\n\
type=CWD msg=audit({t}): cwd=\"/home/alice\"\n\
type=PATH msg=audit({t}): item=0 name=\"/usr/bin/true\" inode=1234 dev=fe:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\x1dOUID=\"root\" OGID=\"root\"\n\
type=PATH msg=audit({t}): item=1 name=\"/lib64/ld-linux-x86-64.so.2\" inode=99 dev=fe:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\x1dOUID=\"root\" OGID=\"root\"\n\
type=PROCTITLE msg=audit({t}): proctitle=7472756500{hex}\n",
        pid = 20_000 + serial % 10_000,
        hex = serial.to_string().bytes().map(|b| format!("{b:02X}")).collect::<String>(),
    )
}

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new().create(true).append(true).open(path).expect("open log");
    f.write_all(text.as_bytes()).expect("append");
}

/// A running agent, killed when dropped (a failing test leaves none behind).
struct Agent(Option<Child>);

impl Agent {
    fn kill_9(&mut self) {
        let mut child = self.0.take().expect("running");
        child.kill().expect("kill -9");
        child.wait().expect("reap");
    }

    fn terminate(&mut self) {
        let child = self.0.take().expect("running");
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let status = child.wait_with_output().expect("wait for the agent").status;
        assert!(status.success(), "agent failed: {status}");
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts the agent; its log goes to `log`.
fn agent(args: &[&str], log: &Path) -> Agent {
    Agent(Some(Command::new(BIN)
        .arg("agent")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(log).expect("agent log"))
        .spawn()
        .expect("start the agent")))
}

/// The complete JSON lines of the output (the agent may be writing the last one).
fn lines(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// How many times each serial was written.
fn serial_counts(path: &Path) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for v in lines(path) {
        if let Some(s) = v.get("serial").and_then(Value::as_u64) {
            *counts.entry(s).or_default() += 1;
        }
    }
    counts
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn file_source_survives_rotation_and_kill_9_with_every_event_once() {
    let dir = temp_dir("kill9");
    let log = dir.join("audit.log");
    let out = dir.join("events.json");
    let state = dir.join("state");
    let args = [
        "--source",
        &format!("file:{}", log.display()),
        "--output",
        out.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
    ];
    let args: Vec<&str> = args.iter().map(|s| s.as_ref()).collect();
    let total: u64 = 3000;
    let next = std::cell::Cell::new(1u64);
    let write = |n: u64| {
        let mut text = String::new();
        for _ in 0..n {
            text.push_str(&exec_event(next.get()));
            next.set(next.get() + 1);
        }
        append(&log, &text);
    };

    write(400);
    let child = agent(&args, &dir.join("agent-1.log"));
    wait_for("the first events", Duration::from_secs(20), || serial_counts(&out).len() >= 300);
    // Rotation by rename, as auditd's ROTATE does, while the agent runs.
    write(200);
    fs::rename(&log, dir.join("audit.log.1")).expect("rotate");
    write(300);
    // Killed mid-stream: no chance to checkpoint or flush.
    write(300);
    std::thread::sleep(Duration::from_millis(300));
    let mut child = child;
    child.kill_9();
    write(500);

    let mut child = agent(&args, &dir.join("agent-2.log"));
    write(300);
    wait_for("the events after the restart", Duration::from_secs(20), || {
        serial_counts(&out).keys().next_back().copied() >= Some(next.get() - 2)
    });
    // Rotation by truncation (copytruncate) once the agent has read everything.
    fs::copy(&log, dir.join("audit.log.2")).expect("copy");
    OpenOptions::new().write(true).open(&log).unwrap().set_len(0).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let remaining = total - (next.get() - 1);
    write(remaining);
    wait_for("every event", Duration::from_secs(30), || serial_counts(&out).len() as u64 == total);
    std::thread::sleep(Duration::from_millis(2500));
    child.terminate();

    let counts = serial_counts(&out);
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n != 1).collect();
    assert_eq!(twice, Vec::<(&u64, &usize)>::new(), "serials written more than once");
    assert_eq!(counts.len() as u64, total);
    assert_eq!(counts.keys().copied().collect::<Vec<_>>(), (1..=total).collect::<Vec<_>>());
    // Every event whole: the kill did not leave a partial one behind.
    let partial = lines(&out).iter().filter(|v| v["partial"] == Value::Bool(true)).count();
    assert_eq!(partial, 0);
    let _ = fs::remove_dir_all(&dir);
}

/// Runs the agent with `source` reading `input` on standard input to its end; returns the
/// `--stats` object.
fn run_on_stdin(source: &str, input: &Path, out: &Path, dir: &Path) -> Value {
    let output = Command::new(BIN)
        .args(["agent", "--quiet", "--stats", "--source", source, "--output"])
        .arg(out)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .stdin(File::open(input).unwrap())
        .output()
        .expect("run the agent");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    serde_json::from_str(stderr.lines().last().expect("the stats line")).expect("stats JSON")
}

#[test]
fn damaged_input_is_kept_as_diagnostics_and_the_stream_goes_on() {
    let dir = temp_dir("damaged");
    let log = dir.join("audit.log");
    let out = dir.join("events.json");
    let mut text = exec_event(1);
    text.push_str("\u{1}\u{2}garbage \u{7f}not a record\n");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"\xff\xfe\x00binary\n");
    bytes.extend_from_slice(format!("type=SYSCALL msg=audit(1795246000.002:2): {}\n", "a".repeat(10 << 20)).as_bytes());
    bytes.extend_from_slice(exec_event(3).as_bytes());
    // A torn last line: the rest never comes (file source: it waits; plugin: input ends).
    bytes.extend_from_slice(b"type=SYSCALL msg=audit(1795246000.004:4): arch=c000003e sysc");
    fs::write(&log, &bytes).unwrap();

    // The plugin source reads standard input: here it ends, so the torn line is final.
    let stats = run_on_stdin("plugin", &log, &out, &dir);
    let values = lines(&out);
    let events: Vec<String> = values
        .iter()
        .filter(|v| v.get("diagnostic").is_none())
        .map(|v| format!("event {} {}", v["serial"], v["summary"]["syscall"].as_str().unwrap_or("-")))
        .collect();
    assert_eq!(events, ["event 1 execve", "event 3 execve"]);
    // Diagnostics are written as their lines are read, events when they are complete.
    let diagnostics: Vec<(String, usize)> = values
        .iter()
        .filter_map(|v| Some((v.get("diagnostic")?.as_str()?.to_string(), v["raw"].as_str()?.len())))
        .collect();
    let mut expected = vec![("no_record_type".to_string(), 23), ("no_record_type".to_string(), 13)];
    expected.extend(std::iter::repeat(("line_too_long".to_string(), 1 << 20)).take(10));
    expected.push(("line_too_long".to_string(), "type=SYSCALL msg=audit(1795246000.002:2): ".len()));
    expected.push(("truncated".to_string(), 60));
    assert_eq!(diagnostics, expected);
    // The raw bytes are all there: the 10 MB line's pieces add up to it.
    let long: usize = diagnostics.iter().filter(|(k, _)| k == "line_too_long").map(|(_, n)| n).sum();
    assert_eq!(long, "type=SYSCALL msg=audit(1795246000.002:2): ".len() + (10 << 20));
    assert_eq!(stats["events_written"], 2);
    assert_eq!(stats["diagnostics"], serde_json::json!({"line_too_long": 11, "no_record_type": 2, "truncated": 1}));
    assert_eq!(stats["records"], 12, "the six records of events 1 and 3, none of the damage");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn go_audit_lines_become_events() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/public/rhonnava_auditNG/go-audit-container.syslog");
    let mut input = fs::read(&corpus).unwrap_or_else(|e| panic!("the shared corpus file {} is missing: {e}", corpus.display()));
    input.extend_from_slice(b"{\"sequence\": \"not a number\"}\n");
    let dir = temp_dir("goaudit");
    let log = dir.join("go-audit.log");
    fs::write(&log, &input).unwrap();
    let out = dir.join("events.json");
    run_on_stdin("go-audit:-", &log, &out, &dir);
    let got: Vec<String> = lines(&out)
        .iter()
        .map(|v| match v.get("diagnostic") {
            Some(kind) => format!("diagnostic {} {}", kind.as_str().unwrap(), v["detail"].as_str().unwrap()),
            None => format!(
                "{} {} {} {}",
                v["serial"],
                v["summary"]["syscall"].as_str().unwrap_or("-"),
                v["summary"]["exe"].as_str().unwrap_or("-"),
                v["records"].as_array().unwrap().len()
            ),
        })
        .collect();
    insta::assert_debug_snapshot!(got);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn configuration_errors_name_the_key() {
    let dir = temp_dir("config");
    let cases = [
        ("source:\n  kind: file\n", "source.path: required when source.kind is file"),
        ("source:\n  kind: netlink\n  pathh: /x\n", "pathh"),
        ("filters:\n  rules:\n    - keep uid=0\n    - drop colour=blue\n", "filters.rules[1]"),
        ("metrics:\n  listen: localhost\n", "metrics.listen: \"localhost\" is not an address with a port"),
        ("source:\n  kind: plugin\nkernel:\n  backlog_wait_time: 0\n", "kernel.backlog_wait_time: only the netlink source"),
        ("output:\n  format: xml\n", "xml"),
    ];
    for (i, (yaml, expected)) in cases.iter().enumerate() {
        let path = dir.join(format!("agent-{i}.yaml"));
        fs::write(&path, yaml).unwrap();
        let output = Command::new(BIN).args(["agent", "--config"]).arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_ne!(output.status.code(), Some(0), "{yaml}");
        assert!(stderr.contains(expected), "config {yaml:?}: expected {expected:?} in {stderr:?}");
    }
    let output = Command::new(BIN).args(["agent", "--source", "file"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--source: source file needs a path: file:PATH"));
    let _ = fs::remove_dir_all(&dir);
}
