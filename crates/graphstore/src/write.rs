//! Writing a checkpoint: every table of the graph built so far, plus the builder's state, into
//! a new generation folder that replaces the current one atomically.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use graph::codec::{put_binding, put_edge, put_entity, put_loss, put_stats, put_varint, Delta};
use graph::{Builder, Detail, EntityId, GraphRead};

use crate::blockfile::BlockWriter;
use crate::error::GraphStoreError;
use crate::{BLOCK_ITEMS, KEYED_BLOCK_BYTES};

/// What a checkpoint wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// The event store ordinal it covers: every accepted event up to it is in the graph.
    pub ordinal: u64,
    pub entities: u64,
    pub edges: u64,
    /// Bytes on disk of all its files.
    pub bytes: u64,
}

const LEVEL: i32 = 3;

/// How a checkpoint is laid out (the defaults are what queries are tuned for; tests lower them
/// to exercise every path on small graphs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    /// Entities with more edges than this have their distinct neighbours counted in the
    /// adjacency table.
    pub neighbours_from: usize,
    /// Entities with more edges than this keep their edge lists in the `biglists` table.
    pub big_list: usize,
}

impl Default for WriteOptions {
    fn default() -> WriteOptions {
        WriteOptions {
            neighbours_from: 64,
            big_list: 4096,
        }
    }
}

/// Writes the builder's graph and state as the new checkpoint of `dir` (the graph folder),
/// covering the store up to `ordinal`, then removes older checkpoints.
pub fn write_checkpoint(
    dir: &Path,
    b: &Builder,
    ordinal: u64,
) -> Result<Checkpoint, GraphStoreError> {
    write_checkpoint_with(dir, b, ordinal, &WriteOptions::default())
}

/// [`write_checkpoint`] with a layout of one's own.
pub fn write_checkpoint_with(
    dir: &Path,
    b: &Builder,
    ordinal: u64,
    options: &WriteOptions,
) -> Result<Checkpoint, GraphStoreError> {
    fs::create_dir_all(dir).map_err(GraphStoreError::io(dir))?;
    let current = crate::read::current(dir)?;
    let generation = current.as_ref().map_or(0, |(n, _)| n + 1);
    let name = format!("gen-{generation:010}");
    let tmp = dir.join(format!("{name}.tmp"));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(GraphStoreError::io(&tmp))?;
    }
    fs::create_dir(&tmp).map_err(GraphStoreError::io(&tmp))?;
    let g = b.graph();
    let mut bytes = 0;
    bytes += write_meta(&tmp, b, ordinal)?;
    bytes += write_items(&tmp.join("entities"), g.entity_count(), |i, out, d| {
        let id = EntityId(i as u32);
        put_entity(out, d, id, g.entity(id));
    })?;
    bytes += write_items(&tmp.join("edges"), g.edge_count(), |i, out, d| {
        put_edge(out, d, g.edge(graph::EdgeId(i as u32)))
    })?;
    bytes += crate::event_zones::EventZones::of(g).write(&tmp.join("eventzones"), LEVEL)?;
    // long edge lists go out of line, one block each, so that reading an entity's degree or
    // the short lists of its block neighbours never decodes them
    let mut big = BlockWriter::create(&tmp.join("biglists"), LEVEL)?;
    let mut big_count = 0u64;
    let mut big_raw = Vec::new();
    let mut big_err = None;
    bytes += write_items(&tmp.join("adjacency"), g.entity_count(), |i, out, _| {
        let id = EntityId(i as u32);
        put_varint(out, g.next_version(id).map_or(0, |n| u64::from(n.0 - id.0)));
        // distinct neighbours, kept for entities with many edges so that hub detection reads
        // no edges (0: count them from the edges, which are few)
        let (ins, outs) = (g.in_edges(id), g.out_edges(id));
        if ins.len() + outs.len() > options.neighbours_from {
            put_varint(out, GraphRead::neighbour_count(g, id) as u64);
        } else {
            put_varint(out, 0);
        }
        put_varint(out, ins.len() as u64);
        put_varint(out, outs.len() as u64);
        // 0: the lists follow; n: they are block n - 1 of `biglists`
        let target = if ins.len() + outs.len() > options.big_list {
            put_varint(out, big_count + 1);
            big_raw.clear();
            &mut big_raw
        } else {
            put_varint(out, 0);
            &mut *out
        };
        for list in [ins, outs] {
            let mut prev = 0u32;
            for e in list {
                put_varint(target, u64::from(e.0 - prev));
                prev = e.0;
            }
        }
        if ins.len() + outs.len() > options.big_list {
            if let Err(e) = big.block(&big_raw, b"") {
                big_err.get_or_insert(e);
            }
            big_count += 1;
        }
    })?;
    if let Some(e) = big_err {
        return Err(e);
    }
    bytes += big.finish()?;
    bytes += write_items(&tmp.join("strings"), g.string_count(), |i, out, _| {
        let s = g.string(graph::Sym(i as u32));
        put_varint(out, s.len() as u64);
        out.extend_from_slice(s);
    })?;
    let mut names: Vec<(Vec<u8>, Vec<u8>)> = g
        .names()
        .map(|((host, sym), bindings)| {
            let mut value = Vec::new();
            put_varint(&mut value, u64::from(sym.0));
            put_varint(&mut value, bindings.len() as u64);
            for b in bindings {
                put_binding(&mut value, b);
            }
            (host_key(host.0, g.string(sym)), value)
        })
        .collect();
    names.sort_unstable();
    bytes += write_keyed(&tmp.join("names"), &names)?;
    let mut pids: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut sockets: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for (id, e) in g.entities() {
        match &e.detail {
            Detail::Process(p) => put_varint(
                pids.entry(host_key(e.host.0, &p.pid.to_be_bytes()))
                    .or_default(),
                u64::from(id.0),
            ),
            Detail::Socket(s) => put_varint(
                sockets.entry(port_key(s.port)).or_default(),
                u64::from(id.0),
            ),
            _ => {}
        }
    }
    bytes += write_keyed(&tmp.join("pids"), &pids.into_iter().collect::<Vec<_>>())?;
    bytes += write_keyed(
        &tmp.join("sockets"),
        &sockets.into_iter().collect::<Vec<_>>(),
    )?;
    let mut state = Vec::new();
    b.put_state(&mut state);
    let mut w = BlockWriter::create(&tmp.join("state"), LEVEL)?;
    w.block(&state, b"")?;
    bytes += w.finish()?;
    sync_dir(&tmp)?;
    let done = dir.join(&name);
    if done.exists() {
        // a checkpoint renamed but never named in CURRENT (a crash in between): not in use
        fs::remove_dir_all(&done).map_err(GraphStoreError::io(&done))?;
    }
    fs::rename(&tmp, &done).map_err(GraphStoreError::io(&done))?;
    sync_dir(dir)?;
    let cur_tmp = dir.join("CURRENT.tmp");
    fs::write(&cur_tmp, format!("{name}\n")).map_err(GraphStoreError::io(&cur_tmp))?;
    fs::File::open(&cur_tmp)
        .and_then(|f| f.sync_all())
        .map_err(GraphStoreError::io(&cur_tmp))?;
    fs::rename(&cur_tmp, dir.join("CURRENT")).map_err(GraphStoreError::io(dir))?;
    sync_dir(dir)?;
    for entry in fs::read_dir(dir).map_err(GraphStoreError::io(dir))? {
        let path = entry.map_err(GraphStoreError::io(dir))?.path();
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if file_name.starts_with("gen-") && file_name != name {
            fs::remove_dir_all(&path).map_err(GraphStoreError::io(&path))?;
        }
    }
    Ok(Checkpoint {
        ordinal,
        entities: g.entity_count() as u64,
        edges: g.edge_count() as u64,
        bytes,
    })
}

