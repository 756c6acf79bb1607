"""#16 history: with --history-dir every version of every served profile is
stored when a snapshot is built, and GET /v1/profiles/{id}/versions lists
them (newest first, cursor paging); .../versions/{digest} and .../prompt
serve a pinned version byte for byte after the file changed and after a
restart, with immutable caching headers; --history-keep drops the oldest;
a damaged stored file is skipped with a diagnostic and never served; without
--history-dir only the current version is answered. `rosterd history` lists
a store from the command line. Every wait is bounded."""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROSTERD, SLOW, Server, clean_env, make_profiles

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
IMMUTABLE = "public, max-age=31536000, immutable"
MD = {"Accept": "text/markdown", "Accept-Encoding": "identity"}
JS = {"Accept": "application/json", "Accept-Encoding": "identity"}
ID = {"Accept-Encoding": "identity"}


def wait_generation(api, gen, timeout=5.0):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline and api.get("/ready").json()["generation"] < gen:
        time.sleep(0.05)
    assert api.get("/ready").json()["generation"] >= gen


def wait_recorded(srv, gen, timeout=10.0):
    """The recorder's line for generation gen (it logs at info when it wrote)."""
    line = srv.wait_for(lambda d: d.get("event") == "history_recorded" and d.get("generation") == gen,
                        timeout=timeout * SLOW)
    assert line is not None, f"generation {gen} was not recorded: {srv.stderr_text()[-2000:]}"
    assert line["failed"] == 0 and not line["cancelled"], line
    return line


def snapshot_of(api, pid):
    """What the unversioned routes answer now: profile, prompt (Markdown, JSON)."""
    p = api.get(f"/v1/profiles/{pid}", headers=ID)
    m = api.get(f"/v1/profiles/{pid}/prompt", headers=MD)
    j = api.get(f"/v1/profiles/{pid}/prompt", headers=JS)
    assert p.status_code == m.status_code == j.status_code == 200
    return {"digest": p.json()["digest"], "profile": p.content, "prompt": m.content, "prompt_json": j.content,
            "etag": p.headers["ETag"], "prompt_etag": m.headers["ETag"]}


def pinned(api, pid, digest):
    p = api.get(f"/v1/profiles/{pid}/versions/{digest}", headers=ID)
    m = api.get(f"/v1/profiles/{pid}/versions/{digest}/prompt", headers=MD)
    j = api.get(f"/v1/profiles/{pid}/versions/{digest}/prompt", headers=JS)
    for r in (p, m, j):
        assert r.status_code == 200, (r.status_code, r.content[:300])
        assert r.headers["Cache-Control"] == IMMUTABLE
        assert r.headers["Roster-Digest"] == digest
    assert "Accept" in m.headers["Vary"] and "Accept-Encoding" in m.headers["Vary"]
    assert m.headers["Content-Type"].startswith("text/markdown")
    assert j.headers["Content-Type"] == "application/json"
    return p, m, j


def versions(api, pid, **params):
    r = api.get(f"/v1/profiles/{pid}/versions", params=params)
    assert r.status_code == 200, r.content[:500]
    return r.json()


def edit_base(srv, api, gen, n):
    """Appends a line to base.md (every profile inherits from it) and waits
    until generation gen is served and recorded."""
    f = srv.profiles / "base.md"
    f.write_text(f.read_text() + f"\nEdit number {n}.\n")
    wait_generation(api, gen)
    wait_recorded(srv, gen)


def history_files(hist, pid):
    d = Path(hist) / "profiles" / pid
    return sorted(p for p in d.iterdir() if p.name.endswith(".v1")) if d.exists() else []


