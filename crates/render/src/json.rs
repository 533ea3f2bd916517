//! The JSON writer: strings from bytes (with the percent rule), numbers, keys and separators,
//! written straight into a `Vec<u8>`.
//!
//! There is no value tree and no serde here; callers write objects in order. Commas are decided
//! by looking at the last byte written: after `{` or `[` none is needed, after any complete value
//! one is. This holds because no complete value ends in `{` or `[`.

/// What a byte needs: 0 = copy as is, 1 = ASCII that must be escaped, 2 = start of non-ASCII.
static CLASS: [u8; 256] = class_table();

const fn class_table() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if i < 0x20 || i == b'"' as usize || i == b'\\' as usize || i == b'%' as usize || i == 0x7f {
            1
        } else if i >= 0x80 {
            2
        } else {
            0
        };
        i += 1;
    }
    t
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// Writes `s` as a JSON string, quotes included. See the crate documentation for the rule.
pub fn string(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    escape_into(out, s);
    out.push(b'"');
}

/// Writes the escaped content of `s`, without quotes: valid UTF-8 passes through, each byte of
/// an invalid sequence becomes `%XX`, `%` becomes `%25`, and JSON's own escapes follow
/// (`\"`, `\\`, `\n`, `\r`, `\t`, other control bytes and DEL as `\u00xx`).
pub fn escape_into(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    let mut run = 0;
    let mut i = 0;
    loop {
        // Most values are plain ASCII: skip eight bytes at a time while nothing needs care, and
        // check a tail as the last eight bytes (overlapping bytes already known to be clean).
        // Shorter strings go byte by byte: padding them into a word through memory would stall
        // on store forwarding.
        while i + 8 <= n && !needs_care(word_at(s, i)) {
            i += 8;
        }
        if i < n && i + 8 > n && n >= 8 && !needs_care(word_at(s, n - 8)) {
            i = n;
        }
        while i < n && CLASS[s[i] as usize] == 0 {
            i += 1;
        }
        if i >= n {
            break;
        }
        i = escape_one(out, s, i, &mut run);
    }
    out.extend_from_slice(&s[run..]);
}

#[inline(always)]
fn word_at(s: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(s[i..i + 8].try_into().expect("eight bytes"))
}

/// Returns true if any byte of the word is a control byte, `"`, `\\`, `%`, DEL or non-ASCII.
/// Each test is the exact "has a byte less than / equal to" bit trick on eight lanes at once.
#[inline]
fn needs_care(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w;
    let equal = |c: u8| {
        let x = w ^ (ONES * u64::from(c));
        x.wrapping_sub(ONES) & !x
    };
    (below_space | equal(b'"') | equal(b'\\') | equal(b'%') | equal(0x7f) | w) & HIGHS != 0
}

/// Handles the byte at `i`, which needs care (and the rest of its UTF-8 sequence); returns the
/// next index.
/// `run` is where the bytes not yet copied start.
#[inline]
fn escape_one(out: &mut Vec<u8>, s: &[u8], i: usize, run: &mut usize) -> usize {
    let b = s[i];
    match CLASS[b as usize] {
        0 => i + 1,
        1 => {
            out.extend_from_slice(&s[*run..i]);
            escape_ascii(out, b);
            *run = i + 1;
            i + 1
        }
        _ => {
            let width = utf8_width(b);
            if width > 0 && i + width <= s.len() && std::str::from_utf8(&s[i..i + width]).is_ok() {
                i + width
            } else {
                out.extend_from_slice(&s[*run..i]);
                out.extend_from_slice(&[b'%', HEX_UPPER[usize::from(b >> 4)], HEX_UPPER[usize::from(b & 15)]]);
                *run = i + 1;
                i + 1
            }
        }
    }
}

fn escape_ascii(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        b'%' => out.extend_from_slice(b"%25"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX_LOWER[usize::from(b >> 4)],
            HEX_LOWER[usize::from(b & 15)],
        ]),
    }
}

/// The length of the UTF-8 sequence a lead byte announces; 0 for bytes that cannot lead one.
fn utf8_width(b: u8) -> usize {
    match b {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => 0,
    }
}

/// Writes the comma that separates this key or element from the previous one, if any: none
/// at the start of the buffer, of a line, of an object or of an array.
pub fn sep(out: &mut Vec<u8>) {
    if !matches!(out.last(), None | Some(b'{' | b'[' | b'\n')) {
        out.push(b',');
    }
}

