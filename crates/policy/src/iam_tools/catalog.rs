//! The capability table behind `infraguard iam suggest`: what a workload
//! wants to do ("upload files to S3"), the least actions that do it, the
//! resources they act on, and the conventional policy name.
//!
//! Matching is by keywords, deliberately simple and predictable: a
//! capability matches a phrase when the phrase names its service (one of
//! `service_words`) and every one of its verb groups (one word of each).
//! More verb groups matched beats fewer ("read and write the users table"
//! is read-write, not read-only); a tie is reported as ambiguous, never
//! resolved by guessing. Every action here is checked against the embedded
//! IAM action catalog by a test.

use serde::{Deserialize, Serialize};

/// One statement of a capability's policy.
#[derive(Clone, Copy, Debug)]
pub struct CapabilityStatement {
    /// Actions, spelt as AWS documents them.
    pub actions: &'static [&'static str],
    /// `(service, resource type)` of the ARN the actions act on (see the
    /// ARN templates).
    pub resource: (&'static str, &'static str),
}

/// One capability.
#[derive(Clone, Copy, Debug)]
pub struct Capability {
    /// Stable id (`s3-file-upload`), also accepted as the phrase itself.
    pub id: &'static str,
    /// What it lets a workload do, in a sentence.
    pub title: &'static str,
    /// Policy name without the IAM prefix: `S3-FileUpload`.
    pub name_suffix: &'static str,
    /// What the resources given to `suggest` are (`bucket name`).
    pub resource_kind: &'static str,
    /// Words that name the service in a phrase (after plural stripping).
    pub service_words: &'static [&'static str],
    /// Each group must have one word in the phrase.
    pub verb_groups: &'static [&'static [&'static str]],
    pub statements: &'static [CapabilityStatement],
    /// A condition added when no exact resource is given, as
    /// `(operator, key, value template)`: for KMS keys, whose ARNs carry
    /// ids, not names, the project scope is the alias.
    pub default_condition: Option<(&'static str, &'static str, &'static str)>,
    /// Said with every suggestion of it.
    pub note: Option<&'static str>,
}

/// A capability as listings show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityInfo {
    pub id: String,
    pub title: String,
    pub policy_suffix: String,
    pub resource_kind: String,
    pub actions: Vec<String>,
    /// Example phrases that select it.
    pub example: String,
}

impl Capability {
    pub fn info(&self) -> CapabilityInfo {
        CapabilityInfo {
            id: self.id.into(),
            title: self.title.into(),
            policy_suffix: self.name_suffix.into(),
            resource_kind: self.resource_kind.into(),
            actions: self.actions().into_iter().map(String::from).collect(),
            example: self.example(),
        }
    }

    /// Every action once, in statement order.
    pub fn actions(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for a in self
            .statements
            .iter()
            .flat_map(|s| s.actions.iter().copied())
        {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    }

    /// The service prefix of the first action (`s3`).
    pub fn service(&self) -> &'static str {
        self.statements
            .first()
            .map(|s| s.resource.0)
            .unwrap_or_default()
    }

    fn example(&self) -> String {
        let verbs: Vec<&str> = self
            .verb_groups
            .iter()
            .filter_map(|g| g.first().copied())
            .collect();
        format!(
            "{} {}",
            verbs.join(" and "),
            self.service_words.first().copied().unwrap_or_default()
        )
    }
}

const READ: &[&str] = &[
    "read", "get", "fetch", "download", "view", "retrieve", "list", "query", "load", "lookup",
];
const WRITE: &[&str] = &[
    "write", "upload", "put", "store", "save", "update", "modify", "insert", "delete", "change",
];
const S3: &[&str] = &["s3", "bucket", "object", "file", "upload", "download"];
const DYNAMODB: &[&str] = &["dynamodb", "dynamo", "table", "item", "record"];
const SES: &[&str] = &["ses", "email", "mail", "e-mail"];
const SQS: &[&str] = &["sqs", "queue"];
const SNS: &[&str] = &["sns", "topic", "notification"];
const KMS: &[&str] = &["kms", "key", "encryption"];
const LOGS: &[&str] = &["log", "logs", "cloudwatch"];
const COGNITO: &[&str] = &["cognito", "userpool", "pool"];

