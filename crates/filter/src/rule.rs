//! Rules and their text syntax: what a [`FilterSet`] keeps and drops.
//!
//! This module only describes rules and parses them; matching them against events is in the
//! `view` module and deciding (with the lineage exception) in [`crate::Filter`].
//!
//! # Rule syntax
//!
//! One rule is an action followed by matchers, separated by spaces or tabs:
//!
//! ```text
//! drop key=noisy exe^=/usr/lib/ syscall=openat success=no
//! keep uid=0
//! drop
//! ```
//!
//! ```text
//! rule    = action *( 1*WSP matcher )
//! action  = "keep" / "drop"
//! matcher = field ( "=" / "^=" ) value        ; "=" exact, "^=" byte prefix
//! value   = bare / quoted
//! bare    = 1*( any character but WSP and DQUOTE )
//! quoted  = DQUOTE *( character / "\\" / "\"" / "\x" 2HEXDIG ) DQUOTE
//! ```
//!
//! All matchers of a rule must match (a rule without matchers matches every event). Fields:
//!
//! | field     | ops       | matches when                                                      |
//! |-----------|-----------|-------------------------------------------------------------------|
//! | `key`     | `=` `^=`  | any rule key of the SYSCALL record (several keys are split)       |
//! | `type`    | `=`       | any record of the event has this type (`PATH`, `1302`, `UNKNOWN[1999]`) |
//! | `exe`     | `=` `^=`  | the SYSCALL record's `exe`, decoded, as bytes                     |
//! | `syscall` | `=`       | a name (`openat`: the event's syscall number named on its own `arch`) or a number (compared as is, whatever the arch) |
//! | `uid` `auid` `euid` | `=` | a decimal id, or `unset` (`4294967295` and `-1` also mean unset) |
//! | `path`    | `=` `^=`  | any PATH record's `name`, resolved as [`crate::Filter`] documents (relative names against CWD, lexically normalized) |
//! | `success` | `=`       | `yes` or `no`                                                     |
//!
//! Every field but `type` reads the event's SYSCALL record (and its CWD and PATH records): an
//! event without a SYSCALL record (a user-space message, CONFIG_CHANGE, …) never matches them.
//! A syscall name must be known on at least one architecture of `vocab`'s tables. Prefixes are
//! byte prefixes: `path^=/etc` also matches `/etcetera`; write `path^=/etc/` for a directory.
//!
//! A filter set ([`FilterSet::parse`]) is one rule per line; blank lines and lines starting with
//! `#` are skipped; one optional line `default keep` or `default drop` sets the action when no
//! rule matches (keep when absent).

use std::fmt;

use vocab::{Arch, RecordType};

/// What a rule does with the events it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Keep,
    Drop,
}

impl Action {
    /// Returns the keyword of the syntax (`keep`, `drop`), also the stable counter name part.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Keep => "keep",
            Action::Drop => "drop",
        }
    }
}

/// Exact or prefix comparison of bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Pattern {
    Exact(Vec<u8>),
    Prefix(Vec<u8>),
}

impl Pattern {
    /// Returns true if `bytes` equal (or start with) the pattern.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        match self {
            Pattern::Exact(p) => bytes == p.as_slice(),
            Pattern::Prefix(p) => bytes.starts_with(p),
        }
    }
}

/// A syscall, by name (resolved on each event's own architecture) or by number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyscallSel {
    Name(&'static str),
    Number(u32),
}

/// The id fields a rule can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdField {
    Uid,
    Auid,
    Euid,
}

impl IdField {
    /// Returns the field's name in the SYSCALL record.
    pub fn as_str(self) -> &'static str {
        match self {
            IdField::Uid => "uid",
            IdField::Auid => "auid",
            IdField::Euid => "euid",
        }
    }
}

/// An id value: a number, or unset (`4294967295`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IdValue {
    Unset,
    Is(u32),
}

/// One condition of a rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Matcher {
    Key(Pattern),
    RecordType(RecordType),
    Exe(Pattern),
    Syscall(SyscallSel),
    Id(IdField, IdValue),
    Path(Pattern),
    Success(bool),
}

impl Matcher {
    /// Returns true if the matcher reads the event's interpreted summary (keys, exe, ids,
    /// paths); the others read the records or a cheap scan of the SYSCALL record.
    pub fn needs_summary(&self) -> bool {
        matches!(
            self,
            Matcher::Key(_) | Matcher::Exe(_) | Matcher::Id(..) | Matcher::Path(_)
        )
    }
}

