//! The process table: every process the agent knows, keyed by its exec event so that a reused
//! pid never inherits another process's parent or ancestry.
//!
//! Each incarnation of a pid (an exec, a fork, or a process found in `/proc` at start) gets a
//! table-unique key; a process points at its parent by that key, captured when it was created, so
//! the parent is found even after its pid was reused. Exited processes stay (they may still be
//! ancestors) until the table is full: then exited processes go first, in exit order, then the
//! oldest live ones; both are counted. The table is saved to and restored from a versioned text
//! state file so it survives an agent restart.
//!
//! Pure apart from [`ProcessTable::seed_from_proc`], [`ProcessTable::save_to`] and
//! [`ProcessTable::load_from`], which go through a [`HostView`]. Knows nothing about records:
//! the caller maps SYSCALL/EXECVE events to `on_exec`, `on_fork` and `on_exit`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;
use std::path::{Path, PathBuf};

use vocab::{EventId, Serial, Timestamp};

use crate::error::is_gone;
use crate::{Counter, Counters, Error, HostView};

/// The kernel's `USER_HZ`: `/proc/PID/stat` start times are in these ticks. It is 100 on every
/// architecture we collect from (it is part of the user-space ABI, independent of `CONFIG_HZ`).
const USER_HZ: u64 = 100;

/// How a process came into the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Origin {
    /// Seen executing: the exec event's id.
    Exec(EventId),
    /// Found in `/proc` at start: its start time in clock ticks after boot.
    Proc { start_ticks: u64 },
    /// Forked from a known process and not (yet) seen executing: it runs its parent's image.
    Fork,
}

/// One incarnation of a process.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Process {
    /// Table-unique key of this incarnation.
    pub key: u64,
    pub pid: u32,
    pub ppid: u32,
    /// Key of the parent incarnation, when the parent was known at creation.
    pub parent: Option<u64>,
    pub exe: Vec<u8>,
    pub argv: Vec<Vec<u8>>,
    /// When the image was executed (the exec event's time, or the start time from `/proc`).
    pub exec_time: Option<Timestamp>,
    pub origin: Origin,
    /// The process exited, or replaced this image with another exec.
    pub exited: bool,
}

/// Bounds of the table.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// The most processes (live and exited) kept.
    pub max_processes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_processes: 65_536,
        }
    }
}

/// The process table.
#[derive(Debug)]
pub struct ProcessTable {
    config: Config,
    next_key: u64,
    by_key: BTreeMap<u64, Process>,
    live: HashMap<u32, u64>,
    exited: VecDeque<u64>,
    counters: Counters,
}

impl ProcessTable {
    /// Returns an empty table.
    pub fn new(config: Config) -> ProcessTable {
        ProcessTable {
            config,
            next_key: 1,
            by_key: BTreeMap::new(),
            live: HashMap::new(),
            exited: VecDeque::new(),
            counters: Counters::default(),
        }
    }

    /// Returns the evictions so far (`evicted_exited`, `evicted_live`).
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Returns the number of processes kept, live and exited.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Tells whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Returns the number of live processes.
    pub fn live_len(&self) -> usize {
        self.live.len()
    }

    /// Records an exec: `pid` now runs `exe` with `argv`. A previous image of `pid` is retired.
    pub fn on_exec(
        &mut self,
        pid: u32,
        ppid: u32,
        exe: &[u8],
        argv: Vec<Vec<u8>>,
        time: Timestamp,
        event_id: EventId,
    ) -> &Process {
        let parent = self.live.get(&ppid).copied();
        self.insert(Process {
            key: 0,
            pid,
            ppid,
            parent,
            exe: exe.to_vec(),
            argv,
            exec_time: Some(time),
            origin: Origin::Exec(event_id),
            exited: false,
        })
    }

    /// Records a fork or clone: `child` runs a copy of `parent`'s image. Returns `None` (and the
    /// caller counts `process_unknown`) when the parent is not known.
    pub fn on_fork(&mut self, parent: u32, child: u32) -> Option<&Process> {
        let parent_key = *self.live.get(&parent)?;
        let image = &self.by_key[&parent_key];
        let process = Process {
            key: 0,
            pid: child,
            ppid: parent,
            parent: Some(parent_key),
            exe: image.exe.clone(),
            argv: image.argv.clone(),
            exec_time: image.exec_time,
            origin: Origin::Fork,
            exited: false,
        };
        Some(self.insert(process))
    }

