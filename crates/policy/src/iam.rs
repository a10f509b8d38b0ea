//! IAM policy document analysis shared by the IAM and resource-policy rules.
//!
//! [`documents`] finds the policy documents of a resource (a managed policy's
//! `PolicyDocument`, a role's inline `Policies[*].PolicyDocument`, a bucket
//! policy...), [`parse_document`] reads their statements (a single statement
//! object or a list; `Action`/`NotAction`; a document written as a JSON string),
//! and [`Grants`] expands wildcards against the embedded action list to answer
//! "which actions does this policy allow without a resource constraint".
//!
//! The access-level classes used by the write and permissions-management rules
//! ([`access_level`], [`is_permissions_management`]) are derived from the action's
//! verb, because the embedded data lists actions and their resource types but
//! not AWS's access levels. That is an approximation; the rules that use it say
//! so in their remediation and the comparison with Checkov measures it.

use serde_json::Value;

use crate::data::{self, IamAction};
use crate::value::{Val, intrinsic_name, string_list};

/// A policy document of a resource: where it is and its value.
pub(crate) struct DocRef<'a> {
    /// Path from the resource entry (`Properties/Policies/0/PolicyDocument`).
    pub path: String,
    pub value: &'a Value,
}

/// Identity-policy documents: managed and inline policies.
pub(crate) fn documents<'a>(type_name: &str, props: &'a Value) -> Vec<DocRef<'a>> {
    let mut out = Vec::new();
    match type_name {
        "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => {
            if let Some(v) = props.get("PolicyDocument") {
                out.push(DocRef {
                    path: "Properties/PolicyDocument".into(),
                    value: v,
                });
            }
        }
        "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => {
            if let Some(Value::Array(policies)) = props.get("Policies") {
                for (i, p) in policies.iter().enumerate() {
                    if let Some(v) = p.get("PolicyDocument") {
                        out.push(DocRef {
                            path: format!("Properties/Policies/{i}/PolicyDocument"),
                            value: v,
                        });
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// One statement, with everything a rule needs and owned so a document given
/// as a JSON string works the same as an object.
#[derive(Clone, Debug, Default)]
pub(crate) struct Statement {
    /// Path from the resource entry (`.../Statement/0`).
    pub path: String,
    /// `Some(true)` Allow, `Some(false)` Deny, `None` unknown.
    pub allow: Option<bool>,
    /// `Action` (or `NotAction` when `not_action`); lower-cased.
    pub actions: Vec<String>,
    /// The original spelling of each action, for messages.
    pub actions_raw: Vec<String>,
    /// Whether `Action` was a list (for paths to one element).
    pub actions_is_list: bool,
    pub not_action: bool,
    pub resources: Vec<String>,
    pub not_resource: bool,
    pub has_condition: bool,
    pub principal: Option<Value>,
    /// Why part of the statement cannot be read (an intrinsic), if so.
    pub unknown: Option<String>,
}

impl Statement {
    pub(crate) fn action_key(&self) -> &'static str {
        if self.not_action {
            "NotAction"
        } else {
            "Action"
        }
    }

    /// Path to the `i`th action (or the whole `Action` when it is a string).
    pub(crate) fn action_path(&self, i: usize) -> String {
        if self.actions_is_list {
            format!("{}/{}/{i}", self.path, self.action_key())
        } else {
            format!("{}/{}", self.path, self.action_key())
        }
    }

    pub(crate) fn resource_is_star(&self) -> bool {
        !self.not_resource && self.resources.iter().any(|r| r == "*")
    }
}

/// Reads a policy document. `Err` says why it cannot be read (an intrinsic
/// builds it, or a string that is not JSON).
pub(crate) fn parse_document(value: &Value, path: &str) -> Result<Vec<Statement>, String> {
    let owned;
    let doc = match Val::of(value) {
        Val::Known(Value::String(s)) => {
            owned = serde_json::from_str::<Value>(s)
                .map_err(|e| format!("the policy document is a string that is not JSON ({e})"))?;
            &owned
        }
        Val::Known(v) => v,
        Val::Unknown(name) => return Err(format!("the policy document is built by {name}")),
        Val::Absent => return Ok(Vec::new()),
    };
    let statements = match doc.get("Statement").map(Val::of) {
        None | Some(Val::Absent) => return Ok(Vec::new()),
        Some(Val::Unknown(name)) => return Err(format!("`Statement` is built by {name}")),
        Some(Val::Known(v)) => v,
    };
    match statements {
        Value::Array(items) => Ok(items
            .iter()
            .enumerate()
            .map(|(i, s)| read_statement(s, format!("{path}/Statement/{i}")))
            .collect()),
        Value::Object(_) => Ok(vec![read_statement(
            statements,
            format!("{path}/Statement"),
        )]),
        _ => Err("`Statement` is neither a statement nor a list of statements".into()),
    }
}

fn read_statement(s: &Value, path: String) -> Statement {
    let mut st = Statement {
        path,
        ..Statement::default()
    };
    if let Some(name) = intrinsic_name(s) {
        st.unknown = Some(format!("the statement is built by {name}"));
        return st;
    }
    st.allow = match Val::at(s, &["Effect"]) {
        Val::Known(Value::String(e)) if e == "Allow" => Some(true),
        Val::Known(Value::String(e)) if e == "Deny" => Some(false),
        // IAM rejects a statement without Effect; treat it as unknown.
        Val::Unknown(name) => {
            st.unknown = Some(format!("`Effect` is built by {name}"));
            None
        }
        _ => None,
    };
    let (key, not_action) = if s.get("NotAction").is_some() {
        ("NotAction", true)
    } else {
        ("Action", false)
    };
    st.not_action = not_action;
    if let Some(a) = s.get(key) {
        st.actions_is_list = matches!(Val::of(a), Val::Known(Value::Array(_)));
        match string_list(a) {
            Ok(list) => {
                st.actions = list.iter().map(|x| x.to_ascii_lowercase()).collect();
                st.actions_raw = list.iter().map(|x| x.to_string()).collect();
            }
            Err(name) => st.unknown = Some(format!("`{key}` is built by {name}")),
        }
    }
    let (rkey, not_resource) = if s.get("NotResource").is_some() {
        ("NotResource", true)
    } else {
        ("Resource", false)
    };
    st.not_resource = not_resource;
    if let Some(r) = s.get(rkey) {
        match string_list(r) {
            Ok(list) => st.resources = list.iter().map(|x| x.to_string()).collect(),
            // A resource built by Fn::Sub or GetAtt is a specific ARN, never
            // the bare "*": treat it as a constraint.
            Err(_) => st.resources = vec!["<intrinsic>".into()],
        }
    }
    st.has_condition = s.get("Condition").is_some_and(|c| !c.is_null());
    st.principal = s
        .get("Principal")
        .or_else(|| s.get("NotPrincipal"))
        .cloned();
    st
}

/// Glob match of an IAM action pattern (`*`, `?`) against a lower-case name.
pub(crate) fn glob(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// The known actions a lower-case pattern matches.
pub(crate) fn expand(pattern: &str) -> Vec<IamAction> {
    let literal_prefix = pattern.split(['*', '?']).next().unwrap_or("");
    if literal_prefix.len() == pattern.len() {
        return data::iam_action(pattern).into_iter().collect();
    }
    data::iam_actions_with_prefix(literal_prefix)
        .iter()
        .filter(|a| glob(pattern, a.name))
        .copied()
        .collect()
}

/// Why an action in a policy does not exist, or `None` when it does.
pub(crate) fn unknown_action(raw: &str) -> Option<String> {
    if raw == "*" {
        return None;
    }
    let lower = raw.to_ascii_lowercase();
    let Some((service, action)) = lower.split_once(':') else {
        return Some(format!(
            "`{raw}` is not an IAM action: write it as service:Action (for example s3:GetObject)"
        ));
    };
    if service.contains(['*', '?']) {
        // A wildcard service prefix matches across services; judge by the
        // expansion.
        return expand(&lower)
            .is_empty()
            .then(|| format!("`{raw}` matches no IAM action"));
    }
    if !data::iam_service_exists(service) {
        return Some(format!(
            "`{raw}`: there is no IAM service prefix `{service}`"
        ));
    }
    if action.is_empty() || expand(&lower).is_empty() {
        return Some(if action.contains(['*', '?']) {
            format!("`{raw}` matches no action of service `{service}`")
        } else {
            format!("`{raw}`: service `{service}` has no action `{action}`")
        });
    }
    None
}

/// A set of IAM actions as bits over the embedded action list: "*" is 22,000
/// actions, and sets of that size must stay cheap to build and query.
#[derive(Clone, Debug, Default)]
pub(crate) struct ActionSet(Vec<u64>);

impl ActionSet {
    fn new() -> Self {
        ActionSet(vec![0; data::iam_actions().len().div_ceil(64)])
    }

    fn insert(&mut self, i: usize) -> bool {
        let (w, b) = (i / 64, 1u64 << (i % 64));
        let fresh = self.0[w] & b == 0;
        self.0[w] |= b;
        fresh
    }

    fn contains(&self, i: usize) -> bool {
        self.0
            .get(i / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    fn fill(&mut self) {
        let n = data::iam_actions().len();
        for (w, word) in self.0.iter_mut().enumerate() {
            let left = n.saturating_sub(w * 64);
            *word = if left >= 64 {
                u64::MAX
            } else {
                (1u64 << left) - 1
            };
        }
    }

    fn add_all(&mut self, other: &ActionSet) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    fn remove_all(&mut self, other: &ActionSet) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= !b;
        }
    }

    /// The indices in the set, ascending.
    pub(crate) fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, bits)| {
            let bits = *bits;
            (0..64)
                .filter(move |b| bits & (1u64 << b) != 0)
                .map(move |b| w * 64 + b)
        })
    }
}

