//! A stable 64-bit hash for checksums of stored bytes and for event fingerprints.
//!
//! XXH64: stable across runs, versions and machines (it is written to disk), fast (32 bytes per step)
//! and not cryptographic: it detects damage and tells events apart, it does not resist an
//! attacker who can write the store's files anyway.

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

/// Returns the XXH64 hash of `bytes` with `seed` (Yann Collet's xxHash, 64-bit: four
/// independent lanes over 32-byte stripes, so long inputs hash at several bytes per cycle).
pub fn hash64(seed: u64, bytes: &[u8]) -> u64 {
    let word = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().expect("eight bytes"));
    let round = |acc: u64, w: u64| acc.wrapping_add(w.wrapping_mul(P2)).rotate_left(31).wrapping_mul(P1);
    let mut rest = bytes;
    let mut h = if bytes.len() >= 32 {
        let mut v = [seed.wrapping_add(P1).wrapping_add(P2), seed.wrapping_add(P2), seed, seed.wrapping_sub(P1)];
        let mut stripes = bytes.chunks_exact(32);
        for s in &mut stripes {
            v[0] = round(v[0], word(&s[0..]));
            v[1] = round(v[1], word(&s[8..]));
            v[2] = round(v[2], word(&s[16..]));
            v[3] = round(v[3], word(&s[24..]));
        }
        rest = stripes.remainder();
        let mut h = v[0].rotate_left(1).wrapping_add(v[1].rotate_left(7)).wrapping_add(v[2].rotate_left(12)).wrapping_add(v[3].rotate_left(18));
        for x in v {
            h = (h ^ round(0, x)).wrapping_mul(P1).wrapping_add(P4);
        }
        h
    } else {
        seed.wrapping_add(P5)
    };
    h = h.wrapping_add(bytes.len() as u64);
    let mut words = rest.chunks_exact(8);
    for w in &mut words {
        h = (h ^ round(0, word(w))).rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
    }
    let mut tail = words.remainder();
    if tail.len() >= 4 {
        let w = u64::from(u32::from_le_bytes(tail[..4].try_into().expect("four bytes")));
        h = (h ^ w.wrapping_mul(P1)).rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        tail = &tail[4..];
    }
    for &b in tail {
        h = (h ^ u64::from(b).wrapping_mul(P5)).rotate_left(11).wrapping_mul(P1);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

/// A `Hasher` over [`hash64`] for the store's in-memory tables (segment dictionaries,
/// fingerprint sets): SipHash showed in the ingest profile. A per-process random seed keeps
/// crafted strings from colliding on purpose.
#[derive(Clone, Copy)]
pub struct Hash64 {
    state: u64,
}

impl std::hash::Hasher for Hash64 {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        self.state = hash64(self.state, bytes);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.state = mix(self.state ^ i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.state = mix(self.state ^ i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.state
    }
}

/// Builds [`Hash64`]s with one random seed per table.
#[derive(Clone, Copy)]
pub struct BuildHash64 {
    seed: u64,
}

impl Default for BuildHash64 {
    fn default() -> BuildHash64 {
        // RandomState is seeded from the OS once per thread and then varied per instance
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(0x6d65_7368);
        BuildHash64 { seed: h.finish() }
    }
}

impl std::hash::BuildHasher for BuildHash64 {
    type Hasher = Hash64;
    #[inline]
    fn build_hasher(&self) -> Hash64 {
        Hash64 { state: self.seed }
    }
}

pub type FastMap<K, V> = std::collections::HashMap<K, V, BuildHash64>;
pub type FastSet<K> = std::collections::HashSet<K, BuildHash64>;

/// A 64-bit finalizer (MurmurHash3's fmix64) for hashing single integers.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

#[cfg(test)]
mod tests {
    use super::hash64;

    #[test]
    fn values_are_fixed_because_they_are_on_disk() {
        // XXH64's published values
        assert_eq!(hash64(0, b""), 0xEF46_DB37_51D8_E999);
        assert_eq!(hash64(0, b"a"), 0xD24E_C4F1_A98C_6E5B);
        assert_eq!(hash64(0, b"Nobody inspects the spammish repetition"), 0xFBCE_A83C_8A37_8BF1);
        assert_ne!(hash64(0, b"a"), hash64(0, b"b"));
        assert_ne!(hash64(0, b"abcdefgh1"), hash64(0, b"abcdefgh2"));
        assert_ne!(hash64(0, b"\0"), hash64(0, b"\0\0"));
        assert_eq!(hash64(7, b"auditmesh"), hash64(7, b"auditmesh"));
    }
}
