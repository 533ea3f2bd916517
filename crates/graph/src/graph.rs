//! The graph itself: entities and edges in arrays, adjacency lists both ways, interned strings,
//! the history of names, known loss, and causality-preserving reduction applied as edges arrive.
//!
//! Reduction (CPR, Xu et al. CCS'16, as used by Hossain et al. USENIX Security'18): an event
//! `u → v` of the same operation as an existing edge is merged into that edge only while no edge
//! came into `u` and no edge left `v` since the edge's last event. Any time-respecting path that
//! used one of the merged events can use the merged edge instead, so backward and forward traces
//! give the same answers on the reduced graph (a test checks that on real logs).

use crate::fxhash::FxHashMap;
use crate::model::{
    Edge, EdgeId, Entity, EntityId, EventRef, HostId, Loss, NameBinding, Op, Seq, Sym,
};

/// Counts of what was put in and what was kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GraphStats {
    /// Edges offered by the builder (one per operation seen).
    pub edge_events: u64,
    /// Of those, merged into an existing edge by reduction.
    pub merged: u64,
}

impl GraphStats {
    /// Edges kept / edges offered (1.0 when nothing was merged or nothing offered).
    pub fn reduction_factor(&self) -> f64 {
        if self.edge_events == 0 {
            return 1.0;
        }
        (self.edge_events - self.merged) as f64 / self.edge_events as f64
    }
}

/// Interned byte strings.
#[derive(Default, Debug, Clone)]
pub(crate) struct Interner {
    ids: FxHashMap<Box<[u8]>, Sym>,
    strings: Vec<Box<[u8]>>,
}

impl Interner {
    pub(crate) fn intern(&mut self, bytes: &[u8]) -> Sym {
        if let Some(&s) = self.ids.get(bytes) {
            return s;
        }
        let s = Sym(self.strings.len() as u32);
        self.strings.push(bytes.into());
        self.ids.insert(bytes.into(), s);
        s
    }

    pub(crate) fn lookup(&self, bytes: &[u8]) -> Option<Sym> {
        self.ids.get(bytes).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.strings.len()
    }

    pub(crate) fn get(&self, s: Sym) -> &[u8] {
        &self.strings[s.0 as usize]
    }
}

/// A provenance graph. Made by [`crate::Builder`]; read by [`crate::trace`] and the accessors
/// here.
#[derive(Debug, Clone)]
pub struct Graph {
    pub(crate) strings: Interner,
    pub(crate) hosts: Vec<Sym>,
    pub(crate) entities: Vec<Entity>,
    /// The next version of each entity, if one was made.
    pub(crate) next: Vec<Option<EntityId>>,
    pub(crate) edges: Vec<Edge>,
    pub(crate) outs: Vec<Vec<EdgeId>>,
    pub(crate) ins: Vec<Vec<EdgeId>>,
    /// For reduction: when the last edge came into / left each entity.
    pub(crate) last_in: Vec<Seq>,
    pub(crate) last_out: Vec<Seq>,
    pub(crate) merge: FxHashMap<(EntityId, EntityId, Op), EdgeId>,
    pub(crate) reduce: bool,
    pub(crate) names: FxHashMap<(HostId, Sym), Vec<NameBinding>>,
    pub(crate) losses: Vec<Loss>,
    pub(crate) stats: GraphStats,
}

impl Graph {
    pub(crate) fn new(reduce: bool) -> Graph {
        Graph {
            strings: Interner::default(),
            hosts: Vec::new(),
            entities: Vec::new(),
            next: Vec::new(),
            edges: Vec::new(),
            outs: Vec::new(),
            ins: Vec::new(),
            last_in: Vec::new(),
            last_out: Vec::new(),
            merge: FxHashMap::default(),
            reduce,
            names: FxHashMap::default(),
            losses: Vec::new(),
            stats: GraphStats::default(),
        }
    }

    pub(crate) fn add_entity(&mut self, entity: Entity) -> EntityId {
        let id = EntityId(self.entities.len() as u32);
        if let Some(prev) = entity.prev {
            self.next[prev.0 as usize] = Some(id);
        }
        self.entities.push(entity);
        self.next.push(None);
        self.outs.push(Vec::new());
        self.ins.push(Vec::new());
        self.last_in.push(Seq::MIN);
        self.last_out.push(Seq::MIN);
        id
    }

