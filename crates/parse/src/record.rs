//! Framing: finds the record type, the optional node and the `audit(SEC.MSEC:SERIAL)` header in a
//! log line or netlink payload, and splits the body from an ENRICHED suffix.
//!
//! Framing never looks inside the body beyond the suffix split; fields are read lazily by
//! [`crate::Fields`].

use std::sync::LazyLock;

use memchr::memmem;
use vocab::{EventId, RecordType, Serial, Timestamp};

use crate::{enriched, DiagnosticKind};

/// One audit record, borrowed from the input it was parsed from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// The `node=` (or legacy `host=`) prefix, when the line has one.
    pub node: Option<&'a [u8]>,
    pub record_type: RecordType,
    pub id: EventId,
    /// The `key=value` part, without the header and without an ENRICHED suffix.
    pub body: &'a [u8],
    /// auditd's interpreted suffix (after `\x1d`, or glued on when the separator was stripped).
    pub enriched: Option<&'a [u8]>,
    /// The whole input as framed, without its line terminator.
    pub line: &'a [u8],
}

/// A line that cannot be framed as a record. The caller keeps `line` with a diagnostic: nothing
/// is dropped silently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FramingError<'a> {
    pub kind: DiagnosticKind,
    pub line: &'a [u8],
}

/// Parses one log line: `[node=N ][host=H ]type=NAME|UNKNOWN[n]|N msg=audit(SEC.MSEC:SERIAL):[ ]BODY`.
///
/// A trailing `\n` or `\r\n` is ignored. Text before the first `type=` that is not a `node=` or
/// `host=` field (a syslog prefix, say) is skipped.
pub fn parse_line(line: &[u8]) -> Result<Record<'_>, FramingError<'_>> {
    let line = trim_line_end(line);
    let err = |kind| FramingError { kind, line };
    let type_at = match find_type_field(line) {
        Some(at) => at,
        None if line.iter().all(u8::is_ascii_whitespace) => return Err(err(DiagnosticKind::EmptyLine)),
        None => return Err(err(DiagnosticKind::NoRecordType)),
    };
    let node = find_node(&line[..type_at]);
    let after_type = &line[type_at + 5..];
    let name_len = after_type.iter().position(|&b| b == b' ').unwrap_or(after_type.len());
    let name = &after_type[..name_len];
    let record_type = RecordType::from_name(name)
        .or_else(|| vocab::parse_u32(name).map(RecordType))
        .ok_or(err(DiagnosticKind::BadRecordType))?;
    let rest = &after_type[name_len..];
    let header_at = find_header(rest).ok_or(err(DiagnosticKind::NoEventHeader))?;
    let (id, body) = parse_header(&rest[header_at..]).ok_or(err(DiagnosticKind::BadEventHeader))?;
    let (body, enriched) = enriched::split(body);
    Ok(Record { node, record_type, id, body, enriched, line })
}

/// Parses one netlink payload (`audit(SEC.MSEC:SERIAL): BODY`); the record type comes from the
/// netlink message header. Trailing NUL bytes and newlines, which some kernels count in the
/// message length, are ignored.
pub fn parse_netlink(record_type: RecordType, payload: &[u8]) -> Result<Record<'_>, FramingError<'_>> {
    let end = payload.iter().rposition(|&b| b != 0 && b != b'\n').map_or(0, |p| p + 1);
    let line = &payload[..end];
    let err = |kind| FramingError { kind, line };
    if line.is_empty() {
        return Err(err(DiagnosticKind::EmptyLine));
    }
    let header_at = find_header(line).ok_or(err(DiagnosticKind::NoEventHeader))?;
    let (id, body) = parse_header(&line[header_at..]).ok_or(err(DiagnosticKind::BadEventHeader))?;
    let (body, enriched) = enriched::split(body);
    Ok(Record { node: None, record_type, id, body, enriched, line })
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Returns the offset of the first `type=` that starts the line or follows a space.
fn find_type_field(line: &[u8]) -> Option<usize> {
    if line.starts_with(b"type=") {
        return Some(0);
    }
    // Usual case: one `node=NAME ` field first.
    if let Some(space) = memchr::memchr(b' ', line) {
        if line[space + 1..].starts_with(b"type=") {
            return Some(space + 1);
        }
    }
    static FINDER: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(b" type="));
    FINDER.find(line).map(|p| p + 1)
}

/// Finds `node=` or `host=` among the space-separated fields before `type=`.
fn find_node(prefix: &[u8]) -> Option<&[u8]> {
    prefix.split(|&b| b == b' ').find_map(|token| {
        token.strip_prefix(b"node=").or_else(|| token.strip_prefix(b"host=")).filter(|v| !v.is_empty())
    })
}

/// Returns the offset of `audit(` in what follows the type name: normally right after `msg=`,
/// but also bare (`type=1300 audit(…)`, the kernel's console form) or after stray spaces.
fn find_header(rest: &[u8]) -> Option<usize> {
    if rest.starts_with(b" msg=audit(") {
        return Some(5);
    }
    let window = &rest[..rest.len().min(64)];
    window.windows(6).position(|w| w == b"audit(")
}

