//! `infraguard scan`: the security scanner on template files, without a
//! project or a cloud.
//!
//! Reads each file (or every `*.json`, `*.yaml`, `*.yml`, `*.template` below a
//! directory), runs the built-in rules (and Checkov too with `--checkov`, when
//! it is installed), and prints a table, JSON or SARIF 2.1.0. With `--fix` it
//! prints the templates with every mechanical fix applied instead.
//!
//! Exit code: 0 when no open finding is at or above `--fail-on`, 1 when one
//! is, 2 for bad input (a missing file, a file that does not parse, a named
//! file that is not a template). Files found by walking a directory that are
//! not CloudFormation templates (a `package.json`) are skipped with a note.
//!
//! Reading is bounded ([`infraguard_policy::input`]): a file over
//! [`input::MAX_TEMPLATE_BYTES`], a device, a FIFO, a socket or a file that is
//! not UTF-8 is refused with its path (exit 2). A directory walk does not
//! follow symbolic links to directories, notes the devices, FIFOs and sockets
//! it passes, and refuses more than [`input::MAX_WALK_FILES`] templates.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use infraguard_core::{Clock, Severity, SystemClock};
use infraguard_policy::{
    NamingContext, PolicyError, ScanOptions, ScanReport, Suppress, Template, apply_fixes, input,
    merge_checkov, parse_template, report, run_checkov, scan,
};
use serde_json::{Value, json};

use crate::exit;

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    Table,
    Json,
    Sarif,
}

#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// Template files or directories (searched recursively for *.json, *.yaml, *.yml, *.template).
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,

    /// Report format: table for people, json for programs, sarif for GitHub code scanning.
    /// Overrides the global --output (which offers table and json only).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ScanFormat>,

    /// The global `--output`, read here so `infraguard scan --output json` works.
    #[arg(from_global)]
    pub output: crate::args::Output,

    /// Exit 1 when an open finding is at or above this severity (info, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY", default_value = "low", value_parser = parse_severity)]
    pub fail_on: Severity,

    /// Print the template(s) with every mechanical fix applied (JSON) instead of the report.
    #[arg(long)]
    pub fix: bool,

    /// Also run Checkov when it is on PATH and merge its findings (skipped with a note when absent).
    #[arg(long)]
    pub checkov: bool,

    /// Check names against {prefix}-{purpose}-{env}: the prefix (e.g. synthcoreai). Needs --naming-env.
    #[arg(long, value_name = "PREFIX", requires = "naming_env")]
    pub naming_prefix: Option<String>,

    /// The environment word of names (e.g. dev).
    #[arg(long, value_name = "ENV", requires = "naming_prefix")]
    pub naming_env: Option<String>,

    /// Prefix of IAM policy names ({IamPrefix}-{Service}-{Actions}); defaults to the name prefix.
    #[arg(long, value_name = "PREFIX")]
    pub naming_iam_prefix: Option<String>,

    /// Suppress a finding: RULE:RESOURCE:REASON (RESOURCE may be *; the reason is required).
    #[arg(long, value_name = "RULE:RESOURCE:REASON")]
    pub suppress: Vec<String>,

    /// The date used for Lambda runtime deprecation (YYYY-MM-DD); defaults to today (UTC).
    #[arg(long, value_name = "DATE")]
    pub today: Option<String>,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse()
}

/// One scanned file.
struct Scanned {
    path: PathBuf,
    text: String,
    template: Template,
    report: ScanReport,
}

