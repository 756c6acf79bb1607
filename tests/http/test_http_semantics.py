"""HEAD, OPTIONS, conditional requests, gzip, request ids and CORS."""
import gzip

import pytest

from conftest import GENERATED_ID_RE, raw_request

# one concrete path per GET route (and per representation)
GET_PATHS = [
    "/v1/profiles",
    "/v1/profiles?category=fixture&limit=1",
    "/v1/profiles?fields=id,name",
    "/v1/profiles/fx-leaf",
    "/v1/profiles/fx-leaf?fields=id,role",
    "/v1/profiles/fx-leaf/role",
    "/v1/profiles/fx-leaf/competencies",
    "/v1/profiles/fx-leaf/work-patterns",
    "/v1/profiles/fx-leaf/tool-priorities",
    "/v1/profiles/fx-leaf/output-standards",
    "/v1/profiles/fx-leaf/anti-patterns",
    "/v1/profiles/fx-leaf/sections",
    "/v1/profiles/fx-leaf/lineage",
    "/v1/profiles/fx-leaf/prompt",
    "/v1/profiles/fx-leaf/source",
    "/v1/facets",
    "/v1/diagnostics",
    "/v1/diagnostics?severity=warning",
    "/openapi.yaml",
    "/health",
    "/ready",
    "/metrics",
    "/version",
]
# representations with an ETag
CACHEABLE = [p for p in GET_PATHS if p.split("?")[0] not in ("/health", "/ready", "/metrics", "/version")]
PER_REQUEST = {"Date", "X-Request-Id"}


def comparable(headers):
    return {k: v for k, v in headers.items() if k not in PER_REQUEST}


@pytest.mark.parametrize("path", GET_PATHS + ["/v1/profiles/nope", "/v1/profiles/fx-broken", "/v1/profiles/%00",
                                              "/v1/profiles?limit=0", "/nope"])
def test_head_matches_get(api, path):
    headers = {"Accept-Encoding": "identity"}
    g = api.get(path, headers=headers)
    h = api.head(path, headers=headers)
    assert h.status_code == g.status_code
    assert h.wire == b""
    if path == "/metrics":  # the body counts requests: its length moves
        assert comparable(h.headers).keys() == comparable(g.headers).keys()
    else:
        assert comparable(h.headers) == comparable(g.headers)
        assert int(h.headers["Content-Length"]) == len(g.wire)


def test_head_prompt_json_and_gzip(api):
    for headers in ({"Accept": "application/json"}, {"Accept-Encoding": "gzip"}):
        g = api.get("/v1/profiles/fx-leaf/prompt", headers=headers)
        h = api.head("/v1/profiles/fx-leaf/prompt", headers=headers)
        assert comparable(h.headers) == comparable(g.headers)


def test_head_on_events_is_the_get_headers(api):
    r = api.head("/v1/events", headers={"Accept": "text/event-stream"})
    assert r.status_code == 200 and r.wire == b""
    assert r.headers["Content-Type"] == "text/event-stream"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["X-Accel-Buffering"] == "no"
    assert "GET" in api.options("/v1/events").headers["Allow"]


@pytest.mark.parametrize("path", sorted({p.split("?")[0] for p in GET_PATHS} | {"/v1/events", "/v1/profiles/nope",
                                                                                "/v1/profiles/%00"}))
def test_options_204_allow(api, path):
    r = api.options(path)
    assert r.status_code == 204
    assert r.headers["Allow"] == ("GET, HEAD, POST, OPTIONS" if path.endswith("/prompt") else "GET, HEAD, OPTIONS")
    assert r.wire == b""
    assert "Access-Control-Allow-Origin" not in r.headers  # CORS is off


def test_options_reload(api):
    r = api.options("/v1/admin/reload")
    assert r.status_code == 204 and r.headers["Allow"] == "POST, OPTIONS"


def test_options_unknown_route_404(api):
    assert api.options("/nope").status_code == 404


