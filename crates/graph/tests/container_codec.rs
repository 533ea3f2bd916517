//! A container entity and a `member` edge survive the codec as they are (the checkpoint's
//! entity and edge tables).

use graph::codec::{get_edge, get_entity, put_edge, put_entity, Delta, Reader};
use graph::{Container, Detail, Edge, Entity, EntityId, EventRef, HostId, Op, Seq, Sym};

#[test]
fn a_container_and_its_member_edge_decode_as_written() {
    let container = Entity {
        host: HostId(1),
        version: 0,
        prev: None,
        created: Seq(7),
        created_ms: 1_700_000_000_100,
        partial: true,
        detail: Detail::Container(Container { contid: Sym(42) }),
    };
    let ev = EventRef { host: HostId(1), ms: 1_700_000_000_100, serial: 500 };
    let member = Edge {
        from: EntityId(3),
        to: EntityId(4),
        op: Op::Member,
        first: Seq(7),
        last: Seq(7),
        first_ms: ev.ms,
        last_ms: ev.ms,
        count: 1,
        bytes: 0,
        first_event: ev,
        last_event: ev,
    };
    let mut out = Vec::new();
    put_entity(&mut out, &mut Delta::default(), EntityId(3), &container);
    put_edge(&mut out, &mut Delta::default(), &member);
    let mut r = Reader::new(&out);
    assert_eq!(get_entity(&mut r, &mut Delta::default(), EntityId(3)), Some(container));
    assert_eq!(get_edge(&mut r, &mut Delta::default()), Some(member));
    assert!(r.is_empty());
    assert_eq!((Op::Member.as_str(), graph::EntityKind::Container.as_str()), ("member", "container"));
}
