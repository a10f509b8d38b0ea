//! Sync status between the development and production environments, with
//! AWS resource tags as the source of truth (the seed's "Check Dev/Prod Sync
//! Status").
//!
//! Both environments are read as `Inventory`s (list pages; see
//! `inventory`), and the report counts the calls that took. The result
//! sorts resources into the seed's four
//! groups: `dev_only` (no `ProdCounterpart` tag), `prod_only` (no dev
//! resource points at it), `synced` (the counterpart exists) and
//! `needs_review` (a `ProdCounterpart` that does not exist in prod, or a prod
//! resource promoted from a dev resource that no longer exists).
//!
//! Also here, shared with promotion and drift: how a dev resource is linked
//! to its prod counterpart (`Counterpart`, `Engine::links`).
//!
//! Not here: reading the environments (`inventory`), changing anything
//! (promotion does, through plans) and property comparison (drift).

use infraguard_core::cloud::Cloud;
use infraguard_core::schema::TagStyle;
use infraguard_core::store::Store;
use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::EngineError;
use crate::inventory::{Inventory, Item, PromotionEnvs, schema_of};
use crate::tags;

/// Tag written on a prod resource created by promotion: the identifier of
/// the dev resource it came from, so a prod resource whose dev source was
/// deleted is recognised (needs review, not prod-only).
pub const DEV_COUNTERPART: &str = "DevCounterpart";

/// `arn:aws:iam::111111111111:policy/x` → `arn:aws:iam::policy/x`: an ARN
/// with its account left out; `None` for what is not an ARN.
fn without_account(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.len() < 6 || parts[0] != "arn" {
        return None;
    }
    Some(format!(
        "arn:{}:{}:{}::{}",
        parts[1], parts[2], parts[3], parts[5]
    ))
}

/// How a dev resource stands towards prod.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Counterpart {
    /// No link: dev-only.
    None,
    /// The linked prod resource (its index in the prod inventory).
    Found {
        prod: usize,
        linked_by: &'static str,
    },
    /// A link to something prod does not have.
    Missing { expected: String },
}

impl<C: Cloud, S: Store> Engine<C, S> {
    /// Which prod resource a dev resource is linked to: its
    /// `ProdCounterpart` tag; for types that cannot carry tags, the prod
    /// resource named by the naming convention.
    pub(crate) fn counterpart(
        &self,
        envs: &PromotionEnvs,
        item: &Item,
        prod: &Inventory,
    ) -> Counterpart {
        if let Some(link) = item
            .tags
            .get(tags::PROD_COUNTERPART)
            .filter(|l| !l.is_empty())
        {
            return match prod.find(&item.type_name, link) {
                Some(i) => Counterpart::Found {
                    prod: i,
                    linked_by: "tag",
                },
                None => Counterpart::Missing {
                    expected: link.clone(),
                },
            };
        }
        // A type that carries no tags links by name: the dev name with its
        // environment word renamed, or the same name (IAM policies are
        // named without one); in an ARN, whatever the account.
        let untaggable = schema_of(&item.type_name).is_none_or(|s| s.tagging == TagStyle::None);
        if untaggable {
            let renamed =
                crate::promote::rename_env(&item.identifier, &envs.dev.name, &envs.prod.name);
            for name in renamed.iter().chain(std::iter::once(&item.identifier)) {
                let found = prod.find(&item.type_name, name).or_else(|| {
                    let wanted = without_account(name)?;
                    prod.items.iter().position(|p| {
                        p.type_name == item.type_name
                            && without_account(&p.identifier).as_deref() == Some(wanted.as_str())
                    })
                });
                if let Some(i) = found {
                    return Counterpart::Found {
                        prod: i,
                        linked_by: "name",
                    };
                }
            }
        }
        Counterpart::None
    }

