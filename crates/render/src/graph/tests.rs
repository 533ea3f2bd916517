//! The graph formats on a small hand-made subgraph with awkward bytes: a file name that is not
//! UTF-8 and holds a newline, `"`, `%`, `;`, `<` and `&`, and an argument with a space.

use graph::subgraph::{Answer, Attr, AttrValue, SubEdge, SubEvent, SubNode, Subgraph};
use graph::trace::Direction;
use graph::{EntityKind, Op};

fn sample() -> Subgraph {
    let process = SubNode {
        id: 3,
        kind: EntityKind::Process,
        label: "process pid=7 exe=/bin/sh argv=\"sh -c a b\"".to_string(),
        attrs: vec![
            (Attr::Host, AttrValue::Bytes(b"web-01".to_vec())),
            (Attr::Version, AttrValue::Int(1)),
            (Attr::Created, AttrValue::Time(1_763_717_261_123)),
            (Attr::Partial, AttrValue::Bool(false)),
            (Attr::Depth, AttrValue::Int(1)),
            (Attr::Pid, AttrValue::Int(7)),
            (Attr::Exe, AttrValue::Bytes(b"/bin/sh".to_vec())),
            (Attr::Argv, AttrValue::List(vec![b"sh".to_vec(), b"-c".to_vec(), b"a b;c".to_vec()])),
            (Attr::Uid, AttrValue::Int(0)),
        ],
    };
    let file = SubNode {
        id: 9,
        kind: EntityKind::File,
        label: "file /tmp/\\xff\\x0a\"%;<&".to_string(),
        attrs: vec![
            (Attr::Host, AttrValue::Bytes(b"web-01".to_vec())),
            (Attr::Version, AttrValue::Int(0)),
            (Attr::Created, AttrValue::Time(1_763_717_262_000)),
            (Attr::Partial, AttrValue::Bool(false)),
            (Attr::Depth, AttrValue::Int(0)),
            (Attr::Path, AttrValue::Bytes(b"/tmp/\xff\n\"%;<&".to_vec())),
            (Attr::Dev, AttrValue::Bytes(b"fe:1".to_vec())),
            (Attr::Inode, AttrValue::Int(42)),
            (Attr::Epoch, AttrValue::Int(0)),
        ],
    };
    let ev = |serial| SubEvent { node: b"web-01".to_vec(), ms: 1_763_717_262_000, serial };
    Subgraph {
        answer: Answer::Trace(Direction::Back),
        nodes: vec![process, file],
        edges: vec![SubEdge {
            from: 3,
            to: 9,
            op: Op::Write,
            first: 1_763_717_262_000,
            last: 1_763_717_262_000,
            count: 2,
            bytes: 12,
            first_event: ev(95),
            last_event: ev(96),
        }],
        start: Some(9),
        hubs: vec![],
        truncated: false,
        incomplete: true,
    }
}

#[test]
fn escape_is_percent_for_invalid_utf8_percent_controls_and_separators() {
    assert_eq!(super::escape(b"/tmp/\xff\n\"%;<&\xc3\xa9", b";"), "/tmp/%FF%0A\"%25%3B<&é");
}

#[test]
fn json() {
    let text = String::from_utf8(super::json(&sample())).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["nodes"][1]["path"], "/tmp/%FF\n\"%25;<&");
    assert_eq!(v["nodes"][0]["argv"][2], "a b;c");
    assert_eq!(v["edges"][0]["count"], 2);
    assert_eq!(v["incomplete"], true);
    assert_eq!(text.lines().count(), 6);
}

#[test]
fn text_dot_graphml_neo4j() {
    let s = sample();
    let mut all =
        format!("--- text\n{}--- dot\n{}--- graphml\n{}", super::text(&s), super::dot(&s), super::graphml(&s));
    for (name, body) in super::neo4j_csv(&s) {
        all.push_str(&format!("--- {name}\n{body}"));
    }
    insta::assert_snapshot!(all);
}