/// Every capability `suggest` knows.
pub const CAPABILITIES: &[Capability] = &[
    Capability {
        id: "s3-file-upload",
        title: "Upload files to S3 buckets and read them back",
        name_suffix: "S3-FileUpload",
        resource_kind: "bucket name",
        service_words: S3,
        verb_groups: &[&["upload", "put", "store", "save"]],
        statements: &[CapabilityStatement {
            actions: &["s3:PutObject", "s3:GetObject"],
            resource: ("s3", "object"),
        }],
        default_condition: None,
        note: None,
    },
    Capability {
        id: "s3-read",
        title: "List S3 buckets' objects and download them",
        name_suffix: "S3-ReadOnly",
        resource_kind: "bucket name",
        service_words: S3,
        verb_groups: &[READ],
        statements: &[
            CapabilityStatement {
                actions: &["s3:ListBucket"],
                resource: ("s3", "bucket"),
            },
            CapabilityStatement {
                actions: &["s3:GetObject"],
                resource: ("s3", "object"),
            },
        ],
        default_condition: None,
        note: None,
    },
    Capability {
        id: "s3-read-write",
        title: "List, read, write and delete objects in S3 buckets",
        name_suffix: "S3-ReadWrite",
        resource_kind: "bucket name",
        service_words: S3,
        verb_groups: &[READ, WRITE],
        statements: &[
            CapabilityStatement {
                actions: &["s3:ListBucket"],
                resource: ("s3", "bucket"),
            },
            CapabilityStatement {
                actions: &["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                resource: ("s3", "object"),
            },
        ],
        default_condition: None,
        note: None,
    },
    Capability {
        id: "ses-send",
        title: "Send email through SES",
        name_suffix: "SES-SendOnly",
        resource_kind: "verified identity (domain or address)",
        service_words: SES,
        verb_groups: &[&["send", "deliver"]],
        statements: &[CapabilityStatement {
            actions: &["ses:SendEmail", "ses:SendRawEmail"],
            resource: ("ses", "identity"),
        }],
        default_condition: None,
        note: Some(
            "SES checks the sending identity: give the verified domain or address to scope it further",
        ),
    },
    Capability {
        id: "ses-send-templated",
        title: "Send templated email (single and bulk) through SES",
        name_suffix: "SES-SendTemplated",
        resource_kind: "verified identity (domain or address)",
        service_words: SES,
        verb_groups: &[&["send", "deliver"], &["template", "templated", "bulk"]],
        statements: &[
            CapabilityStatement {
                actions: &["ses:SendTemplatedEmail", "ses:SendBulkTemplatedEmail"],
                resource: ("ses", "identity"),
            },
            CapabilityStatement {
                actions: &["ses:SendTemplatedEmail", "ses:SendBulkTemplatedEmail"],
                resource: ("ses", "template"),
            },
        ],
        default_condition: None,
        note: None,
    },
    Capability {
        id: "dynamodb-read",
        title: "Read items from DynamoDB tables (get, query, scan)",
        name_suffix: "DynamoDB-ReadOnly",
        resource_kind: "table name",
        service_words: DYNAMODB,
        verb_groups: &[READ],
        statements: &[
            CapabilityStatement {
                actions: &[
                    "dynamodb:GetItem",
                    "dynamodb:BatchGetItem",
                    "dynamodb:Query",
                    "dynamodb:Scan",
                    "dynamodb:DescribeTable",
                ],
                resource: ("dynamodb", "table"),
            },
            CapabilityStatement {
                actions: &["dynamodb:Query", "dynamodb:Scan"],
                resource: ("dynamodb", "index"),
            },
        ],
        default_condition: None,
        note: None,
    },
    Capability {
        id: "dynamodb-write",
        title: "Write items to DynamoDB tables (put, update, delete)",
        name_suffix: "DynamoDB-WriteOnly",
        resource_kind: "table name",
        service_words: DYNAMODB,
        verb_groups: &[WRITE],
        statements: &[CapabilityStatement {
            actions: &[
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem",
            ],
            resource: ("dynamodb", "table"),
        }],
        default_condition: None,
        note: None,
    },
    Capability {
        id: "dynamodb-read-write",
        title: "Read and write items of DynamoDB tables",
        name_suffix: "DynamoDB-ReadWrite",
        resource_kind: "table name",
        service_words: DYNAMODB,
        verb_groups: &[READ, WRITE],
        statements: &[
            CapabilityStatement {
                actions: &[
                    "dynamodb:GetItem",
                    "dynamodb:BatchGetItem",
                    "dynamodb:Query",
                    "dynamodb:Scan",
                    "dynamodb:DescribeTable",
                    "dynamodb:PutItem",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:BatchWriteItem",
                ],
                resource: ("dynamodb", "table"),
            },
            CapabilityStatement {
                actions: &["dynamodb:Query", "dynamodb:Scan"],
                resource: ("dynamodb", "index"),
            },
        ],
        default_condition: None,
        note: None,
    },
    Capability {
        id: "sqs-send",
        title: "Send messages to SQS queues",
        name_suffix: "SQS-SendOnly",
        resource_kind: "queue name",
        service_words: SQS,
        verb_groups: &[&["send", "enqueue", "push", "put", "publish"]],
        statements: &[CapabilityStatement {
            actions: &["sqs:SendMessage", "sqs:GetQueueUrl"],
            resource: ("sqs", "queue"),
        }],
        default_condition: None,
        note: None,
    },
    Capability {
        id: "sqs-consume",
        title: "Receive, process and delete messages from SQS queues",
        name_suffix: "SQS-Consume",
        resource_kind: "queue name",
        service_words: SQS,
        verb_groups: &[&["receive", "consume", "process", "poll", "read"]],
        statements: &[CapabilityStatement {
            actions: &[
                "sqs:ReceiveMessage",
                "sqs:DeleteMessage",
                "sqs:ChangeMessageVisibility",
                "sqs:GetQueueAttributes",
                "sqs:GetQueueUrl",
            ],
            resource: ("sqs", "queue"),
        }],
        default_condition: None,
        note: None,
    },
    Capability {
        id: "sns-publish",
        title: "Publish messages to SNS topics",
        name_suffix: "SNS-PublishOnly",
        resource_kind: "topic name",
        service_words: SNS,
        verb_groups: &[&["publish", "send", "notify", "push"]],
        statements: &[CapabilityStatement {
            actions: &["sns:Publish"],
            resource: ("sns", "topic"),
        }],
        default_condition: None,
        note: None,
    },
    Capability {
        id: "lambda-invoke",
        title: "Invoke Lambda functions",
        name_suffix: "Lambda-Execute",
        resource_kind: "function name",
        service_words: &["lambda", "function"],
        verb_groups: &[&["invoke", "call", "execute", "run", "trigger"]],
        statements: &[CapabilityStatement {
            actions: &["lambda:InvokeFunction"],
            resource: ("lambda", "function"),
        }],
        default_condition: None,
        note: None,
    },
    Capability {
        id: "secretsmanager-read",
        title: "Read secret values from Secrets Manager",
        name_suffix: "SecretsManager-ReadOnly",
        resource_kind: "secret name",
        service_words: &["secret", "secretsmanager", "credential", "password"],
        verb_groups: &[&["read", "get", "fetch", "retrieve", "use", "access", "load"]],
        statements: &[CapabilityStatement {
            actions: &[
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
            ],
            resource: ("secretsmanager", "Secret"),
        }],
        default_condition: None,
        note: None,
    },
    Capability {
        id: "kms-encrypt",
        title: "Encrypt data and generate data keys with KMS keys",
        name_suffix: "KMS-EncryptOnly",
        resource_kind: "key id",
        service_words: KMS,
        verb_groups: &[&["encrypt"]],
        statements: &[CapabilityStatement {
            actions: &["kms:Encrypt", "kms:GenerateDataKey"],
            resource: ("kms", "key"),
        }],
        default_condition: Some((
            "ForAnyValue:StringLike",
            "kms:ResourceAliases",
            "alias/{prefix}-*",
        )),
        note: Some(
            "KMS key ARNs carry ids, not names: without a key id the policy is scoped by the key's alias",
        ),
    },
    Capability {
        id: "kms-decrypt",
        title: "Decrypt data with KMS keys",
        name_suffix: "KMS-DecryptOnly",
        resource_kind: "key id",
        service_words: KMS,
        verb_groups: &[&["decrypt"]],
        statements: &[CapabilityStatement {
            actions: &["kms:Decrypt"],
            resource: ("kms", "key"),
        }],
        default_condition: Some((
            "ForAnyValue:StringLike",
            "kms:ResourceAliases",
            "alias/{prefix}-*",
        )),
        note: Some(
            "KMS key ARNs carry ids, not names: without a key id the policy is scoped by the key's alias",
        ),
    },
    Capability {
        id: "kms-encrypt-decrypt",
        title: "Encrypt and decrypt data with KMS keys",
        name_suffix: "KMS-EncryptDecrypt",
        resource_kind: "key id",
        service_words: KMS,
        verb_groups: &[&["encrypt"], &["decrypt"]],
        statements: &[CapabilityStatement {
            actions: &["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
            resource: ("kms", "key"),
        }],
        default_condition: Some((
            "ForAnyValue:StringLike",
            "kms:ResourceAliases",
            "alias/{prefix}-*",
        )),
        note: Some(
            "KMS key ARNs carry ids, not names: without a key id the policy is scoped by the key's alias",
        ),
    },
    Capability {
        id: "logs-write",
        title: "Write log events to CloudWatch Logs log groups",
        name_suffix: "Logs-Write",
        resource_kind: "log group name",
        service_words: LOGS,
        verb_groups: &[&["write", "put", "send", "push", "ship", "emit"]],
        statements: &[CapabilityStatement {
            actions: &["logs:CreateLogStream", "logs:PutLogEvents"],
            resource: ("logs", "log-stream"),
        }],
        default_condition: None,
        note: None,
    },
    Capability {
        id: "logs-read",
        title: "Read and search CloudWatch Logs log groups",
        name_suffix: "Logs-ReadOnly",
        resource_kind: "log group name",
        service_words: LOGS,
        verb_groups: &[&["read", "get", "view", "search", "filter", "tail", "query"]],
        statements: &[
            CapabilityStatement {
                actions: &["logs:DescribeLogStreams", "logs:FilterLogEvents"],
                resource: ("logs", "log-group"),
            },
            CapabilityStatement {
                actions: &["logs:GetLogEvents"],
                resource: ("logs", "log-stream"),
            },
        ],
        default_condition: None,
        note: None,
    },
    Capability {
        id: "cognito-user-management",
        title: "Create, update, disable and delete users of Cognito user pools",
        name_suffix: "Cognito-UserManagement",
        resource_kind: "user pool id",
        service_words: COGNITO,
        verb_groups: &[&[
            "manage",
            "create",
            "delete",
            "disable",
            "enable",
            "administer",
            "admin",
            "update",
        ]],
        statements: &[CapabilityStatement {
            actions: &[
                "cognito-idp:AdminCreateUser",
                "cognito-idp:AdminGetUser",
                "cognito-idp:AdminUpdateUserAttributes",
                "cognito-idp:AdminDisableUser",
                "cognito-idp:AdminEnableUser",
                "cognito-idp:AdminDeleteUser",
                "cognito-idp:AdminResetUserPassword",
                "cognito-idp:ListUsers",
            ],
            resource: ("cognito-idp", "userpool"),
        }],
        default_condition: None,
        note: Some("user pool ARNs carry generated ids: give the pool id to scope it to one pool"),
    },
    Capability {
        id: "cognito-read-users",
        title: "Look up and list users of Cognito user pools",
        name_suffix: "Cognito-ReadOnly",
        resource_kind: "user pool id",
        service_words: COGNITO,
        verb_groups: &[&["read", "list", "get", "view", "lookup", "find"]],
        statements: &[CapabilityStatement {
            actions: &["cognito-idp:AdminGetUser", "cognito-idp:ListUsers"],
            resource: ("cognito-idp", "userpool"),
        }],
        default_condition: None,
        note: Some("user pool ARNs carry generated ids: give the pool id to scope it to one pool"),
    },
    Capability {
        id: "rds-describe",
        title: "Describe RDS database instances (metadata, not rows)",
        name_suffix: "RDS-ReadOnly",
        resource_kind: "DB instance identifier",
        service_words: &["rds", "database", "db"],
        verb_groups: &[&["describe", "inspect", "monitor"]],
        statements: &[CapabilityStatement {
            actions: &["rds:DescribeDBInstances"],
            resource: ("rds", "db"),
        }],
        default_condition: None,
        note: Some("reading rows needs the database's own credentials, not IAM actions"),
    },
];

/// Every capability, as listings show them.
pub fn capabilities() -> Vec<CapabilityInfo> {
    CAPABILITIES.iter().map(Capability::info).collect()
}

/// The capability with this id.
pub fn capability(id: &str) -> Option<&'static Capability> {
    CAPABILITIES
        .iter()
        .find(|c| c.id.eq_ignore_ascii_case(id.trim()))
}

/// The capability whose actions are exactly the `Allow` actions of a
/// policy document (compared without case), for naming an existing policy:
/// a document with `ses:SendEmail` and `ses:SendRawEmail` is `ses-send`,
/// so its conventional name ends in `SES-SendOnly`. `None` when no
/// capability has exactly those actions.
pub fn capability_for_document(document: &serde_json::Value) -> Option<&'static Capability> {
    let statements = crate::iam::parse_document(document, "").ok()?;
    let mut actions: Vec<String> = statements
        .iter()
        .filter(|s| s.allow == Some(true) && !s.not_action)
        .flat_map(|s| s.actions.iter().cloned())
        .collect();
    actions.sort_unstable();
    actions.dedup();
    if actions.is_empty() {
        return None;
    }
    CAPABILITIES.iter().find(|c| {
        let mut own: Vec<String> = c.actions().iter().map(|a| a.to_ascii_lowercase()).collect();
        own.sort_unstable();
        own.dedup();
        own == actions
    })
}

