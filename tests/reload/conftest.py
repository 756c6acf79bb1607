"""Fixtures for the live-reload tests (docs/reload.md).

Every test gets its own temporary profiles directory (copies of the
repository's profiles/*.md) and its own `rosterd serve` on 127.0.0.1:0.

Run: /usr/bin/python3 -m pytest -q tests/reload
     ROSTERD=/path/to/rosterd overrides the binary (default build/service/rosterd).
"""
import shutil
import subprocess
import time

import pytest

from . import reload_support as rs


@pytest.fixture(scope="session", autouse=True)
def rosterd(tmp_path_factory):
    """A private copy of the binary, taken once per session, so that a
    rebuild of build/ while the tests run (relinking replaces the file)
    cannot make a test fail to start the server."""
    if not rs.ROSTERD.exists():
        pytest.fail(f"{rs.ROSTERD} does not exist: build it (ninja -C build) or set ROSTERD")
    dest = tmp_path_factory.mktemp("bin") / "rosterd"
    for attempt in range(20):
        try:
            shutil.copy2(rs.ROSTERD, dest)
            subprocess.run([str(dest), "--version"], check=True, capture_output=True, timeout=10)
            break
        except (OSError, subprocess.SubprocessError):
            time.sleep(0.5)  # the binary is being relinked: try again
    else:
        pytest.fail(f"cannot copy and run {rs.ROSTERD}")
    original = rs.ROSTERD
    rs.ROSTERD = dest
    yield dest
    rs.ROSTERD = original


@pytest.fixture
def profiles_dir(tmp_path):
    return rs.copy_profiles(tmp_path / "profiles")


@pytest.fixture
def spawn(rosterd):
    """spawn(profiles, *args, env=None) starts a dedicated server. At
    teardown every server gets SIGTERM and must exit 0 (a crash fails the
    test)."""
    started = []

    def _spawn(profiles, *args, env=None, start=True):
        srv = rs.Server(profiles, args, env)
        started.append(srv)
        return srv.start() if start else srv

    yield _spawn
    problems = []
    for srv in started:
        code = srv.stop()
        if srv.proc is not None and code != 0:
            problems.append(f"rosterd exited {code} (expected 0 after SIGTERM); stderr tail:\n"
                            + srv.stderr_text()[-3000:])
    if problems:
        pytest.fail("\n".join(problems))


@pytest.fixture
def server(spawn, profiles_dir):
    """A server over profiles_dir with the default flags."""
    return spawn(profiles_dir)
