//! Rules that judge a resource by another resource it is connected to in the
//! same template — Checkov's "graph" checks:
//!
//! - an RDS instance by its DB parameter group (does the group force TLS?),
//! - a Lambda function by its function URL (is the URL's CORS open?).
//!
//! The finding stays on the resource Checkov reports (the instance, the
//! function), so verdicts compare one to one; the message names the
//! connected resource and, where the fix is mechanical, the patch edits that
//! resource. Rules already see the whole template through [`Ctx::template`],
//! so no separate rule kind is needed: a check looks its neighbour up.
//!
//! A connection is a `Ref` / `Fn::GetAtt` to the neighbour's logical id;
//! for parameter groups also the group's literal `DBParameterGroupName`,
//! which Checkov does not follow (there infraguard fails where Checkov
//! passes; the fixture says why). No connected resource is a pass, as in
//! Checkov. A connection or value decided by an intrinsic is "cannot tell".

use serde_json::{Value, json};

use super::{Ctx, Out, Rule};
use crate::value::{Val, intrinsic_name};
use crate::{RuleInfo, Severity};

const INSTANCE: &[&str] = &["AWS::RDS::DBInstance"];
const FUNCTION: &[&str] = &["AWS::Lambda::Function"];
const PARAMETER_GROUP: &str = "AWS::RDS::DBParameterGroup";
const FUNCTION_URL: &str = "AWS::Lambda::Url";

pub(super) fn rules() -> Vec<Rule> {
    vec![
        Rule {
            info: RuleInfo {
                id: "IG-RDS-009",
                checkov_id: Some("CKV2_AWS_69"),
                severity: Severity::Medium,
                title: "RDS instance does not require encryption in transit",
                resource_types: INSTANCE,
                remediation: "In the instance's DB parameter group set rds.force_ssl to 1 (PostgreSQL, SQL Server) or require_secure_transport to 1 (MySQL, MariaDB), or db2comm to SSL (Db2), so clients must connect over TLS; the instance applies it after a reboot.",
            },
            check: rds_in_transit,
        },
        Rule {
            info: RuleInfo {
                id: "IG-LAMBDA-008",
                checkov_id: Some("CKV2_AWS_75"),
                severity: Severity::Medium,
                title: "Lambda function URL has an open CORS policy",
                resource_types: FUNCTION,
                remediation: "In the function URL's Cors, list the origins that may call it (AllowOrigins: [https://app.example.com]) or the methods they need (AllowMethods: [GET, POST]) instead of \"*\".",
            },
            check: open_cors,
        },
    ]
}

// ------------------------------------------------------------- RDS / TLS

/// The parameter that forces TLS for an engine family, and its required value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TlsParameter {
    name: &'static str,
    value: &'static str,
}

/// What a family (`postgres16`, `mysql8.0`, `sqlserver-ee-16.0`,
/// `db2-ae-11.5`) or an instance `Engine` (`postgres`, `sqlserver-se`)
/// needs, with Checkov's patterns. `None`: the engine has no such parameter
/// (Oracle, Aurora instances), which passes.
fn tls_parameter(engine_or_family: &str) -> Option<TlsParameter> {
    let e = engine_or_family.to_ascii_lowercase();
    if e.starts_with("postgres") || e.contains("sqlserver") {
        Some(TlsParameter {
            name: "rds.force_ssl",
            value: "1",
        })
    } else if e.starts_with("mysql") || e.starts_with("mariadb") {
        Some(TlsParameter {
            name: "require_secure_transport",
            value: "1",
        })
    } else if e.contains("db2-ae") {
        Some(TlsParameter {
            name: "db2comm",
            value: "SSL",
        })
    } else {
        None
    }
}

/// A resource of the template by logical id.
struct Neighbour<'a> {
    id: &'a str,
    entry: &'a Value,
    props: &'a Value,
}

fn resource<'a>(template: &'a Value, id: &str, type_name: &str) -> Option<Neighbour<'a>> {
    let (id, entry) = template.get("Resources")?.as_object()?.get_key_value(id)?;
    (entry.get("Type").and_then(Value::as_str) == Some(type_name)).then(|| Neighbour {
        id,
        entry,
        props: entry.get("Properties").unwrap_or(&Value::Null),
    })
}

