//! Output formats for answers of the provenance graph (a [`graph::subgraph::Subgraph`]): text
//! for terminals, JSON for programs, DOT and SVG for pictures, GraphML for Gephi and Cytoscape,
//! and the CSV files of Neo4j's bulk import.
//!
//! Each renderer is a function of the subgraph alone and writes bytes; none reads the graph or
//! does IO (the Neo4j form returns its files' names and contents for the caller to write).
//!
//! # Strings from bytes
//!
//! Attributes are the kernel's bytes. JSON writes them with the crate's rule (valid UTF-8 as it
//! is, every other byte `%XX`, `%` as `%25`). The other formats use the same rule and also write
//! control bytes (below 0x20, and DEL) as `%XX`, since XML cannot carry most of them and CSV
//! rows must stay on one line; where a list is joined into one value (argv in GraphML, joined
//! by spaces; Neo4j arrays, joined by `;`) the separator inside an element is `%XX` too. Every
//! one of these escapes is reversible: replace each `%XX` by its byte. Labels (`SubNode::label`)
//! are already printable ASCII.

mod dot;
mod graphml;
mod json;
mod layout;
mod neo4j;
mod svg;
mod text;

pub use dot::dot;
pub use graphml::graphml;
pub use json::json;
pub use neo4j::{neo4j_csv, NEO4J_FILES};
pub use svg::svg;
pub use text::text;

use graph::EntityKind;

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Returns `bytes` as text by the rule above: invalid UTF-8, `%`, control bytes and every byte
/// in `also` as `%XX`.
pub fn escape(bytes: &[u8], also: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '%' || c.is_ascii_control() || (c.is_ascii() && also.contains(&(c as u8))) {
                push_hex(&mut out, c as u8);
            } else {
                out.push(c);
            }
        }
        for &b in chunk.invalid() {
            push_hex(&mut out, b);
        }
    }
    out
}

fn push_hex(out: &mut String, b: u8) {
    out.push('%');
    out.push(HEX_UPPER[usize::from(b >> 4)] as char);
    out.push(HEX_UPPER[usize::from(b & 15)] as char);
}

/// Returns milliseconds since the epoch as RFC 3339 in UTC (`2026-11-21T09:27:41.123Z`).
pub fn time_text(ms: u64) -> String {
    let mut b = Vec::with_capacity(26);
    crate::time::rfc3339_millis(&mut b, ms);
    String::from_utf8_lossy(&b[1..b.len() - 1]).into_owned()
}

/// Escapes text for XML content and attribute values.
pub(crate) fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The DOT shape of each kind; SVG draws the same ones.
pub(crate) fn shape(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Process => "box",
        EntityKind::File => "ellipse",
        EntityKind::Socket => "diamond",
        EntityKind::User => "house",
        EntityKind::Module => "component",
        EntityKind::Container => "box3d",
    }
}

#[cfg(test)]
mod tests;
