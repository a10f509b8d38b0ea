//! The rule catalogue and the loop that runs it.
//!
//! A [`Rule`] is static metadata ([`RuleInfo`]) plus a check function that
//! looks at one resource through a [`Ctx`] and reports into an [`Out`]: a
//! failure (path, message, optional fix) or an undetermined result (path and
//! why). Rules never see each other; [`run`] applies suppressions and orders
//! the findings afterwards. A check that needs a connected resource (the
//! `graph` rules) reads it from [`Ctx::template`]; its finding stays on the
//! resource being checked.

mod accounts;
mod cognito;
mod compute;
mod data_stores;
mod graph;
mod iam_rules;
mod messaging;
mod naming;
mod network;
mod s3;
pub(crate) mod secrets;

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::OnceLock;

use infraguard_core::template::TemplateResource;

use serde_json::{Value, json};

use crate::value::{Val, pointer_escape};
use crate::{
    Finding, RuleInfo, ScanOptions, ScanReport, Severity, Template, Undetermined, suppress,
};

/// One rule: what it is and how it checks a resource.
pub(crate) struct Rule {
    pub info: RuleInfo,
    pub check: fn(&Ctx<'_>, &mut Out),
}

/// The resource a check is looking at.
pub(crate) struct Ctx<'a> {
    pub id: &'a str,
    pub type_name: &'a str,
    /// `Properties`, or `Null`.
    pub props: &'a Value,
    /// The whole resource entry.
    pub entry: &'a Value,
    pub template: &'a Template,
    /// The template's resources by type, for checks that look at connected
    /// resources.
    pub by_type: &'a ByType<'a>,
    pub options: &'a ScanOptions,
}

/// The template's resources grouped by type, built once per scan: a check
/// that looks for connected resources (the `graph` rules) reads one type's
/// list instead of walking every resource for each resource it checks, which
/// would make a scan quadratic in the template's size.
pub(crate) struct ByType<'a>(HashMap<&'a str, Vec<TemplateResource<'a>>>);

impl<'a> ByType<'a> {
    pub(crate) fn new(resources: &[TemplateResource<'a>]) -> ByType<'a> {
        let mut map: HashMap<&str, Vec<TemplateResource<'a>>> = HashMap::new();
        for r in resources {
            map.entry(r.type_name).or_default().push(r.clone());
        }
        ByType(map)
    }

    /// The resources of `type_name`, in template order.
    pub(crate) fn of(&self, type_name: &str) -> &[TemplateResource<'a>] {
        self.0.get(type_name).map_or(&[], Vec::as_slice)
    }
}

impl<'a> Ctx<'a> {
    /// A property by path below `Properties`.
    pub(crate) fn prop(&self, path: &[&str]) -> Val<'a> {
        Val::at(self.props, path)
    }

    /// A JSON pointer into the whole template for a path below the entry.
    pub(crate) fn pointer(&self, path: &[&str]) -> String {
        let mut p = format!("/Resources/{}", pointer_escape(self.id));
        for s in path {
            p.push('/');
            p.push_str(&pointer_escape(s));
        }
        p
    }

    /// A patch that sets `path` (below the entry) to `value`, creating the
    /// missing parents as objects: one `add` at the first missing level, or a
    /// `replace` when the property exists.
    pub(crate) fn set(&self, path: &[&str], value: Value) -> Value {
        Value::Array(self.set_ops(path, value))
    }

    pub(crate) fn set_ops(&self, path: &[&str], value: Value) -> Vec<Value> {
        let mut current = self.entry;
        for (i, segment) in path.iter().enumerate() {
            let next = match current {
                Value::Object(map) => map.get(*segment),
                Value::Array(items) => segment.parse::<usize>().ok().and_then(|n| items.get(n)),
                _ => None,
            };
            match next {
                Some(v) if i + 1 < path.len() => current = v,
                Some(_) => {
                    return vec![
                        json!({"op": "replace", "path": self.pointer(path), "value": value}),
                    ];
                }
                None => {
                    let mut nested = value;
                    for key in path[i + 1..].iter().rev() {
                        nested = json!({ *key: nested });
                    }
                    return vec![
                        json!({"op": "add", "path": self.pointer(&path[..=i]), "value": nested}),
                    ];
                }
            }
        }
        Vec::new()
    }

    /// A patch that removes `path` when it exists.
    pub(crate) fn remove_ops(&self, path: &[&str]) -> Vec<Value> {
        if path.iter().try_fold(self.entry, |v, s| v.get(*s)).is_some() {
            vec![json!({"op": "remove", "path": self.pointer(path)})]
        } else {
            Vec::new()
        }
    }
}

/// What a check reports.
#[derive(Default)]
pub(crate) struct Out {
    pub hits: Vec<Hit>,
    pub unknown: Vec<(String, String)>,
}

pub(crate) struct Hit {
    pub path: String,
    pub message: String,
    pub fix: Option<Value>,
}

impl Out {
    pub(crate) fn fail(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.hits.push(Hit {
            path: path.into(),
            message: message.into(),
            fix: None,
        });
    }

