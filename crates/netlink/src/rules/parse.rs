//! auditctl rule file text → [`RuleFile`]: one auditctl command line per line, `#` comments,
//! blank lines. Options are split at whitespace and read as getopt reads them (`-k key` and
//! `-kkey`, `--backlog_wait_time N` and `--backlog_wait_time=N`).
//!
//! Pure: host facts come through the [`Resolver`]. A bad line is an error naming the line; the
//! other lines still parse ([`parse_rule_text_lossy`]).

use vocab::{Arch, RecordType};

use super::error::{ErrorKind, RuleError};
use super::resolver::{compat_arch, Resolver};
use super::types::{
    Action, Command, Control, Field, FieldType, List, Op, Rule, RuleFile, RuleLine, Value,
    AUDIT_MAX_FIELDS, AUDIT_MAX_KEY_LEN, KEY_SEPARATOR,
};

/// `PATH_MAX`: the longest path auditctl takes for a watch.
const PATH_MAX: usize = 4096;

/// Parses a rule file; every line that fails is an error naming `name` and the line.
pub fn parse_rule_text(
    name: &str,
    text: &str,
    resolver: &dyn Resolver,
) -> Result<RuleFile, Vec<RuleError>> {
    let (file, errors) = parse_rule_text_lossy(name, text, resolver);
    if errors.is_empty() {
        Ok(file)
    } else {
        Err(errors)
    }
}

/// Parses a rule file, keeping the lines that parse: the file and the errors of the others.
pub fn parse_rule_text_lossy(
    name: &str,
    text: &str,
    resolver: &dyn Resolver,
) -> (RuleFile, Vec<RuleError>) {
    let mut file = RuleFile {
        name: name.to_string(),
        lines: Vec::new(),
    };
    let mut errors = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match parse_line(trimmed, resolver) {
            Ok(commands) => file
                .lines
                .extend(commands.into_iter().map(|command| RuleLine {
                    line,
                    text: trimmed.to_string(),
                    command,
                })),
            Err(kind) => errors.push(RuleError {
                file: name.to_string(),
                line,
                kind,
            }),
        }
    }
    (file, errors)
}

/// Which rule command a line carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RuleOp {
    Add,
    Delete,
}

/// What the options of one line have said so far.
struct LineState<'r> {
    resolver: &'r dyn Resolver,
    /// `-a`/`-A`/`-d`: add or delete, list, action, prepend.
    rule: Option<(RuleOp, List, Action, bool)>,
    /// `-w`/`-W`: add or delete, path.
    watch: Option<(RuleOp, String)>,
    perm: Option<u32>,
    fields: Vec<Field>,
    rule_mask: Rule,
    saw_syscall: bool,
    /// The syscall table `-S` names are looked up in: the machine's, or `-F arch`'s.
    arch: Arch,
    /// The first `-F` field that must be on particular lists, checked once the list is known.
    list_bound: Vec<(String, FieldType, &'static [List], &'static str)>,
    keys: Vec<String>,
    flush: bool,
    commands: Vec<Command>,
}

fn parse_line(line: &str, resolver: &dyn Resolver) -> Result<Vec<Command>, ErrorKind> {
    let mut st = LineState {
        resolver,
        rule: None,
        watch: None,
        perm: None,
        fields: Vec::new(),
        rule_mask: Rule::new(List::EXIT, Action::ALWAYS),
        saw_syscall: false,
        arch: resolver.machine(),
        list_bound: Vec::new(),
        keys: Vec::new(),
        flush: false,
        commands: Vec::new(),
    };
    let mut words = line.split_whitespace();
    while let Some(word) = words.next() {
        let (option, attached) = split_option(word)?;
        if matches!(option, "-D" | "-i" | "-c") {
            if let Some(value) = attached {
                return Err(ErrorKind::UnknownOption(format!("{option}{value}")));
            }
            match option {
                "-D" => st.flush = true,
                _ => st.commands.push(Command::IgnoreErrors),
            }
            continue;
        }
        let value = match attached {
            Some(v) => v,
            None => words.next().ok_or_else(|| match option {
                "-a"
                | "-A"
                | "-d"
                | "-F"
                | "-S"
                | "-k"
                | "-w"
                | "-W"
                | "-p"
                | "-b"
                | "-f"
                | "-r"
                | "-e"
                | "-C"
                | "--backlog_wait_time" => ErrorKind::MissingValue {
                    option: option.to_string(),
                },
                _ => ErrorKind::UnknownOption(option.to_string()),
            })?,
        };
        st.option(option, value)?;
    }
    st.finish()
}

/// Splits `-kkey` into (`-k`, `key`) and `--long=value` into (`--long`, `value`).
fn split_option(word: &str) -> Result<(&str, Option<&str>), ErrorKind> {
    if let Some(long) = word.strip_prefix("--") {
        return Ok(match long.split_once('=') {
            Some((name, value)) => (&word[..2 + name.len()], Some(value)),
            None => (word, None),
        });
    }
    if word.len() < 2 || !word.starts_with('-') || !word.is_char_boundary(2) {
        return Err(ErrorKind::UnknownOption(word.to_string()));
    }
    let (option, rest) = word.split_at(2);
    Ok((option, (!rest.is_empty()).then_some(rest)))
}

