//! Typed queries: the fields events can be filtered and grouped on, filters over them, time
//! ranges, and the shapes of aggregation answers. Every backend (the embedded columnar store,
//! later ClickHouse) answers these same types.

/// A field of a stored event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Node,
    Pid,
    Ppid,
    Uid,
    Auid,
    Euid,
    Syscall,
    Success,
    Exit,
    Exe,
    Comm,
    /// Any of the rule keys.
    Key,
    /// Any of the record types.
    Type,
    /// Any of the PATH names.
    Path,
    Cwd,
    /// The command line (EXECVE arguments, else PROCTITLE), space-joined.
    Argv,
    /// The socket address (SOCKADDR).
    Addr,
    Port,
    Container,
    /// The event's serial number.
    Serial,
    /// The event's time, milliseconds since the Unix epoch.
    Time,
}

/// What kind of values a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// Unsigned ids and ports.
    Number,
    /// The syscall's return value.
    Signed,
    Bool,
    /// One byte string (or none).
    Text,
    /// Several byte strings.
    TextList,
    /// Milliseconds since the Unix epoch.
    Time,
}

impl Field {
    pub const ALL: [Field; 19] = [
        Field::Node,
        Field::Pid,
        Field::Ppid,
        Field::Uid,
        Field::Auid,
        Field::Euid,
        Field::Syscall,
        Field::Success,
        Field::Exit,
        Field::Exe,
        Field::Comm,
        Field::Key,
        Field::Type,
        Field::Path,
        Field::Cwd,
        Field::Argv,
        Field::Addr,
        Field::Port,
        Field::Container,
    ];

    /// Every field: the event's own ([`Field::ALL`]), then serial and time.
    pub const EVERY: [Field; 21] = {
        let mut every = [Field::Serial; 21];
        let mut i = 0;
        while i < Field::ALL.len() {
            every[i] = Field::ALL[i];
            i += 1;
        }
        every[20] = Field::Time;
        every
    };

    /// Returns the stable name used by the filter language and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Node => "node",
            Field::Pid => "pid",
            Field::Ppid => "ppid",
            Field::Uid => "uid",
            Field::Auid => "auid",
            Field::Euid => "euid",
            Field::Syscall => "syscall",
            Field::Success => "success",
            Field::Exit => "exit",
            Field::Exe => "exe",
            Field::Comm => "comm",
            Field::Key => "key",
            Field::Type => "type",
            Field::Path => "path",
            Field::Cwd => "cwd",
            Field::Argv => "argv",
            Field::Addr => "addr",
            Field::Port => "port",
            Field::Container => "container",
            Field::Serial => "serial",
            Field::Time => "time",
        }
    }

    /// Finds a field by its name; `cmdline` is another name for `argv`.
    pub fn from_name(name: &str) -> Option<Field> {
        if name == "cmdline" {
            return Some(Field::Argv);
        }
        Field::EVERY.into_iter().find(|f| f.as_str() == name)
    }

    pub fn kind(self) -> FieldKind {
        match self {
            Field::Pid | Field::Ppid | Field::Uid | Field::Auid | Field::Euid | Field::Port | Field::Serial => FieldKind::Number,
            Field::Time => FieldKind::Time,
            Field::Exit => FieldKind::Signed,
            Field::Success => FieldKind::Bool,
            Field::Key | Field::Type | Field::Path => FieldKind::TextList,
            Field::Node | Field::Syscall | Field::Exe | Field::Comm | Field::Cwd | Field::Argv | Field::Addr | Field::Container => FieldKind::Text,
        }
    }
}

/// A value to compare a field with.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    Number(i64),
    Bool(bool),
    Text(Vec<u8>),
}

/// An order comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    /// Returns whether `a OP b`.
    pub fn holds(self, a: i64, b: i64) -> bool {
        match self {
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }
}

/// A filter over events. Text comparisons are on bytes; a list field matches when any element
/// does; a field an event lacks matches no comparison (and so matches its negation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    All,
    Eq(Field, Value),
    /// A text field starts with these bytes.
    Prefix(Field, Vec<u8>),
    /// A text field contains these bytes.
    Contains(Field, Vec<u8>),
    /// A number or time field compared with a number (milliseconds for time).
    Cmp(Field, Cmp, i64),
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
}

