"""The user's own workflow description, "AWS Infrastructure Manager"
(/work/shared/seed/000_cc16d35e368f657b.txt), walked section by section over
MCP the way an agent following it would: with the two servers `infraguard
init` writes into `.mcp.json` (aws-dev, aws-prod), one real MCP client per
server, each started exactly as the file says (command, args, env, in the
project folder). The person behind the clients accepts every prompt; the
project is advisory (local cloud), so an accept is recorded `unverified:`.

Each test is one or more of the seed's sections, named after its heading.
Where infraguard differs from the seed on purpose (a stricter gate, real
prices, schema-valid properties) the test asserts infraguard's behaviour and
says so.
"""

from __future__ import annotations

import contextlib
import json
import re
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, AsyncIterator

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import ElicitResult
from mcp_harness import RDS, RDS_PROPS, S3, SEED_TAGS, SEED_TOOLS, Project, ok, refused, session, walk

BUCKET = "synthcoreai-documents-dev"
PROD_BUCKET = "synthcoreai-documents-prod"
LAMBDA = "AWS::Lambda::Function"
COGNITO = "AWS::Cognito::UserPool"
POLICY = "AWS::IAM::ManagedPolicy"

# The seed's promise about tag values an agent passes (step 3.1).
SEED_TAG_VALUES = {t["Key"]: t["Value"] for t in SEED_TAGS}
# The seed's naming pattern for IAM policies (step 4).
POLICY_NAME = re.compile(r"^SynthCoreAI-[A-Za-z0-9]+-[A-Za-z]+$")


# --------------------------------------------------------------------------
# The two servers of .mcp.json and the person behind the clients
# --------------------------------------------------------------------------


def server(project: Project, name: str) -> StdioServerParameters:
    """One server exactly as `.mcp.json` starts it."""
    spec = json.loads((project.root / ".mcp.json").read_text())["mcpServers"][name]
    return StdioServerParameters(command=spec["command"], args=spec["args"], env=spec["env"], cwd=str(project.root))


class User:
    """The person at the clients: accepts every prompt and keeps what was asked."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    async def __call__(self, context, params) -> ElicitResult:
        self.prompts.append(params.message)
        return ElicitResult(action="accept", content={"note": "ok"})


@contextlib.asynccontextmanager
async def two_servers(project: Project, user: User) -> AsyncIterator[tuple[Client, Client]]:
    """Both servers running side by side, as an agent host runs them."""
    async with (
        Client(server(project, "aws-dev"), mode="legacy", elicitation_callback=user) as dev,
        Client(server(project, "aws-prod"), mode="legacy", elicitation_callback=user) as prod,
    ):
        yield dev, prod


def tags_of(props: dict[str, Any], key: str = "Tags") -> dict[str, str]:
    tags = props.get(key) or {}
    if isinstance(tags, dict):
        return dict(tags)
    return {t["Key"]: t["Value"] for t in tags}


def rules(scan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule"]: f for f in scan["findings"]}


def without_stats(report: dict[str, Any]) -> dict[str, Any]:
    """A sync or drift report without its call counters (which differ by cache)."""
    return {k: v for k, v in report.items() if k != "stats"}


async def apply_chain(client: Client, creds: str, resource_type: str, tool: str = "create_resource", **generate: Any) -> dict[str, Any]:
    """Steps 1-7 of 3.1: generate, explain, scan, (6) the user proceeds past
    findings, then the mutation."""
    chain = await walk(client, creds, resource_type, **generate)
    if chain.scanned["scan_status"] == "FAILED":
        decided = ok(await client.call_tool("approve_security_findings", {
            "security_scan_token": chain.scanned["security_scan_token"], "decision": "proceed", "reason": "seed walk"}))
        assert decided["decision"] == "proceed", decided
    return ok(await client.call_tool(tool, chain.mutation_args(resource_type=resource_type)))


async def seed_needing_promotion(client: Client, resource_type: str = S3) -> list[str]:
    """The seed's "Query Dev Resources Needing Promotion": list, get each, filter on the tag."""
    ids = ok(await client.call_tool("list_resources", {"resource_type": resource_type}))["resources"]
    out = []
    for rid in ids:
        got = ok(await client.call_tool("get_resource", {"resource_type": resource_type, "identifier": rid}))
        if tags_of(got).get("PromotionStatus") in ("dev-only", "pending-prod"):
            out.append(rid)
    return out


async def promote_bucket(project: Project, dev: Client, prod: Client) -> dict[str, Any]:
    """3.4 as infraguard does it: promote on aws-prod (the user accepts the
    prod create); the dev tag write the read-only aws-prod process cannot
    make alone is approved by the person at a terminal, and promoting again
    finishes it."""
    promoted = ok(await prod.call_tool("promote_resource", {"resource_type": S3, "identifier": BUCKET}))
    tag = promoted["dev_tags"][-1]
    if tag["outcome"] == "awaiting_approval":
        approved = project.approve_at_terminal(tag["approval_id"])
        assert approved.returncode == 0, approved.stdout + approved.stderr
        promoted = ok(await prod.call_tool("promote_resource", {"resource_type": S3, "identifier": BUCKET}))
    return promoted


# --------------------------------------------------------------------------
# Step 1: Check Environment Variables / Step 2: Get AWS Session Info
# (and Critical Principles 1-2: environment separation, .mcp.json)
# --------------------------------------------------------------------------


