"""POST/GET/DELETE /mcp: the MCP Streamable HTTP transport, black-box (docs/mcp.md).

Malformed and oversized input, sessions (missing, unknown, deleted, evicted,
expired), MCP-Protocol-Version, Origin, the bearer token, concurrent sessions,
the per-session SSE stream (reload notifications, Last-Event-ID, one stream
per session, shutdown). Every answer is validated against openapi/openapi.yaml
(check_response); frames of the stream against its `x-sse-data` schema.
Loopback only; every wait is bounded.
"""
import json
import queue
import re
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests

from conftest import SLOW, SPEC, check_response, clean_env, raw_request

ACCEPT = "application/json, text/event-stream"
LATEST, OLDER = "2025-11-25", "2025-06-18"
BODY_MAX = 1024 * 1024
SID_RE = re.compile(r"^[0-9a-f]{32}$")
ALLOW = "GET, POST, DELETE, OPTIONS"
VIEWS = ["role", "competencies", "work-patterns", "tool-priorities", "output-standards", "anti-patterns", "sections",
         "lineage", "variables"]
SSE_DATA = SPEC.doc["paths"]["/mcp"]["get"]["responses"]["200"]["content"]["text/event-stream"]["schema"]["x-sse-data"]


# ----------------------------------------------------------------- helpers
def msg(method, id_=None, params=None):
    m = {"jsonrpc": "2.0", "method": method}
    if id_ is not None:
        m["id"] = id_
    if params is not None:
        m["params"] = params
    return m


def post(api, body, sid=None, headers=None, ctype="application/json"):
    """POST /mcp (validated against the contract); body: a message, or bytes/str as is."""
    h = {"Accept": ACCEPT}
    if ctype:
        h["Content-Type"] = ctype
    if sid:
        h["Mcp-Session-Id"] = sid
    h.update(headers or {})
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return api.request("POST", "/mcp", headers=h, data=data)


def assert_rpc_error(r, status, code, id_=None):
    assert r.status_code == status, (r.status_code, r.content[:300])
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "no-store"
    d = r.json()
    assert d["jsonrpc"] == "2.0" and d["id"] == id_ and d["error"]["code"] == code, d
    assert isinstance(d["error"]["message"], str) and d["error"]["message"]
    assert "Mcp-Session-Id" not in r.headers
    return d


def result_of(r, id_):
    assert r.status_code == 200, (r.status_code, r.content[:300])
    d = r.json()
    assert d["id"] == id_ and "error" not in d, d
    return d["result"]


def initialize(api, version=LATEST, headers=None):
    """A new session (initialize + notifications/initialized): its id."""
    r = post(api, msg("initialize", 0, {"protocolVersion": version, "capabilities": {},
                                         "clientInfo": {"name": "pytest", "version": "1"}}), headers=headers)
    res = result_of(r, 0)
    assert res["protocolVersion"] == version
    sid = r.headers["Mcp-Session-Id"]
    assert SID_RE.fullmatch(sid), sid
    assert r.headers["Cache-Control"] == "no-store"
    n = post(api, msg("notifications/initialized"), sid=sid, headers=headers)
    assert n.status_code == 202 and n.content == b""
    return sid


def ping(api, sid, id_=1, headers=None):
    return post(api, msg("ping", id_), sid=sid, headers=headers)


def delete(api, sid, headers=None):
    h = {"Mcp-Session-Id": sid} if sid else {}
    h.update(headers or {})
    return api.request("DELETE", "/mcp", headers=h)


def _sock_of(resp):
    conn = getattr(resp.raw, "_connection", None)
    sock = getattr(conn, "sock", None)
    if sock is None:
        try:
            sock = resp.raw._fp.fp.raw._sock
        except AttributeError:
            sock = None
    return sock


class Stream:
    """GET /mcp (requests, stream=True): a thread parses the SSE into a queue."""

    def __init__(self, srv, sid, last_event_id=None, accept="text/event-stream", headers=None):
        h = {"Accept": accept}  # None: no Accept at all (requests would send */*)
        if sid is not None:
            h["Mcp-Session-Id"] = sid
        if last_event_id is not None:
            h["Last-Event-ID"] = str(last_event_id)
        h.update(headers or {})
        self.resp = requests.get(srv.base + "/mcp", headers=h, stream=True, timeout=(5 * SLOW, 60 * SLOW))
        self.status = self.resp.status_code
        self.headers = self.resp.headers
        self.lines = []
        self.frames = queue.Queue()
        self.ended = threading.Event()
        self.sock = _sock_of(self.resp)
        if self.status == 200:
            check_response("GET", "/mcp", 200, self.headers, b"")
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()
        else:
            self.doc = check_response("GET", "/mcp", self.status, self.headers, self.resp.content)
            self.ended.set()

    def _read(self):
        frame = {}
        try:
            for raw in self.resp.iter_lines(chunk_size=1):
                line = raw.decode("utf-8")
                self.lines.append(line)
                if line == "":
                    if frame:
                        self.frames.put(frame)
                    frame = {}
                elif line.startswith(":") or line.startswith("retry:"):
                    continue
                else:
                    k, _, v = line.partition(":")
                    assert k not in frame, (k, frame)
                    frame[k] = v[1:] if v.startswith(" ") else v
        except Exception:  # closed by close() or by the server
            pass
        finally:
            self.ended.set()
            self.frames.put(None)

    def next(self, timeout=5.0):
        """The next message as {"id": int, "data": parsed JSON}, or None (ended / timeout)."""
        try:
            f = self.frames.get(timeout=timeout)
        except queue.Empty:
            return None
        if f is None:
            self.frames.put(None)  # stays ended
            return None
        assert set(f) == {"id", "data"}, f
        assert re.fullmatch(r"[1-9][0-9]*", f["id"]), f
        data = json.loads(f["data"])
        SPEC.validate(data, SSE_DATA)
        return {"id": int(f["id"]), "data": data}

    def until(self, pred, timeout=5.0):
        """Messages up to and including the first one pred accepts."""
        got = []
        deadline = time.monotonic() + timeout * SLOW
        while True:
            m = self.next(max(0.0, deadline - time.monotonic()))
            assert m is not None, f"no such message within {timeout}s; got {got}"
            got.append(m)
            if pred(m["data"]):
                return got

    def wait_hello(self, timeout=3.0):
        deadline = time.monotonic() + timeout * SLOW
        while len(self.lines) < 2 and time.monotonic() < deadline and not self.ended.is_set():
            time.sleep(0.01)
        assert self.lines[:2] == ["retry: 2000", ""], self.lines[:5]

    def close(self):
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.resp.close()


