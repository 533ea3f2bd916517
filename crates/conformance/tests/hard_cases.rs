//! The hard cases of the audit format, taken from the real logs in the shared corpus, with exact
//! expected values: split and continued EXECVE arguments, empty arguments, file names with a
//! newline, ia32 syscalls from a 64-bit process, ENRICHED suffixes with a stripped separator,
//! legacy user messages, serial rollover, loss and reordering, multi-key rules, duplicates,
//! files cut mid-event, and bounded memory under a flood.
//!
//! Expected values were read off the raw lines (and, for names, checked against auditd's own
//! ENRICHED interpretation in the same line); they are not what the code happens to return.

use std::sync::OnceLock;

use assemble::summary::{summarize, Id};
use assemble::{Completion, Config, Event, Incomplete, SerialGap, Stats};
use conformance::{lines, read_corpus, run_corpus, run_lines, Run};
use parse::{decode, Fields, RawValue, Value};
use vocab::{Arch, RecordType};

const BENIGN_ENRICHED: &str = "kernel/benign-enriched/audit.log";
const BENIGN_RAW: &str = "kernel/benign-raw/audit.log";

fn benign_enriched() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| run_corpus(BENIGN_ENRICHED))
}

/// The lines of one event (by its `SEC.MSEC:SERIAL`), in file order.
fn event_lines<'a>(log: &'a [u8], stamp: &str) -> Vec<&'a [u8]> {
    let needle = format!("audit({stamp})");
    let found: Vec<&[u8]> = lines(log).filter(|l| contains(l, needle.as_bytes())).collect();
    assert!(!found.is_empty(), "no line with {needle}");
    found
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn types(event: &Event) -> Vec<String> {
    event.records().map(|r| r.record_type.to_string()).collect()
}

fn count(event: &Event, rt: RecordType) -> usize {
    event.all(rt).count()
}

fn args(event: &Event) -> Vec<Vec<u8>> {
    event.argv.as_ref().expect("the event has EXECVE records").iter().map(<[u8]>::to_vec).collect()
}

fn strs(v: &[&str]) -> Vec<Vec<u8>> {
    v.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// The event with this timestamp (`SEC.MSEC`) and serial; serials collide across boots in old logs.
fn event_at<'r>(run: &'r Run, stamp: &str) -> &'r Event {
    let (time, serial) = stamp.split_once(':').expect("SEC.MSEC:SERIAL");
    let (sec, msec) = time.split_once('.').expect("SEC.MSEC");
    let millis = sec.parse::<u64>().unwrap() * 1000 + msec.parse::<u64>().unwrap();
    let serial: u64 = serial.parse().unwrap();
    let found: Vec<&Event> =
        run.events.iter().filter(|e| e.id.time.millis == millis && e.id.serial.0 == serial).collect();
    assert_eq!(found.len(), 1, "events at {stamp}");
    found[0]
}

fn name_of(id: &Id<'_>) -> Option<String> {
    id.name.as_ref().map(|n| String::from_utf8_lossy(n).into_owned())
}

// ---------------------------------------------------------------------------------------------
// kernel/benign-enriched: EXECVE

#[test]
fn execve_argument_of_40000_bytes_split_over_eleven_records() {
    let e = benign_enriched().event(49339);
    assert_eq!(count(e, RecordType::EXECVE), 14);
    let argv = e.argv.as_ref().unwrap();
    assert_eq!(argv.argc, Some(4));
    assert_eq!(argv.problems, []);
    // a1_len=80000 hex digits of 0x42; a3_len=18000 hex digits of 0x43, in the same event.
    assert_eq!(args(e), [b"/bin/echo".to_vec(), vec![b'B'; 40_000], b"short".to_vec(), vec![b'C'; 9_000]]);
    assert_eq!((e.completion, e.incomplete.as_slice()), (Completion::Proctitle, &[][..]));
}

#[test]
fn execve_argument_of_12000_bytes_split_over_four_records() {
    let e = benign_enriched().event(49320);
    assert_eq!(count(e, RecordType::EXECVE), 4);
    let argv = e.argv.as_ref().unwrap();
    assert_eq!((argv.argc, argv.problems.as_slice()), (Some(2), &[][..]));
    assert_eq!(args(e), [b"/bin/echo".to_vec(), vec![b'A'; 12_000]]);
    assert!(!e.is_partial());
}

#[test]
fn execve_1501_arguments_continued_over_three_records() {
    let e = benign_enriched().event(49345);
    assert_eq!(count(e, RecordType::EXECVE), 3);
    let argv = e.argv.as_ref().unwrap();
    assert_eq!((argv.argc, argv.len(), argv.problems.as_slice()), (Some(1501), 1501, &[][..]));
    assert_eq!(argv.get(0), Some(&b"/bin/echo"[..]));
    for (i, arg) in argv.iter().enumerate().skip(1) {
        assert_eq!(arg, i.to_string().as_bytes(), "argv[{i}]");
    }
    assert_eq!(argv.get(1500), Some(&b"1500"[..]));
    assert!(!e.is_partial());
}

