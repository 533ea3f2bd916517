//! Reduction keeps every answer on the shared corpus's kernel captures: the backward and forward
//! trace of every entity reach the same entities with and without it, and the reduction factor
//! (edges kept / edges offered) is recorded.

use conformance::run_corpus;
use graph::trace::{trace, Direction, Limits};
use graph::{Builder, Config, EntityId, Graph};

fn build(relative: &str, reduce: bool) -> Graph {
    let run = run_corpus(relative);
    let mut b = Builder::new(Config { reduce, ..Config::default() });
    for e in &run.events {
        b.event(e);
    }
    b.finish()
}

fn reached(g: &Graph, id: EntityId, d: Direction) -> Vec<EntityId> {
    trace(g, id, None, d, &Limits::unbounded()).reached.iter().map(|r| r.entity).collect()
}

#[test]
fn reduction_changes_no_answer_on_the_kernel_corpus() {
    let mut factors = Vec::new();
    for log in ["kernel/benign-enriched/audit.log", "kernel/benign-raw/audit.log"] {
        let full = build(log, false);
        let reduced = build(log, true);
        assert_eq!(full.entity_count(), reduced.entity_count(), "{log}: reduction never changes entities");
        for (id, _) in full.entities() {
            for d in [Direction::Back, Direction::Forward] {
                assert_eq!(reached(&full, id, d), reached(&reduced, id, d), "{log}: {d:?} trace of {}", graph::describe::entity(&full, id));
            }
        }
        let s = reduced.stats();
        assert_eq!(s.edge_events, full.edge_count() as u64);
        factors.push(format!("{log}: {} entities, {} edges -> {} ({:.3})", full.entity_count(), s.edge_events, reduced.edge_count(), s.reduction_factor()));
    }
    insta::assert_debug_snapshot!("corpus_reduction_factors", factors);
}
