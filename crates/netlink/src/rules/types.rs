//! The rule vocabulary: filter lists, actions, field types, operators, and one [`Rule`] as the
//! kernel stores it; a [`RuleFile`] is a parsed rule file, one [`Command`] per option group.
//!
//! The numbers are the kernel's (`include/uapi/linux/audit.h`); field names are auditctl's.

use std::fmt;

/// `AUDIT_BITMASK_SIZE`: 32-bit words in a rule's syscall mask.
pub const AUDIT_BITMASK_SIZE: usize = 64;
/// `AUDIT_MAX_FIELDS`: fields one rule may hold.
pub const AUDIT_MAX_FIELDS: usize = 64;
/// `AUDIT_MAX_KEY_LEN`: bytes in a rule's key (all of its keys joined).
pub const AUDIT_MAX_KEY_LEN: usize = 256;
/// `AUDIT_KEY_SEPARATOR`: joins a rule's keys into its one key field.
pub const KEY_SEPARATOR: u8 = 0x01;
/// `AUDIT_FILTER_PREPEND`: in a rule's flags, `-A` (insert first) instead of `-a`.
pub(crate) const FILTER_PREPEND: u32 = 0x10;
/// `AUDIT_SYSCALL_CLASSES`: the top bits of the syscall mask name syscall classes, not
/// syscalls. The kernel replaces them by the classes' syscalls and stores them cleared.
pub(crate) const SYSCALL_CLASS_BITS: u32 = 16;

/// A filter list (`AUDIT_FILTER_*`): where in the kernel a rule is evaluated. Open-world: a
/// listed rule may carry a list this version does not name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct List(pub u32);

impl List {
    pub const USER: List = List(0x00);
    pub const TASK: List = List(0x01);
    pub const ENTRY: List = List(0x02);
    pub const WATCH: List = List(0x03);
    pub const EXIT: List = List(0x04);
    pub const EXCLUDE: List = List(0x05);
    pub const FILESYSTEM: List = List(0x06);
    pub const IO_URING: List = List(0x07);

    /// Returns auditctl's name of the list (`exit`).
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            List::USER => "user",
            List::TASK => "task",
            List::ENTRY => "entry",
            List::WATCH => "watch",
            List::EXIT => "exit",
            List::EXCLUDE => "exclude",
            List::FILESYSTEM => "filesystem",
            List::IO_URING => "io_uring",
            _ => return None,
        })
    }
}

/// What a matching rule does (`AUDIT_NEVER`, `AUDIT_POSSIBLE`, `AUDIT_ALWAYS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Action(pub u32);

impl Action {
    pub const NEVER: Action = Action(0);
    pub const POSSIBLE: Action = Action(1);
    pub const ALWAYS: Action = Action(2);
}

/// A field comparison operator. The kernel's set is closed: these eight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    /// `&`: any of the value's bits set.
    BitMask,
    /// `&=`: all of the value's bits set.
    BitTest,
}

impl Op {
    /// Every operator, longest spelling first (the order to match text in).
    pub(crate) const BY_SPELLING: [Op; 8] = [
        Op::Ne,
        Op::Le,
        Op::Ge,
        Op::BitTest,
        Op::Eq,
        Op::Lt,
        Op::Gt,
        Op::BitMask,
    ];

    /// Returns the operator's `fieldflags` value.
    pub fn flags(self) -> u32 {
        match self {
            Op::BitMask => 0x0800_0000,
            Op::Lt => 0x1000_0000,
            Op::Gt => 0x2000_0000,
            Op::Ne => 0x3000_0000,
            Op::Eq => 0x4000_0000,
            Op::BitTest => 0x4800_0000,
            Op::Le => 0x5000_0000,
            Op::Ge => 0x6000_0000,
        }
    }

    /// Reads an operator from its `fieldflags` value.
    pub fn from_flags(flags: u32) -> Option<Op> {
        Op::BY_SPELLING.into_iter().find(|op| op.flags() == flags)
    }

