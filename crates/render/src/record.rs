//! The `records` array of both forms: each record's type, decoded fields, ENRICHED suffix and raw
//! line, with all EXECVE records of the event merged into one entry.
//!
//! Field typing (numbers, hex-printed fields, nested messages, free text, repeated keys) is
//! decided here and nowhere else; the crate documentation states the rules.

use assemble::summary::SummaryBuilder;
use assemble::{Argv, ArgvProblem, Event};
use parse::{decode, DiagnosticKind, Fields, RawValue, Record, Value};
use vocab::RecordType;

use crate::{json, FieldProblems, Options};

/// Nested messages deeper than this are written as strings.
const MAX_NESTING: u32 = 4;

/// Writes the `records` array value.
///
/// With a `summary` builder, every record's fields are also fed to it, so the summary needs no
/// second pass over the records.
pub(crate) fn write_records<'a>(
    out: &mut Vec<u8>,
    event: &'a Event,
    opts: &Options,
    problems: &mut FieldProblems,
    mut summary: Option<&mut SummaryBuilder<'a>>,
) {
    out.push(b'[');
    let mut execve_written = false;
    for record in event.records() {
        if record.record_type == RecordType::EXECVE {
            if let Some(argv) = &event.argv {
                if !execve_written {
                    execve_written = true;
                    write_execve(out, event, argv, opts, problems);
                }
                continue;
            }
        }
        match summary.as_deref_mut() {
            Some(builder) if SummaryBuilder::wants(record.record_type) => {
                builder.begin(record.record_type);
                write_record(out, &record, opts, problems, Some(&mut *builder));
                builder.end();
            }
            _ => write_record(out, &record, opts, problems, None),
        }
    }
    out.push(b']');
}

/// One record: `{"type":…,"fields":{…},"enriched":{…},"diagnostics":[…],"raw":…}`.
pub(crate) fn write_record<'a>(
    out: &mut Vec<u8>,
    record: &Record<'a>,
    opts: &Options,
    problems: &mut FieldProblems,
    mut summary: Option<&mut SummaryBuilder<'a>>,
) {
    json::sep(out);
    out.extend_from_slice(b"{\"type\":");
    write_record_type(out, record.record_type);
    out.extend_from_slice(b",\"fields\":");
    let mut damaged = Vec::new();
    write_fields(out, record.record_type, Fields::new(record.body), 0, &mut damaged, summary.as_deref_mut());
    if let Some(suffix) = record.enriched {
        json::key(out, "enriched");
        write_enriched(out, suffix, summary);
    }
    if !damaged.is_empty() {
        json::key(out, "diagnostics");
        out.push(b'[');
        for (name, kind) in damaged {
            problems.add(kind);
            json::sep(out);
            out.extend_from_slice(b"{\"field\":");
            json::string(out, name);
            out.extend_from_slice(b",\"kind\":\"");
            out.extend_from_slice(kind.as_str().as_bytes());
            out.extend_from_slice(b"\"}");
        }
        out.push(b']');
    }
    if opts.raw {
        json::key(out, "raw");
        json::string(out, record.line);
    }
    out.push(b'}');
}

/// Writes `"SYSCALL"` or `"UNKNOWN[n]"`.
pub(crate) fn write_record_type(out: &mut Vec<u8>, rt: RecordType) {
    out.push(b'"');
    match rt.name() {
        Some(name) => out.extend_from_slice(name.as_bytes()),
        None => {
            out.extend_from_slice(b"UNKNOWN[");
            json::u64(out, u64::from(rt.0));
            out.push(b']');
        }
    }
    out.push(b'"');
}

