"""`rosterd diff OLD NEW` (docs/versions.md) on the fixture pairs under
tests/fixtures/diff/<case>/{old,new}: an edit to a root that several
descendants inherit, an added and a removed profile, a pure reorder of
items, and no change; every format, exit codes as diff(1)."""
import json
import re
import shutil
import subprocess

import pytest

from conftest import REPO, ROSTERD, clean_env

CASES = REPO / "tests" / "fixtures" / "diff"
FORMATS = ("text", "json", "markdown", "github")
ROOT_FAMILY = ("child-a", "child-b", "grandchild", "root")

# what each case should report: id -> status, and the exit code
EXPECTED = {
    "root_edit": ({"root": "changed", "child-a": "changed", "child-b": "changed",
                   "grandchild": "changed", "loner": "unchanged"}, 1),
    "added_removed": ({"alpha": "unchanged", "beta": "removed", "gamma": "added"}, 1),
    "reorder": ({"orderly": "changed", "follower": "changed"}, 1),
    "nochange": ({"root": "unchanged", "child-a": "unchanged", "child-b": "unchanged",
                  "grandchild": "unchanged", "loner": "unchanged"}, 0),
}
ENTRY_KEYS = ["id", "status", "file", "edited", "views", "fields", "prompt_lines",
              "prompt_replaced", "prompt_diff", "errors"]
CHANGE_KEYS = ["added", "removed", "moved", "changed"]


def run(*args, cwd=None, timeout=30):
    return subprocess.run([str(ROSTERD), *map(str, args)], capture_output=True, timeout=timeout,
                          env=clean_env(), cwd=cwd, stdin=subprocess.DEVNULL)


def diff(case, fmt="text", *extra):
    """rosterd diff old new, run inside the case's folder."""
    return run("diff", "old", "new", "--format", fmt, *extra, cwd=CASES / case)


def as_json(case):
    r = diff(case, "json")
    assert r.returncode == EXPECTED[case][1], r.stderr
    return json.loads(r.stdout)


def by_id(doc):
    return {p["id"]: p for p in doc["profiles"]}


def prompt(case, side, pid):
    r = run("render", pid, "--view", "prompt", "--profiles", CASES / case / side)
    assert r.returncode == 0, r.stderr
    return r.stdout


# ------------------------------------------------------------ exit codes
@pytest.mark.parametrize("case", sorted(EXPECTED))
@pytest.mark.parametrize("fmt", FORMATS)
def test_exit_code_in_every_format(case, fmt):
    r = diff(case, fmt)
    assert r.returncode == EXPECTED[case][1], (r.stdout, r.stderr)
    assert r.stderr == b""


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_json_statuses_and_summary(case):
    doc = as_json(case)
    statuses, _ = EXPECTED[case]
    assert {p["id"]: p["status"] for p in doc["profiles"]} == statuses
    assert [p["id"] for p in doc["profiles"]] == sorted(statuses)
    counts = {k: 0 for k in ("added", "removed", "changed", "unchanged", "errors")}
    for s in statuses.values():
        counts["errors" if s == "error" else s] += 1
    assert doc["summary"] == counts
    assert doc["old"] == "old" and doc["new"] == "new"
    for p in doc["profiles"]:
        assert list(p) == ENTRY_KEYS, p["id"]
        for view in p["views"].values():
            assert list(view) == CHANGE_KEYS
            assert any(view[k] for k in CHANGE_KEYS)
        if p["status"] == "unchanged":
            assert p["views"] == {} and p["fields"] == {} and p["prompt_diff"] is None
            assert p["prompt_lines"] == {"added": 0, "removed": 0}


# ------------------------------------------------- (a) an edit to a root
def test_root_edit_reaches_every_descendant_with_from():
    profiles = by_id(as_json("root_edit"))
    for pid in ROOT_FAMILY:
        p = profiles[pid]
        assert p["file"] == f"new/{pid}.md"
        assert p["edited"] == ["root"], pid  # the blast radius: only root.md was edited
        comp = p["views"]["competencies"]
        assert comp["added"] == [{"key": "Estimating", "from": "root", "position": 3}]
        assert comp["removed"] == [] and comp["moved"] == []
        assert comp["changed"] == [{"key": "Writing", "from": "root", "old_from": "root",
                                    "position": 2, "fields": ["description"]}]
        anti = p["views"]["anti-patterns"]
        assert anti["added"] == [{"key": "Hide a failed check", "from": "root", "list": "avoid",
                                  "position": 3}]
        assert set(p["views"]) == {"competencies", "anti-patterns"}
        assert p["prompt_lines"] == {"added": 4, "removed": 2}
        assert "+- **Estimating**: Say how long a task will take\n" in p["prompt_diff"]
        assert "-- Stop and ask when blocked\n" in p["prompt_diff"]
    # version is an identity key: only root's own changed
    assert profiles["root"]["fields"] == {"version": {"old": "1.0", "new": "1.1"}}
    for pid in ("child-a", "child-b", "grandchild"):
        assert profiles[pid]["fields"] == {}
    assert profiles["loner"]["status"] == "unchanged" and profiles["loner"]["edited"] == []