    pub(crate) fn fail_fix(
        &mut self,
        path: impl Into<String>,
        message: impl Into<String>,
        fix: Value,
    ) {
        self.hits.push(Hit {
            path: path.into(),
            message: message.into(),
            fix: Some(fix),
        });
    }

    pub(crate) fn unknown(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.unknown.push((path.into(), reason.into()));
    }
}

/// Every rule, built once.
pub(crate) fn all() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut v = Vec::new();
        v.extend(s3::rules());
        v.extend(iam_rules::rules());
        v.extend(data_stores::rules());
        v.extend(compute::rules());
        v.extend(messaging::rules());
        v.extend(network::rules());
        v.extend(cognito::rules());
        v.extend(secrets::rules());
        v.extend(naming::rules());
        v.extend(accounts::rules());
        v.extend(graph::rules());
        v
    })
}

pub(crate) fn run(template: &Template, options: &ScanOptions) -> ScanReport {
    let mut report = ScanReport::default();
    let resources = template.resources();
    report.resources = resources.len();
    let rules = all();
    let by_type = ByType::new(&resources);
    for res in &resources {
        let ctx = Ctx {
            id: res.logical_id,
            type_name: res.type_name,
            props: res.properties,
            entry: res.entry,
            template,
            by_type: &by_type,
            options,
        };
        for rule in rules {
            if !applies(&rule.info, res.type_name) {
                continue;
            }
            report.rules_run += 1;
            let mut out = Out::default();
            (rule.check)(&ctx, &mut out);
            for hit in out.hits {
                report.findings.push(Finding {
                    rule: rule.info.id.to_string(),
                    checkov_id: rule.info.checkov_id.map(str::to_string),
                    severity: rule.info.severity,
                    title: rule.info.title.to_string(),
                    resource: res.logical_id.to_string(),
                    type_name: res.type_name.to_string(),
                    path: hit.path,
                    message: hit.message,
                    remediation: rule.info.remediation.to_string(),
                    fix: hit.fix,
                    suppressed: None,
                });
            }
            for (path, reason) in out.unknown {
                report.undetermined.push(Undetermined {
                    rule: rule.info.id.to_string(),
                    checkov_id: rule.info.checkov_id.map(str::to_string),
                    resource: res.logical_id.to_string(),
                    type_name: res.type_name.to_string(),
                    path,
                    reason,
                });
            }
        }
    }
    suppress::apply(template, options, &mut report);
    sort_findings(&resources, &mut report.findings);
    report
}

