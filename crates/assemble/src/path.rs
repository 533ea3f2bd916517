//! Lexical path normalization, shared by everything that compares the names PATH and CWD
//! records carry (source filters, the provenance graph).

/// Removes empty and `.` components and resolves `..` textually (never above `/`); the result
/// has no trailing `/` (but is `/` when nothing is left). Symbolic links are not followed: the
/// kernel already followed them to find the inode; the name is the process's own.
pub fn normalize(path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in path.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut out = Vec::with_capacity(path.len());
    for p in parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}
