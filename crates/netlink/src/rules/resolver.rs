//! [`Resolver`]: what parsing a rule file needs to know about the host — user and group ids by
//! name, whether a watched path is a directory, the machine's architecture — behind a trait so
//! that parsing is testable without one. [`SystemResolver`] asks this host.

use std::ffi::CString;

use vocab::Arch;

/// Host facts the rule parser needs.
pub trait Resolver {
    /// Returns the uid of user `name` (`root` → 0).
    fn uid(&self, name: &str) -> Option<u32>;
    /// Returns the gid of group `name`.
    fn gid(&self, name: &str) -> Option<u32>;
    /// Returns true when `path` is a directory: auditctl's `-w` watches a directory tree
    /// (`dir`) and anything else, existing or not, as a `path`.
    fn is_dir(&self, path: &str) -> bool;
    /// Returns the machine's audit architecture: the syscall table used without `-F arch`
    /// and what `b64` means. Defaults to the architecture this crate was built for.
    fn machine(&self) -> Arch {
        machine_arch()
    }
}

/// The architecture this crate was built for (x86_64 when unknown).
pub(crate) fn machine_arch() -> Arch {
    if cfg!(target_arch = "aarch64") {
        Arch::AARCH64
    } else if cfg!(target_arch = "powerpc64") {
        Arch::PPC64LE
    } else if cfg!(target_arch = "s390x") {
        Arch::S390X
    } else if cfg!(target_arch = "riscv64") {
        Arch::RISCV64
    } else if cfg!(target_arch = "x86") {
        Arch::I386
    } else if cfg!(target_arch = "arm") {
        Arch::ARM
    } else {
        Arch::X86_64
    }
}

/// Returns the 32-bit architecture (`b32`) that runs beside a 64-bit `machine`.
pub(crate) fn compat_arch(machine: Arch) -> Option<Arch> {
    Some(match machine {
        Arch::X86_64 => Arch::I386,
        Arch::AARCH64 => Arch::ARM,
        Arch::PPC64LE => Arch(0x0000_0014), // ppc
        Arch::S390X => Arch(0x0000_0016),   // s390
        Arch::RISCV64 => Arch(0x4000_00f3), // riscv32
        _ => return None,
    })
}

/// Resolves through this host: the C library's user and group database, and `stat`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn uid(&self, name: &str) -> Option<u32> {
        let name = CString::new(name).ok()?;
        let mut buf = vec![0 as libc::c_char; 16 << 10];
        // SAFETY: passwd is plain data; getpwnam_r fills it, pointing into `buf`.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let rc = unsafe {
            libc::getpwnam_r(
                name.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr(),
                buf.len(),
                &mut found,
            )
        };
        (rc == 0 && !found.is_null()).then_some(pwd.pw_uid)
    }

    fn gid(&self, name: &str) -> Option<u32> {
        let name = CString::new(name).ok()?;
        let mut buf = vec![0 as libc::c_char; 64 << 10];
        // SAFETY: group is plain data; getgrnam_r fills it, pointing into `buf`.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::group = std::ptr::null_mut();
        let rc = unsafe {
            libc::getgrnam_r(
                name.as_ptr(),
                &mut grp,
                buf.as_mut_ptr(),
                buf.len(),
                &mut found,
            )
        };
        (rc == 0 && !found.is_null()).then_some(grp.gr_gid)
    }

    fn is_dir(&self, path: &str) -> bool {
        std::fs::metadata(path).is_ok_and(|m| m.is_dir())
    }
}