#[test]
fn empty_arguments_are_kept() {
    let run = benign_enriched();
    assert_eq!(args(run.event(48267)), strs(&["/bin/sh", "/var/lib/dpkg/info/am-dummy.postinst", "configure", ""]));

    // Hex-encoded arguments (space, quote, tab, UTF-8) next to an empty one.
    let e = run.event(49348);
    let expected = strs(&["/bin/echo", "arg with spaces", "quote\"d", "tab\there", "ünïcödé", "", "x=y"]);
    assert_eq!(args(e), expected);
    assert_eq!(e.argv.as_ref().unwrap().problems, []);
    // PROCTITLE holds the same vector, NUL-separated: the empty argument is two NULs in a row.
    let title: Vec<Vec<u8>> = summarize(e).unwrap().proctitle_args().map(<[u8]>::to_vec).collect();
    assert_eq!(title, expected);
}

// ---------------------------------------------------------------------------------------------
// kernel/benign-enriched: names, architectures, whole-file figures

#[test]
fn file_name_with_a_newline() {
    // Created by a shell redirection, then removed by `rm -f`.
    for (serial, nametype) in [(48467, "CREATE"), (48470, "DELETE")] {
        let e = benign_enriched().event(serial);
        let s = summarize(e).unwrap();
        let item1 = s.paths.iter().find(|p| p.item == Some(1)).expect("PATH item=1");
        assert_eq!(item1.name.as_deref(), Some(&b"/srv/amwork/wl/nl\nname"[..]), "serial {serial}");
        assert_eq!(item1.nametype, Some(nametype.as_bytes()));
        assert_eq!(item1.ouid.as_ref().and_then(name_of).as_deref(), Some("root"), "OUID from the ENRICHED suffix");
    }
}

#[test]
fn ia32_syscalls_from_a_64_bit_process() {
    // (serial, syscall number, i386 name, errno name when it failed), as in the raw lines.
    let expected: [(u64, u32, &str, Option<&str>); 18] = [
        (48528, 5, "open", Some("EACCES")),
        (48529, 38, "rename", None),
        (48530, 15, "chmod", None),
        (48531, 15, "chmod", Some("EPERM")),
        (48532, 212, "chown32", Some("EPERM")),
        (48533, 10, "unlink", None),
        (48534, 213, "setuid32", Some("EPERM")),
        (48535, 214, "setgid32", Some("EPERM")),
        (48536, 26, "ptrace", Some("EPERM")),
        (49365, 38, "rename", None),
        (49366, 15, "chmod", None),
        (49367, 15, "chmod", None),
        (49368, 212, "chown32", None),
        (49369, 10, "unlink", None),
        (49370, 213, "setuid32", None),
        (49371, 214, "setgid32", None),
        (49372, 26, "ptrace", Some("EPERM")),
        (49373, 11, "execve", None),
    ];
    let run = benign_enriched();
    let mut got = Vec::new();
    for e in &run.events {
        let Some(s) = summarize(e) else { continue };
        if s.arch != Some(Arch::I386) {
            continue;
        }
        let syscall = e.first(RecordType::SYSCALL).unwrap();
        // auditd's own interpretation in the same line must agree with ours.
        let enriched = Fields::new(syscall.enriched.expect("ENRICHED suffix"))
            .find(|f| f.name == b"SYSCALL")
            .map(|f| String::from_utf8_lossy(f.value.bytes()).into_owned());
        assert_eq!(enriched.as_deref(), s.syscall_name(), "serial {}: ours vs auditd's SYSCALL=", e.id.serial.0);
        assert_eq!(s.arch_name(), Some("i386"));
        got.push((e.id.serial.0, s.syscall.unwrap(), s.syscall_name().unwrap_or("?").to_string(), s.errno()));
    }
    let expected: Vec<(u64, u32, String, Option<&str>)> =
        expected.iter().map(|&(serial, nr, name, errno)| (serial, nr, name.to_string(), errno)).collect();
    assert_eq!(got, expected);
}

#[test]
fn user_names_come_from_the_enriched_suffix() {
    let s = summarize(benign_enriched().event(48528)).unwrap();
    let ids: Vec<(&str, Option<u32>, Option<String>)> =
        s.ids.iter().map(|(k, id)| (*k, id.value, name_of(id))).collect();
    assert_eq!(ids[0], ("auid", Some(4242), Some("unknown(4242)".into())));
    assert_eq!(ids[1], ("uid", Some(1001), Some("amprobe".into())));
    assert_eq!(s.keys.iter().map(|k| k.to_vec()).collect::<Vec<_>>(), strs(&["access_denied"]));
}

