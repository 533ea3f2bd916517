//! Differential test against `ausearch -i` (Debian's `auditd` package): for every syscall event of
//! the RAW kernel capture, our interpretation must agree with auditd's own — architecture and
//! syscall names, success, exit and errno name, the hex-decoded strings (comm, exe, cwd, PATH
//! names, proctitle, EXECVE arguments), rule keys, socket addresses, timestamps and the records
//! grouped into each event.
//!
//! `ausearch` runs with `TZ=UTC LC_ALL=C` (it prints local time with `%x`) and `--escape shell`,
//! so that values with spaces split unambiguously: it backslash-escapes `"'`$\!()| ` and space,
//! and writes bytes below 32 as `\ooo`. We undo exactly that.
//!
//! The test fails, rather than skips, when `ausearch` is missing: CI installs it.

use std::collections::{BTreeMap, HashMap};
use std::process::Command;

use assemble::summary::summarize;
use assemble::Event;
use conformance::{corpus_dir, run_corpus};
use parse::{Fields, RawValue};
use vocab::RecordType;

const LOG: &str = "kernel/benign-raw/audit.log";

/// One record as `ausearch -i` prints it.
struct Theirs {
    record_type: String,
    /// `MM/DD/YY HH:MM:SS.mmm`.
    time: String,
    fields: Vec<(String, Vec<u8>)>,
}

impl Theirs {
    fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_slice())
    }
}

