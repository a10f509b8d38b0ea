//! `suggest` over common capabilities across S3, SES, DynamoDB, SQS, SNS,
//! Lambda, Secrets Manager, KMS, CloudWatch Logs and Cognito: the phrase
//! picks the right capability, the document holds exactly its actions on
//! the expected ARNs, and the project's own lint finds nothing in it.

use infraguard_policy::Severity;
use infraguard_policy::iam_tools::{
    LintOptions, SuggestContext, SuggestRequest, Suggestion, capabilities, lint_document, suggest,
};

fn ctx() -> SuggestContext {
    SuggestContext {
        iam_prefix: "SynthCoreAI".into(),
        prefix: "synthcoreai".into(),
        account: Some("123456789012".into()),
        region: Some("us-east-1".into()),
    }
}

struct Case {
    phrase: &'static str,
    resources: &'static [&'static str],
    id: &'static str,
    name: &'static str,
    actions: &'static [&'static str],
    first_resource: &'static str,
}

const CASES: &[Case] = &[
    Case {
        phrase: "upload files to S3",
        resources: &[],
        id: "s3-file-upload",
        name: "SynthCoreAI-S3-FileUpload",
        actions: &["s3:PutObject", "s3:GetObject"],
        first_resource: "arn:aws:s3:::synthcoreai-*/*",
    },
    Case {
        phrase: "download files from the documents bucket",
        resources: &["synthcoreai-documents-dev"],
        id: "s3-read",
        name: "SynthCoreAI-S3-ReadOnly",
        actions: &["s3:ListBucket", "s3:GetObject"],
        first_resource: "arn:aws:s3:::synthcoreai-documents-dev",
    },
    Case {
        phrase: "read and write objects in S3",
        resources: &[],
        id: "s3-read-write",
        name: "SynthCoreAI-S3-ReadWrite",
        actions: &[
            "s3:ListBucket",
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
        ],
        first_resource: "arn:aws:s3:::synthcoreai-*",
    },
    Case {
        phrase: "send email with SES",
        resources: &[],
        id: "ses-send",
        name: "SynthCoreAI-SES-SendOnly",
        actions: &["ses:SendEmail", "ses:SendRawEmail"],
        first_resource: "arn:aws:ses:us-east-1:123456789012:identity/*",
    },
    Case {
        phrase: "send templated emails",
        resources: &["example.com"],
        id: "ses-send-templated",
        name: "SynthCoreAI-SES-SendTemplated",
        actions: &["ses:SendTemplatedEmail", "ses:SendBulkTemplatedEmail"],
        first_resource: "arn:aws:ses:us-east-1:123456789012:identity/example.com",
    },
    Case {
        phrase: "read the users table",
        resources: &["synthcoreai-users-dev"],
        id: "dynamodb-read",
        name: "SynthCoreAI-DynamoDB-ReadOnly",
        actions: &[
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
            "dynamodb:Scan",
            "dynamodb:DescribeTable",
        ],
        first_resource: "arn:aws:dynamodb:us-east-1:123456789012:table/synthcoreai-users-dev",
    },
    Case {
        phrase: "save orders to a DynamoDB table",
        resources: &[],
        id: "dynamodb-write",
        name: "SynthCoreAI-DynamoDB-WriteOnly",
        actions: &[
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
            "dynamodb:BatchWriteItem",
        ],
        first_resource: "arn:aws:dynamodb:us-east-1:123456789012:table/synthcoreai-*",
    },
    Case {
        phrase: "read and update items in dynamodb",
        resources: &[],
        id: "dynamodb-read-write",
        name: "SynthCoreAI-DynamoDB-ReadWrite",
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
        first_resource: "arn:aws:dynamodb:us-east-1:123456789012:table/synthcoreai-*",
    },
    Case {
        phrase: "send messages to the jobs queue",
        resources: &["synthcoreai-jobs-dev"],
        id: "sqs-send",
        name: "SynthCoreAI-SQS-SendOnly",
        actions: &["sqs:SendMessage", "sqs:GetQueueUrl"],
        first_resource: "arn:aws:sqs:us-east-1:123456789012:synthcoreai-jobs-dev",
    },
    Case {
        phrase: "consume messages from an SQS queue",
        resources: &[],
        id: "sqs-consume",
        name: "SynthCoreAI-SQS-Consume",
        actions: &[
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
        ],
        first_resource: "arn:aws:sqs:us-east-1:123456789012:synthcoreai-*",
    },
    Case {
        phrase: "publish alerts to an SNS topic",
        resources: &[],
        id: "sns-publish",
        name: "SynthCoreAI-SNS-PublishOnly",
        actions: &["sns:Publish"],
        first_resource: "arn:aws:sns:us-east-1:123456789012:synthcoreai-*",
    },
    Case {
        phrase: "invoke the resize Lambda function",
        resources: &["synthcoreai-resize-dev"],
        id: "lambda-invoke",
        name: "SynthCoreAI-Lambda-Execute",
        actions: &["lambda:InvokeFunction"],
        first_resource: "arn:aws:lambda:us-east-1:123456789012:function:synthcoreai-resize-dev",
    },
    Case {
        phrase: "read the database password from Secrets Manager",
        resources: &["synthcoreai-db-dev"],
        id: "secretsmanager-read",
        name: "SynthCoreAI-SecretsManager-ReadOnly",
        actions: &[
            "secretsmanager:GetSecretValue",
            "secretsmanager:DescribeSecret",
        ],
        first_resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:synthcoreai-db-dev-*",
    },
    Case {
        phrase: "decrypt data with KMS",
        resources: &[],
        id: "kms-decrypt",
        name: "SynthCoreAI-KMS-DecryptOnly",
        actions: &["kms:Decrypt"],
        first_resource: "arn:aws:kms:us-east-1:123456789012:key/*",
    },
    Case {
        phrase: "encrypt and decrypt with a kms key",
        resources: &["1234abcd-12ab-34cd-56ef-1234567890ab"],
        id: "kms-encrypt-decrypt",
        name: "SynthCoreAI-KMS-EncryptDecrypt",
        actions: &["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
        first_resource: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    },
    Case {
        phrase: "write logs to CloudWatch",
        resources: &["/aws/lambda/synthcoreai-resize-dev"],
        id: "logs-write",
        name: "SynthCoreAI-Logs-Write",
        actions: &["logs:CreateLogStream", "logs:PutLogEvents"],
        first_resource: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/synthcoreai-resize-dev:log-stream:*",
    },
    Case {
        phrase: "search the application logs",
        resources: &[],
        id: "logs-read",
        name: "SynthCoreAI-Logs-ReadOnly",
        actions: &[
            "logs:DescribeLogStreams",
            "logs:FilterLogEvents",
            "logs:GetLogEvents",
        ],
        first_resource: "arn:aws:logs:us-east-1:123456789012:log-group:*synthcoreai-*",
    },
    Case {
        phrase: "manage Cognito users",
        resources: &["us-east-1_AbCdEfGhI"],
        id: "cognito-user-management",
        name: "SynthCoreAI-Cognito-UserManagement",
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
        first_resource: "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEfGhI",
    },
    Case {
        phrase: "list users in the cognito user pool",
        resources: &[],
        id: "cognito-read-users",
        name: "SynthCoreAI-Cognito-ReadOnly",
        actions: &["cognito-idp:AdminGetUser", "cognito-idp:ListUsers"],
        first_resource: "arn:aws:cognito-idp:us-east-1:123456789012:userpool/*",
    },
];

#[test]
fn common_capabilities_give_minimal_conventional_policies() {
    assert!(CASES.len() >= 15);
    let services: std::collections::BTreeSet<&str> = CASES
        .iter()
        .map(|c| c.actions[0].split(':').next().unwrap())
        .collect();
    for s in [
        "s3",
        "ses",
        "dynamodb",
        "sqs",
        "sns",
        "lambda",
        "secretsmanager",
        "kms",
        "logs",
        "cognito-idp",
    ] {
        assert!(services.contains(s), "no case for {s}");
    }
    for c in CASES {
        let req = SuggestRequest {
            capability: c.phrase.into(),
            resources: c.resources.iter().map(|s| s.to_string()).collect(),
        };
        let s = suggest(&req, &ctx());
        let Suggestion::Known(p) = &s else {
            panic!("`{}`: {s:#?}", c.phrase)
        };
        assert_eq!(p.capability, c.id, "`{}`", c.phrase);
        assert_eq!(p.policy_name, c.name, "`{}`", c.phrase);
        let mut want: Vec<&str> = c.actions.to_vec();
        want.dedup();
        assert_eq!(p.actions, want, "`{}`", c.phrase);
        assert_eq!(p.resources[0], c.first_resource, "`{}`", c.phrase);
        assert!(!p.matched.is_empty(), "`{}`", c.phrase);
        // Never a wildcard action, never Resource "*".
        let text = p.document.to_string();
        assert!(!text.contains("\"*\""), "`{}`: {text}", c.phrase);
        assert!(!p.actions.iter().any(|a| a.contains('*')));
        // Our own lint agrees it is least privilege.
        let lint = lint_document(
            &p.document,
            &LintOptions {
                prefix: Some("synthcoreai".into()),
                ..Default::default()
            },
        );
        assert_eq!(
            lint.report.failing(Severity::Info),
            0,
            "`{}`: {:#?}",
            c.phrase,
            lint.report.findings
        );
    }
}

#[test]
fn ids_select_capabilities_directly_and_every_capability_is_listed() {
    let all = capabilities();
    assert!(all.len() >= 15);
    for info in &all {
        let s = suggest(
            &SuggestRequest {
                capability: info.id.clone(),
                resources: vec![],
            },
            &ctx(),
        );
        assert_eq!(
            s.policy().map(|p| p.capability.as_str()),
            Some(info.id.as_str())
        );
        // The listed example phrase also selects it, unambiguously.
        let by_example = suggest(
            &SuggestRequest {
                capability: info.example.clone(),
                resources: vec![],
            },
            &ctx(),
        );
        assert_eq!(
            by_example.policy().map(|p| p.capability.as_str()),
            Some(info.id.as_str()),
            "example `{}`: {by_example:#?}",
            info.example
        );
    }
}

#[test]
fn unknown_capabilities_are_an_honest_dont_know() {
    for phrase in [
        "",
        "launch EC2 instances",
        "administer everything",
        "do stuff",
    ] {
        let s = suggest(
            &SuggestRequest {
                capability: phrase.into(),
                resources: vec![],
            },
            &ctx(),
        );
        match s {
            Suggestion::Unknown { known, .. } => assert_eq!(known.len(), capabilities().len()),
            other => panic!("`{phrase}`: {other:#?}"),
        }
    }
    let json = serde_json::to_value(suggest(
        &SuggestRequest {
            capability: "launch EC2 instances".into(),
            resources: vec![],
        },
        &ctx(),
    ))
    .unwrap();
    assert_eq!(json["status"], "unknown");
    assert!(json.get("document").is_none());
}

#[test]
fn without_an_account_arns_use_a_wildcard_account_and_say_so() {
    let s = suggest(
        &SuggestRequest {
            capability: "sns-publish".into(),
            resources: vec![],
        },
        &SuggestContext {
            account: None,
            region: None,
            ..ctx()
        },
    );
    let p = s.policy().unwrap();
    assert_eq!(p.resources, ["arn:aws:sns:*:*:synthcoreai-*"]);
    assert!(p.notes.iter().any(|n| n.contains("account id unknown")));
}
