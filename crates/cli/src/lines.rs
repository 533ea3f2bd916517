//! Splits a byte stream into lines through one reusable buffer, read in large chunks.
//!
//! A line longer than the limit is handed out cut to the limit and flagged; the rest of it is
//! skipped without being held in memory, so one runaway line never costs more than about twice
//! the limit. This module knows nothing about audit records.

use std::io::{self, Read};
use std::ops::ControlFlow;

/// Bytes asked of the reader at once (at least).
const CHUNK: usize = 1 << 20;

/// Reads streams line by line; keep one across inputs to reuse its buffer.
pub struct LineReader {
    buf: Vec<u8>,
    max_line: usize,
    /// Bytes read so far, over all inputs.
    pub bytes: u64,
}

impl LineReader {
    pub fn new(max_line: usize) -> LineReader {
        LineReader { buf: Vec::new(), max_line: max_line.max(1), bytes: 0 }
    }

    /// Reads `reader` to its end and calls `on_line(line, truncated)` for every line, without
    /// its `\n`; a last line without `\n` counts too. Stops early when `on_line` breaks, and
    /// returns how it ended.
    pub fn read_all<R: Read + ?Sized>(
        &mut self,
        reader: &mut R,
        mut on_line: impl FnMut(&[u8], bool) -> ControlFlow<()>,
    ) -> io::Result<ControlFlow<()>> {
        let max = self.max_line;
        let mut emit = |line: &[u8]| if line.len() > max { on_line(&line[..max], true) } else { on_line(line, false) };
        if self.buf.len() < CHUNK {
            self.buf.resize(CHUNK, 0);
        }
        let buf = &mut self.buf;
        let (mut start, mut end) = (0usize, 0usize);
        // Set while discarding the rest of a line that was already handed out truncated.
        let mut skipping = false;
        loop {
            if end == buf.len() {
                if start > 0 {
                    buf.copy_within(start..end, 0);
                    end -= start;
                    start = 0;
                } else {
                    let len = buf.len();
                    buf.resize(len * 2, 0);
                }
            }
            let n = match reader.read(&mut buf[end..]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.bytes += n as u64;
            let mut scan = end;
            end += n;
            while let Some(p) = memchr::memchr(b'\n', &buf[scan..end]) {
                let newline = scan + p;
                if skipping {
                    skipping = false;
                } else if emit(&buf[start..newline]).is_break() {
                    return Ok(ControlFlow::Break(()));
                }
                start = newline + 1;
                scan = start;
            }
            if skipping {
                start = end;
            } else if end - start > max {
                if emit(&buf[start..end]).is_break() {
                    return Ok(ControlFlow::Break(()));
                }
                skipping = true;
                start = end;
            }
            if start == end {
                start = 0;
                end = 0;
            }
        }
        if start < end && !skipping {
            return Ok(emit(&buf[start..end]));
        }
        Ok(ControlFlow::Continue(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per call, to cross chunk boundaries.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.data.len().min(self.step).min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn lines(data: &[u8], max: usize, step: usize) -> Vec<(String, bool)> {
        let mut reader = LineReader::new(max);
        let mut got = Vec::new();
        let flow = reader
            .read_all(&mut Trickle { data, step }, |line, cut| {
                got.push((String::from_utf8_lossy(line).into_owned(), cut));
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(flow, ControlFlow::Continue(()));
        assert_eq!(reader.bytes, data.len() as u64);
        got
    }

    fn owned(expected: &[(&str, bool)]) -> Vec<(String, bool)> {
        expected.iter().map(|(l, c)| (l.to_string(), *c)).collect()
    }

    #[test]
    fn splits_lines_across_reads() {
        for step in [1, 3, 1 << 20] {
            assert_eq!(lines(b"a\nbb\n\nccc", 100, step), owned(&[("a", false), ("bb", false), ("", false), ("ccc", false)]));
            assert_eq!(lines(b"a\r\n", 100, step), owned(&[("a\r", false)]));
            assert_eq!(lines(b"", 100, step), owned(&[]));
        }
    }

    #[test]
    fn long_lines_are_cut_and_the_rest_skipped() {
        for step in [1, 4, 1 << 20] {
            assert_eq!(
                lines(b"12345678\nab\n123456\nxyz", 4, step),
                owned(&[("1234", true), ("ab", false), ("1234", true), ("xyz", false)]),
                "step {step}"
            );
        }
        // Longer than a chunk, so the buffer has to grow before the cut.
        let mut big = vec![b'x'; CHUNK * 3];
        big.extend_from_slice(b"\nend");
        let got = lines(&big, CHUNK + 10, 1 << 16);
        assert_eq!(got.len(), 2);
        assert_eq!((got[0].0.len(), got[0].1), (CHUNK + 10, true));
        assert_eq!(got[1], ("end".to_string(), false));
    }

    #[test]
    fn stops_when_asked() {
        let mut reader = LineReader::new(100);
        let mut seen = 0;
        let flow = reader
            .read_all(&mut &b"a\nb\nc\n"[..], |_, _| {
                seen += 1;
                if seen == 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            })
            .unwrap();
        assert_eq!((flow, seen), (ControlFlow::Break(()), 2));
    }
}
