"""Black-box tests of `rosterd mcp` (the MCP stdio transport): a real rosterd
over pipes, newline-delimited JSON-RPC, against a scratch copy of
tests/fixtures/templates. Every method, paging, errors, malformed and
oversized input, reload notifications. The official SDK client is in
tests/mcp/sdk (run.sh).

Run: /usr/bin/python3 -m pytest -q tests/mcp   (ROSTERD overrides the binary)
"""
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
TEMPLATES = REPO / "tests" / "fixtures" / "templates"
ROSTERD = Path(os.environ.get("ROSTERD", str(REPO / "build" / "service" / "rosterd")))
if not ROSTERD.is_absolute():
    ROSTERD = (REPO / ROSTERD).resolve()
WRAPPER = os.environ.get("ROSTERD_WRAPPER", "").split()
SLOW = 20 if WRAPPER else 1
LATEST = "2025-11-25"


class Mcp:
    """One `rosterd mcp` process; send() a message, recv() the next line."""

    def __init__(self, profiles, *args):
        self.err = open(Path(profiles).parent / "stderr.log", "wb")
        self.p = subprocess.Popen(
            WRAPPER + [str(ROSTERD), "mcp", "--profiles", str(profiles), *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err)
        self.buf = b""
        self.next_id = 100
        self.notes = []

    def write(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, msg):
        self.write(json.dumps(msg).encode() + b"\n")

    def line(self, timeout=5.0):
        deadline = time.monotonic() + timeout * SLOW
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no line from rosterd mcp")
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 1 << 20)
                if not chunk:
                    raise EOFError("rosterd mcp closed stdout")
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def recv(self, timeout=5.0):
        return json.loads(self.line(timeout))

    def call(self, method, params=None):
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        r = self.recv()
        while "method" in r and "id" not in r:  # a notification sent meanwhile
            self.notes.append(r)
            r = self.recv()
        assert r["id"] == self.next_id, r
        return r

    def result(self, method, params=None):
        r = self.call(method, params)
        assert "result" in r, r
        return r["result"]

    def error(self, method, params=None):
        r = self.call(method, params)
        assert "error" in r, r
        return r["error"]

    def initialize(self, version=LATEST):
        r = self.result("initialize", {"protocolVersion": version, "capabilities": {},
                                       "clientInfo": {"name": "pytest", "version": "1"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return r

    def close(self, timeout=10):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.p.wait(timeout * SLOW)
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()
            self.err.close()
        return rc


@pytest.fixture
def profiles(tmp_path):
    d = tmp_path / "profiles"
    shutil.copytree(TEMPLATES, d)
    return d


@pytest.fixture
def mcp(profiles):
    m = Mcp(profiles)
    yield m
    assert m.close() == 0, (Path(profiles).parent / "stderr.log").read_text()[-4000:]


@pytest.fixture
def ready(mcp):
    mcp.initialize()
    return mcp


def served_ids(profiles):
    out = subprocess.run([str(ROSTERD), "check", "--profiles", str(profiles), "--format", "json"],
                         capture_output=True)
    return out


# ------------------------------------------------------------- lifecycle
def test_initialize_answers_the_latest_revision(mcp):
    r = mcp.initialize()
    assert r["protocolVersion"] == LATEST
    assert r["serverInfo"]["name"] == "rosterd" and r["serverInfo"]["version"]
    caps = r["capabilities"]
    assert caps["prompts"] == {"listChanged": True}
    assert caps["resources"] == {"subscribe": True, "listChanged": True}
    assert "completions" in caps and "logging" in caps


def test_initialize_accepts_2025_06_18(mcp):
    assert mcp.initialize("2025-06-18")["protocolVersion"] == "2025-06-18"


def test_initialize_answers_latest_for_an_unknown_version(mcp):
    assert mcp.initialize("1999-01-01")["protocolVersion"] == LATEST


def test_initialize_needs_a_protocol_version(mcp):
    assert mcp.error("initialize", {"capabilities": {}})["code"] == -32602


def test_requests_before_initialize_fail_but_ping_works(mcp):
    assert mcp.error("prompts/list")["code"] == -32600
    assert mcp.result("ping") == {}
    mcp.initialize()
    assert "prompts" in mcp.result("prompts/list")


def test_second_initialize_fails(ready):
    e = ready.error("initialize", {"protocolVersion": LATEST, "capabilities": {},
                                   "clientInfo": {"name": "x", "version": "1"}})
    assert e["code"] == -32600


def test_eof_exits_zero_and_answers_a_last_line_without_newline(profiles):
    m = Mcp(profiles)
    m.write(b'{"jsonrpc":"2.0","id":1,"method":"ping"}')
    m.p.stdin.close()
    assert json.loads(m.line()) == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert m.p.wait(10 * SLOW) == 0
    m.err.close()
    for line in (profiles.parent / "stderr.log").read_text().splitlines():
        json.loads(line)  # logs are JSON lines


# ----------------------------------------------------------------- prompts
def all_pages(m, method, key, **params):
    items, cursor, pages = [], None, 0
    while True:
        p = dict(params)
        if cursor:
            p["cursor"] = cursor
        r = m.result(method, p)
        items += r[key]
        pages += 1
        cursor = r.get("nextCursor")
        if not cursor:
            return items, pages
        assert pages < 50


def test_prompts_list_pages_through_every_served_profile(profiles):
    m = Mcp(profiles, "--page-size", "2")
    try:
        m.initialize()
        prompts, pages = all_pages(m, "prompts/list", "prompts")
        names = [p["name"] for p in prompts]
        assert names == sorted(names) and len(set(names)) == len(names)
        assert {"tpl-parent", "tpl-child", "tpl-plain", "tpl-canonical"} <= set(names)
        assert pages == (len(names) + 1) // 2
        for p in prompts:
            assert p["title"] and p["description"]
    finally:
        assert m.close() == 0


def test_prompt_arguments_are_the_declared_variables(ready):
    prompts = {p["name"]: p for p in ready.result("prompts/list")["prompts"]}
    args = {a["name"]: a for a in prompts["tpl-parent"]["arguments"]}
    assert set(args) == {"task", "language", "repo_url", "ticket"}
    assert args["task"] == {"name": "task", "description": "What to do", "required": True}
    assert args["language"]["required"] is False
    assert prompts["tpl-plain"]["arguments"] == []
    assert prompts["tpl-parent"]["title"] == "Template Parent"


def test_description_falls_back_to_the_role_statement(profiles):
    (profiles / "nodesc.md").write_text(
        "---\nid: nodesc\nname: No Description\nversion: \"1\"\nrole: x\n---\n\n"
        "# No Description\n\nYou review code. Carefully and kindly.\n")
    m = Mcp(profiles)
    try:
        m.initialize()
        prompts = {p["name"]: p for p in m.result("prompts/list")["prompts"]}
        assert "nodesc" in prompts, m.result("prompts/list")
        assert prompts["nodesc"]["description"] == "You review code."
    finally:
        assert m.close() == 0


def test_invalid_cursor(ready):
    assert ready.error("prompts/list", {"cursor": ""})["code"] == -32602
    assert ready.error("prompts/list", {"cursor": 5})["code"] == -32602
    assert ready.error("resources/list", {"cursor": "x" * 500})["code"] == -32602


def test_cursor_past_the_end_is_an_empty_page(ready):
    assert ready.result("prompts/list", {"cursor": "zzz"}) == {"prompts": []}


def test_prompts_get_renders_with_arguments(ready):
    r = ready.result("prompts/get", {"name": "tpl-parent",
                                     "arguments": {"task": "fix the build", "language": "C"}})
    assert r["description"]
    [msg] = r["messages"]
    assert msg["role"] == "user" and msg["content"]["type"] == "text"
    assert "do this: fix the build. Work in C." in msg["content"]["text"]
    assert "{{ not a placeholder }}" in msg["content"]["text"]


def test_prompts_get_is_the_rest_rendering(ready, profiles):
    out = subprocess.run([str(ROSTERD), "render", "tpl-child", "--profiles", str(profiles),
                          "--view", "prompt", "--var", "task=t1"], capture_output=True, check=True)
    r = ready.result("prompts/get", {"name": "tpl-child", "arguments": {"task": "t1"}})
    assert r["messages"][0]["content"]["text"].encode() == out.stdout


def test_prompts_get_without_arguments_uses_defaults(ready):
    r = ready.result("prompts/get", {"name": "tpl-canonical"})
    assert "Do nothing in particular." in r["messages"][0]["content"]["text"]


def test_prompts_get_reports_every_problem(ready):
    e = ready.error("prompts/get", {"name": "tpl-parent",
                                    "arguments": {"language": "COBOL", "ticket": "123456789",
                                                  "extra": "x", "repo_url": "ftp://x"}})
    assert e["code"] == -32602
    reasons = sorted((p["name"], p["reason"]) for p in e["data"]["errors"])
    assert reasons == [("extra", "unknown"), ("language", "not_in_enum"),
                       ("repo_url", "pattern_mismatch"), ("task", "missing"),
                       ("ticket", "too_long")]
    assert "5 variables are not accepted" in e["message"]


def test_prompts_get_non_string_value(ready):
    e = ready.error("prompts/get", {"name": "tpl-parent", "arguments": {"task": 5}})
    assert [p["reason"] for p in e["data"]["errors"]] == ["not_string"]


def test_prompts_get_unknown_name_and_bad_params(ready):
    e = ready.error("prompts/get", {"name": "no-such"})
    assert e["code"] == -32602 and "no-such" in e["message"]
    assert ready.error("prompts/get", {})["code"] == -32602
    assert ready.error("prompts/get", {"name": 5})["code"] == -32602
    assert ready.error("prompts/get", {"name": "tpl-plain", "arguments": [1]})["code"] == -32602
    assert ready.error("prompts/get", {"name": "x" * 10000})["code"] == -32602


# --------------------------------------------------------------- resources
def test_resources_list_pages(profiles):
    m = Mcp(profiles, "--page-size", "3")
    try:
        m.initialize()
        res, pages = all_pages(m, "resources/list", "resources")
        uris = [r["uri"] for r in res]
        assert len(set(uris)) == len(uris) and pages > 1
        assert "roster://profiles/tpl-parent" in uris
        assert "roster://profiles/tpl-parent/prompt" in uris
        types = {r["uri"]: r["mimeType"] for r in res}
        assert types["roster://profiles/tpl-parent"] == "application/json"
        assert types["roster://profiles/tpl-parent/prompt"] == "text/markdown"
    finally:
        assert m.close() == 0


def test_resource_templates(ready):
    t = ready.result("resources/templates/list")["resourceTemplates"]
    assert [x["uriTemplate"] for x in t] == ["roster://profiles/{id}",
                                             "roster://profiles/{id}/prompt",
                                             "roster://profiles/{id}/{view}"]


@pytest.mark.parametrize("suffix,view,mime", [("", "profile", "application/json"),
                                              ("/prompt", "prompt", "text/markdown"),
                                              ("/variables", "variables", "application/json"),
                                              ("/lineage", "lineage", "application/json")])
def test_resources_read_is_the_rest_bytes(ready, profiles, suffix, view, mime):
    uri = "roster://profiles/tpl-child" + suffix
    out = subprocess.run([str(ROSTERD), "render", "tpl-child", "--profiles", str(profiles),
                          "--view", view], capture_output=True, check=True)
    [c] = ready.result("resources/read", {"uri": uri})["contents"]
    assert c["uri"] == uri and c["mimeType"] == mime
    assert c["text"].encode() == out.stdout


@pytest.mark.parametrize("uri", ["roster://profiles/nope", "roster://profiles/tpl-child/nope",
                                 "roster://profiles/tpl-child/source",
                                 "roster://profiles/tpl-child/profile", "roster://profiles/",
                                 "https://example.com/", "roster://profiles/tpl-aliased",
                                 "roster://profiles/" + "a" * 300])
def test_resources_read_unknown(ready, uri):
    e = ready.error("resources/read", {"uri": uri})
    assert e["code"] == -32002


def test_resources_read_needs_a_uri(ready):
    assert ready.error("resources/read", {})["code"] == -32602


def test_subscribe_and_unsubscribe(ready):
    assert ready.result("resources/subscribe", {"uri": "roster://profiles/tpl-plain"}) == {}
    assert ready.result("resources/subscribe", {"uri": "roster://profiles/tpl-plain"}) == {}
    assert ready.error("resources/subscribe", {"uri": "roster://profiles/nope"})["code"] == -32002
    assert ready.error("resources/subscribe", {})["code"] == -32602
    assert ready.result("resources/unsubscribe", {"uri": "roster://profiles/tpl-plain"}) == {}
    assert ready.result("resources/unsubscribe", {"uri": "roster://profiles/never"}) == {}


def wait_for(m, pred, timeout=10.0):
    """Notifications until pred(msg) holds; returns all seen."""
    seen = []
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        try:
            msg = m.recv(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        seen.append(msg)
        if pred(msg):
            return seen
    raise AssertionError(f"not seen; got {seen}")


def test_reload_notifies_subscribers_and_list_changes(ready, profiles):
    ready.result("logging/setLevel", {"level": "info"})
    for uri in ("roster://profiles/tpl-plain", "roster://profiles/tpl-plain/prompt",
                "roster://profiles/tpl-parent"):
        ready.result("resources/subscribe", {"uri": uri})
    f = profiles / "tpl-plain.md"
    f.write_text(f.read_text() + "\nOne more line.\n")
    seen = wait_for(ready, lambda m: m.get("method") == "notifications/message")
    updated = {m["params"]["uri"] for m in seen
               if m.get("method") == "notifications/resources/updated"}
    assert updated == {"roster://profiles/tpl-plain", "roster://profiles/tpl-plain/prompt"}
    assert not any(m.get("method", "").endswith("list_changed") for m in seen)
    log = seen[-1]["params"]
    assert log["level"] == "info" and log["data"]["event"] == "reload"
    # a removed profile changes the lists
    (profiles / "tpl-plain.md").unlink()
    seen = wait_for(ready, lambda m: m.get("method") == "notifications/resources/list_changed")
    methods = [m.get("method") for m in seen]
    assert "notifications/prompts/list_changed" in methods
    assert "notifications/resources/updated" in methods
    assert ready.error("prompts/get", {"name": "tpl-plain"})["code"] == -32602


# -------------------------------------------------------------- completion
def complete(m, ref, name, value):
    return m.result("completion/complete", {"ref": ref, "argument": {"name": name,
                                                                     "value": value}})["completion"]


def test_complete_enum_values(ready):
    ref = {"type": "ref/prompt", "name": "tpl-parent"}
    assert complete(ready, ref, "language", "") == {"values": ["Go", "Python", "C"], "total": 3,
                                                    "hasMore": False}
    assert complete(ready, ref, "language", "P")["values"] == ["Python"]
    assert complete(ready, ref, "task", "")["values"] == []
    assert complete(ready, ref, "nope", "")["values"] == []


def test_complete_ids_and_views(ready):
    ref = {"type": "ref/resource", "uri": "roster://profiles/{id}/{view}"}
    assert complete(ready, ref, "id", "tpl-p") == {"values": ["tpl-parent", "tpl-plain"],
                                                   "total": 2, "hasMore": False}
    views = complete(ready, ref, "view", "")["values"]
    assert "prompt" in views and "variables" in views and "source" not in views


def test_complete_errors(ready):
    arg = {"name": "x", "value": ""}
    assert ready.error("completion/complete", {"ref": {"type": "ref/prompt", "name": "nope"},
                                               "argument": arg})["code"] == -32602
    assert ready.error("completion/complete", {"ref": {"type": "ref/tool", "name": "x"},
                                               "argument": arg})["code"] == -32602
    assert ready.error("completion/complete", {"ref": {"type": "ref/prompt"}})["code"] == -32602
    assert ready.error("completion/complete",
                       {"ref": {"type": "ref/resource", "uri": "file:///x"},
                        "argument": arg})["code"] == -32002


def test_logging_set_level(ready):
    assert ready.result("logging/setLevel", {"level": "debug"}) == {}
    assert ready.error("logging/setLevel", {"level": "loud"})["code"] == -32602
    assert ready.error("logging/setLevel", {})["code"] == -32602


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("line,code", [
    (b"garbage", -32700),
    (b'{"jsonrpc":"2.0","id":1,', -32700),
    (b'{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}', -32700),
    (b'\xff\xfe{"jsonrpc":"2.0"}', -32700),
    (b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]', -32600),
    (b"[]", -32600),
    (b"1", -32600),
    (b'"ping"', -32600),
    (b'{"id":1,"method":"ping"}', -32600),
    (b'{"jsonrpc":"1.0","id":1,"method":"ping"}', -32600),
    (b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}', -32600),
    (b'{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600),
    (b'{"jsonrpc":"2.0","id":{},"method":"ping"}', -32600),
    (b'{"jsonrpc":"2.0","id":1,"method":5}', -32600),
    (b'{"jsonrpc":"2.0","id":1}', -32600),
    (b'{"jsonrpc":"2.0","id":1,"method":"nope/nope"}', -32601),
    (b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}', -32601),
    (b'{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}', -32602),
])
def test_malformed_messages(ready, line, code):
    ready.write(line + b"\n")
    r = ready.recv()
    assert r["jsonrpc"] == "2.0" and r["error"]["code"] == code, r
    if code in (-32700,) or b'"id":1' not in line or b"1.5" in line:
        assert r["id"] is None
    # the server is still there
    assert ready.result("ping") == {}


def test_notifications_and_client_responses_get_no_answer(ready):
    ready.send({"jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": {"requestId": 1}})
    ready.send({"jsonrpc": "2.0", "method": "notifications/unknown"})
    ready.send({"jsonrpc": "2.0", "id": 7, "result": {}})
    ready.send({"jsonrpc": "2.0", "id": 8, "error": {"code": 1, "message": "x"}})
    ready.write(b"\n  \r\n\n")  # blank lines are skipped
    r = ready.call("ping")
    assert r["result"] == {}


def test_string_ids_and_crlf(ready):
    ready.write(b'{"jsonrpc":"2.0","id":"abc","method":"ping"}\r\n')
    assert ready.recv() == {"jsonrpc": "2.0", "id": "abc", "result": {}}


def test_oversized_line_is_refused_and_the_next_one_answered(ready):
    big = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"' + b"x" * (1 << 21) + b'"}}'
    ready.write(big + b"\n")
    r = ready.recv(timeout=20)
    assert r["error"]["code"] == -32600 and r["id"] is None
    assert ready.result("ping") == {}


def test_message_just_under_the_cap_is_parsed(ready):
    pad = (1 << 20) - 200
    line = b'{"jsonrpc":"2.0","id":3,"method":"ping","params":{"pad":"' + b"x" * pad + b'"}}'
    assert len(line) <= 1 << 20
    ready.write(line + b"\n")
    assert ready.recv(timeout=20) == {"jsonrpc": "2.0", "id": 3, "result": {}}


def test_deep_nesting_does_not_crash(ready):
    ready.write(b"[" * 100000 + b"\n")
    assert ready.recv()["error"]["code"] == -32700
    assert ready.result("ping") == {}


def test_many_messages_in_one_write(ready):
    data = b"".join(json.dumps({"jsonrpc": "2.0", "id": i, "method": "ping"}).encode() + b"\n"
                    for i in range(200))
    ready.write(data)
    assert [ready.recv()["id"] for _ in range(200)] == list(range(200))


# ------------------------------------------------------------------- command
def test_help_lists_mcp():
    out = subprocess.run([str(ROSTERD), "--help"], capture_output=True, text=True, check=True)
    assert "  mcp " in out.stdout


def test_usage_errors(profiles):
    r = subprocess.run([str(ROSTERD), "mcp", "--page-size", "0", "--profiles", str(profiles)],
                       capture_output=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and r.stdout == b""
    r = subprocess.run([str(ROSTERD), "mcp", "--bogus"], capture_output=True,
                       stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and r.stdout == b""


def test_unusable_directory_fails_without_stdout(tmp_path):
    r = subprocess.run([str(ROSTERD), "mcp", "--profiles", str(tmp_path / "missing")],
                       capture_output=True, stdin=subprocess.DEVNULL, timeout=30 * SLOW)
    assert r.returncode == 1 and r.stdout == b""
    assert b"start_failed" in r.stderr or b"reload_failed" in r.stderr
