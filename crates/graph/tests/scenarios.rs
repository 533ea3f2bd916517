//! The graph on scenarios captured from the real kernel (`fixtures/kernel/*`, made by
//! `scripts/capture-fixtures.sh`): exact traces, paths, name histories and process identities.

mod support;

use graph::trace::{path, trace, Direction, Limits};
use graph::{describe, tree, Config, EntityId, EntityKind, Graph, Op, ProcessOrigin};

const PROVENANCE: &[u8] = include_bytes!("../../../fixtures/kernel/provenance-enriched/audit.log");
const PIDREUSE: &[u8] = include_bytes!("../../../fixtures/kernel/pidreuse-raw/audit.log");

fn provenance() -> Graph {
    support::build(PROVENANCE, Config::default()).0
}

/// The newest version of the file a name was last bound to.
fn file_named(g: &Graph, name: &str) -> EntityId {
    let host = g.host(b"web-01").expect("the fixture's node");
    let history = g.name_history(host, name.as_bytes());
    let last = history
        .last()
        .unwrap_or_else(|| panic!("{name} was never bound"));
    g.latest_version(last.file)
}

fn socket(g: &Graph, port: u16) -> EntityId {
    g.entities()
        .find(|(_, e)| matches!(&e.detail, graph::Detail::Socket(s) if s.port == Some(port)))
        .map(|(id, _)| id)
        .expect("the socket")
}

fn lines(g: &Graph, ids: impl IntoIterator<Item = EntityId>) -> Vec<String> {
    ids.into_iter().map(|id| describe::entity(g, id)).collect()
}

#[test]
fn downloaded_script_writes_a_file_and_trace_back_finds_the_chain() {
    let g = provenance();
    let second = file_named(&g, "/srv/amwork/wl/dl/second.txt");
    let sock = socket(&g, 18095);

    // the chain, step by step: socket → curl → file → exec → process → file
    let chain =
        path(&g, sock, second, &Limits::default()).expect("the socket reaches the second file");
    let steps: Vec<String> = chain.iter().map(|&e| describe::edge(&g, e)).collect();
    insta::assert_debug_snapshot!("download_chain", steps);

    let back = trace(&g, second, None, Direction::Back, &Limits::default());
    assert!(!back.incomplete);
    assert!(!back.truncated);
    for &e in &chain {
        assert!(
            back.edges.contains(&e),
            "trace back misses {}",
            describe::edge(&g, e)
        );
    }
    // the processes and sockets the backward trace reaches, in the order they were reached
    let mut causes: Vec<_> = back
        .reached
        .iter()
        .filter(|r| g.entity(r.entity).kind() != EntityKind::File)
        .collect();
    causes.sort_by_key(|r| (r.depth, r.entity));
    let causes: Vec<String> = causes
        .iter()
        .map(|r| format!("d{} {}", r.depth, describe::entity(&g, r.entity)))
        .collect();
    insta::assert_debug_snapshot!("download_trace_back_causes", causes);
    assert_eq!(
        lines(&g, back.hubs.iter().copied()),
        [
            "file /etc/ld.so.cache (fe:0 inode 1196046)",
            "file /etc/nsswitch.conf (fe:0 inode 716)",
            "file /dev/null (0:6 inode 3)",
            "file /etc/localtime (fe:0 inode 378148)"
        ]
    );

    // forward from the socket: what the download touched
    let fwd = trace(&g, sock, None, Direction::Forward, &Limits::default());
    assert!(fwd.contains(second));
    let touched: Vec<String> = fwd
        .reached
        .iter()
        .filter(|r| g.entity(r.entity).kind() == EntityKind::File)
        .map(|r| describe::entity(&g, r.entity))
        .collect();
    insta::assert_debug_snapshot!("download_trace_forward_files", touched);
}

#[test]
fn depth_and_fanout_limits_cut_a_trace_and_say_so() {
    let g = provenance();
    let second = file_named(&g, "/srv/amwork/wl/dl/second.txt");
    let shallow = trace(
        &g,
        second,
        None,
        Direction::Back,
        &Limits {
            max_depth: Some(1),
            ..Limits::default()
        },
    );
    assert!(shallow.truncated);
    assert_eq!(
        lines(&g, shallow.reached.iter().map(|r| r.entity)),
        [
            "process pid=29261 exe=/usr/bin/dash argv=\"/bin/sh /srv/amwork/wl/dl/payload.sh\" euid=0 v1",
            "file /srv/amwork/wl/dl/second.txt (fe:0 inode 827450)",
            "process pid=29266 exe=/usr/bin/rm argv=\"rm -rf /srv/amwork/wl/srv /srv/amwork/wl/dl /srv/amwork/wl/name.txt /srv/amwork/wl/hard.txt /srv/amwork/wl/copy.txt\" euid=0 v1",
        ]
    );
    let narrow = trace(
        &g,
        second,
        None,
        Direction::Back,
        &Limits {
            max_fanout: Some(1),
            ..Limits::default()
        },
    );
    assert!(narrow.truncated);
    let full = trace(&g, second, None, Direction::Back, &Limits::default());
    assert!(narrow.reached.len() < full.reached.len());
    // a window before the download leaves only the start
    let before = trace(
        &g,
        second,
        None,
        Direction::Back,
        &Limits {
            window_ms: Some((0, 1)),
            ..Limits::default()
        },
    );
    assert_eq!(before.reached.len(), 1);
}

