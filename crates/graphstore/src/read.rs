//! Reading a checkpoint: [`GraphFile`] answers [`GraphRead`] from the tables, block by block,
//! through a small cache; [`load`] decodes everything to go on building.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use graph::codec::{get_binding, get_edge, get_entity, get_loss, Delta, GraphParts, Reader};
use graph::{
    Builder, Detail, Edge, EdgeId, Entity, EntityId, GraphRead, GraphStats, HostId, Loss,
    NameBinding, Sym, User,
};

use crate::blockfile::BlockReader;
use crate::error::GraphStoreError;
use crate::write::{host_key, port_key};
use crate::BLOCK_ITEMS;

/// Decoded blocks kept per table before the cache is emptied.
const CACHE_BLOCKS: usize = 4096;

/// The current checkpoint's generation number and folder, if there is one.
pub(crate) fn current(dir: &Path) -> Result<Option<(u64, PathBuf)>, GraphStoreError> {
    let path = dir.join("CURRENT");
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(GraphStoreError::Io { path, source: e }),
    };
    let name = text.trim_end();
    let n = name
        .strip_prefix("gen-")
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| {
            GraphStoreError::corrupt(&path, format!("{name:?} is not a checkpoint name"))
        })?;
    Ok(Some((n, dir.join(name))))
}

struct Adjacency {
    next: Option<EntityId>,
    /// Distinct neighbours when the writer counted them (0: it did not).
    neighbours: u32,
    /// The lists' lengths, and where long lists are kept (their block in `biglists`).
    n_in: usize,
    n_out: usize,
    big: Option<u32>,
    ins: Vec<EdgeId>,
    outs: Vec<EdgeId>,
}

/// One table's decoded blocks.
struct Cache<T> {
    blocks: RefCell<HashMap<u32, Rc<Vec<T>>>>,
    /// Blocks read and decoded (cache misses), for benchmarks.
    misses: std::cell::Cell<u64>,
}

impl<T> Default for Cache<T> {
    fn default() -> Cache<T> {
        Cache {
            blocks: RefCell::new(HashMap::new()),
            misses: std::cell::Cell::new(0),
        }
    }
}

impl<T> Cache<T> {
    fn get(
        &self,
        block: u32,
        load: impl FnOnce() -> Result<Vec<T>, GraphStoreError>,
    ) -> Result<Rc<Vec<T>>, GraphStoreError> {
        if let Some(b) = self.blocks.borrow().get(&block) {
            return Ok(b.clone());
        }
        self.misses.set(self.misses.get() + 1);
        let b = Rc::new(load()?);
        let mut blocks = self.blocks.borrow_mut();
        if blocks.len() >= CACHE_BLOCKS {
            blocks.clear();
        }
        blocks.insert(block, b.clone());
        Ok(b)
    }
}

/// A checkpoint opened for queries. Reading a damaged block makes the query's answer empty
/// where it touched the block and keeps the first error: check [`GraphFile::error`] after each
/// query.
pub struct GraphFile {
    dir: PathBuf,
    /// Older formats are loaded whole to be rewritten, not queried.
    format: u64,
    ordinal: u64,
    entity_count: usize,
    edge_count: usize,
    string_count: usize,
    host_syms: Vec<Sym>,
    host_names: Vec<Vec<u8>>,
    stats: GraphStats,
    losses: Vec<Loss>,
    entities: BlockReader,
    edges: BlockReader,
    adjacency: BlockReader,
    strings: BlockReader,
    names: BlockReader,
    pids: BlockReader,
    sockets: BlockReader,
    entity_cache: Cache<Entity>,
    edge_cache: Cache<Edge>,
    adjacency_cache: Cache<Adjacency>,
    biglists: Option<BlockReader>,
    /// Format 4 on: the serial ranges of each edge block's events.
    event_zones: Option<BlockReader>,
    zones: std::cell::OnceCell<crate::event_zones::EventZones>,
    big_cache: Cache<(Vec<EdgeId>, Vec<EdgeId>)>,
    string_cache: Cache<Box<[u8]>>,
    keyed_cache: Cache<(Vec<u8>, Vec<u8>)>,
    error: RefCell<Option<GraphStoreError>>,
}