def test_steps_1_and_2_check_the_environment_and_show_the_aws_context(project: Project) -> None:
    user = User()

    async def run() -> None:
        async with two_servers(project, user) as (dev, prod):
            # Both servers offer every tool the seed calls, under its names.
            for client in (dev, prod):
                names = {t.name for t in (await client.list_tools()).tools}
                assert SEED_TOOLS <= names, SEED_TOOLS - names
                assert {"estimate_cost", "promote_resource", "check_sync_status", "detect_drift",
                        "cost_report", "preflight", "lint_iam_policy", "suggest_iam_policy",
                        "extend_iam_policy"} <= names

            contexts = {}
            for name, client, profile, read_only in (
                ("dev", dev, "synthcoreai-dev", False),
                ("prod", prod, "synthcoreai-prod", True),
            ):
                # Step 1, "ALWAYS run this first".
                check = ok(await client.call_tool("check_environment_variables", {}))
                assert check["ok"] is True and check["problems"] == [], check
                assert check["environment"] == name and check["read_only"] is read_only
                assert check["security_scanning"] is True  # SECURITY_SCANNING=enabled on both
                variables = {v["name"]: v for v in check["variables"]}
                assert variables["AWS_PROFILE"]["value"] == profile
                assert variables["AWS_REGION"]["value"] == "us-east-1"
                assert variables["SECURITY_SCANNING"]["value"] == "enabled"
                # Credentials are named, never shown.
                assert variables["AWS_SECRET_ACCESS_KEY"]["value"] is None

                # Step 2, with the environment_token of step 1.
                info = ok(await client.call_tool("get_aws_session_info", {"environment_token": check["environment_token"]}))
                assert info["environment"] == name and info["read_only"] is read_only
                assert info["profile"] == profile and info["region"] == "us-east-1"
                assert re.fullmatch(r"\d{12}", info["account_id"]), info["account_id"]
                assert info["credentials_token"]
                # The seed's display format, to show the user.
                display = info["display"]
                assert display.startswith("📍 AWS Context:"), display
                for line in (f"Profile: {profile}", "Authentication: ", f"Account ID: {info['account_id']}", "Region: us-east-1"):
                    assert line in display, (line, display)
                contexts[name] = info
            # Two environments, two accounts.
            assert contexts["dev"]["account_id"] != contexts["prod"]["account_id"]

            # The seed's "Test MCP connection" call works on both, needing no token.
            for name, client in (("dev", dev), ("prod", prod)):
                account = ok(await client.call_tool("get_aws_account_info", {}))
                assert [(e["name"], e["read_only"]) for e in account["environments"]] == [(name, name == "prod")]

            # Environment separation: each server writes only its own environment.
            dev_creds = contexts["dev"]["credentials_token"]
            msg = refused(await dev.call_tool("generate_infrastructure_code", {
                "resource_type": S3, "credentials_token": dev_creds, "properties": {"BucketName": PROD_BUCKET}, "environment": "prod"}))
            assert "serve --env prod" in msg, msg
            msg = refused(await prod.call_tool("check_environment_variables", {"environment": "dev"}))
            assert "serve --env dev" in msg, msg

            # aws-prod: "read-only by default, write with approval". A prod plan
            # is refused by the gate until a human approves this exact plan; the
            # accepting client approves it (advisory: recorded unverified).
            prod_creds = await session(prod)
            chain = await walk(prod, prod_creds, S3, properties={"BucketName": "synthcoreai-uploads-prod"})
            gate = chain.generated["gate"]
            assert gate["decision"] == "refused" and "prod is read-only" in gate["reasons"][0], gate
            asked = len(user.prompts)
            created = ok(await prod.call_tool("create_resource", chain.mutation_args(resource_type=S3)))
            assert created["status"] == "SUCCESS" and created["environment"] == "prod"
            assert created["approved_by"].startswith("unverified:"), created["approved_by"]
            assert len(user.prompts) == asked + 1 and "synthcoreai-uploads-prod" in user.prompts[-1]
            # aws-dev writes dev without asking anyone.
            created = await apply_chain(dev, dev_creds, S3, properties={"BucketName": "synthcoreai-uploads-dev"})
            assert created["status"] == "SUCCESS" and "approved_by" not in created, created
            assert len(user.prompts) == asked + 1

    anyio.run(run)
    assert set(project.resources("prod")) == {"synthcoreai-uploads-prod"}
    assert set(project.resources("dev")) == {"synthcoreai-uploads-dev"}


# --------------------------------------------------------------------------
# Step 3: Resource Creation Workflow (3.1 - 3.4), Resource Tracking via AWS
# Tags, Dev/Prod Drift Detection
# --------------------------------------------------------------------------


