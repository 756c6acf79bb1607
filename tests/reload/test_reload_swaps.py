"""Whole-tree swaps: a Kubernetes ConfigMap volume updated the way the
kubelet's AtomicWriter does it, and a git-sync style replacement of the
profiles path itself (a symbolic link). One swap gives one reload and the
served content is never a mix of the old and the new tree.
docs/reload.md "Kubernetes ..data swaps"."""
import os
import shutil
import threading
import time

from . import reload_support as rs
from .reload_support import SLOW_S, versioned, versions_in

FILES = rs.PROFILE_FILES
# Routes whose bodies carry the markers of every file (the list has each
# profile's name and description; worker-sre's body and prompt inherit the
# first paragraph of base and worker-devops).
WATCHED_ROUTES = ("/v1/profiles", "/v1/profiles/worker-sre", "/v1/profiles/worker-sre/prompt",
                  "/v1/profiles/worker-sre/sections")
SETTLE_S = 1.0  # five debounce windows: long enough for a second reload to show up


def tree(version, extra=()):
    out = {name: versioned(name, version) for name in FILES}
    for name in extra:
        out[name] = versioned("worker-sre.md", version).replace("id: worker-sre", f"id: {name[:-3]}", 1) \
            .replace("REV[worker-sre:", f"REV[{name[:-3]}:")
    return out


class Watcher:
    """GETs the routes in a loop (bounded) and records, per response, the
    generation (from the ETag) and the marker versions in the body."""

    def __init__(self, srv, routes=WATCHED_ROUTES, max_requests=20000):
        self.srv = srv
        self.routes = routes
        self.max_requests = max_requests
        self.seen = []  # (route, status, generation, {id: {versions}})
        self.errors = []
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.thread.join(30)

    def _run(self):
        import requests
        s = requests.Session()
        n = 0
        deadline = time.monotonic() + 60
        try:
            while not self.stop_flag.is_set() and n < self.max_requests and time.monotonic() < deadline:
                for route in self.routes:
                    n += 1
                    try:
                        r = s.get(self.srv.base + route, timeout=10)
                    except Exception as e:  # noqa: BLE001 - recorded and asserted on
                        self.errors.append(f"{route}: {e!r}")
                        continue
                    gen = rs.generation(r.headers) if "ETag" in r.headers else None
                    self.seen.append((route, r.status_code, gen, versions_in(r.content)))
        finally:
            s.close()

    def check_never_mixed(self, allowed_versions):
        assert not self.errors, self.errors[:5]
        assert self.seen, "the watcher made no request"
        per_gen = {}
        for route, status, gen, found in self.seen:
            assert status == 200, (route, status)
            versions = set().union(*found.values()) if found else set()
            assert len(versions) == 1, f"{route} at generation {gen} mixes versions: {found}"
            (v,) = versions
            assert v in allowed_versions, (route, gen, found)
            per_gen.setdefault(gen, set()).add(v)
        for gen, vs in per_gen.items():
            assert len(vs) == 1, f"generation {gen} served versions {vs}"
        return per_gen


# ------------------------------------------------------------- kubelet
class ConfigMapVolume:
    """A directory laid out like a kubelet-projected ConfigMap volume:
    ..<timestamp>/ with the files, ..data -> ..<timestamp>, x.md -> ..data/x.md."""

    def __init__(self, root):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.n = 0
        self.current = None
        self.names = set()

    def _ts_dir(self):
        self.n += 1
        return f"..2026_11_28_10_00_{self.n:02d}.{1000 + self.n}"

    def write(self, files):
        """One AtomicWriter.Write: new timestamped dir, ..data_tmp link,
        rename over ..data, user-visible links for new names, removal of
        the links of names no longer present, removal of the old dir."""
        ts = self._ts_dir()
        d = self.root / ts
        d.mkdir()
        for name, text in files.items():
            (d / name).write_text(text, encoding="utf-8")
        os.chmod(d, 0o755)
        tmp = self.root / "..data_tmp"
        os.symlink(ts, tmp)
        os.rename(tmp, self.root / "..data")
        for name in sorted(set(files) - self.names):
            os.symlink(os.path.join("..data", name), self.root / name)
        for name in sorted(self.names - set(files)):
            os.remove(self.root / name)
        if self.current is not None:
            shutil.rmtree(self.root / self.current)
        self.current = ts
        self.names = set(files)


def test_configmap_swap_is_one_reload_never_mixed(spawn, tmp_path):
    vol = ConfigMapVolume(tmp_path / "cm")
    vol.write(tree(1))
    srv = spawn(vol.root)
    g0 = srv.generation()
    assert g0 == 1
    assert set(versions_in(srv.get("/v1/profiles").content)) == {"base", "worker-devops", "worker-sre"}
    mark = srv.mark()
    with Watcher(srv) as w:
        time.sleep(0.2)
        vol.write(tree(2))
        rec = srv.wait_reload(g0 + 1, since=mark, timeout=SLOW_S)
        assert rec is not None, "no reload after the ..data swap"
        time.sleep(SETTLE_S)
    reloads = srv.records(since=mark, event="reload")
    assert len(reloads) == 1, f"one swap gave {len(reloads)} reloads: {reloads}"
    assert reloads[0]["generation"] == g0 + 1
    assert (reloads[0]["added"], reloads[0]["changed"], reloads[0]["removed"]) == (0, 3, 0), reloads[0]
    assert srv.generation() == g0 + 1
    per_gen = w.check_never_mixed({1, 2})
    assert per_gen.get(g0) == {1} and per_gen.get(g0 + 1) == {2}, per_gen
    # entirely the new version now, in every representation
    for route in WATCHED_ROUTES + ("/v1/profiles/base", "/v1/profiles/worker-devops/source"):
        found = versions_in(srv.get(route).content)
        assert found and all(v == {2} for v in found.values()), (route, found)
    # hidden directories are never indexed
    assert [i["id"] for i in srv.get("/v1/profiles").json()["items"]] == ["base", "worker-devops", "worker-sre"]


