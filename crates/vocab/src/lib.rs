//! The vocabulary of auditmesh: small open-world newtypes for what the kernel audit subsystem
//! talks about (record types, serials, event ids, architectures, syscalls, errno values) and the
//! name tables that go with them.
//!
//! This crate is pure: no IO, no allocation on lookups, no clock. The name tables under
//! `generated/` are produced by `cargo xtask codegen` and committed; do not edit them by hand.

mod generated;

use std::fmt;

/// The type of one audit record (`nlmsg_type` on netlink, `type=NAME` in a log line).
///
/// Open-world: every `u32` is a valid record type; those without a known name print as
/// `UNKNOWN[n]`, the same way auditd writes them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordType(pub u32);

impl RecordType {
    pub const SYSCALL: RecordType = RecordType(1300);
    pub const PATH: RecordType = RecordType(1302);
    pub const IPC: RecordType = RecordType(1303);
    pub const SOCKETCALL: RecordType = RecordType(1304);
    pub const CONFIG_CHANGE: RecordType = RecordType(1305);
    pub const SOCKADDR: RecordType = RecordType(1306);
    pub const CWD: RecordType = RecordType(1307);
    pub const EXECVE: RecordType = RecordType(1309);
    pub const EOE: RecordType = RecordType(1320);
    pub const PROCTITLE: RecordType = RecordType(1327);
    pub const DAEMON_START: RecordType = RecordType(1200);

    /// Returns the record type's name as auditd writes it, if it has one.
    pub fn name(self) -> Option<&'static str> {
        generated::record_types::name(self.0)
    }

    /// Looks a record type up by its name (`SYSCALL`) or by the `UNKNOWN[n]` form.
    pub fn from_name(name: &[u8]) -> Option<RecordType> {
        // The types that make up nearly every log, without the table search.
        let common = match name {
            b"SYSCALL" => Some(RecordType::SYSCALL),
            b"PATH" => Some(RecordType::PATH),
            b"PROCTITLE" => Some(RecordType::PROCTITLE),
            b"CWD" => Some(RecordType::CWD),
            b"EXECVE" => Some(RecordType::EXECVE),
            b"SOCKADDR" => Some(RecordType::SOCKADDR),
            b"EOE" => Some(RecordType::EOE),
            _ => None,
        };
        if common.is_some() {
            return common;
        }
        if let Some(n) = generated::record_types::number(name) {
            return Some(RecordType(n));
        }
        let digits = name.strip_prefix(b"UNKNOWN[")?.strip_suffix(b"]")?;
        parse_u32(digits).map(RecordType)
    }

    /// Returns true for record types that always form an event of their own: the kernel never
    /// sends another record with the same serial, so the event is complete as soon as it arrives.
    ///
    /// These are the user-space message ranges (1100–1299, 2100–2999) and the daemon and
    /// configuration records that the kernel emits without a syscall context.
    pub fn is_standalone(self) -> bool {
        matches!(self.0, 1100..=1299 | 2100..=2999)
    }

    /// Returns true for EOE, the record that closes a multi-record event on netlink.
    pub fn is_eoe(self) -> bool {
        self == RecordType::EOE
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "UNKNOWN[{}]", self.0),
        }
    }
}

impl fmt::Debug for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}({})", self.0)
    }
}

/// The kernel's per-boot event counter from the record header `audit(SEC.MSEC:SERIAL)`.
///
/// The kernel counts in 32 bits and rolls over; auditd's own DAEMON records use a separate counter
/// in the same space. Wider values from damaged input are kept as they are.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Serial(pub u64);

/// Event time as the kernel stamps it: milliseconds since the Unix epoch.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Timestamp {
    pub millis: u64,
}

impl Timestamp {
    pub fn from_parts(sec: u64, msec: u64) -> Timestamp {
        Timestamp { millis: sec.saturating_mul(1000).saturating_add(msec) }
    }
    pub fn secs(self) -> u64 {
        self.millis / 1000
    }
    pub fn subsec_millis(self) -> u64 {
        self.millis % 1000
    }
}

/// Identifies one event on one node: the header's timestamp and serial.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct EventId {
    pub time: Timestamp,
    pub serial: Serial,
}

/// An audit architecture identifier (`AUDIT_ARCH_*`, the `arch=` field of SYSCALL records).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Arch(pub u32);

