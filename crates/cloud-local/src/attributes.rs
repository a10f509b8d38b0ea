//! Generated names and read-only attributes, the values AWS fills in when a
//! resource is created (ARNs, ids, endpoints, URLs).
//!
//! Every value carries the environment's own account id and region, so an ARN
//! read from the local cloud looks like one from the account it stands for.
//! Only properties the schema declares read-only are generated, plus the
//! resource's name when the caller left it out (CloudFormation generates one
//! then, and so does Cloud Control). Types without hand-written rules get a
//! generic ARN for read-only `…Arn` properties, a random id for `…Id` ones,
//! and always an identifier.
//!
//! Not here: validation (the schema crate) and storage (`db`).

use infraguard_core::{ResourceSchema, Timestamp};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::pointer;
use crate::random::Rng;

/// What generation needs from the environment.
pub struct Context<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub now: Timestamp,
    pub rng: &'a mut Rng,
}

/// Fill in the name (when absent), the read-only attributes and the
/// identifier of a resource about to be created.
pub fn generate(schema: &ResourceSchema, props: &mut Value, ctx: &mut Context<'_>) {
    let a = ctx.account_id.to_string();
    let r = ctx.region.to_string();
    let now = ctx.now.rfc3339();
    let rng = &mut *ctx.rng;
    let mut g = Gen { schema, props };
    let mut hand_written = true;
    match schema.type_name.as_str() {
        "AWS::S3::Bucket" => {
            let n = g.name("BucketName", rng);
            g.put("/Arn", format!("arn:aws:s3:::{n}"));
            g.put("/DomainName", format!("{n}.s3.amazonaws.com"));
            g.put("/RegionalDomainName", format!("{n}.s3.{r}.amazonaws.com"));
            g.put(
                "/DualStackDomainName",
                format!("{n}.s3.dualstack.{r}.amazonaws.com"),
            );
            g.put(
                "/WebsiteURL",
                format!("http://{n}.s3-website-{r}.amazonaws.com"),
            );
        }
        "AWS::SQS::Queue" => {
            let n = g.name("QueueName", rng);
            g.put(
                "/QueueUrl",
                format!("https://sqs.{r}.amazonaws.com/{a}/{n}"),
            );
            g.put("/Arn", format!("arn:aws:sqs:{r}:{a}:{n}"));
        }
        "AWS::SNS::Topic" => {
            let n = g.name("TopicName", rng);
            g.put("/TopicArn", format!("arn:aws:sns:{r}:{a}:{n}"));
        }
        "AWS::Lambda::Function" => {
            let n = g.name("FunctionName", rng);
            g.put("/Arn", format!("arn:aws:lambda:{r}:{a}:function:{n}"));
            g.put("/SnapStartResponse", snap_start_response(g.props));
        }
        "AWS::IAM::Role" => {
            let n = g.name("RoleName", rng);
            let path = g.str("Path").unwrap_or_else(|| "/".into());
            g.put("/Arn", format!("arn:aws:iam::{a}:role{path}{n}"));
            // IAM unique ids are 21 characters: a 4-letter kind prefix + 17.
            g.put("/RoleId", format!("AROA{}", rng.upper_alnum(17)));
        }
        "AWS::IAM::User" => {
            let n = g.name("UserName", rng);
            let path = g.str("Path").unwrap_or_else(|| "/".into());
            g.put("/Arn", format!("arn:aws:iam::{a}:user{path}{n}"));
        }
        "AWS::IAM::Group" => {
            let n = g.name("GroupName", rng);
            let path = g.str("Path").unwrap_or_else(|| "/".into());
            g.put("/Arn", format!("arn:aws:iam::{a}:group{path}{n}"));
        }
        "AWS::IAM::ManagedPolicy" => {
            let n = g.name("ManagedPolicyName", rng);
            let path = g.str("Path").unwrap_or_else(|| "/".into());
            g.put("/PolicyArn", format!("arn:aws:iam::{a}:policy{path}{n}"));
            g.put("/PolicyId", format!("ANPA{}", rng.upper_alnum(17)));
            g.put("/CreateDate", now.clone());
            g.put("/UpdateDate", now.clone());
            g.put("/AttachmentCount", attachment_count(g.props));
            g.put("/DefaultVersionId", "v1");
            g.put("/IsAttachable", true);
            g.put("/PermissionsBoundaryUsageCount", 0);
        }
        "AWS::IAM::Policy" => {
            // CloudFormation's physical id of an inline policy: name + suffix.
            let n = g.str("PolicyName").unwrap_or_else(|| "Policy".into());
            g.put("/Id", format!("{n}-{}", rng.upper_alnum(12)));
        }
        "AWS::DynamoDB::Table" => {
            let n = g.name("TableName", rng);
            let arn = format!("arn:aws:dynamodb:{r}:{a}:table/{n}");
            if g.props.get("StreamSpecification").is_some() {
                g.put("/StreamArn", stream_arn(&arn, ctx.now));
            }
            g.put("/Arn", arn);
        }
        "AWS::Logs::LogGroup" => {
            let n = g.name("LogGroupName", rng);
            g.put("/Arn", format!("arn:aws:logs:{r}:{a}:log-group:{n}:*"));
        }
        "AWS::KMS::Key" => {
            let id = rng.uuid();
            g.put("/Arn", format!("arn:aws:kms:{r}:{a}:key/{id}"));
            g.put("/KeyId", id);
        }
        "AWS::SecretsManager::Secret" => {
            let n = g.name("Name", rng);
            g.put(
                "/Id",
                format!(
                    "arn:aws:secretsmanager:{r}:{a}:secret:{n}-{}",
                    rng.mixed_alnum(6)
                ),
            );
        }
        "AWS::EC2::SecurityGroup" => {
            g.name("GroupName", rng);
            let id = format!("sg-{}", rng.hex(17));
            g.put("/Id", id.clone());
            g.put("/GroupId", id);
        }
        "AWS::EC2::VPC" => {
            g.put("/VpcId", format!("vpc-{}", rng.hex(17)));
            g.put("/DefaultNetworkAcl", format!("acl-{}", rng.hex(17)));
            g.put("/DefaultSecurityGroup", format!("sg-{}", rng.hex(17)));
            g.put(
                "/CidrBlockAssociations",
                json!([format!("vpc-cidr-assoc-{}", rng.hex(17))]),
            );
        }
        "AWS::EC2::Subnet" => {
            g.put("/SubnetId", format!("subnet-{}", rng.hex(17)));
            g.put(
                "/NetworkAclAssociationId",
                format!("aclassoc-{}", rng.hex(17)),
            );
        }
        "AWS::Cognito::UserPool" => {
            let id = format!("{r}_{}", rng.mixed_alnum(9));
            g.put("/Arn", format!("arn:aws:cognito-idp:{r}:{a}:userpool/{id}"));
            g.put(
                "/ProviderName",
                format!("cognito-idp.{r}.amazonaws.com/{id}"),
            );
            g.put(
                "/ProviderURL",
                format!("https://cognito-idp.{r}.amazonaws.com/{id}"),
            );
            g.put("/UserPoolId", id);
        }
        "AWS::Cognito::UserPoolClient" => {
            g.put("/ClientId", rng.lower_alnum(26));
            if let Some(n) = g.str("ClientName") {
                g.put("/Name", n);
            }
            // ClientSecret is deliberately not generated: it would be a
            // secret in every `get`, and nothing local can use it.
        }
        "AWS::RDS::DBInstance" => {
            // RDS stores identifiers in lowercase whatever the caller sent.
            let n = g.name("DBInstanceIdentifier", rng).to_ascii_lowercase();
            g.set_plain("DBInstanceIdentifier", n.clone());
            let port = db_port(g.props);
            let zone = account_suffix(&a, &r);
            g.put("/DBInstanceArn", format!("arn:aws:rds:{r}:{a}:db:{n}"));
            g.put(
                "/Endpoint",
                json!({
                    "Address": format!("{n}.{zone}.{r}.rds.amazonaws.com"),
                    "Port": port,
                    "HostedZoneId": format!("Z{}", rng.upper_alnum(13)),
                }),
            );
            g.put("/DbiResourceId", format!("db-{}", rng.upper_alnum(26)));
            g.put("/DBInstanceStatus", "available");
            g.put("/InstanceCreateTime", now.clone());
            g.master_user_secret(&a, &r, &format!("db-{}", rng.uuid()), rng);
        }
        "AWS::RDS::DBCluster" => {
            let n = g.name("DBClusterIdentifier", rng).to_ascii_lowercase();
            g.set_plain("DBClusterIdentifier", n.clone());
            let port = db_port(g.props);
            let zone = account_suffix(&a, &r);
            g.put("/DBClusterArn", format!("arn:aws:rds:{r}:{a}:cluster:{n}"));
            g.put(
                "/Endpoint",
                json!({"Address": format!("{n}.cluster-{zone}.{r}.rds.amazonaws.com"), "Port": port}),
            );
            g.put(
                "/ReadEndpoint",
                json!({"Address": format!("{n}.cluster-ro-{zone}.{r}.rds.amazonaws.com")}),
            );
            g.put(
                "/DBClusterResourceId",
                format!("cluster-{}", rng.upper_alnum(26)),
            );
            g.master_user_secret(&a, &r, &format!("cluster-{}", rng.uuid()), rng);
        }
        "AWS::RDS::DBSubnetGroup" => {
            let n = g.name("DBSubnetGroupName", rng).to_ascii_lowercase();
            g.set_plain("DBSubnetGroupName", n.clone());
            g.put(
                "/DBSubnetGroupArn",
                format!("arn:aws:rds:{r}:{a}:subgrp:{n}"),
            );
        }
        "AWS::SES::ConfigurationSet" => {
            g.name("Name", rng);
        }
        "AWS::SES::EmailIdentity" => {
            let identity = g.str("EmailIdentity").unwrap_or_default();
            // DKIM records live on the domain, also for an address identity.
            let domain = identity.rsplit('@').next().unwrap_or_default().to_string();
            for i in 1..=3 {
                let token = rng.lower_alnum(32);
                g.put(
                    &format!("/DkimDNSTokenName{i}"),
                    format!("{token}._domainkey.{domain}"),
                );
                g.put(
                    &format!("/DkimDNSTokenValue{i}"),
                    format!("{token}.dkim.amazonses.com"),
                );
            }
        }
        "AWS::SES::Template" => {
            let n = g
                .props
                .pointer("/Template/TemplateName")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| default_name(schema, rng));
            g.put("/Id", n);
        }
        "AWS::CloudWatch::Alarm" => {
            let n = g.name("AlarmName", rng);
            g.put("/Arn", format!("arn:aws:cloudwatch:{r}:{a}:alarm:{n}"));
        }
        "AWS::Budgets::Budget" => {
            let n = match g
                .props
                .pointer("/Budget/BudgetName")
                .and_then(Value::as_str)
            {
                Some(n) => n.to_string(),
                None => {
                    let n = default_name(schema, rng);
                    if g.props.get("Budget").is_some_and(Value::is_object) {
                        pointer::set(g.props, "/Budget/BudgetName", json!(n));
                    }
                    n
                }
            };
            g.put("/Id", n);
        }
        "AWS::ECR::Repository" => {
            let n = g.name("RepositoryName", rng);
            g.put("/Arn", format!("arn:aws:ecr:{r}:{a}:repository/{n}"));
            g.put(
                "/RepositoryUri",
                format!("{a}.dkr.ecr.{r}.amazonaws.com/{n}"),
            );
        }
        "AWS::SSM::Parameter" => {
            let n = g.name("Name", rng);
            let tail = n.trim_start_matches('/');
            g.put("/Arn", format!("arn:aws:ssm:{r}:{a}:parameter/{tail}"));
        }
        "AWS::StepFunctions::StateMachine" => {
            let n = g.name("StateMachineName", rng);
            g.put("/Arn", format!("arn:aws:states:{r}:{a}:stateMachine:{n}"));
            g.put("/Name", n);
            g.put("/StateMachineRevisionId", "INITIAL");
        }
        "AWS::Events::Rule" => {
            let n = g.name("Name", rng);
            g.put("/Arn", format!("arn:aws:events:{r}:{a}:rule/{n}"));
            g.put("/RuleName", n);
        }
        "AWS::ApiGateway::RestApi" => {
            g.put("/RestApiId", rng.lower_alnum(10));
            g.put("/RootResourceId", rng.lower_alnum(10));
        }
        "AWS::ApiGatewayV2::Api" => {
            let id = rng.lower_alnum(10);
            let scheme = if g.str("ProtocolType").as_deref() == Some("WEBSOCKET") {
                "wss"
            } else {
                "https"
            };
            g.put(
                "/ApiEndpoint",
                format!("{scheme}://{id}.execute-api.{r}.amazonaws.com"),
            );
            g.put(
                "/ExecuteApiArn",
                format!("arn:aws:execute-api:{r}:{a}:{id}"),
            );
            g.put("/ApiId", id);
        }
        "AWS::CloudFront::Distribution" => {
            g.put("/Id", format!("E{}", rng.upper_alnum(13)));
            g.put(
                "/DomainName",
                format!("d{}.cloudfront.net", rng.lower_alnum(13)),
            );
        }
        "AWS::ElastiCache::ServerlessCache" => {
            let n = g.name("ServerlessCacheName", rng);
            let host = format!(
                "{n}-{}.serverless.{r}.cache.amazonaws.com",
                rng.lower_alnum(6)
            );
            g.put(
                "/ARN",
                format!("arn:aws:elasticache:{r}:{a}:serverlesscache:{n}"),
            );
            g.put("/Status", "available");
            g.put("/CreateTime", now.clone());
            g.put("/Endpoint/Address", host.clone());
            g.put("/Endpoint/Port", "6379");
            g.put("/ReaderEndpoint/Address", host);
            g.put("/ReaderEndpoint/Port", "6380");
        }
        "AWS::Amplify::App" => {
            let id = format!("d{}", rng.lower_alnum(13));
            if let Some(n) = g.str("Name") {
                g.put("/AppName", n);
            }
            g.put("/Arn", format!("arn:aws:amplify:{r}:{a}:apps/{id}"));
            g.put("/DefaultDomain", format!("{id}.amplifyapp.com"));
            g.put("/AppId", id);
        }
        "AWS::Amplify::Branch" => {
            let app = g.str("AppId").unwrap_or_default();
            let branch = g.str("BranchName").unwrap_or_default();
            g.put(
                "/Arn",
                format!("arn:aws:amplify:{r}:{a}:apps/{app}/branches/{branch}"),
            );
        }
        _ => hand_written = false,
    }
    generic(schema, g.props, &a, &r, rng, !hand_written);
}

