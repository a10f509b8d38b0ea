//! The naming convention (runs only when [`crate::ScanOptions::naming`] is
//! set), per kind, with the seed's names as the defaults:
//! - resources: `{prefix}-{purpose}-{env}` (`synthcoreai-documents-dev`);
//! - IAM users, roles and groups: `{prefix}-{words}`, the environment where
//!   the words put it (`synthcoreai-dev-user`, `synthcoreai-ses-sender`);
//! - secrets: `{prefix}/{purpose}` (`synthcoreai/ses-credentials`);
//! - IAM policies: `{iam_prefix}-{Service}-{Actions}`
//!   (`SynthCoreAI-S3-FileUpload`), MEDIUM: the seed asks for it ALWAYS, so
//!   an off-convention policy gates like any MEDIUM finding.
//!
//! A finding carries the suggested name and a
//! fix that applies it. Names built by intrinsics and absent names (which
//! CloudFormation generates) are not judged.

use std::collections::BTreeSet;

use infraguard_schema::registry::{self, Convention};
use serde_json::{Value, json};

use super::{Ctx, Out, Rule};
use crate::iam;
use crate::iam_tools::capability_for_document;
use crate::value::Val;
use crate::{NamingContext, RuleInfo, Severity};

/// The types IG-NAME-002 reads: those whose own name follows the IAM policy
/// convention (the registry's [`Convention::IamPolicy`]), and the principals
/// that carry inline `Policies`.
const POLICY_TYPES: &[&str] = &[
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
];

pub(super) fn rules() -> Vec<Rule> {
    vec![
        Rule {
            info: RuleInfo {
                id: "IG-NAME-001",
                checkov_id: None,
                severity: Severity::Low,
                title: "Resource name does not follow {prefix}-{purpose}-{env}",
                resource_types: &["*"],
                remediation: "Rename the resource to {prefix}-{purpose}-{env} (lower-case words joined by hyphens), for example synthcoreai-documents-dev; renaming usually replaces the resource.",
            },
            check: resource_name,
        },
        Rule {
            info: RuleInfo {
                id: "IG-NAME-002",
                checkov_id: None,
                severity: Severity::Medium,
                title: "IAM policy name does not follow {IamPrefix}-{Service}-{Actions}",
                resource_types: POLICY_TYPES,
                remediation: "Rename the policy to {IamPrefix}-{Service}-{Actions}, for example SynthCoreAI-S3-FileUpload or SynthCoreAI-SES-SendOnly.",
            },
            check: policy_name,
        },
    ]
}

fn resource_name(ctx: &Ctx<'_>, out: &mut Out) {
    let Some(naming) = &ctx.options.naming else {
        return;
    };
    let Some(registered) = registry::name(ctx.type_name) else {
        return;
    };
    let prop = registered.path;
    let segments = registered.segments();
    let Some(name) = ctx.prop(&segments).as_str() else {
        return;
    };
    let (convention, suggested) = match registered.convention {
        // IG-NAME-002 judges these by their own convention.
        Convention::IamPolicy => return,
        Convention::Principal => {
            if follows_principal(name, naming) {
                return;
            }
            let mut words = purpose_words(name, naming);
            if words.is_empty() {
                words.push(
                    ctx.type_name
                        .rsplit("::")
                        .next()
                        .unwrap_or("user")
                        .to_ascii_lowercase(),
                );
            }
            (
                format!("{}-{{words}}", naming.prefix),
                format!("{}-{}-{}", naming.prefix, naming.env, words.join("-")),
            )
        }
        Convention::Secret => {
            if follows_secret(name, naming) {
                return;
            }
            let mut words = purpose_words(name, naming);
            if words.is_empty() {
                words.push("secret".into());
            }
            (
                format!("{}/{{purpose}}", naming.prefix),
                format!("{}/{}", naming.prefix, words.join("-")),
            )
        }
        Convention::Resource => {
            // FIFO queues and topics must end in .fifo; log groups and
            // parameters are paths whose last segment carries the name.
            let (head, body, tail) = split_name(name);
            if follows(body, naming) {
                return;
            }
            (
                format!("{}-{{purpose}}-{}", naming.prefix, naming.env),
                format!("{head}{}{tail}", suggest(body, ctx, naming)),
            )
        }
    };
    let mut path = vec!["Properties"];
    path.extend(&segments);
    out.fail_fix(
        format!("Properties/{prop}"),
        format!("`{name}` does not follow {convention}; suggested: `{suggested}`"),
        ctx.set(&path, json!(suggested)),
    );
}

