//! SVG: a self-contained picture (no Graphviz), laid out by the `layout` module left to right
//! in the direction information flowed. Shapes as in DOT (process = box, file = ellipse, socket
//! = diamond, user = house, module = component), the start drawn bold, hubs dashed, arrows
//! labelled with their operation, a heading and a legend.
//!
//! Each node is a `<g class="node" id="n<id>">` and each edge a `<g class="edge">`, with the
//! full label in a `<title>` (shown on hover; labels longer than the box are cut with `…`). The
//! font is monospace, so text widths are known without measuring.

use std::fmt::Write;

use graph::subgraph::{Answer, Subgraph};
use graph::EntityKind;

use super::layout::{layout, Input};
use super::xml;

const CHAR_W: f64 = 7.2;
const FONT: f64 = 12.0;
const MAX_CHARS: usize = 56;
const MARGIN: f64 = 20.0;
const HEAD: f64 = 30.0;
const LEGEND: f64 = 50.0;

const KINDS: [EntityKind; 5] =
    [EntityKind::Process, EntityKind::File, EntityKind::Socket, EntityKind::User, EntityKind::Module];

fn cut(label: &str) -> String {
    if label.chars().count() <= MAX_CHARS {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(MAX_CHARS - 1).collect();
        s.push('…');
        s
    }
}

fn size(kind: EntityKind, chars: usize) -> (f64, f64) {
    let text = chars as f64 * CHAR_W;
    match kind {
        EntityKind::Process | EntityKind::Module => (text + 24.0, 30.0),
        EntityKind::Container => (text + 30.0, 36.0),
        EntityKind::File => (text * 1.12 + 30.0, 34.0),
        EntityKind::Socket => (text * 1.25 + 44.0, 44.0),
        EntityKind::User => (text + 24.0, 40.0),
    }
}

/// Writes the outline of a node of `kind` centred at `(x, y)`.
fn outline(out: &mut String, kind: EntityKind, (x, y): (f64, f64), (w, h): (f64, f64), style: &str) {
    let (l, t, r, b) = (x - w / 2.0, y - h / 2.0, x + w / 2.0, y + h / 2.0);
    match kind {
        EntityKind::Process => {
            let _ = writeln!(
                out,
                "<rect x=\"{l:.1}\" y=\"{t:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"#e8f0fe\"{style}/>"
            );
        }
        EntityKind::File => {
            let _ = writeln!(
                out,
                "<ellipse cx=\"{x:.1}\" cy=\"{y:.1}\" rx=\"{:.1}\" ry=\"{:.1}\" fill=\"#fef7e0\"{style}/>",
                w / 2.0,
                h / 2.0
            );
        }
        EntityKind::Socket => {
            let _ = writeln!(
                out,
                "<polygon points=\"{l:.1},{y:.1} {x:.1},{t:.1} {r:.1},{y:.1} {x:.1},{b:.1}\" fill=\"#e6f4ea\"{style}/>"
            );
        }
        EntityKind::User => {
            let roof = t + h * 0.3;
            let _ = writeln!(out, "<polygon points=\"{l:.1},{b:.1} {l:.1},{roof:.1} {x:.1},{t:.1} {r:.1},{roof:.1} {r:.1},{b:.1}\" fill=\"#fce8e6\"{style}/>");
        }
        EntityKind::Container => {
            // a box with depth, as DOT's box3d: the back face up and to the right, the front below
            let (bl, bb) = (l + 6.0, b - 6.0);
            let _ = writeln!(
                out,
                "<polygon points=\"{bl:.1},{t:.1} {r:.1},{t:.1} {r:.1},{bb:.1} {bl:.1},{bb:.1}\" fill=\"#d2e3fc\"{style}/>"
            );
            let (ft, fr) = (t + 6.0, r - 6.0);
            let _ = writeln!(
                out,
                "<rect x=\"{l:.1}\" y=\"{ft:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#e8f0fe\"{style}/>",
                fr - l,
                b - ft
            );
        }
        EntityKind::Module => {
            let _ = writeln!(
                out,
                "<rect x=\"{l:.1}\" y=\"{t:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"#f3e8fd\"{style}/>"
            );
            for dy in [h * 0.25, h * 0.6] {
                let _ = writeln!(
                    out,
                    "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"6\" fill=\"#f3e8fd\" stroke=\"#333\"/>",
                    l - 5.0,
                    t + dy
                );
            }
        }
    }
}

/// Where an edge leaves or enters a node centred at `(x, y)` of size `(w, h)` on its way to or
/// from `other`: the middle of the side facing it (the left or right end of every shape), as in
/// a left-to-right drawing.
fn port((x, y): (f64, f64), (w, _): (f64, f64), other: (f64, f64)) -> (f64, f64) {
    if other.0 >= x {
        (x + w / 2.0, y)
    } else {
        (x - w / 2.0, y)
    }
}