/// Re-derive the read-only attributes that follow from writable ones after
/// an update (a new policy version, a stream turned on or off).
pub fn refresh_on_update(
    schema: &ResourceSchema,
    old: &Value,
    new: &mut Value,
    ctx: &mut Context<'_>,
) {
    let mut g = Gen { schema, props: new };
    match schema.type_name.as_str() {
        "AWS::IAM::ManagedPolicy" => {
            if old.get("PolicyDocument") != g.props.get("PolicyDocument") {
                let version = old
                    .get("DefaultVersionId")
                    .and_then(Value::as_str)
                    .and_then(|v| v.strip_prefix('v'))
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(1);
                g.replace("/DefaultVersionId", format!("v{}", version + 1));
                g.replace("/UpdateDate", ctx.now.rfc3339());
            }
            let count = attachment_count(g.props);
            g.replace("/AttachmentCount", count);
        }
        "AWS::DynamoDB::Table" => {
            let has_stream = g.props.get("StreamSpecification").is_some();
            let arn = g.str("Arn").unwrap_or_default();
            match (has_stream, g.props.get("StreamArn").is_some()) {
                (true, false) => g.put("/StreamArn", stream_arn(&arn, ctx.now)),
                (false, true) => {
                    pointer::remove(g.props, "/StreamArn");
                }
                _ => {}
            }
        }
        "AWS::Lambda::Function" => {
            let resp = snap_start_response(g.props);
            g.replace("/SnapStartResponse", resp);
        }
        _ => {}
    }
}