def updated(uri):
    return lambda d: d["method"] == "notifications/resources/updated" and d["params"]["uri"] == uri


def metric(api, name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in api.get("/metrics").text.splitlines():
        if line.startswith(f"{name}{{{want}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def render(api, pid):
    """What prompts/get without arguments answers: POST .../prompt {} (defaults applied)."""
    r = api.post(f"/v1/profiles/{pid}/prompt", data="{}",
                 headers={"Content-Type": "application/json", "Accept": "text/markdown"})
    assert r.status_code == 200
    return r.text


def wait_until(pred, timeout=5.0, step=0.05):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


@pytest.fixture
def mcp(server):
    """An Api on the shared server and the sessions to end after the test."""
    a = server.api()
    made = []
    yield a, made
    for sid in made:
        delete(a, sid)
    a.close()


# ----------------------------------------------------------------- initialize
def test_initialize_issues_a_session(mcp):
    api, made = mcp
    r = post(api, msg("initialize", "init-1", {"protocolVersion": LATEST, "capabilities": {},
                                                "clientInfo": {"name": "pytest", "version": "1"}}))
    res = result_of(r, "init-1")
    sid = r.headers["Mcp-Session-Id"]
    made.append(sid)
    assert SID_RE.fullmatch(sid)
    assert res["protocolVersion"] == LATEST and res["serverInfo"]["name"] == "rosterd"
    assert res["capabilities"]["resources"] == {"subscribe": True, "listChanged": True}
    assert r.headers["Cache-Control"] == "no-store"
    # later answers do not repeat the header; the session answers
    p = ping(api, sid, 7)
    assert result_of(p, 7) == {} and "Mcp-Session-Id" not in p.headers
    # a second initialize on the session is a JSON-RPC error, and the session stays
    again = post(api, msg("initialize", 8, {"protocolVersion": LATEST}), sid=sid)
    assert_rpc_error(again, 200, -32600, 8)
    assert result_of(ping(api, sid, 9), 9) == {}
    # every initialize makes a new, different session
    other = initialize(api)
    made.append(other)
    assert other != sid


@pytest.mark.parametrize("asked, agreed", [(LATEST, LATEST), (OLDER, OLDER), ("2024-11-05", LATEST),
                                           ("1999-01-01", LATEST)])
def test_version_negotiation(mcp, asked, agreed):
    api, made = mcp
    r = post(api, msg("initialize", 1, {"protocolVersion": asked}))
    assert result_of(r, 1)["protocolVersion"] == agreed
    made.append(r.headers["Mcp-Session-Id"])


@pytest.mark.parametrize("params", [{}, {"protocolVersion": 2025}, None])
def test_failed_initialize_leaves_no_session(mcp, params):
    api, _ = mcp
    r = post(api, msg("initialize", 3, params))
    assert_rpc_error(r, 200, -32602, 3)


def test_initialize_without_jsonrpc_leaves_no_session(mcp):
    api, _ = mcp
    r = post(api, {"id": 4, "method": "initialize", "params": {"protocolVersion": LATEST}})
    assert_rpc_error(r, 200, -32600, 4)


def test_initialize_with_null_id_leaves_no_session(mcp):
    api, _ = mcp
    r = post(api, {"jsonrpc": "2.0", "id": None, "method": "initialize", "params": {"protocolVersion": LATEST}})
    assert_rpc_error(r, 200, -32600, None)


def test_initialize_as_notification_needs_a_session(mcp):
    api, _ = mcp
    assert_rpc_error(post(api, msg("initialize", None, {"protocolVersion": LATEST})), 400, -32600)


# ----------------------------------------------------------------- malformed input
@pytest.mark.parametrize("body, code", [
    (b"not json", -32700),
    (b'{"jsonrpc":"2.0","id":1,"method":"ping"', -32700),  # truncated
    (b'{"jsonrpc":"2.0","id":1,"method":"\xff\xfe"}', -32700),  # invalid UTF-8
    (b'{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}', -32700),  # duplicate keys
    (b"", -32700),  # empty body
    (b"   \n", -32700),
    (b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]', -32600),  # a batch
    (b"[]", -32600),
    (b"42", -32600),
    (b'"ping"', -32600),
    (b"null", -32600),
    (b"true", -32600),
])
@pytest.mark.parametrize("with_session", [False, True])
def test_malformed_body(mcp, body, code, with_session):
    api, made = mcp
    sid = None
    if with_session:
        sid = initialize(api)
        made.append(sid)
    # (the answer parses as JSON, so it is valid UTF-8 whatever the input was)
    assert_rpc_error(post(api, body, sid=sid), 400, code)
    if sid:  # the session survives
        assert result_of(ping(api, sid, 5), 5) == {}


@pytest.mark.parametrize("message, id_", [
    ({"id": 1, "method": "ping"}, 1),  # no jsonrpc
    ({"jsonrpc": "1.0", "id": 2, "method": "ping"}, 2),
    ({"jsonrpc": 2.0, "id": 3, "method": "ping"}, 3),
    ({"jsonrpc": "2.0", "id": 4}, 4),  # no method
    ({"jsonrpc": "2.0", "id": 5, "method": 7}, 5),
    ({"jsonrpc": "2.0", "id": 1.5, "method": "ping"}, None),
    ({"jsonrpc": "2.0", "id": [1], "method": "ping"}, None),
    ({"jsonrpc": "2.0", "id": None, "method": "ping"}, None),
])
def test_invalid_request_in_a_session(mcp, message, id_):
    """With a session, a message that is not a valid request is the request's
    own JSON-RPC error (200); the session survives."""
    api, made = mcp
    sid = initialize(api)
    made.append(sid)
    assert_rpc_error(post(api, message, sid=sid), 200, -32600, id_)
    assert result_of(ping(api, sid, 6), 6) == {}


def test_invalid_request_without_session(mcp):
    api, _ = mcp
    assert_rpc_error(post(api, {"id": 1, "method": "ping"}), 400, -32600)


def test_method_errors_are_answered_200(mcp):
    api, made = mcp
    sid = initialize(api)
    made.append(sid)
    assert_rpc_error(post(api, msg("tools/list", 1), sid=sid), 200, -32601, 1)
    assert_rpc_error(post(api, msg("prompts/get", 2, {"name": "nobody"}), sid=sid), 200, -32602, 2)
    assert_rpc_error(post(api, msg("prompts/list", 3, [1, 2]), sid=sid), 200, -32602, 3)
    d = assert_rpc_error(post(api, msg("resources/read", "r", {"uri": "roster://profiles/nobody"}), sid=sid),
                         200, -32002, "r")
    assert d["error"]["data"] == {"uri": "roster://profiles/nobody"}


@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded",
                                   "application/json; charset=latin1", "text/json"])
