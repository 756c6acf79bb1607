"""The edges of HTTP (issue #10): every request gets a complete response with a
status the contract declares for the operation, in problem+json with the
common headers, at every request-target length from 1 byte to 64 KiB and at
every header size up to --max-request-bytes; percent-encoded path segments;
the extends filter; the profile states in /ready."""
import socket

import pytest

from conftest import HOST, SPEC, Server, check_response, make_profiles, raw_request

TARGET_MAX = 8192  # ROSTER_TARGET_MAX (service/http/http_internal.h), in the contract
MAX_REQUEST_BYTES = 65536  # --max-request-bytes default
COMMON = ("X-Request-Id", "Cache-Control", "X-Content-Type-Options")


def declared(path, method, status):
    op = SPEC.doc["paths"][path][method.lower()]
    return str(status) in op["responses"]


def sweep(start, stop, step):
    """Fine steps across a limit: every length in [start, stop) by step, plus
    each limit's neighbours."""
    return sorted(set(range(start, stop, step)))


def request_with_target_length(port, n):
    """GET /v1/profiles?q=aaa... with a request target of exactly n bytes."""
    base = "/v1/profiles"
    if n <= len(base):
        target = "/" + "a" * (n - 1)  # a short unknown route: 404
    elif n == len(base) + 1:
        target = base + "?"
    else:
        target = base + "?q=" + "a" * (n - len(base) - 3)
    assert len(target) == n
    return raw_request(port, "GET", target, check=False), target


@pytest.mark.parametrize("lengths", [
    sweep(1, 64, 7),
    sweep(TARGET_MAX - 1100, TARGET_MAX + 1100, 37) + [TARGET_MAX - 1, TARGET_MAX, TARGET_MAX + 1],
    sweep(TARGET_MAX + 1100, 64 * 1024 + 1, 1531) + [64 * 1024],
], ids=["short", "around-the-target-limit", "up-to-64KiB"])
def test_every_target_length_gets_a_declared_complete_answer(server, lengths):
    for n in lengths:
        r, target = request_with_target_length(server.port, n)
        path = target.split("?")[0]
        tpl = SPEC.match(path)
        if tpl is None:
            assert r.status_code == 404, (n, r.status_code)
        else:
            assert declared(tpl, "GET", r.status_code), (n, r.status_code)
        if n > TARGET_MAX:
            assert r.status_code == 414, (n, r.status_code)
        elif tpl == "/v1/profiles":
            # a q longer than its maxLength (1024) is a 400, shorter ones are served
            assert r.status_code == (200 if n - len("/v1/profiles?q=") <= 1024 else 400), (n, r.status_code)
        ctype = r.headers.get("Content-Type", "")
        if r.status_code >= 400:
            assert ctype == "application/problem+json", (n, r.status_code, ctype)
        for h in COMMON:
            assert r.headers.get(h), (n, r.status_code, h)
        # a complete body: the declared length arrived
        assert len(r.content) == int(r.headers["Content-Length"]), n


def header_request(port, nbytes):
    """A GET /health whose header fields total about nbytes."""
    filler = max(0, nbytes - 40)
    headers = []
    while filler > 0:
        chunk = min(filler, 4000)
        headers.append((f"X-Fill-{len(headers)}", "v" * chunk))
        filler -= chunk + len(f"X-Fill-{len(headers)}") + 4
    return raw_request(port, "GET", "/health", headers=headers, check=False)


