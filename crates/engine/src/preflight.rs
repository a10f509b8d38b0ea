//! The seed's deployment checklist as one call ([`Engine::preflight`]):
//! ready only when no dev resource waits for promotion (when the
//! environment is the promotion target), no drift, no unresolved security
//! finding on its live resources, and, where the environment has Amplify
//! branches, those build the way the seed's flow says. The application's
//! own checks (`[preflight] commands`, `production_url`) are added by the
//! caller, in its own process (`app_checks::add_to`).
//!
//! Not here: the drift comparison it reuses (`drift`), the sync groups
//! (`sync`). Nothing is changed.

use std::collections::HashMap;

use infraguard_core::approval::ApprovalStatus;
use infraguard_core::cloud::Cloud;
use infraguard_core::plan::{Plan, PlanStatus};
use infraguard_core::store::Store;
use infraguard_core::template::{Template, logical_id};
use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::EngineError;
use crate::inventory::{Inventory, schema_of, without_read_only};
use crate::promote::{PLAN_SCAN_LIMIT, Workspace};
use crate::sync::{SyncReport, sync_report};
use crate::tags;

impl<C: Cloud, S: Store> Engine<C, S> {
    /// The seed's deployment checklist for `env`: ready only when no dev
    /// resource waits for promotion (when `env` is the promotion target), no
    /// drift, and no unresolved security finding on its live resources.
    pub fn preflight(&self, env: &str) -> Result<PreflightReport, EngineError> {
        let environment = self.config().environment(env)?.clone();
        let types = self.types_for(None)?;
        let ws = Workspace::read(self, &types)?;
        let is_target = ws.envs.prod.name == env;
        let is_source = ws.envs.dev.name == env;
        let c = self.classify(&ws.envs, &ws.dev, &ws.prod);
        let sync: SyncReport = sync_report(&ws.envs, &ws.dev, &ws.prod, &c, None, types.len());
        let mut checks = Vec::new();

        if is_target {
            let mut details: Vec<String> = sync
                .dev_only
                .iter()
                .map(|d| {
                    format!(
                        "{} `{}` is {} in {}: `infraguard promote --type {} --id {}`",
                        d.type_name,
                        d.identifier,
                        d.promotion_status.as_deref().unwrap_or("untracked"),
                        ws.envs.dev.name,
                        d.type_name,
                        d.identifier
                    )
                })
                .collect();
            details.extend(sync.needs_review.iter().map(|n| {
                format!(
                    "{} `{}` needs review: {}",
                    n.type_name,
                    n.dev.as_deref().or(n.prod.as_deref()).unwrap_or("?"),
                    n.reason
                )
            }));
            checks.push(PreflightCheck {
                key: "promotion".into(),
                title: format!("No {} resource waiting for promotion", ws.envs.dev.name),
                ok: details.is_empty(),
                details,
            });
        }

        let inv = if is_source { &ws.dev } else { &ws.prod };
        let mut details = Vec::new();
        if is_target || is_source {
            let pairs = self.pair_drift(&ws, &c, None, types.len());
            details.extend(pairs.drifted.iter().map(|d| {
                format!(
                    "{} `{}` differs from `{}` at {}",
                    d.type_name,
                    d.prod,
                    d.dev,
                    d.differences
                        .iter()
                        .map(|x| x.path.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }));
        }
        let env_inv = if is_target || is_source {
            None
        } else {
            Some(Inventory::read(self, env, &types)?)
        };
        let inv = env_inv.as_ref().unwrap_or(inv);
        let (_, oob) = self.out_of_band(inv, &types)?;
        details.extend(oob.iter().map(|o| {
            if o.deleted {
                format!(
                    "{} `{}` was deleted outside infraguard (last applied by plan {})",
                    o.type_name, o.identifier, o.plan_id
                )
            } else {
                format!(
                    "{} `{}` was changed outside infraguard at {}",
                    o.type_name,
                    o.identifier,
                    o.differences
                        .iter()
                        .map(|x| x.path.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        }));
        checks.push(PreflightCheck {
            key: "drift".into(),
            title: "No drift (dev vs prod, or changes made outside infraguard)".into(),
            ok: details.is_empty(),
            details,
        });

        let details = if environment.scanning {
            self.unresolved_findings(inv)?
        } else {
            vec![format!(
                "security scanning is disabled for {env}: findings cannot be ruled out"
            )]
        };
        checks.push(PreflightCheck {
            key: "findings".into(),
            title: "No unresolved security findings".into(),
            ok: details.is_empty(),
            details,
        });

        if let Some(check) = amplify_check(&environment, is_target, is_source, &ws) {
            checks.push(check);
        }

        Ok(PreflightReport {
            env: env.to_string(),
            ready: checks.iter().all(|c| c.ok),
            checks,
        })
    }

    /// Open findings at or above the blocking severity on the live resources
    /// of `inv`, unless the plan that last changed the resource had them
    /// suppressed or approved by a human.
    fn unresolved_findings(&self, inv: &Inventory) -> Result<Vec<String>, EngineError> {
        let env = self.config().environment(&inv.env)?.clone();
        let plans = self.store().plans(Some(&inv.env), PLAN_SCAN_LIMIT)?;
        let mut latest: HashMap<(String, String), &Plan> = HashMap::new();
        for p in plans.iter().filter(|p| p.status == PlanStatus::Applied) {
            if let Some(id) = &p.identifier {
                latest
                    .entry((p.type_name.to_string(), id.clone()))
                    .or_insert(p);
            }
        }
        let options = infraguard_policy::ScanOptions {
            today: self.clock().now().date(),
            naming: Some(infraguard_policy::NamingContext {
                prefix: self.config().prefix.clone(),
                env: env.name.clone(),
                iam_prefix: self.config().iam_prefix.clone(),
            }),
            accounts: self.account_context(&env.name),
            ..Default::default()
        };
        let block_at = self.config().block_findings_at;
        let mut out = Vec::new();
        for item in &inv.items {
            let Some(schema) = schema_of(&item.type_name) else {
                continue;
            };
            let props = without_read_only(schema, &item.properties);
            let template = Template::single(
                &logical_id(
                    &item.type_name,
                    item.tags.get(tags::PURPOSE).map(String::as_str),
                ),
                &item.type_name,
                &props,
                "preflight scan of a live resource",
                None,
            );
            let findings = infraguard_policy::scan_for_cloud_control(&template, &options).findings;
            let blocking = crate::gate::blocking(&findings, block_at);
            if blocking.is_empty() {
                continue;
            }
            let plan = latest.get(&(item.type_name.to_string(), item.identifier.clone()));
            let approved = match plan {
                Some(p) => self
                    .store()
                    .approval_for_plan(&p.id)?
                    .is_some_and(|a| a.status == ApprovalStatus::Approved),
                None => false,
            };
            for f in blocking {
                let accepted = plan.is_some_and(|p| {
                    p.findings
                        .iter()
                        .any(|pf| pf.rule == f.rule && (pf.suppressed.is_some() || approved))
                });
                if !accepted {
                    out.push(format!(
                        "{} `{}`: {} ({}) {} at {}",
                        item.type_name, item.identifier, f.rule, f.severity, f.title, f.path
                    ));
                }
            }
        }
        Ok(out)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PreflightCheck {
    pub key: String,
    pub title: String,
    pub ok: bool,
    /// What stands in the way, one line each.
    pub details: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PreflightReport {
    pub env: String,
    pub ready: bool,
    pub checks: Vec<PreflightCheck>,
}

/// The seed's Amplify flow: production (`main`) deploys by hand, dev
/// (`dev`) on every push, and a branch's environment variables name its own
/// environment's resources. `None` when the environment has no Amplify
/// branch.
fn amplify_check(
    environment: &infraguard_core::env::Environment,
    is_target: bool,
    is_source: bool,
    ws: &Workspace,
) -> Option<PreflightCheck> {
    let (inv, other) = if is_target {
        (&ws.prod, &ws.dev)
    } else if is_source {
        (&ws.dev, &ws.prod)
    } else {
        return None;
    };
    let branches: Vec<_> = inv
        .items
        .iter()
        .filter(|i| i.type_name.as_str() == "AWS::Amplify::Branch")
        .collect();
    if branches.is_empty() {
        return None;
    }
    let mut details = Vec::new();
    for b in &branches {
        let name = b.properties["BranchName"].as_str().unwrap_or("?");
        let auto = b.properties["EnableAutoBuild"].as_bool().unwrap_or(true);
        if is_target && auto {
            details.push(format!(
                "branch `{name}` builds on every push: production deploys by hand in the seed's flow (set EnableAutoBuild to false)"
            ));
        }
        if is_source && !auto {
            details.push(format!(
                "branch `{name}` does not build on push: the seed's dev branch deploys automatically (set EnableAutoBuild to true)"
            ));
        }
        for v in b.properties["EnvironmentVariables"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let (Some(var), Some(value)) = (v["Name"].as_str(), v["Value"].as_str()) else {
                continue;
            };
            if let Some(foreign) = other
                .items
                .iter()
                .find(|o| o.identifier.len() > 3 && value.contains(o.identifier.as_str()))
            {
                details.push(format!(
                    "branch `{name}` variable {var} names {} `{}` of {}: it should name {}'s own",
                    foreign.type_name, foreign.identifier, other.env, environment.name
                ));
            }
        }
    }
    Some(PreflightCheck {
        key: "amplify".into(),
        title: format!(
            "Amplify branches of {} build as the seed's flow says, with {}'s resources in their variables",
            environment.name, environment.name
        ),
        ok: details.is_empty(),
        details,
    })
}