/// Copy every read-only value of `old` into `new`: read-only attributes are
/// the cloud's to set, so an update keeps them even if the patch replaced
/// their parent object.
pub fn keep_read_only(schema: &ResourceSchema, old: &Value, new: &mut Value) {
    for pattern in &schema.read_only {
        for concrete in pointer::find(old, pattern) {
            if let Some(v) = old.pointer(&concrete) {
                pointer::set(new, &concrete, v.clone());
            }
        }
    }
}

/// A CloudFormation-style generated name: `<resource>-<12 random>`, e.g.
/// `bucket-k2j4h5g6f7d8`, shortened to the type's length limit where known.
pub fn default_name(schema: &ResourceSchema, rng: &mut Rng) -> String {
    let t = &schema.type_name;
    let mut prefix = t.resource().to_ascii_lowercase();
    let suffix = rng.lower_alnum(12);
    if let Some(max) = max_name_len(t.as_str()) {
        let room = max.saturating_sub(suffix.len() + 1);
        prefix.truncate(room);
    }
    format!("{prefix}-{suffix}")
}

/// Name length limits of the types whose limits are short enough to matter.
fn max_name_len(type_name: &str) -> Option<usize> {
    match type_name {
        "AWS::S3::Bucket" | "AWS::RDS::DBInstance" | "AWS::RDS::DBCluster" => Some(63),
        "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::Lambda::Function" => Some(64),
        "AWS::ElastiCache::ServerlessCache" => Some(40),
        // 80, less room for the `.fifo` a FIFO queue's name needs.
        "AWS::SQS::Queue" => Some(75),
        _ => None,
    }
}

