//! Reduction keeps every answer: on every kernel fixture, the backward and forward trace of every
//! entity reach the same entities with and without it. Also records the reduction factor.

mod support;

use graph::trace::{trace, Direction, Limits};
use graph::{Config, EntityId};

const LOGS: [(&str, &[u8]); 7] = [
    (
        "provenance-enriched",
        include_bytes!("../../../fixtures/kernel/provenance-enriched/audit.log"),
    ),
    (
        "pidreuse-raw",
        include_bytes!("../../../fixtures/kernel/pidreuse-raw/audit.log"),
    ),
    (
        "exec-basic-enriched",
        include_bytes!("../../../fixtures/kernel/exec-basic-enriched/audit.log"),
    ),
    (
        "exec-basic-raw",
        include_bytes!("../../../fixtures/kernel/exec-basic-raw/audit.log"),
    ),
    (
        "net-enriched",
        include_bytes!("../../../fixtures/kernel/net-enriched/audit.log"),
    ),
    (
        "longargs-enriched",
        include_bytes!("../../../fixtures/kernel/longargs-enriched/audit.log"),
    ),
    (
        "ia32-enriched",
        include_bytes!("../../../fixtures/kernel/ia32-enriched/audit.log"),
    ),
];

fn reached(g: &graph::Graph, id: EntityId, d: Direction) -> Vec<EntityId> {
    trace(g, id, None, d, &Limits::unbounded())
        .reached
        .iter()
        .map(|r| r.entity)
        .collect()
}

#[test]
fn reduction_changes_no_backward_or_forward_answer() {
    let mut factors = Vec::new();
    for (name, log) in LOGS {
        let (full, _) = support::build(
            log,
            Config {
                reduce: false,
                ..Config::default()
            },
        );
        let (reduced, _) = support::build(log, Config::default());
        assert_eq!(
            full.entity_count(),
            reduced.entity_count(),
            "{name}: reduction never changes entities"
        );
        for (id, _) in full.entities() {
            for d in [Direction::Back, Direction::Forward] {
                assert_eq!(
                    reached(&full, id, d),
                    reached(&reduced, id, d),
                    "{name}: {d:?} trace of {}",
                    graph::describe::entity(&full, id)
                );
            }
        }
        let s = reduced.stats();
        assert_eq!(s.edge_events, full.edge_count() as u64);
        factors.push(format!(
            "{name}: {} edges -> {} ({:.3})",
            s.edge_events,
            reduced.edge_count(),
            s.reduction_factor()
        ));
    }
    insta::assert_debug_snapshot!("reduction_factors", factors);
}
