//! Usage figures: what a resource is assumed to do in a month.
//!
//! Every cost model declares its [`UsageKey`]s with a stated default. A caller
//! can override them per resource from two places, merged with
//! [`Usage::merged`] (argument over usage file over default):
//!
//! - the usage file `infraguard-usage.toml` next to `infraguard.toml`, parsed
//!   by [`UsageFile::parse`] and keyed by resource name or by purpose;
//! - a `usage` argument on the CLI or MCP tool, parsed by [`parse_usage_arg`]
//!   (`key=value,key=value` or a JSON object).
//!
//! Argument keys are strict: a key the resource type does not know is an
//! error that lists the known keys. Usage-file keys are lenient, because one
//! `[purpose.x]` section may serve resources of several types; a key that
//! does not apply is ignored with a note in the estimate.

use std::collections::BTreeMap;
use std::str::FromStr;

use rust_decimal::Decimal;

use crate::dec::dec;
use crate::error::CostError;

/// Source label of a usage figure taken from the usage file.
pub const SOURCE_USAGE_FILE: &str = "usage file";
/// Source label of a usage figure given as a CLI or MCP argument.
pub const SOURCE_ARGUMENT: &str = "argument";
/// Source label of a model's stated default.
pub const SOURCE_DEFAULT: &str = "default";

/// No monthly usage figure is larger than this; a bigger number is a typo,
/// and keeping figures bounded keeps the decimal arithmetic far from overflow.
pub(crate) const MAX_USAGE: Decimal = dec("1000000000000");

/// One usage figure a cost model reads, with its default. Serializes as
/// `{"key", "unit", "default" (decimal string), "description"}` for tool
/// descriptions and `--help` listings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UsageKey {
    pub key: &'static str,
    /// Unit of the figure (`GB`, `requests`, `ms`).
    pub unit: &'static str,
    pub default: Decimal,
    pub description: &'static str,
}

/// A usage figure and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UsageValue {
    pub value: Decimal,
    /// [`SOURCE_ARGUMENT`], [`SOURCE_USAGE_FILE`] or a caller's own label.
    pub source: String,
    /// Whether a key unknown to the resource type is an error (arguments)
    /// rather than ignored with a note (usage file).
    pub strict: bool,
}

/// Usage overrides for one resource, already merged.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    entries: BTreeMap<String, UsageValue>,
}

impl Usage {
    /// Strict overrides from `(key, value)` pairs, all labelled `source`.
    /// Values are checked when the estimate is made ([`crate::estimate`]).
    pub fn from_pairs(pairs: &[(String, Decimal)], source: &str) -> Usage {
        let entries = pairs
            .iter()
            .map(|(k, v)| {
                let value = UsageValue {
                    value: *v,
                    source: source.to_string(),
                    strict: true,
                };
                (k.clone(), value)
            })
            .collect();
        Usage { entries }
    }

    /// `args` over `file`: a key given in both keeps the argument's value.
    pub fn merged(file: &Usage, args: &Usage) -> Usage {
        let mut entries = file.entries.clone();
        entries.extend(args.entries.iter().map(|(k, v)| (k.clone(), v.clone())));
        Usage { entries }
    }

    pub fn get(&self, key: &str) -> Option<&UsageValue> {
        self.entries.get(key)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &UsageValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The same figures, but a key the type does not know is ignored with a
    /// note instead of refused.
    pub fn lenient(mut self) -> Usage {
        for v in self.entries.values_mut() {
            v.strict = false;
        }
        self
    }

    /// Every figure is zero or more and not absurdly large.
    pub fn check_values(&self) -> Result<(), CostError> {
        self.entries
            .iter()
            .try_for_each(|(k, v)| check_value(k, v.value))
    }

    fn insert(&mut self, key: String, value: Decimal, source: &str, strict: bool) {
        let value = UsageValue {
            value,
            source: source.to_string(),
            strict,
        };
        self.entries.insert(key, value);
    }
}

pub(crate) fn check_value(key: &str, value: Decimal) -> Result<(), CostError> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(CostError::NegativeUsage {
            key: key.to_string(),
            value: value.normalize().to_string(),
        });
    }
    if value > MAX_USAGE {
        return Err(CostError::UsageTooLarge {
            key: key.to_string(),
            value: value.normalize().to_string(),
            max: MAX_USAGE.to_string(),
        });
    }
    Ok(())
}

