//! Kernel tests of rule loading: our encoding against auditctl's, byte for byte, and
//! `rules::apply` / `rules::remove` against the real kernel.
//!
//! Like `kernel.rs` they run as root and never skip; every test holds `support::begin` (the lock
//! shared with the other kernel test binaries) and a `SavedState` that puts the audit settings
//! and the rule list back as found, also on panic. Rules are restricted to an idle child process
//! (`-F ppid=` / `-F pid=` of a `sleep` that never forks) or to paths in a directory of this
//! test, and carry keys of their own (`auditmesh-test-rules-NAME-PID`).

mod support;

use std::path::PathBuf;
use std::process::{Child, Command};

use netlink::rules::{
    apply, parse_rule_text, remove, ApplyOptions, Command as RuleCommand, Control, ErrorKind,
    Outcome, Rule, RuleFile, SystemResolver,
};
use netlink::AuditSocket;
use support::{begin, SavedState};

/// A child that sleeps and never forks: rules restricted to it (or to its children) never fire.
struct Idle(Child);

impl Idle {
    fn start() -> Idle {
        Idle(
            Command::new("sleep")
                .arg("3600")
                .spawn()
                .expect("spawn sleep"),
        )
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Idle {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A directory of this test for watches, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "auditmesh-test-rules-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("dir")).expect("create scratch dir");
        std::fs::write(dir.join("file"), b"").expect("create scratch file");
        Scratch(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn key(name: &str) -> String {
    format!("auditmesh-test-rules-{name}-{}", std::process::id())
}

fn auditctl(args: &str) -> std::process::Output {
    Command::new("auditctl")
        .args(args.split_whitespace())
        .output()
        .expect("run auditctl")
}

fn rules_with_key(socket: &mut AuditSocket, key: &str) -> Vec<Rule> {
    socket
        .list_rules()
        .expect("list rules")
        .into_iter()
        .filter(|r| r.has_key(key.as_bytes()))
        .collect()
}

fn parse(name: &str, text: &str) -> RuleFile {
    parse_rule_text(name, text, &SystemResolver).unwrap_or_else(|e| panic!("parse {text:?}: {e:?}"))
}

/// Each line is loaded with auditctl, read back raw with `list_rule_data`, deleted, and
/// compared with our encoding of the same line.
#[test]
fn encoding_matches_auditctl_byte_for_byte() {
    let _turn = begin();
    let _state = SavedState::save();
    let idle = Idle::start();
    let scratch = Scratch::new("bytes");
    let (i, k) = (idle.pid(), key("bytes"));
    let (dir, file, missing) = (
        scratch.path("dir"),
        scratch.path("file"),
        scratch.path("missing"),
    );
    let lines = [
        format!("-a always,exit -F arch=b64 -S execve -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b32 -S open,execve -F ppid={i} -k {k}"),
        format!("-a exit,always -F arch=b64 -S openat -S execve,open -F ppid={i} -k {k}"),
        format!("-a always,exit -S 59,2 -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b64 -S all -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b32 -S all -F ppid={i} -k {k}"),
        format!("-a always,exit -F ppid={i} -F exe=/usr/bin/true -k {k}"),
        format!("-w {dir} -p wa -k {k}"),
        format!("-w {file} -k {k}"),
        format!("-w {dir}/ -p r -k {k}"),
        format!("-w {missing} -p x -k {k}"),
        format!("-w {file} -p rwa -k {k}-a -k {k}-b"),
        format!("-a always,exit -F arch=b64 -S openat -F exit=-EACCES -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b64 -S openat -F exit=-13 -F success=0 -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b64 -S socket -F a0=0x2 -F a1&=3 -F a2!=5 -F a3&8 -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b64 -S execve -F auid>=1000 -F auid!=unset -F uid=root -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b64 -S execve -F euid<1000 -F gid>0 -F egid<=10 -F fsuid=0 -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b64 -S openat -F dir={dir} -F perm=wa -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b64 -S chmod -F path={file} -F perm=a -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b64 -S openat -F filetype=file -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b64 -S execve -C auid!=uid -F ppid={i} -k {k}"),
        format!("-a never,exclude -F msgtype=CWD -F pid={i}"),
        format!("-a always,user -F pid={i} -F msgtype=1100"),
        format!("-a always,task -F pid={i}"),
        format!("-A always,exit -F arch=b64 -S unlink -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b64 -S kill -F a1=9 -F sessionid!=unset -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b64 -S mount -F devmajor=8 -F devminor>=1 -F inode!=5 -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b64 -S personality -F pers=0x8 -F ppid={i} -k {k}"),
        format!("-a always,exit -F arch=b32 -S socketcall -F ppid={i} -F key={k}"),
    ];
    let mut socket = AuditSocket::open().unwrap();
    let mut mismatches = Vec::new();
    for line in &lines {
        let before = socket.list_rule_data().unwrap();
        let out = auditctl(line);
        assert!(
            out.status.success(),
            "auditctl {line}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut added = socket.list_rule_data().unwrap();
        added.retain(|r| !before.contains(r));
        for rule in &added {
            socket.delete_rule_data(rule).unwrap();
        }
        assert_eq!(
            added.len(),
            1,
            "auditctl {line} added {} rules",
            added.len()
        );
        let file = parse("bytes.rules", line);
        let [netlink::rules::RuleLine {
            command: RuleCommand::Add(ours),
            ..
        }] = file.lines.as_slice()
        else {
            panic!("{line}: not one add command: {:?}", file.lines);
        };
        // The kernel lists `-A` rules without the prepend flag it used to place them.
        let ours = Rule {
            prepend: false,
            ..ours.clone()
        };
        if ours.encode() != added[0] {
            mismatches.push(format!(
                "{line}\n  auditctl: {:?}\n  ours:     {:?}",
                Rule::decode(&added[0]),
                ours
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "encodings differ:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn apply_adds_reports_already_present_and_remove_takes_them_out() {
    let _turn = begin();
    let _state = SavedState::save();
    let idle = Idle::start();
    let scratch = Scratch::new("apply");
    let (i, k) = (idle.pid(), key("apply"));
    let text = format!(
        "# test rules\n\n-a always,exit -F arch=b64 -S execve -F ppid={i} -k {k}\n-w {} -p wa -k {k}\n",
        scratch.path("file")
    );
    let file = parse("apply.rules", &text);
    let mut socket = AuditSocket::open().unwrap();

    let report = apply(&mut socket, &file, &ApplyOptions::default()).unwrap();
    let outcomes: Vec<(u32, Outcome)> = report
        .lines
        .iter()
        .map(|l| (l.line, l.outcome.clone()))
        .collect();
    assert_eq!(outcomes, [(3, Outcome::Added), (4, Outcome::Added)]);
    assert_eq!(report.errors, []);
    let listed = rules_with_key(&mut socket, &k);
    let expected: Vec<Rule> = file
        .lines
        .iter()
        .map(|l| match &l.command {
            RuleCommand::Add(r) => r.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(listed, expected);

    let again = apply(&mut socket, &file, &ApplyOptions::default()).unwrap();
    assert_eq!(again.count(&Outcome::AlreadyPresent), 2);
    assert_eq!(again.added_rules().lines, []);
    assert_eq!(rules_with_key(&mut socket, &k).len(), 2);

    // Removing what the second run added removes nothing; removing the first run's rules
    // removes both.
    let none = remove(&mut socket, &again.added_rules());
    assert_eq!(none.lines, []);
    let removed = remove(&mut socket, &report.added_rules());
    assert_eq!(removed.count(&Outcome::Deleted), 2);
    assert_eq!(removed.errors, []);
    assert_eq!(rules_with_key(&mut socket, &k), []);
    let absent = remove(&mut socket, &file);
    assert_eq!(absent.count(&Outcome::NotPresent), 2);
}

fn failing_file(name: &str, i: u32, k: &str, scratch: &Scratch, ignore_line: &str) -> RuleFile {
    // Line 4 has two `dir` fields: the kernel refuses it (EINVAL).
    let text = format!(
        "{ignore_line}\n-a always,exit -F arch=b64 -S execve -F ppid={i} -k {k}\n\n-a always,exit -F ppid={i} -F dir={} -F dir={} -k {k}\n\n-a always,exit -F arch=b64 -S openat -F ppid={i} -k {k}\n",
        scratch.path("dir"),
        scratch.path("file"),
    );
    parse(name, &text)
}

#[test]
fn first_error_stops_and_names_file_and_line() {
    let _turn = begin();
    let _state = SavedState::save();
    let idle = Idle::start();
    let scratch = Scratch::new("stop");
    let k = key("stop");
    let file = failing_file("stop.rules", idle.pid(), &k, &scratch, "# no -i");
    let mut socket = AuditSocket::open().unwrap();

    let failed = apply(&mut socket, &file, &ApplyOptions::default()).unwrap_err();
    assert_eq!(failed.error.line, 4);
    assert_eq!(
        failed.error.kind,
        ErrorKind::KernelRefusedRule(libc::EINVAL)
    );
    assert_eq!(
        failed.to_string(),
        "stop.rules:4: kernel refused rule: Invalid argument (EINVAL)"
    );
    let outcomes: Vec<(u32, Outcome)> = failed
        .report
        .lines
        .iter()
        .map(|l| (l.line, l.outcome.clone()))
        .collect();
    assert_eq!(outcomes, [(2, Outcome::Added), (4, Outcome::Failed)]);
    // Line 6 was never applied.
    assert_eq!(rules_with_key(&mut socket, &k).len(), 1);
    let removed = remove(&mut socket, &failed.report.added_rules());
    assert_eq!(removed.count(&Outcome::Deleted), 1);
}

#[test]
fn ignore_errors_collects_every_error_and_applies_the_rest() {
    let _turn = begin();
    let _state = SavedState::save();
    let idle = Idle::start();
    let scratch = Scratch::new("ignore");
    let k = key("ignore");
    let mut socket = AuditSocket::open().unwrap();
    // From the options, and from a `-i` line in the file.
    for (ignore_line, options) in [
        (
            "# no -i",
            ApplyOptions {
                ignore_errors: true,
                allow_flush: false,
            },
        ),
        ("-i", ApplyOptions::default()),
    ] {
        let file = failing_file("ignore.rules", idle.pid(), &k, &scratch, ignore_line);
        let report = apply(&mut socket, &file, &options).unwrap();
        let outcomes: Vec<(u32, Outcome)> = report
            .lines
            .iter()
            .map(|l| (l.line, l.outcome.clone()))
            .collect();
        let mut expected = vec![
            (2, Outcome::Added),
            (4, Outcome::Failed),
            (6, Outcome::Added),
        ];
        if ignore_line == "-i" {
            expected.insert(0, (1, Outcome::IgnoreErrors));
        }
        assert_eq!(outcomes, expected, "{ignore_line}");
        assert_eq!(report.errors.len(), 1);
        assert_eq!(
            report.errors[0].to_string(),
            "ignore.rules:4: kernel refused rule: Invalid argument (EINVAL)"
        );
        assert_eq!(rules_with_key(&mut socket, &k).len(), 2);
        let removed = remove(&mut socket, &report.added_rules());
        assert_eq!(removed.count(&Outcome::Deleted), 2);
        assert_eq!(rules_with_key(&mut socket, &k), []);
    }
}

#[test]
fn flush_never_deletes_rules_others_loaded_unless_allowed() {
    let _turn = begin();
    let _state = SavedState::save();
    let idle = Idle::start();
    let i = idle.pid();
    let (mine, other) = (key("flush-mine"), key("flush-other"));
    let out = auditctl(&format!(
        "-a always,exit -F arch=b64 -S execve -F ppid={i} -k {other}"
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut socket = AuditSocket::open().unwrap();

    let file = parse(
        "flush.rules",
        &format!("-D\n-a always,exit -F arch=b64 -S openat -F ppid={i} -k {mine}\n"),
    );
    let report = apply(&mut socket, &file, &ApplyOptions::default()).unwrap();
    let outcomes: Vec<Outcome> = report.lines.iter().map(|l| l.outcome.clone()).collect();
    assert_eq!(outcomes, [Outcome::FlushSkipped, Outcome::Added]);
    assert_eq!(
        report.warnings,
        ["flush.rules:1: -D skipped: it would delete rules other tools loaded (allow_flush is off)"]
    );
    assert_eq!(rules_with_key(&mut socket, &other).len(), 1);
    assert_eq!(rules_with_key(&mut socket, &mine).len(), 1);

    // `-D -k KEY` names its key: allowed by default, and deletes only that key's rules.
    let by_key = parse("flush.rules", &format!("-D -k {mine}\n"));
    let report = apply(&mut socket, &by_key, &ApplyOptions::default()).unwrap();
    assert_eq!(report.lines[0].outcome, Outcome::Flushed { deleted: 1 });
    assert_eq!(rules_with_key(&mut socket, &mine), []);
    assert_eq!(rules_with_key(&mut socket, &other).len(), 1);

    // With allow_flush a bare -D deletes everything; SavedState puts the others' rules back.
    let total = socket.list_rule_data().unwrap().len();
    let flush = parse("flush.rules", "-D\n");
    let options = ApplyOptions {
        ignore_errors: false,
        allow_flush: true,
    };
    let report = apply(&mut socket, &flush, &options).unwrap();
    assert_eq!(report.lines[0].outcome, Outcome::Flushed { deleted: total });
    assert_eq!(socket.list_rule_data().unwrap(), Vec::<Vec<u8>>::new());
}

#[test]
fn control_lines_set_the_status_and_are_restored() {
    let _turn = begin();
    let state = SavedState::save();
    let before = state.before;
    let limit = before.backlog_limit + 7;
    let wait = if before.backlog_wait_time == 0 {
        1000
    } else {
        0
    };
    let rate = before.rate_limit + 5;
    let failure = if before.failure == 1 { 0 } else { 1 };
    let file = parse(
        "control.rules",
        &format!("-b {limit}\n--backlog_wait_time {wait}\n-r {rate}\n-f {failure}\n"),
    );
    let mut socket = AuditSocket::open().unwrap();
    let report = apply(&mut socket, &file, &ApplyOptions::default()).unwrap();
    let outcomes: Vec<Outcome> = report.lines.iter().map(|l| l.outcome.clone()).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::ControlSet(Control::BacklogLimit(limit)),
            Outcome::ControlSet(Control::BacklogWaitTime(wait)),
            Outcome::ControlSet(Control::RateLimit(rate)),
            Outcome::ControlSet(Control::Failure(failure)),
        ]
    );
    let now = socket.get_status().unwrap();
    assert_eq!(
        (
            now.backlog_limit,
            now.backlog_wait_time,
            now.rate_limit,
            now.failure
        ),
        (limit, wait, rate, failure)
    );
    drop(state);
    let after = socket.get_status().unwrap();
    assert_eq!(
        (
            after.enabled,
            after.backlog_limit,
            after.backlog_wait_time,
            after.rate_limit,
            after.failure
        ),
        (
            before.enabled,
            before.backlog_limit,
            before.backlog_wait_time,
            before.rate_limit,
            before.failure
        )
    );
}
