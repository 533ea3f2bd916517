//! The real go-audit-container lines of the shared corpus
//! (`public/rhonnava_auditNG/go-audit-container.syslog`) through the whole path: syslog prefix
//! stripped, JSON parsed, record lines synthesized, framed, assembled and summarized — exact
//! values out.

use std::path::Path;

use assemble::summary::summarize;
use assemble::{Completion, Config};
use goaudit::{assemble_stream, parse_line, strip_syslog_prefix};
use vocab::{EventId, RecordType, Serial, Timestamp};

fn corpus_file() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/public/rhonnava_auditNG/go-audit-container.syslog");
    // A missing corpus is a failure, not a skip: CI always has it (see crates/conformance).
    std::fs::read(&path).unwrap_or_else(|e| panic!("the shared corpus file {} is missing: {e}", path.display()))
}

fn lines(input: &[u8]) -> Vec<&[u8]> {
    input.strip_suffix(b"\n").unwrap_or(input).split(|&b| b == b'\n').collect()
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).expect("utf-8")
}

#[test]
fn strip_syslog_prefix_finds_the_object_on_the_real_lines() {
    let input = corpus_file();
    let lines = lines(&input);
    assert_eq!(lines.len(), 3);
    let prefixes: Vec<&str> = lines.iter().map(|l| text(&l[..l.len() - strip_syslog_prefix(l).len()])).collect();
    assert_eq!(
        prefixes,
        [
            "Dec 20 09:03:14 idc-dost-bm03.dev.walmart.com go-audit[11358]: ",
            "Dec 20 09:57:10 idc-dost-bm03.dev.walmart.com go-audit[11358]: ",
            "Dec 20 09:57:10 idc-dost-bm03.dev.walmart.com go-audit[11358]: ",
        ]
    );
    for line in &lines {
        let object = strip_syslog_prefix(line);
        assert!(object.starts_with(b"{\"sequence\":") && object.ends_with(b"\"container_id\":0}"));
    }
    // No prefix, no brace: unchanged.
    assert_eq!(strip_syslog_prefix(b"{\"a\":1}"), b"{\"a\":1}");
    assert_eq!(strip_syslog_prefix(b"no object here"), b"no object here");
    assert_eq!(strip_syslog_prefix(b""), b"");
}

#[test]
fn the_failed_open_line_becomes_exact_audit_log_records() {
    let input = corpus_file();
    let third = lines(&input)[2];
    let group = parse_line(strip_syslog_prefix(third)).expect("a go-audit object");
    assert_eq!(group.id, EventId { time: Timestamp { millis: 1_513_744_030_480 }, serial: Serial(862_018) });
    assert_eq!(group.len(), 3);
    let lines: Vec<&str> = group.lines().map(text).collect();
    assert_eq!(
        lines,
        [
            "type=SYSCALL msg=audit(1513744030.480:862018): arch=c000003e syscall=2 success=no exit=-13 \
             a0=7fff6454c6c2 a1=941 a2=1b6 a3=7fff6454b090 items=1 ppid=11401 pid=12276 auid=1006 uid=1006 \
             gid=1006 euid=1006 suid=1006 fsuid=1006 egid=1006 sgid=1006 fsgid=1006 tty=pts2 ses=8137 \
             comm=\"touch\" exe=\"/usr/bin/touch\" subj=unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023 \
             key=\"access\"",
            // go-audit's CWD data starts with a space; kept, as auditd's own log has it.
            "type=CWD msg=audit(1513744030.480:862018):  cwd=\"/home/rhonnav\"",
            "type=PATH msg=audit(1513744030.480:862018): item=0 name=\"/root/abc\" objtype=UNKNOWN",
        ]
    );
    assert_eq!(group.uid_map, [("1006".to_string(), "rhonnav".to_string())]);
    assert_eq!(group.container_id, None);

    let records: Vec<_> = group.records().map(|r| r.expect("frames")).collect();
    let types: Vec<RecordType> = records.iter().map(|r| r.record_type).collect();
    assert_eq!(types, [RecordType::SYSCALL, RecordType::CWD, RecordType::PATH]);
    assert!(records.iter().all(|r| r.id == group.id && r.node.is_none() && r.enriched.is_none()));
    assert_eq!(records[1].body, b"cwd=\"/home/rhonnav\"");
}

