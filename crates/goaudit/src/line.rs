//! One go-audit JSON line to one [`GoAuditEvent`]: record lines in auditd's log form plus go-audit's
//! `uid_map` and `container_id`.
//!
//! The format, from go-audit's `parser.go` and `writer.go` (and go-audit-container's `parser.go`):
//! a Go `json.Encoder` writes one `AuditMessageGroup` per line — `sequence` (the header's serial,
//! a number), `timestamp` (the header's `SEC.MSEC`, a string, copied verbatim from the kernel's
//! `audit(SEC.MSEC:SERIAL)`), `messages` (each `{"type": nlmsg_type, "data": payload}`, where the
//! payload is what followed `audit(…): ` on netlink, so CWD's data starts with a space) and
//! `uid_map` (uid text → user name, `UNKNOWN_USER` when the lookup failed). go-audit-container adds
//! `container_id`, an integer that is 0 outside containers. go-audit consumes EOE records and
//! never writes them. Newer go-audit versions add `containers` and `extras` to messages; they are
//! ignored here, like any other unknown field.
//!
//! Go's encoder writes strings as UTF-8 and replaces invalid bytes with U+FFFD: the kernel
//! hex-encodes untrusted values, so this loses nothing in practice, but bytes outside UTF-8 in
//! an unencoded field cannot be recovered from go-audit's output.

use parse::{FramingError, Record};
use serde_json::{Map, Value};
use vocab::{EventId, RecordType, Serial, Timestamp};

use crate::error::{FieldPath, GoAuditError, JsonKind};

/// One go-audit message group: its records as auditd log lines, and go-audit's additions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoAuditEvent {
    /// The group's `timestamp` and `sequence`: the same id the kernel put in every record header.
    pub id: EventId,
    /// The record lines, one after the other without separators; `ends` marks where each stops.
    buf: Vec<u8>,
    ends: Vec<usize>,
    /// go-audit's uid → user name map, sorted by the uid's text.
    pub uid_map: Vec<(String, String)>,
    /// go-audit-container's container id; `None` when absent, null, 0 (no container) or empty.
    pub container_id: Option<String>,
}

impl GoAuditEvent {
    /// Returns the number of records (never 0).
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Returns true if the event has no records (never the case for a parsed line).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Iterates over the synthesized record lines, `type=NAME msg=audit(SEC.MSEC:SEQUENCE): DATA`,
    /// in the order of `messages`, without a line end.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        self.ends.iter().enumerate().map(move |(i, &end)| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.buf[start..end]
        })
    }

    /// Frames each record line with [`parse::parse_line`]. Every line frames by construction (the
    /// type name and header are ours, the timestamp is checked); the `Result` is passed on rather
    /// than unwrapped so that a bug would show as an error, never as a panic or a lost record.
    pub fn records(&self) -> impl ExactSizeIterator<Item = Result<Record<'_>, FramingError<'_>>> + '_ {
        self.lines().map(parse::parse_line)
    }
}

/// Returns the line from its first `{` on: the go-audit object behind a syslog prefix such as
/// `Dec 20 09:03:14 host go-audit[11358]: `. Returns the line unchanged when it has no `{`.
pub fn strip_syslog_prefix(line: &[u8]) -> &[u8] {
    match memchr::memchr(b'{', line) {
        Some(at) => &line[at..],
        None => line,
    }
}

