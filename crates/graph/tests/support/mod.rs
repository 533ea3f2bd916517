//! Shared by the graph's tests: a real log through the parser, the assembler and the builder.

use assemble::{Assembler, Config as AsmConfig, Event, SerialGap, Sink};
use graph::{Builder, Config, Counters, Graph};

#[derive(Default)]
struct Collect {
    events: Vec<Event>,
    gaps: Vec<SerialGap>,
}

impl Sink for Collect {
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
    fn gap(&mut self, gap: SerialGap) {
        self.gaps.push(gap);
    }
}

/// Assembles a log into events (and the serial gaps the assembler found).
pub fn events(log: &[u8]) -> (Vec<Event>, Vec<SerialGap>) {
    let mut asm = Assembler::new(AsmConfig::default());
    let mut sink = Collect::default();
    for line in log.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let record = parse::parse_line(line).expect("fixture lines frame");
        asm.push(&record, &mut sink);
    }
    asm.finish_all(&mut sink);
    (sink.events, sink.gaps)
}

/// Builds the graph of a log.
pub fn build(log: &[u8], config: Config) -> (Graph, Counters) {
    let (events, gaps) = events(log);
    let node = events.iter().find_map(|e| e.node().map(<[u8]>::to_vec));
    let mut b = Builder::new(config);
    for e in &events {
        b.event(e);
    }
    for g in &gaps {
        b.gap(node.as_deref(), g);
    }
    let counters = b.counters();
    (b.finish(), counters)
}