/// Parses `audit(SEC.MSEC:SERIAL)` plus the optional `:` and spaces after it; returns the id and
/// the body that follows. One pass over the digits: this runs once per record.
fn parse_header(header: &[u8]) -> Option<(EventId, &[u8])> {
    let inner = &header[6..];
    let (sec, mut i) = digits(inner, 0)?;
    if inner.get(i) != Some(&b'.') {
        return None;
    }
    let (msec, end) = digits(inner, i + 1)?;
    // auditd always prints three digits; be exact about other widths rather than guess.
    let msec = match end - (i + 1) {
        3 => msec,
        1 => msec * 100,
        2 => msec * 10,
        n => msec / 10u64.checked_pow(u32::try_from(n - 3).ok()?)?,
    };
    i = end;
    if inner.get(i) != Some(&b':') {
        return None;
    }
    let (serial, end) = digits(inner, i + 1)?;
    if inner.get(end) != Some(&b')') {
        return None;
    }
    let mut body = &inner[end + 1..];
    if let Some(rest) = body.strip_prefix(b":") {
        body = rest;
    }
    let skip = body.iter().position(|&b| b != b' ').unwrap_or(body.len());
    let id = EventId { time: Timestamp::from_parts(sec, msec), serial: Serial(serial) };
    Some((id, &body[skip..]))
}

/// Reads decimal digits from `at`; returns the number and where the digits end. `None` when there
/// are none or the number overflows.
#[inline]
fn digits(s: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut n: u64 = 0;
    let mut i = at;
    while let Some(&b) = s.get(i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
        i += 1;
    }
    (i > at).then_some((n, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(line: &str) -> Record<'_> {
        parse_line(line.as_bytes()).unwrap_or_else(|e| panic!("{line}: {:?}", e.kind))
    }

    #[test]
    fn plain_log_line() {
        let r = ok("type=CWD msg=audit(1795242234.443:8299): cwd=\"/root\"\n");
        assert_eq!(r.node, None);
        assert_eq!(r.record_type, RecordType::CWD);
        assert_eq!(r.id.time.millis, 1_795_242_234_443);
        assert_eq!(r.id.serial, Serial(8299));
        assert_eq!(r.body, b"cwd=\"/root\"");
        assert_eq!(r.enriched, None);
    }

    #[test]
    fn node_prefix_and_enriched_suffix() {
        let r = ok("node=web-01 type=CONFIG_CHANGE msg=audit(1.039:46300): op=set res=1\x1dAUID=\"unset\"");
        assert_eq!(r.node, Some(&b"web-01"[..]));
        assert_eq!(r.body, b"op=set res=1");
        assert_eq!(r.enriched, Some(&b"AUID=\"unset\""[..]));
    }

    #[test]
    fn header_oddities() {
        let r = ok("type=EOE msg=audit(1521757638.392:262332):");
        assert_eq!((r.id.serial, r.body), (Serial(262332), &b""[..]));
        let r = ok("type=AVC msg=audit(1.5:2) avc:  denied");
        assert_eq!((r.id.time.millis, r.body), (1500, &b"avc:  denied"[..]));
        let r = ok("type=SYSCALL  msg=audit(1.000:2):  arch=c000003e");
        assert_eq!(r.body, b"arch=c000003e");
        let r = ok("host=dhcppc2 type=AVC msg=audit(1216729188.853:241): avc:  denied");
        assert_eq!(r.node, Some(&b"dhcppc2"[..]));
        let r = ok("audit: type=1400 audit(1364481363.243:24287): apparmor=\"DENIED\"");
        assert_eq!(r.record_type, RecordType(1400));
        let r = ok("type=UNKNOWN[1334] msg=audit(1.000:9): prog-id=1");
        assert_eq!(r.record_type, RecordType(1334));
    }

    #[test]
    fn unframeable_lines_are_errors_with_their_bytes() {
        let cases: [(&[u8], DiagnosticKind); 6] = [
            (b"", DiagnosticKind::EmptyLine),
            (b"garbage \xff\xfe", DiagnosticKind::NoRecordType),
            (b"type=NOPE msg=audit(1.0:1): x=1", DiagnosticKind::BadRecordType),
            (b"type=SYSCALL msg=? x=1", DiagnosticKind::NoEventHeader),
            (b"type=SYSCALL msg=audit(1.0x:1): x=1", DiagnosticKind::BadEventHeader),
            (b"type=SYSCALL msg=audit(1.000:12", DiagnosticKind::BadEventHeader),
        ];
        for (line, kind) in cases {
            let e = parse_line(line).unwrap_err();
            assert_eq!((e.kind, e.line), (kind, line), "{:?}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn netlink_payload() {
        let r = parse_netlink(RecordType::EOE, b"audit(1700000000.123:77): \0\0").unwrap();
        assert_eq!((r.id.serial, r.body, r.record_type), (Serial(77), &b""[..], RecordType::EOE));
    }
}
