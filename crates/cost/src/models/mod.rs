//! The cost model of every supported resource type, and the registry that
//! finds them by type name.
//!
//! Every type in the schema catalog has an entry: a priced model, or a free
//! one that says why the resource itself costs nothing. Two EC2 types outside
//! the catalog (NAT gateway, instance) are priced too, because the reference
//! price table has them and they are the classic surprise on a bill.

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

static MODELS: &[Model] = &[
    storage::BUCKET,
    messaging::EMAIL_IDENTITY,
    rds::DB_INSTANCE,
    rds::DB_CLUSTER,
    compute::FUNCTION,
    storage::TABLE,
    security::USER_POOL,
    messaging::QUEUE,
    messaging::TOPIC,
    security::KMS_KEY,
    security::SECRET,
    monitoring::LOG_GROUP,
    monitoring::ALARM,
    edge::REST_API,
    edge::V2_API,
    edge::DISTRIBUTION,
    storage::REPOSITORY,
    storage::SERVERLESS_CACHE,
    compute::STATE_MACHINE,
    compute::BRANCH,
    messaging::RULE,
    security::PARAMETER,
    messaging::CONFIGURATION_SET,
    compute::NAT_GATEWAY,
    compute::INSTANCE,
    free("AWS::IAM::Role", "IAM", "IAM is a free service"),
    free("AWS::IAM::Policy", "IAM", "IAM is a free service"),
    free("AWS::IAM::ManagedPolicy", "IAM", "IAM is a free service"),
    free("AWS::IAM::User", "IAM", "IAM is a free service"),
    free("AWS::IAM::Group", "IAM", "IAM is a free service"),
    free(
        "AWS::EC2::SecurityGroup",
        "VPC Networking",
        "security groups are free",
    ),
    free(
        "AWS::EC2::Subnet",
        "VPC Networking",
        "subnets are free; NAT gateways and public IPv4 addresses in them are charged separately",
    ),
    free(
        "AWS::EC2::VPC",
        "VPC Networking",
        "the VPC itself is free; NAT gateways, endpoints and public IPv4 addresses are charged separately",
    ),
    free(
        "AWS::S3::BucketPolicy",
        "S3 Storage",
        "a bucket policy is free; the bucket is priced on AWS::S3::Bucket",
    ),
    free(
        "AWS::SES::Template",
        "SES Emails",
        "email templates are free; emails are priced on AWS::SES::EmailIdentity",
    ),
    free(
        "AWS::Cognito::UserPoolClient",
        "Cognito Users",
        "app clients are free; users are priced on AWS::Cognito::UserPool",
    ),
    free(
        "AWS::RDS::DBSubnetGroup",
        "RDS Database",
        "DB subnet groups are free",
    ),
    free(
        "AWS::Amplify::App",
        "Amplify Hosting",
        "the app itself is free; builds, storage and data served are priced per AWS::Amplify::Branch",
    ),
    free(
        "AWS::Budgets::Budget",
        "AWS Budgets",
        "budgets without actions are free (AWS public price list, from memory, not verified here); budget actions are separate resources",
    ),
];

/// The model for a type name, if any.
pub(crate) fn find(type_name: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.type_name == type_name)
}

/// Every modelled type name, in registry order.
pub(crate) fn all() -> impl Iterator<Item = &'static Model> {
    MODELS.iter()
}
