"""Templates through the CLI (#14): `rosterd render ID --view prompt --var
name=value ... --vars-file FILE.json` prints what POST .../prompt answers,
with the same reasons as text and exit 1; `rosterd check` reports
undeclared placeholders and unused declarations."""
import json
import subprocess

from conftest import ROSTERD, WRAPPER, clean_env, make_profiles

CHILD = """---
id: tpl
name: Template Worker
extends: worker-devops
variables:
  language: {description: Main language, default: Go, enum: [Go, Python, C]}
  repo_url: {description: Repository, pattern: "^https://"}
---

# Template Worker

Work on {{ repo_url }} in {{ language }}: {{task}}.

```bash
git clone {{ repo_url }}
```

```text raw
{{ repo_url }} stays
```

Write {{{{ name }} for a literal.
"""


def run(*args, cwd=None):
    return subprocess.run([*WRAPPER, str(ROSTERD), *map(str, args)], capture_output=True,
                          env=clean_env(), stdin=subprocess.DEVNULL, timeout=60, cwd=cwd)


def profiles_with(tmp_path, extra=None):
    d = make_profiles(tmp_path / "profiles", fixtures=False)
    (d / "tpl.md").write_text(CHILD)
    for name, text in (extra or {}).items():
        (d / name).write_text(text)
    return d


def test_render_with_vars(tmp_path):
    d = profiles_with(tmp_path)
    r = run("render", "tpl", "--profiles", d, "--view", "prompt", "--var", "task=fix the build",
            "--var", "repo_url=https://git.test/r")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "Work on https://git.test/r in Go: fix the build." in out
    assert "git clone https://git.test/r\n" in out and "{{ repo_url }} stays" in out
    assert "Write {{ name }} for a literal." in out
    assert "## Your Task\n\nfix the build\n" in out  # base's declaration, inherited


def test_vars_file_and_override(tmp_path):
    d = profiles_with(tmp_path)
    f = tmp_path / "vars.json"
    f.write_text(json.dumps({"variables": {"language": "C", "repo_url": "https://a.test"}}))
    r = run("render", "tpl", "--profiles", d, "--view", "prompt", "--vars-file", f,
            "--var", "language=Python")
    assert r.returncode == 0, r.stderr
    assert "Work on https://a.test in Python: the task described" in r.stdout.decode()


def test_every_problem_is_reported(tmp_path):
    d = profiles_with(tmp_path)
    r = run("render", "tpl", "--profiles", d, "--view", "prompt", "--var", "language=Rust",
            "--var", "repo_url=http://x", "--var", "colour=red")
    assert r.returncode == 1 and r.stdout == b""
    err = r.stderr.decode().splitlines()
    assert err == [
        "rosterd render: variable colour: unknown: no such variable is declared",
        "rosterd render: variable language: not_in_enum: the value must be one of [\"Go\",\"Python\",\"C\"]",
        "rosterd render: variable repo_url: pattern_mismatch: the value does not match the pattern ^https://",
    ]


def test_usage_errors(tmp_path):
    d = profiles_with(tmp_path)
    assert run("render", "tpl", "--profiles", d, "--var", "task=x").returncode == 2
    r = run("render", "tpl", "--profiles", d, "--view", "prompt", "--var", "=x")
    assert r.returncode == 1 and b"--var name=value" in r.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("[1]")
    r = run("render", "tpl", "--profiles", d, "--view", "prompt", "--vars-file", bad)
    assert r.returncode == 1 and b"not a JSON object" in r.stderr


def test_without_vars_the_template_is_as_authored(tmp_path):
    d = profiles_with(tmp_path)
    r = run("render", "tpl", "--profiles", d, "--view", "prompt")
    assert r.returncode == 0 and "Work on {{ repo_url }} in {{ language }}: {{task}}." in r.stdout.decode()
    view = json.loads(run("render", "tpl", "--profiles", d, "--view", "variables").stdout)
    assert [(v["name"], v["from"]) for v in view["variables"]] == [
        ("language", "tpl"), ("repo_url", "tpl"), ("task", "base")]


def test_check_reports_undeclared_and_unused(tmp_path):
    d = profiles_with(tmp_path, {"loose.md": "---\nid: loose\nvariables:\n  idle: {}\n---\n\n# Loose\n\n"
                                     "Hello {{ who }}.\n"})
    r = run("check", "--profiles", d, "--format", "json")
    got = {(g["file"], g["code"], g["line"], g["severity"]) for g in json.loads(r.stdout)["diagnostics"]
           if g["code"].startswith("template.")}
    assert got == {("loose.md", "template.undeclared", 9, "warning"),
                   ("loose.md", "template.unused", 3, "info")}
    r = run("check", "--profiles", d, "--ignore", "template.undeclared", "--format", "json")
    assert "template.undeclared" not in r.stdout.decode()


def test_too_many_placeholders_is_a_warning_not_a_failed_index(tmp_path):
    (tmp_path / "t.md").write_text("---\nid: t\nvariables:\n  a: {default: ''}\n---\n\n"
                                   + "x{{a}}" * 4100 + "\n")
    r = run("check", "--profiles", tmp_path, "--format", "json")
    report = json.loads(r.stdout)
    assert r.returncode == 0 and report["valid"] == 1
    assert [g["code"] for g in report["diagnostics"]] == ["template.too_many_placeholders"]


def test_too_many_placeholders_still_serves_the_profile_and_its_views(tmp_path):
    """The profile JSON lists the declarations without making the template (a
    prompt of 4,300 placeholders cannot be one): its views answer, only the
    rendering routes refuse."""
    (tmp_path / "t.md").write_text("---\nid: t\nvariables:\n  a: {default: ''}\n---\n\n# T\n\n"
                                   + "{{a}} " * 4300 + "\n")
    for view in ("profile", "variables", "role"):
        r = run("render", "t", "--profiles", tmp_path, "--view", view)
        assert r.returncode == 0, (view, r.stderr)
    assert [v["name"] for v in json.loads(run("render", "t", "--profiles", tmp_path,
                                              "--view", "variables").stdout)["variables"]] == ["a"]
