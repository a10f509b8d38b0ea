"""Tests of tests/aws/standin.py, the loopback stand-in for STS, IAM,
CloudTrail, Cloud Control and Cost Explorer, driven by boto3 (max_attempts 1).

A module-wide fixture starts the backend (`infraguard cloud serve`, the local
cloud on the Cloud Control wire protocol) and the stand-in in front of it,
both as subprocesses on 127.0.0.1, and stops both at the end. A few tests run
a stand-in in-process (`standin.start`) to reach its state (expiring a
session). The Cost Explorer tests start a stand-in of their own, with
spend configured relative to today and no backend, so they need no binary.
Nothing here reaches AWS.

The binary is $INFRAGUARD_BIN, else
target/debug/infraguard under the repo root.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import standin  # noqa: E402

REPO = HERE.parents[1]
STANDIN = HERE / "standin.py"
ACCOUNT = "222222222222"
REGION = "us-east-1"
S3 = "AWS::S3::Bucket"
SQS = "AWS::SQS::Queue"
IAM_ROLE = "AWS::IAM::Role"

ADMIN = ("AKIAADMINKEY00000001", "admin-secret-0123456789abcdefghijklmnopqrs", f"arn:aws:iam::{ACCOUNT}:user/admin")
AGENT = ("AKIAAGENTKEY00000001", "agent-secret-0123456789abcdefghijklmnopqrs", f"arn:aws:iam::{ACCOUNT}:user/agent")
ALICE = ("AKIAALICEKEY00000001", "alice-secret-0123456789abcdefghijklmnopqrs", f"arn:aws:iam::{ACCOUNT}:user/alice")
DEPLOYER = f"arn:aws:iam::{ACCOUNT}:role/deployer"
READER = f"arn:aws:iam::{ACCOUNT}:role/ops/reader"
MFA = f"arn:aws:iam::{ACCOUNT}:mfa/alice"
MFA_SECRETS = {MFA: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
               f"arn:aws:iam::{ACCOUNT}:mfa/alice-backup": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"}
MFA_BACKUP = f"arn:aws:iam::{ACCOUNT}:mfa/alice-backup"

DEPLOYER_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": ALICE[2]}, "Action": "sts:AssumeRole",
    "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]}
READER_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}]}
READ_ONLY = [{"Effect": "Allow", "Action": ["cloudformation:Get*", "cloudformation:List*"], "Resource": "*"}]
WRITE_SESSION_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow",
    "Action": ["cloudformation:CreateResource", "cloudformation:GetResource", "cloudformation:ListResources",
               "cloudformation:GetResourceRequestStatus", "s3:CreateBucket", "s3:PutBucketTagging",
               "iam:CreateRole"],
    "Resource": "*"}]}

# Every secret the tests hand out or receive, for the log check.
SECRETS: list[str] = [ADMIN[1], AGENT[1], ALICE[1], *MFA_SECRETS.values()]
CODES_USED: list[str] = []


def config(log: Path | None = None, backend: str | None = None) -> dict:
    cfg = {
        "account_id": ACCOUNT,
        "region": REGION,
        "principals": {
            ADMIN[0]: {"secret": ADMIN[1], "arn": ADMIN[2], "policy": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
            AGENT[0]: {"secret": AGENT[1], "arn": AGENT[2], "policy": READ_ONLY},
            ALICE[0]: {"secret": ALICE[1], "arn": ALICE[2], "policy": []},
        },
        "roles": {
            DEPLOYER: {"trust_policy": DEPLOYER_TRUST,
                       "policy": [{"Effect": "Allow", "Action": ["cloudformation:*", "s3:*", "sqs:*"], "Resource": "*"},
                                  {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]},
            READER: {"trust_policy": READER_TRUST, "policy": READ_ONLY},
        },
        "mfa_devices": {serial: {"secret": secret, "user_arn": ALICE[2]} for serial, secret in MFA_SECRETS.items()},
        "handler_permissions": {
            S3: {"create": ["s3:CreateBucket", "s3:PutBucketTagging"],
                 "update": ["s3:PutBucketVersioning", "s3:PutBucketTagging"],
                 "delete": ["s3:DeleteBucket"]},
            SQS: {"create": ["sqs:CreateQueue", "sqs:GetQueueAttributes"]},
            IAM_ROLE: {"create": ["iam:CreateRole"]},
        },
    }
    if log:
        cfg["log"] = str(log)
    if backend:
        cfg["cloudcontrol_backend"] = backend
    return cfg


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------

def binary() -> str:
    candidates = [os.environ.get("INFRAGUARD_BIN"),
                  str(REPO / "target" / "debug" / "infraguard")]
    for path in filter(None, candidates):
        if Path(path).is_file():
            return str(Path(path).resolve())
        if path == os.environ.get("INFRAGUARD_BIN"):
            break
    pytest.fail(f"no infraguard binary (tried {candidates}): build infraguard-cli or set INFRAGUARD_BIN")


def clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def stop_process(proc: subprocess.Popen) -> int | None:
    if proc.poll() is None:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def start_backend(root: Path) -> tuple[subprocess.Popen, str]:
    bin_ = binary()
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run([bin_, "-C", str(root), "init", "--project", "StandinTest", "--prefix", "standin"],
                   check=True, capture_output=True, timeout=60)
    proc = subprocess.Popen([bin_, "-C", str(root), "cloud", "serve", "--env", "dev", "--addr", "127.0.0.1:0"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=clean_env())
    banner = proc.stdout.readline()
    match = re.search(r"on the Cloud Control wire protocol at (http://127\.0\.0\.1:\d+)", banner)
    if not match:
        proc.kill()
        pytest.fail(f"unexpected backend banner {banner!r}; stderr: {proc.stderr.read()}")
    return proc, match[1]


def start_standin(cfg: dict, path: Path) -> tuple[subprocess.Popen, str]:
    path.write_text(json.dumps(cfg))
    proc = subprocess.Popen([sys.executable, str(STANDIN), "--config", str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
    banner = proc.stdout.readline()
    match = re.fullmatch(r"standin listening on (http://127\.0\.0\.1:\d+)\n", banner)
    if not match:
        proc.kill()
        pytest.fail(f"unexpected stand-in banner {banner!r}; stderr: {proc.stderr.read()}")
    return proc, match[1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("standin")
    backend, backend_url = start_backend(root / "project")
    log = root / "requests.jsonl"
    try:
        proc, url = start_standin(config(log, backend_url), root / "standin.json")
    except BaseException:
        stop_process(backend)
        raise
    yield {"url": url, "backend": backend_url, "log": log}
    assert stop_process(proc) == 0, proc.stderr.read()
    stop_process(backend)


@pytest.fixture(scope="module")
def url(stack) -> str:
    return stack["url"]


# --------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------

def client(service: str, url: str, key: tuple | dict, validate: bool = True):
    if isinstance(key, dict):  # AssumeRole Credentials
        creds = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"],
                 "aws_session_token": key.get("SessionToken")}
    else:
        creds = {"aws_access_key_id": key[0], "aws_secret_access_key": key[1]}
    return boto3.client(service, endpoint_url=url, region_name=REGION, **creds,
                        config=Config(retries={"max_attempts": 1, "mode": "standard"},
                                      parameter_validation=validate))


def error_of(exc: pytest.ExceptionInfo) -> tuple[int, str, str]:
    err = exc.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


_steps_used: dict[str, set[int]] = {}


def fresh_code(serial: str = MFA) -> str:
    """A TOTP code of `serial` for a time step no test has used yet (the
    current step or the next: the stand-in accepts one step either side)."""
    used = _steps_used.setdefault(serial, set())
    while True:
        now = time.time()
        step = int(now // 30)
        for candidate in (step, step + 1):
            if candidate not in used:
                used.add(candidate)
                code = standin.totp(MFA_SECRETS[serial], at=candidate * 30)
                CODES_USED.append(code)
                return code
        time.sleep(30 - now % 30 + 0.2)


def wrong_code(serial: str = MFA) -> str:
    step = int(time.time() // 30)
    valid = {standin.totp(MFA_SECRETS[serial], at=(step + d) * 30) for d in range(-2, 4)}
    return next(c for c in ("000000", "111111", "222222") if c not in valid)


def assume(url: str, who: tuple, role: str, name: str, **kwargs) -> dict:
    creds = client("sts", url, who, validate=False).assume_role(RoleArn=role, RoleSessionName=name, **kwargs)["Credentials"]
    SECRETS.extend([creds["SecretAccessKey"], creds["SessionToken"]])
    return creds


def wait(cc, event: dict) -> dict:
    for _ in range(100):
        if event["OperationStatus"] in ("SUCCESS", "FAILED", "CANCEL_COMPLETE"):
            return event
        time.sleep(0.05)
        event = cc.get_resource_request_status(RequestToken=event["RequestToken"])["ProgressEvent"]
    raise AssertionError(f"request {event['RequestToken']} still {event['OperationStatus']}")


def bucket_name(what: str) -> str:
    return f"standin-{what}-{uuid.uuid4().hex[:8]}"


def listed_buckets(url: str) -> list[str]:
    cc = client("cloudcontrol", url, ADMIN)
    return [d["Identifier"] for page in cc.get_paginator("list_resources").paginate(TypeName=S3)
            for d in page["ResourceDescriptions"]]


def raw_call(url: str, key: tuple, service: str, body: bytes, headers: dict, tamper=None,
             token: str | None = None) -> tuple[int, dict, bytes]:
    """POST / signed by botocore's SigV4 signer, sent with http.client;
    `tamper(headers, body)` may change the request after signing."""
    request = AWSRequest(method="POST", url=url + "/", data=body, headers=headers)
    SigV4Auth(Credentials(key[0], key[1], token), service, REGION).add_auth(request)
    sent_headers = dict(request.headers.items())
    if tamper:
        sent_headers, body = tamper(sent_headers, body)
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("POST", "/", body=body, headers=sent_headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
CALLER_IDENTITY = b"Action=GetCallerIdentity&Version=2011-06-15"


# --------------------------------------------------------------------------
# SigV4
# --------------------------------------------------------------------------

def test_sigv4_matches_the_aws_documentation_example():
    # The IAM ListUsers example of AWS's "Create a signed AWS API request" guide.
    req = standin.Request("GET", "/?Action=ListUsers&Version=2010-05-08", {
        "content-type": ["application/x-www-form-urlencoded; charset=utf-8"],
        "host": ["iam.amazonaws.com"], "x-amz-date": ["20150830T123600Z"]}, b"")
    creq = standin.canonical_request(req, "content-type;host;x-amz-date", hashlib.sha256(b"").hexdigest())
    assert hashlib.sha256(creq.encode()).hexdigest() == \
        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
    auth = {"date": "20150830", "region": "us-east-1", "service": "iam", "scope": "20150830/us-east-1/iam/aws4_request"}
    assert standin.signature_for("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", auth, "20150830T123600Z", creq) == \
        "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"


def test_get_caller_identity_per_key(url):
    for key in (ADMIN, AGENT, ALICE):
        who = client("sts", url, key).get_caller_identity()
        assert who["Arn"] == key[2] and who["Account"] == ACCOUNT
        assert re.fullmatch(r"AIDA[A-Z0-9]{17}", who["UserId"])


def test_bad_signature_is_refused(url):
    wrong = (ADMIN[0], "not-the-secret")
    with pytest.raises(ClientError) as exc:
        client("sts", url, wrong).get_caller_identity()
    assert error_of(exc)[:2] == (403, "SignatureDoesNotMatch")
    with pytest.raises(ClientError) as exc:
        client("cloudcontrol", url, wrong).list_resources(TypeName=S3)
    assert error_of(exc)[:2] == (403, "SignatureDoesNotMatch")
    assert exc.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "SignatureDoesNotMatch"


def test_a_body_changed_after_signing_is_refused(url):
    def swap(headers, body):
        return headers, body.replace(b"GetCallerIdentity", b"GetCallerIdentitX")
    status, _, body = raw_call(url, ADMIN, "sts", CALLER_IDENTITY, dict(FORM), tamper=swap)
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body

    def lie_about_hash(headers, body):
        return {**headers, "X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()}, body
    status, _, body = raw_call(url, ADMIN, "sts", CALLER_IDENTITY, dict(FORM), tamper=lie_about_hash)
    assert status in (400, 403) and b"SignatureDoesNotMatch" in body


def test_signed_headers_are_canonicalised(url):
    # Extra signed headers (as aws-sdk-rust signs x-amz-user-agent, amz-sdk-*),
    # inner whitespace runs collapsed, a signed payload hash header.
    headers = {**FORM, "X-Amz-User-Agent": "aws-sdk-rust/1.3   os/linux  lang/rust",
               "Amz-Sdk-Request": "attempt=1; max=3",
               "X-Amz-Content-SHA256": hashlib.sha256(CALLER_IDENTITY).hexdigest()}
    status, _, body = raw_call(url, ALICE, "sts", CALLER_IDENTITY, headers)
    assert status == 200, body
    assert f"<Arn>{ALICE[2]}</Arn>".encode() in body


def test_unknown_key_is_refused(url):
    stranger = ("AKIAUNKNOWN000000000", "whatever")
    with pytest.raises(ClientError) as exc:
        client("sts", url, stranger).get_caller_identity()
    assert error_of(exc)[:2] == (403, "InvalidClientTokenId")
    with pytest.raises(ClientError) as exc:
        client("iam", url, stranger).get_role(RoleName="deployer")
    assert error_of(exc)[:2] == (403, "InvalidClientTokenId")
    for service, call in (("cloudcontrol", lambda c: c.list_resources(TypeName=S3)),
                          ("cloudtrail", lambda c: c.lookup_events())):
        with pytest.raises(ClientError) as exc:
            call(client(service, url, stranger))
        assert error_of(exc)[:2] == (403, "UnrecognizedClientException")


def test_unsigned_request_is_refused(url):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("POST", "/", body=CALLER_IDENTITY, headers=FORM)
    resp = conn.getresponse()
    assert resp.status == 403 and b"<Code>MissingAuthenticationToken</Code>" in resp.read()
    conn.close()


# --------------------------------------------------------------------------
# STS AssumeRole
# --------------------------------------------------------------------------

def denied_assume(who: tuple, role: str) -> str:
    return f"User: {who[2]} is not authorized to perform: sts:AssumeRole on resource: {role}"


def test_assume_role_without_mfa_is_refused_when_trust_requires_it(url):
    with pytest.raises(ClientError) as exc:
        client("sts", url, ALICE).assume_role(RoleArn=DEPLOYER, RoleSessionName="no-mfa")
    assert error_of(exc) == (403, "AccessDenied", denied_assume(ALICE, DEPLOYER))


def test_assume_role_with_a_wrong_code_is_refused(url):
    with pytest.raises(ClientError) as exc:
        client("sts", url, ALICE).assume_role(RoleArn=DEPLOYER, RoleSessionName="wrong-code",
                                              SerialNumber=MFA, TokenCode=wrong_code())
    assert error_of(exc) == (403, "AccessDenied",
                             "MultiFactorAuthentication failed with invalid MFA one time pass code.")


def test_someone_elses_mfa_device_is_refused(url):
    # The agent presents Alice's device (with a code that is not even
    # checked, so none is used up): the device is not the caller's.
    with pytest.raises(ClientError) as exc:
        client("sts", url, AGENT).assume_role(RoleArn=DEPLOYER, RoleSessionName="not-alice",
                                              SerialNumber=MFA, TokenCode=wrong_code())
    assert error_of(exc)[:2] == (403, "AccessDenied")
    assert "MultiFactorAuthentication failed" in error_of(exc)[2]


def test_right_code_works_once(url):
    code = fresh_code()
    sts = client("sts", url, ALICE)
    out = sts.assume_role(RoleArn=DEPLOYER, RoleSessionName="alice-once", SerialNumber=MFA, TokenCode=code,
                          DurationSeconds=900)
    creds = out["Credentials"]
    SECRETS.extend([creds["SecretAccessKey"], creds["SessionToken"]])
    assert re.fullmatch(r"ASIA[A-Z0-9]{16}", creds["AccessKeyId"])
    assert len(creds["SecretAccessKey"]) == 40 and len(creds["SessionToken"]) > 100
    remaining = creds["Expiration"].timestamp() - time.time()
    assert 880 < remaining <= 901
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/alice-once"
    assert re.fullmatch(r"AROA[A-Z0-9]{17}:alice-once", out["AssumedRoleUser"]["AssumedRoleId"])
    with pytest.raises(ClientError) as exc:
        sts.assume_role(RoleArn=DEPLOYER, RoleSessionName="alice-twice", SerialNumber=MFA, TokenCode=code)
    assert error_of(exc) == (403, "AccessDenied",
                             "MultiFactorAuthentication failed with invalid MFA one time pass code.")


@pytest.mark.parametrize("kwargs, member", [
    ({"DurationSeconds": 899}, "durationSeconds"),
    ({"DurationSeconds": 3601}, "MaxSessionDuration"),
    ({"Policy": None}, "policy"),  # replaced by a 2049-character policy below
    ({"RoleSessionName": "a"}, "roleSessionName"),
    ({"RoleSessionName": "has space"}, "roleSessionName"),
    ({"SerialNumber": MFA, "TokenCode": "12345"}, "tokenCode"),
])
def test_assume_role_validation(url, kwargs, member):
    args = {"RoleArn": DEPLOYER, "RoleSessionName": "valid-name", **kwargs}
    if "Policy" in kwargs:
        shell = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
        args["Policy"] = shell.replace('"Sid": ""', '"Sid": "' + "x" * (2049 - len(shell)) + '"')
        assert len(args["Policy"]) == 2049 and json.loads(args["Policy"])
    with pytest.raises(ClientError) as exc:
        client("sts", url, ALICE, validate=False).assume_role(**args)
    status, code, message = error_of(exc)
    assert (status, code) == (400, "ValidationError") and member in message


def test_malformed_session_policy_is_refused(url):
    with pytest.raises(ClientError) as exc:
        client("sts", url, ADMIN).assume_role(RoleArn=READER, RoleSessionName="bad-policy", Policy="{not json")
    assert error_of(exc)[:2] == (400, "MalformedPolicyDocument")
    assert isinstance(exc.value, client("sts", url, ADMIN).exceptions.MalformedPolicyDocumentException)


def test_unknown_role_is_refused(url):
    role = f"arn:aws:iam::{ACCOUNT}:role/nope"
    with pytest.raises(ClientError) as exc:
        client("sts", url, ADMIN).assume_role(RoleArn=role, RoleSessionName="nope")
    assert error_of(exc) == (403, "AccessDenied", denied_assume(ADMIN, role))


def test_account_wide_trust_also_needs_the_callers_own_permission(url):
    # READER trusts the account root: AWS then requires the caller's own
    # policy to allow sts:AssumeRole too. Admin's does; the agent's does not.
    creds = assume(url, ADMIN, READER, "admin-reads")
    who = client("sts", url, creds).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/admin-reads"
    with pytest.raises(ClientError) as exc:
        client("sts", url, AGENT).assume_role(RoleArn=READER, RoleSessionName="agent-reads")
    assert error_of(exc) == (403, "AccessDenied", denied_assume(AGENT, READER))


# --------------------------------------------------------------------------
# Sessions on Cloud Control
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def writer(url) -> dict:
    """Alice's MFA session on the deployer role, narrowed by a session policy."""
    return assume(url, ALICE, DEPLOYER, "alice-writes", SerialNumber=MFA, TokenCode=fresh_code(),
                  Policy=json.dumps(WRITE_SESSION_POLICY))


