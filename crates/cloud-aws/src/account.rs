//! [`AwsAccount`]: the [`Account`] port over STS, IAM, CloudTrail and Cost
//! Explorer.
//!
//! Same threading contract as [`AwsCloud`]: one small runtime of its own,
//! callers wait on a channel. The session an approver's MFA code opens is an
//! [`AwsCloud`] built on the session's keys, which are held only there.

use std::future::Future;
use std::time::Duration;

use aws_config::Region;
use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_sts::error::ProvideErrorMetadata;
use infraguard_core::account::{Account, SessionRequest, Simulated, SpendPeriod, TrailEvent};
use infraguard_core::cloud::{Cloud, CloudError};
use infraguard_core::money::Money;
use serde_json::Value;

use crate::cloud::{AwsCloud, ConnectOptions, StaticCredentials, client};
use crate::convert::{self, CallContext};
use crate::region;
use crate::sdk;

/// Time to open a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for one attempt of one call.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// The most results IAM and CloudTrail give per page.
const SIMULATE_PAGE: i32 = 1000;
/// A safety stop for paging: no account has more events than this many
/// pages in the window `audit cloudtrail` asks for.
const MAX_PAGES: usize = 2000;
/// Where Cost Explorer answers for the `aws` partition.
const COST_EXPLORER_REGION: &str = "us-east-1";
/// The metric the report shows: what each service cost, before credits
/// and discounts are spread.
const COST_METRIC: &str = "UnblendedCost";

/// The account calls of one environment, with the credentials of the
/// process that holds it (the approver's, for an MFA session).
pub struct AwsAccount {
    runtime: Option<tokio::runtime::Runtime>,
    sts: aws_sdk_sts::Client,
    iam: aws_sdk_iam::Client,
    cloudtrail: aws_sdk_cloudtrail::Client,
    costexplorer: aws_sdk_costexplorer::Client,
    /// The environment's options, for the session's own cloud.
    options: ConnectOptions,
}

impl Drop for AwsAccount {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl AwsAccount {
    /// Connect with the environment's options; `approver_profile`, when
    /// set, is the profile whose credentials call STS (the person's own:
    /// AWS checks the MFA device belongs to the caller).
    pub fn connect_with(
        mut options: ConnectOptions,
        approver_profile: Option<&str>,
    ) -> Result<AwsAccount, CloudError> {
        sdk::check_endpoints(
            options
                .endpoint_url
                .iter()
                .chain(options.service_endpoints.values()),
        )?;
        if let Some(p) = approver_profile {
            options.profile = Some(p.to_string());
        }
        let runtime = sdk::runtime("infraguard-aws-account")?;
        let profile = region::profile(options.profile.as_deref(), &options.vars);
        let mut loader = sdk::loader(
            &options,
            profile.as_deref(),
            CONNECT_TIMEOUT,
            ATTEMPT_TIMEOUT,
        );
        if let Some(r) = region::explicit_region(options.region.as_deref(), &options.vars) {
            loader = loader.region(Region::new(r));
        }
        let config = runtime.block_on(loader.load());
        let endpoint = |service: &str| options.service_endpoints.get(service).cloned();
        // Cost Explorer has one endpoint for the partition, in us-east-1,
        // whatever the environment's region.
        let mut ce = aws_sdk_costexplorer::config::Builder::from(&config)
            .region(Region::new(COST_EXPLORER_REGION));
        if let Some(url) = endpoint("ce").or_else(|| endpoint("costexplorer")) {
            ce.set_endpoint_url(Some(url));
        }
        Ok(AwsAccount {
            costexplorer: aws_sdk_costexplorer::Client::from_conf(ce.build()),
            sts: client!(aws_sdk_sts, &config, endpoint("sts")),
            iam: client!(aws_sdk_iam, &config, endpoint("iam")),
            cloudtrail: client!(aws_sdk_cloudtrail, &config, endpoint("cloudtrail")),
            runtime: Some(runtime),
            options,
        })
    }

    fn run<T, F>(&self, operation: &str, fut: F) -> Result<T, CloudError>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        sdk::run(self.runtime.as_ref(), operation, fut)
    }
}

