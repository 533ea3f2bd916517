//! DOT (Graphviz): process = box, file = ellipse, socket = diamond, user = house, module =
//! component; the start drawn bold, hubs dashed; edges labelled with their operation (and
//! `xN` when merged from N events). Node names are `n<id>`; labels are quoted with `\` and `"`
//! escaped, so any bytes are safe.

use std::fmt::Write;

use graph::subgraph::Subgraph;

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes the subgraph as a DOT digraph.
pub fn dot(s: &Subgraph) -> String {
    let mut out = String::from("digraph provenance {\n  rankdir=LR;\n");
    if s.incomplete {
        out.push_str("  label=\"may be incomplete (crosses known loss)\";\n");
    }
    for n in &s.nodes {
        let mut style = String::new();
        if Some(n.id) == s.start {
            style.push_str(", penwidth=2");
        }
        if s.hubs.contains(&n.id) {
            style.push_str(", style=dashed");
        }
        let _ = writeln!(out, "  n{} [shape={}, label={}{style}];", n.id, super::shape(n.kind), quote(&n.label));
    }
    for e in &s.edges {
        let label = if e.count > 1 { format!("{} x{}", e.op.as_str(), e.count) } else { e.op.as_str().to_string() };
        let _ = writeln!(out, "  n{} -> n{} [label={}];", e.from, e.to, quote(&label));
    }
    out.push_str("}\n");
    out
}