/// Writes `,"name":` (the comma only when needed). `name` must need no escaping.
pub fn key(out: &mut Vec<u8>, name: &str) {
    sep(out);
    out.push(b'"');
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

pub fn u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

pub fn i64(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Writes `n` as two or more lower-case hex digits (`fe`, `01`).
pub fn hex2(out: &mut Vec<u8>, n: u32) {
    let digits = (32 - n.leading_zeros()).div_ceil(4).max(2);
    for shift in (0..digits).rev() {
        out.push(HEX_LOWER[((n >> (shift * 4)) & 15) as usize]);
    }
}

/// Writes `n` in octal with at least `width` digits.
pub fn octal(out: &mut Vec<u8>, n: u32, width: u32) {
    let digits = (32 - n.leading_zeros()).div_ceil(3).max(width);
    for shift in (0..digits).rev() {
        out.push(b'0' + ((n >> (shift * 3)) & 7) as u8);
    }
}

/// Writes a number as a JSON string (`"1000"`), for ECS keyword fields.
pub fn u64_string(out: &mut Vec<u8>, n: u64) {
    out.push(b'"');
    u64(out, n);
    out.push(b'"');
}

pub fn bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

/// Returns true if `s` is a canonical decimal integer that fits an `i64`: an optional `-`, then
/// `0` or digits without a leading zero (`-0` is not canonical).
pub fn is_canonical_int(s: &[u8]) -> bool {
    let (negative, digits) = match s.strip_prefix(b"-") {
        Some(d) => (true, d),
        None => (false, s),
    };
    match digits {
        [] => false,
        [b'0'] => !negative,
        [b'0', ..] => false,
        _ if digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) => false,
        _ if digits.len() < 19 => true,
        _ => {
            // 19 digits: compare against the limit of the sign.
            let limit: &[u8] = if negative { b"9223372036854775808" } else { b"9223372036854775807" };
            digits <= limit
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(input: &[u8]) -> String {
        let mut out = Vec::new();
        string(&mut out, input);
        String::from_utf8(out).expect("the writer emits UTF-8")
    }

    #[test]
    fn plain_and_json_escapes() {
        assert_eq!(s(b"/usr/bin/ls"), r#""/usr/bin/ls""#);
        assert_eq!(s(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(s(b"l1\nl2\r\tx"), r#""l1\nl2\r\tx""#);
        assert_eq!(s(b"\x00\x01\x1d\x7f"), r#""\u0000\u0001\u001d\u007f""#);
        assert_eq!(s(b""), r#""""#);
    }

    #[test]
    fn percent_rule_and_invalid_utf8() {
        assert_eq!(s(b"100%"), r#""100%25""#);
        assert_eq!(s(b"%25"), r#""%2525""#);
        assert_eq!(s(b"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "\"café € 😀\"");
        assert_eq!(s(b"\xff\xfe"), r#""%FF%FE""#);
        // A truncated sequence, an overlong encoding, a surrogate, a lone continuation byte.
        assert_eq!(s(b"a\xc3"), r#""a%C3""#);
        assert_eq!(s(b"\xc0\xaf"), r#""%C0%AF""#);
        assert_eq!(s(b"\xed\xa0\x80"), r#""%ED%A0%80""#);
        assert_eq!(s(b"\x80x"), r#""%80x""#);
        assert_eq!(s(b"\xe2\x82"), r#""%E2%82""#);
    }

    #[test]
    fn word_at_a_time_scanning_finds_every_special_byte() {
        for special in [0u8, 0x1f, b'"', b'\\', b'%', 0x7f, 0x80, 0xff] {
            for at in 0..20 {
                let mut input = vec![b'a'; 20];
                input[at] = special;
                let mut expected = Vec::new();
                for &b in &input {
                    match CLASS[b as usize] {
                        0 => expected.push(b),
                        1 => escape_ascii(&mut expected, b),
                        _ => expected.extend_from_slice(format!("%{b:02X}").as_bytes()),
                    }
                }
                let mut got = Vec::new();
                escape_into(&mut got, &input);
                assert_eq!(got, expected, "byte {special:#x} at {at}");
            }
        }
        for b in 0..=255u8 {
            let word = u64::from_le_bytes([b'a', b'b', b'c', b, b'd', b'e', b'f', b'g']);
            assert_eq!(needs_care(word), CLASS[b as usize] != 0, "{b:#x}");
        }
        // A multi-byte character across the eight-byte boundary.
        assert_eq!(s("abcdefg\u{e9}h".as_bytes()), "\"abcdefg\u{e9}h\"");
        assert_eq!(s(b"abcdefg\xc3"), r#""abcdefg%C3""#);
    }

    #[test]
    fn escaping_is_reversible() {
        fn unescape(json: &str) -> Vec<u8> {
            let text: String = serde_json::from_str(json).unwrap();
            let b = text.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'%' {
                    out.push(u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap(), 16).unwrap());
                    i += 3;
                } else {
                    out.push(b[i]);
                    i += 1;
                }
            }
            out
        }
        for input in [&b"%41\xff%"[..], b"\xc3\xa9\xc3", b"\x1d\"\\\n", b"plain"] {
            assert_eq!(unescape(&s(input)), input);
        }
    }

    #[test]
    fn canonical_integers() {
        for yes in ["0", "7", "-1", "4294967295", "9223372036854775807", "-9223372036854775808"] {
            assert!(is_canonical_int(yes.as_bytes()), "{yes}");
        }
        for no in ["", "-", "-0", "00", "0100644", "1e3", "+1", "3c", "fe:00", "9223372036854775808", "-9223372036854775809", "12345678901234567890"] {
            assert!(!is_canonical_int(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn hex_and_octal() {
        let mut out = Vec::new();
        for n in [0, 1, 0xfe, 0x103] {
            hex2(&mut out, n);
            out.push(b' ');
        }
        for (n, w) in [(0o100_640, 1), (0o640, 4), (0o4755, 4), (0, 4), (0o7, 1)] {
            octal(&mut out, n, w);
            out.push(b' ');
        }
        assert_eq!(String::from_utf8(out).unwrap(), "00 01 fe 103 100640 0640 4755 0000 7 ");
    }

    #[test]
    fn separators() {
        let mut out = b"{".to_vec();
        key(&mut out, "a");
        u64(&mut out, 1);
        key(&mut out, "b");
        out.push(b'[');
        sep(&mut out);
        i64(&mut out, -2);
        sep(&mut out);
        bool(&mut out, true);
        out.extend_from_slice(b"]}");
        assert_eq!(out, br#"{"a":1,"b":[-2,true]}"#);
    }
}
