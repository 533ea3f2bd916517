//! Renders assembled audit events as JSON lines: the native form, which keeps auditd's own field
//! names and records, and an Elastic Common Schema (ECS) form.
//!
//! This crate owns those JSON shapes; the internal types (`assemble::Event`, `parse::Record`) do
//! not derive `Serialize`. It is pure: it writes into a `Vec<u8>` handed in and does no IO. The
//! JSON is written by hand (no value tree, no serde) because this is the hot path of
//! `auditmesh parse`.
//!
//! # The native form
//!
//! One object per event and line:
//!
//! ```text
//! {"node":"web-01","time":"2026-11-21T06:22:47.047Z","serial":46329,"completion":"proctitle",
//!  "partial":false,"records":[{"type":"SYSCALL","fields":{…},"enriched":{…}},…],"summary":{…}}
//! ```
//!
//! - `node` is omitted when the records named none; `time` is RFC 3339 in UTC with
//!   milliseconds; `incomplete` (why the event is `partial`) is omitted when empty, and so is
//!   `duplicate_records` when 0.
//! - Each record has its `type` (`SYSCALL`, or `UNKNOWN[n]` when the number has no name), its
//!   decoded `fields`, the ENRICHED suffix as `enriched` (all strings), `diagnostics` for values
//!   kept as written because they were damaged, and with [`Options::raw`] the line as `raw`.
//! - Field values: strings (quoted, or hex-decoded for the fields the kernel hex-encodes) are
//!   JSON strings; bare canonical decimal integers (optional `-`, no leading zero, fitting an
//!   `i64`) are JSON numbers, except in fields the kernel always prints in hex (`arch`, `per`,
//!   `a0`–`a3` of SYSCALL and SOCKETCALL, capability sets), which stay strings so that a field
//!   never changes type between events; other bare tokens are strings; `(null)` and `(none)`
//!   are `null`; a nested user-space message `msg='…'` is an object of its own fields; free text
//!   outside `key=value` pairs is joined with spaces under `text`. A repeated key in one object
//!   is written as `key_2`, `key_3`, ….
//! - All EXECVE records of an event become one entry: `{"type":"EXECVE","fields":{"argc":N},
//!   "argv":[…],"argv_problems":[…]}`, with `raw` an array of the lines.
//! - `summary` (syscall events only) interprets the event: arch and syscall names, outcome and
//!   errno name, ids with names, tty, comm, exe, rule keys, cwd, paths, socket address,
//!   proctitle and argv. Absent facts are omitted.
//!
//! # Strings from bytes
//!
//! The kernel hands out bytes, not UTF-8. Every string written from input bytes (values, keys,
//! node names, raw lines, paths, arguments) follows one reversible rule: valid UTF-8 passes
//! through, each byte that is not part of a valid UTF-8 sequence becomes `%XX` (upper-case hex),
//! and every literal `%` becomes `%25` (laurel's convention); then the usual JSON escapes apply
//! (`\"`, `\\`, `\n`, `\r`, `\t`, and `\u00xx` for other control bytes and DEL). To get the
//! bytes back, JSON-decode the string and replace each `%XX` by its byte.
//!
//! # The ECS form
//!
//! See [`Format::Ecs`] and the `ecs` module for the mapping.

mod ecs;
pub mod graph;
pub mod json;
mod native;
mod record;
mod summary;
pub mod time;

use std::borrow::Cow;

use assemble::Event;
use parse::DiagnosticKind;

/// The shape of the output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// auditd's own field names and records, decoded, plus an interpreted summary.
    #[default]
    Native,
    /// Elastic Common Schema 8.x, as Auditbeat's auditd module writes it, with the native
    /// records and summary under `auditd` so nothing is lost.
    Ecs,
}

/// What to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Also write each record's line as it was read.
    pub raw: bool,
    pub format: Format,
}

/// Resolves user and group ids to names (from the host's user database, say). Used only where
/// auditd's ENRICHED suffix gave no name.
pub trait IdNames {
    /// Returns the name of user `uid`, if known.
    fn user(&self, uid: u32) -> Option<Cow<'_, str>>;
    /// Returns the name of group `gid`, if known.
    fn group(&self, gid: u32) -> Option<Cow<'_, str>>;
}

/// Knows no names.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNames;

impl IdNames for NoNames {
    fn user(&self, _uid: u32) -> Option<Cow<'_, str>> {
        None
    }
    fn group(&self, _gid: u32) -> Option<Cow<'_, str>> {
        None
    }
}

/// Damaged field values met while rendering one event (they are written as they stood, and
/// listed in the record's `diagnostics`), counted by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldProblems {
    counts: Vec<(DiagnosticKind, u32)>,
}

impl FieldProblems {
    /// Returns true if no value was damaged.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Iterates over `(kind, count)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (DiagnosticKind, u32)> + '_ {
        self.counts.iter().copied()
    }

    pub(crate) fn add(&mut self, kind: DiagnosticKind) {
        match self.counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((kind, 1)),
        }
    }
}

/// Appends one event as a JSON object and a `\n` to `out`; returns the damaged values it met.
pub fn write_event(out: &mut Vec<u8>, event: &Event, opts: &Options, names: &dyn IdNames) -> FieldProblems {
    let mut problems = FieldProblems::default();
    match opts.format {
        Format::Native => native::write(out, event, opts, names, &mut problems),
        // ECS puts the interpreted fields first: summarize before writing.
        Format::Ecs => ecs::write(out, event, assemble::summary::summarize(event).as_ref(), opts, names, &mut problems),
    }
    out.push(b'\n');
    problems
}

/// Appends one event like [`write_event`], with `members` — JSON object members such as
/// `"enrichment":{…}`, without braces or a leading comma — added at the end of the top-level
/// object. An empty `members` writes exactly what [`write_event`] writes.
pub fn write_event_with(
    out: &mut Vec<u8>,
    event: &Event,
    opts: &Options,
    names: &dyn IdNames,
    members: &[u8],
) -> FieldProblems {
    let problems = write_event(out, event, opts, names);
    if !members.is_empty() {
        // write_event ends with `}\n`: reopen the object.
        out.truncate(out.len() - 2);
        out.push(b',');
        out.extend_from_slice(members);
        out.extend_from_slice(b"}\n");
    }
    problems
}

/// Appends a line that could not be framed as a record, as a JSON object and a `\n`:
/// `{"diagnostic":"no_record_type","source":"a.log","line":12,"raw":"…"}`.
pub fn write_diagnostic(out: &mut Vec<u8>, kind: DiagnosticKind, source: &str, line_number: u64, raw: &[u8]) {
    out.extend_from_slice(b"{\"diagnostic\":\"");
    out.extend_from_slice(kind.as_str().as_bytes());
    out.extend_from_slice(b"\",\"source\":");
    json::string(out, source.as_bytes());
    out.extend_from_slice(b",\"line\":");
    json::u64(out, line_number);
    out.extend_from_slice(b",\"raw\":");
    json::string(out, raw);
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests;