impl Filter {
    /// Checks that every comparison suits its field's kind; returns the first that does not.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Filter::All => Ok(()),
            Filter::Eq(f, v) => match (f.kind(), v) {
                (FieldKind::Number, Value::Number(n)) if *n >= 0 => Ok(()),
                (FieldKind::Signed, Value::Number(_)) | (FieldKind::Bool, Value::Bool(_)) => Ok(()),
                (FieldKind::Time, Value::Number(n)) if *n >= 0 => Ok(()),
                (FieldKind::Text | FieldKind::TextList, Value::Text(_)) => Ok(()),
                _ => Err(format!("{} cannot equal {v:?}", f.as_str())),
            },
            Filter::Prefix(f, _) | Filter::Contains(f, _) => match f.kind() {
                FieldKind::Text | FieldKind::TextList => Ok(()),
                _ => Err(format!("{} is not a text field", f.as_str())),
            },
            Filter::Cmp(f, op, _) => match f.kind() {
                FieldKind::Number | FieldKind::Signed | FieldKind::Time => Ok(()),
                _ => Err(format!("{} is not a number or time field: {} does not apply", f.as_str(), op.as_str())),
            },
            Filter::And(v) | Filter::Or(v) => v.iter().try_for_each(Filter::validate),
            Filter::Not(f) => f.validate(),
        }
    }

    /// The fields the filter reads.
    pub fn fields(&self, out: &mut Vec<Field>) {
        match self {
            Filter::All => {}
            Filter::Eq(f, _) | Filter::Prefix(f, _) | Filter::Contains(f, _) | Filter::Cmp(f, _, _) => {
                if !out.contains(f) {
                    out.push(*f);
                }
            }
            Filter::And(v) | Filter::Or(v) => v.iter().for_each(|f| f.fields(out)),
            Filter::Not(f) => f.fields(out),
        }
    }
}

/// A filter over a time range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// Events at or after this time (milliseconds since the epoch).
    pub since_ms: Option<u64>,
    /// Events before this time.
    pub until_ms: Option<u64>,
    pub filter: Filter,
}

impl Query {
    pub fn all() -> Query {
        Query { since_ms: None, until_ms: None, filter: Filter::All }
    }

    pub fn filter(filter: Filter) -> Query {
        Query { since_ms: None, until_ms: None, filter }
    }

    pub(crate) fn overlaps(&self, min_ms: u64, max_ms: u64) -> bool {
        self.since_ms.is_none_or(|s| max_ms >= s) && self.until_ms.is_none_or(|u| min_ms < u)
    }

    pub(crate) fn in_time(&self, ms: u64) -> bool {
        self.since_ms.is_none_or(|s| ms >= s) && self.until_ms.is_none_or(|u| ms < u)
    }
}

/// One field's value in a group: absent, a number or a text.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupValue {
    None,
    Number(i64),
    Bool(bool),
    Text(Vec<u8>),
}

/// A group of a count-by: the values of the grouped fields and how many events had them. An
/// event with several values of a list field (paths, keys, types) counts once in each.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub values: Vec<GroupValue>,
    pub count: u64,
}

/// What retention removes: segments older than `max_age_ms` before `now_ms`, then the oldest
/// segments until the store holds at most `max_bytes`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retention {
    pub now_ms: u64,
    pub max_age_ms: Option<u64>,
    pub max_bytes: Option<u64>,
}

/// What retention removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    pub segments: u64,
    pub events: u64,
    pub bytes: u64,
}

/// What one ingest call did. `received = stored + duplicates`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IngestReport {
    pub received: u64,
    pub stored: u64,
    /// Events already in the store (same node, serial, time and records), not stored again.
    pub duplicates: u64,
    /// The stored events: indices into the input slice, ascending. `accepted[i]` got the
    /// ordinal `first_ordinal + i`.
    pub accepted: Vec<u32>,
    /// The ordinal of the first stored event (the next ordinal when none was stored).
    pub first_ordinal: u64,
}

/// Text as UTF-8 where it is (other bytes as `\xNN`), numbers in decimal, `yes`/`no`, `-` for
/// absent.
impl std::fmt::Display for GroupValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupValue::None => f.write_str("-"),
            GroupValue::Number(n) => write!(f, "{n}"),
            GroupValue::Bool(b) => f.write_str(if *b { "yes" } else { "no" }),
            GroupValue::Text(t) => {
                for chunk in t.utf8_chunks() {
                    f.write_str(chunk.valid())?;
                    for b in chunk.invalid() {
                        write!(f, "\\x{b:02x}")?;
                    }
                }
                Ok(())
            }
        }
    }
}
