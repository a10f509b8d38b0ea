//! The cost model of every supported resource type, and the registry that
//! finds them by type name.
//!
//! Every type in the schema catalog has an entry: a priced model, or a free
//! one that says why the resource itself costs nothing. Two EC2 types outside
//! the catalog (NAT gateway, instance) are priced too, because the reference
//! price table has them and they are the classic surprise on a bill.
//!
//! # Adding a type
//!
//! One [`Model`] in the family file it belongs to (`storage`, `rds`, …),
//! named in that file's `MODELS`. Report lines follow [`SERVICE_ORDER`]; a
//! new service comes after the named ones until it is placed there. The
//! crate's tests fail until every catalog type has exactly one model.

mod compute;
mod edge;
mod messaging;
mod monitoring;
mod rds;
mod security;
mod storage;

use crate::model::{Model, Pricing};

const fn free(type_name: &'static str, service: &'static str, why: &'static str) -> Model {
    Model {
        type_name,
        service,
        usage: &[],
        pricing: Pricing::Free(why),
    }
}

/// Every family's models. A new type is one entry in its family's
/// `MODELS`; a new family is one line here.
const FAMILIES: &[&[Model]] = &[
    storage::MODELS,
    messaging::MODELS,
    rds::MODELS,
    compute::MODELS,
    security::MODELS,
    monitoring::MODELS,
    edge::MODELS,
];

/// The order of a cost report's lines: the seed's, S3 first. A service not
/// named here comes after these.
pub(crate) const SERVICE_ORDER: &[&str] = &[
    "S3 Storage",
    "SES Emails",
    "RDS Database",
    "Lambda Execution",
    "DynamoDB Tables",
    "Cognito Users",
    "SQS Queues",
    "SNS Notifications",
    "KMS Keys",
    "Secrets Manager",
    "CloudWatch Logs",
    "CloudWatch Alarms",
    "API Gateway",
    "CloudFront",
    "ECR",
    "ElastiCache",
    "Step Functions",
    "Amplify Hosting",
    "EventBridge",
    "SSM Parameters",
    "VPC Networking",
    "EC2 Instances",
    "IAM",
    "AWS Budgets",
];

/// The model for a type name, if any.
pub(crate) fn find(type_name: &str) -> Option<&'static Model> {
    all().find(|m| m.type_name == type_name)
}

/// Every model, family by family.
pub(crate) fn all() -> impl Iterator<Item = &'static Model> {
    FAMILIES.iter().flat_map(|f| f.iter())
}
