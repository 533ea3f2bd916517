//! The kinds of problems the parser reports instead of failing.
//!
//! Every kind has a stable snake_case name used in counters and in the JSON summary; renaming one
//! breaks dashboards, so names are append-only.

/// What was wrong with a piece of input. The bytes concerned are always kept by whoever reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DiagnosticKind {
    /// The line has no `type=` field: it cannot be framed as an audit record.
    NoRecordType,
    /// `type=` holds neither a known name, `UNKNOWN[n]`, nor a number.
    BadRecordType,
    /// No `audit(SEC.MSEC:SERIAL)` header where one was expected.
    NoEventHeader,
    /// The header is there but its timestamp or serial is not a number.
    BadEventHeader,
    /// A double or single quote was opened and never closed; the value runs to the end of the body.
    UnterminatedQuote,
    /// A value of an encoded field looked like hex but did not decode.
    BadHex,
    /// An empty line (only whitespace).
    EmptyLine,
    /// A line longer than the configured limit was cut.
    Truncated,
    /// Bytes that are not `key=value` where fields were expected; kept as free text.
    FreeText,
    /// A stray `"` after an encoded value; the value before it was decoded.
    StrayQuote,
}

impl DiagnosticKind {
    /// Returns the stable snake_case name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticKind::NoRecordType => "no_record_type",
            DiagnosticKind::BadRecordType => "bad_record_type",
            DiagnosticKind::NoEventHeader => "no_event_header",
            DiagnosticKind::BadEventHeader => "bad_event_header",
            DiagnosticKind::UnterminatedQuote => "unterminated_quote",
            DiagnosticKind::BadHex => "bad_hex",
            DiagnosticKind::EmptyLine => "empty_line",
            DiagnosticKind::Truncated => "truncated",
            DiagnosticKind::FreeText => "free_text",
            DiagnosticKind::StrayQuote => "stray_quote",
        }
    }
}

impl std::fmt::Display for DiagnosticKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
