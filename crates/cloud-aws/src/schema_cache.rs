//! Schemas of types outside the embedded catalog, fetched from AWS with
//! CloudFormation `DescribeType` and kept on disk so that one lookup serves
//! many runs.
//!
//! Layout: `<cache>/infraguard/schemas/<region>/<Service--Type>.json`, where
//! `<cache>` is `$XDG_CACHE_HOME` or `~/.cache`. Each file holds
//! `{"fetched_at": <epoch seconds>, "document": <schema>}`. An entry older
//! than the refresh age is fetched again; if that fetch fails, the stale
//! entry is still used (a schema changes rarely; an outage should not stop
//! work). Keyed by region because private and third-party types are
//! registered per account and region.
//!
//! This module does the file side only; fetching lives in the backend.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use infraguard_core::ResourceType;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::AwsError;

/// How long a fetched schema is used before it is fetched again.
pub const DEFAULT_REFRESH_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);

use infraguard_core::env_vars::HOME;
pub use infraguard_core::env_vars::XDG_CACHE_HOME;

/// The default cache folder for schemas, from the process's variables.
pub fn default_dir(vars: &BTreeMap<String, String>) -> Option<PathBuf> {
    let base = match vars.get(XDG_CACHE_HOME).filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => PathBuf::from(vars.get(HOME).filter(|v| !v.is_empty())?).join(".cache"),
    };
    Some(base.join("infraguard").join("schemas"))
}

#[derive(Serialize, Deserialize)]
struct Entry {
    fetched_at: u64,
    document: Value,
}

/// A cached schema document and whether it is due for a refresh.
#[derive(Debug, Clone, PartialEq)]
pub struct Cached {
    pub document: Value,
    pub stale: bool,
}

/// The on-disk schema cache of one region.
#[derive(Debug, Clone)]
pub struct SchemaCache {
    dir: PathBuf,
    refresh_age: Duration,
}

impl SchemaCache {
    pub fn new(root: &Path, region: &str, refresh_age: Duration) -> SchemaCache {
        SchemaCache {
            dir: root.join(sanitize(region)),
            refresh_age,
        }
    }

    pub fn path(&self, type_name: &ResourceType) -> PathBuf {
        self.dir
            .join(format!("{}.json", type_name.as_str().replace("::", "--")))
    }

    /// The cached document, if any. A file that cannot be read as an entry
    /// counts as missing (it will be overwritten by the next fetch).
    pub fn read(&self, type_name: &ResourceType, now: SystemTime) -> Option<Cached> {
        let text = std::fs::read_to_string(self.path(type_name)).ok()?;
        let entry: Entry = serde_json::from_str(&text).ok()?;
        let age = epoch(now).saturating_sub(entry.fetched_at);
        Some(Cached {
            document: entry.document,
            stale: age > self.refresh_age.as_secs(),
        })
    }

    /// Store a freshly fetched document. Written to a temporary file and
    /// renamed so that a concurrent reader never sees half a file.
    pub fn write(
        &self,
        type_name: &ResourceType,
        document: &Value,
        now: SystemTime,
    ) -> Result<(), AwsError> {
        let path = self.path(type_name);
        let fail = |message: String| AwsError::Cache {
            path: path.clone(),
            message,
        };
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| fail(format!("cannot create the folder: {e}")))?;
        let entry = Entry {
            fetched_at: epoch(now),
            document: document.clone(),
        };
        let text = serde_json::to_string(&entry).map_err(|e| fail(e.to_string()))?;
        let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
        std::fs::write(&tmp, text).map_err(|e| fail(format!("cannot write: {e}")))?;
        std::fs::rename(&tmp, &path).map_err(|e| fail(format!("cannot rename into place: {e}")))
    }
}

fn epoch(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Region names are `[a-z0-9-]`; anything else must not become a path.
fn sanitize(region: &str) -> String {
    region
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t() -> ResourceType {
        ResourceType::new("Acme::Widget::Thing").unwrap()
    }

    #[test]
    fn a_written_schema_reads_back_fresh_then_stale_after_the_refresh_age() {
        let dir = tempfile::tempdir().unwrap();
        let cache = SchemaCache::new(dir.path(), "eu-west-1", Duration::from_secs(100));
        let t0 = UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(cache.read(&t(), t0), None);
        cache
            .write(&t(), &json!({"typeName": "Acme::Widget::Thing"}), t0)
            .unwrap();
        let fresh = cache.read(&t(), t0 + Duration::from_secs(100)).unwrap();
        assert!(!fresh.stale);
        assert_eq!(fresh.document["typeName"], "Acme::Widget::Thing");
        assert!(
            cache
                .read(&t(), t0 + Duration::from_secs(101))
                .unwrap()
                .stale
        );
        assert!(
            cache
                .path(&t())
                .ends_with("eu-west-1/Acme--Widget--Thing.json")
        );
    }

    #[test]
    fn a_corrupt_entry_counts_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = SchemaCache::new(dir.path(), "us-east-1", DEFAULT_REFRESH_AGE);
        std::fs::create_dir_all(cache.path(&t()).parent().unwrap()).unwrap();
        std::fs::write(cache.path(&t()), "{not json").unwrap();
        assert_eq!(cache.read(&t(), SystemTime::now()), None);
    }

    #[test]
    fn regions_cannot_escape_the_cache_folder() {
        let cache = SchemaCache::new(Path::new("/c"), "../../etc", DEFAULT_REFRESH_AGE);
        let path = cache.path(&t());
        assert_eq!(path, Path::new("/c/______etc/Acme--Widget--Thing.json"));
        assert!(
            path.components()
                .all(|c| c != std::path::Component::ParentDir)
        );
    }

    #[test]
    fn cache_folder_prefers_xdg_then_home() {
        let mut vars = BTreeMap::new();
        assert_eq!(default_dir(&vars), None);
        vars.insert("HOME".to_string(), "/home/u".to_string());
        assert_eq!(
            default_dir(&vars).unwrap(),
            PathBuf::from("/home/u/.cache/infraguard/schemas")
        );
        vars.insert(XDG_CACHE_HOME.to_string(), "/x".to_string());
        assert_eq!(
            default_dir(&vars).unwrap(),
            PathBuf::from("/x/infraguard/schemas")
        );
    }
}
