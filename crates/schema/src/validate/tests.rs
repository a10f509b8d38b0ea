use infraguard_core::ResourceType;

use super::pattern::{compiled, portable};
use super::types::{is_integer_text, is_number_text};
use super::*;

fn schema(name: &str) -> &'static ResourceSchema {
    Catalog::builtin().lookup(name).unwrap()
}

fn create(name: &str, props: Value) -> Vec<PropertyProblem> {
    validate_create(schema(name), &props)
}

fn paths(problems: &[PropertyProblem]) -> Vec<&str> {
    problems.iter().map(|p| p.path.as_str()).collect()
}

fn role_arn() -> Value {
    json!("arn:aws:iam::123456789012:role/app")
}

#[test]
fn valid_properties_have_no_problems() {
    assert_eq!(create("AWS::S3::Bucket", json!({})), []);
    assert_eq!(create("AWS::S3::Bucket", Value::Null), []);
    assert_eq!(
        create(
            "AWS::S3::Bucket",
            json!({
                "BucketName": "dev-assets",
                "VersioningConfiguration": {"Status": "Enabled"},
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}
                ]},
                "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "BlockPublicPolicy": "true"},
                "Tags": [{"Key": "env", "Value": "dev"}]
            })
        ),
        []
    );
    assert_eq!(
        create(
            "AWS::DynamoDB::Table",
            json!({
                "TableName": "orders",
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]
            })
        ),
        []
    );
    assert_eq!(
        create(
            "AWS::Lambda::Function",
            json!({
                "Code": {"ZipFile": "def handler(e, c): return 1"},
                "Role": role_arn(),
                "Runtime": "python3.13",
                "Handler": "index.handler",
                "MemorySize": 256,
                "Timeout": "30"
            })
        ),
        []
    );
    assert_eq!(
        create(
            "AWS::Cognito::UserPool",
            json!({"UserPoolName": "users", "UserPoolTags": {"env": "dev"}})
        ),
        []
    );
}

