"""A loopback stand-in for the parts of AWS that no emulator has.

It serves, on one 127.0.0.1 port, the calls infraguard's AWS clients make
(aws-sdk-sts, aws-sdk-iam, aws-sdk-cloudtrail, aws-sdk-cloudcontrol,
aws-sdk-costexplorer and botocore alike) and dispatches them by wire protocol:

- STS (awsQuery, Version 2011-06-15): GetCallerIdentity, AssumeRole (with
  MFA: RFC 6238 TOTP codes, each usable once per device);
- IAM (awsQuery, Version 2010-05-08): GetRole, SimulatePrincipalPolicy;
- CloudTrail (awsJson 1.1): LookupEvents, over the events this stand-in
  records for every Cloud Control call and every AssumeRole it authenticates;
- Cost Explorer (awsJson 1.1, X-Amz-Target AWSInsightsIndexService.*):
  GetCostAndUsage over the config's `costs` (see "Cost Explorer" below);
- Cloud Control (awsJson 1.0): every operation is authorised here against
  the caller's effective IAM policy (identity policy AND session policy, plus
  the resource type's handler permissions for writes) and, when allowed,
  forwarded verbatim to `cloudcontrol_backend` (e.g. `infraguard cloud
  serve`), whose reply is relayed back.

Every request must carry a real SigV4 signature (header form), checked with
the secret of its access key; keys issued by AssumeRole also need their
session token and expire.

It follows AWS's documented wire behaviour (the SigV4 signing documentation,
the STS/IAM/CloudTrail/Cloud Control API references and the IAM policy
evaluation logic) as far as the tests need it. It was NOT run against AWS:
where AWS's exact wording or status code is undocumented, the choice is
marked in a comment. Choices worth knowing:

- AWS's identity-side checks apply too: when a trust policy names only the
  caller's account (root, the account id or "*"), or the role is in another
  account, the caller's own effective policy must also allow sts:AssumeRole
  on the role; GetRole needs iam:GetRole, SimulatePrincipalPolicy
  iam:SimulatePrincipalPolicy, LookupEvents cloudtrail:LookupEvents.
  GetCallerIdentity needs nothing.
- aws:MultiFactorAuthPresent is absent for a long-term key that presents no
  MFA (AWS's documentation), so `BoolIfExists: true` lets such a caller in;
  `Bool: true` does not.
- A session policy that is not JSON is 400 MalformedPolicyDocument, as in
  STS; constraint violations are 400 ValidationError.
- Bad signatures are SignatureDoesNotMatch on every protocol (AWS's JSON
  services may say InvalidSignatureException; not verified).
- Cloud Control checks actions only, never resources (a simplification).
- Every role has AWS's default MaxSessionDuration, 3600 s.

Cost Explorer. Config key `costs` (optional; absent: no spend) holds the
account's unblended cost per service per day, in USD, as decimal strings:
    {"2025-05-01": {"Amazon Simple Storage Service": "1.23", "AWS Lambda": "0.004"}, ...}
GetCostAndUsage sums it per period (MONTHLY: cut at month boundaries, the
first and last period clipped to the request; DAILY: per day).
UnblendedCost, BlendedCost and AmortizedCost are the same numbers (one
account, no reservations or savings plans); the other AWS metrics, Filter,
BillingViewArn, HOURLY and any GroupBy but DIMENSION/SERVICE are refused as
ValidationException "not supported by this stand-in". Everything comes in
one page (a NextPageToken is never issued, so any one sent is invalid).
`Estimated` is true when a period ends after today (UTC, the stand-in's
clock). As AWS documents, Start may not be after today; as AWS is reported
to do, End may not be past the first day of next month; AWS's 14-month
look-back limit is not modelled. The caller needs ce:GetCostAndUsage on
arn:aws:ce:us-east-1:ACCOUNT:/GetCostAndUsage (the resource AWS names in
its AccessDeniedException). Calls are logged; no CloudTrail event is kept.

Run:  python tests/aws/standin.py --config CONFIG.json
      -> prints `standin listening on http://127.0.0.1:PORT`, serves until
         stdin reaches EOF or SIGTERM, exits 0.
Import: start(config) -> (server, url); stop(server); totp(secret_b32, at=None).

Standard library only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import signal
import string
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import quote, unquote, urlsplit, parse_qsl
from xml.sax.saxutils import escape

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
QUERY_VERSIONS = {"2011-06-15": ("sts", STS_NS), "2010-05-08": ("iam", IAM_NS)}
CLOUDCONTROL_TARGET = "CloudApiService."
CLOUDTRAIL_TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
# The Smithy-based SDKs (Rust) send the short form; CloudTrail takes both.
CLOUDTRAIL_SHORT_TARGET = "CloudTrail_20131101."
COST_EXPLORER_TARGET = "AWSInsightsIndexService."

CC_READS = ("GetResource", "ListResources", "GetResourceRequestStatus", "ListResourceRequests")
CC_WRITES = ("CreateResource", "UpdateResource", "DeleteResource", "CancelResourceRequest")
# Which handler of a resource type an operation runs (keys of handler_permissions).
CC_HANDLER = {"CreateResource": "create", "UpdateResource": "update", "DeleteResource": "delete",
              "GetResource": "read", "ListResources": "list"}

MAX_CLOCK_SKEW = 15 * 60  # SigV4: a request more than 15 minutes off is refused
TOTP_STEP = 30
MAX_EVENTS = 10_000


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def iso(ts: float, millis: bool = False) -> str:
    if millis:
        return utc(ts).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"
    return utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def stable_id(prefix: str, seed: str) -> str:
    """A 21-character AWS-style unique id (AIDA…, AROA…) derived from `seed`."""
    digest = base64.b32encode(hashlib.sha256(seed.encode()).digest()).decode()
    return prefix + digest[:17]


def random_chars(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hmac_sha256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def arn_name(arn: str) -> str:
    """The last path segment of an ARN's resource (user/x, role/path/x -> x)."""
    return arn.split(":", 5)[-1].rsplit("/", 1)[-1]


# --------------------------------------------------------------------------
# TOTP (RFC 6238 over RFC 4226 HOTP: HMAC-SHA1, 6 digits, 30 s steps)
# --------------------------------------------------------------------------

def _totp_key(secret_b32: str) -> bytes:
    s = secret_b32.replace(" ", "").upper()
    return base64.b32decode(s + "=" * (-len(s) % 8))


