"""Friendlier diagnostics through what users touch: `rosterd check` (paths an
editor or a GitHub annotation can open, --ignore), a profile's own
`lint: {ignore: [...]}` in check and over HTTP, YAML hints, did-you-mean for
extends, numbers kept as text, and floats printed in shortest form."""
import json
import re

import pytest

from conftest import REPO, make_profiles
from test_cli import run

NO_GH = {"GITHUB_WORKSPACE": ""}  # CI sets it: these tests choose it themselves


def text_lines(r):
    return r.stdout.decode().splitlines()


def file_of(line):
    return line.split(":", 1)[0]


@pytest.fixture
def project(tmp_path):
    """tmp/project/profiles: the repository's profiles and the test fixtures."""
    root = tmp_path / "project"
    make_profiles(root / "profiles")
    return root


# ------------------------------------------------------------------ paths
def test_check_from_repository_root_names_files_from_here():
    r = run("check", "--profiles", "profiles", env=NO_GH, cwd=REPO)
    lines = text_lines(r)[:-1]
    assert lines and r.returncode == 0, r.stdout.decode()
    assert all(line.startswith("profiles/") for line in lines)
    assert any(re.match(r"^profiles/worker-devops\.md:\d+:1: warning: .*\[markdown\.fence_info_closer\]$", line)
               for line in lines)


@pytest.mark.parametrize("where,arg", [
    ("project", "profiles"),
    ("project", "./profiles/"),
    ("project", "ABS"),
    ("profiles", "."),
    ("elsewhere", "../project/profiles"),
])
def test_check_text_paths_open_from_the_current_directory(project, where, arg):
    cwd = {"project": project, "profiles": project / "profiles", "elsewhere": project.parent / "elsewhere"}[where]
    cwd.mkdir(exist_ok=True)
    profiles = project / "profiles"
    r = run("check", "--profiles", profiles if arg == "ABS" else arg, env=NO_GH, cwd=cwd)
    assert r.returncode == 1  # the fixtures have errors
    lines = text_lines(r)[:-1]
    assert len(lines) > 10
    for line in lines:
        path = file_of(line)
        assert (cwd / path).is_file(), line
        if where == "project":
            assert path.startswith("profiles/"), line
        elif where == "profiles":
            assert "/" not in path, line
        else:  # not below the current directory: the absolute path
            assert path.startswith(str(profiles.resolve()) + "/"), line


def test_check_json_keeps_the_api_paths(project):
    """JSON is the API's form (GET /v1/diagnostics): relative to the profiles."""
    r = run("check", "--profiles", "profiles", "--format", "json", env=NO_GH, cwd=project)
    files = {d["file"] for d in json.loads(r.stdout)["diagnostics"] if d["file"]}
    assert files and all(not f.startswith("profiles/") for f in files)


def test_render_errors_name_files_from_here(project):
    r = run("render", "fx-broken", "--profiles", "profiles", cwd=project)
    assert r.returncode == 1
    assert re.search(rb"^profiles/fx-broken\.md:\d+:\d+: error: ", r.stderr, re.M), r.stderr


def gh_files(r):
    out = r.stdout.decode()
    return re.findall(r"^::\w+ file=([^,]+),", out, re.M)


def test_github_paths_from_github_workspace(project):
    r = run("check", "--profiles", project / "profiles", "--format", "github",
            env={"GITHUB_WORKSPACE": str(project.parent)}, cwd=project / "profiles")
    files = gh_files(r)
    assert files and all(f.startswith("project/profiles/") for f in files)
    assert all((project.parent / f).is_file() for f in files)


@pytest.mark.parametrize("git_is_file", [False, True])
def test_github_paths_from_the_git_top_level(project, git_is_file):
    if git_is_file:  # a worktree or submodule checkout
        (project / ".git").write_text("gitdir: /elsewhere\n")
    else:
        (project / ".git").mkdir()
    sub = project / "profiles" / "nested"
    sub.mkdir()
    (sub / "deep.md").write_text("---\nname: Deep\n---\n# Deep\n\nA deep one.\n")
    r = run("check", "--profiles", "profiles", "--format", "github", env=NO_GH, cwd=project)
    files = gh_files(r)
    assert "profiles/nested/deep.md" in files
    assert files and all(f.startswith("profiles/") for f in files)
    # the same names from any current directory
    elsewhere = project.parent / "elsewhere"
    elsewhere.mkdir()
    r2 = run("check", "--profiles", project / "profiles", "--format", "github", env=NO_GH, cwd=elsewhere)
    assert gh_files(r2) == files


