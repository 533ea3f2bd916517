//! [`AuditSocket`]: a `NETLINK_AUDIT` socket — requests with their replies, and records.
//!
//! Does socket IO and nothing else: no threads, no clock besides the kernel's own timeouts.

use std::collections::VecDeque;
use std::mem;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::message::{Header, Messages, NLMSG_HDRLEN};
use crate::status::{mask, set_request, Status, STATUS_LEN};
use crate::Error;

const AUDIT_GET: u16 = 1000;
const AUDIT_SET: u16 = 1001;
const AUDIT_ADD_RULE: u16 = 1011;
const AUDIT_DEL_RULE: u16 = 1012;
const AUDIT_LIST_RULES: u16 = 1013;
const NLMSG_DONE: u16 = libc::NLMSG_DONE as u16;
/// `AUDIT_NLGRP_READLOG`: the read-only multicast group of all records.
const AUDIT_NLGRP_READLOG: u32 = 1;
const NLMSG_ERROR: u16 = libc::NLMSG_ERROR as u16;
const NLM_F_REQUEST: u16 = libc::NLM_F_REQUEST as u16;
const NLM_F_ACK: u16 = libc::NLM_F_ACK as u16;
/// How long a request waits for its reply.
const REPLY_TIMEOUT_MS: i32 = 5_000;
/// Room for any reply and any record the kernel sends (`MAX_AUDIT_MESSAGE_LENGTH` is 8970) and
/// for a listed rule with long strings (a rule's strings are bounded by the kernel's message
/// size; `PATH_MAX` paths fit).
const REPLY_BUF_LEN: usize = 64 << 10;

/// Room for the datagrams of one [`AuditSocket::try_recv_batch`] call, reused from call to call.
#[derive(Debug)]
pub struct RecvBatch {
    buf: Vec<u8>,
    lens: Vec<usize>,
}

impl RecvBatch {
    /// Bytes per datagram: a record is at most 8970 bytes (`MAX_AUDIT_MESSAGE_LENGTH`) plus its
    /// netlink header.
    pub const SLOT: usize = 9 << 10;

    /// Returns room for `slots` datagrams (at least 1).
    pub fn new(slots: usize) -> RecvBatch {
        RecvBatch { buf: vec![0; slots.max(1) * RecvBatch::SLOT], lens: Vec::new() }
    }

    fn slots(&self) -> usize {
        self.buf.len() / RecvBatch::SLOT
    }

    /// Returns the messages of each datagram of the last call, in arrival order.
    pub fn datagrams(&self) -> impl Iterator<Item = Messages<'_>> + '_ {
        self.buf
            .chunks_exact(RecvBatch::SLOT)
            .zip(&self.lens)
            .map(|(slot, &len)| Messages::new(&slot[..len]))
    }
}

/// What [`AuditSocket::set_pid`] does when another process is registered as the audit daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfHeld {
    /// Fail with [`Error::Held`] without asking the kernel.
    Refuse,
    /// Ask the kernel anyway. It replaces a daemon whose socket is gone and refuses a live one
    /// (then [`Error::Held`] too).
    TakeOver,
}

/// A `NETLINK_AUDIT` socket bound to the kernel.
///
/// Records that arrive while a request waits for its reply are kept (the only allocation, off
/// the hot path) and returned first by the next [`AuditSocket::recv`]: none is lost.
#[derive(Debug)]
pub struct AuditSocket {
    fd: OwnedFd,
    seq: u32,
    reply_buf: Vec<u8>,
    stash: VecDeque<(u16, Vec<u8>)>,
    /// Whether this socket registered this process as the audit daemon; dropping it releases.
    registered: bool,
}

