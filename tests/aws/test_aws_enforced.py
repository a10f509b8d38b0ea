"""The `aws-enforced` level end to end: AWS itself refuses prod writes made
without the approver's MFA session.

What runs, all on 127.0.0.1:

- the backend: `infraguard cloud serve` of a scratch local project (a cloud
  on the Cloud Control wire protocol);
- tests/aws/standin.py in front of it: STS (AssumeRole checks the MFA code
  against a TOTP secret only this test knows, the approver's device), IAM
  (SimulatePrincipalPolicy, GetRole), CloudTrail (LookupEvents) and Cloud
  Control, which verifies SigV4 signatures and refuses writes the caller's
  policies do not allow. The stand-in follows AWS's documented behaviour; it
  was not run against AWS;
- the project under test: `prod` on the aws backend, pinned to the
  stand-in's account, with an approval role; the agent's profile holds a
  read-only key, the approver's profile (`alice`) a key that can only
  assume the role, with MFA.

Each test asserts on the stand-in's request log: which calls reached
Cloud Control, signed by whom.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import standin  # noqa: E402
from test_standin import binary, clean_env, client, start_backend, start_standin, stop_process  # noqa: E402

ACCOUNT = "222222222222"
REGION = "us-east-1"
S3 = "AWS::S3::Bucket"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-infraguard-approver-prod"
OPEN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-open-approver"
MFA = f"arn:aws:iam::{ACCOUNT}:mfa/alice"
MFA_SECRET = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF"

AGENT = ("AKIAAGENTREADONLY001", "agent-secret-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", f"arn:aws:iam::{ACCOUNT}:user/agent")
WIDE = ("AKIAAGENTWRITES00001", "wide-secret-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", f"arn:aws:iam::{ACCOUNT}:user/agent-rw")
ALICE = ("AKIAALICEAPPROVER001", "alice-secret-ccccccccccccccccccccccccccccc", f"arn:aws:iam::{ACCOUNT}:user/alice")
ADMIN = ("AKIAADMINOUTSIDE0001", "admin-secret-ddddddddddddddddddddddddddddd", f"arn:aws:iam::{ACCOUNT}:user/admin")
SECRETS = [AGENT[1], WIDE[1], ALICE[1], ADMIN[1], MFA_SECRET]

READS = ["cloudformation:Get*", "cloudformation:List*", "cloudformation:DescribeType", "s3:Get*", "s3:List*",
         "iam:GetRole", "iam:SimulatePrincipalPolicy", "cloudtrail:LookupEvents", "pricing:GetProducts",
         "ce:GetCostAndUsage"]
MFA_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": ALICE[2]}, "Action": "sts:AssumeRole",
    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}
OPEN_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}


def handler_permissions() -> dict:
    """The handler permissions of the types the tests use, from the schemas infraguard embeds."""
    doc = json.loads((HERE.parents[1] / "crates/schema/data/aws-s3-bucket.json").read_text())
    return {S3: {op: doc["handlers"][op]["permissions"] for op in ("create", "read", "update", "delete", "list")}}


def standin_config(log: Path, backend: str, costs: dict | None = None) -> dict:
    reads = [{"Effect": "Allow", "Action": READS, "Resource": "*"}]
    return {
        "costs": costs or {},
        "account_id": ACCOUNT,
        "region": REGION,
        "cloudcontrol_backend": backend,
        "log": str(log),
        "principals": {
            AGENT[0]: {"secret": AGENT[1], "arn": AGENT[2], "policy": reads},
            WIDE[0]: {"secret": WIDE[1], "arn": WIDE[2], "policy": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
            # The approver's own key reads and assumes the role; it writes nothing itself.
            ALICE[0]: {"secret": ALICE[1], "arn": ALICE[2],
                       "policy": reads + [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": ROLE}]},
            ADMIN[0]: {"secret": ADMIN[1], "arn": ADMIN[2], "policy": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        },
        "roles": {
            ROLE: {"trust_policy": MFA_TRUST, "policy": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
            OPEN_ROLE: {"trust_policy": OPEN_TRUST, "policy": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        },
        "mfa_devices": {MFA: {"secret": MFA_SECRET, "user_arn": ALICE[2]}},
        "handler_permissions": handler_permissions(),
    }


class Stack:
    """The backend, the stand-in and the project, for one test."""

    def __init__(self, root: Path, costs: dict | None = None):
        """`costs`: the account's bill per day, as the stand-in's Cost Explorer takes it."""
        self.root = root
        self.bin = binary()
        self.backend, backend_url = start_backend(root / "backend")
        self.log = root / "requests.jsonl"
        self.standin, self.url = start_standin(standin_config(self.log, backend_url, costs), root / "standin.json")
        self.project = root / "project"
        self.project.mkdir()
        self.aws = root / "aws"
        self.aws.mkdir()
        self.keys({"acme-prod": AGENT, "alice": ALICE})
        self.run("init", "--project", "Acme", "--prefix", "acme", check=True)
        self.configure()

    def keys(self, profiles: dict) -> None:
        """The shared credentials file: one static key per profile."""
        (self.aws / "credentials").write_text("".join(
            f"[{name}]\naws_access_key_id = {k[0]}\naws_secret_access_key = {k[1]}\n" for name, k in profiles.items()))
        (self.aws / "config").write_text("".join(
            f"[profile {name}]\nregion = {REGION}\n" for name in profiles))

    def configure(self, account: str = ACCOUNT, role: str = ROLE) -> None:
        path = self.project / "infraguard.toml"
        text = path.read_text()
        head, _, _ = text.partition("[environments.prod]")
        head = head if "[environments.prod]" in text else text
        path.write_text(head + f"""[environments.prod]
