//! Groups records into events by `(node, timestamp, serial)` and decides when an event is whole.
//!
//! An event completes on its EOE record; on a record type that always stands alone; on PROCTITLE,
//! which the kernel writes last, when the source carries no EOE (log files); or when no record
//! arrived for it within the timeout, measured in event time (the newest timestamp seen) and, for
//! live sources, in wall time passed in by the caller. Memory is bounded: past the limits the
//! oldest pending event is emitted flagged `evicted`, and counted. Nothing is ever dropped except
//! byte-identical duplicate records, which are counted on their event.
//!
//! Pure: the caller supplies wall time; no clock, no IO.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::BuildHasherDefault;
use std::sync::LazyLock;

use memchr::memmem;

use parse::Record;
use vocab::{EventId, RecordType, Serial};

use crate::event::{Completion, Event, Incomplete};
use crate::execve;
use crate::fxhash::FxHasher;
use crate::serial::{SerialGap, SerialTracker};

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
type FxSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

/// When EOE records decide completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EoeMode {
    /// From the first EOE seen on (netlink and dispatcher sources send EOE; log files do not).
    Auto,
    /// Always wait for EOE (or the timeout).
    Always,
    /// Never expect EOE; complete syscall events on PROCTITLE.
    Never,
}

/// Limits and timeouts of an [`Assembler`].
#[derive(Clone, Debug)]
pub struct Config {
    /// An event with no new record for this long, in event time, is complete.
    pub event_timeout_ms: u64,
    /// Live sources: an event pending for this long in wall time is complete.
    pub wall_timeout_ms: u64,
    /// At most this many events pending at once.
    pub max_pending_events: usize,
    /// At most this many bytes of pending records at once.
    pub max_pending_bytes: usize,
    pub eoe: EoeMode,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            event_timeout_ms: 2_000,
            wall_timeout_ms: 2_000,
            max_pending_events: 16_384,
            max_pending_bytes: 256 << 20,
            eoe: EoeMode::Auto,
        }
    }
}

/// Where completed events and detected serial gaps go.
pub trait Sink {
    fn event(&mut self, event: Event);
    /// Serials that never arrived: possible loss. Ignored by default.
    fn gap(&mut self, _gap: SerialGap) {}
    /// The same gap with its node's name (`None`: records without `node=`), for sinks that
    /// outlive the assembler's node numbering. Passes the gap to [`Sink::gap`] by default.
    fn named_gap(&mut self, gap: SerialGap, _node: Option<&[u8]>) {
        self.gap(gap);
    }
}

impl Sink for Vec<Event> {
    fn event(&mut self, event: Event) {
        self.push(event);
    }
}

/// What the assembler has seen; every record is in exactly one emitted event or counted in
/// `duplicate_records`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub records: u64,
    pub events: u64,
    pub partial_events: u64,
    pub by_completion: [u64; 6],
    pub duplicate_records: u64,
    /// Records for an event that had already been emitted; they form a new, partial event.
    pub late_records: u64,
    pub evicted_events: u64,
    /// Serials never seen, summed over all confirmed gaps.
    pub missing_serials: u64,
    pub serial_gaps: u64,
    /// Jumps too large to be loss (reboot, another boot's log, a rule change).
    pub serial_resets: u64,
}