def test_session_identity(url, writer):
    who = client("sts", url, writer).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/alice-writes"
    assert who["UserId"].endswith(":alice-writes") and who["Account"] == ACCOUNT


def test_session_writes_through_the_backend(url, writer):
    cc = client("cloudcontrol", url, writer)
    bucket = bucket_name("session")
    created = cc.create_resource(TypeName=S3, DesiredState=json.dumps({"BucketName": bucket}),
                                 ClientToken=str(uuid.uuid4()))["ProgressEvent"]
    assert created["Operation"] == "CREATE"
    done = wait(cc, created)
    assert done["OperationStatus"] == "SUCCESS" and done["Identifier"] == bucket, done
    status = cc.get_resource_request_status(RequestToken=created["RequestToken"])["ProgressEvent"]
    assert status["OperationStatus"] == "SUCCESS" and status["TypeName"] == S3
    assert json.loads(cc.get_resource(TypeName=S3, Identifier=bucket)["ResourceDescription"]["Properties"])["BucketName"] == bucket


def test_session_is_refused_an_action_its_session_policy_lacks(url, writer):
    cc = client("cloudcontrol", url, writer)
    with pytest.raises(ClientError) as exc:
        cc.delete_resource(TypeName=S3, Identifier=bucket_name("never"), ClientToken=str(uuid.uuid4()))
    status, code, message = error_of(exc)
    assert (status, code) == (400, "AccessDeniedException")
    assert message.startswith(f"User: arn:aws:sts::{ACCOUNT}:assumed-role/deployer/alice-writes is not authorized "
                              f"to perform: cloudformation:DeleteResource")
    assert "session policy" in message


