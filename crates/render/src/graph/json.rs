//! JSON for programs, one object:
//!
//! ```text
//! {"answer":"trace_back","start":12,"nodes":[
//! {"id":12,"kind":"file","label":"file /srv/a (fe:1 inode 42)","host":"","version":0,
//!  "created":"2026-11-21T09:27:41.123Z","partial":false,"depth":0,"path":"/srv/a",…},
//! …],"edges":[
//! {"from":3,"to":12,"op":"write","first":"…","last":"…","count":1,"bytes":6,
//!  "first_event":{"node":"","time":"…","serial":95},"last_event":{…}},
//! …],"hubs":[],"truncated":false,"incomplete":false}
//! ```
//!
//! One node or edge per line, so a diff of two answers reads well. Attributes follow
//! `Attr::ALL`; absent ones are left out; times are RFC 3339 strings; `argv` is an array.

use graph::subgraph::{AttrValue, SubEdge, SubEvent, SubNode, Subgraph};

use crate::json::{bool as jbool, key, string, u64 as ju64};

/// Writes the subgraph as one JSON object followed by a newline.
pub fn json(s: &Subgraph) -> Vec<u8> {
    let mut out = Vec::with_capacity(256 * (s.nodes.len() + s.edges.len()) + 128);
    out.push(b'{');
    key(&mut out, "answer");
    string(&mut out, s.answer.as_str().as_bytes());
    if let Some(start) = s.start {
        key(&mut out, "start");
        ju64(&mut out, start);
    }
    key(&mut out, "nodes");
    out.push(b'[');
    for (i, n) in s.nodes.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        node(&mut out, n);
    }
    out.extend_from_slice(b"\n]");
    key(&mut out, "edges");
    out.push(b'[');
    for (i, e) in s.edges.iter().enumerate() {
        out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        edge(&mut out, e);
    }
    out.extend_from_slice(b"\n]");
    key(&mut out, "hubs");
    out.push(b'[');
    for (i, h) in s.hubs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        ju64(&mut out, *h);
    }
    out.push(b']');
    key(&mut out, "truncated");
    jbool(&mut out, s.truncated);
    key(&mut out, "incomplete");
    jbool(&mut out, s.incomplete);
    out.extend_from_slice(b"}\n");
    out
}

/// Writes a label (text, not kernel bytes: no `%XX` rule) as a JSON string.
fn text(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out.push(b'"');
}

fn time(out: &mut Vec<u8>, ms: u64) {
    crate::time::rfc3339_millis(out, ms);
}

fn node(out: &mut Vec<u8>, n: &SubNode) {
    out.push(b'{');
    key(out, "id");
    ju64(out, n.id);
    key(out, "kind");
    string(out, n.kind.as_str().as_bytes());
    key(out, "label");
    text(out, &n.label);
    for (attr, value) in &n.attrs {
        key(out, attr.as_str());
        match value {
            AttrValue::Int(v) => ju64(out, *v),
            AttrValue::Bool(b) => jbool(out, *b),
            AttrValue::Time(ms) => time(out, *ms),
            AttrValue::Bytes(b) => string(out, b),
            AttrValue::List(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    string(out, item);
                }
                out.push(b']');
            }
        }
    }
    out.push(b'}');
}

fn event(out: &mut Vec<u8>, name: &str, e: &SubEvent) {
    key(out, name);
    out.push(b'{');
    key(out, "node");
    string(out, &e.node);
    key(out, "time");
    time(out, e.ms);
    key(out, "serial");
    ju64(out, e.serial);
    out.push(b'}');
}

fn edge(out: &mut Vec<u8>, e: &SubEdge) {
    out.push(b'{');
    key(out, "from");
    ju64(out, e.from);
    key(out, "to");
    ju64(out, e.to);
    key(out, "op");
    string(out, e.op.as_str().as_bytes());
    key(out, "first");
    time(out, e.first);
    key(out, "last");
    time(out, e.last);
    key(out, "count");
    ju64(out, u64::from(e.count));
    key(out, "bytes");
    ju64(out, e.bytes);
    event(out, "first_event", &e.first_event);
    event(out, "last_event", &e.last_event);
    out.push(b'}');
}