impl GraphFile {
    /// Opens the current checkpoint of a graph folder; `None` when none was written yet.
    pub fn open(dir: &Path) -> Result<Option<GraphFile>, GraphStoreError> {
        let Some((_, gen)) = current(dir)? else {
            return Ok(None);
        };
        let meta_path = gen.join("meta");
        let meta = BlockReader::open(&meta_path)?.read(0)?;
        let bad = || GraphStoreError::corrupt(&meta_path, "fields cut short or out of range");
        let r = &mut Reader::new(&meta);
        let format = r.varint().ok_or_else(bad)?;
        if !(1..=crate::FORMAT).contains(&format) {
            return Err(GraphStoreError::corrupt(
                &meta_path,
                format!("unknown format version {format}"),
            ));
        }
        let mut v = [0u64; 5];
        for x in &mut v {
            *x = r.varint().ok_or_else(bad)?;
        }
        let [ordinal, entity_count, edge_count, string_count, host_count] = v;
        let host_syms: Vec<Sym> = (0..host_count)
            .map(|_| r.u32().map(Sym).ok_or_else(bad))
            .collect::<Result<_, _>>()?;
        let stats = GraphStats {
            edge_events: r.varint().ok_or_else(bad)?,
            merged: r.varint().ok_or_else(bad)?,
        };
        let _reduce = r.varint().ok_or_else(bad)?;
        let n_losses = r.varint().ok_or_else(bad)?;
        let losses = (0..n_losses)
            .map(|_| get_loss(r).ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()?;
        let table = |name: &str| BlockReader::open(&gen.join(name));
        let mut g = GraphFile {
            dir: gen.clone(),
            format,
            ordinal,
            entity_count: entity_count as usize,
            edge_count: edge_count as usize,
            string_count: string_count as usize,
            host_syms,
            host_names: Vec::new(),
            stats,
            losses,
            entities: table("entities")?,
            edges: table("edges")?,
            adjacency: table("adjacency")?,
            strings: table("strings")?,
            names: table("names")?,
            pids: table("pids")?,
            sockets: table("sockets")?,
            entity_cache: Cache::default(),
            edge_cache: Cache::default(),
            adjacency_cache: Cache::default(),
            biglists: if format >= 3 {
                Some(table("biglists")?)
            } else {
                None
            },
            event_zones: if format >= 4 {
                Some(table("eventzones")?)
            } else {
                None
            },
            zones: std::cell::OnceCell::new(),
            big_cache: Cache::default(),
            string_cache: Cache::default(),
            keyed_cache: Cache::default(),
            error: RefCell::new(None),
        };
        let blocks = |n: usize| n.div_ceil(BLOCK_ITEMS as usize);
        for (t, n) in [
            (&g.entities, entity_count),
            (&g.edges, edge_count),
            (&g.adjacency, entity_count),
            (&g.strings, string_count),
        ] {
            if t.block_count() != blocks(n as usize) {
                return Err(GraphStoreError::corrupt(
                    t.path(),
                    format!(
                        "{} blocks where {n} items need {}",
                        t.block_count(),
                        blocks(n as usize)
                    ),
                ));
            }
        }
        let mut names = Vec::new();
        for &s in &g.host_syms {
            names.push(g.try_string(s)?.to_vec());
        }
        g.host_names = names;
        Ok(Some(g))
    }

    /// The checkpoint's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The checkpoint was written in an older format: it loads (to go on ingesting) but cannot
    /// be queried until a new checkpoint is written.
    pub fn is_old_format(&self) -> bool {
        self.format != crate::FORMAT
    }

    /// The event store ordinal the checkpoint covers.
    pub fn ordinal(&self) -> u64 {
        self.ordinal
    }

    pub fn stats(&self) -> GraphStats {
        self.stats
    }

    /// Blocks read from disk so far, per table: entities, edges, adjacency, strings, keyed.
    pub fn blocks_read(&self) -> [u64; 5] {
        [
            self.entity_cache.misses.get(),
            self.edge_cache.misses.get(),
            self.adjacency_cache.misses.get(),
            self.string_cache.misses.get(),
            self.keyed_cache.misses.get(),
        ]
    }

    /// The edges whose first or last event is `serial` on `host`, newest first: the edge blocks
    /// the `eventzones` table says may hold one are read (every block in a checkpoint of a
    /// format without the table).
    pub fn edges_of_event(&self, host: HostId, serial: u64) -> Result<Vec<EdgeId>, GraphStoreError> {
        let blocks: Vec<usize> = match &self.event_zones {
            Some(file) => {
                if self.zones.get().is_none() {
                    let zones = crate::event_zones::EventZones::read(file)?;
                    let expected = self.edge_count.div_ceil(BLOCK_ITEMS as usize);
                    if zones.block_count() != expected {
                        return Err(GraphStoreError::corrupt(
                            file.path(),
                            format!("{} zones for {expected} edge blocks", zones.block_count()),
                        ));
                    }
                    let _ = self.zones.set(zones);
                }
                let zones = self.zones.get().expect("set above");
                zones.blocks_with(host.0, serial).collect()
            }
            None => (0..self.edge_count.div_ceil(BLOCK_ITEMS as usize)).rev().collect(),
        };
        let mut found = Vec::new();
        let names = |ev: graph::EventRef| ev.host == host && ev.serial == serial;
        for block in blocks {
            let start = block as u32 * BLOCK_ITEMS;
            let edges = self.items(&self.edges, &self.edge_cache, self.edge_count, start, |r, d, _| get_edge(r, d))?;
            for (i, e) in edges.iter().enumerate().rev() {
                if names(e.first_event) || names(e.last_event) {
                    found.push(EdgeId(start + i as u32));
                }
            }
        }
        Ok(found)
    }

    /// Takes the first error a query met (a damaged block), if any.
    pub fn error(&self) -> Option<GraphStoreError> {
        self.error.borrow_mut().take()
    }

    fn fail(&self, e: GraphStoreError) {
        let mut slot = self.error.borrow_mut();
        if slot.is_none() {
            *slot = Some(e);
        }
    }

    fn items<T>(
        &self,
        reader: &BlockReader,
        cache: &Cache<T>,
        count: usize,
        index: u32,
        decode: impl Fn(&mut Reader<'_>, &mut Delta, u32) -> Option<T>,
    ) -> Result<Rc<Vec<T>>, GraphStoreError> {
        let block = index / BLOCK_ITEMS;
        if index as usize >= count {
            return Err(GraphStoreError::corrupt(
                reader.path(),
                format!("item {index} asked of {count}"),
            ));
        }
        cache.get(block, || {
            let raw = reader.read(block as usize)?;
            let start = block * BLOCK_ITEMS;
            let n = (count - start as usize).min(BLOCK_ITEMS as usize) as u32;
            let mut r = Reader::new(&raw);
            let mut d = Delta::default();
            let mut out = Vec::with_capacity(n as usize);
            for i in start..start + n {
                out.push(decode(&mut r, &mut d, i).ok_or_else(|| {
                    GraphStoreError::corrupt(
                        reader.path(),
                        format!("block {block} does not decode"),
                    )
                })?);
            }
            Ok(out)
        })
    }

    fn try_entity(&self, id: EntityId) -> Result<Entity, GraphStoreError> {
        let b = self.items(
            &self.entities,
            &self.entity_cache,
            self.entity_count,
            id.0,
            |r, d, i| get_entity(r, d, EntityId(i)),
        )?;
        Ok(b[(id.0 % BLOCK_ITEMS) as usize].clone())
    }

    fn try_edge(&self, id: EdgeId) -> Result<Edge, GraphStoreError> {
        let b = self.items(
            &self.edges,
            &self.edge_cache,
            self.edge_count,
            id.0,
            |r, d, _| get_edge(r, d),
        )?;
        Ok(b[(id.0 % BLOCK_ITEMS) as usize].clone())
    }

    fn try_adjacency<T>(
        &self,
        id: EntityId,
        pick: impl FnOnce(&Adjacency) -> T,
    ) -> Result<T, GraphStoreError> {
        if self.format != crate::FORMAT {
            return Err(GraphStoreError::corrupt(
                &self.dir,
                format!("adjacency of format {} (written by an older version): run an ingest to rewrite it", self.format),
            ));
        }
        let b = self.items(
            &self.adjacency,
            &self.adjacency_cache,
            self.entity_count,
            id.0,
            |r, _, i| {
                let next = match r.varint()? {
                    0 => None,
                    d => Some(EntityId(i.checked_add(u32::try_from(d).ok()?)?)),
                };
                let neighbours = r.u32()?;
                let (n_in, n_out) = (
                    usize::try_from(r.varint()?).ok()?,
                    usize::try_from(r.varint()?).ok()?,
                );
                let big = match r.u32()? {
                    0 => None,
                    n => Some(n - 1),
                };
                let (ins, outs) = match big {
                    Some(_) => (Vec::new(), Vec::new()),
                    None => decode_lists(r, n_in, n_out)?,
                };
                Some(Adjacency {
                    next,
                    neighbours,
                    n_in,
                    n_out,
                    big,
                    ins,
                    outs,
                })
            },
        )?;
        Ok(pick(&b[(id.0 % BLOCK_ITEMS) as usize]))
    }

    fn try_string(&self, s: Sym) -> Result<Box<[u8]>, GraphStoreError> {
        let b = self.items(
            &self.strings,
            &self.string_cache,
            self.string_count,
            s.0,
            |r, _, _| r.bytes().map(Box::from),
        )?;
        Ok(b[(s.0 % BLOCK_ITEMS) as usize].clone())
    }

    /// An entity's in- or out-edges, from its adjacency record or its block of `biglists`.
    fn try_lists(&self, id: EntityId, ins: bool) -> Result<Vec<EdgeId>, GraphStoreError> {
        let (big, n_in, n_out, inline) = self.try_adjacency(id, |a| {
            (
                a.big,
                a.n_in,
                a.n_out,
                if ins { a.ins.clone() } else { a.outs.clone() },
            )
        })?;
        let Some(big) = big else { return Ok(inline) };
        let table = self
            .biglists
            .as_ref()
            .ok_or_else(|| GraphStoreError::corrupt(&self.dir, "no biglists table"))?;
        let lists = self.big_cache.get(big, || {
            let raw = table.read(big as usize)?;
            let lists = decode_lists(&mut Reader::new(&raw), n_in, n_out).ok_or_else(|| {
                GraphStoreError::corrupt(table.path(), format!("block {big} does not decode"))
            })?;
            Ok(vec![lists])
        })?;
        Ok(if ins {
            lists[0].0.clone()
        } else {
            lists[0].1.clone()
        })
    }

    /// The value stored under `key` in a keyed table.
    fn keyed(&self, table: &BlockReader, key: &[u8]) -> Result<Option<Vec<u8>>, GraphStoreError> {
        let n = table.block_count();
        let i = (0..n)
            .collect::<Vec<_>>()
            .partition_point(|&i| table.key(i) <= key);
        if i == 0 {
            return Ok(None);
        }
        let block = i - 1;
        // the cache is shared by the keyed tables: tell them apart in the block number
        let tag = match table.path().file_name().and_then(|n| n.to_str()) {
            Some("names") => 0u32,
            Some("pids") => 1,
            _ => 2,
        };
        let entries = self.keyed_cache.get((tag << 28) | block as u32, || {
            let raw = table.read(block)?;
            let mut r = Reader::new(&raw);
            let mut out = Vec::new();
            while !r.is_empty() {
                let (Some(k), Some(v)) = (r.bytes(), r.bytes()) else {
                    return Err(GraphStoreError::corrupt(
                        table.path(),
                        format!("block {block} does not decode"),
                    ));
                };
                out.push((k.to_vec(), v.to_vec()));
            }
            Ok(out)
        })?;
        Ok(entries
            .binary_search_by(|(k, _)| k.as_slice().cmp(key))
            .ok()
            .map(|j| entries[j].1.clone()))
    }

    fn ids(&self, table: &BlockReader, key: &[u8]) -> Result<Vec<EntityId>, GraphStoreError> {
        let Some(v) = self.keyed(table, key)? else {
            return Ok(Vec::new());
        };
        let mut r = Reader::new(&v);
        let mut out = Vec::new();
        while !r.is_empty() {
            out.push(EntityId(r.u32().ok_or_else(|| {
                GraphStoreError::corrupt(table.path(), "an id list does not decode")
            })?));
        }
        Ok(out)
    }

    fn try_name(
        &self,
        host: HostId,
        path: &[u8],
    ) -> Result<Option<(Sym, Vec<NameBinding>)>, GraphStoreError> {
        let Some(v) = self.keyed(&self.names, &host_key(host.0, path))? else {
            return Ok(None);
        };
        let bad = || GraphStoreError::corrupt(self.names.path(), "a name's bindings do not decode");
        let mut r = Reader::new(&v);
        let sym = Sym(r.u32().ok_or_else(bad)?);
        let n = r.varint().ok_or_else(bad)?;
        let bindings = (0..n)
            .map(|_| get_binding(&mut r).ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((sym, bindings)))
    }

    /// The socket entities with this port (`None`: sockets without a port).
    pub fn sockets_with_port(&self, port: Option<u16>) -> Vec<EntityId> {
        self.ids(&self.sockets, &port_key(port))
            .unwrap_or_else(|e| {
                self.fail(e);
                Vec::new()
            })
    }

    fn or_fail<T>(&self, r: Result<T, GraphStoreError>, default: impl FnOnce() -> T) -> T {
        r.unwrap_or_else(|e| {
            self.fail(e);
            default()
        })
    }
}

impl GraphRead for GraphFile {
    fn entity(&self, id: EntityId) -> Cow<'_, Entity> {
        Cow::Owned(self.or_fail(self.try_entity(id), || Entity {
            host: HostId(0),
            version: 0,
            prev: None,
            created: graph::Seq(0),
            created_ms: 0,
            partial: true,
            detail: Detail::User(User { uid: u32::MAX }),
        }))
    }

    fn edge(&self, id: EdgeId) -> Cow<'_, Edge> {
        Cow::Owned(self.or_fail(self.try_edge(id), || Edge {
            from: EntityId(0),
            to: EntityId(0),
            op: graph::Op::Read,
            first: graph::Seq::MAX,
            last: graph::Seq::MIN,
            first_ms: 0,
            last_ms: 0,
            count: 0,
            bytes: 0,
            first_event: graph::EventRef {
                host: HostId(0),
                ms: 0,
                serial: 0,
            },
            last_event: graph::EventRef {
                host: HostId(0),
                ms: 0,
                serial: 0,
            },
        }))
    }

