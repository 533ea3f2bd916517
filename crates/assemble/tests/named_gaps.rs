//! Serial gaps name their node: a sink that outlives the assembler's node numbering (the
//! provenance graph, a later run) gets the `node=` name with each gap.

use assemble::{Assembler, Config, Event, SerialGap, Sink};

#[derive(Default)]
struct Gaps {
    named: Vec<(SerialGap, Option<Vec<u8>>)>,
}

impl Sink for Gaps {
    fn event(&mut self, _event: Event) {}
    fn named_gap(&mut self, gap: SerialGap, node: Option<&[u8]>) {
        self.named.push((gap, node.map(<[u8]>::to_vec)));
    }
}

fn record(node: Option<&str>, serial: u32) -> String {
    let prefix = node.map(|n| format!("node={n} ")).unwrap_or_default();
    format!("{prefix}type=USER_LOGIN msg=audit(1700000000.000:{serial}): pid=1 uid=0 res=success")
}

#[test]
fn gaps_name_their_node_and_none_without_node() {
    let mut asm = Assembler::new(Config::default());
    let mut sink = Gaps::default();
    // web-01 misses 3..=4, db-02 misses 12, records without node= miss 21..=23
    for (node, serial) in
        [(Some("web-01"), 1), (Some("db-02"), 10), (Some("web-01"), 2), (None, 20), (Some("db-02"), 11), (Some("web-01"), 5), (Some("db-02"), 13), (None, 24)]
    {
        let line = record(node, serial);
        let rec = parse::parse_line(line.as_bytes()).expect("a record");
        asm.push(&rec, &mut sink);
    }
    asm.finish_all(&mut sink);
    sink.named.sort_by_key(|(g, _)| g.first);
    assert_eq!(
        sink.named,
        [
            (SerialGap { node: 1, first: 3, count: 2, noticed_ms: 1_700_000_000_000 }, Some(b"web-01".to_vec())),
            (SerialGap { node: 2, first: 12, count: 1, noticed_ms: 1_700_000_000_000 }, Some(b"db-02".to_vec())),
            (SerialGap { node: 0, first: 21, count: 3, noticed_ms: 1_700_000_000_000 }, None),
        ]
    );
    assert_eq!((asm.node_name(0), asm.node_name(1), asm.node_name(2), asm.node_name(3)), (None, Some(&b"web-01"[..]), Some(&b"db-02"[..]), None));
}