def test_step_3_create_in_dev_estimate_track_promote_and_keep_in_sync(project: Project) -> None:
    user = User()

    async def run() -> None:
        async with two_servers(project, user) as (dev, prod):
            creds = await session(dev)

            # ---- 3.2 Estimate Costs ("Before creating resources") ----
            # The seed's S3 example: 10 GB and 10,000 uploads a month.
            est = ok(await dev.call_tool("estimate_cost", {
                "resource_type": S3, "properties": {"BucketName": BUCKET},
                "usage": {"storage_gb": 10, "monthly_put_requests": 10000}}))
            assert est["over_cost_threshold"] is False and est["threshold_usd"] == "10.00"
            assert Decimal(est["monthly_usd"]) < 10
            display = est["display"]
            for part in ("💰 Cost Estimation:", "Monthly Cost: $", "Breakdown:", "Auto-approved (<$10.00/month)"):
                assert part in display, (part, display)
            # Storage is the seed's 10 GB * $0.023 = $0.23. The requests differ on
            # purpose: the seed prices PUTs at the GET price ($0.0004/1k); S3
            # charges $0.005/1k PUTs, so infraguard's total is $0.28, not $0.25.
            storage = next(b for b in est["breakdown"] if b["name"].startswith("Storage"))
            assert Decimal(storage["monthlyCost"]) == Decimal("0.23"), est["breakdown"]
            assert est["tag_value"] == "0.28 USD/month", est

            # ---- 3.1 Start with aws-dev: the seed's five calls, its arguments ----
            generated = ok(await dev.call_tool("generate_infrastructure_code", {
                "resource_type": S3, "credentials_token": creds,
                "properties": {"BucketName": BUCKET, "Tags": SEED_TAGS}}))
            assert generated["environment"] == "dev" and generated["operation"] == "create"
            assert generated["gate"]["decision"] == "auto", generated["gate"]
            explained = ok(await dev.call_tool("explain", {
                "generated_code_token": generated["properties_token"],
                "content": generated["properties_for_explanation"],
                "operation": "create",
                "context": "S3 bucket creation for document storage"}))
            # (3) the CloudFormation template AND the explanation, to show.
            template = json.loads(explained["cloudformation_template"])
            [(logical, resource)] = template["Resources"].items()
            assert resource["Type"] == S3 and resource["Properties"]["BucketName"] == BUCKET
            assert BUCKET in explained["explanation"] and "dev" in explained["explanation"]
            # (4)-(5) the scan, SECURITY_SCANNING=enabled.
            scan = ok(await dev.call_tool("run_checkov", {"explained_token": explained["explained_token"]}))
            assert scan["summary"].startswith(scan["scan_status"]), scan["summary"]
            # (6) FAILED (two LOW findings: no access logging, no versioning):
            # the user is asked and says proceed.
            assert scan["scan_status"] == "FAILED" and {"IG-S3-008", "IG-S3-009"} <= set(rules(scan)), scan["findings"]
            assert all(f["severity"] == "LOW" for f in scan["findings"]), scan["findings"]
            decided = ok(await dev.call_tool("approve_security_findings", {
                "security_scan_token": scan["security_scan_token"], "decision": "proceed", "reason": "document bucket, LOW only"}))
            assert decided["decision"] == "proceed"
            # (7) create on aws-dev, with the seed's arguments.
            created = ok(await dev.call_tool("create_resource", {
                "resource_type": S3, "credentials_token": creds,
                "explained_token": explained["explained_token"],
                "security_scan_token": scan["security_scan_token"]}))
            assert created["status"] == "SUCCESS" and created["identifier"] == BUCKET and created["environment"] == "dev"

            # The tags the seed passes are kept as given; the tracking tags of
            # 3.3 are there from the start.
            got = ok(await dev.call_tool("get_resource", {"resource_type": S3, "identifier": BUCKET}))
            tags = tags_of(got)
            assert {k: tags.get(k) for k in SEED_TAG_VALUES} == SEED_TAG_VALUES, tags
            assert tags["PromotionStatus"] == "dev-only"
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", tags["CreatedDate"]), tags
            # CostEstimate: infraguard writes "0.28 USD/month" (the seed: "$0.25/month").
            assert tags["CostEstimate"] == est["tag_value"], tags
            assert tags["CostCenter"] == "Engineering" and tags["CreatedBy"] == "mcp", tags
            assert "ProdCounterpart" not in tags
            # Security best practices for S3, applied by default.
            assert got["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
            assert all(got["PublicAccessBlockConfiguration"].values()), got["PublicAccessBlockConfiguration"]

            # ---- 3.3 Track for Prod Promotion ----
            # The seed's own query by tags, and infraguard's sync report on both servers.
            assert await seed_needing_promotion(dev) == [BUCKET]
            before = [ok(await c.call_tool("check_sync_status", {"resource_type": S3})) for c in (dev, prod)]
            assert without_stats(before[0]) == without_stats(before[1]), before
            assert [(d["identifier"], d["promotion_status"]) for d in before[0]["dev_only"]] == [(BUCKET, "dev-only")]
            assert before[0]["synced"] == [] and before[0]["in_sync"] is False

            # ---- 3.4 Promote to Production (on aws-prod) ----
            # aws-dev cannot promote: it never writes prod.
            msg = refused(await dev.call_tool("promote_resource", {"resource_type": S3, "identifier": BUCKET}))
            assert "serve --env prod" in msg, msg
            asked = len(user.prompts)
            promoted = ok(await prod.call_tool("promote_resource", {"resource_type": S3, "identifier": BUCKET}))
            assert promoted["status"] == "synced" and promoted["prod_id"] == PROD_BUCKET, promoted["message"]
            # A prod plan needing approval: the gate refuses a read-only prod
            # until a human approves; the user is asked once, naming the prod bucket.
            assert promoted["gate"]["decision"] == "refused", promoted["gate"]
            assert "prod is read-only" in promoted["gate"]["reasons"][0], promoted["gate"]
            assert len(user.prompts) == asked + 1 and PROD_BUCKET in user.prompts[-1]
            assert "Security scan" in user.prompts[-1] and "Monthly Cost" in user.prompts[-1]
            assert promoted["approved_by"][0]["approved_by"].startswith("unverified:"), promoted["approved_by"]
            # The seed's promotion checklist, walked.
            checklist = {c["key"]: c["status"] for c in promoted["checklist"]}
            assert checklist == {k: "passed" for k in (
                "tested_in_dev", "dependencies", "properties", "no_conflict", "security_scan", "cost", "approval")}, checklist
            # The prod bucket exists, named the seed's way, with the prod Environment tag.
            prod_got = ok(await prod.call_tool("get_resource", {"resource_type": S3, "identifier": PROD_BUCKET}))
            prod_tags = tags_of(prod_got)
            assert prod_tags["Environment"] == "production" and prod_tags["Project"] == "SynthCore", prod_tags
            assert prod_tags["DevCounterpart"] == BUCKET and "PromotionStatus" not in prod_tags, prod_tags
            assert prod_got["BucketEncryption"] == got["BucketEncryption"]

            # (6) of 3.4, "Update promotion status tag on dev resource". The
            # promotion makes that write itself, but aws-prod runs read-only
            # (INFRAGUARD_READONLY=true in .mcp.json) for its dev writes too, so
            # it waits for a human; the seed's own update on aws-dev is refused
            # while that plan is in flight, naming it. (Stricter than the seed,
            # on purpose: one dev tag write, approved once.)
            tag = promoted["dev_tags"][-1]
            assert (tag["outcome"], tag["promotion_status"], tag["prod_counterpart"]) == ("awaiting_approval", "synced", PROD_BUCKET), tag
            assert tag["approval_id"] in promoted["message"], promoted["message"]
            seed_patch = [
                {"op": "replace", "path": "/Tags/PromotionStatus", "value": "synced"},
                {"op": "add", "path": "/Tags/ProdCounterpart", "value": PROD_BUCKET},
            ]
            msg = refused(await dev.call_tool("generate_infrastructure_code", {
                "resource_type": S3, "credentials_token": creds, "identifier": BUCKET, "patch_document": seed_patch}))
            assert "in flight" in msg and tag["approval_id"] in msg, msg
            # The documented path: the person approves at a terminal, promote again finishes.
            approved = project.approve_at_terminal(tag["approval_id"])
            assert approved.returncode == 0, approved.stdout + approved.stderr
            again = ok(await prod.call_tool("promote_resource", {"resource_type": S3, "identifier": BUCKET}))
            assert again["status"] == "synced" and again["dev_tags"][-1]["outcome"] == "applied", again["dev_tags"]
            assert len(user.prompts) == asked + 1, "finishing asks nobody again"
            tags = tags_of(ok(await dev.call_tool("get_resource", {"resource_type": S3, "identifier": BUCKET})))
            assert tags["PromotionStatus"] == "synced" and tags["ProdCounterpart"] == PROD_BUCKET, tags

            # ---- Resource Tracking via AWS Tags: nothing needs promotion, in sync ----
            assert await seed_needing_promotion(dev) == []
            after = [ok(await c.call_tool("check_sync_status", {"resource_type": S3})) for c in (dev, prod)]
            assert without_stats(after[0]) == without_stats(after[1]), after
            assert after[0]["in_sync"] is True and after[0]["dev_only"] == [] and after[0]["needs_review"] == []
            assert [(s["dev"], s["prod"]) for s in after[0]["synced"]] == [(BUCKET, PROD_BUCKET)], after[0]

            # ---- Dev/Prod Drift Detection ----
            # The seed's S3 example enables versioning; done in dev, prod now differs.
            updated = await apply_chain(dev, creds, S3, tool="update_resource", identifier=BUCKET, patch_document=[
                {"op": "add", "path": "/VersioningConfiguration", "value": {"Status": "Enabled"}}])
            assert updated["status"] == "SUCCESS"
            drifts = [ok(await c.call_tool("detect_drift", {"resource_type": S3})) for c in (dev, prod)]
            assert without_stats(drifts[0]) == without_stats(drifts[1]), drifts
            drift = drifts[0]
            assert drift["in_sync"] is False and drift["pairs_checked"] == 1, drift
            [pair] = drift["drifted"]
            assert (pair["dev"], pair["prod"]) == (BUCKET, PROD_BUCKET)
            assert any(d["path"].startswith("/VersioningConfiguration") for d in pair["differences"]), pair["differences"]
            # The seed's action for drift, "Update prod to match dev": the patch
            # given, through the chain on aws-prod, approved by the user.
            assert "generate_infrastructure_code" in drift["next_step"]
            prod_creds = await session(prod)
            asked = len(user.prompts)
            fixed = await apply_chain(prod, prod_creds, S3, tool="update_resource", identifier=PROD_BUCKET, patch_document=pair["patch"])
            assert fixed["status"] == "SUCCESS" and fixed["approved_by"].startswith("unverified:"), fixed
            assert len(user.prompts) == asked + 1 and PROD_BUCKET in user.prompts[-1]
            for c in (dev, prod):
                clean = ok(await c.call_tool("detect_drift", {"resource_type": S3}))
                assert clean["in_sync"] is True and clean["drifted"] == [] and clean["pairs_checked"] == 1, clean["drifted"]
                assert ok(await c.call_tool("check_sync_status", {"resource_type": S3}))["in_sync"] is True

    anyio.run(run)
    assert set(project.resources("dev")) == {BUCKET}
    assert set(project.resources("prod")) == {PROD_BUCKET}
    assert project.resources("prod")[PROD_BUCKET]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert project.cli("audit", "verify").returncode == 0


def test_step_3_4_the_promoted_bucket_keeps_the_seed_tags_and_is_not_drifted(project: Project) -> None:
    user = User()

    async def run() -> None:
        async with two_servers(project, user) as (dev, prod):
            creds = await session(dev)
            created = await apply_chain(dev, creds, S3, properties={"BucketName": BUCKET, "Tags": SEED_TAGS})
            assert created["status"] == "SUCCESS"
            promoted = await promote_bucket(project, dev, prod)
            assert promoted["status"] == "synced" and promoted["prod_id"] == PROD_BUCKET

            prod_tags = tags_of(ok(await prod.call_tool("get_resource", {"resource_type": S3, "identifier": PROD_BUCKET})))
            for key in ("MANAGED_BY", "MCP_SERVER_SOURCE_CODE", "Project"):
                assert prod_tags.get(key) == SEED_TAG_VALUES[key], (key, prod_tags)
            assert prod_tags["Environment"] == "production"
            for c in (dev, prod):
                drift = ok(await c.call_tool("detect_drift", {"resource_type": S3}))
                assert drift["pairs_checked"] == 1 and drift["drifted"] == [], drift["drifted"]
            checks = {c["key"]: c for c in ok(await prod.call_tool("preflight", {}))["checks"]}
            assert checks["drift"]["ok"] is True, checks["drift"]

    anyio.run(run)


# --------------------------------------------------------------------------
# 3.2 Estimate Costs: the RDS example, at or over $10/month, needs approval
# even in dev ("If cost >= $10/month, WAIT for user approval")
# --------------------------------------------------------------------------


def test_step_3_2_rds_over_the_threshold_waits_for_the_user_even_in_dev(project: Project) -> None:
    user = User()

    async def run() -> None:
        async with two_servers(project, user) as (dev, _prod):
            # The seed's RDS figures: db.t3.small ~$26.78 (720 h * $0.034 + 20 GB * $0.115);
            # infraguard prices 730 h at $0.036, so $28.58; both "REQUIRES APPROVAL".
            small = ok(await dev.call_tool("estimate_cost", {"resource_type": RDS, "properties": dict(RDS_PROPS, DBInstanceClass="db.t3.small")}))
            assert small["over_cost_threshold"] is True and Decimal(small["monthly_usd"]) >= 10, small
            storage = next(b for b in small["breakdown"] if b["name"].startswith("Storage"))
            assert Decimal(storage["monthlyCost"]) == Decimal("2.30"), small["breakdown"]
            # The seed's "Common AWS Service Costs": RDS (db.t3.micro) ~$15/month.
            micro = ok(await dev.call_tool("estimate_cost", {"resource_type": RDS, "properties": RDS_PROPS}))
            assert micro["over_cost_threshold"] is True and Decimal("14") <= Decimal(micro["monthly_usd"]) <= Decimal("17"), micro
            assert "REQUIRES APPROVAL" in micro["display"] and "$10.00" in micro["display"], micro["display"]

            creds = await session(dev)
            chain = await walk(dev, creds, RDS, properties=RDS_PROPS)
            gate = chain.generated["gate"]
            assert gate["decision"] == "approval_required" and gate["approval_id"], gate
            # Cost is the only reason: the scan has nothing at or above MEDIUM.
            assert gate["reasons"] == [f"costs ${micro['monthly_usd']}/month, at or above the $10.00 threshold"], gate
            pending = ok(await dev.call_tool("list_pending_approvals", {}))["approvals"]
            assert [a["id"] for a in pending] == [gate["approval_id"]]
            assert project.resources("dev", RDS) == {}, "nothing is created before the user says yes"
            created = ok(await dev.call_tool("create_resource", chain.mutation_args(resource_type=RDS)))
            assert created["status"] == "SUCCESS" and created["approved_by"].startswith("unverified:"), created
            [prompt] = user.prompts
            assert "synthcoreai-db-dev" in prompt and "Monthly Cost" in prompt and "$10.00" in prompt, prompt
            got = ok(await dev.call_tool("get_resource", {"resource_type": RDS, "identifier": "synthcoreai-db-dev"}))
            assert tags_of(got)["CostEstimate"] == micro["tag_value"]

    anyio.run(run)
    assert list(project.resources("dev", RDS)) == ["synthcoreai-db-dev"]


# --------------------------------------------------------------------------
# Step 4: IAM Policy Management (naming convention, least privilege, the
# policy extension workflow)
# --------------------------------------------------------------------------


def test_step_4_iam_policies_are_named_by_convention_and_least_privilege(project: Project) -> None:
    user = User()
    seed_send_only = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["ses:SendEmail", "ses:SendRawEmail"], "Resource": "*"}]}
    seed_too_broad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ses:*", "Resource": "*"}]}
    seed_upload = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::synthcoreai-*/*"}]}

    async def run() -> None:
        async with two_servers(project, user) as (dev, _prod):
            # ---- Naming Convention: the seed's examples, by what they are for ----
            for capability, name in (
                ("send emails via SES", "SynthCoreAI-SES-SendOnly"),
                ("read and write S3", "SynthCoreAI-S3-ReadWrite"),
                ("describe RDS databases", "SynthCoreAI-RDS-ReadOnly"),
                ("manage Cognito users", "SynthCoreAI-Cognito-UserManagement"),
                ("execute Lambda functions", "SynthCoreAI-Lambda-Execute"),
                ("upload files to S3", "SynthCoreAI-S3-FileUpload"),
            ):
                s = ok(await dev.call_tool("suggest_iam_policy", {"capability": capability}))
                assert s["status"] == "known" and s["policy_name"] == name, (capability, s["policy_name"])
                assert POLICY_NAME.match(s["policy_name"])
                assert "*" not in json.dumps(s["actions"]), s["actions"]
            # Least privilege, the seed's two examples exactly.
            ses = ok(await dev.call_tool("suggest_iam_policy", {"capability": "send emails via SES"}))
            assert ses["actions"] == ["ses:SendEmail", "ses:SendRawEmail"]
            upload = ok(await dev.call_tool("suggest_iam_policy", {"capability": "upload files to S3"}))
            assert upload["document"]["Statement"] == seed_upload["Statement"], upload["document"]
            # "Database read access" in the seed's words is not guessed: rows are
            # read with the database's own credentials, so infraguard refuses and
            # lists what it knows (RDS-ReadOnly is `rds-describe`). Stricter on purpose.
            vague = await dev.call_tool("suggest_iam_policy", {"capability": "read the RDS database"})
            refused(vague)
            assert "rds-describe" in {k["id"] for k in vague.structured_content["known"]}

            # ---- Least-Privilege Principle: the seed's "NOT this" is flagged ----
            broad = ok(await dev.call_tool("lint_iam_policy", {"policy_document": seed_too_broad}))
            broad_rules = {f["rule"]: f for f in broad["findings"]}
            assert "IG-IAM-LINT-004" in broad_rules, broad_rules.keys()  # service:*
            assert "ses:SendEmail" in broad_rules["IG-IAM-LINT-004"]["message"]
            # The seed's send-only example passes the action checks; infraguard
            # still asks to scope `Resource: "*"` (stricter than the seed).
            narrow = ok(await dev.call_tool("lint_iam_policy", {"policy_document": seed_send_only}))
            narrow_rules = {f["rule"] for f in narrow["findings"]}
            assert "IG-IAM-LINT-004" not in narrow_rules and narrow_rules == {"IG-IAM-LINT-006"}, narrow["findings"]
            assert ok(await dev.call_tool("lint_iam_policy", {"policy_document": seed_upload}))["summary"]["open"] == 0

            # ---- An off-convention policy name is flagged by the scan ----
            # (MEDIUM, so it gates: the seed's Quick Reference has IAM policies
            # auto-approved; infraguard asks when the name breaks the convention.)
            creds = await session(dev)
            off = await walk(dev, creds, POLICY, properties={"ManagedPolicyName": "S3UploadPolicy", "PolicyDocument": seed_upload})
            name_finding = rules(off.scanned)["IG-NAME-002"]
            assert name_finding["severity"] == "MEDIUM" and "SynthCoreAI-S3-FileUpload" in name_finding["message"], name_finding
            assert name_finding["fix"][0]["value"] == "SynthCoreAI-S3-FileUpload"
            assert off.generated["gate"]["decision"] == "approval_required", off.generated["gate"]
            cancelled = ok(await dev.call_tool("approve_security_findings", {
                "security_scan_token": off.scanned["security_scan_token"], "decision": "fix", "reason": "rename it"}))
            assert cancelled["decision"] == "fix"

            # ---- Policy Extension Workflow: the seed's "file upload to S3" ----
            # The seed's IAM user, then: analyse, identify the gap, suggest,
            # create the conventional policy on aws-dev.
            user_created = await apply_chain(dev, creds, "AWS::IAM::User", properties={"UserName": "synthcoreai-dev-user"})
            assert user_created["status"] == "SUCCESS"
            ext = {"principal_type": "user", "principal_name": "synthcoreai-dev-user", "capability": "upload files to S3"}
            planned = ok(await dev.call_tool("extend_iam_policy", ext))
            assert planned["status"] == "planned" and planned["change"] == "new_managed_policy", planned["status"]
            assert planned["current_policies"] == []  # "Current policy: None for S3"
            assert planned["policy_name"] == "SynthCoreAI-S3-FileUpload"
            assert {(a["action"], a["resource"]) for a in planned["diff"]["added"]} == {
                ("s3:PutObject", "arn:aws:s3:::synthcoreai-*/*"), ("s3:GetObject", "arn:aws:s3:::synthcoreai-*/*")}
            gen = dict(planned["plan_summary"]["generate_arguments"])
            assert gen.pop("environment") == "dev"
            chain = await walk(dev, creds, **gen)
            assert "IG-NAME-002" not in rules(chain.scanned), chain.scanned["findings"]
            assert chain.generated["gate"]["decision"] == "auto", chain.generated["gate"]
            applied = ok(await dev.call_tool("create_resource", chain.mutation_args()))
            assert applied["status"] == "SUCCESS"
            again = ok(await dev.call_tool("extend_iam_policy", ext))
            assert again["status"] == "already_granted", again["status"]

    anyio.run(run)
    [props] = project.resources("dev", POLICY).values()
    assert props["ManagedPolicyName"] == "SynthCoreAI-S3-FileUpload" and props["Users"] == ["synthcoreai-dev-user"]
    assert user.prompts == [], "nothing in this section needed a person"


def test_step_4_the_policy_is_promoted_to_prod_with_its_user(project: Project) -> None:
    user = User()

    async def run() -> None:
        async with two_servers(project, user) as (dev, prod):
            creds = await session(dev)
            await apply_chain(dev, creds, "AWS::IAM::User", properties={"UserName": "synthcoreai-dev-user"})
            planned = ok(await dev.call_tool("extend_iam_policy", {
                "principal_type": "user", "principal_name": "synthcoreai-dev-user", "capability": "upload files to S3"}))
            gen = dict(planned["plan_summary"]["generate_arguments"])
            gen.pop("environment")
            created = await apply_chain(dev, creds, **gen)
            promoted = await prod.call_tool("promote_resource", {
                "resource_type": POLICY, "identifier": created["identifier"], "with_dependencies": True})
            result = ok(promoted)
            assert result["status"] == "synced", result["message"]

    anyio.run(run)
    [props] = project.resources("prod", POLICY).values()
    assert props["ManagedPolicyName"] == "SynthCoreAI-S3-FileUpload" and props["Users"] == ["synthcoreai-prod-user"]


def test_step_4_a_promoted_policy_is_tracked_as_synced(project: Project) -> None:
    user = User()
    document = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::synthcoreai-*/*"}]}

    async def run() -> None:
        async with two_servers(project, user) as (dev, prod):
            creds = await session(dev)
            created = await apply_chain(dev, creds, POLICY, properties={
                "ManagedPolicyName": "SynthCoreAI-S3-FileUpload", "PolicyDocument": document})
            promoted = ok(await prod.call_tool("promote_resource", {"resource_type": POLICY, "identifier": created["identifier"]}))
            assert promoted["status"] == "synced" and promoted["prod_id"].endswith(":policy/SynthCoreAI-S3-FileUpload"), promoted
            for c in (dev, prod):
                sync = ok(await c.call_tool("check_sync_status", {"resource_type": POLICY}))
                assert [(p["dev"], p["prod"]) for p in sync["synced"]] == [(created["identifier"], promoted["prod_id"])], sync
                assert sync["dev_only"] == [] and sync["prod_only"] == [], sync
            again = ok(await prod.call_tool("promote_resource", {"resource_type": POLICY, "identifier": created["identifier"]}))
            assert again["status"] == "synced" and again["prod_id"] == promoted["prod_id"], again

    anyio.run(run)