def test_github_paths_without_a_repository_are_from_here(project):
    r = run("check", "--profiles", "profiles", "--format", "github", env=NO_GH, cwd=project)
    files = gh_files(r)
    assert files and all(f.startswith("profiles/") and (project / f).is_file() for f in files)


# ------------------------------------------------------------------ --ignore
def counts(r):
    m = re.match(r"^(\d+) profiles, (\d+) valid, (\d+) errors, (\d+) warnings$", text_lines(r)[-1])
    return tuple(int(x) for x in m.groups())


def codes_of(r):
    return [re.search(r"\[([a-z0-9_.]+)\]$", line).group(1) for line in text_lines(r)[:-1]]


def test_ignore_drops_codes_from_output_and_counts(project):
    base = run("check", "--profiles", "profiles", env=NO_GH, cwd=project)
    codes = codes_of(base)
    n_fence = codes.count("markdown.fence_info_closer")
    n_missing = codes.count("id.missing")
    assert n_fence and n_missing
    r = run("check", "--profiles", "profiles", "--ignore", "markdown.fence_info_closer", env=NO_GH, cwd=project)
    assert r.returncode == base.returncode == 1  # errors stay
    assert "markdown.fence_info_closer" not in codes_of(r)
    assert len(codes_of(r)) == len(codes) - n_fence
    p, v, e, w = counts(base)
    assert counts(r) == (p, v, e, w - n_fence)
    # repeatable, comma-separated, and --ignore=CODE
    for args in (["--ignore", "markdown.fence_info_closer,id.missing"],
                 ["--ignore", "markdown.fence_info_closer", "--ignore", "id.missing"],
                 ["--ignore=markdown.fence_info_closer", "--ignore=id.missing"]):
        r = run("check", "--profiles", "profiles", *args, env=NO_GH, cwd=project)
        assert not {"markdown.fence_info_closer", "id.missing"} & set(codes_of(r)), args
        assert counts(r) == (p, v, e, w - n_fence - n_missing), args


def test_ignore_applies_to_json_and_github(project):
    args = ("check", "--profiles", "profiles", "--ignore", "markdown.fence_info_closer")
    full = json.loads(run("check", "--profiles", "profiles", "--format", "json", cwd=project).stdout)
    doc = json.loads(run(*args, "--format", "json", cwd=project).stdout)
    gone = [d for d in full["diagnostics"] if d["code"] == "markdown.fence_info_closer"]
    assert gone
    assert doc["diagnostics"] == [d for d in full["diagnostics"] if d["code"] != "markdown.fence_info_closer"]
    assert doc["warnings"] == full["warnings"] - len(gone) and doc["errors"] == full["errors"]
    gh = run(*args, "--format", "github", env=NO_GH, cwd=project).stdout.decode()
    assert "title=markdown.fence_info_closer" not in gh and "title=id.missing" in gh


@pytest.mark.parametrize("value,why", [
    ("extends.missing", '"extends.missing" is an error, and errors cannot be ignored'),
    ("id.missing,frontmatter.syntax", '"frontmatter.syntax" is an error, and errors cannot be ignored'),
    ("markdown.fence_info_closr",
     '"markdown.fence_info_closr" is no diagnostic code (did you mean "markdown.fence_info_closer"?)'),
    ("no.such_code", '"no.such_code" is no diagnostic code'),
    ("", "--ignore takes diagnostic codes"),
    ("id.missing,", "--ignore takes diagnostic codes"),
])
def test_ignore_usage_errors_exit_2(project, value, why):
    r = run("check", "--profiles", "profiles", "--ignore", value, cwd=project)
    assert r.returncode == 2 and r.stdout == b""
    err = r.stderr.decode()
    assert err.startswith("rosterd check: ") and why in err, err
    assert "Try 'rosterd --help'." in err


def test_ignore_without_value_exit_2(project):
    r = run("check", "--profiles", "profiles", "--ignore", cwd=project)
    assert r.returncode == 2 and b"incomplete option '--ignore'" in r.stderr


def test_help_documents_check_flags():
    out = run("check", "--help").stdout.decode()
    assert "--ignore CODE[,CODE]" in out and "lint: {ignore:" in out and "GITHUB_WORKSPACE" in out


