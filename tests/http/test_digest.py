"""#16 digest: every served profile has `digest` (profile JSON, listing, the
Roster-Digest header of its routes): sha256 of what its representations are
made from, so the same across restarts, reloads that leave it alone, and
servers; a change to any file of its lineage changes it (and only its
descendants')."""
import re
import time

from conftest import Server, make_profiles

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def digests(api):
    r = api.get("/v1/profiles", params={"fields": "id,digest", "limit": 500})
    assert r.status_code == 200
    return {i["id"]: i["digest"] for i in r.json()["items"]}


def wait_generation(api, gen, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and api.get("/ready").json()["generation"] < gen:
        time.sleep(0.05)
    assert api.get("/ready").json()["generation"] >= gen


def test_digest_everywhere_and_consistent(api):
    listed = digests(api)
    assert listed and all(DIGEST.match(d) for d in listed.values())
    assert len(set(listed.values())) == len(listed)  # one version per profile
    for pid in ("base", "worker-sre"):
        full = api.get(f"/v1/profiles/{pid}")
        assert full.json()["digest"] == listed[pid] == full.headers["Roster-Digest"]
        for path in ("role", "prompt", "source", "lineage"):
            r = api.get(f"/v1/profiles/{pid}/{path}")
            assert r.status_code == 200 and r.headers["Roster-Digest"] == listed[pid], path
        again = api.get(f"/v1/profiles/{pid}", headers={"If-None-Match": full.headers["ETag"]})
        assert again.status_code == 304 and again.headers["Roster-Digest"] == listed[pid]
        post = api.post(f"/v1/profiles/{pid}/prompt", data=b'{"variables": {}}',
                        headers={"Accept": "text/markdown", "Content-Type": "application/json"})
        assert post.status_code == 200 and post.headers["Roster-Digest"] == listed[pid]
    # not for answers about no profile
    assert "Roster-Digest" not in api.get("/v1/profiles/no-such-profile").headers
    assert "Roster-Digest" not in api.get("/v1/profiles").headers


def test_digest_stable_across_restarts_and_servers(rosterd, tmp_path):
    a = make_profiles(tmp_path / "a")
    b = make_profiles(tmp_path / "b")  # another directory, the same files
    s1 = Server(a).start()
    first = digests(s1.api())
    assert s1.stop() == 0
    s2 = Server(a, args=["--prerender"]).start()
    s3 = Server(b, args=["--threads", "1", "--index-threads", "1"]).start()
    try:
        assert digests(s2.api()) == first
        assert digests(s3.api()) == first
    finally:
        assert s2.stop() == 0 and s3.stop() == 0
    # the Markdown mode is part of what renders a profile
    s4 = Server(a, args=["--strict-markdown"]).start()
    try:
        strict = digests(s4.api())
        assert set(strict) == set(first) and all(strict[k] != first[k] for k in first)
    finally:
        assert s4.stop() == 0


def test_edit_changes_the_lineage_only(spawn):
    srv = spawn(args=["--debounce-ms", "50"])
    api = srv.api()
    before = digests(api)
    # a reload that changes nothing else: a new unrelated profile
    (srv.profiles / "zz-digest-new.md").write_text(
        "---\nid: zz-digest-new\nname: New\n---\n# New\n\nYou are new.\n")
    wait_generation(api, 2)
    after_add = digests(api)
    assert {k: v for k, v in after_add.items() if k != "zz-digest-new"} == before
    # an edit to worker-devops: it and its descendants change, base does not
    f = srv.profiles / "worker-devops.md"
    f.write_text(f.read_text() + "\n## Extra Notes\n\nOne more line.\n")
    wait_generation(api, 3)
    after = digests(api)
    lineage = {i["id"]: i["lineage"] for i in
               api.get("/v1/profiles", params={"limit": 500}).json()["items"]}
    for pid, d in after.items():
        touched = "worker-devops" in lineage[pid]
        assert (d != after_add[pid]) == touched, pid
    # undoing the edit brings the old digests back
    f.write_text(f.read_text().replace("\n## Extra Notes\n\nOne more line.\n", ""))
    wait_generation(api, 4)
    assert digests(api) == after_add


def test_stale_profile_keeps_its_last_good_digest(spawn):
    srv = spawn(args=["--debounce-ms", "50"])
    api = srv.api()
    good = digests(api)["fx-leaf"]
    leaf = srv.profiles / "fx-leaf.md"
    leaf.write_text(leaf.read_text().replace("extends: worker-devops", "extends: [worker-devops"))
    wait_generation(api, 2)
    r = api.get("/v1/profiles/fx-leaf")
    assert r.json()["stale"] is True
    assert r.json()["digest"] == good == r.headers["Roster-Digest"] == digests(api)["fx-leaf"]
