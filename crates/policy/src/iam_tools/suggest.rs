//! `suggest`: a capability phrase and the resources it touches → the
//! minimal policy document, named by the convention.
//!
//! Resources are scoped to exactly what was given (a name becomes the ARN of
//! that resource; an ARN is used as it is) or, when nothing was given, to
//! the project's naming pattern (`arn:aws:s3:::synthcoreai-*/*`, as in the
//! seed). A phrase no capability matches is answered with
//! [`Suggestion::Unknown`] listing what is known; a phrase two capabilities
//! match equally well with [`Suggestion::Ambiguous`]. Neither ever falls
//! back to a wildcard.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::arns::{self, ArnContext};
use super::catalog::{self, CAPABILITIES, Capability, CapabilityInfo};

/// What is asked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestRequest {
    /// A phrase ("upload files to S3") or a capability id (`s3-file-upload`).
    pub capability: String,
    /// Names or ARNs of the resources it touches (bucket, table, identity...).
    /// Empty: every resource the project's naming pattern covers.
    #[serde(default)]
    pub resources: Vec<String>,
}

/// Where names and ARNs come from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuggestContext {
    /// `SynthCoreAI`: policy names are `{iam_prefix}-{Service}-{Actions}`.
    pub iam_prefix: String,
    /// `synthcoreai`: resource names are `{prefix}-...`.
    pub prefix: String,
    /// The account id for ARNs; `*` when unknown.
    pub account: Option<String>,
    /// The region for ARNs; `*` when unknown.
    pub region: Option<String>,
}

/// The minimal policy for a capability.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuggestedPolicy {
    /// The capability id (`s3-file-upload`).
    pub capability: String,
    pub title: String,
    /// `SynthCoreAI-S3-FileUpload`.
    pub policy_name: String,
    /// The IAM policy document.
    pub document: Value,
    /// Every action granted, as written in the document.
    pub actions: Vec<String>,
    /// Every resource ARN the document names.
    pub resources: Vec<String>,
    /// The words of the phrase that selected the capability.
    pub matched: Vec<String>,
    pub notes: Vec<String>,
}

/// The answer of [`suggest`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Suggestion {
    Known(SuggestedPolicy),
    /// No capability matches: nothing is suggested.
    Unknown {
        capability: String,
        message: String,
        known: Vec<CapabilityInfo>,
    },
    /// Several match equally well: the caller must pick one by id.
    Ambiguous {
        capability: String,
        message: String,
        candidates: Vec<CapabilityInfo>,
    },
}

impl Suggestion {
    /// The policy, when one was suggested.
    pub fn policy(&self) -> Option<&SuggestedPolicy> {
        match self {
            Suggestion::Known(p) => Some(p),
            _ => None,
        }
    }
}