def test_content_type_415(server, ctype):
    headers = [("Content-Length", "2"), ("Accept", ACCEPT)] + ([("Content-Type", ctype)] if ctype else [])
    r = raw_request(server.port, "POST", "/mcp", headers=headers, body=b"{}")
    assert r.status_code == 415
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.json()["code"] == "unsupported_media_type"
    assert r.headers["Connection"] == "close"


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8", "Application/JSON"])
def test_content_types_accepted(mcp, ctype):
    api, made = mcp
    sid = initialize(api)
    made.append(sid)
    assert result_of(post(api, msg("ping", 1), sid=sid, ctype=ctype), 1) == {}


def test_query_parameter_is_a_problem(mcp):
    api, made = mcp
    sid = initialize(api)
    made.append(sid)
    h = {"Content-Type": "application/json", "Accept": ACCEPT, "Mcp-Session-Id": sid}
    r = api.request("POST", "/mcp?x=1", headers=h, data=json.dumps(msg("ping", 1)))
    assert r.status_code == 400 and r.json()["code"] == "unknown_parameter"


def test_body_on_delete_is_a_problem(server):
    r = raw_request(server.port, "DELETE", "/mcp", headers=[("Mcp-Session-Id", "0" * 32), ("Content-Length", "2"),
                                                            ("Content-Type", "application/json")], body=b"{}")
    assert r.status_code == 400 and r.json()["code"] == "body_not_allowed"


# ----------------------------------------------------------------- size
def chunked(data, size=65536):
    out = b""
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def padded(message, size):
    body = json.dumps(message).encode()
    return body + b" " * (size - len(body))


def test_oversized_by_content_length(server):
    """A Content-Length over 1 MiB is refused before the body is read (and
    before the Origin, token and session checks)."""
    r = raw_request(server.port, "POST", "/mcp",
                    headers=[("Content-Type", "application/json"), ("Accept", ACCEPT),
                             ("Content-Length", str(BODY_MAX + 1)), ("Origin", "http://evil.example")])
    assert r.status_code == 413
    assert r.json()["code"] == "body_too_large" and r.headers["Connection"] == "close"


def test_oversized_chunked(mcp, server):
    api, made = mcp
    sid = initialize(api)
    made.append(sid)
    h = [("Content-Type", "application/json"), ("Accept", ACCEPT), ("Mcp-Session-Id", sid),
         ("Transfer-Encoding", "chunked")]
    r = raw_request(server.port, "POST", "/mcp", headers=h, body=chunked(padded(msg("ping", 1), BODY_MAX + 1)))
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    # exactly 1 MiB is a message (white space is JSON padding), chunked or not
    r = raw_request(server.port, "POST", "/mcp", headers=h, body=chunked(padded(msg("ping", 2), BODY_MAX)))
    assert r.status_code == 200 and r.json() == {"jsonrpc": "2.0", "id": 2, "result": {}}
    r = post(api, padded(msg("ping", 3), BODY_MAX), sid=sid)
    assert result_of(r, 3) == {}


# ----------------------------------------------------------------- sessions
def test_missing_session(mcp):
    api, _ = mcp
    for m in (msg("ping", 1), msg("prompts/list", 2), msg("notifications/initialized")):
        assert_rpc_error(post(api, m), 400, -32600)
    assert_rpc_error(post(api, msg("ping", 3), headers={"Mcp-Session-Id": ""}), 400, -32600)
    assert_rpc_error(delete(api, None), 400, -32600)


@pytest.mark.parametrize("sid", ["0" * 32, "f" * 32, "0" * 31, "0" * 33, "not-a-session", "Z" * 32])
def test_unknown_session(mcp, sid):
    api, _ = mcp
    assert_rpc_error(ping(api, sid), 404, -32001)
    assert_rpc_error(post(api, msg("notifications/initialized"), sid=sid), 404, -32001)
    assert_rpc_error(delete(api, sid), 404, -32001)
    # initialize with an unknown session is not a new one
    assert_rpc_error(post(api, msg("initialize", 1, {"protocolVersion": LATEST}), sid=sid), 404, -32001)


def test_unknown_session_stream(server):
    s = Stream(server, "0" * 32)
    assert s.status == 404 and s.doc["error"]["code"] == -32001


def test_session_ids_are_not_shared_by_case(mcp):
    api, made = mcp
    sid = initialize(api)
    made.append(sid)
    assert_rpc_error(ping(api, sid.upper()), 404, -32001)


def test_delete_ends_the_session(mcp, server):
    api, made = mcp
    sid = initialize(api)
    r = delete(api, sid)
    assert r.status_code == 204 and r.content == b""
    assert r.headers["Cache-Control"] == "no-store"
    assert_rpc_error(ping(api, sid), 404, -32001)
    assert_rpc_error(delete(api, sid), 404, -32001)
    s = Stream(server, sid)
    assert s.status == 404
    # other sessions are not affected
    other = initialize(api)
    made.append(other)
    assert result_of(ping(api, other, 2), 2) == {}