impl LineState<'_> {
    fn option(&mut self, option: &str, value: &str) -> Result<(), ErrorKind> {
        let arg = format!("{option} {value}");
        match option {
            "-a" | "-A" | "-d" => {
                if self.rule.is_some() || self.watch.is_some() {
                    return Err(ErrorKind::Usage("more than one rule on one line"));
                }
                let (list, action) = list_action(&arg, value)?;
                let op = if option == "-d" {
                    RuleOp::Delete
                } else {
                    RuleOp::Add
                };
                self.rule = Some((op, list, action, option == "-A"));
            }
            "-w" | "-W" => {
                if self.rule.is_some() || self.watch.is_some() {
                    return Err(ErrorKind::Usage("more than one rule on one line"));
                }
                if !value.starts_with('/') {
                    return Err(ErrorKind::RelativeWatch { arg });
                }
                // As auditctl does: the kernel refuses a watch path that ends in `/`.
                let trimmed = value.trim_end_matches('/');
                let value = if trimmed.is_empty() { "/" } else { trimmed };
                if value.len() >= PATH_MAX {
                    return Err(ErrorKind::BadValue {
                        arg,
                        reason: "path longer than PATH_MAX",
                    });
                }
                let op = if option == "-W" {
                    RuleOp::Delete
                } else {
                    RuleOp::Add
                };
                self.watch = Some((op, value.to_string()));
            }
            "-p" => {
                if self.perm.is_some() {
                    return Err(ErrorKind::Usage("-p given twice"));
                }
                self.perm = Some(perm(&arg, value)?);
            }
            "-F" => self.field(&format!("-F {value}"), value)?,
            "-C" => self.compare(&format!("-C {value}"), value)?,
            "-S" => self.syscalls(&arg, value)?,
            "-k" => self.keys.push(value.to_string()),
            "-b" | "-f" | "-r" | "-e" | "--backlog_wait_time" => {
                let n = parse_number(value)
                    .filter(|&n| n >= 0)
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or(ErrorKind::BadValue {
                        arg: arg.clone(),
                        reason: "not a non-negative number",
                    })?;
                let control = match option {
                    "-b" => Control::BacklogLimit(n),
                    "-r" => Control::RateLimit(n),
                    "--backlog_wait_time" => Control::BacklogWaitTime(n),
                    "-f" | "-e" if n > 2 => {
                        return Err(ErrorKind::BadValue {
                            arg,
                            reason: "must be 0, 1 or 2",
                        })
                    }
                    "-f" => Control::Failure(n),
                    _ => Control::Enabled(n),
                };
                self.commands.push(Command::Control(control));
            }
            _ => return Err(ErrorKind::UnknownOption(option.to_string())),
        }
        Ok(())
    }

    /// `-S name,name,…`: names in the current arch's table, numbers, or `all`.
    fn syscalls(&mut self, arg: &str, value: &str) -> Result<(), ErrorKind> {
        self.saw_syscall = true;
        for name in value.split(',') {
            if name == "all" {
                self.rule_mask.add_all_syscalls();
                continue;
            }
            let nr = match parse_number(name) {
                Some(n) => u32::try_from(n).ok(),
                None => self.arch.syscall_number(name),
            };
            let Some(nr) = nr else {
                return Err(ErrorKind::UnknownSyscall {
                    arg: arg.to_string(),
                    name: name.to_string(),
                    arch: self
                        .arch
                        .name()
                        .map_or_else(|| format!("{:#x}", self.arch.0), str::to_string),
                });
            };
            if !self.rule_mask.add_syscall(nr) {
                return Err(ErrorKind::BadValue {
                    arg: arg.to_string(),
                    reason: "syscall number beyond the rule's syscall mask",
                });
            }
        }
        Ok(())
    }

    /// `-F field op value`.
    fn field(&mut self, arg: &str, spec: &str) -> Result<(), ErrorKind> {
        let (name, op, value) = split_field(arg, spec)?;
        let field = FieldType::from_name(name)
            .filter(|&f| f != FieldType::FIELD_COMPARE)
            .ok_or_else(|| ErrorKind::UnknownField {
                arg: arg.to_string(),
                field: name.to_string(),
            })?;
        let allowed = ops_for(field);
        if !allowed.contains(&op) {
            return Err(ErrorKind::BadOperator {
                arg: arg.to_string(),
                field: name.to_string(),
                op: op.as_str(),
            });
        }
        let bad = |reason| ErrorKind::BadValue {
            arg: arg.to_string(),
            reason,
        };
        let value =
            match field {
                FieldType::UID
                | FieldType::EUID
                | FieldType::SUID
                | FieldType::FSUID
                | FieldType::LOGINUID
                | FieldType::OBJ_UID => match id_number(value) {
                    Some(n) => Value::Num(n),
                    None => Value::Num(self.resolver.uid(value).ok_or_else(|| {
                        ErrorKind::UnknownUser {
                            arg: arg.to_string(),
                            name: value.to_string(),
                        }
                    })?),
                },
                FieldType::GID
                | FieldType::EGID
                | FieldType::SGID
                | FieldType::FSGID
                | FieldType::OBJ_GID => match id_number(value) {
                    Some(n) => Value::Num(n),
                    None => Value::Num(self.resolver.gid(value).ok_or_else(|| {
                        ErrorKind::UnknownGroup {
                            arg: arg.to_string(),
                            name: value.to_string(),
                        }
                    })?),
                },
                FieldType::SESSIONID => {
                    Value::Num(id_number(value).ok_or(bad("not a session id"))?)
                }
                FieldType::ARCH => {
                    if self.saw_syscall {
                        return Err(ErrorKind::ArchAfterSyscall {
                            arg: arg.to_string(),
                        });
                    }
                    let machine = self.resolver.machine();
                    let arch = match value {
                        "b64" => Some(machine),
                        "b32" => compat_arch(machine),
                        _ => Arch::from_name(value),
                    }
                    .ok_or(bad(
                        "unknown architecture (b32, b64, or a name like x86_64)",
                    ))?;
                    self.arch = arch;
                    Value::Num(arch.0)
                }
                FieldType::MSGTYPE => {
                    let n = match parse_number(value) {
                        Some(n) => u32::try_from(n).ok(),
                        None => RecordType::from_name(value.as_bytes()).map(|t| t.0),
                    };
                    Value::Num(n.ok_or(bad("unknown message type"))?)
                }
                FieldType::FSTYPE => Value::Num(match value {
                    "debugfs" => 0x6462_6720,
                    "tracefs" => 0x7472_6163,
                    _ => parse_number(value)
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or(bad(
                            "unknown file system type (debugfs, tracefs, or a magic number)",
                        ))?,
                }),
                FieldType::EXIT => Value::Num(exit_value(value).ok_or(bad(
                    "not an exit value (a number, or an errno name like -EPERM)",
                ))?),
                FieldType::PERM => Value::Num(perm(arg, value)?),
                FieldType::FILETYPE => Value::Num(filetype(value).ok_or(bad(
                    "unknown file type (file, dir, socket, link, character, block, fifo)",
                ))?),
                FieldType::PATH | FieldType::DIR => {
                    if !value.starts_with('/') {
                        return Err(bad("path must be absolute"));
                    }
                    if value.len() >= PATH_MAX {
                        return Err(bad("path longer than PATH_MAX"));
                    }
                    Value::Str(value.as_bytes().to_vec())
                }
                FieldType::EXE => {
                    if value.len() >= PATH_MAX {
                        return Err(bad("path longer than PATH_MAX"));
                    }
                    Value::Str(value.as_bytes().to_vec())
                }
                FieldType::KEY => {
                    check_key_len(value.len())?;
                    Value::Str(value.as_bytes().to_vec())
                }
                f if f.is_string() => Value::Str(value.as_bytes().to_vec()),
                FieldType::A0 | FieldType::A1 | FieldType::A2 | FieldType::A3 => {
                    let n = parse_number(value).ok_or(bad("not a number"))?;
                    Value::Num(n as u32)
                }
                _ => {
                    let n = parse_number(value)
                        .filter(|&n| n >= 0)
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or(bad("not a non-negative number"))?;
                    Value::Num(n)
                }
            };
        if let Some((lists, names)) = lists_for(field) {
            self.list_bound.push((arg.to_string(), field, lists, names));
        }
        self.fields.push(Field { field, op, value });
        Ok(())
    }

    /// `-C field op field`: an inter-field comparison.
    fn compare(&mut self, arg: &str, spec: &str) -> Result<(), ErrorKind> {
        let (left, op, right) = split_field(arg, spec)?;
        if !matches!(op, Op::Eq | Op::Ne) {
            return Err(ErrorKind::BadOperator {
                arg: arg.to_string(),
                field: left.to_string(),
                op: op.as_str(),
            });
        }
        let left_type = FieldType::from_name(left);
        let right_type = FieldType::from_name(right);
        let (Some(l), Some(r)) = (left_type, right_type) else {
            let field = if left_type.is_none() { left } else { right };
            return Err(ErrorKind::UnknownField {
                arg: arg.to_string(),
                field: field.to_string(),
            });
        };
        let which = COMPARISONS
            .iter()
            .find(|(a, b, _)| (*a, *b) == (l, r) || (*a, *b) == (r, l))
            .map(|&(_, _, n)| n)
            .ok_or(ErrorKind::BadValue {
                arg: arg.to_string(),
                reason: "these two fields cannot be compared",
            })?;
        self.list_bound.push((
            arg.to_string(),
            FieldType::FIELD_COMPARE,
            &[List::EXIT],
            "exit",
        ));
        self.fields.push(Field {
            field: FieldType::FIELD_COMPARE,
            op,
            value: Value::Num(which),
        });
        Ok(())
    }

    /// Checks what the options say together and makes the line's commands.
    fn finish(mut self) -> Result<Vec<Command>, ErrorKind> {
        let has_rule_parts = !self.fields.is_empty() || self.saw_syscall;
        if self.flush {
            if self.rule.is_some() || self.watch.is_some() || has_rule_parts || self.perm.is_some()
            {
                return Err(ErrorKind::Usage("-D takes no rule, only an optional -k"));
            }
            let key = match self.keys.as_slice() {
                [] => None,
                [key] => Some(key.as_bytes().to_vec()),
                _ => return Err(ErrorKind::Usage("-D takes at most one -k")),
            };
            self.commands.push(Command::DeleteAll { key });
            return Ok(self.commands);
        }
        let key = self.joined_key()?;
        if let Some((op, path)) = self.watch.take() {
            if has_rule_parts {
                return Err(ErrorKind::Usage(
                    "-F, -C and -S do not go with -w; write the watch as -a always,exit -F path=…",
                ));
            }
            let mut rule = Rule::new(List::EXIT, Action::ALWAYS);
            rule.add_all_syscalls();
            let field = if self.resolver.is_dir(&path) {
                FieldType::DIR
            } else {
                FieldType::PATH
            };
            rule.fields.push(Field {
                field,
                op: Op::Eq,
                value: Value::Str(path.into_bytes()),
            });
            rule.fields.push(Field {
                field: FieldType::PERM,
                op: Op::Eq,
                value: Value::Num(self.perm.unwrap_or(0xf)),
            });
            rule.fields.extend(key);
            self.commands.push(rule_command(op, rule));
            return Ok(self.commands);
        }
        if self.perm.is_some() {
            return Err(ErrorKind::Usage("-p only goes with -w"));
        }
        let Some((op, list, action, prepend)) = self.rule else {
            if has_rule_parts || key.is_some() {
                return Err(ErrorKind::Usage(
                    "-F, -C, -S and -k need a rule: -a, -A, -d or -w",
                ));
            }
            if self.commands.is_empty() {
                return Err(ErrorKind::Usage("no command on this line"));
            }
            return Ok(self.commands);
        };
        let mut rule = Rule::new(list, action);
        rule.prepend = prepend;
        if self.saw_syscall {
            if list != List::EXIT {
                return Err(ErrorKind::Usage("-S is only valid on the exit list"));
            }
            rule.mask = self.rule_mask.mask;
        } else if list != List::TASK {
            // auditctl sets every syscall bit on all lists but task when no -S is given.
            rule.add_all_syscalls();
        }
        for (arg, field, lists, names) in &self.list_bound {
            if !lists.contains(&list) {
                return Err(ErrorKind::WrongList {
                    arg: arg.clone(),
                    field: field.to_string(),
                    lists: names,
                });
            }
        }
        rule.fields = self.fields;
        rule.fields.extend(key);
        let key_len: usize = rule
            .fields
            .iter()
            .filter(|f| f.field == FieldType::KEY)
            .map(|f| match &f.value {
                Value::Str(s) => s.len(),
                Value::Num(_) => 0,
            })
            .sum();
        check_key_len(key_len)?;
        if rule.fields.len() > AUDIT_MAX_FIELDS {
            return Err(ErrorKind::TooManyFields {
                count: rule.fields.len(),
            });
        }
        self.commands.push(rule_command(op, rule));
        Ok(self.commands)
    }

    /// The `-k` keys as one key field, joined as auditctl joins them.
    fn joined_key(&self) -> Result<Option<Field>, ErrorKind> {
        if self.keys.is_empty() {
            return Ok(None);
        }
        let mut joined = Vec::new();
        for (i, key) in self.keys.iter().enumerate() {
            if i > 0 {
                joined.push(KEY_SEPARATOR);
            }
            joined.extend_from_slice(key.as_bytes());
        }
        check_key_len(joined.len())?;
        Ok(Some(Field {
            field: FieldType::KEY,
            op: Op::Eq,
            value: Value::Str(joined),
        }))
    }
}

