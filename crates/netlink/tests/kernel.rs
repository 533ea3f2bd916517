//! Kernel tests: the netlink client against the real kernel audit subsystem.
//!
//! They run as root in CI and never skip: without root they fail with a message saying so. Every
//! test adds its own rule with its own key (`auditmesh-test-NAME-PID`), restricted to children of
//! this process, removes it in a drop guard (also on panic), and restores the kernel's audit state
//! (enabled, backlog settings, rules, no daemon registered by us). Every test takes
//! `support::begin`, the lock shared with the other kernel test binaries, so that they run one
//! at a time.

mod support;

use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use assemble::{summary, Assembler, Completion, Config, EoeMode, Event};
use netlink::{AuditSocket, Error, IfHeld};
use support::{begin, SavedState};
use vocab::RecordType;

/// An audit rule on execve by children of this process with its own key, deleted when dropped.
struct Rule {
    spec: Vec<String>,
    key: String,
}

impl Rule {
    fn add(name: &str) -> Rule {
        let key = format!("auditmesh-test-{name}-{}", std::process::id());
        let ppid = format!("ppid={}", std::process::id());
        let spec: Vec<String> = [
            "always,exit",
            "-F",
            "arch=b64",
            "-S",
            "execve",
            "-F",
            &ppid,
            "-F",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([format!("key={key}")])
        .collect();
        let rule = Rule { spec, key };
        rule.auditctl("-a");
        rule
    }

    fn auditctl(&self, action: &str) -> bool {
        let out = Command::new("auditctl")
            .arg(action)
            .args(&self.spec)
            .output()
            .expect("run auditctl");
        if action == "-a" {
            assert!(
                out.status.success(),
                "auditctl -a failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out.status.success()
    }
}

impl Drop for Rule {
    fn drop(&mut self) {
        let deleted = self.auditctl("-d");
        if !std::thread::panicking() {
            assert!(deleted, "auditctl -d for key {} failed", self.key);
        }
    }
}

/// Runs `/bin/true` with an argument no other process has.
fn run_true(name: &str) -> (String, u32) {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let arg = format!("auditmesh-arg-{name}-{nanos}");
    let mut child = Command::new("/bin/true")
        .arg(&arg)
        .spawn()
        .expect("spawn /bin/true");
    let pid = child.id();
    assert!(child.wait().expect("wait for /bin/true").success());
    (arg, pid)
}

/// Reads records from `socket` into an assembler until an event completes with `key`, or fails
/// after 10 s.
fn read_event_with_key(socket: &mut AuditSocket, key: &str) -> Event {
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("SO_RCVTIMEO");
    let config = Config {
        eoe: EoeMode::Always,
        ..Config::default()
    };
    let mut assembler = Assembler::new(config);
    let mut events: Vec<Event> = Vec::new();
    let mut buf = vec![0u8; 64 << 10];
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut records = 0usize;
    loop {
        match socket.recv(&mut buf) {
            Ok(messages) => {
                for (record_type, payload) in messages {
                    if let Ok(record) = parse::parse_netlink(record_type, payload) {
                        records += 1;
                        assembler.push(&record, &mut events);
                    }
                }
            }
            Err(e) if e.is_timeout() => {}
            Err(e) => panic!("recv: {e}"),
        }
        if let Some(i) = events.iter().position(|e| {
            summary::summarize(e)
                .is_some_and(|s| s.keys.iter().any(|k| k.as_ref() == key.as_bytes()))
        }) {
            return events.swap_remove(i);
        }
        assert!(
            Instant::now() < deadline,
            "no complete event with key {key} within 10 s ({records} records, {} events seen)",
            events.len()
        );
    }
}

/// Asserts the exact decoded values of the execve event of `/bin/true ARG`.
fn check_true_event(event: &Event, key: &str, arg: &str, pid: u32) {
    assert_eq!(event.completion, Completion::Eoe);
    assert!(
        event.incomplete.is_empty(),
        "incomplete: {:?}",
        event.incomplete
    );
    let types: Vec<RecordType> = event.records().map(|r| r.record_type).collect();
    assert_eq!(types.first(), Some(&RecordType::SYSCALL), "types {types:?}");
    assert_eq!(types.last(), Some(&RecordType::EOE), "types {types:?}");
    assert!(types.contains(&RecordType::EXECVE), "types {types:?}");
    let argv: Vec<&[u8]> = event.argv.as_ref().expect("argv").iter().collect();
    assert_eq!(argv, [b"/bin/true".as_slice(), arg.as_bytes()]);
    let s = summary::summarize(event).expect("syscall summary");
    assert_eq!(s.syscall_name(), Some("execve"));
    assert_eq!(s.success, Some(true));
    assert_eq!(s.pid, Some(pid));
    assert_eq!(s.ppid, Some(std::process::id()));
    assert_eq!(s.exe.as_deref(), Some(b"/usr/bin/true".as_slice()));
    let keys: Vec<&[u8]> = s.keys.iter().map(|k| k.as_ref()).collect();
    assert_eq!(keys, [key.as_bytes()]);
}

#[test]
fn status_matches_auditctl() {
    let _lock = begin();
    let status = AuditSocket::open().unwrap().get_status().unwrap();
    let out = Command::new("auditctl")
        .arg("-s")
        .output()
        .expect("run auditctl -s");
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| -> u32 {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(name)?
                    .strip_prefix(' ')?
                    .split(' ')
                    .next()?
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("auditctl -s has no {name}:\n{text}"))
    };
    assert_eq!(status.enabled, field("enabled"));
    assert_eq!(status.failure, field("failure"));
    assert_eq!(status.pid, field("pid"));
    assert_eq!(status.rate_limit, field("rate_limit"));
    assert_eq!(status.backlog_limit, field("backlog_limit"));
    assert_eq!(status.backlog_wait_time, field("backlog_wait_time"));
}

#[test]
fn backlog_settings_are_set_and_restored() {
    let _lock = begin();
    let state = SavedState::save();
    let mut s = AuditSocket::open().unwrap();
    let limit = state.before.backlog_limit + 1;
    s.set_backlog_limit(limit).unwrap();
    s.set_backlog_wait_time(0).unwrap();
    let now = s.get_status().unwrap();
    assert_eq!((now.backlog_limit, now.backlog_wait_time), (limit, 0));
    drop(state);
    let after = s.get_status().unwrap();
    let before = SavedState::save().before;
    assert_eq!(
        (after.backlog_limit, after.backlog_wait_time),
        (before.backlog_limit, before.backlog_wait_time)
    );
}

#[test]
fn own_mode_receives_the_event_unicast_and_releases() {
    let _lock = begin();
    let _state = SavedState::save();
    let mut socket = AuditSocket::open().unwrap();
    socket.set_receive_buffer(4 << 20).unwrap();
    socket.set_enabled(1).unwrap();
    socket.register(IfHeld::Refuse).unwrap();
    assert_eq!(socket.get_status().unwrap().pid, std::process::id());

    // A second socket of this same process cannot register too: the kernel keeps the first.
    let mut second = AuditSocket::open().unwrap();
    match second.register(IfHeld::Refuse) {
        Err(Error::Held { pid }) => assert_eq!(pid, std::process::id()),
        other => panic!("expected Held, got {other:?}"),
    }

    let rule = Rule::add("own");
    let (arg, pid) = run_true("own");
    let event = read_event_with_key(&mut socket, &rule.key);
    check_true_event(&event, &rule.key, &arg, pid);

    socket.release().unwrap();
    assert_eq!(second.get_status().unwrap().pid, 0);
}

#[test]
fn coexist_mode_receives_the_event_by_multicast() {
    let _lock = begin();
    let _state = SavedState::save();
    let mut control = AuditSocket::open().unwrap();
    assert_eq!(
        control.get_status().unwrap().pid,
        0,
        "an audit daemon is registered; stop it first"
    );
    control.set_enabled(1).unwrap();
    let mut multicast = AuditSocket::open_multicast().unwrap();
    multicast.set_receive_buffer(4 << 20).unwrap();

    let rule = Rule::add("coexist");
    let (arg, pid) = run_true("coexist");
    let event = read_event_with_key(&mut multicast, &rule.key);
    check_true_event(&event, &rule.key, &arg, pid);
    assert_eq!(control.get_status().unwrap().pid, 0);
}

/// A child process registered as the audit daemon, told to release and reaped when dropped.
struct ChildDaemon {
    pid: libc::pid_t,
    go: libc::c_int,
}

impl ChildDaemon {
    /// Forks a child that registers itself on a socket opened before the fork (the child only
    /// makes system calls: no allocation after `fork` in a threaded process).
    fn start() -> ChildDaemon {
        let mut socket = AuditSocket::open().unwrap();
        let (mut ready, mut go) = ([0; 2], [0; 2]);
        assert_eq!(
            unsafe { libc::pipe2(ready.as_mut_ptr(), libc::O_CLOEXEC) },
            0
        );
        assert_eq!(unsafe { libc::pipe2(go.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            // The child's own copies of the parent's ends, or the pipes never reach EOF.
            unsafe {
                libc::close(ready[0]);
                libc::close(go[1]);
            }
            let me = unsafe { libc::getpid() } as u32;
            let registered = socket.set_pid(me, IfHeld::TakeOver).is_ok();
            unsafe { libc::write(ready[1], [u8::from(registered)].as_ptr().cast(), 1) };
            let mut b = [0u8];
            unsafe { libc::read(go[0], b.as_mut_ptr().cast(), 1) };
            let released = socket.release().is_ok();
            unsafe { libc::_exit(if registered && released { 0 } else { 1 }) };
        }
        drop(socket);
        unsafe {
            libc::close(ready[1]);
            libc::close(go[0]);
        }
        let child = ChildDaemon { pid, go: go[1] };
        let mut b = [0u8];
        let n = unsafe { libc::read(ready[0], b.as_mut_ptr().cast(), 1) };
        unsafe { libc::close(ready[0]) };
        assert_eq!(
            (n, b[0]),
            (1, 1),
            "the child could not register as the audit daemon"
        );
        child
    }

    /// Tells the child to release and exit; returns whether it did both.
    fn stop(&mut self) -> bool {
        if self.go < 0 {
            return true;
        }
        unsafe { libc::close(self.go) };
        self.go = -1;
        let mut status = 0;
        let reaped = unsafe { libc::waitpid(self.pid, &mut status, 0) };
        reaped == self.pid && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
    }
}

impl Drop for ChildDaemon {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
fn registration_held_by_another_process_is_refused() {
    let _lock = begin();
    let _state = SavedState::save();
    let mut child = ChildDaemon::start();
    let holder = child.pid as u32;
    let mut socket = AuditSocket::open().unwrap();
    assert_eq!(socket.get_status().unwrap().pid, holder);

    let refused = socket.register(IfHeld::Refuse).unwrap_err();
    assert!(
        matches!(refused, Error::Held { pid } if pid == holder),
        "{refused:?}"
    );
    assert!(!refused.is_retryable());
    assert!(
        refused
            .to_string()
            .contains(&format!("held by pid {holder}")),
        "{refused}"
    );
    // Taking over a live daemon: the kernel itself refuses (EEXIST).
    let refused = socket.register(IfHeld::TakeOver).unwrap_err();
    assert!(
        matches!(refused, Error::Held { pid } if pid == holder),
        "{refused:?}"
    );
    // Only the holder may unregister.
    let refused = socket.release().unwrap_err();
    assert!(
        matches!(
            refused,
            Error::Kernel {
                errno: libc::EACCES,
                ..
            }
        ),
        "{refused:?}"
    );
    assert_eq!(socket.get_status().unwrap().pid, holder);

    assert!(child.stop(), "the child did not release and exit cleanly");
    assert_eq!(socket.get_status().unwrap().pid, 0);
}
