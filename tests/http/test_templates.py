"""Prompt templates over HTTP (issue #14): POST /v1/profiles/{id}/prompt renders
the prompt with the variables of a JSON body, GET .../variables lists the
declarations. Every answer is validated against openapi/openapi.yaml (Api and
raw_request do it); the profiles are tests/fixtures/templates/ next to the
repository's own.
"""
import hashlib
import json
import re
import shutil
import socket
import time

import pytest
import requests

from conftest import HOST, REPO, SPEC, Server, check_response, make_profiles, raw_request

TEMPLATES = REPO / "tests" / "fixtures" / "templates"
JSON_BODY = {"Content-Type": "application/json"}
MD = "text/markdown; charset=utf-8"
BODY_MAX = 1 << 20
ALL = {"task": "fix the build", "language": "Python", "repo_url": "https://example.com/r.git", "ticket": "T-42"}


def template_profiles(dest):
    d = make_profiles(dest, fixtures=False)
    for src in sorted(TEMPLATES.glob("*.md")):
        shutil.copyfile(src, d / src.name)
    return d


@pytest.fixture(scope="module")
def tsrv(rosterd, tmp_path_factory):
    srv = Server(template_profiles(tmp_path_factory.mktemp("templates") / "profiles")).start()
    yield srv
    assert srv.stop() == 0, "rosterd did not exit 0: " + srv.stderr_text()[-2000:]


@pytest.fixture
def api(tsrv):
    a = tsrv.api()
    yield a
    a.close()


def post(api, pid, body=None, headers=None, data=None):
    """POST .../prompt with a JSON body (data: the raw bytes instead)."""
    if data is None:
        data = json.dumps({} if body is None else body).encode()
    return api.post(f"/v1/profiles/{pid}/prompt", headers={**JSON_BODY, **(headers or {})}, data=data)


def problem(r, status, code):
    assert r.status_code == status, (r.status_code, r.content[:500])
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.headers["Cache-Control"] == "no-store"
    doc = r.json()
    assert doc["code"] == code and doc["status"] == status, doc
    return doc


def template(api, pid):
    r = api.get(f"/v1/profiles/{pid}/prompt")
    assert r.status_code == 200
    return r.text


def rendered_parent(tmpl, v):
    """tpl-parent's prompt with v filled in: two of the three `{{ task }}` (the
    third is in a ```raw fence), `{{{{` as `{{`."""
    out = tmpl.replace("{{ task }}", v["task"], 2).replace("{{language}}", v["language"])
    for ph, name in (("{{ repo_url }}", "repo_url"), ("{{ticket}}", "ticket")):
        if name in v:
            out = out.replace(ph, v[name])
    return out.replace("{{{{", "{{")


def errors_of(doc):
    return sorted((e["name"], e["reason"]) for e in doc["errors"])


# ----------------------------------------------------------------- rendering
def test_render_with_all_variables(api):
    tmpl = template(api, "tpl-parent")
    r = post(api, "tpl-parent", {"variables": ALL})
    assert r.status_code == 200, r.content
    assert r.headers["Content-Type"] == MD
    assert r.headers["Cache-Control"] == "no-store"
    assert "ETag" not in r.headers and "Warning" not in r.headers
    assert r.text == rendered_parent(tmpl, ALL)
    assert "You are dispatched to do this: fix the build. Work in Python." in r.text
    assert "- Repository: https://example.com/r.git\n- Ticket: T-42\n" in r.text