/// What a set of statements allows without a resource constraint.
#[derive(Debug, Default)]
pub(crate) struct Grants {
    /// Allowed with no condition, and either on `Resource: "*"` or an action
    /// that cannot be scoped to a resource at all.
    unconstrained: ActionSet,
    /// Actions that could be scoped to a resource but are allowed on `*`
    /// without a condition.
    scopable_on_star: ActionSet,
    /// Statements whose parts are intrinsics: the grants may be larger.
    pub unknown: Option<String>,
}

impl Grants {
    pub(crate) fn of(statements: &[Statement]) -> Grants {
        let all = data::iam_actions();
        let mut g = Grants {
            unconstrained: ActionSet::new(),
            scopable_on_star: ActionSet::new(),
            unknown: None,
        };
        let mut denied = ActionSet::new();
        for st in statements {
            if let Some(why) = &st.unknown {
                g.unknown.get_or_insert_with(|| why.clone());
                continue;
            }
            // "Action": "*" is every action: set whole words instead of
            // walking 22,000 entries.
            let every = !st.not_action && st.actions.iter().any(|a| a == "*");
            if every && st.allow == Some(true) && !st.has_condition {
                if st.resource_is_star() || st.not_resource {
                    g.unconstrained.fill();
                    g.scopable_on_star.add_all(scopable());
                } else {
                    let mut unscopable = ActionSet::new();
                    unscopable.fill();
                    unscopable.remove_all(scopable());
                    g.unconstrained.add_all(&unscopable);
                }
                continue;
            }
            let matched = matched_actions(st);
            match st.allow {
                Some(true) if !st.has_condition => {
                    let star = st.resource_is_star() || st.not_resource;
                    for i in matched {
                        let scopable = all[i].takes_resources();
                        if star {
                            g.unconstrained.insert(i);
                            if scopable {
                                g.scopable_on_star.insert(i);
                            }
                        } else if !scopable {
                            g.unconstrained.insert(i);
                        }
                    }
                }
                Some(false) if !st.has_condition && st.resource_is_star() => {
                    for i in matched {
                        denied.insert(i);
                    }
                }
                _ => {}
            }
        }
        g.unconstrained.remove_all(&denied);
        g.scopable_on_star.remove_all(&denied);
        g
    }

