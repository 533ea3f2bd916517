//! End-to-end rendering tests: log lines in, exact JSON lines out, through one `check` function.

use std::borrow::Cow;

use assemble::{Assembler, Config, Event};

use crate::{write_diagnostic, write_event, Format, IdNames, NoNames, Options};

/// Assembles `lines` and renders every event; returns the JSON lines.
fn render(lines: &[&[u8]], opts: Options, names: &dyn IdNames) -> Vec<String> {
    let mut assembler = Assembler::new(Config::default());
    let mut events: Vec<Event> = Vec::new();
    for line in lines {
        assembler.push(&parse::parse_line(line).expect("test lines frame"), &mut events);
    }
    assembler.finish_all(&mut events);
    let mut out = Vec::new();
    for event in &events {
        write_event(&mut out, event, &opts, names);
    }
    let text = String::from_utf8(out).expect("output is UTF-8");
    text.lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("invalid JSON {e}: {l}"));
            l.to_string()
        })
        .collect()
}

fn check(lines: &[&[u8]], opts: Options, expected: &[&str]) {
    assert_eq!(render(lines, opts, &NoNames), expected);
}

const NATIVE: Options = Options { raw: false, format: Format::Native };

struct Names;

impl IdNames for Names {
    fn user(&self, uid: u32) -> Option<Cow<'_, str>> {
        (uid == 1000).then_some(Cow::Borrowed("bob"))
    }
    fn group(&self, gid: u32) -> Option<Cow<'_, str>> {
        (gid == 1000).then(|| Cow::Owned("staff".to_string()))
    }
}

const OPENAT: [&[u8]; 4] = [
    b"node=web-01 type=SYSCALL msg=audit(1795242165.039:7): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=7ffd a2=0 a3=0 items=1 ppid=1 pid=2 auid=4294967295 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=4294967295 comm=\"cat\" exe=\"/usr/bin/cat\" key=7365637265747301726561640025\x1dARCH=x86_64 SYSCALL=openat AUID=\"unset\" UID=\"alice\"",
    b"node=web-01 type=CWD msg=audit(1795242165.039:7): cwd=2F746D702F6120FF",
    b"node=web-01 type=PATH msg=audit(1795242165.039:7): item=0 name=\"/etc/shadow\" inode=42 dev=fe:01 mode=0100640 ouid=0 ogid=1000 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0\x1dOUID=\"root\" OGID=\"unknown(1000)\"",
    b"node=web-01 type=PROCTITLE msg=audit(1795242165.039:7): proctitle=636174002F6574632F736861646F77",
];

#[test]
fn failed_open_native() {
    let expected = concat!(
        r#"{"node":"web-01","time":"2026-11-21T06:22:45.039Z","serial":7,"completion":"proctitle","partial":false,"records":["#,
        r#"{"type":"SYSCALL","fields":{"arch":"c000003e","syscall":257,"success":"no","exit":-13,"a0":"ffffff9c","a1":"7ffd","a2":"0","a3":"0","items":1,"ppid":1,"pid":2,"auid":4294967295,"uid":1000,"gid":1000,"euid":1000,"suid":1000,"fsuid":1000,"egid":1000,"sgid":1000,"fsgid":1000,"tty":"pts0","ses":4294967295,"comm":"cat","exe":"/usr/bin/cat","key":"secrets\u0001read\u0000%25"},"enriched":{"ARCH":"x86_64","SYSCALL":"openat","AUID":"unset","UID":"alice"}},"#,
        r#"{"type":"CWD","fields":{"cwd":"/tmp/a %FF"}},"#,
        r#"{"type":"PATH","fields":{"item":0,"name":"/etc/shadow","inode":42,"dev":"fe:01","mode":"0100640","ouid":0,"ogid":1000,"rdev":"00:00","nametype":"NORMAL","cap_fp":"0","cap_fi":"0","cap_fe":"0","cap_fver":"0","cap_frootid":0},"enriched":{"OUID":"root","OGID":"unknown(1000)"}},"#,
        r#"{"type":"PROCTITLE","fields":{"proctitle":"cat\u0000/etc/shadow"}}],"#,
        r#""summary":{"arch":"x86_64","syscall":"openat","success":false,"exit":-13,"errno":"EACCES","pid":2,"ppid":1,"ses":null,"#,
        r#""auid":{"id":null,"unset":true},"uid":{"id":1000,"name":"alice"},"gid":{"id":1000,"name":"staff"},"euid":{"id":1000,"name":"bob"},"suid":{"id":1000,"name":"bob"},"fsuid":{"id":1000,"name":"bob"},"egid":{"id":1000,"name":"staff"},"sgid":{"id":1000,"name":"staff"},"fsgid":{"id":1000,"name":"staff"},"#,
        r#""tty":"pts0","comm":"cat","exe":"/usr/bin/cat","key":["secrets","read\u0000%25"],"cwd":"/tmp/a %FF","#,
        r#""paths":[{"item":0,"name":"/etc/shadow","inode":42,"dev":"fe:01","mode":"0100640","type":"file","nametype":"NORMAL","ouid":{"id":0,"name":"root"},"ogid":{"id":1000,"name":"staff"}}],"#,
        r#""proctitle":["cat","/etc/shadow"]}}"#,
    );
    assert_eq!(render(&OPENAT, NATIVE, &Names), [expected]);
}