/// The template's resources of `type_name`, from the scan's index (one
/// walk of the template per scan, not one per resource checked).
fn resources_of<'a>(ctx: &Ctx<'a>, type_name: &str) -> impl Iterator<Item = Neighbour<'a>> + 'a {
    ctx.by_type.of(type_name).iter().map(|r| Neighbour {
        id: r.logical_id,
        entry: r.entry,
        props: r.properties,
    })
}

/// Whether `id` is declared in the template's `Parameters`.
fn is_parameter(template: &Value, id: &str) -> bool {
    template
        .get("Parameters")
        .and_then(Value::as_object)
        .is_some_and(|p| p.contains_key(id))
}

/// The parameter group an instance uses, when the template says.
enum Group<'a> {
    /// No group in this template is connected: the default or an external one.
    None,
    Connected(Neighbour<'a>),
    /// Decided at deploy time (a parameter, a condition, an import).
    Unknown(String),
}

fn connected_group<'a>(ctx: &Ctx<'a>) -> Group<'a> {
    let template = &ctx.template.0;
    let Some(raw) = ctx.props.get("DBParameterGroupName") else {
        return Group::None;
    };
    match Val::of(raw) {
        Val::Absent | Val::Known(Value::Null) => Group::None,
        Val::Known(Value::String(name)) => {
            // RDS names are case-insensitive (stored lower-case).
            resources_of(ctx, PARAMETER_GROUP)
                .find(|g| {
                    Val::at(g.props, &["DBParameterGroupName"])
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
                .map_or(Group::None, Group::Connected)
        }
        Val::Known(_) => Group::None,
        Val::Unknown("Ref") => {
            let target = raw.get("Ref").and_then(Value::as_str).unwrap_or("");
            if let Some(g) = resource(template, target, PARAMETER_GROUP) {
                Group::Connected(g)
            } else if is_parameter(template, target) {
                Group::Unknown(format!(
                    "the parameter group is template parameter `{target}`"
                ))
            } else {
                Group::None
            }
        }
        Val::Unknown(name) => Group::Unknown(format!("the parameter group is chosen by {name}")),
    }
}

fn rds_in_transit(ctx: &Ctx<'_>, out: &mut Out) {
    const PATH: &str = "Properties/DBParameterGroupName";
    let group = match connected_group(ctx) {
        Group::None => return,
        Group::Unknown(why) => return out.unknown(PATH, why),
        Group::Connected(g) => g,
    };
    // The group's Family decides (Checkov's reading); the instance's Engine
    // stands in when the family is not a literal.
    let family = Val::at(group.props, &["Family"]);
    let engine = ctx.prop(&["Engine"]);
    let (label, needed) = match (family.as_str(), engine.as_str()) {
        (Some(f), _) => (format!("family {f}"), tls_parameter(f)),
        (None, Some(e)) => (format!("engine {e}"), tls_parameter(e)),
        (None, None) => {
            return out.unknown(
                PATH,
                format!(
                    "the engine of parameter group `{}` is not a literal (Family and Engine)",
                    group.id
                ),
            );
        }
    };
    let Some(needed) = needed else {
        return; // no TLS-forcing parameter exists for this engine
    };
    let parameters = Val::at(group.props, &["Parameters"]);
    let value = match parameters {
        Val::Unknown(by) => {
            return out.unknown(
                PATH,
                format!("the Parameters of `{}` are set by {by}", group.id),
            );
        }
        Val::Known(Value::Object(map)) => map.get(needed.name).map_or(Val::Absent, Val::of),
        _ => Val::Absent,
    };
    let as_text = match value {
        Val::Unknown(by) => {
            return out.unknown(
                PATH,
                format!("{} of `{}` is set by {by}", needed.name, group.id),
            );
        }
        Val::Known(Value::String(s)) => Some(s.trim().to_string()),
        Val::Known(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    if as_text.as_deref() == Some(needed.value) {
        return;
    }
    let state = match &as_text {
        Some(v) => format!("sets {} to {v}", needed.name),
        None => format!("does not set {}", needed.name),
    };
    let message = format!(
        "parameter group `{}` ({label}) {state}: clients may connect without TLS (set Parameters.{} to {} in `{}`)",
        group.id, needed.name, needed.value, group.id
    );
    // Mechanical only when Parameters is a mapping or absent: a wrong-shaped
    // value has to be looked at by a person.
    let patchable = match parameters {
        Val::Known(Value::Object(_)) => true,
        v => v.is_absent(),
    };
    if patchable {
        let group_ctx = Ctx {
            id: group.id,
            type_name: PARAMETER_GROUP,
            props: group.props,
            entry: group.entry,
            template: ctx.template,
            by_type: ctx.by_type,
            options: ctx.options,
        };
        let fix = group_ctx.set(
            &["Properties", "Parameters", needed.name],
            json!(needed.value),
        );
        out.fail_fix(PATH, message, fix);
    } else {
        out.fail(PATH, message);
    }
}

// ------------------------------------------------------------- Lambda CORS

/// Whether a function URL's `TargetFunctionArn` names function `id`:
/// `Ref`, `Fn::GetAtt [id, Arn]`, or the `"id.Arn"` string form.
fn targets(url_props: &Value, id: &str) -> bool {
    let Some(target) = url_props.get("TargetFunctionArn") else {
        return false;
    };
    match intrinsic_name(target) {
        Some("Ref") => target.get("Ref").and_then(Value::as_str) == Some(id),
        Some("Fn::GetAtt") => match target.get("Fn::GetAtt") {
            Some(Value::Array(args)) => args.first().and_then(Value::as_str) == Some(id),
            Some(Value::String(s)) => s.split_once('.').is_some_and(|(l, _)| l == id),
            _ => false,
        },
        _ => false,
    }
}

/// Whether a CORS list holds `"*"`: `Some(true)` yes, `Some(false)` no,
/// `None` when an intrinsic decides (and no literal `"*"` settles it).
fn has_wildcard(cors: &Value, key: &str) -> Option<bool> {
    match Val::at(cors, &[key]) {
        Val::Unknown(_) => None,
        Val::Known(Value::String(s)) => Some(s == "*"),
        Val::Known(Value::Array(items)) => {
            let mut undecided = false;
            for item in items {
                match Val::of(item) {
                    Val::Known(Value::String(s)) if s == "*" => return Some(true),
                    Val::Unknown(_) => undecided = true,
                    _ => {}
                }
            }
            (!undecided).then_some(false)
        }
        _ => Some(false),
    }
}

fn open_cors(ctx: &Ctx<'_>, out: &mut Out) {
    // The function has no property that names its URL: the finding points at
    // its Properties and the message at the URL to change.
    const PATH: &str = "Properties";
    for url in resources_of(ctx, FUNCTION_URL).filter(|u| targets(u.props, ctx.id)) {
        let cors = match Val::at(url.props, &["Cors"]) {
            Val::Unknown(by) => {
                out.unknown(
                    PATH,
                    format!("the Cors of function URL `{}` is set by {by}", url.id),
                );
                continue;
            }
            Val::Known(v) => v,
            Val::Absent => continue,
        };
        // Checkov fails only when both lists allow everything: either one
        // restricted is a pass.
        match (
            has_wildcard(cors, "AllowOrigins"),
            has_wildcard(cors, "AllowMethods"),
        ) {
            (Some(true), Some(true)) => out.fail(
                PATH,
                format!(
                    "function URL `{}` lets any website call it with any method (Cors AllowOrigins and AllowMethods are \"*\")",
                    url.id
                ),
            ),
            (Some(false), _) | (_, Some(false)) => {}
            _ => out.unknown(
                PATH,
                format!(
                    "the Cors origins or methods of function URL `{}` are set by an intrinsic",
                    url.id
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ScanOptions, parse_template, scan};

    /// (failed, undetermined) of `rule` on `resource`.
    fn verdict(template: &str, rule: &str, resource: &str) -> (bool, bool) {
        let t = parse_template(template).unwrap();
        let r = scan(&t, &ScanOptions::default());
        (
            r.findings
                .iter()
                .any(|f| f.rule == rule && f.resource == resource),
            r.undetermined
                .iter()
                .any(|u| u.rule == rule && u.resource == resource),
        )
    }

    fn rds(group_props: Value, db_group: Value, extra: Value) -> String {
        let mut t = json!({
            "Parameters": {"Pg": {"Type": "String"}},
            "Resources": {
                "G": {"Type": "AWS::RDS::DBParameterGroup", "Properties": group_props},
                "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": "postgres", "DBParameterGroupName": db_group}}
            }
        });
        if let Value::Object(m) = extra {
            for (k, v) in m {
                t["Resources"][k] = v;
            }
        }
        t.to_string()
    }

    #[test]
    fn families_map_to_their_tls_parameter() {
        assert_eq!(tls_parameter("postgres16").unwrap().name, "rds.force_ssl");
        assert_eq!(
            tls_parameter("sqlserver-ee-16.0").unwrap().name,
            "rds.force_ssl"
        );
        assert_eq!(
            tls_parameter("MySQL8.0").unwrap().name,
            "require_secure_transport"
        );
        assert_eq!(
            tls_parameter("mariadb10.11").unwrap().name,
            "require_secure_transport"
        );
        assert_eq!(tls_parameter("db2-ae-11.5").unwrap().value, "SSL");
        assert_eq!(tls_parameter("oracle-ee-19"), None);
        assert_eq!(tls_parameter("aurora-postgresql16"), None);
    }

    #[test]
    fn an_instance_is_judged_by_its_connected_parameter_group() {
        let by_ref = json!({"Ref": "G"});
        let pg = |params: Value| json!({"Family": "postgres16", "Description": "d", "Parameters": params});
        let v = |g: Value, db: Value| verdict(&rds(g, db, json!({})), "IG-RDS-009", "Db");
        assert_eq!(
            v(pg(json!({"rds.force_ssl": "1"})), by_ref.clone()),
            (false, false)
        );
        assert_eq!(
            v(pg(json!({"rds.force_ssl": 1})), by_ref.clone()),
            (false, false)
        );
        assert_eq!(
            v(pg(json!({"rds.force_ssl": "0"})), by_ref.clone()),
            (true, false)
        );
        assert_eq!(v(pg(json!({})), by_ref.clone()), (true, false));
        assert_eq!(
            v(pg(json!({"rds.force_ssl": {"Ref": "X"}})), by_ref.clone()),
            (false, true)
        );
        assert_eq!(
            v(
                json!({"Family": "postgres16", "Parameters": {"Fn::If": ["C", {}, {}]}}),
                by_ref.clone()
            ),
            (false, true)
        );
        // MySQL needs its own parameter; Oracle has none and passes.
        assert_eq!(
            v(
                json!({"Family": "mysql8.0", "Parameters": {"rds.force_ssl": "1"}}),
                by_ref.clone()
            ),
            (true, false)
        );
        assert_eq!(
            v(
                json!({"Family": "mysql8.0", "Parameters": {"require_secure_transport": "1"}}),
                by_ref.clone()
            ),
            (false, false)
        );
        assert_eq!(
            v(json!({"Family": "oracle-ee-19"}), by_ref.clone()),
            (false, false)
        );
        // Family from a parameter: the instance's engine decides.
        assert_eq!(
            v(json!({"Family": {"Ref": "Pg"}}), by_ref.clone()),
            (true, false)
        );
        // By the group's literal name (case-insensitive), which Checkov misses.
        let named = json!({"DBParameterGroupName": "App-PG", "Family": "postgres16"});
        assert_eq!(v(named, json!("app-pg")), (true, false));
        // No group of this template: default or external, a pass.
        assert_eq!(
            v(pg(json!({})), json!("some-external-group")),
            (false, false)
        );
        assert_eq!(
            v(pg(json!({})), json!({"Ref": "AWS::NoValue"})),
            (false, false)
        );
        // A group chosen at deploy time: cannot tell.
        assert_eq!(v(pg(json!({})), json!({"Ref": "Pg"})), (false, true));
        assert_eq!(
            v(pg(json!({})), json!({"Fn::If": ["C", "a", "b"]})),
            (false, true)
        );
    }

    #[test]
    fn engine_unknown_everywhere_is_cannot_tell() {
        let t = json!({"Resources": {
            "G": {"Type": "AWS::RDS::DBParameterGroup", "Properties": {"Family": {"Ref": "F"}}},
            "Db": {"Type": "AWS::RDS::DBInstance", "Properties": {"Engine": {"Ref": "E"}, "DBParameterGroupName": {"Ref": "G"}}}
        }});
        assert_eq!(verdict(&t.to_string(), "IG-RDS-009", "Db"), (false, true));
    }

    #[test]
    fn the_fix_sets_the_parameter_on_the_group() {
        let t = parse_template(&rds(
            json!({"Family": "postgres16", "Parameters": {"work_mem": "4096"}}),
            json!({"Ref": "G"}),
            json!({}),
        ))
        .unwrap();
        let r = scan(&t, &ScanOptions::default());
        let f = r.findings.iter().find(|f| f.rule == "IG-RDS-009").unwrap();
        assert_eq!(f.path, "Properties/DBParameterGroupName");
        assert!(
            f.message.contains("`G`") && f.message.contains("rds.force_ssl"),
            "{}",
            f.message
        );
        assert_eq!(
            f.fix,
            Some(
                json!([{"op": "add", "path": "/Resources/G/Properties/Parameters/rds.force_ssl", "value": "1"}])
            )
        );
        let fixed = crate::apply_fixes(&t, &r.findings).unwrap();
        assert!(
            !scan(&fixed, &ScanOptions::default())
                .findings
                .iter()
                .any(|f| f.rule == "IG-RDS-009")
        );
        // A wrong-shaped Parameters gets no patch, but still fails.
        let t = parse_template(&rds(
            json!({"Family": "postgres16", "Parameters": "oops"}),
            json!({"Ref": "G"}),
            json!({}),
        ))
        .unwrap();
        let r = scan(&t, &ScanOptions::default());
        let f = r.findings.iter().find(|f| f.rule == "IG-RDS-009").unwrap();
        assert!(f.fix.is_none());
    }

    fn lambda(url: Value) -> String {
        json!({"Resources": {
            "F": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.12"}},
            "U": {"Type": "AWS::Lambda::Url", "Properties": url}
        }})
        .to_string()
    }

    #[test]
    fn a_function_fails_when_its_url_allows_any_origin_and_any_method() {
        let v = |url: Value| verdict(&lambda(url), "IG-LAMBDA-008", "F");
        let open = json!({"AllowOrigins": ["*"], "AllowMethods": ["*"]});
        assert_eq!(
            v(
                json!({"AuthType": "NONE", "TargetFunctionArn": {"Fn::GetAtt": ["F", "Arn"]}, "Cors": open})
            ),
            (true, false)
        );
        assert_eq!(
            v(json!({"TargetFunctionArn": {"Ref": "F"}, "Cors": open})),
            (true, false)
        );
        assert_eq!(
            v(
                json!({"TargetFunctionArn": {"Fn::GetAtt": "F.Arn"}, "Cors": {"AllowOrigins": "*", "AllowMethods": "*"}})
            ),
            (true, false)
        );
        // One side restricted is a pass, as in Checkov.
        assert_eq!(
            v(
                json!({"TargetFunctionArn": {"Ref": "F"}, "Cors": {"AllowOrigins": ["*"], "AllowMethods": ["GET"]}})
            ),
            (false, false)
        );
        assert_eq!(
            v(json!({"TargetFunctionArn": {"Ref": "F"}, "Cors": {"AllowOrigins": ["*"]}})),
            (false, false)
        );
        assert_eq!(
            v(json!({"TargetFunctionArn": {"Ref": "F"}})),
            (false, false)
        );
        // Another function's URL does not count.
        assert_eq!(
            v(json!({"TargetFunctionArn": {"Ref": "Other"}, "Cors": open})),
            (false, false)
        );
        // Intrinsics: cannot tell.
        assert_eq!(
            v(
                json!({"TargetFunctionArn": {"Ref": "F"}, "Cors": {"AllowOrigins": [{"Ref": "O"}], "AllowMethods": ["*"]}})
            ),
            (false, true)
        );
        assert_eq!(
            v(json!({"TargetFunctionArn": {"Ref": "F"}, "Cors": {"Fn::If": ["C", {}, {}]}})),
            (false, true)
        );
        // A literal "*" settles it even beside an intrinsic.
        assert_eq!(
            v(
                json!({"TargetFunctionArn": {"Ref": "F"}, "Cors": {"AllowOrigins": [{"Ref": "O"}, "*"], "AllowMethods": ["*"]}})
            ),
            (true, false)
        );
    }

    #[test]
    fn a_function_without_a_url_passes() {
        let t = json!({"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {}}}});
        assert_eq!(
            verdict(&t.to_string(), "IG-LAMBDA-008", "F"),
            (false, false)
        );
    }
}
