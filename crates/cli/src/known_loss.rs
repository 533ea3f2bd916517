//! Serial gaps on their way from the assembler to the provenance graph, kept in stream order
//! with the events: each gap remembers how many events of its batch came before it, so the
//! graph records it between the same two events (the `Seq` a trace compares losses by) even
//! after the store dropped the duplicates of a batch.
//!
//! Gaps are not stored with the events: after a crash, the graph's replay from the store has
//! none of the gaps detected after the last checkpoint; ingesting the same input again
//! detects them again (the graph records a gap once per host, first serial and count).

use assemble::SerialGap;
use graph::Builder;

/// A gap with its node's name, placed after `before` events of its batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacedGap {
    pub before: usize,
    pub node: Option<Box<[u8]>>,
    pub gap: SerialGap,
}

/// Moves the gaps' places from the input batch to the accepted events: `accepted` lists the
/// input indices kept, ascending.
pub fn keep_places(gaps: &mut [PlacedGap], accepted: &[u32]) {
    for g in gaps {
        g.before = accepted.partition_point(|&i| (i as usize) < g.before);
    }
}

/// Adds a batch's events and gaps to the graph, each gap after the events that came before it.
pub fn add<'a>(b: &mut Builder, events: impl IntoIterator<Item = &'a assemble::Event>, gaps: &[PlacedGap]) {
    let mut gaps = gaps.iter().peekable();
    for (i, e) in events.into_iter().enumerate() {
        while let Some(g) = gaps.next_if(|g| g.before <= i) {
            b.gap(g.node.as_deref(), &g.gap);
        }
        b.event(e);
    }
    for g in gaps {
        b.gap(g.node.as_deref(), &g.gap);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(before: usize, first: u32) -> PlacedGap {
        PlacedGap { before, node: Some(b"web-01"[..].into()), gap: SerialGap { node: 1, first, count: 1, noticed_ms: 0 } }
    }

    #[test]
    fn places_follow_the_events_the_store_kept() {
        // input events 0..6, the store kept 1, 3 and 4: a gap after input event 2 comes after
        // the one kept event before it; a gap at the start or end stays there
        let mut gaps = vec![placed(0, 10), placed(2, 20), placed(4, 30), placed(6, 40)];
        keep_places(&mut gaps, &[1, 3, 4]);
        assert_eq!(gaps.iter().map(|g| g.before).collect::<Vec<_>>(), [0, 1, 2, 3]);
        // nothing kept (a batch of duplicates): every gap comes at the end of what the graph has
        let mut gaps = vec![placed(3, 10)];
        keep_places(&mut gaps, &[]);
        assert_eq!(gaps[0].before, 0);
    }
}
