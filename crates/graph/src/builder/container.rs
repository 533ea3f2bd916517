//! Container membership: an event that carries a CONTAINER_ID record (`contid=`, the audit
//! container id the orchestrator gave the process) makes the process version a member of that
//! container: a `Container` entity per (host, contid) and one `Member` edge from it to each
//! process version seen in it.
//!
//! The containers are not part of the builder's saved state: a resumed builder finds them
//! again among the graph's entities.
//!
//! The record is found by its name, `CONTAINER_ID`, which the record-type table does not hold
//! yet (the audit container id never reached the mainline kernel, where 1336 is URINGOP): the
//! parser rejects such lines today, so this waits for the vocabulary to learn the record.

use std::sync::OnceLock;

use assemble::Event;
use parse::Fields;
use vocab::RecordType;

use super::{Builder, Call};
use crate::model::{Container, Detail, EntityId, Op};

/// The value of the first CONTAINER_ID record's `contid=` field.
fn contid(event: &Event) -> Option<&[u8]> {
    static CONTAINER_ID: OnceLock<Option<RecordType>> = OnceLock::new();
    let rt = (*CONTAINER_ID.get_or_init(|| RecordType::from_name(b"CONTAINER_ID")))?;
    let rec = event.records().find(|r| r.record_type == rt)?;
    let field = Fields::new(rec.body).find(|f| f.name == b"contid")?;
    Some(field.value.bytes())
}

impl Builder {
    /// Makes the process version `proc` a member of the container its event names, if any.
    pub(super) fn join_container(&mut self, c: &Call<'_>, proc: EntityId, event: &Event) {
        let Some(id) = contid(event) else { return };
        let contid = self.g.strings.intern(id);
        let container = match self.find_container(c, contid) {
            Some(found) => found,
            None => {
                let id = self.first_version(c, Detail::Container(Container { contid }));
                self.containers.get_or_insert_with(Default::default).insert((c.host, contid), id);
                id
            }
        };
        let member = self.g.in_edges(proc).iter().any(|&e| {
            let e = &self.g.edges[e.0 as usize];
            e.from == container && e.op == Op::Member
        });
        if !member {
            self.g.add_edge(container, proc, Op::Member, c.at, c.ev, 0);
        }
    }

    /// The container of this host with this id, by a look at the containers seen so far.
    fn find_container(&mut self, c: &Call<'_>, contid: crate::model::Sym) -> Option<EntityId> {
        if self.containers.is_none() {
            let mut found = Vec::new();
            for (id, e) in self.g.entities() {
                if let Detail::Container(k) = &e.detail {
                    found.push(((e.host, k.contid), id));
                }
            }
            self.containers = Some(found.into_iter().collect());
        }
        self.containers.as_ref().and_then(|known| known.get(&(c.host, contid)).copied())
    }
}
