"""Subdirectories: 'the profiles directory and every non-hidden
subdirectory (new ones are watched as they appear)' (docs/reload.md)."""
import shutil
import time

from . import reload_support as rs
from .reload_support import OBSERVE_S, original, poll, set_field, write_in_place


def nested_profile(pid):
    return original("worker-sre.md").replace("id: worker-sre", f"id: {pid}", 1)


def add_and_edit_in_new_subdir(srv, root, name):
    """Creates root/name/<pid>.md, waits until it is served, then edits it
    in place; returns seconds until the edit is served (None: not within 1 s)."""
    pid = f"worker-{name}"
    sub = root / name
    sub.mkdir()
    write_in_place(sub / f"{pid}.md", nested_profile(pid))
    ok, _ = poll(lambda: srv.get(f"/v1/profiles/{pid}").status_code == 200, rs.SLOW_S)
    assert ok, f"{pid} in a new subdirectory was never served"
    time.sleep(0.3)  # let the watch on the new directory settle
    write_in_place(sub / f"{pid}.md", set_field(nested_profile(pid), "description", "edited in a subdirectory"))
    ok, dt = poll(lambda: srv.get(f"/v1/profiles/{pid}").json()["description"] == "edited in a subdirectory",
                  OBSERVE_S)
    return dt if ok else None


def test_edit_in_existing_subdirectory(spawn, profiles_dir):
    team = profiles_dir / "team"
    team.mkdir()
    shutil.move(str(profiles_dir / "worker-sre.md"), str(team / "worker-sre.md"))
    srv = spawn(profiles_dir)
    assert srv.get("/v1/profiles/worker-sre").status_code == 200
    write_in_place(team / "worker-sre.md", set_field(original("worker-sre.md"), "description", "nested edit"))
    ok, _ = poll(lambda: srv.get("/v1/profiles/worker-sre").json()["description"] == "nested edit", OBSERVE_S)
    assert ok, "an edit in a subdirectory was not served within 1 s"


def test_edit_in_new_subdirectory(server, profiles_dir):
    assert add_and_edit_in_new_subdir(server, profiles_dir, "a") is not None, \
        "an edit in a subdirectory created at run time was not served within 1 s"


def test_watches_of_deleted_directories_are_released(spawn, profiles_dir):
    """Directories come and go (deploy scripts replacing a team's folder,
    git checkouts, git-sync worktrees). Their watches must not pile up: after
    1,100 short-lived subdirectories (more than the 1,024-entry watch table
    in service/snapshot/watch.c), a new subdirectory must still be watched."""
    srv = spawn(profiles_dir, "--debounce-ms", "20", "--log-level", "debug")

    def settled(mark):
        # a reload ran after the events: the serve loop has read them (and added watches)
        return srv.wait_for(lambda d: d.get("event") in ("reload", "reload_unchanged"), since=mark,
                            timeout=rs.SLOW_S) is not None

    for batch in range(11):
        subs = [profiles_dir / f"tmp-{batch}-{i}" for i in range(100)]
        mark = srv.mark()
        for s in subs:
            s.mkdir()
        assert settled(mark), f"batch {batch}: no reload after creating directories"
        mark = srv.mark()
        for s in subs:
            s.rmdir()
        assert settled(mark), f"batch {batch}: no reload after removing directories"
    dt = add_and_edit_in_new_subdir(srv, profiles_dir, "late")
    assert dt is not None, ("after 1,100 subdirectories came and went, an edit in a new subdirectory "
                            "is not seen: watches of deleted directories are never released")
