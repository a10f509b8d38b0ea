"""The tools beyond the token chain, through the Python MCP SDK against a
fresh project: cost_report (and billing alarm plans), usage overrides of
the estimate, promote_resource (with the client's user approving, and
without elicitation through `infraguard approve`), check_sync_status,
detect_drift, and the IAM tools lint / suggest / extend."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from mcp_harness import S3, Project, http_server, ok, refused, session, walk
from mcp import Client
from mcp_types import ElicitResult

DEV = {"environment": "dev"}
BUCKET = "synthcoreai-documents-dev"
PROD_BUCKET = "synthcoreai-documents-prod"
NEW_TOOLS = {
    "cost_report", "promote_resource", "check_sync_status", "detect_drift",
    "lint_iam_policy", "suggest_iam_policy", "extend_iam_policy",
}


class AcceptingUser:
    """A user behind the client who accepts every prompt."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    async def __call__(self, context, params) -> ElicitResult:
        self.prompts.append(params.message)
        return ElicitResult(action="accept", content={"note": "tested"})


async def apply_chain(client: Client, creds: str, resource_type: str, tool: str = "create_resource", env_args: dict[str, Any] | None = None, **generate: Any) -> dict[str, Any]:
    """Steps 3-6, proceeding past findings (the user accepts where asked)."""
    chain = await walk(client, creds, resource_type, env_args=env_args, **generate)
    if chain.scanned["scan_status"] == "FAILED":
        ok(await client.call_tool("approve_security_findings", {
            "security_scan_token": chain.scanned["security_scan_token"], "decision": "proceed",
            "reason": "test", **(env_args or {})}))
    return ok(await client.call_tool(tool, chain.mutation_args(**(env_args or {}))))


async def dev_bucket(client: Client) -> str:
    creds = await session(client, DEV)
    created = await apply_chain(client, creds, S3, env_args=DEV, properties={"BucketName": BUCKET})
    assert created["status"] == "SUCCESS"
    return creds


def test_the_new_tools_are_listed_with_schemas_and_hints(project: Project) -> None:
    async def run() -> None:
        async with Client(project.stdio(), mode="legacy") as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert NEW_TOOLS <= set(tools), NEW_TOOLS - set(tools)
            for name in NEW_TOOLS:
                assert tools[name].input_schema["type"] == "object" and tools[name].description
            hints = {n: tools[n].annotations for n in NEW_TOOLS}
            for n in ("check_sync_status", "detect_drift", "lint_iam_policy", "suggest_iam_policy"):
                assert hints[n].read_only_hint is True, n
            for n in ("cost_report", "promote_resource", "extend_iam_policy"):
                assert hints[n].read_only_hint is False and hints[n].destructive_hint is False, n
            assert hints["promote_resource"].open_world_hint is True
            props = tools["promote_resource"].input_schema["properties"]
            assert {"resource_type", "identifier", "with_dependencies"} <= set(props)
            assert tools["promote_resource"].input_schema["required"] == ["resource_type", "identifier"]

    anyio.run(run)


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_promote_with_the_user_accepting_then_sync_and_drift(project: Project, mode: str) -> None:
    user = AcceptingUser()

    async def run() -> None:
        async with Client(project.stdio(), mode=mode, elicitation_callback=user) as client:
            creds = await dev_bucket(client)
            before = ok(await client.call_tool("check_sync_status", {"resource_type": S3}))
            assert [d["identifier"] for d in before["dev_only"]] == [BUCKET]
            assert before["synced"] == [] and before["in_sync"] is False
            prompts_before = len(user.prompts)

            promoted = ok(await client.call_tool("promote_resource", {"resource_type": S3, "identifier": BUCKET}))
            assert promoted["status"] == "synced" and promoted["prod_id"] == PROD_BUCKET
            assert promoted["approved_by"][0]["approved_by"].startswith("unverified:")
            assert len(user.prompts) == prompts_before + 1
            assert PROD_BUCKET in user.prompts[-1]
            assert {c["key"]: c["status"] for c in promoted["checklist"]}["approval"] == "passed"

            after = ok(await client.call_tool("check_sync_status", {}))
            assert set(after) >= {"dev_only", "prod_only", "synced", "needs_review"}
            assert after["dev_only"] == [] and after["needs_review"] == []
            assert [(p["dev"], p["prod"]) for p in after["synced"]] == [(BUCKET, PROD_BUCKET)]

            clean = ok(await client.call_tool("detect_drift", {"resource_type": S3}))
            assert clean["pairs_checked"] == 1 and clean["drifted"] == [], clean["drifted"]

            # A normal dev update: prod now differs from dev.
            patch = [{"op": "add", "path": "/VersioningConfiguration", "value": {"Status": "Enabled"}}]
            updated = await apply_chain(client, creds, S3, tool="update_resource", env_args=DEV,
                                        identifier=BUCKET, patch_document=patch)
            assert updated["status"] == "SUCCESS"
            drift = ok(await client.call_tool("detect_drift", {"resource_type": S3}))
            assert drift["in_sync"] is False
            [pair] = drift["drifted"]
            assert (pair["dev"], pair["prod"]) == (BUCKET, PROD_BUCKET)
            paths = [d["path"] for d in pair["differences"]]
            assert any(p.startswith("/VersioningConfiguration") for p in paths), paths
            assert "generate_infrastructure_code" in drift["next_step"]

    anyio.run(run)
    assert PROD_BUCKET in project.resources("prod")
    assert project.resources("dev")[BUCKET]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert "VersioningConfiguration" not in project.resources("prod")[PROD_BUCKET]