backend = "aws"
profile = "acme-prod"
region = "{REGION}"
read_only = true
tag_value = "production"
account_id = "{account}"

[environments.prod.approval]
role_arn = "{role}"
mfa_serial = "{MFA}"
profile = "alice"
""" + tail_after_prod(text))

    def env(self) -> dict:
        env = clean_env()
        env.update({
            "AWS_ENDPOINT_URL": self.url,
            "AWS_CONFIG_FILE": str(self.aws / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.aws / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        return env

    def run(self, *args: str, stdin: str | None = None, check: bool = False) -> subprocess.CompletedProcess:
        proc = subprocess.run([self.bin, "-C", str(self.project), *args], input=stdin, capture_output=True,
                              text=True, timeout=120, env=self.env())
        if check and proc.returncode != 0:
            pytest.fail(f"infraguard {' '.join(args)} exited {proc.returncode}: {proc.stdout}{proc.stderr}")
        for secret in SECRETS:
            assert secret not in proc.stdout + proc.stderr, f"a secret was printed by {args}"
        return proc

    def json(self, *args: str, stdin: str | None = None, code: int = 0):
        proc = self.run("--output", "json", *args, stdin=stdin)
        assert proc.returncode == code, f"infraguard {' '.join(args)}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
        return json.loads(proc.stdout)

    def requests(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def writes(self) -> list[dict]:
        """Cloud Control writes that reached the stand-in (allowed or not)."""
        return [r for r in self.requests() if r["service"] == "cloudcontrol"
                and r["action"] in ("CreateResource", "UpdateResource", "DeleteResource", "CancelResourceRequest")]

    def plan_bucket(self, name: str) -> dict:
        plan = self.json("plan", "--env", "prod", "--type", S3, "--properties", json.dumps({"BucketName": name}))
        assert plan["gate"]["decision"] != "auto", plan["gate"]
        assert plan["gate"]["approval_id"], plan["gate"]
        return plan

    def close(self) -> None:
        assert stop_process(self.standin) == 0, self.standin.stderr.read()
        stop_process(self.backend)


def tail_after_prod(text: str) -> str:
    """What follows the `[environments.prod]` table in `text`."""
    if "[environments.prod]" not in text:
        return ""
    after = text.split("[environments.prod]", 1)[1]
    match = re.search(r"^\[(?!environments\.prod)", after, flags=re.M)
    return "\n" + after[match.start():] if match else ""


@pytest.fixture
def stack(tmp_path: Path):
    s = Stack(tmp_path)
    yield s
    s.close()


def code_now() -> str:
    """The approver's current code; waits into the next step if the current one was used already."""
    code = standin.totp(MFA_SECRET)
    if code in code_now.used:
        time.sleep(30 - time.time() % 30 + 0.5)
        code = standin.totp(MFA_SECRET)
    code_now.used.add(code)
    return code