impl AuditSocket {
    /// Opens a unicast socket: for status, commands and own mode.
    pub fn open() -> Result<AuditSocket, Error> {
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_AUDIT,
            )
        };
        if fd < 0 {
            return Err(Error::last_os("socket(AF_NETLINK, NETLINK_AUDIT)"));
        }
        // SAFETY: `fd` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let addr = sockaddr(0);
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_nl).cast(),
                mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(Error::last_os("bind netlink audit socket"));
        }
        Ok(AuditSocket {
            fd,
            seq: 0,
            reply_buf: vec![0; REPLY_BUF_LEN],
            stash: VecDeque::new(),
            registered: false,
        })
    }

    /// Opens a socket that joins `AUDIT_NLGRP_READLOG`: a read-only copy of every record,
    /// beside whichever daemon is registered (coexist mode). Needs `CAP_AUDIT_READ`.
    pub fn open_multicast() -> Result<AuditSocket, Error> {
        let socket = AuditSocket::open()?;
        let group = AUDIT_NLGRP_READLOG;
        let rc = unsafe {
            libc::setsockopt(
                socket.fd.as_raw_fd(),
                libc::SOL_NETLINK,
                libc::NETLINK_ADD_MEMBERSHIP,
                (&group as *const u32).cast(),
                mem::size_of::<u32>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(Error::last_os(
                "join AUDIT_NLGRP_READLOG (needs CAP_AUDIT_READ)",
            ));
        }
        Ok(socket)
    }

    /// Sets how long [`AuditSocket::recv`] blocks; `None` blocks until a message arrives.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        let d = timeout.unwrap_or_default();
        let tv = libc::timeval {
            tv_sec: d.as_secs() as libc::time_t,
            tv_usec: d.subsec_micros() as libc::suseconds_t,
        };
        self.setsockopt(libc::SO_RCVTIMEO, &tv, "set SO_RCVTIMEO")
    }

    /// Sets the socket's receive buffer, beyond `rmem_max` when privileged (`SO_RCVBUFFORCE`).
    /// A large buffer absorbs bursts; when it overflows, `recv` reports [`Error::Overrun`].
    pub fn set_receive_buffer(&mut self, bytes: usize) -> Result<(), Error> {
        let n = i32::try_from(bytes).unwrap_or(i32::MAX);
        self.setsockopt(libc::SO_RCVBUFFORCE, &n, "set SO_RCVBUFFORCE")
            .or_else(|_| self.setsockopt(libc::SO_RCVBUF, &n, "set SO_RCVBUF"))
    }

    /// Returns the kernel's audit status (`AUDIT_GET`).
    pub fn get_status(&mut self) -> Result<Status, Error> {
        let mut reply = None;
        self.request(
            "AUDIT_GET",
            AUDIT_GET,
            &[],
            Some(AUDIT_GET),
            |kind, body| {
                if kind == AUDIT_GET {
                    reply = Some(Status::from_bytes(body));
                }
            },
        )?;
        reply.ok_or(Error::BadReply {
            op: "AUDIT_GET",
            detail: "acknowledged without a status",
        })
    }

    /// Adds a rule (`AUDIT_ADD_RULE`) given as an encoded `struct audit_rule_data`
    /// ([`crate::rules::Rule::encode`]). A rule the kernel already has is refused with
    /// [`Error::Kernel`] `EEXIST`.
    pub fn add_rule_data(&mut self, data: &[u8]) -> Result<(), Error> {
        self.request("AUDIT_ADD_RULE", AUDIT_ADD_RULE, data, None, |_, _| {})
    }

    /// Deletes the rule equal to `data` (`AUDIT_DEL_RULE`); a rule the kernel does not have is
    /// refused with [`Error::Kernel`] `ENOENT`.
    pub fn delete_rule_data(&mut self, data: &[u8]) -> Result<(), Error> {
        self.request("AUDIT_DEL_RULE", AUDIT_DEL_RULE, data, None, |_, _| {})
    }

    /// Lists the kernel's rules (`AUDIT_LIST_RULES`) as encoded `struct audit_rule_data`, in the
    /// kernel's order: by list, then as evaluated.
    pub fn list_rule_data(&mut self) -> Result<Vec<Vec<u8>>, Error> {
        let mut rules = Vec::new();
        self.request(
            "AUDIT_LIST_RULES",
            AUDIT_LIST_RULES,
            &[],
            Some(NLMSG_DONE),
            |kind, body| {
                if kind == AUDIT_LIST_RULES {
                    rules.push(body.to_vec());
                }
            },
        )?;
        Ok(rules)
    }

    /// Adds `rule` to the kernel; see [`AuditSocket::add_rule_data`].
    pub fn add_rule(&mut self, rule: &crate::rules::Rule) -> Result<(), Error> {
        self.add_rule_data(&rule.encode())
    }

    /// Deletes `rule` from the kernel; see [`AuditSocket::delete_rule_data`]. Its `prepend`
    /// flag is ignored: the kernel stores rules without it and would not match a delete that
    /// carries it.
    pub fn delete_rule(&mut self, rule: &crate::rules::Rule) -> Result<(), Error> {
        if rule.prepend {
            let mut rule = rule.clone();
            rule.prepend = false;
            return self.delete_rule_data(&rule.encode());
        }
        self.delete_rule_data(&rule.encode())
    }

    /// Lists the kernel's rules, decoded. A rule that does not decode fails the whole listing
    /// with [`Error::BadReply`]; [`AuditSocket::list_rule_data`] gives the raw bytes.
    pub fn list_rules(&mut self) -> Result<Vec<crate::rules::Rule>, Error> {
        self.list_rule_data()?
            .iter()
            .map(|data| {
                crate::rules::Rule::decode(data).map_err(|detail| Error::BadReply {
                    op: "AUDIT_LIST_RULES",
                    detail,
                })
            })
            .collect()
    }

    /// Registers `pid` (which the kernel requires to be this process) as the audit daemon: the
    /// kernel then sends every record to this socket. See [`IfHeld`] for a registration held by
    /// another process.
    pub fn set_pid(&mut self, pid: u32, if_held: IfHeld) -> Result<(), Error> {
        if if_held == IfHeld::Refuse {
            let holder = self.get_status()?.pid;
            if holder != 0 && holder != pid {
                return Err(Error::Held { pid: holder });
            }
        }
        let status = Status {
            pid,
            ..Status::default()
        };
        match self.set("AUDIT_SET pid", mask::PID, &status) {
            Err(Error::Kernel {
                errno: libc::EEXIST,
                ..
            }) => Err(Error::Held {
                pid: self.get_status()?.pid,
            }),
            Err(e) => Err(e),
            Ok(()) => {
                self.registered = pid != 0;
                Ok(())
            }
        }
    }

    /// Registers this process as the audit daemon; see [`AuditSocket::set_pid`].
    pub fn register(&mut self, if_held: IfHeld) -> Result<(), Error> {
        self.set_pid(std::process::id(), if_held)
    }

    /// Hands the audit daemon registration back (pid 0). The kernel refuses (`EACCES`) when
    /// another process holds it. Records then go to the kernel log (and multicast) again.
    pub fn release(&mut self) -> Result<(), Error> {
        self.set("AUDIT_SET pid 0", mask::PID, &Status::default())?;
        self.registered = false;
        Ok(())
    }

    /// Sets the most records per second the kernel sends; 0 for no limit (`auditctl -r`).
    pub fn set_rate_limit(&mut self, per_second: u32) -> Result<(), Error> {
        let status = Status {
            rate_limit: per_second,
            ..Status::default()
        };
        self.set("AUDIT_SET rate_limit", mask::RATE_LIMIT, &status)
    }

    /// Sets what the kernel does when it cannot send a record: 0 silent, 1 printk, 2 panic
    /// (`auditctl -f`).
    pub fn set_failure(&mut self, failure: u32) -> Result<(), Error> {
        let status = Status {
            failure,
            ..Status::default()
        };
        self.set("AUDIT_SET failure", mask::FAILURE, &status)
    }

    /// Turns auditing off (0), on (1), or on and locked until reboot (2).
    pub fn set_enabled(&mut self, enabled: u32) -> Result<(), Error> {
        self.set(
            "AUDIT_SET enabled",
            mask::ENABLED,
            &Status {
                enabled,
                ..Status::default()
            },
        )
    }

    /// Sets how many records the kernel queues for the daemon.
    pub fn set_backlog_limit(&mut self, limit: u32) -> Result<(), Error> {
        let status = Status {
            backlog_limit: limit,
            ..Status::default()
        };
        self.set("AUDIT_SET backlog_limit", mask::BACKLOG_LIMIT, &status)
    }

    /// Sets how long (jiffies) an audited syscall waits on a full backlog. 0: syscalls never wait
    /// on the daemon, and records beyond the backlog are lost (counted in `lost`).
    pub fn set_backlog_wait_time(&mut self, jiffies: u32) -> Result<(), Error> {
        let status = Status {
            backlog_wait_time: jiffies,
            ..Status::default()
        };
        self.set(
            "AUDIT_SET backlog_wait_time",
            mask::BACKLOG_WAIT_TIME,
            &status,
        )
    }

    /// Receives one datagram into `buf` and returns its messages, borrowed from `buf`.
    ///
    /// `buf` should hold at least 16 KiB (a record is at most 8970 bytes). Blocks up to the read
    /// timeout; a timeout is a retryable [`Error::Io`] ([`Error::is_timeout`]). Datagrams from
    /// anyone but the kernel are ignored.
    pub fn recv<'b>(&mut self, buf: &'b mut [u8]) -> Result<Messages<'b>, Error> {
        if let Some(n) = self.unstash(buf) {
            return Ok(Messages::new(&buf[..n?]));
        }
        let n = recv_from_kernel(self.fd.as_raw_fd(), buf, "recv")?;
        Ok(Messages::new(&buf[..n]))
    }

    /// Reads every datagram waiting, up to the batch's slots, with one `recvmmsg` call and
    /// without blocking. Returns how many datagrams the batch holds (0: none was waiting).
    /// Datagrams from anyone but the kernel are dropped from the batch. Records stashed while a
    /// request waited for its reply come first, one per call.
    pub fn try_recv_batch(&mut self, batch: &mut RecvBatch) -> Result<usize, Error> {
        batch.lens.clear();
        if let Some(n) = self.unstash(&mut batch.buf[..RecvBatch::SLOT]) {
            batch.lens.push(n?);
            return Ok(1);
        }
        let slots = batch.slots();
        let mut iovecs: Vec<libc::iovec> = batch
            .buf
            .chunks_exact_mut(RecvBatch::SLOT)
            .map(|slot| libc::iovec { iov_base: slot.as_mut_ptr().cast(), iov_len: slot.len() })
            .collect();
        let mut names = vec![sockaddr(0); slots];
        // SAFETY: mmsghdr is plain data; all zero is valid, and every pointer set below outlives
        // the call.
        let mut headers: Vec<libc::mmsghdr> = (0..slots).map(|_| unsafe { mem::zeroed() }).collect();
        for (i, h) in headers.iter_mut().enumerate() {
            h.msg_hdr.msg_iov = &mut iovecs[i];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_name = (&mut names[i] as *mut libc::sockaddr_nl).cast();
            h.msg_hdr.msg_namelen = mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        }
        let n = unsafe {
            libc::recvmmsg(
                self.fd.as_raw_fd(),
                headers.as_mut_ptr(),
                slots as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            let e = Error::last_os("recvmmsg");
            return match e {
                Error::Io { ref source, .. } if source.kind() == std::io::ErrorKind::WouldBlock => Ok(0),
                e => Err(e),
            };
        }
        for (h, name) in headers.iter().zip(&names).take(n as usize) {
            // A datagram cut to the slot (MSG_TRUNC) lost bytes: report it like `recv` does.
            if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                return Err(Error::Truncated { len: h.msg_len as usize, buf: RecvBatch::SLOT });
            }
            batch.lens.push(if name.nl_pid == 0 { h.msg_len as usize } else { 0 });
        }
        Ok(batch.lens.len())
    }

    /// Writes the oldest stashed record into `buf` as a datagram; returns its length.
    fn unstash(&mut self, buf: &mut [u8]) -> Option<Result<usize, Error>> {
        let (kind, payload) = self.stash.pop_front()?;
        let n = NLMSG_HDRLEN + payload.len();
        if n > buf.len() {
            return Some(Err(Error::Truncated {
                len: n,
                buf: buf.len(),
            }));
        }
        let header = Header {
            len: n as u32,
            kind,
            flags: 0,
            seq: 0,
            pid: 0,
        };
        header.write(&mut buf[..NLMSG_HDRLEN]);
        buf[NLMSG_HDRLEN..n].copy_from_slice(&payload[..n - NLMSG_HDRLEN]);
        Some(Ok(n))
    }

    fn set(&mut self, op: &'static str, mask: u32, status: &Status) -> Result<(), Error> {
        self.request(op, AUDIT_SET, &set_request(mask, status), None, |_, _| {})
    }

    /// Sends a request with `NLM_F_ACK` and waits for its acknowledgement and, when `want` is
    /// given, for a reply of that type (which the kernel may send before or after the
    /// acknowledgement). Every reply to this request other than the acknowledgement goes to
    /// `on_reply` as `(nlmsg_type, payload)`, the `want` reply included.
    fn request(
        &mut self,
        op: &'static str,
        kind: u16,
        payload: &[u8],
        want: Option<u16>,
        mut on_reply: impl FnMut(u16, &[u8]),
    ) -> Result<(), Error> {
        self.seq = self.seq.wrapping_add(1).max(1);
        let seq = self.seq;
        let len = NLMSG_HDRLEN + payload.len();
        let Ok(len32) = u32::try_from(len) else {
            return Err(Error::BadReply {
                op,
                detail: "request larger than a netlink message can be",
            });
        };
        // Status requests fit on the stack; rules carry their strings and vary in size.
        let mut small = [0u8; NLMSG_HDRLEN + STATUS_LEN];
        let mut large = Vec::new();
        let msg: &mut [u8] = if len <= small.len() {
            &mut small[..len]
        } else {
            large.resize(len, 0);
            &mut large
        };
        Header {
            len: len32,
            kind,
            flags: NLM_F_REQUEST | NLM_F_ACK,
            seq,
            pid: 0,
        }
        .write(msg);
        msg[NLMSG_HDRLEN..len].copy_from_slice(payload);
        let addr = sockaddr(0);
        let rc = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                msg.as_ptr().cast(),
                len,
                0,
                (&addr as *const libc::sockaddr_nl).cast(),
                mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(Error::last_os(op));
        }
        let (mut acked, mut replied) = (false, want.is_none());
        while !acked || !replied {
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ready = unsafe { libc::poll(&mut pfd, 1, REPLY_TIMEOUT_MS) };
            if ready < 0 {
                let e = Error::last_os(op);
                if matches!(&e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::Interrupted)
                {
                    continue;
                }
                return Err(e);
            }
            if ready == 0 {
                return Err(Error::NoReply { op });
            }
            let n = match recv_from_kernel(self.fd.as_raw_fd(), &mut self.reply_buf, op) {
                Ok(n) => n,
                Err(e) if e.is_timeout() => continue,
                Err(e) => return Err(e),
            };
            let mut messages = Messages::new(&self.reply_buf[..n]);
            while let Some((_, body)) = messages.next() {
                let header = messages.last.expect("set by next");
                let rt = header.kind;
                if header.seq != seq || rt >= 1100 {
                    if rt >= 1100 {
                        self.stash.push_back((rt, body.to_vec()));
                    }
                    continue;
                }
                if rt == NLMSG_ERROR {
                    let errno = body
                        .get(..4)
                        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                    match errno {
                        Some(0) => acked = true,
                        Some(e) => return Err(Error::Kernel { op, errno: -e }),
                        None => {
                            return Err(Error::BadReply {
                                op,
                                detail: "short NLMSG_ERROR",
                            })
                        }
                    }
                } else {
                    replied |= Some(rt) == want;
                    on_reply(rt, body);
                }
            }
        }
        Ok(())
    }

    fn setsockopt<T>(&self, opt: libc::c_int, value: &T, op: &'static str) -> Result<(), Error> {
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (value as *const T).cast(),
                mem::size_of::<T>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(Error::last_os(op));
        }
        Ok(())
    }
}

impl Drop for AuditSocket {
    /// Hands the registration back if this socket took it, so the kernel does not keep a pid
    /// whose socket is gone until its next send fails.
    fn drop(&mut self) {
        if self.registered {
            let _ = self.release();
        }
    }
}

impl AsRawFd for AuditSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

fn sockaddr(groups: u32) -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is plain data; all zero is valid.
    let mut addr: libc::sockaddr_nl = unsafe { mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    addr.nl_groups = groups;
    addr
}

/// Receives one datagram sent by the kernel (port id 0), skipping any other sender's.
fn recv_from_kernel(fd: RawFd, buf: &mut [u8], op: &'static str) -> Result<usize, Error> {
    loop {
        let mut from = sockaddr(0);
        let mut from_len = mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        let n = unsafe {
            libc::recvfrom(
                fd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                0,
                (&mut from as *mut libc::sockaddr_nl).cast(),
                &mut from_len,
            )
        };
        if n < 0 {
            return Err(Error::last_os(op));
        }
        if n as usize > buf.len() {
            return Err(Error::Truncated {
                len: n as usize,
                buf: buf.len(),
            });
        }
        if from.nl_pid == 0 {
            return Ok(n as usize);
        }
    }
}
