//! One-line text for entities and edges, for tests and terminal output: bytes that are not
//! printable ASCII are written as `\xNN`, so every name reads back unambiguously.

use std::fmt::Write;

use crate::model::{Detail, EdgeId, EntityId};
use crate::read::GraphRead;

/// Writes bytes as text, escaping `\`, control bytes and bytes ≥ 0x7f as `\xNN`.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            out.push(b as char);
        } else {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Describes an entity: `process pid=12 exe=/usr/bin/curl argv="curl -s …" v1`, `file
/// /srv/a.txt (fe:1 inode 42)`, `socket inet local:18095`, …
pub fn entity<G: GraphRead + ?Sized>(g: &G, id: EntityId) -> String {
    let e = g.entity(id);
    let s = |sym| escape(&g.string(sym));
    let mut out = match &e.detail {
        Detail::Process(p) => {
            let mut out = format!("process pid={}", p.pid);
            if let Some(exe) = p.exe {
                let _ = write!(out, " exe={}", s(exe));
            }
            if let Some(argv) = p.argv {
                let args: Vec<String> = g.string(argv).split(|&b| b == 0).map(escape).collect();
                let _ = write!(out, " argv={:?}", args.join(" "));
            }
            if let Some(uid) = p.euid {
                let _ = write!(out, " euid={uid}");
            }
            out
        }
        Detail::File(f) => {
            let name = f.name.map_or_else(|| "?".to_string(), s);
            let mut out = format!("file {name} ({:x}:{:x} inode {}", f.dev.0, f.dev.1, f.inode);
            if f.epoch > 0 {
                let _ = write!(out, " epoch {}", f.epoch);
            }
            out.push(')');
            out
        }
        Detail::Socket(k) => {
            let addr = if k.local && matches!(k.family, "inet" | "inet6") {
                "local".to_string()
            } else {
                k.addr.map_or_else(|| "?".to_string(), s)
            };
            match k.port {
                Some(port) => format!("socket {} {addr}:{port}", k.family),
                None => format!("socket {} {addr}", k.family),
            }
        }
        Detail::User(u) => format!("user uid={}", u.uid),
        Detail::Module(m) => format!("module {}", s(m.name)),
        Detail::Container(c) => format!("container {}", s(c.contid)),
    };
    if e.version > 0 {
        let _ = write!(out, " v{}", e.version);
    }
    out
}

/// Describes an edge: `FROM -op-> TO ×count`.
pub fn edge<G: GraphRead + ?Sized>(g: &G, id: EdgeId) -> String {
    let e = g.edge(id);
    let mut out = format!(
        "{} -{}-> {}",
        entity(g, e.from),
        e.op.as_str(),
        entity(g, e.to)
    );
    if e.count > 1 {
        let _ = write!(out, " x{}", e.count);
    }
    out
}
