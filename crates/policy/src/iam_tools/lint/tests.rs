use super::checks::{replace_statement, wildcard_principal};
use super::*;

fn opts() -> LintOptions {
    LintOptions {
        prefix: Some("synthcoreai".into()),
        account: Some("123456789012".into()),
        region: Some("us-east-1".into()),
    }
}

fn rules_of(r: &LintReport) -> Vec<&str> {
    r.report.findings.iter().map(|f| f.rule.as_str()).collect()
}

#[test]
fn the_seeds_over_permissive_example_is_flagged_and_its_good_one_scoped() {
    let bad = json!({"Statement": [{"Effect": "Allow", "Action": "ses:*", "Resource": "*"}]});
    let r = lint_document(&bad, &opts());
    assert!(
        rules_of(&r).contains(&SERVICE_WILDCARD),
        "{:?}",
        rules_of(&r)
    );
    let f = r
        .report
        .findings
        .iter()
        .find(|f| f.rule == SERVICE_WILDCARD)
        .unwrap();
    assert!(
        f.message
            .contains("ses:SendEmail, ses:SendRawEmail (ses-send)"),
        "{}",
        f.message
    );
    assert_eq!(f.path, "Statement/0/Action");
    let good = json!({"Statement": [{"Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"], "Resource": "*"}]});
    let r = lint_document(&good, &opts());
    assert_eq!(rules_of(&r), [RESOURCE_STAR]);
    let fix = r.report.findings[0].fix.clone().unwrap();
    assert_eq!(fix[0]["path"], "/Statement/0");
    assert_eq!(
        fix[0]["value"]["Resource"],
        json!([
            "arn:aws:ses:us-east-1:123456789012:configuration-set/synthcoreai-*",
            "arn:aws:ses:us-east-1:123456789012:identity/*",
            "arn:aws:ses:us-east-1:123456789012:template/synthcoreai-*"
        ])
    );
}

#[test]
fn replace_statement_handles_lists_and_single_objects() {
    let one = replace_statement("/Statement", vec![json!(1), json!(2)], false, 0);
    assert_eq!(
        one,
        json!([{"op": "replace", "path": "/Statement", "value": [1, 2]}])
    );
    let list = replace_statement("/Statement/3", vec![json!(1), json!(2)], true, 3);
    assert_eq!(
        list[1],
        json!({"op": "add", "path": "/Statement/4", "value": 2})
    );
    let single = replace_statement("/Statement/0", vec![json!(1)], true, 0);
    assert_eq!(
        single,
        json!([{"op": "replace", "path": "/Statement/0", "value": 1}])
    );
}

#[test]
fn wildcard_principals_are_found() {
    assert_eq!(wildcard_principal(&json!("*")), Some(String::new()));
    assert_eq!(
        wildcard_principal(&json!({"AWS": ["arn:x", "*"]})),
        Some("/AWS/1".into())
    );
    assert_eq!(
        wildcard_principal(&json!({"Service": "lambda.amazonaws.com"})),
        None
    );
}
