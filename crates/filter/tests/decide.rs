//! Decisions on hand-built events (each matcher, rule order, default, the lineage exception, the
//! bounded lineage set) and properties over generated streams: lineage events are never dropped
//! and the counters always add up.

use assemble::{Assembler, Config as AssemblerConfig, Event};
use filter::{Action, Config, DecidedBy, Decision, Filter, FilterSet, LineageReason, Rule};
use proptest::prelude::*;

fn event(lines: &[String]) -> Event {
    let mut a = Assembler::new(AssemblerConfig::default());
    let mut out = Vec::new();
    for l in lines {
        a.push(&parse::parse_line(l.as_bytes()).unwrap(), &mut out);
    }
    a.finish_all(&mut out);
    assert_eq!(out.len(), 1, "{lines:?}");
    out.pop().unwrap()
}

/// A syscall event of x86_64 with a CWD, one PATH per name and a PROCTITLE.
#[derive(Clone, Debug)]
struct Spec {
    serial: u32,
    syscall: u32,
    success: bool,
    exit: i64,
    pid: u32,
    uid: &'static str,
    auid: &'static str,
    exe: &'static str,
    key: &'static str,
    cwd: &'static str,
    paths: Vec<&'static str>,
}

fn spec(serial: u32, syscall: u32, pid: u32) -> Spec {
    Spec {
        serial,
        syscall,
        success: true,
        exit: 0,
        pid,
        uid: "0",
        auid: "4242",
        exe: "/usr/bin/cat",
        key: "(null)",
        cwd: "/root",
        paths: vec![],
    }
}

fn build(s: &Spec) -> Event {
    let id = format!("msg=audit(1700000000.{:03}:{})", s.serial % 1000, s.serial);
    let key = if s.key == "(null)" {
        s.key.to_string()
    } else {
        format!("\"{}\"", s.key)
    };
    let mut lines = vec![format!(
        "type=SYSCALL {id}: arch=c000003e syscall={} success={} exit={} a0=0 a1=0 a2=0 a3=0 items={} ppid=1 pid={} auid={} uid={} gid=0 euid={} suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\"x\" exe=\"{}\" key={key}",
        s.syscall,
        if s.success { "yes" } else { "no" },
        s.exit,
        s.paths.len(),
        s.pid,
        s.auid,
        s.uid,
        s.uid,
        s.exe
    )];
    lines.push(format!("type=CWD {id}: cwd=\"{}\"", s.cwd));
    for (i, p) in s.paths.iter().enumerate() {
        lines.push(format!("type=PATH {id}: item={i} name=\"{p}\" inode=1 dev=fe:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL"));
    }
    lines.push(format!("type=PROCTITLE {id}: proctitle=78"));
    event(&lines)
}

fn set(text: &str) -> FilterSet {
    FilterSet::parse(text).unwrap()
}

/// Returns the rules' verdict (no lineage) for one event.
#[track_caller]
fn check(rules: &str, s: &Spec, want: (Action, DecidedBy)) {
    assert_eq!(set(rules).evaluate(&build(s)), want, "{rules} on {s:?}");
}

const DROP0: (Action, DecidedBy) = (Action::Drop, DecidedBy::Rule(0));
const KEEP_DEFAULT: (Action, DecidedBy) = (Action::Keep, DecidedBy::Default);

#[test]
fn each_matcher() {
    let mut s = spec(1, 257, 100);
    s.key = "noisy";
    s.exe = "/usr/lib/systemd/systemd-journald";
    s.success = false;
    s.exit = -13;
    s.uid = "1000";
    s.auid = "4294967295";
    s.cwd = "/home/bob";
    s.paths = vec!["notes/../.ssh/id_rsa", "/etc/shadow"];
    check(
        "drop key=noisy exe^=/usr/lib/ syscall=openat success=no",
        &s,
        DROP0,
    );
    check("drop key=nois", &s, KEEP_DEFAULT);
    check("drop key^=nois", &s, DROP0);
    check("drop exe=/usr/lib/systemd/systemd-journald", &s, DROP0);
    check("drop exe=/usr/lib/", &s, KEEP_DEFAULT);
    check("drop syscall=257", &s, DROP0);
    check("drop syscall=open", &s, KEEP_DEFAULT);
    check("drop success=yes", &s, KEEP_DEFAULT);
    check("drop uid=1000 euid=1000 auid=unset", &s, DROP0);
    check("drop uid=0", &s, KEEP_DEFAULT);
    check("drop auid=4242", &s, KEEP_DEFAULT);
    check("drop type=PATH type=CWD type=PROCTITLE", &s, DROP0);
    check("drop type=EXECVE", &s, KEEP_DEFAULT);
    // Relative names are resolved against CWD and normalized lexically.
    check("drop path=/home/bob/.ssh/id_rsa", &s, DROP0);
    check("drop path^=/home/bob/.ssh/", &s, DROP0);
    check("drop path^=/etc/", &s, DROP0);
    check("drop path^=/home/bob/notes", &s, KEEP_DEFAULT);
    check("drop path=notes/../.ssh/id_rsa", &s, KEEP_DEFAULT);
}