#[test]
fn missing_required_properties_are_reported() {
    let p = create(
        "AWS::DynamoDB::Table",
        json!({"AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}]}),
    );
    assert_eq!(paths(&p), ["/KeySchema"]);
    assert_eq!(
        p[0].message,
        "missing required property `KeySchema` for AWS::DynamoDB::Table; add it"
    );

    let p = create("AWS::Lambda::Function", json!({"Runtime": "python3.13"}));
    assert_eq!(paths(&p), ["/Code", "/Role"]);

    // Nested `required` through `$ref`: a tag without `Value`.
    let p = create("AWS::SQS::Queue", json!({"Tags": [{"Key": "env"}]}));
    assert_eq!(paths(&p), ["/Tags/0/Value"]);
    assert!(p[0].message.contains("in `/Tags/0`"), "{}", p[0].message);
}

#[test]
fn unknown_properties_get_a_suggestion() {
    let p = create("AWS::S3::Bucket", json!({"BucketNam": "x"}));
    assert_eq!(
        p,
        [PropertyProblem {
            path: "/BucketNam".into(),
            message: "unknown property `BucketNam` for AWS::S3::Bucket; did you mean `BucketName`?"
                .into(),
        }]
    );
    let p = create("AWS::S3::Bucket", json!({"Zzzzzz": 1}));
    assert_eq!(paths(&p), ["/Zzzzzz"]);
    assert!(p[0].message.contains("remove it"), "{}", p[0].message);

    // Nested unknown property.
    let p = create(
        "AWS::S3::Bucket",
        json!({"VersioningConfiguration": {"Status": "Enabled", "Statu": "x"}}),
    );
    assert_eq!(paths(&p), ["/VersioningConfiguration/Statu"]);
    assert!(
        p[0].message.contains("did you mean `Status`?"),
        "{}",
        p[0].message
    );
}

#[test]
fn tags_under_the_wrong_name_point_to_the_right_one() {
    let p = create(
        "AWS::Cognito::UserPool",
        json!({"UserPoolName": "u", "Tags": [{"Key": "a", "Value": "b"}]}),
    );
    assert_eq!(paths(&p), ["/Tags"]);
    assert_eq!(
        p[0].message,
        "unknown property `Tags` for AWS::Cognito::UserPool; this type keeps its tags in `UserPoolTags`, an object of key to value"
    );
    let p = create(
        "AWS::IAM::ManagedPolicy",
        json!({"PolicyDocument": {}, "Tags": []}),
    );
    assert_eq!(paths(&p), ["/Tags"]);
    assert!(
        p[0].message
            .ends_with("this type cannot be tagged; remove it")
    );
    let p = create(
        "AWS::Budgets::Budget",
        json!({"Budget": {"BudgetType": "COST", "TimeUnit": "MONTHLY"}, "Tags": []}),
    );
    assert_eq!(paths(&p), ["/Tags"]);
    assert!(
        p[0].message.contains("`ResourceTags`, a list"),
        "{}",
        p[0].message
    );
}

#[test]
fn nulls_are_reported_as_such() {
    let p = create("AWS::S3::Bucket", json!({"BucketName": null}));
    assert_eq!(
        p,
        [PropertyProblem {
            path: "/BucketName".into(),
            message: "`BucketName` is null; give it a value or leave it out".into(),
        }]
    );
    // Also where the schema names no type (ManagedPolicy's document).
    let p = create("AWS::IAM::ManagedPolicy", json!({"PolicyDocument": null}));
    assert_eq!(paths(&p), ["/PolicyDocument"]);
}

/// The examples of the user's workflow guide (seed), with the guide's
/// `Tags: [...]` filled in the way each type takes tags.
#[test]
fn the_workflow_guide_examples_validate() {
    let tags = json!([{"Key": "MANAGED_BY", "Value": "infraguard"}, {"Key": "Environment", "Value": "development"}]);
    assert_eq!(
        create(
            "AWS::S3::Bucket",
            json!({
                "BucketName": "synthcoreai-documents-dev",
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": true, "BlockPublicPolicy": true,
                    "IgnorePublicAcls": true, "RestrictPublicBuckets": true
                },
                "VersioningConfiguration": {"Status": "Enabled"},
                "Tags": tags
            })
        ),
        []
    );
    assert_eq!(
        create(
            "AWS::Cognito::UserPool",
            json!({
                "UserPoolName": "synthcoreai-users-dev",
                "AutoVerifiedAttributes": ["email"],
                "Policies": {"PasswordPolicy": {
                    "MinimumLength": 8, "RequireUppercase": true, "RequireLowercase": true,
                    "RequireNumbers": true, "RequireSymbols": true
                }},
                "UserPoolTags": {"MANAGED_BY": "infraguard"}
            })
        ),
        []
    );
    assert_eq!(
        create(
            "AWS::RDS::DBInstance",
            json!({
                "DBInstanceIdentifier": "synthcoreai-db-dev",
                "Engine": "postgres",
                "EngineVersion": "15.4",
                "DBInstanceClass": "db.t3.micro",
                "AllocatedStorage": 20,
                "StorageType": "gp3",
                "MasterUsername": "synthcoreai_admin",
                "BackupRetentionPeriod": 7,
                "Tags": tags
            })
        ),
        []
    );
    assert_eq!(
        create(
            "AWS::Lambda::Function",
            json!({
                "FunctionName": "synthcoreai-worker-dev",
                "Runtime": "nodejs20.x",
                "Handler": "index.handler",
                "Role": "arn:aws:iam::123456789012:role/lambda-execution-role",
                "Code": {"ZipFile": "exports.handler = async () => 1;"},
                "Tags": tags
            })
        ),
        []
    );
}

#[test]
fn wrong_types_are_reported_with_coercions_allowed() {
    let p = create(
        "AWS::Lambda::Function",
        json!({"Code": {}, "Role": role_arn(), "MemorySize": "big"}),
    );
    assert_eq!(paths(&p), ["/MemorySize"]);
    assert_eq!(
        p[0].message,
        "`MemorySize` must be an integer (or a string of digits), got a string"
    );

    let p = create("AWS::S3::Bucket", json!({"Tags": {"env": "dev"}}));
    assert_eq!(paths(&p), ["/Tags"]);
    assert!(p[0].message.contains("must be a list, got an object"));

    let p = create(
        "AWS::SQS::Queue",
        json!({"FifoQueue": "yes", "DelaySeconds": 1.5}),
    );
    assert_eq!(paths(&p), ["/DelaySeconds", "/FifoQueue"]);

    // Coercions CloudFormation performs are accepted.
    assert_eq!(
        create(
            "AWS::SQS::Queue",
            json!({"FifoQueue": "true", "DelaySeconds": "5", "QueueName": "q.fifo"})
        ),
        []
    );
    assert_eq!(
        create(
            "AWS::SSM::Parameter",
            json!({"Type": "String", "Value": 42})
        ),
        []
    );

    let p = validate_create(schema("AWS::S3::Bucket"), &json!(["not", "an", "object"]));
    assert_eq!(paths(&p), [""]);
    assert!(p[0].message.contains("must be a JSON object"));
}

#[test]
fn read_only_properties_cannot_be_set_on_create() {
    let p = create("AWS::S3::Bucket", json!({"Arn": "arn:aws:s3:::x"}));
    assert_eq!(
        p,
        [PropertyProblem {
            path: "/Arn".into(),
            message: "`Arn` is read-only for AWS::S3::Bucket: the cloud sets it; remove it from the properties".into(),
        }]
    );
    // The outermost read-only pointer is reported once.
    let p = create(
        "AWS::Lambda::Function",
        json!({"Code": {}, "Role": role_arn(), "SnapStartResponse": {"ApplyOn": "None"}}),
    );
    assert_eq!(paths(&p), ["/SnapStartResponse"]);
    // ...but in a state they are expected.
    assert_eq!(
        validate_state(
            schema("AWS::S3::Bucket"),
            &json!({"BucketName": "b", "Arn": "arn:aws:s3:::b", "DomainName": "b.s3.amazonaws.com"})
        ),
        []
    );
}

#[test]
fn state_may_lack_write_only_required_properties() {
    // IAM::User's `LoginProfile/Password` is write-only and required
    // inside `LoginProfile`; a state read back from the cloud lacks it.
    let s = schema("AWS::IAM::User");
    let state = json!({"UserName": "u", "LoginProfile": {"PasswordResetRequired": true}});
    assert_eq!(validate_state(s, &state), []);
    let p = validate_create(s, &state);
    assert_eq!(paths(&p), ["/LoginProfile/Password"]);

    // Lambda's `Code` holds only write-only properties: a read may leave
    // it out altogether, but a create must have it.
    let lambda = schema("AWS::Lambda::Function");
    let state = json!({"FunctionName": "f", "Role": role_arn(), "Arn": "arn:aws:lambda:us-east-1:123456789012:function:f"});
    assert_eq!(validate_state(lambda, &state), []);
    let p = validate_state(lambda, &json!({"FunctionName": "f"}));
    assert_eq!(paths(&p), ["/Role"]);
}

#[test]
fn intrinsics_are_accepted_anywhere() {
    assert_eq!(
        create(
            "AWS::Lambda::Function",
            json!({
                "Code": {"S3Bucket": {"Ref": "Artifacts"}, "S3Key": {"Fn::Sub": "${Env}/code.zip"}},
                "Role": {"Fn::GetAtt": ["AppRole", "Arn"]},
                "MemorySize": {"Fn::If": ["IsProd", 1024, 128]},
                "Environment": {"Fn::If": ["IsProd", {"Variables": {}}, {"Ref": "AWS::NoValue"}]}
            })
        ),
        []
    );
    assert_eq!(
        create(
            "AWS::S3::Bucket",
            json!({"Tags": [{"Fn::If": ["C", {"Key": "a", "Value": "b"}, {"Ref": "AWS::NoValue"}]}]})
        ),
        []
    );
    // A whole property set chosen by a condition cannot be checked here.
    assert_eq!(
        create(
            "AWS::EC2::SecurityGroup",
            json!({"Fn::If": ["C", {"GroupDescription": "x"}, {"Ref": "AWS::NoValue"}]})
        ),
        []
    );
}

#[test]
fn enums_consts_and_bounds() {
    let p = create(
        "AWS::S3::Bucket",
        json!({"VersioningConfiguration": {"Status": "On"}}),
    );
    assert_eq!(paths(&p), ["/VersioningConfiguration/Status"]);
    assert!(
        p[0].message
            .starts_with("`On` is not an allowed value of `/VersioningConfiguration/Status`"),
        "{}",
        p[0].message
    );
    assert!(
        p[0].message.contains("Enabled, Suspended"),
        "{}",
        p[0].message
    );

    let p = create("AWS::SQS::Queue", json!({"DelaySeconds": 9999}));
    assert_eq!(paths(&p), ["/DelaySeconds"]);
    assert!(
        p[0].message.contains("above the maximum of 900"),
        "{}",
        p[0].message
    );

    let long = "x".repeat(64);
    let p = create("AWS::S3::Bucket", json!({"BucketName": long}));
    assert_eq!(paths(&p), ["/BucketName"]);
    assert!(p[0].message.contains("at most 63"), "{}", p[0].message);

    // DynamoDB: the first key must be HASH (prefixItems + const).
    let p = create(
        "AWS::DynamoDB::Table",
        json!({"KeySchema": [{"AttributeName": "pk", "KeyType": "RANGE"}]}),
    );
    assert_eq!(paths(&p), ["/KeySchema/0/KeyType"]);
}

#[test]
fn dynamic_references_skip_value_checks() {
    // 63 characters at most for a bucket name, but the reference is
    // resolved before that limit applies.
    let long_ref = format!("{{{{resolve:ssm:/{}}}}}", "x".repeat(80));
    assert_eq!(
        create("AWS::S3::Bucket", json!({"BucketName": long_ref})),
        []
    );
    assert_eq!(
        create(
            "AWS::S3::Bucket",
            json!({"VersioningConfiguration": {"Status": "{{resolve:ssm:/versioning}}"}})
        ),
        []
    );
}

#[test]
fn enum_case_insensitive_and_any_of_branches() {
    // ElastiCache's enumCaseInsensitive.
    let ok = create(
        "AWS::ElastiCache::ServerlessCache",
        json!({"ServerlessCacheName": "c", "Engine": "valkey", "NetworkType": "IPV4"}),
    );
    assert_eq!(ok, []);
    let p = create(
        "AWS::ElastiCache::ServerlessCache",
        json!({"ServerlessCacheName": "c", "Engine": "valkey", "NetworkType": "ipv5"}),
    );
    assert_eq!(paths(&p), ["/NetworkType"]);

    // IAM::Policy's root anyOf: attach to Users, Groups or Roles.
    let doc = json!({"Version": "2012-10-17", "Statement": []});
    let p = create(
        "AWS::IAM::Policy",
        json!({"PolicyName": "p", "PolicyDocument": doc}),
    );
    assert_eq!(
        p,
        [PropertyProblem {
            path: String::new(),
            message: "AWS::IAM::Policy needs one of `Users` or `Groups` or `Roles`; add one".into(),
        }]
    );
    assert_eq!(
        create(
            "AWS::IAM::Policy",
            json!({"PolicyName": "p", "PolicyDocument": doc, "Roles": ["app"]})
        ),
        []
    );
}

#[test]
fn co_occurrence_rules() {
    // CloudWatch::Alarm: exactly one of Metrics / MetricName / EvaluationCriteria.
    let base = json!({"ComparisonOperator": "GreaterThanThreshold", "EvaluationPeriods": 1});
    let p = create("AWS::CloudWatch::Alarm", base.clone());
    assert!(
        p.iter()
            .any(|p| p.path.is_empty() && p.message.starts_with("exactly one of `Metrics`")),
        "{p:?}"
    );
    let mut both = base.clone();
    both["MetricName"] = json!("CPU");
    both["Metrics"] = json!([]);
    let p = create("AWS::CloudWatch::Alarm", both);
    assert!(
        p.iter()
            .any(|p| p.message.contains("cannot be set together")),
        "{p:?}"
    );
    assert!(
        p.iter().any(|p| p.message.contains("cannot both be set")),
        "{p:?}"
    );

    // Events::Rule: EventPattern or ScheduleExpression.
    let p = create("AWS::Events::Rule", json!({"Name": "r"}));
    assert_eq!(paths(&p), [""]);
    assert!(
        p[0].message
            .starts_with("at least one of `EventPattern`, `ScheduleExpression`")
    );
    assert_eq!(
        create(
            "AWS::Events::Rule",
            json!({"ScheduleExpression": "rate(1 hour)"})
        ),
        []
    );

    // EC2::SecurityGroup: egress rules need a VPC.
    let p = create(
        "AWS::EC2::SecurityGroup",
        json!({"GroupDescription": "d", "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}]}),
    );
    assert_eq!(paths(&p), ["/VpcId"]);

    // RDS::DBCluster: MasterUsername `admin` is refused for PostgreSQL (if/then + not).
    let p = create(
        "AWS::RDS::DBCluster",
        json!({"Engine": "aurora-postgresql", "MasterUsername": "admin"}),
    );
    assert_eq!(paths(&p), ["/MasterUsername"]);
    assert_eq!(
        create(
            "AWS::RDS::DBCluster",
            json!({"Engine": "aurora-mysql", "MasterUsername": "admin"})
        ),
        []
    );
}

#[test]
fn write_only_values_are_never_echoed() {
    let p = create(
        "AWS::RDS::DBInstance",
        json!({"MasterUserPassword": ["hunter2-secret"]}),
    );
    assert_eq!(paths(&p), ["/MasterUserPassword"]);
    assert!(!p[0].message.contains("hunter2"), "{}", p[0].message);
    let p = create(
        "AWS::RDS::DBCluster",
        json!({"Engine": "aurora-postgresql", "MasterUsername": "admin", "MasterUserPassword": "short"}),
    );
    assert!(p.iter().all(|p| !p.message.contains("short")), "{p:?}");
}

#[test]
fn types_outside_the_builtin_catalog_get_top_level_checks() {
    let doc = json!({
        "typeName": "AWS::Test::Thing",
        "properties": {"Name": {"type": "string"}, "Size": {"type": "integer"}, "Id": {"type": "string"}},
        "required": ["Name"],
        "additionalProperties": false,
        "primaryIdentifier": ["/properties/Id"],
        "readOnlyProperties": ["/properties/Id"]
    });
    let c = Catalog::from_documents([doc]).unwrap();
    let s = c
        .get(&ResourceType::new("AWS::Test::Thing").unwrap())
        .unwrap();
    let p = validate_create(s, &json!({"Size": "x", "Nam": "a", "Id": "i"}));
    assert_eq!(paths(&p), ["/Id", "/Nam", "/Name", "/Size"]);
    assert_eq!(validate_state(s, &json!({"Name": "a", "Id": "i"})), []);
}

#[test]
fn problems_serialize_as_path_and_message() {
    let p = PropertyProblem {
        path: "/A".into(),
        message: "m".into(),
    };
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!({"path": "/A", "message": "m"})
    );
}

#[test]
fn helpers() {
    assert_eq!(child("/A", "b/c~d"), "/A/b~1c~0d");
    assert_eq!(display_pointer("/BucketName"), "BucketName");
    assert_eq!(display_pointer("/A/B"), "/A/B");
    assert!(is_integer_text("-12") && !is_integer_text("1.5") && !is_integer_text(""));
    assert!(is_number_text("1.5e3") && !is_number_text("NaN") && !is_number_text("inf"));
    let found = infraguard_core::pointer::find_outside(
        &json!({"A": [{"B": 1}, {"C": 2}, {"B": 3}, {"Ref": "X"}], "R": {"Fn::GetAtt": ["A", "B"]}}),
        "/A/*/B",
        &is_intrinsic,
    );
    assert_eq!(found, ["/A/0/B", "/A/2/B"]);
    // Nothing inside an intrinsic function is a property.
    let none = infraguard_core::pointer::find_outside(
        &json!({"R": {"Fn::GetAtt": ["A", "B"]}}),
        "/R/*",
        &is_intrinsic,
    );
    assert!(none.is_empty(), "{none:?}");
}

fn patterns_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(p) = map.get("pattern").and_then(Value::as_str) {
                out.push(p.to_string());
            }
            map.values().for_each(|v| patterns_in(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| patterns_in(v, out)),
        _ => {}
    }
}

/// Every pattern of the builtin catalog is either evaluated or skipped
/// for a reason the module doc names; most are evaluated.
#[test]
fn catalog_patterns_are_evaluated_unless_unportable() {
    let mut all = Vec::new();
    for t in Catalog::builtin().types() {
        patterns_in(Catalog::builtin().document(t).unwrap(), &mut all);
    }
    all.sort();
    all.dedup();
    let skipped: Vec<&String> = all.iter().filter(|p| compiled(p).is_none()).collect();
    for p in &skipped {
        let known = p.contains("\\p{")
            || p.contains("(?=")
            || p.contains("(?!")
            || p.contains("(?<")
            || portable(p).is_none();
        assert!(known, "pattern `{p}` is skipped for no stated reason");
    }
    assert!(
        skipped.len() * 4 < all.len(),
        "{} of {} patterns skipped: {skipped:?}",
        skipped.len(),
        all.len()
    );
    assert!(compiled("^([a-z0-9][a-z0-9.-]*[a-z0-9])?$").is_some());
}

#[test]
fn portable_rewrites_or_refuses_java_only_syntax() {
    assert_eq!(portable(r"^a\Z").as_deref(), Some(r"^a\z"));
    assert_eq!(portable(r"^a$").as_deref(), Some(r"^a(?:\r?\n)?\z"));
    assert_eq!(portable(r"[$]").as_deref(), Some(r"[$]"));
    assert_eq!(portable(r"\$").as_deref(), Some(r"\$"));
    let end = compiled("^[a-z]+$").unwrap();
    assert!(end.is_match("abc") && end.is_match("abc\n") && !end.is_match("abc\nd"));
    assert_eq!(portable(r"[]a]").as_deref(), Some(r"[\]a]"));
    assert_eq!(portable(r"[^]a]").as_deref(), Some(r"[^\]a]"));
    assert_eq!(portable(r"[\[x]").as_deref(), Some(r"[\[x]"));
    assert_eq!(portable(r"[a[b]]"), None);
    assert_eq!(portable(r"[a-z&&[^e]]"), None);
    assert_eq!(portable(r"^\p{L}+$"), None);
    assert_eq!(portable("a&&b").as_deref(), Some("a&&b"));
    // Look-around is left to the compiler, which refuses it.
    assert!(compiled(r"^[0-9A-Za-z\.\-_]*(?<!\.)$").is_none());
}

#[test]
fn patterns_are_searched_in_strings() {
    // The issue's example: both the pattern and S3's own rule.
    let p = create("AWS::S3::Bucket", json!({"BucketName": "Not_Valid..Name"}));
    assert_eq!(paths(&p), ["/BucketName", "/BucketName"]);
    assert!(
        p.iter().any(|p| p.message
            == "`BucketName` is `Not_Valid..Name`, which does not match the pattern `^([a-z0-9][a-z0-9.-]*[a-z0-9])?$` (failed validation constraint for keyword [pattern]); change it to match"),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|p| p.message.contains("contains two adjacent periods")),
        "{p:?}"
    );
    // Nested: a Lambda function's role must look like a role ARN.
    let p = create(
        "AWS::Lambda::Function",
        json!({"Code": {"ZipFile": "x"}, "Role": "not-an-arn"}),
    );
    assert_eq!(paths(&p), ["/Role"]);
    assert!(
        p[0].message.contains("does not match the pattern"),
        "{}",
        p[0].message
    );
    // Unanchored patterns are searched, as JSON Schema says: SES's
    // `{####}` placeholder may sit anywhere in the text.
    let doc = Catalog::builtin()
        .document(&ResourceType::new("AWS::Cognito::UserPool").unwrap())
        .unwrap();
    let mut all = Vec::new();
    patterns_in(doc, &mut all);
    assert!(all.iter().any(|p| p == r"\{####\}"), "{all:?}");
    assert!(
        compiled(r"\{####\}")
            .unwrap()
            .is_match("Your code is {####}.")
    );
    // Numbers and booleans are not strings to match.
    assert_eq!(create("AWS::SQS::Queue", json!({"DelaySeconds": 5})), []);
}