fn rule_command(op: RuleOp, rule: Rule) -> Command {
    match op {
        RuleOp::Add => Command::Add(rule),
        RuleOp::Delete => Command::Delete(rule),
    }
}

fn check_key_len(len: usize) -> Result<(), ErrorKind> {
    if len > AUDIT_MAX_KEY_LEN {
        return Err(ErrorKind::KeyTooLong { len });
    }
    Ok(())
}

/// `always,exit` or `exit,always`.
fn list_action(arg: &str, value: &str) -> Result<(List, Action), ErrorKind> {
    let bad = |reason| ErrorKind::BadListAction {
        arg: arg.to_string(),
        reason,
    };
    let (a, b) = value
        .split_once(',')
        .ok_or(bad("expected list,action (like always,exit)"))?;
    let list_of = |s: &str| match s {
        "task" => Some(Ok(List::TASK)),
        "exit" => Some(Ok(List::EXIT)),
        "user" => Some(Ok(List::USER)),
        "exclude" => Some(Ok(List::EXCLUDE)),
        "filesystem" => Some(Ok(List::FILESYSTEM)),
        "io_uring" => Some(Ok(List::IO_URING)),
        "entry" => Some(Err(bad("the entry list is deprecated; use exit"))),
        _ => None,
    };
    let action_of = |s: &str| match s {
        "always" => Some(Ok(Action::ALWAYS)),
        "never" => Some(Ok(Action::NEVER)),
        "possible" => Some(Err(bad("the possible action is deprecated"))),
        _ => None,
    };
    let (list, action) = match (list_of(a), action_of(b), list_of(b), action_of(a)) {
        (Some(l), Some(act), _, _) | (_, _, Some(l), Some(act)) => (l, act),
        (None, _, None, _) => return Err(bad("unknown list")),
        _ => return Err(bad("unknown action")),
    };
    Ok((list?, action?))
}