/// Suggests the minimal policy for a capability.
pub fn suggest(req: &SuggestRequest, ctx: &SuggestContext) -> Suggestion {
    let phrase = req.capability.trim();
    if let Some(c) = catalog::capability(phrase) {
        return Suggestion::Known(build(c, vec![c.id.to_string()], &req.resources, ctx));
    }
    let words = catalog::words(phrase);
    let mut scored: Vec<((usize, usize), &Capability)> = CAPABILITIES
        .iter()
        .filter_map(|c| catalog::score(c, &words).map(|s| (s, c)))
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    match scored.as_slice() {
        [] => Suggestion::Unknown {
            capability: phrase.to_string(),
            message: format!(
                "no known capability matches `{phrase}`: name the service and what it should do (for example \"upload files to S3\"), or pick one of the capabilities listed by id; nothing was guessed"
            ),
            known: catalog::capabilities(),
        },
        [(best, _), (second, _), ..] if best == second => {
            let candidates: Vec<CapabilityInfo> = scored
                .iter()
                .filter(|(s, _)| s == best)
                .map(|(_, c)| c.info())
                .collect();
            Suggestion::Ambiguous {
                capability: phrase.to_string(),
                message: format!(
                    "`{phrase}` matches {} capabilities equally well ({}): ask again with one of their ids",
                    candidates.len(),
                    candidates
                        .iter()
                        .map(|c| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                candidates,
            }
        }
        [(_, c), ..] => {
            let matched = words
                .iter()
                .filter(|w| {
                    c.service_words
                        .iter()
                        .chain(c.verb_groups.iter().flat_map(|g| g.iter()))
                        .any(|k| *k == w.as_str())
                })
                .cloned()
                .collect();
            Suggestion::Known(build(c, matched, &req.resources, ctx))
        }
    }
}

fn build(
    c: &Capability,
    matched: Vec<String>,
    resources: &[String],
    ctx: &SuggestContext,
) -> SuggestedPolicy {
    let arn_ctx = ArnContext::new(&ctx.prefix, ctx.account.as_deref(), ctx.region.as_deref());
    let given: Vec<&str> = resources
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .collect();
    let mut notes: Vec<String> = c.note.map(|n| vec![n.to_string()]).unwrap_or_default();
    let mut statements = Vec::new();
    let mut all_actions = Vec::new();
    let mut all_resources = Vec::new();
    for s in c.statements {
        let (service, rtype) = s.resource;
        let Some(template) = arns::template(service, rtype) else {
            continue;
        };
        let arns: Vec<String> = if given.is_empty() {
            vec![arns::project_scoped(service, rtype, template, &arn_ctx)]
        } else {
            given
                .iter()
                .map(|r| resource_arn(r, service, rtype, template, &arn_ctx))
                .collect()
        };
        let mut st = json!({
            "Effect": "Allow",
            "Action": s.actions,
            "Resource": if arns.len() == 1 { json!(arns[0]) } else { json!(arns) },
        });
        if given.is_empty()
            && let Some((op, key, value)) = c.default_condition
        {
            st["Condition"] = json!({ op: { key: value.replace("{prefix}", &ctx.prefix) } });
        }
        for a in s.actions {
            if !all_actions.iter().any(|x: &String| x == a) {
                all_actions.push(a.to_string());
            }
        }
        for r in &arns {
            if !all_resources.contains(r) {
                all_resources.push(r.clone());
            }
        }
        statements.push(st);
    }
    if given.is_empty() {
        let generated = c
            .statements
            .first()
            .is_some_and(|s| arns::generated_ids(s.resource.0, s.resource.1));
        notes.push(if generated {
            format!(
                "no {} given: scoped to every one in the account, since their ARNs carry ids or names the project does not choose (pass the exact {} to narrow it)",
                c.resource_kind, c.resource_kind
            )
        } else {
            format!(
                "no {} given: scoped to every resource named {}-* (pass the exact {} to narrow it)",
                c.resource_kind, ctx.prefix, c.resource_kind
            )
        });
    }
    if ctx.account.is_none() {
        notes.push("account id unknown: ARNs use `*` for the account".into());
    }
    SuggestedPolicy {
        capability: c.id.into(),
        title: c.title.into(),
        policy_name: format!("{}-{}", ctx.iam_prefix, c.name_suffix),
        document: json!({"Version": "2012-10-17", "Statement": statements}),
        actions: all_actions,
        resources: all_resources,
        matched,
        notes,
    }
}

/// The ARN of a given resource for one statement: an ARN of the same
/// service is adapted to the statement's resource type (a bucket ARN
/// becomes its objects' ARN), a name is put into the template.
fn resource_arn(
    given: &str,
    service: &str,
    rtype: &str,
    template: &str,
    ctx: &ArnContext,
) -> String {
    if let Some(rest) = given.strip_prefix("arn:") {
        if service == "s3" {
            // `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/*`: take the bucket.
            let bucket = rest
                .rsplit(':')
                .next()
                .unwrap_or(rest)
                .split('/')
                .next()
                .unwrap_or_default();
            return arns::exact(template, bucket, ctx);
        }
        if service == "dynamodb" && rtype == "index" {
            return format!("{}/index/*", given.split("/index/").next().unwrap_or(given));
        }
        if service == "logs" && rtype == "log-stream" && !given.contains(":log-stream:") {
            return format!("{}:log-stream:*", given.trim_end_matches(":*"));
        }
        return given.to_string();
    }
    arns::exact(template, given, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> SuggestContext {
        SuggestContext {
            iam_prefix: "SynthCoreAI".into(),
            prefix: "synthcoreai".into(),
            account: Some("123456789012".into()),
            region: Some("us-east-1".into()),
        }
    }

    fn ask(phrase: &str, resources: &[&str]) -> Suggestion {
        suggest(
            &SuggestRequest {
                capability: phrase.into(),
                resources: resources.iter().map(|s| s.to_string()).collect(),
            },
            &ctx(),
        )
    }

    #[test]
    fn the_seeds_file_upload_example_comes_out_as_written() {
        let s = ask("I need to add file upload to S3", &[]);
        let p = s.policy().expect("known");
        assert_eq!(p.policy_name, "SynthCoreAI-S3-FileUpload");
        assert_eq!(
            p.document,
            json!({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:GetObject"],
                "Resource": "arn:aws:s3:::synthcoreai-*/*"
            }]})
        );
    }

    #[test]
    fn exact_resources_replace_the_pattern() {
        let p = ask("read the users table", &["synthcoreai-users-dev"]);
        let p = p.policy().unwrap();
        assert_eq!(p.capability, "dynamodb-read");
        assert_eq!(
            p.resources,
            [
                "arn:aws:dynamodb:us-east-1:123456789012:table/synthcoreai-users-dev",
                "arn:aws:dynamodb:us-east-1:123456789012:table/synthcoreai-users-dev/index/*"
            ]
        );
        let arn = ask("upload files to s3", &["arn:aws:s3:::my-bucket"]);
        assert_eq!(
            arn.policy().unwrap().resources,
            ["arn:aws:s3:::my-bucket/*"]
        );
    }

    #[test]
    fn unknown_and_ambiguous_phrases_suggest_nothing() {
        match ask("launch a rocket", &[]) {
            Suggestion::Unknown { known, message, .. } => {
                assert_eq!(known.len(), CAPABILITIES.len());
                assert!(message.contains("launch a rocket"));
            }
            other => panic!("{other:?}"),
        }
        match ask("send email notifications", &[]) {
            Suggestion::Ambiguous { candidates, .. } => {
                let ids: Vec<&str> = candidates.iter().map(|c| c.id.as_str()).collect();
                assert_eq!(ids, ["ses-send", "sns-publish"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn kms_without_a_key_is_scoped_by_alias() {
        let p = ask("encrypt and decrypt with kms", &[]);
        let p = p.policy().unwrap();
        assert_eq!(p.capability, "kms-encrypt-decrypt");
        assert_eq!(
            p.document["Statement"][0]["Condition"],
            json!({"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/synthcoreai-*"}})
        );
        let exact = ask("kms-decrypt", &["1234abcd-12ab-34cd-56ef-1234567890ab"]);
        assert!(
            exact.policy().unwrap().document["Statement"][0]
                .get("Condition")
                .is_none()
        );
    }
}