code_now.used = set()


def wrong_code() -> str:
    right = {standin.totp(MFA_SECRET, at=time.time() + d) for d in (-30, 0, 30)}
    return next(c for c in ("000000", "123456", "654321", "111111") if c not in right)


def approval_status(stack: Stack, approval_id: str) -> str:
    rows = stack.json("approvals", "--all")
    return next(a["status"] for a in rows if a["id"] == approval_id)


def test_the_config_and_doctor_say_aws_enforced_when_the_agent_is_read_only(stack: Stack):
    envs = {e["name"]: e for e in stack.json("envs")["environments"]}
    assert envs["prod"]["approval_role"]["role_arn"] == ROLE
    assert envs["prod"]["level"] == "aws-enforced"
    report = stack.json("doctor")
    prod = next(e for e in report["environments"] if e["name"] == "prod")
    assert prod["level"] == "aws-enforced", prod
    assert any("can make none of the" in r for r in prod["reasons"]), prod["reasons"]
    assert any("only with MFA" in r for r in prod["reasons"]), prod["reasons"]
    assert prod["fixes"] == []
    # Doctor asked IAM (with the approver's connection) about the agent's own principal.
    assert [r for r in stack.requests() if r["action"] == "SimulatePrincipalPolicy"]
    assert any(AGENT[2] in r for r in prod["reasons"]), prod["reasons"]


def test_doctor_says_advisory_when_the_agent_can_write(stack: Stack):
    stack.keys({"acme-prod": WIDE, "alice": ALICE})
    prod = next(e for e in stack.json("doctor")["environments"] if e["name"] == "prod")
    assert prod["level"] == "advisory", prod
    assert any("can write in account" in r and "cloudformation:CreateResource" in r for r in prod["reasons"])
    assert any("--iam-templates" in f for f in prod["fixes"])


def test_doctor_says_advisory_when_the_role_needs_no_mfa(stack: Stack):
    stack.configure(role=OPEN_ROLE)
    prod = next(e for e in stack.json("doctor")["environments"] if e["name"] == "prod")
    assert prod["level"] == "advisory", prod
    assert any("can be assumed without MFA" in r for r in prod["reasons"]), prod["reasons"]


def test_a_mismatched_account_is_refused_before_any_cloud_control_call(stack: Stack):
    stack.configure(account="333333333333", role="arn:aws:iam::333333333333:role/acme-approver")
    proc = stack.run("resources", "list", "--env", "prod", "--type", S3)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "333333333333" in proc.stderr and ACCOUNT in proc.stderr and "acme-prod" in proc.stderr
    assert not [r for r in stack.requests() if r["service"] == "cloudcontrol"]


