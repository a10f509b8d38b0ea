//! Monthly cost reports over what each environment holds, and the billing
//! alarm the seed asks for — planned through the normal gate, never around it.

use infraguard_core::cloud::Cloud;
use infraguard_core::money::Money;
use infraguard_core::store::Store;
use infraguard_cost::report::{self, Report, ReportItem};
use serde_json::Value;

use crate::actor::Actor;
use crate::config::normalize_purpose;
use crate::engine::{Engine, PlanRequest};
use crate::error::EngineError;
use crate::redact::Shown;
use crate::tags;

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
        Ok(report::build_for(
            &labels,
            &items,
            &self.config.alert_thresholds,
            &month,
        ))
    }

    /// Plans for the billing alarms the seed asks for: one CloudWatch alarm
    /// on `EstimatedCharges` per alert threshold, in `env`. Each is an
    /// ordinary plan: scanned, estimated, gated.
    pub fn plan_billing_alarms(
        &self,
        env: &str,
        actor: &Actor,
    ) -> Result<Shown<Vec<infraguard_core::plan::Plan>>, EngineError> {
        let e = self.config.environment(env)?.clone();
        if self.config.alert_thresholds.is_empty() {
            return Err(EngineError::InvalidInput(
                "no alert thresholds: set [cost] alert_thresholds_usd in infraguard.toml".into(),
            ));
        }
        let mut plans = Vec::new();
        for threshold in &self.config.alert_thresholds {
            let purpose = format!("billing {}usd", threshold.round_cents().0.normalize());
            let name = self.config.conventional_name(&purpose, &e.name);
            let props: Value = infraguard_cost::billing_alarm_properties(*threshold, &name);
            plans.push(
                self.plan(PlanRequest::create(
                    env,
                    "AWS::CloudWatch::Alarm",
                    Some(&purpose),
                    props,
                    actor.clone(),
                ))?
                .into_inner(),
            );
        }
        Ok(Shown::new(plans))
    }
}
