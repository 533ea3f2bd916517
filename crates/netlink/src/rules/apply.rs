//! Loading a [`RuleFile`] into the kernel ([`apply`]) and taking its rules out again
//! ([`remove`]), with a report of what each line did.
//!
//! Rules someone else loaded are never flushed by default: a bare `-D` is skipped with a
//! warning unless [`ApplyOptions::allow_flush`]; `-D -k KEY` deletes only rules with that key.
//! A rule the kernel already has (`EEXIST`) is reported as already present, not as an error.

use super::error::{ErrorKind, RuleError};
use super::types::{Command, Control, Rule, RuleFile, RuleLine};
use crate::{AuditSocket, Error};

/// How [`apply`] treats errors and flushes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Keep going after a failed line and collect every error (as `-i`/`-c` in the file do).
    pub ignore_errors: bool,
    /// Let a bare `-D` delete every rule in the kernel, including rules other tools loaded.
    pub allow_flush: bool,
}

/// What one command of a rule file did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The kernel took the rule.
    Added,
    /// The kernel already had an identical rule (`EEXIST`); it was left alone.
    AlreadyPresent,
    /// A `-d`/`-W` rule was deleted.
    Deleted,
    /// A `-d`/`-W` rule (or a rule being removed) was not in the kernel (`ENOENT`).
    NotPresent,
    /// `-D` (with or without `-k`) deleted this many rules.
    Flushed { deleted: usize },
    /// A control setting was set.
    ControlSet(Control),
    /// `-i`/`-c`: errors from here on are collected, not fatal.
    IgnoreErrors,
    /// A bare `-D` was not run: [`ApplyOptions::allow_flush`] is off.
    FlushSkipped,
    /// The line failed; its error is in [`ApplyReport::errors`].
    Failed,
}

/// One command's outcome, with its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineReport {
    pub line: u32,
    pub text: String,
    pub outcome: Outcome,
}

/// What [`apply`] or [`remove`] did, line by line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// The file's name.
    pub file: String,
    pub lines: Vec<LineReport>,
    /// Errors of the lines that failed (only more than one with `ignore_errors`).
    pub errors: Vec<RuleError>,
    /// Things skipped on purpose, as `FILE:LINE: what`.
    pub warnings: Vec<String>,
    /// The rules this run added (not those already present), to take out again with
    /// [`remove`] through [`ApplyReport::added_rules`].
    added: Vec<RuleLine>,
}

impl ApplyReport {
    fn new(file: &RuleFile) -> ApplyReport {
        ApplyReport {
            file: file.name.clone(),
            ..ApplyReport::default()
        }
    }

    /// Returns the rules this run added (outcome [`Outcome::Added`]) as a rule file, for
    /// [`remove`]: rules that were already present stay when it is removed.
    pub fn added_rules(&self) -> RuleFile {
        RuleFile {
            name: self.file.clone(),
            lines: self.added.clone(),
        }
    }

    /// Returns the lines with `outcome`.
    pub fn count(&self, outcome: &Outcome) -> usize {
        self.lines.iter().filter(|l| &l.outcome == outcome).count()
    }

    fn push(&mut self, line: &RuleLine, outcome: Outcome) {
        self.lines.push(LineReport {
            line: line.line,
            text: line.text.clone(),
            outcome,
        });
    }
}

/// The first error of an [`apply`] without `ignore_errors`, with what was applied before it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct ApplyError {
    pub error: RuleError,
    /// The report up to and including the failed line (boxed: errors stay small to move).
    pub report: Box<ApplyReport>,
}