/// Usage keys are snake_case words, as the models declare them.
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A number as a person types it: `50`, `0.5`, `100_000`, `1e6`.
fn parse_number(key: &str, text: &str) -> Result<Decimal, CostError> {
    let cleaned: String = text.trim().chars().filter(|c| *c != '_').collect();
    Decimal::from_str(&cleaned)
        .or_else(|_| Decimal::from_scientific(&cleaned))
        .map_err(|_| CostError::UsageNotANumber {
            key: key.to_string(),
            value: text.to_string(),
        })
}

/// Parse a `usage` argument: `key=value,key=value` (CLI) or a JSON object
/// (MCP). Keys are checked against a resource type by the estimate (or by
/// [`crate::check_usage_keys`]); values are checked here.
pub fn parse_usage_arg(text: &str) -> Result<Usage, CostError> {
    let trimmed = text.trim();
    let mut usage = Usage::default();
    if trimmed.is_empty() {
        return Ok(usage);
    }
    let syntax = |reason: String| CostError::UsageArgSyntax {
        text: text.to_string(),
        reason,
    };
    let mut pairs: Vec<(String, Decimal)> = Vec::new();
    if trimmed.starts_with('{') {
        let value: serde_json::Value =
            serde_json::from_str(trimmed).map_err(|e| syntax(format!("invalid JSON ({e})")))?;
        let object = value
            .as_object()
            .ok_or_else(|| syntax("expected a JSON object".to_string()))?;
        for (key, v) in object {
            let number = match v {
                serde_json::Value::Number(n) => parse_number(key, &n.to_string())?,
                serde_json::Value::String(s) => parse_number(key, s)?,
                other => {
                    return Err(CostError::UsageNotANumber {
                        key: key.clone(),
                        value: other.to_string(),
                    });
                }
            };
            pairs.push((key.clone(), number));
        }
    } else {
        for part in trimmed.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| syntax(format!("`{part}` has no `=`")))?;
            let key = key.trim();
            pairs.push((key.to_string(), parse_number(key, value)?));
        }
    }
    for (key, value) in pairs {
        if !valid_key(&key) {
            return Err(syntax(format!(
                "`{key}` is not a usage key (lowercase letters, digits and `_`)"
            )));
        }
        if usage.get(&key).is_some() {
            return Err(syntax(format!("`{key}` is given twice")));
        }
        check_value(&key, value)?;
        usage.insert(key, value, SOURCE_ARGUMENT, true);
    }
    Ok(usage)
}

/// The parsed usage file (`infraguard-usage.toml` next to `infraguard.toml`):
///
/// ```toml
/// [resource."synthcoreai-documents-dev"]
/// storage_gb = 50
///
/// [purpose.documents]
/// monthly_put_requests = 100000
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageFile {
    by_resource: BTreeMap<String, Usage>,
    /// Keyed by [`purpose_key`], so `Deal Factory documents`,
    /// `deal-factory-documents` and `deal_factory_documents` meet.
    by_purpose: BTreeMap<String, Usage>,
}

