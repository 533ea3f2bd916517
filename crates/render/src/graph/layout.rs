//! A layered (Sugiyama-style) layout for the SVG picture, left to right:
//!
//! 1. cycles are broken by turning around the edges that close one in a depth-first search, so
//!    that every edge goes forward;
//! 2. each node's rank (column) is the length of the longest path into it; then a node that
//!    nothing points to moves right, to just before its nearest successor (a file read only by
//!    the last process is drawn beside it, not in the first column);
//! 3. an edge that spans several ranks gets a dummy point in each rank between;
//! 4. the order within each rank starts from the input order and is improved by barycentre
//!    sweeps (a node moves to the mean position of its neighbours in the rank before, then in the
//!    rank after), keeping the order with the fewest crossings;
//! 5. columns are as wide as their widest node; nodes are stacked in their column's order and
//!    the columns centred on each other.
//!
//! Linear in the size of the graph per sweep; the number of sweeps is fixed.

/// The input: node sizes and edges as `(from, to)` indices into `sizes`.
pub(crate) struct Input<'a> {
    pub sizes: &'a [(f64, f64)],
    pub edges: &'a [(usize, usize)],
}

/// The output: each node's centre, and each edge's points from its source to its target
/// (through the dummy points of the ranks it crosses).
#[derive(Debug)]
pub(crate) struct Layout {
    pub centres: Vec<(f64, f64)>,
    pub routes: Vec<Vec<(f64, f64)>>,
    pub width: f64,
    pub height: f64,
}

const RANK_GAP: f64 = 80.0;
const NODE_GAP: f64 = 24.0;
const DUMMY_HEIGHT: f64 = 8.0;
const SWEEPS: usize = 8;

