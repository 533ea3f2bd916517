//! The agent's log: one line per message on standard error, `auditmesh agent: LEVEL: message`,
//! with the time in UTC. Standard output may carry the events, so nothing else goes there.

use std::fmt::Arguments;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static LEVEL: AtomicU8 = AtomicU8::new(2);

/// How much is logged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

/// Sets the most detailed level written.
pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

fn write(level: Level, name: &str, args: Arguments<'_>) {
    if level as u8 > LEVEL.load(Ordering::Relaxed) {
        return;
    }
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let mut time = Vec::with_capacity(26);
    render::time::rfc3339_millis(&mut time, millis);
    let time = String::from_utf8_lossy(&time[1..time.len() - 1]).into_owned();
    let _ = writeln!(std::io::stderr().lock(), "{time} auditmesh agent: {name}: {args}");
}

pub fn error(args: Arguments<'_>) {
    write(Level::Error, "error", args);
}

pub fn warn(args: Arguments<'_>) {
    write(Level::Warn, "warning", args);
}

pub fn info(args: Arguments<'_>) {
    write(Level::Info, "info", args);
}

pub fn debug(args: Arguments<'_>) {
    write(Level::Debug, "debug", args);
}