/// Writes into one resource's properties, guarded by its schema.
struct Gen<'a> {
    schema: &'a ResourceSchema,
    props: &'a mut Value,
}

impl Gen<'_> {
    fn str(&self, name: &str) -> Option<String> {
        self.props
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// The resource's name from `prop`, generated and stored when absent.
    fn name(&mut self, prop: &str, rng: &mut Rng) -> String {
        if let Some(n) = self.props.get(prop) {
            match n {
                Value::String(s) => return s.clone(),
                // A non-string name is a validation problem reported
                // elsewhere; use its text so the ARN still says something.
                other => return other.to_string(),
            }
        }
        let mut n = default_name(self.schema, rng);
        // FIFO queues and topics must end in `.fifo`.
        let fifo = ["FifoQueue", "FifoTopic"]
            .iter()
            .any(|f| self.props.get(*f) == Some(&Value::Bool(true)));
        if fifo {
            n.push_str(".fifo");
        }
        let pointer = format!("/{prop}");
        if self.schema.has_property(prop) && !self.schema.is_read_only(&pointer) {
            pointer::set(self.props, &pointer, json!(n));
        }
        n
    }

    /// Overwrite a top-level writable property the cloud normalises.
    fn set_plain(&mut self, prop: &str, value: String) {
        if self.props.get(prop).is_some() {
            pointer::set(self.props, &format!("/{prop}"), json!(value));
        }
    }

    /// Set a read-only attribute the schema declares, unless already there.
    fn put(&mut self, pointer: &str, value: impl Into<Value>) {
        if self.schema.is_read_only(pointer) && self.props.pointer(pointer).is_none() {
            pointer::set(self.props, pointer, value.into());
        }
    }

    /// Set a read-only attribute the schema declares, replacing it.
    fn replace(&mut self, pointer: &str, value: impl Into<Value>) {
        if self.schema.is_read_only(pointer) {
            pointer::set(self.props, pointer, value.into());
        }
    }

    /// RDS keeps the master password in Secrets Manager when asked to.
    fn master_user_secret(&mut self, a: &str, r: &str, name: &str, rng: &mut Rng) {
        if self.props.get("ManageMasterUserPassword") == Some(&Value::Bool(true)) {
            let arn = format!(
                "arn:aws:secretsmanager:{r}:{a}:secret:rds!{name}-{}",
                rng.mixed_alnum(6)
            );
            self.put("/MasterUserSecret/SecretArn", arn);
        }
    }
}

