//! The native form: auditd's records, decoded, with the event's identity and an interpreted
//! summary. The crate documentation describes the shape.

use assemble::summary::SummaryBuilder;
use assemble::Event;

use crate::record::write_records;
use crate::summary::write_summary;
use crate::{json, time, FieldProblems, IdNames, Options};

/// Writes the native form. The summary comes last, so it is built while the records are
/// written, in the same pass over their fields.
pub(crate) fn write(out: &mut Vec<u8>, event: &Event, opts: &Options, names: &dyn IdNames, problems: &mut FieldProblems) {
    out.push(b'{');
    write_identity(out, event);
    json::key(out, "records");
    let mut builder = SummaryBuilder::default();
    write_records(out, event, opts, problems, Some(&mut builder));
    if let Some(s) = builder.finish().as_ref() {
        json::key(out, "summary");
        write_summary(out, s, event.argv.as_ref(), names);
    }
    out.push(b'}');
}

/// `"node"`, `"time"`, `"serial"`, `"completion"`, `"partial"`, `"incomplete"`,
/// `"duplicate_records"`, as they apply.
pub(crate) fn write_identity(out: &mut Vec<u8>, event: &Event) {
    if let Some(node) = event.node() {
        json::key(out, "node");
        json::string(out, node);
    }
    json::key(out, "time");
    time::rfc3339_millis(out, event.id.time.millis);
    json::key(out, "serial");
    json::u64(out, event.id.serial.0);
    write_completion(out, event);
}

/// `"completion"`, `"partial"`, `"incomplete"`, `"duplicate_records"`.
pub(crate) fn write_completion(out: &mut Vec<u8>, event: &Event) {
    json::key(out, "completion");
    json::string(out, event.completion.as_str().as_bytes());
    json::key(out, "partial");
    json::bool(out, event.is_partial());
    if !event.incomplete.is_empty() {
        json::key(out, "incomplete");
        out.push(b'[');
        for why in &event.incomplete {
            json::sep(out);
            json::string(out, why.as_str().as_bytes());
        }
        out.push(b']');
    }
    if event.duplicate_records > 0 {
        json::key(out, "duplicate_records");
        json::u64(out, u64::from(event.duplicate_records));
    }
}