@pytest.mark.skipif(not shutil.which("diff"), reason="GNU diff is not installed")
@pytest.mark.parametrize("case", ["root_edit", "reorder"])
def test_prompt_diff_is_what_gnu_diff_says(case, tmp_path):
    for pid, p in by_id(as_json(case)).items():
        if p["status"] != "changed":
            continue
        (tmp_path / "a").write_bytes(prompt(case, "old", pid))
        (tmp_path / "b").write_bytes(prompt(case, "new", pid))
        gnu = subprocess.run(["diff", "-u", "--label", f"old/{pid}/prompt.md", "--label",
                              f"new/{pid}/prompt.md", tmp_path / "a", tmp_path / "b"],
                             capture_output=True)
        assert gnu.returncode == 1
        assert p["prompt_diff"] == gnu.stdout.decode(), pid


def test_root_edit_text():
    r = diff("root_edit")
    out = r.stdout.decode()
    for pid in ROOT_FAMILY:
        assert f"{pid}: changed (new/{pid}.md)\n" in out
        assert f"--- old/{pid}/prompt.md\n+++ new/{pid}/prompt.md\n@@ -5,13 +5,14 @@\n" in out
    assert "    added    Estimating (from root, at 3)\n" in out
    assert "    changed  Writing (from root): description\n" in out
    assert "    added    [avoid] Hide a failed check (from root, at 3)\n" in out
    assert '    version: "1.0" -> "1.1"\n' in out
    assert "loner" not in out
    assert out.endswith("4 changed, 0 added, 0 removed, 0 errors, 1 unchanged\n")


def test_root_edit_markdown():
    out = diff("root_edit", "markdown").stdout.decode()
    assert out.startswith("## rosterd diff\n\n4 changed, 0 added, 0 removed, 0 errors, 1 unchanged\n")
    assert "| profile | status | views changed | fields changed | prompt lines |\n" in out
    rows = re.findall(r"^\| `([a-z-]+)` \| (\w+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", out, re.M)
    assert [r[0] for r in rows] == list(ROOT_FAMILY)  # one row each, no row for loner
    for pid, status, views, fields, lines in rows:
        assert (status, views, lines) == ("changed", "competencies, anti-patterns", "+4 -2")
        assert fields == ("version" if pid == "root" else "-")
    for pid in ROOT_FAMILY:
        block = out.split(f"<details><summary>{pid}</summary>\n", 1)[1].split("</details>", 1)[0]
        assert "- added `Estimating` (from root, at 3)\n" in block
        assert "- added (avoid) `Hide a failed check` (from root, at 3)\n" in block
        fence = block.split("```diff\n", 1)[1].split("\n```\n", 1)[0]
        assert fence.startswith(f"--- old/{pid}/prompt.md\n")
        assert "\n+- **Estimating**: Say how long a task will take" in fence
    assert "loner" not in out


def test_root_edit_github_points_at_each_file():
    r = run("diff", "tests/fixtures/diff/root_edit/old", "tests/fixtures/diff/root_edit/new",
            "--format", "github", cwd=REPO)
    assert r.returncode == 1
    lines = r.stdout.decode().splitlines()
    assert len(lines) == 4  # one per changed profile, nothing else
    for line, pid in zip(lines, ROOT_FAMILY):
        assert line.startswith(f"::notice file=tests/fixtures/diff/root_edit/new/{pid}.md,"
                               f"title=rosterd diff%3A {pid} changed::"), line
        assert "views: competencies, anti-patterns; " in line
        assert line.endswith("prompt lines: +4 -2; edited: root")
    assert "fields: version; " in lines[3]