/// The safety net for every type: the name property gets a name and every
/// identifier part a value. For types without hand-written rules
/// (`attributes`), also: read-only `…Arn` gets an ARN, read-only `…Id` a
/// random id. Hand-written types skip that, because some of their read-only
/// attributes exist only under conditions (a table's `StreamArn`).
fn generic(
    schema: &ResourceSchema,
    props: &mut Value,
    a: &str,
    r: &str,
    rng: &mut Rng,
    attributes: bool,
) {
    let mut g = Gen { schema, props };
    let name = match schema.name_property.as_deref() {
        Some(np) if !schema.is_read_only(&format!("/{np}")) => Some(g.name(np, rng)),
        Some(np) => g.str(np),
        None => None,
    };
    let label = name.unwrap_or_else(|| rng.lower_alnum(12));
    for ro in schema.read_only.iter().filter(|_| attributes) {
        let segs = pointer::segments(ro);
        let [prop] = segs.as_slice() else { continue };
        if g.props.get(prop).is_some() {
            continue;
        }
        if prop.ends_with("Arn") || prop.ends_with("ARN") {
            g.put(ro, generic_arn(schema, a, r, &label));
        } else if prop.ends_with("Id") {
            g.put(ro, rng.lower_alnum(20));
        }
    }
    for id_ptr in &schema.primary_identifier {
        if g.props.pointer(id_ptr).is_some() {
            continue;
        }
        let last = pointer::segments(id_ptr).pop().unwrap_or_default();
        let value = if last.ends_with("Arn") || last.ends_with("ARN") {
            generic_arn(schema, a, r, &label)
        } else if schema.is_read_only(id_ptr) {
            rng.lower_alnum(20)
        } else {
            default_name(schema, rng)
        };
        pointer::set(g.props, id_ptr, json!(value));
    }
}

