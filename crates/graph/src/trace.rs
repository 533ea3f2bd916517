//! Traces: backward ("how did this get here") and forward ("what did this touch") as a
//! time-respecting breadth-first search, and the path from one entity to another.
//!
//! Each entity keeps one bound: the latest time it was reached at going backward (the earliest
//! going forward). An entity is expanded again only when its bound improves, so the work is
//! bounded by edges × improvements, never by the number of paths. Going backward from `v` at
//! time `t`, an edge `u → v` can be followed when its first event is no later than `t`, and
//! reaches `u` at `min(t, last)`; forward is the mirror image.

use std::collections::VecDeque;

use crate::fxhash::FxHashMap;
use crate::model::{Detail, EdgeId, EntityId, HostId, Seq, Sym};
use crate::read::GraphRead;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Causes: edges followed against their direction, to earlier times.
    Back,
    /// Effects: edges followed along their direction, to later times.
    Forward,
}

/// Files that nearly every process touches; a trace lists them but goes no further through
/// them (they would connect everything to everything).
pub const DEFAULT_HUBS: [&[u8]; 8] = [
    b"/etc/ld.so.cache",
    b"/dev/null",
    b"/dev/tty",
    b"/dev/urandom",
    b"/dev/random",
    b"/etc/localtime",
    b"/usr/lib/locale/locale-archive",
    b"/etc/nsswitch.conf",
];

/// How far a trace may go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Edges from the start; `None` is unbounded.
    pub max_depth: Option<u32>,
    /// Only edges with an event in `[from, to]` milliseconds are followed.
    pub window_ms: Option<(u64, u64)>,
    /// At most this many edges are followed out of one entity (the most recent first going
    /// backward, the earliest first going forward); the answer says it was truncated.
    pub max_fanout: Option<usize>,
    /// An entity with more distinct neighbours than this is listed but not expanded.
    pub hub_degree: Option<usize>,
    /// Files with these names are listed but not expanded.
    pub hub_names: Vec<Vec<u8>>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_depth: None,
            window_ms: None,
            max_fanout: None,
            hub_degree: Some(10_000),
            hub_names: DEFAULT_HUBS.iter().map(|h| h.to_vec()).collect(),
        }
    }
}

impl Limits {
    /// No limits at all: every entity reachable in time.
    pub fn unbounded() -> Limits {
        Limits {
            max_depth: None,
            window_ms: None,
            max_fanout: None,
            hub_degree: None,
            hub_names: Vec::new(),
        }
    }
}

/// An entity a trace reached: when (its bound) and how many edges from the start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reached {
    pub entity: EntityId,
    pub at: Seq,
    pub depth: u32,
}

/// The answer of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    pub direction: Direction,
    pub start: EntityId,
    /// Every entity reached, the start included, by id.
    pub reached: Vec<Reached>,
    /// The edges followed, by id.
    pub edges: Vec<EdgeId>,
    /// Entities reached but not expanded because they are hubs.
    pub hubs: Vec<EntityId>,
    /// A depth or fan-out limit cut the search short.
    pub truncated: bool,
    /// The trace reaches across known loss (a serial gap, a partial event): edges may be missing.
    pub incomplete: bool,
}

impl Trace {
    /// Returns true if the trace reached the entity.
    pub fn contains(&self, id: EntityId) -> bool {
        self.reached.binary_search_by_key(&id, |r| r.entity).is_ok()
    }
}

/// Traces from `start` as it was at `at` (`None`: its whole life).
pub fn trace<G: GraphRead + ?Sized>(
    g: &G,
    start: EntityId,
    at: Option<Seq>,
    direction: Direction,
    limits: &Limits,
) -> Trace {
    let back = direction == Direction::Back;
    let t0 = at.unwrap_or(if back { Seq::MAX } else { Seq::MIN });
    let mut best: FxHashMap<EntityId, (Seq, u32)> = FxHashMap::default();
    let mut used: FxHashMap<EdgeId, ()> = FxHashMap::default();
    let mut hubs = Vec::new();
    let mut truncated = false;
    let mut queue = VecDeque::new();
    best.insert(start, (t0, 0));
    queue.push_back((start, t0, 0u32));
    let mut candidates: Vec<(EdgeId, Seq, EntityId)> = Vec::new();
    let hub_syms = hub_syms(g, limits);
    while let Some((v, t, depth)) = queue.pop_front() {
        if best.get(&v).is_some_and(|&(b, _)| b != t) {
            continue; // a better bound came after this was queued
        }
        if v != start && is_hub(g, v, limits, &hub_syms) {
            if !hubs.contains(&v) {
                hubs.push(v);
            }
            continue;
        }
        if limits.max_depth.is_some_and(|d| depth >= d) {
            if !(if back { g.in_edges(v) } else { g.out_edges(v) }).is_empty() {
                truncated = true;
            }
            continue;
        }
        candidates.clear();
        let list = if back { g.in_edges(v) } else { g.out_edges(v) };
        for &e in list.iter() {
            let edge = g.edge(e);
            if let Some((from, to)) = limits.window_ms {
                if edge.last_ms < from || edge.first_ms > to {
                    continue;
                }
            }
            let reach = if back {
                if edge.first > t {
                    continue;
                }
                t.min(edge.last)
            } else {
                if edge.last < t {
                    continue;
                }
                t.max(edge.first)
            };
            candidates.push((e, reach, if back { edge.from } else { edge.to }));
        }
        if let Some(max) = limits.max_fanout {
            if candidates.len() > max {
                truncated = true;
                if back {
                    candidates.sort_by_key(|&(e, r, _)| (std::cmp::Reverse(r), e));
                } else {
                    candidates.sort_by_key(|&(e, r, _)| (r, e));
                }
                candidates.truncate(max);
            }
        }
        for &(e, reach, u) in &candidates {
            used.insert(e, ());
            let better = match best.get(&u) {
                None => true,
                Some(&(b, _)) => {
                    if back {
                        reach > b
                    } else {
                        reach < b
                    }
                }
            };
            if better {
                let d = best.get(&u).map_or(depth + 1, |&(_, d)| d.min(depth + 1));
                best.insert(u, (reach, d));
                queue.push_back((u, reach, depth + 1));
            }
        }
    }
    let mut reached: Vec<Reached> = best
        .into_iter()
        .map(|(entity, (at, depth))| Reached { entity, at, depth })
        .collect();
    reached.sort_by_key(|r| r.entity);
    let mut edges: Vec<EdgeId> = used.into_keys().collect();
    edges.sort();
    hubs.sort();
    let incomplete = crosses_loss(g, &reached, back);
    Trace {
        direction,
        start,
        reached,
        edges,
        hubs,
        truncated,
        incomplete,
    }
}

