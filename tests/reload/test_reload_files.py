"""File events: edit, add, delete and break profiles; each effect is seen
over HTTP within 1 second of the write (debounce is 200 ms by default).
docs/reload.md "Triggers", "The reload", "Last known good"."""
import os
import time

import pytest

from . import reload_support as rs
from .reload_support import OBSERVE_S, original, poll, set_field, write_in_place

NEW_PROFILE = """---
id: worker-new
name: New Worker
category: worker
description: Added while the service runs
version: "1.0"
extends: base
role: tester
---

# New Worker

You are a worker that was added while the service was running.

## Core Competencies

- **Testing**: Checks that live reload picks up new files
"""

STALE_WARNING_PREFIX = '299 rosterd "stale:'


def get_json(srv, path):
    r = srv.get(path)
    return r, (r.json() if r.headers.get("Content-Type", "").endswith("json") else None)


def diag_items(srv):
    r = srv.get("/v1/diagnostics")
    assert r.status_code == 200
    return r.json()["items"]


def errors_for(items, file):
    return [d for d in items if d.get("file") == file and d.get("severity") == "error"]


def only_reload_since(srv, mark, settle=0.6):
    """Waits `settle` seconds (3 debounce windows) and returns the reload
    records logged since mark."""
    time.sleep(settle)
    return srv.records(since=mark, event="reload")


def strip_state(doc):
    return {k: v for k, v in doc.items() if k not in ("stale", "diagnostics")}


# ------------------------------------------------------------------ edit
def test_edit_serves_new_content_etag_and_generation(server, profiles_dir):
    g0 = server.generation()
    ok0 = rs.metric(server.metrics(), "roster_reloads_total", {"result": "success"}) or 0
    r0 = server.get("/v1/profiles/worker-sre")
    assert r0.status_code == 200
    e0 = r0.headers["ETag"]
    assert rs.generation(r0.headers) == g0
    mark = server.mark()

    text = set_field(original("worker-sre.md"), "description", "SRE edited while running")
    write_in_place(profiles_dir / "worker-sre.md", text)

    def edited():
        r = server.get("/v1/profiles/worker-sre")
        return r if r.status_code == 200 and r.json()["description"] == "SRE edited while running" else None

    r, dt = poll(edited, OBSERVE_S)
    assert r is not None, f"the edit was not served within {OBSERVE_S} s"
    e1 = r.headers["ETag"]
    assert e1 != e0
    assert rs.generation(r.headers) == g0 + 1
    assert server.generation() == g0 + 1
    assert r.json().get("stale", False) is False
    # the file as written
    src = server.get("/v1/profiles/worker-sre/source")
    assert src.status_code == 200 and src.content == text.encode()
    # a client revalidating with the old ETag sees the change, the new one is current
    assert server.get("/v1/profiles/worker-sre", headers={"If-None-Match": e0}).status_code == 200
    assert server.get("/v1/profiles/worker-sre", headers={"If-None-Match": e1}).status_code == 304

    m = server.metrics()
    assert rs.metric(m, "roster_snapshot_generation") == g0 + 1
    assert rs.metric(m, "roster_reloads_total", {"result": "success"}) == ok0 + 1
    assert abs(rs.metric(m, "roster_last_reload_timestamp_seconds") - time.time()) < 60

    reloads = only_reload_since(server, mark)
    assert len(reloads) == 1, reloads
    rec = reloads[0]
    assert rec["generation"] == g0 + 1
    assert rec["reason"] == "files"
    assert (rec["added"], rec["changed"], rec["removed"]) == (0, 1, 0)


def test_edit_parent_rebuilds_descendants(server, profiles_dir):
    g0 = server.generation()
    # in the Operating Rules every descendant inherits (worker-sre drops
    # base's role statement, `inherit: {Base Worker: drop}`, not its rules)
    text = original("base.md").replace("Restate the task in one sentence", "Restate the task in one clear sentence")
    assert text != original("base.md")
    write_in_place(profiles_dir / "base.md", text)

    def seen():
        bodies = [server.get(f"/v1/profiles/{p}/prompt") for p in ("base", "worker-devops", "worker-sre")]
        return all(b.status_code == 200 and "in one clear sentence" in b.text for b in bodies)

    ok, dt = poll(seen, OBSERVE_S)
    assert ok, "the parent's edit did not reach every descendant within 1 s"
    assert server.generation() == g0 + 1
    rec = server.wait_reload(g0 + 1, since=0)
    assert rec["changed"] == 3, rec


