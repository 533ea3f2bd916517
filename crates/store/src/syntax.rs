//! The text filter language of `auditmesh search`:
//!
//! ```text
//! exe=/usr/bin/sudo and success=no
//! path^=/etc/ and not uid=0
//! argv~curl or (syscall=connect port=443)
//! key="my key" exit=-13 type=EXECVE
//! time>=2026-11-21T10:00:00Z time<2026-11-21T11:00:00Z uid>=1000 exit<0
//! ```
//!
//! - Comparisons: `FIELD=VALUE` (equal), `FIELD!=VALUE` (not equal), `FIELD^=PREFIX` (starts
//!   with), `FIELD~TEXT` (contains), and on number and time fields `FIELD<VALUE`, `<=`, `>`,
//!   `>=`. Fields: node pid ppid uid auid euid syscall success exit exe comm key type path cwd
//!   argv (or cmdline) addr port container, and serial and time. Number fields: pid ppid uid
//!   auid euid exit port serial.
//! - `and`, `or`, `not`, parentheses; two comparisons side by side mean `and`; `and` binds tighter
//!   than `or`.
//! - Values: a bare word (up to a space or parenthesis) or a double-quoted string with `\"` and
//!   `\\`. `success` takes yes/no/true/false; numbers are decimal (`exit` may be negative).
//!   Times are RFC 3339 in UTC (`2026-11-21T10:00:00Z`, with optional `.mmm`), a date
//!   (`2026-11-21`, midnight UTC), milliseconds since the epoch, or — with [`parse_at`], which
//!   is told the time now — an age before now (`90s`, `15m`, `2h`, `7d`).
//! - An event without a field matches no comparison on it, and so matches its negation:
//!   `pid!=5` and `not pid=5` are the same filter.
//!
//! Pure: text in, a [`Filter`] or an error with its byte offset out.

use crate::query::{Cmp, Field, FieldKind, Filter, Value};

/// Why a filter does not parse; `at` is a byte offset into the text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at byte {at}: {what}")]
pub struct SyntaxError {
    pub at: usize,
    pub what: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Quoted(String),
    Open,
    Close,
}

fn tokens(text: &str) -> Result<Vec<(usize, Tok)>, SyntaxError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b' ' | b'\t' | b'\n' => i += 1,
            b'(' => {
                out.push((i, Tok::Open));
                i += 1;
            }
            b')' => {
                out.push((i, Tok::Close));
                i += 1;
            }
            b'"' => {
                let start = i;
                let mut s = String::new();
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(SyntaxError { at: start, what: "unterminated quote".into() }),
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        Some(b'\\') if matches!(b.get(i + 1), Some(b'"' | b'\\')) => {
                            s.push(b[i + 1] as char);
                            i += 2;
                        }
                        Some(_) => {
                            let ch = text[i..].chars().next().expect("a char");
                            s.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                out.push((start, Tok::Quoted(s)));
            }
            _ => {
                let start = i;
                // a word runs to a space or parenthesis; a quote right after an operator starts
                // the value
                while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'(' | b')') {
                    if b[i] == b'"' {
                        break;
                    }
                    i += 1;
                }
                out.push((start, Tok::Word(text[start..i].to_string())));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    now_ms: Option<u64>,
}

/// Parses a filter. The empty text is [`Filter::All`]. Ages (`time>=2h`) are an error: they
/// need the time now ([`parse_at`]).
pub fn parse(text: &str) -> Result<Filter, SyntaxError> {
    parse_with(text, None)
}

/// Parses a filter whose times may be ages before `now_ms`.
pub fn parse_at(text: &str, now_ms: u64) -> Result<Filter, SyntaxError> {
    parse_with(text, Some(now_ms))
}

fn parse_with(text: &str, now_ms: Option<u64>) -> Result<Filter, SyntaxError> {
    let toks = tokens(text)?;
    if toks.is_empty() {
        return Ok(Filter::All);
    }
    let mut p = Parser { toks, pos: 0, end: text.len(), now_ms };
    let f = p.or()?;
    if let Some((at, t)) = p.toks.get(p.pos) {
        return Err(SyntaxError { at: *at, what: format!("unexpected {t:?}") });
    }
    Ok(f)
}