def test_configmap_swap_adding_and_removing_files(spawn, tmp_path):
    vol = ConfigMapVolume(tmp_path / "cm")
    vol.write(tree(1, extra=("worker-old.md",)))
    srv = spawn(vol.root)
    assert srv.get("/v1/profiles/worker-old").status_code == 200
    g0 = srv.generation()
    mark = srv.mark()
    vol.write(tree(2, extra=("worker-new.md",)))
    assert srv.wait_reload(g0 + 1, since=mark) is not None
    time.sleep(SETTLE_S)
    reloads = srv.records(since=mark, event="reload")
    assert len(reloads) == 1, reloads
    assert (reloads[0]["added"], reloads[0]["changed"], reloads[0]["removed"]) == (1, 3, 1), reloads[0]
    assert srv.get("/v1/profiles/worker-old").status_code == 404
    r = srv.get("/v1/profiles/worker-new")
    assert r.status_code == 200 and versions_in(r.content)["worker-new"] == {2}
    # a dangling link seen mid-swap must not leave diagnostics behind
    assert srv.get("/v1/diagnostics?severity=error").json()["total"] == 0


def test_repeated_configmap_swaps_one_reload_each(spawn, tmp_path):
    vol = ConfigMapVolume(tmp_path / "cm")
    vol.write(tree(1))
    srv = spawn(vol.root)
    g = srv.generation()
    for version in range(2, 7):
        mark = srv.mark()
        vol.write(tree(version))
        assert srv.wait_reload(g + 1, since=mark) is not None, f"no reload for swap {version}"
        time.sleep(0.6)
        reloads = srv.records(since=mark, event="reload")
        assert [r["generation"] for r in reloads] == [g + 1], (version, reloads)
        g += 1
        found = versions_in(srv.get("/v1/profiles").content)
        assert all(v == {version} for v in found.values()), found
    # only the current timestamped directory is left, and nothing leaked into the index
    assert sorted(p.name for p in vol.root.iterdir() if p.name.startswith("..2026")) == [vol.current]


# ------------------------------------------------------------- git-sync
class GitSyncRoot:
    """git-sync's layout: <root>/.worktrees/<rev>/ checkouts and a
    <root>/<link> symbolic link to the current one, replaced atomically."""

    def __init__(self, root, link="profiles"):
        self.root = root
        self.link = root / link
        (root / ".worktrees").mkdir(parents=True)
        (root / ".git").mkdir()
        self.current = None

    def publish(self, rev, files):
        wt = self.root / ".worktrees" / rev
        wt.mkdir()
        for name, text in files.items():
            (wt / name).write_text(text, encoding="utf-8")
        tmp = self.root / "tmp-link"
        os.symlink(os.path.join(".worktrees", rev), tmp)
        os.replace(tmp, self.link)
        old, self.current = self.current, rev
        return old

    def remove(self, rev):
        shutil.rmtree(self.root / ".worktrees" / rev)


def test_git_sync_link_swap(spawn, tmp_path):
    gs = GitSyncRoot(tmp_path / "git")
    gs.publish("aaaa1111", tree(1))
    srv = spawn(gs.link)
    g0 = srv.generation()
    mark = srv.mark()
    with Watcher(srv) as w:
        time.sleep(0.2)
        old = gs.publish("bbbb2222", tree(2))
        gs.remove(old)
        assert srv.wait_reload(g0 + 1, since=mark) is not None, "no reload after the link swap"
        time.sleep(SETTLE_S)
    reloads = srv.records(since=mark, event="reload")
    assert len(reloads) == 1, f"one link swap gave {len(reloads)} reloads: {reloads}"
    per_gen = w.check_never_mixed({1, 2})
    assert per_gen.get(g0) == {1} and per_gen.get(g0 + 1) == {2}, per_gen
    found = versions_in(srv.get("/v1/profiles").content)
    assert all(v == {2} for v in found.values()), found

    # the new checkout is watched: an edit inside it is picked up
    mark = srv.mark()
    g_edit = srv.generation()
    wt = gs.root / ".worktrees" / gs.current
    rs.write_in_place(wt / "worker-sre.md", versioned("worker-sre.md", 3))
    ok, _ = rs.poll(lambda: versions_in(srv.get("/v1/profiles/worker-sre").content).get("worker-sre") == {3},
                    rs.OBSERVE_S)
    assert ok, "an edit inside the new checkout was not seen within 1 s"
    # the new snapshot is served before its reload is logged: wait for the
    # log line too, or it would count as the next swap's (seen on a loaded
    # machine)
    assert srv.wait_reload(g_edit + 1, since=mark) is not None

    # and a second swap works the same way
    mark = srv.mark()
    g1 = srv.generation()
    old = gs.publish("cccc3333", tree(4))
    gs.remove(old)
    assert srv.wait_reload(g1 + 1, since=mark) is not None, "no reload after the second link swap"
    time.sleep(SETTLE_S)
    assert len(srv.records(since=mark, event="reload")) == 1
    found = versions_in(srv.get("/v1/profiles").content)
    assert all(v == {4} for v in found.values()), found
    assert srv.get("/ready").status_code == 200