#[test]
fn rename_and_hard_links_keep_the_history_of_a_name() {
    let g = provenance();
    let host = g.host(b"web-01").expect("node");
    let history = |name: &str| -> Vec<(String, bool)> {
        g.name_history(host, name.as_bytes())
            .iter()
            .map(|b| (describe::entity(&g, b.file), b.until.is_some()))
            .collect()
    };
    // name.txt named one file, was renamed away, then named a new file
    let name = history("/srv/amwork/wl/name.txt");
    insta::assert_debug_snapshot!(
        "name_txt_history",
        (
            name,
            history("/srv/amwork/wl/moved.txt"),
            history("/srv/amwork/wl/hard.txt")
        )
    );
    let bindings = g.name_history(host, b"/srv/amwork/wl/name.txt");
    assert_eq!(bindings.len(), 2);
    let (first, second) = (
        g.first_version(bindings[0].file),
        g.first_version(bindings[1].file),
    );
    assert_ne!(first, second);
    let hard = g.name_history(host, b"/srv/amwork/wl/hard.txt");
    assert_eq!(
        g.first_version(hard[0].file),
        first,
        "the hard link names the first file"
    );

    // the copy made through the hard link descends from the first name.txt, not the second
    let copy = file_named(&g, "/srv/amwork/wl/copy.txt");
    let back = trace(&g, copy, None, Direction::Back, &Limits::default());
    let reached_first = back
        .reached
        .iter()
        .any(|r| g.first_version(r.entity) == first);
    let reached_second = back
        .reached
        .iter()
        .any(|r| g.first_version(r.entity) == second);
    assert_eq!((reached_first, reached_second), (true, false));
    let names: Vec<String> = g
        .names_of(first)
        .iter()
        .map(|(n, b)| format!("{} open={}", describe::escape(n), b.until.is_none()))
        .collect();
    assert_eq!(
        names,
        [
            "/srv/amwork/wl/name.txt open=false",
            "/srv/amwork/wl/moved.txt open=false",
            "/srv/amwork/wl/hard.txt open=false"
        ]
    );
}

#[test]
fn a_process_that_existed_before_the_capture_roots_the_tree() {
    let g = provenance();
    let roots: Vec<EntityId> = tree::roots(&g);
    let bash = roots
        .iter()
        .copied()
        .find(|&r| {
            g.entity(r)
                .as_process()
                .and_then(|p| p.exe)
                .is_some_and(|e| g.string(e) == b"/usr/bin/bash")
        })
        .expect("the session's shell");
    let p = g.entity(bash).as_process().expect("a process");
    assert_eq!(p.origin, ProcessOrigin::FirstSeen);
    assert!(g.in_edges(bash).is_empty());
    let t = tree::process_tree(&g, bash);
    let mut out = Vec::new();
    fn walk(g: &Graph, n: &tree::TreeNode, depth: usize, out: &mut Vec<String>) {
        let last = *n.versions.last().expect("a version");
        out.push(format!(
            "{}{} ({} versions)",
            "  ".repeat(depth),
            describe::entity(g, last),
            n.versions.len()
        ));
        for c in &n.children {
            walk(g, c, depth + 1, out);
        }
    }
    walk(&g, &t, 0, &mut out);
    insta::assert_debug_snapshot!("provenance_tree", out);
}

#[test]
fn pid_reuse_never_merges_two_processes() {
    let (g, counters) = support::build(PIDREUSE, Config::default());
    let python = g
        .entities()
        .find(|(_, e)| {
            e.as_process()
                .and_then(|p| p.argv)
                .is_some_and(|a| g.string(a).starts_with(b"/usr/bin/python3\0"))
        })
        .map(|(id, _)| id)
        .expect("the python driver");
    let pid = g.entity(python).as_process().expect("process").pid;
    let host = g.entity(python).host;
    // 2,000 children on ten pids, 200 each, every one its own process
    let children: Vec<EntityId> = g
        .out_edges(python)
        .iter()
        .map(|&e| g.edge(e))
        .filter(|e| e.op == Op::Fork)
        .map(|e| e.to)
        .collect();
    assert_eq!(children.len(), 2000);
    let mut per_pid = std::collections::BTreeMap::new();
    for &c in &children {
        let p = g.entity(c).as_process().expect("process");
        assert_eq!(p.ppid, Some(pid));
        *per_pid.entry(p.pid).or_insert(0) += 1;
        let firsts = g
            .processes_with_pid(host, p.pid)
            .into_iter()
            .filter(|&v| g.entity(v).prev.is_none())
            .count();
        assert_eq!(firsts, 200, "pid {}", p.pid);
    }
    assert_eq!(per_pid.len(), 10);
    assert!(per_pid.values().all(|&n| n == 200));
    // every 20th child ran /bin/true: a second version, made by exec
    let execs = children
        .iter()
        .filter(|&&c| g.next_version(c).is_some())
        .count();
    assert_eq!(execs, 100);
    // the same pid's processes never share an edge: no child is reached from another
    let reach = |c: EntityId| {
        trace(&g, c, None, Direction::Forward, &Limits::unbounded())
            .reached
            .len()
    };
    assert_eq!(reach(children[1]), 1);
    assert_eq!(reach(children[0]), 2, "itself and its exec of /bin/true");
    insta::assert_debug_snapshot!("pidreuse_counters", counters);
}