    /// Adds one event's edge, merged into an existing one when reduction allows.
    pub(crate) fn add_edge(
        &mut self,
        from: EntityId,
        to: EntityId,
        op: Op,
        at: Seq,
        ev: EventRef,
        bytes: u64,
    ) -> EdgeId {
        self.stats.edge_events += 1;
        let (f, t) = (from.0 as usize, to.0 as usize);
        if self.reduce {
            if let Some(&id) = self.merge.get(&(from, to, op)) {
                let edge = &mut self.edges[id.0 as usize];
                if self.last_in[f] <= edge.last && self.last_out[t] <= edge.last {
                    edge.last = edge.last.max(at);
                    edge.last_ms = edge.last_ms.max(ev.ms);
                    edge.count += 1;
                    edge.bytes += bytes;
                    edge.last_event = ev;
                    self.last_out[f] = self.last_out[f].max(at);
                    self.last_in[t] = self.last_in[t].max(at);
                    self.stats.merged += 1;
                    return id;
                }
            }
        }
        let id = EdgeId(self.edges.len() as u32);
        self.edges.push(Edge {
            from,
            to,
            op,
            first: at,
            last: at,
            first_ms: ev.ms,
            last_ms: ev.ms,
            count: 1,
            bytes,
            first_event: ev,
            last_event: ev,
        });
        self.outs[f].push(id);
        self.ins[t].push(id);
        self.last_out[f] = self.last_out[f].max(at);
        self.last_in[t] = self.last_in[t].max(at);
        if self.reduce {
            self.merge.insert((from, to, op), id);
        }
        id
    }

    pub fn entity(&self, id: EntityId) -> &Entity {
        &self.entities[id.0 as usize]
    }

    pub fn edge(&self, id: EdgeId) -> &Edge {
        &self.edges[id.0 as usize]
    }

    pub fn entity_count(&self) -> usize {
        self.entities.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Iterates over all entities with their ids.
    pub fn entities(&self) -> impl ExactSizeIterator<Item = (EntityId, &Entity)> + '_ {
        self.entities
            .iter()
            .enumerate()
            .map(|(i, e)| (EntityId(i as u32), e))
    }

    /// Iterates over all edges with their ids.
    pub fn edges(&self) -> impl ExactSizeIterator<Item = (EdgeId, &Edge)> + '_ {
        self.edges
            .iter()
            .enumerate()
            .map(|(i, e)| (EdgeId(i as u32), e))
    }

    pub fn in_edges(&self, id: EntityId) -> &[EdgeId] {
        &self.ins[id.0 as usize]
    }

    pub fn out_edges(&self, id: EntityId) -> &[EdgeId] {
        &self.outs[id.0 as usize]
    }

    /// The version made after this one, if any.
    pub fn next_version(&self, id: EntityId) -> Option<EntityId> {
        self.next[id.0 as usize]
    }

    /// The newest version of the entity this version belongs to.
    pub fn latest_version(&self, mut id: EntityId) -> EntityId {
        while let Some(n) = self.next_version(id) {
            id = n;
        }
        id
    }

    /// The first version of the entity this version belongs to.
    pub fn first_version(&self, mut id: EntityId) -> EntityId {
        while let Some(p) = self.entity(id).prev {
            id = p;
        }
        id
    }

    /// Returns an interned string's bytes.
    pub fn string(&self, s: Sym) -> &[u8] {
        self.strings.get(s)
    }

    /// Returns a host's name (empty for events that named no node).
    pub fn host_name(&self, host: HostId) -> &[u8] {
        self.strings.get(self.hosts[host.0 as usize])
    }

    /// Finds a host by name.
    pub fn host(&self, name: &[u8]) -> Option<HostId> {
        let sym = self.strings.lookup(name)?;
        self.hosts
            .iter()
            .position(|&h| h == sym)
            .map(|i| HostId(i as u32))
    }

    /// Returns the files a path name was bound to, oldest first.
    pub fn name_history(&self, host: HostId, path: &[u8]) -> &[NameBinding] {
        self.strings
            .lookup(path)
            .and_then(|s| self.names.get(&(host, s)))
            .map_or(&[], |v| v.as_slice())
    }

    /// Returns every name a file (any version of it) was bound to, with the binding.
    pub fn names_of(&self, file: EntityId) -> Vec<(&[u8], NameBinding)> {
        let first = self.first_version(file);
        let mut out: Vec<(&[u8], NameBinding)> = self
            .names
            .iter()
            .flat_map(|(&(_, name), bindings)| bindings.iter().map(move |b| (name, *b)))
            .filter(|(_, b)| self.first_version(b.file) == first)
            .map(|(name, b)| (self.string(name), b))
            .collect();
        out.sort_by_key(|(name, b)| (b.from, name.to_vec()));
        out
    }

    /// Known loss, in `Seq` order.
    pub fn losses(&self) -> &[Loss] {
        &self.losses
    }

    pub fn stats(&self) -> GraphStats {
        self.stats
    }

    /// The process versions with this pid on this host, oldest first.
    pub fn processes_with_pid(&self, host: HostId, pid: u32) -> Vec<EntityId> {
        self.entities()
            .filter(|(_, e)| e.host == host && e.as_process().is_some_and(|p| p.pid == pid))
            .map(|(id, _)| id)
            .collect()
    }
}