def test_render_as_json(api):
    md = post(api, "tpl-parent", {"variables": ALL}).text
    r = post(api, "tpl-parent", {"variables": ALL}, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert r.headers["Cache-Control"] == "no-store" and "ETag" not in r.headers
    doc = r.json()
    assert list(doc) == ["id", "lineage", "prompt", "sha256", "variables"]
    assert doc["id"] == "tpl-parent" and doc["lineage"] == ["tpl-parent"]
    assert doc["prompt"] == md
    assert doc["sha256"] == hashlib.sha256(md.encode()).hexdigest()
    assert doc["variables"] == ALL
    # the lineage is the GET prompt document's
    g = api.get("/v1/profiles/tpl-child/prompt", headers={"Accept": "application/json"}).json()
    c = post(api, "tpl-child", {"variables": {"task": "x"}}, headers={"Accept": "application/json"}).json()
    assert c["lineage"] == g["lineage"] == ["tpl-child", "tpl-parent"]


def test_defaults_applied(api):
    tmpl = template(api, "tpl-parent")
    r = post(api, "tpl-parent", {"variables": {"task": "write docs"}}, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.content
    doc = r.json()
    # every declared variable with a value or a default, nothing else
    assert doc["variables"] == {"language": "Go", "task": "write docs"}
    assert "Work in Go." in doc["prompt"]
    # an optional variable without value or default keeps its placeholder
    assert "- Repository: {{ repo_url }}\n- Ticket: {{ticket}}\n" in doc["prompt"]
    assert doc["prompt"] == rendered_parent(tmpl, {"task": "write docs", "language": "Go"})
    # "variables" may be left out, or be {}, when nothing is needed
    for body in ({}, {"variables": {}}):
        r = post(api, "tpl-canonical", body)
        assert r.status_code == 200 and r.text.endswith("Do nothing in particular.")
    assert post(api, "tpl-plain", {}).text == template(api, "tpl-plain")


def test_values_are_inserted_literally(api):
    value = 'a {{ language }} "quoted" <b>tag</b>\n## heading\n\u00e9\u2713 {{{{'
    r = post(api, "tpl-parent", {"variables": {"task": value}}, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.content
    doc = r.json()
    # no recursive expansion, no escaping, no unescaping
    assert f"You are dispatched to do this: {value}. Work in Go." in doc["prompt"]
    assert doc["variables"]["task"] == value


def test_escape_writes_literal_braces(api):
    tmpl = template(api, "tpl-parent")
    assert "Literal braces stay: {{{{ not a placeholder }}" in tmpl  # GET: the template as authored
    r = post(api, "tpl-parent", {"variables": {"task": "t"}})
    assert "- Literal braces stay: {{ not a placeholder }}\n" in r.text
    assert "{{{{" not in r.text


def test_code_fences(api):
    r = post(api, "tpl-parent", {"variables": {"task": "ship it"}})
    assert r.status_code == 200
    # a placeholder in a fenced code block is filled in ...
    assert '```sh\necho "ship it"\n```' in r.text
    # ... except in a fence whose info string has `raw`
    assert "```raw\n{{ task }} is written as is here\n```" in r.text


def test_inheritance_and_override(api):
    r = api.get("/v1/profiles/tpl-child/variables")
    assert r.status_code == 200
    decl = {v["name"]: v for v in r.json()["variables"]}
    assert list(decl) == sorted(decl)  # in name order
    assert set(decl) == {"audience", "language", "repo_url", "task", "ticket"}
    # the child overrides the parent's declaration of language ...
    assert decl["language"]["from"] == "tpl-child"
    assert decl["language"]["default"] == "Python" and decl["language"]["enum"] == ["Python", "Rust"]
    assert decl["language"]["description"] == "Main language of the child"
    # ... inherits the others, and adds one
    assert decl["task"]["from"] == "tpl-parent" and decl["task"]["required"] is True
    assert decl["ticket"]["max_length"] == 8 and decl["repo_url"]["pattern"] == "^https://"
    assert decl["audience"] == {"name": "audience", "description": None, "required": False, "default": "the team",
                                "enum": None, "pattern": None, "max_length": 65536, "from": "tpl-child"}
    # the parent is unchanged
    parent = {v["name"]: v for v in api.get("/v1/profiles/tpl-parent/variables").json()["variables"]}
    assert parent["language"]["enum"] == ["Go", "Python", "C"] and parent["language"]["from"] == "tpl-parent"

    r = post(api, "tpl-child", {"variables": {"task": "port it"}}, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.content
    doc = r.json()
    assert doc["variables"] == {"audience": "the team", "language": "Python", "task": "port it"}
    # the parent's text and the child's, both filled in
    assert "You are dispatched to do this: port it. Work in Python." in doc["prompt"]
    assert doc["prompt"].endswith("Written for the team; examples in Python.")
    # the child's enum, not the parent's
    assert post(api, "tpl-child", {"variables": {"task": "t", "language": "Rust"}}).status_code == 200
    doc = problem(post(api, "tpl-child", {"variables": {"task": "t", "language": "Go"}}), 422, "invalid_variables")
    assert errors_of(doc) == [("language", "not_in_enum")]
    # an inherited requirement still holds
    doc = problem(post(api, "tpl-child", {"variables": {}}), 422, "invalid_variables")
    assert errors_of(doc) == [("task", "missing")]


# ----------------------------------------------------------------- 422
@pytest.mark.parametrize("values,name,reason", [
    ({}, "task", "missing"),
    ({"task": "t", "nope": "x"}, "nope", "unknown"),
    ({"task": 5}, "task", "not_string"),
    ({"task": None}, "task", "not_string"),
    ({"task": ["a"]}, "task", "not_string"),
    ({"task": {"a": "b"}}, "task", "not_string"),
    ({"task": True}, "task", "not_string"),
    ({"task": "t", "language": "Rust"}, "language", "not_in_enum"),
    ({"task": "t", "language": "go"}, "language", "not_in_enum"),
    ({"task": "t", "repo_url": "http://example.com"}, "repo_url", "pattern_mismatch"),
    ({"task": "t", "ticket": "123456789"}, "ticket", "too_long"),
    ({"task": "x" * 65537}, "task", "too_long"),
], ids=["missing", "unknown", "number", "null", "array", "object", "boolean", "not_in_enum", "enum_is_exact",
        "pattern_mismatch", "too_long", "too_long_default_max"])
def test_each_422_reason(api, values, name, reason):
    doc = problem(post(api, "tpl-parent", {"variables": values}), 422, "invalid_variables")
    assert errors_of(doc) == [(name, reason)], doc
    assert all(e["detail"] for e in doc["errors"])
    assert name in doc["detail"] and reason in doc["detail"]


def test_max_length_counts_characters(api):
    # 8 characters, 24 bytes: within max_length 8
    assert post(api, "tpl-parent", {"variables": {"task": "t", "ticket": "\u2713" * 8}}).status_code == 200
    doc = problem(post(api, "tpl-parent", {"variables": {"task": "t", "ticket": "\u2713" * 9}}), 422,
                  "invalid_variables")
    assert errors_of(doc) == [("ticket", "too_long")]


def test_every_problem_at_once(api):
    values = {"language": "Rust", "repo_url": "ftp://x", "ticket": "far too long", "nope": "x", "other": 1}
    doc = problem(post(api, "tpl-parent", {"variables": values}), 422, "invalid_variables")
    assert errors_of(doc) == [("language", "not_in_enum"), ("nope", "unknown"), ("other", "unknown"),
                              ("repo_url", "pattern_mismatch"), ("task", "missing"), ("ticket", "too_long")]
    assert doc["detail"].startswith("6 variables are not accepted: ")
    # also as JSON-preferring client: problems are problem+json either way
    r = post(api, "tpl-parent", {"variables": values}, headers={"Accept": "application/json"})
    assert errors_of(problem(r, 422, "invalid_variables")) == errors_of(doc)


# ----------------------------------------------------------------- 400
@pytest.mark.parametrize("data,code,detail", [
    (b'{"variables": {"task": "x"}', "invalid_json", r"^the body is not valid JSON: .+ \(line 1, column \d+\)$"),
    (b"not json", "invalid_json", "not valid JSON"),
    (b'{"variables": {"task": "a", "task": "b"}}', "invalid_json", "duplicate"),
    (b'{"variables": {"task": "\xff\xfe"}}', "invalid_json", "not valid JSON"),
    (b'{"variables": {"task": "a\\u0000b"}}', "invalid_json", "not valid JSON"),
    (b"[" * 5000 + b"]" * 5000, "invalid_json", "not valid JSON"),
    (b"", "invalid_body", "empty"),
    (b"[]", "invalid_body", "must be a JSON object, not an array"),
    (b'"task"', "invalid_body", "must be a JSON object, not a string"),
    (b"null", "invalid_body", "must be a JSON object, not null"),
    (b'{"variables": []}', "invalid_body", '"variables" must be an object of names to strings, not an array'),
    (b'{"variables": "task=x"}', "invalid_body", "not a string"),
    (b'{"variables": null}', "invalid_body", "not null"),
    (b'{"vars": {"task": "x"}}', "invalid_body", 'unknown key "vars" in the body'),
    (b'{"variables": {"task": "x"}, "extra": 1}', "invalid_body", 'unknown key "extra"'),
], ids=["truncated", "garbage", "duplicate_key", "invalid_utf8", "nul", "deep", "empty", "array", "string", "null",
        "variables_array", "variables_string", "variables_null", "unknown_key", "extra_key"])
def test_body_errors_400(api, data, code, detail):
    doc = problem(post(api, "tpl-parent", data=data), 400, code)
    assert re.search(detail, doc["detail"]), doc["detail"]


def test_too_many_variables_400(api):
    values = {f"v{i}": "x" for i in range(65)}
    doc = problem(post(api, "tpl-parent", {"variables": values}), 400, "invalid_body")
    assert "at most 64" in doc["detail"]


# ----------------------------------------------------------------- 413, 415
@pytest.mark.parametrize("ctype", [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonx",
                                   "application/json; charset=latin1", "text/json", "application/problem+json"])
def test_content_type_415(tsrv, ctype):
    headers = [("Content-Length", "2")] + ([("Content-Type", ctype)] if ctype else [])
    r = raw_request(tsrv.port, "POST", "/v1/profiles/tpl-plain/prompt", headers=headers, body=b"{}")
    assert r.status_code == 415
    doc = r.json()
    assert doc["code"] == "unsupported_media_type" and "application/json" in doc["detail"]
    assert r.headers["Connection"] == "close"  # answered before the body was read


def test_content_encoding_415(tsrv):
    r = raw_request(tsrv.port, "POST", "/v1/profiles/tpl-plain/prompt", body=b"{}",
                    headers=[("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                             ("Content-Length", "2")])
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize("ctype", ["application/json", "Application/JSON", "application/json; charset=utf-8",
                                   'application/json;charset="UTF-8"', "application/json ; foo=bar"])
def test_content_types_accepted(api, ctype):
    r = api.post("/v1/profiles/tpl-plain/prompt", headers={"Content-Type": ctype}, data=b"{}")
    assert r.status_code == 200, (ctype, r.content)


def test_too_large_by_content_length(tsrv):
    """A Content-Length over 1 MiB is refused before a byte of the body is read."""
    r = raw_request(tsrv.port, "POST", "/v1/profiles/tpl-plain/prompt",
                    headers=[("Content-Type", "application/json"), ("Content-Length", str(BODY_MAX + 1))])
    assert r.status_code == 413
    assert r.json()["code"] == "body_too_large" and "1048576 bytes" in r.json()["detail"]
    assert r.headers["Connection"] == "close"
    # the limit itself is fine (whitespace is valid JSON padding)
    body = b'{"variables": {}}'
    body += b" " * (BODY_MAX - len(body))
    r = raw_request(tsrv.port, "POST", "/v1/profiles/tpl-plain/prompt", body=body,
                    headers=[("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    assert r.status_code == 200


def chunked(data, size=65536):
    out = b""
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


def test_chunked_body(tsrv):
    body = json.dumps({"variables": {"task": "chunked"}}).encode()
    r = raw_request(tsrv.port, "POST", "/v1/profiles/tpl-parent/prompt", body=chunked(body, 7),
                    headers=[("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
    assert r.status_code == 200
    assert b"You are dispatched to do this: chunked. Work in Go." in r.content


def test_too_large_while_reading(tsrv):
    """Without Content-Length (chunked) the body is counted as it comes: past
    1 MiB it is no longer kept, and the answer is 413 when it ends."""
    body = b'{"variables": {}}'
    body += b" " * (BODY_MAX + 1 - len(body))
    r = raw_request(tsrv.port, "POST", "/v1/profiles/tpl-plain/prompt", body=chunked(body),
                    headers=[("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    # exactly 1 MiB chunked is fine
    r = raw_request(tsrv.port, "POST", "/v1/profiles/tpl-plain/prompt", body=chunked(body[:-1]),
                    headers=[("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
    assert r.status_code == 200


def test_endless_chunked_body_is_cut_off(tsrv, api):
    """One still coming after 16 MiB gets no answer: the connection is closed."""
    head = (b"POST /v1/profiles/tpl-plain/prompt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    piece = b" " * 65536
    chunk = b"%x\r\n" % len(piece) + piece + b"\r\n"
    got = b""
    with socket.create_connection((HOST, tsrv.port), timeout=10) as s:
        s.sendall(head)
        try:
            for _ in range(17 * 16):  # 17 MiB
                s.sendall(chunk)
            s.sendall(b"0\r\n\r\n")
            got = s.recv(65536)
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert b"HTTP/1.1 200" not in got
    assert api.get("/health").status_code == 200


def test_expect_100_continue(tsrv):
    body = json.dumps({"variables": {"task": "continue"}}).encode()
    head = (b"POST /v1/profiles/tpl-parent/prompt HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Expect: 100-continue\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body))
    with socket.create_connection((HOST, tsrv.port), timeout=10) as s:
        s.sendall(head)
        interim = s.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim
        s.sendall(body)
        data = interim[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
        while True:
            more = s.recv(65536)
            if not more:
                break
            data += more
    assert data.startswith(b"HTTP/1.1 200 ")
    assert b"You are dispatched to do this: continue." in data


def test_transfer_encoding_with_content_length_400(tsrv):
    r = raw_request(tsrv.port, "POST", "/v1/profiles/tpl-plain/prompt", body=chunked(b"{}"),
                    headers=[("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"),
                             ("Content-Length", "7")])
    assert r.status_code == 400 and r.json()["code"] == "body_not_allowed"


# ----------------------------------------------------------------- negotiation
@pytest.mark.parametrize("accept,ctype", [
    (None, MD), ("*/*", MD), ("text/markdown", MD), ("text/*", MD),
    ("application/json", "application/json"),
    ("application/json, text/markdown;q=0.5", "application/json"),
    ("text/markdown;q=0.5, application/json", "application/json"),
    ("application/json;q=0.5, text/markdown", MD),
    ("application/json, text/markdown", MD),  # a tie: Markdown, as for GET
])
def test_accept(api, accept, ctype):
    headers = {"Accept": accept} if accept else {}
    r = post(api, "tpl-parent", {"variables": {"task": "t"}}, headers=headers)
    assert r.status_code == 200 and r.headers["Content-Type"] == ctype
    g = api.get("/v1/profiles/tpl-parent/prompt", headers=headers)
    assert g.headers["Content-Type"] == ctype  # the same choice as GET


def test_not_acceptable_406(api):
    doc = problem(post(api, "tpl-parent", {"variables": {"task": "t"}}, headers={"Accept": "text/html"}), 406,
                  "not_acceptable")
    assert doc["detail"] == "this resource is available as text/markdown or application/json"


# ----------------------------------------------------------------- the route
def test_options_and_405(api):
    r = api.options("/v1/profiles/tpl-parent/prompt")
    assert r.status_code == 204 and r.headers["Allow"] == "GET, HEAD, POST, OPTIONS"
    for method in ("PUT", "DELETE", "PATCH"):
        doc = problem(api.request(method, "/v1/profiles/tpl-parent/prompt"), 405, "method_not_allowed")
        assert doc["allow"] == "GET, HEAD, POST, OPTIONS"
    # an invalid id on this path: the same methods, and POST is a 400 invalid_id
    assert api.options("/v1/profiles/Bad/prompt").headers["Allow"] == "GET, HEAD, POST, OPTIONS"
    problem(post(api, "Bad", {}), 400, "invalid_id")
    # the other views stay GET, HEAD, OPTIONS
    for view in ("variables", "lineage", "source"):
        assert api.options(f"/v1/profiles/tpl-parent/{view}").headers["Allow"] == "GET, HEAD, OPTIONS"
        doc = problem(api.post(f"/v1/profiles/tpl-parent/{view}"), 405, "method_not_allowed")
        assert doc["allow"] == "GET, HEAD, OPTIONS"
    # a body on any other route is still refused
    r = api.post("/v1/profiles/tpl-parent/role", headers=JSON_BODY, data=b"{}")
    problem(r, 400, "body_not_allowed")
    r = api.get("/v1/profiles/tpl-parent/prompt", headers=JSON_BODY, data=b"{}")
    problem(r, 400, "body_not_allowed")


def test_query_parameters_refused(api):
    r = api.post("/v1/profiles/tpl-parent/prompt?scope=own", headers=JSON_BODY, data=b'{"variables":{"task":"t"}}')
    problem(r, 400, "unknown_parameter")


def test_unknown_profile_404_and_alias_308(tsrv, api):
    doc = problem(post(api, "tpl-parnet", {}), 404, "profile_not_found")
    assert "tpl-parent" in doc["suggestions"]
    # a file stem answers 308 to the canonical path ...
    body = json.dumps({"variables": {"task": "x"}}).encode()
    r = raw_request(tsrv.port, "POST", "/v1/profiles/tpl-aliased/prompt", body=body,
                    headers=[("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    assert r.status_code == 308
    assert r.headers["Location"] == "/v1/profiles/tpl-canonical/prompt"
    assert r.json()["canonical_id"] == "tpl-canonical"
    # ... where a client that follows it sends the body again (308 keeps the method)
    f = requests.post(tsrv.base + "/v1/profiles/tpl-aliased/prompt", headers=JSON_BODY, data=body, timeout=10)
    assert [h.status_code for h in f.history] == [308] and f.status_code == 200
    check_response("POST", "/v1/profiles/tpl-canonical/prompt", f.status_code, f.headers, f.content)
    assert f.text.endswith("Do x.")


def test_get_prompt_is_the_template(api):
    """GET is unchanged: the template as authored, cached with an ETag."""
    g = api.get("/v1/profiles/tpl-parent/prompt")
    assert g.status_code == 200 and "{{ task }}" in g.text and "ETag" in g.headers
    assert api.get("/v1/profiles/tpl-parent/prompt", headers={"If-None-Match": g.headers["ETag"]}).status_code == 304
    h = api.head("/v1/profiles/tpl-parent/prompt")
    assert h.status_code == 200 and h.headers["ETag"] == g.headers["ETag"]
    # a POST with the same If-None-Match is still rendered
    r = post(api, "tpl-parent", {"variables": {"task": "t"}}, headers={"If-None-Match": g.headers["ETag"]})
    assert r.status_code == 200 and "ETag" not in r.headers


def test_keep_alive_after_a_post(api):
    for i in range(3):
        r = post(api, "tpl-parent", {"variables": {"task": f"t{i}"}})
        assert r.status_code == 200 and "close" not in r.headers.get("Connection", "")
        assert f"do this: t{i}." in r.text
        assert api.get("/v1/profiles/tpl-parent/variables").status_code == 200


# ----------------------------------------------------------------- the view
def test_variables_view(api):
    r = api.get("/v1/profiles/tpl-parent/variables")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json" and "ETag" in r.headers
    doc = r.json()
    assert list(doc) == ["id", "variables"] and doc["id"] == "tpl-parent"
    assert [v["name"] for v in doc["variables"]] == ["language", "repo_url", "task", "ticket"]
    assert doc["variables"][0] == {"name": "language", "description": "Main language", "required": False,
                                   "default": "Go", "enum": ["Go", "Python", "C"], "pattern": None,
                                   "max_length": 65536, "from": "tpl-parent"}
    assert api.get("/v1/profiles/tpl-parent/variables",
                   headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    h = api.head("/v1/profiles/tpl-parent/variables")
    assert h.status_code == 200 and h.headers["ETag"] == r.headers["ETag"]
    assert api.options("/v1/profiles/tpl-parent/variables").status_code == 204
    assert api.get("/v1/profiles/tpl-plain/variables").json() == {"id": "tpl-plain", "variables": []}
    problem(api.get("/v1/profiles/tpl-parent/variables?scope=own"), 400, "unknown_parameter")
    problem(api.get("/v1/profiles/nobody/variables"), 404, "profile_not_found")
    # the profile carries the same list, and `fields` can ask for it
    p = api.get("/v1/profiles/tpl-parent").json()
    assert p["variables"] == doc["variables"]
    proj = api.get("/v1/profiles/tpl-parent?fields=id,variables")
    assert proj.json() == doc
    assert api.get("/v1/profiles/tpl-plain").json()["variables"] == []


def test_cors_preflight_allows_the_json_post(spawn, tmp_path):
    srv = spawn(args=["--cors-origins", "https://app.example"], profiles=template_profiles(tmp_path / "cors"))
    api = srv.api()
    origin = {"Origin": "https://app.example"}
    r = api.options("/v1/profiles/tpl-parent/prompt", headers={**origin, "Access-Control-Request-Method": "POST",
                                                                "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Methods"] == "GET, HEAD, POST, OPTIONS"
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert "content-type" in allowed
    r = post(api, "tpl-parent", {"variables": {"task": "t"}}, headers=origin)
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "https://app.example"


# ----------------------------------------------------------------- stale
def test_stale_profile_renders_its_last_good_template(spawn, tmp_path):
    srv = spawn(args=["--debounce-ms", "50"], profiles=template_profiles(tmp_path / "stale"))
    api = srv.api()
    before = post(api, "tpl-stale", {"variables": {"task": "one"}})
    assert before.status_code == 200 and "Warning" not in before.headers
    f = srv.profiles / "tpl-stale.md"
    # broken, and the body changed: what is rendered is the last good template
    f.write_text(f.read_text().replace("name: Template Stale", "name: [Template Stale")
                 .replace("Stale or not", "Changed"))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and api.get("/ready").json()["generation"] < 2:
        time.sleep(0.05)
    assert api.get("/ready").json()["profiles"]["stale"] == 1
    g = api.get("/v1/profiles/tpl-stale/prompt")
    assert g.status_code == 200 and g.headers["Warning"].startswith("299 rosterd ")
    r = post(api, "tpl-stale", {"variables": {"task": "two"}})
    assert r.status_code == 200, r.content
    assert r.headers["Warning"] == g.headers["Warning"]
    assert r.text == "# Template Stale\n\nStale or not, do this: two."
    j = post(api, "tpl-stale", {"variables": {"task": "two"}}, headers={"Accept": "application/json"})
    assert j.headers["Warning"] == g.headers["Warning"]
    assert j.json()["lineage"] == ["tpl-stale"] and j.json()["prompt"] == r.text
    # still checked against the last good declarations
    doc = problem(post(api, "tpl-stale", {}), 422, "invalid_variables")
    assert errors_of(doc) == [("task", "missing")]


def test_stale_profile_never_rendered_before(spawn, tmp_path):
    """The template of a profile that goes stale before anyone POSTed is the
    last good one too."""
    srv = spawn(args=["--debounce-ms", "50"], profiles=template_profiles(tmp_path / "stale2"))
    api = srv.api()
    f = srv.profiles / "tpl-stale.md"
    f.write_text(f.read_text().replace("name: Template Stale", "name: [Template Stale")
                 .replace("{{ task }}", "{{ other }}"))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and api.get("/ready").json()["generation"] < 2:
        time.sleep(0.05)
    r = post(api, "tpl-stale", {"variables": {"task": "three"}})
    assert r.status_code == 200, r.content
    assert r.headers["Warning"].startswith("299 rosterd ")
    assert r.text.endswith("Stale or not, do this: three.")


# ----------------------------------------------------------------- metrics
def test_metrics_count_the_route(tsrv, api):
    post(api, "tpl-parent", {"variables": {"task": "t"}})
    post(api, "tpl-parent", {})
    api.get("/v1/profiles/tpl-parent/prompt")
    raw_request(tsrv.port, "POST", "/v1/profiles/tpl-plain/prompt",
                headers=[("Content-Type", "text/plain"), ("Content-Length", "2")], body=b"{}")
    raw_request(tsrv.port, "POST", "/v1/profiles/tpl-plain/prompt",
                headers=[("Content-Type", "application/json"), ("Content-Length", str(BODY_MAX + 1))])
    text = api.get("/metrics").text
    for method, status in (("POST", "200"), ("POST", "422"), ("POST", "415"), ("POST", "413"), ("GET", "200")):
        line = f'roster_http_requests_total{{route="prompt",method="{method}",status="{status}"}} '
        assert line in text, (line, [x for x in text.splitlines() if 'route="prompt"' in x])
    assert 'roster_http_request_duration_seconds_count{route="prompt"}' in text
    # one request line per request, labelled with the route
    rid = "tpl-metrics-1"
    post(api, "tpl-parent", {"variables": {"task": "t"}}, headers={"X-Request-Id": rid})
    line = tsrv.request_line(rid)
    assert line and line["route"] == "prompt" and line["method"] == "POST" and line["status"] == 200


def test_spec_declares_the_post(spec):
    op = SPEC.doc["paths"]["/v1/profiles/{id}/prompt"]["post"]
    assert op["operationId"] == "renderProfilePrompt"
    assert {"200", "308", "400", "404", "406", "413", "414", "415", "422", "431", "500", "503"} == set(op["responses"])
    assert set(op["responses"]["200"]["content"]) == {MD, "application/json"}
    assert "get" in SPEC.doc["paths"]["/v1/profiles/{id}/variables"]
