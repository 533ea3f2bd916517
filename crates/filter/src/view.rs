//! One event as the matchers see it: the cheap facts of its SYSCALL record, and the interpreted
//! summary and resolved paths, each computed at most once and only when a matcher asks.
//!
//! Not a cache across events: a view lives for one evaluation.

use assemble::summary::{summarize, Summary};
use assemble::Event;
use parse::Fields;
use vocab::{parse_u32, Arch, RecordType};

use crate::rule::{IdValue, Matcher, SyscallSel};

/// What the lineage logic and the cheap matchers need from the first SYSCALL record, read in
/// one pass over its fields without allocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    pub(crate) arch: Option<Arch>,
    pub(crate) syscall: Option<u32>,
    pub(crate) success: Option<bool>,
    pub(crate) exit: Option<i64>,
    pub(crate) pid: Option<u32>,
}

impl Facts {
    pub(crate) fn syscall_name(&self) -> Option<&'static str> {
        self.arch?.syscall_name(self.syscall?)
    }
}

pub(crate) struct View<'e> {
    event: &'e Event,
    facts: Option<Option<Facts>>,
    summary: Option<Option<Summary<'e>>>,
    paths: Option<Vec<Vec<u8>>>,
    /// How many times [`summarize`] ran for this view (0 or 1; checked by tests).
    pub(crate) summaries: u32,
}

impl<'e> View<'e> {
    pub(crate) fn new(event: &'e Event) -> View<'e> {
        View {
            event,
            facts: None,
            summary: None,
            paths: None,
            summaries: 0,
        }
    }

    /// Returns the facts of the first SYSCALL record, `None` when the event has none.
    pub(crate) fn facts(&mut self) -> Option<Facts> {
        *self.facts.get_or_insert_with(|| scan_facts(self.event))
    }

    fn summary(&mut self) -> Option<&Summary<'e>> {
        if self.summary.is_none() {
            self.summaries += 1;
            self.summary = Some(summarize(self.event));
        }
        self.summary.as_ref().and_then(Option::as_ref)
    }

    fn paths(&mut self) -> &[Vec<u8>] {
        if self.paths.is_none() {
            let resolved = match self.summary() {
                Some(s) => s
                    .paths
                    .iter()
                    .filter_map(|p| p.name.as_deref())
                    .map(|name| resolve(s.cwd.as_deref(), name))
                    .collect(),
                None => Vec::new(),
            };
            self.paths = Some(resolved);
        }
        self.paths.as_deref().unwrap_or_default()
    }

    /// Returns true if the matcher matches the event.
    pub(crate) fn matches(&mut self, m: &Matcher) -> bool {
        match m {
            Matcher::RecordType(rt) => self.event.records().any(|r| r.record_type == *rt),
            Matcher::Syscall(SyscallSel::Number(n)) => {
                self.facts().is_some_and(|f| f.syscall == Some(*n))
            }
            Matcher::Syscall(SyscallSel::Name(n)) => {
                self.facts().is_some_and(|f| f.syscall_name() == Some(*n))
            }
            Matcher::Success(b) => self.facts().is_some_and(|f| f.success == Some(*b)),
            Matcher::Key(p) => self
                .summary()
                .is_some_and(|s| s.keys.iter().any(|k| p.matches(k))),
            Matcher::Exe(p) => self
                .summary()
                .and_then(|s| s.exe.as_deref())
                .is_some_and(|exe| p.matches(exe)),
            Matcher::Id(field, want) => {
                let Some(s) = self.summary() else {
                    return false;
                };
                let Some((_, id)) = s.ids.iter().find(|(name, _)| *name == field.as_str()) else {
                    return false;
                };
                match want {
                    IdValue::Unset => id.value.is_none(),
                    IdValue::Is(n) => id.value == Some(*n),
                }
            }
            Matcher::Path(p) => self.paths().iter().any(|name| p.matches(name)),
        }
    }

    /// Returns true if every matcher matches (true for none).
    pub(crate) fn matches_all(&mut self, matchers: &[Matcher]) -> bool {
        matchers.iter().all(|m| self.matches(m))
    }
}

fn scan_facts(event: &Event) -> Option<Facts> {
    let record = event.first(RecordType::SYSCALL)?;
    let mut f = Facts::default();
    for field in Fields::new(record.body) {
        let v = field.value.bytes();
        match field.name {
            b"arch" => {
                f.arch = std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| u32::from_str_radix(s, 16).ok())
                    .map(Arch)
            }
            b"syscall" => f.syscall = parse_u32(v),
            b"success" => f.success = Some(v == b"yes"),
            b"exit" => f.exit = std::str::from_utf8(v).ok().and_then(|s| s.parse().ok()),
            b"pid" => f.pid = parse_u32(v),
            _ => {}
        }
        // The kernel writes these first, `pid` last of them: stop reading there.
        if f.pid.is_some()
            && f.syscall.is_some()
            && f.arch.is_some()
            && f.success.is_some()
            && f.exit.is_some()
        {
            break;
        }
    }
    Some(f)
}

/// Resolves a PATH record's name for the `path` matcher.
///
/// - An absolute name (starting with `/`) is taken as is; a relative name is joined to the
///   event's CWD with one `/`, when the event has a CWD and it is absolute. A relative name
///   without an absolute CWD is returned unchanged and not normalized.
/// - The absolute result is normalized lexically: empty and `.` components are removed, `..`
///   removes the component before it (never above `/`); a trailing `/` is kept. Symbolic links
///   are not (cannot be) followed: the kernel logged the name as the process passed it.
pub(crate) fn resolve(cwd: Option<&[u8]>, name: &[u8]) -> Vec<u8> {
    let joined;
    let path: &[u8] = if name.starts_with(b"/") {
        name
    } else {
        match cwd {
            Some(cwd) if cwd.starts_with(b"/") => {
                let mut j = cwd.to_vec();
                j.push(b'/');
                j.extend_from_slice(name);
                joined = j;
                &joined
            }
            _ => return name.to_vec(),
        }
    };
    let mut out = assemble::path::normalize(path);
    if path.ends_with(b"/") && out != b"/" {
        out.push(b'/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[track_caller]
    fn check(cwd: Option<&str>, name: &str, want: &str) {
        let got = resolve(cwd.map(str::as_bytes), name.as_bytes());
        assert_eq!(String::from_utf8_lossy(&got), want);
    }

    #[test]
    fn resolves_names() {
        check(None, "/etc/shadow", "/etc/shadow");
        check(Some("/tmp"), "/etc//./shadow", "/etc/shadow");
        check(Some("/home/bob"), "notes.txt", "/home/bob/notes.txt");
        check(Some("/home/bob/"), "./a/../b", "/home/bob/b");
        check(Some("/tmp"), "../../../etc/passwd", "/etc/passwd");
        check(Some("/tmp/a b"), "x", "/tmp/a b/x");
        check(None, "relative/x", "relative/x");
        check(Some("relative"), "x", "x");
        check(Some("/"), "tmp/", "/tmp/");
        check(Some("/"), "..", "/");
        check(Some("/tmp"), "/", "/");
    }
}