/// Splits `name OP value` at its operator (longest match).
fn split_field<'s>(arg: &str, spec: &'s str) -> Result<(&'s str, Op, &'s str), ErrorKind> {
    let at = spec
        .find(['=', '!', '<', '>', '&'])
        .ok_or_else(|| ErrorKind::NoOperator {
            arg: arg.to_string(),
        })?;
    let rest = &spec[at..];
    let op = Op::BY_SPELLING
        .into_iter()
        .find(|op| rest.starts_with(op.as_str()))
        .ok_or_else(|| ErrorKind::NoOperator {
            arg: arg.to_string(),
        })?;
    let (name, value) = (&spec[..at], &rest[op.as_str().len()..]);
    if name.is_empty() {
        return Err(ErrorKind::UnknownField {
            arg: arg.to_string(),
            field: String::new(),
        });
    }
    if value.is_empty() {
        return Err(ErrorKind::MissingValue {
            option: arg.to_string(),
        });
    }
    Ok((name, op, value))
}

/// The operators the kernel takes for `field`.
fn ops_for(field: FieldType) -> &'static [Op] {
    const ALL: &[Op] = &Op::BY_SPELLING;
    const NO_BITS: &[Op] = &[Op::Eq, Op::Ne, Op::Lt, Op::Gt, Op::Le, Op::Ge];
    const EQ_NE: &[Op] = &[Op::Eq, Op::Ne];
    const EQ: &[Op] = &[Op::Eq];
    match field {
        FieldType::A0 | FieldType::A1 | FieldType::A2 | FieldType::A3 => ALL,
        // The kernel makes a watch or a tree only for `=`.
        FieldType::PATH | FieldType::DIR => EQ,
        FieldType::ARCH
        | FieldType::PERM
        | FieldType::FILETYPE
        | FieldType::EXE
        | FieldType::KEY
        | FieldType::INODE
        | FieldType::FSTYPE
        | FieldType::LOGINUID_SET
        | FieldType::FIELD_COMPARE => EQ_NE,
        f if f.is_string() => EQ_NE,
        _ => NO_BITS,
    }
}