@pytest.mark.parametrize("message", [
    msg("notifications/initialized"),
    msg("notifications/cancelled", params={"requestId": 1, "reason": "x"}),
    msg("notifications/roots/list_changed"),
    msg("notifications/unknown-to-rosterd"),
    {"jsonrpc": "2.0", "id": 99, "result": {}},  # a client's response
    {"jsonrpc": "2.0", "id": "x", "error": {"code": -32601, "message": "no"}},
])
def test_notifications_and_responses_get_202(mcp, message):
    api, made = mcp
    sid = initialize(api)
    made.append(sid)
    r = post(api, message, sid=sid)
    assert r.status_code == 202 and r.content == b""
    assert "Content-Type" not in r.headers and r.headers["Cache-Control"] == "no-store"


# ----------------------------------------------------------------- MCP-Protocol-Version
@pytest.mark.parametrize("version", ["2024-11-05", "2025-03-26", "latest", "", "2025-11-25x"])
def test_unsupported_protocol_version(mcp, server, version):
    api, made = mcp
    sid = initialize(api)
    made.append(sid)
    h = {"MCP-Protocol-Version": version}
    assert_rpc_error(post(api, msg("initialize", 1, {"protocolVersion": LATEST}), headers=h), 400, -32600)
    assert_rpc_error(ping(api, sid, headers=h), 400, -32600)
    # checked before the session: an unknown session with a bad version is 400, not 404
    assert_rpc_error(ping(api, "0" * 32, headers=h), 400, -32600)
    assert_rpc_error(delete(api, sid, headers=h), 400, -32600)
    s = Stream(server, sid, headers=h)
    assert s.status == 400
    assert result_of(ping(api, sid, 2), 2) == {}  # the session is still there


def test_protocol_version_must_match_the_session(mcp, server):
    api, made = mcp
    old = initialize(api, OLDER)
    new = initialize(api, LATEST)
    made += [old, new]
    assert result_of(ping(api, old, 1, headers={"MCP-Protocol-Version": OLDER}), 1) == {}
    assert result_of(ping(api, new, 2, headers={"MCP-Protocol-Version": LATEST}), 2) == {}
    d = assert_rpc_error(ping(api, old, 3, headers={"MCP-Protocol-Version": LATEST}), 400, -32600)
    assert OLDER in d["error"]["message"]
    assert_rpc_error(ping(api, new, 4, headers={"MCP-Protocol-Version": OLDER}), 400, -32600)
    assert Stream(server, old, headers={"MCP-Protocol-Version": LATEST}).status == 400
    assert_rpc_error(delete(api, new, headers={"MCP-Protocol-Version": OLDER}), 400, -32600)
    # without the header the negotiated version applies
    assert result_of(ping(api, old, 5), 5) == {}
    # the version header at initialize does not have to match the body's version
    r = post(api, msg("initialize", 6, {"protocolVersion": OLDER}), headers={"MCP-Protocol-Version": LATEST})
    assert result_of(r, 6)["protocolVersion"] == OLDER
    made.append(r.headers["Mcp-Session-Id"])


# ----------------------------------------------------------------- Accept
@pytest.mark.parametrize("accept, status", [
    (None, 200), ("*/*", 200), ("application/json", 200), ("application/*", 200), (ACCEPT, 200),
    ("text/event-stream", 406), ("text/html", 406), ("application/json;q=0, text/event-stream", 406),
])
def test_post_accept(mcp, accept, status):
    api, made = mcp
    sid = initialize(api)
    made.append(sid)
    r = api.request("POST", "/mcp", data=json.dumps(msg("ping", 1)),
                    headers={"Content-Type": "application/json", "Mcp-Session-Id": sid, "Accept": accept})
    if status == 200:
        assert result_of(r, 1) == {}
    else:
        assert_rpc_error(r, 406, -32600)


@pytest.mark.parametrize("accept", [None, "application/json", "text/html", "text/event-stream;q=0"])
def test_stream_accept_406(mcp, server, accept):
    api, made = mcp
    sid = initialize(api)
    made.append(sid)
    s = Stream(server, sid, accept=accept)
    assert s.status == 406 and s.doc["error"]["code"] == -32600 and s.doc["id"] is None


# ----------------------------------------------------------------- methods
@pytest.mark.parametrize("method", ["HEAD", "PUT", "PATCH"])
def test_other_methods_405(api, method):
    r = api.request(method, "/mcp")
    assert r.status_code == 405 and r.headers["Allow"] == ALLOW
    if method != "HEAD":
        assert r.json()["allow"] == ALLOW


def test_options(api):
    r = api.options("/mcp", headers={"Origin": "http://evil.example"})  # not gated
    assert r.status_code == 204 and r.headers["Allow"] == ALLOW


# ----------------------------------------------------------------- Origin
@pytest.mark.parametrize("origin", ["http://localhost", "http://localhost:6274", "https://127.0.0.1",
                                    "http://127.0.0.1:8080", "http://[::1]:3000", "http://LOCALHOST:1"])
def test_local_origin_on_loopback(mcp, origin):
    api, made = mcp
    h = {"Origin": origin}
    sid = initialize(api, headers=h)
    made.append(sid)
    assert result_of(ping(api, sid, 2, headers=h), 2) == {}
    assert delete(api, sid, headers=h).status_code == 204
    made.remove(sid)


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost.evil.example", "http://localhost:",
                                    "http://localhost:80x", "http://127.0.0.1.nip.io", "null", "file://",
                                    "ftp://localhost", "http://localhost/path", "https://[::1]x"])
def test_foreign_origin_403(mcp, server, origin):
    api, made = mcp
    sid = initialize(api)
    made.append(sid)
    h = {"Origin": origin}
    assert_rpc_error(post(api, msg("initialize", 1, {"protocolVersion": LATEST}), headers=h), 403, -32600)
    assert_rpc_error(ping(api, sid, headers=h), 403, -32600)
    assert_rpc_error(ping(api, "0" * 32, headers=h), 403, -32600)  # before the session
    assert_rpc_error(delete(api, sid, headers=h), 403, -32600)
    s = Stream(server, sid, headers=h)
    assert s.status == 403
    assert result_of(ping(api, sid, 2), 2) == {}  # not deleted


