"""The profiles directory vanishes and comes back: the snapshot in service
stays, readiness stays up, the failure is logged and counted, and the
service recovers. docs/reload.md "The reload"."""
import os
import shutil
import time

from . import reload_support as rs
from .reload_support import OBSERVE_S, SLOW_S, original, poll, set_field, write_in_place

FAIL = {"result": "failure"}
OK = {"result": "success"}


def counters(srv):
    m = srv.metrics()
    return (rs.metric(m, "roster_reloads_total", FAIL) or 0.0,
            rs.metric(m, "roster_reloads_total", OK) or 0.0,
            rs.metric(m, "roster_profiles_dir_failures_total") or 0.0)


def assert_still_serving(srv, g0, etags):
    ready = srv.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["generation"] == g0
    assert rs.metric(srv.metrics(), "roster_ready") == 1
    assert rs.metric(srv.metrics(), "roster_snapshot_generation") == g0
    for pid, etag in etags.items():
        r = srv.get(f"/v1/profiles/{pid}")
        assert r.status_code == 200 and r.headers["ETag"] == etag, (pid, r.status_code)
    assert [i["id"] for i in srv.get("/v1/profiles").json()["items"]] == list(etags)


def test_directory_renamed_away_and_back(server, profiles_dir):
    g0 = server.generation()
    etags = {p: server.get(f"/v1/profiles/{p}").headers["ETag"] for p in ("base", "worker-devops", "worker-sre")}
    fail0, ok0, dirfail0 = counters(server)
    mark = server.mark()
    away = profiles_dir.with_name("profiles.away")
    os.rename(profiles_dir, away)
    rec = server.wait_for(lambda d: d.get("event") == "reload_failed", since=mark, timeout=SLOW_S)
    assert rec is not None, "no reload_failed after the directory vanished"
    assert rec["generation"] == g0 and rec.get("error"), rec
    assert server.alive()
    assert_still_serving(server, g0, etags)
    fail1, ok1, dirfail1 = counters(server)
    assert fail1 >= fail0 + 1, (fail0, fail1)
    assert dirfail1 >= dirfail0 + 1, (dirfail0, dirfail1)
    assert ok1 == ok0

    mark = server.mark()
    os.rename(away, profiles_dir)
    rec = server.wait_for(lambda d: d.get("event") == "profiles_dir_recovered", since=mark, timeout=SLOW_S)
    assert rec is not None, "no profiles_dir_recovered after the directory came back"
    # the same files: nothing changed, the generation stays
    time.sleep(0.5)
    assert_still_serving(server, g0, etags)
    assert server.records(since=mark, event="reload") == []

    # and it is still watched
    write_in_place(profiles_dir / "worker-sre.md",
                   set_field(original("worker-sre.md"), "description", "after the round trip"))
    ok, _ = poll(lambda: server.get("/v1/profiles/worker-sre").json()["description"] == "after the round trip",
                 OBSERVE_S)
    assert ok, "edits are not seen after the directory came back"
    assert server.generation() == g0 + 1


def test_directory_removed_and_recreated(server, profiles_dir):
    g0 = server.generation()
    etags = {p: server.get(f"/v1/profiles/{p}").headers["ETag"] for p in ("base", "worker-devops", "worker-sre")}
    fail0, _, _ = counters(server)
    mark = server.mark()
    shutil.rmtree(profiles_dir)
    rec = server.wait_for(lambda d: d.get("event") == "reload_failed", since=mark, timeout=SLOW_S)
    assert rec is not None, "no reload_failed after the directory was removed"
    time.sleep(0.5)
    # the last snapshot is still served (not an empty one)
    assert_still_serving(server, g0, etags)
    assert counters(server)[0] >= fail0 + 1

    mark = server.mark()
    profiles_dir.mkdir()
    for name in rs.PROFILE_FILES:
        text = original(name)
        if name == "worker-sre.md":
            text = set_field(text, "description", "recreated")
        write_in_place(profiles_dir / name, text)
    assert server.wait_for(lambda d: d.get("event") == "profiles_dir_recovered", since=mark) is not None
    ok, _ = poll(lambda: server.get("/v1/profiles/worker-sre").json()["description"] == "recreated", SLOW_S)
    assert ok
    assert server.generation() == g0 + 1
    # the new directory is watched
    write_in_place(profiles_dir / "base.md", set_field(original("base.md"), "description", "base again"))
    ok, _ = poll(lambda: server.get("/v1/profiles/base").json()["description"] == "base again", OBSERVE_S)
    assert ok, "edits in the recreated directory are not seen"


def test_sighup_while_directory_missing(spawn, profiles_dir):
    srv = spawn(profiles_dir, "--watch", "0")
    g0 = srv.generation()
    away = profiles_dir.with_name("gone")
    os.rename(profiles_dir, away)
    mark = srv.mark()
    srv.sighup()
    rec = srv.wait_for(lambda d: d.get("event") == "reload_failed", since=mark)
    assert rec is not None and rec["reason"] == "sighup", rec
    assert srv.get("/ready").status_code == 200
    assert srv.get("/v1/profiles/worker-sre").status_code == 200
    os.rename(away, profiles_dir)
    mark = srv.mark()
    srv.sighup()
    assert srv.wait_for(lambda d: d.get("event") == "profiles_dir_recovered", since=mark) is not None
    assert srv.generation() == g0
