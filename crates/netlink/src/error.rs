//! The crate's one error type, with which failures are worth retrying.

use std::io;

/// What went wrong talking to the kernel's audit subsystem.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A socket call failed. Retryable when [`Error::is_retryable`] says so (interrupted, would
    /// block, timed out); otherwise fatal for this socket.
    #[error("{op}: {source}")]
    Io { op: &'static str, source: io::Error },
    /// The kernel answered a request with an error (`NLMSG_ERROR` with a negative errno). Fatal
    /// for that request: retrying the same request gets the same answer.
    #[error("kernel refused {op}: {}", io::Error::from_raw_os_error(*errno))]
    Kernel { op: &'static str, errno: i32 },
    /// Another process is registered as the audit daemon. Fatal unless the caller chooses
    /// [`IfHeld::TakeOver`](crate::IfHeld::TakeOver) (which the kernel still refuses while that
    /// daemon is alive).
    #[error("the audit daemon registration is held by pid {pid} (auditd?); stop it, use coexist mode, or take over")]
    Held { pid: u32 },
    /// The socket's receive buffer overflowed (`ENOBUFS`): the kernel dropped messages for this
    /// socket. Retryable — the socket still works — but records were lost and must be counted.
    #[error("netlink receive buffer overrun: the kernel dropped messages for this socket")]
    Overrun,
    /// No reply to a request within the socket's timeout. Retryable.
    #[error("no reply from the kernel to {op}")]
    NoReply { op: &'static str },
    /// A datagram did not fit the receive buffer and was cut (`MSG_TRUNC`): its records are
    /// lost. Fatal for this buffer size: receive into a larger one (at least 16 KiB).
    #[error("netlink datagram of {len} bytes truncated to a {buf}-byte buffer")]
    Truncated { len: usize, buf: usize },
    /// A reply was too short or otherwise not what the protocol says. Fatal.
    #[error("malformed reply to {op}: {detail}")]
    BadReply {
        op: &'static str,
        detail: &'static str,
    },
}

impl Error {
    /// Returns true when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Io { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            Error::Overrun | Error::NoReply { .. } => true,
            Error::Kernel { .. }
            | Error::Held { .. }
            | Error::Truncated { .. }
            | Error::BadReply { .. } => false,
        }
    }

    /// Returns true for a receive that found nothing before the timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Io { source, .. }
            if matches!(source.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
    }

    pub(crate) fn last_os(op: &'static str) -> Error {
        let source = io::Error::last_os_error();
        if source.raw_os_error() == Some(libc::ENOBUFS) {
            return Error::Overrun;
        }
        Error::Io { op, source }
    }
}