    /// Records that `pid` exited. Returns false when it was not known.
    pub fn on_exit(&mut self, pid: u32) -> bool {
        self.retire(pid)
    }

    /// Returns the live process `pid`.
    pub fn get(&self, pid: u32) -> Option<&Process> {
        self.live.get(&pid).and_then(|key| self.by_key.get(key))
    }

    /// Returns the incarnation with table key `key`, live or exited.
    pub fn get_by_key(&self, key: u64) -> Option<&Process> {
        self.by_key.get(&key)
    }

    /// Returns the parent of the live process `pid`: the incarnation that was its parent when it
    /// was created, even if that parent has exited and its pid was reused since.
    pub fn parent_of(&self, pid: u32) -> Option<&Process> {
        self.get(pid)?.parent.and_then(|key| self.by_key.get(&key))
    }

    /// Returns the ancestors of the live process `pid`, nearest first, at most `max_depth`.
    pub fn ancestry(&self, pid: u32, max_depth: usize) -> Vec<&Process> {
        let mut chain = Vec::new();
        let mut current = self.get(pid);
        while let Some(process) = current {
            if chain.len() >= max_depth {
                break;
            }
            let Some(parent) = process.parent.and_then(|key| self.by_key.get(&key)) else {
                break;
            };
            chain.push(parent);
            current = Some(parent);
        }
        chain
    }

    fn insert(&mut self, mut process: Process) -> &Process {
        self.retire(process.pid);
        let key = self.next_key;
        self.next_key += 1;
        process.key = key;
        self.live.insert(process.pid, key);
        self.by_key.insert(key, process);
        self.evict();
        // The new process has the highest key: it is evicted last, so it is still here.
        &self.by_key[&key]
    }

    fn retire(&mut self, pid: u32) -> bool {
        let Some(key) = self.live.remove(&pid) else {
            return false;
        };
        if let Some(process) = self.by_key.get_mut(&key) {
            process.exited = true;
            self.exited.push_back(key);
        }
        true
    }

    fn evict(&mut self) {
        while self.by_key.len() > self.config.max_processes.max(1) {
            if let Some(key) = self.exited.pop_front() {
                if self.by_key.remove(&key).is_some() {
                    self.counters.add(Counter::EvictedExited);
                }
                continue;
            }
            let Some((key, oldest)) = self.by_key.pop_first() else {
                break;
            };
            // Every exited process is in the exit queue, so the oldest left is live; check anyway
            // rather than unlink another incarnation of its pid.
            if self.live.get(&oldest.pid) == Some(&key) {
                self.live.remove(&oldest.pid);
                self.counters.add(Counter::EvictedLive);
            } else {
                self.counters.add(Counter::EvictedExited);
            }
        }
    }