/// Both kernel captures: 18,454 records; 4,428 syscall events that end on PROCTITLE and 87 user-space
/// events that stand alone; no serial is missing (`auditctl -s` reported lost = 0).
fn expected_kernel_stats() -> Stats {
    let mut by_completion = [0; 6];
    by_completion[Completion::Standalone as usize] = 87;
    by_completion[Completion::Proctitle as usize] = 4428;
    Stats { records: 18_454, events: 4515, by_completion, ..Stats::default() }
}

#[test]
fn benign_enriched_whole_file_stats() {
    let run = benign_enriched();
    assert_eq!(run.framing_errors.len(), 0);
    assert_eq!(run.gaps, []);
    assert_eq!(run.stats, expected_kernel_stats());
    insta::assert_debug_snapshot!("benign_enriched_stats", run.stats);
}

#[test]
fn benign_raw_whole_file_stats() {
    let run = run_corpus(BENIGN_RAW);
    assert_eq!(run.framing_errors.len(), 0);
    assert_eq!(run.gaps, []);
    assert_eq!(run.stats, expected_kernel_stats());
}

// ---------------------------------------------------------------------------------------------
// ENRICHED suffix whose 0x1d separator was stripped (crowdsec)

#[test]
fn stripped_enriched_separator() {
    let run = run_corpus("public/crowdsecurity_hub/.tests/auditd-suid-crash/auditd-suid-crash.log");
    assert_eq!(run.framing_errors.len(), 0);

    let e = run.event(8272);
    let syscall = e.first(RecordType::SYSCALL).unwrap();
    assert!(
        syscall.body.ends_with(b" subj=unconfined key=\"susp_shell\""),
        "{}",
        String::from_utf8_lossy(syscall.body)
    );
    assert_eq!(
        syscall.enriched,
        Some(&b"ARCH=x86_64 SYSCALL=execve AUID=\"bui\" UID=\"bui\" GID=\"bui\" EUID=\"bui\" SUID=\"bui\" FSUID=\"bui\" EGID=\"bui\" SGID=\"bui\" FSGID=\"bui\""[..])
    );
    for path in e.all(RecordType::PATH) {
        assert!(path.body.ends_with(b" cap_fver=0 cap_frootid=0"), "{}", String::from_utf8_lossy(path.body));
        assert_eq!(path.enriched, Some(&b"OUID=\"root\" OGID=\"root\""[..]));
    }
    let s = summarize(e).unwrap();
    assert_eq!(s.keys.iter().map(|k| k.to_vec()).collect::<Vec<_>>(), strs(&["susp_shell"]));
    let uid = s.ids.iter().find(|(k, _)| *k == "uid").map(|(_, id)| (id.value, name_of(id)));
    assert_eq!(uid, Some((Some(1000), Some("bui".to_string()))));

    // su: the effective ids are root's.
    let s = summarize(run.event(8282)).unwrap();
    let ids: Vec<(&str, Option<u32>, Option<String>)> =
        s.ids.iter().map(|(k, id)| (*k, id.value, name_of(id))).collect();
    let bui = |k| (k, Some(1000), Some("bui".to_string()));
    let root = |k| (k, Some(0), Some("root".to_string()));
    assert_eq!(
        ids,
        [
            bui("auid"),
            bui("uid"),
            bui("gid"),
            root("euid"),
            root("suid"),
            root("fsuid"),
            bui("egid"),
            bui("sgid"),
            bui("fsgid")
        ]
    );
    assert_eq!(s.keys.iter().map(|k| k.to_vec()).collect::<Vec<_>>(), strs(&["priv_esc"]));

    // ANOM_ABEND: the suffix is glued to a number.
    let abend = run.event(8283).first(RecordType(1701)).unwrap();
    assert!(abend.body.ends_with(b" sig=11 res=1"), "{}", String::from_utf8_lossy(abend.body));
    assert_eq!(abend.enriched, Some(&b"AUID=\"bui\" UID=\"bui\" GID=\"bui\""[..]));
}

// ---------------------------------------------------------------------------------------------
// 2006 SELinux logs: legacy user messages and AVC text

/// `(name, kind, value)` for every field, kind being q(uoted), b(are), n(ested), {}, t(ext).
fn fields(fields: Fields<'_>) -> Vec<(String, &'static str, String)> {
    fields
        .map(|f| {
            let kind = match f.value {
                RawValue::Quoted(_) => "q",
                RawValue::Bare(_) => "b",
                RawValue::Nested(_) => "n",
                RawValue::Braced(_) => "{}",
                RawValue::Text(_) => "t",
            };
            assert_eq!(f.diagnostic, None);
            (String::from_utf8_lossy(f.name).into_owned(), kind, String::from_utf8_lossy(f.value.bytes()).into_owned())
        })
        .collect()
}

fn f(name: &str, kind: &'static str, value: &str) -> (String, &'static str, String) {
    (name.to_string(), kind, value.to_string())
}