def test_allowed_origins(spawn):
    srv = spawn(args=["--mcp-allowed-origins", "https://app.example,http://tool.example:8080"])
    api = srv.api()
    for origin in ("https://app.example", "http://tool.example:8080", "http://localhost:6274"):
        sid = initialize(api, headers={"Origin": origin})
        assert delete(api, sid, headers={"Origin": origin}).status_code == 204
    for origin in ("https://app.example:443", "http://app.example", "https://evil.example", "http://tool.example"):
        r = post(api, msg("initialize", 1, {"protocolVersion": LATEST}), headers={"Origin": origin})
        assert_rpc_error(r, 403, -32600)


def test_browser_client_with_cors(spawn):
    """A page of an allowed origin (CORS and /mcp) can read the session id."""
    origin = "https://app.example"
    srv = spawn(args=["--cors-origins", origin, "--mcp-allowed-origins", origin])
    api = srv.api()
    r = api.options("/mcp", headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                     "Access-Control-Request-Headers": "content-type, mcp-session-id"})
    assert r.status_code == 204 and r.headers["Access-Control-Allow-Origin"] == origin
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "mcp-session-id", "mcp-protocol-version", "last-event-id", "authorization"} <= allowed
    r = post(api, msg("initialize", 1, {"protocolVersion": LATEST}), headers={"Origin": origin})
    assert result_of(r, 1) and r.headers["Access-Control-Allow-Origin"] == origin
    assert "Mcp-Session-Id" in {h.strip() for h in r.headers["Access-Control-Expose-Headers"].split(",")}
    sid = r.headers["Mcp-Session-Id"]
    assert delete(api, sid, headers={"Origin": origin}).status_code == 204


# ----------------------------------------------------------------- bearer token
TOKEN = "mcp-test-token-0123456789abcdef"


@pytest.mark.parametrize("how", ["file", "env"])
def test_bearer_token(spawn, tmp_path, how):
    if how == "file":
        f = tmp_path / "mcp-token"
        f.write_text(TOKEN + "\n")
        f.chmod(0o600)
        srv = spawn(args=["--mcp-token-file", str(f)])
    else:
        srv = spawn(env={"ROSTER_MCP_TOKEN": TOKEN})
    api = srv.api()
    good = {"Authorization": "Bearer " + TOKEN}
    for bad in ({}, {"Authorization": "Bearer " + TOKEN[:-1]}, {"Authorization": "Bearer " + TOKEN + "x"},
                {"Authorization": "Basic " + TOKEN}, {"Authorization": TOKEN}, {"Authorization": "Bearer"},
                {"Authorization": "Bearer " + TOKEN.upper()}):
        r = post(api, msg("initialize", 1, {"protocolVersion": LATEST}), headers=bad)
        assert_rpc_error(r, 401, -32600)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    sid = initialize(api, headers=good)
    assert result_of(ping(api, sid, 2, headers={"Authorization": "bearer " + TOKEN}), 2) == {}
    assert_rpc_error(ping(api, sid, 3), 401, -32600)
    s = Stream(srv, sid)
    assert s.status == 401 and "WWW-Authenticate" in s.headers
    s = Stream(srv, sid, headers=good)
    assert s.status == 200
    s.wait_hello()
    assert_rpc_error(delete(api, sid), 401, -32600)
    # Origin is checked first: a foreign page with the token is still 403
    assert_rpc_error(ping(api, sid, 4, headers=dict(good, Origin="http://evil.example")), 403, -32600)
    assert delete(api, sid, headers=good).status_code == 204
    assert s.ended.wait(5 * SLOW), "DELETE did not end the session's stream"
    s.close()
    # the rest of the API does not need it
    assert api.get("/health").status_code == 200


def test_short_token_is_refused(rosterd, tmp_path):
    """A token under 16 characters is a usage error: the server does not start."""
    r = subprocess.run([str(rosterd), "serve", "--listen", "127.0.0.1:0", "--profiles", str(tmp_path)],
                       env=clean_env({"ROSTER_MCP_TOKEN": "short"}), stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=10 * SLOW)
    assert r.returncode == 2 and b"at least 16 characters" in r.stderr


# ----------------------------------------------------------------- concurrency
THREADS = 16
ROUNDS = 20


class SessionWorker(threading.Thread):
    """One client: its own session, connection and ids; answers are kept for
    validation in the main thread (the spec's resolver is not thread-safe)."""

    def __init__(self, base, n, pids):
        super().__init__(daemon=True)
        self.base, self.n, self.pids = base, n, pids
        self.answers = []  # (request id, status, headers, body)
        self.error = None
        self.sid = None

    def call(self, s, message):
        r = s.post(self.base + "/mcp", data=json.dumps(message), timeout=10 * SLOW,
                   headers={"Content-Type": "application/json", "Accept": ACCEPT,
                            **({"Mcp-Session-Id": self.sid} if self.sid else {})})
        self.answers.append((message.get("id"), r.status_code, r.headers, r.content))
        return r

    def run(self):
        try:
            with requests.Session() as s:
                r = self.call(s, msg("initialize", f"w{self.n}-init", {"protocolVersion": LATEST}))
                self.sid = r.headers["Mcp-Session-Id"]
                for i in range(ROUNDS):
                    pid = self.pids[(self.n + i) % len(self.pids)]
                    self.call(s, msg("prompts/list", f"w{self.n}-{i}-list", {}))
                    self.call(s, msg("prompts/get", f"w{self.n}-{i}-get:{pid}", {"name": pid}))
                    self.call(s, msg("resources/read", self.n * 1000 + i, {"uri": f"roster://profiles/{pid}"}))
        except Exception as e:  # reported by the test
            self.error = repr(e)


