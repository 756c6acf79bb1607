"""Runs last (file order): every path and method of openapi/openapi.yaml got a
response that was validated against it, and the shared server's stderr is JSON."""
import json

import pytest

from conftest import COVERAGE, SPEC

MODULES = {"test_admin", "test_cli", "test_errors", "test_events", "test_http_semantics", "test_observability",
           "test_openapi", "test_profiles", "test_shutdown", "test_stale"}


def test_every_spec_operation_was_exercised(request):
    ran = {item.module.__name__ for item in request.session.items}
    if not MODULES <= ran:
        pytest.skip("only meaningful when the whole suite runs")
    missing = sorted(set(SPEC.operations()) - COVERAGE)
    assert not missing, "not exercised: " + ", ".join(f"{m.upper()} {p}" for p, m in missing)


def test_shared_server_stderr_is_json_lines(server):
    with server.cond:
        lines = list(server.lines)
    assert lines
    for raw in lines:
        d = json.loads(raw.decode("utf-8"))
        assert {"time", "level", "event"} <= set(d)
