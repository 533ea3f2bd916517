//! Tests of the process table: pid reuse, ancestry, eviction, seeding from a fake `/proc`, and
//! the state file (round trip, and every kind of damage yielding an error, never a panic).

use super::*;
use crate::FakeHost;

fn id(millis: u64, serial: u64) -> EventId {
    EventId {
        time: Timestamp { millis },
        serial: Serial(serial),
    }
}

fn exec(table: &mut ProcessTable, pid: u32, ppid: u32, exe: &str, serial: u64) -> u64 {
    let argv = vec![exe.as_bytes().to_vec(), b"--flag".to_vec()];
    table
        .on_exec(
            pid,
            ppid,
            exe.as_bytes(),
            argv,
            Timestamp {
                millis: serial * 10,
            },
            id(serial * 10, serial),
        )
        .key
}

fn exes<'a>(chain: &[&'a Process]) -> Vec<&'a [u8]> {
    chain.iter().map(|p| p.exe.as_slice()).collect()
}

#[test]
fn parent_survives_pid_reuse() {
    let mut table = ProcessTable::new(Config::default());
    exec(&mut table, 100, 1, "/usr/sbin/sshd", 1);
    exec(&mut table, 200, 100, "/bin/bash", 2);
    assert!(table.on_exit(100));
    // pid 100 is reused by an unrelated program; bash's parent is still sshd.
    exec(&mut table, 100, 1, "/usr/bin/cron", 3);
    let parent = table.parent_of(200).unwrap();
    assert_eq!(parent.exe, b"/usr/sbin/sshd");
    assert!(parent.exited);
    assert_eq!(parent.origin, Origin::Exec(id(10, 1)));
    assert_eq!(table.get(100).unwrap().exe, b"/usr/bin/cron");
}

#[test]
fn ancestry_is_nearest_first_and_bounded() {
    let mut table = ProcessTable::new(Config::default());
    exec(&mut table, 1, 0, "/sbin/init", 1);
    exec(&mut table, 10, 1, "/usr/sbin/sshd", 2);
    exec(&mut table, 20, 10, "/bin/bash", 3);
    exec(&mut table, 30, 20, "/usr/bin/curl", 4);
    assert_eq!(
        exes(&table.ancestry(30, 10)),
        vec![&b"/bin/bash"[..], b"/usr/sbin/sshd", b"/sbin/init"]
    );
    assert_eq!(
        exes(&table.ancestry(30, 2)),
        vec![&b"/bin/bash"[..], b"/usr/sbin/sshd"]
    );
    assert!(table.ancestry(1, 10).is_empty());
    assert!(table.ancestry(999, 10).is_empty());
}

#[test]
fn fork_copies_the_image_and_exec_replaces_it() {
    let mut table = ProcessTable::new(Config::default());
    exec(&mut table, 20, 1, "/bin/bash", 1);
    let child = table.on_fork(20, 21).unwrap();
    assert_eq!(
        (child.exe.as_slice(), child.origin, child.exec_time),
        (
            &b"/bin/bash"[..],
            Origin::Fork,
            Some(Timestamp { millis: 10 })
        )
    );
    exec(&mut table, 21, 20, "/bin/ls", 2);
    assert_eq!(table.get(21).unwrap().exe, b"/bin/ls");
    assert_eq!(table.parent_of(21).unwrap().exe, b"/bin/bash");
    // The forked image of 21 is retired, not lost: it may be a parent of earlier children.
    assert_eq!(table.len(), 3);
    assert_eq!(table.live_len(), 2);
    assert!(table.on_fork(999, 1000).is_none());
    assert!(!table.on_exit(999));
}

#[test]
fn eviction_takes_exited_processes_first_in_exit_order_then_the_oldest_live() {
    let mut table = ProcessTable::new(Config { max_processes: 3 });
    exec(&mut table, 1, 0, "/a", 1);
    exec(&mut table, 2, 1, "/b", 2);
    exec(&mut table, 3, 1, "/c", 3);
    table.on_exit(3);
    table.on_exit(2);
    exec(&mut table, 4, 1, "/d", 4);
    // 3 exited first: it goes first.
    assert_eq!(table.len(), 3);
    assert_eq!(table.counters().get(Counter::EvictedExited), 1);
    assert!(table.get_by_key(3).is_none());
    assert!(table.get_by_key(2).is_some());
    exec(&mut table, 5, 1, "/e", 5);
    assert!(table.get_by_key(2).is_none());
    // Now all three are live: the oldest live one (init) goes, counted apart.
    exec(&mut table, 6, 1, "/f", 6);
    assert_eq!(table.counters().get(Counter::EvictedExited), 2);
    assert_eq!(table.counters().get(Counter::EvictedLive), 1);
    assert!(table.get(1).is_none());
    assert_eq!(table.get(6).unwrap().exe, b"/f");
    assert!(table.parent_of(6).is_none());
}

fn stat_line(pid: u32, comm: &str, ppid: u32, start: u64) -> String {
    format!("{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 {start} 12345 67 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n")
}