    fn in_edges(&self, id: EntityId) -> Cow<'_, [EdgeId]> {
        Cow::Owned(self.or_fail(self.try_lists(id, true), Vec::new))
    }

    fn out_edges(&self, id: EntityId) -> Cow<'_, [EdgeId]> {
        Cow::Owned(self.or_fail(self.try_lists(id, false), Vec::new))
    }

    fn next_version(&self, id: EntityId) -> Option<EntityId> {
        self.or_fail(self.try_adjacency(id, |a| a.next), || None)
    }

    fn entity_count(&self) -> usize {
        self.entity_count
    }

    fn degree(&self, id: EntityId) -> usize {
        self.or_fail(self.try_adjacency(id, |a| a.n_in + a.n_out), || 0)
    }

    fn neighbour_count(&self, id: EntityId) -> usize {
        let (counted, degree) = self.or_fail(
            self.try_adjacency(id, |a| (a.neighbours, a.n_in + a.n_out)),
            || (0, 0),
        );
        if counted > 0 || degree == 0 {
            return counted as usize;
        }
        // few edges: count from them
        graph::count_neighbours(self, id)
    }

    fn edge_count(&self) -> usize {
        self.edge_count
    }

    fn string(&self, s: Sym) -> Cow<'_, [u8]> {
        Cow::Owned(self.or_fail(self.try_string(s), Box::default).into_vec())
    }

    fn host_count(&self) -> usize {
        self.host_names.len()
    }

    fn host_name(&self, host: HostId) -> Cow<'_, [u8]> {
        Cow::Borrowed(
            self.host_names
                .get(host.0 as usize)
                .map_or(&[][..], |n| n.as_slice()),
        )
    }

    fn name_history(&self, host: HostId, path: &[u8]) -> Cow<'_, [NameBinding]> {
        Cow::Owned(
            self.or_fail(self.try_name(host, path), || None)
                .map_or_else(Vec::new, |(_, b)| b),
        )
    }

    fn name_sym(&self, path: &[u8]) -> Option<Sym> {
        (0..self.host_names.len() as u32).find_map(|h| {
            self.or_fail(self.try_name(HostId(h), path), || None)
                .map(|(s, _)| s)
        })
    }

    fn losses(&self) -> Cow<'_, [Loss]> {
        Cow::Borrowed(&self.losses)
    }

    fn processes_with_pid(&self, host: HostId, pid: u32) -> Vec<EntityId> {
        self.or_fail(
            self.ids(&self.pids, &host_key(host.0, &pid.to_be_bytes())),
            Vec::new,
        )
    }
}

