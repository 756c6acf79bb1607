#!/usr/bin/python3
"""Replays requests for every operation of the contract through Prism validating
proxies (started by run.sh) in front of a live rosterd, and fails on any
violation Prism reports.

Two proxies run over the same spec and server:

- strict  (`prism proxy --errors`): for requests that follow the spec. Prism
  validates the request (an invalid one is answered 422 by Prism and never
  forwarded) and the response; any violation is listed in the `sl-violations`
  response header, and a response violation of severity Error replaces the
  answer with Prism's own 500 problem (`type` .../prism/errors#VIOLATIONS).
  A case passes with no `sl-violations` header at all and the expected status.
- lenient (`prism proxy`, no --errors): for requests marked as breaking the
  spec on purpose (bad input). Prism forwards them anyway and still validates
  the response. A case passes when Prism found the request violation we meant
  (so the marking is honest) and no response violation.

A method the spec does not declare (PUT on a GET path) needs more than Prism:
it cannot route it and so cannot validate the answer ("Selected route not
found"); the answer is validated here against
components/responses/MethodNotAllowed.

Event streams go through the strict proxy too; Prism only answers when a
stream ends, so they are opened first and ended last, by stopping rosterd
(SIGTERM to ROSTERD_PID), after a reload has produced events. The MCP
session stream (GET /mcp) is opened the same way, after a subscription to a
profile the reload changes, and ended by DELETE /mcp (which ends its stream).

The versions routes (docs/versions.md "History"; rosterd runs with a
temporary --history-dir) are replayed on the current version of worker-sre,
and after the reload on ct-child's earlier version, from the store. Prism
forwards JSON re-serialized (without its final newline), so that a pinned
version is byte for byte what the unversioned route sent is checked on a
direct request.

/mcp (MCP, JSON-RPC over Streamable HTTP): a body that is not JSON cannot
go through Prism (it answers that itself) and 413 cannot either (Prism
forwards the body re-serialized); tests/http/test_mcp_http.py checks both
against the contract, and 401 (a server with --mcp-token-file) and 503.

Environment: CONTRACT_SPEC, PRISM_STRICT, PRISM_LENIENT (base URLs),
ROSTERD_URL, ROSTERD_PID, ADMIN_TOKEN, PROFILES_DIR (the server's copy),
HISTORY_DIR (its --history-dir), CONTRACT_RESULTS (a file: one `PASS\tname` / `FAIL\tname\twhy` line per check).
"""
import json
import os
import re
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

import requests
import yaml
from jsonschema import Draft202012Validator, RefResolver

SPEC_PATH = Path(os.environ["CONTRACT_SPEC"])
STRICT = os.environ["PRISM_STRICT"]
LENIENT = os.environ["PRISM_LENIENT"]
DIRECT = os.environ["ROSTERD_URL"]
ROSTERD_PID = int(os.environ["ROSTERD_PID"])
TOKEN = os.environ["ADMIN_TOKEN"]
PROFILES = Path(os.environ["PROFILES_DIR"])
HISTORY = Path(os.environ["HISTORY_DIR"])
RESULTS = Path(os.environ["CONTRACT_RESULTS"])
TIMEOUT = 15
PRISM_ERRORS = "https://stoplight.io/prism/errors#"
METHODS = ("get", "head", "options", "post", "put", "patch", "delete")

SPEC = yaml.safe_load(SPEC_PATH.read_text())
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    RESOLVER = RefResolver.from_schema(SPEC)
COVERED = set()  # (template, method) answered and validated
passed = failed = 0


