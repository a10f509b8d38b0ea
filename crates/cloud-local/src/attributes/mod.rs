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
//! # Layout
//!
//! The hand-written `Rules` of each type live in one file per service
//! group (`storage`, `messaging`, `compute`, `iam`, `security`, `network`,
//! `rds`, `edge`, `monitoring`); `RULES` is the registry that finds them by
//! type name. Every type in the schema catalog has rules, or is listed in
//! `GENERIC_ONLY` with why the generic fallback is enough; a test keeps it
//! that way. This file holds what all types share: the entry points, the
//! guarded writer `Gen` and the generic fallback.
//!
//! Not here: validation (the schema crate) and storage (`db`).

mod compute;
mod edge;
mod iam;
mod messaging;
mod monitoring;
mod network;
mod rds;
mod security;
mod storage;

use infraguard_core::{ResourceSchema, Timestamp};
use serde_json::{Value, json};

use crate::random::Rng;
use infraguard_core::pointer;

/// What generation needs from the environment.
pub struct Context<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub now: Timestamp,
    pub rng: &'a mut Rng,
}

/// One type's hand-written rules.
struct Rules {
    type_name: &'static str,
    /// Fills in the name (when absent) and the read-only attributes at
    /// create; the generic fallback then adds only the identifier.
    create: fn(&mut Gen<'_>, &mut Context<'_>),
    /// Re-derives, after an update, the read-only attributes that follow
    /// from writable ones; gets the properties before the update.
    update: Option<fn(&mut Gen<'_>, &Value, &mut Context<'_>)>,
    /// The service's name length limit, where short enough to matter for a
    /// generated name.
    max_name_len: Option<usize>,
}

/// The registry: every service group's rules.
static RULES: &[&[Rules]] = &[
    storage::RULES,
    messaging::RULES,
    compute::RULES,
    iam::RULES,
    security::RULES,
    network::RULES,
    rds::RULES,
    edge::RULES,
    monitoring::RULES,
];

/// Catalog types with no hand-written rules, and why the generic fallback
/// (a name, an identifier, `…Arn` and `…Id` attributes) is all they need.
/// At run time such a type simply has no entry in [`RULES`]; the registry
/// test reads this list so that leaving a type out is a decision, not an
/// oversight.
#[cfg(test)]
static GENERIC_ONLY: &[(&str, &str)] = &[(
    "AWS::S3::BucketPolicy",
    "no read-only attributes; its identifier is the bucket the caller names",
)];

/// The hand-written rules of a type, if any.
fn find(type_name: &str) -> Option<&'static Rules> {
    RULES
        .iter()
        .flat_map(|group| group.iter())
        .find(|rules| rules.type_name == type_name)
}

/// Fill in the name (when absent), the read-only attributes and the
/// identifier of a resource about to be created.
pub fn generate(schema: &ResourceSchema, props: &mut Value, ctx: &mut Context<'_>) {
    let rules = find(schema.type_name.as_str());
    if let Some(rules) = rules {
        (rules.create)(
            &mut Gen {
                schema,
                props: &mut *props,
            },
            ctx,
        );
    }
    let (a, r) = (ctx.account_id, ctx.region);
    generic(schema, props, a, r, ctx.rng, rules.is_none());
}

/// Re-derive the read-only attributes that follow from writable ones after
/// an update (a new policy version, a stream turned on or off).
pub fn refresh_on_update(
    schema: &ResourceSchema,
    old: &Value,
    new: &mut Value,
    ctx: &mut Context<'_>,
) {
    if let Some(update) = find(schema.type_name.as_str()).and_then(|rules| rules.update) {
        update(&mut Gen { schema, props: new }, old, ctx);
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
    if let Some(max) = find(t.as_str()).and_then(|rules| rules.max_name_len) {
        let room = max.saturating_sub(suffix.len() + 1);
        prefix.truncate(room);
    }
    format!("{prefix}-{suffix}")
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
            rds::account_suffix("1", "us-east-1"),
            rds::account_suffix("1", "us-east-1")
        );
        assert_ne!(
            rds::account_suffix("1", "us-east-1"),
            rds::account_suffix("1", "eu-west-1")
        );
    }

    #[test]
    fn every_catalog_type_has_rules_or_a_reason_for_none() {
        let catalog = infraguard_schema::Catalog::builtin();
        let types: Vec<&str> = catalog.types().iter().map(|t| t.as_str()).collect();
        for t in &types {
            let ruled = find(t).is_some();
            let generic_only = GENERIC_ONLY.iter().any(|(name, _)| name == t);
            assert!(
                ruled != generic_only,
                "{t}: needs hand-written rules or a GENERIC_ONLY entry with the reason, not both or neither"
            );
        }
        let named = RULES
            .iter()
            .flat_map(|group| group.iter())
            .map(|rules| rules.type_name)
            .chain(GENERIC_ONLY.iter().map(|(name, _)| *name));
        let mut seen = Vec::new();
        for name in named {
            assert!(types.contains(&name), "{name} is not in the catalog");
            assert!(!seen.contains(&name), "{name} is listed twice");
            seen.push(name);
        }
    }
}
