//! The kernel audit netlink client: one `NETLINK_AUDIT` socket, hand-written on `libc`.
//!
//! [`AuditSocket::open`] gives a unicast socket for status ([`AuditSocket::get_status`]), commands
//! (`AUDIT_SET`) and *own* mode (registering as the audit daemon with [`AuditSocket::set_pid`],
//! handing it back with [`AuditSocket::release`]); [`AuditSocket::open_multicast`] joins
//! `AUDIT_NLGRP_READLOG` for *coexist* mode beside a running auditd. [`AuditSocket::recv`] reads
//! one datagram into the caller's reusable buffer and iterates its messages in place: no allocation
//! per record.
//!
//! [`rules`] loads auditctl-syntax rule files: parse, encode as `struct audit_rule_data`, apply
//! with a per-line report ([`AuditSocket::add_rule`], [`AuditSocket::list_rules`], …).
//!
//! It knows nothing about records or events: payloads go to `parse::parse_netlink` and the
//! assembler. The protocol handling follows ideas (not code) from go-libaudit's netlink client.

mod error;
mod message;
pub mod rules;
mod socket;
mod status;

pub use error::Error;
pub use message::{Messages, NLMSG_HDRLEN};
pub use socket::{AuditSocket, IfHeld, RecvBatch};
pub use status::Status;