#[test]
fn the_three_real_lines_assemble_into_three_exact_events() {
    let (out, stats) = assemble_stream(&corpus_file(), Config::default());
    assert_eq!((out.lines, out.blank_lines), (3, 0));
    assert_eq!(out.rejected, []);
    assert_eq!(out.events.len(), 3);
    assert_eq!((stats.records, stats.events, stats.partial_events, stats.duplicate_records), (13, 3, 0, 0));
    // Serials 861472..=862016 are not in this excerpt of go-audit's output: one gap of 545,
    // reported as possible loss like any hole in an audit.log.
    assert_eq!((stats.serial_gaps, stats.missing_serials, stats.serial_resets), (1, 545, 0));

    let ids: Vec<(u64, u64)> = out.events.iter().map(|e| (e.event.id.time.millis, e.event.id.serial.0)).collect();
    assert_eq!(ids, [(1_513_740_794_529, 861_471), (1_513_744_030_477, 862_017), (1_513_744_030_480, 862_018)]);
    // No EOE and no PROCTITLE in go-audit's output of that kernel: the first event completes when
    // event time moves past its timeout, the last two when the input ends.
    let completions: Vec<Completion> = out.events.iter().map(|e| e.event.completion).collect();
    assert_eq!(completions, [Completion::Timeout, Completion::EndOfInput, Completion::EndOfInput]);
    for e in &out.events {
        assert!(!e.event.is_partial(), "{:?}", e.event.incomplete);
        assert_eq!(e.container_id, None);
    }
    let uid_maps: Vec<Vec<(&str, &str)>> =
        out.events.iter().map(|e| e.uid_map.iter().map(|(u, n)| (u.as_str(), n.as_str())).collect()).collect();
    assert_eq!(
        uid_maps,
        [vec![("0", "root"), ("1006", "rhonnav")], vec![("0", "root"), ("1006", "rhonnav")], vec![("1006", "rhonnav")]]
    );

    let types: Vec<Vec<RecordType>> =
        out.events.iter().map(|e| e.event.records().map(|r| r.record_type).collect()).collect();
    use RecordType as T;
    assert_eq!(
        types,
        [
            vec![T::SYSCALL, T::EXECVE, T::CWD, T::PATH, T::PATH],
            vec![T::SYSCALL, T::EXECVE, T::CWD, T::PATH, T::PATH],
            vec![T::SYSCALL, T::CWD, T::PATH],
        ]
    );

    // grep --color=auto go-audit, run as root by auid 1006.
    let grep = &out.events[0].event;
    let argv: Vec<&str> = grep.argv.as_ref().expect("argv").iter().map(text).collect();
    assert_eq!(argv, ["grep", "--color=auto", "go-audit"]);
    let s = summarize(grep).expect("a syscall event");
    assert_eq!(
        (s.arch_name(), s.syscall_name(), s.success, s.exit),
        (Some("x86_64"), Some("execve"), Some(true), Some(0))
    );
    assert_eq!((s.pid, s.ppid), (Some(11616), Some(11461)));
    assert_eq!(s.exe.as_deref().map(text), Some("/usr/bin/grep"));
    assert_eq!(s.comm.as_deref().map(text), Some("grep"));
    assert_eq!(s.cwd.as_deref().map(text), Some("/root"));
    assert_eq!(s.keys.iter().map(|k| text(k)).collect::<Vec<_>>(), ["user_commands"]);
    let ids: Vec<(&str, Option<u32>)> = s.ids.iter().map(|(n, id)| (*n, id.value)).collect();
    assert_eq!(
        ids,
        [
            ("auid", Some(1006)),
            ("uid", Some(0)),
            ("gid", Some(0)),
            ("euid", Some(0)),
            ("suid", Some(0)),
            ("fsuid", Some(0)),
            ("egid", Some(0)),
            ("sgid", Some(0)),
            ("fsgid", Some(0)),
        ]
    );
    let paths: Vec<(Option<u32>, &str, Option<u64>)> =
        s.paths.iter().map(|p| (p.item, p.name.as_deref().map(text).unwrap_or(""), p.inode)).collect();
    assert_eq!(
        paths,
        [(Some(0), "/bin/grep", Some(100_667_447)), (Some(1), "/lib64/ld-linux-x86-64.so.2", Some(43_653_168))]
    );
    assert_eq!(s.errno(), None);
    assert_eq!(s.proctitle, None);

    // touch /root/abc by uid 1006.
    let touch = &out.events[1].event;
    let argv: Vec<&str> = touch.argv.as_ref().expect("argv").iter().map(text).collect();
    assert_eq!(argv, ["touch", "/root/abc"]);
    let s = summarize(touch).expect("a syscall event");
    assert_eq!((s.syscall_name(), s.exit, s.pid), (Some("execve"), Some(0), Some(12276)));
    assert_eq!(s.exe.as_deref().map(text), Some("/usr/bin/touch"));
    assert_eq!(s.cwd.as_deref().map(text), Some("/home/rhonnav"));

    // ... whose open of /root/abc fails with EACCES.
    let open = &out.events[2].event;
    assert!(open.argv.is_none());
    let s = summarize(open).expect("a syscall event");
    assert_eq!(
        (s.syscall_name(), s.success, s.exit, s.errno()),
        (Some("open"), Some(false), Some(-13), Some("EACCES"))
    );
    assert_eq!((s.pid, s.ppid), (Some(12276), Some(11401)));
    assert_eq!(s.exe.as_deref().map(text), Some("/usr/bin/touch"));
    assert_eq!(s.cwd.as_deref().map(text), Some("/home/rhonnav"));
    assert_eq!(s.keys.iter().map(|k| text(k)).collect::<Vec<_>>(), ["access"]);
    let paths: Vec<(&str, Option<&[u8]>)> =
        s.paths.iter().map(|p| (p.name.as_deref().map(text).unwrap_or(""), p.nametype)).collect();
    assert_eq!(paths, [("/root/abc", None)]);
}