def test_session_is_refused_a_type_whose_handler_needs_more(url, writer):
    cc = client("cloudcontrol", url, writer)
    # SQS: the role allows sqs:*, the session policy does not.
    with pytest.raises(ClientError) as exc:
        cc.create_resource(TypeName=SQS, DesiredState=json.dumps({"QueueName": "q"}), ClientToken=str(uuid.uuid4()))
    status, code, message = error_of(exc)
    assert (status, code) == (400, "AccessDeniedException")
    assert message.startswith(f"User: arn:aws:sts::{ACCOUNT}:assumed-role/deployer/alice-writes is not authorized "
                              f"to perform: sqs:CreateQueue")
    # IAM: the session policy allows iam:CreateRole, the role denies iam:*.
    with pytest.raises(ClientError) as exc:
        cc.create_resource(TypeName=IAM_ROLE, DesiredState=json.dumps({"RoleName": "r"}), ClientToken=str(uuid.uuid4()))
    assert "iam:CreateRole with an explicit deny" in error_of(exc)[2]


def test_refused_write_is_not_forwarded(url):
    narrow = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*",
              "Action": ["cloudformation:CreateResource", "s3:CreateBucket"]}]}
    creds = assume(url, ALICE, DEPLOYER, "alice-narrow", SerialNumber=MFA_BACKUP,
                   TokenCode=fresh_code(MFA_BACKUP), Policy=json.dumps(narrow))
    bucket = bucket_name("refused")
    with pytest.raises(ClientError) as exc:
        client("cloudcontrol", url, creds).create_resource(
            TypeName=S3, DesiredState=json.dumps({"BucketName": bucket}), ClientToken=str(uuid.uuid4()))
    assert error_of(exc)[1] == "AccessDeniedException"
    assert "perform: s3:PutBucketTagging" in error_of(exc)[2]
    assert bucket not in listed_buckets(url)