def test_burst_of_writes_gives_one_reload(server, profiles_dir):
    g0 = server.generation()
    mark = server.mark()
    path = profiles_dir / "worker-sre.md"
    for i in range(10):
        write_in_place(path, set_field(original("worker-sre.md"), "description", f"burst {i}"))
        time.sleep(0.005)

    def final():
        r = server.get("/v1/profiles/worker-sre")
        return r.status_code == 200 and r.json()["description"] == "burst 9"

    ok, _ = poll(final, OBSERVE_S)
    assert ok, "the last write of the burst was not served within 1 s"
    reloads = only_reload_since(server, mark)
    assert [r["generation"] for r in reloads] == [g0 + 1], reloads


# ------------------------------------------------------------ add/delete
def test_added_profile_is_listed(server, profiles_dir):
    g0 = server.generation()
    mark = server.mark()
    write_in_place(profiles_dir / "worker-new.md", NEW_PROFILE)

    def listed():
        r = server.get("/v1/profiles")
        return r.status_code == 200 and "worker-new" in [i["id"] for i in r.json()["items"]]

    ok, _ = poll(listed, OBSERVE_S)
    assert ok, "the new profile was not listed within 1 s"
    r = server.get("/v1/profiles/worker-new")
    assert r.status_code == 200
    assert r.json()["lineage"] == ["worker-new", "base"]
    assert rs.generation(r.headers) == g0 + 1
    reloads = only_reload_since(server, mark)
    assert len(reloads) == 1 and reloads[0]["added"] == 1, reloads


def test_deleted_profile_is_404(server, profiles_dir):
    g0 = server.generation()
    mark = server.mark()
    os.remove(profiles_dir / "worker-sre.md")

    def gone():
        return server.get("/v1/profiles/worker-sre").status_code == 404

    ok, _ = poll(gone, OBSERVE_S)
    assert ok, "the deleted profile was still served 1 s later"
    r = server.get("/v1/profiles/worker-sre")
    assert r.json()["code"] == "profile_not_found"
    ids = [i["id"] for i in server.get("/v1/profiles").json()["items"]]
    assert ids == ["base", "worker-devops"]
    assert server.generation() == g0 + 1
    reloads = only_reload_since(server, mark)
    assert len(reloads) == 1 and reloads[0]["removed"] == 1, reloads


# ------------------------------------------------------- last known good
def test_broken_profile_keeps_last_good_then_fix(server, profiles_dir):
    g0 = server.generation()
    r0, good = get_json(server, "/v1/profiles/worker-sre")
    good_source = server.get("/v1/profiles/worker-sre/source").content
    assert good.get("stale", False) is False
    mark = server.mark()

    write_in_place(profiles_dir / "worker-sre.md", rs.BROKEN_YAML.format(id="worker-sre"))

    def stale():
        r = server.get("/v1/profiles/worker-sre")
        return r if r.status_code == 200 and r.json().get("stale") is True else None

    r, _ = poll(stale, OBSERVE_S)
    assert r is not None, "the broken profile was not marked stale within 1 s"
    doc = r.json()
    # the last good version, with the new diagnostics
    assert strip_state(doc) == strip_state(good)
    errs = errors_for(doc["diagnostics"], "worker-sre.md")
    assert errs, doc["diagnostics"]
    assert r.headers.get("Warning", "").startswith(STALE_WARNING_PREFIX), r.headers
    assert rs.generation(r.headers) == g0 + 1
    # the source served is the last good one, not the broken file
    assert server.get("/v1/profiles/worker-sre/source").content == good_source
    # /v1/diagnostics
    assert errors_for(diag_items(server), "worker-sre.md")
    # readiness and metrics count it as stale
    ready = server.get("/ready")
    assert ready.status_code == 200 and ready.json()["profiles"]["stale"] == 1
    assert rs.metric(server.metrics(), "roster_profiles", {"state": "stale"}) == 1
    rec = server.wait_reload(g0 + 1, since=mark)
    assert rec["stale"] == 1 and rec["invalid"] >= 1, rec

    # fix it: fresh again
    mark = server.mark()
    write_in_place(profiles_dir / "worker-sre.md", original("worker-sre.md"))

    def fresh():
        r = server.get("/v1/profiles/worker-sre")
        return r if r.status_code == 200 and r.json().get("stale", False) is False else None

    r, _ = poll(fresh, OBSERVE_S)
    assert r is not None, "the fixed profile was not fresh again within 1 s"
    assert "Warning" not in r.headers
    assert strip_state(r.json()) == strip_state(good)
    assert rs.generation(r.headers) == g0 + 2
    assert not errors_for(diag_items(server), "worker-sre.md")
    assert server.get("/ready").json()["profiles"]["stale"] == 0
    assert rs.metric(server.metrics(), "roster_profiles", {"state": "stale"}) == 0
    assert len(only_reload_since(server, mark)) == 1