def test_promote_without_elicitation_names_the_approval_and_a_second_call_finishes(project: Project) -> None:
    async def first(client: Client) -> str:
        await dev_bucket(client)
        r = await client.call_tool("promote_resource", {"resource_type": S3, "identifier": BUCKET})
        msg = refused(r)
        aid = r.structured_content["approval_id"]
        assert r.structured_content["status"] == "awaiting_approval"
        assert f"infraguard approve {aid}" in msg and "promote_resource again" in msg
        return aid

    async def second(client: Client) -> dict[str, Any]:
        return ok(await client.call_tool("promote_resource", {"resource_type": S3, "identifier": BUCKET}))

    async def run() -> None:
        async with Client(project.stdio(), mode="legacy") as client:
            aid = await first(client)
            assert PROD_BUCKET not in project.resources("prod")
            approved = project.approve_at_terminal(aid)
            assert approved.returncode == 0, approved.stdout + approved.stderr
            done = await second(client)
            assert done["status"] == "synced" and done["prod_id"] == PROD_BUCKET

    anyio.run(run)
    assert PROD_BUCKET in project.resources("prod")


def test_a_single_environment_server_cannot_promote(project: Project) -> None:
    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode="legacy") as client:
            msg = refused(await client.call_tool("promote_resource", {"resource_type": S3, "identifier": BUCKET}))
            assert "without --env" in msg and "infraguard promote" in msg

    anyio.run(run)
    assert project.resources("prod") == {}