    /// Each dev item's counterpart, as [`Engine::classify`] links them
    /// (its own tag, its name, or the prod side's `DevCounterpart`).
    pub(crate) fn links(
        &self,
        envs: &PromotionEnvs,
        dev: &Inventory,
        prod: &Inventory,
    ) -> Vec<Counterpart> {
        let c = self.classify(envs, dev, prod);
        let mut links = vec![Counterpart::None; dev.items.len()];
        for (d, p, linked_by) in c.synced {
            links[d] = Counterpart::Found { prod: p, linked_by };
        }
        for (d, expected) in c.missing {
            links[d] = Counterpart::Missing { expected };
        }
        links
    }

    /// Sort both inventories into the four groups.
    pub(crate) fn classify(
        &self,
        envs: &PromotionEnvs,
        dev: &Inventory,
        prod: &Inventory,
    ) -> Classified {
        let mut out = Classified::default();
        let mut claimed = vec![false; prod.items.len()];
        for (i, item) in dev.items.iter().enumerate() {
            match self.counterpart(envs, item, prod) {
                Counterpart::None => out.dev_only.push(i),
                Counterpart::Found { prod: p, linked_by } => {
                    claimed[p] = true;
                    out.synced.push((i, p, linked_by));
                }
                Counterpart::Missing { expected } => out.missing.push((i, expected)),
            }
        }
        let mut dev_only = vec![false; dev.items.len()];
        for &d in &out.dev_only {
            dev_only[d] = true;
        }
        for (p, item) in prod.items.iter().enumerate() {
            if claimed[p] {
                continue;
            }
            let Some(src) = item.tags.get(DEV_COUNTERPART) else {
                out.prod_only.push(p);
                continue;
            };
            match dev.find(&item.type_name, src) {
                None => out.orphans.push((p, src.clone())),
                // Promoted from a dev resource whose tags never learned it
                // (its tag update waits for approval: a prod-only server
                // reads dev and does not write it; or the update failed).
                // The prod side's own tag records the promotion.
                Some(d) if dev_only[d] => {
                    dev_only[d] = false;
                    out.synced.push((d, p, "prod-tag"));
                }
                Some(_) => out.prod_only.push(p),
            }
        }
        out.dev_only.retain(|&d| dev_only[d]);
        out
    }

    /// The seed's sync check across every supported type (or one), read
    /// through list pages.
    pub fn sync_status(&self, type_name: Option<&str>) -> Result<SyncReport, EngineError> {
        let envs = self.promotion_envs()?;
        let types = self.types_for(type_name)?;
        let dev = Inventory::read_tags(self, &envs.dev.name, &types)?;
        let prod = Inventory::read_tags(self, &envs.prod.name, &types)?;
        let c = self.classify(&envs, &dev, &prod);
        Ok(sync_report(&envs, &dev, &prod, &c, type_name, types.len()))
    }
}

/// Indexes into the inventories, per group.
#[derive(Default, Debug)]
pub(crate) struct Classified {
    pub dev_only: Vec<usize>,
    /// (dev, prod, how linked)
    pub synced: Vec<(usize, usize, &'static str)>,
    /// Dev resources whose `ProdCounterpart` is not in prod.
    pub missing: Vec<(usize, String)>,
    pub prod_only: Vec<usize>,
    /// Prod resources promoted from a dev resource that no longer exists.
    pub orphans: Vec<(usize, String)>,
}

/// A resource by type and identifier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub type_name: String,
    pub identifier: String,
}

impl ResourceRef {
    pub(crate) fn of(item: &Item) -> ResourceRef {
        ResourceRef {
            type_name: item.type_name.to_string(),
            identifier: item.identifier.clone(),
        }
    }
}

