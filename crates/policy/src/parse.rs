//! Reading a CloudFormation template from JSON or YAML.
//!
//! YAML short-form intrinsics are rewritten to their long JSON form
//! (`!Ref X` → `{"Ref": "X"}`, `!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}`,
//! `!Sub s` → `{"Fn::Sub": "s"}`, `!Condition C` → `{"Condition": "C"}`), so
//! rules see one shape whatever the source. Syntax errors carry the line and
//! column. A document without a `Resources` mapping is not a template.

use serde_json::{Map, Number, Value};
use serde_norway::value::TaggedValue;

use crate::{PolicyError, Template};

/// Parses JSON (when the text starts with `{`) or YAML into a [`Template`].
pub fn parse_template(text: &str) -> Result<Template, PolicyError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let value = if trimmed.starts_with('{') {
        serde_json::from_str::<Value>(trimmed).map_err(|e| PolicyError::Syntax {
            format: "JSON",
            line: e.line(),
            column: e.column(),
            message: strip_location(&e.to_string()),
        })?
    } else {
        let yaml: serde_norway::Value = serde_norway::from_str(trimmed).map_err(|e| {
            let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
            PolicyError::Syntax {
                format: "YAML",
                line,
                column,
                message: strip_location(&e.to_string()),
            }
        })?;
        yaml_to_json(yaml)
    };
    validate(&value)?;
    Ok(Template(value))
}

/// Both parsers append "at line X column Y" to their messages; we report the
/// location separately.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn validate(value: &Value) -> Result<(), PolicyError> {
    let Some(root) = value.as_object() else {
        return Err(PolicyError::NotATemplate(
            "the document is not a mapping; a template is an object with a `Resources` section"
                .into(),
        ));
    };
    match root.get("Resources") {
        Some(Value::Object(_)) => Ok(()),
        Some(_) => Err(PolicyError::NotATemplate(
            "`Resources` is not a mapping of logical ids to resources".into(),
        )),
        None => Err(PolicyError::NotATemplate(
            "there is no `Resources` section; add one with at least one resource".into(),
        )),
    }
}

fn yaml_to_json(yaml: serde_norway::Value) -> Value {
    use serde_norway::Value as Y;
    match yaml {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Number(i.into())
            } else if let Some(u) = n.as_u64() {
                Value::Number(u.into())
            } else {
                n.as_f64()
                    .and_then(Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(key_string(k), yaml_to_json(v));
            }
            Value::Object(out)
        }
        Y::Tagged(tagged) => intrinsic(*tagged),
    }
}

/// Mapping keys in CloudFormation are strings; YAML allows numbers and
/// booleans there (`80:`), which we keep as their text.
fn key_string(key: serde_norway::Value) -> String {
    use serde_norway::Value as Y;
    match key {
        Y::String(s) => s,
        Y::Bool(b) => b.to_string(),
        Y::Number(n) => n.to_string(),
        Y::Null => "null".into(),
        other => serde_norway::to_string(&other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}

fn intrinsic(tagged: TaggedValue) -> Value {
    let tag = tagged.tag.to_string();
    let name = tag.trim_start_matches('!');
    let inner = yaml_to_json(tagged.value);
    let mut map = Map::new();
    match name {
        "Ref" => {
            map.insert("Ref".into(), inner);
        }
        "Condition" => {
            map.insert("Condition".into(), inner);
        }
        "GetAtt" => {
            // `!GetAtt Logical.Attr.Nested` splits at the first dot only: the
            // attribute name itself may contain dots (`Endpoint.Address`).
            let value = match inner {
                Value::String(s) => match s.split_once('.') {
                    Some((resource, attribute)) => Value::Array(vec![
                        Value::String(resource.into()),
                        Value::String(attribute.into()),
                    ]),
                    None => Value::String(s),
                },
                other => other,
            };
            map.insert("Fn::GetAtt".into(), value);
        }
        other => {
            map.insert(format!("Fn::{other}"), inner);
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_and_yaml_give_the_same_template() {
        let j = parse_template(
            r#"{"Resources":{"B":{"Type":"AWS::S3::Bucket","Properties":{"BucketName":"x"}}}}"#,
        )
        .unwrap();
        let y = parse_template(
            "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: x\n",
        )
        .unwrap();
        assert_eq!(j, y);
    }

    #[test]
    fn short_form_tags_become_long_form() {
        let t = parse_template(
            "Resources:\n  F:\n    Type: AWS::Lambda::Function\n    Properties:\n      Role: !GetAtt Role.Arn\n      A: !Ref Param\n      B: !Sub '${AWS::Region}-x'\n      C: !If [IsProd, 1, 2]\n      D: !Join ['', [a, !Ref P]]\n      E: !GetAtt Db.Endpoint.Address\n      G: !Equals [!Ref Env, prod]\n      H: !Condition IsProd\n",
        )
        .unwrap();
        let p = &t.0["Resources"]["F"]["Properties"];
        assert_eq!(p["Role"], json!({"Fn::GetAtt": ["Role", "Arn"]}));
        assert_eq!(p["A"], json!({"Ref": "Param"}));
        assert_eq!(p["B"], json!({"Fn::Sub": "${AWS::Region}-x"}));
        assert_eq!(p["C"], json!({"Fn::If": ["IsProd", 1, 2]}));
        assert_eq!(p["D"], json!({"Fn::Join": ["", ["a", {"Ref": "P"}]]}));
        assert_eq!(p["E"], json!({"Fn::GetAtt": ["Db", "Endpoint.Address"]}));
        assert_eq!(p["G"], json!({"Fn::Equals": [{"Ref": "Env"}, "prod"]}));
        assert_eq!(p["H"], json!({"Condition": "IsProd"}));
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let err = parse_template("{\n  \"Resources\": {\n    \"B\": \n  }\n}").unwrap_err();
        match err {
            PolicyError::Syntax { format, line, .. } => {
                assert_eq!(format, "JSON");
                assert_eq!(line, 4);
            }
            other => panic!("unexpected {other}"),
        }
        let err = parse_template("Resources:\n  B: [unclosed\n").unwrap_err();
        assert!(
            matches!(err, PolicyError::Syntax { format: "YAML", line, .. } if line >= 2),
            "{err}"
        );
    }

    #[test]
    fn documents_without_resources_are_not_templates() {
        assert!(matches!(
            parse_template("a: 1"),
            Err(PolicyError::NotATemplate(_))
        ));
        assert!(matches!(
            parse_template("- 1\n- 2"),
            Err(PolicyError::NotATemplate(_))
        ));
        assert!(matches!(
            parse_template("{\"Resources\": []}"),
            Err(PolicyError::NotATemplate(_))
        ));
    }

    #[test]
    fn numeric_yaml_keys_become_strings() {
        let t = parse_template("Resources:\n  B:\n    Type: T\n    Properties:\n      80: open\n")
            .unwrap();
        assert_eq!(t.0["Resources"]["B"]["Properties"]["80"], "open");
    }
}
