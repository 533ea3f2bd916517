//! Field-specific decoding of values: which fields the kernel hex-encodes ("untrusted strings"),
//! sentinels such as `(null)`, and hex decoding.
//!
//! Whether a bare value is hex depends on the field: `proctitle=2F62696E` is bytes, `a0=7ffe0` in
//! a SYSCALL record is a register, `a0=2F62696E` in an EXECVE record is an argument.

use std::borrow::Cow;

use vocab::RecordType;

use crate::{DiagnosticKind, RawValue};

/// A decoded value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// A string, from quotes or from hex. Bytes, not necessarily UTF-8.
    Str(Cow<'a, [u8]>),
    /// A bare token kept as written: numbers, hex registers, modes, `dev=fe:00`, contexts, `?`.
    Bare(&'a [u8]),
    /// `(null)` or `(none)`: the kernel had no value.
    Null,
    /// A nested message (`msg='…'`), to be read with [`crate::Fields::nested`].
    Nested(&'a [u8]),
    /// A braced group (`{ … }`).
    Braced(&'a [u8]),
    /// Free text outside any field.
    Text(&'a [u8]),
}

/// Returns true if the kernel writes this field of this record type as a hex "untrusted string"
/// whenever the value has a space, quote, control or non-ASCII byte.
pub fn is_encoded_field(record_type: RecordType, name: &[u8]) -> bool {
    match name {
        b"proctitle" | b"cmd" | b"comm" | b"exe" | b"name" | b"cwd" | b"path" | b"key" | b"acct"
        | b"data" | b"saddr" | b"ocomm" | b"watch" | b"dir" | b"file" | b"vm"
        | b"new-disk" | b"old-disk" | b"new-chardev" | b"old-chardev" | b"new-fs" | b"old-fs"
        | b"new-net" | b"old-net" | b"new-rng" | b"old-rng" | b"root_dir" | b"sw" | b"grp"
        | b"new_group" | b"device" | b"ioctlcmd" | b"exe_path" | b"kernel" | b"uuid" => {
            // SELinux AVC records carry a numeric SysV IPC `key`.
            !(name == b"key" && (1400..=1499).contains(&record_type.0))
        }
        _ => record_type == RecordType::EXECVE && is_argument_name(name),
    }
}

/// `aN` or `aN[M]`.
fn is_argument_name(name: &[u8]) -> bool {
    let Some(rest) = name.strip_prefix(b"a") else { return false };
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return false;
    }
    let tail = &rest[digits..];
    tail.is_empty()
        || (tail.len() >= 3
            && tail[0] == b'['
            && tail[tail.len() - 1] == b']'
            && tail[1..tail.len() - 1].iter().all(u8::is_ascii_digit))
}

/// Decodes a raw value of field `name` in a record of `record_type`.
///
/// Returns the value and, when the input was damaged, a diagnostic; the value then holds the
/// bytes as they were.
pub fn decode<'a>(record_type: RecordType, name: &[u8], raw: RawValue<'a>) -> (Value<'a>, Option<DiagnosticKind>) {
    match raw {
        RawValue::Quoted(s) => (Value::Str(Cow::Borrowed(s)), None),
        RawValue::Nested(s) => (Value::Nested(s), None),
        RawValue::Braced(s) => (Value::Braced(s), None),
        RawValue::Text(s) => (Value::Text(s), None),
        RawValue::Bare(b"(null)" | b"(none)") => (Value::Null, None),
        RawValue::Bare(s) if looks_like_hex(s) && is_encoded_field(record_type, name) => match decode_hex(s) {
            Some(bytes) => (Value::Str(Cow::Owned(bytes)), None),
            None => (Value::Bare(s), Some(DiagnosticKind::BadHex)),
        },
        // A pipeline that mangled quoting left a stray `"` after hex: decode what is intact.
        RawValue::Bare(s) if s.len() > 1 && s.ends_with(b"\"") && is_encoded_field(record_type, name) => {
            let hex = &s[..s.len() - 1];
            match looks_like_hex(hex).then(|| decode_hex(hex)).flatten() {
                Some(bytes) => (Value::Str(Cow::Owned(bytes)), Some(DiagnosticKind::StrayQuote)),
                None => (Value::Bare(s), Some(DiagnosticKind::StrayQuote)),
            }
        }
        RawValue::Bare(s) => (Value::Bare(s), None),
    }
}

/// Upper-case hex digits only (the kernel never writes lower case there); odd lengths count so
/// that they are reported rather than passed off as text.
fn looks_like_hex(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b))
}