/// The symbols of the hub names that some file had: a hub is then found by comparing symbols.
fn hub_syms<G: GraphRead + ?Sized>(g: &G, limits: &Limits) -> Vec<Sym> {
    limits
        .hub_names
        .iter()
        .filter_map(|h| g.name_sym(h))
        .collect()
}

fn is_hub<G: GraphRead + ?Sized>(g: &G, v: EntityId, limits: &Limits, hub_syms: &[Sym]) -> bool {
    if let Detail::File(f) = &g.entity(v).detail {
        if f.name.is_some_and(|name| hub_syms.contains(&name)) {
            return true;
        }
    }
    if let Some(max) = limits.hub_degree {
        if g.degree(v) > max {
            // edges, not neighbours, may be many: count distinct neighbours only when needed
            return g.neighbour_count(v) > max;
        }
    }
    false
}

/// A trace is incomplete when an entity it reached was touched by a partial event, or known loss
/// on a host it visited lies within the time it covers.
fn crosses_loss<G: GraphRead + ?Sized>(g: &G, reached: &[Reached], back: bool) -> bool {
    if reached.iter().any(|r| g.entity(r.entity).partial) {
        return true;
    }
    let losses = g.losses();
    if losses.is_empty() {
        return false;
    }
    // going back, a loss matters if it came no later than the time an entity was reached at:
    // the earliest loss of each host decides (going forward, the latest)
    let mut bound: FxHashMap<HostId, Seq> = FxHashMap::default();
    for loss in losses.iter() {
        let b = bound.entry(loss.host).or_insert(loss.at);
        *b = if back {
            (*b).min(loss.at)
        } else {
            (*b).max(loss.at)
        };
    }
    reached.iter().any(|r| {
        bound
            .get(&g.entity(r.entity).host)
            .is_some_and(|&at| if back { at <= r.at } else { at >= r.at })
    })
}

/// Finds how `from` reached `to`: a time-respecting chain of edges, fewest edges first among
/// those the forward search finds, or `None`.
pub fn path<G: GraphRead + ?Sized>(
    g: &G,
    from: EntityId,
    to: EntityId,
    limits: &Limits,
) -> Option<Vec<EdgeId>> {
    let mut best: FxHashMap<EntityId, (Seq, Option<EdgeId>)> = FxHashMap::default();
    let mut queue = VecDeque::new();
    let hub_syms = hub_syms(g, limits);
    best.insert(from, (Seq::MIN, None));
    queue.push_back((from, Seq::MIN, 0u32));
    while let Some((v, t, depth)) = queue.pop_front() {
        if best.get(&v).is_some_and(|&(b, _)| b != t) {
            continue;
        }
        if v == to {
            continue;
        }
        if (v != from && is_hub(g, v, limits, &hub_syms))
            || limits.max_depth.is_some_and(|d| depth >= d)
        {
            continue;
        }
        for &e in g.out_edges(v).iter() {
            let edge = g.edge(e);
            if edge.last < t {
                continue;
            }
            if let Some((lo, hi)) = limits.window_ms {
                if edge.last_ms < lo || edge.first_ms > hi {
                    continue;
                }
            }
            let reach = t.max(edge.first);
            if best.get(&edge.to).is_none_or(|&(b, _)| reach < b) {
                best.insert(edge.to, (reach, Some(e)));
                queue.push_back((edge.to, reach, depth + 1));
            }
        }
    }
    best.get(&to)?;
    let mut chain = Vec::new();
    let mut at = to;
    while at != from {
        let (_, Some(e)) = best[&at] else { return None };
        if chain.contains(&e) {
            return None;
        }
        chain.push(e);
        at = g.edge(e).from;
    }
    chain.reverse();
    Some(chain)
}
