//! The embedded price catalog, and the [`PriceSource`] port live prices plug into.
//!
//! Every [`Price`] carries its unit, region, source and the date it was read,
//! so an estimate can say where each number came from. Two sources exist:
//!
//! - [`SOURCE_PRICES_MD`]: the project's checked reference table
//!   (`shared/reference/prices.md`, us-east-1, read 2026).
//! - [`SOURCE_MEMORY`]: prices the reference table does not give, added from
//!   knowledge of AWS's public us-east-1 list prices. They are marked as such
//!   and have not been verified here; replace them with live Price List API
//!   results where credentials exist.
//!
//! Only us-east-1 is in the catalog. A lookup for another region falls back
//! to us-east-1 and says so ([`PriceCatalog::lookup`] returns `fell_back`),
//! and the estimate carries a note. A class or engine that has no entry is
//! not guessed: the model reports the price as unknown.
//!
//! Keys are dotted names (`rds.instance.postgres.db.t3.micro`,
//! `s3.requests.put`). The unit is the unit of the price, and a cost
//! component's quantity is expressed in that same unit.
//!
//! The prices themselves are in `table` (one entry per key, grouped by
//! service); this file holds the types, the lookup with its us-east-1
//! fallback, and the cache a live source sits behind.

mod table;

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use infraguard_core::Money;
use serde::{Deserialize, Serialize};

use crate::dec::dec;

use table::CATALOG;

/// The region every catalog price is for.
pub const CATALOG_REGION: &str = "us-east-1";
/// Source of prices taken from the project's reference table.
pub const SOURCE_PRICES_MD: &str = "shared/reference/prices.md (read 2026)";
/// Source of prices added from memory; distinguishable on purpose.
pub const SOURCE_MEMORY: &str = "AWS public price list, from memory, not verified here";
const READ_PRICES_MD: &str = "2026";
const READ_MEMORY: &str = "not read: recalled 2026-11-26";

/// One list price. Strings are `Cow` so that the embedded catalog borrows
/// `'static` text while a live [`PriceSource`] can return owned values.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub key: Cow<'static, str>,
    pub description: Cow<'static, str>,
    /// Unit the price is per (`GB-month`, `1k requests`, `hours`).
    pub unit: Cow<'static, str>,
    pub usd: Money,
    pub region: Cow<'static, str>,
    pub source: Cow<'static, str>,
    pub read_on: Cow<'static, str>,
}

/// Where prices come from besides the embedded catalog: the AWS backend
/// implements this over `pricing:GetProducts`. Returning `None` means "no
/// price from this source"; the catalog is then used.
pub trait PriceSource {
    fn price(&self, key: &str, region: &str) -> Option<Price>;
}

/// Lookups into the embedded catalog.
#[derive(Clone, Copy, Debug, Default)]
pub struct PriceCatalog;

impl PriceCatalog {
    /// The price for `key` in `region`; when the catalog has no price of that
    /// region, the us-east-1 price with `fell_back = true`.
    pub fn lookup(&self, key: &str, region: &str) -> Option<(&'static Price, bool)> {
        let index = index();
        if let Some(p) = index.get(&(key, region)) {
            return Some((p, false));
        }
        index
            .get(&(key, CATALOG_REGION))
            .map(|p| (*p, region != CATALOG_REGION))
    }
}

/// The catalog answers only for the regions it holds; falling back is the
/// estimator's decision, because it has to say so in the estimate.
impl PriceSource for PriceCatalog {
    fn price(&self, key: &str, region: &str) -> Option<Price> {
        index().get(&(key, region)).map(|p| (*p).clone())
    }
}

/// Remembers every answer (including "no price") of a slower source, such
/// as the Price List API, so each key and region is asked once per process.
pub struct CachedSource<S> {
    inner: S,
    cache: Mutex<HashMap<(String, String), Option<Price>>>,
}

impl<S: PriceSource> CachedSource<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl<S: PriceSource> PriceSource for CachedSource<S> {
    fn price(&self, key: &str, region: &str) -> Option<Price> {
        let cache_key = (key.to_string(), region.to_string());
        // A poisoned lock only means another thread panicked mid-insert; the
        // map itself is still a valid cache.
        if let Some(hit) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&cache_key)
        {
            return hit.clone();
        }
        let answer = self.inner.price(key, region);
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(cache_key, answer.clone());
        answer
    }
}