def test_session_keys_need_their_token(url, writer):
    without = {**writer, "SessionToken": None}
    with pytest.raises(ClientError) as exc:
        client("cloudcontrol", url, without).list_resources(TypeName=S3)
    assert error_of(exc)[:2] == (403, "UnrecognizedClientException")
    with pytest.raises(ClientError) as exc:
        client("sts", url, without).get_caller_identity()
    assert error_of(exc) == (403, "InvalidClientTokenId", "The security token included in the request is invalid.")
    wrong = {**writer, "SessionToken": writer["SessionToken"][:-4] + "AAAA"}
    with pytest.raises(ClientError) as exc:
        client("sts", url, wrong).get_caller_identity()
    assert error_of(exc)[:2] == (403, "InvalidClientTokenId")


def test_a_long_term_key_with_a_token_is_refused(url):
    with pytest.raises(ClientError) as exc:
        boto3.client("sts", endpoint_url=url, region_name=REGION, aws_access_key_id=ADMIN[0],
                     aws_secret_access_key=ADMIN[1], aws_session_token="made-up",
                     config=Config(retries={"max_attempts": 1})).get_caller_identity()
    assert error_of(exc)[:2] == (403, "InvalidClientTokenId")


# --------------------------------------------------------------------------
# The agent's read-only key on Cloud Control
# --------------------------------------------------------------------------

def test_read_only_key_reads_and_is_refused_every_write(url):
    admin = client("cloudcontrol", url, ADMIN)
    bucket = bucket_name("ro")
    wait(admin, admin.create_resource(TypeName=S3, DesiredState=json.dumps({"BucketName": bucket}),
                                      ClientToken=str(uuid.uuid4()))["ProgressEvent"])
    cc = client("cloudcontrol", url, AGENT)
    assert bucket in [d["Identifier"] for d in cc.list_resources(TypeName=S3)["ResourceDescriptions"]]
    assert cc.get_resource(TypeName=S3, Identifier=bucket)["ResourceDescription"]["Identifier"] == bucket
    patch = json.dumps([{"op": "add", "path": "/VersioningConfiguration", "value": {"Status": "Enabled"}}])
    other = bucket_name("ro-create")
    writes = {
        "CreateResource": lambda: cc.create_resource(TypeName=S3, DesiredState=json.dumps({"BucketName": other}),
                                                     ClientToken=str(uuid.uuid4())),
        "UpdateResource": lambda: cc.update_resource(TypeName=S3, Identifier=bucket, PatchDocument=patch,
                                                     ClientToken=str(uuid.uuid4())),
        "DeleteResource": lambda: cc.delete_resource(TypeName=S3, Identifier=bucket, ClientToken=str(uuid.uuid4())),
        "CancelResourceRequest": lambda: cc.cancel_resource_request(RequestToken=str(uuid.uuid4())),
    }
    for op, call in writes.items():
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == (400, "AccessDeniedException",
                                 f"User: {AGENT[2]} is not authorized to perform: cloudformation:{op} "
                                 f"because no identity-based policy allows the cloudformation:{op} action"), op
    assert other not in listed_buckets(url)
    assert cc.get_resource(TypeName=S3, Identifier=bucket)["ResourceDescription"]["Identifier"] == bucket


# --------------------------------------------------------------------------
# IAM
# --------------------------------------------------------------------------

def test_get_role_returns_the_trust_document(url):
    role = client("iam", url, ADMIN).get_role(RoleName="deployer")["Role"]
    assert role["Arn"] == DEPLOYER and role["RoleName"] == "deployer" and role["Path"] == "/"
    assert re.fullmatch(r"AROA[A-Z0-9]{17}", role["RoleId"])
    assert role["AssumeRolePolicyDocument"] == DEPLOYER_TRUST  # botocore URL-decodes and parses it
    assert client("iam", url, ADMIN).get_role(RoleName="reader")["Role"]["Path"] == "/ops/"
    # On the wire the document is URL-encoded JSON, as AWS sends it.
    status, _, body = raw_call(url, ADMIN, "iam", b"Action=GetRole&Version=2010-05-08&RoleName=deployer", dict(FORM))
    assert status == 200 and b"<AssumeRolePolicyDocument>%7B%22Version%22%3A" in body


def test_get_role_errors(url):
    with pytest.raises(ClientError) as exc:
        client("iam", url, ADMIN).get_role(RoleName="nope")
    assert error_of(exc)[:2] == (404, "NoSuchEntity")
    with pytest.raises(ClientError) as exc:
        client("iam", url, AGENT).get_role(RoleName="deployer")
    assert error_of(exc)[:2] == (403, "AccessDenied") and "iam:GetRole" in error_of(exc)[2]


def decisions(url, arn, actions, **kwargs) -> dict[str, str]:
    out = client("iam", url, ADMIN).simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions, **kwargs)
    return {r["EvalActionName"]: r["EvalDecision"] for r in out["EvaluationResults"]}


