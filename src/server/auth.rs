//! Bearer API keys and the per-key request budget. Keys are held only as SHA-256 digests; a presented key is hashed
//! and compared with every stored digest in constant time (`subtle`), so neither the keys nor their prefixes leak
//! through timing. The budget is a token bucket per key (capacity = the per-minute budget, refilled continuously):
//! bursts up to the budget are allowed, and an empty bucket answers 429 with the whole seconds until a token is back.

use sha2::{Digest, Sha256};
use std::sync::Mutex;
use std::time::Instant;
use subtle::ConstantTimeEq;

/// A key as the access log names it; see `KeyRing::id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyId(pub String);

/// The accepted keys, as digests. `Debug` shows only how many there are.
pub struct KeyRing {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyRing({} keys)", self.digests.len())
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

impl KeyRing {
    /// Blank entries are ignored (a trailing comma in `TALLY_SERVE_KEYS` is not a key).
    pub fn new<S: AsRef<str>>(keys: &[S]) -> Self {
        let mut digests: Vec<[u8; 32]> = keys
            .iter()
            .map(|k| k.as_ref().trim())
            .filter(|k| !k.is_empty())
            .map(digest)
            .collect();
        digests.sort_unstable();
        digests.dedup();
        KeyRing { digests }
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    pub fn len(&self) -> usize {
        self.digests.len()
    }

    /// How the key at `index` is named in the access log: the first 8 hex digits of its SHA-256 digest (what
    /// `printf %s KEY | sha256sum` starts with), never the key.
    pub fn id(&self, index: usize) -> Option<KeyId> {
        let d = self.digests.get(index)?;
        Some(KeyId(d[..4].iter().map(|b| format!("{b:02x}")).collect()))
    }

    /// The index of the matching key. Every stored digest is compared, whatever matches, so the time taken does
    /// not depend on which key (if any) matched.
    pub fn find(&self, presented: &str) -> Option<usize> {
        let d = digest(presented);
        let mut found: Option<usize> = None;
        for (i, stored) in self.digests.iter().enumerate() {
            let hit: bool = stored.ct_eq(&d).into();
            if hit {
                found = Some(i);
            }
        }
        found
    }
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Per-key token buckets.
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<Vec<Bucket>>,
}

impl RateLimiter {
    pub fn new(per_minute: u32, keys: usize) -> Self {
        let now = Instant::now();
        RateLimiter {
            per_minute,
            buckets: Mutex::new(
                (0..keys)
                    .map(|_| Bucket {
                        tokens: f64::from(per_minute),
                        last: now,
                    })
                    .collect(),
            ),
        }
    }

    /// Takes one request from key `key`'s budget; `Err(seconds)` says how long to wait before retrying.
    pub fn check(&self, key: usize) -> Result<(), u64> {
        let cap = f64::from(self.per_minute);
        let rate = cap / 60.0;
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        let Some(b) = buckets.get_mut(key) else {
            return Ok(());
        };
        let now = Instant::now();
        b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(cap);
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - b.tokens) / rate).ceil();
            Err((wait as u64).max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_only_themselves() {
        let ring = KeyRing::new(&["alpha", " beta ", "", "alpha"]);
        assert_eq!(ring.len(), 2);
        assert!(ring.find("alpha").is_some());
        assert!(ring.find("beta").is_some());
        assert!(ring.find("alph").is_none());
        assert!(ring.find("").is_none());
        assert_ne!(ring.find("alpha"), ring.find("beta"));
        assert!(!format!("{ring:?}").contains("alpha"));
        let id = ring.id(ring.find("alpha").expect("alpha")).expect("an id");
        // printf %s alpha | sha256sum
        assert_eq!(id.0, "8ed3f6ad");
    }

    #[test]
    fn budget_runs_out_and_names_the_wait() {
        let limiter = RateLimiter::new(3, 2);
        assert!(limiter.check(0).is_ok());
        assert!(limiter.check(0).is_ok());
        assert!(limiter.check(0).is_ok());
        let wait = limiter.check(0).expect_err("fourth request in a minute");
        assert!((1..=20).contains(&wait), "{wait}");
        assert!(limiter.check(1).is_ok(), "other keys have their own budget");
    }
}