/// Grouped by resource, the resource with the worst open finding first
/// (then template order), and worst first within a resource.
///
/// Each finding's resource rank and template position are looked up once,
/// in hash maps built in one pass, so the sort is n·log n: looking the
/// position up in the resource list from inside the comparison made it
/// quadratic (67 s for 10,000 buckets).
fn sort_findings(resources: &[TemplateResource<'_>], findings: &mut Vec<Finding>) {
    let mut pos: HashMap<&str, usize> = HashMap::with_capacity(resources.len());
    for (i, r) in resources.iter().enumerate() {
        pos.entry(r.logical_id).or_insert(i);
    }
    let mut worst: HashMap<&str, Severity> = HashMap::new();
    for f in findings.iter().filter(|f| f.is_open()) {
        worst
            .entry(f.resource.as_str())
            .and_modify(|w| *w = (*w).max(f.severity))
            .or_insert(f.severity);
    }
    let keys: Vec<(Reverse<Option<Severity>>, usize)> = findings
        .iter()
        .map(|f| {
            let id = f.resource.as_str();
            (
                Reverse(worst.get(id).copied()),
                pos.get(id).copied().unwrap_or(usize::MAX),
            )
        })
        .collect();
    let mut keyed: Vec<_> = keys.into_iter().zip(std::mem::take(findings)).collect();
    // Stable, like the comparison it replaces, so equal findings keep the
    // order the rules produced them in.
    keyed.sort_by(|(ka, a), (kb, b)| {
        ka.cmp(kb)
            .then(a.resource.cmp(&b.resource))
            .then(b.severity.cmp(&a.severity))
            .then(a.rule.cmp(&b.rule))
            .then(a.path.cmp(&b.path))
    });
    findings.extend(keyed.into_iter().map(|(_, f)| f));
}

fn applies(info: &RuleInfo, type_name: &str) -> bool {
    info.resource_types
        .iter()
        .any(|t| *t == "*" || *t == type_name)
}

/// The common shape of "this property must be set to one of these values":
/// fails when absent (unless `absent_passes`) or different, cannot tell when
/// an intrinsic decides it. Returns nothing; reports into `out`.
pub(crate) struct Expect<'p> {
    pub path: &'p [&'p str],
    pub absent_passes: bool,
}

impl Expect<'_> {
    pub(crate) fn bool_true(
        &self,
        ctx: &Ctx<'_>,
        out: &mut Out,
        message: &str,
        fix: Option<Value>,
    ) {
        let v = ctx.prop(self.path);
        let path = prop_path(self.path);
        let name = self.path.last().copied().unwrap_or("");
        // A value chosen by Fn::If is judged in every branch: the same
        // verdict everywhere is a verdict, different ones are "cannot tell".
        let verdict = |v: &Val<'_>| -> Option<Option<&'static str>> {
            match v {
                Val::Unknown(_) => None,
                _ if v.is_absent() => Some((!self.absent_passes).then_some("is not set")),
                _ => Some(match v.as_bool() {
                    Some(true) => None,
                    Some(false) => Some("is false"),
                    None => Some("is not a boolean"),
                }),
            }
        };
        let outcome = match v {
            Val::Unknown("Fn::If") => {
                let branches = crate::value::raw_at(ctx.props, self.path)
                    .and_then(crate::value::if_branches)
                    .unwrap_or_default();
                // Per branch: None = cannot tell, Some(true) = fails.
                let fails: Vec<Option<bool>> = branches
                    .iter()
                    .map(|b| verdict(b).map(|why| why.is_some()))
                    .collect();
                match fails.first() {
                    Some(Some(first)) if fails.iter().all(|x| *x == Some(*first)) => {
                        Some(first.then_some("is not true in any branch of Fn::If"))
                    }
                    _ => None,
                }
            }
            _ => verdict(&v),
        };
        match (outcome, v) {
            (None, Val::Unknown(by)) => out.unknown(path, format!("set by {by}")),
            (None, _) => {}
            (Some(None), _) => {}
            (Some(Some(why)), _) => push(out, path, format!("{message} ({name} {why})"), fix),
        }
    }

    /// Any non-empty value passes (Checkov's "ANY_VALUE").
    pub(crate) fn present(&self, ctx: &Ctx<'_>, out: &mut Out, message: &str, fix: Option<Value>) {
        let v = ctx.prop(self.path);
        let path = prop_path(self.path);
        match v {
            Val::Unknown(_) => {}
            Val::Known(Value::String(s)) if s.is_empty() => {
                push(out, path, message.to_string(), fix)
            }
            _ if v.is_absent() => push(out, path, message.to_string(), fix),
            _ => {}
        }
    }
}