/// Decodes upper- or lower-case hex; `None` for odd lengths or other bytes.
pub fn decode_hex(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 2);
    for pair in s.chunks_exact(2) {
        let (hi, lo) = (NIBBLE[usize::from(pair[0])], NIBBLE[usize::from(pair[1])]);
        if (hi | lo) & 0xf0 != 0 {
            return None;
        }
        out.push((hi << 4) | lo);
    }
    Some(out)
}

/// Hex digit values; 0xff for bytes that are not hex digits.
static NIBBLE: [u8; 256] = {
    let mut table = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'A' as usize + i] = 10 + i as u8;
        table[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    fn d(rt: RecordType, name: &str, raw: RawValue<'static>) -> (Value<'static>, Option<DiagnosticKind>) {
        decode(rt, name.as_bytes(), raw)
    }

    #[test]
    fn encoded_fields_decode_per_record_type() {
        let hex = RawValue::Bare(b"2F62696E2F7368");
        assert_eq!(d(RecordType::PROCTITLE, "proctitle", hex).0, Value::Str(Cow::Owned(b"/bin/sh".to_vec())));
        assert_eq!(d(RecordType::EXECVE, "a1", hex).0, Value::Str(Cow::Owned(b"/bin/sh".to_vec())));
        assert_eq!(d(RecordType::EXECVE, "a1[3]", hex).0, Value::Str(Cow::Owned(b"/bin/sh".to_vec())));
        assert_eq!(d(RecordType::SYSCALL, "a1", hex).0, Value::Bare(b"2F62696E2F7368"));
        assert_eq!(d(RecordType::EXECVE, "a1_len", RawValue::Bare(b"12")).0, Value::Bare(b"12"));
        assert_eq!(d(RecordType::CONFIG_CHANGE, "old", RawValue::Bare(b"1")).0, Value::Bare(b"1"));
        assert_eq!(d(RecordType(1114), "id", RawValue::Bare(b"1001")), (Value::Bare(b"1001"), None));
        assert_eq!(d(RecordType(1400), "key", RawValue::Bare(b"00")), (Value::Bare(b"00"), None));
        assert_eq!(
            d(RecordType::SYSCALL, "key", RawValue::Bare(b"6162\"")),
            (Value::Str(Cow::Owned(b"ab".to_vec())), Some(DiagnosticKind::StrayQuote))
        );
    }

    #[test]
    fn sentinels_and_damage() {
        assert_eq!(d(RecordType::SYSCALL, "key", RawValue::Bare(b"(null)")).0, Value::Null);
        assert_eq!(d(RecordType::SYSCALL, "tty", RawValue::Bare(b"(none)")).0, Value::Null);
        assert_eq!(d(RecordType::PATH, "name", RawValue::Bare(b"ABC")), (Value::Bare(b"ABC"), Some(DiagnosticKind::BadHex)));
        // An unquoted path in old logs is not hex and not damaged.
        assert_eq!(d(RecordType::SYSCALL, "exe", RawValue::Bare(b"/bin/ls")), (Value::Bare(b"/bin/ls"), None));
        // Multiple rule keys are joined by \x01, which forces hex.
        assert_eq!(d(RecordType::SYSCALL, "key", RawValue::Bare(b"6100620163")).0, Value::Str(Cow::Owned(b"a\0b\x01c".to_vec())));
    }

    #[test]
    fn hex_rejects_odd_and_junk() {
        assert_eq!(decode_hex(b"4"), None);
        assert_eq!(decode_hex(b"4G"), None);
        assert_eq!(decode_hex(b""), Some(vec![]));
        assert_eq!(decode_hex(b"ff00"), Some(vec![0xff, 0]));
    }
}