def test_simulate_principal_policy(url):
    actions = ["cloudformation:GetResource", "cloudformation:CreateResource", "s3:CreateBucket", "iam:CreateRole"]
    assert decisions(url, ADMIN[2], actions) == dict.fromkeys(actions, "allowed")
    assert decisions(url, AGENT[2], actions) == {"cloudformation:GetResource": "allowed",
                                                  "cloudformation:CreateResource": "implicitDeny",
                                                  "s3:CreateBucket": "implicitDeny", "iam:CreateRole": "implicitDeny"}
    assert decisions(url, DEPLOYER, actions) == {"cloudformation:GetResource": "allowed",
                                                  "cloudformation:CreateResource": "allowed",
                                                  "s3:CreateBucket": "allowed", "iam:CreateRole": "explicitDeny"}
    arns = ["arn:aws:s3:::a", "arn:aws:s3:::b"]
    out = client("iam", url, ADMIN).simulate_principal_policy(PolicySourceArn=AGENT[2], ActionNames=["s3:GetObject"],
                                                              ResourceArns=arns)
    assert [(r["EvalResourceName"], r["EvalDecision"]) for r in out["EvaluationResults"]] == \
        [(a, "implicitDeny") for a in arns]


def test_simulate_principal_policy_pages(url):
    iam = client("iam", url, ADMIN)
    actions = [f"cloudformation:Get{i:03d}" for i in range(75)] + [f"s3:Put{i:03d}" for i in range(75)]
    first = iam.simulate_principal_policy(PolicySourceArn=AGENT[2], ActionNames=actions)
    assert len(first["EvaluationResults"]) == 100 and first["IsTruncated"] and first["Marker"]
    second = iam.simulate_principal_policy(PolicySourceArn=AGENT[2], ActionNames=actions, Marker=first["Marker"])
    assert len(second["EvaluationResults"]) == 50 and not second["IsTruncated"]
    results = [r for page in iam.get_paginator("simulate_principal_policy").paginate(
        PolicySourceArn=AGENT[2], ActionNames=actions, PaginationConfig={"PageSize": 40})
        for r in page["EvaluationResults"]]
    assert [r["EvalActionName"] for r in results] == actions
    assert [r["EvalDecision"] for r in results] == ["allowed"] * 75 + ["implicitDeny"] * 75


def test_simulate_principal_policy_errors(url, writer):
    iam = client("iam", url, ADMIN)
    session_arn = client("sts", url, writer).get_caller_identity()["Arn"]
    with pytest.raises(ClientError) as exc:
        iam.simulate_principal_policy(PolicySourceArn=session_arn, ActionNames=["s3:GetObject"])
    assert error_of(exc)[:2] == (400, "InvalidInput")
    with pytest.raises(ClientError) as exc:
        iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/nobody", ActionNames=["s3:GetObject"])
    assert error_of(exc)[:2] == (404, "NoSuchEntity")


# --------------------------------------------------------------------------
# CloudTrail
# --------------------------------------------------------------------------

def test_lookup_events_lists_writes_newest_first(url, writer):
    cc = client("cloudcontrol", url, writer)
    bucket = bucket_name("trail")
    token = str(uuid.uuid4())
    wait(cc, cc.create_resource(TypeName=S3, DesiredState=json.dumps({"BucketName": bucket}),
                                ClientToken=token)["ProgressEvent"])
    with pytest.raises(ClientError):
        cc.delete_resource(TypeName=S3, Identifier=bucket, ClientToken=str(uuid.uuid4()))

    trail = client("cloudtrail", url, ADMIN)
    events = trail.lookup_events(LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}])["Events"]
    assert all(e["ReadOnly"] == "false" for e in events)
    newest, before = events[0], events[1]
    assert (newest["EventName"], before["EventName"]) == ("DeleteResource", "CreateResource")
    assert newest["EventTime"] >= before["EventTime"]
    for event in (newest, before):
        assert event["Username"] == "alice-writes" and event["AccessKeyId"] == writer["AccessKeyId"]
        assert event["EventSource"] == "cloudcontrolapi.amazonaws.com"
        assert event["Resources"] == [{"ResourceType": S3, "ResourceName": bucket}]
    refused, created = json.loads(newest["CloudTrailEvent"]), json.loads(before["CloudTrailEvent"])
    assert refused["errorCode"] == "AccessDenied" and "cloudformation:DeleteResource" in refused["errorMessage"]
    assert "errorCode" not in created and created["readOnly"] is False
    assert created["requestParameters"]["clientToken"] == token
    assert created["requestParameters"]["typeName"] == S3
    ident = created["userIdentity"]
    assert ident["type"] == "AssumedRole" and ident["accountId"] == ACCOUNT
    assert ident["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/alice-writes"
    assert ident["accessKeyId"] == writer["AccessKeyId"]
    assert ident["sessionContext"]["sessionIssuer"]["arn"] == DEPLOYER
    assert ident["sessionContext"]["attributes"]["mfaAuthenticated"] == "true"
    assert created["eventSource"] == "cloudcontrolapi.amazonaws.com" and created["awsRegion"] == REGION


def test_lookup_events_filters_and_pages(url, writer):
    trail = client("cloudtrail", url, ADMIN)
    reads = trail.lookup_events(LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "true"}])["Events"]
    assert reads and all(e["ReadOnly"] == "true" for e in reads)
    assumed = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}])["Events"]
    assert assumed and all(e["EventSource"] == "sts.amazonaws.com" and e["ReadOnly"] == "true" for e in assumed)
    for event in assumed:
        detail = json.loads(event["CloudTrailEvent"])
        assert "tokenCode" not in (detail["requestParameters"] or {})
        assert "12345" not in event["CloudTrailEvent"]  # the code given in test_assume_role_validation
    mine = trail.lookup_events(LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "alice-writes"}])["Events"]
    assert mine and all(e["Username"] == "alice-writes" for e in mine)
    source = trail.lookup_events(LookupAttributes=[{"AttributeKey": "EventSource",
                                                    "AttributeValue": "cloudcontrolapi.amazonaws.com"}])["Events"]
    assert source and all(e["EventSource"] == "cloudcontrolapi.amazonaws.com" for e in source)
    paged = [e["EventId"] for page in trail.get_paginator("lookup_events").paginate(PaginationConfig={"PageSize": 3})
             for e in page["Events"]]
    everything = []
    kwargs: dict = {}
    while True:
        out = trail.lookup_events(MaxResults=50, **kwargs)
        everything += [e["EventId"] for e in out["Events"]]
        if not out.get("NextToken"):
            break
        kwargs = {"NextToken": out["NextToken"]}
    assert paged == everything and len(set(paged)) == len(paged)
    future = trail.lookup_events(StartTime=time.time() + 3600)["Events"]
    assert future == []
    with pytest.raises(ClientError) as exc:
        client("cloudtrail", url, ADMIN, validate=False).lookup_events(MaxResults=51)
    assert error_of(exc)[1] == "InvalidMaxResultsException"
    with pytest.raises(ClientError) as exc:
        client("cloudtrail", url, AGENT).lookup_events()
    assert error_of(exc)[1] == "AccessDeniedException"


