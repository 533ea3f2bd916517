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

/// A process in a container (the `member` edge the builder makes from CONTAINER_ID records).
fn in_container() -> Subgraph {
    let mut s = sample();
    s.nodes.push(SubNode {
        id: 1,
        kind: EntityKind::Container,
        label: "container 123459".to_string(),
        attrs: vec![
            (Attr::Host, AttrValue::Bytes(b"web-01".to_vec())),
            (Attr::Version, AttrValue::Int(0)),
            (Attr::Created, AttrValue::Time(1_763_717_261_000)),
            (Attr::Partial, AttrValue::Bool(false)),
            (Attr::Depth, AttrValue::Int(2)),
            (Attr::Name, AttrValue::Bytes(b"123459".to_vec())),
        ],
    });
    let ev = SubEvent { node: b"web-01".to_vec(), ms: 1_763_717_261_123, serial: 90 };
    s.edges.insert(
        0,
        SubEdge {
            from: 1,
            to: 3,
            op: Op::Member,
            first: 1_763_717_261_123,
            last: 1_763_717_261_123,
            count: 1,
            bytes: 0,
            first_event: ev.clone(),
            last_event: ev,
        },
    );
    s
}

#[test]
fn a_container_is_a_box3d_a_container_node_and_a_member_relationship() {
    let s = in_container();
    let dot = super::dot(&s);
    assert!(dot.contains("n1 [shape=box3d"), "{dot}");
    let svg = super::svg(&s);
    assert!(svg.contains(">container</text>"), "the legend shows containers when there is one");
    assert!(!super::svg(&sample()).contains(">container</text>"), "and not otherwise");
    let files = super::neo4j_csv(&s);
    let containers = files.iter().find(|(name, _)| *name == "containers.csv").map(|(_, body)| body.as_str());
    assert_eq!(
        containers,
        Some(
            "id:ID,:LABEL,label,hub:boolean,host,version:long,created:datetime,partial:boolean,depth:long,name\n\
             1,Container,\"container 123459\",false,\"web-01\",0,2025-11-21T09:27:41.000Z,false,2,\"123459\"\n"
        )
    );
    let rels = files.last().map(|(_, body)| body.as_str()).unwrap();
    assert!(rels.lines().nth(1).unwrap().starts_with("1,3,MEMBER,"), "{rels}");
}