# --------------------------------------------------------------------------
# Common AWS Services: SES, Cognito, Lambda (S3 and RDS are above)
# --------------------------------------------------------------------------


def test_common_services_ses_cognito_and_lambda_through_the_chain_in_dev(project: Project) -> None:
    user = User()

    async def run() -> None:
        async with two_servers(project, user) as (dev, _prod):
            creds = await session(dev)

            # ---- SES (Email): $0.10 per 1,000 emails; the seed's 5,000 emails = $0.50 ----
            est = ok(await dev.call_tool("estimate_cost", {
                "resource_type": "AWS::SES::EmailIdentity", "properties": {"EmailIdentity": "synthcoreai.com"},
                "usage": {"monthly_emails": 5000}}))
            assert Decimal(est["monthly_usd"]) == Decimal("0.50") and est["over_cost_threshold"] is False, est
            identity = await apply_chain(dev, creds, "AWS::SES::EmailIdentity",
                                         properties={"EmailIdentity": "synthcoreai.com"}, usage={"monthly_emails": 5000})
            assert identity["status"] == "SUCCESS" and Decimal(identity["monthly_cost_usd"]) == Decimal("0.50"), identity
            # A configuration set without TLS is named by the scan ("In Transit: Always use HTTPS/TLS").
            config_set = await walk(dev, creds, "AWS::SES::ConfigurationSet", properties={"Name": "synthcoreai-mail-dev"})
            assert "TLS" in rules(config_set.scanned)["IG-SES-001"]["message"], config_set.scanned["findings"]

            # ---- Cognito (Authentication) ----
            cognito = {
                "UserPoolName": "synthcoreai-users-dev",
                "AutoVerifiedAttributes": ["email"],
                "Policies": {"PasswordPolicy": {"MinimumLength": 8, "RequireUppercase": True, "RequireLowercase": True,
                                                "RequireNumbers": True, "RequireSymbols": True}},
            }
            # The seed's example passes `Tags: [...]`; a user pool keeps its tags in
            # `UserPoolTags` (a map), so infraguard refuses and says where they go
            # rather than dropping them.
            msg = refused(await dev.call_tool("generate_infrastructure_code", {
                "resource_type": COGNITO, "credentials_token": creds, "properties": dict(cognito, Tags=SEED_TAGS)}))
            assert "UserPoolTags" in msg, msg
            pool = await walk(dev, creds, COGNITO, properties=dict(cognito, UserPoolTags=SEED_TAG_VALUES))
            assert "synthcoreai-users-dev" in pool.explained["explanation"] and "PasswordPolicy" in pool.explained["explanation"]
            # Free up to 50,000 MAU.
            assert Decimal(pool.generated["cost_estimate"]["monthly_usd"]) == 0
            pool_rules = rules(pool.scanned)
            assert "MFA" in pool_rules["IG-COGNITO-002"]["message"], pool.scanned["findings"]
            assert pool.generated["gate"]["decision"] == "approval_required"  # MEDIUM findings gate, as in every env
            created = ok(await dev.call_tool("create_resource", pool.mutation_args(resource_type=COGNITO)))
            assert created["status"] == "SUCCESS" and created["approved_by"].startswith("unverified:")
            got = ok(await dev.call_tool("get_resource", {"resource_type": COGNITO, "identifier": created["identifier"]}))
            pool_tags = tags_of(got, "UserPoolTags")
            assert {k: pool_tags.get(k) for k in SEED_TAG_VALUES} == SEED_TAG_VALUES and pool_tags["PromotionStatus"] == "dev-only", pool_tags

            # ---- Lambda (Serverless Functions): the seed's example ----
            seed_lambda = {
                "FunctionName": "synthcoreai-worker-dev", "Runtime": "nodejs20.x", "Handler": "index.handler",
                "Role": "arn:aws:iam::123456789012:role/lambda-execution-role",
                "Code": {"ZipFile": "exports.handler = async () => 'ok';"}, "Tags": SEED_TAGS,
            }
            fn = await walk(dev, creds, LAMBDA, properties=seed_lambda)
            fn_rules = rules(fn.scanned)
            assert "synthcoreai-worker-dev" in fn.explained["explanation"] and "nodejs20.x" in fn.explained["explanation"]
            # The seed's placeholder role lives in an account that is not this environment's.
            assert "123456789012" in fn_rules["IG-ACCT-001"]["message"], fn.scanned["findings"]
            assert {"IG-LAMBDA-001", "IG-LAMBDA-003"} <= set(fn_rules)  # no DLQ, no concurrency limit
            assert Decimal(fn.generated["cost_estimate"]["monthly_usd"]) < 10
            # Runtime checks, by the scan date: nodejs20.x is deprecated from
            # 2026-04-30 and closed to new functions from 2027-02-01 (AWS's dates).
            today = datetime.now(timezone.utc).date().isoformat()
            expected = set() if today < "2026-04-30" else {"IG-LAMBDA-006"} if today < "2027-02-01" else {"IG-LAMBDA-007"}
            assert {r for r in fn_rules if r in ("IG-LAMBDA-006", "IG-LAMBDA-007")} == expected, fn.scanned["findings"]
            old = await walk(dev, creds, LAMBDA, properties=dict(seed_lambda, FunctionName="synthcoreai-legacy-dev", Runtime="python3.7"))
            blocked = rules(old.scanned)["IG-LAMBDA-007"]
            assert blocked["severity"] == "HIGH" and "python3.14" in blocked["message"], blocked

    anyio.run(run)
    assert "synthcoreai.com" in project.resources("dev", "AWS::SES::EmailIdentity")
    assert project.resources("dev", LAMBDA) == {}, "the Lambda plans were only planned"