def test_cost_report_numbers_and_billing_alarm_plans(project: Project) -> None:
    async def run() -> None:
        async with Client(project.stdio(), mode="legacy") as client:
            creds = await session(client, DEV)
            await apply_chain(client, creds, S3, env_args=DEV, properties={"BucketName": BUCKET})
            est = ok(await client.call_tool("estimate_cost", {"resource_type": S3, "properties": {"BucketName": BUCKET}, **DEV}))

            r = await client.call_tool("cost_report", {})
            report = ok(r)
            envs = {e["env"]: e for e in report["environments"]}
            assert set(envs) == {"aws-dev"} or set(envs) == {"aws-dev", "aws-prod"}, envs
            assert envs["aws-dev"]["resources"] == 1
            # The report prices the bucket as estimate_cost does (rounded to cents).
            assert float(envs["aws-dev"]["total_usd"]) == pytest.approx(float(est["monthly_usd"]), abs=0.005)
            # The rendered tree comes as a second text block, as `display` too.
            assert r.content[1].text == report["display"] and "Monthly AWS Costs" in report["display"]

            dev_only = ok(await client.call_tool("cost_report", DEV))
            assert [e["env"] for e in dev_only["environments"]] == ["aws-dev"]

            # An alarm that notifies nobody is no alert: the address is asked for.
            nobody = refused(await client.call_tool("cost_report", {"create_billing_alarm": True, **DEV}))
            assert "alert_email" in nobody, nobody
            alarms = ok(await client.call_tool("cost_report", {"create_billing_alarm": True,
                                                               "alert_email": "ops@example.com", **DEV}))
            topic, *rest = alarms["billing_alarms"]
            assert topic["resource_type"] == "AWS::SNS::Topic", topic
            assert topic["generate_arguments"]["properties"]["Subscription"] == [
                {"Protocol": "email", "Endpoint": "ops@example.com"}]
            assert len(rest) == 3, alarms
            for plan in rest:
                assert plan["plan_id"].startswith("plan-") or plan["plan_id"]
                assert plan["resource_type"] == "AWS::CloudWatch::Alarm" and plan["environment"] == "dev"
                assert plan["gate"]["decision"]
                assert plan["generate_arguments"]["properties"]["MetricName"] == "EstimatedCharges"
                assert plan["generate_arguments"]["properties"]["AlarmActions"][0].endswith(
                    topic["generate_arguments"]["properties"]["TopicName"])
            # Planned only: nothing was created.
            assert project.resources("dev", "AWS::CloudWatch::Alarm") == {}
            assert project.resources("dev", "AWS::SNS::Topic") == {}

            needs_env = refused(await client.call_tool("cost_report", {"create_billing_alarm": True}))
            assert "environment" in needs_env

        async with Client(project.stdio("--env", "dev"), mode="legacy") as client:
            # The seed's review from either server: both environments and the
            # combined total (prod read-only from here).
            served = ok(await client.call_tool("cost_report", {}))
            assert [e["env"] for e in served["environments"]] == ["aws-dev", "aws-prod"], served["environments"]
            assert "Total" in served["display"], served["display"]
            prod = ok(await client.call_tool("cost_report", {"environment": "prod"}))
            assert [e["env"] for e in prod["environments"]] == ["aws-prod"]
            # Alarms are writes: only where this server writes.
            other = refused(await client.call_tool("cost_report", {"environment": "prod", "create_billing_alarm": True}))
            assert "serve --env prod" in other

    anyio.run(run)


def test_estimate_cost_previews_the_gates_own_decision(project: Project) -> None:
    """A cheap bucket costs little everywhere, but in prod the gate still
    wants a human: the preview is the gate's, not the threshold's."""

    async def run() -> None:
        async with Client(project.stdio(), mode="legacy") as client:
            props = {"BucketName": "synthcoreai-preview-dev"}
            dev = ok(await client.call_tool("estimate_cost", {"resource_type": S3, "properties": props, **DEV}))
            assert dev["over_cost_threshold"] is False and dev["requires_approval"] is False, dev
            assert dev["gate"]["decision"] == "auto"
            prod = ok(await client.call_tool("estimate_cost", {"resource_type": S3, "environment": "prod",
                                                                "properties": {"BucketName": "synthcoreai-preview-prod"}}))
            assert prod["over_cost_threshold"] is False, prod
            assert prod["requires_approval"] is True, prod
            assert any("read-only" in r for r in prod["gate"]["reasons"]), prod["gate"]
            # An RDS instance open to the world: findings, not only cost.
            rds = ok(await client.call_tool("estimate_cost", {"resource_type": "AWS::RDS::DBInstance", **DEV, "properties": {
                "DBInstanceIdentifier": "synthcoreai-open-dev", "Engine": "postgres", "DBInstanceClass": "db.t3.micro",
                "AllocatedStorage": "20", "MasterUsername": "admin_user", "ManageMasterUserPassword": True,
                "PubliclyAccessible": True}}))
            assert rds["requires_approval"] is True
            assert any("finding" in r for r in rds["gate"]["reasons"]), rds["gate"]
            # Nothing was planned by a preview.
            assert ok(await client.call_tool("list_pending_approvals", {}))["approvals"] == []
            # Without a name there is no plan to preview: said, not guessed.
            nameless = ok(await client.call_tool("estimate_cost", {"resource_type": S3, "properties": {}, **DEV}))
            assert nameless["requires_approval"] is None and "needs a name" in nameless["gate_note"], nameless

    anyio.run(run)


