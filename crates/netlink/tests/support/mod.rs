//! What every kernel test binary of this crate shares: the process-wide lock on the kernel's
//! audit state, and saving and restoring that state.
//!
//! Kernel tests never skip: without root they fail with a message saying so. Each takes
//! [`begin`] for its whole run — a mutex for the tests of one binary and `flock` on
//! [`LOCK_FILE`] for every binary and every `cargo test` on the machine — and a [`SavedState`]
//! that puts the audit settings, the daemon registration and the rule list back as found.

#![allow(dead_code)]

use std::sync::{Mutex, MutexGuard};

use netlink::{AuditSocket, Status};

/// Serializes the tests of one binary: they share the kernel's audit state.
static LOCK: Mutex<()> = Mutex::new(());

/// The file locked by every kernel test, so that two test binaries (or two `cargo test` runs)
/// on one machine also take turns.
pub const LOCK_FILE: &str = "/run/lock/auditmesh-netlink-kernel-tests.lock";

/// Held for the whole of one kernel test.
pub struct Turn {
    _thread: MutexGuard<'static, ()>,
    _process: std::fs::File,
}

/// Takes the lock (a panicked test's poison is tolerated: its guards restored the state) and
/// checks that the test can work at all.
pub fn begin() -> Turn {
    let thread = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the netlink kernel tests need root (CAP_AUDIT_CONTROL, CAP_AUDIT_READ); run them as root — they never skip"
    );
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK_FILE)
        .unwrap_or_else(|e| panic!("open {LOCK_FILE}: {e}"));
    assert_eq!(
        unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_EX) },
        0,
        "flock {LOCK_FILE}"
    );
    Turn {
        _thread: thread,
        _process: file,
    }
}

/// The kernel's audit settings and rules before a test, put back when dropped (also when the
/// test panics).
pub struct SavedState {
    pub before: Status,
    pub rules: Vec<Vec<u8>>,
}

impl SavedState {
    pub fn save() -> SavedState {
        let mut s = AuditSocket::open().expect("open audit socket");
        let before = s.get_status().expect("AUDIT_GET");
        assert_ne!(
            before.enabled, 2,
            "audit is locked (enabled 2) until reboot: kernel tests cannot run"
        );
        let rules = s.list_rule_data().expect("AUDIT_LIST_RULES");
        SavedState { before, rules }
    }
}

impl Drop for SavedState {
    fn drop(&mut self) {
        let mut s = AuditSocket::open().expect("open audit socket to restore state");
        let now = s.get_status().expect("AUDIT_GET");
        if now.pid == std::process::id() {
            s.release().expect("release the daemon registration");
        }
        s.set_enabled(self.before.enabled).expect("restore enabled");
        s.set_failure(self.before.failure).expect("restore failure");
        s.set_rate_limit(self.before.rate_limit)
            .expect("restore rate_limit");
        s.set_backlog_limit(self.before.backlog_limit)
            .expect("restore backlog_limit");
        s.set_backlog_wait_time(self.before.backlog_wait_time)
            .expect("restore backlog_wait_time");
        let mut extra = s.list_rule_data().expect("AUDIT_LIST_RULES");
        let mut missing = Vec::new();
        for rule in &self.rules {
            match extra.iter().position(|r| r == rule) {
                Some(i) => drop(extra.swap_remove(i)),
                None => missing.push(rule),
            }
        }
        for rule in &extra {
            s.delete_rule_data(rule)
                .expect("delete a rule the test left behind");
        }
        for rule in missing {
            s.add_rule_data(rule)
                .expect("add back a rule the test deleted");
        }
        if !std::thread::panicking() {
            assert!(
                extra.is_empty(),
                "the test left {} rule(s) behind (now deleted)",
                extra.len()
            );
        }
    }
}