#[test]
fn serial_gaps_make_answers_incomplete() {
    // drop every record of the event that wrote the second file: the assembler reports the hole
    let log: Vec<u8> = {
        let serial = {
            let (events, _) = support::events(PROVENANCE);
            let e = events
                .iter()
                .find(|e| {
                    let s = assemble::summary::summarize(e);
                    s.is_some_and(|s| {
                        s.syscall_name() == Some("openat")
                            && s.paths.iter().any(|p| {
                                p.name.as_deref() == Some(&b"/srv/amwork/wl/dl/second.txt"[..])
                            })
                    })
                })
                .expect("the open of second.txt");
            e.id.serial.0
        };
        let needle = format!(":{serial}):");
        PROVENANCE
            .split(|&b| b == b'\n')
            .filter(|l| !l.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .flat_map(|l| l.iter().copied().chain([b'\n']))
            .collect()
    };
    let (g, counters) = support::build(&log, Config::default());
    assert_eq!(counters.serial_gaps, 1);
    let sock = socket(&g, 18095);
    let fwd = trace(&g, sock, None, Direction::Forward, &Limits::default());
    assert!(fwd.incomplete);
    let whole = provenance();
    let fwd_whole = trace(
        &whole,
        socket(&whole, 18095),
        None,
        Direction::Forward,
        &Limits::default(),
    );
    assert!(!fwd_whole.incomplete);
    assert_eq!(g.losses().len(), 1);
    assert!(matches!(
        g.losses()[0].kind,
        graph::LossKind::SerialGap { count: 1, .. }
    ));
}

#[test]
fn a_childs_records_before_its_parents_clone_join_the_same_process() {
    // move one clone event of the pid-reuse log after its child's execve: the order a vfork
    // parent produces, whose clone returns only once the child has exec'd
    let (events, _) = support::events(PIDREUSE);
    let clone = events
        .iter()
        .find(|e| {
            assemble::summary::summarize(e).is_some_and(|s| {
                s.syscall_name() == Some("clone")
                    && s.exit.is_some_and(|x| x > 0)
                    && s.comm.as_deref() == Some(&b"python3"[..])
            })
        })
        .expect("a clone by the python driver");
    // the driver's first child runs /bin/true
    let child_pid = u32::try_from(
        assemble::summary::summarize(clone)
            .and_then(|s| s.exit)
            .expect("exit"),
    )
    .expect("a pid");
    let needle = format!(":{}):", clone.id.serial.0);
    let exit_needle = {
        let exit = events
            .iter()
            .find(|e| {
                e.id > clone.id
                    && assemble::summary::summarize(e).is_some_and(|s| {
                        s.pid == Some(child_pid) && s.syscall_name() == Some("execve")
                    })
            })
            .expect("the child's execve");
        format!(":{}):", exit.id.serial.0)
    };
    let has = |l: &[u8], n: &str| l.windows(n.len()).any(|w| w == n.as_bytes());
    let lines: Vec<&[u8]> = PIDREUSE
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let moved: Vec<&[u8]> = lines.iter().copied().filter(|l| has(l, &needle)).collect();
    let mut log = Vec::new();
    for l in lines.iter().filter(|l| !has(l, &needle)) {
        log.extend_from_slice(l);
        log.push(b'\n');
        if has(l, &exit_needle) && l.starts_with(b"type=PROCTITLE") {
            for m in &moved {
                log.extend_from_slice(m);
                log.push(b'\n');
            }
        }
    }
    let (g, counters) = support::build(&log, Config::default());
    assert_eq!(counters.clones_after_child, 1);
    assert_eq!(counters.pid_reuse_without_exit, 0);
    let host = g.entities().next().expect("an entity").1.host;
    let firsts: Vec<EntityId> = g
        .processes_with_pid(host, child_pid)
        .into_iter()
        .filter(|&v| g.entity(v).prev.is_none())
        .collect();
    assert_eq!(
        firsts.len(),
        200,
        "still 200 processes on pid {child_pid}, none merged, none split"
    );
    let child = firsts[0];
    assert_eq!(
        g.entity(child).as_process().map(|p| p.origin),
        Some(ProcessOrigin::Clone)
    );
    let forks: Vec<String> = g
        .in_edges(child)
        .iter()
        .map(|&e| describe::edge(&g, e))
        .collect();
    assert_eq!(forks.len(), 1, "{forks:?}");
    assert!(
        forks[0].starts_with("process pid=27817 exe=/usr/bin/python3.11"),
        "{}",
        forks[0]
    );
}