    /// Whether a lower-case action is allowed without a constraint.
    pub(crate) fn allows(&self, action: &str) -> bool {
        data::iam_action_index(action).is_some_and(|i| self.unconstrained.contains(i))
    }

    /// Scopable actions allowed on every resource, as indices into the
    /// action list.
    pub(crate) fn scopable_on_star_indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.scopable_on_star.indices()
    }
}

/// The actions that can be scoped to a resource, computed once.
fn scopable() -> &'static ActionSet {
    static SCOPABLE: std::sync::OnceLock<ActionSet> = std::sync::OnceLock::new();
    SCOPABLE.get_or_init(|| {
        let mut set = ActionSet::new();
        for (i, a) in data::iam_actions().iter().enumerate() {
            if a.takes_resources() {
                set.insert(i);
            }
        }
        set
    })
}

/// Indices of the known actions a statement's `Action` (or, for
/// `NotAction`, everything else) covers, without duplicates.
fn matched_actions(st: &Statement) -> Vec<usize> {
    let mut seen = ActionSet::new();
    let mut out = Vec::new();
    if st.not_action {
        let mut excluded = ActionSet::new();
        for p in &st.actions {
            for i in expand_indices(p) {
                excluded.insert(i);
            }
        }
        out.extend((0..data::iam_actions().len()).filter(|i| !excluded.contains(*i)));
    } else {
        for p in &st.actions {
            for i in expand_indices(p) {
                if seen.insert(i) {
                    out.push(i);
                }
            }
        }
    }
    out
}