@pytest.mark.parametrize("path", CACHEABLE)
def test_etag_and_304(api, path):
    r = api.get(path, headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200
    etag = r.headers["ETag"]
    assert r.headers["Cache-Control"] == "no-cache"
    assert r.headers["Vary"] == "Accept-Encoding"
    again = api.get(path, headers={"Accept-Encoding": "identity"})
    assert again.headers["ETag"] == etag and again.content == r.content
    for inm in (etag, "W/" + etag, f'"nope", {etag}', "*"):
        nm = api.get(path, headers={"If-None-Match": inm, "Accept-Encoding": "identity"})
        assert nm.status_code == 304, inm
        assert nm.wire == b""
        assert nm.headers["ETag"] == etag
        assert nm.headers["Cache-Control"] == "no-cache"
        assert nm.headers["Vary"] == "Accept-Encoding"
        assert "Content-Encoding" not in nm.headers
    assert api.head(path, headers={"If-None-Match": etag, "Accept-Encoding": "identity"}).status_code == 304
    other = api.get(path, headers={"If-None-Match": '"0000"', "Accept-Encoding": "identity"})
    assert other.status_code == 200 and other.content == r.content


def test_etags_differ_per_representation(api):
    tags = {}
    for path in ("/v1/profiles/base", "/v1/profiles/fx-leaf", "/v1/profiles/fx-leaf/role", "/v1/profiles/fx-leaf/prompt"):
        tags[path] = api.get(path).headers["ETag"]
    assert len(set(tags.values())) == len(tags)


def test_304_has_no_wrong_content_length(api):
    """RFC 9110 8.6: a 304 must not carry a Content-Length unless it equals the 200 body's length."""
    path = "/v1/profiles/fx-leaf"
    full = api.get(path, headers={"Accept-Encoding": "identity"})
    nm = api.get(path, headers={"If-None-Match": full.headers["ETag"], "Accept-Encoding": "identity"})
    assert nm.status_code == 304
    if "Content-Length" in nm.headers:
        assert int(nm.headers["Content-Length"]) == len(full.wire), nm.headers


@pytest.mark.parametrize("path", CACHEABLE)
def test_gzip(api, path):
    ident = api.get(path, headers={"Accept-Encoding": "identity"})
    gz = api.get(path, headers={"Accept-Encoding": "gzip"})
    assert gz.status_code == 200
    assert "Accept-Encoding" in gz.headers["Vary"]
    if len(ident.wire) >= 256:
        assert gz.headers["Content-Encoding"] == "gzip"
        assert gz.wire[:2] == b"\x1f\x8b"
        assert len(gz.wire) < len(ident.wire)
        assert gzip.decompress(gz.wire) == ident.wire
        assert int(gz.headers["Content-Length"]) == len(gz.wire)
        assert gz.headers["ETag"] == ident.headers["ETag"][:-1] + '-gz"'
        # the gzip variant has its own validator
        nm = api.get(path, headers={"Accept-Encoding": "gzip", "If-None-Match": gz.headers["ETag"]})
        assert nm.status_code == 304 and nm.headers["ETag"] == gz.headers["ETag"]
        assert api.get(path, headers={"Accept-Encoding": "gzip",
                                      "If-None-Match": ident.headers["ETag"]}).status_code == 200
    else:
        assert "Content-Encoding" not in gz.headers
        assert gz.wire == ident.wire
    assert gz.headers["Content-Type"] == ident.headers["Content-Type"]


def test_gzip_negotiation(api):
    path = "/v1/profiles/fx-leaf"
    cases = {"gzip": True, "GZIP": True, "deflate, gzip;q=0.5": True, "*": True, "gzip;q=0": False,
             "identity": False, "br": False, "*;q=0": False, "gzip;q=0, *": False}
    for ae, want in cases.items():
        r = api.get(path, headers={"Accept-Encoding": ae})
        assert (r.headers.get("Content-Encoding") == "gzip") == want, ae


def test_probes_are_not_compressed_or_cached(api):
    for path in ("/health", "/ready", "/version", "/metrics"):
        r = api.get(path, headers={"Accept-Encoding": "gzip"})
        assert "Content-Encoding" not in r.headers and "ETag" not in r.headers
        assert r.headers["Cache-Control"] == "no-store"


def test_request_id_echoed(api):
    for rid in ("abc-123", "A.b:c_d-9", "x" * 128):
        r = api.get("/health", headers={"X-Request-Id": rid})
        assert r.headers["X-Request-Id"] == rid
        p = api.get("/v1/profiles/nope", headers={"X-Request-Id": rid})
        assert p.headers["X-Request-Id"] == rid and p.json()["request_id"] == rid


def test_request_id_generated(api):
    seen = set()
    for rid in (None, "", "has space", "x" * 129, "semi;colon", "é"):
        headers = {} if rid is None else {"X-Request-Id": rid.encode("utf-8")}
        r = api.get("/v1/profiles/nope", headers=headers)
        got = r.headers["X-Request-Id"]
        assert GENERATED_ID_RE.match(got), got
        assert r.json()["request_id"] == got
        seen.add(got)
    assert len(seen) == 6
    # the same server prefix, increasing counters
    prefixes = {s.split("-")[0] for s in seen}
    assert len(prefixes) == 1


def test_every_response_has_request_id(api, server):
    for r in (api.get("/health"), api.options("/health"), api.get("/nope"), api.request("DELETE", "/health", check=False),
              api.get("/v1/profiles/fx-leaf", headers={"If-None-Match": "*"}),
              raw_request(server.port, "GET", "/v1/profiles/%00")):
        assert GENERATED_ID_RE.match(r.headers["X-Request-Id"])
        assert r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture(scope="module")
def cors_server(rosterd, tmp_path_factory):
    from conftest import Server, make_profiles
    d = make_profiles(tmp_path_factory.mktemp("cors") / "profiles")
    srv = Server(d, args=["--cors-origins", "https://a.example, https://b.example:8443"]).start()
    yield srv
    assert srv.stop() == 0


def test_cors_allowed_origin(cors_server):
    api = cors_server.api()
    for origin in ("https://a.example", "https://b.example:8443"):
        for path in ("/v1/profiles", "/v1/profiles/fx-leaf", "/health", "/v1/profiles/nope"):
            r = api.get(path, headers={"Origin": origin})
            assert r.headers["Access-Control-Allow-Origin"] == origin
            assert r.headers["Access-Control-Expose-Headers"] == (
                "ETag, X-Request-Id, Warning, Roster-Generation, Roster-Digest, Mcp-Session-Id"
            )
            assert "Origin" in r.headers["Vary"]
    api.close()


def test_cors_other_origin_and_no_origin(cors_server):
    api = cors_server.api()
    for headers in ({"Origin": "https://c.example"}, {"Origin": "https://a.example.evil"}, {}):
        r = api.get("/v1/profiles", headers=headers)
        assert r.status_code == 200
        assert "Access-Control-Allow-Origin" not in r.headers
        assert r.headers["Vary"] == "Accept-Encoding"
    api.close()


def test_cors_preflight(cors_server):
    api = cors_server.api()
    r = api.options("/v1/profiles/fx-leaf", headers={"Origin": "https://a.example",
                                                     "Access-Control-Request-Method": "GET",
                                                     "Access-Control-Request-Headers": "If-None-Match"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Origin"] == "https://a.example"
    assert r.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"if-none-match", "x-request-id", "last-event-id", "authorization"} <= allowed
    assert r.headers["Access-Control-Max-Age"] == "600"
    r = api.options("/v1/admin/reload", headers={"Origin": "https://b.example:8443"})
    assert r.headers["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    r = api.options("/v1/profiles", headers={"Origin": "https://c.example"})
    assert r.status_code == 204 and "Access-Control-Allow-Methods" not in r.headers
    api.close()


def test_cors_wildcard(spawn):
    srv = spawn(args=["--cors-origins", "*"])
    api = srv.api()
    r = api.get("/v1/facets", headers={"Origin": "http://anything.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "http://anything.example"
    api.close()


def test_cache_max_age(spawn):
    srv = spawn(args=["--cache-max-age", "120"])
    api = srv.api()
    r = api.get("/v1/profiles/fx-leaf")
    assert r.headers["Cache-Control"] == "public, max-age=120"
    nm = api.get("/v1/profiles/fx-leaf", headers={"If-None-Match": r.headers["ETag"]})
    assert nm.status_code == 304 and nm.headers["Cache-Control"] == "public, max-age=120"
    assert api.get("/health").headers["Cache-Control"] == "no-store"
    api.close()