pub(crate) fn layout(input: &Input<'_>) -> Layout {
    let n = input.sizes.len();
    let forward = orient(n, input.edges);
    let rank = ranks(n, &forward);
    let ranks_n = rank.iter().copied().max().map_or(0, |r| r + 1);

    // Chains: every forward edge as a list of vertices, dummies (index ≥ n) between its ranks.
    let mut vertex_rank: Vec<usize> = rank.clone();
    let mut chains: Vec<Vec<usize>> = Vec::with_capacity(forward.len());
    for &(u, v) in &forward {
        let mut chain = vec![u];
        for r in rank[u] + 1..rank[v] {
            chain.push(vertex_rank.len());
            vertex_rank.push(r);
        }
        chain.push(v);
        chains.push(chain);
    }
    let total = vertex_rank.len();
    let mut up: Vec<Vec<usize>> = vec![Vec::new(); total];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); total];
    for chain in &chains {
        for w in chain.windows(2) {
            if w[0] != w[1] {
                down[w[0]].push(w[1]);
                up[w[1]].push(w[0]);
            }
        }
    }
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); ranks_n];
    for (v, &r) in vertex_rank.iter().enumerate() {
        layers[r].push(v);
    }
    let mut pos = vec![0usize; total];
    let set_pos = |layers: &[Vec<usize>], pos: &mut [usize]| {
        for layer in layers {
            for (i, &v) in layer.iter().enumerate() {
                pos[v] = i;
            }
        }
    };
    set_pos(&layers, &mut pos);
    let mut best = layers.clone();
    let mut best_crossings = crossings(&layers, &down, &pos);
    for sweep in 0..SWEEPS {
        let downward = sweep % 2 == 0;
        let order: Vec<usize> =
            if downward { (1..ranks_n).collect() } else { (0..ranks_n.saturating_sub(1)).rev().collect() };
        for r in order {
            let neighbours = if downward { &up } else { &down };
            let mut keyed: Vec<(f64, usize, usize)> = layers[r]
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let ns = &neighbours[v];
                    let bary = if ns.is_empty() {
                        i as f64
                    } else {
                        ns.iter().map(|&u| pos[u] as f64).sum::<f64>() / ns.len() as f64
                    };
                    (bary, i, v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            layers[r] = keyed.into_iter().map(|(_, _, v)| v).collect();
            for (i, &v) in layers[r].iter().enumerate() {
                pos[v] = i;
            }
        }
        let c = crossings(&layers, &down, &pos);
        if c < best_crossings {
            best_crossings = c;
            best = layers.clone();
        }
    }
    let layers = best;

    // Coordinates.
    let size = |v: usize| {
        if v < n {
            input.sizes[v]
        } else {
            (0.0, DUMMY_HEIGHT)
        }
    };
    let widths: Vec<f64> = layers.iter().map(|l| l.iter().map(|&v| size(v).0).fold(0.0, f64::max)).collect();
    let heights: Vec<f64> = layers
        .iter()
        .map(|l| l.iter().map(|&v| size(v).1).sum::<f64>() + NODE_GAP * l.len().saturating_sub(1) as f64)
        .collect();
    let tallest = heights.iter().copied().fold(0.0, f64::max);
    let mut ys = vec![0.0; total];
    for (r, layer) in layers.iter().enumerate() {
        let mut y = (tallest - heights[r]) / 2.0;
        for &v in layer {
            let (_, h) = size(v);
            ys[v] = y + h / 2.0;
            y += h + NODE_GAP;
        }
    }
    // Straighten: each vertex moves towards the mean height of its neighbours, keeping its
    // column's order and spacing.
    for sweep in 0..SWEEPS {
        let order: Vec<usize> = if sweep % 2 == 0 { (0..ranks_n).collect() } else { (0..ranks_n).rev().collect() };
        for r in order {
            let layer = &layers[r];
            let desired: Vec<f64> = layer
                .iter()
                .map(|&v| {
                    let ns: Vec<usize> = up[v].iter().chain(&down[v]).copied().collect();
                    if ns.is_empty() {
                        ys[v]
                    } else {
                        ns.iter().map(|&u| ys[u]).sum::<f64>() / ns.len() as f64
                    }
                })
                .collect();
            place(layer, &desired, &size, &mut ys);
        }
    }
    let top = (0..total).map(|v| ys[v] - size(v).1 / 2.0).fold(f64::INFINITY, f64::min);
    let top = if top.is_finite() { top } else { 0.0 };
    let height = (0..total).map(|v| ys[v] + size(v).1 / 2.0 - top).fold(0.0, f64::max);
    let mut centre = vec![(0.0, 0.0); total];
    let mut x = 0.0;
    for (r, layer) in layers.iter().enumerate() {
        for &v in layer {
            centre[v] = (x + widths[r] / 2.0, ys[v] - top);
        }
        x += widths[r] + RANK_GAP;
    }
    let width = (x - RANK_GAP).max(0.0);

    // Routes, in the input's edge order and direction.
    let mut routes = Vec::with_capacity(input.edges.len());
    let mut chain_of = chains.into_iter();
    for &(u, v) in input.edges {
        if u == v {
            routes.push(vec![centre[u], centre[u]]);
            continue;
        }
        let chain = chain_of.next().expect("one chain per edge that is not a loop");
        let mut points: Vec<(f64, f64)> = chain.iter().map(|&w| centre[w]).collect();
        if chain[0] != u {
            points.reverse();
        }
        routes.push(points);
    }
    Layout { centres: centre[..n].to_vec(), routes, width, height }
}

/// Places a column's vertices as near their desired heights as their order and spacing allow:
/// pushed down from the top, then pulled back up from the bottom, then the two averaged.
fn place(layer: &[usize], desired: &[f64], size: &impl Fn(usize) -> (f64, f64), ys: &mut [f64]) {
    let k = layer.len();
    if k == 0 {
        return;
    }
    let gap = |i: usize| (size(layer[i - 1]).1 + size(layer[i]).1) / 2.0 + NODE_GAP;
    let mut down = desired.to_vec();
    for i in 1..k {
        down[i] = down[i].max(down[i - 1] + gap(i));
    }
    let mut up = desired.to_vec();
    for i in (0..k - 1).rev() {
        up[i] = up[i].min(up[i + 1] - gap(i + 1));
    }
    // Both keep the spacing; so does their mean.
    for i in 0..k {
        ys[layer[i]] = (down[i] + up[i]) / 2.0;
    }
}