def test_versions_list_after_edits_newest_first_with_paging(spawn, tmp_path):
    hist = tmp_path / "hist"
    srv = spawn(args=["--history-dir", str(hist), "--debounce-ms", "50"])
    api = srv.api()
    wait_recorded(srv, 1)
    seen = [api.get("/v1/profiles/worker-sre").json()["digest"]]
    for n in range(3):
        edit_base(srv, api, n + 2, n)
        seen.append(api.get("/v1/profiles/worker-sre").json()["digest"])
    assert len(set(seen)) == 4
    doc = versions(api, "worker-sre")
    assert doc["id"] == "worker-sre" and doc["history"] is True and doc["skipped"] == []
    assert doc["next_cursor"] is None
    items = doc["items"]
    assert [i["digest"] for i in items] == seen[::-1]  # newest first
    assert [i["current"] for i in items] == [True, False, False, False]
    fs = [i["first_seen"] for i in items]
    assert fs == sorted(fs, reverse=True)
    for i in items:
        assert DIGEST.match(i["digest"])
        assert i["last_seen"] >= i["first_seen"]
        assert i["link"] == f"/v1/profiles/worker-sre/versions/{i['digest']}"
        assert [f["path"] for f in i["lineage"]] == ["base.md", "worker-devops.md", "worker-sre.md"]
    # the old versions' base.md differ, the others are the same file
    assert len({i["lineage"][0]["sha256"] for i in items}) == 4
    assert len({i["lineage"][2]["sha256"] for i in items}) == 1
    # a version stopped being current when the next one came
    for newer, older in zip(items, items[1:]):
        assert older["last_seen"] <= newer["first_seen"] + 1
    # paging: one at a time, the same order
    got, cursor = [], None
    for _ in range(10):
        params = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = versions(api, "worker-sre", **params)
        assert len(page["items"]) == 1
        got.append(page["items"][0]["digest"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert got == seen[::-1]
    page = versions(api, "worker-sre", limit=3)
    assert [i["digest"] for i in page["items"]] == seen[:0:-1] and page["next_cursor"]
    rest = versions(api, "worker-sre", limit=3, cursor=page["next_cursor"])
    assert [i["digest"] for i in rest["items"]] == [seen[0]] and rest["next_cursor"] is None
    # bad paging parameters
    for params in ({"limit": 0}, {"limit": 501}, {"cursor": "not-a-cursor"}, {"cursor": "djE6"}):
        r = api.get("/v1/profiles/worker-sre/versions", params=params)
        assert r.status_code == 400 and r.json()["code"] == "invalid_query", params
    r = api.get("/v1/profiles/worker-sre/versions", params={"scope": "own"})
    assert r.status_code == 400 and r.json()["code"] == "unknown_parameter"
    # the list has an ETag; HEAD and OPTIONS
    r = api.get("/v1/profiles/worker-sre/versions")
    assert r.headers["Roster-Digest"] == seen[-1]
    assert api.get("/v1/profiles/worker-sre/versions",
                   headers={"If-None-Match": r.headers["ETag"]}).status_code in (200, 304)
    h = api.head("/v1/profiles/worker-sre/versions")
    assert h.status_code == 200 and h.content == b""
    o = api.options("/v1/profiles/worker-sre/versions")
    assert o.status_code == 204 and o.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert api.post("/v1/profiles/worker-sre/versions").status_code == 405
    # metrics count the writes: 3 profiles at start, 3 per edit of base
    m = api.get("/metrics").text
    ok = re.search(r'^roster_history_writes_total\{result="ok"\} (\d+)$', m, re.M)
    assert ok and int(ok.group(1)) >= 6 + 3 * 3, m[-800:]  # 6 served at start, 3+ per edit
    assert re.search(r'^roster_history_writes_total\{result="error"\} 0$', m, re.M)


def test_pinned_version_byte_identical_after_change_and_restart(rosterd, tmp_path):
    profiles = make_profiles(tmp_path / "profiles")
    hist = tmp_path / "hist"
    args = ["--history-dir", str(hist), "--debounce-ms", "50"]
    srv = Server(profiles, args=args).start()
    try:
        api = srv.api()
        wait_recorded(srv, 1)
        before = {pid: snapshot_of(api, pid) for pid in ("base", "worker-sre")}
        # the current version is pinned too, from the snapshot: the same ETags
        for pid, b in before.items():
            p, m, j = pinned(api, pid, b["digest"])
            assert (p.content, m.content, j.content) == (b["profile"], b["prompt"], b["prompt_json"])
            assert p.headers["ETag"] == b["etag"] and m.headers["ETag"] == b["prompt_etag"]
        edit_base(srv, api, 2, 1)
        for pid, b in before.items():
            now = api.get(f"/v1/profiles/{pid}").json()["digest"]
            assert now != b["digest"]
            p, m, j = pinned(api, pid, b["digest"])  # from the store now
            assert p.content == b["profile"]
            assert m.content == b["prompt"]
            assert j.content == b["prompt_json"]
            assert p.headers["ETag"] == b["etag"] and m.headers["ETag"] == b["prompt_etag"]
            # conditional GET, HEAD, gzip
            nm = api.get(f"/v1/profiles/{pid}/versions/{b['digest']}",
                         headers={"If-None-Match": b["etag"], **ID})
            assert nm.status_code == 304 and nm.headers["Cache-Control"] == IMMUTABLE
            assert nm.headers["Roster-Digest"] == b["digest"]
            h = api.head(f"/v1/profiles/{pid}/versions/{b['digest']}", headers=ID)
            assert h.status_code == 200 and h.content == b"" and h.headers["ETag"] == b["etag"]
            assert int(h.headers["Content-Length"]) in (len(b["profile"]),)
            gz = api.get(f"/v1/profiles/{pid}/versions/{b['digest']}", headers={"Accept-Encoding": "gzip"})
            assert gz.content == b["profile"]
            hp = api.head(f"/v1/profiles/{pid}/versions/{b['digest']}/prompt", headers=MD)
            assert hp.status_code == 200 and hp.content == b""
            assert api.options(f"/v1/profiles/{pid}/versions/{b['digest']}/prompt").status_code == 204
            assert api.options(f"/v1/profiles/{pid}/versions/{b['digest']}").status_code == 204
        after_edit = {pid: snapshot_of(api, pid) for pid in before}
    finally:
        assert srv.stop() == 0
    # a new process on the same store and files: the same digests, the same bytes
    srv2 = Server(profiles, args=args + ["--log-level", "debug"]).start()
    try:
        api = srv2.api()
        for pid, b in before.items():
            p, m, j = pinned(api, pid, b["digest"])
            assert (p.content, m.content, j.content) == (b["profile"], b["prompt"], b["prompt_json"])
            a = after_edit[pid]
            assert api.get(f"/v1/profiles/{pid}").json()["digest"] == a["digest"]  # stable across restarts
            p, m, j = pinned(api, pid, a["digest"])
            assert (p.content, m.content, j.content) == (a["profile"], a["prompt"], a["prompt_json"])
            listed = [i["digest"] for i in versions(api, pid)["items"]]
            assert listed == [a["digest"], b["digest"]]
        # nothing new to write at a restart over the same files
        line = srv2.wait_for(lambda d: d.get("event") == "history_recorded", timeout=10 * SLOW)
        assert line is not None and line["written"] == 0 and line["present"] >= 6, line
    finally:
        assert srv2.stop() == 0


def test_retention_drops_the_oldest(spawn, tmp_path):
    hist = tmp_path / "hist"
    srv = spawn(args=["--history-dir", str(hist), "--history-keep", "2", "--debounce-ms", "50"])
    api = srv.api()
    wait_recorded(srv, 1)
    seen = [api.get("/v1/profiles/base").json()["digest"]]
    for n in range(3):
        edit_base(srv, api, n + 2, n)
        seen.append(api.get("/v1/profiles/base").json()["digest"])
    files = history_files(hist, "base")
    assert [f.name[:-3] for f in files] == sorted(d[7:] for d in seen[-2:])
    assert [i["digest"] for i in versions(api, "base")["items"]] == [seen[3], seen[2]]
    for gone in seen[:2]:
        r = api.get(f"/v1/profiles/base/versions/{gone}")
        assert r.status_code == 404 and r.json()["code"] == "version_not_found"
        assert "no stored version" in r.json()["detail"]
    pinned(api, "base", seen[2])


def test_damaged_files_are_skipped_and_never_served(spawn, tmp_path):
    hist = tmp_path / "hist"
    srv = spawn(args=["--history-dir", str(hist), "--debounce-ms", "50"])
    api = srv.api()
    wait_recorded(srv, 1)
    seen = [api.get("/v1/profiles/base").json()["digest"]]
    for n in range(3):
        edit_base(srv, api, n + 2, n)
        seen.append(api.get("/v1/profiles/base").json()["digest"])
    keep = snapshot_of(api, "base")
    ok_old = pinned(api, "base", seen[1])[0].content
    # truncate one stored version, flip a byte in the middle of another
    torn = Path(hist) / "profiles" / "base" / (seen[0][7:] + ".v1")
    flipped = Path(hist) / "profiles" / "base" / (seen[2][7:] + ".v1")
    data = torn.read_bytes()
    torn.write_bytes(data[: len(data) // 2])
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0x01
    flipped.write_bytes(bytes(data))
    for _ in range(2):  # twice: one warning per file all the same
        doc = versions(api, "base")
        assert [i["digest"] for i in doc["items"]] == [seen[3], seen[1]]
        skipped = {s["file"]: s for s in doc["skipped"]}
        assert set(skipped) == {f"profiles/base/{seen[0][7:]}.v1", f"profiles/base/{seen[2][7:]}.v1"}
        assert all(s["code"] == "history.corrupt" and s["reason"] for s in doc["skipped"])
        assert skipped[f"profiles/base/{seen[0][7:]}.v1"]["reason"].startswith("length")
        assert skipped[f"profiles/base/{seen[2][7:]}.v1"]["reason"].startswith("trailer")
        for bad in (seen[0], seen[2]):
            for suffix in ("", "/prompt"):
                r = api.get(f"/v1/profiles/base/versions/{bad}{suffix}")
                assert r.status_code == 404 and r.json()["code"] == "version_not_found"
                assert "fails verification" in r.json()["detail"]
                assert "Roster-Digest" not in r.headers and r.headers["Cache-Control"] == "no-store"
        assert pinned(api, "base", seen[1])[0].content == ok_old
        assert pinned(api, "base", seen[3])[0].content == keep["profile"]
    warned = [d for d in srv.records() if d.get("event") == "history_corrupt"]
    assert sorted(d["file"] for d in warned) == sorted(skipped)
    assert all(d["level"] == "warn" and d["code"] == "history.corrupt" and d["reason"] for d in warned)
    # the command line reports them the same way, and lists the rest
    out = run_history("base", "--history-dir", str(hist))
    assert out.returncode == 0, out.stderr
    assert [line.split()[0] for line in out.stdout.splitlines()] == [seen[3], seen[1]]
    errs = sorted(line for line in out.stderr.splitlines() if "history.corrupt" in line)
    assert len(errs) == 2
    for line in errs:
        assert re.match(rf"^{re.escape(str(hist))}/profiles/base/[0-9a-f]{{64}}\.v1: history\.corrupt: .+", line)
    # the current version's file damaged: still served (from the snapshot), named once
    cur = Path(hist) / "profiles" / "base" / (seen[3][7:] + ".v1")
    cur.write_bytes(cur.read_bytes()[:100])
    doc = versions(api, "base")
    assert [(i["digest"], i["current"]) for i in doc["items"]] == [(seen[3], True), (seen[1], False)]
    assert [s["file"] for s in doc["skipped"]].count(f"profiles/base/{seen[3][7:]}.v1") == 1
    assert pinned(api, "base", seen[3])[0].content == keep["profile"]


def test_without_history_dir_only_the_current_version(api):
    cur = snapshot_of(api, "worker-sre")
    doc = versions(api, "worker-sre")
    assert doc["history"] is False and doc["skipped"] == [] and doc["next_cursor"] is None
    assert len(doc["items"]) == 1
    item = doc["items"][0]
    assert item["digest"] == cur["digest"] and item["current"] is True
    assert [f["path"] for f in item["lineage"]] == ["base.md", "worker-devops.md", "worker-sre.md"]
    p, m, j = pinned(api, "worker-sre", cur["digest"])
    assert (p.content, m.content, j.content) == (cur["profile"], cur["prompt"], cur["prompt_json"])
    # the digest's spellings: bare hex, upper case, percent-encoded colon
    hexd = cur["digest"][7:]
    for spelled in (hexd, hexd.upper(), "sha256%3A" + hexd):
        r = api.get(f"/v1/profiles/worker-sre/versions/{spelled}", headers=ID)
        assert r.status_code == 200 and r.content == cur["profile"], spelled
        assert r.headers["Roster-Digest"] == cur["digest"]
    # another digest: not here, and the detail says why
    other = "sha256:" + "0" * 64
    r = api.get(f"/v1/profiles/worker-sre/versions/{other}")
    assert r.status_code == 404 and r.json()["code"] == "version_not_found"
    assert "--history-dir" in r.json()["detail"]
    assert api.head(f"/v1/profiles/worker-sre/versions/{other}").status_code == 404
    assert api.head(f"/v1/profiles/worker-sre/versions/{other}/prompt").status_code == 404
    # malformed digests
    for bad in ("sha256:abc", "md5:" + "0" * 64, "sha256:" + "g" * 64, "x" * 300, "sha256:" + "0" * 65):
        for suffix in ("", "/prompt"):
            r = api.get(f"/v1/profiles/worker-sre/versions/{bad}{suffix}")
            assert r.status_code == 400 and r.json()["code"] == "invalid_digest", (bad, r.content[:200])
    assert api.head("/v1/profiles/worker-sre/versions/sha256:abc").status_code == 400
    # unknown, invalid ids; a profile with errors has no version
    r = api.get("/v1/profiles/worker-sr/versions")
    assert r.status_code == 404 and r.json()["code"] == "profile_not_found"
    assert api.head("/v1/profiles/worker-sr/versions").status_code == 404
    r = api.get(f"/v1/profiles/worker-sr/versions/{cur['digest']}")
    assert r.status_code == 404 and r.json()["code"] == "profile_not_found"
    assert api.get(f"/v1/profiles/Upper/versions/{cur['digest']}").json()["code"] == "invalid_id"
    assert api.get("/v1/profiles/Upper/versions").json()["code"] == "invalid_id"
    r = api.get("/v1/profiles/fx-broken/versions")  # never served, nothing stored
    assert r.status_code == 404 and r.json()["code"] == "profile_not_found"
    # Accept: the profile is JSON only; the prompt Markdown or JSON
    r = api.get(f"/v1/profiles/worker-sre/versions/{cur['digest']}", headers={"Accept": "text/html"})
    assert r.status_code == 406
    r = api.get(f"/v1/profiles/worker-sre/versions/{cur['digest']}/prompt", headers={"Accept": "text/html"})
    assert r.status_code == 406
    assert api.get("/v1/profiles/worker-sre/versions", headers={"Accept": "text/html"}).status_code == 406
    r = api.get(f"/v1/profiles/worker-sre/versions/{cur['digest']}?x=1")
    assert r.status_code == 400 and r.json()["code"] == "unknown_parameter"


def test_stale_profile_pins_its_last_good_bytes(spawn):
    """A stale profile serves its last good version stale; pinned by digest
    it is the bytes it had while it was current (no store needed)."""
    srv = spawn(args=["--debounce-ms", "50"])
    api = srv.api()
    good = snapshot_of(api, "fx-leaf")
    leaf = srv.profiles / "fx-leaf.md"
    leaf.write_text(leaf.read_text().replace("extends: worker-devops", "extends: [worker-devops"))
    wait_generation(api, 2)
    now = api.get("/v1/profiles/fx-leaf", headers=ID)
    assert now.json()["stale"] is True and now.json()["digest"] == good["digest"]
    p, m, j = pinned(api, "fx-leaf", good["digest"])
    assert (p.content, m.content, j.content) == (good["profile"], good["prompt"], good["prompt_json"])
    item = versions(api, "fx-leaf")["items"][0]
    assert item["digest"] == good["digest"] and item["current"] is True


def test_write_errors_are_logged_and_counted(spawn, tmp_path):
    """A file where a profile's history directory belongs: its writes fail,
    are logged with the path and the errno text and counted; the server
    serves on."""
    hist = tmp_path / "hist"
    (hist / "profiles").mkdir(parents=True)
    (hist / "profiles" / "base").write_text("in the way\n")
    srv = spawn(args=["--history-dir", str(hist)])
    api = srv.api()
    line = srv.wait_for(lambda d: d.get("event") == "history_write_failed", timeout=10 * SLOW)
    assert line is not None, srv.stderr_text()[-2000:]
    assert line["level"] == "error" and line["id"] == "base" and DIGEST.match(line["digest"])
    assert str(hist / "profiles" / "base") in line["path"] and "Not a directory" in line["error"]
    rec = srv.wait_for(lambda d: d.get("event") == "history_recorded", timeout=10 * SLOW)
    assert rec["failed"] == 1 and rec["written"] >= 2
    m = api.get("/metrics").text
    assert re.search(r'^roster_history_writes_total\{result="error"\} 1$', m, re.M)
    assert api.get("/v1/profiles/base").status_code == 200
    assert versions(api, "base")["items"][0]["current"] is True


def test_history_dir_that_cannot_be_used_fails_the_start(rosterd, tmp_path):
    (tmp_path / "file").write_text("x")
    p = subprocess.run([str(rosterd), "serve", "--listen", "127.0.0.1:0", "--profiles",
                        str(make_profiles(tmp_path / "p")), "--history-dir", str(tmp_path / "file")],
                       capture_output=True, timeout=10 * SLOW, env=clean_env())
    assert p.returncode == 1 and b"--history-dir" in p.stderr
    for bad in ("0", "100001", "x"):
        p = subprocess.run([str(rosterd), "serve", "--history-keep", bad], capture_output=True, timeout=10,
                           env=clean_env())
        assert p.returncode == 2 and b"--history-keep" in p.stderr, bad
    help_ = subprocess.run([str(rosterd), "serve", "--help"], capture_output=True, timeout=10).stdout
    assert b"--history-dir" in help_ and b"ROSTER_HISTORY_KEEP" in help_


# ---------------------------------------------------------------- the CLI
def run_history(*args, env=None):
    return subprocess.run([str(ROSTERD), "history", *args], capture_output=True, text=True, timeout=30 * SLOW,
                          env=clean_env(env))


@pytest.fixture(scope="module")
def store(rosterd, tmp_path_factory):
    """A history store with two versions of every profile."""
    root = tmp_path_factory.mktemp("store")
    hist = root / "hist"
    srv = Server(make_profiles(root / "profiles"), args=["--history-dir", str(hist), "--debounce-ms", "50"]).start()
    try:
        api = srv.api()
        wait_recorded(srv, 1)
        first = api.get("/v1/profiles/worker-sre").json()["digest"]
        edit_base(srv, api, 2, 1)
        second = api.get("/v1/profiles/worker-sre").json()["digest"]
    finally:
        assert srv.stop() == 0
    return hist, [second, first]


def test_cli_history_text_and_json(store):
    hist, want = store
    out = run_history("worker-sre", "--history-dir", str(hist))
    assert out.returncode == 0 and out.stderr == ""
    lines = out.stdout.splitlines()
    assert [line.split()[0] for line in lines] == want
    for line in lines:
        assert re.match(r"^sha256:[0-9a-f]{64}  first_seen \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z  "
                        r"last_seen \S+Z  base\.md > worker-devops\.md > worker-sre\.md$", line), line
    out = run_history("worker-sre", "--history-dir", str(hist), "--format", "json")
    assert out.returncode == 0
    doc = json.loads(out.stdout)
    assert doc["id"] == "worker-sre" and doc["history_dir"] == str(hist) and doc["skipped"] == []
    assert [i["digest"] for i in doc["items"]] == want
    for i in doc["items"]:
        assert i["file"] == f"profiles/worker-sre/{i['digest'][7:]}.v1"
        assert i["renderer"].startswith("roster-render/") and i["strict"] is False
        assert i["last_seen"] >= i["first_seen"]
    # the directory from the environment
    out = run_history("worker-sre", env={"ROSTER_HISTORY_DIR": str(hist)})
    assert out.returncode == 0 and out.stdout == "\n".join(lines) + "\n"


def test_cli_history_exit_codes(store, tmp_path):
    hist, _ = store
    out = run_history("no-such-profile", "--history-dir", str(hist))
    assert out.returncode == 1 and out.stdout == "" and "no versions" in out.stderr
    out = run_history("no-such-profile", "--history-dir", str(hist), "--format", "json")
    assert out.returncode == 1 and json.loads(out.stdout)["items"] == []
    for args in ((), ("base",), ("Bad-Id", "--history-dir", str(hist)),
                 ("base", "--history-dir", str(hist), "--format", "yaml"),
                 ("base", "--history-dir", str(tmp_path / "missing")), ("base", "--history-dir"),
                 ("base", "--nope", "x", "--history-dir", str(hist))):
        out = run_history(*args)
        assert out.returncode == 2, (args, out.stderr)
        assert out.stderr.startswith("rosterd history: "), out.stderr
    # listed in rosterd --help
    assert "history ID" in subprocess.run([str(ROSTERD), "--help"], capture_output=True, text=True,
                                          timeout=10).stdout


def test_cli_history_of_a_store_with_only_corrupt_files(tmp_path):
    hist = tmp_path / "hist"
    d = hist / "profiles" / "base"
    d.mkdir(parents=True)
    (d / ("ab" * 32 + ".v1")).write_text("roster-history 1\n{}\n")
    (d / ".tmp-1-0123456789abcdef").write_text("a crashed writer's")
    out = run_history("base", "--history-dir", str(hist))
    assert out.returncode == 1
    assert f"{hist}/profiles/base/{'ab' * 32}.v1: history.corrupt: " in out.stderr
    assert os.path.exists(d / ".tmp-1-0123456789abcdef")  # readers never remove anything


# ------------------------------------------------- crashes and shared stores
def verify_store(hist):
    """Every stored version verifies the way rosterd verifies it (in Python,
    independently): magic, trailer, header, name, lengths, parts. Returns the
    number of versions; temporary files are allowed (a crash's leftovers)."""
    import hashlib
    n = 0
    for d in sorted((Path(hist) / "profiles").iterdir()):
        for f in sorted(d.iterdir()):
            if f.name.startswith(".tmp-"):
                continue
            assert re.match(r"^[0-9a-f]{64}\.v1$", f.name), f
            data = f.read_bytes()
            assert data.startswith(b"roster-history 1\n"), f
            body, trailer = data[:-72], data[-72:]
            assert trailer == b"sha256:" + hashlib.sha256(body).hexdigest().encode() + b"\n", f
            header, _, parts = body[len(b"roster-history 1\n"):].partition(b"\n")
            h = json.loads(header)
            assert h["digest"] == "sha256:" + f.name[:64] and h["id"] == d.name, f
            off = 0
            for part in ("profile", "prompt", "prompt_json"):
                size = h["parts"][part]["length"]
                assert hashlib.sha256(parts[off:off + size]).hexdigest() == h["parts"][part]["sha256"], (f, part)
                off += size
            assert off == len(parts), f
            n += 1
    return n


def gen_profiles(dest, count):
    subprocess.run(["/usr/bin/python3", str(Path(__file__).resolve().parents[2] / "bench" / "gen-profiles.py"),
                    "--count", str(count), "--out", str(dest)], check=True, timeout=60, capture_output=True)
    roots = [p for p in sorted(Path(dest).glob("*.md")) if "\nextends:" not in p.read_text()]
    assert roots
    return roots


def test_kill_9_while_writing_leaves_no_torn_version(rosterd, tmp_path):
    """SIGKILL the server in a loop while it writes history under reload
    churn (loopback only, bounded): afterwards every stored version
    verifies, and a fresh server lists no skipped file."""
    profiles = tmp_path / "profiles"
    roots = gen_profiles(profiles, 300)
    hist = tmp_path / "hist"
    args = ["--history-dir", str(hist), "--debounce-ms", "20", "--history-keep", "3"]
    for round_ in range(6):
        # killed with SIGKILL: unwrapped (valgrind would leave a log without
        # its summary); the server that reads the store afterwards is wrapped
        srv = Server(profiles, args=args, wrapped=False).start(timeout=30)
        try:
            for k in range(3):  # edits while the recorder writes
                for r in roots:
                    with open(r, "a") as f:
                        f.write(f"\nRound {round_} edit {k}.\n")
                time.sleep(0.03 * (round_ % 3))
        finally:
            srv.proc.kill()  # SIGKILL: no drain, no cancel, mid-write
            srv.proc.wait(10)
            srv.reader.join(5)
            srv.proc.stderr.close()
    assert verify_store(hist) > 0
    srv = Server(profiles, args=args + ["--log-level", "debug"]).start(timeout=30)
    try:
        api = srv.api()
        wait_recorded_any(srv)
        for pid in [p.stem for p in sorted(profiles.glob("*.md"))][:40]:
            doc = versions(api, pid)
            assert doc["skipped"] == [], (pid, doc["skipped"])
            assert doc["items"][0]["current"] is True
    finally:
        assert srv.stop() == 0
    assert verify_store(hist) > 0


def wait_recorded_any(srv, timeout=30.0):
    line = srv.wait_for(lambda d: d.get("event") == "history_recorded", timeout=timeout * SLOW)
    assert line is not None and line["failed"] == 0, srv.stderr_text()[-2000:]
    return line


def test_two_servers_share_one_history(rosterd, tmp_path):
    """Two rosterd serve on one history directory and one profiles directory
    under edit churn: every digest either one reports is served byte for byte
    by the other (the bytes the first sent while it was current)."""
    profiles = make_profiles(tmp_path / "profiles")
    hist = tmp_path / "hist"
    args = ["--history-dir", str(hist), "--debounce-ms", "30"]
    a = Server(profiles, args=args).start()
    b = Server(profiles, args=args).start()
    try:
        apis = (a.api(), b.api())
        seen = {}  # (id, digest) -> the profile bytes and prompt one server sent
        for n in range(8):
            for api in apis:
                for pid in ("base", "worker-sre", "fx-leaf"):
                    p = api.get(f"/v1/profiles/{pid}", headers=ID)
                    m = api.get(f"/v1/profiles/{pid}/prompt", headers=MD)
                    d = p.json()["digest"]
                    if p.json()["digest"] == m.headers["Roster-Digest"]:  # no reload in between
                        seen.setdefault((pid, d), (p.content, m.content))
            target = profiles / ("base.md" if n % 2 else "fx-leaf.md")
            target.write_text(target.read_text() + f"\nShared edit {n}.\n")
            time.sleep(0.08)
        assert len({d for _, d in seen}) >= 8
        for (pid, d), (prof, prompt) in seen.items():
            for api in apis:  # each digest from both servers
                deadline = time.monotonic() + 10 * SLOW
                while True:
                    r = api.get(f"/v1/profiles/{pid}/versions/{d}", headers=ID)
                    if r.status_code == 200 or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)  # the other server's recorder may still be at it
                assert r.status_code == 200, (pid, d, r.content[:300])
                assert r.content == prof
                assert api.get(f"/v1/profiles/{pid}/versions/{d}/prompt", headers=MD).content == prompt
    finally:
        assert a.stop() == 0 and b.stop() == 0
    assert verify_store(hist) >= len(seen)


def test_diff_between_two_versions(spawn, tmp_path):
    """GET .../versions/{a}/diff/{b}: `rosterd diff`'s comparison of two
    pinned versions (one stored, one current), immutable; the reverse diff
    mirrors it; a version with itself changes nothing."""
    hist = tmp_path / "hist"
    srv = spawn(args=["--history-dir", str(hist), "--debounce-ms", "50"])
    api = srv.api()
    wait_recorded(srv, 1)
    old = snapshot_of(api, "worker-sre")
    f = srv.profiles / "worker-devops.md"
    f.write_text(f.read_text() + "\n## Extra Notes\n\nOne more line for the diff.\n")
    wait_generation(api, 2)
    wait_recorded(srv, 2)
    new = snapshot_of(api, "worker-sre")
    assert old["digest"] != new["digest"]
    path = f"/v1/profiles/worker-sre/versions/{old['digest']}/diff/{new['digest']}"
    r = api.get(path, headers=ID)
    assert r.status_code == 200, r.content[:500]
    assert r.headers["Cache-Control"] == IMMUTABLE
    d = r.json()
    assert (d["id"], d["from"], d["to"]) == ("worker-sre", old["digest"], new["digest"])
    assert d["changed"] is True
    assert "+One more line for the diff." in d["prompt_diff"]
    assert d["prompt_lines"]["added"] >= 1
    again = api.get(path, headers={**ID, "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    h = api.head(path, headers=ID)
    assert h.status_code == 200 and h.headers["ETag"] == r.headers["ETag"] and h.content == b""
    o = api.options(path)
    assert o.status_code == 204 and o.headers["Allow"] == "GET, HEAD, OPTIONS"
    back = api.get(f"/v1/profiles/worker-sre/versions/{new['digest']}/diff/{old['digest']}",
                   headers=ID).json()
    assert back["prompt_lines"] == {"added": d["prompt_lines"]["removed"],
                                    "removed": d["prompt_lines"]["added"]}
    same = api.get(f"/v1/profiles/worker-sre/versions/{new['digest']}/diff/{new['digest']}",
                   headers=ID).json()
    assert same["changed"] is False and same["prompt_diff"] is None
    # errors: a malformed digest, one this profile never had, no such profile
    r = api.get(f"/v1/profiles/worker-sre/versions/{old['digest']}/diff/sha256:abc")
    assert r.status_code == 400 and r.json()["code"] == "invalid_digest"
    r = api.get(f"/v1/profiles/worker-sre/versions/{old['digest']}/diff/sha256:{'0' * 64}")
    assert r.status_code == 404 and r.json()["code"] == "version_not_found"
    base = api.get("/v1/profiles/base").json()["digest"]
    r = api.get(f"/v1/profiles/worker-sre/versions/{base}/diff/{new['digest']}")
    assert r.status_code == 404 and r.json()["code"] == "version_not_found"
    r = api.get(f"/v1/profiles/nobody/versions/{old['digest']}/diff/{new['digest']}")
    assert r.status_code == 404 and r.json()["code"] == "profile_not_found"


def test_listing_etag_is_stable_within_a_generation_and_invalid_is_404(spawn):
    srv = spawn(args=["--debounce-ms", "50"])
    api = srv.api()
    a = api.get("/v1/profiles/worker-sre/versions", headers=ID)
    b = api.get("/v1/profiles/worker-sre/versions", headers={**ID, "If-None-Match": a.headers["ETag"]})
    assert b.status_code == 304
    (srv.profiles / "zz-broken.md").write_text("---\nid: zz-broken\nextends: [nope\n---\n# B\n")
    wait_generation(api, 2)
    r = api.get("/v1/profiles/zz-broken/versions")
    assert r.status_code == 404 and r.json()["code"] == "profile_not_found"