def test_concurrent_sessions(spawn):
    srv = spawn()
    api = srv.api()
    pids = ["base", "worker-devops", "worker-sre", "fx-leaf", "fx-list-parent", "fx-minimal"]
    rendered = {pid: render(api, pid) for pid in pids}
    before = metric(api, "roster_http_requests_total", route="mcp", method="POST", status="200")
    workers = [SessionWorker(srv.base, n, pids) for n in range(THREADS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60 * SLOW)
    assert not any(w.is_alive() for w in workers), "a worker did not finish in 60 s"
    assert not [w.error for w in workers if w.error], [w.error for w in workers if w.error]
    sids = [w.sid for w in workers]
    assert len(set(sids)) == THREADS and all(SID_RE.fullmatch(s) for s in sids)
    for w in workers:
        assert len(w.answers) == 1 + 3 * ROUNDS
        for id_, status, headers, body in w.answers:
            doc = check_response("POST", "/mcp", status, headers, body)
            assert status == 200 and doc["id"] == id_ and "result" in doc, (w.n, id_, doc)
            res = doc["result"]
            if isinstance(id_, int):  # resources/read of one profile
                pid = pids[(w.n + id_ % 1000) % len(pids)]
                assert res["contents"][0]["uri"] == f"roster://profiles/{pid}"
                assert json.loads(res["contents"][0]["text"])["id"] == pid
            elif id_.endswith("-list"):
                assert set(pids) <= {p["name"] for p in res["prompts"]}
            elif ":" in id_:
                pid = id_.split(":", 1)[1]
                assert res["messages"][0]["content"]["text"] == rendered[pid], id_
    after = metric(api, "roster_http_requests_total", route="mcp", method="POST", status="200")
    assert after - before == THREADS * (1 + 3 * ROUNDS)
    for sid in sids:
        assert delete(api, sid).status_code == 204
    for sid in sids:
        assert_rpc_error(ping(api, sid), 404, -32001)
    assert metric(api, "roster_http_requests_total", route="mcp", method="DELETE", status="204") == THREADS
    assert result_of(ping(api, initialize(api), 1), 1) == {}


def test_one_session_from_many_threads(spawn):
    """Requests of one session from several connections at once are serialized
    by the server: every answer belongs to its request."""
    srv = spawn()
    api = srv.api()
    sid = initialize(api)
    out, errors = [], []

    def work(n):
        try:
            with requests.Session() as s:
                for i in range(25):
                    id_ = f"t{n}-{i}"
                    r = s.post(srv.base + "/mcp", data=json.dumps(msg("prompts/get", id_, {"name": "worker-sre"})),
                               headers={"Content-Type": "application/json", "Accept": ACCEPT, "Mcp-Session-Id": sid},
                               timeout=10 * SLOW)
                    out.append((id_, r.status_code, r.headers, r.content))
        except Exception as e:
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60 * SLOW)
    assert not errors and len(out) == 200
    want = render(api, "worker-sre")
    for id_, status, headers, body in out:
        doc = check_response("POST", "/mcp", status, headers, body)
        # 429 (16 in flight) is allowed by the contract; with 8 clients it never happens
        assert status == 200 and doc["id"] == id_, (id_, status, doc)
        assert doc["result"]["messages"][0]["content"]["text"] == want


# ----------------------------------------------------------------- limits
def test_session_cap_evicts_the_least_recently_used(spawn):
    srv = spawn(args=["--mcp-max-sessions", "2"])
    api = srv.api()
    a = initialize(api)
    b = initialize(api)
    assert result_of(ping(api, a, 1), 1) == {}  # a is now the more recent one
    c = initialize(api)  # evicts b
    assert_rpc_error(ping(api, b, 2), 404, -32001)
    assert result_of(ping(api, a, 3), 3) == {}
    assert result_of(ping(api, c, 4), 4) == {}
    # with a stream open on both, nothing can be evicted
    sa, sc = Stream(srv, a), Stream(srv, c)
    assert sa.status == 200 and sc.status == 200
    sa.wait_hello()
    sc.wait_hello()
    r = post(api, msg("initialize", 5, {"protocolVersion": LATEST}))
    assert_rpc_error(r, 503, -32603)
    assert r.headers["Retry-After"] == "1"
    assert result_of(ping(api, a, 6), 6) == {} and result_of(ping(api, c, 7), 7) == {}
    # a client that hangs up frees its session for eviction (the server notices)
    sa.close()
    deadline = time.monotonic() + 5 * SLOW
    while True:
        r = post(api, msg("initialize", 8, {"protocolVersion": LATEST}))
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        assert_rpc_error(r, 503, -32603)
        time.sleep(0.1)
    d = result_of(r, 8)
    assert d["protocolVersion"] == LATEST
    assert_rpc_error(ping(api, a, 9), 404, -32001)
    assert result_of(ping(api, c, 10), 10) == {}
    # DELETE frees a place too
    new = r.headers["Mcp-Session-Id"]
    assert delete(api, new).status_code == 204
    assert delete(api, c).status_code == 204
    assert sc.ended.wait(5 * SLOW)
    sc.close()
    x, y = initialize(api), initialize(api)
    assert x != y


def test_failed_initialize_evicts_nobody(spawn):
    srv = spawn(args=["--mcp-max-sessions", "1"])
    api = srv.api()
    a = initialize(api)
    assert_rpc_error(post(api, msg("initialize", 1, {})), 200, -32602, 1)
    assert result_of(ping(api, a, 2), 2) == {}


def test_open_streams_are_bounded(spawn):
    """At most a quarter of --max-connections streams: then 503 and the
    connection closes; a session replacing its own stream is not refused."""
    srv = spawn(args=["--max-connections", "8"])
    api = srv.api()
    a, b, c = initialize(api), initialize(api), initialize(api)
    sa, sb = Stream(srv, a), Stream(srv, b)
    assert sa.status == 200 and sb.status == 200
    sc = Stream(srv, c)
    assert sc.status == 503 and sc.doc["error"]["code"] == -32603
    assert sc.headers["Retry-After"] == "1" and sc.headers["Connection"] == "close"
    sa2 = Stream(srv, a)
    assert sa2.status == 200 and sa.ended.wait(5 * SLOW)
    sa2.wait_hello()
    for st in (sa, sa2, sb):
        st.close()