# --------------------------------------------------------------------------
# Security Best Practices: secrets management, encryption
# --------------------------------------------------------------------------


def test_security_best_practices_no_plaintext_keys_and_encryption_findings(project: Project) -> None:
    user = User()
    access_key = "AKIAIOSFODNN7EXAMPLE"  # the seed's "const AWS_ACCESS_KEY_ID = 'AKIA...'"
    password = "SuperSecret123!"

    async def run() -> None:
        async with two_servers(project, user) as (dev, _prod):
            creds = await session(dev)
            texts: list[str] = []

            # ---- 1. Secrets Management: "NEVER hardcode credentials" ----
            # A plaintext access key id is refused at plan time, wherever it is.
            for rt, props, where in (
                (LAMBDA, {"FunctionName": "synthcoreai-mailer-dev", "Runtime": "nodejs24.x", "Handler": "index.handler",
                          "Role": "arn:aws:iam::123456789012:role/lambda-execution-role", "Code": {"ZipFile": "x"},
                          "Environment": {"Variables": {"AWS_ACCESS_KEY_ID": access_key}}},
                 "/Environment/Variables/AWS_ACCESS_KEY_ID"),
                (S3, {"BucketName": "synthcoreai-keys-dev", "Tags": [{"Key": "Uploader", "Value": access_key}]}, "/Tags/0/Value"),
            ):
                r = await dev.call_tool("generate_infrastructure_code", {"resource_type": rt, "credentials_token": creds, "properties": props})
                msg = refused(r)
                texts.append(msg)
                assert "plaintext AWS access key id" in msg and where in msg and "Secrets Manager" in msg, msg
            assert ok(await dev.call_tool("list_plans", {}))["plans"] == [], "nothing was planned"

            # Other literal secrets are CRITICAL findings, and are masked in every output.
            rds = await walk(dev, creds, RDS, properties={
                **{k: v for k, v in RDS_PROPS.items() if k != "ManageMasterUserPassword"}, "MasterUserPassword": password})
            assert rules(rds.scanned)["IG-RDS-008"]["severity"] == "CRITICAL", rds.scanned["findings"]
            secret = await walk(dev, creds, "AWS::SecretsManager::Secret", properties={
                "Name": "synthcoreai/ses-credentials", "SecretString": json.dumps({"password": password})})
            assert rules(secret.scanned)["IG-SECRET-001"]["severity"] == "CRITICAL", secret.scanned["findings"]
            for chain in (rds, secret):
                assert chain.generated["gate"]["decision"] == "approval_required"
                texts += [json.dumps(chain.generated), json.dumps(chain.explained), json.dumps(chain.scanned)]
            assert "****(redacted)" in rds.explained["explanation"]
            # The seed's CORRECT way: Secrets Manager generates and keeps the value.
            managed = await walk(dev, creds, "AWS::SecretsManager::Secret", properties={
                "Name": "synthcoreai/ses-smtp", "GenerateSecretString": {"PasswordLength": 32}})
            assert managed.scanned["findings"] == [] and managed.generated["gate"]["decision"] == "auto", managed.scanned

            # ---- 2. Encryption ----
            # RDS: "Enable encryption for databases".
            plain_db = await walk(dev, creds, RDS, properties=dict(RDS_PROPS, DBInstanceIdentifier="synthcoreai-plain-dev", StorageEncrypted=False))
            enc = rules(plain_db.scanned)["IG-RDS-001"]
            assert enc["severity"] == "HIGH" and enc["checkov_id"] == "CKV_AWS_16", enc
            assert any("IG-RDS-001" in r for r in plain_db.generated["gate"]["reasons"]), plain_db.generated["gate"]
            # S3: encrypted at rest by default (AES-256 added, and said so).
            bucket = await walk(dev, creds, S3, properties={"BucketName": "synthcoreai-assets-dev"})
            template = json.loads(bucket.explained["cloudformation_template"])
            props = next(iter(template["Resources"].values()))["Properties"]
            assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
            assert "encrypted" in bucket.explained["explanation"], bucket.explained["explanation"]
            # Lambda environment variables without a customer key are named.
            fn = await walk(dev, creds, LAMBDA, properties={
                "FunctionName": "synthcoreai-jobs-dev", "Runtime": "nodejs24.x", "Handler": "index.handler",
                "Role": "arn:aws:iam::123456789012:role/lambda-execution-role", "Code": {"ZipFile": "x"},
                "Environment": {"Variables": {"STAGE": "dev"}}})
            assert "IG-LAMBDA-004" in rules(fn.scanned), fn.scanned["findings"]

            # No output ever carried the key or the password.
            for text in texts:
                assert access_key not in text and password not in text

    anyio.run(run)
    assert project.resources("dev") == {} and project.applies_started() == 0


