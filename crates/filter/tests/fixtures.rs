//! The filter on real kernel logs (`fixtures/kernel/*/audit.log`): exact counts for several
//! filter sets, checked against an independent count made from the raw lines (grouped by their
//! `msg=audit(…)` id, fields split by hand, syscall numbers from a table written here).

use std::collections::{HashMap, HashSet};

use assemble::{Assembler, Config as AssemblerConfig, Event};
use filter::{Config, Filter, FilterSet, Stats};

const FIXTURES: [(&str, &[u8]); 5] = [
    (
        "exec-basic-raw",
        include_bytes!("../../../fixtures/kernel/exec-basic-raw/audit.log"),
    ),
    (
        "exec-basic-enriched",
        include_bytes!("../../../fixtures/kernel/exec-basic-enriched/audit.log"),
    ),
    (
        "ia32-enriched",
        include_bytes!("../../../fixtures/kernel/ia32-enriched/audit.log"),
    ),
    (
        "longargs-enriched",
        include_bytes!("../../../fixtures/kernel/longargs-enriched/audit.log"),
    ),
    (
        "net-enriched",
        include_bytes!("../../../fixtures/kernel/net-enriched/audit.log"),
    ),
];

fn events(log: &[u8]) -> Vec<Event> {
    let mut a = Assembler::new(AssemblerConfig::default());
    let mut out = Vec::new();
    for line in log.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let record = parse::parse_line(line).expect("fixture lines frame");
        a.push(&record, &mut out);
    }
    a.finish_all(&mut out);
    out
}

fn run(log: &[u8], set: &str, config: Config) -> Stats {
    let mut f = Filter::new(FilterSet::parse(set).unwrap(), config);
    for e in events(log) {
        f.decide(&e);
    }
    let s = f.stats().clone();
    assert_eq!(s.kept + s.dropped(), s.evaluated);
    assert_eq!(
        s.kept_by_rule.iter().sum::<u64>() + s.kept_by_default + s.kept_for_lineage,
        s.kept
    );
    s
}

fn no_lineage() -> Config {
    Config {
        lineage: false,
        ..Config::default()
    }
}

/// One event as the independent count sees it: its record types and its SYSCALL fields.
struct RawEvent {
    types: Vec<String>,
    syscall: Option<HashMap<String, String>>,
}

impl RawEvent {
    fn field(&self, name: &str) -> Option<&str> {
        self.syscall.as_ref()?.get(name).map(String::as_str)
    }

    /// The syscall's name, from a table independent of `vocab`'s.
    fn syscall_name(&self) -> Option<&'static str> {
        let nr: u32 = self.field("syscall")?.parse().ok()?;
        let table: &[(u32, &str)] = match self.field("arch")? {
            "c000003e" => &[
                (59, "execve"),
                (322, "execveat"),
                (56, "clone"),
                (435, "clone3"),
                (57, "fork"),
                (58, "vfork"),
                (231, "exit_group"),
            ],
            "40000003" => &[
                (11, "execve"),
                (358, "execveat"),
                (120, "clone"),
                (435, "clone3"),
                (2, "fork"),
                (190, "vfork"),
                (252, "exit_group"),
            ],
            _ => &[],
        };
        table.iter().find(|(n, _)| *n == nr).map(|(_, name)| *name)
    }
}

fn raw_events(log: &[u8]) -> Vec<RawEvent> {
    let text = String::from_utf8_lossy(log);
    let mut order: Vec<String> = Vec::new();
    let mut by_id: HashMap<String, RawEvent> = HashMap::new();
    for line in text.lines() {
        let line = line.split('\x1d').next().unwrap();
        let (node, rest) = match line.strip_prefix("node=") {
            Some(r) => r.split_once(' ').unwrap(),
            None => ("", line),
        };
        let rest = rest.strip_prefix("type=").unwrap();
        let (rtype, rest) = rest.split_once(' ').unwrap();
        let id = &rest[rest.find("audit(").unwrap()..rest.find("):").unwrap()];
        let key = format!("{node} {id}");
        let ev = by_id.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            RawEvent {
                types: Vec::new(),
                syscall: None,
            }
        });
        ev.types.push(rtype.to_string());
        if rtype == "SYSCALL" && ev.syscall.is_none() {
            let body = &rest[rest.find("): ").unwrap() + 3..];
            let fields = body
                .split(' ')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()));
            ev.syscall = Some(fields.collect());
        }
    }
    order.iter().map(|k| by_id.remove(k).unwrap()).collect()
}

/// A rule for the count by hand: keep?, and when it matches.
type RawRule<'a> = (bool, &'a dyn Fn(&RawEvent) -> bool);