#[test]
fn first_matching_rule_decides_and_default_applies() {
    let mut s = spec(1, 257, 100);
    s.key = "k";
    check(
        "keep uid=0\ndrop key=k",
        &s,
        (Action::Keep, DecidedBy::Rule(0)),
    );
    check(
        "drop uid=5\ndrop key=k\nkeep",
        &s,
        (Action::Drop, DecidedBy::Rule(1)),
    );
    check(
        "keep uid=5\ndefault drop",
        &s,
        (Action::Drop, DecidedBy::Default),
    );
    check("drop", &s, DROP0);
}

#[test]
fn events_without_a_syscall_record_match_only_type() {
    let e = event(&["type=USER_LOGIN msg=audit(1.000:9): pid=5 uid=0 auid=1000 ses=2 msg='op=login exe=\"/usr/sbin/sshd\" res=success'".to_string()]);
    let rules = set("drop uid=0\ndrop exe=/usr/sbin/sshd\ndrop success=yes\ndrop syscall=0\ndrop type=USER_LOGIN");
    assert_eq!(rules.evaluate(&e), (Action::Drop, DecidedBy::Rule(4)));
    // Never kept for lineage: it has no SYSCALL record.
    let mut f = Filter::new(set("drop"), Config::default());
    assert_eq!(
        f.decide(&e),
        Decision {
            action: Action::Drop,
            by: DecidedBy::Rule(0),
            lineage: None
        }
    );
}

#[test]
fn lineage_keeps_first_events_and_lineage_syscalls() {
    let mut f = Filter::new(set("drop key=noisy"), Config::default());
    let mut next = 0;
    let mut decide = |f: &mut Filter, syscall: u32, pid: u32, exit: i64, key: &'static str| {
        next += 1;
        let mut s = spec(next, syscall, pid);
        s.exit = exit;
        s.key = key;
        f.decide(&build(&s))
    };
    let dropped = Decision {
        action: Action::Drop,
        by: DecidedBy::Rule(0),
        lineage: None,
    };
    let first = Decision {
        action: Action::Keep,
        by: DecidedBy::Rule(0),
        lineage: Some(LineageReason::FirstEvent),
    };
    let lineage = Decision {
        action: Action::Keep,
        by: DecidedBy::Rule(0),
        lineage: Some(LineageReason::LineageSyscall),
    };
    let kept = Decision {
        action: Action::Keep,
        by: DecidedBy::Default,
        lineage: None,
    };
    // pid 10: its first event is kept, the next is dropped.
    assert_eq!(decide(&mut f, 257, 10, 3, "noisy"), first);
    assert_eq!(decide(&mut f, 257, 10, 3, "noisy"), dropped);
    // A kept event also marks its process seen.
    assert_eq!(decide(&mut f, 257, 11, 3, "other"), kept);
    assert_eq!(decide(&mut f, 257, 11, 3, "noisy"), dropped);
    // clone (56) is always kept and makes its child (pid 12) known.
    assert_eq!(decide(&mut f, 56, 10, 12, "noisy"), lineage);
    assert_eq!(decide(&mut f, 257, 12, 3, "noisy"), dropped);
    // execve (59) is always kept, even for a known process.
    assert_eq!(decide(&mut f, 59, 12, 0, "noisy"), lineage);
    // exit_group (231) forgets the process: a new process with the same pid is seen anew.
    assert_eq!(decide(&mut f, 231, 12, 0, "noisy"), dropped);
    assert_eq!(decide(&mut f, 257, 12, 3, "noisy"), first);
    let s = f.stats();
    assert_eq!(
        (
            s.evaluated,
            s.kept,
            s.kept_for_lineage,
            s.kept_by_default,
            s.dropped_by_rule.clone()
        ),
        (9, 5, 4, 1, vec![4])
    );
    assert_eq!(f.tracked_pids(), 3);
}

#[test]
fn lineage_set_is_bounded_and_evictions_are_counted() {
    let mut f = Filter::new(
        set("drop"),
        Config {
            lineage: true,
            max_tracked_pids: 2,
        },
    );
    let mut decisions = Vec::new();
    for (serial, pid) in [1, 2, 3, 1, 3].into_iter().enumerate() {
        decisions.push(f.decide(&build(&spec(serial as u32 + 1, 257, pid))).lineage);
    }
    // pid 1 was evicted by pid 3, so its second event counts as first again; 3 was not.
    let first = Some(LineageReason::FirstEvent);
    assert_eq!(decisions, [first, first, first, first, None]);
    assert_eq!(f.stats().lineage_pids_evicted, 2);
    assert_eq!(f.tracked_pids(), 2);
}

