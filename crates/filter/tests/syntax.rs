//! The rule syntax: what parses to what, and the exact error (variant, column, token) for each
//! way a rule or a filter set can be wrong.

use filter::{
    Action, FilterSet, IdField, IdValue, Matcher, Pattern, Rule, RuleError, SetError, SyscallSel,
};
use vocab::RecordType;

#[track_caller]
fn err(text: &str, want: RuleError) {
    assert_eq!(Rule::parse(text), Err(want), "{text:?}");
}

fn s(t: &str) -> String {
    t.to_string()
}

#[test]
fn parses_every_field_and_operator() {
    let rule = Rule::parse("drop key=noisy exe^=/usr/lib/ syscall=openat success=no").unwrap();
    assert_eq!(
        rule,
        Rule {
            action: Action::Drop,
            matchers: vec![
                Matcher::Key(Pattern::Exact(b"noisy".to_vec())),
                Matcher::Exe(Pattern::Prefix(b"/usr/lib/".to_vec())),
                Matcher::Syscall(SyscallSel::Name("openat")),
                Matcher::Success(false),
            ],
        }
    );
    let rule = Rule::parse("\tkeep  key^=ssh_ type=PATH type=1300 type=UNKNOWN[1999] syscall=59 uid=0 auid=unset euid=4294967295 path^=\"/srv/my dir/\\x01\\\"\\\\\" success=yes ").unwrap();
    assert_eq!(
        rule.matchers,
        vec![
            Matcher::Key(Pattern::Prefix(b"ssh_".to_vec())),
            Matcher::RecordType(RecordType::PATH),
            Matcher::RecordType(RecordType::SYSCALL),
            Matcher::RecordType(RecordType(1999)),
            Matcher::Syscall(SyscallSel::Number(59)),
            Matcher::Id(IdField::Uid, IdValue::Is(0)),
            Matcher::Id(IdField::Auid, IdValue::Unset),
            Matcher::Id(IdField::Euid, IdValue::Unset),
            Matcher::Path(Pattern::Prefix(b"/srv/my dir/\x01\"\\".to_vec())),
            Matcher::Success(true),
        ]
    );
    assert_eq!(rule.action, Action::Keep);
    // A rule without matchers matches everything.
    assert_eq!(
        Rule::parse("drop").unwrap(),
        Rule {
            action: Action::Drop,
            matchers: vec![]
        }
    );
    // Syscall names of other architectures than x86_64 are known too.
    assert_eq!(
        Rule::parse("drop syscall=socketcall").unwrap().matchers,
        vec![Matcher::Syscall(SyscallSel::Name("socketcall"))]
    );
    assert_eq!(
        "keep exe=/bin/sh".parse::<Rule>().unwrap().action,
        Action::Keep
    );
}

#[test]
fn display_round_trips() {
    for text in [
        "drop key=noisy exe^=/usr/lib/ syscall=openat success=no",
        "keep path=\"/tmp/a b\" type=PATH type=1999 uid=unset auid=4242 euid=0 syscall=59",
        "keep key=\"caf\\xc3\\xa9\\x01\\\"\"",
        "drop",
    ] {
        let rule = Rule::parse(text).unwrap();
        let shown = rule.to_string();
        assert_eq!(Rule::parse(&shown).unwrap(), rule, "{text} → {shown}");
    }
    assert_eq!(
        Rule::parse("drop type=1300 path=\"a b\"")
            .unwrap()
            .to_string(),
        "drop type=SYSCALL path=\"a b\""
    );
}

#[test]
fn empty() {
    err("", RuleError::Empty);
    err(" \t ", RuleError::Empty);
}

#[test]
fn unknown_action() {
    err(
        "maybe key=x",
        RuleError::UnknownAction {
            column: 1,
            token: s("maybe"),
        },
    );
    err(
        "  Drop",
        RuleError::UnknownAction {
            column: 3,
            token: s("Drop"),
        },
    );
}

#[test]
fn missing_operator() {
    err(
        "drop key",
        RuleError::MissingOperator {
            column: 6,
            token: s("key"),
        },
    );
    err(
        "drop key=a  exe~/bin/x",
        RuleError::MissingOperator {
            column: 13,
            token: s("exe~/bin/x"),
        },
    );
    err(
        "drop key^x",
        RuleError::MissingOperator {
            column: 6,
            token: s("key^x"),
        },
    );
    err(
        "drop \"key\"=x",
        RuleError::MissingOperator {
            column: 6,
            token: s("\"key\"=x"),
        },
    );
}

#[test]
fn unknown_field() {
    err(
        "drop comm=bash",
        RuleError::UnknownField {
            column: 6,
            token: s("comm"),
        },
    );
    err(
        "drop =x",
        RuleError::UnknownField {
            column: 6,
            token: s(""),
        },
    );
    err(
        "drop KEY=x",
        RuleError::UnknownField {
            column: 6,
            token: s("KEY"),
        },
    );
}

