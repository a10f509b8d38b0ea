//! "Did you mean …?" — nearest names for a mistyped type or property name.
//!
//! Used for unknown resource types (`AWS::S3::Buckets`, `s3::bucket`,
//! `Bucket`) and unknown property names (`BucketNam`). Pure string work; no
//! knowledge of schemas.

/// Levenshtein distance over chars.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(a, b)
}

/// Lower case, with every run of separators other than letters and digits
/// (`.`, ` `, `_`, `:`) read as `::`, so `s3.bucket` and `S3 Bucket` compare
/// like `s3::bucket`. Names without separators (properties) only lose case.
fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending_separator = false;
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            if pending_separator && !out.is_empty() {
                out.push_str("::");
            }
            pending_separator = false;
            out.push(c.to_ascii_lowercase());
        } else {
            pending_separator = true;
        }
    }
    out
}

/// Up to `limit` candidates close to `wanted`, best first.
///
/// Ranking, cheapest explanation first: same name ignoring case; then the
/// wanted text is the candidate's last `::` segment or a case-insensitive
/// suffix of it (`Bucket` → `AWS::S3::Bucket`); then small edit distances,
/// where "small" grows with the length so a long name may carry a couple of
/// typos but `Foo` does not match `Key`.
pub(crate) fn nearest<'a, I>(wanted: &str, candidates: I, limit: usize) -> Vec<String>
where
    I: IntoIterator<Item = &'a str>,
{
    let wanted_lc = normalise(wanted);
    if wanted_lc.is_empty() {
        return Vec::new();
    }
    let max_distance = (wanted_lc.chars().count() / 4).clamp(1, 3);
    let mut scored: Vec<(usize, usize, &str)> = Vec::new();
    for cand in candidates {
        let cand_lc = normalise(cand);
        let last_segment = cand_lc.rsplit("::").next().unwrap_or(&cand_lc);
        let score = if cand_lc == wanted_lc {
            Some(0)
        } else if last_segment == wanted_lc
            || (wanted_lc.contains("::") && cand_lc.ends_with(&format!("::{wanted_lc}")))
        {
            Some(1)
        } else {
            let d =
                edit_distance(&wanted_lc, &cand_lc).min(edit_distance(&wanted_lc, last_segment));
            (d <= max_distance).then_some(1 + d)
        };
        if let Some(score) = score {
            // Ties go to the shorter name, then alphabetical, so results are
            // stable and the plainest candidate leads.
            scored.push((score, cand.len(), cand));
        }
    }
    scored.sort();
    scored.dedup_by(|a, b| a.2 == b.2);
    scored
        .into_iter()
        .take(limit)
        .map(|(_, _, c)| c.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPES: &[&str] = &[
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
        "AWS::SQS::Queue",
    ];

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
        assert_eq!(edit_distance("BucketNam", "BucketName"), 1);
    }

    #[test]
    fn nearest_prefers_case_then_suffix_then_typos() {
        assert_eq!(
            nearest("aws::s3::bucket", TYPES.iter().copied(), 3),
            ["AWS::S3::Bucket"]
        );
        assert_eq!(
            nearest("s3::bucket", TYPES.iter().copied(), 3)[0],
            "AWS::S3::Bucket"
        );
        assert_eq!(
            nearest("Bucket", TYPES.iter().copied(), 3)[0],
            "AWS::S3::Bucket"
        );
        assert_eq!(
            nearest("AWS::S3::Buckets", TYPES.iter().copied(), 3)[0],
            "AWS::S3::Bucket"
        );
        assert_eq!(
            nearest("Queu", TYPES.iter().copied(), 3),
            ["AWS::SQS::Queue"]
        );
    }

    #[test]
    fn nearest_gives_nothing_for_far_names() {
        assert!(nearest("Foo", TYPES.iter().copied(), 3).is_empty());
        assert!(nearest("", TYPES.iter().copied(), 3).is_empty());
    }
}
