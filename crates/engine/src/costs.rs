//! Monthly cost reports over what each environment holds, and the billing
//! alarm the seed asks for — planned through the normal gate, never around it.

use infraguard_core::clock::Timestamp;
use infraguard_core::cloud::Cloud;
use infraguard_core::env::Backend;
use infraguard_core::money::Money;
use infraguard_core::store::Store;
use infraguard_cost::report::{self, ActualSpend, Report, ReportItem};
use serde_json::Value;

use crate::actor::Actor;
use crate::config::normalize_purpose;
use crate::engine::{Engine, PlanRequest};
use crate::error::EngineError;
use crate::redact::Shown;
use crate::tags;

/// Where CloudWatch publishes the `AWS/Billing` metrics.
const BILLING_REGION: &str = "us-east-1";
const TOPIC: &str = "AWS::SNS::Topic";
const ALARM: &str = "AWS::CloudWatch::Alarm";

impl<C: Cloud, S: Store> Engine<C, S> {
    /// Per environment (or one), every resource it holds, each estimated
    /// from its live properties and the usage assumptions, with the alert
    /// thresholds crossed flagged.
    pub fn cost_report(&self, env: Option<&str>) -> Result<Report, EngineError> {
        let envs: Vec<String> = match env {
            Some(e) => vec![self.config.environment(e)?.name.clone()],
            None => self
                .config
                .environments
                .iter()
                .map(|e| e.name.clone())
                .collect(),
        };
        let mut items = Vec::new();
        for name in &envs {
            let e = self.config.environment(name)?.clone();
            for (t, r) in self.list_resources(name, None)? {
                let schema = self.schema(t.as_str())?;
                let tag_map = tags::read(&r.properties, &schema.tagging);
                let purpose = tag_map.get(tags::PURPOSE).map(|p| normalize_purpose(p));
                let usage = self
                    .usage_file
                    .as_ref()
                    .map(|f| f.for_resource(Some(&r.identifier), purpose.as_deref()))
                    .unwrap_or_default();
                // An estimate that cannot be made is reported as unknown, not
                // as zero: `known: false` marks the line.
                let (monthly, known) = match infraguard_cost::estimate_with(
                    self.prices
                        .as_deref()
                        .map(|p| p as &dyn infraguard_cost::PriceSource),
                    &t,
                    &r.properties,
                    &e.region,
                    &usage,
                ) {
                    Ok(est) => (est.monthly_usd, est.known),
                    Err(_) => (Money::ZERO, false),
                };
                items.push(ReportItem {
                    env: format!("aws-{name}"),
                    type_name: t.to_string(),
                    identifier: r.identifier.clone(),
                    monthly,
                    known,
                });
            }
        }
        let today = self.clock.now().date();
        let month = report::month_label(&today).unwrap_or(today);
        let labels: Vec<String> = envs.iter().map(|n| format!("aws-{n}")).collect();
        let mut built = report::build_for(&labels, &items, &self.config.alert_thresholds, &month);
        for name in &envs {
            let label = format!("aws-{name}");
            let Some(line) = built.environments.iter_mut().find(|r| r.env == label) else {
                continue;
            };
            match self.billed(name) {
                Ok(actual) => line.actual = Some(actual),
                Err(note) => line.actual_note = Some(note),
            }
        }
        Ok(built)
    }

    /// What AWS billed `env` this month so far and last month, from Cost
    /// Explorer; or why the report has estimates only.
    fn billed(&self, env: &str) -> Result<ActualSpend, String> {
        if self
            .config
            .environment(env)
            .map_err(|e| e.to_string())?
            .backend
            != Backend::Aws
        {
            return Err("estimates only: the local cloud sends no bill".into());
        }
        let account = self.account(env).map_err(|e| e.to_string())?;
        let now = self.clock.now();
        let (this_month, last_month) = month_starts(&now.date())
            .ok_or_else(|| format!("estimates only: no month in today's date {}", now.date()))?;
        // Cost Explorer's end is exclusive: tomorrow takes in today.
        let end = Timestamp::from_unix(now.unix() + 86_400).date();
        let periods = account.spend(&last_month, &end).map_err(|e| {
            let fix = if e.code() == Some(&infraguard_core::cloud::ErrorCode::AccessDenied) {
                "; the profile's policy needs ce:GetCostAndUsage (`infraguard doctor --iam-templates` has it)"
            } else {
                ""
            };
            format!("estimates only: Cost Explorer did not answer ({e}){fix}")
        })?;
        let (mut this, mut last, mut estimated) = (Vec::new(), Vec::new(), false);
        for p in periods {
            if p.start >= this_month {
                estimated |= p.estimated;
                this.extend(p.services);
            } else {
                last.extend(p.services);
            }
        }
        Ok(report::actual_spend(&this, &last, estimated))
    }

