//! A stable 64-bit hash for checksums of stored bytes and for event fingerprints.
//!
//! Stable across runs, versions and machines (it is written to disk), fast (eight bytes per step)
//! and not cryptographic: it detects damage and tells events apart, it does not resist an
//! attacker who can write the store's files anyway.

const K: u64 = 0x9e37_79b9_7f4a_7c15;

/// Returns the hash of `bytes`, starting from `seed`.
pub fn hash64(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(K);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("eight bytes"));
        h = (h ^ mix(w))
            .rotate_left(27)
            .wrapping_mul(K)
            .wrapping_add(0x52dc_e729);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut tail = [0u8; 8];
        tail[..rest.len()].copy_from_slice(rest);
        h = (h ^ mix(u64::from_le_bytes(tail)))
            .rotate_left(27)
            .wrapping_mul(K);
    }
    mix(h)
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
        assert_eq!(hash64(0, b""), 0);
        assert_ne!(hash64(0, b"a"), hash64(0, b"b"));
        assert_ne!(hash64(0, b"abcdefgh1"), hash64(0, b"abcdefgh2"));
        assert_ne!(hash64(0, b"\0"), hash64(0, b"\0\0"));
        assert_eq!(hash64(7, b"auditmesh"), hash64(7, b"auditmesh"));
    }
}