#[test]
fn parses_stat_with_spaces_and_parens_in_comm() {
    let line = stat_line(4242, "evil) R 1 (name", 77, 123_456);
    let stat = parse_stat(line.as_bytes()).unwrap();
    assert_eq!(
        stat,
        Stat {
            pid: 4242,
            comm: b"evil) R 1 (name",
            state: b'S',
            ppid: 77,
            start_ticks: 123_456
        }
    );
    assert_eq!(parse_stat(b"12 (x) S 1"), None);
    assert_eq!(parse_stat(b")12 ("), None);
    assert_eq!(parse_stat(b""), None);
}

#[test]
fn parses_cmdline() {
    assert_eq!(
        parse_cmdline(b"sleep\x005\x00"),
        vec![b"sleep".to_vec(), b"5".to_vec()]
    );
    assert_eq!(
        parse_cmdline(b"a\x00\x00b\x00"),
        vec![b"a".to_vec(), Vec::new(), b"b".to_vec()]
    );
    assert_eq!(parse_cmdline(b""), Vec::<Vec<u8>>::new());
    // A process that rewrote its argv (setproctitle) may leave no trailing NUL.
    assert_eq!(
        parse_cmdline(b"nginx: worker process"),
        vec![b"nginx: worker process".to_vec()]
    );
}

fn fake_proc(
    host: &FakeHost,
    pid: u32,
    comm: &str,
    ppid: u32,
    start: u64,
    exe: Option<&str>,
    cmdline: &str,
) {
    host.set_file(
        format!("/proc/{pid}/stat"),
        stat_line(pid, comm, ppid, start),
    );
    host.set_file(format!("/proc/{pid}/cmdline"), cmdline);
    if let Some(exe) = exe {
        host.set_link(format!("/proc/{pid}/exe"), exe);
    }
}

#[test]
fn seeds_from_proc_and_counts_failures() {
    let host = FakeHost::new();
    host.set_file("/proc/stat", "cpu  1 2 3\nbtime 1700000000\nprocesses 9\n");
    host.set_file("/proc/meminfo", "");
    fake_proc(
        &host,
        1,
        "systemd",
        0,
        1,
        Some("/usr/lib/systemd/systemd"),
        "/sbin/init\0splash\0",
    );
    fake_proc(&host, 2, "kthreadd", 0, 1, None, "");
    fake_proc(
        &host,
        900,
        "sshd",
        1,
        500,
        Some("/usr/sbin/sshd"),
        "sshd: /usr/sbin/sshd -D\0",
    );
    fake_proc(
        &host,
        1200,
        "my (bash) x",
        900,
        700,
        Some("/usr/bin/bash"),
        "-bash\0",
    );
    host.set_file("/proc/1300/stat", "garbage");
    host.set_file("/proc/1400/cmdline", ""); // stat vanished: the process exited meanwhile
    let mut table = ProcessTable::new(Config::default());
    let mut counters = Counters::default();
    assert_eq!(table.seed_from_proc(&host, &mut counters).unwrap(), 4);
    assert_eq!(counters.get(Counter::StatUnparsable), 1);
    assert_eq!(counters.get(Counter::ProcGone), 1);
    let bash = table.get(1200).unwrap();
    assert_eq!(bash.argv, vec![b"-bash".to_vec()]);
    assert_eq!(bash.origin, Origin::Proc { start_ticks: 700 });
    assert_eq!(
        bash.exec_time,
        Some(Timestamp {
            millis: 1_700_000_000_000 + 7_000
        })
    );
    assert_eq!(
        exes(&table.ancestry(1200, 8)),
        vec![&b"/usr/sbin/sshd"[..], b"/usr/lib/systemd/systemd"]
    );
    assert_eq!(table.get(2).unwrap().exe, b"");
}

#[test]
fn reseeding_after_restore_keeps_known_processes_and_notices_exits_and_reuse() {
    let host = FakeHost::new();
    fake_proc(&host, 1, "systemd", 0, 1, Some("/sbin/init"), "");
    fake_proc(&host, 900, "sshd", 1, 500, Some("/usr/sbin/sshd"), "");
    fake_proc(&host, 901, "cron", 1, 510, Some("/usr/sbin/cron"), "");
    let mut table = ProcessTable::new(Config::default());
    let mut counters = Counters::default();
    table.seed_from_proc(&host, &mut counters).unwrap();
    exec(&mut table, 1200, 900, "/usr/bin/bash", 1);
    let mut table = ProcessTable::restore(&table.save(), Config::default()).unwrap();
    // While the agent was down: cron exited, its pid went to another program, 1200 still runs.
    host.remove_tree(Path::new("/proc/901"));
    fake_proc(&host, 901, "nc", 1200, 9_000, Some("/usr/bin/nc"), "");
    fake_proc(&host, 1200, "bash", 900, 800, Some("/usr/bin/bash"), "");
    assert_eq!(table.seed_from_proc(&host, &mut counters).unwrap(), 1);
    assert_eq!(table.get(1200).unwrap().origin, Origin::Exec(id(10, 1)));
    assert_eq!(table.get(901).unwrap().exe, b"/usr/bin/nc");
    assert_eq!(table.parent_of(901).unwrap().exe, b"/usr/bin/bash");
    host.remove_tree(Path::new("/proc/1200"));
    table.seed_from_proc(&host, &mut counters).unwrap();
    assert!(table.get(1200).is_none());
    assert_eq!(counters, Counters::default());
}