#[test]
fn legacy_pam_user_message() {
    let run = run_corpus("public/SELinuxProject_selinux/python/sepolgen/tests/audit.txt");
    let e = event_at(&run, "1158584988.203:720");
    assert_eq!((types(e), e.completion), (vec!["USER_START".to_string()], Completion::Standalone));
    let r = e.first(RecordType(1105)).unwrap();
    let top = fields(Fields::new(r.body));
    let msg = "PAM: session open acct=root : exe=\"/usr/bin/sudo\" (hostname=?, addr=?, terminal=? res=success)";
    assert_eq!(
        top,
        [
            f("", "t", "user"),
            f("pid", "b", "8264"),
            f("uid", "b", "0"),
            f("auid", "b", "500"),
            f("subj", "b", "user_u:system_r:unconfined_t:s0"),
            f("msg", "n", msg),
        ]
    );
    let nested = fields(Fields::nested(msg.as_bytes()));
    assert_eq!(
        nested,
        [
            f("", "t", "PAM: session open"),
            f("acct", "b", "root"),
            f("", "t", ":"),
            f("exe", "q", "/usr/bin/sudo"),
            f("hostname", "b", "?"),
            f("addr", "b", "?"),
            f("terminal", "b", "?"),
            f("res", "b", "success"),
        ]
    );
    // `acct` is an encoded field, but `root` is not hex: it stays as written.
    let acct = Fields::nested(msg.as_bytes()).find(|f| f.name == b"acct").unwrap();
    assert_eq!(decode(RecordType(1105), acct.name, acct.value), (Value::Bare(b"root"), None));
}