pub fn run(args: &ScanArgs, out: &mut dyn Write) -> Result<i32> {
    let options = match options(args) {
        Ok(o) => o,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(exit::BAD_INPUT);
        }
    };
    let files = match collect(&args.paths) {
        Ok(f) => f,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(exit::BAD_INPUT);
        }
    };
    let mut scanned = Vec::new();
    let mut bad = false;
    for (path, named) in files {
        let text = match input::read_text_file(&path, input::MAX_TEMPLATE_BYTES) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                bad = true;
                continue;
            }
        };
        let template = match parse_template(&text) {
            Ok(t) => t,
            Err(PolicyError::NotATemplate(why)) if !named => {
                eprintln!("note: skipped {}: {why}", path.display());
                continue;
            }
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                bad = true;
                continue;
            }
        };
        let mut report = scan(&template, &options);
        if args.checkov {
            match run_checkov(&path) {
                Ok(found) => merge_checkov(&mut report.findings, found),
                Err(PolicyError::CheckovMissing) => {
                    eprintln!("note: checkov is not on PATH; the built-in rules ran alone");
                }
                Err(e) => eprintln!("warning: {e}; the built-in rules ran alone"),
            }
        }
        scanned.push(Scanned {
            path,
            text,
            template,
            report,
        });
    }
    if bad {
        return Ok(exit::BAD_INPUT);
    }
    if scanned.is_empty() {
        eprintln!("error: no CloudFormation templates found in the given paths");
        return Ok(exit::BAD_INPUT);
    }

    if args.fix {
        return print_fixed(&scanned, &options, args.fail_on, out);
    }
    let format = args.format.unwrap_or(match args.output {
        crate::args::Output::Table => ScanFormat::Table,
        crate::args::Output::Json => ScanFormat::Json,
    });
    match format {
        ScanFormat::Table => {
            for s in &scanned {
                if scanned.len() > 1 {
                    writeln!(out, "== {} ==", s.path.display())?;
                }
                write!(out, "{}", report::table(&s.report))?;
            }
        }
        ScanFormat::Json => {
            let value = combined_json(&scanned);
            writeln!(out, "{}", serde_json::to_string_pretty(&value)?)?;
        }
        ScanFormat::Sarif => {
            // One run over all files, rules merged. Serialised straight from
            // the reports: no `Value` tree of every result first.
            let uris: Vec<String> = scanned
                .iter()
                .map(|s| s.path.display().to_string().replace('\\', "/"))
                .collect();
            let inputs: Vec<report::SarifInput<'_>> = scanned
                .iter()
                .zip(&uris)
                .map(|(s, uri)| report::SarifInput {
                    report: &s.report,
                    artifact_uri: uri,
                    source: Some(&s.text),
                })
                .collect();
            let text = serde_json::to_vec_pretty(&report::sarif_log(&inputs))?;
            out.write_all(&text)?;
            writeln!(out)?;
        }
    }
    let failing: usize = scanned.iter().map(|s| s.report.failing(args.fail_on)).sum();
    Ok(if failing > 0 { exit::FAILURE } else { exit::OK })
}

fn options(args: &ScanArgs) -> Result<ScanOptions, String> {
    let today = args
        .today
        .clone()
        .unwrap_or_else(|| SystemClock.now().date());
    let naming = match (&args.naming_prefix, &args.naming_env) {
        (Some(prefix), Some(env)) => Some(NamingContext {
            prefix: prefix.clone(),
            env: env.clone(),
            iam_prefix: args
                .naming_iam_prefix
                .clone()
                .unwrap_or_else(|| prefix.clone()),
        }),
        _ => None,
    };
    let mut suppressions = Vec::new();
    for s in &args.suppress {
        let mut parts = s.splitn(3, ':');
        let (Some(rule), Some(resource)) = (parts.next(), parts.next()) else {
            return Err(format!("--suppress `{s}` is not RULE:RESOURCE:REASON"));
        };
        // A missing reason is passed on: the scanner rejects it visibly.
        suppressions.push(Suppress {
            rule: rule.trim().to_string(),
            resource: resource.trim().to_string(),
            reason: parts.next().unwrap_or("").trim().to_string(),
        });
    }
    Ok(ScanOptions {
        today,
        naming,
        suppressions,
        // A template file names no environment, so no account is its own.
        accounts: None,
    })
}

/// Files to scan, each with whether it was named on the command line. A
/// directory named on the command line is entered even when it is a symbolic
/// link; the walk below it follows none (see [`input::find_templates`]).
fn collect(paths: &[PathBuf]) -> Result<Vec<(PathBuf, bool)>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let walk =
                input::find_templates(p, input::MAX_WALK_FILES).map_err(|e| e.to_string())?;
            for s in &walk.skipped {
                eprintln!("note: skipped {}: {}", s.path.display(), s.why);
            }
            out.extend(walk.files.into_iter().map(|f| (f, false)));
        } else if p.exists() {
            out.push((p.clone(), true));
        } else {
            return Err(format!("{} does not exist", p.display()));
        }
    }
    Ok(out)
}

fn print_fixed(
    scanned: &[Scanned],
    options: &ScanOptions,
    fail_on: Severity,
    out: &mut dyn Write,
) -> Result<i32> {
    let mut failing = 0;
    for s in scanned {
        let fixed = apply_fixes(&s.template, &s.report.findings)
            .with_context(|| format!("fixing {}", s.path.display()))?;
        let after = scan(&fixed, options);
        let fixed_count = s
            .report
            .findings
            .iter()
            .filter(|f| f.is_open() && f.fix.is_some())
            .count();
        eprintln!(
            "{}: applied {fixed_count} fix(es); {} open finding(s) remain at or above {fail_on}",
            s.path.display(),
            after.failing(fail_on)
        );
        failing += after.failing(fail_on);
        if scanned.len() > 1 {
            writeln!(out, "--- {}", s.path.display())?;
        }
        writeln!(out, "{}", fixed.to_pretty_json())?;
    }
    Ok(if failing > 0 { exit::FAILURE } else { exit::OK })
}

