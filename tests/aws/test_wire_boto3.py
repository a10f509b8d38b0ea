"""boto3 as the client of `infraguard cloud serve`: the local cloud of one
environment on the Cloud Control wire protocol (awsJson 1.0) on 127.0.0.1.

Every call goes to the loopback endpoint the server prints; the region is the
environment's (set in infraguard.toml, read back from the server's banner).
Static dummy keys: the endpoint checks no signatures, and nothing here can
reach AWS.

The binary is $INFRAGUARD_BIN, or target/debug/infraguard under the repo root.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
S3 = "AWS::S3::Bucket"
REGION = "eu-central-1"


def binary() -> str:
    path = Path(os.environ.get("INFRAGUARD_BIN", REPO / "target" / "debug" / "infraguard")).resolve()
    if not path.is_file():
        pytest.fail(f"no infraguard binary at {path}: run `cargo build -p infraguard-cli` or set INFRAGUARD_BIN")
    return str(path)


@pytest.fixture
def served(tmp_path: Path):
    """A fresh project whose `dev` environment lives in REGION, served on a free loopback port."""
    bin_ = binary()
    subprocess.run([bin_, "-C", str(tmp_path), "init", "--project", "WireTest", "--prefix", "wiretest"],
                   check=True, capture_output=True, timeout=60)
    config = tmp_path / "infraguard.toml"
    text = config.read_text()
    # Put dev in a region that is nobody's default, so a client that ignored
    # the environment's region would show up.
    text = re.sub(r'(\[environments\.dev\][^\[]*?region\s*=\s*)"[^"]*"', rf'\1"{REGION}"', text, flags=re.S)
    if f'"{REGION}"' not in text:
        text = text.replace("[environments.dev]", f'[environments.dev]\nregion = "{REGION}"', 1)
    config.write_text(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.Popen([bin_, "-C", str(tmp_path), "cloud", "serve", "--env", "dev", "--addr", "127.0.0.1:0"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    banner = proc.stdout.readline()
    match = re.search(r"\((?P<region>[a-z0-9-]+)\) on the Cloud Control wire protocol at (?P<url>http://127\.0\.0\.1:\d+)", banner)
    if not match:
        proc.kill()
        pytest.fail(f"unexpected banner {banner!r}; stderr: {proc.stderr.read()}")
    yield proc, match["url"], match["region"]
    if proc.poll() is None:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def client(url: str, region: str):
    return boto3.client(
        "cloudcontrol",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


def wait(cc, event: dict) -> dict:
    for _ in range(50):
        if event["OperationStatus"] in ("SUCCESS", "FAILED", "CANCEL_COMPLETE"):
            return event
        time.sleep(0.05)
        event = cc.get_resource_request_status(RequestToken=event["RequestToken"])["ProgressEvent"]
    raise AssertionError(f"request {event['RequestToken']} still {event['OperationStatus']}")


def name(what: str) -> str:
    return f"wiretest-{what}-{uuid.uuid4().hex[:8]}"


def test_banner_names_the_environment_region(served):
    _, url, region = served
    assert region == REGION
    assert url.startswith("http://127.0.0.1:")


def test_create_get_list_update_delete_status(served):
    _, url, region = served
    cc = client(url, region)
    bucket = name("crud")

    created = cc.create_resource(TypeName=S3, DesiredState=json.dumps({"BucketName": bucket}),
                                 ClientToken=str(uuid.uuid4()))["ProgressEvent"]
    assert created["Operation"] == "CREATE"
    done = wait(cc, created)
    assert done["OperationStatus"] == "SUCCESS", done
    assert done["Identifier"] == bucket
    status = cc.get_resource_request_status(RequestToken=created["RequestToken"])["ProgressEvent"]
    assert status["OperationStatus"] == "SUCCESS"
    assert status["TypeName"] == S3

    got = cc.get_resource(TypeName=S3, Identifier=bucket)["ResourceDescription"]
    props = json.loads(got["Properties"])
    assert props["BucketName"] == bucket
    assert props["Arn"] == f"arn:aws:s3:::{bucket}"

    listed = [d["Identifier"] for p in cc.get_paginator("list_resources").paginate(TypeName=S3)
              for d in p["ResourceDescriptions"]]
    assert listed.count(bucket) == 1

    patch = [{"op": "add", "path": "/VersioningConfiguration", "value": {"Status": "Enabled"}}]
    updated = wait(cc, cc.update_resource(TypeName=S3, Identifier=bucket, PatchDocument=json.dumps(patch),
                                          ClientToken=str(uuid.uuid4()))["ProgressEvent"])
    assert updated["Operation"] == "UPDATE" and updated["OperationStatus"] == "SUCCESS", updated
    props = json.loads(cc.get_resource(TypeName=S3, Identifier=bucket)["ResourceDescription"]["Properties"])
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}

    deleted = wait(cc, cc.delete_resource(TypeName=S3, Identifier=bucket, ClientToken=str(uuid.uuid4()))["ProgressEvent"])
    assert deleted["Operation"] == "DELETE" and deleted["OperationStatus"] == "SUCCESS", deleted
    with pytest.raises(cc.exceptions.ResourceNotFoundException):
        cc.get_resource(TypeName=S3, Identifier=bucket)


def test_same_client_token_returns_the_same_request(served):
    _, url, region = served
    cc = client(url, region)
    state = json.dumps({"BucketName": name("idem")})
    token = str(uuid.uuid4())
    first = cc.create_resource(TypeName=S3, DesiredState=state, ClientToken=token)["ProgressEvent"]
    second = cc.create_resource(TypeName=S3, DesiredState=state, ClientToken=token)["ProgressEvent"]
    assert second["RequestToken"] == first["RequestToken"]


def test_error_classes_are_the_cloud_control_exceptions(served):
    _, url, region = served
    cc = client(url, region)
    with pytest.raises(cc.exceptions.ResourceNotFoundException):
        cc.get_resource(TypeName=S3, Identifier=name("never"))
    with pytest.raises(cc.exceptions.RequestTokenNotFoundException):
        cc.get_resource_request_status(RequestToken=str(uuid.uuid4()))
    with pytest.raises(cc.exceptions.TypeNotFoundException):
        cc.get_resource(TypeName="AWS::Nope::Thing", Identifier="x")

    bucket = name("dup")
    wait(cc, cc.create_resource(TypeName=S3, DesiredState=json.dumps({"BucketName": bucket}),
                                ClientToken=str(uuid.uuid4()))["ProgressEvent"])
    # A duplicate is refused (AlreadyExistsException) or accepted and FAILED
    # with AlreadyExists; Cloud Control does the latter for most handlers.
    try:
        ev = wait(cc, cc.create_resource(TypeName=S3, DesiredState=json.dumps({"BucketName": bucket}),
                                         ClientToken=str(uuid.uuid4()))["ProgressEvent"])
        assert ev["OperationStatus"] == "FAILED" and ev["ErrorCode"] == "AlreadyExists", ev
    except cc.exceptions.AlreadyExistsException:
        pass

    patch = [{"op": "replace", "path": "/BucketName", "value": bucket + "-x"}]
    try:
        ev = wait(cc, cc.update_resource(TypeName=S3, Identifier=bucket, PatchDocument=json.dumps(patch),
                                         ClientToken=str(uuid.uuid4()))["ProgressEvent"])
        assert ev["OperationStatus"] == "FAILED" and ev["ErrorCode"] == "NotUpdatable", ev
    except cc.exceptions.NotUpdatableException:
        pass

    with pytest.raises(cc.exceptions.ClientError) as bad:
        cc.create_resource(TypeName=S3, DesiredState="{not json", ClientToken=str(uuid.uuid4()))
    assert bad.value.response["Error"]["Code"] in ("ValidationException", "InvalidRequestException")


def test_closing_stdin_stops_the_server(served):
    proc, url, region = served
    client(url, region).list_resources(TypeName=S3)
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0
