//! Audit rules: auditctl's rule file syntax, the kernel's `struct audit_rule_data`, and loading
//! a rule file into the kernel with a report of what each line did.
//!
//! [`parse`] turns `audit.rules` text into a [`RuleFile`] (pure: user and group names, the
//! machine's architecture and whether a watched path is a directory come in through the
//! [`Resolver`] trait); [`Rule::encode`] and [`Rule::decode`] convert one rule to and from the
//! kernel's bytes, laid out as auditctl lays them out; [`apply()`] and [`remove`] talk to the
//! kernel through an [`AuditSocket`](crate::AuditSocket). Numbers are facts of the kernel's
//! `include/uapi/linux/audit.h`; the syntax follows auditctl(8). Ideas (not code) from
//! go-libaudit's rule package.
//!
//! It never flushes rules it did not name: a bare `-D` is skipped unless the caller allows it.

mod apply;
mod encode;
mod error;
mod parse;
mod resolver;
mod types;

pub use apply::{apply, remove, ApplyError, ApplyOptions, ApplyReport, LineReport, Outcome};
pub use encode::RULE_DATA_LEN;
pub use error::{ErrorKind, RuleError};
pub use parse::{parse_rule_text, parse_rule_text_lossy};
pub use resolver::{Resolver, SystemResolver};
pub use types::{
    Action, Command, Control, Field, FieldType, List, Op, Rule, RuleFile, RuleLine, Value,
    AUDIT_BITMASK_SIZE, AUDIT_MAX_FIELDS, AUDIT_MAX_KEY_LEN,
};
