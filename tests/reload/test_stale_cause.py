"""A stale profile's Warning names the actual cause (issue #13, item 5):
derived from the error diagnostics that made the profile unresolvable, its
own file's and, through a broken parent, the parent's in turn.
docs/reload.md "Last known good"."""
import os
import re

import pytest

from . import reload_support as rs
from .reload_support import OBSERVE_S, original, poll, set_field, write_in_place

TAIL = "; serving its last good version"
# warn-code, agent, then a quoted-string of printable ASCII (RFC 9110 / 7234)
QUOTED = re.compile(r'^299 rosterd "((?:[ !#-\[\]-~]|\\["\\])*)"$')


def warning_text(r):
    """The warn-text of a stale response, unescaped; checks its shape."""
    w = r.headers.get("Warning")
    assert w is not None, f"no Warning header: {dict(r.headers)}"
    m = QUOTED.match(w)
    assert m, f"not a well-formed 299 warning: {w!r}"
    text = re.sub(r'\\(.)', r'\1', m.group(1))
    assert text.startswith("stale: ") and text.endswith(TAIL), text
    return text[len("stale: "):-len(TAIL)]


def stale(server, pid):
    r = server.get(f"/v1/profiles/{pid}")
    return r if r.status_code == 200 and r.json().get("stale") is True else None


def wait_stale(server, *pids):
    got, _ = poll(lambda: all(stale(server, p) for p in pids), OBSERVE_S)
    assert got, f"{pids} not all stale within {OBSERVE_S} s: " + ", ".join(
        f"{p}: {server.get('/v1/profiles/' + p).status_code}" for p in pids)
    return [stale(server, p) for p in pids]


def codes(doc):
    return {d["code"] for d in doc["diagnostics"] if d["severity"] == "error"}


def test_deleted_parent_is_named_missing(server, profiles_dir):
    """The issue's reproducer: deleting a parent while serving. The children's
    own files are fine; the Warning no longer says they have errors."""
    os.unlink(profiles_dir / "base.md")
    devops, sre = wait_stale(server, "worker-devops", "worker-sre")
    assert warning_text(devops) == "parent base is missing"
    assert codes(devops.json()) == {"extends.missing"}
    assert warning_text(sre) == "parent worker-devops cannot be resolved: its parent base is missing"
    assert codes(sre.json()) == {"extends.parent_invalid"}
    assert server.get("/v1/profiles/base").status_code == 404


@pytest.mark.parametrize("path,method,revalidate", [
    ("/v1/profiles/worker-devops", "HEAD", False),
    ("/v1/profiles/worker-devops", "GET", True),
    ("/v1/profiles/worker-devops/role", "GET", False),
    ("/v1/profiles/worker-devops/prompt", "GET", False),
    ("/v1/profiles/worker-devops?fields=id,stale", "GET", False),
], ids=["head", "304", "view", "prompt", "fields"])
def test_every_response_of_a_stale_profile_names_the_cause(server, profiles_dir, path, method, revalidate):
    os.unlink(profiles_dir / "base.md")
    wait_stale(server, "worker-devops")
    headers = {}
    if revalidate:
        headers["If-None-Match"] = server.get(path).headers["ETag"]
    r = server.session.request(method, server.base + path, headers=headers, timeout=10)
    assert r.status_code == (304 if revalidate else 200)
    assert warning_text(r) == "parent base is missing"


def test_broken_parent_file_is_named_with_its_error(server, profiles_dir):
    write_in_place(profiles_dir / "worker-devops.md", rs.BROKEN_YAML.format(id="worker-devops"))
    devops, sre = wait_stale(server, "worker-devops", "worker-sre")
    err = next(d for d in devops.json()["diagnostics"] if d["severity"] == "error")
    own = f"worker-devops.md:{err['line']}: {err['message']}"
    assert warning_text(devops) == f"the profile file has errors ({own})"
    assert warning_text(sre) == f"parent worker-devops has errors ({own})"
    assert codes(sre.json()) == {"extends.parent_invalid"}
    # base, the grandparent, is untouched
    assert "Warning" not in server.get("/v1/profiles/base").headers