#[test]
fn prefix_not_supported() {
    err(
        "drop uid^=0",
        RuleError::PrefixNotSupported {
            column: 6,
            field: "uid",
        },
    );
    err(
        "drop key=a syscall^=open",
        RuleError::PrefixNotSupported {
            column: 12,
            field: "syscall",
        },
    );
    err(
        "drop type^=PATH",
        RuleError::PrefixNotSupported {
            column: 6,
            field: "type",
        },
    );
    err(
        "drop success^=yes",
        RuleError::PrefixNotSupported {
            column: 6,
            field: "success",
        },
    );
}

#[test]
fn empty_value() {
    err(
        "drop key=",
        RuleError::EmptyValue {
            column: 10,
            field: "key",
        },
    );
    err(
        "drop exe^=\"\"",
        RuleError::EmptyValue {
            column: 11,
            field: "exe",
        },
    );
    err(
        "drop path= key=x",
        RuleError::EmptyValue {
            column: 11,
            field: "path",
        },
    );
}

#[test]
fn unterminated_quote() {
    err(
        "drop path=\"/tmp/a b",
        RuleError::UnterminatedQuote { column: 11 },
    );
    err(
        "drop path=\"/tmp/\\\"",
        RuleError::UnterminatedQuote { column: 11 },
    );
}

#[test]
fn bad_escape() {
    err(
        "drop path=\"\\q\"",
        RuleError::BadEscape {
            column: 12,
            token: s("\\q"),
        },
    );
    err(
        "drop path=\"a\\x4g\"",
        RuleError::BadEscape {
            column: 13,
            token: s("\\x4g"),
        },
    );
    err(
        "drop path=\"a\\x4\"",
        RuleError::BadEscape {
            column: 13,
            token: s("\\x4"),
        },
    );
}

#[test]
fn unexpected_quote() {
    err("drop key=a\"b", RuleError::UnexpectedQuote { column: 11 });
    err("drop key=\"a\"b", RuleError::UnexpectedQuote { column: 13 });
}

#[test]
fn unknown_syscall() {
    err(
        "drop syscall=opnat",
        RuleError::UnknownSyscall {
            column: 14,
            token: s("opnat"),
        },
    );
    err(
        "drop syscall=-1",
        RuleError::UnknownSyscall {
            column: 14,
            token: s("-1"),
        },
    );
}

#[test]
fn unknown_record_type() {
    err(
        "drop type=SYSCAL",
        RuleError::UnknownRecordType {
            column: 11,
            token: s("SYSCAL"),
        },
    );
    err(
        "drop type=syscall",
        RuleError::UnknownRecordType {
            column: 11,
            token: s("syscall"),
        },
    );
}

#[test]
fn bad_id() {
    err(
        "drop uid=root",
        RuleError::BadId {
            column: 10,
            token: s("root"),
        },
    );
    err(
        "drop auid=4294967296",
        RuleError::BadId {
            column: 11,
            token: s("4294967296"),
        },
    );
    err(
        "drop euid=-2",
        RuleError::BadId {
            column: 11,
            token: s("-2"),
        },
    );
}

#[test]
fn bad_success() {
    err(
        "drop success=maybe",
        RuleError::BadSuccess {
            column: 14,
            token: s("maybe"),
        },
    );
    err(
        "drop success=1",
        RuleError::BadSuccess {
            column: 14,
            token: s("1"),
        },
    );
}

#[test]
fn filter_set_lines_comments_and_default() {
    let set = FilterSet::parse(
        "# noisy things\n\ndrop key=noisy\n  # indented comment\ndefault drop\nkeep uid=0\n",
    )
    .unwrap();
    assert_eq!(set.default, Action::Drop);
    assert_eq!(set.rules.len(), 2);
    assert_eq!(set.rules[1], Rule::parse("keep uid=0").unwrap());
    assert_eq!(FilterSet::parse("").unwrap(), FilterSet::default());
    assert_eq!(FilterSet::default().default, Action::Keep);
}

#[test]
fn filter_set_errors_name_the_line() {
    let e = FilterSet::parse("drop key=a\n\nkeep comm=x").unwrap_err();
    assert_eq!(
        e,
        SetError {
            line: 3,
            error: RuleError::UnknownField {
                column: 6,
                token: s("comm")
            }
        }
    );
    assert_eq!(e.to_string(), "line 3: column 6: unknown field `comm`");
    assert_eq!(
        FilterSet::parse("default drop now").unwrap_err(),
        SetError {
            line: 1,
            error: RuleError::UnexpectedToken {
                column: 14,
                token: s("now")
            }
        }
    );
    assert_eq!(
        FilterSet::parse("default keep\n default drop").unwrap_err(),
        SetError {
            line: 2,
            error: RuleError::DuplicateDefault { column: 2 }
        }
    );
    assert_eq!(
        FilterSet::parse("default").unwrap_err(),
        SetError {
            line: 1,
            error: RuleError::Empty
        }
    );
    assert_eq!(
        FilterSet::parse("default maybe").unwrap_err(),
        SetError {
            line: 1,
            error: RuleError::UnknownAction {
                column: 9,
                token: s("maybe")
            }
        }
    );
}
