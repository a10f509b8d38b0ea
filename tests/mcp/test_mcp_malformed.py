"""Malformed input on both transports gets a JSON-RPC error reply, never
silence (issue 13, item 9): -32700 Parse error with "id": null for bytes that
are not JSON (invalid JSON, invalid UTF-8, nesting past 128 levels), -32600
Invalid Request for JSON that is not a request object or a message that is
too long, -32602 Invalid params naming the field for params or tool
arguments of the wrong shape. After each one the server still answers.

And the debug log never prints an argument's value: a secret passed to a tool
stays out of stderr."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import urllib.error
import urllib.request

import pytest

from mcp_harness import SEED_TOOLS, Project, http_server

REPLY_TIMEOUT = 15
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
PASSWORD = "hunter2-Sup3r-Secret-Pw"
DEEP = "[" * 10_000 + "]" * 10_000


def rpc(id_: int, method: str, params: dict | None = None) -> bytes:
    msg: dict = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        msg["params"] = params
    return json.dumps(msg).encode() + b"\n"


INITIALIZE = rpc(1, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}})
INITIALIZED = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode() + b"\n"


class RawStdio:
    """`infraguard serve` with raw pipes: write bytes, read replies with a timeout."""

    def __init__(self, project: Project, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [project.bin, "-C", str(project.root), "serve", "--env", "dev"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        self.replies: queue.Queue = queue.Queue()
        self.stderr = b""
        threading.Thread(target=self._read_stdout, daemon=True).start()
        self._stderr_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._stderr_reader.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout
        for line in self.proc.stdout:
            self.replies.put(json.loads(line))  # anything but JSON-RPC on stdout fails the test

    def _read_stderr(self) -> None:
        assert self.proc.stderr
        self.stderr = self.proc.stderr.read()

    def send(self, data: bytes) -> None:
        assert self.proc.stdin
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def reply(self) -> dict:
        try:
            return self.replies.get(timeout=REPLY_TIMEOUT)
        except queue.Empty:
            pytest.fail(f"no reply within {REPLY_TIMEOUT} s (server alive: {self.proc.poll() is None})")

    def ask(self, data: bytes) -> dict:
        self.send(data)
        return self.reply()

    def assert_alive(self, id_: int) -> None:
        got = self.ask(rpc(id_, "ping"))
        assert got == {"jsonrpc": "2.0", "id": id_, "result": {}}, got

    def initialize(self) -> None:
        assert self.ask(INITIALIZE)["result"]["serverInfo"]["name"] == "infraguard"
        self.send(INITIALIZED)

    def close(self) -> str:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            pytest.fail("the server did not exit after stdin closed")
        # The process has exited, but its stderr may still be on the way to
        # the reader: wait for the whole of it.
        self._stderr_reader.join(timeout=10)
        return self.stderr.decode(errors="replace")


@pytest.fixture
def stdio(project: Project):
    server = RawStdio(project)
    yield server
    server.close()


def assert_error(reply: dict, code: int, id_=None, *, says: str = "") -> None:
    assert reply.get("jsonrpc") == "2.0", reply
    assert "id" in reply and reply["id"] == id_, reply
    assert reply["error"]["code"] == code, reply
    assert says in reply["error"]["message"], reply


# Bytes that are not JSON, each with a word its message must contain.
PARSE_ERRORS = [
    (b'{"jsonrpc": "2.0", "id": 1, "method": ', "not JSON"),
    (b"{not json at all}", "not JSON"),
    (b"\xff\xfe\x00{}", "UTF-8"),
    (b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\xc3\x28"}}', "UTF-8"),
    (DEEP.encode(), "deeper than 128"),
    (b'{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_resource","arguments":{"a":' + DEEP.encode() + b"}}}", "deeper than 128"),
]

# JSON values that are not a request object.
INVALID_REQUESTS = [
    (b"42", None, "JSON object"),
    (b'"hello"', None, "JSON object"),
    (b"null", None, "JSON object"),
    (b"[]", None, "empty array"),
    (b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]', None, "batches"),
    (b'{"jsonrpc":"1.0","id":6,"method":"ping"}', 6, "jsonrpc"),
    (b'{"id":7,"method":"ping"}', 7, "jsonrpc"),
    (b'{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}', None, "`id`"),
    (b'{"jsonrpc":"2.0","id":8,"method":["ping"]}', 8, "`method`"),
    (b'{"jsonrpc":"2.0","id":"nine"}', "nine", "`method`"),
]


def test_stdio_answers_unparseable_input_with_a_parse_error(stdio: RawStdio) -> None:
    for n, (data, says) in enumerate(PARSE_ERRORS):
        assert_error(stdio.ask(data + b"\n"), -32700, None, says=says)
        stdio.assert_alive(100 + n)


def test_stdio_answers_json_that_is_not_a_request_with_invalid_request(stdio: RawStdio) -> None:
    for n, (data, id_, says) in enumerate(INVALID_REQUESTS):
        assert_error(stdio.ask(data + b"\n"), -32600, id_, says=says)
        stdio.assert_alive(200 + n)


def test_stdio_bounds_a_line_and_keeps_going(stdio: RawStdio) -> None:
    # 5 MiB on one line, past the 4 MiB cap: answered once, then skipped.
    assert_error(stdio.ask(b'{"jsonrpc":"2.0","id":1,"x":"' + b"x" * (5 << 20) + b'"}\n'), -32600, None, says="4 MiB")
    stdio.assert_alive(300)
    # Blank lines and a notification that does not parse get no reply (JSON-RPC
    # never answers a notification); the ping after them is the next reply.
    stdio.send(b"\n   \r\n" + b'{"jsonrpc":"2.0","method":"notifications/progress","params":5}\n')
    stdio.assert_alive(301)
    # Nor does a response, even a bad one: a peer that sends our error reply
    # back (or answers it with its own) must not start an error storm.
    echoed = stdio.ask(b"{oops\n")
    stdio.send(json.dumps(echoed).encode() + b"\n" + b'{"jsonrpc":"2.0","id":3,"error":"%s"}\n' % ACCESS_KEY.encode())
    stdio.assert_alive(302)


def test_stdio_malformed_input_before_and_after_the_handshake(stdio: RawStdio) -> None:
    assert_error(stdio.ask(b"{oops\n"), -32700)
    stdio.initialize()
    echoed = stdio.ask(b"\xc0\xaf\n")
    assert_error(echoed, -32700, says="UTF-8")
    stdio.send(json.dumps(echoed).encode() + b"\n")
    tools = stdio.ask(rpc(2, "tools/list", {}))
    assert SEED_TOOLS <= {t["name"] for t in tools["result"]["tools"]}


def test_params_and_tool_arguments_of_the_wrong_shape_are_invalid_params(stdio: RawStdio) -> None:
    stdio.initialize()
    # params of the wrong shape, which rmcp took for an unknown method (-32601).
    assert_error(stdio.ask(rpc(10, "tools/call", {"name": 5})), -32602, 10, says="`params.name` must be a string, not an integer")
    assert_error(stdio.ask(rpc(11, "tools/call", {"name": "get_resource", "arguments": ACCESS_KEY})), -32602, 11,
                 says="`params.arguments` must be an object, not a string")
    assert_error(stdio.ask(b'{"jsonrpc":"2.0","id":12,"method":"tools/call","params":[1,2]}\n'), -32602, 12, says="`params` must be an object")
    # Tool arguments of the wrong type: the field and the type it must have.
    got = stdio.ask(rpc(13, "tools/call", {"name": "get_resource", "arguments": {"resource_type": "AWS::S3::Bucket", "identifier": 7}}))
    assert_error(got, -32602, 13, says="`identifier` must be string, got integer")
    got = stdio.ask(rpc(14, "tools/call", {"name": "get_resource", "arguments": {"identifier": "b"}}))
    assert_error(got, -32602, 14, says="`resource_type` is required: pass string")
    got = stdio.ask(rpc(15, "tools/call", {"name": "get_resource", "arguments": {"resource_type": ACCESS_KEY, "identifier": [PASSWORD]}}))
    assert_error(got, -32602, 15, says="`identifier` must be string, got array")
    # No error message quotes a value it refuses.
    assert ACCESS_KEY not in json.dumps(got) and PASSWORD not in json.dumps(got)
    stdio.assert_alive(16)


def post(url: str, body: bytes) -> tuple[int, str, dict | None]:
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
    })
    try:
        with urllib.request.urlopen(req, timeout=REPLY_TIMEOUT) as r:
            status, ctype, text = r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        status, ctype, text = e.code, e.headers.get("Content-Type", ""), e.read().decode()
    return status, ctype, (json.loads(text) if ctype.startswith("application/json") and text else None)


def test_http_answers_bad_bodies_with_400_and_a_json_rpc_error(project: Project) -> None:
    with http_server(project, "--env", "dev") as url:
        cases = [(data, -32700, None, says) for data, says in PARSE_ERRORS]
        cases += [(data, -32600, id_, says) for data, id_, says in INVALID_REQUESTS]
        cases += [(b"", -32700, None, "empty"), (b'{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":5}}', -32602, 3, "`params.name`")]
        for data, code, id_, says in cases:
            status, ctype, body = post(url, data)
            assert status == 400 and ctype.startswith("application/json"), (data[:80], status, ctype)
            assert body is not None
            assert_error(body, code, id_, says=says)
        status, _, body = post(url, b'{"jsonrpc":"2.0","id":1,"x":"' + b"x" * (5 << 20) + b'"}')
        assert status == 413 and body is not None
        assert_error(body, -32600, None, says="4 MiB")
        # A notification that does not parse is accepted and dropped.
        assert post(url, b'{"jsonrpc":"2.0","method":"notifications/progress","params":5}')[0] == 202
        # The server still works.
        status, ctype, _ = post(url, INITIALIZE)
        assert status == 200, (status, ctype)


def test_debug_logs_never_print_tool_argument_values(project: Project) -> None:
    for level in ("debug", "trace"):
        server = RawStdio(project, env={"INFRAGUARD_LOG": level})
        server.initialize()
        props = {"DBInstanceIdentifier": "synthcoreai-db-dev", "Engine": "postgres", "MasterUsername": "admin",
                 "MasterUserPassword": PASSWORD, "Tags": [{"Key": "AccessKey", "Value": ACCESS_KEY}]}
        calls = [
            {"name": "generate_infrastructure_code", "arguments": {"resource_type": "AWS::RDS::DBInstance", "properties": props}},
            {"name": "estimate_cost", "arguments": {"resource_type": "AWS::RDS::DBInstance", "properties": props}},
            {"name": "get_resource", "arguments": {"resource_type": "AWS::S3::Bucket", "identifier": ACCESS_KEY}},
            {"name": "get_resource", "arguments": {"resource_type": 7, "identifier": PASSWORD}},  # invalid_params
            {"name": "get_resource", "arguments": ACCESS_KEY},  # answered by the wire
        ]
        for n, call in enumerate(calls):
            server.ask(rpc(10 + n, "tools/call", call))
        stderr = server.close()
        assert ACCESS_KEY not in stderr and PASSWORD not in stderr, stderr
        # What the log does say: the tool and its argument keys.
        assert 'tool="generate_infrastructure_code"' in stderr, stderr
        assert 'keys=["properties", "resource_type"]' in stderr, stderr
        assert "request=<redacted>" in stderr, stderr
