//! Splits auditd's ENRICHED suffix (`\x1dARCH=x86_64 SYSCALL=execve AUID="root" …`) from a body.
//!
//! Some pipelines strip the `\x1d` separator and leave the suffix glued to the last raw value
//! (`key="x"ARCH=x86_64 …`, `cap_frootid=0OUID="root" …`). Those are recognised by the upper-case
//! keys auditd's interpretation writes; the check only runs when the body ends in such a key, so
//! ordinary lines pay one short backwards scan.

/// Keys auditd adds in the ENRICHED suffix. A glued suffix must start with one of these.
const ENRICHED_KEYS: &[&[u8]] = &[
    b"ARCH", b"SYSCALL", b"AUID", b"UID", b"GID", b"EUID", b"SUID", b"FSUID", b"EGID", b"SGID",
    b"FSGID", b"OUID", b"OGID", b"SADDR", b"OAUID", b"OLD-AUID", b"ID", b"IUID", b"INUID", b"OLD-UID",
    b"NEW-UID", b"OLD-GID", b"NEW-GID", b"INODE_UID", b"INODE_GID", b"SAUID", b"CAP_FP", b"PROCTITLE",
];

/// Returns `(body, suffix)`.
pub(crate) fn split(body: &[u8]) -> (&[u8], Option<&[u8]>) {
    if let Some(sep) = memchr::memchr(0x1d, body) {
        return (&body[..sep], Some(&body[sep + 1..]));
    }
    if !ends_with_enriched_key(body) {
        return (body, None);
    }
    match find_glued_start(body) {
        Some(at) => (&body[..at], Some(&body[at..])),
        None => (body, None),
    }
}

/// Looks at the key of the last `key=value` in the body.
fn ends_with_enriched_key(body: &[u8]) -> bool {
    let tail = match body.last() {
        Some(b'}') => match memchr::memrchr(b'{', body) {
            Some(open) => &body[..open],
            None => return false,
        },
        _ => body,
    };
    let Some(eq) = memchr::memrchr(b'=', tail) else { return false };
    let key_run = upper_run_before(tail, eq);
    ENRICHED_KEYS.iter().any(|k| key_run.ends_with(k))
}

/// Returns the run of `[A-Z0-9_-]` bytes that ends at `end`.
fn upper_run_before(bytes: &[u8], end: usize) -> &[u8] {
    let start = bytes[..end]
        .iter()
        .rposition(|&b| !(b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-'))
        .map_or(0, |p| p + 1);
    &bytes[start..end]
}

/// Finds the first enriched key that is glued to the byte before it (no space) and sits outside
/// quotes; the suffix starts there.
fn find_glued_start(body: &[u8]) -> Option<usize> {
    let mut in_quote = false;
    for (i, &b) in body.iter().enumerate() {
        match b {
            b'"' => in_quote = !in_quote,
            b'=' if !in_quote => {
                let run = upper_run_before(body, i);
                let longest = ENRICHED_KEYS.iter().filter(|k| run.ends_with(k)).map(|k| k.len()).max();
                if let Some(len) = longest {
                    let at = i - len;
                    if at > 0 && body[at - 1] != b' ' {
                        return Some(at);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::split;

    fn s(body: &str) -> (&str, Option<&str>) {
        let (b, e) = split(body.as_bytes());
        (std::str::from_utf8(b).unwrap(), e.map(|e| std::str::from_utf8(e).unwrap()))
    }

    #[test]
    fn separator() {
        assert_eq!(s("res=1\x1dAUID=\"unset\""), ("res=1", Some("AUID=\"unset\"")));
    }

    #[test]
    fn glued_after_quote_and_after_number() {
        assert_eq!(
            s("comm=\"bash\" key=\"susp_shell\"ARCH=x86_64 SYSCALL=execve AUID=\"bui\" FSGID=\"bui\""),
            ("comm=\"bash\" key=\"susp_shell\"", Some("ARCH=x86_64 SYSCALL=execve AUID=\"bui\" FSGID=\"bui\""))
        );
        assert_eq!(
            s("nametype=NORMAL cap_frootid=0OUID=\"root\" OGID=\"root\""),
            ("nametype=NORMAL cap_frootid=0", Some("OUID=\"root\" OGID=\"root\""))
        );
        assert_eq!(
            s("saddr=0200AAAA7F000001SADDR={ saddr_fam=inet laddr=127.0.0.1 lport=43690 }"),
            ("saddr=0200AAAA7F000001", Some("SADDR={ saddr_fam=inet laddr=127.0.0.1 lport=43690 }"))
        );
    }

    #[test]
    fn plain_bodies_are_untouched() {
        assert_eq!(s("a0=\"UID=1\" uid=0"), ("a0=\"UID=1\" uid=0", None));
        assert_eq!(s("op=x UID=\"root\""), ("op=x UID=\"root\"", None));
        assert_eq!(s(""), ("", None));
    }
}