def test_idle_sessions_expire(spawn):
    srv = spawn(args=["--mcp-session-timeout", "1"])
    api = srv.api()
    idle = initialize(api)
    busy = initialize(api)
    streaming = initialize(api)
    s = Stream(srv, streaming)
    s.wait_hello()
    t0 = time.monotonic()
    while time.monotonic() - t0 < 2.5:
        assert result_of(ping(api, busy, 1), 1) == {}  # in use: it stays
        time.sleep(0.4)
    assert_rpc_error(ping(api, idle, 2), 404, -32001)
    assert result_of(ping(api, busy, 3), 3) == {}
    assert result_of(ping(api, streaming, 4), 4) == {}  # a session with a stream does not expire
    assert not s.ended.is_set()
    s.close()


def test_mcp_off(spawn):
    srv = spawn(args=["--mcp-max-sessions", "0"])
    api = srv.api()
    r = post(api, msg("initialize", 1, {"protocolVersion": LATEST}))
    assert r.status_code == 404 and r.json()["code"] == "route_not_found"
    for method in ("GET", "DELETE", "OPTIONS"):
        r = api.request(method, "/mcp", headers={"Mcp-Session-Id": "0" * 32, "Accept": "text/event-stream"})
        assert r.status_code == 404 and r.json()["code"] == "route_not_found", method
    assert api.get("/health").status_code == 200


# ----------------------------------------------------------------- the stream
@pytest.fixture
def watched(spawn):
    return spawn(args=["--debounce-ms", "50"])


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def append(path, more):
    path.write_text(path.read_text() + more)


def test_stream_hello_and_headers(watched):
    api = watched.api()
    sid = initialize(api)
    s = Stream(watched, sid)
    assert s.status == 200
    assert s.headers["Content-Type"] == "text/event-stream"
    assert s.headers["Mcp-Session-Id"] == sid
    assert s.headers["Cache-Control"] == "no-store" and s.headers["X-Accel-Buffering"] == "no"
    s.wait_hello()
    assert s.next(0.3) is None  # nothing else until there is something to say
    assert delete(api, sid).status_code == 204
    assert s.ended.wait(5 * SLOW), "DELETE did not end the stream"
    s.close()


def test_subscription_gets_updated_after_an_edit(watched):
    api = watched.api()
    sid = initialize(api)
    uri = "roster://profiles/fx-leaf/prompt"
    assert result_of(post(api, msg("resources/subscribe", 1, {"uri": uri}), sid=sid), 1) == {}
    full = "roster://profiles/worker-sre"
    assert result_of(post(api, msg("resources/subscribe", 2, {"uri": full}), sid=sid), 2) == {}
    other = initialize(api)  # not subscribed: gets no updated
    s, so = Stream(watched, sid), Stream(watched, other)
    s.wait_hello()
    so.wait_hello()
    before = result_of(post(api, msg("resources/read", 3, {"uri": uri}), sid=sid), 3)["contents"][0]["text"]
    edit(watched.profiles / "fx-leaf.md", "You are the leaf fixture.", "You are the edited leaf fixture.")
    got = s.until(updated(uri), timeout=10 * SLOW)
    assert got[0]["id"] == 1 and [m["id"] for m in got] == list(range(1, len(got) + 1))
    assert not any(updated(full)(m["data"]) for m in got), "worker-sre did not change"
    after = result_of(post(api, msg("resources/read", 4, {"uri": uri}), sid=sid), 4)["contents"][0]["text"]
    assert before != after and "edited leaf" in after
    # an edit keeps the set of profiles: no list_changed, and nothing for the other session
    assert not any(m["data"]["method"].endswith("list_changed") for m in got)
    time.sleep(0.3)
    assert so.next(0.2) is None
    # unsubscribed: the next edit is not announced
    assert result_of(post(api, msg("resources/unsubscribe", 5, {"uri": uri}), sid=sid), 5) == {}
    edit(watched.profiles / "fx-leaf.md", "edited leaf", "twice edited leaf")
    edit(watched.profiles / "worker-sre.md", "# ", "# Edited: ")  # the one still subscribed
    got = s.until(updated(full), timeout=10 * SLOW)
    assert not any(updated(uri)(m["data"]) for m in got)
    for st in (s, so):
        st.close()


def test_last_event_id_resumes_and_a_second_get_ends_the_first(watched):
    api = watched.api()
    sid = initialize(api)
    uris = [f"roster://profiles/{p}" for p in ("fx-leaf", "fx-minimal", "fx-list-parent")]
    for i, uri in enumerate(uris):
        assert result_of(post(api, msg("resources/subscribe", i, {"uri": uri}), sid=sid), i) == {}
    first = Stream(watched, sid)
    first.wait_hello()
    edit(watched.profiles / "fx-leaf.md", "You are the leaf fixture.", "You are the leaf fixture, edited.")
    first.until(updated(uris[0]), timeout=10 * SLOW)
    append(watched.profiles / "fx-minimal.md", "\nEdited.\n")
    last = first.until(updated(uris[1]), timeout=10)[-1]["id"]
    assert last >= 2
    # a second GET on the session ends the first and, from Last-Event-ID, replays what followed it
    second = Stream(watched, sid, last_event_id=1)
    assert first.ended.wait(5 * SLOW), "the second GET did not end the first stream"
    first.close()
    second.wait_hello()
    replay = [second.next(3 * SLOW) for _ in range(last - 1)]
    assert [m["id"] for m in replay] == list(range(2, last + 1))
    assert replay[-1]["data"]["params"]["uri"] == uris[1]
    assert second.next(0.3) is None
    # Last-Event-ID 0: everything still kept; without it: nothing already sent
    third = Stream(watched, sid, last_event_id=0)
    assert second.ended.wait(5 * SLOW)
    second.close()
    third.wait_hello()
    assert [third.next(3 * SLOW)["id"] for _ in range(last)] == list(range(1, last + 1))
    fourth = Stream(watched, sid)
    assert third.ended.wait(5 * SLOW)
    third.close()
    fourth.wait_hello()
    assert fourth.next(0.5) is None
    # an id the session never sent counts as none; new messages still come, numbered on
    fifth = Stream(watched, sid, last_event_id=10 ** 12)
    assert fourth.ended.wait(5 * SLOW)
    fourth.close()
    fifth.wait_hello()
    assert fifth.next(0.3) is None
    append(watched.profiles / "fx-list-parent.md", "\nMore text.\n")
    m = fifth.until(updated(uris[2]), timeout=10)[-1]
    assert m["id"] > last
    fifth.close()


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "0x10", "1 2", "9" * 21, "18446744073709551616"])
def test_bad_last_event_id(watched, value):
    api = watched.api()
    sid = initialize(api)
    s = Stream(watched, sid, last_event_id=value)
    assert s.status == 400 and s.doc["error"]["code"] == -32600