# --------------------------------------------------------------------------
# Cost Explorer (its own stand-in process: no backend, so no binary, needed)
# --------------------------------------------------------------------------

S3_SERVICE = "Amazon Simple Storage Service"
EC2_SERVICE = "Amazon Elastic Compute Cloud - Compute"
LAMBDA_SERVICE = "AWS Lambda"
CE_SCOPED = ("AKIACESCOPEDKEY00001", "scoped-secret-0123456789abcdefghijklmnopq", f"arn:aws:iam::{ACCOUNT}:user/costs")
CE_RESOURCE = f"arn:aws:ce:us-east-1:{ACCOUNT}:/GetCostAndUsage"
GROUP_BY_SERVICE = [{"Type": "DIMENSION", "Key": "SERVICE"}]


def utc_today() -> date:
    """Today by the stand-in's clock (UTC)."""
    return datetime.now(timezone.utc).date()


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def cost_days() -> dict[str, date]:
    """The days the Cost Explorer tests put spend on, relative to today:
    the previous month (first, tenth and last day), the current month (first
    day and today, which may be the same day), and a day before the range."""
    today = utc_today()
    current = today.replace(day=1)
    last_of_previous = current - timedelta(days=1)
    previous = last_of_previous.replace(day=1)
    return {"today": today, "current": current, "previous": previous, "tenth": previous + timedelta(days=9),
            "last_of_previous": last_of_previous, "before": previous - timedelta(days=1),
            "next_month": next_month(today)}


def cost_config(log: Path | None = None) -> dict:
    d = cost_days()
    costs: dict[str, dict[str, str]] = {}

    def spend(day: date, service: str, amount: str) -> None:
        costs.setdefault(day.isoformat(), {})[service] = amount

    spend(d["before"], S3_SERVICE, "100")               # outside every query below
    spend(d["previous"], S3_SERVICE, "1.25")
    spend(d["previous"], LAMBDA_SERVICE, "0.10")
    spend(d["tenth"], S3_SERVICE, "2.00")
    spend(d["last_of_previous"], EC2_SERVICE, "3.333")
    spend(d["current"], S3_SERVICE, "0.50")
    spend(d["current"], EC2_SERVICE, "1.00")
    spend(d["today"], LAMBDA_SERVICE, "0.05")           # on the first of the month too, when today is
    cfg = config(log)
    cfg["costs"] = costs
    cfg["principals"][CE_SCOPED[0]] = {"secret": CE_SCOPED[1], "arn": CE_SCOPED[2], "policy": [
        {"Effect": "Allow", "Action": "ce:GetCostAndUsage", "Resource": CE_RESOURCE}]}
    return cfg


@pytest.fixture(scope="module")
def ce_stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("standin-ce")
    log = root / "requests.jsonl"
    proc, url = start_standin(cost_config(log), root / "standin.json")
    yield {"url": url, "log": log}
    assert stop_process(proc) == 0, proc.stderr.read()


@pytest.fixture(scope="module")
def ce_url(ce_stack) -> str:
    return ce_stack["url"]


def period(start: date, end: date) -> dict:
    return {"Start": start.isoformat(), "End": end.isoformat()}


def usd(amount: str) -> dict:
    return {"Amount": amount, "Unit": "USD"}


def groups_of(result: dict, metric: str = "UnblendedCost") -> dict[str, str]:
    out = {}
    for g in result["Groups"]:
        assert len(g["Keys"]) == 1 and set(g["Metrics"]) == {metric} and g["Metrics"][metric]["Unit"] == "USD"
        out[g["Keys"][0]] = g["Metrics"][metric]["Amount"]
    return out


def test_cost_monthly_by_service_over_two_months(ce_url):
    d = cost_days()
    ce = client("ce", ce_url, ADMIN)
    out = ce.get_cost_and_usage(TimePeriod=period(d["previous"], d["next_month"]), Granularity="MONTHLY",
                                Metrics=["UnblendedCost"], GroupBy=GROUP_BY_SERVICE)
    assert out["GroupDefinitions"] == GROUP_BY_SERVICE
    assert out["DimensionValueAttributes"] == []
    assert "NextPageToken" not in out
    previous, current = out["ResultsByTime"]
    assert previous["TimePeriod"] == period(d["previous"], d["current"])
    assert current["TimePeriod"] == period(d["current"], d["next_month"])
    assert previous["Total"] == {} and current["Total"] == {}  # AWS: no Total when grouped
    assert groups_of(previous) == {S3_SERVICE: "3.25", LAMBDA_SERVICE: "0.10", EC2_SERVICE: "3.333"}
    assert groups_of(current) == {S3_SERVICE: "0.50", EC2_SERVICE: "1.00", LAMBDA_SERVICE: "0.05"}
    assert previous["Estimated"] is False and current["Estimated"] is True


def test_cost_total_without_group_by_for_every_cost_metric(ce_url):
    d = cost_days()
    metrics = ["UnblendedCost", "BlendedCost", "AmortizedCost"]
    out = client("ce", ce_url, ADMIN).get_cost_and_usage(
        TimePeriod=period(d["previous"], d["next_month"]), Granularity="MONTHLY", Metrics=metrics)
    assert "GroupDefinitions" not in out
    previous, current = out["ResultsByTime"]
    assert previous["Total"] == {m: usd("6.683") for m in metrics}
    assert current["Total"] == {m: usd("1.55") for m in metrics}
    assert previous["Groups"] == [] and current["Groups"] == []
    assert [r["Estimated"] for r in out["ResultsByTime"]] == [False, True]


def test_cost_monthly_periods_are_clipped_to_the_request(ce_url):
    d = cost_days()
    start, end = d["previous"] + timedelta(days=5), d["current"] + timedelta(days=1)
    out = client("ce", ce_url, ADMIN).get_cost_and_usage(TimePeriod=period(start, end), Granularity="MONTHLY",
                                                         Metrics=["BlendedCost"])
    first, last = out["ResultsByTime"]
    assert first["TimePeriod"] == period(start, d["current"]) and last["TimePeriod"] == period(d["current"], end)
    assert first["Total"] == {"BlendedCost": usd("5.333")}  # the 1st of the previous month is left out
    assert last["Total"] == {"BlendedCost": usd("1.55" if d["today"] == d["current"] else "1.50")}
    assert first["Estimated"] is False and last["Estimated"] is (end > d["today"])


