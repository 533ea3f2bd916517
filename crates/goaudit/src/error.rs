//! Why a line is not a go-audit object: one enum, owning everything it reports (no borrow of the
//! input), so a caller can keep it beside the line's bytes.

use std::fmt;

/// A line that [`parse_line`](crate::parse_line) cannot turn into a [`GoAuditEvent`](crate::GoAuditEvent).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GoAuditError {
    /// The bytes are not one JSON value. `truncated` is true when the input ended inside the value
    /// (a line cut short); `column` is serde_json's 1-based column of the problem.
    #[error("not json at column {column}: {message}")]
    NotJson { truncated: bool, column: usize, message: String },
    /// Valid JSON, but not an object.
    #[error("not a json object: found {found}")]
    NotAnObject { found: JsonKind },
    /// A field go-audit always writes is absent.
    #[error("missing field {field}")]
    MissingField { field: FieldPath },
    /// A field holds a value of the wrong JSON type or out of range.
    #[error("field {field} should be {expected}, found {found}")]
    WrongType { field: FieldPath, expected: &'static str, found: JsonKind },
    /// `timestamp` is not `SEC.MSEC` (decimal seconds, a dot, three decimal digits).
    #[error("bad timestamp {timestamp:?}: expected SEC.MSEC")]
    BadTimestamp { timestamp: String },
    /// `messages` is an empty array: go-audit never writes one, and it would make no record.
    #[error("no messages")]
    NoMessages,
    /// A synthesized record line that [`parse::parse_line`] does not frame. Not expected (the
    /// line's type name and header are ours): it exists so that a bug rejects the line, with its
    /// bytes, instead of panicking or losing records. `kind` is the parser's diagnostic name.
    #[error("record line of messages[{message}] does not frame: {kind}")]
    Unframed { message: usize, kind: &'static str },
}

/// Where a field sits in a go-audit object: at the top (`sequence`) or in one message
/// (`messages[2].type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldPath {
    Top(&'static str),
    Message { index: usize, field: &'static str },
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldPath::Top(name) => f.write_str(name),
            FieldPath::Message { index, field } => write!(f, "messages[{index}].{field}"),
        }
    }
}

/// The JSON type of a value, for error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonKind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl JsonKind {
    pub(crate) fn of(value: &serde_json::Value) -> JsonKind {
        match value {
            serde_json::Value::Null => JsonKind::Null,
            serde_json::Value::Bool(_) => JsonKind::Bool,
            serde_json::Value::Number(_) => JsonKind::Number,
            serde_json::Value::String(_) => JsonKind::String,
            serde_json::Value::Array(_) => JsonKind::Array,
            serde_json::Value::Object(_) => JsonKind::Object,
        }
    }

    /// Returns the lowercase JSON name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            JsonKind::Null => "null",
            JsonKind::Bool => "boolean",
            JsonKind::Number => "number",
            JsonKind::String => "string",
            JsonKind::Array => "array",
            JsonKind::Object => "object",
        }
    }
}

impl fmt::Display for JsonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
