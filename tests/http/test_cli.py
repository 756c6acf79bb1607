"""The rosterd command line: check, render, export, help, version and serve's flags."""
import gzip
import json
import re
import socket
import subprocess

import pytest

from conftest import FIXTURE_IDS, REPO, ROSTERD, SPEC, VIEWS, clean_env, make_profiles, profile_ids


def run(*args, env=None, timeout=30, cwd=None):
    return subprocess.run([str(ROSTERD), *map(str, args)], capture_output=True, timeout=timeout,
                          env=clean_env(env), cwd=cwd, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def clean_dir(tmp_path_factory):
    """A small profile set with no errors (and no warnings)."""
    d = tmp_path_factory.mktemp("clean")
    (d / "alpha.md").write_text("---\nid: alpha\nname: Alpha\ncategory: test\n---\n\n# Alpha\n\nThe first.\n")
    (d / "beta.md").write_text("---\nid: beta\nname: Beta\nextends: alpha\ninherit: {Alpha: drop}\n---\n\n# Beta\n\nThe second.\n")
    return d


# ---------------------------------------------------------------- help, version
def test_help():
    for args in (["--help"], ["-h"], ["help"], ["check", "--help"], ["render", "x", "--help"]):
        r = run(*args)
        assert r.returncode == 0, args
        out = r.stdout.decode()
        assert out.startswith("usage: rosterd COMMAND")
        for cmd in ("serve", "check", "render", "export", "healthcheck"):
            assert f"  {cmd}" in out


def test_no_command_and_unknown_command():
    r = run()
    assert r.returncode == 2 and b"usage: rosterd" in r.stderr
    r = run("bogus")
    assert r.returncode == 2 and b"unknown command 'bogus'" in r.stderr


def test_version():
    r = run("--version")
    assert r.returncode == 0
    assert re.match(r"^rosterd \d+\.\d+\.\d+\S* \(\S+\)\n$", r.stdout.decode())
    assert run("version").stdout == r.stdout


def test_serve_help_lists_every_flag():
    r = run("serve", "--help")
    assert r.returncode == 0
    out = r.stdout.decode()
    assert out.startswith("usage: rosterd serve")
    # every option of the one list (service/app/options.json), with its
    # environment name, and nothing that is not in it
    options = json.loads((REPO / "service/app/options.json").read_text())["options"]
    flags = ["--" + o["flag"] for o in options]
    assert len(flags) >= 19 and "--index-threads" in flags and "--prerender" in flags
    listed = re.findall(r"^  (--[a-z-]+)\s", out, re.M)
    assert listed == flags
    for flag in flags:
        env = "ROSTER_" + flag[2:].upper().replace("-", "_")
        assert re.search(rf"^  {re.escape(flag)}\s+{env}\s", out, re.M), flag
    assert "SIGTERM" in out and "SIGHUP" in out


@pytest.mark.parametrize("args,flag", [
    (["--threads", "0"], "--threads"),
    (["--threads", "65"], "--threads"),
    (["--threads", "two"], "--threads"),
    (["--threads=-1"], "--threads"),
    (["--listen", "nope"], "--listen"),
    (["--listen", "127.0.0.1:70000"], "--listen"),
    (["--listen", "[::1"], "--listen"),
    (["--log-format", "xml"], "--log-format"),
    (["--log-level", "loud"], "--log-level"),
    (["--max-request-bytes", "10"], "--max-request-bytes"),
    (["--debounce-ms", "5"], "--debounce-ms"),
    (["--watch", "2"], "--watch"),
    (["--strict-markdown=maybe"], "--strict-markdown"),
    (["--shutdown-timeout"], "--shutdown-timeout"),
    (["--bogus"], "--bogus"),
])
def test_serve_bad_flag_value_exit_2(args, flag):
    r = run("serve", *args, timeout=10)
    assert r.returncode == 2, r
    err = r.stderr.decode()
    assert err.startswith("rosterd serve: ") and flag in err, err
    assert "Try 'rosterd serve --help'." in err


def test_serve_bad_environment_value_names_the_variable():
    r = run("serve", env={"ROSTER_THREADS": "abc"}, timeout=10)
    assert r.returncode == 2
    assert b"--threads" in r.stderr and b"ROSTER_THREADS" in r.stderr


def test_serve_flag_beats_environment(spawn):
    srv = spawn(args=["--threads", "1"], env={"ROSTER_THREADS": "3"})
    assert srv.wait_for(lambda d: d.get("event") == "start")["threads"] == 1


def test_serve_short_admin_token_exit_2():
    r = run("serve", "--listen", "127.0.0.1:0", env={"ROSTER_ADMIN_TOKEN": "short"}, timeout=10)
    assert r.returncode == 2 and b"at least 16 characters" in r.stderr


def test_serve_missing_profiles_directory_exit_1(tmp_path):
    r = run("serve", "--listen", "127.0.0.1:0", "--profiles", tmp_path / "missing", timeout=10)
    assert r.returncode == 1
    err = r.stderr.decode()
    assert "missing" in err
    failed = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert failed and failed[0]["event"] == "start_failed" and failed[0]["level"] == "error"


def test_serve_port_in_use_exit_1(server):
    r = run("serve", "--listen", f"127.0.0.1:{server.port}", "--profiles", server.profiles, timeout=10)
    assert r.returncode == 1 and b"cannot listen" in r.stderr


# ---------------------------------------------------------------- check
def test_check_clean_exit_0(clean_dir):
    r = run("check", "--profiles", clean_dir)
    assert r.returncode == 0, r.stdout
    assert r.stdout.decode() == "2 profiles, 2 valid, 0 errors, 0 warnings\n"
    r = run("check", "--profiles", clean_dir, "--format", "json")
    assert r.returncode == 0
    assert json.loads(r.stdout) == {"profiles": 2, "valid": 2, "errors": 0, "warnings": 0, "diagnostics": []}
    r = run("check", "--profiles", clean_dir, "--format", "github")
    assert r.returncode == 0 and r.stdout == b""


def test_check_profiles_from_environment(clean_dir):
    r = run("check", env={"ROSTER_PROFILES": str(clean_dir)})
    assert r.returncode == 0 and r.stdout.startswith(b"2 profiles")


def test_check_repository_profiles_have_no_errors(tmp_path):
    r = run("check", "--profiles", make_profiles(tmp_path / "repo", fixtures=False))
    assert r.returncode == 0, r.stdout.decode()


def test_check_errors_exit_1_json_matches_server(server, api):
    r = run("check", "--profiles", server.profiles, "--format", "json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert set(doc) == {"profiles", "valid", "errors", "warnings", "diagnostics"}
    for d in doc["diagnostics"]:
        SPEC.validate(d, SPEC.schema("Diagnostic"))
    served = api.get("/v1/diagnostics").json()
    assert doc["diagnostics"] == served["items"]
    assert doc["errors"] == served["counts"]["error"] == 2
    assert doc["warnings"] == served["counts"]["warning"]
    ready = api.get("/ready").json()["profiles"]
    assert doc["valid"] == ready["served"] and doc["profiles"] == ready["served"] + ready["invalid"]


def test_check_text_and_github(server, api):
    items = api.get("/v1/diagnostics").json()["items"]
    # run in the profiles directory: file names are from the current one
    here = {"cwd": server.profiles, "env": {"GITHUB_WORKSPACE": ""}}
    text = run("check", "--profiles", server.profiles, **here)
    assert text.returncode == 1
    lines = text.stdout.decode().splitlines()
    assert len(lines) == len(items) + 1
    for line, d in zip(lines, items):
        assert line == (f"{d['file']}:{d['line'] or 0}:{d['column'] or 0}: {d['severity']}: "
                        f"{d['message']} [{d['code']}]")
    assert re.match(r"^\d+ profiles, \d+ valid, 2 errors, \d+ warnings$", lines[-1])
    gh = run("check", "--profiles", server.profiles, "--format", "github", **here)
    assert gh.returncode == 1
    glines = gh.stdout.decode().splitlines()
    assert len(glines) == len(items)
    kinds = {"error": "error", "warning": "warning", "info": "notice"}
    for line, d in zip(glines, items):
        assert line.startswith(f"::{kinds[d['severity']]} file={d['file']},")
        assert f",title={d['code']}::" in line


def test_check_usage_errors_exit_2(clean_dir):
    for args in (["--profiles", clean_dir, "--format", "xml"], ["--profiles", clean_dir, "--bogus"],
                 ["--profiles"], ["--format"]):
        r = run("check", *args)
        assert r.returncode == 2, args


def test_check_missing_directory_exit_1(tmp_path):
    r = run("check", "--profiles", tmp_path / "missing")
    assert r.returncode == 1 and b"No such file or directory" in r.stderr


# ---------------------------------------------------------------- render
@pytest.mark.parametrize("view", ["profile"] + sorted(VIEWS))
def test_render_matches_http(server, api, view):
    for pid in ("base", "fx-leaf", "fx-list-parent"):
        path = f"/v1/profiles/{pid}" + ("" if view == "profile" else f"/{view}")
        args = ["render", pid, "--profiles", server.profiles] + ([] if view == "profile" else ["--view", view])
        r = run(*args)
        assert r.returncode == 0, r.stderr
        assert r.stdout == api.get(path).content
        json.loads(r.stdout)


def test_render_prompt_is_text(server, api):
    r = run("render", "fx-leaf", "--profiles", server.profiles, "--view", "prompt")
    assert r.returncode == 0
    assert r.stdout == api.get("/v1/profiles/fx-leaf/prompt").content
    assert r.stdout.startswith(b"# ")
    with pytest.raises(ValueError):
        json.loads(r.stdout)


def test_render_errors(server):
    r = run("render", "nope", "--profiles", server.profiles)
    assert r.returncode == 1 and b'no profile with id "nope"' in r.stderr
    r = run("render", "fx-broken", "--profiles", server.profiles)
    assert r.returncode == 1 and b"frontmatter.syntax" in r.stderr and r.stdout == b""
    for args in (["render"], ["render", "base", "--view", "source"], ["render", "base", "--view", "nope"],
                 ["render", "base", "--bogus"], ["render", "a", "b"]):
        assert run(*args, "--profiles", server.profiles).returncode == 2, args


# ---------------------------------------------------------------- export
def test_export_matches_http(server, api, tmp_path):
    out = tmp_path / "export"
    r = run("export", out, "--profiles", server.profiles)
    assert r.returncode == 0, r.stderr
    ids = profile_ids(api)
    assert r.stdout.decode() == f"exported {len(ids)} profiles to {out}\n"
    ident = {"Accept-Encoding": "identity"}
    expect = {
        "v1/profiles.json": ("/v1/profiles", {}),
        "v1/facets.json": ("/v1/facets", {}),
        "v1/diagnostics.json": ("/v1/diagnostics", {}),
        "openapi.yaml": ("/openapi.yaml", {}),
    }
    for pid in ids:
        expect[f"v1/profiles/{pid}.json"] = (f"/v1/profiles/{pid}", {})
        for view in VIEWS:
            expect[f"v1/profiles/{pid}/{view}.json"] = (f"/v1/profiles/{pid}/{view}", {})
        expect[f"v1/profiles/{pid}/prompt.md"] = (f"/v1/profiles/{pid}/prompt", {})
        expect[f"v1/profiles/{pid}/prompt.json"] = (f"/v1/profiles/{pid}/prompt", {"Accept": "application/json"})
        expect[f"v1/profiles/{pid}/source.md"] = (f"/v1/profiles/{pid}/source", {})
    files = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    plain = {f for f in files if not f.endswith(".gz")}
    assert plain == set(expect)
    for name, (path, headers) in expect.items():
        http = api.get(path, headers={**ident, **headers}).content
        assert (out / name).read_bytes() == http, name
        gz = out / (name + ".gz")
        if gz.exists():
            assert gzip.decompress(gz.read_bytes()) == http, name
            # the same gzip bytes the server sends
            wire = api.get(path, headers={**headers, "Accept-Encoding": "gzip"}).wire
            assert gz.read_bytes() == wire, name
        else:
            assert "Content-Encoding" not in api.get(path, headers={**headers, "Accept-Encoding": "gzip"}).headers
    assert not any(f.startswith(f"v1/profiles/{i}") for i in ("fx-broken", "fx-orphan") for f in files)
    assert FIXTURE_IDS <= set(ids)


def test_export_usage(tmp_path):
    assert run("export").returncode == 2
    assert run("export", tmp_path / "o", "--bogus").returncode == 2
    assert run("export", tmp_path / "o", "--profiles", tmp_path / "missing").returncode == 1


# ---------------------------------------------------------------- healthcheck
def test_healthcheck(server):
    assert run("healthcheck", "--url", f"{server.base}/health", timeout=10).returncode == 0
    assert run("healthcheck", env={"ROSTER_LISTEN": f"127.0.0.1:{server.port}"}, timeout=10).returncode == 0
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert run("healthcheck", "--url", f"http://127.0.0.1:{port}/health", timeout=10).returncode == 1