/// One JSON object for all files; each finding carries its `file`.
fn combined_json(scanned: &[Scanned]) -> Value {
    let mut findings = Vec::new();
    let mut undetermined = Vec::new();
    let mut summary = json!({"files": scanned.len(), "resources": 0, "rules_run": 0, "open": 0, "suppressed": 0, "undetermined": 0});
    for s in scanned {
        let file = s.path.display().to_string();
        let mut v = report::json(&s.report);
        for key in [
            "resources",
            "rules_run",
            "open",
            "suppressed",
            "undetermined",
        ] {
            let add = v["summary"][key].as_u64().unwrap_or(0);
            summary[key] = json!(summary[key].as_u64().unwrap_or(0) + add);
        }
        if let Some(Value::Array(list)) = v.get_mut("findings").map(Value::take) {
            findings.extend(list.into_iter().map(|mut f| {
                f["file"] = json!(file);
                f
            }));
        }
        if let Some(Value::Array(list)) = v.get_mut("undetermined").map(Value::take) {
            undetermined.extend(list.into_iter().map(|mut u| {
                u["file"] = json!(file);
                u
            }));
        }
    }
    // Built as a map, not with `json!`, which would serialise a deep copy of
    // every finding.
    let mut all = serde_json::Map::new();
    all.insert("findings".into(), Value::Array(findings));
    all.insert("undetermined".into(), Value::Array(undetermined));
    all.insert("summary".into(), summary);
    Value::Object(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(paths: Vec<PathBuf>) -> ScanArgs {
        ScanArgs {
            paths,
            format: Some(ScanFormat::Json),
            output: crate::args::Output::Table,
            fail_on: Severity::High,
            fix: false,
            checkov: false,
            naming_prefix: None,
            naming_env: None,
            naming_iam_prefix: None,
            suppress: Vec::new(),
            today: Some("2026-11-26".into()),
        }
    }

    #[test]
    fn exit_codes_follow_fail_on_and_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{ not json").unwrap();
        let public = dir.path().join("public.yaml");
        std::fs::write(&public, "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      AccessControl: PublicReadWrite\n").unwrap();
        let mut out = Vec::new();
        assert_eq!(run(&args(vec![bad]), &mut out).unwrap(), exit::BAD_INPUT);
        assert_eq!(
            run(&args(vec![dir.path().join("missing.json")]), &mut out).unwrap(),
            exit::BAD_INPUT
        );
        let mut out = Vec::new();
        assert_eq!(
            run(&args(vec![public.clone()]), &mut out).unwrap(),
            exit::FAILURE
        );
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert!(
            v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "IG-S3-007")
        );
        let mut a = args(vec![public]);
        a.suppress = vec!["IG-S3-007:B:demo bucket".into(), "IG-S3-006:B:demo".into()];
        let mut out = Vec::new();
        assert_eq!(run(&a, &mut out).unwrap(), exit::OK);
    }

    #[test]
    fn directories_skip_files_that_are_not_templates() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("package.json"), "{\"name\": \"x\"}").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(
            dir.path().join("sub/t.json"),
            r#"{"Resources":{"Q":{"Type":"AWS::SQS::Queue","Properties":{}}}}"#,
        )
        .unwrap();
        let mut a = args(vec![dir.path().to_path_buf()]);
        a.format = Some(ScanFormat::Sarif);
        let mut out = Vec::new();
        assert_eq!(run(&a, &mut out).unwrap(), exit::OK);
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["runs"][0]["artifacts"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn fix_prints_a_template_that_scans_clean_for_fixed_rules() {
        let dir = tempfile::tempdir().unwrap();
        let t = dir.path().join("b.json");
        std::fs::write(&t, r#"{"Resources":{"B":{"Type":"AWS::S3::Bucket","Properties":{"AccessControl":"PublicRead"}}}}"#).unwrap();
        let mut a = args(vec![t]);
        a.fix = true;
        a.fail_on = Severity::Medium;
        let mut out = Vec::new();
        assert_eq!(run(&a, &mut out).unwrap(), exit::OK);
        let fixed = parse_template(std::str::from_utf8(&out).unwrap()).unwrap();
        assert_eq!(
            fixed.0["Resources"]["B"]["Properties"]["AccessControl"],
            "Private"
        );
        assert_eq!(fixed.0["Resources"]["B"]["DeletionPolicy"], "Retain");
    }
}
