//! ARN templates per service resource type, for the narrower `Resource` the
//! lint proposes and the resources `suggest` writes.
//!
//! Placeholders: `{prefix}` (the project's resource-name prefix, so
//! `{prefix}-*` is every resource the project names), `{account}`,
//! `{region}` and `{name}` (an exact resource name). Only resource types
//! whose ARN format we know are listed; for the others the lint says to
//! scope by hand instead of guessing a format.

/// `(service, resource type as in the catalog, ARN template)`.
const TEMPLATES: &[(&str, &str, &str)] = &[
    ("s3", "bucket", "arn:aws:s3:::{name}"),
    ("s3", "object", "arn:aws:s3:::{name}/*"),
    (
        "dynamodb",
        "table",
        "arn:aws:dynamodb:{region}:{account}:table/{name}",
    ),
    (
        "dynamodb",
        "index",
        "arn:aws:dynamodb:{region}:{account}:table/{name}/index/*",
    ),
    ("sqs", "queue", "arn:aws:sqs:{region}:{account}:{name}"),
    ("sns", "topic", "arn:aws:sns:{region}:{account}:{name}"),
    (
        "lambda",
        "function",
        "arn:aws:lambda:{region}:{account}:function:{name}",
    ),
    // Secret ARNs end in a random six-character suffix.
    (
        "secretsmanager",
        "secret",
        "arn:aws:secretsmanager:{region}:{account}:secret:{name}-*",
    ),
    (
        "logs",
        "log-group",
        "arn:aws:logs:{region}:{account}:log-group:{name}",
    ),
    (
        "logs",
        "log-stream",
        "arn:aws:logs:{region}:{account}:log-group:{name}:log-stream:*",
    ),
    (
        "ses",
        "identity",
        "arn:aws:ses:{region}:{account}:identity/{name}",
    ),
    (
        "ses",
        "template",
        "arn:aws:ses:{region}:{account}:template/{name}",
    ),
    (
        "ses",
        "configuration-set",
        "arn:aws:ses:{region}:{account}:configuration-set/{name}",
    ),
    ("iam", "role", "arn:aws:iam::{account}:role/{name}"),
    ("iam", "user", "arn:aws:iam::{account}:user/{name}"),
    ("kms", "key", "arn:aws:kms:{region}:{account}:key/{name}"),
    (
        "cognito-idp",
        "userpool",
        "arn:aws:cognito-idp:{region}:{account}:userpool/{name}",
    ),
    ("rds", "db", "arn:aws:rds:{region}:{account}:db:{name}"),
    (
        "rds",
        "cluster",
        "arn:aws:rds:{region}:{account}:cluster:{name}",
    ),
    (
        "states",
        "statemachine",
        "arn:aws:states:{region}:{account}:stateMachine:{name}",
    ),
    (
        "ecr",
        "repository",
        "arn:aws:ecr:{region}:{account}:repository/{name}",
    ),
    (
        "ssm",
        "parameter",
        "arn:aws:ssm:{region}:{account}:parameter/{name}",
    ),
];

/// Resource types whose identifiers are generated ids, not names the
/// project chooses: scoping them to `{prefix}-*` would match nothing, so
/// their pattern is every resource of the type in the account.
const GENERATED_IDS: &[(&str, &str)] = &[
    ("kms", "key"),
    ("cognito-idp", "userpool"),
    ("ses", "identity"),
];

/// Where the ARN's parts come from.
#[derive(Clone, Debug, Default)]
pub(crate) struct ArnContext {
    pub prefix: String,
    /// `*` when unknown (IAM accepts a wildcard account).
    pub account: String,
    /// `*` when unknown.
    pub region: String,
}

impl ArnContext {
    pub(crate) fn new(prefix: &str, account: Option<&str>, region: Option<&str>) -> Self {
        let or_star = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|s| !s.is_empty())
                .unwrap_or("*")
                .to_string()
        };
        ArnContext {
            prefix: prefix.to_string(),
            account: or_star(account),
            region: or_star(region),
        }
    }
}

/// The ARN template of a service's resource type (`s3`, `object`).
pub(crate) fn template(service: &str, resource_type: &str) -> Option<&'static str> {
    TEMPLATES
        .iter()
        .find(|(s, r, _)| *s == service && r.eq_ignore_ascii_case(resource_type))
        .map(|(_, _, t)| *t)
}

/// Fills a template for one exact name.
pub(crate) fn exact(template: &str, name: &str, ctx: &ArnContext) -> String {
    template
        .replace("{name}", name)
        .replace("{prefix}", &ctx.prefix)
        .replace("{account}", &ctx.account)
        .replace("{region}", &ctx.region)
}

/// Whether the type's identifiers are generated (so not `{prefix}-*`).
pub(crate) fn generated_ids(service: &str, resource_type: &str) -> bool {
    GENERATED_IDS
        .iter()
        .any(|(s, r)| *s == service && r.eq_ignore_ascii_case(resource_type))
}

/// Fills a template for every resource the project names (`{prefix}-*`),
/// or every resource of the type where names are generated ids.
pub(crate) fn project_scoped(
    service: &str,
    resource_type: &str,
    template: &str,
    ctx: &ArnContext,
) -> String {
    let name = if generated_ids(service, resource_type) {
        "*".to_string()
    } else if service == "logs" {
        // Log groups are often paths (`/aws/lambda/synthcoreai-...`).
        format!("*{}-*", ctx.prefix)
    } else {
        format!("{}-*", ctx.prefix)
    };
    exact(template, &name, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_exact_and_project_scoped() {
        let ctx = ArnContext::new("synthcoreai", Some("123456789012"), Some("us-east-1"));
        let obj = template("s3", "object").unwrap();
        assert_eq!(
            project_scoped("s3", "object", obj, &ctx),
            "arn:aws:s3:::synthcoreai-*/*"
        );
        assert_eq!(exact(obj, "docs", &ctx), "arn:aws:s3:::docs/*");
        let t = template("dynamodb", "table").unwrap();
        assert_eq!(
            exact(t, "users", &ctx),
            "arn:aws:dynamodb:us-east-1:123456789012:table/users"
        );
        let key = template("kms", "key").unwrap();
        assert_eq!(
            project_scoped("kms", "key", key, &ctx),
            "arn:aws:kms:us-east-1:123456789012:key/*"
        );
        let unknown = ArnContext::new("p", None, Some(" "));
        assert_eq!(exact(t, "x", &unknown), "arn:aws:dynamodb:*:*:table/x");
        assert!(template("s3", "nosuchtype").is_none());
        assert_eq!(
            template("secretsmanager", "Secret").map(|t| t.contains("-*")),
            Some(true)
        );
    }
}