# --------------------------------------------------------------------------
# Deployment Integration: the deployment checklist, on aws-prod
# --------------------------------------------------------------------------


def test_deployment_integration_preflight_on_prod_walks_the_checklist(project: Project) -> None:
    user = User()
    # The seed's "No linting errors (pnpm lint)" / "No TypeScript errors (pnpm
    # type-check)" lines, as the app's own commands (stand-ins that pass).
    config = project.root / "infraguard.toml"
    config.write_text(config.read_text() + '\n[preflight]\ncommands = ["echo pnpm lint: no problems", "echo pnpm type-check: 0 errors"]\n')

    async def run() -> None:
        async with two_servers(project, user) as (dev, prod):
            creds = await session(dev)
            await apply_chain(dev, creds, S3, properties={"BucketName": BUCKET})

            # "All aws-dev resources tested and working / Resources promoted to aws-prod".
            first = ok(await prod.call_tool("preflight", {}))
            assert first["env"] == "prod" and first["ready"] is False, first
            checks = {c["key"]: c for c in first["checks"]}
            assert {"promotion", "drift", "findings"} <= set(checks), list(checks)
            assert checks["promotion"]["ok"] is False and any(BUCKET in d for d in checks["promotion"]["details"]), checks["promotion"]
            assert checks["command: echo pnpm lint: no problems"]["ok"] is True
            assert checks["command: echo pnpm type-check: 0 errors"]["ok"] is True

            await promote_bucket(project, dev, prod)
            ready = ok(await prod.call_tool("preflight", {}))
            failing = [c for c in ready["checks"] if not c["ok"]]
            assert ready["ready"] is True and failing == [], failing
            # It runs the app's own commands, so only the server of that environment runs it.
            msg = refused(await dev.call_tool("preflight", {"environment": "prod"}))
            assert "aws-prod" in msg, msg

    anyio.run(run)