/// Lower-case words with a plural `s` removed (`files` → `file`).
pub(crate) fn words(phrase: &str) -> Vec<String> {
    phrase
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .flat_map(|w| {
            let w = w.trim_matches('-').to_ascii_lowercase();
            // Keep hyphenated words whole and in parts: `e-mail`, `read-only`.
            let mut out = vec![stem(&w)];
            if w.contains('-') {
                out.extend(w.split('-').map(stem));
            }
            out
        })
        .filter(|w| !w.is_empty())
        .collect()
}

fn stem(w: &str) -> String {
    if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") {
        w[..w.len() - 1].to_string()
    } else {
        w.to_string()
    }
}

/// How well a capability matches the phrase's words: `None` when it does
/// not; otherwise (verb groups matched, service words matched).
pub(crate) fn score(c: &Capability, words: &[String]) -> Option<(usize, usize)> {
    let has = |w: &str| words.iter().any(|x| *x == stem(w));
    let service = c.service_words.iter().filter(|w| has(w)).count();
    if service == 0 || !c.verb_groups.iter().all(|g| g.iter().any(|w| has(w))) {
        return None;
    }
    Some((c.verb_groups.len(), service))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam_tools::actions::is_known;
    use crate::iam_tools::arns;

    #[test]
    fn every_action_is_in_the_catalog_and_every_resource_has_a_template() {
        assert!(CAPABILITIES.len() >= 15);
        for c in CAPABILITIES {
            for a in c.actions() {
                assert!(is_known(a), "{}: {a} is not an IAM action", c.id);
            }
            for s in c.statements {
                assert!(
                    arns::template(s.resource.0, s.resource.1).is_some(),
                    "{}: no ARN template for {:?}",
                    c.id,
                    s.resource
                );
                for a in s.actions {
                    let resources = crate::data::iam_action(a)
                        .map(|x| x.resources)
                        .unwrap_or("");
                    assert!(
                        resources
                            .split(',')
                            .any(|r| r.eq_ignore_ascii_case(s.resource.1)),
                        "{}: {a} cannot be scoped to {} (it takes {resources})",
                        c.id,
                        s.resource.1
                    );
                }
            }
        }
    }

    #[test]
    fn ids_are_unique_and_names_follow_the_convention() {
        let mut ids: Vec<&str> = CAPABILITIES.iter().map(|c| c.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), CAPABILITIES.len());
        for c in CAPABILITIES {
            let parts: Vec<&str> = c.name_suffix.split('-').collect();
            assert_eq!(parts.len(), 2, "{}", c.name_suffix);
            assert!(
                parts
                    .iter()
                    .all(|p| p.starts_with(|ch: char| ch.is_ascii_uppercase())
                        && p.chars().all(|ch| ch.is_ascii_alphanumeric())),
                "{}",
                c.name_suffix
            );
            let example = words(&c.info().example);
            assert!(
                score(c, &example).is_some(),
                "{}: its own example `{}` does not match it",
                c.id,
                c.info().example
            );
        }
    }

    #[test]
    fn documents_are_matched_to_capabilities_by_their_exact_actions() {
        let doc = serde_json::json!({"Statement": [{"Effect": "Allow",
            "Action": ["ses:sendrawemail", "SES:SendEmail"], "Resource": "*"}]});
        assert_eq!(
            capability_for_document(&doc).map(|c| c.name_suffix),
            Some("SES-SendOnly")
        );
        let more = serde_json::json!({"Statement": {"Effect": "Allow",
            "Action": ["ses:SendEmail", "ses:SendRawEmail", "ses:ListIdentities"], "Resource": "*"}});
        assert!(capability_for_document(&more).is_none());
        assert!(capability_for_document(&serde_json::json!({})).is_none());
    }

    #[test]
    fn words_strip_plurals_and_split_hyphens() {
        assert_eq!(words("Upload files to S3"), ["upload", "file", "to", "s3"]);
        assert!(words("send e-mail").contains(&"mail".to_string()));
        assert_eq!(stem("access"), "access");
    }
}