/// Lower-case words joined by hyphens.
fn is_words(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// `{prefix}-{words}`: `synthcoreai-dev-user`, `synthcoreai-ses-sender`.
fn follows_principal(name: &str, n: &NamingContext) -> bool {
    name.strip_prefix(&format!("{}-", n.prefix))
        .is_some_and(is_words)
}

/// `{prefix}/{purpose}`, deeper paths allowed: `synthcoreai/ses-credentials`.
fn follows_secret(name: &str, n: &NamingContext) -> bool {
    name.strip_prefix(&format!("{}/", n.prefix))
        .is_some_and(|rest| rest.split('/').all(is_words))
}

/// `(path prefix, name, suffix)`: `/aws/lambda/` + `x` + ``, `` + `q` + `.fifo`.
fn split_name(name: &str) -> (&str, &str, &str) {
    let (head, rest) = match name.rfind('/') {
        Some(i) => name.split_at(i + 1),
        None => ("", name),
    };
    match rest.strip_suffix(".fifo") {
        Some(body) => (head, body, ".fifo"),
        None => (head, rest, ""),
    }
}

fn follows(name: &str, n: &NamingContext) -> bool {
    let Some(rest) = name.strip_prefix(&format!("{}-", n.prefix)) else {
        return false;
    };
    let Some(purpose) = rest.strip_suffix(&format!("-{}", n.env)) else {
        return false;
    };
    is_words(purpose)
}

/// Lower-case words of a name, with the prefix and env words removed.
fn purpose_words(name: &str, n: &NamingContext) -> Vec<String> {
    // Drop the prefix wherever it appears, in any case ("SynthCoreAI_docs"),
    // before camelCase splitting would cut it into pieces.
    let prefix = n.prefix.to_ascii_lowercase();
    let mut cleaned = name.to_string();
    if !prefix.is_empty() {
        while let Some(i) = cleaned.to_ascii_lowercase().find(&prefix) {
            cleaned.replace_range(i..i + prefix.len(), "-");
        }
    }
    let name = cleaned.as_str();
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            // Split camelCase: "userDocs" -> user, docs.
            if c.is_ascii_uppercase() && prev_lower && !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            current.push(c.to_ascii_lowercase());
        } else {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    let env = n.env.to_ascii_lowercase();
    const ENVS: &[&str] = &[
        "dev",
        "development",
        "prod",
        "production",
        "staging",
        "stage",
        "test",
    ];
    words.retain(|w| *w != prefix && *w != env && !ENVS.contains(&w.as_str()));
    words
}

fn suggest(name: &str, ctx: &Ctx<'_>, n: &NamingContext) -> String {
    let mut words = purpose_words(name, n);
    if words.is_empty() {
        // Fall back to the logical id without the type's own word
        // ("DocumentsBucket" -> documents).
        let kind = ctx
            .type_name
            .rsplit("::")
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        words = purpose_words(ctx.id, n);
        words.retain(|w| *w != kind);
        if words.is_empty() {
            words.push(kind);
        }
    }
    format!("{}-{}-{}", n.prefix, words.join("-"), n.env)
}

fn policy_name(ctx: &Ctx<'_>, out: &mut Out) {
    let Some(naming) = &ctx.options.naming else {
        return;
    };
    let mut names: Vec<(Vec<String>, &str, Option<&Value>)> = Vec::new();
    match registry::name(ctx.type_name) {
        Some(own) if own.convention == Convention::IamPolicy => {
            let segments = own.segments();
            if let Some(n) = ctx.prop(&segments).as_str() {
                names.push((
                    segments.into_iter().map(str::to_string).collect(),
                    n,
                    ctx.props.get("PolicyDocument"),
                ));
            }
        }
        _ => {
            if let Val::Known(Value::Array(policies)) = ctx.prop(&["Policies"]) {
                for (i, p) in policies.iter().enumerate() {
                    if let Some(n) = Val::at(p, &["PolicyName"]).as_str() {
                        names.push((
                            vec!["Policies".into(), i.to_string(), "PolicyName".into()],
                            n,
                            p.get("PolicyDocument"),
                        ));
                    }
                }
            }
        }
    }
    for (segments, name, doc) in names {
        if follows_iam(name, &naming.iam_prefix) {
            continue;
        }
        let suggested = suggest_iam(name, doc, &naming.iam_prefix);
        let mut path = vec!["Properties"];
        path.extend(segments.iter().map(String::as_str));
        out.fail_fix(
            format!("Properties/{}", segments.join("/")),
            format!(
                "`{name}` does not follow {}-{{Service}}-{{Actions}}; suggested: `{suggested}`",
                naming.iam_prefix
            ),
            ctx.set(&path, json!(suggested)),
        );
    }
}

fn follows_iam(name: &str, iam_prefix: &str) -> bool {
    let Some(rest) = name.strip_prefix(&format!("{iam_prefix}-")) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('-').collect();
    parts.len() >= 2
        && parts.iter().all(|p| {
            p.chars()
                .next()
                .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && p.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

/// The display name of a service prefix, as AWS writes it.
fn service_display(prefix: &str) -> String {
    const KNOWN: &[(&str, &str)] = &[
        ("s3", "S3"),
        ("ses", "SES"),
        ("sesv2", "SES"),
        ("dynamodb", "DynamoDB"),
        ("lambda", "Lambda"),
        ("cognito-idp", "Cognito"),
        ("cognito-identity", "Cognito"),
        ("rds", "RDS"),
        ("rds-db", "RDS"),
        ("sqs", "SQS"),
        ("sns", "SNS"),
        ("logs", "Logs"),
        ("kms", "KMS"),
        ("secretsmanager", "SecretsManager"),
        ("iam", "IAM"),
        ("ec2", "EC2"),
        ("sts", "STS"),
        ("states", "StepFunctions"),
        ("events", "EventBridge"),
        ("apigateway", "APIGateway"),
        ("execute-api", "APIGateway"),
        ("cloudwatch", "CloudWatch"),
        ("ssm", "SSM"),
        ("ecr", "ECR"),
        ("amplify", "Amplify"),
        ("cloudfront", "CloudFront"),
    ];
    KNOWN
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, d)| d.to_string())
        .unwrap_or_else(|| pascal(prefix))
}

fn pascal(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The suggested name for a policy. When the document grants exactly the
/// actions of a known capability, its conventional name wins: the old name's
/// words (`my-policy`) say nothing about what it grants, the capability does.
/// Otherwise the name is built from the services granted and the old words.
fn suggest_iam(name: &str, doc: Option<&Value>, iam_prefix: &str) -> String {
    if let Some(capability) = doc.and_then(capability_for_document) {
        return format!("{iam_prefix}-{}", capability.name_suffix);
    }
    let mut services = BTreeSet::new();
    let mut actions: Vec<String> = Vec::new();
    if let Some(doc) = doc
        && let Ok(statements) = iam::parse_document(doc, "")
    {
        for st in statements.iter().filter(|s| s.allow == Some(true)) {
            for a in &st.actions {
                if let Some((svc, act)) = a.split_once(':') {
                    services.insert(service_display(svc));
                    actions.push(act.to_string());
                }
            }
        }
    }
    let service = match services.len() {
        0 => "Custom".to_string(),
        1 => services.into_iter().next().unwrap_or_default(),
        _ => services.into_iter().collect::<Vec<_>>().join(""),
    };
    // Keep the words of the old name that are not the prefix or the service:
    // they usually say what the policy is for.
    let lowered_prefix = iam_prefix.to_ascii_lowercase();
    let service_lower = service.to_ascii_lowercase();
    let kept: String = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| {
            let l = w.to_ascii_lowercase();
            !w.is_empty() && l != lowered_prefix && l != service_lower && l != "policy"
        })
        .map(pascal)
        .collect();
    let what = if !kept.is_empty() {
        kept
    } else if actions.iter().any(|a| a == "*" || a.ends_with('*'))
        && actions.iter().all(|a| a == "*")
    {
        "FullAccess".into()
    } else if !actions.is_empty()
        && actions.iter().all(|a| {
            ["get", "list", "describe", "head", "query", "scan"]
                .iter()
                .any(|v| a.starts_with(v))
        })
    {
        "ReadOnly".into()
    } else if !actions.is_empty() && actions.iter().all(|a| a.starts_with("send")) {
        "SendOnly".into()
    } else {
        "ReadWrite".into()
    };
    format!("{iam_prefix}-{service}-{what}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n() -> NamingContext {
        NamingContext {
            prefix: "synthcoreai".into(),
            env: "dev".into(),
            iam_prefix: "SynthCoreAI".into(),
        }
    }

    #[test]
    fn convention_is_prefix_purpose_env() {
        assert!(follows("synthcoreai-documents-dev", &n()));
        assert!(follows("synthcoreai-user-uploads-dev", &n()));
        assert!(!follows("synthcoreai-dev", &n()));
        assert!(!follows("synthcoreai-Docs-dev", &n()));
        assert!(!follows("docs-bucket", &n()));
        assert!(!follows("synthcoreai-docs-prod", &n()));
    }

    #[test]
    fn iam_convention() {
        assert!(follows_iam("SynthCoreAI-S3-FileUpload", "SynthCoreAI"));
        assert!(follows_iam("SynthCoreAI-SES-SendOnly", "SynthCoreAI"));
        assert!(!follows_iam("synthcoreai-s3-upload", "SynthCoreAI"));
        assert!(!follows_iam("SynthCoreAI-S3", "SynthCoreAI"));
        // No capability grants exactly these actions, so the name is built
        // from the service and the old name's words.
        let doc = json!({"Statement": [{"Effect": "Allow", "Action": ["ses:SendEmail", "ses:GetSendQuota"], "Resource": "*"}]});
        assert!(capability_for_document(&doc).is_none());
        assert_eq!(
            suggest_iam("email-policy", Some(&doc), "SynthCoreAI"),
            "SynthCoreAI-SES-Email"
        );
        assert_eq!(
            suggest_iam("x", Some(&doc), "SynthCoreAI"),
            "SynthCoreAI-SES-X"
        );
        let reads = json!({"Statement": [{"Effect": "Allow", "Action": ["ses:GetSendQuota"], "Resource": "*"}]});
        assert!(capability_for_document(&reads).is_none());
        assert_eq!(
            suggest_iam("", Some(&reads), "SynthCoreAI"),
            "SynthCoreAI-SES-ReadOnly"
        );
    }

    #[test]
    fn a_policy_granting_a_capability_gets_its_conventional_name() {
        // The seed's case: `my-policy` with the SES send actions.
        let send = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"], "Resource": "*"}]});
        assert_eq!(
            suggest_iam("my-policy", Some(&send), "SynthCoreAI"),
            "SynthCoreAI-SES-SendOnly"
        );
        // Case and order of the actions, and how they are split across
        // statements, do not matter.
        let split = json!({"Statement": [
            {"Effect": "Allow", "Action": "SES:SendRawEmail", "Resource": "*"},
            {"Effect": "Allow", "Action": ["ses:sendemail"], "Resource": "*"}]});
        assert_eq!(
            suggest_iam("mailer", Some(&split), "Acme"),
            "Acme-SES-SendOnly"
        );
        // One action more than the capability: back to the old name's words.
        let more = json!({"Statement": [{"Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail", "ses:GetSendQuota"], "Resource": "*"}]});
        assert_eq!(
            suggest_iam("my-policy", Some(&more), "SynthCoreAI"),
            "SynthCoreAI-SES-My"
        );
    }

    #[test]
    fn the_finding_and_its_fix_carry_the_capability_name() {
        let t = crate::parse_template(
            r#"{"Resources":{"P":{"Type":"AWS::IAM::ManagedPolicy","Properties":{
                "ManagedPolicyName":"my-policy",
                "PolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
                  "Action":["ses:SendEmail","ses:SendRawEmail"],"Resource":"*"}]}}}}}"#,
        )
        .unwrap();
        let opts = crate::ScanOptions {
            naming: Some(n()),
            ..Default::default()
        };
        let r = crate::scan(&t, &opts);
        let f = r.findings.iter().find(|f| f.rule == "IG-NAME-002").unwrap();
        assert_eq!(f.path, "Properties/ManagedPolicyName");
        assert!(
            f.message.contains("`SynthCoreAI-SES-SendOnly`"),
            "{}",
            f.message
        );
        assert_eq!(
            f.fix,
            Some(
                json!([{"op": "replace", "path": "/Resources/P/Properties/ManagedPolicyName", "value": "SynthCoreAI-SES-SendOnly"}])
            )
        );
    }

    #[test]
    fn every_name_in_the_seed_follows_its_kinds_convention() {
        let names = [
            ("AWS::S3::Bucket", "BucketName", "synthcoreai-documents-dev"),
            (
                "AWS::Cognito::UserPool",
                "UserPoolName",
                "synthcoreai-users-dev",
            ),
            (
                "AWS::RDS::DBInstance",
                "DBInstanceIdentifier",
                "synthcoreai-db-dev",
            ),
            ("AWS::IAM::User", "UserName", "synthcoreai-dev-user"),
            ("AWS::IAM::User", "UserName", "synthcoreai-ses-sender"),
            (
                "AWS::SecretsManager::Secret",
                "Name",
                "synthcoreai/ses-credentials",
            ),
            (
                "AWS::IAM::ManagedPolicy",
                "ManagedPolicyName",
                "SynthCoreAI-S3-FileUpload",
            ),
            (
                "AWS::IAM::ManagedPolicy",
                "ManagedPolicyName",
                "SynthCoreAI-SES-SendOnly",
            ),
            (
                "AWS::IAM::ManagedPolicy",
                "ManagedPolicyName",
                "SynthCoreAI-Cognito-UserManagement",
            ),
            (
                "AWS::IAM::ManagedPolicy",
                "ManagedPolicyName",
                "SynthCoreAI-RDS-ReadOnly",
            ),
            (
                "AWS::IAM::ManagedPolicy",
                "ManagedPolicyName",
                "SynthCoreAI-Lambda-Execute",
            ),
        ];
        let opts = crate::ScanOptions {
            naming: Some(n()),
            ..Default::default()
        };
        for (t, prop, name) in names {
            let doc = json!({"Resources": {"R": {"Type": t, "Properties": {prop: name}}}});
            let template = crate::parse_template(&doc.to_string()).unwrap();
            let r = crate::scan(&template, &opts);
            let naming: Vec<_> = r
                .findings
                .iter()
                .filter(|f| f.rule.starts_with("IG-NAME"))
                .collect();
            assert!(naming.is_empty(), "{name}: {naming:?}");
        }
    }

    #[test]
    fn off_convention_secrets_principals_and_policies() {
        let opts = crate::ScanOptions {
            naming: Some(n()),
            ..Default::default()
        };
        let check = |t: &str, prop: &str, name: &str| -> Vec<crate::Finding> {
            let doc = json!({"Resources": {"R": {"Type": t, "Properties": {prop: name}}}});
            let template = crate::parse_template(&doc.to_string()).unwrap();
            crate::scan(&template, &opts)
                .findings
                .into_iter()
                .filter(|f| f.rule.starts_with("IG-NAME"))
                .collect()
        };
        let f = check("AWS::SecretsManager::Secret", "Name", "ses_credentials");
        assert!(
            f[0].message.contains("`synthcoreai/ses-credentials`"),
            "{}",
            f[0].message
        );
        let f = check("AWS::IAM::User", "UserName", "DevUser");
        assert!(
            f[0].message.contains("synthcoreai-{words}"),
            "{}",
            f[0].message
        );
        assert!(
            f[0].message.contains("`synthcoreai-dev-user`"),
            "{}",
            f[0].message
        );
        let f = check(
            "AWS::IAM::ManagedPolicy",
            "ManagedPolicyName",
            "upload-policy",
        );
        assert_eq!(f[0].severity, Severity::Medium);
    }

    #[test]
    fn every_type_named_by_the_iam_convention_is_read_by_the_policy_rule() {
        for e in registry::entries() {
            if e.name
                .is_some_and(|n| n.convention == Convention::IamPolicy)
            {
                assert!(POLICY_TYPES.contains(&e.type_name), "{}", e.type_name);
            }
        }
    }

    #[test]
    fn names_inside_an_object_are_judged_too() {
        let opts = crate::ScanOptions {
            naming: Some(n()),
            ..Default::default()
        };
        let doc = json!({"Resources": {"T": {"Type": "AWS::SES::Template",
            "Properties": {"Template": {"TemplateName": "Welcome", "SubjectPart": "Hi"}}}}});
        let template = crate::parse_template(&doc.to_string()).unwrap();
        let r = crate::scan(&template, &opts);
        let f = r.findings.iter().find(|f| f.rule == "IG-NAME-001").unwrap();
        assert_eq!(f.path, "Properties/Template/TemplateName");
        assert!(
            f.message.contains("`synthcoreai-welcome-dev`"),
            "{}",
            f.message
        );
    }

    #[test]
    fn names_split_into_purpose_words() {
        assert_eq!(
            purpose_words("SynthCoreAI_UserDocs-prod", &n()),
            vec!["user", "docs"]
        );
        assert_eq!(
            purpose_words("synthcoreai-user-docs-dev", &n()),
            vec!["user", "docs"]
        );
        assert_eq!(split_name("/aws/lambda/fn"), ("/aws/lambda/", "fn", ""));
        assert_eq!(split_name("q.fifo"), ("", "q", ".fifo"));
    }
}