    /// Brings the table in line with `/proc`: processes not known yet (or whose pid now runs
    /// another program) are added, known live processes no longer in `/proc` are marked exited.
    /// Returns the number of processes added; per-process failures are counted in `counters`.
    ///
    /// After a restore, a live process whose pid is in `/proc` with the same executable is kept as
    /// restored (it keeps its exec event); a pid reused while the agent was down shows another
    /// executable, or another start time for a process that was itself seeded, and is replaced.
    pub fn seed_from_proc(
        &mut self,
        host: &dyn HostView,
        counters: &mut Counters,
    ) -> Result<usize, Error> {
        let names =
            host.read_dir(Path::new("/proc"))
                .map_err(|source| Error::StateUnavailable {
                    path: PathBuf::from("/proc"),
                    source,
                })?;
        let boot_millis = host
            .read_file(Path::new("/proc/stat"))
            .ok()
            .and_then(|s| parse_btime(&s))
            .map(|s| s * 1000);
        let mut seen = Vec::new();
        let mut found = Vec::new();
        for name in names {
            let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            match read_proc_process(host, pid, boot_millis) {
                Ok(process) => {
                    seen.push(pid);
                    found.push(process);
                }
                Err(error) => counters.add(error.counter()),
            }
        }
        seen.sort_unstable();
        let vanished: Vec<u32> = self
            .live
            .keys()
            .copied()
            .filter(|pid| seen.binary_search(pid).is_err())
            .collect();
        for pid in vanished {
            self.retire(pid);
        }
        // Parents first, so children find their parent's key.
        found.sort_by_key(|p| match p.origin {
            Origin::Proc { start_ticks } => (start_ticks, p.pid),
            _ => (0, p.pid),
        });
        let mut added = 0;
        for process in found {
            if let Some(known) = self.get(process.pid) {
                let same = match (known.origin, process.origin) {
                    (Origin::Proc { start_ticks: a }, Origin::Proc { start_ticks: b }) => a == b,
                    _ => known.exe == process.exe,
                };
                if same {
                    continue;
                }
            }
            let parent = self.live.get(&process.ppid).copied();
            self.insert(Process { parent, ..process });
            added += 1;
        }
        Ok(added)
    }

    /// Writes the table to `path` through the host view (atomically on a real host).
    pub fn save_to(&self, host: &dyn HostView, path: &Path) -> Result<(), Error> {
        host.write_file(path, &self.save())
            .map_err(|source| Error::StateUnavailable {
                path: path.to_owned(),
                source,
            })
    }

    /// Reads a table saved by [`ProcessTable::save_to`]; `Ok(None)` when there is no state file.
    pub fn load_from(
        host: &dyn HostView,
        path: &Path,
        config: Config,
    ) -> Result<Option<ProcessTable>, Error> {
        match host.read_file(path) {
            Ok(content) => ProcessTable::restore(&content, config).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::StateUnavailable {
                path: path.to_owned(),
                source,
            }),
        }
    }

    /// Returns the table in the state file format (see [`ProcessTable::restore`]).
    pub fn save(&self) -> Vec<u8> {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(out, "{STATE_MAGIC} {STATE_VERSION}");
        let _ = writeln!(out, "next {}", self.next_key);
        for p in self.by_key.values() {
            let parent = p.parent.map_or_else(|| "-".to_owned(), |k| k.to_string());
            let origin = match p.origin {
                Origin::Exec(id) => format!("e{}.{}", id.time.millis, id.serial.0),
                Origin::Proc { start_ticks } => format!("s{start_ticks}"),
                Origin::Fork => "f".to_owned(),
            };
            let time = p
                .exec_time
                .map_or_else(|| "-".to_owned(), |t| t.millis.to_string());
            let argv = if p.argv.is_empty() {
                "-".to_owned()
            } else {
                p.argv.iter().map(|a| hex(a)).collect::<Vec<_>>().join(",")
            };
            let state = if p.exited { 'X' } else { 'L' };
            let _ = writeln!(
                out,
                "p {} {} {} {parent} {state} {origin} {time} {} {argv}",
                p.key,
                p.pid,
                p.ppid,
                hex(&p.exe)
            );
        }
        for key in &self.exited {
            if self.by_key.contains_key(key) {
                let _ = writeln!(out, "x {key}");
            }
        }
        let _ = writeln!(out, "end {}", self.by_key.len());
        out.into_bytes()
    }

    /// Rebuilds a table from the state file format:
    ///
    /// ```text
    /// auditmesh-process-table 1
    /// next <next key>
    /// p <key> <pid> <ppid> <parent key|-> <L|X> <e<millis>.<serial>|s<start ticks>|f> <exec millis|-> x<exe hex> <x<arg hex>,…|->
    /// x <key of an exited process, in exit order>
    /// end <number of p lines>
    /// ```
    ///
    /// Any damage — truncation, a bad field, duplicate keys or pids, data after `end` — is an
    /// error naming the line; nothing is half-restored.
    pub fn restore(content: &[u8], config: Config) -> Result<ProcessTable, Error> {
        let text = std::str::from_utf8(content).map_err(|_| corrupt(0, "not utf-8"))?;
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        let (_, header) = lines.next().ok_or(corrupt(1, "empty"))?;
        let version = header
            .strip_prefix(STATE_MAGIC)
            .and_then(|v| v.strip_prefix(' '))
            .ok_or(corrupt(1, "not a process table state file"))?;
        if version != STATE_VERSION {
            return Err(Error::StateVersion {
                found: version.to_owned(),
            });
        }
        let (n, next) = lines.next().ok_or(corrupt(2, "missing next"))?;
        let next_key = next
            .strip_prefix("next ")
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or(corrupt(n, "bad next"))?;
        let mut table = ProcessTable::new(config);
        table.next_key = next_key;
        let mut ended = false;
        let mut queued = std::collections::HashSet::new();
        for (n, line) in lines.by_ref() {
            if let Some(rest) = line.strip_prefix("p ") {
                let process = parse_process_line(rest).ok_or(corrupt(n, "bad process line"))?;
                if process.key >= next_key {
                    return Err(corrupt(n, "key not below next"));
                }
                if !process.exited && table.live.insert(process.pid, process.key).is_some() {
                    return Err(corrupt(n, "two live processes with one pid"));
                }
                if table.by_key.insert(process.key, process).is_some() {
                    return Err(corrupt(n, "duplicate key"));
                }
            } else if let Some(rest) = line.strip_prefix("x ") {
                let key = rest
                    .parse::<u64>()
                    .map_err(|_| corrupt(n, "bad exited key"))?;
                if !table.by_key.get(&key).is_some_and(|p| p.exited) {
                    return Err(corrupt(n, "exited key names no exited process"));
                }
                if !queued.insert(key) {
                    return Err(corrupt(n, "exited key listed twice"));
                }
                table.exited.push_back(key);
            } else if let Some(rest) = line.strip_prefix("end ") {
                let count = rest.parse::<usize>().map_err(|_| corrupt(n, "bad end"))?;
                if count != table.by_key.len() {
                    return Err(corrupt(n, "process count does not match"));
                }
                ended = true;
                break;
            } else {
                return Err(corrupt(n, "unknown line"));
            }
        }
        if !ended {
            return Err(corrupt(text.lines().count() + 1, "truncated: no end line"));
        }
        if let Some((n, _)) = lines.next() {
            return Err(corrupt(n, "data after end"));
        }
        if table.exited.len() != table.by_key.values().filter(|p| p.exited).count() {
            return Err(corrupt(0, "exited processes missing from the exit order"));
        }
        table.evict();
        Ok(table)
    }
}

