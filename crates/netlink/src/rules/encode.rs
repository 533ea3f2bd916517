//! [`Rule`] ↔ the kernel's `struct audit_rule_data`, in native byte order:
//!
//! ```text
//! u32 flags (list | AUDIT_FILTER_PREPEND), action, field_count
//! u32 mask[64], fields[64], values[64], fieldflags[64]
//! u32 buflen
//! u8  buf[buflen]   the string fields' bytes, in field order, not NUL-terminated
//! ```
//!
//! Pure: no IO.

use super::types::{
    Action, Field, FieldType, List, Op, Rule, Value, AUDIT_BITMASK_SIZE, AUDIT_MAX_FIELDS,
    FILTER_PREPEND,
};

/// The size of `struct audit_rule_data` without its string buffer.
pub const RULE_DATA_LEN: usize = 4 * (3 + AUDIT_BITMASK_SIZE + 3 * AUDIT_MAX_FIELDS + 1);

const MASK_AT: usize = 12;
const FIELDS_AT: usize = MASK_AT + 4 * AUDIT_BITMASK_SIZE;
const VALUES_AT: usize = FIELDS_AT + 4 * AUDIT_MAX_FIELDS;
const FLAGS_AT: usize = VALUES_AT + 4 * AUDIT_MAX_FIELDS;
const BUFLEN_AT: usize = FLAGS_AT + 4 * AUDIT_MAX_FIELDS;

impl Rule {
    /// Encodes the rule as `struct audit_rule_data` for `AUDIT_ADD_RULE` / `AUDIT_DEL_RULE`.
    /// Fields beyond [`AUDIT_MAX_FIELDS`] are not encoded (the parser refuses such rules).
    pub fn encode(&self) -> Vec<u8> {
        let fields = &self.fields[..self.fields.len().min(AUDIT_MAX_FIELDS)];
        let strings: usize = fields
            .iter()
            .map(|f| match &f.value {
                Value::Str(s) => s.len(),
                Value::Num(_) => 0,
            })
            .sum();
        let mut out = vec![0u8; RULE_DATA_LEN + strings];
        let mut put = |at: usize, v: u32| out[at..at + 4].copy_from_slice(&v.to_ne_bytes());
        let prepend = if self.prepend { FILTER_PREPEND } else { 0 };
        put(0, self.list.0 | prepend);
        put(4, self.action.0);
        put(8, fields.len() as u32);
        for (i, word) in self.mask.iter().enumerate() {
            put(MASK_AT + 4 * i, *word);
        }
        for (i, f) in fields.iter().enumerate() {
            put(FIELDS_AT + 4 * i, f.field.0);
            let value = match &f.value {
                Value::Num(n) => *n,
                Value::Str(s) => s.len() as u32,
            };
            put(VALUES_AT + 4 * i, value);
            put(FLAGS_AT + 4 * i, f.op.flags());
        }
        put(BUFLEN_AT, strings as u32);
        let mut at = RULE_DATA_LEN;
        for f in fields {
            if let Value::Str(s) = &f.value {
                out[at..at + s.len()].copy_from_slice(s);
                at += s.len();
            }
        }
        out
    }

    /// Decodes a `struct audit_rule_data` as the kernel lists it. Errors name what is wrong.
    pub fn decode(data: &[u8]) -> Result<Rule, &'static str> {
        let get = |at: usize| -> Result<u32, &'static str> {
            data.get(at..at + 4)
                .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or("rule shorter than struct audit_rule_data")
        };
        let flags = get(0)?;
        let count = get(8)? as usize;
        if count > AUDIT_MAX_FIELDS {
            return Err("rule with more than 64 fields");
        }
        let buflen = get(BUFLEN_AT)? as usize;
        let buf = data
            .get(RULE_DATA_LEN..RULE_DATA_LEN.saturating_add(buflen))
            .ok_or("rule buffer shorter than its buflen")?;
        let mut rule = Rule::new(List(flags & !FILTER_PREPEND), Action(get(4)?));
        rule.prepend = flags & FILTER_PREPEND != 0;
        for (i, word) in rule.mask.iter_mut().enumerate() {
            *word = get(MASK_AT + 4 * i)?;
        }
        let mut rest = buf;
        for i in 0..count {
            let field = FieldType(get(FIELDS_AT + 4 * i)?);
            let value = get(VALUES_AT + 4 * i)?;
            let op = Op::from_flags(get(FLAGS_AT + 4 * i)?).ok_or("unknown field operator")?;
            let value = if field.is_string() {
                let len = value as usize;
                if len > rest.len() {
                    return Err("string field beyond the rule buffer");
                }
                let (s, tail) = rest.split_at(len);
                rest = tail;
                Value::Str(s.to_vec())
            } else {
                Value::Num(value)
            };
            rule.fields.push(Field { field, op, value });
        }
        if !rest.is_empty() {
            return Err("rule buffer longer than its string fields");
        }
        Ok(rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn layout_is_the_kernels() {
        assert_eq!(RULE_DATA_LEN, 1040);
        let mut rule = Rule::new(List::EXIT, Action::ALWAYS);
        rule.prepend = true;
        assert!(rule.add_syscall(59));
        rule.fields.push(Field {
            field: FieldType::LOGINUID,
            op: Op::Ge,
            value: Value::Num(1000),
        });
        rule.fields.push(Field {
            field: FieldType::KEY,
            op: Op::Eq,
            value: Value::Str(b"k1".to_vec()),
        });
        let b = rule.encode();
        assert_eq!(b.len(), 1042);
        assert_eq!(u32_at(&b, 0), 0x14);
        assert_eq!(u32_at(&b, 4), 2);
        assert_eq!(u32_at(&b, 8), 2);
        assert_eq!(u32_at(&b, MASK_AT + 4), 1 << 27);
        assert_eq!(u32_at(&b, FIELDS_AT), 9);
        assert_eq!(u32_at(&b, FIELDS_AT + 4), 210);
        assert_eq!(u32_at(&b, VALUES_AT), 1000);
        assert_eq!(u32_at(&b, VALUES_AT + 4), 2);
        assert_eq!(u32_at(&b, FLAGS_AT), 0x6000_0000);
        assert_eq!(u32_at(&b, FLAGS_AT + 4), 0x4000_0000);
        assert_eq!(u32_at(&b, BUFLEN_AT), 2);
        assert_eq!(&b[1040..], b"k1");
        assert_eq!(Rule::decode(&b), Ok(rule));
    }

    #[test]
    fn all_syscalls_leaves_the_class_bits_clear() {
        let mut rule = Rule::new(List::EXIT, Action::ALWAYS);
        rule.add_all_syscalls();
        assert_eq!(rule.mask[62], u32::MAX);
        assert_eq!(rule.mask[63], 0x0000_ffff);
        assert!(rule.has_all_syscalls());
        assert!(!rule.add_syscall(2032));
        assert!(rule.add_syscall(2031));
    }

    #[test]
    fn decode_rejects_damaged_rules() {
        let rule = Rule::new(List::EXIT, Action::ALWAYS);
        let b = rule.encode();
        assert_eq!(
            Rule::decode(&b[..100]),
            Err("rule shorter than struct audit_rule_data")
        );
        let mut long = b.clone();
        long[8..12].copy_from_slice(&65u32.to_ne_bytes());
        assert_eq!(Rule::decode(&long), Err("rule with more than 64 fields"));
        let mut bad = b.clone();
        bad[BUFLEN_AT..BUFLEN_AT + 4].copy_from_slice(&5u32.to_ne_bytes());
        assert_eq!(
            Rule::decode(&bad),
            Err("rule buffer shorter than its buflen")
        );
    }
}
