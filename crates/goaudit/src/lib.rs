//! Reads the JSON lines that go-audit and go-audit-container write, so fleets already running them
//! can feed auditmesh, and documents the auditd plugin mode ([`plugin`]).
//!
//! go-audit (Slack, MIT) reads the kernel's audit netlink socket itself, groups records by their
//! serial and writes each group as one JSON object per line:
//!
//! ```text
//! {"sequence":861471,"timestamp":"1513740794.529","messages":[{"type":1300,"data":"arch=c000003e …"},…],"uid_map":{"0":"root"},"container_id":0}
//! ```
//!
//! often behind a syslog prefix (`Dec 20 09:03:14 host go-audit[11358]: {…}`, see
//! [`strip_syslog_prefix`]). [`parse_line`] turns one object into a [`GoAuditEvent`]: for each
//! message, a record line in auditd's own log form, `type=NAME msg=audit(SEC.MSEC:SEQUENCE): DATA`,
//! which [`parse::parse_line`] frames like any line of `audit.log`; the data bytes are kept exactly
//! as go-audit wrote them. [`GoAuditStream`] feeds such lines into an [`assemble::Assembler`] and
//! hands back events with go-audit's `uid_map` and `container_id` beside them.
//!
//! Pure: no IO, no clock. A line that is not a go-audit object is a [`GoAuditError`] that owns
//! everything it reports; [`GoAuditStream`] keeps such lines, with their bytes, as
//! [`RejectedLine`]s, so nothing is lost silently.

mod error;
mod line;
pub mod plugin;
mod stream;

pub use error::{FieldPath, GoAuditError, JsonKind};
pub use line::{parse_line, strip_syslog_prefix, GoAuditEvent};
pub use stream::{assemble_stream, AssembledEvent, GoAuditStream, RejectedLine, StreamOutput};
