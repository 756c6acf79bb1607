"""Lazy rendering and content-addressed ETags (#12), through HTTP.

Representations are rendered on first request and cached; the count of
renders is roster_representations_rendered_total in /metrics. ETags derive
from the lineage's files, never from the generation, so they survive
reloads that did not touch the lineage.
"""
import threading
import time

from test_observability import metric_samples, value

RENDERED = "roster_representations_rendered_total"
IDENTITY = {"Accept-Encoding": "identity"}


def renders(api):
    return value(metric_samples(api), RENDERED)


def wait_generation(api, gen, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.get("/ready").json().get("generation", 0) >= gen:
            return
        time.sleep(0.05)
    raise AssertionError(f"generation {gen} not reached")


def etags(srv, api, ids, path=""):
    out = {}
    for i in ids:
        r = api.get(f"/v1/profiles/{i}{path}", headers=IDENTITY)
        assert r.status_code == 200, (i, r.status_code)
        out[i] = r.headers["ETag"]
    return out


def served(api):
    r = api.get("/v1/profiles", params={"limit": 500})
    assert r.status_code == 200
    return {p["id"]: p["lineage"] for p in r.json()["items"]}


def test_fifty_concurrent_first_requests_build_once(spawn):
    srv = spawn()
    api = srv.api()
    before = renders(api)
    barrier = threading.Barrier(50)
    results = [None] * 50

    def fetch(k):
        a = srv.api()
        barrier.wait()
        r = a.get("/v1/profiles/worker-sre", headers=IDENTITY)
        results[k] = (r.status_code, r.headers.get("ETag"), r.content)
        a.close()

    threads = [threading.Thread(target=fetch, args=(k,)) for k in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert all(r is not None for r in results)
    assert {r[0] for r in results} == {200}
    assert len({r[1] for r in results}) == 1
    assert len({r[2] for r in results}) == 1
    # one representation was asked for: exactly one render, not fifty
    assert renders(api) - before == 1
    # asked again: served from the cache
    api.get("/v1/profiles/worker-sre", headers=IDENTITY)
    assert renders(api) - before == 1


def test_one_view_renders_every_view_once(spawn):
    srv = spawn()
    api = srv.api()
    before = renders(api)
    views = ("role", "competencies", "work-patterns", "tool-priorities", "output-standards",
             "anti-patterns", "sections", "lineage", "variables")
    bodies = {v: api.get(f"/v1/profiles/worker-devops/{v}").content for v in views}
    # the first view rendered the profile once and cut every view from it
    assert renders(api) - before == len(views)
    for v in views:
        assert api.get(f"/v1/profiles/worker-devops/{v}").content == bodies[v]
    assert renders(api) - before == len(views)


def test_prerender_renders_at_start(spawn):
    srv = spawn(args=["--prerender"])
    api = srv.api()
    n = renders(api)
    # per served profile: the twelve views (profile, prompt and source
    # included) and the prompt as JSON
    assert n == 13 * len(served(api))
    api.get("/v1/profiles/worker-devops/role")
    assert renders(api) == n


def test_304_survives_a_reload_caused_by_another_file(spawn):
    srv = spawn(args=["--debounce-ms", "50"])
    api = srv.api()
    gen = api.get("/ready").json()["generation"]
    first = api.get("/v1/profiles/worker-sre", headers=IDENTITY)
    etag = first.headers["ETag"]
    (srv.profiles / "fx-new.md").write_text("---\nid: fx-new\nname: New\n---\n# New\n\nHello.\n")
    wait_generation(api, gen + 1)
    assert "fx-new" in served(api)
    r = api.get("/v1/profiles/worker-sre", headers=dict(IDENTITY, **{"If-None-Match": etag}))
    assert r.status_code == 304
    assert r.headers["ETag"] == etag


def test_root_edit_changes_exactly_its_descendants_etags(spawn):
    srv = spawn(args=["--debounce-ms", "50"])
    api = srv.api()
    lineage = served(api)
    ids = sorted(lineage)
    descendants = {i for i, chain in lineage.items() if "base" in chain}
    assert descendants and descendants != set(ids)
    before = {p: etags(srv, api, ids, p) for p in ("", "/prompt", "/role")}
    gen = api.get("/ready").json()["generation"]
    base = srv.profiles / "base.md"
    base.write_text(base.read_text() + "\nOne more line of shared guidance.\n")
    wait_generation(api, gen + 1)
    after = {p: etags(srv, api, ids, p) for p in ("", "/prompt", "/role")}
    for p in before:
        changed = {i for i in ids if before[p][i] != after[p][i]}
        assert changed == descendants, (p, changed)


def start_slowly(tmp_path, count):
    """rosterd serve on `count` generated profiles with one parsing thread
    and every representation rendered at build: a start slow enough to be
    watched. Returns the process and its port."""
    import socket
    import subprocess
    import sys

    from conftest import HOST, REPO, ROSTERD, WRAPPER, clean_env

    profiles = tmp_path / "big"
    subprocess.run([sys.executable, str(REPO / "bench" / "gen-profiles.py"), "--count", str(count),
                    "--out", str(profiles)], check=True, capture_output=True, timeout=120)
    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*WRAPPER, str(ROSTERD), "serve", "--listen", f"{HOST}:{port}", "--profiles",
                             str(profiles), "--index-threads", "1", "--prerender", "--watch", "0"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=clean_env())
    return proc, port


def test_listens_while_indexing_with_progress(tmp_path):
    """The socket is open from the start: /health 200, /ready 503 with
    indexing progress until the first snapshot is built, then 200."""
    import json

    from conftest import HOST, SLOW, WRAPPER, check_response

    count = 300 if WRAPPER else 1500  # under valgrind a start is slow enough with fewer
    proc, port = start_slowly(tmp_path, count)
    import requests
    seen, health, ready = [], [], None
    # under valgrind one thread runs at a time: the build can keep the
    # request threads waiting for a while, so wait long and retry
    wait = 5 * SLOW
    try:
        deadline = time.monotonic() + (900 if WRAPPER else 300)
        while time.monotonic() < deadline:
            try:
                r = requests.get(f"http://{HOST}:{port}/ready", timeout=wait)
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.01)
                continue
            check_response("get", "/ready", r.status_code, r.headers, r.content)
            if r.status_code == 200:
                ready = r.json()
                break
            assert r.status_code == 503
            assert r.headers["Content-Type"] == "application/json"
            assert r.headers["Cache-Control"] == "no-store"
            seen.append(r.json())
            h = requests.get(f"http://{HOST}:{port}/health", timeout=wait)
            health.append(h.status_code)
            p = requests.get(f"http://{HOST}:{port}/v1/profiles", timeout=wait)
            # (the snapshot may have been published since /ready answered)
            assert p.status_code == 200 or p.json()["code"] == "not_ready", p.status_code
            time.sleep(0.02)
    finally:
        proc.terminate()
        assert proc.wait(30 * SLOW) == 0
    assert ready and ready["status"] == "ready", seen[-3:]
    assert seen, "never saw the server starting"
    assert all(s["status"] == "starting" for s in seen)
    assert all(0 <= s["indexed"] <= s["total"] for s in seen if s["total"])
    assert [s["indexed"] for s in seen] == sorted(s["indexed"] for s in seen)  # only grows
    assert any(s["total"] == count for s in seen), json.dumps(seen[-3:])
    assert set(health) == {200}


def test_stop_during_start_is_prompt(tmp_path):
    """SIGTERM while the first snapshot builds: the build gives up and the
    server exits 0 at once instead of finishing a start nobody waits for."""
    import signal

    import requests

    from conftest import HOST, SLOW, WRAPPER

    proc, port = start_slowly(tmp_path, 300 if WRAPPER else 2000)
    try:
        deadline = time.monotonic() + (600 if WRAPPER else 120)
        starting = False
        while time.monotonic() < deadline and not starting:
            try:
                r = requests.get(f"http://{HOST}:{port}/ready", timeout=5 * SLOW)
                starting = r.status_code == 503
                if r.status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.01)
        assert starting, "never saw the server starting"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60 * SLOW) == 0
        # far less than the rest of the build (seconds; minutes under valgrind)
        assert time.monotonic() - t0 < (60 if WRAPPER else 3)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
