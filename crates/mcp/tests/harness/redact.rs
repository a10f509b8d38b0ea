//! What differs between runs or machines in infraguard's output, as insta
//! filters: the one list, shared by the MCP server's tests and (by path)
//! the CLI's, so that a redaction added for one reaches both.

use std::path::Path;

/// (regex, replacement), applied in order: the longer shapes first, so
/// that a time is not half taken for a date nor a hash for an id.
pub const FILTERS: &[(&str, &str)] = &[
    // RFC 3339 times, then bare dates (the CreatedDate tag).
    (
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
        "[TIME]",
    ),
    (r"\b\d{4}-\d{2}-\d{2}\b", "[DATE]"),
    // The month `costs` reports on.
    (
        r"\b(January|February|March|April|May|June|July|August|September|October|November|December) \d{4}\b",
        "[MONTH]",
    ),
    // Chain tokens (`ig1.` payload and signature) and nonces.
    (r"\big1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", "[TOKEN]"),
    // ARNs, whole, before the account id inside them.
    (
        r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:[^\s\x22'`,)\]]+",
        "[ARN]",
    ),
    (r"\b\d{12}\b", "[ACCOUNT]"),
    // Hashes (content hashes, the audit chain's head), then ids.
    (r"\b[0-9a-f]{64}\b", "[HASH]"),
    (r"\bplan-[0-9a-f]{12}\b", "[PLAN_ID]"),
    (r"\bapr-[0-9a-f]{12}\b", "[APPROVAL_ID]"),
    (r"\block-[0-9a-f]{12}\b", "[LOCK_ID]"),
    (r"\breq-[0-9a-f]{12,}\b", "[REQUEST_ID]"),
    (r"\b[0-9a-f]{16,}\b", "[HEX]"),
    // Unix times and durations.
    (r"\b1[0-9]{9}\b", "[UNIX_TIME]"),
    (r"\b\d+(\.\d+)?(ns|µs|ms|s)\b", "[DURATION]"),
];

/// [`FILTERS`], then `dirs` (a project, a temporary folder) as `[DIR]` and
/// `version` (the crate's, which the tags carry) as `[VERSION]`.
pub fn filters(dirs: &[&Path], version: &str) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = FILTERS
        .iter()
        .map(|&(r, to)| (r.to_string(), to.to_string()))
        .collect();
    for dir in dirs {
        // As given, and as a program may print it (macOS: /private/var/…).
        let real = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        for shown in [real.as_path(), dir] {
            all.push((escape(&shown.display().to_string()), "[DIR]".into()));
        }
    }
    all.push((format!(r"\b{}\b", escape(version)), "[VERSION]".into()));
    all
}

/// `text` as a regex that matches it literally.
fn escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `insta::assert_snapshot!` of `value` under the name `name`, with the
/// crate harness's `filters` of the project's folder (or of the folders
/// `dirs = […]`).
#[macro_export]
macro_rules! snapshot {
    (dirs = $dirs:expr, $name:expr, $value:expr) => {{
        let filters = $crate::harness::filters(&$dirs);
        insta::with_settings!({
            filters => filters.iter().map(|(r, to)| (r.as_str(), to.as_str())),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!($name, $value);
        })
    }};
    ($project:expr, $name:expr, $value:expr) => {
        $crate::snapshot!(dirs = [$project.path()], $name, $value)
    };
}