/// Counts by hand; returns (kept, dropped, kept_for_lineage).
fn expected(
    log: &[u8],
    rules: &[RawRule<'_>],
    default_keep: bool,
    lineage: bool,
) -> (u64, u64, u64) {
    let (mut kept, mut dropped, mut for_lineage) = (0, 0, 0);
    let mut seen: HashSet<String> = HashSet::new();
    for ev in raw_events(log) {
        let keep = rules
            .iter()
            .find(|(_, p)| p(&ev))
            .map_or(default_keep, |(k, _)| *k);
        let mut rescued = false;
        if let (true, Some(pid)) = (lineage, ev.field("pid")) {
            let name = ev.syscall_name();
            let lineage_call = matches!(
                name,
                Some("execve" | "execveat" | "clone" | "clone3" | "fork" | "vfork")
            );
            rescued = !keep && (lineage_call || !seen.contains(pid));
            if name == Some("exit_group") {
                seen.remove(pid);
            } else {
                seen.insert(pid.to_string());
            }
            if matches!(name, Some("clone" | "clone3" | "fork" | "vfork"))
                && ev.field("success") == Some("yes")
            {
                let child = ev.field("exit").unwrap();
                if child.parse::<i64>().unwrap() > 0 {
                    seen.insert(child.to_string());
                }
            }
        }
        if keep || rescued {
            kept += 1;
        } else {
            dropped += 1;
        }
        for_lineage += u64::from(rescued);
    }
    (kept, dropped, for_lineage)
}

fn key_is(k: &'static str) -> impl Fn(&RawEvent) -> bool {
    move |e| e.field("key") == Some(k)
}

#[track_caller]
fn check(s: &Stats, (kept, dropped, for_lineage): (u64, u64, u64)) {
    assert_eq!(
        (s.kept, s.dropped(), s.kept_for_lineage),
        (kept, dropped, for_lineage),
        "{s:?}"
    );
}

#[test]
fn every_fixture_matches_the_independent_count() {
    for (name, log) in FIXTURES {
        let n = raw_events(log).len() as u64;
        let exit = key_is("exit");
        let fork = key_is("fork");
        let exec = key_is("exec");
        let sockaddr = |e: &RawEvent| e.types.iter().any(|t| t == "SOCKADDR");
        let auditd = |e: &RawEvent| {
            e.field("exe")
                .is_some_and(|x| x.starts_with("/usr/sbin/audit"))
        };
        for lineage in [false, true] {
            let config = Config {
                lineage,
                ..Config::default()
            };
            let s = run(log, "drop key=exit", config.clone());
            assert_eq!(s.evaluated, n, "{name}");
            check(&s, expected(log, &[(false, &exit)], true, lineage));
            let s = run(log, "drop key=fork", config.clone());
            check(&s, expected(log, &[(false, &fork)], true, lineage));
            let s = run(log, "drop type=SOCKADDR", config.clone());
            check(&s, expected(log, &[(false, &sockaddr)], true, lineage));
            let s = run(
                log,
                "keep key=exec\ndrop exe^=/usr/sbin/audit\ndefault drop",
                config.clone(),
            );
            check(
                &s,
                expected(log, &[(true, &exec), (false, &auditd)], false, lineage),
            );
        }
    }
}

#[test]
fn dropping_fork_events_keeps_them_all_for_lineage() {
    // Every `key=fork` event of exec-basic-raw is a clone: the rule drops none of them.
    let log = FIXTURES[0].1;
    let s = run(log, "drop key=fork", Config::default());
    // 124 distinct `audit(…)` ids; `grep '^type=SYSCALL' | grep -c 'key="fork"'` = 11.
    assert_eq!(s.evaluated, 124);
    assert_eq!(s.kept_for_lineage, 11);
    assert_eq!(s.dropped_by_rule, [0]);
    assert_eq!(s.kept, 124);
    let s = run(log, "drop key=fork", no_lineage());
    assert_eq!(
        (s.dropped_by_rule[0], s.kept_by_default, s.kept_for_lineage),
        (11, 113, 0)
    );
}

#[test]
fn dropping_exit_events_keeps_first_events_only() {
    // 12 `key="exit"` SYSCALL lines; each exiting process was seen before (its clone or
    // execve), so lineage keeps none of them.
    let log = FIXTURES[0].1;
    let s = run(log, "drop key=exit", no_lineage());
    assert_eq!(s.dropped_by_rule, [12]);
    let s = run(log, "drop key=exit", Config::default());
    assert_eq!((s.dropped_by_rule[0], s.kept_for_lineage), (12, 0));
}

#[test]
fn syscall_names_and_numbers_on_real_events() {
    let log = FIXTURES[0].1;
    let by_name = run(log, "drop syscall=sendto", no_lineage());
    let by_number = run(log, "drop syscall=44", no_lineage());
    assert_eq!(by_name.dropped_by_rule, [53]);
    assert_eq!(by_number.dropped_by_rule, [53]);
    // 19 execve events, 16 of them successful (`grep -c 'syscall=59 success=yes'`).
    let s = run(log, "drop syscall=execve success=yes", no_lineage());
    assert_eq!(s.dropped_by_rule, [16]);
    // The same rule with lineage on drops nothing: execve defines lineage.
    let s = run(log, "drop syscall=execve", Config::default());
    assert_eq!((s.dropped(), s.kept_for_lineage), (0, 19));
}

#[test]
fn summaries_are_built_once_per_event_at_most_and_only_when_needed() {
    let log = FIXTURES[0].1;
    let n = events(log).len() as u64;
    for (set, most) in [
        ("drop syscall=44\ndrop type=SOCKADDR success=no", 0),
        (
            "drop key=a exe=/x\ndrop uid=3 path^=/etc/\nkeep auid=unset",
            n,
        ),
    ] {
        let mut f = Filter::new(FilterSet::parse(set).unwrap(), Config::default());
        for e in events(log) {
            f.decide(&e);
        }
        assert!(
            f.summaries_built() <= most,
            "{set}: {}",
            f.summaries_built()
        );
    }
}
