//! `auditmesh agent` against the real kernel audit subsystem: own mode over netlink (rules file,
//! `backlog_wait_time` 0, metrics, the registration given back), refusal beside a registered
//! daemon, coexist mode beside a real auditd, and plugin mode under a real auditd dispatcher.
//!
//! They run as root in CI and never skip. Each takes the kernel test lock shared with the
//! netlink crate's kernel tests (one at a time on the machine), uses its own rule key restricted
//! to its own children (`-F ppid=<test pid>`), and restores the audit state it found (settings,
//! registration, rules) in a drop guard. The auditd they start runs from a private configuration
//! directory (never `/etc/audit`) and is stopped before the test ends, also on panic.

#[path = "../../netlink/tests/support/mod.rs"]
mod support;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use netlink::AuditSocket;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_auditmesh");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("auditmesh-agent-kernel-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create temp dir");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o750)).expect("chmod");
    dir
}

fn status() -> netlink::Status {
    AuditSocket::open().expect("open").get_status().expect("AUDIT_GET")
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process killed (SIGTERM, then SIGKILL) when dropped, so a failing test leaves no
/// daemon behind.
struct Daemon {
    child: Option<Child>,
    name: &'static str,
}

impl Daemon {
    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Sends SIGTERM and waits; returns the exit status.
    fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if start.elapsed() > Duration::from_secs(15) {
                let _ = child.kill();
                panic!("{} did not stop within 15 s of SIGTERM", self.name);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.child.is_some() {
            let status = self.stop();
            eprintln!("{} stopped by the guard: {status}", self.name);
        }
    }
}

fn start_agent(args: &[&str], log: &Path) -> Daemon {
    let child = Command::new(BIN)
        .arg("agent")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(log).expect("agent log"))
        .spawn()
        .expect("start the agent");
    Daemon { child: Some(child), name: "auditmesh agent" }
}

/// Complete JSON lines of an output file.
fn events(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_default();
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect()
}

fn with_key<'a>(events: &'a [Value], key: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["summary"]["key"].as_array().is_some_and(|keys| keys.iter().any(|k| k == key)))
        .collect()
}

/// Runs `/bin/echo MARKER` as a child of this process (so `-F ppid=<our pid>` catches it).
fn run_marker(marker: &str) {
    let out = Command::new("/bin/echo").arg(marker).output().expect("run echo");
    assert!(out.status.success());
}

/// The test's rule: execs of `/usr/bin/echo` by this process. Restricted to the echo, because
/// this process also runs auditctl, auditd and the agent while the rule is loaded.
fn rule_line(key: &str) -> String {
    format!("-a always,exit -F arch=b64 -S execve -F ppid={} -F exe=/usr/bin/echo -k {key}", std::process::id())
}

fn kernel_has_key(key: &str) -> bool {
    let out = Command::new("auditctl").arg("-l").output().expect("auditctl -l");
    String::from_utf8_lossy(&out.stdout).contains(key)
}

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect to the metrics endpoint");
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut body = String::new();
    stream.read_to_string(&mut body).unwrap();
    body
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Checks the one event of `marker`'s echo, as the agent wrote it.
fn check_echo_event(event: &Value, marker: &str) {
    assert_eq!(event["summary"]["syscall"], "execve");
    assert_eq!(event["summary"]["success"], true);
    assert_eq!(event["summary"]["exe"], "/usr/bin/echo");
    assert_eq!(event["summary"]["ppid"], std::process::id());
    let execve = event["records"].as_array().unwrap().iter().find(|r| r["type"] == "EXECVE").expect("an EXECVE record");
    assert_eq!(execve["argv"], serde_json::json!(["/bin/echo", marker]));
}

