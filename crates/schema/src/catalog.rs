//! The catalog: every supported resource type, its [`ResourceSchema`]
//! summary and its stripped schema document.
//!
//! [`Catalog::builtin`] is the one embedded in the binary (from `data/`),
//! parsed on first use. [`Catalog::from_documents`] builds one from other
//! documents, e.g. schemas fetched with CloudFormation `DescribeType`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use infraguard_core::{ResourceSchema, ResourceType};
use serde_json::Value;

use crate::SchemaError;
use crate::distill::schema_from_document;
use crate::embedded::DOCUMENTS;
use crate::suggest::nearest;

/// How many "did you mean" names an unknown type gets at most.
const MAX_SUGGESTIONS: usize = 3;

#[derive(Debug)]
struct Entry {
    schema: ResourceSchema,
    document: Value,
}

/// Supported resource types and what infraguard knows about each.
#[derive(Debug, Default)]
pub struct Catalog {
    /// A type whose embedded document failed to load keeps its error here,
    /// so asking for it says "defect in the data" rather than "unsupported".
    entries: BTreeMap<ResourceType, Result<Entry, SchemaError>>,
}

impl Catalog {
    /// The embedded catalog, parsed once.
    pub fn builtin() -> &'static Catalog {
        static BUILTIN: OnceLock<Catalog> = OnceLock::new();
        BUILTIN.get_or_init(Catalog::parse_embedded)
    }

    fn parse_embedded() -> Catalog {
        let mut entries = BTreeMap::new();
        for (name, text) in DOCUMENTS {
            // The generator writes names that ResourceType accepts; one that
            // does not would be unreachable through `get` anyway.
            let Ok(type_name) = ResourceType::new(name) else {
                continue;
            };
            entries.insert(type_name, load_embedded(name, text));
        }
        Catalog { entries }
    }

    /// A catalog of the given schema documents. Fails on the first document
    /// that is not a usable resource schema, or on a type given twice.
    pub fn from_documents<I>(documents: I) -> Result<Catalog, SchemaError>
    where
        I: IntoIterator<Item = Value>,
    {
        let mut entries = BTreeMap::new();
        for document in documents {
            let schema = schema_from_document(&document)?;
            let type_name = schema.type_name.clone();
            if entries.contains_key(&type_name) {
                return Err(SchemaError::Internal {
                    type_name: type_name.to_string(),
                    reason: "two documents describe this type; pass each type once".into(),
                });
            }
            entries.insert(type_name, Ok(Entry { schema, document }));
        }
        Ok(Catalog { entries })
    }

    /// Err(SchemaError::UnknownType{..}) lists the nearest known names (edit
    /// distance / case-insensitive / suffix match).
    pub fn get(&self, type_name: &ResourceType) -> Result<&ResourceSchema, SchemaError> {
        match self.entries.get(type_name) {
            Some(Ok(entry)) => Ok(&entry.schema),
            Some(Err(e)) => Err(e.clone()),
            None => Err(self.unknown(type_name.as_str())),
        }
    }

    /// Same, from a raw string (a malformed name is also UnknownType with
    /// suggestions).
    pub fn lookup(&self, name: &str) -> Result<&ResourceSchema, SchemaError> {
        match ResourceType::new(name) {
            Ok(t) => self.get(&t),
            Err(_) => Err(self.unknown(name)),
        }
    }

    /// All supported types, sorted.
    pub fn types(&self) -> Vec<&ResourceType> {
        self.entries
            .iter()
            .filter(|(_, e)| e.is_ok())
            .map(|(t, _)| t)
            .collect()
    }

    /// The stripped schema document (definitions, properties...) for callers
    /// that need nested property types.
    pub fn document(&self, type_name: &ResourceType) -> Option<&serde_json::Value> {
        match self.entries.get(type_name) {
            Some(Ok(entry)) => Some(&entry.document),
            _ => None,
        }
    }

    /// Documents that failed to load, with why. Empty for a healthy build;
    /// a test keeps it that way for the builtin catalog.
    pub fn load_errors(&self) -> Vec<&SchemaError> {
        self.entries
            .values()
            .filter_map(|e| e.as_ref().err())
            .collect()
    }

    fn unknown(&self, name: &str) -> SchemaError {
        SchemaError::UnknownType {
            name: name.to_string(),
            suggestions: nearest(
                name,
                self.types().into_iter().map(ResourceType::as_str),
                MAX_SUGGESTIONS,
            ),
        }
    }
}