def test_cost_daily(ce_url):
    d = cost_days()
    start, end = d["current"] - timedelta(days=2), d["current"] + timedelta(days=1)
    ce = client("ce", ce_url, ADMIN)
    out = ce.get_cost_and_usage(TimePeriod=period(start, end), Granularity="DAILY", Metrics=["UnblendedCost"])
    days = out["ResultsByTime"]
    assert [r["TimePeriod"] for r in days] == [period(start + timedelta(days=i), start + timedelta(days=i + 1))
                                               for i in range(3)]
    on_first = "1.55" if d["today"] == d["current"] else "1.50"
    assert [r["Total"]["UnblendedCost"] for r in days] == [usd("0"), usd("3.333"), usd(on_first)]
    assert [r["Estimated"] for r in days] == [False, False, d["today"] == d["current"]]
    grouped = ce.get_cost_and_usage(TimePeriod=period(start, end), Granularity="DAILY", Metrics=["UnblendedCost"],
                                    GroupBy=GROUP_BY_SERVICE)["ResultsByTime"]
    assert [groups_of(r) for r in grouped[:2]] == [{}, {EC2_SERVICE: "3.333"}]
    today = ce.get_cost_and_usage(TimePeriod=period(d["today"], d["today"] + timedelta(days=1)), Granularity="DAILY",
                                  Metrics=["UnblendedCost"], GroupBy=GROUP_BY_SERVICE)["ResultsByTime"]
    assert len(today) == 1 and today[0]["Estimated"] is True
    assert groups_of(today[0])[LAMBDA_SERVICE] == "0.05"


def test_cost_without_spend_configured():
    server, url = standin.start(config())
    try:
        d = cost_days()
        out = client("ce", url, ADMIN).get_cost_and_usage(
            TimePeriod=period(d["previous"], d["next_month"]), Granularity="MONTHLY", Metrics=["UnblendedCost"],
            GroupBy=GROUP_BY_SERVICE)
        assert [(r["Total"], r["Groups"]) for r in out["ResultsByTime"]] == [({}, []), ({}, [])]
    finally:
        standin.stop(server)


def test_cost_periods_follow_the_standins_clock():
    # Pinned to a leap year's 15 March: Estimated and the calendar are exact.
    cfg = config()
    cfg["costs"] = {"2024-01-31": {S3_SERVICE: "1"}, "2024-02-29": {S3_SERVICE: "0.25"},
                    "2024-03-01": {S3_SERVICE: "0.000001"}, "2024-03-15": {S3_SERVICE: "2"}}
    server, url = standin.start(cfg)
    server.standin.today = lambda: date(2024, 3, 15)
    try:
        ce = client("ce", url, ADMIN)
        out = ce.get_cost_and_usage(TimePeriod={"Start": "2024-01-15", "End": "2024-04-01"}, Granularity="MONTHLY",
                                    Metrics=["UnblendedCost"])["ResultsByTime"]
        assert [(r["TimePeriod"]["Start"], r["TimePeriod"]["End"], r["Total"]["UnblendedCost"]["Amount"],
                 r["Estimated"]) for r in out] == [("2024-01-15", "2024-02-01", "1", False), ("2024-02-01", "2024-03-01", "0.25", False),
                                  ("2024-03-01", "2024-04-01", "2.000001", True)]
        daily = ce.get_cost_and_usage(TimePeriod={"Start": "2024-03-14", "End": "2024-03-17"}, Granularity="DAILY",
                                      Metrics=["UnblendedCost"])["ResultsByTime"]
        assert [r["Estimated"] for r in daily] == [False, True, True]
        with pytest.raises(ClientError) as exc:
            ce.get_cost_and_usage(TimePeriod={"Start": "2024-03-16", "End": "2024-03-17"}, Granularity="DAILY",
                                  Metrics=["UnblendedCost"])
        assert error_of(exc)[:2] == (400, "ValidationException")  # Start after today
        with pytest.raises(ClientError) as exc:
            ce.get_cost_and_usage(TimePeriod={"Start": "2024-03-01", "End": "2024-04-02"}, Granularity="DAILY",
                                  Metrics=["UnblendedCost"])
        assert error_of(exc)[:2] == (400, "ValidationException")  # End past the first of next month
    finally:
        standin.stop(server)


def test_cost_needs_ce_get_cost_and_usage(ce_url):
    d = cost_days()
    query = {"TimePeriod": period(d["previous"], d["current"]), "Granularity": "MONTHLY", "Metrics": ["UnblendedCost"]}
    with pytest.raises(ClientError) as exc:
        client("ce", ce_url, AGENT).get_cost_and_usage(**query)
    assert error_of(exc) == (400, "AccessDeniedException",
                             f"User: {AGENT[2]} is not authorized to perform: ce:GetCostAndUsage on resource: "
                             f"{CE_RESOURCE} because no identity-based policy allows the ce:GetCostAndUsage action")
    # A policy scoped to the operation's resource ARN is enough.
    out = client("ce", ce_url, CE_SCOPED).get_cost_and_usage(**query)
    assert out["ResultsByTime"][0]["Total"] == {"UnblendedCost": usd("6.683")}
    # Refused before validation: a bad query from a refused key is still AccessDenied.
    with pytest.raises(ClientError) as exc:
        client("ce", ce_url, ALICE, validate=False).get_cost_and_usage(
            TimePeriod={"Start": "nonsense", "End": "2024-01-01"}, Granularity="MONTHLY", Metrics=[])
    assert error_of(exc)[1] == "AccessDeniedException"


def cost_query(**changes) -> dict:
    d = cost_days()
    query = {"TimePeriod": period(d["previous"], d["current"]), "Granularity": "MONTHLY",
             "Metrics": ["UnblendedCost"]}
    query.update(changes)
    return {k: v for k, v in query.items() if v is not None}


@pytest.mark.parametrize("changes, code, needle", [
    ({"TimePeriod": {"Start": "2024-13-01", "End": "2025-01-01"}}, "ValidationException", "'2024-13-01'"),
    ({"TimePeriod": {"Start": "2024-02-30", "End": "2025-01-01"}}, "ValidationException", "'2024-02-30'"),
    ({"TimePeriod": {"Start": "2024-01-01", "End": "01/02/2024"}}, "ValidationException", "'01/02/2024'"),
    ({"TimePeriod": {"Start": "2024-01-01"}}, "ValidationException", "'timePeriod.end'"),
    ({"TimePeriod": {"Start": "2024-03-01", "End": "2024-03-01"}}, "ValidationException",
     "Start date (and hour) should be before end date (and hour)"),
    ({"TimePeriod": {"Start": "2024-03-02", "End": "2024-03-01"}}, "ValidationException",
     "Start date (and hour) should be before end date (and hour)"),
    ({"Granularity": None}, "ValidationException", "'granularity'"),
    ({"Granularity": "WEEKLY"}, "ValidationException", "'WEEKLY'"),
    ({"Granularity": "HOURLY"}, "ValidationException", "not supported by this stand-in"),
    ({"Metrics": None}, "ValidationException", "'metrics'"),
    ({"Metrics": []}, "ValidationException", "Metrics must not be empty"),
    ({"Metrics": ["UnblendedCost", "Spend"]}, "ValidationException", "'Spend'"),
    ({"Metrics": ["UsageQuantity"]}, "ValidationException", "not supported by this stand-in"),
    ({"GroupBy": [{"Type": "TAG", "Key": "team"}]}, "ValidationException", "not supported by this stand-in"),
    ({"GroupBy": [{"Type": "SIDEWAYS", "Key": "SERVICE"}]}, "ValidationException", "'SIDEWAYS'"),
    ({"Filter": {"Dimensions": {"Key": "SERVICE", "Values": [S3_SERVICE]}}}, "ValidationException",
     "Filter is not supported by this stand-in"),
    ({"NextPageToken": "bogus"}, "InvalidNextTokenException", "NextPageToken"),
])
def test_cost_query_validation(ce_url, changes, code, needle):
    with pytest.raises(ClientError) as exc:
        client("ce", ce_url, ADMIN, validate=False).get_cost_and_usage(**cost_query(**changes))
    status, got, message = error_of(exc)
    assert (status, got) == (400, code) and needle in message, message