fn sample_table() -> ProcessTable {
    let mut table = ProcessTable::new(Config::default());
    exec(&mut table, 1, 0, "/sbin/init", 1);
    exec(&mut table, 10, 1, "/usr/bin/weird name\n\u{1d}", 2);
    table.on_exec(
        11,
        10,
        b"\xff\xfe",
        vec![Vec::new(), b"a,b c".to_vec()],
        Timestamp { millis: 5 },
        id(5, 7),
    );
    table.on_fork(10, 12);
    table.on_exit(11);
    table
}

#[test]
fn state_round_trips() {
    let table = sample_table();
    let saved = table.save();
    let restored = ProcessTable::restore(&saved, Config::default()).unwrap();
    assert_eq!(restored.by_key, table.by_key);
    assert_eq!(restored.live, table.live);
    assert_eq!(restored.exited, table.exited);
    assert_eq!(restored.next_key, table.next_key);
    assert_eq!(restored.save(), saved);
    assert_eq!(
        restored.parent_of(12).unwrap().exe,
        b"/usr/bin/weird name\n\x1d"
    );
}

#[test]
fn state_file_through_the_host_view() {
    let host = FakeHost::new();
    let path = Path::new("/var/lib/auditmesh/process-table");
    assert!(ProcessTable::load_from(&host, path, Config::default())
        .unwrap()
        .is_none());
    sample_table().save_to(&host, path).unwrap();
    let loaded = ProcessTable::load_from(&host, path, Config::default())
        .unwrap()
        .unwrap();
    assert_eq!(loaded.len(), 4);
}

#[test]
fn restoring_into_a_smaller_bound_evicts_exited_first() {
    let restored =
        ProcessTable::restore(&sample_table().save(), Config { max_processes: 3 }).unwrap();
    assert_eq!(restored.len(), 3);
    assert!(restored.get_by_key(3).is_none());
    assert_eq!(restored.counters().get(Counter::EvictedExited), 1);
}

fn restore_err(content: &[u8]) -> Error {
    ProcessTable::restore(content, Config::default()).unwrap_err()
}

#[test]
fn corrupt_state_files_are_errors_naming_the_line() {
    let good = String::from_utf8(sample_table().save()).unwrap();
    let cases: [(String, usize, &str); 8] = [
        (String::new(), 1, "empty"),
        ("hello world\n".into(), 1, "not a process table state file"),
        (good.replace("next 5", "next five"), 2, "bad next"),
        (
            good.replace("p 2 10 1 1 L", "p 2 10 1 1 Q"),
            4,
            "bad process line",
        ),
        (
            good.replace("p 2 10 1 1 L", "p 1 10 1 1 L"),
            4,
            "duplicate key",
        ),
        (
            good.replace("end 4", "end 5"),
            8,
            "process count does not match",
        ),
        (format!("{good}p 9 9 9 - L f - x -\n"), 9, "data after end"),
        (
            good.replace("x 3\n", "x 2\n"),
            7,
            "exited key names no exited process",
        ),
    ];
    for (content, line, reason) in cases {
        let err = restore_err(content.as_bytes());
        assert!(
            matches!(err, Error::StateCorrupt { line: l, reason: r } if l == line && r == reason),
            "{reason}: {err:?}\n{content}"
        );
        assert_eq!(err.counter(), Counter::StateCorrupt);
    }
    let twice = good.replace("x 3\n", "x 3\nx 3\n");
    let err = restore_err(twice.as_bytes());
    assert!(
        matches!(
            err,
            Error::StateCorrupt {
                line: 8,
                reason: "exited key listed twice"
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        restore_err(b"\xff\xfe"),
        Error::StateCorrupt {
            line: 0,
            reason: "not utf-8"
        }
    ));
    assert!(
        matches!(restore_err(b"auditmesh-process-table 2\n"), Error::StateVersion { ref found } if found == "2")
    );
}

#[test]
fn every_truncation_and_every_byte_flip_is_an_error_or_a_valid_table_never_a_panic() {
    let good = sample_table().save();
    for len in 0..good.len() - 1 {
        // Cutting inside the file always loses the end line (or the newline after it).
        let result = ProcessTable::restore(&good[..len], Config::default());
        assert!(
            matches!(
                result,
                Err(Error::StateCorrupt { .. } | Error::StateVersion { .. })
            ),
            "cut at {len}"
        );
    }
    for i in 0..good.len() {
        for flip in [0x01u8, 0x20, 0x80] {
            let mut bad = good.clone();
            bad[i] ^= flip;
            let _ = ProcessTable::restore(&bad, Config::default());
        }
    }
}