impl Stats {
    /// Returns the count of events completed one way.
    pub fn completed(&self, how: Completion) -> u64 {
        self.by_completion[how as usize]
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct Key {
    node: u32,
    id: EventId,
}

struct Pending {
    event: Event,
    generation: u64,
    /// Wall time of the last record added.
    wall_ms: u64,
    /// The event-time watermark when the last record was added: an event that arrives late
    /// still gets the whole timeout.
    watermark_ms: u64,
}

/// Records in, events out. See the module documentation.
pub struct Assembler {
    config: Config,
    nodes: FxMap<Box<[u8]>, u32>,
    /// Node names by id - 1.
    node_names: Vec<Box<[u8]>>,
    last_node: Option<(Box<[u8]>, u32)>,
    pending: FxMap<Key, Pending>,
    /// Pending keys in arrival order, with the generation that was current when queued; stale
    /// entries are skipped when they reach the front.
    order: VecDeque<(Key, u64)>,
    pending_bytes: usize,
    generation: u64,
    recent: FxSet<Key>,
    recent_order: VecDeque<Key>,
    eoe_seen: bool,
    /// An event that looks complete — its PROCTITLE arrived, or it is a user-space message — held
    /// until the next record shows whether more of it follows: the EOE of a stream that carries
    /// EOE, or the SYSCALL the kernel adds to a message sent from an audited syscall.
    held: Option<(Key, Event, Completion)>,
    watermark_ms: u64,
    wall_ms: u64,
    /// Indexed by node id.
    serials: Vec<SerialTracker>,
    /// The watermark at the last check for confirmed serial gaps.
    gaps_checked_ms: u64,
    stats: Stats,
}

const RECENT_KEYS: usize = 4096;

impl Assembler {
    pub fn new(config: Config) -> Assembler {
        Assembler {
            config,
            nodes: FxMap::default(),
            node_names: Vec::new(),
            last_node: None,
            pending: FxMap::default(),
            order: VecDeque::new(),
            pending_bytes: 0,
            generation: 0,
            recent: FxSet::default(),
            recent_order: VecDeque::new(),
            eoe_seen: false,
            held: None,
            watermark_ms: 0,
            wall_ms: 0,
            serials: Vec::new(),
            gaps_checked_ms: 0,
            stats: Stats::default(),
        }
    }

    /// Returns the name of the node a [`SerialGap`] counts (`None` for 0: no `node=`).
    pub fn node_name(&self, node: u32) -> Option<&[u8]> {
        node_name(&self.node_names, node)
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Returns the number of events waiting for more records.
    pub fn pending(&self) -> usize {
        self.pending.len() + usize::from(self.held.is_some())
    }

    fn eoe_mode(&self) -> bool {
        match self.config.eoe {
            EoeMode::Auto => self.eoe_seen,
            EoeMode::Always => true,
            EoeMode::Never => false,
        }
    }

    fn node_id(&mut self, node: Option<&[u8]>) -> u32 {
        let Some(node) = node else { return 0 };
        if let Some((name, id)) = &self.last_node {
            if **name == *node {
                return *id;
            }
        }
        let next = self.nodes.len() as u32 + 1;
        let id = *self.nodes.entry(node.into()).or_insert(next);
        if id == next {
            self.node_names.push(node.into());
        }
        self.last_node = Some((node.into(), id));
        id
    }

    /// Adds one record; completed events go to `sink`.
    pub fn push(&mut self, record: &Record<'_>, sink: &mut impl Sink) {
        self.stats.records += 1;
        let key = Key { node: self.node_id(record.node), id: record.id };
        self.watermark_ms = self.watermark_ms.max(record.id.time.millis);
        let rt = record.record_type;
        if let Some((held_key, mut event, how)) = self.held.take() {
            if held_key == key {
                if how == Completion::Standalone && !rt.is_standalone() && !rt.is_eoe() {
                    // A user-space message sent from an audited syscall: the kernel adds its
                    // SYSCALL (and more) under the same serial. Assemble on.
                    self.resume(key, event);
                } else {
                    if !event.push(record) {
                        self.stats.duplicate_records += 1;
                    }
                    if rt.is_eoe() {
                        self.eoe_seen = true;
                        self.finish(key, event, Completion::Eoe, sink);
                    } else {
                        self.held = Some((held_key, event, how));
                    }
                    self.expire(sink);
                    return;
                }
            } else {
                self.finish(held_key, event, how, sink);
            }
        }
        if rt.is_standalone() && !self.pending.contains_key(&key) {
            observe_serial(&mut self.serials, &mut self.stats, key.node, record.id.serial, rt, self.watermark_ms);
            let mut event = Event::new(record.id);
            event.push(record);
            // Held back for one record: the kernel may add records of the sending syscall.
            self.held = Some((key, event, Completion::Standalone));
        } else if rt.is_eoe() {
            self.eoe_seen = true;
            match self.pending.remove(&key) {
                Some(mut p) => {
                    self.pending_bytes -= p.event.byte_len();
                    p.event.push(record);
                    self.finish(key, p.event, Completion::Eoe, sink);
                }
                None => {
                    self.note_new(key, rt);
                    let mut event = Event::new(record.id);
                    event.push(record);
                    self.finish(key, event, Completion::Eoe, sink);
                }
            }
        } else {
            let eoe_mode = self.eoe_mode();
            let p = match self.pending.entry(key) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    self.generation += 1;
                    let generation = self.generation;
                    self.order.push_back((key, generation));
                    if self.recent.contains(&key) {
                        self.stats.late_records += 1;
                    }
                    let (wall_ms, watermark_ms) = (self.wall_ms, self.watermark_ms);
                    let p = v.insert(Pending { event: Event::new(record.id), generation, wall_ms, watermark_ms });
                    observe_serial(&mut self.serials, &mut self.stats, key.node, record.id.serial, rt, self.watermark_ms);
                    p
                }
            };
            p.wall_ms = self.wall_ms;
            p.watermark_ms = self.watermark_ms;
            let before = p.event.byte_len();
            if !p.event.push(record) {
                self.stats.duplicate_records += 1;
            }
            self.pending_bytes += p.event.byte_len() - before;
            if rt == RecordType::PROCTITLE && !eoe_mode {
                if let Some(p) = self.pending.remove(&key) {
                    self.pending_bytes -= p.event.byte_len();
                    // Held back for one record: if the stream does carry EOE, it comes next.
                    self.held = Some((key, p.event, Completion::Proctitle));
                }
            }
        }
        self.expire(sink);
    }

    /// Tells the assembler the wall time (milliseconds, any epoch) for live sources, and completes
    /// events pending longer than the wall timeout.
    pub fn tick(&mut self, wall_ms: u64, sink: &mut impl Sink) {
        self.wall_ms = wall_ms;
        self.release_held(sink);
        self.expire(sink);
    }

    /// Completes every pending event (the input ended) and confirms open serial gaps.
    pub fn finish_all(&mut self, sink: &mut impl Sink) {
        self.release_held(sink);
        while let Some((key, generation)) = self.order.pop_front() {
            self.complete_if_current(key, generation, Completion::EndOfInput, sink);
        }
        for (node, tracker) in self.serials.iter_mut().enumerate() {
            for gap in tracker.confirm_all(node as u32) {
                self.stats.serial_gaps += 1;
                self.stats.missing_serials += u64::from(gap.count);
                sink.named_gap(gap, node_name(&self.node_names, gap.node));
            }
        }
    }

    /// Registers the first record of a new event: late-record check and serial tracking.
    fn note_new(&mut self, key: Key, rt: RecordType) {
        if self.recent.contains(&key) {
            self.stats.late_records += 1;
        }
        observe_serial(&mut self.serials, &mut self.stats, key.node, key.id.serial, rt, self.watermark_ms);
    }

    fn expire(&mut self, sink: &mut impl Sink) {
        if self.held.is_some() && self.pending.len() + 1 > self.config.max_pending_events {
            self.release_held(sink);
        }
        while let Some(&(key, generation)) = self.order.front() {
            let Some(p) = self.pending.get(&key) else {
                self.order.pop_front();
                continue;
            };
            if p.generation != generation {
                self.order.pop_front();
                continue;
            }
            let over_limit =
                self.pending.len() > self.config.max_pending_events || self.pending_bytes > self.config.max_pending_bytes;
            let event_age = self.watermark_ms.saturating_sub(p.watermark_ms);
            let wall_age = self.wall_ms.saturating_sub(p.wall_ms);
            let how = if over_limit {
                Completion::Evicted
            } else if event_age > self.config.event_timeout_ms || wall_age > self.config.wall_timeout_ms {
                Completion::Timeout
            } else {
                break;
            };
            self.order.pop_front();
            self.complete_if_current(key, generation, how, sink);
        }
        if self.watermark_ms == self.gaps_checked_ms {
            return;
        }
        self.gaps_checked_ms = self.watermark_ms;
        let cutoff = self.watermark_ms.saturating_sub(self.config.event_timeout_ms);
        for (node, tracker) in self.serials.iter_mut().enumerate() {
            for gap in tracker.confirm_older_than(node as u32, cutoff) {
                self.stats.serial_gaps += 1;
                self.stats.missing_serials += u64::from(gap.count);
                sink.named_gap(gap, node_name(&self.node_names, gap.node));
            }
        }
    }

    fn complete_if_current(&mut self, key: Key, generation: u64, how: Completion, sink: &mut impl Sink) {
        if self.pending.get(&key).is_some_and(|p| p.generation == generation) {
            let p = self.pending.remove(&key).expect("checked above");
            self.pending_bytes -= p.event.byte_len();
            self.finish(key, p.event, how, sink);
        }
    }

    /// Puts a held event back among the pending ones (more of it arrived), merging it into a
    /// pending event of the same key if there is one.
    fn resume(&mut self, key: Key, event: Event) {
        if let Some(p) = self.pending.get_mut(&key) {
            let before = p.event.byte_len();
            for record in event.records() {
                if !p.event.push(&record) {
                    self.stats.duplicate_records += 1;
                }
            }
            self.pending_bytes += p.event.byte_len() - before;
            return;
        }
        self.generation += 1;
        self.order.push_back((key, self.generation));
        self.pending_bytes += event.byte_len();
        let pending = Pending { event, generation: self.generation, wall_ms: self.wall_ms, watermark_ms: self.watermark_ms };
        self.pending.insert(key, pending);
    }

    /// Emits the held event.
    fn release_held(&mut self, sink: &mut impl Sink) {
        if let Some((key, event, how)) = self.held.take() {
            self.finish(key, event, how, sink);
        }
    }

    fn remember(&mut self, key: Key) {
        if self.recent.insert(key) {
            self.recent_order.push_back(key);
            if self.recent_order.len() > RECENT_KEYS {
                if let Some(old) = self.recent_order.pop_front() {
                    self.recent.remove(&old);
                }
            }
        }
    }

    fn finish(&mut self, key: Key, mut event: Event, how: Completion, sink: &mut impl Sink) {
        self.remember(key);
        event.completion = how;
        if event.slots.iter().any(|s| s.record_type == RecordType::EXECVE) {
            event.argv = Some(execve::merge(event.all(RecordType::EXECVE).map(|r| r.body)));
        }
        event.incomplete = check_whole(&event, self.eoe_mode());
        if how == Completion::Evicted {
            event.incomplete.push(Incomplete::Evicted);
            self.stats.evicted_events += 1;
        }
        self.stats.events += 1;
        self.stats.by_completion[how as usize] += 1;
        if event.is_partial() {
            self.stats.partial_events += 1;
        }
        sink.event(event);
    }
}

/// The name of node `id` (ids count from 1; 0 is no name).
fn node_name(names: &[Box<[u8]>], id: u32) -> Option<&[u8]> {
    names.get((id as usize).checked_sub(1)?).map(|n| &**n)
}

/// Feeds a new event's serial to its node's tracker.
fn observe_serial(serials: &mut Vec<SerialTracker>, stats: &mut Stats, node: u32, serial: Serial, rt: RecordType, now_ms: u64) {
    // auditd numbers its own DAEMON_* records from a separate counter.
    if (1200..=1299).contains(&rt.0) {
        return;
    }
    let Ok(serial) = u32::try_from(serial.0) else { return };
    let node = node as usize;
    if serials.len() <= node {
        serials.resize_with(node + 1, SerialTracker::default);
    }
    if serials[node].observe(serial, now_ms) {
        stats.serial_resets += 1;
    }
}

/// Record types that only ever come with a SYSCALL record.
fn needs_syscall(rt: RecordType) -> bool {
    matches!(rt.0, 1302..=1304 | 1306 | 1307 | 1309 | 1311..=1318 | 1321..=1323 | 1327)
}

fn check_whole(event: &Event, eoe_mode: bool) -> Vec<Incomplete> {
    let mut problems = Vec::new();
    let syscall = event.first(RecordType::SYSCALL);
    match &syscall {
        None if event.slots.iter().any(|s| needs_syscall(s.record_type)) => problems.push(Incomplete::NoSyscallRecord),
        Some(r) => {
            static ITEMS: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b" items="));
            let items = ITEMS.find(r.body).and_then(|at| {
                let digits = &r.body[at + 7..];
                let end = digits.iter().position(|b| !b.is_ascii_digit()).unwrap_or(digits.len());
                vocab::parse_u32(&digits[..end])
            });
            let paths = event.slots.iter().filter(|s| s.record_type == RecordType::PATH).count();
            if items.is_some_and(|n| (paths as u32) < n) {
                problems.push(Incomplete::MissingPaths);
            }
            if eoe_mode && !matches!(event.completion, Completion::Eoe) {
                problems.push(Incomplete::NoEoe);
            }
        }
        None => {}
    }
    if event.argv.as_ref().is_some_and(|a| a.problems.iter().any(|p| matches!(p, execve::ArgvProblem::Missing { .. }))) {
        problems.push(Incomplete::MissingArguments);
    }
    problems
}
