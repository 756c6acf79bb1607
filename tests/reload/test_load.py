"""A bounded load test across reloads: 6 threads with keep-alive sessions
GET a few routes continuously while the main thread rewrites profiles
until at least 100 reloads have happened. Every response is recorded:

- failed: anything but 200/304 (or a transport error);
- torn: the same (route, ETag) with different bytes, an ETag whose hash is
  not sha256 of the identity body, a 304 for an ETag that was not sent, a
  body that is not JSON where JSON is served, a body mixing two versions of
  one file, two routes disagreeing on a file's version within one
  generation, a version combination the tree never had, or a `source` that
  is not byte-for-byte one of the texts written.

Each profile carries a version marker REV[id:N] in its name, description
and first paragraph (inherited by descendants), so every body tells which
version of each file it was built from.
"""
import hashlib
import json
import random
import threading
import time

import requests

from . import reload_support as rs
from .reload_support import versioned, versions_in

THREADS = 6
MIN_RELOADS = 100
MAX_ROUNDS = 200
TIME_LIMIT_S = 150
ROUTES = (
    "/v1/profiles",
    "/v1/profiles/worker-sre",
    "/v1/profiles/base",
    "/v1/profiles/worker-devops/source",
    "/v1/profiles/worker-sre/prompt",
    "/v1/profiles/worker-sre/sections",
    "/ready",
)
JSON_ROUTES = {"/v1/profiles", "/v1/profiles/worker-sre", "/v1/profiles/base",
               "/v1/profiles/worker-sre/sections", "/ready"}
FILES = rs.PROFILE_FILES


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = 0
        self.by_status = {}
        self.failures = []
        self.torn = []
        self.bodies = {}  # (route, etag, generation) -> (sha256, first body)
        self.by_etag = {}  # (route, etag) -> sha256 of the body it was first served with
        self.stale = 0
        self.gzip = 0

    def fail(self, msg):
        with self.lock:
            self.failures.append(msg)

    def tear(self, msg):
        with self.lock:
            self.torn.append(msg)


def client(rec, srv, stop, seed, identity):
    rnd = random.Random(seed)
    s = requests.Session()
    if identity:
        s.headers["Accept-Encoding"] = "identity"
    last = {}
    n = 0
    try:
        while not stop.is_set() and n < 200000:
            route = ROUTES[rnd.randrange(len(ROUTES))]
            headers = {}
            sent = None
            if route in last and rnd.random() < 0.5:
                sent = headers["If-None-Match"] = last[route]
            n += 1
            try:
                r = s.get(srv.base + route, headers=headers, timeout=10)
                body = r.content
            except requests.RequestException as e:
                rec.fail(f"{route}: {e!r}")
                continue
            with rec.lock:
                rec.requests += 1
                rec.by_status[r.status_code] = rec.by_status.get(r.status_code, 0) + 1
            if r.status_code not in (200, 304):
                rec.fail(f"{route}: HTTP {r.status_code} {body[:200]!r}")
                continue
            etag = r.headers.get("ETag")
            if route == "/ready":
                if r.status_code != 200 or json.loads(body).get("status") != "ready":
                    rec.fail(f"/ready: {r.status_code} {body[:200]!r}")
                continue
            if etag is None:
                rec.tear(f"{route}: {r.status_code} without an ETag")
                continue
            if r.status_code == 304:
                if body:
                    rec.tear(f"{route}: 304 with a body")
                if etag != sent:
                    rec.tear(f"{route}: 304 with ETag {etag} for If-None-Match {sent}")
                continue
            gz = r.headers.get("Content-Encoding") == "gzip"
            if gz != etag.endswith('-gz"'):
                rec.tear(f"{route}: Content-Encoding {r.headers.get('Content-Encoding')} with ETag {etag}")
            if identity and gz:
                rec.tear(f"{route}: gzip although the client asked for identity")
            digest = hashlib.sha256(body).hexdigest()
            rs.etag_shape(etag)  # content-addressed: no generation in it
            gen = rs.generation(r.headers)
            with rec.lock:
                rec.gzip += gz
                # one ETag, one body, in every generation that serves it
                prev = rec.by_etag.setdefault((route, etag), digest)
                first = (route, etag, gen) not in rec.bodies
                if first:
                    rec.bodies[(route, etag, gen)] = (digest, body)
            if prev != digest:
                rec.tear(f"{route}: ETag {etag} served with two different bodies")
            if first and route in JSON_ROUTES:
                try:
                    doc = json.loads(body)
                except ValueError:
                    rec.tear(f"{route} {etag}: not JSON: {body[:200]!r}")
                    continue
                if isinstance(doc, dict) and doc.get("stale") is True:
                    with rec.lock:
                        rec.stale += 1
            last[route] = etag
    finally:
        s.close()