#[test]
fn own_mode_sees_exactly_the_tests_event_and_gives_everything_back() {
    let _turn = support::begin();
    let saved = support::SavedState::save();
    assert_eq!(saved.before.pid, 0, "another audit daemon is registered; the kernel tests need none");
    let dir = temp_dir("own");
    let key = format!("auditmesh-test-agent-own-{}", std::process::id());
    let rules = dir.join("test.rules");
    fs::write(&rules, format!("# the test's one rule\n{}\n", rule_line(&key))).unwrap();
    let out = dir.join("events.json");
    let addr = format!("127.0.0.1:{}", free_port());
    let config = dir.join("agent.yaml");
    fs::write(
        &config,
        format!(
            "state_dir: {state}\nsource:\n  kind: netlink\nkernel:\n  rules: {rules}\n  remove_rules_on_exit: true\n  backlog_wait_time: 0\n  backlog_limit: 8192\noutput:\n  path: {out}\nmetrics:\n  listen: \"{addr}\"\n",
            state = dir.join("state").display(),
            rules = rules.display(),
            out = out.display(),
        ),
    )
    .unwrap();
    let mut agent = start_agent(&["--config", config.to_str().unwrap()], &dir.join("agent.log"));
    let pid = agent.pid();
    wait_for("the agent to register", Duration::from_secs(15), || status().pid == pid);
    wait_for("the rule to be loaded", Duration::from_secs(5), || kernel_has_key(&key));
    let running = status();
    assert_eq!((running.enabled, running.backlog_wait_time, running.backlog_limit), (1, 0, 8192));

    let marker = format!("auditmesh-marker-own-{}", std::process::id());
    run_marker(&marker);
    wait_for("the event", Duration::from_secs(10), || !with_key(&events(&out), &key).is_empty());
    // Anything the kernel sends later for that key would arrive within the wait above.
    std::thread::sleep(Duration::from_millis(300));
    let all = events(&out);
    let mine = with_key(&all, &key);
    assert_eq!(mine.len(), 1, "exactly the test's one exec: {mine:#?}");
    check_echo_event(mine[0], &marker);
    assert_eq!(mine[0]["completion"], "eoe", "netlink delivers EOE");
    assert_eq!(mine[0]["partial"], false);
    assert_eq!(mine[0]["enrichment"]["parent"]["pid"], std::process::id(), "the parent from the process table");
    let me = fs::read_link("/proc/self/exe").unwrap();
    assert_eq!(mine[0]["enrichment"]["parent"]["exe"], me.to_str().unwrap());

    // The pipeline publishes its counters twice a second: scrape until the event shows.
    let written = |metrics: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("auditmesh_events_written_total "))
            .expect("events_written_total")
            .parse()
            .unwrap()
    };
    let mut metrics = String::new();
    wait_for("the metrics to count the event", Duration::from_secs(5), || {
        metrics = http_get(&addr, "/metrics");
        written(&metrics) >= 1
    });
    assert!(metrics.starts_with("HTTP/1.1 200 OK\r\n"), "{metrics}");
    assert!(metrics.contains(&format!("\nauditmesh_kernel_daemon_pid {pid}\n")), "{metrics}");
    assert!(metrics.contains("\nauditmesh_kernel_backlog_wait_time 0\n"), "{metrics}");
    assert!(metrics.contains("\nauditmesh_netlink_overruns_total 0\n"), "{metrics}");
    assert!(metrics.contains("\n# TYPE auditmesh_kernel_lost_total counter\n"), "{metrics}");
    assert!(http_get(&addr, "/nope").starts_with("HTTP/1.1 404 Not Found\r\n"));

    let exit = agent.stop();
    assert!(exit.success(), "agent exit {exit}: {}", fs::read_to_string(dir.join("agent.log")).unwrap());
    let after = status();
    assert_eq!(after.pid, 0, "the registration is handed back");
    assert_eq!(after.enabled, saved.before.enabled, "auditing as found");
    assert!(!kernel_has_key(&key), "remove_rules_on_exit took the rule out");
    drop(saved);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn own_mode_refuses_a_registered_daemon_and_names_it() {
    let _turn = support::begin();
    let saved = support::SavedState::save();
    let dir = temp_dir("refuse");
    let args = |n: &str| {
        vec![
            "--source".to_string(),
            "netlink".to_string(),
            "--output".to_string(),
            dir.join(format!("events-{n}.json")).display().to_string(),
            "--state-dir".to_string(),
            dir.join(format!("state-{n}")).display().to_string(),
        ]
    };
    let first_args = args("1");
    let mut first = start_agent(&first_args.iter().map(String::as_str).collect::<Vec<_>>(), &dir.join("agent-1.log"));
    let pid = first.pid();
    wait_for("the first agent to register", Duration::from_secs(15), || status().pid == pid);
    let second = Command::new(BIN).arg("agent").args(args("2")).output().expect("run the second agent");
    assert_eq!(second.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains(&format!("another audit daemon (pid {pid}, auditd?) holds the kernel's audit registration")),
        "{stderr}"
    );
    assert_eq!(status().pid, pid, "the refused agent did not take the registration");
    assert!(first.stop().success());
    assert_eq!(status().pid, 0);
    drop(saved);
    let _ = fs::remove_dir_all(&dir);
}