def test_empty_last_event_id_is_none(watched):
    api = watched.api()
    sid = initialize(api)
    s = Stream(watched, sid, last_event_id="")
    assert s.status == 200
    s.wait_hello()
    s.close()


def test_removed_profile_changes_the_lists(watched):
    api = watched.api()
    sid = initialize(api)
    uri = "roster://profiles/fx-minimal"
    assert result_of(post(api, msg("resources/subscribe", 1, {"uri": uri}), sid=sid), 1) == {}
    s = Stream(watched, sid)
    s.wait_hello()
    (watched.profiles / "fx-minimal.md").unlink()
    methods = set()
    deadline = time.monotonic() + 10 * SLOW
    want = {"notifications/prompts/list_changed", "notifications/resources/list_changed"}
    while not want <= methods:
        m = s.next(max(0.0, deadline - time.monotonic()))
        assert m is not None, f"got only {methods}"
        methods.add(m["data"]["method"])
        if m["data"]["method"] == "notifications/resources/updated":
            assert m["data"]["params"]["uri"] == uri  # the subscribed resource disappeared
    names = {p["name"] for p in result_of(post(api, msg("prompts/list", 2), sid=sid), 2)["prompts"]}
    assert "fx-minimal" not in names and "fx-leaf" in names
    assert_rpc_error(post(api, msg("resources/read", 3, {"uri": uri}), sid=sid), 200, -32002, 3)
    s.close()


def test_log_messages_follow_the_level(watched):
    """notifications/message after a reload: at info for a session that asked
    for info, nothing for one at the default level (warning)."""
    api = watched.api()
    sid = initialize(api)
    quiet = initialize(api)
    assert result_of(post(api, msg("logging/setLevel", 1, {"level": "info"}), sid=sid), 1) == {}
    s, sq = Stream(watched, sid), Stream(watched, quiet)
    s.wait_hello()
    sq.wait_hello()
    edit(watched.profiles / "fx-leaf.md", "You are the leaf fixture.", "You are the leaf, logged.")
    got = s.until(lambda d: d["method"] == "notifications/message", timeout=10 * SLOW)
    data = got[-1]["data"]["params"]
    assert data["level"] == "info" and data["logger"] == "rosterd"
    assert data["data"]["event"] == "reload" and data["data"]["changed"] >= 1
    assert {"generation", "added", "changed", "removed"} <= set(data["data"])
    assert sq.next(0.5) is None
    for st in (s, sq):
        st.close()


def test_more_messages_than_the_ring_keeps(watched):
    """More messages than a session keeps (64) while no stream is open: a
    later stream gets the newest 64, in order, numbered on; so does a
    Last-Event-ID older than them."""
    api = watched.api()
    sid = initialize(api)
    uris = [f"roster://profiles/{p}{v}" for p in ("base", "worker-devops", "worker-sre", "fx-leaf", "fx-list-parent")
            for v in ["", "/prompt"] + [f"/{view}" for view in VIEWS]]
    for i, uri in enumerate(uris):
        assert result_of(post(api, msg("resources/subscribe", i, {"uri": uri}), sid=sid), i) == {}
    gen = api.get("/ready").json()["generation"]
    for i in range(2):  # every resource of base's descendants changes, twice: 110 messages
        append(watched.profiles / "base.md", f"\nEdit {i}.\n")
        assert wait_until(lambda: api.get("/ready").json()["generation"] > gen, 5)
        gen = api.get("/ready").json()["generation"]
    for last in (None, 1):
        s = Stream(watched, sid, last_event_id=last)
        s.wait_hello()
        got = []
        while True:
            m = s.next(0.5 * SLOW)
            if m is None:
                break
            got.append(m)
        ids = [m["id"] for m in got]
        assert len(ids) == 64 and ids == list(range(ids[0], ids[0] + 64)), ids
        assert ids[-1] == 2 * len(uris), ids[-1]
        assert all(m["data"]["method"] == "notifications/resources/updated" for m in got)
        assert {m["data"]["params"]["uri"] for m in got} == set(uris)  # the second round is complete
        s.close()
        assert s.ended.wait(5 * SLOW)


def test_shutdown_ends_open_streams(watched):
    api = watched.api()
    sid = initialize(api)
    s = Stream(watched, sid)
    s.wait_hello()
    api.close()
    t0 = time.monotonic()
    watched.signal(signal.SIGTERM)
    assert s.ended.wait(3 * SLOW), "the stream was not ended by the shutdown"
    s.close()
    assert watched.proc.wait(5 * SLOW) == 0
    assert time.monotonic() - t0 < 5 * SLOW


def test_draining_refuses_new_streams(spawn):
    """While draining (--drain-delay) requests are answered but no stream opens."""
    srv = spawn(args=["--drain-delay", "2"])
    api = srv.api()
    sid = initialize(api)
    srv.signal(signal.SIGTERM)
    assert wait_until(lambda: api.get("/ready").status_code == 503, 2)
    s = Stream(srv, sid)
    assert s.status == 503 and s.headers["Retry-After"] == "1" and s.doc["error"]["code"] == -32603
    assert result_of(ping(api, sid, 1), 1) == {}
    api.close()
    assert srv.proc.wait(10 * SLOW) == 0


def test_shutdown_with_a_stream_the_client_keeps_open(watched):
    """The client never closes its side: the server still exits in bounded time."""
    api = watched.api()
    sid = initialize(api)
    s = Stream(watched, sid)
    s.wait_hello()
    api.close()
    t0 = time.monotonic()
    watched.signal(signal.SIGTERM)
    rc = watched.proc.wait(15 * SLOW)
    assert rc == 0 and time.monotonic() - t0 < 12 * SLOW
    s.close()