/// Draws the subgraph as an SVG document.
pub fn svg(s: &Subgraph) -> String {
    let labels: Vec<String> = s.nodes.iter().map(|n| cut(&n.label)).collect();
    let sizes: Vec<(f64, f64)> = s.nodes.iter().zip(&labels).map(|(n, l)| size(n.kind, l.chars().count())).collect();
    let index = |id: u64| s.nodes.iter().position(|n| n.id == id);
    let edges: Vec<(usize, usize)> = s.edges.iter().filter_map(|e| Some((index(e.from)?, index(e.to)?))).collect();
    let drawn: Vec<&graph::subgraph::SubEdge> =
        s.edges.iter().filter(|e| index(e.from).is_some() && index(e.to).is_some()).collect();
    let l = layout(&Input { sizes: &sizes, edges: &edges });

    let heading = {
        let start = s.start.and_then(|id| s.node(id)).map_or(String::new(), |n| format!(" from {}", cut(&n.label)));
        let what = match s.answer {
            Answer::Trace(graph::trace::Direction::Back) => "trace back",
            Answer::Trace(graph::trace::Direction::Forward) => "trace forward",
            Answer::Path => "path",
            Answer::Tree => "process tree",
        };
        let mut h = format!("{what}{start}: {} entities, {} edges", s.nodes.len(), s.edges.len());
        if s.truncated {
            h.push_str(", cut short by a limit");
        }
        if s.incomplete {
            h.push_str(", may be incomplete (crosses known loss)");
        }
        h
    };
    let legend_w = 5.0 * 130.0 + 220.0;
    let width = (l.width + 2.0 * MARGIN).max(heading.chars().count() as f64 * CHAR_W + 2.0 * MARGIN).max(legend_w);
    let height = l.height + 2.0 * MARGIN + HEAD + LEGEND;
    let (ox, oy) = (MARGIN, MARGIN + HEAD);
    let at = |(x, y): (f64, f64)| (x + ox, y + oy);

    let mut out = String::new();
    let _ = writeln!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"monospace\" font-size=\"{FONT}\">"
    );
    out.push_str("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>\n");
    let _ = writeln!(out, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{MARGIN}\" y=\"{:.1}\" font-size=\"14\">{}</text>", MARGIN + 6.0, xml(&heading));

    for (e, route) in drawn.iter().zip(&l.routes) {
        let (u, v) = (index(e.from).expect("drawn"), index(e.to).expect("drawn"));
        let label = if e.count > 1 { format!("{} x{}", e.op.as_str(), e.count) } else { e.op.as_str().to_string() };
        let _ = writeln!(
            out,
            "<g class=\"edge\" data-from=\"n{}\" data-to=\"n{}\"><title>{}</title>",
            e.from,
            e.to,
            xml(&format!("{} -{}-> {}", s.nodes[u].label, label, s.nodes[v].label))
        );
        let mut points: Vec<(f64, f64)> = route.iter().map(|&p| at(p)).collect();
        if u == v {
            let (x, y) = at(l.centres[u]);
            let (w, h) = sizes[u];
            let _ = writeln!(
                out,
                "<path d=\"M{:.1},{:.1} C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\" fill=\"none\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>",
                x + w / 4.0,
                y - h / 2.0,
                x + w / 4.0,
                y - h,
                x + w / 2.0 + 10.0,
                y - h / 2.0,
                x + w / 2.0,
                y - 4.0
            );
            let _ = writeln!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#555\">{}</text></g>",
                x + w / 4.0,
                y - h,
                xml(&label)
            );
            continue;
        }
        let last = points.len() - 1;
        points[0] = port(points[0], sizes[u], points[1]);
        points[last] = port(points[last], sizes[v], points[last - 1]);
        let d: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, (x, y))| format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" }))
            .collect();
        let _ = writeln!(out, "<path d=\"{}\" fill=\"none\" stroke=\"#555\" marker-end=\"url(#arrow)\"/>", d.join(" "));
        let mid = points.len() / 2;
        let (mx, my) = ((points[mid - 1].0 + points[mid].0) / 2.0, (points[mid - 1].1 + points[mid].1) / 2.0);
        let _ = writeln!(
            out,
            "<text x=\"{mx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555\">{}</text></g>",
            my - 3.0,
            xml(&label)
        );
    }

    for (i, n) in s.nodes.iter().enumerate() {
        let c = at(l.centres[i]);
        let mut style = String::from(" stroke=\"#333\"");
        if Some(n.id) == s.start {
            style.push_str(" stroke-width=\"2.5\"");
        }
        if s.hubs.contains(&n.id) {
            style.push_str(" stroke-dasharray=\"4 3\"");
        }
        let _ =
            writeln!(out, "<g class=\"node {}\" id=\"n{}\"><title>{}</title>", n.kind.as_str(), n.id, xml(&n.label));
        outline(&mut out, n.kind, c, sizes[i], &style);
        let _ = writeln!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></g>",
            c.0,
            c.1 + FONT / 3.0,
            xml(&labels[i])
        );
    }

    // Legend.
    let ly = height - LEGEND / 2.0 - 4.0;
    out.push_str("<g class=\"legend\">\n");
    // the five common kinds always, containers when the answer has one
    let container = s.nodes.iter().any(|n| n.kind == EntityKind::Container);
    let kinds = KINDS.into_iter().chain(container.then_some(EntityKind::Container));
    let shown = KINDS.len() + usize::from(container);
    for (k, kind) in kinds.enumerate() {
        let x = MARGIN + k as f64 * 130.0;
        outline(&mut out, kind, (x + 20.0, ly), (36.0, 22.0), " stroke=\"#333\"");
        let _ = writeln!(out, "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>", x + 44.0, ly + 4.0, kind.as_str());
    }
    let _ =
        writeln!(out, "<text x=\"{:.1}\" y=\"{:.1}\">bold: start, dashed: hub</text>", MARGIN + shown as f64 * 130.0, ly + 4.0);
    out.push_str("</g>\n</svg>\n");
    out
}