/// The lists `field` is valid on, with their names for the error, when it is bound to some.
fn lists_for(field: FieldType) -> Option<(&'static [List], &'static str)> {
    Some(match field {
        FieldType::MSGTYPE => (&[List::EXCLUDE, List::USER], "exclude or user"),
        FieldType::EXIT
        | FieldType::SUCCESS
        | FieldType::PERM
        | FieldType::FILETYPE
        | FieldType::PATH
        | FieldType::DIR
        | FieldType::A0
        | FieldType::A1
        | FieldType::A2
        | FieldType::A3 => (&[List::EXIT], "exit"),
        _ => return None,
    })
}

/// `-p rwxa` → `AUDIT_PERM_*` bits.
fn perm(arg: &str, value: &str) -> Result<u32, ErrorKind> {
    let mut bits = 0;
    for c in value.chars() {
        bits |= match c {
            'x' => 1,
            'w' => 2,
            'r' => 4,
            'a' => 8,
            _ => {
                return Err(ErrorKind::BadValue {
                    arg: arg.to_string(),
                    reason: "permissions are letters of rwxa",
                })
            }
        };
    }
    if bits == 0 {
        return Err(ErrorKind::BadValue {
            arg: arg.to_string(),
            reason: "permissions are letters of rwxa",
        });
    }
    Ok(bits)
}

/// `S_IF*` of auditctl's file type names, or a number.
fn filetype(value: &str) -> Option<u32> {
    Some(match value {
        "file" => 0o100_000,
        "dir" => 0o040_000,
        "socket" => 0o140_000,
        "link" => 0o120_000,
        "character" => 0o020_000,
        "block" => 0o060_000,
        "fifo" => 0o010_000,
        _ => return parse_number(value).and_then(|n| u32::try_from(n).ok()),
    })
}

/// A uid, gid or session id as a number: digits, `-1` or `unset` (4294967295).
fn id_number(value: &str) -> Option<u32> {
    if value == "unset" || value == "-1" {
        return Some(u32::MAX);
    }
    if !value.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    vocab::parse_u32(value.as_bytes())
}

/// An exit value: a number (negative for errors) or an errno name, `-EPERM` or `EPERM`.
fn exit_value(value: &str) -> Option<u32> {
    if let Some(n) = parse_number(value) {
        return Some(n as u32);
    }
    let (negative, name) = match value.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, value),
    };
    let errno = vocab::errno_number(name)?;
    Some(if negative {
        errno.wrapping_neg()
    } else {
        errno
    })
}

/// A number as C's `strtol` with base 0 reads it (`0x1f`, `017`, `-3`), in the range of a
/// `u32` or an `i32`; `None` for anything else.
fn parse_number(s: &str) -> Option<i64> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let n = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        u64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        vocab::parse_u64(digits.as_bytes())?
    };
    let n = i64::try_from(n).ok()?;
    let n = if negative { -n } else { n };
    (i64::from(i32::MIN)..=i64::from(u32::MAX))
        .contains(&n)
        .then_some(n)
}

