//! Merges the EXECVE records of one event into a single argument vector.
//!
//! The kernel writes each argument as `aN="…"` or hex `aN=2F…`; an argument too long for one
//! record is announced with `aN_len=L` (its printed length: hex digits when hex-encoded) and sent
//! as chunks `aN[0]=…`, `aN[1]=…`, each quoted or hex on its own; many arguments continue in
//! further EXECVE records. Every problem is reported against its argument; nothing is dropped.

use parse::{decode_hex, Fields, RawValue};
use vocab::parse_u32;

/// The merged arguments of an execve, decoded to bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Argv {
    /// `argc=` as the kernel wrote it.
    pub argc: Option<u32>,
    buf: Vec<u8>,
    ends: Vec<u32>,
    /// Empty when every argument is present and has its announced length.
    pub problems: Vec<ArgvProblem>,
}

/// Something wrong with the EXECVE records of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgvProblem {
    /// Argument `index` never arrived (it is empty in the vector).
    Missing { index: u32 },
    /// The chunks of argument `index` add up to `got` printed bytes, not the announced `expected`.
    LengthMismatch { index: u32, expected: u32, got: u32 },
    /// Argument `index` was hex-like but did not decode; kept as written.
    BadHex { index: u32 },
    /// An `aN` field with an index beyond `argc`; kept.
    BeyondArgc { index: u32 },
    /// `argc` announces more arguments than can be placeholders for; `found` were present.
    ArgcTooLarge { argc: u32, found: u32 },
    /// Argument `index` is so far beyond the others that no placeholders were made for the
    /// missing arguments before it; it follows the others directly.
    IndexTooLarge { index: u32 },
}

/// At most this many empty placeholders are made for missing arguments: damaged input such as
/// `argc=4294967295` must not allocate without bound.
const MAX_PLACEHOLDERS: u32 = 4096;

impl Argv {
    /// Returns the number of arguments in the vector.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Returns true if there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Returns argument `i`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        Some(&self.buf[start..end])
    }

    /// Iterates over the arguments.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.ends.len()).map(move |i| self.get(i).unwrap_or_default())
    }
}

/// One piece of an argument as found in the records.
struct Piece<'a> {
    index: u32,
    /// `None` for a whole argument `aN`, `Some(m)` for chunk `aN[m]`.
    chunk: Option<u32>,
    value: RawValue<'a>,
}

/// Merges the bodies of an event's EXECVE records, in arrival order.
pub fn merge<'a>(bodies: impl IntoIterator<Item = &'a [u8]>) -> Argv {
    let mut argc = None;
    let mut lens: Vec<(u32, u32)> = Vec::new();
    let mut pieces: Vec<Piece<'a>> = Vec::new();
    for body in bodies {
        for field in Fields::new(body) {
            let name = field.name;
            if name == b"argc" {
                argc = parse_u32(field.value.bytes());
                continue;
            }
            let Some(rest) = name.strip_prefix(b"a") else { continue };
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            let Some(index) = parse_u32(&rest[..digits]) else { continue };
            match &rest[digits..] {
                b"" => pieces.push(Piece { index, chunk: None, value: field.value }),
                b"_len" => {
                    if let Some(len) = parse_u32(field.value.bytes()) {
                        lens.push((index, len));
                    }
                }
                tail => {
                    if let Some(m) = tail.strip_prefix(b"[").and_then(|t| t.strip_suffix(b"]")).and_then(parse_u32) {
                        pieces.push(Piece { index, chunk: Some(m), value: field.value });
                    }
                }
            }
        }
    }
    if !pieces.is_sorted_by_key(|p| (p.index, p.chunk)) {
        pieces.sort_by_key(|p| (p.index, p.chunk));
    }
    let found = pieces.len() as u32;
    let mut argv = Argv { argc, buf: Vec::new(), ends: Vec::with_capacity(pieces.len()), problems: Vec::new() };
    let mut pieces = pieces.into_iter().peekable();
    let mut index: u32 = 0;
    let mut placeholders: u32 = 0;
    loop {
        let next_present = pieces.peek().map(|p| p.index);
        if next_present != Some(index) {
            // `index` is missing: a hole before the next argument, or the tail `argc` announces.
            let hole_end = match (next_present, argc) {
                (Some(next), _) => next,
                (None, Some(a)) if index < a => a,
                (None, _) => break,
            };
            let hole = hole_end - index;
            if placeholders.saturating_add(hole) > MAX_PLACEHOLDERS {
                // Damaged input: no placeholders for this hole.
                match next_present {
                    Some(next) => {
                        argv.problems.push(ArgvProblem::IndexTooLarge { index: next });
                        index = next;
                        continue;
                    }
                    None => {
                        argv.problems.push(ArgvProblem::ArgcTooLarge { argc: hole_end, found });
                        break;
                    }
                }
            }
            placeholders += 1;
            argv.problems.push(ArgvProblem::Missing { index });
        }
        let mut printed: u32 = 0;
        let mut present = false;
        while let Some(piece) = pieces.next_if(|p| p.index == index) {
            present = true;
            printed = printed.saturating_add(piece.value.bytes().len() as u32);
            append_value(&mut argv, index, piece.value);
        }
        if let Some(&(_, expected)) = lens.iter().find(|(i, _)| *i == index) {
            if expected != printed {
                argv.problems.push(ArgvProblem::LengthMismatch { index, expected, got: printed });
            }
        }
        if present && argc.is_some_and(|a| index >= a) {
            argv.problems.push(ArgvProblem::BeyondArgc { index });
        }
        argv.ends.push(argv.buf.len() as u32);
        match index.checked_add(1) {
            Some(next) => index = next,
            None => break,
        }
    }
    argv
}