/// Reads the current checkpoint whole and puts its builder back together, to go on adding
/// events; with the store ordinal it covers. `None` when no checkpoint was written yet.
pub fn load(dir: &Path) -> Result<Option<(Builder, u64)>, GraphStoreError> {
    let Some(file) = GraphFile::open(dir)? else {
        return Ok(None);
    };
    let mut parts = GraphParts {
        hosts: file.host_syms.clone(),
        losses: file.losses.clone(),
        ..GraphParts::default()
    };
    let all = |t: &BlockReader| -> Result<Vec<Vec<u8>>, GraphStoreError> {
        (0..t.block_count()).map(|i| t.read(i)).collect()
    };
    for (b, raw) in all(&file.strings)?.into_iter().enumerate() {
        let mut r = Reader::new(&raw);
        while !r.is_empty() {
            let s = r.bytes().ok_or_else(|| {
                GraphStoreError::corrupt(file.strings.path(), format!("block {b} does not decode"))
            })?;
            parts.strings.push(s.into());
        }
    }
    for (b, raw) in all(&file.entities)?.into_iter().enumerate() {
        let (mut r, mut d) = (Reader::new(&raw), Delta::default());
        while !r.is_empty() {
            let id = EntityId(parts.entities.len() as u32);
            let e = get_entity(&mut r, &mut d, id).ok_or_else(|| {
                GraphStoreError::corrupt(file.entities.path(), format!("block {b} does not decode"))
            })?;
            parts.entities.push(e);
        }
    }
    for (b, raw) in all(&file.edges)?.into_iter().enumerate() {
        let (mut r, mut d) = (Reader::new(&raw), Delta::default());
        while !r.is_empty() {
            parts.edges.push(get_edge(&mut r, &mut d).ok_or_else(|| {
                GraphStoreError::corrupt(file.edges.path(), format!("block {b} does not decode"))
            })?);
        }
    }
    for (b, raw) in all(&file.names)?.into_iter().enumerate() {
        let bad =
            || GraphStoreError::corrupt(file.names.path(), format!("block {b} does not decode"));
        let mut r = Reader::new(&raw);
        while !r.is_empty() {
            let (key, value) = (r.bytes().ok_or_else(bad)?, r.bytes().ok_or_else(bad)?);
            let host = HostId(u32::from_be_bytes(
                key.get(..4).ok_or_else(bad)?.try_into().expect("4 bytes"),
            ));
            let mut v = Reader::new(value);
            let sym = Sym(v.u32().ok_or_else(bad)?);
            let n = v.varint().ok_or_else(bad)?;
            let bindings = (0..n)
                .map(|_| get_binding(&mut v).ok_or_else(bad))
                .collect::<Result<Vec<_>, _>>()?;
            parts.names.push(((host, sym), bindings));
        }
    }
    let meta = BlockReader::open(&file.dir.join("meta"))?.read(0)?;
    // the stats are the tail of the meta block before the losses: re-read them in order
    let mut r = Reader::new(&meta);
    for _ in 0..6 + file.host_syms.len() {
        r.varint();
    }
    let mut stats = Vec::new();
    graph::codec::put_varint(&mut stats, r.varint().unwrap_or(0));
    graph::codec::put_varint(&mut stats, r.varint().unwrap_or(0));
    stats.push(r.varint().unwrap_or(0) as u8);
    parts.stats = stats;
    if parts.entities.len() != file.entity_count
        || parts.edges.len() != file.edge_count
        || parts.strings.len() != file.string_count
    {
        return Err(GraphStoreError::corrupt(
            &file.dir,
            "table sizes differ from the meta file's counts",
        ));
    }
    let g = graph::Graph::from_parts(parts)
        .ok_or_else(|| GraphStoreError::corrupt(&file.dir, "the tables do not fit together"))?;
    let state_path = file.dir.join("state");
    let state = BlockReader::open(&state_path)?.read(0)?;
    let b = Builder::resume(g, &state).ok_or_else(|| {
        GraphStoreError::corrupt(&state_path, "the builder state does not decode")
    })?;
    Ok(Some((b, file.ordinal)))
}

