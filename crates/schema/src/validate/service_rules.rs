//! Rules a service documents for a property that its schema cannot
//! express: S3 general purpose bucket names.

use serde_json::Value;

use super::{Checker, Mode, PropertyProblem};

impl Checker<'_> {
    /// Rules a service documents for a property beyond what its schema
    /// says. Create only: the properties they cover are create-only, so an
    /// update cannot change them and was refused before getting here.
    pub(super) fn check_service_rules(&self, properties: &Value, out: &mut Vec<PropertyProblem>) {
        if self.mode != Mode::Create || self.schema.type_name.as_str() != "AWS::S3::Bucket" {
            return;
        }
        let Some(name) = properties.get("BucketName").and_then(Value::as_str) else {
            return;
        };
        if name.contains("{{resolve:") {
            return;
        }
        for rule in s3_bucket_name_problems(name) {
            self.problem(
                out,
                "/BucketName",
                format!(
                    "`BucketName` `{name}` {rule}; S3 refuses it (InvalidBucketName: The specified bucket is not valid.), see https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
                ),
            );
        }
    }
}

/// What is wrong with `name` as the name of a new S3 general purpose bucket,
/// by the rules of "General purpose bucket naming rules" in the Amazon S3
/// User Guide (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)
/// that the schema's `pattern` (`^([a-z0-9][a-z0-9.-]*[a-z0-9])?$`, which
/// covers the allowed characters and the first and last one) and
/// `maxLength` (63) leave out:
/// - "between 3 (min) and 63 (max) characters long";
/// - "must not contain two adjacent periods";
/// - "must not be formatted as an IP address (for example, 192.168.5.4)";
/// - "must not start with the prefix" `xn--`, `sthree-` (which also covers
///   `sthree-configurator`) or `amzn-s3-demo-`;
/// - "must not end with the suffix" `-s3alias` (access point aliases),
///   `--ol-s3` (Object Lambda access point aliases), `.mrap` (Multi-Region
///   Access Points), `--x-s3` (directory buckets) or `--table-s3` (table
///   buckets).
///
/// Each item completes the sentence "`BucketName` `…` …".
pub(super) fn s3_bucket_name_problems(name: &str) -> Vec<String> {
    const PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    let mut out = Vec::new();
    let len = name.chars().count();
    if len < 3 {
        out.push(format!(
            "is {len} character{} long; a bucket name needs at least 3",
            if len == 1 { "" } else { "s" }
        ));
    }
    if name.contains("..") {
        out.push("contains two adjacent periods".to_string());
    }
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() == 4
        && parts
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
    {
        out.push("is formatted as an IP address".to_string());
    }
    if let Some(p) = PREFIXES.iter().find(|p| name.starts_with(**p)) {
        out.push(format!("starts with the reserved prefix `{p}`"));
    }
    if let Some(s) = SUFFIXES.iter().find(|s| name.ends_with(**s)) {
        out.push(format!("ends with the reserved suffix `{s}`"));
    }
    out
}
