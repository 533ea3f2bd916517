//! The text filter language of `auditmesh search`:
//!
//! ```text
//! exe=/usr/bin/sudo and success=no
//! path^=/etc/ and not uid=0
//! argv~curl or (syscall=connect port=443)
//! key="my key" exit=-13 type=EXECVE
//! ```
//!
//! - Comparisons: `FIELD=VALUE` (equal), `FIELD!=VALUE` (not equal), `FIELD^=PREFIX` (starts
//!   with), `FIELD~TEXT` (contains). Fields: node pid ppid uid auid euid syscall success exit exe
//!   comm key type path cwd argv (or cmdline) addr port container.
//! - `and`, `or`, `not`, parentheses; two comparisons side by side mean `and`; `and` binds tighter
//!   than `or`.
//! - Values: a bare word (up to a space or parenthesis) or a double-quoted string with `\"` and
//!   `\\`. `success` takes yes/no/true/false; numbers are decimal (`exit` may be negative).
//!
//! Pure: text in, a [`Filter`] or an error with its byte offset out.

use crate::query::{Field, FieldKind, Filter, Value};

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
                        None => {
                            return Err(SyntaxError {
                                at: start,
                                what: "unterminated quote".into(),
                            })
                        }
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
}

/// Parses a filter. The empty text is [`Filter::All`].
pub fn parse(text: &str) -> Result<Filter, SyntaxError> {
    let toks = tokens(text)?;
    if toks.is_empty() {
        return Ok(Filter::All);
    }
    let mut p = Parser {
        toks,
        pos: 0,
        end: text.len(),
    };
    let f = p.or()?;
    if let Some((at, t)) = p.toks.get(p.pos) {
        return Err(SyntaxError {
            at: *at,
            what: format!("unexpected {t:?}"),
        });
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
        Ok(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            Filter::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Filter, SyntaxError> {
        let mut parts = vec![self.unary()?];
        loop {
            if self.peek_word("and") {
                self.pos += 1;
            } else if self.pos >= self.toks.len()
                || self.peek_word("or")
                || matches!(self.toks[self.pos].1, Tok::Close)
            {
                break;
            }
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one")
        } else {
            Filter::And(parts)
        })
    }

    fn unary(&mut self) -> Result<Filter, SyntaxError> {
        let at = self.at();
        match self.toks.get(self.pos).cloned() {
            None => Err(SyntaxError {
                at,
                what: "expected a comparison".into(),
            }),
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
                    _ => Err(SyntaxError {
                        at: self.at(),
                        what: "expected )".into(),
                    }),
                }
            }
            Some((_, Tok::Word(w))) => {
                self.pos += 1;
                self.comparison(at, &w)
            }
            Some((_, t)) => Err(SyntaxError {
                at,
                what: format!("unexpected {t:?}"),
            }),
        }
    }

    fn comparison(&mut self, at: usize, word: &str) -> Result<Filter, SyntaxError> {
        let (name, op, rest) = ["!=", "^=", "=", "~"]
            .iter()
            .filter_map(|op| word.find(op).map(|i| (i, *op)))
            .min_by_key(|&(i, op)| (i, std::cmp::Reverse(op.len())))
            .map(|(i, op)| (&word[..i], op, &word[i + op.len()..]))
            .ok_or_else(|| SyntaxError { at, what: format!("expected FIELD=VALUE, FIELD!=VALUE, FIELD^=PREFIX or FIELD~TEXT, found {word:?}") })?;
        let field = Field::from_name(name).ok_or_else(|| SyntaxError {
            at,
            what: format!("unknown field {name:?}"),
        })?;
        let value = if rest.is_empty() {
            match self.toks.get(self.pos).cloned() {
                Some((_, Tok::Quoted(q))) => {
                    self.pos += 1;
                    q
                }
                _ => {
                    return Err(SyntaxError {
                        at,
                        what: format!("{name}{op} needs a value"),
                    })
                }
            }
        } else {
            rest.to_string()
        };
        let value_at = at + name.len() + op.len();
        let f = match op {
            "^=" | "~" => {
                if !matches!(field.kind(), FieldKind::Text | FieldKind::TextList) {
                    return Err(SyntaxError {
                        at,
                        what: format!("{name} is not a text field: {op} does not apply"),
                    });
                }
                if op == "^=" {
                    Filter::Prefix(field, value.into_bytes())
                } else {
                    Filter::Contains(field, value.into_bytes())
                }
            }
            _ => {
                let v = typed(field, &value).map_err(|what| SyntaxError { at: value_at, what })?;
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

fn typed(field: Field, v: &str) -> Result<Value, String> {
    match field.kind() {
        FieldKind::Number => v
            .parse::<u32>()
            .map(|n| Value::Number(i64::from(n)))
            .map_err(|_| format!("{} takes a number, not {v:?}", field.as_str())),
        FieldKind::Signed => v
            .parse::<i64>()
            .map(Value::Number)
            .map_err(|_| format!("{} takes a number, not {v:?}", field.as_str())),
        FieldKind::Bool => match v {
            "yes" | "true" => Ok(Value::Bool(true)),
            "no" | "false" => Ok(Value::Bool(false)),
            _ => Err(format!("{} takes yes or no, not {v:?}", field.as_str())),
        },
        FieldKind::Text | FieldKind::TextList => Ok(Value::Text(v.as_bytes().to_vec())),
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
            Filter::And(vec![
                text(Field::Exe, "/usr/bin/sudo"),
                Filter::Eq(Field::Success, Value::Bool(false))
            ])
        );
        assert_eq!(
            parse("path^=/etc/ and not uid=0").unwrap(),
            Filter::And(vec![
                Filter::Prefix(Field::Path, b"/etc/".to_vec()),
                Filter::Not(Box::new(Filter::Eq(Field::Uid, Value::Number(0))))
            ])
        );
        assert_eq!(
            parse("argv~curl or (syscall=connect port=443)").unwrap(),
            Filter::Or(vec![
                Filter::Contains(Field::Argv, b"curl".to_vec()),
                Filter::And(vec![
                    text(Field::Syscall, "connect"),
                    Filter::Eq(Field::Port, Value::Number(443))
                ])
            ])
        );
        assert_eq!(
            parse(r#"key="my \"k\"" exit=-13 cmdline~a"#).unwrap(),
            Filter::And(vec![
                text(Field::Key, "my \"k\""),
                Filter::Eq(Field::Exit, Value::Number(-13)),
                Filter::Contains(Field::Argv, b"a".to_vec())
            ])
        );
        assert_eq!(
            parse("comm!=sh").unwrap(),
            Filter::Not(Box::new(text(Field::Comm, "sh")))
        );
        assert_eq!(parse("").unwrap(), Filter::All);
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(
            parse("exe=/bin/ls and").unwrap_err(),
            SyntaxError {
                at: 15,
                what: "expected a comparison".into()
            }
        );
        assert_eq!(
            parse("color=red").unwrap_err(),
            SyntaxError {
                at: 0,
                what: "unknown field \"color\"".into()
            }
        );
        assert_eq!(
            parse("pid=x").unwrap_err(),
            SyntaxError {
                at: 4,
                what: "pid takes a number, not \"x\"".into()
            }
        );
        assert_eq!(
            parse("uid^=1").unwrap_err().what,
            "uid is not a text field: ^= does not apply"
        );
        assert_eq!(
            parse("(exe=a").unwrap_err(),
            SyntaxError {
                at: 6,
                what: "expected )".into()
            }
        );
        assert_eq!(
            parse("key=\"a").unwrap_err(),
            SyntaxError {
                at: 4,
                what: "unterminated quote".into()
            }
        );
        assert_eq!(parse("sudo").unwrap_err().at, 0);
    }
}
