"""Error answers: every one is a problem document that matches the spec."""
import pytest

from conftest import raw_request


def problem(r, status, code):
    assert r.status_code == status, r.content
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body["code"] == code, body
    return body


def test_unknown_profile_404_with_suggestions(api):
    body = problem(api.get("/v1/profiles/bsae"), 404, "profile_not_found")
    assert body["suggestions"] == ["base"]
    assert body["instance"] == "/v1/profiles/bsae"
    assert "bsae" in body["detail"]
    body = problem(api.get("/v1/profiles/fx-lef"), 404, "profile_not_found")
    assert "fx-leaf" in body["suggestions"]
    body = problem(api.get("/v1/profiles/completely-unrelated-name-xyz"), 404, "profile_not_found")
    assert body["suggestions"] == []
    # invalid profiles are never suggested
    body = problem(api.get("/v1/profiles/fx-brokn"), 404, "profile_not_found")
    assert "fx-broken" not in body["suggestions"]


def test_unknown_profile_on_every_view(api):
    for view in ("role", "lineage", "prompt", "source", "sections"):
        problem(api.get(f"/v1/profiles/nope/{view}"), 404, "profile_not_found")


@pytest.mark.parametrize("pid,code", [("fx-broken", "frontmatter.syntax"), ("fx-orphan", "extends.missing")])
def test_invalid_profile_404_with_diagnostics(api, pid, code):
    for path in (f"/v1/profiles/{pid}", f"/v1/profiles/{pid}/role", f"/v1/profiles/{pid}/prompt",
                 f"/v1/profiles/{pid}/source"):
        body = problem(api.get(path), 404, "profile_invalid")
        assert body["file"] == f"{pid}.md"
        assert body["diagnostics"], body
        assert all(d["file"] == f"{pid}.md" for d in body["diagnostics"])
        assert code in {d["code"] for d in body["diagnostics"]}
        assert any(d["severity"] == "error" for d in body["diagnostics"])


@pytest.mark.parametrize("target", [
    "/v1/profiles/%00",
    "/v1/profiles/a%00b",
    "/v1/profiles/%2F",
    "/v1/profiles/a%2Fb",
    "/v1/profiles/..",
    "/v1/profiles/%2e%2e",
    "/v1/profiles/../health",
    "/v1/profiles/.hidden",
    "/v1/profiles/Base",
    "/v1/profiles/caf%C3%A9",
    "/v1/profiles/" + "a" * 200,
    "/v1/profiles/" + "a" * 129,
    "/v1/profiles/-lead",
    "/v1/profiles/a%20b",
    "/v1/profiles/..%2F..%2Fetc%2Fpasswd",
    "/v1/profiles/%2e%2e/role",
    "/v1/profiles/",
])
def test_bad_id_400(server, target):
    # raw targets: no client-side normalization of "..", "%2F" or "%00"
    r = raw_request(server.port, "GET", target)
    body = problem(r, 400, "invalid_id")
    assert body["instance"] == target[:250]


def test_id_of_128_bytes_is_valid(api):
    body = problem(api.get("/v1/profiles/" + "a" * 128), 404, "profile_not_found")
    assert body["suggestions"] == []


def test_non_ascii_id_raw_utf8_400(server):
    r = raw_request(server.port, "GET", "/v1/profiles/café".encode("utf-8"),
                    path_for_spec="/v1/profiles/cafe-raw")
    body = problem(r, 400, "invalid_id")
    assert body["instance"] == "/v1/profiles/café"


@pytest.mark.parametrize("path", ["/nope", "/v1", "/v1/", "/v1/nope", "/v1/profile", "/health/", "//health",
                                  "/v1/profiles/base/", "/v1/profiles/base/nope", "/v1/profiles/base/prompt/x",
                                  "/v1/profiles/base/profile", "/V1/profiles", "/v2/profiles", "/v1/admin",
                                  "/v1/admin/reload/x", "/openapi.json", "/index.html"])
def test_unknown_route_404(server, path):
    r = raw_request(server.port, "GET", path)
    problem(r, 404, "route_not_found")


def test_unknown_view_names_the_views(api):
    body = problem(api.get("/v1/profiles/base/nope"), 404, "route_not_found")
    for view in ("role", "work-patterns", "prompt", "source"):
        assert view in body["detail"]