    /// Plans for the billing alerts the seed asks for: an SNS topic with
    /// an e-mail subscription (`email`, else `[cost] alert_email`), and one
    /// CloudWatch alarm on `EstimatedCharges` per alert threshold that
    /// notifies it. Each is an ordinary plan: scanned, estimated, gated.
    /// What already exists (a re-run) is not planned again.
    ///
    /// CloudWatch publishes billing metrics in us-east-1 only, and an alarm
    /// notifies topics of its own region: an environment elsewhere is
    /// refused with the way to add its account's us-east-1.
    pub fn plan_billing_alarms(
        &self,
        env: &str,
        email: Option<&str>,
        actor: &Actor,
    ) -> Result<Shown<Vec<infraguard_core::plan::Plan>>, EngineError> {
        let e = self.config.environment(env)?.clone();
        if self.config.alert_thresholds.is_empty() {
            return Err(EngineError::InvalidInput(
                "no alert thresholds: set [cost] alert_thresholds_usd in infraguard.toml".into(),
            ));
        }
        let email = match email {
            Some(a) => crate::config::email_address(a)
                .map_err(|why| EngineError::InvalidInput(format!("the alert e-mail address {why}")))?,
            None => self.config.alert_email.clone().ok_or_else(|| {
                EngineError::InvalidInput(
                    "a billing alarm needs someone to notify: give --email ADDRESS (MCP: `alert_email`) or set [cost] alert_email in infraguard.toml".into(),
                )
            })?,
        };
        if e.region != BILLING_REGION {
            return Err(EngineError::InvalidInput(format!(
                "CloudWatch publishes billing metrics (AWS/Billing EstimatedCharges) in {BILLING_REGION} only, and `{env}` is in {region}. \
                 Add an environment for the same account in {BILLING_REGION} (`[environments.{env}-billing]` with `region = \"{BILLING_REGION}\"` and {env}'s profile) \
                 and run `infraguard costs --billing-alarm --env {env}-billing`",
                region = e.region
            )));
        }
        let account = self
            .cloud(env)?
            .identity()
            .map_err(|err| EngineError::Cloud {
                env: env.into(),
                operation: "identify".into(),
                type_name: TOPIC.into(),
                identifier: None,
                source: Box::new(err),
            })?
            .account_id;
        let topic_name = self.config.conventional_name("billing alerts", &e.name);
        let topic_arn = format!("arn:aws:sns:{}:{account}:{topic_name}", e.region);
        let mut plans = Vec::new();
        if !self.exists(env, TOPIC, &topic_arn)? {
            plans.push(
                self.plan(PlanRequest::create(
                    env,
                    TOPIC,
                    Some("billing alerts"),
                    infraguard_cost::billing_topic_properties(&topic_name, &email),
                    actor.clone(),
                ))?
                .into_inner(),
            );
        }
        for threshold in &self.config.alert_thresholds {
            let purpose = format!("billing {}usd", threshold.round_cents().0.normalize());
            let name = self.config.conventional_name(&purpose, &e.name);
            if self.exists(env, ALARM, &name)? {
                continue;
            }
            let props: Value =
                infraguard_cost::billing_alarm_properties(*threshold, &name, &topic_arn);
            plans.push(
                self.plan(PlanRequest::create(
                    env,
                    ALARM,
                    Some(&purpose),
                    props,
                    actor.clone(),
                ))?
                .into_inner(),
            );
        }
        Ok(Shown::new(plans))
    }

    /// Whether `env` holds the resource (a read; not found is `false`).
    fn exists(&self, env: &str, type_name: &str, id: &str) -> Result<bool, EngineError> {
        match self.get_resource(env, type_name, id) {
            Ok(_) => Ok(true),
            Err(EngineError::Cloud { source, .. })
                if source.code() == Some(&infraguard_core::cloud::ErrorCode::NotFound) =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}

/// The first day of `date`'s month and of the month before
/// (`2026-12-03` → `2026-12-01`, `2026-11-01`).
fn month_starts(date: &str) -> Option<(String, String)> {
    let mut parts = date.split('-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u32 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) {
        return None;
    }
    let (py, pm) = if month == 1 {
        (year - 1, 12)
    } else {
        (year, month - 1)
    };
    Some((
        format!("{year:04}-{month:02}-01"),
        format!("{py:04}-{pm:02}-01"),
    ))
}

#[cfg(test)]
mod tests {
    use super::month_starts;

    #[test]
    fn month_starts_cross_the_year() {
        assert_eq!(
            month_starts("2026-12-03"),
            Some(("2026-12-01".into(), "2026-11-01".into()))
        );
        assert_eq!(
            month_starts("2027-01-01"),
            Some(("2027-01-01".into(), "2026-12-01".into()))
        );
        assert_eq!(month_starts("2027-13-01"), None);
        assert_eq!(month_starts("soon"), None);
    }
}