impl Parser {
    fn peek_word(&self, w: &str) -> bool {
        matches!(self.toks.get(self.pos), Some((_, Tok::Word(x))) if x == w)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.0)
    }

    fn or(&mut self) -> Result<Filter, SyntaxError> {
        let mut parts = vec![self.and()?];
        while self.peek_word("or") {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.pop().expect("one") } else { Filter::Or(parts) })
    }

    fn and(&mut self) -> Result<Filter, SyntaxError> {
        let mut parts = vec![self.unary()?];
        loop {
            if self.peek_word("and") {
                self.pos += 1;
            } else if self.pos >= self.toks.len() || self.peek_word("or") || matches!(self.toks[self.pos].1, Tok::Close) {
                break;
            }
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 { parts.pop().expect("one") } else { Filter::And(parts) })
    }

    fn unary(&mut self) -> Result<Filter, SyntaxError> {
        let at = self.at();
        match self.toks.get(self.pos).cloned() {
            None => Err(SyntaxError { at, what: "expected a comparison".into() }),
            Some((_, Tok::Word(w))) if w == "not" => {
                self.pos += 1;
                Ok(Filter::Not(Box::new(self.unary()?)))
            }
            Some((_, Tok::Open)) => {
                self.pos += 1;
                let f = self.or()?;
                match self.toks.get(self.pos) {
                    Some((_, Tok::Close)) => {
                        self.pos += 1;
                        Ok(f)
                    }
                    _ => Err(SyntaxError { at: self.at(), what: "expected )".into() }),
                }
            }
            Some((_, Tok::Word(w))) => {
                self.pos += 1;
                self.comparison(at, &w)
            }
            Some((_, t)) => Err(SyntaxError { at, what: format!("unexpected {t:?}") }),
        }
    }

    fn comparison(&mut self, at: usize, word: &str) -> Result<Filter, SyntaxError> {
        let (name, op, rest) = ["!=", "^=", "<=", ">=", "=", "~", "<", ">"]
            .iter()
            .filter_map(|op| word.find(op).map(|i| (i, *op)))
            .min_by_key(|&(i, op)| (i, std::cmp::Reverse(op.len())))
            .map(|(i, op)| (&word[..i], op, &word[i + op.len()..]))
            .ok_or_else(|| SyntaxError {
                at,
                what: format!("expected a comparison such as FIELD=VALUE, FIELD^=PREFIX, FIELD~TEXT or FIELD>=NUMBER, found {word:?}"),
            })?;
        let field = Field::from_name(name).ok_or_else(|| SyntaxError { at, what: format!("unknown field {name:?}") })?;
        let value = if rest.is_empty() {
            match self.toks.get(self.pos).cloned() {
                Some((_, Tok::Quoted(q))) => {
                    self.pos += 1;
                    q
                }
                _ => return Err(SyntaxError { at, what: format!("{name}{op} needs a value") }),
            }
        } else {
            rest.to_string()
        };
        let value_at = at + name.len() + op.len();
        let f = match op {
            "^=" | "~" => {
                if !matches!(field.kind(), FieldKind::Text | FieldKind::TextList) {
                    return Err(SyntaxError { at, what: format!("{name} is not a text field: {op} does not apply") });
                }
                if op == "^=" {
                    Filter::Prefix(field, value.into_bytes())
                } else {
                    Filter::Contains(field, value.into_bytes())
                }
            }
            "<" | "<=" | ">" | ">=" => {
                if !matches!(field.kind(), FieldKind::Number | FieldKind::Signed | FieldKind::Time) {
                    return Err(SyntaxError { at, what: format!("{name} is not a number or time field: {op} does not apply") });
                }
                let Value::Number(n) = typed(field, &value, self.now_ms).map_err(|what| SyntaxError { at: value_at, what })? else {
                    unreachable!("number and time fields take numbers")
                };
                let cmp = match op {
                    "<" => Cmp::Lt,
                    "<=" => Cmp::Le,
                    ">" => Cmp::Gt,
                    _ => Cmp::Ge,
                };
                Filter::Cmp(field, cmp, n)
            }
            _ => {
                let v = typed(field, &value, self.now_ms).map_err(|what| SyntaxError { at: value_at, what })?;
                let eq = Filter::Eq(field, v);
                if op == "!=" {
                    Filter::Not(Box::new(eq))
                } else {
                    eq
                }
            }
        };
        Ok(f)
    }
}