@pytest.mark.parametrize("path,method,revalidate", [
    ("/v1/profiles/worker-sre", "GET", False),
    ("/v1/profiles/worker-sre", "HEAD", False),
    ("/v1/profiles/worker-sre", "GET", True),
    ("/v1/profiles/worker-sre/role", "GET", False),
    ("/v1/profiles/worker-sre/lineage", "GET", False),
    ("/v1/profiles/worker-sre/prompt", "GET", False),
    ("/v1/profiles/worker-sre/source", "GET", False),
    ("/v1/profiles/worker-sre?fields=id,stale", "GET", False),
], ids=["profile", "head", "304", "role", "lineage", "prompt", "source", "fields"])
def test_stale_warning_on_every_response(server, profiles_dir, path, method, revalidate):
    """docs/reload.md: 'a Warning: 299 rosterd "stale: ..." header on every
    response for it'."""
    write_in_place(profiles_dir / "worker-sre.md", rs.BROKEN_YAML.format(id="worker-sre"))
    ok, _ = poll(lambda: server.get("/v1/profiles/worker-sre").json().get("stale") is True, OBSERVE_S)
    assert ok
    headers = {}
    if revalidate:
        headers["If-None-Match"] = server.get(path).headers["ETag"]
    r = server.session.request(method, server.base + path, headers=headers, timeout=10)
    assert r.status_code == (304 if revalidate else 200)
    assert r.headers.get("Warning", "").startswith(STALE_WARNING_PREFIX), \
        f"{method} {path}{' (304)' if revalidate else ''}: no Warning header on a stale profile: {dict(r.headers)}"


def test_broken_parent_children_keep_last_good(server, profiles_dir):
    g0 = server.generation()
    _, devops_good = get_json(server, "/v1/profiles/worker-devops")
    _, sre_good = get_json(server, "/v1/profiles/worker-sre")
    _, base_good = get_json(server, "/v1/profiles/base")
    write_in_place(profiles_dir / "worker-devops.md", rs.BROKEN_YAML.format(id="worker-devops"))

    def both_stale():
        a = server.get("/v1/profiles/worker-devops")
        b = server.get("/v1/profiles/worker-sre")
        return (a, b) if (a.status_code == b.status_code == 200 and a.json().get("stale") is True
                          and b.json().get("stale") is True) else None

    got, _ = poll(both_stale, OBSERVE_S)
    assert got is not None, "parent and child were not both stale within 1 s"
    a, b = got
    assert strip_state(a.json()) == strip_state(devops_good)
    assert strip_state(b.json()) == strip_state(sre_good)
    assert errors_for(a.json()["diagnostics"], "worker-devops.md")
    assert b.json()["diagnostics"], "the stale child carries no diagnostics"
    for resp in (a, b):
        assert resp.headers.get("Warning", "").startswith(STALE_WARNING_PREFIX)
    base = server.get("/v1/profiles/base")
    assert base.json() == base_good and "Warning" not in base.headers
    assert server.get("/ready").json()["profiles"]["stale"] == 2
    items = diag_items(server)
    assert errors_for(items, "worker-devops.md")
    assert any(d.get("file") == "worker-sre.md" for d in items), items

    write_in_place(profiles_dir / "worker-devops.md", original("worker-devops.md"))

    def both_fresh():
        a = server.get("/v1/profiles/worker-devops").json()
        b = server.get("/v1/profiles/worker-sre").json()
        return a.get("stale", False) is False and b.get("stale", False) is False

    ok, _ = poll(both_fresh, OBSERVE_S)
    assert ok, "parent and child were not fresh again within 1 s"
    assert server.generation() == g0 + 2
    assert strip_state(server.get("/v1/profiles/worker-sre").json()) == strip_state(sre_good)