def test_the_agents_credentials_cannot_write_prod_however_it_calls(stack: Stack):
    plan = stack.plan_bucket("acme-agent-tries-prod")
    approval = plan["gate"]["approval_id"]

    # Through infraguard: the gate holds it.
    assert stack.run("apply", plan["id"]).returncode == 3
    # A forged approval row: the engine still has no MFA session to write with.
    db = sqlite3.connect(stack.project / ".infraguard" / "state.db")
    with db:
        db.execute("UPDATE approvals SET status = 'approved', body = json_set(body, '$.status', 'approved', "
                   "'$.decided_by', 'human:alice via cli') WHERE id = ?", (approval,))
    db.close()
    forged = stack.json("apply", plan["id"], code=3)
    assert forged["outcome"] == "refused"
    assert "aws-enforced" in forged["reasons"][0]
    assert stack.writes() == [], "a refused apply reached Cloud Control"

    # Around infraguard, with every key the agent can read: AWS refuses.
    body = json.dumps({"BucketName": "acme-agent-direct"})
    for key in (AGENT, ALICE):
        cc = client("cloudcontrol", stack.url, key)
        for call in (lambda: cc.create_resource(TypeName=S3, DesiredState=body),
                     lambda: cc.update_resource(TypeName=S3, Identifier="acme-x", PatchDocument="[]"),
                     lambda: cc.delete_resource(TypeName=S3, Identifier="acme-x")):
            with pytest.raises(ClientError) as err:
                call()
            assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    # The approver's key cannot open the role without the device's code...
    sts = client("sts", stack.url, ALICE)
    for extra in ({}, {"SerialNumber": MFA, "TokenCode": wrong_code()}):
        with pytest.raises(ClientError) as err:
            sts.assume_role(RoleArn=ROLE, RoleSessionName="agent-try", DurationSeconds=900, **extra)
        assert err.value.response["Error"]["Code"] == "AccessDenied"
    # ...and infraguard approve with a wrong code is AWS's AccessDenied.
    refused = stack.run("approve", approval, stdin=wrong_code() + "\n")
    assert refused.returncode != 0
    assert "AccessDenied" in refused.stderr, refused.stderr
    assert all(r["decision"] == "denied" for r in stack.writes())
    backend_buckets = client("cloudcontrol", stack.url, AGENT).list_resources(TypeName=S3)["ResourceDescriptions"]
    assert backend_buckets == []


def test_the_person_applies_exactly_the_approved_plan_with_an_mfa_session(stack: Stack):
    plan = stack.plan_bucket("acme-approved-prod")
    approval = plan["gate"]["approval_id"]
    other = stack.plan_bucket("acme-not-approved-prod")

    done = stack.json("approve", approval, stdin=code_now() + "\n")
    assert done["outcome"]["outcome"] == "applied", done
    assert done["approval"]["decided_by"].startswith("human:alice via AWS MFA session infraguard-plan-")
    session = done["session_name"]
    assert session == f"infraguard-plan-{plan['id']}"

    # STS saw one AssumeRole: the role, the device, 900 s, a policy of this plan only.
    assumed = [r for r in stack.requests() if r["action"] == "AssumeRole" and r["decision"] == "allowed"]
    assert len(assumed) == 1
    policy = assumed[0]["session_policy"]
    actions = {a for st in policy["Statement"] for a in st["Action"]}
    assert "cloudformation:CreateResource" in actions and "s3:CreateBucket" in actions
    assert not {"cloudformation:UpdateResource", "cloudformation:DeleteResource", "s3:DeleteBucket"} & actions
    scoped = [st for st in policy["Statement"] if "s3:CreateBucket" in st["Action"]]
    assert scoped[0]["Resource"] == ["arn:aws:s3:::acme-approved-prod", "arn:aws:s3:::acme-approved-prod/*"]

    # Exactly one write reached Cloud Control, made by that session, for this plan's bucket.
    writes = stack.writes()
    assert [(w["action"], w["decision"], w["session_name"]) for w in writes] == [
        ("CreateResource", "allowed", session)]
    assert writes[0]["type_name"] == S3
    assert writes[0]["client_token"] == f"infraguard-{plan['id']}"
    # The other plan is still pending and was never sent.
    assert approval_status(stack, other["gate"]["approval_id"]) == "pending"
    live = client("cloudcontrol", stack.url, AGENT).list_resources(TypeName=S3)["ResourceDescriptions"]
    assert [d["Identifier"] for d in live] == ["acme-approved-prod"]

    # The audit names the person and the session; the chain holds.
    audit = stack.json("audit")
    actions_logged = [(e["action"], e["actor"].split(" via ")[0]) for e in audit if e.get("plan_id") == plan["id"]]
    assert ("approval.granted", "human:alice") in actions_logged, actions_logged
    assert ("session.opened", "human:alice") in actions_logged
    assert ("apply.succeeded", "human:alice") in actions_logged
    assert stack.json("audit", "verify")["ok"]
    # No session key or token was printed or stored in clear.
    state = (stack.project / ".infraguard" / "state.db").read_bytes()
    assert b"ASIA" not in state

    # CloudTrail: the write is matched to the plan by its session; a change made
    # around infraguard shows up as outside.
    admin = client("cloudcontrol", stack.url, ADMIN)
    admin.create_resource(TypeName=S3, DesiredState=json.dumps({"BucketName": "acme-made-by-hand"}))
    trail = stack.json("audit", "cloudtrail", "--env", "prod", "--days", "1", code=4)
    assert [(m["plan_id"], m["by"]) for m in trail["matched"]] == [(plan["id"], "session")]
    assert [e["username"] for e in trail["outside"]] == ["admin"]
    human = stack.run("audit", "cloudtrail", "--env", "prod")
    assert human.returncode == 4 and "outside infraguard" in human.stdout


