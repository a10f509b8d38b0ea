"""The cost review on AWS: what Cost Explorer billed, beside the estimates.

The stand-in of tests/aws answers `ce:GetCostAndUsage` for a bill this test
sets per day; prod is on the aws backend (pinned to the stand-in's
account), dev on the local cloud. The stand-in follows AWS's documented
behaviour of Cost Explorer; it was not run against AWS.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from test_aws_enforced import ACCOUNT, Stack  # noqa: E402


def first_of_last_month(today: date) -> date:
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


@pytest.fixture
def billed(tmp_path: Path):
    today = date.today()
    last = first_of_last_month(today)
    costs = {
        last.isoformat(): {"Amazon Simple Storage Service": "2.50", "Tax": "0.52"},
        (last + timedelta(days=3)).isoformat(): {"Amazon Simple Storage Service": "0.37", "AWS Lambda": "0.00"},
        today.isoformat(): {"Amazon Simple Storage Service": "0.30"},
    }
    s = Stack(tmp_path, costs=costs)
    yield s
    s.close()


def test_prod_on_aws_shows_what_cost_explorer_billed_and_dev_says_estimates_only(billed: Stack):
    report = billed.json("costs")
    dev, prod = report["environments"]
    assert dev["env"] == "aws-dev" and dev["actual"] is None
    assert "local cloud" in dev["actual_note"]
    assert prod["env"] == "aws-prod" and prod["actual_note"] is None
    actual = prod["actual"]
    assert actual["month_to_date_usd"] == "0.30"
    assert actual["last_month_usd"] == "3.39"
    assert actual["estimated"] is True
    assert [(l["service"], l["aws_service"], l["month_to_date_usd"], l["last_month_usd"]) for l in actual["services"]] == [
        ("S3 Storage", "Amazon Simple Storage Service", "0.30", "2.87"),
        ("Tax", "Tax", "0", "0.52"),
    ]
    # One Cost Explorer call: from the first of last month to tomorrow, monthly.
    [call] = [r for r in billed.requests() if r["action"] == "GetCostAndUsage"]
    assert call["decision"] == "allowed"
    assert call["granularity"] == "MONTHLY"
    assert call["time_period"]["Start"] == first_of_last_month(date.today()).isoformat()
    assert call["time_period"]["End"] == (date.today() + timedelta(days=1)).isoformat()

    tree = billed.run("costs").stdout
    prod_part = tree.split("aws-prod:")[1]
    assert "├─ S3 Storage: not tracked · billed $0.30 this month so far, $2.87 last month" in prod_part, tree
    assert "billed $0.30 this month so far (not final), $3.39 last month (Cost Explorer)" in prod_part, tree
    assert "(estimates only: the local cloud sends no bill)" in tree.split("aws-prod:")[0], tree


def test_billing_alarms_on_aws_notify_a_topic_in_the_pinned_account(billed: Stack):
    plans = billed.json("costs", "--env", "prod", "--billing-alarm", "--email", "ops@example.com")
    props = [next(iter(p["template"]["Resources"].values()))["Properties"] for p in plans]
    assert [p["type"] for p in plans] == ["AWS::SNS::Topic"] + ["AWS::CloudWatch::Alarm"] * 3
    topic = f"arn:aws:sns:us-east-1:{ACCOUNT}:{props[0]['TopicName']}"
    assert props[0]["Subscription"] == [{"Protocol": "email", "Endpoint": "ops@example.com"}]
    assert all(p["AlarmActions"] == [topic] for p in props[1:]), json.dumps(props, indent=1)
    # Planned, not made: every one waits for prod's approval.
    assert all(p["gate"]["decision"] != "auto" for p in plans)
    assert billed.writes() == []