def test_load_across_reloads(spawn, profiles_dir, capsys):
    # start from versioned files (version 0 of each)
    version = {name: 0 for name in FILES}
    written = {name: {hashlib.sha256(versioned(name, 0).encode()).hexdigest()} for name in FILES}
    for name in FILES:
        rs.write_atomic(profiles_dir / name, versioned(name, 0))
    srv = spawn(profiles_dir, "--debounce-ms", "50")
    states = [{name[:-3]: 0 for name in FILES}]

    rec = Recorder()
    stop = threading.Event()
    threads = [threading.Thread(target=client, args=(rec, srv, stop, i, i % 2 == 0), daemon=True)
               for i in range(THREADS)]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    g = srv.generation()
    g_start = g
    rounds = 0
    broken = False
    try:
        while (g - g_start < MIN_RELOADS and rounds < MAX_ROUNDS
               and time.monotonic() - t0 < TIME_LIMIT_S):
            rounds += 1
            mark = srv.mark()
            if broken:
                # fix the broken parent with a new version
                name = "worker-devops.md"
                broken = False
            elif rounds % 10 == 0:
                name = None
                broken = True
                rs.write_in_place(profiles_dir / "worker-devops.md", rs.BROKEN_YAML.format(id="worker-devops"))
            else:
                name = FILES[rounds % len(FILES)]
            if name is not None:
                version[name] = rounds
                text = versioned(name, rounds)
                written[name].add(hashlib.sha256(text.encode()).hexdigest())
                if rounds % 2:
                    rs.write_atomic(profiles_dir / name, text)
                else:
                    rs.write_in_place(profiles_dir / name, text)
                states.append({n[:-3]: v for n, v in version.items()})
            got = srv.wait_reload(g + 1, since=mark, timeout=rs.SLOW_S)
            assert got is not None, f"round {rounds}: no reload within {rs.SLOW_S} s"
            g = got["generation"]
        # keep the load on a little after the last reload
        time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    elapsed = time.monotonic() - t0
    reloads = len(srv.records(event="reload"))

    # ------------------------------------------------------------ analysis
    per_gen = {}  # generation -> {profile id: version}
    for (route, etag, gen), (digest, body) in sorted(rec.bodies.items()):
        if route == "/v1/profiles/worker-devops/source":
            if digest not in written["worker-devops.md"]:
                rec.torn.append(f"{route} {etag}: source bytes that were never written")
        found = versions_in(body)
        if not found:
            rec.torn.append(f"{route} {etag}: no version marker")
            continue
        seen = per_gen.setdefault(gen, {})
        for pid, vs in found.items():
            if len(vs) != 1:
                rec.torn.append(f"{route} {etag}: {pid} at versions {sorted(vs)} in one body")
                continue
            (v,) = vs
            if seen.setdefault(pid, v) != v:
                rec.torn.append(f"generation {gen}: {pid} at version {seen[pid]} and {v} ({route})")
    for gen, m in sorted(per_gen.items()):
        if not any(all(state.get(pid) == v for pid, v in m.items()) for state in states):
            rec.torn.append(f"generation {gen}: versions {m} were never the tree's state")

    with capsys.disabled():
        print(f"\nload: {rec.requests} requests ({THREADS} threads, {elapsed:.1f} s, "
              f"statuses {dict(sorted(rec.by_status.items()))}, {rec.gzip} gzip), "
              f"{reloads} reloads ({rounds} write rounds, generation {g_start} -> {g}), "
              f"{len(rec.failures)} failures, {len(rec.torn)} torn responses, "
              f"{len(rec.bodies)} distinct (route, ETag) pairs, {rec.stale} stale bodies, "
              f"{len(per_gen)} generations observed")
    assert g - g_start >= MIN_RELOADS, f"only {g - g_start} reloads in {elapsed:.0f} s"
    assert not rec.failures, rec.failures[:10]
    assert not rec.torn, rec.torn[:10]
    assert rec.requests > 1000
    assert rec.by_status.get(304, 0) > 0
    assert len(per_gen) > MIN_RELOADS // 2, "the clients saw too few generations to mean anything"
    assert srv.alive()
