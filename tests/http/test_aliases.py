"""Stem aliases (issue #13, item 6): what `extends` accepts, the API accepts.

`extends: core` finds a parent by exact id, else by a unique file stem
(docs/profile-format.md "Inheritance"). GET/HEAD /v1/profiles/{name}[/{view}]
where no profile has the id {name} but {name} is the unique stem of a profile
answer 308 to the canonical path (view and query kept) with a `profile_alias`
body; a stem several files share stays 404 with `candidates`. Every response
is validated against openapi/openapi.yaml by conftest's Api.
"""
import time

import pytest
import requests

from conftest import check_response, make_profiles, raw_request
from test_observability import metric_samples, value

CORE = """---
id: role-core
name: Core Role
category: role
description: A role whose id is not its file name
version: "1.0"
extends: base
role: core
---

# Core Role

You are the core role.

## Core Competencies

- **Aliases**: Found by file name as well as by id
"""

LEAD = """---
id: team-lead
name: Team Lead
category: team
description: Extends its parent by file stem
version: "1.0"
extends: core
role: lead
---

# Team Lead

You lead the team.
"""


def profile(pid, extends="base"):
    return (f"---\nid: {pid}\nname: {pid}\ncategory: team\ndescription: {pid}\nversion: \"1.0\"\n"
            f"extends: {extends}\n---\n\n# {pid}\n\nYou are {pid}.\n")


@pytest.fixture
def aliased(spawn, tmp_path):
    """A server over the bundled profiles plus:
    roles/core.md (id role-core: alias `core`), teams/lead.md (id team-lead,
    `extends: core`), roles/dup.md and teams/dup.md (ids role-dup, team-dup:
    `dup` is ambiguous), teams/base.md (id team-base: its stem is the id of
    another profile) and roles/wreck.md (id role-wreck, its parent is missing)."""
    d = make_profiles(tmp_path / "aliased", fixtures=False)
    (d / "roles").mkdir()
    (d / "teams").mkdir()
    (d / "roles" / "core.md").write_text(CORE)
    (d / "teams" / "lead.md").write_text(LEAD)
    (d / "roles" / "dup.md").write_text(profile("role-dup"))
    (d / "teams" / "dup.md").write_text(profile("team-dup"))
    (d / "teams" / "base.md").write_text(profile("team-base"))
    (d / "roles" / "wreck.md").write_text(profile("role-wreck", extends="no-such-parent"))
    srv = spawn(args=["--debounce-ms", "50"], profiles=d)
    return srv, srv.api()


def ask(srv, path, method="GET", headers=None):
    """One request, not followed, validated against the contract. (Over a raw
    socket: requests consumes a redirect's body before conftest's Api can
    read it from the stream.)"""
    return raw_request(srv.port, method, path, headers=list((headers or {}).items()))


def follow(srv, path, method="GET", **kw):
    """A plain requests client that follows redirects (as browsers and SDKs
    do); every hop is validated against the contract."""
    r = requests.request(method, srv.base + path, allow_redirects=True, timeout=10,
                         headers={"Accept-Encoding": "identity", **kw.pop("headers", {})}, **kw)
    for hop in [*r.history, r]:
        check_response(method, hop.request.path_url, hop.status_code, hop.headers,
                       b"" if method == "HEAD" else hop.content)
    return r


def wait_generation(api, gen, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and api.get("/ready").json()["generation"] < gen:
        time.sleep(0.05)
    assert api.get("/ready").json()["generation"] >= gen


def test_stem_redirects_to_the_canonical_id(aliased):
    srv, api = aliased
    r = ask(srv, "/v1/profiles/core")
    assert r.status_code == 308
    assert r.headers["Location"] == "/v1/profiles/role-core"
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Content-Type"] == "application/problem+json"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Roster-Generation"] == "1"
    doc = r.json()
    assert doc["code"] == "profile_alias" and doc["type"] == "urn:roster:problem:profile_alias"
    assert doc["status"] == 308 and doc["instance"] == "/v1/profiles/core"
    assert doc["canonical_id"] == "role-core"
    assert doc["file"] == "roles/core.md"
    assert doc["location"] == r.headers["Location"]
    assert doc["request_id"] == r.headers["X-Request-Id"]
    assert "core" in doc["detail"] and "role-core" in doc["detail"]


def test_following_the_redirect_gives_the_profile(aliased):
    srv, api = aliased
    r = follow(srv, "/v1/profiles/core")
    assert [h.status_code for h in r.history] == [308]
    assert r.status_code == 200 and r.url == srv.base + "/v1/profiles/role-core"
    assert r.json()["id"] == "role-core"
    assert r.content == api.get("/v1/profiles/role-core", headers={"Accept-Encoding": "identity"}).content


def test_the_api_accepts_what_extends_accepts(aliased):
    """team-lead says `extends: core`: the same name finds the same profile over HTTP."""
    srv, api = aliased
    lineage = api.get("/v1/profiles/team-lead/lineage").json()["lineage"]
    assert lineage == ["team-lead", "role-core", "base"]
    parent = follow(srv, "/v1/profiles/core").json()
    assert parent["id"] == lineage[1]


def test_an_id_wins_over_a_stem(aliased):
    """teams/base.md (id team-base) has the stem `base`, which is also the id
    of profiles/base.md: the id answers, as it does for `extends: base`."""
    srv, api = aliased
    r = api.get("/v1/profiles/base")
    assert r.status_code == 200 and r.json()["id"] == "base"
    assert api.get("/v1/profiles/team-base").json()["id"] == "team-base"
    # a stem equal to its own id is just the id
    r = api.get("/v1/profiles/worker-sre")
    assert r.status_code == 200 and "Location" not in r.headers