fn load_embedded(name: &str, text: &str) -> Result<Entry, SchemaError> {
    let internal = |reason: String| SchemaError::Internal {
        type_name: name.to_string(),
        reason,
    };
    let document: Value =
        serde_json::from_str(text).map_err(|e| internal(format!("invalid JSON: {e}")))?;
    let schema = schema_from_document(&document)?;
    if schema.type_name.as_str() != name {
        return Err(internal(format!(
            "the embedded file describes `{}` instead",
            schema.type_name
        )));
    }
    Ok(Entry { schema, document })
}

#[cfg(test)]
mod tests {
    use super::*;
    use infraguard_core::TagStyle;
    use serde_json::json;

    fn t(name: &str) -> ResourceType {
        ResourceType::new(name).unwrap()
    }

    fn schema(name: &str) -> &'static ResourceSchema {
        Catalog::builtin().lookup(name).unwrap()
    }

    #[test]
    fn whole_builtin_catalog_parses() {
        let c = Catalog::builtin();
        assert!(c.load_errors().is_empty(), "{:?}", c.load_errors());
        // Every stripped schema in `data/` (`aws-*.json`) is embedded.
        let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/data"))
            .unwrap()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("aws-") && name.ends_with(".json"))
            .count();
        assert!(on_disk > 0);
        assert_eq!(
            DOCUMENTS.len(),
            on_disk,
            "a file in data/ is not embedded: run scripts/strip_schemas.py"
        );
        assert_eq!(c.types().len(), DOCUMENTS.len());
        for ty in c.types() {
            let s = c.get(ty).unwrap();
            assert_eq!(&s.type_name, ty);
            assert!(!s.primary_identifier.is_empty(), "{ty}");
            let doc = c.document(ty).unwrap();
            assert_eq!(doc["typeName"], ty.as_str());
            // Every identifier and required name points at a real property.
            for p in &s.primary_identifier {
                let top = p.trim_start_matches('/').split('/').next().unwrap_or("");
                assert!(s.has_property(top), "{ty}: identifier {p}");
            }
            for r in &s.required {
                assert!(s.has_property(r), "{ty}: required {r}");
            }
            if let Some(n) = &s.name_property {
                assert!(s.has_property(n), "{ty}: name {n}");
            }
            if let Some(p) = s.tagging.property() {
                assert!(s.has_property(p), "{ty}: tag property {p}");
            }
        }
    }

    #[test]
    fn every_ref_in_the_builtin_documents_resolves() {
        fn walk(doc: &Value, node: &Value, type_name: &str, count: &mut usize) {
            match node {
                Value::Object(map) => {
                    if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                        *count += 1;
                        assert!(
                            crate::distill::resolve_ref(doc, r).is_some(),
                            "{type_name}: {r} does not resolve"
                        );
                    }
                    map.values().for_each(|v| walk(doc, v, type_name, count));
                }
                Value::Array(items) => items.iter().for_each(|v| walk(doc, v, type_name, count)),
                _ => {}
            }
        }
        let c = Catalog::builtin();
        let mut count = 0;
        for ty in c.types() {
            let doc = c.document(ty).unwrap();
            walk(doc, doc, ty.as_str(), &mut count);
        }
        // The schemas use a few hundred references; all must be local.
        assert!(count > 300, "only {count} $refs seen");
    }

    #[test]
    fn embedded_documents_carry_no_prose() {
        for (name, text) in DOCUMENTS {
            for word in [
                "\"description\"",
                "\"sourceUrl\"",
                "\"documentationUrl\"",
                "\"$comment\"",
            ] {
                assert!(!text.contains(word), "{name} still has {word}");
            }
        }
    }

    #[test]
    fn types_are_sorted_and_include_the_core_set() {
        let types: Vec<&str> = Catalog::builtin()
            .types()
            .into_iter()
            .map(ResourceType::as_str)
            .collect();
        let mut sorted = types.clone();
        sorted.sort();
        assert_eq!(types, sorted);
        for required in [
            "AWS::S3::Bucket",
            "AWS::S3::BucketPolicy",
            "AWS::SES::ConfigurationSet",
            "AWS::SES::EmailIdentity",
            "AWS::RDS::DBInstance",
            "AWS::RDS::DBCluster",
            "AWS::Lambda::Function",
            "AWS::Cognito::UserPool",
            "AWS::IAM::ManagedPolicy",
            "AWS::IAM::Role",
            "AWS::IAM::User",
            "AWS::IAM::Policy",
            "AWS::DynamoDB::Table",
            "AWS::SQS::Queue",
            "AWS::SNS::Topic",
            "AWS::Logs::LogGroup",
            "AWS::KMS::Key",
            "AWS::SecretsManager::Secret",
            "AWS::EC2::SecurityGroup",
            "AWS::CloudWatch::Alarm",
            "AWS::Budgets::Budget",
        ] {
            assert!(types.contains(&required), "{required} missing");
        }
    }

    /// What one type must distil to, checked by hand against the type's
    /// file in reference/cfn-schemas.
    struct Expected {
        id: &'static [&'static str],
        tags: TagStyle,
        required: &'static [&'static str],
        name: Option<&'static str>,
    }

    fn expect(
        id: &'static [&'static str],
        tags: TagStyle,
        required: &'static [&'static str],
        name: Option<&'static str>,
    ) -> Expected {
        Expected {
            id,
            tags,
            required,
            name,
        }
    }

    #[test]
    fn core_types_have_the_right_identifiers_and_tag_styles() {
        use TagStyle::{Map, None as Untagged};
        let list = |p: &str| TagStyle::List(p.to_string());
        let tags = list("Tags");
        #[rustfmt::skip]
        let cases = [
            ("AWS::S3::Bucket", expect(&["/BucketName"], tags.clone(), &[], Some("BucketName"))),
            ("AWS::S3::BucketPolicy", expect(&["/Bucket"], Untagged, &["Bucket", "PolicyDocument"], None)),
            ("AWS::SES::ConfigurationSet", expect(&["/Name"], tags.clone(), &[], Some("Name"))),
            ("AWS::SES::EmailIdentity", expect(&["/EmailIdentity"], tags.clone(), &["EmailIdentity"], None)),
            ("AWS::RDS::DBInstance", expect(&["/DBInstanceIdentifier"], tags.clone(), &[], Some("DBInstanceIdentifier"))),
            ("AWS::RDS::DBCluster", expect(&["/DBClusterIdentifier"], tags.clone(), &[], Some("DBClusterIdentifier"))),
            ("AWS::Lambda::Function", expect(&["/FunctionName"], tags.clone(), &["Code", "Role"], Some("FunctionName"))),
            ("AWS::Cognito::UserPool", expect(&["/UserPoolId"], Map("UserPoolTags".into()), &[], Some("UserPoolName"))),
            ("AWS::IAM::ManagedPolicy", expect(&["/PolicyArn"], Untagged, &["PolicyDocument"], Some("ManagedPolicyName"))),
            ("AWS::IAM::Role", expect(&["/RoleName"], tags.clone(), &["AssumeRolePolicyDocument"], Some("RoleName"))),
            ("AWS::IAM::User", expect(&["/UserName"], tags.clone(), &[], Some("UserName"))),
            ("AWS::IAM::Policy", expect(&["/Id"], Untagged, &["PolicyDocument", "PolicyName"], Some("PolicyName"))),
            ("AWS::DynamoDB::Table", expect(&["/TableName"], tags.clone(), &["KeySchema"], Some("TableName"))),
            ("AWS::SQS::Queue", expect(&["/QueueUrl"], tags.clone(), &[], Some("QueueName"))),
            ("AWS::SNS::Topic", expect(&["/TopicArn"], tags.clone(), &[], Some("TopicName"))),
            ("AWS::Logs::LogGroup", expect(&["/LogGroupName"], tags.clone(), &[], Some("LogGroupName"))),
            ("AWS::KMS::Key", expect(&["/KeyId"], tags.clone(), &[], None)),
            ("AWS::SecretsManager::Secret", expect(&["/Id"], tags.clone(), &[], Some("Name"))),
            ("AWS::EC2::SecurityGroup", expect(&["/Id"], tags.clone(), &["GroupDescription"], Some("GroupName"))),
            ("AWS::CloudWatch::Alarm", expect(&["/AlarmName"], tags.clone(), &[], Some("AlarmName"))),
            ("AWS::Budgets::Budget", expect(&["/Id"], list("ResourceTags"), &["Budget"], None)),
            // Beyond the core set: the other map-tagged types and odd ones.
            ("AWS::SSM::Parameter", expect(&["/Name"], Map("Tags".into()), &["Type", "Value"], Some("Name"))),
            ("AWS::ApiGatewayV2::Api", expect(&["/ApiId"], Map("Tags".into()), &[], Some("Name"))),
            ("AWS::Cognito::UserPoolClient", expect(&["/UserPoolId", "/ClientId"], Untagged, &["UserPoolId"], Some("ClientName"))),
            ("AWS::SES::Template", expect(&["/Id"], tags.clone(), &[], None)),
            ("AWS::StepFunctions::StateMachine", expect(&["/Arn"], tags, &["RoleArn"], Some("StateMachineName"))),
        ];
        for (name, want) in cases {
            let s = schema(name);
            assert_eq!(s.primary_identifier, want.id, "{name}");
            assert_eq!(s.tagging, want.tags, "{name}");
            let mut got = s.required.clone();
            got.sort();
            assert_eq!(got, want.required, "{name}");
            assert_eq!(s.name_property.as_deref(), want.name, "{name}");
            assert!(!s.additional_properties, "{name}");
        }
    }

    #[test]
    fn pointer_lists_lose_the_properties_prefix() {
        let s3 = schema("AWS::S3::Bucket");
        assert!(s3.read_only.contains(&"/Arn".to_string()));
        assert!(s3.read_only.contains(&"/WebsiteURL".to_string()));
        assert!(s3.create_only.contains(&"/BucketName".to_string()));
        assert!(s3.is_read_only("/Arn"));
        assert_eq!(s3.property_type("Arn"), Some("string"));
        assert_eq!(s3.property_type("BucketEncryption"), Some("object"));
        assert_eq!(s3.property_type("Tags"), Some("array"));

        let lambda = schema("AWS::Lambda::Function");
        assert!(lambda.write_only.contains(&"/Code/ZipFile".to_string()));
        assert!(lambda.read_only.contains(&"/Arn".to_string()));
        assert_eq!(lambda.property_type("MemorySize"), Some("integer"));

        let sqs = schema("AWS::SQS::Queue");
        assert_eq!(sqs.property_type("RedrivePolicy"), Some("any"));
        assert!(sqs.read_only.contains(&"/Arn".to_string()));
        assert!(sqs.read_only.contains(&"/QueueUrl".to_string()));
        assert!(sqs.create_only.contains(&"/FifoQueue".to_string()));

        // DynamoDB KeySchema is oneOf(list, object|string): not one type.
        assert_eq!(
            schema("AWS::DynamoDB::Table").property_type("KeySchema"),
            Some("any")
        );
    }

    #[test]
    fn get_and_lookup_agree() {
        let c = Catalog::builtin();
        let by_type = c.get(&t("AWS::SQS::Queue")).unwrap();
        let by_name = c.lookup("AWS::SQS::Queue").unwrap();
        assert!(std::ptr::eq(by_type, by_name));
    }

    #[test]
    fn unknown_types_get_near_suggestions() {
        let c = Catalog::builtin();
        let suggestions = |name: &str| match c.lookup(name) {
            Err(SchemaError::UnknownType {
                name: n,
                suggestions,
            }) => {
                assert_eq!(n, name);
                suggestions
            }
            other => panic!("{name}: expected UnknownType, got {other:?}"),
        };
        assert_eq!(suggestions("AWS::S3::Buckets")[0], "AWS::S3::Bucket");
        assert_eq!(suggestions("s3::bucket")[0], "AWS::S3::Bucket");
        assert_eq!(suggestions("aws::s3::bucket")[0], "AWS::S3::Bucket");
        assert_eq!(suggestions("Bucket")[0], "AWS::S3::Bucket");
        assert_eq!(
            suggestions("AWS::Lambda::Functions")[0],
            "AWS::Lambda::Function"
        );
        assert_eq!(
            suggestions("AWS::DynamoDB::Tabel")[0],
            "AWS::DynamoDB::Table"
        );
        assert_eq!(suggestions("UserPool")[0], "AWS::Cognito::UserPool");
        assert!(suggestions("AWS::Foo::Bar").is_empty());
        assert!(suggestions("").is_empty());

        let err = c.get(&t("AWS::S3::Buckets")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`AWS::S3::Buckets` is not a supported resource type; did you mean AWS::S3::Bucket? Run `infraguard types` for the list."
        );
    }

    #[test]
    fn document_is_the_stripped_schema() {
        let c = Catalog::builtin();
        let doc = c.document(&t("AWS::S3::Bucket")).unwrap();
        assert!(doc["definitions"]["Tag"]["properties"]["Key"].is_object());
        assert!(doc.get("description").is_none());
        assert!(c.document(&t("AWS::S3::Buckets")).is_none());
    }

    #[test]
    fn from_documents_builds_and_rejects() {
        let doc = json!({
            "typeName": "AWS::Test::Thing",
            "properties": {"Id": {"type": "string"}},
            "primaryIdentifier": ["/properties/Id"],
            "readOnlyProperties": ["/properties/Id"]
        });
        let c = Catalog::from_documents([doc.clone()]).unwrap();
        assert_eq!(c.types(), [&t("AWS::Test::Thing")]);
        assert!(c.lookup("AWS::S3::Bucket").is_err());

        let twice = Catalog::from_documents([doc.clone(), doc]).unwrap_err();
        assert!(matches!(twice, SchemaError::Internal { .. }));
        assert!(Catalog::from_documents([json!({"typeName": "AWS::A::B"})]).is_err());
    }

    #[test]
    fn a_broken_embedded_document_is_an_internal_error_not_unknown() {
        assert!(matches!(
            load_embedded("AWS::S3::Bucket", "{not json"),
            Err(SchemaError::Internal { .. })
        ));
        let sqs = DOCUMENTS
            .iter()
            .find(|(n, _)| *n == "AWS::SQS::Queue")
            .map(|(_, d)| *d)
            .unwrap();
        let err = load_embedded("AWS::SNS::Topic", sqs).err().unwrap();
        assert!(err.to_string().contains("AWS::SQS::Queue"), "{err}");

        let mut entries = BTreeMap::new();
        entries.insert(t("AWS::S3::Bucket"), load_embedded("AWS::S3::Bucket", "{"));
        let c = Catalog { entries };
        assert!(matches!(
            c.lookup("AWS::S3::Bucket"),
            Err(SchemaError::Internal { .. })
        ));
        assert!(c.types().is_empty());
        assert_eq!(c.load_errors().len(), 1);
    }
}
