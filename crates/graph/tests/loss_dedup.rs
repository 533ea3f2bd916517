//! A serial gap detected again (the same input assembled again after a crash) is one loss.

use assemble::SerialGap;
use graph::{Builder, Config, HostId, Loss, LossKind, Seq};

#[test]
fn the_same_gap_twice_is_one_loss_and_another_host_or_range_is_not_the_same() {
    let mut b = Builder::new(Config::default());
    let gap = SerialGap { node: 1, first: 50, count: 9, noticed_ms: 1_000 };
    b.gap(Some(b"web-01"), &gap);
    // a later run numbers nodes afresh and notices the hole at another time: still the same gap
    b.gap(Some(b"web-01"), &SerialGap { node: 3, noticed_ms: 2_000, ..gap });
    b.gap(Some(b"db-02"), &gap);
    b.gap(Some(b"web-01"), &SerialGap { count: 8, ..gap });
    assert_eq!(
        b.graph().losses(),
        [
            Loss { host: HostId(0), at: Seq(0), ms: 1_000, kind: LossKind::SerialGap { first: 50, count: 9 } },
            Loss { host: HostId(1), at: Seq(0), ms: 1_000, kind: LossKind::SerialGap { first: 50, count: 9 } },
            Loss { host: HostId(0), at: Seq(0), ms: 1_000, kind: LossKind::SerialGap { first: 50, count: 8 } },
        ]
    );
    assert_eq!(b.counters().serial_gaps, 3);
}