impl UsageFile {
    pub fn parse(text: &str) -> Result<UsageFile, CostError> {
        let table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| CostError::UsageFileSyntax {
                    reason: e.to_string().trim().to_string(),
                })?;
        let mut file = UsageFile::default();
        for (section, body) in &table {
            let target = match section.as_str() {
                "resource" => &mut file.by_resource,
                "purpose" => &mut file.by_purpose,
                other => {
                    return Err(CostError::UsageFileSyntax {
                        reason: format!(
                            "unknown section `{other}`; use [resource.\"NAME\"] or [purpose.NAME]"
                        ),
                    });
                }
            };
            let entries = body.as_table().ok_or_else(|| CostError::UsageFileSyntax {
                reason: format!("`{section}` must be a table of tables, e.g. [{section}.NAME]"),
            })?;
            for (name, figures) in entries {
                let where_ = format!("[{section}.\"{name}\"]");
                let figures = figures
                    .as_table()
                    .ok_or_else(|| CostError::UsageFileSyntax {
                        reason: format!("{where_} must be a table of usage figures"),
                    })?;
                let mut usage = Usage::default();
                for (key, value) in figures {
                    if !valid_key(key) {
                        return Err(CostError::UsageFileSyntax {
                            reason: format!(
                                "{where_}: `{key}` is not a usage key (lowercase letters, digits and `_`)"
                            ),
                        });
                    }
                    let number =
                        toml_number(key, value).map_err(|e| CostError::UsageFileSyntax {
                            reason: format!("{where_}: {e}"),
                        })?;
                    check_value(key, number).map_err(|e| CostError::UsageFileSyntax {
                        reason: format!("{where_}: {e}"),
                    })?;
                    usage.insert(key.clone(), number, SOURCE_USAGE_FILE, false);
                }
                let name = if section == "purpose" {
                    purpose_key(name)
                } else {
                    name.clone()
                };
                target.insert(name, usage);
            }
        }
        Ok(file)
    }

    /// The file's figures for one resource: its `[purpose.P]` section, with
    /// its `[resource."NAME"]` section over it (the more specific wins).
    pub fn for_resource(&self, name: Option<&str>, purpose: Option<&str>) -> Usage {
        let by_purpose = purpose
            .and_then(|p| self.by_purpose.get(&purpose_key(p)))
            .cloned()
            .unwrap_or_default();
        let by_name = name
            .and_then(|n| self.by_resource.get(n))
            .cloned()
            .unwrap_or_default();
        Usage::merged(&by_purpose, &by_name).lenient()
    }
}

/// A purpose folded for matching: lower case, every run of characters other
/// than letters and digits turned into one `-`, no `-` at the ends.
fn purpose_key(purpose: &str) -> String {
    let mut key = String::with_capacity(purpose.len());
    for c in purpose.chars() {
        if c.is_alphanumeric() {
            key.extend(c.to_lowercase());
        } else if !key.is_empty() && !key.ends_with('-') {
            key.push('-');
        }
    }
    key.trim_end_matches('-').to_string()
}