#[test]
fn failed_open_ecs() {
    let expected = concat!(
        r#"{"@timestamp":"2026-11-21T06:22:45.039Z","ecs":{"version":"8.11.0"},"#,
        r#""event":{"kind":"event","module":"auditd","category":["file"],"type":["access"],"action":"openat","outcome":"failure","sequence":7},"#,
        r#""host":{"name":"web-01"},"#,
        r#""process":{"pid":2,"parent":{"pid":1},"executable":"/usr/bin/cat","name":"cat","title":"cat /etc/shadow","working_directory":"/tmp/a %FF"},"#,
        r#""user":{"id":"1000","name":"alice","effective":{"id":"1000"}},"group":{"id":"1000"},"#,
        r#""file":{"path":"/etc/shadow","inode":"42","mode":"0640","type":"file","uid":"0","owner":"root","gid":"1000"},"#,
        r#""tags":["secrets","read\u0000%25"],"#,
        r#""auditd":{"completion":"proctitle","partial":false,"records":[{"type":"SYSCALL","#,
    );
    let got = render(&OPENAT, Options { raw: false, format: Format::Ecs }, &NoNames);
    assert!(got[0].starts_with(expected), "{}", got[0]);
    assert!(got[0].ends_with(r#""proctitle":["cat","/etc/shadow"]}}}"#), "{}", got[0]);
}

#[test]
fn execve_records_merge_into_one_entry() {
    let lines: [&[u8]; 5] = [
        b"type=SYSCALL msg=audit(1.000:9): arch=c000003e syscall=59 success=yes exit=0 items=0 ppid=1 pid=3 comm=\"echo\" exe=\"/usr/bin/echo\" key=(null)",
        b"type=EXECVE msg=audit(1.000:9): argc=3 a0=\"echo\" a1_len=10 a1[0]=4141",
        b"type=EXECVE msg=audit(1.000:9): a1[1]=\"BB%B\"",
        b"type=EXECVE msg=audit(1.000:9): a2=FF00",
        b"type=PROCTITLE msg=audit(1.000:9): proctitle=6563686F",
    ];
    check(
        &lines,
        Options { raw: true, format: Format::Native },
        &[concat!(
            r#"{"time":"1970-01-01T00:00:01.000Z","serial":9,"completion":"proctitle","partial":false,"records":["#,
            r#"{"type":"SYSCALL","fields":{"arch":"c000003e","syscall":59,"success":"yes","exit":0,"items":0,"ppid":1,"pid":3,"comm":"echo","exe":"/usr/bin/echo","key":null},"raw":"type=SYSCALL msg=audit(1.000:9): arch=c000003e syscall=59 success=yes exit=0 items=0 ppid=1 pid=3 comm=\"echo\" exe=\"/usr/bin/echo\" key=(null)"},"#,
            r#"{"type":"EXECVE","fields":{"argc":3},"argv":["echo","AABB%25B","%FF\u0000"],"argv_problems":[{"kind":"length_mismatch","index":1,"expected":10,"got":8}],"#,
            r#""raw":["type=EXECVE msg=audit(1.000:9): argc=3 a0=\"echo\" a1_len=10 a1[0]=4141","type=EXECVE msg=audit(1.000:9): a1[1]=\"BB%25B\"","type=EXECVE msg=audit(1.000:9): a2=FF00"]},"#,
            r#"{"type":"PROCTITLE","fields":{"proctitle":"echo"},"raw":"type=PROCTITLE msg=audit(1.000:9): proctitle=6563686F"}],"#,
            r#""summary":{"arch":"x86_64","syscall":"execve","success":true,"exit":0,"pid":3,"ppid":1,"comm":"echo","exe":"/usr/bin/echo","proctitle":["echo"],"argv":["echo","AABB%25B","%FF\u0000"]}}"#,
        )],
    );
}

#[test]
fn user_space_record_with_legacy_message() {
    let line: &[u8] = b"type=USER_LOGIN msg=audit(1521757638.392:262332): pid=4 uid=0 auid=1000 ses=2 msg='op=login acct=\"bob\" exe=\"/usr/sbin/sshd\" hostname=? addr=192.0.2.7 terminal=ssh res=failed'";
    check(
        &[line],
        NATIVE,
        &[concat!(
            r#"{"time":"2018-03-22T22:27:18.392Z","serial":262332,"completion":"standalone","partial":false,"records":["#,
            r#"{"type":"USER_LOGIN","fields":{"pid":4,"uid":0,"auid":1000,"ses":2,"msg":{"op":"login","acct":"bob","exe":"/usr/sbin/sshd","hostname":"?","addr":"192.0.2.7","terminal":"ssh","res":"failed"}}}]}"#,
        )],
    );
    check(
        &[line],
        Options { raw: false, format: Format::Ecs },
        &[concat!(
            r#"{"@timestamp":"2018-03-22T22:27:18.392Z","ecs":{"version":"8.11.0"},"#,
            r#""event":{"kind":"event","module":"auditd","category":["authentication","session"],"type":["start"],"action":"user_login","outcome":"failure","sequence":262332},"#,
            r#""process":{"pid":4,"executable":"/usr/sbin/sshd","user":{"id":"0"}},"user":{"name":"bob","audit":{"id":"1000"}},"source":{"address":"192.0.2.7","ip":"192.0.2.7"},"#,
            r#""auditd":{"completion":"standalone","partial":false,"records":[{"type":"USER_LOGIN","fields":{"pid":4,"uid":0,"auid":1000,"ses":2,"msg":{"op":"login","acct":"bob","exe":"/usr/sbin/sshd","hostname":"?","addr":"192.0.2.7","terminal":"ssh","res":"failed"}}}]}}"#,
        )],
    );
}

#[test]
fn partial_event_and_unknown_names() {
    let lines: [&[u8]; 2] = [
        b"type=PATH msg=audit(1.000:5): item=0 name=\"/x\" nametype=NORMAL",
        b"type=UNKNOWN[1999] msg=audit(1.000:5): x=1 x=2",
    ];
    check(
        &lines,
        NATIVE,
        &[concat!(
            r#"{"time":"1970-01-01T00:00:01.000Z","serial":5,"completion":"end_of_input","partial":true,"incomplete":["no_syscall_record"],"records":["#,
            r#"{"type":"PATH","fields":{"item":0,"name":"/x","nametype":"NORMAL"}},{"type":"UNKNOWN[1999]","fields":{"x":1,"x_2":2}}]}"#,
        )],
    );
}

#[test]
fn unknown_syscall_number_and_socket_address() {
    let lines: [&[u8]; 3] = [
        b"type=SYSCALL msg=audit(1.000:6): arch=c000003e syscall=42 success=yes exit=0 pid=8 ses=3",
        b"type=SOCKADDR msg=audit(1.000:6): saddr=02000050C0000207",
        b"type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=998 success=yes exit=0",
    ];
    let got = render(&lines, NATIVE, &NoNames);
    assert!(
        got[0].ends_with(r#""summary":{"arch":"x86_64","syscall":"connect","success":true,"exit":0,"pid":8,"ses":3,"sockaddr":{"family":"inet","addr":"192.0.2.7","port":80,"kind":"inet"}}}"#),
        "{}",
        got[0]
    );
    assert!(got[1].ends_with(r#""summary":{"arch":"x86_64","syscall":998,"success":true,"exit":0}}"#), "{}", got[1]);
    let ecs = render(&lines[..2], Options { raw: false, format: Format::Ecs }, &NoNames);
    assert!(ecs[0].contains(r#""destination":{"ip":"192.0.2.7","port":80}"#), "{}", ecs[0]);
    assert!(ecs[0].contains(r#""category":["network"],"type":["connection","start"],"action":"connect""#), "{}", ecs[0]);
}

#[test]
fn diagnostic_line() {
    let mut out = Vec::new();
    write_diagnostic(&mut out, parse::DiagnosticKind::NoRecordType, "a%.log", 12, b"garbage \xff\"");
    assert_eq!(out, b"{\"diagnostic\":\"no_record_type\",\"source\":\"a%25.log\",\"line\":12,\"raw\":\"garbage %FF\\\"\"}\n");
}

#[test]
fn extra_members_close_the_top_level_object() {
    let mut assembler = Assembler::new(Config::default());
    let mut events: Vec<Event> = Vec::new();
    assembler.push(&parse::parse_line(OPENAT[0]).expect("frames"), &mut events);
    assembler.finish_all(&mut events);
    for format in [Format::Native, Format::Ecs] {
        let opts = Options { raw: false, format };
        let (mut plain, mut with) = (Vec::new(), Vec::new());
        write_event(&mut plain, &events[0], &opts, &NoNames);
        crate::write_event_with(&mut with, &events[0], &opts, &NoNames, br#""enrichment":{"a":1}"#);
        let mut expected = plain[..plain.len() - 2].to_vec();
        expected.extend_from_slice(b",\"enrichment\":{\"a\":1}}\n");
        assert_eq!(String::from_utf8(with).unwrap(), String::from_utf8(expected).unwrap());
        let mut empty = Vec::new();
        crate::write_event_with(&mut empty, &events[0], &opts, &NoNames, b"");
        assert_eq!(empty, plain);
    }
}