fn ausearch_interpreted(path: &std::path::Path) -> Vec<u8> {
    let output = Command::new("ausearch")
        .args(["-i", "--escape", "shell", "-if"])
        .arg(path)
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .output();
    let output = match output {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`ausearch` is not installed: install Debian's `auditd` package (scripts/install-test-deps.sh does). \
             This differential test fails rather than skips without it"
        ),
        Err(e) => panic!("cannot run ausearch: {e}"),
    };
    assert!(
        output.status.success(),
        "ausearch failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Undoes `--escape shell`: `\ooo` for bytes below 32, `\c` for the shell set.
fn unescape(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' && i + 1 < v.len() {
            let octal = v
                .get(i + 1..i + 4)
                .filter(|d| d[0] == b'0' && (b'0'..=b'3').contains(&d[1]) && (b'0'..=b'7').contains(&d[2]));
            if let Some(d) = octal {
                out.push((d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            } else {
                out.push(v[i + 1]);
                i += 2;
            }
        } else {
            out.push(v[i]);
            i += 1;
        }
    }
    out
}

/// Splits at spaces that are neither escaped nor inside `{ … }` (with an ENRICHED log, ausearch
/// prints auditd's `SADDR={ saddr_fam=inet … }` as it stands, unescaped).
fn split_unescaped(s: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let (mut start, mut i, mut depth) = (0, 0, 0u32);
    while i < s.len() {
        match s[i] {
            b'\\' => i += 2,
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b' ' if depth == 0 => {
                if i > start {
                    parts.push(&s[start..i]);
                }
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < s.len() {
        parts.push(&s[start..]);
    }
    parts
}

/// Parses `ausearch -i` output into events by serial: `----` separates events, each line is
/// `type=NAME msg=audit(DATE TIME.MSEC:SERIAL) : key=value …`.
fn parse_ausearch(out: &[u8]) -> HashMap<u64, Vec<Vec<Theirs>>> {
    let mut events: HashMap<u64, Vec<Vec<Theirs>>> = HashMap::new();
    let mut current: Vec<Theirs> = Vec::new();
    let mut current_serial = None;
    let mut flush = |records: &mut Vec<Theirs>, serial: &mut Option<u64>| {
        if let Some(s) = serial.take() {
            events.entry(s).or_default().push(std::mem::take(records));
        }
    };
    for line in out.split(|&b| b == b'\n') {
        if line == b"----" {
            flush(&mut current, &mut current_serial);
            continue;
        }
        if line.is_empty() {
            continue;
        }
        // ENRICHED logs carry a `node=` prefix, which ausearch prints as it is.
        let line = match line.strip_prefix(b"node=") {
            Some(rest) => &rest[rest.iter().position(|&b| b == b' ').map_or(rest.len(), |p| p + 1)..],
            None => line,
        };
        let text = line
            .strip_prefix(b"type=")
            .unwrap_or_else(|| panic!("unexpected ausearch line {:?}", String::from_utf8_lossy(line)));
        let space = text.iter().position(|&b| b == b' ').expect("a space after the type");
        let record_type = String::from_utf8_lossy(&text[..space]).into_owned();
        let rest = text[space..].strip_prefix(b" msg=audit(").expect("msg=audit(");
        // `) : ` before the fields; a record without fields (EOE) ends in `) :`.
        let close = rest.windows(3).position(|w| w == b") :").expect("`) :` after the header");
        let stamp = std::str::from_utf8(&rest[..close]).expect("ASCII header");
        let (time, serial) = stamp.rsplit_once(':').expect("TIME:SERIAL");
        let serial: u64 = serial.parse().unwrap_or_else(|_| panic!("a numeric serial in {stamp:?}"));
        let body = rest.get(close + 4..).unwrap_or_default();
        let fields = split_unescaped(body)
            .into_iter()
            .map(|token| match token.iter().position(|&b| b == b'=') {
                Some(eq) => (String::from_utf8_lossy(&token[..eq]).into_owned(), unescape(&token[eq + 1..])),
                None => (String::new(), unescape(token)),
            })
            .collect();
        current_serial = Some(serial);
        current.push(Theirs { record_type, time: time.to_string(), fields });
    }
    flush(&mut current, &mut current_serial);
    events
}

/// Formats event time as ausearch does with `TZ=UTC LC_ALL=C`: `%x %T.mmm`.
fn ausearch_time(millis: u64) -> String {
    let secs = millis / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{month:02}/{day:02}/{:02} {:02}:{:02}:{:02}.{:03}",
        year % 100,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        millis % 1000
    )
}

/// Agreement counts per check, with a few examples of each disagreement.
#[derive(Default)]
struct Tally {
    checks: BTreeMap<String, (u64, u64, Vec<String>)>,
}

impl Tally {
    fn check(&mut self, name: &str, serial: u64, ours: &[u8], theirs: &[u8]) {
        let entry = self.checks.entry(name.to_string()).or_default();
        if ours == theirs {
            entry.0 += 1;
        } else {
            entry.1 += 1;
            if entry.2.len() < 5 {
                entry.2.push(format!(
                    "serial {serial}: ours {:?} vs ausearch {:?}",
                    String::from_utf8_lossy(&ours[..ours.len().min(120)]),
                    String::from_utf8_lossy(&theirs[..theirs.len().min(120)])
                ));
            }
        }
    }

    fn report(&self) -> String {
        let mut out = format!("{:<22} {:>8} {:>8} {:>8}\n", "check", "compared", "agree", "disagree");
        for (name, (agree, disagree, examples)) in &self.checks {
            out.push_str(&format!("{name:<22} {:>8} {agree:>8} {disagree:>8}\n", agree + disagree));
            for e in examples {
                out.push_str(&format!("    {e}\n"));
            }
        }
        out
    }
}

/// How a raw value was written: the kernel hex-encodes "untrusted strings" it cannot quote.
fn form(raw: Option<RawValue<'_>>) -> &'static str {
    match raw {
        Some(RawValue::Quoted(_)) => "quoted",
        Some(RawValue::Bare(b)) if b.first().is_some_and(u8::is_ascii_hexdigit) && b != b"(null)" => "hex",
        _ => "other",
    }
}

fn raw_field<'a>(body: &'a [u8], name: &[u8]) -> Option<RawValue<'a>> {
    Fields::new(body).find(|f| f.name == name).map(|f| f.value)
}

fn compare_event(ours: &Event, theirs: &[&Theirs], names: bool, tally: &mut Tally) {
    let serial = ours.id.serial.0;
    let s = summarize(ours).expect("a syscall event");
    let sys = theirs.iter().find(|r| r.record_type == "SYSCALL").expect("ausearch printed the SYSCALL record");
    let field = |r: &Theirs, k: &str| r.get(k).unwrap_or(b"<absent>").to_vec();

    tally.check("records", serial, ours.len().to_string().as_bytes(), theirs.len().to_string().as_bytes());
    tally.check("time", serial, ausearch_time(ours.id.time.millis).as_bytes(), sys.time.as_bytes());
    tally.check("arch", serial, s.arch_name().unwrap_or("<none>").as_bytes(), &field(sys, "arch"));
    tally.check("syscall", serial, s.syscall_name().unwrap_or("<none>").as_bytes(), &field(sys, "syscall"));
    let success: &[u8] = match s.success {
        Some(true) => b"yes",
        Some(false) => b"no",
        None => b"<absent>", // exit_group never returns: no success= nor exit=
    };
    tally.check("success", serial, success, &field(sys, "success"));
    // ausearch prints `exit=EACCES(Permission denied)` for errno values, the number otherwise.
    let their_exit = field(sys, "exit");
    match their_exit.iter().position(|&b| b == b'(') {
        Some(open) => {
            tally.check("exit errno name", serial, s.errno().unwrap_or("<none>").as_bytes(), &their_exit[..open])
        }
        None => tally.check(
            "exit value",
            serial,
            s.exit.map_or("<absent>".into(), |e| e.to_string()).as_bytes(),
            &their_exit,
        ),
    }

    let syscall = ours.first(RecordType::SYSCALL).unwrap();
    for (name, ours_value) in [("comm", &s.comm), ("exe", &s.exe)] {
        let check = format!("{name} ({})", form(raw_field(syscall.body, name.as_bytes())));
        tally.check(&check, serial, ours_value.as_deref().unwrap_or(b"(null)"), &field(sys, name));
    }
    if names {
        // ENRICHED logs: ausearch takes user and group names from the suffix, as we do.
        for (name, id) in &s.ids {
            let ours_name = id.name.as_deref().map_or_else(|| b"<no name>".to_vec(), <[u8]>::to_vec);
            tally.check(&format!("{name} name"), serial, &ours_name, &field(sys, name));
        }
    }
    let our_key: Vec<u8> = if s.keys.is_empty() { b"(null)".to_vec() } else { s.keys.join(&b"\x01"[..]) };
    tally.check("key", serial, &our_key, &field(sys, "key"));

    if let Some(cwd) = ours.first(RecordType::CWD) {
        let their = theirs.iter().find(|r| r.record_type == "CWD").map(|r| field(r, "cwd")).unwrap_or_default();
        let check = format!("cwd ({})", form(raw_field(cwd.body, b"cwd")));
        tally.check(&check, serial, s.cwd.as_deref().unwrap_or(b"(null)"), &their);
    }
    for (path, record) in s.paths.iter().zip(ours.all(RecordType::PATH)) {
        let item = path.item.map(|i| i.to_string()).unwrap_or_default();
        let their = theirs
            .iter()
            .find(|r| r.record_type == "PATH" && r.get("item") == Some(item.as_bytes()))
            .map(|r| field(r, "name"))
            .unwrap_or_else(|| b"<no such PATH item>".to_vec());
        let check = format!("PATH name ({})", form(raw_field(record.body, b"name")));
        tally.check(&check, serial, path.name.as_deref().unwrap_or(b"(null)"), &their);
    }
    if let Some(proctitle) = ours.first(RecordType::PROCTITLE) {
        // ausearch prints the NUL separators as spaces.
        let ours_joined = s.proctitle_args().collect::<Vec<_>>().join(&b' ');
        let their =
            theirs.iter().find(|r| r.record_type == "PROCTITLE").map(|r| field(r, "proctitle")).unwrap_or_default();
        let check = format!("proctitle ({})", form(raw_field(proctitle.body, b"proctitle")));
        tally.check(&check, serial, &ours_joined, &their);
    }
    if let Some(argv) = &ours.argv {
        let their = their_argv(theirs);
        let ours_args: Vec<&[u8]> = argv.iter().collect();
        let their_args: Vec<&[u8]> = their.iter().map(Vec::as_slice).collect();
        tally.check(
            "argc",
            serial,
            argv.argc.map(|a| a.to_string()).unwrap_or_default().as_bytes(),
            &their_argc(theirs),
        );
        let agree = ours_args == their_args;
        let (o, t) =
            if agree { (b"=".to_vec(), b"=".to_vec()) } else { (ours_args.join(&b' '), their_args.join(&b' ')) };
        tally.check("argv", serial, &o, &t);
    }
    if let Some(sa) = &s.sockaddr {
        let their = theirs.iter().find(|r| r.record_type == "SOCKADDR").map(|r| field(r, "saddr")).unwrap_or_default();
        let their = sockaddr_fields(&their);
        let family = sa.family.unwrap_or("<none>");
        tally.check(
            "sockaddr family",
            serial,
            family.as_bytes(),
            their.get("saddr_fam").map_or(b"<absent>", Vec::as_slice),
        );
        match family {
            "inet" | "inet6" => {
                tally.check(
                    "sockaddr address",
                    serial,
                    sa.addr.as_deref().unwrap_or_default(),
                    their.get("laddr").map_or(b"<absent>", Vec::as_slice),
                );
                let port = sa.port.map(|p| p.to_string()).unwrap_or_default();
                tally.check(
                    "sockaddr port",
                    serial,
                    port.as_bytes(),
                    their.get("lport").map_or(b"<absent>", Vec::as_slice),
                );
            }
            "local" => {
                tally.check(
                    "sockaddr path",
                    serial,
                    sa.addr.as_deref().unwrap_or_default(),
                    their.get("path").map_or(b"<absent>", Vec::as_slice),
                );
            }
            _ => {}
        }
    }
}

/// The EXECVE arguments as ausearch prints them: `aN=…` or chunks `aN[M]=…`. ausearch prints an
/// event's records in its own order (not the log's), so chunks are put in order by index.
fn their_argv(theirs: &[&Theirs]) -> Vec<Vec<u8>> {
    let mut pieces: BTreeMap<(u32, Option<u32>), &[u8]> = BTreeMap::new();
    for r in theirs.iter().filter(|r| r.record_type == "EXECVE") {
        for (k, v) in &r.fields {
            let Some(rest) = k.strip_prefix('a') else { continue };
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            let Ok(index) = digits.parse::<u32>() else { continue };
            let tail = &rest[digits.len()..];
            let chunk = match tail.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                Some(m) => Some(m.parse::<u32>().expect("a chunk number")),
                None if tail.is_empty() => None,
                None => continue, // aN_len
            };
            pieces.insert((index, chunk), v);
        }
    }
    let mut args: BTreeMap<u32, Vec<u8>> = BTreeMap::new();
    for ((index, _), piece) in pieces {
        args.entry(index).or_default().extend_from_slice(piece);
    }
    args.into_values().collect()
}

fn their_argc(theirs: &[&Theirs]) -> Vec<u8> {
    theirs
        .iter()
        .filter(|r| r.record_type == "EXECVE")
        .find_map(|r| r.get("argc").map(<[u8]>::to_vec))
        .unwrap_or_default()
}

/// `{ saddr_fam=inet laddr=127.0.0.1 lport=80 }` → its fields.
fn sockaddr_fields(v: &[u8]) -> HashMap<String, Vec<u8>> {
    let inner = v.strip_prefix(b"{ ").and_then(|v| v.strip_suffix(b" }")).unwrap_or(v);
    inner
        .split(|&b| b == b' ')
        .filter_map(|t| {
            let eq = t.iter().position(|&b| b == b'=')?;
            Some((String::from_utf8_lossy(&t[..eq]).into_owned(), t[eq + 1..].to_vec()))
        })
        .collect()
}

#[test]
fn unescape_undoes_shell_escaping() {
    assert_eq!(unescape(br"with\ space\ \(x\)"), b"with space (x)");
    assert_eq!(unescape(br"nl\012name\011tab"), b"nl\nname\ttab");
    assert_eq!(unescape(br"back\\012slash"), b"back\\012slash");
    assert_eq!(split_unescaped(br"a=b\ c d=e  f=\\"), [&br"a=b\ c"[..], br"d=e", br"f=\\"]);
    assert_eq!(
        split_unescaped(b"saddr={ saddr_fam=inet lport=80 } x=1"),
        [&b"saddr={ saddr_fam=inet lport=80 }"[..], b"x=1"]
    );
    assert_eq!(ausearch_time(1_795_242_234_443), "11/21/26 06:23:54.443");
    assert_eq!(ausearch_time(0), "01/01/70 00:00:00.000");
}

/// Compares every syscall event of `log` with ausearch's interpretation; `names`: also the user
/// and group names (only meaningful with an ENRICHED log, otherwise ausearch looks the ids up on
/// this machine). Returns the tally after asserting there are no disagreements.
fn differential(log: &str, names: bool) -> Tally {
    let path = corpus_dir().join(log);
    let theirs = parse_ausearch(&ausearch_interpreted(&path));
    let ours = run_corpus(log);

    let mut tally = Tally::default();
    let mut missing = Vec::new();
    let mut split_by_ausearch = Vec::new();
    let mut syscall_events = 0;
    for event in ours.events.iter().filter(|e| e.first(RecordType::SYSCALL).is_some()) {
        syscall_events += 1;
        let serial = event.id.serial.0;
        let time = ausearch_time(event.id.time.millis);
        // Documented exception: ausearch prints a LOGIN record as an event of its own although the
        // kernel wrote it in the syscall's context, with the syscall's serial and time (one event
        // in the capture: LOGIN + SYSCALL + PROCTITLE of the write to /proc/self/loginuid). The
        // groups with our serial and time are merged before comparing.
        let groups: Vec<&Vec<Theirs>> = theirs
            .get(&serial)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|g| g.iter().any(|r| r.time == time))
            .collect();
        if groups.len() > 1 {
            split_by_ausearch.push((
                serial,
                groups.iter().map(|g| g.iter().map(|r| r.record_type.clone()).collect::<Vec<_>>()).collect::<Vec<_>>(),
            ));
        }
        let records: Vec<&Theirs> = groups.into_iter().flatten().collect();
        if records.iter().any(|r| r.record_type == "SYSCALL") {
            compare_event(event, &records, names, &mut tally);
        } else {
            missing.push(serial);
        }
    }
    let report = tally.report();
    println!("{log}: {syscall_events} syscall events; {} not found in ausearch's output", missing.len());
    println!("events ausearch prints as several (merged before comparing): {split_by_ausearch:?}\n{report}");
    for (_, groups) in &split_by_ausearch {
        assert!(
            groups.iter().any(|g| g == &["LOGIN"]),
            "ausearch split an event other than by a LOGIN record: {groups:?}"
        );
    }

    assert_eq!(syscall_events, 4428);
    assert_eq!(missing, [0u64; 0], "syscall events ausearch did not print");
    let disagreements: Vec<&String> =
        tally.checks.iter().filter(|(_, (_, d, _))| *d > 0).map(|(name, _)| name).collect();
    assert!(disagreements.is_empty(), "disagreement with ausearch -i in {disagreements:?}:\n{report}");
    tally
}

#[test]
fn syscall_events_agree_with_ausearch_interpretation() {
    let tally = differential(LOG, false);
    // Every kind of value was actually compared.
    for check in [
        "arch",
        "syscall",
        "exit errno name",
        "exit value",
        "comm (quoted)",
        "exe (quoted)",
        "cwd (quoted)",
        "PATH name (hex)",
        "PATH name (quoted)",
        "proctitle (hex)",
        "argv",
        "sockaddr address",
        "sockaddr path",
    ] {
        assert!(
            tally.checks.get(check).is_some_and(|(a, _, _)| *a > 0),
            "nothing compared for `{check}`:\n{}",
            tally.report()
        );
    }
}

#[test]
fn enriched_syscall_events_agree_with_ausearch_interpretation() {
    let tally = differential("kernel/benign-enriched/audit.log", true);
    for check in
        ["arch", "syscall", "uid name", "auid name", "euid name", "fsgid name", "sockaddr address", "sockaddr path"]
    {
        assert!(
            tally.checks.get(check).is_some_and(|(a, _, _)| *a > 0),
            "nothing compared for `{check}`:\n{}",
            tally.report()
        );
    }
}