@pytest.mark.parametrize("path,params", [
    ("/v1/profiles", "bogus=1"),
    ("/v1/profiles", "limit=0"),
    ("/v1/profiles", "limit=501"),
    ("/v1/profiles", "limit=-1"),
    ("/v1/profiles", "limit=%2B1"),
    ("/v1/profiles", "limit=+5"),  # '+' is a space: " 5" is not a number
    ("/v1/profiles", "limit=abc"),
    ("/v1/profiles", "limit=1.5"),
    ("/v1/profiles", "limit="),
    ("/v1/profiles", "limit=1&limit=2"),
    ("/v1/profiles", "cursor=%21%21"),
    ("/v1/profiles", "cursor=QUJD"),  # base64url of "ABC": not a valid id
    ("/v1/profiles", "cursor="),
    ("/v1/profiles", "fields=nope"),
    ("/v1/profiles", "fields=id,metadata"),
    ("/v1/profiles", "fields="),
    ("/v1/profiles", "fields=,"),
    ("/v1/profiles", "q=%00"),
    ("/v1/profiles", "q=%zz"),
    ("/v1/profiles", "q=%"),
    ("/v1/profiles", "q=%FF"),
    ("/v1/profiles", "q=" + "a" * 1025),
    ("/v1/profiles", "&".join(f"p{i}=1" for i in range(17))),
    ("/v1/profiles", "category=a&category=b"),
    ("/v1/profiles/base", "fields=nope"),
    ("/v1/profiles/base", "fields="),
    ("/v1/profiles/base", "fields=" + ",".join(["id"] * 17)),
    ("/v1/profiles/base", "limit=1"),
    ("/v1/profiles/base/role", "fields=id"),
    ("/v1/profiles/base/prompt", "x=1"),
    ("/v1/profiles/base/source", "x"),
    ("/v1/facets", "x=1"),
    ("/v1/facets", "category=base"),
    ("/v1/diagnostics", "severity=fatal"),
    ("/v1/diagnostics", "severity="),
    ("/v1/diagnostics", "severity=ERROR"),
    ("/v1/diagnostics", "limit=1"),
])
def test_bad_query_400(server, path, params):
    r = raw_request(server.port, "GET", f"{path}?{params}")
    # a parameter the route does not take has its own code
    keys = {kv.split("=")[0] for kv in params.split("&")}
    known = {"/v1/profiles": {"category", "role", "extends", "q", "fields", "limit", "cursor"},
             "/v1/profiles/base": {"fields"}, "/v1/diagnostics": {"severity"}}.get(path, set())
    code = "unknown_parameter" if keys - known and "p16" not in keys else "invalid_query"
    body = problem(r, 400, code)
    assert body["instance"] == path


def test_valid_edge_queries(api):
    assert api.get("/v1/profiles?limit=01").status_code == 200
    assert api.get("/v1/profiles?q=a+b").status_code == 200
    assert api.get("/v1/profiles?").status_code == 200
    assert api.get("/v1/profiles?&&").status_code == 200
    assert api.get("/v1/profiles?category").status_code == 200  # empty value: matches nothing
    # a route that takes no query parameters refuses any (the contract
    # declares none), but an empty query is no parameter
    for path in ("/health", "/ready", "/version", "/metrics", "/openapi.yaml", "/v1/facets"):
        assert api.get(path + "?").status_code == 200, path
        problem(api.get(path + "?x=1"), 400, "unknown_parameter")
    # limit: any JSON-number spelling of an integer (what JSON Schema's integer admits)
    for spelling in ("2", "2.0", "2e0", "0.2e1", "002"):
        r = api.get("/v1/profiles?limit=" + spelling)
        assert r.status_code == 200 and len(r.json()["items"]) == 2, spelling
    for bad in ("2.5", "1e3", "0", "-1", "+2", "0x2", "two", ""):
        problem(api.get("/v1/profiles?limit=" + bad), 400, "invalid_query")


@pytest.mark.parametrize("path", ["/v1/profiles", "/v1/profiles/base", "/v1/profiles/base/role", "/health",
                                  "/v1/admin/reload", "/nope"])
def test_body_on_request_400(server, path):
    for method in ("GET", "POST"):
        r = raw_request(server.port, method, path, headers=[("Content-Length", "3")], body=b"abc")
        body = problem(r, 400, "body_not_allowed")
        assert body["instance"] == path
    chunked = raw_request(server.port, "GET", path, headers=[("Transfer-Encoding", "chunked")],
                          body=b"3\r\nabc\r\n0\r\n\r\n")
    problem(chunked, 400, "body_not_allowed")
    for method in ("HEAD", "OPTIONS"):
        r = raw_request(server.port, method, path, headers=[("Content-Length", "2")], body=b"{}")
        assert r.status_code == 400 and r.headers["Content-Type"] == "application/problem+json", method
    # Content-Length: 0 is no body
    r = raw_request(server.port, "GET", "/health", headers=[("Content-Length", "0")])
    assert r.status_code == 200