#[test]
fn lineage_off_drops_lineage_events() {
    let mut f = Filter::new(
        set("drop"),
        Config {
            lineage: false,
            ..Config::default()
        },
    );
    assert_eq!(
        f.decide(&build(&spec(1, 59, 7))),
        Decision {
            action: Action::Drop,
            by: DecidedBy::Rule(0),
            lineage: None
        }
    );
    assert_eq!(f.stats().dropped_by_rule, [1]);
}

#[test]
fn nodes_keep_their_own_pids() {
    let mut f = Filter::new(set("drop"), Config::default());
    let line = |node: &str, serial: u32| {
        event(&[format!("node={node} type=SYSCALL msg=audit(1.000:{serial}): arch=c000003e syscall=257 success=yes exit=3 ppid=1 pid=5 uid=0 exe=\"/x\" key=(null)")])
    };
    assert_eq!(
        f.decide(&line("a", 1)).lineage,
        Some(LineageReason::FirstEvent)
    );
    assert_eq!(
        f.decide(&line("b", 2)).lineage,
        Some(LineageReason::FirstEvent)
    );
    assert_eq!(f.decide(&line("a", 3)).lineage, None);
}

fn matcher_text() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "key=a",
        "key^=e",
        "key=exec",
        "exe=/bin/c",
        "exe^=/usr/",
        "syscall=execve",
        "syscall=openat",
        "syscall=2",
        "syscall=clone",
        "syscall=exit_group",
        "uid=0",
        "uid=1",
        "auid=unset",
        "euid=2",
        "path^=/etc/",
        "path=/root/x",
        "success=yes",
        "success=no",
        "type=PATH",
        "type=EXECVE",
        "type=CWD",
    ])
}

fn rule_text() -> impl Strategy<Value = String> {
    (any::<bool>(), prop::collection::vec(matcher_text(), 0..4))
        .prop_map(|(keep, ms)| format!("{} {}", if keep { "keep" } else { "drop" }, ms.join(" ")))
}

fn stream() -> impl Strategy<Value = Vec<Spec>> {
    let one = (
        prop::sample::select(vec![59u32, 257, 56, 231, 2, 44]),
        1u32..12,
        any::<bool>(),
        0i64..20,
        prop::sample::select(vec!["0", "1", "2", "4294967295"]),
        prop::sample::select(vec!["/bin/c", "/usr/bin/a", "/usr/lib/x/b"]),
        prop::sample::select(vec!["(null)", "a", "exec", "eb"]),
        prop::collection::vec(
            prop::sample::select(vec!["/etc/passwd", "x", "../etc/x", "/root/x"]),
            0..3,
        ),
    );
    prop::collection::vec(one, 0..40).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(
                |(i, (syscall, pid, success, exit, uid, exe, key, paths))| Spec {
                    serial: i as u32 + 1,
                    syscall,
                    success,
                    exit,
                    pid,
                    uid,
                    auid: uid,
                    exe,
                    key,
                    cwd: "/root",
                    paths,
                },
            )
            .collect()
    })
}

proptest! {
    #[test]
    fn lineage_events_are_never_dropped_and_counters_add_up(
        rules in prop::collection::vec(rule_text(), 0..5),
        default_drop in any::<bool>(),
        max_tracked_pids in 1usize..6,
        specs in stream(),
    ) {
        let mut text = rules.join("\n");
        if default_drop {
            text.push_str("\ndefault drop");
        }
        let set = FilterSet::parse(&text).unwrap();
        for r in &set.rules {
            prop_assert_eq!(&Rule::parse(&r.to_string()).unwrap(), r);
        }
        let needs_summary = set.needs_summary();
        let mut f = Filter::new(set, Config { lineage: true, max_tracked_pids });
        for s in &specs {
            let d = f.decide(&build(s));
            if matches!(s.syscall, 59 | 56) {
                prop_assert!(d.is_kept(), "{:?} dropped: {:?}", s, d);
            }
            prop_assert_eq!(d.lineage.is_some(), d.is_kept() && f.set().evaluate(&build(s)).0 == Action::Drop);
        }
        let st = f.stats();
        prop_assert_eq!(st.evaluated, specs.len() as u64);
        prop_assert_eq!(st.kept + st.dropped(), st.evaluated);
        prop_assert_eq!(st.kept_by_rule.iter().sum::<u64>() + st.kept_by_default + st.kept_for_lineage, st.kept);
        prop_assert!(f.tracked_pids() <= max_tracked_pids);
        prop_assert!(f.summaries_built() <= st.evaluated);
        if !needs_summary {
            prop_assert_eq!(f.summaries_built(), 0);
        }
    }
}