def test_a_code_or_a_confirmation_does_not_approve_an_aws_enforced_plan(stack: Stack):
    plan = stack.plan_bucket("acme-confirm-prod")
    approval = plan["gate"]["approval_id"]
    # Not six digits: nothing is sent to STS.
    before = len(stack.requests())
    bad = stack.run("approve", approval, stdin="12ab56\n")
    assert bad.returncode == 2, bad.stderr
    assert not [r for r in stack.requests()[before:] if r["action"] == "AssumeRole"]
    assert approval_status(stack, approval) == "pending"
    assert stack.writes() == []


def test_iam_templates_make_the_two_documents(stack: Stack):
    docs = stack.json("doctor", "--iam-templates", "--env", "prod", "--agent-role", "acme-agent")
    [t] = docs
    policy = t["agent_read_only"]["Resources"]["AgentReadOnly"]["Properties"]
    assert policy["Roles"] == ["acme-agent"]
    deny = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"][0]
    assert "cloudformation:CreateResource" in deny["Action"]
    role = t["approval_role"]["Resources"]["ApprovalRole"]["Properties"]
    assert role["RoleName"] == "acme-infraguard-approver-prod"
    cond = role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    assert cond == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    # The read-only policy passes doctor's own test: it allows no write.
    allowed = [a for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow" for a in s["Action"]]
    assert "ce:GetCostAndUsage" in allowed, "the cost review reads Cost Explorer"
    assert not [a for a in allowed if re.search(r":(Create|Put|Delete|Update)", a)]


def test_init_backend_aws_pins_each_environment_to_its_profiles_account(stack: Stack):
    stack.keys({"acme-dev": AGENT, "acme-prod": AGENT})
    fresh = stack.root / "fresh"
    fresh.mkdir()
    proc = subprocess.run([stack.bin, "-C", str(fresh), "init", "--project", "Acme", "--prefix", "acme",
                           "--backend", "aws"], capture_output=True, text=True, timeout=120, env=stack.env())
    assert proc.returncode == 0, proc.stderr
    text = (fresh / "infraguard.toml").read_text()
    assert text.count(f'account_id = "{ACCOUNT}"') == 2, text
    assert f"pinned to AWS account {ACCOUNT}" in proc.stderr
    # A profile that cannot sign in leaves the environment unpinned, and says so.
    stack.keys({"acme-dev": AGENT})
    other = stack.root / "other"
    other.mkdir()
    proc = subprocess.run([stack.bin, "-C", str(other), "init", "--project", "Acme", "--prefix", "acme",
                           "--backend", "aws"], capture_output=True, text=True, timeout=120, env=stack.env())
    assert proc.returncode == 0, proc.stderr
    text = (other / "infraguard.toml").read_text()
    assert text.count("account_id") == 1, text
    assert "prod: not pinned" in proc.stderr and "acme-prod" in proc.stderr