def test_own_file_error_names_file_line_and_message(server, profiles_dir):
    write_in_place(profiles_dir / "worker-sre.md", rs.BROKEN_YAML.format(id="worker-sre"))
    (sre,) = wait_stale(server, "worker-sre")
    errs = [d for d in sre.json()["diagnostics"] if d["severity"] == "error"]
    first = errs[0]
    more = f"; and {len(errs) - 1} more" if len(errs) > 1 else ""
    assert warning_text(sre) == f"the profile file has errors (worker-sre.md:{first['line']}: {first['message']}{more})"


def test_quotes_in_the_cause_are_escaped(server, profiles_dir):
    """A name with a quote in it cannot be cut out of its diagnostic: the
    message itself is the reason, and the Warning is still one well-formed
    quoted-string (warning_text checks the grammar)."""
    text = set_field(original("worker-sre.md"), "extends", '"worker-\\"devops"')
    write_in_place(profiles_dir / "worker-sre.md", text)
    (sre,) = wait_stale(server, "worker-sre")
    assert codes(sre.json()) == {"extends.missing"}
    assert '\\"' in sre.headers["Warning"]
    assert warning_text(sre).startswith('extends "worker-"devops": ')


def test_extends_a_name_that_is_not_there(server, profiles_dir):
    """The child's file is well formed; only its parent is wrong."""
    write_in_place(profiles_dir / "worker-sre.md",
                   set_field(original("worker-sre.md"), "extends", "worker-devopps"))
    (sre,) = wait_stale(server, "worker-sre")
    assert warning_text(sre) == "parent worker-devopps is missing"


def test_ambiguous_parent_name(server, profiles_dir):
    """`extends: base` stops resolving when no profile has the id base and
    two files are named base.md."""
    write_in_place(profiles_dir / "base.md", set_field(original("base.md"), "id", "core-base"))
    (profiles_dir / "more").mkdir()
    write_in_place(profiles_dir / "more" / "base.md",
                   set_field(original("base.md"), "id", "more-base"))
    (devops,) = wait_stale(server, "worker-devops")
    assert codes(devops.json()) == {"extends.ambiguous"}
    assert warning_text(devops) == "parent base matches several files"


def test_cycle(server, profiles_dir):
    text = original("base.md").replace("role: worker\n", "role: worker\nextends: worker-sre\n", 1)
    assert text != original("base.md")
    write_in_place(profiles_dir / "base.md", text)
    got = wait_stale(server, "base", "worker-devops", "worker-sre")
    for r in got:
        assert codes(r.json()) == {"extends.cycle"}
        why = warning_text(r)
        assert why.startswith("extends forms a cycle: "), why
        assert all(p in why for p in ("base", "worker-devops", "worker-sre")), why


def test_fixing_the_cause_clears_the_warning(server, profiles_dir):
    os.unlink(profiles_dir / "base.md")
    wait_stale(server, "worker-devops", "worker-sre")
    write_in_place(profiles_dir / "base.md", original("base.md"))

    def fresh():
        rs_ = [server.get(f"/v1/profiles/{p}") for p in ("worker-devops", "worker-sre")]
        return all(r.status_code == 200 and r.json()["stale"] is False for r in rs_) and rs_

    got, _ = poll(fresh, OBSERVE_S)
    assert got, "not fresh again within 1 s"
    for r in got:
        assert "Warning" not in r.headers


def test_a_long_reason_is_cut(server, profiles_dir):
    """Many causes: the reason stops at 480 bytes with `...`; the body's
    diagnostics still have every one."""
    names = [f"parent-number-{k:02d}-with-a-rather-long-name" for k in range(20)]
    text = set_field(original("worker-sre.md"), "extends", "[" + ", ".join(names) + "]")
    write_in_place(profiles_dir / "worker-sre.md", text)
    (sre,) = wait_stale(server, "worker-sre")
    why = warning_text(sre)
    assert why.startswith(f"parent {names[0]} is missing; parent {names[1]} is missing; ")
    assert why.endswith("...") and len(why) <= 480 + 3
    assert len([d for d in sre.json()["diagnostics"] if d["code"] == "extends.missing"]) == 20