/// Returns the edges with those that close a cycle turned around; loops are left out.
fn orient(n: usize, edges: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out_edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (i, &(u, v)) in edges.iter().enumerate() {
        if u != v {
            out_edges[u].push((v, i));
        }
    }
    // 0 = unseen, 1 = on the stack, 2 = done; iterative DFS in input order.
    let mut state = vec![0u8; n];
    let mut reversed = vec![false; edges.len()];
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        state[root] = 1;
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if let Some(&(w, i)) = out_edges[v].get(*next) {
                *next += 1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => reversed[i] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    edges
        .iter()
        .enumerate()
        .filter(|(_, (u, v))| u != v)
        .map(|(i, &(u, v))| if reversed[i] { (v, u) } else { (u, v) })
        .collect()
}

/// Longest-path ranks of an acyclic graph (Kahn's order), sources pulled towards their
/// successors.
fn ranks(n: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut indegree = vec![0usize; n];
    let mut source = vec![true; n];
    for &(_, v) in edges {
        source[v] = false;
    }
    let mut outs: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(u, v) in edges {
        indegree[v] += 1;
        outs[u].push(v);
    }
    let mut rank = vec![0usize; n];
    let mut ready: Vec<usize> = (0..n).filter(|&v| indegree[v] == 0).collect();
    while let Some(u) = ready.pop() {
        for &v in &outs[u] {
            rank[v] = rank[v].max(rank[u] + 1);
            indegree[v] -= 1;
            if indegree[v] == 0 {
                ready.push(v);
            }
        }
    }
    for u in 0..n {
        if source[u] {
            if let Some(nearest) = outs[u].iter().map(|&v| rank[v]).min() {
                rank[u] = nearest - 1;
            }
        }
    }
    rank
}

/// Counts edge crossings between adjacent ranks.
fn crossings(layers: &[Vec<usize>], down: &[Vec<usize>], pos: &[usize]) -> usize {
    let mut total = 0;
    for layer in layers {
        let mut segs: Vec<(usize, usize)> =
            layer.iter().flat_map(|&u| down[u].iter().map(move |&v| (pos[u], pos[v]))).collect();
        segs.sort_unstable();
        for i in 0..segs.len() {
            for j in i + 1..segs.len() {
                if segs[i].0 < segs[j].0 && segs[i].1 > segs[j].1 {
                    total += 1;
                }
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_goes_left_to_right_and_a_cycle_is_broken() {
        let sizes = [(10.0, 10.0); 3];
        let l = layout(&Input { sizes: &sizes, edges: &[(0, 1), (1, 2), (2, 0)] });
        let xs: Vec<f64> = l.centres.iter().map(|c| c.0).collect();
        assert_eq!(xs, vec![5.0, 95.0, 185.0]);
        // the edge that closes the cycle goes from the last column back to the first, through a dummy
        assert_eq!(l.routes[2].len(), 3);
        assert_eq!(l.routes[2][0], l.centres[2]);
        assert_eq!(l.routes[2][2], l.centres[0]);
    }

    #[test]
    fn barycentre_sweeps_remove_a_crossing() {
        // 0 → 3 and 1 → 2: in input order the two edges cross; after a sweep they do not.
        let sizes = [(10.0, 10.0); 4];
        let l = layout(&Input { sizes: &sizes, edges: &[(0, 3), (1, 2)] });
        assert!(l.centres[0].1 < l.centres[1].1);
        assert!(l.centres[3].1 < l.centres[2].1);
    }
}