# --------------------------------------------------------------------------
# Cost Monitoring: the monthly review across both environments
# --------------------------------------------------------------------------


def test_cost_monitoring_shows_both_environments_and_the_combined_total(project: Project) -> None:
    user = User()

    async def run() -> None:
        async with two_servers(project, user) as (dev, prod):
            creds = await session(dev)
            await apply_chain(dev, creds, S3, properties={"BucketName": BUCKET, "Tags": SEED_TAGS})
            await apply_chain(dev, creds, "AWS::SES::EmailIdentity", properties={"EmailIdentity": "synthcoreai.com"})
            await apply_chain(dev, creds, RDS, properties=RDS_PROPS)  # the user accepts the cost
            await promote_bucket(project, dev, prod)

            reports = [ok(await c.call_tool("cost_report", {})) for c in (dev, prod)]
            # Both servers give the same review.
            assert reports[0]["environments"] == reports[1]["environments"], reports
            report = reports[0]
            envs = {e["env"]: e for e in report["environments"]}
            assert list(envs) == ["aws-dev", "aws-prod"]
            assert envs["aws-dev"]["resources"] == 3 and envs["aws-prod"]["resources"] == 1, envs
            dev_services = {s["service"]: Decimal(s["monthly_usd"]) for s in envs["aws-dev"]["services"]}
            assert {"S3 Storage", "SES Emails", "RDS Database"} <= set(dev_services), dev_services
            assert dev_services["RDS Database"] >= 10
            assert [s["service"] for s in envs["aws-prod"]["services"]] == ["S3 Storage"]
            total = sum(Decimal(e["total_usd"]) for e in envs.values())
            assert Decimal(report["combined_total_usd"]) == total, report
            # The seed's tree.
            display = report["display"]
            assert display.startswith("📊 Monthly AWS Costs ("), display
            for part in ("aws-dev:\n", "aws-prod:\n", "├─ S3 Storage: $", "├─ RDS Database: $", "└─ Total: $",
                         f"Combined Total: ${Decimal(report['combined_total_usd']):.2f}/month"):
                assert part in display, (part, display)
            assert display.index("aws-dev:") < display.index("aws-prod:") < display.index("Combined Total")
            # "Alert at $25, $50, $100 thresholds".
            assert report["thresholds"] == ["25", "50", "100"]
            assert "$25.00, $50.00, $100.00" in display
            # "Set up CloudWatch billing alarms": planned, one per threshold, never applied here.
            alarms = ok(await dev.call_tool("cost_report", {
                "create_billing_alarm": True, "alert_email": "ops@synthcoreai.com"}))["billing_alarms"]
            # One SNS topic to notify, then one alarm per threshold on EstimatedCharges.
            assert [a["resource_type"] for a in alarms] == ["AWS::SNS::Topic"] + ["AWS::CloudWatch::Alarm"] * 3, alarms
            names = [a["generate_arguments"]["properties"]["AlarmName"] for a in alarms[1:]]
            assert names == [f"synthcoreai-billing-{n}usd-dev" for n in (25, 50, 100)], names
            assert {a["generate_arguments"]["properties"]["MetricName"] for a in alarms[1:]} == {"EstimatedCharges"}
            assert project.resources("dev", "AWS::CloudWatch::Alarm") == {}

    anyio.run(run)


