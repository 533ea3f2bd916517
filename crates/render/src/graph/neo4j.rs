//! The CSV files of Neo4j's bulk import (`neo4j-admin database import full`): one node file
//! per kind, each row with its `:ID` (the entity id, one id space), its `:LABEL` (`Process`,
//! `File`, `Socket`, `User`, `Module`, `Container`) and typed properties (`pid:long`, `created:datetime`,
//! `argv:string[]`, …), and one relationship file with `:START_ID`, `:END_ID`, `:TYPE` (the
//! operation in upper case: `EXEC`, `WRITE`, …) and the edge's times and counts.
//!
//! Every file is written, with its header, even when it has no rows, so one import command
//! fits every answer. Strings are quoted (`"` doubled inside); an absent value is an empty
//! unquoted field, which the importer skips. Array elements are joined by `;` (the importer's
//! default delimiter); a `;` inside an element is written `%3B`.

use std::fmt::Write;

use graph::subgraph::{Attr, AttrType, AttrValue, Subgraph};
use graph::EntityKind;

/// The files written, in order: `(file name, label)`; the last is the relationships.
pub const NEO4J_FILES: [(&str, &str); 7] = [
    ("processes.csv", "Process"),
    ("files.csv", "File"),
    ("sockets.csv", "Socket"),
    ("users.csv", "User"),
    ("modules.csv", "Module"),
    ("containers.csv", "Container"),
    ("relationships.csv", ""),
];

const KINDS: [EntityKind; 6] = [
    EntityKind::Process,
    EntityKind::File,
    EntityKind::Socket,
    EntityKind::User,
    EntityKind::Module,
    EntityKind::Container,
];

fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn column(a: Attr) -> String {
    match a.ty() {
        AttrType::Int => format!("{}:long", a.as_str()),
        AttrType::Bool => format!("{}:boolean", a.as_str()),
        AttrType::Time => format!("{}:datetime", a.as_str()),
        AttrType::Bytes => a.as_str().to_string(),
        AttrType::List => format!("{}:string[]", a.as_str()),
    }
}

fn cell(v: &AttrValue) -> String {
    match v {
        AttrValue::Int(n) => n.to_string(),
        AttrValue::Bool(b) => b.to_string(),
        AttrValue::Time(ms) => super::time_text(*ms),
        AttrValue::Bytes(b) => quoted(&super::escape(b, b"")),
        AttrValue::List(items) => quoted(&items.iter().map(|i| super::escape(i, b";")).collect::<Vec<_>>().join(";")),
    }
}

/// Writes the subgraph as Neo4j import files: `(file name, contents)` in [`NEO4J_FILES`] order.
pub fn neo4j_csv(s: &Subgraph) -> Vec<(&'static str, String)> {
    let mut files = Vec::with_capacity(NEO4J_FILES.len());
    for (kind, (file, label)) in KINDS.iter().zip(NEO4J_FILES) {
        let attrs: Vec<Attr> = Attr::ALL.into_iter().filter(|a| a.applies_to(*kind)).collect();
        let mut out = String::from("id:ID,:LABEL,label,hub:boolean");
        for &a in &attrs {
            out.push(',');
            out.push_str(&column(a));
        }
        out.push('\n');
        for n in s.nodes.iter().filter(|n| n.kind == *kind) {
            let _ = write!(out, "{},{label},{},{}", n.id, quoted(&n.label), s.hubs.contains(&n.id));
            for &a in &attrs {
                out.push(',');
                if let Some(v) = n.get(a) {
                    out.push_str(&cell(v));
                }
            }
            out.push('\n');
        }
        files.push((file, out));
    }
    let mut out =
        String::from(":START_ID,:END_ID,:TYPE,first:datetime,last:datetime,count:long,bytes:long,first_event_node,first_event_serial:long,last_event_node,last_event_serial:long\n");
    for e in &s.edges {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            e.from,
            e.to,
            e.op.as_str().to_ascii_uppercase(),
            super::time_text(e.first),
            super::time_text(e.last),
            e.count,
            e.bytes,
            quoted(&super::escape(&e.first_event.node, b"")),
            e.first_event.serial,
            quoted(&super::escape(&e.last_event.node, b"")),
            e.last_event.serial,
        );
    }
    files.push((NEO4J_FILES[KINDS.len()].0, out));
    files
}
