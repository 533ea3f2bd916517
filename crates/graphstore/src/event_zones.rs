//! The `eventzones` table: for each block of the `edges` table and each host, the smallest and
//! largest serial of the events its edges name (their first and last event). Finding the edges
//! an event made (`NODE:SERIAL`) reads this one small block and then only the edge blocks
//! whose range holds the serial, not every edge.
//!
//! Edges are numbered in the order they were made, and a host's serials grow in that order, so
//! the ranges of a host barely overlap: a lookup decodes one or two edge blocks. (A reduced
//! edge names its first and last event only: an event merged into the middle of a repeated
//! edge is not found, as before.) Serials that start again after a reboot make ranges overlap,
//! which costs blocks read, never answers. About 10 bytes per 1,024 edges and host.

use std::path::Path;

use graph::codec::{put_varint, Reader};
use graph::{EdgeId, Graph};

use crate::blockfile::{BlockReader, BlockWriter};
use crate::error::GraphStoreError;
use crate::BLOCK_ITEMS;

/// Per edge block: `(host, smallest serial, largest serial)`, by host.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct EventZones {
    blocks: Vec<Vec<(u32, u64, u64)>>,
}

impl EventZones {
    /// Computes the zones of a graph's edges.
    pub(crate) fn of(g: &Graph) -> EventZones {
        let n = g.edge_count();
        let mut blocks = Vec::with_capacity(n.div_ceil(BLOCK_ITEMS as usize));
        for start in (0..n).step_by(BLOCK_ITEMS as usize) {
            let mut zone: Vec<(u32, u64, u64)> = Vec::new();
            for i in start..n.min(start + BLOCK_ITEMS as usize) {
                let e = g.edge(EdgeId(i as u32));
                for ev in [e.first_event, e.last_event] {
                    match zone.iter_mut().find(|z| z.0 == ev.host.0) {
                        Some(z) => {
                            z.1 = z.1.min(ev.serial);
                            z.2 = z.2.max(ev.serial);
                        }
                        None => zone.push((ev.host.0, ev.serial, ev.serial)),
                    }
                }
            }
            zone.sort_unstable();
            blocks.push(zone);
        }
        EventZones { blocks }
    }

    /// Writes the zones as one block.
    pub(crate) fn write(&self, path: &Path, level: i32) -> Result<u64, GraphStoreError> {
        let mut raw = Vec::new();
        put_varint(&mut raw, self.blocks.len() as u64);
        for zone in &self.blocks {
            put_varint(&mut raw, zone.len() as u64);
            for &(host, min, max) in zone {
                put_varint(&mut raw, u64::from(host));
                put_varint(&mut raw, min);
                put_varint(&mut raw, max - min);
            }
        }
        let mut w = BlockWriter::create(path, level)?;
        w.block(&raw, b"")?;
        w.finish()
    }

    /// Reads the zones [`EventZones::write`] wrote.
    pub(crate) fn read(file: &BlockReader) -> Result<EventZones, GraphStoreError> {
        let bad = || GraphStoreError::corrupt(file.path(), "the event zones do not decode");
        if file.block_count() != 1 {
            return Err(bad());
        }
        let raw = file.read(0)?;
        let r = &mut Reader::new(&raw);
        let n = r.varint().ok_or_else(bad)?;
        let mut blocks = Vec::new();
        for _ in 0..n {
            let m = r.varint().ok_or_else(bad)?;
            let mut zone = Vec::new();
            for _ in 0..m {
                let host = u32::try_from(r.varint().ok_or_else(bad)?).map_err(|_| bad())?;
                let min = r.varint().ok_or_else(bad)?;
                let max = min.checked_add(r.varint().ok_or_else(bad)?).ok_or_else(bad)?;
                zone.push((host, min, max));
            }
            blocks.push(zone);
        }
        if !r.is_empty() {
            return Err(bad());
        }
        Ok(EventZones { blocks })
    }

    /// The edge blocks that may hold an edge naming `serial` on `host`, newest first.
    pub(crate) fn blocks_with(&self, host: u32, serial: u64) -> impl Iterator<Item = usize> + '_ {
        (0..self.blocks.len()).rev().filter(move |&b| self.blocks[b].iter().any(|&(h, min, max)| h == host && (min..=max).contains(&serial)))
    }

    pub(crate) fn block_count(&self) -> usize {
        self.blocks.len()
    }
}