def test_every_header_size_up_to_the_limit_gets_a_declared_answer(server):
    sizes = sweep(100, MAX_REQUEST_BYTES - 600, 997) + sweep(MAX_REQUEST_BYTES - 600,
                                                             MAX_REQUEST_BYTES + 600, 41)
    sizes += [MAX_REQUEST_BYTES + 4000]  # over the limit, within the connection's memory
    seen = set()
    for n in sizes:
        r = header_request(server.port, n)
        assert r.status_code in (200, 431), (n, r.status_code)
        assert declared("/health", "GET", r.status_code), (n, r.status_code)
        seen.add(r.status_code)
        for h in COMMON:
            assert r.headers.get(h), (n, r.status_code, h)
        if r.status_code == 431:
            assert r.headers["Content-Type"] == "application/problem+json"
            assert b"headers_too_large" in r.content
        assert len(r.content) == int(r.headers["Content-Length"]), n
    assert seen == {200, 431}
    # far beyond the limit (past the connection's memory, --max-request-bytes
    # + 8 KiB) libmicrohttpd answers by itself: still a 431, never silence
    # (docs/configuration.md says so)
    r = header_request(server.port, MAX_REQUEST_BYTES * 2)
    assert r.status_code == 431


def test_limits_are_in_the_contract():
    text = SPEC.doc["info"]["description"]
    assert str(TARGET_MAX) in text and str(MAX_REQUEST_BYTES) in text


def test_percent_encoded_path_segments(api):
    # "%61" is "a": the same resource as its decoded form (RFC 3986 6.2.2.2)
    a = api.get("/v1/profiles/worker-devops")
    b = api.get("/v1/profiles/%77orker-devops")
    assert b.status_code == 200 and b.content == a.content
    assert api.get("/v1/profiles/worker-devops/%72ole").json() == api.get(
        "/v1/profiles/worker-devops/role").json()
    # escapes can never smuggle what an id may not contain
    for bad in ("%2E%2E", "a%2Fb", "a%00b", "%57orker-devops", "a%zz"):
        r = api.get("/v1/profiles/" + bad, check=False)
        assert r.status_code == 400 and r.json()["code"] == "invalid_id", bad


@pytest.fixture(scope="module")
def stem_server(rosterd, tmp_path_factory):
    """A parent whose id differs from its file stem, extended by the stem."""
    d = make_profiles(tmp_path_factory.mktemp("stems") / "profiles", fixtures=False)
    (d / "team-base.md").write_text(
        "---\nid: role-team-base\nname: Team base\ncategory: base\n---\n\n# Team base\n\nShared rules.\n")
    for i in (1, 2):
        (d / f"team-worker-{i}.md").write_text(
            f"---\nid: team-worker-{i}\nname: Worker {i}\ncategory: team\nextends: team-base\n---\n\n"
            f"# Worker {i}\n\nDoes things.\n")
    srv = Server(d).start()
    yield srv
    assert srv.stop() == 0


def test_extends_filter_matches_what_summaries_show(stem_server):
    api = stem_server.api()
    listed = api.get("/v1/profiles", params={"category": "team"}).json()["items"]
    assert {i["extends"] for i in listed} == {"team-base"}  # as written
    by_written = api.get("/v1/profiles", params={"extends": "team-base"}).json()
    by_resolved = api.get("/v1/profiles", params={"extends": "role-team-base"}).json()
    assert by_written["total"] == by_resolved["total"] == 2
    assert by_written["items"] == by_resolved["items"]
    facets = api.get("/v1/facets").json()
    assert facets["extends"]["role-team-base"] == 2
    api.close()


def test_head_and_options_on_events_agree(api):
    allow = api.options("/v1/events").headers["Allow"]
    for method in [m.strip() for m in allow.split(",")]:
        if method == "OPTIONS":
            continue
        r = api.request(method, "/v1/events", headers={"Accept": "text/event-stream"}, check=False,
                        timeout=3) if method != "GET" else None
        if r is not None:
            assert r.status_code == 200, method


def test_unknown_query_parameters_are_refused_everywhere(api):
    for path in ("/v1/events", "/openapi.yaml", "/health", "/ready", "/metrics", "/version",
                 "/v1/facets", "/v1/profiles/worker-devops/role", "/v1/diagnostics"):
        r = api.get(path + "?x=1", headers={"Accept": "*/*"}, check=False)
        assert r.status_code == 400 and r.json()["code"] == "unknown_parameter", path