def test_a_usage_override_changes_the_estimate_and_the_plan(project: Project) -> None:
    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode="legacy") as client:
            props = {"BucketName": BUCKET}
            small = ok(await client.call_tool("estimate_cost", {"resource_type": S3, "properties": props, "usage": {"storage_gb": 1}}))
            big = ok(await client.call_tool("estimate_cost", {"resource_type": S3, "properties": props, "usage": "storage_gb=5000"}))
            assert float(big["monthly_usd"]) > float(small["monthly_usd"])
            creds = await session(client)
            args = {"resource_type": S3, "credentials_token": creds, "properties": props}
            plain = ok(await client.call_tool("generate_infrastructure_code", {**args, "usage": {"storage_gb": 1}}))
            heavy = ok(await client.call_tool("generate_infrastructure_code", {**args, "usage": "storage_gb=5000"}))
            assert float(heavy["cost_estimate"]["monthly_usd"]) > float(plain["cost_estimate"]["monthly_usd"])
            bad = refused(await client.call_tool("estimate_cost", {"resource_type": S3, "usage": {"storage_gb": "lots"}}))
            assert "lots" in bad

    anyio.run(run)


def test_lint_finds_a_misspelled_action_and_suggest_names_the_policy(project: Project) -> None:
    bad_policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:PutObjekt"], "Resource": "arn:aws:s3:::synthcoreai-documents-dev/*"}],
    }

    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode="legacy") as client:
            for doc in (bad_policy, json.dumps(bad_policy)):
                lint = ok(await client.call_tool("lint_iam_policy", {"policy_document": doc}))
                assert lint["summary"]["open"] >= 1
                assert "s3:PutObject" in json.dumps(lint["findings"]), lint["findings"]
            clean = dict(bad_policy, Statement=[dict(bad_policy["Statement"][0], Action=["s3:PutObject"])])
            assert ok(await client.call_tool("lint_iam_policy", {"policy_document": clean}))["summary"]["open"] == 0
            template = {"Resources": {"Upload": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": bad_policy}}}}
            in_template = ok(await client.call_tool("lint_iam_policy", {"template": template}))
            assert "s3:PutObject" in json.dumps(in_template["findings"])
            yaml_template = (
                "Resources:\n  Upload:\n    Type: AWS::IAM::ManagedPolicy\n    Properties:\n      PolicyDocument:\n"
                "        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n            Action: s3:PutObjekt\n"
                "            Resource: '*'\n"
            )
            in_yaml = ok(await client.call_tool("lint_iam_policy", {"template": yaml_template}))
            assert "s3:PutObject" in json.dumps(in_yaml["findings"])
            neither = refused(await client.call_tool("lint_iam_policy", {}))
            assert "policy_document" in neither and "template" in neither

            s = ok(await client.call_tool("suggest_iam_policy", {"capability": "upload files to S3"}))
            assert s["status"] == "known" and s["policy_name"] == "SynthCoreAI-S3-FileUpload"
            assert "s3:PutObject" in s["actions"]
            assert all("synthcoreai" in r for r in s["resources"]), s["resources"]
            unknown = await client.call_tool("suggest_iam_policy", {"capability": "fly to the moon"})
            refused(unknown)
            assert unknown.structured_content["error"] == "unknown_capability"
            assert unknown.structured_content["known"], "the known capabilities are listed"

    anyio.run(run)


def test_extend_plans_a_policy_that_the_chain_then_applies(project: Project) -> None:
    user = "synthcoreai-app-dev"

    async def run() -> None:
        async with Client(project.stdio("--env", "dev"), mode="legacy") as client:
            creds = await session(client)
            await apply_chain(client, creds, "AWS::IAM::User", purpose="app", properties={})
            ext = {"principal_type": "user", "principal_name": user, "capability": "upload files to S3"}
            planned = ok(await client.call_tool("extend_iam_policy", ext))
            assert planned["status"] == "planned" and planned["change"] == "new_managed_policy"
            assert planned["policy_name"] == "SynthCoreAI-S3-FileUpload"
            assert "s3:PutObject" in planned["diff_text"]
            summary = planned["plan_summary"]
            assert summary["resource_type"] == "AWS::IAM::ManagedPolicy"
            assert project.resources("dev", "AWS::IAM::ManagedPolicy") == {}, "extend only plans"

            # The agent applies it through the chain with the arguments given.
            gen = dict(summary["generate_arguments"])
            gen.pop("environment")
            created = await apply_chain(client, creds, **gen)
            assert created["status"] == "SUCCESS"
            again = ok(await client.call_tool("extend_iam_policy", ext))
            assert again["status"] == "already_granted" and again.get("plan") is None

            missing = refused(await client.call_tool("extend_iam_policy", dict(ext, principal_name="nobody")))
            assert "nobody" in missing

    anyio.run(run)
    policies = project.resources("dev", "AWS::IAM::ManagedPolicy")
    assert len(policies) == 1
    [props] = policies.values()
    assert props["ManagedPolicyName"] == "SynthCoreAI-S3-FileUpload" and props["Users"] == [user]


def test_promote_over_http_in_the_input_required_form(project: Project) -> None:
    user = AcceptingUser()
    with http_server(project) as url:
        async def run() -> None:
            async with Client(url, mode="2026-07-28", elicitation_callback=user) as client:
                await dev_bucket(client)
                asked = len(user.prompts)
                done = ok(await client.call_tool("promote_resource", {"resource_type": S3, "identifier": BUCKET}))
                assert done["status"] == "synced" and len(user.prompts) == asked + 1

        anyio.run(run)
    assert PROD_BUCKET in project.resources("prod")


def test_promote_with_dependencies_asks_for_each_prod_create(project: Project) -> None:
    """A bucket policy promoted with its bucket: two prod creates, each
    approved by the user in one promote_resource call."""
    user = AcceptingUser()
    policy = {
        "Bucket": BUCKET,
        "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }],
        },
    }

    async def run() -> None:
        async with Client(project.stdio(), mode="legacy", elicitation_callback=user) as client:
            creds = await dev_bucket(client)
            await apply_chain(client, creds, "AWS::S3::BucketPolicy", env_args=DEV, properties=policy)
            [policy_id] = project.resources("dev", "AWS::S3::BucketPolicy")
            asked = len(user.prompts)
            done = ok(await client.call_tool("promote_resource", {
                "resource_type": "AWS::S3::BucketPolicy", "identifier": policy_id, "with_dependencies": True}))
            assert done["status"] == "synced", done["message"]
            # Two approvals in one call: the bucket's prod create, then the policy's.
            assert len({a["approval_id"] for a in done["approved_by"]}) == 2
            assert len(user.prompts) == asked + 2
            assert PROD_BUCKET in user.prompts[asked] and "BucketPolicy" in user.prompts[asked + 1]

    anyio.run(run)
    assert PROD_BUCKET in project.resources("prod")
    [prod_policy] = project.resources("prod", "AWS::S3::BucketPolicy").values()
    assert prod_policy["Bucket"] == PROD_BUCKET


def test_list_locks_shows_who_holds_what_and_a_frozen_environment(project: Project) -> None:
    # A prod plan waits for a person, so it holds its bucket; dev is frozen by hand.
    plan = project.cli_json("plan", "--env", "prod", "--type", S3, "--properties", json.dumps({"BucketName": PROD_BUCKET}))
    assert plan["gate"]["approval_id"], plan
    frozen = project.cli_json("state", "lock", "--env", "dev", "--reason", "release freeze")

    async def run() -> None:
        async with Client(project.stdio(), mode="legacy") as client:
            listed = ok(await client.call_tool("list_locks", {}))
            by_env = {lock["env"]: lock for lock in listed["locks"]}
            assert set(by_env) == {"dev", "prod"} and listed["held"] == 2, listed
            held = by_env["prod"]
            assert held["plan_id"] == plan["id"] and held["held"] is True
            assert PROD_BUCKET in held["resource"] and held["who"] and held["host"] and held["since"]
            assert by_env["dev"]["id"] == frozen["id"] and "release freeze" in by_env["dev"]["what"]
            only_prod = ok(await client.call_tool("list_locks", {"environment": "prod"}))
            assert [lock["env"] for lock in only_prod["locks"]] == ["prod"]
            assert "no such environment" in refused(await client.call_tool("list_locks", {"environment": "staging"}))
        # A server for one environment shows only its own.
        async with Client(project.stdio("--env", "prod"), mode="legacy") as prod:
            mine = ok(await prod.call_tool("list_locks", {}))
            assert [lock["env"] for lock in mine["locks"]] == ["prod"], mine

    anyio.run(run)