/// Indices of the known actions a lower-case pattern matches.
fn expand_indices(pattern: &str) -> Vec<usize> {
    let literal_prefix = pattern.split(['*', '?']).next().unwrap_or("");
    if literal_prefix.len() == pattern.len() {
        return data::iam_action_index(pattern).into_iter().collect();
    }
    let all = data::iam_actions();
    let range = data::iam_prefix_range(literal_prefix);
    // A trailing "*" after the literal prefix matches the whole range.
    if pattern.len() == literal_prefix.len() + 1 && pattern.ends_with('*') {
        return range.collect();
    }
    range.filter(|i| glob(pattern, all[*i].name)).collect()
}

/// The access level of an action, approximated from its verb (see the module
/// documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AccessLevel {
    ReadOrList,
    Tagging,
    PermissionsManagement,
    Write,
}

/// The access level of the `i`th action, computed once for all actions.
pub(crate) fn access_level(i: usize) -> AccessLevel {
    static LEVELS: std::sync::OnceLock<Vec<AccessLevel>> = std::sync::OnceLock::new();
    let levels = LEVELS.get_or_init(|| {
        data::iam_actions()
            .iter()
            .map(|a| {
                if is_read_or_list(a.name) {
                    AccessLevel::ReadOrList
                } else if is_tagging(a.name) {
                    AccessLevel::Tagging
                } else if is_permissions_management(a.name) {
                    AccessLevel::PermissionsManagement
                } else {
                    AccessLevel::Write
                }
            })
            .collect()
    });
    levels.get(i).copied().unwrap_or(AccessLevel::ReadOrList)
}

/// The verb of an action (`putbucketpolicy` for `s3:PutBucketPolicy`).
fn verb(action: &str) -> &str {
    action.split_once(':').map_or(action, |(_, v)| v)
}

fn is_read_or_list(action: &str) -> bool {
    const READ: &[&str] = &[
        "get", "list", "describe", "head", "search", "query", "scan", "select", "batchget",
        "lookup", "view", "validate", "simulate", "check", "estimate", "preview", "receive",
        "download", "filter", "test",
    ];
    let v = verb(action);
    READ.iter().any(|p| v.starts_with(p))
}

fn is_tagging(action: &str) -> bool {
    let v = verb(action);
    v.starts_with("tag") || v.starts_with("untag")
}

/// Changes who may do what: IAM identities and credentials, and resource
/// policies, ACLs, permissions and grants of other services.
pub(crate) fn is_permissions_management(action: &str) -> bool {
    if is_read_or_list(action) || is_tagging(action) {
        return false;
    }
    let service = action.split_once(':').map_or("", |(s, _)| s);
    if service == "iam" || service == "sso" || service == "identitystore" {
        return true;
    }
    let v = verb(action);
    const MUTATING: &[&str] = &[
        "put", "delete", "set", "update", "create", "attach", "detach", "add", "remove", "revoke",
        "retire", "replace",
    ];
    MUTATING.iter().any(|p| v.starts_with(p))
        && ["policy", "policies", "acl", "permission", "grant"]
            .iter()
            .any(|w| v.contains(w))
}

