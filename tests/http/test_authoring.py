"""Authoring fidelity (#13): one test per row of the issue's table, each on a
fixture under tests/fixtures/authoring/<row>/ (children of the bundled
profiles), through the CLI (`rosterd check --format json`, `rosterd render`)
and, for provenance and scope, through HTTP with the contract's schemas."""
import json
import shutil
import subprocess

import pytest

from conftest import REPO, ROSTERD, SPEC, WRAPPER, Server, clean_env

AUTHORING = REPO / "tests" / "fixtures" / "authoring"


def corpus(dest, *rows, bundled=True):
    """The bundled profiles (unless bundled=False) plus the fixtures of rows."""
    dest.mkdir(parents=True, exist_ok=True)
    if bundled:
        for src in sorted((REPO / "profiles").glob("*.md")):
            shutil.copyfile(src, dest / src.name)
    for row in rows:
        for src in sorted((AUTHORING / row).glob("*.md")):
            shutil.copyfile(src, dest / src.name)
    return dest


def rosterd(*args):
    r = subprocess.run([*WRAPPER, str(ROSTERD), *map(str, args)], capture_output=True,
                       env=clean_env(), stdin=subprocess.DEVNULL, timeout=60)
    return r


def check(d):
    r = rosterd("check", "--profiles", d, "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def diags_of(report, file_name, code=None):
    return [g for g in report["diagnostics"]
            if g["file"].endswith(file_name) and (code is None or g["code"] == code)]


def listed(d):
    """GET /v1/profiles from a server on d: the summaries by id."""
    srv = Server(d)
    srv.start()
    try:
        return {i["id"]: i for i in srv.api().get("/v1/profiles").json()["items"]}
    finally:
        srv.stop()


def render(d, pid, view=None, scope=None):
    args = ["render", pid, "--profiles", d]
    if view:
        args += ["--view", view]
    if scope:
        args += ["--scope", scope]
    r = rosterd(*args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout) if view != "prompt" else r.stdout.decode()


# ------------------------------------------------------------ row 1: unclosed fence
def test_unclosed_fence_is_reported_and_recovered(tmp_path):
    d = corpus(tmp_path, "unclosed-fence")
    [g] = diags_of(check(d), "child-unclosed.md", "markdown.unclosed_fence")
    assert g["severity"] == "warning" and g["line"] == 17
    assert "python" in g["message"] and "Tool Priorities" in g["message"]
    assert "before line 21" in g["message"]
    tools = render(d, "child-unclosed", "tool-priorities")["tool_priorities"]
    # the child's own two tools, not the parent's four served as the child's
    assert [(t["rank"], t["name"], t["from"]) for t in tools] == [
        (1, "Python Tools", "child-unclosed"), (2, "Shell Tools", "child-unclosed")]
    avoid = render(d, "child-unclosed", "anti-patterns")["anti_patterns"]["avoid"]
    assert [a["text"] for a in avoid] == ["Leave code fences open"]
    [wp] = [w for w in render(d, "child-unclosed", "work-patterns")["work_patterns"]
            if w["name"] == "Scripting"]
    assert wp["examples"] == [{"language": "python", "code": 'def main():\n    print("deploy")\n'}]


def test_unclosed_fence_strict_markdown_reports_without_recovery(tmp_path):
    d = corpus(tmp_path, "unclosed-fence")
    r = rosterd("check", "--profiles", d, "--format", "json", "--strict-markdown")
    [g] = diags_of(json.loads(r.stdout), "child-unclosed.md", "markdown.unclosed_fence")
    assert "runs to the end of the file" in g["message"]


def test_unclosed_markdown_example_is_never_cut(tmp_path):
    (tmp_path / "md.md").write_text(
        "---\nid: md\n---\n\n# Md\n\n## Output Standards\n\n### Report\n\n```markdown\n"
        "## Tool Priorities\n\n1. **X** - y\n")
    [g] = diags_of(check(tmp_path), "md.md", "markdown.unclosed_fence")
    assert "runs to the end of the file" in g["message"]
    assert render(tmp_path, "md", "tool-priorities")["tool_priorities"] == []


# ------------------------------------------------------------ row 2: heading typos
def test_heading_without_space_and_wrong_level(tmp_path):
    d = corpus(tmp_path, "heading-typos")
    report = check(d)
    [nospace] = diags_of(report, "child-typos.md", "markdown.heading_no_space")
    assert nospace["line"] == 15 and '"## Anti-Patterns"' in nospace["message"]
    [level] = diags_of(report, "child-typos.md", "section.wrong_level")
    assert level["line"] == 11 and '"## Core Competencies"' in level["message"]


# ------------------------------------------------------------ row 3: tables
def test_tables_in_tool_priorities_and_competencies(tmp_path):
    d = corpus(tmp_path, "tables")
    tools = render(d, "child-tables", "tool-priorities")["tool_priorities"]
    assert [(t["rank"], t["name"], t["qualifier"], t["description"]) for t in tools] == [
        (1, "Table Tools", "Primary", "Edit tables"), (2, "Chart Tools", "Secondary", "Draw charts"),
        (3, "Shell Tools", "Fallback", "Everything else")]
    comps = render(d, "child-tables", "competencies")["competencies"]
    assert [(c["name"], c["description"]) for c in comps] == [
        ("Spreadsheets", "Keep data in rows and columns"), ("Charts", "Turn numbers into pictures")]
    assert {c["from"] for c in comps} == {"child-tables"}
    assert diags_of(check(d), "child-tables.md", "section.unreadable") == []


def test_unreadable_section_is_reported(tmp_path):
    (tmp_path / "p.md").write_text(
        "---\nid: p\n---\n\n# P\n\n## Tool Priorities\n\nUse the shell first, then the editor.\n\n"
        "## Work Patterns\n\nAlways plan first.\n")
    report = check(tmp_path)
    got = {(g["line"], g["code"]) for g in diags_of(report, "p.md", "section.unreadable")}
    assert got == {(7, "section.unreadable"), (11, "section.unreadable")}
    [tools] = [g for g in report["diagnostics"] if g["line"] == 7]
    assert "tool-priorities" in tools["message"] and "1. **Name**" in tools["message"]


# ------------------------------------------------------------ row 5: identity keys
def test_identity_keys_are_not_inherited(tmp_path):
    d = corpus(tmp_path, "identity")
    p = render(d, "child-min")
    assert (p["name"], p["description"], p["version"]) == (None, None, None)
    assert not {"name", "description", "version"} & set(p["metadata"])
    assert p["metadata"]["role"] == "devops"  # other keys are inherited
    items = listed(d)
    assert items["child-min"]["name"] is None and items["child-min"]["version"] is None


# ------------------------------------------------------------ row 6: Tools vs Tool Priorities
def test_tools_replaces_tool_priorities(tmp_path):
    d = corpus(tmp_path, "tools-alias")
    tools = render(d, "child-tools", "tool-priorities")["tool_priorities"]
    assert [(t["rank"], t["name"]) for t in tools] == [(1, "Kubectl"), (2, "Helm")]


def test_duplicate_ranks_in_one_file(tmp_path):
    (tmp_path / "r.md").write_text(
        "---\nid: r\n---\n\n# R\n\n## Tool Priorities\n\n1. **A** - a\n2. **B** - b\n\n"
        "Then:\n\n1. **C** - c\n")
    [g] = diags_of(check(tmp_path), "r.md", "tools.duplicate_rank")
    assert g["line"] == 14 and "served as 3 to 3" in g["message"]
    ranks = [t["rank"] for t in render(tmp_path, "r", "tool-priorities")["tool_priorities"]]
    assert ranks == [1, 2, 3]


# ------------------------------------------------------------ row 7: append
def test_inherit_append_and_default_replace(tmp_path):
    d = corpus(tmp_path, "anti-append")
    parent = render(d, "worker-devops", "anti-patterns")["anti_patterns"]
    appended = render(d, "child-append", "anti-patterns")["anti_patterns"]
    assert appended["avoid"][:-1] == parent["avoid"] and appended["always"][:-1] == parent["always"]
    assert appended["avoid"][-1] == {"text": "Skip the postmortem", "from": "child-append",
                                     "section": "Append Child/Anti-Patterns"}
    assert appended["always"][-1]["text"] == "Write the postmortem within a week"
    replaced = render(d, "child-replace", "anti-patterns")["anti_patterns"]
    assert [a["text"] for a in replaced["avoid"]] == ["Skip the postmortem"]
    prompt = render(d, "child-append", "prompt")
    assert "Hardcode secrets" in prompt and "Skip the postmortem" in prompt


def test_bundled_sre_builds_on_devops_standards(tmp_path):
    d = corpus(tmp_path)
    prompt = render(d, "worker-sre", "prompt")
    assert "Hardcode secrets in code or configs" in prompt
    assert prompt.count("You are ") == 1 and prompt.startswith("# Site Reliability Worker\n\nYou are a site")
    avoid = render(d, "worker-sre", "anti-patterns")["anti_patterns"]["avoid"]
    assert {a["from"] for a in avoid} == {"worker-devops", "worker-sre"}
    assert diags_of(check(d), "worker-sre.md") == []


# ------------------------------------------------------------ row 8: role statements
def test_multiple_role_statements(tmp_path):
    d = corpus(tmp_path, "three-level")
    report = check(d)
    [g] = diags_of(report, "child-roles.md", "prompt.multiple_roles")
    assert g["line"] == 7 and "3 role statements" in g["message"]
    assert '"Base Worker": drop, "DevOps Worker": drop' in g["message"]
    assert diags_of(report, "child-one-role.md") == []
    prompt = render(d, "child-one-role", "prompt")
    assert prompt.count("You are ") == 1 and "# Base Worker" not in prompt
    # the one title and role statement lead, the inherited sections follow
    assert prompt.startswith("# Release Worker\n\nYou are a release engineer.\n\n## Your Task\n")
    assert "## Operating Rules" in prompt  # the dropped H1's sections stay
    sections = [s["title"] for s in render(d, "child-one-role", "sections")["sections"]]
    assert "Base Worker" not in sections and "DevOps Worker" not in sections
    assert "Core Competencies" in sections


def test_inherit_diagnostics(tmp_path):
    (tmp_path / "a.md").write_text("---\nid: a\n---\n\n# A\n\n## Anti-Patterns\n\n- x\n")
    (tmp_path / "b.md").write_text(
        "---\nid: b\nextends: a\ninherit:\n  Anti Paterns: drop\n  A: sideways\n---\n\n## Rules\n")
    (tmp_path / "c.md").write_text("---\nid: c\nextends: a\ninherit: [drop]\n---\n")
    report = check(tmp_path)
    b = {g["code"]: g for g in diags_of(report, "b.md")}
    assert set(b) == {"inherit.unknown_section", "inherit.invalid"}
    assert '"Anti Paterns"' in b["inherit.unknown_section"]["message"] and b["inherit.invalid"]["line"] == 4
    [c] = diags_of(report, "c.md")
    assert c["code"] == "inherit.invalid" and "mapping" in c["message"]


# ------------------------------------------------------------ row 9: provenance
def test_provenance_names_the_nested_chat_rules(tmp_path):
    d = corpus(tmp_path, "corpus", bundled=False)
    ap = render(d, "corpus-worker", "anti-patterns")["anti_patterns"]["avoid"]
    assert ap[0] == {"text": "Greet the user twice", "from": "corpus-base",
                     "section": "Corpus Base/Preamble Messages/Chat Behaviour/Anti-Patterns"}
    assert ap[-1]["from"] == "corpus-worker"
    out = render(d, "corpus-worker", "output-standards")["output_standards"]
    assert [(o["name"], o["from"]) for o in out] == [("Chat Replies", "corpus-base"),
                                                     ("Build Reports", "corpus-worker")]
    clean = render(d, "corpus-worker-clean")
    assert [a["text"] for a in clean["anti_patterns"]["avoid"]] == ["Ignore failing builds"]
    assert clean["output_standards"] == []
    assert "Greet the user" not in render(d, "corpus-worker-clean", "prompt")


def test_every_item_has_provenance(tmp_path):
    d = corpus(tmp_path)
    for pid in ("base", "worker-devops", "worker-sre"):
        p = render(d, pid)
        SPEC.validate(p, SPEC.schema("Profile"))
        items = (p["competencies"] + p["work_patterns"] + p["tool_priorities"] + p["output_standards"]
                 + p["anti_patterns"]["avoid"] + p["anti_patterns"]["always"])
        paths = {s["path"] for s in p["sections"]}
        for item in items:
            assert item["from"] in p["lineage"] and item["section"] in paths, (pid, item)


@pytest.mark.parametrize("scope", ["own", "inherited", "all"])
def test_scope_over_cli(tmp_path, scope):
    d = corpus(tmp_path)
    whole = render(d, "worker-sre")
    scoped = render(d, "worker-sre", scope=scope)
    for key in ("competencies", "tool_priorities", "work_patterns", "output_standards", "sections"):
        want = [i for i in whole[key]
                if scope == "all" or (i["from"] == "worker-sre") == (scope == "own")]
        assert scoped[key] == want, key
    assert scoped["role"] == whole["role"] and scoped["lineage"] == whole["lineage"]


def test_scope_over_http(tmp_path):
    d = corpus(tmp_path)
    srv = Server(d)
    srv.start()
    try:
        api = srv.api()
        whole = api.get("/v1/profiles/worker-sre").json()
        own = api.get("/v1/profiles/worker-sre", params={"scope": "own"})
        assert own.status_code == 200 and own.headers["Content-Type"].startswith("application/json")
        SPEC.validate(own.json(), SPEC.schema("Profile"))
        assert [t["name"] for t in own.json()["tool_priorities"]] == [
            t["name"] for t in whole["tool_priorities"] if t["from"] == "worker-sre"]
        assert own.json()["competencies"] == [] and own.headers.get("ETag")
        inh = api.get("/v1/profiles/worker-sre/anti-patterns", params={"scope": "inherited"}).json()
        assert {a["from"] for a in inh["anti_patterns"]["avoid"]} == {"worker-devops"}
        assert len(inh["anti_patterns"]["avoid"]) == 8
        secs = api.get("/v1/profiles/worker-sre/sections", params={"scope": "own"}).json()["sections"]
        assert secs and {s["from"] for s in secs} == {"worker-sre"}
        both = api.get("/v1/profiles/worker-sre", params={"scope": "inherited", "fields": "id,tool_priorities"})
        assert both.headers["Content-Type"].startswith("application/vnd.roster.projection+json")
        assert both.json() == {"id": "worker-sre", "tool_priorities": []}
        assert api.get("/v1/profiles/worker-sre", params={"scope": "all"}).content == \
            api.get("/v1/profiles/worker-sre").content
        r = api.get("/v1/profiles/worker-sre", params={"scope": "mine"})
        assert r.status_code == 400 and r.json()["code"] == "invalid_query"
        assert "own, inherited or all" in r.json()["detail"]
        for view in ("role", "prompt", "lineage"):  # no items: scope is not theirs
            r = api.get(f"/v1/profiles/worker-sre/{view}", params={"scope": "own"}, headers={"Accept": "*/*"})
            assert r.status_code == 400 and r.json()["code"] == "unknown_parameter", (view, r.text)
    finally:
        srv.stop()


# ------------------------------------------------------------ row 4: numbers
def test_version_number_keeps_its_text_and_floats_print_shortest(tmp_path):
    d = corpus(tmp_path, "version-number")
    [g] = diags_of(check(d), "child-version.md", "frontmatter.number_as_string")
    assert g["line"] == 5 and 'quote it (version: "1.10")' in g["message"]
    raw = rosterd("render", "child-version", "--profiles", d).stdout.decode()
    p = json.loads(raw)
    assert p["version"] == "1.10" and p["metadata"]["version"] == "1.10"
    assert '"temperature":0.3,' in raw and '"top_p":0.1}' in raw
    assert "0.2999" not in raw and "0.1000" not in raw
    assert listed(d)["child-version"]["version"] == "1.10"


# ------------------------------------------------------------ row 10: extends typo
def test_extends_typo_suggests_the_id(tmp_path):
    d = corpus(tmp_path, "extends-typo")
    [g] = diags_of(check(d), "child-typo.md", "extends.missing")
    assert g["line"] == 4 and 'did you mean "worker-devops"?' in g["message"]