const STATE_MAGIC: &str = "auditmesh-process-table";
const STATE_VERSION: &str = "1";

fn corrupt(line: usize, reason: &'static str) -> Error {
    Error::StateCorrupt { line, reason }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(1 + 2 * bytes.len());
    s.push('x');
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let digits = s.strip_prefix('x')?.as_bytes();
    if digits.len() % 2 != 0 {
        return None;
    }
    let nibble = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    digits
        .chunks(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

fn parse_process_line(rest: &str) -> Option<Process> {
    let fields: Vec<&str> = rest.split(' ').collect();
    let [key, pid, ppid, parent, state, origin, time, exe, argv] = fields[..] else {
        return None;
    };
    let parent = if parent == "-" {
        None
    } else {
        Some(parent.parse().ok()?)
    };
    let exited = match state {
        "L" => false,
        "X" => true,
        _ => return None,
    };
    let origin = if origin == "f" {
        Origin::Fork
    } else if let Some(ticks) = origin.strip_prefix('s') {
        Origin::Proc {
            start_ticks: ticks.parse().ok()?,
        }
    } else {
        let (millis, serial) = origin.strip_prefix('e')?.split_once('.')?;
        Origin::Exec(EventId {
            time: Timestamp {
                millis: millis.parse().ok()?,
            },
            serial: Serial(serial.parse().ok()?),
        })
    };
    let exec_time = if time == "-" {
        None
    } else {
        Some(Timestamp {
            millis: time.parse().ok()?,
        })
    };
    let argv = if argv == "-" {
        Vec::new()
    } else {
        argv.split(',').map(unhex).collect::<Option<Vec<_>>>()?
    };
    Some(Process {
        key: key.parse().ok()?,
        pid: pid.parse().ok()?,
        ppid: ppid.parse().ok()?,
        parent,
        exe: unhex(exe)?,
        argv,
        exec_time,
        origin,
        exited,
    })
}

/// The fields of `/proc/PID/stat` the table uses.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Stat<'a> {
    pub pid: u32,
    /// The command name between the parentheses; may itself contain spaces and parentheses.
    pub comm: &'a [u8],
    pub state: u8,
    pub ppid: u32,
    /// Start time in clock ticks after boot (field 22).
    pub start_ticks: u64,
}

/// Parses `/proc/PID/stat`. The command name is everything between the first `(` and the *last*
/// `)`: a process can name itself `a) R 1 (b`.
pub fn parse_stat(content: &[u8]) -> Option<Stat<'_>> {
    let open = content.iter().position(|&b| b == b'(')?;
    let close = content.iter().rposition(|&b| b == b')')?;
    if close < open {
        return None;
    }
    let pid = vocab::parse_u32(content[..open].trim_ascii())?;
    let comm = &content[open + 1..close];
    let mut fields = content[close + 1..]
        .split(|&b| b == b' ')
        .filter(|f| !f.is_empty());
    let state = *fields.next()?.first()?;
    let ppid = vocab::parse_u32(fields.next()?)?;
    // After ppid: pgrp, session, tty_nr, tpgid, flags, minflt, cminflt, majflt, cmajflt, utime,
    // stime, cutime, cstime, priority, nice, num_threads, itrealvalue (17 fields), then starttime.
    let start_ticks = vocab::parse_u64(fields.nth(17)?.trim_ascii())?;
    Some(Stat {
        pid,
        comm,
        state,
        ppid,
        start_ticks,
    })
}