/// The bytes on disk of the current checkpoint's files (0 when there is none).
pub fn checkpoint_bytes(dir: &Path) -> Result<u64, GraphStoreError> {
    let Some((_, gen)) = current(dir)? else {
        return Ok(0);
    };
    let mut total = 0;
    for entry in fs::read_dir(&gen).map_err(GraphStoreError::io(&gen))? {
        let entry = entry.map_err(GraphStoreError::io(&gen))?;
        total += entry
            .metadata()
            .map_err(GraphStoreError::io(&entry.path()))?
            .len();
    }
    Ok(total)
}

/// Reads `n_in` then `n_out` delta-coded edge ids.
fn decode_lists(
    r: &mut Reader<'_>,
    n_in: usize,
    n_out: usize,
) -> Option<(Vec<EdgeId>, Vec<EdgeId>)> {
    let mut lists = [
        Vec::with_capacity(n_in.min(1 << 20)),
        Vec::with_capacity(n_out.min(1 << 20)),
    ];
    for (list, n) in lists.iter_mut().zip([n_in, n_out]) {
        let mut at = 0u32;
        for _ in 0..n {
            at = at.checked_add(r.u32()?)?;
            list.push(EdgeId(at));
        }
    }
    let [ins, outs] = lists;
    Some((ins, outs))
}