    /// Returns the operator as auditctl writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Gt => ">",
            Op::Le => "<=",
            Op::Ge => ">=",
            Op::BitMask => "&",
            Op::BitTest => "&=",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule field type (`AUDIT_PID`, `AUDIT_LOGINUID`, …). Open-world, like [`List`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FieldType(pub u32);

impl FieldType {
    pub const PID: FieldType = FieldType(0);
    pub const UID: FieldType = FieldType(1);
    pub const EUID: FieldType = FieldType(2);
    pub const SUID: FieldType = FieldType(3);
    pub const FSUID: FieldType = FieldType(4);
    pub const GID: FieldType = FieldType(5);
    pub const EGID: FieldType = FieldType(6);
    pub const SGID: FieldType = FieldType(7);
    pub const FSGID: FieldType = FieldType(8);
    pub const LOGINUID: FieldType = FieldType(9);
    pub const PERS: FieldType = FieldType(10);
    pub const ARCH: FieldType = FieldType(11);
    pub const MSGTYPE: FieldType = FieldType(12);
    pub const SUBJ_USER: FieldType = FieldType(13);
    pub const SUBJ_ROLE: FieldType = FieldType(14);
    pub const SUBJ_TYPE: FieldType = FieldType(15);
    pub const SUBJ_SEN: FieldType = FieldType(16);
    pub const SUBJ_CLR: FieldType = FieldType(17);
    pub const PPID: FieldType = FieldType(18);
    pub const OBJ_USER: FieldType = FieldType(19);
    pub const OBJ_ROLE: FieldType = FieldType(20);
    pub const OBJ_TYPE: FieldType = FieldType(21);
    pub const OBJ_LEV_LOW: FieldType = FieldType(22);
    pub const OBJ_LEV_HIGH: FieldType = FieldType(23);
    pub const LOGINUID_SET: FieldType = FieldType(24);
    pub const SESSIONID: FieldType = FieldType(25);
    pub const FSTYPE: FieldType = FieldType(26);
    pub const DEVMAJOR: FieldType = FieldType(100);
    pub const DEVMINOR: FieldType = FieldType(101);
    pub const INODE: FieldType = FieldType(102);
    pub const EXIT: FieldType = FieldType(103);
    pub const SUCCESS: FieldType = FieldType(104);
    /// `AUDIT_WATCH`, auditctl's `path`.
    pub const PATH: FieldType = FieldType(105);
    pub const PERM: FieldType = FieldType(106);
    pub const DIR: FieldType = FieldType(107);
    pub const FILETYPE: FieldType = FieldType(108);
    pub const OBJ_UID: FieldType = FieldType(109);
    pub const OBJ_GID: FieldType = FieldType(110);
    pub const FIELD_COMPARE: FieldType = FieldType(111);
    pub const EXE: FieldType = FieldType(112);
    pub const SADDR_FAM: FieldType = FieldType(113);
    pub const A0: FieldType = FieldType(200);
    pub const A1: FieldType = FieldType(201);
    pub const A2: FieldType = FieldType(202);
    pub const A3: FieldType = FieldType(203);
    /// `AUDIT_FILTERKEY`, auditctl's `key`.
    pub const KEY: FieldType = FieldType(210);

    /// auditctl's field names, with the type each names (`auid` and `loginuid` both name
    /// `AUDIT_LOGINUID`; the first name of a type is the one [`FieldType::name`] returns).
    pub(crate) const NAMES: &'static [(&'static str, FieldType)] = &[
        ("pid", FieldType::PID),
        ("uid", FieldType::UID),
        ("euid", FieldType::EUID),
        ("suid", FieldType::SUID),
        ("fsuid", FieldType::FSUID),
        ("gid", FieldType::GID),
        ("egid", FieldType::EGID),
        ("sgid", FieldType::SGID),
        ("fsgid", FieldType::FSGID),
        ("auid", FieldType::LOGINUID),
        ("loginuid", FieldType::LOGINUID),
        ("pers", FieldType::PERS),
        ("arch", FieldType::ARCH),
        ("msgtype", FieldType::MSGTYPE),
        ("subj_user", FieldType::SUBJ_USER),
        ("subj_role", FieldType::SUBJ_ROLE),
        ("subj_type", FieldType::SUBJ_TYPE),
        ("subj_sen", FieldType::SUBJ_SEN),
        ("subj_clr", FieldType::SUBJ_CLR),
        ("ppid", FieldType::PPID),
        ("obj_user", FieldType::OBJ_USER),
        ("obj_role", FieldType::OBJ_ROLE),
        ("obj_type", FieldType::OBJ_TYPE),
        ("obj_lev_low", FieldType::OBJ_LEV_LOW),
        ("obj_lev_high", FieldType::OBJ_LEV_HIGH),
        ("sessionid", FieldType::SESSIONID),
        ("fstype", FieldType::FSTYPE),
        ("devmajor", FieldType::DEVMAJOR),
        ("devminor", FieldType::DEVMINOR),
        ("inode", FieldType::INODE),
        ("exit", FieldType::EXIT),
        ("success", FieldType::SUCCESS),
        ("path", FieldType::PATH),
        ("perm", FieldType::PERM),
        ("dir", FieldType::DIR),
        ("filetype", FieldType::FILETYPE),
        ("obj_uid", FieldType::OBJ_UID),
        ("obj_gid", FieldType::OBJ_GID),
        ("field_compare", FieldType::FIELD_COMPARE),
        ("exe", FieldType::EXE),
        ("saddr_fam", FieldType::SADDR_FAM),
        ("a0", FieldType::A0),
        ("a1", FieldType::A1),
        ("a2", FieldType::A2),
        ("a3", FieldType::A3),
        ("key", FieldType::KEY),
    ];

    /// Looks a field type up by its auditctl name.
    pub fn from_name(name: &str) -> Option<FieldType> {
        FieldType::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, t)| t)
    }

    /// Returns the field's auditctl name.
    pub fn name(self) -> Option<&'static str> {
        FieldType::NAMES
            .iter()
            .find(|(_, t)| *t == self)
            .map(|&(n, _)| n)
    }

    /// Returns true for fields whose value is a string in the rule's buffer (its `values`
    /// entry is the string's length).
    pub fn is_string(self) -> bool {
        matches!(self.0, 13..=17 | 19..=23 | 105 | 107 | 112 | 210)
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "field[{}]", self.0),
        }
    }
}