def test_body_with_requests_library_400(api):
    problem(api.get("/v1/profiles", data=b"{}"), 400, "body_not_allowed")


def test_405_with_allow(server, api):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        for path in ("/v1/profiles", "/v1/profiles/base", "/v1/profiles/base/prompt", "/v1/facets", "/health",
                     "/metrics", "/v1/events", "/openapi.yaml"):
            if method == "POST" and path.endswith("/prompt"):
                continue  # POST renders the prompt (tests/http/test_templates.py)
            allow = "GET, HEAD, POST, OPTIONS" if path.endswith("/prompt") else "GET, HEAD, OPTIONS"
            r = api.request(method, path)
            body = problem(r, 405, "method_not_allowed")
            assert r.headers["Allow"] == allow
            assert body["allow"] == allow
    for method in ("GET", "HEAD", "PUT", "DELETE"):
        r = api.request(method, "/v1/admin/reload")
        assert r.status_code == 405
        assert r.headers["Allow"] == "POST, OPTIONS"
        if method != "HEAD":
            assert problem(r, 405, "method_not_allowed")["allow"] == "POST, OPTIONS"
    # an unknown method on a bad id is still a 405 (method is checked first)
    r = raw_request(server.port, "DELETE", "/v1/profiles/%00")
    assert r.status_code == 405


@pytest.mark.parametrize("path,accept", [
    ("/v1/profiles", "text/html"),
    ("/v1/profiles", "application/json;q=0"),
    ("/v1/profiles/base", "text/markdown"),
    ("/v1/profiles/base/role", "application/xml"),
    ("/v1/profiles/base/prompt", "text/html"),
    ("/v1/profiles/base/prompt", "text/markdown;q=0, application/json;q=0"),
    ("/v1/profiles/base/source", "application/json"),
    ("/v1/facets", "text/plain"),
    ("/v1/diagnostics", "text/csv"),
    ("/v1/events", "application/json"),
    ("/openapi.yaml", "application/json"),
    ("/health", "text/html"),
    ("/ready", "text/plain"),
    ("/version", "text/plain"),
    ("/metrics", "application/json"),
    ("/v1/profiles/nope", "text/html"),  # Accept is checked before the lookup
])
def test_unsupported_accept_406(api, path, accept):
    r = api.get(path, headers={"Accept": accept})
    body = problem(r, 406, "not_acceptable")
    assert body["instance"] == path


def test_accept_wildcards_are_fine(api):
    for accept in ("*/*", "application/*", "application/json, text/html;q=0.1", "APPLICATION/JSON"):
        assert api.get("/v1/profiles", headers={"Accept": accept}).status_code == 200, accept
    assert api.get("/metrics", headers={"Accept": "text/*"}).status_code == 200


def test_uri_too_long_414(api):
    r = api.get("/v1/profiles?q=" + "a" * 9000)  # over the 8 KiB target limit
    body = problem(r, 414, "uri_too_long")
    assert body["instance"] == "/v1/profiles"
    # four filters of 1 KiB each: every one within its maxLength, the target under 8 KiB
    params = {k: "x" * 1024 for k in ("category", "role", "extends", "q")}
    r = api.get("/v1/profiles", params=params)
    assert r.status_code == 200 and r.json()["total"] == 0


def test_request_far_over_the_limits_still_gets_a_problem(server):
    # a 40 KB target is far over the 8 KiB limit, but still gets the
    # problem+json 414 with the common headers (not libmicrohttpd's own page)
    r = raw_request(server.port, "GET", "/v1/profiles?q=" + "a" * 40000, check=False)
    assert r.status_code == 414
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.headers.get("X-Request-Id")


@pytest.mark.parametrize("name", ["Bad Name", "Transfer-Encoding ", "X\tTab"])
def test_header_names_with_white_space_are_refused(server, name):
    # RFC 9112 5.1: no white space in a field name ("Transfer-Encoding :" is a
    # request-smuggling shape)
    r = raw_request(server.port, "GET", "/v1/profiles/base", headers=[(name, "v")], check=False)
    assert r.status_code == 400
    assert r.json()["code"] == "bad_header"


def test_unknown_id_suggestions_stay_cheap(api):
    # one bounded pass over the ids: a long unknown id answers at once
    r = api.get("/v1/profiles/" + "a" * 128)
    assert r.status_code == 404
    assert r.elapsed.total_seconds() < 2
    r = api.get("/v1/profiles/worker-devop")
    assert "worker-devops" in r.json()["suggestions"]
