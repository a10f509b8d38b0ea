//! One template scanned the way `infraguard scan FILE --format F` does it,
//! in a small release binary: bounded read, parse, scan, render, print.
//!
//! For whole-process timings of the scanner without building the CLI (and
//! the AWS SDK) in release:
//!
//! ```text
//! cargo build --release -p infraguard-policy --example scan_file
//! /usr/bin/time -v target/release/examples/scan_file buckets.json sarif > /dev/null
//! ```
//!
//! FORMAT is `table`, `json` or `sarif`. The JSON is the single-template
//! report (`report::json`), which the CLI extends with a `file` per finding.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use infraguard_policy::{ScanOptions, input, parse_template, report, scan};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(path), format) = (args.next(), args.next()) else {
        eprintln!("usage: scan_file TEMPLATE [table|json|sarif]");
        return ExitCode::from(2);
    };
    let path = PathBuf::from(path);
    let text = match input::read_text_file(&path, input::MAX_TEMPLATE_BYTES) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let template = match parse_template(&text) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let options = ScanOptions {
        today: "2026-11-26".into(),
        ..Default::default()
    };
    let found = scan(&template, &options);
    let uri = path.display().to_string();
    let rendered = match format.as_deref().unwrap_or("table") {
        "table" => report::table(&found).into_bytes(),
        "json" => serde_json::to_vec_pretty(&report::json(&found)).unwrap_or_default(),
        "sarif" => serde_json::to_vec_pretty(&report::sarif_log(&[report::SarifInput {
            report: &found,
            artifact_uri: &uri,
            source: Some(&text),
        }]))
        .unwrap_or_default(),
        other => {
            eprintln!("error: unknown format `{other}`; use table, json or sarif");
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    if out.write_all(&rendered).and_then(|()| out.flush()).is_err() {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