/// An action and the matchers that must all match for it to apply.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rule {
    pub action: Action,
    pub matchers: Vec<Matcher>,
}

/// An ordered list of rules: the first rule whose matchers all match decides; `default` applies
/// when none does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterSet {
    pub rules: Vec<Rule>,
    pub default: Action,
}

impl Default for FilterSet {
    /// Returns the empty set that keeps everything.
    fn default() -> FilterSet {
        FilterSet {
            rules: Vec::new(),
            default: Action::Keep,
        }
    }
}

/// A syntax error in one rule; `column` is the 1-based byte column of the offending token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("empty rule: expected `keep` or `drop`")]
    Empty,
    #[error("column {column}: unknown action `{token}`: expected `keep` or `drop`")]
    UnknownAction { column: usize, token: String },
    #[error("column {column}: `{token}` has no `=` or `^=`")]
    MissingOperator { column: usize, token: String },
    #[error("column {column}: unknown field `{token}`")]
    UnknownField { column: usize, token: String },
    #[error("column {column}: field `{field}` takes no prefix (`^=`)")]
    PrefixNotSupported { column: usize, field: &'static str },
    #[error("column {column}: field `{field}` has an empty value")]
    EmptyValue { column: usize, field: &'static str },
    #[error("column {column}: unterminated quoted value")]
    UnterminatedQuote { column: usize },
    #[error("column {column}: bad escape `{token}` in quoted value")]
    BadEscape { column: usize, token: String },
    #[error(
        "column {column}: unexpected `\"` (quote the whole value, and leave a space after it)"
    )]
    UnexpectedQuote { column: usize },
    #[error("column {column}: unknown syscall `{token}`")]
    UnknownSyscall { column: usize, token: String },
    #[error("column {column}: unknown record type `{token}`")]
    UnknownRecordType { column: usize, token: String },
    #[error("column {column}: bad id `{token}`: expected a decimal number or `unset`")]
    BadId { column: usize, token: String },
    #[error("column {column}: bad success value `{token}`: expected `yes` or `no`")]
    BadSuccess { column: usize, token: String },
    #[error("column {column}: unexpected `{token}` after `default keep|drop`")]
    UnexpectedToken { column: usize, token: String },
    #[error("column {column}: a second `default` line")]
    DuplicateDefault { column: usize },
}

/// A syntax error in a filter set: the 1-based line and the rule's error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct SetError {
    pub line: usize,
    pub error: RuleError,
}

impl std::str::FromStr for Rule {
    type Err = RuleError;

    fn from_str(s: &str) -> Result<Rule, RuleError> {
        Rule::parse(s)
    }
}

impl Rule {
    /// Parses one rule in the syntax of the [module documentation](self).
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let mut lexer = Lexer {
            text: text.as_bytes(),
            pos: 0,
        };
        let (column, word) = lexer.word().ok_or(RuleError::Empty)?;
        let action = action(column, word)?;
        let mut matchers = Vec::new();
        while let Some(m) = lexer.matcher()? {
            matchers.push(m);
        }
        Ok(Rule { action, matchers })
    }
}

impl FilterSet {
    /// Parses a filter set: one rule per line, `#` comments, blank lines, and at most one
    /// `default keep|drop` line.
    pub fn parse(text: &str) -> Result<FilterSet, SetError> {
        let mut set = FilterSet::default();
        let mut default_seen = false;
        for (i, line) in text.lines().enumerate() {
            let at = |error| SetError { line: i + 1, error };
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let mut lexer = Lexer {
                text: line.as_bytes(),
                pos: 0,
            };
            if let Some((column, b"default")) = lexer.word() {
                if default_seen {
                    return Err(at(RuleError::DuplicateDefault { column }));
                }
                default_seen = true;
                let (column, word) = lexer.word().ok_or(at(RuleError::Empty))?;
                set.default = action(column, word).map_err(at)?;
                if let Some((column, extra)) = lexer.word() {
                    return Err(at(RuleError::UnexpectedToken {
                        column,
                        token: lossy(extra),
                    }));
                }
                continue;
            }
            set.rules.push(Rule::parse(line).map_err(at)?);
        }
        Ok(set)
    }

    /// Returns true if some rule reads the interpreted summary.
    pub fn needs_summary(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.matchers.iter().any(Matcher::needs_summary))
    }
}