def diagnostic_codes_in_sources():
    """Every dotted code string in the engine, the directory scan and core."""
    files = list((REPO / "service" / "engine").glob("*.c")) + [
        REPO / "service" / "snapshot" / "scan.c", REPO / "include" / "core" / "roster_diag.h"]
    codes = set()
    for f in files:
        for code in re.findall(r'"([a-z]+\.[a-z0-9_]+)"', f.read_text()):
            if code.rsplit(".", 1)[1] not in {"h", "c", "md", "json", "yaml", "inc", "gz", "txt"}:
                codes.add(code)
    return sorted(codes)


def test_every_code_in_the_sources_is_registered(tmp_path):
    """A code added without an entry in service/engine/ignore.c could never be ignored."""
    codes = diagnostic_codes_in_sources()
    assert "markdown.fence_info_closer" in codes and "extends.missing" in codes
    (tmp_path / "a.md").write_text("---\nid: a\n---\n# A\n\nA.\n")
    unknown = []
    for code in codes:
        r = run("check", "--profiles", tmp_path, "--ignore", code)
        if b"is no diagnostic code" in r.stderr:
            unknown.append(code)
        else:
            assert r.returncode == 0 or b"errors cannot be ignored" in r.stderr, (code, r.stderr)
    assert not unknown, f"add these to ERROR_CODES or IGNORABLE_CODES in service/engine/ignore.c: {unknown}"


# ------------------------------------------------------------------ lint.ignore
FENCED = """---
id: {id}
name: {name}
{lint}---

# {name}

You are {name}.

## Work Patterns

### One

```markdown
text
```markdown

Done.
"""


@pytest.fixture
def linted(tmp_path):
    d = tmp_path / "linted"
    d.mkdir()
    (d / "quiet.md").write_text(FENCED.format(
        id="quiet", name="Quiet", lint="lint: {ignore: [markdown.fence_info_closer, frontmatter.number_as_string]}\n"
        "version: 1.10\n"))
    (d / "loud.md").write_text(FENCED.format(id="loud", name="Loud", lint="version: 1.10\n"))
    (d / "wrong.md").write_text(FENCED.format(
        id="wrong", name="Wrong", lint="lint: {ignore: [id.invalid, markdown.fence_info_closr]}\n"))
    return d


def test_lint_ignore_in_check(linted):
    r = run("check", "--profiles", linted, cwd=linted)
    lines = text_lines(r)
    assert r.returncode == 0, r.stdout.decode()
    assert not [line for line in lines if line.startswith("quiet.md:")]
    assert any(line.startswith("loud.md:") and "[markdown.fence_info_closer]" in line for line in lines)
    assert any(line.startswith("loud.md:4:10: warning: version: 1.10 is a number in YAML")
               and line.endswith("[frontmatter.number_as_string]") for line in lines)
    wrong = [line for line in lines if line.startswith("wrong.md:")]
    assert ('wrong.md:4:1: warning: lint.ignore entry: "id.invalid" is an error, and errors cannot be '
            'ignored [lint.invalid]') in wrong
    assert ('wrong.md:4:1: warning: lint.ignore entry: "markdown.fence_info_closr" is no diagnostic code '
            '(did you mean "markdown.fence_info_closer"?) [lint.invalid]') in wrong
    assert any("[markdown.fence_info_closer]" in line for line in wrong)  # a typo silences nothing
    assert counts(r) == (3, 3, 0, len(lines) - 1)


def test_lint_ignore_over_http(spawn, linted):
    srv = spawn(profiles=linted)
    api = srv.api()
    items = api.get("/v1/diagnostics").json()["items"]
    assert not [d for d in items if d["file"] == "quiet.md"]
    assert {d["code"] for d in items if d["file"] == "loud.md"} == {
        "markdown.fence_info_closer", "frontmatter.number_as_string"}
    assert [d["code"] for d in items if d["file"] == "wrong.md"].count("lint.invalid") == 2
    quiet = api.get("/v1/profiles/quiet").json()
    assert quiet["diagnostics"] == [] and quiet["version"] == "1.10"
    loud = api.get("/v1/profiles/loud").json()
    assert {d["code"] for d in loud["diagnostics"]} == {"markdown.fence_info_closer", "frontmatter.number_as_string"}
    # check and the server agree
    doc = json.loads(run("check", "--profiles", linted, "--format", "json").stdout)
    assert doc["diagnostics"] == items


# ------------------------------------------------------------------ messages
def write(d, name, text):
    d.mkdir(exist_ok=True)
    (d / name).write_text(text)


