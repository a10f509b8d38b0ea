#!/usr/bin/env python3
"""Compare infraguard's scanner with Checkov on the same templates.

Runs `checkov -d CORPUS --framework cloudformation -o json --skip-download`
and `infraguard scan CORPUS --format json`, then prints, for every Checkov
CloudFormation check infraguard implements, on how many resources the two
verdicts agree. A disagreement is listed with the fixture's
`Metadata.infraguard-test.checkov` note when the corpus explains why Checkov
is wrong there. Also lists the findings infraguard has that no Checkov check
covers, and with --bench times both tools as whole processes.

Checkov is optional: when it is not found the script says so and exits 0.

    scripts/compare-checkov.py [--corpus DIR] [--checkov PATH] [--infraguard PATH]
                               [--today YYYY-MM-DD] [--bench N] [--json OUT]

Environment: CHECKOV (path to checkov), INFRAGUARD (path to the binary).
Exit status: 0, or 1 with --strict when a disagreement has no note.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CORPUS = os.path.join(ROOT, "crates", "policy", "tests", "fixtures")

# The Checkov 3.3.30 CloudFormation checks for infraguard's resource types
# (reference/checkov-cfn-checks.md), with the two graph checks
# (CKV2_AWS_69, CKV2_AWS_75) infraguard implements.
IN_SCOPE = [
    "CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_19", "CKV_AWS_20", "CKV_AWS_18", "CKV_AWS_56",
    "CKV_AWS_57", "CKV_AWS_55", "CKV_AWS_21", "CKV_AWS_110", "CKV_AWS_111", "CKV_AWS_108",
    "CKV_AWS_62", "CKV_AWS_109", "CKV_AWS_40", "CKV_AWS_107", "CKV_AWS_63", "CKV_AWS_61",
    "CKV_AWS_60", "CKV_AWS_16", "CKV_AWS_17", "CKV_AWS_157", "CKV_AWS_118", "CKV_AWS_161",
    "CKV_AWS_162", "CKV_AWS_96", "CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_115", "CKV_AWS_173",
    "CKV_AWS_45", "CKV_AWS_363", "CKV_AWS_119", "CKV_AWS_28", "CKV_AWS_27", "CKV_AWS_26",
    "CKV_AWS_66", "CKV_AWS_158", "CKV_AWS_7", "CKV_AWS_33", "CKV_AWS_24", "CKV_AWS_260",
    "CKV_AWS_23", "CKV_AWS_25", "CKV2_AWS_69", "CKV2_AWS_75",
]


def find_checkov(arg):
    for c in (arg, os.environ.get("CHECKOV"), shutil.which("checkov")):
        if c and os.path.exists(c):
            return c
    return None


def find_infraguard(arg):
    candidates = [arg, os.environ.get("INFRAGUARD"),
                  os.path.join(ROOT, "target", "release", "infraguard"),
                  os.path.join(ROOT, "target", "debug", "infraguard"),
                  shutil.which("infraguard")]
    for c in candidates:
        if c and os.path.exists(c):
            return c
    return None


def rel(path, corpus):
    """A path relative to the corpus. Checkov prints paths relative to its
    working directory with a leading slash; infraguard prints them as given."""
    for candidate in (path, os.path.join(corpus, path.lstrip("/")), os.path.join(os.getcwd(), path.lstrip("/"))):
        full = os.path.abspath(candidate)
        if full.startswith(corpus + os.sep) and os.path.exists(full):
            return os.path.relpath(full, corpus).replace("\\", "/")
    return path.lstrip("/").replace("\\", "/")


def corpus_files(corpus, recursive):
    """The templates to compare: *.json, *.yaml, *.yml, *.template files of
    the corpus directory (and below it with --recursive)."""
    out = []
    for dirpath, dirnames, files in os.walk(corpus):
        out += [os.path.join(dirpath, f) for f in files if f.endswith((".json", ".yaml", ".yml", ".template"))]
        if not recursive:
            break
    return sorted(out)


def run_checkov(checkov, files):
    args = []
    for f in files:
        args += ["-f", f]
    out = subprocess.run([checkov, *args, "--framework", "cloudformation", "-o", "json", "--skip-download"],
                         capture_output=True, text=True, cwd=os.path.dirname(files[0]))
    text = out.stdout.strip()
    if not text:
        sys.exit(f"checkov printed nothing (exit {out.returncode}): {out.stderr[-2000:]}")
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


def checkov_verdicts(reports, corpus):
    """{(file, resource, check): 'FAILED'|'PASSED'|'SKIPPED'}"""
    v = {}
    for r in reports:
        if r.get("check_type") not in (None, "cloudformation"):
            continue
        results = r.get("results", {})
        for key, verdict in (("failed_checks", "FAILED"), ("passed_checks", "PASSED"), ("skipped_checks", "SKIPPED")):
            for c in results.get(key, []):
                resource = c.get("resource", "")
                logical = resource.rsplit(".", 1)[-1]
                v[(rel(c.get("file_path", ""), corpus), logical, c["check_id"])] = verdict
    return v


def run_infraguard(exe, files, today):
    cmd = [exe, "scan", *files, "--format", "json", "--fail-on", "critical"]
    if today:
        cmd += ["--today", today]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode == 2:
        sys.exit(f"infraguard scan failed: {out.stderr}")
    return json.loads(out.stdout)


def infraguard_verdicts(report, corpus):
    """{(file, resource, checkov_id): 'FAILED'|'SKIPPED'} plus findings without a Checkov id."""
    v = {}
    extra = []
    for f in report.get("findings", []):
        file = rel(os.path.abspath(f.get("file", "")), corpus) if f.get("file") else ""
        if f.get("checkov_id"):
            key = (file, f["resource"], f["checkov_id"])
            # Checkov knows only its own skips; an infraguard suppression
            # still means the check failed.
            sup = f.get("suppressed") or {}
            verdict = "SKIPPED" if sup.get("source") == "checkov-skip" else "FAILED"
            if v.get(key) != "FAILED":
                v[key] = verdict
        elif not f.get("suppressed"):
            extra.append(f)
    return v, extra


def notes(corpus):
    """Fixture notes: {(file, resource): note}"""
    out = {}
    try:
        import yaml  # optional: only needed for YAML fixtures

        class Loader(yaml.SafeLoader):
            pass

        Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    except ImportError:
        yaml = None
    for dirpath, _, files in os.walk(corpus):
        for name in files:
            path = os.path.join(dirpath, name)
            try:
                with open(path, encoding="utf-8") as fh:
                    if name.endswith(".json"):
                        t = json.load(fh)
                    elif name.endswith((".yaml", ".yml")) and yaml:
                        t = yaml.load(fh, Loader=Loader)
                    else:
                        continue
            except Exception:
                continue
            for rid, res in (t.get("Resources") or {}).items():
                note = ((res or {}).get("Metadata") or {}).get("infraguard-test", {}).get("checkov")
                if note:
                    out[(rel(path, corpus), rid)] = note
    return out


def timed(cmd, n):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--recursive", action="store_true", help="also compare templates in subdirectories")
    ap.add_argument("--checkov")
    ap.add_argument("--infraguard")
    ap.add_argument("--today", help="date for Lambda runtime rules (default: today)")
    ap.add_argument("--bench", type=int, default=0, help="also time N runs of each tool (checkov: at most 5)")
    ap.add_argument("--json", help="write the numbers to this file")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a disagreement has no fixture note")
    args = ap.parse_args()
    corpus = os.path.abspath(args.corpus)

    checkov = find_checkov(args.checkov)
    if not checkov:
        print("checkov not found (set CHECKOV or put it on PATH); the built-in scanner needs no Checkov. Skipping.")
        return 0
    exe = find_infraguard(args.infraguard)
    if not exe:
        sys.exit("infraguard binary not found: build it (cargo build -p infraguard-cli) or set INFRAGUARD")

    files = corpus_files(corpus, args.recursive)
    if not files:
        sys.exit(f"no templates in {corpus}")
    ck = checkov_verdicts(run_checkov(checkov, files), corpus)
    ours, extra = infraguard_verdicts(run_infraguard(exe, files, args.today), corpus)
    why = notes(corpus)

    resources = sorted({(f, r) for (f, r, _) in ck} | {(f, r) for (f, r, _) in ours})
    per = {}
    disagreements = []
    for check in IN_SCOPE:
        c = Counter()
        for (f, r) in resources:
            theirs = ck.get((f, r, check))
            mine = ours.get((f, r, check), "PASSED")
            if theirs is None and mine == "PASSED":
                continue  # neither evaluated nor failed: not applicable
            theirs = theirs or "UNKNOWN"
            c["compared"] += 1
            same = (theirs == mine) or (theirs in ("PASSED", "UNKNOWN") and mine == "PASSED")
            if same:
                c["agree"] += 1
                if mine == "FAILED":
                    c["both_fail"] += 1
            else:
                c["differ"] += 1
                disagreements.append((check, f, r, theirs, mine, why.get((f, r))))
        per[check] = c

    print(f"Checkov: {checkov}\ninfraguard: {exe}\ncorpus: {corpus} ({len(files)} files, {len(resources)} resources)\n")
    print(f"{'check':<12} {'compared':>8} {'agree':>6} {'both fail':>9} {'differ':>6} {'agreement':>9}")
    total = Counter()
    for check in IN_SCOPE:
        c = per[check]
        total.update(c)
        pct = f"{100 * c['agree'] / c['compared']:.0f}%" if c["compared"] else "-"
        print(f"{check:<12} {c['compared']:>8} {c['agree']:>6} {c['both_fail']:>9} {c['differ']:>6} {pct:>9}")
    pct = 100 * total["agree"] / total["compared"] if total["compared"] else 0
    print(f"{'all':<12} {total['compared']:>8} {total['agree']:>6} {total['both_fail']:>9} {total['differ']:>6} {pct:>8.1f}%")

    unexplained = 0
    if disagreements:
        print("\nDisagreements (checkov verdict / infraguard verdict):")
        for check, f, r, theirs, mine, note in disagreements:
            explained = bool(note) and check in note
            unexplained += 0 if explained else 1
            tag = f"explained: {note}" if explained else "UNEXPLAINED"
            print(f"  {check:<12} {f}:{r:<28} checkov={theirs:<8} infraguard={mine:<8} {tag}")

    by_rule = Counter(f["rule"] for f in extra)
    print(f"\nFindings infraguard has that no Checkov check covers: {len(extra)}")
    for rule, n in sorted(by_rule.items()):
        title = next(f["title"] for f in extra if f["rule"] == rule)
        print(f"  {rule:<16} {n:>3}  {title}")

    numbers = {"agreement": {k: dict(v) for k, v in per.items()}, "overall_agreement_pct": pct,
               "unexplained_disagreements": unexplained, "extra_findings": dict(by_rule)}

    if args.bench:
        one = os.path.join(corpus, "s3.json")
        n_ck = min(args.bench, 5)
        def cmd_ck(targets):
            args = []
            for t in targets:
                args += ["-f", t]
            return [checkov, *args, "--framework", "cloudformation", "-o", "json", "--skip-download"]

        def cmd_ig(targets):
            return [exe, "scan", *targets, "--format", "json"]

        bench = {}
        for label, target in (("one template", [one]), (f"whole corpus ({len(files)} files)", files)):
            ig_med, ig_min = timed(cmd_ig(target), args.bench)
            ck_med, ck_min = timed(cmd_ck(target), n_ck)
            bench[label] = {"infraguard_median_s": ig_med, "checkov_median_s": ck_med, "speedup": ck_med / ig_med}
            print(f"\n{label}: infraguard median {ig_med * 1000:.1f} ms (min {ig_min * 1000:.1f}, n={args.bench}); "
                  f"checkov median {ck_med:.2f} s (min {ck_min:.2f}, n={n_ck}); {ck_med / ig_med:.0f}x faster")
        numbers["bench"] = bench

    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(numbers, fh, indent=2)
    return 1 if (args.strict and unexplained) else 0


if __name__ == "__main__":
    sys.exit(main())
