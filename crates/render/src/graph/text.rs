//! Text for terminals. A trace: a heading, then one line per edge in the order they happened,
//! then the hubs. A path: the same lines. A tree: one line per process version, indented by
//! generation, later versions of the same process introduced by `then`.

use std::fmt::Write;

use graph::subgraph::{Answer, Attr, Subgraph};

/// Writes the subgraph as text.
pub fn text(s: &Subgraph) -> String {
    match s.answer {
        Answer::Tree => tree(s),
        Answer::Trace(_) | Answer::Path => edges(s),
    }
}

fn label(s: &Subgraph, id: u64) -> &str {
    s.node(id).map_or("?", |n| n.label.as_str())
}

fn edges(s: &Subgraph) -> String {
    let start = s.start.map_or("?", |id| label(s, id));
    let mut out = match s.answer {
        Answer::Path => format!("path from {start}: {} entities, {} edges", s.nodes.len(), s.edges.len()),
        _ => {
            let way = if s.answer == Answer::Trace(graph::trace::Direction::Back) { "back" } else { "forward" };
            format!("trace {way} from {start}: {} entities, {} edges", s.nodes.len(), s.edges.len())
        }
    };
    if s.truncated {
        out.push_str(", cut short by a limit");
    }
    if s.incomplete {
        out.push_str(", may be incomplete (crosses known loss)");
    }
    out.push('\n');
    for e in &s.edges {
        let _ =
            write!(out, "{}  {} -{}-> {}", super::time_text(e.first), label(s, e.from), e.op.as_str(), label(s, e.to));
        if e.count > 1 {
            let _ = write!(out, " x{}", e.count);
        }
        out.push('\n');
    }
    for &h in &s.hubs {
        let _ = writeln!(out, "hub, not followed: {}", label(s, h));
    }
    out
}

fn tree(s: &Subgraph) -> String {
    let mut out = String::new();
    for n in &s.nodes {
        let depth = n.int(Attr::Depth).unwrap_or(0) as usize;
        let lead = if n.int(Attr::Version).unwrap_or(0) > 0 { "then " } else { "" };
        let _ = write!(out, "{}{lead}{}", "  ".repeat(depth), n.label);
        if let Some(a) = n.int(Attr::Auid) {
            let _ = write!(out, " auid={a}");
        }
        if let Some(u) = n.int(Attr::Uid) {
            let _ = write!(out, " uid={u}");
        }
        out.push('\n');
    }
    if s.incomplete {
        out.push_str("may be incomplete (a partial event touched a process)\n");
    }
    out
}