def test_a_stem_several_files_share_is_404_with_candidates(aliased):
    srv, api = aliased
    for method in ("GET", "HEAD"):
        r = api.request(method, "/v1/profiles/dup")
        assert r.status_code == 404 and "Location" not in r.headers
    r = api.get("/v1/profiles/dup/role")
    assert r.status_code == 404
    doc = r.json()
    assert doc["code"] == "profile_not_found"
    assert doc["candidates"] == [{"id": "role-dup", "file": "roles/dup.md"},
                                 {"id": "team-dup", "file": "teams/dup.md"}]
    assert "2 files" in doc["detail"]
    # every candidate is served under its id
    for c in doc["candidates"]:
        assert api.get(f"/v1/profiles/{c['id']}").status_code == 200


def test_no_id_and_no_stem_is_a_plain_404(aliased):
    _, api = aliased
    r = api.get("/v1/profiles/nothing-here")
    assert r.status_code == 404
    assert r.json()["code"] == "profile_not_found" and "candidates" not in r.json()


def test_head(aliased):
    srv, api = aliased
    r = ask(srv, "/v1/profiles/core", "HEAD")
    assert r.status_code == 308 and r.content == b""
    assert r.headers["Location"] == "/v1/profiles/role-core"
    assert r.headers["Content-Type"] == "application/problem+json"
    r = ask(srv, "/v1/profiles/core/competencies", "HEAD")
    assert r.status_code == 308 and r.headers["Location"] == "/v1/profiles/role-core/competencies"
    final = follow(srv, "/v1/profiles/core", method="HEAD")
    assert [h.status_code for h in final.history] == [308] and final.status_code == 200
    assert final.url == srv.base + "/v1/profiles/role-core"


@pytest.mark.parametrize("view", ["role", "competencies", "lineage", "prompt", "source"])
def test_view_paths_redirect_to_the_same_view(aliased, view):
    srv, api = aliased
    accept = {"Accept": "text/markdown"} if view in ("prompt", "source") else {}
    r = ask(srv, f"/v1/profiles/core/{view}", headers=accept)
    assert r.status_code == 308
    assert r.headers["Location"] == f"/v1/profiles/role-core/{view}"
    assert r.json()["location"] == r.headers["Location"]
    final = follow(srv, f"/v1/profiles/core/{view}", headers=accept)
    assert final.status_code == 200
    assert final.content == api.get(f"/v1/profiles/role-core/{view}",
                                    headers={"Accept-Encoding": "identity", **accept}).content


def test_unknown_view_of_an_alias_is_still_route_not_found(aliased):
    _, api = aliased
    r = api.get("/v1/profiles/core/nope")
    assert r.status_code == 404 and r.json()["code"] == "route_not_found"


@pytest.mark.parametrize("query", ["fields=id,name", "fields=id%2Cname", "fields=id&fields=name"])
def test_the_query_string_is_kept_as_sent(aliased, query):
    srv, api = aliased
    r = ask(srv, f"/v1/profiles/core?{query}")
    assert r.status_code == 308
    assert r.headers["Location"] == f"/v1/profiles/role-core?{query}"
    assert r.json()["instance"] == "/v1/profiles/core"
    final = follow(srv, f"/v1/profiles/core?{query}")
    assert final.status_code == 200 and final.json() == {"id": "role-core", "name": "Core Role"}
    assert final.headers["Content-Type"] == "application/vnd.roster.projection+json"


def test_a_bad_query_is_answered_before_any_redirect(aliased):
    _, api = aliased
    r = api.get("/v1/profiles/core?nope=1")
    assert r.status_code == 400 and r.json()["code"] == "unknown_parameter"


def test_alias_of_a_profile_with_errors_redirects_to_its_404(aliased):
    srv, api = aliased
    r = ask(srv, "/v1/profiles/wreck")
    assert r.status_code == 308 and r.headers["Location"] == "/v1/profiles/role-wreck"
    final = follow(srv, "/v1/profiles/wreck")
    assert final.status_code == 404 and final.json()["code"] == "profile_invalid"


def test_the_alias_follows_a_rename(aliased):
    srv, api = aliased
    assert ask(srv, "/v1/profiles/core").headers["Location"] == "/v1/profiles/role-core"
    g = api.get("/ready").json()["generation"]
    (srv.profiles / "roles" / "core.md").rename(srv.profiles / "roles" / "heart.md")
    wait_generation(api, g + 1)
    r = ask(srv, "/v1/profiles/heart/role")
    assert r.status_code == 308 and r.headers["Location"] == "/v1/profiles/role-core/role"
    assert r.json()["file"] == "roles/heart.md"
    assert r.headers["Roster-Generation"] == str(g + 1)
    gone = api.get("/v1/profiles/core")
    assert gone.status_code == 404 and gone.json()["code"] == "profile_not_found"
    assert follow(srv, "/v1/profiles/heart").json()["id"] == "role-core"
    # a new file that makes the stem ambiguous turns the redirect into candidates
    g += 1
    (srv.profiles / "teams" / "heart.md").write_text(profile("team-heart"))
    wait_generation(api, g + 1)
    r = api.get("/v1/profiles/heart")
    assert r.status_code == 404
    assert [c["id"] for c in r.json()["candidates"]] == ["role-core", "team-heart"]


def test_redirects_are_counted(aliased):
    srv, api = aliased
    before = value(metric_samples(api), "roster_http_requests_total", route="profile", method="GET",
                   status="308")
    ask(srv, "/v1/profiles/core")
    ask(srv, "/v1/profiles/core?fields=id")
    after = metric_samples(api)
    assert value(after, "roster_http_requests_total", route="profile", method="GET",
                 status="308") == before + 2
    assert value(after, "roster_http_requests_total", route="profile", method="GET", status="other") == 0