/// Parses one go-audit JSON object (surrounding whitespace and a line end are allowed; a syslog
/// prefix is not: see [`strip_syslog_prefix`]).
///
/// `sequence`, `timestamp` and `messages` with each message's `type` and `data` are required;
/// `uid_map` and `container_id` may be absent or null. Unknown fields are ignored.
pub fn parse_line(line: &[u8]) -> Result<GoAuditEvent, GoAuditError> {
    let value: Value = serde_json::from_slice(line).map_err(|e| GoAuditError::NotJson {
        truncated: e.is_eof(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let Value::Object(object) = value else {
        return Err(GoAuditError::NotAnObject { found: JsonKind::of(&value) });
    };

    let sequence = required(&object, "sequence")?;
    let serial = sequence.as_u64().ok_or_else(|| wrong(FieldPath::Top("sequence"), "an unsigned integer", sequence))?;

    let timestamp = required(&object, "timestamp")?;
    let Value::String(timestamp) = timestamp else {
        return Err(wrong(FieldPath::Top("timestamp"), "a string", timestamp));
    };
    let time = parse_timestamp(timestamp).ok_or_else(|| GoAuditError::BadTimestamp { timestamp: timestamp.clone() })?;

    let messages = required(&object, "messages")?;
    let Value::Array(messages) = messages else {
        return Err(wrong(FieldPath::Top("messages"), "an array", messages));
    };
    if messages.is_empty() {
        return Err(GoAuditError::NoMessages);
    }

    let mut header = Vec::with_capacity(48);
    header.extend_from_slice(b" msg=audit(");
    header.extend_from_slice(timestamp.as_bytes());
    header.push(b':');
    header.extend_from_slice(serial.to_string().as_bytes());
    header.extend_from_slice(b"): ");

    let mut buf = Vec::with_capacity(messages.len() * (header.len() + 256));
    let mut ends = Vec::with_capacity(messages.len());
    for (index, message) in messages.iter().enumerate() {
        let Value::Object(message) = message else {
            return Err(wrong(FieldPath::Top("messages"), "an array of objects", message));
        };
        let field = |field| FieldPath::Message { index, field };
        let record_type = message.get("type").ok_or(GoAuditError::MissingField { field: field("type") })?;
        let record_type = record_type
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| wrong(field("type"), "an unsigned 32-bit integer", record_type))?;
        let data = message.get("data").ok_or(GoAuditError::MissingField { field: field("data") })?;
        let Value::String(data) = data else {
            return Err(wrong(field("data"), "a string", data));
        };
        buf.extend_from_slice(b"type=");
        buf.extend_from_slice(RecordType(record_type).to_string().as_bytes());
        buf.extend_from_slice(&header);
        buf.extend_from_slice(data.as_bytes());
        ends.push(buf.len());
    }

    let uid_map = match object.get("uid_map") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(uid, name)| match name {
                Value::String(name) => Ok((uid.clone(), name.clone())),
                other => Err(wrong(FieldPath::Top("uid_map"), "an object of strings", other)),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(wrong(FieldPath::Top("uid_map"), "an object of strings", other)),
    };

    let container_id = match object.get("container_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) if id.is_empty() => None,
        Some(Value::String(id)) => Some(id.clone()),
        Some(Value::Number(n)) if n.as_u64() == Some(0) => None,
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        Some(other) => return Err(wrong(FieldPath::Top("container_id"), "a string or an integer", other)),
    };

    Ok(GoAuditEvent { id: EventId { time, serial: Serial(serial) }, buf, ends, uid_map, container_id })
}

fn required<'a>(object: &'a Map<String, Value>, name: &'static str) -> Result<&'a Value, GoAuditError> {
    object.get(name).ok_or(GoAuditError::MissingField { field: FieldPath::Top(name) })
}

fn wrong(field: FieldPath, expected: &'static str, found: &Value) -> GoAuditError {
    GoAuditError::WrongType { field, expected, found: JsonKind::of(found) }
}

/// Parses the kernel's `SEC.MSEC`: decimal seconds (fitting in 64 bits with the milliseconds), a
/// dot and exactly three decimal digits, the only form `audit_log_start` writes.
fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let (sec, msec) = text.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(sec) || msec.len() != 3 || !digits(msec) {
        return None;
    }
    let sec: u64 = sec.parse().ok()?;
    let msec: u64 = msec.parse().ok()?;
    sec.checked_mul(1000)?.checked_add(msec)?;
    Some(Timestamp::from_parts(sec, msec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_exactly_sec_dot_three_digits() {
        assert_eq!(parse_timestamp("1513740794.529"), Some(Timestamp { millis: 1_513_740_794_529 }));
        assert_eq!(parse_timestamp("0.000"), Some(Timestamp { millis: 0 }));
        for bad in [
            "",
            "1513740794",
            "1513740794.5",
            "1513740794.5290",
            ".529",
            "1.",
            "-1.000",
            "1,000",
            " 1.000",
            "1.00a",
            "18446744073709552.000",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_16_bit_record_type_name_reads_back_as_its_number() {
        // The synthesized lines name their type with `RecordType`'s Display; the parser must read
        // the same number back (go-audit's types are u16).
        for n in 0..=u32::from(u16::MAX) {
            let name = RecordType(n).to_string();
            assert_eq!(RecordType::from_name(name.as_bytes()), Some(RecordType(n)), "{name}");
        }
    }
}