def test_stale_profile_deleted_is_404(server, profiles_dir):
    write_in_place(profiles_dir / "worker-sre.md", rs.BROKEN_YAML.format(id="worker-sre"))
    ok, _ = poll(lambda: server.get("/v1/profiles/worker-sre").json().get("stale") is True, OBSERVE_S)
    assert ok
    os.remove(profiles_dir / "worker-sre.md")
    ok, _ = poll(lambda: server.get("/v1/profiles/worker-sre").status_code == 404, OBSERVE_S)
    assert ok, "a deleted stale profile was still served 1 s later"
    assert server.get("/ready").json()["profiles"]["stale"] == 0


def test_broken_from_start_is_404_with_diagnostics(spawn, profiles_dir):
    write_in_place(profiles_dir / "worker-bad.md", rs.BROKEN_YAML.format(id="worker-bad"))
    srv = spawn(profiles_dir)
    r = srv.get("/v1/profiles/worker-bad")
    assert r.status_code == 404
    doc = r.json()
    assert doc["code"] == "profile_invalid"
    assert errors_for(doc["diagnostics"], "worker-bad.md"), doc
    assert "worker-bad" not in [i["id"] for i in srv.get("/v1/profiles").json()["items"]]
    assert errors_for(diag_items(srv), "worker-bad.md")
    ready = srv.get("/ready").json()
    assert ready["profiles"]["invalid"] == 1 and ready["profiles"]["stale"] == 0


def test_never_valid_profile_added_at_runtime_is_404(server, profiles_dir):
    g0 = server.generation()
    write_in_place(profiles_dir / "worker-bad.md", rs.BROKEN_YAML.format(id="worker-bad"))

    def invalid():
        r = server.get("/v1/profiles/worker-bad")
        return r if r.status_code == 404 and r.json().get("code") == "profile_invalid" else None

    r, _ = poll(invalid, OBSERVE_S)
    assert r is not None, "the never-valid profile's diagnostics were not served within 1 s"
    assert errors_for(r.json()["diagnostics"], "worker-bad.md")
    assert errors_for(diag_items(server), "worker-bad.md")
    assert server.generation() == g0 + 1
    # once fixed, it is served
    write_in_place(profiles_dir / "worker-bad.md", NEW_PROFILE.replace("worker-new", "worker-bad"))
    ok, _ = poll(lambda: server.get("/v1/profiles/worker-bad").status_code == 200, OBSERVE_S)
    assert ok


def test_hidden_file_churn_does_not_postpone_reloads(server, profiles_dir):
    """A sidecar or editor touching a hidden file (never indexed) every
    100 ms must not hold back a profile edit indefinitely: the debounce has
    no upper bound and counts events for names that are never read."""
    write_in_place(profiles_dir / "worker-sre.md",
                   set_field(original("worker-sre.md"), "description", "edited amid noise"))
    t0 = time.monotonic()
    seen_after = None
    while time.monotonic() - t0 < 3.0:
        (profiles_dir / ".heartbeat").write_text(str(time.time()))
        if server.get("/v1/profiles/worker-sre").json()["description"] == "edited amid noise":
            seen_after = time.monotonic() - t0
            break
        time.sleep(0.1)
    assert seen_after is not None and seen_after < 2.0, \
        "a profile edit was not served within 2 s while a hidden file was touched every 100 ms"
