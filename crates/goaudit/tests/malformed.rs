//! Lines that are not go-audit objects, and objects at the edges: exact error variants, exact
//! output, and a stream that keeps every bad line with its bytes and goes on.

use assemble::Config;
use goaudit::{assemble_stream, parse_line, FieldPath, GoAuditError, JsonKind, RejectedLine};
use vocab::{RecordType, Serial};

const GOOD: &str = r#"{"sequence":7,"timestamp":"1700000000.123","messages":[{"type":1300,"data":"arch=c000003e syscall=59 success=yes exit=0 items=0 pid=1 exe=\"/bin/true\""},{"type":1327,"data":"proctitle=74727565"}],"uid_map":{"0":"root"}}"#;

fn err(input: &str) -> GoAuditError {
    match parse_line(input.as_bytes()) {
        Ok(group) => panic!("{input:?} parsed: {group:?}"),
        Err(e) => e,
    }
}

fn lines(input: &str) -> Vec<String> {
    let group = parse_line(input.as_bytes()).unwrap_or_else(|e| panic!("{input:?}: {e}"));
    group.lines().map(|l| String::from_utf8(l.to_vec()).expect("utf-8")).collect()
}

fn wrong(field: FieldPath, expected: &'static str, found: JsonKind) -> GoAuditError {
    GoAuditError::WrongType { field, expected, found }
}

const fn msg(index: usize, field: &'static str) -> FieldPath {
    FieldPath::Message { index, field }
}

#[test]
fn a_good_line_with_a_line_end_and_spaces() {
    let expect = [
        "type=SYSCALL msg=audit(1700000000.123:7): arch=c000003e syscall=59 success=yes exit=0 items=0 pid=1 exe=\"/bin/true\"",
        "type=PROCTITLE msg=audit(1700000000.123:7): proctitle=74727565",
    ];
    assert_eq!(lines(GOOD), expect);
    assert_eq!(lines(&format!("  {GOOD} \r\n")), expect);
}

#[test]
fn truncated_json() {
    let cut = &GOOD[..100];
    assert_eq!(
        err(cut),
        GoAuditError::NotJson {
            truncated: true,
            column: 100,
            message: "EOF while parsing a string at line 1 column 100".to_string()
        }
    );
    assert_eq!(
        err(""),
        GoAuditError::NotJson {
            truncated: true,
            column: 0,
            message: "EOF while parsing a value at line 1 column 0".to_string()
        }
    );
}

#[test]
fn not_json_at_all() {
    assert_eq!(
        err("type=SYSCALL msg=audit(1.000:1): arch=c000003e"),
        GoAuditError::NotJson { truncated: false, column: 2, message: "expected ident at line 1 column 2".to_string() }
    );
    // Two objects on one line: the second is trailing garbage.
    assert_eq!(
        err(&format!("{GOOD}{GOOD}")),
        GoAuditError::NotJson {
            truncated: false,
            column: GOOD.len() + 1,
            message: format!("trailing characters at line 1 column {}", GOOD.len() + 1)
        }
    );
}