/// Writes the fields of a body (or of a nested message) as an object.
fn write_fields<'a>(
    out: &mut Vec<u8>,
    rt: RecordType,
    fields: Fields<'a>,
    depth: u32,
    damaged: &mut Vec<(&'a [u8], DiagnosticKind)>,
    mut summary: Option<&mut SummaryBuilder<'a>>,
) {
    out.push(b'{');
    let mut keys = Keys::default();
    let mut texts: Vec<&[u8]> = Vec::new();
    for field in fields {
        if let Some(builder) = summary.as_deref_mut() {
            builder.field(&field);
        }
        if let RawValue::Text(text) = field.value {
            texts.push(text);
            continue;
        }
        if let Some(kind) = field.diagnostic {
            damaged.push((field.name, kind));
        }
        keys.write(out, field.name);
        let (value, diagnostic) = decode(rt, field.name, field.value);
        if let Some(kind) = diagnostic {
            damaged.push((field.name, kind));
        }
        match value {
            Value::Str(s) => json::string(out, &s),
            Value::Bare(b) if !is_hex_printed(rt, field.name) && json::is_canonical_int(b) => out.extend_from_slice(b),
            Value::Bare(b) | Value::Braced(b) | Value::Text(b) => json::string(out, b),
            Value::Null => out.extend_from_slice(b"null"),
            Value::Nested(m) if depth < MAX_NESTING => write_fields(out, rt, Fields::nested(m), depth + 1, damaged, None),
            Value::Nested(m) => json::string(out, m),
        }
    }
    write_texts(out, &mut keys, &texts);
    out.push(b'}');
}

/// Writes the ENRICHED suffix as an object of strings.
fn write_enriched<'a>(out: &mut Vec<u8>, suffix: &'a [u8], mut summary: Option<&mut SummaryBuilder<'a>>) {
    out.push(b'{');
    let mut keys = Keys::default();
    let mut texts: Vec<&[u8]> = Vec::new();
    for field in Fields::new(suffix) {
        if let Some(builder) = summary.as_deref_mut() {
            builder.enriched_field(&field);
        }
        if let RawValue::Text(text) = field.value {
            texts.push(text);
            continue;
        }
        keys.write(out, field.name);
        json::string(out, field.value.bytes());
    }
    write_texts(out, &mut keys, &texts);
    out.push(b'}');
}

fn write_texts(out: &mut Vec<u8>, keys: &mut Keys, texts: &[&[u8]]) {
    if texts.is_empty() {
        return;
    }
    keys.write(out, b"text");
    out.push(b'"');
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        json::escape_into(out, text);
    }
    out.push(b'"');
}

/// Returns true for fields the kernel prints in hex even when every digit is decimal: they are
/// written as strings so that a field never changes type between events.
fn is_hex_printed(rt: RecordType, name: &[u8]) -> bool {
    match name {
        b"arch" | b"per" => true,
        b"a0" | b"a1" | b"a2" | b"a3" => rt == RecordType::SYSCALL || rt == RecordType::SOCKETCALL,
        b"cap_frootid" | b"frootid" => false,
        b"fver" | b"fp" | b"fi" | b"fe" | b"pp" | b"pi" | b"pe" | b"pa" | b"pamb" | b"old_pp" | b"old_pi" | b"old_pe"
        | b"old_pa" | b"old_pamb" => rt == BPRM_FCAPS,
        b"qbytes" => rt == RecordType::IPC,
        _ => name.starts_with(b"cap_"),
    }
}

const BPRM_FCAPS: RecordType = RecordType(1321);

/// The merged EXECVE entry.
fn write_execve(out: &mut Vec<u8>, event: &Event, argv: &Argv, opts: &Options, problems: &mut FieldProblems) {
    json::sep(out);
    out.extend_from_slice(b"{\"type\":\"EXECVE\",\"fields\":{");
    if let Some(argc) = argv.argc {
        out.extend_from_slice(b"\"argc\":");
        json::u64(out, u64::from(argc));
    }
    out.extend_from_slice(b"},\"argv\":[");
    for arg in argv.iter() {
        json::sep(out);
        json::string(out, arg);
    }
    out.push(b']');
    if !argv.problems.is_empty() {
        json::key(out, "argv_problems");
        out.push(b'[');
        for problem in &argv.problems {
            json::sep(out);
            write_argv_problem(out, problem);
            if matches!(problem, ArgvProblem::BadHex { .. }) {
                problems.add(DiagnosticKind::BadHex);
            }
        }
        out.push(b']');
    }
    if opts.raw {
        json::key(out, "raw");
        out.push(b'[');
        for record in event.all(RecordType::EXECVE) {
            json::sep(out);
            json::string(out, record.line);
        }
        out.push(b']');
    }
    out.push(b'}');
}