#[test]
fn legacy_user_avc_and_avc_text() {
    let run = run_corpus("public/SELinuxProject_selinux/python/sepolgen/tests/test_data/audit.log");

    let e = event_at(&run, "1162850332.318:979");
    assert_eq!(types(e), ["AVC", "SYSCALL"]);
    let avc = e.first(RecordType(1400)).unwrap();
    assert_eq!(
        fields(Fields::new(avc.body)),
        [
            f("", "t", "avc:  denied  { read } for"),
            f("pid", "b", "6306"),
            f("comm", "q", "beagled"),
            f("name", "q", ".gdmDOM7HT"),
            f("dev", "b", "dm-0"),
            f("ino", "b", "14469552"),
            f("scontext", "b", "staff_u:staff_r:staff_t:s0"),
            f("tcontext", "b", "system_u:object_r:xdm_tmp_t:s0"),
            f("tclass", "b", "file"),
        ]
    );
    // A 2006 i386 kernel: syscall 33 is access.
    let s = summarize(e).unwrap();
    assert_eq!((s.arch_name(), s.syscall_name(), s.success), (Some("i386"), Some("access"), Some(true)));

    let run = run_corpus("public/SELinuxProject_selinux/python/sepolgen/tests/test_data/httpd.log");
    let e = event_at(&run, "1163772866.369:8084");
    let r = e.first(RecordType(1107)).unwrap();
    let msg = Fields::new(r.body).find(|f| f.name == b"msg").unwrap().value;
    assert!(matches!(msg, RawValue::Nested(_)));
    assert_eq!(
        fields(Fields::nested(msg.bytes())),
        [
            f("", "t", "avc:  denied  { send_msg } for"),
            f("msgtype", "b", "signal"),
            f("interface", "b", "org.freedesktop.NetworkManager"),
            f("member", "b", "DeviceActivationStage"),
            f("dest", "b", "org.freedesktop.DBus"),
            f("spid", "b", "6687"),
            f("tpid", "b", "3866"),
            f("scontext", "b", "staff_u:staff_r:staff_t:s0"),
            f("tcontext", "b", "staff_u:staff_r:staff_t:s0"),
            f("tclass", "b", "dbus"),
            f("", "t", ":"),
            f("exe", "q", "/bin/dbus-daemon"),
            f("sauid", "b", "81"),
            f("hostname", "b", "?"),
            f("addr", "b", "?"),
            f("terminal", "b", "?"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Numeric fields that share a name with nothing encoded

#[test]

fn numeric_id_old_and_new_fields_are_not_hex() {
    // ADD_USER from the kernel capture: `id=1001` is a uid (ausearch -i prints `id=unknown(1001)`),
    // not the two bytes 0x10 0x01.
    let log = read_corpus(BENIGN_RAW);
    let line = event_lines(&log, "1795242236.583:50941")[0];
    let record = parse::parse_line(line).unwrap();
    let msg = Fields::new(record.body).find(|f| f.name == b"msg").unwrap().value.bytes();
    let id = Fields::nested(msg).find(|f| f.name == b"id").unwrap();
    assert_eq!(decode(record.record_type, id.name, id.value), (Value::Bare(b"1001"), None));

    // MAC_UNLBL_ALLOW: `old=0` is the previous unlbl_accept value, not damaged hex.
    let log = read_corpus("public/hillu_linux-audit-parser-rs/src/testdata/line-netlabel.txt");
    let record = parse::parse_line(lines(&log).next().unwrap()).unwrap();
    assert_eq!(record.body, b"netlabel: auid=0 ses=0 unlbl_accept=1 old=0");
    let old = Fields::new(record.body).find(|f| f.name == b"old").unwrap();
    assert_eq!(decode(record.record_type, old.name, old.value), (Value::Bare(b"0"), None));

    // AVC on a SysV semaphore: `key=0` is the IPC key (ausearch prints `key=0`), not a rule key.
    let log = read_corpus("public/SELinuxProject_selinux/python/sepolgen/tests/test_data/httpd.log");
    let line = event_lines(&log, "1163794368.105:14469").into_iter().find(|l| l.starts_with(b"type=AVC")).unwrap();
    let record = parse::parse_line(line).unwrap();
    let key = Fields::new(record.body).find(|f| f.name == b"key").unwrap();
    assert_eq!(decode(record.record_type, key.name, key.value), (Value::Bare(b"0"), None));
}

// ---------------------------------------------------------------------------------------------
// go-libaudit reassembler sequences: normal, lost, out of order, rollover

/// `(serial, record types, completion, incomplete)` for every event, in emission order.
type Shape = (u64, Vec<&'static str>, Completion, Vec<Incomplete>);

fn shapes(run: &Run) -> Vec<(u64, Vec<String>, Completion, Vec<Incomplete>)> {
    run.events.iter().map(|e| (e.id.serial.0, types(e), e.completion, e.incomplete.clone())).collect()
}

fn own(expected: Vec<Shape>) -> Vec<(u64, Vec<String>, Completion, Vec<Incomplete>)> {
    expected.into_iter().map(|(s, t, c, i)| (s, t.into_iter().map(String::from).collect(), c, i)).collect()
}

const EXECVE_EVENT: [&str; 5] = ["SYSCALL", "EXECVE", "CWD", "PATH", "PATH"];

/// Events 59–62 are the same in the three 17-line files; the file has no EOE and no PROCTITLE,
/// so events end on the 2 s event-time timeout (61 arrives 7.8 s later) or at the end.
fn tail_59_to_62() -> Vec<Shape> {
    vec![
        (59, EXECVE_EVENT.to_vec(), Completion::Timeout, vec![]),
        (60, EXECVE_EVENT.to_vec(), Completion::Timeout, vec![]),
        (61, vec!["SYSCALL", "SOCKADDR", "CWD", "PATH"], Completion::EndOfInput, vec![]),
        (62, vec!["SYSCALL"], Completion::EndOfInput, vec![]),
    ]
}

#[test]
fn go_libaudit_normal() {
    let run = run_corpus("public/elastic_go-libaudit/testdata/normal.log");
    let mut expected = vec![(58, vec!["SYSCALL", "SOCKADDR"], Completion::Timeout, vec![])];
    expected.extend(tail_59_to_62());
    assert_eq!(shapes(&run), own(expected));
    assert_eq!((run.gaps.as_slice(), run.stats.missing_serials, run.stats.late_records), (&[][..], 0, 0));
}

#[test]
fn go_libaudit_lost_messages() {
    let run = run_corpus("public/elastic_go-libaudit/testdata/lost_messages.log");
    let mut expected = vec![(49, vec!["SYSCALL", "SOCKADDR"], Completion::Timeout, vec![])];
    expected.extend(tail_59_to_62());
    assert_eq!(shapes(&run), own(expected));
    // Serials 50..=58 never arrived; the hole is noticed when 59 arrives.
    assert_eq!(run.gaps, [SerialGap { node: 0, first: 50, count: 9, noticed_ms: 1_492_037_291_036 }]);
    assert_eq!((run.stats.missing_serials, run.stats.serial_gaps, run.stats.serial_resets), (9, 1, 0));
}

#[test]
fn go_libaudit_out_of_order() {
    // PATH item=1 of event 60 arrives after SYSCALL 61, whose timestamp is 7.8 s newer: beyond the
    // default 2 s event-time timeout, so 60 is emitted without it (flagged missing a path) and the
    // late PATH becomes its own partial event. Nothing is lost; it is counted as late.
    let path = "public/elastic_go-libaudit/testdata/out_of_order.log";
    let run = run_corpus(path);
    let expected = vec![
        (58, vec!["SYSCALL", "SOCKADDR"], Completion::Timeout, vec![]),
        (59, EXECVE_EVENT.to_vec(), Completion::Timeout, vec![]),
        (60, vec!["SYSCALL", "EXECVE", "CWD", "PATH"], Completion::Timeout, vec![Incomplete::MissingPaths]),
        (61, vec!["SYSCALL", "SOCKADDR", "CWD", "PATH"], Completion::EndOfInput, vec![]),
        (60, vec!["PATH"], Completion::EndOfInput, vec![Incomplete::NoSyscallRecord]),
        (62, vec!["SYSCALL"], Completion::EndOfInput, vec![]),
    ];
    assert_eq!(shapes(&run), own(expected));
    assert_eq!((run.stats.late_records, run.stats.missing_serials), (1, 0));

    // With a timeout longer than the reordering, every event is whole.
    let config = Config { event_timeout_ms: 10_000, ..Config::default() };
    let patient = conformance::run(&read_corpus(path), config);
    let got: Vec<(u64, usize, bool)> =
        patient.events.iter().map(|e| (e.id.serial.0, e.len(), e.is_partial())).collect();
    assert_eq!(got, [(58, 2, false), (59, 5, false), (60, 5, false), (61, 4, false), (62, 1, false)]);
    assert_eq!((patient.stats.late_records, patient.stats.missing_serials), (0, 0));
}

#[test]
fn go_libaudit_serial_rollover() {
    let run = run_corpus("public/elastic_go-libaudit/testdata/rollover.log");
    let got: Vec<(u64, usize)> = run.events.iter().map(|e| (e.id.serial.0, e.len())).collect();
    assert_eq!(got, [(4_294_967_294, 1), (4_294_967_295, 1), (0, 1), (1, 1), (2, 1)]);
    // 2^32-1 → 0 → 1 is the counter wrapping, not loss and not a reset.
    assert_eq!(run.gaps, []);
    assert_eq!((run.stats.missing_serials, run.stats.serial_resets, run.stats.late_records), (0, 0, 0));
}

// ---------------------------------------------------------------------------------------------
// OMS: a 300 KB EXECVE event, multi-key rules

#[test]
fn oversized_execve_event() {
    let run = run_corpus("public/microsoft_OMS-Auditd-Plugin/oversized_event_text.log");
    let e = run.event(603_432);
    assert_eq!((e.len(), count(e, RecordType::EXECVE)), (46, 41));
    assert_eq!((e.completion, e.incomplete.as_slice()), (Completion::Proctitle, &[][..]));
    let argv = e.argv.as_ref().unwrap();
    assert_eq!((argv.argc, argv.len(), argv.problems.as_slice()), (Some(23), 23, &[][..]));
    assert_eq!(argv.get(0), Some(&b"/bin/echo"[..]));
    assert_eq!(argv.get(1), Some(&b"aueventgen"[..]));
    assert_eq!(argv.get(2), Some(&b"2020-11-17T07:54:00.429207603"[..]));
    for i in 3..=21 {
        assert_eq!(argv.get(i), Some(&[b'0'; 8000][..]), "argv[{i}]: a{i}_len=16000 hex digits of 0x30");
    }
    assert_eq!(argv.get(22), Some(&b""[..]));
    let merged: usize = argv.iter().map(<[u8]>::len).sum();
    assert_eq!(merged, 9 + 10 + 29 + 19 * 8000);
}

fn keys(e: &Event) -> Vec<Vec<u8>> {
    summarize(e).unwrap().keys.iter().map(|k| k.to_vec()).collect()
}

#[test]
fn multiple_rule_keys_joined_by_0x01() {
    let run = run_corpus("public/microsoft_OMS-Auditd-Plugin/raw_test_events.log");
    // key=61756F6D7301657865637665
    let e = run.events.iter().find(|e| e.id.serial.0 == 262_332 && e.first(RecordType::SYSCALL).is_some()).unwrap();
    assert_eq!(e.node(), Some(&b"test"[..]));
    assert_eq!(keys(e), strs(&["auoms", "execve"]));
}

#[test]

fn multiple_rule_keys_with_a_stray_quote() {
    // go-libaudit's own golden output for this line has keys ["exec", "64bit"]: the hex before the
    // stray `"` is intact. Decoding it, or at least reporting the damage, is expected; keeping
    // `65786563013634626974"` as a plain key with no diagnostic is not.
    let run = run_corpus("public/elastic_go-libaudit/auparse/testdata/audit-ubuntu17.log");
    assert_eq!(keys(run.event(106_081)), strs(&["exec", "64bit"]));
}

// ---------------------------------------------------------------------------------------------
// EOE-bearing logs (auditd plugins, laurel's test data)

#[test]

fn first_event_of_an_eoe_stream_is_whole() {
    let run = run_corpus("public/threathunters-io_laurel/src/testdata/record-execve.txt");
    let expected =
        vec![(15558, vec!["SYSCALL", "EXECVE", "CWD", "PATH", "PATH", "PROCTITLE", "EOE"], Completion::Eoe, vec![])];
    assert_eq!(shapes(&run), own(expected));

    let run = run_corpus("public/microsoft_OMS-Auditd-Plugin/raw_test_events.log");
    let first: Vec<&Event> = run.with_serial(262_332);
    assert_eq!(first.len(), 1, "{:?}", first.iter().map(|e| types(e)).collect::<Vec<_>>());
    assert_eq!((first[0].len(), first[0].completion), (7, Completion::Eoe));
}

// ---------------------------------------------------------------------------------------------
// Duplicates, files cut mid-event, late records

/// A syscall event from the kernel capture: SYSCALL, CWD, PATH×2, PROCTITLE.
fn newline_event(log: &[u8]) -> Vec<&[u8]> {
    let lines = event_lines(log, "1795242172.415:48467");
    let kinds: Vec<RecordType> = lines.iter().map(|l| parse::parse_line(l).unwrap().record_type).collect();
    assert_eq!(
        kinds,
        [RecordType::SYSCALL, RecordType::CWD, RecordType::PATH, RecordType::PATH, RecordType::PROCTITLE]
    );
    lines
}

#[test]
fn duplicated_records_are_counted_on_their_event() {
    let log = read_corpus(BENIGN_ENRICHED);
    let lines = newline_event(&log);
    let (body, proctitle) = lines.split_at(lines.len() - 1);

    // The whole event again before it completes (PROCTITLE, which completes it, comes once).
    let twice: Vec<&[u8]> = body.iter().chain(body).chain(proctitle).copied().collect();
    let run = run_lines(twice, Config::default());
    assert_eq!(run.events.len(), 1);
    let e = &run.events[0];
    assert_eq!((e.len(), e.duplicate_records, e.completion), (5, 4, Completion::Proctitle));
    assert!(!e.is_partial());
    assert_eq!((run.stats.records, run.stats.duplicate_records), (9, 4));

    // Every record twice in a row; the duplicate PROCTITLE arrives after the event completed.
    let doubled: Vec<&[u8]> = body.iter().flat_map(|l| [*l, *l]).chain(proctitle.iter().copied()).collect();
    let run = run_lines(doubled, Config::default());
    assert_eq!((run.events.len(), run.events[0].duplicate_records), (1, 4));

    // Records are compared byte for byte: the same event from another node is not a duplicate.
    let other_node: Vec<Vec<u8>> = lines.iter().map(|l| [&b"node=web-02 "[..], &l[12..]].concat()).collect();
    assert!(lines[0].starts_with(b"node=web-01 "));
    let mixed: Vec<&[u8]> =
        body.iter().copied().chain(other_node.iter().map(Vec::as_slice)).chain(proctitle.iter().copied()).collect();
    let run = run_lines(mixed, Config::default());
    let got: Vec<(Option<&[u8]>, usize, u32)> =
        run.events.iter().map(|e| (e.node(), e.len(), e.duplicate_records)).collect();
    assert_eq!(got, [(Some(&b"web-02"[..]), 5, 0), (Some(&b"web-01"[..]), 5, 0)]);
}

#[test]
fn file_that_starts_mid_event() {
    let log = read_corpus(BENIGN_ENRICHED);
    let lines = newline_event(&log);
    let run = run_lines(lines[1..].iter().copied(), Config::default());
    assert_eq!(run.events.len(), 1);
    let e = &run.events[0];
    assert_eq!(types(e), ["CWD", "PATH", "PATH", "PROCTITLE"]);
    assert_eq!((e.completion, e.incomplete.as_slice()), (Completion::Proctitle, &[Incomplete::NoSyscallRecord][..]));
    assert_eq!(run.stats.partial_events, 1);
}

#[test]
fn file_that_ends_mid_event() {
    let log = read_corpus(BENIGN_ENRICHED);
    let lines = newline_event(&log);

    // Cut before PROCTITLE: every record the SYSCALL announces is there.
    let run = run_lines(lines[..4].iter().copied(), Config::default());
    let e = &run.events[0];
    assert_eq!((run.events.len(), e.len(), e.completion), (1, 4, Completion::EndOfInput));
    assert_eq!(e.incomplete, []);

    // Cut after the first PATH: items=2 but one PATH.
    let run = run_lines(lines[..3].iter().copied(), Config::default());
    let e = &run.events[0];
    assert_eq!((run.events.len(), e.len(), e.completion), (1, 3, Completion::EndOfInput));
    assert_eq!(e.incomplete, [Incomplete::MissingPaths]);
}

#[test]
fn late_record_after_proctitle_completion_is_counted() {
    let log = read_corpus(BENIGN_ENRICHED);
    let lines = newline_event(&log);
    let daemon_start = log.split(|&b| b == b'\n').next().unwrap();

    // Right after PROCTITLE the event is still held (its EOE could follow): a repeat of one of
    // its records is a duplicate, not a new event.
    let mut input = lines.clone();
    input.push(lines[2]);
    let run = run_lines(input, Config::default());
    let got: Vec<(usize, Completion, u32)> = run.events.iter().map(|e| (e.len(), e.completion, e.duplicate_records)).collect();
    assert_eq!(got, [(5, Completion::Proctitle, 1)]);
    assert_eq!((run.stats.late_records, run.stats.duplicate_records), (0, 1));

    // Once another record has come in between, it is late: a new, partial event.
    let mut input = lines.clone();
    input.push(daemon_start);
    input.push(lines[2]); // PATH item=0 again
    let run = run_lines(input, Config::default());
    let got: Vec<(usize, Completion, Vec<Incomplete>)> =
        run.events.iter().map(|e| (e.len(), e.completion, e.incomplete.clone())).collect();
    assert_eq!(
        got,
        [
            (5, Completion::Proctitle, vec![]),
            (1, Completion::Standalone, vec![]),
            (1, Completion::EndOfInput, vec![Incomplete::NoSyscallRecord])
        ]
    );
    assert_eq!(run.stats.late_records, 1);
}

#[test]
fn a_syscall_that_blocked_longer_than_the_timeout_stays_whole() {
    // Regression: the timeout used to count from the event's own timestamp, so such an event was
    // split record by record.
    // The kernel stamps a syscall event at syscall entry and writes its records at exit, so a
    // syscall that blocked for longer than the timeout arrives after newer, already completed
    // events, its records together. Here the capture's first sendto event (…165.039:46299,
    // SYSCALL + PROCTITLE) comes 7.4 s late, after the complete event …172.415:48467.
    let log = read_corpus(BENIGN_ENRICHED);
    let mut input = newline_event(&log);
    input.extend(event_lines(&log, "1795242165.039:46299"));
    let run = run_lines(input, Config::default());
    let got: Vec<(u64, Vec<String>, Vec<Incomplete>)> =
        run.events.iter().map(|e| (e.id.serial.0, types(e), e.incomplete.clone())).collect();
    let expected: Vec<(u64, Vec<String>, Vec<Incomplete>)> = vec![
        (48467, strings(&["SYSCALL", "CWD", "PATH", "PATH", "PROCTITLE"]), vec![]),
        (46299, strings(&["SYSCALL", "PROCTITLE"]), vec![]),
    ];
    assert_eq!(got, expected);
    assert_eq!(run.stats.late_records, 0);
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn avc_of_a_blocking_accept_arrives_13_s_before_its_syscall() {
    // httpd's accept() was denied at 368.125 and returned 13 s later: the AVC is written at the
    // denial, the SYSCALL at exit, with newer events in between. Beyond the 2 s event-time
    // timeout the two records become two events, the second counted as late; ausearch -i splits
    // them the same way. Nothing is lost.
    let run = run_corpus("public/SELinuxProject_selinux/python/sepolgen/tests/test_data/httpd.log");
    let events: Vec<(Vec<String>, Completion)> =
        run.with_serial(14482).iter().map(|e| (types(e), e.completion)).collect();
    assert_eq!(events, [(strings(&["AVC"]), Completion::Timeout), (strings(&["SYSCALL"]), Completion::Timeout)]);
    assert_eq!(run.stats.late_records, 1);
    // With a timeout longer than the block, it is one event.
    let config = Config { event_timeout_ms: 15_000, ..Config::default() };
    let patient = conformance::run(
        &read_corpus("public/SELinuxProject_selinux/python/sepolgen/tests/test_data/httpd.log"),
        config,
    );
    let events: Vec<Vec<String>> = patient.with_serial(14482).iter().map(|e| types(e)).collect();
    assert_eq!(events, [strings(&["AVC", "SYSCALL"])]);
}

// ---------------------------------------------------------------------------------------------
// Bounded memory

#[test]
fn eviction_under_a_flood_of_never_completed_events() {
    const FLOOD: u64 = 100_000;
    const LIMIT: usize = 1000;
    // A real PATH record, repeated with distinct serials and the same timestamp: it never
    // completes (no SYSCALL, no PROCTITLE, no EOE) and never times out.
    let template = "type=PATH msg=audit(1492037298.883:{}): item=0 name=\"public/pickup\" inode=34151428 dev=08:01 mode=0140666 ouid=89 ogid=89 rdev=00:00 obj=system_u:object_r:postfix_public_t:s0 objtype=NORMAL";
    let log: Vec<Vec<u8>> =
        (1..=FLOOD).map(|serial| template.replace("{}", &serial.to_string()).into_bytes()).collect();
    let config = Config { max_pending_events: LIMIT, ..Config::default() };
    let run = run_lines(log.iter().map(Vec::as_slice), config);

    assert!(run.max_pending <= LIMIT + 1, "pending reached {}", run.max_pending);
    assert_eq!(run.events.len() as u64, FLOOD, "every record is emitted");
    let serials: Vec<u64> = run.events.iter().map(|e| e.id.serial.0).collect();
    assert_eq!(serials, (1..=FLOOD).collect::<Vec<_>>(), "oldest first, each once");
    let evicted = FLOOD - LIMIT as u64;
    assert_eq!(run.stats.evicted_events, evicted);
    assert_eq!(run.stats.completed(Completion::Evicted), evicted);
    assert_eq!(run.stats.completed(Completion::EndOfInput), LIMIT as u64);
    assert!(run.events[..evicted as usize]
        .iter()
        .all(|e| e.incomplete == [Incomplete::NoSyscallRecord, Incomplete::Evicted]
            && e.completion == Completion::Evicted));
    assert!(run.events[evicted as usize..].iter().all(|e| e.incomplete == [Incomplete::NoSyscallRecord]));
    assert_eq!((run.stats.records, run.stats.partial_events, run.stats.missing_serials), (FLOOD, FLOOD, 0));
}
