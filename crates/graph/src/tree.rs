//! Process trees: each process (all its versions) with the children it forked, from the fork
//! edges of the graph.

use crate::model::{EntityId, Op};
use crate::read::GraphRead;

/// One process in a tree: its versions oldest first (exec, set*id, …) and its children in the
/// order they started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeNode {
    pub versions: Vec<EntityId>,
    pub children: Vec<TreeNode>,
}

/// Trees deeper than this are cut (a fork loop in damaged input must not overflow the stack).
const MAX_DEPTH: usize = 512;

/// Returns the tree of the process that `id` is a version of.
pub fn process_tree<G: GraphRead + ?Sized>(g: &G, id: EntityId) -> TreeNode {
    node(g, g.first_version(id), 0)
}

fn node<G: GraphRead + ?Sized>(g: &G, first: EntityId, depth: usize) -> TreeNode {
    let mut versions = vec![first];
    let mut at = first;
    while let Some(next) = g.next_version(at) {
        versions.push(next);
        at = next;
    }
    let mut kids: Vec<EntityId> = versions
        .iter()
        .flat_map(|&v| {
            g.out_edges(v)
                .iter()
                .map(|&e| g.edge(e).into_owned())
                .collect::<Vec<_>>()
        })
        .filter(|e| e.op == Op::Fork)
        .map(|e| e.to)
        .collect();
    kids.sort_by_key(|&k| (g.entity(k).created, k));
    kids.dedup();
    let children = if depth < MAX_DEPTH {
        kids.into_iter().map(|k| node(g, k, depth + 1)).collect()
    } else {
        Vec::new()
    };
    TreeNode { versions, children }
}

/// Returns the first versions of the processes that have no known parent, oldest first.
pub fn roots<G: GraphRead + ?Sized>(g: &G) -> Vec<EntityId> {
    (0..g.entity_count() as u32)
        .map(EntityId)
        .filter(|&id| {
            let e = g.entity(id);
            e.as_process().is_some()
                && e.prev.is_none()
                && g.in_edges(id).iter().all(|&x| g.edge(x).op != Op::Fork)
        })
        .collect()
}
