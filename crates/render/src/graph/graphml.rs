//! GraphML for Gephi, Cytoscape, yEd and networkx: every attribute declared once as a typed
//! `<key>` (`long`, `boolean`, `string`), nodes `n<id>`, edges `e<index>` in the order they
//! happened, graph-level `answer`, `start`, `truncated` and `incomplete`.
//!
//! Times are RFC 3339 strings; `argv` is one string, the arguments joined by spaces (a space
//! inside an argument written `%20`); byte strings follow the module's escaping rule.

use std::fmt::Write;

use graph::subgraph::{Attr, AttrType, AttrValue, Subgraph};

const HEAD: &str =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\" \
xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n";

/// Edge attributes: `(name, type)`.
const EDGE_KEYS: [(&str, &str); 9] = [
    ("op", "string"),
    ("first", "string"),
    ("last", "string"),
    ("count", "long"),
    ("bytes", "long"),
    ("first_event_node", "string"),
    ("first_event_serial", "long"),
    ("last_event_node", "string"),
    ("last_event_serial", "long"),
];

fn type_name(t: AttrType) -> &'static str {
    match t {
        AttrType::Int => "long",
        AttrType::Bool => "boolean",
        AttrType::Time | AttrType::Bytes | AttrType::List => "string",
    }
}

fn data(out: &mut String, key: &str, value: &str) {
    let _ = writeln!(out, "      <data key=\"{key}\">{}</data>", super::xml(value));
}

/// Writes the subgraph as a GraphML document.
pub fn graphml(s: &Subgraph) -> String {
    let mut out = String::from(HEAD);
    for (id, name, ty) in [
        ("g_answer", "answer", "string"),
        ("g_start", "start", "string"),
        ("g_truncated", "truncated", "boolean"),
        ("g_incomplete", "incomplete", "boolean"),
    ] {
        let _ = writeln!(out, "  <key id=\"{id}\" for=\"graph\" attr.name=\"{name}\" attr.type=\"{ty}\"/>");
    }
    for (name, ty) in [("kind", "string"), ("label", "string"), ("hub", "boolean")] {
        let _ = writeln!(out, "  <key id=\"{name}\" for=\"node\" attr.name=\"{name}\" attr.type=\"{ty}\"/>");
    }
    for a in Attr::ALL {
        let _ = writeln!(
            out,
            "  <key id=\"{0}\" for=\"node\" attr.name=\"{0}\" attr.type=\"{1}\"/>",
            a.as_str(),
            type_name(a.ty())
        );
    }
    for (name, ty) in EDGE_KEYS {
        let _ = writeln!(out, "  <key id=\"e_{name}\" for=\"edge\" attr.name=\"{name}\" attr.type=\"{ty}\"/>");
    }
    out.push_str("  <graph id=\"provenance\" edgedefault=\"directed\">\n");
    let _ = writeln!(out, "    <data key=\"g_answer\">{}</data>", s.answer.as_str());
    if let Some(start) = s.start {
        let _ = writeln!(out, "    <data key=\"g_start\">n{start}</data>");
    }
    let _ = writeln!(out, "    <data key=\"g_truncated\">{}</data>", s.truncated);
    let _ = writeln!(out, "    <data key=\"g_incomplete\">{}</data>", s.incomplete);
    for n in &s.nodes {
        let _ = writeln!(out, "    <node id=\"n{}\">", n.id);
        data(&mut out, "kind", n.kind.as_str());
        data(&mut out, "label", &n.label);
        data(&mut out, "hub", if s.hubs.contains(&n.id) { "true" } else { "false" });
        for (attr, value) in &n.attrs {
            let text = match value {
                AttrValue::Int(v) => v.to_string(),
                AttrValue::Bool(b) => b.to_string(),
                AttrValue::Time(ms) => super::time_text(*ms),
                AttrValue::Bytes(b) => super::escape(b, b""),
                AttrValue::List(items) => items.iter().map(|i| super::escape(i, b" ")).collect::<Vec<_>>().join(" "),
            };
            data(&mut out, attr.as_str(), &text);
        }
        out.push_str("    </node>\n");
    }
    for (i, e) in s.edges.iter().enumerate() {
        let _ = writeln!(out, "    <edge id=\"e{i}\" source=\"n{}\" target=\"n{}\">", e.from, e.to);
        let values = [
            e.op.as_str().to_string(),
            super::time_text(e.first),
            super::time_text(e.last),
            e.count.to_string(),
            e.bytes.to_string(),
            super::escape(&e.first_event.node, b""),
            e.first_event.serial.to_string(),
            super::escape(&e.last_event.node, b""),
            e.last_event.serial.to_string(),
        ];
        for ((name, _), value) in EDGE_KEYS.iter().zip(values) {
            data(&mut out, &format!("e_{name}"), &value);
        }
        out.push_str("    </edge>\n");
    }
    out.push_str("  </graph>\n</graphml>\n");
    out
}
