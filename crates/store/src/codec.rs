//! Integer encodings shared by the write-ahead log and the segments: LEB128 varints, zigzag for
//! signed values, and a bounds-checked reader that reports damage instead of panicking.

/// Appends `v` as a LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Appends a length-prefixed byte string.
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Appends an optional byte string: 0 when absent, else its length + 1 and the bytes.
pub fn put_opt(out: &mut Vec<u8>, v: Option<&[u8]>) {
    match v {
        None => put_varint(out, 0),
        Some(b) => {
            put_varint(out, b.len() as u64 + 1);
            out.extend_from_slice(b);
        }
    }
}

/// Compresses `src` with `z` through the reusable `scratch` and returns an exactly sized copy:
/// `Compressor::compress` allocates the worst-case size each time, and fresh megabytes cost
/// more in page faults than the compression itself.
pub fn compress(z: &mut zstd::bulk::Compressor<'static>, scratch: &mut Vec<u8>, src: &[u8]) -> std::io::Result<Vec<u8>> {
    scratch.clear();
    scratch.reserve(zstd::zstd_safe::compress_bound(src.len()));
    z.compress_to_buffer(src, scratch)?;
    Ok(scratch.clone())
}

/// Reads what [`put_varint`] and [`put_bytes`] wrote; every read fails with `None` at the end of
/// the input or on an over-long varint.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    pub fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            let byte = *self.bytes.get(self.pos)?;
            self.pos += 1;
            if shift == 63 && byte > 1 {
                return None;
            }
            v |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(v);
            }
            shift += 7;
            if shift > 63 {
                return None;
            }
        }
    }

    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.varint()?).ok()?;
        self.take(n)
    }

    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let out = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(out)
    }

    pub fn u64_le(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_and_damage_is_none() {
        let mut out = Vec::new();
        for v in [0, 1, 127, 128, 300, u64::MAX] {
            put_varint(&mut out, v);
        }
        put_bytes(&mut out, b"abc");
        let mut r = Reader::new(&out);
        assert_eq!([0, 1, 127, 128, 300, u64::MAX].map(|_| r.varint().unwrap()), [0, 1, 127, 128, 300, u64::MAX]);
        assert_eq!(r.bytes(), Some(&b"abc"[..]));
        assert!(r.is_empty());
        assert_eq!(r.varint(), None);
        assert_eq!(Reader::new(&[0xff; 11]).varint(), None);
        assert_eq!(Reader::new(&[5, b'a']).bytes(), None);
        assert_eq!(unzigzag(zigzag(-5)), -5);
        assert_eq!(unzigzag(zigzag(i64::MIN)), i64::MIN);
    }
}