/// AWS's own code and message for a refusal (a wrong MFA code is STS's
/// `AccessDenied`, said as AWS says it); transport failures as usual.
fn plain<E, R>(operation: &str, e: aws_sdk_sts::error::SdkError<E, R>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if let aws_sdk_sts::error::SdkError::ServiceError(service) = &e {
        let err = service.err();
        let raw = err.code().unwrap_or("UnknownError");
        return CloudError::service(
            convert::code_from_exception(raw),
            format!(
                "{raw}: {}",
                err.message().unwrap_or("(AWS sent no message)")
            ),
        );
    }
    convert::sdk_error(
        e,
        &CallContext {
            operation,
            ..CallContext::default()
        },
    )
}

impl Account for AwsAccount {
    fn assume_approval_role(&self, r: &SessionRequest) -> Result<Box<dyn Cloud>, CloudError> {
        let client = self.sts.clone();
        let req = r.clone();
        let out = self
            .run("sts:AssumeRole", async move {
                client
                    .assume_role()
                    .role_arn(req.role_arn)
                    .role_session_name(req.session_name)
                    .serial_number(req.mfa_serial)
                    .token_code(req.token_code)
                    .duration_seconds(req.duration_seconds)
                    .policy(req.policy)
                    .send()
                    .await
            })?
            .map_err(|e| plain("sts:AssumeRole", e))?;
        let c = out.credentials().ok_or_else(|| {
            CloudError::Internal("sts:AssumeRole answered without credentials".into())
        })?;
        let mut options = self.options.clone();
        options.credentials = Some(StaticCredentials {
            access_key_id: c.access_key_id().to_string(),
            secret_access_key: c.secret_access_key().to_string(),
            session_token: Some(c.session_token().to_string()),
        });
        let cloud = AwsCloud::connect_with(options)?;
        Ok(Box::new(cloud))
    }

    fn simulate(
        &self,
        principal_arn: &str,
        actions: &[String],
    ) -> Result<Vec<Simulated>, CloudError> {
        let mut all = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let client = self.iam.clone();
            let arn = principal_arn.to_string();
            let names = actions.to_vec();
            let m = marker.clone();
            let out = self
                .run("iam:SimulatePrincipalPolicy", async move {
                    client
                        .simulate_principal_policy()
                        .policy_source_arn(arn)
                        .set_action_names(Some(names))
                        .max_items(SIMULATE_PAGE)
                        .set_marker(m)
                        .send()
                        .await
                })?
                .map_err(|e| plain("iam:SimulatePrincipalPolicy", e))?;
            all.extend(out.evaluation_results().iter().map(|r| Simulated {
                action: r.eval_action_name().to_string(),
                decision: r.eval_decision().as_str().to_string(),
            }));
            match (out.is_truncated(), out.marker()) {
                (true, Some(m)) => marker = Some(m.to_string()),
                _ => return Ok(all),
            }
        }
        Err(CloudError::Internal(format!(
            "iam:SimulatePrincipalPolicy kept paging past {MAX_PAGES} pages"
        )))
    }

    fn trust_policy(&self, role_name: &str) -> Result<Value, CloudError> {
        let client = self.iam.clone();
        let name = role_name.to_string();
        let out = self
            .run("iam:GetRole", async move {
                client.get_role().role_name(name).send().await
            })?
            .map_err(|e| plain("iam:GetRole", e))?;
        let doc = out
            .role()
            .and_then(|r| r.assume_role_policy_document())
            .ok_or_else(|| {
                CloudError::Internal(format!(
                    "iam:GetRole {role_name}: no trust policy in the answer"
                ))
            })?;
        // IAM sends the document URL-encoded.
        let decoded = percent_decode(doc);
        serde_json::from_str(&decoded)
            .or_else(|_| serde_json::from_str(doc))
            .map_err(|e| {
                CloudError::Internal(format!(
                    "iam:GetRole {role_name}: the trust policy is not JSON ({e})"
                ))
            })
    }

    fn write_events(&self, start: i64, end: i64) -> Result<Vec<TrailEvent>, CloudError> {
        let attribute = LookupAttribute::builder()
            .attribute_key(LookupAttributeKey::ReadOnly)
            .attribute_value("false")
            .build()
            .map_err(|e| CloudError::Internal(format!("cloudtrail:LookupEvents: {e}")))?;
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let client = self.cloudtrail.clone();
            let attr = attribute.clone();
            let t = token.clone();
            let out = self
                .run("cloudtrail:LookupEvents", async move {
                    client
                        .lookup_events()
                        .lookup_attributes(attr)
                        .start_time(DateTime::from_secs(start))
                        .end_time(DateTime::from_secs(end))
                        .max_results(50)
                        .set_next_token(t)
                        .send()
                        .await
                })?
                .map_err(|e| plain("cloudtrail:LookupEvents", e))?;
            for e in out.events() {
                let record: Value = e
                    .cloud_trail_event()
                    .and_then(|t| serde_json::from_str(t).ok())
                    .unwrap_or(Value::Null);
                all.push(TrailEvent {
                    id: e.event_id().unwrap_or_default().to_string(),
                    name: e.event_name().unwrap_or_default().to_string(),
                    source: e.event_source().unwrap_or_default().to_string(),
                    time: e
                        .event_time()
                        .and_then(|t| {
                            t.fmt(aws_sdk_cloudtrail::primitives::DateTimeFormat::DateTime)
                                .ok()
                        })
                        .unwrap_or_default(),
                    username: e.username().map(str::to_string),
                    principal: record["userIdentity"]["arn"].as_str().map(str::to_string),
                    resources: e
                        .resources()
                        .iter()
                        .map(|r| {
                            (
                                r.resource_type().unwrap_or_default().to_string(),
                                r.resource_name().unwrap_or_default().to_string(),
                            )
                        })
                        .collect(),
                    error_code: record["errorCode"].as_str().map(str::to_string),
                    client_token: record["requestParameters"]["clientToken"]
                        .as_str()
                        .map(str::to_string),
                });
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(all),
            }
        }
        Err(CloudError::Internal(format!(
            "cloudtrail:LookupEvents kept paging past {MAX_PAGES} pages"
        )))
    }

    fn spend(&self, start: &str, end: &str) -> Result<Vec<SpendPeriod>, CloudError> {
        self.spend_pages(start, end)
    }
}