/// Writes a private auditd configuration into `dir` (log in `dir/log`, plugins from
/// `dir/plugins`) and starts `auditd -n -c dir`; waits until it is registered.
fn start_auditd(dir: &Path) -> (Daemon, PathBuf) {
    let log_dir = dir.join("log");
    let plugins = dir.join("plugins");
    for d in [&log_dir, &plugins] {
        fs::create_dir_all(d).unwrap();
        fs::set_permissions(d, fs::Permissions::from_mode(0o750)).unwrap();
    }
    let conf = dir.join("auditd.conf");
    fs::write(
        &conf,
        format!(
            "local_events = yes\nwrite_logs = yes\nlog_file = {log}\nlog_format = ENRICHED\nflush = INCREMENTAL_ASYNC\nfreq = 20\nmax_log_file = 100\nnum_logs = 2\nmax_log_file_action = IGNORE\nname_format = NONE\nspace_left = 10\nspace_left_action = SYSLOG\nadmin_space_left = 5\nadmin_space_left_action = SUSPEND\ndisk_full_action = SUSPEND\ndisk_error_action = SUSPEND\nq_depth = 2000\noverflow_action = SYSLOG\nmax_restarts = 3\nplugin_dir = {plugins}\nend_of_event_timeout = 2\n",
            log = log_dir.join("audit.log").display(),
            plugins = plugins.display(),
        ),
    )
    .unwrap();
    fs::set_permissions(&conf, fs::Permissions::from_mode(0o640)).unwrap();
    let child = Command::new("auditd")
        .arg("-n")
        .arg("-c")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.join("auditd.stderr")).unwrap())
        .spawn()
        .expect("start auditd (installed by scripts/install-test-deps.sh)");
    let daemon = Daemon { child: Some(child), name: "auditd" };
    let pid = daemon.pid();
    wait_for("auditd to register", Duration::from_secs(15), || status().pid == pid);
    (daemon, log_dir.join("audit.log"))
}

/// The serial of the EXECVE record of `marker` in an auditd log.
fn serial_in_auditd_log(log: &Path, marker: &str) -> Option<u64> {
    let text = fs::read_to_string(log).ok()?;
    let hex: String = marker.bytes().map(|b| format!("{b:02X}")).collect();
    let line = text.lines().find(|l| l.starts_with("type=EXECVE") && (l.contains(marker) || l.contains(&hex)))?;
    let id = line.split("msg=audit(").nth(1)?.split(')').next()?;
    id.split(':').nth(1)?.parse().ok()
}

/// Adds the test's rule (key `auditmesh-test-agent-NAME-PID`) with auditctl, as an operator
/// would beside auditd, runs the marker under it, waits for auditd to log it and deletes the
/// rule. Returns the key and the marker.
fn exec_under_a_rule(name: &str, auditd_log: &Path) -> (String, String) {
    let key = format!("auditmesh-test-agent-{name}-{}", std::process::id());
    let auditctl = |line: String| {
        let out = Command::new("auditctl").args(line.split(' ')).output().unwrap();
        assert!(out.status.success(), "auditctl {line}: {}", String::from_utf8_lossy(&out.stderr));
    };
    auditctl(rule_line(&key));
    let marker = format!("auditmesh-marker-{name}-{}", std::process::id());
    run_marker(&marker);
    wait_for("auditd's record", Duration::from_secs(10), || serial_in_auditd_log(auditd_log, &marker).is_some());
    auditctl(rule_line(&key).replacen("-a", "-d", 1));
    (key, marker)
}

