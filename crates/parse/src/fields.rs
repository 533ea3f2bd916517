//! Splits a record body into `key=value` fields, lazily and without copying.
//!
//! The grammar is the kernel's and auditd's, which has no escapes: a value is a double-quoted
//! string (up to the next `"`), a single-quoted nested message `msg='…'` (user-space records), a
//! braced group `{ … }` (ENRICHED `SADDR=`), or a bare token up to the next space. Bytes that are
//! not `key=value` (the `avc:  denied  { read } for` of AVC records, the `PAM: session open` of
//! legacy user messages) come out as [`RawValue::Text`] with an empty name, so nothing is lost.

use crate::DiagnosticKind;

/// A value as it stands in the body, before field-specific decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawValue<'a> {
    /// `"…"`, without the quotes.
    Quoted(&'a [u8]),
    /// A token up to the next space.
    Bare(&'a [u8]),
    /// `'…'`, without the quotes: a nested message whose fields [`Fields::nested`] reads.
    Nested(&'a [u8]),
    /// `{ … }`, without the braces.
    Braced(&'a [u8]),
    /// Bytes that are not a field; the field's name is empty.
    Text(&'a [u8]),
}

impl<'a> RawValue<'a> {
    /// Returns the value's bytes without its quotes or braces.
    pub fn bytes(self) -> &'a [u8] {
        match self {
            RawValue::Quoted(b) | RawValue::Bare(b) | RawValue::Nested(b) | RawValue::Braced(b) | RawValue::Text(b) => b,
        }
    }
}

/// One field of a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field<'a> {
    /// The key; empty for [`RawValue::Text`].
    pub name: &'a [u8],
    pub value: RawValue<'a>,
    /// Set when the field was recovered from damaged input (an unterminated quote, say).
    pub diagnostic: Option<DiagnosticKind>,
}

/// Iterator over the fields of a body.
#[derive(Clone, Debug)]
pub struct Fields<'a> {
    rest: &'a [u8],
    nested: bool,
}

impl<'a> Fields<'a> {
    /// Reads the fields of a record body.
    pub fn new(body: &'a [u8]) -> Fields<'a> {
        Fields { rest: body, nested: false }
    }

    /// Reads the fields of a nested user-space message (`msg='…'`), where legacy forms wrap fields
    /// in parentheses and separate them with commas: `(hostname=?, addr=?, terminal=? res=success)`.
    pub fn nested(message: &'a [u8]) -> Fields<'a> {
        Fields { rest: message, nested: true }
    }

    fn is_separator(&self, b: u8) -> bool {
        b == b' ' || (self.nested && (b == b',' || b == b'('))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        let rest = self.rest;
        let mut i = 0;
        if self.nested {
            while i < rest.len() && self.is_separator(rest[i]) {
                i += 1;
            }
        } else {
            while i < rest.len() && rest[i] == b' ' {
                i += 1;
            }
        }
        if i == rest.len() {
            self.rest = &rest[i..];
            return None;
        }
        let s = &rest[i..];
        let Some((name, value_at)) = key_at(s) else {
            return Some(self.free_text(s));
        };
        let v = &s[value_at..];
        let (value, used, diagnostic) = match v.first() {
            Some(b'"') => {
                let end = find_byte(&v[1..], b'"');
                if end + 1 < v.len() {
                    (RawValue::Quoted(&v[1..1 + end]), end + 2, None)
                } else {
                    (RawValue::Quoted(&v[1..]), v.len(), Some(DiagnosticKind::UnterminatedQuote))
                }
            }
            Some(b'\'') => match closing_single_quote(&v[1..]) {
                Some(end) => (RawValue::Nested(&v[1..1 + end]), end + 2, None),
                None => (RawValue::Nested(&v[1..]), v.len(), Some(DiagnosticKind::UnterminatedQuote)),
            },
            Some(b'{') => match memchr::memchr(b'}', v) {
                Some(end) => (RawValue::Braced(trim_spaces(&v[1..end])), end + 1, None),
                None => (RawValue::Braced(trim_spaces(&v[1..])), v.len(), Some(DiagnosticKind::UnterminatedQuote)),
            },
            _ => {
                let end = find_byte(v, b' ');
                let mut token = &v[..end];
                if self.nested {
                    while let Some((&last, init)) = token.split_last() {
                        if last == b',' || last == b')' {
                            token = init;
                        } else {
                            break;
                        }
                    }
                }
                (RawValue::Bare(token), end, None)
            }
        };
        self.rest = &s[value_at + used..];
        Some(Field { name, value, diagnostic })
    }
}

impl<'a> Fields<'a> {
    /// Collects the run of tokens without `=` that starts `s` into one text field.
    fn free_text(&mut self, s: &'a [u8]) -> Field<'a> {
        let mut end = 0;
        loop {
            let token_end = memchr::memchr(b' ', &s[end..]).map_or(s.len(), |p| end + p);
            let next = s[token_end..].iter().position(|&b| b != b' ').map_or(s.len(), |p| token_end + p);
            end = token_end;
            if next >= s.len() || key_at(&s[next..]).is_some() {
                self.rest = &s[next..];
                break;
            }
            end = next;
        }
        let text = &s[..end];
        Field { name: &s[..0], value: RawValue::Text(text), diagnostic: None }
    }
}

/// Eight bytes from `at` as one little-endian word (one bounds check, one unaligned load).
#[inline(always)]
fn load_u64(s: &[u8], at: usize) -> u64 {
    let bytes: [u8; 8] = s[at..at + 8].try_into().expect("caller checks the length");
    u64::from_le_bytes(bytes)
}

/// Returns the offset of the first `needle` in `hay`, or `hay.len()`.
///
/// Values are mostly a few bytes to a few hundred: eight bytes at a time in a `u64` (SWAR) beats
/// both a byte loop and a SIMD search's set-up cost there.
#[inline]
fn find_byte(hay: &[u8], needle: u8) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(needle);
    let mut i = 0;
    while i + 8 <= hay.len() {
        let word = load_u64(hay, i);
        let x = word ^ pattern;
        // Nonzero exactly when some byte of x is zero; the lowest set bit marks the first one.
        let found = x.wrapping_sub(LO) & !x & HI;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < hay.len() && hay[i] != needle {
        i += 1;
    }
    i
}

/// If `s` starts with `key=`, returns the key and the offset of its value. A key has no space
/// or quote.
#[inline]
fn key_at(s: &[u8]) -> Option<(&[u8], usize)> {
    let mut i = 0;
    while i < s.len() && !KEY_END[usize::from(s[i])] {
        i += 1;
    }
    (i > 0 && i < s.len() && s[i] == b'=').then(|| (&s[..i], i + 1))
}

/// Bytes that end a key: `=`, space and quotes.
static KEY_END: [bool; 256] = {
    let mut table = [false; 256];
    table[b'=' as usize] = true;
    table[b' ' as usize] = true;
    table[b'"' as usize] = true;
    table[b'\'' as usize] = true;
    table
};

/// Finds the `'` that closes a nested message: the last `'` followed by a space or the end.
fn closing_single_quote(s: &[u8]) -> Option<usize> {
    let mut found = None;
    for pos in memchr::memchr_iter(b'\'', s) {
        if s.get(pos + 1).is_none_or(|&b| b == b' ') {
            found = Some(pos);
            break;
        }
    }
    found
}

fn trim_spaces(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b' ').unwrap_or(s.len());
    let end = s.iter().rposition(|&b| b != b' ').map_or(start, |p| p + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(fields: Fields<'_>) -> Vec<String> {
        fields
            .map(|f| {
                let v = String::from_utf8_lossy(f.value.bytes());
                let kind = match f.value {
                    RawValue::Quoted(_) => "q",
                    RawValue::Bare(_) => "b",
                    RawValue::Nested(_) => "n",
                    RawValue::Braced(_) => "{}",
                    RawValue::Text(_) => "t",
                };
                let diag = f.diagnostic.map(|d| format!(" !{d}")).unwrap_or_default();
                format!("{}={kind}:{v}{diag}", String::from_utf8_lossy(f.name))
            })
            .collect()
    }

    #[test]
    fn syscall_body() {
        let got = render(Fields::new(b"arch=c000003e syscall=59 comm=\"a b\" key=(null) tty=(none)"));
        assert_eq!(got, ["arch=b:c000003e", "syscall=b:59", "comm=q:a b", "key=b:(null)", "tty=b:(none)"]);
    }

    #[test]
    fn nested_user_message_modern_and_legacy() {
        let body = b"pid=1 uid=0 msg='op=PAM:session_open acct=\"root\" exe=\"/usr/bin/sudo\" res=success'";
        let fields: Vec<_> = Fields::new(body).collect();
        assert_eq!(fields[2].name, b"msg");
        let inner = render(Fields::nested(fields[2].value.bytes()));
        assert_eq!(inner, ["op=b:PAM:session_open", "acct=q:root", "exe=q:/usr/bin/sudo", "res=b:success"]);

        let legacy = b"PAM: session open acct=root : exe=\"/usr/bin/sudo\" (hostname=?, addr=?, terminal=? res=success)";
        assert_eq!(
            render(Fields::nested(legacy)),
            ["=t:PAM: session open", "acct=b:root", "=t::", "exe=q:/usr/bin/sudo", "hostname=b:?", "addr=b:?", "terminal=b:?", "res=b:success"]
        );
    }

    #[test]
    fn avc_free_text() {
        let got = render(Fields::new(b"avc:  denied  { read } for  pid=14066 comm=\"qemu-kvm\""));
        assert_eq!(got, ["=t:avc:  denied  { read } for", "pid=b:14066", "comm=q:qemu-kvm"]);
    }

    #[test]
    fn damaged_values_are_kept() {
        let got = render(Fields::new(b"a=\"open b=1"));
        assert_eq!(got, ["a=q:open b=1 !unterminated_quote"]);
        let got = render(Fields::new(b"SADDR={ saddr_fam=inet laddr=127.0.0.1 lport=22 } x=1"));
        assert_eq!(got, ["SADDR={}:saddr_fam=inet laddr=127.0.0.1 lport=22", "x=b:1"]);
        let got = render(Fields::new(b" =x \xff y=2 "));
        assert_eq!(got, ["=t:=x \u{fffd}", "y=b:2"]);
        assert!(Fields::new(b"   ").next().is_none());
    }

    #[test]
    fn find_byte_agrees_with_a_plain_search() {
        let hay = b"0123456789abcdef 0123456789\"x\x80\xff ";
        for needle in [b' ', b'"', b'x', 0x80, 0xff, b'0', b'f', b'#'] {
            for start in 0..hay.len() {
                let h = &hay[start..];
                let want = h.iter().position(|&b| b == needle).unwrap_or(h.len());
                assert_eq!(find_byte(h, needle), want, "needle {needle} from {start}");
            }
        }
    }

    #[test]
    fn single_quote_inside_nested_message() {
        let got = render(Fields::new(b"msg='cmd=\"it's\" res=1' x=2"));
        assert_eq!(got, ["msg=n:cmd=\"it's\" res=1", "x=b:2"]);
    }
}