fn write_argv_problem(out: &mut Vec<u8>, problem: &ArgvProblem) {
    let (kind, index) = match *problem {
        ArgvProblem::Missing { index } => ("missing", index),
        ArgvProblem::LengthMismatch { index, .. } => ("length_mismatch", index),
        ArgvProblem::BadHex { index } => ("bad_hex", index),
        ArgvProblem::BeyondArgc { index } => ("beyond_argc", index),
        ArgvProblem::IndexTooLarge { index } => ("index_too_large", index),
        ArgvProblem::ArgcTooLarge { argc, found } => {
            out.extend_from_slice(b"{\"kind\":\"argc_too_large\",\"argc\":");
            json::u64(out, u64::from(argc));
            out.extend_from_slice(b",\"found\":");
            json::u64(out, u64::from(found));
            out.push(b'}');
            return;
        }
    };
    out.extend_from_slice(b"{\"kind\":\"");
    out.extend_from_slice(kind.as_bytes());
    out.extend_from_slice(b"\",\"index\":");
    json::u64(out, u64::from(index));
    if let ArgvProblem::LengthMismatch { expected, got, .. } = *problem {
        out.extend_from_slice(b",\"expected\":");
        json::u64(out, u64::from(expected));
        out.extend_from_slice(b",\"got\":");
        json::u64(out, u64::from(got));
    }
    out.push(b'}');
}

/// The keys already written into one object, as ranges of the output, so that a repeated key
/// can be suffixed `_2`, `_3`, …. Comparing the escaped forms is exact because escaping is
/// injective. Each key also keeps its first eight bytes as a number: most keys are that short,
/// so most comparisons are one integer comparison.
#[derive(Default)]
struct Keys {
    inline: [Key; 32],
    len: usize,
    spill: Vec<Key>,
    /// One bit per key hash: a key whose bit is clear was not written before, which spares
    /// the comparisons for almost every key.
    seen: u128,
}

#[derive(Clone, Copy, Default)]
struct Key {
    prefix: u64,
    start: usize,
    len: usize,
}

impl Key {
    fn new(out: &[u8], start: usize, end: usize) -> Key {
        let bytes = &out[start..end];
        // Built in registers: copying into a stack array and loading it as a word would stall.
        let prefix = match bytes.first_chunk::<8>() {
            Some(head) => u64::from_le_bytes(*head),
            None => bytes.iter().rev().fold(0, |p, &b| (p << 8) | u64::from(b)),
        };
        Key { prefix, start, len: end - start }
    }

    fn bit(&self) -> u128 {
        let h = (self.prefix ^ self.len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        1u128 << (h >> 57)
    }

    fn same(&self, other: &Key, out: &[u8]) -> bool {
        self.prefix == other.prefix
            && self.len == other.len
            && (self.len <= 8 || out[self.start..self.start + self.len] == out[other.start..other.start + other.len])
    }
}

impl Keys {
    /// Writes `,"name":` (or `,"name_N":` for a repeat) and remembers the key.
    fn write(&mut self, out: &mut Vec<u8>, name: &[u8]) {
        json::sep(out);
        out.push(b'"');
        let start = out.len();
        json::escape_into(out, name);
        let end = out.len();
        let mut key = Key::new(out, start, end);
        if self.contains(&key, out) {
            let mut n: u64 = 2;
            loop {
                out.truncate(end);
                out.push(b'_');
                json::u64(out, n);
                key = Key::new(out, start, out.len());
                if !self.contains(&key, out) {
                    break;
                }
                n += 1;
            }
        }
        self.seen |= key.bit();
        if self.len < self.inline.len() {
            self.inline[self.len] = key;
            self.len += 1;
        } else {
            self.spill.push(key);
        }
        out.extend_from_slice(b"\":");
    }