/// Privilege-escalation paths from public research (Rhino Security Labs):
/// each is a set of actions that together let a principal raise its own
/// privileges.
pub(crate) const ESCALATIONS: &[(&str, &[&str])] = &[
    (
        "create an access key for another user",
        &["iam:createaccesskey"],
    ),
    (
        "set a console password for another user",
        &["iam:createloginprofile"],
    ),
    (
        "change another user's console password",
        &["iam:updateloginprofile"],
    ),
    ("join a more privileged group", &["iam:addusertogroup"]),
    (
        "publish a new version of a managed policy",
        &["iam:createpolicyversion"],
    ),
    (
        "switch a policy to an older version",
        &["iam:setdefaultpolicyversion"],
    ),
    ("attach any policy to a user", &["iam:attachuserpolicy"]),
    ("attach any policy to a group", &["iam:attachgrouppolicy"]),
    (
        "attach any policy to a role and assume it",
        &["iam:attachrolepolicy", "sts:assumerole"],
    ),
    ("write an inline policy on a user", &["iam:putuserpolicy"]),
    ("write an inline policy on a group", &["iam:putgrouppolicy"]),
    (
        "write an inline policy on a role and assume it",
        &["iam:putrolepolicy", "sts:assumerole"],
    ),
    (
        "rewrite a role's trust policy and assume it",
        &["iam:updateassumerolepolicy", "sts:assumerole"],
    ),
    (
        "pass a role to a new EC2 instance",
        &["iam:passrole", "ec2:runinstances"],
    ),
    (
        "pass a role to a new Lambda function and invoke it",
        &[
            "iam:passrole",
            "lambda:createfunction",
            "lambda:invokefunction",
        ],
    ),
    (
        "pass a role to a new Lambda function triggered by a stream",
        &[
            "iam:passrole",
            "lambda:createfunction",
            "lambda:createeventsourcemapping",
        ],
    ),
    (
        "pass a role to a new Glue dev endpoint",
        &["iam:passrole", "glue:createdevendpoint"],
    ),
    (
        "pass a role to a new CloudFormation stack",
        &["iam:passrole", "cloudformation:createstack"],
    ),
    (
        "pass a role to a new Data Pipeline",
        &["iam:passrole", "datapipeline:createpipeline"],
    ),
    (
        "update an existing Glue dev endpoint",
        &["glue:updatedevendpoint"],
    ),
    (
        "replace the code of a Lambda function that has a role",
        &["lambda:updatefunctioncode"],
    ),
];

/// Actions whose response contains credentials, keys or tokens.
/// `ecr:GetAuthorizationToken` is left out: every image pull needs it and it
/// only grants what the caller's policy already allows.
pub(crate) const CREDENTIAL_ACTIONS: &[&str] = &[
    "appsync:createapikey",
    "cloud9:createenvironmenttoken",
    "codeartifact:getauthorizationtoken",
    "cognito-identity:getcredentialsforidentity",
    "cognito-identity:getopenidtoken",
    "cognito-identity:getopenidtokenfordeveloperidentity",
    "connect:getfederationtoken",
    "ec2:getpassworddata",
    "ecr-public:getauthorizationtoken",
    "gamelift:getinstanceaccess",
    "gamelift:requestuploadcredentials",
    "iam:createaccesskey",
    "iam:createloginprofile",
    "iam:createservicespecificcredential",
    "iam:resetservicespecificcredential",
    "iam:updateaccesskey",
    "lightsail:createbucketaccesskey",
    "lightsail:downloaddefaultkeypair",
    "lightsail:getinstanceaccessdetails",
    "lightsail:getrelationaldatabasemasteruserpassword",
    "mediapackage:rotatechannelcredentials",
    "mediapackage:rotateingestendpointcredentials",
    "rds-db:connect",
    "redshift:getclustercredentials",
    "redshift:getclustercredentialswithiam",
    "redshift-serverless:getcredentials",
    "sso:getrolecredentials",
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:getfederationtoken",
    "sts:getsessiontoken",
];