def record(ok, name, why=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    line = ("PASS\t" + name) if ok else ("FAIL\t" + name + "\t" + why.replace("\n", " ")[:1500])
    print(line.replace("\t", "  "), flush=True)
    with RESULTS.open("a") as f:
        f.write(line + "\n")


def validate(instance, schema):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        errors = sorted(Draft202012Validator(schema, resolver=RESOLVER).iter_errors(instance),
                        key=lambda e: list(e.path))
    return ["%s: %s" % ("/".join(map(str, e.path)) or "(root)", e.message[:200]) for e in errors[:5]]


def deref(obj):
    while isinstance(obj, dict) and "$ref" in obj:
        node = SPEC
        for part in obj["$ref"][2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        obj = node
    return obj


def template(path):
    path = path.split("?", 1)[0]
    segs = path.strip("/").split("/")
    best = None
    for tpl in SPEC["paths"]:
        t = tpl.strip("/").split("/")
        if len(t) == len(segs) and all(a.startswith("{") or a == b for a, b in zip(t, segs)):
            lit = sum(1 for a in t if not a.startswith("{"))
            if best is None or lit > best[1]:
                best = (tpl, lit)
    return best[0] if best else None


def violations(r):
    raw = r.headers.get("sl-violations")
    if not raw:
        return []
    try:
        return json.loads(raw)
    except ValueError:  # "Too many violations! ..." (truncated)
        return [{"location": ["response"], "severity": "Error", "message": raw[:300]}]


def prism_error(r):
    if "problem+json" not in r.headers.get("Content-Type", ""):
        return None
    try:
        t = r.json().get("type", "")
    except ValueError:
        return None
    return t if t.startswith(PRISM_ERRORS) else None


def send(base, method, path, headers=None, timeout=TIMEOUT, data=None):
    h = {"Accept-Encoding": "identity"}
    h.update(headers or {})
    return requests.request(method, base + path, headers=h, timeout=timeout, allow_redirects=False, data=data)


def describe(method, path):
    return f"{method} {path if len(path) < 90 else path[:60] + '...(' + str(len(path)) + ' bytes)'}"


def run_checks(r, checks):
    problems = []
    for chk in checks or ():
        try:
            msg = chk(r)
        except Exception as e:  # a check that cannot even look is a failure
            msg = f"{type(e).__name__}: {e}"
        if msg:
            problems.append(msg)
    return problems


def ok(method, path, status, headers=None, checks=(), name=None, data=None):
    """A request that follows the spec: strict proxy, no violation at all."""
    name = name or describe(method, path)
    try:
        r = send(STRICT, method, path, headers, data=data)
    except requests.RequestException as e:
        record(False, name, f"request failed: {e}")
        return None
    why = []
    v = violations(r)
    if v:
        why.append("Prism: " + json.dumps(v)[:1200])
    perr = prism_error(r)
    if perr and not v:
        why.append(f"Prism answered itself ({perr}): {r.text[:300]}")
    if r.status_code != status and not perr:
        why.append(f"status {r.status_code}, expected {status}: {r.text[:300]}")
    why += run_checks(r, checks)
    if not perr:
        COVERED.add((template(path), method.lower()))
    record(not why, name, "; ".join(why))
    return r


def bad(method, path, status, why_bad, headers=None, checks=(), name=None, data=None):
    """A request that breaks the spec on purpose: lenient proxy; only the
    response must be valid, and Prism must have seen the request violation."""
    name = name or f"{describe(method, path)} [off-spec: {why_bad}]"
    try:
        r = send(LENIENT, method, path, headers, data=data)
    except requests.RequestException as e:
        record(False, name, f"request failed: {e}")
        return None
    why = []
    v = violations(r)
    req_v = [x for x in v if x.get("location", [""])[0] == "request"]
    resp_v = [x for x in v if x.get("location", [""])[0] != "request"]
    if not req_v:
        why.append("Prism saw no request violation: the request is not off-spec as marked")
    if resp_v:
        why.append("Prism: " + json.dumps(resp_v)[:1200])
    if r.status_code != status:
        why.append(f"status {r.status_code}, expected {status}: {r.text[:300]}")
    why += run_checks(r, checks)
    COVERED.add((template(path), method.lower()))
    record(not why, name, "; ".join(why))
    return r


def check_component_response(r, resp_name, method):
    """Validates headers and body against a response component (used where
    Prism cannot: a method the spec does not declare)."""
    resp = deref({"$ref": f"#/components/responses/{resp_name}"})
    why = []
    for hname, h in (resp.get("headers") or {}).items():
        h = deref(h)
        if h.get("required") and hname not in r.headers:
            why.append(f"missing header {hname}")
        elif hname in r.headers:
            why += [f"header {hname}: {m}" for m in validate(r.headers[hname], h.get("schema", {}))]
    if method != "HEAD":
        ct = r.headers.get("Content-Type", "")
        media = (resp.get("content") or {}).get(ct.split(";")[0].strip())
        if media is None:
            why.append(f"Content-Type {ct!r} not in {list(resp.get('content') or {})}")
        else:
            why += validate(r.json(), media["schema"])
    return why


def undeclared(method, path, allow):
    """A method the spec does not declare for the path: answered 405 (the
    MethodNotAllowed component, described once in info.description)."""
    name = f"{describe(method, path)} [undeclared method: 405 checked against MethodNotAllowed]"
    try:
        r = send(LENIENT, method, path)
    except requests.RequestException as e:
        record(False, name, f"request failed: {e}")
        return
    why = []
    v = violations(r)
    unexpected = [x for x in v if x.get("message") != "Selected route not found"]
    if unexpected:
        why.append("Prism: " + json.dumps(unexpected)[:800])
    if r.status_code != 405:
        why.append(f"status {r.status_code}, expected 405")
    else:
        why += check_component_response(r, "MethodNotAllowed", method)
        if r.headers.get("Allow") != allow:
            why.append(f"Allow {r.headers.get('Allow')!r}, expected {allow!r}")
        if method != "HEAD" and r.json().get("allow") != allow:
            why.append(f"problem allow {r.json().get('allow')!r}")
    record(not why, name, "; ".join(why))


# ----------------------------------------------------------------- checks
def code(expected):
    return lambda r: None if r.json().get("code") == expected else f"code {r.json().get('code')!r}, expected {expected!r}"


def header(name, pattern):
    return lambda r: (None if re.fullmatch(pattern, r.headers.get(name, "") or "")
                      else f"{name}: {r.headers.get(name)!r} !~ {pattern}")


def no_header(name):
    return lambda r: None if name not in r.headers else f"unexpected {name}: {r.headers[name]}"


def json_is(pred, what):
    return lambda r: None if pred(r.json()) else f"{what}: {json.dumps(r.json())[:300]}"


PROJECTION = r"application/vnd\.roster\.projection\+json"
COMMON = [header("X-Request-Id", r"[A-Za-z0-9._:-]{1,128}"), header("X-Content-Type-Options", "nosniff")]
ERR = COMMON + [header("Cache-Control", "no-store"), header("Content-Type", r"application/problem\+json")]


# ----------------------------------------------------------------- events
class Stream(threading.Thread):
    """GET /v1/events through the strict proxy; Prism answers when it ends."""

    def __init__(self, name, headers, path="/v1/events"):
        super().__init__(daemon=True)
        self.name_, self.headers, self.resp, self.error, self.path = name, headers, None, None, path

    def run(self):
        try:
            self.resp = send(STRICT, "GET", self.path, self.headers, timeout=90)
        except requests.RequestException as e:
            self.error = e


def parse_sse(text):
    frames, cur, retry = [], {}, None
    for line in text.split("\n"):
        if line == "":
            if cur:
                frames.append(cur)
            cur = {}
        elif line.startswith(":"):
            continue
        else:
            k, _, v = line.partition(":")
            v = v[1:] if v.startswith(" ") else v
            if k == "retry":
                retry = v
            else:
                cur[k] = v
    return retry, frames


def check_stream(s, expect_first=None):
    name = f"GET /v1/events via Prism ({s.name_})"
    why = []
    if s.error or s.resp is None:
        record(False, name, f"no answer: {s.error}")
        return
    r = s.resp
    v = violations(r)
    if v:
        why.append("Prism: " + json.dumps(v)[:800])
    if r.status_code != 200:
        why.append(f"status {r.status_code}: {r.text[:200]}")
        record(False, name, "; ".join(why))
        return
    COVERED.add(("/v1/events", "get"))
    media = SPEC["paths"]["/v1/events"]["get"]["responses"]["200"]["content"]["text/event-stream"]
    data_schemas = media["schema"]["x-event-data"]
    frame_schema = media.get("x-item-schema")
    retry, frames = parse_sse(r.text)
    if retry != "2000":
        why.append(f"retry {retry!r}")
    if not frames:
        why.append("no events")
    for f in frames:
        ev = f.get("event")
        if ev not in data_schemas:
            why.append(f"event type {ev!r} is not in x-event-data")
            continue
        try:
            data = json.loads(f.get("data", ""))
        except ValueError:
            why.append(f"data of {ev} is not JSON: {f.get('data')!r}")
            continue
        why += [f"{ev} data: {m}" for m in validate(data, data_schemas[ev])]
        if frame_schema:
            why += [f"{ev} frame: {m}" for m in validate(f, frame_schema)]
    if expect_first:
        first = frames[0] if frames else {}
        try:
            d = json.loads(first.get("data", "null"))
        except ValueError:
            d = None
        if first.get("event") != expect_first[0] or not expect_first[1](d):
            why.append(f"first event {first}, expected {expect_first[0]}")
    record(not why, name + f": {len(frames)} events", "; ".join(why))
    return frames



# ----------------------------------------------------------------- mcp
MCP_ACCEPT = "application/json, text/event-stream"
MCP_JSON = ERR[:2] + [header("Cache-Control", "no-store"), header("Content-Type", "application/json")]


def rpc(method, id_=None, params=None):
    m = {"jsonrpc": "2.0", "method": method}
    if id_ is not None:
        m["id"] = id_
    if params is not None:
        m["params"] = params
    return json.dumps(m)


def mcp_headers(sid=None, **extra):
    h = {"Content-Type": "application/json", "Accept": MCP_ACCEPT}
    if sid:
        h["Mcp-Session-Id"] = sid
    h.update(extra)
    return h


def rpc_error(code_, id_=None):
    """The body is a JSON-RPC error with that code (and id)."""
    return json_is(lambda d: d.get("jsonrpc") == "2.0" and d.get("id") == id_ and d["error"]["code"] == code_,
                   f"JSON-RPC error {code_} with id {id_!r}")


def rpc_result(id_, pred=lambda res: True, what="result"):
    return json_is(lambda d: d.get("id") == id_ and "error" not in d and pred(d["result"]), what)


def mcp_open():
    """A session subscribed to ct-child (the reload below changes it), and
    its stream through the strict proxy, open until mcp_close."""
    init = rpc("initialize", 1, {"protocolVersion": "2025-11-25", "capabilities": {},
                                 "clientInfo": {"name": "contract", "version": "1"}})
    r = ok("POST", "/mcp", 200, headers=mcp_headers(), data=init, name="POST /mcp initialize -> 200 + Mcp-Session-Id",
           checks=MCP_JSON + [header("Mcp-Session-Id", "[0-9a-f]{32}"),
                              rpc_result(1, lambda res: res["protocolVersion"] == "2025-11-25"
                                         and res["serverInfo"]["name"] == "rosterd", "InitializeResult")])
    sid = r.headers.get("Mcp-Session-Id") if r is not None else None
    if not sid:  # (that case failed) the other cases still run, on a session made directly
        sid = send(DIRECT, "POST", "/mcp", mcp_headers(), data=init).headers.get("Mcp-Session-Id")
    if not sid:
        return None, None
    ok("POST", "/mcp", 202, headers=mcp_headers(sid), data=rpc("notifications/initialized"),
       name="POST /mcp notification -> 202", checks=[lambda r: None if r.content == b"" else "a body"])
    ok("POST", "/mcp", 200, headers=mcp_headers(sid), data=rpc("resources/subscribe", 2,
                                                               {"uri": "roster://profiles/ct-child"}),
       name="POST /mcp resources/subscribe", checks=MCP_JSON + [rpc_result(2, lambda res: res == {})])
    stream = Stream("MCP session stream", {"Accept": "text/event-stream", "Mcp-Session-Id": sid}, path="/mcp")
    stream.start()
    return sid, stream


def mcp_cases(sid):
    """Every other answer of /mcp (the session of mcp_open stays open)."""
    if sid is None:
        record(False, "mcp cases", "no session")
        return
    h = mcp_headers(sid)
    ok("POST", "/mcp", 200, headers=h, data=rpc("ping", "p-1"), name="POST /mcp ping -> 200 {}",
       checks=MCP_JSON + [no_header("Mcp-Session-Id"), rpc_result("p-1", lambda res: res == {})])
    ok("POST", "/mcp", 200, headers=dict(h, **{"MCP-Protocol-Version": "2025-11-25"}), data=rpc("prompts/list", 3),
       name="POST /mcp prompts/list (MCP-Protocol-Version as negotiated)",
       checks=MCP_JSON + [rpc_result(3, lambda res: any(p["name"] == "ct-template" for p in res["prompts"]))])
    ok("POST", "/mcp", 200, headers=h, data=rpc("prompts/get", 4, {"name": "ct-template", "arguments": {"task": "t"}}),
       name="POST /mcp prompts/get",
       checks=MCP_JSON + [rpc_result(4, lambda res: res["messages"][0]["content"]["text"].endswith(
           "Do this: t, in Go."))])
    ok("POST", "/mcp", 200, headers=h, data=rpc("resources/read", 5, {"uri": "roster://profiles/nobody"}),
       name="POST /mcp resources/read unknown -> 200 with error -32002", checks=MCP_JSON + [rpc_error(-32002, 5)])
    ok("POST", "/mcp", 200, headers=h, data=rpc("tools/list", 6),
       name="POST /mcp unknown method -> 200 with error -32601", checks=MCP_JSON + [rpc_error(-32601, 6)])
    ok("POST", "/mcp", 200, headers=h, data=rpc("prompts/get", 7, {"name": "ct-template", "arguments": {"nope": "x"}}),
       name="POST /mcp prompts/get invalid arguments -> 200 with error -32602",
       checks=MCP_JSON + [rpc_error(-32602, 7), json_is(lambda d: d["error"]["data"]["reason"] == "invalid_arguments",
                                                        "error.data")])
    ok("POST", "/mcp", 202, headers=h, data=json.dumps({"jsonrpc": "2.0", "id": 99, "result": {}}),
       name="POST /mcp a client's response -> 202")
    ok("POST", "/mcp", 400, headers=mcp_headers(), data=rpc("ping", 8), name="POST /mcp without Mcp-Session-Id -> 400",
       checks=MCP_JSON + [rpc_error(-32600)])
    ok("POST", "/mcp", 404, headers=mcp_headers("0" * 32), data=rpc("ping", 9), name="POST /mcp unknown session -> 404",
       checks=MCP_JSON + [rpc_error(-32001)])
    ok("POST", "/mcp", 400, headers=dict(h, **{"MCP-Protocol-Version": "2025-06-18"}), data=rpc("ping", 10),
       name="POST /mcp MCP-Protocol-Version other than negotiated -> 400", checks=MCP_JSON + [rpc_error(-32600)])
    ok("POST", "/mcp", 403, headers=mcp_headers(Origin="http://evil.example"), data=rpc("ping", 11),
       name="POST /mcp foreign Origin -> 403", checks=MCP_JSON + [rpc_error(-32600)])
    ok("POST", "/mcp", 200, headers=dict(h, Origin="http://localhost:6274"), data=rpc("ping", 12),
       name="POST /mcp Origin localhost (server on loopback) -> 200", checks=MCP_JSON + [rpc_result(12)])
    ok("POST", "/mcp", 200, headers=mcp_headers(), data=json.dumps({"jsonrpc": "2.0", "id": 13, "method": "initialize",
                                                                    "params": {}}),
       name="POST /mcp failed initialize -> 200 with error, no session",
       checks=MCP_JSON + [no_header("Mcp-Session-Id"), rpc_error(-32602, 13)])
    ok("POST", "/mcp?x=1", 400, headers=h, data=rpc("ping", 14), name="POST /mcp?x=1 -> 400 unknown_parameter",
       checks=ERR + [code("unknown_parameter")])
    bad("POST", "/mcp", 400, "a batch (array)", headers=h, data=json.dumps([json.loads(rpc("ping", 15))]),
        checks=MCP_JSON + [rpc_error(-32600)])
    bad("POST", "/mcp", 400, "not an object", headers=h, data="42", checks=MCP_JSON + [rpc_error(-32600)])
    bad("POST", "/mcp", 200, "no jsonrpc member", headers=h, data=json.dumps({"id": 16, "method": "ping"}),
        checks=MCP_JSON + [rpc_error(-32600, 16)])
    bad("POST", "/mcp", 400, "MCP-Protocol-Version enum", headers=dict(h, **{"MCP-Protocol-Version": "2024-11-05"}),
        data=rpc("ping", 17), checks=MCP_JSON + [rpc_error(-32600)])
    bad("POST", "/mcp", 406, "Accept pattern", headers=dict(h, Accept="text/html"), data=rpc("ping", 18),
        checks=MCP_JSON + [rpc_error(-32600)])
    bad("POST", "/mcp", 415, "Content-Type not declared", headers=dict(h, **{"Content-Type": "text/plain"}),
        data=rpc("ping", 19), checks=ERR + [code("unsupported_media_type")])
    bad("POST", "/mcp", 404, "Mcp-Session-Id pattern", headers=mcp_headers("not-a-session"), data=rpc("ping", 20),
        checks=MCP_JSON + [rpc_error(-32001)])
    # not here: a body that is not JSON (Prism answers it itself) and 413 (Prism
    # re-serializes the body): tests/http/test_mcp_http.py
    stream = {"Accept": "text/event-stream"}
    ok("GET", "/mcp", 404, headers=dict(stream, **{"Mcp-Session-Id": "f" * 32}), name="GET /mcp unknown session -> 404",
       checks=MCP_JSON + [rpc_error(-32001)])
    bad("GET", "/mcp", 400, "no Mcp-Session-Id", headers=stream, checks=MCP_JSON + [rpc_error(-32600)])
    bad("GET", "/mcp", 406, "Accept pattern", headers={"Accept": "application/json", "Mcp-Session-Id": sid},
        checks=MCP_JSON + [rpc_error(-32600)])
    bad("GET", "/mcp", 400, "Last-Event-ID pattern", headers=dict(stream, **{"Mcp-Session-Id": sid,
                                                                               "Last-Event-ID": "abc"}),
        checks=MCP_JSON + [rpc_error(-32600)])
    ok("GET", "/mcp?x=1", 400, headers=dict(stream, **{"Mcp-Session-Id": sid}),
       name="GET /mcp?x=1 -> 400 unknown_parameter", checks=ERR + [code("unknown_parameter")])
    bad("DELETE", "/mcp", 400, "no Mcp-Session-Id", checks=MCP_JSON + [rpc_error(-32600)])
    ok("DELETE", "/mcp", 404, headers={"Mcp-Session-Id": "0" * 32}, name="DELETE /mcp unknown session -> 404",
       checks=MCP_JSON + [rpc_error(-32001)])
    # a second session, ended at once
    r = send(DIRECT, "POST", "/mcp", mcp_headers(), data=rpc("initialize", 1, {"protocolVersion": "2025-06-18"}))
    other = r.headers.get("Mcp-Session-Id", "0" * 32)
    ok("DELETE", "/mcp", 204, headers={"Mcp-Session-Id": other, "MCP-Protocol-Version": "2025-06-18"},
       name="DELETE /mcp -> 204", checks=COMMON + [header("Cache-Control", "no-store")])
    ok("POST", "/mcp", 404, headers=mcp_headers(other), data=rpc("ping", 21), name="POST /mcp after DELETE -> 404",
       checks=MCP_JSON + [rpc_error(-32001)])
    ok("OPTIONS", "/mcp", 204, checks=[header("Allow", "GET, POST, DELETE, OPTIONS")])
    undeclared("HEAD", "/mcp", "GET, POST, DELETE, OPTIONS")
    undeclared("PUT", "/mcp", "GET, POST, DELETE, OPTIONS")


def mcp_close(sid, stream):
    """DELETE ends the session and its stream; then what the stream carried
    is validated (Prism validated the answer as a whole)."""
    if sid is None:
        return
    ok("DELETE", "/mcp", 204, headers={"Mcp-Session-Id": sid}, name="DELETE /mcp (ends the open stream)")
    stream.join(30)
    name = "GET /mcp via Prism (session stream)"
    r = stream.resp
    if stream.error or r is None:
        record(False, name, f"no answer: {stream.error}")
        return
    why = []
    v = violations(r)
    if v:
        why.append("Prism: " + json.dumps(v)[:800])
    if r.status_code != 200:
        record(False, name, f"status {r.status_code}: {r.text[:200]}")
        return
    COVERED.add(("/mcp", "get"))
    why += run_checks(r, [header("Mcp-Session-Id", sid), header("Cache-Control", "no-store"),
                          header("X-Accel-Buffering", "no")])
    media = SPEC["paths"]["/mcp"]["get"]["responses"]["200"]["content"]["text/event-stream"]
    retry, frames = parse_sse(r.text)
    if retry != "2000":
        why.append(f"retry {retry!r}")
    updated = []
    for n, f in enumerate(frames, 1):
        if f.get("id") != str(n) or set(f) != {"id", "data"}:
            why.append(f"frame {n}: {f}")
            continue
        try:
            data = json.loads(f["data"])
        except ValueError:
            why.append(f"frame {n}: data is not JSON")
            continue
        why += [f"frame {n}: {m}" for m in validate(data, media["schema"]["x-sse-data"])]
        if data.get("method") == "notifications/resources/updated":
            updated.append(data["params"]["uri"])
    if updated != ["roster://profiles/ct-child"]:
        why.append(f"resources/updated for {updated}, expected ct-child once")
    record(not why, name + f": {len(frames)} messages", "; ".join(why))


# ----------------------------------------------------------------- versions
IMMUTABLE = "public, max-age=31536000, immutable"
ZERO_DIGEST = "sha256:" + "0" * 64
VARY_ACCEPT = r"Accept, Accept-Encoding(, Origin)?"


def digest_of(pid):
    """The current digest of a profile, asked directly (no proxy)."""
    try:
        return send(DIRECT, "GET", f"/v1/profiles/{pid}").json()["digest"]
    except (requests.RequestException, ValueError, KeyError):
        return ZERO_DIGEST


def pinned(digest):
    """What every answer about one version carries (200, 304, HEAD)."""
    return [header("Cache-Control", re.escape(IMMUTABLE)), header("Roster-Digest", re.escape(digest)),
            header("ETag", r'"[0-9a-f]{32}(-gz)?"')]


def identical(want, headers=None):
    """The version's bytes and ETag, asked again directly with the same
    Accept (Prism forwards JSON re-serialized, without its final newline),
    are `want`: those of another route (a path, asked directly now with
    `headers`) or a (body, ETag) captured before an edit."""
    def chk(r):
        path = r.request.path_url
        got = send(DIRECT, "GET", path, {"Accept": r.request.headers.get("Accept", "*/*")})
        if isinstance(want, str):
            w = send(DIRECT, "GET", want, headers)
            body, etag, what = w.content, w.headers.get("ETag"), f"GET {want}"
        else:
            (body, etag), what = want, "the bytes before the edit"
        if got.content != body or got.headers.get("ETag") != etag:
            return (f"GET {path}: {len(got.content)} bytes, ETag {got.headers.get('ETag')}; {what}: "
                    f"{len(body)} bytes, ETag {etag}")
        return None
    return chk


def versions_current():
    """The three versions routes on the current version of worker-sre (its
    digest from GET /v1/profiles/{id}): listing, paging, pinned profile and
    prompt in both media types, 304, HEAD, OPTIONS, and every error."""
    pid = "worker-sre"
    base = f"/v1/profiles/{pid}"
    digest = digest_of(pid)
    link = f"{base}/versions/{digest}"
    lineage = ["base.md", "worker-devops.md", "worker-sre.md"]
    ok("GET", f"{base}/versions", 200, name=f"GET {base}/versions (the current version)", checks=COMMON + [
        header("Content-Type", "application/json"), header("Cache-Control", "no-cache"),
        header("ETag", r'"[0-9a-f]{32}"'),
        header("Roster-Digest", re.escape(digest)),
        json_is(lambda d: d["id"] == pid and d["history"] is True and d["next_cursor"] is None and d["skipped"] == []
                and [(i["digest"], i["current"], i["link"]) for i in d["items"]] == [(digest, True, link)]
                and [f["path"] for f in d["items"][0]["lineage"]] == lineage
                and d["items"][0]["last_seen"] >= d["items"][0]["first_seen"] > 0, "one current version")])
    # (If-None-Match: *: the listing's ETag changes with every answer, since
    # the current version's last_seen is "now")
    ok("GET", f"{base}/versions", 304, headers={"If-None-Match": "*"},
       name=f"GET {base}/versions If-None-Match: * -> 304",
       checks=[header("Roster-Digest", re.escape(digest))])
    ok("GET", f"{base}/versions?limit=1", 200, checks=[json_is(
        lambda d: len(d["items"]) == 1 and d["next_cursor"] is None, "the only version: no next page")])
    ok("HEAD", f"{base}/versions", 200, checks=[header("Content-Type", "application/json"),
                                                header("Roster-Digest", re.escape(digest))])
    ok("HEAD", "/v1/profiles/nobody/versions", 404)
    ok("OPTIONS", f"{base}/versions", 204, checks=[header("Allow", "GET, HEAD, OPTIONS")])
    ok("GET", "/v1/profiles/worker-sr/versions", 404, checks=ERR + [
        code("profile_not_found"), json_is(lambda d: "worker-sre" in d["suggestions"], "suggestions")])
    ok("GET", f"{base}/versions", 406, headers={"Accept": "text/markdown"},
       name=f"GET {base}/versions Accept: text/markdown -> 406", checks=ERR + [code("not_acceptable")])
    ok("GET", f"{base}/versions?x=1", 400, checks=ERR + [code("unknown_parameter")],
       name=f"GET {base}/versions?x=1 -> 400 unknown_parameter")
    bad("GET", f"{base}/versions?limit=0", 400, "limit below 1", checks=ERR + [code("invalid_query")])
    bad("GET", f"{base}/versions?cursor=***", 400, "cursor pattern", checks=ERR + [code("invalid_query")])
    ok("GET", f"{base}/versions?cursor=abc", 400, checks=ERR + [code("invalid_query")],
       name=f"GET {base}/versions?cursor=<not issued> -> 400 invalid_query")
    bad("GET", "/v1/profiles/Base/versions", 400, "id pattern", checks=ERR + [code("invalid_id")])

    # the profile pinned by its current digest: GET /v1/profiles/{id}'s bytes and ETag
    ok("GET", link, 200, name=f"GET {base}/versions/<current digest> (= GET {base}, immutable)", checks=COMMON + [
        header("Content-Type", "application/json"), header("Vary", "Accept-Encoding(, Origin)?"), *pinned(digest),
        identical(base), json_is(lambda d: d["digest"] == digest and d["stale"] is False, "the version")])
    vetag = send(DIRECT, "GET", link).headers.get("ETag", '"x"')
    ok("GET", link, 304, headers={"If-None-Match": vetag}, name=f"GET {base}/versions/<digest> If-None-Match -> 304",
       checks=pinned(digest))
    ok("GET", f"{base}/versions/{digest[7:]}", 200, name=f"GET {base}/versions/<64 digits alone>",
       checks=pinned(digest) + [identical(base)])
    ok("GET", f"{base}/versions/{digest[7:].upper()}", 200, name=f"GET {base}/versions/<64 upper-case digits>",
       checks=pinned(digest))
    ok("GET", link, 200, headers={"Accept-Encoding": "gzip"}, name=f"GET {base}/versions/<digest> gzip",
       checks=pinned(digest) + [header("ETag", r'"[0-9a-f]{32}-gz"')])
    ok("HEAD", link, 200, name=f"HEAD {base}/versions/<digest>", checks=pinned(digest))
    ok("HEAD", link, 304, headers={"If-None-Match": vetag}, name=f"HEAD {base}/versions/<digest> If-None-Match -> 304")
    ok("OPTIONS", link, 204, name=f"OPTIONS {base}/versions/<digest>", checks=[header("Allow", "GET, HEAD, OPTIONS")])
    bad("GET", f"{base}/versions/sha256:abc", 400, "digest pattern", checks=ERR + [code("invalid_digest")])
    bad("GET", f"{base}/versions/md5:{'0' * 32}", 400, "digest pattern", checks=ERR + [code("invalid_digest")])
    bad("HEAD", f"{base}/versions/sha256:abc", 400, "digest pattern")
    ok("GET", f"{base}/versions/{ZERO_DIGEST}", 404, name=f"GET {base}/versions/<unknown digest> -> 404",
       checks=ERR + [code("version_not_found"), json_is(lambda d: "no stored version" in d["detail"], "detail")])
    ok("HEAD", f"{base}/versions/{ZERO_DIGEST}", 404, name=f"HEAD {base}/versions/<unknown digest> -> 404")
    ok("GET", f"/v1/profiles/base/versions/{digest}", 404, name="GET another profile's digest -> 404 version_not_found",
       checks=ERR + [code("version_not_found")])
    ok("GET", f"/v1/profiles/worker-sr/versions/{digest}", 404, name="GET .../versions/<digest> of no profile -> 404",
       checks=ERR + [code("profile_not_found"), json_is(lambda d: "worker-sre" in d["suggestions"], "suggestions")])
    ok("GET", f"{link}?x=1", 400, name=f"GET {base}/versions/<digest>?x=1 -> 400 unknown_parameter",
       checks=ERR + [code("unknown_parameter")])
    ok("GET", link, 406, headers={"Accept": "text/markdown"},
       name=f"GET {base}/versions/<digest> Accept: text/markdown -> 406",
       checks=ERR + [code("not_acceptable")])
    bad("GET", f"/v1/profiles/Base/versions/{digest}", 400, "id pattern", checks=ERR + [code("invalid_id")])

    # its prompt, by Accept: GET .../prompt's bytes and ETag for each media type
    prompt = f"{link}/prompt"
    md, js = {"Accept": "text/markdown"}, {"Accept": "application/json"}
    ok("GET", prompt, 200, headers=md, name=f"GET {base}/versions/<digest>/prompt (Markdown, = GET {base}/prompt)",
       checks=COMMON + [header("Content-Type", r"text/markdown; charset=utf-8"), header("Vary", VARY_ACCEPT),
                        *pinned(digest), identical(f"{base}/prompt", md)])
    ok("GET", prompt, 200, headers={"Accept": "*/*"},
       name=f"GET {base}/versions/<digest>/prompt Accept: */* -> Markdown",
       checks=[header("Content-Type", r"text/markdown; charset=utf-8"), identical(f"{base}/prompt", md)])
    ok("GET", prompt, 200, headers=js, name=f"GET {base}/versions/<digest>/prompt (Accept: application/json)",
       checks=COMMON + [header("Content-Type", "application/json"), header("Vary", VARY_ACCEPT), *pinned(digest),
                        identical(f"{base}/prompt", js),
                        json_is(lambda d: d["id"] == pid and d["lineage"][0] == pid, "PromptDocument")])
    for h, what in ((md, "Markdown"), (js, "JSON")):
        tag = send(DIRECT, "GET", prompt, h).headers.get("ETag", '"x"')
        ok("GET", prompt, 304, headers=dict(h, **{"If-None-Match": tag}),
           name=f"GET {base}/versions/<digest>/prompt ({what}) If-None-Match -> 304", checks=pinned(digest))
    mdtag = send(DIRECT, "GET", prompt, md).headers.get("ETag", '"x"')
    ok("GET", prompt, 200, headers=dict(js, **{"If-None-Match": mdtag}),
       name=f"GET {base}/versions/<digest>/prompt the Markdown ETag, Accept: application/json -> 200",
       checks=[header("Content-Type", "application/json")])
    ok("HEAD", prompt, 200, headers=js, name=f"HEAD {base}/versions/<digest>/prompt (Accept: application/json)",
       checks=[header("Content-Type", "application/json"), *pinned(digest)])
    ok("HEAD", prompt, 200, headers=md, name=f"HEAD {base}/versions/<digest>/prompt (Markdown)",
       checks=[header("Content-Type", r"text/markdown; charset=utf-8")])
    ok("OPTIONS", prompt, 204, name=f"OPTIONS {base}/versions/<digest>/prompt",
       checks=[header("Allow", "GET, HEAD, OPTIONS")])
    bad("GET", prompt, 406, "Accept outside the enum", headers={"Accept": "text/html"},
        checks=ERR + [code("not_acceptable")])
    bad("GET", f"{base}/versions/{'0' * 63}/prompt", 400, "digest pattern", headers=md,
        checks=ERR + [code("invalid_digest")])
    ok("GET", f"{base}/versions/{ZERO_DIGEST}/prompt", 404, headers=js,
       name=f"GET {base}/versions/<unknown digest>/prompt -> 404", checks=ERR + [code("version_not_found")])
    ok("HEAD", f"{base}/versions/{ZERO_DIGEST}/prompt", 404, headers=md,
       name=f"HEAD {base}/versions/<unknown digest>/prompt -> 404")
    ok("GET", f"{prompt}?x=1", 400, headers=md, name=f"GET {base}/versions/<digest>/prompt?x=1 -> 400",
       checks=ERR + [code("unknown_parameter")])
    for path in (f"{base}/versions", link, prompt):
        undeclared("POST", path, "GET, HEAD, OPTIONS")
    undeclared("DELETE", link, "GET, HEAD, OPTIONS")


def version_capture(pid):
    """A profile's current version as the unversioned routes send it (before
    an edit): digest, profile bytes and ETag, prompt bytes and ETag by type."""
    base = f"/v1/profiles/{pid}"
    got = {"digest": digest_of(pid)}
    for key, path, h in (("profile", base, None), ("md", f"{base}/prompt", {"Accept": "text/markdown"}),
                         ("json", f"{base}/prompt", {"Accept": "application/json"})):
        r = send(DIRECT, "GET", path, h)
        got[key] = (r.content, r.headers.get("ETag"))
    return got


def wait_stored(pid, digest):
    """The store records each snapshot on its own thread: wait (bounded) for
    the version's file, so that an edit cannot outrun it."""
    f = HISTORY / "profiles" / pid / (digest.split(":", 1)[-1] + ".v1")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not f.exists():
        time.sleep(0.1)
    record(f.exists(), f"{pid}: version {digest[:19]}... is in the history store", f"no {f}")


def versions_stored(old, stale_digest):
    """After the reload: ct-child's earlier version (old, captured before the
    edit) comes from the history store byte for byte; the listing has two
    versions, paged by limit=1 and the cursor; ct-stale's digest is its last
    good version's, served as it was (not stale)."""
    pid = "ct-child"
    base = f"/v1/profiles/{pid}"
    new = digest_of(pid)
    record(new != old["digest"] and new != ZERO_DIGEST, f"{pid}: the edit made a new digest",
           f"{old['digest']} -> {new}")
    ok("GET", f"{base}/versions", 200, name=f"GET {base}/versions after the edit (two, newest first)", checks=[
        header("Roster-Digest", re.escape(new)),
        json_is(lambda d: [(i["digest"], i["current"]) for i in d["items"]] == [(new, True), (old["digest"], False)]
                and d["items"][0]["first_seen"] >= d["items"][1]["first_seen"] and d["next_cursor"] is None, "items")])
    r = ok("GET", f"{base}/versions?limit=1", 200, name=f"GET {base}/versions?limit=1 after the edit (page 1)",
           checks=[json_is(lambda d: [i["digest"] for i in d["items"]] == [new] and d["next_cursor"], "page 1")])
    try:
        cursor = r.json()["next_cursor"] if r is not None and r.status_code == 200 else None
    except ValueError:
        cursor = None
    cursor = cursor or send(DIRECT, "GET", f"{base}/versions?limit=1").json().get("next_cursor") or "x"
    ok("GET", f"{base}/versions?limit=1&cursor={cursor}", 200, name=f"GET {base}/versions?limit=1&cursor= (page 2)",
       checks=[json_is(lambda d: [(i["digest"], i["current"], i["link"]) for i in d["items"]]
                       == [(old["digest"], False, f"{base}/versions/{old['digest']}")] and d["next_cursor"] is None,
                       "page 2: the earlier version, last page")])
    ok("HEAD", f"{base}/versions?limit=1&cursor={cursor}", 200, name=f"HEAD {base}/versions?limit=1&cursor=")

    link = f"{base}/versions/{old['digest']}"
    md, js = {"Accept": "text/markdown"}, {"Accept": "application/json"}
    ok("GET", link, 200, name=f"GET {base}/versions/<earlier digest> (from the store, byte-identical)",
       checks=COMMON + [*pinned(old["digest"]), identical(old["profile"]),
                        json_is(lambda d: d["digest"] == old["digest"] and "changed" not in d["description"], "old")])
    ok("GET", link, 304, headers={"If-None-Match": old["profile"][1] or '"x"'},
       name=f"GET {base}/versions/<earlier digest> If-None-Match -> 304", checks=pinned(old["digest"]))
    ok("HEAD", link, 200, name=f"HEAD {base}/versions/<earlier digest>", checks=pinned(old["digest"]))
    ok("GET", link + "/prompt", 200, headers=md, name=f"GET {base}/versions/<earlier digest>/prompt (Markdown, stored)",
       checks=[header("Content-Type", r"text/markdown; charset=utf-8"), header("Vary", VARY_ACCEPT),
               *pinned(old["digest"]), identical(old["md"], md)])
    ok("GET", link + "/prompt", 200, headers=js, name=f"GET {base}/versions/<earlier digest>/prompt (JSON, stored)",
       checks=[header("Content-Type", "application/json"), *pinned(old["digest"]), identical(old["json"], js)])
    ok("GET", link + "/prompt", 304, headers=dict(js, **{"If-None-Match": old["json"][1] or '"x"'}),
       name=f"GET {base}/versions/<earlier digest>/prompt (JSON) If-None-Match -> 304", checks=pinned(old["digest"]))
    ok("HEAD", link + "/prompt", 200, headers=md, name=f"HEAD {base}/versions/<earlier digest>/prompt (Markdown)",
       checks=[header("Content-Type", r"text/markdown; charset=utf-8"), *pinned(old["digest"])])
    ok("GET", f"{base}/versions/{new}", 200, name=f"GET {base}/versions/<new digest> (the current one)",
       checks=pinned(new) + [identical(base), json_is(lambda d: "changed" in d["description"], "new")])

    # a stale profile: its digest is its last good version's, served as it was
    sbase = "/v1/profiles/ct-stale"
    ok("GET", f"{sbase}/versions/{stale_digest}", 200, name="GET a stale profile's version (its last good one)",
       checks=pinned(stale_digest) + [no_header("Warning"),
                                      json_is(lambda d: d["stale"] is False and d["digest"] == stale_digest, "good")])
    ok("GET", f"{sbase}/versions", 200, name="GET a stale profile's versions (its last good one is current)",
       checks=[header("Roster-Digest", re.escape(stale_digest)),
               json_is(lambda d: [(i["digest"], i["current"]) for i in d["items"]] == [(stale_digest, True)], "items")])

def versions_diff(old):
    """GET .../versions/{digest}/diff/{other}: ct-child's earlier version (from
    the store) against its current one, and the errors."""
    base = "/v1/profiles/ct-child"
    new = digest_of("ct-child")
    link = f"{base}/versions/{old['digest']}/diff/{new}"
    r = ok("GET", link, 200, name=f"GET {base}/versions/<earlier>/diff/<current> (immutable)", checks=COMMON + [
        header("Cache-Control", re.escape("public, max-age=31536000, immutable")), header("Roster-Digest", re.escape(new)),
        json_is(lambda d: d["from"] == old["digest"] and d["to"] == new and d["changed"] is True
                and (d["fields"] or d["views"] or (d["prompt_diff"] or "").startswith("--- ")), "the diff")])
    tag = r.headers.get("ETag") if r is not None else '"x"'
    ok("GET", link, 304, headers={"If-None-Match": tag or '"x"'}, name=f"GET {base}/versions/<a>/diff/<b> If-None-Match -> 304")
    ok("GET", f"{base}/versions/{new}/diff/{new}", 200, name=f"GET {base}/versions/<b>/diff/<b> (nothing changed)",
       checks=[json_is(lambda d: d["changed"] is False and d["prompt_diff"] is None and d["views"] == {}, "same")])
    ok("HEAD", link, 200, name=f"HEAD {base}/versions/<a>/diff/<b>")
    ok("OPTIONS", link, 204, name=f"OPTIONS {base}/versions/<a>/diff/<b>", checks=[header("Allow", "GET, HEAD, OPTIONS")])
    bad("GET", f"{base}/versions/{old['digest']}/diff/sha256:abc", 400, "digest pattern",
        checks=ERR + [code("invalid_digest")])
    ok("GET", f"{base}/versions/{old['digest']}/diff/{ZERO_DIGEST}", 404,
       name=f"GET {base}/versions/<a>/diff/<unknown> -> 404", checks=ERR + [code("version_not_found")])
    ok("HEAD", f"{base}/versions/{ZERO_DIGEST}/diff/{new}", 404, name=f"HEAD {base}/versions/<unknown>/diff/<b> -> 404")
    ok("GET", f"/v1/profiles/worker-sr/versions/{new}/diff/{new}", 404,
       name="GET .../diff of no profile -> 404", checks=ERR + [code("profile_not_found")])
    ok("GET", f"{link}?x=1", 400, name=f"GET {base}/versions/<a>/diff/<b>?x=1 -> 400",
       checks=ERR + [code("unknown_parameter")])
    ok("GET", link, 406, headers={"Accept": "text/markdown"}, name=f"GET {base}/versions/<a>/diff/<b> Accept: text/markdown -> 406",
       checks=ERR + [code("not_acceptable")])
    undeclared("POST", link, "GET, HEAD, OPTIONS")


# ----------------------------------------------------------------- the cases
def main():
    other_boot = "000000000000-1"
    streams = [Stream("new events", {"Accept": "text/event-stream"}),
               Stream("Last-Event-ID of another boot", {"Accept": "text/event-stream",
                                                        "Last-Event-ID": other_boot})]
    for s in streams:
        s.start()
    mcp_sid, mcp_stream = mcp_open()

    # --- list, filters, paging
    r = ok("GET", "/v1/profiles", 200, checks=COMMON + [header("ETag", r'"[0-9a-f]{32}"'),
                                                        header("Content-Type", "application/json")])
    etag = r.headers.get("ETag") if r is not None else '"x"'
    ok("GET", "/v1/profiles", 304, headers={"If-None-Match": etag}, name="GET /v1/profiles If-None-Match -> 304")
    ok("GET", "/v1/profiles?category=worker&limit=1", 200,
       checks=[json_is(lambda d: d["total"] == 2 and len(d["items"]) == 1 and d["next_cursor"], "paging")])
    r = send(DIRECT, "GET", "/v1/profiles?category=worker&limit=1")
    cursor = r.json().get("next_cursor") or "x"
    ok("GET", f"/v1/profiles?category=worker&limit=1&cursor={cursor}", 200,
       checks=[json_is(lambda d: ids_of_doc(d) == ["worker-sre"] and d["next_cursor"] is None, "second page")])
    ok("GET", "/v1/profiles?role=sre", 200, checks=[json_is(lambda d: ids_of_doc(d) == ["worker-sre"], "role")])
    ok("GET", "/v1/profiles?q=reliability", 200, checks=[json_is(lambda d: "worker-sre" in ids_of_doc(d), "q")])
    ok("GET", "/v1/profiles?extends=worker-devops", 200,
       checks=[json_is(lambda d: "worker-sre" in ids_of_doc(d), "extends")])
    # extends: as written (a file stem) and as resolved (the parent's id)
    ok("GET", "/v1/profiles?extends=ct-parent-file", 200, name="GET /v1/profiles?extends=<as written>",
       checks=[json_is(lambda d: ids_of_doc(d) == ["ct-child"], "extends as written")])
    ok("GET", "/v1/profiles?extends=ct-parent", 200, name="GET /v1/profiles?extends=<resolved id>",
       checks=[json_is(lambda d: ids_of_doc(d) == ["ct-child"], "extends resolved")])
    for spelling in ("2", "2.0", "2e0", "0.2e1"):
        ok("GET", f"/v1/profiles?limit={spelling}", 200,
           checks=[json_is(lambda d: len(d["items"]) == 2, f"limit={spelling}")])
    ok("GET", "/v1/profiles", 406, headers={"Accept": "text/html"}, name="GET /v1/profiles Accept: text/html -> 406",
       checks=ERR + [code("not_acceptable")])
    ok("GET", "/v1/profiles?fields=id,name,lineage", 200, checks=[header("Content-Type", PROJECTION), json_is(
        lambda d: all(list(i) == ["id", "name", "lineage"] for i in d["items"]), "keys")])
    ok("GET", "/v1/profiles?fields=id&fields=name&limit=2", 200, checks=[header("Content-Type", PROJECTION), json_is(
        lambda d: len(d["items"]) == 2 and all(list(i) == ["id", "name"] for i in d["items"]), "repeated fields")])
    ok("GET", "/v1/profiles?fields=id", 200, headers={"Accept": "application/vnd.roster.projection+json"},
       name="GET /v1/profiles?fields=id Accept: <projection type>", checks=[header("Content-Type", PROJECTION)])
    bad("GET", "/v1/profiles?limit=0", 400, "limit below 1", checks=ERR + [code("invalid_query")])
    bad("GET", "/v1/profiles?limit=2.5", 400, "limit not an integer", checks=ERR + [code("invalid_query")])
    bad("GET", "/v1/profiles?fields=nope", 400, "unknown field", checks=ERR + [code("invalid_query")])
    bad("GET", "/v1/profiles?cursor=***", 400, "cursor pattern", checks=ERR + [code("invalid_query")])
    bad("GET", "/v1/profiles?q=" + "a" * 9000, 414, "q over maxLength, target over 8192 bytes",
        checks=ERR + [code("uri_too_long")])
    ok("GET", "/v1/profiles", 431, headers={"X-Padding": "p" * 17000},
       name="GET /v1/profiles with 17000 bytes of header fields -> 431", checks=ERR + [code("headers_too_large")])

    # --- one profile
    r = ok("GET", "/v1/profiles/worker-sre", 200, checks=COMMON + [
        json_is(lambda d: d["lineage"] == ["worker-sre", "worker-devops", "base"] and d["stale"] is False, "profile")])
    etag = r.headers.get("ETag") if r is not None else '"x"'
    ok("GET", "/v1/profiles/worker-sre", 304, headers={"If-None-Match": etag},
       name="GET /v1/profiles/worker-sre If-None-Match -> 304")
    ok("GET", "/v1/profiles/base", 200, headers={"Accept-Encoding": "gzip"}, name="GET /v1/profiles/base gzip")
    ok("GET", "/v1/profiles/worker-sre?fields=id,role,lineage", 200, checks=[
        header("Content-Type", PROJECTION), json_is(lambda d: list(d) == ["id", "role", "lineage"], "keys")])
    ok("GET", "/v1/profiles/base?fields=role&fields=source", 200, checks=[
        header("Content-Type", PROJECTION), json_is(lambda d: list(d) == ["role", "source"], "repeated fields")])
    ok("GET", "/v1/profiles/base?fields=id", 200, headers={"Accept": "application/vnd.roster.projection+json"},
       name="GET /v1/profiles/base?fields=id Accept: <projection type>", checks=[header("Content-Type", PROJECTION)])
    ok("GET", "/v1/profiles/worker-sr", 404, checks=ERR + [code("profile_not_found"),
                                                          json_is(lambda d: "worker-sre" in d["suggestions"], "sugg")])
    ok("GET", "/v1/profiles/ct-broken", 404, checks=ERR + [code("profile_invalid"),
                                                          json_is(lambda d: d["diagnostics"], "diagnostics")])
    bad("GET", "/v1/profiles/Base", 400, "id pattern", checks=ERR + [code("invalid_id")])
    bad("GET", "/v1/profiles/" + "a" * 129, 400, "id maxLength", checks=ERR + [code("invalid_id")])
    ok("GET", "/v1/profiles/base", 406, headers={"Accept": "text/markdown"},
       name="GET /v1/profiles/base Accept: text/markdown -> 406", checks=ERR)

    # --- views
    views = {"role": "role", "competencies": "competencies", "work-patterns": "work_patterns",
             "tool-priorities": "tool_priorities", "output-standards": "output_standards",
             "anti-patterns": "anti_patterns", "sections": "sections", "lineage": "lineage",
             "variables": "variables"}
    for view, key in views.items():
        for pid in ("base", "worker-devops", "worker-sre"):
            ok("GET", f"/v1/profiles/{pid}/{view}", 200,
               checks=[json_is(lambda d, k=key, p=pid: list(d) == ["id", k] and d["id"] == p, "view keys")])
        ok("HEAD", f"/v1/profiles/worker-sre/{view}", 200)
        ok("OPTIONS", f"/v1/profiles/worker-sre/{view}", 204, checks=[header("Allow", "GET, HEAD, OPTIONS")])
        ok("GET", f"/v1/profiles/nobody/{view}", 404, checks=ERR + [code("profile_not_found")])
        ok("GET", f"/v1/profiles/worker-sre/{view}?x=1", 400, checks=ERR + [code("unknown_parameter")],
           name=f"GET /v1/profiles/worker-sre/{view}?x=1 -> 400 unknown_parameter")
    ok("GET", "/v1/profiles/base/prompt", 200, headers={"Accept": "text/markdown"},
       checks=[header("Content-Type", r"text/markdown; charset=utf-8")])
    ok("GET", "/v1/profiles/base/prompt", 200, headers={"Accept": "*/*"}, name="GET prompt Accept: */* -> Markdown",
       checks=[header("Content-Type", r"text/markdown; charset=utf-8")])
    ok("GET", "/v1/profiles/worker-sre/prompt", 200, headers={"Accept": "application/json"},
       name="GET prompt Accept: application/json",
       checks=[header("Content-Type", "application/json"),
               json_is(lambda d: d["lineage"][0] == "worker-sre" and len(d["sha256"]) == 64, "PromptDocument")])
    bad("GET", "/v1/profiles/base/prompt", 406, "Accept outside the enum", headers={"Accept": "text/html"},
        checks=ERR + [code("not_acceptable")])
    ok("HEAD", "/v1/profiles/base/prompt", 200, headers={"Accept": "application/json"},
       checks=[header("Content-Type", "application/json")], name="HEAD prompt Accept: application/json")
    ok("OPTIONS", "/v1/profiles/base/prompt", 204)
    ok("GET", "/v1/profiles/worker-sre/source", 200, headers={"Accept": "text/markdown"},
       checks=[header("Content-Type", r"text/markdown; charset=utf-8")])
    ok("GET", "/v1/profiles/worker-sre/prompt?x=1", 400, headers={"Accept": "text/markdown"},
       checks=ERR + [code("unknown_parameter")], name="GET prompt?x=1 -> 400 unknown_parameter")
    bad("GET", "/v1/profiles/base/source", 406, "Accept outside the enum", headers={"Accept": "application/json"},
        checks=ERR + [code("not_acceptable")])
    ok("HEAD", "/v1/profiles/base/source", 200, headers={"Accept": "text/markdown"})
    ok("OPTIONS", "/v1/profiles/base/source", 204)

    # --- templates: the variables view and POST .../prompt
    ok("GET", "/v1/profiles/ct-template/variables", 200, name="GET variables view of a template",
       checks=[json_is(lambda d: [v["name"] for v in d["variables"]] == ["language", "task"]
                       and d["variables"][1]["required"] is True, "declarations")])
    ok("GET", "/v1/profiles/ct-template", 200, name="GET a profile with variables",
       checks=[json_is(lambda d: len(d["variables"]) == 2, "profile variables")])
    ok("GET", "/v1/profiles/ct-template?fields=id,variables", 200, name="GET fields=id,variables",
       checks=[header("Content-Type", PROJECTION), json_is(lambda d: list(d) == ["id", "variables"], "keys")])
    render = "/v1/profiles/ct-template/prompt"
    body = json.dumps({"variables": {"task": "fix the build", "language": "C"}})
    ct = {"Content-Type": "application/json"}
    ok("POST", render, 200, headers=dict(ct, Accept="text/markdown"), data=body,
       name="POST prompt (Markdown)", checks=COMMON + [
           header("Content-Type", r"text/markdown; charset=utf-8"), header("Cache-Control", "no-store"),
           no_header("ETag"), lambda r: None if r.text.endswith("Do this: fix the build, in C.") else r.text[-200:]])
    ok("POST", render, 200, headers=dict(ct, Accept="application/json"),
       data=json.dumps({"variables": {"task": "x"}}), name="POST prompt (Accept: application/json)",
       checks=[header("Content-Type", "application/json"), no_header("ETag"),
               json_is(lambda d: d["variables"] == {"language": "Go", "task": "x"} and d["lineage"] == ["ct-template"]
                       and len(d["sha256"]) == 64, "RenderedPrompt")])
    ok("POST", render, 200, headers=dict(ct, Accept="*/*"), data=json.dumps({"variables": {"task": "t"}}),
       name="POST prompt Accept: */* -> Markdown, defaults applied",
       checks=[header("Content-Type", r"text/markdown; charset=utf-8"),
               lambda r: None if r.text.endswith("Do this: t, in Go.") else r.text[-200:]])
    ok("POST", render, 422, headers=ct, data=json.dumps({"variables": {"language": "Rust", "nope": "x"}}),
       name="POST prompt -> 422 every offending variable", checks=ERR + [code("invalid_variables"), json_is(
           lambda d: sorted((e["name"], e["reason"]) for e in d["errors"]) ==
           [("language", "not_in_enum"), ("nope", "unknown"), ("task", "missing")], "errors")])
    ok("POST", "/v1/profiles/nobody/prompt", 404, headers=ct, data="{}", checks=ERR + [code("profile_not_found")])
    # not here: 308 (Prism follows redirects upstream), 413 (Prism forwards the body
    # re-serialized, without its padding) and malformed JSON (Prism answers it itself):
    # tests/http/test_templates.py checks them against the spec
    ok("POST", render + "?x=1", 400, headers=ct, data="{}", name="POST prompt?x=1 -> 400 unknown_parameter",
       checks=ERR + [code("unknown_parameter")])
    bad("POST", render, 422, "value not a string", headers=ct, data=json.dumps({"variables": {"task": 5}}),
        checks=ERR + [code("invalid_variables"), json_is(lambda d: d["errors"][0]["reason"] == "not_string", "reason")])
    bad("POST", render, 400, "unknown top-level key", headers=ct, data='{"vars": {}}',
        checks=ERR + [code("invalid_body")])
    bad("POST", render, 415, "Content-Type not declared", headers={"Content-Type": "text/plain"}, data="{}",
        checks=ERR + [code("unsupported_media_type")])
    bad("POST", render, 406, "Accept outside the enum", headers=dict(ct, Accept="text/html"), data="{}",
        checks=ERR + [code("not_acceptable")])
    bad("POST", "/v1/profiles/Base/prompt", 400, "id pattern", headers=ct, data="{}", checks=ERR + [code("invalid_id")])
    ok("OPTIONS", render, 204, name="OPTIONS prompt allows POST", checks=[header("Allow", "GET, HEAD, POST, OPTIONS")])

    # --- profile HEAD / OPTIONS
    ok("HEAD", "/v1/profiles", 200)
    ok("HEAD", "/v1/profiles?fields=id", 200, name="HEAD /v1/profiles?fields=id")
    ok("HEAD", "/v1/profiles/base", 200)
    ok("HEAD", "/v1/profiles/worker-sr", 404)
    bad("HEAD", "/v1/profiles/Base", 400, "id pattern")
    ok("HEAD", "/v1/profiles", 431, headers={"X-Padding": "p" * 17000}, name="HEAD /v1/profiles big headers -> 431")
    bad("HEAD", "/v1/profiles?q=" + "a" * 9000, 414, "target over 8192 bytes")
    ok("OPTIONS", "/v1/profiles", 204, checks=[header("Allow", "GET, HEAD, OPTIONS")])
    ok("OPTIONS", "/v1/profiles/base", 204)

    # --- versions: the current one (the stored ones after the reload below)
    versions_current()

    # --- facets, diagnostics
    ok("GET", "/v1/facets", 200, checks=[json_is(lambda d: d["categories"].get("worker") == 2, "facets")])
    ok("GET", "/v1/facets?x=1", 400, checks=ERR + [code("unknown_parameter")], name="GET /v1/facets?x=1 -> 400")
    ok("HEAD", "/v1/facets", 200)
    ok("OPTIONS", "/v1/facets", 204)
    ok("GET", "/v1/diagnostics", 200, checks=[json_is(lambda d: d["counts"]["error"] >= 1, "errors counted")])
    ok("GET", "/v1/diagnostics?severity=error", 200,
       checks=[json_is(lambda d: any(i["file"] == "ct-broken.md" for i in d["items"]), "ct-broken diagnosed")])
    bad("GET", "/v1/diagnostics?severity=fatal", 400, "severity enum", checks=ERR + [code("invalid_query")])
    ok("HEAD", "/v1/diagnostics", 200)
    ok("OPTIONS", "/v1/diagnostics", 204)

    # --- meta
    for path, accept, ctype in (("/health", None, "application/json"), ("/ready", None, "application/json"),
                                ("/version", None, "application/json"),
                                ("/metrics", "text/plain", r"text/plain; version=0\.0\.4; charset=utf-8"),
                                ("/openapi.yaml", "application/yaml", "application/yaml")):
        h = {"Accept": accept} if accept else None
        ok("GET", path, 200, headers=h, checks=COMMON + [header("Content-Type", ctype)])
        ok("HEAD", path, 200, headers=h)
        ok("OPTIONS", path, 204, checks=[header("Allow", "GET, HEAD, OPTIONS")])
        ok("GET", path + "?x=1", 400, headers=h, checks=ERR + [code("unknown_parameter")],
           name=f"GET {path}?x=1 -> 400 unknown_parameter")
        ok("GET", path, 431, headers=dict(h or {}, **{"X-Padding": "p" * 17000}),
           name=f"GET {path} with 17000 bytes of header fields -> 431", checks=ERR + [code("headers_too_large")])
    ok("GET", "/openapi.yaml", 200, headers={"Accept": "application/openapi+yaml"},
       name="GET /openapi.yaml Accept: application/openapi+yaml",
       checks=[lambda r: None if yaml.safe_load(r.text) == SPEC else "served document differs from CONTRACT_SPEC"])
    bad("GET", "/openapi.yaml", 406, "Accept outside the enum", headers={"Accept": "application/json"},
        checks=ERR + [code("not_acceptable")])
    bad("GET", "/metrics", 406, "Accept outside the enum", headers={"Accept": "application/json"},
        checks=ERR + [code("not_acceptable")])
    ok("GET", "/ready", 200, checks=[json_is(
        lambda d: d["profiles"]["invalid"] == 1 and d["profiles"]["stale"] == 0, "ready: 1 invalid (ct-broken)")])
    ok("GET", "/health", 200, headers={"X-Request-Id": "contract-test.1"},
       checks=[header("X-Request-Id", r"contract-test\.1")], name="GET /health echoes X-Request-Id")

    # --- events (the streams above are open; HEAD, OPTIONS and errors here)
    ok("HEAD", "/v1/events", 200, headers={"Accept": "text/event-stream"},
       checks=[header("Content-Type", "text/event-stream"), header("Cache-Control", "no-store")])
    ok("OPTIONS", "/v1/events", 204, checks=[header("Allow", "GET, HEAD, OPTIONS")])
    bad("GET", "/v1/events", 406, "Accept outside the enum", headers={"Accept": "text/html"},
        checks=ERR + [code("not_acceptable")])
    bad("GET", "/v1/events", 400, "Last-Event-ID pattern", headers={"Accept": "text/event-stream",
                                                                    "Last-Event-ID": "42"},
        checks=ERR + [code("invalid_last_event_id")])
    bad("HEAD", "/v1/events", 400, "Last-Event-ID pattern", headers={"Accept": "text/event-stream",
                                                                     "Last-Event-ID": "abc"})
    ok("GET", "/v1/events?x=1", 400, headers={"Accept": "text/event-stream"},
       checks=ERR + [code("unknown_parameter")], name="GET /v1/events?x=1 -> 400 unknown_parameter")

    # --- methods the spec does not declare: 405 (described once)
    for path in ("/v1/profiles", "/v1/profiles/base", "/v1/profiles/base/lineage", "/v1/profiles/base/variables",
                 "/v1/facets", "/health", "/metrics", "/v1/events", "/openapi.yaml"):
        undeclared("POST", path, "GET, HEAD, OPTIONS")
    undeclared("PUT", "/v1/profiles/base/prompt", "GET, HEAD, POST, OPTIONS")
    undeclared("DELETE", "/v1/profiles/ct-template/prompt", "GET, HEAD, POST, OPTIONS")
    undeclared("DELETE", "/v1/profiles/base/role", "GET, HEAD, OPTIONS")
    undeclared("PUT", "/version", "GET, HEAD, OPTIONS")
    undeclared("GET", "/v1/admin/reload", "POST, OPTIONS")
    undeclared("PATCH", "/v1/admin/reload", "POST, OPTIONS")

    # --- mcp
    mcp_cases(mcp_sid)

    # --- admin
    bad("POST", "/v1/admin/reload", 401, "no bearer token", checks=ERR + [code("unauthorized"),
                                                                         header("WWW-Authenticate", "Bearer.*")])
    ok("POST", "/v1/admin/reload", 403, headers={"Authorization": "Bearer " + "w" * 24},
       name="POST /v1/admin/reload wrong token -> 403", checks=ERR + [code("forbidden")])
    ok("OPTIONS", "/v1/admin/reload", 204, checks=[header("Allow", "POST, OPTIONS")])

    # --- a reload: one profile changes, one goes stale; events are published
    child_v1 = version_capture("ct-child")
    stale_digest = digest_of("ct-stale")
    wait_stored("ct-child", child_v1["digest"])
    gen = send(DIRECT, "GET", "/ready").json()["generation"]
    child = PROFILES / "ct-child.md"
    child.write_text(child.read_text().replace("Contract child", "Contract child, changed"))
    stale = PROFILES / "ct-stale.md"
    stale.write_text(stale.read_text().replace("name: Contract Stale", "name: [Contract Stale"))
    ok("POST", "/v1/admin/reload", 202, headers={"Authorization": "Bearer " + TOKEN},
       checks=[json_is(lambda d: d == {"status": "accepted"}, "accepted")])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and send(DIRECT, "GET", "/ready").json()["generation"] <= gen:
        time.sleep(0.1)
    ok("GET", "/v1/profiles/ct-stale", 200, name="GET stale profile (Warning, stale: true)",
       checks=[header("Warning", "299 rosterd .*"), json_is(lambda d: d["stale"] is True, "stale")])
    ok("HEAD", "/v1/profiles/ct-stale", 200, name="HEAD stale profile", checks=[header("Warning", "299 rosterd .*")])
    ok("GET", "/v1/profiles/ct-stale/role", 200, name="GET stale profile's view",
       checks=[header("Warning", "299 rosterd .*")])
    ok("POST", "/v1/profiles/ct-stale/prompt", 200, headers={"Content-Type": "application/json"}, data="{}",
       name="POST stale profile's prompt (Warning)", checks=[header("Warning", "299 rosterd .*")])
    listed = send(DIRECT, "GET", "/v1/profiles?limit=500").json()["total"]
    ok("GET", "/ready", 200, name="GET /ready after the reload (served/stale/invalid partition)",
       checks=[json_is(lambda d: d["generation"] > gen and d["profiles"]["stale"] == 1
                       and d["profiles"]["invalid"] == 1
                       and d["profiles"]["served"] + d["profiles"]["stale"] == listed, "counts")])
    # --- versions after the edit: the earlier one from the history store
    versions_stored(child_v1, stale_digest)
    versions_diff(child_v1)

    # --- end the streams: the MCP session's by DELETE, the others by stopping rosterd
    time.sleep(0.5)
    mcp_close(mcp_sid, mcp_stream)
    os.kill(ROSTERD_PID, signal.SIGTERM)
    for s in streams:
        s.join(40)
    check_stream(streams[0])
    check_stream(streams[1], expect_first=("gap", lambda d: isinstance(d, dict) and d.get("reason") == "other_boot"
                                           and d.get("requested") == other_boot))

    # --- every operation was exercised through a proxy
    ops = {(tpl, m) for tpl, item in SPEC["paths"].items() for m in METHODS if m in item}
    missing = sorted(ops - COVERED)
    record(not missing, f"every operation went through Prism ({len(ops)} operations)",
           "not exercised: " + ", ".join(f"{m.upper()} {p}" for p, m in missing))
    print(f"prism_replay: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


def ids_of_doc(d):
    return [i["id"] for i in d["items"]]


if __name__ == "__main__":
    sys.exit(main())