/// A dev resource with no prod counterpart.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DevOnly {
    #[serde(rename = "type")]
    pub type_name: String,
    pub identifier: String,
    /// Its `PromotionStatus` tag (`dev-only`, `pending-prod`), if any.
    pub promotion_status: Option<String>,
    pub purpose: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncedPair {
    #[serde(rename = "type")]
    pub type_name: String,
    pub dev: String,
    pub prod: String,
    /// `tag` (dev's `ProdCounterpart`), `prod-tag` (the prod resource's
    /// `DevCounterpart`, while dev's tag update waits) or `name` (naming
    /// convention, for types that cannot carry tags).
    pub linked_by: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NeedsReview {
    #[serde(rename = "type")]
    pub type_name: String,
    /// The dev resource, when it exists.
    pub dev: Option<String>,
    /// The prod resource, when it exists.
    pub prod: Option<String>,
    /// The prod resource the dev tag names.
    pub expected_prod: Option<String>,
    pub reason: String,
}

/// What a read cost.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReadStats {
    pub types_read: usize,
    pub dev_resources: usize,
    pub prod_resources: usize,
    /// Cloud `list` calls made (one per page per type per environment).
    pub list_calls: u64,
    /// Cloud `get` calls made for list entries without properties (0 with
    /// the local cloud, whose pages carry them).
    pub get_calls: u64,
}

/// The seed's four groups; JSON keys `dev_only`, `prod_only`, `synced`,
/// `needs_review`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SyncReport {
    pub dev_env: String,
    pub prod_env: String,
    /// The type asked for, or `None` for every supported type.
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    pub dev_only: Vec<DevOnly>,
    pub prod_only: Vec<ResourceRef>,
    pub synced: Vec<SyncedPair>,
    pub needs_review: Vec<NeedsReview>,
    pub stats: ReadStats,
}

impl SyncReport {
    /// Nothing waits for promotion and nothing needs a look.
    pub fn is_clean(&self) -> bool {
        self.dev_only.is_empty() && self.needs_review.is_empty()
    }
}

pub(crate) fn sync_report(
    envs: &PromotionEnvs,
    dev: &Inventory,
    prod: &Inventory,
    c: &Classified,
    type_name: Option<&str>,
    types_read: usize,
) -> SyncReport {
    let mut needs_review: Vec<NeedsReview> = c
        .missing
        .iter()
        .map(|(i, expected)| {
            let item = &dev.items[*i];
            NeedsReview {
                type_name: item.type_name.to_string(),
                dev: Some(item.identifier.clone()),
                prod: None,
                expected_prod: Some(expected.clone()),
                reason: format!(
                    "its ProdCounterpart tag names `{expected}`, which does not exist in {}: it was deleted or renamed there; promote again (`infraguard promote --type {} --id {}`) or correct the tag",
                    envs.prod.name, item.type_name, item.identifier
                ),
            }
        })
        .collect();
    needs_review.extend(c.orphans.iter().map(|(p, src)| {
        let item = &prod.items[*p];
        NeedsReview {
            type_name: item.type_name.to_string(),
            dev: None,
            prod: Some(item.identifier.clone()),
            expected_prod: None,
            reason: format!(
                "promoted from {} resource `{src}`, which no longer exists there: delete it from {} or recreate its source in {}",
                envs.dev.name, envs.prod.name, envs.dev.name
            ),
        }
    }));

    SyncReport {
        dev_env: envs.dev.name.clone(),
        prod_env: envs.prod.name.clone(),
        type_name: type_name.map(str::to_string),
        dev_only: c
            .dev_only
            .iter()
            .map(|&i| {
                let item = &dev.items[i];
                DevOnly {
                    type_name: item.type_name.to_string(),
                    identifier: item.identifier.clone(),
                    promotion_status: item.tags.get(tags::PROMOTION_STATUS).cloned(),
                    purpose: item.tags.get(tags::PURPOSE).cloned(),
                }
            })
            .collect(),
        prod_only: c
            .prod_only
            .iter()
            .map(|&p| ResourceRef::of(&prod.items[p]))
            .collect(),
        synced: c
            .synced
            .iter()
            .map(|&(i, p, by)| SyncedPair {
                type_name: dev.items[i].type_name.to_string(),
                dev: dev.items[i].identifier.clone(),
                prod: prod.items[p].identifier.clone(),
                linked_by: by.to_string(),
            })
            .collect(),
        needs_review,
        stats: ReadStats {
            types_read,
            dev_resources: dev.items.len(),
            prod_resources: prod.items.len(),
            list_calls: dev.list_calls + prod.list_calls,
            get_calls: dev.get_calls + prod.get_calls,
        },
    }
}