#[test]
fn not_an_object() {
    assert_eq!(err("[1,2]"), GoAuditError::NotAnObject { found: JsonKind::Array });
    assert_eq!(err(r#""sequence""#), GoAuditError::NotAnObject { found: JsonKind::String });
    assert_eq!(err("42"), GoAuditError::NotAnObject { found: JsonKind::Number });
    assert_eq!(err("null"), GoAuditError::NotAnObject { found: JsonKind::Null });
    assert_eq!(err("true"), GoAuditError::NotAnObject { found: JsonKind::Bool });
}

#[test]
fn missing_fields() {
    let missing = |field| GoAuditError::MissingField { field };
    assert_eq!(err("{}"), missing(FieldPath::Top("sequence")));
    assert_eq!(err(r#"{"sequence":1}"#), missing(FieldPath::Top("timestamp")));
    assert_eq!(err(r#"{"sequence":1,"timestamp":"1.000"}"#), missing(FieldPath::Top("messages")));
    assert_eq!(
        err(r#"{"sequence":1,"timestamp":"1.000","messages":[{"type":1300,"data":""},{"data":"x"}]}"#),
        missing(msg(1, "type"))
    );
    assert_eq!(err(r#"{"sequence":1,"timestamp":"1.000","messages":[{"type":1300}]}"#), missing(msg(0, "data")));
}

#[test]
fn messages_not_an_array() {
    let top = FieldPath::Top("messages");
    let with = |messages: &str| err(&format!(r#"{{"sequence":1,"timestamp":"1.000","messages":{messages}}}"#));
    assert_eq!(with("{}"), wrong(top, "an array", JsonKind::Object));
    assert_eq!(with(r#""type=SYSCALL""#), wrong(top, "an array", JsonKind::String));
    assert_eq!(with("null"), wrong(top, "an array", JsonKind::Null));
    assert_eq!(with("[1300]"), wrong(top, "an array of objects", JsonKind::Number));
    assert_eq!(with("[]"), GoAuditError::NoMessages);
}

#[test]
fn type_not_a_number() {
    let with = |record_type: &str| {
        err(&format!(r#"{{"sequence":1,"timestamp":"1.000","messages":[{{"type":{record_type},"data":"x"}}]}}"#))
    };
    let expected = "an unsigned 32-bit integer";
    assert_eq!(with(r#""1300""#), wrong(msg(0, "type"), expected, JsonKind::String));
    assert_eq!(with(r#""SYSCALL""#), wrong(msg(0, "type"), expected, JsonKind::String));
    assert_eq!(with("null"), wrong(msg(0, "type"), expected, JsonKind::Null));
    assert_eq!(with("-1"), wrong(msg(0, "type"), expected, JsonKind::Number));
    assert_eq!(with("1300.5"), wrong(msg(0, "type"), expected, JsonKind::Number));
    assert_eq!(with("4294967296"), wrong(msg(0, "type"), expected, JsonKind::Number));
    // The widest type still reads, by its UNKNOWN[n] name.
    assert_eq!(
        lines(r#"{"sequence":1,"timestamp":"1.000","messages":[{"type":4294967295,"data":"x"}]}"#),
        ["type=UNKNOWN[4294967295] msg=audit(1.000:1): x"]
    );
}

#[test]
fn other_wrong_types() {
    let top = FieldPath::Top;
    assert_eq!(err(r#"{"sequence":"1"}"#), wrong(top("sequence"), "an unsigned integer", JsonKind::String));
    assert_eq!(err(r#"{"sequence":-1}"#), wrong(top("sequence"), "an unsigned integer", JsonKind::Number));
    assert_eq!(err(r#"{"sequence":1,"timestamp":1.5}"#), wrong(top("timestamp"), "a string", JsonKind::Number));
    let base = r#""sequence":1,"timestamp":"1.000","messages":[{"type":1300,"data":"x"}]"#;
    assert_eq!(
        err(&format!(r#"{{{base},"uid_map":[]}}"#)),
        wrong(top("uid_map"), "an object of strings", JsonKind::Array)
    );
    assert_eq!(
        err(&format!(r#"{{{base},"uid_map":{{"0":0}}}}"#)),
        wrong(top("uid_map"), "an object of strings", JsonKind::Number)
    );
    assert_eq!(
        err(&format!(r#"{{{base},"container_id":{{}}}}"#)),
        wrong(top("container_id"), "a string or an integer", JsonKind::Object)
    );
    assert_eq!(
        err(&format!(r#"{{{base},"container_id":1.5}}"#)),
        wrong(top("container_id"), "a string or an integer", JsonKind::Number)
    );
    assert_eq!(
        err(r#"{"sequence":1,"timestamp":"1.000","messages":[{"type":1300,"data":["x"]}]}"#),
        wrong(msg(0, "data"), "a string", JsonKind::Array)
    );
}

#[test]
fn bad_timestamps() {
    for timestamp in
        ["1700000000", "1700000000.1", "1700000000.1234", "", "x.000", "1.000:7", "99999999999999999999.000"]
    {
        let input = format!(r#"{{"sequence":1,"timestamp":"{timestamp}","messages":[{{"type":1300,"data":"x"}}]}}"#);
        assert_eq!(err(&input), GoAuditError::BadTimestamp { timestamp: timestamp.to_string() }, "{timestamp:?}");
    }
}

#[test]
fn optional_fields_and_container_ids() {
    let with = |extra: &str| {
        parse_line(
            format!(r#"{{"sequence":1,"timestamp":"1.000","messages":[{{"type":1300,"data":"x"}}]{extra}}}"#)
                .as_bytes(),
        )
        .expect("parses")
    };
    let plain = with("");
    assert_eq!((plain.uid_map.len(), plain.container_id.clone()), (0, None));
    assert_eq!(with(r#","uid_map":null,"container_id":null"#).container_id, None);
    assert_eq!(with(r#","container_id":0"#).container_id, None);
    assert_eq!(with(r##","container_id":"""##).container_id, None);
    assert_eq!(with(r#","container_id":4711"#).container_id.as_deref(), Some("4711"));
    assert_eq!(with(r##","container_id":"3f4e9a""##).container_id.as_deref(), Some("3f4e9a"));
    // Newer go-audit's per-message additions and unknown fields are ignored.
    let newer = with(r#","extras":{"cgroup_root":"/sys/fs/cgroup"},"host":"h1""#);
    assert_eq!(newer.lines().collect::<Vec<_>>(), [&b"type=SYSCALL msg=audit(1.000:1): x"[..]]);
}

#[test]
fn escapes_in_data_are_decoded_once() {
    // JSON escapes become the bytes go-audit read from the kernel; a \u001d is auditd's ENRICHED
    // separator and frames as one.
    let input = r#"{"sequence":3,"timestamp":"5.006","messages":[{"type":1300,"data":"comm=\"a b\" key=\"k\"\u001dAUID=\"root\""}]}"#;
    let group = parse_line(input.as_bytes()).expect("parses");
    let record = group.records().next().expect("one record").expect("frames");
    assert_eq!(record.body, b"comm=\"a b\" key=\"k\"");
    assert_eq!(record.enriched, Some(&b"AUID=\"root\""[..]));
    assert_eq!(record.id.serial, Serial(3));
}

#[test]
fn a_one_megabyte_data_string() {
    let hex = "41".repeat(500_000);
    let data = format!("argc=1 a0={hex}");
    assert_eq!(data.len(), 1_000_010);
    let input = format!(
        r#"{{"sequence":9,"timestamp":"1700000000.000","messages":[{{"type":1300,"data":"arch=c000003e syscall=59 success=yes exit=0 items=0"}},{{"type":1309,"data":"{data}"}}]}}"#
    );
    let group = parse_line(input.as_bytes()).expect("parses");
    let lines: Vec<&[u8]> = group.lines().collect();
    assert_eq!(lines[1].len(), "type=EXECVE msg=audit(1700000000.000:9): ".len() + 1_000_010);
    assert_eq!(lines[1], format!("type=EXECVE msg=audit(1700000000.000:9): {data}").as_bytes());

    let (out, stats) = assemble_stream(input.as_bytes(), Config::default());
    assert_eq!((out.events.len(), out.rejected.len(), stats.records), (1, 0, 2));
    let event = &out.events[0].event;
    assert!(!event.is_partial(), "{:?}", event.incomplete);
    let argv = event.argv.as_ref().expect("argv");
    assert_eq!(argv.len(), 1);
    assert_eq!(argv.get(0), Some(&vec![b'A'; 500_000][..]));
}

#[test]
fn a_stream_keeps_bad_lines_with_their_bytes_and_goes_on() {
    let truncated = &GOOD[..60];
    let mut input =
        format!("Jan  1 00:00:00 h go-audit[1]: {GOOD}\nJan  1 00:00:01 h go-audit[1]: {truncated}\n\n").into_bytes();
    input.extend_from_slice(b"\x00\x01binary garbage\xff\n");
    input.extend_from_slice(b"Jan  1 00:00:02 h go-audit[1]: [1,2]\n");
    input.extend_from_slice(GOOD.replace(r#""sequence":7"#, r#""sequence":8"#).as_bytes());
    input.push(b'\n');
    let (out, stats) = assemble_stream(&input, Config::default());
    assert_eq!((out.lines, out.blank_lines), (6, 1));
    let rejected: Vec<(u64, &GoAuditError)> = out.rejected.iter().map(|r| (r.line_number, &r.error)).collect();
    assert_eq!(
        rejected,
        [
            (
                2,
                &GoAuditError::NotJson {
                    truncated: true,
                    column: 60,
                    message: "EOF while parsing a string at line 1 column 60".to_string()
                }
            ),
            (
                4,
                &GoAuditError::NotJson {
                    truncated: false,
                    column: 1,
                    message: "expected value at line 1 column 1".to_string()
                }
            ),
            // No `{` in the line: nothing to strip, and the syslog text is not JSON.
            (
                5,
                &GoAuditError::NotJson {
                    truncated: false,
                    column: 1,
                    message: "expected value at line 1 column 1".to_string()
                }
            ),
        ]
    );
    assert_eq!(
        out.rejected[1],
        RejectedLine {
            line_number: 4,
            error: out.rejected[1].error.clone(),
            bytes: b"\x00\x01binary garbage\xff".to_vec()
        }
    );
    assert_eq!(out.rejected[0].bytes, format!("Jan  1 00:00:01 h go-audit[1]: {truncated}").as_bytes());
    let serials: Vec<Serial> = out.events.iter().map(|e| e.event.id.serial).collect();
    assert_eq!(serials, [Serial(7), Serial(8)]);
    assert_eq!((stats.records, stats.events), (4, 2));
    for e in &out.events {
        let types: Vec<RecordType> = e.event.records().map(|r| r.record_type).collect();
        assert_eq!(types, [RecordType::SYSCALL, RecordType::PROCTITLE]);
        assert_eq!(e.uid_map, [("0".to_string(), "root".to_string())]);
    }
}

#[test]
fn error_messages_are_lowercase_and_name_the_field() {
    let shown: Vec<String> = [
        GoAuditError::MissingField { field: msg(2, "type") },
        wrong(FieldPath::Top("messages"), "an array", JsonKind::Object),
        GoAuditError::BadTimestamp { timestamp: "1.5".to_string() },
        GoAuditError::NotAnObject { found: JsonKind::Array },
        GoAuditError::NoMessages,
        GoAuditError::Unframed { message: 1, kind: "bad_event_header" },
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        shown,
        [
            "missing field messages[2].type",
            "field messages should be an array, found object",
            "bad timestamp \"1.5\": expected SEC.MSEC",
            "not a json object: found array",
            "no messages",
            "record line of messages[1] does not frame: bad_event_header",
        ]
    );
}