impl AwsAccount {
    fn spend_pages(&self, start: &str, end: &str) -> Result<Vec<SpendPeriod>, CloudError> {
        use aws_sdk_costexplorer::types::{
            DateInterval, Granularity, GroupDefinition, GroupDefinitionType,
        };
        let period = DateInterval::builder()
            .start(start)
            .end(end)
            .build()
            .map_err(|e| CloudError::Internal(format!("ce:GetCostAndUsage: {e}")))?;
        let by_service = GroupDefinition::builder()
            .r#type(GroupDefinitionType::Dimension)
            .key("SERVICE")
            .build();
        let mut periods: Vec<SpendPeriod> = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let client = self.costexplorer.clone();
            let (p, g, t) = (period.clone(), by_service.clone(), token.clone());
            let out = self
                .run("ce:GetCostAndUsage", async move {
                    client
                        .get_cost_and_usage()
                        .time_period(p)
                        .granularity(Granularity::Monthly)
                        .metrics(COST_METRIC)
                        .group_by(g)
                        .set_next_page_token(t)
                        .send()
                        .await
                })?
                .map_err(|e| plain("ce:GetCostAndUsage", e))?;
            for r in out.results_by_time() {
                let (s, e) = r
                    .time_period()
                    .map(|p| (p.start().to_string(), p.end().to_string()))
                    .unwrap_or_default();
                let services = r.groups().iter().filter_map(|g| {
                    let name = g.keys().first()?.clone();
                    let amount = g.metrics()?.get(COST_METRIC)?.amount()?;
                    Some((name, Money::parse(amount)?))
                });
                // A later page continues the periods of the one before.
                match periods.iter_mut().find(|x| x.start == s && x.end == e) {
                    Some(known) => known.services.extend(services),
                    None => {
                        let services = services.collect();
                        periods.push(SpendPeriod {
                            start: s,
                            end: e,
                            estimated: r.estimated(),
                            services,
                        })
                    }
                }
            }
            match out.next_page_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(periods),
            }
        }
        Err(CloudError::Internal(format!(
            "ce:GetCostAndUsage kept paging past {MAX_PAGES} pages"
        )))
    }
}

/// `%7B%22a%22%7D` → `{"a"}`. Bytes that do not decode stay as written.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    while i < b.len() {
        let pair = (b[i] == b'%')
            .then(|| Some((hex(*b.get(i + 1)?)?, hex(*b.get(i + 2)?)?)))
            .flatten();
        match pair {
            Some((hi, lo)) => {
                out.push(hi * 16 + lo);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_documents_are_url_decoded() {
        assert_eq!(
            percent_decode("%7B%22Version%22%3A%222012%22%7D"),
            "{\"Version\":\"2012\"}"
        );
        assert_eq!(percent_decode("plain"), "plain");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