impl Arch {
    pub const X86_64: Arch = Arch(0xc000_003e);
    pub const I386: Arch = Arch(0x4000_0003);
    pub const AARCH64: Arch = Arch(0xc000_00b7);
    pub const ARM: Arch = Arch(0x4000_0028);
    pub const PPC64LE: Arch = Arch(0xc000_0015);
    pub const S390X: Arch = Arch(0x8000_0016);
    pub const RISCV64: Arch = Arch(0xc000_00f3);

    /// Returns the architecture's name as `ausearch -i` prints it (`x86_64`, `i386`, …).
    pub fn name(self) -> Option<&'static str> {
        generated::arch::name(self.0)
    }

    /// Looks an architecture up by the name [`Arch::name`] gives it (`x86_64`, `i386`).
    pub fn from_name(name: &str) -> Option<Arch> {
        generated::arch::number(name).map(Arch)
    }

    /// Returns the name of syscall `nr` on this architecture.
    pub fn syscall_name(self, nr: u32) -> Option<&'static str> {
        generated::syscalls::name(self.0, nr)
    }

    /// Returns the number of the syscall named `name` on this architecture (`execve` → 59 on
    /// x86_64), `None` for unknown names and architectures without a table. A linear scan of
    /// the table: meant for reading configuration, not for hot paths.
    pub fn syscall_number(self, name: &str) -> Option<u32> {
        generated::syscalls::number(self.0, name)
    }
}

/// Returns the symbolic name of a positive errno value (`13` → `EACCES`).
pub fn errno_name(errno: u32) -> Option<&'static str> {
    generated::errno::name(errno)
}

/// Returns the positive errno value of a symbolic name (`EACCES` → `13`).
pub fn errno_number(name: &str) -> Option<u32> {
    generated::errno::number(name)
}

/// Parses an unsigned decimal number without allocation; `None` on empty input, other bytes or
/// overflow.
pub fn parse_u32(digits: &[u8]) -> Option<u32> {
    let n = parse_u64(digits)?;
    u32::try_from(n).ok()
}

/// Parses an unsigned decimal number without allocation; `None` on empty input, other bytes or
/// overflow.
pub fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 20 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_type_names_round_trip() {
        assert_eq!(RecordType(1300).to_string(), "SYSCALL");
        assert_eq!(RecordType(1308).to_string(), "UNKNOWN[1308]");
        assert_eq!(RecordType::from_name(b"EXECVE"), Some(RecordType::EXECVE));
        assert_eq!(RecordType::from_name(b"UNKNOWN[1308]"), Some(RecordType(1308)));
        assert_eq!(RecordType::from_name(b"NO_SUCH_TYPE"), None);
    }

    #[test]
    fn reverse_lookups_invert_the_name_tables() {
        assert_eq!(Arch::X86_64.syscall_number("execve"), Some(59));
        assert_eq!(Arch::X86_64.syscall_number("openat2"), Some(437));
        assert_eq!(Arch::I386.syscall_number("execve"), Some(11));
        assert_eq!(Arch::I386.syscall_number("socketcall"), Some(102));
        assert_eq!(Arch::AARCH64.syscall_number("openat"), Some(56));
        assert_eq!(Arch::ARM.syscall_number("set_tls"), Some(0xf_0005));
        assert_eq!(Arch::X86_64.syscall_number("no_such_call"), None);
        assert_eq!(Arch::AARCH64.syscall_number("open"), None);
        assert_eq!(Arch(0x1234).syscall_number("read"), None);
        for arch in [Arch::X86_64, Arch::I386, Arch::AARCH64, Arch::ARM, Arch::RISCV64] {
            for nr in 0..1024 {
                if let Some(name) = arch.syscall_name(nr) {
                    let back = arch.syscall_number(name).expect("named syscall has a number");
                    assert_eq!(arch.syscall_name(back), Some(name), "{arch:?} {nr}");
                }
            }
        }
        assert_eq!(errno_number("EPERM"), Some(1));
        assert_eq!(errno_number("EACCES"), Some(13));
        assert_eq!(errno_number("ERESTARTSYS"), Some(512));
        assert_eq!(errno_number("EWHATEVER"), None);
        assert_eq!(Arch::from_name("x86_64"), Some(Arch::X86_64));
        assert_eq!(Arch::from_name("i386"), Some(Arch::I386));
        assert_eq!(Arch::from_name("aarch64"), Some(Arch::AARCH64));
        assert_eq!(Arch::from_name("b64"), None);
    }

    #[test]
    fn decimal_parsing_rejects_junk() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u32(b"4294967296"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"12a"), None);
    }
}
