//! [`GraphRead`]: what traces, paths, trees and descriptions read of a graph, so that they run
//! the same over the in-memory [`Graph`] and over a graph read from disk on demand.
//!
//! Answers are `Cow`s: the in-memory graph lends, a reader that decodes blocks gives owned
//! values. A reader that can fail (a damaged file) answers with empty values and keeps the
//! error for its caller to check after the query: the algorithms here stay infallible.

use std::borrow::Cow;

use crate::graph::Graph;
use crate::model::{Edge, EdgeId, Entity, EntityId, HostId, Loss, NameBinding, Sym};

/// Read access to a provenance graph.
pub trait GraphRead {
    fn entity(&self, id: EntityId) -> Cow<'_, Entity>;

    fn edge(&self, id: EdgeId) -> Cow<'_, Edge>;

    /// The edges into an entity, in the order they were made.
    fn in_edges(&self, id: EntityId) -> Cow<'_, [EdgeId]>;

    /// The edges out of an entity, in the order they were made.
    fn out_edges(&self, id: EntityId) -> Cow<'_, [EdgeId]>;

    /// The version made after this one, if any.
    fn next_version(&self, id: EntityId) -> Option<EntityId>;

    fn entity_count(&self) -> usize;

    fn edge_count(&self) -> usize;

    /// Returns an interned string's bytes.
    fn string(&self, s: Sym) -> Cow<'_, [u8]>;

    /// The number of hosts; their ids are `0..host_count`.
    fn host_count(&self) -> usize;

    /// Returns a host's name (empty for events that named no node).
    fn host_name(&self, host: HostId) -> Cow<'_, [u8]>;

    /// Finds a host by name.
    fn host(&self, name: &[u8]) -> Option<HostId> {
        (0..self.host_count() as u32)
            .map(HostId)
            .find(|&h| self.host_name(h).as_ref() == name)
    }

    /// Returns the files a path name was bound to, oldest first.
    fn name_history(&self, host: HostId, path: &[u8]) -> Cow<'_, [NameBinding]>;

    /// The symbol of a file name, if some file was ever bound to it (on any host).
    fn name_sym(&self, path: &[u8]) -> Option<Sym>;

    /// Known loss, in `Seq` order.
    fn losses(&self) -> Cow<'_, [Loss]>;

    /// The process versions with this pid on this host, oldest first.
    fn processes_with_pid(&self, host: HostId, pid: u32) -> Vec<EntityId>;

    /// The number of edges into and out of an entity.
    fn degree(&self, id: EntityId) -> usize {
        self.in_edges(id).len() + self.out_edges(id).len()
    }

    /// How many distinct entities share an edge with this one (hub detection).
    fn neighbour_count(&self, id: EntityId) -> usize {
        count_neighbours(self, id)
    }

    /// The newest version of the entity this version belongs to.
    fn latest_version(&self, mut id: EntityId) -> EntityId {
        while let Some(n) = self.next_version(id) {
            id = n;
        }
        id
    }

    /// The first version of the entity this version belongs to.
    fn first_version(&self, mut id: EntityId) -> EntityId {
        while let Some(p) = self.entity(id).prev {
            id = p;
        }
        id
    }
}

impl GraphRead for Graph {
    fn entity(&self, id: EntityId) -> Cow<'_, Entity> {
        Cow::Borrowed(&self.entities[id.0 as usize])
    }

    fn edge(&self, id: EdgeId) -> Cow<'_, Edge> {
        Cow::Borrowed(&self.edges[id.0 as usize])
    }

    fn in_edges(&self, id: EntityId) -> Cow<'_, [EdgeId]> {
        Cow::Borrowed(&self.ins[id.0 as usize])
    }

    fn out_edges(&self, id: EntityId) -> Cow<'_, [EdgeId]> {
        Cow::Borrowed(&self.outs[id.0 as usize])
    }

    fn next_version(&self, id: EntityId) -> Option<EntityId> {
        self.next[id.0 as usize]
    }

    fn entity_count(&self) -> usize {
        self.entities.len()
    }

    fn edge_count(&self) -> usize {
        self.edges.len()
    }

    fn string(&self, s: Sym) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.strings.get(s))
    }

    fn host_count(&self) -> usize {
        self.hosts.len()
    }

    fn host_name(&self, host: HostId) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.strings.get(self.hosts[host.0 as usize]))
    }

    fn name_history(&self, host: HostId, path: &[u8]) -> Cow<'_, [NameBinding]> {
        Cow::Borrowed(
            self.strings
                .lookup(path)
                .and_then(|s| self.names.get(&(host, s)))
                .map_or(&[], |v| v.as_slice()),
        )
    }

    fn name_sym(&self, path: &[u8]) -> Option<Sym> {
        self.strings.lookup(path)
    }

    fn losses(&self) -> Cow<'_, [Loss]> {
        Cow::Borrowed(&self.losses)
    }

    fn processes_with_pid(&self, host: HostId, pid: u32) -> Vec<EntityId> {
        Graph::processes_with_pid(self, host, pid)
    }
}

/// Counts the distinct entities that share an edge with `id`, from its edge lists: the default
/// of [`GraphRead::neighbour_count`], for readers that keep no count of their own.
pub fn count_neighbours<G: GraphRead + ?Sized>(g: &G, id: EntityId) -> usize {
    let mut seen: Vec<EntityId> =
        g.in_edges(id).iter().map(|&e| g.edge(e).from).chain(g.out_edges(id).iter().map(|&e| g.edge(e).to)).collect();
    seen.sort();
    seen.dedup();
    seen.len()
}
