//! The session policy of one approved plan: what an approver's MFA session
//! may do, and nothing more.
//!
//! STS intersects it with the approval role's own permissions, so the
//! session can make exactly the plan's Cloud Control call (and poll it),
//! with the handler permissions the type's schema lists for that operation
//! (`handlers.<op>.permissions`). The actions of the type's own service are
//! scoped to the resource's ARN where the plan names it before the call
//! (a bucket's name, a role's name, an identifier that is an ARN); the rest
//! (`iam:PassRole`, `kms:*` a handler may need) on `*`.
//!
//! AWS takes at most 2,048 characters of plaintext session policy. A list
//! that does not fit is folded, per service, to verb wildcards
//! (`s3:PutBucketTagging`, `s3:PutBucketCors` → `s3:Put*`), and then to
//! `service:*`: still on the one resource's ARN where it is known, and
//! still within the approval role's own permissions.

use std::collections::{BTreeMap, BTreeSet};

use infraguard_core::plan::Plan;
use infraguard_core::{Operation, ResourceSchema};
use serde_json::{Value, json};

/// AWS's limit on the plaintext of an inline session policy.
pub const MAX_POLICY_CHARS: usize = 2048;

/// The length of the session: AWS's shortest.
pub const SESSION_SECONDS: i32 = 900;

/// `infraguard-plan-<plan id>`: the role session name, which CloudTrail
/// records as the user name of every call the session makes.
pub fn session_name(plan_id: &str) -> String {
    // RoleSessionName allows [\w+=,.@-], 2 to 64 characters.
    let clean: String = plan_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@-_".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut name = format!("{SESSION_PREFIX}{clean}");
    name.truncate(64);
    name
}

/// What every session name starts with.
pub const SESSION_PREFIX: &str = "infraguard-plan-";

/// The plan id a session name carries, if it is one of ours.
pub fn plan_of_session(session: &str) -> Option<&str> {
    session
        .strip_prefix(SESSION_PREFIX)
        .filter(|p| !p.is_empty())
}

/// The Cloud Control action of an operation (`cloudformation:CreateResource`).
pub fn cloud_control_action(operation: Operation) -> &'static str {
    match operation {
        Operation::Create => "cloudformation:CreateResource",
        Operation::Update => "cloudformation:UpdateResource",
        Operation::Delete => "cloudformation:DeleteResource",
    }
}

/// Every Cloud Control write action.
pub const CLOUD_CONTROL_WRITES: [&str; 4] = [
    "cloudformation:CreateResource",
    "cloudformation:UpdateResource",
    "cloudformation:DeleteResource",
    "cloudformation:CancelResourceRequest",
];

/// The minified session policy for `plan`, at most [`MAX_POLICY_CHARS`].
pub fn for_plan(plan: &Plan, schema: &ResourceSchema, account: &str, region: &str) -> String {
    for_change(
        &Change {
            operation: plan.operation,
            identifier: plan.identifier.as_deref(),
            desired_state: &plan.desired_state,
        },
        schema,
        account,
        region,
    )
}

/// The part of a plan its session policy depends on.
pub struct Change<'a> {
    pub operation: Operation,
    pub identifier: Option<&'a str>,
    pub desired_state: &'a Value,
}