/// A field's value: a number, or the bytes of a string field.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    Num(u32),
    Str(Vec<u8>),
}

/// One `-F field op value` of a rule (or one `-k`, `-w`, `-p`, `-C`, as auditctl encodes them).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Field {
    pub field: FieldType,
    pub op: Op,
    pub value: Value,
}

/// One audit rule, as the kernel stores it: its list, action, syscalls and fields in order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rule {
    pub list: List,
    pub action: Action,
    /// `-A`: inserted before the list's other rules. The kernel uses the flag when adding and
    /// stores (and lists) the rule without it.
    pub prepend: bool,
    /// The syscall bitmask: bit `n % 32` of word `n / 32` for syscall `n`.
    pub mask: [u32; AUDIT_BITMASK_SIZE],
    pub fields: Vec<Field>,
}

impl Rule {
    /// Returns an empty rule on `list` with `action`: no syscalls, no fields.
    pub fn new(list: List, action: Action) -> Rule {
        Rule {
            list,
            action,
            prepend: false,
            mask: [0; AUDIT_BITMASK_SIZE],
            fields: Vec::new(),
        }
    }

    /// Sets the bit of syscall `nr`; false when `nr` is beyond the mask's syscall bits.
    pub fn add_syscall(&mut self, nr: u32) -> bool {
        let bits = (AUDIT_BITMASK_SIZE as u32) * 32 - SYSCALL_CLASS_BITS;
        if nr >= bits {
            return false;
        }
        self.mask[(nr / 32) as usize] |= 1 << (nr % 32);
        true
    }

    /// Sets every syscall bit (`-S all`). The syscall class bits at the top stay clear, as the
    /// kernel stores them, so that the rule reads back byte for byte.
    pub fn add_all_syscalls(&mut self) {
        self.mask = [u32::MAX; AUDIT_BITMASK_SIZE];
        self.mask[AUDIT_BITMASK_SIZE - 1] = u32::MAX >> SYSCALL_CLASS_BITS;
    }

    /// Returns true when every syscall bit is set.
    pub fn has_all_syscalls(&self) -> bool {
        let mut all = Rule::new(self.list, self.action);
        all.add_all_syscalls();
        self.mask.iter().zip(all.mask).all(|(m, a)| m & a == a)
    }

    /// Returns the numbers of the rule's syscalls, ascending.
    pub fn syscalls(&self) -> impl Iterator<Item = u32> + '_ {
        (0..(AUDIT_BITMASK_SIZE as u32) * 32)
            .filter(|&n| self.mask[(n / 32) as usize] & (1 << (n % 32)) != 0)
    }

    /// Returns the rule's keys: every key field, split at `AUDIT_KEY_SEPARATOR`.
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.fields
            .iter()
            .filter(|f| f.field == FieldType::KEY)
            .filter_map(|f| match &f.value {
                Value::Str(s) => Some(s.as_slice()),
                Value::Num(_) => None,
            })
            .flat_map(|s| s.split(|&b| b == KEY_SEPARATOR))
    }

    /// Returns true when one of the rule's keys is `key`.
    pub fn has_key(&self, key: &[u8]) -> bool {
        self.keys().any(|k| k == key)
    }
}

/// A status setting from a control line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// `-b N`
    BacklogLimit(u32),
    /// `--backlog_wait_time N`
    BacklogWaitTime(u32),
    /// `-r N`
    RateLimit(u32),
    /// `-f 0|1|2`
    Failure(u32),
    /// `-e 0|1|2`
    Enabled(u32),
}

/// What one line (or one option group of a line) of a rule file asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// `-a`, `-A`, `-w`: add a rule.
    Add(Rule),
    /// `-d`, `-W`: delete a rule.
    Delete(Rule),
    /// `-D`: delete every rule, or with `-k KEY` every rule with that key.
    DeleteAll { key: Option<Vec<u8>> },
    /// `-b`, `-f`, `-r`, `-e`, `--backlog_wait_time`.
    Control(Control),
    /// `-i` or `-c`: keep going after errors.
    IgnoreErrors,
}

/// One command of a rule file, with where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleLine {
    /// 1-based line number. A line with several control options gives several `RuleLine`s
    /// with the same number.
    pub line: u32,
    /// The line's text, trimmed.
    pub text: String,
    pub command: Command,
}

/// A parsed rule file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleFile {
    /// The name errors are reported under (`audit.rules`).
    pub name: String,
    pub lines: Vec<RuleLine>,
}

impl RuleFile {
    /// Returns true when the file asks to keep going after errors (`-i` or `-c`).
    pub fn ignores_errors(&self) -> bool {
        self.lines
            .iter()
            .any(|l| l.command == Command::IgnoreErrors)
    }
}