#[test]
fn coexist_mode_reads_the_events_auditd_logs() {
    let _turn = support::begin();
    let saved = support::SavedState::save();
    assert_eq!(saved.before.pid, 0, "another audit daemon is registered; the kernel tests need none");
    let dir = temp_dir("coexist");
    let (mut auditd, auditd_log) = start_auditd(&dir);
    let out = dir.join("events.json");
    let mut agent = start_agent(
        &["--source", "netlink-coexist", "--output", out.to_str().unwrap(), "--state-dir", dir.join("state").to_str().unwrap()],
        &dir.join("agent.log"),
    );
    // The agent has joined the multicast group once it logs that it started.
    wait_for("the agent to start", Duration::from_secs(15), || {
        fs::read_to_string(dir.join("agent.log")).unwrap_or_default().contains("info: started: source netlink-coexist")
    });
    let (key, marker) = exec_under_a_rule("coexist", &auditd_log);
    wait_for("the agent's event", Duration::from_secs(10), || !with_key(&events(&out), &key).is_empty());

    let all = events(&out);
    let mine = with_key(&all, &key);
    assert_eq!(mine.len(), 1, "{mine:#?}");
    check_echo_event(mine[0], &marker);
    assert_eq!(
        mine[0]["serial"].as_u64(),
        serial_in_auditd_log(&auditd_log, &marker),
        "the same kernel event as auditd's"
    );
    assert_eq!(status().pid, auditd.pid(), "auditd keeps its registration");
    assert!(agent.stop().success());
    assert!(auditd.stop().success());
    assert_eq!(status().pid, 0);
    drop(saved);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn plugin_mode_under_the_auditd_dispatcher() {
    let _turn = support::begin();
    let saved = support::SavedState::save();
    assert_eq!(saved.before.pid, 0, "another audit daemon is registered; the kernel tests need none");
    let dir = temp_dir("plugin");
    let out = dir.join("events.json");
    // The shipped example, with this build's binary and a configuration of the test's own.
    let example = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/plugins.d/auditmesh.conf"))
        .expect("the example plugin configuration");
    let config = dir.join("plugin.yaml");
    fs::write(
        &config,
        format!("state_dir: {}\nsource:\n  kind: plugin\noutput:\n  path: {}\n", dir.join("state").display(), out.display()),
    )
    .unwrap();
    let conf = example
        .replace("path = /usr/sbin/auditmesh", &format!("path = {BIN}"))
        .replace("args = agent --config=/etc/auditmesh/plugin.yaml", &format!("args = agent --config={}", config.display()));
    assert_ne!(conf, example, "the example names /usr/sbin/auditmesh and /etc/auditmesh/plugin.yaml");
    fs::create_dir_all(dir.join("plugins")).unwrap();
    let plugin_conf = dir.join("plugins/auditmesh.conf");
    fs::write(&plugin_conf, conf).unwrap();
    fs::set_permissions(&plugin_conf, fs::Permissions::from_mode(0o640)).unwrap();
    let (mut auditd, auditd_log) = start_auditd(&dir);

    let (key, marker) = exec_under_a_rule("plugin", &auditd_log);
    wait_for("the plugin's event", Duration::from_secs(10), || !with_key(&events(&out), &key).is_empty());
    // Stopping auditd stops its plugin (SIGTERM, then its standard input closes).
    assert!(auditd.stop().success());
    assert_eq!(status().pid, 0);

    let all = events(&out);
    let mine = with_key(&all, &key);
    assert_eq!(mine.len(), 1, "{mine:#?}");
    check_echo_event(mine[0], &marker);
    assert_eq!(mine[0]["serial"].as_u64(), serial_in_auditd_log(&auditd_log, &marker));
    drop(saved);
    let _ = fs::remove_dir_all(&dir);
}