# --------------------------------------------------------------------------
# Troubleshooting: MCP server connection issues, resource creation fails
# --------------------------------------------------------------------------


def test_troubleshooting_bad_names_and_conflicts_are_clear_errors(project: Project) -> None:
    user = User()

    async def run() -> None:
        async with two_servers(project, user) as (dev, prod):
            # A bad environment name: a tool error naming it, not a crash; the
            # server goes on answering.
            for client, served, bad in ((dev, "dev", "staging"), (prod, "prod", "production")):
                for tool, args in (
                    ("check_environment_variables", {"environment": bad}),
                    ("get_aws_account_info", {"environment": bad}),
                    ("list_resources", {"resource_type": S3, "environment": bad}),
                    ("cost_report", {"environment": bad}),
                ):
                    msg = refused(await client.call_tool(tool, args))
                    assert f"`{bad}`" in msg or f"--env {bad}" in msg, (tool, msg)
                check = ok(await client.call_tool("check_environment_variables", {}))
                assert check["ok"] is True and check["environment"] == served
            # The seed's connection test.
            assert ok(await dev.call_tool("get_aws_account_info", {}))["environments"][0]["name"] == "dev"

            # "Resource already exists - Check for naming conflicts".
            creds = await session(dev)
            await apply_chain(dev, creds, S3, properties={"BucketName": BUCKET})
            msg = refused(await dev.call_tool("generate_infrastructure_code", {
                "resource_type": S3, "credentials_token": creds, "properties": {"BucketName": BUCKET}}))
            assert "already exists" in msg and BUCKET in msg, msg
            # A chain out of order names the missing step.
            msg = refused(await dev.call_tool("create_resource", {"resource_type": S3, "credentials_token": creds}))
            assert "explain" in msg, msg

    anyio.run(run)


def test_troubleshooting_an_unknown_environment_is_named_as_unknown(project: Project) -> None:
    user = User()

    async def run() -> None:
        async with two_servers(project, user) as (dev, prod):
            for client, bad in ((dev, "staging"), (prod, "production")):
                msg = refused(await client.call_tool("check_environment_variables", {"environment": bad}))
                assert f"aws-{bad}" not in msg and f"serve --env {bad}" not in msg, msg
                assert "dev" in msg and "prod" in msg and "no such environment" in msg, msg

    anyio.run(run)
