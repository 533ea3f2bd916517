//! [`RuleError`]: what went wrong with one line of a rule file, in the parser or in the kernel.

use std::fmt;

/// An error on one line of a rule file. Displays as `FILE:LINE: REASON`, e.g.
/// `audit.rules:12: -F foo=1: unknown field "foo"`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {kind}")]
pub struct RuleError {
    pub file: String,
    /// 1-based; 0 for errors that belong to no line.
    pub line: u32,
    pub kind: ErrorKind,
}

/// Why a line failed. The variants that quote the line carry the option as written (`arg`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("unknown option \"{0}\"")]
    UnknownOption(String),
    #[error("{option}: missing value")]
    MissingValue { option: String },
    #[error("{arg}: unknown field \"{field}\"")]
    UnknownField { arg: String, field: String },
    #[error("{arg}: no operator (one of = != < > <= >= & &=)")]
    NoOperator { arg: String },
    #[error("{arg}: operator \"{op}\" is not valid for field \"{field}\"")]
    BadOperator {
        arg: String,
        field: String,
        op: &'static str,
    },
    #[error("{arg}: {reason}")]
    BadValue { arg: String, reason: &'static str },
    #[error("{arg}: unknown user \"{name}\"")]
    UnknownUser { arg: String, name: String },
    #[error("{arg}: unknown group \"{name}\"")]
    UnknownGroup { arg: String, name: String },
    #[error("{arg}: unknown syscall \"{name}\" for {arch}")]
    UnknownSyscall {
        arg: String,
        name: String,
        arch: String,
    },
    #[error("{arg}: -F arch must come before -S")]
    ArchAfterSyscall { arg: String },
    #[error("{arg}: field \"{field}\" is only valid on the {lists} list")]
    WrongList {
        arg: String,
        field: String,
        lists: &'static str,
    },
    #[error("{arg}: {reason}")]
    BadListAction { arg: String, reason: &'static str },
    #[error("{arg}: watch path must be absolute")]
    RelativeWatch { arg: String },
    #[error("key of {len} bytes is too long (at most 256)")]
    KeyTooLong { len: usize },
    #[error("{count} fields, more than the kernel's 64")]
    TooManyFields { count: usize },
    /// Options that do not go together or are out of place (`-p` without `-w`, two rules on
    /// one line, `-S` on a watch, a line with no command).
    #[error("{0}")]
    Usage(&'static str),
    /// The kernel refused a rule with this errno.
    #[error("kernel refused rule: {}", Errno(*.0))]
    KernelRefusedRule(i32),
    /// The kernel refused a control setting.
    #[error("kernel refused {what}: {}", Errno(*errno))]
    KernelRefusedControl { what: &'static str, errno: i32 },
    /// The socket failed (not a refusal of this line).
    #[error("netlink: {0}")]
    Netlink(String),
}

/// Formats an errno as `Invalid argument (EINVAL)`.
struct Errno(i32);

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = std::io::Error::from_raw_os_error(self.0).to_string();
        let text = text
            .rsplit_once(" (os error ")
            .map_or(text.as_str(), |(t, _)| t);
        let name = u32::try_from(self.0).ok().and_then(vocab::errno_name);
        match name {
            Some(name) => write!(f, "{text} ({name})"),
            None => write!(f, "{text} (errno {})", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_line_and_reason() {
        let e = RuleError {
            file: "audit.rules".into(),
            line: 12,
            kind: ErrorKind::UnknownField {
                arg: "-F foo=1".into(),
                field: "foo".into(),
            },
        };
        assert_eq!(
            e.to_string(),
            "audit.rules:12: -F foo=1: unknown field \"foo\""
        );
        let e = RuleError {
            file: "audit.rules".into(),
            line: 7,
            kind: ErrorKind::KernelRefusedRule(libc::EINVAL),
        };
        assert_eq!(
            e.to_string(),
            "audit.rules:7: kernel refused rule: Invalid argument (EINVAL)"
        );
    }
}
