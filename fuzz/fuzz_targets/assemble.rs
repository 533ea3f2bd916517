//! Arbitrary bytes as a log: split into lines, framed, pushed into an assembler with small limits
//! (so eviction and timeouts happen), finished, then every record, field, argument and summary of
//! every event read back. Checks the assembler's accounting promise: every record pushed is in
//! exactly one emitted event or counted there as a byte-identical duplicate.

#![no_main]

use assemble::summary::summarize;
use assemble::{Assembler, Config, EoeMode, Event, Sink};
use libfuzzer_sys::fuzz_target;
use parse::{decode, parse_line, Fields, Value};

#[derive(Default)]
struct Collect {
    events: Vec<Event>,
    gaps: u64,
}

impl Sink for Collect {
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
    fn gap(&mut self, _gap: assemble::SerialGap) {
        self.gaps += 1;
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the EOE mode, so all three are explored.
    let (mode, log) = match data.split_first() {
        Some((m, rest)) => (*m, rest),
        None => (0, data),
    };
    let eoe = match mode % 3 {
        0 => EoeMode::Auto,
        1 => EoeMode::Always,
        _ => EoeMode::Never,
    };
    let config = Config {
        event_timeout_ms: 2_000,
        wall_timeout_ms: 2_000,
        max_pending_events: 8,
        max_pending_bytes: 4_096,
        eoe,
    };
    let mut asm = Assembler::new(config);
    let mut sink = Collect::default();
    let mut pushed = 0u64;
    for (i, line) in log.split(|&b| b == b'\n').enumerate() {
        if let Ok(r) = parse_line(line) {
            asm.push(&r, &mut sink);
            pushed += 1;
        }
        if mode & 0x80 != 0 && i % 4 == 3 {
            asm.tick(i as u64 * 1_000, &mut sink);
        }
    }
    asm.finish_all(&mut sink);
    assert_eq!(asm.pending(), 0, "events left pending after finish_all");

    let mut accounted = 0u64;
    for event in &sink.events {
        accounted += event.len() as u64 + u64::from(event.duplicate_records);
        std::hint::black_box(event.node());
        for r in event.records() {
            for f in Fields::new(r.body) {
                let (v, _) = decode(r.record_type, f.name, f.value);
                if let Value::Nested(msg) = v {
                    for nf in Fields::nested(msg) {
                        std::hint::black_box(decode(r.record_type, nf.name, nf.value));
                    }
                }
            }
            if let Some(e) = r.enriched {
                std::hint::black_box(Fields::new(e).count());
            }
        }
        if let Some(argv) = &event.argv {
            for arg in argv.iter() {
                std::hint::black_box(arg);
            }
            std::hint::black_box((argv.len(), &argv.problems));
        }
        if let Some(s) = summarize(event) {
            std::hint::black_box((s.arch_name(), s.syscall_name(), s.errno()));
        }
    }
    let stats = asm.stats();
    assert_eq!(stats.records, pushed);
    assert_eq!(stats.events, sink.events.len() as u64);
    assert_eq!(accounted, pushed, "records lost or invented: {stats:?}");
});