/// Read actions that hand out data or secrets in bulk when not scoped.
pub(crate) const EXFILTRATION_ACTIONS: &[&str] = &[
    "s3:getobject",
    "secretsmanager:getsecretvalue",
    "ssm:getparameter",
    "ssm:getparameters",
    "ssm:getparametersbypath",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn glob_matches_iam_wildcards() {
        assert!(glob("s3:get*", "s3:getobject"));
        assert!(glob("*", "s3:getobject"));
        assert!(glob("s3:?etobject", "s3:getobject"));
        assert!(!glob("s3:put*", "s3:getobject"));
        assert!(glob("*:getobject", "s3:getobject"));
    }

    #[test]
    fn unknown_actions_are_named() {
        assert!(unknown_action("s3:GetObject").is_none());
        assert!(unknown_action("s3:Get*").is_none());
        assert!(unknown_action("*").is_none());
        assert!(
            unknown_action("s3:GetObjects")
                .unwrap()
                .contains("no action")
        );
        assert!(
            unknown_action("s4:GetObject")
                .unwrap()
                .contains("service prefix")
        );
        assert!(
            unknown_action("s3:Frob*")
                .unwrap()
                .contains("matches no action")
        );
        assert!(
            unknown_action("GetObject")
                .unwrap()
                .contains("service:Action")
        );
    }

    #[test]
    fn documents_parse_single_statements_strings_and_intrinsics() {
        let one =
            json!({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}});
        let st = parse_document(&one, "Properties/PolicyDocument").unwrap();
        assert_eq!(st.len(), 1);
        assert_eq!(st[0].path, "Properties/PolicyDocument/Statement");
        assert_eq!(st[0].allow, Some(true));
        assert!(st[0].resource_is_star());
        let s = json!(
            "{\"Statement\":[{\"Effect\":\"Deny\",\"NotAction\":[\"iam:*\"],\"Resource\":\"*\"}]}"
        );
        let st = parse_document(&s, "P").unwrap();
        assert_eq!(st[0].allow, Some(false));
        assert!(st[0].not_action);
        assert!(parse_document(&json!({"Fn::If": ["c", {}, {}]}), "P").is_err());
        let with_ref =
            json!({"Statement": [{"Effect": "Allow", "Action": [{"Ref": "A"}], "Resource": "*"}]});
        assert!(parse_document(&with_ref, "P").unwrap()[0].unknown.is_some());
    }

    #[test]
    fn grants_separate_constrained_and_unconstrained() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListAllMyBuckets"], "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Allow", "Action": "ses:SendEmail", "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}
        ]});
        let g = Grants::of(&parse_document(&doc, "P").unwrap());
        assert!(!g.allows("s3:getobject"));
        assert!(
            g.allows("s3:listallmybuckets"),
            "cannot be scoped, so unconstrained"
        );
        assert!(g.allows("ses:sendemail"));
        let send = data::iam_action_index("ses:sendemail").unwrap();
        assert!(g.scopable_on_star_indices().any(|i| i == send));
        assert!(!g.allows("iam:passrole"), "conditioned");
    }

    #[test]
    fn deny_statements_remove_grants() {
        let doc = json!({"Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}
        ]});
        let g = Grants::of(&parse_document(&doc, "P").unwrap());
        assert!(g.allows("s3:putobject"));
        assert!(!g.allows("s3:getobject"));
    }

    #[test]
    fn access_levels_follow_the_verb() {
        assert!(is_permissions_management("s3:putbucketpolicy"));
        assert!(is_permissions_management("iam:attachrolepolicy"));
        assert!(!is_permissions_management("iam:getrole"));
        let level = |a: &str| access_level(data::iam_action_index(a).unwrap());
        assert_eq!(level("s3:putobject"), AccessLevel::Write);
        assert_eq!(level("ses:sendemail"), AccessLevel::Write);
        assert_eq!(level("s3:getobject"), AccessLevel::ReadOrList);
        assert_eq!(level("s3:tagresource"), AccessLevel::Tagging);
        assert_eq!(level("s3:putbucketacl"), AccessLevel::PermissionsManagement);
    }
}
