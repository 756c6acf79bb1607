"""Listing, filters, paging, profiles, fields and every view."""
import hashlib

import pytest

from conftest import FIXTURE_IDS, ID_RE, INVALID_FIXTURE_IDS, SPEC, VIEWS, profile_ids


@pytest.fixture(scope="module")
def everything(server):
    """Every served profile, fetched once."""
    api = server.api()
    ids = profile_ids(api)
    profiles = {i: api.get(f"/v1/profiles/{i}").json() for i in ids}
    api.close()
    return profiles


def test_default_list(api, everything):
    r = api.get("/v1/profiles")
    assert r.status_code == 200
    SPEC.validate(r.json(), SPEC.schema("ProfileList"))
    body = r.json()
    ids = [i["id"] for i in body["items"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert body["total"] == len(everything)
    assert len(ids) == min(50, len(everything))
    assert body["next_cursor"] is None
    assert {"base", "worker-devops"} | FIXTURE_IDS <= set(ids)
    assert not INVALID_FIXTURE_IDS & set(ids)
    for item in body["items"]:
        p = everything[item["id"]]
        assert item["link"] == f"/v1/profiles/{item['id']}"
        for k in ("name", "category", "description", "version", "extends", "lineage"):
            assert item[k] == p[k], (item["id"], k)
        assert item["role"] == p["role"]["name"]


def test_summary_nulls_and_extends_forms(everything):
    assert everything["fx-minimal"]["name"] is None
    assert everything["fx-minimal"]["extends"] is None
    assert everything["fx-list-parent"]["extends"] == ["base"]
    assert everything["fx-leaf"]["extends"] == "worker-devops"
    assert everything["fx-leaf"]["version"] == "2"  # a YAML number shown as text


def test_third_level_lineage(everything):
    assert everything["worker-devops"]["lineage"] == ["worker-devops", "base"]
    assert everything["fx-leaf"]["lineage"] == ["fx-leaf", "worker-devops", "base"]
    assert everything["fx-list-parent"]["lineage"] == ["fx-list-parent", "base"]
    # inherited sections come with the file they are from
    froms = {s["from"] for s in everything["fx-leaf"]["sections"]}
    assert froms == {"fx-leaf", "worker-devops", "base"}


@pytest.mark.parametrize("key", ["category", "role", "extends"])
def test_exact_filters(api, everything, key):
    values = set()
    for p in everything.values():
        if key == "category":
            values.add(p["category"])
        elif key == "role":
            values.add(p["role"]["name"])
        else:
            ext = p["extends"]
            values |= set(ext if isinstance(ext, list) else [ext])
    values.discard(None)
    values.add("no-such-value")
    for v in sorted(values):
        r = api.get("/v1/profiles", params={key: v})
        assert r.status_code == 200
        got = [i["id"] for i in r.json()["items"]]

        def match(p):
            if key == "category":
                return p["category"] == v
            if key == "role":
                return p["role"]["name"] == v
            ext = p["extends"]
            return v in (ext if isinstance(ext, list) else [ext])

        want = sorted(i for i, p in everything.items() if match(p))
        assert got == want, (key, v)
        assert r.json()["total"] == len(want)


def test_filter_examples(api):
    ids = lambda **p: [i["id"] for i in api.get("/v1/profiles", params=p).json()["items"]]  # noqa: E731
    assert ids(category="fixture") == ["fx-leaf", "fx-list-parent"]
    assert ids(role="devops") == ["worker-devops"]
    assert "fx-leaf" in ids(extends="worker-devops")
    assert "fx-list-parent" in ids(extends="base")
    assert ids(category="fixture", role="leaf") == ["fx-leaf"]


def test_q_search(api, everything):
    # id, case-insensitive
    assert [i["id"] for i in api.get("/v1/profiles", params={"q": "LEAF"}).json()["items"]] == ["fx-leaf"]
    # competency name
    got = [i["id"] for i in api.get("/v1/profiles", params={"q": "fixture handling"}).json()["items"]]
    assert got == ["fx-leaf"]
    # an inherited section title: every profile that extends base (directly or not)
    got = {i["id"] for i in api.get("/v1/profiles", params={"q": "Operating Rules"}).json()["items"]}
    want = {i for i, p in everything.items() if "base" in p["lineage"]}
    assert got == want
    # empty q is no filter; no match is an empty page
    assert api.get("/v1/profiles", params={"q": ""}).json()["total"] == len(everything)
    r = api.get("/v1/profiles", params={"q": "zz-nothing-matches-zz"})
    assert r.json() == {"items": [], "total": 0, "next_cursor": None}


def test_list_fields(api, everything):
    r = api.get("/v1/profiles", params={"fields": "id,role,lineage"})
    assert r.status_code == 200
    SPEC.validate(r.json(), SPEC.schema("ProfileListProjection"))
    for item in r.json()["items"]:
        assert list(item) == ["id", "role", "lineage"]
        assert item["lineage"] == everything[item["id"]]["lineage"]
    r = api.get("/v1/profiles", params={"fields": "link"})
    assert all(list(i) == ["link"] for i in r.json()["items"])


def test_cursor_paging(api, everything):
    want = sorted(everything)
    assert len(want) >= 5
    got, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        r = api.get("/v1/profiles", params=params)
        assert r.status_code == 200
        body = r.json()
        assert body["total"] == len(want)
        assert 1 <= len(body["items"]) <= 2
        got += [i["id"] for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(body["items"]) == 2
    assert got == want
    assert pages == (len(want) + 1) // 2


def test_cursor_paging_with_filter_and_fields(api):
    got, cursor = [], None
    for _ in range(10):
        params = {"category": "fixture", "limit": 1, "fields": "id"}
        if cursor:
            params["cursor"] = cursor
        body = api.get("/v1/profiles", params=params).json()
        assert body["total"] == 2
        got += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert got == ["fx-leaf", "fx-list-parent"]


def test_limit_bounds(api, everything):
    assert len(api.get("/v1/profiles", params={"limit": 1}).json()["items"]) == 1
    assert len(api.get("/v1/profiles", params={"limit": 500}).json()["items"]) == len(everything)


def test_profile(api, server):
    r = api.get("/v1/profiles/fx-leaf")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    p = r.json()
    SPEC.validate(p, SPEC.schema("Profile"))
    assert p["id"] == "fx-leaf" and p["stale"] is False
    assert "Warning" not in r.headers
    # a number where a string is expected keeps its authored text (frontmatter.number_as_string)
    assert p["metadata"]["id"] == "fx-leaf" and p["metadata"]["version"] == "2"
    assert p["role"] == {"name": "leaf", "title": "Leaf Worker",
                         "statement": "You are the leaf fixture. You exist so the tests have a third-level profile."}
    assert p["competencies"][-1] == {"name": None, "description": "Plain competency without a label",
                                     "from": "fx-leaf", "section": "Leaf Worker/Core Competencies"}
    assert p["tool_priorities"][1]["qualifier"] == "Fallback"
    sec = "Leaf Worker/Anti-Patterns"
    assert p["anti_patterns"] == {
        "avoid": [{"text": "Never be nondeterministic", "from": "fx-leaf", "section": sec}],
        "always": [{"text": "Always clean up", "from": "fx-leaf", "section": sec}]}
    raw = (server.profiles / "fx-leaf.md").read_bytes()
    assert p["source"] == {"path": "fx-leaf.md", "sha256": hashlib.sha256(raw).hexdigest()}
    minimal = api.get("/v1/profiles/fx-minimal").json()
    assert [d["code"] for d in minimal["diagnostics"]] == ["id.missing"]
    assert minimal["role"] == {"name": None, "title": None, "statement": None}


def test_profile_fields(api, everything):
    r = api.get("/v1/profiles/fx-leaf", params={"fields": "id,lineage,stale"})
    assert r.status_code == 200
    SPEC.validate(r.json(), SPEC.schema("ProfileProjection"))
    assert r.json() == {"id": "fx-leaf", "lineage": ["fx-leaf", "worker-devops", "base"], "stale": False}
    assert list(r.json()) == ["id", "lineage", "stale"]
    # empty elements are refused, as the contract's pattern says
    for bad in ("role,,source", "role,", ",role", ","):
        r = api.get("/v1/profiles/base", params={"fields": bad}, check=False)
        assert r.status_code == 400 and r.json()["code"] == "invalid_query", bad
    # the repeated form (what generated clients send for an array) means the same
    r = api.get("/v1/profiles/base?fields=role&fields=source")
    assert r.json() == {"role": everything["base"]["role"], "source": everything["base"]["source"]}
    r = api.get("/v1/profiles?fields=id&fields=name&limit=1")
    assert list(r.json()["items"][0]) == ["id", "name"]
    # a projection has its own media type, so the full document's schema stays complete
    assert r.headers["Content-Type"].startswith("application/vnd.roster.projection+json")
    proj = "application/vnd.roster.projection+json"
    r = api.get("/v1/profiles/base?fields=id", headers={"Accept": proj})
    assert r.status_code == 200 and r.json() == {"id": "base"}
    r = api.get("/v1/profiles?fields=id&limit=1", headers={"Accept": proj})
    assert r.status_code == 200
    # without fields the answer is the full document, which that Accept does not admit
    assert api.get("/v1/profiles/base", headers={"Accept": proj}, check=False).status_code == 406
    # other keys still may not repeat
    r = api.get("/v1/profiles?limit=1&limit=2", check=False)
    assert r.status_code == 400 and "more than once" in r.json()["detail"]
    keys = list(everything["base"])[:16]  # at most 16 fields
    r = api.get("/v1/profiles/base", params={"fields": ",".join(keys)})
    assert r.json() == {k: everything["base"][k] for k in keys}


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_views(api, everything, view):
    key = VIEWS[view]
    for pid in ("base", "fx-leaf", "fx-list-parent", "fx-minimal"):
        r = api.get(f"/v1/profiles/{pid}/{view}")
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/json"
        assert r.json() == {"id": pid, key: everything[pid][key]}
        assert list(r.json()) == ["id", key]


def test_prompt_markdown_and_json(api, everything):
    for pid in ("base", "fx-leaf", "fx-minimal"):
        md = api.get(f"/v1/profiles/{pid}/prompt")
        assert md.status_code == 200
        assert md.headers["Content-Type"] == "text/markdown; charset=utf-8"
        js = api.get(f"/v1/profiles/{pid}/prompt", headers={"Accept": "application/json"})
        assert js.status_code == 200 and js.headers["Content-Type"] == "application/json"
        doc = js.json()
        SPEC.validate(doc, SPEC.schema("PromptDocument"))
        assert doc["id"] == pid
        assert doc["lineage"] == everything[pid]["lineage"]
        assert doc["prompt"].encode("utf-8") == md.content
        assert doc["sha256"] == hashlib.sha256(md.content).hexdigest()
        assert md.headers["ETag"] != js.headers["ETag"]
    # negotiation: the higher quality wins, ties go to Markdown
    neg = [("text/markdown", "text/markdown"), ("application/json;q=0.9, text/markdown", "text/markdown"),
           ("text/markdown;q=0.5, application/json", "application/json"), ("*/*", "text/markdown"),
           ("text/*", "text/markdown"), ("application/*", "application/json")]
    for accept, want in neg:
        r = api.get("/v1/profiles/fx-leaf/prompt", headers={"Accept": accept})
        assert r.status_code == 200 and r.headers["Content-Type"].startswith(want), accept
    md = api.get("/v1/profiles/fx-leaf/prompt").text
    assert "# Leaf Worker" in md and "# Base Worker" in md


def test_source_is_the_file(api, server):
    for name in ("base.md", "worker-devops.md", "fx-leaf.md", "fx-minimal.md"):
        pid = name[:-3]
        r = api.get(f"/v1/profiles/{pid}/source")
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "text/markdown; charset=utf-8"
        assert r.content == (server.profiles / name).read_bytes()


def test_facets(api, everything):
    r = api.get("/v1/facets")
    assert r.status_code == 200
    f = r.json()
    cats, roles, ext = {}, {}, {}
    for p in everything.values():
        if p["category"] is not None:
            cats[p["category"]] = cats.get(p["category"], 0) + 1
        if p["role"]["name"] is not None:
            roles[p["role"]["name"]] = roles.get(p["role"]["name"], 0) + 1
        e = p["extends"]
        for parent in (e if isinstance(e, list) else [e] if e else []):
            ext[parent] = ext.get(parent, 0) + 1
    assert f == {"categories": cats, "roles": roles, "extends": ext}
    assert f["categories"]["fixture"] == 2


def test_diagnostics(api, server):
    r = api.get("/v1/diagnostics")
    assert r.status_code == 200
    all_ = r.json()
    assert all_["total"] == len(all_["items"])
    counts = {s: sum(1 for d in all_["items"] if d["severity"] == s) for s in ("error", "warning", "info")}
    assert all_["counts"] == counts
    files = {d["file"] for d in all_["items"] if d["severity"] == "error"}
    assert {"fx-broken.md", "fx-orphan.md"} <= files
    codes = {(d["file"], d["code"]) for d in all_["items"]}
    assert ("fx-broken.md", "frontmatter.syntax") in codes
    assert ("fx-orphan.md", "extends.missing") in codes
    assert ("fx-minimal.md", "id.missing") in codes
    keys = [(d["file"] or "", d["line"] or 0, d["column"] or 0) for d in all_["items"]]
    assert keys == sorted(keys)
    for sev in ("error", "warning", "info"):
        r = api.get("/v1/diagnostics", params={"severity": sev})
        assert r.status_code == 200
        body = r.json()
        assert body["items"] == [d for d in all_["items"] if d["severity"] == sev]
        assert body["total"] == counts[sev]
        assert body["counts"] == counts