def test_yaml_hints_point_at_the_mistake(tmp_path):
    d = tmp_path / "yaml"
    write(d, "tab.md", "---\nid: tab\ntags:\n\t- a\n---\n# T\n")
    write(d, "list.md", "---\nid: list\ntags: [a, b\nname: List\ncategory: x\n---\n# L\n")
    write(d, "map.md", "---\nid: map\nmeta: {a: 1,\n  b: 2\nname: Map\n---\n# M\n")
    write(d, "colon.md", "---\nid: colon\ndescription: Use this: for that\n---\n# C\n")
    r = run("check", "--profiles", "yaml", cwd=tmp_path)
    assert r.returncode == 1
    got = {file_of(line): line for line in text_lines(r)[:-1]}
    assert got["yaml/tab.md"].startswith("yaml/tab.md:4:1: error: YAML syntax error: ")
    assert got["yaml/tab.md"].endswith(
        "; hint: this line is indented with a tab: YAML indents with spaces [frontmatter.syntax]")
    assert got["yaml/list.md"] == (
        "yaml/list.md:3:7: error: YAML syntax error: the '[' here is never closed (the parser gave up "
        "on line 4: did not find expected ',' or ']'); hint: close the list with ']', or quote the "
        "value if the '[' is text [frontmatter.syntax]")
    assert got["yaml/map.md"].startswith("yaml/map.md:3:7: error: YAML syntax error: the '{' here is never closed")
    assert got["yaml/colon.md"] == (
        "yaml/colon.md:3:22: error: YAML syntax error: mapping values are not allowed in this "
        "context; hint: a value that contains ': ' must be quoted: description: \"Use this: for "
        "that\" [frontmatter.syntax]")


def test_extends_missing_suggests_over_http_and_check(spawn, tmp_path):
    d = make_profiles(tmp_path / "typo", fixtures=False)
    write(d, "child.md", "---\nid: child\nextends: worker-devopps\n---\n# Child\n\nYou are a child.\n")
    r = run("check", "--profiles", d, "--format", "json")
    msgs = [g["message"] for g in json.loads(r.stdout)["diagnostics"] if g["code"] == "extends.missing"]
    assert msgs == ['extends "worker-devopps": no profile has this id or file name; '
                    'did you mean "worker-devops"?']
    api = spawn(profiles=d).api()
    p = api.get("/v1/profiles/child")
    assert p.status_code == 404 and p.json()["code"] == "profile_invalid"
    assert [g["message"] for g in p.json()["diagnostics"]] == msgs
    # the 404 for an unknown id suggests from the same bounded distance
    nf = api.get("/v1/profiles/worker-devopps")
    assert nf.status_code == 404 and nf.json()["suggestions"][0] == "worker-devops"


def test_numbers_keep_their_text_and_floats_print_shortest(spawn, tmp_path):
    d = tmp_path / "numbers"
    write(d, "num.md", "---\nid: num\nname: Num\nversion: 1.10\ncategory: 2\n"
                       "metadata:\n  temperature: 0.7\n  x: 0.1\n  one: 1.0\n  big: 1e100\n  n: 3\n"
                       "---\n# Num\n\nYou are a number.\n")
    api = spawn(profiles=d).api()
    r = api.get("/v1/profiles/num")
    assert r.status_code == 200
    doc = r.json()
    assert doc["version"] == "1.10" and doc["metadata"]["version"] == "1.10"
    assert doc["category"] == "2" and doc["metadata"]["category"] == "2"
    assert b'"metadata":{"temperature":0.7,"x":0.1,"one":1.0,"big":1e100,"n":3}' in r.content
    assert b"0.69999" not in r.content and b"0.10000" not in r.content
    warn = {(g["line"], g["column"]): g["message"] for g in doc["diagnostics"]
            if g["code"] == "frontmatter.number_as_string"}
    assert warn == {
        (4, 10): 'version: 1.10 is a number in YAML; it is kept as the text "1.10": quote it (version: "1.10")',
        (5, 11): 'category: 2 is a number in YAML; it is kept as the text "2": quote it (category: "2")',
    }
    listed = api.get("/v1/profiles").json()["items"]
    assert [(i["version"], i["category"]) for i in listed if i["id"] == "num"] == [("1.10", "2")]
    # the CLI prints the same bytes
    assert run("render", "num", "--profiles", d).stdout == r.content