fn toml_number(key: &str, value: &toml::Value) -> Result<Decimal, CostError> {
    match value {
        toml::Value::Integer(i) => Ok(Decimal::from(*i)),
        // f64's Display is the shortest text that reads back as the same
        // float, so `0.1` stays `0.1` rather than 0.1000000000000000055...
        toml::Value::Float(f) if f.is_finite() => parse_number(key, &f.to_string()),
        toml::Value::String(s) => parse_number(key, s),
        other => Err(CostError::UsageNotANumber {
            key: key.to_string(),
            value: other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn cli_pairs_and_json_objects_parse_to_the_same_usage() {
        let a = parse_usage_arg("storage_gb=50, monthly_put_requests=100_000").unwrap();
        let b = parse_usage_arg(r#"{"storage_gb": 50, "monthly_put_requests": "100000"}"#).unwrap();
        assert_eq!(a, b);
        let v = a.get("monthly_put_requests").unwrap();
        assert_eq!(
            (v.value, v.source.as_str(), v.strict),
            (d("100000"), SOURCE_ARGUMENT, true)
        );
        assert!(parse_usage_arg("  ").unwrap().is_empty());
        assert_eq!(
            parse_usage_arg("monthly_emails=1e4")
                .unwrap()
                .get("monthly_emails")
                .unwrap()
                .value,
            d("10000")
        );
    }

    #[test]
    fn bad_arguments_name_the_offending_part() {
        let e = parse_usage_arg("storage_gb").unwrap_err().to_string();
        assert!(e.contains("`storage_gb` has no `=`"), "{e}");
        let e = parse_usage_arg("storage_gb=lots").unwrap_err().to_string();
        assert!(e.contains("`lots`") && e.contains("storage_gb"), "{e}");
        let e = parse_usage_arg("storage_gb=-5").unwrap_err();
        assert_eq!(
            e,
            CostError::NegativeUsage {
                key: "storage_gb".into(),
                value: "-5".into()
            }
        );
        let e = parse_usage_arg("a=1,a=2").unwrap_err().to_string();
        assert!(e.contains("given twice"), "{e}");
        let e = parse_usage_arg(r#"{"storage_gb": true}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("true"), "{e}");
        let e = parse_usage_arg("[1]").unwrap_err().to_string();
        assert!(e.contains("no `=`"), "{e}");
        assert!(matches!(
            parse_usage_arg("x=1e20"),
            Err(CostError::UsageTooLarge { .. })
        ));
        assert!(parse_usage_arg("Storage=1").is_err());
    }

    #[test]
    fn arguments_win_over_the_file_and_resource_sections_over_purpose() {
        let file = UsageFile::parse(
            r#"
            [resource."synthcoreai-documents-dev"]
            storage_gb = 50

            [purpose.Documents]
            storage_gb = 5
            monthly_put_requests = 100000
            monthly_get_requests = 2.5e5
            "#,
        )
        .unwrap();
        let from_file = file.for_resource(Some("synthcoreai-documents-dev"), Some("documents"));
        assert_eq!(from_file.get("storage_gb").unwrap().value, d("50"));
        assert_eq!(
            from_file.get("monthly_put_requests").unwrap().value,
            d("100000")
        );
        assert_eq!(
            from_file.get("monthly_get_requests").unwrap().value,
            d("250000")
        );
        assert!(!from_file.get("storage_gb").unwrap().strict);
        assert_eq!(
            from_file.get("storage_gb").unwrap().source,
            SOURCE_USAGE_FILE
        );

        let args = parse_usage_arg("storage_gb=7").unwrap();
        let merged = Usage::merged(&from_file, &args);
        let v = merged.get("storage_gb").unwrap();
        assert_eq!((v.value, v.source.as_str()), (d("7"), SOURCE_ARGUMENT));
        assert_eq!(
            merged.get("monthly_put_requests").unwrap().source,
            SOURCE_USAGE_FILE
        );

        assert!(file.for_resource(Some("other"), None).is_empty());
        let spaced =
            UsageFile::parse("[purpose.\"Deal Factory  documents\"]\nstorage_gb = 3").unwrap();
        for spelling in [
            "deal-factory-documents",
            "Deal_Factory_Documents",
            " deal factory documents ",
        ] {
            let u = spaced.for_resource(None, Some(spelling));
            assert_eq!(
                u.get("storage_gb").map(|v| v.value),
                Some(d("3")),
                "{spelling}"
            );
        }
    }

    #[test]
    fn bad_usage_files_say_where() {
        let e = UsageFile::parse("[bucket.x]\nstorage_gb = 1")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown section `bucket`"), "{e}");
        let e = UsageFile::parse("[resource.x]\nstorage_gb = -1")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("[resource.\"x\"]") && e.contains("negative"),
            "{e}"
        );
        let e = UsageFile::parse("[resource.x]\nstorage_gb = \"many\"")
            .unwrap_err()
            .to_string();
        assert!(e.contains("`many`"), "{e}");
        let e = UsageFile::parse("[resource.x\n").unwrap_err();
        assert!(matches!(e, CostError::UsageFileSyntax { .. }));
        let e = UsageFile::parse("resource = 3").unwrap_err().to_string();
        assert!(e.contains("table of tables"), "{e}");
    }

    #[test]
    fn from_pairs_values_are_checked_on_demand() {
        let u = Usage::from_pairs(&[("storage_gb".into(), d("-1"))], "argument");
        assert!(matches!(
            u.check_values(),
            Err(CostError::NegativeUsage { .. })
        ));
        let u = Usage::from_pairs(&[("storage_gb".into(), d("1"))], "argument");
        assert!(u.check_values().is_ok());
    }
}
