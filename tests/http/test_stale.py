"""Last known good: a served profile whose file breaks is served stale."""
import re
import time

import pytest

from test_observability import metric_samples, value

# the cause is fx-leaf's own first error, with its line and message (docs/reload.md)
STALE_WARNING = re.compile(r'^299 rosterd "stale: the profile file has errors \(fx-leaf\.md:\d+: .+\); '
                           r'serving its last good version"$')


@pytest.fixture
def broken(spawn):
    """A server whose fx-leaf.md was valid at start and is broken now."""
    srv = spawn(args=["--debounce-ms", "50"])
    api = srv.api()
    good = api.get("/v1/profiles/fx-leaf", headers={"Accept-Encoding": "identity"})
    assert good.status_code == 200
    leaf = srv.profiles / "fx-leaf.md"
    leaf.write_text(leaf.read_text().replace("extends: worker-devops", "extends: [worker-devops"))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and api.get("/ready").json()["generation"] < 2:
        time.sleep(0.05)
    assert api.get("/ready").json()["generation"] == 2
    return srv, api, good


def test_stale_profile_keeps_its_last_good_version(broken):
    srv, api, good = broken
    r = api.get("/v1/profiles/fx-leaf", headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200
    assert STALE_WARNING.match(r.headers["Warning"]), r.headers["Warning"]
    p = r.json()
    assert p["stale"] is True
    assert p["diagnostics"] and {d["code"] for d in p["diagnostics"]} == {"frontmatter.syntax"}
    old = good.json()
    for k in old:
        if k not in ("stale", "diagnostics"):
            assert p[k] == old[k], k
    assert r.headers["ETag"] != good.headers["ETag"]
    for view in ("role", "lineage", "prompt", "source"):
        v = api.get(f"/v1/profiles/fx-leaf/{view}")
        assert v.status_code == 200 and v.headers["Warning"] == r.headers["Warning"], view
    # the source is the last good file, not the broken one on disk
    src = api.get("/v1/profiles/fx-leaf/source").content
    assert b"extends: worker-devops\n" in src
    assert src != (srv.profiles / "fx-leaf.md").read_bytes()
    nm = api.get("/v1/profiles/fx-leaf", headers={"If-None-Match": r.headers["ETag"], "Accept-Encoding": "identity"})
    assert nm.status_code == 304 and nm.headers["Warning"] == r.headers["Warning"]
    # still listed and still found by its parent
    assert "fx-leaf" in [i["id"] for i in api.get("/v1/profiles", params={"extends": "worker-devops"}).json()["items"]]
    ready = api.get("/ready").json()
    assert ready["profiles"]["stale"] == 1


def test_stale_warning_with_fields(broken):
    """A projection of a stale profile is still the stale profile: it needs the Warning too."""
    _, api, _ = broken
    r = api.get("/v1/profiles/fx-leaf", params={"fields": "id,stale"})
    assert r.status_code == 200 and r.json() == {"id": "fx-leaf", "stale": True}
    assert STALE_WARNING.match(r.headers.get("Warning", ""))


def test_profile_states_partition_the_profiles(broken):
    """served (current file), stale (served from the last good version) and
    invalid (not served) partition the profiles, in /ready and in
    roster_profiles; RosterProfilesInvalid fires on invalid + stale, the
    files that do not validate."""
    _, api, _ = broken
    diags = api.get("/v1/diagnostics", params={"severity": "error"}).json()["items"]
    files_with_errors = {d["file"] for d in diags}
    assert files_with_errors == {"fx-broken.md", "fx-orphan.md", "fx-leaf.md"}
    ready = api.get("/ready").json()["profiles"]
    listed = api.get("/v1/profiles", params={"limit": 500}).json()["total"]
    assert ready["stale"] == 1
    assert ready["invalid"] == 2  # fx-broken and fx-orphan: errors and no last good version
    assert ready["served"] + ready["stale"] == listed
    s = metric_samples(api)
    for state in ("served", "stale", "invalid"):
        assert value(s, "roster_profiles", state=state) == ready[state], state
    assert ready["invalid"] + ready["stale"] == len(files_with_errors)


def test_repair_clears_stale(broken):
    srv, api, good = broken
    leaf = srv.profiles / "fx-leaf.md"
    leaf.write_text(leaf.read_text().replace("extends: [worker-devops", "extends: worker-devops"))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and api.get("/ready").json()["generation"] < 3:
        time.sleep(0.05)
    r = api.get("/v1/profiles/fx-leaf", headers={"Accept-Encoding": "identity"})
    assert r.json()["stale"] is False and "Warning" not in r.headers
    assert r.content == good.content  # same bytes as before it broke
    assert api.get("/ready").json()["profiles"]["stale"] == 0


def test_new_broken_profile_is_not_served(spawn):
    srv = spawn(args=["--debounce-ms", "50"])
    api = srv.api()
    (srv.profiles / "fx-late.md").write_text("---\nid: fx-late\nname: [oops\n---\n# Late\n")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and api.get("/ready").json()["generation"] < 2:
        time.sleep(0.05)
    r = api.get("/v1/profiles/fx-late")
    assert r.status_code == 404 and r.json()["code"] == "profile_invalid"
    assert "fx-late" not in [i["id"] for i in api.get("/v1/profiles").json()["items"]]