    fn contains(&self, key: &Key, out: &[u8]) -> bool {
        if self.seen & key.bit() == 0 {
            return false;
        }
        self.inline[..self.len].iter().any(|k| k.same(key, out)) || self.spill.iter().any(|k| k.same(key, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(rt: RecordType, body: &str) -> String {
        let mut out = Vec::new();
        let mut damaged = Vec::new();
        write_fields(&mut out, rt, Fields::new(body.as_bytes()), 0, &mut damaged, None);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn value_types() {
        assert_eq!(
            fields(RecordType::SYSCALL, r#"arch=c000003e syscall=59 success=yes exit=-13 a0=3 a1=7ffe items=0 tty=(none) comm="ls" key=(null)"#),
            r#"{"arch":"c000003e","syscall":59,"success":"yes","exit":-13,"a0":"3","a1":"7ffe","items":0,"tty":null,"comm":"ls","key":null}"#
        );
        assert_eq!(
            fields(RecordType::PATH, "item=0 name=2F746D702F6120 inode=007 dev=fe:00 mode=0100644 ouid=4294967295 cap_fp=0 cap_frootid=0"),
            r#"{"item":0,"name":"/tmp/a ","inode":"007","dev":"fe:00","mode":"0100644","ouid":4294967295,"cap_fp":"0","cap_frootid":0}"#
        );
        assert_eq!(fields(RecordType::CWD, "big=9223372036854775808 neg=-0"), r#"{"big":"9223372036854775808","neg":"-0"}"#);
    }

    #[test]
    fn nested_legacy_message_and_free_text() {
        assert_eq!(
            fields(
                RecordType(1112),
                "pid=1 uid=0 msg='op=login acct=\"bob\" exe=\"/usr/sbin/sshd\" hostname=? addr=10.0.0.1 res=failed'"
            ),
            r#"{"pid":1,"uid":0,"msg":{"op":"login","acct":"bob","exe":"/usr/sbin/sshd","hostname":"?","addr":"10.0.0.1","res":"failed"}}"#
        );
        assert_eq!(
            fields(RecordType(1105), "user pid=2 msg='PAM: session open acct=root : exe=\"/bin/su\" (hostname=?, addr=?, terminal=pts/0 res=success)'"),
            r#"{"pid":2,"msg":{"acct":"root","exe":"/bin/su","hostname":"?","addr":"?","terminal":"pts/0","res":"success","text":"PAM: session open :"},"text":"user"}"#
        );
        assert_eq!(
            fields(RecordType(1400), "avc:  denied  { read } for  pid=7 comm=\"x\""),
            r#"{"pid":7,"comm":"x","text":"avc:  denied  { read } for"}"#
        );
    }

    #[test]
    fn repeated_keys_are_suffixed() {
        assert_eq!(fields(RecordType::CWD, "a=1 a=2 b=x a=3"), r#"{"a":1,"a_2":2,"b":"x","a_3":3}"#);
        // A literal `a_2` already present pushes the repeat on to `a_3`.
        assert_eq!(fields(RecordType::CWD, "a=1 a_2=2 a=3"), r#"{"a":1,"a_2":2,"a_3":3}"#);
        // Long keys that share their first eight bytes.
        assert_eq!(fields(RecordType::CWD, "abcdefgh1=1 abcdefgh2=2 abcdefgh1=3"), r#"{"abcdefgh1":1,"abcdefgh2":2,"abcdefgh1_2":3}"#);
        // More keys than the inline table holds.
        let body: Vec<String> = (0..60).map(|i| format!("k{i}=1")).chain(["k59=2".to_string()]).collect();
        assert!(fields(RecordType::CWD, &body.join(" ")).ends_with(r#""k59":1,"k59_2":2}"#));
        // Text next to a field named text.
        assert_eq!(fields(RecordType::CWD, "free words text=1"), r#"{"text":1,"text_2":"free words"}"#);
    }

    #[test]
    fn damaged_values_are_listed() {
        let mut out = Vec::new();
        let record = parse::parse_line(b"type=PATH msg=audit(1.000:2): name=ABC nametype=\"NORMAL").unwrap();
        let mut problems = FieldProblems::default();
        write_record(&mut out, &record, &Options::default(), &mut problems, None);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"type":"PATH","fields":{"name":"ABC","nametype":"NORMAL"},"diagnostics":[{"field":"name","kind":"bad_hex"},{"field":"nametype","kind":"unterminated_quote"}]}"#
        );
        assert_eq!(problems.iter().collect::<Vec<_>>(), [(DiagnosticKind::BadHex, 1), (DiagnosticKind::UnterminatedQuote, 1)]);
    }
}
