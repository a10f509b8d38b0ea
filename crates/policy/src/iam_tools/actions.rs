//! The IAM action catalog as a user meets it: what a wildcard grants, and
//! which real action a misspelt one probably meant.
//!
//! The embedded catalog (cfn-lint's `iam-actions.json`) stores names in lower
//! case only, so expansions are lower case (IAM compares actions without
//! regard to case). Suggestions for a misspelling take the case of the
//! user's own spelling letter by letter (`s3:PutObjekt` → `s3:PutObject`).

use serde::{Deserialize, Serialize};

use crate::data;
use crate::iam;

/// What one action pattern grants.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expansion {
    /// The pattern as written (`s3:Get*`).
    pub pattern: String,
    /// The known actions it matches, lower case, sorted.
    pub actions: Vec<String>,
    /// Why it matches nothing, when it does not (a misspelling, an unknown
    /// service).
    pub problem: Option<String>,
    /// The nearest real actions, when it matches nothing.
    pub suggestions: Vec<String>,
}

/// Expands an action or wildcard (`s3:Get*`, `ses:*`, `*`) into the actions
/// of the catalog it grants.
pub fn expand_action(pattern: &str) -> Expansion {
    let lower = pattern.trim().to_ascii_lowercase();
    let actions: Vec<String> = if lower == "*" {
        data::iam_actions()
            .iter()
            .map(|a| a.name.to_string())
            .collect()
    } else {
        iam::expand(&lower)
            .iter()
            .map(|a| a.name.to_string())
            .collect()
    };
    let problem = iam::unknown_action(pattern.trim());
    let suggestions = if problem.is_some() {
        nearest_actions(pattern.trim(), 3)
    } else {
        Vec::new()
    };
    Expansion {
        pattern: pattern.to_string(),
        actions,
        problem,
        suggestions,
    }
}

/// Whether `action` (no wildcards) is in the catalog.
pub fn is_known(action: &str) -> bool {
    data::iam_action(action).is_some()
}

/// Up to `max` real actions nearest to a misspelt one, best first, spelt
/// with the case of the input. Empty when nothing is close: a far guess
/// would mislead more than it helps.
pub fn nearest_actions(raw: &str, max: usize) -> Vec<String> {
    let Some((service_raw, action_raw)) = raw.trim().split_once(':') else {
        return Vec::new();
    };
    let service = service_raw.to_ascii_lowercase();
    let services: Vec<String> = if data::iam_service_exists(&service) {
        vec![service]
    } else {
        nearest_services(&service)
    };
    let action = action_raw.to_ascii_lowercase();
    let mut scored: Vec<(usize, String)> = Vec::new();
    for s in &services {
        let prefix = format!("{s}:");
        for a in data::iam_actions_with_prefix(&prefix) {
            let candidate = &a.name[prefix.len()..];
            // Wildcards in the input: compare the literal part only.
            let literal = action.trim_end_matches('*');
            let d = distance(literal, candidate);
            if d <= tolerance(literal) {
                scored.push((d, format!("{s}:{}", restore_case(action_raw, candidate))));
            }
        }
    }
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(max).map(|(_, n)| n).collect()
}

/// Service prefixes within two edits (`s4` → `s3`, `dynamdb` → `dynamodb`).
fn nearest_services(service: &str) -> Vec<String> {
    let mut seen: Vec<(usize, &str)> = Vec::new();
    let mut last = "";
    for a in data::iam_actions() {
        let s = a.name.split_once(':').map_or(a.name, |(s, _)| s);
        if s == last {
            continue;
        }
        last = s;
        let d = distance(service, s);
        if d <= 2.min(service.len().saturating_sub(1)).max(1) {
            seen.push((d, s));
        }
    }
    seen.sort();
    seen.into_iter()
        .take(3)
        .map(|(_, s)| s.to_string())
        .collect()
}

/// How many edits a name of this length may be off and still be a likely
/// misspelling.
fn tolerance(name: &str) -> usize {
    (name.len() / 4).clamp(1, 3)
}

/// Levenshtein distance over bytes (action names are ASCII).
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let sub = prev[j - 1] + usize::from(a[i - 1] != b[j - 1]);
            cur[j] = sub.min(prev[j] + 1).min(cur[j - 1] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// `candidate` (lower case) with the case of the aligned letters of `raw`:
/// each letter kept or substituted takes the case of the letter it lines up
/// with; inserted letters stay lower case.
fn restore_case(raw: &str, candidate: &str) -> String {
    let (r, c) = (raw.as_bytes(), candidate.as_bytes());
    let (n, m) = (r.len(), c.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let sub = d[i - 1][j - 1] + usize::from(!r[i - 1].eq_ignore_ascii_case(&c[j - 1]));
            d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
        }
    }
    let mut out = vec![0u8; m];
    let (mut i, mut j) = (n, m);
    while j > 0 {
        let diag = i > 0
            && d[i][j] == d[i - 1][j - 1] + usize::from(!r[i - 1].eq_ignore_ascii_case(&c[j - 1]));
        if diag {
            out[j - 1] = if r[i - 1].is_ascii_uppercase() {
                c[j - 1].to_ascii_uppercase()
            } else {
                c[j - 1]
            };
            i -= 1;
            j -= 1;
        } else if i > 0 && d[i][j] == d[i - 1][j] + 1 {
            i -= 1;
        } else {
            out[j - 1] = c[j - 1];
            j -= 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| candidate.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_action_gets_the_real_one_in_the_users_case() {
        assert_eq!(nearest_actions("s3:PutObjekt", 3)[0], "s3:PutObject");
        assert_eq!(nearest_actions("ses:SendEmial", 1), vec!["ses:SendEmail"]);
        assert_eq!(
            nearest_actions("dynamdb:GetItem", 1),
            vec!["dynamodb:GetItem"]
        );
        assert!(nearest_actions("s3:CompletelyDifferentThing", 3).is_empty());
        assert!(nearest_actions("no-colon", 3).is_empty());
    }

    #[test]
    fn wildcards_expand_to_the_actions_they_grant() {
        let e = expand_action("s3:Get*");
        assert!(e.actions.contains(&"s3:getobject".to_string()));
        assert!(e.actions.iter().all(|a| a.starts_with("s3:get")));
        assert!(e.problem.is_none());
        let ses = expand_action("ses:*");
        assert!(ses.actions.contains(&"ses:sendemail".to_string()));
        assert!(ses.actions.len() > 50);
        let bad = expand_action("s3:PutObjekt");
        assert!(bad.actions.is_empty());
        assert_eq!(bad.suggestions[0], "s3:PutObject");
        assert!(bad.problem.unwrap().contains("putobjekt"));
    }

    #[test]
    fn distance_and_case_restoration() {
        assert_eq!(distance("putobjekt", "putobject"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(restore_case("PutObjekt", "putobject"), "PutObject");
        assert_eq!(restore_case("GetObjects", "getobject"), "GetObject");
        assert_eq!(restore_case("putobjekt", "putobject"), "putobject");
    }
}
