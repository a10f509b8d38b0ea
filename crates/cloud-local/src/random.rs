//! Randomness for generated identifiers: request tokens, account ids, names
//! and the ids AWS would assign (`sg-…`, `AROA…`, `us-east-1_…`).
//!
//! [`Rng`] is seeded once from the operating system (getrandom) and then
//! expanded with SHA-256 in counter mode, so drawing a value cannot fail and
//! tests can seed it to get repeatable output. It is not meant for secrets:
//! nothing the local cloud generates is a credential.

use sha2::{Digest, Sha256};

use crate::error::LocalCloudError;

const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const MIXED_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const DIGITS: &[u8] = b"0123456789";

/// A deterministic byte stream from a 32-byte seed.
pub struct Rng {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl Rng {
    /// Seeded from the operating system's random source.
    pub fn from_os() -> Result<Rng, LocalCloudError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| LocalCloudError::Random(e.to_string()))?;
        Ok(Rng::seeded(seed))
    }

    /// Seeded by the caller; the same seed gives the same sequence.
    pub fn seeded(seed: [u8; 32]) -> Rng {
        Rng {
            seed,
            counter: 0,
            block: [0; 32],
            // Forces a fresh block on the first draw.
            used: 32,
        }
    }

    fn byte(&mut self) -> u8 {
        if self.used == self.block.len() {
            let mut h = Sha256::new();
            h.update(self.seed);
            h.update(self.counter.to_le_bytes());
            self.block.copy_from_slice(&h.finalize());
            self.counter += 1;
            self.used = 0;
        }
        let b = self.block[self.used];
        self.used += 1;
        b
    }

    /// `true` with probability `percent` / 100 (a fault injector's draw).
    pub fn chance(&mut self, percent: u32) -> bool {
        if percent == 0 {
            return false;
        }
        // 0..=199 uniformly: 256 - 56 leaves a multiple of 200.
        loop {
            let b = self.byte();
            if b < 200 {
                return u32::from(b) < percent.min(100) * 2;
            }
        }
    }

    /// One character of `alphabet`, uniformly: bytes past the largest
    /// multiple of the alphabet's length are drawn again so that no
    /// character is favoured.
    fn pick(&mut self, alphabet: &[u8]) -> char {
        let n = alphabet.len();
        let limit = 256 - (256 % n);
        loop {
            let b = usize::from(self.byte());
            if b < limit {
                return char::from(alphabet[b % n]);
            }
        }
    }

    fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len).map(|_| self.pick(alphabet)).collect()
    }

    pub fn lower_alnum(&mut self, len: usize) -> String {
        self.string(LOWER_ALNUM, len)
    }

    pub fn upper_alnum(&mut self, len: usize) -> String {
        self.string(UPPER_ALNUM, len)
    }

    pub fn mixed_alnum(&mut self, len: usize) -> String {
        self.string(MIXED_ALNUM, len)
    }

    pub fn hex(&mut self, len: usize) -> String {
        self.string(HEX, len)
    }

    /// A 12-digit AWS account id; AWS never issues one with a leading zero
    /// in practice, and a leading zero trips tools that parse it as a number.
    pub fn account_id(&mut self) -> String {
        let first = self.pick(b"123456789");
        let mut id = String::with_capacity(12);
        id.push(first);
        id.push_str(&self.string(DIGITS, 11));
        id
    }

    /// A version-4 UUID in its canonical lowercase form, the shape of Cloud
    /// Control request tokens and KMS key ids.
    pub fn uuid(&mut self) -> String {
        let mut b = [0u8; 16];
        for x in &mut b {
            *x = self.byte();
        }
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h = hex::encode(b);
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_different_seed_differs() {
        let mut a = Rng::seeded([7; 32]);
        let mut b = Rng::seeded([7; 32]);
        let mut c = Rng::seeded([8; 32]);
        let (x, y, z) = (a.lower_alnum(40), b.lower_alnum(40), c.lower_alnum(40));
        assert_eq!(x, y);
        assert_ne!(x, z);
    }

    #[test]
    fn strings_use_only_their_alphabet() {
        let mut r = Rng::seeded([1; 32]);
        assert!(r.lower_alnum(500).bytes().all(|b| LOWER_ALNUM.contains(&b)));
        assert!(r.upper_alnum(500).bytes().all(|b| UPPER_ALNUM.contains(&b)));
        assert!(r.hex(500).bytes().all(|b| HEX.contains(&b)));
        assert_eq!(r.mixed_alnum(6).len(), 6);
    }

    #[test]
    fn account_ids_are_twelve_digits_without_leading_zero() {
        let mut r = Rng::seeded([2; 32]);
        for _ in 0..200 {
            let id = r.account_id();
            assert_eq!(id.len(), 12);
            assert!(id.bytes().all(|b| b.is_ascii_digit()));
            assert_ne!(id.as_bytes()[0], b'0');
        }
    }

    #[test]
    fn uuids_are_version_4() {
        let mut r = Rng::seeded([3; 32]);
        let u = r.uuid();
        assert_eq!(u.len(), 36);
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(u, r.uuid());
    }

    #[test]
    fn os_seeded_generators_differ() {
        let mut a = Rng::from_os().expect("os randomness");
        let mut b = Rng::from_os().expect("os randomness");
        assert_ne!(a.uuid(), b.uuid());
    }
}