fn append_value(argv: &mut Argv, index: u32, value: RawValue<'_>) {
    match value {
        RawValue::Bare(hex) if !hex.is_empty() && hex != b"(null)" => match decode_hex(hex) {
            Some(bytes) => argv.buf.extend_from_slice(&bytes),
            None => {
                argv.problems.push(ArgvProblem::BadHex { index });
                argv.buf.extend_from_slice(hex);
            }
        },
        other => argv.buf.extend_from_slice(other.bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(argv: &Argv) -> Vec<String> {
        argv.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect()
    }

    #[test]
    fn quoted_hex_and_empty_arguments() {
        let argv = merge([&b"argc=4 a0=\"ls\" a1=2D6C2061 a2=\"\" a3=\"x\""[..]]);
        assert_eq!(args(&argv), ["ls", "-l a", "", "x"]);
        assert_eq!((argv.argc, argv.problems.as_slice()), (Some(4), &[][..]));
    }

    #[test]
    fn chunks_and_continuation_records() {
        let argv = merge([
            &b"argc=3 a0=\"echo\" a1_len=8 a1[0]=4141"[..],
            &b"a1[1]=\"BBBB\""[..],
            &b"a2=\"z\""[..],
        ]);
        assert_eq!(args(&argv), ["echo", "AABBBB", "z"]);
        assert_eq!(argv.problems, []);
    }

    #[test]
    fn problems_are_reported_not_dropped() {
        let argv = merge([&b"argc=3 a0=\"echo\" a1_len=10 a1[0]=4141 a3=\"extra\""[..]]);
        assert_eq!(args(&argv), ["echo", "AA", "", "extra"]);
        assert_eq!(
            argv.problems,
            [
                ArgvProblem::LengthMismatch { index: 1, expected: 10, got: 4 },
                ArgvProblem::Missing { index: 2 },
                ArgvProblem::BeyondArgc { index: 3 },
            ]
        );
        let argv = merge([&b"argc=4294967295 a0=\"x\""[..]]);
        assert_eq!((args(&argv), argv.problems), (vec!["x".to_string()], vec![ArgvProblem::ArgcTooLarge { argc: u32::MAX, found: 1 }]));
        let argv = merge([&b"argc=2 a0=\"x\" a4294967295=\"y\""[..]]);
        assert_eq!(args(&argv), ["x", "y"]);
        assert_eq!(argv.problems, [ArgvProblem::IndexTooLarge { index: u32::MAX }, ArgvProblem::BeyondArgc { index: u32::MAX }]);
        let argv = merge([&b"argc=1 a0=ABC"[..]]);
        assert_eq!((args(&argv), argv.problems), (vec!["ABC".to_string()], vec![ArgvProblem::BadHex { index: 0 }]));
    }
}