/// Returns `btime` (boot time, seconds since the epoch) from `/proc/stat`.
fn parse_btime(content: &[u8]) -> Option<u64> {
    content
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"btime "))
        .and_then(|v| vocab::parse_u64(v.trim_ascii()))
}

/// Splits `/proc/PID/cmdline` (NUL-terminated arguments) into arguments.
pub fn parse_cmdline(content: &[u8]) -> Vec<Vec<u8>> {
    let content = content.strip_suffix(b"\0").unwrap_or(content);
    if content.is_empty() {
        return Vec::new();
    }
    content.split(|&b| b == 0).map(<[u8]>::to_vec).collect()
}

/// Reads one process from `/proc`. Kernel threads have no `exe` and an empty `cmdline`: they are
/// kept with an empty exe, as they are ancestors of nothing but still parents in `/proc`.
fn read_proc_process(
    host: &dyn HostView,
    pid: u32,
    boot_millis: Option<u64>,
) -> Result<Process, Error> {
    let gone = |e: io::Error| {
        if is_gone(&e) {
            Error::ProcGone { pid }
        } else {
            Error::StateUnavailable {
                path: PathBuf::from(format!("/proc/{pid}")),
                source: e,
            }
        }
    };
    let stat = host
        .read_file(&PathBuf::from(format!("/proc/{pid}/stat")))
        .map_err(gone)?;
    let stat = parse_stat(&stat).ok_or(Error::StatUnparsable { pid })?;
    let exe = host
        .read_link(&PathBuf::from(format!("/proc/{pid}/exe")))
        .map(|p| p.into_os_string().into_encoded_bytes())
        .unwrap_or_default();
    let argv = host
        .read_file(&PathBuf::from(format!("/proc/{pid}/cmdline")))
        .map(|c| parse_cmdline(&c))
        .unwrap_or_default();
    let exec_time = boot_millis.map(|boot| Timestamp {
        millis: boot.saturating_add(stat.start_ticks.saturating_mul(1000 / USER_HZ)),
    });
    Ok(Process {
        key: 0,
        pid,
        ppid: stat.ppid,
        parent: None,
        exe,
        argv,
        exec_time,
        origin: Origin::Proc {
            start_ticks: stat.start_ticks,
        },
        exited: false,
    })
}

#[cfg(test)]
mod tests;