/// `AUDIT_COMPARE_*`: the field pairs `-C` compares, and their numbers.
const COMPARISONS: &[(FieldType, FieldType, u32)] = &[
    (FieldType::UID, FieldType::OBJ_UID, 1),
    (FieldType::GID, FieldType::OBJ_GID, 2),
    (FieldType::EUID, FieldType::OBJ_UID, 3),
    (FieldType::EGID, FieldType::OBJ_GID, 4),
    (FieldType::LOGINUID, FieldType::OBJ_UID, 5),
    (FieldType::SUID, FieldType::OBJ_UID, 6),
    (FieldType::SGID, FieldType::OBJ_GID, 7),
    (FieldType::FSUID, FieldType::OBJ_UID, 8),
    (FieldType::FSGID, FieldType::OBJ_GID, 9),
    (FieldType::UID, FieldType::LOGINUID, 10),
    (FieldType::UID, FieldType::EUID, 11),
    (FieldType::UID, FieldType::FSUID, 12),
    (FieldType::UID, FieldType::SUID, 13),
    (FieldType::LOGINUID, FieldType::FSUID, 14),
    (FieldType::LOGINUID, FieldType::SUID, 15),
    (FieldType::LOGINUID, FieldType::EUID, 16),
    (FieldType::EUID, FieldType::SUID, 17),
    (FieldType::EUID, FieldType::FSUID, 18),
    (FieldType::SUID, FieldType::FSUID, 19),
    (FieldType::GID, FieldType::EGID, 20),
    (FieldType::GID, FieldType::FSGID, 21),
    (FieldType::GID, FieldType::SGID, 22),
    (FieldType::EGID, FieldType::FSGID, 23),
    (FieldType::EGID, FieldType::SGID, 24),
    (FieldType::SGID, FieldType::FSGID, 25),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// A host with users root (0) and alice (1000), group wheel (10), directories `/etc` and
    /// `/var/log`, on x86_64.
    struct FakeHost;

    impl Resolver for FakeHost {
        fn uid(&self, name: &str) -> Option<u32> {
            match name {
                "root" => Some(0),
                "alice" => Some(1000),
                _ => None,
            }
        }
        fn gid(&self, name: &str) -> Option<u32> {
            (name == "wheel").then_some(10)
        }
        fn is_dir(&self, path: &str) -> bool {
            matches!(path, "/etc" | "/var/log")
        }
        fn machine(&self) -> Arch {
            Arch::X86_64
        }
    }

    /// Parses one line and returns its commands.
    fn check(line: &str) -> Vec<Command> {
        match parse_rule_text("t.rules", line, &FakeHost) {
            Ok(file) => file.lines.into_iter().map(|l| l.command).collect(),
            Err(e) => panic!("{line}: {e:?}"),
        }
    }

    /// Parses one line and returns its one rule.
    fn rule(line: &str) -> Rule {
        match check(line).as_slice() {
            [Command::Add(rule) | Command::Delete(rule)] => rule.clone(),
            other => panic!("{line}: {other:?}"),
        }
    }

    /// Parses one line that must fail and returns why.
    fn error(line: &str) -> ErrorKind {
        let mut errors = parse_rule_text("t.rules", line, &FakeHost).expect_err(line);
        assert_eq!(errors.len(), 1, "{line}");
        let e = errors.remove(0);
        assert_eq!((e.file.as_str(), e.line), ("t.rules", 1));
        e.kind
    }

    fn num(field: FieldType, op: Op, n: u32) -> Field {
        Field {
            field,
            op,
            value: Value::Num(n),
        }
    }

    fn string(field: FieldType, s: &str) -> Field {
        Field {
            field,
            op: Op::Eq,
            value: Value::Str(s.as_bytes().to_vec()),
        }
    }

    fn all_syscalls() -> [u32; 64] {
        let mut mask = [u32::MAX; 64];
        mask[63] = 0xffff;
        mask
    }

    #[test]
    fn syscall_rule_with_fields_and_keys() {
        let r = rule(
            "-a always,exit -F arch=b32 -S open,execve -F auid>=1000 -F auid!=unset -F uid=alice -F gid=wheel -k k1 -k k2",
        );
        let mut mask = [0u32; 64];
        mask[0] = (1 << 5) | (1 << 11); // i386 open, execve
        assert_eq!(
            r,
            Rule {
                list: List::EXIT,
                action: Action::ALWAYS,
                prepend: false,
                mask,
                fields: vec![
                    num(FieldType::ARCH, Op::Eq, Arch::I386.0),
                    num(FieldType::LOGINUID, Op::Ge, 1000),
                    num(FieldType::LOGINUID, Op::Ne, u32::MAX),
                    num(FieldType::UID, Op::Eq, 1000),
                    num(FieldType::GID, Op::Eq, 10),
                    string(FieldType::KEY, "k1\u{1}k2"),
                ],
            }
        );
        assert_eq!(r.keys().collect::<Vec<_>>(), [b"k1".as_slice(), b"k2"]);
        assert_eq!(r.syscalls().collect::<Vec<_>>(), [5, 11]);
    }

    #[test]
    fn syscalls_by_number_repeated_and_all() {
        let r = rule("-A exit,always -S 59 -S openat,2 -F key=k");
        assert!(r.prepend);
        assert_eq!(r.syscalls().collect::<Vec<_>>(), [2, 59, 257]);
        assert_eq!(r.fields, [string(FieldType::KEY, "k")]);
        assert_eq!(rule("-a always,exit -S all -F pid=1").mask, all_syscalls());
        // Without -S: every syscall on all lists but task.
        assert_eq!(rule("-a always,exit -F pid=1").mask, all_syscalls());
        assert_eq!(rule("-a never,exclude -F msgtype=CWD").mask, all_syscalls());
        assert_eq!(rule("-a always,user -F msgtype=1100").mask, all_syscalls());
        assert_eq!(rule("-a always,task -F pid=1").mask, [0; 64]);
    }

    #[test]
    fn field_values() {
        let r = rule(
            "-a always,exit -S openat -F exit=-EACCES -F exit!=-2 -F success=0 -F a0=0x10 -F a1&=3 -F a2=-1 -F filetype=dir -F perm=rwxa -F sessionid!=unset -F pers=010 -F exe=/usr/bin/true -F subj_type=x_t",
        );
        assert_eq!(
            r.fields,
            [
                num(FieldType::EXIT, Op::Eq, 13u32.wrapping_neg()),
                num(FieldType::EXIT, Op::Ne, 2u32.wrapping_neg()),
                num(FieldType::SUCCESS, Op::Eq, 0),
                num(FieldType::A0, Op::Eq, 16),
                num(FieldType::A1, Op::BitTest, 3),
                num(FieldType::A2, Op::Eq, u32::MAX),
                num(FieldType::FILETYPE, Op::Eq, 0o040_000),
                num(FieldType::PERM, Op::Eq, 15),
                num(FieldType::SESSIONID, Op::Ne, u32::MAX),
                num(FieldType::PERS, Op::Eq, 8),
                string(FieldType::EXE, "/usr/bin/true"),
                string(FieldType::SUBJ_TYPE, "x_t"),
            ]
        );
        assert_eq!(
            rule("-a always,exit -S all -C auid!=obj_uid -C uid=euid").fields,
            [
                num(FieldType::FIELD_COMPARE, Op::Ne, 5),
                num(FieldType::FIELD_COMPARE, Op::Eq, 11),
            ]
        );
        assert_eq!(
            rule("-a never,filesystem -F fstype=tracefs").fields,
            [num(FieldType::FSTYPE, Op::Eq, 0x7472_6163)]
        );
    }

    #[test]
    fn watches_become_exit_rules_with_dir_or_path_and_perm() {
        let w = rule("-w /etc/ -p wa -k identity");
        assert_eq!(
            w,
            Rule {
                list: List::EXIT,
                action: Action::ALWAYS,
                prepend: false,
                mask: all_syscalls(),
                fields: vec![
                    string(FieldType::DIR, "/etc"),
                    num(FieldType::PERM, Op::Eq, 10), // w=2, a=8
                    string(FieldType::KEY, "identity"),
                ],
            }
        );
        assert_eq!(
            rule("-w /etc/passwd").fields,
            [
                string(FieldType::PATH, "/etc/passwd"),
                num(FieldType::PERM, Op::Eq, 15)
            ]
        );
        assert_eq!(
            check("-W /var/log -p r"),
            [Command::Delete(Rule {
                fields: vec![
                    string(FieldType::DIR, "/var/log"),
                    num(FieldType::PERM, Op::Eq, 4)
                ],
                ..w.clone()
            })]
        );
    }

    #[test]
    fn control_flush_and_switch_lines() {
        let file = parse_rule_text(
            "t.rules",
            "# comment\n\n-D\n-D -k mykey\n-b 8192 -f 1\n--backlog_wait_time 60000\n--backlog_wait_time=1\n-r 0\n-e 1\n-i\n-c\n  -kk -a always,exit -S execve\n",
            &FakeHost,
        )
        .unwrap();
        let got: Vec<(u32, Command)> = file
            .lines
            .into_iter()
            .map(|l| (l.line, l.command))
            .collect();
        let mut keyed = Rule::new(List::EXIT, Action::ALWAYS);
        keyed.add_syscall(59);
        keyed.fields.push(string(FieldType::KEY, "k"));
        assert_eq!(
            got,
            [
                (3, Command::DeleteAll { key: None }),
                (
                    4,
                    Command::DeleteAll {
                        key: Some(b"mykey".to_vec())
                    }
                ),
                (5, Command::Control(Control::BacklogLimit(8192))),
                (5, Command::Control(Control::Failure(1))),
                (6, Command::Control(Control::BacklogWaitTime(60000))),
                (7, Command::Control(Control::BacklogWaitTime(1))),
                (8, Command::Control(Control::RateLimit(0))),
                (9, Command::Control(Control::Enabled(1))),
                (10, Command::IgnoreErrors),
                (11, Command::IgnoreErrors),
                (12, Command::Add(keyed)),
            ]
        );
    }

    #[test]
    fn errors_name_the_option_and_reason() {
        let cases: Vec<(&str, ErrorKind)> = vec![
            ("-x", ErrorKind::UnknownOption("-x".into())),
            (
                "--reset-lost",
                ErrorKind::UnknownOption("--reset-lost".into()),
            ),
            (
                "always,exit",
                ErrorKind::UnknownOption("always,exit".into()),
            ),
            (
                "-a",
                ErrorKind::MissingValue {
                    option: "-a".into(),
                },
            ),
            (
                "-a always,exit -F foo=1",
                ErrorKind::UnknownField {
                    arg: "-F foo=1".into(),
                    field: "foo".into(),
                },
            ),
            (
                "-a always,exit -F pid",
                ErrorKind::NoOperator {
                    arg: "-F pid".into(),
                },
            ),
            (
                "-a always,exit -F pid=",
                ErrorKind::MissingValue {
                    option: "-F pid=".into(),
                },
            ),
            (
                "-a always,exit -F arch>b64",
                ErrorKind::BadOperator {
                    arg: "-F arch>b64".into(),
                    field: "arch".into(),
                    op: ">",
                },
            ),
            (
                "-a always,exit -F uid&1",
                ErrorKind::BadOperator {
                    arg: "-F uid&1".into(),
                    field: "uid".into(),
                    op: "&",
                },
            ),
            (
                "-a always,exit -F path!=/etc/x",
                ErrorKind::BadOperator {
                    arg: "-F path!=/etc/x".into(),
                    field: "path".into(),
                    op: "!=",
                },
            ),
            (
                "-a always,exit -S nosuchcall",
                ErrorKind::UnknownSyscall {
                    arg: "-S nosuchcall".into(),
                    name: "nosuchcall".into(),
                    arch: "x86_64".into(),
                },
            ),
            (
                "-a always,exit -F arch=b32 -S newfstatat",
                ErrorKind::UnknownSyscall {
                    arg: "-S newfstatat".into(),
                    name: "newfstatat".into(),
                    arch: "i386".into(),
                },
            ),
            (
                "-a always,exit -S open -F arch=b64",
                ErrorKind::ArchAfterSyscall {
                    arg: "-F arch=b64".into(),
                },
            ),
            (
                "-w etc/passwd",
                ErrorKind::RelativeWatch {
                    arg: "-w etc/passwd".into(),
                },
            ),
            (
                "-a always,exit -F uid=mallory",
                ErrorKind::UnknownUser {
                    arg: "-F uid=mallory".into(),
                    name: "mallory".into(),
                },
            ),
            (
                "-a always,exit -F egid=staff",
                ErrorKind::UnknownGroup {
                    arg: "-F egid=staff".into(),
                    name: "staff".into(),
                },
            ),
            (
                "-a always,exit -F exit=-EWHAT",
                ErrorKind::BadValue {
                    arg: "-F exit=-EWHAT".into(),
                    reason: "not an exit value (a number, or an errno name like -EPERM)",
                },
            ),
            (
                "-a always,exit -F pid=-5",
                ErrorKind::BadValue {
                    arg: "-F pid=-5".into(),
                    reason: "not a non-negative number",
                },
            ),
            (
                "-a always,exit -F pid=99999999999",
                ErrorKind::BadValue {
                    arg: "-F pid=99999999999".into(),
                    reason: "not a non-negative number",
                },
            ),
            (
                "-w /etc -p rz",
                ErrorKind::BadValue {
                    arg: "-p rz".into(),
                    reason: "permissions are letters of rwxa",
                },
            ),
            (
                "-e 3",
                ErrorKind::BadValue {
                    arg: "-e 3".into(),
                    reason: "must be 0, 1 or 2",
                },
            ),
            (
                "-a always,exit -F msgtype=CWD",
                ErrorKind::WrongList {
                    arg: "-F msgtype=CWD".into(),
                    field: "msgtype".into(),
                    lists: "exclude or user",
                },
            ),
            (
                "-a never,exclude -F exit=1",
                ErrorKind::WrongList {
                    arg: "-F exit=1".into(),
                    field: "exit".into(),
                    lists: "exit",
                },
            ),
            (
                "-a always,entry",
                ErrorKind::BadListAction {
                    arg: "-a always,entry".into(),
                    reason: "the entry list is deprecated; use exit",
                },
            ),
            (
                "-a always,sometimes",
                ErrorKind::BadListAction {
                    arg: "-a always,sometimes".into(),
                    reason: "unknown list",
                },
            ),
            (
                "-a sometimes,exit",
                ErrorKind::BadListAction {
                    arg: "-a sometimes,exit".into(),
                    reason: "unknown action",
                },
            ),
            ("-p wa", ErrorKind::Usage("-p only goes with -w")),
            (
                "-a always,task -S open",
                ErrorKind::Usage("-S is only valid on the exit list"),
            ),
            (
                "-w /etc -F pid=1",
                ErrorKind::Usage(
                    "-F, -C and -S do not go with -w; write the watch as -a always,exit -F path=…",
                ),
            ),
            (
                "-k lonely",
                ErrorKind::Usage("-F, -C, -S and -k need a rule: -a, -A, -d or -w"),
            ),
            (
                "-a always,exit -w /etc",
                ErrorKind::Usage("more than one rule on one line"),
            ),
            (
                "-D -a always,exit",
                ErrorKind::Usage("-D takes no rule, only an optional -k"),
            ),
            (
                "-a always,exit -C auid=pid",
                ErrorKind::BadValue {
                    arg: "-C auid=pid".into(),
                    reason: "these two fields cannot be compared",
                },
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(error(line), expected, "{line}");
        }
    }

    #[test]
    fn limits_on_keys_and_fields() {
        let long = "k".repeat(257);
        assert_eq!(
            error(&format!("-a always,exit -S all -k {long}")),
            ErrorKind::KeyTooLong { len: 257 }
        );
        // Two keys joined with their separator: 128 + 1 + 128.
        let half = "k".repeat(128);
        assert_eq!(
            error(&format!("-a always,exit -S all -k {half} -k {half}")),
            ErrorKind::KeyTooLong { len: 257 }
        );
        let max = "k".repeat(256);
        assert_eq!(
            rule(&format!("-a always,exit -S all -k {max}")).fields,
            [string(FieldType::KEY, &max)]
        );
        let fields = |n: usize| {
            (0..n)
                .map(|i| format!("-F pid!={i}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            error(&format!("-a always,exit {}", fields(65))),
            ErrorKind::TooManyFields { count: 65 }
        );
        assert_eq!(
            rule(&format!("-a always,exit {}", fields(64))).fields.len(),
            64
        );
        assert_eq!(
            error(&format!("-a always,exit {} -k k", fields(64))),
            ErrorKind::TooManyFields { count: 65 }
        );
    }

    #[test]
    fn every_bad_line_is_reported_and_the_others_kept() {
        let text = "-a always,exit -S execve -k a\n-a always,exit -F foo=1\n-b 10\n-x\n";
        let errors = parse_rule_text("audit.rules", text, &FakeHost).unwrap_err();
        let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            shown,
            [
                "audit.rules:2: -F foo=1: unknown field \"foo\"",
                "audit.rules:4: unknown option \"-x\"",
            ]
        );
        let (file, errors) = parse_rule_text_lossy("audit.rules", text, &FakeHost);
        assert_eq!(errors.len(), 2);
        let lines: Vec<u32> = file.lines.iter().map(|l| l.line).collect();
        assert_eq!(lines, [1, 3]);
        assert_eq!(file.lines[1].text, "-b 10");
    }
}