def test_cost_dates_relative_to_today_are_checked(ce_url):
    d = cost_days()
    ce = client("ce", ce_url, ADMIN)
    tomorrow = d["today"] + timedelta(days=1)
    with pytest.raises(ClientError) as exc:  # AWS: Start may not be after the current date
        ce.get_cost_and_usage(**cost_query(TimePeriod=period(tomorrow, tomorrow + timedelta(days=1))))
    assert error_of(exc)[1] == "ValidationException" and tomorrow.isoformat() in error_of(exc)[2]
    with pytest.raises(ClientError) as exc:
        ce.get_cost_and_usage(**cost_query(TimePeriod=period(d["current"], d["next_month"] + timedelta(days=1))))
    assert error_of(exc)[:3] == (400, "ValidationException", "end date past the beginning of next month")


def test_cost_config_is_checked():
    for bad in ({"2024-02-30": {S3_SERVICE: "1"}}, {"20240101": {S3_SERVICE: "1"}},
                {"2024-01-01": {S3_SERVICE: "one"}}, {"2024-01-01": {S3_SERVICE: "NaN"}},
                {"2024-01-01": [S3_SERVICE]}, ["2024-01-01"]):
        with pytest.raises(ValueError):
            standin.Standin({**config(), "costs": bad})


def test_cost_calls_are_logged(ce_stack):
    d = cost_days()
    query = {"TimePeriod": period(d["previous"], d["current"]), "Granularity": "DAILY", "Metrics": ["UnblendedCost"]}
    client("ce", ce_stack["url"], ADMIN).get_cost_and_usage(**query)
    with pytest.raises(ClientError):
        client("ce", ce_stack["url"], AGENT).get_cost_and_usage(**query)
    entries = [json.loads(line) for line in ce_stack["log"].read_text().splitlines()]
    mine = [e for e in entries if e["service"] == "ce" and e["action"] == "GetCostAndUsage"
            and e.get("granularity") == "DAILY" and e.get("time_period") == query["TimePeriod"]]
    assert {(e["principal"], e["decision"], e["error"]) for e in mine} >= {
        (ADMIN[2], "allowed", None), (AGENT[2], "denied", "AccessDeniedException")}
    denied = next(e for e in entries if e["service"] == "ce" and e["principal"] == AGENT[2])
    assert denied["access_key_id"] == AGENT[0]
    text = ce_stack["log"].read_text()
    assert ADMIN[1] not in text and AGENT[1] not in text


# --------------------------------------------------------------------------
# In-process: expiry
# --------------------------------------------------------------------------

def test_expired_session_is_refused():
    server, url = standin.start(config())
    try:
        creds = assume(url, ADMIN, READER, "short")
        assert client("sts", url, creds).get_caller_identity()["Arn"].endswith("/short")
        server.standin.sessions[creds["AccessKeyId"]].expires = time.time() - 1
        with pytest.raises(ClientError) as exc:
            client("sts", url, creds).get_caller_identity()
        assert error_of(exc)[:2] == (403, "ExpiredToken")
        with pytest.raises(ClientError) as exc:
            client("cloudtrail", url, creds).lookup_events()
        assert error_of(exc)[:2] == (403, "ExpiredTokenException")
    finally:
        standin.stop(server)


def test_policy_evaluator():
    allow_s3 = [{"Effect": "Allow", "Action": "S3:Get*", "Resource": "arn:aws:s3:::bucket/*"},
                {"Effect": "Deny", "Action": "s3:GetObjectAcl", "Resource": "*"},
                {"Effect": "Allow", "NotAction": ["iam:*", "s3:*"]}]
    ev = standin.evaluate
    assert ev(allow_s3, "s3:getobject", "arn:aws:s3:::bucket/key") == "allowed"
    assert ev(allow_s3, "s3:GetObject", "arn:aws:s3:::other/key") == "implicitDeny"
    assert ev(allow_s3, "s3:GetObjectAcl", "arn:aws:s3:::bucket/key") == "explicitDeny"
    assert ev(allow_s3, "sqs:SendMessage") == "allowed"
    assert ev(allow_s3, "iam:CreateRole") == "implicitDeny"
    assert ev([{"Effect": "Allow", "Action": "s3:Get?bject"}], "s3:GetObject") == "allowed"
    mfa = [{"Effect": "Allow", "Action": "*", "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}}]
    assert ev(mfa, "x:y", context={}) == "allowed"  # absent key: IfExists holds (AWS's documented gotcha)
    assert ev(mfa, "x:y", context={"aws:multifactorauthpresent": "false"}) == "implicitDeny"
    odd = [{"Effect": "Deny", "Action": "*", "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}}]
    assert ev(odd, "x:y") == "explicitDeny"  # unsupported condition: a Deny fails closed


# --------------------------------------------------------------------------
# Process lifetime and the log
# --------------------------------------------------------------------------

def test_standin_exits_when_stdin_closes(tmp_path):
    proc, url = start_standin(config(), tmp_path / "c.json")
    try:
        assert client("sts", url, ADMIN).get_caller_identity()["Arn"] == ADMIN[2]
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_standin_exits_on_sigterm(tmp_path):
    proc, _ = start_standin(config(), tmp_path / "c.json")
    try:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_log_records_decisions_without_secrets(stack, writer):
    lines = stack["log"].read_text().splitlines()
    entries = [json.loads(line) for line in lines]
    keys = {"at", "service", "action", "access_key_id", "principal", "session_name", "decision", "error",
            "type_name", "identifier", "client_token", "session_policy"}
    assert entries and all(keys <= set(e) for e in entries)
    assert {e["decision"] for e in entries} == {"allowed", "denied"}
    assume_entry = next(e for e in entries if e["action"] == "AssumeRole" and e["role_session_name"] == "alice-writes")
    assert assume_entry["session_policy"] == WRITE_SESSION_POLICY and assume_entry["decision"] == "allowed"
    refused = [e for e in entries if e["service"] == "cloudcontrol" and e["decision"] == "denied"]
    assert refused and all(e["error"] == "AccessDeniedException" for e in refused)
    created = [e for e in entries if e["action"] == "CreateResource" and e["decision"] == "allowed"]
    assert created and all(e["type_name"] == S3 and e["client_token"] for e in created)
    assert any(e["session_name"] == "alice-writes" and e["principal"].endswith("/alice-writes") for e in entries)
    text = stack["log"].read_text()
    for secret in SECRETS:
        assert secret not in text
    for code in CODES_USED:
        assert not re.search(rf"(?<!\d){code}(?!\d)", text), "a TOTP code was logged"