/// Applies every command of `file`, in order. Without `ignore_errors` (from `options` or a
/// `-i`/`-c` line before the failing one) the first error stops and is returned with the
/// report so far; with it, every error is collected in the report and the rest still applies.
pub fn apply(
    socket: &mut AuditSocket,
    file: &RuleFile,
    options: &ApplyOptions,
) -> Result<ApplyReport, ApplyError> {
    let mut report = ApplyReport::new(file);
    let mut ignore_errors = options.ignore_errors;
    for line in &file.lines {
        let result = match &line.command {
            Command::Add(rule) => match socket.add_rule(rule) {
                Ok(()) => {
                    report.added.push(line.clone());
                    Ok(Outcome::Added)
                }
                Err(Error::Kernel {
                    errno: libc::EEXIST,
                    ..
                }) => Ok(Outcome::AlreadyPresent),
                Err(e) => Err(rule_error(e)),
            },
            Command::Delete(rule) => delete(socket, rule),
            Command::DeleteAll { key: Some(key) } => {
                flush(socket, |rule| rule.has_key(key)).map(|deleted| Outcome::Flushed { deleted })
            }
            Command::DeleteAll { key: None } if options.allow_flush => {
                flush(socket, |_| true).map(|deleted| Outcome::Flushed { deleted })
            }
            Command::DeleteAll { key: None } => {
                report.warnings.push(format!(
                    "{}:{}: -D skipped: it would delete rules other tools loaded (allow_flush is off)",
                    file.name, line.line
                ));
                Ok(Outcome::FlushSkipped)
            }
            Command::Control(control) => set_control(socket, *control),
            Command::IgnoreErrors => {
                ignore_errors = true;
                Ok(Outcome::IgnoreErrors)
            }
        };
        match result {
            Ok(outcome) => report.push(line, outcome),
            Err(kind) => {
                report.push(line, Outcome::Failed);
                let error = RuleError {
                    file: file.name.clone(),
                    line: line.line,
                    kind,
                };
                if !ignore_errors {
                    return Err(ApplyError {
                        error,
                        report: Box::new(report),
                    });
                }
                report.errors.push(error);
            }
        }
    }
    Ok(report)
}

/// Deletes every rule `file` adds (its `-a`, `-A` and `-w` lines), for an agent that takes its
/// rules out on exit; other commands are not undone. A rule the kernel does not have is
/// [`Outcome::NotPresent`]; other failures are collected and the rest is still removed. To
/// leave rules that were already present before [`apply`], pass
/// [`ApplyReport::added_rules`].
pub fn remove(socket: &mut AuditSocket, file: &RuleFile) -> ApplyReport {
    let mut report = ApplyReport::new(file);
    for line in &file.lines {
        let Command::Add(rule) = &line.command else {
            continue;
        };
        match delete(socket, rule) {
            Ok(outcome) => report.push(line, outcome),
            Err(kind) => {
                report.push(line, Outcome::Failed);
                report.errors.push(RuleError {
                    file: file.name.clone(),
                    line: line.line,
                    kind,
                });
            }
        }
    }
    report
}

fn delete(socket: &mut AuditSocket, rule: &Rule) -> Result<Outcome, ErrorKind> {
    match socket.delete_rule(rule) {
        Ok(()) => Ok(Outcome::Deleted),
        Err(Error::Kernel {
            errno: libc::ENOENT,
            ..
        }) => Ok(Outcome::NotPresent),
        Err(e) => Err(rule_error(e)),
    }
}

/// Deletes the listed rules `select` picks; returns how many.
fn flush(socket: &mut AuditSocket, select: impl Fn(&Rule) -> bool) -> Result<usize, ErrorKind> {
    let rules = socket.list_rules().map_err(rule_error)?;
    let mut deleted = 0;
    for rule in rules.iter().filter(|r| select(r)) {
        match socket.delete_rule(rule) {
            Ok(()) => deleted += 1,
            // Gone in between (another tool deleted it): what we wanted.
            Err(Error::Kernel {
                errno: libc::ENOENT,
                ..
            }) => {}
            Err(e) => return Err(rule_error(e)),
        }
    }
    Ok(deleted)
}

fn set_control(socket: &mut AuditSocket, control: Control) -> Result<Outcome, ErrorKind> {
    let (what, result) = match control {
        Control::BacklogLimit(n) => ("backlog_limit", socket.set_backlog_limit(n)),
        Control::BacklogWaitTime(n) => ("backlog_wait_time", socket.set_backlog_wait_time(n)),
        Control::RateLimit(n) => ("rate_limit", socket.set_rate_limit(n)),
        Control::Failure(n) => ("failure", socket.set_failure(n)),
        Control::Enabled(n) => ("enabled", socket.set_enabled(n)),
    };
    match result {
        Ok(()) => Ok(Outcome::ControlSet(control)),
        Err(Error::Kernel { errno, .. }) => Err(ErrorKind::KernelRefusedControl { what, errno }),
        Err(e) => Err(ErrorKind::Netlink(e.to_string())),
    }
}

fn rule_error(e: Error) -> ErrorKind {
    match e {
        Error::Kernel { errno, .. } => ErrorKind::KernelRefusedRule(errno),
        e => ErrorKind::Netlink(e.to_string()),
    }
}