def hotp(key: bytes, counter: int, digits: int = 6) -> str:
    mac = hmac.new(key, counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = int.from_bytes(mac[offset:offset + 4], "big") & 0x7FFFFFFF
    return str(number % 10 ** digits).zfill(digits)


def totp(secret_b32: str, at: float | None = None) -> str:
    """The 6-digit TOTP code of a base32 secret at epoch time `at` (default now)."""
    moment = time.time() if at is None else at
    return hotp(_totp_key(secret_b32), int(moment // TOTP_STEP))


# --------------------------------------------------------------------------
# IAM policy evaluation: the one evaluator used everywhere
# --------------------------------------------------------------------------

ALLOWED, IMPLICIT_DENY, EXPLICIT_DENY = "allowed", "implicitDeny", "explicitDeny"


def wildcard(pattern: str, value: str, ignore_case: bool) -> bool:
    """IAM wildcard match: `*` any run of characters, `?` exactly one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL) is not None


def statements_of(document: Any) -> list[dict]:
    """The statements of a policy document, a statement list or one statement."""
    if isinstance(document, dict) and "Statement" in document:
        document = document["Statement"]
    return [s for s in as_list(document) if isinstance(s, dict)]


def _condition_operators() -> dict[str, Callable[[str, list[str]], bool]]:
    def like(v, exp):
        return any(wildcard(e, v, ignore_case=False) for e in exp)
    return {
        "StringEquals": lambda v, exp: v in exp,
        "StringNotEquals": lambda v, exp: v not in exp,
        "StringEqualsIgnoreCase": lambda v, exp: v.lower() in [e.lower() for e in exp],
        "StringLike": like,
        "StringNotLike": lambda v, exp: not like(v, exp),
        "ArnEquals": lambda v, exp: v in exp,
        "ArnNotEquals": lambda v, exp: v not in exp,
        "ArnLike": like,
        "ArnNotLike": lambda v, exp: not like(v, exp),
        "Bool": lambda v, exp: v.lower() in [e.lower() for e in exp],
    }


CONDITION_OPERATORS = _condition_operators()


def condition_holds(condition: dict, context: dict[str, str]) -> bool | None:
    """Whether every condition of a statement holds; None if one is not supported.

    `context` maps lowercase condition keys to string values; an absent key
    makes a condition false, except for `...IfExists` operators and negated
    operators (StringNotEquals, ...), which AWS documents as true then.
    """
    for operator, entries in condition.items():
        if_exists = operator.endswith("IfExists")
        base = operator[: -len("IfExists")] if if_exists else operator
        if not isinstance(entries, dict):
            return None
        for key, expected in entries.items():
            actual = context.get(key.lower())
            wanted = [str(e).lower() if isinstance(e, bool) else str(e) for e in as_list(expected)]
            if base == "Null":
                if (actual is None) != (wanted[0].lower() == "true"):
                    return False
                continue
            test = CONDITION_OPERATORS.get(base)
            if test is None:
                return None
            if actual is None:
                if if_exists or "Not" in base:
                    continue
                return False
            if not test(actual, wanted):
                return False
    return True


def principal_matches(principal: Any, names: set[str]) -> bool:
    """A trust statement's Principal against the names the caller is known by.

    `names` holds the caller's ARN(s) and, when account-wide grants count,
    the account id, its root ARN and "*". Only the AWS principal type is
    supported (services and federated principals never match).
    """
    if principal == "*":
        return "*" in names
    if isinstance(principal, dict):
        return any(p in names for p in as_list(principal.get("AWS")))
    return False


def statement_applies(st: dict, action: str, resource: str | None,
                      principal_names: set[str] | None, context: dict[str, str]) -> bool:
    deny = st.get("Effect") == "Deny"
    if "NotAction" in st:
        if any(wildcard(a, action, ignore_case=True) for a in as_list(st["NotAction"])):
            return False
    elif not any(wildcard(a, action, ignore_case=True) for a in as_list(st.get("Action"))):
        return False
    # resource None: resources are not considered (see cloudcontrol()).
    if resource is not None:
        if "NotResource" in st:
            if any(wildcard(r, resource, ignore_case=False) for r in as_list(st["NotResource"])):
                return False
        elif not any(wildcard(r, resource, ignore_case=False) for r in as_list(st.get("Resource", "*"))):
            return False
    if "Principal" in st or "NotPrincipal" in st:
        # NotPrincipal is not supported: such a statement never applies.
        if principal_names is None or "NotPrincipal" in st or not principal_matches(st["Principal"], principal_names):
            return False
    if "Condition" in st:
        holds = condition_holds(st["Condition"], context)
        if holds is None:
            # An unsupported condition operator fails closed: an Allow does not
            # apply, a Deny does.
            return deny
        return holds
    return True


def evaluate(statements: list[dict], action: str, resource: str | None = "*",
             principal_names: set[str] | None = None, context: dict[str, str] | None = None) -> str:
    """IAM's evaluation of one policy: explicit Deny > Allow > implicit deny.

    Action/NotAction match case-insensitively with `*`/`?`; Resource (default
    "*") and NotResource case-sensitively; Principal only in trust policies.
    Returns "allowed", "implicitDeny" or "explicitDeny" (IAM's EvalDecision).
    """
    decision = IMPLICIT_DENY
    for st in statements:
        if st.get("Effect") not in ("Allow", "Deny"):
            continue
        if not statement_applies(st, action, resource, principal_names, context or {}):
            continue
        if st["Effect"] == "Deny":
            return EXPLICIT_DENY
        decision = ALLOWED
    return decision


def policy_problem(document: Any) -> str | None:
    """Why a session policy document is malformed, or None."""
    if not isinstance(document, dict) or "Statement" not in document:
        return "Syntax errors in policy."
    for st in as_list(document["Statement"]):
        if not isinstance(st, dict) or st.get("Effect") not in ("Allow", "Deny"):
            return "Syntax errors in policy."
        if "Action" not in st and "NotAction" not in st:
            return "Policy statement must contain actions."
    return None


# --------------------------------------------------------------------------
# Errors and identities
# --------------------------------------------------------------------------

class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def access_denied_message(arn: str, action: str, where: str, decision: str, on: str | None = None) -> str:
    """AWS's wording for a denied identity-policy check."""
    text = f"User: {arn} is not authorized to perform: {action}"
    if on:
        text += f" on resource: {on}"
    article = "a session policy" if where == "session" else "an identity-based policy"
    if decision == EXPLICIT_DENY:
        return text + f" with an explicit deny in {article}"
    kind = "session" if where == "session" else "identity-based"
    return text + f" because no {kind} policy allows the {action} action"


@dataclass
class Session:
    access_key_id: str
    secret: str
    token: str
    role_arn: str
    session_name: str
    policy: list[dict] | None
    source_identity: str | None
    mfa_serial: str | None
    created: float
    expires: float

    @property
    def arn(self) -> str:
        return f"arn:aws:sts::{arn_account(self.role_arn)}:assumed-role/{arn_name(self.role_arn)}/{self.session_name}"


@dataclass
class Identity:
    """Who signed a request: a configured user key or an AssumeRole session."""
    access_key_id: str
    arn: str
    policy: list[dict]
    session: Session | None = None

    @property
    def account(self) -> str:
        return arn_account(self.arn)

    @property
    def name(self) -> str:
        """CloudTrail's Username: the session name, or the user's name."""
        return self.session.session_name if self.session else arn_name(self.arn)

    @property
    def user_id(self) -> str:
        if self.session:
            return f"{stable_id('AROA', self.session.role_arn)}:{self.session.session_name}"
        return stable_id("AIDA", self.arn)

    def context(self) -> dict[str, str]:
        """Global condition keys of this identity's requests (lowercase)."""
        ctx = {"aws:principalarn": self.session.role_arn if self.session else self.arn,
               "aws:principalaccount": self.account}
        if self.session:
            # Present only for temporary credentials (AWS's documentation).
            ctx["aws:multifactorauthpresent"] = "true" if self.session.mfa_serial else "false"
            if self.session.source_identity:
                ctx["aws:sourceidentity"] = self.session.source_identity
        else:
            ctx["aws:username"] = arn_name(self.arn)
        return ctx


@dataclass
class Call:
    """One authenticated request being decided: what is logged and audited."""
    identity: Identity
    service: str
    action: str
    request_id: str
    decision: str = "allowed"
    error: str | None = None
    error_message: str | None = None
    log_extra: dict = field(default_factory=dict)
    trail: dict | None = None  # set by operations that CloudTrail records


# --------------------------------------------------------------------------
# The wire: requests, replies, protocols
# --------------------------------------------------------------------------

@dataclass
class Request:
    method: str
    target: str  # the raw request-target (path and query)
    headers: dict[str, list[str]]  # lowercase name -> values
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return ",".join(values) if values else None


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Protocol:
    """How a request is framed: which service, operation and error shape."""
    service: str          # sts | iam | cloudtrail | cloudcontrol | ce
    action: str
    style: str            # "query" or "json"
    namespace: str = ""   # XML namespace (query)
    content_type: str = ""  # JSON content type (json)
    params: dict[str, str] = field(default_factory=dict)  # query parameters
    body: Any = None      # parsed JSON body (json)
    body_error: str | None = None

    def error(self, err: ApiError, request_id: str) -> Reply:
        if self.style == "query":
            xml = (f'<ErrorResponse xmlns="{self.namespace}"><Error><Type>Sender</Type>'
                   f"<Code>{escape(err.code)}</Code><Message>{escape(err.message)}</Message></Error>"
                   f"<RequestId>{request_id}</RequestId></ErrorResponse>")
            return Reply(err.status, "text/xml", xml.encode(), {"x-amzn-RequestId": request_id})
        body = json.dumps({"__type": err.code, "message": err.message, "Message": err.message})
        return Reply(err.status, self.content_type, body.encode(),
                     {"x-amzn-ErrorType": err.code, "x-amzn-RequestId": request_id})

    def ok(self, result: Any, request_id: str) -> Reply:
        if self.style == "query":
            xml = (f'<{self.action}Response xmlns="{self.namespace}"><{self.action}Result>'
                   f"{to_xml(result)}</{self.action}Result><ResponseMetadata><RequestId>{request_id}"
                   f"</RequestId></ResponseMetadata></{self.action}Response>")
            return Reply(200, "text/xml", xml.encode(), {"x-amzn-RequestId": request_id})
        return Reply(200, self.content_type, json.dumps(result).encode(), {"x-amzn-RequestId": request_id})


def to_xml(value: Any) -> str:
    """awsQuery XML of a result: dicts are elements, lists are <member>s."""
    if isinstance(value, dict):
        return "".join(f"<{k}>{to_xml(v)}</{k}>" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return "".join(f"<member>{to_xml(v)}</member>" for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def query_members(params: dict[str, str], name: str) -> list[str]:
    """awsQuery list parameters: Name.member.1, Name.member.2, ..."""
    prefix = f"{name}.member."
    items = [(int(k[len(prefix):]), v) for k, v in params.items()
             if k.startswith(prefix) and k[len(prefix):].isdigit()]
    return [v for _, v in sorted(items)]


def detect_protocol(req: Request) -> Protocol:
    target = req.header("x-amz-target")
    if target:
        if target.startswith(CLOUDCONTROL_TARGET):
            proto = Protocol("cloudcontrol", target[len(CLOUDCONTROL_TARGET):], "json",
                             content_type="application/x-amz-json-1.0")
        elif target.startswith((CLOUDTRAIL_TARGET, CLOUDTRAIL_SHORT_TARGET)):
            proto = Protocol("cloudtrail", target.rsplit(".", 1)[1], "json",
                             content_type="application/x-amz-json-1.1")
        elif target.startswith(COST_EXPLORER_TARGET):
            proto = Protocol("ce", target[len(COST_EXPLORER_TARGET):], "json",
                             content_type="application/x-amz-json-1.1")
        else:
            proto = Protocol("unknown", target, "json", content_type="application/x-amz-json-1.0")
        try:
            proto.body = json.loads(req.body or b"{}")
            if not isinstance(proto.body, dict):
                raise ValueError("not an object")
        except ValueError:
            proto.body, proto.body_error = {}, "the request body is not a JSON object"
        return proto
    params = dict(parse_qsl(urlsplit(req.target).query, keep_blank_values=True))
    if req.method == "POST":
        params.update(parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True))
    service, namespace = QUERY_VERSIONS.get(params.get("Version", ""), ("unknown", STS_NS))
    return Protocol(service, params.get("Action", ""), "query", namespace=namespace, params=params)


# --------------------------------------------------------------------------
# SigV4 (AWS Signature Version 4, Authorization header form)
# --------------------------------------------------------------------------

def parse_authorization(value: str | None) -> dict[str, str]:
    if not value:
        raise ApiError(403, "MissingAuthenticationToken", "Missing Authentication Token")
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        raise ApiError(400, "IncompleteSignature", f"Unsupported AWS 'algorithm': '{algorithm}'")
    fields = {}
    for part in rest.split(","):
        key, _, val = part.strip().partition("=")
        fields[key] = val
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not fields.get(k)]
    scope = fields.get("Credential", "").split("/")
    if missing or len(scope) != 5 or scope[4] != "aws4_request":
        raise ApiError(400, "IncompleteSignature",
                       "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
                       "parameters, with a credential of the form KEY/DATE/REGION/SERVICE/aws4_request.")
    return {"access_key_id": scope[0], "date": scope[1], "region": scope[2], "service": scope[3],
            "scope": "/".join(scope[1:]), "signed_headers": fields["SignedHeaders"],
            "signature": fields["Signature"]}


def uri_encode(text: str) -> str:
    return quote(text, safe="-_.~")


def canonical_query(raw_query: str) -> str:
    pairs = []
    for part in raw_query.split("&") if raw_query else []:
        key, _, val = part.partition("=")
        pairs.append((uri_encode(unquote(key)), uri_encode(unquote(val))))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_header_value(values: list[str]) -> str:
    return ",".join(" ".join(v.split()) for v in values)


def canonical_request(req: Request, signed_headers: str, payload_hash: str) -> str:
    parts = urlsplit(req.target)
    # Non-S3 services encode the (already encoded) path once more, as the SDKs do.
    uri = quote(parts.path or "/", safe="/-_.~")
    names = signed_headers.split(";")
    headers = "".join(f"{n}:{canonical_header_value(req.headers.get(n, []))}\n" for n in names)
    return "\n".join([req.method, uri, canonical_query(parts.query), headers, signed_headers, payload_hash])


def signature_for(secret: str, auth: dict[str, str], amz_date: str, creq: str) -> str:
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, auth["scope"], sha256_hex(creq.encode())])
    key = hmac_sha256(("AWS4" + secret).encode(), auth["date"])
    for part in (auth["region"], auth["service"], "aws4_request"):
        key = hmac_sha256(key, part)
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


SIGNATURE_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                      "Check your AWS Secret Access Key and signing method. Consult the service "
                      "documentation for details.")


def verify_signature(req: Request, auth: dict[str, str], secret: str) -> None:
    """Raise SignatureDoesNotMatch unless `req` is signed with `secret`.

    The scope's region and service are taken as signed (not compared with the
    endpoint): one port serves every service, and IAM clients sign for
    us-east-1 whatever their region.
    """
    amz_date = req.header("x-amz-date") or ""
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        raise ApiError(400, "IncompleteSignature", "Authorization header requires existence of either a "
                       "'X-Amz-Date' or a 'Date' header.") from None
    if auth["date"] != amz_date[:8]:
        raise ApiError(403, "SignatureDoesNotMatch", f"Date in Credential scope does not match YYYYMMDD "
                       f"from ISO-8601 version of date from HTTP: '{auth['date']}' != '{amz_date[:8]}'")
    if abs(time.time() - signed_at) > MAX_CLOCK_SKEW:
        raise ApiError(403, "SignatureDoesNotMatch", f"Signature expired: {amz_date} is now earlier or "
                       f"later than 15 minutes from the server's time.")
    actual_hash = sha256_hex(req.body)
    payload_hash = req.header("x-amz-content-sha256") or actual_hash
    if payload_hash != "UNSIGNED-PAYLOAD" and payload_hash != actual_hash:
        raise ApiError(400, "SignatureDoesNotMatch",
                       "The provided 'x-amz-content-sha256' header does not match what was computed.")
    if any(n not in req.headers for n in auth["signed_headers"].split(";")):
        raise ApiError(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH)
    expected = signature_for(secret, auth, amz_date, canonical_request(req, auth["signed_headers"], payload_hash))
    if not hmac.compare_digest(expected, auth["signature"]):
        raise ApiError(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH)


# --------------------------------------------------------------------------
# The stand-in: state and operations
# --------------------------------------------------------------------------

SESSION_NAME_RE = re.compile(r"[\w+=,.@-]*")
SERIAL_RE = re.compile(r"[\w+=/:,.@-]*")
INVALID_TOKEN = "The security token included in the request is invalid."


class Standin:
    def __init__(self, config: dict):
        self.config = config
        self.account = str(config.get("account_id", "222222222222"))
        self.region = config.get("region", "us-east-1")
        self.principals: dict[str, dict] = config.get("principals", {})
        self.roles: dict[str, dict] = config.get("roles", {})
        self.mfa_devices: dict[str, dict] = config.get("mfa_devices", {})
        self.handler_permissions: dict[str, dict] = config.get("handler_permissions", {})
        self.backend = config.get("cloudcontrol_backend")
        self.costs = parse_costs(config.get("costs"))
        self.started = time.time()
        self.lock = threading.Lock()
        self.sessions: dict[str, Session] = {}   # by access key id
        self.used_codes: dict[str, set[int]] = {}  # MFA serial -> TOTP steps used
        self.events: list[dict] = []              # CloudTrail, oldest first
        self.event_seq = 0
        self.log_file = open(config["log"], "a", encoding="utf-8") if config.get("log") else None

    def close(self) -> None:
        if self.log_file:
            self.log_file.close()

    # ---- request entry point ------------------------------------------------

    def handle(self, req: Request) -> Reply:
        request_id = str(uuid.uuid4())
        proto = detect_protocol(req)
        try:
            identity = self.authenticate(req, proto)
        except ApiError as err:
            return proto.error(err, request_id)
        call = Call(identity, proto.service, proto.action, request_id)
        try:
            if proto.body_error:
                raise ApiError(400, "SerializationException", proto.body_error)
            reply = self.dispatch(call, proto)
        except ApiError as err:
            call.decision, call.error, call.error_message = "denied", err.code, err.message
            reply = proto.error(err, request_id)
        self.record(call)
        return reply

    def dispatch(self, call: Call, proto: Protocol) -> Reply:
        op = OPERATIONS.get((proto.service, proto.action))
        if op is None:
            if proto.style == "json":
                raise ApiError(400, "UnknownOperationException", f"Unknown operation {proto.action or '?'}")
            if not proto.action:
                raise ApiError(400, "MissingAction", "Missing Action")
            raise ApiError(400, "InvalidAction", f"Could not find operation {proto.action} for version "
                           f"{proto.params.get('Version', '')}")
        return op(self, call, proto)

    # ---- authentication --------------------------------------------------------

    def authenticate(self, req: Request, proto: Protocol) -> Identity:
        auth = parse_authorization(req.header("authorization"))
        key = auth["access_key_id"]
        token = req.header("x-amz-security-token")
        unknown = ("InvalidClientTokenId", INVALID_TOKEN) if proto.style == "query" else \
            ("UnrecognizedClientException", INVALID_TOKEN)
        with self.lock:
            session = self.sessions.get(key)
        if session is not None:
            if token is None or not hmac.compare_digest(token, session.token):
                raise ApiError(403, *unknown)
            verify_signature(req, auth, session.secret)
            if time.time() >= session.expires:
                code = "ExpiredToken" if proto.style == "query" else "ExpiredTokenException"
                raise ApiError(403, code, "The security token included in the request is expired")
            role = self.roles.get(session.role_arn, {})
            return Identity(key, session.arn, statements_of(role.get("policy", [])), session)
        principal = self.principals.get(key)
        if principal is None or token is not None:
            # A long-term key never carries a session token.
            raise ApiError(403, *unknown)
        verify_signature(req, auth, principal["secret"])
        return Identity(key, principal["arn"], statements_of(principal.get("policy", [])))

    # ---- authorisation -----------------------------------------------------------

    def authorize(self, identity: Identity, action: str, resource: str | None = "*") -> tuple[str, str]:
        """The effective decision: identity policy AND session policy (if any).

        Returns (decision, where) with where "identity" or "session": the
        policy that decided a denial.
        """
        ctx = identity.context()
        own = evaluate(identity.policy, action, resource, context=ctx)
        session_policy = identity.session.policy if identity.session else None
        if session_policy is None:
            return own, "identity"
        scoped = evaluate(session_policy, action, resource, context=ctx)
        for decision in (EXPLICIT_DENY, IMPLICIT_DENY):
            if own == decision:
                return own, "identity"
            if scoped == decision:
                return scoped, "session"
        return ALLOWED, "identity"

    def require(self, call: Call, action: str, resource: str | None, code: str, status: int,
                on: str | None = None) -> None:
        decision, where = self.authorize(call.identity, action, resource)
        if decision != ALLOWED:
            raise ApiError(status, code, access_denied_message(call.identity.arn, action, where, decision, on))

    # ---- records: the log and CloudTrail ---------------------------------------

    def record(self, call: Call) -> None:
        if call.trail is not None:
            self.add_event(call)
        if self.log_file is None:
            return
        entry = {"at": iso(time.time(), millis=True), "service": call.service, "action": call.action,
                 "access_key_id": call.identity.access_key_id, "principal": call.identity.arn,
                 "session_name": call.identity.session.session_name if call.identity.session else None,
                 "decision": call.decision, "error": call.error,
                 "type_name": None, "identifier": None, "client_token": None, "session_policy": None}
        entry.update(call.log_extra)
        with self.lock:
            self.log_file.write(json.dumps(entry) + "\n")
            self.log_file.flush()

    def add_event(self, call: Call) -> None:
        ident, trail, now = call.identity, call.trail, time.time()
        user_identity: dict[str, Any] = {"type": "AssumedRole" if ident.session else "IAMUser",
                                         "principalId": ident.user_id, "arn": ident.arn,
                                         "accountId": ident.account, "accessKeyId": ident.access_key_id}
        if ident.session:
            s = ident.session
            user_identity["sessionContext"] = {
                "sessionIssuer": {"type": "Role", "principalId": stable_id("AROA", s.role_arn),
                                  "arn": s.role_arn, "accountId": arn_account(s.role_arn),
                                  "userName": arn_name(s.role_arn)},
                "attributes": {"creationDate": iso(s.created),
                               "mfaAuthenticated": "true" if s.mfa_serial else "false"}}
            if s.source_identity:
                user_identity["sessionContext"]["sourceIdentity"] = s.source_identity
        else:
            user_identity["userName"] = ident.name
        event_id = str(uuid.uuid4())
        detail = {"eventVersion": "1.08", "userIdentity": user_identity, "eventTime": iso(now),
                  "eventSource": trail["source"], "eventName": call.action, "awsRegion": self.region,
                  "sourceIPAddress": "127.0.0.1", "requestParameters": trail.get("request"),
                  "responseElements": trail.get("response"), "requestID": call.request_id,
                  "eventID": event_id, "readOnly": trail["read_only"], "eventType": "AwsApiCall",
                  "managementEvent": True, "recipientAccountId": self.account,
                  "eventCategory": "Management"}
        if call.error:
            # CloudTrail names refusals AccessDenied whatever the wire code.
            detail["errorCode"] = "AccessDenied" if call.error == "AccessDeniedException" else call.error
            detail["errorMessage"] = call.error_message
        event = {"EventId": event_id, "EventName": call.action,
                 "ReadOnly": "true" if trail["read_only"] else "false",
                 "AccessKeyId": ident.access_key_id, "EventTime": round(now, 3),
                 "EventSource": trail["source"], "Username": ident.name,
                 "Resources": trail.get("resources", []), "CloudTrailEvent": json.dumps(detail)}
        with self.lock:
            self.event_seq += 1
            self.events.append({"seq": self.event_seq, "event": event})
            del self.events[:-MAX_EVENTS]

    # ---- STS ---------------------------------------------------------------------

    def sts_get_caller_identity(self, call: Call, proto: Protocol) -> Reply:
        # Needs no permission in AWS, even under an explicit deny.
        ident = call.identity
        return proto.ok({"Arn": ident.arn, "UserId": ident.user_id, "Account": ident.account}, call.request_id)

    def sts_assume_role(self, call: Call, proto: Protocol) -> Reply:
        p, ident = proto.params, call.identity
        role_arn, session_name = p.get("RoleArn"), p.get("RoleSessionName")
        call.trail = {"source": "sts.amazonaws.com", "read_only": True,  # AWS marks AssumeRole read-only
                      "request": {k: v for k, v in (("roleArn", role_arn), ("roleSessionName", session_name),
                                                    ("durationSeconds", p.get("DurationSeconds")),
                                                    ("serialNumber", p.get("SerialNumber")),
                                                    ("sourceIdentity", p.get("SourceIdentity")),
                                                    ("policy", p.get("Policy"))) if v is not None},
                      "resources": [{"ResourceType": "AWS::IAM::Role", "ResourceName": role_arn}] if role_arn else []}
        call.log_extra["role_arn"] = role_arn
        call.log_extra["role_session_name"] = session_name
        duration, session_document = self.validate_assume_role(p)
        call.log_extra["session_policy"] = session_document
        session_policy = None if session_document is None else statements_of(session_document)
        role = self.roles.get(role_arn)
        denied = ApiError(403, "AccessDenied",
                          f"User: {ident.arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}")
        if role is None:
            raise denied
        mfa = self.check_mfa(ident, p.get("SerialNumber"), p.get("TokenCode"))
        if not self.trusts(role, role_arn, ident, mfa, p):
            raise denied
        session = self.new_session(role_arn, session_name, duration, session_policy,
                                   p.get("SourceIdentity"), p.get("SerialNumber") if mfa else None)
        call.log_extra["issued_access_key_id"] = session.access_key_id
        call.trail["resources"].append({"ResourceType": "AWS::IAM::AccessKey", "ResourceName": session.access_key_id})
        assumed = {"Arn": session.arn, "AssumedRoleId": f"{stable_id('AROA', role_arn)}:{session_name}"}
        call.trail["response"] = {"credentials": {"accessKeyId": session.access_key_id,
                                                  "expiration": iso(session.expires)},
                                  "assumedRoleUser": {"assumedRoleId": assumed["AssumedRoleId"], "arn": assumed["Arn"]}}
        result: dict[str, Any] = {
            "Credentials": {"AccessKeyId": session.access_key_id, "SecretAccessKey": session.secret,
                            "SessionToken": session.token, "Expiration": iso(session.expires)},
            "AssumedRoleUser": assumed}
        if session_policy is not None:
            packed = len(json.dumps(session_document, separators=(",", ":")))
            result["PackedPolicySize"] = max(1, packed * 100 // 2048)
        if session.source_identity:
            result["SourceIdentity"] = session.source_identity
        return proto.ok(result, call.request_id)

    @staticmethod
    def validate_assume_role(p: dict[str, str]) -> tuple[int, dict | None]:
        """AssumeRole's input constraints (the STS API reference); returns
        (DurationSeconds, the parsed session policy document or None)."""
        problems = []

        def bad(value, member, constraint):
            # Like AWS for sensitive members, a code or a policy is not echoed.
            shown = "null " if value is None else "" if member in ("tokenCode", "policy") else f"'{value}' "
            problems.append(f"Value {shown}at '{member}' failed to satisfy constraint: Member {constraint}")

        def check_string(name, member, lo, hi, pattern=None, required=False):
            value = p.get(name)
            if value is None:
                if required:
                    bad(None, member, "must not be null")
                return
            if len(value) < lo:
                bad(value, member, f"must have length greater than or equal to {lo}")
            elif len(value) > hi:
                bad(value, member, f"must have length less than or equal to {hi}")
            elif pattern is not None and not pattern[0].fullmatch(value):
                bad(value, member, f"must satisfy regular expression pattern: {pattern[1]}")

        check_string("RoleArn", "roleArn", 20, 2048, required=True)
        check_string("RoleSessionName", "roleSessionName", 2, 64, (SESSION_NAME_RE, r"[\w+=,.@-]*"), required=True)
        check_string("SerialNumber", "serialNumber", 9, 256, (SERIAL_RE, r"[\w+=/:,.@-]*"))
        check_string("TokenCode", "tokenCode", 6, 6, (re.compile(r"\d*"), r"[\d]*"))
        check_string("SourceIdentity", "sourceIdentity", 2, 64, (SESSION_NAME_RE, r"[\w+=,.@-]*"))
        check_string("ExternalId", "externalId", 2, 1224)
        check_string("Policy", "policy", 1, 2048)
        duration = 3600
        raw = p.get("DurationSeconds")
        if raw is not None:
            try:
                duration = int(raw)
            except ValueError:
                bad(raw, "durationSeconds", "must be an integer")
            else:
                if duration < 900:
                    bad(raw, "durationSeconds", "must have value greater than or equal to 900")
                elif duration > 43200:
                    bad(raw, "durationSeconds", "must have value less than or equal to 43200")
        if problems:
            count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected: "
            raise ApiError(400, "ValidationError", count + "; ".join(problems))
        if duration > 3600:
            # Every configured role has AWS's default MaxSessionDuration, one hour.
            raise ApiError(400, "ValidationError",
                           "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
        if p.get("Policy") is None:
            return duration, None
        try:
            document = json.loads(p["Policy"])
        except ValueError:
            raise ApiError(400, "MalformedPolicyDocument", "The policy is not in the valid JSON format.") from None
        problem = policy_problem(document)
        if problem:
            raise ApiError(400, "MalformedPolicyDocument", problem)
        return duration, document

    def check_mfa(self, ident: Identity, serial: str | None, code: str | None) -> bool:
        """Whether the call presents a valid, unused MFA code (raises if it
        presents a wrong one); False when it presents none."""
        if serial is None and code is None:
            return False
        if serial is None or code is None:
            raise ApiError(403, "AccessDenied", "MultiFactorAuthentication failed, must provide both MFA "
                           "serial number and one time pass code.")
        failed = ApiError(403, "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")
        device = self.mfa_devices.get(serial)
        if device is None or device.get("user_arn") != ident.arn:
            raise failed
        key = _totp_key(device["secret"])
        now_step = int(time.time() // TOTP_STEP)
        with self.lock:
            used = self.used_codes.setdefault(serial, set())
            for step in (now_step, now_step - 1, now_step + 1):
                if hmac.compare_digest(hotp(key, step), code):
                    if step in used:
                        raise failed  # AWS refuses a code that was already used
                    used.add(step)
                    return True
        raise failed

    def trusts(self, role: dict, role_arn: str, ident: Identity, mfa: bool, p: dict[str, str]) -> bool:
        """AssumeRole's authorisation: the role's trust policy, and, where the
        trust names only the caller's account (or "*") or the caller is in
        another account, the caller's own effective policy too (AWS's rule)."""
        trust = statements_of(role.get("trust_policy", {}))
        specific = {ident.arn} | ({ident.session.role_arn} if ident.session else set())
        broad = specific | {ident.account, f"arn:aws:iam::{ident.account}:root", "*"}
        ctx = ident.context()
        if mfa:
            ctx["aws:multifactorauthpresent"] = "true"
        # else: "false" for a session caller, absent for a long-term key (AWS).
        for key, name in (("sts:externalid", "ExternalId"), ("sts:rolesessionname", "RoleSessionName"),
                          ("sts:sourceidentity", "SourceIdentity")):
            if p.get(name) is not None:
                ctx[key] = p[name]
        if evaluate(trust, "sts:AssumeRole", None, broad, ctx) != ALLOWED:
            return False
        own, _ = self.authorize(ident, "sts:AssumeRole", role_arn)
        if own == EXPLICIT_DENY:
            return False
        named = evaluate(trust, "sts:AssumeRole", None, specific, ctx) == ALLOWED
        return (named and arn_account(role_arn) == ident.account) or own == ALLOWED

    def new_session(self, role_arn: str, name: str, duration: int, policy: list[dict] | None,
                    source_identity: str | None, mfa_serial: str | None) -> Session:
        now = time.time()
        session = Session(
            access_key_id="ASIA" + random_chars(string.ascii_uppercase + string.digits, 16),
            secret=random_chars(string.ascii_letters + string.digits + "+/", 40),
            token=base64.b64encode(secrets.token_bytes(300)).decode(),
            role_arn=role_arn, session_name=name, policy=policy, source_identity=source_identity,
            mfa_serial=mfa_serial, created=now, expires=now + duration)
        with self.lock:
            self.sessions[session.access_key_id] = session
        return session

    # ---- IAM -----------------------------------------------------------------------

    def role_by_name(self, name: str) -> tuple[str, dict] | None:
        for arn, role in self.roles.items():
            if arn_name(arn) == name:
                return arn, role
        return None

    def iam_get_role(self, call: Call, proto: Protocol) -> Reply:
        name = proto.params.get("RoleName")
        if not name:
            raise ApiError(400, "ValidationError", "1 validation error detected: Value null at 'roleName' "
                           "failed to satisfy constraint: Member must not be null")
        found = self.role_by_name(name)
        arn = found[0] if found else f"arn:aws:iam::{self.account}:role/{name}"
        self.require(call, "iam:GetRole", arn, "AccessDenied", 403, on=f"role {name}")
        if found is None:
            raise ApiError(404, "NoSuchEntity", f"The role with name {name} cannot be found.")
        arn, role = found
        segments = arn.split(":", 5)[-1].split("/")  # role/[path/]name
        path = "/" + "".join(s + "/" for s in segments[1:-1])
        document = json.dumps(role.get("trust_policy", {}), separators=(",", ":"))
        return proto.ok({"Role": {"Path": path, "RoleName": name, "RoleId": stable_id("AROA", arn), "Arn": arn,
                                  "CreateDate": iso(self.started),
                                  # URL-encoded JSON, as AWS returns policy documents.
                                  "AssumeRolePolicyDocument": quote(document, safe="-_.~"),
                                  "MaxSessionDuration": 3600}}, call.request_id)

    def iam_simulate_principal_policy(self, call: Call, proto: Protocol) -> Reply:
        p = proto.params
        source = p.get("PolicySourceArn", "")
        actions = query_members(p, "ActionNames")
        resources = query_members(p, "ResourceArns") or ["*"]
        if not source or not actions:
            member = "policySourceArn" if not source else "actionNames"
            raise ApiError(400, "ValidationError", f"1 validation error detected: Value null at '{member}' "
                           f"failed to satisfy constraint: Member must not be null")
        self.require(call, "iam:SimulatePrincipalPolicy", source, "AccessDenied", 403, on=source)
        statements = self.policy_of_arn(source)
        for document in query_members(p, "PolicyInputList"):
            try:
                statements = statements + statements_of(json.loads(document))
            except ValueError:
                raise ApiError(400, "InvalidInput", "PolicyInputList holds a document that is not valid JSON.") from None
        max_items, start = self.page_window(p)
        results = [{"EvalActionName": a, "EvalResourceName": r,
                    "EvalDecision": evaluate(statements, a, r, context={}),
                    "MatchedStatements": [], "MissingContextValues": []}
                   for a in actions for r in resources]
        page = results[start:start + max_items]
        truncated = start + max_items < len(results)
        body: dict[str, Any] = {"EvaluationResults": page, "IsTruncated": truncated}
        if truncated:
            body["Marker"] = base64.b64encode(str(start + max_items).encode()).decode()
        return proto.ok(body, call.request_id)

    def policy_of_arn(self, arn: str) -> list[dict]:
        if ":assumed-role/" in arn:
            # AWS simulates users, groups and roles, not sessions.
            raise ApiError(400, "InvalidInput", f"Invalid ARN: {arn} is an assumed-role session, "
                           "not a user, group or role.")
        if arn in self.roles:
            return statements_of(self.roles[arn].get("policy", []))
        for principal in self.principals.values():
            if principal.get("arn") == arn:
                return statements_of(principal.get("policy", []))
        raise ApiError(404, "NoSuchEntity", f"The entity {arn} cannot be found.")

    @staticmethod
    def page_window(p: dict[str, str]) -> tuple[int, int]:
        try:
            max_items = int(p.get("MaxItems", "100"))
        except ValueError:
            max_items = 0
        if not 1 <= max_items <= 1000:
            raise ApiError(400, "ValidationError", f"1 validation error detected: Value '{p.get('MaxItems')}' "
                           "at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000")
        start = 0
        if p.get("Marker"):
            try:
                start = int(base64.b64decode(p["Marker"], validate=True).decode())
            except ValueError:
                raise ApiError(400, "InvalidInput", "Invalid Marker.") from None
        return max_items, start

    # ---- CloudTrail --------------------------------------------------------------

    LOOKUP_KEYS = {"EventId": "EventId", "EventName": "EventName", "ReadOnly": "ReadOnly",
                   "Username": "Username", "EventSource": "EventSource", "AccessKeyId": "AccessKeyId"}

    def cloudtrail_lookup_events(self, call: Call, proto: Protocol) -> Reply:
        body = proto.body
        self.require(call, "cloudtrail:LookupEvents", "*", "AccessDeniedException", 400)
        matches = self.lookup_filter(body.get("LookupAttributes") or [])
        start, end = parse_time(body.get("StartTime")), parse_time(body.get("EndTime"))
        if start is not None and end is not None and start > end:
            raise ApiError(400, "InvalidTimeRangeException", "Start time must be before end time.")
        max_results = body.get("MaxResults", 50)
        if not isinstance(max_results, int) or not 1 <= max_results <= 50:
            raise ApiError(400, "InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
        before = None
        if body.get("NextToken"):
            try:
                before = int(base64.b64decode(body["NextToken"], validate=True).decode())
            except ValueError:
                raise ApiError(400, "InvalidNextTokenException", "Invalid NextToken.") from None
        with self.lock:
            stored = list(self.events)
        picked = []
        for item in reversed(stored):  # newest first
            ev = item["event"]
            if before is not None and item["seq"] >= before:
                continue
            if (start is not None and ev["EventTime"] < start) or (end is not None and ev["EventTime"] > end):
                continue
            if not matches(item):
                continue
            picked.append(item)
            if len(picked) > max_results:
                break
        result: dict[str, Any] = {"Events": [i["event"] for i in picked[:max_results]]}
        if len(picked) > max_results:
            result["NextToken"] = base64.b64encode(str(picked[max_results - 1]["seq"]).encode()).decode()
        return proto.ok(result, call.request_id)

    def lookup_filter(self, attributes: list) -> Callable[[dict], bool]:
        if len(attributes) > 1:
            raise ApiError(400, "InvalidLookupAttributesException", "You can specify only one lookup attribute.")
        if not attributes:
            return lambda item: True
        attr = attributes[0] if isinstance(attributes[0], dict) else {}
        key, value = attr.get("AttributeKey"), attr.get("AttributeValue")
        if key in ("ResourceType", "ResourceName"):
            return lambda item: any(r.get(key) == value for r in item["event"]["Resources"])
        if key not in self.LOOKUP_KEYS or not isinstance(value, str):
            raise ApiError(400, "InvalidLookupAttributesException", f"Lookup attribute {key!r} is not supported.")
        return lambda item: item["event"].get(self.LOOKUP_KEYS[key]) == value

    # ---- Cost Explorer -------------------------------------------------------------

    def today(self) -> date:
        """The stand-in's current date (UTC), which decides `Estimated`."""
        return utc(time.time()).date()

    def ce_get_cost_and_usage(self, call: Call, proto: Protocol) -> Reply:
        body = proto.body
        period = body.get("TimePeriod")
        call.log_extra.update({"time_period": period if isinstance(period, dict) else None,
                               "granularity": body.get("Granularity")})
        # The resource AWS names in Cost Explorer's AccessDeniedException
        # (and the one policies may scope ce:GetCostAndUsage to). Authorised
        # before validation, so a refused caller learns nothing of the input.
        resource = f"arn:aws:ce:us-east-1:{call.identity.account}:/GetCostAndUsage"
        self.require(call, "ce:GetCostAndUsage", resource, "AccessDeniedException", 400, on=resource)
        start, end, granularity, metrics, grouped = self.validate_cost_query(body)
        today = self.today()
        results = []
        for first, stop in cost_periods(start, end, granularity):
            by_service: dict[str, Decimal] = {}
            for day, services in self.costs.items():
                if first <= day < stop:
                    for service, amount in services.items():
                        by_service[service] = by_service.get(service, Decimal(0)) + amount
            entry: dict[str, Any] = {"TimePeriod": {"Start": first.isoformat(), "End": stop.isoformat()}}
            if grouped:
                entry["Total"] = {}
                entry["Groups"] = [{"Keys": [service], "Metrics": cost_metrics(metrics, by_service[service])}
                                   for service in sorted(by_service)]
            else:
                entry["Total"] = cost_metrics(metrics, sum(by_service.values(), Decimal(0)))
                entry["Groups"] = []
            entry["Estimated"] = stop > today  # the period reaches today or later
            results.append(entry)
        result: dict[str, Any] = {}
        if grouped:
            result["GroupDefinitions"] = [{"Type": "DIMENSION", "Key": "SERVICE"}]
        result["ResultsByTime"] = results
        result["DimensionValueAttributes"] = []
        return proto.ok(result, call.request_id)

    def validate_cost_query(self, body: dict) -> tuple[date, date, str, list[str], bool]:
        """GetCostAndUsage's input checks; returns (start, end, granularity,
        metrics, whether grouped by SERVICE). Messages of the form "1
        validation error detected: ..." are AWS's generic constraint wording;
        the others are this stand-in's (AWS's are not documented)."""
        def invalid(message: str) -> ApiError:
            return ApiError(400, "ValidationException", message)

        problems = []
        period = body.get("TimePeriod")
        if not isinstance(period, dict):
            problems.append("Value null at 'timePeriod' failed to satisfy constraint: Member must not be null")
            period = {}
        else:
            for name in ("Start", "End"):
                value = period.get(name)
                member = f"timePeriod.{name.lower()}"
                if value is None:
                    problems.append(f"Value null at '{member}' failed to satisfy constraint: Member must not be null")
                elif not isinstance(value, str) or len(value) > 40 or not CE_DATE_RE.fullmatch(value):
                    problems.append(f"Value '{value}' at '{member}' failed to satisfy constraint: Member must "
                                    f"satisfy regular expression pattern: {CE_DATE_RE.pattern}")
        granularity = body.get("Granularity")
        if granularity is None:
            problems.append("Value null at 'granularity' failed to satisfy constraint: Member must not be null")
        elif granularity not in ("DAILY", "MONTHLY", "HOURLY"):
            problems.append(f"Value '{granularity}' at 'granularity' failed to satisfy constraint: Member must "
                            "satisfy enum value set: [DAILY, MONTHLY, HOURLY]")
        metrics = body.get("Metrics")
        if metrics is None:
            problems.append("Value null at 'metrics' failed to satisfy constraint: Member must not be null")
        if problems:
            count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected: "
            raise invalid(count + "; ".join(problems))

        dates = []
        for name in ("Start", "End"):
            value = period[name]
            if "T" in value:
                raise invalid(f"Time of day in TimePeriod.{name} '{value}' (hourly data) is not supported "
                              "by this stand-in")
            try:
                dates.append(date.fromisoformat(value))
            except ValueError:
                raise invalid(f"Invalid date '{value}' for TimePeriod.{name}: not a calendar date "
                              "(expected YYYY-MM-DD)") from None
        start, end = dates
        if start >= end:
            raise invalid("Start date (and hour) should be before end date (and hour)")  # AWS's wording
        today = self.today()
        if start > today:
            # AWS documents "The start date must be equal to or no later than
            # the current date to avoid a validation error."
            raise invalid(f"Start date '{start.isoformat()}' is after the current date '{today.isoformat()}'")
        if end > first_of_next_month(today):
            raise invalid("end date past the beginning of next month")  # AWS's reported wording
        if granularity == "HOURLY":
            raise invalid("Granularity HOURLY is not supported by this stand-in")

        if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
            raise invalid("Metrics must be a list of metric names")
        if not metrics:
            raise invalid("Metrics must not be empty: name at least one of " + ", ".join(CE_METRICS))
        for name in metrics:
            if name in CE_UNMODELLED_METRICS:
                raise invalid(f"Metric {name} is not supported by this stand-in (it serves "
                              f"{', '.join(CE_METRICS)})")
            if name not in CE_METRICS:
                raise invalid(f"Invalid metric '{name}': valid metrics are "
                              + ", ".join(sorted(CE_METRICS + CE_UNMODELLED_METRICS)))

        group_by = body.get("GroupBy")
        if group_by in (None, []):
            grouped = False
        else:
            if not isinstance(group_by, list) or not all(isinstance(g, dict) for g in group_by):
                raise invalid("GroupBy must be a list of group definitions")
            for i, g in enumerate(group_by, 1):
                if g.get("Type") not in CE_GROUP_TYPES:
                    raise invalid(f"1 validation error detected: Value '{g.get('Type')}' at "
                                  f"'groupBy.{i}.member.type' failed to satisfy constraint: Member must "
                                  f"satisfy enum value set: [{', '.join(CE_GROUP_TYPES)}]")
            if len(group_by) > 2:
                raise invalid("You can group by at most two group definitions")
            if len(group_by) != 1 or (group_by[0].get("Type"), group_by[0].get("Key")) != ("DIMENSION", "SERVICE"):
                shown = ", ".join(f"{g.get('Type')}/{g.get('Key')}" for g in group_by)
                raise invalid(f"GroupBy {shown} is not supported by this stand-in (only one DIMENSION/SERVICE)")
            grouped = True
        for name in ("Filter", "BillingViewArn"):
            if body.get(name) not in (None, {}, ""):
                raise invalid(f"{name} is not supported by this stand-in")
        if body.get("NextPageToken"):
            # Every reply is one page: no token was ever issued.
            raise ApiError(400, "InvalidNextTokenException", "Invalid NextPageToken")
        return start, end, granularity, list(dict.fromkeys(metrics)), grouped

    # ---- Cloud Control -------------------------------------------------------------

    def cloudcontrol(self, call: Call, proto: Protocol) -> Reply:
        op, body = proto.action, proto.body
        type_name, identifier, token = body.get("TypeName"), body.get("Identifier"), body.get("ClientToken")
        call.log_extra.update({"type_name": type_name, "identifier": identifier, "client_token": token})
        request = {k: v for k, v in (("typeName", type_name), ("identifier", identifier), ("clientToken", token),
                                     ("requestToken", body.get("RequestToken"))) if v is not None}
        if "DesiredState" in body or "PatchDocument" in body:
            request["desiredState" if "DesiredState" in body else "patchDocument"] = "HIDDEN_DUE_TO_SECURITY_REASONS"
        call.trail = {"source": "cloudcontrolapi.amazonaws.com", "read_only": op in CC_READS, "request": request,
                      "resources": [{"ResourceType": type_name, "ResourceName": identifier}] if type_name and identifier else []}
        # Simplification: only actions are checked, never resources (Cloud
        # Control's own actions take Resource "*" in AWS; handler permissions
        # would be checked against the resource's ARN, which is not modelled).
        needed = [f"cloudformation:{op}"]
        handler = CC_HANDLER.get(op)
        if handler and type_name in self.handler_permissions:
            needed += list(self.handler_permissions[type_name].get(handler, []))
        for action in needed:
            decision, where = self.authorize(call.identity, action, None)
            if decision != ALLOWED:
                raise ApiError(400, "AccessDeniedException",
                               access_denied_message(call.identity.arn, action, where, decision))
        reply = self.forward(proto, op)
        self.note_backend_reply(call, reply)
        return reply

    def forward(self, proto: Protocol, op: str) -> Reply:
        if not self.backend:
            raise ApiError(500, "ServiceInternalErrorException", "no cloudcontrol_backend is configured")
        target = urlsplit(self.backend)
        body = json.dumps(proto.body).encode()
        try:
            # http.client, not urllib: no proxy from the environment can apply.
            conn = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=60)
            conn.request("POST", "/", body=body, headers={"Content-Type": proto.content_type,
                                                          "X-Amz-Target": CLOUDCONTROL_TARGET + op})
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
        except OSError as err:
            raise ApiError(500, "ServiceInternalErrorException", f"the Cloud Control backend failed: {err}") from None
        headers = {k: v for k, v in resp.getheaders() if k.lower() in ("x-amzn-requestid", "x-amzn-errortype")}
        return Reply(resp.status, resp.getheader("Content-Type", proto.content_type), data, headers)

    @staticmethod
    def note_backend_reply(call: Call, reply: Reply) -> None:
        try:
            data = json.loads(reply.body or b"{}")
        except ValueError:
            return
        if reply.status >= 400:
            call.error = str(data.get("__type", "")).rsplit("#", 1)[-1] or f"HTTP{reply.status}"
            call.error_message = data.get("message") or data.get("Message")
            return
        event = data.get("ProgressEvent") if isinstance(data, dict) else None
        if isinstance(event, dict) and event.get("Identifier") and not call.trail["resources"] and event.get("TypeName"):
            call.trail["resources"] = [{"ResourceType": event["TypeName"], "ResourceName": event["Identifier"]}]


def parse_time(value: Any) -> float | None:
    """A CloudTrail timestamp: epoch seconds (as the SDKs send) or ISO 8601."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ApiError(400, "InvalidTimeRangeException", f"Invalid timestamp {value!r}.") from None


# Cost Explorer ------------------------------------------------------------

CE_METRICS = ("UnblendedCost", "BlendedCost", "AmortizedCost")
CE_UNMODELLED_METRICS = ("NetUnblendedCost", "NetAmortizedCost", "UsageQuantity", "NormalizedUsageAmount")
CE_GROUP_TYPES = ("DIMENSION", "TAG", "COST_CATEGORY", "PRODUCT_ATTRIBUTE")
# The YearMonthDay pattern of Cost Explorer's API model.
CE_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}Z)?")
DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_costs(raw: Any) -> dict[date, dict[str, Decimal]]:
    """The config's `costs`: {"YYYY-MM-DD": {service: "decimal USD"}}; raises
    ValueError on a malformed entry (the stand-in refuses to start)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError("config 'costs' must map YYYY-MM-DD to {service: amount}")
    costs: dict[date, dict[str, Decimal]] = {}
    for day, services in raw.items():
        try:
            if not DAY_RE.fullmatch(str(day)):
                raise ValueError
            when = date.fromisoformat(day)
        except ValueError:
            raise ValueError(f"config 'costs': {day!r} is not a YYYY-MM-DD date") from None
        if not isinstance(services, dict):
            raise ValueError(f"config 'costs' {day}: must map service names to amounts")
        parsed = {}
        for service, amount in services.items():
            try:
                if isinstance(amount, bool) or not isinstance(amount, (str, int, float)):
                    raise InvalidOperation
                value = Decimal(str(amount).strip())
                if not value.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                raise ValueError(f"config 'costs' {day} {service!r}: {amount!r} is not a decimal amount") from None
            parsed[str(service)] = value
        costs[when] = parsed
    return costs


def first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def cost_periods(start: date, end: date, granularity: str) -> list[tuple[date, date]]:
    """[Start, End) cut per day, or per calendar month with the first and
    last months clipped to the request."""
    periods, current = [], start
    while current < end:
        following = current + timedelta(days=1) if granularity == "DAILY" else first_of_next_month(current)
        periods.append((current, min(following, end)))
        current = periods[-1][1]
    return periods


def cost_amount(value: Decimal) -> str:
    """A decimal string, never in exponent form; zero is "0"."""
    return "0" if value == 0 else format(value, "f")


def cost_metrics(metrics: list[str], value: Decimal) -> dict[str, dict[str, str]]:
    return {m: {"Amount": cost_amount(value), "Unit": "USD"} for m in metrics}


OPERATIONS: dict[tuple[str, str], Callable[[Standin, Call, Protocol], Reply]] = {
    ("sts", "GetCallerIdentity"): Standin.sts_get_caller_identity,
    ("sts", "AssumeRole"): Standin.sts_assume_role,
    ("iam", "GetRole"): Standin.iam_get_role,
    ("iam", "SimulatePrincipalPolicy"): Standin.iam_simulate_principal_policy,
    ("cloudtrail", "LookupEvents"): Standin.cloudtrail_lookup_events,
    ("ce", "GetCostAndUsage"): Standin.ce_get_cost_and_usage,
    **{("cloudcontrol", op): Standin.cloudcontrol for op in CC_READS + CC_WRITES},
}


# --------------------------------------------------------------------------
# HTTP server
# --------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs expect
    timeout = 120  # idle keep-alive connections are dropped

    def do_POST(self) -> None:
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        req = Request(self.command, self.path, headers, self.read_body())
        try:
            reply = self.server.standin.handle(req)
        except Exception as err:  # a bug here must not hang the client
            body = json.dumps({"__type": "InternalFailure", "message": repr(err)}).encode()
            reply = Reply(500, "application/json", body, {"x-amzn-ErrorType": "InternalFailure"})
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST

    def version_string(self) -> str:
        return "standin"

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the JSON log is the record
        pass


def start(config: dict) -> tuple[ThreadingHTTPServer, str]:
    """Serve `config` on 127.0.0.1 in a daemon thread; returns (server, url).

    `server.standin` is the Standin (its sessions, events, used MFA steps).
    """
    server = ThreadingHTTPServer(("127.0.0.1", int(config.get("port", 0))), Handler)
    server.daemon_threads = True
    server.standin = Standin(config)
    threading.Thread(target=server.serve_forever, name="standin", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def stop(server: ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()
    server.standin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Loopback stand-in for STS, IAM, CloudTrail, Cloud Control "
                                                 "and Cost Explorer.")
    parser.add_argument("--config", required=True, help="the JSON config file")
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as f:
        config = json.load(f)
    server, url = start(config)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())

    def watch_stdin() -> None:
        # os.read on the descriptor, not sys.stdin: a daemon thread blocked in
        # a buffered read would abort the interpreter's shutdown.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        done.set()

    threading.Thread(target=watch_stdin, name="stdin", daemon=True).start()
    print(f"standin listening on {url}", flush=True)
    while not done.wait(0.2):
        pass
    stop(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