/// A key that sorts by host, then by the rest.
pub(crate) fn host_key(host: u32, rest: &[u8]) -> Vec<u8> {
    let mut k = host.to_be_bytes().to_vec();
    k.extend_from_slice(rest);
    k
}

pub(crate) fn port_key(port: Option<u16>) -> Vec<u8> {
    match port {
        None => vec![0],
        Some(p) => vec![1, (p >> 8) as u8, p as u8],
    }
}

fn write_meta(dir: &Path, b: &Builder, ordinal: u64) -> Result<u64, GraphStoreError> {
    let g = b.graph();
    let mut out = Vec::new();
    put_varint(&mut out, crate::FORMAT);
    for v in [
        ordinal,
        g.entity_count() as u64,
        g.edge_count() as u64,
        g.string_count() as u64,
        g.host_count() as u64,
    ] {
        put_varint(&mut out, v);
    }
    for h in 0..g.host_count() as u32 {
        put_varint(&mut out, u64::from(g.host_sym(graph::HostId(h)).0));
    }
    put_stats(&mut out, g);
    put_varint(&mut out, g.losses().len() as u64);
    for l in g.losses() {
        put_loss(&mut out, l);
    }
    let mut w = BlockWriter::create(&dir.join("meta"), LEVEL)?;
    w.block(&out, b"")?;
    w.finish()
}

fn write_items(
    path: &Path,
    count: usize,
    mut put: impl FnMut(usize, &mut Vec<u8>, &mut Delta),
) -> Result<u64, GraphStoreError> {
    let mut w = BlockWriter::create(path, LEVEL)?;
    let mut raw = Vec::new();
    for start in (0..count).step_by(BLOCK_ITEMS as usize) {
        raw.clear();
        let mut d = Delta::default();
        for i in start..count.min(start + BLOCK_ITEMS as usize) {
            put(i, &mut raw, &mut d);
        }
        w.block(&raw, b"")?;
    }
    w.finish()
}

fn write_keyed(path: &Path, entries: &[(Vec<u8>, Vec<u8>)]) -> Result<u64, GraphStoreError> {
    let mut w = BlockWriter::create(path, LEVEL)?;
    let mut raw = Vec::new();
    let mut first: Option<&[u8]> = None;
    for (k, v) in entries {
        if first.is_none() {
            first = Some(k);
        }
        put_varint(&mut raw, k.len() as u64);
        raw.extend_from_slice(k);
        put_varint(&mut raw, v.len() as u64);
        raw.extend_from_slice(v);
        if raw.len() >= KEYED_BLOCK_BYTES {
            w.block(&raw, first.take().unwrap_or_default())?;
            raw.clear();
        }
    }
    if let Some(k) = first {
        w.block(&raw, k)?;
    }
    w.finish()
}

pub(crate) fn sync_dir(dir: &Path) -> Result<(), GraphStoreError> {
    fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(GraphStoreError::io(dir))
}