fn typed(field: Field, v: &str, now_ms: Option<u64>) -> Result<Value, String> {
    match field.kind() {
        FieldKind::Number if field == Field::Serial => {
            v.parse::<u64>().ok().and_then(|n| i64::try_from(n).ok()).map(Value::Number).ok_or_else(|| format!("serial takes a number, not {v:?}"))
        }
        FieldKind::Time => parse_time(v, now_ms).map(|ms| Value::Number(ms as i64)),
        FieldKind::Number => v.parse::<u32>().map(|n| Value::Number(i64::from(n))).map_err(|_| format!("{} takes a number, not {v:?}", field.as_str())),
        FieldKind::Signed => v.parse::<i64>().map(Value::Number).map_err(|_| format!("{} takes a number, not {v:?}", field.as_str())),
        FieldKind::Bool => match v {
            "yes" | "true" => Ok(Value::Bool(true)),
            "no" | "false" => Ok(Value::Bool(false)),
            _ => Err(format!("{} takes yes or no, not {v:?}", field.as_str())),
        },
        FieldKind::Text | FieldKind::TextList => Ok(Value::Text(v.as_bytes().to_vec())),
    }
}

/// Parses a time (see the module documentation) into milliseconds since the epoch; an age
/// (`2h`) needs `now_ms`. The CLI's `--since`/`--until` read times with this too.
pub fn parse_time(text: &str, now_ms: Option<u64>) -> Result<u64, String> {
    let bad = || format!("time takes 2026-11-21T10:00:00Z, 2026-11-21, epoch milliseconds or an age such as 2h, not {text:?}");
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if digits(text) {
        return text.parse().map_err(|_| bad());
    }
    if let Some(unit) = text.strip_prefix(|c: char| c.is_ascii_digit()).map(|_| text.trim_start_matches(|c: char| c.is_ascii_digit())) {
        let scale = match unit {
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => 0,
        };
        if scale > 0 {
            let n: u64 = text[..text.len() - unit.len()].parse().map_err(|_| bad())?;
            let Some(now) = now_ms else { return Err(format!("the age {text:?} needs the time now; give a date or time")) };
            return Ok(now.saturating_sub(n.saturating_mul(scale)));
        }
    }
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<u64, String> { text.get(r).filter(|s| digits(s)).and_then(|s| s.parse().ok()).ok_or_else(bad) };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || y < 1970 {
        return Err(bad());
    }
    // days from 1970-01-01 (Hinnant's days-from-civil)
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let (era, yoe) = (y / 400, y % 400);
    let doy = (153 * m + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut ms = days * 86_400_000;
    if b.len() == 10 {
        return Ok(ms);
    }
    if b.len() < 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' || !text.ends_with('Z') {
        return Err(bad());
    }
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || mi > 59 || s > 60 {
        return Err(bad());
    }
    ms += (h * 3600 + mi * 60 + s) * 1000;
    match &text[19..] {
        "Z" => Ok(ms),
        frac if frac.len() == 5 && frac.starts_with('.') => Ok(ms + num(20..23)?),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: Field, v: &str) -> Filter {
        Filter::Eq(f, Value::Text(v.into()))
    }

    #[test]
    fn the_documented_examples_parse() {
        assert_eq!(
            parse("exe=/usr/bin/sudo and success=no").unwrap(),
            Filter::And(vec![text(Field::Exe, "/usr/bin/sudo"), Filter::Eq(Field::Success, Value::Bool(false))])
        );
        assert_eq!(
            parse("path^=/etc/ and not uid=0").unwrap(),
            Filter::And(vec![Filter::Prefix(Field::Path, b"/etc/".to_vec()), Filter::Not(Box::new(Filter::Eq(Field::Uid, Value::Number(0))))])
        );
        assert_eq!(
            parse("argv~curl or (syscall=connect port=443)").unwrap(),
            Filter::Or(vec![
                Filter::Contains(Field::Argv, b"curl".to_vec()),
                Filter::And(vec![text(Field::Syscall, "connect"), Filter::Eq(Field::Port, Value::Number(443))])
            ])
        );
        assert_eq!(
            parse(r#"key="my \"k\"" exit=-13 cmdline~a"#).unwrap(),
            Filter::And(vec![text(Field::Key, "my \"k\""), Filter::Eq(Field::Exit, Value::Number(-13)), Filter::Contains(Field::Argv, b"a".to_vec())])
        );
        assert_eq!(parse("comm!=sh").unwrap(), Filter::Not(Box::new(text(Field::Comm, "sh"))));
        assert_eq!(parse("").unwrap(), Filter::All);
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(parse("exe=/bin/ls and").unwrap_err(), SyntaxError { at: 15, what: "expected a comparison".into() });
        assert_eq!(parse("color=red").unwrap_err(), SyntaxError { at: 0, what: "unknown field \"color\"".into() });
        assert_eq!(parse("pid=x").unwrap_err(), SyntaxError { at: 4, what: "pid takes a number, not \"x\"".into() });
        assert_eq!(parse("uid^=1").unwrap_err().what, "uid is not a text field: ^= does not apply");
        assert_eq!(parse("(exe=a").unwrap_err(), SyntaxError { at: 6, what: "expected )".into() });
        assert_eq!(parse("key=\"a").unwrap_err(), SyntaxError { at: 4, what: "unterminated quote".into() });
        assert_eq!(parse("sudo").unwrap_err().at, 0);
    }

    #[test]
    fn ranges_on_numbers_and_times() {
        assert_eq!(
            parse("time>=2026-11-21T10:00:00Z time<2026-11-21T10:00:01.250Z").unwrap(),
            Filter::And(vec![Filter::Cmp(Field::Time, Cmp::Ge, 1_795_255_200_000), Filter::Cmp(Field::Time, Cmp::Lt, 1_795_255_201_250)])
        );
        assert_eq!(parse("time>2026-11-21").unwrap(), Filter::Cmp(Field::Time, Cmp::Gt, 1_795_219_200_000));
        assert_eq!(parse("time<=1795255200000").unwrap(), Filter::Cmp(Field::Time, Cmp::Le, 1_795_255_200_000));
        assert_eq!(parse_at("time>=2h", 1_795_255_200_000).unwrap(), Filter::Cmp(Field::Time, Cmp::Ge, 1_795_248_000_000));
        assert_eq!(parse("uid>=1000 exit<0").unwrap(), Filter::And(vec![Filter::Cmp(Field::Uid, Cmp::Ge, 1000), Filter::Cmp(Field::Exit, Cmp::Lt, 0)]));
        assert_eq!(parse("serial>4294967296").unwrap(), Filter::Cmp(Field::Serial, Cmp::Gt, 4_294_967_296));
        assert_eq!(
            parse("port<=1024 pid!=1").unwrap(),
            Filter::And(vec![Filter::Cmp(Field::Port, Cmp::Le, 1024), Filter::Not(Box::new(Filter::Eq(Field::Pid, Value::Number(1))))])
        );
        assert_eq!(parse("serial=42").unwrap(), Filter::Eq(Field::Serial, Value::Number(42)));
        assert_eq!(parse(r#"ppid>"7""#).unwrap(), Filter::Cmp(Field::Ppid, Cmp::Gt, 7));
    }

    #[test]
    fn range_errors_say_where_and_why() {
        assert_eq!(parse("exe<5").unwrap_err(), SyntaxError { at: 0, what: "exe is not a number or time field: < does not apply".into() });
        assert_eq!(parse("success>=yes").unwrap_err(), SyntaxError { at: 0, what: "success is not a number or time field: >= does not apply".into() });
        assert_eq!(parse("a=1 pid>x").unwrap_err(), SyntaxError { at: 0, what: "unknown field \"a\"".into() });
        assert_eq!(parse("uid=0 pid>x").unwrap_err(), SyntaxError { at: 10, what: "pid takes a number, not \"x\"".into() });
        assert_eq!(parse("uid<-1").unwrap_err(), SyntaxError { at: 4, what: "uid takes a number, not \"-1\"".into() });
        assert_eq!(
            parse("time>=yesterday").unwrap_err(),
            SyntaxError { at: 6, what: "time takes 2026-11-21T10:00:00Z, 2026-11-21, epoch milliseconds or an age such as 2h, not \"yesterday\"".into() }
        );
        assert_eq!(
            parse("time<2026-13-01").unwrap_err().what,
            "time takes 2026-11-21T10:00:00Z, 2026-11-21, epoch milliseconds or an age such as 2h, not \"2026-13-01\""
        );
        assert_eq!(parse("time<2026-11-21T10:00:00").unwrap_err().at, 5);
        assert_eq!(parse("time>=2h").unwrap_err(), SyntaxError { at: 6, what: "the age \"2h\" needs the time now; give a date or time".into() });
        assert_eq!(parse("pid<").unwrap_err(), SyntaxError { at: 0, what: "pid< needs a value".into() });
    }
}