fn for_change(plan: &Change, schema: &ResourceSchema, account: &str, region: &str) -> String {
    let mut handler: BTreeSet<String> = schema
        .handlers
        .for_operation(plan.operation)
        .iter()
        .cloned()
        .collect();
    // An update reads the resource before it patches it.
    if plan.operation == Operation::Update {
        handler.extend(schema.handlers.read.iter().cloned());
    }
    let service = own_service(schema.type_name.as_str());
    let arns = resource_arns(plan, schema, account, region);
    let (own, other): (Vec<String>, Vec<String>) = handler.into_iter().partition(|a| {
        arns.is_some()
            && a.split(':')
                .next()
                .is_some_and(|s| s.eq_ignore_ascii_case(service))
    });
    for fold in [Fold::Exact, Fold::Verbs, Fold::Service] {
        let policy = render(plan.operation, &own, &other, arns.as_deref(), fold);
        if policy.len() <= MAX_POLICY_CHARS || fold == Fold::Service {
            return policy;
        }
    }
    unreachable!("the last fold always returns")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fold {
    Exact,
    Verbs,
    Service,
}

fn render(
    operation: Operation,
    own: &[String],
    other: &[String],
    arns: Option<&[String]>,
    fold: Fold,
) -> String {
    let mut statements = vec![json!({
        "Effect": "Allow",
        "Action": [cloud_control_action(operation), "cloudformation:GetResourceRequestStatus"],
        "Resource": "*",
    })];
    if !own.is_empty()
        && let Some(arns) = arns
    {
        statements.push(json!({
            "Effect": "Allow",
            "Action": folded(own, fold),
            "Resource": arns,
        }));
    }
    if !other.is_empty() {
        statements.push(json!({
            "Effect": "Allow",
            "Action": folded(other, fold),
            "Resource": "*",
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// Actions folded as `fold` says, sorted and without repeats.
fn folded(actions: &[String], fold: Fold) -> Value {
    let set: BTreeSet<String> = actions
        .iter()
        .map(|a| {
            let (service, name) = a.split_once(':').unwrap_or((a.as_str(), "*"));
            match fold {
                Fold::Exact => a.clone(),
                Fold::Verbs => format!("{service}:{}*", verb(name)),
                Fold::Service => format!("{service}:*"),
            }
        })
        .collect();
    json!(set.into_iter().collect::<Vec<_>>())
}

/// The leading verb of an action name: `PutBucketTagging` → `Put`.
fn verb(name: &str) -> &str {
    let end = name
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_ascii_uppercase())
        .map(|(i, _)| i)
        .unwrap_or(name.len());
    &name[..end]
}

/// The IAM service prefix of a type's own API (`AWS::S3::Bucket` → `s3`).
fn own_service(type_name: &str) -> &'static str {
    match type_name.split("::").nth(1).unwrap_or_default() {
        "S3" => "s3",
        "IAM" => "iam",
        "DynamoDB" => "dynamodb",
        "Logs" => "logs",
        "ECR" => "ecr",
        "SSM" => "ssm",
        "CloudWatch" => "cloudwatch",
        "SQS" => "sqs",
        "SNS" => "sns",
        _ => "",
    }
}

/// The ARNs the plan's resource will have or has, when they can be named
/// before the call; `None` leaves the type's own actions on `*`.
fn resource_arns(
    plan: &Change,
    schema: &ResourceSchema,
    account: &str,
    region: &str,
) -> Option<Vec<String>> {
    let name = match plan.operation {
        Operation::Create => schema
            .name_property
            .as_deref()
            .and_then(|p| plan.desired_state.get(p))
            .and_then(Value::as_str)
            .map(str::to_string),
        Operation::Update | Operation::Delete => plan.identifier.map(str::to_string),
    }?;
    if name.is_empty() || name.contains('*') || name.contains('?') {
        return None;
    }
    if name.starts_with("arn:") {
        return Some(vec![name]);
    }
    let by_name: BTreeMap<&str, Vec<String>> = BTreeMap::from([
        (
            "AWS::S3::Bucket",
            vec![
                format!("arn:aws:s3:::{name}"),
                format!("arn:aws:s3:::{name}/*"),
            ],
        ),
        (
            "AWS::IAM::Role",
            vec![format!("arn:aws:iam::{account}:role/{name}")],
        ),
        (
            "AWS::IAM::User",
            vec![format!("arn:aws:iam::{account}:user/{name}")],
        ),
        (
            "AWS::IAM::Group",
            vec![format!("arn:aws:iam::{account}:group/{name}")],
        ),
        (
            "AWS::DynamoDB::Table",
            vec![
                format!("arn:aws:dynamodb:{region}:{account}:table/{name}"),
                format!("arn:aws:dynamodb:{region}:{account}:table/{name}/*"),
            ],
        ),
        (
            "AWS::Logs::LogGroup",
            vec![
                format!("arn:aws:logs:{region}:{account}:log-group:{name}"),
                format!("arn:aws:logs:{region}:{account}:log-group:{name}:*"),
            ],
        ),
        (
            "AWS::ECR::Repository",
            vec![format!("arn:aws:ecr:{region}:{account}:repository/{name}")],
        ),
        (
            "AWS::CloudWatch::Alarm",
            vec![format!(
                "arn:aws:cloudwatch:{region}:{account}:alarm:{name}"
            )],
        ),
        (
            "AWS::SQS::Queue",
            // An update or delete names the queue by its URL.
            vec![format!(
                "arn:aws:sqs:{region}:{account}:{}",
                name.rsplit('/').next().unwrap_or(&name)
            )],
        ),
        (
            "AWS::SNS::Topic",
            vec![format!("arn:aws:sns:{region}:{account}:{name}")],
        ),
    ]);
    by_name.get(schema.type_name.as_str()).cloned()
}

#[cfg(test)]
mod tests {
    use infraguard_schema::Catalog;

    use super::*;

    fn policy(t: &str, operation: Operation, id: Option<&str>, desired: Value) -> String {
        let schema = Catalog::builtin().lookup(t).expect("schema");
        let change = Change {
            operation,
            identifier: id,
            desired_state: &desired,
        };
        for_change(&change, schema, "222222222222", "us-east-1")
    }

    fn statements(policy: &str) -> Vec<Value> {
        let v: Value = serde_json::from_str(policy).expect("json");
        v["Statement"].as_array().expect("statements").clone()
    }

    #[test]
    fn a_bucket_create_gets_its_handler_permissions_on_its_own_arn() {
        let policy = policy(
            "AWS::S3::Bucket",
            Operation::Create,
            None,
            json!({"BucketName": "acme-data-prod"}),
        );
        assert!(policy.len() <= MAX_POLICY_CHARS, "{}", policy.len());
        let st = statements(&policy);
        assert_eq!(
            st[0]["Action"],
            json!([
                "cloudformation:CreateResource",
                "cloudformation:GetResourceRequestStatus"
            ])
        );
        assert_eq!(
            st[1]["Resource"],
            json!([
                "arn:aws:s3:::acme-data-prod",
                "arn:aws:s3:::acme-data-prod/*"
            ])
        );
        let own: Vec<&str> = st[1]["Action"]
            .as_array()
            .expect("actions")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(own.contains(&"s3:CreateBucket"), "{own:?}");
        assert!(
            !own.iter().any(|a| a.starts_with("s3:DeleteBucket")),
            "{own:?}"
        );
        // Other services' handler permissions are not on the bucket's ARN.
        assert!(st[2]["Action"].to_string().contains("iam:PassRole"));
        assert!(!policy.contains("UpdateResource") && !policy.contains("DeleteResource"));
    }

    #[test]
    fn a_delete_allows_the_delete_and_nothing_that_creates() {
        let policy = policy(
            "AWS::IAM::Role",
            Operation::Delete,
            Some("acme-app-prod"),
            json!({}),
        );
        let st = statements(&policy);
        assert_eq!(st[0]["Action"][0], "cloudformation:DeleteResource");
        assert_eq!(
            st[1]["Resource"],
            json!(["arn:aws:iam::222222222222:role/acme-app-prod"])
        );
        assert!(policy.contains("iam:DeleteRole"), "{policy}");
        assert!(!policy.contains("iam:CreateRole"), "{policy}");
    }

    #[test]
    fn every_supported_type_and_operation_fits_in_a_session_policy() {
        for t in Catalog::builtin().types() {
            for (op, id) in [
                (Operation::Create, None),
                (Operation::Update, Some("some-name")),
                (Operation::Delete, Some("some-name")),
            ] {
                let policy = policy(t.as_str(), op, id, json!({}));
                assert!(
                    policy.len() <= MAX_POLICY_CHARS,
                    "{t} {op:?}: {} chars",
                    policy.len()
                );
                assert!(policy.contains(cloud_control_action(op)));
            }
        }
    }

    #[test]
    fn a_long_list_folds_to_verbs_before_it_folds_to_the_service() {
        assert_eq!(verb("PutBucketTagging"), "Put");
        assert_eq!(verb("List"), "List");
        let actions: Vec<String> = (0..200).map(|i| format!("s3:PutThing{i}")).collect();
        assert_eq!(folded(&actions, Fold::Verbs), json!(["s3:Put*"]));
        assert_eq!(folded(&actions, Fold::Service), json!(["s3:*"]));
    }

    #[test]
    fn session_names_carry_the_plan_and_stay_within_awss_rules() {
        let name = session_name("pln-0123456789ab");
        assert_eq!(name, "infraguard-plan-pln-0123456789ab");
        assert_eq!(plan_of_session(&name), Some("pln-0123456789ab"));
        assert_eq!(session_name("a b/c"), "infraguard-plan-a-b-c");
        assert!(session_name(&"x".repeat(100)).len() <= 64);
        assert_eq!(plan_of_session("alice"), None);
    }
}
