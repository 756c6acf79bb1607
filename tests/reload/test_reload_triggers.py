"""SIGHUP and POST /v1/admin/reload. docs/reload.md "Triggers",
docs/configuration.md (--admin-token-file, ROSTER_ADMIN_TOKEN)."""
import secrets
import subprocess
import time

import pytest

from . import reload_support as rs
from .reload_support import SLOW_S, original, poll, set_field, write_in_place

QUIET_S = 0.7  # with --watch 0 nothing may reload on its own in this time


def edit_sre(profiles_dir, text):
    write_in_place(profiles_dir / "worker-sre.md", set_field(original("worker-sre.md"), "description", text))


def description(srv):
    return srv.get("/v1/profiles/worker-sre").json()["description"]


def token_value():
    return "roster-admin-" + secrets.token_hex(16)


# ---------------------------------------------------------------- SIGHUP
def test_sighup_reloads(spawn, profiles_dir):
    srv = spawn(profiles_dir, "--watch", "0")
    g0 = srv.generation()
    mark = srv.mark()
    edit_sre(profiles_dir, "after SIGHUP")
    time.sleep(QUIET_S)
    assert srv.generation() == g0, "reloaded without a trigger although --watch 0"
    assert description(srv) != "after SIGHUP"
    srv.sighup()
    rec = srv.wait_reload(g0 + 1, since=mark, timeout=SLOW_S)
    assert rec is not None, "no reload after SIGHUP"
    assert rec["reason"] == "sighup" and rec["changed"] == 1, rec
    assert description(srv) == "after SIGHUP"
    assert srv.generation() == g0 + 1


def test_sighup_without_changes_keeps_generation(spawn, profiles_dir):
    srv = spawn(profiles_dir, "--watch", "0", "--log-level", "debug")
    g0 = srv.generation()
    etag = srv.get("/v1/profiles/worker-sre").headers["ETag"]
    mark = srv.mark()
    srv.sighup()
    assert srv.wait_for(lambda d: d.get("event") == "reload_unchanged", since=mark) is not None
    assert srv.records(since=mark, event="reload") == []
    assert srv.generation() == g0
    assert srv.get("/v1/profiles/worker-sre", headers={"If-None-Match": etag}).status_code == 304


# ----------------------------------------------------------------- admin
def test_admin_reload_disabled_without_token(spawn, profiles_dir):
    srv = spawn(profiles_dir, "--watch", "0")
    for headers in ({}, {"Authorization": "Bearer " + token_value()}):
        r = srv.post("/v1/admin/reload", headers=headers)
        assert r.status_code == 403, (headers, r.status_code, r.text)
        assert r.json()["code"] == "admin_disabled"


def test_admin_reload_authorization(spawn, profiles_dir):
    token = token_value()
    srv = spawn(profiles_dir, "--watch", "0", "--log-level", "debug", env={"ROSTER_ADMIN_TOKEN": token})
    start = srv.records(event="start")[0]
    assert start["admin"] is True
    g0 = srv.generation()
    cases = [
        ({}, 401),
        ({"Authorization": ""}, 401),
        ({"Authorization": "Bearer"}, 401),
        ({"Authorization": "Bearer "}, 401),
        ({"Authorization": "Basic " + token}, 401),
        ({"Authorization": token}, 401),
        ({"Authorization": "Bearer wrong-token-wrong-token"}, 403),
        ({"Authorization": "Bearer " + token[:-1]}, 403),
        ({"Authorization": "Bearer " + token + "x"}, 403),
        ({"Authorization": "Bearer " + token.upper()}, 403),
    ]
    for headers, want in cases:
        r = srv.post("/v1/admin/reload", headers=headers)
        assert r.status_code == want, (headers, r.status_code, r.text)
        assert token not in r.text
    # none of the rejected requests reloaded anything
    time.sleep(0.3)
    assert srv.records(event="reload") == []

    mark = srv.mark()
    edit_sre(profiles_dir, "after admin reload")
    r = srv.post("/v1/admin/reload", headers={"Authorization": "Bearer " + token})
    assert r.status_code == 202, r.text
    assert r.json() == {"status": "accepted"}
    rec = srv.wait_reload(g0 + 1, since=mark)
    assert rec is not None, "no reload after a 202"
    assert rec["reason"] == "admin"
    assert description(srv) == "after admin reload"
    # lower-case scheme is accepted too (RFC 9110: case-insensitive)
    r = srv.post("/v1/admin/reload", headers={"Authorization": "bearer " + token})
    assert r.status_code == 202

    srv.stop()
    assert token not in srv.stderr_text(), "the admin token appears in the server's stderr"


def test_admin_token_file(spawn, profiles_dir, tmp_path):
    token = token_value()
    f = tmp_path / "token"
    f.write_text(token + "\n")
    srv = spawn(profiles_dir, "--watch", "0", "--admin-token-file", f, "--log-level", "debug")
    g0 = srv.generation()
    edit_sre(profiles_dir, "token file reload")
    # the file's trailing newline is not part of the token
    r = srv.post("/v1/admin/reload", headers={"Authorization": "Bearer " + token})
    assert r.status_code == 202
    assert srv.wait_reload(g0 + 1) is not None
    srv.stop()
    assert token not in srv.stderr_text()


@pytest.mark.parametrize("source", ["env", "file"])
def test_short_admin_token_is_refused(rosterd, profiles_dir, tmp_path, source):
    token = "short-secret-15"  # 15 characters
    assert len(token) == 15
    args = [str(rosterd), "serve", "--listen", "127.0.0.1:0", "--profiles", str(profiles_dir)]
    env = rs.clean_env()
    if source == "env":
        env["ROSTER_ADMIN_TOKEN"] = token
    else:
        (tmp_path / "t").write_text(token + "\n")
        args += ["--admin-token-file", str(tmp_path / "t")]
    p = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    assert p.returncode == 2, p
    assert token.encode() not in p.stderr + p.stdout


def test_sighup_and_admin_together(spawn, profiles_dir):
    """'Both run at once': a SIGHUP and an admin request arriving together
    reload (at least once, and the content is current)."""
    token = token_value()
    srv = spawn(profiles_dir, "--watch", "0", env={"ROSTER_ADMIN_TOKEN": token})
    g0 = srv.generation()
    edit_sre(profiles_dir, "both triggers")
    srv.sighup()
    assert srv.post("/v1/admin/reload", headers={"Authorization": "Bearer " + token}).status_code == 202
    assert srv.wait_reload(g0 + 1) is not None
    ok, _ = poll(lambda: description(srv) == "both triggers", SLOW_S)
    assert ok
    time.sleep(0.5)
    assert srv.generation() == g0 + 1, "the same change was published twice"