# ---------------------------------------- (b) an added and a removed profile
def test_added_and_removed():
    profiles = by_id(as_json("added_removed"))
    gamma, beta = profiles["gamma"], profiles["beta"]
    new_lines = prompt("added_removed", "new", "gamma").count(b"\n") + 1  # no final newline
    old_lines = prompt("added_removed", "old", "beta").count(b"\n") + 1
    assert gamma["file"] == "new/gamma.md" and gamma["edited"] == ["gamma"]
    assert gamma["prompt_lines"] == {"added": new_lines, "removed": 0}
    assert beta["file"] == "old/beta.md" and beta["edited"] == ["beta"]
    assert beta["prompt_lines"] == {"added": 0, "removed": old_lines}
    for p in (gamma, beta):
        assert p["views"] == {} and p["fields"] == {} and p["prompt_diff"] is None
    assert profiles["alpha"]["status"] == "unchanged"


def test_added_and_removed_other_formats():
    text = diff("added_removed").stdout.decode()
    assert "gamma: added (new/gamma.md)\n" in text and "beta: removed (old/beta.md)\n" in text
    assert "alpha" not in text
    assert text.endswith("0 changed, 1 added, 1 removed, 0 errors, 1 unchanged\n")
    md = diff("added_removed", "markdown").stdout.decode()
    assert re.search(r"^\| `beta` \| removed \| - \| - \| \+0 -\d+ \|$", md, re.M)
    assert re.search(r"^\| `gamma` \| added \| - \| - \| \+\d+ -0 \|$", md, re.M)
    assert "<details><summary>beta</summary>" in md and "<details><summary>gamma</summary>" in md
    gh = diff("added_removed", "github").stdout.decode().splitlines()
    assert len(gh) == 2
    assert gh[0].startswith("::warning file=old/beta.md,title=rosterd diff%3A beta removed::")
    assert gh[1].startswith("::notice file=new/gamma.md,title=rosterd diff%3A gamma added::")


# ------------------------------------------------------ (c) a pure reorder
def test_reorder_is_moves_only():
    profiles = by_id(as_json("reorder"))
    for pid in ("orderly", "follower"):
        p = profiles[pid]
        assert p["fields"] == {} and p["edited"] == ["orderly"]
        assert set(p["views"]) == {"competencies", "tool-priorities", "anti-patterns"}
        for view in p["views"].values():
            assert view["added"] == [] and view["removed"] == [] and view["changed"] == []
            assert len(view["moved"]) == 1
            assert view["moved"][0]["from"] == "orderly"
        # Delta went from last to first: the one item whose move explains it
        assert p["views"]["competencies"]["moved"] == [
            {"key": "Delta", "from": "orderly", "old_position": 4, "new_position": 1}]
        # a swap of two: either one moved; ranks were renumbered, which is no change
        tool = p["views"]["tool-priorities"]["moved"][0]
        assert (tool["key"], tool["old_position"], tool["new_position"]) in {
            ("Read Tools", 1, 2), ("Search Tools", 2, 1)}
        anti = p["views"]["anti-patterns"]["moved"][0]
        assert anti["list"] == "avoid" and anti["key"] in ("Rush", "Guess")
        assert p["prompt_lines"] == {"added": 4, "removed": 4}


def test_reorder_other_formats():
    text = diff("reorder").stdout.decode()
    assert "    moved    Delta (from orderly, 4 -> 1)\n" in text
    assert "added " not in text and "removed " not in text
    md = diff("reorder", "markdown").stdout.decode()
    assert re.search(r"^\| `follower` \| changed \| competencies, tool-priorities, anti-patterns "
                     r"\| - \| \+4 -4 \|$", md, re.M)
    assert "- moved `Delta` (from orderly, 4 -> 1)\n" in md
    gh = diff("reorder", "github").stdout.decode().splitlines()
    assert [line.split(",", 1)[0] for line in gh] == ["::notice file=new/follower.md",
                                                       "::notice file=new/orderly.md"]


# --------------------------------------------------------- (d) no change
def test_no_change_every_format():
    assert diff("nochange").stdout == b"0 changed, 0 added, 0 removed, 0 errors, 5 unchanged\n"
    md = diff("nochange", "markdown").stdout.decode()
    assert md == "## rosterd diff\n\n0 changed, 0 added, 0 removed, 0 errors, 5 unchanged\n\n"
    assert diff("nochange", "github").stdout == b""
    doc = as_json("nochange")
    assert all(p["status"] == "unchanged" for p in doc["profiles"])


def test_same_directory_is_no_change():
    r = run("diff", REPO / "profiles", REPO / "profiles")
    assert r.returncode == 0, r.stdout


