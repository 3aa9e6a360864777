//! Determinism: stable hashes of requests and seeded random streams derived from them.
//!
//! Everything the mock invents (generated text, ids, jitter) comes from a [`DetRng`] seeded by the
//! global seed and a stable hash of the request, so the same request always gets the same bytes.

use std::hash::Hasher;

use fnv::FnvHasher;
use rand_chacha::{
    ChaCha8Rng,
    rand_core::{Rng, SeedableRng},
};

/// FNV-1a over the parts, with a separator so `["ab","c"]` and `["a","bc"]` differ.
pub fn hash_parts(parts: &[&str]) -> u64 {
    let mut hasher = FnvHasher::default();
    for part in parts {
        hasher.write(part.as_bytes());
        hasher.write_u8(0xff);
    }
    hasher.finish()
}

/// FNV-1a over raw bytes.
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut hasher = FnvHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

/// A reproducible random stream (ChaCha8: stable across platforms and crate versions).
#[derive(Debug, Clone)]
pub struct DetRng(ChaCha8Rng);

impl DetRng {
    /// A stream determined entirely by `seed`.
    pub fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Uniform integer in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0.next_u64() % bound.max(1)
    }

    /// Uniform integer in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high.saturating_sub(low) + 1)
    }

    /// Uniform float in `[-1, 1)`.
    pub fn signed_unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }

    /// `len` lower-case hex digits.
    pub fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit(self.below(16) as u32, 16).unwrap_or('0'))
            .collect()
    }

    /// `len` characters of `0-9A-Za-z`, as Anthropic's ids are made.
    pub fn base62(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    /// `len` characters from `[a-z0-9]`, as Ollama uses for tool call ids.
    pub fn alphanumeric(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_stream() {
        let mut a = DetRng::new(7);
        let mut b = DetRng::new(7);
        assert_eq!(a.alphanumeric(16), b.alphanumeric(16));
        assert_ne!(
            DetRng::new(8).alphanumeric(16),
            DetRng::new(7).alphanumeric(16)
        );
    }

    #[test]
    fn hash_parts_separates_boundaries() {
        assert_ne!(hash_parts(&["ab", "c"]), hash_parts(&["a", "bc"]));
    }
}