fn action(column: usize, word: &[u8]) -> Result<Action, RuleError> {
    match word {
        b"keep" => Ok(Action::Keep),
        b"drop" => Ok(Action::Drop),
        _ => Err(RuleError::UnknownAction {
            column,
            token: lossy(word),
        }),
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

struct Lexer<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn skip_space(&mut self) {
        while self.text.get(self.pos).is_some_and(|&b| is_space(b)) {
            self.pos += 1;
        }
    }

    /// The next whitespace-separated word and its 1-based column.
    fn word(&mut self) -> Option<(usize, &'a [u8])> {
        self.skip_space();
        let start = self.pos;
        while self.text.get(self.pos).is_some_and(|&b| !is_space(b)) {
            self.pos += 1;
        }
        (self.pos > start).then(|| (start + 1, &self.text[start..self.pos]))
    }

    fn matcher(&mut self) -> Result<Option<Matcher>, RuleError> {
        self.skip_space();
        let start = self.pos;
        if start >= self.text.len() {
            return Ok(None);
        }
        let column = start + 1;
        while self
            .text
            .get(self.pos)
            .is_some_and(|&b| !is_space(b) && b != b'=' && b != b'^' && b != b'"')
        {
            self.pos += 1;
        }
        let name = &self.text[start..self.pos];
        let prefix = match &self.text[self.pos..] {
            [b'^', b'=', ..] => {
                self.pos += 2;
                true
            }
            [b'=', ..] => {
                self.pos += 1;
                false
            }
            _ => {
                let mut end = self.pos;
                while self.text.get(end).is_some_and(|&b| !is_space(b)) {
                    end += 1;
                }
                return Err(RuleError::MissingOperator {
                    column,
                    token: lossy(&self.text[start..end]),
                });
            }
        };
        let field: &'static str = match name {
            b"key" => "key",
            b"type" => "type",
            b"exe" => "exe",
            b"syscall" => "syscall",
            b"uid" => "uid",
            b"auid" => "auid",
            b"euid" => "euid",
            b"path" => "path",
            b"success" => "success",
            _ => {
                return Err(RuleError::UnknownField {
                    column,
                    token: lossy(name),
                })
            }
        };
        let value_column = self.pos + 1;
        let value = self.value()?;
        if value.is_empty() {
            return Err(RuleError::EmptyValue {
                column: value_column,
                field,
            });
        }
        let pattern = || {
            if prefix {
                Pattern::Prefix(value.clone())
            } else {
                Pattern::Exact(value.clone())
            }
        };
        let exact_only = || {
            if prefix {
                Err(RuleError::PrefixNotSupported { column, field })
            } else {
                Ok(())
            }
        };
        let token = || lossy(&value);
        let m = match field {
            "key" => Matcher::Key(pattern()),
            "exe" => Matcher::Exe(pattern()),
            "path" => Matcher::Path(pattern()),
            "type" => {
                exact_only()?;
                let rt = vocab::parse_u32(&value)
                    .map(RecordType)
                    .or_else(|| RecordType::from_name(&value));
                Matcher::RecordType(rt.ok_or_else(|| RuleError::UnknownRecordType {
                    column: value_column,
                    token: token(),
                })?)
            }
            "syscall" => {
                exact_only()?;
                let sel = match vocab::parse_u32(&value) {
                    Some(n) => SyscallSel::Number(n),
                    None => SyscallSel::Name(syscall_name(&value).ok_or_else(|| {
                        RuleError::UnknownSyscall {
                            column: value_column,
                            token: token(),
                        }
                    })?),
                };
                Matcher::Syscall(sel)
            }
            "uid" | "auid" | "euid" => {
                exact_only()?;
                let id_field = match field {
                    "uid" => IdField::Uid,
                    "auid" => IdField::Auid,
                    _ => IdField::Euid,
                };
                let id = match value.as_slice() {
                    b"unset" | b"-1" | b"4294967295" => IdValue::Unset,
                    v => IdValue::Is(vocab::parse_u32(v).ok_or_else(|| RuleError::BadId {
                        column: value_column,
                        token: token(),
                    })?),
                };
                Matcher::Id(id_field, id)
            }
            _ => {
                exact_only()?;
                match value.as_slice() {
                    b"yes" => Matcher::Success(true),
                    b"no" => Matcher::Success(false),
                    _ => {
                        return Err(RuleError::BadSuccess {
                            column: value_column,
                            token: token(),
                        })
                    }
                }
            }
        };
        Ok(Some(m))
    }

    /// A bare or quoted value; the position is just after it.
    fn value(&mut self) -> Result<Vec<u8>, RuleError> {
        let start = self.pos;
        let mut out = Vec::new();
        if self.text.get(start) != Some(&b'"') {
            while let Some(&b) = self.text.get(self.pos) {
                if is_space(b) {
                    break;
                }
                if b == b'"' {
                    return Err(RuleError::UnexpectedQuote {
                        column: self.pos + 1,
                    });
                }
                out.push(b);
                self.pos += 1;
            }
            return Ok(out);
        }
        self.pos += 1;
        loop {
            match self.text.get(self.pos) {
                None => return Err(RuleError::UnterminatedQuote { column: start + 1 }),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    let esc = self.pos;
                    let rest = &self.text[esc + 1..];
                    let (byte, len) = match rest {
                        [b'\\', ..] => (b'\\', 2),
                        [b'"', ..] => (b'"', 2),
                        [b'x', h, l, ..] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                            let hex = [*h, *l];
                            let s = std::str::from_utf8(&hex).unwrap_or("00");
                            (u8::from_str_radix(s, 16).unwrap_or(0), 4)
                        }
                        _ => {
                            let end = (esc + 4).min(self.text.len());
                            let end = (esc + 1..end)
                                .find(|&i| is_space(self.text[i]) || self.text[i] == b'"')
                                .unwrap_or(end);
                            return Err(RuleError::BadEscape {
                                column: esc + 1,
                                token: lossy(&self.text[esc..end]),
                            });
                        }
                    };
                    out.push(byte);
                    self.pos += len;
                }
                Some(&b) => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
        if self.text.get(self.pos).is_some_and(|&b| !is_space(b)) {
            return Err(RuleError::UnexpectedQuote {
                column: self.pos + 1,
            });
        }
        Ok(out)
    }
}