#[test]
fn patterns_skip_references_secrets_and_fixed_values() {
    // A dynamic reference is resolved before the pattern applies.
    assert_eq!(
        create(
            "AWS::Lambda::Function",
            json!({"Code": {"ZipFile": "x"}, "Role": "{{resolve:ssm:/app/role}}"})
        ),
        []
    );
    // A state keeps a create-only value it was created with.
    assert_eq!(
        validate_state(
            schema("AWS::S3::Bucket"),
            &json!({"BucketName": "Legacy_Bucket"})
        ),
        []
    );
    assert_eq!(
        paths(&create(
            "AWS::S3::Bucket",
            json!({"BucketName": "Legacy_Bucket"})
        )),
        ["/BucketName"]
    );
}

#[test]
fn s3_bucket_names_follow_the_documented_rules() {
    for good in [
        "synthcoreai-documents-dev",
        "abc",
        "my.bucket.1",
        "a1b",
        "1.2.3",
        "1.2.3.4.5",
    ] {
        assert_eq!(
            create("AWS::S3::Bucket", json!({"BucketName": good})),
            [],
            "{good}"
        );
    }
    let cases = [
        ("ab", "is 2 characters long; a bucket name needs at least 3"),
        ("my..bucket", "contains two adjacent periods"),
        ("192.168.5.4", "is formatted as an IP address"),
        ("xn--bucket", "starts with the reserved prefix `xn--`"),
        ("sthree-bucket", "starts with the reserved prefix `sthree-`"),
        (
            "amzn-s3-demo-bucket",
            "starts with the reserved prefix `amzn-s3-demo-`",
        ),
        ("bucket-s3alias", "ends with the reserved suffix `-s3alias`"),
        ("bucket--ol-s3", "ends with the reserved suffix `--ol-s3`"),
        ("bucket.mrap", "ends with the reserved suffix `.mrap`"),
        (
            "bucket--usw2-az1--x-s3",
            "ends with the reserved suffix `--x-s3`",
        ),
        (
            "bucket--table-s3",
            "ends with the reserved suffix `--table-s3`",
        ),
    ];
    for (name, rule) in cases {
        let p = create("AWS::S3::Bucket", json!({"BucketName": name}));
        assert_eq!(
            p,
            [PropertyProblem {
                path: "/BucketName".into(),
                message: format!(
                    "`BucketName` `{name}` {rule}; S3 refuses it (InvalidBucketName: The specified bucket is not valid.), see https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
                ),
            }],
            "{name}"
        );
    }
    // Upper case is the schema pattern's to report.
    let p = create("AWS::S3::Bucket", json!({"BucketName": "MyBucket"}));
    assert_eq!(paths(&p), ["/BucketName"]);
    assert!(
        p[0].message.contains("does not match the pattern"),
        "{}",
        p[0].message
    );
    // A reference is resolved first.
    assert_eq!(
        create(
            "AWS::S3::Bucket",
            json!({"BucketName": "{{resolve:ssm:/n}}"})
        ),
        []
    );
}