# ------------------------------------------------------------- errors
def test_profile_with_errors_is_reported_and_exits_1(tmp_path):
    shutil.copytree(CASES / "nochange" / "old", tmp_path / "old")
    shutil.copytree(CASES / "nochange" / "new", tmp_path / "new")
    (tmp_path / "new" / "broken.md").write_text(
        "---\nid: broken\nextends: nowhere\n---\n\n# Broken\n\nText.\n")
    r = run("diff", "old", "new", "--format", "json", cwd=tmp_path)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["summary"]["errors"] == 1 and doc["summary"]["unchanged"] == 5
    broken = by_id(doc)["broken"]
    assert broken["status"] == "error" and broken["file"] == "new/broken.md"
    assert [(e["side"], e["code"], e["file"], e["line"]) for e in broken["errors"]] == [
        ("new", "extends.missing", "new/broken.md", 3)]
    gh = run("diff", "old", "new", "--format", "github", cwd=tmp_path).stdout.decode()
    assert gh.startswith("::warning file=new/broken.md,line=3,title=rosterd diff%3A broken has "
                         "errors::new side: ")
    text = run("diff", "old", "new", cwd=tmp_path).stdout.decode()
    assert "broken: error (new/broken.md)\n  new: new/broken.md:3:1: error: " in text


@pytest.mark.parametrize("args,message", [
    (["missing", "new"], "missing: No such file or directory"),
    (["old", "missing"], "missing: No such file or directory"),
    (["old/root.md", "new"], "old/root.md: not a directory"),
    (["old"], "two profiles directories needed"),
    (["old", "new", "third"], "more than two directories"),
    (["old", "new", "--format", "yaml"], "--format must be text, json, markdown or github"),
    (["old", "new", "--bogus"], "unknown option '--bogus'"),
])
def test_input_errors_exit_2(args, message):
    r = run("diff", *args, cwd=CASES / "nochange")
    assert r.returncode == 2, r
    assert r.stdout == b""
    assert message in r.stderr.decode()


def test_help_lists_diff():
    for args in (["--help"], ["diff", "--help"]):
        r = run(*args)
        assert r.returncode == 0
        out = r.stdout.decode()
        assert "  diff OLD NEW " in out and "--format text|json|markdown|github" in out


def test_markdown_fence_outlasts_backticks_in_the_prompt(tmp_path):
    """A prompt with ``` fences changed: the diff block uses a longer fence."""
    for side, word in (("old", "one"), ("new", "two")):
        (tmp_path / side).mkdir()
        (tmp_path / side / "fenced.md").write_text(
            f"---\nid: fenced\nname: Fenced\n---\n\n# Fenced\n\nExample:\n\n```yaml\nkey: {word}\n```\n")
    md = run("diff", "old", "new", "--format", "markdown", cwd=tmp_path).stdout.decode()
    assert "````diff\n" in md and "\n-key: one\n+key: two\n" in md and "\n````\n" in md


def test_large_rewrite_is_replaced_and_markdown_stays_under_the_summary_limit(tmp_path):
    """A root whose 3,000 lines all change: past the edit cap the prompt
    diff replaces the whole prompt (and says so); four such diffs would pass
    GitHub's 1 MiB step-summary limit, so the Markdown leaves later ones out."""
    for side, word in (("old", "before"), ("new", "after")):
        d = tmp_path / side
        d.mkdir()
        body = "".join(f"Line {i} of the shared text, {word} the rewrite.\n" for i in range(3000))
        (d / "big.md").write_text(
            f"---\nid: big\nname: Big\n---\n\n# Big\n\nRoot.\n\n## Shared\n\n{body}")
        for k in range(3):
            (d / f"kid{k}.md").write_text(
                f"---\nid: kid{k}\nname: Kid {k}\nextends: big\ninherit: {{Big: drop}}\n---\n\n"
                f"# Kid {k}\n\nA child.\n")
    r = run("diff", "old", "new", "--format", "json", cwd=tmp_path)
    assert r.returncode == 1
    for p in json.loads(r.stdout)["profiles"]:
        assert p["status"] == "changed" and p["prompt_replaced"] is True, p["id"]
        assert p["prompt_lines"]["removed"] >= 3000 and p["prompt_lines"]["added"] >= 3000
    text = run("diff", "old", "new", cwd=tmp_path).stdout.decode()
    assert text.count("(whole prompt replaced: over the diff's size limits)") == 4
    md = run("diff", "old", "new", "--format", "markdown", cwd=tmp_path).stdout
    assert len(md) < 1024 * 1024
    md = md.decode()
    assert md.count("<details><summary>") == 4
    assert 1 <= md.count("```diff\n") < 4
    assert md.count("The prompt diff is left out") == 4 - md.count("```diff\n")