/// Returns the table's name for a syscall known on some architecture of `vocab`'s tables.
fn syscall_name(name: &[u8]) -> Option<&'static str> {
    const ARCHES: [Arch; 7] = [
        Arch::X86_64,
        Arch::I386,
        Arch::AARCH64,
        Arch::ARM,
        Arch::PPC64LE,
        Arch::S390X,
        Arch::RISCV64,
    ];
    // Dense tables stay under 1024 on every architecture; ARM's private calls start at 0xf0000.
    let numbers = (0..1024).chain(0xf_0000..0xf_0010);
    for nr in numbers {
        for arch in ARCHES {
            if let Some(n) = arch.syscall_name(nr) {
                if n.as_bytes() == name {
                    return Some(n);
                }
            }
        }
    }
    None
}

impl fmt::Display for Rule {
    /// Writes the rule in the syntax [`Rule::parse`] reads (values quoted when needed).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.action.as_str())?;
        for m in &self.matchers {
            f.write_str(" ")?;
            let pattern = |f: &mut fmt::Formatter<'_>, name: &str, p: &Pattern| {
                let (op, v) = match p {
                    Pattern::Exact(v) => ("=", v),
                    Pattern::Prefix(v) => ("^=", v),
                };
                write!(f, "{name}{op}")?;
                write_value(f, v)
            };
            match m {
                Matcher::Key(p) => pattern(f, "key", p)?,
                Matcher::Exe(p) => pattern(f, "exe", p)?,
                Matcher::Path(p) => pattern(f, "path", p)?,
                Matcher::RecordType(rt) => match rt.name() {
                    Some(n) => write!(f, "type={n}")?,
                    None => write!(f, "type={}", rt.0)?,
                },
                Matcher::Syscall(SyscallSel::Name(n)) => write!(f, "syscall={n}")?,
                Matcher::Syscall(SyscallSel::Number(n)) => write!(f, "syscall={n}")?,
                Matcher::Id(field, IdValue::Unset) => write!(f, "{}=unset", field.as_str())?,
                Matcher::Id(field, IdValue::Is(n)) => write!(f, "{}={n}", field.as_str())?,
                Matcher::Success(b) => {
                    f.write_str(if *b { "success=yes" } else { "success=no" })?
                }
            }
        }
        Ok(())
    }
}

fn write_value(f: &mut fmt::Formatter<'_>, v: &[u8]) -> fmt::Result {
    let bare = v
        .iter()
        .all(|&b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    if bare {
        return f.write_str(std::str::from_utf8(v).map_err(|_| fmt::Error)?);
    }
    f.write_str("\"")?;
    for &b in v {
        match b {
            b'"' => f.write_str("\\\"")?,
            b'\\' => f.write_str("\\\\")?,
            b' ' => f.write_str(" ")?,
            b if b.is_ascii_graphic() => write!(f, "{}", b as char)?,
            b => write!(f, "\\x{b:02x}")?,
        }
    }
    f.write_str("\"")
}