fn generic_arn(schema: &ResourceSchema, a: &str, r: &str, label: &str) -> String {
    let t = &schema.type_name;
    format!(
        "arn:aws:{}:{r}:{a}:{}/{label}",
        t.service().to_ascii_lowercase(),
        t.resource().to_ascii_lowercase()
    )
}

fn snap_start_response(props: &Value) -> Value {
    let apply_on = props
        .pointer("/SnapStart/ApplyOn")
        .and_then(Value::as_str)
        .unwrap_or("None");
    let status = if apply_on == "PublishedVersions" {
        "On"
    } else {
        "Off"
    };
    json!({"ApplyOn": apply_on, "OptimizationStatus": status})
}

fn attachment_count(props: &Value) -> u64 {
    ["Roles", "Users", "Groups"]
        .iter()
        .filter_map(|k| props.get(*k).and_then(Value::as_array))
        .map(|v| v.len() as u64)
        .sum()
}

/// DynamoDB stream ARNs end in the stream's creation time with milliseconds.
fn stream_arn(table_arn: &str, now: Timestamp) -> String {
    let t = now.0;
    format!(
        "{table_arn}/stream/{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// The port clients expect by engine; RDS returns it as a string.
fn db_port(props: &Value) -> String {
    match props.get("Port") {
        Some(Value::String(s)) => return s.clone(),
        Some(Value::Number(n)) => return n.to_string(),
        _ => {}
    }
    let engine = props
        .get("Engine")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let port = if engine.contains("postgres") {
        5432
    } else if engine.starts_with("oracle") {
        1521
    } else if engine.starts_with("sqlserver") {
        1433
    } else if engine.starts_with("db2") {
        50000
    } else {
        // mysql, mariadb, aurora-mysql and the unknown.
        3306
    };
    port.to_string()
}

/// RDS endpoints share one random label per account and region
/// (`mydb.c9akciq32.us-east-1.rds.amazonaws.com`); derive it from both so
/// it is stable across restarts without storing it.
fn account_suffix(account: &str, region: &str) -> String {
    let mut h = Sha256::new();
    h.update(account.as_bytes());
    h.update(b"/");
    h.update(region.as_bytes());
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&h.finalize());
    Rng::seeded(seed).lower_alnum(12)
}

#[cfg(test)]
mod tests {
    use infraguard_core::{ResourceType, TagStyle};

    use super::*;

    fn schema(
        t: &str,
        ro: &[&str],
        id: &[&str],
        name: Option<&str>,
        props: &[&str],
    ) -> ResourceSchema {
        ResourceSchema {
            type_name: ResourceType::new(t).expect("type"),
            primary_identifier: id.iter().map(|s| s.to_string()).collect(),
            read_only: ro.iter().map(|s| s.to_string()).collect(),
            create_only: Vec::new(),
            write_only: Vec::new(),
            required: Vec::new(),
            tagging: TagStyle::None,
            properties: props
                .iter()
                .map(|p| (p.to_string(), "any".to_string()))
                .collect(),
            additional_properties: false,
            name_property: name.map(str::to_string),
            handlers: Default::default(),
        }
    }

    fn run(s: &ResourceSchema, mut props: Value) -> Value {
        let mut rng = Rng::seeded([9; 32]);
        let mut ctx = Context {
            account_id: "123456789012",
            region: "eu-west-1",
            now: Timestamp::from_unix(1_795_651_200),
            rng: &mut rng,
        };
        generate(s, &mut props, &mut ctx);
        props
    }

    #[test]
    fn bucket_attributes_carry_name_and_region() {
        let s = schema(
            "AWS::S3::Bucket",
            &[
                "/Arn",
                "/DomainName",
                "/RegionalDomainName",
                "/DualStackDomainName",
                "/WebsiteURL",
            ],
            &["/BucketName"],
            Some("BucketName"),
            &["BucketName"],
        );
        let p = run(&s, json!({"BucketName": "logs"}));
        assert_eq!(p["Arn"], "arn:aws:s3:::logs");
        assert_eq!(p["RegionalDomainName"], "logs.s3.eu-west-1.amazonaws.com");
        assert_eq!(
            p["DualStackDomainName"],
            "logs.s3.dualstack.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            p["WebsiteURL"],
            "http://logs.s3-website-eu-west-1.amazonaws.com"
        );
    }

    #[test]
    fn absent_name_is_generated_cloudformation_style() {
        let s = schema(
            "AWS::S3::Bucket",
            &["/Arn"],
            &["/BucketName"],
            Some("BucketName"),
            &["BucketName"],
        );
        let p = run(&s, json!({}));
        let n = p["BucketName"].as_str().expect("name generated");
        let (prefix, suffix) = n.split_once('-').expect("dash");
        assert_eq!(prefix, "bucket");
        assert_eq!(suffix.len(), 12);
        assert!(
            suffix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
        assert_eq!(p["Arn"], format!("arn:aws:s3:::{n}"));
    }

    #[test]
    fn fifo_queue_name_ends_in_fifo_and_url_is_identifier() {
        let s = schema(
            "AWS::SQS::Queue",
            &["/QueueUrl", "/Arn"],
            &["/QueueUrl"],
            Some("QueueName"),
            &["QueueName", "FifoQueue"],
        );
        let p = run(&s, json!({"FifoQueue": true}));
        let n = p["QueueName"].as_str().expect("name");
        assert!(n.ends_with(".fifo"), "{n}");
        assert_eq!(
            p["QueueUrl"],
            format!("https://sqs.eu-west-1.amazonaws.com/123456789012/{n}")
        );
        assert_eq!(p["Arn"], format!("arn:aws:sqs:eu-west-1:123456789012:{n}"));
    }

    #[test]
    fn only_declared_read_only_properties_are_generated() {
        // A schema without WebsiteURL read-only must not get one.
        let s = schema(
            "AWS::S3::Bucket",
            &["/Arn"],
            &["/BucketName"],
            Some("BucketName"),
            &["BucketName"],
        );
        let p = run(&s, json!({"BucketName": "b"}));
        assert!(p.get("WebsiteURL").is_none());
        assert!(p.get("DomainName").is_none());
    }

    #[test]
    fn role_arn_honours_path_and_role_id_shape() {
        let s = schema(
            "AWS::IAM::Role",
            &["/Arn", "/RoleId"],
            &["/RoleName"],
            Some("RoleName"),
            &["RoleName", "Path"],
        );
        let p = run(&s, json!({"RoleName": "app", "Path": "/svc/"}));
        assert_eq!(p["Arn"], "arn:aws:iam::123456789012:role/svc/app");
        let id = p["RoleId"].as_str().expect("id");
        assert!(id.starts_with("AROA") && id.len() == 21);
    }

    #[test]
    fn rds_instance_endpoint_uses_engine_port_and_lowercase_name() {
        let s = schema(
            "AWS::RDS::DBInstance",
            &[
                "/Endpoint",
                "/Endpoint/Address",
                "/Endpoint/Port",
                "/DBInstanceArn",
                "/DbiResourceId",
            ],
            &["/DBInstanceIdentifier"],
            Some("DBInstanceIdentifier"),
            &["DBInstanceIdentifier", "Engine"],
        );
        let p = run(
            &s,
            json!({"DBInstanceIdentifier": "MyDb", "Engine": "postgres"}),
        );
        assert_eq!(p["DBInstanceIdentifier"], "mydb");
        assert_eq!(p["Endpoint"]["Port"], "5432");
        assert!(
            p["Endpoint"]["Address"]
                .as_str()
                .expect("addr")
                .ends_with(".eu-west-1.rds.amazonaws.com")
        );
        assert_eq!(
            p["DBInstanceArn"],
            "arn:aws:rds:eu-west-1:123456789012:db:mydb"
        );
        let mysql = run(&s, json!({"Engine": "mysql"}));
        assert_eq!(mysql["Endpoint"]["Port"], "3306");
    }

    #[test]
    fn generic_fallback_makes_arn_id_and_identifier() {
        let s = schema(
            "AWS::Foo::Widget",
            &["/Arn", "/WidgetId"],
            &["/WidgetId"],
            None,
            &["Size"],
        );
        let p = run(&s, json!({"Size": 1}));
        assert!(
            p["Arn"]
                .as_str()
                .expect("arn")
                .starts_with("arn:aws:foo:eu-west-1:123456789012:widget/")
        );
        assert_eq!(p["WidgetId"].as_str().expect("id").len(), 20);
        assert_eq!(s.identifier_of(&p).as_deref(), p["WidgetId"].as_str());
    }

    #[test]
    fn managed_policy_version_moves_on_document_change() {
        let s = schema(
            "AWS::IAM::ManagedPolicy",
            &[
                "/PolicyArn",
                "/DefaultVersionId",
                "/UpdateDate",
                "/AttachmentCount",
            ],
            &["/PolicyArn"],
            Some("ManagedPolicyName"),
            &["ManagedPolicyName", "PolicyDocument", "Roles"],
        );
        let old = run(
            &s,
            json!({"ManagedPolicyName": "p", "PolicyDocument": {"a": 1}}),
        );
        assert_eq!(old["PolicyArn"], "arn:aws:iam::123456789012:policy/p");
        assert_eq!(old["DefaultVersionId"], "v1");
        let mut new = old.clone();
        new["PolicyDocument"] = json!({"a": 2});
        new["Roles"] = json!(["r1", "r2"]);
        let mut rng = Rng::seeded([1; 32]);
        let mut ctx = Context {
            account_id: "123456789012",
            region: "eu-west-1",
            now: Timestamp::from_unix(1_795_651_260),
            rng: &mut rng,
        };
        refresh_on_update(&s, &old, &mut new, &mut ctx);
        assert_eq!(new["DefaultVersionId"], "v2");
        assert_eq!(new["AttachmentCount"], 2);
        assert_eq!(new["UpdateDate"], "2026-11-26T00:01:00Z");
    }

    #[test]
    fn keep_read_only_restores_values_under_a_replaced_parent() {
        let s = schema(
            "AWS::RDS::DBCluster",
            &["/MasterUserSecret/SecretArn"],
            &["/X"],
            None,
            &[],
        );
        let old = json!({"MasterUserSecret": {"SecretArn": "arn:1", "KmsKeyId": "k1"}});
        let mut new = json!({"MasterUserSecret": {"KmsKeyId": "k2"}});
        keep_read_only(&s, &old, &mut new);
        assert_eq!(
            new,
            json!({"MasterUserSecret": {"SecretArn": "arn:1", "KmsKeyId": "k2"}})
        );
    }

    #[test]
    fn rds_zone_label_is_stable_per_account_and_region() {
        assert_eq!(
            account_suffix("1", "us-east-1"),
            account_suffix("1", "us-east-1")
        );
        assert_ne!(
            account_suffix("1", "us-east-1"),
            account_suffix("1", "eu-west-1")
        );
    }
}