/// Every price in the catalog.
pub fn catalog() -> &'static [Price] {
    CATALOG
}

fn index() -> &'static HashMap<(&'static str, &'static str), &'static Price> {
    static INDEX: OnceLock<HashMap<(&'static str, &'static str), &'static Price>> = OnceLock::new();
    INDEX.get_or_init(|| {
        CATALOG
            .iter()
            .map(|p| ((p.key.as_ref(), p.region.as_ref()), p))
            .collect()
    })
}

const fn from_table(
    key: &'static str,
    description: &'static str,
    unit: &'static str,
    usd: &str,
) -> Price {
    Price {
        key: Cow::Borrowed(key),
        description: Cow::Borrowed(description),
        unit: Cow::Borrowed(unit),
        usd: Money(dec(usd)),
        region: Cow::Borrowed(CATALOG_REGION),
        source: Cow::Borrowed(SOURCE_PRICES_MD),
        read_on: Cow::Borrowed(READ_PRICES_MD),
    }
}

const fn from_memory(
    key: &'static str,
    description: &'static str,
    unit: &'static str,
    usd: &str,
) -> Price {
    Price {
        key: Cow::Borrowed(key),
        description: Cow::Borrowed(description),
        unit: Cow::Borrowed(unit),
        usd: Money(dec(usd)),
        region: Cow::Borrowed(CATALOG_REGION),
        source: Cow::Borrowed(SOURCE_MEMORY),
        read_on: Cow::Borrowed(READ_MEMORY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn keys_are_unique_and_every_price_is_sourced_and_dated() {
        let mut seen = HashSet::new();
        for p in catalog() {
            assert!(seen.insert(p.key.as_ref()), "duplicate key {}", p.key);
            assert!(
                p.source == SOURCE_PRICES_MD || p.source == SOURCE_MEMORY,
                "{}",
                p.key
            );
            assert!(!p.read_on.is_empty() && !p.unit.is_empty() && !p.description.is_empty());
            assert_eq!(p.region, CATALOG_REGION);
        }
    }

    #[test]
    fn memory_prices_stay_distinguishable_from_the_reference_table() {
        let (p, _) = PriceCatalog.lookup("rds.storage.gp3", "us-east-1").unwrap();
        assert_eq!(p.source, SOURCE_PRICES_MD);
        let (p, _) = PriceCatalog
            .lookup("secretsmanager.secret", "us-east-1")
            .unwrap();
        assert_eq!(p.source, SOURCE_MEMORY);
        assert_eq!(p.read_on, READ_MEMORY);
    }

    #[test]
    fn other_regions_fall_back_to_us_east_1_and_say_so() {
        let (p, fell_back) = PriceCatalog.lookup("s3.requests.put", "eu-west-1").unwrap();
        assert!(fell_back);
        assert_eq!(p.usd, Money::parse("0.005").unwrap());
        let (_, fell_back) = PriceCatalog.lookup("s3.requests.put", "us-east-1").unwrap();
        assert!(!fell_back);
        assert!(
            PriceCatalog
                .lookup("rds.instance.postgres.db.x9.huge", "us-east-1")
                .is_none()
        );
        // As a source, the catalog answers only for regions it holds.
        assert!(PriceCatalog.price("s3.requests.put", "eu-west-1").is_none());
    }

    struct Counting(std::sync::atomic::AtomicUsize);
    impl PriceSource for Counting {
        fn price(&self, key: &str, _region: &str) -> Option<Price> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            (key == "kms.key").then(|| Price {
                usd: Money::parse("0.9").unwrap(),
                source: Cow::Owned("live".into()),
                ..from_table("kms.key", "k", "key-months", "1")
            })
        }
    }

    #[test]
    fn cached_source_asks_once_per_key_including_misses() {
        let cached = CachedSource::new(Counting(Default::default()));
        for _ in 0..3 {
            assert_eq!(
                cached.price("kms.key", "eu-west-1").unwrap().usd,
                Money::parse("0.9").unwrap()
            );
            assert!(cached.price("nope", "eu-west-1").is_none());
        }
        assert_eq!(cached.inner.0.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
