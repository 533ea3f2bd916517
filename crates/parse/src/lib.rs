//! Parses kernel audit records from bytes, without copying and without failing a whole line.
//!
//! Two framings are read: the log line that auditd writes (`[node=N ]type=NAME msg=audit(…): BODY`)
//! and the netlink payload the kernel sends (`audit(…): BODY` with the record type in the netlink
//! header). [`Record`] borrows from the input; its body is split into [`Field`]s lazily by
//! [`Fields`], and each value is decoded on demand by [`decode`], which knows which fields the
//! kernel hex-encodes.
//!
//! This crate does no IO, allocates only when a decoded value needs its own bytes (hex), never
//! reads a clock and never panics on any input (it is fuzzed). It knows nothing about events:
//! grouping records is the `assemble` crate's job.

mod diagnostic;
mod enriched;
mod fields;
mod record;
pub mod sockaddr;
mod value;

pub use diagnostic::DiagnosticKind;
pub use fields::{Field, Fields, RawValue};
pub use record::{parse_line, parse_netlink, FramingError, Record};
pub use value::{decode, decode_hex, is_encoded_field, Value};