fn push(out: &mut Out, path: String, message: String, fix: Option<Value>) {
    match fix {
        Some(f) => out.fail_fix(path, message, f),
        None => out.fail(path, message),
    }
}

/// `Properties/A/B` for a path below `Properties`.
pub(crate) fn prop_path(path: &[&str]) -> String {
    let mut p = String::from("Properties");
    for s in path {
        p.push('/');
        p.push_str(s);
    }
    p
}

/// `["Properties", a, b]`, for fixes.
pub(crate) fn under_props<'a>(path: &[&'a str]) -> Vec<&'a str> {
    let mut v = Vec::with_capacity(path.len() + 1);
    v.push("Properties");
    v.extend_from_slice(path);
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_template;

    fn ctx_of(t: &Template) -> Ctx<'_> {
        let res = t.resources();
        let r = &res[0];
        Ctx {
            id: r.logical_id,
            type_name: r.type_name,
            props: r.properties,
            entry: r.entry,
            template: t,
            by_type: Box::leak(Box::new(ByType::new(&res))),
            options: Box::leak(Box::new(ScanOptions::default())),
        }
    }

    #[test]
    fn a_value_chosen_by_fn_if_is_judged_in_every_branch() {
        let verdict = |rotation: Value| {
            let t = Template(
                json!({"Resources": {"K": {"Type": "AWS::KMS::Key", "DeletionPolicy": "Retain",
                "Properties": {"EnableKeyRotation": rotation}}}}),
            );
            let r = run(&t, &ScanOptions::default());
            let failed = r.findings.iter().any(|f| f.rule == "IG-KMS-001");
            let unknown = r.undetermined.iter().any(|u| u.rule == "IG-KMS-001");
            (failed, unknown)
        };
        assert_eq!(
            verdict(json!({"Fn::If": ["C", true, "true"]})),
            (false, false)
        );
        assert_eq!(
            verdict(json!({"Fn::If": ["C", false, {"Ref": "AWS::NoValue"}]})),
            (true, false)
        );
        assert_eq!(
            verdict(json!({"Fn::If": ["C", true, false]})),
            (false, true)
        );
        assert_eq!(
            verdict(json!({"Fn::If": ["C", true, {"Ref": "P"}]})),
            (false, true)
        );
    }

    #[test]
    fn resources_with_the_worst_findings_come_first() {
        let t = parse_template(
            r#"{"Resources":{
                "A":{"Type":"AWS::SNS::Topic","Properties":{}},
                "B":{"Type":"AWS::S3::Bucket","DeletionPolicy":"Retain","Properties":{"AccessControl":"PublicReadWrite"}}}}"#,
        )
        .unwrap();
        let r = run(&t, &ScanOptions::default());
        assert_eq!(r.findings[0].resource, "B");
        assert_eq!(r.findings[0].severity, Severity::Critical);
        assert_eq!(r.findings.last().unwrap().resource, "A");
        assert!(
            r.findings
                .windows(2)
                .all(|w| w[0].resource != w[1].resource || w[0].severity >= w[1].severity)
        );
    }

    #[test]
    fn set_adds_at_the_first_missing_level_or_replaces() {
        let t = parse_template(
            r#"{"Resources":{"B":{"Type":"AWS::S3::Bucket","Properties":{"A":{"x":1}}}}}"#,
        )
        .unwrap();
        let c = ctx_of(&t);
        assert_eq!(
            c.set(&["Properties", "A", "x"], json!(2)),
            json!([{"op": "replace", "path": "/Resources/B/Properties/A/x", "value": 2}])
        );
        assert_eq!(
            c.set(&["Properties", "C", "y"], json!(true)),
            json!([{"op": "add", "path": "/Resources/B/Properties/C", "value": {"y": true}}])
        );
        assert_eq!(
            c.set(&["DeletionPolicy"], json!("Retain")),
            json!([{"op": "add", "path": "/Resources/B/DeletionPolicy", "value": "Retain"}])
        );
        assert!(c.remove_ops(&["Properties", "Nope"]).is_empty());
    }

    /// The ordering as it was before [`sort_findings`] (positions looked up
    /// linearly inside the comparison), kept to prove the new one agrees.
    fn sort_as_before(resources: &[TemplateResource<'_>], findings: &mut [Finding]) {
        let order: Vec<&str> = resources.iter().map(|r| r.logical_id).collect();
        let pos = |id: &str| order.iter().position(|o| *o == id).unwrap_or(usize::MAX);
        let mut worst: std::collections::BTreeMap<String, Severity> =
            std::collections::BTreeMap::new();
        for f in findings.iter().filter(|f| f.is_open()) {
            let w = worst.entry(f.resource.clone()).or_insert(f.severity);
            *w = (*w).max(f.severity);
        }
        let rank = |id: &str| std::cmp::Reverse(worst.get(id).copied());
        findings.sort_by(|a, b| {
            rank(&a.resource)
                .cmp(&rank(&b.resource))
                .then(pos(&a.resource).cmp(&pos(&b.resource)))
                .then(a.resource.cmp(&b.resource))
                .then(b.severity.cmp(&a.severity))
                .then(a.rule.cmp(&b.rule))
                .then(a.path.cmp(&b.path))
        });
    }

    /// Many resources of several types, some public, some suppressed, one
    /// outside suppression naming a resource that does not exist.
    fn mixed_template(n: usize) -> (Template, ScanOptions) {
        let mut resources = serde_json::Map::new();
        for i in 0..n {
            let entry = match i % 5 {
                0 => {
                    json!({"Type": "AWS::S3::Bucket", "Properties": {"AccessControl": "PublicReadWrite"}})
                }
                1 => json!({"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain",
                    "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_18", "comment": "logs elsewhere"}]}},
                    "Properties": {"BucketName": format!("b{i}")}}),
                2 => json!({"Type": "AWS::SQS::Queue", "Properties": {}}),
                3 => json!({"Type": "AWS::SNS::Topic",
                    "Metadata": {"infraguard": {"suppress": [{"rule": "IG-SNS-001"}]}},
                    "Properties": {}}),
                _ => {
                    json!({"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.7"}})
                }
            };
            // Ids whose sorted order is not their number order.
            resources.insert(format!("R{}", (i * 7919) % (n * 3)), entry);
        }
        let options = ScanOptions {
            today: "2026-11-26".into(),
            suppressions: vec![
                crate::Suppress {
                    rule: "IG-S3-008".into(),
                    resource: "*".into(),
                    reason: "demo".into(),
                },
                crate::Suppress {
                    rule: "IG-SQS-001".into(),
                    resource: "Nowhere".into(),
                    reason: String::new(),
                },
            ],
            ..Default::default()
        };
        (Template(json!({"Resources": resources})), options)
    }

    #[test]
    fn the_finding_order_is_the_same_as_before_the_linear_sort() {
        let (t, options) = mixed_template(200);
        let report = run(&t, &options);
        assert!(report.findings.len() > 400, "{}", report.findings.len());
        assert!(report.findings.iter().any(|f| !f.is_open()));
        let resources = t.resources();
        let mut again = report.findings.clone();
        sort_as_before(&resources, &mut again);
        assert_eq!(again, report.findings, "the scan's order is the old order");
        // And from an order the sort has not seen (ties keep input order in
        // both: both sorts are stable).
        for shuffle in [1usize, 7, 31] {
            let mut input = report.findings.clone();
            let by = shuffle % input.len();
            input.rotate_left(by);
            input.reverse();
            let mut old = input.clone();
            sort_as_before(&resources, &mut old);
            let mut new = input;
            sort_findings(&resources, &mut new);
            assert_eq!(new, old);
        }
    }
}
